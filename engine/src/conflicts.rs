//! The conflict log: what this node decided about a peer's change that could
//! not be applied exactly as sent, so nothing acknowledged changes or
//! disappears silently. A pipe never stops on data: the pair's rules resolve
//! what they can the same way on both nodes (a series written with two types
//! takes the join of them; overlapping databases become the shorter one) and
//! record it here; a change the rules cannot apply (a path or time this node
//! refuses) is skipped, recorded here with its content, and the pipe goes on.
//! `SHOW CONFLICTS` lists the records; `/metrics` counts them.
//!
//! Stored in `meta` under `conflict/<id, 20 digits>`, written in the same
//! WriteBatch as the decision it records.

use crate::codec::{put_str, truncate, Reader};
use crate::error::Result;
use crate::hlc::NodeId;
use crate::keys::*;
use rocksdb::{WriteBatch, DB};
use std::sync::atomic::{AtomicU64, Ordering};

const PREFIX: &str = "conflict/";
/// Longest detail kept per record (the rejected values, as text).
const MAX_DETAIL: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Wall-clock ms when it was decided.
    pub at_ms: i64,
    /// `type` (a series widened), `database` (overlapping databases made
    /// one), `rejected` (a change skipped), `too-large` (a point this node
    /// did not send: larger than its peer accepts in one request).
    pub kind: String,
    pub origin: NodeId,
    /// The pipe stream the change came through.
    pub stream: String,
    pub path: String,
    pub reason: String,
    /// What was rejected (points as `time=value`), truncated.
    pub detail: String,
}

impl Conflict {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![1u8];
        out.extend_from_slice(&self.at_ms.to_le_bytes());
        put_str(&mut out, &self.kind);
        out.extend_from_slice(&self.origin.to_le_bytes());
        put_str(&mut out, &self.stream);
        put_str(&mut out, &self.path);
        put_str(&mut out, &self.reason);
        put_str(&mut out, &self.detail);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Conflict> {
        let mut r = Reader::new(bytes, "conflict record");
        if r.u8()? != 1 {
            return Err(r.corrupt("unknown conflict record format"));
        }
        let c = Conflict {
            at_ms: r.u64()? as i64,
            kind: r.string()?,
            origin: r.u32()?,
            stream: r.string()?,
            path: r.string()?,
            reason: r.string()?,
            detail: r.string()?,
        };
        if !r.is_empty() {
            return Err(r.corrupt("trailing bytes"));
        }
        Ok(c)
    }
}

/// Adds `c` to `batch` under the next id from `next` (it is recorded when
/// the batch commits).
pub(crate) fn put(
    db: &DB,
    next: &AtomicU64,
    batch: &mut WriteBatch,
    mut c: Conflict,
) -> Result<()> {
    c.detail = truncate(&c.detail, MAX_DETAIL);
    let id = next.fetch_add(1, Ordering::AcqRel);
    batch.put_cf(
        crate::store::cf(db, CF_META)?,
        meta_key(PREFIX, &format!("{id:020}")),
        c.encode(),
    );
    tracing::warn!(
        "conflict ({}) on {} from node {}: {}",
        c.kind,
        c.path,
        c.origin,
        c.reason
    );
    Ok(())
}

/// The conflict records of `meta` (key, value), oldest first, decoded.
pub(crate) fn decode_all(records: &[(String, Vec<u8>)]) -> Result<Vec<Conflict>> {
    records.iter().map(|(_, v)| Conflict::decode(v)).collect()
}

/// The `meta` key that marks a conflict recorded under `key` (see
/// `Engine::add_conflict_once`); outside the records' prefix.
pub(crate) fn seen_key(key: &str) -> Vec<u8> {
    meta_key("conflict-seen/", key)
}

/// The prefix of conflict records in `meta`.
pub(crate) const RECORDS: &str = PREFIX;

/// The id the next conflict gets: one past the newest stored.
pub(crate) fn first_free_id(db: &DB) -> Result<u64> {
    use crate::error::StorageContext;
    let meta = crate::store::cf(db, CF_META)?;
    // The key just past every `conflict/...` key: `conflict0`.
    let end = format!("{}0", &PREFIX[..PREFIX.len() - 1]);
    let mode = rocksdb::IteratorMode::From(end.as_bytes(), rocksdb::Direction::Reverse);
    let newest = match db.iterator_cf(meta, mode).next() {
        Some(item) => {
            let (k, _) = item.ctx(|| "reading the conflict log".into())?;
            k.strip_prefix(PREFIX.as_bytes())
                .and_then(|id| std::str::from_utf8(id).ok())
                .and_then(|id| id.parse::<u64>().ok())
                .unwrap_or(0)
        }
        None => 0,
    };
    Ok(newest + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_details_are_cut() {
        let c = Conflict {
            at_ms: 17,
            kind: "rejected".into(),
            origin: 9,
            stream: "AB#1".into(),
            path: "root.sg.d.s".into(),
            reason: "time out of range".into(),
            detail: "1=2".into(),
        };
        assert_eq!(Conflict::decode(&c.encode()).unwrap(), c);
        let b = c.encode();
        for cut in 0..b.len() {
            assert!(Conflict::decode(&b[..cut]).is_err());
        }
        let long = "é".repeat(3000);
        let t = truncate(&long, 4096);
        assert!(t.len() < 4200 && t.ends_with("(6000 bytes)"), "{}", t.len());
    }
}

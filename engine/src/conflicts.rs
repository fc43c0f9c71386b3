//! The conflict log: what this node decided about a peer's change that could
//! not be applied exactly as sent, so nothing acknowledged changes or
//! disappears silently. A pipe never stops on data: the pair's rules resolve
//! what they can the same way on both nodes (a series written with two types
//! takes the join of them; overlapping databases become the shorter one) and
//! record it here; a change the rules cannot apply (a path or time this node
//! refuses) is skipped, recorded here with its content, and the pipe goes on.
//! `SHOW CONFLICTS` lists the records; `/metrics` counts them; `REPLAY
//! CONFLICT id` sends again what a record says this node left out.
//!
//! Stored in `meta` under `conflict/<id, 20 digits>`, written in the same
//! WriteBatch as the decision it records.

use crate::codec::{put_str, truncate, Reader};
use crate::error::{Result, StorageContext};
use crate::hlc::NodeId;
use crate::keys::*;
use rocksdb::{WriteBatch, DB};
use std::sync::atomic::{AtomicU64, Ordering};

const PREFIX: &str = "conflict/";
/// Longest detail kept per record (the rejected values, as text).
const MAX_DETAIL: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Its number in the log (0 until recorded).
    pub id: u64,
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
    /// The times it concerns (first, last), when it concerns points.
    pub range: Option<(i64, i64)>,
}

impl Conflict {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![2u8];
        out.extend_from_slice(&self.at_ms.to_le_bytes());
        put_str(&mut out, &self.kind);
        out.extend_from_slice(&self.origin.to_le_bytes());
        put_str(&mut out, &self.stream);
        put_str(&mut out, &self.path);
        put_str(&mut out, &self.reason);
        put_str(&mut out, &self.detail);
        if let Some((first, last)) = self.range {
            out.extend_from_slice(&first.to_le_bytes());
            out.extend_from_slice(&last.to_le_bytes());
        }
        out
    }

    fn decode(id: u64, bytes: &[u8]) -> Result<Conflict> {
        let mut r = Reader::new(bytes, "conflict record");
        // 1: records written before they kept a time range.
        let format = r.u8()?;
        if !matches!(format, 1 | 2) {
            return Err(r.corrupt("unknown conflict record format"));
        }
        let mut c = Conflict {
            id,
            at_ms: r.u64()? as i64,
            kind: r.string()?,
            origin: r.u32()?,
            stream: r.string()?,
            path: r.string()?,
            reason: r.string()?,
            detail: r.string()?,
            range: None,
        };
        if format == 2 && !r.is_empty() {
            c.range = Some((r.u64()? as i64, r.u64()? as i64));
        }
        if !r.is_empty() {
            return Err(r.corrupt("trailing bytes"));
        }
        Ok(c)
    }
}

fn record_key(id: u64) -> Vec<u8> {
    meta_key(PREFIX, &format!("{id:020}"))
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
    batch.put_cf(crate::store::cf(db, CF_META)?, record_key(id), c.encode());
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
    records
        .iter()
        .map(|(k, v)| {
            let id = k
                .parse()
                .map_err(|_| crate::error::Error::corrupt("conflict record", "key is not an id"))?;
            Conflict::decode(id, v)
        })
        .collect()
}

/// Record `id`, if there is one.
pub(crate) fn get(db: &DB, id: u64) -> Result<Option<Conflict>> {
    let meta = crate::store::cf(db, CF_META)?;
    let value = db
        .get_pinned_cf(meta, record_key(id))
        .ctx(|| "reading the conflict log".into())?;
    value.map(|v| Conflict::decode(id, &v)).transpose()
}

const SEEN: &str = "conflict-seen/";

/// The `meta` key that marks a conflict recorded under `key` (see
/// `Engine::add_conflict_once`); outside the records' prefix.
pub(crate) fn seen_key(key: &str) -> Vec<u8> {
    meta_key(SEEN, key)
}

/// The key (see `Engine::add_conflict_once`) of a point at `time` of
/// `path`, written at `version`, that the pipe `stream` left out as too
/// large for its peer: the same point is recorded once however often it
/// is read (a restart, a history transfer), until `REPLAY CONFLICT`.
pub fn too_large_key(stream: &str, path: &str, time: i64, version: crate::Version) -> String {
    format!(
        "{}{time}|{}.{}",
        too_large_prefix(stream, path),
        version.hlc,
        version.node
    )
}

fn too_large_prefix(stream: &str, path: &str) -> String {
    format!("too-large|{}:{stream}|{}:{path}|", stream.len(), path.len())
}

/// Forgets the too-large points of `stream` and `path` in `[first, last]`
/// (a replay sends them again: if they are still too large, that is new).
pub(crate) fn forget_too_large(
    db: &DB,
    stream: &str,
    path: &str,
    first: i64,
    last: i64,
) -> Result<()> {
    let prefix = format!("{SEEN}{}", too_large_prefix(stream, path));
    let meta = crate::store::cf(db, CF_META)?;
    let mut batch = WriteBatch::default();
    let mode = rocksdb::IteratorMode::From(prefix.as_bytes(), rocksdb::Direction::Forward);
    for item in db.iterator_cf(meta, mode) {
        let (k, _) = item.ctx(|| "reading the conflict log".into())?;
        let Some(rest) = k.strip_prefix(prefix.as_bytes()) else {
            break;
        };
        let time = std::str::from_utf8(rest)
            .ok()
            .and_then(|r| r.split('|').next())
            .and_then(|t| t.parse::<i64>().ok());
        if time.is_some_and(|t| (first..=last).contains(&t)) {
            batch.delete_cf(meta, &k);
        }
    }
    db.write(batch).ctx(|| "updating the conflict log".into())
}

/// The prefix of conflict records in `meta`.
pub(crate) const RECORDS: &str = PREFIX;

/// The id the next conflict gets: one past the newest stored.
pub(crate) fn first_free_id(db: &DB) -> Result<u64> {
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
            id: 4,
            at_ms: 17,
            kind: "rejected".into(),
            origin: 9,
            stream: "AB#1".into(),
            path: "root.sg.d.s".into(),
            reason: "time out of range".into(),
            detail: "1=2".into(),
            range: Some((-3, 9)),
        };
        assert_eq!(Conflict::decode(4, &c.encode()).unwrap(), c);
        let b = c.encode();
        for cut in 0..b.len() {
            // Cut right after the detail it is a record without a range.
            if cut != b.len() - 16 {
                assert!(Conflict::decode(4, &b[..cut]).is_err(), "{cut}");
            }
        }
        let no_range = Conflict { range: None, ..c };
        assert_eq!(Conflict::decode(4, &no_range.encode()).unwrap(), no_range);
        let long = "é".repeat(3000);
        let t = truncate(&long, 4096);
        assert!(t.len() < 4200 && t.ends_with("(6000 bytes)"), "{}", t.len());
    }
}

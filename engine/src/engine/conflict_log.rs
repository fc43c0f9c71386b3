//! The engine's face of the conflict log (see `crate::conflicts`).

use super::Engine;
use crate::conflicts::{self, Conflict};
use crate::error::{Error, Result, StorageContext};
use rocksdb::WriteBatch;
use std::sync::atomic::Ordering;

impl Engine {
    /// Adds `c` to `batch` (it is recorded when the batch commits).
    pub(crate) fn record_conflict(&self, batch: &mut WriteBatch, c: Conflict) -> Result<()> {
        conflicts::put(&self.db, &self.next_conflict, batch, c)
    }

    /// Records `c` now, on its own (a pipe's sender skipping what its
    /// peer cannot take).
    pub fn add_conflict(&self, c: Conflict) -> Result<()> {
        let mut batch = WriteBatch::default();
        self.record_conflict(&mut batch, c)?;
        self.db.write(batch).ctx(|| "recording a conflict".into())
    }

    /// Records `c` unless a conflict with the same `key` was recorded
    /// before (a sender that reads the same skipped point again); returns
    /// whether it was recorded.
    pub fn add_conflict_once(&self, c: Conflict, key: &str) -> Result<bool> {
        let seen = conflicts::seen_key(key);
        let meta = crate::store::cf(&self.db, crate::keys::CF_META)?;
        let _one_at_a_time = self.conflict_once.lock();
        let known = self
            .db
            .get_pinned_cf(meta, &seen)
            .ctx(|| "reading the conflict log".into())?;
        if known.is_some() {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        self.record_conflict(&mut batch, c)?;
        batch.put_cf(meta, &seen, []);
        self.db.write(batch).ctx(|| "recording a conflict".into())?;
        Ok(true)
    }

    /// Every recorded conflict, oldest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        conflicts::decode_all(&self.meta_scan(conflicts::RECORDS)?)
    }

    /// `REPLAY CONFLICT id`: logs again, as a new change of this node,
    /// the points a `too-large` record left out (each with the version it
    /// was written with, so the peer orders them as it would have; what was
    /// deleted or overwritten since stays so). The pipes send them at once:
    /// after the peer's `rpc.max_frame_bytes` was raised they arrive, else
    /// they are left out and recorded again. Returns how many points.
    pub fn replay_conflict(&self, id: u64) -> Result<usize> {
        let c = conflicts::get(&self.db, id)?
            .ok_or_else(|| Error::NotFound(format!("conflict {id} does not exist")))?;
        let (Some((first, last)), "too-large") = (c.range, c.kind.as_str()) else {
            return Err(Error::invalid(format!(
                "conflict {id} ({}) has nothing this node can send again: {}",
                c.kind,
                match c.kind.as_str() {
                    "rejected" =>
                        "the peer's change is in its Detail; correct the cause and write it again",
                    "type" | "database" => "the pair's rule resolved it the same way on both nodes",
                    _ => "no time range is recorded",
                }
            )));
        };
        conflicts::forget_too_large(&self.db, &c.stream, &c.path, first, last)?;
        let n = self.relog(&c.path, first, last)?;
        if n == 0 {
            return Err(Error::NotFound(format!(
                "conflict {id}: {} holds no point in [{first}, {last}] any more (deleted or dropped since): nothing to send",
                c.path
            )));
        }
        tracing::info!(
            "conflict {id}: {n} points of {} logged again for the pipes",
            c.path
        );
        Ok(n)
    }

    /// How many conflicts were recorded (for `/metrics`).
    pub fn conflict_count(&self) -> u64 {
        self.next_conflict.load(Ordering::Acquire).saturating_sub(1)
    }
}

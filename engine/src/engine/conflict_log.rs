//! The engine's face of the conflict log (see `crate::conflicts`).

use super::Engine;
use crate::conflicts::{self, Conflict};
use crate::error::{Error, Result};
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
        self.db.write(batch).map_err(|source| Error::Storage {
            context: "recording a conflict".into(),
            source,
        })
    }

    /// Every recorded conflict, oldest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        conflicts::decode_all(&self.meta_scan(conflicts::RECORDS)?)
    }

    /// How many conflicts were recorded (for `/metrics`).
    pub fn conflict_count(&self) -> u64 {
        self.next_conflict.load(Ordering::Acquire).saturating_sub(1)
    }
}

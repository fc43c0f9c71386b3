//! The change log side of the engine: where the log starts and ends on
//! disk at open, and the [`ChangeLog`] implementation pipes read through.

use super::Engine;
use crate::changelog::{ChangeLog, LogEntry};
use crate::error::{Error, Result, StorageContext};
use crate::keys::*;
use rocksdb::{IteratorMode, WriteBatch, DB};
use std::sync::atomic::Ordering;
use tokio::sync::watch;

/// (first retained, last) sequence of the log.
pub(super) fn log_bounds(db: &DB) -> Result<(u64, u64)> {
    let log = db
        .cf_handle(CF_LOG)
        .ok_or_else(|| Error::corrupt("database", "log column family missing"))?;
    let meta = db
        .cf_handle(CF_META)
        .ok_or_else(|| Error::corrupt("database", "meta column family missing"))?;
    let floor = match db
        .get_cf(meta, META_LOG_FLOOR)
        .ctx(|| "reading log floor".into())?
    {
        Some(b) => {
            let a: [u8; 8] = b
                .as_slice()
                .try_into()
                .map_err(|_| Error::corrupt("log floor", "not 8 bytes"))?;
            u64::from_le_bytes(a)
        }
        None => 1,
    };
    let last = match db.iterator_cf(log, IteratorMode::End).next() {
        Some(item) => decode_log_key(&item.ctx(|| "reading the log's end".into())?.0)?,
        None => 0,
    };
    let last = last.max(floor - 1);
    let first = match db.iterator_cf(log, IteratorMode::Start).next() {
        Some(item) => decode_log_key(&item.ctx(|| "reading the log's start".into())?.0)?.max(floor),
        None => last + 1,
    };
    Ok((first, last))
}

impl ChangeLog for Engine {
    fn last_seq(&self) -> u64 {
        *self.last_seq.borrow()
    }

    fn first_seq(&self) -> u64 {
        self.first_seq.load(Ordering::Acquire)
    }

    fn read(&self, from: u64, max_events: usize, max_bytes: usize) -> Result<Vec<LogEntry>> {
        let first = self.first_seq();
        if from < first {
            return Err(Error::Trimmed {
                requested: from,
                first,
            });
        }
        // Only what was published: an entry being written right now is not
        // read before its batch is committed and announced.
        let last = self.last_seq();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let iter = self.db.iterator_cf(
            self.cf(CF_LOG)?,
            IteratorMode::From(&log_key(from), rocksdb::Direction::Forward),
        );
        for item in iter {
            let (k, v) = item.ctx(|| format!("reading the change log from {from}"))?;
            let seq = decode_log_key(&k)?;
            if seq > last
                || out.len() >= max_events
                || (!out.is_empty() && bytes + v.len() > max_bytes)
            {
                break;
            }
            bytes += v.len();
            out.push(LogEntry {
                seq,
                bytes: v.to_vec(),
            });
        }
        // A trim between the floor check and the iterator would make the
        // read start later than `from`: the log has no gaps, so a first
        // entry other than `from` (or a floor now above it) means trimmed.
        let first = self.first_seq();
        if out.first().is_some_and(|e| e.seq != from) || (out.is_empty() && from < first) {
            return Err(Error::Trimmed {
                requested: from,
                first,
            });
        }
        Ok(out)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.last_seq.subscribe()
    }

    fn trim_below(&self, below: u64) -> Result<u64> {
        let _w = self.writer.lock();
        let first = self.first_seq();
        let below = below.min(self.last_seq() + 1);
        if below <= first {
            return Ok(0);
        }
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(self.cf(CF_LOG)?, log_key(first), log_key(below));
        batch.put_cf(self.cf(CF_META)?, META_LOG_FLOOR, below.to_le_bytes());
        self.write_batch(batch, || format!("trimming the change log below {below}"))?;
        self.first_seq.store(below, Ordering::Release);
        Ok(below - first)
    }
}

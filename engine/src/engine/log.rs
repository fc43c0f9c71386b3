//! The change log side of the engine: where the log starts and ends on
//! disk at open, and the [`ChangeLog`] implementation pipes read through.

use super::Engine;
use crate::changelog::{ChangeLog, LogEntry};
use crate::error::{Error, Result, StorageContext};
use crate::keys::*;
use rocksdb::{IteratorMode, WriteBatch, DB};
use std::collections::BTreeMap;
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

/// A checkpoint of the byte index about every this many bytes of log.
const LOG_INDEX_EVERY: u64 = 1 << 20;

/// How many bytes the log holds, without reading it: the bytes ever
/// appended, and a sparse persisted index (sequence -> bytes appended
/// before it, one entry about every MiB), so the log's size is known to
/// within a MiB and a byte cap can be turned into a sequence to trim below.
/// Logs written before the index existed count from their first indexed
/// sequence.
#[derive(Debug, Default, Clone)]
pub(crate) struct LogBytes {
    cum: u64,
    index: BTreeMap<u64, u64>,
}

/// Appends of one batch, applied to [`LogBytes`] once the batch is written.
pub(crate) struct Appended {
    cum: u64,
    last_checkpoint: Option<u64>,
    new: Vec<(u64, u64)>,
}

impl LogBytes {
    pub(super) fn load(db: &DB) -> Result<LogBytes> {
        let meta = db
            .cf_handle(CF_META)
            .ok_or_else(|| Error::corrupt("database", "meta column family missing"))?;
        let word = |b: &[u8], what: &'static str| {
            b.try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| Error::corrupt(what, "not 8 bytes"))
        };
        let cum = match db
            .get_cf(meta, META_LOG_CUM)
            .ctx(|| "reading log bytes".into())?
        {
            Some(b) => word(&b, "log bytes")?,
            None => 0,
        };
        let mut index = BTreeMap::new();
        for (name, v) in super::meta_scan(db, PREFIX_LOGIDX)? {
            let seq = u64::from_str_radix(&name, 16)
                .map_err(|_| Error::corrupt("log index key", name.clone()))?;
            index.insert(seq, word(&v, "log index entry")?);
        }
        Ok(LogBytes { cum, index })
    }

    pub(super) fn begin(&self) -> Appended {
        Appended {
            cum: self.cum,
            last_checkpoint: self.index.last_key_value().map(|(_, c)| *c),
            new: Vec::new(),
        }
    }

    pub(super) fn commit(&mut self, a: Appended) {
        self.cum = a.cum;
        self.index.extend(a.new);
    }

    /// Bytes held from `first` on (within about a MiB).
    fn held(&self, first: u64) -> u64 {
        let base = self
            .index
            .range(..=first)
            .next_back()
            .or_else(|| self.index.range(first..).next())
            .map_or(self.cum, |(_, c)| *c);
        self.cum.saturating_sub(base)
    }

    /// The lowest indexed sequence from which the log holds at most
    /// `max_bytes`; `None` if none does (one newest stretch is larger).
    fn floor_for(&self, max_bytes: u64) -> Option<u64> {
        self.index
            .iter()
            .find(|(_, c)| self.cum.saturating_sub(**c) <= max_bytes)
            .map(|(s, _)| *s)
    }
}

impl Appended {
    pub(super) fn append(
        &mut self,
        engine: &Engine,
        batch: &mut WriteBatch,
        seq: u64,
        len: usize,
    ) -> Result<()> {
        if self
            .last_checkpoint
            .is_none_or(|c| self.cum - c >= LOG_INDEX_EVERY)
        {
            batch.put_cf(
                engine.cf(CF_META)?,
                meta_key(PREFIX_LOGIDX, &format!("{seq:016x}")),
                self.cum.to_le_bytes(),
            );
            self.new.push((seq, self.cum));
            self.last_checkpoint = Some(self.cum);
        }
        self.cum += len as u64;
        Ok(())
    }

    /// Puts the new total once, when the batch's events are all appended.
    pub(super) fn finish(&self, engine: &Engine, batch: &mut WriteBatch) -> Result<()> {
        batch.put_cf(engine.cf(CF_META)?, META_LOG_CUM, self.cum.to_le_bytes());
        Ok(())
    }
}

impl Engine {
    /// Bytes the change log holds (within about a MiB).
    pub fn log_bytes(&self) -> u64 {
        let w = self.writer.lock();
        w.log_bytes.held(self.first_seq())
    }

    /// The sequence to trim below so the log holds at most `max_bytes`
    /// (never above what the newest events need: at worst the newest index
    /// checkpoint).
    pub fn log_floor_for_bytes(&self, max_bytes: u64) -> u64 {
        let w = self.writer.lock();
        if w.log_bytes.held(self.first_seq()) <= max_bytes {
            return 0;
        }
        w.log_bytes
            .floor_for(max_bytes)
            .or_else(|| w.log_bytes.index.last_key_value().map(|(s, _)| *s))
            .unwrap_or(0)
    }

    /// Free bytes on the filesystem that holds the data directory, if the
    /// system says.
    pub fn free_disk_bytes(&self) -> Option<u64> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(self.db.path().as_os_str().as_bytes()).ok()?;
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `path` is a valid C string and `st` a valid out-pointer.
        let rc = unsafe { libc::statvfs(path.as_ptr(), &mut st) };
        (rc == 0).then(|| (st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
    }
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
        // A pipe's scan reads each block once: it does not push the data
        // blocks queries and merges use out of the shared cache.
        let mut once = rocksdb::ReadOptions::default();
        once.fill_cache(false);
        let iter = self.db.iterator_cf_opt(
            self.cf(CF_LOG)?,
            once,
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
        let mut w = self.writer.lock();
        let first = self.first_seq();
        let below = below.min(self.last_seq() + 1);
        if below <= first {
            return Ok(0);
        }
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(self.cf(CF_LOG)?, log_key(first), log_key(below));
        batch.put_cf(self.cf(CF_META)?, META_LOG_FLOOR, below.to_le_bytes());
        // Index checkpoints below the new start go, except the newest of them
        // (it measures the events from `below` on).
        let keep = w
            .log_bytes
            .index
            .range(..=below)
            .next_back()
            .map(|(s, _)| *s);
        let gone: Vec<u64> = w
            .log_bytes
            .index
            .range(..below)
            .map(|(s, _)| *s)
            .filter(|s| Some(*s) != keep)
            .collect();
        for s in &gone {
            batch.delete_cf(
                self.cf(CF_META)?,
                meta_key(PREFIX_LOGIDX, &format!("{s:016x}")),
            );
        }
        self.write_batch(batch, || format!("trimming the change log below {below}"))?;
        for s in gone {
            w.log_bytes.index.remove(&s);
        }
        self.first_seq.store(below, Ordering::Release);
        Ok(below - first)
    }
}

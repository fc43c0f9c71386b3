//! A pipe's processor: IoTDB's down-sampling processors applied to the
//! insert events a pipe sends, after its source filter and before its
//! events become a batch.
//!
//! The rules are pure functions over one series' points ([`sampling`]);
//! this module keeps each series' state across batches (IoTDB keeps it per
//! series in the processor instance) and applies the rules to events:
//!
//! * Inserts: each series' points are sampled in log order; the points
//!   kept go on with their versions. An event left with no points is not
//!   sent.
//! * Deletes and schema changes pass unchanged and change no state (IoTDB
//!   forwards them as they are). A tombstone inside a chunk (history
//!   snapshots carry them) stays on the chunk, whichever points are kept.
//! * Types: tumbling looks at time only; SDT and changing-value treat
//!   INT32, INT64, FLOAT, DOUBLE and TIMESTAMP as numbers, and BOOLEAN,
//!   TEXT, STRING, BLOB and DATE as values kept when they differ from the
//!   anchor's (IoTDB's rule).
//! * Row granularity: IoTDB's tumbling processor keeps a whole row when
//!   one of its columns is due; Duet's events are per series, so each
//!   series is sampled on its own. Single-column devices are identical;
//!   with several columns written together, Duet may send fewer cells.
//! * History transfers are sent whole unless
//!   `processor.down-sampling.split-file` is true (IoTDB sends its TsFiles
//!   whole by default); a transfer starts every series afresh.
//! * State lives in memory: after a restart, or STOP and START, every
//!   series starts afresh and its next point is kept (as when IoTDB
//!   recreates a processor). Points re-read after a restart may be sent
//!   twice; the receiver applies them once.
//!
//! State changes only when the batch that made them is acknowledged
//! ([`Pending`], [`Processor::commit`]): a batch that is read and sampled
//! again after a failed send is sampled exactly as before, so a point the
//! rules keep is never dropped because it was tried once already.

pub mod sampling;

pub use sampling::{down_sample, Bounds, Sampler, SeriesState};

use crate::config::ProcessorConfig;
use duet_engine::event::{ChangeEvent, EventBody};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// The series' states a pipe remembers, and what they cost.
#[derive(Debug, Default)]
struct States {
    series: HashMap<String, SeriesState>,
    bytes: u64,
}

/// One pipe's processor. Clones share the state (a history batch is
/// sampled on a blocking thread).
#[derive(Debug, Clone)]
pub struct Processor {
    cfg: ProcessorConfig,
    states: Arc<Mutex<States>>,
}

/// State changes of a batch not yet acknowledged: a series' state after the
/// batch (`None`: still unseen).
#[derive(Debug, Default)]
pub struct Pending(HashMap<String, Option<SeriesState>>);

impl Processor {
    pub fn new(cfg: ProcessorConfig) -> Processor {
        Processor {
            cfg,
            states: Arc::default(),
        }
    }

    /// Whether realtime inserts must be decoded and sampled.
    pub fn samples(&self) -> bool {
        self.cfg.is_lossy()
    }

    /// Whether history transfers are sampled too.
    pub fn samples_history(&self) -> bool {
        self.cfg.is_lossy() && self.cfg.split_file
    }

    /// What of `e` the pipe sends, given the states as they are after the
    /// events before it in this batch (`pending`, updated); `None` if no
    /// point is left.
    pub fn apply(&self, pending: &mut Pending, mut e: ChangeEvent) -> Option<ChangeEvent> {
        let EventBody::Insert(writes) = &mut e.body else {
            return Some(e);
        };
        let states = self.states.lock();
        for w in writes.iter_mut() {
            let state = pending
                .0
                .entry(w.path.clone())
                .or_insert_with(|| states.series.get(&w.path).cloned());
            let keep = down_sample(&self.cfg.sampler, state, &w.chunk.times, &w.chunk.values);
            if keep.len() < w.chunk.len() {
                let tombstones = std::mem::take(&mut w.chunk.tombstones);
                w.chunk = w.chunk.select(&keep);
                w.chunk.tombstones = tombstones;
            }
        }
        writes.retain(|w| !w.chunk.is_empty() || !w.chunk.tombstones.is_empty());
        (!writes.is_empty()).then_some(e)
    }

    /// The batch `pending` came from was acknowledged (or had nothing to
    /// send): its states become the pipe's.
    pub fn commit(&self, pending: Pending) {
        let mut states = self.states.lock();
        for (path, state) in pending.0 {
            let Some(state) = state else { continue };
            let cost = path.len() as u64 + state.cost();
            if states.series.insert(path, state).is_none() {
                states.bytes += cost;
            }
        }
        if states.bytes > self.cfg.memory_limit_bytes {
            // Forgetting keeps more points, never fewer.
            tracing::debug!(
                "processor state of {} series passed {} bytes: starting afresh",
                states.series.len(),
                self.cfg.memory_limit_bytes
            );
            *states = States::default();
        }
    }

    /// Forgets every series (a history transfer starts over).
    pub fn reset(&self) {
        *self.states.lock() = States::default();
    }
}

#[cfg(test)]
mod tests;

//! One running pipe: a handle plus a loop (STYLE habits 4-6). The loop
//! reads the change log from the acknowledged position, keeps what the
//! source wants (pure functions in `filter`), sends it through the sink and
//! moves the position only on the receiver's acknowledgement. It sleeps on
//! the log's commit notification, never on a polling timer; a peer that
//! cannot be reached gets the same batch again after a capped, jittered
//! backoff; a refusal stops the pipe with its message.

use crate::config::{ProcessorConfig, SinkConfig, SourceConfig};
use crate::error::SendError;
use crate::filter;
use crate::marks::{self, MarkCheck};
use crate::processor::{Pending, Processor};
use crate::record::PipeRecord;
use crate::sink::{LocalIdentity, Sink};
use crate::split;
use crate::wire::{encode_batch, raw_batch_len};
use duet_engine::event::{ChangeEvent, EventHeader, EventKind};
use duet_engine::snapshot::SnapshotFilter;
use duet_engine::{ChangeLog, Engine, Mark, Version};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Live figures of one pipe (SHOW PIPES, /metrics).
#[derive(Debug, Default)]
pub struct PipeStats {
    pub events_sent: AtomicU64,
    /// Batch bytes acknowledged, as sent (after the sink's compressors).
    pub bytes_sent: AtomicU64,
    /// The same batches' bytes before compression.
    pub raw_bytes_sent: AtomicU64,
    pub batches_sent: AtomicU64,
    pub retries: AtomicU64,
    /// Wall-clock ms (from the HLC) of the newest event acknowledged.
    pub last_acked_ms: AtomicU64,
    /// Position acknowledged by the receiver (in memory; saved lazily).
    pub acked_position: AtomicU64,
    pub peer_reachable: AtomicBool,
    /// Since when the peer has not answered (set when that was logged).
    pub peer_down_since: Mutex<Option<std::time::Instant>>,
    pub peer_node_id: AtomicU64,
    pub peer_address: Mutex<Option<String>>,
    /// Series still to send in a history transfer (0 when none runs).
    pub history_remaining: AtomicU64,
    /// Events per second acknowledged, smoothed.
    pub rate_milli: AtomicU64,
    /// The task that owns the pipe now; an older task still finishing a
    /// send after STOP/START writes nothing.
    pub current_task: AtomicU64,
    /// Times a different node answered at the peer's address.
    pub peer_changes: AtomicU64,
    /// The newest own event the receiver acknowledged (see
    /// `PipeRecord::acked_mark`).
    pub acked_mark: Mutex<Mark>,
    /// The peer's clock minus this node's at the last handshake.
    pub peer_clock_offset_ms: Mutex<Option<i64>>,
    /// A history transfer is sending now: the log trimmer keeps the events
    /// from its start (while the peer answers), so a transfer slower than
    /// the log fills completes instead of starting over forever.
    pub history_running: AtomicBool,
    /// History transfers started.
    pub history_transfers: AtomicU64,
    /// Times this pipe's position was trimmed from the log before it sent it.
    pub fell_off_log: AtomicU64,
    /// Bytes of change events this pipe holds in memory: the batch being
    /// sent and the one read ahead (or a history batch).
    pub buffered_bytes: AtomicU64,
}

pub struct TaskHandle {
    pub stop: watch::Sender<bool>,
    pub join: tokio::task::JoinHandle<()>,
}

pub struct PipeTask {
    pub engine: Arc<Engine>,
    pub record: Arc<Mutex<PipeRecord>>,
    pub stats: Arc<PipeStats>,
    pub incarnation: u64,
    /// This task's number (see `PipeStats::current_task`).
    pub task_id: u64,
    pub source: SourceConfig,
    /// Down-samples inserts before they are batched.
    pub processor: ProcessorConfig,
    pub sink: SinkConfig,
    pub request_timeout: Duration,
    /// The node's `[tls]` files (a TLS sink's defaults).
    pub node_tls: Option<crate::tls::NodeTls>,
    /// What one read of the change log may take (see `PipeSettings`).
    pub read_bytes: usize,
    /// Handshakes of this task's sink whose mark was checked.
    pub handshakes_checked: AtomicU64,
    /// Told of every acknowledgement (writes may be waiting for it).
    pub gate: Arc<crate::gate::Gate>,
}

/// Save the position at most this often while streaming (a re-send after a
/// crash is harmless: the receiver skips what it has).
const SAVE_EVERY: Duration = Duration::from_millis(200);
const MAX_EVENTS_PER_BATCH: usize = 10_000;

/// Bytes of change events in `entries`.
fn bytes_of(entries: &[duet_engine::LogEntry]) -> u64 {
    entries.iter().map(|e| e.bytes.len() as u64).sum()
}

/// One read of the change log.
type LogRead = duet_engine::Result<Vec<duet_engine::LogEntry>>;

/// A log read on the blocking pool, as awaited.
type ReadResult = Result<LogRead, tokio::task::JoinError>;
const MAX_BACKOFF_MS: u64 = 2_000;
/// How often an idle pipe checks that its peer is there.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// What SHOW PIPES says of a snapshot pipe that has sent its history.
pub const SNAPSHOT_DONE: &str =
    "snapshot sent: a mode.snapshot pipe ends after its history (START PIPE sends it again)";

enum Exit {
    Stopped,
    Rejected(String),
    /// The record changed under the loop (a history transfer is due): go
    /// round again from the record.
    Resync,
    /// A snapshot pipe sent its history: it ends, reported as such.
    Finished,
}

struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// 100 ms doubling to 2 s, with ±25 % jitter so two sides do not retry
    /// in step. The cap is short: a returning peer is found within ~2 s.
    fn next(&mut self) -> Duration {
        let base = 100u64
            .saturating_mul(1 << self.attempt.min(5))
            .min(MAX_BACKOFF_MS);
        self.attempt += 1;
        let jitter = (duet_engine::hlc::wall_clock_ms().wrapping_mul(2654435761) % 51) as i64 - 25;
        Duration::from_millis((base as i64 + base as i64 * jitter / 100).max(10) as u64)
    }
    fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl PipeTask {
    pub fn spawn(self, rt: &tokio::runtime::Handle) -> TaskHandle {
        let (stop, rx) = watch::channel(false);
        let join = rt.spawn(self.run(rx));
        TaskHandle { stop, join }
    }

    /// Writes the record unless the pipe was dropped or created anew.
    fn save(&self, update: impl FnOnce(&mut PipeRecord)) {
        let mut rec = self.record.lock();
        if rec.incarnation != self.incarnation
            || self.stats.current_task.load(Ordering::Acquire) != self.task_id
        {
            return;
        }
        update(&mut rec);
        if let Err(e) = rec.save(&self.engine) {
            tracing::error!("pipe {}: saving its position failed: {e}", rec.name);
        }
    }

    fn name(&self) -> String {
        self.record.lock().name.clone()
    }

    /// Saves the position and the acknowledged mark.
    fn save_progress(&self, position: u64) {
        self.save_progress_and(position, |_| {});
    }

    /// `save_progress` and `also` in the same record write.
    fn save_progress_and(&self, position: u64, also: impl FnOnce(&mut PipeRecord)) {
        let mark = *self.stats.acked_mark.lock();
        self.save(|r| {
            r.position = r.position.max(position);
            if mark.seq > r.acked_mark.seq {
                r.acked_mark = mark;
            }
            also(r);
        });
    }

    async fn run(self, mut stop: watch::Receiver<bool>) {
        let local = LocalIdentity {
            node_id: self.engine.node_id(),
            cluster_id: self.engine.cluster_id().to_string(),
            stream: self.record.lock().stream(),
            max_clock_skew_ms: self.engine.max_clock_skew_ms(),
            tls: self.node_tls.clone(),
            local_only: self.source.double_living || !self.source.forwarding,
        };
        let mut sink = Some(Sink::new(self.sink.clone(), local, self.request_timeout));
        let exit = self.run_loop(&mut sink, &mut stop).await;
        self.stats.peer_reachable.store(false, Ordering::Relaxed);
        self.gate.notify();
        let position = self.stats.acked_position.load(Ordering::Acquire);
        match exit {
            Exit::Rejected(msg) => {
                // The message may hold what the peer said: escaped and cut
                // before it is logged or kept for SHOW PIPES.
                let msg = duet_engine::codec::printable(&msg, 1000);
                tracing::error!("pipe {} stopped: {msg}", self.name());
                self.save_progress_and(position, |r| {
                    r.running = false;
                    r.exception = msg;
                });
            }
            Exit::Finished => {
                tracing::info!(
                    "pipe {} sent its snapshot and ended (mode.snapshot)",
                    self.name()
                );
                self.save_progress_and(position, |r| {
                    r.running = false;
                    r.exception = SNAPSHOT_DONE.to_string();
                });
            }
            Exit::Stopped | Exit::Resync => self.save_progress(position),
        }
    }

    async fn run_loop(&self, sink: &mut Option<Sink>, stop: &mut watch::Receiver<bool>) -> Exit {
        let mut commits = self.engine.subscribe();
        let mut backoff = Backoff { attempt: 0 };
        let mut last_save = Instant::now();
        let mut position = self.record.lock().position;
        // Per-series state lives as long as this task (fresh after a
        // restart or STOP/START).
        let processor = Processor::new(self.processor);
        // The next batch's read, started while the previous batch is on the
        // wire (and applied by the peer): (its start position, the read).
        let mut prefetch: Option<(u64, tokio::task::JoinHandle<LogRead>)> = None;
        self.stats.acked_position.store(position, Ordering::Release);
        *self.stats.acked_mark.lock() = self.record.lock().acked_mark;
        // Handshake at once: a refusal shows before there is data to send.
        match self.probe(sink).await {
            Ok(()) | Err(Exit::Resync) => {}
            Err(exit) => return exit,
        }
        loop {
            if *stop.borrow() {
                return Exit::Stopped;
            }
            if self.record.lock().history_pending {
                match self.history(sink, stop, &mut backoff, &processor).await {
                    Ok(_) if self.source.snapshot => return Exit::Finished,
                    Ok(start) => position = start,
                    Err(Exit::Resync) => {}
                    Err(exit) => return exit,
                }
                continue;
            }
            let read = match prefetch.take() {
                // Read while the batch before it was sent (the commits it
                // could miss were marked unseen before it started).
                Some((from, pending)) if from == position => pending.await,
                other => {
                    if let Some((_, stale)) = other {
                        stale.abort();
                    }
                    // Seen before reading, so a commit after the read still wakes us.
                    commits.borrow_and_update();
                    self.read_from(position).await
                }
            };
            let entries = match read {
                Ok(Ok(e)) => {
                    self.stats
                        .buffered_bytes
                        .store(bytes_of(&e), Ordering::Relaxed);
                    e
                }
                Ok(Err(duet_engine::Error::Trimmed { requested, first })) => {
                    self.stats.fell_off_log.fetch_add(1, Ordering::Relaxed);
                    if !self.source.history {
                        return Exit::Rejected(trimmed_without_history(requested, first));
                    }
                    let msg = format!(
                        "position {requested} was trimmed from the change log (it starts at {first}): resending history"
                    );
                    tracing::warn!("pipe {}: {msg}", self.name());
                    self.save(|r| {
                        r.history_pending = true;
                        r.exception = msg;
                    });
                    continue;
                }
                Ok(Err(e)) => return Exit::Rejected(format!("reading the change log failed: {e}")),
                Err(e) => return Exit::Rejected(format!("reading the change log failed: {e}")),
            };
            let Some(last) = entries.last().map(|e| e.seq) else {
                if last_save.elapsed() >= SAVE_EVERY {
                    self.save_progress(position);
                    last_save = Instant::now();
                }
                tokio::select! {
                    _ = commits.changed() => {}
                    _ = stop.changed() => {}
                    // Idle: check on the peer now and then (SHOW CLUSTER).
                    _ = tokio::time::sleep(PROBE_EVERY) => {
                        match self.probe(sink).await {
                            Ok(()) | Err(Exit::Resync) => {}
                            Err(exit) => return exit,
                        }
                    }
                }
                continue;
            };
            let delay = self.sink.batch_delay;
            if !delay.is_zero()
                && entries.iter().map(|e| e.bytes.len()).sum::<usize>() < self.sink.batch_bytes
            {
                // Let the batch fill for up to the configured delay.
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => return Exit::Stopped,
                }
            }
            let mut batch: Vec<Vec<u8>> = Vec::new();
            // The processor's state after this batch, kept once it is acknowledged.
            let mut pending = Pending::default();
            let mut newest_ms = 0u64;
            let mut newest_own: Option<Mark> = None;
            for entry in entries {
                let header = match EventHeader::decode(&entry.bytes) {
                    Ok(h) => h,
                    Err(e) => {
                        return Exit::Rejected(format!(
                            "change log entry {} is corrupt: {e}",
                            entry.seq
                        ))
                    }
                };
                if !self.source.realtime
                    || !filter::wanted(&self.source, self.engine.node_id(), &header)
                {
                    continue;
                }
                newest_ms = newest_ms.max(header.version.millis());
                if header.origin == self.engine.node_id() && header.origin_seq > 0 {
                    newest_own = Some(Mark {
                        seq: header.origin_seq,
                        hlc: header.version.hlc,
                    });
                }
                let shaping = filter::needs_shaping(&self.source);
                let sampling = processor.samples() && header.kind == EventKind::Insert;
                if shaping || sampling {
                    match ChangeEvent::decode(&entry.bytes) {
                        Ok(e) => {
                            let e = if shaping {
                                filter::shape(&self.source, e)
                            } else {
                                Some(e)
                            };
                            let e = match e {
                                Some(e) if sampling => processor.apply(&mut pending, e),
                                e => e,
                            };
                            if let Some(e) = e {
                                batch.push(e.encode());
                            }
                        }
                        Err(e) => {
                            return Exit::Rejected(format!(
                                "change log entry {} is corrupt: {e}",
                                entry.seq
                            ))
                        }
                    }
                } else {
                    batch.push(entry.bytes);
                }
            }
            if !batch.is_empty() {
                let engine = self.engine.clone();
                match tokio::task::spawn_blocking(move || engine.ensure_durable(last)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        return Exit::Rejected(format!(
                            "syncing the log before sending failed: {e}"
                        ))
                    }
                    Err(e) => {
                        return Exit::Rejected(format!(
                            "syncing the log before sending failed: {e}"
                        ))
                    }
                }
                // The next read, and the fsync that must precede sending
                // it, run while this batch travels and the peer applies it
                // (a failed fsync is reported by the call above next time).
                commits.borrow_and_update();
                let engine = self.engine.clone();
                let stats = self.stats.clone();
                let read_bytes = self.read_bytes;
                prefetch = Some((
                    last + 1,
                    tokio::task::spawn_blocking(move || {
                        let read = engine.read(last + 1, MAX_EVENTS_PER_BATCH, read_bytes);
                        if let Ok(entries) = &read {
                            stats
                                .buffered_bytes
                                .fetch_add(bytes_of(entries), Ordering::Relaxed);
                        }
                        if let Some(newest) = read.as_ref().ok().and_then(|e| e.last()) {
                            let _ = engine.ensure_durable(newest.seq);
                        }
                        read
                    }),
                ));
                match self.send_all(sink, stop, &mut backoff, batch).await {
                    Ok(()) => {}
                    Err(Exit::Resync) => continue,
                    Err(exit) => return exit,
                }
                if let Some(m) = newest_own {
                    *self.stats.acked_mark.lock() = m;
                }
                if newest_ms > 0 {
                    self.stats.last_acked_ms.store(newest_ms, Ordering::Relaxed);
                }
            }
            processor.commit(pending);
            position = last + 1;
            self.stats.acked_position.store(position, Ordering::Release);
            self.gate.notify();
            if last_save.elapsed() >= SAVE_EVERY {
                self.save_progress(position);
                last_save = Instant::now();
            }
        }
    }

    /// Reads the change log from `from` on (one batch's worth).
    async fn read_from(&self, from: u64) -> ReadResult {
        let (engine, read_bytes) = (self.engine.clone(), self.read_bytes);
        tokio::task::spawn_blocking(move || engine.read(from, MAX_EVENTS_PER_BATCH, read_bytes))
            .await
    }

    /// Remembers the receiving node; if a different node answers at the
    /// same address (a peer rebuilt from scratch, which has none of the
    /// history), the history is sent again.
    fn note_peer(&self, id: u32) {
        self.stats.peer_node_id.store(id as u64, Ordering::Relaxed);
        let known = self.record.lock().peer_node_id;
        if known == id {
            return;
        }
        if known != 0 {
            self.stats.peer_changes.fetch_add(1, Ordering::AcqRel);
            let msg = format!("the peer is now node {id} (was {known}): resending history");
            tracing::warn!("pipe {}: {msg}", self.name());
            self.save(|r| {
                r.peer_node_id = id;
                r.history_pending = true;
                r.exception = msg;
            });
        } else {
            self.save(|r| r.peer_node_id = id);
        }
    }

    /// Runs `f` on the sink on a blocking thread (the sink does network IO)
    /// and records what it learned about the peer.
    async fn with_sink<R: Send + 'static>(
        &self,
        sink: &mut Option<Sink>,
        f: impl FnOnce(&mut Sink) -> R + Send + 'static,
    ) -> Result<R, Exit> {
        let Some(mut s) = sink.take() else {
            return Err(Exit::Rejected("sink lost".into()));
        };
        let (mut s, r) = match tokio::task::spawn_blocking(move || {
            let r = f(&mut s);
            (s, r)
        })
        .await
        {
            Ok(x) => x,
            Err(e) => return Err(Exit::Rejected(format!("sink task failed: {e}"))),
        };
        *self.stats.peer_address.lock() = s.address();
        if s.peer_clock_offset_ms.is_some() {
            *self.stats.peer_clock_offset_ms.lock() = s.peer_clock_offset_ms;
        }
        if let Some(id) = s.peer_node_id {
            self.note_peer(id);
        }
        let checked = if s.handshakes != self.handshakes_checked.load(Ordering::Acquire) {
            self.handshakes_checked
                .store(s.handshakes, Ordering::Release);
            self.check_mark(&mut s)
        } else {
            Ok(())
        };
        *sink = Some(s);
        checked?;
        Ok(r)
    }

    /// After a handshake: does the receiver's mark agree with this log?
    /// If not, a history transfer is due (and a new stream epoch if this
    /// node's log went back); `Exit::Resync` sends the loop round again.
    fn check_mark(&self, s: &mut Sink) -> Result<(), Exit> {
        let Some(receiver) = s.peer_mark else {
            return Ok(());
        };
        let node = self.engine.node_id();
        let acked = *self.stats.acked_mark.lock();
        let engine = &self.engine;
        let version_at = |seq: u64| {
            let entry = engine.read(seq, 1, 0).ok()?.into_iter().next()?;
            let h = EventHeader::decode(&entry.bytes).ok()?;
            (entry.seq == seq).then_some(Version::new(h.version.hlc, h.origin))
        };
        // Either way a history transfer is due; a log that went back also
        // needs a new stream name, so the receiver's marks start afresh.
        let (msg, new_epoch) =
            match marks::check(node, receiver, acked, engine.last_seq(), version_at) {
                MarkCheck::Consistent => return Ok(()),
                MarkCheck::SenderWentBack(msg) => (msg, true),
                MarkCheck::ReceiverWentBack(msg) => (msg, false),
            };
        tracing::warn!("pipe {}: {msg}", self.name());
        *self.stats.acked_mark.lock() = Mark::default();
        self.save(|r| {
            if new_epoch {
                r.epoch += 1;
            }
            r.acked_mark = Mark::default();
            r.history_pending = true;
            r.exception = msg;
        });
        if new_epoch {
            s.set_stream(self.record.lock().stream());
        }
        Err(Exit::Resync)
    }

    /// The peer answered: logged when it had not been answering.
    pub(crate) fn peer_up(&self) {
        self.stats.peer_reachable.store(true, Ordering::Relaxed);
        if let Some(since) = self.stats.peer_down_since.lock().take() {
            let peer = self.stats.peer_address.lock().clone().unwrap_or_default();
            tracing::info!(
                "pipe {}: peer {peer} answers again after {:.1} s",
                self.name(),
                since.elapsed().as_secs_f64()
            );
        }
    }

    /// The peer did not answer; true the first time since it last did
    /// (when that is worth a warning).
    pub(crate) fn peer_down(&self) -> bool {
        self.stats.peer_reachable.store(false, Ordering::Relaxed);
        let mut since = self.stats.peer_down_since.lock();
        let first = since.is_none();
        since.get_or_insert_with(std::time::Instant::now);
        first
    }

    /// Checks the peer while idle; a refusal stops the pipe.
    async fn probe(&self, sink: &mut Option<Sink>) -> Result<(), Exit> {
        let r = self.with_sink(sink, Sink::probe).await?;
        match r {
            Ok(()) => {
                self.peer_up();
                Ok(())
            }
            Err(SendError::Rejected(m)) => Err(Exit::Rejected(m)),
            Err(SendError::Unreachable(m)) => {
                if self.peer_down() {
                    tracing::warn!("pipe {}: peer unreachable: {m}", self.name());
                }
                Ok(())
            }
        }
    }
}

mod history;
mod send;

use history::trimmed_without_history;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        let mut b = Backoff { attempt: 0 };
        let waits: Vec<Duration> = (0..12).map(|_| b.next()).collect();
        assert!(waits[0] <= Duration::from_millis(125) && waits[0] >= Duration::from_millis(75));
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(2_500)));
        assert!(
            waits[11] >= Duration::from_millis(1_500),
            "capped near 2 s: {waits:?}"
        );
        b.reset();
        assert!(b.next() <= Duration::from_millis(125));
    }
}

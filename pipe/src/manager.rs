//! The pipe registry: create, start, stop, drop and list pipes; restore them
//! at start in the state they were in; trim the change log below what every
//! pipe still needs (capped by a configured size); stop them all, saving
//! their positions, at shutdown.

use crate::config::{check_processor, Params, ProcessorConfig, SinkConfig, SinkKind, SourceConfig};
use crate::error::PipeError;
use crate::gate::{CountedPipe, Gate, GateSettings, GateStatus};
use crate::record::{PipeRecord, NAMESPACE};
use crate::task::{PipeStats, PipeTask, TaskHandle};
use dashmap::DashMap;
use duet_engine::{ChangeLog, Engine};
use parking_lot::Mutex;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

struct Entry {
    record: Arc<Mutex<PipeRecord>>,
    stats: Arc<PipeStats>,
    task: Option<TaskHandle>,
    /// Counts for the write mode's budget (see [`counts_for_budget`]).
    counted: bool,
    /// Its peer's address as configured (`host:port`), for messages.
    peer: String,
}

impl Entry {
    fn new(rec: PipeRecord) -> Entry {
        Entry {
            counted: counts_for_budget(&rec.source, &rec.sink),
            peer: first_url(&rec.sink).unwrap_or_default(),
            record: Arc::new(Mutex::new(rec)),
            stats: Arc::default(),
            task: None,
        }
    }
}

/// Whether a pipe's peer counts for `replication.max_pending_bytes` and
/// synchronous mode: `sink.pending-budget`, by default on for
/// double-living pipes to a peer (not for `do-nothing-sink`).
pub fn counts_for_budget(source: &Params, sink: &Params) -> bool {
    let to_peer =
        SinkConfig::from_params(sink).is_ok_and(|s| matches!(s.kind, SinkKind::Thrift { .. }));
    let default = SourceConfig::from_params(source).is_ok_and(|s| s.double_living);
    to_peer
        && sink
            .get("sink.pending-budget")
            .map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

pub struct PipeManager {
    engine: Arc<Engine>,
    rt: tokio::runtime::Handle,
    pipes: DashMap<String, Entry>,
    settings: PipeSettings,
    /// The node's write mode (see [`crate::gate`]).
    gate: Arc<Gate>,
    /// The free-disk guard is on (for logging its transitions once).
    low_disk: std::sync::atomic::AtomicBool,
}

/// Node-wide pipe settings (the server's `[replication]` section).
#[derive(Debug, Clone)]
pub struct PipeSettings {
    /// The change log never holds more than this many events.
    pub log_max_events: u64,
    /// Nor more than about this many bytes, even for a pipe that still
    /// needs them or a history transfer in progress (that pipe resends
    /// history).
    pub log_max_bytes: u64,
    /// Below this much free disk the log is emptied (every pipe that needs
    /// it resends history later) so writes keep their room.
    pub min_free_disk_bytes: u64,
    /// A sink request with no reply by then is retried.
    pub request_timeout: Duration,
    /// What a pipe reads of the change log at a time (it holds that much
    /// and one read ahead): set from the node's memory budget.
    pub read_bytes: usize,
    /// The write mode as configured (`SET REPLICATION` overrides it).
    pub gate: GateSettings,
    /// The node's `[tls]` files: what a TLS sink uses unless it names its own.
    pub tls: Option<crate::tls::NodeTls>,
}

impl Default for PipeSettings {
    fn default() -> Self {
        PipeSettings {
            log_max_events: 10_000_000,
            log_max_bytes: 8 << 30,
            min_free_disk_bytes: 1 << 30,
            request_timeout: Duration::from_secs(30),
            read_bytes: 16 << 20,
            gate: GateSettings::default(),
            tls: None,
        }
    }
}

/// One row of SHOW PIPES.
#[derive(Debug, Clone)]
pub struct PipeInfo {
    pub name: String,
    pub created_ms: i64,
    pub running: bool,
    pub source: Params,
    pub processor: Params,
    pub sink: Params,
    pub exception: String,
    pub remaining_events: u64,
    pub estimated_remaining_secs: f64,
    pub lag_ms: u64,
    pub events_sent: u64,
    pub bytes_sent: u64,
    /// `bytes_sent` before the sink's compressors.
    pub raw_bytes_sent: u64,
    pub retries: u64,
    pub peer_address: Option<String>,
    pub peer_node_id: Option<u32>,
    pub peer_reachable: bool,
    /// The peer's clock minus this node's at the last handshake.
    pub peer_clock_offset_ms: Option<i64>,
    pub history_remaining_series: u64,
    pub history_transfers: u64,
    pub fell_off_log: u64,
    /// Bytes of change events the pipe holds in memory now.
    pub buffered_bytes: u64,
}

/// Whether a pipe with this source sends changes that came from other nodes.
fn forwards(s: &SourceConfig) -> bool {
    s.forwarding && !s.double_living
}

fn incarnation() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(duet_engine::hlc::wall_clock_ms());
    h.finish() | 1
}

impl PipeManager {
    /// Loads every saved pipe and starts the ones that were running.
    pub fn open(
        engine: Arc<Engine>,
        rt: tokio::runtime::Handle,
        settings: PipeSettings,
    ) -> Result<Arc<PipeManager>, PipeError> {
        let gate_settings = crate::gate::load_overrides(&engine, settings.gate)?;
        let m = Arc::new_cyclic(|me| PipeManager {
            engine: engine.clone(),
            rt,
            pipes: DashMap::new(),
            settings,
            gate: Arc::new(Gate::new(gate_settings, me.clone(), engine.last_seq())),
            low_disk: Default::default(),
        });
        for rec in PipeRecord::load_all(&engine)? {
            let name = rec.name.clone();
            let running = rec.running;
            m.pipes.insert(name.clone(), Entry::new(rec));
            if running {
                if let Err(e) = m.spawn(&name) {
                    tracing::error!("pipe {name} could not start: {e}");
                }
            }
        }
        m.log_remote_if_forwarded(None);
        m.seed_gate();
        engine.set_write_gate(m.gate.clone());
        m.rt.spawn(tick_gate(Arc::downgrade(&m.gate)));
        m.rt.spawn(resend_on_restore(
            Arc::downgrade(&m),
            engine.subscribe_went_back(),
        ));
        Ok(m)
    }

    /// A peer was restored from a backup: changes it had sent to this node
    /// may now exist only here — lost on the restored node itself, and
    /// never sent to the other peers. Every pipe resends history (which
    /// carries every point this node holds, whatever its origin): to the
    /// restored node, and to the others.
    fn resend_history(&self, restored: u32) {
        for entry in self.pipes.iter() {
            let mut rec = entry.record.lock();
            if rec.history_pending || !rec.running {
                continue;
            }
            rec.history_pending = true;
            rec.exception = format!(
                "node {restored} was restored from a backup: resending history, which may \
                 hold its changes that only this node received"
            );
            tracing::warn!("pipe {}: {}", rec.name, rec.exception);
            if let Err(e) = rec.save(&self.engine) {
                tracing::error!("pipe {}: saving the history request failed: {e}", rec.name);
            }
        }
    }

    fn spawn(&self, name: &str) -> Result<(), PipeError> {
        let mut entry = self
            .pipes
            .get_mut(name)
            .ok_or_else(|| PipeError::NotFound(name.into()))?;
        // A task still running keeps running; one that is stopping is
        // waited for, so two tasks never send for the same pipe.
        let stopping = match &entry.task {
            Some(t) if !t.join.is_finished() && !*t.stop.borrow() => return Ok(()),
            _ => entry.task.take(),
        };
        if let Some(old) = stopping {
            drop(entry);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !old.join.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            entry = self
                .pipes
                .get_mut(name)
                .ok_or_else(|| PipeError::NotFound(name.into()))?;
            // While we waited, another START may have started a task, or a
            // STOP may have asked for none.
            if entry.task.is_some() || !entry.record.lock().running {
                return Ok(());
            }
        }
        let rec = entry.record.lock().clone();
        let source = SourceConfig::from_params(&rec.source)?;
        let processor = ProcessorConfig::from_params(&rec.processor)?;
        let sink = SinkConfig::from_params(&rec.sink)?;
        let task_id = entry
            .stats
            .current_task
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
        let task = PipeTask {
            engine: self.engine.clone(),
            record: entry.record.clone(),
            stats: entry.stats.clone(),
            incarnation: rec.incarnation,
            task_id,
            source,
            processor,
            sink,
            request_timeout: self.settings.request_timeout,
            node_tls: self.settings.tls.clone(),
            read_bytes: self.settings.read_bytes,
            handshakes_checked: Default::default(),
            gate: self.gate.clone(),
        };
        entry.task = Some(task.spawn(&self.rt));
        Ok(())
    }

    /// `CREATE PIPE`: saved first, then started (RUNNING, as in IoTDB).
    pub fn create(
        &self,
        if_not_exists: bool,
        name: &str,
        source: Params,
        processor: Params,
        sink: Params,
    ) -> Result<(), PipeError> {
        // Check the definition before anything is saved.
        let source_cfg = SourceConfig::from_params(&source)?;
        check_processor(&source_cfg, &processor)?;
        let forwards = forwards(&source_cfg);
        if let Some(tls) = SinkConfig::from_params(&sink)?.tls {
            // The files are read now, so a missing one is named at CREATE.
            tls.resolve(self.settings.tls.as_ref())?.load()?;
        }
        // Peers' changes are logged from here on if this pipe forwards
        // them (before its position is taken).
        self.log_remote_if_forwarded(Some(forwards));
        let rec = PipeRecord {
            name: name.into(),
            source,
            processor,
            sink,
            created_ms: duet_engine::hlc::wall_clock_ms() as i64,
            running: true,
            exception: String::new(),
            position: self.engine.last_seq() + 1,
            incarnation: incarnation(),
            history_pending: true,
            peer_node_id: 0,
            epoch: 0,
            acked_mark: Default::default(),
        };
        // Checked and inserted under the map's lock: two CREATEs of one
        // name cannot both succeed.
        match self.pipes.entry(name.to_string()) {
            dashmap::Entry::Occupied(_) if if_not_exists => return Ok(()),
            dashmap::Entry::Occupied(_) => return Err(PipeError::AlreadyExists(name.into())),
            dashmap::Entry::Vacant(v) => {
                rec.save(&self.engine)?;
                v.insert(Entry::new(rec));
            }
        }
        self.spawn(name)
    }

    /// `ALTER PIPE`, with IoTDB 1.3's semantics: `change` turns the current
    /// (source, processor, sink) into the new definition; the pipe keeps its
    /// position, so nothing already sent is sent again and nothing written
    /// before the ALTER is skipped (what was not yet sent goes with the new
    /// settings). Its task restarts; CreationTime becomes now and the
    /// exception is cleared; a pipe the user stopped stays stopped, any
    /// other becomes RUNNING. A sink that now reaches another node gets the
    /// history again (that node is told apart by its id, as after a
    /// rebuild).
    pub fn alter(
        &self,
        if_exists: bool,
        name: &str,
        change: impl FnOnce(&Params, &Params, &Params) -> Result<(Params, Params, Params), PipeError>,
    ) -> Result<(), PipeError> {
        let Some(mut entry) = self.pipes.get_mut(name) else {
            return if if_exists {
                Ok(())
            } else {
                Err(PipeError::NotFound(name.into()))
            };
        };
        let (source, processor, sink) = {
            let rec = entry.record.lock();
            change(&rec.source, &rec.processor, &rec.sink)?
        };
        // Checked as CREATE checks them, before anything changes.
        let source_cfg = SourceConfig::from_params(&source)?;
        check_processor(&source_cfg, &processor)?;
        let forwards = forwards(&source_cfg);
        if let Some(tls) = SinkConfig::from_params(&sink)?.tls {
            tls.resolve(self.settings.tls.as_ref())?.load()?;
        }
        let (counted, peer) = (counts_for_budget(&source, &sink), first_url(&sink));
        {
            let record = entry.record.clone();
            let mut rec = record.lock();
            let stopped_by_user = !rec.running && rec.exception.is_empty();
            rec.source = source;
            rec.processor = processor;
            rec.sink = sink;
            rec.created_ms = duet_engine::hlc::wall_clock_ms() as i64;
            rec.exception.clear();
            rec.running = !stopped_by_user;
            rec.save(&self.engine)?;
        }
        entry.counted = counted;
        entry.peer = peer.unwrap_or_default();
        // The old task ends (saving its position); spawn waits for it and
        // starts one with the new definition.
        if let Some(t) = &entry.task {
            let _ = t.stop.send(true);
        }
        let running = entry.record.lock().running;
        drop(entry);
        self.log_remote_if_forwarded(Some(forwards));
        self.gate.notify();
        if running {
            self.spawn(name)?;
        }
        Ok(())
    }

    pub fn start(&self, name: &str) -> Result<(), PipeError> {
        {
            let entry = self
                .pipes
                .get(name)
                .ok_or_else(|| PipeError::NotFound(name.into()))?;
            let mut rec = entry.record.lock();
            rec.running = true;
            rec.exception.clear();
            // A snapshot pipe's START sends the snapshot again.
            if SourceConfig::from_params(&rec.source).is_ok_and(|s| s.snapshot) {
                rec.history_pending = true;
            }
            rec.save(&self.engine)?;
        }
        self.spawn(name)
    }

    /// Stops the task; it saves its position as it ends.
    pub fn stop(&self, name: &str) -> Result<(), PipeError> {
        let entry = self
            .pipes
            .get(name)
            .ok_or_else(|| PipeError::NotFound(name.into()))?;
        {
            let mut rec = entry.record.lock();
            rec.running = false;
            rec.save(&self.engine)?;
        }
        // The handle stays: a START right after waits for this task to end.
        if let Some(t) = &entry.task {
            let _ = t.stop.send(true);
        }
        drop(entry);
        self.gate.notify();
        Ok(())
    }

    pub fn drop_pipe(&self, if_exists: bool, name: &str) -> Result<(), PipeError> {
        let Some((_, entry)) = self.pipes.remove(name) else {
            return if if_exists {
                Ok(())
            } else {
                Err(PipeError::NotFound(name.into()))
            };
        };
        {
            // Under the record's lock: a task saving now sees incarnation 0.
            let mut rec = entry.record.lock();
            rec.incarnation = 0;
            self.engine.delete_record(NAMESPACE, name)?;
        }
        if let Some(t) = entry.task {
            let _ = t.stop.send(true);
        }
        self.log_remote_if_forwarded(None);
        self.gate.notify();
        Ok(())
    }

    /// Peers' changes go into this node's change log only while a pipe
    /// (running or stopped) forwards them; `extra`: one more pipe about to
    /// be made. Double-living pipes (the pair's) never read them there.
    fn log_remote_if_forwarded(&self, extra: Option<bool>) {
        let any = extra.unwrap_or(false)
            || self.pipes.iter().any(|e| {
                SourceConfig::from_params(&e.record.lock().source).map_or(true, |s| forwards(&s))
            });
        self.engine.set_log_remote(any);
    }

    /// The pipes that count for the write mode, with their peers' progress.
    pub(crate) fn counted_pipes(&self) -> Vec<CountedPipe> {
        self.pipes
            .iter()
            .filter(|e| e.counted)
            .map(|e| {
                let rec = e.record.lock();
                let running = rec.running && e.task.as_ref().is_some_and(|t| !t.join.is_finished());
                // A history transfer moves the position to where the log
                // was when it started, before the peer has anything: until
                // it has finished, the peer surely holds none of this
                // node's changes.
                let sending_history =
                    rec.history_pending || e.stats.history_running.load(Ordering::Acquire);
                CountedPipe {
                    name: rec.name.clone(),
                    peer: e.peer.clone(),
                    acked: if sending_history {
                        0
                    } else {
                        e.stats
                            .acked_position
                            .load(Ordering::Acquire)
                            .max(rec.position)
                    },
                    answering: running && e.stats.peer_reachable.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// The write mode and how far each counted peer is behind.
    pub fn gate_status(&self) -> GateStatus {
        self.gate.status()
    }

    /// `SET REPLICATION key = value`: applied at once and kept (over the
    /// configuration file) until set back to `DEFAULT` (`value` `None`).
    pub fn set_replication(&self, key: &str, value: Option<&str>) -> Result<(), PipeError> {
        let s = crate::gate::set_override(&self.engine, self.settings.gate, key, value)?;
        self.gate.set_settings(s);
        tracing::info!(
            "replication write mode now {} (max_pending_bytes {:?}, write_timeout_ms {}, degrade_after_ms {:?})",
            s.mode(),
            s.max_pending_bytes,
            s.write_timeout.as_millis(),
            s.degrade_after.map(|d| d.as_millis())
        );
        Ok(())
    }

    /// Tracks the local changes the counted peers had not acknowledged
    /// when the node stopped, so the budget counts them from the start.
    fn seed_gate(&self) {
        let from = self
            .counted_pipes()
            .iter()
            .map(|p| p.acked)
            .min()
            .unwrap_or(u64::MAX);
        let last = self.engine.last_seq();
        if from > last {
            return;
        }
        let me = self.engine.node_id();
        let now = duet_engine::hlc::wall_clock_ms();
        let mut old = Vec::new();
        let mut next = from.max(self.engine.first_seq());
        // Read at most 64 MiB (start-up stays quick after a long outage);
        // past that the rest counts as the average change read so far.
        let (mut read, mut own) = (0u64, 0u64);
        while next <= last && read < 64 << 20 {
            let Ok(entries) = self.engine.read(next, 10_000, self.settings.read_bytes) else {
                break;
            };
            let Some(end) = entries.last().map(|e| e.seq) else {
                break;
            };
            for e in &entries {
                read += e.bytes.len() as u64;
                if let Ok(h) = e.header() {
                    if h.origin == me {
                        own += e.bytes.len() as u64;
                        let age = now.saturating_sub(h.version.millis());
                        old.push((e.seq, e.bytes.len() as u64, Duration::from_millis(age)));
                    }
                }
            }
            next = end + 1;
        }
        if next <= last && !old.is_empty() {
            // Counted as one change at the end, so it stays counted until
            // the peer has all of it.
            let rest = (last + 1 - next) * (own / old.len() as u64);
            old.push((last, rest, Duration::ZERO));
        }
        self.gate.seed(old);
    }

    /// The node's `[tls]` files (a TLS sink's defaults).
    pub fn node_tls(&self) -> Option<&crate::tls::NodeTls> {
        self.settings.tls.as_ref()
    }

    pub fn list(&self) -> Vec<PipeInfo> {
        let last = self.engine.last_seq();
        let now = duet_engine::hlc::wall_clock_ms();
        let mut out: Vec<PipeInfo> = self
            .pipes
            .iter()
            .map(|e| {
                let rec = e.record.lock().clone();
                let s = &e.stats;
                let running = rec.running && e.task.as_ref().is_some_and(|t| !t.join.is_finished());
                let acked = s.acked_position.load(Ordering::Acquire).max(rec.position);
                let remaining =
                    (last + 1).saturating_sub(acked) + s.history_remaining.load(Ordering::Relaxed);
                let rate = s.rate_milli.load(Ordering::Relaxed) as f64 / 1000.0;
                let last_ms = s.last_acked_ms.load(Ordering::Relaxed);
                PipeInfo {
                    name: rec.name.clone(),
                    created_ms: rec.created_ms,
                    running,
                    exception: rec.exception.clone(),
                    remaining_events: remaining,
                    estimated_remaining_secs: if remaining == 0 {
                        0.0
                    } else if rate > 0.0 {
                        remaining as f64 / rate
                    } else {
                        -1.0
                    },
                    lag_ms: if remaining == 0 || last_ms == 0 {
                        0
                    } else {
                        now.saturating_sub(last_ms)
                    },
                    events_sent: s.events_sent.load(Ordering::Relaxed),
                    bytes_sent: s.bytes_sent.load(Ordering::Relaxed),
                    raw_bytes_sent: s.raw_bytes_sent.load(Ordering::Relaxed),
                    retries: s.retries.load(Ordering::Relaxed),
                    peer_address: s
                        .peer_address
                        .lock()
                        .clone()
                        .or_else(|| first_url(&rec.sink)),
                    peer_node_id: match s.peer_node_id.load(Ordering::Relaxed) {
                        0 => None,
                        id => Some(id as u32),
                    },
                    peer_reachable: s.peer_reachable.load(Ordering::Relaxed),
                    peer_clock_offset_ms: *s.peer_clock_offset_ms.lock(),
                    history_transfers: s.history_transfers.load(Ordering::Relaxed),
                    fell_off_log: s.fell_off_log.load(Ordering::Relaxed),
                    history_remaining_series: s.history_remaining.load(Ordering::Relaxed),
                    buffered_bytes: s.buffered_bytes.load(Ordering::Relaxed),
                    source: rec.source,
                    processor: rec.processor,
                    sink: rec.sink,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Trims the log below what every pipe still needs, and to at most
    /// `log_max_events` events (a pipe that falls off resends history),
    /// except that a history transfer in progress to a peer that answers
    /// keeps the events from its start: trimming those would make it start
    /// over, forever under a steady load.
    pub fn trim_log(&self) -> Result<u64, PipeError> {
        let last = self.engine.last_seq();
        let mut needed = last + 1;
        let mut pinned = u64::MAX;
        for e in self.pipes.iter() {
            let position = e.record.lock().position;
            needed = needed.min(position);
            if e.stats.history_running.load(Ordering::Acquire)
                && e.stats.peer_reachable.load(Ordering::Relaxed)
            {
                pinned = pinned.min(position);
            }
        }
        let cap_floor = (last + 1).saturating_sub(self.settings.log_max_events);
        let soft = needed.max(cap_floor).min(pinned);
        // Hard limits: the log's bytes, and the disk's free space.
        let mut hard = self.engine.log_floor_for_bytes(self.settings.log_max_bytes);
        let free = self.engine.free_disk_bytes();
        let low_disk = free.is_some_and(|f| f < self.settings.min_free_disk_bytes);
        if low_disk {
            hard = last + 1;
        }
        if low_disk != self.low_disk.swap(low_disk, Ordering::AcqRel) {
            if low_disk {
                tracing::warn!(
                    "only {} bytes free on the data disk (replication.min_free_disk_bytes = {}): emptying the change log; pipes that still needed it will resend history",
                    free.unwrap_or(0),
                    self.settings.min_free_disk_bytes
                );
            } else {
                tracing::info!("free disk above replication.min_free_disk_bytes again");
            }
        }
        if hard > soft && hard > self.engine.first_seq() && !low_disk {
            tracing::warn!(
                "trimming the change log below {hard}: it is over replication.log_max_bytes = {}; a pipe that still needs older changes will resend history",
                self.settings.log_max_bytes
            );
        }
        Ok(self.engine.trim_below(soft.max(hard))?)
    }

    /// Runs `trim_log` every `every` until `stop` fires.
    pub fn spawn_trimmer(
        self: &Arc<Self>,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let m = self.clone();
        self.rt.spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let mm = m.clone();
                        match tokio::task::spawn_blocking(move || mm.trim_log()).await {
                            Ok(Ok(n)) if n > 0 => tracing::debug!("trimmed {n} change-log events"),
                            Ok(Err(e)) => tracing::error!("trimming the change log failed: {e}"),
                            _ => {}
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
        })
    }

    /// Stops every task and waits for each to save its position.
    pub async fn shutdown(&self) {
        let tasks: Vec<TaskHandle> = self
            .pipes
            .iter_mut()
            .filter_map(|mut e| e.task.take())
            .collect();
        for t in &tasks {
            let _ = t.stop.send(true);
        }
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t.join).await;
        }
    }
}

fn first_url(sink: &Params) -> Option<String> {
    match SinkConfig::from_params(sink).ok()?.kind {
        SinkKind::Thrift { urls } => urls
            .first()
            .map(|(h, p)| duet_rpc::client::endpoint_name(h, *p)),
        SinkKind::DoNothing => None,
    }
}

/// Looks at the peers every 100 ms while the gate lives, so its degrade
/// timers measure from what happened, not from the last write.
async fn tick_gate(gate: std::sync::Weak<Gate>) {
    let mut every = tokio::time::interval(Duration::from_millis(100));
    loop {
        every.tick().await;
        let Some(g) = gate.upgrade() else { return };
        g.tick();
    }
}

/// Waits for receivers to see a restored peer (see
/// [`PipeManager::resend_history`]) while the manager lives.
async fn resend_on_restore(
    manager: std::sync::Weak<PipeManager>,
    mut went_back: tokio::sync::watch::Receiver<(u64, u32)>,
) {
    while went_back.changed().await.is_ok() {
        let (_, restored) = *went_back.borrow_and_update();
        match manager.upgrade() {
            Some(m) => m.resend_history(restored),
            None => return,
        }
    }
}

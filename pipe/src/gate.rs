//! The replication gate: how much this node may hold that its peers have
//! not acknowledged (DESIGN §6, write modes).
//!
//! `replication.max_pending_bytes` is the room for local changes committed
//! here and not yet acknowledged by the peer of every pipe that counts for
//! it (`sink.pending-budget`, on by default for double-living pipes):
//! - unset: asynchronous, unbounded (the gate only measures);
//! - `n > 0`: a change waits while a peer is `n` bytes or more behind, up to
//!   `replication.write_timeout_ms`, then is refused and not applied;
//! - `0`: synchronous: a change is admitted while the peers answer, and
//!   returns once every peer has acknowledged it, which the receiver does
//!   only after its fsync (RPO 0). Concurrent writers share the pipe's
//!   batches on the way, so they commit as a group.
//!
//! `replication.degrade_after_ms`: once a peer has made no progress (or not
//! answered) that long, writes go on asynchronously; the gate says so in
//! the log and its status, and returns to the configured mode when every
//! peer answers again and has acknowledged everything written up to then.

use crate::manager::PipeManager;
use duet_engine::{Error as EngineError, Result as EngineResult, WriteGate};
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Weak;
use std::time::{Duration, Instant};

/// The write mode's settings (`[replication]` in `conf/duet.toml`, or
/// `SET REPLICATION ...` at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateSettings {
    /// `None`: unbounded (asynchronous); `Some(0)`: synchronous.
    pub max_pending_bytes: Option<u64>,
    /// How long a write waits for room (or for its peers, synchronous).
    pub write_timeout: Duration,
    /// `None`: never degrade.
    pub degrade_after: Option<Duration>,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            max_pending_bytes: None,
            write_timeout: Duration::from_secs(10),
            degrade_after: None,
        }
    }
}

impl GateSettings {
    /// `async`, `bounded` or `sync`.
    pub fn mode(&self) -> &'static str {
        match self.max_pending_bytes {
            None => "async",
            Some(0) => "sync",
            Some(_) => "bounded",
        }
    }
}

/// A pipe that counts for the budget, as the manager sees it now.
#[derive(Debug, Clone)]
pub struct CountedPipe {
    pub name: String,
    /// The peer's address as configured (`host:port`).
    pub peer: String,
    /// The first sequence the peer has not acknowledged.
    pub acked: u64,
    /// Running, and its peer answered the last request.
    pub answering: bool,
}

/// How far one peer is behind this node's own changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behind {
    pub pipe: String,
    pub peer: String,
    pub bytes: u64,
    pub events: u64,
    /// Age of the oldest change it has not acknowledged.
    pub age_ms: u64,
    pub answering: bool,
    acked: u64,
    /// How long it has been without progress or without answering.
    stalled_ms: u64,
}

/// The gate's figures (SHOW CLUSTER, SHOW PIPES, /metrics).
#[derive(Debug, Clone)]
pub struct GateStatus {
    pub settings: GateSettings,
    /// Writes go on asynchronously because a peer stopped answering.
    pub degraded: bool,
    /// Every counted pipe, most bytes behind first.
    pub peers: Vec<Behind>,
    /// Writes waiting in the gate now.
    pub waiting: u64,
    /// Writes refused (not applied) since start.
    pub refused: u64,
    /// Synchronous writes applied here that a peer did not confirm in time.
    pub unconfirmed: u64,
    /// Times the gate degraded to asynchronous.
    pub degradations: u64,
}

impl GateStatus {
    /// Why a write would wait now (and fail after `write_timeout_ms`):
    /// what `/health` reports, so a load balancer sends writes elsewhere.
    /// The same test `admit` makes.
    pub fn refusing(&self) -> Option<String> {
        let budget = self.settings.max_pending_bytes?;
        if self.degraded {
            return None;
        }
        if budget == 0 {
            if let Some(p) = self.peers.iter().find(|p| !p.answering) {
                return Some(format!(
                    "synchronous replication: peer {} (pipe {}) is not answering, so writes wait for it",
                    p.peer, p.pipe
                ));
            }
            // A peer that still counts as answering (its connection is up,
            // the request has not timed out) but has confirmed nothing for
            // longer than a write may wait: every write now fails
            // unconfirmed, so a load balancer must send them elsewhere
            // before the pipe's request timeout notices.
            let limit = self.settings.write_timeout.as_millis() as u64;
            let p = self
                .peers
                .iter()
                .find(|p| p.events > 0 && p.stalled_ms > limit)?;
            Some(format!(
                "synchronous replication: peer {} (pipe {}) has confirmed none of {} changes for {} ms, \
                 longer than replication.write_timeout_ms = {limit}, so writes are not confirmed",
                p.peer, p.pipe, p.events, p.stalled_ms
            ))
        } else {
            let p = self.peers.iter().find(|p| p.bytes >= budget)?;
            Some(format!(
                "replication budget full: peer {} (pipe {}) has not acknowledged {} bytes \
                 (replication.max_pending_bytes = {budget}), so writes wait for it",
                p.peer, p.pipe, p.bytes
            ))
        }
    }

    /// `async`, `bounded`, `sync`, or e.g. `sync, degraded to async`.
    pub fn mode(&self) -> String {
        let m = self.settings.mode();
        if self.degraded {
            format!("{m}, degraded to async")
        } else {
            m.to_string()
        }
    }

    /// The peer furthest behind, if any pipe counts.
    pub fn worst(&self) -> Option<&Behind> {
        self.peers.first()
    }

    /// What losing this node now would lose, in time: nothing acknowledged
    /// to a client in synchronous mode, else the age of the oldest change a
    /// peer lacks.
    pub fn rpo_ms(&self) -> u64 {
        if self.settings.max_pending_bytes == Some(0) && !self.degraded {
            0
        } else {
            self.worst().map_or(0, |b| b.age_ms)
        }
    }
}

/// One local change the gate tracks until every counted peer has it.
#[derive(Debug, Clone, Copy)]
struct Commit {
    seq: u64,
    /// Bytes of tracked changes before this one (since the gate started).
    cum_before: u64,
    at: Instant,
}

/// Tracked changes kept at most; past it every other old one is dropped, so
/// a long outage under load costs bounded memory (the figures for the
/// oldest changes then count a little short).
const MAX_TRACKED: usize = 1 << 16;

/// Waits re-check at least this often (degrade timers, a missed wake-up).
const POLL: Duration = Duration::from_millis(50);

#[derive(Default)]
struct State {
    commits: VecDeque<Commit>,
    cum: u64,
    /// The newest local sequence committed.
    last: u64,
    /// Per pipe: when it last progressed or was idle and answering.
    ok_since: HashMap<String, (u64, Instant)>,
    degraded: Option<Degraded>,
}

struct Degraded {
    /// Set when every peer answers again: they must acknowledge up to here.
    target: Option<u64>,
}

pub struct Gate {
    settings: RwLock<GateSettings>,
    state: Mutex<State>,
    changed: Condvar,
    pipes: Weak<PipeManager>,
    waiting: AtomicU64,
    refused: AtomicU64,
    unconfirmed: AtomicU64,
    degradations: AtomicU64,
}

impl Gate {
    pub(crate) fn new(settings: GateSettings, pipes: Weak<PipeManager>, last_seq: u64) -> Gate {
        Gate {
            settings: RwLock::new(settings),
            state: Mutex::new(State {
                last: last_seq,
                ..State::default()
            }),
            changed: Condvar::new(),
            pipes,
            waiting: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            unconfirmed: AtomicU64::new(0),
            degradations: AtomicU64::new(0),
        }
    }

    /// Tracks local changes written before the gate existed (from the log,
    /// at start): `(seq, bytes, age)`, oldest first.
    pub(crate) fn seed(&self, old: impl IntoIterator<Item = (u64, u64, Duration)>) {
        let now = Instant::now();
        let mut st = self.state.lock();
        for (seq, bytes, age) in old {
            let at = now.checked_sub(age).unwrap_or(now);
            push(&mut st, seq, bytes, at);
        }
    }

    pub fn settings(&self) -> GateSettings {
        *self.settings.read()
    }

    pub(crate) fn set_settings(&self, s: GateSettings) {
        *self.settings.write() = s;
        if s.degrade_after.is_none() {
            self.state.lock().degraded = None;
        }
        self.notify();
    }

    /// A peer acknowledged, a pipe started, stopped or changed its peer's
    /// state: waiting writes look again.
    /// Moves the degrade timers along (the manager calls it every 100 ms).
    pub(crate) fn tick(&self) {
        let s = self.settings();
        if s.degrade_after.is_some() && s.max_pending_bytes.is_some() {
            let mut st = self.state.lock();
            self.view(&mut st, &s, Instant::now());
        }
    }

    pub(crate) fn notify(&self) {
        let _st = self.state.lock();
        self.changed.notify_all();
    }

    pub fn status(&self) -> GateStatus {
        let s = self.settings();
        let (peers, degraded) = {
            let mut st = self.state.lock();
            let peers = self.view(&mut st, &s, Instant::now());
            (peers, st.degraded.is_some())
        };
        GateStatus {
            settings: s,
            degraded,
            peers,
            waiting: self.waiting.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            unconfirmed: self.unconfirmed.load(Ordering::Relaxed),
            degradations: self.degradations.load(Ordering::Relaxed),
        }
    }

    /// Every counted peer's lag, most bytes first; moves the degrade state
    /// along and forgets changes every peer has.
    fn view(&self, st: &mut State, s: &GateSettings, now: Instant) -> Vec<Behind> {
        let counted = self
            .pipes
            .upgrade()
            .map(|m| m.counted_pipes())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(counted.len());
        for p in counted {
            let i = st.commits.partition_point(|c| c.seq < p.acked);
            let oldest = st.commits.get(i);
            let events = (st.commits.len() - i) as u64;
            let entry = st.ok_since.entry(p.name.clone()).or_insert((p.acked, now));
            if p.answering && (events == 0 || entry.0 != p.acked) {
                *entry = (p.acked, now);
            }
            out.push(Behind {
                bytes: st.cum - oldest.map_or(st.cum, |c| c.cum_before),
                events,
                age_ms: oldest.map_or(0, |c| now.duration_since(c.at).as_millis() as u64),
                answering: p.answering,
                acked: p.acked,
                stalled_ms: now.duration_since(entry.1).as_millis() as u64,
                pipe: p.name,
                peer: p.peer,
            });
        }
        st.ok_since
            .retain(|name, _| out.iter().any(|b| &b.pipe == name));
        // Forget what every counted peer has (everything, with none).
        let floor = out.iter().map(|b| b.acked).min().unwrap_or(u64::MAX);
        while st.commits.front().is_some_and(|c| c.seq < floor) {
            st.commits.pop_front();
        }
        self.degrade(st, s, &out);
        out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.age_ms.cmp(&a.age_ms)));
        out
    }

    fn degrade(&self, st: &mut State, s: &GateSettings, peers: &[Behind]) {
        let Some(after) = s.degrade_after else {
            st.degraded = None;
            return;
        };
        if s.max_pending_bytes.is_none() {
            st.degraded = None;
            return;
        }
        match &mut st.degraded {
            None => {
                if let Some(p) = peers
                    .iter()
                    .find(|p| p.stalled_ms >= after.as_millis() as u64)
                {
                    tracing::warn!(
                        "replication to {} (pipe {}) has made no progress for {} ms \
                         (replication.degrade_after_ms = {}): writes go on asynchronously \
                         ({} bytes in {} changes not on the peer yet); the {} mode returns \
                         once it has caught up",
                        p.peer,
                        p.pipe,
                        p.stalled_ms,
                        after.as_millis(),
                        p.bytes,
                        p.events,
                        s.mode()
                    );
                    st.degraded = Some(Degraded { target: None });
                    self.degradations.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(d) => {
                if !peers.iter().all(|p| p.answering) {
                    d.target = None;
                    return;
                }
                let target = *d.target.get_or_insert(st.last);
                if peers.iter().all(|p| p.acked > target) {
                    tracing::info!("replication caught up: back to the {} write mode", s.mode());
                    st.degraded = None;
                }
            }
        }
    }

    /// Waits (holding `st`) until the next change or `POLL`, whichever first.
    fn wait(&self, st: &mut parking_lot::MutexGuard<'_, State>, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        self.changed.wait_for(st, left.min(POLL));
    }
}

fn push(st: &mut State, seq: u64, bytes: u64, at: Instant) {
    st.commits.push_back(Commit {
        seq,
        cum_before: st.cum,
        at,
    });
    st.cum += bytes;
    st.last = st.last.max(seq);
    if st.commits.len() > MAX_TRACKED {
        // Keep the newest half whole; in the older half fold each pair into
        // one change with the later sequence and the earlier start, so the
        // figures err high (a peer is never taken to have more than it has).
        let half = st.commits.len() / 2 / 2 * 2;
        let old: Vec<Commit> = st.commits.drain(..half).collect();
        let folded: Vec<Commit> = old
            .chunks(2)
            .map(|p| Commit {
                seq: p[p.len() - 1].seq,
                cum_before: p[0].cum_before,
                at: p[0].at,
            })
            .collect();
        for c in folded.into_iter().rev() {
            st.commits.push_front(c);
        }
    }
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

impl WriteGate for Gate {
    fn admit(&self) -> EngineResult<()> {
        if self.settings().max_pending_bytes.is_none() {
            return Ok(());
        }
        let started = Instant::now();
        let mut st = self.state.lock();
        let mut counted = false;
        let result = loop {
            // Read each time: a SET REPLICATION reaches waiting writes.
            let s = self.settings();
            let Some(budget) = s.max_pending_bytes else {
                break Ok(());
            };
            let deadline = started + s.write_timeout;
            let now = Instant::now();
            let peers = self.view(&mut st, &s, now);
            if st.degraded.is_some() {
                break Ok(());
            }
            let blocking = if budget == 0 {
                peers.iter().find(|p| !p.answering)
            } else {
                peers.iter().find(|p| p.bytes >= budget)
            };
            let Some(p) = blocking else { break Ok(()) };
            if now >= deadline {
                self.refused.fetch_add(1, Ordering::Relaxed);
                let msg = if budget == 0 {
                    format!(
                        "synchronous replication (replication.max_pending_bytes = 0): peer {} \
                         (pipe {}) is not answering; waited {} ms; the write was not applied \
                         (replication.degrade_after_ms lets writes go on without the peer)",
                        p.peer,
                        p.pipe,
                        ms(s.write_timeout)
                    )
                } else {
                    format!(
                        "replication budget full: peer {} (pipe {}) has not acknowledged {} \
                         bytes in {} changes, the oldest {} ms old (replication.max_pending_bytes \
                         = {budget}); waited {} ms; the write was not applied",
                        p.peer,
                        p.pipe,
                        p.bytes,
                        p.events,
                        p.age_ms,
                        ms(s.write_timeout)
                    )
                };
                break Err(EngineError::Unreplicated(msg));
            }
            if !counted {
                counted = true;
                self.waiting.fetch_add(1, Ordering::Relaxed);
            }
            self.wait(&mut st, deadline);
        };
        if counted {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        result
    }

    fn committed(&self, seq: u64, bytes: u64) {
        let mut st = self.state.lock();
        push(&mut st, seq, bytes, Instant::now());
    }

    fn confirm(&self, seq: u64) -> EngineResult<()> {
        if self.settings().max_pending_bytes != Some(0) {
            return Ok(());
        }
        let started = Instant::now();
        let mut st = self.state.lock();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let result = loop {
            let s = self.settings();
            if s.max_pending_bytes != Some(0) {
                break Ok(());
            }
            let deadline = started + s.write_timeout;
            let now = Instant::now();
            let peers = self.view(&mut st, &s, now);
            if st.degraded.is_some() {
                break Ok(());
            }
            let Some(p) = peers.iter().find(|p| p.acked <= seq) else {
                break Ok(());
            };
            if now >= deadline {
                self.unconfirmed.fetch_add(1, Ordering::Relaxed);
                break Err(EngineError::Unconfirmed(format!(
                    "synchronous write committed on this node, but peer {} (pipe {}) did not \
                     confirm it within {} ms ({} bytes in {} changes behind); it is sent when \
                     the peer answers",
                    p.peer,
                    p.pipe,
                    ms(s.write_timeout),
                    p.bytes,
                    p.events
                )));
            }
            self.wait(&mut st, deadline);
        };
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        result
    }
}

/// Where `SET REPLICATION` keeps its values (over the configuration file).
const NAMESPACE: &str = "replication-settings";

/// The settings `SET REPLICATION` takes, lower case.
pub const SETTINGS: &[&str] = &["max_pending_bytes", "write_timeout_ms", "degrade_after_ms"];

/// `value` for `key` into `s`, or why it does not fit.
fn apply_setting(s: &mut GateSettings, key: &str, value: &str) -> Result<(), String> {
    let v = value.trim();
    let number = |what: &str| {
        v.parse::<u64>()
            .map_err(|_| format!("{key} = '{value}': expected {what}"))
    };
    match key {
        "max_pending_bytes" => {
            s.max_pending_bytes = if v.eq_ignore_ascii_case("unbounded") {
                None
            } else {
                Some(number("a number of bytes (0 = synchronous) or UNBOUNDED")?)
            }
        }
        "write_timeout_ms" => match number("a positive number of milliseconds")? {
            0 => {
                return Err(format!(
                    "{key} = 0: expected a positive number of milliseconds"
                ))
            }
            n => s.write_timeout = Duration::from_millis(n),
        },
        "degrade_after_ms" => {
            s.degrade_after = if v.eq_ignore_ascii_case("never") {
                None
            } else {
                match number("a positive number of milliseconds or NEVER")? {
                    0 => return Err(format!("{key} = 0: expected a positive number or NEVER")),
                    n => Some(Duration::from_millis(n)),
                }
            }
        }
        _ => {
            return Err(format!(
                "unknown replication setting {key}; one of {}",
                SETTINGS.join(", ")
            ))
        }
    }
    Ok(())
}

/// The configured settings with the kept `SET REPLICATION` values over them.
pub(crate) fn load_overrides(
    engine: &duet_engine::Engine,
    base: GateSettings,
) -> Result<GateSettings, crate::PipeError> {
    let mut s = base;
    for (key, value) in engine.records(NAMESPACE)? {
        let value = String::from_utf8_lossy(&value);
        if let Err(e) = apply_setting(&mut s, &key, &value) {
            tracing::warn!("ignoring the kept replication setting: {e}");
        }
    }
    Ok(s)
}

/// Checks and keeps `key = value` (`None`: back to the configuration
/// file's value); returns the settings now in force.
pub(crate) fn set_override(
    engine: &duet_engine::Engine,
    base: GateSettings,
    key: &str,
    value: Option<&str>,
) -> Result<GateSettings, crate::PipeError> {
    let key = key.to_ascii_lowercase();
    let mut check = base;
    match value {
        Some(v) => {
            apply_setting(&mut check, &key, v).map_err(crate::PipeError::Config)?;
            engine.put_record(NAMESPACE, &key, v.trim().as_bytes())?;
        }
        None => {
            if !SETTINGS.contains(&key.as_str()) {
                apply_setting(&mut check, &key, "").map_err(crate::PipeError::Config)?;
            }
            engine.delete_record(NAMESPACE, &key)?;
        }
    }
    load_overrides(engine, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_bad_values_are_named() {
        let mut s = GateSettings::default();
        apply_setting(&mut s, "max_pending_bytes", "0").unwrap();
        assert_eq!(s.mode(), "sync");
        apply_setting(&mut s, "max_pending_bytes", " 1048576 ").unwrap();
        assert_eq!(s.max_pending_bytes, Some(1 << 20));
        apply_setting(&mut s, "max_pending_bytes", "UNBOUNDED").unwrap();
        assert_eq!(s.mode(), "async");
        apply_setting(&mut s, "degrade_after_ms", "2500").unwrap();
        assert_eq!(s.degrade_after, Some(Duration::from_millis(2500)));
        apply_setting(&mut s, "degrade_after_ms", "never").unwrap();
        assert_eq!(s.degrade_after, None);
        for (k, v) in [
            ("max_pending_bytes", "-1"),
            ("max_pending_bytes", "10MB"),
            ("write_timeout_ms", "0"),
            ("degrade_after_ms", "0"),
            ("max_pending", "1"),
        ] {
            let err = apply_setting(&mut s, k, v).unwrap_err();
            assert!(err.contains(k), "{err}");
        }
    }

    #[test]
    fn pending_bytes_count_what_a_peer_lacks_and_thin_out_when_old() {
        let mut st = State::default();
        let t = Instant::now();
        for seq in 1..=10 {
            push(&mut st, seq, 100, t);
        }
        let i = st.commits.partition_point(|c| c.seq < 4);
        assert_eq!(st.cum - st.commits[i].cum_before, 700);
        for seq in 11..=(MAX_TRACKED as u64 + 11) {
            push(&mut st, seq, 1, t);
        }
        assert!(st.commits.len() <= MAX_TRACKED);
        // The newest half is whole: the last 1 000 count exactly.
        let last = st.last;
        let i = st.commits.partition_point(|c| c.seq < last - 999);
        assert_eq!(st.cum - st.commits[i].cum_before, 1000);
        // Older ones were folded: never counted short.
        for acked in [2u64, 5, 9, 12, 1000, 30_000] {
            let i = st.commits.partition_point(|c| c.seq < acked);
            let counted = st.cum - st.commits[i].cum_before;
            let exact: u64 = (acked..=last).map(|s| if s <= 10 { 100 } else { 1 }).sum();
            assert!(counted >= exact, "acked {acked}: {counted} < {exact}");
        }
    }
}

#[cfg(test)]
mod health_tests {
    use super::*;

    fn status(peer: Behind) -> GateStatus {
        GateStatus {
            settings: GateSettings {
                max_pending_bytes: Some(0),
                write_timeout: Duration::from_millis(300),
                degrade_after: None,
            },
            degraded: false,
            peers: vec![peer],
            waiting: 0,
            refused: 0,
            unconfirmed: 0,
            degradations: 0,
        }
    }

    fn peer(answering: bool, events: u64, stalled_ms: u64) -> Behind {
        Behind {
            pipe: "AB".into(),
            peer: "b:6667".into(),
            bytes: events * 100,
            events,
            age_ms: stalled_ms,
            answering,
            acked: 0,
            stalled_ms,
        }
    }

    /// Synchronous: refusing while a peer does not answer, and while one
    /// that still counts as answering has confirmed nothing for longer
    /// than a write may wait (a frozen peer, before the request times out).
    #[test]
    fn synchronous_health_says_why_writes_would_fail() {
        assert_eq!(status(peer(true, 0, 5_000)).refusing(), None, "idle");
        assert_eq!(status(peer(true, 3, 200)).refusing(), None, "in time");
        let why = status(peer(true, 3, 301)).refusing().expect("stalled");
        assert!(why.contains("write_timeout_ms = 300"), "{why}");
        let why = status(peer(false, 0, 0)).refusing().expect("not answering");
        assert!(why.contains("not answering"), "{why}");
        let mut degraded = status(peer(false, 3, 10_000));
        degraded.degraded = true;
        assert_eq!(degraded.refusing(), None, "degraded writes go on");
    }
}

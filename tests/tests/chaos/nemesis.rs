//! The fault schedule (pure: a seed gives the same kinds, targets and
//! durations every time) and the nemesis that applies it to a cluster, one
//! fault at a time, checks that each fault really bit, heals it, and keeps
//! the fault history, with the windows in which a clock was off or a node's
//! acknowledged writes could be undone by a restore (the checker needs
//! both).

use crate::cluster::{name, Cluster};
use crate::rng::Rng;
use duet_tests::proxy::Fault as LinkFault;
use duet_tests::wait_until;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// SIGKILL a node during ingest, restart it on the same data.
    Kill,
    /// Close every connection of a link and refuse new ones.
    Cut,
    /// Every chunk on a link waits `delay_ms`.
    Delay,
    /// A link swallows every byte while its connections stay open.
    Blackhole,
    /// A link's connections close after `close_after` more bytes.
    CloseMidFrame,
    /// `STOP PIPE`, later `START PIPE`.
    StopPipe,
    /// A link delivers requests but drops every reply.
    ReplyLost,
    /// `BACKUP TO` on a node, later SIGKILL and a restart on the backup.
    Restore,
    /// Restart a node with its clock off by `offset_ms`, within the
    /// pipes' limit or beyond it (the pipes stop), later set it right.
    ClockOffset,
    /// `STOP PIPE` until the change log is trimmed past the pipe's
    /// position, then `START PIPE` (the pipe resends history). Only with a
    /// short change log.
    Trim,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: Kind,
    /// The node killed, or the link (index into `Cluster::links`) faulted.
    pub target: usize,
    pub hold_ms: u64,
    pub delay_ms: u64,
    pub close_after: u64,
    /// The clock offset of a `ClockOffset` fault (either sign).
    pub offset_ms: i64,
    /// Quiet time before the fault.
    pub gap_ms: u64,
}

pub const KINDS: [Kind; 10] = [
    Kind::Kill,
    Kind::Cut,
    Kind::Delay,
    Kind::Blackhole,
    Kind::CloseMidFrame,
    Kind::StopPipe,
    Kind::ReplyLost,
    Kind::Restore,
    Kind::ClockOffset,
    Kind::Trim,
];

/// Random draws after the first round: the common faults more often.
const WEIGHTS: [(Kind, u64); 10] = [
    (Kind::Kill, 2),
    (Kind::Cut, 2),
    (Kind::Delay, 1),
    (Kind::Blackhole, 2),
    (Kind::CloseMidFrame, 1),
    (Kind::StopPipe, 2),
    (Kind::ReplyLost, 1),
    (Kind::Restore, 1),
    (Kind::ClockOffset, 1),
    (Kind::Trim, 1),
];

/// The pipes' default `replication.max_clock_skew_ms`.
const SKEW_LIMIT_MS: i64 = 500;

/// An endless, seeded list of faults for `nodes` nodes and `links` links:
/// first every kind once in a seeded order (so a short run sees them all),
/// then kinds drawn at random.
pub struct Schedule {
    rng: Rng,
    nodes: usize,
    links: usize,
    first_round: Vec<Kind>,
    /// Each kind as often as its weight: a uniform pick is a weighted one.
    draws: Vec<Kind>,
}

impl Schedule {
    /// `kinds`: the kinds this cluster can take (Trim needs a short log).
    pub fn new(seed: u64, nodes: usize, links: usize, kinds: &[Kind]) -> Schedule {
        let mut rng = Rng::fork(seed, 1);
        let mut first_round = kinds.to_vec();
        for i in (1..first_round.len()).rev() {
            first_round.swap(i, rng.range(0, i as u64 + 1) as usize);
        }
        let draws = WEIGHTS
            .iter()
            .filter(|(k, _)| kinds.contains(k))
            .flat_map(|&(k, w)| std::iter::repeat_n(k, w as usize))
            .collect();
        Schedule {
            rng,
            nodes,
            links,
            first_round,
            draws,
        }
    }
}

impl Iterator for Schedule {
    type Item = Fault;

    fn next(&mut self) -> Option<Fault> {
        let r = &mut self.rng;
        let kind = match self.first_round.pop() {
            Some(k) => k,
            None => *r.pick(&self.draws),
        };
        let target = match kind {
            Kind::Kill | Kind::Restore | Kind::ClockOffset => r.range(0, self.nodes as u64),
            _ => r.range(0, self.links as u64),
        } as usize;
        // Half within the pipes' limit, half beyond it.
        let offset_ms = if r.chance(50) {
            r.range(100, 401)
        } else {
            r.range(800, 1_501)
        } as i64
            * if r.chance(50) { 1 } else { -1 };
        Some(Fault {
            kind,
            target,
            hold_ms: r.range(500, 3_001),
            delay_ms: r.range(20, 401),
            close_after: r.range(10, 1_500),
            offset_ms,
            gap_ms: r.range(200, 1_001),
        })
    }
}

/// What happened, when: printed as it happens and kept for the report.
pub struct History {
    started: Instant,
    pub lines: Vec<String>,
    pub by_kind: BTreeMap<Kind, u32>,
    /// (from_ms, to_ms, |offset|): while a clock was off, and until the
    /// versions it gave (and the clocks it pulled ahead) were past.
    pub skew_windows: Vec<(u64, u64, u64)>,
    /// (node, from_ms, to_ms): the node acknowledged writes between its
    /// backup and the kill that restored it; those not yet replicated are
    /// gone, as a restore must lose them.
    pub restore_windows: Vec<(usize, u64, u64)>,
}

impl History {
    pub fn new(started: Instant) -> History {
        History {
            started,
            lines: Vec::new(),
            by_kind: BTreeMap::new(),
            skew_windows: Vec::new(),
            restore_windows: Vec::new(),
        }
    }

    /// Milliseconds since the run started (the ledger's clock).
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// What the windows mean for the ledger: a write acknowledged by a
    /// node in its restore window may be lost (Unknown); a statement in a
    /// skew window may be versioned off by the offset.
    pub fn apply_windows(&self, entries: &mut [crate::ledger::Entry]) {
        use crate::ledger::Outcome;
        for e in entries.iter_mut() {
            let overlaps = |from: u64, to: u64| e.sent_ms <= to && e.done_ms >= from;
            if e.outcome == Outcome::Acked
                && self
                    .restore_windows
                    .iter()
                    .any(|&(n, from, to)| n == e.node && overlaps(from, to))
            {
                e.outcome = Outcome::Unknown;
            }
            for &(from, to, skew) in &self.skew_windows {
                if overlaps(from, to) {
                    e.skew_ms = e.skew_ms.max(skew);
                }
            }
        }
    }

    pub fn note(&mut self, text: String) {
        let line = format!("[{:>7.3}s] {text}", self.started.elapsed().as_secs_f64());
        eprintln!("chaos: {line}");
        self.lines.push(line);
    }
}

/// How long a fault may take to show (a blackholed request times out
/// after the 2 s sink timeout, then backs off).
const FIRED_WITHIN: Duration = Duration::from_secs(30);

/// Applies faults from `schedule` until `run_for` has passed; every fault
/// is healed before the next one starts.
pub fn run(
    cluster: &mut Cluster,
    schedule: &mut Schedule,
    run_for: Duration,
    history: &mut History,
) {
    let until = Instant::now() + run_for;
    let mut n = 0;
    while Instant::now() < until {
        let f = schedule.next().expect("an endless schedule");
        std::thread::sleep(Duration::from_millis(f.gap_ms));
        n += 1;
        apply(cluster, &f, n, history);
        *history.by_kind.entry(f.kind).or_default() += 1;
    }
}

fn apply(c: &mut Cluster, f: &Fault, n: u32, h: &mut History) {
    let hold = Duration::from_millis(f.hold_ms);
    match f.kind {
        Kind::Kill => {
            let node = &mut c.nodes[f.target];
            let pid = node.pid();
            h.note(format!(
                "#{n} kill -9 node {} (pid {pid}), down for {hold:?}",
                name(f.target)
            ));
            node.kill9();
            assert!(
                !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                "pid {pid} still exists after kill -9"
            );
            std::thread::sleep(hold);
            node.restart();
            h.note(format!(
                "#{n} node {} restarted (pid {})",
                name(f.target),
                node.pid()
            ));
        }
        Kind::StopPipe => {
            let l = &c.links[f.target];
            h.note(format!(
                "#{n} STOP PIPE {} on {} for {hold:?}",
                l.pipe,
                name(l.from)
            ));
            c.nodes[l.from].sql(&format!("STOP PIPE {}", l.pipe));
            let state = c.pipe_state(f.target);
            assert_eq!(
                state.as_deref(),
                Some("STOPPED"),
                "pipe {} after STOP PIPE",
                l.pipe
            );
            std::thread::sleep(hold);
            let l = &c.links[f.target];
            c.nodes[l.from].sql(&format!("START PIPE {}", l.pipe));
            wait_until(Duration::from_secs(10), "the pipe to run again", || match c
                .pipe_state(f.target)
            {
                Some(s) if s == "RUNNING" => Ok(()),
                other => Err(format!("{other:?}")),
            });
            h.note(format!("#{n} START PIPE {} on {}", l.pipe, name(l.from)));
        }
        Kind::ReplyLost => {
            let before = c.retries(f.target);
            let dropped = c.links[f.target].proxy.dropped_reply_bytes();
            wait_sending(c, f.target);
            h.note(format!(
                "#{n} link {} delivers requests and drops replies for {hold:?}",
                c.link_name(f.target)
            ));
            c.links[f.target].proxy.set(LinkFault::DropReplies);
            std::thread::sleep(hold);
            // Fired: replies were dropped while it was on.
            let now_dropped = c.links[f.target].proxy.dropped_reply_bytes();
            c.links[f.target].proxy.set(LinkFault::Pass);
            assert!(
                now_dropped > dropped,
                "no reply was dropped on link {} in {hold:?}",
                c.link_name(f.target)
            );
            let after = wait_retried(c, f.target, before);
            h.note(format!(
                "#{n} link {} healed ({} reply bytes dropped, pipe retries {before} -> {after})",
                c.link_name(f.target),
                now_dropped - dropped
            ));
        }
        Kind::Restore => restore(c, f, n, h),
        Kind::ClockOffset => clock_offset(c, f, n, h),
        Kind::Trim => trim(c, f, n, h),
        Kind::Delay => {
            let d = Duration::from_millis(f.delay_ms);
            h.note(format!(
                "#{n} delay link {} by {d:?} per chunk for {hold:?}",
                c.link_name(f.target)
            ));
            let since = Instant::now();
            c.links[f.target].proxy.set(LinkFault::Delay(d));
            // Fired: a login through the link (three round trips) takes at
            // least two delays.
            let took = login_time(c.links[f.target].proxy.port());
            assert!(
                took >= 2 * d,
                "a login through a link delayed by {d:?} took only {took:?}"
            );
            std::thread::sleep(hold.saturating_sub(since.elapsed()));
            c.links[f.target].proxy.set(LinkFault::Pass);
            h.note(format!(
                "#{n} link {} healed (a login through it took {took:?})",
                c.link_name(f.target)
            ));
        }
        Kind::Cut | Kind::Blackhole | Kind::CloseMidFrame => {
            let (what, fault) = match f.kind {
                Kind::Cut => ("cut", LinkFault::Cut),
                Kind::Blackhole => ("blackhole", LinkFault::Blackhole),
                _ => (
                    "close mid-frame after some bytes on",
                    LinkFault::CloseAfter(f.close_after),
                ),
            };
            wait_sending(c, f.target);
            let before = c.retries(f.target);
            h.note(format!(
                "#{n} {what} link {} for {hold:?}",
                c.link_name(f.target)
            ));
            c.links[f.target].proxy.set(fault);
            std::thread::sleep(hold);
            c.links[f.target].proxy.set(LinkFault::Pass);
            // Fired: the pipe through the link had to send again (a
            // blackholed request only times out after the heal).
            let after = wait_retried(c, f.target, before);
            h.note(format!(
                "#{n} link {} healed (pipe retries {before} -> {after})",
                c.link_name(f.target)
            ));
        }
    }
}

/// A pipe still reconnecting (after a kill) counts no retry until it
/// sends: a link fault waits for a link that carries data.
fn wait_sending(c: &Cluster, link: usize) {
    let mut last = c.events_sent(link);
    let pipe = &c.links[link].pipe;
    wait_until(FIRED_WITHIN, &format!("pipe {pipe} to be sending"), || {
        let now = c.events_sent(link);
        let moved = now > last;
        last = now;
        if moved {
            Ok(())
        } else {
            Err(format!("{now} events sent"))
        }
    });
}

/// Waits until the link's pipe has retried since `before`; the new count.
fn wait_retried(c: &Cluster, link: usize, before: f64) -> f64 {
    wait_until(
        FIRED_WITHIN,
        &format!("pipe {} to retry", c.links[link].pipe),
        || {
            let r = c.retries(link);
            if r > before {
                Ok(r)
            } else {
                Err(format!("{r} retries, {before} before the fault"))
            }
        },
    )
}

/// `BACKUP TO` on the node, more writes, then the node is killed and
/// started on the backup: its change log and its marks for its peers go
/// back. Fired: a history transfer through one of its links.
fn restore(c: &mut Cluster, f: &Fault, n: u32, h: &mut History) {
    let x = f.target;
    let dir = c.nodes[x].backup_root().join(format!("backup-{n}"));
    let transfers_in = |c: &Cluster| -> f64 {
        c.links_of(x)
            .into_iter()
            .filter(|&l| c.links[l].to == x)
            .map(|l| c.history_transfers_of(l))
            .sum()
    };
    let before = transfers_in(c);
    let from_ms = h.now_ms();
    h.note(format!(
        "#{n} BACKUP TO on node {}, restored from it in {:?}",
        name(x),
        Duration::from_millis(f.hold_ms)
    ));
    c.nodes[x].sql(&format!("BACKUP TO '{}'", dir.display()));
    assert!(dir.is_dir(), "BACKUP TO made no {}", dir.display());
    std::thread::sleep(Duration::from_millis(f.hold_ms));
    let node = &mut c.nodes[x];
    node.kill9();
    h.restore_windows.push((x, from_ms, h.now_ms()));
    let data = node.data_dir();
    std::fs::remove_dir_all(&data).expect("remove the data dir");
    std::fs::rename(&dir, &data).expect("put the backup in place");
    node.restart();
    let took = wait_until(
        FIRED_WITHIN * 2,
        "a history transfer to or from the restored node",
        || {
            let into = transfers_in(c);
            let out: f64 = c
                .links_of(x)
                .into_iter()
                .filter(|&l| c.links[l].from == x)
                .map(|l| c.history_transfers_of(l))
                .sum();
            if into > before || out > 0.0 {
                Ok(format!("{} in, {out} out", into - before))
            } else {
                Err(format!("{into} in (was {before}), {out} out"))
            }
        },
    );
    h.note(format!(
        "#{n} node {} runs on its backup (history transfers: {took})",
        name(x)
    ));
}

/// The node restarts with its clock `offset_ms` off. Within the pipes'
/// limit the offset is measured and replication goes on; beyond it the
/// pipes to and from the node stop with a message naming the setting. The
/// node then restarts with its clock right and the stopped pipes are
/// started once the versions it gave are no longer ahead.
fn clock_offset(c: &mut Cluster, f: &Fault, n: u32, h: &mut History) {
    let x = f.target;
    let off = f.offset_ms;
    let beyond = off.abs() > SKEW_LIMIT_MS;
    let from_ms = h.now_ms();
    h.note(format!(
        "#{n} node {} restarts with its clock {off} ms off ({} the {SKEW_LIMIT_MS} ms limit) for {:?}",
        name(x),
        if beyond { "beyond" } else { "within" },
        Duration::from_millis(f.hold_ms)
    ));
    let node = &mut c.nodes[x];
    node.set_env("DUET_CLOCK_OFFSET_MS", Some(&off.to_string()));
    node.restart();
    let links = c.links_of(x);
    let seen = if beyond {
        wait_until(
            FIRED_WITHIN,
            "a pipe of the node to stop on the offset",
            || {
                let stopped: Vec<String> = links
                    .iter()
                    .filter_map(|&l| {
                        let p = c.pipe(l)?;
                        (p.1 == "STOPPED" && p.2.contains("max_clock_skew_ms"))
                            .then(|| format!("{}: {}", p.0, p.2))
                    })
                    .collect();
                stopped
                    .first()
                    .cloned()
                    .ok_or_else(|| "every pipe still running".to_string())
            },
        )
    } else {
        // A pipe into the node measures it at its handshake.
        let l = *links
            .iter()
            .find(|&&l| c.links[l].to == x)
            .expect("a link into the node");
        wait_until(FIRED_WITHIN, "the offset to be measured", || {
            let m = c.peer_clock_offset(l);
            if (m - off as f64).abs() <= 100.0 {
                Ok(format!("{} measures {m} ms", c.links[l].pipe))
            } else {
                Err(format!("{} measures {m} ms", c.links[l].pipe))
            }
        })
    };
    std::thread::sleep(Duration::from_millis(f.hold_ms));
    let node = &mut c.nodes[x];
    node.set_env("DUET_CLOCK_OFFSET_MS", None);
    node.restart();
    // Versions given with the clock ahead stay ahead (the clock never goes
    // back) until real time passes them; only then may a peer take them.
    let lead = Duration::from_millis(off.unsigned_abs());
    std::thread::sleep(lead);
    h.skew_windows
        .push((from_ms, h.now_ms() + 100, off.unsigned_abs()));
    for &l in &links {
        if c.pipe(l).is_some_and(|p| p.1 == "STOPPED") {
            let from = c.links[l].from;
            c.nodes[from].sql(&format!("START PIPE {}", c.links[l].pipe));
        }
    }
    wait_until(FIRED_WITHIN, "the node's pipes to run again", || {
        let down: Vec<_> = links
            .iter()
            .filter_map(|&l| c.pipe(l).filter(|p| p.1 != "RUNNING"))
            .collect();
        if down.is_empty() {
            Ok(())
        } else {
            Err(format!("{down:?}"))
        }
    });
    h.note(format!(
        "#{n} node {}'s clock is right again ({seen})",
        name(x)
    ));
}

/// The pipe stops until its source's change log is trimmed past it; when
/// started it has fallen off the log and resends history.
fn trim(c: &mut Cluster, f: &Fault, n: u32, h: &mut History) {
    let l = &c.links[f.target];
    let (x, pipe) = (l.from, l.pipe.clone());
    h.note(format!(
        "#{n} STOP PIPE {pipe} on {} until its log is trimmed past it",
        name(x)
    ));
    c.nodes[x].sql(&format!("STOP PIPE {pipe}"));
    let last = c.nodes[x].log_last_seq();
    wait_until(
        Duration::from_secs(90),
        "the change log to be trimmed past the stopped pipe",
        || {
            let first = c.nodes[x].metric("duet_changelog_first_seq").unwrap_or(0.0) as u64;
            // The pipe is at `last` at most: it reads from `last + 1` on,
            // and falls off when that is gone.
            if first > last + 1 {
                Ok(())
            } else {
                Err(format!("first kept {first}, pipe at or before {last}"))
            }
        },
    );
    c.nodes[x].sql(&format!("START PIPE {pipe}"));
    wait_until(FIRED_WITHIN, "the pipe to find it fell off the log", || {
        let fell = c.pipe_metric(f.target, "duet_pipe_fell_off_log_total");
        let state = c.pipe_state(f.target);
        if fell >= 1.0 && state.as_deref() == Some("RUNNING") {
            Ok(())
        } else {
            Err(format!("fell off {fell} times, {state:?}"))
        }
    });
    h.note(format!(
        "#{n} START PIPE {pipe}: it fell off the log, resends history"
    ));
}

/// How long opening a session through `port` takes.
fn login_time(port: u16) -> Duration {
    let started = Instant::now();
    let cfg = duet_rpc::client::SessionConfig {
        hosts: vec![("127.0.0.1".into(), port)],
        ..Default::default()
    };
    if let Err(e) = duet_rpc::client::Session::open(cfg) {
        panic!("login through the delayed link failed: {e}");
    }
    started.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_schedule_and_every_kind_appears() {
        let a: Vec<Fault> = Schedule::new(42, 3, 6, &KINDS).take(200).collect();
        let b: Vec<Fault> = Schedule::new(42, 3, 6, &KINDS).take(200).collect();
        assert_eq!(a, b);
        assert_ne!(
            a,
            Schedule::new(43, 3, 6, &KINDS)
                .take(200)
                .collect::<Vec<_>>()
        );
        for k in KINDS {
            assert!(a.iter().any(|f| f.kind == k), "{k:?} never scheduled");
        }
        // The first round is every kind once.
        let first: std::collections::BTreeSet<Kind> =
            a[..KINDS.len()].iter().map(|f| f.kind).collect();
        assert_eq!(first.len(), KINDS.len());
        assert!(a.iter().all(|f| (500..=3_000).contains(&f.hold_ms)));
        assert!(a.iter().all(|f| match f.kind {
            Kind::Kill | Kind::Restore | Kind::ClockOffset => f.target < 3,
            _ => f.target < 6,
        }));
        let offsets: Vec<i64> = a.iter().map(|f| f.offset_ms).collect();
        assert!(offsets.iter().any(|o| o.abs() <= SKEW_LIMIT_MS));
        assert!(offsets.iter().any(|o| o.abs() > SKEW_LIMIT_MS));
        assert!(offsets.iter().any(|o| *o < 0) && offsets.iter().any(|o| *o > 0));
        // A cluster without a short log never gets a Trim.
        let no_trim: Vec<Kind> = KINDS.iter().copied().filter(|k| *k != Kind::Trim).collect();
        assert!(Schedule::new(42, 2, 2, &no_trim)
            .take(200)
            .all(|f| f.kind != Kind::Trim));
    }
}

//! The fault schedule (pure: a seed gives the same kinds, targets and
//! durations every time) and the nemesis that applies it to a cluster, one
//! fault at a time, checks that each fault really bit, heals it, and keeps
//! the fault history.

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: Kind,
    /// The node killed, or the link (index into `Cluster::links`) faulted.
    pub target: usize,
    pub hold_ms: u64,
    pub delay_ms: u64,
    pub close_after: u64,
    /// Quiet time before the fault.
    pub gap_ms: u64,
}

const KINDS: [Kind; 6] = [
    Kind::Kill,
    Kind::Cut,
    Kind::Delay,
    Kind::Blackhole,
    Kind::CloseMidFrame,
    Kind::StopPipe,
];

/// An endless, seeded list of faults for `nodes` nodes and `links` links:
/// first every kind once in a seeded order (so a short run sees them all),
/// then kinds drawn at random.
pub struct Schedule {
    rng: Rng,
    nodes: usize,
    links: usize,
    first_round: Vec<Kind>,
}

impl Schedule {
    pub fn new(seed: u64, nodes: usize, links: usize) -> Schedule {
        let mut rng = Rng::fork(seed, 1);
        let mut first_round = KINDS.to_vec();
        for i in (1..first_round.len()).rev() {
            first_round.swap(i, rng.range(0, i as u64 + 1) as usize);
        }
        Schedule {
            rng,
            nodes,
            links,
            first_round,
        }
    }
}

impl Iterator for Schedule {
    type Item = Fault;

    fn next(&mut self) -> Option<Fault> {
        let r = &mut self.rng;
        let kind = match self.first_round.pop() {
            Some(k) => k,
            None => *r.pick(&[
                Kind::Kill,
                Kind::Kill,
                Kind::Cut,
                Kind::Cut,
                Kind::Delay,
                Kind::Blackhole,
                Kind::Blackhole,
                Kind::CloseMidFrame,
                Kind::StopPipe,
                Kind::StopPipe,
            ]),
        };
        let target = match kind {
            Kind::Kill => r.range(0, self.nodes as u64),
            _ => r.range(0, self.links as u64),
        } as usize;
        Some(Fault {
            kind,
            target,
            hold_ms: r.range(500, 3_001),
            delay_ms: r.range(20, 401),
            close_after: r.range(10, 1_500),
            gap_ms: r.range(200, 1_001),
        })
    }
}

/// What happened, when: printed as it happens and kept for the report.
pub struct History {
    started: Instant,
    pub lines: Vec<String>,
    pub by_kind: BTreeMap<Kind, u32>,
}

impl History {
    pub fn new(started: Instant) -> History {
        History {
            started,
            lines: Vec::new(),
            by_kind: BTreeMap::new(),
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
            // A pipe still reconnecting (after a kill) counts no retry
            // until it sends: let the fault hit a link that carries data.
            let mut last = c.events_sent(f.target);
            let pipe = &c.links[f.target].pipe;
            wait_until(FIRED_WITHIN, &format!("pipe {pipe} to be sending"), || {
                let now = c.events_sent(f.target);
                let moved = now > last;
                last = now;
                if moved {
                    Ok(())
                } else {
                    Err(format!("{now} events sent"))
                }
            });
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
            let after = wait_until(
                FIRED_WITHIN,
                &format!("pipe {} to retry", c.links[f.target].pipe),
                || {
                    let r = c.retries(f.target);
                    if r > before {
                        Ok(r)
                    } else {
                        Err(format!("{r} retries, {before} before the fault"))
                    }
                },
            );
            h.note(format!(
                "#{n} link {} healed (pipe retries {before} -> {after})",
                c.link_name(f.target)
            ));
        }
    }
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
        let a: Vec<Fault> = Schedule::new(42, 3, 6).take(200).collect();
        let b: Vec<Fault> = Schedule::new(42, 3, 6).take(200).collect();
        assert_eq!(a, b);
        assert_ne!(a, Schedule::new(43, 3, 6).take(200).collect::<Vec<_>>());
        for k in KINDS {
            assert!(a.iter().any(|f| f.kind == k), "{k:?} never scheduled");
        }
        assert!(a.iter().all(|f| (500..=3_000).contains(&f.hold_ms)));
        assert!(a.iter().all(|f| match f.kind {
            Kind::Kill => f.target < 3,
            _ => f.target < 6,
        }));
    }
}

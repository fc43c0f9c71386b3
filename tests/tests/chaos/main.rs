//! Chaos: clients write to every node at once (the same series and times
//! on several nodes, and deletes) while a nemesis kills nodes, cuts, delays
//! and blackholes links and stops pipes on a seeded schedule. Then
//! everything heals, replication goes quiet, and a checker compares every
//! node's data with a reference model built from what the clients were
//! told (the ledger).
//!
//! Runbook of one run:
//! 1. start 2 or 3 nodes, a double-living pipe from each to each, every
//!    pipe through its own fault proxy;
//! 2. start the writers (ledger: each statement and its outcome);
//! 3. apply faults for the run's seconds, one at a time, each healed and
//!    checked to have fired;
//! 4. stop the writers, heal, wait until every pipe is caught up and every
//!    change log still;
//! 5. dump every node, check it against the ledger and the other nodes,
//!    and run VERIFY REPLICA.
//!
//! `CHAOS_SEED`, `CHAOS_SECONDS` (and for `chaos_run`, `CHAOS_NODES`)
//! override the defaults; `CHAOS_WRITERS` sets the writers per node and
//! `CHAOS_LOG_MAX_EVENTS` the change log's cap (default
//! [`DEFAULT_LOG_MAX_EVENTS`], short, so pipes that fall behind resend
//! history and the Trim fault can bite; 0 keeps the server's default and
//! leaves Trim out); `CHAOS_TYPE_CHANGES=0` makes a series dropped and
//! made again keep DOUBLE (by default it takes INT64 or DOUBLE, so type
//! conflicts meet drops). `sbin/chaos.sh` runs longer ones.

mod checker;
mod cluster;
mod ledger;
mod nemesis;
mod rng;
mod workload;

use cluster::{name, Cluster};
use ledger::{Entry, Outcome, Tally};
use nemesis::{History, Kind, Schedule, KINDS};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use workload::{Workload, Writer};

/// The change log's cap in events unless `CHAOS_LOG_MAX_EVENTS` says
/// otherwise: a few seconds of a run's writes.
const DEFAULT_LOG_MAX_EVENTS: u64 = 3_000;

/// Runs share two cores: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn chaos_short_two_nodes() {
    run(Params::from_env(2, 20_250_101, 20));
}

#[test]
fn chaos_short_three_nodes() {
    run(Params::from_env(3, 20_250_102, 20));
}

/// What `sbin/chaos.sh` runs: nodes, seed and seconds from the environment.
#[test]
#[ignore = "a long randomized run; sbin/chaos.sh --seed S --seconds N --nodes 2|3"]
fn chaos_run() {
    let nodes = env_u64("CHAOS_NODES").unwrap_or(2) as usize;
    run(Params::from_env(nodes, 1, 60));
}

struct Params {
    nodes: usize,
    seed: u64,
    seconds: u64,
    workload: Workload,
    log_max_events: Option<u64>,
}

impl Params {
    fn from_env(nodes: usize, seed: u64, seconds: u64) -> Params {
        let mut workload = Workload::light();
        if let Some(w) = env_u64("CHAOS_WRITERS") {
            workload.writers_per_node = w as u32;
        }
        workload.type_changes = env_u64("CHAOS_TYPE_CHANGES") != Some(0);
        Params {
            nodes,
            seed: env_u64("CHAOS_SEED").unwrap_or(seed),
            seconds: env_u64("CHAOS_SECONDS").unwrap_or(seconds),
            workload,
            log_max_events: match env_u64("CHAOS_LOG_MAX_EVENTS") {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(DEFAULT_LOG_MAX_EVENTS),
            },
        }
    }

    /// The command that runs this again.
    fn replay(&self) -> String {
        let mut cmd = format!(
            "sbin/chaos.sh --seed {} --seconds {} --nodes {} --writers {}",
            self.seed, self.seconds, self.nodes, self.workload.writers_per_node
        );
        cmd.push_str(&format!(
            " --log-max-events {}",
            self.log_max_events.unwrap_or(0)
        ));
        if !self.workload.type_changes {
            cmd = format!("CHAOS_TYPE_CHANGES=0 {cmd}");
        }
        cmd
    }
}

fn env_u64(key: &str) -> Option<u64> {
    let v = std::env::var(key).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{key}={v:?} is not a number")),
    )
}

fn run(p: Params) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let mut history = History::new(started);
    history.note(format!(
        "seed {} nodes {} faults for {} s, {} writers per node, change log {}",
        p.seed,
        p.nodes,
        p.seconds,
        p.workload.writers_per_node,
        p.log_max_events
            .map_or("as configured by default".into(), |n| format!(
                "capped at {n} events"
            ))
    ));

    // 1. The mesh.
    let mut cluster = Cluster::start(p.nodes, p.log_max_events);
    history.note(format!(
        "{} nodes and {} pipes running",
        p.nodes,
        cluster.links.len()
    ));

    // 2. The writers.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for node in 0..p.nodes {
        for k in 0..p.workload.writers_per_node {
            let writer = Writer {
                id: 1 + node as u32 * p.workload.writers_per_node + k,
                node,
                port: cluster.nodes[node].rpc.port(),
                seed: p.seed,
                started,
                stop: stop.clone(),
            };
            writers.push(writer.spawn(p.workload.clone()));
        }
    }

    // 3. The faults.
    let kinds: Vec<Kind> = KINDS
        .iter()
        .copied()
        .filter(|k| *k != Kind::Trim || p.log_max_events.is_some())
        .collect();
    let mut schedule = Schedule::new(p.seed, p.nodes, cluster.links.len(), &kinds);
    let faults = catch_unwind(AssertUnwindSafe(|| {
        nemesis::run(
            &mut cluster,
            &mut schedule,
            Duration::from_secs(p.seconds),
            &mut history,
        )
    }));

    // 4. Quiet.
    stop.store(true, Ordering::Relaxed);
    let mut entries: Vec<Entry> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for w in writers {
        let r = w
            .join()
            .unwrap_or_else(|e| panic!("seed {}: a writer failed: {}", p.seed, panic_text(&e)));
        entries.extend(r.entries);
        for e in r.errors {
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
    }
    entries.sort_by_key(|e| e.sent_ms);
    let tally = Tally::of(&entries);
    history.apply_windows(&mut entries);
    let undone = Tally::of(&entries).get("insert", Outcome::Unknown).0
        - tally.get("insert", Outcome::Unknown).0;
    let ctx = Context {
        seed: p.seed,
        replay: p.replay(),
    };
    if let Err(e) = faults {
        ctx.fail(
            &mut cluster,
            &history,
            &format!("a fault step failed: {}", panic_text(&e)),
        );
    }
    history.note("writers stopped; healing every link and pipe".into());
    cluster.heal();
    if let Err(e) = catch_unwind(AssertUnwindSafe(|| {
        cluster.wait_quiet(Duration::from_secs(120))
    })) {
        let first = cluster.pipe_metrics();
        // Diagnostics only: does anything still move?
        std::thread::sleep(Duration::from_secs(5));
        let then = cluster.pipe_metrics();
        let what = format!(
            "replication did not settle: {}\npipe metrics, then 5 s later:\n{first}\n{then}",
            panic_text(&e)
        );
        ctx.fail(&mut cluster, &history, &what);
    }
    history.note("replication is quiet; checking".into());

    // 5. The check.
    let mut dumps = Vec::new();
    for i in 0..p.nodes {
        match cluster.dump(i) {
            Ok(d) => dumps.push(d),
            Err(e) => ctx.fail(&mut cluster, &history, &format!("dump of {}: {e}", name(i))),
        }
    }
    let report = checker::check(&entries, &dumps);
    let verify = cluster.verify_replica();
    let history_transfers = cluster.history_transfers();
    let conflicts = cluster.conflicts_logged();

    let passed = report.passed() && verify.is_empty();
    eprintln!(
        "{}",
        Summary {
            p: &p,
            took: started.elapsed(),
            history: &history,
            tally: &tally,
            report: &report,
            history_transfers,
            conflicts,
            undone,
            errors: &errors,
            passed,
        }
    );
    if !passed {
        let mut text = report.render(&entries, &dumps);
        for v in verify.iter().take(10) {
            text.push_str(&format!("  - {v}\n"));
        }
        ctx.fail(&mut cluster, &history, &text);
    }
    assert!(
        tally.get("insert", Outcome::Acked).0 > 0 && report.acked_keys > 0,
        "seed {}: nothing was acknowledged, nothing was checked",
        p.seed
    );
}

struct Context {
    seed: u64,
    replay: String,
}

impl Context {
    /// Panics with everything needed to understand and replay the run; the
    /// nodes are stopped and their logs kept on disk.
    fn fail(&self, cluster: &mut Cluster, history: &History, what: &str) -> ! {
        let dir =
            std::env::temp_dir().join(format!("duet-chaos-{}-{}", self.seed, std::process::id()));
        cluster.save_logs(&dir);
        panic!(
            "chaos run failed: seed {} (replay: {})\n{what}\nfault history:\n  {}\nnode logs: {}",
            self.seed,
            self.replay,
            history.lines.join("\n  "),
            dir.display()
        );
    }
}

/// The closing summary of a run.
struct Summary<'a> {
    p: &'a Params,
    took: Duration,
    history: &'a History,
    tally: &'a Tally,
    report: &'a checker::Report,
    history_transfers: f64,
    /// Conflict records on all nodes (SHOW CONFLICTS).
    conflicts: f64,
    /// Acknowledged inserts a restore from backup may have undone.
    undone: u64,
    errors: &'a [String],
    passed: bool,
}

impl std::fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (p, h, r) = (self.p, self.history, self.report);
        let count = |kind, o| self.tally.get(kind, o);
        let kinds: Vec<String> = h
            .by_kind
            .iter()
            .map(|(k, n)| format!("{k:?} {n}"))
            .collect();
        writeln!(
            f,
            "chaos summary: seed {} | {} nodes | {} s of faults, {:.1} s in all",
            p.seed,
            p.nodes,
            p.seconds,
            self.took.as_secs_f64()
        )?;
        writeln!(
            f,
            "  faults injected: {} ({})",
            h.by_kind.values().sum::<u32>(),
            kinds.join(", ")
        )?;
        writeln!(
            f,
            "  inserts (statements, points): acked {:?}, unknown {:?}, failed {:?}",
            count("insert", Outcome::Acked),
            count("insert", Outcome::Unknown),
            count("insert", Outcome::Failed)
        )?;
        writeln!(
            f,
            "  deletes: acked {}, unknown {}, failed {}",
            count("delete", Outcome::Acked).0,
            count("delete", Outcome::Unknown).0,
            count("delete", Outcome::Failed).0
        )?;
        writeln!(
            f,
            "  schema changes (drop series or database): acked {}, unknown {}, failed {}",
            count("drop", Outcome::Acked).0,
            count("drop", Outcome::Unknown).0,
            count("drop", Outcome::Failed).0
        )?;
        writeln!(
            f,
            "  acknowledged inserts a restore from backup may undo: {}; clock offsets applied: {:?}",
            self.undone,
            h.skew_windows.iter().map(|w| w.2).collect::<Vec<_>>()
        )?;
        writeln!(
            f,
            "  checked: {} acknowledged keys present ({} with their exact value), {} stored points",
            r.acked_keys, r.exact_keys, r.stored_points
        )?;
        writeln!(
            f,
            "  history transfers (pipes' counters since their last start): {}; conflicts logged: {}",
            self.history_transfers, self.conflicts
        )?;
        writeln!(
            f,
            "  error replies seen: {:?}",
            &self.errors[..self.errors.len().min(5)]
        )?;
        write!(f, "  result: {}", if self.passed { "PASS" } else { "FAIL" })
    }
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

//! `duet-bench`: end-to-end load against running Duet nodes, over the same
//! client protocol (Thrift RPC, `duet_rpc::client`) applications use. Start a
//! local pair with `sbin/start-pair.sh` (A on :6667, B on :6668, pipes AB and
//! BA running) and build with
//! `source scripts/env.sh && cargo build -p duet-bench --bin duet-bench`.
//!
//! - `ingest`: `--threads` sessions write tablets (`--rows-per-tablet` rows of
//!   `--sensors` DOUBLE measurements) round-robin over `--devices` devices
//!   `root.bench.ingest.d<i>` for `--seconds`, as fast as the node accepts
//!   them; prints points/s and the latency of one `insertTablet`. Each run
//!   starts after the newest existing timestamp, so runs never overwrite.
//! - `lag`: first one unmeasured point that B must show (so a replication
//!   backlog left by an earlier run is not measured). Then one thread writes
//!   point i (timestamp base+i, value i) to `root.bench.lag.v` on A at a
//!   paced `--rate` points/s, noting when it sent it; another polls B with no
//!   pause for the points not seen yet (`select v from root.bench.lag where
//!   time >= base+seen`), and when the newest visible index moves to k, every
//!   unseen point up to k gets the sample "reply time - its send time"
//!   (pipes deliver in order). Prints replication lag p50/p90/p99/max from
//!   the client's send on A to visible on B, so it includes A's write latency
//!   and up to one poll of B (both printed). The poll reads only unseen
//!   points: `select last` reads more and gets slower as a series grows.
//! - `catchup`: B must be down. Writes `--points` points to
//!   `root.bench.catchup.v` on A as fast as possible (or `--rate` points/s
//!   for `--outage-seconds`), asks the operator to restart B (or runs
//!   `--b-start-cmd`), waits for B to answer, then polls
//!   `select count(v) from root.bench.catchup` on B until it matches A.
//!   Prints catch-up points/s from B's first answer, and from the first
//!   replicated point (which leaves out the pipe's reconnect backoff).
//!
//! - `all`: every figure of the README's Performance table in one run,
//!   printed as one JSON object; starts its own local pair unless given
//!   `--a`/`--b` (see `all.rs`): `duet-bench all --json [--seconds N]`.
//!
//! Every wait has a deadline; an unreachable node, a failed write or a
//! missed deadline ends the run with a message and exit code 1.
//!
//! The README figures: dev profile, a fresh pair (`rm -rf data/a data/b`,
//! `sbin/start-pair.sh`), the binary at `$CARGO_TARGET_DIR/debug/duet-bench`,
//! run from the project root in this order:
//!
//! ```text
//! duet-bench ingest --host 127.0.0.1:6667 --devices 10 --sensors 10 \
//!     --rows-per-tablet 1000 --seconds 10 --threads 4
//! duet-bench lag --a 127.0.0.1:6667 --b 127.0.0.1:6668 --rate 200 --seconds 20
//! sbin/stop-standalone.sh -c conf/pair-b.toml
//! duet-bench catchup --a 127.0.0.1:6667 --b 127.0.0.1:6668 --points 100000 \
//!     --b-start-cmd "sbin/start-standalone.sh -c conf/pair-b.toml"
//! sbin/stop-pair.sh
//! ```

mod all;

use std::fmt::Display;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use duet_rpc::client::{parse_hosts, ClientError, Field, Outcome, Session, SessionConfig};
use duet_rpc::column::{Column, Value};
use duet_rpc::insert::Tablet;

/// Errors are messages for the operator; `main` prints them and exits 1.
type Result<T, E = String> = std::result::Result<T, E>;

/// Adds what was being done to an error.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| format!("{}: {e}", what()))
    }
}

/// End-to-end load generator for Duet nodes (see the subcommands).
#[derive(Parser)]
#[command(name = "duet-bench", version)]
struct Cli {
    #[arg(long, global = true, default_value = "root")]
    user: String,
    #[arg(long, global = true, default_value = "root")]
    password: String,
    /// Seconds one request may take before the node counts as unreachable.
    #[arg(long, global = true, default_value_t = 30)]
    request_timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write tablets as fast as possible; report points/s.
    Ingest(IngestArgs),
    /// Write paced points to A; report how long each takes to be visible on B.
    Lag(LagArgs),
    /// With B down, write to A; restart B; report how fast B catches up.
    Catchup(CatchupArgs),
    /// Every figure of the README's Performance table in one run, as JSON
    /// (starts its own local pair unless given --a and --b).
    All(all::AllArgs),
}

#[derive(Args)]
struct IngestArgs {
    #[arg(long, default_value = "127.0.0.1:6667")]
    host: String,
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    devices: u32,
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    sensors: u32,
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    rows_per_tablet: u32,
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Sessions writing at once (at most one per device).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    threads: u32,
}

#[derive(Args)]
struct LagArgs {
    #[arg(long, default_value = "127.0.0.1:6667")]
    a: String,
    #[arg(long, default_value = "127.0.0.1:6668")]
    b: String,
    /// Points per second written to A.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// How long B may take to show the last point after writing stops.
    #[arg(long, default_value_t = 30)]
    drain_seconds: u64,
}

#[derive(Args)]
struct CatchupArgs {
    #[arg(long, default_value = "127.0.0.1:6667")]
    a: String,
    #[arg(long, default_value = "127.0.0.1:6668")]
    b: String,
    /// Points to write as fast as possible while B is down.
    #[arg(long, default_value_t = 100_000, conflicts_with_all = ["outage_seconds", "rate"])]
    points: u64,
    /// Write for this long at `--rate` instead of `--points` at full speed.
    #[arg(long, requires = "rate")]
    outage_seconds: Option<u64>,
    /// Points per second during `--outage-seconds`.
    #[arg(long, requires = "outage_seconds", value_parser = clap::value_parser!(u64).range(1..))]
    rate: Option<u64>,
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    rows_per_tablet: u32,
    /// Run this shell command (from the current directory) to start B,
    /// instead of asking the operator to.
    #[arg(long)]
    b_start_cmd: Option<String>,
    /// How long to wait for B to answer after the writes.
    #[arg(long, default_value_t = 300)]
    wait_seconds: u64,
    /// How long B may take to hold every point once it answers.
    #[arg(long, default_value_t = 600)]
    catchup_seconds: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let conn = Connector {
        user: cli.user.clone(),
        password: cli.password.clone(),
        request_timeout: Duration::from_secs(cli.request_timeout.max(1)),
    };
    let result = match &cli.command {
        Command::Ingest(args) => ingest(&conn, args),
        Command::Lag(args) => lag(&conn, args),
        Command::Catchup(args) => catchup(&conn, args),
        Command::All(args) => all::all(&conn, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("duet-bench: error: {message}");
            ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------------ helpers

/// Opens sessions with the command-line credentials.
struct Connector {
    user: String,
    password: String,
    request_timeout: Duration,
}

impl Connector {
    fn config(&self, addr: &str) -> Result<SessionConfig> {
        let hosts = parse_hosts(addr, 6667).context(|| format!("bad address {addr:?}"))?;
        Ok(SessionConfig {
            hosts,
            user: self.user.clone(),
            password: self.password.clone(),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Some(self.request_timeout),
            ..SessionConfig::default()
        })
    }

    fn open(&self, addr: &str) -> Result<Session> {
        Session::open(self.config(addr)?).context(|| {
            format!("cannot reach the node at {addr} (is it running? sbin/start-pair.sh)")
        })
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// All rows of a query (none for a statement without a result set).
fn query(session: &mut Session, sql: &str) -> Result<Vec<Vec<Field>>, ClientError> {
    match session.execute(sql)? {
        Outcome::Done => Ok(Vec::new()),
        Outcome::Rows(rows) => rows.collect(),
    }
}

/// The time of `select last <m> from <device>`, `None` if it has no point.
fn last_time(session: &mut Session, device: &str, m: &str) -> Result<Option<i64>, ClientError> {
    let rows = query(session, &format!("select last {m} from {device}"))?;
    Ok(rows.iter().filter_map(|r| as_i64(r.first()?)).max())
}

/// `select count(<m>) from <device>`; 0 if the series does not exist.
fn count(session: &mut Session, device: &str, m: &str) -> Result<u64, ClientError> {
    let rows = query(session, &format!("select count({m}) from {device}"))?;
    let n = rows.first().and_then(|r| as_i64(r.last()?)).unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

fn as_i64(field: &Field) -> Option<i64> {
    match field {
        Field::I64(x) => Some(*x),
        Field::I32(x) => Some(i64::from(*x)),
        Field::Text(s) => s.parse().ok(),
        _ => None,
    }
}

/// A timestamp after every point of `device` on `session`'s node, and not
/// before now (so runs neither overwrite nor mix with earlier ones).
fn fresh_base(session: &mut Session, device: &str, m: &str) -> Result<i64, ClientError> {
    let last = last_time(session, device, m)?;
    Ok(last.map_or(now_ms(), |t| t.saturating_add(1).max(now_ms())))
}

/// Sleeps until `start + due`; the last millisecond is spun, so pacing is
/// accurate to well under a millisecond.
fn pace(start: Instant, due: Duration) {
    loop {
        let now = start.elapsed();
        let Some(left) = due.checked_sub(now).filter(|l| !l.is_zero()) else {
            return;
        };
        if left > Duration::from_millis(2) {
            thread::sleep(left - Duration::from_millis(1));
        } else {
            thread::yield_now();
        }
    }
}

/// "p50 … max" of durations in milliseconds.
fn summary(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".to_string();
    }
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1e3
    };
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        samples.len()
    )
}

/// A one-column DOUBLE tablet of points `first..first+n` (value = index).
fn index_tablet(base: i64, first: u64, n: u64) -> Tablet {
    let idx = first..first + n;
    Tablet {
        timestamps: idx.clone().map(|i| base + i as i64).collect(),
        columns: vec![Column::F64(idx.map(|i| Some(i as f64)).collect())],
    }
}

// ------------------------------------------------------------------- ingest

fn ingest(conn: &Connector, args: &IngestArgs) -> Result<()> {
    let threads = args.threads.min(args.devices);
    let measurements: Vec<String> = (0..args.sensors).map(|s| format!("s{s}")).collect();
    let mut probe = conn.open(&args.host)?;
    let base = fresh_base(&mut probe, "root.bench.ingest.*", "s0")
        .context(|| format!("reading the newest point on {}", args.host))?;
    drop(probe);
    println!(
        "ingest into {}: {} devices x {} sensors, {} rows per tablet, {} threads, {} s",
        args.host, args.devices, args.sensors, args.rows_per_tablet, threads, args.seconds
    );

    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let results: Vec<Tally> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (stop, failure, measurements) = (&stop, &failure, &measurements);
                let devices: Vec<u32> = (t..args.devices).step_by(threads as usize).collect();
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    let job = IngestJob {
                        base,
                        devices,
                        measurements,
                        deadline,
                        stop,
                    };
                    if let Err(e) = ingest_worker(conn, args, &job, &mut tally) {
                        stop.store(true, Ordering::Relaxed);
                        if let Ok(mut first) = failure.lock() {
                            first.get_or_insert(e);
                        }
                    }
                    tally
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let elapsed = start.elapsed();
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let points: u64 = results.iter().map(|t| t.points).sum();
    let mut latencies: Vec<Duration> = results.into_iter().flat_map(|t| t.latencies).collect();
    let secs = elapsed.as_secs_f64();
    println!(
        "{points} points in {secs:.2} s: {:.0} points/s ({:.0} rows/s, {} tablets)",
        points as f64 / secs,
        points as f64 / secs / f64::from(args.sensors),
        latencies.len()
    );
    println!("insertTablet latency: {}", summary(&mut latencies));
    Ok(())
}

/// What one ingest thread did.
#[derive(Default)]
struct Tally {
    points: u64,
    latencies: Vec<Duration>,
}

/// One ingest thread's share: its devices, where their rows start, and
/// when to stop.
struct IngestJob<'a> {
    base: i64,
    devices: Vec<u32>,
    measurements: &'a [String],
    deadline: Instant,
    stop: &'a AtomicBool,
}

fn ingest_worker(
    conn: &Connector,
    args: &IngestArgs,
    job: &IngestJob<'_>,
    tally: &mut Tally,
) -> Result<()> {
    let mut session = conn.open(&args.host)?;
    let rows = args.rows_per_tablet as usize;
    // The same values every time (they differ per sensor); only the
    // timestamps move on.
    let columns: Vec<Column> = (0..args.sensors as usize)
        .map(|s| Column::F64((0..rows).map(|r| Some((r + s) as f64)).collect()))
        .collect();
    let mut next_row = vec![0i64; job.devices.len()];
    loop {
        for (k, d) in job.devices.iter().enumerate() {
            if job.stop.load(Ordering::Relaxed) || Instant::now() >= job.deadline {
                return Ok(());
            }
            let t0 = job.base + next_row[k];
            let tablet = Tablet {
                timestamps: (t0..t0 + rows as i64).collect(),
                columns: columns.clone(),
            };
            let device = format!("root.bench.ingest.d{d}");
            let sent = Instant::now();
            session
                .insert_tablet(&device, job.measurements, &tablet)
                .context(|| format!("insertTablet into {device} on {}", args.host))?;
            tally.latencies.push(sent.elapsed());
            tally.points += rows as u64 * u64::from(args.sensors);
            next_row[k] += rows as i64;
        }
    }
}

// ---------------------------------------------------------------------- lag

const LAG_DEVICE: &str = "root.bench.lag";

fn lag(conn: &Connector, args: &LagArgs) -> Result<()> {
    let mut writer = conn.open(&args.a)?;
    let mut poller = conn.open(&args.b)?;
    // Past every point either node already has, so the poll of B only
    // sees this run's points.
    let base_a =
        fresh_base(&mut writer, LAG_DEVICE, "v").context(|| format!("query {}", args.a))?;
    let base_b =
        fresh_base(&mut poller, LAG_DEVICE, "v").context(|| format!("query {}", args.b))?;
    let barrier = base_a.max(base_b);
    // A first point, not measured: once B shows it, B has applied whatever
    // A still had to send (say, an ingest run) and knows the series.
    writer
        .insert_record(LAG_DEVICE, barrier, &["v"], &[Value::F64(-1.0)])
        .context(|| format!("insertRecord on {}", args.a))?;
    let deadline = Instant::now() + Duration::from_secs(args.drain_seconds);
    while newest_since(&mut poller, barrier)
        .context(|| format!("polling {}", args.b))?
        .is_none()
    {
        if Instant::now() >= deadline {
            return Err(format!(
                "a point written to {} is not on {} after {} s (is pipe AB running? \
                 show pipes on A)",
                args.a, args.b, args.drain_seconds
            ));
        }
        thread::sleep(Duration::from_millis(1));
    }
    let base = barrier + 1;
    let rate = u64::from(args.rate);
    let n = rate * args.seconds;
    println!(
        "lag {} -> {}: {n} points at {} points/s over {} s",
        args.a, args.b, args.rate, args.seconds
    );

    // Send time of point i in ns since `start`, plus 1 (0 = not sent yet).
    let sent: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    // Points acknowledged by A; final once `writer_done` is set.
    let written = AtomicU64::new(0);
    let writer_done = AtomicBool::new(false);
    let start = Instant::now();
    let since_start = |at: Instant| at.duration_since(start).as_nanos() as u64 + 1;

    let (write_result, poll_result) = thread::scope(|scope| {
        let (sent, written, writer_done) = (&sent, &written, &writer_done);
        let write = scope.spawn(move || -> Result<Vec<Duration>> {
            let mut latencies = Vec::with_capacity(n as usize);
            let result = (0..n).try_for_each(|i| {
                pace(start, Duration::from_nanos(i * 1_000_000_000 / rate));
                let at = Instant::now();
                sent[i as usize].store(since_start(at), Ordering::Release);
                let value = [Value::F64(i as f64)];
                writer
                    .insert_record(LAG_DEVICE, base + i as i64, &["v"], &value)
                    .context(|| format!("insertRecord on {} (point {i})", args.a))?;
                latencies.push(at.elapsed());
                written.store(i + 1, Ordering::Release);
                Ok(())
            });
            writer_done.store(true, Ordering::Release);
            result.map(|()| latencies)
        });
        let poll = scope.spawn(move || -> Result<(Vec<Duration>, Vec<Duration>)> {
            let mut lags = Vec::with_capacity(n as usize);
            let mut polls = Vec::new();
            let mut seen = 0u64; // points 0..seen are visible on B
            let mut drain_deadline = None;
            while seen < n {
                let asked = Instant::now();
                let newest = newest_since(&mut poller, base + seen as i64)
                    .context(|| format!("polling {}", args.b))?;
                polls.push(asked.elapsed());
                let now = since_start(Instant::now());
                if let Some(t) = newest.filter(|&t| t >= base) {
                    let visible = ((t - base) as u64 + 1).min(n);
                    for j in seen..visible {
                        let s = sent[j as usize].load(Ordering::Acquire);
                        lags.push(Duration::from_nanos(now.saturating_sub(s)));
                    }
                    seen = seen.max(visible);
                }
                if writer_done.load(Ordering::Acquire) {
                    if seen >= written.load(Ordering::Acquire) {
                        break; // the writer failed early; it reports why
                    }
                    let d = *drain_deadline.get_or_insert_with(|| {
                        Instant::now() + Duration::from_secs(args.drain_seconds)
                    });
                    if Instant::now() >= d {
                        return Err(format!(
                            "only {seen} of {n} points visible on {} {} s after the last write \
                             (is pipe AB running? show pipes on A)",
                            args.b, args.drain_seconds
                        ));
                    }
                }
            }
            Ok((lags, polls))
        });
        (write.join(), poll.join())
    });
    let mut write_latency = write_result.map_err(|_| "writer thread panicked".to_string())??;
    let (mut lags, mut polls) = poll_result.map_err(|_| "poller thread panicked".to_string())??;
    println!("write latency on A: {}", summary(&mut write_latency));
    println!("poll of B (resolution of the lag): {}", summary(&mut polls));
    println!("replication lag A -> B: {}", summary(&mut lags));
    Ok(())
}

/// The newest time of `root.bench.lag.v` at or after `from`, reading only
/// those points (`select last` costs more, see the module docs).
fn newest_since(session: &mut Session, from: i64) -> Result<Option<i64>, ClientError> {
    let sql = format!("select v from {LAG_DEVICE} where time >= {from}");
    let rows = query(session, &sql)?;
    Ok(rows.iter().filter_map(|row| as_i64(row.first()?)).max())
}

// ------------------------------------------------------------------ catchup

const CATCHUP_DEVICE: &str = "root.bench.catchup";

fn catchup(conn: &Connector, args: &CatchupArgs) -> Result<()> {
    let mut a = conn.open(&args.a)?;
    match Session::open(conn.config(&args.b)?) {
        Err(e) if e.is_transport() => {} // down, as it should be
        Err(e) => return Err(format!("B ({}) answers but refuses a session: {e}", args.b)),
        Ok(_) => {
            return Err(format!(
                "B ({}) is up; stop it first (e.g. sbin/stop-standalone.sh -c conf/pair-b.toml)",
                args.b
            ))
        }
    }
    let base = fresh_base(&mut a, CATCHUP_DEVICE, "v").context(|| format!("query {}", args.a))?;
    let (n, rate) = match (args.outage_seconds, args.rate) {
        (Some(s), Some(r)) => (s * r, Some(r)),
        _ => (args.points, None),
    };
    // Paced writes go in tablets of about 10 ms worth of points.
    let per_tablet = match rate {
        Some(r) => (r / 100).clamp(1, u64::from(args.rows_per_tablet)),
        None => u64::from(args.rows_per_tablet),
    };
    let start = Instant::now();
    let mut first = 0;
    while first < n {
        let len = per_tablet.min(n - first);
        if let Some(r) = rate {
            pace(start, Duration::from_secs_f64(first as f64 / r as f64));
        }
        a.insert_tablet(CATCHUP_DEVICE, &["v"], &index_tablet(base, first, len))
            .context(|| format!("insertTablet on {}", args.a))?;
        first += len;
    }
    let write_secs = start.elapsed().as_secs_f64();
    let target = count(&mut a, CATCHUP_DEVICE, "v").context(|| format!("count on {}", args.a))?;
    println!(
        "wrote {n} points to A in {write_secs:.2} s ({:.0} points/s); A holds {target}",
        n as f64 / write_secs
    );

    match &args.b_start_cmd {
        Some(cmd) => {
            println!("starting B: {cmd}");
            let status = std::process::Command::new("sh")
                .args(["-c", cmd])
                .status()
                .context(|| format!("running {cmd:?}"))?;
            if !status.success() {
                return Err(format!("{cmd:?} failed ({status})"));
            }
        }
        None => println!("restart B now (e.g. sbin/start-standalone.sh -c conf/pair-b.toml)"),
    }
    let wait_deadline = Instant::now() + Duration::from_secs(args.wait_seconds);
    let mut b = loop {
        match Session::open(conn.config(&args.b)?) {
            Ok(session) => break session,
            Err(e) if e.is_transport() && Instant::now() < wait_deadline => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(format!(
                    "B ({}) did not answer within {} s: {e}",
                    args.b, args.wait_seconds
                ));
            }
        }
    };
    let up = Instant::now();
    let count_b =
        |b: &mut Session| count(b, CATCHUP_DEVICE, "v").context(|| format!("count on {}", args.b));
    let at_up = count_b(&mut b)?;
    println!("B answers; it holds {at_up} of {target} points");

    let deadline = up + Duration::from_secs(args.catchup_seconds);
    // The last poll that found nothing new: replication started after it.
    let mut idle_until = up;
    let mut held = at_up;
    while held < target {
        if Instant::now() >= deadline {
            return Err(format!(
                "B holds {held} of {target} points {} s after it answered",
                args.catchup_seconds
            ));
        }
        thread::sleep(Duration::from_millis(5));
        let asked = Instant::now();
        held = count_b(&mut b)?;
        if held == at_up {
            idle_until = asked;
        }
    }
    let done = up.elapsed();
    let moved = (target - at_up) as f64;
    let streaming = done - idle_until.duration_since(up);
    println!(
        "B caught up {moved} points in {:.2} s from answering: {:.0} points/s",
        done.as_secs_f64(),
        moved / done.as_secs_f64()
    );
    println!(
        "of which {:.2} s before the first point arrived (pipe reconnect); \
         then {:.0} points/s over {:.3} s",
        idle_until.duration_since(up).as_secs_f64(),
        moved / streaming.as_secs_f64(),
        streaming.as_secs_f64()
    );
    Ok(())
}

//! `duet-bench all`: every end-to-end figure of the README's Performance
//! table in one run, with default settings and 1 kHz series, printed as one
//! JSON object (progress goes to stderr).
//!
//! Without `--a`/`--b` it starts its own pair: two `duet-server` processes
//! (the binary next to `duet-bench`) on fresh temporary directories and
//! free ports, pipes AB and BA as the deployment guide makes them, and
//! stops them at the end. Each measurement starts once the local servers
//! are idle (the flushes and compactions the one before left are done), so
//! each figure is of the load it names. Each figure:
//!
//! - `rocksdb_points_per_s`: raw RocksDB in this process, the same points
//!   as `ingest` (1 000-point values, one per series per tablet, one
//!   WriteBatch per tablet): what the engine is measured against.
//! - `ingest_points_per_s`: one connection writing 1 000-row tablets of 10
//!   DOUBLE sensors at 1 kHz, round robin over 10 devices, for `--seconds`.
//! - `replication_ratio_one_writer`: that ingest's duration over the time
//!   from its start until B holds every point (1.0: B kept pace).
//! - `replication_ratio_both_writers`: the same with A and B each ingesting
//!   flat out (other devices), until each holds the other's points.
//! - `lag_p50_ms`/`lag_p99_ms` at 78 000 rows/s, and `lag50_p50_ms`/
//!   `lag50_p99_ms` at half the measured ingest rate: one series written in
//!   tablets every 10 ms; a tablet's lag is from its send on A until its
//!   last row is visible on B (polled with no pause).
//! - `catchup_ratio`: with pipe AB stopped, A ingests for `--seconds`; then
//!   START PIPE AB; the rate B receives at over the ingest rate.
//! - `dual_read_ratio`: on A, 400 reads of one second of a 1 kHz series
//!   (`SELECT s0 ... WHERE time >= t AND time < t + 1000`, 1 000 points,
//!   spread over the ingest's data), each made single and then with `SET
//!   READ_MODE = DUAL` (alternating): the ratio of the median latencies
//!   (`single_read_p50_ms`, `dual_read_p50_ms`).
//! - `rss_peak_mib`: the larger peak RSS of the two servers (local pair).
//! - `sync_async_ratio`: sixteen connections on A, each writing 100-row
//!   tablets of 10 sensors at 1 kHz into its own device for `--seconds`,
//!   first in the default (asynchronous) write mode, then synchronous
//!   (`SET REPLICATION MAX_PENDING_BYTES = 0`: each write returns once B
//!   has it); the synchronous points/s over the asynchronous
//!   (`writers16_async_points_per_s`, `writers16_sync_points_per_s`).

use super::*;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};

#[derive(Args)]
pub struct AllArgs {
    /// Print the figures as one JSON object (the only output format).
    #[arg(long)]
    json: bool,
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// A running node A (with pipe AB); with `--b`, no local pair starts.
    #[arg(long, requires = "b")]
    a: Option<String>,
    #[arg(long, requires = "a")]
    b: Option<String>,
    /// The server binary for a local pair (default: next to duet-bench).
    #[arg(long)]
    server: Option<PathBuf>,
}

/// A node this run started.
struct Server {
    child: Child,
    rpc: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(bin: &std::path::Path) -> Result<Server> {
        let dir = tempfile::tempdir().context(|| "a temporary directory".into())?;
        let mut child = Process::new(bin)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args([
                "--rpc-address",
                "127.0.0.1",
                "--rpc-port",
                "0",
                "--http-port",
                "0",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("READY ") => break l,
                Some(Ok(_)) => continue,
                _ => {
                    let _ = child.kill();
                    return Err(format!("{} exited before it was ready", bin.display()));
                }
            }
        };
        // Keep draining stdout so the server never blocks on it.
        thread::spawn(move || lines.for_each(drop));
        let rpc = ready
            .split_whitespace()
            .find_map(|f| f.strip_prefix("rpc="))
            .ok_or_else(|| format!("no rpc= in {ready:?}"))?
            .to_string();
        Ok(Server {
            child,
            rpc,
            _dir: dir,
        })
    }

    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }
}

/// CPU time (user + system, in clock ticks) a process has used.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (in parentheses, which may hold spaces):
    // state is field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Waits (up to a minute) until the local servers are idle: the flushes
/// and compactions the previous measurement left behind are done, so each
/// figure is of the load it names. Nodes given with --a/--b are not waited
/// for.
fn settle(servers: &[Server]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    while Instant::now() < deadline {
        let before: Vec<Option<u64>> = pids.iter().map(|&p| cpu_ticks(p)).collect();
        thread::sleep(Duration::from_millis(500));
        let busy = pids.iter().zip(&before).any(|(&p, b)| {
            // More than 5 % of a core (ticks are 10 ms).
            matches!((b, cpu_ticks(p)), (Some(b), Some(a)) if a.saturating_sub(*b) > 2)
        });
        if !busy {
            return;
        }
    }
    say("the servers are still busy after a minute; measuring anyway".to_string());
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pipe_sql(name: &str, peer: &str) -> Result<String> {
    let (ip, port) = peer
        .rsplit_once(':')
        .ok_or_else(|| format!("{peer} is not host:port"))?;
    Ok(format!(
        "CREATE PIPE {name} WITH SOURCE ('source.mode.double-living'='true') \
         WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='{ip}', 'sink.port'='{port}')"
    ))
}

fn exec(conn: &Connector, addr: &str, sql: &str) -> Result<()> {
    let mut s = conn.open(addr)?;
    query(&mut s, sql).context(|| format!("{sql} on {addr}"))?;
    Ok(())
}

const SENSORS: usize = 10;
const DEVICES: u32 = 10;
const ROWS: usize = 1_000;

/// The sensors' names and `rows` values of each, as a tablet's columns.
fn sensor_columns(rows: usize) -> (Vec<String>, Vec<Column>) {
    let names = (0..SENSORS).map(|k| format!("s{k}")).collect();
    let columns = (0..SENSORS)
        .map(|k| Column::F64((0..rows).map(|r| Some((r + k) as f64)).collect()))
        .collect();
    (names, columns)
}

/// One connection writing 1 000-row tablets of 10 sensors at 1 kHz into
/// `prefix.d0..d9` for `secs`, starting at `base`: (points, seconds).
fn flat_out(
    conn: &Connector,
    addr: &str,
    prefix: &str,
    base: i64,
    secs: u64,
) -> Result<(u64, f64)> {
    let mut s = conn.open(addr)?;
    let (names, columns) = sensor_columns(ROWS);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let (mut points, mut row) = (0u64, 0i64);
    while Instant::now() < deadline {
        for d in 0..DEVICES {
            let tablet = Tablet {
                timestamps: (base + row..base + row + ROWS as i64).collect(),
                columns: columns.clone(),
            };
            let device = format!("{prefix}.d{d}");
            s.insert_tablet(&device, &names, &tablet)
                .context(|| format!("insertTablet into {device} on {addr}"))?;
            points += (ROWS * SENSORS) as u64;
        }
        row += ROWS as i64;
    }
    Ok((points, start.elapsed().as_secs_f64()))
}

/// Waits until `addr` holds `expected` points in `prefix.d9.s9` (the last
/// series written); the time it took from `since`. It polls the series'
/// LAST point (cheap), as a pipe applies changes in order: once the last
/// row written shows, so do the ones before (one count then checks it).
/// Counting all points on every poll took a fifth of the receiver's CPU.
fn held_by(
    conn: &Connector,
    addr: &str,
    prefix: &str,
    expected: u64,
    since: Instant,
) -> Result<f64> {
    let mut s = conn.open(addr)?;
    let device = format!("{prefix}.d{}", DEVICES - 1);
    let sensor = format!("s{}", SENSORS - 1);
    let deadline = Instant::now() + Duration::from_secs(600);
    let last_row = expected as i64 - 1;
    loop {
        let rows = query(&mut s, &format!("select last {sensor} from {device}"))
            .context(|| format!("select last on {addr}"))?;
        let newest = rows.iter().filter_map(|r| as_i64(r.first()?)).max();
        let at = since.elapsed().as_secs_f64();
        let n = if newest.is_some_and(|t| t >= last_row) {
            count(&mut s, &device, &sensor).context(|| format!("count on {addr}"))?
        } else {
            0
        };
        if n >= expected {
            return Ok(at);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{addr} holds {n} of {expected} points of {device} after 600 s"
            ));
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// `n` connections, each writing 100-row tablets of 10 sensors at 1 kHz
/// into its own device under `prefix` for `secs`: points per second.
fn writers(conn: &Connector, addr: &str, prefix: &str, secs: u64, n: usize) -> Result<f64> {
    let (names, columns) = sensor_columns(100);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let results: Vec<Result<u64>> = thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|w| {
                let (names, columns) = (&names, &columns);
                s.spawn(move || -> Result<u64> {
                    let mut session = conn.open(addr)?;
                    let device = format!("{prefix}.w{w}");
                    let (mut points, mut row) = (0u64, 0i64);
                    while Instant::now() < deadline {
                        let tablet = Tablet {
                            timestamps: (row..row + 100).collect(),
                            columns: columns.clone(),
                        };
                        session
                            .insert_tablet(&device, names, &tablet)
                            .context(|| format!("insertTablet into {device} on {addr}"))?;
                        points += (100 * SENSORS) as u64;
                        row += 100;
                    }
                    Ok(points)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a writer panicked".into())))
            .collect()
    });
    let took = start.elapsed().as_secs_f64();
    let mut points = 0;
    for r in results {
        points += r?;
    }
    Ok(points as f64 / took)
}

/// Median latencies (ms) of one-second reads of `device`'s `s0` spread
/// over `rows` rows: (single, dual). The two modes alternate read by read
/// (each on its own session), so background work weighs on both alike.
fn read_p50s(conn: &Connector, addr: &str, device: &str, rows: u64) -> Result<(f64, f64)> {
    let mut single = conn.open(addr)?;
    let mut dual = conn.open(addr)?;
    query(&mut dual, "SET READ_MODE = DUAL").context(|| format!("SET READ_MODE on {addr}"))?;
    let n = 400u64;
    let step = (rows.saturating_sub(1000) / n).max(1);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..n {
        let t = (i * step) as i64;
        let sql = format!(
            "SELECT s0 FROM {device} WHERE time >= {t} AND time < {}",
            t + 1000
        );
        for (s, took) in [(&mut single, &mut a), (&mut dual, &mut b)] {
            let start = Instant::now();
            let got = query(s, &sql).context(|| format!("{sql} on {addr}"))?;
            took.push(start.elapsed().as_secs_f64() * 1000.0);
            if got.len() != 1000.min(rows as usize) {
                return Err(format!("{sql}: {} rows, expected 1000", got.len()));
            }
        }
    }
    let p50 = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok((p50(a), p50(b)))
}

/// Rows of the last series of an ingest of `points` points.
fn rows_of(points: u64) -> u64 {
    points / (SENSORS as u64 * u64::from(DEVICES))
}

/// Raw RocksDB: the ingest's points as 1 000-point values, one WriteBatch
/// per tablet, for `secs`: points/s.
fn rocksdb_points_per_s(secs: u64) -> Result<f64> {
    let dir = tempfile::tempdir().context(|| "a temporary directory".into())?;
    let mut o = rocksdb::Options::default();
    o.create_if_missing(true);
    o.increase_parallelism(2);
    o.set_compression_type(rocksdb::DBCompressionType::Lz4);
    let db = rocksdb::DB::open(&o, dir.path()).context(|| "opening raw RocksDB".into())?;
    let value: Vec<u8> = (0..ROWS as u64)
        .flat_map(|r| [r.to_le_bytes(), (r as f64).to_le_bytes()])
        .flatten()
        .collect();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let (mut points, mut t0) = (0u64, 0u64);
    while Instant::now() < deadline {
        let mut batch = rocksdb::WriteBatch::default();
        for series in 0..SENSORS as u64 {
            let mut k = [0u8; 16];
            k[..8].copy_from_slice(&series.to_be_bytes());
            k[8..].copy_from_slice(&t0.to_be_bytes());
            batch.put(k, &value);
        }
        db.write(batch).context(|| "raw RocksDB write".into())?;
        points += (ROWS * SENSORS) as u64;
        t0 += ROWS as u64;
    }
    Ok(points as f64 / start.elapsed().as_secs_f64())
}

/// One series written at `rows_per_s` in a tablet every 10 ms for `secs`;
/// the lag of each tablet from its send on A until B shows its last row:
/// (p50, p99) in ms.
fn lag_at(
    conn: &Connector,
    a: &str,
    b: &str,
    device: &str,
    rows_per_s: f64,
    secs: u64,
) -> Result<(f64, f64)> {
    let per_tablet = ((rows_per_s / 100.0).round() as u64).max(1);
    let tablets = secs * 100;
    let mut writer = conn.open(a)?;
    let mut poller = conn.open(b)?;
    let base = now_ms() * 1_000;
    let sent: Vec<AtomicU64> = (0..tablets).map(|_| AtomicU64::new(0)).collect();
    let done = AtomicBool::new(false);
    let start = Instant::now();
    let (w, p) = thread::scope(|scope| {
        let (sent, done) = (&sent, &done);
        let w = scope.spawn(move || -> Result<()> {
            let r = (0..tablets).try_for_each(|i| {
                pace(start, Duration::from_millis(i * 10));
                let first = base + (i * per_tablet) as i64;
                let tablet = Tablet {
                    timestamps: (first..first + per_tablet as i64).collect(),
                    columns: vec![Column::F64(
                        (0..per_tablet).map(|k| Some(k as f64)).collect(),
                    )],
                };
                sent[i as usize].store(start.elapsed().as_nanos() as u64 + 1, Ordering::Release);
                writer
                    .insert_tablet(device, &["v".to_string()], &tablet)
                    .context(|| format!("insertTablet on {a}"))
            });
            done.store(true, Ordering::Release);
            r
        });
        let p = scope.spawn(move || -> Result<Vec<Duration>> {
            let mut lags = Vec::with_capacity(tablets as usize);
            let mut seen = 0u64; // tablets 0..seen visible on B
            let mut drain = None;
            while seen < tablets {
                let from = base + (seen * per_tablet) as i64;
                let rows = query(
                    &mut poller,
                    &format!("select last v from {device} where time >= {from}"),
                )
                .context(|| format!("polling {b}"))?;
                let now = start.elapsed().as_nanos() as u64 + 1;
                if let Some(t) = rows.iter().filter_map(|r| as_i64(r.first()?)).max() {
                    // Tablet k is whole once its last row (first + per - 1) shows.
                    let whole = (((t - base) as u64 + 1) / per_tablet).min(tablets);
                    for k in seen..whole {
                        let s = sent[k as usize].load(Ordering::Acquire);
                        lags.push(Duration::from_nanos(now.saturating_sub(s)));
                    }
                    seen = seen.max(whole);
                }
                if done.load(Ordering::Acquire) {
                    let d = *drain.get_or_insert_with(|| Instant::now() + Duration::from_secs(120));
                    if Instant::now() > d {
                        return Err(format!(
                            "{seen} of {tablets} tablets on {b} 120 s after the last"
                        ));
                    }
                }
            }
            Ok(lags)
        });
        (w.join(), p.join())
    });
    w.map_err(|_| "lag writer panicked".to_string())??;
    let mut lags = p.map_err(|_| "lag poller panicked".to_string())??;
    lags.sort_unstable();
    let at = |q: f64| {
        let i = ((lags.len() as f64 * q).ceil() as usize).clamp(1, lags.len()) - 1;
        lags[i].as_secs_f64() * 1e3
    };
    Ok((at(0.5), at(0.99)))
}

fn say(text: String) {
    eprintln!("duet-bench all: {text}");
}

pub fn all(conn: &Connector, args: &AllArgs) -> Result<()> {
    let secs = args.seconds;
    let mut servers = Vec::new();
    let (a, b) = match (&args.a, &args.b) {
        (Some(a), Some(b)) => (a.clone(), b.clone()),
        _ => {
            let bin = match &args.server {
                Some(p) => p.clone(),
                None => std::env::current_exe()
                    .context(|| "finding duet-bench's directory".into())?
                    .with_file_name("duet-server"),
            };
            servers.push(Server::start(&bin)?);
            servers.push(Server::start(&bin)?);
            let (a, b) = (servers[0].rpc.clone(), servers[1].rpc.clone());
            exec(conn, &a, &pipe_sql("AB", &b)?)?;
            exec(conn, &b, &pipe_sql("BA", &a)?)?;
            say(format!("a local pair: A {a}, B {b}, pipes AB and BA"));
            (a, b)
        }
    };
    // Every run's timestamps start after the last one's (a node given with
    // --a may hold earlier runs).
    let run = now_ms();

    say(format!("raw RocksDB baseline, {secs} s"));
    let rocksdb = rocksdb_points_per_s(secs)?;

    settle(&servers);
    say(format!("one writer on A flat out, {secs} s"));
    let start = Instant::now();
    let prefix = format!("root.benchall.w{run}");
    let (points, took) = flat_out(conn, &a, &prefix, 0, secs)?;
    let ingest = points as f64 / took;
    let on_b = held_by(conn, &b, &prefix, rows_of(points), start)?;
    let ratio_one = took / on_b;

    settle(&servers);
    say("reads of one second of a series, single and dual".to_string());
    let device = format!("{prefix}.d0");
    let (single_p50, dual_p50) = read_p50s(conn, &a, &device, rows_of(points))?;

    settle(&servers);
    say(format!("both nodes flat out, {secs} s"));
    let start = Instant::now();
    let (pa, pb) = (
        format!("root.benchall.a{run}"),
        format!("root.benchall.b{run}"),
    );
    let (ra, rb) = thread::scope(|s| {
        let ha = s.spawn(|| flat_out(conn, &a, &pa, 0, secs));
        let hb = s.spawn(|| flat_out(conn, &b, &pb, 0, secs));
        (ha.join(), hb.join())
    });
    let (pts_a, took_a) = ra.map_err(|_| "writer on A panicked".to_string())??;
    let (pts_b, took_b) = rb.map_err(|_| "writer on B panicked".to_string())??;
    let a_on_b = held_by(conn, &b, &pa, rows_of(pts_a), start)?;
    let b_on_a = held_by(conn, &a, &pb, rows_of(pts_b), start)?;
    let ratio_both = took_a.max(took_b) / a_on_b.max(b_on_a);

    settle(&servers);
    say(format!("lag at 78 000 rows/s, {secs} s"));
    let (lag_p50, lag_p99) = lag_at(
        conn,
        &a,
        &b,
        &format!("root.benchall.lag{run}"),
        78_000.0,
        secs,
    )?;
    let half = ingest / 2.0;
    settle(&servers);
    say(format!(
        "lag at half the ingest rate ({half:.0} rows/s), {secs} s"
    ));
    let (lag50_p50, lag50_p99) = lag_at(
        conn,
        &a,
        &b,
        &format!("root.benchall.half{run}"),
        half,
        secs,
    )?;

    settle(&servers);
    say(format!("16 writers on A, asynchronous, {secs} s"));
    let w_async = writers(conn, &a, &format!("root.benchall.as{run}"), secs, 16)?;
    exec(conn, &a, "SET REPLICATION MAX_PENDING_BYTES = 0")?;
    settle(&servers);
    say(format!("16 writers on A, synchronous, {secs} s"));
    let w_sync = writers(conn, &a, &format!("root.benchall.sy{run}"), secs, 16);
    exec(conn, &a, "SET REPLICATION MAX_PENDING_BYTES = DEFAULT")?;
    let w_sync = w_sync?;

    settle(&servers);
    say(format!(
        "catch-up: pipe AB stopped, {secs} s of ingest on A"
    ));
    exec(conn, &a, "STOP PIPE AB")?;
    let prefix = format!("root.benchall.c{run}");
    let (points, took) = flat_out(conn, &a, &prefix, 0, secs)?;
    let start = Instant::now();
    exec(conn, &a, "START PIPE AB")?;
    let caught = held_by(conn, &b, &prefix, rows_of(points), start)?;
    let catchup = (points as f64 / caught) / (points as f64 / took);

    let rss = servers
        .iter()
        .filter_map(Server::peak_rss_mib)
        .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x:.3}")
        } else {
            "null".to_string()
        }
    };
    let json = format!(
        "{{\"seconds\": {secs}, \"ingest_points_per_s\": {}, \"rocksdb_points_per_s\": {}, \
         \"ingest_ratio\": {}, \"replication_ratio_one_writer\": {}, \
         \"replication_ratio_both_writers\": {}, \"lag_rows_per_s\": 78000, \"lag_p50_ms\": {}, \
         \"lag_p99_ms\": {}, \"lag50_rows_per_s\": {}, \"lag50_p50_ms\": {}, \"lag50_p99_ms\": {}, \
         \"catchup_ratio\": {}, \"writers16_async_points_per_s\": {}, \
         \"writers16_sync_points_per_s\": {}, \"sync_async_ratio\": {}, \
         \"single_read_p50_ms\": {}, \"dual_read_p50_ms\": {}, \"dual_read_ratio\": {}, \
         \"rss_peak_mib\": {}}}",
        num(ingest),
        num(rocksdb),
        num(ingest / rocksdb),
        num(ratio_one),
        num(ratio_both),
        num(lag_p50),
        num(lag_p99),
        num(half),
        num(lag50_p50),
        num(lag50_p99),
        num(catchup),
        num(w_async),
        num(w_sync),
        num(w_sync / w_async),
        num(single_p50),
        num(dual_p50),
        num(dual_p50 / single_p50),
        rss.map_or("null".to_string(), num),
    );
    let _ = args.json; // JSON is the only format; the flag says so explicitly.
    println!("{json}");
    Ok(())
}

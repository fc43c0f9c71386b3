//! Client threads: each writes to one node, as fast as its pace allows,
//! multi-row inserts (into a "hot" time range every writer on every node
//! shares, so nodes conflict, and into a range of its own) and now and then
//! a delete, now and then large TEXT values (a few KiB to a quarter MiB,
//! in a series of their own per device), and rarely a schema change (drop a series, drop it and create
//! it again with another type, drop the whole database); each statement
//! goes into the writer's ledger with its outcome.

use crate::ledger::{big_text, value_code, Entry, Op, Outcome};
use crate::rng::Rng;
use duet_rpc::client::{ClientError, Session, SessionConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Times every writer uses, on every node: conflicts.
pub const HOT_TIMES: i64 = 2_000;

#[derive(Debug, Clone)]
pub struct Workload {
    pub devices: u32,
    pub writers_per_node: u32,
    pub rows_per_insert: usize,
    /// Pause after each statement.
    pub pace: Duration,
    pub delete_percent: u64,
    /// Schema changes per thousand statements.
    pub ddl_per_mille: u64,
    /// Statements that write large TEXT values (see `ledger::big_text`).
    pub big_percent: u64,
    /// A series made again after a drop may get another type (INT64 or
    /// DOUBLE); without this it is made again as DOUBLE.
    pub type_changes: bool,
}

impl Workload {
    /// Light enough for two cores running three nodes.
    pub fn light() -> Workload {
        Workload {
            devices: 4,
            writers_per_node: 2,
            rows_per_insert: 50,
            pace: Duration::from_millis(20),
            delete_percent: 3,
            ddl_per_mille: 2,
            big_percent: 1,
            type_changes: true,
        }
    }
}

pub const DATABASE: &str = "root.chaos";

pub fn series(device: u64) -> String {
    format!("{DATABASE}.d{device}.v")
}

/// The series of a device's large values.
pub fn big_series(device: u64) -> String {
    format!("{DATABASE}.d{device}.big")
}

/// Where writer `w`'s own points start: far from the hot range and from
/// the other writers.
fn own_base(writer: u32) -> i64 {
    1_000_000 + i64::from(writer) * 10_000_000
}

pub struct WriterReport {
    pub entries: Vec<Entry>,
    /// The first few distinct error replies, for the summary.
    pub errors: Vec<String>,
}

pub struct Writer {
    pub id: u32,
    pub node: usize,
    pub port: u16,
    pub seed: u64,
    pub started: Instant,
    pub stop: Arc<AtomicBool>,
}

impl Writer {
    pub fn spawn(self, w: Workload) -> JoinHandle<WriterReport> {
        std::thread::spawn(move || self.run(&w))
    }

    fn run(&self, w: &Workload) -> WriterReport {
        let mut rng = Rng::fork(self.seed, 1_000 + u64::from(self.id));
        let cfg = SessionConfig {
            hosts: vec![("127.0.0.1".into(), self.port)],
            connect_timeout: Duration::from_secs(2),
            request_timeout: Some(Duration::from_secs(10)),
            ..SessionConfig::default()
        };
        let mut report = WriterReport {
            entries: Vec::new(),
            errors: Vec::new(),
        };
        let mut session: Option<Session> = None;
        let (mut n, mut cursor) = (0u64, 0i64);
        while !self.stop.load(Ordering::Relaxed) {
            // Nothing is recorded until the statement can leave: a node that
            // is down refuses the connection, and no request was sent.
            if session.is_none() {
                session = Session::open(cfg.clone()).ok();
            }
            let Some(s) = session
                .as_mut()
                .and_then(|s| s.ensure_connected().is_ok().then_some(s))
            else {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            };
            let device = rng.range(0, u64::from(w.devices));
            let series = series(device);
            let device_path = &series[..series.len() - 2];
            let (op, sql) = if rng.range(0, 1_000) < w.ddl_per_mille {
                let (op, sql, then) = schema_change(&mut rng, w.devices, w.type_changes);
                let outcome = self.record(s, &sql, op, &mut report);
                // The type of the series made again is the schema's
                // business (compared node with node), not the data's.
                if let (Some(create), Outcome::Acked) = (then, outcome) {
                    let _ = s.execute(&create);
                }
                continue;
            } else if rng.chance(w.delete_percent) {
                let (start, end) = if cursor > 0 && rng.chance(30) {
                    let a = own_base(self.id)
                        + rng.range((cursor - 500).max(0) as u64, cursor as u64) as i64;
                    (a, a + rng.range(0, 50) as i64)
                } else {
                    let a = rng.range(0, HOT_TIMES as u64) as i64;
                    (a, a + rng.range(0, 100) as i64)
                };
                let sql = format!("DELETE FROM {series} WHERE time >= {start} AND time <= {end}");
                (Op::Delete { series, start, end }, sql)
            } else if rng.chance(w.big_percent) {
                // One or two large values, at a shared time or one of its own.
                let rows = rng.range(1, 3) as i64;
                let first = if rng.chance(40) {
                    rng.range(0, (HOT_TIMES - rows) as u64) as i64
                } else {
                    cursor += rows;
                    own_base(self.id) + cursor - rows
                };
                let points: Vec<(i64, i64)> = (0..rows)
                    .map(|i| {
                        n += 1;
                        (first + i, value_code(self.id, n))
                    })
                    .collect();
                let values: Vec<String> = points
                    .iter()
                    .map(|(t, v)| format!("({t}, '{}')", big_text(*v)))
                    .collect();
                let sql = format!(
                    "INSERT INTO {device_path}(time, big) VALUES {}",
                    values.join(", ")
                );
                let series = big_series(device);
                (Op::Insert { series, points }, sql)
            } else {
                let rows = w.rows_per_insert as i64;
                let first = if rng.chance(40) {
                    rng.range(0, (HOT_TIMES - rows) as u64) as i64
                } else {
                    cursor += rows;
                    own_base(self.id) + cursor - rows
                };
                let stride = if first < HOT_TIMES {
                    rng.range(1, 3) as i64
                } else {
                    1
                };
                let points: Vec<(i64, i64)> = (0..rows)
                    .map(|i| {
                        n += 1;
                        (first + i * stride, value_code(self.id, n))
                    })
                    .collect();
                let values: Vec<String> = points
                    .iter()
                    .map(|(t, v)| format!("({t}, {v}.0)"))
                    .collect();
                let sql = format!(
                    "INSERT INTO {device_path}(time, v) VALUES {}",
                    values.join(", ")
                );
                (Op::Insert { series, points }, sql)
            };
            let outcome = self.record(s, &sql, op, &mut report);
            let pause = if outcome == Outcome::Acked {
                w.pace
            } else {
                w.pace.max(Duration::from_millis(50))
            };
            std::thread::sleep(pause);
        }
        report
    }
}

impl Writer {
    /// Runs one statement and puts it in the ledger with what the client
    /// was told.
    fn record(&self, s: &mut Session, sql: &str, op: Op, report: &mut WriterReport) -> Outcome {
        let sent_ms = self.started.elapsed().as_millis() as u64;
        let outcome = match s.execute(sql).map(|_| ()) {
            Ok(()) => Outcome::Acked,
            Err(e) => {
                let text: String = e.to_string().chars().take(200).collect();
                if report.errors.len() < 5 && !report.errors.contains(&text) {
                    report.errors.push(text);
                }
                classify(&e)
            }
        };
        report.entries.push(Entry {
            writer: self.id,
            node: self.node,
            sent_ms,
            done_ms: self.started.elapsed().as_millis() as u64,
            op,
            outcome,
            skew_ms: 0,
        });
        outcome
    }
}

/// A schema change: the drop for the ledger, its SQL, and the statement
/// that creates the series again (with a type drawn here) if there is one.
fn schema_change(rng: &mut Rng, devices: u32, type_changes: bool) -> (Op, String, Option<String>) {
    let roll = rng.range(0, 100);
    if roll < 8 {
        let sql = format!("DROP DATABASE {DATABASE}");
        let series = (0..u64::from(devices))
            .flat_map(|d| [series(d), big_series(d)])
            .collect();
        return (
            Op::Drop {
                series,
                sql: sql.clone(),
            },
            sql,
            None,
        );
    }
    let s = series(rng.range(0, u64::from(devices)));
    let sql = format!("DROP TIMESERIES {s}");
    let create = (roll < 50).then(|| {
        let ty = if type_changes {
            rng.pick(&["INT64", "DOUBLE"])
        } else {
            "DOUBLE"
        };
        format!("CREATE TIMESERIES {s} WITH DATATYPE={ty}")
    });
    let op = Op::Drop {
        series: vec![s],
        sql: sql.clone(),
    };
    (op, sql, create)
}

/// A refusal is an answer (nothing applied); a lost or garbled reply is not.
fn classify(e: &ClientError) -> Outcome {
    match e {
        ClientError::Status { .. } | ClientError::Unreachable { .. } => Outcome::Failed,
        _ => Outcome::Unknown,
    }
}

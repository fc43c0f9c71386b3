//! SQL pipe statements on top of the pipe manager: the executor's
//! `PipeControl`, SHOW PIPES / SHOW CLUSTER result shapes, and pipe lines
//! for /metrics.

use duet_engine::{DataType, Engine, Value};
use duet_executor::pipes::ShowWhich;
use duet_executor::predicate::TimeRange;
use duet_executor::{
    ColumnInfo, ErrorKind, ExecError, NodeInfo, Output, PipeControl, ResultSet, Row,
};
use duet_pipe::{GateStatus, PipeError, PipeInfo, PipeManager};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Pipes {
    pub manager: Arc<PipeManager>,
    pub engine: Arc<Engine>,
    pub node: NodeInfo,
    /// Logged-in sessions to peers, kept for dual reads (a login costs a
    /// password hash: more than the read itself).
    pub peer_sessions: parking_lot::Mutex<BTreeMap<String, Vec<duet_rpc::client::Session>>>,
    /// Said with SHOW CLUSTER's result (clients show a success's message).
    pub warnings: Arc<crate::Warnings>,
}

/// Idle sessions kept per peer.
const KEEP_PEER_SESSIONS: usize = 8;

fn err(e: PipeError) -> ExecError {
    let kind = match e {
        PipeError::NotFound(_) => ErrorKind::NotFound,
        PipeError::AlreadyExists(_) => ErrorKind::AlreadyExists,
        PipeError::Config(_) => ErrorKind::Semantic,
        PipeError::Engine(_) => ErrorKind::Internal,
    };
    ExecError::new(kind, e.to_string())
}

fn text(s: impl Into<String>) -> Option<Value> {
    Some(Value::Text(s.into()))
}

/// `{k=v, ...}` as IoTDB prints a stage; passwords (and
/// `sink.ssl.trust-store-pwd`) masked.
fn stage(m: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = m
        .iter()
        .map(|(k, v)| {
            if k.ends_with("password") || k.ends_with("-pwd") {
                format!("{k}=******")
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Milliseconds since the epoch as ISO-8601 UTC.
pub fn iso_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = duet_parser::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

pub fn show_pipes(list: &[PipeInfo], gate: &GateStatus) -> ResultSet {
    let rows = list
        .iter()
        .map(|p| {
            let behind = gate.peers.iter().find(|b| b.pipe == p.name);
            (p, behind)
        })
        .map(|(p, behind)| Row {
            time: None,
            values: vec![
                text(p.name.clone()),
                text(iso_ms(p.created_ms)),
                text(if p.running { "RUNNING" } else { "STOPPED" }),
                text(stage(&p.source)),
                text(stage(&p.processor)),
                text(stage(&p.sink)),
                text(p.exception.clone()),
                Some(Value::I64(p.remaining_events as i64)),
                Some(Value::F64(p.estimated_remaining_secs)),
                Some(Value::I64(p.lag_ms as i64)),
                // The write mode this pipe's peer is held to, and how many
                // of this node's own bytes it lacks.
                text(match behind {
                    Some(_) => gate.mode(),
                    None => "not counted".into(),
                }),
                behind.map(|b| Value::I64(b.bytes as i64)),
                text(duet_pipe::config::SourceConfig::notes(&p.source).join("; ")),
            ],
        })
        .collect();
    let mut cols: Vec<ColumnInfo> = [
        "ID",
        "CreationTime",
        "State",
        "PipeSource",
        "PipeProcessor",
        "PipeSink",
        "ExceptionMessage",
    ]
    .iter()
    .map(|n| ColumnInfo {
        name: n.to_string(),
        data_type: DataType::Text,
    })
    .collect();
    cols.push(ColumnInfo {
        name: "RemainingEventCount".into(),
        data_type: DataType::Int64,
    });
    cols.push(ColumnInfo {
        name: "EstimatedRemainingSeconds".into(),
        data_type: DataType::Double,
    });
    cols.push(ColumnInfo {
        name: "LagMs".into(),
        data_type: DataType::Int64,
    });
    cols.push(ColumnInfo {
        name: "WriteMode".into(),
        data_type: DataType::Text,
    });
    cols.push(ColumnInfo {
        name: "PendingBytes".into(),
        data_type: DataType::Int64,
    });
    cols.push(ColumnInfo {
        name: "Notes".into(),
        data_type: DataType::Text,
    });
    ResultSet::from_rows(false, cols, rows)
}

impl duet_executor::PeerQuery for Pipes {
    fn ask_peers(
        &self,
        sql: &str,
        skip: &[String],
    ) -> Vec<(String, duet_executor::dual::PeerRows)> {
        self.peers()
            .into_iter()
            .filter(|peer| !skip.contains(&peer.name))
            .map(|peer| {
                let rows = self.ask_peer(&peer, sql);
                (peer.name, rows)
            })
            .collect()
    }
}

impl Pipes {
    /// `sql` on `peer` through a kept session (a new one if none is idle,
    /// and once more on a new one if a kept session's connection was gone).
    fn ask_peer(&self, peer: &Peer, sql: &str) -> duet_executor::dual::PeerRows {
        let run = |s: &mut duet_rpc::client::Session| {
            let mut out = Vec::new();
            if let duet_rpc::client::Outcome::Rows(mut rows) = s.execute(sql)? {
                while let Some(r) = rows.next_row()? {
                    out.push(r.iter().map(|f| f.to_string()).collect());
                }
            }
            Ok::<_, duet_rpc::client::ClientError>(out)
        };
        let kept = self
            .peer_sessions
            .lock()
            .get_mut(&peer.name)
            .and_then(Vec::pop);
        let (s, r) = match kept {
            Some(mut s) => match run(&mut s) {
                Err(e) if e.is_transport() => {
                    let mut s = self.open_peer(peer)?;
                    let r = run(&mut s);
                    (s, r)
                }
                r => (s, r),
            },
            None => {
                let mut s = self.open_peer(peer)?;
                let r = run(&mut s);
                (s, r)
            }
        };
        match r {
            Ok(rows) => {
                let mut kept = self.peer_sessions.lock();
                let idle = kept.entry(peer.name.clone()).or_default();
                if idle.len() < KEEP_PEER_SESSIONS {
                    idle.push(s);
                }
                Ok(rows)
            }
            // The session goes with the error: the next read opens another.
            Err(e) => Err(e.to_string()),
        }
    }

    fn open_peer(&self, peer: &Peer) -> Result<duet_rpc::client::Session, String> {
        let mut cfg = peer.cfg.clone();
        cfg.connect_timeout = DUAL_READ_TIMEOUT;
        cfg.request_timeout = Some(DUAL_READ_TIMEOUT);
        duet_rpc::client::Session::open(cfg).map_err(|e| e.to_string())
    }
}

/// How long a dual read waits for a peer (to connect, and per page).
const DUAL_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

impl PipeControl for Pipes {
    fn create(
        &self,
        if_not_exists: bool,
        name: &str,
        pipe: duet_executor::pipes::ValidatedPipe,
    ) -> duet_executor::Result<()> {
        self.manager
            .create(if_not_exists, name, pipe.source, pipe.processor, pipe.sink)
            .map_err(err)
    }

    fn start(&self, name: &str) -> duet_executor::Result<()> {
        self.manager.start(name).map_err(err)
    }

    fn stop(&self, name: &str) -> duet_executor::Result<()> {
        self.manager.stop(name).map_err(err)
    }

    fn drop_pipe(&self, if_exists: bool, name: &str) -> duet_executor::Result<()> {
        self.manager.drop_pipe(if_exists, name).map_err(err)
    }

    fn alter(
        &self,
        if_exists: bool,
        name: &str,
        alter: &duet_executor::pipes::AlterPipe,
    ) -> duet_executor::Result<()> {
        self.manager
            .alter(if_exists, name, |source, processor, sink| {
                let current = duet_executor::pipes::ValidatedPipe {
                    source: source.clone(),
                    processor: processor.clone(),
                    sink: sink.clone(),
                };
                let v = alter
                    .apply(&current)
                    .map_err(|e| PipeError::Config(e.message))?;
                Ok((v.source, v.processor, v.sink))
            })
            .map_err(err)
    }

    fn show(&self, which: ShowWhich<'_>) -> duet_executor::Result<Output> {
        let mut list = self.manager.list();
        match which {
            ShowWhich::All => {}
            // IoTDB lists nothing (no error) for a name no pipe has.
            ShowWhich::Named(n) => list.retain(|p| p.name == n),
            ShowWhich::SameSinkAs(n) => {
                let sink = list.iter().find(|p| p.name == n).map(|p| p.sink.clone());
                list.retain(|p| Some(&p.sink) == sink.as_ref());
            }
        }
        Ok(Output::Rows(show_pipes(&list, &self.manager.gate_status())))
    }

    fn verify(&self, pattern: &str, range: TimeRange) -> duet_executor::Result<Output> {
        self.compare_with_peers(pattern, range).map(Output::Rows)
    }

    fn set_replication(&self, key: &str, value: Option<&str>) -> duet_executor::Result<()> {
        self.manager.set_replication(key, value).map_err(err)
    }

    fn show_cluster(&self) -> duet_executor::Result<Output> {
        let gate = self.manager.gate_status();
        let mut peers: Vec<duet_executor::ddl::PeerRow> = Vec::new();
        for p in self.manager.list() {
            let Some(addr) = p.peer_address else { continue };
            let (host, port) = addr
                .rsplit_once(':')
                .map(|(h, p)| (h.to_string(), p.parse().unwrap_or(0)))
                .unwrap_or((addr, 0));
            if peers.iter().any(|x| x.address == host && x.port == port) {
                continue;
            }
            let status = if p.running && p.peer_reachable {
                "Running"
            } else if p.running {
                "Unreachable"
            } else {
                "Stopped"
            };
            peers.push(duet_executor::ddl::PeerRow {
                address: host,
                port,
                node_id: p.peer_node_id.map_or("?".into(), |id| id.to_string()),
                status: status.into(),
                clock_offset_ms: p.peer_clock_offset_ms,
                pending: gate.peers.iter().find(|b| b.pipe == p.name).map(|b| {
                    duet_executor::ddl::Pending {
                        bytes: b.bytes,
                        events: b.events,
                        age_ms: b.age_ms,
                    }
                }),
            });
        }
        let local = duet_executor::ddl::LocalReplication {
            mode: gate.mode(),
            rpo_ms: gate.rpo_ms(),
            pending: gate.worst().map(|b| duet_executor::ddl::Pending {
                bytes: b.bytes,
                events: b.events,
                age_ms: b.age_ms,
            }),
        };
        let mut rs =
            duet_executor::ddl::show_cluster(&self.engine, &self.node, Some(&local), &peers);
        let warnings = self.warnings.list();
        if !warnings.is_empty() {
            rs.warning = Some(format!("WARNING: {}", warnings.join("; ")));
        }
        Ok(Output::Rows(rs))
    }
}

/// One row of a `VERIFY REPLICA ... LOCAL` result, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sum {
    points: i64,
    digest: String,
    data_type: String,
    first: Option<i64>,
    last: Option<i64>,
    /// A digest of the series' alias, tags and attributes (series rows).
    labels: Option<String>,
}

/// Rows of `VERIFY REPLICA ... LOCAL` by series (`BUCKETS`: by bucket
/// start; the key is then the start).
fn sums(rows: impl Iterator<Item = Vec<String>>, buckets: bool) -> BTreeMap<String, Sum> {
    let at = usize::from(buckets);
    rows.filter(|r| r.len() >= 6 + at)
        .map(|r| {
            let key = if buckets { r[0].clone() } else { r[at].clone() };
            let sum = Sum {
                points: r[at + 1].parse().unwrap_or(-1),
                digest: r[at + 2].clone(),
                data_type: r[at + 3].clone(),
                first: r[at + 4].parse().ok(),
                last: r[at + 5].parse().ok(),
                labels: r.get(at + 6).cloned().filter(|_| !buckets),
            };
            (key, sum)
        })
        .collect()
}

fn result_strings(rs: ResultSet) -> Vec<Vec<String>> {
    rs.rows
        .filter_map(|r| r.ok())
        .map(|r| {
            r.values
                .iter()
                .map(|v| v.as_ref().map(|v| v.to_string()).unwrap_or_default())
                .collect()
        })
        .collect()
}

/// A peer to compare with: where, and how to log in.
struct Peer {
    name: String,
    cfg: duet_rpc::client::SessionConfig,
}

/// Buckets a differing series is cut into to find where it differs.
const NARROW_BUCKETS: i64 = 64;
/// Time ranges named per series at most.
const MAX_RANGES: usize = 10;

impl Pipes {
    /// The peers of this node's pipes with a thrift sink (each once).
    fn peers(&self) -> Vec<Peer> {
        let mut out: Vec<Peer> = Vec::new();
        for p in self.manager.list() {
            let Ok(sink) = duet_pipe::config::SinkConfig::from_params(&p.sink) else {
                continue;
            };
            let duet_pipe::config::SinkKind::Thrift { urls } = &sink.kind else {
                continue;
            };
            let name = urls
                .iter()
                .map(|(h, port)| duet_rpc::client::endpoint_name(h, *port))
                .collect::<Vec<_>>()
                .join(",");
            if out.iter().any(|x| x.name == name) {
                continue;
            }
            // The peer is reached as its pipe reaches it: TLS with the same files.
            let tls = match &sink.tls {
                None => None,
                Some(t) => match t.resolve(self.manager.node_tls()).and_then(|f| f.load()) {
                    Ok(client) => Some(client),
                    Err(e) => {
                        tracing::warn!("peer {name} left out: pipe {}: {e}", p.name);
                        continue;
                    }
                },
            };
            out.push(Peer {
                name,
                cfg: duet_rpc::client::SessionConfig {
                    hosts: urls.clone(),
                    user: sink.user.clone(),
                    password: sink.password.expose().to_string(),
                    tls,
                    ..duet_rpc::client::SessionConfig::default()
                },
            });
        }
        out
    }

    /// This node's digests against every peer's: a row per series that
    /// differs (or every series, when few), with the time ranges where it
    /// differs, and per peer a `*` row: IDENTICAL with the points compared,
    /// or DIFFERENT.
    fn compare_with_peers(&self, pattern: &str, range: TimeRange) -> Result<ResultSet, ExecError> {
        let peers = self.peers();
        if peers.is_empty() {
            return Err(ExecError::new(
                ErrorKind::Unsupported,
                "no pipe to a peer here: VERIFY REPLICA LOCAL lists this node's digests",
            ));
        }
        let local = |pattern: &str, range: TimeRange, buckets: Option<u64>| {
            duet_executor::ddl::verify_local(&self.engine, pattern, range, buckets)
                .map(result_strings)
        };
        let here = sums(local(pattern, range, None)?.into_iter(), false);
        let mut rows = Vec::new();
        for peer in peers {
            let peer_err = |e: duet_rpc::client::ClientError| {
                ExecError::new(
                    ErrorKind::Internal,
                    format!("asking the peer {}: {e}", peer.name),
                )
            };
            let mut session =
                duet_rpc::client::Session::open(peer.cfg.clone()).map_err(peer_err)?;
            let mut ask = |sql: String| -> Result<Vec<Vec<String>>, ExecError> {
                let mut out = Vec::new();
                if let duet_rpc::client::Outcome::Rows(mut rows) =
                    session.execute(&sql).map_err(peer_err)?
                {
                    while let Some(r) = rows.next_row().map_err(peer_err)? {
                        out.push(r.iter().map(|f| f.to_string()).collect::<Vec<String>>());
                    }
                }
                Ok(out)
            };
            let there = sums(
                ask(format!(
                    "VERIFY REPLICA {pattern}{} LOCAL",
                    where_sql(range)
                ))?
                .into_iter(),
                false,
            );
            let mut names: Vec<&String> = here.keys().chain(there.keys()).collect();
            names.sort();
            names.dedup();
            let (mut total_here, mut total_there, mut differ) = (0i64, 0i64, 0usize);
            for name in names {
                let (a, b) = (here.get(name), there.get(name));
                total_here += a.map_or(0, |x| x.points);
                total_there += b.map_or(0, |x| x.points);
                let (status, ranges) = match (a, b) {
                    (Some(x), Some(y)) if x == y => ("SAME", String::new()),
                    (Some(x), Some(y)) if x.data_type != y.data_type => {
                        ("TYPE_DIFFERS", String::new())
                    }
                    (Some(x), Some(y))
                        if Sum {
                            labels: None,
                            ..x.clone()
                        } == Sum {
                            labels: None,
                            ..y.clone()
                        } =>
                    {
                        ("LABELS_DIFFER", "alias, tags or attributes".to_string())
                    }
                    (Some(x), Some(y)) => {
                        let lo = x.first.into_iter().chain(y.first).min();
                        let hi = x.last.into_iter().chain(y.last).max();
                        let ranges = match (lo, hi) {
                            (Some(lo), Some(hi)) => {
                                let r = TimeRange { start: lo, end: hi };
                                let mine = sums(
                                    local(name, r, Some(NARROW_BUCKETS as u64))?.into_iter(),
                                    true,
                                );
                                let theirs = sums(
                                    ask(format!(
                                        "VERIFY REPLICA {name}{} LOCAL BUCKETS {NARROW_BUCKETS}",
                                        where_sql(r)
                                    ))?
                                    .into_iter(),
                                    true,
                                );
                                differing_ranges(r, &mine, &theirs)
                            }
                            _ => String::new(),
                        };
                        ("DIFFERENT", ranges)
                    }
                    (Some(_), None) => ("ONLY_HERE", String::new()),
                    _ => ("ONLY_ON_PEER", String::new()),
                };
                if status != "SAME" {
                    differ += 1;
                }
                rows.push(Row {
                    time: None,
                    values: vec![
                        text(name.clone()),
                        a.map(|x| Value::I64(x.points)),
                        b.map(|x| Value::I64(x.points)),
                        text(status),
                        text(peer.name.clone()),
                        a.map(|x| Value::Text(x.data_type.clone())),
                        b.map(|x| Value::Text(x.data_type.clone())),
                        text(ranges),
                    ],
                });
            }
            rows.push(Row {
                time: None,
                values: vec![
                    text("*"),
                    Some(Value::I64(total_here)),
                    Some(Value::I64(total_there)),
                    text(if differ == 0 {
                        "IDENTICAL"
                    } else {
                        "DIFFERENT"
                    }),
                    text(peer.name.clone()),
                    None,
                    None,
                    text(if differ == 0 {
                        format!("{total_here} points compared")
                    } else {
                        format!("{differ} series differ")
                    }),
                ],
            });
        }
        let mut cols = vec![ColumnInfo {
            name: "Timeseries".into(),
            data_type: DataType::Text,
        }];
        for name in ["PointsHere", "PointsOnPeer"] {
            cols.push(ColumnInfo {
                name: name.into(),
                data_type: DataType::Int64,
            });
        }
        for name in ["Status", "Peer", "TypeHere", "TypeOnPeer", "Detail"] {
            cols.push(ColumnInfo {
                name: name.into(),
                data_type: DataType::Text,
            });
        }
        Ok(ResultSet::from_rows(false, cols, rows))
    }
}

/// ` WHERE time >= a AND time <= b` for a range (nothing for all time).
fn where_sql(r: TimeRange) -> String {
    if r.start == TimeRange::ALL.start && r.end == TimeRange::ALL.end {
        String::new()
    } else {
        format!(" WHERE time >= {} AND time <= {}", r.start, r.end)
    }
}

/// The buckets (of `NARROW_BUCKETS` over `r`) whose sums differ, adjacent
/// ones joined, as `[a, b)` time ranges.
fn differing_ranges(
    r: TimeRange,
    mine: &BTreeMap<String, Sum>,
    theirs: &BTreeMap<String, Sum>,
) -> String {
    let n = NARROW_BUCKETS as i128;
    let span = ((r.end as i128 - r.start as i128 + 1) + n - 1) / n;
    let mut starts: Vec<i64> = mine
        .keys()
        .chain(theirs.keys())
        .filter(|k| mine.get(*k) != theirs.get(*k))
        .filter_map(|k| k.parse().ok())
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut ranges: Vec<(i128, i128)> = Vec::new();
    for s in starts {
        let (s, e) = (s as i128, (s as i128 + span).min(r.end as i128 + 1));
        match ranges.last_mut() {
            Some(last) if last.1 == s => last.1 = e,
            _ => ranges.push((s, e)),
        }
    }
    let more = ranges.len().saturating_sub(MAX_RANGES);
    let mut text: Vec<String> = ranges
        .iter()
        .take(MAX_RANGES)
        .map(|(s, e)| format!("[{s}, {e})"))
        .collect();
    if more > 0 {
        text.push(format!("and {more} more"));
    }
    text.join(" ")
}

/// Name, sample suffix, type, help, value.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    fn(&PipeInfo) -> f64,
);

/// Pipe figures in Prometheus text format.
pub fn metrics(list: &[PipeInfo]) -> String {
    let mut out = String::new();
    // OpenMetrics: a counter family `x` has samples `x_total`.
    let families: [Family; 11] = [
        (
            "duet_pipe_events_sent",
            "_total",
            "counter",
            "Change events acknowledged by the peer",
            |p| p.events_sent as f64,
        ),
        (
            "duet_pipe_bytes_sent",
            "_total",
            "counter",
            "Batch bytes acknowledged by the peer, as sent (after sink.compressor)",
            |p| p.bytes_sent as f64,
        ),
        (
            "duet_pipe_raw_bytes_sent",
            "_total",
            "counter",
            "The same batches' bytes before sink.compressor",
            |p| p.raw_bytes_sent as f64,
        ),
        (
            "duet_pipe_retries",
            "_total",
            "counter",
            "Sends retried after the peer was unreachable",
            |p| p.retries as f64,
        ),
        (
            "duet_pipe_remaining_events",
            "",
            "gauge",
            "Change-log events not yet sent",
            |p| p.remaining_events as f64,
        ),
        (
            "duet_pipe_lag_ms",
            "",
            "gauge",
            "Age of the newest acknowledged event while behind",
            |p| p.lag_ms as f64,
        ),
        (
            "duet_pipe_history_transfers",
            "_total",
            "counter",
            "History transfers started (new pipe, new peer, position trimmed, restored node)",
            |p| p.history_transfers as f64,
        ),
        (
            "duet_pipe_fell_off_log",
            "_total",
            "counter",
            "Times the pipe's position was trimmed from the change log before it was sent",
            |p| p.fell_off_log as f64,
        ),
        (
            "duet_pipe_peer_clock_offset_ms",
            "",
            "gauge",
            "The peer's clock minus this node's at the last handshake (0 until measured)",
            |p| p.peer_clock_offset_ms.unwrap_or(0) as f64,
        ),
        (
            "duet_pipe_buffered_bytes",
            "",
            "gauge",
            "Bytes of change events the pipe holds in memory (the batch being sent and the one read ahead)",
            |p| p.buffered_bytes as f64,
        ),
        (
            "duet_pipe_running",
            "",
            "gauge",
            "1 when the pipe is running",
            |p| p.running as u8 as f64,
        ),
    ];
    for (name, suffix, kind, help, f) in families {
        out.push_str(&format!("# HELP {name} {help}.\n# TYPE {name} {kind}\n"));
        for p in list {
            out.push_str(&format!(
                "{name}{suffix}{{pipe=\"{}\"}} {}\n",
                p.name.replace(['"', '\\', '\n'], "_"),
                f(p)
            ));
        }
    }
    out
}

/// The write mode's figures in Prometheus text format.
pub fn gate_metrics(g: &GateStatus) -> String {
    let worst = g.worst().cloned().unwrap_or_default();
    let mode = match g.settings.max_pending_bytes {
        None => 0,
        Some(0) => 2,
        Some(_) => 1,
    };
    let rows: [(&str, &str, &str, String); 10] = [
        (
            "duet_replication_mode",
            "gauge",
            "Write mode as set: 0 async (unbounded), 1 bounded by max_pending_bytes, 2 synchronous",
            mode.to_string(),
        ),
        (
            "duet_replication_max_pending_bytes",
            "gauge",
            "replication.max_pending_bytes in force (-1: unbounded)",
            g.settings
                .max_pending_bytes
                .map_or(-1, |b| b as i64)
                .to_string(),
        ),
        (
            "duet_replication_degraded",
            "gauge",
            "1 while writes go on asynchronously because a peer stopped answering",
            (g.degraded as u8).to_string(),
        ),
        (
            "duet_replication_pending_bytes",
            "gauge",
            "Bytes of this node's own changes the peer furthest behind has not acknowledged",
            worst.bytes.to_string(),
        ),
        (
            "duet_replication_pending_events",
            "gauge",
            "Changes of this node the peer furthest behind has not acknowledged",
            worst.events.to_string(),
        ),
        (
            "duet_replication_pending_age_ms",
            "gauge",
            "Age of the oldest change of this node a peer has not acknowledged",
            worst.age_ms.to_string(),
        ),
        (
            "duet_replication_rpo_ms",
            "gauge",
            "What losing this node now would lose, in ms of its writes (0 when synchronous)",
            g.rpo_ms().to_string(),
        ),
        (
            "duet_replication_waiting_writes",
            "gauge",
            "Writes waiting for room or for their peer now",
            g.waiting.to_string(),
        ),
        (
            "duet_replication_refused_writes_total",
            "counter",
            "Writes refused, not applied, because the budget stayed full (or a synchronous peer away)",
            g.refused.to_string(),
        ),
        (
            "duet_replication_unconfirmed_writes_total",
            "counter",
            "Synchronous writes applied here that the peer did not confirm within the write timeout",
            g.unconfirmed.to_string(),
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in rows {
        let family = name.trim_end_matches("_total");
        out.push_str(&format!(
            "# HELP {family} {help}.\n# TYPE {family} {kind}\n{name} {value}\n"
        ));
    }
    out.push_str(&format!(
        "# HELP duet_replication_degradations Times writes went on asynchronously without a peer.\n\
         # TYPE duet_replication_degradations counter\nduet_replication_degradations_total {}\n",
        g.degradations
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_704_067_201_500), "2024-01-01T00:00:01.500Z");
        assert_eq!(iso_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn passwords_are_masked() {
        let m: BTreeMap<String, String> =
            [("sink.password".to_string(), "secret".to_string())].into();
        assert_eq!(stage(&m), "{sink.password=******}");
        let m: BTreeMap<String, String> = [(
            "sink.ssl.trust-store-pwd".to_string(),
            "changeit".to_string(),
        )]
        .into();
        assert_eq!(stage(&m), "{sink.ssl.trust-store-pwd=******}");
    }
}

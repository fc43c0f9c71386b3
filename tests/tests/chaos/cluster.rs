//! Two or three nodes in a full mesh of double-living pipes, each pipe
//! through its own fault proxy (the pipe's sink points at the proxy, the
//! proxy forwards to the peer), and the fixture steps of a run: heal
//! everything, wait until replication is quiet, dump the data.

use crate::checker::Dump;
use duet_rpc::client::{Field, Outcome};
use duet_tests::proxy::{Fault, Proxy};
use duet_tests::{pipe_sql, wait_until, Node};
use std::time::{Duration, Instant};

const NAMES: [&str; 3] = ["A", "B", "C"];

pub fn name(node: usize) -> &'static str {
    NAMES.get(node).copied().unwrap_or("?")
}

/// One direction between two nodes: the pipe `from` -> `to` and its proxy.
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub pipe: String,
    pub proxy: Proxy,
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    /// The configuration file (kept while the nodes run).
    _conf: tempfile::TempDir,
}

/// A short sink timeout, so a blackholed link is noticed (and retried)
/// within a fault's few seconds.
const CONF: &str = "[replication]\nsink_request_timeout_secs = 2\n";

/// A change log this short (trimmed every second) makes a stopped or
/// cut-off pipe fall off it, so it resends history (a snapshot).
fn short_log(max_events: u64) -> String {
    format!("log_max_events = {max_events}\ntrim_interval_secs = 1\n")
}

impl Cluster {
    /// `log_max_events`: a short change log (see [`short_log`]), or the
    /// default one.
    pub fn start(n: usize, log_max_events: Option<u64>) -> Cluster {
        assert!((2..=3).contains(&n), "2 or 3 nodes, not {n}");
        let conf = tempfile::tempdir().expect("config dir");
        let path = conf.path().join("duet.toml");
        let conf_text = CONF.to_string() + &log_max_events.map(short_log).unwrap_or_default();
        std::fs::write(&path, conf_text).expect("write config");
        let path = path.to_string_lossy().into_owned();
        let nodes: Vec<Node> = (0..n)
            .map(|_| Node::start_with(&["--config", &path]))
            .collect();
        let mut links = Vec::new();
        for from in 0..n {
            for to in (0..n).filter(|&to| to != from) {
                let proxy = Proxy::start(nodes[to].rpc);
                let pipe = format!("{}{}", name(from), name(to));
                nodes[from].sql(&pipe_sql(&pipe, proxy.port()));
                links.push(Link {
                    from,
                    to,
                    pipe,
                    proxy,
                });
            }
        }
        let cluster = Cluster {
            nodes,
            links,
            _conf: conf,
        };
        for (i, node) in cluster.nodes.iter().enumerate() {
            wait_until(
                Duration::from_secs(60),
                &format!("{}'s pipes to connect", name(i)),
                || {
                    let peers = node.rows("SHOW CLUSTER")?;
                    let up = peers
                        .iter()
                        .filter(|r| r[6] == "peer" && r[2] == "Running")
                        .count();
                    let pipes = node.pipes();
                    if up == n - 1 && pipes.iter().all(|p| p.1 == "RUNNING") {
                        Ok(())
                    } else {
                        Err(format!("{peers:?} {pipes:?}"))
                    }
                },
            );
        }
        cluster
    }

    pub fn link_name(&self, link: usize) -> String {
        let l = &self.links[link];
        format!("{}->{} (pipe {})", name(l.from), name(l.to), l.pipe)
    }

    /// The links from or to `node`.
    pub fn links_of(&self, node: usize) -> Vec<usize> {
        (0..self.links.len())
            .filter(|&l| self.links[l].from == node || self.links[l].to == node)
            .collect()
    }

    /// A link's pipe in SHOW PIPES on its source node: (name, state,
    /// message, events left).
    pub fn pipe(&self, link: usize) -> Option<(String, String, String, i64)> {
        let l = &self.links[link];
        self.nodes[l.from]
            .pipes()
            .into_iter()
            .find(|p| p.0 == l.pipe)
    }

    /// A `duet_pipe_*` sample of a link's pipe on its source node (0 while
    /// the pipe has none).
    pub fn pipe_metric(&self, link: usize, name: &str) -> f64 {
        let l = &self.links[link];
        self.nodes[l.from]
            .metric(&format!("{name}{{pipe=\"{}\"}}", l.pipe))
            .unwrap_or(0.0)
    }

    /// `duet_pipe_history_transfers_total` of a link's pipe.
    pub fn history_transfers_of(&self, link: usize) -> f64 {
        self.pipe_metric(link, "duet_pipe_history_transfers_total")
    }

    /// The peer's clock offset a link's pipe measured at its handshake.
    pub fn peer_clock_offset(&self, link: usize) -> f64 {
        self.pipe_metric(link, "duet_pipe_peer_clock_offset_ms")
    }

    /// Conflict records (SHOW CONFLICTS) on every node together.
    pub fn conflicts_logged(&self) -> f64 {
        self.nodes
            .iter()
            .map(|n| n.metric("duet_conflicts").unwrap_or(0.0))
            .sum()
    }

    /// `duet_pipe_retries_total` of a link's pipe, on its source node.
    pub fn retries(&self, link: usize) -> f64 {
        self.pipe_metric(link, "duet_pipe_retries_total")
    }

    /// History transfers counted by the pipes now running (a pipe's
    /// counters start again when it does).
    pub fn history_transfers(&self) -> f64 {
        (0..self.links.len())
            .map(|l| self.history_transfers_of(l))
            .sum()
    }

    /// `duet_pipe_events_sent_total` of a link's pipe (acknowledged events).
    pub fn events_sent(&self, link: usize) -> f64 {
        self.pipe_metric(link, "duet_pipe_events_sent_total")
    }

    /// The state of a link's pipe in SHOW PIPES on its source node.
    pub fn pipe_state(&self, link: usize) -> Option<String> {
        self.pipe(link).map(|p| p.1)
    }

    /// Every proxy passes traffic and every pipe is started again. Nodes
    /// are always running here: the nemesis restarts what it kills.
    pub fn heal(&self) {
        for (i, l) in self.links.iter().enumerate() {
            l.proxy.set(Fault::Pass);
            if self.pipe_state(i).as_deref() != Some("RUNNING") {
                self.nodes[l.from].sql(&format!("START PIPE {}", l.pipe));
            }
        }
    }

    /// Waits until every pipe is RUNNING with nothing left to send and no
    /// node's change log has moved for two seconds.
    pub fn wait_quiet(&self, within: Duration) {
        let mut since: Option<(Vec<u64>, Instant)> = None;
        wait_until(
            within,
            "every pipe RUNNING and caught up, and every change log still for 2 s",
            || {
                let pipes: Vec<_> = self.nodes.iter().flat_map(|n| n.pipes()).collect();
                let busy: Vec<_> = pipes
                    .iter()
                    .filter(|p| p.1 != "RUNNING" || p.3 != 0)
                    .collect();
                if pipes.len() != self.links.len() || !busy.is_empty() {
                    since = None;
                    return Err(format!(
                        "pipes not caught up: {busy:?} ({} of {} listed)",
                        pipes.len(),
                        self.links.len()
                    ));
                }
                let seqs: Vec<u64> = self.nodes.iter().map(Node::log_last_seq).collect();
                match &since {
                    Some((s, at)) if *s == seqs && at.elapsed() >= Duration::from_secs(2) => Ok(()),
                    Some((s, at)) if *s == seqs => {
                        Err(format!("logs at {seqs:?} for {:?}", at.elapsed()))
                    }
                    _ => {
                        since = Some((seqs.clone(), Instant::now()));
                        Err(format!("logs moved to {seqs:?}"))
                    }
                }
            },
        );
    }

    /// Every series under root.chaos with its (time, value) rows, as the
    /// node returns them (duplicates included, so the checker sees them).
    pub fn dump(&self, node: usize) -> Result<Dump, String> {
        let n = &self.nodes[node];
        let mut dump = Dump::new();
        for row in n.rows("SHOW TIMESERIES root.chaos.**")? {
            let path = row[0].clone();
            let (device, m) = path
                .rsplit_once('.')
                .ok_or_else(|| format!("bad path {path}"))?;
            let mut s = n.session();
            let sql = format!("SELECT {m} FROM {device}");
            let mut points = Vec::new();
            if let Outcome::Rows(mut rows) = s.execute(&sql).map_err(|e| format!("{sql}: {e}"))? {
                while let Some(r) = rows.next_row().map_err(|e| format!("{sql}: {e}"))? {
                    // A series made again as INT64, or joined to TEXT by a
                    // type conflict, still holds the codes the clients
                    // wrote; a large value must be whole to give its code.
                    let value = match r.get(1) {
                        Some(Field::F64(v)) => Some(*v),
                        Some(Field::I64(v)) => Some(*v as f64),
                        Some(Field::Text(v)) => crate::ledger::decode_text(v).map(|c| c as f64),
                        _ => None,
                    };
                    match (r.first(), value) {
                        (Some(Field::I64(t)), Some(v)) if r.len() == 2 => points.push((*t, v)),
                        _ => return Err(format!("{sql}: unexpected row {r:?}")),
                    }
                }
            }
            dump.insert(path, points);
        }
        Ok(dump)
    }

    /// `VERIFY REPLICA root.chaos.**` on every node (each compares with the
    /// peer of its first pipe): the rows that are not SAME.
    pub fn verify_replica(&self) -> Vec<String> {
        let mut bad = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            match n.rows("VERIFY REPLICA root.chaos.**") {
                Ok(rows) => bad.extend(
                    rows.into_iter()
                        .filter(|r| {
                            !matches!(r.get(3).map(String::as_str), Some("SAME" | "IDENTICAL"))
                        })
                        .map(|r| format!("VERIFY REPLICA on {}: {}", name(i), r.join(" "))),
                ),
                Err(e) => bad.push(format!("VERIFY REPLICA on {}: {e}", name(i))),
            }
        }
        // The schema: the same databases and series with the same types.
        let schema = |n: &Node| -> Vec<Vec<String>> {
            let mut rows = n.rows("SHOW DATABASES").unwrap_or_else(|e| vec![vec![e]]);
            rows.extend(
                n.rows("SHOW TIMESERIES root.chaos.**")
                    .unwrap_or_else(|e| vec![vec![e]]),
            );
            rows
        };
        let first = schema(&self.nodes[0]);
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            let other = schema(n);
            if other != first {
                bad.push(format!(
                    "the schemas differ between {} and {}: {:?} vs {:?}",
                    name(0),
                    name(i),
                    first_diff(&first, &other),
                    first_diff(&other, &first)
                ));
            }
        }
        // Every node's digests against the first node's, so a three-node
        // mesh is compared pairwise too.
        let local: Vec<_> = self
            .nodes
            .iter()
            .map(|n| {
                n.rows("VERIFY REPLICA root.chaos.** LOCAL")
                    .unwrap_or_else(|e| vec![vec![e]])
            })
            .collect();
        for (i, l) in local.iter().enumerate().skip(1) {
            if *l != local[0] {
                bad.push(format!(
                    "VERIFY REPLICA LOCAL digests differ between {} and {}: {:?} vs {:?}",
                    name(0),
                    name(i),
                    first_diff(&local[0], l),
                    first_diff(l, &local[0])
                ));
            }
        }
        bad
    }

    /// Every node's `duet_pipe_*` samples and change-log position, one
    /// line per node, for a report.
    pub fn pipe_metrics(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let (_, body) = n.http_get("/metrics");
            let samples: Vec<&str> = body
                .lines()
                .filter(|l| l.starts_with("duet_pipe_") || l.starts_with("duet_changelog_"))
                .filter(|l| !l.contains("clock_offset"))
                .collect();
            out.push_str(&format!("  {}: {}\n", name(i), samples.join(" | ")));
        }
        out
    }

    /// Stops every node (SIGKILL: the run is over) and writes each one's
    /// whole server log to `dir`. The harness writes a process's log when
    /// it exits, so a running node's own lines would be missing.
    pub fn save_logs(&mut self, dir: &std::path::Path) {
        let _ = std::fs::create_dir_all(dir);
        for (i, n) in self.nodes.iter_mut().enumerate() {
            n.kill9();
            let mut seen = None;
            // The log lands once the reader thread sees the end of stderr.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                wait_until(Duration::from_secs(5), "the log to be written", || {
                    let len = n.log().len();
                    if seen == Some(len) {
                        Ok(())
                    } else {
                        seen = Some(len);
                        std::thread::sleep(Duration::from_millis(200));
                        Err(format!("{len} bytes"))
                    }
                })
            }));
            let _ = std::fs::write(dir.join(format!("node-{}.log", name(i))), n.log());
        }
    }
}

fn first_diff(a: &[Vec<String>], b: &[Vec<String>]) -> Vec<Vec<String>> {
    a.iter()
        .filter(|r| !b.contains(r))
        .take(3)
        .cloned()
        .collect()
}

//! Failover through a real HAProxy (Debian's, installed by
//! scripts/setup.sh) running the repository's conf/haproxy.cfg with the
//! addresses replaced: a client writes through the proxy without pause,
//! the node it writes to is SIGKILLed, writes go on through the other
//! node after a bounded gap (the RTO, printed), and when the node returns
//! the pair converges with every acknowledged write on both nodes.

use crate::{connected, pair, WAIT};
use duet_rpc::client::{Session, SessionConfig};
use duet_tests::{wait_until, Node};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn haproxy_binary() -> String {
    for p in ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"] {
        if std::path::Path::new(p).exists() {
            return p.to_string();
        }
    }
    "haproxy".to_string()
}

/// conf/haproxy.cfg with the proxy on `port` and the two nodes' RPC and
/// HTTP ports on loopback.
fn config(port: u16, a: &Node, b: &Node) -> String {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root");
    let text = std::fs::read_to_string(repo.join("conf/haproxy.cfg")).expect("conf/haproxy.cfg");
    let mut out = String::new();
    let mut servers = 0;
    for line in text.lines() {
        let t = line.trim_start();
        let replaced = if t.starts_with("bind :6667") {
            format!("    bind 127.0.0.1:{port}")
        } else if t.starts_with("server iotdb-1 ") {
            servers += 1;
            format!(
                "    server iotdb-1 127.0.0.1:{} check port {}",
                a.rpc.port(),
                a.http.port()
            )
        } else if t.starts_with("server iotdb-2 ") {
            servers += 1;
            format!(
                "    server iotdb-2 127.0.0.1:{} check port {}",
                b.rpc.port(),
                b.http.port()
            )
        } else {
            line.to_string()
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    assert_eq!(servers, 2, "conf/haproxy.cfg names iotdb-1 and iotdb-2");
    out
}

struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn session(ports: &[u16]) -> Option<Session> {
    Session::open(SessionConfig {
        hosts: ports
            .iter()
            .map(|p| ("127.0.0.1".to_string(), *p))
            .collect(),
        connect_timeout: Duration::from_secs(2),
        ..SessionConfig::default()
    })
    .ok()
}

/// HAProxy running conf/haproxy.cfg in front of `a` and `b`, once a
/// session goes through it; its port.
fn start_proxy(a: &Node, b: &Node, dir: &std::path::Path) -> (Proxy, u16) {
    let port = free_port();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(&cfg, config(port, a, b)).unwrap();
    let check = Command::new(haproxy_binary())
        .args(["-c", "-f"])
        .arg(&cfg)
        .output()
        .expect("haproxy is installed (scripts/setup.sh installs it)");
    assert!(
        check.status.success(),
        "haproxy -c: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let proxy = Proxy(
        Command::new(haproxy_binary())
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy"),
    );
    wait_until(WAIT, "a session through the proxy", || {
        session(&[port]).map(|_| ()).ok_or_else(|| "no".to_string())
    });
    (proxy, port)
}

#[test]
fn t130_a_killed_node_behind_haproxy_fails_over_and_converges() {
    let (mut a, b) = pair();
    let dir = tempfile::tempdir().unwrap();
    let (_proxy, port) = start_proxy(&a, &b, dir.path());
    let rto = failover_run(&mut a, &b, Arc::new(move || session(&[port])));
    eprintln!("t130: RTO through HAProxy (SIGKILL to the next acknowledged write): {rto:?}");
}

/// HAProxy acts on `/health`, not only on a port that stops answering:
/// iotdb-1 stays up and keeps accepting connections, but in synchronous
/// mode with a frozen peer it can take no write, and its `/health` says
/// 503. HAProxy marks it down, closes its sessions, and the writer's new
/// connections go to iotdb-2, where writes succeed (through iotdb-1 every
/// one fails with 606: were the check not acted on, no write would
/// succeed). When the peer thaws, iotdb-1 is healthy again and both nodes
/// hold every acknowledged write.
#[test]
fn t132_a_node_whose_health_says_503_is_taken_out_of_haproxy() {
    let (a, b) = pair();
    // A third node that only A writes to: freezing it stalls A alone.
    let c = Node::start();
    a.sql(&duet_tests::pipe_sql("AC", c.rpc.port()));
    connected(&a);
    a.sql("SET REPLICATION MAX_PENDING_BYTES = 0");
    a.sql("SET REPLICATION WRITE_TIMEOUT_MS = 300");
    let dir = tempfile::tempdir().unwrap();
    let (_proxy, port) = start_proxy(&a, &b, dir.path());
    let w = Writer::start(Arc::new(move || session(&[port])), "root.hc.d");
    w.wait_for(100);
    let on_a = a.rows("SELECT count(v) FROM root.hc.d").unwrap()[0][0].clone();
    assert_ne!(on_a, "0", "the writes went to iotdb-1");

    crate::t110_write_modes::signal(&c, "-STOP");
    let frozen = Instant::now();
    wait_until(WAIT, "iotdb-1's /health to say 503", || {
        match a.http_get("/health") {
            (503, body) => Ok(body),
            (code, body) => Err(format!("{code} {body}")),
        }
        .map(drop)
    });
    let said = a.http_get("/health").1;
    let at = w.acked();
    w.wait_for(at + 300);
    let gap = w.longest_gap_after(frozen);
    eprintln!("t132: longest gap between acknowledged writes once iotdb-1 turned 503: {gap:?}");
    // One health check a second, down after two: the gap is the checks'
    // time plus a reconnect, far below what a dead node's timeouts take.
    assert!(gap < Duration::from_secs(15), "gap {gap:?}");
    crate::t110_write_modes::signal(&c, "-CONT");
    wait_until(WAIT, "iotdb-1 healthy again", || {
        match a.http_get("/health") {
            (200, _) => Ok(()),
            (code, body) => Err(format!("{code} {body}")),
        }
    });
    let n = w.stop();
    for (name, node) in [("a", &a), ("b", &b)] {
        converged(node, name, "root.hc.d", n);
    }
    assert!(said.contains("reasons"), "{said}");
}

/// Writes one point per statement without pause through sessions `open`
/// makes, each retried (same time, same value) until acknowledged; a new
/// session whenever one breaks or a write fails.
struct Writer {
    acked: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
    successes: Arc<Mutex<Vec<Instant>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(open: Arc<dyn Fn() -> Option<Session> + Send + Sync>, device: &str) -> Writer {
        let acked = Arc::new(AtomicI64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let successes: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let device = device.to_string();
        let thread = {
            let (acked, stop, successes) = (acked.clone(), stop.clone(), successes.clone());
            std::thread::spawn(move || {
                let mut s: Option<Session> = None;
                let mut i: i64 = 1;
                while !stop.load(Ordering::Acquire) {
                    let Some(sess) = s.as_mut() else {
                        s = open();
                        if s.is_none() {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        continue;
                    };
                    let ok = sess
                        .execute(&format!("INSERT INTO {device}(time, v) VALUES ({i}, {i})"))
                        .is_ok();
                    if ok {
                        acked.store(i, Ordering::Release);
                        successes.lock().unwrap().push(Instant::now());
                        i += 1;
                    } else {
                        s = None;
                    }
                }
            })
        };
        Writer {
            acked,
            stop,
            successes,
            thread: Some(thread),
        }
    }

    fn acked(&self) -> i64 {
        self.acked.load(Ordering::Acquire)
    }

    fn wait_for(&self, n: i64) {
        wait_until(WAIT, &format!("{n} acknowledged writes"), || {
            let got = self.acked();
            (got >= n).then_some(()).ok_or(format!("{got}"))
        });
    }

    /// The first acknowledged write after `t`: how long after it.
    fn first_after(&self, t: Instant) -> Duration {
        self.successes
            .lock()
            .unwrap()
            .iter()
            .find(|s| **s > t)
            .map(|s| s.duration_since(t))
            .expect("a write after it")
    }

    /// The longest time without an acknowledged write from `t` on.
    fn longest_gap_after(&self, t: Instant) -> Duration {
        let times = self.successes.lock().unwrap();
        let mut last = t;
        let mut gap = Duration::ZERO;
        for s in times.iter().filter(|s| **s > t) {
            gap = gap.max(s.duration_since(last));
            last = *s;
        }
        gap
    }

    /// Stops the writer; the last acknowledged time.
    fn stop(mut self) -> i64 {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.acked()
    }
}

/// Every acknowledged point (the reference model: times 1..=n, each value
/// its time) on `node`, and none other; the last write may have been
/// applied without its reply.
fn converged(node: &Node, name: &str, device: &str, n: i64) {
    wait_until(WAIT, &format!("{n} points on {name}"), || {
        let rows = node.rows(&format!("SELECT count(v), sum(v) FROM {device}"))?;
        let count: i64 = rows[0][0].parse().map_err(|e| format!("{e}"))?;
        let sum: f64 = rows[0][1].parse().map_err(|e| format!("{e}"))?;
        let want_sum = (n * (n + 1) / 2) as f64;
        if (count == n && sum == want_sum) || (count == n + 1 && sum == want_sum + (n + 1) as f64) {
            Ok(())
        } else {
            Err(format!("count {count} sum {sum}"))
        }
    });
}

/// The client's own failover: a session given both nodes (what `duet-cli
/// -h iotdb-1,iotdb-2` uses) moves to the other one when its node dies.
#[test]
fn t131_a_client_given_both_nodes_fails_over_and_converges() {
    let (mut a, b) = pair();
    let ports = [a.rpc.port(), b.rpc.port()];
    let rto = failover_run(&mut a, &b, Arc::new(move || session(&ports)));
    eprintln!(
        "t131: RTO with the client's failover (SIGKILL to the next acknowledged write): {rto:?}"
    );
}

/// Writes without pause through sessions `open` makes, SIGKILLs `a` (the
/// node the writes go to), checks they go on after a bounded gap (the RTO,
/// returned), restarts `a`, and checks both nodes hold every acknowledged
/// write and nothing else, and VERIFY REPLICA says identical.
fn failover_run(
    a: &mut Node,
    b: &Node,
    open: Arc<dyn Fn() -> Option<Session> + Send + Sync>,
) -> Duration {
    let w = Writer::start(open, "root.fo.d");
    w.wait_for(300);
    // The writes go to a (HAProxy's first server; the client's first
    // host). Kill it mid-stream.
    let before = a.rows("SELECT count(v) FROM root.fo.d").unwrap()[0][0].clone();
    assert_ne!(before, "0", "the writes went to iotdb-1");
    let at_kill = w.acked();
    let killed = Instant::now();
    a.kill9();
    w.wait_for(at_kill + 300);
    let rto = w.first_after(killed);
    assert!(rto < Duration::from_secs(15), "RTO {rto:?}");

    // a returns; writes go on; the pair converges.
    a.restart();
    connected(a);
    w.wait_for(at_kill + 400);
    let n = w.stop();
    for (name, node) in [("a", &*a), ("b", b)] {
        converged(node, name, "root.fo.d", n);
    }
    wait_until(WAIT, "VERIFY REPLICA to say IDENTICAL", || {
        let rows = b.rows("VERIFY REPLICA root.fo.**")?;
        match rows.last() {
            Some(r) if r[3] == "IDENTICAL" => Ok(()),
            _ => Err(format!("{rows:?}")),
        }
    });
    rto
}

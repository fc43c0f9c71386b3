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

#[test]
fn t130_a_killed_node_behind_haproxy_fails_over_and_converges() {
    let (mut a, b) = pair();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = dir.path().join("haproxy.cfg");
    std::fs::write(&cfg, config(port, &a, &b)).unwrap();
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
    let _proxy = Proxy(
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

    let rto = failover_run(&mut a, &b, Arc::new(move || session(&[port])));
    eprintln!("t130: RTO through HAProxy (SIGKILL to the next acknowledged write): {rto:?}");
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
    // The writer: one point per statement, each retried (same time, same
    // value) until acknowledged; a new session whenever one breaks.
    let acked = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let successes: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let writer = {
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
                    .execute(&format!("INSERT INTO root.fo.d(time, v) VALUES ({i}, {i})"))
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
    wait_until(WAIT, "300 writes through the proxy", || {
        let n = acked.load(Ordering::Acquire);
        (n >= 300).then_some(()).ok_or(format!("{n}"))
    });
    // The writes go to a (HAProxy's first server; the client's first
    // host). Kill it mid-stream.
    let before = a.rows("SELECT count(v) FROM root.fo.d").unwrap()[0][0].clone();
    assert_ne!(before, "0", "the writes went to iotdb-1");
    let at_kill = acked.load(Ordering::Acquire);
    let killed = Instant::now();
    a.kill9();
    wait_until(WAIT, "300 writes after the kill", || {
        let n = acked.load(Ordering::Acquire);
        (n >= at_kill + 300).then_some(()).ok_or(format!("{n}"))
    });
    let rto = successes
        .lock()
        .unwrap()
        .iter()
        .find(|t| **t > killed)
        .map(|t| t.duration_since(killed))
        .expect("a write after the kill");
    assert!(rto < Duration::from_secs(15), "RTO {rto:?}");

    // a returns; writes go on; the pair converges.
    a.restart();
    connected(a);
    wait_until(WAIT, "100 more writes", || {
        let n = acked.load(Ordering::Acquire);
        let want = at_kill + 400;
        (n >= want).then_some(()).ok_or(format!("{n}"))
    });
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    let n = acked.load(Ordering::Acquire);
    // Every acknowledged point on both nodes (the reference model: times
    // 1..=n, each value its time); none other.
    for (name, node) in [("a", &*a), ("b", b)] {
        wait_until(WAIT, &format!("{n} points on {name}"), || {
            let rows = node.rows("SELECT count(v), sum(v) FROM root.fo.d")?;
            let count: i64 = rows[0][0].parse().map_err(|e| format!("{e}"))?;
            let sum: f64 = rows[0][1].parse().map_err(|e| format!("{e}"))?;
            let want_sum = (n * (n + 1) / 2) as f64;
            // The last write may have been applied without its reply.
            if (count == n && sum == want_sum)
                || (count == n + 1 && sum == want_sum + (n + 1) as f64)
            {
                Ok(())
            } else {
                Err(format!("count {count} sum {sum}"))
            }
        });
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

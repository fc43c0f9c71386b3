//! Write modes (DESIGN §6): synchronous writes that the peer holds when
//! they return, a budget of unreplicated bytes that blocks and then refuses
//! (applying nothing), and degrading to asynchronous without the peer.

use crate::{connected, count, points, WAIT};
use duet_tests::proxy::{Fault, Proxy};
use duet_tests::{pipe_sql, wait_until, Node};
use std::collections::BTreeSet;
use std::sync::{mpsc, Arc, Mutex};

/// SHOW CLUSTER's local row: (WriteMode, PendingBytes, RpoMs).
fn local_mode(n: &Node) -> (String, String, String) {
    let rows = n.rows("SHOW CLUSTER").expect("SHOW CLUSTER");
    let r = rows.iter().find(|r| r[6] == "local").expect("local row");
    (r[8].clone(), r[9].clone(), r[12].clone())
}

pub(crate) fn signal(n: &Node, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &n.pid().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig}");
}

/// The times of `device.v` on `n`.
fn times(n: &Node, device: &str) -> BTreeSet<i64> {
    points(n, device, "v")
        .iter()
        .map(|r| r[0].parse().expect("time"))
        .collect()
}

/// Synchronous mode: a writer loop on A, A killed while it runs: B holds
/// every write A acknowledged, at once (no waiting for a pipe), every time.
#[test]
fn t110_sync_writes_are_on_the_peer_when_they_return() {
    let (mut a, b) = crate::pair();
    a.sql("SET REPLICATION MAX_PENDING_BYTES = 0");
    assert_eq!(local_mode(&a).0, "sync");
    const WRITERS: usize = 4;
    for round in 0..8i64 {
        let acked: Arc<Mutex<Vec<(usize, i64)>>> = Arc::default();
        let port = a.rpc.port();
        let writers: Vec<_> = (0..WRITERS)
            .map(|k| {
                let acked = acked.clone();
                std::thread::spawn(move || {
                    let Ok(mut s) =
                        duet_rpc::client::Session::open(duet_rpc::client::SessionConfig {
                            hosts: vec![("127.0.0.1".into(), port)],
                            ..Default::default()
                        })
                    else {
                        return;
                    };
                    for i in 0.. {
                        let t = round * 1_000_000 + i;
                        let sql = format!("INSERT INTO root.sync.d{k}(time, v) VALUES ({t}, {t})");
                        if s.execute(&sql).is_err() {
                            return;
                        }
                        acked.lock().unwrap().push((k, t));
                    }
                })
            })
            .collect();
        let enough = 40 + 20 * round as usize;
        wait_until(WAIT, "sync writes acknowledged", || {
            let n = acked.lock().unwrap().len();
            if n >= enough {
                Ok(())
            } else {
                Err(format!("{n} acknowledged"))
            }
        });
        a.kill9();
        for w in writers {
            w.join().unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        for k in 0..WRITERS {
            let on_b = times(&b, &format!("root.sync.d{k}"));
            for (_, t) in acked.iter().filter(|(w, _)| *w == k) {
                assert!(
                    on_b.contains(t),
                    "round {round}: writer {k}'s acknowledged write at {t} is not on B \
                     ({} acknowledged in all)",
                    acked.len()
                );
            }
        }
        a.restart();
        connected(&a);
        assert_eq!(local_mode(&a).0, "sync", "SET REPLICATION is kept");
    }
}

/// Synchronous mode with the peer frozen (SIGSTOP): the write does not
/// return while the peer cannot confirm it; it returns once the peer runs
/// again. Past the write timeout it fails, saying it was committed here and
/// will reach the peer, which it then does.
#[test]
fn t111_a_sync_write_waits_for_a_frozen_peer() {
    let (a, b) = crate::pair();
    a.sql("SET REPLICATION MAX_PENDING_BYTES = 0");
    a.sql("SET REPLICATION WRITE_TIMEOUT_MS = 60000");
    a.sql("INSERT INTO root.frz.d(time, v) VALUES (1, 1)");
    assert_eq!(count(&b, "root.frz.d", "v"), 1, "on B when it returned");

    signal(&b, "-STOP");
    let (tx, rx) = mpsc::channel();
    let port = a.rpc.port();
    std::thread::spawn(move || {
        let r =
            duet_tests::NodeRef::new(port).try_sql("INSERT INTO root.frz.d(time, v) VALUES (2, 2)");
        let _ = tx.send(r);
    });
    wait_until(WAIT, "the write to wait for its peer", || {
        match a.metric("duet_replication_waiting_writes") {
            Some(w) if w >= 1.0 => Ok(()),
            w => Err(format!("waiting writes {w:?}")),
        }
    });
    assert!(rx.try_recv().is_err(), "returned while the peer is frozen");
    signal(&b, "-CONT");
    let r = rx.recv_timeout(WAIT).expect("the write returns");
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(count(&b, "root.frz.d", "v"), 2);

    a.sql("SET REPLICATION WRITE_TIMEOUT_MS = 1500");
    signal(&b, "-STOP");
    let r = duet_tests::NodeRef::new(port).try_sql("INSERT INTO root.frz.d(time, v) VALUES (3, 3)");
    signal(&b, "-CONT");
    let e = r.expect_err("not confirmed by a frozen peer");
    assert!(
        e.contains("606") && e.contains("did not confirm") && e.contains("committed on this node"),
        "{e}"
    );
    // Users and privileges do not wait for the peer: revoking a user's
    // access must work while it is away, whatever the write mode.
    signal(&b, "-STOP");
    let user = duet_tests::NodeRef::new(port);
    let r = user
        .try_sql("CREATE USER while_frozen 'frozen-pw1'")
        .and_then(|_| user.try_sql("GRANT READ_DATA ON root.frz.** TO USER while_frozen"))
        .and_then(|_| user.try_sql("REVOKE READ_DATA ON root.frz.** FROM USER while_frozen"))
        .and_then(|_| user.try_sql("DROP USER while_frozen"));
    signal(&b, "-CONT");
    r.expect("user statements with the peer frozen");
    assert_eq!(count(&a, "root.frz.d", "v"), 3, "committed on A");
    crate::wait_count(&b, "root.frz.d", "v", 3);
    assert!(
        a.metric("duet_replication_unconfirmed_writes_total")
            .unwrap_or(0.0)
            >= 1.0
    );
}

/// A budget of unreplicated bytes with the link blackholed: writes block at
/// the budget and fail after the timeout with an error naming the peer and
/// how far behind it is, and the failed write is not applied. With degrade,
/// writes go on; once the link heals, the mode comes back and both nodes
/// hold exactly the writes that succeeded.
#[test]
fn t112_a_full_budget_refuses_then_degrades_and_recovers() {
    let a = Node::start_with_config("[replication]\nsink_request_timeout_secs = 2\n");
    let b = Node::start();
    let proxy = Proxy::start(b.rpc);
    a.sql(&pipe_sql("AB", proxy.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    connected(&a);
    connected(&b);

    // Bad settings are refused with the key and change nothing.
    for bad in [
        "SET REPLICATION MAX_PENDING = 1",
        "SET REPLICATION MAX_PENDING_BYTES = LOTS",
        "SET REPLICATION WRITE_TIMEOUT_MS = 0",
    ] {
        let e = a.rows(bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.to_lowercase().contains("max_pending") || e.contains("write_timeout_ms"),
            "{bad}: {e}"
        );
    }
    assert_eq!(local_mode(&a).0, "async");

    a.sql("SET REPLICATION MAX_PENDING_BYTES = 20000");
    a.sql("SET REPLICATION WRITE_TIMEOUT_MS = 1000");
    assert_eq!(local_mode(&a).0, "bounded");
    let blocks = 100;
    let write = |i: i64| {
        let values: Vec<String> = (i * blocks..(i + 1) * blocks)
            .map(|t| format!("({t}, {t})"))
            .collect();
        duet_tests::NodeRef::new(a.rpc.port()).try_sql(&format!(
            "INSERT INTO root.bud.d(time, v) VALUES {}",
            values.join(", ")
        ))
    };
    let mut acked: BTreeSet<i64> = BTreeSet::new();
    let mut block = 0;
    proxy.set(Fault::Blackhole);
    let refusal = loop {
        assert!(block < 1000, "the budget never filled");
        match write(block) {
            Ok(()) => acked.extend(block * blocks..(block + 1) * blocks),
            Err(e) => break e,
        }
        block += 1;
    };
    let refused = block;
    assert!(
        refusal.contains("606")
            && refusal.contains("replication budget full")
            && refusal.contains(&format!("127.0.0.1:{}", proxy.port()))
            && refusal.contains("bytes")
            && refusal.contains("not applied"),
        "{refusal}"
    );
    let here = times(&a, "root.bud.d");
    assert_eq!(here, acked, "A holds exactly the writes that succeeded");
    assert!(a.metric("duet_replication_pending_bytes").unwrap_or(0.0) >= 20000.0);
    assert!(
        a.metric("duet_replication_refused_writes_total")
            .unwrap_or(0.0)
            >= 1.0
    );

    // Degrade: the peer has made no progress for longer than this already.
    a.sql("SET REPLICATION WRITE_TIMEOUT_MS = 30000");
    a.sql("SET REPLICATION DEGRADE_AFTER_MS = 1500");
    for i in refused + 1..refused + 6 {
        write(i).expect("writes go on, degraded");
        acked.extend(i * blocks..(i + 1) * blocks);
    }
    assert_eq!(local_mode(&a).0, "bounded, degraded to async");
    assert_eq!(a.metric("duet_replication_degraded"), Some(1.0));
    let pipes = a.rows("SHOW PIPES").unwrap();
    assert_eq!(pipes[0][10], "bounded, degraded to async", "{pipes:?}");

    proxy.set(Fault::Pass);
    wait_until(WAIT, "the bounded mode back", || {
        let m = local_mode(&a);
        if m.0 == "bounded" {
            Ok(())
        } else {
            Err(format!("{m:?}"))
        }
    });
    assert_eq!(a.metric("duet_replication_degraded"), Some(0.0));
    crate::wait_count(&b, "root.bud.d", "v", acked.len() as u64);
    assert_eq!(times(&b, "root.bud.d"), acked);
    assert_eq!(times(&a, "root.bud.d"), acked);
    assert!(
        !acked.contains(&(refused * blocks)),
        "the refused block is on neither node"
    );
    assert!(
        a.metric("duet_replication_degradations_total")
            .unwrap_or(0.0)
            >= 1.0
    );
    write(refused + 10).expect("writes within the budget again");
}

/// What the peer lacks is counted from the log after a restart too (the
/// budget holds across one), and SHOW CLUSTER shows it for the peer.
#[test]
fn t113_pending_writes_are_counted_across_a_restart() {
    let (mut a, b) = crate::pair();
    a.sql("STOP PIPE AB");
    for i in 0..5 {
        crate::insert(&a, "root.pend.d", "v", i * 100, 100, 1.0);
    }
    let pending = |n: &Node| {
        (
            n.metric("duet_replication_pending_events").unwrap_or(-1.0),
            n.metric("duet_replication_pending_bytes").unwrap_or(-1.0),
        )
    };
    let (events, bytes) = pending(&a);
    assert_eq!(events, 5.0);
    assert!(bytes > 500.0, "{bytes}");
    let peer = a.rows("SHOW CLUSTER").unwrap();
    let peer = peer.iter().find(|r| r[6] == "peer").expect("peer row");
    assert_eq!(peer[10], "5", "PendingEvents of the peer: {peer:?}");
    a.kill9();
    a.restart();
    assert_eq!(pending(&a), (events, bytes), "counted again from the log");
    a.sql("START PIPE AB");
    crate::wait_count(&b, "root.pend.d", "v", 500);
    wait_until(WAIT, "nothing pending", || match pending(&a) {
        (e, b) if e == 0.0 && b == 0.0 => Ok(()),
        p => Err(format!("{p:?}")),
    });
}

/// A pipe that fell off the log resends history, and its position moves to
/// the log's end when the transfer starts: until the transfer is done the
/// peer holds none of the writes it lacked, and the budget still counts
/// them (it did not: they vanished from it at the transfer's start).
#[test]
fn t114_a_history_transfer_does_not_hide_what_the_peer_lacks() {
    let a = Node::start_with_config(
        "[replication]\nsink_request_timeout_secs = 2\nlog_max_events = 20\ntrim_interval_secs = 1\n",
    );
    let b = Node::start();
    let proxy = Proxy::start(b.rpc);
    a.sql(&pipe_sql("AB", proxy.port()));
    connected(&a);
    a.sql("SET REPLICATION MAX_PENDING_BYTES = 100000000");
    a.sql("STOP PIPE AB");
    for i in 0..60 {
        crate::insert(&a, "root.hist.d", "v", i, 1, 1.0);
    }
    wait_until(WAIT, "A's log trimmed past the pipe", || {
        match a.metric("duet_changelog_first_seq") {
            Some(f) if f > 30.0 => Ok(()),
            f => Err(format!("first_seq {f:?}")),
        }
    });
    let pending = |n: &Node| n.metric("duet_replication_pending_events").unwrap_or(-1.0);
    assert!(pending(&a) >= 60.0, "{}", pending(&a));
    proxy.set(Fault::Blackhole);
    a.sql("START PIPE AB");
    wait_until(WAIT, "AB resending history", || {
        let p = a.pipes().into_iter().find(|p| p.0 == "AB").ok_or("no AB")?;
        if p.2.contains("resending history") {
            Ok(())
        } else {
            Err(format!("{p:?}"))
        }
    });
    assert!(
        pending(&a) >= 60.0,
        "what B lacks is still counted during the transfer: {}",
        pending(&a)
    );
    proxy.set(Fault::Pass);
    crate::wait_count(&b, "root.hist.d", "v", 60);
    wait_until(WAIT, "nothing pending", || {
        let p = pending(&a);
        if p == 0.0 {
            Ok(())
        } else {
            Err(format!("{p}"))
        }
    });
}

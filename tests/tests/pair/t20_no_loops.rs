//! With both pipes running and writes on both sides, each point exists once
//! on each node and the change logs stop growing.

use crate::{count, pair, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};

#[test]
fn t20_no_loops_no_duplicates() {
    let (a, b) = pair();
    let writers: Vec<_> = [(&a, "root.loop.a"), (&b, "root.loop.b")]
        .into_iter()
        .map(|(node, device)| {
            let port = node.rpc.port();
            let device = device.to_string();
            std::thread::spawn(move || {
                let n = duet_tests::NodeRef::new(port);
                for i in 0..100i64 {
                    n.sql(&format!("INSERT INTO {device}(time, v) VALUES ({i}, {i})"));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    // 100 events originated on each side: each node logged its own 100
    // (double-living pipes never forward, so peers' changes are not
    // logged) and applied the other's 100 once.
    for n in [&a, &b] {
        wait_until(WAIT, "100 events logged and 100 applied on each", || {
            let (s, applied) = (n.log_last_seq(), n.peer_changes_applied());
            if (s, applied) == (100, 100) {
                Ok(())
            } else {
                Err(format!("last_seq {s}, applied {applied}"))
            }
        });
        assert_eq!(count(n, "root.loop.a", "v"), 100);
        assert_eq!(count(n, "root.loop.b", "v"), 100);
    }
    // Caught up on both sides, and nothing more arrives.
    for n in [&a, &b] {
        wait_until(WAIT, "pipes caught up", || {
            let p = n.pipes();
            if p.iter().all(|x| x.3 == 0 && x.1 == "RUNNING") {
                Ok(())
            } else {
                Err(format!("{p:?}"))
            }
        });
    }
    assert_eq!(
        (a.log_last_seq(), b.log_last_seq()),
        (100, 100),
        "the logs stopped growing"
    );
    assert_eq!(
        (a.peer_changes_applied(), b.peer_changes_applied()),
        (100, 100),
        "nothing came back"
    );
}

/// A pipe that forwards (no double-living flag) carries the changes its
/// node received from others: A -> B -> C. A node logs peers' changes only
/// while such a pipe exists (double-living pipes never read them there), so
/// this checks both halves: made after B already held A's data (its history
/// carries that), the forwarding pipe gets A's later changes through B's
/// log; dropped, B stops logging them.
#[test]
fn t21_a_forwarding_pipe_carries_a_peers_changes_on() {
    let (a, b, c) = (Node::start(), Node::start(), Node::start());
    let forward = |port: u16| {
        format!(
            "CREATE PIPE BC WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', \
             'sink.port'='{port}')"
        )
    };
    a.sql(&pipe_sql("AB", b.rpc.port()));
    // AB's (empty) history transfer done first, so A's insert reaches B
    // once, as a change of A's log; inserted during the transfer it could
    // also arrive in the snapshot and again from the log after BC exists.
    crate::connected(&a);
    crate::insert(&a, "root.fwd.d", "v", 0, 100, 1.0);
    crate::wait_count(&b, "root.fwd.d", "v", 100);
    assert_eq!(
        b.log_last_seq(),
        0,
        "no forwarding pipe: A's changes not logged on B"
    );
    b.sql(&forward(c.rpc.port()));
    crate::wait_count(&c, "root.fwd.d", "v", 100);
    for k in 1..=5 {
        crate::insert(&a, "root.fwd.d", "v", k * 100, 100, 1.0);
    }
    crate::wait_count(&c, "root.fwd.d", "v", 600);
    assert_eq!(b.log_last_seq(), 5, "A's five later changes logged on B");
    b.sql("DROP PIPE BC");
    let logged = b.log_last_seq();
    crate::insert(&a, "root.fwd.d", "v", 600, 100, 1.0);
    crate::wait_count(&b, "root.fwd.d", "v", 700);
    assert_eq!(
        b.log_last_seq(),
        logged,
        "no forwarding pipe again: not logged"
    );
    assert_eq!(count(&c, "root.fwd.d", "v"), 600);
}

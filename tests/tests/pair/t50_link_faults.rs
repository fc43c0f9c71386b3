//! Link faults between the nodes (a userspace proxy): cut, delay, close in
//! the middle of a frame, blackhole. Pipes retry and catch up; nothing lost, nothing
//! applied twice.

use crate::{insert, wait_count, WAIT};
use duet_tests::proxy::{Fault, Proxy};
use duet_tests::{pipe_sql, wait_until, Node};
use std::time::Duration;

#[test]
fn t50_cut_delay_and_close_mid_frame() {
    let a = Node::start_with(&["--config", &write_conf()]);
    let b = Node::start();
    let proxy = Proxy::start(b.rpc);
    a.sql(&pipe_sql("AB", proxy.port()));
    crate::connected(&a);
    insert(&a, "root.l.d", "v", 0, 100, 1.0);
    wait_count(&b, "root.l.d", "v", 100);

    proxy.set(Fault::Cut);
    insert(&a, "root.l.d", "v", 100, 100, 1.0);
    wait_until(WAIT, "a retry to be counted", || {
        let r = a
            .metric("duet_pipe_retries_total{pipe=\"AB\"}")
            .unwrap_or(0.0);
        if r >= 1.0 {
            Ok(())
        } else {
            let (_, m) = a.http_get("/metrics");
            let pipe_lines: Vec<&str> = m.lines().filter(|l| l.starts_with("duet_pipe")).collect();
            Err(format!(
                "{r} retries; {pipe_lines:?}; {}",
                a.log()
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" | ")
            ))
        }
    });
    let cluster = a.rows("SHOW CLUSTER").unwrap();
    assert!(cluster.iter().any(|r| r[2] == "Unreachable"), "{cluster:?}");

    proxy.set(Fault::Delay(Duration::from_millis(50)));
    wait_count(&b, "root.l.d", "v", 200);

    // Close connections after a few bytes of the next request.
    proxy.set(Fault::CloseAfter(10));
    insert(&a, "root.l.d", "v", 200, 100, 1.0);
    proxy.set(Fault::Pass);
    wait_count(&b, "root.l.d", "v", 300);

    // A blackhole: the link swallows everything; the request times out
    // (sink_request_timeout_secs = 2) and is sent again once it heals.
    proxy.set(Fault::Blackhole);
    let retries_before = retries(&a);
    insert(&a, "root.l.d", "v", 300, 100, 1.0);
    wait_until(WAIT, "the blackholed send to time out", || {
        let r = retries(&a);
        if r > retries_before {
            Ok(())
        } else {
            Err(format!("{r} retries"))
        }
    });
    proxy.set(Fault::Pass);
    wait_count(&b, "root.l.d", "v", 400);
    wait_until(WAIT, "B applied A's 4 events once", || {
        let s = b.peer_changes_applied();
        if s == 4 {
            Ok(())
        } else {
            Err(format!("B applied {s}"))
        }
    });
}

fn retries(n: &Node) -> f64 {
    n.metric("duet_pipe_retries_total{pipe=\"AB\"}")
        .unwrap_or(0.0)
}

/// A short sink timeout so a stalled link is noticed quickly.
fn write_conf() -> String {
    let dir = std::env::temp_dir().join(format!("duet-t50-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.toml");
    std::fs::write(&path, "[replication]\nsink_request_timeout_secs = 2\n").unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn t53_a_batch_applied_whose_reply_is_lost_is_applied_once() {
    let a = Node::start_with(&["--config", &write_conf()]);
    let b = Node::start();
    let proxy = Proxy::start(b.rpc);
    a.sql(&pipe_sql("AB", proxy.port()));
    crate::connected(&a);
    proxy.set(Fault::DropReplies);
    insert(&a, "root.lost.d", "v", 0, 100, 1.0);
    // B applies the batch though A never hears back, and A retries.
    wait_count(&b, "root.lost.d", "v", 100);
    wait_until(WAIT, "the lost reply to make A retry", || {
        let retries = a
            .metric("duet_pipe_retries_total{pipe=\"AB\"}")
            .unwrap_or(0.0);
        let dropped = proxy.dropped_reply_bytes();
        if retries >= 1.0 && dropped > 0 {
            Ok(())
        } else {
            Err(format!("{retries} retries, {dropped} reply bytes dropped"))
        }
    });
    proxy.set(Fault::Pass);
    insert(&a, "root.lost.d", "v", 100, 100, 1.0);
    wait_count(&b, "root.lost.d", "v", 200);
    crate::connected(&a);
    // The batch sent again after the lost reply changed nothing: each of
    // A's changes was applied on B once.
    assert_eq!(b.peer_changes_applied(), a.log_last_seq());
    assert_eq!(
        crate::points(&a, "root.lost.d", "v"),
        crate::points(&b, "root.lost.d", "v")
    );
}

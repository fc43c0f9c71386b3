//! The change log is trimmed; a pipe whose position was trimmed away
//! recovers through a history transfer.

use crate::{insert, wait_count, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};
use std::time::Duration;

/// A with a 20-event log and pipe AB (`create_pipe` given B's port); 10
/// points reach B; B dies; 60 more single-point inserts on A; waits until
/// A's log is trimmed past the pipe's position. Returns (A, B, A's config).
fn pipe_falls_off(create_pipe: impl Fn(u16) -> String) -> (tempfile::TempDir, Node, Node) {
    let (conf, a) = node_with("log_max_events = 20\ntrim_interval_secs = 1\n");
    let mut b = Node::start();
    a.sql(&create_pipe(b.rpc.port()));
    insert(&a, "root.t.d", "v", 0, 10, 1.0);
    wait_count(&b, "root.t.d", "v", 10);
    b.kill9();
    for i in 0..60 {
        insert(&a, "root.t.d", "v", 10 + i, 1, 1.0);
    }
    wait_until(
        Duration::from_secs(30),
        "A's log trimmed past the pipe's position",
        || {
            let first = a.metric("duet_changelog_first_seq").unwrap_or(0.0);
            if first > 20.0 {
                Ok(())
            } else {
                Err(format!("first_seq {first}"))
            }
        },
    );
    (conf, a, b)
}

#[test]
fn t70_a_pipe_that_fell_off_the_log_resends_history() {
    let (_conf, _a, mut b) = pipe_falls_off(|port| pipe_sql("AB", port));
    b.restart();
    wait_count(&b, "root.t.d", "v", 70);
}

#[test]
fn t71_without_history_a_trimmed_position_stops_the_pipe_with_the_range() {
    let (_conf, a, mut b) = pipe_falls_off(|port| {
        format!(
            "CREATE PIPE AB WITH SOURCE ('source.mode.double-living'='true', \
             'source.history.enable'='false') WITH SINK ('sink'='iotdb-thrift-sink', \
             'sink.ip'='127.0.0.1', 'sink.port'='{port}')"
        )
    });
    b.restart();
    let (state, message) = wait_until(WAIT, "pipe AB stopped by the trim", || {
        let p = a.pipes().into_iter().find(|p| p.0 == "AB").ok_or("no AB")?;
        if p.1 == "STOPPED" {
            Ok((p.1, p.2))
        } else {
            Err(format!("{p:?}"))
        }
    });
    assert_eq!(state, "STOPPED");
    assert!(
        message.contains("were trimmed from the change log")
            && message.contains("source.history.enable is false"),
        "{message}"
    );
    // B has what was sent before the gap (the batch in flight when B died
    // included) and not the rest: the pipe stopped rather than skip.
    let on_b = crate::count(&b, "root.t.d", "v");
    assert!((10..70).contains(&on_b), "{on_b} points on B");
}

#[test]
fn t72_a_history_transfer_slower_than_the_log_fills_completes_once() {
    let (_conf, a) = node_with("log_max_events = 50\ntrim_interval_secs = 1\n");
    let b = Node::start();
    // 2 MB of history, sent at 400 KB/s: about 5 s, while a writer fills
    // the 50-event log several times over.
    crate::text_tablet(&a, "root.h.big", 500, 4000);
    let writer = {
        let port = a.rpc.port();
        std::thread::spawn(move || {
            let a = duet_tests::NodeRef::new(port);
            for i in 0..400 {
                a.sql(&format!(
                    "INSERT INTO root.h.live(time, v) VALUES ({i}, {i})"
                ));
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    a.sql(&format!(
        "CREATE PIPE AB WITH SOURCE ('source.mode.double-living'='true') \
         WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', \
         'sink.port'='{}', 'sink.rate-limit-bytes-per-second'='400000')",
        b.rpc.port()
    ));
    writer.join().unwrap();
    wait_count(&b, "root.h.big", "v", 500);
    wait_count(&b, "root.h.live", "v", 400);
    let transfers = a
        .metric("duet_pipe_history_transfers_total{pipe=\"AB\"}")
        .unwrap_or(-1.0);
    assert_eq!(
        transfers, 1.0,
        "one history transfer, not one per log refill"
    );
    wait_until(
        WAIT,
        "the log trimmed again once the transfer ended",
        || {
            let first = a.metric("duet_changelog_first_seq").unwrap_or(0.0);
            let last = a.metric("duet_changelog_last_seq").unwrap_or(0.0);
            if last - first < 60.0 {
                Ok(())
            } else {
                Err(format!("log holds {first}..{last}"))
            }
        },
    );
}

/// A node whose `[replication]` section is `conf`.
fn node_with(conf: &str) -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.toml");
    std::fs::write(&path, format!("[replication]\n{conf}")).unwrap();
    let node = Node::start_with(&["--config", path.to_str().unwrap()]);
    (dir, node)
}

#[test]
fn t73_the_log_stays_under_its_byte_cap_and_a_pipe_that_fell_off_resends_history() {
    let (_conf, a) = node_with("log_max_bytes = 16777216\ntrim_interval_secs = 1\n");
    let mut b = Node::start();
    a.sql(&pipe_sql("AB", b.rpc.port()));
    crate::connected(&a);
    b.kill9();
    // 40 MB of changes while B is away: more than the 16 MiB the log may hold.
    for i in 0..40 {
        crate::text_tablet(&a, &format!("root.cap.d{i}"), 100, 10_000);
    }
    wait_until(WAIT, "A's log back under 16 MiB", || {
        let bytes = a.metric("duet_changelog_bytes").unwrap_or(-1.0);
        let first = a.metric("duet_changelog_first_seq").unwrap_or(0.0);
        if bytes <= 17.0 * 1048576.0 && first > 2.0 {
            Ok(())
        } else {
            Err(format!("{bytes} bytes from {first}"))
        }
    });
    b.restart();
    for i in [0, 20, 39] {
        wait_count(&b, &format!("root.cap.d{i}"), "v", 100);
    }
    assert!(
        a.metric("duet_pipe_fell_off_log_total{pipe=\"AB\"}")
            .unwrap_or(0.0)
            >= 1.0,
        "the pipe fell off the log, counted"
    );
}

#[test]
fn t74_with_the_disk_nearly_full_the_log_is_emptied_and_history_covers_it() {
    // A threshold no disk meets: the guard is on from the start.
    let (_conf, a) =
        node_with("min_free_disk_bytes = 1000000000000000000\ntrim_interval_secs = 1\n");
    let mut b = Node::start();
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.kill9();
    insert(&a, "root.disk.d", "v", 0, 50, 1.0);
    wait_until(WAIT, "A's log emptied", || {
        let first = a.metric("duet_changelog_first_seq").unwrap_or(0.0);
        let last = a.metric("duet_changelog_last_seq").unwrap_or(0.0);
        if first == last + 1.0 && last > 0.0 {
            Ok(())
        } else {
            Err(format!("log {first}..{last}"))
        }
    });
    b.restart();
    wait_count(&b, "root.disk.d", "v", 50);
}

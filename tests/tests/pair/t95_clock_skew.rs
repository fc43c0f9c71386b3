//! Clocks that disagree. Conflicts are decided by time, so a node whose
//! clock runs two hours ahead would win every conflict for two hours and
//! drag its peer's clock along. The pipes measure the offset at each
//! handshake, show it (SHOW CLUSTER, /metrics) and refuse a peer past
//! `replication.max_clock_skew_ms`, in both directions; nothing is applied.

use crate::{count, insert, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};

const TWO_HOURS_MS: i64 = 2 * 3_600_000;

fn stopped_with(n: &Node, pipe: &str) -> String {
    wait_until(WAIT, &format!("pipe {pipe} stopped"), || {
        let p = n
            .pipes()
            .into_iter()
            .find(|p| p.0 == pipe)
            .ok_or("no pipe")?;
        if p.1 == "STOPPED" {
            Ok(p.2)
        } else {
            Err(format!("{p:?}"))
        }
    })
}

#[test]
fn t95_a_peer_two_hours_ahead_is_refused_both_ways() {
    let a = Node::start();
    let offset = TWO_HOURS_MS.to_string();
    let b = Node::start_with_env(&[("DUET_CLOCK_OFFSET_MS", offset.as_str())], &[]);
    insert(&b, "root.skew.b", "v", 0, 10, 1.0);
    insert(&a, "root.skew.a", "v", 0, 10, 1.0);
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));

    // A's pipe sees a peer ahead of it; B's pipe is refused by A.
    let ab = stopped_with(&a, "AB");
    assert!(
        ab.contains("ahead of this node's") && ab.contains("replication.max_clock_skew_ms = 500"),
        "{ab}"
    );
    let ba = stopped_with(&b, "BA");
    assert!(
        ba.contains("ahead of this node's") && ba.contains("max_clock_skew_ms"),
        "{ba}"
    );
    // The measured offset is shown where an operator looks.
    let offset_seen = wait_until(WAIT, "the offset in SHOW CLUSTER", || {
        let rows = a.rows("SHOW CLUSTER")?;
        let peer = rows
            .iter()
            .find(|r| r[6] == "peer")
            .ok_or(format!("{rows:?}"))?;
        peer[7].parse::<i64>().map_err(|_| format!("{peer:?}"))
    });
    assert!(
        (offset_seen - TWO_HOURS_MS).abs() < 60_000,
        "measured {offset_seen} ms"
    );
    let gauge = a
        .metric("duet_pipe_peer_clock_offset_ms{pipe=\"AB\"}")
        .unwrap_or(0.0);
    assert!((gauge as i64 - TWO_HOURS_MS).abs() < 60_000, "{gauge}");

    // Nothing crossed in either direction.
    assert_eq!(count(&a, "root.skew.b", "v"), 0);
    assert_eq!(count(&b, "root.skew.a", "v"), 0);
}

#[test]
fn t96_a_small_offset_is_measured_and_accepted() {
    let a = Node::start();
    let b = Node::start_with_env(&[("DUET_CLOCK_OFFSET_MS", "-200")], &[]);
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    crate::connected(&a);
    crate::connected(&b);
    insert(&a, "root.skew.ok", "v", 0, 10, 1.0);
    crate::wait_count(&b, "root.skew.ok", "v", 10);
    let rows = a.rows("SHOW CLUSTER").unwrap();
    let peer = rows.iter().find(|r| r[6] == "peer").unwrap();
    let offset: i64 = peer[7].parse().unwrap();
    assert!((-400..0).contains(&offset), "measured {offset} ms");
}

//! IoTDB's one-shot pipe (`'mode.snapshot'='true'`, or `'mode'='snapshot'`):
//! it sends the data there is and ends, and says so in SHOW PIPES; what is
//! written afterwards waits for the next START, which sends the snapshot
//! again. Bad combinations are refused and create nothing.

use crate::{count, insert, WAIT};
use duet_tests::{wait_until, Node};

/// Waits until `a`'s pipe S has ended its snapshot and `b` holds `n`
/// points of root.snap.d.v.
fn snapshot_sent(a: &Node, b: &Node, n: u64) {
    wait_until(WAIT, &format!("{n} points on B and S ended"), || {
        let got = count(b, "root.snap.d", "v");
        match a.pipes().as_slice() {
            [p] if p.1 == "STOPPED" && p.2.contains("snapshot sent") && got == n => Ok(()),
            p => Err(format!("{got} points on B; pipes {p:?}")),
        }
    });
}

#[test]
fn t177_a_snapshot_pipe_sends_its_history_and_ends() {
    let a = Node::start();
    let b = Node::start();
    insert(&a, "root.snap.d", "v", 0, 500, 1.0);
    a.sql(&format!(
        "CREATE PIPE S WITH SOURCE ('source.mode.snapshot'='true') WITH SINK \
         ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{}')",
        b.rpc.port()
    ));
    snapshot_sent(&a, &b, 500);
    // Written after the snapshot: not sent by an ended pipe; START sends
    // a new snapshot with them.
    insert(&a, "root.snap.d", "v", 500, 100, 1.0);
    assert_eq!(a.pipes()[0].1, "STOPPED");
    a.sql("START PIPE S");
    snapshot_sent(&a, &b, 600);
    assert_eq!(
        a.rows("SELECT sum(v) FROM root.snap.d").unwrap(),
        b.rows("SELECT sum(v) FROM root.snap.d").unwrap()
    );

    // IoTDB's other spelling; and what a snapshot pipe cannot be.
    a.sql("DROP PIPE S");
    let sink = format!(
        "WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{}')",
        b.rpc.port()
    );
    a.sql(&format!(
        "CREATE PIPE Q WITH SOURCE ('mode'='snapshot') {sink}"
    ));
    wait_until(WAIT, "Q ended", || match a.pipes().as_slice() {
        [p] if p.1 == "STOPPED" && p.2.contains("snapshot sent") => Ok(()),
        p => Err(format!("{p:?}")),
    });
    a.sql("DROP PIPE Q");
    let mut s = a.session();
    for (source, words) in [
        (
            "'mode.snapshot'='true', 'mode.double-living'='true'",
            "double-living",
        ),
        (
            "'mode.snapshot'='true', 'history.enable'='false'",
            "history",
        ),
        (
            "'mode'='subscribe'",
            "expected one of live, query, snapshot",
        ),
    ] {
        let e = s
            .execute(&format!("CREATE PIPE X WITH SOURCE ({source}) {sink}"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| format!("{source} was accepted"));
        assert!(e.contains(words), "{source}: {e}");
    }
    assert!(a.pipes().is_empty(), "{:?}", a.pipes());
}

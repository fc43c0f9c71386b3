//! `source.pattern` is IoTDB's string prefix of the series path
//! (`root.p.d1` also takes `root.p.d10` and `root.p.d1x`), `source.path` a
//! path pattern (`root.p.d1.**` takes only `root.p.d1`'s series): on real
//! data, in the history transfer and in realtime alike.

use crate::{count, WAIT};
use duet_tests::{wait_until, Node};

const DEVICES: [&str; 4] = ["root.p.d1", "root.p.d10", "root.p.d1x", "root.p.d2"];

fn write(n: &Node, t: i64) {
    for d in DEVICES {
        n.sql(&format!("INSERT INTO {d}(time, s) VALUES ({t}, {t})"));
    }
}

fn pipe(name: &str, key: &str, value: &str, port: u16) -> String {
    format!(
        "CREATE PIPE {name} WITH SOURCE ('{key}'='{value}') WITH SINK \
         ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{port}')"
    )
}

#[test]
fn t176_pattern_is_a_string_prefix_and_path_a_path_pattern() {
    let (a, by_pattern, by_path) = (Node::start(), Node::start(), Node::start());
    // Before the pipes: these go by the history transfer.
    write(&a, 1);
    a.sql(&pipe(
        "AP",
        "source.pattern",
        "root.p.d1",
        by_pattern.rpc.port(),
    ));
    a.sql(&pipe("AQ", "path", "root.p.d1.**", by_path.rpc.port()));
    // After: realtime.
    write(&a, 2);

    let want_pattern = [2, 2, 2, 0];
    let want_path = [2, 0, 0, 0];
    for (node, want) in [(&by_pattern, want_pattern), (&by_path, want_path)] {
        wait_until(WAIT, "the carried series on the receiver", || {
            let got: Vec<u64> = DEVICES.iter().map(|d| count(node, d, "s")).collect();
            if got == want {
                Ok(())
            } else {
                Err(format!("{got:?}, want {want:?}"))
            }
        });
    }
    // Caught up, and still nothing of the others.
    for p in a.pipes() {
        wait_until(WAIT, "pipes caught up", || {
            match a.pipes().iter().find(|x| x.0 == p.0) {
                Some(x) if x.3 == 0 && x.1 == "RUNNING" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
    }
    assert_eq!(count(&by_pattern, "root.p.d2", "s"), 0);
    assert_eq!(count(&by_path, "root.p.d10", "s"), 0);
}

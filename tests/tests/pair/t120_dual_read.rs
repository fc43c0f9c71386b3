//! Dual read (`SET READ_MODE = DUAL`): a query on one node reads both and
//! merges them by last writer wins, as the nodes will once replication has
//! caught up; a peer that does not answer leaves the local result and a
//! warning.

use duet_rpc::client::{Outcome, Session, SessionConfig};
use duet_tests::Node;
use std::collections::BTreeMap;

fn dual_session(n: &Node) -> Session {
    Session::open(SessionConfig {
        hosts: vec![("127.0.0.1".into(), n.rpc.port())],
        setup: vec!["SET READ_MODE = DUAL".into()],
        ..SessionConfig::default()
    })
    .expect("open a dual-read session")
}

/// Rows of `sql` as text, and the warning that came with them.
fn read(s: &mut Session, sql: &str) -> (Vec<Vec<String>>, Option<String>) {
    match s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}")) {
        Outcome::Done => panic!("{sql}: no result set"),
        Outcome::Rows(mut rows) => {
            let warning = rows.warning().map(str::to_string);
            let mut out = Vec::new();
            while let Some(r) = rows.next_row().expect("next row") {
                out.push(r.iter().map(|f| f.to_string()).collect());
            }
            (out, warning)
        }
    }
}

fn f(v: f64) -> String {
    format!("{v:?}")
}

#[test]
fn t120_a_dual_read_merges_both_nodes_like_replication_would() {
    let (mut a, b) = crate::pair();
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    // Apart: A writes 0..9, then B 5..14 (newer: B wins 5..9), a series
    // only A has and one only B has; then A deletes 12..13 (newer than B's
    // points there, so they go).
    crate::insert(&a, "root.dr.d", "v", 0, 10, 1.0);
    crate::insert(&a, "root.dr.d", "w", 0, 5, 1.0);
    crate::insert(&b, "root.dr.d", "v", 5, 10, 2.0);
    crate::insert(&b, "root.dr.e", "v", 0, 3, 1.0);
    a.sql("DELETE FROM root.dr.d.v WHERE time >= 12 AND time <= 13");
    // The model.
    let mut v: BTreeMap<i64, f64> = (0..10).map(|t| (t, t as f64)).collect();
    for t in 5..15 {
        v.insert(t, 2.0 * t as f64);
    }
    v.remove(&12);
    v.remove(&13);

    for (name, node) in [("A", &a), ("B", &b)] {
        let mut s = dual_session(node);
        let (rows, warning) = read(&mut s, "SELECT v FROM root.dr.d");
        assert_eq!(warning, None, "{name}");
        let expected: Vec<Vec<String>> =
            v.iter().map(|(t, x)| vec![t.to_string(), f(*x)]).collect();
        assert_eq!(rows, expected, "raw on {name}");

        let n = v.len() as f64;
        let sum: f64 = v.values().sum();
        let min = v.values().cloned().fold(f64::MAX, f64::min);
        let max = v.values().cloned().fold(f64::MIN, f64::max);
        let (rows, _) = read(
            &mut s,
            "SELECT count(v), avg(v), min_value(v), max_value(v) FROM root.dr.d",
        );
        assert_eq!(
            rows,
            vec![vec![(v.len()).to_string(), f(sum / n), f(min), f(max)]],
            "aggregates on {name}"
        );

        let (rows, _) = read(
            &mut s,
            "SELECT count(v) FROM root.dr.d GROUP BY ([0, 20), 5ms)",
        );
        let counts: Vec<String> = rows.iter().map(|r| r[1].clone()).collect();
        let expected: Vec<String> = (0..4)
            .map(|w| v.range(w * 5..w * 5 + 5).count().to_string())
            .collect();
        assert_eq!(counts, expected, "GROUP BY on {name}");

        let (rows, _) = read(&mut s, "SELECT LAST v FROM root.dr.d");
        let (lt, lv) = v.iter().next_back().unwrap();
        assert_eq!(rows[0][0], lt.to_string(), "LAST on {name}: {rows:?}");
        assert_eq!(rows[0][2], f(*lv), "LAST on {name}: {rows:?}");

        let (rows, _) = read(&mut s, "SELECT v FROM root.dr.d ORDER BY TIME DESC LIMIT 3");
        let newest: Vec<String> = v.keys().rev().take(3).map(|t| t.to_string()).collect();
        assert_eq!(
            rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            newest,
            "ORDER BY TIME DESC LIMIT on {name}"
        );

        let (rows, _) = read(&mut s, "SELECT count(v) FROM root.dr.e");
        assert_eq!(
            rows,
            vec![vec!["3".to_string()]],
            "a series only B has, on {name}"
        );
        let (rows, _) = read(&mut s, "SELECT count(w) FROM root.dr.d");
        assert_eq!(
            rows,
            vec![vec!["5".to_string()]],
            "a series only A has, on {name}"
        );
    }

    // Points far apart (read in windows that widen over the gaps), both
    // directions, and LAST.
    a.sql("INSERT INTO root.dr.far(time, v) VALUES (1000000000000, 1)");
    b.sql("INSERT INTO root.dr.far(time, v) VALUES (3, 3)");
    b.sql("INSERT INTO root.dr.far(time, v) VALUES (2000000000000, 2)");
    let mut s = dual_session(&a);
    let times = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    let (rows, _) = read(&mut s, "SELECT v FROM root.dr.far");
    assert_eq!(times(rows), ["3", "1000000000000", "2000000000000"]);
    let (rows, _) = read(&mut s, "SELECT v FROM root.dr.far ORDER BY TIME DESC");
    assert_eq!(times(rows), ["2000000000000", "1000000000000", "3"]);
    let (rows, _) = read(&mut s, "SELECT LAST v FROM root.dr.far");
    assert_eq!(times(rows), ["2000000000000"]);

    // Single reads are this node's alone.
    let mut s = dual_session(&a);
    s.execute("SET READ_MODE = SINGLE").unwrap();
    let (rows, _) = read(&mut s, "SELECT count(v) FROM root.dr.d");
    assert_eq!(rows, vec![vec!["10".to_string()]]);

    // The peer gone: the local result, and a warning the client sees.
    drop(b);
    let mut s = dual_session(&a);
    let (rows, warning) = read(&mut s, "SELECT count(v) FROM root.dr.d");
    assert_eq!(rows, vec![vec!["10".to_string()]]);
    let warning = warning.expect("a warning");
    assert!(warning.contains("did not answer"), "{warning}");
    a.kill9();
}

//! The same series and timestamps written on both nodes with different
//! values converge to the same value on both (last writer wins).

use crate::{insert, pair, points, WAIT};
use duet_tests::wait_until;

#[test]
fn t30_conflicting_writes_converge() {
    let (a, b) = pair();
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    // Interleaved, so each side wins some timestamps.
    for round in 0..5i64 {
        insert(&a, "root.c.d", "v", round * 10, 10, 1.0);
        insert(&b, "root.c.d", "v", round * 10 + 5, 10, -1.0);
    }
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    wait_until(WAIT, "both nodes to hold the same points", || {
        let (pa, pb) = (points(&a, "root.c.d", "v"), points(&b, "root.c.d", "v"));
        if pa == pb && pa.len() == 55 {
            Ok(())
        } else {
            Err(format!("A {} rows, B {} rows", pa.len(), pb.len()))
        }
    });
    let p = points(&a, "root.c.d", "v");
    // Timestamps both wrote got one value, the same on both nodes: B wrote
    // 45..49 of each round after A, so B's value wins there.
    let at = |t: &str| p.iter().find(|r| r[0] == t).map(|r| r[1].clone());
    assert_eq!(at("5").as_deref(), Some("-5.0"));
    assert_eq!(at("0").as_deref(), Some("0.0"));
}

#[test]
fn t31_a_drop_and_a_concurrent_insert_end_the_same_on_both() {
    let (a, b) = pair();
    insert(&a, "root.c.x", "v", 0, 10, 1.0);
    insert(&a, "root.c.y", "v", 0, 10, 1.0);
    crate::wait_count(&b, "root.c.x", "v", 10);
    crate::wait_count(&b, "root.c.y", "v", 10);
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    // x: B writes before A drops (the drop wins); y: A drops before B
    // writes (the write wins, the older points stay dropped).
    b.sql("INSERT INTO root.c.x(time, v) VALUES (100, 100)");
    a.sql("DELETE TIMESERIES root.c.x.v");
    a.sql("DELETE TIMESERIES root.c.y.v");
    b.sql("INSERT INTO root.c.y(time, v) VALUES (100, 100)");
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    for n in [&a, &b] {
        wait_until(WAIT, "the drops and writes to settle", || {
            let series = n
                .rows("SHOW TIMESERIES root.c.**")
                .map_err(|e| e.to_string())?;
            let y = points(n, "root.c.y", "v");
            if series.len() == 1 && series[0][0] == "root.c.y.v" && y.len() == 1 && y[0][0] == "100"
            {
                Ok(())
            } else {
                Err(format!("{series:?} {y:?}"))
            }
        });
    }
}

#[test]
fn t32_verify_replica_names_the_series_that_differ() {
    let (a, b) = pair();
    insert(&a, "root.v.d", "v", 0, 20, 1.0);
    insert(&a, "root.v.e", "v", 0, 20, 1.0);
    crate::wait_count(&b, "root.v.d", "v", 20);
    crate::wait_count(&b, "root.v.e", "v", 20);
    let same = a.rows("VERIFY REPLICA root.v.**").unwrap();
    assert!(
        same.len() == 3 && same[..2].iter().all(|r| r[3] == "SAME"),
        "{same:?}"
    );
    let peer = format!("127.0.0.1:{}", b.rpc.port());
    assert_eq!(
        same[2][..5],
        ["*", "40", "40", "IDENTICAL", peer.as_str()],
        "{same:?}"
    );
    assert_eq!(same[2][7], "40 points compared");
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    b.sql("INSERT INTO root.v.e(time, v) VALUES (5, -5)");
    b.sql("INSERT INTO root.v.e(time, v) VALUES (6, -6)");
    b.sql("INSERT INTO root.v.e(time, v) VALUES (15, -15)");
    a.sql("CREATE TIMESERIES root.v.t.x WITH DATATYPE=INT32");
    b.sql("CREATE TIMESERIES root.v.t.x WITH DATATYPE=TEXT");
    let diff = a.rows("VERIFY REPLICA root.v.**").unwrap();
    let row = |name: &str| {
        diff.iter()
            .find(|r| r[0] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {name}: {diff:?}"))
    };
    assert_eq!(row("root.v.d.v")[3], "SAME", "{diff:?}");
    let e = row("root.v.e.v");
    assert_eq!(e[3], "DIFFERENT", "{diff:?}");
    // Narrowed to the times that differ: 5 and 6 (one range), and 15.
    assert_eq!(e[7], "[5, 7) [15, 16)", "{diff:?}");
    let t = row("root.v.t.x");
    assert_eq!(
        (t[3].as_str(), t[5].as_str(), t[6].as_str()),
        ("TYPE_DIFFERS", "INT32", "TEXT")
    );
    assert_eq!(row("*")[3], "DIFFERENT");
    assert_eq!(row("*")[7], "2 series differ");
    // A time range: before the differences, the two agree.
    let early = a.rows("VERIFY REPLICA root.v.d.** WHERE time < 5").unwrap();
    assert_eq!(early.last().unwrap()[3], "IDENTICAL", "{early:?}");
    assert_eq!(early.last().unwrap()[1], "5", "{early:?}");
    let e = a
        .rows("VERIFY REPLICA root.v.e.** WHERE time >= 10 AND time < 20")
        .unwrap();
    assert_eq!(e[0][3], "DIFFERENT", "{e:?}");
    assert_eq!(e[0][7], "[15, 16)", "{e:?}");
    // Only time conditions.
    let bad = a.rows("VERIFY REPLICA root.v.** WHERE v > 1").unwrap_err();
    assert!(bad.contains("only time conditions"), "{bad}");
    // Replication on again: the two converge and say so.
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    wait_until(crate::WAIT, "VERIFY REPLICA to say IDENTICAL", || {
        let rows = a.rows("VERIFY REPLICA root.v.**")?;
        match rows.last() {
            Some(r) if r[3] == "IDENTICAL" => Ok(()),
            _ => Err(format!("{rows:?}")),
        }
    });
}

#[test]
fn t33_a_series_created_with_different_types_converges_and_no_pipe_stops() {
    let (a, b) = pair();
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    // While apart, each node creates the same series with its own type.
    a.sql("CREATE TIMESERIES root.ty.d.f WITH DATATYPE=FLOAT");
    b.sql("CREATE TIMESERIES root.ty.d.f WITH DATATYPE=DOUBLE");
    a.sql("INSERT INTO root.ty.d(time, f) VALUES (1, 1.5)");
    b.sql("INSERT INTO root.ty.d(time, f) VALUES (2, 0.1)");
    a.sql("CREATE TIMESERIES root.ty.d.i WITH DATATYPE=INT32");
    b.sql("CREATE TIMESERIES root.ty.d.i WITH DATATYPE=INT64");
    a.sql("INSERT INTO root.ty.d(time, i) VALUES (1, 7)");
    b.sql("INSERT INTO root.ty.d(time, i) VALUES (2, 3000000000)");
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    // The reference: every value written, each series in the join of types.
    let expected = [
        ("root.ty.d.f", "DOUBLE", vec![("1", "1.5"), ("2", "0.1")]),
        (
            "root.ty.d.i",
            "INT64",
            vec![("1", "7"), ("2", "3000000000")],
        ),
    ];
    for (n, name) in [(&a, "A"), (&b, "B")] {
        for (path, ty, values) in &expected {
            wait_until(WAIT, &format!("{path} on {name}"), || {
                let series = n.rows(&format!("SHOW TIMESERIES {path}"))?;
                let got_type = series.first().map(|r| r[3].clone()).unwrap_or_default();
                let (device, m) = path.rsplit_once('.').unwrap();
                let got: Vec<(String, String)> = points(n, device, m)
                    .into_iter()
                    .map(|r| (r[0].clone(), r[1].clone()))
                    .collect();
                let want: Vec<(String, String)> = values
                    .iter()
                    .map(|(t, v)| (t.to_string(), v.to_string()))
                    .collect();
                if got_type == *ty && got == want {
                    Ok(())
                } else {
                    Err(format!("{got_type} {got:?}"))
                }
            });
        }
    }
    // Neither pipe stopped over it, and the widening is on record.
    crate::connected(&a);
    crate::connected(&b);
    let recorded: Vec<Vec<String>> = [&a, &b]
        .iter()
        .flat_map(|n| n.rows("SHOW CONFLICTS").unwrap())
        .filter(|r| r[1] == "type")
        .collect();
    assert!(
        recorded.iter().any(|r| r[4] == "root.ty.d.f")
            && recorded.iter().any(|r| r[4] == "root.ty.d.i"),
        "{recorded:?}"
    );
    let counted =
        a.metric("duet_conflicts").unwrap_or(0.0) + b.metric("duet_conflicts").unwrap_or(0.0);
    assert!(counted >= 2.0, "{counted}");
}

/// `SHOW DATABASES` on a node, as (path, span) rows (the span is IoTDB's
/// TimePartitionInterval column).
fn databases(n: &duet_tests::Node) -> Vec<Vec<String>> {
    n.rows("SHOW DATABASES")
        .unwrap_or_default()
        .into_iter()
        .map(|r| vec![r[0].clone(), r[4].clone()])
        .collect()
}

#[test]
fn t34_overlapping_databases_made_apart_become_the_shorter_on_both() {
    let (a, b) = pair();
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    // A's insert makes root.ov; B makes root.ov.y and writes under it.
    a.sql("INSERT INTO root.ov.d(time, v) VALUES (1, 1)");
    b.sql("CREATE DATABASE root.ov.y");
    b.sql("INSERT INTO root.ov.y.d(time, v) VALUES (2, 2)");
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    for (n, name) in [(&a, "A"), (&b, "B")] {
        wait_until(
            WAIT,
            &format!("one database and both points on {name}"),
            || {
                let dbs = databases(n);
                let x = points(n, "root.ov.d", "v").len();
                let y = points(n, "root.ov.y.d", "v").len();
                if dbs.len() == 1 && dbs[0][0] == "root.ov" && x == 1 && y == 1 {
                    Ok(())
                } else {
                    Err(format!("{dbs:?}, {x} + {y} points"))
                }
            },
        );
    }
    crate::connected(&a);
    crate::connected(&b);
    let on_b = b.rows("SHOW CONFLICTS").unwrap();
    assert!(
        on_b.iter()
            .any(|r| r[1] == "database" && r[4] == "root.ov.y"),
        "{on_b:?}"
    );
}

#[test]
fn t35_a_database_dropped_while_the_peer_writes_ends_the_same_on_both() {
    let (a, b) = pair();
    a.sql("CREATE DATABASE root.dd WITH BUCKET_SPAN = 1m");
    a.sql("INSERT INTO root.dd.d(time, v) VALUES (1, 1)");
    crate::wait_count(&b, "root.dd.d", "v", 1);
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    a.sql("DROP DATABASE root.dd");
    // B writes after the drop, before hearing of it.
    b.sql("INSERT INTO root.dd.d(time, v) VALUES (2, 2)");
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    wait_until(WAIT, "the same databases and points on both", || {
        let (da, db) = (databases(&a), databases(&b));
        let (pa, pb) = (points(&a, "root.dd.d", "v"), points(&b, "root.dd.d", "v"));
        if da == db && pa == pb && pa.len() == 1 && pa[0][0] == "2" {
            Ok(())
        } else {
            Err(format!("A {da:?} {pa:?}; B {db:?} {pb:?}"))
        }
    });
    assert_eq!(
        databases(&a),
        vec![vec!["root.dd".to_string(), "60000".to_string()]]
    );
    crate::connected(&a);
    crate::connected(&b);
}

#[test]
fn t36_dropping_a_series_leaves_a_longer_series_below_it_on_both() {
    let (a, b) = pair();
    a.sql("INSERT INTO root.pd.d(time, s) VALUES (1, 1)");
    crate::wait_count(&b, "root.pd.d", "s", 1);
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    // B writes root.pd.d.s.x, then A drops root.pd.d.s (a later change).
    b.sql("INSERT INTO root.pd.d.s(time, x) VALUES (5, 5)");
    a.sql("DELETE TIMESERIES root.pd.d.s");
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    for (n, name) in [(&a, "A"), (&b, "B")] {
        wait_until(WAIT, &format!("only root.pd.d.s.x on {name}"), || {
            let series = n.rows("SHOW TIMESERIES root.pd.**")?;
            let x = points(n, "root.pd.d.s", "x");
            if series.len() == 1 && series[0][0] == "root.pd.d.s.x" && x.len() == 1 {
                Ok(())
            } else {
                Err(format!("{series:?} {x:?}"))
            }
        });
    }
}

/// Path 6: a third node that lags sends an old CREATE DATABASE after the
/// database was created and dropped elsewhere. The drop is the later
/// change: the database stays dropped on every node, and no pipe stops.
#[test]
fn t37_a_lagging_nodes_old_create_database_does_not_bring_back_a_drop() {
    let (a, b) = pair();
    let c = duet_tests::Node::start();
    // C -> B is created stopped in effect: C's create waits in C's log.
    c.sql(&duet_tests::pipe_sql("CB", b.rpc.port()));
    crate::connected(&c);
    c.sql("STOP PIPE CB");
    c.sql("CREATE DATABASE root.lag WITH BUCKET_SPAN = 1m");
    // Later, on A: the same database made and dropped, replicated to B.
    a.sql("CREATE DATABASE root.lag WITH BUCKET_SPAN = 1m");
    a.sql("INSERT INTO root.lag.d(time, v) VALUES (1, 1)");
    crate::wait_count(&b, "root.lag.d", "v", 1);
    a.sql("DROP DATABASE root.lag");
    wait_until(WAIT, "the drop on B", || {
        let d = databases(&b);
        if d.is_empty() {
            Ok(())
        } else {
            Err(format!("{d:?}"))
        }
    });
    // Now C's old create reaches B.
    c.sql("START PIPE CB");
    crate::connected(&c);
    let sent = c
        .metric("duet_pipe_events_sent_total{pipe=\"CB\"}")
        .unwrap_or(0.0);
    assert!(sent >= 1.0, "C's create was not sent ({sent} events)");
    assert!(databases(&b).is_empty(), "B: {:?}", databases(&b));
    // B's own later changes still reach A: nothing stopped.
    b.sql("INSERT INTO root.other.d(time, v) VALUES (1, 1)");
    crate::wait_count(&a, "root.other.d", "v", 1);
    assert_eq!(
        databases(&a),
        vec![vec!["root.other".to_string(), "3600000".to_string()]]
    );
    crate::connected(&a);
    crate::connected(&b);
}

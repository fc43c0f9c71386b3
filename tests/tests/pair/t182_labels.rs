//! Aliases, tags and attributes through the guide's pipes: labels made
//! before the pipes arrive with the history transfer, ALTER TIMESERIES on
//! either node reaches the other (checked against what the statements
//! should leave), changes made on both while the pipes are stopped end the
//! same on both nodes, and VERIFY REPLICA tells labels that differ from
//! labels that agree.

use crate::{connected, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};

/// `SHOW TIMESERIES` rows of `pattern`: path, alias, tags, attributes.
fn labels(n: &Node, pattern: &str) -> Result<Vec<[String; 4]>, String> {
    Ok(n.rows(&format!("SHOW TIMESERIES {pattern}"))?
        .into_iter()
        .map(|r| [r[0].clone(), r[1].clone(), r[6].clone(), r[7].clone()])
        .collect())
}

fn row(path: &str, alias: &str, tags: &str, attributes: &str) -> [String; 4] {
    [path, alias, tags, attributes].map(str::to_string)
}

fn wait_labels(n: &Node, pattern: &str, want: &[[String; 4]], what: &str) {
    wait_until(WAIT, what, || {
        let got = labels(n, pattern)?;
        if got == want {
            Ok(())
        } else {
            Err(format!("have {got:?}, want {want:?}"))
        }
    });
}

/// VERIFY REPLICA's `*` row status and the status of each series row.
fn verify(n: &Node, pattern: &str) -> Vec<(String, String)> {
    n.rows(&format!("VERIFY REPLICA {pattern}"))
        .unwrap()
        .into_iter()
        .map(|r| (r[0].clone(), r[3].clone()))
        .collect()
}

#[test]
fn t182_labels_travel_and_converge() {
    let (a, b) = (Node::start(), Node::start());
    a.sql("CREATE DATABASE root.lb");
    // Before any pipe: the history transfer carries them.
    a.sql(
        "CREATE TIMESERIES root.lb.d1.s1(speed) WITH DATATYPE=FLOAT TAGS(city=Beijing, unit=c) \
         ATTRIBUTES(owner=ops)",
    );
    a.sql("CREATE TIMESERIES root.lb.d1.s2 WITH DATATYPE=INT32");
    a.sql("INSERT INTO root.lb.d1(time, s1, s2) VALUES (1, 1.5, 1)");
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    connected(&a);
    connected(&b);
    let mut want = vec![
        row(
            "root.lb.d1.s1",
            "speed",
            r#"{"city":"Beijing","unit":"c"}"#,
            r#"{"owner":"ops"}"#,
        ),
        row("root.lb.d1.s2", "null", "null", "null"),
    ];
    wait_labels(&b, "root.lb.**", &want, "the history's labels on B");
    // The alias names the series on the far node too.
    wait_until(WAIT, "B reads s1 by its alias", || {
        let r = b.rows("SELECT speed FROM root.lb.d1")?;
        (r.len() == 1).then_some(()).ok_or(format!("{r:?}"))
    });

    // Each node's ALTER reaches the other.
    b.sql("ALTER TIMESERIES root.lb.d1.s2 ADD TAGS city=Shanghai");
    a.sql("ALTER TIMESERIES root.lb.d1.s1 SET owner=dev");
    a.sql("ALTER TIMESERIES root.lb.d1.s1 RENAME unit TO units");
    b.sql("ALTER TIMESERIES root.lb.d1.s2 UPSERT ALIAS=count ATTRIBUTES(kind=counter)");
    want = vec![
        row(
            "root.lb.d1.s1",
            "speed",
            r#"{"city":"Beijing","units":"c"}"#,
            r#"{"owner":"dev"}"#,
        ),
        row(
            "root.lb.d1.s2",
            "count",
            r#"{"city":"Shanghai"}"#,
            r#"{"kind":"counter"}"#,
        ),
    ];
    wait_labels(&a, "root.lb.**", &want, "both nodes' ALTERs on A");
    wait_labels(&b, "root.lb.**", &want, "both nodes' ALTERs on B");
    let v = verify(&a, "root.lb.**");
    assert!(
        v.iter().all(|(_, s)| s == "SAME" || s == "IDENTICAL"),
        "{v:?}"
    );
    let count = |n: &Node, sql: &str| -> Result<String, String> {
        n.rows(sql)?
            .first()
            .and_then(|r| r.first().cloned())
            .ok_or_else(|| "no row".to_string())
    };
    wait_until(WAIT, "B counts by tag", || {
        let c = count(&b, "COUNT TIMESERIES root.** WHERE TAGS(city) = 'Shanghai'")?;
        (c == "1").then_some(()).ok_or(c)
    });

    // Apart: the same key set to two values, and a tag dropped on one side
    // while the other changes another. VERIFY REPLICA sees the difference.
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    a.sql("ALTER TIMESERIES root.lb.d1.s1 UPSERT TAGS(city=Hangzhou)");
    b.sql("ALTER TIMESERIES root.lb.d1.s1 UPSERT TAGS(city=Shenzhen)");
    b.sql("ALTER TIMESERIES root.lb.d1.s2 DROP city");
    a.sql("ALTER TIMESERIES root.lb.d1.s2 ADD ATTRIBUTES since=2024");
    let v = verify(&a, "root.lb.**");
    assert!(
        v.iter()
            .any(|(p, s)| p == "root.lb.d1.s1" && s == "LABELS_DIFFER"),
        "{v:?}"
    );
    assert!(v.iter().any(|(p, s)| p == "*" && s == "DIFFERENT"), "{v:?}");
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    wait_until(WAIT, "both nodes' labels the same", || {
        let (x, y) = (labels(&a, "root.lb.**")?, labels(&b, "root.lb.**")?);
        if x == y {
            Ok(x)
        } else {
            Err(format!("A {x:?}, B {y:?}"))
        }
    });
    let got = labels(&a, "root.lb.**").unwrap();
    // One of the two cities won on both; the drop and the attribute, made
    // on different keys, both hold.
    assert!(
        got[0][2] == r#"{"city":"Hangzhou","units":"c"}"#
            || got[0][2] == r#"{"city":"Shenzhen","units":"c"}"#,
        "{got:?}"
    );
    assert_eq!(got[1][2], "null", "{got:?}");
    assert_eq!(got[1][3], r#"{"kind":"counter","since":"2024"}"#, "{got:?}");
    wait_until(WAIT, "VERIFY REPLICA to say IDENTICAL", || {
        let v = verify(&a, "root.lb.**");
        if v.iter().all(|(_, s)| s == "SAME" || s == "IDENTICAL") {
            Ok(())
        } else {
            Err(format!("{v:?}"))
        }
    });

    // A series dropped on one node while the other labels it, apart: both
    // end the same (the newer change wins), and the data agrees.
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    a.sql("DELETE TIMESERIES root.lb.d1.s2");
    // Versions are hybrid clock readings (milliseconds first): once the
    // clock has moved on, B's change is newer than A's drop.
    let dropped_at = duet_engine::hlc::wall_clock_ms();
    wait_until(WAIT, "the clock past the drop's millisecond", || {
        (duet_engine::hlc::wall_clock_ms() > dropped_at + 1)
            .then_some(())
            .ok_or("same millisecond".to_string())
    });
    b.sql("ALTER TIMESERIES root.lb.d1.s2 ADD TAGS late=yes");
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    wait_until(WAIT, "the drop and the label change settled alike", || {
        let (x, y) = (labels(&a, "root.lb.**")?, labels(&b, "root.lb.**")?);
        let v = verify(&a, "root.lb.**");
        if x == y && v.iter().all(|(_, s)| s == "SAME" || s == "IDENTICAL") {
            Ok(())
        } else {
            Err(format!("A {x:?}, B {y:?}, {v:?}"))
        }
    });
    // The label change came after the drop: it keeps the series (without
    // its points, which the drop removed), with only the newer label.
    let got = labels(&b, "root.lb.d1.s2").unwrap();
    assert_eq!(
        got,
        vec![row("root.lb.d1.s2", "null", r#"{"late":"yes"}"#, "null")],
        "{got:?}"
    );
}

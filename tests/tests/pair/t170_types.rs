//! IoTDB's newer types (TIMESTAMP, DATE, BLOB, STRING) end to end: written
//! through tablets, records and SQL on both nodes, replicated, listed with
//! their own type by SHOW TIMESERIES, returned as themselves (checked
//! against a reference model of what was written) and shown by the CLI as
//! IoTDB shows them. A DATE that is not a calendar day is refused and
//! changes nothing.

use crate::{pair, WAIT};
use duet_rpc::column::{Column, Value};
use duet_rpc::insert::Tablet;
use duet_tests::{query, wait_until, Node};
use std::collections::BTreeMap;

const ROWS: i64 = 1000;

/// Row `i` of the tablet: TIMESTAMP, DATE, BLOB, STRING (every 7th STRING null).
fn tablet_row(i: i64) -> (i64, i32, Vec<u8>, Option<String>) {
    let day = 20240101 + (i % 28) as i32;
    let blob = vec![(i % 256) as u8, 0xff, 0];
    let s = (i % 7 != 0).then(|| format!("s-{i}-ü"));
    (1_700_000_000_000 + i * 1000, day, blob, s)
}

fn hex(b: &[u8]) -> String {
    let mut s = "0x".to_string();
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

#[test]
fn t170_new_types_are_kept_replicated_and_shown() {
    let (a, b) = pair();

    // A: a tablet of the four types.
    let mut tablet = Tablet {
        timestamps: Vec::new(),
        columns: vec![
            Column::Timestamp(Vec::new()),
            Column::Date(Vec::new()),
            Column::Blob(Vec::new()),
            Column::Str(Vec::new()),
        ],
    };
    // The reference model: time -> the strings the Rust client gives.
    let mut model: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for i in 0..ROWS {
        let (ts, day, blob, s) = tablet_row(i);
        tablet.timestamps.push(i);
        if let [Column::Timestamp(t), Column::Date(d), Column::Blob(bl), Column::Str(st)] =
            &mut tablet.columns[..]
        {
            t.push(Some(ts));
            d.push(Some(day));
            bl.push(Some(blob.clone()));
            st.push(s.clone().map(String::into_bytes));
        }
        model.insert(
            i,
            vec![
                ts.to_string(),
                day.to_string(),
                hex(&blob),
                s.unwrap_or_else(|| "null".into()),
            ],
        );
    }
    a.session()
        .insert_tablet("root.ty.tab", &["ts", "day", "raw", "name"], &tablet)
        .expect("tablet of the new types");

    // B: records, and SQL with a DATE literal.
    let mut sb = b.session();
    sb.insert_record(
        "root.ty.rec",
        5,
        &["ts", "day", "raw", "name"],
        &[
            Value::Timestamp(-1),
            Value::Date(20240229),
            Value::Blob(vec![]),
            Value::Str(b"x".to_vec()),
        ],
    )
    .expect("record of the new types");
    duet_tests::exec(
        &mut sb,
        "CREATE TIMESERIES root.ty.sql.day WITH DATATYPE=DATE, ENCODING=PLAIN",
    );
    duet_tests::exec(
        &mut sb,
        "INSERT INTO root.ty.sql(time, day) VALUES (1, '2023-12-31'), (2, 20240102)",
    );

    // Bad input: not a calendar day, refused, nothing stored.
    let bad = sb.insert_record("root.ty.bad", 1, &["day"], &[Value::Date(20231332)]);
    assert!(
        bad.as_ref()
            .is_err_and(|e| e.to_string().contains("not a date")),
        "{bad:?}"
    );
    let bad_sql = sb.execute("INSERT INTO root.ty.sql(time, day) VALUES (3, '2023-02-29')");
    assert!(bad_sql.is_err(), "2023-02-29 taken as a DATE");

    let want_types: Vec<(String, String)> = [
        ("root.ty.rec.day", "DATE"),
        ("root.ty.rec.name", "STRING"),
        ("root.ty.rec.raw", "BLOB"),
        ("root.ty.rec.ts", "TIMESTAMP"),
        ("root.ty.sql.day", "DATE"),
        ("root.ty.tab.day", "DATE"),
        ("root.ty.tab.name", "STRING"),
        ("root.ty.tab.raw", "BLOB"),
        ("root.ty.tab.ts", "TIMESTAMP"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_string(), t.to_string()))
    .collect();

    for n in [&a, &b] {
        let mut s = n.session();
        wait_until(WAIT, "every row of the new types on this node", || {
            let r = query(&mut s, "select count(ts) from root.ty.tab")?;
            let sql = query(&mut s, "select count(day) from root.ty.sql")?;
            match (
                r.first().and_then(|r| r.first()),
                sql.first().and_then(|r| r.first()),
            ) {
                (Some(c), Some(d)) if *c == ROWS.to_string() && d == "2" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
        let mut types: Vec<(String, String)> = query(&mut s, "SHOW TIMESERIES root.ty.**")
            .unwrap()
            .into_iter()
            .map(|r| (r[0].clone(), r[3].clone()))
            .collect();
        types.sort();
        assert_eq!(types, want_types, "types on port {}", n.rpc.port());

        let rows = query(&mut s, "select ts, day, raw, name from root.ty.tab").unwrap();
        let got: BTreeMap<i64, Vec<String>> = rows
            .into_iter()
            .map(|r| (r[0].parse().unwrap(), r[1..].to_vec()))
            .collect();
        assert_eq!(got, model, "tablet rows on port {}", n.rpc.port());

        let rec = query(&mut s, "select ts, day, raw, name from root.ty.rec").unwrap();
        assert_eq!(rec, vec![vec!["5", "-1", "20240229", "0x", "x"]]);
        let sql = query(&mut s, "select day from root.ty.sql").unwrap();
        assert_eq!(sql, vec![vec!["1", "20231231"], vec!["2", "20240102"]]);
        // (root.ty.bad is not in the SHOW TIMESERIES list above: the refused
        // record created nothing.)

        // min/max apply to TIMESTAMP and DATE (as in IoTDB), sum does not.
        let mm = query(
            &mut s,
            "select min_value(day), max_value(ts) from root.ty.tab",
        )
        .unwrap();
        assert_eq!(
            mm,
            vec![vec![
                "20240101".to_string(),
                (1_700_000_000_000 + (ROWS - 1) * 1000).to_string()
            ]]
        );
        assert!(s.execute("select sum(day) from root.ty.tab").is_err());
    }

    // The CLI shows them as IoTDB's CLI does.
    let out = cli_rows(&b, "select ts, day, raw, name from root.ty.rec");
    assert!(
        out.contains("1969-12-31T23:59:59.999")
            && out.contains("2024-02-29")
            && out.contains("│ 0x ")
            && out.contains("│ x "),
        "{out}"
    );
}

fn cli_rows(n: &Node, sql: &str) -> String {
    let out = n.cli(&["-e", sql], "");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

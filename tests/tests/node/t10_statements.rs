//! Statements through the real client protocol, and every error class.

use duet_rpc::client::ClientError;
use duet_tests::{exec, query, Node};

#[test]
fn t10_schema_insert_query_with_paging() {
    let node = Node::start();
    let mut s = node.session();
    exec(&mut s, "CREATE DATABASE root.plant");
    exec(
        &mut s,
        "CREATE TIMESERIES root.plant.line1.temp WITH DATATYPE=DOUBLE, ENCODING=GORILLA",
    );
    let rows: Vec<String> = (0..12_345).map(|i| format!("({i}, {i}.5)")).collect();
    exec(
        &mut s,
        &format!(
            "INSERT INTO root.plant.line1(time, temp) VALUES {}",
            rows.join(", ")
        ),
    );
    let got = query(&mut s, "SELECT temp FROM root.plant.line1").unwrap();
    assert_eq!(got.len(), 12_345, "every row across several fetch pages");
    assert_eq!(got[0][1], "0.5");
    assert_eq!(got[12_344][1], "12344.5");
    let count = query(&mut s, "SELECT count(temp) FROM root.plant.line1").unwrap();
    assert_eq!(count, vec![vec!["12345".to_string()]]);
    let show = query(&mut s, "SHOW TIMESERIES").unwrap();
    assert_eq!(show[0][0], "root.plant.line1.temp");
}

#[test]
fn t11_insert_calls_of_the_client() {
    use duet_rpc::column::{Column, Value};
    let node = Node::start();
    let mut s = node.session();
    s.insert_record(
        "root.sg.d1",
        5,
        &["a", "b"],
        &[Value::I64(7), Value::Text(b"x".to_vec())],
    )
    .unwrap();
    let cols = vec![
        Column::F64(vec![Some(1.0), None, Some(3.0)]),
        Column::Bool(vec![Some(true), Some(false), None]),
    ];
    let tablet = duet_rpc::insert::Tablet {
        timestamps: vec![1, 2, 3],
        columns: cols,
    };
    s.insert_tablet("root.sg.d2", &["v", "ok"], &tablet)
        .unwrap();
    assert_eq!(
        query(&mut s, "SELECT a, b FROM root.sg.d1").unwrap(),
        vec![vec!["5".to_string(), "7".into(), "x".into()]]
    );
    let rows = query(&mut s, "SELECT v, ok FROM root.sg.d2").unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][1..], ["null".to_string(), "false".into()]);
}

fn status_code(e: ClientError) -> i32 {
    e.code()
        .unwrap_or_else(|| panic!("expected a status error, got {e}"))
}

#[test]
fn t12_errors_have_iotdb_codes_and_change_nothing() {
    let node = Node::start();
    let mut s = node.session();
    exec(&mut s, "INSERT INTO root.e.d(time, n) VALUES (1, 5)");
    // Bad SQL: 700 with the caret text.
    let e = s
        .execute("SELECT FROM root.e.d")
        .err()
        .expect("parse error");
    let msg = e.to_string();
    assert_eq!(status_code(e), 700);
    assert!(msg.contains("line 1, column") && msg.contains('^'), "{msg}");
    // Type clash with an existing series: 614, nothing written.
    let e = s
        .execute("INSERT INTO root.e.d(time, n) VALUES (2, 'five')")
        .err()
        .expect("type error");
    assert_eq!(status_code(e), 614);
    assert_eq!(query(&mut s, "SELECT n FROM root.e.d").unwrap().len(), 1);
    // Unknown pipe parameter: a clear semantic error listing accepted keys.
    let e = s
        .execute(
            "CREATE PIPE p WITH SOURCE ('source.nope'='1') WITH SINK ('sink'='do-nothing-sink')",
        )
        .err()
        .expect("bad pipe parameter");
    assert!(
        e.to_string()
            .contains("accepted: source, source.mode.double-living"),
        "{e}"
    );
    // Wrong password: 801, and no session.
    let e = node
        .session_as("root", "nope")
        .err()
        .expect("wrong password refused");
    assert_eq!(status_code(e), 801);
    // A changed password takes effect.
    exec(&mut s, "ALTER USER root SET PASSWORD 'newpass'");
    assert_eq!(
        status_code(
            node.session_as("root", "root")
                .err()
                .expect("old password refused")
        ),
        801
    );
    node.session_as("root", "newpass").expect("new password");
}

#[test]
fn t13_the_session_zone_gives_iso_literals_their_meaning() {
    if !std::path::Path::new("/usr/share/zoneinfo/Asia/Shanghai").exists() {
        return; // no zoneinfo on this machine: IANA names read as UTC
    }
    let node = Node::start();
    let mut s = duet_rpc::client::Session::open(duet_rpc::client::SessionConfig {
        hosts: vec![("127.0.0.1".into(), node.rpc.port())],
        zone_id: "Asia/Shanghai".into(),
        ..Default::default()
    })
    .unwrap();
    exec(
        &mut s,
        "INSERT INTO root.z.d(time, v) VALUES (2024-01-01T08:00:00, 1)",
    );
    let mut utc = node.session();
    exec(
        &mut utc,
        "INSERT INTO root.z.d(time, v) VALUES (2024-01-01T08:00:00, 2)",
    );
    let mut raw = duet_rpc::client::Session::open(duet_rpc::client::SessionConfig {
        hosts: vec![("127.0.0.1".into(), node.rpc.port())],
        zone_id: "UTC".into(),
        ..Default::default()
    })
    .unwrap();
    let rows = query(
        &mut raw,
        "SELECT v FROM root.z.d WHERE time >= 1704067200000 AND time <= 1704096000000",
    )
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0][1], "1.0",
        "08:00 in Shanghai is 00:00 UTC: {rows:?}"
    );
}

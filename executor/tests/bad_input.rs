//! Bad input through the executor: a clear error, no panic, nothing changed.

use duet_engine::{ChangeLog, Engine, EngineOptions};
use duet_executor::{ErrorKind, Executor, NodeInfo, Output, Session};
use std::sync::Arc;

fn node() -> (tempfile::TempDir, Executor) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path(), EngineOptions::default()).unwrap());
    (dir, Executor::new(engine, NodeInfo::default()))
}

fn count(exec: &Executor, sql: &str) -> usize {
    match exec.execute_sql(&Session::default(), sql).unwrap() {
        Output::Rows(rs) => rs.collect_rows().unwrap().len(),
        Output::Done | Output::SetReadMode(_) | Output::SetQueryTimeout(_) => {
            panic!("{sql} returned no rows")
        }
    }
}

#[test]
fn empty_and_garbage_statements_are_parse_errors() {
    let (_d, exec) = node();
    let s = Session::default();
    for sql in [
        "",
        "   ",
        "-- only a comment",
        ";",
        "\u{0}\u{1}\u{2}",
        "SELECT * FROM",
        "insert into root.a.b(time, x) values (1, 2",
    ] {
        let e = exec.execute_sql(&s, sql).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Parse, "{sql:?}: {e}");
        assert!(
            e.message.contains("line 1, column"),
            "{sql:?}: {}",
            e.message
        );
        assert!(
            e.message.contains('^'),
            "the message shows a caret: {}",
            e.message
        );
    }
    let garbage = "x".repeat(10 << 20);
    assert_eq!(
        exec.execute_sql(&s, &garbage).unwrap_err().kind,
        ErrorKind::Parse
    );
    let nested = format!(
        "SELECT a FROM root.a.b WHERE {}a > 1{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert_eq!(
        exec.execute_sql(&s, &nested).unwrap_err().kind,
        ErrorKind::Parse
    );
    assert_eq!(
        exec.engine().last_seq(),
        0,
        "nothing reached the change log"
    );
}

#[test]
fn a_huge_insert_works_and_a_bad_row_in_it_changes_nothing() {
    let (_d, exec) = node();
    let s = Session::default();
    let rows: Vec<String> = (0..50_000)
        .map(|i| format!("({i}, {i}.5, {})", i % 2 == 0))
        .collect();
    let sql = format!(
        "INSERT INTO root.big.d(time, v, b) VALUES {}",
        rows.join(", ")
    );
    assert!(sql.len() > 1 << 20);
    exec.execute_sql(&s, &sql).unwrap();
    assert_eq!(count(&exec, "SELECT v FROM root.big.d"), 50_000);

    let seq = exec.engine().last_seq();
    let mut bad = rows.clone();
    bad[40_000] = "(40000, 'text', true)".into();
    let sql = format!(
        "INSERT INTO root.big.d(time, v, b) VALUES {}",
        bad.join(", ")
    );
    let e = exec.execute_sql(&s, &sql).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TypeMismatch, "{e}");
    assert_eq!(
        exec.engine().last_seq(),
        seq,
        "the failed insert wrote nothing"
    );
}

#[test]
fn wrong_types_for_an_existing_series_are_rejected() {
    let (_d, exec) = node();
    let s = Session::default();
    exec.execute_sql(&s, "CREATE TIMESERIES root.t.d.i WITH DATATYPE=INT32")
        .unwrap();
    exec.execute_sql(&s, "CREATE TIMESERIES root.t.d.b WITH DATATYPE=BOOLEAN")
        .unwrap();
    for sql in [
        "INSERT INTO root.t.d(time, i) VALUES (1, 1.5)",
        "INSERT INTO root.t.d(time, i) VALUES (1, 3000000000)",
        "INSERT INTO root.t.d(time, i) VALUES (1, 'x')",
        "INSERT INTO root.t.d(time, b) VALUES (1, 1)",
    ] {
        let e = exec.execute_sql(&s, sql).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TypeMismatch, "{sql}: {e}");
    }
    exec.execute_sql(&s, "INSERT INTO root.t.d(time, i, b) VALUES (1, 7, false)")
        .unwrap();
    assert_eq!(count(&exec, "SELECT * FROM root.t.d"), 1);
    let e = exec
        .execute_sql(&s, "CREATE TIMESERIES root.t.d.x WITH DATATYPE=DECIMAL")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Parse);
    assert!(e.message.contains("DECIMAL"), "{}", e.message);
}

#[test]
fn out_of_range_times_are_rejected() {
    let (_d, exec) = node();
    let s = Session::default();
    for sql in [
        "INSERT INTO root.t.d(time, v) VALUES (9223372036854775807, 1)",
        "INSERT INTO root.t.d(time, v) VALUES (-9223372036854775808, 1)",
        "INSERT INTO root.t.d(time, v) VALUES (now() + 5000000000000000000ms, 1)",
        "INSERT INTO root.t.d(time, v) VALUES (2024-02-30T00:00:00, 1)",
    ] {
        assert!(exec.execute_sql(&s, sql).is_err(), "{sql} accepted");
    }
    assert_eq!(exec.engine().last_seq(), 0);
}

#[test]
fn a_backup_is_a_consistent_copy() {
    let d = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(&d.path().join("data"), EngineOptions::default()).unwrap());
    let node = NodeInfo {
        backup_dir: d.path().to_path_buf(),
        ..NodeInfo::default()
    };
    let exec = Executor::new(engine, node);
    let s = Session::default();
    exec.execute_sql(&s, "INSERT INTO root.t.d(time, v) VALUES (1, 1), (2, 2)")
        .unwrap();
    let target = d.path().join("backup-1");
    exec.execute_sql(&s, &format!("BACKUP TO '{}'", target.display()))
        .unwrap();
    let e = exec
        .execute_sql(&s, &format!("BACKUP TO '{}'", target.display()))
        .unwrap_err();
    assert!(e.message.contains("already exists"), "{e}");
    drop(exec);
    let copy = Arc::new(Engine::open(&target, EngineOptions::default()).unwrap());
    let exec = Executor::new(copy, NodeInfo::default());
    assert_eq!(count(&exec, "SELECT v FROM root.t.d"), 2);
}

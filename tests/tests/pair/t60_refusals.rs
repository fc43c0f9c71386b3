//! Refusals: a clear error in the CLI or in SHOW PIPES, nothing half-created.

use crate::WAIT;
use duet_tests::{pipe_sql, wait_until, Node};

fn stopped_with(n: &Node, name: &str, needle: &str) {
    wait_until(
        WAIT,
        &format!("pipe {name} stopped with '{needle}'"),
        || {
            let p = n.pipes();
            match p.iter().find(|x| x.0 == name) {
                Some(x) if x.1 == "STOPPED" && x.2.contains(needle) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    );
}

#[test]
fn t60_pipe_to_itself_and_wrong_password() {
    let a = Node::start();
    let b = Node::start();
    a.sql(&pipe_sql("SELF", a.rpc.port()));
    stopped_with(&a, "SELF", "to itself");
    a.sql(&format!(
        "CREATE PIPE BADPW WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{}', 'sink.password'='nope')",
        b.rpc.port()
    ));
    stopped_with(&a, "BADPW", "credentials");
    // The message survives a restart, and the password is not shown.
    let shown = a.rows("SHOW PIPE BADPW").unwrap();
    assert!(shown[0][5].contains("sink.password=******"), "{shown:?}");
}

#[test]
fn t61_bad_definitions_create_nothing() {
    let a = Node::start();
    let mut s = a.session();
    for (sql, needle) in [
        (
            "CREATE PIPE P1 WITH SOURCE ('source.nope'='1') WITH SINK ('sink'='do-nothing-sink')",
            "unknown source parameter",
        ),
        (
            "CREATE PIPE P2 WITH SINK ('sink'='kafka-sink')",
            "expected one of iotdb-thrift-sink",
        ),
        (
            "CREATE PIPE P3 WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='h')",
            "sink.ip",
        ),
    ] {
        let e = s.execute(sql).err().expect("refused");
        assert!(e.to_string().contains(needle), "{sql}: {e}");
    }
    assert!(a.pipes().is_empty(), "nothing half-created");
    a.sql("CREATE PIPE P4 WITH SINK ('sink'='do-nothing-sink')");
    let e = s
        .execute("CREATE PIPE P4 WITH SINK ('sink'='do-nothing-sink')")
        .err()
        .expect("duplicate");
    assert!(e.to_string().contains("already exists"), "{e}");
    a.sql("CREATE PIPE IF NOT EXISTS P4 WITH SINK ('sink'='do-nothing-sink')");
    a.sql("DROP PIPE P4");
    a.sql("DROP PIPE IF EXISTS P4");
    assert!(s.execute("DROP PIPE P4").is_err());
    assert!(a.pipes().is_empty());
}

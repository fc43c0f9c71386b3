//! Privileges, IoTDB style, on a real node: a new user can do nothing but
//! log in; GRANT gives exactly what it names, on exactly the paths it
//! names, to SQL and to the RPCs alike; REVOKE counts for open sessions
//! at once; grants survive a restart; bad grants change nothing.

use duet_rpc::client::{ClientError, Session};
use duet_rpc::column::Value;
use duet_rpc::status;
use duet_tests::{exec, query, Node};

/// The status code of a failed statement (panics if it succeeded).
fn code_of(r: Result<impl Sized, ClientError>, what: &str) -> i32 {
    match r {
        Ok(_) => panic!("{what}: succeeded, expected a refusal"),
        Err(e) => e.code().unwrap_or_else(|| panic!("{what}: {e}")),
    }
}

fn denied(s: &mut Session, sql: &str) {
    assert_eq!(
        code_of(s.execute(sql).map(|_| ()), sql),
        status::NO_PERMISSION,
        "{sql}"
    );
}

fn user(node: &Node, name: &str) -> Session {
    node.session_as(name, "pw_of_user").expect("login")
}

fn setup(node: &Node) -> Session {
    let mut root = node.session();
    for sql in [
        "CREATE DATABASE root.ln",
        "CREATE DATABASE root.sg",
        "INSERT INTO root.ln.d1(time, s1) VALUES (1, 1.5)",
        "INSERT INTO root.sg.d1(time, s1) VALUES (1, 2.5)",
        "CREATE USER alice 'pw_of_user'",
        "CREATE USER bob 'pw_of_user'",
    ] {
        exec(&mut root, sql);
    }
    root
}

#[test]
fn t90_a_new_user_can_only_log_in() {
    let node = Node::start();
    let _root = setup(&node);
    let mut a = user(&node, "alice");
    for sql in [
        "INSERT INTO root.ln.d1(time, s1) VALUES (2, 2.0)",
        "SELECT s1 FROM root.ln.d1",
        "SELECT count(s1) FROM root.**",
        "DELETE FROM root.ln.d1.s1",
        "CREATE DATABASE root.x",
        "DROP DATABASE root.ln",
        "CREATE TIMESERIES root.ln.d1.s9 WITH DATATYPE=INT64",
        "DELETE TIMESERIES root.ln.d1.s1",
        "CREATE PIPE p WITH SINK ('sink'='do-nothing-sink')",
        "SHOW PIPES",
        "SHOW CLUSTER",
        "FLUSH",
        "CREATE USER eve 'pw_of_user'",
        "DROP USER bob",
        "LIST USER",
        "LIST PRIVILEGES OF USER bob",
        "ALTER USER bob SET PASSWORD 'another'",
        "ALTER USER root SET PASSWORD 'another'",
        "GRANT READ_DATA ON root.** TO USER alice",
        "VERIFY REPLICA LOCAL",
        "SHOW VERSIONS root.**",
    ] {
        denied(&mut a, sql);
    }
    // The RPCs are checked as the statements are.
    assert_eq!(
        code_of(
            a.insert_record("root.ln.d1", 3, &["s1"], &[Value::F64(3.0)]),
            "insertRecord"
        ),
        status::NO_PERMISSION
    );
    assert_eq!(
        code_of(
            a.insert_record("root.new.d1", 3, &["s1"], &[Value::F64(3.0)]),
            "insertRecord creating a database"
        ),
        status::NO_PERMISSION
    );
    // SHOW lists only what the user may see: nothing.
    assert!(query(&mut a, "SHOW TIMESERIES").unwrap().is_empty());
    assert!(query(&mut a, "SHOW DATABASES").unwrap().is_empty());
    assert!(query(&mut a, "SHOW DEVICES").unwrap().is_empty());
    assert_eq!(query(&mut a, "COUNT TIMESERIES").unwrap(), vec![vec!["0"]]);
    // What a user may always do: its own password and privileges.
    assert!(query(&mut a, "LIST PRIVILEGES OF USER alice")
        .unwrap()
        .is_empty());
    exec(&mut a, "ALTER USER alice SET PASSWORD 'pw_of_user'");
    // Nothing was written, created or dropped.
    let got = node.rows("SELECT count(s1) FROM root.ln.d1").unwrap();
    assert_eq!(got, vec![vec!["1"]]);
    assert_eq!(node.rows("COUNT TIMESERIES").unwrap(), vec![vec!["2"]]);
    assert!(node.rows("SHOW PIPES").unwrap().is_empty());
}

#[test]
fn t91_grants_reach_their_paths_and_revoke_counts_at_once() {
    let node = Node::start();
    let mut root = setup(&node);
    exec(&mut root, "GRANT WRITE_DATA ON root.ln.** TO USER alice");
    let mut a = user(&node, "alice");
    // Writes to existing series under root.ln, by SQL and by RPC.
    exec(&mut a, "INSERT INTO root.ln.d1(time, s1) VALUES (2, 2.0)");
    a.insert_record("root.ln.d1", 3, &["s1"], &[Value::F64(3.0)])
        .unwrap();
    // Creating a series needs WRITE_SCHEMA; other paths nothing at all.
    denied(&mut a, "INSERT INTO root.ln.d1(time, s2) VALUES (2, 2.0)");
    denied(&mut a, "INSERT INTO root.sg.d1(time, s1) VALUES (2, 2.0)");
    // WRITE_DATA includes reading; what it does not reach is left out of a
    // query with a warning, or refused when nothing is readable.
    let rows = query(&mut a, "SELECT s1 FROM root.*.d1").unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter().all(|r| r.len() == 2),
        "only root.ln.d1.s1: {rows:?}"
    );
    denied(&mut a, "SELECT s1 FROM root.sg.d1");
    let shown = query(&mut a, "SHOW TIMESERIES").unwrap();
    assert!(shown.is_empty(), "WRITE_DATA is not READ_SCHEMA: {shown:?}");

    exec(
        &mut root,
        "GRANT READ_SCHEMA, WRITE_SCHEMA ON root.ln.d1.** TO USER alice",
    );
    exec(&mut a, "INSERT INTO root.ln.d1(time, s2) VALUES (2, 2.0)");
    let shown = query(&mut a, "SHOW TIMESERIES").unwrap();
    let names: Vec<&str> = shown.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["root.ln.d1.s1", "root.ln.d1.s2"]);
    assert_eq!(query(&mut a, "SHOW DATABASES").unwrap()[0][0], "root.ln");
    assert_eq!(query(&mut a, "SHOW DEVICES").unwrap().len(), 1);

    let listed = query(&mut root, "LIST PRIVILEGES OF USER alice").unwrap();
    assert_eq!(
        listed,
        vec![
            vec!["", "root.ln.**", "WRITE_DATA", "false"],
            vec!["", "root.ln.d1.**", "READ_SCHEMA", "false"],
            vec!["", "root.ln.d1.**", "WRITE_SCHEMA", "false"],
        ]
    );

    // REVOKE on a wider path clears the narrower grants, for the open
    // session at once.
    exec(&mut root, "REVOKE WRITE ON root.ln.** FROM USER alice");
    denied(&mut a, "INSERT INTO root.ln.d1(time, s1) VALUES (4, 4.0)");
    assert_eq!(
        query(&mut root, "LIST PRIVILEGES OF USER alice").unwrap(),
        vec![vec!["", "root.ln.d1.**", "READ_SCHEMA", "false"]]
    );

    // Grants are stored: they survive a restart.
    drop((a, root));
    let mut node = node;
    node.restart();
    let mut a = user(&node, "alice");
    assert_eq!(query(&mut a, "SHOW TIMESERIES").unwrap().len(), 2);
    denied(&mut a, "SELECT s1 FROM root.ln.d1");
    let got = node.rows("SELECT s1 FROM root.ln.d1").unwrap();
    assert_eq!(
        got.len(),
        3,
        "alice's three writes, nothing after the revoke"
    );
}

#[test]
fn t92_grant_option_and_global_privileges() {
    let node = Node::start();
    let mut root = setup(&node);
    exec(
        &mut root,
        "GRANT READ_DATA ON root.ln.** TO USER alice WITH GRANT OPTION",
    );
    exec(&mut root, "GRANT MANAGE_USER ON root.** TO USER alice");
    let mut a = user(&node, "alice");
    // Passes on what it holds with grant option, inside its path only.
    exec(&mut a, "GRANT READ_DATA ON root.ln.d1.** TO USER bob");
    denied(&mut a, "GRANT READ_DATA ON root.** TO USER bob");
    denied(&mut a, "GRANT WRITE_DATA ON root.ln.** TO USER bob");
    denied(&mut a, "GRANT MANAGE_USER ON root.** TO USER bob");
    let mut b = user(&node, "bob");
    assert_eq!(query(&mut b, "SELECT s1 FROM root.ln.d1").unwrap().len(), 1);
    // MANAGE_USER: users, but never root's password.
    exec(&mut a, "CREATE USER carol 'pw_of_user'");
    assert_eq!(query(&mut a, "LIST USER").unwrap().len(), 4);
    exec(&mut a, "ALTER USER carol SET PASSWORD 'newpass'");
    denied(&mut a, "ALTER USER root SET PASSWORD 'newpass'");
    exec(&mut a, "DROP USER carol");
    // Global privileges on root.** only: MANAGE_DATABASE, USE_PIPE, MAINTAIN.
    exec(
        &mut root,
        "GRANT MANAGE_DATABASE, USE_PIPE, MAINTAIN ON root.** TO USER bob",
    );
    exec(&mut b, "CREATE DATABASE root.bobs");
    exec(
        &mut b,
        "CREATE PIPE bp WITH SINK ('sink'='do-nothing-sink')",
    );
    assert_eq!(query(&mut b, "SHOW PIPES").unwrap().len(), 1);
    assert!(!query(&mut b, "SHOW CLUSTER").unwrap().is_empty());
    // A dropped user's open session can do nothing more.
    exec(&mut root, "DROP USER bob");
    assert!(b.execute("SHOW PIPES").is_err());
    assert!(node.session_as("bob", "pw_of_user").is_err());
}

#[test]
fn t93_bad_grants_are_refused_and_change_nothing() {
    let node = Node::start();
    let mut root = setup(&node);
    for (sql, needle) in [
        (
            "GRANT READ_DATA ON root.ln.* TO USER alice",
            "full path or a path ending in .**",
        ),
        (
            "GRANT READ_DATA ON root.**.d1 TO USER alice",
            "full path or a path ending in .**",
        ),
        (
            "GRANT MANAGE_USER ON root.ln.** TO USER alice",
            "grant it ON root.**",
        ),
        (
            "GRANT ALL ON root.ln.** TO USER alice",
            "grant it ON root.**",
        ),
        (
            "GRANT USE_UDF ON root.** TO USER alice",
            "no user-defined functions",
        ),
        ("GRANT READ_DATA ON root.** TO ROLE alice", "no roles"),
        ("GRANT FLY ON root.** TO USER alice", "a privilege"),
        (
            "GRANT READ_DATA ON root.** TO USER root",
            "holds every privilege",
        ),
        (
            "GRANT READ_DATA ON root.** TO USER nobody",
            "does not exist",
        ),
        ("REVOKE READ_DATA ON root.** FROM USER alice", "holds none"),
    ] {
        let e = root
            .execute(sql)
            .err()
            .unwrap_or_else(|| panic!("{sql} accepted"));
        assert!(e.to_string().contains(needle), "{sql}: {e}");
    }
    assert!(query(&mut root, "LIST PRIVILEGES OF USER alice")
        .unwrap()
        .is_empty());
    // root's own listing: everything, with grant option.
    let all = query(&mut root, "LIST PRIVILEGES OF USER root").unwrap();
    assert_eq!(all.len(), 9, "{all:?}");
    assert!(all.iter().any(|r| r[2] == "REPLICATION"));
}

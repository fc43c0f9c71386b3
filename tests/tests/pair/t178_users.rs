//! Users and privileges through pipes whose inclusion names `auth`
//! (IoTDB's `auth.*`, or `all`): a user made before the pipes arrives with
//! the history transfer; CREATE USER, GRANT, ALTER USER's password, REVOKE
//! and DROP USER made on either node reach the other, checked against what
//! the statements should leave (a small model), by logging in on the far
//! node. The guide's pipes (no inclusion) carry no user; a pipe whose user
//! is not root on the receiver stops saying so, and nothing of it
//! is applied.

use crate::{connected, count, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};
use std::collections::BTreeMap;

fn auth_pipe(name: &str, port: u16, inclusion: &str, user: &str, password: &str) -> String {
    format!(
        "CREATE PIPE {name} WITH SOURCE ('source.mode.double-living'='true', \
         'source.inclusion'='{inclusion}') WITH SINK ('sink'='iotdb-thrift-sink', \
         'sink.ip'='127.0.0.1', 'sink.port'='{port}', 'sink.username'='{user}', \
         'sink.password'='{password}')"
    )
}

/// Users other than root, each with its privileges as LIST PRIVILEGES
/// shows them.
fn users(n: &Node) -> Result<BTreeMap<String, Vec<Vec<String>>>, String> {
    let mut out = BTreeMap::new();
    for row in n.rows("LIST USER")? {
        let name = row[0].clone();
        if name != "root" {
            let privs = n.rows(&format!("LIST PRIVILEGES OF USER {name}"))?;
            out.insert(name, privs);
        }
    }
    Ok(out)
}

/// Waits until `n` has exactly the users (and privileges) `model` has.
fn wait_users(n: &Node, model: &BTreeMap<String, Vec<Vec<String>>>, what: &str) {
    wait_until(WAIT, what, || {
        let got = users(n)?;
        if &got == model {
            Ok(())
        } else {
            Err(format!("have {got:?}, want {model:?}"))
        }
    });
}

/// Writes a marker point on `from` and waits for it on `to`: everything
/// `from`'s pipe carried before it has been applied on `to`.
fn barrier(from: &Node, to: &Node, i: u64) {
    from.sql(&format!(
        "INSERT INTO root.mark.d(time, v) VALUES ({i}, {i})"
    ));
    wait_until(WAIT, "the marker point", || {
        let c = count(to, "root.mark.d", "v");
        (c >= i).then_some(()).ok_or(format!("{c} markers"))
    });
}

fn logs_in(n: &Node, user: &str, password: &str) -> bool {
    n.session_as(user, password).is_ok()
}

#[test]
fn t178_users_and_privileges_travel_when_the_inclusion_names_auth() {
    let (a, b) = (Node::start(), Node::start());
    // Made before any pipe: the history transfer carries it.
    a.sql("CREATE DATABASE root.u");
    a.sql("CREATE USER early 'early-pw1'");
    a.sql("GRANT READ_DATA ON root.u.** TO USER early");
    a.sql(&auth_pipe("AB", b.rpc.port(), "all", "root", "root"));
    b.sql(&auth_pipe(
        "BA",
        a.rpc.port(),
        "data, schema, auth.user",
        "root",
        "root",
    ));
    connected(&a);
    connected(&b);
    let model_a = users(&a).unwrap();
    assert_eq!(model_a.len(), 1, "{model_a:?}");
    wait_users(&b, &model_a, "the early user on B");
    assert!(logs_in(&b, "early", "early-pw1"));

    // Made on B, used on A.
    b.sql("CREATE USER bob 'bob-pw1'");
    b.sql("GRANT WRITE ON root.u.** TO USER bob");
    let model = users(&b).unwrap();
    assert_eq!(model.len(), 2);
    wait_users(&a, &model, "bob on A");
    {
        let mut bob = a.session_as("bob", "bob-pw1").expect("bob logs in on A");
        bob.execute("INSERT INTO root.u.d(time, v) VALUES (1, 1)")
            .expect("bob writes root.u on A");
        assert!(
            bob.execute("INSERT INTO root.other.d(time, v) VALUES (1, 1)")
                .is_err(),
            "bob may write root.u only"
        );
    }

    // The password changed on A logs in on B, the old one no longer.
    a.sql("ALTER USER bob SET PASSWORD 'bob-pw2'");
    barrier(&a, &b, 1);
    assert!(logs_in(&b, "bob", "bob-pw2"));
    assert!(!logs_in(&b, "bob", "bob-pw1"));

    // REVOKE on A, DROP on B.
    a.sql("REVOKE READ_DATA ON root.u.** FROM USER early");
    b.sql("DROP USER bob");
    let mut model = model;
    model.remove("bob");
    model.insert("early".into(), Vec::new());
    wait_users(&a, &model, "bob dropped, early's grant revoked, on A");
    wait_users(&b, &model, "the same on B");
    assert!(!logs_in(&a, "bob", "bob-pw2"));

    // The guide's pipes (no inclusion) carry data, not users.
    let c = Node::start();
    a.sql(&pipe_sql("AC", c.rpc.port()));
    a.sql("CREATE USER carol 'carol-pw1'");
    barrier(&a, &c, 2);
    assert_eq!(users(&c).unwrap(), BTreeMap::new());
    assert!(!logs_in(&c, "carol", "carol-pw1"));
    // SHOW PIPES says what each carries beyond IoTDB's defaults.
    let notes: BTreeMap<String, String> = a
        .rows("SHOW PIPES")
        .unwrap()
        .into_iter()
        .map(|r| (r[0].clone(), r.last().cloned().unwrap_or_default()))
        .collect();
    assert!(
        notes["AB"].contains("carries users and privileges"),
        "{notes:?}"
    );
    assert!(
        notes["AC"].contains("inserts, deletes and schema") && !notes["AC"].contains("users"),
        "{notes:?}"
    );
    // ... while AB carries carol to B.
    model.insert("carol".into(), Vec::new());
    wait_users(&b, &model, "carol on B");
}

#[test]
fn t179_a_pipe_user_other_than_root_stops_an_auth_pipe_saying_so() {
    let (a, b) = (Node::start(), Node::start());
    b.sql("CREATE USER repl 'repl-pw1'");
    // Even every privilege with grant option is not root's: it could not
    // change root's password here, so it may not through a pipe.
    b.sql("GRANT ALL ON root.** TO USER repl WITH GRANT OPTION");
    a.sql("CREATE USER mallory 'mallory-pw1'");
    a.sql("INSERT INTO root.r.d(time, v) VALUES (1, 1)");
    a.sql(&auth_pipe("AB", b.rpc.port(), "all", "repl", "repl-pw1"));
    wait_until(WAIT, "the pipe's error", || {
        let p = a.pipes();
        match p.first() {
            Some(p) if p.1 == "STOPPED" && p.2.contains("only root") && p.2.contains("repl") => {
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    });
    assert!(users(&b).unwrap().keys().all(|u| u != "mallory"));
    assert!(!logs_in(&b, "mallory", "mallory-pw1"));
    // Logged in as root and started again, the same pipe delivers.
    a.sql("ALTER PIPE AB MODIFY SINK ('sink.username'='root', 'sink.password'='root')");
    a.sql("START PIPE AB");
    wait_until(WAIT, "mallory on B", || {
        let u = users(&b)?;
        u.contains_key("mallory")
            .then_some(())
            .ok_or(format!("{u:?}"))
    });
    wait_until(WAIT, "the point on B", || {
        let c = count(&b, "root.r.d", "v");
        (c == 1).then_some(()).ok_or(format!("{c}"))
    });
}

//! Durability across SIGKILL and orderly shutdown on SIGTERM.

use duet_tests::{exec, query, Node};

#[test]
fn t40_acknowledged_writes_survive_kill9() {
    let mut node = Node::start();
    let mut s = node.session();
    for i in 0..200 {
        exec(
            &mut s,
            &format!("INSERT INTO root.k.d(time, v) VALUES ({i}, {i})"),
        );
    }
    drop(s);
    node.kill9();
    node.restart();
    let mut s = node.session();
    assert_eq!(
        query(&mut s, "SELECT count(v) FROM root.k.d").unwrap()[0][0],
        "200"
    );
}

#[test]
fn t41_sigterm_finishes_and_flushes() {
    let mut node = Node::start();
    let id = node.node_id;
    let mut s = node.session();
    exec(
        &mut s,
        "INSERT INTO root.k.d(time, v) VALUES (1, 1), (2, 2)",
    );
    drop(s);
    let status = node.terminate();
    assert!(
        status.success(),
        "clean exit on SIGTERM: {status:?}\n{}",
        node.log()
    );
    node.restart();
    assert_eq!(node.node_id, id, "the node keeps its identity");
    assert_eq!(
        query(&mut node.session(), "SELECT v FROM root.k.d")
            .unwrap()
            .len(),
        2
    );
}

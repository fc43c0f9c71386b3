//! The change log is trimmed; a pipe whose position was trimmed away
//! recovers through a history transfer.

use crate::{insert, wait_count};
use duet_tests::{pipe_sql, wait_until, Node};
use std::time::Duration;

#[test]
fn t70_a_pipe_that_fell_off_the_log_resends_history() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("a.toml");
    std::fs::write(
        &conf,
        "[replication]\nlog_max_events = 20\ntrim_interval_secs = 1\n",
    )
    .unwrap();
    let a = Node::start_with(&["--config", conf.to_str().unwrap()]);
    let mut b = Node::start();
    a.sql(&pipe_sql("AB", b.rpc.port()));
    insert(&a, "root.t.d", "v", 0, 10, 1.0);
    wait_count(&b, "root.t.d", "v", 10);
    b.kill9();
    for i in 0..60 {
        insert(&a, "root.t.d", "v", 10 + i, 1, 1.0);
    }
    wait_until(
        Duration::from_secs(30),
        "A's log trimmed past the pipe's position",
        || {
            let first = a.metric("duet_changelog_first_seq").unwrap_or(0.0);
            if first > 20.0 {
                Ok(())
            } else {
                Err(format!("first_seq {first}"))
            }
        },
    );
    b.restart();
    wait_count(&b, "root.t.d", "v", 70);
}

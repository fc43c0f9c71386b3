//! What the log tells an operator about the pipes: the history transfer
//! (started, finished with counts), the peer lost and back, one line per
//! event with its level and target.

use crate::{connected, wait_count, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};

#[test]
fn t140_the_log_says_what_the_pipes_did() {
    let info = [("RUST_LOG", "info")];
    let mut a = Node::start_with_env(&info, &[]);
    let mut b = Node::start_with_env(&info, &[]);
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    connected(&a);
    connected(&b);
    a.sql("INSERT INTO root.lg.d(time, v) VALUES (1, 1.0)");
    b.kill9();
    // A notices while it tries to ship the next write.
    a.sql("INSERT INTO root.lg.d(time, v) VALUES (2, 2.0)");
    wait_until(WAIT, "A to see B unreachable", || {
        let rows = a.rows("SHOW CLUSTER")?;
        if rows.iter().any(|r| r[2] == "Unreachable") {
            Ok(())
        } else {
            Err(format!("{rows:?}"))
        }
    });
    b.restart();
    connected(&a);
    wait_count(&b, "root.lg.d", "v", 2);
    a.terminate();
    let log = wait_until(WAIT, "A's log", || {
        let l = a.log();
        if l.contains("stopped") {
            Ok(l)
        } else {
            Err(l)
        }
    });
    for needle in [
        "pipe AB: history transfer started",
        "pipe AB: history transfer finished:",
        "pipe AB: peer unreachable",
        "answers again after",
    ] {
        assert!(log.contains(needle), "{needle:?} in A's log:\n{log}");
    }
    // One line per event, each with its level and target.
    for line in log.lines().filter(|l| l.contains("pipe AB:")) {
        assert!(
            (line.contains(" INFO ") || line.contains(" WARN ")) && line.contains("duet_pipe"),
            "{line}"
        );
    }
}

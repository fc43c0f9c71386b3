//! TTL through the guide's pipes: a rule set before the pipes arrives with
//! the history transfer, SET and UNSET on either node reach the other, and
//! both nodes stop reading the expired points of a series written on one
//! of them.

use crate::{connected, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};

fn ttls(n: &Node) -> Result<Vec<Vec<String>>, String> {
    n.rows("SHOW ALL TTL")
}

fn wait_ttls(n: &Node, want: &[[&str; 2]], what: &str) {
    let want: Vec<Vec<String>> = want
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
    wait_until(WAIT, what, || {
        let got = ttls(n)?;
        if got == want {
            Ok(())
        } else {
            Err(format!("have {got:?}, want {want:?}"))
        }
    });
}

#[test]
fn t183_ttl_rules_travel_and_both_nodes_expire_alike() {
    let (a, b) = (Node::start(), Node::start());
    a.sql("CREATE DATABASE root.tl");
    // Points two days old and recent ones, written on A before any rule
    // (once a rule covers them, IoTDB refuses expired points, and so does
    // Duet).
    let now = duet_engine::hlc::wall_clock_ms() as i64;
    let old = now - 2 * 86_400_000;
    a.sql(&format!(
        "INSERT INTO root.tl.old.d(time, s) VALUES ({old}, 1), ({}, 2), ({now}, 3)",
        old + 1
    ));
    a.sql(&format!(
        "INSERT INTO root.tl.new.d(time, s) VALUES ({old}, 1), ({now}, 3)"
    ));
    a.sql("SET TTL TO root.tl.old.** 86400000");
    let refused = a
        .session()
        .execute(&format!(
            "INSERT INTO root.tl.old.d(time, s) VALUES ({old}, 9)"
        ))
        .err()
        .expect("an expired point is refused")
        .to_string();
    assert!(refused.contains("less than ttl time bound"), "{refused}");
    // The rule and the points travel with the history transfer.
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    connected(&a);
    connected(&b);
    wait_ttls(
        &b,
        &[["root.**", "INF"], ["root.tl.old.**", "86400000"]],
        "the history's rule on B",
    );
    let counts = |n: &Node| -> Result<Vec<String>, String> {
        Ok(n.rows("SELECT count(s) FROM root.tl.**")?
            .into_iter()
            .next()
            .unwrap_or_default())
    };
    // root.tl.new.d.s then root.tl.old.d.s: only the old one's rule hides.
    for n in [&a, &b] {
        wait_until(WAIT, "the expired points hidden on both", || {
            let c = counts(n)?;
            (c == ["2", "1"]).then_some(()).ok_or(format!("{c:?}"))
        });
    }
    // B sets a rule, A unsets the first: each reaches the other.
    b.sql("SET TTL TO root.tl.new.** 86400000");
    a.sql("UNSET TTL FROM root.tl.old.**");
    for (n, name) in [(&a, "A"), (&b, "B")] {
        wait_ttls(
            n,
            &[["root.**", "INF"], ["root.tl.new.**", "86400000"]],
            name,
        );
        wait_until(WAIT, "the rules swapped on both", || {
            let c = counts(n)?;
            (c == ["1", "3"])
                .then_some(())
                .ok_or(format!("{name}: {c:?}"))
        });
    }
}

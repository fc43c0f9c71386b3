//! A node restored from `BACKUP TO`: its log goes back and reuses sequence
//! numbers the peer has already applied, and its marks for the peer go back
//! while the peer's pipe has moved on. Both sides must notice at the next
//! handshake and resend history, so nothing either node acknowledged is
//! lost and both end with the same points (checked against what the
//! clients wrote, not only node against node).

use crate::{insert, pair, points, wait_count};
use duet_tests::{wait_until, Node};

/// The points `insert(start, rows, mul)` writes: the reference model.
fn expected(start: i64, rows: i64, mul: f64) -> Vec<(i64, f64)> {
    (start..start + rows).map(|t| (t, t as f64 * mul)).collect()
}

/// A series' points on a node, parsed.
fn parsed(node: &Node, series: &str) -> Vec<(i64, f64)> {
    points(node, series, "v")
        .iter()
        .filter_map(|r| Some((r.first()?.parse().ok()?, r.get(1)?.parse().ok()?)))
        .collect()
}

fn restore(node: &mut Node, backup: &std::path::Path) {
    node.kill9();
    std::fs::remove_dir_all(node.data_dir()).unwrap();
    std::fs::rename(backup, node.data_dir()).unwrap();
    node.restart();
}

fn scenario(restore_a: bool) {
    let (mut a, mut b) = pair();
    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().join("bk");
    let (r, other) = if restore_a {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };

    // Before the backup: writes on both nodes, replicated.
    insert(r, "root.rs.before", "v", 0, 100, 1.0);
    insert(other, "root.rs.peer", "v", 0, 20, 1.0);
    wait_count(other, "root.rs.before", "v", 100);
    wait_count(r, "root.rs.peer", "v", 20);
    r.sql(&format!("BACKUP TO '{}'", backup.display()));

    // After the backup: more on both, acknowledged and replicated, so the
    // peer's mark for the restored node's stream passes the backup, and
    // the restored node's mark for the peer's stream does too.
    for i in 0..10 {
        insert(r, "root.rs.after", "v", i * 10, 10, 1.0);
    }
    insert(other, "root.rs.peer", "v", 20, 30, 1.0);
    wait_count(other, "root.rs.after", "v", 100);
    wait_count(r, "root.rs.peer", "v", 50);

    restore(r, &backup);
    // The restored node lost root.rs.after and part of root.rs.peer; its
    // next writes reuse the log numbers of the lost ones.
    for i in 0..10 {
        insert(r, "root.rs.new", "v", i * 10, 10, 2.0);
    }

    for (node, name) in [(&*r, "restored"), (&*other, "peer")] {
        for (series, exp) in [
            ("root.rs.before", expected(0, 100, 1.0)),
            ("root.rs.after", expected(0, 100, 1.0)),
            ("root.rs.peer", expected(0, 50, 1.0)),
            ("root.rs.new", expected(0, 100, 2.0)),
        ] {
            wait_until(
                crate::WAIT,
                &format!("{series} complete on the {name} node"),
                || {
                    let got = parsed(node, series);
                    if got == exp {
                        Ok(())
                    } else {
                        Err(format!("{} of {} points", got.len(), exp.len()))
                    }
                },
            );
        }
    }
    crate::connected(&a);
    crate::connected(&b);
}

#[test]
fn t90_b_restored_from_a_backup_loses_nothing() {
    scenario(false);
}

#[test]
fn t91_a_restored_from_a_backup_loses_nothing() {
    scenario(true);
}

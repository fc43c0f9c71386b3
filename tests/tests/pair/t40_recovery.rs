//! Breakpoint recovery: a node killed with SIGKILL gets everything it
//! missed when it returns; nothing acknowledged is lost or applied twice.

use crate::{count, insert, pair, wait_count, WAIT};
use duet_tests::wait_until;

#[test]
fn t40_b_killed_during_ingest_on_a() {
    let (a, mut b) = pair();
    insert(&a, "root.r.d", "v", 0, 500, 1.0);
    b.kill9();
    insert(&a, "root.r.d", "v", 500, 1500, 1.0);
    let events_on_a = a.log_last_seq();
    b.restart();
    wait_count(&b, "root.r.d", "v", 2000);
    // Every event of A applied exactly once on B.
    wait_until(WAIT, "B to apply A's events once", || {
        let s = b.peer_changes_applied();
        if s == events_on_a {
            Ok(())
        } else {
            Err(format!("B applied {s}, A made {events_on_a}"))
        }
    });
}

#[test]
fn t41_a_killed_with_batches_in_flight() {
    let (mut a, b) = pair();
    for i in 0..20 {
        insert(&a, "root.r.f", "v", i * 100, 100, 1.0);
    }
    a.kill9(); // acknowledged locally; some batches not yet acknowledged by B
    a.restart();
    insert(&a, "root.r.f", "v", 2000, 100, 1.0);
    wait_count(&b, "root.r.f", "v", 2100);
    assert_eq!(count(&a, "root.r.f", "v"), 2100);
    wait_until(WAIT, "B applied each of A's 21 events once", || {
        let s = b.peer_changes_applied();
        if s == 21 {
            Ok(())
        } else {
            Err(format!("B applied {s}"))
        }
    });
}

#[test]
fn t42_a_peer_rebuilt_from_scratch_gets_the_history_again() {
    let (a, mut b) = pair();
    insert(&a, "root.r.w", "v", 0, 300, 1.0);
    wait_count(&b, "root.r.w", "v", 300);
    let old_id = b.node_id;
    b.wipe_and_restart();
    assert_ne!(b.node_id, old_id);
    insert(&a, "root.r.w", "v", 300, 10, 1.0);
    wait_count(&b, "root.r.w", "v", 310);
}

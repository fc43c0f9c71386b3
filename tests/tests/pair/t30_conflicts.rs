//! The same series and timestamps written on both nodes with different
//! values converge to the same value on both (last writer wins).

use crate::{insert, pair, points, WAIT};
use duet_tests::wait_until;

#[test]
fn t30_conflicting_writes_converge() {
    let (a, b) = pair();
    a.sql("STOP PIPE AB");
    b.sql("STOP PIPE BA");
    // Interleaved, so each side wins some timestamps.
    for round in 0..5i64 {
        insert(&a, "root.c.d", "v", round * 10, 10, 1.0);
        insert(&b, "root.c.d", "v", round * 10 + 5, 10, -1.0);
    }
    a.sql("START PIPE AB");
    b.sql("START PIPE BA");
    wait_until(WAIT, "both nodes to hold the same points", || {
        let (pa, pb) = (points(&a, "root.c.d", "v"), points(&b, "root.c.d", "v"));
        if pa == pb && pa.len() == 55 {
            Ok(())
        } else {
            Err(format!("A {} rows, B {} rows", pa.len(), pb.len()))
        }
    });
    let p = points(&a, "root.c.d", "v");
    // Timestamps both wrote got one value, the same on both nodes: B wrote
    // 45..49 of each round after A, so B's value wins there.
    let at = |t: &str| p.iter().find(|r| r[0] == t).map(|r| r[1].clone());
    assert_eq!(at("5").as_deref(), Some("-5.0"));
    assert_eq!(at("0").as_deref(), Some("0.0"));
}

//! Hand-made ledgers and dumps: a clean run passes, and each rule fails
//! when it should (so a failing cluster cannot pass unnoticed).

use super::*;

const S: &str = "root.chaos.d0.v";

/// A statement on `node`, sent at `sent` ms and answered at `sent + 5`.
fn entry(node: usize, sent: u64, op: Op, outcome: Outcome) -> Entry {
    Entry {
        writer: node as u32 + 1,
        node,
        sent_ms: sent,
        done_ms: sent + 5,
        op,
        outcome,
        skew_ms: 0,
    }
}

fn insert(node: usize, sent: u64, points: &[(i64, i64)], outcome: Outcome) -> Entry {
    let op = Op::Insert {
        series: S.into(),
        points: points.to_vec(),
    };
    entry(node, sent, op, outcome)
}

fn delete(node: usize, sent: u64, start: i64, end: i64, outcome: Outcome) -> Entry {
    let op = Op::Delete {
        series: S.into(),
        start,
        end,
    };
    entry(node, sent, op, outcome)
}

fn dump(rows: &[(i64, i64)]) -> Dump {
    [(
        S.to_string(),
        rows.iter().map(|&(t, v)| (t, v as f64)).collect(),
    )]
    .into()
}

fn problems(entries: &[Entry], dumps: &[Dump]) -> Vec<String> {
    let r = check(entries, dumps);
    assert_eq!(r.total, r.problems.len());
    r.problems.into_iter().map(|p| p.text).collect()
}

#[test]
fn a_clean_run_passes_and_concurrent_writes_may_go_either_way() {
    let ledger = [
        insert(0, 0, &[(1, 101), (2, 102)], Outcome::Acked),
        // Concurrent with the first (on another node, within the margin).
        insert(1, 10, &[(2, 201), (3, 202)], Outcome::Acked),
        insert(1, 20, &[(4, 203)], Outcome::Unknown),
    ];
    let d = dump(&[(1, 101), (2, 201), (3, 202)]);
    assert_eq!(problems(&ledger, &[d.clone(), d]), Vec::<String>::new());
    let r = check(&ledger, &[dump(&[(1, 101), (2, 102), (3, 202), (4, 203)])]);
    assert!(r.passed(), "{:?}", r.problems);
    assert_eq!((r.acked_keys, r.exact_keys), (3, 2));
}

#[test]
fn a_lost_acknowledged_write_fails() {
    let ledger = [insert(0, 0, &[(1, 101), (2, 102)], Outcome::Acked)];
    let p = problems(&ledger, &[dump(&[(1, 101), (2, 102)]), dump(&[(1, 101)])]);
    assert_eq!(
        p,
        [
            "B: acknowledged root.chaos.d0.v@2 is missing",
            "root.chaos.d0.v@2: A has Some(102.0), B has None"
        ]
    );
}

#[test]
fn a_racing_delete_excuses_a_missing_key_an_earlier_one_does_not() {
    let ledger = [
        insert(0, 100, &[(1, 101), (2, 102), (3, 103)], Outcome::Acked),
        delete(1, 120, 2, 2, Outcome::Acked), // within the margin: a race
        delete(0, 0, 3, 3, Outcome::Acked),   // surely before the write
        delete(0, 300, 1, 1, Outcome::Failed),
    ];
    assert!(check(&ledger, &[dump(&[(1, 101), (3, 103)])]).passed());
    let p = problems(&ledger, &[dump(&[(1, 101), (3, 103), (4, 555)])]);
    assert_eq!(p, ["A: root.chaos.d0.v@4 = 555, a value no client wrote"]);
    let p = problems(&ledger, &[dump(&[])]);
    assert_eq!(
        p,
        [
            "A: acknowledged root.chaos.d0.v@1 is missing",
            "A: acknowledged root.chaos.d0.v@3 is missing"
        ]
    );
}

#[test]
fn failed_misplaced_and_duplicated_values_fail() {
    let ledger = [
        insert(0, 0, &[(1, 101)], Outcome::Failed),
        insert(0, 10, &[(2, 102)], Outcome::Unknown),
    ];
    let p = problems(&ledger, &[dump(&[(1, 101), (3, 102)])]);
    assert_eq!(
        p,
        [
            "A: root.chaos.d0.v@1 = 101, from a write answered with an error",
            "A: root.chaos.d0.v@3 = 102, a value written to root.chaos.d0.v@2"
        ]
    );
    let p = problems(&ledger, &[dump(&[(2, 102), (2, 102)])]);
    assert_eq!(p, ["A: root.chaos.d0.v has two rows at time 2"]);
}

#[test]
fn the_last_acknowledged_write_decides_the_value() {
    // The only write that counts (the other failed).
    let ledger = [
        insert(0, 0, &[(1, 101)], Outcome::Acked),
        insert(1, 0, &[(1, 201)], Outcome::Failed),
    ];
    let p = problems(&ledger, &[dump(&[(1, 201)])]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(
        p[1],
        "A: root.chaos.d0.v@1 = 201, but the last write stored 101"
    );
    // Written again later on the same node, and later still on another.
    let ledger = [
        insert(0, 0, &[(1, 101), (2, 102)], Outcome::Acked),
        insert(0, 6, &[(1, 111)], Outcome::Acked),
        insert(1, 100, &[(2, 202)], Outcome::Acked),
    ];
    assert!(check(&ledger, &[dump(&[(1, 111), (2, 202)])]).passed());
    let p = problems(&ledger, &[dump(&[(1, 101), (2, 102)])]);
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(
        p[0].ends_with("but an acknowledged write or delete came surely after it"),
        "{p:?}"
    );
    assert_eq!(
        p[2],
        "A: root.chaos.d0.v@1 = 101, but the last write stored 111"
    );
}

#[test]
fn a_value_deleted_after_it_was_written_must_stay_deleted() {
    let ledger = [
        insert(0, 0, &[(1, 101)], Outcome::Acked),
        delete(1, 100, 0, 5, Outcome::Acked),
    ];
    assert!(check(&ledger, &[dump(&[])]).passed());
    let p = problems(&ledger, &[dump(&[(1, 101)])]);
    assert_eq!(
        p,
        ["A: root.chaos.d0.v@1 = 101, but an acknowledged write or delete came surely after it"]
    );
}

#[test]
fn nodes_that_differ_fail_even_when_each_is_plausible() {
    let ledger = [
        insert(0, 0, &[(1, 101)], Outcome::Acked),
        insert(1, 0, &[(1, 201)], Outcome::Acked),
    ];
    let p = problems(&ledger, &[dump(&[(1, 101)]), dump(&[(1, 201)])]);
    assert_eq!(
        p,
        ["root.chaos.d0.v@1: A has Some(101.0), B has Some(201.0)"]
    );
    let p = problems(&[], &[dump(&[]), Dump::new()]);
    assert_eq!(p, ["series root.chaos.d0.v exists on A but not on B"]);
}

#[test]
fn a_drop_deletes_what_came_before_it_and_nothing_after() {
    let drop = |node, sent, outcome| {
        let op = Op::Drop {
            series: vec![S.into()],
            sql: format!("DROP TIMESERIES {S}"),
        };
        entry(node, sent, op, outcome)
    };
    let ledger = [
        insert(0, 0, &[(1, 101), (5_000_000, 102)], Outcome::Acked),
        drop(1, 100, Outcome::Acked),
        insert(0, 200, &[(2, 103)], Outcome::Acked),
        // A drop that failed (no such series on that node) changed nothing.
        drop(1, 300, Outcome::Failed),
    ];
    let d = dump(&[(2, 103)]);
    assert_eq!(problems(&ledger, &[d.clone(), d]), Vec::<String>::new());
    // A point the drop covered came back (a resurrection).
    let back = dump(&[(1, 101), (2, 103)]);
    let p = problems(&ledger, &[back.clone(), back]);
    assert!(
        p.iter().all(|p| p.contains("came surely after it")) && p.len() == 2,
        "{p:?}"
    );
    // The write after the drop is lost.
    let p = problems(&ledger, &[dump(&[]), dump(&[])]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("acknowledged root.chaos.d0.v@2 is missing"));
}

#[test]
fn a_clock_offset_widens_the_margin_across_nodes() {
    let mut a = insert(0, 0, &[(1, 1)], Outcome::Acked); // answered at 5
    let mut b = insert(1, 100, &[], Outcome::Acked);
    assert!(a.surely_before(&b));
    a.skew_ms = 400;
    assert!(!a.surely_before(&b));
    a.skew_ms = 0;
    b.skew_ms = 400;
    assert!(!a.surely_before(&b));
    b.sent_ms = 456;
    assert!(a.surely_before(&b));
    // One node's own order never needs a margin.
    let c = insert(0, 6, &[], Outcome::Acked);
    a.skew_ms = 400;
    assert!(a.surely_before(&c));
}

#[test]
fn surely_before_needs_a_margin_across_nodes_only() {
    let a = insert(0, 0, &[(1, 1)], Outcome::Acked); // answered at 5
    assert!(a.surely_before(&insert(0, 6, &[], Outcome::Acked)));
    assert!(!a.surely_before(&insert(0, 5, &[], Outcome::Acked)));
    assert!(!a.surely_before(&insert(1, 55, &[], Outcome::Acked)));
    assert!(a.surely_before(&insert(1, 56, &[], Outcome::Acked)));
}

#[test]
fn a_large_value_gives_its_code_only_when_whole() {
    use crate::ledger::{big_text, decode_text, value_code};
    let code = value_code(3, 41);
    let v = big_text(code);
    assert!(v.len() > 4096, "{}", v.len());
    assert_eq!(decode_text(&v), Some(code));
    assert_eq!(decode_text(&v[..v.len() - 1]), None, "cut");
    let mut garbled = v.clone().into_bytes();
    let last = garbled.len() - 1;
    garbled[last] ^= 1;
    assert_eq!(decode_text(&String::from_utf8(garbled).unwrap()), None);
    assert_eq!(decode_text("3000000041"), Some(3_000_000_041), "a number");
}

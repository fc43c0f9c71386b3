//! Applying a peer's events: exactly once, origin kept, and the same final
//! data whatever order and however often the events arrive.

use duet_engine::event::ChangeEvent;
use duet_engine::{
    ChangeLog, Column, Engine, EngineOptions, Value, WriteSeries, MAX_TIME, MIN_TIME,
};
use proptest::prelude::*;
use std::sync::Arc;

fn open() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(dir.path(), EngineOptions::default()).unwrap();
    (dir, e)
}

fn events(e: &Engine) -> Vec<Vec<u8>> {
    e.read(e.first_seq(), usize::MAX, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|x| x.bytes)
        .collect()
}

/// Every (series, time, value) on a node.
fn dump(e: &Engine) -> Vec<(String, i64, String)> {
    let series: Vec<_> = e.schema().series.values().cloned().collect();
    let mut out = Vec::new();
    for s in series {
        for block in e.scan(s.clone(), MIN_TIME, MAX_TIME, false) {
            let block = block.unwrap();
            for (i, t) in block.times.iter().enumerate() {
                out.push((s.path.clone(), *t, block.values.get(i).unwrap().to_string()));
            }
        }
    }
    out
}

fn write(e: &Engine, path: &str, t: i64, v: f64) {
    write_typed(e, path, t, Column::F64(vec![v]));
}

/// One point at `t` with `values` (a one-value column of any type).
fn write_typed(e: &Engine, path: &str, t: i64, values: Column) {
    e.write(vec![WriteSeries {
        path: path.into(),
        times: vec![t],
        values,
    }])
    .unwrap();
}

#[test]
fn a_batch_applied_twice_changes_nothing_and_keeps_its_origin() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    write(&a, "root.sg.d.s", 2, 2.0);
    a.delete_points(&["root.sg.d.s".into()], 1, 1).unwrap();
    let batch = events(&a);
    let first = b.apply_remote("t", &batch).unwrap();
    assert_eq!((first.applied, first.skipped), (3, 0));
    let again = b.apply_remote("t", &batch).unwrap();
    assert_eq!((again.applied, again.skipped), (0, 3));
    assert_eq!(b.last_seq(), 3, "the re-sent batch did not reach the log");
    assert_eq!(dump(&a), dump(&b));
    assert_eq!(b.high_water_mark(a.node_id(), "t"), 3);
    for entry in b.read(1, 10, usize::MAX).unwrap() {
        assert_eq!(
            entry.header().unwrap().origin,
            a.node_id(),
            "received events keep their origin"
        );
    }
    // Events that come back to their origin are skipped.
    let back = a.apply_remote("t", &events(&b)).unwrap();
    assert_eq!((back.applied, back.skipped), (0, 3));
}

#[test]
fn high_water_marks_survive_restart() {
    let (_a_dir, a) = open();
    let b_dir = tempfile::tempdir().unwrap();
    write(&a, "root.sg.d.s", 1, 1.0);
    {
        let b = Engine::open(b_dir.path(), EngineOptions::default()).unwrap();
        b.apply_remote("t", &events(&a)).unwrap();
    }
    let b = Engine::open(b_dir.path(), EngineOptions::default()).unwrap();
    assert_eq!(b.high_water_mark(a.node_id(), "t"), 1);
    assert_eq!(b.apply_remote("t", &events(&a)).unwrap().applied, 0);
}

#[test]
fn concurrent_writes_converge_to_the_greater_version() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&a, "root.sg.d.s", 10, 1.0);
    write(&b, "root.sg.d.s", 10, 2.0);
    let (from_a, from_b) = (events(&a), events(&b));
    a.apply_remote("t", &from_b).unwrap();
    b.apply_remote("t", &from_a).unwrap();
    assert_eq!(dump(&a), dump(&b));
    assert_eq!(dump(&a).len(), 1);
}

#[test]
fn a_late_older_write_does_not_resurrect_deleted_data() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&b, "root.sg.d.s", 5, 9.0); // older write on B
    write(&a, "root.sg.d.s", 1, 1.0);
    a.delete_points(&["root.sg.d.s".into()], 0, 100).unwrap(); // newer delete on A
    let from_b = events(&b);
    a.apply_remote("t", &from_b).unwrap(); // B's older write reaches A after the delete
    b.apply_remote("t", &events(&a)).unwrap();
    assert!(dump(&a).is_empty(), "{:?}", dump(&a));
    assert_eq!(dump(&a), dump(&b));
}

#[test]
fn bad_event_bytes_change_nothing() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    let mut batch = events(&a);
    batch.push(vec![1, 2, 3]);
    assert!(b.apply_remote("t", &batch).is_err());
    assert_eq!(b.last_seq(), 0);
    assert!(dump(&b).is_empty());
    assert_eq!(b.high_water_mark(a.node_id(), "t"), 0);
}

#[derive(Debug, Clone)]
enum Op {
    Write {
        node: usize,
        series: u8,
        t: i64,
        v: i32,
    },
    Delete {
        node: usize,
        series: u8,
        start: i64,
        len: i64,
    },
    Drop {
        node: usize,
        series: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..3u8, 0..40i64, any::<i32>()).prop_map(|(node, series, t, v)| Op::Write { node, series, t, v }),
        1 => (0..3usize, 0..3u8, 0..40i64, 0..10i64).prop_map(|(node, series, start, len)| Op::Delete { node, series, start, len }),
        1 => (0..3usize, 0..3u8).prop_map(|(node, series)| Op::Drop { node, series }),
    ]
}

/// The reference answer for a set of events: per (series, time) the write
/// with the greatest version, unless a newer range delete or a newer drop of
/// its series covers it (last writer wins, deletes and drops versioned).
fn model(per_origin: &[Vec<Vec<u8>>]) -> Vec<(String, i64, String)> {
    use duet_engine::event::{EventBody, SchemaChange};
    use duet_engine::Version;
    use std::collections::BTreeMap;
    let mut writes: BTreeMap<(String, i64), (Version, String)> = BTreeMap::new();
    let mut deletes: Vec<(String, i64, i64, Version)> = Vec::new();
    let mut drops: BTreeMap<String, Version> = BTreeMap::new();
    for e in per_origin.iter().flatten() {
        let e = ChangeEvent::decode(e).unwrap();
        match e.body {
            EventBody::Auth(_) => {}
            EventBody::Insert(ws) => {
                for w in ws {
                    for (i, t) in w.chunk.times.iter().enumerate() {
                        let v = w.chunk.versions[i];
                        let value = w.chunk.values.get(i).unwrap().to_string();
                        let slot = writes
                            .entry((w.path.clone(), *t))
                            .or_insert((v, value.clone()));
                        if v > slot.0 {
                            *slot = (v, value);
                        }
                    }
                }
            }
            EventBody::Delete(ds) => {
                for d in ds {
                    deletes.push((d.path, d.start, d.end, e.version));
                }
            }
            EventBody::Schema(SchemaChange::DeleteTimeseries { paths }) => {
                for p in paths {
                    let slot = drops.entry(p).or_insert(e.version);
                    *slot = (*slot).max(e.version);
                }
            }
            EventBody::Schema(_) => {}
        }
    }
    writes
        .into_iter()
        .filter(|((path, t), (v, _))| {
            let dropped = drops.get(path).is_some_and(|d| d >= v);
            let deleted = deletes.iter().any(|(p, s, e, dv)| {
                p == path && s <= t && t <= e && dv > v && drops.get(path).is_none_or(|d| d < dv)
            });
            !dropped && !deleted
        })
        .map(|((path, t), (_, value))| (path, t, value))
        .collect()
}

proptest! {
    // PROPTEST_CASES=1000 for a long run; 24 in the test suite.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        .. ProptestConfig::default()
    })]

    /// Three origins make versioned writes, deletes and drops; two receivers apply
    /// all their events in different interleavings (each origin's events in
    /// order, as a pipe delivers them) with random re-sends, then one of them
    /// every event again shuffled (duplicates that reach the merge) and a
    /// history snapshot; both must hold exactly what the reference model
    /// says. Small buckets make writes cross chunk boundaries.
    #[test]
    fn random_interleavings_and_duplicates_converge(ops in prop::collection::vec(op(), 1..40), seed_a in any::<u64>(), seed_b in any::<u64>()) {
        let opts = EngineOptions { default_bucket_span_ms: 8, ..EngineOptions::default() };
        let dirs: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
        let nodes: Vec<Arc<Engine>> = dirs.iter().map(|d| Arc::new(Engine::open(d.path(), opts.clone()).unwrap())).collect();
        for op in &ops {
            match *op {
                Op::Write { node, series, t, v } => write(&nodes[node], &format!("root.sg.d.s{series}"), t, v as f64),
                Op::Delete { node, series, start, len } => {
                    let _ = nodes[node].delete_points(&[format!("root.sg.d.s{series}")], start, start + len);
                }
                Op::Drop { node, series } => {
                    let _ = nodes[node].delete_timeseries(&[format!("root.sg.d.s{series}")]);
                }
            }
        }
        let per_origin: Vec<Vec<Vec<u8>>> = nodes[..3].iter().map(|n| events(n)).collect();
        for (receiver, seed) in [(&nodes[3], seed_a), (&nodes[4], seed_b)] {
            let mut rng = seed;
            let mut next = [0usize; 3];
            loop {
                let open: Vec<usize> = (0..3).filter(|&o| next[o] < per_origin[o].len()).collect();
                if open.is_empty() { break; }
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let o = open[(rng >> 33) as usize % open.len()];
                let n = 1 + (rng >> 40) as usize % 3;
                let end = (next[o] + n).min(per_origin[o].len());
                // Sometimes re-send what was already sent before the new events.
                let from = if (rng >> 50) % 3 == 0 { next[o].saturating_sub(2) } else { next[o] };
                receiver.apply_remote("t", &per_origin[o][from..end]).unwrap();
                next[o] = end;
            }
        }
        // Duplicates that reach the merge operator: every event of every
        // origin again, shuffled, each through a stream of its own (so no
        // high-water mark skips it), and a history snapshot of origin 0.
        let mut again: Vec<&Vec<u8>> = per_origin.iter().flatten().collect();
        let mut rng = seed_a ^ seed_b;
        for i in (1..again.len()).rev() {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            again.swap(i, (rng >> 33) as usize % (i + 1));
        }
        for (i, e) in again.into_iter().enumerate() {
            nodes[4].apply_remote(&format!("dup{i}"), std::slice::from_ref(e)).unwrap();
        }
        nodes[4].apply_remote("history", &full_snapshot(&nodes[0])).unwrap();
        let expected = model(&per_origin);
        prop_assert_eq!(dump(&nodes[3]), expected.clone(), "receiver 1 against the model");
        prop_assert_eq!(dump(&nodes[4]), expected, "receiver 2 against the model");
        let names = |n: &Engine| n.schema().series.keys().cloned().collect::<Vec<_>>();
        prop_assert_eq!(names(&nodes[3]), names(&nodes[4]), "the same series exist on both");
        nodes[3].compact_data().unwrap();
        prop_assert_eq!(dump(&nodes[3]), dump(&nodes[4]), "compaction changes nothing");
    }
}

#[test]
fn values_survive_reopen_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = Engine::open(dir.path(), EngineOptions::default()).unwrap();
        let times: Vec<i64> = (0..10_000).collect();
        e.write(vec![WriteSeries {
            path: "root.sg.d.s".into(),
            times: times.clone(),
            values: Column::I32(times.iter().map(|&t| t as i32).collect()),
        }])
        .unwrap();
        e.write(vec![WriteSeries {
            path: "root.sg.d.s".into(),
            times: vec![5],
            values: Column::I32(vec![-5]),
        }])
        .unwrap();
        e.compact_data().unwrap();
    }
    let e = Engine::open(dir.path(), EngineOptions::default()).unwrap();
    let d = dump(&e);
    assert_eq!(d.len(), 10_000);
    assert_eq!(d[5].2, "-5");
    let s = e.schema().series.get("root.sg.d.s").cloned().unwrap();
    let rev: Vec<i64> = e
        .scan(s, 100, 7_000, true)
        .flat_map(|b| b.unwrap().times)
        .collect();
    assert_eq!(rev.len(), 6_901);
    assert_eq!((rev[0], *rev.last().unwrap()), (7_000, 100));
    let _ = Value::I32(0);
}

#[test]
fn decoded_events_name_their_series() {
    let (_d, a) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    let e = ChangeEvent::decode(&events(&a)[0]).unwrap();
    assert_eq!(e.body.paths(), vec!["root.sg.d.s"]);
    assert_eq!(e.body.point_count(), 1);
}

#[test]
fn a_snapshot_brings_a_peer_to_the_same_data() {
    use duet_engine::snapshot::SnapshotFilter;
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&b, "root.sg.d1.s", 7, -1.0); // older than A's write at 7: A's wins
    for t in 0..5000 {
        write(&a, &format!("root.sg.d{}.s", t % 3), t, t as f64);
    }
    a.delete_points(&["root.sg.d0.s".into()], 100, 200).unwrap();
    // A series B has and A dropped later: the snapshot carries the drop.
    write(&b, "root.sg.gone.s", 1, 1.0);
    write(&a, "root.sg.gone.s", 2, 2.0);
    a.delete_timeseries(&["root.sg.gone.s".into()]).unwrap();
    let all = SnapshotFilter {
        pattern: None,
        start: MIN_TIME,
        end: MAX_TIME,
        schema: true,
        inserts: true,
        deletes: true,
        auth: true,
    };
    let events: Vec<Vec<u8>> = a
        .snapshot(all.clone())
        .map(|e| e.unwrap().encode())
        .collect();
    assert!(b.apply_remote("t", &events).unwrap().applied > 0);
    b.apply_remote("t", &events).unwrap(); // twice: still the same
    let (da, db) = (dump(&a), dump(&b));
    assert!(
        !b.schema().series.contains_key("root.sg.gone.s"),
        "the drop reached B"
    );
    assert_eq!(da.len(), db.len());
    assert!(
        da == db,
        "first difference: {:?}",
        da.iter().zip(&db).find(|(x, y)| x != y)
    );
    assert_eq!(
        b.high_water_mark(a.node_id(), "t"),
        0,
        "snapshots do not move the high-water mark"
    );
    // A filtered snapshot: one series, a time range.
    let (_c_dir, c) = open();
    let some = SnapshotFilter {
        pattern: Some("root.sg.d2.*".into()),
        start: 1000,
        end: 1999,
        ..all
    };
    let events: Vec<Vec<u8>> = a.snapshot(some).map(|e| e.unwrap().encode()).collect();
    c.apply_remote("t", &events).unwrap();
    let d = dump(&c);
    assert!(d
        .iter()
        .all(|(p, t, _)| p == "root.sg.d2.s" && (1000..=1999).contains(t)));
    assert_eq!(d.len(), (1000..2000).filter(|t| t % 3 == 2).count());
}

#[test]
fn two_streams_from_one_origin_do_not_skip_each_other() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    for t in 0..4 {
        write(&a, &format!("root.sg.d{}.s", t % 2), t, t as f64);
    }
    let all = events(&a);
    // One pipe carries d1 (events 2 and 4) and gets there first; the other
    // carries d0 (events 1 and 3).
    assert_eq!(
        b.apply_remote("p1", &[all[1].clone(), all[3].clone()])
            .unwrap()
            .applied,
        2
    );
    assert_eq!(
        b.apply_remote("p2", &[all[0].clone(), all[2].clone()])
            .unwrap()
            .applied,
        2
    );
    assert_eq!(dump(&a), dump(&b));
    assert_eq!(
        (
            b.high_water_mark(a.node_id(), "p1"),
            b.high_water_mark(a.node_id(), "p2")
        ),
        (4, 3)
    );
}

#[test]
fn a_change_from_the_future_is_refused_and_not_adopted() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    let mut event = ChangeEvent::decode(&events(&a)[0]).unwrap();
    // Two hours ahead of B's clock, and the largest version a peer could send.
    for hlc in [event.version.hlc + ((2 * 3_600_000u64) << 16), u64::MAX] {
        event.version.hlc = hlc;
        let before = b.clock().last();
        let e = b.apply_remote("t", &[event.encode()]).unwrap_err();
        assert!(matches!(e, duet_engine::Error::ClockSkew(_)), "{e}");
        assert!(e.to_string().contains("max_clock_skew_ms"), "{e}");
        assert_eq!(b.clock().last(), before, "the clock did not move");
        assert!(b.schema().series.is_empty(), "nothing applied");
        assert_eq!(b.last_seq(), 0);
    }
    // Within the limit it applies, and B's own writes go on normally.
    let ok = ChangeEvent::decode(&events(&a)[0]).unwrap();
    b.apply_remote("t", &[ok.encode()]).unwrap();
    write(&b, "root.sg.d.s", 2, 2.0);
    assert_eq!(dump(&b).len(), 2);
}

#[test]
fn points_and_tombstones_from_the_future_are_refused_too() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    let good = ChangeEvent::decode(&events(&a)[0]).unwrap();
    let ahead = (2 * 3_600_000u64) << 16;
    // The event's own version is fine; one point's, or one tombstone's,
    // is two hours ahead (what a history transfer could carry).
    let mut point = good.clone();
    let mut tomb = good.clone();
    if let (duet_engine::event::EventBody::Insert(p), duet_engine::event::EventBody::Insert(t)) =
        (&mut point.body, &mut tomb.body)
    {
        p[0].chunk.versions[0].hlc += ahead;
        let mut v = t[0].chunk.versions[0];
        v.hlc += ahead;
        t[0].chunk.tombstones.push(duet_engine::chunk::Tombstone {
            start: 5,
            end: 6,
            version: v,
        });
    } else {
        panic!("an insert event");
    }
    for (what, event) in [("point", point), ("tombstone", tomb)] {
        let e = b.apply_remote("t", &[event.encode()]).unwrap_err();
        assert!(matches!(e, duet_engine::Error::ClockSkew(_)), "{what}: {e}");
        assert!(b.schema().series.is_empty(), "{what}: nothing applied");
    }
    b.apply_remote("t", &[good.encode()]).unwrap();
    assert_eq!(dump(&b).len(), 1);
}

fn full_snapshot(e: &Engine) -> Vec<Vec<u8>> {
    let all = duet_engine::snapshot::SnapshotFilter {
        pattern: None,
        start: MIN_TIME,
        end: MAX_TIME,
        schema: true,
        inserts: true,
        deletes: true,
        auth: true,
    };
    e.snapshot(all).map(|e| e.unwrap().encode()).collect()
}

/// Events of `e`'s log after sequence `after`.
fn events_after(e: &Engine, after: u64) -> Vec<Vec<u8>> {
    e.read(after + 1, usize::MAX, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|x| x.bytes)
        .collect()
}

#[test]
fn a_dropped_series_does_not_void_a_series_below_it() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    b.apply_remote("ab", &events(&a)).unwrap();
    // B writes a series whose path continues the other's, then A drops the
    // shorter one; each applies the other's change.
    let b_seen = b.last_seq();
    write(&b, "root.sg.d.s.x", 5, 5.0);
    let a_seen = a.last_seq();
    // A's drop is newer than B's write (as it is in real time).
    a.clock().observe(b.clock().last());
    a.delete_timeseries(&["root.sg.d.s".into()]).unwrap();
    b.apply_remote("ab", &events_after(&a, a_seen)).unwrap();
    a.apply_remote("ba", &events_after(&b, b_seen)).unwrap();
    let expected = vec![("root.sg.d.s.x".to_string(), 5, "5.0".to_string())];
    assert_eq!(dump(&a), expected);
    assert_eq!(dump(&b), expected);
}

#[test]
fn a_history_transfer_does_not_bring_back_a_dropped_database() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    a.create_database("root.gone", Some(60_000)).unwrap();
    write(&a, "root.gone.d.s", 1, 1.0);
    b.apply_remote("ab", &events(&a)).unwrap();
    // B's history, taken before it hears of the drop, reaches A after it.
    let stale = full_snapshot(&b);
    let a_seen = a.last_seq();
    a.drop_database("root.gone").unwrap();
    a.apply_remote("ba-history", &stale).unwrap();
    assert!(
        a.schema().databases.is_empty(),
        "{:?}",
        a.schema().databases
    );
    assert!(dump(&a).is_empty());
    // And the drop reaches B: the same on both.
    b.apply_remote("ab", &events_after(&a, a_seen)).unwrap();
    assert!(b.schema().databases.is_empty());
    assert!(dump(&b).is_empty());
    // A database created again after the drop is a new one: it stays.
    a.create_database("root.gone", Some(60_000)).unwrap();
    let b_view = full_snapshot(&a);
    b.apply_remote("ab-history", &b_view).unwrap();
    assert!(b.schema().databases.contains_key("root.gone"));
}

/// A node's type for a series and its points.
type TypedPoints = (String, Vec<(String, i64, String)>);

/// Each node writes `path` with its own type, then each applies the
/// other's change; returns both nodes' (type, points).
fn cross_types(a_values: Column, b_values: Column) -> [TypedPoints; 2] {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let path = "root.sg.d.s";
    let put = |e: &Engine, t: i64, values: Column| write_typed(e, path, t, values);
    put(&a, 1, a_values);
    put(&b, 2, b_values);
    let (from_a, from_b) = (events(&a), events(&b));
    a.apply_remote("ba", &from_b)
        .expect("a type conflict never stops a pipe");
    b.apply_remote("ab", &from_a)
        .expect("a type conflict never stops a pipe");
    // The side whose type was widened says so in its conflict log.
    let widened = [&a, &b]
        .iter()
        .flat_map(|e| e.conflicts().unwrap())
        .filter(|c| c.kind == "type" && c.path == path)
        .count();
    assert!(widened >= 1, "a widening is recorded");
    let state = |e: &Engine| {
        let t = e.schema().series[path].data_type.name().to_string();
        (t, dump(e))
    };
    [state(&a), state(&b)]
}

#[test]
fn type_conflicts_converge_to_the_join_of_the_types_with_every_value() {
    let cases = [
        (
            Column::F32(vec![1.5]),
            Column::F64(vec![0.1]),
            "DOUBLE",
            ["1.5", "0.1"],
        ),
        (
            Column::I32(vec![7]),
            Column::I64(vec![3_000_000_000]),
            "INT64",
            ["7", "3000000000"],
        ),
        (
            Column::I64(vec![i64::MAX]),
            Column::F64(vec![0.25]),
            "TEXT",
            ["9223372036854775807", "0.25"],
        ),
        (
            Column::Bool(vec![true]),
            Column::I32(vec![4]),
            "TEXT",
            ["true", "4"],
        ),
    ];
    for (a_values, b_values, joined, values) in cases {
        let what = format!("{a_values:?} vs {b_values:?}");
        let [on_a, on_b] = cross_types(a_values, b_values);
        assert_eq!(on_a, on_b, "{what}: both nodes the same");
        assert_eq!(on_a.0, joined, "{what}");
        let got: Vec<&str> = on_a.1.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(got, values, "{what}");
    }
}

/// (path, bucket span) of every database.
fn databases(e: &Engine) -> Vec<(String, i64)> {
    e.schema()
        .databases
        .values()
        .map(|d| (d.path.clone(), d.bucket_span_ms))
        .collect()
}

#[test]
fn overlapping_databases_made_apart_end_as_the_shorter_one_on_both() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    // A auto-creates root.x with a write; B creates root.x.y and writes in it.
    write(&a, "root.x.d.s", 1, 1.0);
    b.create_database("root.x.y", Some(60_000)).unwrap();
    write(&b, "root.x.y.d.s", 2, 2.0);
    let (from_a, from_b) = (events(&a), events(&b));
    b.apply_remote("ab", &from_a)
        .expect("no pipe stops over it");
    a.apply_remote("ba", &from_b)
        .expect("no pipe stops over it");
    assert_eq!(databases(&a).len(), 1);
    assert_eq!(databases(&a)[0].0, "root.x");
    assert_eq!(databases(&b)[0].0, "root.x");
    assert_eq!(databases(&b).len(), 1);
    assert_eq!(dump(&a), dump(&b));
    assert_eq!(dump(&a).len(), 2);
}

#[test]
fn a_database_dropped_here_and_written_there_after_comes_back_the_same() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    a.create_database("root.x", Some(60_000)).unwrap();
    write(&a, "root.x.d.s", 1, 1.0);
    b.apply_remote("ab", &events(&a)).unwrap();
    let (a_seen, b_seen) = (a.last_seq(), b.last_seq());
    a.drop_database("root.x").unwrap();
    // B writes after the drop (in time), before hearing of it.
    b.clock().observe(a.clock().last());
    write(&b, "root.x.d.s", 2, 2.0);
    b.apply_remote("ab", &events_after(&a, a_seen)).unwrap();
    a.apply_remote("ba", &events_after(&b, b_seen)).unwrap();
    assert_eq!(databases(&a), vec![("root.x".to_string(), 60_000)]);
    assert_eq!(databases(&a), databases(&b));
    let expected = vec![("root.x.d.s".to_string(), 2, "2.0".to_string())];
    assert_eq!(dump(&a), expected);
    assert_eq!(dump(&b), expected);
}

#[test]
fn a_history_of_large_values_comes_in_events_of_bounded_size() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let big = "v".repeat(100_000);
    a.write(vec![WriteSeries {
        path: "root.sg.d.t".into(),
        times: (0..100).collect(),
        values: Column::Text(vec![big.clone(); 100]),
    }])
    .unwrap();
    let events = full_snapshot(&a);
    let largest = events.iter().map(Vec::len).max().unwrap();
    assert!(
        largest < (4 << 20) + 2 * big.len(),
        "one event of {largest} bytes for 10 MB of history"
    );
    assert!(events.len() >= 3, "{} events", events.len());
    b.apply_remote("h", &events).unwrap();
    assert_eq!(dump(&b), dump(&a));
}

#[test]
fn a_change_this_node_cannot_apply_is_kept_in_the_conflict_log_and_the_rest_applies() {
    use duet_engine::event::EventBody;
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    write(&a, "root.sg.d.s", 2, 2.0);
    let evs = events(&a);
    // The first event names a path B refuses (too short for a series).
    let mut bad = ChangeEvent::decode(&evs[0]).unwrap();
    if let EventBody::Insert(ws) = &mut bad.body {
        ws[0].path = "root.bad".into();
    }
    let batch = vec![bad.encode(), evs[1].clone()];
    let out = b
        .apply_remote("ab", &batch)
        .expect("the pipe does not stop");
    assert_eq!((out.applied, out.rejected), (1, 1));
    assert_eq!(
        dump(&b),
        vec![("root.sg.d.s".to_string(), 2, "2.0".to_string())]
    );
    let c = b.conflicts().unwrap();
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (c[0].kind.as_str(), c[0].path.as_str()),
        ("rejected", "root.bad")
    );
    assert_eq!(c[0].origin, a.node_id());
    assert_eq!(c[0].stream, "ab");
    assert!(c[0].detail.contains("1=1.0"), "{}", c[0].detail);
    assert!(c[0].reason.contains("root.bad"), "{}", c[0].reason);
    // Sent again after a lost acknowledgement: nothing new, no second record.
    let again = b.apply_remote("ab", &batch).unwrap();
    assert_eq!((again.applied, again.rejected), (0, 0));
    assert_eq!(b.conflicts().unwrap().len(), 1);
    assert_eq!(b.conflict_count(), 1);
}

#[test]
fn a_history_batch_sent_again_is_recognised_and_not_logged_twice() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    for t in 0..5 {
        write(&a, "root.sg.d.s", t, t as f64);
    }
    let history = full_snapshot(&a);
    let first = b.apply_remote("h", &history).unwrap();
    assert!(first.applied > 0);
    let logged = b.last_seq();
    // The sender timed out and sent the same batch again.
    let again = b.apply_remote("h", &history).unwrap();
    assert_eq!((again.applied, again.skipped), (0, history.len()));
    assert_eq!(b.last_seq(), logged, "the log did not grow");
    assert_eq!(dump(&b), dump(&a));
}

/// The events of `e` from local sequence `from` on, and the next `from`.
fn events_from(e: &Engine, from: u64) -> (Vec<Vec<u8>>, u64) {
    let entries = e.read(from, usize::MAX, usize::MAX).unwrap();
    let next = entries.last().map_or(from, |x| x.seq + 1);
    (entries.into_iter().map(|x| x.bytes).collect(), next)
}

/// Found by the nemesis (3 nodes, seed 32): a series kept by a drop because
/// a newer point survives must end with the same type on every node,
/// whatever order the changes arrived in. B saw an old DOUBLE point and a
/// newer INT64 point (from C) before A's drop; A and C saw the drop first.
/// The type is the join of the types written after the drop: INT64 on all.
#[test]
fn a_series_kept_by_a_drop_ends_with_the_same_type_on_every_node() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let (_c_dir, c) = open();
    let path = "root.sg.d.s";
    let put = |e: &Engine, t: i64, values: Column| write_typed(e, path, t, values);
    // B writes a DOUBLE; A and C get it.
    put(&b, 1, Column::F64(vec![1.5]));
    let (b1, b_next) = events_from(&b, b.first_seq());
    a.apply_remote("ba", &b1).unwrap();
    c.apply_remote("bc", &b1).unwrap();
    let a_from = a.last_seq() + 1;
    // A drops it and makes it again as INT64, with a point.
    a.delete_timeseries(&[path.into()]).unwrap();
    a.create_timeseries(
        path,
        duet_engine::DataType::Int64,
        None,
        None,
        &Default::default(),
    )
    .unwrap();
    put(&a, 2, Column::I64(vec![2]));
    let (a1, _) = events_from(&a, a_from);
    // C gets that, then writes an INT64 point of its own.
    c.apply_remote("ac", &a1).unwrap();
    let c_from = c.last_seq() + 1;
    put(&c, 3, Column::I64(vec![3]));
    let (c1, _) = events_from(&c, c_from);
    // B hears from C before A: the INT64 point, then the drop.
    b.apply_remote("cb", &c1).unwrap();
    b.apply_remote("ab", &a1).unwrap();
    a.apply_remote("ca", &c1).unwrap();
    let (b2, _) = events_from(&b, b_next);
    a.apply_remote("ba", &b2).unwrap();
    c.apply_remote("bc", &b2).unwrap();

    let state = |e: &Engine| {
        let s = e.schema().series[path].clone();
        (s.data_type.name().to_string(), dump(e))
    };
    let (sa, sb, sc) = (state(&a), state(&b), state(&c));
    assert_eq!(sa, sb, "A and B");
    assert_eq!(sa, sc, "A and C");
    assert_eq!(sa.0, "INT64");
    let points: Vec<(i64, String)> = sa.1.iter().map(|p| (p.1, p.2.clone())).collect();
    assert_eq!(points, vec![(2, "2".to_string()), (3, "3".to_string())]);
}

/// One change to `root.sg.d.s` made on some node, for the order test below.
#[derive(Debug, Clone)]
enum Change {
    Create(duet_engine::DataType),
    Insert(duet_engine::DataType, i64, i32),
    Delete(duet_engine::DataType, i64, i64),
    Drop,
    DropDatabase,
    /// `ALTER TIMESERIES` (a declaration of that type) setting tag `key`
    /// to `value`, or removing it (None).
    Label(duet_engine::DataType, u8, Option<u8>),
}

fn change() -> impl Strategy<Value = Change> {
    use duet_engine::DataType::{Double, Int32, Int64, Text};
    let ty = prop_oneof![Just(Int32), Just(Int64), Just(Double), Just(Text)];
    prop_oneof![
        2 => ty.clone().prop_map(Change::Create),
        4 => (ty.clone(), 0..6i64, any::<i32>()).prop_map(|(t, at, v)| Change::Insert(t, at, v)),
        2 => (ty.clone(), 0..6i64, 0..3i64).prop_map(|(t, at, len)| Change::Delete(t, at, at + len)),
        2 => Just(Change::Drop),
        1 => Just(Change::DropDatabase),
        3 => (ty, 0..2u8, prop::option::of(0..3u8)).prop_map(|(t, k, v)| Change::Label(t, k, v)),
    ]
}

/// The change as an event of its own origin (one event per origin, so any
/// order of arrival is one a pipe could deliver) at version `rank`.
fn change_event(c: &Change, rank: usize) -> Vec<u8> {
    use duet_engine::event::{EventBody, SchemaChange, SeriesDelete, SeriesWrite};
    use duet_engine::{DataType, Version};
    let path = "root.sg.d.s".to_string();
    // A minute ago, a millisecond apart: within any clock-skew limit.
    let base = (duet_engine::hlc::wall_clock_ms() - 60_000) << 16;
    let version = Version::new(base + ((rank as u64) << 16), 1000 + rank as u32);
    let body = match *c {
        Change::Create(data_type) => EventBody::Schema(SchemaChange::CreateTimeseries {
            path,
            data_type,
            encoding: duet_engine::apply::default_encoding(data_type).into(),
            compressor: "LZ4".into(),
            labels: Vec::new(),
        }),
        Change::Insert(ty, at, v) => {
            let values = match ty {
                DataType::Int32 => Column::I32(vec![v]),
                DataType::Int64 => Column::I64(vec![v as i64 * 3]),
                DataType::Double => Column::F64(vec![v as f64 / 4.0]),
                _ => Column::Text(vec![format!("x{v}")]),
            };
            EventBody::Insert(vec![SeriesWrite {
                path,
                chunk: duet_engine::chunk::Chunk::from_write(&[at], &values, version),
            }])
        }
        Change::Delete(data_type, start, end) => EventBody::Delete(vec![SeriesDelete {
            path,
            data_type,
            start,
            end,
        }]),
        Change::Drop => EventBody::Schema(SchemaChange::DeleteTimeseries { paths: vec![path] }),
        Change::DropDatabase => EventBody::Schema(SchemaChange::DropDatabase {
            path: "root.sg".into(),
        }),
        Change::Label(data_type, key, value) => EventBody::Schema(SchemaChange::Labels {
            path,
            data_type,
            encoding: duet_engine::apply::default_encoding(data_type).into(),
            compressor: "LZ4".into(),
            cells: vec![duet_engine::labels::LabelCell {
                kind: duet_engine::labels::LabelKind::Tag,
                key: format!("k{key}"),
                value: value.map(|v| format!("v{v}")),
                version,
            }],
        }),
    };
    ChangeEvent {
        origin: version.node,
        origin_seq: 1,
        version,
        body,
    }
    .encode()
}

/// What every node must end with for a set of changes, whatever order they
/// came in: the series exists when a change with a type (create, insert,
/// delete) is newer than every drop; its type is the join of those types;
/// a point stands when it is the newest at its time, newer than every drop
/// and not under a newer delete. The database exists when a change with a
/// type is newer than every drop of the database (a drop of the series
/// leaves its database).
type Model = (Option<String>, bool, Vec<i64>, Vec<(String, String)>);

fn typed_model(changes: &[(Change, usize)]) -> Model {
    let dropped = changes
        .iter()
        .filter(|(c, _)| matches!(c, Change::Drop | Change::DropDatabase))
        .map(|(_, r)| *r)
        .max();
    let live = |r: usize| dropped.is_none_or(|d| r > d);
    let ty = changes
        .iter()
        .filter(|(_, r)| live(*r))
        .filter_map(|(c, _)| match c {
            Change::Create(t)
            | Change::Insert(t, ..)
            | Change::Delete(t, ..)
            | Change::Label(t, ..) => Some(*t),
            _ => None,
        })
        .reduce(|a, b| a.join(b))
        .map(|t| t.name().to_string());
    let database_dropped = changes
        .iter()
        .filter(|(c, _)| matches!(c, Change::DropDatabase))
        .map(|(_, r)| *r)
        .max();
    let database = changes.iter().any(|(c, r)| {
        !matches!(c, Change::Drop | Change::DropDatabase) && database_dropped.is_none_or(|d| *r > d)
    });
    let mut times = Vec::new();
    for at in 0..6 {
        let newest = changes
            .iter()
            .filter_map(|(c, r)| match c {
                Change::Insert(_, t, _) if *t == at => Some(*r),
                _ => None,
            })
            .max();
        let Some(r) = newest.filter(|r| live(*r)) else {
            continue;
        };
        let deleted = changes
            .iter()
            .any(|(c, d)| matches!(c, Change::Delete(_, s, e) if *s <= at && at <= *e) && *d > r);
        if !deleted {
            times.push(at);
        }
    }
    // Per tag, the newest change of it after the newest drop (while the
    // series exists).
    let mut tags = Vec::new();
    if ty.is_some() {
        for key in 0..2u8 {
            let newest = changes
                .iter()
                .filter(|(_, r)| live(*r))
                .filter_map(|(c, r)| match c {
                    Change::Label(_, k, v) if *k == key => Some((*r, *v)),
                    _ => None,
                })
                .max();
            if let Some((_, Some(v))) = newest {
                tags.push((format!("k{key}"), format!("v{v}")));
            }
        }
    }
    (ty, database, times, tags)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32),
        .. ProptestConfig::default()
    })]

    /// Creates, inserts and deletes of several types, drops of the series
    /// and of its database, each from its own node with its own version,
    /// and changes of its tags (declarations that keep it, see
    /// `SchemaChange::Labels`) arrive at three nodes in three orders; a fourth node gets the first
    /// one's history, the third the second's. All four must end with the same schema and points,
    /// and with what the model says (the type rule of `Series::types`).
    #[test]
    fn typed_changes_in_any_order_end_the_same(
        changes in prop::collection::vec(change(), 1..9),
        ranks in Just((0..9usize).collect::<Vec<_>>()).prop_shuffle(),
        orders in prop::collection::vec(Just((0..9usize).collect::<Vec<_>>()).prop_shuffle(), 3),
    ) {
        let ranked: Vec<(Change, usize)> = changes.iter().cloned().zip(ranks).collect();
        let encoded: Vec<Vec<u8>> = ranked.iter().map(|(c, r)| change_event(c, *r)).collect();
        let nodes: Vec<_> = (0..4).map(|_| open()).collect();
        for (order, (_, node)) in orders.iter().zip(&nodes) {
            for &i in order.iter().filter(|&&i| i < encoded.len()) {
                node.apply_remote(&format!("s{i}"), std::slice::from_ref(&encoded[i])).unwrap();
            }
        }
        nodes[3].1.apply_remote("history", &full_snapshot(&nodes[0].1)).unwrap();
        // A history of what a node already holds changes nothing.
        nodes[2].1.apply_remote("history", &full_snapshot(&nodes[1].1)).unwrap();
        let path = "root.sg.d.s";
        let state = |e: &Engine| {
            let schema = e.schema();
            let ty = schema.series.get(path).map(|s| s.data_type.name().to_string());
            let dbs: Vec<String> = schema.databases.keys().cloned().collect();
            let tags: Vec<(String, String)> = schema
                .series
                .get(path)
                .map(|s| {
                    duet_engine::labels::live(&s.labels, duet_engine::labels::LabelKind::Tag)
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            (ty, dbs, dump(e), tags)
        };
        let (ty, database, times, tags) = typed_model(&ranked);
        let first = state(&nodes[0].1);
        for (i, (_, node)) in nodes.iter().enumerate() {
            let s = state(node);
            prop_assert_eq!(&s.0, &ty, "node {}: type against the model", i);
            prop_assert_eq!(s.1.len() == 1, database, "node {}: database against the model", i);
            let got: Vec<i64> = s.2.iter().map(|p| p.1).collect();
            prop_assert_eq!(&got, &times, "node {}: points against the model", i);
            prop_assert_eq!(&s.3, &tags, "node {}: tags against the model", i);
            prop_assert_eq!(&s, &first, "node {} against node 0", i);
        }
    }
}

/// A peer's drop of `root`, of a pattern or of a malformed path is refused
/// (recorded, the batch goes on), never applied to every series below it.
#[test]
fn a_peers_drop_of_something_that_is_not_a_path_is_refused() {
    use duet_engine::event::{EventBody, SchemaChange};
    let (_a_dir, a) = open();
    write(&a, "root.sg.d.s", 1, 1.0);
    write(&a, "root.other.d.s", 1, 2.0);
    let before = dump(&a);
    let version = duet_engine::Version::new(a.clock().tick() + 1000, 77);
    let bad: Vec<SchemaChange> = vec![
        SchemaChange::DropDatabase {
            path: "root".into(),
        },
        SchemaChange::DropDatabase {
            path: "root.**".into(),
        },
        SchemaChange::DropDatabase {
            path: "root..sg".into(),
        },
        SchemaChange::DeleteTimeseries {
            paths: vec!["root.*.d.s".into()],
        },
        SchemaChange::DeleteTimeseries {
            paths: vec!["root".into()],
        },
    ];
    let batch: Vec<Vec<u8>> = bad
        .into_iter()
        .enumerate()
        .map(|(i, change)| {
            ChangeEvent {
                origin: 77,
                origin_seq: i as u64 + 1,
                version,
                body: EventBody::Schema(change),
            }
            .encode()
        })
        .collect();
    let out = a.apply_remote("t", &batch).unwrap();
    assert_eq!((out.applied, out.rejected), (0, 5), "{out:?}");
    assert_eq!(dump(&a), before);
    assert_eq!(a.schema().databases.len(), 2);
    assert!(a.conflict_count() >= 5);
}

/// A change to users or privileges, made on node `node` (0 or 1).
#[derive(Debug, Clone)]
enum AuthOp {
    Create {
        node: usize,
        user: usize,
        pw: usize,
    },
    Alter {
        node: usize,
        user: usize,
        pw: usize,
    },
    Drop {
        node: usize,
        user: usize,
    },
    Grant {
        node: usize,
        user: usize,
        path: usize,
        privilege: usize,
    },
    Revoke {
        node: usize,
        user: usize,
        path: usize,
        privilege: usize,
    },
    /// `to` applies what `from` logged since `to` last took its changes.
    Sync {
        from: usize,
    },
}

fn auth_op() -> impl Strategy<Value = AuthOp> {
    let n = 0..2usize;
    let u = 0..2usize;
    prop_oneof![
        (n.clone(), u.clone(), 0..3usize).prop_map(|(node, user, pw)| AuthOp::Create {
            node,
            user,
            pw
        }),
        (n.clone(), u.clone(), 0..3usize).prop_map(|(node, user, pw)| AuthOp::Alter {
            node,
            user,
            pw
        }),
        (n.clone(), u.clone()).prop_map(|(node, user)| AuthOp::Drop { node, user }),
        (n.clone(), u.clone(), 0..2usize, 0..2usize).prop_map(|(node, user, path, privilege)| {
            AuthOp::Grant {
                node,
                user,
                path,
                privilege,
            }
        }),
        (n.clone(), u.clone(), 0..2usize, 0..2usize).prop_map(|(node, user, path, privilege)| {
            AuthOp::Revoke {
                node,
                user,
                path,
                privilege,
            }
        }),
        n.prop_map(|from| AuthOp::Sync { from }),
    ]
}

const AUTH_PATHS: [&str; 2] = ["root.sg.**", "root.sg.d1.**"];
const AUTH_PRIVILEGES: [duet_engine::privileges::Privilege; 2] = [
    duet_engine::privileges::Privilege::ReadData,
    duet_engine::privileges::Privilege::WriteSchema,
];

/// A node's users, grants and versions, but not its own first `root`
/// record (no version: each node made its own, salted differently).
fn auth_of(e: &Engine) -> Vec<(String, Vec<u8>)> {
    let s = e.auth_state().unwrap();
    let root_replicated = s.iter().any(|(k, _)| k == "authv/u/root");
    s.into_iter()
        .filter(|(k, _)| root_replicated || k != "user/root")
        .collect()
}

fn run_auth_op(nodes: &[Engine; 2], next: &mut [u64; 2], op: &AuthOp) {
    let user = |u: usize| format!("user{u}");
    let pw = |p: usize| format!("password{p}");
    // Refusals (a user that exists, or does not) are part of the game.
    let _ = match *op {
        AuthOp::Create {
            node,
            user: u,
            pw: p,
        } => nodes[node].create_user(&user(u), &pw(p)),
        AuthOp::Alter {
            node,
            user: u,
            pw: p,
        } => nodes[node].alter_password(&user(u), &pw(p)),
        AuthOp::Drop { node, user: u } => nodes[node].drop_user(&user(u)),
        AuthOp::Grant {
            node,
            user: u,
            path,
            privilege,
        } => nodes[node].grant(
            &user(u),
            &[AUTH_PATHS[path].to_string()],
            &[AUTH_PRIVILEGES[privilege]],
            privilege == 1,
        ),
        AuthOp::Revoke {
            node,
            user: u,
            path,
            privilege,
        } => nodes[node].revoke(
            &user(u),
            &[AUTH_PATHS[path].to_string()],
            &[AUTH_PRIVILEGES[privilege]],
        ),
        AuthOp::Sync { from } => {
            let (evs, n) = events_from(&nodes[from], next[from]);
            next[from] = n;
            nodes[1 - from].apply_remote("auth", &evs).map(|_| ())
        }
    };
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12),
        .. ProptestConfig::default()
    })]

    /// Two nodes change the same users at once (create, password, drop,
    /// grant, revoke), exchanging their logs now and then, in any order:
    /// once each has the other's changes they hold the same users,
    /// password records and privileges, and a history transfer of either
    /// to a third node gives it that same state.
    #[test]
    fn users_and_privileges_converge_whatever_the_order(ops in prop::collection::vec(auth_op(), 1..14)) {
        let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let nodes: [Engine; 2] = [0, 1].map(|i| Engine::open(dirs[i].path(), EngineOptions::default()).unwrap());
        let mut next = [1u64, 1u64];
        for op in &ops {
            run_auth_op(&nodes, &mut next, op);
        }
        run_auth_op(&nodes, &mut next, &AuthOp::Sync { from: 0 });
        run_auth_op(&nodes, &mut next, &AuthOp::Sync { from: 1 });
        let a = auth_of(&nodes[0]);
        prop_assert_eq!(&a, &auth_of(&nodes[1]));
        let c = Engine::open(dirs[2].path(), EngineOptions::default()).unwrap();
        c.apply_remote("h", &full_snapshot(&nodes[0])).unwrap();
        prop_assert_eq!(auth_of(&c), a);
    }
}

/// The cases by hand: the newer change wins on both nodes, a drop keeps
/// an older create from bringing a user back, a password changed on one
/// node logs in on the other, grants made after a drop elsewhere survive
/// it.
#[test]
fn replicated_users_follow_the_newest_change() {
    use duet_engine::privileges::Privilege;
    let (_da, a) = open();
    let (_db, b) = open();
    a.create_user("alice", "alice-pw1").unwrap();
    let (evs, next_a) = events_from(&a, 1);
    b.apply_remote("p", &evs).unwrap();
    b.authenticate("alice", "alice-pw1").unwrap();
    // Concurrent: B changes the password, then A (later) changes it too.
    b.alter_password("alice", "alice-pw-b").unwrap();
    a.clock().observe(b.clock().last());
    a.alter_password("alice", "alice-pw-a").unwrap();
    let (from_b, next_b) = events_from(&b, 1);
    let (from_a, next_a) = events_from(&a, next_a);
    a.apply_remote("p", &from_b).unwrap();
    b.apply_remote("p", &from_a).unwrap();
    for n in [&a, &b] {
        n.authenticate("alice", "alice-pw-a").unwrap();
        assert!(n.authenticate("alice", "alice-pw-b").is_err());
    }
    // A drops alice; B, not knowing, grants her something after.
    a.drop_user("alice").unwrap();
    b.clock().observe(a.clock().last());
    b.grant(
        "alice",
        &["root.sg.**".into()],
        &[Privilege::ReadData],
        false,
    )
    .unwrap();
    let (from_a, _) = events_from(&a, next_a);
    let (from_b, _) = events_from(&b, next_b);
    a.apply_remote("p", &from_b).unwrap();
    b.apply_remote("p", &from_a).unwrap();
    assert_eq!(auth_of(&a), auth_of(&b));
    for n in [&a, &b] {
        assert!(n.authenticate("alice", "alice-pw-a").is_err(), "dropped");
        assert!(!n.list_users().unwrap().contains(&"alice".to_string()));
    }
    // The old create sent again (a history transfer, say) does not bring
    // her back.
    b.apply_remote("q", &events_from(&a, 1).0[..1]).unwrap();
    assert!(b.authenticate("alice", "alice-pw1").is_err());
    // A peer may not drop root.
    assert_eq!(auth_of(&a), auth_of(&b));
}

/// The cases a review found for whole-set grants, by hand: a REVOKE on one
/// node and a GRANT of something else on the other both hold; a user
/// dropped on one node while granted to on the other and made again has
/// nothing; a user whose grants predate replication ends the same on both.
#[test]
fn concurrent_grants_and_revokes_each_hold() {
    use duet_engine::privileges::{Access, Privilege};
    let (_da, a) = open();
    let (_db, b) = open();
    let sg = || vec!["root.sg.**".to_string()];
    a.create_user("bob", "bob-pw1").unwrap();
    a.grant("bob", &sg(), &[Privilege::WriteData], false)
        .unwrap();
    let (evs, next_a) = events_from(&a, 1);
    b.apply_remote("p", &evs).unwrap();
    // A revokes WRITE_DATA while B, not knowing, grants READ_SCHEMA after.
    a.revoke("bob", &sg(), &[Privilege::WriteData]).unwrap();
    b.clock().observe(a.clock().last());
    b.grant("bob", &sg(), &[Privilege::ReadSchema], false)
        .unwrap();
    let (from_a, next_a) = events_from(&a, next_a);
    let (from_b, next_b) = events_from(&b, 1);
    a.apply_remote("p", &from_b).unwrap();
    b.apply_remote("p", &from_a).unwrap();
    for n in [&a, &b] {
        let Access::Limited(g) = n.access("bob").unwrap() else {
            panic!("bob is not root")
        };
        assert!(
            !g.allows(Privilege::WriteData, "root.sg.d.s"),
            "the revoke holds"
        );
        assert!(
            g.allows(Privilege::ReadSchema, "root.sg.d.s"),
            "the grant holds"
        );
    }
    assert_eq!(auth_of(&a), auth_of(&b));

    // A drops bob; B grants him more after; A makes him again: nothing.
    a.drop_user("bob").unwrap();
    b.clock().observe(a.clock().last());
    b.grant("bob", &sg(), &[Privilege::ReadData], false)
        .unwrap();
    let (from_a, next_a) = events_from(&a, next_a);
    let (from_b, _) = events_from(&b, next_b);
    a.apply_remote("p", &from_b).unwrap();
    b.apply_remote("p", &from_a).unwrap();
    a.clock().observe(b.clock().last());
    a.create_user("bob", "bob-pw2").unwrap();
    b.apply_remote("p", &events_from(&a, next_a).0).unwrap();
    for n in [&a, &b] {
        let Access::Limited(g) = n.access("bob").unwrap() else {
            panic!("bob is not root")
        };
        assert!(
            g.grants.is_empty(),
            "a user made again starts with nothing: {g:?}"
        );
    }
    assert_eq!(auth_of(&a), auth_of(&b));
}

/// A password record a peer sends with a cost that would stall logins is
/// refused (into the conflict log), and changes nothing.
#[test]
fn a_peer_record_that_would_stall_logins_is_refused() {
    use duet_engine::event::{AuthChange, EventBody};
    let (_da, a) = open();
    let before = a.auth_state().unwrap();
    let e = ChangeEvent {
        origin: 77,
        origin_seq: 1,
        version: duet_engine::Version::new(a.clock().last() + (1 << 16), 77),
        body: EventBody::Auth(AuthChange::User {
            name: "mallory".into(),
            record: Some(
                b"$argon2id$v=19$m=12288,t=4000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
                    .to_vec(),
            ),
            reset: true,
        }),
    };
    let out = a.apply_remote("p", &[e.encode()]).unwrap();
    assert_eq!(out.rejected, 1, "{out:?}");
    assert_eq!(a.auth_state().unwrap(), before);
}

/// TTL: a rule set on one node reaches the other with its version (the
/// newer of two wins on both, whatever the order, and a history transfer
/// carries the rules); expired points are not read on either node, and
/// read again on both once the rule is unset (nothing is removed on one
/// node only).
#[test]
fn ttl_rules_converge_and_expired_points_read_alike() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let path = "root.sg.d.s";
    let now = duet_engine::hlc::wall_clock_ms() as i64;
    write(&a, path, now, 2.0);
    write(&a, path, now - 2 * 86_400_000, 1.0);
    b.apply_remote("a", &events(&a)).unwrap();
    a.set_ttl("root.sg.**", Some(86_400_000)).unwrap();
    b.apply_remote("a", &[events(&a).last().cloned().unwrap()])
        .unwrap();
    assert_eq!(b.schema().ttl_of(path), Some(86_400_000));
    let times = |e: &Engine| dump(e).into_iter().map(|p| p.1).collect::<Vec<_>>();
    assert_eq!(times(&a), vec![now], "the old point is expired on A");
    assert_eq!(times(&b), vec![now], "and on B");
    a.set_ttl("root.sg.**", None).unwrap();
    b.apply_remote("a", &[events(&a).last().cloned().unwrap()])
        .unwrap();
    for e in [&a, &b] {
        assert_eq!(times(e), vec![now - 2 * 86_400_000, now], "read again");
    }
    // Two rules set apart: the newer version wins on both, whatever the
    // order they arrive in.
    a.set_ttl("root.sg.d", Some(1000)).unwrap();
    let from_a = events(&a).last().cloned().unwrap();
    b.set_ttl("root.sg.d", Some(2000)).unwrap();
    let from_b = events(&b).last().cloned().unwrap();
    a.apply_remote("b", std::slice::from_ref(&from_b)).unwrap();
    b.apply_remote("a", std::slice::from_ref(&from_a)).unwrap();
    let version = |e: &[u8]| duet_engine::event::EventHeader::decode(e).unwrap().version;
    let want = if version(&from_a) > version(&from_b) {
        1000
    } else {
        2000
    };
    for e in [&a, &b] {
        assert_eq!(e.schema().ttl_of(path), Some(want));
    }
    let (_c_dir, c) = open();
    c.apply_remote("history", &full_snapshot(&a)).unwrap();
    assert_eq!(c.schema().ttls, a.schema().ttls);
}

//! Chunks bounded in points whatever the series' rate: a 1 kHz series, a
//! burst, a slow series and one written before segments existed, each read
//! back whole, in ranges across chunk boundaries, backwards, after deletes
//! and after the engine reopens, against a simple model (a BTreeMap).

use duet_engine::layout::TARGET_POINTS;
use duet_engine::{Column, Engine, EngineOptions, WriteSeries, MAX_TIME, MIN_TIME};
use std::collections::BTreeMap;

const S: &str = "root.lay.d.v";

fn open(dir: &std::path::Path) -> Engine {
    Engine::open(dir, EngineOptions::default()).unwrap()
}

/// Writes `rows` points from `start`, `step` ms apart, in tablets of
/// `per_write`; the model gets the same.
fn write(
    e: &Engine,
    model: &mut BTreeMap<i64, f64>,
    start: i64,
    step: i64,
    rows: i64,
    per_write: i64,
) {
    let mut i = 0;
    while i < rows {
        let n = per_write.min(rows - i);
        let times: Vec<i64> = (i..i + n).map(|k| start + k * step).collect();
        let values: Vec<f64> = times.iter().map(|&t| t as f64 * 0.5).collect();
        for (&t, &v) in times.iter().zip(&values) {
            model.insert(t, v);
        }
        e.write(vec![WriteSeries {
            path: S.into(),
            times,
            values: Column::F64(values),
        }])
        .unwrap();
        i += n;
    }
}

fn read(e: &Engine, start: i64, end: i64, reverse: bool) -> Vec<(i64, f64)> {
    let s = e.schema().series[S].clone();
    let mut out = Vec::new();
    for block in e.scan(s, start, end, reverse) {
        let block = block.unwrap();
        for (i, &t) in block.times.iter().enumerate() {
            let v = block.values.get(i).unwrap().to_string().parse().unwrap();
            out.push((t, v));
        }
    }
    out
}

fn expected(model: &BTreeMap<i64, f64>, start: i64, end: i64) -> Vec<(i64, f64)> {
    model.range(start..=end).map(|(&t, &v)| (t, v)).collect()
}

/// Every read the engine offers agrees with the model.
fn check(e: &Engine, model: &BTreeMap<i64, f64>) {
    assert_eq!(
        read(e, MIN_TIME, MAX_TIME, false),
        expected(model, MIN_TIME, MAX_TIME)
    );
    let keys: Vec<i64> = model.keys().copied().collect();
    if keys.is_empty() {
        return;
    }
    // Ranges that start and end inside chunks and span many.
    for (a, b) in [
        (0, keys.len() - 1),
        (keys.len() / 3, keys.len() / 2),
        (17, 4_000.min(keys.len() - 1)),
    ] {
        let (from, to) = (keys[a.min(keys.len() - 1)], keys[b]);
        assert_eq!(
            read(e, from, to, false),
            expected(model, from, to),
            "{from}..={to}"
        );
        let mut back = expected(model, from, to);
        back.reverse();
        assert_eq!(read(e, from, to, true), back, "{from}..={to} backwards");
    }
}

fn chunk_points(e: &Engine) -> Vec<usize> {
    let s = e.schema().series[S].clone();
    e.chunk_sizes(&s)
        .unwrap()
        .into_iter()
        .map(|c| c.1)
        .collect()
}

#[test]
fn a_1khz_series_is_cut_into_bounded_chunks_and_reads_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();
    {
        let e = open(dir.path());
        // 200 s of a 1 kHz sensor in 1 000-row tablets: one 1 h bucket
        // would hold all 200 000 points.
        write(&e, &mut model, 1_700_000_000_000, 1, 200_000, 1_000);
        let sizes = chunk_points(&e);
        assert!(sizes.len() >= 50, "{} chunks", sizes.len());
        let max = *sizes.iter().max().unwrap();
        assert!(
            max as u64 <= 2 * TARGET_POINTS + 1_000,
            "a chunk of {max} points"
        );
        check(&e, &model);
        // A delete across chunk boundaries, and a late point in an old chunk.
        let first = *model.keys().next().unwrap();
        e.delete_points(&[S.into()], first + 5_000, first + 17_777)
            .unwrap();
        model.retain(|&t, _| !(first + 5_000..=first + 17_777).contains(&t));
        write(&e, &mut model, first + 9_000, 1, 1, 1);
        check(&e, &model);
    }
    // The segments are kept: after a reopen the same reads, and appends
    // go on with the same span.
    let e = open(dir.path());
    check(&e, &model);
    let before = e.schema().series[S].segments.clone();
    let next = model.keys().last().unwrap() + 1;
    write(&e, &mut model, next, 1, 20_000, 1_000);
    assert_eq!(
        e.schema().series[S].segments,
        before,
        "a steady rate keeps its span"
    );
    check(&e, &model);
    let max = *chunk_points(&e).iter().max().unwrap();
    assert!(
        max as u64 <= 2 * TARGET_POINTS + 1_000,
        "a chunk of {max} points"
    );
}

#[test]
fn a_series_written_before_segments_existed_gets_them_after_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();
    let e = open(dir.path());
    // Slow at first: one point a second for ten minutes (one 1 h bucket).
    write(&e, &mut model, 0, 1_000, 600, 10);
    assert_eq!(chunk_points(&e), vec![600]);
    assert!(e.schema().series[S].segments.is_empty());
    drop(e);
    // After a restart (the writer knows nothing of the series), 50 kHz.
    let e = open(dir.path());
    write(&e, &mut model, 600_000, 1, 100_000, 1_000);
    let segments = e.schema().series[S].segments.clone();
    assert!(!segments.is_empty());
    assert!(segments[0].from > 599_000, "{segments:?}");
    let sizes = chunk_points(&e);
    assert_eq!(sizes[0], 600, "the old chunk is untouched");
    let max = *sizes.iter().max().unwrap();
    assert!(
        max as u64 <= 2 * TARGET_POINTS + 1_000,
        "a chunk of {max} points"
    );
    check(&e, &model);
    // Then slow again: later chunks get a longer span.
    let next = model.keys().last().unwrap() + 1;
    write(&e, &mut model, next + 10_000_000, 5_000, 100, 1);
    let later = &e.schema().series[S].segments;
    assert!(later.len() > segments.len(), "{later:?}");
    assert!(later.last().unwrap().span >= 65_536, "{later:?}");
    check(&e, &model);
}

#[test]
fn the_newest_chunk_after_a_restart_is_not_overlapped() {
    // Points at 1 kHz, a restart, then more points at 1 kHz inside the
    // same old bucket: the new segment starts after the newest point, so
    // no time is in two chunks (a rewrite of a time keeps one value).
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();
    {
        let e = open(dir.path());
        write(&e, &mut model, 0, 1, 1_000, 1_000);
    }
    let e = open(dir.path());
    write(&e, &mut model, 1_000, 1, 5_000, 1_000);
    // Rewrite times on both sides of every boundary.
    write(&e, &mut model, 0, 1, 6_000, 3_000);
    check(&e, &model);
    assert_eq!(read(&e, MIN_TIME, MAX_TIME, false).len(), 6_000);
}

//! The worked examples of docs/research/iotdb-pipe-processors.md (IoTDB's
//! IT for tumbling; the SDT and changing-value tables derived line by line
//! from IoTDB's code) and the edge cases around them.

use super::*;

const SEC: i64 = 1000;

/// The `(t, v)` that `sampler` keeps of a DOUBLE series, fed one point at a
/// time (as separate events would be).
fn kept(sampler: Sampler, points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut state = None;
    points
        .iter()
        .filter(|(t, v)| {
            !down_sample(&sampler, &mut state, &[*t], &Column::F64(vec![*v])).is_empty()
        })
        .copied()
        .collect()
}

/// The same points in one chunk: a batch boundary changes nothing.
fn kept_at_once(sampler: Sampler, points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let times: Vec<i64> = points.iter().map(|p| p.0).collect();
    let values = Column::F64(points.iter().map(|p| p.1).collect());
    down_sample(&sampler, &mut None, &times, &values)
        .into_iter()
        .map(|i| points[i])
        .collect()
}

fn check(sampler: Sampler, input: &[(i64, f64)], expected: &[(i64, f64)]) {
    assert_eq!(kept(sampler, input), expected, "{sampler:?} point by point");
    assert_eq!(
        kept_at_once(sampler, input),
        expected,
        "{sampler:?} in one chunk"
    );
}

fn sdt(deviation: f64) -> Sampler {
    Sampler::Sdt(Bounds {
        deviation,
        ..Bounds::default()
    })
}

fn changing(deviation: f64) -> Sampler {
    Sampler::ChangingValue(Bounds {
        deviation,
        ..Bounds::default()
    })
}

fn with_max(s: Sampler, max_interval: i64) -> Sampler {
    match s {
        Sampler::Sdt(b) => Sampler::Sdt(Bounds { max_interval, ..b }),
        Sampler::ChangingValue(b) => Sampler::ChangingValue(Bounds { max_interval, ..b }),
        other => other,
    }
}

fn series(ts: &[i64]) -> Vec<(i64, f64)> {
    ts.iter()
        .enumerate()
        .map(|(i, &t)| (t, i as f64 + 1.0))
        .collect()
}

#[test]
fn tumbling_matches_iotdbs_alter_pipe_it() {
    // IoTDBPipeAlterIT: interval 1 s, d1 at 1000..3000 step 500 (values 1..5).
    let one = Sampler::TumblingTime { interval: SEC };
    let d1 = series(&[1000, 1500, 2000, 2500, 3000]);
    check(one, &d1, &[(1000, 1.0), (2000, 3.0), (3000, 5.0)]);
    // After ALTER to 2 s: d2 at 11000..13000 step 500 arrive as 11000 and 13000.
    let two = Sampler::TumblingTime { interval: 2 * SEC };
    let d2 = series(&[11000, 11500, 12000, 12500, 13000]);
    check(two, &d2, &[(11000, 1.0), (13000, 5.0)]);
}

#[test]
fn tumbling_is_anchored_at_the_last_kept_point_not_the_epoch() {
    let one = Sampler::TumblingTime { interval: SEC };
    let input = series(&[0, 900, 1100, 1950, 2050, 3100]);
    // 2050 is the first point of [2000, 3000) and still dropped.
    check(one, &input, &[(0, 1.0), (1100, 3.0), (3100, 6.0)]);
    // Exactly one interval after the anchor is kept (>=).
    check(one, &series(&[0, 999, 1000]), &[(0, 1.0), (1000, 3.0)]);
    // Far enough in the past is kept too and moves the anchor back.
    check(
        one,
        &series(&[5000, 1000, 5500]),
        &series(&[5000, 1000, 5500]),
    );
    // The same timestamp twice (an overwrite) is not sent again.
    check(
        one,
        &[(0, 1.0), (0, 2.0), (1000, 3.0)],
        &[(0, 1.0), (1000, 3.0)],
    );
    // A constant series is sampled on time alone.
    let flat: Vec<(i64, f64)> = (0..10).map(|i| (i * 500, 7.0)).collect();
    check(
        one,
        &flat,
        &[(0, 7.0), (1000, 7.0), (2000, 7.0), (3000, 7.0), (4000, 7.0)],
    );
    // Extreme times do not overflow.
    check(
        one,
        &[(i64::MIN, 1.0), (i64::MAX, 2.0)],
        &[(i64::MIN, 1.0), (i64::MAX, 2.0)],
    );
}

#[test]
fn sdt_matches_the_worked_examples() {
    let a = [(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)];
    check(sdt(0.0), &a, &[(1, 1.0), (2, 1.0)]); // A: a flat series keeps two
    check(sdt(0.5), &a, &[(1, 1.0)]); // A'
    let b = [
        (1, 0.0),
        (2, 1.0),
        (3, 2.0),
        (4, 3.0),
        (5, 10.0),
        (6, 10.0),
        (7, 10.0),
    ];
    let b_kept = [(1, 0.0), (5, 10.0), (6, 10.0), (7, 10.0)];
    check(sdt(0.5), &b, &b_kept); // B: the turning point (4,3) is not sent
    check(sdt(0.0), &b, &b_kept);
    let c = [(1, 10.0), (2, 9.0), (3, 8.0), (4, 7.0)];
    check(sdt(0.5), &c, &[(1, 10.0), (2, 9.0)]); // C
    check(sdt(5.0), &c, &[(1, 10.0)]); // C'
    let d = [
        (0, 0.0),
        (10, 0.2),
        (20, -0.2),
        (30, 0.1),
        (40, 3.0),
        (50, 3.1),
    ];
    check(sdt(0.5), &d, &[(0, 0.0), (40, 3.0), (50, 3.1)]); // D
    check(
        with_max(sdt(0.5), 25),
        &d,
        &[(0, 0.0), (30, 0.1), (50, 3.1)],
    ); // D'
}

#[test]
fn sdt_edge_cases() {
    // The same timestamp as the anchor is dropped (min-time-interval 0, <=).
    check(sdt(0.0), &[(1, 1.0), (1, 5.0)], &[(1, 1.0)]);
    // min-time-interval is in milliseconds: 10 drops what is 10 ms close.
    let min10 = Sampler::Sdt(Bounds {
        min_interval: 10,
        ..Bounds::default()
    });
    check(
        min10,
        &[(0, 0.0), (10, -100.0), (11, -100.0)],
        &[(0, 0.0), (11, -100.0)],
    );
    // The first point of a series is always kept.
    check(sdt(1e9), &[(5, 3.0)], &[(5, 3.0)]);
    // The initial upper door is Java's Double.MIN_VALUE, not 0 and not
    // f64::MIN_POSITIVE: a tiny rise after the first point does not open it.
    check(sdt(0.0), &[(0, 0.0), (1, 1e-310), (2, 2e-310)], &[(0, 0.0)]);
}

#[test]
fn changing_value_matches_the_worked_examples() {
    check(
        changing(0.0),
        &[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)],
        &[(1, 1.0)],
    ); // F
    let g = [(1, 1.0), (2, 1.4), (3, 1.8), (4, 2.2)];
    check(changing(0.5), &g, &[(1, 1.0), (3, 1.8)]); // G: drift accumulates
    let h = [
        (0, 0.0),
        (10, 0.2),
        (20, -0.2),
        (30, 0.1),
        (40, 3.0),
        (50, 3.1),
    ];
    check(changing(0.5), &h, &[(0, 0.0), (40, 3.0)]); // H
    check(
        with_max(changing(0.5), 25),
        &h,
        &[(0, 0.0), (30, 0.1), (40, 3.0)],
    ); // H'
    check(
        changing(0.0),
        &[(1, 1.0), (1, 5.0), (2, 5.0)],
        &[(1, 1.0), (2, 5.0)],
    ); // J
       // Strictly greater: a change of exactly the deviation is dropped.
    check(
        changing(0.5),
        &[(0, 1.0), (1, 1.5), (2, 1.6)],
        &[(0, 1.0), (2, 1.6)],
    );
    // NaN never differs by more than the deviation.
    check(changing(0.0), &[(0, 1.0), (1, f64::NAN)], &[(0, 1.0)]);
}

#[test]
fn non_numeric_values_are_kept_when_they_change() {
    let bools = Column::Bool(vec![true, true, false, false, true]);
    let times = [1, 2, 3, 4, 5];
    for s in [changing(10.0), sdt(10.0)] {
        assert_eq!(
            down_sample(&s, &mut None, &times, &bools),
            vec![0, 2, 4],
            "I {s:?}"
        );
    }
    // E: TEXT, STRING and BLOB compare bytes; DATE its day.
    for col in [
        Column::Text(vec!["a".into(), "a".into(), "b".into()]),
        Column::Str(vec!["a".into(), "a".into(), "b".into()]),
        Column::Blob(vec![b"a".to_vec(), b"a".to_vec(), b"b".to_vec()]),
        Column::Date(vec![20240101, 20240101, 20240102]),
    ] {
        for s in [changing(0.0), sdt(0.0)] {
            assert_eq!(
                down_sample(&s, &mut None, &[1, 2, 3], &col),
                vec![0, 2],
                "E {s:?} {col:?}"
            );
        }
    }
    // Tumbling looks at time only, whatever the type.
    let texts = Column::Text(vec!["x".into(); 3]);
    let one = Sampler::TumblingTime { interval: SEC };
    assert_eq!(
        down_sample(&one, &mut None, &[0, 500, 1000], &texts),
        vec![0, 2]
    );
}

#[test]
fn integer_and_float_series_are_numbers() {
    let ints = Column::I64(vec![1, 1, 3]);
    assert_eq!(
        down_sample(&changing(1.0), &mut None, &[1, 2, 3], &ints),
        vec![0, 2]
    );
    let ints = Column::I32(vec![10, 9, 8, 7]);
    assert_eq!(
        down_sample(&sdt(0.5), &mut None, &[1, 2, 3, 4], &ints),
        vec![0, 1]
    );
    // 0.1f counts as 0.1 (IoTDB widens through the text form): a change of
    // exactly 0.1 is not more than a deviation of 0.1.
    let floats = Column::F32(vec![0.0, 0.1]);
    assert_eq!(
        down_sample(&changing(0.1), &mut None, &[1, 2], &floats),
        vec![0]
    );
}

#[test]
fn state_carries_across_calls_and_forward_keeps_all() {
    let one = Sampler::TumblingTime { interval: SEC };
    let mut state = None;
    assert_eq!(
        down_sample(&one, &mut state, &[0, 400], &Column::I32(vec![1, 2])),
        vec![0]
    );
    assert_eq!(state, Some(SeriesState::Tumbling { last: 0 }));
    assert_eq!(
        down_sample(&one, &mut state, &[800, 1200], &Column::I32(vec![3, 4])),
        vec![1]
    );
    let all = down_sample(
        &Sampler::Forward,
        &mut None,
        &[0, 0, 1],
        &Column::I32(vec![1, 1, 1]),
    );
    assert_eq!(all, vec![0, 1, 2]);
}

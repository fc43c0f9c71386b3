//! IoTDB's three down-sampling rules, one series at a time, as pure
//! functions: a point in, keep or drop out, and the series' state updated.
//! Transcribed from IoTDB's `TumblingTimeSamplingProcessor`,
//! `SwingingDoorTrendingFilter` and `ChangingValueFilter`
//! (docs/research/iotdb-pipe-processors.md), quirks included: the tumbling
//! window is anchored at the last kept point, SDT sends the point that
//! breaks the door (not the turning point) and keeps the second point of a
//! flat series, changing-value compares with the last *kept* value.
//!
//! Times are in the server's unit (milliseconds in Duet); so are the SDT
//! and changing-value intervals, as in IoTDB. Differences are taken in
//! `i128`, so IoTDB's `Long.MAX_VALUE` default never overflows.

use duet_engine::Column;

/// Which rule a pipe applies, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// `do-nothing-processor`: every point.
    Forward,
    /// `tumbling-time-sampling-processor`: a point is kept when it is at
    /// least `interval` (ms) away from the series' last kept point.
    TumblingTime { interval: i64 },
    /// `sdt-sampling-processor` (swinging door trending).
    Sdt(Bounds),
    /// `changing-value-sampling-processor`.
    ChangingValue(Bounds),
}

/// The parameters SDT and changing-value share (IoTDB's defaults: 0, 0,
/// `Long.MAX_VALUE`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub deviation: f64,
    /// A point this close (or closer) to the anchor is dropped.
    pub min_interval: i64,
    /// A point this far (or farther) from the anchor is kept.
    pub max_interval: i64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            deviation: 0.0,
            min_interval: 0,
            max_interval: i64::MAX,
        }
    }
}

/// A point's value as IoTDB's filters see it: numbers as doubles, every
/// other type compared for equality only.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Num(f64),
    Bool(bool),
    Date(i32),
    /// TEXT, STRING and BLOB (IoTDB's `Binary`).
    Bytes(Vec<u8>),
}

impl Sample {
    /// Element `i` of `col` (which must have it).
    pub fn at(col: &Column, i: usize) -> Sample {
        match col {
            Column::Bool(v) => Sample::Bool(v[i]),
            Column::I32(v) => Sample::Num(v[i] as f64),
            Column::I64(v) | Column::Timestamp(v) => Sample::Num(v[i] as f64),
            // IoTDB widens through the text form (`Double.parseDouble(v.toString())`):
            // 0.1f is 0.1, not 0.10000000149.
            Column::F32(v) => Sample::Num(v[i].to_string().parse().unwrap_or(v[i] as f64)),
            Column::F64(v) => Sample::Num(v[i]),
            Column::Date(v) => Sample::Date(v[i]),
            Column::Text(v) | Column::Str(v) => Sample::Bytes(v[i].as_bytes().to_vec()),
            Column::Blob(v) => Sample::Bytes(v[i].clone()),
        }
    }
}

/// What a processor remembers of one series between points.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesState {
    Tumbling { last: i64 },
    Sdt(SdtFilter),
    Changing(ChangingFilter),
}

impl SeriesState {
    /// Bytes IoTDB charges a series' state against the memory limit.
    pub fn cost(&self) -> u64 {
        match self {
            SeriesState::Tumbling { .. } => 8,
            _ => 64,
        }
    }
}

/// `|a - b|` without overflow.
fn gap(a: i64, b: i64) -> i128 {
    (a as i128 - b as i128).abs()
}

/// Tumbling time: keep `t` if the series has no kept point yet or `t` is at
/// least `interval` from it, in either direction (IoTDB's `Math.abs`).
pub fn tumbling(interval: i64, last: Option<i64>, t: i64) -> bool {
    last.is_none_or(|l| gap(t, l) >= interval as i128)
}

/// Java's `Double.MIN_VALUE`, the smallest positive double (not
/// `f64::MIN_POSITIVE`, the smallest normal one): SDT's initial upper door.
const JAVA_DOUBLE_MIN_VALUE: f64 = f64::from_bits(1);

/// IoTDB's `SwingingDoorTrendingFilter`.
#[derive(Debug, Clone, PartialEq)]
pub struct SdtFilter {
    upper: f64,
    lower: f64,
    last_read: (i64, Sample),
    stored: (i64, Sample),
}

impl SdtFilter {
    /// The filter of a series whose first point is `(t, v)` (kept).
    pub fn new(t: i64, v: Sample) -> SdtFilter {
        SdtFilter {
            upper: JAVA_DOUBLE_MIN_VALUE,
            lower: f64::MAX,
            last_read: (t, v.clone()),
            stored: (t, v),
        }
    }

    /// IoTDB's `reset`: new anchor and doors; `last_read` stays as it was.
    fn reset(&mut self, t: i64, v: Sample) {
        self.upper = JAVA_DOUBLE_MIN_VALUE;
        self.lower = f64::MAX;
        self.stored = (t, v);
    }

    /// Whether `(t, v)` is kept.
    pub fn filter(&mut self, b: &Bounds, t: i64, v: Sample) -> bool {
        let adt = gap(t, self.stored.0);
        if adt <= b.min_interval as i128 {
            return false;
        }
        if adt >= b.max_interval as i128 {
            self.reset(t, v);
            return true;
        }
        let (x, s) = match (&v, &self.stored.1) {
            (Sample::Num(x), Sample::Num(s)) => (*x, *s),
            // IoTDB parses the anchor as a number and fails: start afresh.
            (Sample::Num(_), _) => {
                *self = SdtFilter::new(t, v);
                return true;
            }
            (_, stored) if v == *stored => return false,
            _ => {
                self.reset(t, v);
                return true;
            }
        };
        let dt = (t as i128 - self.stored.0 as i128) as f64;
        let dv = x - s;
        let up = (dv - b.deviation) / dt;
        if up > self.upper {
            self.upper = up;
        }
        let lo = (dv + b.deviation) / dt;
        if lo < self.lower {
            self.lower = lo;
        }
        if self.upper > self.lower {
            // The door opened: the previous point becomes the anchor (it
            // is not sent), the current one is sent.
            self.stored = std::mem::replace(&mut self.last_read, (t, v));
            self.upper = up;
            self.lower = lo;
            return true;
        }
        self.last_read = (t, v);
        false
    }
}

/// IoTDB's `ChangingValueFilter`: the anchor is the last kept point.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangingFilter {
    stored: (i64, Sample),
}

impl ChangingFilter {
    pub fn new(t: i64, v: Sample) -> ChangingFilter {
        ChangingFilter { stored: (t, v) }
    }

    /// Whether `(t, v)` is kept.
    pub fn filter(&mut self, b: &Bounds, t: i64, v: Sample) -> bool {
        let adt = gap(t, self.stored.0);
        if adt <= b.min_interval as i128 {
            return false;
        }
        let keep = adt >= b.max_interval as i128
            || match (&v, &self.stored.1) {
                // Strictly greater: a NaN never is.
                (Sample::Num(x), Sample::Num(s)) => (s - x).abs() > b.deviation,
                // IoTDB parses the anchor as a number and fails: keep.
                (Sample::Num(_), _) => true,
                (v, stored) => v != stored,
            };
        if keep {
            self.stored = (t, v);
        }
        keep
    }
}

/// The indices of the points of one series that `sampler` keeps, in
/// order, given the series' state before them (`None`: not seen yet, or
/// forgotten); `state` is left as it is after them.
pub fn down_sample(
    sampler: &Sampler,
    state: &mut Option<SeriesState>,
    times: &[i64],
    values: &Column,
) -> Vec<usize> {
    let n = times.len().min(values.len());
    let mut keep = Vec::with_capacity(n);
    for (i, &t) in times.iter().enumerate().take(n) {
        let kept = match (sampler, &mut *state) {
            (Sampler::Forward, _) => true,
            (Sampler::TumblingTime { interval }, s) => {
                let last = match s {
                    Some(SeriesState::Tumbling { last }) => Some(*last),
                    _ => None,
                };
                let k = tumbling(*interval, last, t);
                if k {
                    *s = Some(SeriesState::Tumbling { last: t });
                }
                k
            }
            (Sampler::Sdt(b), Some(SeriesState::Sdt(f))) => f.filter(b, t, Sample::at(values, i)),
            (Sampler::Sdt(_), s) => {
                *s = Some(SeriesState::Sdt(SdtFilter::new(t, Sample::at(values, i))));
                true
            }
            (Sampler::ChangingValue(b), Some(SeriesState::Changing(f))) => {
                f.filter(b, t, Sample::at(values, i))
            }
            (Sampler::ChangingValue(_), s) => {
                *s = Some(SeriesState::Changing(ChangingFilter::new(
                    t,
                    Sample::at(values, i),
                )));
                true
            }
        };
        if kept {
            keep.push(i);
        }
    }
    keep
}

#[cfg(test)]
mod tests;

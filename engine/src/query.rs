//! Query building blocks over series scans: rows aligned by time across
//! several series (IoTDB's default result shape) and aggregate accumulators.
//! The executor composes these with predicates, windows and limits; all of
//! it streams.

use crate::error::{Error, Result};
use crate::read::{BlockIter, PointBlock};
use crate::types::{DataType, Value};
use std::cmp::Ordering;

/// Rows `(time, one optional value per series)` in time order (descending
/// when the scans are reverse scans).
pub struct AlignedRows {
    cursors: Vec<Cursor>,
    reverse: bool,
    failed: bool,
}

struct Cursor {
    scan: BlockIter,
    block: Option<PointBlock>,
    pos: usize,
}

impl Cursor {
    /// Time of the next point, loading the next block when needed.
    fn head(&mut self) -> Result<Option<i64>> {
        loop {
            if let Some(b) = &self.block {
                if self.pos < b.times.len() {
                    return Ok(Some(b.times[self.pos]));
                }
            }
            match self.scan.next() {
                Some(block) => {
                    self.block = Some(block?);
                    self.pos = 0;
                }
                None => {
                    self.block = None;
                    return Ok(None);
                }
            }
        }
    }
}

impl AlignedRows {
    /// All scans must go the same direction.
    pub fn new(scans: Vec<BlockIter>, reverse: bool) -> Self {
        AlignedRows {
            cursors: scans
                .into_iter()
                .map(|scan| Cursor {
                    scan,
                    block: None,
                    pos: 0,
                })
                .collect(),
            reverse,
            failed: false,
        }
    }

    fn next_row(&mut self) -> Result<Option<(i64, Vec<Option<Value>>)>> {
        let mut heads = Vec::with_capacity(self.cursors.len());
        for c in &mut self.cursors {
            heads.push(c.head()?);
        }
        let pick = heads
            .iter()
            .flatten()
            .copied()
            .reduce(|a, b| match (a.cmp(&b), self.reverse) {
                (Ordering::Less, false) | (Ordering::Greater, true) => a,
                _ => b,
            });
        let Some(t) = pick else { return Ok(None) };
        let mut row = Vec::with_capacity(self.cursors.len());
        for (c, h) in self.cursors.iter_mut().zip(heads) {
            if h == Some(t) {
                row.push(c.block.as_ref().and_then(|b| b.values.get(c.pos)));
                c.pos += 1;
            } else {
                row.push(None);
            }
        }
        Ok(Some((t, row)))
    }
}

impl Iterator for AlignedRows {
    type Item = Result<(i64, Vec<Option<Value>>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_row() {
            Ok(r) => r.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Count,
    Sum,
    Avg,
    MinValue,
    MaxValue,
    FirstValue,
    LastValue,
    MaxTime,
    MinTime,
    /// The value of the greatest absolute value (the positive one on a tie).
    Extreme,
    /// `stddev_samp` under IoTDB's other name.
    Stddev,
    /// `var_samp` under IoTDB's other name.
    Variance,
    /// Sample standard deviation (IoTDB's `stddev` is `stddev_samp`).
    StddevSamp,
    StddevPop,
    /// Sample variance (IoTDB's `variance` is `var_samp`).
    VarSamp,
    VarPop,
    /// The time from the first point to the last.
    TimeDuration,
}

impl AggFunc {
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::MinValue => "min_value",
            AggFunc::MaxValue => "max_value",
            AggFunc::FirstValue => "first_value",
            AggFunc::LastValue => "last_value",
            AggFunc::MaxTime => "max_time",
            AggFunc::MinTime => "min_time",
            AggFunc::Extreme => "extreme",
            AggFunc::Stddev => "stddev",
            AggFunc::Variance => "variance",
            AggFunc::StddevSamp => "stddev_samp",
            AggFunc::StddevPop => "stddev_pop",
            AggFunc::VarSamp => "var_samp",
            AggFunc::VarPop => "var_pop",
            AggFunc::TimeDuration => "time_duration",
        }
    }

    /// Type of the result over a series of type `t`, or an error if the
    /// function does not apply to it.
    pub fn result_type(self, t: DataType, series: &str) -> Result<DataType> {
        match self {
            AggFunc::Count | AggFunc::MaxTime | AggFunc::MinTime | AggFunc::TimeDuration => {
                Ok(DataType::Int64)
            }
            AggFunc::Sum
            | AggFunc::Avg
            | AggFunc::Stddev
            | AggFunc::Variance
            | AggFunc::StddevSamp
            | AggFunc::StddevPop
            | AggFunc::VarSamp
            | AggFunc::VarPop
                if t.is_numeric() =>
            {
                Ok(DataType::Double)
            }
            AggFunc::Extreme if t.is_numeric() => Ok(t),
            AggFunc::MinValue | AggFunc::MaxValue if t.is_ordered() => Ok(t),
            AggFunc::FirstValue | AggFunc::LastValue => Ok(t),
            _ => Err(Error::invalid(format!(
                "{}() is not defined for {t} series {series}",
                self.name()
            ))),
        }
    }
}

/// Accumulates one aggregate over points visited in any time order.
#[derive(Debug, Clone)]
pub struct Accumulator {
    func: AggFunc,
    count: i64,
    sum: f64,
    best: Option<(i64, Value)>,
    /// Earliest and latest time seen.
    times: Option<(i64, i64)>,
    /// Welford's running mean and sum of squared deviations.
    mean: f64,
    m2: f64,
}

impl Accumulator {
    pub fn new(func: AggFunc) -> Self {
        Accumulator {
            func,
            count: 0,
            sum: 0.0,
            best: None,
            times: None,
            mean: 0.0,
            m2: 0.0,
        }
    }

    pub fn update(&mut self, t: i64, v: &Value) {
        self.count += 1;
        self.times = Some(match self.times {
            None => (t, t),
            Some((lo, hi)) => (lo.min(t), hi.max(t)),
        });
        match self.func {
            AggFunc::Count | AggFunc::MaxTime | AggFunc::MinTime | AggFunc::TimeDuration => {}
            AggFunc::Stddev
            | AggFunc::Variance
            | AggFunc::StddevSamp
            | AggFunc::StddevPop
            | AggFunc::VarSamp
            | AggFunc::VarPop => {
                let x = v.as_f64().unwrap_or(0.0);
                let d = x - self.mean;
                self.mean += d / self.count as f64;
                self.m2 += d * (x - self.mean);
            }
            AggFunc::Extreme => {
                let x = v.as_f64().unwrap_or(0.0);
                let better = match &self.best {
                    None => true,
                    Some((_, b)) => {
                        let y = b.as_f64().unwrap_or(0.0);
                        x.abs() > y.abs() || (x.abs() == y.abs() && x > y)
                    }
                };
                if better {
                    self.best = Some((t, v.clone()));
                }
            }
            AggFunc::Sum | AggFunc::Avg => self.sum += v.as_f64().unwrap_or(0.0),
            AggFunc::MinValue | AggFunc::MaxValue => {
                let better = match &self.best {
                    None => true,
                    Some((_, b)) => {
                        // TIMESTAMP and DATE compare as the numbers they hold.
                        let ord = v
                            .to_base()
                            .as_f64()
                            .partial_cmp(&b.to_base().as_f64())
                            .unwrap_or(Ordering::Equal);
                        if self.func == AggFunc::MinValue {
                            ord == Ordering::Less
                        } else {
                            ord == Ordering::Greater
                        }
                    }
                };
                if better {
                    self.best = Some((t, v.clone()));
                }
            }
            AggFunc::FirstValue | AggFunc::LastValue => {
                let better = match &self.best {
                    None => true,
                    Some((bt, _)) => {
                        if self.func == AggFunc::FirstValue {
                            t < *bt
                        } else {
                            t > *bt
                        }
                    }
                };
                if better {
                    self.best = Some((t, v.clone()));
                }
            }
        }
    }

    /// The result; `None` (null) when no point was seen, except count (0).
    pub fn finish(&self) -> Option<Value> {
        match self.func {
            AggFunc::Count => Some(Value::I64(self.count)),
            _ if self.count == 0 => None,
            AggFunc::Sum => Some(Value::F64(self.sum)),
            AggFunc::Avg => Some(Value::F64(self.sum / self.count as f64)),
            AggFunc::MaxTime => self.times.map(|(_, hi)| Value::I64(hi)),
            AggFunc::MinTime => self.times.map(|(lo, _)| Value::I64(lo)),
            AggFunc::TimeDuration => self.times.map(|(lo, hi)| Value::I64(hi - lo)),
            AggFunc::VarPop => Some(Value::F64(self.m2 / self.count as f64)),
            AggFunc::StddevPop => Some(Value::F64((self.m2 / self.count as f64).sqrt())),
            // A sample of one has no spread to estimate.
            AggFunc::VarSamp | AggFunc::Variance | AggFunc::StddevSamp | AggFunc::Stddev
                if self.count < 2 =>
            {
                None
            }
            AggFunc::VarSamp | AggFunc::Variance => {
                Some(Value::F64(self.m2 / (self.count - 1) as f64))
            }
            AggFunc::StddevSamp | AggFunc::Stddev => {
                Some(Value::F64((self.m2 / (self.count - 1) as f64).sqrt()))
            }
            _ => self.best.as_ref().map(|(_, v)| v.clone()),
        }
    }

    pub fn reset(&mut self) {
        *self = Accumulator::new(self.func);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulators() {
        let pts = [(3, 5.0), (1, 2.0), (2, 8.0)];
        let run = |f| {
            let mut a = Accumulator::new(f);
            for (t, v) in pts {
                a.update(t, &Value::F64(v));
            }
            a.finish()
        };
        assert_eq!(run(AggFunc::Count), Some(Value::I64(3)));
        assert_eq!(run(AggFunc::Sum), Some(Value::F64(15.0)));
        assert_eq!(run(AggFunc::Avg), Some(Value::F64(5.0)));
        assert_eq!(run(AggFunc::MinValue), Some(Value::F64(2.0)));
        assert_eq!(run(AggFunc::MaxValue), Some(Value::F64(8.0)));
        assert_eq!(run(AggFunc::FirstValue), Some(Value::F64(2.0)));
        assert_eq!(run(AggFunc::LastValue), Some(Value::F64(5.0)));
        assert_eq!(Accumulator::new(AggFunc::Sum).finish(), None);
        assert_eq!(
            Accumulator::new(AggFunc::Count).finish(),
            Some(Value::I64(0))
        );
        assert!(AggFunc::Sum
            .result_type(DataType::Text, "root.a.b")
            .is_err());
        assert_eq!(run(AggFunc::MaxTime), Some(Value::I64(3)));
        assert_eq!(run(AggFunc::MinTime), Some(Value::I64(1)));
        assert_eq!(run(AggFunc::TimeDuration), Some(Value::I64(2)));
        assert_eq!(run(AggFunc::Extreme), Some(Value::F64(8.0)));
        // 2, 5, 8: mean 5, squared deviations 9 + 0 + 9.
        assert_eq!(run(AggFunc::VarPop), Some(Value::F64(6.0)));
        assert_eq!(run(AggFunc::VarSamp), Some(Value::F64(9.0)));
        assert_eq!(run(AggFunc::Stddev), Some(Value::F64(3.0)));
        let mut tie = Accumulator::new(AggFunc::Extreme);
        tie.update(1, &Value::I32(-4));
        tie.update(2, &Value::I32(4));
        tie.update(3, &Value::I32(-4));
        assert_eq!(
            tie.finish(),
            Some(Value::I32(4)),
            "the positive one on a tie"
        );
    }
}

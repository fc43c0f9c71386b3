//! `FILL(...)`: nulls of a result filled as IoTDB does, over the result's
//! rows in their order (never from before the query's range), before
//! LIMIT and OFFSET; with ALIGN BY DEVICE across the devices' rows as they
//! come (IoTDB's one fill above the device view).
//!
//! - `PREVIOUS`: the column's last non-null value, if its row is at most
//!   the bound away (inclusive; calendar months as in GROUP BY).
//! - `LINEAR`: `prev + (next - prev) * (t - t0) / (t1 - t0)` between the
//!   column's previous and next non-null values, cut to an integer for
//!   integer columns; numeric and TIMESTAMP columns only (IoTDB also
//!   interpolates DATE's yyyyMMdd number, making days that do not exist),
//!   and a null with no value on one side stays null.
//! - a constant: in the columns whose type takes it (an integer: integer,
//!   floating and TIMESTAMP columns, INT32 when it fits; a decimal:
//!   FLOAT and DOUBLE; `true`/`false`: BOOLEAN; text: TEXT and STRING;
//!   any of them as its text in TEXT and STRING), the others left null.

use crate::error::{ExecError, Result};
use crate::{ColumnInfo, ResultSet, Row, RowStream, Session};
use duet_engine::{DataType, Value};
use duet_parser::{Fill, Literal};
use std::collections::VecDeque;

/// Rows FILL(LINEAR) may hold while a column waits for its next value.
const MAX_HELD_ROWS: usize = 1_000_000;

pub(super) fn apply(rs: ResultSet, fill: &Fill, session: &Session) -> Result<ResultSet> {
    let ResultSet {
        has_time,
        columns,
        rows,
        warning,
    } = rs;
    let rows: RowStream = match fill {
        Fill::Constant(lit) => {
            let values: Vec<Option<Value>> = columns.iter().map(|c| constant_for(lit, c)).collect();
            Box::new(rows.map(move |r| {
                r.map(|mut row| {
                    for (v, c) in row.values.iter_mut().zip(&values) {
                        if v.is_none() {
                            v.clone_from(c);
                        }
                    }
                    row
                })
            }))
        }
        Fill::Previous { within } => {
            let within = *within;
            let offset = session.utc_offset_minutes;
            let mut last: Vec<Option<(Option<i64>, Value)>> = vec![None; columns.len()];
            Box::new(rows.map(move |r| {
                r.map(|mut row| {
                    for (v, prev) in row.values.iter_mut().zip(last.iter_mut()) {
                        match v {
                            Some(value) => *prev = Some((row.time, value.clone())),
                            None => {
                                if let Some((t0, value)) = prev {
                                    if close_enough(*t0, row.time, within, offset) {
                                        *v = Some(value.clone());
                                    }
                                }
                            }
                        }
                    }
                    row
                })
            }))
        }
        Fill::Linear => {
            if !has_time {
                Box::new(rows)
            } else {
                let numeric: Vec<bool> =
                    columns.iter().map(|c| interpolable(c.data_type)).collect();
                Box::new(Linear {
                    rows,
                    numeric,
                    held: VecDeque::new(),
                    first: 0,
                    prev: vec![None; columns.len()],
                    waiting: vec![Vec::new(); columns.len()],
                    done: false,
                })
            }
        }
    };
    Ok(ResultSet {
        has_time,
        columns,
        rows,
        warning,
    })
}

/// Whether a value at `t0` may fill the row at `t` under `within`.
fn close_enough(t0: Option<i64>, t: Option<i64>, within: Option<(i64, i64)>, offset: i32) -> bool {
    let Some((months, ms)) = within else {
        return true;
    };
    let (Some(a), Some(b)) = (t0, t) else {
        return false;
    };
    let (lo, hi) = (a.min(b), a.max(b));
    let reach = if months == 0 {
        lo as i128 + ms as i128
    } else {
        duet_parser::add_calendar_months(lo, months, offset) as i128 + ms as i128
    };
    reach >= hi as i128
}

/// The constant as a value of column `c`'s type, if that type takes it.
fn constant_for(lit: &Literal, c: &ColumnInfo) -> Option<Value> {
    use DataType as T;
    let text = |s: String| match c.data_type {
        T::Text => Some(Value::Text(s)),
        T::String => Some(Value::Str(s)),
        _ => None,
    };
    match (lit, c.data_type) {
        (Literal::Int(n), T::Int32) => i32::try_from(*n).ok().map(Value::I32),
        (Literal::Int(n), T::Int64) => Some(Value::I64(*n)),
        (Literal::Int(n), T::Float) => Some(Value::F32(*n as f32)),
        (Literal::Int(n), T::Double) => Some(Value::F64(*n as f64)),
        (Literal::Int(n), T::Timestamp) => Some(Value::Timestamp(*n)),
        (Literal::Int(n), T::Date) => date_of_int(*n).map(Value::Date),
        (Literal::Int(n), _) => text(n.to_string()),
        (Literal::Float(x), T::Float) => Some(Value::F32(*x as f32)),
        (Literal::Float(x), T::Double) => Some(Value::F64(*x)),
        (Literal::Float(x), _) => text(Value::F64(*x).to_string()),
        (Literal::Bool(b), T::Boolean) => Some(Value::Bool(*b)),
        (Literal::Bool(b), _) => text(b.to_string()),
        (Literal::Str(s), T::Date) => duet_engine::types::parse_date(s).map(Value::Date),
        (Literal::Str(s), _) => text(s.clone()),
        (Literal::Null, _) => None,
    }
}

/// `20240101` as a DATE, if it is a calendar day.
fn date_of_int(n: i64) -> Option<i32> {
    i32::try_from(n)
        .ok()
        .filter(|&d| duet_engine::types::date_is_valid(d))
}

/// Numeric and TIMESTAMP columns. Not DATE: IoTDB interpolates its
/// yyyyMMdd integer, which gives days that do not exist (20240150).
fn interpolable(t: DataType) -> bool {
    matches!(
        t,
        DataType::Int32
            | DataType::Int64
            | DataType::Float
            | DataType::Double
            | DataType::Timestamp
    )
}

/// FILL(LINEAR) over a stream: rows are held while a column waits for its
/// next non-null value, and go out once nothing before them can change.
struct Linear {
    rows: RowStream,
    numeric: Vec<bool>,
    held: VecDeque<Row>,
    /// The stream position of `held[0]`.
    first: usize,
    /// Per column, the last non-null value and its time.
    prev: Vec<Option<(i64, Value)>>,
    /// Per column, the held rows (stream positions) waiting for a next
    /// value.
    waiting: Vec<Vec<usize>>,
    done: bool,
}

impl Linear {
    /// Whether `held[0]` can go: no column of it is still waiting.
    fn front_ready(&self) -> bool {
        self.waiting
            .iter()
            .all(|w| w.first().is_none_or(|&p| p > self.first))
    }

    fn pop(&mut self) -> Option<Result<Row>> {
        let row = self.held.pop_front()?;
        self.first += 1;
        Some(Ok(row))
    }

    fn take(&mut self, row: Row) {
        let pos = self.first + self.held.len();
        let t = row.time.unwrap_or(0);
        for (c, v) in row.values.iter().enumerate() {
            if !self.numeric[c] {
                continue;
            }
            match v {
                None => {
                    if self.prev[c].is_some() {
                        self.waiting[c].push(pos);
                    }
                }
                Some(next) => {
                    if let Some((t0, p)) = self.prev[c].take() {
                        for at in std::mem::take(&mut self.waiting[c]) {
                            let r = &mut self.held[at - self.first];
                            r.values[c] = interpolate(&p, t0, next, t, r.time.unwrap_or(0));
                        }
                    }
                    self.prev[c] = Some((t, next.clone()));
                }
            }
        }
        self.held.push_back(row);
    }
}

/// The value at `t` on the line from `a` at `t0` to `b` at `t1`, of `a`'s
/// type (integers cut toward zero).
fn interpolate(a: &Value, t0: i64, b: &Value, t1: i64, t: i64) -> Option<Value> {
    let f = if t1 == t0 {
        0.0
    } else {
        (t - t0) as f64 / (t1 - t0) as f64
    };
    let (x, y) = (number(a)?, number(b)?);
    let v = x + (y - x) * f;
    Some(match a {
        Value::I32(_) => Value::I32(v as i32),
        Value::I64(_) => Value::I64(v as i64),
        Value::F32(_) => Value::F32(v as f32),
        Value::F64(_) => Value::F64(v),
        Value::Timestamp(_) => Value::Timestamp(v as i64),
        _ => return None,
    })
}

fn number(v: &Value) -> Option<f64> {
    Some(match v {
        Value::I32(x) => *x as f64,
        Value::I64(x) | Value::Timestamp(x) => *x as f64,
        Value::F32(x) => *x as f64,
        Value::F64(x) => *x,
        _ => return None,
    })
}

impl Iterator for Linear {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        loop {
            if !self.held.is_empty() && (self.done || self.front_ready()) {
                return self.pop();
            }
            if self.done {
                return None;
            }
            match self.rows.next() {
                None => {
                    self.done = true;
                    // What still waits has no next value: it stays null.
                    self.waiting.iter_mut().for_each(Vec::clear);
                }
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(row)) => {
                    if self.held.len() >= MAX_HELD_ROWS {
                        self.done = true;
                        self.held.clear();
                        return Some(Err(ExecError::semantic(format!(
                            "FILL(LINEAR) would hold over {MAX_HELD_ROWS} rows waiting for a \
                             column's next value: narrow the time range or select the columns \
                             apart"
                        ))));
                    }
                    self.take(row);
                }
            }
        }
    }
}

//! `WHERE` clauses: the time range a scan can be narrowed to, and the row
//! predicate itself with SQL's three-valued logic (a comparison with a
//! missing value is unknown, and only rows that are true pass).

use crate::convert;
use crate::error::{ExecError, Result};
use crate::Session;
use duet_engine::{Value, MAX_TIME, MIN_TIME};
use duet_parser::{CmpOp, Expr, Literal, Operand};
use std::cmp::Ordering;
use std::sync::Arc;

/// Inclusive time bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: i64,
    pub end: i64,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        start: MIN_TIME,
        end: MAX_TIME,
    };

    pub fn is_empty(&self) -> bool {
        self.start > self.end
    }

    fn narrow(&mut self, op: CmpOp, t: i64) {
        match op {
            CmpOp::Eq => {
                self.start = self.start.max(t);
                self.end = self.end.min(t);
            }
            CmpOp::Gt => self.start = self.start.max(t.saturating_add(1)),
            CmpOp::GtEq => self.start = self.start.max(t),
            CmpOp::Lt => self.end = self.end.min(t.saturating_sub(1)),
            CmpOp::LtEq => self.end = self.end.min(t),
            CmpOp::NotEq => {}
        }
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::LtEq => CmpOp::GtEq,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::GtEq => CmpOp::LtEq,
        other => other,
    }
}

/// A time comparison `time op t` (either side), if `e` is one.
fn time_cmp(e: &Expr, session: &Session) -> Result<Option<(CmpOp, i64)>> {
    let Expr::Cmp { lhs, op, rhs } = e else {
        return Ok(None);
    };
    let value = |o: &Operand| -> Result<Option<i64>> {
        match o {
            Operand::Literal(Literal::Int(t)) => Ok(Some(*t)),
            Operand::TimeValue(te) => convert::time(te, session).map(Some),
            _ => Ok(None),
        }
    };
    match (lhs, rhs) {
        (Operand::Time, other) => Ok(value(other)?.map(|t| (*op, t))),
        (other, Operand::Time) => Ok(value(other)?.map(|t| (flip(*op), t))),
        _ => Ok(None),
    }
}

/// The range implied by the time comparisons ANDed at the top of `e`
/// (everything else is left to the row predicate).
pub fn scan_range(e: Option<&Expr>, session: &Session) -> Result<TimeRange> {
    let mut r = TimeRange::ALL;
    fn walk(e: &Expr, r: &mut TimeRange, session: &Session) -> Result<()> {
        match e {
            Expr::And(a, b) => {
                walk(a, r, session)?;
                walk(b, r, session)
            }
            // `time IN (...)`: the span of its values.
            Expr::Or(..) => {
                let mut times = Vec::new();
                if time_equalities(e, session, &mut times)? {
                    if let (Some(&lo), Some(&hi)) = (times.iter().min(), times.iter().max()) {
                        r.narrow(CmpOp::GtEq, lo);
                        r.narrow(CmpOp::LtEq, hi);
                    }
                }
                Ok(())
            }
            other => {
                if let Some((op, t)) = time_cmp(other, session)? {
                    r.narrow(op, t);
                }
                Ok(())
            }
        }
    }
    if let Some(e) = e {
        walk(e, &mut r, session)?;
    }
    Ok(r)
}

/// Whether `e` is `time = a OR time = b ...` only; the times go to `out`.
fn time_equalities(e: &Expr, session: &Session, out: &mut Vec<i64>) -> Result<bool> {
    match e {
        Expr::Or(a, b) => {
            Ok(time_equalities(a, session, out)? && time_equalities(b, session, out)?)
        }
        other => match time_cmp(other, session)? {
            Some((CmpOp::Eq, t)) => {
                out.push(t);
                Ok(true)
            }
            _ => Ok(false),
        },
    }
}

/// For `DELETE`: the clause must be time comparisons joined by AND.
pub fn delete_range(e: Option<&Expr>, session: &Session) -> Result<TimeRange> {
    time_only_range(e, session, "DELETE")
}

/// A clause of time comparisons joined by AND (what `statement` takes) as
/// a range; anything else is refused.
pub fn time_only_range(e: Option<&Expr>, session: &Session, statement: &str) -> Result<TimeRange> {
    fn check(e: &Expr, session: &Session, statement: &str) -> Result<()> {
        match e {
            Expr::And(a, b) => {
                check(a, session, statement)?;
                check(b, session, statement)
            }
            other => match time_cmp(other, session)? {
                Some((CmpOp::NotEq, _)) => Err(ExecError::semantic(format!(
                    "{statement} does not support time != t"
                ))),
                Some(_) => Ok(()),
                None => Err(ExecError::semantic(format!(
                    "{statement} takes only time conditions joined by AND, not {other}"
                ))),
            },
        }
    }
    if let Some(e) = e {
        check(e, session, statement)?;
    }
    scan_range(e, session)
}

/// A predicate with its column names resolved to row positions.
#[derive(Debug, Clone)]
pub enum Pred {
    Cmp {
        lhs: Term,
        op: CmpOp,
        rhs: Term,
    },
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    /// Some of these columns hold no value at this time.
    IsNull(Term),
    /// A text value that contains a match (LIKE is anchored at both ends).
    Matches {
        term: Term,
        re: Arc<regex::Regex>,
    },
}

/// One side of a comparison as a term.
fn term(
    o: &Operand,
    session: &Session,
    columns: &mut dyn FnMut(&str) -> Result<Vec<usize>>,
) -> Result<Term> {
    Ok(match o {
        Operand::Time => Term::Time,
        Operand::Column(c) => Term::Columns(columns(c)?),
        Operand::Literal(l) => match convert::literal(l) {
            Some(v) => Term::Value(v),
            None => {
                return Err(ExecError::semantic(
                    "compare with null using IS NULL, not =",
                ))
            }
        },
        Operand::TimeValue(te) => Term::Value(Value::I64(convert::time(te, session)?)),
        // In HAVING: the result columns of that aggregate, by its text.
        Operand::Agg { .. } => Term::Columns(columns(&o.to_string())?),
    })
}

/// The aggregates `e` names (HAVING's), each once, as written.
pub fn aggregates_in(e: &Expr, out: &mut Vec<Operand>) {
    let mut add = |o: &Operand| {
        if matches!(o, Operand::Agg { .. }) && !out.contains(o) {
            out.push(o.clone());
        }
    };
    match e {
        Expr::Cmp { lhs, rhs, .. } => {
            add(lhs);
            add(rhs);
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            aggregates_in(a, out);
            aggregates_in(b, out);
        }
        Expr::Not(a) => aggregates_in(a, out),
        Expr::IsNull(o) | Expr::Like { operand: o, .. } | Expr::Regexp { operand: o, .. } => add(o),
    }
}

/// IoTDB's LIKE pattern as a regex matching the whole text: `%` any
/// text, `_` one character, `\` makes the next character itself.
fn like_to_regex(pattern: &str) -> String {
    let mut out = String::from("(?s)^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push_str(&regex::escape(&n.to_string()));
                }
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

/// Compiles a client's pattern with bounded size (a huge pattern is
/// refused, not built).
fn pattern_regex(re: &str, what: &str, original: &str) -> Result<regex::Regex> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            ExecError::semantic(format!(
                "{what} pattern {original:?} is not valid: {}",
                e.to_string().lines().last().unwrap_or("bad pattern")
            ))
        })
}

#[derive(Debug, Clone)]
pub enum Term {
    Time,
    /// Values at these row positions: the comparison holds if it holds for any.
    Columns(Vec<usize>),
    Value(Value),
}

impl Pred {
    /// Resolves `e`; `columns(name)` gives the row positions of a measurement.
    pub fn compile(
        e: &Expr,
        session: &Session,
        columns: &mut dyn FnMut(&str) -> Result<Vec<usize>>,
    ) -> Result<Pred> {
        Ok(match e {
            Expr::And(a, b) => Pred::And(
                Box::new(Self::compile(a, session, columns)?),
                Box::new(Self::compile(b, session, columns)?),
            ),
            Expr::Or(a, b) => Pred::Or(
                Box::new(Self::compile(a, session, columns)?),
                Box::new(Self::compile(b, session, columns)?),
            ),
            Expr::Not(a) => Pred::Not(Box::new(Self::compile(a, session, columns)?)),
            Expr::Cmp { lhs, op, rhs } => Pred::Cmp {
                lhs: term(lhs, session, columns)?,
                op: *op,
                rhs: term(rhs, session, columns)?,
            },
            Expr::IsNull(o) => match term(o, session, columns)? {
                t @ Term::Columns(_) => Pred::IsNull(t),
                _ => {
                    return Err(ExecError::semantic(format!(
                        "IS NULL takes a measurement, not {o}"
                    )))
                }
            },
            Expr::Like { operand, pattern } => Pred::Matches {
                term: term(operand, session, columns)?,
                re: Arc::new(pattern_regex(&like_to_regex(pattern), "LIKE", pattern)?),
            },
            Expr::Regexp { operand, pattern } => Pred::Matches {
                term: term(operand, session, columns)?,
                re: Arc::new(pattern_regex(pattern, "REGEXP", pattern)?),
            },
        })
    }

    /// `Some(true)` passes; false and unknown do not.
    pub fn eval(&self, time: i64, row: &[Option<Value>]) -> Option<bool> {
        match self {
            Pred::And(a, b) => match (a.eval(time, row), b.eval(time, row)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Pred::Or(a, b) => match (a.eval(time, row), b.eval(time, row)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Pred::Not(a) => a.eval(time, row).map(|b| !b),
            Pred::IsNull(t) => Some(values(t, time, row).iter().any(Option::is_none)),
            // Text values only: others are neither in nor out.
            Pred::Matches { term, re } => {
                let mut known = false;
                for v in values(term, time, row).iter().flatten() {
                    if let Value::Text(s) = v {
                        known = true;
                        if re.is_match(s) {
                            return Some(true);
                        }
                    }
                }
                known.then_some(false)
            }
            Pred::Cmp { lhs, op, rhs } => {
                let l = values(lhs, time, row);
                let r = values(rhs, time, row);
                let mut any_known = false;
                for a in l.iter().flatten() {
                    for b in r.iter().flatten() {
                        if let Some(ord) = compare(a, b) {
                            any_known = true;
                            if holds(*op, ord) {
                                return Some(true);
                            }
                        }
                    }
                }
                any_known.then_some(false)
            }
        }
    }
}

fn values(t: &Term, time: i64, row: &[Option<Value>]) -> Vec<Option<Value>> {
    match t {
        Term::Time => vec![Some(Value::I64(time))],
        Term::Value(v) => vec![Some(v.clone())],
        Term::Columns(idx) => idx.iter().map(|&i| row.get(i).cloned().flatten()).collect(),
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::I64(x), Value::I64(y)) => Some(x.cmp(y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn holds(op: CmpOp, ord: Ordering) -> bool {
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::NotEq => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::LtEq => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::GtEq => ord != Ordering::Less,
    }
}

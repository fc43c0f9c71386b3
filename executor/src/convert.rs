//! AST values to engine values.

use crate::error::{ExecError, Result};
use crate::Session;
use duet_engine::{DataType, Value};
use duet_parser::{Literal, Path, TimeBase, TimeExpr};

pub fn path(p: &Path) -> String {
    p.to_string()
}

pub fn data_type(t: duet_parser::DataType) -> DataType {
    use duet_parser::DataType as P;
    match t {
        P::Boolean => DataType::Boolean,
        P::Int32 => DataType::Int32,
        P::Int64 => DataType::Int64,
        P::Float => DataType::Float,
        P::Double => DataType::Double,
        P::Text => DataType::Text,
        P::Timestamp => DataType::Timestamp,
        P::Date => DataType::Date,
        P::Blob => DataType::Blob,
        P::String => DataType::String,
    }
}

pub fn now_ms() -> i64 {
    duet_engine::hlc::wall_clock_ms() as i64
}

/// Evaluates a time expression in milliseconds; overflow and out-of-range
/// results are errors.
pub fn time(te: &TimeExpr, session: &Session) -> Result<i64> {
    let base = match &te.base {
        TimeBase::Millis(ms) => *ms,
        TimeBase::Now => now_ms(),
        TimeBase::Iso(text) => duet_parser::iso_to_millis(text, session.utc_offset_minutes)
            .map_err(|e| ExecError::semantic(format!("bad time {text}: {e}")))?,
    };
    let t = te
        .offsets
        .iter()
        .try_fold(base, |acc, &off| acc.checked_add(off))
        .ok_or_else(|| ExecError::semantic(format!("time {te} overflows")))?;
    duet_engine::write::check_time(t)?;
    Ok(t)
}

/// The value of a literal; `None` for `null`.
pub fn literal(l: &Literal) -> Option<Value> {
    match l {
        Literal::Int(v) => Some(Value::I64(*v)),
        Literal::Float(v) => Some(Value::F64(*v)),
        Literal::Str(s) => Some(Value::Text(s.clone())),
        Literal::Bool(b) => Some(Value::Bool(*b)),
        Literal::Null => None,
    }
}

/// Type given to a series created by a write of this literal. Numbers become
/// DOUBLE (IoTDB's default inference for integers too), so a series first
/// written with `21` still takes `21.5` later.
pub fn inferred_type(v: &Value) -> DataType {
    match v {
        Value::Bool(_) => DataType::Boolean,
        Value::Text(_) => DataType::Text,
        _ => DataType::Double,
    }
}

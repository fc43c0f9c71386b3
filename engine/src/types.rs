//! Values and typed columns as the engine stores them.

use std::fmt;

/// Column types of IoTDB's tree model. The discriminants are stored on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    Boolean = 0,
    Int32 = 1,
    Int64 = 2,
    Float = 3,
    Double = 4,
    Text = 5,
}

impl DataType {
    /// The narrowest type that holds every value of both exactly: what a
    /// series becomes when the two nodes wrote it with different types.
    /// Commutative, associative and idempotent, so both nodes reach the same
    /// type whatever order the writes arrive in. INT32 and INT64 join to
    /// INT64; FLOAT and DOUBLE, or INT32 and either, to DOUBLE; anything
    /// else (BOOLEAN with a number, INT64 with a float) to TEXT.
    pub fn join(self, other: DataType) -> DataType {
        use DataType::*;
        if self == other {
            return self;
        }
        let (a, b) = if self < other {
            (self, other)
        } else {
            (other, self)
        };
        match (a, b) {
            (Int32, Int64) => Int64,
            (Float, Double) | (Int32, Float) | (Int32, Double) => Double,
            _ => Text,
        }
    }

    pub const ALL: [DataType; 6] = [
        DataType::Boolean,
        DataType::Int32,
        DataType::Int64,
        DataType::Float,
        DataType::Double,
        DataType::Text,
    ];

    pub fn from_u8(b: u8) -> Option<DataType> {
        DataType::ALL.get(b as usize).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            DataType::Boolean => "BOOLEAN",
            DataType::Int32 => "INT32",
            DataType::Int64 => "INT64",
            DataType::Float => "FLOAT",
            DataType::Double => "DOUBLE",
            DataType::Text => "TEXT",
        }
    }

    pub fn is_numeric(self) -> bool {
        !matches!(self, DataType::Boolean | DataType::Text)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value of a point.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Text(String),
}

impl Value {
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Bool(_) => DataType::Boolean,
            Value::I32(_) => DataType::Int32,
            Value::I64(_) => DataType::Int64,
            Value::F32(_) => DataType::Float,
            Value::F64(_) => DataType::Double,
            Value::Text(_) => DataType::Text,
        }
    }

    /// The value as f64 for numeric types (used by sum/avg and comparisons).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::I32(v) => Some(v as f64),
            Value::I64(v) => Some(v as f64),
            Value::F32(v) => Some(v as f64),
            Value::F64(v) => Some(v),
            _ => None,
        }
    }

    /// Converts to `target` when no information is lost (or, for FLOAT, when
    /// the conversion is the one IoTDB makes for a literal).
    /// This value in a type at least as wide (see [`DataType::join`]),
    /// exactly; `None` if `target` is not wider.
    pub fn widen(&self, target: DataType) -> Option<Value> {
        use Value::*;
        Some(match (self, target) {
            (v, t) if v.data_type() == t => v.clone(),
            (I32(v), DataType::Int64) => I64(*v as i64),
            (I32(v), DataType::Double) => F64(*v as f64),
            (F32(v), DataType::Double) => F64(*v as f64),
            (v, DataType::Text) => Text(v.canonical_text()),
            _ => return None,
        })
    }

    /// The inverse of [`Value::widen`]: this value (held in a wider type)
    /// as `target`, when it is exactly a widened `target` value. A series
    /// whose other types were dropped takes its narrower type again, and
    /// its stored values convert back.
    pub fn narrow(&self, target: DataType) -> Option<Value> {
        if self.data_type() == target {
            return Some(self.clone());
        }
        let candidate = match self {
            Value::Text(t) => match target {
                DataType::Boolean => Value::Bool(t.parse().ok()?),
                DataType::Int32 => Value::I32(t.parse().ok()?),
                DataType::Int64 => Value::I64(t.parse().ok()?),
                DataType::Float => Value::F32(t.parse().ok()?),
                DataType::Double => Value::F64(t.parse().ok()?),
                _ => return None,
            },
            other => other.convert(target)?,
        };
        (candidate.widen(self.data_type()).as_ref() == Some(self)).then_some(candidate)
    }

    /// This value (held in a type it may have been widened to) as
    /// `target` exactly: widened, or narrowed back to the type it was
    /// written as and widened from there (a DOUBLE that was an INT32 when
    /// the series is INT64 now). `None` when no type below `target` holds it.
    pub fn to_type_exact(&self, target: DataType) -> Option<Value> {
        if let Some(v) = self.widen(target) {
            return Some(v);
        }
        DataType::ALL
            .iter()
            .filter(|u| u.join(target) == target)
            .find_map(|&u| self.narrow(u)?.widen(target))
    }

    /// The text a value becomes when its series is widened to TEXT. The
    /// same whichever way it gets there (INT32 directly, or through DOUBLE;
    /// FLOAT directly, or through DOUBLE), so widening in steps and at once
    /// agree: whole doubles print as integers, FLOAT as the DOUBLE it is.
    fn canonical_text(&self) -> String {
        match self {
            Value::F32(v) => Value::F64(f64::from(*v)).canonical_text(),
            Value::F64(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => format!("{}", *v as i64),
            Value::F64(v) => format!("{v:?}"),
            other => other.to_string(),
        }
    }

    pub fn convert(&self, target: DataType) -> Option<Value> {
        use Value::*;
        Some(match (self, target) {
            (v, t) if v.data_type() == t => v.clone(),
            (I32(v), DataType::Int64) => I64(*v as i64),
            (I32(v), DataType::Double) => F64(*v as f64),
            (I32(v), DataType::Float) if (*v as f32) as i32 == *v => F32(*v as f32),
            (I64(v), DataType::Int32) => I32(i32::try_from(*v).ok()?),
            (I64(v), DataType::Double) if (*v as f64) as i64 == *v => F64(*v as f64),
            (I64(v), DataType::Float) if (*v as f32) as i64 == *v => F32(*v as f32),
            (F32(v), DataType::Double) => F64(*v as f64),
            (F64(v), DataType::Float) if v.is_finite() => F32(*v as f32),
            (F64(v), DataType::Int64) if v.fract() == 0.0 && v.abs() < 9.0e15 => I64(*v as i64),
            (F64(v), DataType::Int32) if v.fract() == 0.0 && v.abs() <= i32::MAX as f64 => {
                I32(*v as i32)
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            // `{:?}` keeps a decimal point on whole numbers (20.0, as IoTDB prints).
            Value::F32(v) => write!(f, "{v:?}"),
            Value::F64(v) => write!(f, "{v:?}"),
            Value::Text(v) => f.write_str(v),
        }
    }
}

/// A typed column of values (no nulls: absent points are simply not stored).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Text(Vec<String>),
}

macro_rules! each_column {
    ($col:expr, $v:ident => $body:expr) => {
        match $col {
            Column::Bool($v) => $body,
            Column::I32($v) => $body,
            Column::I64($v) => $body,
            Column::F32($v) => $body,
            Column::F64($v) => $body,
            Column::Text($v) => $body,
        }
    };
}

impl Column {
    pub fn new(dtype: DataType) -> Column {
        Column::with_capacity(dtype, 0)
    }

    pub fn with_capacity(dtype: DataType, n: usize) -> Column {
        match dtype {
            DataType::Boolean => Column::Bool(Vec::with_capacity(n)),
            DataType::Int32 => Column::I32(Vec::with_capacity(n)),
            DataType::Int64 => Column::I64(Vec::with_capacity(n)),
            DataType::Float => Column::F32(Vec::with_capacity(n)),
            DataType::Double => Column::F64(Vec::with_capacity(n)),
            DataType::Text => Column::Text(Vec::with_capacity(n)),
        }
    }

    pub fn data_type(&self) -> DataType {
        match self {
            Column::Bool(_) => DataType::Boolean,
            Column::I32(_) => DataType::Int32,
            Column::I64(_) => DataType::Int64,
            Column::F32(_) => DataType::Float,
            Column::F64(_) => DataType::Double,
            Column::Text(_) => DataType::Text,
        }
    }

    pub fn len(&self) -> usize {
        each_column!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<Value> {
        Some(match self {
            Column::Bool(v) => Value::Bool(*v.get(i)?),
            Column::I32(v) => Value::I32(*v.get(i)?),
            Column::I64(v) => Value::I64(*v.get(i)?),
            Column::F32(v) => Value::F32(*v.get(i)?),
            Column::F64(v) => Value::F64(*v.get(i)?),
            Column::Text(v) => Value::Text(v.get(i)?.clone()),
        })
    }

    /// Bytes element `i` takes encoded (without copying it): 8 for a
    /// number, the length of a text; 0 past the end.
    pub fn byte_len_at(&self, i: usize) -> usize {
        match self {
            Column::Text(v) => v.get(i).map_or(0, String::len),
            _ if i < self.len() => 8,
            _ => 0,
        }
    }

    /// Appends `value`, converting it to the column's type; false if it does not fit.
    pub fn push(&mut self, value: &Value) -> bool {
        let Some(v) = value.convert(self.data_type()) else {
            return false;
        };
        match (self, v) {
            (Column::Bool(c), Value::Bool(x)) => c.push(x),
            (Column::I32(c), Value::I32(x)) => c.push(x),
            (Column::I64(c), Value::I64(x)) => c.push(x),
            (Column::F32(c), Value::F32(x)) => c.push(x),
            (Column::F64(c), Value::F64(x)) => c.push(x),
            (Column::Text(c), Value::Text(x)) => c.push(x),
            _ => return false,
        }
        true
    }

    /// Appends element `i` of `other` (same type).
    pub(crate) fn push_from(&mut self, other: &Column, i: usize) {
        match (self, other) {
            (Column::Bool(a), Column::Bool(b)) => a.push(b[i]),
            (Column::I32(a), Column::I32(b)) => a.push(b[i]),
            (Column::I64(a), Column::I64(b)) => a.push(b[i]),
            (Column::F32(a), Column::F32(b)) => a.push(b[i]),
            (Column::F64(a), Column::F64(b)) => a.push(b[i]),
            (Column::Text(a), Column::Text(b)) => a.push(b[i].clone()),
            _ => debug_assert!(false, "push_from across types"),
        }
    }

    /// Total order on element `i` of `a` and `j` of `b`, used only to break
    /// exact version ties deterministically. It compares the values' TEXT
    /// forms, which widening preserves, so the pick is the same whether the
    /// chunks are merged before or after their series is widened.
    pub(crate) fn cmp_at(a: &Column, i: usize, b: &Column, j: usize) -> std::cmp::Ordering {
        let text = |c: &Column, k: usize| match c.get(k)?.widen(DataType::Text)? {
            Value::Text(s) => Some(s),
            _ => None,
        };
        text(a, i).cmp(&text(b, j))
    }

    /// Keeps the elements whose index is in `keep` (ascending).
    /// The values at `keep` (indices into this column).
    pub fn select(&self, keep: &[usize]) -> Column {
        let mut out = Column::with_capacity(self.data_type(), keep.len());
        for &i in keep {
            out.push_from(self, i);
        }
        out
    }

    /// Every value widened exactly to `target` (see [`Value::widen`]).
    pub fn widen_to(&self, target: DataType) -> Option<Column> {
        if self.data_type() == target {
            return Some(self.clone());
        }
        let mut out = Column::with_capacity(target, self.len());
        for i in 0..self.len() {
            if !out.push(&self.get(i)?.widen(target)?) {
                return None;
            }
        }
        Some(out)
    }

    /// Every value as `target` exactly (see [`Value::to_type_exact`]):
    /// chunks merged before or after their series changed type.
    pub fn to_type_exact(&self, target: DataType) -> Option<Column> {
        if let Some(c) = self.widen_to(target) {
            return Some(c);
        }
        let mut out = Column::with_capacity(target, self.len());
        for i in 0..self.len() {
            if !out.push(&self.get(i)?.to_type_exact(target)?) {
                return None;
            }
        }
        Some(out)
    }

    /// Every value converted to `target`, or `None` if one does not fit.
    pub fn convert_to(&self, target: DataType) -> Option<Column> {
        let mut out = Column::with_capacity(target, self.len());
        for i in 0..self.len() {
            if !out.push(&self.get(i)?) {
                return None;
            }
        }
        Some(out)
    }

    pub(crate) fn reverse(&mut self) {
        each_column!(self, v => v.reverse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: DataType) -> Value {
        match t {
            DataType::Boolean => Value::Bool(true),
            DataType::Int32 => Value::I32(i32::MAX),
            DataType::Int64 => Value::I64(i64::MAX - 1),
            DataType::Float => Value::F32(0.1),
            DataType::Double => Value::F64(0.1),
            DataType::Text => Value::Text("x".into()),
        }
    }

    #[test]
    fn narrowing_undoes_widening_and_nothing_else() {
        for a in DataType::ALL {
            for b in DataType::ALL {
                let j = a.join(b);
                for v in [sample(a), Value::I32(-7), Value::F64(2.0), Value::F32(1.5)] {
                    if v.data_type() != a {
                        continue;
                    }
                    let w = v.widen(j).unwrap();
                    assert_eq!(w.narrow(a), Some(v.clone()), "{v:?} via {j}");
                }
            }
        }
        // A value that was not written as the narrower type stays put.
        assert_eq!(Value::Text("1.5".into()).narrow(DataType::Int64), None);
        assert_eq!(Value::Text("x".into()).narrow(DataType::Double), None);
        assert_eq!(Value::F64(0.1).narrow(DataType::Float), None);
        assert_eq!(Value::I64(1 << 40).narrow(DataType::Int32), None);
    }

    /// A value stored widened, read as another type its series took after
    /// a drop: through the type it was written as, never approximately.
    #[test]
    fn a_stored_value_converts_exactly_or_not_at_all() {
        let cases = [
            (Value::F64(2.0), DataType::Int64, Some(Value::I64(2))),
            (Value::F64(0.5), DataType::Int64, None),
            (
                Value::Text("3".into()),
                DataType::Double,
                Some(Value::F64(3.0)),
            ),
            (Value::Text("x".into()), DataType::Double, None),
            (Value::I32(7), DataType::Text, Some(Value::Text("7".into()))),
            (Value::F64(1e300), DataType::Int32, None),
        ];
        for (v, t, want) in cases {
            assert_eq!(v.to_type_exact(t), want, "{v:?} as {t}");
        }
    }

    #[test]
    fn join_is_a_semilattice_and_widening_is_exact() {
        for a in DataType::ALL {
            assert_eq!(a.join(a), a);
            for b in DataType::ALL {
                let j = a.join(b);
                assert_eq!(j, b.join(a), "{a} {b}");
                for c in DataType::ALL {
                    assert_eq!(a.join(b).join(c), a.join(b.join(c)), "{a} {b} {c}");
                }
                // Both sides widen into the join, and back exactly.
                for t in [a, b] {
                    let v = sample(t);
                    let w = v.widen(j).unwrap_or_else(|| panic!("{t} into {j}"));
                    assert_eq!(w.data_type(), j);
                    if j != DataType::Text {
                        assert_eq!(w.convert(t), Some(v.clone()), "{t} via {j}");
                    }
                    // In steps or at once: the same text.
                    let at_once = v.widen(DataType::Text).unwrap();
                    assert_eq!(w.widen(DataType::Text), Some(at_once), "{t} via {j}");
                }
            }
        }
        assert_eq!(DataType::Float.join(DataType::Double), DataType::Double);
        assert_eq!(DataType::Int32.join(DataType::Int64), DataType::Int64);
        assert_eq!(DataType::Int32.join(DataType::Float), DataType::Double);
        assert_eq!(DataType::Int64.join(DataType::Double), DataType::Text);
        assert_eq!(DataType::Boolean.join(DataType::Int32), DataType::Text);
        assert_eq!(Value::I64(5).widen(DataType::Int32), None, "never narrows");
    }
}

//! Values and typed columns as the engine stores them.

use std::fmt;

/// Column types of IoTDB's tree model. The discriminants are stored on disk.
///
/// TIMESTAMP, DATE, STRING and BLOB are IoTDB 1.3's newer types: a
/// TIMESTAMP is an i64 (milliseconds since the epoch), a DATE an i32
/// written as yyyyMMdd, a STRING text and a BLOB arbitrary bytes. They are
/// kept as themselves (stored, replicated and returned with their own type),
/// not folded into INT64/INT32/TEXT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    Boolean = 0,
    Int32 = 1,
    Int64 = 2,
    Float = 3,
    Double = 4,
    Text = 5,
    Timestamp = 6,
    Date = 7,
    Blob = 8,
    String = 9,
}

impl DataType {
    /// The narrowest type that holds every value of both exactly: what a
    /// series becomes when the two nodes wrote it with different types.
    /// Commutative, associative and idempotent, so both nodes reach the same
    /// type whatever order the writes arrive in. INT32 and INT64 join to
    /// INT64; FLOAT and DOUBLE, or INT32 and either, to DOUBLE; anything
    /// else (BOOLEAN with a number, INT64 with a float) to TEXT. TIMESTAMP,
    /// DATE and STRING sit just below the type that holds them (INT64,
    /// INT32, TEXT) and join as that type with anything else; BLOB holds
    /// every value (as its text's bytes), so anything joined with a BLOB is
    /// a BLOB.
    pub fn join(self, other: DataType) -> DataType {
        use DataType::*;
        if self == other {
            return self;
        }
        if self == Blob || other == Blob {
            return Blob;
        }
        let (a, b) = (self.base(), other.base());
        if a == b {
            return a;
        }
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        match (a, b) {
            (Int32, Int64) => Int64,
            (Float, Double) | (Int32, Float) | (Int32, Double) => Double,
            _ => Text,
        }
    }

    /// The type among IoTDB's first six that holds this one's values as
    /// they are: TIMESTAMP → INT64, DATE → INT32, STRING → TEXT; itself
    /// otherwise (BLOB stays BLOB).
    pub fn base(self) -> DataType {
        match self {
            DataType::Timestamp => DataType::Int64,
            DataType::Date => DataType::Int32,
            DataType::String => DataType::Text,
            t => t,
        }
    }

    pub const ALL: [DataType; 10] = [
        DataType::Boolean,
        DataType::Int32,
        DataType::Int64,
        DataType::Float,
        DataType::Double,
        DataType::Text,
        DataType::Timestamp,
        DataType::Date,
        DataType::Blob,
        DataType::String,
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
            DataType::Timestamp => "TIMESTAMP",
            DataType::Date => "DATE",
            DataType::Blob => "BLOB",
            DataType::String => "STRING",
        }
    }

    /// The type IoTDB names `name` (any case), if it is one.
    pub fn from_name(name: &str) -> Option<DataType> {
        DataType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// Numbers that aggregate (sum, avg, ...): not TIMESTAMP or DATE,
    /// which IoTDB keeps to count, first/last and min/max.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Int32 | DataType::Int64 | DataType::Float | DataType::Double
        )
    }

    /// Values compare in order (min/max and range filters apply).
    pub fn is_ordered(self) -> bool {
        self.is_numeric() || matches!(self, DataType::Timestamp | DataType::Date)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A DATE as IoTDB writes it in its int form: yyyyMMdd, a real calendar day
/// between 1000-01-01 and 9999-12-31 (IoTDB's range).
pub fn date_is_valid(v: i32) -> bool {
    let (y, m, d) = (v / 10_000, (v / 100) % 100, v % 100);
    if !(1000..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

/// `2024-01-31` (or `2024-1-31`) as yyyyMMdd, if it is a valid DATE.
pub fn parse_date(s: &str) -> Option<i32> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: i32 = parts.next()?.parse().ok()?;
    let d: i32 = parts.next()?.parse().ok()?;
    if !(0..=99).contains(&m) || !(0..=99).contains(&d) {
        return None;
    }
    let v = y.checked_mul(10_000)?.checked_add(m * 100 + d)?;
    date_is_valid(v).then_some(v)
}

/// yyyyMMdd as IoTDB prints a DATE: `2024-01-31`.
pub fn format_date(v: i32) -> String {
    format!("{:04}-{:02}-{:02}", v / 10_000, (v / 100) % 100, v % 100)
}

/// Bytes as IoTDB prints a BLOB: `0x` and lowercase hex.
pub fn format_blob(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
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
    Timestamp(i64),
    /// yyyyMMdd.
    Date(i32),
    Blob(Vec<u8>),
    Str(String),
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
            Value::Timestamp(_) => DataType::Timestamp,
            Value::Date(_) => DataType::Date,
            Value::Blob(_) => DataType::Blob,
            Value::Str(_) => DataType::String,
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

    /// The value as its base type (see [`DataType::base`]): a TIMESTAMP as
    /// the INT64 it holds, and so on.
    pub fn to_base(&self) -> Value {
        match self {
            Value::Timestamp(v) => Value::I64(*v),
            Value::Date(v) => Value::I32(*v),
            Value::Str(s) => Value::Text(s.clone()),
            other => other.clone(),
        }
    }

    /// The text of a TEXT, STRING or (UTF-8) BLOB value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) | Value::Str(s) => Some(s),
            Value::Blob(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// This value in a type at least as wide (see [`DataType::join`]),
    /// exactly; `None` if `target` is not wider.
    pub fn widen(&self, target: DataType) -> Option<Value> {
        use Value::*;
        Some(match (self, target) {
            (v, t) if v.data_type() == t => v.clone(),
            (v, DataType::Blob) => Blob(v.canonical_text().into_bytes()),
            (Blob(_), _) => return None,
            (v, DataType::Text) => Text(v.canonical_text()),
            (Timestamp(_) | Date(_) | Str(_), t) => return self.to_base().widen(t),
            (I32(v), DataType::Int64) => I64(*v as i64),
            (I32(v), DataType::Double) => F64(*v as f64),
            (F32(v), DataType::Double) => F64(*v as f64),
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
            Value::Blob(b) => Value::Text(String::from_utf8(b.clone()).ok()?).narrow(target)?,
            Value::Text(t) => match target {
                DataType::Boolean => Value::Bool(t.parse().ok()?),
                DataType::Int32 => Value::I32(t.parse().ok()?),
                DataType::Int64 => Value::I64(t.parse().ok()?),
                DataType::Float => Value::F32(t.parse().ok()?),
                DataType::Double => Value::F64(t.parse().ok()?),
                DataType::Timestamp => Value::Timestamp(t.parse().ok()?),
                DataType::Date => Value::Date(t.parse().ok().filter(|v| date_is_valid(*v))?),
                DataType::String => Value::Str(t.clone()),
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
    /// FLOAT directly, or through DOUBLE; a TIMESTAMP directly or as an
    /// INT64), so widening in steps and at once agree: whole doubles print
    /// as integers, FLOAT as the DOUBLE it is, TIMESTAMP and DATE as their
    /// numbers.
    fn canonical_text(&self) -> String {
        match self {
            Value::F32(v) => Value::F64(f64::from(*v)).canonical_text(),
            Value::F64(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => format!("{}", *v as i64),
            Value::F64(v) => format!("{v:?}"),
            Value::Timestamp(v) => v.to_string(),
            Value::Date(v) => v.to_string(),
            Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
            other => other.to_string(),
        }
    }

    /// Converts to `target` when no information is lost (or, for FLOAT, when
    /// the conversion is the one IoTDB makes for a literal).
    pub fn convert(&self, target: DataType) -> Option<Value> {
        use Value::*;
        Some(match (self, target) {
            (v, t) if v.data_type() == t => v.clone(),
            (Timestamp(_) | Date(_) | Str(_), t) => return self.to_base().convert(t),
            (Text(s), DataType::Date) => Date(parse_date(s)?),
            (v, DataType::Timestamp) => match v.convert(DataType::Int64)? {
                I64(x) => Timestamp(x),
                _ => return None,
            },
            (v, DataType::Date) => match v.convert(DataType::Int32)? {
                I32(x) if date_is_valid(x) => Date(x),
                _ => return None,
            },
            (Text(s), DataType::String) => Str(s.clone()),
            (Text(s), DataType::Blob) => Blob(s.clone().into_bytes()),
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
            Value::Text(v) | Value::Str(v) => f.write_str(v),
            Value::Timestamp(v) => write!(f, "{v}"),
            Value::Date(v) => f.write_str(&format_date(*v)),
            Value::Blob(b) => f.write_str(&format_blob(b)),
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
    Timestamp(Vec<i64>),
    Date(Vec<i32>),
    Blob(Vec<Vec<u8>>),
    Str(Vec<String>),
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
            Column::Timestamp($v) => $body,
            Column::Date($v) => $body,
            Column::Blob($v) => $body,
            Column::Str($v) => $body,
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
            DataType::Timestamp => Column::Timestamp(Vec::with_capacity(n)),
            DataType::Date => Column::Date(Vec::with_capacity(n)),
            DataType::Blob => Column::Blob(Vec::with_capacity(n)),
            DataType::String => Column::Str(Vec::with_capacity(n)),
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
            Column::Timestamp(_) => DataType::Timestamp,
            Column::Date(_) => DataType::Date,
            Column::Blob(_) => DataType::Blob,
            Column::Str(_) => DataType::String,
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
            Column::Timestamp(v) => Value::Timestamp(*v.get(i)?),
            Column::Date(v) => Value::Date(*v.get(i)?),
            Column::Blob(v) => Value::Blob(v.get(i)?.clone()),
            Column::Str(v) => Value::Str(v.get(i)?.clone()),
        })
    }

    /// Bytes element `i` takes encoded (without copying it): 8 for a
    /// number, the length of a text; 0 past the end.
    pub fn byte_len_at(&self, i: usize) -> usize {
        match self {
            Column::Text(v) | Column::Str(v) => v.get(i).map_or(0, String::len),
            Column::Blob(v) => v.get(i).map_or(0, Vec::len),
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
            (Column::Timestamp(c), Value::Timestamp(x)) => c.push(x),
            (Column::Date(c), Value::Date(x)) => c.push(x),
            (Column::Blob(c), Value::Blob(x)) => c.push(x),
            (Column::Str(c), Value::Str(x)) => c.push(x),
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
            (Column::Timestamp(a), Column::Timestamp(b)) => a.push(b[i]),
            (Column::Date(a), Column::Date(b)) => a.push(b[i]),
            (Column::Blob(a), Column::Blob(b)) => a.push(b[i].clone()),
            (Column::Str(a), Column::Str(b)) => a.push(b[i].clone()),
            _ => debug_assert!(false, "push_from across types"),
        }
    }

    /// Total order on element `i` of `a` and `j` of `b`, used only to break
    /// exact version ties deterministically. It compares the values' bytes
    /// as BLOB (their TEXT forms' UTF-8 for every other type), which
    /// widening preserves, so the pick is the same whether the
    /// chunks are merged before or after their series is widened.
    pub(crate) fn cmp_at(a: &Column, i: usize, b: &Column, j: usize) -> std::cmp::Ordering {
        let text = |c: &Column, k: usize| match c.get(k)?.widen(DataType::Blob)? {
            Value::Blob(s) => Some(s),
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
            DataType::Timestamp => Value::Timestamp(1_700_000_000_123),
            DataType::Date => Value::Date(20240229),
            DataType::Blob => Value::Blob(vec![0, 0xff, 7]),
            DataType::String => Value::Str("s".into()),
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
                    if j != DataType::Text && j != DataType::Blob {
                        assert_eq!(w.convert(t), Some(v.clone()), "{t} via {j}");
                    }
                    // In steps or at once: the same bytes at the top.
                    let at_once = v.widen(DataType::Blob).unwrap();
                    assert_eq!(w.widen(DataType::Blob), Some(at_once), "{t} via {j}");
                }
            }
        }
        assert_eq!(DataType::Float.join(DataType::Double), DataType::Double);
        assert_eq!(DataType::Int32.join(DataType::Int64), DataType::Int64);
        assert_eq!(DataType::Int32.join(DataType::Float), DataType::Double);
        assert_eq!(DataType::Int64.join(DataType::Double), DataType::Text);
        assert_eq!(DataType::Boolean.join(DataType::Int32), DataType::Text);
        assert_eq!(Value::I64(5).widen(DataType::Int32), None, "never narrows");
        assert_eq!(DataType::Timestamp.join(DataType::Int64), DataType::Int64);
        assert_eq!(DataType::Date.join(DataType::Int64), DataType::Int64);
        assert_eq!(DataType::Timestamp.join(DataType::Date), DataType::Int64);
        assert_eq!(DataType::String.join(DataType::Text), DataType::Text);
        assert_eq!(DataType::String.join(DataType::Int32), DataType::Text);
        assert_eq!(DataType::Text.join(DataType::Blob), DataType::Blob);
        assert_eq!(DataType::Boolean.join(DataType::Blob), DataType::Blob);
    }

    #[test]
    fn dates_are_calendar_days() {
        assert_eq!(parse_date("2024-02-29"), Some(20240229));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("2024-1-5"), Some(20240105));
        assert_eq!(parse_date("x"), None);
        assert_eq!(format_date(20240105), "2024-01-05");
        assert!(!date_is_valid(0));
        assert_eq!(
            Value::I32(20240105).convert(DataType::Date),
            Some(Value::Date(20240105))
        );
        assert_eq!(Value::I32(20241305).convert(DataType::Date), None);
        assert_eq!(Value::Blob(vec![1, 0xab]).to_string(), "0x01ab");
        assert_eq!(Value::Date(20240105).to_string(), "2024-01-05");
    }
}

//! Typed values and columns shared by the insert decoders and the TsBlock
//! codec: the six storage types Duet keeps, independent of which of IoTDB's
//! logical types (TIMESTAMP, DATE, STRING, BLOB) a client used to send them.

use crate::error::{Error, Result};

/// A storage type. IoTDB's logical types map onto these: TIMESTAMP → Int64,
/// DATE (yyyyMMdd) → Int32, STRING and BLOB → Text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Boolean,
    Int32,
    Int64,
    Float,
    Double,
    Text,
}

/// IoTDB's `TSDataType` codes, as sent in insert requests.
pub mod ts_data_type {
    pub const BOOLEAN: i32 = 0;
    pub const INT32: i32 = 1;
    pub const INT64: i32 = 2;
    pub const FLOAT: i32 = 3;
    pub const DOUBLE: i32 = 4;
    pub const TEXT: i32 = 5;
    /// Internal to IoTDB; never valid in a request.
    pub const VECTOR: i32 = 6;
    /// Internal to IoTDB; never valid in a request.
    pub const UNKNOWN: i32 = 7;
    pub const TIMESTAMP: i32 = 8;
    pub const DATE: i32 = 9;
    pub const BLOB: i32 = 10;
    pub const STRING: i32 = 11;
}

impl DataType {
    /// Maps a `TSDataType` code to the storage type; 6, 7 and unknown codes
    /// are rejected.
    pub fn from_ts_code(code: i32, what: &'static str) -> Result<DataType> {
        use ts_data_type as t;
        match code {
            t::BOOLEAN => Ok(DataType::Boolean),
            t::INT32 | t::DATE => Ok(DataType::Int32),
            t::INT64 | t::TIMESTAMP => Ok(DataType::Int64),
            t::FLOAT => Ok(DataType::Float),
            t::DOUBLE => Ok(DataType::Double),
            t::TEXT | t::BLOB | t::STRING => Ok(DataType::Text),
            _ => Err(Error::UnknownType { what, code }),
        }
    }

    /// The `TSDataType` code used when Duet encodes a value of this type.
    /// It is also the TsBlock "physical" type byte.
    pub fn ts_code(self) -> i32 {
        use ts_data_type as t;
        match self {
            DataType::Boolean => t::BOOLEAN,
            DataType::Int32 => t::INT32,
            DataType::Int64 => t::INT64,
            DataType::Float => t::FLOAT,
            DataType::Double => t::DOUBLE,
            DataType::Text => t::TEXT,
        }
    }

    /// The name IoTDB clients expect in `dataTypeList` for this storage type.
    pub fn iotdb_name(self) -> &'static str {
        match self {
            DataType::Boolean => "BOOLEAN",
            DataType::Int32 => "INT32",
            DataType::Int64 => "INT64",
            DataType::Float => "FLOAT",
            DataType::Double => "DOUBLE",
            DataType::Text => "TEXT",
        }
    }
}

/// One value of an inserted record. Text holds raw bytes: UTF-8 for TEXT and
/// STRING, arbitrary for BLOB.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Text(Vec<u8>),
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
}

/// A typed column with one entry per row; `None` is a null cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    Bool(Vec<Option<bool>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
    Text(Vec<Option<Vec<u8>>>),
}

impl Column {
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
        match self {
            Column::Bool(v) => v.len(),
            Column::I32(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::F32(v) => v.len(),
            Column::F64(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `row` is null (out-of-range rows count as null).
    pub fn is_null(&self, row: usize) -> bool {
        match self {
            Column::Bool(v) => v.get(row).is_none_or(Option::is_none),
            Column::I32(v) => v.get(row).is_none_or(Option::is_none),
            Column::I64(v) => v.get(row).is_none_or(Option::is_none),
            Column::F32(v) => v.get(row).is_none_or(Option::is_none),
            Column::F64(v) => v.get(row).is_none_or(Option::is_none),
            Column::Text(v) => v.get(row).is_none_or(Option::is_none),
        }
    }

    pub fn has_nulls(&self) -> bool {
        (0..self.len()).any(|row| self.is_null(row))
    }

    /// The value at `row`, or `None` for a null cell or an out-of-range row.
    pub fn value(&self, row: usize) -> Option<Value> {
        match self {
            Column::Bool(v) => v.get(row).copied().flatten().map(Value::Bool),
            Column::I32(v) => v.get(row).copied().flatten().map(Value::I32),
            Column::I64(v) => v.get(row).copied().flatten().map(Value::I64),
            Column::F32(v) => v.get(row).copied().flatten().map(Value::F32),
            Column::F64(v) => v.get(row).copied().flatten().map(Value::F64),
            Column::Text(v) => v.get(row).cloned().flatten().map(Value::Text),
        }
    }
}

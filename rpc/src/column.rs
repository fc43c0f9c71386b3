//! Typed values and columns shared by the insert decoders and the TsBlock
//! codec: IoTDB's ten data types. TIMESTAMP, DATE, STRING and BLOB travel
//! as i64, i32 (yyyyMMdd) and length-prefixed bytes; in a TsBlock they are
//! declared by their physical type (see [`DataType::physical`]).

use crate::error::{Error, Result};

/// One of IoTDB's data types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Boolean,
    Int32,
    Int64,
    Float,
    Double,
    Text,
    Timestamp,
    /// yyyyMMdd as an i32.
    Date,
    Blob,
    String,
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
    /// Maps a `TSDataType` code to its type; 6, 7 and unknown codes are
    /// rejected.
    pub fn from_ts_code(code: i32, what: &'static str) -> Result<DataType> {
        use ts_data_type as t;
        match code {
            t::BOOLEAN => Ok(DataType::Boolean),
            t::INT32 => Ok(DataType::Int32),
            t::INT64 => Ok(DataType::Int64),
            t::FLOAT => Ok(DataType::Float),
            t::DOUBLE => Ok(DataType::Double),
            t::TEXT => Ok(DataType::Text),
            t::TIMESTAMP => Ok(DataType::Timestamp),
            t::DATE => Ok(DataType::Date),
            t::BLOB => Ok(DataType::Blob),
            t::STRING => Ok(DataType::String),
            _ => Err(Error::UnknownType { what, code }),
        }
    }

    /// The `TSDataType` code of this type (insert requests carry these).
    pub fn ts_code(self) -> i32 {
        use ts_data_type as t;
        match self {
            DataType::Boolean => t::BOOLEAN,
            DataType::Int32 => t::INT32,
            DataType::Int64 => t::INT64,
            DataType::Float => t::FLOAT,
            DataType::Double => t::DOUBLE,
            DataType::Text => t::TEXT,
            DataType::Timestamp => t::TIMESTAMP,
            DataType::Date => t::DATE,
            DataType::Blob => t::BLOB,
            DataType::String => t::STRING,
        }
    }

    /// The type whose bytes this one's values travel as in a TsBlock:
    /// TIMESTAMP as INT64, DATE as INT32, STRING and BLOB as TEXT (IoTDB's
    /// own TsBlocks declare them so, and the Python client accepts nothing
    /// else).
    pub fn physical(self) -> DataType {
        match self {
            DataType::Timestamp => DataType::Int64,
            DataType::Date => DataType::Int32,
            DataType::Blob | DataType::String => DataType::Text,
            t => t,
        }
    }

    /// The name IoTDB clients expect in `dataTypeList` for this type.
    pub fn iotdb_name(self) -> &'static str {
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
}

/// One value of an inserted record. Text and Str hold raw bytes (UTF-8 when
/// the client is well behaved; the server checks).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Text(Vec<u8>),
    Timestamp(i64),
    Date(i32),
    Blob(Vec<u8>),
    Str(Vec<u8>),
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
    Timestamp(Vec<Option<i64>>),
    Date(Vec<Option<i32>>),
    Blob(Vec<Option<Vec<u8>>>),
    Str(Vec<Option<Vec<u8>>>),
}

/// `$body` with `$v` bound to the cells of whichever variant `$col` is.
#[macro_export]
macro_rules! each_wire_column {
    ($col:expr, $v:ident => $body:expr) => {
        match $col {
            $crate::column::Column::Bool($v) => $body,
            $crate::column::Column::I32($v) => $body,
            $crate::column::Column::I64($v) => $body,
            $crate::column::Column::F32($v) => $body,
            $crate::column::Column::F64($v) => $body,
            $crate::column::Column::Text($v) => $body,
            $crate::column::Column::Timestamp($v) => $body,
            $crate::column::Column::Date($v) => $body,
            $crate::column::Column::Blob($v) => $body,
            $crate::column::Column::Str($v) => $body,
        }
    };
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
            Column::Timestamp(_) => DataType::Timestamp,
            Column::Date(_) => DataType::Date,
            Column::Blob(_) => DataType::Blob,
            Column::Str(_) => DataType::String,
        }
    }

    pub fn len(&self) -> usize {
        each_wire_column!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `row` is null (out-of-range rows count as null).
    pub fn is_null(&self, row: usize) -> bool {
        each_wire_column!(self, v => v.get(row).is_none_or(Option::is_none))
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
            Column::Timestamp(v) => v.get(row).copied().flatten().map(Value::Timestamp),
            Column::Date(v) => v.get(row).copied().flatten().map(Value::Date),
            Column::Blob(v) => v.get(row).cloned().flatten().map(Value::Blob),
            Column::Str(v) => v.get(row).cloned().flatten().map(Value::Str),
        }
    }
}

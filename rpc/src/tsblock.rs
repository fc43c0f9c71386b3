//! TsBlock, the query result format of IoTDB's V2 calls
//! (`TSExecuteStatementResp.queryResult`, `TSFetchResultsResp.queryResult`),
//! byte-compatible with Java's `TsBlockSerde` and the Python client's
//! `tsblock_serde.py`. All integers are big-endian:
//!
//! ```text
//! i32      value column count N
//! u8 × N   physical type per value column (BOOLEAN 0 INT32 1 INT64 2 FLOAT 3 DOUBLE 4 TEXT 5)
//! i32      row count
//! u8 × N+1 column encodings: time column first (always INT64_ARRAY), then the values
//! time column, value columns 0..N
//! ```
//!
//! Each column: `u8 mayHaveNull`; if 1, a null bitmap of ceil(rows/8) bytes,
//! MSB-first (row i is bit `0x80 >> i%8` of byte `i/8`), 1 = NULL; then the
//! values of the non-null rows (i32/f32 for INT32_ARRAY, i64/f64 for
//! INT64_ARRAY, i32 length + bytes for BINARY_ARRAY). BYTE_ARRAY (booleans)
//! is instead a packed MSB-first bitmap over all rows, null rows included.
//!
//! The encoder only writes the types above (logical TIMESTAMP/DATE/STRING/BLOB
//! go out as their physical type; their names go in `dataTypeList`) and never
//! RLE or DICTIONARY, which the Python client cannot read.

use crate::column::{Column, DataType};
use crate::error::{Error, Result};
use crate::wire::Cursor;

/// Column encoding ids of the TsBlock format.
pub mod encoding {
    pub const BYTE_ARRAY: u8 = 0;
    pub const INT32_ARRAY: u8 = 1;
    pub const INT64_ARRAY: u8 = 2;
    pub const BINARY_ARRAY: u8 = 3;
    pub const RLE: u8 = 4;
    pub const DICTIONARY: u8 = 5;
}

/// Rows of one result page: a time column and typed value columns of the
/// same length.
#[derive(Clone, Debug, PartialEq)]
pub struct TsBlock {
    times: Vec<i64>,
    columns: Vec<Column>,
}

impl TsBlock {
    /// Checks that every column has one entry per timestamp and that counts
    /// and text lengths fit the format's i32 fields.
    pub fn new(times: Vec<i64>, columns: Vec<Column>) -> Result<TsBlock> {
        const WHAT: &str = "TsBlock";
        if i32::try_from(times.len()).is_err() || i32::try_from(columns.len()).is_err() {
            return Err(Error::invalid(WHAT, "more than i32::MAX rows or columns"));
        }
        for (i, column) in columns.iter().enumerate() {
            if column.len() != times.len() {
                return Err(Error::invalid(
                    WHAT,
                    format!(
                        "value column {i} has {} rows, the time column {}",
                        column.len(),
                        times.len()
                    ),
                ));
            }
            if let Column::Text(values) | Column::Blob(values) | Column::Str(values) = column {
                if values
                    .iter()
                    .flatten()
                    .any(|v| i32::try_from(v.len()).is_err())
                {
                    return Err(Error::invalid(
                        WHAT,
                        format!("value column {i} has a value above i32::MAX bytes"),
                    ));
                }
            }
        }
        Ok(TsBlock { times, columns })
    }

    pub fn times(&self) -> &[i64] {
        &self.times
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn row_count(&self) -> usize {
        self.times.len()
    }

    pub fn into_parts(self) -> (Vec<i64>, Vec<Column>) {
        (self.times, self.columns)
    }

    /// Serializes the block (one element of `queryResult`).
    pub fn encode(&self) -> Vec<u8> {
        let rows = self.times.len();
        let mut out = Vec::with_capacity(rows.saturating_mul(8).saturating_add(9));
        // `new` checked that both counts fit in i32.
        out.extend_from_slice(&(self.columns.len() as i32).to_be_bytes());
        for column in &self.columns {
            out.push(column.data_type().physical().ts_code() as u8);
        }
        out.extend_from_slice(&(rows as i32).to_be_bytes());
        out.push(encoding::INT64_ARRAY);
        for column in &self.columns {
            out.push(encoding_of(column.data_type()));
        }
        out.push(0); // the time column has no nulls
        for t in &self.times {
            out.extend_from_slice(&t.to_be_bytes());
        }
        for column in &self.columns {
            encode_column(&mut out, column);
        }
        out
    }

    /// Parses one serialized block. Bad bytes give an error naming the part
    /// that did not fit; RLE and DICTIONARY columns are not supported.
    pub fn decode(bytes: &[u8]) -> Result<TsBlock> {
        let mut cur = Cursor::new(bytes);
        let n = cur.count("TsBlock value column count")?;
        let types = cur.take(n, "TsBlock column types")?;
        let rows = cur.count("TsBlock row count")?;
        let time_encoding = cur.u8("TsBlock time column encoding")?;
        let encodings = cur.take(n, "TsBlock column encodings")?;

        if time_encoding != encoding::INT64_ARRAY {
            return Err(Error::invalid(
                "TsBlock time column",
                format!("encoding {time_encoding}, expected INT64_ARRAY (2)"),
            ));
        }
        if cur.u8("TsBlock time column null flag")? != 0 {
            return Err(Error::invalid("TsBlock time column", "may have nulls"));
        }
        cur.require_items(rows, 8, "TsBlock time column")?;
        let mut times = Vec::with_capacity(rows);
        for _ in 0..rows {
            times.push(cur.i64("TsBlock time column")?);
        }

        let mut columns = Vec::with_capacity(n);
        for (&type_byte, &enc) in types.iter().zip(encodings) {
            let data_type = physical_type(type_byte, enc)?;
            columns.push(decode_column(&mut cur, data_type, rows)?);
        }
        cur.finish("TsBlock")?;
        Ok(TsBlock { times, columns })
    }
}

fn encoding_of(data_type: DataType) -> u8 {
    match data_type.physical() {
        DataType::Boolean => encoding::BYTE_ARRAY,
        DataType::Int32 | DataType::Float => encoding::INT32_ARRAY,
        DataType::Int64 | DataType::Double => encoding::INT64_ARRAY,
        _ => encoding::BINARY_ARRAY,
    }
}

/// The storage type of a value column from its header type byte, checked
/// against its encoding. Logical codes (TIMESTAMP 8, DATE 9, BLOB 10,
/// STRING 11) are accepted too, as the Python client does.
fn physical_type(type_byte: u8, enc: u8) -> Result<DataType> {
    const WHAT: &str = "TsBlock value column";
    if enc == encoding::RLE || enc == encoding::DICTIONARY {
        return Err(Error::invalid(
            WHAT,
            format!("encoding {enc} (RLE/DICTIONARY) is not supported"),
        ));
    }
    let data_type = DataType::from_ts_code(i32::from(type_byte), WHAT)?;
    if encoding_of(data_type) != enc {
        return Err(Error::invalid(
            WHAT,
            format!("type {type_byte} cannot use encoding {enc}"),
        ));
    }
    Ok(data_type)
}

/// Packs flags MSB-first: flag i is bit `0x80 >> (i % 8)` of byte `i / 8`.
fn pack_msb_first(flags: impl Iterator<Item = bool>, rows: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; rows.div_ceil(8)];
    for (i, flag) in flags.enumerate() {
        if let (true, Some(byte)) = (flag, bytes.get_mut(i / 8)) {
            *byte |= 0x80 >> (i % 8);
        }
    }
    bytes
}

fn unpack_msb_first(bytes: &[u8], rows: usize) -> Vec<bool> {
    (0..rows)
        .map(|i| bytes.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0))
        .collect()
}

fn encode_column(out: &mut Vec<u8>, column: &Column) {
    let rows = column.len();
    if column.has_nulls() {
        out.push(1);
        out.extend(pack_msb_first(
            (0..rows).map(|row| column.is_null(row)),
            rows,
        ));
    } else {
        out.push(0);
    }
    match column {
        Column::Bool(v) => out.extend(pack_msb_first(v.iter().map(|b| b.unwrap_or(false)), rows)),
        Column::I32(v) => v
            .iter()
            .flatten()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        Column::I64(v) | Column::Timestamp(v) => v
            .iter()
            .flatten()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        Column::Date(v) => v
            .iter()
            .flatten()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        Column::F32(v) => v
            .iter()
            .flatten()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        Column::F64(v) => v
            .iter()
            .flatten()
            .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        Column::Text(v) | Column::Blob(v) | Column::Str(v) => {
            for value in v.iter().flatten() {
                // `TsBlock::new` checked that every length fits in i32.
                out.extend_from_slice(&(value.len() as i32).to_be_bytes());
                out.extend_from_slice(value);
            }
        }
    }
}

/// Reads `rows` values, calling `read` for non-null rows only.
fn read_values<T>(
    nulls: &Option<Vec<bool>>,
    rows: usize,
    mut read: impl FnMut() -> Result<T>,
) -> Result<Vec<Option<T>>> {
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let is_null = nulls
            .as_ref()
            .is_some_and(|n| n.get(row).copied().unwrap_or(true));
        out.push(if is_null { None } else { Some(read()?) });
    }
    Ok(out)
}

fn decode_column(cur: &mut Cursor<'_>, data_type: DataType, rows: usize) -> Result<Column> {
    const WHAT: &str = "TsBlock value column";
    let nulls = match cur.u8("TsBlock null flag")? {
        0 => None,
        1 => Some(unpack_msb_first(
            cur.take(rows.div_ceil(8), "TsBlock null bitmap")?,
            rows,
        )),
        other => {
            return Err(Error::invalid(
                WHAT,
                format!("null flag {other}, expected 0 or 1"),
            ))
        }
    };
    let present = nulls
        .as_ref()
        .map_or(rows, |n| n.iter().filter(|null| !**null).count());
    Ok(match data_type {
        DataType::Boolean => {
            // Unlike the other encodings, the value bitmap covers null rows too.
            let bits =
                unpack_msb_first(cur.take(rows.div_ceil(8), "TsBlock boolean values")?, rows);
            let is_null = |row: usize| {
                nulls
                    .as_ref()
                    .is_some_and(|n| n.get(row).copied().unwrap_or(true))
            };
            Column::Bool(
                bits.into_iter()
                    .enumerate()
                    .map(|(row, bit)| (!is_null(row)).then_some(bit))
                    .collect(),
            )
        }
        DataType::Int32 => {
            cur.require_items(present, 4, "TsBlock INT32 values")?;
            Column::I32(read_values(&nulls, rows, || {
                cur.i32("TsBlock INT32 value")
            })?)
        }
        DataType::Float => {
            cur.require_items(present, 4, "TsBlock FLOAT values")?;
            Column::F32(read_values(&nulls, rows, || {
                cur.f32("TsBlock FLOAT value")
            })?)
        }
        DataType::Int64 => {
            cur.require_items(present, 8, "TsBlock INT64 values")?;
            Column::I64(read_values(&nulls, rows, || {
                cur.i64("TsBlock INT64 value")
            })?)
        }
        DataType::Double => {
            cur.require_items(present, 8, "TsBlock DOUBLE values")?;
            Column::F64(read_values(&nulls, rows, || {
                cur.f64("TsBlock DOUBLE value")
            })?)
        }
        DataType::Timestamp => {
            cur.require_items(present, 8, "TsBlock TIMESTAMP values")?;
            Column::Timestamp(read_values(&nulls, rows, || {
                cur.i64("TsBlock TIMESTAMP value")
            })?)
        }
        DataType::Date => {
            cur.require_items(present, 4, "TsBlock DATE values")?;
            Column::Date(read_values(&nulls, rows, || cur.i32("TsBlock DATE value"))?)
        }
        DataType::Text | DataType::Blob | DataType::String => {
            cur.require_items(present, 4, "TsBlock TEXT values")?;
            let values = read_values(&nulls, rows, || {
                Ok(cur.len_prefixed("TsBlock TEXT value")?.to_vec())
            })?;
            match data_type {
                DataType::Blob => Column::Blob(values),
                DataType::String => Column::Str(values),
                _ => Column::Text(values),
            }
        }
    })
}

#[cfg(test)]
mod tests;

//! The binary payloads of IoTDB's insert requests, decoded into typed values
//! (and encoded, for the CLI and tests). All integers are big-endian.
//!
//! `TSInsertRecordReq.values` (also each element of `valuesList`): per
//! measurement a `u8` TSDataType code, then the value — bool 1 byte, i32,
//! i64, f32, f64, or i32 length + bytes for TEXT/STRING/BLOB. No null marker:
//! clients drop null measurements.
//!
//! `TSInsertTabletReq`: `timestamps` = `size` × i64; `values` = the columns
//! one after another, `size` cells each (fixed width, or i32 length + bytes
//! for text; null cells are present as zero values); then, only if some cell
//! is null, per column `u8 hasBitmap` and, if 1, `size/8 + 1` bytes of an
//! LSB-first bitmap (row j is bit `1 << j%8` of byte `j/8`), 1 = null. The
//! section is detected by bytes remaining after the columns.
//!
//! Every count and length is checked against the bytes remaining before
//! anything is allocated for it.

use crate::column::{Column, DataType, Value};
use crate::error::{Error, Result};
use crate::generated::TSInsertTabletReq;
use crate::wire::{put_len_prefixed, Cursor};

// ------------------------------------------------------------------ records

/// Decodes a record's `values` for `measurement_count` measurements.
pub fn decode_record_values(values: &[u8], measurement_count: usize) -> Result<Vec<Value>> {
    record_values(values, measurement_count)?.collect()
}

/// A record's `values`, decoded one at a time, so a server can account for
/// each value before it keeps it. After the last value, trailing bytes are
/// reported as one final error.
pub fn record_values(values: &[u8], measurement_count: usize) -> Result<RecordValues<'_>> {
    let cur = Cursor::new(values);
    // Each value takes at least 2 bytes (type code + a bool).
    cur.require_items(measurement_count, 2, "record values")?;
    Ok(RecordValues {
        cur,
        left: measurement_count,
        done: false,
    })
}

/// The iterator [`record_values`] returns.
pub struct RecordValues<'a> {
    cur: Cursor<'a>,
    left: usize,
    done: bool,
}

impl Iterator for RecordValues<'_> {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        if self.done {
            return None;
        }
        if self.left == 0 {
            self.done = true;
            return self.cur.finish("record values").err().map(Err);
        }
        self.left -= 1;
        let value = self.cur.u8("record value type").and_then(|code| {
            let data_type = DataType::from_ts_code(i32::from(code), "record value type")?;
            read_value(&mut self.cur, data_type)
        });
        if value.is_err() {
            self.done = true;
        }
        Some(value)
    }
}

fn read_value(cur: &mut Cursor<'_>, data_type: DataType) -> Result<Value> {
    Ok(match data_type {
        DataType::Boolean => Value::Bool(read_bool(cur, "BOOLEAN value")?),
        DataType::Int32 => Value::I32(cur.i32("INT32 value")?),
        DataType::Int64 => Value::I64(cur.i64("INT64 value")?),
        DataType::Float => Value::F32(cur.f32("FLOAT value")?),
        DataType::Double => Value::F64(cur.f64("DOUBLE value")?),
        DataType::Text => Value::Text(cur.len_prefixed("TEXT value")?.to_vec()),
        DataType::Timestamp => Value::Timestamp(cur.i64("TIMESTAMP value")?),
        DataType::Date => Value::Date(cur.i32("DATE value")?),
        DataType::Blob => Value::Blob(cur.len_prefixed("BLOB value")?.to_vec()),
        DataType::String => Value::Str(cur.len_prefixed("STRING value")?.to_vec()),
    })
}

fn read_bool(cur: &mut Cursor<'_>, what: &'static str) -> Result<bool> {
    match cur.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(Error::invalid(
            what,
            format!("byte {other}, expected 0 or 1"),
        )),
    }
}

/// Encodes record values (the inverse of [`decode_record_values`]).
pub fn encode_record_values(values: &[Value]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for value in values {
        out.push(value.data_type().ts_code() as u8);
        match value {
            Value::Bool(b) => out.push(u8::from(*b)),
            Value::I32(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::I64(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::F32(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::F64(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Text(bytes) | Value::Blob(bytes) | Value::Str(bytes) => {
                put_len_prefixed(&mut out, bytes, "record TEXT value")?
            }
            Value::Timestamp(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Date(x) => out.extend_from_slice(&x.to_be_bytes()),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------ tablets

/// The rows of one tablet: `columns[i]` has one entry per timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Tablet {
    pub timestamps: Vec<i64>,
    pub columns: Vec<Column>,
}

/// The binary fields of a `TSInsertTabletReq` (or one entry of the lists in
/// `TSInsertTabletsReq`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedTablet {
    pub timestamps: Vec<u8>,
    pub values: Vec<u8>,
    pub types: Vec<i32>,
    pub size: i32,
}

impl EncodedTablet {
    /// The binary fields of a `TSInsertTabletReq`, taken out of it without
    /// copying; compressed tablets are refused.
    pub fn take_from(req: &mut TSInsertTabletReq) -> Result<EncodedTablet> {
        check_uncompressed(req.is_compressed)?;
        Ok(EncodedTablet {
            timestamps: std::mem::take(&mut req.timestamps),
            values: std::mem::take(&mut req.values),
            types: std::mem::take(&mut req.types),
            size: req.size,
        })
    }
}

fn check_uncompressed(is_compressed: Option<bool>) -> Result<()> {
    if is_compressed == Some(true) {
        return Err(Error::invalid(
            "tablet",
            "compressed tablets (isCompressed) are not supported",
        ));
    }
    Ok(())
}

/// An upper bound of the memory [`decode_tablet`] allocates for a tablet
/// with these column types, `size` rows and a `values` payload of
/// `values_len` bytes: a server charges it before decoding.
pub fn tablet_decoded_bytes(types: &[i32], size: i32, values_len: usize) -> usize {
    let rows = usize::try_from(size).unwrap_or(0);
    let cell = |code: i32| match DataType::from_ts_code(code, "").map(DataType::physical) {
        Ok(DataType::Boolean) => std::mem::size_of::<Option<bool>>(),
        Ok(DataType::Int32) => std::mem::size_of::<Option<i32>>(),
        Ok(DataType::Int64) => std::mem::size_of::<Option<i64>>(),
        Ok(DataType::Float) => std::mem::size_of::<Option<f32>>(),
        Ok(DataType::Double) => std::mem::size_of::<Option<f64>>(),
        Ok(_) | Err(_) => std::mem::size_of::<Option<Vec<u8>>>(),
    };
    let per_row: usize = 8 + types.iter().map(|&t| cell(t)).sum::<usize>();
    rows.saturating_mul(per_row).saturating_add(values_len)
}

/// Decodes a `TSInsertTabletReq`, after checking that it has one type per
/// measurement and is not compressed.
pub fn decode_insert_tablet(req: &TSInsertTabletReq) -> Result<Tablet> {
    check_uncompressed(req.is_compressed)?;
    if req.measurements.len() != req.types.len() {
        return Err(Error::invalid(
            "tablet",
            format!(
                "{} measurements but {} types",
                req.measurements.len(),
                req.types.len()
            ),
        ));
    }
    decode_tablet(&req.timestamps, &req.values, &req.types, req.size)
}

/// Decodes a tablet's binary fields: `size` rows of `types.len()` columns.
pub fn decode_tablet(timestamps: &[u8], values: &[u8], types: &[i32], size: i32) -> Result<Tablet> {
    let rows = usize::try_from(size)
        .map_err(|_| Error::invalid("tablet size", format!("negative size {size}")))?;
    let data_types = types
        .iter()
        .map(|&code| DataType::from_ts_code(code, "tablet column type"))
        .collect::<Result<Vec<_>>>()?;

    let mut cur = Cursor::new(timestamps);
    cur.require_items(rows, 8, "tablet timestamps")?;
    let mut times = Vec::with_capacity(rows);
    for _ in 0..rows {
        times.push(cur.i64("tablet timestamp")?);
    }
    cur.finish("tablet timestamps")?;

    let mut cur = Cursor::new(values);
    let mut columns = Vec::with_capacity(data_types.len());
    for &data_type in &data_types {
        columns.push(read_tablet_column(&mut cur, data_type, rows)?);
    }
    if !cur.is_empty() {
        for column in &mut columns {
            apply_null_bitmap(&mut cur, column, rows)?;
        }
    }
    cur.finish("tablet values")?;
    Ok(Tablet {
        timestamps: times,
        columns,
    })
}

fn read_tablet_column(cur: &mut Cursor<'_>, data_type: DataType, rows: usize) -> Result<Column> {
    fn cells<T>(
        cur: &mut Cursor<'_>,
        rows: usize,
        width: usize,
        what: &'static str,
        mut read: impl FnMut(&mut Cursor<'_>) -> Result<T>,
    ) -> Result<Vec<Option<T>>> {
        cur.require_items(rows, width, what)?;
        let mut out = Vec::with_capacity(rows);
        for _ in 0..rows {
            out.push(Some(read(cur)?));
        }
        Ok(out)
    }
    Ok(match data_type {
        DataType::Boolean => Column::Bool(cells(cur, rows, 1, "tablet BOOLEAN column", |c| {
            read_bool(c, "tablet BOOLEAN value")
        })?),
        DataType::Int32 => Column::I32(cells(cur, rows, 4, "tablet INT32 column", |c| {
            c.i32("tablet INT32 value")
        })?),
        DataType::Int64 => Column::I64(cells(cur, rows, 8, "tablet INT64 column", |c| {
            c.i64("tablet INT64 value")
        })?),
        DataType::Float => Column::F32(cells(cur, rows, 4, "tablet FLOAT column", |c| {
            c.f32("tablet FLOAT value")
        })?),
        DataType::Double => Column::F64(cells(cur, rows, 8, "tablet DOUBLE column", |c| {
            c.f64("tablet DOUBLE value")
        })?),
        // A text cell is at least its 4-byte length.
        DataType::Text => Column::Text(cells(cur, rows, 4, "tablet TEXT column", |c| {
            Ok(c.len_prefixed("tablet TEXT value")?.to_vec())
        })?),
        DataType::Timestamp => {
            Column::Timestamp(cells(cur, rows, 8, "tablet TIMESTAMP column", |c| {
                c.i64("tablet TIMESTAMP value")
            })?)
        }
        DataType::Date => Column::Date(cells(cur, rows, 4, "tablet DATE column", |c| {
            c.i32("tablet DATE value")
        })?),
        DataType::Blob => Column::Blob(cells(cur, rows, 4, "tablet BLOB column", |c| {
            Ok(c.len_prefixed("tablet BLOB value")?.to_vec())
        })?),
        DataType::String => Column::Str(cells(cur, rows, 4, "tablet STRING column", |c| {
            Ok(c.len_prefixed("tablet STRING value")?.to_vec())
        })?),
    })
}

/// Bytes of one column's null bitmap: `size/8 + 1`, as the clients write it.
fn bitmap_len(rows: usize) -> usize {
    rows / 8 + 1
}

fn apply_null_bitmap(cur: &mut Cursor<'_>, column: &mut Column, rows: usize) -> Result<()> {
    if !read_bool(cur, "tablet hasBitmap flag")? {
        return Ok(());
    }
    let bitmap = cur.take(bitmap_len(rows), "tablet null bitmap")?;
    let is_null = |row: usize| {
        bitmap
            .get(row / 8)
            .is_some_and(|b| b & (1 << (row % 8)) != 0)
    };
    fn clear<T>(cells: &mut [Option<T>], is_null: impl Fn(usize) -> bool) {
        for (row, cell) in cells.iter_mut().enumerate() {
            if is_null(row) {
                *cell = None;
            }
        }
    }
    crate::each_wire_column!(column, v => clear(v, is_null));
    Ok(())
}

/// Encodes a tablet the way the IoTDB clients do: the bitmap section is
/// written only when some cell is null.
pub fn encode_tablet(tablet: &Tablet) -> Result<EncodedTablet> {
    let rows = tablet.timestamps.len();
    let size = i32::try_from(rows)
        .map_err(|_| Error::invalid("tablet", format!("{rows} rows exceed i32::MAX")))?;
    if let Some((i, column)) = tablet
        .columns
        .iter()
        .enumerate()
        .find(|(_, c)| c.len() != rows)
    {
        return Err(Error::invalid(
            "tablet",
            format!(
                "column {i} has {} rows, the timestamps {rows}",
                column.len()
            ),
        ));
    }

    let timestamps = tablet
        .timestamps
        .iter()
        .flat_map(|t| t.to_be_bytes())
        .collect();
    let mut values = Vec::new();
    for column in &tablet.columns {
        match column {
            Column::Bool(v) => v
                .iter()
                .for_each(|x| values.push(u8::from(x.unwrap_or(false)))),
            Column::I32(v) => v
                .iter()
                .for_each(|x| values.extend_from_slice(&x.unwrap_or(0).to_be_bytes())),
            Column::I64(v) | Column::Timestamp(v) => v
                .iter()
                .for_each(|x| values.extend_from_slice(&x.unwrap_or(0).to_be_bytes())),
            Column::Date(v) => v
                .iter()
                .for_each(|x| values.extend_from_slice(&x.unwrap_or(0).to_be_bytes())),
            Column::F32(v) => v
                .iter()
                .for_each(|x| values.extend_from_slice(&x.unwrap_or(0.0).to_be_bytes())),
            Column::F64(v) => v
                .iter()
                .for_each(|x| values.extend_from_slice(&x.unwrap_or(0.0).to_be_bytes())),
            Column::Text(v) | Column::Blob(v) | Column::Str(v) => {
                for cell in v {
                    put_len_prefixed(
                        &mut values,
                        cell.as_deref().unwrap_or_default(),
                        "tablet TEXT value",
                    )?;
                }
            }
        }
    }
    if tablet.columns.iter().any(Column::has_nulls) {
        for column in &tablet.columns {
            if column.has_nulls() {
                values.push(1);
                let mut bitmap = vec![0u8; bitmap_len(rows)];
                for row in (0..rows).filter(|&row| column.is_null(row)) {
                    if let Some(byte) = bitmap.get_mut(row / 8) {
                        *byte |= 1 << (row % 8);
                    }
                }
                values.extend(bitmap);
            } else {
                values.push(0);
            }
        }
    }
    Ok(EncodedTablet {
        timestamps,
        values,
        types: tablet
            .columns
            .iter()
            .map(|c| c.data_type().ts_code())
            .collect(),
        size,
    })
}

#[cfg(test)]
mod tests;

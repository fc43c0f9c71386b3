//! `INSERT INTO device(time, m1, ...) VALUES (...)`: rows to typed columns,
//! one per measurement, nulls skipped.

use crate::convert;
use crate::error::{ExecError, Result};
use crate::Session;
use duet_engine::{Column, Engine, WriteSeries};
use duet_parser::{InsertRow, Path};

pub fn execute(
    engine: &Engine,
    session: &Session,
    device: &Path,
    measurements: &[String],
    rows: &[InsertRow],
) -> Result<u64> {
    if !session.access.is_all() {
        let device = convert::path(device);
        crate::auth::check_write(
            engine,
            &session.access,
            measurements.iter().map(|m| format!("{device}.{m}")),
        )?;
    }
    if device.is_pattern() {
        return Err(ExecError::semantic(format!(
            "cannot insert into a pattern: {device}"
        )));
    }
    let device = convert::path(device);
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = measurements.iter().find(|m| !seen.insert(m.as_str())) {
        return Err(ExecError::semantic(format!(
            "measurement {dup} is listed twice"
        )));
    }
    let times: Vec<i64> = rows
        .iter()
        .map(|r| convert::time(&r.time, session))
        .collect::<Result<_>>()?;
    let schema = engine.schema();
    let mut out = Vec::with_capacity(measurements.len());
    for (col, m) in measurements.iter().enumerate() {
        let path = format!("{device}.{m}");
        let mut target = schema.series.get(&path).map(|s| s.data_type);
        let mut series_times = Vec::with_capacity(rows.len());
        let mut values: Option<Column> = None;
        for (row, &t) in rows.iter().zip(&times) {
            let lit = row.values.get(col).ok_or_else(|| {
                ExecError::semantic(format!(
                    "a row has {} values for {} measurements",
                    row.values.len(),
                    measurements.len()
                ))
            })?;
            let Some(v) = convert::literal(lit) else {
                continue;
            };
            let ty = *target.get_or_insert_with(|| convert::inferred_type(&v));
            let column = values.get_or_insert_with(|| Column::new(ty));
            if !column.push(&v) {
                return Err(ExecError::new(
                    crate::ErrorKind::TypeMismatch,
                    format!("value {lit} does not fit {ty} series {path}"),
                ));
            }
            series_times.push(t);
        }
        if let Some(values) = values {
            out.push(WriteSeries {
                path,
                times: series_times,
                values,
            });
        }
    }
    drop(schema);
    if out.is_empty() {
        return Err(ExecError::semantic(
            "every value is null: nothing to insert",
        ));
    }
    Ok(engine.write(out)?)
}

//! `ALIGN BY DEVICE` (IoTDB's device view): the selected series grouped by
//! device, one row per device and time (or per device, or per device and
//! window, for aggregates), the device in a `Device` column and each
//! measurement in one column shared by every device. Each device runs as
//! the query it would be with `FROM device`; the results are put one after
//! another (`ORDER BY DEVICE`, the default: devices in name order, times
//! within each) or merged by time (`ORDER BY TIME[, DEVICE]`), then LIMIT
//! and OFFSET apply to the whole.

use super::{agg_func, aggregate_column, execute_readable, item_suffix, resolve, Deadline};
use crate::error::{ErrorKind, ExecError, Result};
use crate::{ColumnInfo, ResultSet, Row, RowStream, Session};
use duet_engine::{DataType, Value};
use duet_parser::{Path, Select, SelectItem};
use std::collections::BTreeMap;

use crate::dual::Reader;

/// One output column: the select item it comes from, its measurement, its
/// name and type.
struct Col {
    item: usize,
    measurement: String,
    info: ColumnInfo,
}

/// A series path as (device, measurement).
fn split(path: &str) -> (String, String) {
    let nodes = duet_engine::schema::path_nodes(path);
    match nodes.split_last() {
        Some((m, device)) if !device.is_empty() => (device.join("."), m.to_string()),
        _ => (String::new(), path.to_string()),
    }
}

pub(super) fn by_device(engine: &dyn Reader, session: &Session, q: &Select) -> Result<ResultSet> {
    if q.last {
        return Err(ExecError::semantic(
            "SELECT LAST does not take ALIGN BY DEVICE: it shows one row per series already",
        ));
    }
    if q.items.iter().any(|i| matches!(i, SelectItem::Expr(_))) || !q.aliases.is_empty() {
        return Err(ExecError::semantic(
            "computed columns and aliases with ALIGN BY DEVICE are not supported yet",
        ));
    }
    if q.group_by_level.is_some() {
        return Err(ExecError::semantic(
            "GROUP BY LEVEL does not take ALIGN BY DEVICE: it groups series across devices",
        ));
    }
    let deadline = Deadline(session.deadline);
    // Each device and the measurements it has; the columns, item by item,
    // each item's measurements in name order (a name once per item).
    let mut devices: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut cols: Vec<Col> = Vec::new();
    for (i, item) in q.items.iter().enumerate() {
        let func = match item {
            SelectItem::Agg { func, .. } => Some(agg_func(*func)),
            _ => None,
        };
        let mut names: BTreeMap<String, ColumnInfo> = BTreeMap::new();
        for s in resolve(
            engine,
            &session.access,
            &q.from,
            item_suffix(item),
            deadline,
        )? {
            let (device, m) = split(&s.path);
            let info = match func {
                None => ColumnInfo {
                    name: m.clone(),
                    data_type: s.data_type,
                },
                Some(f) => aggregate_column(f, &s, &m)?,
            };
            if let Some(prev) = names.get(&m) {
                if prev.data_type != info.data_type {
                    return Err(ExecError::semantic(format!(
                        "column {} is {} on one device and {} on {device}: ALIGN BY DEVICE \
                         needs one type per measurement (select the devices apart)",
                        info.name,
                        prev.data_type.name(),
                        info.data_type.name()
                    )));
                }
            }
            names.insert(m.clone(), info);
            devices.entry(device).or_default().insert(m);
        }
        cols.extend(names.into_iter().map(|(measurement, info)| Col {
            item: i,
            measurement,
            info,
        }));
    }
    // SLIMIT / SOFFSET: which measurement columns the result shows.
    let cols: Vec<Col> = cols
        .into_iter()
        .skip(q.soffset.unwrap_or(0) as usize)
        .take(q.slimit.map_or(usize::MAX, |n| n as usize))
        .collect();
    let aggregates = q.items.iter().any(|i| matches!(i, SelectItem::Agg { .. }));
    let has_time = !aggregates || q.group_by.is_some();
    let mut columns = vec![ColumnInfo {
        name: "Device".into(),
        data_type: DataType::Text,
    }];
    columns.extend(cols.iter().map(|c| c.info.clone()));

    let device_desc = q.order_device.is_some_and(|d| d.desc);
    let device_first = q.order_device.is_none_or(|d| d.first);
    let mut order: Vec<String> = devices.keys().cloned().collect();
    if device_desc {
        order.reverse();
    }
    // Each device's query, as it would run with FROM device.
    let mut streams: Vec<(String, RowStream)> = Vec::new();
    for device in order {
        deadline.check()?;
        let has = &devices[&device];
        let mut items = Vec::new();
        let mut at = Vec::new();
        for (k, c) in cols.iter().enumerate() {
            if !has.contains(&c.measurement) {
                continue;
            }
            items.push(match &q.items[c.item] {
                SelectItem::Agg { func, .. } => SelectItem::Agg {
                    func: *func,
                    arg: Some(c.measurement.clone()),
                },
                _ => SelectItem::Column(c.measurement.clone()),
            });
            at.push(k);
        }
        let sub = Select {
            last: false,
            items,
            aliases: Vec::new(),
            from: vec![Path(
                duet_engine::schema::path_nodes(&device)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            )],
            where_clause: q.where_clause.clone(),
            group_by: q.group_by.clone(),
            group_by_level: None,
            group_by_tags: None,
            having: q.having.clone(),
            fill: None,
            order_desc: q.order_desc,
            order_device: None,
            limit: None,
            offset: None,
            slimit: None,
            soffset: None,
            align_by_device: false,
        };
        let rs = match execute_readable(engine, session, &sub) {
            Ok(rs) => rs,
            // The filter names a measurement this device lacks: no row of
            // it passes (IoTDB's null is not true).
            Err(e) if e.kind == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let width = cols.len();
        let name = device.clone();
        let rows = rs.rows.map(move |r| {
            r.map(|row| {
                let mut values = vec![None; width + 1];
                values[0] = Some(Value::Text(name.clone()));
                for (v, &k) in row.values.into_iter().zip(&at) {
                    values[k + 1] = v;
                }
                Row {
                    time: row.time,
                    values,
                }
            })
        });
        streams.push((device, Box::new(rows)));
    }
    let rows: RowStream = if device_first || !has_time {
        Box::new(streams.into_iter().flat_map(|(_, s)| s))
    } else {
        Box::new(ByTime::new(
            streams.into_iter().map(|(_, s)| s).collect(),
            q.order_desc,
        ))
    };
    let offset = q.offset.unwrap_or(0) as usize;
    let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);
    Ok(ResultSet {
        has_time,
        columns,
        rows: Box::new(rows.skip(offset).take(limit)),
        warning: None,
    })
}

/// Rows of several devices merged by time (ascending, or descending with
/// `desc`); equal times keep the devices' order. Each stream is in time
/// order already; a heap holds each stream's next row.
struct ByTime {
    streams: Vec<RowStream>,
    /// (key, stream) of each stream's next row, the next to go on top.
    heap: std::collections::BinaryHeap<((i128, i64), usize)>,
    next: Vec<Option<Row>>,
    /// Streams not read yet (their first rows come in on the first call).
    started: bool,
    desc: bool,
}

impl ByTime {
    fn new(streams: Vec<RowStream>, desc: bool) -> ByTime {
        let n = streams.len();
        ByTime {
            streams,
            heap: std::collections::BinaryHeap::with_capacity(n),
            next: (0..n).map(|_| None).collect(),
            started: false,
            desc,
        }
    }

    /// Reads stream `i`'s next row into the heap; an error is returned.
    fn pull(&mut self, i: usize) -> Option<ExecError> {
        match self.streams[i].next() {
            None => None,
            Some(Err(e)) => Some(e),
            Some(Ok(row)) => {
                let t = i128::from(row.time.unwrap_or(i64::MIN));
                let key = if self.desc { t } else { -t };
                self.heap.push(((key, -(i as i64)), i));
                self.next[i] = Some(row);
                None
            }
        }
    }
}

impl Iterator for ByTime {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        if !self.started {
            self.started = true;
            for i in 0..self.streams.len() {
                if let Some(e) = self.pull(i) {
                    return Some(Err(e));
                }
            }
        }
        let (_, i) = self.heap.pop()?;
        let row = self.next[i].take()?;
        if let Some(e) = self.pull(i) {
            return Some(Err(e));
        }
        Some(Ok(row))
    }
}

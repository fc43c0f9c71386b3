//! Between the wire's types (duet-rpc) and the engine's: insert payloads to
//! write batches, result rows to TsBlocks, errors to IoTDB status codes.

use duet_engine::{Column, DataType, Engine, Value, WriteSeries};
use duet_executor::{ColumnInfo, ErrorKind, ExecError, Row};
use duet_rpc::column as wire;
use duet_rpc::generated::{TSInsertTabletsReq, TSStatus};
use duet_rpc::status::{self, error_status};
use std::collections::{BTreeMap, HashMap};

/// The IoTDB status code for an execution error, with our message.
pub fn status_of(e: &ExecError) -> TSStatus {
    let code = match e.kind {
        ErrorKind::Parse => status::SQL_PARSE_ERROR,
        ErrorKind::Semantic => status::SEMANTIC_ERROR,
        ErrorKind::NotFound => status::PATH_NOT_EXIST,
        ErrorKind::AlreadyExists => status::METADATA_ERROR,
        ErrorKind::TypeMismatch => status::DATA_TYPE_MISMATCH,
        ErrorKind::Auth => status::WRONG_LOGIN_PASSWORD,
        ErrorKind::NoPermission => status::NO_PERMISSION,
        ErrorKind::Unsupported => status::UNSUPPORTED_OPERATION,
        ErrorKind::Internal => status::INTERNAL_SERVER_ERROR,
        ErrorKind::Replication => status::WRITE_PROCESS_REJECT,
        ErrorKind::Timeout => status::QUERY_TIMEOUT,
    };
    error_status(code, e.message.clone())
}

/// Minutes east of UTC for a client's zone id, now: `UTC`, `Z`, `GMT`,
/// offsets (`+08:00`, `-0530`, `UTC+8`, `GMT+08:00`), or IANA names
/// (`Asia/Shanghai`, `Etc/GMT-8`) from the system's zoneinfo. A zone with
/// summer time gets today's offset. Unknown zones count as UTC, logged.
pub fn zone_offset_minutes(zone: &str) -> i32 {
    let z = zone.trim();
    if ["UTC", "GMT", "Z", "Etc/UTC", "Etc/GMT", "UCT", "Zulu"].contains(&z) {
        return 0;
    }
    let now = duet_engine::hlc::wall_clock_ms() as i64 / 1000;
    if let Some(m) = crate::tz::offset_minutes(z, now) {
        return m;
    }
    let rest = ["UTC", "GMT"]
        .iter()
        .find_map(|p| z.strip_prefix(p))
        .unwrap_or(z);
    let (sign, digits) = match rest.as_bytes().first() {
        Some(b'+') => (1, &rest[1..]),
        Some(b'-') => (-1, &rest[1..]),
        _ => {
            tracing::info!("time zone {zone:?} is unknown here; ISO-8601 literals without an offset are read as UTC");
            return 0;
        }
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok(), m.parse::<i32>().ok()),
        None if digits.len() == 4 => (digits[..2].parse().ok(), digits[2..].parse().ok()),
        None => (digits.parse().ok(), Some(0)),
    };
    match (h, m) {
        (Some(h), Some(m)) if (0..=18).contains(&h) && (0..60).contains(&m) => sign * (h * 60 + m),
        _ => {
            tracing::info!("time zone {zone:?} not understood; ISO-8601 literals without an offset are read as UTC");
            0
        }
    }
}

/// Result rows as one TsBlock (time column always present; the client drops
/// it when `ignoreTimeStamp` is set).
pub fn tsblock(columns: &[ColumnInfo], rows: &[Row]) -> Result<Vec<u8>, TSStatus> {
    let times: Vec<i64> = rows.iter().map(|r| r.time.unwrap_or(0)).collect();
    let mut out = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let cell = |r: &Row| r.values.get(i).cloned().flatten();
        macro_rules! col {
            ($variant:ident, $pat:ident, $conv:expr) => {
                wire::Column::$variant(
                    rows.iter()
                        .map(|r| match cell(r).and_then(|v| v.convert(c.data_type)) {
                            Some(Value::$pat(x)) => Some($conv(x)),
                            _ => None,
                        })
                        .collect(),
                )
            };
        }
        out.push(match c.data_type {
            DataType::Boolean => col!(Bool, Bool, |x| x),
            DataType::Int32 => col!(I32, I32, |x| x),
            DataType::Int64 => col!(I64, I64, |x| x),
            DataType::Float => col!(F32, F32, |x| x),
            DataType::Double => col!(F64, F64, |x| x),
            DataType::Timestamp => col!(Timestamp, Timestamp, |x| x),
            DataType::Date => col!(Date, Date, |x| x),
            DataType::Blob => wire::Column::Blob(
                rows.iter()
                    .map(|r| match cell(r)? {
                        Value::Blob(b) => Some(b),
                        other => Some(other.to_string().into_bytes()),
                    })
                    .collect(),
            ),
            DataType::Text | DataType::String => {
                let cells = rows
                    .iter()
                    .map(|r| cell(r).map(|v| v.to_string().into_bytes()))
                    .collect();
                if c.data_type == DataType::String {
                    wire::Column::Str(cells)
                } else {
                    wire::Column::Text(cells)
                }
            }
        });
    }
    duet_rpc::tsblock::TsBlock::new(times, out)
        .map(|b| b.encode())
        .map_err(|e| {
            error_status(
                status::INTERNAL_SERVER_ERROR,
                format!("encoding a result block: {e}"),
            )
        })
}

fn value(v: wire::Value, device: &str, measurement: &str) -> Result<Value, TSStatus> {
    Ok(match v {
        wire::Value::Bool(b) => Value::Bool(b),
        wire::Value::I32(x) => Value::I32(x),
        wire::Value::I64(x) => Value::I64(x),
        wire::Value::F32(x) => Value::F32(x),
        wire::Value::F64(x) => Value::F64(x),
        wire::Value::Text(b) => Value::Text(text(b, device, measurement)?),
        wire::Value::Timestamp(x) => Value::Timestamp(x),
        wire::Value::Date(x) => Value::Date(date(x, device, measurement)?),
        wire::Value::Blob(b) => Value::Blob(b),
        wire::Value::Str(b) => Value::Str(text(b, device, measurement)?),
    })
}

fn date(v: i32, device: &str, measurement: &str) -> Result<i32, TSStatus> {
    if duet_engine::types::date_is_valid(v) {
        Ok(v)
    } else {
        Err(error_status(
            status::ILLEGAL_PARAMETER,
            format!(
                "{device}.{measurement}: {v} is not a date (yyyyMMdd, 1000-01-01 to 9999-12-31)"
            ),
        ))
    }
}

fn text(b: Vec<u8>, device: &str, measurement: &str) -> Result<String, TSStatus> {
    String::from_utf8(b).map_err(|_| {
        error_status(
            status::ILLEGAL_PARAMETER,
            format!("{device}.{measurement}: text value is not UTF-8"),
        )
    })
}

/// The engine's type for a wire type (the same ten types).
pub fn engine_type(t: wire::DataType) -> DataType {
    match t {
        wire::DataType::Boolean => DataType::Boolean,
        wire::DataType::Int32 => DataType::Int32,
        wire::DataType::Int64 => DataType::Int64,
        wire::DataType::Float => DataType::Float,
        wire::DataType::Double => DataType::Double,
        wire::DataType::Text => DataType::Text,
        wire::DataType::Timestamp => DataType::Timestamp,
        wire::DataType::Date => DataType::Date,
        wire::DataType::Blob => DataType::Blob,
        wire::DataType::String => DataType::String,
    }
}

fn bad(e: impl std::fmt::Display) -> TSStatus {
    error_status(status::ILLEGAL_PARAMETER, e.to_string())
}

/// The aliases, tags and attributes of a create request's `n` series
/// (each list absent or one entry per series; an empty alias is none).
pub fn new_labels(
    n: usize,
    aliases: Option<Vec<String>>,
    tags: Option<Vec<BTreeMap<String, String>>>,
    attributes: Option<Vec<BTreeMap<String, String>>>,
) -> Result<Vec<duet_engine::labels::NewLabels>, TSStatus> {
    let lengths = [
        ("aliases", aliases.as_ref().map(Vec::len)),
        ("tags", tags.as_ref().map(Vec::len)),
        ("attributes", attributes.as_ref().map(Vec::len)),
    ];
    for (what, len) in lengths {
        if let Some(len) = len.filter(|&l| l != n) {
            return Err(error_status(
                status::ILLEGAL_PARAMETER,
                format!("{len} {what} for {n} time series"),
            ));
        }
    }
    let mut aliases = aliases.unwrap_or_default().into_iter();
    let mut tags = tags.unwrap_or_default().into_iter();
    let mut attributes = attributes.unwrap_or_default().into_iter();
    Ok((0..n)
        .map(|_| duet_engine::labels::NewLabels {
            alias: aliases.next().filter(|a| !a.is_empty()),
            tags: tags.next().unwrap_or_default().into_iter().collect(),
            attributes: attributes.next().unwrap_or_default().into_iter().collect(),
        })
        .collect())
}

/// A series definition from IoTDB's numeric codes (`TSDataType`,
/// `TSEncoding`, `CompressionType`).
pub fn series_def(
    data_type: i32,
    encoding: i32,
    compressor: i32,
) -> Result<(DataType, &'static str, &'static str), TSStatus> {
    let t = wire::DataType::from_ts_code(data_type, "data type").map_err(bad)?;
    let t = engine_type(t);
    const ENCODINGS: [(i32, &str); 13] = [
        (0, "PLAIN"),
        (1, "DICTIONARY"),
        (2, "RLE"),
        (3, "DIFF"),
        (4, "TS_2DIFF"),
        (5, "BITMAP"),
        (6, "GORILLA_V1"),
        (7, "REGULAR"),
        (8, "GORILLA"),
        (9, "ZIGZAG"),
        (11, "CHIMP"),
        (12, "SPRINTZ"),
        (13, "RLBE"),
    ];
    const COMPRESSORS: [(i32, &str); 10] = [
        (0, "UNCOMPRESSED"),
        (1, "SNAPPY"),
        (2, "GZIP"),
        (3, "LZO"),
        (4, "SDT"),
        (5, "PAA"),
        (6, "PLA"),
        (7, "LZ4"),
        (8, "ZSTD"),
        (9, "LZMA2"),
    ];
    let enc = ENCODINGS
        .iter()
        .find(|e| e.0 == encoding)
        .map(|e| e.1)
        .ok_or_else(|| bad(format!("unknown encoding code {encoding}")))?;
    let comp = COMPRESSORS
        .iter()
        .find(|c| c.0 == compressor)
        .map(|c| c.1)
        .ok_or_else(|| bad(format!("unknown compressor code {compressor}")))?;
    Ok((t, enc, comp))
}

/// What one request may make the node allocate while it is decoded
/// (`rpc.max_request_memory_bytes`): every path, timestamp and value is
/// charged before it is built.
pub struct Budget {
    left: u64,
    limit: u64,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget { left: limit, limit }
    }

    pub fn charge(&mut self, bytes: usize) -> Result<(), TSStatus> {
        let bytes = bytes as u64;
        if bytes > self.left {
            return Err(error_status(
                status::ILLEGAL_PARAMETER,
                format!(
                    "request too large: decoding it needs more than rpc.max_request_memory_bytes = {}; split it into smaller requests",
                    self.limit
                ),
            ));
        }
        self.left -= bytes;
        Ok(())
    }
}

/// A client's device or measurement name, checked for size before any path
/// is built from it.
fn checked_name<'a>(name: &'a str, what: &str) -> Result<&'a str, TSStatus> {
    duet_engine::schema::check_path_size(name)
        .map_err(|e| error_status(status::ILLEGAL_PARAMETER, format!("{what}: {e}")))?;
    Ok(name)
}

/// Builds the series of one insert request: each distinct (device,
/// measurement) path is built once, however many points name it, and
/// every allocation is charged to the request's budget first.
struct SeriesBuilder<'a, 'b> {
    budget: &'b mut Budget,
    index: HashMap<(&'a str, &'a str), usize>,
    out: Vec<WriteSeries>,
    /// String records: each named series' type in the schema (None: not
    /// there yet), looked up once per series, not once per point.
    stored_types: HashMap<(&'a str, &'a str), Option<DataType>>,
}

impl<'a, 'b> SeriesBuilder<'a, 'b> {
    fn new(budget: &'b mut Budget) -> Self {
        SeriesBuilder {
            budget,
            index: HashMap::new(),
            out: Vec::new(),
            stored_types: HashMap::new(),
        }
    }

    /// The type `device.measurement` has in the schema, if it exists; the
    /// path is built (and charged) once per series.
    fn stored_type(
        &mut self,
        engine: &Engine,
        device: &'a str,
        measurement: &'a str,
    ) -> Result<Option<DataType>, TSStatus> {
        if let Some(&t) = self.stored_types.get(&(device, measurement)) {
            return Ok(t);
        }
        let path = series_path(device, measurement, self.budget, 16)?;
        let t = engine.schema().series.get(&path).map(|s| s.data_type);
        self.stored_types.insert((device, measurement), t);
        Ok(t)
    }

    /// The series for `device.measurement`, created (path built) the first
    /// time it is named.
    fn series(
        &mut self,
        device: &'a str,
        measurement: &'a str,
        data_type: DataType,
    ) -> Result<usize, TSStatus> {
        if let Some(&i) = self.index.get(&(device, measurement)) {
            return Ok(i);
        }
        let path = series_path(
            device,
            measurement,
            self.budget,
            std::mem::size_of::<WriteSeries>() + 64,
        )?;
        self.out.push(WriteSeries {
            path,
            times: Vec::new(),
            values: Column::new(data_type),
        });
        self.index.insert((device, measurement), self.out.len() - 1);
        Ok(self.out.len() - 1)
    }

    fn push(
        &mut self,
        device: &'a str,
        measurement: &'a str,
        t: i64,
        v: Value,
    ) -> Result<(), TSStatus> {
        self.budget.charge(8 + value_bytes(&v))?;
        let i = self.series(device, measurement, v.data_type())?;
        let s = &mut self.out[i];
        if !s.values.push(&v) {
            return Err(error_status(
                status::DATA_TYPE_MISMATCH,
                format!(
                    "{}: a {} value in a request that also writes {} values",
                    s.path,
                    v.data_type(),
                    s.values.data_type()
                ),
            ));
        }
        s.times.push(t);
        Ok(())
    }

    fn finish(self) -> Vec<WriteSeries> {
        self.out
    }
}

/// `device.measurement`, after the measurement's size is checked and the
/// path (plus `extra` bytes that come with it) is charged to the budget;
/// the whole path is checked too (levels add up).
fn series_path(
    device: &str,
    measurement: &str,
    budget: &mut Budget,
    extra: usize,
) -> Result<String, TSStatus> {
    checked_name(measurement, "measurement")?;
    budget.charge(device.len() + 1 + measurement.len() + extra)?;
    let path = format!("{device}.{measurement}");
    duet_engine::schema::check_path_size(&path).map_err(bad)?;
    Ok(path)
}

/// The series paths of `createAlignedTimeseries`: the device checked once,
/// each measurement checked and charged before its path is built.
pub fn aligned_paths(
    device: &str,
    measurements: &[String],
    budget: &mut Budget,
) -> Result<Vec<String>, TSStatus> {
    checked_name(device, "device")?;
    budget.charge(std::mem::size_of_val(measurements))?;
    measurements
        .iter()
        .map(|m| series_path(device, m, budget, 0))
        .collect()
}

/// The memory a value takes once kept in a column.
fn value_bytes(v: &Value) -> usize {
    match v {
        Value::Text(s) => std::mem::size_of::<String>() + s.len(),
        _ => 8,
    }
}

pub fn record(
    device: &str,
    measurements: &[String],
    values: &[u8],
    t: i64,
    budget: &mut Budget,
) -> Result<Vec<WriteSeries>, TSStatus> {
    let mut b = SeriesBuilder::new(budget);
    push_record(&mut b, device, measurements, values, t)?;
    Ok(b.finish())
}

/// One record's values into `b`, decoded one at a time.
fn push_record<'a>(
    b: &mut SeriesBuilder<'a, '_>,
    device: &'a str,
    measurements: &'a [String],
    values: &[u8],
    t: i64,
) -> Result<(), TSStatus> {
    let device = checked_name(device, "device")?;
    let vals = duet_rpc::insert::record_values(values, measurements.len()).map_err(bad)?;
    for (m, v) in measurements.iter().zip(vals) {
        let v = value(v.map_err(bad)?, device, m)?;
        b.push(device, m, t, v)?;
    }
    Ok(())
}

/// Where the records of a request name their device.
pub enum Devices<'a> {
    /// `insertRecordsOfOneDevice`: one device for every record.
    One(&'a str),
    /// `insertRecords`: a device per record.
    PerRecord(&'a [String]),
}

impl<'a> Devices<'a> {
    /// One device, measurement list and value list per timestamp, or a
    /// clear error (before anything is decoded).
    fn check_lengths(&self, n: usize, measurements: usize, values: usize) -> Result<(), TSStatus> {
        let devices = match self {
            Devices::One(_) => n,
            Devices::PerRecord(d) => d.len(),
        };
        if measurements != n || values != n || devices != n {
            return Err(bad(format!(
                "record lists differ in length: {devices} devices, {measurements} measurement lists, {values} value lists, {n} timestamps"
            )));
        }
        Ok(())
    }

    /// Record `i`'s device (`i` below the checked length).
    fn at(&self, i: usize) -> &'a str {
        match self {
            Devices::One(d) => d,
            Devices::PerRecord(d) => d[i].as_str(),
        }
    }
}

/// `insertRecords` or `insertRecordsOfOneDevice`.
pub fn records(
    devices: Devices<'_>,
    measurements: &[Vec<String>],
    values: &[Vec<u8>],
    times: &[i64],
    budget: &mut Budget,
) -> Result<Vec<WriteSeries>, TSStatus> {
    let n = times.len();
    devices.check_lengths(n, measurements.len(), values.len())?;
    let mut b = SeriesBuilder::new(budget);
    for i in 0..n {
        let device = devices.at(i);
        push_record(&mut b, device, &measurements[i], &values[i], times[i])?;
    }
    Ok(b.finish())
}

/// `insertStringRecord`: values as text, typed by the existing series or
/// inferred (number → DOUBLE, true/false → BOOLEAN, else TEXT).
pub fn string_record(
    engine: &Engine,
    device: &str,
    measurements: &[String],
    values: &[String],
    t: i64,
    budget: &mut Budget,
) -> Result<Vec<WriteSeries>, TSStatus> {
    let mut b = SeriesBuilder::new(budget);
    push_string_record(engine, &mut b, device, measurements, values, t)?;
    Ok(b.finish())
}

/// `insertStringRecords` or `insertStringRecordsOfOneDevice`: each record
/// as [`string_record`] takes it.
pub fn string_records(
    engine: &Engine,
    devices: Devices<'_>,
    measurements: &[Vec<String>],
    values: &[Vec<String>],
    times: &[i64],
    budget: &mut Budget,
) -> Result<Vec<WriteSeries>, TSStatus> {
    let n = times.len();
    devices.check_lengths(n, measurements.len(), values.len())?;
    let mut b = SeriesBuilder::new(budget);
    for i in 0..n {
        let device = devices.at(i);
        push_string_record(
            engine,
            &mut b,
            device,
            &measurements[i],
            &values[i],
            times[i],
        )?;
    }
    Ok(b.finish())
}

fn push_string_record<'a>(
    engine: &Engine,
    b: &mut SeriesBuilder<'a, '_>,
    device: &'a str,
    measurements: &'a [String],
    values: &[String],
    t: i64,
) -> Result<(), TSStatus> {
    if measurements.len() != values.len() {
        return Err(bad(format!(
            "{} measurements but {} values",
            measurements.len(),
            values.len()
        )));
    }
    let device = checked_name(device, "device")?;
    for (m, text) in measurements.iter().zip(values) {
        let ty = b.stored_type(engine, device, m)?;
        let v = parse_text(text, ty).ok_or_else(|| {
            error_status(
                status::DATA_TYPE_MISMATCH,
                format!(
                    "{device}.{m}: {:?} is not a {}",
                    duet_engine::codec::truncate(text, 64),
                    ty.map_or("value", DataType::name)
                ),
            )
        })?;
        b.push(device, m, t, v)?;
    }
    Ok(())
}

fn parse_text(s: &str, ty: Option<DataType>) -> Option<Value> {
    let t = s.trim();
    Some(match ty {
        Some(DataType::Boolean) => match t.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return None,
        },
        Some(DataType::Int32) => Value::I32(t.parse().ok()?),
        Some(DataType::Int64) => Value::I64(t.parse().ok()?),
        Some(DataType::Float) => Value::F32(t.parse().ok().filter(|f: &f32| f.is_finite())?),
        Some(DataType::Double) => Value::F64(t.parse().ok().filter(|f: &f64| f.is_finite())?),
        Some(DataType::Text) => Value::Text(s.to_string()),
        Some(DataType::String) => Value::Str(s.to_string()),
        Some(DataType::Timestamp) => Value::Timestamp(t.parse().ok()?),
        Some(DataType::Date) => Value::Date(duet_engine::types::parse_date(t).or_else(|| {
            t.parse()
                .ok()
                .filter(|v| duet_engine::types::date_is_valid(*v))
        })?),
        Some(DataType::Blob) => Value::Blob(parse_blob(t)?),
        None => {
            if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
                Value::Bool(t.eq_ignore_ascii_case("true"))
            } else if let Some(f) = t.parse::<f64>().ok().filter(|f| f.is_finite()) {
                Value::F64(f)
            } else {
                Value::Text(s.to_string())
            }
        }
    })
}

/// A BLOB written as text: `X'0a1b'` or `0x0a1b` (hex, as IoTDB's SQL
/// writes BLOB literals).
fn parse_blob(t: &str) -> Option<Vec<u8>> {
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .or_else(|| {
            t.strip_prefix("X'")
                .or_else(|| t.strip_prefix("x'"))?
                .strip_suffix('\'')
        })?;
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One `TSInsertTabletReq`'s binary fields, decoded after the decoded size
/// is charged to the request's budget.
pub fn tablet(
    device: &str,
    measurements: &[String],
    encoded: duet_rpc::insert::EncodedTablet,
    budget: &mut Budget,
) -> Result<Vec<WriteSeries>, TSStatus> {
    let device = checked_name(device, "device")?;
    if measurements.len() != encoded.types.len() {
        return Err(bad(format!(
            "{device}: {} measurements but {} types",
            measurements.len(),
            encoded.types.len()
        )));
    }
    budget.charge(duet_rpc::insert::tablet_decoded_bytes(
        &encoded.types,
        encoded.size,
        encoded.values.len(),
    ))?;
    let t = duet_rpc::insert::decode_tablet(
        &encoded.timestamps,
        &encoded.values,
        &encoded.types,
        encoded.size,
    )
    .map_err(|e| bad(format!("bad tablet for {device}: {e}")))?;
    let mut out = Vec::with_capacity(measurements.len());
    for (m, col) in measurements.iter().zip(t.columns) {
        let cells = col.len();
        // Timestamps and the kept values (text bytes move, charged above).
        let width = match col {
            wire::Column::Text(_) | wire::Column::Str(_) => std::mem::size_of::<String>(),
            wire::Column::Blob(_) => std::mem::size_of::<Vec<u8>>(),
            _ => 8,
        };
        let path = series_path(device, m, budget, cells * (8 + width))?;
        let mut times = Vec::with_capacity(cells);
        macro_rules! keep {
            ($cells:expr, $variant:ident, $conv:expr) => {{
                let mut vals = Vec::with_capacity($cells.len());
                for (ts, cell) in t.timestamps.iter().zip($cells) {
                    if let Some(x) = cell {
                        times.push(*ts);
                        vals.push($conv(x)?);
                    }
                }
                Column::$variant(vals)
            }};
        }
        let values = match col {
            wire::Column::Bool(c) => keep!(c, Bool, Ok::<_, TSStatus>),
            wire::Column::I32(c) => keep!(c, I32, Ok::<_, TSStatus>),
            wire::Column::I64(c) => keep!(c, I64, Ok::<_, TSStatus>),
            wire::Column::F32(c) => keep!(c, F32, Ok::<_, TSStatus>),
            wire::Column::F64(c) => keep!(c, F64, Ok::<_, TSStatus>),
            wire::Column::Text(c) => keep!(c, Text, |b: Vec<u8>| text(b, device, m)),
            wire::Column::Timestamp(c) => keep!(c, Timestamp, Ok::<_, TSStatus>),
            wire::Column::Date(c) => keep!(c, Date, |x: i32| date(x, device, m)),
            wire::Column::Blob(c) => keep!(c, Blob, Ok::<_, TSStatus>),
            wire::Column::Str(c) => keep!(c, Str, |b: Vec<u8>| text(b, device, m)),
        };
        if !times.is_empty() {
            out.push(WriteSeries {
                path,
                times,
                values,
            });
        }
    }
    Ok(out)
}

pub fn tablets(req: TSInsertTabletsReq, budget: &mut Budget) -> Result<Vec<WriteSeries>, TSStatus> {
    let n = req.prefix_paths.len();
    let lens = [
        req.measurements_list.len(),
        req.values_list.len(),
        req.timestamps_list.len(),
        req.types_list.len(),
        req.size_list.len(),
    ];
    if lens.iter().any(|&l| l != n) {
        return Err(bad(format!(
            "tablet lists differ in length: {n} devices, {lens:?}"
        )));
    }
    let mut out = Vec::new();
    let parts = req
        .prefix_paths
        .iter()
        .zip(&req.measurements_list)
        .zip(req.values_list)
        .zip(req.timestamps_list)
        .zip(req.types_list)
        .zip(req.size_list);
    for (((((device, measurements), values), timestamps), types), size) in parts {
        let encoded = duet_rpc::insert::EncodedTablet {
            timestamps,
            values,
            types,
            size,
        };
        out.extend(tablet(device, measurements, encoded, budget)?);
    }
    Ok(out)
}

/// A full series path (`root.sg.d1.s1`) as a select item below `root`.
fn series_item(path: &str) -> Result<String, TSStatus> {
    let path = checked_name(path, "series path")?;
    match path.strip_prefix("root.") {
        Some(rest) if !rest.is_empty() => Ok(rest.to_string()),
        _ => Err(bad(format!(
            "{path:?} is not a series path (root.<...>.<measurement>)"
        ))),
    }
}

/// `executeRawDataQueryV2`: the points of `paths` with `start <= time < end`,
/// as `SELECT <paths> FROM root WHERE time >= start AND time < end`.
pub fn raw_data_query(
    paths: &[String],
    start: i64,
    end: i64,
) -> Result<duet_parser::Statement, TSStatus> {
    use duet_parser::{CmpOp, Expr, Literal, Operand};
    if paths.is_empty() {
        return Err(bad("a raw data query needs at least one series path"));
    }
    let items = paths
        .iter()
        .map(|p| series_item(p).map(duet_parser::SelectItem::Column))
        .collect::<Result<Vec<_>, _>>()?;
    let cmp = |op, t| Expr::Cmp {
        lhs: Operand::Time,
        op,
        rhs: Operand::Literal(Literal::Int(t)),
    };
    Ok(duet_parser::Statement::Select(Box::new(
        duet_parser::Select {
            last: false,
            items,
            aliases: Vec::new(),
            from: vec![duet_parser::Path(vec!["root".to_string()])],
            where_clause: Some(Expr::And(
                Box::new(cmp(CmpOp::GtEq, start)),
                Box::new(cmp(CmpOp::Lt, end)),
            )),
            group_by: None,
            group_by_level: None,
            group_by_tags: None,
            having: None,
            fill: None,
            order_desc: false,
            order_device: None,
            limit: None,
            offset: None,
            slimit: None,
            soffset: None,
            align_by_device: false,
        },
    )))
}

/// `executeLastDataQueryV2`: the last point of each of `paths` at or after
/// `time`, as `SELECT LAST <paths> FROM root WHERE time >= time`.
pub fn last_data_query(paths: &[String], time: i64) -> Result<duet_parser::Statement, TSStatus> {
    let mut stmt = raw_data_query(paths, time, i64::MAX)?;
    if let duet_parser::Statement::Select(q) = &mut stmt {
        q.last = true;
        q.where_clause = Some(duet_parser::Expr::Cmp {
            lhs: duet_parser::Operand::Time,
            op: duet_parser::CmpOp::GtEq,
            rhs: duet_parser::Operand::Literal(duet_parser::Literal::Int(time)),
        });
    }
    Ok(stmt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones() {
        let zoneinfo = std::path::Path::new("/usr/share/zoneinfo/Asia/Shanghai").exists();
        for (z, m) in [
            ("UTC", 0),
            ("Etc/UTC", 0),
            ("Z", 0),
            ("+08:00", 480),
            ("-0530", -330),
            ("UTC+8", 480),
            ("GMT-03:00", -180),
            ("Asia/Shanghai", if zoneinfo { 480 } else { 0 }),
            ("Nowhere/Land", 0),
            ("+99", 0),
        ] {
            assert_eq!(zone_offset_minutes(z), m, "{z}");
        }
    }

    #[test]
    fn string_values_are_typed() {
        assert_eq!(parse_text("1.5", None), Some(Value::F64(1.5)));
        assert_eq!(parse_text("TRUE", None), Some(Value::Bool(true)));
        assert_eq!(parse_text("abc", None), Some(Value::Text("abc".into())));
        assert_eq!(parse_text("7", Some(DataType::Int32)), Some(Value::I32(7)));
        assert_eq!(parse_text("x", Some(DataType::Int32)), None);
        assert_eq!(parse_text("yes", Some(DataType::Boolean)), None);
        assert_eq!(parse_text("NaN", Some(DataType::Double)), None);
    }
}

//! Results and errors as text, close to what IoTDB's CLI prints: a table
//! (comfy-table), `null` for NULL, timestamps as ISO-8601 in the session
//! zone (`2024-01-01T00:00:00.000Z`, `...+08:00`), DATE as `yyyy-MM-dd`,
//! errors as `Msg: <code>: <message>` with the server's text verbatim.

use comfy_table::{presets, CellAlignment, ContentLineStyle, Table, TableStyle};
use duet_rpc::client::{ClientError, Field};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// The unit of server timestamps (`timestamp_precision` at open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Ms,
    Us,
    Ns,
}

impl Precision {
    /// "us" and "ns"; anything else is IoTDB's default, milliseconds.
    pub fn from_name(name: &str) -> Precision {
        match name {
            "us" => Precision::Us,
            "ns" => Precision::Ns,
            _ => Precision::Ms,
        }
    }
}

/// Reads a zone id as IoTDB accepts it: `UTC`/`Z`, an offset (`+08:00`,
/// `-0530`, `+8`) or an IANA name (`Asia/Shanghai`).
pub fn parse_zone(id: &str) -> Result<TimeZone, String> {
    let id = id.trim();
    if ["utc", "z", "gmt", "etc/utc"].contains(&id.to_ascii_lowercase().as_str()) {
        return Ok(TimeZone::UTC);
    }
    if let Some(sign) = id.strip_prefix(['+', '-']).map(|_| id.starts_with('-')) {
        let digits: String = id.chars().skip(1).filter(char::is_ascii_digit).collect();
        let (h, m) = match digits.len() {
            1 | 2 => (digits.as_str(), "0"),
            4 => digits.split_at(2),
            _ => return Err(format!("bad zone offset {id:?}")),
        };
        let minutes = h.parse::<i32>().unwrap_or(0) * 60 + m.parse::<i32>().unwrap_or(0);
        let seconds = if sign { -minutes * 60 } else { minutes * 60 };
        let offset = Offset::from_seconds(seconds).map_err(|e| format!("zone {id:?}: {e}"))?;
        return Ok(TimeZone::fixed(offset));
    }
    TimeZone::get(id).map_err(|e| format!("unknown time zone {id:?}: {e}"))
}

/// Shows server timestamps in one zone.
#[derive(Clone, Debug)]
pub struct TimeFormat {
    zone: TimeZone,
    precision: Precision,
}

impl TimeFormat {
    pub fn new(zone: TimeZone, precision: Precision) -> Self {
        TimeFormat { zone, precision }
    }

    /// ISO-8601 with the zone's offset (`Z` for UTC) and as many fraction
    /// digits as the precision has; the raw number if out of range.
    pub fn format(&self, t: i64) -> String {
        let (ts, fraction) = match self.precision {
            Precision::Ms => (Timestamp::from_millisecond(t), "%.3f"),
            Precision::Us => (Timestamp::from_microsecond(t), "%.6f"),
            Precision::Ns => (Timestamp::from_nanosecond(i128::from(t)), "%.9f"),
        };
        let Ok(ts) = ts else {
            return t.to_string();
        };
        let zoned = ts.to_zoned(self.zone.clone());
        let mut text = zoned
            .strftime(&format!("%Y-%m-%dT%H:%M:%S{fraction}"))
            .to_string();
        if zoned.offset().seconds() == 0 {
            text.push('Z');
        } else {
            text.push_str(&zoned.strftime("%:z").to_string());
        }
        text
    }
}

/// One cell: TIMESTAMP and DATE columns are shown as dates, the rest with
/// `Field`'s `Display`.
pub fn cell(field: &Field, type_name: &str, time: &TimeFormat) -> String {
    match (field, type_name) {
        (Field::I64(t), "TIMESTAMP") => time.format(*t),
        (Field::I32(d), "DATE") => {
            format!("{:04}-{:02}-{:02}", d / 10000, (d / 100) % 100, d % 100)
        }
        (field, _) => field.to_string(),
    }
}

/// comfy-table's UTF8_FULL_CONDENSED with solid lines between columns
/// (the preset dots them).
const STYLE: TableStyle = presets::UTF8_FULL_CONDENSED
    .header_lines(ContentLineStyle::new('│', '│', '│'))
    .content_lines(ContentLineStyle::new('│', '│', '│'));

fn is_numeric(type_name: &str) -> bool {
    matches!(type_name, "INT32" | "INT64" | "FLOAT" | "DOUBLE")
}

/// A table with a header; numeric columns are right-aligned.
pub fn table(columns: &[String], types: &[String], rows: &[Vec<String>]) -> String {
    let mut table = Table::new();
    table.load_style(STYLE);
    table.set_header(columns.to_vec());
    table.add_rows(rows.iter().cloned());
    for (i, type_name) in types.iter().enumerate() {
        if let (true, Some(column)) = (is_numeric(type_name), table.column_mut(i)) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string()
}

/// The line after a result.
pub fn row_count(total: u64) -> String {
    if total == 0 {
        "Empty set.".to_string()
    } else {
        format!("Total line number = {total}")
    }
}

/// `Msg: ...` for an error. A lost connection also says where the next
/// statement goes (`next`: the host it tries first).
pub fn error_text(err: &ClientError, next: Option<&str>) -> String {
    let mut text = format!("Msg: {err}");
    if let (true, Some(next)) = (err.is_transport(), next) {
        text.push_str(&format!(
            "\nThe next statement reconnects, trying {next} first."
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc_ms() -> TimeFormat {
        TimeFormat::new(TimeZone::UTC, Precision::Ms)
    }

    #[test]
    fn timestamps_are_iso_8601_in_the_session_zone() {
        assert_eq!(
            utc_ms().format(1_704_067_200_000),
            "2024-01-01T00:00:00.000Z"
        );
        assert_eq!(
            utc_ms().format(1_704_067_200_123),
            "2024-01-01T00:00:00.123Z"
        );
        assert_eq!(utc_ms().format(-1), "1969-12-31T23:59:59.999Z");
        let plus8 = TimeFormat::new(parse_zone("+08:00").unwrap(), Precision::Ms);
        assert_eq!(
            plus8.format(1_704_067_200_000),
            "2024-01-01T08:00:00.000+08:00"
        );
        let minus = TimeFormat::new(parse_zone("-0530").unwrap(), Precision::Us);
        assert_eq!(minus.format(0), "1969-12-31T18:30:00.000000-05:30");
        let ns = TimeFormat::new(TimeZone::UTC, Precision::Ns);
        assert_eq!(ns.format(1), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(utc_ms().format(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn zones_parse_like_iotdb_accepts_them() {
        for utc in ["UTC", "utc", "Z", "Etc/UTC"] {
            assert_eq!(parse_zone(utc).unwrap(), TimeZone::UTC, "{utc}");
        }
        assert!(parse_zone("+8").is_ok());
        assert!(parse_zone("+123").is_err());
        assert!(parse_zone("Not/AZone").is_err());
    }

    #[test]
    fn cells_follow_the_column_type() {
        let t = utc_ms();
        assert_eq!(
            cell(&Field::I64(0), "TIMESTAMP", &t),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(cell(&Field::I64(0), "INT64", &t), "0");
        assert_eq!(cell(&Field::I32(20240131), "DATE", &t), "2024-01-31");
        assert_eq!(cell(&Field::F64(20.0), "DOUBLE", &t), "20.0");
        assert_eq!(cell(&Field::Null, "TIMESTAMP", &t), "null");
    }

    #[test]
    fn tables_have_a_header_and_one_line_per_row() {
        let columns = ["Time".to_string(), "root.sg.d.s1".to_string()];
        let types = ["TIMESTAMP".to_string(), "DOUBLE".to_string()];
        let rows = vec![
            vec!["2024-01-01T00:00:00.000Z".to_string(), "20.0".to_string()],
            vec!["2024-01-01T00:00:01.000Z".to_string(), "null".to_string()],
        ];
        let text = table(&columns, &types, &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert!(lines[1].contains("Time") && lines[1].contains("root.sg.d.s1"));
        assert!(lines[3].contains("2024-01-01T00:00:00.000Z") && lines[3].contains(" 20.0 "));
        assert!(lines[4].contains("null │"), "right-aligned: {}", lines[4]);
        assert_eq!(row_count(0), "Empty set.");
        assert_eq!(row_count(2), "Total line number = 2");
    }

    #[test]
    fn errors_print_like_iotdbs_cli() {
        let err = ClientError::Status {
            code: 700,
            message: "line 1:5 no viable alternative\nshow pipez\n     ^".into(),
        };
        assert_eq!(
            error_text(&err, Some("b:6667")),
            "Msg: 700: line 1:5 no viable alternative\nshow pipez\n     ^"
        );
        let err = ClientError::Transport {
            endpoint: "a:6667".into(),
            detail: "connection reset".into(),
        };
        assert_eq!(
            error_text(&err, Some("b:6667")),
            "Msg: connection to a:6667 failed: connection reset\n\
             The next statement reconnects, trying b:6667 first."
        );
    }
}

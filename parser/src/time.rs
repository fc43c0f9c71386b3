//! Time literals without a date library: ISO-8601 scanning and validation,
//! conversion to epoch milliseconds (days-from-civil), and durations.

/// Fields of an ISO-8601 literal as scanned; not yet validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IsoParts {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
    /// Explicit zone offset in minutes (`Z` is 0); `None` uses the session's.
    pub offset_minutes: Option<i32>,
}

fn digits_n(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Scans the longest ISO-8601 literal at the start of `s`: a date
/// `YYYY-MM-DD` (or `YYYY/MM/DD`), optionally `T` or one space and
/// `HH:MM[:SS[.fff]]`, optionally `Z` or `±HH:MM` / `±HHMM` after a time.
/// Returns the byte length and fields, or `None` if `s` does not start with a
/// date. The caller checks what follows (a letter right after is an error).
pub(crate) fn scan_iso(s: &str) -> Option<(usize, IsoParts)> {
    let b = s.as_bytes();
    let year = digits_n(b, 0, 4)?;
    let sep = *b.get(4)?;
    // `2024-01-31`, `2024/01/31` and `2024.01.31`: IoTDB reads all three.
    if sep != b'-' && sep != b'/' && sep != b'.' {
        return None;
    }
    let month = digits_n(b, 5, 2)?;
    if b.get(7) != Some(&sep) {
        return None;
    }
    let day = digits_n(b, 8, 2)?;
    let mut parts = IsoParts {
        year: i64::from(year),
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        millis: 0,
        offset_minutes: None,
    };
    let mut p = 10;
    let time_sep = matches!(b.get(p), Some(b'T' | b't' | b' '));
    let (Some(hour), Some(b':'), Some(minute)) =
        (digits_n(b, p + 1, 2), b.get(p + 3), digits_n(b, p + 4, 2))
    else {
        return Some((p, parts));
    };
    if !time_sep {
        return Some((p, parts));
    }
    parts.hour = hour;
    parts.minute = minute;
    p += 6;
    if let (Some(b':'), Some(second)) = (b.get(p), digits_n(b, p + 1, 2)) {
        parts.second = second;
        p += 3;
        if b.get(p) == Some(&b'.') && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
            p += 1;
            let mut scale = 100;
            let mut n = 0;
            while n < 9 && b.get(p).is_some_and(u8::is_ascii_digit) {
                parts.millis += u32::from(b[p] - b'0') * scale;
                scale /= 10;
                p += 1;
                n += 1;
            }
        }
    }
    match b.get(p) {
        Some(b'Z' | b'z') => {
            parts.offset_minutes = Some(0);
            p += 1;
        }
        Some(&sign @ (b'+' | b'-')) => {
            let zone = match (digits_n(b, p + 1, 2), b.get(p + 3)) {
                (Some(h), Some(b':')) => digits_n(b, p + 4, 2).map(|m| (h, m, 6)),
                (Some(h), _) => digits_n(b, p + 3, 2).map(|m| (h, m, 5)),
                _ => None,
            };
            if let Some((h, m, len)) = zone {
                let minutes = (h * 60 + m) as i32;
                parts.offset_minutes = Some(if sign == b'-' { -minutes } else { minutes });
                p += len;
            }
        }
        _ => {}
    }
    Some((p, parts))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Checks the calendar and clock fields; the message names the bad field.
pub(crate) fn validate(p: &IsoParts) -> Result<(), String> {
    if !(1..=12).contains(&p.month) {
        return Err(format!("month {} is not in 1..12", p.month));
    }
    let dim = days_in_month(p.year, p.month);
    if p.day < 1 || p.day > dim {
        return Err(format!(
            "day {} is not in 1..{dim} for {:04}-{:02}",
            p.day, p.year, p.month
        ));
    }
    if p.hour > 23 || p.minute > 59 || p.second > 59 {
        return Err(format!(
            "time {:02}:{:02}:{:02} is not a valid time of day",
            p.hour, p.minute, p.second
        ));
    }
    if let Some(off) = p.offset_minutes {
        if off.abs() > 23 * 60 + 59 {
            return Err("zone offset is out of range".to_string());
        }
    }
    Ok(())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day count since
/// 1970-01-01 (the inverse of `days_from_civil`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `ms` moved by `months` calendar months, read in the zone
/// `offset_minutes` east of UTC: the same day of the month and time of day,
/// the day cut to the month's last when it has fewer (IoTDB's month
/// arithmetic: Jan 31 + 1 month = Feb 28 or 29). Saturates at the ends of
/// i64.
pub fn add_calendar_months(ms: i64, months: i64, offset_minutes: i32) -> i64 {
    const DAY: i64 = 86_400_000;
    let offset = i64::from(offset_minutes) * 60_000;
    let local = ms.saturating_add(offset);
    let (days, rem) = (local.div_euclid(DAY), local.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    let total = (y as i128) * 12 + i128::from(m - 1) + i128::from(months);
    // Far outside i64 milliseconds (about 292 million years) either way.
    if total.abs() > 12 * 400_000_000 {
        return if months > 0 { i64::MAX } else { i64::MIN };
    }
    let ny = total.div_euclid(12) as i64;
    let nm = total.rem_euclid(12) as u32 + 1;
    let nd = d.min(days_in_month(ny, nm));
    let out = i128::from(days_from_civil(ny, nm, nd)) * i128::from(DAY) + i128::from(rem)
        - i128::from(offset);
    out.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Converts an ISO-8601 literal (as accepted by the parser and stored in
/// `TimeBase::Iso`) to epoch milliseconds. A literal without a zone is read in
/// `default_offset_minutes` east of UTC (e.g. `480` for `+08:00`).
/// Fractions finer than a millisecond are truncated.
pub fn iso_to_millis(text: &str, default_offset_minutes: i32) -> Result<i64, String> {
    let text = text.trim();
    let (len, parts) = scan_iso(text).ok_or_else(|| format!("`{text}` is not an ISO-8601 date"))?;
    if len != text.len() {
        return Err(format!("`{text}` is not an ISO-8601 date or date-time"));
    }
    validate(&parts)?;
    let days = days_from_civil(parts.year, parts.month, parts.day);
    let secs =
        i64::from(parts.hour) * 3600 + i64::from(parts.minute) * 60 + i64::from(parts.second);
    let offset = i64::from(parts.offset_minutes.unwrap_or(default_offset_minutes)) * 60_000;
    // Years are four digits, so none of this comes near i64's range.
    Ok(days * 86_400_000 + secs * 1000 + i64::from(parts.millis) - offset)
}

/// Duration units, largest first; `mo` and `ms` must be tried before `m`.
pub(crate) const UNITS: [(&str, i64); 8] = [
    ("y", 365 * 86_400_000),
    ("mo", 30 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// The unit at the start of `s` (case-insensitive) and its length in bytes.
pub(crate) fn unit_at(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let lower = |i: usize| b.get(i).map(u8::to_ascii_lowercase);
    match (lower(0), lower(1)) {
        (Some(b'm'), Some(b's')) => Some((1, 2)),
        (Some(b'm'), Some(b'o')) => Some((30 * 86_400_000, 2)),
        (Some(c), _) => UNITS
            .iter()
            .find(|(u, _)| u.len() == 1 && u.as_bytes()[0] == c)
            .map(|&(_, f)| (f, 1)),
        _ => None,
    }
}

/// Prints a non-negative duration in the largest unit that divides it exactly
/// (`3600000` -> `1h`); zero is `0ms`. Never in `y` or `mo`: those are
/// calendar units (a GROUP BY step keeps them apart), and these
/// milliseconds are fixed spans.
pub(crate) fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0ms".to_string();
    }
    for (unit, factor) in UNITS.into_iter().skip(2) {
        let f = factor as u64;
        if ms % f == 0 {
            return format!("{}{unit}", ms / f);
        }
    }
    format!("{ms}ms")
}

/// Parses a whole-string duration such as `1h`, `1h30m`, `500ms` or a bare
/// integer (milliseconds). `None` if malformed or beyond `i64`.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) {
        return text.parse().ok();
    }
    let (rest, mag) = crate::lex::duration_magnitude(text).ok()?;
    if !rest.is_empty() {
        return None;
    }
    i64::try_from(mag).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn iso_conversion() {
        assert_eq!(iso_to_millis("1970-01-01", 0), Ok(0));
        assert_eq!(
            iso_to_millis("2024-01-01T00:00:00Z", 480),
            Ok(1_704_067_200_000)
        );
        assert_eq!(
            iso_to_millis("2024-01-01 08:00:00+08:00", 0),
            Ok(1_704_067_200_000)
        );
        assert_eq!(
            iso_to_millis("2024-01-01T08:00:00.123", 480),
            Ok(1_704_067_200_123)
        );
        assert_eq!(iso_to_millis("2024/01/01 00:00", 0), Ok(1_704_067_200_000));
        assert_eq!(
            iso_to_millis("2024-01-01T00:00:00-0130", 0),
            Ok(1_704_067_200_000 + 90 * 60_000)
        );
        assert!(iso_to_millis("2023-02-29", 0).is_err());
        assert!(iso_to_millis("2024-13-01", 0).is_err());
        assert!(iso_to_millis("2024-01-01x", 0).is_err());
    }

    #[test]
    fn calendar_months() {
        let t = |s: &str| iso_to_millis(s, 0).unwrap();
        assert_eq!(
            add_calendar_months(t("2024-01-31T10:00:00"), 1, 0),
            t("2024-02-29T10:00:00")
        );
        assert_eq!(
            add_calendar_months(t("2023-01-31T10:00:00"), 1, 0),
            t("2023-02-28T10:00:00")
        );
        assert_eq!(
            add_calendar_months(t("2024-01-31T00:00:00"), 2, 0),
            t("2024-03-31T00:00:00")
        );
        assert_eq!(
            add_calendar_months(t("2024-03-15T00:00:00"), -3, 0),
            t("2023-12-15T00:00:00")
        );
        assert_eq!(
            add_calendar_months(t("2024-02-29T00:00:00"), 12, 0),
            t("2025-02-28T00:00:00")
        );
        // In +08:00, 2024-01-31T20:00Z is Feb 1st 04:00 local: a month on
        // is Mar 1st 04:00 local.
        assert_eq!(
            add_calendar_months(t("2024-01-31T20:00:00"), 1, 480),
            t("2024-02-29T20:00:00")
        );
        assert_eq!(
            add_calendar_months(t("1969-12-31T23:59:59"), 1, 0),
            t("1970-01-31T23:59:59")
        );
        assert_eq!(add_calendar_months(0, i64::MAX, 0), i64::MAX);
        assert_eq!(add_calendar_months(0, i64::MIN, 0), i64::MIN);
        for days in [-800_000, -1, 0, 1, 59, 60, 19_000, 2_900_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(3_600_000), "1h");
        assert_eq!(format_duration(5_400_000), "90m");
        assert_eq!(format_duration(30 * 86_400_000), "30d");
        assert_eq!(format_duration(364 * 86_400_000), "52w");
        assert_eq!(format_duration(1001), "1001ms");
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("1MO"), Some(2_592_000_000));
        assert_eq!(parse_duration_ms("250"), Some(250));
        assert_eq!(parse_duration_ms("1x"), None);
        assert_eq!(parse_duration_ms("9999999999999999y"), None);
    }
}

//! UTC offsets of IANA time zone names (`Asia/Shanghai`), read from the
//! system's zoneinfo files (TZif), so a client's zone id gives ISO-8601
//! literals without an offset their local meaning.

use std::path::Path;

const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The offset in minutes east of UTC of zone `name` at `at_secs` (seconds
/// since the epoch), or `None` if the zone is unknown or its file unreadable.
pub fn offset_minutes(name: &str, at_secs: i64) -> Option<i32> {
    // Names like Area/City: no empty, `.` or `..` parts, no odd characters.
    let ok = !name.is_empty()
        && name.len() < 64
        && name
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    if !ok {
        return None;
    }
    let bytes = std::fs::read(Path::new(ZONEINFO).join(name)).ok()?;
    parse_offset(&bytes, at_secs).map(|s| s / 60)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Offset in seconds from the version-1 block of a TZif file (32-bit
/// transition times: valid until 2038).
fn parse_offset(b: &[u8], at: i64) -> Option<i32> {
    if b.get(..4)? != b"TZif" {
        return None;
    }
    let count = |i: usize| be32(b, 20 + 4 * i).map(|v| v as usize);
    let (timecnt, typecnt) = (count(3)?, count(4)?);
    if typecnt == 0 {
        return None;
    }
    let times = 44;
    let idx = times + 4 * timecnt;
    let types = idx + timecnt;
    let ttinfo = |t: usize| -> Option<i32> { be32(b, types + 6 * t).map(|v| v as i32) };
    let mut current: Option<usize> = None;
    for i in 0..timecnt {
        let t = be32(b, times + 4 * i)? as i32 as i64;
        if t > at {
            break;
        }
        current = Some(*b.get(idx + i)? as usize);
    }
    match current {
        Some(t) if t < typecnt => ttinfo(t),
        Some(_) => None,
        None => ttinfo(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_zones() {
        let now = 1_764_000_000; // November 2025
        if Path::new(ZONEINFO).join("Asia/Shanghai").exists() {
            assert_eq!(offset_minutes("Asia/Shanghai", now), Some(480));
            assert_eq!(offset_minutes("Europe/Berlin", now), Some(60));
            assert_eq!(
                offset_minutes("Europe/Berlin", 1_750_000_000),
                Some(120),
                "summer time"
            );
            assert_eq!(
                offset_minutes("Etc/GMT+8", now),
                Some(-480),
                "IANA's inverted sign"
            );
        }
        assert_eq!(offset_minutes("../etc/passwd", now), None);
        assert_eq!(offset_minutes("Nowhere/Atlantis", now), None);
        assert_eq!(parse_offset(b"TZif-short", 0), None);
    }
}

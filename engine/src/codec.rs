//! Byte-level helpers shared by the on-disk formats: varints, zigzag, and a
//! bounds-checked reader that turns short or malformed input into
//! `Error::Corrupt` instead of a panic.

use crate::error::{Error, Result};

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_varint(out, zigzag(v));
}

pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Reads values from a byte slice; every read is bounds-checked.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    pub fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::corrupt(
            self.what,
            format!("{} (at byte {})", detail.into(), self.pos),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(self.corrupt(format!("needs {n} more bytes, has {}", self.remaining())));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn varint(&mut self) -> Result<u64> {
        // Hot on the scan path (every timestamp): work on the slice directly.
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let mut v: u64 = 0;
        for (i, &b) in rest.iter().take(10).enumerate() {
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                self.pos += i + 1;
                return Ok(v);
            }
        }
        Err(self.corrupt(if rest.len() < 10 {
            "truncated varint"
        } else {
            "varint longer than 10 bytes"
        }))
    }

    pub fn ivarint(&mut self) -> Result<i64> {
        Ok(unzigzag(self.varint()?))
    }

    /// A count that must fit in what is left of the buffer at `min_bytes_each`.
    pub fn count(&mut self, min_bytes_each: usize) -> Result<usize> {
        let n = self.varint()?;
        let limit = self.remaining() / min_bytes_each.max(1);
        if n > limit as u64 {
            return Err(self.corrupt(format!(
                "count {n} exceeds what the remaining bytes can hold"
            )));
        }
        Ok(n as usize)
    }

    pub fn string(&mut self) -> Result<String> {
        let n = self.count(1)?;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.corrupt("string is not UTF-8"))
    }
}

/// `s` as it may be logged or shown: control characters escaped (a peer's
/// text cannot forge log lines or move a terminal's cursor), cut to about
/// `max` bytes.
pub fn printable(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 16);
    for c in s.chars() {
        if out.len() >= max {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` cut to at most `max` bytes on a character boundary, marked if cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_and_cuts() {
        assert_eq!(printable("it's 'fine'", 100), "it's 'fine'");
        assert_eq!(
            printable("a\nWARN forged\x1b[2J", 100),
            "a\\nWARN forged\\u{1b}[2J"
        );
        assert_eq!(
            printable(&"x".repeat(50), 10),
            format!("{}...", "x".repeat(10))
        );
    }

    #[test]
    fn varints_round_trip_and_reject_garbage() {
        let mut out = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            put_varint(&mut out, v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            put_ivarint(&mut out, v);
        }
        let mut r = Reader::new(&out, "test");
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.varint().unwrap(), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(r.ivarint().unwrap(), v);
        }
        assert!(r.is_empty());
        assert!(Reader::new(&[0xff; 11], "t").varint().is_err());
        assert!(Reader::new(&[0x80], "t").varint().is_err());
        assert!(Reader::new(&[0xff, 0x01], "t").count(1).is_err());
    }
}

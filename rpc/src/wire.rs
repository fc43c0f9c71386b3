//! A checked big-endian cursor over untrusted bytes. Every read checks the
//! remaining length first and names what it was reading when it fails, so
//! the payload decoders never index or allocate past what the peer sent.

use crate::error::{Error, Result};

pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails with `Truncated` unless `needed` bytes remain. Use it to check a
    /// declared count before allocating for it.
    pub(crate) fn require(&self, needed: usize, what: &'static str) -> Result<()> {
        if needed > self.remaining() {
            return Err(Error::Truncated {
                what,
                offset: self.pos,
                needed,
                remaining: self.remaining(),
            });
        }
        Ok(())
    }

    /// Like `require`, for `count` items of `width` bytes each (overflow-safe).
    pub(crate) fn require_items(
        &self,
        count: usize,
        width: usize,
        what: &'static str,
    ) -> Result<()> {
        let needed = count.saturating_mul(width);
        self.require(needed, what)
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        self.require(n, what)?;
        let start = self.pos;
        let end = start + n;
        let out = self.buf.get(start..end).ok_or(Error::Truncated {
            what,
            offset: start,
            needed: n,
            remaining: self.remaining(),
        })?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn f32(&mut self, what: &'static str) -> Result<f32> {
        Ok(f32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn f64(&mut self, what: &'static str) -> Result<f64> {
        Ok(f64::from_be_bytes(self.array(what)?))
    }

    /// A non-negative i32 count or length, as usize.
    pub(crate) fn count(&mut self, what: &'static str) -> Result<usize> {
        let n = self.i32(what)?;
        usize::try_from(n).map_err(|_| Error::invalid(what, format!("negative length {n}")))
    }

    /// An i32 length followed by that many bytes (TEXT/STRING/BLOB values).
    pub(crate) fn len_prefixed(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let len = self.count(what)?;
        self.take(len, what)
    }

    /// Fails if bytes remain: trailing bytes mean the layout was misread.
    pub(crate) fn finish(&self, what: &'static str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(
                what,
                format!(
                    "{} unexpected trailing bytes at offset {}",
                    self.remaining(),
                    self.pos
                ),
            ))
        }
    }
}

/// Appends an i32 length prefix and the bytes. Lengths above i32::MAX cannot
/// be expressed on the wire.
pub(crate) fn put_len_prefixed(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<()> {
    let len = i32::try_from(bytes.len())
        .map_err(|_| Error::invalid(what, format!("{} bytes exceed i32::MAX", bytes.len())))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

//! Thrift's framed transport, done with a limit: a frame is a 4-byte
//! big-endian length followed by that many payload bytes. The declared length
//! is checked against `max_frame_bytes` before anything is allocated (thrift's
//! own `TFramedReadTransport` allocates whatever the peer declares, so it is
//! not used here).
//!
//! Two ways to read: [`parse_frame`] for a buffer that an async task fills
//! (it answers "need more bytes" with `Ok(None)`), and [`read_frame`] for a
//! blocking `Read`. [`FrameReader`]/[`FrameWriter`] adapt a stream so the
//! generated thrift client can run over it.

use std::io::{self, Read, Write};

/// Size of the frame length prefix.
pub const FRAME_HEADER_BYTES: usize = 4;

/// Default for the `max_frame_bytes` limit (64 MiB). IoTDB's own server
/// allows up to 512 MiB (`thrift_max_frame_size`); a Python `insert_tablet`
/// of a few hundred thousand points stays far below 64 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// Why a frame could not be read or written. Every variant except `Closed`
/// ends the connection; `Closed` is the normal end of one.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection cleanly, between frames.
    #[error("connection closed")]
    Closed,
    /// The declared length exceeds the configured maximum.
    #[error("frame of {declared} bytes exceeds the limit of {max} bytes")]
    TooLarge { declared: usize, max: usize },
    /// The declared length is zero or negative.
    #[error("invalid frame length {declared}")]
    Invalid { declared: i64 },
    /// The stream failed, or ended in the middle of a frame
    /// (`io::ErrorKind::UnexpectedEof`).
    #[error("frame i/o: {0}")]
    Io(#[from] io::Error),
}

/// Which thrift protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Strict `TBinaryProtocol`: messages start with `0x80 0x01`.
    Binary,
    /// `TCompactProtocol`: messages start with `0x82`.
    Compact,
}

/// First byte of a strict binary message (high byte of VERSION_1 = 0x80010000).
pub const BINARY_FIRST_BYTE: u8 = 0x80;
/// First byte of a compact message (PROTOCOL_ID).
pub const COMPACT_FIRST_BYTE: u8 = 0x82;

/// Tells binary from compact by the first byte of a message. IoTDB clients
/// choose once per connection, so the first frame decides for the rest.
pub fn detect_protocol(first_frame: &[u8]) -> Option<Protocol> {
    match first_frame.first() {
        Some(&BINARY_FIRST_BYTE) => Some(Protocol::Binary),
        Some(&COMPACT_FIRST_BYTE) => Some(Protocol::Compact),
        _ => None,
    }
}

/// Checks a declared frame length against the limit.
fn check_length(declared: i32, max_frame_bytes: usize) -> Result<usize, FrameError> {
    let len = match usize::try_from(declared) {
        Ok(len) if len > 0 => len,
        _ => {
            return Err(FrameError::Invalid {
                declared: i64::from(declared),
            })
        }
    };
    if len > max_frame_bytes {
        return Err(FrameError::TooLarge {
            declared: len,
            max: max_frame_bytes,
        });
    }
    Ok(len)
}

/// Looks for one complete frame at the start of `buf`.
///
/// - `Ok(Some((consumed, payload)))`: a frame; drop `consumed` bytes from the buffer.
/// - `Ok(None)`: need more bytes (the length is already known to be acceptable
///   once 4 bytes are there, so a caller may reserve `4 + length`).
/// - `Err(TooLarge | Invalid)`: malformed; close the connection.
pub fn parse_frame(
    buf: &[u8],
    max_frame_bytes: usize,
) -> Result<Option<(usize, &[u8])>, FrameError> {
    let Some(header) = buf.first_chunk::<FRAME_HEADER_BYTES>() else {
        return Ok(None);
    };
    let len = check_length(i32::from_be_bytes(*header), max_frame_bytes)?;
    let end = FRAME_HEADER_BYTES + len;
    match buf.get(FRAME_HEADER_BYTES..end) {
        Some(payload) => Ok(Some((end, payload))),
        None => Ok(None),
    }
}

/// Reads one frame from a blocking stream. `Err(Closed)` means the stream
/// ended cleanly before the first length byte.
pub fn read_frame(reader: &mut impl Read, max_frame_bytes: usize) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    let mut filled = 0;
    while filled < FRAME_HEADER_BYTES {
        let Some(rest) = header.get_mut(filled..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) if filled == 0 => return Err(FrameError::Closed),
            Ok(0) => {
                return Err(FrameError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "stream ended after {filled} of {FRAME_HEADER_BYTES} frame length bytes"
                    ),
                )))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = check_length(i32::from_be_bytes(header), max_frame_bytes)?;

    // Grow with the bytes that actually arrive instead of reserving the whole
    // declared length up front: a peer that declares 64 MiB and sends nothing
    // costs nothing.
    let mut payload = Vec::with_capacity(len.min(64 * 1024));
    let limit = u64::try_from(len).unwrap_or(u64::MAX);
    reader.by_ref().take(limit).read_to_end(&mut payload)?;
    if payload.len() != len {
        return Err(FrameError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "stream ended after {} of {len} frame payload bytes",
                payload.len()
            ),
        )));
    }
    Ok(payload)
}

/// Encodes one frame (length prefix + payload) into a new buffer.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    let len = match i32::try_from(payload.len()) {
        Ok(0) => return Err(FrameError::Invalid { declared: 0 }),
        Ok(len) => len,
        Err(_) => {
            return Err(FrameError::TooLarge {
                declared: payload.len(),
                max: i32::MAX as usize,
            })
        }
    };
    let mut out = Vec::with_capacity(FRAME_HEADER_BYTES + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Writes one frame and flushes: a frame is a whole message and the peer is
/// waiting for it.
pub fn write_frame(writer: &mut impl Write, payload: &[u8]) -> Result<(), FrameError> {
    let frame = encode_frame(payload)?;
    writer.write_all(&frame)?;
    writer.flush()?;
    Ok(())
}

/// A `Read` that yields the payloads of consecutive frames of `inner`, for
/// the thrift client side. Frame errors become `io::Error`s (with the
/// `FrameError` inside), which thrift reports as transport errors.
pub struct FrameReader<R> {
    inner: R,
    max_frame_bytes: usize,
    frame: Vec<u8>,
    pos: usize,
}

impl<R: Read> FrameReader<R> {
    pub fn new(inner: R, max_frame_bytes: usize) -> Self {
        FrameReader {
            inner,
            max_frame_bytes,
            frame: Vec::new(),
            pos: 0,
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for FrameReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pos >= self.frame.len() {
            self.frame = match read_frame(&mut self.inner, self.max_frame_bytes) {
                Ok(frame) => frame,
                Err(FrameError::Closed) => return Ok(0),
                Err(FrameError::Io(e)) => return Err(e),
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            };
            self.pos = 0;
        }
        let available = self.frame.get(self.pos..).unwrap_or_default();
        let n = available.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), available.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

/// A `Write` that buffers a message and sends it as one frame on `flush()`;
/// thrift's protocols flush once at the end of every message.
pub struct FrameWriter<W> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> FrameWriter<W> {
    pub fn new(inner: W) -> Self {
        FrameWriter {
            inner,
            pending: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for FrameWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return self.inner.flush();
        }
        let pending = std::mem::take(&mut self.pending);
        write_frame(&mut self.inner, &pending).map_err(|e| match e {
            FrameError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidInput, other),
        })
    }
}

#[cfg(test)]
mod tests;

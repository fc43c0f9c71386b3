//! Duet's pipe requests inside IoTDB's `pipeTransfer` call: a V2 handshake
//! (IoTDB's key/value body, plus Duet's node id and protocol version), then
//! batches of change events in Duet's own body format.
//!
//! Batch body: `u8 compression (0 none, 1 lz4)`, then (decompressed)
//! `u32 count` and `count` × (`u32 len`, event bytes), all big-endian.

use std::collections::BTreeMap;

pub const HANDSHAKE_DATANODE_V1: i16 = 1;
pub const HANDSHAKE_DATANODE_V2: i16 = 51;
/// A batch of change events (realtime or history).
pub const DUET_EVENTS: i16 = 1000;
pub const REQUEST_VERSION: i8 = 1;
/// Duet's pipe protocol version, sent in the handshake.
pub const PROTOCOL_VERSION: &str = "1";

pub const KEY_CLUSTER_ID: &str = "clusterID";
pub const KEY_PRECISION: &str = "timestampPrecision";
pub const KEY_USERNAME: &str = "username";
pub const KEY_PASSWORD: &str = "password";
pub const KEY_NODE_ID: &str = "duet.nodeId";
pub const KEY_PROTOCOL: &str = "duet.protocolVersion";
/// Names the sending pipe (name#incarnation): the receiver keeps one
/// high-water mark per origin and stream.
pub const KEY_STREAM: &str = "duet.stream";
/// In the handshake reply: the receiver's mark for (sender, stream), as
/// `seq:hlc` (see `duet_engine::Mark`).
pub const KEY_MARK: &str = "duet.mark";
/// The sender's wall clock (ms) in the handshake; the receiver's in the
/// reply. Each side measures the other's offset from it.
pub const KEY_CLOCK: &str = "duet.clockMs";
/// In the handshake reply: the largest frame the receiver reads
/// (`rpc.max_frame_bytes`); the sender cuts its requests to fit.
pub const KEY_MAX_FRAME: &str = "duet.maxFrameBytes";
/// In the handshake: `true` when the sending pipe sends only its own node's
/// changes (double-living, or not forwarding): the receiver then refuses
/// any event whose origin is another node.
pub const KEY_LOCAL_ONLY: &str = "duet.localOnly";

pub fn encode_mark(m: duet_engine::Mark) -> String {
    format!("{}:{}", m.seq, m.hlc)
}

pub fn decode_mark(s: &str) -> Option<duet_engine::Mark> {
    let (seq, hlc) = s.split_once(':')?;
    Some(duet_engine::Mark {
        seq: seq.parse().ok()?,
        hlc: hlc.parse().ok()?,
    })
}

/// Largest decompressed batch a receiver accepts.
pub const MAX_BATCH_BYTES: usize = 256 << 20;

/// An LZ4 block expands at most about 255-fold: a match's length goes on
/// in extra bytes of up to 255 each.
const LZ4_MAX_RATIO: usize = 255;

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as i32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// IoTDB's V2 handshake body: `i32 count` then (string, string) pairs.
pub fn encode_params(params: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(params.len() as i32).to_be_bytes());
    for (k, v) in params {
        put_str(&mut out, k);
        put_str(&mut out, v);
    }
    out
}

struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("needs {n} bytes, has {}", self.0.len()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "string is not UTF-8".to_string())
    }
}

pub fn decode_params(body: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let mut c = Cur(body);
    let n = c.u32()? as usize;
    if n > body.len() / 8 {
        return Err(format!("{n} parameters cannot fit in {} bytes", body.len()));
    }
    let mut out = BTreeMap::new();
    for _ in 0..n {
        let k = c.string()?;
        let v = c.string()?;
        out.insert(k, v);
    }
    Ok(out)
}

pub fn encode_batch(events: &[Vec<u8>], lz4: bool) -> Vec<u8> {
    let mut raw = Vec::with_capacity(4 + events.iter().map(|e| e.len() + 4).sum::<usize>());
    raw.extend_from_slice(&(events.len() as u32).to_be_bytes());
    for e in events {
        raw.extend_from_slice(&(e.len() as u32).to_be_bytes());
        raw.extend_from_slice(e);
    }
    if lz4 {
        let mut out = vec![1u8];
        out.extend_from_slice(&lz4_flex::compress_prepend_size(&raw));
        out
    } else {
        let mut out = Vec::with_capacity(raw.len() + 1);
        out.push(0);
        out.extend_from_slice(&raw);
        out
    }
}

pub fn decode_batch(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let (&mode, rest) = body.split_first().ok_or("empty batch")?;
    let owned;
    let raw: &[u8] = match mode {
        0 => rest,
        1 => {
            let declared = rest
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or("truncated lz4 batch")?;
            if declared > MAX_BATCH_BYTES {
                return Err(format!(
                    "batch of {declared} bytes is over the {MAX_BATCH_BYTES}-byte limit"
                ));
            }
            // The decompressor allocates the declared size up front: hold it
            // to what the compressed bytes can expand to, so a few bytes
            // cannot make the receiver allocate 256 MiB.
            let compressed = rest.len().saturating_sub(4);
            if declared > compressed.saturating_mul(LZ4_MAX_RATIO).saturating_add(64) {
                return Err(format!(
                    "lz4 batch declares {declared} bytes, more than {compressed} compressed bytes can hold"
                ));
            }
            owned = lz4_flex::decompress_size_prepended(rest)
                .map_err(|e| format!("bad lz4 batch: {e}"))?;
            &owned
        }
        m => return Err(format!("unknown batch compression {m}")),
    };
    let mut c = Cur(raw);
    let n = c.u32()? as usize;
    if n > raw.len() / 4 {
        return Err(format!("{n} events cannot fit in {} bytes", raw.len()));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = c.u32()? as usize;
        out.push(c.take(len)?.to_vec());
    }
    if !c.0.is_empty() {
        return Err("trailing bytes after the last event".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_and_params_round_trip_and_reject_garbage() {
        let events = vec![b"abc".to_vec(), vec![], vec![7; 1000]];
        for lz4 in [false, true] {
            let b = encode_batch(&events, lz4);
            assert_eq!(decode_batch(&b).unwrap(), events);
            for cut in 0..b.len() {
                assert!(decode_batch(&b[..cut]).is_err(), "cut at {cut}");
            }
        }
        assert!(decode_batch(&[0, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(
            decode_batch(&[1, 0xff, 0xff, 0xff, 0x7f]).is_err(),
            "a huge declared size is refused"
        );
        let p: BTreeMap<String, String> = [("clusterID".to_string(), "c1".to_string())].into();
        assert_eq!(decode_params(&encode_params(&p)).unwrap(), p);
        assert!(decode_params(&[0, 0, 0, 9]).is_err());
    }

    /// Found by proptest (pipe/tests/fuzz_wire.rs): five bytes declaring a
    /// 150 MB lz4 batch made the receiver allocate it before decompressing.
    #[test]
    fn an_lz4_batch_cannot_declare_more_than_its_bytes_can_hold() {
        let mut body = vec![1u8];
        body.extend_from_slice(&150_000_000u32.to_le_bytes());
        body.extend_from_slice(&[0; 8]);
        let e = decode_batch(&body).unwrap_err();
        assert!(e.contains("compressed bytes can hold"), "{e}");
        // The most compressible batch there is still decodes.
        let events = vec![vec![0u8; 8 << 20]];
        assert_eq!(decode_batch(&encode_batch(&events, true)).unwrap(), events);
    }
}

//! Duet's pipe requests inside IoTDB's `pipeTransfer` call: a V2 handshake
//! (IoTDB's key/value body, plus Duet's node id and protocol version), then
//! batches of change events in Duet's own body format.
//!
//! Batch body: a compression header, then the events, compressed as the
//! header says. The events, once decompressed: `u32 count` and `count` ×
//! (`u32 len`, event bytes), all big-endian.
//!
//! The header is one of:
//! - `0`: not compressed;
//! - `1`: one LZ4 stage (a block with its size first, `u32` little-endian);
//! - `2`, `u8 n` (1 to [`MAX_CHAIN`]), then `n` stage ids in the order the
//!   sender applied them (1 lz4 as above, 2 snappy (framed format), 3 gzip
//!   (one member), 4 zstd (one frame)); the receiver undoes the last first.
//!
//! Forms 0 and 1 are what Duet sent before chains existed: a sender still
//! writes them for no compression and for `lz4` alone, so an older receiver
//! understands it, and batches from an older sender still decode. Only
//! snappy, gzip, zstd and chains need form 2 (an older receiver refuses it
//! as an unknown compression, and the pipe stops with that message).
//!
//! Each stage's output is held to [`MAX_BATCH_BYTES`] (an inner stage to a
//! little more, what compressing that much can grow to) while it streams,
//! so no batch can make the receiver hold more than that.

use crate::compress::{self, Codec, MAX_CHAIN};
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

/// Header forms (see the module doc).
const PLAIN: u8 = 0;
const LZ4_ALONE: u8 = 1;
const CHAIN: u8 = 2;

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

/// A batch of events, compressed by `chain` in order (see the module doc).
pub fn encode_batch(events: &[Vec<u8>], chain: &[Codec]) -> Vec<u8> {
    // Not compressed, the header and the events share one buffer.
    let mut raw = Vec::with_capacity(raw_batch_len(events) + 1);
    if chain.is_empty() {
        raw.push(PLAIN);
    }
    raw.extend_from_slice(&(events.len() as u32).to_be_bytes());
    for e in events {
        raw.extend_from_slice(&(e.len() as u32).to_be_bytes());
        raw.extend_from_slice(e);
    }
    match chain {
        [] => raw,
        [Codec::Lz4] => {
            let mut out = vec![LZ4_ALONE];
            out.extend_from_slice(&Codec::Lz4.compress(&raw));
            out
        }
        _ => {
            let mut body = raw;
            for c in chain {
                body = c.compress(&body);
            }
            let mut out = Vec::with_capacity(body.len() + 2 + chain.len());
            out.push(CHAIN);
            out.push(chain.len() as u8);
            out.extend(chain.iter().map(|c| c.id()));
            out.extend_from_slice(&body);
            out
        }
    }
}

/// Bytes of a batch before compression (what `encode_batch` compresses).
pub fn raw_batch_len(events: &[Vec<u8>]) -> usize {
    4 + events.iter().map(|e| e.len() + 4).sum::<usize>()
}

pub fn decode_batch(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    decode_batch_within(body, MAX_BATCH_BYTES)
}

/// `decode_batch` with the limit as a parameter (tests use a small one).
fn decode_batch_within(body: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, String> {
    let (&mode, rest) = body.split_first().ok_or("empty batch")?;
    let owned;
    let raw: &[u8] = match mode {
        PLAIN => rest,
        LZ4_ALONE => {
            owned = compress::decompress(Codec::Lz4.id(), rest, limit)?;
            &owned
        }
        CHAIN => {
            let (&n, rest) = rest.split_first().ok_or("truncated batch header")?;
            let n = usize::from(n);
            if n == 0 || n > MAX_CHAIN {
                return Err(format!(
                    "a chain of {n} compressors (1 to {MAX_CHAIN} are allowed)"
                ));
            }
            let ids = rest.get(..n).ok_or("truncated batch header")?;
            let mut data = rest[n..].to_vec();
            // What compressing `limit` bytes can grow to: every codec here
            // stores incompressible data with well under 1/16 overhead.
            let inner_limit = limit + limit / 16 + 1024;
            for (i, &id) in ids.iter().enumerate().rev() {
                let cap = if i == 0 { limit } else { inner_limit };
                data = compress::decompress(id, &data, cap)?;
            }
            owned = data;
            &owned
        }
        m => return Err(format!("unknown batch compression {m}")),
    };
    if raw.len() > limit {
        return Err(format!(
            "batch of {} bytes is over the {limit}-byte limit",
            raw.len()
        ));
    }
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
    use Codec::*;

    const CHAINS: &[&[Codec]] = &[
        &[],
        &[Lz4],
        &[Snappy],
        &[Gzip],
        &[Zstd { level: 3 }],
        &[Snappy, Lz4],
        &[Gzip, Zstd { level: 19 }, Snappy],
        &[Lz4, Lz4],
    ];

    fn sample_events() -> Vec<Vec<u8>> {
        vec![b"abc".to_vec(), vec![], vec![7; 1000]]
    }

    #[test]
    fn batches_and_params_round_trip_and_reject_garbage() {
        let events = sample_events();
        for chain in CHAINS {
            let b = encode_batch(&events, chain);
            assert_eq!(decode_batch(&b).unwrap(), events, "{chain:?}");
            for cut in 0..b.len() {
                assert!(decode_batch(&b[..cut]).is_err(), "{chain:?} cut at {cut}");
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

    /// What Duet sent before chains: a node running that version and this
    /// one understand each other's uncompressed and lz4 batches.
    #[test]
    fn the_old_single_byte_forms_are_still_written_and_read() {
        let events = sample_events();
        let mut raw = 3u32.to_be_bytes().to_vec();
        for e in &events {
            raw.extend_from_slice(&(e.len() as u32).to_be_bytes());
            raw.extend_from_slice(e);
        }
        let mut old_plain = vec![0u8];
        old_plain.extend_from_slice(&raw);
        let mut old_lz4 = vec![1u8];
        old_lz4.extend_from_slice(&lz4_flex::compress_prepend_size(&raw));
        assert_eq!(encode_batch(&events, &[]), old_plain);
        assert_eq!(encode_batch(&events, &[Lz4]), old_lz4);
        assert_eq!(decode_batch(&old_plain).unwrap(), events);
        assert_eq!(decode_batch(&old_lz4).unwrap(), events);
    }

    /// `'snappy,lz4'`: snappy first, then lz4; the header lists them in
    /// that order and the receiver undoes lz4 first.
    #[test]
    fn a_chain_is_applied_in_the_order_written() {
        let events = sample_events();
        let b = encode_batch(&events, &[Snappy, Lz4]);
        assert_eq!(&b[..4], &[CHAIN, 2, Snappy.id(), Lz4.id()]);
        let snappy = compress::decompress(Lz4.id(), &b[4..], 1 << 20).unwrap();
        let raw = compress::decompress(Snappy.id(), &snappy, 1 << 20).unwrap();
        assert_eq!(raw.len(), raw_batch_len(&events));
        // Listed the other way round, the same bytes do not decode.
        let mut swapped = b.clone();
        swapped.swap(2, 3);
        assert!(decode_batch(&swapped).is_err());
    }

    #[test]
    fn bad_chain_headers_are_refused() {
        for body in [
            &[CHAIN][..],
            &[CHAIN, 0, 1, 2, 3],
            &[CHAIN, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            &[CHAIN, 3, 1, 2],
            &[CHAIN, 1, 7, 0, 0, 0, 0],
            &[3, 0, 0, 0, 0],
        ] {
            assert!(decode_batch(body).is_err(), "{body:?}");
        }
    }

    /// A batch that expands past the limit is refused by every codec and
    /// chain, as it streams (the test holds the limit to 1 MiB).
    #[test]
    fn bombs_are_refused_by_every_chain() {
        let events = vec![vec![0u8; 16 << 20]];
        for chain in &CHAINS[1..] {
            let b = encode_batch(&events, chain);
            assert!(b.len() < 1 << 20, "{chain:?}: {} bytes", b.len());
            let e = decode_batch_within(&b, 1 << 20).unwrap_err();
            assert!(
                e.contains("limit") || e.contains("can hold"),
                "{chain:?}: {e}"
            );
            assert_eq!(
                decode_batch(&b).unwrap(),
                events,
                "{chain:?} under the real limit"
            );
        }
        let plain = encode_batch(&events, &[]);
        assert!(decode_batch_within(&plain, 1 << 20).is_err());
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
        assert_eq!(
            decode_batch(&encode_batch(&events, &[Lz4])).unwrap(),
            events
        );
    }
}

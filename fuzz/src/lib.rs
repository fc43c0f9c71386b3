//! Harnesses for the cargo-fuzz targets in `fuzz_targets/`, one function per
//! input surface, so a target is one line and `make-seeds` can write inputs
//! the harnesses accept. Each harness panics only when a property fails: a
//! decoder that panics, or a round trip that does not return what it was
//! given.
//!
//! - [`sql`]: `duet_parser::parse` and `parse_many`; what parses prints and
//!   parses back to the same statement.
//! - [`rpc_frames`]: the server's own request handling (`ConnHandler` behind
//!   the generated processor, as `server/src/net.rs` runs it) on framed or
//!   unframed, binary or compact messages, on a fresh connection or on one
//!   that has logged in.
//! - [`rpc_payloads`]: the binary payloads inside calls (insert records and
//!   tablets) and the TsBlock of query results.
//! - [`pipe_transfer`]: `duet_pipe::receiver::handle` before and after a
//!   handshake, and the wire decoders under it.
//! - [`chunk_event`]: chunk and change-event decoding, re-encoding and the
//!   RocksDB merge.
//! - [`config`]: `duet.toml` parsing and validation.

pub mod node;
pub mod seeds;

/// The largest single allocation a harness may make: the inputs are a few
/// KiB and the frame limit 16 KiB, so anything this big is a decoder
/// trusting a declared length. Over it the process aborts, which libFuzzer
/// reports as a crash with the input saved.
pub const MAX_ALLOCATION: usize = 64 << 20;

struct Capped;

// SAFETY: forwards to the system allocator unchanged; only refuses sizes.
unsafe impl std::alloc::GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        check(layout.size());
        std::alloc::System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        check(layout.size());
        std::alloc::System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        check(new);
        std::alloc::System.realloc(ptr, layout, new)
    }
}

fn check(size: usize) {
    if size > MAX_ALLOCATION {
        // No allocation here: write the message with a stack buffer.
        use std::io::Write;
        let mut buf = [0u8; 96];
        let mut w = &mut buf[..];
        let _ = write!(w, "allocation of {size} bytes over the fuzzing cap\n");
        let left = w.len();
        let _ = std::io::stderr().write_all(&buf[..buf.len() - left]);
        std::process::abort();
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;

use duet_engine::chunk::{decode_points, merge_encoded, Chunk};
use duet_engine::event::{ChangeEvent, EventHeader};
use duet_rpc::frame::{detect_protocol, parse_frame, FrameReader, Protocol};
use duet_rpc::generated::IClientRPCServiceSyncProcessor;
use std::io::Read;

/// First byte of an `rpc_frames` input: how the rest is read.
pub const RPC_FRAMED: u8 = 1;
/// ... run on the node's connection that has logged in as root.
pub const RPC_LOGGED_IN: u8 = 2;

/// First byte of a `pipe_transfer` input: run on a connection whose
/// handshake succeeded.
pub const PIPE_AFTER_HANDSHAKE: u8 = 1;

pub fn sql(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match duet_parser::parse(text) {
        Ok(st) => {
            let printed = st.to_string();
            match duet_parser::parse(&printed) {
                Ok(back) => assert!(
                    back == st || back.to_string() == printed,
                    "parse(display(s)) != s\ninput: {text:?}\nprinted: {printed:?}\nfirst: {st:?}\nback: {back:?}"
                ),
                Err(e) => panic!(
                    "display(s) does not parse\ninput: {text:?}\nprinted: {printed:?}\n{}",
                    e.render(&printed)
                ),
            }
        }
        Err(e) => {
            assert!(e.offset <= text.len());
            let _ = e.render(text);
        }
    }
    let _ = duet_parser::parse_many(text);
}

pub fn rpc_frames(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Frame limits as the server has them before login (16 KiB) keep
    // inputs and handler work small.
    let max = 16 << 10;
    let frames: Vec<&[u8]> = if mode & RPC_FRAMED != 0 {
        framed(rest, max)
    } else {
        vec![rest]
    };
    let Some(protocol) = frames.first().and_then(|f| detect_protocol(f)) else {
        return;
    };
    if mode & RPC_LOGGED_IN != 0 {
        let node = node::node();
        let processor = node::LockExt::lock(&node.logged_in);
        serve(&*processor, &frames, protocol);
    } else {
        let processor = node::node().connection();
        serve(&processor, &frames, protocol);
    }
}

/// Splits a stream into frames as the server does, and checks that the
/// blocking reader clients use reads the same frames.
fn framed(stream: &[u8], max: usize) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    let mut rest = stream;
    loop {
        match parse_frame(rest, max) {
            Ok(Some((consumed, payload))) => {
                assert!(consumed > payload.len() && consumed <= rest.len());
                frames.push(payload);
                rest = &rest[consumed..];
            }
            Ok(None) | Err(_) => break,
        }
    }
    let mut reader = FrameReader::new(stream, max);
    let mut all = Vec::new();
    let _ = reader.read_to_end(&mut all);
    let expected: Vec<u8> = frames.concat();
    assert!(
        all.starts_with(&expected),
        "FrameReader and parse_frame disagree"
    );
    frames
}

fn serve<H>(processor: &IClientRPCServiceSyncProcessor<H>, frames: &[&[u8]], protocol: Protocol)
where
    H: duet_rpc::generated::IClientRPCServiceSyncHandler,
{
    for frame in frames {
        let _ = duet_rpc::service::method_name(frame, protocol);
        if duet_rpc::service::process_frame(processor, frame, protocol).is_err() {
            // The server closes the connection here.
            return;
        }
    }
}

pub fn rpc_payloads(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(block) = duet_rpc::tsblock::TsBlock::decode(rest) {
                let again = duet_rpc::tsblock::TsBlock::decode(&block.encode())
                    .expect("an encoded TsBlock decodes");
                assert_eq!(again.encode(), block.encode());
            }
        }
        1 => {
            let (count, values) = split_count(rest);
            if let Ok(v) = duet_rpc::insert::decode_record_values(values, count) {
                let bytes =
                    duet_rpc::insert::encode_record_values(&v).expect("decoded values encode");
                let back = duet_rpc::insert::decode_record_values(&bytes, count)
                    .expect("encoded values decode");
                assert_eq!(
                    duet_rpc::insert::encode_record_values(&back).ok(),
                    Some(bytes)
                );
            }
        }
        _ => {
            // types (one byte each), size, then timestamps and values.
            let (ntypes, rest) = split_count(rest);
            let (types, rest) = rest.split_at(ntypes.min(rest.len()));
            let types: Vec<i32> = types.iter().map(|&t| i32::from(t % 12)).collect();
            let (size, rest) = split_count(rest);
            let (nts, rest) = split_count(rest);
            let (ts, values) = rest.split_at(nts.min(rest.len()));
            let _ = duet_rpc::insert::tablet_decoded_bytes(&types, size as i32, values.len());
            if let Ok(t) = duet_rpc::insert::decode_tablet(ts, values, &types, size as i32) {
                let enc = duet_rpc::insert::encode_tablet(&t).expect("decoded tablets encode");
                let _ = enc;
            }
        }
    }
}

/// A small count from the first byte, and the rest.
fn split_count(data: &[u8]) -> (usize, &[u8]) {
    match data.split_first() {
        Some((&n, rest)) => (usize::from(n), rest),
        None => (0, data),
    }
}

pub fn pipe_transfer(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let _ = duet_pipe::wire::decode_params(rest);
    if let Ok(events) = duet_pipe::wire::decode_batch(rest) {
        use duet_pipe::compress::Codec;
        for chain in [
            &[][..],
            &[Codec::Lz4],
            &[Codec::Snappy, Codec::Zstd { level: 1 }],
        ] {
            let again =
                duet_pipe::wire::decode_batch(&duet_pipe::wire::encode_batch(&events, chain));
            assert_eq!(again, Ok(events.clone()));
        }
    }
    let node = node::node();
    let mut state = if mode & PIPE_AFTER_HANDSHAKE != 0 {
        node.after_handshake()
    } else {
        node.before_handshake()
    };
    // Requests: i16 type, u16 length, body; the last takes what is left.
    let mut rest = rest;
    while rest.len() >= 2 {
        let req_type = i16::from_be_bytes([rest[0], rest[1]]);
        rest = &rest[2..];
        let (body, next) = match rest.get(..2) {
            Some(&[a, b]) if usize::from(u16::from_be_bytes([a, b])) + 2 <= rest.len() => {
                let len = usize::from(u16::from_be_bytes([a, b]));
                (&rest[2..2 + len], &rest[2 + len..])
            }
            _ => (rest, &rest[rest.len()..]),
        };
        let _ = duet_pipe::receiver::handle(&node.engine, &mut state, req_type, body);
        rest = next;
    }
}

pub fn chunk_event(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let decoded = Chunk::decode(rest);
            let points = decode_points(rest);
            if let Ok(c) = decoded {
                let (times, values) = points.expect("a chunk that decodes has points");
                assert_eq!(times, c.times);
                assert_eq!(values.len(), c.values.len());
                let bytes = c.encode();
                let back = Chunk::decode(&bytes).expect("an encoded chunk decodes");
                assert_eq!(back.encode(), bytes);
            }
        }
        1 => {
            let header = EventHeader::decode(rest);
            let chunks = ChangeEvent::insert_chunks(rest);
            if let Ok(e) = ChangeEvent::decode(rest) {
                assert_eq!(header.ok(), Some(e.header()));
                let chunks = chunks.expect("an event that decodes has chunks");
                let bytes = e.encode();
                let back = ChangeEvent::decode(&bytes).expect("an encoded event decodes");
                assert_eq!(back.encode(), bytes);
                if let duet_engine::event::EventBody::Insert(w) = &e.body {
                    assert_eq!(chunks.len(), w.len());
                }
            }
        }
        _ => {
            // Operands separated by 0xFE 0xFE; the merge must not depend on
            // their order when they all decode.
            let ops: Vec<&[u8]> = split_on(rest, &[0xfe, 0xfe]);
            let forward = merge_encoded(None, ops.iter().copied());
            let backward = merge_encoded(None, ops.iter().rev().copied());
            if let (Ok(a), Ok(b)) = (&forward, &backward) {
                assert_eq!(a, b, "the merge depends on the order of its operands");
            }
        }
    }
}

fn split_on<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= data.len() {
        if &data[i..i + sep.len()] == sep {
            out.push(&data[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&data[start..]);
    out
}

pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = duet_server::config::Config::parse(text) {
        if cfg.validate().is_ok() {
            let _ = cfg.storage.rocksdb_memory_bytes();
            let _ = cfg.storage.pipe_read_bytes();
            let _ = cfg.storage.query_page_bytes();
            let _ = cfg.replication.gate();
        }
    }
}

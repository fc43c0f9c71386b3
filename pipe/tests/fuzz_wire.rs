//! `pipeTransfer` payloads as a receiver gets them from a peer it cannot
//! trust: arbitrary and damaged handshakes and batches, before and after a
//! handshake, must end in a reply (never a panic or a huge allocation);
//! batches and handshake parameters round-trip. 256 cases each in the test
//! suite; `scripts/fuzz.sh --proptest` runs them with PROPTEST_CASES=100000.

use duet_engine::{Engine, EngineOptions};
use duet_pipe::compress::Codec;
use duet_pipe::receiver::{handle, ReceiverState};
use duet_pipe::wire::*;
use duet_rpc::status::SUCCESS_STATUS;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

// No single allocation over 64 MiB (shared with the other fuzz suites).
include!("../../tests/capped_alloc.rs");

struct Node {
    _dir: tempfile::TempDir,
    engine: Engine,
    /// What a successful handshake left: (peer, stream).
    handshaken: (Option<u32>, String),
}

fn handshake(engine: &Engine) -> BTreeMap<String, String> {
    [
        (KEY_CLUSTER_ID, "peer".to_string()),
        (KEY_PRECISION, "ms".to_string()),
        (KEY_USERNAME, "root".to_string()),
        (KEY_PASSWORD, "root".to_string()),
        (KEY_PROTOCOL, PROTOCOL_VERSION.to_string()),
        (KEY_STREAM, "p#1".to_string()),
        (KEY_NODE_ID, engine.node_id().wrapping_add(1).to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// One engine for the whole run; logging in hashes the password, so the
/// handshake is done once and its outcome copied into each case's state.
fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path(), EngineOptions::default()).expect("engine");
        let mut st = ReceiverState::default();
        let body = encode_params(&handshake(&engine));
        let reply = handle(&engine, &mut st, HANDSHAKE_DATANODE_V2, &body);
        assert_eq!(reply.code, SUCCESS_STATUS, "{reply:?}");
        Node {
            _dir: dir,
            engine,
            handshaken: (st.peer, st.stream),
        }
    })
}

fn state(after_handshake: bool) -> ReceiverState {
    let mut st = ReceiverState {
        max_frame_bytes: 1 << 20,
        ..ReceiverState::default()
    };
    if after_handshake {
        st.peer = node().handshaken.0;
        st.stream = node().handshaken.1.clone();
    }
    st
}

/// Events the engine encodes: each kind, from the peer's node id.
fn sample_events() -> Vec<Vec<u8>> {
    use duet_engine::chunk::Chunk;
    use duet_engine::event::{ChangeEvent, EventBody, SchemaChange, SeriesDelete, SeriesWrite};
    use duet_engine::{Column, DataType, Version};
    let origin = node().engine.node_id().wrapping_add(1);
    let v = Version::new(duet_engine::hlc::wall_clock_ms() << 16, origin);
    let bodies = vec![
        EventBody::Schema(SchemaChange::CreateDatabase {
            path: "root.fz".into(),
            bucket_span_ms: 3_600_000,
        }),
        EventBody::Insert(vec![SeriesWrite {
            path: "root.fz.d.s".into(),
            chunk: Chunk::from_write(&[1, 2], &Column::I64(vec![3, 4]), v),
        }]),
        EventBody::Delete(vec![SeriesDelete {
            path: "root.fz.d.s".into(),
            data_type: DataType::Int64,
            start: 0,
            end: 1,
        }]),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            ChangeEvent {
                origin,
                origin_seq: i as u64 + 1,
                version: v,
                body,
            }
            .encode()
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Damage {
    Cut(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Huge(prop::sample::Index),
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    let one = prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Cut),
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| Damage::Flip(i, x)),
        (any::<prop::sample::Index>(), vec(any::<u8>(), 1..6))
            .prop_map(|(i, b)| Damage::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Damage::Huge),
    ];
    vec(one, 1..4)
}

fn apply(mut bytes: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    for d in damage {
        let len = bytes.len().max(1);
        match d {
            Damage::Cut(i) => bytes.truncate(i.index(len)),
            Damage::Flip(i, x) => {
                if let Some(b) = bytes.get_mut(i.index(len)) {
                    *b ^= x;
                }
            }
            Damage::Insert(i, b) => {
                let at = i.index(len).min(bytes.len());
                bytes.splice(at..at, b.iter().copied());
            }
            Damage::Huge(i) => {
                let at = i.index(len).min(bytes.len());
                let end = (at + 4).min(bytes.len());
                bytes.splice(at..end, [0x7f, 0xff, 0xff, 0xf0]);
            }
        }
    }
    bytes
}

/// No compression, one codec, or a chain of up to three.
fn codecs() -> impl Strategy<Value = Vec<Codec>> {
    let codec = prop_oneof![
        Just(Codec::Lz4),
        Just(Codec::Snappy),
        Just(Codec::Gzip),
        (-5..=19).prop_map(|level| Codec::Zstd { level }),
    ];
    vec(codec, 0..=3)
}

fn req_type() -> impl Strategy<Value = i16> {
    prop_oneof![
        Just(HANDSHAKE_DATANODE_V2),
        Just(HANDSHAKE_DATANODE_V1),
        Just(DUET_EVENTS),
        any::<i16>(),
    ]
}

proptest! {
    #[test]
    fn batches_round_trip(events in vec(vec(any::<u8>(), 0..40), 0..6), chain in codecs()) {
        let body = encode_batch(&events, &chain);
        prop_assert_eq!(decode_batch(&body), Ok(events));
    }

    #[test]
    fn params_round_trip(params in btree_map(".{0,8}", ".{0,8}", 0..6)) {
        prop_assert_eq!(decode_params(&encode_params(&params)), Ok(params));
    }

    #[test]
    fn arbitrary_bodies_never_panic(
        body in vec(any::<u8>(), 0..200),
        t in req_type(),
        after in any::<bool>(),
    ) {
        let _ = decode_params(&body);
        let _ = decode_batch(&body);
        let mut st = state(after);
        let _ = handle(&node().engine, &mut st, t, &body);
    }

    #[test]
    fn damaged_handshakes_never_panic(d in damage(), after in any::<bool>()) {
        let body = apply(encode_params(&handshake(&node().engine)), &d);
        let mut st = state(after);
        let _ = handle(&node().engine, &mut st, HANDSHAKE_DATANODE_V2, &body);
    }

    /// Damaged batches of real events, compressed or not, before and after
    /// a handshake.
    #[test]
    fn damaged_batches_never_panic(d in damage(), chain in codecs(), after in any::<bool>()) {
        let mut events = sample_events();
        if let Some(first) = events.first_mut() {
            *first = apply(first.clone(), &d);
        }
        let mut st = state(after);
        let whole = encode_batch(&events, &chain);
        let _ = handle(&node().engine, &mut st, DUET_EVENTS, &whole);
        let _ = handle(&node().engine, &mut st, DUET_EVENTS, &apply(whole, &d));
    }
}

//! Decoders of bytes from disk and from peers, against arbitrary and
//! damaged input: every decoder returns a value or an error (never panics,
//! never allocates past what the bytes can hold), and what decodes encodes
//! back to bytes that decode the same. 256 cases each in the test suite;
//! `scripts/fuzz.sh --proptest` runs them with PROPTEST_CASES=100000.

use duet_engine::chunk::{decode_points, merge_encoded, Chunk, Tombstone};
use duet_engine::event::{
    ChangeEvent, EventBody, EventHeader, SchemaChange, SeriesDelete, SeriesWrite,
};
use duet_engine::{Column, DataType, Version};
use proptest::collection::vec;
use proptest::prelude::*;

// No single allocation over 64 MiB (shared with the other fuzz suites).
include!("../../tests/capped_alloc.rs");

fn version() -> impl Strategy<Value = Version> {
    (any::<u64>(), any::<u32>()).prop_map(|(hlc, node)| Version::new(hlc, node))
}

fn column(n: usize) -> impl Strategy<Value = Column> {
    prop_oneof![
        vec(any::<bool>(), n).prop_map(Column::Bool),
        vec(any::<i32>(), n).prop_map(Column::I32),
        vec(any::<i64>(), n).prop_map(Column::I64),
        vec(any::<f32>(), n).prop_map(Column::F32),
        vec(any::<f64>(), n).prop_map(Column::F64),
        vec(".{0,6}", n).prop_map(Column::Text),
    ]
}

fn tombstone() -> impl Strategy<Value = Tombstone> {
    (any::<i64>(), any::<i64>(), version()).prop_map(|(start, end, version)| Tombstone {
        start,
        end,
        version,
    })
}

/// Any chunk the engine can build: a write (timestamps anywhere in i64),
/// with tombstones added.
fn chunk() -> impl Strategy<Value = Chunk> {
    (0usize..12)
        .prop_flat_map(|n| {
            (
                vec(any::<i64>(), n),
                column(n),
                version(),
                vec(tombstone(), 0..3),
            )
        })
        .prop_map(|(times, values, v, tombstones)| {
            let mut c = Chunk::from_write(&times, &values, v);
            c.tombstones = tombstones;
            c
        })
}

fn data_type() -> impl Strategy<Value = DataType> {
    (0u8..6).prop_map(|b| DataType::from_u8(b).unwrap_or(DataType::Int64))
}

fn body() -> impl Strategy<Value = EventBody> {
    prop_oneof![
        vec(
            (".{0,12}", chunk()).prop_map(|(path, chunk)| SeriesWrite { path, chunk }),
            0..4
        )
        .prop_map(EventBody::Insert),
        vec(
            (".{0,12}", data_type(), any::<i64>(), any::<i64>()).prop_map(
                |(path, data_type, start, end)| SeriesDelete {
                    path,
                    data_type,
                    start,
                    end
                }
            ),
            0..4
        )
        .prop_map(EventBody::Delete),
        (".{0,12}", any::<i64>()).prop_map(|(path, bucket_span_ms)| EventBody::Schema(
            SchemaChange::CreateDatabase {
                path,
                bucket_span_ms
            }
        )),
        ".{0,12}".prop_map(|path| EventBody::Schema(SchemaChange::DropDatabase { path })),
        (".{0,12}", data_type(), ".{0,6}", ".{0,6}").prop_map(
            |(path, data_type, encoding, compressor)| EventBody::Schema(
                SchemaChange::CreateTimeseries {
                    path,
                    data_type,
                    encoding,
                    compressor,
                    labels: Vec::new(),
                }
            )
        ),
        vec(".{0,12}", 0..4)
            .prop_map(|paths| EventBody::Schema(SchemaChange::DeleteTimeseries { paths })),
    ]
}

fn event() -> impl Strategy<Value = ChangeEvent> {
    (any::<u32>(), any::<u64>(), version(), body()).prop_map(
        |(origin, origin_seq, version, body)| ChangeEvent {
            origin,
            origin_seq,
            version,
            body,
        },
    )
}

/// Damage to valid bytes: cut, flip, insert or overwrite with a large value.
#[derive(Debug, Clone)]
enum Damage {
    Cut(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Big(prop::sample::Index),
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    let one = prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Cut),
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| Damage::Flip(i, x)),
        (any::<prop::sample::Index>(), vec(any::<u8>(), 1..6))
            .prop_map(|(i, b)| Damage::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Damage::Big),
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
            Damage::Big(i) => {
                // A maximal varint: a count or length as large as it gets.
                let at = i.index(len).min(bytes.len());
                bytes.splice(
                    at..at,
                    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                );
            }
        }
    }
    bytes
}

/// Decodes `bytes` every way the engine does; checks re-encoding of what
/// decodes.
fn decode_chunk_every_way(bytes: &[u8]) -> Result<(), TestCaseError> {
    let points = decode_points(bytes);
    if let Ok(c) = Chunk::decode(bytes) {
        let (times, _) = points.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&times, &c.times);
        let again = c.encode();
        let back = Chunk::decode(&again).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.encode(), again);
    }
    let _ = merge_encoded(Some(bytes), [bytes].into_iter());
    Ok(())
}

fn decode_event_every_way(bytes: &[u8]) -> Result<(), TestCaseError> {
    let _ = EventHeader::decode(bytes);
    let _ = ChangeEvent::insert_chunks(bytes);
    if let Ok(e) = ChangeEvent::decode(bytes) {
        let again = e.encode();
        let back = ChangeEvent::decode(&again).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.encode(), again);
    }
    Ok(())
}

proptest! {
    #[test]
    fn chunks_round_trip(c in chunk()) {
        let bytes = c.encode();
        let back = Chunk::decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Bytes, not values: NaN != NaN.
        prop_assert_eq!(back.encode(), bytes.clone());
        let (times, values) = decode_points(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(times, c.times);
        prop_assert_eq!(values.len(), c.values.len());
    }

    #[test]
    fn events_round_trip(e in event()) {
        let bytes = e.encode();
        let back = ChangeEvent::decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back.encode(), bytes.clone());
        prop_assert_eq!(EventHeader::decode(&bytes).ok(), Some(e.header()));
        let chunks = ChangeEvent::insert_chunks(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let EventBody::Insert(w) = &e.body {
            prop_assert_eq!(chunks.len(), w.len());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..200), first in 0u8..3) {
        // A valid first byte (format 1) gets past the first check.
        let mut b = bytes;
        if let Some(x) = b.first_mut() {
            *x = first.min(1);
        }
        decode_chunk_every_way(&b)?;
        decode_event_every_way(&b)?;
    }

    #[test]
    fn damaged_chunks_never_panic(c in chunk(), d in damage()) {
        decode_chunk_every_way(&apply(c.encode(), &d))?;
    }

    #[test]
    fn damaged_events_never_panic(e in event(), d in damage()) {
        decode_event_every_way(&apply(e.encode(), &d))?;
    }
}

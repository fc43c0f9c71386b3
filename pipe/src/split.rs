//! Events cut to fit the peer's request limit. The receiver announces its
//! frame limit at the handshake; an event larger than what one request may
//! carry (a 62 MiB tablet, a bucket of large TEXT values in a history
//! transfer, a peer configured with a smaller `rpc.max_frame_bytes`) is cut
//! into pieces by series and then by points. Every piece but the last has
//! `origin_seq = 0`, so the receiver applies it unconditionally (the merge
//! makes applying a piece twice harmless) without moving its mark; the last
//! piece carries the event's sequence, so the mark moves only once the whole
//! event is there. What cannot be cut (one point, or a schema change,
//! larger than the limit) is an error the task reports; it is never retried
//! forever.
//!
//! Pure functions (STYLE habit 4).

use duet_engine::event::{ChangeEvent, EventBody, SeriesWrite};

/// Room for the thrift call around a batch body and the batch header.
pub const REQUEST_OVERHEAD: usize = 4096;

/// `event` as one or more encoded events, each at most `max` bytes.
pub fn fit(event: Vec<u8>, max: usize) -> Result<Vec<Vec<u8>>, String> {
    if event.len() <= max {
        return Ok(vec![event]);
    }
    let e = ChangeEvent::decode(&event).map_err(|e| format!("an event to cut is corrupt: {e}"))?;
    let EventBody::Insert(writes) = &e.body else {
        return Err(format!(
            "a {:?} change of {} bytes is larger than the peer accepts in one request ({max} bytes): raise the peer's rpc.max_frame_bytes",
            e.body.kind(),
            event.len()
        ));
    };
    let size_of = |ws: &[SeriesWrite]| piece(&e, ws.to_vec(), 0).encode().len();
    // Every write small enough on its own...
    let mut parts: Vec<SeriesWrite> = Vec::new();
    for w in writes {
        cut_write(w.clone(), max, &size_of, &mut parts)?;
    }
    // ...then packed greedily into events.
    let mut groups: Vec<Vec<SeriesWrite>> = Vec::new();
    let mut current: Vec<SeriesWrite> = Vec::new();
    for w in parts {
        current.push(w);
        if current.len() > 1 && size_of(&current) > max {
            // The write just added starts the next group.
            let next = current.split_off(current.len() - 1);
            groups.push(std::mem::replace(&mut current, next));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let n = groups.len();
    Ok(groups
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let seq = if i + 1 == n { e.origin_seq } else { 0 };
            piece(&e, ws, seq).encode()
        })
        .collect())
}

fn piece(e: &ChangeEvent, writes: Vec<SeriesWrite>, origin_seq: u64) -> ChangeEvent {
    ChangeEvent {
        origin: e.origin,
        origin_seq,
        version: e.version,
        body: EventBody::Insert(writes),
    }
}

/// Halves `w`'s points until each half fits; tombstones stay with the first.
fn cut_write(
    w: SeriesWrite,
    max: usize,
    size_of: &impl Fn(&[SeriesWrite]) -> usize,
    out: &mut Vec<SeriesWrite>,
) -> Result<(), String> {
    let size = size_of(std::slice::from_ref(&w));
    if size <= max {
        out.push(w);
        return Ok(());
    }
    let n = w.chunk.len();
    if n <= 1 {
        let at = w
            .chunk
            .times
            .first()
            .map_or(String::new(), |t| format!(" at time {t}"));
        return Err(format!(
            "one point of {}{at} takes {size} bytes, more than the peer accepts in one request ({max} bytes): raise the peer's rpc.max_frame_bytes",
            w.path
        ));
    }
    let mid = n / 2;
    let mut left = w.chunk.select(&(0..mid).collect::<Vec<_>>());
    left.tombstones = w.chunk.tombstones.clone();
    let right = w.chunk.select(&(mid..n).collect::<Vec<_>>());
    cut_write(
        SeriesWrite {
            path: w.path.clone(),
            chunk: left,
        },
        max,
        size_of,
        out,
    )?;
    cut_write(
        SeriesWrite {
            path: w.path,
            chunk: right,
        },
        max,
        size_of,
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use duet_engine::chunk::Chunk;
    use duet_engine::event::SchemaChange;
    use duet_engine::{Column, Version};

    fn insert(series: usize, points: usize, text_len: usize, seq: u64) -> ChangeEvent {
        let writes = (0..series)
            .map(|s| {
                let times: Vec<i64> = (0..points as i64).collect();
                let values = Column::Text(
                    (0..points)
                        .map(|i| format!("{i}{}", "x".repeat(text_len)))
                        .collect(),
                );
                SeriesWrite {
                    path: format!("root.sg.d.s{s}"),
                    chunk: Chunk::from_write(&times, &values, Version::new(5 << 16, 1)),
                }
            })
            .collect();
        ChangeEvent {
            origin: 1,
            origin_seq: seq,
            version: Version::new(5 << 16, 1),
            body: EventBody::Insert(writes),
        }
    }

    /// (path, time) of every point in encoded events.
    fn points(events: &[Vec<u8>]) -> Vec<(String, i64, String)> {
        let mut out = Vec::new();
        for e in events {
            let EventBody::Insert(ws) = ChangeEvent::decode(e).unwrap().body else {
                panic!("not an insert")
            };
            for w in ws {
                for (i, t) in w.chunk.times.iter().enumerate() {
                    out.push((
                        w.path.clone(),
                        *t,
                        w.chunk.values.get(i).unwrap().to_string(),
                    ));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_small_event_is_untouched() {
        let e = insert(2, 10, 4, 9).encode();
        assert_eq!(fit(e.clone(), 1 << 20).unwrap(), vec![e]);
    }

    #[test]
    fn a_large_event_is_cut_into_pieces_that_fit_and_keep_every_point() {
        let original = insert(3, 2_000, 100, 42);
        let bytes = original.encode();
        let max = 64 << 10;
        assert!(bytes.len() > 8 * max);
        let pieces = fit(bytes.clone(), max).unwrap();
        assert!(pieces.len() >= 9, "{} pieces", pieces.len());
        assert!(pieces.iter().all(|p| p.len() <= max));
        assert_eq!(points(&pieces), points(&[bytes]));
        let seqs: Vec<u64> = pieces
            .iter()
            .map(|p| ChangeEvent::decode(p).unwrap().origin_seq)
            .collect();
        assert_eq!(seqs.last(), Some(&42), "the last piece moves the mark");
        assert!(seqs[..seqs.len() - 1].iter().all(|&s| s == 0));
        for p in &pieces {
            let d = ChangeEvent::decode(p).unwrap();
            assert_eq!((d.origin, d.version), (original.origin, original.version));
        }
    }

    #[test]
    fn what_cannot_be_cut_is_an_error_naming_it() {
        let big = insert(1, 1, 200_000, 3).encode();
        let e = fit(big, 64 << 10).unwrap_err();
        assert!(e.contains("root.sg.d.s0") && e.contains("at time 0"), "{e}");
        let schema = ChangeEvent {
            origin: 1,
            origin_seq: 4,
            version: Version::new(1, 1),
            body: EventBody::Schema(SchemaChange::CreateDatabase {
                path: format!("root.{}", "x".repeat(1000)),
                bucket_span_ms: 1,
            }),
        };
        assert!(fit(schema.encode(), 100).unwrap_err().contains("Schema"));
    }
}

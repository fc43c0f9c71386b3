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

/// A point left out of a cut event: larger on its own than the peer takes.
#[derive(Debug, Clone, PartialEq)]
pub struct TooLarge {
    pub path: String,
    pub time: i64,
    /// The point's version: with the path and time it names the point.
    pub version: duet_engine::Version,
    pub bytes: usize,
    pub max: usize,
    /// The point's value as text, for the conflict log.
    pub value: String,
}

/// `event` as one or more encoded events, each at most `max` bytes, and
/// the points left out because one alone is larger than `max` (a pipe never
/// stops on data: the sender records them in its conflict log). An event
/// that is not an insert and is too large is an error.
pub fn fit(event: Vec<u8>, max: usize) -> Result<(Vec<Vec<u8>>, Vec<TooLarge>), String> {
    if event.len() <= max {
        return Ok((vec![event], Vec::new()));
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
    let mut left_out = Vec::new();
    for w in writes {
        cut_write(w.clone(), max, &size_of, &mut parts, &mut left_out);
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
    // The last piece carries the event's position (the receiver's mark);
    // with every point left out, an empty insert still carries it.
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    let n = groups.len();
    let pieces = groups
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let seq = if i + 1 == n { e.origin_seq } else { 0 };
            piece(&e, ws, seq).encode()
        })
        .collect();
    Ok((pieces, left_out))
}

fn piece(e: &ChangeEvent, writes: Vec<SeriesWrite>, origin_seq: u64) -> ChangeEvent {
    ChangeEvent {
        origin: e.origin,
        origin_seq,
        version: e.version,
        body: EventBody::Insert(writes),
    }
}

/// Halves `w`'s points until each half fits; tombstones stay with the
/// first. A single point too large on its own goes to `left_out`.
fn cut_write(
    w: SeriesWrite,
    max: usize,
    size_of: &impl Fn(&[SeriesWrite]) -> usize,
    out: &mut Vec<SeriesWrite>,
    left_out: &mut Vec<TooLarge>,
) {
    let size = size_of(std::slice::from_ref(&w));
    if size <= max {
        out.push(w);
        return;
    }
    let n = w.chunk.len();
    if n <= 1 {
        if let Some(&time) = w.chunk.times.first() {
            left_out.push(TooLarge {
                value: w
                    .chunk
                    .values
                    .get(0)
                    .map_or(String::new(), |v| v.to_string()),
                version: w.chunk.versions.first().copied().unwrap_or_default(),
                path: w.path,
                time,
                bytes: size,
                max,
            });
        }
        return;
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
        left_out,
    );
    cut_write(
        SeriesWrite {
            path: w.path,
            chunk: right,
        },
        max,
        size_of,
        out,
        left_out,
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
        assert_eq!(fit(e.clone(), 1 << 20).unwrap(), (vec![e], vec![]));
    }

    #[test]
    fn a_large_event_is_cut_into_pieces_that_fit_and_keep_every_point() {
        let original = insert(3, 2_000, 100, 42);
        let bytes = original.encode();
        let max = 64 << 10;
        assert!(bytes.len() > 8 * max);
        let (pieces, left_out) = fit(bytes.clone(), max).unwrap();
        assert!(left_out.is_empty());
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
    fn a_point_too_large_alone_is_left_out_and_named_the_rest_goes() {
        // Two series: one point each, the first 200 kB, the second small.
        let mut e = insert(2, 1, 10, 3);
        if let EventBody::Insert(ws) = &mut e.body {
            ws[0].chunk.values = Column::Text(vec!["x".repeat(200_000)]);
        }
        let (pieces, left_out) = fit(e.encode(), 64 << 10).unwrap();
        assert_eq!(left_out.len(), 1);
        let l = &left_out[0];
        assert_eq!(
            (l.path.as_str(), l.time, l.max),
            ("root.sg.d.s0", 0, 64 << 10)
        );
        assert!(l.bytes > 200_000 && l.value.len() == 200_000);
        let sent: Vec<(String, i64)> = points(&pieces).into_iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(sent, vec![("root.sg.d.s1".to_string(), 0)]);
        // The event's position still travels (on the last piece).
        let last = ChangeEvent::decode(pieces.last().unwrap()).unwrap();
        assert_eq!(last.origin_seq, 3);
        // Every point too large: an empty insert carries the position.
        let (pieces, left_out) = fit(insert(1, 1, 200_000, 7).encode(), 64 << 10).unwrap();
        assert_eq!(left_out.len(), 1);
        let only = ChangeEvent::decode(&pieces[0]).unwrap();
        assert_eq!(only.origin_seq, 7);
        assert!(matches!(only.body, EventBody::Insert(ref w) if w.is_empty()));
    }

    #[test]
    fn a_change_that_is_not_an_insert_and_too_large_is_an_error() {
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

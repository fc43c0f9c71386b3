//! Columnar chunks: the points of one series in one time bucket, and the merge
//! rule that makes replication converge.
//!
//! A chunk holds timestamps (strictly ascending), one version per point, the
//! values, and range tombstones `[start, end]` with their versions. Writes
//! add chunks as RocksDB merge operands; `merge_all` combines any number of
//! chunks so that for every timestamp the point with the greatest version
//! survives unless a tombstone with a greater version covers it. The result
//! depends only on the *set* of chunks merged, never on their order or on
//! duplicates, which is what lets two nodes apply the same writes in
//! different orders and end up byte-identical.
//!
//! Encoding (all counts varint):
//! `FORMAT(u8) type(u8) n | t0(zigzag) deltas… | runs: n_runs (len hlc:u64 node:u32)… |
//!  values | n_tomb (start(zigzag) end(zigzag) hlc node)…`

use crate::codec::{put_ivarint, put_varint, Reader};
use crate::error::{Error, Result};
use crate::hlc::Version;
use crate::types::{Column, DataType};
use std::cmp::Ordering;

const FORMAT: u8 = 1;

/// Deletes the points in `[start, end]` (inclusive) whose version is lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tombstone {
    pub start: i64,
    pub end: i64,
    pub version: Version,
}

impl Tombstone {
    /// Whether it deletes the point at `t` written at `v`.
    pub fn kills(&self, t: i64, v: Version) -> bool {
        self.start <= t && t <= self.end && self.version > v
    }
    fn dominates(&self, o: &Tombstone) -> bool {
        self.start <= o.start && o.end <= self.end && self.version >= o.version
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub times: Vec<i64>,
    pub versions: Vec<Version>,
    pub values: Column,
    pub tombstones: Vec<Tombstone>,
}

impl Chunk {
    pub fn empty(dtype: DataType) -> Chunk {
        Chunk {
            times: Vec::new(),
            versions: Vec::new(),
            values: Column::new(dtype),
            tombstones: Vec::new(),
        }
    }

    pub fn data_type(&self) -> DataType {
        self.values.data_type()
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The points of one write, all with `version`. Input need not be sorted;
    /// when a timestamp repeats within the write, the later one wins (as a
    /// later row of the same INSERT would).
    pub fn from_write(times: &[i64], values: &Column, version: Version) -> Chunk {
        let mut order: Vec<usize> = (0..times.len()).collect();
        // Stable: equal timestamps keep input order, so the last is the later row.
        order.sort_by_key(|&i| times[i]);
        let mut keep: Vec<usize> = Vec::with_capacity(order.len());
        for i in order {
            match keep.last_mut() {
                Some(last) if times[*last] == times[i] => *last = i,
                _ => keep.push(i),
            }
        }
        let already_in_order =
            keep.iter().enumerate().all(|(k, &i)| k == i) && keep.len() == times.len();
        Chunk {
            times: keep.iter().map(|&i| times[i]).collect(),
            versions: vec![version; keep.len()],
            values: if already_in_order {
                values.clone()
            } else {
                values.select(&keep)
            },
            tombstones: Vec::new(),
        }
    }

    /// The same points with their values widened to `target`.
    pub fn widen_to(&self, target: DataType) -> Result<Chunk> {
        let values = self.values.widen_to(target).ok_or_else(|| {
            Error::corrupt(
                "chunk",
                format!("{} values do not widen to {target}", self.data_type()),
            )
        })?;
        Ok(Chunk {
            values,
            ..self.clone()
        })
    }

    /// The points at `keep` (ascending indices), without tombstones.
    pub fn select(&self, keep: &[usize]) -> Chunk {
        Chunk {
            times: keep.iter().map(|&i| self.times[i]).collect(),
            versions: keep.iter().map(|&i| self.versions[i]).collect(),
            values: self.values.select(keep),
            tombstones: Vec::new(),
        }
    }

    /// A chunk that only carries a tombstone.
    pub fn tombstone(dtype: DataType, t: Tombstone) -> Chunk {
        Chunk {
            tombstones: vec![t],
            ..Chunk::empty(dtype)
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.times.len() * 10);
        self.encode_into(&mut out);
        out
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(FORMAT);
        out.push(self.data_type() as u8);
        put_varint(out, self.times.len() as u64);
        let mut prev = 0i64;
        for (i, &t) in self.times.iter().enumerate() {
            if i == 0 {
                put_ivarint(out, t);
            } else {
                put_varint(out, t.wrapping_sub(prev) as u64);
            }
            prev = t;
        }
        let runs = version_runs(&self.versions);
        put_varint(out, runs.len() as u64);
        for (len, v) in runs {
            put_varint(out, len as u64);
            out.extend_from_slice(&v.hlc.to_le_bytes());
            out.extend_from_slice(&v.node.to_le_bytes());
        }
        encode_values(&self.values, out);
        put_varint(out, self.tombstones.len() as u64);
        for t in &self.tombstones {
            put_ivarint(out, t.start);
            put_ivarint(out, t.end);
            out.extend_from_slice(&t.version.hlc.to_le_bytes());
            out.extend_from_slice(&t.version.node.to_le_bytes());
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Chunk> {
        let mut r = Reader::new(bytes, "chunk");
        let (dtype, times) = decode_header_and_times(&mut r)?;
        let n = times.len();
        let n_runs = r.count(13)?;
        let mut versions = Vec::with_capacity(n);
        for _ in 0..n_runs {
            let len = r.varint()?;
            let v = Version::new(r.u64()?, r.u32()?);
            // A run length from disk can be anything up to u64::MAX: the
            // sum must not wrap (a wrapped sum would shrink `versions`).
            let total = usize::try_from(len)
                .ok()
                .and_then(|len| versions.len().checked_add(len))
                .filter(|&total| len > 0 && total <= n);
            let Some(total) = total else {
                return Err(r.corrupt("version runs do not match the point count"));
            };
            versions.resize(total, v);
        }
        if versions.len() != n {
            return Err(r.corrupt("version runs do not match the point count"));
        }
        let values = decode_values(&mut r, dtype, n)?;
        let n_tomb = r.count(14)?;
        let mut tombstones = Vec::with_capacity(n_tomb);
        for _ in 0..n_tomb {
            let start = r.ivarint()?;
            let end = r.ivarint()?;
            let version = Version::new(r.u64()?, r.u32()?);
            tombstones.push(Tombstone {
                start,
                end,
                version,
            });
        }
        if !r.is_empty() {
            return Err(r.corrupt("trailing bytes"));
        }
        Ok(Chunk {
            times,
            versions,
            values,
            tombstones,
        })
    }
}

/// Decodes only timestamps and values: the scan path, which does not need
/// versions or tombstones (the merge has applied them already).
pub fn decode_points(bytes: &[u8]) -> Result<(Vec<i64>, Column)> {
    let mut r = Reader::new(bytes, "chunk");
    let (dtype, times) = decode_header_and_times(&mut r)?;
    let n_runs = r.count(13)?;
    for _ in 0..n_runs {
        r.varint()?;
        r.bytes(12)?;
    }
    let values = decode_values(&mut r, dtype, times.len())?;
    Ok((times, values))
}

fn decode_header_and_times(r: &mut Reader<'_>) -> Result<(DataType, Vec<i64>)> {
    let format = r.u8()?;
    if format != FORMAT {
        return Err(r.corrupt(format!("unknown chunk format {format}")));
    }
    let tag = r.u8()?;
    let dtype =
        DataType::from_u8(tag).ok_or_else(|| r.corrupt(format!("unknown data type {tag}")))?;
    let n = r.count(1)?;
    let mut times = Vec::with_capacity(n);
    let mut prev = 0i64;
    for i in 0..n {
        let t = if i == 0 {
            r.ivarint()?
        } else {
            // The encoder writes `t - prev` as a wrapping u64, so a gap
            // wider than i64::MAX (i64::MIN then i64::MAX) is written too;
            // adding it back with wrapping is exact, and a result not above
            // `prev` means the delta was zero or overshot i64::MAX.
            let t = prev.wrapping_add(r.varint()? as i64);
            if t <= prev {
                return Err(r.corrupt("timestamps not strictly ascending"));
            }
            t
        };
        times.push(t);
        prev = t;
    }
    Ok((dtype, times))
}

fn version_runs(versions: &[Version]) -> Vec<(usize, Version)> {
    let mut runs: Vec<(usize, Version)> = Vec::new();
    for &v in versions {
        match runs.last_mut() {
            Some((len, last)) if *last == v => *len += 1,
            _ => runs.push((1, v)),
        }
    }
    runs
}

fn encode_values(values: &Column, out: &mut Vec<u8>) {
    match values {
        Column::Bool(v) => out.extend(v.iter().map(|&b| b as u8)),
        Column::I32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Column::I64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Column::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Column::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Column::Text(v) | Column::Str(v) => v.iter().for_each(|s| crate::codec::put_str(out, s)),
        Column::Timestamp(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Column::Date(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Column::Blob(v) => v.iter().for_each(|b| {
            crate::codec::put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }),
    }
}

fn decode_values(r: &mut Reader<'_>, dtype: DataType, n: usize) -> Result<Column> {
    fn fixed<const W: usize, T>(
        r: &mut Reader<'_>,
        n: usize,
        f: fn([u8; W]) -> T,
    ) -> Result<Vec<T>> {
        let b = r.bytes(
            n.checked_mul(W)
                .ok_or_else(|| r.corrupt("value column too large"))?,
        )?;
        Ok(b.chunks_exact(W)
            .map(|c| {
                let mut a = [0u8; W];
                a.copy_from_slice(c);
                f(a)
            })
            .collect())
    }
    Ok(match dtype {
        DataType::Boolean => {
            let b = r.bytes(n)?;
            if b.iter().any(|&x| x > 1) {
                return Err(r.corrupt("boolean value other than 0 or 1"));
            }
            Column::Bool(b.iter().map(|&x| x == 1).collect())
        }
        DataType::Int32 => Column::I32(fixed(r, n, i32::from_le_bytes)?),
        DataType::Int64 => Column::I64(fixed(r, n, i64::from_le_bytes)?),
        DataType::Float => Column::F32(fixed(r, n, f32::from_le_bytes)?),
        DataType::Double => Column::F64(fixed(r, n, f64::from_le_bytes)?),
        DataType::Text => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(r.string()?);
            }
            Column::Text(v)
        }
        DataType::String => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(r.string()?);
            }
            Column::Str(v)
        }
        DataType::Timestamp => Column::Timestamp(fixed(r, n, i64::from_le_bytes)?),
        DataType::Date => Column::Date(fixed(r, n, i32::from_le_bytes)?),
        DataType::Blob => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let len = r.count(1)?;
                v.push(r.bytes(len)?.to_vec());
            }
            Column::Blob(v)
        }
    })
}

/// Merges chunks of one series and bucket. Order and duplicates of the inputs
/// do not change the result.
pub fn merge_all(chunks: &[Chunk]) -> Result<Chunk> {
    let Some(first) = chunks.first() else {
        return Err(Error::invalid("nothing to merge"));
    };
    let dtype = first.data_type();
    if chunks.iter().any(|c| c.data_type() != dtype) {
        // A series both nodes wrote with different types: every chunk in
        // the join of their types (exact), so the result is the same in
        // whatever order the chunks come.
        let joined = chunks.iter().fold(dtype, |t, c| t.join(c.data_type()));
        let widened = chunks
            .iter()
            .map(|c| c.widen_to(joined))
            .collect::<Result<Vec<_>>>()?;
        return merge_all(&widened);
    }
    let tombstones = merge_tombstones(chunks);

    // Fast path: chunks already in time order without overlap (appends).
    let mut last_time: Option<i64> = None;
    let appends = tombstones.is_empty()
        && chunks.iter().filter(|c| !c.is_empty()).all(|c| {
            let in_order = last_time.is_none_or(|l| l < c.times[0]);
            last_time = c.times.last().copied();
            in_order
        });
    if appends {
        let n: usize = chunks.iter().map(Chunk::len).sum();
        let mut out = Chunk {
            times: Vec::with_capacity(n),
            versions: Vec::with_capacity(n),
            values: Column::with_capacity(dtype, n),
            tombstones,
        };
        for c in chunks {
            out.times.extend_from_slice(&c.times);
            out.versions.extend_from_slice(&c.versions);
            append_column(&mut out.values, &c.values);
        }
        return Ok(out);
    }

    // General path: every point as (time, version, chunk, index); for each
    // time keep the greatest version (exact ties: greatest value, so the pick
    // is deterministic), then drop what a newer tombstone covers.
    let mut all: Vec<(i64, Version, u32, u32)> =
        Vec::with_capacity(chunks.iter().map(Chunk::len).sum());
    for (ci, c) in chunks.iter().enumerate() {
        for (pi, (&t, &v)) in c.times.iter().zip(&c.versions).enumerate() {
            all.push((t, v, ci as u32, pi as u32));
        }
    }
    let winner_first = |a: &(i64, Version, u32, u32), b: &(i64, Version, u32, u32)| -> Ordering {
        a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)).then_with(|| {
            Column::cmp_at(
                &chunks[b.2 as usize].values,
                b.3 as usize,
                &chunks[a.2 as usize].values,
                a.3 as usize,
            )
        })
    };
    all.sort_by(winner_first);
    all.dedup_by_key(|p| p.0);
    all.retain(|&(t, v, _, _)| !tombstones.iter().any(|tb| tb.kills(t, v)));

    let mut out = Chunk {
        times: Vec::with_capacity(all.len()),
        versions: Vec::with_capacity(all.len()),
        values: Column::with_capacity(dtype, all.len()),
        tombstones,
    };
    for (t, v, ci, pi) in all {
        out.times.push(t);
        out.versions.push(v);
        out.values
            .push_from(&chunks[ci as usize].values, pi as usize);
    }
    Ok(out)
}

/// `src`'s values after `dst`'s (both of one type).
pub(crate) fn append_column(dst: &mut Column, src: &Column) {
    match (dst, src) {
        (Column::Bool(a), Column::Bool(b)) => a.extend_from_slice(b),
        (Column::I32(a), Column::I32(b)) => a.extend_from_slice(b),
        (Column::I64(a), Column::I64(b)) => a.extend_from_slice(b),
        (Column::F32(a), Column::F32(b)) => a.extend_from_slice(b),
        (Column::F64(a), Column::F64(b)) => a.extend_from_slice(b),
        (Column::Text(a), Column::Text(b)) => a.extend_from_slice(b),
        (Column::Timestamp(a), Column::Timestamp(b)) => a.extend_from_slice(b),
        (Column::Date(a), Column::Date(b)) => a.extend_from_slice(b),
        (Column::Blob(a), Column::Blob(b)) => a.extend_from_slice(b),
        (Column::Str(a), Column::Str(b)) => a.extend_from_slice(b),
        _ => debug_assert!(false, "append across types (checked by merge_all)"),
    }
}

/// The union of all tombstones, without those another one makes redundant.
fn merge_tombstones(chunks: &[Chunk]) -> Vec<Tombstone> {
    normalize_tombstones(
        chunks
            .iter()
            .flat_map(|c| c.tombstones.iter().copied())
            .collect(),
    )
}

/// Sorts, removes duplicates and tombstones another one makes redundant: the
/// result depends only on the set given.
pub fn normalize_tombstones(mut all: Vec<Tombstone>) -> Vec<Tombstone> {
    if all.len() < 2 {
        return all;
    }
    all.sort();
    all.dedup();
    let keep: Vec<bool> = all
        .iter()
        .enumerate()
        .map(|(i, t)| {
            !all.iter()
                .enumerate()
                .any(|(j, o)| j != i && o.dominates(t))
        })
        .collect();
    all.into_iter()
        .zip(keep)
        .filter_map(|(t, k)| k.then_some(t))
        .collect()
}

/// The RocksDB merge: decode the existing value and every operand, merge,
/// encode. `None` (a failed merge, which RocksDB reports as corruption on
/// read) only when some input does not decode.
pub fn merge_encoded<'a>(
    existing: Option<&'a [u8]>,
    operands: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<u8>> {
    let mut chunks = Vec::new();
    if let Some(e) = existing {
        chunks.push(Chunk::decode(e)?);
    }
    for op in operands {
        chunks.push(Chunk::decode(op)?);
    }
    Ok(merge_all(&chunks)?.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(hlc: u64, node: u32) -> Version {
        Version::new(hlc, node)
    }

    #[test]
    fn round_trips_every_type() {
        let cols = [
            Column::Bool(vec![true, false, true]),
            Column::I32(vec![1, -2, i32::MAX]),
            Column::I64(vec![i64::MIN, 0, 5]),
            Column::F32(vec![1.5, -0.0, f32::MAX]),
            Column::F64(vec![0.1, f64::MIN_POSITIVE, -3.0]),
            Column::Text(vec!["a".into(), "".into(), "ünï".into()]),
        ];
        for c in cols {
            let mut ch = Chunk::from_write(&[-5, 0, 1_000_000], &c, v(10, 1));
            ch.tombstones.push(Tombstone {
                start: -100,
                end: -50,
                version: v(9, 2),
            });
            let bytes = ch.encode();
            assert_eq!(Chunk::decode(&bytes).unwrap(), ch);
            let (t, vals) = decode_points(&bytes).unwrap();
            assert_eq!((t, vals), (ch.times.clone(), ch.values.clone()));
        }
    }

    #[test]
    fn a_write_keeps_its_last_duplicate() {
        let c = Chunk::from_write(&[3, 1, 3], &Column::I64(vec![30, 10, 31]), v(1, 1));
        assert_eq!(c.times, vec![1, 3]);
        assert_eq!(c.values, Column::I64(vec![10, 31]));
    }

    #[test]
    fn greater_version_wins_and_tombstones_apply() {
        let a = Chunk::from_write(&[1, 2, 3], &Column::F64(vec![1.0, 2.0, 3.0]), v(10, 1));
        let b = Chunk::from_write(&[2], &Column::F64(vec![20.0]), v(11, 2));
        let old = Chunk::from_write(&[3], &Column::F64(vec![-3.0]), v(9, 2));
        let del = Chunk::tombstone(
            DataType::Double,
            Tombstone {
                start: 1,
                end: 1,
                version: v(12, 2),
            },
        );
        let m = merge_all(&[a, b, old, del]).unwrap();
        assert_eq!(m.times, vec![2, 3]);
        assert_eq!(m.values, Column::F64(vec![20.0, 3.0]));
        // A write older than the tombstone, arriving later, stays deleted.
        let late = Chunk::from_write(&[1], &Column::F64(vec![5.0]), v(11, 1));
        let m2 = merge_all(&[m.clone(), late]).unwrap();
        assert_eq!(m2.times, vec![2, 3]);
        // A newer write after the tombstone comes back.
        let newer = Chunk::from_write(&[1], &Column::F64(vec![6.0]), v(13, 1));
        assert_eq!(merge_all(&[m, newer]).unwrap().times, vec![1, 2, 3]);
    }

    #[test]
    fn bad_bytes_are_errors_not_panics() {
        let good = Chunk::from_write(
            &[1, 2],
            &Column::Text(vec!["x".into(), "y".into()]),
            v(1, 1),
        )
        .encode();
        for cut in 0..good.len() {
            assert!(
                Chunk::decode(&good[..cut]).is_err(),
                "prefix of {cut} bytes decoded"
            );
        }
        let mut bad = good.clone();
        bad[1] = 99;
        assert!(Chunk::decode(&bad).is_err());
        assert!(Chunk::decode(&[FORMAT, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        // Two types merge in their join (see DataType::join).
        let joined = merge_all(&[
            Chunk::from_write(&[1], &Column::I32(vec![7]), v(1, 1)),
            Chunk::from_write(&[2], &Column::Text(vec!["a".into()]), v(1, 2)),
        ])
        .unwrap();
        assert_eq!(joined.values, Column::Text(vec!["7".into(), "a".into()]));
    }

    /// Found by proptest (engine/tests/fuzz_decode.rs): a chunk whose
    /// timestamps are more than i64::MAX apart encoded, but did not decode
    /// ("timestamps not strictly ascending").
    #[test]
    fn timestamps_further_apart_than_i64_max_round_trip() {
        let c = Chunk::from_write(
            &[i64::MIN, -1, i64::MAX],
            &Column::I64(vec![1, 2, 3]),
            v(1, 1),
        );
        assert_eq!(Chunk::decode(&c.encode()).unwrap(), c);
        assert_eq!(decode_points(&c.encode()).unwrap().0, c.times);
        // A delta that overshoots i64::MAX is still an error.
        let mut bad = vec![FORMAT, DataType::Int64 as u8, 2];
        put_ivarint(&mut bad, i64::MAX - 1);
        put_varint(&mut bad, 2);
        let e = Chunk::decode(&bad).unwrap_err().to_string();
        assert!(e.contains("not strictly ascending"), "{e}");
    }

    /// Found by fuzzing (chunk_event): a second version run of length
    /// u64::MAX overflowed `versions.len() + len` (a panic with overflow
    /// checks; without them the sum wrapped, shrank the runs read so far,
    /// and a third run could make the count match again).
    #[test]
    fn a_version_run_as_long_as_u64_max_is_an_error() {
        let mut bytes = vec![FORMAT, DataType::Int64 as u8, 2, 0, 1, 3];
        let run = |bytes: &mut Vec<u8>, len: &[u8]| {
            bytes.extend_from_slice(len);
            bytes.extend_from_slice(&7u64.to_le_bytes());
            bytes.extend_from_slice(&1u32.to_le_bytes());
        };
        run(&mut bytes, &[1]);
        run(
            &mut bytes,
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        );
        run(&mut bytes, &[2]);
        bytes.extend_from_slice(&[0; 16]);
        bytes.push(0);
        assert!(Chunk::decode(&bytes).is_err());
        assert!(
            decode_points(&bytes).is_ok(),
            "the scan path skips versions"
        );
    }

    use proptest::prelude::*;

    fn arb_chunk() -> impl Strategy<Value = Chunk> {
        let write = (
            prop::collection::vec((0..30i64, -5..5i64), 1..8),
            0..6u64,
            1..3u32,
        )
            .prop_map(|(pts, hlc, node)| {
                let times: Vec<i64> = pts.iter().map(|p| p.0).collect();
                let vals = Column::I64(pts.iter().map(|p| p.1).collect());
                Chunk::from_write(&times, &vals, Version::new(hlc, node))
            });
        let del = (0..30i64, 0..8i64, 0..6u64, 1..3u32).prop_map(|(start, len, hlc, node)| {
            Chunk::tombstone(
                DataType::Int64,
                Tombstone {
                    start,
                    end: start + len,
                    version: Version::new(hlc, node),
                },
            )
        });
        prop_oneof![3 => write, 1 => del]
    }

    /// Chunks of any type: a series two nodes wrote with different types.
    fn arb_typed_chunk() -> impl Strategy<Value = Chunk> {
        (arb_chunk(), 0..10u8).prop_map(|(c, t)| {
            let values = match &c.values {
                Column::I64(v) => match t {
                    0 => Column::I32(v.iter().map(|&x| x as i32).collect()),
                    1 => Column::I64(v.clone()),
                    2 => Column::F32(v.iter().map(|&x| x as f32 / 3.0).collect()),
                    3 => Column::F64(v.iter().map(|&x| x as f64 / 3.0).collect()),
                    4 => Column::Bool(v.iter().map(|&x| x > 0).collect()),
                    5 => Column::Text(v.iter().map(|x| format!("t{x}")).collect()),
                    6 => Column::Timestamp(v.clone()),
                    7 => Column::Date(
                        v.iter()
                            .map(|&x| 20240101 + (x.rem_euclid(28) as i32))
                            .collect(),
                    ),
                    8 => Column::Blob(v.iter().map(|x| x.to_le_bytes().to_vec()).collect()),
                    _ => Column::Str(v.iter().map(|x| format!("s{x}")).collect()),
                },
                other => other.clone(),
            };
            let values = if c.is_empty() {
                Column::new(values.data_type())
            } else {
                values
            };
            Chunk { values, ..c }
        })
    }

    proptest! {
        /// Mixed types: the same bytes in any order and grouping too.
        #[test]
        fn merge_of_mixed_types_is_order_independent(
            chunks in prop::collection::vec(arb_typed_chunk(), 1..8),
            perm in any::<prop::sample::Index>(),
            split in any::<prop::sample::Index>(),
        ) {
            let expected = merge_all(&chunks).unwrap().encode();
            let mut shuffled = chunks.clone();
            let k = perm.index(shuffled.len());
            shuffled.rotate_left(k);
            shuffled.reverse();
            let cut = split.index(shuffled.len()).max(1);
            let mut rest = vec![merge_all(&shuffled[..cut]).unwrap()];
            rest.extend_from_slice(&shuffled[cut..]);
            prop_assert_eq!(merge_all(&rest).unwrap().encode(), expected);
        }

        /// Any order, any grouping into partial merges, any duplicates: the
        /// same encoded bytes.
        #[test]
        fn merge_is_order_and_duplicate_independent(
            chunks in prop::collection::vec(arb_chunk(), 1..10),
            perm in any::<prop::sample::Index>(),
            split in any::<prop::sample::Index>(),
            dup in any::<prop::sample::Index>(),
        ) {
            let expected = merge_all(&chunks).unwrap().encode();
            let mut shuffled = chunks.clone();
            let k = perm.index(shuffled.len());
            shuffled.rotate_left(k);
            shuffled.reverse();
            shuffled.push(chunks[dup.index(chunks.len())].clone());
            let cut = split.index(shuffled.len()).max(1);
            let left = merge_all(&shuffled[..cut]).unwrap();
            let mut rest = vec![left];
            rest.extend_from_slice(&shuffled[cut..]);
            let got = merge_all(&rest).unwrap().encode();
            prop_assert_eq!(got, expected);
        }
    }
}

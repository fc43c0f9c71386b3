//! Reading stored chunks: the `data` column family walked key by key. Below
//! everything that reads or writes data (apply, scans, history), above the
//! key and chunk formats; it knows a series' layout, not the engine.

use crate::chunk::Chunk;
use crate::error::{Error, Result};
use crate::keys::*;
use crate::layout::Fill;
use crate::schema::Series;
use rocksdb::{ColumnFamily, Direction, IteratorMode, DB};

/// Chunks read per seek.
const CHUNKS_PER_READ: usize = 16;

/// A column family, or a clear error if the database lacks it.
pub(crate) fn cf<'a>(db: &'a DB, name: &str) -> Result<&'a ColumnFamily> {
    db.cf_handle(name)
        .ok_or_else(|| Error::corrupt("database", format!("{name} column family missing")))
}

/// Calls `f` with every chunk of a series (merged, tombstones and all),
/// in time order, until it returns false.
pub(crate) fn each_chunk(
    db: &DB,
    series: &Series,
    mut f: impl FnMut(i64, crate::chunk::Chunk) -> bool,
) -> Result<()> {
    let mut cursor = Some(data_key(series.id, series.bucket_of(crate::MIN_TIME)));
    let bound = data_key(series.id, series.bucket_of(crate::MAX_TIME));
    while let Some(c) = cursor {
        let (chunks, next) = read_chunks(db, &series.path, c, bound, false, SCAN_READ_BYTES)?;
        for (k, v) in chunks {
            let bucket = decode_data_key(&k)?.1;
            if !f(bucket, Chunk::decode(&v)?) {
                return Ok(());
            }
        }
        cursor = next;
    }
    Ok(())
}

/// The series' newest chunk as the layout needs it (see
/// `layout::Fill`), or `None` when it holds no chunk.
pub(crate) fn newest_chunk(db: &DB, series: &Series) -> Result<Option<Fill>> {
    let (chunks, _) = read_chunks(
        db,
        &series.path,
        data_key(series.id, series.bucket_of(crate::MAX_TIME)),
        data_key(series.id, series.bucket_of(crate::MIN_TIME)),
        true,
        1,
    )?;
    let Some((key, value)) = chunks.into_iter().next() else {
        return Ok(None);
    };
    let bucket = decode_data_key(&key)?.1;
    let c = Chunk::decode(&value)?;
    // A chunk of tombstones only: count its whole range as used.
    let newest = c
        .times
        .last()
        .copied()
        .into_iter()
        .chain(c.tombstones.iter().map(|t| t.end))
        .max()
        .unwrap_or(i64::MAX)
        .min(series.bucket_last(bucket));
    Ok(Some(Fill {
        bucket,
        points: c.len() as u64,
        max_time: newest,
    }))
}

/// A `data` key and its encoded chunk.
pub(crate) type RawChunk = (Box<[u8]>, Box<[u8]>);
pub(crate) type DataKey = [u8; 16];

/// Raw bytes a scan reads with one seek (it reads at least one chunk).
pub(crate) const SCAN_READ_BYTES: usize = 64 << 20;

/// Up to [`CHUNKS_PER_READ`] raw chunks, and no more than `max_bytes` of
/// them past the first, from `cursor` towards `bound` (inclusive), with one
/// seek; the cursor to continue from, if any.
pub(crate) fn read_chunks(
    db: &DB,
    path: &str,
    cursor: [u8; 16],
    bound: [u8; 16],
    reverse: bool,
    max_bytes: usize,
) -> Result<(Vec<RawChunk>, Option<DataKey>)> {
    let data = db
        .cf_handle(CF_DATA)
        .ok_or_else(|| Error::corrupt("database", "data column family missing"))?;
    let dir = if reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    };
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for item in db.iterator_cf(data, IteratorMode::From(&cursor, dir)) {
        let (k, v) = item.map_err(|source| Error::Storage {
            context: format!("reading chunks of {path}"),
            source,
        })?;
        let past = if reverse {
            *k < bound[..]
        } else {
            *k > bound[..]
        };
        if past {
            break;
        }
        if out.len() == CHUNKS_PER_READ || (!out.is_empty() && bytes + v.len() > max_bytes) {
            let mut next = [0u8; 16];
            next.copy_from_slice(&k);
            return Ok((out, Some(next)));
        }
        bytes += v.len();
        out.push((k, v));
    }
    Ok((out, None))
}

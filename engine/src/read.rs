//! Reading one series: a cursor over its chunks in a time range, forwards or
//! backwards, a few chunks per RocksDB seek, so results stream instead of
//! being collected whole.

use crate::chunk::{decode_points, Chunk};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::keys::*;
use crate::schema::Series;
use crate::store::{read_chunks, SCAN_READ_BYTES};
use crate::types::Column;
use rocksdb::DB;
use std::collections::VecDeque;
use std::sync::Arc;

/// Points of one series, in scan order.
#[derive(Debug, Clone, PartialEq)]
pub struct PointBlock {
    pub times: Vec<i64>,
    pub values: Column,
}

pub struct SeriesScan {
    db: Arc<DB>,
    series: Arc<Series>,
    start: i64,
    end: i64,
    reverse: bool,
    /// Next key to read (inclusive); `None` when done.
    cursor: Option<[u8; 16]>,
    bound: [u8; 16],
    ready: VecDeque<PointBlock>,
}

impl Engine {
    /// Where a read of `path` from `start` begins: expired points (older
    /// than now minus the series' TTL) are not read, by scans or dual reads.
    fn live_from(&self, path: &str, start: i64) -> i64 {
        let s = start.max(crate::MIN_TIME);
        match self.schema.read().ttl_of(path) {
            Some(ttl) => s.max((crate::hlc::wall_clock_ms() as i64).saturating_sub(ttl)),
            None => s,
        }
    }

    /// Points of `series` with `start <= time <= end`.
    pub fn scan(&self, series: Arc<Series>, start: i64, end: i64, reverse: bool) -> SeriesScan {
        let (s, e) = (
            self.live_from(&series.path, start),
            end.min(crate::MAX_TIME),
        );
        let first = data_key(series.id, series.bucket_of(s));
        let last = data_key(series.id, series.bucket_of(e));
        let (cursor, bound) = if reverse {
            (last, first)
        } else {
            (first, last)
        };
        SeriesScan {
            db: self.db.clone(),
            series,
            start: s,
            end: e,
            reverse,
            cursor: (s <= e).then_some(cursor),
            bound,
            ready: VecDeque::new(),
        }
    }
}

/// A series' points in scan order, however they are read (this node's
/// chunks, or a merge of two nodes' points for a dual read).
pub type BlockIter = Box<dyn Iterator<Item = Result<PointBlock>> + Send>;

/// One point with the version of the change that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedPoint {
    pub time: i64,
    pub version: crate::hlc::Version,
    pub value: crate::types::Value,
}

impl Engine {
    /// Points of `series` with `start <= time <= end`, in time order, each
    /// with its version (this node's range deletes applied): what a dual
    /// read merges with a peer's by last writer wins.
    pub fn versioned_points(
        &self,
        series: &Series,
        start: i64,
        end: i64,
    ) -> Result<Vec<VersionedPoint>> {
        let (s, e) = (
            self.live_from(&series.path, start),
            end.min(crate::MAX_TIME),
        );
        let mut out = Vec::new();
        if s > e {
            return Ok(out);
        }
        let bound = data_key(series.id, series.bucket_of(e));
        let mut cursor = Some(data_key(series.id, series.bucket_of(s)));
        while let Some(c) = cursor.take() {
            let (chunks, next) =
                read_chunks(&self.db, &series.path, c, bound, false, SCAN_READ_BYTES)?;
            cursor = next;
            for (_, v) in chunks {
                let c = Chunk::decode(&v)?;
                let values = if c.values.data_type() == series.data_type {
                    c.values
                } else {
                    c.values.to_type_exact(series.data_type).ok_or_else(|| {
                        Error::corrupt("chunk", format!("holds {} values", c.values.data_type()))
                    })?
                };
                for (i, (&t, &version)) in c.times.iter().zip(&c.versions).enumerate() {
                    if t < s || t > e || series.tombstones.iter().any(|x| x.kills(t, version)) {
                        continue;
                    }
                    if let Some(value) = values.get(i) {
                        out.push(VersionedPoint {
                            time: t,
                            version,
                            value,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Every chunk of a series as (bucket start, points), in time order:
    /// how the layout cut it (for tests and diagnostics; reads them all).
    pub fn chunk_sizes(&self, series: &Series) -> Result<Vec<(i64, usize)>> {
        let mut out = Vec::new();
        crate::store::each_chunk(&self.db, series, |bucket, c| {
            out.push((bucket, c.len()));
            true
        })?;
        Ok(out)
    }
}

impl SeriesScan {
    pub fn series(&self) -> &Arc<Series> {
        &self.series
    }

    fn refill(&mut self) -> Result<()> {
        let Some(cursor) = self.cursor.take() else {
            return Ok(());
        };
        let (chunks, next) = read_chunks(
            &self.db,
            &self.series.path,
            cursor,
            self.bound,
            self.reverse,
            SCAN_READ_BYTES,
        )?;
        self.cursor = next;
        for (k, v) in chunks {
            let block = self.decode(&v).map_err(|e| match e {
                Error::Corrupt { what, detail } => Error::Corrupt {
                    what,
                    detail: format!(
                        "{detail} in series {} at key {:02x?}",
                        self.series.path,
                        &k[..]
                    ),
                },
                other => other,
            })?;
            if !block.times.is_empty() {
                self.ready.push_back(block);
            }
        }
        Ok(())
    }

    fn decode(&self, v: &[u8]) -> Result<PointBlock> {
        let (mut times, mut values) = if self.series.tombstones.is_empty() {
            decode_points(v)?
        } else {
            let c = Chunk::decode(v)?;
            let keep: Vec<usize> = (0..c.len())
                .filter(|&i| {
                    !self
                        .series
                        .tombstones
                        .iter()
                        .any(|t| t.kills(c.times[i], c.versions[i]))
                })
                .collect();
            if keep.len() == c.len() {
                (c.times, c.values)
            } else {
                let kept = c.select(&keep);
                (kept.times, kept.values)
            }
        };
        if values.data_type() != self.series.data_type {
            // Written before the series was widened (see DataType::join),
            // or merged with a type since dropped (see Series::types).
            let target = self.series.data_type;
            values = values.to_type_exact(target).ok_or_else(|| {
                Error::corrupt("chunk", format!("holds {} values", values.data_type()))
            })?;
        }
        let lo = times.partition_point(|&t| t < self.start);
        let hi = times.partition_point(|&t| t <= self.end);
        if lo > 0 || hi < times.len() {
            let idx: Vec<usize> = (lo..hi).collect();
            values = values.select(&idx);
            times = times[lo..hi].to_vec();
        }
        if self.reverse {
            times.reverse();
            values.reverse();
        }
        Ok(PointBlock { times, values })
    }
}

impl Iterator for SeriesScan {
    type Item = Result<PointBlock>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.ready.is_empty() && self.cursor.is_some() {
            if let Err(e) = self.refill() {
                self.cursor = None;
                return Some(Err(e));
            }
        }
        self.ready.pop_front().map(Ok)
    }
}

//! History transfer: the node's current data as change events, so a new
//! pipe (or one whose log position was trimmed away) can bring a peer up to
//! date before it streams the log. Events carry `origin_seq = 0` (no log
//! position) and the original versions inside their chunks, so applying a
//! snapshot converges with whatever the peer already has.

use crate::chunk::Chunk;
use crate::engine::Engine;
use crate::error::Result;
use crate::event::{ChangeEvent, EventBody, SchemaChange, SeriesDelete, SeriesWrite};
use crate::hlc::Version;
use crate::keys::data_key;
use crate::schema::{matches, path_nodes, Series};
use crate::store::read_chunks;
use rocksdb::DB;
use std::collections::VecDeque;
use std::sync::Arc;

/// A bucket of a dense series is sent in pieces of at most this many points
/// and about this many bytes.
const MAX_POINTS_PER_EVENT: usize = 50_000;
const MAX_BYTES_PER_EVENT: usize = 4 << 20;
/// Raw chunk bytes a history transfer reads at once (at least one chunk):
/// what it holds decoded is bounded by this, not by 16 whole buckets.
const SNAPSHOT_READ_BYTES: usize = 8 << 20;

/// What a snapshot includes.
#[derive(Debug, Clone)]
pub struct SnapshotFilter {
    /// Series path pattern (`root.sg.**`); `None` for everything.
    pub pattern: Option<String>,
    /// Points with `start <= time <= end`.
    pub start: i64,
    pub end: i64,
    pub schema: bool,
    pub inserts: bool,
    pub deletes: bool,
    /// Users and privileges (see `users::auth_history`).
    pub auth: bool,
}

/// A series being read: next key (if any) and the last key of the range.
type SeriesCursor = (Arc<Series>, Option<[u8; 16]>, [u8; 16]);

pub struct Snapshot {
    db: Arc<DB>,
    node: u32,
    filter: SnapshotFilter,
    series: VecDeque<Arc<Series>>,
    ready: VecDeque<ChangeEvent>,
    /// Chunk cursor of the series being read.
    current: Option<SeriesCursor>,
    /// Series not yet fully sent (for progress).
    pub remaining_series: usize,
    /// Reading users and privileges failed: the first thing the transfer
    /// reports.
    failed: Option<crate::error::Error>,
}

impl Engine {
    pub fn snapshot(&self, filter: SnapshotFilter) -> Snapshot {
        let schema = self.schema();
        let pat = filter.pattern.as_deref().map(path_nodes);
        let series: VecDeque<Arc<Series>> = schema
            .series
            .values()
            .filter(|s| {
                pat.as_ref()
                    .is_none_or(|p| matches(p, &path_nodes(&s.path)))
            })
            .cloned()
            .collect();
        let mut ready = VecDeque::new();
        if filter.schema {
            // Drops first: the peer voids older writes it holds or receives.
            let node = self.node_id();
            for (path, d) in &schema.drops {
                if pat
                    .as_ref()
                    .is_some_and(|p| !crate::schema::matches_prefix_of(p, &path_nodes(path)))
                {
                    continue;
                }
                let change = if d.database {
                    SchemaChange::DropDatabase { path: path.clone() }
                } else {
                    SchemaChange::DeleteTimeseries {
                        paths: vec![path.clone()],
                    }
                };
                ready.push_back(ChangeEvent {
                    origin: node,
                    origin_seq: 0,
                    version: d.version,
                    body: EventBody::Schema(change),
                });
            }
        }
        if filter.schema {
            let node = self.node_id();
            // TTL rules (unset ones too), each with its version.
            for (pattern, rule) in &schema.ttls {
                let prefix = pattern.strip_suffix(".**").unwrap_or(pattern);
                if pat
                    .as_ref()
                    .is_some_and(|p| !crate::schema::matches_prefix_of(p, &path_nodes(prefix)))
                {
                    continue;
                }
                ready.push_back(ChangeEvent {
                    origin: node,
                    origin_seq: 0,
                    version: rule.version,
                    body: EventBody::Schema(SchemaChange::SetTtl {
                        pattern: pattern.clone(),
                        ms: rule.ms,
                    }),
                });
            }
            for db in schema.databases.values() {
                // Every database when the pipe takes everything (an empty
                // one too); else those holding a series it takes.
                if pat.is_none()
                    || series.iter().any(|s| {
                        schema
                            .database_of(&s.path)
                            .is_some_and(|d| d.path == db.path)
                    })
                {
                    // With its creation version, so a peer that dropped it
                    // since does not bring it back.
                    ready.push_back(ChangeEvent {
                        version: db.created,
                        ..schema_event(
                            node,
                            SchemaChange::CreateDatabase {
                                path: db.path.clone(),
                                bucket_span_ms: db.bucket_span_ms,
                            },
                        )
                    });
                }
            }
        }
        let mut failed = None;
        if filter.auth {
            match self.auth_history() {
                Ok(events) => ready.extend(events),
                Err(e) => failed = Some(e),
            }
        }
        Snapshot {
            failed,
            db: self.db.clone(),
            node: self.node_id(),
            remaining_series: series.len(),
            filter,
            series,
            ready,
            current: None,
        }
    }
}

fn schema_event(node: u32, change: SchemaChange) -> ChangeEvent {
    ChangeEvent {
        origin: node,
        origin_seq: 0,
        version: Version::new(0, node),
        body: EventBody::Schema(change),
    }
}

impl Snapshot {
    fn next_series(&mut self) {
        let Some(s) = self.series.pop_front() else {
            return;
        };
        if self.filter.schema {
            // A series holding several types declares each with its
            // newest version, so the peer keeps the same types (and drops
            // the same ones later); its points come as the series' type.
            let declared = if s.types.is_empty() {
                vec![(s.data_type, s.created)]
            } else {
                s.types.clone()
            };
            // The labels go with the newest declaration (a change of
            // labels declares the series: that one is at least as new as
            // every cell).
            let newest = declared.iter().map(|(_, v)| *v).max();
            let mut labels = s.labels.clone();
            for (data_type, version) in declared {
                self.ready.push_back(ChangeEvent {
                    version,
                    ..schema_event(
                        self.node,
                        SchemaChange::CreateTimeseries {
                            path: s.path.clone(),
                            data_type,
                            encoding: s.encoding.clone(),
                            compressor: s.compressor.clone(),
                            // Every cell, removed ones too (each with its
                            // own version), once.
                            labels: if Some(version) == newest {
                                std::mem::take(&mut labels)
                            } else {
                                Vec::new()
                            },
                        },
                    )
                });
            }
        }
        if self.filter.deletes {
            for t in &s.tombstones {
                self.ready.push_back(ChangeEvent {
                    origin: self.node,
                    origin_seq: 0,
                    version: t.version,
                    body: EventBody::Delete(vec![SeriesDelete {
                        path: s.path.clone(),
                        data_type: s.data_type,
                        start: t.start,
                        end: t.end,
                    }]),
                });
            }
        }
        if self.filter.inserts && self.filter.start <= self.filter.end {
            let first = data_key(s.id, s.bucket_of(self.filter.start.max(crate::MIN_TIME)));
            let last = data_key(s.id, s.bucket_of(self.filter.end.min(crate::MAX_TIME)));
            self.current = Some((s, Some(first), last));
        } else {
            self.remaining_series -= 1;
        }
    }

    fn read_current(&mut self) -> Result<()> {
        let Some((s, Some(cursor), bound)) = self.current.clone() else {
            if self.current.take().is_some() {
                self.remaining_series -= 1;
            }
            return Ok(());
        };
        let (chunks, next) =
            read_chunks(&self.db, &s.path, cursor, bound, false, SNAPSHOT_READ_BYTES)?;
        for (_, v) in chunks {
            // Range deletes travel as the series' Delete events; the chunk
            // keeps only its points.
            let c = Chunk::decode(&v)?;
            let (lo, hi) = (self.filter.start, self.filter.end);
            let keep: Vec<usize> = (0..c.len())
                .filter(|&i| (lo..=hi).contains(&c.times[i]))
                .collect();
            if keep.is_empty() {
                continue;
            }
            let mut c = if keep.len() == c.len() {
                Chunk {
                    tombstones: Vec::new(),
                    ..c
                }
            } else {
                c.select(&keep)
            };
            // Values go as the series' type (see `Series::types`).
            if c.values.data_type() != s.data_type {
                if let Some(v) = c.values.to_type_exact(s.data_type) {
                    c.values = v;
                }
            }
            // Pieces small enough for one request whatever the data density.
            let mut from = 0;
            while from < c.len() {
                let mut to = from;
                let mut bytes = 0;
                while to < c.len()
                    && to - from < MAX_POINTS_PER_EVENT
                    && (to == from || bytes < MAX_BYTES_PER_EVENT)
                {
                    bytes += 24 + c.values.byte_len_at(to);
                    to += 1;
                }
                let piece = c.select(&(from..to).collect::<Vec<_>>());
                let version = piece.versions.iter().max().copied().unwrap_or_default();
                self.ready.push_back(ChangeEvent {
                    origin: self.node,
                    origin_seq: 0,
                    version,
                    body: EventBody::Insert(vec![SeriesWrite {
                        path: s.path.clone(),
                        chunk: piece,
                    }]),
                });
                from = to;
            }
        }
        self.current = Some((s, next, bound));
        Ok(())
    }
}

impl Iterator for Snapshot {
    type Item = Result<ChangeEvent>;

    fn next(&mut self) -> Option<Result<ChangeEvent>> {
        if let Some(e) = self.failed.take() {
            self.ready.clear();
            self.series.clear();
            return Some(Err(e));
        }
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Some(Ok(e));
            }
            if self.current.is_some() {
                if let Err(e) = self.read_current() {
                    self.current = None;
                    self.series.clear();
                    return Some(Err(e));
                }
                continue;
            }
            if self.series.is_empty() {
                return None;
            }
            self.next_series();
        }
    }
}

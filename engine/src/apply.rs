//! Turns one change event into WriteBatch operations. The same function
//! serves local changes and changes received from a peer, so both nodes store
//! a change the same way. Schema effects are collected in a `SchemaDelta`
//! that the engine publishes to the in-memory schema only after the batch
//! committed; later events of the same batch already see it.

use crate::chunk::{normalize_tombstones, Chunk, Tombstone};
use crate::error::{Error, Result};
use crate::event::{ChangeEvent, EventBody, SchemaChange, SeriesDelete, SeriesWrite};
use crate::hlc::{NodeId, Version};
use crate::keys::*;
use crate::labels::LabelCell;
use crate::layout::{self, Fill};
use crate::schema::{
    encode_tombstones, path_nodes, validate_series_path, Database, Drop, Schema, Series,
};
use crate::store;
use crate::types::DataType;
use crate::users::apply_auth;
use parking_lot::RwLock;
use rocksdb::{ColumnFamily, IteratorMode, WriteBatch, DB};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Schema changes of a batch not yet published (`None` = removed).
#[derive(Default)]
pub(crate) struct SchemaDelta {
    databases: BTreeMap<String, Option<Database>>,
    series: BTreeMap<String, Option<Arc<Series>>>,
    drops: BTreeMap<String, Drop>,
    ttls: BTreeMap<String, crate::schema::TtlRule>,
    /// Users' meta records written by this batch (see `users`).
    pub(crate) auth_pending: crate::users::Pending,
    /// Users whose record or grants this batch changed: their cached
    /// grants are dropped once it committed.
    pub(crate) users_changed: std::collections::BTreeSet<String>,
}

impl SchemaDelta {
    pub fn is_empty(&self) -> bool {
        self.databases.is_empty()
            && self.series.is_empty()
            && self.drops.is_empty()
            && self.ttls.is_empty()
    }

    pub fn apply_to(self, s: &mut Schema) {
        for (path, db) in self.databases {
            match db {
                Some(db) => s.databases.insert(path, db),
                None => s.databases.remove(&path),
            };
        }
        for (path, series) in self.series {
            match series {
                Some(series) => s.put_series(series),
                None => s.remove_series(&path),
            }
        }
        s.drops.extend(self.drops);
        s.ttls.extend(self.ttls);
    }
}

/// The schema as this batch sees it: published schema plus the delta.
struct View<'a> {
    schema: &'a Schema,
    delta: &'a mut SchemaDelta,
}

impl View<'_> {
    fn series(&self, path: &str) -> Option<Arc<Series>> {
        match self.delta.series.get(path) {
            Some(s) => s.clone(),
            None => self.schema.series.get(path).cloned(),
        }
    }

    /// The newest drop of `path` itself, or of a database above it. A
    /// dropped series covers only its own path: a series below it (a
    /// longer path) is another series, and its writes stand.
    fn drop_covering(&self, path: &str) -> Option<Version> {
        self.newest_drop(path, true)
    }

    /// The newest drop of a database above `path`.
    fn database_drop_covering(&self, path: &str) -> Option<Version> {
        self.newest_drop(path, false)
    }

    /// The newest drop of a database above `path`, and with `own` of
    /// `path` itself.
    fn newest_drop(&self, path: &str, own: bool) -> Option<Version> {
        if self.schema.drops.is_empty() && self.delta.drops.is_empty() {
            return None;
        }
        let nodes = path_nodes(path);
        let levels = if own { nodes.len() } else { nodes.len() - 1 };
        (1..=levels)
            .filter_map(|n| {
                let prefix = nodes[..n].join(".");
                let exact = n == nodes.len();
                let pick = |d: &Drop| (exact || d.database).then_some(d.version);
                let a = self.schema.drops.get(&prefix).and_then(pick);
                let b = self.delta.drops.get(&prefix).and_then(pick);
                a.max(b)
            })
            .max()
    }

    fn database(&self, path: &str) -> Option<Database> {
        match self.delta.databases.get(path) {
            Some(d) => d.clone(),
            None => self.schema.databases.get(path).cloned(),
        }
    }

    fn databases(&self) -> Vec<Database> {
        let mut all: BTreeMap<String, Option<Database>> = self
            .schema
            .databases
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        all.extend(self.delta.databases.clone());
        all.into_values().flatten().collect()
    }

    fn database_of(&self, path: &str) -> Option<Database> {
        let nodes = path_nodes(path);
        self.databases()
            .into_iter()
            .find(|db| crate::schema::is_prefix(&path_nodes(&db.path), &nodes))
    }

    fn series_under(&self, db_path: &str) -> Vec<Arc<Series>> {
        let d = path_nodes(db_path);
        let mut all: BTreeMap<String, Option<Arc<Series>>> = self
            .schema
            .series
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        all.extend(self.delta.series.clone());
        all.into_values()
            .flatten()
            .filter(|s| crate::schema::is_prefix(&d, &path_nodes(&s.path)))
            .collect()
    }
}

/// What applying a change needs from the engine: its database, identity,
/// default span, conflict ids and schema. The engine makes one per commit;
/// this module knows nothing else of it (the path of a write runs one way:
/// engine -> apply -> store -> keys and chunks).
pub(crate) struct Env<'a> {
    pub db: &'a DB,
    pub node_id: NodeId,
    pub default_span: i64,
    pub next_conflict: &'a AtomicU64,
    pub schema: &'a RwLock<Schema>,
}

impl Env<'_> {
    fn cf(&self, name: &str) -> Result<&ColumnFamily> {
        store::cf(self.db, name)
    }
}

/// The writer's state that applying changes: the next series id and what
/// it knows of each series' newest chunk (see `layout`).
#[derive(Debug, Default)]
pub(crate) struct ApplyState {
    pub next_series_id: u64,
    pub fills: HashMap<u64, Fill>,
}

impl ApplyState {
    fn alloc_series_id(&mut self) -> u64 {
        let id = self.next_series_id;
        self.next_series_id += 1;
        id
    }
}

pub(crate) fn apply_body(
    env: &Env<'_>,
    w: &mut ApplyState,
    batch: &mut WriteBatch,
    event: &ChangeEvent,
    encoded: &[u8],
    stream: &str,
    delta: &mut SchemaDelta,
) -> Result<()> {
    let schema = env.schema.read();
    let mut view = View {
        schema: &schema,
        delta,
    };
    let local = event.origin == env.node_id;
    let mut cx = Cx {
        env,
        w,
        batch,
        view: &mut view,
        local,
        snapshot: !local && event.origin_seq == 0,
        version: event.version,
        origin: event.origin,
        stream,
    };
    match &event.body {
        EventBody::Insert(writes) => {
            // The chunks as encoded in the event, merged as they are when
            // nothing about them changes here.
            let raw = ChangeEvent::insert_chunks(encoded)?;
            let raw = |i: usize| (raw.len() == writes.len()).then(|| raw[i]);
            writes
                .iter()
                .enumerate()
                .try_for_each(|(i, sw)| cx.insert(sw, raw(i)))
        }
        EventBody::Delete(dels) => dels.iter().try_for_each(|d| cx.delete(d, event)),
        EventBody::Schema(change) => cx.schema_change(change),
        EventBody::Auth(change) => apply_auth(
            env.db,
            cx.batch,
            event.version,
            change,
            &mut cx.view.delta.auth_pending,
            &mut cx.view.delta.users_changed,
        ),
    }
}

struct Cx<'a, 'b> {
    env: &'a Env<'a>,
    w: &'a mut ApplyState,
    batch: &'a mut WriteBatch,
    view: &'a mut View<'b>,
    local: bool,
    /// The event's version.
    version: Version,
    /// A peer's history transfer (origin sequence 0).
    snapshot: bool,
    origin: crate::hlc::NodeId,
    /// The pipe stream a peer's change came through ("" for local ones).
    stream: &'a str,
}

impl Cx<'_, '_> {
    /// `raw`: the chunk as encoded in the event (see `apply_body`).
    fn insert(&mut self, sw: &SeriesWrite, raw: Option<&[u8]>) -> Result<()> {
        // Local writes are checked before they get here; a peer's are not.
        for t in [sw.chunk.times.first(), sw.chunk.times.last()]
            .into_iter()
            .flatten()
        {
            crate::keys::check_time(*t)?;
        }
        // Points older than a drop of this path are void (last writer wins).
        let survivors;
        let incoming = match self.view.drop_covering(&sw.path) {
            Some(dropped) => {
                let keep: Vec<usize> = (0..sw.chunk.len())
                    .filter(|&i| sw.chunk.versions[i] > dropped)
                    .collect();
                if keep.is_empty() {
                    let newest = sw.chunk.versions.iter().max().copied();
                    return match newest {
                        Some(v) => self.void_under_database(&sw.path, v),
                        None => Ok(()),
                    };
                }
                survivors = sw.chunk.select(&keep);
                &survivors
            }
            None => &sw.chunk,
        };
        let mut series = self.series_or_create(&sw.path, incoming.data_type())?;
        // A history transfer sends values as the sender's series type and
        // declares its types with CREATE events: its points only widen.
        let fits = series.data_type.join(incoming.data_type()) == series.data_type;
        if !(self.snapshot && fits) {
            let ty = if self.local {
                series.data_type // converted to it below
            } else {
                incoming.data_type()
            };
            let version = incoming
                .versions
                .iter()
                .max()
                .copied()
                .unwrap_or(self.version);
            series = self.note_type(&series, ty, version)?;
        }
        let converted;
        let chunk = if incoming.data_type() == series.data_type {
            incoming
        } else if !self.local {
            converted = incoming.widen_to(series.data_type)?;
            &converted
        } else {
            converted = convert_chunk(incoming, series.data_type).ok_or_else(|| {
                Error::TypeMismatch(format!(
                    "series {} is {}, the write carries {} values that do not convert",
                    series.path,
                    series.data_type,
                    incoming.data_type()
                ))
            })?;
            &converted
        };
        let series = self.adapt_layout(series, chunk)?;
        let data = self.env.cf(CF_DATA)?;
        let mut newest = (i64::MIN, 0u64);
        let unchanged = std::ptr::eq(chunk, &sw.chunk);
        for (bucket, part) in split_by_bucket(chunk, &series) {
            let key = data_key(series.id, bucket);
            match (&part, raw) {
                (std::borrow::Cow::Borrowed(_), Some(raw)) if unchanged => {
                    self.batch.merge_cf(data, key, raw)
                }
                _ => self.batch.merge_cf(data, key, part.encode()),
            }
            newest = (bucket, part.len() as u64);
        }
        if let Some(&last) = chunk.times.last() {
            let f = self.w.fills.entry(series.id).or_insert(Fill {
                bucket: newest.0,
                points: 0,
                max_time: last,
            });
            if newest.0 > f.bucket {
                *f = Fill {
                    bucket: newest.0,
                    points: 0,
                    max_time: f.max_time,
                };
            }
            if newest.0 == f.bucket {
                f.points += newest.1;
            }
            f.max_time = f.max_time.max(last);
        }
        Ok(())
    }

    /// Starts a new chunk segment for the series when this write (an
    /// append) shows its rate is far from what its span was cut for.
    fn adapt_layout(&mut self, series: Arc<Series>, chunk: &Chunk) -> Result<Arc<Series>> {
        let (Some(&first), Some(&last)) = (chunk.times.first(), chunk.times.last()) else {
            return Ok(series);
        };
        let fill = match self.w.fills.get(&series.id) {
            Some(f) => Some(*f),
            None => {
                let f = store::newest_chunk(self.env.db, &series)?;
                if let Some(f) = f {
                    self.w.fills.insert(series.id, f);
                }
                f
            }
        };
        let Some(segment) = layout::plan(&series, fill, first, last, chunk.len() as u64) else {
            return Ok(series);
        };
        let mut updated = (*series).clone();
        updated.segments.push(segment);
        let updated = Arc::new(updated);
        self.put_series(updated.clone())?;
        Ok(updated)
    }

    fn delete(&mut self, d: &SeriesDelete, event: &ChangeEvent) -> Result<()> {
        if self
            .view
            .drop_covering(&d.path)
            .is_some_and(|dropped| dropped >= event.version)
        {
            // The series was dropped after this delete.
            return self.void_under_database(&d.path, event.version);
        }
        // A delete is a change of its type as an insert is (the series
        // exists after a drop for it alone, and must have the same type on
        // every node); a history transfer declares its types instead.
        if !self.snapshot {
            if let Some(s) = self.view.series(&d.path) {
                self.note_type(&s, d.data_type, event.version)?;
            }
        }
        self.tombstone_range(d, event.version)
    }

    /// A versioned range delete on one series (created if needed).
    fn tombstone_range(&mut self, d: &SeriesDelete, version: Version) -> Result<()> {
        let series = self.series_or_create(&d.path, d.data_type)?;
        // Within the valid time range, so bucket arithmetic cannot overflow.
        let d = &SeriesDelete {
            start: d.start.max(crate::MIN_TIME),
            end: d.end.min(crate::MAX_TIME),
            ..d.clone()
        };
        if d.start > d.end {
            return Ok(());
        }
        let tomb = Tombstone {
            start: d.start,
            end: d.end,
            version,
        };
        let mut updated = (*series).clone();
        updated.tombstones.push(tomb);
        updated.tombstones = normalize_tombstones(std::mem::take(&mut updated.tombstones));
        self.batch.put_cf(
            self.env.cf(CF_META)?,
            meta_key(PREFIX_TOMB, &format!("{:016x}", series.id)),
            encode_tombstones(&updated.tombstones),
        );
        // Tombstone the chunks that exist now, so the merge reclaims their space.
        let data = self.env.cf(CF_DATA)?;
        let from = data_key(series.id, series.bucket_of(d.start));
        let to = data_key(series.id, series.bucket_of(d.end));
        let mut buckets = Vec::new();
        for item in self
            .env
            .db
            .iterator_cf(data, IteratorMode::From(&from, rocksdb::Direction::Forward))
        {
            let (k, _) = item.map_err(|source| Error::Storage {
                context: format!("finding chunks of {}", d.path),
                source,
            })?;
            if *k > to[..] {
                break;
            }
            buckets.push(decode_data_key(&k)?.1);
        }
        for b in buckets {
            let clipped = Tombstone {
                start: d.start.max(b),
                end: d.end.min(series.bucket_last(b)),
                version,
            };
            self.batch.merge_cf(
                data,
                data_key(series.id, b),
                Chunk::tombstone(series.data_type, clipped).encode(),
            );
        }
        self.view
            .delta
            .series
            .insert(d.path.clone(), Some(Arc::new(updated)));
        Ok(())
    }

    fn schema_change(&mut self, change: &SchemaChange) -> Result<()> {
        // Only real paths, whoever sent the change: a peer's drop of `root`
        // or of a pattern would otherwise reach every series under it.
        match change {
            SchemaChange::CreateDatabase { path, .. } | SchemaChange::DropDatabase { path } => {
                crate::schema::validate_database_path(path)?
            }
            SchemaChange::CreateTimeseries { path, .. } | SchemaChange::Labels { path, .. } => {
                crate::schema::validate_series_path(path)?
            }
            SchemaChange::DeleteTimeseries { paths } => {
                for p in paths {
                    crate::schema::validate_series_path(p)?;
                }
            }
            SchemaChange::SetTtl { pattern, ms } => {
                crate::schema::validate_ttl_pattern(pattern)?;
                if ms.is_some_and(|ms| ms <= 0) {
                    return Err(Error::invalid("a TTL must be a positive number of ms"));
                }
            }
        }
        match change {
            SchemaChange::CreateDatabase {
                path,
                bucket_span_ms,
            } => {
                if !self.local
                    && self
                        .view
                        .drop_covering(path)
                        .is_some_and(|d| d >= self.version)
                {
                    return Ok(()); // dropped after this creation
                }
                if let Some(existing) = self.overlapping_database(path) {
                    if !self.local {
                        // Overlapping databases made on the two nodes: the
                        // shorter path wins on both (see absorb_databases_below).
                        if existing.path == *path {
                            // Made on both nodes: it counts as made at the
                            // newer creation (a drop between keeps it).
                            return self.database_changed_at(&existing, self.version);
                        }
                        if is_below(path, &existing.path) {
                            return Ok(());
                        }
                        return self.absorb_databases_below(path, *bucket_span_ms);
                    }
                    return Err(if existing.path == *path {
                        Error::AlreadyExists(format!("database {path} already exists"))
                    } else {
                        Error::AlreadyExists(format!(
                            "database {path} overlaps existing database {}",
                            existing.path
                        ))
                    });
                }
                self.put_database(path, *bucket_span_ms)
            }
            SchemaChange::DropDatabase { path } => {
                if self.view.database(path).is_none() && self.local {
                    return Err(Error::NotFound(format!("database {path} does not exist")));
                }
                self.record_drop(path, true)?;
                let mut kept = 0;
                for s in self.view.series_under(path) {
                    if !self.drop_series(&s)? {
                        kept += 1;
                    }
                }
                // A series written after the drop (on the peer) keeps its
                // database, as does a change under it since (one a drop of
                // its series made void, or a creation on the peer).
                let changed_since = self
                    .view
                    .database(path)
                    .is_some_and(|db| db.created > self.version);
                if kept == 0 && !changed_since && self.view.database(path).is_some() {
                    self.batch
                        .delete_cf(self.env.cf(CF_META)?, meta_key(PREFIX_DB, path));
                    self.view.delta.databases.insert(path.clone(), None);
                }
                Ok(())
            }
            SchemaChange::CreateTimeseries {
                path,
                data_type,
                encoding,
                compressor,
                labels,
            } => {
                if self.local {
                    if self.view.series(path).is_some() {
                        return Err(Error::AlreadyExists(format!(
                            "time series {path} already exists"
                        )));
                    }
                    self.check_alias_free(path, labels)?;
                    // A measurement named as another series' alias.
                    let (device, measurement) = crate::schema::device_and_measurement(path);
                    if self.device_alias_owner(device, measurement, path).is_some() {
                        return Err(Error::AlreadyExists(format!("Path [{path}] already exist")));
                    }
                }
                self.declare(path, *data_type, encoding, compressor, labels)
            }
            SchemaChange::SetTtl { pattern, ms } => {
                let current = self
                    .view
                    .delta
                    .ttls
                    .get(pattern)
                    .or(self.view.schema.ttls.get(pattern))
                    .copied();
                if self.local && ms.is_none() && current.is_none_or(|r| r.ms.is_none()) {
                    return Err(Error::NotFound(format!("no TTL is set on {pattern}")));
                }
                if current.is_some_and(|r| r.version >= self.version) {
                    return Ok(()); // an older change than the one here
                }
                let rule = crate::schema::TtlRule {
                    ms: *ms,
                    version: self.version,
                };
                self.batch.put_cf(
                    self.env.cf(CF_META)?,
                    meta_key(PREFIX_TTL, pattern),
                    rule.encode(),
                );
                self.view.delta.ttls.insert(pattern.clone(), rule);
                Ok(())
            }
            SchemaChange::Labels {
                path,
                data_type,
                encoding,
                compressor,
                cells,
            } => {
                if self.local {
                    if self.view.series(path).is_none() {
                        return Err(Error::NotFound(format!(
                            "time series {path} does not exist"
                        )));
                    }
                    self.check_alias_free(path, cells)?;
                }
                self.declare(path, *data_type, encoding, compressor, cells)
            }
            SchemaChange::DeleteTimeseries { paths } => {
                for p in paths {
                    let series = self.view.series(p);
                    if series.is_none() && self.local {
                        return Err(Error::NotFound(format!("time series {p} does not exist")));
                    }
                    self.record_drop(p, false)?;
                    if let Some(s) = series {
                        self.drop_series(&s)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn conflict(&mut self, kind: &str, path: &str, reason: String) -> Result<()> {
        let c = crate::conflicts::Conflict {
            id: 0,
            range: None,
            at_ms: crate::hlc::wall_clock_ms() as i64,
            kind: kind.to_string(),
            origin: self.origin,
            stream: self.stream.to_string(),
            path: path.to_string(),
            reason,
            detail: String::new(),
        };
        crate::conflicts::put(self.env.db, self.env.next_conflict, self.batch, c)
    }

    /// A change of type `ty` at `version` wrote or declared `s`. While
    /// every change had the series' type nothing is kept; once another type
    /// arrives (a type conflict between nodes) the series keeps each type
    /// with its newest version (`Series::types`) and takes the join of them
    /// (see `DataType::join`), so both nodes agree whatever order the
    /// changes arrive in, and every value written either way is kept
    /// exactly. Stored chunks keep their type until merged; reads convert.
    fn note_type(
        &mut self,
        s: &Arc<Series>,
        ty: DataType,
        version: Version,
    ) -> Result<Arc<Series>> {
        let mut types = if s.types.is_empty() {
            if ty == s.data_type {
                return Ok(s.clone());
            }
            // Every change so far had its type.
            vec![(s.data_type, self.newest_change(s)?)]
        } else {
            s.types.clone()
        };
        match types.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, v)) if *v >= version => return Ok(s.clone()),
            Some((_, v)) => *v = version,
            None => types.push((ty, version)),
        }
        types.sort_unstable_by_key(|(t, _)| *t as u8);
        let joined = types.iter().fold(types[0].0, |j, (t, _)| j.join(*t));
        if joined != s.data_type {
            self.conflict(
                "type",
                &s.path,
                format!(
                    "{} here and {ty} on node {}: both nodes now hold it as {joined}, every value kept",
                    s.data_type, self.origin
                ),
            )?;
        }
        self.put_typed(s, joined, types)
    }

    /// `s` with `data_type` and `types` (the encoding follows the type, so
    /// both nodes show the same schema whichever type each had first).
    fn put_typed(
        &mut self,
        s: &Arc<Series>,
        data_type: DataType,
        types: Vec<(DataType, Version)>,
    ) -> Result<Arc<Series>> {
        let encoding = if data_type == s.data_type {
            s.encoding.clone()
        } else {
            default_encoding(data_type).to_string()
        };
        let updated = Arc::new(Series {
            data_type,
            encoding,
            types,
            ..(**s).clone()
        });
        self.put_series(updated.clone())?;
        Ok(updated)
    }

    /// Writes the series record (its tombstones are kept apart).
    fn put_series(&mut self, s: Arc<Series>) -> Result<()> {
        self.batch.put_cf(
            self.env.cf(CF_META)?,
            meta_key(PREFIX_SERIES, &s.path),
            s.encode(),
        );
        self.view.delta.series.insert(s.path.clone(), Some(s));
        Ok(())
    }

    /// The series declared at this event's version (a creation, a peer's
    /// declaration of one it made while apart, or a change of its labels):
    /// made if it is not here, else it counts as made at the newest
    /// declaration, so a drop between keeps it on every node; a drop after
    /// it voids it. Then its label cells are merged.
    fn declare(
        &mut self,
        path: &str,
        data_type: DataType,
        encoding: &str,
        compressor: &str,
        labels: &[LabelCell],
    ) -> Result<()> {
        if self
            .view
            .drop_covering(path)
            .is_some_and(|d| d >= self.version)
        {
            // Dropped after this declaration.
            return self.void_under_database(path, self.version);
        }
        if let Some(existing) = self.view.series(path) {
            let s = self.note_type(&existing, data_type, self.version)?;
            if self.version > s.created {
                let updated = Series {
                    created: self.version,
                    ..(*s).clone()
                };
                self.put_series(Arc::new(updated))?;
            }
        } else {
            self.create_series(path, data_type, encoding, compressor)?;
        }
        self.merge_labels(path, labels)
    }

    /// Merges label cells into the series at `path` (see `labels::merge`):
    /// cells not newer than the series' newest drop are void. A local
    /// change must leave labels within IoTDB's bounds.
    fn merge_labels(&mut self, path: &str, cells: &[LabelCell]) -> Result<()> {
        if cells.is_empty() {
            return Ok(());
        }
        let Some(s) = self.view.series(path) else {
            return Ok(());
        };
        // A cell is at most as new as the change that carries it (a peer's
        // cell from the future would otherwise beat every later change).
        let cells: Vec<LabelCell> = cells
            .iter()
            .filter(|c| c.version <= self.version)
            .cloned()
            .collect();
        let mut labels = s.labels.clone();
        if !crate::labels::merge(&mut labels, &cells, self.view.drop_covering(path)) {
            return Ok(());
        }
        if self.local {
            crate::labels::check(path, &labels, &s.labels)?;
        }
        self.put_series(Arc::new(Series {
            labels,
            ..(*s).clone()
        }))
    }

    /// A drop at `version` kept the series (it was written since): the
    /// labels set before it go with it.
    fn void_labels_through(&mut self, path: &str, version: Version) -> Result<()> {
        let Some(s) = self.view.series(path) else {
            return Ok(());
        };
        let mut labels = s.labels.clone();
        if crate::labels::void_through(&mut labels, version) {
            self.put_series(Arc::new(Series {
                labels,
                ..(*s).clone()
            }))?;
        }
        Ok(())
    }

    /// A local alias must not name another series of the device, by its
    /// measurement or its alias (IoTDB's rule).
    fn check_alias_free(&self, path: &str, cells: &[LabelCell]) -> Result<()> {
        let Some(alias) = cells
            .iter()
            .find(|c| c.kind == crate::labels::LabelKind::Alias)
            .and_then(|c| c.value.as_deref())
        else {
            return Ok(());
        };
        let (device, measurement) = crate::schema::device_and_measurement(path);
        if alias == measurement
            || self.view.series(&format!("{device}.{alias}")).is_some()
            || self.device_alias_owner(device, alias, path).is_some()
        {
            return Err(Error::AlreadyExists(format!(
                "Alias [{alias}] for Path [{path}] already exist"
            )));
        }
        Ok(())
    }

    /// The other series of `device` whose alias is `name` (a range of the
    /// sorted schema: the paths that start with the device's).
    fn device_alias_owner(&self, device: &str, name: &str, except: &str) -> Option<String> {
        let from = format!("{device}.");
        let mut paths: Vec<&String> = self
            .view
            .schema
            .series
            .range::<String, _>(&from..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(&from))
            .chain(
                self.view
                    .delta
                    .series
                    .range::<String, _>(&from..)
                    .map(|(k, _)| k)
                    .take_while(|k| k.starts_with(&from)),
            )
            .collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .filter(|p| p.as_str() != except)
            .filter_map(|p| self.view.series(p))
            .find(|s| s.device() == device && crate::labels::alias(&s.labels) == Some(name))
            .map(|s| s.path.clone())
    }

    /// After a drop at this event's version that kept `path` (a change
    /// newer than it survives): the types written before the drop are
    /// gone with their points, so the type is the join of the newer ones.
    fn retype_after_drop(&mut self, path: &str) -> Result<()> {
        let Some(s) = self.view.series(path) else {
            return Ok(());
        };
        if s.types.is_empty() {
            return Ok(());
        }
        let dropped = self
            .view
            .drop_covering(path)
            .map_or(self.version, |d| d.max(self.version));
        let live: Vec<(DataType, Version)> = s
            .types
            .iter()
            .copied()
            .filter(|(_, v)| *v > dropped)
            .collect();
        let Some(first) = live.first() else {
            return Ok(()); // kept by a change of no type (a delete): as is
        };
        let joined = live.iter().fold(first.0, |j, (t, _)| j.join(*t));
        let types = if live.len() == 1 { Vec::new() } else { live };
        if joined == s.data_type && types == s.types {
            return Ok(());
        }
        self.put_typed(&s, joined, types).map(|_| ())
    }

    /// The newest change the series holds: its newest declaration, point
    /// or delete. Points a delete removed are older than its tombstone,
    /// which the series keeps (the newest one is never dropped as
    /// redundant), so this is exact however the changes interleaved.
    fn newest_change(&self, s: &Series) -> Result<Version> {
        let newest_delete = s.tombstones.iter().map(|t| t.version).max();
        Ok(self
            .newest_point_version(s)?
            .max(s.created)
            .max(newest_delete.unwrap_or_default()))
    }

    /// The newest version of a point the series holds.
    fn newest_point_version(&self, s: &Series) -> Result<Version> {
        let mut newest = Version::default();
        store::each_chunk(self.env.db, s, |_, c| {
            if let Some(v) = c.versions.iter().max() {
                newest = newest.max(*v);
            }
            true
        })?;
        Ok(newest)
    }

    /// Databases made on the two nodes while apart overlap (`root.x` here,
    /// `root.x.y` there): the shorter path wins on both nodes, whatever
    /// order the changes arrive in. The longer ones stop being databases;
    /// their series stay (each keeps its own bucket span) under `path`.
    fn absorb_databases_below(&mut self, path: &str, bucket_span_ms: i64) -> Result<()> {
        for db in self.view.databases() {
            if is_below(&db.path, path) {
                self.conflict(
                    "database",
                    &db.path,
                    format!(
                        "database {} here and {path} on node {}: {path} holds both now (the shorter path wins)",
                        db.path, self.origin
                    ),
                )?;
                self.batch
                    .delete_cf(self.env.cf(CF_META)?, meta_key(PREFIX_DB, &db.path));
                self.view.delta.databases.insert(db.path.clone(), None);
            }
        }
        self.put_database(path, bucket_span_ms)
    }

    fn overlapping_database(&self, path: &str) -> Option<Database> {
        let nodes = path_nodes(path);
        self.view.databases().into_iter().find(|db| {
            let d = path_nodes(&db.path);
            crate::schema::is_prefix(&d, &nodes) || crate::schema::is_prefix(&nodes, &d)
        })
    }

    fn put_database(&mut self, path: &str, bucket_span_ms: i64) -> Result<()> {
        self.put_database_at(path, bucket_span_ms, self.version)
    }

    /// The database record, made (or last changed under it) at `created`.
    fn put_database_at(&mut self, path: &str, bucket_span_ms: i64, created: Version) -> Result<()> {
        let nodes = path_nodes(path);
        if nodes.first() != Some(&"root")
            || nodes.len() < 2
            || nodes.iter().any(|n| n.is_empty() || n.contains('*'))
        {
            return Err(Error::invalid(format!(
                "database path {path} must be root.<name>[.<name>...] without wildcards"
            )));
        }
        if bucket_span_ms <= 0 {
            return Err(Error::invalid(format!(
                "bucket span of {path} must be positive"
            )));
        }
        let mut v = Vec::new();
        crate::codec::put_ivarint(&mut v, bucket_span_ms);
        v.extend_from_slice(&created.hlc.to_le_bytes());
        v.extend_from_slice(&created.node.to_le_bytes());
        self.batch
            .put_cf(self.env.cf(CF_META)?, meta_key(PREFIX_DB, path), v);
        self.view.delta.databases.insert(
            path.to_string(),
            Some(Database {
                path: path.to_string(),
                bucket_span_ms,
                created,
            }),
        );
        Ok(())
    }

    /// A change at `version` under `path` that a drop of its series made
    /// void still counts for the series' database: the database exists on
    /// every node when such a change is newer than its newest drop,
    /// whatever order the drops and the change arrived in.
    fn void_under_database(&mut self, path: &str, version: Version) -> Result<()> {
        if self.local
            || validate_series_path(path).is_err()
            || self
                .view
                .database_drop_covering(path)
                .is_some_and(|d| d >= version)
        {
            return Ok(());
        }
        let db = self.database_for(path)?;
        self.database_changed_at(&db, version)
    }

    /// Remembers in the database record that something under it changed
    /// at `version` (see `Database::created`).
    fn database_changed_at(&mut self, db: &Database, version: Version) -> Result<()> {
        if version > db.created {
            self.put_database_at(&db.path, db.bucket_span_ms, version)?;
        }
        Ok(())
    }

    fn series_or_create(&mut self, path: &str, data_type: DataType) -> Result<Arc<Series>> {
        match self.view.series(path) {
            Some(s) => Ok(s),
            None => self.create_series(path, data_type, default_encoding(data_type), "LZ4"),
        }
    }

    /// The database `path` is under, made now when there is none (as IoTDB
    /// does by default: the first level below root).
    fn database_for(&mut self, path: &str) -> Result<Database> {
        validate_series_path(path)?;
        Ok(match self.view.database_of(path) {
            Some(db) => db,
            None => {
                // As IoTDB does by default: the database is the first level below root.
                let nodes = path_nodes(path);
                let db_path = format!("{}.{}", nodes[0], nodes[1]);
                // A database dropped here and written on the peer after the
                // drop comes back with the span it had (the peer kept it).
                let span = self
                    .view
                    .delta
                    .drops
                    .get(&db_path)
                    .or(self.view.schema.drops.get(&db_path))
                    .filter(|d| d.database && d.bucket_span_ms > 0)
                    .map_or(self.env.default_span, |d| d.bucket_span_ms);
                if let Some(other) = self.overlapping_database(&db_path) {
                    if self.local {
                        return Err(Error::invalid(format!(
                            "{path} is not under a database and overlaps {}",
                            other.path
                        )));
                    }
                    // The peer wrote under a database it made above ours.
                    self.absorb_databases_below(&db_path, span)?;
                } else {
                    self.put_database(&db_path, span)?;
                }
                Database {
                    path: db_path,
                    bucket_span_ms: span,
                    created: self.version,
                }
            }
        })
    }

    fn create_series(
        &mut self,
        path: &str,
        data_type: DataType,
        encoding: &str,
        compressor: &str,
    ) -> Result<Arc<Series>> {
        let db = self.database_for(path)?;
        let series = Series {
            id: self.w.alloc_series_id(),
            path: path.to_string(),
            data_type,
            encoding: encoding.to_string(),
            compressor: compressor.to_string(),
            bucket_span_ms: db.bucket_span_ms,
            segments: Vec::new(),
            types: Vec::new(),
            tombstones: Vec::new(),
            labels: Vec::new(),
            created: self.version,
        };
        let meta = self.env.cf(CF_META)?;
        self.batch
            .put_cf(meta, meta_key(PREFIX_SERIES, path), series.encode());
        self.batch
            .put_cf(meta, META_NEXT_SERIES, self.w.next_series_id.to_le_bytes());
        let series = Arc::new(series);
        self.view
            .delta
            .series
            .insert(path.to_string(), Some(series.clone()));
        Ok(series)
    }

    /// Remembers that `path` was dropped at this event's version (the newest
    /// drop wins), so older writes that arrive later are void.
    fn record_drop(&mut self, path: &str, database: bool) -> Result<()> {
        let newer = self
            .view
            .schema
            .drops
            .get(path)
            .or(self.view.delta.drops.get(path))
            .is_none_or(|d| d.version < self.version);
        if newer {
            let bucket_span_ms = if database {
                self.view
                    .database(path)
                    .map(|d| d.bucket_span_ms)
                    .or_else(|| self.view.schema.drops.get(path).map(|d| d.bucket_span_ms))
                    .unwrap_or(0)
            } else {
                0
            };
            let d = Drop {
                version: self.version,
                database,
                bucket_span_ms,
            };
            self.batch.put_cf(
                self.env.cf(CF_META)?,
                meta_key(PREFIX_DROP, path),
                d.encode(),
            );
            self.view.delta.drops.insert(path.to_string(), d);
        }
        Ok(())
    }

    /// Drops a series at this event's version: removed with its data,
    /// unless something in it is newer than the drop (written on the peer
    /// before the drop arrived there) — then only its older points go, as a
    /// full-range tombstone. Returns whether it was removed.
    fn drop_series(&mut self, s: &Arc<Series>) -> Result<bool> {
        let v = self.version;
        let newest = self.newest_change(s)?;
        if newest > v {
            let d = SeriesDelete {
                path: s.path.clone(),
                data_type: s.data_type,
                start: crate::MIN_TIME,
                end: crate::MAX_TIME,
            };
            self.tombstone_range(&d, v)?;
            self.retype_after_drop(&s.path)?;
            self.void_labels_through(&s.path, v)?;
            return Ok(false);
        }
        self.remove_series(s)?;
        // What it held still happened under its database.
        if let Some(db) = self.view.database_of(&s.path) {
            self.database_changed_at(&db, newest)?;
        }
        Ok(true)
    }

    fn remove_series(&mut self, s: &Series) -> Result<()> {
        self.w.fills.remove(&s.id);
        let meta = self.env.cf(CF_META)?;
        self.batch.delete_cf(meta, meta_key(PREFIX_SERIES, &s.path));
        self.batch
            .delete_cf(meta, meta_key(PREFIX_TOMB, &format!("{:016x}", s.id)));
        self.batch.delete_range_cf(
            self.env.cf(CF_DATA)?,
            data_key(s.id, i64::MIN),
            data_key(s.id + 1, i64::MIN),
        );
        self.view.delta.series.insert(s.path.clone(), None);
        Ok(())
    }
}

/// Is `path` strictly below `prefix` (`root.x.y` below `root.x`)?
fn is_below(path: &str, prefix: &str) -> bool {
    let (p, q) = (path_nodes(path), path_nodes(prefix));
    p.len() > q.len() && crate::schema::is_prefix(&q, &p)
}

pub fn default_encoding(t: DataType) -> &'static str {
    match t {
        DataType::Boolean => "RLE",
        DataType::Int32 | DataType::Int64 | DataType::Timestamp | DataType::Date => "TS_2DIFF",
        DataType::Float | DataType::Double => "GORILLA",
        DataType::Text | DataType::String | DataType::Blob => "PLAIN",
    }
}

fn convert_chunk(c: &Chunk, target: DataType) -> Option<Chunk> {
    Some(Chunk {
        values: c.values.convert_to(target)?,
        ..c.clone()
    })
}

/// Splits a chunk (sorted by time) into one chunk per bucket.
pub(crate) fn split_by_bucket<'c>(
    c: &'c Chunk,
    series: &Series,
) -> Vec<(i64, std::borrow::Cow<'c, Chunk>)> {
    let (Some(&first), Some(&last)) = (c.times.first(), c.times.last()) else {
        return Vec::new();
    };
    let b = series.bucket_of(first);
    if last <= series.bucket_last(b) {
        return vec![(b, std::borrow::Cow::Borrowed(c))];
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < c.times.len() {
        let b = series.bucket_of(c.times[start]);
        let b_last = series.bucket_last(b);
        let end = start + c.times[start..].partition_point(|&t| t <= b_last);
        let idx: Vec<usize> = (start..end).collect();
        out.push((b, std::borrow::Cow::Owned(c.select(&idx))));
        start = end;
    }
    out
}

//! Local changes: inserts, deletes and schema changes made on this node. Each
//! is checked first (bad input changes nothing), then committed with its
//! change event.

use crate::chunk::Chunk;
use crate::engine::{Engine, MAX_TIME, MIN_TIME};
use crate::error::{Error, Result};
use crate::event::{EventBody, SchemaChange, SeriesDelete, SeriesWrite};
use crate::keys::data_key;
use crate::labels::{LabelCell, LabelKind, NewLabels};
use crate::schema::{path_nodes, validate_series_path, Series};
use crate::store;
use crate::types::{Column, DataType};

/// Points for one series. `values` is typed: a new series gets that type,
/// an existing one converts them when no information is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteSeries {
    pub path: String,
    pub times: Vec<i64>,
    pub values: Column,
}

pub use crate::keys::check_time;

impl Engine {
    /// Inserts points into one or more series as one change. Returns the
    /// change's log sequence.
    pub fn write(&self, series: Vec<WriteSeries>) -> Result<u64> {
        let mut series: Vec<WriteSeries> =
            series.into_iter().filter(|s| !s.times.is_empty()).collect();
        // A measurement named by its alias is that series (IoTDB's).
        {
            let schema = self.schema.read();
            if !schema.aliases.is_empty() {
                for s in &mut series {
                    if schema.series.contains_key(&s.path) {
                        continue;
                    }
                    if let Some([real]) = schema.aliases.get(&s.path).map(Vec::as_slice) {
                        s.path = real.clone();
                    }
                }
            }
        }
        if series.is_empty() {
            return Err(Error::invalid("nothing to insert"));
        }
        for s in &series {
            validate_series_path(&s.path)?;
            if s.times.len() != s.values.len() {
                return Err(Error::invalid(format!(
                    "{}: {} timestamps but {} values",
                    s.path,
                    s.times.len(),
                    s.values.len()
                )));
            }
            s.times.iter().try_for_each(|&t| check_time(t))?;
        }
        self.commit_local(|version| {
            let schema = self.schema.read();
            // IoTDB refuses points already expired (its OUT_OF_TTL); a
            // peer's are taken (and not read).
            if !schema.ttls.is_empty() {
                let now = crate::hlc::wall_clock_ms() as i64;
                for s in &series {
                    if let Some(ttl) = schema.ttl_of(&s.path) {
                        let bound = now.saturating_sub(ttl);
                        if let Some(&t) = s.times.iter().filter(|&&t| t < bound).min() {
                            return Err(Error::invalid(format!(
                                "Insertion time [{t}] is less than ttl time bound [{bound}] \
                                 ({}: TTL {ttl} ms); nothing was written",
                                s.path
                            )));
                        }
                    }
                }
            }
            let mut writes = Vec::with_capacity(series.len());
            for s in &series {
                let values = match schema.series.get(&s.path) {
                    Some(existing) if existing.data_type != s.values.data_type() => {
                        s.values.convert_to(existing.data_type).ok_or_else(|| {
                            Error::TypeMismatch(format!(
                                "series {} is {}; {} values do not fit",
                                s.path,
                                existing.data_type,
                                s.values.data_type()
                            ))
                        })?
                    }
                    _ => s.values.clone(),
                };
                writes.push(SeriesWrite {
                    path: s.path.clone(),
                    chunk: Chunk::from_write(&s.times, &values, version),
                });
            }
            Ok(EventBody::Insert(writes))
        })
    }

    /// Logs again, as a new change of this node, the points `path` holds
    /// in `[first, last]`, each with the version it was written with (see
    /// `replay_conflict`): merging them here changes nothing, and the pipes
    /// send them. Returns how many.
    pub(crate) fn relog(&self, path: &str, first: i64, last: i64) -> Result<usize> {
        let series = self.series_named(path)?;
        let (first, last) = (first.max(MIN_TIME), last.min(MAX_TIME));
        let mut out = Chunk::empty(series.data_type);
        let mut cursor = Some(data_key(series.id, series.bucket_of(first)));
        let bound = data_key(series.id, series.bucket_of(last));
        while let Some(c) = cursor {
            let (chunks, next) =
                store::read_chunks(&self.db, path, c, bound, false, store::SCAN_READ_BYTES)?;
            for (_, bytes) in chunks {
                let chunk = Chunk::decode(&bytes)?;
                let keep: Vec<usize> = (0..chunk.len())
                    .filter(|&i| {
                        let (t, v) = (chunk.times[i], chunk.versions[i]);
                        (first..=last).contains(&t)
                            && !series.tombstones.iter().any(|d| d.kills(t, v))
                    })
                    .collect();
                let part = chunk.select(&keep);
                let values = part.values.to_type_exact(series.data_type).ok_or_else(|| {
                    Error::corrupt(
                        "chunk",
                        format!("holds {} values in {path}", part.data_type()),
                    )
                })?;
                out.times.extend_from_slice(&part.times);
                out.versions.extend_from_slice(&part.versions);
                crate::chunk::append_column(&mut out.values, &values);
            }
            cursor = next;
        }
        let n = out.len();
        if n > 0 {
            self.commit_local(|_| {
                Ok(EventBody::Insert(vec![SeriesWrite {
                    path: path.to_string(),
                    chunk: out,
                }]))
            })?;
        }
        Ok(n)
    }

    /// Deletes the points in `[start, end]` of every series matching one of
    /// `patterns`. Returns how many series it touched.
    pub fn delete_points(&self, patterns: &[String], start: i64, end: i64) -> Result<usize> {
        check_time(start.max(MIN_TIME))?;
        let (start, end) = (start.max(MIN_TIME), end.min(MAX_TIME));
        if start > end {
            return Ok(0);
        }
        let mut touched = 0;
        self.commit_local(|_| {
            let schema = self.schema.read();
            let mut dels = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for p in patterns {
                for s in schema.series_matching(p) {
                    if seen.insert(s.path.clone()) {
                        dels.push(SeriesDelete {
                            path: s.path.clone(),
                            data_type: s.data_type,
                            start,
                            end,
                        });
                    }
                }
            }
            touched = dels.len();
            if dels.is_empty() {
                return Err(Error::NotFound(format!(
                    "no time series matches {}",
                    patterns.join(", ")
                )));
            }
            Ok(EventBody::Delete(dels))
        })?;
        Ok(touched)
    }

    pub fn create_database(&self, path: &str, bucket_span_ms: Option<i64>) -> Result<()> {
        crate::schema::check_path_size(path)?;
        let bucket_span_ms = bucket_span_ms.unwrap_or(self.default_span());
        if bucket_span_ms <= 0 {
            return Err(Error::invalid("bucket span must be positive"));
        }
        self.commit_local(|_| {
            Ok(EventBody::Schema(SchemaChange::CreateDatabase {
                path: path.to_string(),
                bucket_span_ms,
            }))
        })
        .map(|_| ())
    }

    pub fn drop_database(&self, path: &str) -> Result<()> {
        self.commit_local(|_| {
            Ok(EventBody::Schema(SchemaChange::DropDatabase {
                path: path.to_string(),
            }))
        })
        .map(|_| ())
    }

    pub fn create_timeseries(
        &self,
        path: &str,
        data_type: DataType,
        encoding: Option<&str>,
        compressor: Option<&str>,
        labels: &NewLabels,
    ) -> Result<()> {
        validate_series_path(path)?;
        self.commit_local(|version| {
            Ok(EventBody::Schema(SchemaChange::CreateTimeseries {
                path: path.to_string(),
                data_type,
                encoding: encoding
                    .unwrap_or(crate::apply::default_encoding(data_type))
                    .to_string(),
                compressor: compressor.unwrap_or("LZ4").to_string(),
                labels: labels.cells(path, version)?,
            }))
        })
        .map(|_| ())
    }

    /// The series at `path` as published, or NotFound.
    fn series_named(&self, path: &str) -> Result<std::sync::Arc<Series>> {
        self.schema
            .read()
            .series
            .get(path)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("time series {path} does not exist")))
    }

    /// `SET TTL TO pattern ms` (`ms` None: `UNSET TTL`): the pattern is a
    /// device path or a prefix ending in `.**` (see
    /// `schema::validate_ttl_pattern`).
    pub fn set_ttl(&self, pattern: &str, ms: Option<i64>) -> Result<()> {
        crate::schema::validate_ttl_pattern(pattern)?;
        self.commit_local(|_| {
            Ok(EventBody::Schema(SchemaChange::SetTtl {
                pattern: pattern.to_string(),
                ms,
            }))
        })
        .map(|_| ())
    }

    /// `ALTER TIMESERIES`: `edit` gets the series as it stands and returns
    /// what to set (kind, key, value; None removes), which is committed
    /// with one version. An edit that sets nothing commits nothing.
    pub fn alter_labels(
        &self,
        path: &str,
        edit: impl FnOnce(&Series) -> Result<Vec<(LabelKind, String, Option<String>)>>,
    ) -> Result<()> {
        validate_series_path(path)?;
        let mut nothing = false;
        let r = self.commit_local(|version| {
            let s = self.series_named(path)?;
            let mut cells: Vec<LabelCell> = edit(&s)?
                .into_iter()
                .map(|(kind, key, value)| LabelCell {
                    kind,
                    key,
                    value,
                    version,
                })
                .collect();
            cells.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
            cells.dedup_by(|a, b| (a.kind, &a.key) == (b.kind, &b.key));
            if cells.is_empty() {
                nothing = true;
                return Err(Error::invalid("nothing to change"));
            }
            Ok(EventBody::Schema(SchemaChange::Labels {
                path: path.to_string(),
                data_type: s.data_type,
                encoding: s.encoding.clone(),
                compressor: s.compressor.clone(),
                cells,
            }))
        });
        match r {
            Err(_) if nothing => Ok(()),
            r => r.map(|_| ()),
        }
    }

    /// Deletes every series matching the patterns, with their data. Returns
    /// how many were deleted.
    pub fn delete_timeseries(&self, patterns: &[String]) -> Result<usize> {
        let mut n = 0;
        self.commit_local(|_| {
            let schema = self.schema.read();
            let mut paths: Vec<String> = patterns
                .iter()
                .flat_map(|p| schema.series_matching(p))
                .map(|s| s.path.clone())
                .collect();
            paths.sort();
            paths.dedup();
            if paths.is_empty() {
                return Err(Error::NotFound(format!(
                    "no time series matches {}",
                    patterns.join(", ")
                )));
            }
            n = paths.len();
            Ok(EventBody::Schema(SchemaChange::DeleteTimeseries { paths }))
        })?;
        Ok(n)
    }
}

/// Checks a pattern is a path below root (wildcards allowed).
pub fn validate_pattern(p: &str) -> Result<()> {
    crate::schema::check_path_size(p)?;
    let nodes = path_nodes(p);
    if nodes.first() != Some(&"root") || nodes.iter().any(|n| n.is_empty()) {
        return Err(Error::invalid(format!("{p} is not a path below root")));
    }
    Ok(())
}

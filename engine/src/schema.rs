//! Schema held in memory (and persisted in `meta`): databases, time series
//! with their local ids, and per-series range tombstones. Paths are text in
//! canonical form (`root.plant.line1.temp`; nodes that are not plain names
//! are backquoted), patterns use `*` for one level and `**` for one or more.

use crate::chunk::Tombstone;
use crate::codec::{put_ivarint, put_str, put_varint, Reader};
use crate::error::{Error, Result};
use crate::hlc::Version;
use crate::labels::LabelCell;
use crate::types::DataType;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Default span of a data bucket (one chunk key per series per span).
pub const DEFAULT_BUCKET_SPAN_MS: i64 = 3_600_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub path: String,
    pub bucket_span_ms: i64,
    /// The version of its creation (0 for one created before versions were
    /// kept): a drop newer than it voids a creation that arrives late.
    pub created: Version,
}

/// A part of a series' time line cut with its own chunk span (see
/// `layout`): from `from` on (until the next segment), buckets of `span` ms
/// aligned at `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub from: i64,
    pub span: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// Local id: the prefix of this series' keys in `data`. Never reused.
    pub id: u64,
    pub path: String,
    pub data_type: DataType,
    pub encoding: String,
    pub compressor: String,
    /// The span of its first chunks (its database's when it was made).
    pub bucket_span_ms: i64,
    /// Where later chunks use another span (see `layout`): this node's own
    /// choice, kept in its record, never replicated.
    pub segments: Vec<Segment>,
    /// While the series holds values written with more than one type (a
    /// type conflict between nodes, see `DataType::join`): each type with
    /// the newest version of a change that wrote or declared it. The type
    /// is the join of those newer than the series' newest drop, so every
    /// node ends with the same type whatever order the changes came in.
    /// Empty: every change had `data_type`.
    pub types: Vec<(DataType, Version)>,
    /// Range deletes on this series, applied when reading (they also reach
    /// the chunks that existed when the delete ran, through the merge).
    pub tombstones: Vec<Tombstone>,
    /// Alias, tags and attributes, each with its version (see `labels`),
    /// sorted by kind and key; removed ones are kept as cells without a
    /// value so an older change cannot bring them back.
    pub labels: Vec<LabelCell>,
    /// Version of the change that created it: a drop with a greater
    /// version removes it, an older drop only hides its older points.
    pub created: Version,
}

impl Series {
    /// The device: the path above the measurement.
    pub fn device(&self) -> &str {
        self.path.rsplit_once_node().0
    }
    pub fn measurement(&self) -> &str {
        self.path.rsplit_once_node().1
    }
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, self.id);
        out.push(self.data_type as u8);
        put_str(&mut out, &self.encoding);
        put_str(&mut out, &self.compressor);
        put_ivarint(&mut out, self.bucket_span_ms);
        out.extend_from_slice(&self.created.hlc.to_le_bytes());
        out.extend_from_slice(&self.created.node.to_le_bytes());
        // Records written before segments existed end here (and each
        // later section is there when it or one after it is not empty).
        let labels = !self.labels.is_empty();
        if !self.segments.is_empty() || !self.types.is_empty() || labels {
            put_varint(&mut out, self.segments.len() as u64);
            for s in &self.segments {
                put_ivarint(&mut out, s.from);
                put_ivarint(&mut out, s.span);
            }
        }
        if !self.types.is_empty() || labels {
            put_varint(&mut out, self.types.len() as u64);
            for (t, v) in &self.types {
                out.push(*t as u8);
                out.extend_from_slice(&v.hlc.to_le_bytes());
                out.extend_from_slice(&v.node.to_le_bytes());
            }
        }
        if labels {
            LabelCell::put_all(&mut out, &self.labels);
        }
        out
    }
    pub(crate) fn decode(path: &str, bytes: &[u8]) -> Result<Series> {
        let mut r = Reader::new(bytes, "series record");
        let id = r.varint()?;
        let t = r.u8()?;
        let data_type =
            DataType::from_u8(t).ok_or_else(|| r.corrupt(format!("unknown data type {t}")))?;
        let encoding = r.string()?;
        let compressor = r.string()?;
        let bucket_span_ms = r.ivarint()?;
        if bucket_span_ms <= 0 {
            return Err(r.corrupt("bucket span must be positive"));
        }
        let created = Version::new(r.u64()?, r.u32()?);
        let mut segments: Vec<Segment> = Vec::new();
        if !r.is_empty() {
            let n = r.count(2)?;
            for _ in 0..n {
                let (from, span) = (r.ivarint()?, r.ivarint()?);
                // Within the valid times (so bucket arithmetic cannot
                // overflow), in order.
                if span <= 0
                    || span > crate::MAX_TIME
                    || from <= crate::MIN_TIME
                    || from > crate::MAX_TIME
                    || segments.last().is_some_and(|p| p.from >= from)
                {
                    return Err(r.corrupt(format!("bad chunk segment {from}/{span}")));
                }
                segments.push(Segment { from, span });
            }
        }
        let mut types = Vec::new();
        if !r.is_empty() {
            let n = r.count(13)?;
            for _ in 0..n {
                let t = r.u8()?;
                let t = DataType::from_u8(t)
                    .ok_or_else(|| r.corrupt(format!("unknown data type {t}")))?;
                types.push((t, Version::new(r.u64()?, r.u32()?)));
            }
        }
        let labels = if r.is_empty() {
            Vec::new()
        } else {
            let mut cells = LabelCell::read_all(&mut r)?;
            cells.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
            cells.dedup_by(|a, b| (a.kind, &a.key) == (b.kind, &b.key));
            cells
        };
        Ok(Series {
            labels,
            created,
            id,
            path: path.to_string(),
            data_type,
            encoding,
            compressor,
            bucket_span_ms,
            segments,
            types,
            tombstones: Vec::new(),
        })
    }
}

pub(crate) fn encode_tombstones(ts: &[Tombstone]) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, ts.len() as u64);
    for t in ts {
        put_ivarint(&mut out, t.start);
        put_ivarint(&mut out, t.end);
        out.extend_from_slice(&t.version.hlc.to_le_bytes());
        out.extend_from_slice(&t.version.node.to_le_bytes());
    }
    out
}

pub(crate) fn decode_tombstones(bytes: &[u8]) -> Result<Vec<Tombstone>> {
    let mut r = Reader::new(bytes, "tombstone list");
    let n = r.count(14)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = r.ivarint()?;
        let end = r.ivarint()?;
        out.push(Tombstone {
            start,
            end,
            version: Version::new(r.u64()?, r.u32()?),
        });
    }
    Ok(out)
}

/// A TTL rule's path (IoTDB's): a device path, or a prefix ending in `.**`
/// (everything below it), with no other wildcard.
pub fn validate_ttl_pattern(p: &str) -> Result<()> {
    check_path_size(p)?;
    let nodes = path_nodes(p);
    let body = if nodes.last() == Some(&"**") {
        &nodes[..nodes.len() - 1]
    } else {
        &nodes[..]
    };
    let ok = nodes.len() >= 2
        && nodes.first() == Some(&"root")
        && body.iter().all(|n| !n.is_empty() && !n.contains('*'));
    if !ok {
        return Err(Error::invalid(format!(
            "Illegal pattern path: {p}, pattern path should end with **, otherwise, it should be \
             a specific database or device path without *"
        )));
    }
    Ok(())
}

/// The device and measurement of a series path (`("", path)` for one node).
pub fn device_and_measurement(path: &str) -> (&str, &str) {
    let nodes = path_nodes(path);
    match nodes.last() {
        Some(last) if nodes.len() > 1 => {
            let cut = path.len() - last.len() - 1;
            (&path[..cut], &path[cut + 1..])
        }
        _ => ("", path),
    }
}

trait SplitNode {
    fn rsplit_once_node(&self) -> (&str, &str);
}

impl SplitNode for String {
    fn rsplit_once_node(&self) -> (&str, &str) {
        device_and_measurement(self)
    }
}

/// Splits a path on `.` outside backquotes; backquoted nodes keep their quotes.
pub fn path_nodes(path: &str) -> Vec<&str> {
    let mut nodes = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in path.char_indices() {
        match c {
            '`' => quoted = !quoted,
            '.' if !quoted => {
                nodes.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    nodes.push(&path[start..]);
    nodes
}

/// Does `path` match `pattern` (`*` one node, `**` one or more)?
pub fn matches(pattern: &[&str], path: &[&str]) -> bool {
    // reach[j]: the pattern's nodes so far match the path's first j nodes.
    // One pass per pattern node: O(pattern x path), however many `**` (a
    // recursive match backtracks exponentially on `root.**.**.**...`).
    let n = path.len();
    let mut reach = vec![false; n + 1];
    reach[0] = true;
    for &p in pattern {
        let mut next = vec![false; n + 1];
        if p == "**" {
            // One or more nodes: j is reachable if any k < j was.
            let mut any = false;
            for j in 1..=n {
                any |= reach[j - 1];
                next[j] = any;
            }
        } else {
            for j in 1..=n {
                next[j] = reach[j - 1] && (p == "*" || p == path[j - 1]);
            }
        }
        if !next.iter().any(|&r| r) {
            return false;
        }
        reach = next;
    }
    reach[n]
}

/// Is `prefix` a node-wise prefix of `path` (or equal to it)?
pub fn is_prefix(prefix: &[&str], path: &[&str]) -> bool {
    prefix.len() <= path.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}

/// Could some path below `path` (or `path` itself) match `pattern`? Used to
/// find devices and databases a pattern reaches.
pub fn matches_prefix_of(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((&"**", _)), Some(_)) => true,
        (Some((&p, rest)), Some((&n, path_rest))) => {
            (p == "*" || p == n) && matches_prefix_of(rest, path_rest)
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Schema {
    pub databases: BTreeMap<String, Database>,
    pub series: BTreeMap<String, Arc<Series>>,
    /// Dropped series and databases with the version of the drop: writes
    /// older than it are void, so a drop and a concurrent insert on the
    /// other node end the same on both (last writer wins).
    pub drops: BTreeMap<String, Drop>,
    /// Alias paths (`device.alias`) and the series they name (more than
    /// one only when two nodes gave the same alias apart). Kept by
    /// [`Schema::put_series`] and [`Schema::remove_series`].
    pub aliases: BTreeMap<String, Vec<String>>,
    /// TTL rules by path pattern (`root.ln.**`), unset ones kept.
    pub ttls: BTreeMap<String, TtlRule>,
}

/// `SET TTL TO pattern ms` (`ms` None: `UNSET TTL`, kept so an older SET
/// arriving late cannot bring the rule back): points older than `now - ms`
/// are expired on the series the pattern matches. The newest version wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlRule {
    pub ms: Option<i64>,
    pub version: Version,
}

impl TtlRule {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(22);
        out.extend_from_slice(&self.version.hlc.to_le_bytes());
        out.extend_from_slice(&self.version.node.to_le_bytes());
        match self.ms {
            Some(ms) => {
                out.push(1);
                put_ivarint(&mut out, ms);
            }
            None => out.push(0),
        }
        out
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<TtlRule> {
        let mut r = Reader::new(bytes, "ttl record");
        let version = Version::new(r.u64()?, r.u32()?);
        let ms = match r.u8()? {
            0 => None,
            1 => Some(r.ivarint()?).filter(|&ms| ms > 0),
            f => return Err(r.corrupt(format!("bad ttl flag {f}"))),
        };
        Ok(TtlRule { ms, version })
    }
}

/// A drop of a series or a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drop {
    pub version: Version,
    pub database: bool,
    /// A dropped database's bucket span (0 if unknown): a peer's newer
    /// write that brings the database back gets the same span here as the
    /// database kept on the peer.
    pub bucket_span_ms: i64,
}

impl Drop {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(21);
        out.extend_from_slice(&self.version.hlc.to_le_bytes());
        out.extend_from_slice(&self.version.node.to_le_bytes());
        out.push(self.database as u8);
        out.extend_from_slice(&self.bucket_span_ms.to_le_bytes());
        out
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<Drop> {
        let mut r = Reader::new(bytes, "drop record");
        let version = Version::new(r.u64()?, r.u32()?);
        let database = r.u8()? == 1;
        // Records written before spans were kept end here.
        let bucket_span_ms = if r.is_empty() { 0 } else { r.u64()? as i64 };
        Ok(Drop {
            version,
            database,
            bucket_span_ms,
        })
    }
}

impl Schema {
    /// The database that holds `path`, if any.
    pub fn database_of(&self, path: &str) -> Option<&Database> {
        let nodes = path_nodes(path);
        self.databases
            .values()
            .find(|db| is_prefix(&path_nodes(&db.path), &nodes))
    }

    /// An existing database that `path` would overlap (equal, above or below).
    pub fn overlapping_database(&self, path: &str) -> Option<&Database> {
        let nodes = path_nodes(path);
        self.databases.values().find(|db| {
            let d = path_nodes(&db.path);
            is_prefix(&d, &nodes) || is_prefix(&nodes, &d)
        })
    }

    /// Adds or replaces a series, keeping the alias index.
    pub fn put_series(&mut self, s: Arc<Series>) {
        if let Some(old) = self.series.get(&s.path).cloned() {
            self.unindex_alias(&old);
        }
        if let Some(a) = crate::labels::alias(&s.labels) {
            let paths = self
                .aliases
                .entry(format!("{}.{a}", s.device()))
                .or_default();
            if !paths.contains(&s.path) {
                paths.push(s.path.clone());
                paths.sort();
            }
        }
        self.series.insert(s.path.clone(), s);
    }

    pub fn remove_series(&mut self, path: &str) {
        if let Some(old) = self.series.remove(path) {
            self.unindex_alias(&old);
        }
    }

    fn unindex_alias(&mut self, s: &Series) {
        let Some(a) = crate::labels::alias(&s.labels) else {
            return;
        };
        let key = format!("{}.{a}", s.device());
        if let Some(paths) = self.aliases.get_mut(&key) {
            paths.retain(|p| *p != s.path);
            if paths.is_empty() {
                self.aliases.remove(&key);
            }
        }
    }

    /// The series an alias path matching `pattern` names (IoTDB: an alias
    /// stands for its measurement in queries), each as a copy named by
    /// the alias path (what a query's column is called) that reads the
    /// series' points. Only a pattern ending in a name can name an alias.
    pub fn series_by_alias(&self, pattern: &str) -> Vec<Arc<Series>> {
        if self.aliases.is_empty() {
            return Vec::new();
        }
        let pat = path_nodes(pattern);
        if pat.len() < 2 || matches!(pat.last(), Some(&"*") | Some(&"**")) {
            return Vec::new();
        }
        let named = |alias_path: &String, paths: &Vec<String>| {
            paths
                .iter()
                .filter_map(|p| self.series.get(p))
                .map(|s| {
                    Arc::new(Series {
                        path: alias_path.clone(),
                        ..(**s).clone()
                    })
                })
                .collect::<Vec<_>>()
        };
        if !pat.iter().any(|n| *n == "*" || *n == "**") {
            return self
                .aliases
                .get(pattern)
                .map(|paths| named(&pattern.to_string(), paths))
                .unwrap_or_default();
        }
        self.aliases
            .iter()
            .filter(|(a, _)| matches(&pat, &path_nodes(a)))
            .flat_map(|(a, paths)| named(a, paths))
            .collect()
    }

    /// The TTL (ms) of the series at `path`, as IoTDB picks it for the
    /// series' device: a rule on the device itself, else the deepest
    /// `prefix.**` rule above it (`p.**` does not cover device `p`); None:
    /// its points never expire (so does a rule of `i64::MAX`, IoTDB's INF).
    pub fn ttl_of(&self, path: &str) -> Option<i64> {
        self.ttl_of_device(device_and_measurement(path).0)
    }

    /// The TTL (ms) of the series of `device` (see [`Schema::ttl_of`]); a
    /// database's is the one of the device at its path.
    pub fn ttl_of_device(&self, device: &str) -> Option<i64> {
        if self.ttls.is_empty() {
            return None;
        }
        if let Some(r) = self.ttls.get(device).and_then(|r| r.ms) {
            return Some(r);
        }
        let nodes = path_nodes(device);
        self.ttls
            .iter()
            .filter(|(p, _)| p.ends_with(".**"))
            .filter_map(|(p, r)| r.ms.map(|ms| (p, ms)))
            .filter(|(p, _)| matches(&path_nodes(p), &nodes))
            .max_by_key(|(p, _)| path_nodes(p).len())
            .map(|(_, ms)| ms)
    }

    pub fn series_matching(&self, pattern: &str) -> Vec<Arc<Series>> {
        let pat = path_nodes(pattern);
        if !pat.iter().any(|n| *n == "*" || *n == "**") {
            return self.series.get(pattern).cloned().into_iter().collect();
        }
        self.series
            .values()
            .filter(|s| matches(&pat, &path_nodes(&s.path)))
            .cloned()
            .collect()
    }

    /// Series of every device matching `device_pattern` (IoTDB's `FROM`).
    pub fn series_of_devices(&self, device_pattern: &str) -> Vec<Arc<Series>> {
        let pat = path_nodes(device_pattern);
        self.series
            .values()
            .filter(|s| matches(&pat, &path_nodes(s.device())))
            .cloned()
            .collect()
    }

    pub fn devices_matching(&self, pattern: Option<&str>) -> Vec<String> {
        let pat = pattern.map(path_nodes);
        let mut out: Vec<String> = self
            .series
            .values()
            .map(|s| s.device())
            .filter(|d| pat.as_ref().is_none_or(|p| matches(p, &path_nodes(d))))
            .map(str::to_string)
            .collect();
        out.dedup();
        out
    }

    pub fn series_under(&self, db_path: &str) -> Vec<Arc<Series>> {
        let d = path_nodes(db_path);
        self.series
            .values()
            .filter(|s| is_prefix(&d, &path_nodes(&s.path)))
            .cloned()
            .collect()
    }
}

/// The longest path a client may name, in bytes. Checked before anything is
/// built from a client's path, so a long name costs its sender, not the node.
pub const MAX_PATH_BYTES: usize = 1024;
/// The most levels (nodes, `root` included) a path may have.
pub const MAX_PATH_LEVELS: usize = 64;

/// Checks a path's size against [`MAX_PATH_BYTES`], then its levels against
/// [`MAX_PATH_LEVELS`]; the message shows only the path's start.
pub fn check_path_size(path: &str) -> Result<()> {
    let shown = || crate::codec::truncate(path, 64);
    if path.len() > MAX_PATH_BYTES {
        return Err(Error::invalid(format!(
            "path {} is {} bytes long; the limit is {MAX_PATH_BYTES}",
            shown(),
            path.len()
        )));
    }
    // Bounded by the length checked above.
    let levels = path_nodes(path).len();
    if levels > MAX_PATH_LEVELS {
        return Err(Error::invalid(format!(
            "path {} has {levels} levels; the limit is {MAX_PATH_LEVELS}",
            shown()
        )));
    }
    Ok(())
}

/// Whether a node is empty or a wildcard (not part of a concrete path).
fn not_concrete(nodes: &[&str]) -> bool {
    nodes
        .iter()
        .any(|n| n.is_empty() || *n == "*" || *n == "**")
}

/// A database path: `root.<name>[...]`, no wildcard or empty node.
pub fn validate_database_path(path: &str) -> Result<()> {
    check_path_size(path)?;
    let nodes = path_nodes(path);
    if nodes.first() != Some(&"root") || nodes.len() < 2 {
        return Err(Error::invalid(format!(
            "{path} is not a database path (root.<name>)"
        )));
    }
    if not_concrete(&nodes) {
        return Err(Error::invalid(format!(
            "{path} is not a database path (empty node or wildcard)"
        )));
    }
    Ok(())
}

/// Checks a path names a series: not too long or deep, starts at `root`, at
/// least a database node, a device and a measurement, no wildcards, no empty
/// nodes.
pub fn validate_series_path(path: &str) -> Result<()> {
    check_path_size(path)?;
    let nodes = path_nodes(path);
    if nodes.first() != Some(&"root") {
        return Err(Error::invalid(format!("path {path} must start with root")));
    }
    if nodes.len() < 3 {
        return Err(Error::invalid(format!(
            "path {path} is too short for a time series (root.<database>.<device>.<measurement>)"
        )));
    }
    if not_concrete(&nodes) {
        return Err(Error::invalid(format!(
            "path {path} is not a series path (empty node or wildcard)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        matches(&path_nodes(p), &path_nodes(path))
    }

    /// The plain recursive definition, as the reference.
    fn reference(pattern: &[&str], path: &[&str]) -> bool {
        match (pattern.split_first(), path.split_first()) {
            (None, None) => true,
            (None, Some(_)) | (Some(_), None) => false,
            (Some((&"**", rest)), Some(_)) => (1..=path.len()).any(|k| reference(rest, &path[k..])),
            (Some((&p, rest)), Some((&n, path_rest))) => {
                (p == "*" || p == n) && reference(rest, path_rest)
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn matching_agrees_with_the_recursive_definition(
            pattern in proptest::collection::vec(proptest::sample::select(vec!["a", "b", "*", "**"]), 0..7),
            path in proptest::collection::vec(proptest::sample::select(vec!["a", "b", "c"]), 0..8),
        ) {
            proptest::prop_assert_eq!(matches(&pattern, &path), reference(&pattern, &path));
        }
    }

    /// Thirty `**` against a 64-level path that fails at its last node: the
    /// recursive match tries every way to split 64 nodes among them.
    #[test]
    fn many_double_stars_match_in_linear_time() {
        let pattern: Vec<&str> = std::iter::once("root")
            .chain(std::iter::repeat_n("**", 30))
            .chain(std::iter::once("x"))
            .collect();
        let path: Vec<String> = (0..64).map(|i| format!("n{i}")).collect();
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let mut rooted = vec!["root"];
        rooted.extend_from_slice(&path);
        assert!(!matches(&pattern, &rooted));
        rooted.push("x");
        assert!(matches(&pattern, &rooted));
    }

    #[test]
    fn wildcards() {
        assert!(m("root.a.*", "root.a.b"));
        assert!(!m("root.a.*", "root.a.b.c"));
        assert!(m("root.a.**", "root.a.b.c"));
        assert!(!m("root.a.**", "root.a"));
        assert!(m("root.**.c", "root.a.b.c"));
        assert!(m("root.**", "root.x"));
        assert!(!m("root.b.**", "root.a.b"));
    }

    #[test]
    fn backquoted_nodes_keep_their_dots() {
        assert_eq!(path_nodes("root.`a.b`.c"), vec!["root", "`a.b`", "c"]);
        let s = Series {
            id: 1,
            path: "root.sg.`d.1`.temp".into(),
            data_type: DataType::Double,
            encoding: String::new(),
            compressor: String::new(),
            bucket_span_ms: 1,
            segments: vec![],
            types: vec![],
            tombstones: vec![],
            labels: vec![],
            created: Version::default(),
        };
        assert_eq!(s.device(), "root.sg.`d.1`");
        assert_eq!(s.measurement(), "temp");
    }

    #[test]
    fn series_records_keep_their_segments_and_refuse_bad_ones() {
        let mut s = Series {
            id: 3,
            path: "root.sg.d.s".into(),
            data_type: DataType::Double,
            encoding: "GORILLA".into(),
            compressor: "LZ4".into(),
            bucket_span_ms: 3_600_000,
            segments: vec![Segment {
                from: 5_000,
                span: 2_048,
            }],
            types: vec![(DataType::Int64, Version::new(9, 1))],
            tombstones: vec![],
            labels: vec![],
            created: Version::new(1, 1),
        };
        assert_eq!(Series::decode(&s.path, &s.encode()).unwrap(), s);
        // Labels with and without the sections before them.
        let tag = crate::labels::LabelCell {
            kind: crate::labels::LabelKind::Tag,
            key: "unit".into(),
            value: Some("c".into()),
            version: Version::new(4, 2),
        };
        let mut labelled = Series {
            labels: vec![tag],
            ..s.clone()
        };
        assert_eq!(
            Series::decode(&s.path, &labelled.encode()).unwrap(),
            labelled
        );
        labelled.segments.clear();
        labelled.types.clear();
        assert_eq!(
            Series::decode(&s.path, &labelled.encode()).unwrap(),
            labelled
        );
        for (from, span) in [(i64::MIN, 1), (5_000, 0), (5_000, i64::MAX), (i64::MAX, 1)] {
            s.segments = vec![Segment { from, span }];
            assert!(
                Series::decode(&s.path, &s.encode()).is_err(),
                "{from}/{span}"
            );
        }
        s.segments = vec![Segment { from: 9, span: 1 }, Segment { from: 9, span: 2 }];
        assert!(
            Series::decode(&s.path, &s.encode()).is_err(),
            "out of order"
        );
    }

    #[test]
    fn series_paths_are_checked() {
        assert!(validate_series_path("root.a.b").is_ok());
        assert!(validate_series_path("root.a").is_err());
        assert!(validate_series_path("foo.a.b").is_err());
        assert!(validate_series_path("root.a.*").is_err());
        assert!(validate_series_path("root..b").is_err());
        let long = format!("root.sg.d.{}", "m".repeat(MAX_PATH_BYTES));
        let e = validate_series_path(&long).unwrap_err().to_string();
        assert!(e.contains("the limit is 1024") && e.len() < 200, "{e}");
        let deep = format!("root{}", ".a".repeat(MAX_PATH_LEVELS));
        assert!(validate_series_path(&deep).is_err());
        let just = format!("root{}", ".a".repeat(MAX_PATH_LEVELS - 1));
        assert!(validate_series_path(&just).is_ok());
        assert!(validate_series_path("root.sg.`a.b.c`.m").is_ok());
    }
}

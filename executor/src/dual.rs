//! Where a query's points come from: this node's engine, or (`SET READ_MODE
//! = DUAL`) this node and its peers merged by the storage's own rule.
//!
//! A dual read asks each peer for the series a pattern matches (`SHOW
//! TIMESERIES`) and, per series it scans, for every point in the range with
//! its version and every range delete (`SHOW VERSIONS`), then keeps per
//! time the point with the greatest version unless a delete (from either
//! node) with a greater version covers it: the same last-writer-wins
//! result both nodes reach once replication has caught up. Queries run over
//! the merged points as over local ones, so aggregates, GROUP BY, LAST,
//! ORDER BY and LIMIT are computed on the merge, not by adding partial
//! results. A peer that does not answer leaves the local points and a
//! warning the client sees.

use crate::error::Result;
use duet_engine::{
    chunk::Tombstone, BlockIter, Column, DataType, Engine, PointBlock, Series, Value, Version,
};
use std::sync::Arc;
use std::sync::Mutex;

/// `SET READ_MODE = SINGLE | DUAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    #[default]
    Single,
    Dual,
}

/// One peer's answer: its rows as text, or why it gave none.
pub type PeerRows = std::result::Result<Vec<Vec<String>>, String>;

/// Statements run on this node's peers (the server's pipes know them).
pub trait PeerQuery: Send + Sync {
    /// `sql` on every peer but those in `skip`: (peer, its answer).
    fn ask_peers(&self, sql: &str, skip: &[String]) -> Vec<(String, PeerRows)>;
}

/// What queries read.
pub trait Reader {
    fn series_matching(&self, pattern: &str) -> Vec<Arc<Series>>;
    /// Points of `s` with `start <= time <= end` (descending if `desc`).
    fn scan(&self, s: &Arc<Series>, start: i64, end: i64, desc: bool) -> BlockIter;
}

/// The series `pattern` names: by their paths, then by their aliases (as
/// copies named by the alias path, see `Schema::series_by_alias`).
fn local_matching(engine: &Engine, pattern: &str) -> Vec<Arc<Series>> {
    let schema = engine.schema();
    let mut out = schema.series_matching(pattern);
    out.extend(schema.series_by_alias(pattern));
    out
}

impl Reader for Engine {
    fn series_matching(&self, pattern: &str) -> Vec<Arc<Series>> {
        local_matching(self, pattern)
    }

    fn scan(&self, s: &Arc<Series>, start: i64, end: i64, desc: bool) -> BlockIter {
        Box::new(Engine::scan(self, s.clone(), start, end, desc))
    }
}

/// A series only a peer has: no local id.
const NOT_HERE: u64 = u64::MAX;

/// This node and its peers, merged per point. Cheap to clone: scans
/// share it and read lazily, window by window.
#[derive(Clone)]
pub struct DualReader(Arc<Inner>);

struct Inner {
    engine: Arc<Engine>,
    peers: Arc<dyn PeerQuery>,
    /// What the client is told: peers that did not answer.
    warnings: Mutex<Vec<String>>,
    /// Peers that failed once are not asked again in this query.
    failed: Mutex<Vec<String>>,
    /// The reply has gone out: a peer failing now fails the query (its
    /// warning could no longer reach the client, and the rows sent so far
    /// held its points).
    streaming: std::sync::atomic::AtomicBool,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DualReader {
    pub fn new(engine: Arc<Engine>, peers: Arc<dyn PeerQuery>) -> Self {
        DualReader(Arc::new(Inner {
            engine,
            peers,
            warnings: Mutex::default(),
            failed: Mutex::default(),
            streaming: Default::default(),
        }))
    }

    /// The warnings so far, joined (`None` when every peer answered); from
    /// here on a peer that fails fails the query.
    pub fn finish(&self) -> Option<String> {
        self.0
            .streaming
            .store(true, std::sync::atomic::Ordering::Release);
        let w = locked(&self.0.warnings);
        (!w.is_empty()).then(|| w.join("; "))
    }
}

impl Inner {
    /// Rows of `sql` from the peers that answer; the others are noted (or,
    /// once streaming, fail the read).
    fn ask(&self, sql: &str) -> duet_engine::Result<Vec<Vec<Vec<String>>>> {
        let mut out = Vec::new();
        let skip = locked(&self.failed).clone();
        for (peer, r) in self.peers.ask_peers(sql, &skip) {
            match r {
                Ok(rows) => out.push(rows),
                Err(e) if self.streaming.load(std::sync::atomic::Ordering::Acquire) => {
                    return Err(duet_engine::Error::Invalid(format!(
                        "dual read: peer {peer} stopped answering during the query ({e}); \
                         run it again (or with SET READ_MODE = SINGLE)"
                    )));
                }
                Err(e) => {
                    locked(&self.failed).push(peer.clone());
                    locked(&self.warnings).push(format!(
                        "dual read: peer {peer} did not answer ({e}); the result holds this \
                         node's data alone"
                    ));
                }
            }
        }
        Ok(out)
    }
}

fn data_type_named(name: &str) -> Option<DataType> {
    DataType::ALL.into_iter().find(|t| t.name() == name)
}

fn parse_value(ty: DataType, s: &str) -> Option<Value> {
    Some(match ty {
        DataType::Boolean => Value::Bool(s.parse().ok()?),
        DataType::Int32 => Value::I32(s.parse().ok()?),
        DataType::Int64 => Value::I64(s.parse().ok()?),
        DataType::Float => Value::F32(s.parse().ok()?),
        DataType::Double => Value::F64(s.parse().ok()?),
        DataType::Text => Value::Text(s.to_string()),
        DataType::String => Value::Str(s.to_string()),
        DataType::Timestamp => Value::Timestamp(s.parse().ok()?),
        DataType::Date => Value::Date(duet_engine::types::parse_date(s).or_else(|| {
            s.parse()
                .ok()
                .filter(|v| duet_engine::types::date_is_valid(*v))
        })?),
        DataType::Blob => Value::Blob(from_hex(s.strip_prefix("0x")?)?),
    })
}

/// Points per `chunk` row of `SHOW VERSIONS ... PACKED`.
pub const PACKED_POINTS: usize = 4096;

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// A version as `SHOW VERSIONS` prints it: `hlc:node`.
pub fn version_text(v: Version) -> String {
    format!("{}:{}", v.hlc, v.node)
}

fn parse_version(s: &str) -> Option<Version> {
    let (h, n) = s.split_once(':')?;
    Some(Version::new(h.parse().ok()?, n.parse().ok()?))
}

/// A value in `ty`, exactly, if it fits.
fn fit(v: Value, ty: DataType) -> Option<Value> {
    if v.data_type() == ty {
        return Some(v);
    }
    let mut c = Column::new(v.data_type());
    c.push(&v);
    c.to_type_exact(ty).and_then(|c| c.get(0))
}

impl Reader for DualReader {
    fn series_matching(&self, pattern: &str) -> Vec<Arc<Series>> {
        let mut out = local_matching(&self.0.engine, pattern);
        if !pattern.contains('*') && out.len() == 1 {
            // One series named in full, and this node has it: the peer
            // has nothing else under that name (its points are merged in
            // the scan).
            return out;
        }
        // Before the reply: a failure here is a warning, never an error.
        for rows in self
            .0
            .ask(&format!("SHOW TIMESERIES {pattern}"))
            .unwrap_or_default()
        {
            for r in rows {
                let (Some(path), Some(ty)) = (r.first(), r.get(3).and_then(|t| data_type_named(t)))
                else {
                    continue;
                };
                if let Some(here) = out.iter_mut().find(|s| &s.path == path) {
                    // Typed apart on the two nodes (replication will join
                    // the types): read in the join, as storage will hold it.
                    let joined = here.data_type.join(ty);
                    if joined != here.data_type {
                        let mut wider = Series::clone(here);
                        wider.data_type = joined;
                        *here = Arc::new(wider);
                    }
                    continue;
                }
                out.push(Arc::new(Series {
                    id: NOT_HERE,
                    path: path.clone(),
                    data_type: ty,
                    encoding: String::new(),
                    compressor: String::new(),
                    bucket_span_ms: 1,
                    segments: Vec::new(),
                    types: Vec::new(),
                    tombstones: Vec::new(),
                    labels: Vec::new(),
                    created: Version::default(),
                }));
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    fn scan(&self, s: &Arc<Series>, start: i64, end: i64, desc: bool) -> BlockIter {
        let mut scan = DualScan {
            inner: self.0.clone(),
            series: s.clone(),
            lo: start.max(duet_engine::MIN_TIME),
            hi: end.min(duet_engine::MAX_TIME),
            desc,
            done: start > end,
            width: FIRST_WINDOW_MS,
            first: None,
        };
        // The first block now, before the reply: a peer that does not
        // answer becomes a warning the client sees.
        scan.first = scan.next();
        Box::new(scan)
    }
}

/// The first window a dual scan reads, in ms of time.
const FIRST_WINDOW_MS: i128 = 10_000;
/// Points a window aims at: wider after sparse windows, narrower after
/// dense ones; an empty window jumps to the nearest point (so a LAST or a
/// LIMIT reads little, and a long scan streams).
const WINDOW_POINTS: usize = 50_000;

/// A series read window by window from its start (or end, descending),
/// each window merged from every node.
struct DualScan {
    inner: Arc<Inner>,
    series: Arc<Series>,
    /// What is still to read, inclusive (until `done`).
    lo: i64,
    hi: i64,
    desc: bool,
    done: bool,
    width: i128,
    first: Option<duet_engine::Result<PointBlock>>,
}

impl Iterator for DualScan {
    type Item = duet_engine::Result<PointBlock>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(b) = self.first.take() {
            return Some(b);
        }
        while !self.done {
            let (a, b) = if self.desc {
                (
                    (self.hi as i128 - self.width + 1).max(self.lo as i128) as i64,
                    self.hi,
                )
            } else {
                (
                    self.lo,
                    (self.lo as i128 + self.width - 1).min(self.hi as i128) as i64,
                )
            };
            // Whatever follows, [a, b] is read now.
            if self.desc && a > self.lo {
                self.hi = a - 1;
            } else if !self.desc && b < self.hi {
                self.lo = b + 1;
            } else {
                self.done = true;
            }
            let points = match self.inner.merge(&self.series, a, b) {
                Ok(p) => p,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if points.len() < WINDOW_POINTS / 4 {
                self.width = (self.width * 4).min(i128::from(u64::MAX));
            } else if points.len() > WINDOW_POINTS * 4 {
                self.width = (self.width / 4).max(1);
            }
            if points.is_empty() {
                // Jump over empty time to the nearest point either node
                // holds (none: done), instead of widening through it.
                if !self.done {
                    match self
                        .inner
                        .nearest(&self.series, self.lo, self.hi, self.desc)
                    {
                        Ok(Some(t)) if self.desc => self.hi = t,
                        Ok(Some(t)) => self.lo = t,
                        Ok(None) => self.done = true,
                        Err(e) => {
                            self.done = true;
                            return Some(Err(e));
                        }
                    }
                    self.width = FIRST_WINDOW_MS;
                }
                continue;
            }
            let ty = self.series.data_type;
            let mut times = Vec::with_capacity(points.len());
            let mut values = Column::with_capacity(ty, points.len());
            let ordered: Box<dyn Iterator<Item = (i64, Version, Value)>> = if self.desc {
                Box::new(points.into_iter().rev())
            } else {
                Box::new(points.into_iter())
            };
            for (t, _, v) in ordered {
                let shown = v.to_string();
                match fit(v, ty).filter(|v| values.push(v)) {
                    Some(_) => times.push(t),
                    None => {
                        self.done = true;
                        return Some(Err(duet_engine::Error::TypeMismatch(format!(
                            "dual read: {} holds {shown} at {t} on one node, which does not fit \
                             its type {ty} on the other (a type change replication has not \
                             settled yet); read it with SET READ_MODE = SINGLE",
                            self.series.path
                        ))));
                    }
                }
            }
            return Some(Ok(PointBlock { times, values }));
        }
        None
    }
}

/// Points in time order, one per time.
type Merged = Vec<(i64, Version, Value)>;

/// Two time-ordered point lists as one, the greater version at equal times.
fn merge_sorted(a: Merged, b: Merged) -> Merged {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => b.next(),
                std::cmp::Ordering::Equal => {
                    let (x, y) = (a.next(), b.next());
                    match (x, y) {
                        (Some(x), Some(y)) => Some(if x.1 >= y.1 { x } else { y }),
                        (x, y) => x.or(y),
                    }
                }
            },
        };
        out.extend(next);
    }
    out
}

impl Inner {
    /// The time of the point nearest the start (`desc`: the end) of
    /// `[lo, hi]` on any node, if any (deleted points may count: it only
    /// says where to read next).
    fn nearest(
        &self,
        s: &Series,
        lo: i64,
        hi: i64,
        desc: bool,
    ) -> duet_engine::Result<Option<i64>> {
        let mut best: Option<i64> = None;
        let mut offer = |t: i64| {
            if (lo..=hi).contains(&t) {
                best = Some(match best {
                    Some(b) if desc => b.max(t),
                    Some(b) => b.min(t),
                    None => t,
                });
            }
        };
        if let Some(here) = self.engine.schema().series.get(&s.path).cloned() {
            if let Some(block) = self.engine.scan(here, lo, hi, desc).next() {
                if let Some(&t) = block?.times.first() {
                    offer(t);
                }
            }
        }
        let (device, m) = s.path.rsplit_once('.').unwrap_or((&s.path, ""));
        let sql = if desc {
            format!("SELECT {m} FROM {device} WHERE time >= {lo} AND time <= {hi} ORDER BY TIME DESC LIMIT 1")
        } else {
            format!("SELECT {m} FROM {device} WHERE time >= {lo} AND time <= {hi} LIMIT 1")
        };
        for rows in self.ask(&sql)? {
            for r in rows {
                if let Some(t) = r.first().and_then(|t| t.parse::<i64>().ok()) {
                    offer(t);
                }
            }
        }
        Ok(best)
    }

    /// Every node's points of `s` in the range, newest version per time,
    /// without what a newer delete on any node covers.
    fn merge(&self, s: &Series, start: i64, end: i64) -> duet_engine::Result<Merged> {
        // The peers are asked while this node reads its own points.
        let sql = format!(
            "SHOW VERSIONS {} WHERE time >= {start} AND time <= {end} PACKED",
            s.path
        );
        std::thread::scope(|scope| {
            let asked = scope.spawn(|| self.ask(&sql));
            self.merge_with(s, start, end, || match asked.join() {
                Ok(rows) => rows,
                Err(_) => Err(duet_engine::Error::Invalid(
                    "dual read: asking the peers failed".into(),
                )),
            })
        })
    }

    fn merge_with(
        &self,
        s: &Series,
        start: i64,
        end: i64,
        peers: impl FnOnce() -> duet_engine::Result<Vec<Vec<Vec<String>>>>,
    ) -> duet_engine::Result<Merged> {
        let mut tombstones: Vec<Tombstone> = Vec::new();
        let here = if s.id != NOT_HERE {
            Some(Arc::new(s.clone()))
        } else {
            // Made here since the query resolved its series?
            self.engine.schema().series.get(&s.path).cloned()
        };
        let mut points: Merged = match here {
            Some(here) => {
                tombstones.extend(here.tombstones.iter().cloned());
                self.engine
                    .versioned_points(&here, start, end)?
                    .into_iter()
                    .map(|p| (p.time, p.version, p.value))
                    .collect()
            }
            None => Vec::new(),
        };
        for rows in peers()? {
            let mut theirs: Merged = Vec::new();
            let mut offer = |t: i64, v: Version, value: Value| theirs.push((t, v, value));
            for r in rows {
                // Timeseries, DataType, Kind, Time, EndTime, Value, Version
                if r.len() < 7 || r[0] != s.path {
                    continue;
                }
                if r[2] == "chunk" {
                    let c = from_hex(&r[5])
                        .ok_or_else(|| duet_engine::Error::corrupt("peer chunk", "not hexadecimal"))
                        .and_then(|b| duet_engine::chunk::Chunk::decode(&b))?;
                    for (i, (&t, &v)) in c.times.iter().zip(&c.versions).enumerate() {
                        if let Some(value) = c.values.get(i) {
                            offer(t, v, value);
                        }
                    }
                    continue;
                }
                let (Some(ty), Ok(t), Some(v)) = (
                    data_type_named(&r[1]),
                    r[3].parse::<i64>(),
                    parse_version(&r[6]),
                ) else {
                    continue;
                };
                match r[2].as_str() {
                    "point" => {
                        if let Some(value) = parse_value(ty, &r[5]) {
                            offer(t, v, value);
                        }
                    }
                    "delete" => {
                        if let Ok(e) = r[4].parse::<i64>() {
                            tombstones.push(Tombstone {
                                start: t,
                                end: e,
                                version: v,
                            });
                        }
                    }
                    _ => {}
                }
            }
            // Only what was asked, one point per time (a peer's reply is
            // input: checked, never trusted).
            theirs.retain(|p| (start..=end).contains(&p.0));
            theirs.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            theirs.dedup_by_key(|p| p.0);
            points = merge_sorted(points, theirs);
        }
        points.retain(|(t, v, _)| !tombstones.iter().any(|x| x.kills(*t, *v)));
        Ok(points)
    }
}

/// `SHOW VERSIONS pattern [WHERE time ...]`: per series in the range, each
/// point with its version and each range delete that reaches the range.
/// With `packed`, points come as `chunk` rows instead: up to
/// [`PACKED_POINTS`] points each, times, versions and values encoded as a
/// storage chunk, in hex, in `Value` (`Time`/`EndTime`: the first and last
/// time): a few rows to send instead of one per point.
pub fn show_versions(
    engine: &Engine,
    pattern: &str,
    range: crate::predicate::TimeRange,
    packed: bool,
) -> Result<crate::ResultSet> {
    let text = |s: String| Some(Value::Text(s));
    let mut rows = Vec::new();
    let series = engine.schema().series_matching(pattern);
    for s in series {
        // Timeseries, DataType, Kind, Time, EndTime, Value, Version.
        let row =
            |kind: &str, time: i64, end: Option<i64>, value: Option<String>, version: String| {
                crate::Row {
                    time: None,
                    values: vec![
                        text(s.path.clone()),
                        text(s.data_type.name().into()),
                        text(kind.into()),
                        Some(Value::I64(time)),
                        end.map(Value::I64),
                        value.and_then(text),
                        text(version),
                    ],
                }
            };
        for t in s
            .tombstones
            .iter()
            .filter(|t| t.start <= range.end && t.end >= range.start)
        {
            rows.push(row(
                "delete",
                t.start,
                Some(t.end),
                None,
                version_text(t.version),
            ));
        }
        if range.is_empty() {
            continue;
        }
        let points = engine.versioned_points(&s, range.start, range.end)?;
        if packed {
            for part in points.chunks(PACKED_POINTS) {
                let mut c = duet_engine::chunk::Chunk::empty(s.data_type);
                for p in part {
                    if c.values.push(&p.value) {
                        c.times.push(p.time);
                        c.versions.push(p.version);
                    }
                }
                let (Some(first), Some(last)) = (c.times.first(), c.times.last()) else {
                    continue;
                };
                rows.push(row(
                    "chunk",
                    *first,
                    Some(*last),
                    Some(to_hex(&c.encode())),
                    c.times.len().to_string(),
                ));
            }
            continue;
        }
        for p in points {
            rows.push(row(
                "point",
                p.time,
                None,
                Some(p.value.to_string()),
                version_text(p.version),
            ));
        }
    }
    let mut cols = Vec::new();
    for (name, data_type) in [
        ("Timeseries", DataType::Text),
        ("DataType", DataType::Text),
        ("Kind", DataType::Text),
        ("Time", DataType::Int64),
        ("EndTime", DataType::Int64),
        ("Value", DataType::Text),
        ("Version", DataType::Text),
    ] {
        cols.push(crate::ColumnInfo {
            name: name.into(),
            data_type,
        });
    }
    Ok(crate::ResultSet::from_rows(false, cols, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_versions_read_back_exactly() {
        for (ty, v) in [
            (DataType::Double, Value::F64(0.1 + 0.2)),
            (DataType::Float, Value::F32(1.0e-7)),
            (DataType::Int64, Value::I64(i64::MIN)),
            (DataType::Boolean, Value::Bool(true)),
            (DataType::Text, Value::Text("a, b".into())),
        ] {
            assert_eq!(parse_value(ty, &v.to_string()), Some(v));
        }
        let v = Version::new(123_456_789, 7);
        assert_eq!(parse_version(&version_text(v)), Some(v));
        assert_eq!(fit(Value::I32(5), DataType::Double), Some(Value::F64(5.0)));
        let p = |t: i64, hlc: u64| (t, Version::new(hlc, 1), Value::I64(hlc as i64));
        assert_eq!(
            merge_sorted(
                vec![p(1, 5), p(2, 5), p(4, 5)],
                vec![p(2, 9), p(3, 1), p(4, 1)]
            ),
            vec![p(1, 5), p(2, 9), p(3, 1), p(4, 5)]
        );
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(fit(Value::Text("x".into()), DataType::Int64), None);
    }
}

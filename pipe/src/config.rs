//! A pipe's parameters (canonical keys, already checked by the executor)
//! turned into typed settings (source, processor, sink), with IoTDB's
//! defaults.

use crate::error::PipeError;
use crate::processor::{Bounds, Sampler};
use std::collections::BTreeMap;
use std::time::Duration;

pub type Params = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inclusion {
    pub inserts: bool,
    pub deletes: bool,
    pub schema: bool,
    /// Users and privileges (IoTDB's `auth`).
    pub auth: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceConfig {
    /// Forward only events that originated on this node (and include
    /// deletes and schema changes): how two pipes avoid loops.
    pub double_living: bool,
    /// `false`: do not forward events that arrived through a pipe.
    pub forwarding: bool,
    /// Series path pattern the pipe carries (`source.path`, or `pattern`
    /// with `pattern.format` = `iotdb`); `None` = everything.
    pub pattern: Option<String>,
    /// IoTDB's `source.pattern`: a series is carried when its full path
    /// starts with this text, a character prefix, not a node prefix
    /// (`root.db.d1` takes `root.db.d10.s1` and `root.db.d1x`).
    pub prefix: Option<String>,
    pub history: bool,
    pub realtime: bool,
    /// Points with `start <= time <= end` (realtime and history).
    pub start: i64,
    pub end: i64,
    /// Extra bounds for the history transfer only.
    pub history_start: i64,
    pub history_end: i64,
    pub inclusion: Inclusion,
    /// IoTDB's `mode.snapshot` = true (or `mode` = snapshot/query): send
    /// the history once, then end (START sends it again).
    pub snapshot: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    Thrift { urls: Vec<(String, u16)> },
    DoNothing,
}

/// A password: shown as `******` by `Debug`, so a logged or printed
/// configuration never carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("******")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    pub kind: SinkKind,
    /// Wait up to this long for more events before sending a partial batch
    /// (0: send what is there; batches grow while a send is in flight).
    pub batch_delay: Duration,
    pub batch_bytes: usize,
    /// One event per request (`sink.batch.enable = false`).
    pub single_events: bool,
    pub user: String,
    pub password: Secret,
    /// `sink.compressor`: applied in this order to each batch (empty: none).
    pub compressors: Vec<crate::compress::Codec>,
    pub rate_limit_bytes_per_sec: Option<u64>,
    /// `sink.ssl.enable` (or the `iotdb-thrift-ssl-sink`): connect with TLS.
    pub tls: Option<crate::tls::SinkTls>,
}

pub(crate) fn flag(p: &Params, key: &str, default: bool) -> bool {
    p.get(key)
        .map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

fn time(p: &Params, key: &str, default: i64) -> Result<i64, PipeError> {
    match p.get(key) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .or_else(|| duet_parser::iso_to_millis(v, 0).ok())
            .ok_or_else(|| PipeError::Config(format!("{key} = '{v}' is not a time"))),
    }
}

fn inclusion(p: &Params, double_living: bool) -> Inclusion {
    let parse = |v: &str| {
        let mut inc = Inclusion {
            inserts: false,
            deletes: false,
            schema: false,
            auth: false,
        };
        let v: String = v.to_ascii_lowercase().split_whitespace().collect();
        for part in v.split(',') {
            match part {
                "all" => {
                    inc = Inclusion {
                        inserts: true,
                        deletes: true,
                        schema: true,
                        auth: true,
                    }
                }
                "data" => {
                    inc.inserts = true;
                    inc.deletes = true
                }
                "data.insert" => inc.inserts = true,
                "data.delete" | "delete" => inc.deletes = true,
                // Duet's schema changes (databases and series) travel
                // together: any part of IoTDB's schema tree means them.
                s if s == "schema" || s.starts_with("schema.") => inc.schema = true,
                // Users and their privileges travel together too (Duet
                // has no roles).
                s if s == "auth" || s.starts_with("auth.") => inc.auth = true,
                _ => {}
            }
        }
        inc
    };
    // IoTDB carries inserts by default; double-living carries deletes and
    // schema changes too, so both sides stay identical.
    let mut inc = match p.get("source.inclusion") {
        Some(v) => parse(v),
        None if double_living => Inclusion {
            inserts: true,
            deletes: true,
            schema: true,
            auth: false,
        },
        None => Inclusion {
            inserts: true,
            deletes: false,
            schema: false,
            auth: false,
        },
    };
    // `exclusion` is the docs' other name of `inclusion.exclusion`.
    for v in ["source.inclusion.exclusion", "source.exclusion"]
        .iter()
        .filter_map(|k| p.get(*k))
    {
        let ex = parse(v);
        inc.inserts &= !ex.inserts;
        inc.deletes &= !ex.deletes;
        inc.schema &= !ex.schema;
        inc.auth &= !ex.auth;
    }
    inc
}

/// `mode.snapshot` wins over `mode` when both are given, as in IoTDB.
fn snapshot(p: &Params) -> bool {
    match p.get("source.mode.snapshot") {
        Some(v) => v.eq_ignore_ascii_case("true"),
        None => p
            .get("source.mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("snapshot") || m.eq_ignore_ascii_case("query")),
    }
}

impl SourceConfig {
    pub fn from_params(p: &Params) -> Result<SourceConfig, PipeError> {
        let double_living = flag(p, "source.mode.double-living", false);
        // IoTDB's precedence: `path` (a path pattern) over `pattern`,
        // which is a string prefix unless `pattern.format` = `iotdb`.
        let as_path = p
            .get("source.pattern.format")
            .is_some_and(|f| f.eq_ignore_ascii_case("iotdb"));
        let (pattern, prefix) = match (p.get("source.path"), p.get("source.pattern")) {
            (Some(path), _) => (Some(path.clone()), None),
            (None, Some(pat)) if as_path => (Some(pat.clone()), None),
            (None, Some(prefix)) => (None, Some(prefix.clone())),
            (None, None) => (None, None),
        };
        for pat in pattern.iter().chain(&prefix) {
            if !pat.starts_with("root") {
                return Err(PipeError::Config(format!(
                    "source path {pat} must start with root"
                )));
            }
        }
        let start = time(p, "source.start-time", i64::MIN)?;
        let end = time(p, "source.end-time", i64::MAX)?;
        Ok(SourceConfig {
            double_living,
            forwarding: flag(p, "source.forwarding-pipe-requests", true),
            pattern,
            prefix,
            history: flag(p, "source.history.enable", true),
            realtime: flag(p, "source.realtime.enable", true),
            start,
            end,
            history_start: time(p, "source.history.start-time", i64::MIN)?.max(start),
            history_end: time(p, "source.history.end-time", i64::MAX)?.min(end),
            inclusion: inclusion(p, double_living),
            snapshot: snapshot(p),
        })
    }

    /// Where this source, as written, means something else in Duet than
    /// in IoTDB (or what its defaults carry), in a few words each: SHOW
    /// PIPES' `Notes` column, so an operator reading a pasted statement
    /// sees it.
    pub fn notes(p: &Params) -> Vec<String> {
        let mut out = Vec::new();
        for key in ["source.realtime.mode", "source.mode.streaming"] {
            if let Some(v) = p.get(key) {
                out.push(format!(
                    "{}={v}: Duet streams every change from its log in every mode",
                    &key["source.".len()..]
                ));
            }
        }
        let loose = ["source.history.loose-range", "source.realtime.loose-range"]
            .iter()
            .any(|k| p.get(*k).is_some_and(|v| !v.trim().is_empty()));
        if loose || p.get("source.mode.strict").is_some_and(|v| v == "false") {
            out.push("loose ranges: Duet filters paths and times exactly".into());
        }
        let double_living = flag(p, "source.mode.double-living", false);
        let inc = inclusion(p, double_living);
        if double_living && !p.contains_key("source.inclusion") {
            out.push(
                "double-living: carries inserts, deletes and schema changes (IoTDB: inserts only)"
                    .into(),
            );
        }
        if inc.auth {
            out.push("carries users and privileges".into());
        }
        out
    }
}

impl SinkConfig {
    pub fn from_params(p: &Params) -> Result<SinkConfig, PipeError> {
        let sink_type = p.get("sink").map(String::as_str);
        let kind = match sink_type {
            Some("do-nothing-sink") => SinkKind::DoNothing,
            Some(
                "iotdb-thrift-sink"
                | "iotdb-thrift-sync-sink"
                | "iotdb-thrift-async-sink"
                | "iotdb-thrift-ssl-sink",
            ) => {
                let mut urls = Vec::new();
                if let (Some(ip), Some(port)) = (p.get("sink.ip"), p.get("sink.port")) {
                    urls.push((
                        ip.clone(),
                        port.parse()
                            .map_err(|_| PipeError::Config(format!("bad sink.port {port}")))?,
                    ));
                }
                for u in p
                    .get("sink.node-urls")
                    .map(|s| s.split(',').collect::<Vec<_>>())
                    .unwrap_or_default()
                {
                    let (h, port) = u
                        .trim()
                        .rsplit_once(':')
                        .ok_or_else(|| PipeError::Config(format!("bad node url {u}")))?;
                    let port = port
                        .parse()
                        .map_err(|_| PipeError::Config(format!("bad port in node url {u}")))?;
                    urls.push((
                        h.trim_start_matches('[').trim_end_matches(']').to_string(),
                        port,
                    ));
                }
                if urls.is_empty() {
                    return Err(PipeError::Config(
                        "the sink needs sink.ip and sink.port, or sink.node-urls".into(),
                    ));
                }
                SinkKind::Thrift { urls }
            }
            other => return Err(PipeError::Config(format!("unknown sink {other:?}"))),
        };
        let delay = match (
            number(p, "sink.batch.max-delay-ms")?,
            number(p, "sink.batch.max-delay-seconds")?,
        ) {
            (Some(ms), _) => Duration::from_millis(ms),
            (None, Some(s)) => Duration::from_secs(s),
            (None, None) => Duration::ZERO,
        };
        let compressors = crate::compress::parse_chain(
            p.get("sink.compressor").map_or("", String::as_str),
            p.get("sink.compressor.zstd.level").map(String::as_str),
        )
        .map_err(PipeError::Config)?;
        Ok(SinkConfig {
            kind,
            batch_delay: delay,
            batch_bytes: number(p, "sink.batch.size-bytes")?.map_or(4 << 20, |n| n.max(1) as usize),
            single_events: !flag(p, "sink.batch.enable", true),
            user: p
                .get("sink.username")
                .or(p.get("sink.user"))
                .cloned()
                .unwrap_or_else(|| "root".into()),
            password: Secret::new(p.get("sink.password").map_or("root", String::as_str)),
            compressors,
            rate_limit_bytes_per_sec: rate(p, "sink.rate-limit-bytes-per-second")?,
            tls: crate::tls::SinkTls::from_params(p, sink_type == Some("iotdb-thrift-ssl-sink"))?,
        })
    }
}

/// What the pipe's processor does to the points it carries
/// (`crate::processor`), with IoTDB's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessorConfig {
    pub sampler: Sampler,
    /// `processor.down-sampling.split-file`: down-sample history transfers
    /// too. IoTDB's default (false) sends its TsFiles (history) whole; a
    /// Duet history transfer plays that part.
    pub split_file: bool,
    /// `processor.down-sampling.memory-limit-in-bytes`: the per-series state
    /// a pipe may keep; past it every series starts afresh (keeps its next
    /// point), as an evicted series does in IoTDB.
    pub memory_limit_bytes: u64,
}

/// The down-sampling processors' names; each drops points.
pub const LOSSY_PROCESSORS: &[&str] = &[
    "tumbling-time-sampling-processor",
    "sdt-sampling-processor",
    "changing-value-sampling-processor",
];

impl ProcessorConfig {
    pub fn from_params(p: &Params) -> Result<ProcessorConfig, PipeError> {
        let name = p
            .get("processor")
            .map_or("do-nothing-processor", String::as_str);
        let sampler = match name {
            "do-nothing-processor" => Sampler::Forward,
            "tumbling-time-sampling-processor" => {
                let key = "processor.tumbling-time.interval-seconds";
                let secs = number(p, key)?.unwrap_or(60);
                // Seconds, in Duet's timestamp unit (ms), as IoTDB converts them.
                let interval = i64::try_from(secs)
                    .ok()
                    .and_then(|s| s.checked_mul(1000))
                    .filter(|&ms| ms > 0)
                    .ok_or_else(|| {
                        PipeError::Config(format!("{key} = {secs}: expected 1 or more seconds"))
                    })?;
                Sampler::TumblingTime { interval }
            }
            "sdt-sampling-processor" => Sampler::Sdt(bounds(p, "processor.sdt")?),
            "changing-value-sampling-processor" => {
                Sampler::ChangingValue(bounds(p, "processor.changing-value")?)
            }
            other => return Err(PipeError::Config(format!("unknown processor {other:?}"))),
        };
        let limit_key = "processor.down-sampling.memory-limit-in-bytes";
        let memory_limit_bytes = number(p, limit_key)?.unwrap_or(16 << 20);
        if memory_limit_bytes == 0 {
            return Err(PipeError::Config(format!(
                "{limit_key} must be more than 0"
            )));
        }
        Ok(ProcessorConfig {
            sampler,
            split_file: flag(p, "processor.down-sampling.split-file", false),
            memory_limit_bytes,
        })
    }

    /// Whether the processor drops points.
    pub fn is_lossy(&self) -> bool {
        self.sampler != Sampler::Forward
    }
}

/// Why a processor cannot run on a pipe with this source, if it cannot: a
/// double-living pair must end up holding the same data on both nodes.
pub fn check_processor(source: &SourceConfig, processor: &Params) -> Result<(), PipeError> {
    let cfg = ProcessorConfig::from_params(processor)?;
    if source.double_living && cfg.is_lossy() {
        let name = processor.get("processor").map_or("", String::as_str);
        return Err(PipeError::Config(lossy_on_double_living(name)));
    }
    Ok(())
}

/// The refusal of a down-sampling processor on a double-living pipe.
pub fn lossy_on_double_living(processor: &str) -> String {
    format!(
        "processor '{processor}' drops points, and a double-living pipe \
         ('source.mode.double-living'='true') must leave both nodes with the same data; \
         use it on a one-way pipe (without source.mode.double-living), \
         or do-nothing-processor here"
    )
}

/// SDT's or changing-value's deviation and time bounds under `prefix`
/// (IoTDB: deviation >= 0, intervals >= 0 and min <= max; intervals are in
/// timestamp units, milliseconds, not seconds).
fn bounds(p: &Params, prefix: &str) -> Result<Bounds, PipeError> {
    let dev_key = format!("{prefix}.compression-deviation");
    let deviation = match p.get(&dev_key) {
        None => 0.0,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(d) if d >= 0.0 => d,
            _ => {
                return Err(PipeError::Config(format!(
                    "{dev_key} = {v:?}: expected a number >= 0"
                )))
            }
        },
    };
    let interval = |name: &str, default: i64| -> Result<i64, PipeError> {
        let key = format!("{prefix}.{name}");
        match number(p, &key)? {
            None => Ok(default),
            Some(n) => {
                i64::try_from(n).map_err(|_| PipeError::Config(format!("{key} = {n}: too large")))
            }
        }
    };
    let b = Bounds {
        deviation,
        min_interval: interval("min-time-interval", 0)?,
        max_interval: interval("max-time-interval", i64::MAX)?,
    };
    if b.min_interval > b.max_interval {
        return Err(PipeError::Config(format!(
            "{prefix}.min-time-interval ({}) is more than {prefix}.max-time-interval ({})",
            b.min_interval, b.max_interval
        )));
    }
    Ok(b)
}

/// A whole-number parameter, if given; anything else is refused with the
/// key and the value (a typo must not silently mean 0 or "no limit").
fn number(p: &Params, key: &str) -> Result<Option<u64>, PipeError> {
    p.get(key)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| PipeError::Config(format!("{key} = {v:?}: expected a whole number")))
        })
        .transpose()
}

/// IoTDB's `rate-limit-bytes-per-second`: a decimal number of bytes per
/// second; zero or less (its default is -1) means no limit. A fraction is
/// rounded up to a whole byte.
fn rate(p: &Params, key: &str) -> Result<Option<u64>, PipeError> {
    let Some(v) = p.get(key) else {
        return Ok(None);
    };
    match v.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r <= 0.0 => Ok(None),
        Ok(r) if r.is_finite() => Ok(Some((r.ceil() as u64).max(1))),
        _ => Err(PipeError::Config(format!(
            "{key} = {v:?}: expected a number of bytes per second (-1: no limit)"
        ))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Pipe parameters from pairs (also for the TLS tests).
    pub(crate) fn params(kv: &[(&str, &str)]) -> Params {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_number_that_is_not_one_is_refused_with_its_key() {
        let sink = |k: &str, v: &str| {
            SinkConfig::from_params(&params(&[
                ("sink", "iotdb-thrift-sink"),
                ("sink.ip", "127.0.0.1"),
                ("sink.port", "6667"),
                (k, v),
            ]))
        };
        let rate = |v: &str| sink("sink.rate-limit-bytes-per-second", v);
        assert_eq!(rate("-1").unwrap().rate_limit_bytes_per_sec, None);
        assert_eq!(rate("0").unwrap().rate_limit_bytes_per_sec, None);
        assert_eq!(rate("1024.5").unwrap().rate_limit_bytes_per_sec, Some(1025));
        assert_eq!(rate("0.2").unwrap().rate_limit_bytes_per_sec, Some(1));
        assert!(rate("10ms").unwrap_err().to_string().contains("10ms"));
        assert!(rate("NaN").is_err());
        for key in [
            "sink.batch.max-delay-ms",
            "sink.batch.max-delay-seconds",
            "sink.batch.size-bytes",
        ] {
            let err = sink(key, "10ms").unwrap_err().to_string();
            assert!(err.contains(key) && err.contains("10ms"), "{err}");
            assert!(sink(key, "-1").is_err(), "{key} = -1");
            assert!(sink(key, "10").is_ok(), "{key} = 10");
        }
        let s = sink("sink.batch.max-delay-ms", " 25 ").unwrap();
        assert_eq!(s.batch_delay, Duration::from_millis(25));
    }

    #[test]
    fn notes_say_where_a_source_means_something_else() {
        let n = SourceConfig::notes(&params(&[
            ("source.realtime.mode", "batch"),
            ("source.realtime.loose-range", "time"),
        ]));
        assert_eq!(
            n,
            [
                "realtime.mode=batch: Duet streams every change from its log in every mode",
                "loose ranges: Duet filters paths and times exactly"
            ]
        );
        let n = SourceConfig::notes(&params(&[("source.mode.double-living", "true")]));
        assert_eq!(
            n,
            ["double-living: carries inserts, deletes and schema changes (IoTDB: inserts only)"]
        );
        let n = SourceConfig::notes(&params(&[
            ("source.mode.double-living", "true"),
            ("source.inclusion", "all"),
        ]));
        assert_eq!(n, ["carries users and privileges"]);
        assert!(SourceConfig::notes(&params(&[])).is_empty());
    }

    #[test]
    fn defaults_follow_iotdb() {
        let s = SourceConfig::from_params(&params(&[])).unwrap();
        assert!(!s.double_living && s.forwarding && s.history && s.realtime);
        assert_eq!(
            s.inclusion,
            Inclusion {
                inserts: true,
                deletes: false,
                schema: false,
                auth: false
            }
        );
        let d =
            SourceConfig::from_params(&params(&[("source.mode.double-living", "true")])).unwrap();
        assert_eq!(
            d.inclusion,
            Inclusion {
                inserts: true,
                deletes: true,
                schema: true,
                auth: false
            }
        );
        // IoTDB's `all` and any `auth` item carry users and privileges;
        // an exclusion takes them out again.
        for (inc, ex, auth) in [
            ("all", "", true),
            ("data, auth.user", "", true),
            ("auth.role.create,data.insert", "", true),
            ("all", "auth", false),
            ("data, schema", "", false),
        ] {
            let c = SourceConfig::from_params(&params(&[
                ("source.inclusion", inc),
                ("source.inclusion.exclusion", ex),
            ]))
            .unwrap();
            assert_eq!(c.inclusion.auth, auth, "{inc} minus {ex:?}");
        }
        let x = SourceConfig::from_params(&params(&[
            ("source.mode.double-living", "true"),
            ("source.inclusion.exclusion", "schema"),
            ("source.pattern", "root.sg"),
            ("source.start-time", "2024-01-01T00:00:00Z"),
        ]))
        .unwrap();
        assert!(!x.inclusion.schema && x.inclusion.deletes);
        assert_eq!(x.prefix.as_deref(), Some("root.sg"));
        assert_eq!(x.pattern, None);
        let both = SourceConfig::from_params(&params(&[
            ("source.pattern", "root.sg"),
            ("source.path", "root.x.**"),
        ]))
        .unwrap();
        assert_eq!(
            (both.pattern.as_deref(), both.prefix),
            (Some("root.x.**"), None)
        );
        let iotdb = SourceConfig::from_params(&params(&[
            ("source.pattern", "root.sg.*.s"),
            ("source.pattern.format", "iotdb"),
        ]))
        .unwrap();
        assert_eq!(
            (iotdb.pattern.as_deref(), iotdb.prefix),
            (Some("root.sg.*.s"), None)
        );
        assert_eq!(x.start, 1_704_067_200_000);
    }

    #[test]
    fn sinks() {
        let s = SinkConfig::from_params(&params(&[
            ("sink", "iotdb-thrift-sink"),
            ("sink.ip", "iotdb-2"),
            ("sink.port", "6667"),
        ]))
        .unwrap();
        assert_eq!(
            s.kind,
            SinkKind::Thrift {
                urls: vec![("iotdb-2".into(), 6667)]
            }
        );
        assert_eq!((s.user.as_str(), s.password.expose()), ("root", "root"));
        assert_eq!(format!("{:?}", s.password), "******");
        let f = SinkConfig::from_params(&params(&[
            ("sink", "iotdb-thrift-sink"),
            ("sink.node-urls", "a:1, b:2"),
        ]))
        .unwrap();
        assert_eq!(
            f.kind,
            SinkKind::Thrift {
                urls: vec![("a".into(), 1), ("b".into(), 2)]
            }
        );
        assert!(SinkConfig::from_params(&params(&[("sink", "iotdb-thrift-sink")])).is_err());
        let c = |list: &str, level: Option<&str>| {
            let mut kv = vec![("sink", "do-nothing-sink"), ("sink.compressor", list)];
            kv.extend(level.map(|l| ("sink.compressor.zstd.level", l)));
            SinkConfig::from_params(&params(&kv)).map(|s| s.compressors)
        };
        use crate::compress::Codec::*;
        assert_eq!(c("none", None).unwrap(), vec![]);
        assert_eq!(
            c("snappy,lz4", None).unwrap(),
            vec![Snappy, Lz4],
            "applied in the order written"
        );
        assert_eq!(c("zstd", Some("9")).unwrap(), vec![Zstd { level: 9 }]);
        assert!(c("brotli", None)
            .unwrap_err()
            .to_string()
            .contains("sink.compressor"));
        assert!(c("zstd", Some("23")).is_err());
    }
}

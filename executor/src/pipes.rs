//! Pipe statements: parameters checked against the keys IoTDB's pipes accept
//! (with or without their `source.`/`extractor.`/`processor.`/`sink.`/
//! `connector.` prefix), then handed to the node's pipe manager through
//! [`PipeControl`]. An unknown key or a bad value is rejected before
//! anything is created, with the list of accepted keys.

use crate::error::{ErrorKind, ExecError, Result};
use crate::Output;
use duet_parser::Statement;
use std::collections::BTreeMap;

/// Runs pipe statements; implemented by the pipe manager.
pub trait PipeControl: Send + Sync {
    fn create(&self, if_not_exists: bool, name: &str, pipe: ValidatedPipe) -> Result<()>;
    /// `ALTER PIPE`: `alter` turns the pipe's current definition into the
    /// new one (checked); the pipe keeps its progress.
    fn alter(&self, if_exists: bool, name: &str, alter: &AlterPipe) -> Result<()>;
    fn start(&self, name: &str) -> Result<()>;
    fn stop(&self, name: &str) -> Result<()>;
    fn drop_pipe(&self, if_exists: bool, name: &str) -> Result<()>;
    /// `SHOW PIPES` (all), `SHOW PIPE name` (that one; none when there
    /// is no such pipe, as in IoTDB) or `SHOW PIPES WHERE SINK USED BY
    /// name` (the pipes with that pipe's sink parameters).
    fn show(&self, which: ShowWhich<'_>) -> Result<Output>;
    fn show_cluster(&self) -> Result<Output>;
    /// `SET REPLICATION key = value` (`None`: back to the configured value).
    fn set_replication(&self, key: &str, value: Option<&str>) -> Result<()>;
    /// `VERIFY REPLICA [pattern] [WHERE time ...]`: this node's digests
    /// against each peer's, in `range` (inclusive).
    fn verify(&self, pattern: &str, range: crate::predicate::TimeRange) -> Result<Output>;
}

/// The clauses of an `ALTER PIPE`, keys checked and canonical: per stage,
/// `None` (unchanged) or (replace, parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterPipe {
    pub source: Option<(bool, BTreeMap<String, String>)>,
    pub processor: Option<(bool, BTreeMap<String, String>)>,
    pub sink: Option<(bool, BTreeMap<String, String>)>,
}

impl AlterPipe {
    /// The definition after this ALTER, checked as CREATE PIPE checks one:
    /// a MODIFY clause sets its keys (other spellings of a key are the same
    /// key) and keeps the rest; REPLACE makes its keys the whole stage.
    pub fn apply(&self, current: &ValidatedPipe) -> Result<ValidatedPipe> {
        fn stage(
            cur: &BTreeMap<String, String>,
            clause: &Option<(bool, BTreeMap<String, String>)>,
        ) -> Vec<(String, String)> {
            let mut out = match clause {
                Some((true, _)) => BTreeMap::new(),
                _ => cur.clone(),
            };
            if let Some((_, p)) = clause {
                out.extend(p.clone());
            }
            out.into_iter().collect()
        }
        validate(
            &stage(&current.source, &self.source),
            &stage(&current.processor, &self.processor),
            &stage(&current.sink, &self.sink),
        )
    }
}

/// Which pipes `SHOW PIPES` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowWhich<'a> {
    All,
    Named(&'a str),
    SameSinkAs(&'a str),
}

/// A pipe definition with canonical keys (`source.x`, `processor.x`, `sink.x`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidatedPipe {
    pub source: BTreeMap<String, String>,
    pub processor: BTreeMap<String, String>,
    pub sink: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Port,
    PositiveInt,
    /// A whole number, 0 or more.
    Count,
    /// A decimal number, 0 or more.
    NonNegative,
    Time,
    /// A decimal rate; zero or less means no limit (IoTDB's -1 default).
    Rate,
    /// A plugin name, with IoTDB's other spellings of it: (alias, name).
    Plugin(
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    ),
    Text,
    NodeUrls,
    OneOf(&'static [&'static str]),
    Inclusion,
    /// `compressor`: a comma list of [`COMPRESSORS`], applied in that
    /// order; empty or `none` alone: no compression.
    Compressors,
    /// `compressor.zstd.level`: IoTDB's range, [`ZSTD_LEVELS`].
    ZstdLevel,
}

/// One accepted parameter: canonical name (without stage prefix) and its kind.
pub struct PipeParamSpec {
    pub name: &'static str,
    kind: Kind,
}

const fn spec(name: &'static str, kind: Kind) -> PipeParamSpec {
    PipeParamSpec { name, kind }
}

pub const SINK_TYPES: &[&str] = &[
    "iotdb-thrift-sink",
    "iotdb-thrift-sync-sink",
    "iotdb-thrift-async-sink",
    "iotdb-thrift-ssl-sink",
    "do-nothing-sink",
];
/// IoTDB's older `*-connector` and `*-extractor` names of the same plugins.
const SINK_ALIASES: &[(&str, &str)] = &[
    ("iotdb-thrift-connector", "iotdb-thrift-sink"),
    ("iotdb-thrift-sync-connector", "iotdb-thrift-sync-sink"),
    ("iotdb-thrift-async-connector", "iotdb-thrift-async-sink"),
    ("iotdb-thrift-ssl-connector", "iotdb-thrift-ssl-sink"),
    ("do-nothing-connector", "do-nothing-sink"),
];
/// IoTDB's sink compressors, less `lzma2` (no Duet codec). The pipe crate
/// implements them (`duet_pipe::compress`); keep the two lists equal.
pub const COMPRESSORS: &[&str] = &["snappy", "gzip", "lz4", "zstd"];
/// Longest compressor chain (`duet_pipe::compress::MAX_CHAIN`).
const MAX_CHAIN: usize = 8;
/// `Zstd.minCompressionLevel()` to `Zstd.maxCompressionLevel()`.
const ZSTD_LEVELS: std::ops::RangeInclusive<i64> = -131_072..=22;
/// IoTDB's inclusion tree (PipeInclusionOptions): an item names a leaf or
/// any prefix of one, or is one of the aliases.
const INCLUSION_LEAVES: &[&str] = &[
    "data.insert",
    "data.delete",
    "schema.database.create",
    "schema.database.alter",
    "schema.database.drop",
    "schema.timeseries.ordinary.create",
    "schema.timeseries.ordinary.alter",
    "schema.timeseries.ordinary.drop",
    "schema.timeseries.view.create",
    "schema.timeseries.view.alter",
    "schema.timeseries.view.drop",
    "schema.timeseries.template.create",
    "schema.timeseries.template.set",
    "schema.timeseries.template.unset",
    "schema.timeseries.template.alter",
    "schema.timeseries.template.drop",
    "schema.timeseries.template.activate",
    "schema.timeseries.template.deactivate",
    "schema.ttl",
    "auth.role.create",
    "auth.role.drop",
    "auth.role.grant",
    "auth.role.revoke",
    "auth.user.create",
    "auth.user.alter",
    "auth.user.drop",
    "auth.user.grant",
    "auth.user.revoke",
];
/// IoTDB's `history.loose-range` / `realtime.loose-range` values.
const LOOSE_RANGES: &[&str] = &[
    "",
    "time",
    "path",
    "time, path",
    "path, time",
    "time,path",
    "path,time",
    "all",
];
const INCLUSION_ALIASES: &[&str] = &["all", "delete", "schema.delete", "auth.delete"];

/// Whether `item` is in IoTDB's inclusion tree (a leaf, a prefix of one,
/// or an alias).
fn inclusion_item(item: &str) -> bool {
    INCLUSION_ALIASES.contains(&item)
        || INCLUSION_LEAVES
            .iter()
            .any(|l| *l == item || l.starts_with(&format!("{item}.")))
}

static SOURCE: &[PipeParamSpec] = &[
    spec("source", Kind::OneOf(&["iotdb-source", "iotdb-extractor"])),
    spec("mode.double-living", Kind::Bool),
    spec("forwarding-pipe-requests", Kind::Bool),
    spec("path", Kind::Text),
    spec("pattern", Kind::Text),
    spec("pattern.format", Kind::OneOf(&["prefix", "iotdb"])),
    spec("history.enable", Kind::Bool),
    spec("realtime.enable", Kind::Bool),
    spec(
        "realtime.mode",
        Kind::OneOf(&["stream", "batch", "hybrid", "log", "file", "forced-log"]),
    ),
    spec("start-time", Kind::Time),
    spec("end-time", Kind::Time),
    spec("history.start-time", Kind::Time),
    spec("history.end-time", Kind::Time),
    spec("inclusion", Kind::Inclusion),
    spec("inclusion.exclusion", Kind::Inclusion),
    // IoTDB's 1.3.6/2.0.8 docs write `'exclusion'='auth'`; its code reads
    // only `inclusion.exclusion`. Duet takes it as that key's other name.
    spec("exclusion", Kind::Inclusion),
    // IoTDB 1.3.3/2.0's transfer modes. Duet streams every change from its
    // change log whatever they say (docs/iotdb-compatibility.md): streaming
    // or not, the same events go in the same order; filtering is always
    // strict, which a loose range allows.
    spec("mode.streaming", Kind::Bool),
    // A one-shot pipe: its history, then it ends (IoTDB drops it; Duet
    // keeps it STOPPED with that said, and START sends it again).
    spec("mode.snapshot", Kind::Bool),
    spec("mode", Kind::OneOf(&["live", "query", "snapshot"])),
    spec("mode.strict", Kind::Bool),
    spec("history.loose-range", Kind::OneOf(LOOSE_RANGES)),
    spec("realtime.loose-range", Kind::OneOf(LOOSE_RANGES)),
];

/// The keys one stage (`source`, `processor` or `sink`) accepts, without
/// their prefix (the stage's plugin key is the stage's name).
pub fn accepted_keys(stage: &str) -> Vec<&'static str> {
    let specs = match stage {
        "source" => SOURCE,
        "processor" => PROCESSOR,
        "sink" => SINK,
        _ => return Vec::new(),
    };
    specs.iter().map(|s| s.name).collect()
}

/// IoTDB's down-sampling processors (duet_pipe::processor); each drops points.
const LOSSY_PROCESSORS: &[&str] = &[
    "tumbling-time-sampling-processor",
    "sdt-sampling-processor",
    "changing-value-sampling-processor",
];

static PROCESSOR: &[PipeParamSpec] = &[
    spec(
        "processor",
        Kind::OneOf(&[
            "do-nothing-processor",
            "tumbling-time-sampling-processor",
            "sdt-sampling-processor",
            "changing-value-sampling-processor",
        ]),
    ),
    spec("down-sampling.split-file", Kind::Bool),
    spec("down-sampling.memory-limit-in-bytes", Kind::PositiveInt),
    // Seconds.
    spec("tumbling-time.interval-seconds", Kind::PositiveInt),
    // Intervals in timestamp units (milliseconds), as in IoTDB.
    spec("sdt.compression-deviation", Kind::NonNegative),
    spec("sdt.min-time-interval", Kind::Count),
    spec("sdt.max-time-interval", Kind::Count),
    spec("changing-value.compression-deviation", Kind::NonNegative),
    spec("changing-value.min-time-interval", Kind::Count),
    spec("changing-value.max-time-interval", Kind::Count),
];

static SINK: &[PipeParamSpec] = &[
    spec("sink", Kind::Plugin(SINK_TYPES, SINK_ALIASES)),
    spec("ip", Kind::Text),
    spec("port", Kind::Port),
    spec("node-urls", Kind::NodeUrls),
    spec("batch.enable", Kind::Bool),
    spec("batch.max-delay-seconds", Kind::PositiveInt),
    spec("batch.max-delay-ms", Kind::PositiveInt),
    spec("batch.size-bytes", Kind::PositiveInt),
    spec("user", Kind::Text),
    spec("username", Kind::Text),
    spec("password", Kind::Text),
    spec("compressor", Kind::Compressors),
    spec("compressor.zstd.level", Kind::ZstdLevel),
    spec("rate-limit-bytes-per-second", Kind::Rate),
    // Duet's: whether the peer counts for replication.max_pending_bytes
    // and synchronous mode (default: true for double-living pipes).
    spec("pending-budget", Kind::Bool),
    // TLS (duet_pipe::tls): IoTDB's names, a PEM trust store in place of
    // its JKS (the password is accepted and not used), and Duet's own
    // client certificate and key.
    spec("ssl.enable", Kind::Bool),
    spec("ssl.trust-store-path", Kind::Text),
    spec("ssl.trust-store-pwd", Kind::Text),
    spec("ssl.cert-path", Kind::Text),
    spec("ssl.key-path", Kind::Text),
];

fn check_value(stage: &str, key: &str, kind: Kind, v: &str) -> Result<String> {
    let bad =
        |what: &str| ExecError::semantic(format!("{stage} parameter '{key}' = '{v}': {what}"));
    Ok(match kind {
        Kind::Bool => match v.to_ascii_lowercase().as_str() {
            b @ ("true" | "false") => b.to_string(),
            _ => return Err(bad("expected true or false")),
        },
        Kind::Port => match v.parse::<u16>() {
            Ok(p) if p > 0 => p.to_string(),
            _ => return Err(bad("expected a port number 1-65535")),
        },
        Kind::PositiveInt => match v.parse::<u64>() {
            Ok(n) if n > 0 => n.to_string(),
            _ => return Err(bad("expected a positive integer")),
        },
        Kind::Count => match v.trim().parse::<i64>() {
            Ok(n) if n >= 0 => n.to_string(),
            _ => return Err(bad("expected a whole number, 0 or more")),
        },
        Kind::NonNegative => match v.trim().parse::<f64>() {
            Ok(d) if d >= 0.0 => v.trim().to_string(),
            _ => return Err(bad("expected a number, 0 or more")),
        },
        Kind::Time => {
            // `now` is the moment the pipe is created, kept as that number.
            if v.trim().eq_ignore_ascii_case("now") {
                return Ok(crate::convert::now_ms().to_string());
            }
            if v.trim().parse::<i64>().is_err() && duet_parser::iso_to_millis(v, 0).is_err() {
                return Err(bad(
                    "expected milliseconds since the epoch, an ISO-8601 time \
                     (2023-08-23T08:00:00+00:00, 2023.08.23T08:00:00, 2023-08-23) or now",
                ));
            }
            v.trim().to_string()
        }
        Kind::Rate => match v.trim().parse::<f64>() {
            Ok(r) if r.is_finite() => v.trim().to_string(),
            _ => return Err(bad("expected a number of bytes per second (-1: no limit)")),
        },
        Kind::Plugin(names, aliases) => {
            let lower = v.trim().to_ascii_lowercase();
            match names.iter().find(|n| **n == lower) {
                Some(n) => n.to_string(),
                None => match aliases.iter().find(|(a, _)| *a == lower) {
                    Some((_, n)) => n.to_string(),
                    None => return Err(bad(&format!("expected one of {}", names.join(", ")))),
                },
            }
        }
        Kind::Text => {
            if v.trim().is_empty() {
                return Err(bad("must not be empty"));
            }
            v.to_string()
        }
        Kind::NodeUrls => {
            for url in v.split(',') {
                let ok = url
                    .trim()
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
                if !ok {
                    return Err(bad("expected host:port[,host:port...]"));
                }
            }
            v.to_string()
        }
        Kind::OneOf(options) => match options.iter().find(|o| o.eq_ignore_ascii_case(v)) {
            Some(o) => o.to_string(),
            None => return Err(bad(&format!("expected one of {}", options.join(", ")))),
        },
        Kind::Compressors => {
            let lower = v.trim().to_ascii_lowercase();
            if lower.is_empty() || lower == "none" {
                return Ok(lower);
            }
            let mut names = Vec::new();
            for part in lower.split(',') {
                match part.trim() {
                    "" => return Err(bad("an empty name in the list")),
                    n if COMPRESSORS.contains(&n) => names.push(n),
                    n => {
                        return Err(bad(&format!(
                            "'{n}' is not a compressor; expected a comma-separated list of {} \
                             (applied in that order), or none",
                            COMPRESSORS.join(", ")
                        )))
                    }
                }
            }
            if names.len() > MAX_CHAIN {
                return Err(bad(&format!("at most {MAX_CHAIN} compressors in a chain")));
            }
            names.join(",")
        }
        Kind::ZstdLevel => match v.trim().parse::<i64>() {
            Ok(l) if ZSTD_LEVELS.contains(&l) => l.to_string(),
            _ => {
                return Err(bad(&format!(
                    "expected a zstd level from {} to {}",
                    ZSTD_LEVELS.start(),
                    ZSTD_LEVELS.end()
                )))
            }
        },
        Kind::Inclusion => {
            let lower: String = v.to_ascii_lowercase().split_whitespace().collect();
            for part in lower.split(',') {
                if !inclusion_item(part) {
                    return Err(bad(&format!(
                        "'{part}' is not in IoTDB's inclusion tree (data, data.insert, \
                         data.delete, schema[.database|.timeseries|.ttl...], auth[...], all)"
                    )));
                }
            }
            lower
        }
    })
}

fn normalize_stage(
    stage: &str,
    prefixes: &[&str],
    specs: &[PipeParamSpec],
    params: &[(String, String)],
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, value) in params {
        let lower = key.to_ascii_lowercase();
        // The stage's type key is the bare prefix itself ('sink'='...').
        let bare = prefixes
            .iter()
            .find_map(|p| lower.strip_prefix(&format!("{p}.")))
            .map(str::to_string)
            .unwrap_or_else(|| {
                if prefixes.contains(&lower.as_str()) {
                    prefixes[0].to_string()
                } else {
                    lower.clone()
                }
            });
        let Some(spec) = specs.iter().find(|s| s.name == bare) else {
            if let Some(why) = crate::pipe_compat::why_not(stage, &bare) {
                return Err(ExecError::semantic(format!(
                    "{stage} parameter '{key}' is IoTDB's, and Duet does not take it: {why}"
                )));
            }
            let accepted: Vec<String> = specs
                .iter()
                .map(|s| {
                    if s.name == prefixes[0] {
                        s.name.to_string()
                    } else {
                        format!("{}.{}", prefixes[0], s.name)
                    }
                })
                .collect();
            return Err(ExecError::semantic(format!(
                "unknown {stage} parameter '{key}'; accepted: {}",
                accepted.join(", ")
            )));
        };
        let canonical = if spec.name == prefixes[0] {
            spec.name.to_string()
        } else {
            format!("{}.{}", prefixes[0], spec.name)
        };
        let v = check_value(stage, key, spec.kind, value)?;
        if out.insert(canonical.clone(), v).is_some() {
            return Err(ExecError::semantic(format!(
                "{stage} parameter {canonical} is given twice"
            )));
        }
    }
    Ok(out)
}

/// Checks a pipe definition; nothing is created if this fails.
/// A snapshot pipe (`mode.snapshot` = true, or `mode` = snapshot/query)
/// sends its history once: it needs its history, and cannot be one of a
/// double-living pair, which must keep streaming.
fn check_snapshot(pipe: &ValidatedPipe) -> Result<()> {
    let get = |k: &str| pipe.source.get(k).map(String::as_str);
    let snapshot = match get("source.mode.snapshot") {
        Some(v) => v == "true",
        None => matches!(get("source.mode"), Some("snapshot" | "query")),
    };
    if !snapshot {
        return Ok(());
    }
    if get("source.mode.double-living") == Some("true") {
        return Err(ExecError::semantic(
            "a snapshot pipe ('source.mode.snapshot'='true') sends its history once and ends; \
             a double-living pipe must keep both nodes in step: use one or the other",
        ));
    }
    if get("source.history.enable") == Some("false") {
        return Err(ExecError::semantic(
            "a snapshot pipe sends its history: 'source.history.enable'='false' leaves it nothing",
        ));
    }
    Ok(())
}

pub fn validate(
    source: &[(String, String)],
    processor: &[(String, String)],
    sink: &[(String, String)],
) -> Result<ValidatedPipe> {
    let pipe = ValidatedPipe {
        source: normalize_stage("source", &["source", "extractor"], SOURCE, source)?,
        processor: normalize_stage("processor", &["processor"], PROCESSOR, processor)?,
        sink: normalize_stage("sink", &["sink", "connector"], SINK, sink)?,
    };
    let mut pipe = pipe;
    // Without a 'sink' key IoTDB uses its thrift sink.
    let sink_type = pipe
        .sink
        .entry("sink".to_string())
        .or_insert_with(|| "iotdb-thrift-sink".to_string())
        .clone();
    if sink_type != "do-nothing-sink" {
        let has_ip_port = pipe.sink.contains_key("sink.ip") && pipe.sink.contains_key("sink.port");
        if !has_ip_port && !pipe.sink.contains_key("sink.node-urls") {
            return Err(ExecError::semantic(format!(
                "{sink_type} needs 'sink.ip' and 'sink.port', or 'sink.node-urls'"
            )));
        }
    }
    for (start, end) in [
        ("source.start-time", "source.end-time"),
        ("source.history.start-time", "source.history.end-time"),
    ] {
        let at = |k: &str| {
            let v = pipe.source.get(k)?;
            v.parse::<i64>()
                .ok()
                .or_else(|| duet_parser::iso_to_millis(v, 0).ok())
        };
        if let (Some(s), Some(e)) = (at(start), at(end)) {
            if s > e {
                return Err(ExecError::semantic(format!(
                    "{start} is after {end}: the pipe would send nothing"
                )));
            }
        }
    }
    check_processor(&pipe)?;
    check_snapshot(&pipe)?;
    if pipe.source.get("source.history.enable").map(String::as_str) == Some("false")
        && pipe
            .source
            .get("source.realtime.enable")
            .map(String::as_str)
            == Some("false")
    {
        return Err(ExecError::semantic(
            "a pipe with history and realtime both disabled would send nothing",
        ));
    }
    Ok(pipe)
}

/// The processor's cross-checks: min <= max (IoTDB's), and no point
/// dropped on a double-living pipe, whose two nodes must hold the same data.
fn check_processor(pipe: &ValidatedPipe) -> Result<()> {
    for prefix in ["processor.sdt", "processor.changing-value"] {
        let at = |k: &str| {
            pipe.processor
                .get(&format!("{prefix}.{k}"))?
                .parse::<i64>()
                .ok()
        };
        if let (Some(min), Some(max)) = (at("min-time-interval"), at("max-time-interval")) {
            if min > max {
                return Err(ExecError::semantic(format!(
                    "{prefix}.min-time-interval ({min}) is more than {prefix}.max-time-interval ({max})"
                )));
            }
        }
    }
    let processor = pipe.processor.get("processor").map_or("", String::as_str);
    let double_living = pipe
        .source
        .get("source.mode.double-living")
        .is_some_and(|v| v == "true");
    if double_living && LOSSY_PROCESSORS.contains(&processor) {
        return Err(ExecError::semantic(format!(
            "processor '{processor}' drops points, and a double-living pipe \
             ('source.mode.double-living'='true') must leave both nodes with the same data; \
             use it on a one-way pipe (without source.mode.double-living), \
             or do-nothing-processor here"
        )));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 {
        return Err(ExecError::semantic(
            "a pipe name must be 1 to 64 characters",
        ));
    }
    Ok(())
}

pub fn execute(pipes: Option<&dyn PipeControl>, stmt: &Statement) -> Result<Output> {
    // Validation first, so bad input gets its real error even where pipes do not run.
    let validated = match stmt {
        Statement::CreatePipe {
            name,
            source,
            processor,
            sink,
            ..
        } => {
            check_name(name)?;
            Some(validate(source, processor, sink)?)
        }
        _ => None,
    };
    let alter = match stmt {
        Statement::AlterPipe {
            source,
            processor,
            sink,
            ..
        } => {
            let clause = |stage: &str,
                          prefixes: &[&str],
                          specs: &[PipeParamSpec],
                          c: &Option<duet_parser::AlterClause>| {
                c.as_ref()
                    .map(|c| {
                        normalize_stage(stage, prefixes, specs, &c.params).map(|p| (c.replace, p))
                    })
                    .transpose()
            };
            Some(AlterPipe {
                source: clause("source", &["source", "extractor"], SOURCE, source)?,
                processor: clause("processor", &["processor"], PROCESSOR, processor)?,
                sink: clause("sink", &["sink", "connector"], SINK, sink)?,
            })
        }
        _ => None,
    };
    let Some(p) = pipes else {
        return Err(ExecError::new(
            ErrorKind::Unsupported,
            "pipes are not running in this process",
        ));
    };
    match (stmt, validated) {
        (
            Statement::CreatePipe {
                if_not_exists,
                name,
                ..
            },
            Some(v),
        ) => p.create(*if_not_exists, name, v).map(|_| Output::Done),
        (
            Statement::AlterPipe {
                if_exists, name, ..
            },
            _,
        ) => match &alter {
            Some(a) => p.alter(*if_exists, name, a).map(|_| Output::Done),
            None => Err(ExecError::semantic("not a pipe statement")),
        },
        (Statement::StartPipe { name }, _) => p.start(name).map(|_| Output::Done),
        (Statement::StopPipe { name }, _) => p.stop(name).map(|_| Output::Done),
        (Statement::DropPipe { if_exists, name }, _) => {
            p.drop_pipe(*if_exists, name).map(|_| Output::Done)
        }
        (Statement::ShowPipes, _) => p.show(ShowWhich::All),
        (Statement::ShowPipe { name }, _) => p.show(ShowWhich::Named(name)),
        (Statement::ShowPipesUsedBy { name }, _) => p.show(ShowWhich::SameSinkAs(name)),
        _ => Err(ExecError::semantic("not a pipe statement")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_guide_pipe_validates_with_canonical_keys() {
        let p = validate(
            &kv(&[("source.mode.double-living", "true")]),
            &[],
            &kv(&[
                ("sink", "iotdb-thrift-sink"),
                ("sink.ip", "iotdb-2"),
                ("sink.port", "6667"),
            ]),
        )
        .unwrap();
        assert_eq!(p.source.get("source.mode.double-living").unwrap(), "true");
        assert_eq!(p.sink.get("sink.ip").unwrap(), "iotdb-2");
        // Unprefixed and IoTDB's older spellings mean the same.
        let q = validate(
            &kv(&[("extractor.mode.double-living", "TRUE")]),
            &[],
            &kv(&[
                ("connector", "iotdb-thrift-sink"),
                ("ip", "iotdb-2"),
                ("connector.port", "6667"),
            ]),
        )
        .unwrap();
        assert_eq!(p, q);
    }

    #[test]
    fn bad_parameters_are_rejected_with_the_accepted_keys() {
        let sink = kv(&[
            ("sink", "iotdb-thrift-sink"),
            ("sink.ip", "h"),
            ("sink.port", "6667"),
        ]);
        let e = validate(
            &kv(&[("source.mode.double-living-typo", "true")]),
            &[],
            &sink,
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("unknown source parameter 'source.mode.double-living-typo'"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("source.mode.double-living,"),
            "{}",
            e.message
        );
        for (k, v) in [
            ("sink.port", "70000"),
            ("sink", "kafka-sink"),
            ("sink.batch.size-bytes", "-1"),
        ] {
            let mut s = sink.clone();
            s.retain(|(key, _)| key != k);
            s.push((k.into(), v.into()));
            assert!(validate(&[], &[], &s).is_err(), "{k}={v} accepted");
        }
        assert!(validate(&[], &[], &kv(&[("sink", "iotdb-thrift-sink")]))
            .unwrap_err()
            .message
            .contains("sink.ip"));
        assert!(validate(&kv(&[("source.mode.double-living", "yes")]), &[], &sink).is_err());
        assert!(validate(&[], &[], &kv(&[("sink", "do-nothing-sink")])).is_ok());
    }

    /// Spellings from IoTDB's Data Sync pages mean what they mean there.
    #[test]
    fn iotdb_spellings_are_read_as_iotdb_reads_them() {
        let at = kv(&[("node-urls", "h:6667")]);
        // No 'sink' key: IoTDB's thrift sink.
        let p = validate(&[], &[], &at).unwrap();
        assert_eq!(p.sink["sink"], "iotdb-thrift-sink");
        // The older *-connector names, through the connector. prefix too.
        for (given, name) in [
            ("iotdb-thrift-connector", "iotdb-thrift-sink"),
            ("IoTDB-Thrift-Async-Connector", "iotdb-thrift-async-sink"),
            ("do-nothing-connector", "do-nothing-sink"),
        ] {
            let mut s = at.clone();
            s.push(("connector".into(), given.into()));
            assert_eq!(
                validate(&[], &[], &s).unwrap().sink["sink"],
                name,
                "{given}"
            );
        }
        // Rates: -1 and decimals; garbage named with its key.
        for v in ["-1", "0", "1048576", "1024.5"] {
            let mut s = at.clone();
            s.push(("rate-limit-bytes-per-second".into(), v.into()));
            assert!(validate(&[], &[], &s).is_ok(), "{v}");
        }
        let mut s = at.clone();
        s.push(("sink.rate-limit-bytes-per-second".into(), "fast".into()));
        let e = validate(&[], &[], &s).unwrap_err();
        assert!(
            e.message.contains("rate-limit-bytes-per-second"),
            "{}",
            e.message
        );
        // Times: the docs' dotted form, a date, epoch ms, now.
        for v in [
            "2023.08.23T08:00:00+00:00",
            "2023-08-23",
            "1692777600000",
            "now",
        ] {
            let p = validate(&kv(&[("start-time", v)]), &[], &at).unwrap();
            let t = &p.source["source.start-time"];
            assert!(
                t.parse::<i64>().is_ok() || duet_parser::iso_to_millis(t, 0).is_ok(),
                "{v} -> {t}"
            );
        }
        let now = validate(&kv(&[("source.start-time", "NOW")]), &[], &at).unwrap();
        let t: i64 = now.source["source.start-time"].parse().unwrap();
        assert!(
            (t - crate::convert::now_ms()).abs() < 60_000,
            "now is fixed at creation: {t}"
        );
        assert!(validate(&kv(&[("start-time", "2023.13.23")]), &[], &at).is_err());
        let e = validate(
            &kv(&[("start-time", "2023-08-24"), ("end-time", "2023-08-23")]),
            &[],
            &at,
        )
        .unwrap_err();
        assert!(e.message.contains("after"), "{}", e.message);
    }

    #[test]
    fn processors_take_their_keys_with_or_without_the_prefix() {
        let sink = kv(&[("sink", "do-nothing-sink")]);
        let p = validate(
            &[],
            &kv(&[
                ("processor", "SDT-sampling-processor"),
                ("sdt.compression-deviation", "0.5"),
                ("processor.sdt.min-time-interval", "10"),
                ("processor.sdt.max-time-interval", "20000"),
                ("down-sampling.split-file", "TRUE"),
            ]),
            &sink,
        )
        .unwrap();
        assert_eq!(
            p.processor.get("processor").unwrap(),
            "sdt-sampling-processor"
        );
        assert_eq!(
            p.processor
                .get("processor.sdt.compression-deviation")
                .unwrap(),
            "0.5"
        );
        assert_eq!(
            p.processor.get("processor.sdt.min-time-interval").unwrap(),
            "10"
        );
        assert_eq!(
            p.processor
                .get("processor.down-sampling.split-file")
                .unwrap(),
            "true"
        );
        for (k, v, needle) in [
            (
                "processor.tumbling-time.interval-seconds",
                "0",
                "positive integer",
            ),
            (
                "processor.tumbling-time.interval-seconds",
                "1.5",
                "positive integer",
            ),
            ("changing-value.compression-deviation", "-0.1", "0 or more"),
            ("processor.sdt.min-time-interval", "-1", "0 or more"),
            (
                "processor",
                "swinging-door-trending-sampling-processor",
                "expected one of",
            ),
            (
                "processor.sdt.deviation",
                "1",
                "unknown processor parameter",
            ),
        ] {
            let e = validate(&[], &kv(&[(k, v)]), &sink).unwrap_err();
            assert!(e.message.contains(needle), "{k}={v}: {}", e.message);
        }
        let e = validate(
            &[],
            &kv(&[
                ("processor.changing-value.min-time-interval", "5"),
                ("processor.changing-value.max-time-interval", "4"),
            ]),
            &sink,
        )
        .unwrap_err();
        assert!(e.message.contains("is more than"), "{}", e.message);
    }

    #[test]
    fn a_lossy_processor_is_refused_on_a_double_living_pipe() {
        let sink = kv(&[("sink", "do-nothing-sink")]);
        let dl = kv(&[("source.mode.double-living", "true")]);
        for name in LOSSY_PROCESSORS {
            let e = validate(&dl, &kv(&[("processor", name)]), &sink).unwrap_err();
            assert!(
                e.message.contains(name)
                    && e.message.contains("drops points")
                    && e.message.contains("'source.mode.double-living'='true'"),
                "{}",
                e.message
            );
            assert!(validate(&[], &kv(&[("processor", name)]), &sink).is_ok());
        }
        let keep_all = kv(&[("processor", "do-nothing-processor")]);
        assert!(validate(&dl, &keep_all, &sink).is_ok());
    }

    #[test]
    fn compressors_are_checked_and_kept_in_the_order_written() {
        let with = |k: &str, v: &str| {
            validate(
                &[],
                &[],
                &kv(&[
                    ("sink", "iotdb-thrift-sink"),
                    ("sink.ip", "h"),
                    ("sink.port", "6667"),
                    (k, v),
                ]),
            )
        };
        for (v, kept) in [
            ("snappy", "snappy"),
            ("GZIP", "gzip"),
            (" snappy , LZ4", "snappy,lz4"),
            ("zstd,gzip,snappy,lz4", "zstd,gzip,snappy,lz4"),
            ("none", "none"),
            ("", ""),
        ] {
            let p = with("compressor", v).unwrap();
            assert_eq!(p.sink.get("sink.compressor").unwrap(), kept, "{v}");
        }
        let p = with("connector.compressor.zstd.level", "-5").unwrap();
        assert_eq!(p.sink.get("sink.compressor.zstd.level").unwrap(), "-5");
        for (k, v, words) in [
            (
                "sink.compressor",
                "brotli",
                vec!["'sink.compressor'", "brotli", "snappy, gzip, lz4, zstd"],
            ),
            (
                "sink.compressor",
                "lzma2",
                vec!["'sink.compressor'", "lzma2"],
            ),
            (
                "sink.compressor",
                "snappy,,lz4",
                vec!["'sink.compressor'", "empty name"],
            ),
            (
                "sink.compressor",
                "snappy,",
                vec!["'sink.compressor'", "empty name"],
            ),
            (
                "sink.compressor",
                "none,lz4",
                vec!["'sink.compressor'", "'none'"],
            ),
            (
                "sink.compressor",
                "lz4,lz4,lz4,lz4,lz4,lz4,lz4,lz4,lz4",
                vec!["at most 8"],
            ),
            (
                "sink.compressor.zstd.level",
                "23",
                vec!["'sink.compressor.zstd.level'", "-131072 to 22"],
            ),
            (
                "sink.compressor.zstd.level",
                "-131073",
                vec!["'sink.compressor.zstd.level'"],
            ),
            (
                "sink.compressor.zstd.level",
                "3.5",
                vec!["'sink.compressor.zstd.level'"],
            ),
        ] {
            let e = with(k, v).unwrap_err().message;
            assert!(words.iter().all(|w| e.contains(w)), "{k}={v}: {e}");
        }
    }
}

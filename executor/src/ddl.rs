//! Schema, user and node statements, and the SHOW statements' result shapes
//! (column names as IoTDB prints them where IoTDB has the statement).

use crate::convert;
use crate::error::{ExecError, Result};
use crate::{auth, ColumnInfo, NodeInfo, Output, ResultSet, Row, Session};
use duet_engine::labels::{self, LabelKind, NewLabels};
use duet_engine::privileges::{Access, Privilege};
use duet_engine::{DataType, Engine, Value, MAX_TIME, MIN_TIME};
use duet_parser::{AlterSeries, Path, SchemaFilter, Statement};

fn text_columns(names: &[&str]) -> Vec<ColumnInfo> {
    names
        .iter()
        .map(|n| ColumnInfo {
            name: n.to_string(),
            data_type: DataType::Text,
        })
        .collect()
}

fn text(s: impl Into<String>) -> Option<Value> {
    Some(Value::Text(s.into()))
}

/// Where `BACKUP` keeps its incremental backups, under the backup root.
pub const INCREMENTAL: &str = "incremental";

fn create_backup_dir(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        ExecError::new(
            crate::ErrorKind::Internal,
            format!("cannot create the backup directory {}: {e}", dir.display()),
        )
    })
}

fn backup_columns() -> Vec<ColumnInfo> {
    vec![
        ColumnInfo {
            name: "BackupID".into(),
            data_type: DataType::Int64,
        },
        ColumnInfo {
            name: "Time".into(),
            data_type: DataType::Int64,
        },
        ColumnInfo {
            name: "SizeBytes".into(),
            data_type: DataType::Int64,
        },
        ColumnInfo {
            name: "Files".into(),
            data_type: DataType::Int64,
        },
        ColumnInfo {
            name: "Directory".into(),
            data_type: DataType::Text,
        },
        ColumnInfo {
            name: "State".into(),
            data_type: DataType::Text,
        },
    ]
}

fn backup_row(dir: &std::path::Path, b: &duet_engine::BackupInfo) -> Row {
    Row {
        time: None,
        values: vec![
            Some(Value::I64(b.id as i64)),
            // Milliseconds, as every time in IoTDB's results.
            Some(Value::I64(b.timestamp.saturating_mul(1000))),
            Some(Value::I64(b.size_bytes as i64)),
            Some(Value::I64(b.files as i64)),
            text(dir.display().to_string()),
            text("done"),
        ],
    }
}

/// The incremental backup repositories under the backup root: the
/// default one first, then any `BACKUP INCREMENTAL TO` named, by name
/// (a repository is a directory with RocksDB's `meta` folder in it).
fn backup_repositories(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut named: Vec<std::path::PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("meta").is_dir() && !p.ends_with(INCREMENTAL))
        .collect();
    named.sort();
    let mut out = vec![root.join(INCREMENTAL)];
    out.extend(named);
    out
}

/// Where `BACKUP TO 'given'` writes: `given` names a directory under the
/// backup root (`storage.backup_dir`), relative to it or as a full path
/// inside it; never `..`, never anywhere else.
pub fn backup_target(root: &std::path::Path, given: &str) -> Result<std::path::PathBuf> {
    use std::path::{Component, Path};
    let refuse = || {
        ExecError::semantic(format!(
            "BACKUP writes only under storage.backup_dir ({}): name a new directory there, \
             e.g. BACKUP TO 'nightly-1'",
            root.display()
        ))
    };
    let p = Path::new(given);
    let rel = if p.is_absolute() {
        p.strip_prefix(root).map_err(|_| refuse())?
    } else {
        p
    };
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(refuse());
    }
    Ok(root.join(rel))
}

/// `LIST PRIVILEGES OF USER`: one row per path and privilege, as IoTDB
/// 1.3 prints them (`ROLE` empty: Duet has no roles).
fn privilege_rows(engine: &Engine, user: &str) -> Result<Vec<Row>> {
    let grants = match engine.access(user)? {
        Access::All => {
            let mut g = duet_engine::privileges::Grants::default();
            g.grant(duet_engine::privileges::ROOT_ALL, &Privilege::ALL, true);
            std::sync::Arc::new(g)
        }
        Access::Limited(g) => g,
    };
    let mut out = Vec::new();
    for g in &grants.grants {
        for p in Privilege::ALL {
            if g.privileges & p as u16 != 0 {
                out.push(Row {
                    time: None,
                    values: vec![
                        text(""),
                        text(g.path.clone()),
                        text(p.name()),
                        text(if g.grant_option & p as u16 != 0 {
                            "true"
                        } else {
                            "false"
                        }),
                    ],
                });
            }
        }
    }
    Ok(out)
}

/// Whether a series passes a SHOW/COUNT's WHERE.
fn series_passes(s: &duet_engine::Series, f: &SchemaFilter) -> bool {
    f.contains
        .as_ref()
        .is_none_or(|c| s.path.contains(c.as_str()))
        && f.data_type
            .is_none_or(|t| convert::data_type(t) == s.data_type)
        && f.tag.as_ref().is_none_or(|t| {
            labels::get(&s.labels, LabelKind::Tag, &t.key).is_some_and(|v| {
                if t.contains {
                    v.contains(t.value.as_str())
                } else {
                    v == t.value
                }
            })
        })
}

/// The TTL of a device (or a database: the device at its path), as IoTDB
/// shows it: milliseconds, or INF.
fn ttl_text(schema: &duet_engine::Schema, device: &str) -> String {
    ms_text(schema.ttl_of_device(device))
}

fn ms_text(ms: Option<i64>) -> String {
    match ms {
        None | Some(i64::MAX) => "INF".to_string(),
        Some(ms) => ms.to_string(),
    }
}

/// The rules `SET TTL TO p` / `UNSET TTL FROM p` make or remove, as IoTDB
/// has them: a database's path means its own rule and `p.**` (everything
/// below it); any other path, that one rule.
fn ttl_rules(engine: &Engine, p: &Path) -> Vec<String> {
    let s = convert::path(p);
    if engine.schema().databases.contains_key(&s) {
        vec![s.clone(), format!("{s}.**")]
    } else {
        vec![s]
    }
}

/// A statement's labels for a new series.
fn new_labels(l: &duet_parser::SeriesLabels) -> NewLabels {
    NewLabels {
        alias: l.alias.clone(),
        tags: l.tags.clone(),
        attributes: l.attributes.clone(),
    }
}

/// What `ALTER TIMESERIES` sets on `s`, by IoTDB's rules: SET and RENAME
/// need the key (a tag before an attribute of that name), RENAME refuses a
/// new key the series has, ADD TAGS refuses a tag that exists (ADD
/// ATTRIBUTES an attribute), UPSERT sets either way, DROP removes the tag
/// (else the attribute) and passes over a key the series does not have.
fn alter_cells(
    s: &duet_engine::Series,
    change: &AlterSeries,
) -> duet_engine::Result<Vec<(LabelKind, String, Option<String>)>> {
    use duet_engine::Error;
    let kind_of = |k: &str| {
        if labels::get(&s.labels, LabelKind::Tag, k).is_some() {
            Some(LabelKind::Tag)
        } else if labels::get(&s.labels, LabelKind::Attribute, k).is_some() {
            Some(LabelKind::Attribute)
        } else {
            None
        }
    };
    let missing = |k: &str| {
        Error::NotFound(format!(
            "TimeSeries [{}] does not have tag/attribute [{k}].",
            s.path
        ))
    };
    let mut out = Vec::new();
    match change {
        AlterSeries::Rename { from, to } => {
            let kind = kind_of(from).ok_or_else(|| missing(from))?;
            if kind_of(to).is_some() {
                return Err(Error::AlreadyExists(format!(
                    "TimeSeries [{}] already has a tag/attribute named [{to}].",
                    s.path
                )));
            }
            let value = labels::get(&s.labels, kind, from).map(str::to_string);
            out.push((kind, from.clone(), None));
            out.push((kind, to.clone(), value));
        }
        AlterSeries::Set(pairs) => {
            for (k, v) in pairs {
                let kind = kind_of(k).ok_or_else(|| missing(k))?;
                out.push((kind, k.clone(), Some(v.clone())));
            }
        }
        AlterSeries::Drop(keys) => {
            for k in keys {
                if let Some(kind) = kind_of(k) {
                    out.push((kind, k.clone(), None));
                }
            }
        }
        AlterSeries::AddTags(pairs) | AlterSeries::AddAttributes(pairs) => {
            let kind = if matches!(change, AlterSeries::AddTags(_)) {
                LabelKind::Tag
            } else {
                LabelKind::Attribute
            };
            for (k, v) in pairs {
                if labels::get(&s.labels, kind, k).is_some() {
                    return Err(Error::AlreadyExists(format!(
                        "TimeSeries [{}] already has the {} [{k}].",
                        s.path,
                        kind.noun()
                    )));
                }
                out.push((kind, k.clone(), Some(v.clone())));
            }
        }
        AlterSeries::Upsert(l) => {
            if let Some(a) = &l.alias {
                out.push((LabelKind::Alias, String::new(), Some(a.clone())));
            }
            for (kind, list) in [
                (LabelKind::Tag, &l.tags),
                (LabelKind::Attribute, &l.attributes),
            ] {
                for (k, v) in list {
                    out.push((kind, k.clone(), Some(v.clone())));
                }
            }
        }
    }
    Ok(out)
}

/// OFFSET then LIMIT of a SHOW.
fn page<T>(items: Vec<T>, f: &SchemaFilter) -> Vec<T> {
    items
        .into_iter()
        .skip(f.offset.unwrap_or(0) as usize)
        .take(f.limit.map_or(usize::MAX, |n| n as usize))
        .collect()
}

/// Every database and series path the session may see that `pattern`
/// matches or that has a path `pattern` matches above it.
fn schema_paths(engine: &Engine, pattern: &str, visible: &dyn Fn(&str) -> bool) -> Vec<String> {
    let schema = engine.schema();
    let nodes = duet_engine::schema::path_nodes(pattern);
    schema
        .series
        .keys()
        .chain(schema.databases.keys())
        .filter(|p| visible(p))
        .filter(|p| {
            duet_engine::schema::matches_prefix_of(&nodes, &duet_engine::schema::path_nodes(p))
                || duet_engine::schema::matches(&nodes, &duet_engine::schema::path_nodes(p))
        })
        .cloned()
        .collect()
}

fn count_row(name: &str, n: usize) -> Result<Output> {
    Ok(Output::Rows(ResultSet::from_rows(
        false,
        vec![ColumnInfo {
            name: name.into(),
            data_type: DataType::Int64,
        }],
        vec![Row {
            time: None,
            values: vec![Some(Value::I64(n as i64))],
        }],
    )))
}

fn pattern(p: &Option<Path>, default: &str) -> String {
    p.as_ref()
        .map(convert::path)
        .unwrap_or_else(|| default.to_string())
}

pub fn execute(
    engine: &Engine,
    node: &NodeInfo,
    session: &Session,
    stmt: &Statement,
) -> Result<Output> {
    use Statement as S;
    let access = &session.access;
    // What a SHOW lists: only what the session may read the schema of.
    let visible = |path: &str| access.allows(Privilege::ReadSchema, path);
    let rows =
        |has_time, columns, rows| Ok(Output::Rows(ResultSet::from_rows(has_time, columns, rows)));
    match stmt {
        S::CreateDatabase {
            path,
            bucket_span_ms,
        } => {
            engine.create_database(&convert::path(path), *bucket_span_ms)?;
        }
        S::DropDatabase { path } => engine.drop_database(&convert::path(path))?,
        S::ShowDatabases {
            pattern: p,
            details,
        } => {
            let pat = pattern(p, "root.**");
            let nodes = duet_engine::schema::path_nodes(&pat);
            let schema = engine.schema();
            // IoTDB 2.0's columns. A Duet node keeps one copy of each
            // database in one store (the pair's other copy is the peer's)
            // and partitions time by the bucket span.
            let int = |v: i64| Some(Value::I64(v));
            let out = schema
                .databases
                .values()
                .filter(|d| {
                    duet_engine::schema::matches(&nodes, &duet_engine::schema::path_nodes(&d.path))
                })
                .filter(|d| access.reaches(Privilege::ReadSchema, &d.path))
                .map(|d| {
                    let mut values = vec![
                        text(d.path.clone()),
                        text(ttl_text(&schema, &d.path)),
                        int(1),
                        int(1),
                        int(d.bucket_span_ms),
                    ];
                    if *details {
                        values.extend([int(1), int(1), int(1), int(1), int(1), int(1)]);
                    }
                    Row { time: None, values }
                })
                .collect();
            let mut cols = text_columns(&["Database", "TTL(ms)"]);
            let mut ints = vec![
                "SchemaReplicationFactor",
                "DataReplicationFactor",
                "TimePartitionInterval",
            ];
            if *details {
                ints.extend([
                    "SchemaRegionNum",
                    "MinSchemaRegionNum",
                    "MaxSchemaRegionNum",
                    "DataRegionNum",
                    "MinDataRegionNum",
                    "MaxDataRegionNum",
                ]);
            }
            cols.extend(ints.into_iter().map(|n| ColumnInfo {
                name: n.into(),
                data_type: DataType::Int64,
            }));
            return rows(false, cols, out);
        }
        S::CreateTimeseries {
            path,
            data_type,
            encoding,
            compressor,
            labels,
        } => {
            if path.is_pattern() {
                return Err(ExecError::semantic(format!(
                    "a time series path cannot be a pattern: {path}"
                )));
            }
            engine.create_timeseries(
                &convert::path(path),
                convert::data_type(*data_type),
                encoding.as_deref(),
                compressor.as_deref(),
                &new_labels(labels),
            )?;
        }
        S::SetTtl { path, ms } => {
            for rule in ttl_rules(engine, path) {
                engine.set_ttl(&rule, Some(*ms as i64))?;
            }
        }
        S::UnsetTtl { path } => {
            let rules = ttl_rules(engine, path);
            let set: Vec<&String> = {
                let schema = engine.schema();
                rules
                    .iter()
                    .filter(|r| schema.ttls.get(*r).is_some_and(|x| x.ms.is_some()))
                    .collect()
            };
            if set.is_empty() {
                return Err(ExecError::new(
                    crate::ErrorKind::NotFound,
                    format!("Not TTL rule set for {}", rules[0]),
                ));
            }
            for rule in set {
                engine.set_ttl(rule, None)?;
            }
        }
        S::ShowTtl { paths } => {
            // IoTDB lists root.** (INF unless set) and every rule the
            // paths match, by path (SHOW ALL TTL: ON root.**).
            let schema = engine.schema();
            let patterns: Vec<String> = match paths {
                None => vec!["root.**".into()],
                Some(ps) => ps.iter().map(convert::path).collect(),
            };
            let mut all: std::collections::BTreeMap<String, Option<i64>> = schema
                .ttls
                .iter()
                .filter(|(_, r)| r.ms.is_some())
                .map(|(p, r)| (p.clone(), r.ms))
                .collect();
            all.entry("root.**".into()).or_insert(None);
            // A rule shows when a pattern matches its path, or the prefix
            // of a `p.**` rule.
            let shown = |rule: &str| {
                let nodes = duet_engine::schema::path_nodes(rule);
                let prefix = rule
                    .strip_suffix(".**")
                    .map(duet_engine::schema::path_nodes);
                patterns.iter().any(|p| {
                    let p = duet_engine::schema::path_nodes(p);
                    duet_engine::schema::matches(&p, &nodes)
                        || prefix
                            .as_ref()
                            .is_some_and(|x| duet_engine::schema::matches(&p, x))
                })
            };
            let out = all
                .into_iter()
                .filter(|(p, _)| shown(p))
                .map(|(p, ms)| Row {
                    time: None,
                    values: vec![text(p), text(ms_text(ms))],
                })
                .collect();
            return rows(false, text_columns(&["Device", "TTL(ms)"]), out);
        }
        S::AlterTimeseries { path, change } => {
            if path.is_pattern() {
                return Err(ExecError::semantic(format!(
                    "a time series path cannot be a pattern: {path}"
                )));
            }
            engine.alter_labels(&convert::path(path), |s| alter_cells(s, change))?;
        }
        S::CreateAlignedTimeseries { device, series } => {
            if device.is_pattern() {
                return Err(ExecError::semantic(format!(
                    "a device path cannot be a pattern: {device}"
                )));
            }
            let dev = convert::path(device);
            // All or nothing: every name is checked before one is made.
            {
                let schema = engine.schema();
                for s in series {
                    let path = format!("{dev}.{}", s.measurement);
                    duet_engine::schema::validate_series_path(&path)?;
                    if schema.series.contains_key(&path) {
                        return Err(ExecError::new(
                            crate::ErrorKind::AlreadyExists,
                            format!("time series {path} already exists"),
                        ));
                    }
                }
            }
            for s in series {
                engine.create_timeseries(
                    &format!("{dev}.{}", s.measurement),
                    convert::data_type(s.data_type),
                    s.encoding.as_deref(),
                    s.compressor.as_deref(),
                    &new_labels(&s.labels),
                )?;
            }
        }
        S::ShowTimeseries {
            pattern: p,
            filter,
            latest,
        } => {
            let schema = engine.schema();
            let mut series: Vec<_> = schema
                .series_matching(&pattern(p, "root.**"))
                .into_iter()
                .filter(|s| visible(&s.path) && series_passes(s, filter))
                .collect();
            if *latest {
                // The series with the newest point first (IoTDB's SHOW
                // LATEST TIMESERIES); series without points last.
                let mut newest: Vec<(Option<i64>, _)> = Vec::with_capacity(series.len());
                for s in series {
                    let t = match engine.scan(s.clone(), MIN_TIME, MAX_TIME, true).next() {
                        Some(block) => block?.times.first().copied(),
                        None => None,
                    };
                    newest.push((t, s));
                }
                newest.sort_by_key(|x| std::cmp::Reverse(x.0));
                series = newest.into_iter().map(|(_, s)| s).collect();
            }
            let out = page(series, filter)
                .into_iter()
                .map(|s| {
                    let db = schema
                        .database_of(&s.path)
                        .map(|d| d.path.clone())
                        .unwrap_or_default();
                    Row {
                        time: None,
                        values: vec![
                            text(s.path.clone()),
                            labels::alias(&s.labels).map(|a| Value::Text(a.to_string())),
                            text(db),
                            text(s.data_type.name()),
                            text(s.encoding.clone()),
                            text(s.compressor.clone()),
                            labels::to_json(&s.labels, LabelKind::Tag).map(Value::Text),
                            labels::to_json(&s.labels, LabelKind::Attribute).map(Value::Text),
                            None,
                            None,
                            text("BASE"),
                        ],
                    }
                })
                .collect();
            // IoTDB 2.0's eleven columns: no deadband (SDT) is stored, and
            // every series is a base series (Duet has no views).
            let cols = text_columns(&[
                "Timeseries",
                "Alias",
                "Database",
                "DataType",
                "Encoding",
                "Compression",
                "Tags",
                "Attributes",
                "Deadband",
                "DeadbandParameters",
                "ViewType",
            ]);
            return rows(false, cols, out);
        }
        S::CountTimeseries {
            pattern: p,
            filter,
            level,
        } => {
            let schema = engine.schema();
            let all: Vec<_> = schema
                .series_matching(&pattern(p, "root.**"))
                .into_iter()
                .filter(|s| visible(&s.path))
                .collect();
            let series: Vec<_> = all.iter().filter(|s| series_passes(s, filter)).collect();
            let count = |name: &str| ColumnInfo {
                name: name.into(),
                data_type: DataType::Int64,
            };
            let Some(level) = level else {
                return rows(
                    false,
                    vec![count("count(timeseries)")],
                    vec![Row {
                        time: None,
                        values: vec![Some(Value::I64(series.len() as i64))],
                    }],
                );
            };
            // One row per path prefix at the level, of every series the
            // pattern matches (IoTDB lists a group the WHERE leaves empty
            // with 0; series shorter than the level are not counted).
            let mut by: std::collections::BTreeMap<String, i64> = Default::default();
            for (s, counted) in all.iter().map(|s| (s, series_passes(s, filter))) {
                let nodes = duet_engine::schema::path_nodes(&s.path);
                if let Some(prefix) = nodes.get(..=*level as usize) {
                    *by.entry(prefix.join(".")).or_default() += i64::from(counted);
                }
            }
            let out = by
                .into_iter()
                .map(|(k, n)| Row {
                    time: None,
                    values: vec![text(k), Some(Value::I64(n))],
                })
                .collect();
            let mut cols = text_columns(&["Column"]);
            cols.push(count("count(timeseries)"));
            return rows(false, cols, out);
        }
        S::ShowDevices {
            pattern: p,
            filter,
            with_database,
        } => {
            let schema = engine.schema();
            let devices: Vec<String> = schema
                .devices_matching(p.as_ref().map(convert::path).as_deref())
                .into_iter()
                .filter(|d| access.reaches(Privilege::ReadSchema, d))
                .filter(|d| {
                    filter
                        .contains
                        .as_ref()
                        .is_none_or(|c| d.contains(c.as_str()))
                })
                .collect();
            // IoTDB 2.0's columns: no device templates.
            let out = page(devices, filter)
                .into_iter()
                .map(|d| {
                    let db = schema
                        .database_of(&d)
                        .map(|x| x.path.clone())
                        .unwrap_or_default();
                    let ttl = ttl_text(&schema, &d);
                    let mut values = vec![text(d)];
                    if *with_database {
                        values.push(text(db));
                    }
                    values.extend([text("false"), None, text(ttl)]);
                    Row { time: None, values }
                })
                .collect();
            let cols: &[&str] = if *with_database {
                &["Device", "Database", "IsAligned", "Template", "TTL(ms)"]
            } else {
                &["Device", "IsAligned", "Template", "TTL(ms)"]
            };
            return rows(false, text_columns(cols), out);
        }
        S::CountDevices { pattern: p } => {
            let n = engine
                .schema()
                .devices_matching(p.as_ref().map(convert::path).as_deref())
                .into_iter()
                .filter(|d| access.reaches(Privilege::ReadSchema, d))
                .count();
            return count_row("count(devices)", n);
        }
        S::CountDatabases { pattern: p } => {
            let pat = pattern(p, "root.**");
            let nodes = duet_engine::schema::path_nodes(&pat);
            let n = engine
                .schema()
                .databases
                .values()
                .filter(|d| {
                    duet_engine::schema::matches(&nodes, &duet_engine::schema::path_nodes(&d.path))
                        && access.reaches(Privilege::ReadSchema, &d.path)
                })
                .count();
            return count_row("count", n);
        }
        S::CountNodes { pattern: p, level } => {
            let mut seen = std::collections::BTreeSet::new();
            for path in schema_paths(engine, &convert::path(p), &visible) {
                let nodes = duet_engine::schema::path_nodes(&path);
                if let Some(prefix) = nodes.get(..=*level as usize) {
                    seen.insert(prefix.join("."));
                }
            }
            return count_row("count(nodes)", seen.len());
        }
        S::ShowChild { pattern: p, nodes } => {
            // The paths one level below those the pattern names, and what
            // each is (IoTDB's node types).
            let base = pattern(p, "root");
            let below = format!("{base}.*");
            let want = duet_engine::schema::path_nodes(&below);
            let schema = engine.schema();
            let mut children: std::collections::BTreeMap<String, &str> = Default::default();
            for path in schema_paths(engine, &format!("{base}.**"), &visible) {
                let all = duet_engine::schema::path_nodes(&path);
                for depth in want.len()..=all.len() {
                    let prefix = &all[..depth];
                    if depth == want.len() && duet_engine::schema::matches(&want, prefix) {
                        let child = prefix.join(".");
                        let kind = if schema.databases.contains_key(&child) {
                            "DATABASE"
                        } else if schema.series.contains_key(&child) {
                            "TIMESERIES"
                        } else if schema
                            .series
                            .keys()
                            .any(|s| s.rsplit_once('.').is_some_and(|(d, _)| d == child))
                        {
                            "DEVICE"
                        } else {
                            "INTERNAL"
                        };
                        children.entry(child).or_insert(kind);
                    }
                }
            }
            if *nodes {
                let names: std::collections::BTreeSet<String> = children
                    .keys()
                    .filter_map(|c| {
                        duet_engine::schema::path_nodes(c)
                            .last()
                            .map(|n| n.to_string())
                    })
                    .collect();
                let out = names
                    .into_iter()
                    .map(|n| Row {
                        time: None,
                        values: vec![text(n)],
                    })
                    .collect();
                return rows(false, text_columns(&["ChildNodes"]), out);
            }
            let out = children
                .into_iter()
                .map(|(c, kind)| Row {
                    time: None,
                    values: vec![text(c), text(kind)],
                })
                .collect();
            return rows(false, text_columns(&["ChildPaths", "NodeTypes"]), out);
        }
        S::DeleteTimeseries { patterns } => {
            let p: Vec<String> = patterns.iter().map(convert::path).collect();
            engine.delete_timeseries(&p)?;
        }
        S::ShowVariables => {
            // IoTDB's names where Duet has the same setting, then Duet's.
            let vars: Vec<(&str, String)> = vec![
                ("ClusterName", engine.cluster_id().to_string()),
                ("DataReplicationFactor", "1".into()),
                ("SchemaReplicationFactor", "1".into()),
                ("TimePartitionInterval", engine.default_span().to_string()),
                ("DefaultTTL(ms)", "INF".into()),
                ("TimestampPrecision", "ms".into()),
                ("NodeId", engine.node_id().to_string()),
                ("MaxClockSkewMs", engine.max_clock_skew_ms().to_string()),
                ("Version", node.version.clone()),
            ];
            let out = vars
                .into_iter()
                .map(|(k, v)| Row {
                    time: None,
                    values: vec![text(k), text(v)],
                })
                .collect();
            return rows(false, text_columns(&["Variable", "Value"]), out);
        }
        S::ShowVersion => {
            let out = vec![Row {
                time: None,
                values: vec![text(node.version.clone()), text("duet")],
            }];
            return rows(false, text_columns(&["Version", "BuildInfo"]), out);
        }
        S::ShowConflicts => {
            let out = engine
                .conflicts()?
                .into_iter()
                .map(|c| Row {
                    time: None,
                    values: vec![
                        Some(Value::I64(c.at_ms)),
                        text(c.kind),
                        text(c.origin.to_string()),
                        text(c.stream),
                        text(c.path),
                        text(c.reason),
                        text(c.detail),
                        Some(Value::I64(c.id as i64)),
                        c.range.map(|r| Value::I64(r.0)),
                        c.range.map(|r| Value::I64(r.1)),
                    ],
                })
                .collect();
            let mut cols = vec![ColumnInfo {
                name: "Time".into(),
                data_type: DataType::Int64,
            }];
            cols.extend(text_columns(&[
                "Kind", "Origin", "Stream", "Series", "Reason", "Detail",
            ]));
            for name in ["Id", "FirstTime", "LastTime"] {
                cols.push(ColumnInfo {
                    name: name.into(),
                    data_type: DataType::Int64,
                });
            }
            return rows(false, cols, out);
        }
        S::ReplayConflict { id } => {
            let n = engine.replay_conflict(*id)?;
            let out = vec![Row {
                time: None,
                values: vec![Some(Value::I64(*id as i64)), Some(Value::I64(n as i64))],
            }];
            let cols = ["Id", "PointsSent"]
                .map(|name| ColumnInfo {
                    name: name.into(),
                    data_type: DataType::Int64,
                })
                .to_vec();
            return rows(false, cols, out);
        }
        S::Flush => engine.flush()?,
        S::BackupIncremental { dir } => {
            let dir = backup_target(&node.backup_dir, dir.as_deref().unwrap_or(INCREMENTAL))?;
            create_backup_dir(&dir)?;
            let b = engine.backup_incremental(&dir)?;
            return rows(false, backup_columns(), vec![backup_row(&dir, &b)]);
        }
        S::ShowBackups => {
            let mut out = Vec::new();
            for dir in backup_repositories(&node.backup_dir) {
                out.extend(
                    duet_engine::list_backups(&dir)?
                        .iter()
                        .map(|b| backup_row(&dir, b)),
                );
            }
            if let Some((d, started, bytes, files)) = engine.backup_progress() {
                out.push(Row {
                    time: None,
                    values: vec![
                        None,
                        Some(Value::I64(started)),
                        Some(Value::I64(bytes as i64)),
                        Some(Value::I64(files as i64)),
                        text(d.display().to_string()),
                        text("running"),
                    ],
                });
            }
            return rows(false, backup_columns(), out);
        }
        S::Backup { dir } => {
            let target = backup_target(&node.backup_dir, dir)?;
            create_backup_dir(&node.backup_dir)?;
            engine.checkpoint(&target)?
        }
        S::CreateUser { name, password } => engine.create_user(name, password)?,
        S::AlterUserPassword { name, password } => engine.alter_password(name, password)?,
        S::DropUser { name } => engine.drop_user(name)?,
        S::ListUser => {
            let out = engine
                .list_users()?
                .into_iter()
                .map(|u| Row {
                    time: None,
                    values: vec![text(u)],
                })
                .collect();
            return rows(false, text_columns(&["User"]), out);
        }
        S::Grant {
            privileges,
            paths,
            user,
            grant_option,
        } => {
            let p: Vec<String> = paths.iter().map(convert::path).collect();
            engine.grant(user, &p, &auth::privileges_of(privileges)?, *grant_option)?;
        }
        S::Revoke {
            privileges,
            paths,
            user,
        } => {
            let p: Vec<String> = paths.iter().map(convert::path).collect();
            engine.revoke(user, &p, &auth::privileges_of(privileges)?)?;
        }
        S::ListPrivileges { user } => {
            return rows(
                false,
                text_columns(&["ROLE", "PATH", "PRIVILEGES", "GRANT OPTION"]),
                privilege_rows(engine, user)?,
            )
        }
        other => return Err(ExecError::semantic(format!("not handled here: {other}"))),
    }
    Ok(Output::Done)
}

/// A peer's row in `SHOW CLUSTER`.
pub struct PeerRow {
    pub address: String,
    pub port: u16,
    pub node_id: String,
    pub status: String,
    /// The peer's clock minus this node's, as measured by the pipe.
    pub clock_offset_ms: Option<i64>,
    /// How far the peer is behind this node's own writes (pipes that
    /// count for the write mode only).
    pub pending: Option<Pending>,
}

/// What a peer lacks of this node's own writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pending {
    pub bytes: u64,
    pub events: u64,
    /// Age of the oldest change it lacks.
    pub age_ms: u64,
}

/// The local row's write mode and what losing this node would lose.
#[derive(Debug, Clone, Default)]
pub struct LocalReplication {
    /// `async`, `bounded`, `sync` (`, degraded to async`).
    pub mode: String,
    pub rpo_ms: u64,
    /// The peer furthest behind.
    pub pending: Option<Pending>,
}

/// `SHOW CLUSTER` for this node plus the given peers.
pub fn show_cluster(
    engine: &Engine,
    node: &NodeInfo,
    local: Option<&LocalReplication>,
    peers: &[PeerRow],
) -> ResultSet {
    let pending = |p: Option<Pending>| {
        let n = |v: u64| Some(Value::I64(v as i64));
        match p {
            Some(p) => [n(p.bytes), n(p.events), n(p.age_ms)],
            None => [None, None, None],
        }
    };
    let mut first = vec![
        text(engine.node_id().to_string()),
        text("DataNode"),
        text("Running"),
        text(node.rpc_address.clone()),
        Some(Value::I32(node.rpc_port as i32)),
        text(node.version.clone()),
        text("local"),
        None,
        local.map_or_else(|| text("async"), |l| text(l.mode.clone())),
    ];
    first.extend(pending(local.and_then(|l| l.pending)));
    first.push(Some(Value::I64(local.map_or(0, |l| l.rpo_ms) as i64)));
    let mut out = vec![Row {
        time: None,
        values: first,
    }];
    for p in peers {
        let mut values = vec![
            text(p.node_id.clone()),
            text("DataNode"),
            text(p.status.clone()),
            text(p.address.clone()),
            Some(Value::I32(p.port as i32)),
            None,
            text("peer"),
            p.clock_offset_ms.map(Value::I64),
            None,
        ];
        values.extend(pending(p.pending));
        values.push(None);
        out.push(Row { time: None, values });
    }
    let mut cols = text_columns(&["NodeID", "NodeType", "Status", "InternalAddress"]);
    cols.push(ColumnInfo {
        name: "InternalPort".into(),
        data_type: DataType::Int32,
    });
    cols.extend(text_columns(&["Version", "Role"]));
    cols.push(ColumnInfo {
        name: "ClockOffsetMs".into(),
        data_type: DataType::Int64,
    });
    cols.extend(text_columns(&["WriteMode"]));
    for name in ["PendingBytes", "PendingEvents", "PendingAgeMs", "RpoMs"] {
        cols.push(ColumnInfo {
            name: name.into(),
            data_type: DataType::Int64,
        });
    }
    ResultSet::from_rows(false, cols, out)
}

/// Points, digest and (first, last) time of one series' bucket.
type BucketSum = (i64, Fnv, Option<(i64, i64)>);

/// `VERIFY REPLICA ... LOCAL`: per series in `range` (inclusive), its
/// point count, a digest of every (time, value), its type and its first
/// and last time, so two nodes' outputs can be compared line by line. With
/// `buckets`, one row per series and bucket instead (the range cut into
/// that many equal spans; `BucketStart` first), which is how a peer
/// narrows a difference to time ranges. One scan, nothing copied.
pub fn verify_local(
    engine: &Engine,
    pattern: &str,
    range: crate::predicate::TimeRange,
    buckets: Option<u64>,
) -> Result<ResultSet> {
    let series = engine.schema().series_matching(pattern);
    let mut out = Vec::with_capacity(series.len());
    let n = buckets.unwrap_or(1).max(1) as i128;
    let span = ((range.end as i128 - range.start as i128 + 1) + n - 1) / n;
    for s in series {
        let mut sums: Vec<BucketSum> = Vec::new();
        if !range.is_empty() {
            for block in engine.scan(s.clone(), range.start, range.end, false) {
                let block = block?;
                for (i, t) in block.times.iter().enumerate() {
                    let b = ((*t as i128 - range.start as i128) / span) as usize;
                    if sums.len() <= b {
                        sums.resize_with(b + 1, || (0, Fnv::default(), None));
                    }
                    let (points, digest, bounds) = &mut sums[b];
                    digest.write(&t.to_le_bytes());
                    if let Some(v) = block.values.get(i) {
                        digest.write(v.to_string().as_bytes());
                    }
                    *points += 1;
                    *bounds = Some(bounds.map_or((*t, *t), |(lo, _)| (lo, *t)));
                }
            }
        }
        // The series' alias, tags and attributes as they read (removed
        // cells and versions left out: nodes agree on what shows).
        let labels_digest = {
            let mut d = Fnv::default();
            for (kind, key, value) in s
                .labels
                .iter()
                .filter_map(|c| c.value.as_deref().map(|v| (c.kind, &c.key, v)))
            {
                d.write(&[kind as u8]);
                d.write(key.as_bytes());
                d.write(&[0]);
                d.write(value.as_bytes());
                d.write(&[0]);
            }
            format!("{:016x}", d.0)
        };
        let row = |start: Option<i64>,
                   (points, digest, bounds): &(i64, Fnv, Option<(i64, i64)>)| {
            let mut values = vec![
                text(s.path.clone()),
                Some(Value::I64(*points)),
                text(format!("{:016x}", digest.0)),
                text(s.data_type.to_string()),
                bounds.map(|b| Value::I64(b.0)),
                bounds.map(|b| Value::I64(b.1)),
            ];
            match start {
                Some(start) => values.insert(0, Some(Value::I64(start))),
                None => values.push(text(labels_digest.clone())),
            }
            Row { time: None, values }
        };
        if buckets.is_some() {
            for (b, sum) in sums.iter().enumerate() {
                if sum.0 > 0 {
                    let start = (range.start as i128 + b as i128 * span) as i64;
                    out.push(row(Some(start), sum));
                }
            }
        } else {
            let mut all = (0, Fnv::default(), None);
            if let Some(only) = sums.pop() {
                all = only;
            }
            out.push(row(None, &all));
        }
    }
    let mut cols = Vec::new();
    if buckets.is_some() {
        cols.push(ColumnInfo {
            name: "BucketStart".into(),
            data_type: DataType::Int64,
        });
    }
    cols.extend(text_columns(&["Timeseries"]));
    cols.push(ColumnInfo {
        name: "Points".into(),
        data_type: DataType::Int64,
    });
    cols.extend(text_columns(&["Digest", "DataType"]));
    for name in ["FirstTime", "LastTime"] {
        cols.push(ColumnInfo {
            name: name.into(),
            data_type: DataType::Int64,
        });
    }
    if buckets.is_none() {
        cols.extend(text_columns(&["Labels"]));
    }
    Ok(ResultSet::from_rows(false, cols, out))
}

/// FNV-1a: stable across builds and machines, unlike std's hasher.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf29ce484222325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x100000001b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backup_target;
    use std::path::Path;

    #[test]
    fn a_backup_goes_under_the_backup_root_only() {
        let root = Path::new("/srv/duet/backups");
        assert_eq!(
            backup_target(root, "nightly-1").unwrap(),
            root.join("nightly-1")
        );
        assert_eq!(
            backup_target(root, "2026/11/27").unwrap(),
            root.join("2026/11/27")
        );
        assert_eq!(
            backup_target(root, "/srv/duet/backups/x").unwrap(),
            root.join("x")
        );
        for bad in [
            "",
            "/etc/cron.d",
            "../data",
            "a/../../b",
            "/srv/duet/backups",
            "/srv/duet/backups/../x",
            "./x",
        ] {
            assert!(backup_target(root, bad).is_err(), "{bad}");
        }
    }
}

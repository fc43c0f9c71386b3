//! Statement dispatch on the leading keywords, and the schema and admin
//! statements. Queries live in `query.rs`, pipes and users in `pipe.rs`.

use crate::ast::{
    AlignedSeries, AlterSeries, DataType, Path, SchemaFilter, SeriesLabels, Statement, TagFilter,
};
use crate::error::{bad, commit, fail, failure, Res};
use crate::lex::{
    end_of_statement, kw, paren_list, path, positive_span, string_lit, sym, unsigned, word, ws,
};
use crate::{pipe, query};

pub(crate) const STATEMENT: &str = "a statement";

/// The words a statement can start with, as [`statement`] dispatches on
/// them (the shell uses them to tell a new statement from a continued one).
pub const STATEMENT_KEYWORDS: &[&str] = &[
    "SELECT", "INSERT", "CREATE", "SHOW", "DROP", "DELETE", "SET", "COUNT", "START", "STOP",
    "ALTER", "LIST", "GRANT", "REVOKE", "FLUSH", "VERIFY", "BACKUP", "REPLAY", "UNSET",
];

/// One statement, without its terminator.
pub(crate) fn statement(i: &str) -> Res<'_, Statement> {
    let j = ws(i);
    let Ok((rest, first)) = word(j) else {
        return fail(j, STATEMENT);
    };
    let upper = first.to_ascii_uppercase();
    let r = match upper.as_str() {
        "SELECT" => query::select(rest),
        "INSERT" => query::insert(rest),
        "CREATE" => create(rest),
        "SHOW" => show(rest),
        "DROP" => drop(rest),
        "DELETE" => delete(rest),
        "SET" => set(rest),
        "COUNT" => count(rest),
        "START" | "STOP" => pipe::start_stop(&upper, rest),
        "ALTER" => pipe::alter(rest),
        "LIST" => pipe::list(rest),
        "GRANT" => pipe::grant(rest),
        "REVOKE" => pipe::revoke(rest),
        "FLUSH" => flush(rest),
        "VERIFY" => verify(rest),
        "BACKUP" => backup(rest),
        "REPLAY" => replay(rest),
        "UNSET" => unset(rest),
        _ => return fail(j, STATEMENT),
    };
    commit(r)
}

/// Keyword-led choice: the next word must be one of `choices`.
fn next_word<'a>(i: &'a str, choices: &'static str) -> Res<'a, String> {
    let j = ws(i);
    match word(j) {
        Ok((rest, w)) => Ok((rest, w.to_ascii_uppercase())),
        Err(_) => failure(j, choices),
    }
}

fn opt_pattern(i: &str) -> Res<'_, Option<Path>> {
    let j = ws(i);
    if !j.is_empty() && !j.starts_with(';') {
        let (rest, p) = path(j)?;
        Ok((rest, Some(p)))
    } else {
        Ok((i, None))
    }
}

pub(crate) fn path_list(i: &str) -> Res<'_, Vec<Path>> {
    let (mut rest, first) = path(i)?;
    let mut out = vec![first];
    while let Ok((r, _)) = sym(",")(rest) {
        let (r, p) = commit(path(r))?;
        out.push(p);
        rest = r;
    }
    Ok((rest, out))
}

fn create(i: &str) -> Res<'_, Statement> {
    const WHAT: &str = "DATABASE, TIMESERIES, PIPE or USER";
    let j = ws(i);
    let (rest, w) = next_word(j, WHAT)?;
    match w.as_str() {
        "DATABASE" => create_database(rest),
        "STORAGE" => {
            let (rest, _) = kw("GROUP")(rest)?;
            create_database(rest)
        }
        "TIMESERIES" => create_timeseries(rest),
        "ALIGNED" => {
            let (rest, _) = commit(kw("TIMESERIES")(rest))?;
            create_aligned(rest)
        }
        "PIPE" => pipe::create_pipe(rest),
        "USER" => pipe::create_user(rest),
        _ => failure(j, WHAT),
    }
}

fn create_database(i: &str) -> Res<'_, Statement> {
    let (rest, path) = path(i)?;
    let (rest, bucket_span_ms) = match kw("WITH")(rest) {
        Ok((r, _)) => {
            let (r, _) = kw("BUCKET_SPAN")(r)?;
            let (r, _) = sym("=")(r)?;
            let (r, span) = positive_span(r)?;
            (r, Some(span))
        }
        Err(_) => {
            end_of_statement(rest, &["WITH BUCKET_SPAN"])?;
            (rest, None)
        }
    };
    Ok((
        rest,
        Statement::CreateDatabase {
            path,
            bucket_span_ms,
        },
    ))
}

/// `SET STORAGE GROUP TO root.x` (IoTDB 0.x spelling of CREATE DATABASE).
fn set(i: &str) -> Res<'_, Statement> {
    if let Ok((rest, _)) = kw("REPLICATION")(i) {
        return set_replication(rest);
    }
    if let Ok((rest, _)) = kw("TTL")(i) {
        let (rest, _) = commit(kw("TO")(rest))?;
        let (rest, path) = commit(path(rest))?;
        let k = ws(rest);
        // INF: never expires (a rule all the same: it wins over a less
        // specific one).
        if let Ok((rest, _)) = kw("INF")(k) {
            return Ok((
                rest,
                Statement::SetTtl {
                    path,
                    ms: i64::MAX as u64,
                },
            ));
        }
        let (rest, ms) = unsigned(k).or_else(|_| failure(k, "the TTL in milliseconds or INF"))?;
        if ms == 0 || ms > i64::MAX as u64 {
            return bad(k, "a TTL out of range", "a TTL of 1 ms or more");
        }
        return Ok((rest, Statement::SetTtl { path, ms }));
    }
    if let Ok((rest, _)) = kw("QUERY_TIMEOUT")(i) {
        let (rest, _) = sym("=")(rest)?;
        let j = ws(rest);
        if let Ok((r, n)) = unsigned(j) {
            return Ok((r, Statement::SetQueryTimeout { ms: Some(n) }));
        }
        return match word(j) {
            Ok((r, w)) if w.eq_ignore_ascii_case("DEFAULT") => {
                Ok((r, Statement::SetQueryTimeout { ms: None }))
            }
            _ => failure(j, "milliseconds (0: no limit) or DEFAULT"),
        };
    }
    if let Ok((rest, _)) = kw("READ_MODE")(i) {
        let (rest, _) = sym("=")(rest)?;
        let j = ws(rest);
        return match word(j) {
            Ok((r, w)) if w.eq_ignore_ascii_case("DUAL") => {
                Ok((r, Statement::SetReadMode { dual: true }))
            }
            Ok((r, w)) if w.eq_ignore_ascii_case("SINGLE") => {
                Ok((r, Statement::SetReadMode { dual: false }))
            }
            _ => failure(j, "DUAL or SINGLE"),
        };
    }
    let (rest, _) = kw("STORAGE")(i)?;
    let (rest, _) = kw("GROUP")(rest)?;
    let (rest, _) = kw("TO")(rest)?;
    let (rest, path) = path(rest)?;
    Ok((
        rest,
        Statement::CreateDatabase {
            path,
            bucket_span_ms: None,
        },
    ))
}

/// After `UNSET`: `TTL FROM|TO path`.
fn unset(i: &str) -> Res<'_, Statement> {
    let (rest, _) = commit(kw("TTL")(i))?;
    let k = ws(rest);
    let rest = match kw("FROM")(k).or_else(|_| kw("TO")(k)) {
        Ok((r, _)) => r,
        Err(_) => return failure(k, "FROM"),
    };
    let (rest, path) = commit(path(rest))?;
    Ok((rest, Statement::UnsetTtl { path }))
}

/// `SET REPLICATION key = value | DEFAULT` (value: a whole number or a
/// word such as UNBOUNDED or NEVER; the pipe manager checks the pair).
fn set_replication(i: &str) -> Res<'_, Statement> {
    const VALUE: &str = "a whole number, a word (UNBOUNDED, NEVER) or DEFAULT";
    let (rest, key) = word(i)?;
    let (rest, _) = sym("=")(rest)?;
    let j = ws(rest);
    let (rest, value) = match unsigned(j) {
        Ok((r, n)) => (r, Some(n.to_string())),
        Err(_) => match word(j) {
            Ok((r, w)) if w.eq_ignore_ascii_case("DEFAULT") => (r, None),
            Ok((r, w)) => (r, Some(w.to_ascii_uppercase())),
            Err(_) => return failure(j, VALUE),
        },
    };
    Ok((
        rest,
        Statement::SetReplication {
            key: key.to_ascii_uppercase(),
            value,
        },
    ))
}

const DATA_TYPES: &str =
    "a data type (BOOLEAN, INT32, INT64, FLOAT, DOUBLE, TEXT, TIMESTAMP, DATE, BLOB, STRING)";
const ENCODINGS: [&str; 9] = [
    "PLAIN",
    "RLE",
    "TS_2DIFF",
    "GORILLA",
    "DICTIONARY",
    "ZIGZAG",
    "CHIMP",
    "SPRINTZ",
    "RLBE",
];
const COMPRESSORS: [&str; 6] = ["UNCOMPRESSED", "SNAPPY", "LZ4", "GZIP", "ZSTD", "LZMA2"];

fn data_type(i: &str) -> Res<'_, DataType> {
    let j = ws(i);
    let Ok((rest, w)) = word(j) else {
        return failure(j, DATA_TYPES);
    };
    let t = match w.to_ascii_uppercase().as_str() {
        "BOOLEAN" => DataType::Boolean,
        "INT32" => DataType::Int32,
        "INT64" => DataType::Int64,
        "FLOAT" => DataType::Float,
        "DOUBLE" => DataType::Double,
        "TEXT" => DataType::Text,
        "TIMESTAMP" => DataType::Timestamp,
        "DATE" => DataType::Date,
        "BLOB" => DataType::Blob,
        "STRING" => DataType::String,
        _ => return bad(j, "unknown data type", DATA_TYPES),
    };
    Ok((rest, t))
}

/// An attribute value: a name or a quoted string, upper-cased, from `allowed`.
fn named_value<'a>(i: &'a str, what: &str, allowed: &[&str]) -> Res<'a, String> {
    let j = ws(i);
    let listed = format!("{what} ({})", allowed.join(", "));
    let (rest, v) = match word(j) {
        Ok((rest, w)) => (rest, w.to_string()),
        Err(_) => match string_lit(j) {
            Ok(ok) => ok,
            Err(_) => return failure(j, listed),
        },
    };
    let upper = v.to_ascii_uppercase();
    if !allowed.contains(&upper.as_str()) {
        return bad(j, format!("unknown {what}"), listed);
    }
    Ok((rest, upper))
}

/// IoTDB's grammar: `p [WITH] [DATATYPE=]T ([,] key=value)*`, which covers
/// both `WITH DATATYPE=FLOAT, ENCODING=RLE` and the short `p INT32 encoding=RLE`.
fn create_timeseries(i: &str) -> Res<'_, Statement> {
    let (rest, path) = path(i)?;
    let (rest, alias) = alias_clause(rest)?;
    let rest = kw("WITH")(rest).map_or(rest, |(r, _)| r);
    let (rest, (data_type, encoding, compressor)) = series_attributes(rest)?;
    let (rest, mut labels) = tags_attributes(rest)?;
    labels.alias = alias;
    end_of_statement(
        rest,
        &["`,`", "ENCODING", "COMPRESSOR", "TAGS", "ATTRIBUTES"],
    )?;
    Ok((
        rest,
        Statement::CreateTimeseries {
            path,
            data_type,
            encoding,
            compressor,
            labels,
        },
    ))
}

/// A tag or attribute key or value, or an alias: a name, a quoted text,
/// a number or a backquoted name (IoTDB's identifier or constant).
pub(crate) fn label_word(i: &str) -> Res<'_, String> {
    let j = ws(i);
    if j.starts_with('\'') || j.starts_with('"') {
        return string_lit(j);
    }
    if j.starts_with('`') {
        return crate::lex::name("a name")(j);
    }
    let end = j
        .char_indices()
        .find(|&(_, c)| !(crate::lex::is_ident_char(c) || c == '.' || c == '-' || c == '+'))
        .map_or(j.len(), |(n, _)| n);
    if end == 0 {
        return failure(j, "a name, a number or a quoted text");
    }
    Ok((&j[end..], j[..end].to_string()))
}

/// `(alias)` right after a series path.
fn alias_clause(i: &str) -> Res<'_, Option<String>> {
    match sym("(")(i) {
        Ok((r, _)) => {
            let (r, a) = commit(label_word(r))?;
            let (r, _) = commit(sym(")")(r))?;
            Ok((r, Some(a)))
        }
        Err(_) => Ok((i, None)),
    }
}

/// `item, item, ...` without parentheses (at least one), as ALTER's SET,
/// DROP and ADD take them.
fn comma_list<'a, T>(i: &'a str, item: impl Fn(&'a str) -> Res<'a, T>) -> Res<'a, Vec<T>> {
    let mut out = Vec::new();
    let mut rest = i;
    loop {
        let (r, x) = commit(item(rest))?;
        out.push(x);
        match sym(",")(r) {
            Ok((r, _)) => rest = r,
            Err(_) => return Ok((r, out)),
        }
    }
}

/// `k=v, ...`.
fn label_pairs(i: &str) -> Res<'_, Vec<(String, String)>> {
    comma_list(i, label_pair)
}

fn label_pair(i: &str) -> Res<'_, (String, String)> {
    let (r, k) = label_word(i)?;
    let (r, _) = commit(sym("=")(r))?;
    let (r, v) = commit(label_word(r))?;
    Ok((r, (k, v)))
}

/// `[TAGS(k=v, ...)] [ATTRIBUTES(k=v, ...)]`, either order, each once.
fn tags_attributes(i: &str) -> Res<'_, SeriesLabels> {
    let mut labels = SeriesLabels::default();
    let mut rest = i;
    let (mut tags, mut attributes) = (false, false);
    loop {
        let k = ws(rest);
        let (r, slot, seen) = if let Ok((r, _)) = kw("TAGS")(k) {
            (r, &mut labels.tags, &mut tags)
        } else if let Ok((r, _)) = kw("ATTRIBUTES")(k) {
            (r, &mut labels.attributes, &mut attributes)
        } else {
            return Ok((rest, labels));
        };
        if *seen {
            return bad(k, "given twice", "TAGS and ATTRIBUTES once each");
        }
        *seen = true;
        let (r, list) = paren_list(r, "TAGS (", false, label_pair)?;
        *slot = list;
        rest = r;
    }
}

/// After `ALTER TIMESERIES`: the path and what changes.
pub(crate) fn alter_timeseries(i: &str) -> Res<'_, Statement> {
    const WHAT: &str = "RENAME, SET, DROP, ADD TAGS, ADD ATTRIBUTES or UPSERT";
    let (rest, path) = commit(path(i))?;
    let j = ws(rest);
    let (rest, w) = next_word(j, WHAT)?;
    let (rest, change) = match w.as_str() {
        "RENAME" => {
            let (r, from) = commit(label_word(rest))?;
            let (r, _) = commit(kw("TO")(r))?;
            let (r, to) = commit(label_word(r))?;
            (r, AlterSeries::Rename { from, to })
        }
        "SET" => {
            let (r, pairs) = label_pairs(rest)?;
            (r, AlterSeries::Set(pairs))
        }
        "DROP" => {
            let (r, keys) = comma_list(rest, label_word)?;
            (r, AlterSeries::Drop(keys))
        }
        "ADD" => {
            let k = ws(rest);
            if let Ok((r, _)) = kw("TAGS")(k) {
                let (r, pairs) = label_pairs(r)?;
                (r, AlterSeries::AddTags(pairs))
            } else if let Ok((r, _)) = kw("ATTRIBUTES")(k) {
                let (r, pairs) = label_pairs(r)?;
                (r, AlterSeries::AddAttributes(pairs))
            } else {
                return failure(k, "TAGS or ATTRIBUTES");
            }
        }
        "UPSERT" => {
            let (mut r, mut alias) = (rest, None);
            if let Ok((r2, _)) = kw("ALIAS")(r) {
                let (r2, _) = commit(sym("=")(r2))?;
                let (r2, a) = commit(label_word(r2))?;
                alias = Some(a);
                r = r2;
            }
            let (r, mut labels) = tags_attributes(r)?;
            labels.alias = alias;
            if labels.is_empty() {
                return failure(ws(r), "ALIAS = name, TAGS(...) or ATTRIBUTES(...)");
            }
            (r, AlterSeries::Upsert(labels))
        }
        _ => return failure(j, WHAT),
    };
    Ok((rest, Statement::AlterTimeseries { path, change }))
}

/// `[DATATYPE=]T ([,] ENCODING=E | COMPRESSOR=C)*`, up to what is not one
/// of them.
type SeriesAttributes = (DataType, Option<String>, Option<String>);

fn series_attributes(i: &str) -> Res<'_, SeriesAttributes> {
    let rest = match kw("DATATYPE")(i) {
        Ok((r, _)) => sym("=")(r)?.0,
        Err(_) => i,
    };
    let (mut rest, data_type) = data_type(rest)?;
    let (mut encoding, mut compressor) = (None, None);
    loop {
        let after_comma = sym(",")(rest).map_or(rest, |(r, _)| r);
        let k = ws(after_comma);
        let Ok((r, key)) = word(k) else {
            break;
        };
        let slot = match key.to_ascii_uppercase().as_str() {
            "ENCODING" => &mut encoding,
            "COMPRESSOR" | "COMPRESSION" => &mut compressor,
            _ => break,
        };
        if slot.is_some() {
            return bad(k, "attribute given twice", "each attribute at most once");
        }
        let (r, _) = sym("=")(r)?;
        let (r, v) = if key.eq_ignore_ascii_case("ENCODING") {
            named_value(r, "encoding", &ENCODINGS)?
        } else {
            named_value(r, "compressor", &COMPRESSORS)?
        };
        *slot = Some(v);
        rest = r;
    }
    Ok((rest, (data_type, encoding, compressor)))
}

/// After `CREATE ALIGNED TIMESERIES`: `device(m T [attributes], ...)`.
fn create_aligned(i: &str) -> Res<'_, Statement> {
    let (rest, device) = path(i)?;
    let (mut rest, _) = commit(sym("(")(rest))?;
    let mut series: Vec<AlignedSeries> = Vec::new();
    loop {
        let k = ws(rest);
        let (r, measurement) = commit(crate::lex::column(true)(k))?;
        if series.iter().any(|s| s.measurement == measurement) {
            return bad(
                k,
                format!("measurement {measurement} is listed twice"),
                "another name",
            );
        }
        let (r, alias) = alias_clause(r)?;
        let (r, (data_type, encoding, compressor)) = commit(series_attributes(r))?;
        let (r, mut labels) = commit(tags_attributes(r))?;
        labels.alias = alias;
        series.push(AlignedSeries {
            measurement,
            data_type,
            encoding,
            compressor,
            labels,
        });
        let k = ws(r);
        if let Some(r) = k.strip_prefix(',') {
            rest = r;
        } else if let Some(r) = k.strip_prefix(')') {
            rest = r;
            break;
        } else {
            return failure(k, "`,` or `)` to close the measurement list");
        }
    }
    Ok((rest, Statement::CreateAlignedTimeseries { device, series }))
}

/// After `FLUSH`: `[db, ...] [TRUE|FALSE] [ON LOCAL|CLUSTER]` (IoTDB's);
/// Duet flushes the node's whole store either way.
fn flush(i: &str) -> Res<'_, Statement> {
    let (mut rest, _) = root_pattern(i)?;
    while let Ok((r, _)) = sym(",")(rest) {
        let (r, _) = commit(path(r))?;
        rest = r;
    }
    for w in ["TRUE", "FALSE"] {
        if let Ok((r, _)) = kw(w)(rest) {
            rest = r;
            break;
        }
    }
    if let Ok((r, _)) = kw("ON")(rest) {
        let k = ws(r);
        let (r, w) = next_word(k, "LOCAL or CLUSTER")?;
        if w != "LOCAL" && w != "CLUSTER" {
            return failure(k, "LOCAL or CLUSTER");
        }
        rest = r;
    }
    Ok((rest, Statement::Flush))
}

fn show(i: &str) -> Res<'_, Statement> {
    const WHAT: &str =
        "DATABASES, TIMESERIES, DEVICES, PIPES, PIPE, CLUSTER, CONFLICTS, BACKUPS, VERSION, ALL TTL or TTL ON";
    let j = ws(i);
    let (rest, w) = next_word(j, WHAT)?;
    match w.as_str() {
        "DATABASES" => show_databases(rest),
        "STORAGE" => {
            let (rest, _) = kw("GROUP")(rest)?;
            show_databases(rest)
        }
        "TIMESERIES" => show_timeseries(rest, false),
        "LATEST" => {
            let (rest, _) = commit(kw("TIMESERIES")(rest))?;
            show_timeseries(rest, true)
        }
        "DEVICES" => {
            let (rest, pattern) = root_pattern(rest)?;
            let (rest, with_database) = match kw("WITH")(rest) {
                Ok((r, _)) => {
                    let (r, _) = commit(kw("DATABASE")(r))?;
                    (r, true)
                }
                Err(_) => (rest, false),
            };
            let (rest, filter) = schema_filter(rest, "DEVICE")?;
            Ok((
                rest,
                Statement::ShowDevices {
                    pattern,
                    filter,
                    with_database,
                },
            ))
        }
        "CHILD" => {
            let k = ws(rest);
            let (rest, nodes) = match next_word(k, "PATHS or NODES")? {
                (r, w) if w == "PATHS" => (r, false),
                (r, w) if w == "NODES" => (r, true),
                _ => return failure(k, "PATHS or NODES"),
            };
            let (rest, pattern) = root_pattern(rest)?;
            Ok((rest, Statement::ShowChild { pattern, nodes }))
        }
        "PIPES" => pipe::show_pipes(rest),
        "PIPE" => pipe::show_pipe(rest),
        "CLUSTER" => Ok((rest, Statement::ShowCluster)),
        "BACKUPS" => Ok((rest, Statement::ShowBackups)),
        "VERSION" => Ok((rest, Statement::ShowVersion)),
        "VARIABLES" => Ok((rest, Statement::ShowVariables)),
        "ALL" => {
            let (rest, _) = commit(kw("TTL")(rest))?;
            Ok((rest, Statement::ShowTtl { paths: None }))
        }
        "TTL" => {
            let (rest, _) = commit(kw("ON")(rest))?;
            let (rest, paths) = path_list(rest)?;
            Ok((rest, Statement::ShowTtl { paths: Some(paths) }))
        }
        "CONFLICTS" => Ok((rest, Statement::ShowConflicts)),
        "VERSIONS" => {
            let (rest, pattern) = path(rest)?;
            let (rest, range) = query::opt_where(rest)?;
            let (rest, packed) = match kw("PACKED")(rest) {
                Ok((r, _)) => (r, true),
                Err(_) => (rest, false),
            };
            Ok((
                rest,
                Statement::ShowVersions {
                    pattern,
                    range,
                    packed,
                },
            ))
        }
        _ => failure(j, WHAT),
    }
}

fn count(i: &str) -> Res<'_, Statement> {
    const WHAT: &str = "TIMESERIES, DEVICES, DATABASES or NODES";
    let j = ws(i);
    let (rest, w) = next_word(j, WHAT)?;
    match w.as_str() {
        "TIMESERIES" => {
            let (rest, pattern) = root_pattern(rest)?;
            let (rest, filter) = schema_filter(rest, "TIMESERIES")?;
            let (rest, level) = match kw("GROUP")(rest) {
                Ok((r, _)) => {
                    let (r, _) = commit(kw("BY")(r))?;
                    let (r, l) = commit(level_eq(r))?;
                    (r, Some(l))
                }
                Err(_) => (rest, None),
            };
            Ok((
                rest,
                Statement::CountTimeseries {
                    pattern,
                    filter,
                    level,
                },
            ))
        }
        "DEVICES" => {
            let (rest, pattern) = root_pattern(rest)?;
            Ok((rest, Statement::CountDevices { pattern }))
        }
        "DATABASES" => {
            let (rest, pattern) = root_pattern(rest)?;
            Ok((rest, Statement::CountDatabases { pattern }))
        }
        "NODES" => {
            let (rest, pattern) = path(rest)?;
            let (rest, level) = commit(level_eq(rest))?;
            Ok((rest, Statement::CountNodes { pattern, level }))
        }
        _ => failure(j, WHAT),
    }
}

/// `LEVEL = n` (0 is `root`).
fn level_eq(i: &str) -> Res<'_, u32> {
    let (r, _) = kw("LEVEL")(i)?;
    let (r, _) = commit(sym("=")(r))?;
    let k = ws(r);
    let (r, n) = commit(unsigned(k))?;
    match u32::try_from(n) {
        Ok(n) if n < 64 => Ok((r, n)),
        _ => bad(k, "level out of range", "a level from 0 to 63"),
    }
}

/// A path if one comes next (paths start with `root`).
fn root_pattern(i: &str) -> Res<'_, Option<Path>> {
    let j = ws(i);
    let at_root = j.len() >= 4
        && j[..4].eq_ignore_ascii_case("root")
        && !j[4..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    if at_root {
        let (rest, p) = path(j)?;
        Ok((rest, Some(p)))
    } else {
        Ok((i, None))
    }
}

/// After `SHOW DATABASES`: `[pattern] [DETAILS]`.
fn show_databases(i: &str) -> Res<'_, Statement> {
    let (rest, pattern) = root_pattern(i)?;
    let (rest, details) = match kw("DETAILS")(rest) {
        Ok((r, _)) => (r, true),
        Err(_) => (rest, false),
    };
    Ok((rest, Statement::ShowDatabases { pattern, details }))
}

fn show_timeseries(i: &str, latest: bool) -> Res<'_, Statement> {
    let (rest, pattern) = root_pattern(i)?;
    let (rest, filter) = schema_filter(rest, "TIMESERIES")?;
    Ok((
        rest,
        Statement::ShowTimeseries {
            pattern,
            filter,
            latest,
        },
    ))
}

/// `[WHERE <what> CONTAINS 's' | WHERE DATATYPE = T] [LIMIT n] [OFFSET m]`.
fn schema_filter<'a>(i: &'a str, what: &'static str) -> Res<'a, SchemaFilter> {
    let mut f = SchemaFilter::default();
    let mut rest = i;
    if let Ok((r, _)) = kw("WHERE")(rest) {
        let k = ws(r);
        if let Ok((r, _)) = kw(what)(k) {
            let (r, _) = commit(kw("CONTAINS")(r))?;
            let k = ws(r);
            let (r, s) = string_lit(k).or_else(|_| failure(k, "a quoted text"))?;
            f.contains = Some(s);
            rest = r;
        } else if let Ok((r, _)) = kw("DATATYPE")(k) {
            let (r, _) = commit(sym("=")(r))?;
            let (r, t) = commit(data_type(r))?;
            f.data_type = Some(t);
            rest = r;
        } else if let (true, Ok((r, _))) = (what == "TIMESERIES", kw("TAGS")(k)) {
            let (r, _) = commit(sym("(")(r))?;
            let (r, key) = commit(label_word(r))?;
            let (r, _) = commit(sym(")")(r))?;
            let (r, contains) = match kw("CONTAINS")(r) {
                Ok((r, _)) => (r, true),
                Err(_) => (commit(sym("=")(r))?.0, false),
            };
            let (r, value) = commit(label_word(r))?;
            f.tag = Some(TagFilter {
                key,
                value,
                contains,
            });
            rest = r;
        } else {
            return bad(
                k,
                "a condition IoTDB's SHOW takes that Duet does not",
                if what == "DEVICE" {
                    "DEVICE CONTAINS 'text'"
                } else {
                    "TIMESERIES CONTAINS 'text', DATATYPE = type or TAGS(key) = 'value'"
                },
            );
        }
    }
    loop {
        let k = ws(rest);
        if let Ok((r, _)) = kw("LIMIT")(k) {
            let (r, n) = commit(unsigned(r))?;
            f.limit = Some(n);
            rest = r;
        } else if let Ok((r, _)) = kw("OFFSET")(k) {
            let (r, n) = commit(unsigned(r))?;
            f.offset = Some(n);
            rest = r;
        } else {
            return Ok((rest, f));
        }
    }
}

fn drop(i: &str) -> Res<'_, Statement> {
    const WHAT: &str = "DATABASE, TIMESERIES, PIPE or USER";
    let j = ws(i);
    let (rest, w) = next_word(j, WHAT)?;
    match w.as_str() {
        "DATABASE" => {
            let (rest, path) = path(rest)?;
            Ok((rest, Statement::DropDatabase { path }))
        }
        "TIMESERIES" => {
            let (rest, patterns) = path_list(rest)?;
            Ok((rest, Statement::DeleteTimeseries { patterns }))
        }
        "PIPE" => pipe::drop_pipe(rest),
        "USER" => pipe::drop_user(rest),
        _ => failure(j, WHAT),
    }
}

fn delete(i: &str) -> Res<'_, Statement> {
    const WHAT: &str = "FROM, TIMESERIES or DATABASE";
    let j = ws(i);
    let (rest, w) = next_word(j, WHAT)?;
    match w.as_str() {
        "FROM" => query::delete_from(rest),
        "TIMESERIES" => {
            let (rest, patterns) = path_list(rest)?;
            Ok((rest, Statement::DeleteTimeseries { patterns }))
        }
        "DATABASE" => {
            let (rest, path) = path(rest)?;
            Ok((rest, Statement::DropDatabase { path }))
        }
        "STORAGE" => {
            let (rest, _) = kw("GROUP")(rest)?;
            let (rest, path) = path(rest)?;
            Ok((rest, Statement::DropDatabase { path }))
        }
        _ => failure(j, WHAT),
    }
}

pub(crate) fn paths(i: &str) -> Res<'_, Vec<Path>> {
    path_list(i)
}

/// `VERIFY REPLICA [pattern] [WHERE time ...] [LOCAL [BUCKETS n]]`.
fn verify(i: &str) -> Res<'_, Statement> {
    let (rest, _) = kw("REPLICA")(i)?;
    let j = ws(rest);
    let next = word(j)
        .map(|(_, w)| w.to_ascii_uppercase())
        .unwrap_or_default();
    let (rest, pattern) = if next == "LOCAL" || next == "WHERE" {
        (rest, None)
    } else {
        opt_pattern(rest)?
    };
    let (rest, range) = query::opt_where(rest)?;
    let (rest, local) = match kw("LOCAL")(rest) {
        Ok((r, _)) => (r, true),
        Err(_) => (rest, false),
    };
    let (rest, buckets) = match kw("BUCKETS")(rest) {
        Ok((r, _)) if local => {
            let (r, n) = commit(unsigned(r))?;
            if n == 0 || n > 100_000 {
                return failure(ws(r), "a number of buckets from 1 to 100000");
            }
            (r, Some(n))
        }
        _ => (rest, None),
    };
    Ok((
        rest,
        Statement::VerifyReplica {
            pattern,
            range,
            local,
            buckets,
        },
    ))
}

fn replay(i: &str) -> Res<'_, Statement> {
    let (rest, _) = kw("CONFLICT")(i)?;
    let (rest, id) = unsigned(rest)?;
    Ok((rest, Statement::ReplayConflict { id }))
}

/// `BACKUP TO 'dir'` (a checkpoint), `BACKUP` alone (incremental, into
/// the default repository) or `BACKUP INCREMENTAL [TO 'dir']`.
fn backup(i: &str) -> Res<'_, Statement> {
    let ends = |j: &str| {
        let j = ws(j);
        j.is_empty() || j.starts_with(';')
    };
    if ends(i) {
        return Ok((i, Statement::BackupIncremental { dir: None }));
    }
    if let Ok((rest, _)) = kw("INCREMENTAL")(i) {
        if ends(rest) {
            return Ok((rest, Statement::BackupIncremental { dir: None }));
        }
        let (rest, _) = kw("TO")(rest)?;
        let (rest, dir) = string_lit(rest)?;
        return Ok((rest, Statement::BackupIncremental { dir: Some(dir) }));
    }
    let (rest, _) = kw("TO")(i)?;
    let (rest, dir) = string_lit(rest)?;
    Ok((rest, Statement::Backup { dir }))
}

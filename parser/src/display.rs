//! `Display` for the AST: canonical SQL that parses back to the same value.
//! Upper-case keywords, `time` for the time column, durations in the largest
//! exact unit, strings in single quotes, every AND/OR/NOT in parentheses.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::expr::agg_name;
use crate::time::format_duration;

/// Words that would be read as syntax where a name is expected; names equal
/// to one (in any case) are printed in backquotes.
const RESERVED: [&str; 44] = [
    "SELECT",
    "LAST",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "ASC",
    "DESC",
    "LIMIT",
    "OFFSET",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "TIME",
    "TIMESTAMP",
    "NOW",
    "TRUE",
    "FALSE",
    "NULL",
    "ROOT",
    "INSERT",
    "INTO",
    "VALUES",
    "CREATE",
    "DROP",
    "DELETE",
    "SHOW",
    "WITH",
    "IF",
    "EXISTS",
    "SET",
    "PASSWORD",
    "COUNT",
    "SUM",
    "AVG",
    "MIN_VALUE",
    "MAX_VALUE",
    "FIRST_VALUE",
    "LAST_VALUE",
    "SOURCE",
    "PROCESSOR",
    "SINK",
];

fn is_plain_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

fn backquote(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('`')?;
    f.write_str(&s.replace('`', "``"))?;
    f.write_char('`')
}

/// A pipe, user or measurement name.
fn name(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    if is_plain_name(s) {
        f.write_str(s)
    } else {
        backquote(f, s)
    }
}

/// A name as [`name`] writes it, for `format!`.
struct Named<'a>(&'a str);

impl Display for Named<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        name(f, self.0)
    }
}

/// A suffix path such as `d1.temp`, one name per `.`-separated node.
fn column(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    for (k, node) in s.split('.').enumerate() {
        if k > 0 {
            f.write_char('.')?;
        }
        name(f, node)?;
    }
    Ok(())
}

/// A select-list suffix path: like [`column`], but `*` and `**` nodes are
/// wildcards there and print bare.
fn select_column(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    for (k, node) in s.split('.').enumerate() {
        if k > 0 {
            f.write_char('.')?;
        }
        if node == "*" || node == "**" {
            f.write_str(node)?;
        } else {
            name(f, node)?;
        }
    }
    Ok(())
}

fn quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    f.write_str(&s.replace('\'', "''"))?;
    f.write_char('\'')
}

/// `k='v', ...` (keys and values quoted: any text reads back).
fn label_pairs(f: &mut Formatter<'_>, pairs: &[(String, String)]) -> fmt::Result {
    list(f, pairs, |f, (k, v)| {
        quoted(f, k)?;
        f.write_char('=')?;
        quoted(f, v)
    })
}

/// `(alias)` after a series path or measurement, when there is one.
fn alias_suffix(f: &mut Formatter<'_>, alias: &Option<String>) -> fmt::Result {
    if let Some(a) = alias {
        f.write_char('(')?;
        quoted(f, a)?;
        f.write_char(')')?;
    }
    Ok(())
}

/// ` TAGS(...) ATTRIBUTES(...)` when there are some.
fn tags_attributes(f: &mut Formatter<'_>, l: &SeriesLabels) -> fmt::Result {
    if !l.tags.is_empty() {
        f.write_str(" TAGS(")?;
        label_pairs(f, &l.tags)?;
        f.write_char(')')?;
    }
    if !l.attributes.is_empty() {
        f.write_str(" ATTRIBUTES(")?;
        label_pairs(f, &l.attributes)?;
        f.write_char(')')?;
    }
    Ok(())
}

fn list<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    mut each: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            f.write_str(", ")?;
        }
        each(f, item)?;
    }
    Ok(())
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (k, node) in self.0.iter().enumerate() {
            if k > 0 {
                f.write_char('.')?;
            }
            let plain =
                !node.is_empty() && node.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if plain || node == "*" || node == "**" {
                f.write_str(node)?;
            } else {
                backquote(f, node)?;
            }
        }
        Ok(())
    }
}

impl Display for DataType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataType::Boolean => "BOOLEAN",
            DataType::Int32 => "INT32",
            DataType::Int64 => "INT64",
            DataType::Float => "FLOAT",
            DataType::Double => "DOUBLE",
            DataType::Text => "TEXT",
            DataType::Timestamp => "TIMESTAMP",
            DataType::Date => "DATE",
            DataType::Blob => "BLOB",
            DataType::String => "STRING",
        })
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(n) => write!(f, "{n}"),
            // `{:?}` prints the shortest text that reads back as the same f64,
            // and always with a `.` or exponent (`1.0`, `1e100`), so it stays a Float.
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::Str(s) => quoted(f, s),
            Literal::Bool(true) => f.write_str("TRUE"),
            Literal::Bool(false) => f.write_str("FALSE"),
            Literal::Null => f.write_str("NULL"),
        }
    }
}

impl Display for TimeBase {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TimeBase::Millis(n) => write!(f, "{n}"),
            TimeBase::Iso(text) => f.write_str(text),
            TimeBase::Now => f.write_str("now()"),
        }
    }
}

impl Display for TimeExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.base)?;
        for &off in &self.offsets {
            let sign = if off < 0 { '-' } else { '+' };
            write!(f, " {sign} {}", format_duration(off.unsigned_abs()))?;
        }
        Ok(())
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Time => f.write_str("time"),
            Operand::Column(c) => column(f, c),
            Operand::Literal(l) => write!(f, "{l}"),
            Operand::TimeValue(t) => write!(f, "{t}"),
            Operand::Agg { func, arg } => write!(
                f,
                "{}",
                SelectItem::Agg {
                    func: *func,
                    arg: arg.clone()
                }
            ),
        }
    }
}

impl Display for CmpOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::NotEq => "!=",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
        })
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Cmp { lhs, op, rhs } => write!(f, "{lhs} {op} {rhs}"),
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
            Expr::Not(e) => write!(f, "(NOT {e})"),
            Expr::IsNull(o) => write!(f, "{o} IS NULL"),
            Expr::Like { operand, pattern } => {
                write!(f, "{operand} LIKE ")?;
                quoted(f, pattern)
            }
            Expr::Regexp { operand, pattern } => {
                write!(f, "{operand} REGEXP ")?;
                quoted(f, pattern)
            }
        }
    }
}

impl Display for AggFunc {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&agg_name(*self).to_ascii_uppercase())
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard => f.write_char('*'),
            SelectItem::Column(c) => select_column(f, c),
            SelectItem::Agg { func, arg: None } => write!(f, "{func}(*)"),
            SelectItem::Agg { func, arg: Some(c) } => {
                write!(f, "{func}(")?;
                select_column(f, c)?;
                f.write_char(')')
            }
            SelectItem::Expr(e) => write!(f, "{e}"),
        }
    }
}

impl Display for ValueExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ValueExpr::Column(c) => select_column(f, c),
            ValueExpr::Agg { func, arg } => write!(
                f,
                "{}",
                SelectItem::Agg {
                    func: *func,
                    arg: arg.clone()
                }
            ),
            ValueExpr::Number(x) => write!(f, "{x:?}"),
            ValueExpr::Neg(e) => write!(f, "-({e})"),
            ValueExpr::Bin { op, lhs, rhs } => write!(f, "({lhs} {} {rhs})", op.symbol()),
            ValueExpr::Func { name, args } => {
                write!(f, "{name}(")?;
                list(f, args, |f, a| write!(f, "{a}"))?;
                f.write_char(')')
            }
        }
    }
}

/// A span of calendar months and milliseconds as written (`1y`, `2mo`,
/// `1mo2d`, `30s`).
fn calendar_span(months: i64, ms: i64) -> String {
    let mut out = match months {
        0 => String::new(),
        m if m % 12 == 0 => format!("{}y", m / 12),
        m => format!("{m}mo"),
    };
    if ms != 0 || out.is_empty() {
        out.push_str(&format_duration(ms.unsigned_abs()));
    }
    out
}

impl Display for GroupBy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut step = calendar_span(self.step_months, self.step_ms);
        if let Some((m, ms)) = self.sliding {
            step = format!("{step}, {}", calendar_span(m, ms));
        }
        if self.left_open {
            write!(f, "GROUP BY (({}, {}], {step})", self.start, self.end)
        } else {
            write!(f, "GROUP BY ([{}, {}), {step})", self.start, self.end)
        }
    }
}

impl Display for Select {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.last { "SELECT LAST " } else { "SELECT " })?;
        for (n, item) in self.items.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
            if let Some(Some(a)) = self.aliases.get(n) {
                f.write_str(" AS ")?;
                column(f, a)?;
            }
        }
        f.write_str(" FROM ")?;
        list(f, &self.from, |f, p| write!(f, "{p}"))?;
        if let Some(w) = &self.where_clause {
            write!(f, " WHERE {w}")?;
        }
        let level = self.group_by_level.as_ref().map(|l| {
            let l: Vec<String> = l.iter().map(u32::to_string).collect();
            format!("LEVEL = {}", l.join(", "))
        });
        let tags = self.group_by_tags.as_ref().map(|keys| {
            let mut s = String::from("TAGS(");
            for (n, k) in keys.iter().enumerate() {
                if n > 0 {
                    s.push_str(", ");
                }
                s.push_str(&Named(k).to_string());
            }
            s.push(')');
            s
        });
        match (&self.group_by, level.or(tags)) {
            (Some(g), Some(l)) => write!(f, " {g}, {l}")?,
            (Some(g), None) => write!(f, " {g}")?,
            (None, Some(l)) => write!(f, " GROUP BY {l}")?,
            (None, None) => {}
        }
        if let Some(h) = &self.having {
            write!(f, " HAVING {h}")?;
        }
        match &self.fill {
            None => {}
            Some(Fill::Previous { within: None }) => f.write_str(" FILL(PREVIOUS)")?,
            Some(Fill::Previous {
                within: Some((months, ms)),
            }) => write!(f, " FILL(PREVIOUS, {})", calendar_span(*months, *ms))?,
            Some(Fill::Linear) => f.write_str(" FILL(LINEAR)")?,
            Some(Fill::Constant(l)) => write!(f, " FILL({l})")?,
        }
        let time = if self.order_desc {
            "time DESC"
        } else {
            "time ASC"
        };
        match self.order_device {
            Some(d) => {
                let device = if d.desc { "DEVICE DESC" } else { "DEVICE ASC" };
                if d.first {
                    write!(f, " ORDER BY {device}, {time}")?;
                } else {
                    write!(f, " ORDER BY {time}, {device}")?;
                }
            }
            None if self.order_desc => f.write_str(" ORDER BY time DESC")?,
            None => {}
        }
        if let Some(n) = self.limit {
            write!(f, " LIMIT {n}")?;
        }
        if let Some(n) = self.offset {
            write!(f, " OFFSET {n}")?;
        }
        if let Some(n) = self.slimit {
            write!(f, " SLIMIT {n}")?;
        }
        if let Some(n) = self.soffset {
            write!(f, " SOFFSET {n}")?;
        }
        if self.align_by_device {
            f.write_str(" ALIGN BY DEVICE")?;
        }
        Ok(())
    }
}

impl Display for InsertRow {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "({}", self.time)?;
        for v in &self.values {
            write!(f, ", {v}")?;
        }
        f.write_char(')')
    }
}

/// `('k'='v', ...)`.
fn params(f: &mut Formatter<'_>, p: &PipeParams) -> fmt::Result {
    f.write_char('(')?;
    list(f, p, |f, (k, v)| {
        quoted(f, k)?;
        f.write_char('=')?;
        quoted(f, v)
    })?;
    f.write_char(')')
}

fn opt_pattern(f: &mut Formatter<'_>, head: &str, p: &Option<Path>) -> fmt::Result {
    f.write_str(head)?;
    match p {
        Some(p) => write!(f, " {p}"),
        None => Ok(()),
    }
}

/// `WHERE ...`, `LIMIT`, `OFFSET` of a SHOW or COUNT over the schema.
fn schema_filter(f: &mut Formatter<'_>, s: &SchemaFilter, what: &str) -> fmt::Result {
    if let Some(c) = &s.contains {
        write!(f, " WHERE {what} CONTAINS ")?;
        quoted(f, c)?;
    } else if let Some(t) = s.data_type {
        write!(f, " WHERE DATATYPE = {t}")?;
    } else if let Some(t) = &s.tag {
        f.write_str(" WHERE TAGS(")?;
        quoted(f, &t.key)?;
        f.write_str(if t.contains { ") CONTAINS " } else { ") = " })?;
        quoted(f, &t.value)?;
    }
    if let Some(n) = s.limit {
        write!(f, " LIMIT {n}")?;
    }
    if let Some(n) = s.offset {
        write!(f, " OFFSET {n}")?;
    }
    Ok(())
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::CreateDatabase {
                path,
                bucket_span_ms,
            } => {
                write!(f, "CREATE DATABASE {path}")?;
                if let Some(ms) = bucket_span_ms {
                    write!(
                        f,
                        " WITH BUCKET_SPAN={}",
                        format_duration(ms.unsigned_abs())
                    )?;
                }
                Ok(())
            }
            Statement::ShowDatabases { pattern, details } => {
                opt_pattern(f, "SHOW DATABASES", pattern)?;
                if *details {
                    f.write_str(" DETAILS")?;
                }
                Ok(())
            }
            Statement::DropDatabase { path } => write!(f, "DROP DATABASE {path}"),
            Statement::CreateTimeseries {
                path,
                data_type,
                encoding,
                compressor,
                labels,
            } => {
                write!(f, "CREATE TIMESERIES {path}")?;
                alias_suffix(f, &labels.alias)?;
                write!(f, " WITH DATATYPE={data_type}")?;
                if let Some(e) = encoding {
                    write!(f, ", ENCODING={e}")?;
                }
                if let Some(c) = compressor {
                    write!(f, ", COMPRESSOR={c}")?;
                }
                tags_attributes(f, labels)
            }
            Statement::AlterTimeseries { path, change } => {
                write!(f, "ALTER TIMESERIES {path} ")?;
                match change {
                    AlterSeries::Rename { from, to } => {
                        f.write_str("RENAME ")?;
                        quoted(f, from)?;
                        f.write_str(" TO ")?;
                        quoted(f, to)
                    }
                    AlterSeries::Set(p) => {
                        f.write_str("SET ")?;
                        label_pairs(f, p)
                    }
                    AlterSeries::Drop(keys) => {
                        f.write_str("DROP ")?;
                        list(f, keys, |f, k| quoted(f, k))
                    }
                    AlterSeries::AddTags(p) => {
                        f.write_str("ADD TAGS ")?;
                        label_pairs(f, p)
                    }
                    AlterSeries::AddAttributes(p) => {
                        f.write_str("ADD ATTRIBUTES ")?;
                        label_pairs(f, p)
                    }
                    AlterSeries::Upsert(l) => {
                        f.write_str("UPSERT")?;
                        if let Some(a) = &l.alias {
                            f.write_str(" ALIAS=")?;
                            quoted(f, a)?;
                        }
                        tags_attributes(f, l)
                    }
                }
            }
            Statement::ShowTimeseries {
                pattern,
                filter,
                latest,
            } => {
                let head = if *latest {
                    "SHOW LATEST TIMESERIES"
                } else {
                    "SHOW TIMESERIES"
                };
                opt_pattern(f, head, pattern)?;
                schema_filter(f, filter, "TIMESERIES")
            }
            Statement::CountTimeseries {
                pattern,
                filter,
                level,
            } => {
                opt_pattern(f, "COUNT TIMESERIES", pattern)?;
                schema_filter(f, filter, "TIMESERIES")?;
                match level {
                    Some(l) => write!(f, " GROUP BY LEVEL = {l}"),
                    None => Ok(()),
                }
            }
            Statement::ShowDevices {
                pattern,
                filter,
                with_database,
            } => {
                opt_pattern(f, "SHOW DEVICES", pattern)?;
                if *with_database {
                    f.write_str(" WITH DATABASE")?;
                }
                schema_filter(f, filter, "DEVICE")
            }
            Statement::CreateAlignedTimeseries { device, series } => {
                write!(f, "CREATE ALIGNED TIMESERIES {device}(")?;
                list(f, series, |f, s| {
                    column(f, &s.measurement)?;
                    alias_suffix(f, &s.labels.alias)?;
                    write!(f, " {}", s.data_type)?;
                    if let Some(e) = &s.encoding {
                        write!(f, " ENCODING={e}")?;
                    }
                    if let Some(c) = &s.compressor {
                        write!(f, " COMPRESSOR={c}")?;
                    }
                    tags_attributes(f, &s.labels)
                })?;
                f.write_char(')')
            }
            Statement::CountDevices { pattern } => opt_pattern(f, "COUNT DEVICES", pattern),
            Statement::CountDatabases { pattern } => opt_pattern(f, "COUNT DATABASES", pattern),
            Statement::CountNodes { pattern, level } => {
                write!(f, "COUNT NODES {pattern} LEVEL = {level}")
            }
            Statement::ShowChild { pattern, nodes } => opt_pattern(
                f,
                if *nodes {
                    "SHOW CHILD NODES"
                } else {
                    "SHOW CHILD PATHS"
                },
                pattern,
            ),
            Statement::DeleteTimeseries { patterns } => {
                f.write_str("DELETE TIMESERIES ")?;
                list(f, patterns, |f, p| write!(f, "{p}"))
            }
            Statement::Insert {
                device,
                measurements,
                rows,
            } => {
                write!(f, "INSERT INTO {device}(time")?;
                for m in measurements {
                    f.write_str(", ")?;
                    column(f, m)?;
                }
                f.write_str(") VALUES ")?;
                list(f, rows, |f, r| write!(f, "{r}"))
            }
            Statement::Select(s) => write!(f, "{s}"),
            Statement::Delete {
                paths,
                where_clause,
            } => {
                f.write_str("DELETE FROM ")?;
                list(f, paths, |f, p| write!(f, "{p}"))?;
                if let Some(w) = where_clause {
                    write!(f, " WHERE {w}")?;
                }
                Ok(())
            }
            Statement::CreatePipe {
                if_not_exists,
                name: pipe,
                source,
                processor,
                sink,
            } => {
                f.write_str("CREATE PIPE ")?;
                if *if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                name(f, pipe)?;
                if !source.is_empty() {
                    f.write_str(" WITH SOURCE ")?;
                    params(f, source)?;
                }
                if !processor.is_empty() {
                    f.write_str(" WITH PROCESSOR ")?;
                    params(f, processor)?;
                }
                f.write_str(" WITH SINK ")?;
                params(f, sink)
            }
            Statement::AlterPipe {
                if_exists,
                name: n,
                source,
                processor,
                sink,
            } => {
                f.write_str(if *if_exists {
                    "ALTER PIPE IF EXISTS "
                } else {
                    "ALTER PIPE "
                })?;
                name(f, n)?;
                for (stage, clause) in
                    [("SOURCE", source), ("PROCESSOR", processor), ("SINK", sink)]
                {
                    if let Some(c) = clause {
                        let verb = if c.replace { "REPLACE" } else { "MODIFY" };
                        write!(f, " {verb} {stage} ")?;
                        params(f, &c.params)?;
                    }
                }
                Ok(())
            }
            Statement::StartPipe { name: n } => {
                f.write_str("START PIPE ")?;
                name(f, n)
            }
            Statement::StopPipe { name: n } => {
                f.write_str("STOP PIPE ")?;
                name(f, n)
            }
            Statement::DropPipe { if_exists, name: n } => {
                f.write_str(if *if_exists {
                    "DROP PIPE IF EXISTS "
                } else {
                    "DROP PIPE "
                })?;
                name(f, n)
            }
            Statement::ShowPipes => f.write_str("SHOW PIPES"),
            Statement::ShowPipesUsedBy { name: n } => {
                f.write_str("SHOW PIPES WHERE SINK USED BY ")?;
                name(f, n)
            }
            Statement::ShowPipe { name: n } => {
                f.write_str("SHOW PIPE ")?;
                name(f, n)
            }
            Statement::ShowCluster => f.write_str("SHOW CLUSTER"),
            Statement::SetQueryTimeout { ms } => match ms {
                Some(ms) => write!(f, "SET QUERY_TIMEOUT = {ms}"),
                None => f.write_str("SET QUERY_TIMEOUT = DEFAULT"),
            },
            Statement::SetReadMode { dual } => {
                write!(
                    f,
                    "SET READ_MODE = {}",
                    if *dual { "DUAL" } else { "SINGLE" }
                )
            }
            Statement::ShowVersions {
                pattern,
                range,
                packed,
            } => {
                write!(f, "SHOW VERSIONS {pattern}")?;
                if let Some(w) = range {
                    write!(f, " WHERE {w}")?;
                }
                if *packed {
                    f.write_str(" PACKED")?;
                }
                Ok(())
            }
            Statement::SetReplication { key, value } => write!(
                f,
                "SET REPLICATION {key} = {}",
                value.as_deref().unwrap_or("DEFAULT")
            ),
            Statement::ShowVersion => f.write_str("SHOW VERSION"),
            Statement::ShowVariables => f.write_str("SHOW VARIABLES"),
            Statement::SetTtl { path, ms } if *ms == i64::MAX as u64 => {
                write!(f, "SET TTL TO {path} INF")
            }
            Statement::SetTtl { path, ms } => write!(f, "SET TTL TO {path} {ms}"),
            Statement::UnsetTtl { path } => write!(f, "UNSET TTL FROM {path}"),
            Statement::ShowTtl { paths: None } => f.write_str("SHOW ALL TTL"),
            Statement::ShowTtl { paths: Some(p) } => {
                f.write_str("SHOW TTL ON ")?;
                list(f, p, |f, p| write!(f, "{p}"))
            }
            Statement::ShowConflicts => f.write_str("SHOW CONFLICTS"),
            Statement::Flush => f.write_str("FLUSH"),
            Statement::ReplayConflict { id } => write!(f, "REPLAY CONFLICT {id}"),
            Statement::VerifyReplica {
                pattern,
                range,
                local,
                buckets,
            } => {
                opt_pattern(f, "VERIFY REPLICA", pattern)?;
                if let Some(w) = range {
                    write!(f, " WHERE {w}")?;
                }
                if *local {
                    f.write_str(" LOCAL")?;
                }
                if let Some(n) = buckets {
                    write!(f, " BUCKETS {n}")?;
                }
                Ok(())
            }
            Statement::BackupIncremental { dir: None } => f.write_str("BACKUP"),
            Statement::BackupIncremental { dir: Some(dir) } => {
                f.write_str("BACKUP INCREMENTAL TO ")?;
                quoted(f, dir)
            }
            Statement::ShowBackups => f.write_str("SHOW BACKUPS"),
            Statement::Backup { dir } => {
                f.write_str("BACKUP TO ")?;
                quoted(f, dir)
            }
            Statement::CreateUser { name: n, password } => {
                f.write_str("CREATE USER ")?;
                name(f, n)?;
                f.write_char(' ')?;
                quoted(f, password)
            }
            Statement::AlterUserPassword { name: n, password } => {
                f.write_str("ALTER USER ")?;
                name(f, n)?;
                f.write_str(" SET PASSWORD ")?;
                quoted(f, password)
            }
            Statement::DropUser { name: n } => {
                f.write_str("DROP USER ")?;
                name(f, n)
            }
            Statement::ListUser => f.write_str("LIST USER"),
            Statement::Grant {
                privileges,
                paths,
                user,
                grant_option,
            } => {
                write!(f, "GRANT {} ON ", privileges.join(", "))?;
                list(f, paths, |f, p| write!(f, "{p}"))?;
                f.write_str(" TO USER ")?;
                name(f, user)?;
                if *grant_option {
                    f.write_str(" WITH GRANT OPTION")?;
                }
                Ok(())
            }
            Statement::Revoke {
                privileges,
                paths,
                user,
            } => {
                write!(f, "REVOKE {} ON ", privileges.join(", "))?;
                list(f, paths, |f, p| write!(f, "{p}"))?;
                f.write_str(" FROM USER ")?;
                name(f, user)
            }
            Statement::ListPrivileges { user } => {
                f.write_str("LIST PRIVILEGES OF USER ")?;
                name(f, user)
            }
        }
    }
}

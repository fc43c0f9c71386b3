//! The statement tree. Every type here has a `Display` (in `display.rs`) that
//! prints valid SQL, and `parse(&stmt.to_string()) == stmt` holds for every
//! statement (property-tested). Keywords are not recorded where two spellings
//! mean the same (`SOURCE`/`EXTRACTOR`, `SINK`/`CONNECTOR`, `TIME`/`TIMESTAMP`):
//! `Display` prints the canonical one.

/// A path in IoTDB's tree: `root.plant.line1.temp`. In a pattern a node may be
/// `*` (exactly one level) or `**` (any number of levels, at least one).
/// Nodes that are not plain identifiers are written in backquotes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<String>);

impl Path {
    pub fn nodes(&self) -> &[String] {
        &self.0
    }
    pub fn is_pattern(&self) -> bool {
        self.0.iter().any(|n| n == "*" || n == "**")
    }
}

/// Column types of IoTDB's tree model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Boolean,
    Int32,
    Int64,
    Float,
    Double,
    Text,
    Timestamp,
    Date,
    Blob,
    String,
}

/// A literal value in `VALUES (...)` or a predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Integer literal (optionally signed). Out-of-range integers are a parse error.
    Int(i64),
    /// Decimal literal (`21.5`, `-1e3`). Never NaN or infinite.
    Float(f64),
    /// `'text'` or `"text"`; `''` inside single quotes is one quote.
    Str(String),
    Bool(bool),
    Null,
}

/// A point in time as written in SQL: a millisecond integer, an ISO-8601
/// literal (`2024-01-01T00:00:00`, `2024-01-01 00:00:00.123+08:00`, `2024-01-01`),
/// or `now()`, each optionally followed by `+`/`-` durations (`now() - 1h`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeExpr {
    pub base: TimeBase,
    /// Signed offsets in milliseconds, in the order written: `now() - 1h + 5m`
    /// is `[-3_600_000, 300_000]`.
    pub offsets: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeBase {
    /// Milliseconds since the epoch (may be negative).
    Millis(i64),
    /// An ISO-8601 literal exactly as written (validated by the parser; the
    /// executor converts it with the session's time zone).
    Iso(String),
    Now,
}

/// Operand of a comparison in `WHERE`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `time` or `timestamp`
    Time,
    /// A measurement (or suffix path such as `d1.temp`, stored joined with `.`).
    Column(String),
    Literal(Literal),
    /// A time literal that is not a bare integer: ISO-8601 or `now()` arithmetic.
    TimeValue(TimeExpr),
    /// An aggregate (`count(s1)`), in HAVING.
    Agg {
        func: AggFunc,
        arg: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// `WHERE` expression. `Display` parenthesises every `And`/`Or`/`Not` so the
/// tree shape survives a round trip.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cmp {
        lhs: Operand,
        op: CmpOp,
        rhs: Operand,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `x IS NULL` (`IS NOT NULL` is its NOT).
    IsNull(Operand),
    /// `x LIKE 'pattern'`: `%` any text, `_` one character, `\` escapes
    /// the next (IoTDB's LIKE).
    Like {
        operand: Operand,
        pattern: String,
    },
    /// `x REGEXP 'regex'`: the value contains a match (IoTDB's REGEXP,
    /// Java's `find`).
    Regexp {
        operand: Operand,
        pattern: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Count,
    Sum,
    Avg,
    MinValue,
    MaxValue,
    FirstValue,
    LastValue,
    MaxTime,
    MinTime,
    Extreme,
    Stddev,
    Variance,
    StddevSamp,
    StddevPop,
    VarSamp,
    VarPop,
    TimeDuration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`
    Wildcard,
    /// A measurement or suffix path (joined with `.`).
    Column(String),
    /// `count(temp)`; `arg == None` is `count(*)`.
    Agg { func: AggFunc, arg: Option<String> },
    /// Arithmetic and scalar functions over columns, or over aggregates
    /// (`s1 + s2`, `sin(s1) * 2`, `avg(s1) + 1`).
    Expr(Box<ValueExpr>),
}

/// A computed value in SELECT.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueExpr {
    Column(String),
    Agg {
        func: AggFunc,
        arg: Option<String>,
    },
    Number(f64),
    Neg(Box<ValueExpr>),
    Bin {
        op: ArithOp,
        lhs: Box<ValueExpr>,
        rhs: Box<ValueExpr>,
    },
    /// A scalar function by its lower-case name (`sin`, `abs`, ...).
    Func {
        name: String,
        args: Vec<ValueExpr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    pub fn symbol(self) -> char {
        match self {
            ArithOp::Add => '+',
            ArithOp::Sub => '-',
            ArithOp::Mul => '*',
            ArithOp::Div => '/',
            ArithOp::Rem => '%',
        }
    }
}

/// IoTDB's scalar math functions Duet computes (one argument each).
pub const SCALAR_FUNCTIONS: &[&str] = &[
    "abs", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "degrees",
    "radians", "ceil", "floor", "round", "exp", "ln", "log10", "sqrt", "sign",
];

/// `GROUP BY ([start, end), step)`: windows `[start + k*step, start + (k+1)*step)`
/// that start before `end`. A step with calendar months (`1mo`, `1y`)
/// moves the window's start by whole months in the session's zone, so
/// windows follow the calendar (IoTDB's meaning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBy {
    pub start: TimeExpr,
    pub end: TimeExpr,
    /// Calendar months of the step (`1mo`, `1y` = 12), >= 0.
    pub step_months: i64,
    /// The fixed part of the step in milliseconds, >= 0 (`1h`, `10m`,
    /// `30s`, `100ms`, `1d`, or a bare integer); with `step_months` not
    /// both 0.
    pub step_ms: i64,
    /// `GROUP BY ([s, e), interval, sliding)`: windows start every
    /// `sliding` (months, ms) and last the step above; `None`: they follow
    /// one another.
    pub sliding: Option<(i64, i64)>,
    /// `((s, e], ...)`: windows open on the left, closed on the right,
    /// each shown at its right end (IoTDB).
    pub left_open: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// `SELECT LAST ...`
    pub last: bool,
    pub items: Vec<SelectItem>,
    /// `AS alias` of each item (empty, or one per item).
    pub aliases: Vec<Option<String>>,
    /// Devices or device patterns (`root.plant.**`).
    pub from: Vec<Path>,
    pub where_clause: Option<Expr>,
    pub group_by: Option<GroupBy>,
    /// `GROUP BY LEVEL = n [, n]` (alone or after a time window): each
    /// aggregate over every series whose path is the same at these levels.
    pub group_by_level: Option<Vec<u32>>,
    /// `GROUP BY TAGS(k, ...)` (alone or after a time window): one row per
    /// combination of the series' values of those tags.
    pub group_by_tags: Option<Vec<String>>,
    /// `HAVING ...`: which aggregate rows are kept.
    pub having: Option<Expr>,
    /// `FILL(...)`: what a null in the result becomes.
    pub fill: Option<Fill>,
    /// `ORDER BY TIME DESC`.
    pub order_desc: bool,
    /// `ORDER BY ... DEVICE [ASC|DESC]` (with ALIGN BY DEVICE).
    pub order_device: Option<OrderDevice>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `SLIMIT` / `SOFFSET`: which of the result's series columns to show.
    pub slimit: Option<u64>,
    pub soffset: Option<u64>,
    /// `ALIGN BY DEVICE`: one row per device and time, the device in a
    /// `Device` column and each measurement in one column for all devices.
    pub align_by_device: bool,
}

/// One measurement of `CREATE ALIGNED TIMESERIES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlignedSeries {
    pub measurement: String,
    pub data_type: DataType,
    pub encoding: Option<String>,
    pub compressor: Option<String>,
    pub labels: SeriesLabels,
}

/// `path(alias) ... TAGS(k=v, ...) ATTRIBUTES(k=v, ...)` at creation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeriesLabels {
    pub alias: Option<String>,
    pub tags: Vec<(String, String)>,
    pub attributes: Vec<(String, String)>,
}

impl SeriesLabels {
    pub fn is_empty(&self) -> bool {
        self.alias.is_none() && self.tags.is_empty() && self.attributes.is_empty()
    }
}

/// What `ALTER TIMESERIES path ...` does to the series' labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterSeries {
    /// `RENAME k TO k2`: a tag or attribute key.
    Rename { from: String, to: String },
    /// `SET k=v, ...`: new values for existing tags or attributes.
    Set(Vec<(String, String)>),
    /// `DROP k, ...`: tags or attributes removed.
    Drop(Vec<String>),
    /// `ADD TAGS k=v, ...`
    AddTags(Vec<(String, String)>),
    /// `ADD ATTRIBUTES k=v, ...`
    AddAttributes(Vec<(String, String)>),
    /// `UPSERT [ALIAS=a] [TAGS(...)] [ATTRIBUTES(...)]`: set, added if new.
    Upsert(SeriesLabels),
}

/// What IoTDB's SHOW/COUNT over the schema filter by and page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaFilter {
    /// `WHERE TIMESERIES CONTAINS 's'` / `WHERE DEVICE CONTAINS 's'`: a
    /// text the path holds.
    pub contains: Option<String>,
    /// `WHERE DATATYPE = T`
    pub data_type: Option<DataType>,
    /// `WHERE TAGS(k) = 'v'` or `WHERE TAGS(k) CONTAINS 'v'`.
    pub tag: Option<TagFilter>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// A series' tag `key` equal to (or, `contains`, holding) `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: String,
    pub contains: bool,
}

/// `FILL(PREVIOUS [, bound] | LINEAR | constant)` (IoTDB's fill of null
/// values in a result).
#[derive(Debug, Clone, PartialEq)]
pub enum Fill {
    /// The previous non-null value of the column in the result, if it is
    /// at most `within` (calendar months, milliseconds) away.
    Previous { within: Option<(i64, i64)> },
    /// Interpolated between the previous and the next non-null values
    /// (numeric columns).
    Linear,
    /// This value, in the columns whose type takes it.
    Constant(Literal),
}

/// The `DEVICE` key of an ORDER BY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderDevice {
    pub desc: bool,
    /// Named before `TIME` (or without it): devices first, then times
    /// within each; otherwise rows go by time, devices ordering equal
    /// times.
    pub first: bool,
}

/// One row of `VALUES`.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertRow {
    pub time: TimeExpr,
    pub values: Vec<Literal>,
}

/// Key/value parameters of a pipe stage, in the order written. Keys and values
/// are the quoted strings' contents (unescaped).
pub type PipeParams = Vec<(String, String)>;

/// One clause of `ALTER PIPE`: `MODIFY` merges its keys into the stage's,
/// `REPLACE` makes them the whole stage (defaults for the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterClause {
    pub replace: bool,
    pub params: PipeParams,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `CREATE DATABASE root.plant [WITH BUCKET_SPAN = 1h]`
    CreateDatabase {
        path: Path,
        bucket_span_ms: Option<i64>,
    },
    /// `SHOW DATABASES [pattern]`
    ShowDatabases {
        pattern: Option<Path>,
        /// `DETAILS`: IoTDB's region columns too.
        details: bool,
    },
    /// `DROP DATABASE root.plant` (also `DELETE DATABASE`)
    DropDatabase {
        path: Path,
    },
    /// `CREATE TIMESERIES p WITH DATATYPE=T [, ENCODING=E] [, COMPRESSOR=C]`
    /// (`COMPRESSION` accepted for `COMPRESSOR`). Encoding and compressor are
    /// stored upper-cased; the parser accepts only names IoTDB knows.
    CreateTimeseries {
        path: Path,
        data_type: DataType,
        encoding: Option<String>,
        compressor: Option<String>,
        labels: SeriesLabels,
    },
    /// `ALTER TIMESERIES path RENAME|SET|DROP|ADD TAGS|ADD ATTRIBUTES|UPSERT ...`
    AlterTimeseries {
        path: Path,
        change: AlterSeries,
    },
    /// `CREATE ALIGNED TIMESERIES device(m1 T [ENCODING=E] [COMPRESSOR=C], ...)`:
    /// the series of an aligned device (Duet stores them as any other).
    CreateAlignedTimeseries {
        device: Path,
        series: Vec<AlignedSeries>,
    },
    /// `SHOW [LATEST] TIMESERIES [pattern] [WHERE ...] [LIMIT n] [OFFSET m]`
    /// (LATEST: the series with the newest point first).
    ShowTimeseries {
        pattern: Option<Path>,
        filter: SchemaFilter,
        latest: bool,
    },
    /// `COUNT TIMESERIES [pattern] [WHERE ...] [GROUP BY LEVEL = n]`
    CountTimeseries {
        pattern: Option<Path>,
        filter: SchemaFilter,
        level: Option<u32>,
    },
    /// `SHOW DEVICES [pattern] [WITH DATABASE] [WHERE DEVICE CONTAINS 's']
    /// [LIMIT n] [OFFSET m]`
    ShowDevices {
        pattern: Option<Path>,
        filter: SchemaFilter,
        with_database: bool,
    },
    /// `COUNT DEVICES [pattern]`
    CountDevices {
        pattern: Option<Path>,
    },
    /// `COUNT DATABASES [pattern]`
    CountDatabases {
        pattern: Option<Path>,
    },
    /// `COUNT NODES pattern LEVEL = n`: distinct path nodes at that level.
    CountNodes {
        pattern: Path,
        level: u32,
    },
    /// `SHOW CHILD PATHS [pattern]` (`nodes`: `SHOW CHILD NODES`).
    ShowChild {
        pattern: Option<Path>,
        nodes: bool,
    },
    /// `DELETE TIMESERIES pattern[, pattern]`
    DeleteTimeseries {
        patterns: Vec<Path>,
    },
    /// `INSERT INTO device(time, m1, m2) VALUES (t, v1, v2)[, (...)]`
    Insert {
        device: Path,
        measurements: Vec<String>,
        rows: Vec<InsertRow>,
    },
    Select(Box<Select>),
    /// `DELETE FROM path[, path] [WHERE time-predicate]`; no `WHERE` deletes all points.
    Delete {
        paths: Vec<Path>,
        where_clause: Option<Expr>,
    },
    /// `CREATE PIPE [IF NOT EXISTS] name WITH SOURCE (...) [WITH PROCESSOR (...)] WITH SINK (...)`
    /// (`EXTRACTOR` = `SOURCE`, `CONNECTOR` = `SINK`; `WITH SOURCE` may be omitted
    /// as in IoTDB, which is an empty source list).
    CreatePipe {
        if_not_exists: bool,
        name: String,
        source: PipeParams,
        processor: PipeParams,
        sink: PipeParams,
    },
    /// `ALTER PIPE [IF EXISTS] name [MODIFY|REPLACE SOURCE (...)]
    /// [MODIFY|REPLACE PROCESSOR (...)] [MODIFY|REPLACE SINK (...)]`, clauses
    /// in that order (IoTDB 1.3's grammar; EXTRACTOR/CONNECTOR spell the same).
    AlterPipe {
        if_exists: bool,
        name: String,
        source: Option<AlterClause>,
        processor: Option<AlterClause>,
        sink: Option<AlterClause>,
    },
    StartPipe {
        name: String,
    },
    StopPipe {
        name: String,
    },
    DropPipe {
        if_exists: bool,
        name: String,
    },
    ShowPipes,
    ShowPipe {
        name: String,
    },
    /// `SHOW PIPES WHERE SINK USED BY name` (or `CONNECTOR`): the pipes
    /// whose sink parameters are the same as that pipe's, it included.
    ShowPipesUsedBy {
        name: String,
    },
    ShowCluster,
    /// `SET QUERY_TIMEOUT = ms | DEFAULT` (this session's statement
    /// deadline; 0: none; `DEFAULT`: the node's `query.timeout_ms`).
    SetQueryTimeout {
        ms: Option<u64>,
    },
    /// `SET READ_MODE = DUAL | SINGLE` (this session's reads).
    SetReadMode {
        dual: bool,
    },
    /// `SHOW VERSIONS pattern [WHERE time ...]`: each point with its
    /// version and each range delete (what a dual read merges).
    ShowVersions {
        pattern: Path,
        range: Option<Expr>,
        /// `PACKED`: points as encoded chunks (what dual reads ask for).
        packed: bool,
    },
    /// `SET REPLICATION key = value` (`None`: `DEFAULT`, the configuration
    /// file's value).
    SetReplication {
        key: String,
        value: Option<String>,
    },
    /// `SHOW CONFLICTS`: what this node decided about peers' changes it
    /// could not apply as sent.
    ShowConflicts,
    /// `REPLAY CONFLICT id`: send again what the conflict log says this
    /// node left out (a point too large for the peer, once its limit was
    /// raised).
    ReplayConflict {
        id: u64,
    },
    ShowVersion,
    /// `SHOW VARIABLES`: the node's settings, as IoTDB names them.
    ShowVariables,
    /// `SET TTL TO path ms` (a path without `**` means it and everything
    /// below it).
    SetTtl {
        path: Path,
        ms: u64,
    },
    /// `UNSET TTL FROM path` (also `TO`).
    UnsetTtl {
        path: Path,
    },
    /// `SHOW ALL TTL` (None) or `SHOW TTL ON path[, path]`.
    ShowTtl {
        paths: Option<Vec<Path>>,
    },
    /// `FLUSH [db, ...] [TRUE|FALSE] [ON LOCAL|CLUSTER]`: Duet flushes
    /// every database of the node.
    Flush,
    /// `VERIFY REPLICA [pattern] [LOCAL]`: compare this node's data with
    /// its peer's (`LOCAL`: this node's digests only).
    VerifyReplica {
        pattern: Option<Path>,
        /// `WHERE` time conditions: compare only that range.
        range: Option<Expr>,
        local: bool,
        /// `LOCAL BUCKETS n`: digests of `n` equal time buckets of the
        /// range instead of one per series (how a difference is narrowed).
        buckets: Option<u64>,
    },
    /// `BACKUP TO 'dir'`: a checkpoint, under `storage.backup_dir`.
    Backup {
        dir: String,
    },
    /// `BACKUP` or `BACKUP INCREMENTAL [TO 'dir']`: an incremental backup
    /// into a repository under `storage.backup_dir` (`incremental` unless
    /// named).
    BackupIncremental {
        dir: Option<String>,
    },
    /// `SHOW BACKUPS`
    ShowBackups,
    /// `CREATE USER name 'password'`
    CreateUser {
        name: String,
        password: String,
    },
    /// `ALTER USER name SET PASSWORD 'password'`
    AlterUserPassword {
        name: String,
        password: String,
    },
    DropUser {
        name: String,
    },
    /// `LIST USER`
    ListUser,
    /// `GRANT privileges ON paths TO USER name [WITH GRANT OPTION]`.
    /// Privileges are upper-cased names IoTDB writes (`READ_DATA`, ...,
    /// the composites `ALL`, `READ`, `WRITE`) or Duet's `REPLICATION`.
    Grant {
        privileges: Vec<String>,
        paths: Vec<Path>,
        user: String,
        grant_option: bool,
    },
    /// `REVOKE privileges ON paths FROM USER name`
    Revoke {
        privileges: Vec<String>,
        paths: Vec<Path>,
        user: String,
    },
    /// `LIST PRIVILEGES OF USER name`
    ListPrivileges {
        user: String,
    },
}

/// The privilege names `GRANT` and `REVOKE` take.
pub const PRIVILEGES: &[&str] = &[
    "ALL",
    "READ",
    "WRITE",
    "READ_DATA",
    "WRITE_DATA",
    "READ_SCHEMA",
    "WRITE_SCHEMA",
    "MANAGE_DATABASE",
    "MANAGE_USER",
    "USE_PIPE",
    "MAINTAIN",
    "REPLICATION",
];

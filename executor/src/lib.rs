//! Statement execution: SQL text → [`duet_parser`] statement → engine calls →
//! an [`Output`] whose rows stream from the engine's scans.
//!
//! Parts: [`convert`] turns AST values (paths, literals, time expressions)
//! into engine values; [`ddl`] runs schema, user and SHOW statements;
//! [`insert`] builds typed columns from `VALUES`; [`select`] plans queries
//! (raw, aggregate, `GROUP BY` windows, `LAST`) over [`predicate`]s;
//! [`pipes`] validates pipe statements and hands them to a [`PipeControl`]
//! when the node runs pipes; [`auth`] checks the session's privileges
//! before any of it runs. The server puts this behind the RPC; tests and
//! the `.slt` files run it in-process.

pub mod auth;
pub mod convert;
pub mod ddl;
pub mod dual;
pub mod error;
pub mod insert;
pub mod pipe_compat;
pub mod pipes;
pub mod predicate;
pub mod select;

use duet_engine::{DataType, Engine, Value};
use duet_parser::Statement;
use std::sync::Arc;

pub use dual::{PeerQuery, ReadMode};
pub use error::{ErrorKind, ExecError, Result};
pub use pipes::{PipeControl, PipeParamSpec};

/// Per-connection settings.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    /// Offset from UTC applied to ISO-8601 literals without one.
    pub utc_offset_minutes: i32,
    /// Queries read this node alone, or this node and its peers merged.
    pub read_mode: ReadMode,
    /// When the running statement must stop (its scans, windows and rows
    /// check it); `None`: no limit.
    pub deadline: Option<(std::time::Instant, std::time::Duration)>,
    /// `SET QUERY_TIMEOUT`: this session's statement limit in ms (0: none),
    /// instead of the node's `query.timeout_ms`.
    pub query_timeout_ms: Option<u64>,
    /// What the user may do; [`Executor::execute`] reads it afresh from
    /// the engine for each statement (a `REVOKE` counts at once).
    pub access: duet_engine::privileges::Access,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            user: duet_engine::users::DEFAULT_USER.to_string(),
            utc_offset_minutes: 0,
            read_mode: ReadMode::Single,
            deadline: None,
            query_timeout_ms: None,
            access: duet_engine::privileges::Access::All,
        }
    }
}

/// What `SHOW CLUSTER` / `SHOW VERSION` say about this node.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub rpc_address: String,
    pub rpc_port: u16,
    pub version: String,
    /// `storage.backup_dir`: `BACKUP TO` writes nowhere else.
    pub backup_dir: std::path::PathBuf,
}

impl Default for NodeInfo {
    fn default() -> Self {
        NodeInfo {
            rpc_address: "127.0.0.1".into(),
            rpc_port: 6667,
            version: env!("CARGO_PKG_VERSION").into(),
            backup_dir: std::path::PathBuf::from("backups"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub data_type: DataType,
}

/// One result row: the time (when the result has a time column) and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time: Option<i64>,
    pub values: Vec<Option<Value>>,
}

pub type RowStream = Box<dyn Iterator<Item = Result<Row>> + Send>;

/// A query result whose rows are produced as they are read.
pub struct ResultSet {
    /// Whether each row starts with a `Time` column (IoTDB: raw and GROUP BY
    /// queries do; SHOW and plain aggregates do not).
    pub has_time: bool,
    pub columns: Vec<ColumnInfo>,
    pub rows: RowStream,
    /// Said to the client with the result (a dual read's peer that did not
    /// answer).
    pub warning: Option<String>,
}

impl ResultSet {
    pub fn from_rows(has_time: bool, columns: Vec<ColumnInfo>, rows: Vec<Row>) -> Self {
        ResultSet {
            has_time,
            columns,
            rows: Box::new(rows.into_iter().map(Ok)),
            warning: None,
        }
    }

    /// Reads every row (for tests and small results).
    pub fn collect_rows(self) -> Result<Vec<Row>> {
        self.rows.collect()
    }
}

pub enum Output {
    /// A statement that returns no rows.
    Done,
    Rows(ResultSet),
    /// `SET READ_MODE`: the session takes it.
    SetReadMode(ReadMode),
    /// `SET QUERY_TIMEOUT`: the session takes it (`None`: the node's).
    SetQueryTimeout(Option<u64>),
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Done => f.write_str("Done"),
            Output::SetReadMode(m) => write!(f, "SetReadMode({m:?})"),
            Output::SetQueryTimeout(ms) => write!(f, "SetQueryTimeout({ms:?})"),
            Output::Rows(r) => write!(f, "Rows({:?})", r.columns),
        }
    }
}

pub struct Executor {
    engine: Arc<Engine>,
    node: NodeInfo,
    pipes: Option<Arc<dyn PipeControl>>,
    peers: Option<Arc<dyn PeerQuery>>,
}

impl Executor {
    pub fn new(engine: Arc<Engine>, node: NodeInfo) -> Self {
        Executor {
            engine,
            node,
            pipes: None,
            peers: None,
        }
    }

    /// Where dual reads find the peers.
    pub fn with_peers(mut self, peers: Arc<dyn PeerQuery>) -> Self {
        self.peers = Some(peers);
        self
    }

    /// Hands pipe statements to a running pipe manager.
    pub fn with_pipes(mut self, pipes: Arc<dyn PipeControl>) -> Self {
        self.pipes = Some(pipes);
        self
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Parses and runs one statement. A parse error carries the rendered
    /// message with the caret under the offending text.
    pub fn execute_sql(&self, session: &Session, sql: &str) -> Result<Output> {
        let stmt =
            duet_parser::parse(sql).map_err(|e| ExecError::new(ErrorKind::Parse, e.render(sql)))?;
        self.execute(session, &stmt)
    }

    /// What `session`'s user may do now, in a copy of the session.
    pub fn authorize(&self, session: &Session) -> Result<Session> {
        Ok(Session {
            access: self.engine.access(&session.user)?,
            ..session.clone()
        })
    }

    pub fn execute(&self, session: &Session, stmt: &Statement) -> Result<Output> {
        use Statement as S;
        let session = &self.authorize(session)?;
        auth::check_statement(session, stmt)?;
        match stmt {
            S::Insert {
                device,
                measurements,
                rows,
            } => insert::execute(&self.engine, session, device, measurements, rows)
                .map(|_| Output::Done),
            S::Select(q) => match (&self.peers, session.read_mode) {
                (Some(peers), ReadMode::Dual) => {
                    let reader = dual::DualReader::new(self.engine.clone(), peers.clone());
                    let mut rs = select::execute(&reader, session, q)?;
                    rs.warning = reader.finish();
                    Ok(Output::Rows(rs))
                }
                _ => select::execute(self.engine.as_ref(), session, q).map(Output::Rows),
            },
            S::SetQueryTimeout { ms } => Ok(Output::SetQueryTimeout(*ms)),
            S::SetReadMode { dual } => {
                if *dual && self.peers.is_none() {
                    return Err(ExecError::new(
                        ErrorKind::Unsupported,
                        "a dual read needs the node's pipes to find its peers, and they are not running here",
                    ));
                }
                Ok(Output::SetReadMode(if *dual {
                    ReadMode::Dual
                } else {
                    ReadMode::Single
                }))
            }
            S::ShowVersions {
                pattern,
                range,
                packed,
            } => {
                let range = predicate::time_only_range(range.as_ref(), session, "SHOW VERSIONS")?;
                dual::show_versions(&self.engine, &convert::path(pattern), range, *packed)
                    .map(Output::Rows)
            }
            S::Delete {
                paths,
                where_clause,
            } => select::delete(&self.engine, session, paths, where_clause.as_ref())
                .map(|_| Output::Done),
            S::CreatePipe { .. }
            | S::AlterPipe { .. }
            | S::StartPipe { .. }
            | S::StopPipe { .. }
            | S::DropPipe { .. }
            | S::ShowPipes
            | S::ShowPipesUsedBy { .. }
            | S::ShowPipe { .. } => pipes::execute(self.pipes.as_deref(), stmt),
            S::VerifyReplica {
                pattern,
                range,
                local,
                buckets,
            } => {
                let pattern = pattern
                    .as_ref()
                    .map(convert::path)
                    .unwrap_or_else(|| "root.**".into());
                let range = predicate::time_only_range(range.as_ref(), session, "VERIFY REPLICA")?;
                if *local {
                    return ddl::verify_local(&self.engine, &pattern, range, *buckets)
                        .map(Output::Rows);
                }
                match &self.pipes {
                    Some(p) => p.verify(&pattern, range),
                    None => Err(ExecError::new(
                        ErrorKind::Unsupported,
                        "VERIFY REPLICA compares with the peer of a pipe, and pipes are not running here; \
                         VERIFY REPLICA LOCAL lists this node's digests",
                    )),
                }
            }
            S::SetReplication { key, value } => match &self.pipes {
                Some(p) => p
                    .set_replication(key, value.as_deref())
                    .map(|()| Output::Done),
                None => Err(ExecError::new(
                    ErrorKind::Unsupported,
                    "the write mode needs the node's pipes, and they are not running here",
                )),
            },
            S::ShowCluster => match &self.pipes {
                Some(p) => p.show_cluster(),
                None => Ok(Output::Rows(ddl::show_cluster(
                    &self.engine,
                    &self.node,
                    None,
                    &[],
                ))),
            },
            _ => ddl::execute(&self.engine, &self.node, session, stmt),
        }
    }
}

//! A blocking client session for Duet (or Apache IoTDB) servers, for every
//! Rust program that talks to one: the CLI, integration tests, the load
//! generator, pipe code.
//!
//! - [`Session::open`] tries [`SessionConfig::hosts`] in order, resolving
//!   each name at connect time, and makes the Python client's open sequence
//!   (`shared/iotdb-rpc.md` §1): `openSession` (protocol V3, tree dialect),
//!   `requestStatementId`, `setTimeZone`.
//! - [`Session::execute`] runs `executeStatementV2` and answers
//!   [`Outcome::Done`] or [`Outcome::Rows`]; [`ResultRows`] decodes the
//!   TsBlocks of the reply, calls `fetchResultsV2` while the server has more
//!   data, and sends `closeOperation` on [`ResultRows::close`] or drop.
//! - [`Session::insert_record`] and [`Session::insert_tablet`] encode with
//!   [`crate::insert`].
//!
//! Errors are decisions ([`ClientError`]): `Status` is the server saying no
//! (the connection is fine); `Transport` means the connection is gone and was
//! dropped: the next call reconnects, starting with the *next* configured
//! host (failover), and tries each host once; `Unreachable` means no host
//! answered. A statement is never retried on another host by this module:
//! the caller cannot know whether the lost one was applied.

use std::collections::VecDeque;
use std::fmt;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::column::{Column, Value};
use crate::frame::{Protocol, DEFAULT_MAX_FRAME_BYTES};
use crate::generated::{
    TIClientRPCServiceSyncClient, TSCloseOperationReq, TSCloseSessionReq, TSExecuteStatementReq,
    TSExecuteStatementResp, TSFetchResultsReq, TSInsertRecordReq, TSInsertTabletReq,
    TSOpenSessionReq, TSProtocolVersion, TSSetTimeZoneReq, TSStatus,
};
use crate::insert::{encode_record_values, encode_tablet, Tablet};
use crate::service::{new_client, RpcClient};
use crate::status;
use crate::tsblock::TsBlock;

/// The IoTDB client port.
pub const DEFAULT_PORT: u16 = 6667;

/// How long a best-effort close (`closeOperation`/`closeSession` on drop)
/// may wait for a reply, so dropping a session on a hung server is quick.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A server that keeps answering "more data" with empty pages is broken;
/// stop after this many in a row instead of looping.
const MAX_EMPTY_FETCHES: u32 = 100;

/// Where and how to connect. `Default` is root/root on 127.0.0.1:6667.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Tried in order at open; after a lost connection, from the next one on.
    pub hosts: Vec<(String, u16)>,
    pub user: String,
    pub password: String,
    /// Sent with `openSession` and `setTimeZone` (IANA name or `+08:00`).
    pub zone_id: String,
    /// Rows per page asked of the server.
    pub fetch_size: i32,
    /// Per resolved address.
    pub connect_timeout: Duration,
    /// Socket read/write timeout of every call; `None` waits forever.
    pub request_timeout: Option<Duration>,
    /// Largest reply frame accepted.
    pub max_frame_bytes: usize,
    /// Statements run after every login (the first and each reconnect), so
    /// session settings such as `SET READ_MODE = DUAL` survive a failover.
    pub setup: Vec<String>,
    /// Connect with TLS (every host): whom to trust, what to present.
    pub tls: Option<crate::tls::TlsClient>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            hosts: vec![("127.0.0.1".to_string(), DEFAULT_PORT)],
            user: "root".to_string(),
            password: "root".to_string(),
            zone_id: "UTC".to_string(),
            fetch_size: 5000,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Some(Duration::from_secs(60)),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            setup: Vec::new(),
            tls: None,
        }
    }
}

/// Parses `a,b:6668,[::1]:6669` into hosts; entries without a port get
/// `default_port`.
pub fn parse_hosts(list: &str, default_port: u16) -> Result<Vec<(String, u16)>, ClientError> {
    let parse_port = |p: &str, entry: &str| {
        p.parse::<u16>()
            .map_err(|_| ClientError::Invalid(format!("bad port in host {entry:?}")))
    };
    let mut hosts = Vec::new();
    for entry in list.split(',').map(str::trim) {
        if entry.is_empty() {
            return Err(ClientError::Invalid(format!("empty host name in {list:?}")));
        }
        let host = if let Some(rest) = entry.strip_prefix('[') {
            let (addr, tail) = rest
                .split_once(']')
                .ok_or_else(|| ClientError::Invalid(format!("unclosed '[' in host {entry:?}")))?;
            match tail.strip_prefix(':') {
                Some(p) => (addr.to_string(), parse_port(p, entry)?),
                None if tail.is_empty() => (addr.to_string(), default_port),
                None => return Err(ClientError::Invalid(format!("bad host {entry:?}"))),
            }
        } else {
            match entry.split_once(':') {
                // More than one ':' is a bare IPv6 address.
                Some((h, p)) if !p.contains(':') => (h.to_string(), parse_port(p, entry)?),
                _ => (entry.to_string(), default_port),
            }
        };
        hosts.push(host);
    }
    Ok(hosts)
}

/// `host:port`, with brackets around IPv6 addresses.
pub fn endpoint_name(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What went wrong, by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused (bad SQL, wrong password = 801, ...). The
    /// connection is fine; `message` is the server's text, verbatim.
    #[error("{code}: {message}")]
    Status { code: i32, message: String },
    /// The connection failed or broke (refused, reset, timeout, garbled
    /// reply). It was dropped; the next call reconnects, starting with the
    /// next host.
    #[error("connection to {endpoint} failed: {detail}")]
    Transport { endpoint: String, detail: String },
    /// Every configured host failed to connect; one entry per host.
    #[error("no server reachable: {}", .attempts.join("; "))]
    Unreachable { attempts: Vec<String> },
    /// The server answered, but with something this client cannot use (an
    /// unknown method, a missing field, an undecodable TsBlock).
    #[error("unexpected reply from {endpoint}: {detail}")]
    Protocol { endpoint: String, detail: String },
    /// The caller's request could not be built, or the session is closed.
    #[error("{0}")]
    Invalid(String),
}

impl ClientError {
    /// Whether the connection was lost (so a retry may go to another host).
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            ClientError::Transport { .. } | ClientError::Unreachable { .. }
        )
    }

    /// The server's status code, for `Status` errors.
    pub fn code(&self) -> Option<i32> {
        match self {
            ClientError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Fails unless an IoTDB client would accept `status`; a 302 reports its
/// failed sub-statuses.
fn check(status: &TSStatus) -> Result<(), ClientError> {
    if status::is_success(status) {
        return Ok(());
    }
    let mut message = status.message.clone().unwrap_or_default();
    if let Some(subs) = &status.sub_status {
        for sub in subs.iter().filter(|s| !status::is_success(s)) {
            let text = sub.message.as_deref().unwrap_or_default();
            message.push_str(&format!("\n{}: {text}", sub.code));
        }
    }
    Err(ClientError::Status {
        code: status.code,
        message: message.trim_start_matches('\n').to_string(),
    })
}

/// The ids a call needs from the open connection.
#[derive(Clone, Copy)]
struct Ids {
    session_id: i64,
    statement_id: i64,
}

/// One open server session on one TCP connection.
struct Conn {
    client: RpcClient,
    /// The socket under the session (plain or TLS), for timeouts and shutdown.
    stream: TcpStream,
    endpoint: String,
    ids: Ids,
    /// Counts connections over the session's life, so a result set never
    /// fetches over a newer connection than the one that ran its query.
    generation: u64,
}

fn transport(endpoint: &str, detail: impl fmt::Display) -> ClientError {
    ClientError::Transport {
        endpoint: endpoint.to_string(),
        detail: detail.to_string(),
    }
}

fn protocol(endpoint: &str, detail: impl fmt::Display) -> ClientError {
    ClientError::Protocol {
        endpoint: endpoint.to_string(),
        detail: detail.to_string(),
    }
}

/// An exception reply leaves the stream in step (Protocol); anything else
/// means it may not be, so the connection must go (Transport).
fn classify(endpoint: &str, e: thrift::Error) -> ClientError {
    match e {
        thrift::Error::Application(a) => protocol(endpoint, a),
        other => transport(endpoint, other),
    }
}

fn connect_stream(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("{host} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

impl Conn {
    /// Connects to host `index` and opens a session there. Returns the
    /// server's timestamp precision with the connection.
    fn open(
        cfg: &SessionConfig,
        index: usize,
        generation: u64,
    ) -> Result<(Conn, String), ClientError> {
        let (host, port) = cfg
            .hosts
            .get(index)
            .ok_or_else(|| ClientError::Invalid("no hosts configured".into()))?;
        let endpoint = endpoint_name(host, *port);
        let stream = connect_stream(host, *port, cfg.connect_timeout)
            .map_err(|detail| transport(&endpoint, detail))?;
        let setup = |stream: &TcpStream| -> std::io::Result<TcpStream> {
            stream.set_nodelay(true)?;
            stream.set_read_timeout(cfg.request_timeout)?;
            stream.set_write_timeout(cfg.request_timeout)?;
            stream.try_clone()
        };
        let control = setup(&stream).map_err(|e| transport(&endpoint, e))?;
        let connected = match &cfg.tls {
            Some(tls) => tls
                .connect(stream, host)
                .map_err(|e| transport(&endpoint, e))?,
            None => crate::tls::Connected::plain(stream),
        };
        let (reader, writer) = connected.halves().map_err(|e| transport(&endpoint, e))?;
        let stream = control;
        let mut client = new_client(reader, writer, Protocol::Binary, cfg.max_frame_bytes)
            .map_err(|e| ClientError::Invalid(e.to_string()))?;

        let configuration = [("version", "V_1_0"), ("sql_dialect", "tree")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<std::collections::BTreeMap<_, _>>();
        let req = TSOpenSessionReq::new(
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            cfg.zone_id.clone(),
            cfg.user.clone(),
            cfg.password.clone(),
            configuration,
        );
        let resp = client
            .open_session(req)
            .map_err(|e| classify(&endpoint, e))?;
        check(&resp.status)?;
        if resp.server_protocol_version == TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V1 {
            return Err(protocol(&endpoint, "server speaks protocol V1"));
        }
        let session_id = resp
            .session_id
            .ok_or_else(|| protocol(&endpoint, "openSession reply has no sessionId"))?;
        let precision = resp
            .configuration
            .and_then(|mut c| c.remove("timestamp_precision"))
            .unwrap_or_else(|| "ms".to_string());
        let statement_id = client
            .request_statement_id(session_id)
            .map_err(|e| classify(&endpoint, e))?;
        // Like the Python client, ignore the status: only a failed call fails.
        client
            .set_time_zone(TSSetTimeZoneReq::new(session_id, cfg.zone_id.clone()))
            .map_err(|e| classify(&endpoint, e))?;
        let ids = Ids {
            session_id,
            statement_id,
        };
        Ok((
            Conn {
                client,
                stream,
                endpoint,
                ids,
                generation,
            },
            precision,
        ))
    }
}

/// A session with one server at a time; see the module docs for failover.
pub struct Session {
    cfg: SessionConfig,
    /// Index of the current host, or of the last one that failed.
    host: usize,
    conn: Option<Conn>,
    generation: u64,
    precision: String,
    database: Option<String>,
    closed: bool,
}

/// What a statement produced.
// Returned once per statement and matched at once: boxing the rows buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Outcome<'s> {
    /// A statement without a result set.
    Done,
    /// A result set to read (and close).
    Rows(ResultRows<'s>),
}

impl Session {
    /// Opens a session on the first host that accepts a connection. A
    /// refused login (`Status`, e.g. 801) does not fail over.
    pub fn open(cfg: SessionConfig) -> Result<Session, ClientError> {
        if cfg.hosts.is_empty() {
            return Err(ClientError::Invalid("no hosts configured".into()));
        }
        let mut session = Session {
            cfg,
            host: 0,
            conn: None,
            generation: 0,
            precision: "ms".to_string(),
            database: None,
            closed: false,
        };
        session.connect_from(0)?;
        Ok(session)
    }

    fn connect_from(&mut self, start: usize) -> Result<(), ClientError> {
        let n = self.cfg.hosts.len();
        let mut attempts = Vec::new();
        for k in 0..n {
            let index = (start + k) % n;
            self.generation += 1;
            match Conn::open(&self.cfg, index, self.generation) {
                Ok((conn, precision)) => {
                    self.host = index;
                    self.conn = Some(conn);
                    self.precision = precision;
                    for sql in self.cfg.setup.clone() {
                        self.execute(&sql).map(|_| ())?;
                    }
                    return Ok(());
                }
                Err(ClientError::Transport { endpoint, detail }) => {
                    attempts.push(format!("{endpoint}: {detail}"));
                }
                Err(other) => {
                    self.host = index;
                    return Err(other);
                }
            }
        }
        Err(ClientError::Unreachable { attempts })
    }

    /// The connected server's `host:port`, or `None` between a lost
    /// connection and the next call.
    pub fn endpoint(&self) -> Option<&str> {
        self.conn.as_ref().map(|c| c.endpoint.as_str())
    }

    /// The host the next reconnect tries first.
    pub fn next_endpoint(&self) -> String {
        let n = self.cfg.hosts.len().max(1);
        let next = if self.conn.is_some() {
            self.host
        } else {
            (self.host + 1) % n
        };
        self.cfg
            .hosts
            .get(next)
            .map_or_else(String::new, |(h, p)| endpoint_name(h, *p))
    }

    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// The server's `timestamp_precision` ("ms", "us" or "ns").
    pub fn timestamp_precision(&self) -> &str {
        &self.precision
    }

    /// The database chosen by the last `use` statement, if the server said.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Reconnects now if the last connection was lost, starting with the
    /// next host; does nothing while connected. Every call does this first.
    pub fn ensure_connected(&mut self) -> Result<(), ClientError> {
        if self.closed {
            return Err(ClientError::Invalid("the session is closed".into()));
        }
        if self.conn.is_none() {
            self.connect_from(self.host + 1)?;
        }
        Ok(())
    }

    /// Runs `f` on the current connection, reconnecting first if the last
    /// one was lost (unless `generation` pins a connection). A transport
    /// failure drops the connection.
    fn call<T>(
        &mut self,
        generation: Option<u64>,
        f: impl FnOnce(&mut RpcClient, Ids) -> thrift::Result<T>,
    ) -> Result<T, ClientError> {
        let gone = || ClientError::Invalid("the connection that ran this query was lost".into());
        if generation.is_some() && self.conn.is_none() {
            return Err(gone());
        }
        self.ensure_connected()?;
        let Some(conn) = self.conn.as_mut() else {
            return Err(ClientError::Invalid("not connected".into()));
        };
        if generation.is_some_and(|g| g != conn.generation) {
            return Err(gone());
        }
        match f(&mut conn.client, conn.ids) {
            Ok(v) => Ok(v),
            Err(e) => {
                let err = classify(&conn.endpoint, e);
                if err.is_transport() {
                    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
                    self.conn = None;
                }
                Err(err)
            }
        }
    }

    /// Runs one statement with `executeStatementV2`.
    pub fn execute(&mut self, sql: &str) -> Result<Outcome<'_>, ClientError> {
        let fetch_size = self.cfg.fetch_size;
        let resp = self.call(None, |c, ids| {
            c.execute_statement_v2(TSExecuteStatementReq::new(
                ids.session_id,
                sql.to_string(),
                ids.statement_id,
                fetch_size,
                None,
                None,
                None,
            ))
        })?;
        check(&resp.status)?;
        if let Some(db) = &resp.database {
            self.database = Some(db.clone());
        }
        if resp.columns.as_ref().is_none_or(Vec::is_empty) {
            return Ok(Outcome::Done);
        }
        ResultRows::new(self, sql, resp).map(Outcome::Rows)
    }

    /// Inserts one row of `device` (`insertRecord`); one value per measurement.
    pub fn insert_record<S: AsRef<str>>(
        &mut self,
        device: &str,
        time: i64,
        measurements: &[S],
        values: &[Value],
    ) -> Result<(), ClientError> {
        if measurements.len() != values.len() {
            return Err(ClientError::Invalid(format!(
                "{} measurements but {} values",
                measurements.len(),
                values.len()
            )));
        }
        let bytes =
            encode_record_values(values).map_err(|e| ClientError::Invalid(e.to_string()))?;
        let measurements: Vec<String> = measurements.iter().map(|m| m.as_ref().into()).collect();
        let status = self.call(None, |c, ids| {
            c.insert_record(TSInsertRecordReq::new(
                ids.session_id,
                device.to_string(),
                measurements,
                bytes,
                time,
                None,
                None,
                None,
            ))
        })?;
        check(&status)
    }

    /// Inserts the rows of `tablet` into `device` (`insertTablet`), sorted by
    /// time first as IoTDB's clients do.
    pub fn insert_tablet<S: AsRef<str>>(
        &mut self,
        device: &str,
        measurements: &[S],
        tablet: &Tablet,
    ) -> Result<(), ClientError> {
        if measurements.len() != tablet.columns.len() {
            return Err(ClientError::Invalid(format!(
                "{} measurements but {} columns",
                measurements.len(),
                tablet.columns.len()
            )));
        }
        let sorted;
        let tablet = if tablet.timestamps.is_sorted() {
            tablet
        } else {
            sorted = sort_tablet(tablet);
            &sorted
        };
        let enc = encode_tablet(tablet).map_err(|e| ClientError::Invalid(e.to_string()))?;
        let measurements: Vec<String> = measurements.iter().map(|m| m.as_ref().into()).collect();
        let status = self.call(None, |c, ids| {
            c.insert_tablet(TSInsertTabletReq::new(
                ids.session_id,
                device.to_string(),
                measurements,
                enc.values,
                enc.timestamps,
                enc.types,
                enc.size,
                None,
                None,
                None,
                None,
                None,
                None,
            ))
        })?;
        check(&status)
    }

    /// Ends the session (`closeSession`; like IoTDB's clients, its status is
    /// ignored). Dropping a session does the same, best effort.
    pub fn close(mut self) -> Result<(), ClientError> {
        self.close_inner()
    }

    fn close_inner(&mut self) -> Result<(), ClientError> {
        self.closed = true;
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let timeout = self
            .cfg
            .request_timeout
            .map_or(CLOSE_TIMEOUT, |t| t.min(CLOSE_TIMEOUT));
        let _ = conn.stream.set_read_timeout(Some(timeout));
        let result = conn
            .client
            .close_session(TSCloseSessionReq::new(conn.ids.session_id))
            .map(drop)
            .map_err(|e| classify(&conn.endpoint, e));
        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        result
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.close_inner();
    }
}

/// A copy of `tablet` with its rows in timestamp order.
fn sort_tablet(tablet: &Tablet) -> Tablet {
    let mut order: Vec<usize> = (0..tablet.timestamps.len()).collect();
    order.sort_by_key(|&i| tablet.timestamps.get(i).copied());
    fn pick<T: Clone>(v: &[Option<T>], order: &[usize]) -> Vec<Option<T>> {
        order.iter().map(|&i| v.get(i).cloned().flatten()).collect()
    }
    let columns = tablet
        .columns
        .iter()
        .map(|c| match c {
            Column::Bool(v) => Column::Bool(pick(v, &order)),
            Column::I32(v) => Column::I32(pick(v, &order)),
            Column::I64(v) => Column::I64(pick(v, &order)),
            Column::F32(v) => Column::F32(pick(v, &order)),
            Column::F64(v) => Column::F64(pick(v, &order)),
            Column::Text(v) => Column::Text(pick(v, &order)),
            Column::Timestamp(v) => Column::Timestamp(pick(v, &order)),
            Column::Date(v) => Column::Date(pick(v, &order)),
            Column::Blob(v) => Column::Blob(pick(v, &order)),
            Column::Str(v) => Column::Str(pick(v, &order)),
        })
        .collect();
    let timestamps = order
        .iter()
        .filter_map(|&i| tablet.timestamps.get(i).copied())
        .collect();
    Tablet {
        timestamps,
        columns,
    }
}

mod rows;
pub use rows::{Field, ResultRows};

#[cfg(test)]
mod tests;

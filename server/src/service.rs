//! The RPC handler: IoTDB's `IClientRPCService` over Duet's executor and
//! engine. One handler per connection, because IoTDB clients key their
//! session by connection (fetch and close arrive with session and statement
//! ids swapped, so queries are looked up by query id within the connection).

use crate::convert::{self, status_of};
use crate::metrics::Metrics;
use duet_engine::labels::NewLabels;
use duet_engine::privileges::{Access, Privilege};
use duet_engine::{Engine, WriteSeries};
use duet_executor::{auth, Executor, Output, ResultSet, Row, RowStream, Session};
use duet_rpc::generated::*;
use duet_rpc::status::{self, error_status, ok_status, statement_resp};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

/// What all connections share.
pub struct Shared {
    pub exec: Executor,
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    pub default_fetch_size: usize,
    /// `query.timeout_ms` (0: none).
    pub query_timeout_ms: u64,
    /// The most one result page holds, in (estimated) bytes.
    pub page_bytes: usize,
    pub max_open_queries: usize,
    pub max_request_memory_bytes: u64,
    /// `rpc.max_frame_bytes`, announced to pipe senders.
    pub max_frame_bytes: u32,
    /// This node's pipes: how it reaches each peer node, which a peer's
    /// TLS certificate must name (see `handle_pipe_transfer`).
    pub pipes: Option<Arc<duet_pipe::PipeManager>>,
    next_id: AtomicI64,
    /// Failed logins per address: (count, first in the current minute).
    login_failures: Mutex<std::collections::HashMap<std::net::IpAddr, (u32, std::time::Instant)>>,
}

/// Failed logins an address may make per minute before its logins are
/// refused for the rest of that minute.
const LOGIN_FAILURES_PER_MINUTE: u32 = 5;

impl Shared {
    pub fn new(
        exec: Executor,
        metrics: Arc<Metrics>,
        default_fetch_size: usize,
        page_bytes: usize,
        max_open_queries: usize,
        max_request_memory_bytes: u64,
        max_frame_bytes: u32,
    ) -> Self {
        let engine = exec.engine().clone();
        Shared {
            exec,
            engine,
            metrics,
            default_fetch_size,
            query_timeout_ms: 60_000,
            page_bytes,
            max_open_queries,
            max_request_memory_bytes,
            max_frame_bytes,
            pipes: None,
            next_id: AtomicI64::new(1),
            login_failures: Mutex::default(),
        }
    }

    pub fn with_pipes(mut self, pipes: Arc<duet_pipe::PipeManager>) -> Self {
        self.pipes = Some(pipes);
        self
    }

    /// The hosts this node's own pipes reach node `node` at.
    fn hosts_of(&self, node: u32) -> Vec<String> {
        let Some(p) = &self.pipes else {
            return Vec::new();
        };
        p.list()
            .into_iter()
            .filter(|i| i.peer_node_id == Some(node))
            .filter_map(|i| i.peer_address)
            .filter_map(|a| {
                a.rsplit_once(':')
                    .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_string())
            })
            .collect()
    }

    /// `query.timeout_ms` (0: no limit).
    pub fn with_query_timeout_ms(mut self, ms: u64) -> Self {
        self.query_timeout_ms = ms;
        self
    }

    /// Seconds an address must still wait before it may try to log in.
    fn login_blocked(&self, ip: std::net::IpAddr) -> Option<u64> {
        let mut f = self.login_failures.lock();
        let (count, since) = *f.get(&ip)?;
        let age = since.elapsed();
        if age >= std::time::Duration::from_secs(60) {
            f.remove(&ip);
            return None;
        }
        (count >= LOGIN_FAILURES_PER_MINUTE).then(|| 60 - age.as_secs())
    }

    fn login_failed(&self, ip: std::net::IpAddr) {
        let mut f = self.login_failures.lock();
        if f.len() > 100_000 {
            // A flood of addresses: forget the old ones.
            f.retain(|_, (_, since)| since.elapsed() < std::time::Duration::from_secs(60));
        }
        let e = f.entry(ip).or_insert((0, std::time::Instant::now()));
        if e.1.elapsed() >= std::time::Duration::from_secs(60) {
            *e = (0, std::time::Instant::now());
        }
        e.0 += 1;
    }

    fn next_id(&self) -> i64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

struct OpenQuery {
    rows: RowStream,
    /// A row read ahead to know whether more data follows.
    peeked: Option<Row>,
    columns: Vec<duet_executor::ColumnInfo>,
}

#[derive(Default)]
struct ConnState {
    session: Option<(i64, Session, String)>,
    /// Open queries by id; the oldest is closed when there are too many.
    queries: BTreeMap<i64, OpenQuery>,
    /// A pipe sink's handshake on this connection.
    receiver: duet_pipe::receiver::ReceiverState,
}

pub struct ConnHandler {
    shared: Arc<Shared>,
    state: Mutex<ConnState>,
    /// Set while the connection has a session or a pipe handshake: the
    /// connection loop reads it to lift the pre-login frame limit.
    logged_in: Arc<AtomicBool>,
    /// Where the connection comes from (login attempts are counted by it).
    peer: Option<std::net::IpAddr>,
    /// The client certificate the connection presented (TLS), verified
    /// against `tls.ca_file`.
    cert: Option<crate::tls::PeerCert>,
}

impl ConnHandler {
    pub fn new(
        shared: Arc<Shared>,
        logged_in: Arc<AtomicBool>,
        peer: Option<std::net::IpAddr>,
    ) -> Self {
        shared.metrics.sessions_open.inc();
        let max_frame_bytes = shared.max_frame_bytes;
        ConnHandler {
            shared,
            state: Mutex::new(ConnState {
                receiver: duet_pipe::receiver::ReceiverState {
                    max_frame_bytes,
                    ..Default::default()
                },
                ..Default::default()
            }),
            logged_in,
            peer,
            cert: None,
        }
    }

    /// The connection's verified client certificate: a pipe handshake's
    /// node id is then held to it.
    pub fn with_cert(mut self, cert: Option<crate::tls::PeerCert>) -> Self {
        self.cert = cert;
        self
    }

    /// A TLS pipe handshake says which node it comes from; when this node
    /// reaches that node through a pipe of its own, the certificate must
    /// name the host it reaches it at (else one certificate from the CA
    /// could speak for any node). `None`: nothing to hold it to, or it
    /// holds.
    fn certificate_refuses(&self, body: &[u8]) -> Option<String> {
        let cert = self.cert.as_ref()?;
        let params = duet_pipe::wire::decode_params(body).ok()?;
        let node: u32 = params.get(duet_pipe::wire::KEY_NODE_ID)?.parse().ok()?;
        let hosts = self.shared.hosts_of(node);
        if hosts.is_empty() || hosts.iter().any(|h| cert.names(h)) {
            return None;
        }
        Some(format!(
            "pipe refused: the handshake says it comes from node {node}, which this node reaches \
             at {}, but the connection's certificate names {:?}: a node's certificate must name \
             the host its peer reaches it at",
            hosts.join(", "),
            cert.dns_names()
        ))
    }

    fn session(&self) -> Result<Session, TSStatus> {
        match &self.state.lock().session {
            Some((_, s, _)) => Ok(s.clone()),
            None => Err(error_status(
                status::NOT_LOGIN,
                "not logged in: call openSession first",
            )),
        }
    }

    fn run_statement(
        &self,
        sql: &str,
        fetch_size: Option<i32>,
        timeout_ms: Option<i64>,
    ) -> TSExecuteStatementResp {
        self.run(fetch_size, timeout_ms, |exec, session| {
            exec.execute_sql(session, sql)
        })
    }

    /// A statement the RPC built itself (raw and last data queries).
    fn run_parsed(
        &self,
        stmt: &duet_parser::Statement,
        fetch_size: Option<i32>,
        timeout_ms: Option<i64>,
    ) -> TSExecuteStatementResp {
        self.run(fetch_size, timeout_ms, |exec, session| {
            exec.execute(session, stmt)
        })
    }

    fn run(
        &self,
        fetch_size: Option<i32>,
        timeout_ms: Option<i64>,
        exec: impl FnOnce(&duet_executor::Executor, &Session) -> duet_executor::Result<Output>,
    ) -> TSExecuteStatementResp {
        let mut session = match self.session() {
            Ok(s) => s,
            Err(st) => return statement_resp(st),
        };
        // The client's timeout for this request, else the session's
        // (SET QUERY_TIMEOUT), else the node's.
        let limit = match timeout_ms {
            Some(ms) if ms > 0 => ms as u64,
            _ => session
                .query_timeout_ms
                .unwrap_or(self.shared.query_timeout_ms),
        };
        session.deadline = (limit > 0).then(|| {
            let d = std::time::Duration::from_millis(limit);
            (std::time::Instant::now() + d, d)
        });
        self.shared.metrics.statements.inc();
        let out = match exec(&self.shared.exec, &session) {
            Ok(out) => out,
            Err(e) => {
                self.shared.metrics.statement_errors.inc();
                tracing::debug!("statement failed: {e}");
                return statement_resp(status_of(&e));
            }
        };
        match out {
            Output::Done => statement_resp(ok_status()),
            Output::Rows(rs) => self.start_query(rs, self.fetch_size(fetch_size)),
            Output::SetReadMode(mode) => {
                if let Some((_, s, _)) = &mut self.state.lock().session {
                    s.read_mode = mode;
                }
                statement_resp(ok_status())
            }
            Output::SetQueryTimeout(ms) => {
                if let Some((_, s, _)) = &mut self.state.lock().session {
                    s.query_timeout_ms = ms;
                }
                statement_resp(ok_status())
            }
        }
    }

    fn fetch_size(&self, requested: Option<i32>) -> usize {
        match requested {
            // The Python client's execute_statement sends 0 (a client bug): use the default.
            Some(n) if n > 0 => (n as usize).min(1_000_000),
            _ => self.shared.default_fetch_size,
        }
    }

    fn start_query(&self, rs: ResultSet, fetch_size: usize) -> TSExecuteStatementResp {
        let ResultSet {
            has_time,
            columns,
            rows,
            warning,
        } = rs;
        let mut q = OpenQuery {
            rows,
            peeked: None,
            columns,
        };
        let page = match self.next_page(&mut q, fetch_size) {
            Ok(p) => p,
            Err(st) => return statement_resp(st),
        };
        let names: Vec<String> = q.columns.iter().map(|c| c.name.clone()).collect();
        let types: Vec<String> = q
            .columns
            .iter()
            .map(|c| c.data_type.name().to_string())
            .collect();
        let index: BTreeMap<String, i32> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as i32))
            .collect();
        let query_id = self.shared.next_id();
        let more = page.more;
        if more {
            let mut st = self.state.lock();
            st.queries.insert(query_id, q);
            while st.queries.len() > self.shared.max_open_queries {
                st.queries.pop_first();
            }
        }
        let mut status = ok_status();
        if let Some(w) = warning {
            // IoTDB clients show a success status's message, if any.
            crate::net::warn_limited(crate::net::Warn::Query, &w);
            status.message = Some(w);
        }
        let mut resp = statement_resp(status);
        resp.query_id = Some(query_id);
        resp.columns = Some(names);
        resp.data_type_list = Some(types);
        resp.column_name_index_map = Some(index);
        resp.ignore_time_stamp = Some(!has_time);
        resp.query_result = Some(page.blocks);
        resp.more_data = Some(more);
        resp
    }

    /// Decodes an insert request for a logged-in session, within the
    /// request's memory budget, and writes it.
    fn insert(
        &self,
        build: impl FnOnce(&mut convert::Budget) -> Result<Vec<WriteSeries>, TSStatus>,
    ) -> TSStatus {
        let session = match self.authorized() {
            Ok(s) => s,
            Err(st) => return st,
        };
        // A user who may write nothing is refused before its request costs
        // the node any decoding (the budget below is for users who may).
        if !session.access.reaches(Privilege::WriteData, "root") {
            self.shared.metrics.statement_errors.inc();
            return status_of(&auth::denied(Privilege::WriteData, &["root.**".into()]));
        }
        let mut budget = convert::Budget::new(self.shared.max_request_memory_bytes);
        let series = match build(&mut budget) {
            Ok(s) => s,
            Err(st) => {
                self.shared.metrics.statement_errors.inc();
                return st;
            }
        };
        if let Err(e) = auth::check_write(
            &self.shared.engine,
            &session.access,
            series.iter().map(|s| s.path.as_str()),
        ) {
            self.shared.metrics.statement_errors.inc();
            return status_of(&e);
        }
        let points: usize = series.iter().map(|s| s.times.len()).sum();
        match self.shared.engine.write(series) {
            Ok(_) => {
                self.shared.metrics.points_written.inc_by(points as u64);
                ok_status()
            }
            Err(e) => {
                self.shared.metrics.statement_errors.inc();
                status_of(&e.into())
            }
        }
    }
}

impl ConnHandler {
    /// The session with what its user may do now.
    fn authorized(&self) -> Result<Session, TSStatus> {
        let session = self.session()?;
        self.shared
            .exec
            .authorize(&session)
            .map_err(|e| status_of(&e))
    }

    /// Why this connection's address may not try a login now (counted as a
    /// refused login): openSession and pipe handshakes share the limit.
    fn login_refused_for_now(&self) -> Option<String> {
        let wait = self.peer.and_then(|ip| self.shared.login_blocked(ip))?;
        self.shared.metrics.auth_failures.inc();
        Some(format!(
            "too many failed logins from this address: try again in {wait} s"
        ))
    }

    /// A wrong user name or password from this connection: counted, and
    /// towards its address's limit.
    fn count_failed_login(&self) {
        self.shared.metrics.auth_failures.inc();
        if let Some(ip) = self.peer {
            self.shared.login_failed(ip);
        }
    }

    /// Runs an engine call for a logged-in session whose privileges pass
    /// `check`, and maps its error.
    fn schema_call(
        &self,
        check: impl FnOnce(&Access) -> duet_executor::Result<()>,
        f: impl FnOnce(&Engine) -> duet_engine::Result<()>,
    ) -> TSStatus {
        let session = match self.authorized() {
            Ok(s) => s,
            Err(st) => return st,
        };
        if let Err(e) = check(&session.access) {
            self.shared.metrics.statement_errors.inc();
            return status_of(&e);
        }
        match f(&self.shared.engine) {
            Ok(()) => ok_status(),
            Err(e) => {
                self.shared.metrics.statement_errors.inc();
                status_of(&e.into())
            }
        }
    }

    fn create_many(
        &self,
        paths: &[String],
        types: &[i32],
        encodings: &[i32],
        compressors: &[i32],
        labels: Vec<NewLabels>,
    ) -> TSStatus {
        if types.len() != paths.len()
            || encodings.len() != paths.len()
            || compressors.len() != paths.len()
            || labels.len() != paths.len()
        {
            return error_status(
                status::ILLEGAL_PARAMETER,
                "paths, data types, encodings, compressors, aliases, tags and attributes \
                 differ in length",
            );
        }
        let mut defs = Vec::with_capacity(paths.len());
        for i in 0..paths.len() {
            match convert::series_def(types[i], encodings[i], compressors[i]) {
                Ok(d) => defs.push(d),
                Err(st) => return st,
            }
        }
        self.schema_call(
            |a| {
                paths
                    .iter()
                    .try_for_each(|p| auth::need(a, Privilege::WriteSchema, p))
            },
            |e| {
                paths
                    .iter()
                    .zip(defs)
                    .zip(&labels)
                    .try_for_each(|((p, (t, enc, comp)), l)| {
                        e.create_timeseries(p, t, Some(enc), Some(comp), l)
                    })
            },
        )
    }
}

impl Drop for ConnHandler {
    fn drop(&mut self) {
        self.shared.metrics.sessions_open.dec();
    }
}

struct Page {
    blocks: Vec<Vec<u8>>,
    more: bool,
}

impl ConnHandler {
    /// Up to `n` rows as one TsBlock, no more than `page_bytes` of them
    /// (at least one row), and whether rows remain.
    fn next_page(&self, q: &mut OpenQuery, n: usize) -> Result<Page, TSStatus> {
        let max_bytes = self.shared.page_bytes;
        let mut rows = Vec::with_capacity(n.min(4096));
        let mut bytes = 0;
        if let Some(r) = q.peeked.take() {
            bytes += row_bytes(&r);
            rows.push(r);
        }
        while rows.len() < n && bytes < max_bytes {
            match q.rows.next() {
                Some(Ok(r)) => {
                    bytes += row_bytes(&r);
                    rows.push(r);
                }
                Some(Err(e)) => return Err(status_of(&e)),
                None => break,
            }
        }
        if rows.len() == n || bytes >= max_bytes {
            match q.rows.next() {
                Some(Ok(r)) => q.peeked = Some(r),
                Some(Err(e)) => return Err(status_of(&e)),
                None => {}
            }
        }
        let more = q.peeked.is_some();
        if more && rows.len() < n {
            self.shared.metrics.query_pages_cut.inc();
        }
        let blocks = if rows.is_empty() {
            Vec::new()
        } else {
            vec![convert::tsblock(&q.columns, &rows)?]
        };
        Ok(Page { blocks, more })
    }
}

/// About what a row takes in a TsBlock: its time, each value and a null
/// flag per column.
fn row_bytes(r: &Row) -> usize {
    use duet_engine::Value;
    8 + r
        .values
        .iter()
        .map(|v| {
            1 + match v {
                None => 0,
                Some(Value::Bool(_)) => 1,
                Some(Value::I32(_) | Value::F32(_) | Value::Date(_)) => 4,
                Some(Value::I64(_) | Value::F64(_) | Value::Timestamp(_)) => 8,
                Some(Value::Text(s) | Value::Str(s)) => 4 + s.len(),
                Some(Value::Blob(b)) => 4 + b.len(),
            }
        })
        .sum::<usize>()
}

type TResult<T> = thrift::Result<T>;

impl IClientRPCServiceSyncHandler for ConnHandler {
    fn handle_open_session(&self, req: TSOpenSessionReq) -> TResult<TSOpenSessionResp> {
        let password = req.password.clone().unwrap_or_default();
        let v3 = TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3;
        if let Some(why) = self.login_refused_for_now() {
            let st = error_status(status::WRONG_LOGIN_PASSWORD, why);
            return Ok(TSOpenSessionResp::new(st, v3, None, None));
        }
        if let Err(e) = self.shared.engine.authenticate(&req.username, &password) {
            self.count_failed_login();
            let user: String = req.username.chars().take(64).collect();
            crate::net::warn_limited(
                crate::net::Warn::Login,
                &format!("login refused for user {user:?} from {:?}", self.peer),
            );
            return Ok(TSOpenSessionResp::new(
                error_status(status::WRONG_LOGIN_PASSWORD, e.to_string()),
                v3,
                None,
                None,
            ));
        }
        if req
            .configuration
            .as_ref()
            .and_then(|c| c.get("sql_dialect"))
            .is_some_and(|d| d == "table")
        {
            let st = error_status(
                status::UNSUPPORTED_OPERATION,
                "Duet speaks the tree model only (sql_dialect=tree)",
            );
            return Ok(TSOpenSessionResp::new(st, v3, None, None));
        }
        let id = self.shared.next_id();
        let offset = convert::zone_offset_minutes(&req.zone_id);
        let session = Session {
            user: req.username.clone(),
            utc_offset_minutes: offset,
            // Settings a statement may change start at their defaults;
            // what the user may do is read for each statement.
            ..Session::default()
        };
        let mut st = self.state.lock();
        st.session = Some((id, session, req.zone_id.clone()));
        st.queries.clear();
        self.logged_in.store(true, Ordering::Release);
        let config = BTreeMap::from([("timestamp_precision".to_string(), "ms".to_string())]);
        Ok(TSOpenSessionResp::new(ok_status(), v3, id, config))
    }

    fn handle_close_session(&self, _req: TSCloseSessionReq) -> TResult<TSStatus> {
        let mut st = self.state.lock();
        st.session = None;
        st.queries.clear();
        self.logged_in
            .store(st.receiver.peer.is_some(), Ordering::Release);
        Ok(ok_status())
    }

    fn handle_request_statement_id(&self, _session_id: i64) -> TResult<i64> {
        Ok(self.shared.next_id())
    }

    fn handle_set_time_zone(&self, req: TSSetTimeZoneReq) -> TResult<TSStatus> {
        let mut st = self.state.lock();
        match &mut st.session {
            Some((_, s, zone)) => {
                s.utc_offset_minutes = convert::zone_offset_minutes(&req.time_zone);
                *zone = req.time_zone;
                Ok(ok_status())
            }
            None => Ok(error_status(status::NOT_LOGIN, "not logged in")),
        }
    }

    fn handle_get_time_zone(&self, _session_id: i64) -> TResult<TSGetTimeZoneResp> {
        let zone = self
            .state
            .lock()
            .session
            .as_ref()
            .map(|s| s.2.clone())
            .unwrap_or_else(|| "UTC".into());
        Ok(TSGetTimeZoneResp::new(ok_status(), zone))
    }

    fn handle_execute_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> TResult<TSExecuteStatementResp> {
        Ok(self.run_statement(&req.statement, req.fetch_size, req.timeout))
    }

    fn handle_execute_query_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> TResult<TSExecuteStatementResp> {
        Ok(self.run_statement(&req.statement, req.fetch_size, req.timeout))
    }

    fn handle_execute_update_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> TResult<TSExecuteStatementResp> {
        Ok(self.run_statement(&req.statement, req.fetch_size, req.timeout))
    }

    fn handle_execute_raw_data_query_v2(
        &self,
        req: TSRawDataQueryReq,
    ) -> TResult<TSExecuteStatementResp> {
        let stmt = match convert::raw_data_query(&req.paths, req.start_time, req.end_time) {
            Ok(stmt) => stmt,
            Err(st) => return Ok(statement_resp(st)),
        };
        Ok(self.run_parsed(&stmt, req.fetch_size, req.timeout))
    }

    fn handle_execute_last_data_query_v2(
        &self,
        req: TSLastDataQueryReq,
    ) -> TResult<TSExecuteStatementResp> {
        let stmt = match convert::last_data_query(&req.paths, req.time) {
            Ok(stmt) => stmt,
            Err(st) => return Ok(statement_resp(st)),
        };
        Ok(self.run_parsed(&stmt, req.fetch_size, req.timeout))
    }

    fn handle_fetch_results_v2(&self, req: TSFetchResultsReq) -> TResult<TSFetchResultsResp> {
        let n = self.fetch_size(Some(req.fetch_size));
        let mut st = self.state.lock();
        let Some(q) = st.queries.get_mut(&req.query_id) else {
            // Finished (the last page said moreData=false) or closed: no result set.
            return Ok(TSFetchResultsResp::new(
                ok_status(),
                false,
                true,
                None,
                None,
                false,
            ));
        };
        match self.next_page(q, n) {
            Ok(page) => {
                if !page.more {
                    st.queries.remove(&req.query_id);
                }
                let has = !page.blocks.is_empty();
                Ok(TSFetchResultsResp::new(
                    ok_status(),
                    has,
                    true,
                    None,
                    page.blocks,
                    page.more,
                ))
            }
            Err(e) => {
                st.queries.remove(&req.query_id);
                Ok(TSFetchResultsResp::new(e, false, true, None, None, false))
            }
        }
    }

    fn handle_close_operation(&self, req: TSCloseOperationReq) -> TResult<TSStatus> {
        if let Some(id) = req.query_id {
            self.state.lock().queries.remove(&id);
        }
        Ok(ok_status())
    }

    fn handle_insert_record(&self, req: TSInsertRecordReq) -> TResult<TSStatus> {
        Ok(self.insert(|b| {
            convert::record(
                &req.prefix_path,
                &req.measurements,
                &req.values,
                req.timestamp,
                b,
            )
        }))
    }

    fn handle_insert_records(&self, req: TSInsertRecordsReq) -> TResult<TSStatus> {
        Ok(self.insert(|b| {
            convert::records(
                convert::Devices::PerRecord(&req.prefix_paths),
                &req.measurements_list,
                &req.values_list,
                &req.timestamps,
                b,
            )
        }))
    }

    fn handle_insert_records_of_one_device(
        &self,
        req: TSInsertRecordsOfOneDeviceReq,
    ) -> TResult<TSStatus> {
        Ok(self.insert(|b| {
            convert::records(
                convert::Devices::One(&req.prefix_path),
                &req.measurements_list,
                &req.values_list,
                &req.timestamps,
                b,
            )
        }))
    }

    fn handle_insert_string_record(&self, req: TSInsertStringRecordReq) -> TResult<TSStatus> {
        Ok(self.insert(|b| {
            convert::string_record(
                &self.shared.engine,
                &req.prefix_path,
                &req.measurements,
                &req.values,
                req.timestamp,
                b,
            )
        }))
    }

    fn handle_insert_string_records_of_one_device(
        &self,
        req: TSInsertStringRecordsOfOneDeviceReq,
    ) -> TResult<TSStatus> {
        Ok(self.insert(|b| {
            convert::string_records(
                &self.shared.engine,
                convert::Devices::One(&req.prefix_path),
                &req.measurements_list,
                &req.values_list,
                &req.timestamps,
                b,
            )
        }))
    }

    fn handle_insert_string_records(&self, req: TSInsertStringRecordsReq) -> TResult<TSStatus> {
        Ok(self.insert(|b| {
            convert::string_records(
                &self.shared.engine,
                convert::Devices::PerRecord(&req.prefix_paths),
                &req.measurements_list,
                &req.values_list,
                &req.timestamps,
                b,
            )
        }))
    }

    fn handle_insert_tablet(&self, req: TSInsertTabletReq) -> TResult<TSStatus> {
        let mut req = req;
        Ok(self.insert(|b| {
            let encoded = duet_rpc::insert::EncodedTablet::take_from(&mut req)
                .map_err(|e| error_status(status::ILLEGAL_PARAMETER, format!("bad {e}")))?;
            convert::tablet(&req.prefix_path, &req.measurements, encoded, b)
        }))
    }

    fn handle_insert_tablets(&self, req: TSInsertTabletsReq) -> TResult<TSStatus> {
        Ok(self.insert(|b| convert::tablets(req, b)))
    }

    fn handle_set_storage_group(
        &self,
        _session_id: i64,
        storage_group: String,
    ) -> TResult<TSStatus> {
        Ok(self.schema_call(
            |a| auth::need_global(a, Privilege::ManageDatabase),
            |e| e.create_database(&storage_group, None),
        ))
    }

    fn handle_delete_storage_groups(
        &self,
        _session_id: i64,
        storage_group: Vec<String>,
    ) -> TResult<TSStatus> {
        Ok(self.schema_call(
            |a| auth::need_global(a, Privilege::ManageDatabase),
            |e| storage_group.iter().try_for_each(|db| e.drop_database(db)),
        ))
    }

    fn handle_create_timeseries(&self, req: TSCreateTimeseriesReq) -> TResult<TSStatus> {
        Ok(
            match convert::series_def(req.data_type, req.encoding, req.compressor) {
                Ok((t, enc, comp)) => {
                    let labels = NewLabels {
                        alias: req.measurement_alias.clone(),
                        tags: req.tags.clone().unwrap_or_default().into_iter().collect(),
                        attributes: req
                            .attributes
                            .clone()
                            .unwrap_or_default()
                            .into_iter()
                            .collect(),
                    };
                    self.schema_call(
                        |a| auth::need(a, Privilege::WriteSchema, &req.path),
                        |e| e.create_timeseries(&req.path, t, Some(enc), Some(comp), &labels),
                    )
                }
                Err(st) => st,
            },
        )
    }

    fn handle_create_aligned_timeseries(
        &self,
        req: TSCreateAlignedTimeseriesReq,
    ) -> TResult<TSStatus> {
        // Logged in first, and every path checked for size and charged to
        // the request's budget before it is built: a long prefix times many
        // measurements must cost the sender, not the node.
        if let Err(st) = self.authorized() {
            return Ok(st);
        }
        let mut budget = convert::Budget::new(self.shared.max_request_memory_bytes);
        let paths = match convert::aligned_paths(&req.prefix_path, &req.measurements, &mut budget) {
            Ok(p) => p,
            Err(st) => {
                self.shared.metrics.statement_errors.inc();
                return Ok(st);
            }
        };
        let labels = match convert::new_labels(
            paths.len(),
            req.measurement_alias,
            req.tags_list,
            req.attributes_list,
        ) {
            Ok(l) => l,
            Err(st) => return Ok(st),
        };
        Ok(self.create_many(
            &paths,
            &req.data_types,
            &req.encodings,
            &req.compressors,
            labels,
        ))
    }

    fn handle_create_multi_timeseries(&self, req: TSCreateMultiTimeseriesReq) -> TResult<TSStatus> {
        let labels = match convert::new_labels(
            req.paths.len(),
            req.measurement_alias_list,
            req.tags_list,
            req.attributes_list,
        ) {
            Ok(l) => l,
            Err(st) => return Ok(st),
        };
        Ok(self.create_many(
            &req.paths,
            &req.data_types,
            &req.encodings,
            &req.compressors,
            labels,
        ))
    }

    fn handle_delete_timeseries(&self, _session_id: i64, path: Vec<String>) -> TResult<TSStatus> {
        Ok(self.schema_call(
            |a| {
                path.iter()
                    .try_for_each(|p| auth::need(a, Privilege::WriteSchema, p))
            },
            |e| e.delete_timeseries(&path).map(|_| ()),
        ))
    }

    fn handle_delete_data(&self, req: TSDeleteDataReq) -> TResult<TSStatus> {
        Ok(self.schema_call(
            |a| {
                req.paths
                    .iter()
                    .try_for_each(|p| auth::need(a, Privilege::WriteData, p))
            },
            |e| {
                e.delete_points(&req.paths, req.start_time, req.end_time)
                    .map(|_| ())
            },
        ))
    }

    fn handle_test_connection_empty_r_p_c(&self) -> TResult<TSStatus> {
        Ok(ok_status())
    }

    fn handle_pipe_transfer(&self, req: TPipeTransferReq) -> TResult<TPipeTransferResp> {
        let handshake = matches!(
            req.type_,
            duet_pipe::wire::HANDSHAKE_DATANODE_V1 | duet_pipe::wire::HANDSHAKE_DATANODE_V2
        );
        if handshake {
            // A handshake carries a password: guessing through it is held to
            // the same limit per address as openSession.
            if let Some(why) = self.login_refused_for_now() {
                // Temporary, so a good pipe from this address retries later
                // instead of stopping for what another sender did.
                let st = error_status(status::PIPE_RECEIVER_TEMPORARY_UNAVAILABLE_EXCEPTION, why);
                return Ok(TPipeTransferResp::new(st, None));
            }
        }
        if req.type_ == duet_pipe::wire::HANDSHAKE_DATANODE_V2 {
            if let Some(why) = self.certificate_refuses(&req.body) {
                crate::net::warn_limited(
                    crate::net::Warn::Login,
                    &format!("{why} (from {:?})", self.peer),
                );
                let st = error_status(status::PIPE_HANDSHAKE_ERROR, why);
                return Ok(TPipeTransferResp::new(st, None));
            }
        }
        let mut st = self.state.lock();
        let reply = duet_pipe::receiver::handle(
            &self.shared.engine,
            &mut st.receiver,
            req.type_,
            &req.body,
        );
        if st.receiver.peer.is_some() {
            self.logged_in.store(true, Ordering::Release);
        }
        if reply.credentials_refused {
            self.count_failed_login();
        }
        if reply.code != status::SUCCESS_STATUS {
            // Names and values a peer sent: escaped, cut and rate-limited.
            let kind = if handshake {
                crate::net::Warn::Login
            } else {
                crate::net::Warn::Pipe
            };
            crate::net::warn_limited(
                kind,
                &format!(
                    "pipe request from {:?} refused ({}): {}",
                    self.peer, reply.code, reply.message
                ),
            );
        }
        let st = if reply.code == status::SUCCESS_STATUS {
            ok_status()
        } else {
            error_status(reply.code, reply.message)
        };
        Ok(TPipeTransferResp::new(st, reply.body))
    }
}

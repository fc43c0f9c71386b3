//! The thrift sink: a connection to the peer's RPC port (addresses tried in
//! order, host names resolved at every connect), TLS if the pipe asks for
//! it, a handshake, then batches. Blocking; the pipe task runs it on a
//! blocking thread.

use crate::config::{SinkConfig, SinkKind};
use crate::error::SendError;
use crate::wire::*;
use duet_rpc::client::endpoint_name;
use duet_rpc::frame::Protocol;
use duet_rpc::generated::{TIClientRPCServiceSyncClient, TPipeTransferReq};
use duet_rpc::service::{new_client, RpcClient};
use duet_rpc::status;
use duet_rpc::tls::{Connected, HandshakeError, TlsClient};
use std::collections::BTreeMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Who the sending node is.
#[derive(Debug, Clone)]
pub struct LocalIdentity {
    pub node_id: u32,
    pub cluster_id: String,
    /// The sending pipe, `name#incarnation`.
    pub stream: String,
    /// Refuse a peer whose clock is further off than this.
    pub max_clock_skew_ms: u64,
    /// The node's `[tls]` files: a TLS sink's defaults.
    pub tls: Option<crate::tls::NodeTls>,
    /// The pipe sends only this node's own changes (said in the handshake,
    /// so the receiver can hold it to that).
    pub local_only: bool,
}

pub struct Sink {
    cfg: SinkConfig,
    request_timeout: Duration,
    local: LocalIdentity,
    conn: Option<(RpcClient, String)>,
    /// The TLS settings, loaded at the first connect.
    tls: Option<TlsClient>,
    /// Index of the address to try first.
    next_url: usize,
    /// The peer's node id, learned at handshake.
    pub peer_node_id: Option<u32>,
    /// The receiver's mark for this node's stream, learned at handshake.
    pub peer_mark: Option<duet_engine::Mark>,
    /// Handshakes completed: a new one means a new connection, whose mark
    /// the task checks before it sends.
    pub handshakes: u64,
    /// The peer's clock minus this node's, measured at the last handshake.
    pub peer_clock_offset_ms: Option<i64>,
    /// The largest frame the peer reads, announced at the handshake.
    pub peer_max_frame_bytes: Option<usize>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Sink {
    /// `request_timeout`: a send with no reply by then counts as an
    /// unreachable peer (the batch is sent again).
    pub fn new(cfg: SinkConfig, local: LocalIdentity, request_timeout: Duration) -> Sink {
        Sink {
            cfg,
            request_timeout,
            local,
            conn: None,
            tls: None,
            next_url: 0,
            peer_node_id: None,
            peer_mark: None,
            handshakes: 0,
            peer_clock_offset_ms: None,
            peer_max_frame_bytes: None,
        }
    }

    /// Names the stream anew (a new epoch); the next send reconnects and
    /// handshakes with it.
    pub fn set_stream(&mut self, stream: String) {
        self.local.stream = stream;
        self.conn = None;
    }

    /// The address in use (or to be tried next).
    pub fn address(&self) -> Option<String> {
        match &self.cfg.kind {
            SinkKind::Thrift { urls } => match &self.conn {
                Some((_, addr)) => Some(addr.clone()),
                None => urls
                    .get(self.next_url % urls.len().max(1))
                    .map(|(h, p)| endpoint_name(h, *p)),
            },
            SinkKind::DoNothing => None,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// The most one request body may hold for this peer: its announced
    /// frame limit (64 MiB, the default, if it announced none) less room
    /// for the call around the body.
    pub fn max_request_bytes(&self) -> usize {
        self.peer_max_frame_bytes
            .unwrap_or(64 << 20)
            .min(MAX_BATCH_BYTES)
            .saturating_sub(crate::split::REQUEST_OVERHEAD)
            .max(1024)
    }

    /// Connects and handshakes if not connected, else checks the connection
    /// with an empty call: what an idle pipe does to know its peer's state
    /// (and to hear a refusal before it has anything to send).
    pub fn probe(&mut self) -> Result<(), SendError> {
        if self.cfg.kind == SinkKind::DoNothing {
            return Ok(());
        }
        let Some((client, addr)) = self.conn.as_mut() else {
            return self.connect();
        };
        match client.test_connection_empty_r_p_c() {
            Ok(_) => Ok(()),
            Err(e) => {
                let addr = addr.clone();
                self.conn = None;
                Err(SendError::Unreachable(format!("{addr}: {e}")))
            }
        }
    }

    /// Sends one batch body; `Ok` means the receiver applied it.
    pub fn send(&mut self, body: Vec<u8>) -> Result<(), SendError> {
        if self.cfg.kind == SinkKind::DoNothing {
            return Ok(());
        }
        if self.conn.is_none() {
            self.connect()?;
        }
        let Some((client, addr)) = self.conn.as_mut() else {
            return Err(SendError::Unreachable("not connected".into()));
        };
        let req = TPipeTransferReq::new(REQUEST_VERSION, DUET_EVENTS, body);
        match client.pipe_transfer(req) {
            Ok(resp) => classify(
                resp.status.code,
                resp.status.message.unwrap_or_default(),
                addr,
            ),
            Err(e) => {
                let addr = addr.clone();
                self.conn = None;
                Err(SendError::Unreachable(format!("{addr}: {e}")))
            }
        }
        .inspect_err(|e| {
            if matches!(e, SendError::Unreachable(_)) {
                self.conn = None;
            }
        })
    }

    fn connect(&mut self) -> Result<(), SendError> {
        let SinkKind::Thrift { urls } = &self.cfg.kind else {
            return Ok(());
        };
        let urls = urls.clone();
        let mut last = String::from("no address");
        for i in 0..urls.len() {
            let idx = (self.next_url + i) % urls.len();
            let (host, port) = &urls[idx];
            let name = endpoint_name(host, *port);
            match self.open(host, *port, &name) {
                Ok((client, peer, mark, offset)) => {
                    self.next_url = idx;
                    self.peer_node_id = peer;
                    self.peer_mark = mark;
                    self.peer_clock_offset_ms = offset;
                    self.handshakes += 1;
                    self.conn = Some((client, name));
                    return Ok(());
                }
                Err(SendError::Rejected(m)) => return Err(SendError::Rejected(m)),
                Err(SendError::Unreachable(m)) => last = m,
            }
        }
        // Next time, start after the first address that just failed.
        self.next_url = (self.next_url + 1) % urls.len().max(1);
        Err(SendError::Unreachable(last))
    }

    /// The pipe's TLS client, if it uses TLS: loaded once; files that
    /// cannot be used stop the pipe with the file named.
    fn tls_client(&mut self) -> Result<Option<TlsClient>, SendError> {
        let Some(tls) = &self.cfg.tls else {
            return Ok(None);
        };
        if let Some(client) = &self.tls {
            return Ok(Some(client.clone()));
        }
        let client = tls
            .resolve(self.local.tls.as_ref())
            .and_then(|files| files.load())
            .map_err(|e| SendError::Rejected(e.to_string()))?;
        self.tls = Some(client.clone());
        Ok(Some(client))
    }

    fn open(&mut self, host: &str, port: u16, name: &str) -> Result<Handshaken, SendError> {
        let tls = self.tls_client()?;
        let unreachable = |e: String| SendError::Unreachable(format!("{name}: {e}"));
        let addrs: Vec<_> = (host, port)
            .to_socket_addrs()
            .map_err(|e| unreachable(format!("cannot resolve: {e}")))?
            .collect();
        let mut stream = None;
        let mut err = String::from("no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => err = e.to_string(),
            }
        }
        let stream = stream.ok_or_else(|| unreachable(err))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(self.request_timeout))
            .map_err(|e| unreachable(e.to_string()))?;
        stream
            .set_write_timeout(Some(self.request_timeout))
            .map_err(|e| unreachable(e.to_string()))?;
        let connected = match &tls {
            Some(tls) => tls.connect(stream, host).map_err(|e| match e {
                HandshakeError::Certificate(m) => SendError::Rejected(format!("{name}: {m}")),
                HandshakeError::Io(m) => unreachable(m),
            })?,
            None => Connected::plain(stream),
        };
        let (reader, writer) = connected.halves().map_err(|e| unreachable(e.to_string()))?;
        let mut client = new_client(reader, writer, Protocol::Binary, 64 << 20)
            .map_err(|e| unreachable(e.to_string()))?;
        let params: BTreeMap<String, String> = [
            (KEY_CLUSTER_ID, self.local.cluster_id.clone()),
            (KEY_PRECISION, "ms".to_string()),
            (KEY_USERNAME, self.cfg.user.clone()),
            (KEY_PASSWORD, self.cfg.password.expose().to_string()),
            (KEY_NODE_ID, self.local.node_id.to_string()),
            (KEY_PROTOCOL, PROTOCOL_VERSION.to_string()),
            (KEY_STREAM, self.local.stream.clone()),
            (KEY_CLOCK, duet_engine::hlc::wall_clock_ms().to_string()),
            (KEY_LOCAL_ONLY, self.local.local_only.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let sent_at = duet_engine::hlc::wall_clock_ms();
        let started = std::time::Instant::now();
        let resp = client
            .pipe_transfer(TPipeTransferReq::new(
                REQUEST_VERSION,
                HANDSHAKE_DATANODE_V2,
                encode_params(&params),
            ))
            .map_err(|e| match connected.tls_failure() {
                // With TLS 1.3 a refused client certificate shows here.
                Some(HandshakeError::Certificate(m)) => SendError::Rejected(format!("{name}: {m}")),
                _ => unreachable(format!("handshake: {e}")),
            })?;
        classify(
            resp.status.code,
            resp.status.message.unwrap_or_default(),
            name,
        )?;
        let params = resp.body.and_then(|b| decode_params(&b).ok());
        let get = |k: &str| params.as_ref().and_then(|p| p.get(k));
        let peer = get(KEY_NODE_ID).and_then(|v| v.parse().ok());
        let mark = get(KEY_MARK).and_then(|v| decode_mark(v));
        self.peer_max_frame_bytes = get(KEY_MAX_FRAME).and_then(|v| v.parse().ok());
        let rtt = started.elapsed().as_millis() as u64;
        let offset = get(KEY_CLOCK)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|peer_ms| clock_offset(peer_ms, sent_at, rtt));
        if let Some(offset) = offset {
            self.peer_clock_offset_ms = Some(offset);
            let limit = self.local.max_clock_skew_ms;
            // The peer's reading was taken somewhere in the round trip.
            if offset.unsigned_abs() > limit + rtt / 2 {
                return Err(SendError::Rejected(format!(
                    "{name}: the peer's clock is {} ms {} this node's, over \
                     replication.max_clock_skew_ms = {limit}: fix the clocks (NTP), then START PIPE",
                    offset.unsigned_abs(),
                    if offset > 0 { "ahead of" } else { "behind" }
                )));
            }
        }
        Ok((client, peer, mark, offset))
    }
}

/// What a handshake established: the client, the peer's node id, its mark
/// for this stream and its clock offset.
type Handshaken = (
    RpcClient,
    Option<u32>,
    Option<duet_engine::Mark>,
    Option<i64>,
);

/// The peer's clock minus ours: its reading against the middle of the
/// round trip that carried it.
fn clock_offset(peer_ms: u64, sent_at_ms: u64, rtt_ms: u64) -> i64 {
    let middle = sent_at_ms.saturating_add(rtt_ms / 2);
    (peer_ms as i128 - middle as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// The decision for a receiver's status code.
fn classify(code: i32, message: String, addr: &str) -> Result<(), SendError> {
    match code {
        status::SUCCESS_STATUS => Ok(()),
        status::PIPE_RECEIVER_TEMPORARY_UNAVAILABLE_EXCEPTION
        | status::STORAGE_ENGINE_ERROR
        | status::INTERNAL_SERVER_ERROR => Err(SendError::Unreachable(format!(
            "{addr} is temporarily unable ({code}): {message}"
        ))),
        _ => Err(SendError::Rejected(format!("{addr} ({code}): {message}"))),
    }
}

//! The thrift sink: a connection to the peer's RPC port (addresses tried in
//! order, host names resolved at every connect), a handshake, then batches.
//! Blocking; the pipe task runs it on a blocking thread.

use crate::config::{SinkConfig, SinkKind};
use crate::error::SendError;
use crate::wire::*;
use duet_rpc::client::endpoint_name;
use duet_rpc::frame::Protocol;
use duet_rpc::generated::{TIClientRPCServiceSyncClient, TPipeTransferReq};
use duet_rpc::service::{new_client, RpcClient};
use duet_rpc::status;
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
}

pub struct Sink {
    cfg: SinkConfig,
    request_timeout: Duration,
    local: LocalIdentity,
    conn: Option<(RpcClient, String)>,
    /// Index of the address to try first.
    next_url: usize,
    /// The peer's node id, learned at handshake.
    pub peer_node_id: Option<u32>,
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
            next_url: 0,
            peer_node_id: None,
        }
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
        let mut last = String::from("no address");
        for i in 0..urls.len() {
            let idx = (self.next_url + i) % urls.len();
            let (host, port) = &urls[idx];
            let name = endpoint_name(host, *port);
            match self.open(host, *port, &name) {
                Ok((client, peer)) => {
                    self.next_url = idx;
                    self.peer_node_id = peer;
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

    fn open(
        &self,
        host: &str,
        port: u16,
        name: &str,
    ) -> Result<(RpcClient, Option<u32>), SendError> {
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
        let reader = stream.try_clone().map_err(|e| unreachable(e.to_string()))?;
        let mut client = new_client(reader, stream, Protocol::Binary, 64 << 20)
            .map_err(|e| unreachable(e.to_string()))?;
        let params: BTreeMap<String, String> = [
            (KEY_CLUSTER_ID, self.local.cluster_id.clone()),
            (KEY_PRECISION, "ms".to_string()),
            (KEY_USERNAME, self.cfg.user.clone()),
            (KEY_PASSWORD, self.cfg.password.clone()),
            (KEY_NODE_ID, self.local.node_id.to_string()),
            (KEY_PROTOCOL, PROTOCOL_VERSION.to_string()),
            (KEY_STREAM, self.local.stream.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let resp = client
            .pipe_transfer(TPipeTransferReq::new(
                REQUEST_VERSION,
                HANDSHAKE_DATANODE_V2,
                encode_params(&params),
            ))
            .map_err(|e| unreachable(format!("handshake: {e}")))?;
        classify(
            resp.status.code,
            resp.status.message.unwrap_or_default(),
            name,
        )?;
        let peer = resp
            .body
            .and_then(|b| decode_params(&b).ok())
            .and_then(|p| p.get(KEY_NODE_ID).and_then(|v| v.parse().ok()));
        Ok((client, peer))
    }
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

//! The receiving side of a pipe, per connection: the handshake decides
//! whether this peer may send (not this node itself, a protocol we speak,
//! valid credentials of a user with the REPLICATION privilege), then each batch is applied in one WriteBatch with
//! its origins' high-water marks, so a batch re-sent after a lost
//! acknowledgement changes nothing.

use crate::wire::*;
use duet_engine::{Engine, Error as EngineError};
use duet_rpc::status;
use std::collections::BTreeMap;

/// What one connection has established.
#[derive(Debug, Default)]
pub struct ReceiverState {
    /// The sending node, once the handshake succeeded.
    pub peer: Option<u32>,
    /// The sending pipe (name#incarnation).
    pub stream: String,
    /// This node's frame limit, announced to senders (0: not announced).
    pub max_frame_bytes: u32,
    /// The sender said its pipe sends only its own changes: an event whose
    /// origin is another node is refused.
    pub local_only: bool,
    /// The handshake's user: the batches are applied on its word.
    pub user: String,
}

/// The reply to one `pipeTransfer` request.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: i32,
    pub message: String,
    pub body: Option<Vec<u8>>,
    /// The handshake's user name or password was wrong: the server counts
    /// it against the address as it counts a failed login.
    pub credentials_refused: bool,
}

impl Reply {
    fn ok(body: Option<Vec<u8>>) -> Reply {
        Reply {
            code: status::SUCCESS_STATUS,
            message: String::new(),
            body,
            credentials_refused: false,
        }
    }
    fn err(code: i32, message: impl Into<String>) -> Reply {
        Reply {
            code,
            message: message.into(),
            body: None,
            credentials_refused: false,
        }
    }
}

pub fn handle(engine: &Engine, state: &mut ReceiverState, req_type: i16, body: &[u8]) -> Reply {
    match req_type {
        HANDSHAKE_DATANODE_V2 => handshake(engine, state, body),
        HANDSHAKE_DATANODE_V1 => Reply::err(
            status::PIPE_HANDSHAKE_ERROR,
            "Duet receives pipes with handshake V2 only (from a Duet node)",
        ),
        DUET_EVENTS => {
            if state.peer.is_none() {
                return Reply::err(status::PIPE_HANDSHAKE_ERROR, "handshake first");
            }
            apply(engine, state, body)
        }
        other => Reply::err(
            status::PIPE_TYPE_ERROR,
            format!("pipe request type {other} is not one Duet receives (Duet receives pipes from Duet nodes)"),
        ),
    }
}

fn handshake(engine: &Engine, state: &mut ReceiverState, body: &[u8]) -> Reply {
    let refuse = |m: String| Reply::err(status::PIPE_HANDSHAKE_ERROR, m);
    let params = match decode_params(body) {
        Ok(p) => p,
        Err(e) => return refuse(format!("bad handshake: {e}")),
    };
    let get = |k: &str| params.get(k).map(String::as_str);
    let Some(protocol) = get(KEY_PROTOCOL) else {
        return refuse(
            "not a Duet pipe (no duet.protocolVersion): Duet receives pipes from Duet nodes".into(),
        );
    };
    if protocol != PROTOCOL_VERSION {
        return refuse(format!("pipe protocol version {protocol} is not supported (this node speaks {PROTOCOL_VERSION})"));
    }
    let node: Option<u32> = get(KEY_NODE_ID).and_then(|v| v.parse().ok());
    let Some(node) = node else {
        return refuse("the handshake has no valid duet.nodeId".into());
    };
    if node == engine.node_id() || get(KEY_CLUSTER_ID) == Some(engine.cluster_id()) {
        return refuse(format!(
            "refusing a pipe from this node to itself (node {node}): sink.ip/sink.port point back at the sender"
        ));
    }
    match get(KEY_PRECISION) {
        Some("ms") => {}
        other => {
            return refuse(format!(
                "timestamp precision {other:?} differs from this node's (ms)"
            ))
        }
    }
    let (Some(user), Some(password)) = (get(KEY_USERNAME), get(KEY_PASSWORD)) else {
        return Reply::err(
            status::NOT_LOGIN,
            "the handshake carries no username and password",
        );
    };
    if let Err(e) = engine.authenticate(user, password) {
        return Reply {
            credentials_refused: true,
            ..refuse(format!("sink credentials refused: {e}"))
        };
    }
    // Whoever may send a pipe may write anything, drop anything and
    // replay history: it takes its own privilege.
    let may_replicate = engine.access(user).is_ok_and(|a| {
        a.allows(
            duet_engine::privileges::Privilege::Replication,
            duet_engine::privileges::ROOT_ALL,
        )
    });
    if !may_replicate {
        return refuse(format!(
            "user {user:?} may not send pipes to this node: it needs the REPLICATION \
             privilege here (GRANT REPLICATION ON root.** TO USER {user})"
        ));
    }
    // A sender whose clock is ahead by more than the limit would win every
    // conflict: refuse it here. (The one-way delay only makes a sender look
    // behind, so this never refuses a well-synchronised sender; the sender
    // checks the other direction with the round trip.)
    let now = duet_engine::hlc::wall_clock_ms();
    if let Some(sender_ms) = get(KEY_CLOCK).and_then(|v| v.parse::<u64>().ok()) {
        let limit = engine.max_clock_skew_ms();
        if sender_ms > now.saturating_add(limit) {
            return refuse(format!(
                "the clock of node {node} is {} ms ahead of this node's, over \
                 replication.max_clock_skew_ms = {limit}: fix the clocks (NTP), then START PIPE",
                sender_ms - now
            ));
        }
    }
    let Some(stream) =
        get(KEY_STREAM).filter(|s| !s.is_empty() && s.len() <= 200 && !s.contains('/'))
    else {
        return refuse("the handshake names no valid duet.stream".into());
    };
    state.peer = Some(node);
    state.user = user.to_string();
    state.stream = stream.to_string();
    state.local_only = get(KEY_LOCAL_ONLY) == Some("true");
    if sender_went_back(engine, node, stream) {
        tracing::warn!(
            "node {node} starts stream {} because its log went back (restored from a \
             backup): resending history to every peer, which may lack its changes that only \
             this node received",
            duet_engine::codec::printable(stream, 200)
        );
        engine.note_sender_went_back(node);
    }
    let mut reply: BTreeMap<String, String> = [
        (KEY_NODE_ID.to_string(), engine.node_id().to_string()),
        (KEY_MARK.to_string(), encode_mark(engine.mark(node, stream))),
        (KEY_CLOCK.to_string(), now.to_string()),
    ]
    .into();
    if state.max_frame_bytes > 0 {
        reply.insert(KEY_MAX_FRAME.to_string(), state.max_frame_bytes.to_string());
    }
    Reply::ok(Some(encode_params(&reply)))
}

/// Is `stream` the first handshake of a new epoch of one of `node`'s pipes
/// (`name#incarnation.epoch`, see `PipeRecord::stream`) whose earlier epoch
/// delivered changes here? A sender starts a new epoch only when its log
/// went back.
fn sender_went_back(engine: &Engine, node: u32, stream: &str) -> bool {
    let (base, epoch) = split_stream(stream);
    if epoch == 0 || engine.mark(node, stream).seq > 0 {
        return false;
    }
    engine.streams_of(node).iter().any(|(s, m)| {
        let (b, e) = split_stream(s);
        b == base && e < epoch && m.seq > 0
    })
}

/// `name#incarnation.epoch` as (`name#incarnation`, epoch); epoch 0 when
/// there is none.
fn split_stream(stream: &str) -> (&str, u64) {
    match stream.rsplit_once('.') {
        Some((base, e)) if base.contains('#') => match e.parse() {
            Ok(e) => (base, e),
            Err(_) => (stream, 0),
        },
        _ => (stream, 0),
    }
}

fn apply(engine: &Engine, state: &ReceiverState, body: &[u8]) -> Reply {
    let events = match decode_batch(body) {
        Ok(e) => e,
        Err(e) => return Reply::err(status::ILLEGAL_PARAMETER, format!("bad batch: {e}")),
    };
    let mut users_checked = false;
    for e in &events {
        let h = match duet_engine::event::EventHeader::decode(e) {
            Ok(h) => h,
            Err(e) => return Reply::err(status::ILLEGAL_PARAMETER, format!("bad batch: {e}")),
        };
        // The sender's pipe sends only its own changes: every event's
        // origin is the node that made the handshake.
        if let (true, Some(node)) = (state.local_only, state.peer) {
            if h.origin != node {
                return Reply::err(
                    status::PIPE_ERROR,
                    format!(
                        "node {node}'s pipe sends only its own changes, but an event names \
                         node {} as its origin: the batch is refused, nothing applied",
                        h.origin
                    ),
                );
            }
        }
        // Users and privileges come only from root: a change of them can
        // give anyone anything (root's password included), which no other
        // user may do here.
        if h.kind == duet_engine::event::EventKind::Auth && !users_checked {
            if !engine.access(&state.user).is_ok_and(|a| a.is_all()) {
                return Reply::err(
                    status::NO_PERMISSION,
                    format!(
                        "the pipe carries users and privileges (inclusion 'auth'), which only \
                         root may send: its user {:?} is not root on this node; log the pipe in \
                         as root ('sink.username'='root') or leave 'auth' out of its inclusion, \
                         then START PIPE on the sending node; the batch is refused, nothing applied",
                        state.user
                    ),
                );
            }
            users_checked = true;
        }
    }
    match engine.apply_remote(&state.stream, &events) {
        Ok(_) => Reply::ok(None),
        Err(e @ EngineError::Storage { .. }) => {
            Reply::err(status::STORAGE_ENGINE_ERROR, e.to_string())
        }
        Err(e @ EngineError::ClockSkew(_)) => Reply::err(status::PIPE_ERROR, e.to_string()),
        Err(e @ EngineError::TypeMismatch(_)) => {
            Reply::err(status::DATA_TYPE_MISMATCH, e.to_string())
        }
        Err(e) => Reply::err(status::PIPE_ERROR, e.to_string()),
    }
}

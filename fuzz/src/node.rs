//! One node per fuzzing process: an engine in a temporary directory, the
//! server's shared request state, a connection that has logged in as root
//! and the pipe receiver's state after a handshake. Logging in hashes the
//! password (20 000 rounds), so it is done once, not per input.

use duet_engine::{Engine, EngineOptions};
use duet_executor::{Executor, NodeInfo};
use duet_pipe::receiver::{handle, ReceiverState};
use duet_pipe::wire::*;
use duet_rpc::generated::*;
use duet_server::metrics::Metrics;
use duet_server::service::{ConnHandler, Shared};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

pub struct Node {
    _dir: tempfile::TempDir,
    pub engine: Arc<Engine>,
    pub shared: Arc<Shared>,
    /// A connection with a session (root), used by every logged-in input.
    pub logged_in: Mutex<IClientRPCServiceSyncProcessor<ConnHandler>>,
    /// The receiver state a successful handshake leaves.
    handshaken: (Option<u32>, String),
}

/// Guards `Mutex::lock` poisoning: a panic is the end of the fuzzing run anyway.
pub trait LockExt<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, T>;
}

impl<T> LockExt<T> for Mutex<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        Mutex::lock(self).unwrap_or_else(|p| p.into_inner())
    }
}

pub fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(Node::start)
}

/// The handshake body a Duet sender sends (user root, password root).
pub fn handshake_body(engine: &Engine) -> Vec<u8> {
    let params: BTreeMap<String, String> = [
        (KEY_CLUSTER_ID, "fuzz-peer"),
        (KEY_PRECISION, "ms"),
        (KEY_USERNAME, "root"),
        (KEY_PASSWORD, "root"),
        (KEY_PROTOCOL, PROTOCOL_VERSION),
        (KEY_STREAM, "fuzz#1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([(
        KEY_NODE_ID.to_string(),
        engine.node_id().wrapping_add(1).to_string(),
    )])
    .collect();
    encode_params(&params)
}

impl Node {
    fn start() -> Node {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let opts = EngineOptions {
            rocksdb_memory_bytes: 32 << 20,
            ..EngineOptions::default()
        };
        let engine = Arc::new(Engine::open(dir.path(), opts).expect("the engine opens"));
        let exec = Executor::new(engine.clone(), NodeInfo::default());
        let shared = Arc::new(Shared::new(
            exec,
            Arc::new(Metrics::new()),
            1024,
            1 << 20,
            8,
            16 << 20,
            16 << 10,
        ));
        let handler = ConnHandler::new(shared.clone(), Arc::new(AtomicBool::new(false)), None);
        let req = TSOpenSessionReq::new(
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            "UTC".to_string(),
            "root".to_string(),
            "root".to_string(),
            None,
        );
        let resp = handler.handle_open_session(req).expect("openSession");
        assert_eq!(resp.status.code, duet_rpc::status::SUCCESS_STATUS);
        let mut state = ReceiverState::default();
        let reply = handle(
            &engine,
            &mut state,
            HANDSHAKE_DATANODE_V2,
            &handshake_body(&engine),
        );
        assert_eq!(reply.code, duet_rpc::status::SUCCESS_STATUS, "{reply:?}");
        Node {
            _dir: dir,
            engine,
            shared: shared.clone(),
            logged_in: Mutex::new(IClientRPCServiceSyncProcessor::new(handler)),
            handshaken: (state.peer, state.stream),
        }
    }

    /// A new connection: no session, no handshake.
    pub fn connection(&self) -> IClientRPCServiceSyncProcessor<ConnHandler> {
        IClientRPCServiceSyncProcessor::new(ConnHandler::new(
            self.shared.clone(),
            Arc::new(AtomicBool::new(false)),
            None,
        ))
    }

    pub fn before_handshake(&self) -> ReceiverState {
        ReceiverState {
            max_frame_bytes: 16 << 10,
            ..ReceiverState::default()
        }
    }

    pub fn after_handshake(&self) -> ReceiverState {
        ReceiverState {
            peer: self.handshaken.0,
            stream: self.handshaken.1.clone(),
            max_frame_bytes: 16 << 10,
            ..ReceiverState::default()
        }
    }
}

//! The receiving side holds a sender to what its handshake said: a pipe
//! that sends only its own changes (double-living) cannot slip in events
//! that name another node as their origin.

use duet_engine::chunk::Chunk;
use duet_engine::event::{ChangeEvent, EventBody, SeriesWrite};
use duet_engine::{ChangeLog, Column, Engine, EngineOptions, Version};
use duet_pipe::receiver::{handle, ReceiverState};
use duet_pipe::wire::*;
use duet_rpc::status::{PIPE_ERROR, SUCCESS_STATUS};

fn handshake(engine: &Engine, st: &mut ReceiverState, node: u32, local_only: Option<bool>) {
    let mut p: std::collections::BTreeMap<String, String> = [
        (KEY_CLUSTER_ID, "peer".to_string()),
        (KEY_PRECISION, "ms".to_string()),
        (KEY_USERNAME, "root".to_string()),
        (KEY_PASSWORD, "root".to_string()),
        (KEY_PROTOCOL, PROTOCOL_VERSION.to_string()),
        (KEY_STREAM, "AB#1".to_string()),
        (KEY_NODE_ID, node.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(l) = local_only {
        p.insert(KEY_LOCAL_ONLY.to_string(), l.to_string());
    }
    let reply = handle(engine, st, HANDSHAKE_DATANODE_V2, &encode_params(&p));
    assert_eq!(reply.code, SUCCESS_STATUS, "{reply:?}");
}

fn event(origin: u32, seq: u64, t: i64) -> Vec<u8> {
    let v = Version::new(duet_engine::hlc::wall_clock_ms() << 16, origin);
    ChangeEvent {
        origin,
        origin_seq: seq,
        version: v,
        body: EventBody::Insert(vec![SeriesWrite {
            path: "root.o.d.s".into(),
            chunk: Chunk::from_write(&[t], &Column::I64(vec![t]), v),
        }]),
    }
    .encode()
}

#[test]
fn a_local_only_pipe_cannot_send_another_nodes_changes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::default()).unwrap();
    let (n, other) = (
        engine.node_id().wrapping_add(1),
        engine.node_id().wrapping_add(2),
    );
    let mut st = ReceiverState::default();
    handshake(&engine, &mut st, n, Some(true));
    // One forged event among the sender's own: the whole batch is refused.
    let batch = encode_batch(&[event(n, 1, 1), event(other, 1, 2)], &[]);
    let reply = handle(&engine, &mut st, DUET_EVENTS, &batch);
    assert_eq!(reply.code, PIPE_ERROR, "{reply:?}");
    assert!(reply.message.contains("origin"), "{}", reply.message);
    assert_eq!(engine.last_seq(), 0, "nothing applied");
    // Its own changes go in.
    let batch = encode_batch(&[event(n, 1, 1)], &[]);
    assert_eq!(
        handle(&engine, &mut st, DUET_EVENTS, &batch).code,
        SUCCESS_STATUS
    );
    assert_eq!(engine.last_seq(), 1);

    // A forwarding pipe (not local-only, or a sender that does not say)
    // carries other nodes' changes, as IoTDB's forwarding does.
    for said in [Some(false), None] {
        let mut st = ReceiverState::default();
        handshake(&engine, &mut st, n, said);
        let seq = engine.last_seq();
        let batch = encode_batch(&[event(other, seq + 1, 10 + seq as i64)], &[]);
        assert_eq!(
            handle(&engine, &mut st, DUET_EVENTS, &batch).code,
            SUCCESS_STATUS
        );
        assert_eq!(engine.last_seq(), seq + 1);
    }
}

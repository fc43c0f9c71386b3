//! Requests that once took a node down from the network: a call that
//! panicked the handler (insertRecordsOfOneDevice), frames sent before login,
//! and one insert request that made the node allocate gigabytes. Each is
//! sent over the real protocol with the generated client, so the server
//! decodes exactly what an IoTDB client would send.

use duet_rpc::column::Value;
use duet_rpc::generated::*;
use duet_rpc::insert::encode_record_values;
use duet_rpc::service::RpcClient;
use duet_rpc::status;
use duet_tests::{closed_by_server, query, raw_client, raw_login, rss_kib, wait_until, Node};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

fn node_with(config: &str) -> Node {
    Node::start_with_config(config)
}

/// A raw client on a new connection, not logged in.
fn raw(node: &Node) -> RpcClient {
    raw_client(&TcpStream::connect(node.rpc).unwrap())
}

/// A raw client that has logged in as root; returns its session id.
fn logged_in(node: &Node) -> (RpcClient, i64) {
    let mut c = raw(node);
    let id = raw_login(&mut c);
    (c, id)
}

fn values(vals: &[Value]) -> Vec<u8> {
    encode_record_values(vals).unwrap()
}

fn count(node: &Node, sql: &str) -> String {
    query(&mut node.session(), sql).unwrap()[0][0].clone()
}

#[test]
fn t80_insert_records_of_one_device_writes_and_keeps_the_connection() {
    let node = Node::start();
    let (mut c, sid) = logged_in(&node);
    for aligned in [false, true] {
        let device = if aligned { "root.one.a" } else { "root.one.p" };
        let st = c
            .insert_records_of_one_device(TSInsertRecordsOfOneDeviceReq::new(
                sid,
                device.to_string(),
                vec![
                    vec!["s1".to_string(), "s2".to_string()],
                    vec!["s1".to_string()],
                    vec!["s2".to_string(), "s1".to_string()],
                ],
                vec![
                    values(&[Value::I64(1), Value::F64(1.5)]),
                    values(&[Value::I64(2)]),
                    values(&[Value::F64(3.5), Value::I64(3)]),
                ],
                vec![10, 20, 30],
                aligned,
            ))
            .expect("a reply, not a dropped connection");
        assert_eq!(st.code, status::SUCCESS_STATUS, "{:?}", st.message);
        let rows = query(&mut node.session(), &format!("SELECT s1, s2 FROM {device}")).unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["10", "1", "1.5"],
                vec!["20", "2", "null"],
                vec!["30", "3", "3.5"],
            ],
            "{device}"
        );
    }
    // Lists of different lengths: an error status, nothing written, and the
    // same connection goes on.
    let st = c
        .insert_records_of_one_device(TSInsertRecordsOfOneDeviceReq::new(
            sid,
            "root.one.bad".to_string(),
            vec![vec!["s1".to_string()]],
            vec![values(&[Value::I64(1)])],
            vec![1, 2],
            None,
        ))
        .unwrap();
    assert_eq!(st.code, status::ILLEGAL_PARAMETER, "{:?}", st.message);
    assert!(
        query(&mut node.session(), "SHOW TIMESERIES root.one.bad.**")
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        c.test_connection_empty_r_p_c().unwrap().code,
        status::SUCCESS_STATUS
    );
    assert_eq!(node.metric("duet_rpc_handler_panics_total"), Some(0.0));
}

#[test]
fn t81_before_login_frames_are_small() {
    let node = Node::start();
    let rejected = || {
        node.metric("duet_rpc_frames_rejected_total")
            .unwrap_or(-1.0)
    };
    let before = rejected();
    // 1 MB is far under rpc.max_frame_bytes (64 MiB) but over the 16 KiB a
    // connection may send before it logs in: closed at once, nothing read.
    let mut c = TcpStream::connect(node.rpc).unwrap();
    c.write_all(&(1u32 << 20).to_be_bytes()).unwrap();
    assert!(
        closed_by_server(&mut c, Duration::from_secs(5)),
        "a 1 MB frame before login closes the connection"
    );
    wait_until(Duration::from_secs(10), "the rejection counted", || {
        (rejected() == before + 1.0)
            .then_some(())
            .ok_or(format!("{before} -> {}", rejected()))
    });
    // An insert small enough to be read, before login: refused, not decoded
    // into a write.
    let mut c = raw(&node);
    let st = c
        .insert_record(TSInsertRecordReq::new(
            0,
            "root.pre.d".to_string(),
            vec!["s".to_string()],
            values(&[Value::I32(1)]),
            1,
            None,
            None,
            None,
        ))
        .unwrap();
    assert_eq!(st.code, status::NOT_LOGIN);
    assert!(query(&mut node.session(), "SHOW TIMESERIES root.pre.**")
        .unwrap()
        .is_empty());
    // After login the same connection may send large frames: a 2 MB tablet.
    let (mut c, sid) = logged_in(&node);
    let rows = 100_000;
    let tablet = duet_rpc::insert::Tablet {
        timestamps: (0..rows).collect(),
        columns: vec![duet_rpc::column::Column::F64(
            (0..rows).map(|i| Some(i as f64)).collect(),
        )],
    };
    let enc = duet_rpc::insert::encode_tablet(&tablet).unwrap();
    let st = c
        .insert_tablet(TSInsertTabletReq::new(
            sid,
            "root.pre.big".to_string(),
            vec!["v".to_string()],
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
        .unwrap();
    assert_eq!(st.code, status::SUCCESS_STATUS, "{:?}", st.message);
    assert_eq!(count(&node, "SELECT count(v) FROM root.pre.big"), "100000");
}

#[test]
fn t82_a_connection_must_log_in_within_the_deadline() {
    let node = node_with("[rpc]\nlogin_timeout_secs = 1\n");
    let (mut logged, _) = logged_in(&node);
    let mut silent = TcpStream::connect(node.rpc).unwrap();
    assert!(
        closed_by_server(&mut silent, Duration::from_secs(8)),
        "a connection that never logs in is closed after rpc.login_timeout_secs"
    );
    assert_eq!(node.metric("duet_rpc_login_timeouts_total"), Some(1.0));
    // The connection that logged in is past the same deadline and still served.
    assert_eq!(
        logged.test_connection_empty_r_p_c().unwrap().code,
        status::SUCCESS_STATUS
    );
}

#[test]
fn t83_one_request_cannot_make_the_node_allocate_gigabytes() {
    let node = node_with("[rpc]\nmax_request_memory_bytes = 16777216\n");
    let (mut c, sid) = logged_in(&node);
    let ok = c
        .insert_record(TSInsertRecordReq::new(
            sid,
            "root.mem.d".to_string(),
            vec!["s".to_string()],
            values(&[Value::I32(1)]),
            1,
            None,
            None,
            None,
        ))
        .unwrap();
    assert_eq!(ok.code, status::SUCCESS_STATUS);
    let base = rss_kib(node.pid());

    // The request that took a node from 17 MB to 1.8 GB: a 500 KB device and
    // 100 000 measurements in one ~1 MB record, each point once built its
    // own copy of the device path.
    let many = 100_000;
    let device = format!("root.mem.{}", "d".repeat(500_000));
    let st = c
        .insert_record(TSInsertRecordReq::new(
            sid,
            device,
            vec![String::new(); many],
            values(&vec![Value::Bool(true); many]),
            1,
            None,
            None,
            None,
        ))
        .unwrap();
    assert_eq!(st.code, status::ILLEGAL_PARAMETER, "{:?}", st.message);
    let msg = st.message.unwrap_or_default();
    assert!(
        msg.contains("the limit is 1024") && msg.len() < 300,
        "a short message naming the limit: {msg}"
    );

    // A legal 1000-byte device with 100 000 distinct measurements would build
    // 100 MB of paths: over the request budget, refused, nothing written.
    let device = format!("root.mem.{}", "d".repeat(990));
    let names: Vec<String> = (0..many).map(|i| format!("m{i}")).collect();
    let st = c
        .insert_records_of_one_device(TSInsertRecordsOfOneDeviceReq::new(
            sid,
            device.clone(),
            vec![names],
            vec![values(&vec![Value::Bool(true); many])],
            vec![1],
            None,
        ))
        .unwrap();
    assert_eq!(st.code, status::ILLEGAL_PARAMETER, "{:?}", st.message);
    assert!(
        st.message
            .unwrap_or_default()
            .contains("rpc.max_request_memory_bytes"),
        "the error names the limit"
    );
    // The same through insertRecords, one device string per record.
    let st = c
        .insert_records(TSInsertRecordsReq::new(
            sid,
            vec![device; 20_000],
            (0..20_000).map(|i| vec![format!("m{i}")]).collect(),
            vec![values(&[Value::Bool(true)]); 20_000],
            vec![1; 20_000],
            None,
        ))
        .unwrap();
    assert_eq!(st.code, status::ILLEGAL_PARAMETER, "{:?}", st.message);
    assert_eq!(count(&node, "COUNT TIMESERIES root.mem.**"), "1");

    let after = rss_kib(node.pid());
    assert!(
        after < base + 128 * 1024,
        "memory grew from {base} KiB to {after} KiB"
    );
    assert_eq!(
        c.test_connection_empty_r_p_c().unwrap().code,
        status::SUCCESS_STATUS,
        "the connection is still served"
    );
}

/// After login, a 60 MB frame that declares 12 million (empty) lists: the
/// decoder refuses it at the first list (over
/// `MAX_ELEMENTS_PER_MESSAGE`), closing the connection, instead of building
/// twelve million vectors; and no list reserves its declared size before
/// its elements arrive.
#[test]
fn t84_a_message_declaring_millions_of_elements_is_refused() {
    use thrift::protocol::{
        TBinaryOutputProtocol, TFieldIdentifier, TListIdentifier, TMessageIdentifier, TMessageType,
        TOutputProtocol, TStructIdentifier, TType,
    };
    let node = Node::start();
    let stream = TcpStream::connect(node.rpc).unwrap();
    let mut c = raw_client(&stream);
    let sid = raw_login(&mut c);
    let n = 12_000_000;
    let mut body = Vec::with_capacity(61 << 20);
    {
        let mut o = TBinaryOutputProtocol::new(&mut body, true);
        o.write_message_begin(&TMessageIdentifier::new(
            "insertRecords",
            TMessageType::Call,
            1,
        ))
        .unwrap();
        o.write_struct_begin(&TStructIdentifier::new("args"))
            .unwrap();
        o.write_field_begin(&TFieldIdentifier::new("req", TType::Struct, 1))
            .unwrap();
        o.write_struct_begin(&TStructIdentifier::new("req"))
            .unwrap();
        o.write_field_begin(&TFieldIdentifier::new("sessionId", TType::I64, 1))
            .unwrap();
        o.write_i64(sid).unwrap();
        o.write_field_begin(&TFieldIdentifier::new("prefixPaths", TType::List, 2))
            .unwrap();
        o.write_list_begin(&TListIdentifier::new(TType::String, 0))
            .unwrap();
        o.write_field_begin(&TFieldIdentifier::new("measurementsList", TType::List, 3))
            .unwrap();
        o.write_list_begin(&TListIdentifier::new(TType::List, n))
            .unwrap();
        for _ in 0..n {
            o.write_list_begin(&TListIdentifier::new(TType::String, 0))
                .unwrap();
        }
        // The rest of a well-formed request, so only the size can refuse it.
        o.write_field_begin(&TFieldIdentifier::new("valuesList", TType::List, 4))
            .unwrap();
        o.write_list_begin(&TListIdentifier::new(TType::String, 0))
            .unwrap();
        o.write_field_begin(&TFieldIdentifier::new("timestamps", TType::List, 5))
            .unwrap();
        o.write_list_begin(&TListIdentifier::new(TType::I64, 0))
            .unwrap();
        o.write_field_stop().unwrap();
        o.write_struct_end().unwrap();
        o.write_field_stop().unwrap();
        o.write_struct_end().unwrap();
        o.write_message_end().unwrap();
    }
    let rejected = node.metric("duet_rpc_frames_rejected_total").unwrap_or(0.0);
    let mut w = stream.try_clone().unwrap();
    w.write_all(&(body.len() as u32).to_be_bytes()).unwrap();
    let _ = w.write_all(&body);
    let mut r = stream.try_clone().unwrap();
    assert!(
        closed_by_server(&mut r, Duration::from_secs(20)),
        "the connection is closed"
    );
    assert_eq!(
        node.metric("duet_rpc_frames_rejected_total").unwrap_or(0.0),
        rejected + 1.0
    );
    let mut s = node.session();
    query(&mut s, "SHOW VERSION").unwrap();
}

/// `BACKUP TO` names a directory under `storage.backup_dir`, never a place
/// a client picks (a checkpoint in /etc/cron.d, or over another node's
/// data).
#[test]
fn t89_backup_writes_only_under_its_root() {
    let node = Node::start();
    let mut s = node.session();
    duet_tests::exec(&mut s, "INSERT INTO root.bk.d(time, v) VALUES (1, 1)");
    let outside = tempfile::tempdir().unwrap();
    for target in [
        outside.path().join("bk").display().to_string(),
        "../escape".to_string(),
        format!("{}/../x", node.backup_root().display()),
    ] {
        let e = s
            .execute(&format!("BACKUP TO '{target}'"))
            .err()
            .unwrap_or_else(|| panic!("{target} accepted"))
            .to_string();
        assert!(e.contains("storage.backup_dir"), "{target}: {e}");
    }
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    assert!(!node.dir.path().join("escape").exists());
    duet_tests::exec(&mut s, "BACKUP TO 'nightly-1'");
    assert!(node
        .backup_root()
        .join("nightly-1")
        .join("CURRENT")
        .exists());
}

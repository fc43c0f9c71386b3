//! Requests that cost the node more than they cost their sender, found by
//! reading the handlers after the first round of limits: a
//! `createAlignedTimeseries` that built its paths before the session
//! check, an insert by a user who may write nothing decoded in full before
//! its privileges were looked at, password guessing through the pipe
//! handshake (which the login limit did not count), and the empty record
//! lists of `insertRecordsOfOneDevice` that once panicked the handler.

use duet_rpc::column::Value;
use duet_rpc::generated::*;
use duet_rpc::insert::encode_record_values;
use duet_rpc::status;
use duet_tests::{query, raw_client, raw_login, raw_open_session, Node};
use std::net::TcpStream;

fn raw(node: &Node) -> duet_rpc::service::RpcClient {
    raw_client(&TcpStream::connect(node.rpc).unwrap())
}

fn aligned(sid: i64, prefix: String, measurements: Vec<String>) -> TSCreateAlignedTimeseriesReq {
    let n = measurements.len();
    TSCreateAlignedTimeseriesReq::new(
        sid,
        prefix,
        measurements,
        vec![2; n],
        vec![0; n],
        vec![0; n],
        None,
        None,
        None,
    )
}

/// Before login the call is refused as not logged in, whatever it holds;
/// it used to build every `prefix.m` first (2 000 copies of a 6 KB prefix
/// from one 14 KB frame) and answer with a length error.
#[test]
fn t85_create_aligned_timeseries_builds_nothing_before_login() {
    let node = Node::start();
    let mut c = raw(&node);
    let req = TSCreateAlignedTimeseriesReq::new(
        0,
        format!("root.pre.{}", "d".repeat(6000)),
        vec![String::new(); 2000],
        vec![],
        vec![],
        vec![],
        None,
        None,
        None,
    );
    let st = c.create_aligned_timeseries(req).expect("a reply");
    assert_eq!(st.code, status::NOT_LOGIN, "{:?}", st.message);

    // Logged in: a 1 000-byte prefix with 100 000 measurements would build
    // 100 MB of paths; over a 16 MiB request budget it is refused, naming
    // the limit, and nothing is created.
    let node = Node::start_with_config("[rpc]\nmax_request_memory_bytes = 16777216\n");
    let mut c = raw(&node);
    let sid = raw_login(&mut c);
    let prefix = format!("root.al.{}", "d".repeat(990));
    let names: Vec<String> = (0..100_000).map(|i| format!("m{i}")).collect();
    let st = c
        .create_aligned_timeseries(aligned(sid, prefix.clone(), names))
        .unwrap();
    assert_eq!(st.code, status::ILLEGAL_PARAMETER, "{:?}", st.message);
    let msg = st.message.unwrap_or_default();
    assert!(msg.contains("rpc.max_request_memory_bytes"), "{msg}");
    // A prefix over the path limit is refused before it is copied.
    let st = c
        .create_aligned_timeseries(aligned(
            sid,
            format!("root.al.{}", "d".repeat(5000)),
            vec!["s".into()],
        ))
        .unwrap();
    assert_eq!(st.code, status::ILLEGAL_PARAMETER, "{:?}", st.message);
    assert!(st.message.unwrap_or_default().contains("the limit is 1024"));
    // A good one still works.
    let st = c
        .create_aligned_timeseries(aligned(
            sid,
            "root.al.ok".into(),
            vec!["a".into(), "b".into()],
        ))
        .unwrap();
    assert_eq!(st.code, status::SUCCESS_STATUS, "{:?}", st.message);
    let shown = query(&mut node.session(), "COUNT TIMESERIES root.al.**").unwrap();
    assert_eq!(shown[0][0], "2");
}

/// A user who may write nothing is refused before its request is decoded:
/// the answer is "no permission", not the budget's "request too large"
/// that decoding it in full would reach.
#[test]
fn t86_a_user_who_may_write_nothing_costs_no_decoding() {
    let node = Node::start_with_config("[rpc]\nmax_request_memory_bytes = 1048576\n");
    node.sql("CREATE USER reader 'reader-pw'");
    node.sql("GRANT READ_DATA ON root.** TO USER reader");
    let mut c = raw(&node);
    let resp = raw_open_session(&mut c, "reader", "reader-pw");
    assert_eq!(resp.status.code, status::SUCCESS_STATUS);
    let sid = resp.session_id.unwrap();
    let n = 50_000;
    let st = c
        .insert_records(TSInsertRecordsReq::new(
            sid,
            vec!["root.nw.d".to_string(); n],
            (0..n).map(|i| vec![format!("m{i}")]).collect(),
            vec![encode_record_values(&[Value::Bool(true)]).unwrap(); n],
            vec![1; n],
            None,
        ))
        .unwrap();
    assert_eq!(st.code, status::NO_PERMISSION, "{:?}", st.message);
    assert!(st.message.unwrap_or_default().contains("WRITE_DATA"));
}

fn handshake(user: &str, password: &str) -> Vec<u8> {
    let params: std::collections::BTreeMap<String, String> = [
        ("clusterID", "guessing-cluster"),
        ("timestampPrecision", "ms"),
        ("username", user),
        ("password", password),
        ("duet.nodeId", "4242"),
        ("duet.protocolVersion", "1"),
        ("duet.stream", "G#1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    duet_pipe::wire::encode_params(&params)
}

/// Five wrong passwords through pipe handshakes refuse that address's
/// logins, through openSession too, for the rest of the minute; and a wrong
/// openSession password counts against handshakes alike. Before, a
/// handshake could be retried without limit.
#[test]
fn t87_password_guessing_through_pipe_handshakes_is_limited() {
    let node = Node::start();
    let before = node.metric("duet_auth_failures_total").unwrap_or(0.0);
    let mut c = raw(&node);
    for i in 0..5 {
        let r = c
            .pipe_transfer(TPipeTransferReq::new(
                1,
                51,
                handshake("root", &format!("guess{i}")),
            ))
            .expect("a reply");
        assert_eq!(
            r.status.code,
            status::PIPE_HANDSHAKE_ERROR,
            "{:?}",
            r.status.message
        );
        assert!(
            r.status
                .message
                .unwrap_or_default()
                .contains("credentials refused"),
            "guess {i}"
        );
    }
    // The right password now gets the limit's answer, not a session.
    let r = c
        .pipe_transfer(TPipeTransferReq::new(1, 51, handshake("root", "root")))
        .unwrap();
    let msg = r.status.message.clone().unwrap_or_default();
    assert_ne!(r.status.code, status::SUCCESS_STATUS, "{msg}");
    assert!(msg.contains("too many failed logins"), "{msg}");
    let mut other = raw(&node);
    let resp = raw_open_session(&mut other, "root", "root");
    assert_eq!(resp.status.code, status::WRONG_LOGIN_PASSWORD);
    assert!(resp
        .status
        .message
        .unwrap_or_default()
        .contains("too many failed logins"));
    let after = node.metric("duet_auth_failures_total").unwrap_or(0.0);
    assert_eq!(after - before, 7.0, "five guesses and two refusals counted");
}

/// insertRecordsOfOneDevice with empty lists, or an empty device, gets an
/// error status (it once panicked on every call, and the client saw its
/// connection drop); the connection goes on and nothing is written.
#[test]
fn t88_empty_records_of_one_device_are_an_error_not_a_panic() {
    let node = Node::start();
    let mut c = raw(&node);
    let sid = raw_login(&mut c);
    let v = encode_record_values(&[Value::I64(1)]).unwrap();
    for (device, measurements, values, times) in [
        ("root.e.d", vec![], vec![], vec![]),
        ("", vec![vec!["s".to_string()]], vec![v.clone()], vec![1]),
        ("root.e.d", vec![vec![]], vec![vec![]], vec![1]),
    ] {
        for aligned in [None, Some(true)] {
            let st = c
                .insert_records_of_one_device(TSInsertRecordsOfOneDeviceReq::new(
                    sid,
                    device.to_string(),
                    measurements.clone(),
                    values.clone(),
                    times.clone(),
                    aligned,
                ))
                .expect("a reply, not a dropped connection");
            assert_ne!(
                st.code,
                status::SUCCESS_STATUS,
                "{device:?} {measurements:?}"
            );
            assert_ne!(st.code, status::INTERNAL_SERVER_ERROR, "{:?}", st.message);
        }
    }
    assert_eq!(node.metric("duet_rpc_handler_panics_total"), Some(0.0));
    assert_eq!(
        c.test_connection_empty_r_p_c().unwrap().code,
        status::SUCCESS_STATUS
    );
    assert!(query(&mut node.session(), "SHOW TIMESERIES root.e.**")
        .unwrap()
        .is_empty());
}

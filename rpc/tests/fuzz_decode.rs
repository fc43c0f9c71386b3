//! Every client call's frame, whole and damaged, through the generated
//! processor as the server runs it (`service::process_frame`), in both
//! protocols; the frame readers; and the binary payloads inside calls
//! (insert records and tablets, query results' TsBlocks). Properties: a
//! decoder returns a value or an error, never panics; what a client encodes
//! the server decodes to the same request. 256 cases each in the test
//! suite; `scripts/fuzz.sh --proptest` runs them with PROPTEST_CASES=100000.

use duet_rpc::column::{Column, Value};
use duet_rpc::frame::{encode_frame, parse_frame, read_frame, FrameError, Protocol};
use duet_rpc::generated::*;
use duet_rpc::insert::{
    decode_record_values, decode_tablet, encode_record_values, encode_tablet, Tablet,
};
use duet_rpc::service::process_frame;
use duet_rpc::status::{ok_status, statement_resp};
use duet_rpc::tsblock::TsBlock;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TInputProtocol, TOutputProtocol,
};

// No single allocation over 64 MiB (shared with the other fuzz suites).
include!("../../tests/capped_alloc.rs");

/// Answers every call with success and remembers the request it decoded.
#[derive(Default)]
struct Echo(Mutex<Vec<String>>);

impl Echo {
    fn saw(&self, req: impl std::fmt::Debug) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("{req:?}"));
    }
    fn last(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }
}

type R<T> = thrift::Result<T>;

impl IClientRPCServiceSyncHandler for Echo {
    fn handle_open_session(&self, r: TSOpenSessionReq) -> R<TSOpenSessionResp> {
        self.saw(r);
        let v3 = TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3;
        Ok(TSOpenSessionResp::new(ok_status(), v3, 1, None))
    }
    fn handle_close_session(&self, r: TSCloseSessionReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_request_statement_id(&self, s: i64) -> R<i64> {
        self.saw(s);
        Ok(1)
    }
    fn handle_set_time_zone(&self, r: TSSetTimeZoneReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_get_time_zone(&self, s: i64) -> R<TSGetTimeZoneResp> {
        self.saw(s);
        Ok(TSGetTimeZoneResp::new(ok_status(), "UTC".to_string()))
    }
    fn handle_execute_statement_v2(&self, r: TSExecuteStatementReq) -> R<TSExecuteStatementResp> {
        self.saw(r);
        Ok(statement_resp(ok_status()))
    }
    fn handle_execute_query_statement_v2(
        &self,
        r: TSExecuteStatementReq,
    ) -> R<TSExecuteStatementResp> {
        self.saw(r);
        Ok(statement_resp(ok_status()))
    }
    fn handle_execute_update_statement_v2(
        &self,
        r: TSExecuteStatementReq,
    ) -> R<TSExecuteStatementResp> {
        self.saw(r);
        Ok(statement_resp(ok_status()))
    }
    fn handle_fetch_results_v2(&self, r: TSFetchResultsReq) -> R<TSFetchResultsResp> {
        self.saw(r);
        Ok(TSFetchResultsResp::new(
            ok_status(),
            false,
            true,
            None,
            None,
            false,
        ))
    }
    fn handle_close_operation(&self, r: TSCloseOperationReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_insert_record(&self, r: TSInsertRecordReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_insert_records(&self, r: TSInsertRecordsReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_insert_records_of_one_device(&self, r: TSInsertRecordsOfOneDeviceReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_insert_string_record(&self, r: TSInsertStringRecordReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_insert_string_records_of_one_device(
        &self,
        r: TSInsertStringRecordsOfOneDeviceReq,
    ) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_insert_string_records(&self, r: TSInsertStringRecordsReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_execute_raw_data_query_v2(&self, r: TSRawDataQueryReq) -> R<TSExecuteStatementResp> {
        self.saw(r);
        Ok(statement_resp(ok_status()))
    }
    fn handle_execute_last_data_query_v2(
        &self,
        r: TSLastDataQueryReq,
    ) -> R<TSExecuteStatementResp> {
        self.saw(r);
        Ok(statement_resp(ok_status()))
    }
    fn handle_insert_tablet(&self, r: TSInsertTabletReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_insert_tablets(&self, r: TSInsertTabletsReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_set_storage_group(&self, s: i64, g: String) -> R<TSStatus> {
        self.saw((s, g));
        Ok(ok_status())
    }
    fn handle_delete_storage_groups(&self, s: i64, g: Vec<String>) -> R<TSStatus> {
        self.saw((s, g));
        Ok(ok_status())
    }
    fn handle_create_timeseries(&self, r: TSCreateTimeseriesReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_create_aligned_timeseries(&self, r: TSCreateAlignedTimeseriesReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_create_multi_timeseries(&self, r: TSCreateMultiTimeseriesReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_delete_timeseries(&self, s: i64, p: Vec<String>) -> R<TSStatus> {
        self.saw((s, p));
        Ok(ok_status())
    }
    fn handle_delete_data(&self, r: TSDeleteDataReq) -> R<TSStatus> {
        self.saw(r);
        Ok(ok_status())
    }
    fn handle_test_connection_empty_r_p_c(&self) -> R<TSStatus> {
        self.saw(());
        Ok(ok_status())
    }
    fn handle_pipe_transfer(&self, r: TPipeTransferReq) -> R<TPipeTransferResp> {
        self.saw(r);
        Ok(TPipeTransferResp::new(ok_status(), None))
    }
}

/// An `Echo` the test keeps a handle on while the processor owns it.
struct Shared(Arc<Echo>);

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl IClientRPCServiceSyncHandler for Shared {
            $(fn $name(&self, $($arg: $ty),*) -> R<$ret> { self.0.$name($($arg),*) })*
        }
    };
}

forward! {
    handle_open_session(r: TSOpenSessionReq) -> TSOpenSessionResp;
    handle_close_session(r: TSCloseSessionReq) -> TSStatus;
    handle_request_statement_id(s: i64) -> i64;
    handle_set_time_zone(r: TSSetTimeZoneReq) -> TSStatus;
    handle_get_time_zone(s: i64) -> TSGetTimeZoneResp;
    handle_execute_statement_v2(r: TSExecuteStatementReq) -> TSExecuteStatementResp;
    handle_execute_query_statement_v2(r: TSExecuteStatementReq) -> TSExecuteStatementResp;
    handle_execute_update_statement_v2(r: TSExecuteStatementReq) -> TSExecuteStatementResp;
    handle_fetch_results_v2(r: TSFetchResultsReq) -> TSFetchResultsResp;
    handle_close_operation(r: TSCloseOperationReq) -> TSStatus;
    handle_insert_record(r: TSInsertRecordReq) -> TSStatus;
    handle_insert_records(r: TSInsertRecordsReq) -> TSStatus;
    handle_insert_records_of_one_device(r: TSInsertRecordsOfOneDeviceReq) -> TSStatus;
    handle_insert_string_record(r: TSInsertStringRecordReq) -> TSStatus;
    handle_insert_string_records_of_one_device(r: TSInsertStringRecordsOfOneDeviceReq) -> TSStatus;
    handle_insert_string_records(r: TSInsertStringRecordsReq) -> TSStatus;
    handle_execute_raw_data_query_v2(r: TSRawDataQueryReq) -> TSExecuteStatementResp;
    handle_execute_last_data_query_v2(r: TSLastDataQueryReq) -> TSExecuteStatementResp;
    handle_insert_tablet(r: TSInsertTabletReq) -> TSStatus;
    handle_insert_tablets(r: TSInsertTabletsReq) -> TSStatus;
    handle_set_storage_group(s: i64, g: String) -> TSStatus;
    handle_delete_storage_groups(s: i64, g: Vec<String>) -> TSStatus;
    handle_create_timeseries(r: TSCreateTimeseriesReq) -> TSStatus;
    handle_create_aligned_timeseries(r: TSCreateAlignedTimeseriesReq) -> TSStatus;
    handle_create_multi_timeseries(r: TSCreateMultiTimeseriesReq) -> TSStatus;
    handle_delete_timeseries(s: i64, p: Vec<String>) -> TSStatus;
    handle_delete_data(r: TSDeleteDataReq) -> TSStatus;
    handle_test_connection_empty_r_p_c() -> TSStatus;
    handle_pipe_transfer(r: TPipeTransferReq) -> TPipeTransferResp;
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Client = IClientRPCServiceSyncClient<Box<dyn TInputProtocol>, Box<dyn TOutputProtocol>>;

/// The message the generated client writes for one call (it then fails to
/// read a reply, which does not matter here).
fn message(protocol: Protocol, call: impl FnOnce(&mut Client)) -> Vec<u8> {
    let sink = Sink::default();
    let empty: &'static [u8] = &[];
    let (i, o): (Box<dyn TInputProtocol>, Box<dyn TOutputProtocol>) = match protocol {
        Protocol::Binary => (
            Box::new(TBinaryInputProtocol::new(empty, true)),
            Box::new(TBinaryOutputProtocol::new(sink.clone(), true)),
        ),
        Protocol::Compact => (
            Box::new(TCompactInputProtocol::new(empty)),
            Box::new(TCompactOutputProtocol::new(sink.clone())),
        ),
    };
    call(&mut IClientRPCServiceSyncClient::new(i, o));
    let bytes = sink.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    bytes
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Binary), Just(Protocol::Compact)]
}

/// One request of each call, with arbitrary contents.
#[derive(Debug, Clone)]
enum Call {
    Open(TSOpenSessionReq),
    Exec(u8, TSExecuteStatementReq),
    Fetch(TSFetchResultsReq),
    Record(TSInsertRecordReq),
    Records(TSInsertRecordsReq),
    OneDevice(TSInsertRecordsOfOneDeviceReq),
    Strings(TSInsertStringRecordReq),
    Tablet(TSInsertTabletReq),
    Tablets(TSInsertTabletsReq),
    CreateTs(TSCreateTimeseriesReq),
    CreateAligned(TSCreateAlignedTimeseriesReq),
    CreateMulti(TSCreateMultiTimeseriesReq),
    Delete(TSDeleteDataReq),
    Pipe(TPipeTransferReq),
    /// The calls with plain arguments: which, session id, names.
    Small(u8, i64, Vec<String>),
}

fn text() -> impl Strategy<Value = String> {
    ".{0,10}"
}

fn map() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(text(), text(), 0..3)
}

fn call() -> impl Strategy<Value = Call> {
    let bytes = || vec(any::<u8>(), 0..40);
    let names = || vec(text(), 0..4);
    let v3 = TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3;
    prop_oneof![
        (
            text(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(map())
        )
            .prop_map(move |(z, u, p, c)| Call::Open(TSOpenSessionReq::new(v3, z, u, p, c))),
        (
            0u8..3,
            any::<i64>(),
            text(),
            any::<i64>(),
            any::<Option<i32>>(),
            any::<Option<i64>>()
        )
            .prop_map(|(k, s, t, id, f, to)| Call::Exec(
                k,
                TSExecuteStatementReq::new(s, t, id, f, to, None, Some(true))
            )),
        (
            any::<i64>(),
            text(),
            any::<i32>(),
            any::<i64>(),
            any::<bool>()
        )
            .prop_map(|(s, t, f, q, a)| Call::Fetch(TSFetchResultsReq::new(
                s, t, f, q, a, None, 3i64
            ))),
        (any::<i64>(), text(), names(), bytes(), any::<i64>()).prop_map(|(s, p, m, v, t)| {
            Call::Record(TSInsertRecordReq::new(s, p, m, v, t, true, None, vec![1i8]))
        }),
        (
            any::<i64>(),
            names(),
            vec(names(), 0..3),
            vec(bytes(), 0..3),
            vec(any::<i64>(), 0..3)
        )
            .prop_map(|(s, p, m, v, t)| Call::Records(TSInsertRecordsReq::new(
                s, p, m, v, t, false
            ))),
        (
            any::<i64>(),
            text(),
            vec(names(), 0..3),
            vec(bytes(), 0..3),
            vec(any::<i64>(), 0..3)
        )
            .prop_map(|(s, p, m, v, t)| Call::OneDevice(
                TSInsertRecordsOfOneDeviceReq::new(s, p, m, v, t, None)
            )),
        (any::<i64>(), text(), names(), names(), any::<i64>()).prop_map(|(s, p, m, v, t)| {
            Call::Strings(TSInsertStringRecordReq::new(s, p, m, v, t, None, 5i64))
        }),
        (
            any::<i64>(),
            text(),
            names(),
            bytes(),
            bytes(),
            vec(any::<i32>(), 0..4),
            any::<i32>()
        )
            .prop_map(
                |(s, p, m, v, t, ty, n)| Call::Tablet(TSInsertTabletReq::new(
                    s,
                    p,
                    m,
                    v,
                    t,
                    ty,
                    n,
                    None,
                    None,
                    vec![0i8],
                    false,
                    vec![1i8],
                    2i8
                ))
            ),
        (
            any::<i64>(),
            names(),
            vec(bytes(), 0..3),
            vec(any::<i32>(), 0..3)
        )
            .prop_map(|(s, p, v, n)| Call::Tablets(TSInsertTabletsReq::new(
                s,
                p.clone(),
                vec![p],
                v.clone(),
                v,
                vec![n.clone()],
                n,
                None
            ))),
        (
            any::<i64>(),
            text(),
            any::<i32>(),
            proptest::option::of(map())
        )
            .prop_map(|(s, p, t, m)| Call::CreateTs(TSCreateTimeseriesReq::new(
                s,
                p,
                t,
                0,
                0,
                m.clone(),
                m,
                None,
                "alias".to_string()
            ))),
        (any::<i64>(), text(), names(), vec(any::<i32>(), 0..3)).prop_map(|(s, p, m, t)| {
            Call::CreateAligned(TSCreateAlignedTimeseriesReq::new(
                s,
                p,
                m.clone(),
                t.clone(),
                t.clone(),
                t,
                m,
                None,
                vec![BTreeMap::new()],
            ))
        }),
        (
            any::<i64>(),
            names(),
            vec(any::<i32>(), 0..3),
            vec(map(), 0..2)
        )
            .prop_map(
                |(s, p, t, m)| Call::CreateMulti(TSCreateMultiTimeseriesReq::new(
                    s,
                    p.clone(),
                    t.clone(),
                    t.clone(),
                    t,
                    m.clone(),
                    m,
                    None,
                    p
                ))
            ),
        (any::<i64>(), names(), any::<i64>(), any::<i64>())
            .prop_map(|(s, p, a, b)| Call::Delete(TSDeleteDataReq::new(s, p, a, b))),
        (any::<i8>(), any::<i16>(), bytes())
            .prop_map(|(v, t, b)| Call::Pipe(TPipeTransferReq::new(v, t, b))),
        (0u8..9, any::<i64>(), names()).prop_map(|(k, s, n)| Call::Small(k, s, n)),
    ]
}

/// The message for `call`, and the Debug form of what the handler must see.
fn encode(protocol: Protocol, call: &Call) -> (Vec<u8>, String) {
    macro_rules! send {
        ($method:ident, $shown:expr, $($arg:expr),*) => {{
            let shown = format!("{:?}", $shown);
            (message(protocol, |c| { let _ = c.$method($($arg),*); }), shown)
        }};
    }
    match call.clone() {
        Call::Open(r) => send!(open_session, r, r.clone()),
        Call::Exec(0, r) => send!(execute_statement_v2, r, r.clone()),
        Call::Exec(1, r) => send!(execute_query_statement_v2, r, r.clone()),
        Call::Exec(_, r) => send!(execute_update_statement_v2, r, r.clone()),
        Call::Fetch(r) => send!(fetch_results_v2, r, r.clone()),
        Call::Record(r) => send!(insert_record, r, r.clone()),
        Call::Records(r) => send!(insert_records, r, r.clone()),
        Call::OneDevice(r) => send!(insert_records_of_one_device, r, r.clone()),
        Call::Strings(r) => send!(insert_string_record, r, r.clone()),
        Call::Tablet(r) => send!(insert_tablet, r, r.clone()),
        Call::Tablets(r) => send!(insert_tablets, r, r.clone()),
        Call::CreateTs(r) => send!(create_timeseries, r, r.clone()),
        Call::CreateAligned(r) => send!(create_aligned_timeseries, r, r.clone()),
        Call::CreateMulti(r) => send!(create_multi_timeseries, r, r.clone()),
        Call::Delete(r) => send!(delete_data, r, r.clone()),
        Call::Pipe(r) => send!(pipe_transfer, r, r.clone()),
        Call::Small(k, s, n) => {
            let first = n.first().cloned().unwrap_or_default();
            match k {
                0 => send!(
                    close_session,
                    TSCloseSessionReq::new(s),
                    TSCloseSessionReq::new(s)
                ),
                1 => send!(request_statement_id, s, s),
                2 => {
                    let r = TSSetTimeZoneReq::new(s, first);
                    send!(set_time_zone, r, r.clone())
                }
                3 => send!(get_time_zone, s, s),
                4 => {
                    let r = TSCloseOperationReq::new(s, s, None, first);
                    send!(close_operation, r, r.clone())
                }
                5 => send!(set_storage_group, (s, &first), s, first.clone()),
                6 => send!(delete_storage_groups, (s, &n), s, n.clone()),
                7 => send!(delete_timeseries, (s, &n), s, n.clone()),
                _ => send!(test_connection_empty_r_p_c, (),),
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Damage {
    Cut(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    /// A length or size field made huge (binary i32, compact varint).
    Huge(prop::sample::Index, bool),
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    let one = prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Cut),
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| Damage::Flip(i, x)),
        (any::<prop::sample::Index>(), vec(any::<u8>(), 1..6))
            .prop_map(|(i, b)| Damage::Insert(i, b)),
        (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(i, b)| Damage::Huge(i, b)),
    ];
    vec(one, 1..4)
}

/// Damages a message; its first byte (the protocol) stays.
fn apply(mut bytes: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    for d in damage {
        let len = bytes.len().max(2);
        let at = |i: &prop::sample::Index, n: usize| i.index(len).max(1).min(n);
        match d {
            Damage::Cut(i) => bytes.truncate(at(i, bytes.len())),
            Damage::Flip(i, x) => {
                let k = at(i, bytes.len());
                if let Some(b) = bytes.get_mut(k) {
                    *b ^= x;
                }
            }
            Damage::Insert(i, b) => {
                let k = at(i, bytes.len());
                bytes.splice(k..k, b.iter().copied());
            }
            Damage::Huge(i, binary) => {
                let k = at(i, bytes.len());
                let huge: &[u8] = if *binary {
                    &[0x7f, 0xff, 0xff, 0xf0]
                } else {
                    &[0xf0, 0xff, 0xff, 0xff, 0x07]
                };
                let end = (k + huge.len()).min(bytes.len());
                bytes.splice(k..end, huge.iter().copied());
            }
        }
    }
    bytes
}

fn process(frame: &[u8], protocol: Protocol) -> duet_rpc::Result<Vec<u8>> {
    let processor = IClientRPCServiceSyncProcessor::new(Echo::default());
    process_frame(&processor, frame, protocol)
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::I32),
        any::<i64>().prop_map(Value::I64),
        any::<f32>().prop_map(Value::F32),
        any::<f64>().prop_map(Value::F64),
        vec(any::<u8>(), 0..8).prop_map(Value::Text),
    ]
}

fn column(n: usize) -> impl Strategy<Value = Column> {
    prop_oneof![
        vec(any::<Option<bool>>(), n).prop_map(Column::Bool),
        vec(any::<Option<i32>>(), n).prop_map(Column::I32),
        vec(any::<Option<i64>>(), n).prop_map(Column::I64),
        vec(any::<Option<f32>>(), n).prop_map(Column::F32),
        vec(any::<Option<f64>>(), n).prop_map(Column::F64),
        vec(proptest::option::of(vec(any::<u8>(), 0..5)), n).prop_map(Column::Text),
    ]
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

proptest! {
    /// What the client encodes, the server decodes to the same request.
    #[test]
    fn every_call_round_trips(p in protocol(), c in call()) {
        let (msg, expected) = encode(p, &c);
        let echo = Arc::new(Echo::default());
        let processor = IClientRPCServiceSyncProcessor::new(Shared(echo.clone()));
        let reply = process_frame(&processor, &msg, p);
        prop_assert!(reply.is_ok(), "{:?}", reply.err());
        prop_assert_eq!(echo.last(), Some(expected));
    }

    /// A damaged call is a reply or a clean error.
    #[test]
    fn damaged_calls_never_panic(p in protocol(), c in call(), d in damage()) {
        let (msg, _) = encode(p, &c);
        let _ = process(&apply(msg, &d), p);
    }

    #[test]
    fn arbitrary_frames_never_panic(p in protocol(), bytes in vec(any::<u8>(), 0..120)) {
        let first = match p {
            Protocol::Binary => 0x80,
            Protocol::Compact => 0x82,
        };
        let mut frame = vec![first];
        frame.extend(bytes);
        let _ = process(&frame, p);
        let _ = duet_rpc::service::method_name(&frame, p);
    }

    /// The async reader (parse_frame) and the blocking one agree on any stream.
    #[test]
    fn frame_readers_agree(stream in vec(any::<u8>(), 0..40), max in 1usize..32) {
        let by_parse = parse_frame(&stream, max);
        let by_read = read_frame(&mut &stream[..], max);
        match (by_parse, by_read) {
            (Ok(Some((n, payload))), Ok(frame)) => {
                prop_assert_eq!(payload, &frame[..]);
                prop_assert_eq!(n, frame.len() + 4);
            }
            (Ok(None), Err(FrameError::Closed | FrameError::Io(_))) => {}
            (Err(FrameError::TooLarge { .. }), Err(FrameError::TooLarge { .. })) => {}
            (Err(FrameError::Invalid { .. }), Err(FrameError::Invalid { .. })) => {}
            (a, b) => prop_assert!(false, "parse_frame {:?}, read_frame {:?}", a, b),
        }
    }

    #[test]
    fn frames_round_trip(payload in vec(any::<u8>(), 1..100)) {
        let framed = encode_frame(&payload).map_err(fail)?;
        let parsed = parse_frame(&framed, 100).ok().flatten().map(|(_, p)| p.to_vec());
        prop_assert_eq!(parsed, Some(payload.clone()));
        prop_assert_eq!(read_frame(&mut &framed[..], 100).ok(), Some(payload));
    }

    #[test]
    fn tsblocks_round_trip_and_garbage_is_an_error(
        cols in vec(column(5), 0..4),
        times in vec(any::<i64>(), 5),
        garbage in vec(any::<u8>(), 0..120),
    ) {
        let block = TsBlock::new(times, cols).map_err(fail)?;
        let bytes = block.encode();
        let back = TsBlock::decode(&bytes).map_err(fail)?;
        prop_assert_eq!(back.encode(), bytes);
        if let Ok(b) = TsBlock::decode(&garbage) {
            let again = TsBlock::decode(&b.encode()).map_err(fail)?;
            prop_assert_eq!(again.encode(), b.encode());
        }
    }

    #[test]
    fn record_values_round_trip_and_garbage_is_an_error(
        values in vec(value(), 0..6),
        garbage in vec(any::<u8>(), 0..80),
        n in 0usize..8,
    ) {
        let bytes = encode_record_values(&values).map_err(fail)?;
        let back = decode_record_values(&bytes, values.len()).map_err(fail)?;
        prop_assert_eq!(encode_record_values(&back).ok(), Some(bytes));
        let _ = decode_record_values(&garbage, n);
    }

    #[test]
    fn tablets_round_trip_and_garbage_is_an_error(
        cols in vec(column(4), 1..4),
        times in vec(any::<i64>(), 4),
        ts in vec(any::<u8>(), 0..64),
        vs in vec(any::<u8>(), 0..64),
        types in vec(-1i32..13, 0..4),
        size in -1i32..10,
    ) {
        let t = Tablet { timestamps: times, columns: cols };
        let enc = encode_tablet(&t).map_err(fail)?;
        let back = decode_tablet(&enc.timestamps, &enc.values, &enc.types, enc.size).map_err(fail)?;
        prop_assert_eq!(encode_tablet(&back).ok(), Some(enc));
        let _ = duet_rpc::insert::tablet_decoded_bytes(&types, size, vs.len());
        let _ = decode_tablet(&ts, &vs, &types, size);
    }
}

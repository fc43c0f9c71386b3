//! What reaches a node from outside, through the node's own code: `duet.toml`
//! text (arbitrary, and the shipped file damaged), and client calls run by
//! the server's request handler (`ConnHandler` behind the generated
//! processor, as the connection loop runs it) on a fresh connection and on
//! one that has logged in. Properties: a config parses or is refused, a
//! frame gets a reply or closes its connection; nothing panics. 256 cases
//! each in the test suite; `scripts/fuzz.sh --proptest` runs them with
//! PROPTEST_CASES=100000.

use duet_engine::{Engine, EngineOptions};
use duet_executor::{Executor, NodeInfo};
use duet_rpc::frame::Protocol;
use duet_rpc::generated::*;
use duet_rpc::service::process_frame;
use duet_server::config::Config;
use duet_server::metrics::Metrics;
use duet_server::service::{ConnHandler, Shared};
use proptest::collection::vec;
use proptest::prelude::*;
use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TInputProtocol, TOutputProtocol,
};

const SHIPPED: &str = include_str!("../../conf/duet.toml");

struct Node {
    _dir: tempfile::TempDir,
    shared: Arc<Shared>,
    logged_in: Mutex<IClientRPCServiceSyncProcessor<ConnHandler>>,
}

fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Arc::new(Engine::open(dir.path(), EngineOptions::default()).expect("engine"));
        let exec = Executor::new(engine, NodeInfo::default());
        let metrics = Arc::new(Metrics::new());
        let shared = Arc::new(Shared::new(
            exec,
            metrics,
            1024,
            1 << 20,
            8,
            16 << 20,
            1 << 20,
        ));
        let handler = ConnHandler::new(shared.clone(), Arc::new(AtomicBool::new(false)), None);
        let v3 = TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3;
        let req = TSOpenSessionReq::new(v3, "UTC".into(), "root".into(), "root".to_string(), None);
        let resp = handler.handle_open_session(req).expect("openSession");
        assert_eq!(resp.status.code, duet_rpc::status::SUCCESS_STATUS);
        Node {
            _dir: dir,
            shared,
            logged_in: Mutex::new(IClientRPCServiceSyncProcessor::new(handler)),
        }
    })
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

/// The message the generated client writes for one call.
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

/// A request of each kind the handler treats differently, with arbitrary
/// text, numbers and bytes where the client chooses them.
fn request(
    protocol: Protocol,
    kind: u8,
    text: String,
    n: i64,
    bytes: Vec<u8>,
    names: Vec<String>,
) -> Vec<u8> {
    let s = |x: &str| x.to_string();
    let (m, i) = (names.clone(), n as i32);
    message(protocol, |c| {
        let _ = match kind % 20 {
            0 => c
                .execute_statement_v2(TSExecuteStatementReq::new(1, text, n, i, n, None, None))
                .map(drop),
            1 => c
                .fetch_results_v2(TSFetchResultsReq::new(1, text, i, n, true, n, n))
                .map(drop),
            2 => c
                .insert_record(TSInsertRecordReq::new(
                    1, text, m, bytes, n, None, None, None,
                ))
                .map(drop),
            3 => c
                .insert_tablet(TSInsertTabletReq::new(
                    1,
                    text,
                    m,
                    bytes.clone(),
                    bytes,
                    vec![i, 2, 5],
                    i,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ))
                .map(drop),
            4 => c
                .insert_records(TSInsertRecordsReq::new(
                    1,
                    vec![text],
                    vec![m],
                    vec![bytes],
                    vec![n],
                    None,
                ))
                .map(drop),
            5 => c
                .insert_string_record(TSInsertStringRecordReq::new(
                    1, text, m, names, n, None, None,
                ))
                .map(drop),
            6 => c
                .create_timeseries(TSCreateTimeseriesReq::new(
                    1, text, i, i, i, None, None, None, None,
                ))
                .map(drop),
            7 => c
                .delete_data(TSDeleteDataReq::new(1, m, n, n.wrapping_add(10)))
                .map(drop),
            8 => c
                .pipe_transfer(TPipeTransferReq::new(1, (n % 1024) as i16 + 50, bytes))
                .map(drop),
            9 => c
                .close_operation(TSCloseOperationReq::new(1, n, n, None))
                .map(drop),
            10 => c.set_time_zone(TSSetTimeZoneReq::new(1, text)).map(drop),
            11 => c
                .insert_records_of_one_device(TSInsertRecordsOfOneDeviceReq::new(
                    1,
                    text,
                    vec![m],
                    vec![bytes],
                    vec![n],
                    n % 2 == 0,
                ))
                .map(drop),
            12 => c
                .insert_string_records_of_one_device(TSInsertStringRecordsOfOneDeviceReq::new(
                    1,
                    text,
                    vec![m],
                    vec![names],
                    vec![n],
                    None,
                ))
                .map(drop),
            13 => c
                .insert_string_records(TSInsertStringRecordsReq::new(
                    1,
                    vec![text],
                    vec![m],
                    vec![names],
                    vec![n],
                    None,
                ))
                .map(drop),
            14 => c
                .insert_tablets(TSInsertTabletsReq::new(
                    1,
                    vec![text],
                    vec![m],
                    vec![bytes.clone()],
                    vec![bytes],
                    vec![vec![i, 2]],
                    vec![i],
                    None,
                ))
                .map(drop),
            15 => c
                .create_aligned_timeseries(TSCreateAlignedTimeseriesReq::new(
                    1,
                    text,
                    m,
                    vec![i],
                    vec![i],
                    vec![i],
                    None,
                    None,
                    None,
                ))
                .map(drop),
            16 => c
                .create_multi_timeseries(TSCreateMultiTimeseriesReq::new(
                    1,
                    m,
                    vec![i, 3],
                    vec![i],
                    vec![0],
                    None,
                    None,
                    None,
                    None,
                ))
                .map(drop),
            17 => c
                .execute_raw_data_query_v2(TSRawDataQueryReq::new(
                    1,
                    vec![text],
                    i,
                    n,
                    n.wrapping_add(100),
                    n,
                    None,
                    None,
                    n,
                    None,
                ))
                .map(drop),
            18 => c
                .execute_last_data_query_v2(TSLastDataQueryReq::new(
                    1, m, i, n, n, None, None, None, None,
                ))
                .map(drop),
            _ => c
                .open_session(TSOpenSessionReq::new(
                    TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
                    text,
                    s("nobody"),
                    s("x"),
                    None,
                ))
                .map(drop),
        };
    })
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Binary), Just(Protocol::Compact)]
}

/// Statement text: mostly near real SQL, some arbitrary.
fn sql() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "select * from root.**",
            "select count(s) from root.fz.** group by ([0, 100), 7ms)",
            "insert into root.fz.d(time, s, t) values (1, 2, 'x')",
            "create database root.fz",
            "show timeseries",
            "delete from root.fz.d.s where time < 5",
            "show versions root.fz.** packed",
            "verify replica local buckets 3",
        ]).prop_map(String::from),
        1 => ".{0,30}",
    ]
}

#[derive(Debug, Clone)]
enum Damage {
    Cut(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    Huge(prop::sample::Index),
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    let one = prop_oneof![
        any::<prop::sample::Index>().prop_map(Damage::Cut),
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| Damage::Flip(i, x)),
        any::<prop::sample::Index>().prop_map(Damage::Huge),
    ];
    vec(one, 0..3)
}

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
            Damage::Huge(i) => {
                let k = at(i, bytes.len());
                let end = (k + 4).min(bytes.len());
                bytes.splice(k..end, [0x7f, 0xff, 0xff, 0xf0]);
            }
        }
    }
    bytes
}

proptest! {
    #[test]
    fn arbitrary_config_text_never_panics(text in "[a-z_\\[\\]=\\.\"0-9 \\n-]{0,80}") {
        if let Ok(cfg) = Config::parse(&text) {
            if cfg.validate().is_ok() {
                let _ = (cfg.storage.rocksdb_memory_bytes(), cfg.storage.pipe_read_bytes());
                let _ = cfg.replication.gate();
            }
        }
    }

    /// The shipped file with one line replaced by an arbitrary value for
    /// its key, or cut anywhere.
    #[test]
    fn damaged_shipped_config_never_panics(
        line in any::<prop::sample::Index>(),
        value in prop_oneof![
            any::<i64>().prop_map(|v| v.to_string()),
            any::<u64>().prop_map(|v| v.to_string()),
            any::<f64>().prop_map(|v| format!("{v:?}")),
            "\"[ -~]{0,10}\"",
            Just("true".to_string()),
            Just("[]".to_string()),
        ],
        cut in any::<prop::sample::Index>(),
    ) {
        let lines: Vec<&str> = SHIPPED.lines().collect();
        let k = line.index(lines.len().max(1));
        let text: String = lines.iter().enumerate().map(|(i, l)| {
            match (i == k, l.split_once('=')) {
                (true, Some((key, _))) => format!("{key}= {value}\n"),
                _ => format!("{l}\n"),
            }
        }).collect();
        for t in [&text[..], &text[..cut.index(text.len().max(1)).min(text.len())]] {
            if let Ok(cfg) = Config::parse(t) {
                if cfg.validate().is_ok() {
                    let _ = (cfg.storage.rocksdb_memory_bytes(), cfg.storage.query_page_bytes());
                    let _ = cfg.replication.gate();
                }
            }
        }
    }

    /// Calls, whole or damaged, on a fresh connection and on one logged in.
    #[test]
    fn server_handles_any_call(
        p in protocol(),
        kind in any::<u8>(),
        text in sql(),
        n in prop_oneof![any::<i64>(), -3i64..100],
        bytes in vec(any::<u8>(), 0..48),
        names in vec("[a-z]{1,3}", 0..4),
        d in damage(),
        logged_in in any::<bool>(),
    ) {
        let frame = apply(request(p, kind, text, n, bytes, names), &d);
        let node = node();
        if logged_in {
            let processor = node.logged_in.lock().unwrap_or_else(|e| e.into_inner());
            let _ = process_frame(&*processor, &frame, p);
        } else {
            let fresh = IClientRPCServiceSyncProcessor::new(ConnHandler::new(
                node.shared.clone(),
                Arc::new(AtomicBool::new(false)),
                None,
            ));
            let _ = process_frame(&fresh, &frame, p);
        }
    }
}

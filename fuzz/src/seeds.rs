//! Seed inputs the harnesses accept, so fuzzing starts from real requests
//! rather than having to discover thrift's headers byte by byte. Every
//! target writes its own at start-up when `DUET_FUZZ_SEEDS` names a
//! directory (scripts/fuzz.sh sets it to the corpus directory): a separate
//! binary cannot link against the instrumented build.

use crate::{PIPE_AFTER_HANDSHAKE, RPC_FRAMED, RPC_LOGGED_IN};
use duet_engine::chunk::{Chunk, Tombstone};
use duet_engine::event::{ChangeEvent, EventBody, SchemaChange, SeriesDelete, SeriesWrite};
use duet_engine::{Column, DataType, Version};
use duet_pipe::compress::Codec;
use duet_rpc::column::{Column as RpcColumn, Value};
use duet_rpc::frame::{encode_frame, Protocol};
use duet_rpc::generated::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TInputProtocol, TOutputProtocol,
};

/// Writes `target`'s seeds to `$DUET_FUZZ_SEEDS/<target>/`, if set.
pub fn write_if_asked(target: &str) {
    let Some(dir) = std::env::var_os("DUET_FUZZ_SEEDS") else {
        return;
    };
    let dir = std::path::Path::new(&dir).join(target);
    let _ = std::fs::create_dir_all(&dir);
    for (t, name, bytes) in all() {
        if t == target {
            let _ = std::fs::write(dir.join(format!("seed-{name}")), bytes);
        }
    }
}

/// Every seed, as (target, name, bytes).
pub fn all() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, s) in SQL.iter().enumerate() {
        out.push(("sql", format!("sql{i}"), s.as_bytes().to_vec()));
    }
    for (i, msg) in calls(Protocol::Binary)
        .into_iter()
        .chain(calls(Protocol::Compact))
        .enumerate()
    {
        let framed = encode_frame(&msg).unwrap_or_default();
        for mode in [0, RPC_FRAMED, RPC_LOGGED_IN, RPC_FRAMED | RPC_LOGGED_IN] {
            let body = if mode & RPC_FRAMED != 0 {
                &framed
            } else {
                &msg
            };
            let mut bytes = vec![mode];
            bytes.extend_from_slice(body);
            out.push(("rpc_frames", format!("call{i}-mode{mode}"), bytes));
        }
    }
    for (i, p) in payloads().into_iter().enumerate() {
        out.push(("rpc_payloads", format!("payload{i}"), p));
    }
    for (i, p) in pipe_inputs().into_iter().enumerate() {
        out.push(("pipe_transfer", format!("pipe{i}"), p));
    }
    for (i, c) in chunks().iter().enumerate() {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&c.encode());
        out.push(("chunk_event", format!("chunk{i}"), bytes));
    }
    for (i, e) in events().iter().enumerate() {
        let mut bytes = vec![1];
        bytes.extend_from_slice(&e.encode());
        out.push(("chunk_event", format!("event{i}"), bytes));
    }
    let mut merge = vec![2];
    for (i, c) in chunks().iter().enumerate() {
        if i > 0 {
            merge.extend_from_slice(&[0xfe, 0xfe]);
        }
        merge.extend_from_slice(&c.encode());
    }
    out.push(("chunk_event", "merge".to_string(), merge));
    let shipped = include_str!("../../conf/duet.toml");
    out.push(("config", "shipped".to_string(), shipped.as_bytes().to_vec()));
    out.push((
        "config",
        "small".to_string(),
        b"[rpc]\nport = 0\nmax_frame_bytes = 1024\n[replication]\nmax_pending_bytes = 0\n".to_vec(),
    ));
    out
}

const SQL: &[&str] = &[
    "CREATE DATABASE root.sg WITH BUCKET_SPAN=1h",
    "create timeseries root.sg.d1.s1 with datatype=INT64, encoding=RLE, compressor=LZ4",
    "INSERT INTO root.sg.d1(timestamp, s1, s2) VALUES (1, 2.5, 'x'), (2000-01-01T00:00:00Z, -3, null)",
    "select s1, count(s2) from root.sg.** where time >= now() - 1h and s1 > 3 or not s2 = 'a' group by ([0, 100), 10ms) limit 10 offset 2",
    "select last * from root.sg.d1 align by device",
    "delete from root.sg.d1.s1 where time <= 2024-01-01T00:00:00+08:00",
    "show timeseries root.**; show databases; count timeseries root.sg.*",
    "create pipe AB with source ('source.mode.double-living'='true', 'source.pattern'='root.sg') with sink ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='6668')",
    "START PIPE AB; STOP PIPE AB; DROP PIPE AB; SHOW PIPES",
    "CREATE USER `bob` 'pw'; ALTER USER bob SET PASSWORD 'x'; DROP USER bob; LIST USER",
    "verify replica root.sg.** where time > 5 buckets 4",
    "show versions root.sg.d1.s1 where time < 10 packed",
    "SET READ_MODE = DUAL -- comment",
    "select avg(s1), max_value(s1) from root.sg.d1 where s1 in (1, 2) fill(previous)",
];

/// One message per client call, as the generated client writes it.
fn calls(protocol: Protocol) -> Vec<Vec<u8>> {
    let sid = 1i64;
    let mut c = Recorder::new(protocol);
    let s = |st: &str| st.to_string();
    let open = TSOpenSessionReq::new(
        TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
        s("UTC"),
        s("root"),
        s("root"),
        BTreeMap::from([(s("sql_dialect"), s("tree"))]),
    );
    c.call(|cl| cl.open_session(open).map(drop));
    c.call(|cl| cl.close_session(TSCloseSessionReq::new(sid)).map(drop));
    c.call(|cl| cl.request_statement_id(sid).map(drop));
    c.call(|cl| {
        cl.set_time_zone(TSSetTimeZoneReq::new(sid, s("+08:00")))
            .map(drop)
    });
    c.call(|cl| cl.get_time_zone(sid).map(drop));
    for sql in SQL {
        let req = TSExecuteStatementReq::new(sid, s(sql), 1, 100, 1000i64, None, None);
        c.call(|cl| cl.execute_statement_v2(req).map(drop));
    }
    let q = TSExecuteStatementReq::new(sid, s("select * from root.**"), 1, 2, None, None, None);
    c.call(|cl| cl.execute_query_statement_v2(q.clone()).map(drop));
    c.call(|cl| cl.execute_update_statement_v2(q).map(drop));
    let fetch = TSFetchResultsReq::new(sid, s("select * from root.**"), 5, 1, true, None, None);
    c.call(|cl| cl.fetch_results_v2(fetch).map(drop));
    let close = TSCloseOperationReq::new(sid, 1i64, 1i64, None);
    c.call(|cl| cl.close_operation(close).map(drop));
    let values = duet_rpc::insert::encode_record_values(&[
        Value::I64(7),
        Value::F64(1.5),
        Value::Text(b"hi".to_vec()),
        Value::Bool(true),
    ])
    .unwrap_or_default();
    let ms = vec![s("s1"), s("s2"), s("s3"), s("s4")];
    let rec = TSInsertRecordReq::new(
        sid,
        s("root.sg.d1"),
        ms.clone(),
        values.clone(),
        5,
        None,
        None,
        None,
    );
    c.call(|cl| cl.insert_record(rec).map(drop));
    let recs = TSInsertRecordsReq::new(
        sid,
        vec![s("root.sg.d1"), s("root.sg.d2")],
        vec![ms.clone(), ms.clone()],
        vec![values.clone(), values.clone()],
        vec![1, 2],
        None,
    );
    c.call(|cl| cl.insert_records(recs).map(drop));
    let one = TSInsertRecordsOfOneDeviceReq::new(
        sid,
        s("root.sg.d3"),
        vec![ms.clone(), ms.clone()],
        vec![values.clone(), values],
        vec![3, 4],
        None,
    );
    c.call(|cl| cl.insert_records_of_one_device(one).map(drop));
    let strings = TSInsertStringRecordReq::new(
        sid,
        s("root.sg.d4"),
        vec![s("a"), s("b")],
        vec![s("1"), s("x")],
        9,
        None,
        None,
    );
    c.call(|cl| cl.insert_string_record(strings).map(drop));
    let string_ms = vec![vec![s("a"), s("b")], vec![s("a")]];
    let string_vs = vec![vec![s("1.5"), s("true")], vec![s("2")]];
    let one_strings = TSInsertStringRecordsOfOneDeviceReq::new(
        sid,
        s("root.sg.d10"),
        string_ms.clone(),
        string_vs.clone(),
        vec![1, 2],
        true,
    );
    c.call(|cl| cl.insert_string_records_of_one_device(one_strings).map(drop));
    let many_strings = TSInsertStringRecordsReq::new(
        sid,
        vec![s("root.sg.d11"), s("root.sg.d12")],
        string_ms,
        string_vs,
        vec![1, 2],
        None,
    );
    c.call(|cl| cl.insert_string_records(many_strings).map(drop));
    let raw = TSRawDataQueryReq::new(
        sid,
        vec![s("root.sg.d1.s1"), s("root.sg.d1.s2")],
        100,
        0,
        1000,
        1,
        None,
        None,
        5000i64,
        None,
    );
    c.call(|cl| cl.execute_raw_data_query_v2(raw).map(drop));
    let last = TSLastDataQueryReq::new(
        sid,
        vec![s("root.sg.d1.s1")],
        100,
        0,
        1,
        None,
        None,
        None,
        None,
    );
    c.call(|cl| cl.execute_last_data_query_v2(last).map(drop));
    let tablet = tablet();
    let tab = TSInsertTabletReq::new(
        sid,
        s("root.sg.d5"),
        vec![s("s1"), s("s2")],
        tablet.values.clone(),
        tablet.timestamps.clone(),
        tablet.types.clone(),
        tablet.size,
        None,
        None,
        None,
        None,
        None,
        None,
    );
    c.call(|cl| cl.insert_tablet(tab).map(drop));
    let tabs = TSInsertTabletsReq::new(
        sid,
        vec![s("root.sg.d6")],
        vec![vec![s("s1"), s("s2")]],
        vec![tablet.values],
        vec![tablet.timestamps],
        vec![tablet.types],
        vec![tablet.size],
        None,
    );
    c.call(|cl| cl.insert_tablets(tabs).map(drop));
    c.call(|cl| cl.set_storage_group(sid, s("root.sg")).map(drop));
    c.call(|cl| cl.delete_storage_groups(sid, vec![s("root.sg")]).map(drop));
    let ts = TSCreateTimeseriesReq::new(sid, s("root.sg.d7.s1"), 2, 0, 0, None, None, None, None);
    c.call(|cl| cl.create_timeseries(ts).map(drop));
    let al = TSCreateAlignedTimeseriesReq::new(
        sid,
        s("root.sg.d8"),
        vec![s("a"), s("b")],
        vec![1, 5],
        vec![0, 0],
        vec![0, 0],
        None,
        None,
        None,
    );
    c.call(|cl| cl.create_aligned_timeseries(al).map(drop));
    let multi = TSCreateMultiTimeseriesReq::new(
        sid,
        vec![s("root.sg.d9.a"), s("root.sg.d9.b")],
        vec![3, 4],
        vec![0, 0],
        vec![0, 0],
        None,
        None,
        None,
        None,
    );
    c.call(|cl| cl.create_multi_timeseries(multi).map(drop));
    c.call(|cl| {
        cl.delete_timeseries(sid, vec![s("root.sg.d1.s1")])
            .map(drop)
    });
    let del = TSDeleteDataReq::new(sid, vec![s("root.sg.d1.s1")], 0, 10);
    c.call(|cl| cl.delete_data(del).map(drop));
    c.call(|cl| cl.test_connection_empty_r_p_c().map(drop));
    for (t, body) in pipe_requests() {
        let req = TPipeTransferReq::new(duet_pipe::wire::REQUEST_VERSION, t, body);
        c.call(|cl| cl.pipe_transfer(req).map(drop));
    }
    c.messages
}

fn tablet() -> duet_rpc::insert::EncodedTablet {
    let t = duet_rpc::insert::Tablet {
        timestamps: vec![1, 2, 3],
        columns: vec![
            RpcColumn::I32(vec![Some(1), None, Some(3)]),
            RpcColumn::Text(vec![Some(b"a".to_vec()), Some(Vec::new()), None]),
        ],
    };
    duet_rpc::insert::encode_tablet(&t).unwrap_or_else(|_| duet_rpc::insert::EncodedTablet {
        timestamps: Vec::new(),
        values: Vec::new(),
        types: Vec::new(),
        size: 0,
    })
}

/// Records what the generated client writes; replies never come.
struct Recorder {
    protocol: Protocol,
    messages: Vec<Vec<u8>>,
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::node::LockExt::lock(&*self.0).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Client = IClientRPCServiceSyncClient<Box<dyn TInputProtocol>, Box<dyn TOutputProtocol>>;

impl Recorder {
    fn new(protocol: Protocol) -> Self {
        Recorder {
            protocol,
            messages: Vec::new(),
        }
    }

    fn call(&mut self, f: impl FnOnce(&mut Client) -> thrift::Result<()>) {
        let sink = Sink::default();
        let empty: &'static [u8] = &[];
        let (i, o): (Box<dyn TInputProtocol>, Box<dyn TOutputProtocol>) = match self.protocol {
            Protocol::Binary => (
                Box::new(TBinaryInputProtocol::new(empty, true)),
                Box::new(TBinaryOutputProtocol::new(sink.clone(), true)),
            ),
            Protocol::Compact => (
                Box::new(TCompactInputProtocol::new(empty)),
                Box::new(TCompactOutputProtocol::new(sink.clone())),
            ),
        };
        let mut client = IClientRPCServiceSyncClient::new(i, o);
        // The reply cannot be read (there is none): only the request matters.
        let _ = f(&mut client);
        let bytes = crate::node::LockExt::lock(&*sink.0).clone();
        self.messages.push(bytes);
    }
}

fn payloads() -> Vec<Vec<u8>> {
    let block = duet_rpc::tsblock::TsBlock::new(
        vec![1, 2],
        vec![
            RpcColumn::I64(vec![Some(7), None]),
            RpcColumn::Text(vec![None, Some(b"hi".to_vec())]),
            RpcColumn::Bool(vec![Some(true), Some(false)]),
            RpcColumn::F64(vec![Some(0.5), None]),
        ],
    )
    .map(|b| b.encode())
    .unwrap_or_default();
    let mut out = vec![[vec![0], block].concat()];
    let values = duet_rpc::insert::encode_record_values(&[
        Value::I32(1),
        Value::F32(2.0),
        Value::Text(b"t".to_vec()),
    ])
    .unwrap_or_default();
    out.push([vec![1, 3], values].concat());
    let t = tablet();
    let mut tab = vec![2, t.types.len() as u8];
    tab.extend(t.types.iter().map(|&x| x as u8));
    tab.push(t.size as u8);
    tab.push(t.timestamps.len() as u8);
    tab.extend_from_slice(&t.timestamps);
    tab.extend_from_slice(&t.values);
    out.push(tab);
    out
}

fn v(hlc: u64, node: u32) -> Version {
    Version::new(hlc, node)
}

pub fn chunks() -> Vec<Chunk> {
    vec![
        Chunk::from_write(&[1, 5, 9], &Column::I64(vec![1, -2, 3]), v(10 << 16, 1)),
        Chunk::from_write(&[5, 6], &Column::F64(vec![0.5, f64::NAN]), v(11 << 16, 2)),
        Chunk::from_write(&[2], &Column::Text(vec!["x".into()]), v(9 << 16, 1)),
        Chunk::from_write(&[3, 4], &Column::Bool(vec![true, false]), v(12 << 16, 2)),
        Chunk::from_write(&[3], &Column::I32(vec![7]), v(12 << 16, 1)),
        Chunk::from_write(&[8], &Column::F32(vec![1.25]), v(8 << 16, 1)),
        Chunk::tombstone(
            DataType::Int64,
            Tombstone {
                start: 4,
                end: 6,
                version: v(13 << 16, 1),
            },
        ),
    ]
}

pub fn events() -> Vec<ChangeEvent> {
    let bodies = vec![
        EventBody::Insert(
            chunks()
                .into_iter()
                .enumerate()
                .map(|(i, chunk)| SeriesWrite {
                    path: format!("root.sg.d1.s{i}"),
                    chunk,
                })
                .collect(),
        ),
        EventBody::Delete(vec![SeriesDelete {
            path: "root.sg.d1.s1".into(),
            data_type: DataType::Int64,
            start: 0,
            end: 100,
        }]),
        EventBody::Schema(SchemaChange::CreateDatabase {
            path: "root.sg".into(),
            bucket_span_ms: 3_600_000,
        }),
        EventBody::Schema(SchemaChange::DropDatabase {
            path: "root.sg2".into(),
        }),
        EventBody::Schema(SchemaChange::CreateTimeseries {
            path: "root.sg.d2.s1".into(),
            data_type: DataType::Text,
            encoding: "PLAIN".into(),
            compressor: "LZ4".into(),
            labels: Vec::new(),
        }),
        EventBody::Schema(SchemaChange::DeleteTimeseries {
            paths: vec!["root.sg.d2.s1".into()],
        }),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| ChangeEvent {
            origin: 77,
            origin_seq: i as u64 + 1,
            version: v(14 << 16, 77),
            body,
        })
        .collect()
}

/// (type, body) of a handshake and of event batches.
fn pipe_requests() -> Vec<(i16, Vec<u8>)> {
    let engine_less = duet_pipe::wire::encode_params(
        &[
            ("clusterID", "peer"),
            ("timestampPrecision", "ms"),
            ("username", "root"),
            ("password", "root"),
            ("duet.nodeId", "4242"),
            ("duet.protocolVersion", "1"),
            ("duet.stream", "p#1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    );
    let encoded: Vec<Vec<u8>> = events().iter().map(ChangeEvent::encode).collect();
    vec![
        (duet_pipe::wire::HANDSHAKE_DATANODE_V2, engine_less),
        (
            duet_pipe::wire::DUET_EVENTS,
            duet_pipe::wire::encode_batch(&encoded, &[]),
        ),
        (
            duet_pipe::wire::DUET_EVENTS,
            duet_pipe::wire::encode_batch(&encoded, &[Codec::Lz4]),
        ),
        (
            duet_pipe::wire::DUET_EVENTS,
            duet_pipe::wire::encode_batch(
                &encoded,
                &[Codec::Snappy, Codec::Gzip, Codec::Zstd { level: 3 }],
            ),
        ),
    ]
}

/// `pipe_transfer` inputs: mode, then (i16 type, u16 length, body)...
fn pipe_inputs() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (t, body) in pipe_requests() {
        for mode in [0, PIPE_AFTER_HANDSHAKE] {
            let mut bytes = vec![mode];
            bytes.extend_from_slice(&t.to_be_bytes());
            bytes.extend_from_slice(&(body.len() as u16).to_be_bytes());
            bytes.extend_from_slice(&body);
            out.push(bytes);
        }
    }
    // A handshake then a batch on one connection.
    let mut both = vec![0];
    for (t, body) in pipe_requests().into_iter().take(2) {
        both.extend_from_slice(&t.to_be_bytes());
        both.extend_from_slice(&(body.len() as u16).to_be_bytes());
        both.extend_from_slice(&body);
    }
    out.push(both);
    out
}

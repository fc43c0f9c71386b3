//! Tests of the client against an in-process fake server.
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;
use crate::frame::{read_frame, write_frame};
use crate::generated::*;
use crate::insert::decode_insert_tablet;
use crate::service::process_frame;
use crate::status::{error_status, ok_status, statement_resp, UNSUPPORTED_OPERATION};

type Log = Arc<Mutex<Vec<String>>>;

/// A fake server: logs every call; `select ...` answers two pages (the
/// second through fetchResultsV2), `bad ...` a parse error, a statement
/// containing "drop connection" makes it hang up without a reply.
struct Fake {
    log: Log,
}

fn unsupported() -> TSStatus {
    error_status(UNSUPPORTED_OPERATION, "not in this fake")
}

fn page(times: Vec<i64>, s1: Vec<Option<i64>>, s2: Vec<Option<&str>>) -> Vec<u8> {
    let s2 = s2.into_iter().map(|v| v.map(|s| s.as_bytes().to_vec()));
    TsBlock::new(times, vec![Column::I64(s1), Column::Text(s2.collect())])
        .unwrap()
        .encode()
}

impl Fake {
    fn log(&self, entry: String) {
        self.log.lock().unwrap().push(entry);
    }
}

impl IClientRPCServiceSyncHandler for Fake {
    fn handle_open_session(&self, req: TSOpenSessionReq) -> thrift::Result<TSOpenSessionResp> {
        let config = req.configuration.unwrap_or_default();
        let config: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.log(format!(
            "openSession protocol={} zone={} user={} config={}",
            req.client_protocol.0,
            req.zone_id,
            req.username,
            config.join(",")
        ));
        let v3 = TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3;
        if req.password.as_deref() != Some("root") {
            let status = error_status(801, "Authentication failed.");
            return Ok(TSOpenSessionResp::new(status, v3, None, None));
        }
        Ok(TSOpenSessionResp::new(ok_status(), v3, 42, None))
    }
    fn handle_close_session(&self, req: TSCloseSessionReq) -> thrift::Result<TSStatus> {
        self.log(format!("closeSession {}", req.session_id));
        Ok(ok_status())
    }
    fn handle_request_statement_id(&self, session_id: i64) -> thrift::Result<i64> {
        self.log(format!("requestStatementId {session_id}"));
        Ok(7)
    }
    fn handle_set_time_zone(&self, req: TSSetTimeZoneReq) -> thrift::Result<TSStatus> {
        self.log(format!("setTimeZone {} {}", req.session_id, req.time_zone));
        Ok(unsupported())
    }
    fn handle_get_time_zone(&self, _: i64) -> thrift::Result<TSGetTimeZoneResp> {
        Ok(TSGetTimeZoneResp::new(unsupported(), String::new()))
    }
    fn handle_execute_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        let sql = req.statement;
        self.log(format!(
            "executeStatementV2 {} {} fetch={:?} {sql}",
            req.session_id, req.statement_id, req.fetch_size
        ));
        if sql.starts_with("bad") {
            let message = "line 1:0 mismatched input 'bad'\nbad\n^";
            return Ok(statement_resp(error_status(700, message)));
        }
        if sql == "show mapped" {
            return Ok(TSExecuteStatementResp {
                query_id: Some(5),
                columns: Some(vec!["text".into(), "number".into(), "again".into()]),
                data_type_list: Some(vec!["TEXT".into(), "INT64".into(), "BLOB".into()]),
                ignore_time_stamp: Some(true),
                column_index2_ts_block_column_index_list: Some(vec![1, 0, 1]),
                query_result: Some(vec![page(vec![0], vec![Some(5)], vec![Some("x")])]),
                ..statement_resp(ok_status())
            });
        }
        if !sql.starts_with("select") {
            return Ok(statement_resp(ok_status()));
        }
        Ok(TSExecuteStatementResp {
            query_id: Some(99),
            columns: Some(vec!["root.sg.d.s1".into(), "root.sg.d.s2".into()]),
            data_type_list: Some(vec!["INT64".into(), "TEXT".into()]),
            ignore_time_stamp: Some(false),
            query_result: Some(vec![page(
                vec![1, 2],
                vec![Some(10), None],
                vec![Some("a"), Some("b")],
            )]),
            more_data: Some(true),
            ..statement_resp(ok_status())
        })
    }
    fn handle_execute_query_statement_v2(
        &self,
        _: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(statement_resp(unsupported()))
    }
    fn handle_execute_update_statement_v2(
        &self,
        _: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(statement_resp(unsupported()))
    }
    fn handle_fetch_results_v2(
        &self,
        req: TSFetchResultsReq,
    ) -> thrift::Result<TSFetchResultsResp> {
        self.log(format!(
            "fetchResultsV2 session={} statement={:?} query={} fetch={}",
            req.session_id, req.statement_id, req.query_id, req.fetch_size
        ));
        let rest = page(vec![3], vec![Some(30)], vec![None]);
        Ok(TSFetchResultsResp::new(
            ok_status(),
            true,
            true,
            None,
            vec![rest],
            false,
        ))
    }
    fn handle_close_operation(&self, req: TSCloseOperationReq) -> thrift::Result<TSStatus> {
        self.log(format!(
            "closeOperation session={} query={:?} statement={:?}",
            req.session_id, req.query_id, req.statement_id
        ));
        Ok(ok_status())
    }
    fn handle_insert_record(&self, req: TSInsertRecordReq) -> thrift::Result<TSStatus> {
        let values = crate::insert::decode_record_values(&req.values, req.measurements.len());
        self.log(format!(
            "insertRecord {} {} {:?} {:?}",
            req.prefix_path, req.timestamp, req.measurements, values
        ));
        Ok(ok_status())
    }
    fn handle_insert_records(&self, _: TSInsertRecordsReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_insert_records_of_one_device(
        &self,
        _: TSInsertRecordsOfOneDeviceReq,
    ) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_insert_string_record(&self, _: TSInsertStringRecordReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_insert_string_records_of_one_device(
        &self,
        _: TSInsertStringRecordsOfOneDeviceReq,
    ) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_insert_string_records(
        &self,
        _: TSInsertStringRecordsReq,
    ) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_execute_raw_data_query_v2(
        &self,
        _: TSRawDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(statement_resp(unsupported()))
    }
    fn handle_execute_last_data_query_v2(
        &self,
        _: TSLastDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(statement_resp(unsupported()))
    }
    fn handle_insert_tablet(&self, req: TSInsertTabletReq) -> thrift::Result<TSStatus> {
        let tablet = decode_insert_tablet(&req);
        self.log(format!("insertTablet {} {:?}", req.prefix_path, tablet));
        Ok(ok_status())
    }
    fn handle_insert_tablets(&self, _: TSInsertTabletsReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_set_storage_group(&self, _: i64, _: String) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_delete_storage_groups(&self, _: i64, _: Vec<String>) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_create_timeseries(&self, _: TSCreateTimeseriesReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_create_aligned_timeseries(
        &self,
        _: TSCreateAlignedTimeseriesReq,
    ) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_create_multi_timeseries(
        &self,
        _: TSCreateMultiTimeseriesReq,
    ) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_delete_timeseries(&self, _: i64, _: Vec<String>) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_delete_data(&self, _: TSDeleteDataReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_test_connection_empty_r_p_c(&self) -> thrift::Result<TSStatus> {
        Ok(ok_status())
    }
    fn handle_pipe_transfer(&self, _: TPipeTransferReq) -> thrift::Result<TPipeTransferResp> {
        Ok(TPipeTransferResp::new(unsupported(), None))
    }
}

/// Starts a fake server on 127.0.0.1:0; returns its host entry and log.
fn serve() -> ((String, u16), Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Log::default();
    let processor = Arc::new(IClientRPCServiceSyncProcessor::new(Fake {
        log: log.clone(),
    }));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let processor = processor.clone();
            std::thread::spawn(move || {
                while let Ok(frame) = read_frame(&mut stream, DEFAULT_MAX_FRAME_BYTES) {
                    if frame.windows(15).any(|w| w == b"drop connection") {
                        return;
                    }
                    let Ok(reply) = process_frame(&*processor, &frame, Protocol::Binary) else {
                        return;
                    };
                    if write_frame(&mut stream, &reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (("127.0.0.1".to_string(), port), log)
}

/// A port nobody listens on.
fn dead_host() -> (String, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    ("127.0.0.1".to_string(), port)
}

fn config(hosts: Vec<(String, u16)>) -> SessionConfig {
    SessionConfig {
        hosts,
        request_timeout: Some(Duration::from_secs(10)),
        ..SessionConfig::default()
    }
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn open_and_close_make_the_python_clients_calls() {
    let (host, log) = serve();
    let session = Session::open(config(vec![host.clone()])).unwrap();
    assert_eq!(
        session.endpoint(),
        Some(endpoint_name(&host.0, host.1).as_str())
    );
    assert_eq!(session.timestamp_precision(), "ms");
    session.close().unwrap();
    assert_eq!(
        take(&log),
        [
            "openSession protocol=2 zone=UTC user=root config=sql_dialect=tree,version=V_1_0",
            "requestStatementId 42",
            "setTimeZone 42 UTC",
            "closeSession 42",
        ]
    );
}

#[test]
fn a_query_pages_through_fetch_results_and_closes_by_query_id() {
    let (host, log) = serve();
    let mut session = Session::open(config(vec![host])).unwrap();
    take(&log);
    let Outcome::Rows(mut rows) = session.execute("select * from root.sg.d").unwrap() else {
        panic!("expected rows");
    };
    assert_eq!(rows.columns(), ["Time", "root.sg.d.s1", "root.sg.d.s2"]);
    assert_eq!(rows.column_types(), ["TIMESTAMP", "INT64", "TEXT"]);
    assert!(rows.has_time_column());
    let all: Vec<Vec<Field>> = rows.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        all,
        [
            vec![Field::I64(1), Field::I64(10), Field::Text("a".into())],
            vec![Field::I64(2), Field::Null, Field::Text("b".into())],
            vec![Field::I64(3), Field::I64(30), Field::Null],
        ]
    );
    assert_eq!(rows.next_row().unwrap(), None);
    rows.close().unwrap();
    assert_eq!(
        take(&log),
        [
            "executeStatementV2 42 7 fetch=Some(5000) select * from root.sg.d",
            // Swapped ids, as the Python client sends them.
            "fetchResultsV2 session=7 statement=Some(42) query=99 fetch=5000",
            "closeOperation session=7 query=Some(99) statement=Some(42)",
        ]
    );
}

#[test]
fn dropping_unread_rows_closes_the_query() {
    let (host, log) = serve();
    let mut session = Session::open(config(vec![host])).unwrap();
    let Outcome::Rows(mut rows) = session.execute("select s1 from root.sg.d").unwrap() else {
        panic!("expected rows");
    };
    assert!(rows.next_row().unwrap().is_some());
    drop(rows);
    let log = take(&log);
    assert_eq!(
        log.last().unwrap(),
        "closeOperation session=7 query=Some(99) statement=Some(42)"
    );
    assert!(!log.iter().any(|l| l.starts_with("fetchResultsV2")));
}

/// "show mapped" comes whole in the statement's reply (no moreData): read
/// to the end and dropped, it costs no closeOperation round trip.
#[test]
fn a_result_that_came_whole_is_not_closed_again() {
    let (host, log) = serve();
    let mut session = Session::open(config(vec![host])).unwrap();
    take(&log);
    let Outcome::Rows(mut rows) = session.execute("show mapped").unwrap() else {
        panic!("expected rows");
    };
    while rows.next_row().unwrap().is_some() {}
    drop(rows);
    assert_eq!(
        take(&log),
        ["executeStatementV2 42 7 fetch=Some(5000) show mapped"]
    );
}

#[test]
fn mapped_columns_without_time() {
    let (host, _log) = serve();
    let mut session = Session::open(config(vec![host])).unwrap();
    let Outcome::Rows(mut rows) = session.execute("show mapped").unwrap() else {
        panic!("expected rows");
    };
    assert_eq!(rows.columns(), ["text", "number", "again"]);
    assert!(!rows.has_time_column());
    let row = rows.next_row().unwrap().unwrap();
    assert_eq!(
        row,
        [
            Field::Text("x".into()),
            Field::I64(5),
            Field::Blob(b"x".to_vec())
        ]
    );
    assert_eq!(rows.next_row().unwrap(), None);
}

#[test]
fn error_statuses_keep_the_session_usable() {
    let (host, _log) = serve();
    let mut session = Session::open(config(vec![host])).unwrap();
    let err = session.execute("bad sql").err().unwrap();
    assert_eq!(err.code(), Some(700));
    assert_eq!(
        err.to_string(),
        "700: line 1:0 mismatched input 'bad'\nbad\n^"
    );
    assert!(!err.is_transport());
    assert!(matches!(
        session.execute("create database root.sg"),
        Ok(Outcome::Done)
    ));
}

#[test]
fn a_wrong_password_is_801_and_does_not_fail_over() {
    let (first, _) = serve();
    let (second, second_log) = serve();
    let cfg = SessionConfig {
        password: "wrong".into(),
        ..config(vec![first, second])
    };
    let err = Session::open(cfg).err().unwrap();
    assert_eq!(err.code(), Some(801), "{err}");
    assert!(take(&second_log).is_empty());
}

#[test]
fn open_fails_over_from_a_dead_host_and_reports_all_dead_hosts() {
    let (live, log) = serve();
    let session = Session::open(config(vec![dead_host(), live.clone()])).unwrap();
    assert_eq!(
        session.endpoint(),
        Some(endpoint_name(&live.0, live.1).as_str())
    );
    assert_eq!(take(&log).len(), 3);

    let err = Session::open(config(vec![dead_host(), dead_host()]))
        .err()
        .unwrap();
    assert!(err.is_transport());
    let ClientError::Unreachable { attempts } = &err else {
        panic!("expected Unreachable, got {err}");
    };
    assert_eq!(attempts.len(), 2);
}

#[test]
fn a_lost_connection_moves_the_next_call_to_the_next_host() {
    let (first, first_log) = serve();
    let (second, second_log) = serve();
    let second_name = endpoint_name(&second.0, second.1);
    let mut session = Session::open(config(vec![first, second])).unwrap();
    let err = session.execute("drop connection").err().unwrap();
    assert!(matches!(err, ClientError::Transport { .. }), "{err}");
    assert_eq!(session.endpoint(), None);
    assert_eq!(session.next_endpoint(), second_name);
    assert!(matches!(session.execute("flush"), Ok(Outcome::Done)));
    assert_eq!(session.endpoint(), Some(second_name.as_str()));
    assert_eq!(
        take(&first_log).len(),
        3,
        "the dropped call never reached the handler"
    );
    assert_eq!(
        take(&second_log).last().unwrap(),
        "executeStatementV2 42 7 fetch=Some(5000) flush"
    );
}

#[test]
fn inserts_encode_records_and_sorted_tablets() {
    let (host, log) = serve();
    let mut session = Session::open(config(vec![host])).unwrap();
    take(&log);
    session
        .insert_record(
            "root.sg.d",
            5,
            &["s1", "s2"],
            &[Value::I64(7), Value::Text(b"hi".to_vec())],
        )
        .unwrap();
    let tablet = Tablet {
        timestamps: vec![2, 1],
        columns: vec![Column::F64(vec![Some(2.0), None])],
    };
    session
        .insert_tablet("root.sg.d", &["s3"], &tablet)
        .unwrap();
    let err = session
        .insert_record("root.sg.d", 5, &["s1"], &[])
        .err()
        .unwrap();
    assert!(matches!(err, ClientError::Invalid(_)));
    assert_eq!(
        take(&log),
        [
            r#"insertRecord root.sg.d 5 ["s1", "s2"] Ok([I64(7), Text([104, 105])])"#,
            "insertTablet root.sg.d Ok(Tablet { timestamps: [1, 2], columns: [F64([None, Some(2.0)])] })",
        ]
    );
}

#[test]
fn fields_display_like_iotdbs_cli() {
    let shown: Vec<String> = [
        Field::Null,
        Field::Bool(true),
        Field::F32(20.0),
        Field::F64(21.5),
        Field::F64(f64::NEG_INFINITY),
        Field::I64(-3),
        Field::Blob(vec![0, 0xab]),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        shown,
        ["null", "true", "20.0", "21.5", "-Infinity", "-3", "0x00ab"]
    );
}

#[test]
fn sessions_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Session>();
}

#[test]
fn host_lists_parse() {
    let hosts = parse_hosts("a, b:7000,[::1]:7001,::1,[fe80::1]", 6667).unwrap();
    let want = [
        ("a", 6667),
        ("b", 7000),
        ("::1", 7001),
        ("::1", 6667),
        ("fe80::1", 6667),
    ];
    let want: Vec<(String, u16)> = want.iter().map(|(h, p)| (h.to_string(), *p)).collect();
    assert_eq!(hosts, want);
    assert!(parse_hosts("a,,b", 1).is_err());
    assert!(parse_hosts("a:x", 1).is_err());
    assert_eq!(endpoint_name("::1", 5), "[::1]:5");
}

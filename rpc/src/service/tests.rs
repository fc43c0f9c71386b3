use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use thrift::protocol::{TBinaryInputProtocol, TBinaryOutputProtocol, TSerializable, TType};
use thrift::{ApplicationError, ApplicationErrorKind};

use super::*;
use crate::column::Column;
use crate::frame::{parse_frame, write_frame, DEFAULT_MAX_FRAME_BYTES};
use crate::generated::*;
use crate::status::{error_status, ok_status, statement_resp, UNSUPPORTED_OPERATION};
use crate::tsblock::TsBlock;

/// Answers the calls the tests make; everything else is an error status.
struct TestHandler;

fn unsupported() -> TSStatus {
    error_status(UNSUPPORTED_OPERATION, "not in this test")
}

fn test_block() -> TsBlock {
    TsBlock::new(
        vec![1, 2],
        vec![
            Column::I64(vec![Some(7), None]),
            Column::Text(vec![None, Some(b"hi".to_vec())]),
        ],
    )
    .unwrap()
}

impl IClientRPCServiceSyncHandler for TestHandler {
    fn handle_open_session(&self, req: TSOpenSessionReq) -> thrift::Result<TSOpenSessionResp> {
        let config = BTreeMap::from([
            ("timestamp_precision".to_string(), "ms".to_string()),
            ("user".to_string(), req.username),
        ]);
        Ok(TSOpenSessionResp::new(
            ok_status(),
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            42,
            config,
        ))
    }
    fn handle_close_session(&self, _: TSCloseSessionReq) -> thrift::Result<TSStatus> {
        Err(thrift::Error::Application(ApplicationError::new(
            ApplicationErrorKind::InternalError,
            "handler failed",
        )))
    }
    fn handle_request_statement_id(&self, session_id: i64) -> thrift::Result<i64> {
        Ok(session_id + 1)
    }
    fn handle_set_time_zone(&self, _: TSSetTimeZoneReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_get_time_zone(&self, _: i64) -> thrift::Result<TSGetTimeZoneResp> {
        Ok(TSGetTimeZoneResp::new(unsupported(), String::new()))
    }
    fn handle_execute_statement_v2(
        &self,
        _: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(statement_resp(unsupported()))
    }
    fn handle_execute_query_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(TSExecuteStatementResp {
            status: ok_status(),
            query_id: Some(req.statement_id * 10),
            columns: Some(vec!["root.sg.d.s1".into(), "root.sg.d.s2".into()]),
            data_type_list: Some(vec!["INT64".into(), "TEXT".into()]),
            ignore_time_stamp: Some(false),
            query_result: Some(vec![test_block().encode()]),
            more_data: Some(false),
            ..statement_resp(ok_status())
        })
    }
    fn handle_execute_update_statement_v2(
        &self,
        _: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(statement_resp(unsupported()))
    }
    fn handle_fetch_results_v2(&self, _: TSFetchResultsReq) -> thrift::Result<TSFetchResultsResp> {
        Ok(TSFetchResultsResp::new(
            unsupported(),
            false,
            true,
            None,
            None,
            false,
        ))
    }
    fn handle_close_operation(&self, _: TSCloseOperationReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
    }
    fn handle_insert_record(&self, _: TSInsertRecordReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
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
    fn handle_insert_tablet(&self, _: TSInsertTabletReq) -> thrift::Result<TSStatus> {
        Ok(unsupported())
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
    fn handle_pipe_transfer(&self, req: TPipeTransferReq) -> thrift::Result<TPipeTransferResp> {
        let mut body = vec![req.version as u8];
        body.extend_from_slice(&req.type_.to_be_bytes());
        body.extend_from_slice(&req.body);
        Ok(TPipeTransferResp::new(ok_status(), body))
    }
}

type Processor = IClientRPCServiceSyncProcessor<TestHandler>;

/// The "server" end of an in-memory connection: frames written by the
/// client are answered through `process_frame` when the client flushes.
struct Loopback {
    processor: Arc<Processor>,
    protocol: Protocol,
    inbox: Vec<u8>,
    replies: Arc<Mutex<VecDeque<u8>>>,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Write for Loopback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inbox.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        while let Some((consumed, request)) =
            parse_frame(&self.inbox, DEFAULT_MAX_FRAME_BYTES).unwrap()
        {
            self.requests.lock().unwrap().push(request.to_vec());
            let reply = process_frame(&*self.processor, request, self.protocol).unwrap();
            let mut replies = self.replies.lock().unwrap();
            let mut framed = Vec::new();
            write_frame(&mut framed, &reply).unwrap();
            replies.extend(framed);
            drop(replies);
            self.inbox.drain(..consumed);
        }
        Ok(())
    }
}

struct ReplyReader(Arc<Mutex<VecDeque<u8>>>);

impl Read for ReplyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.lock().unwrap().read(buf)
    }
}

fn connect(protocol: Protocol) -> (RpcClient, Arc<Mutex<Vec<Vec<u8>>>>) {
    let replies = Arc::new(Mutex::new(VecDeque::new()));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let server = Loopback {
        processor: Arc::new(IClientRPCServiceSyncProcessor::new(TestHandler)),
        protocol,
        inbox: Vec::new(),
        replies: replies.clone(),
        requests: requests.clone(),
    };
    let client = new_client(
        ReplyReader(replies),
        server,
        protocol,
        DEFAULT_MAX_FRAME_BYTES,
    )
    .unwrap();
    (client, requests)
}

const BOTH: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

#[test]
fn open_session_round_trips_in_both_protocols() {
    for protocol in BOTH {
        let (mut client, requests) = connect(protocol);
        let req = TSOpenSessionReq::new(
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            "Etc/UTC".into(),
            "root".into(),
            "root".to_string(),
            BTreeMap::from([("version".to_string(), "V_1_0".to_string())]),
        );
        let resp = client.open_session(req).unwrap();
        assert_eq!(resp.status.code, 200);
        assert_eq!(
            resp.server_protocol_version,
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3
        );
        assert_eq!(resp.session_id, Some(42));
        assert_eq!(resp.configuration.unwrap()["user"], "root");
        assert_eq!(client.request_statement_id(42).unwrap(), 43);

        let first = requests.lock().unwrap()[0].clone();
        assert_eq!(crate::frame::detect_protocol(&first), Some(protocol));
    }
}

#[test]
fn execute_query_returns_decodable_tsblocks_in_both_protocols() {
    for protocol in BOTH {
        let (mut client, _) = connect(protocol);
        let req = TSExecuteStatementReq::new(
            42,
            "select * from root.sg.d".into(),
            7,
            5000,
            0,
            None,
            None,
        );
        let resp = client.execute_query_statement_v2(req).unwrap();
        assert_eq!(resp.status.code, 200);
        assert_eq!(resp.query_id, Some(70));
        assert_eq!(resp.more_data, Some(false));
        let blocks = resp.query_result.unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(TsBlock::decode(&blocks[0]).unwrap(), test_block());
    }
}

#[test]
fn pipe_transfer_sends_field_id_minus_one_in_both_protocols() {
    for protocol in BOTH {
        let (mut client, requests) = connect(protocol);
        let resp = client
            .pipe_transfer(TPipeTransferReq::new(1, 51, b"params".to_vec()))
            .unwrap();
        assert_eq!(resp.status.code, 200);
        assert_eq!(resp.body.unwrap(), [&[1u8, 0, 51][..], b"params"].concat());

        let request = requests.lock().unwrap()[0].clone();
        let name = b"pipeTransfer";
        let at = request.windows(name.len()).position(|w| w == name).unwrap() + name.len();
        let field_header: &[u8] = match protocol {
            // seqid (i32), then type STRUCT (12), id -1 as i16 BE.
            Protocol::Binary => &request[at + 4..at + 7],
            // No delta form for -1: type byte 0x0C, then zigzag varint i16 -1 = 0x01.
            Protocol::Compact => &request[at..at + 2],
        };
        let expected: &[u8] = match protocol {
            Protocol::Binary => &[0x0C, 0xFF, 0xFF],
            Protocol::Compact => &[0x0C, 0x01],
        };
        assert_eq!(
            field_header, expected,
            "{protocol:?} request {request:02x?}"
        );
    }
}

#[test]
fn handler_error_becomes_an_application_exception() {
    for protocol in BOTH {
        let (mut client, _) = connect(protocol);
        match client.close_session(TSCloseSessionReq::new(42)) {
            Err(thrift::Error::Application(e)) => {
                assert_eq!(e.kind, ApplicationErrorKind::InternalError)
            }
            other => panic!("expected an application error, got {other:?}"),
        }
        // The connection is still usable afterwards.
        assert_eq!(client.test_connection_empty_r_p_c().unwrap().code, 200);
    }
}

/// A binary CALL with `name`, whose args struct is written by `args`.
fn binary_call(
    name: &str,
    message_type: TMessageType,
    args: impl FnOnce(&mut dyn TOutputProtocol),
) -> Vec<u8> {
    let mut o = TBinaryOutputProtocol::new(Vec::new(), true);
    o.write_message_begin(&TMessageIdentifier::new(name, message_type, 5))
        .unwrap();
    o.write_struct_begin(&TStructIdentifier::new("args"))
        .unwrap();
    args(&mut o);
    o.write_field_stop().unwrap();
    o.write_struct_end().unwrap();
    o.write_message_end().unwrap();
    o.transport
}

fn processor() -> Processor {
    IClientRPCServiceSyncProcessor::new(TestHandler)
}

fn reply_header(reply: &[u8]) -> (TMessageIdentifier, TBinaryInputProtocol<&[u8]>) {
    let mut i = TBinaryInputProtocol::new(reply, true);
    (i.read_message_begin().unwrap(), i)
}

#[test]
fn unknown_method_gets_an_unknown_method_exception() {
    let request = binary_call("noSuchMethod", TMessageType::Call, |_| {});
    let reply = process_frame(&processor(), &request, Protocol::Binary).unwrap();
    let (ident, mut i) = reply_header(&reply);
    assert_eq!(
        (
            ident.name.as_str(),
            ident.message_type,
            ident.sequence_number
        ),
        ("noSuchMethod", TMessageType::Exception, 5)
    );
    let e = thrift::Error::read_application_error_from_in_protocol(&mut i).unwrap();
    assert_eq!(e.kind, ApplicationErrorKind::UnknownMethod);
}

#[test]
fn pipe_transfer_with_field_id_one_is_an_exception_not_a_crash() {
    // Field 1 is not pipeTransfer's argument: it is skipped, so the required
    // argument is missing.
    let request = binary_call("pipeTransfer", TMessageType::Call, |o| {
        o.write_field_begin(&TFieldIdentifier::new("req", TType::Struct, 1))
            .unwrap();
        TPipeTransferReq::new(1, 51, vec![])
            .write_to_out_protocol(o)
            .unwrap();
        o.write_field_end().unwrap();
    });
    let reply = process_frame(&processor(), &request, Protocol::Binary).unwrap();
    assert_eq!(reply_header(&reply).0.message_type, TMessageType::Exception);
}

#[test]
fn every_truncation_of_a_call_is_malformed() {
    let (mut client, requests) = connect(Protocol::Binary);
    client.request_statement_id(1).unwrap();
    client
        .pipe_transfer(TPipeTransferReq::new(1, 51, b"abc".to_vec()))
        .unwrap();
    for request in requests.lock().unwrap().iter() {
        for cut in 0..request.len() {
            let result = process_frame(&processor(), &request[..cut], Protocol::Binary);
            assert!(
                matches!(result, Err(Error::MalformedMessage(_))),
                "cut at {cut}: {result:?}"
            );
        }
    }
}

#[test]
fn reply_and_garbage_messages_are_malformed() {
    let reply = binary_call("openSession", TMessageType::Reply, |_| {});
    assert!(matches!(
        process_frame(&processor(), &reply, Protocol::Binary),
        Err(Error::MalformedMessage(_))
    ));
    let garbage = [0x80, 0x07, 0xAB, 0xCD, 0xFF, 0xFF, 0xFF, 0xFF];
    for protocol in BOTH {
        assert!(matches!(
            process_frame(&processor(), &garbage, protocol),
            Err(Error::MalformedMessage(_))
        ));
    }
}

#[test]
fn huge_declared_string_and_list_sizes_are_rejected() {
    // openSession(req{zoneId: <string of 2^31-1 bytes>}) in a tiny frame.
    let mut request = binary_call("openSession", TMessageType::Call, |_| {});
    request.truncate(request.len() - 1); // reopen the args struct
    request.extend_from_slice(&[0x0C, 0, 1, 0x0B, 0, 2, 0x7F, 0xFF, 0xFF, 0xFF, b'x']);
    assert!(matches!(
        process_frame(&processor(), &request, Protocol::Binary),
        Err(Error::MalformedMessage(_))
    ));

    // insertTablets(req{prefixPaths: list<string> of 2^31-1 elements}).
    let mut request = binary_call("insertTablets", TMessageType::Call, |_| {});
    request.truncate(request.len() - 1);
    request.extend_from_slice(&[
        0x0C, 0, 1, 0x0F, 0, 2, 0x0B, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0,
    ]);
    assert!(matches!(
        process_frame(&processor(), &request, Protocol::Binary),
        Err(Error::MalformedMessage(_))
    ));
}

#[test]
fn deep_nesting_is_rejected_without_overflowing_the_stack() {
    let mut request = binary_call("openSession", TMessageType::Call, |_| {});
    request.truncate(request.len() - 1);
    // Field 1 (the request struct), then 100k nested unknown struct fields.
    request.extend_from_slice(&[0x0C, 0, 1]);
    for _ in 0..100_000 {
        request.extend_from_slice(&[0x0C, 0, 99]);
    }
    assert!(matches!(
        process_frame(&processor(), &request, Protocol::Binary),
        Err(Error::MalformedMessage(_))
    ));
}

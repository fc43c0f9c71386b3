//! A fake Duet server for the CLI tests: answers like a Duet server would
//! (`show pipes` one row, `select ...` three rows over two pages, `bad ...`
//! a parse error, anything else success) and hangs up on a statement that
//! contains "drop connection".

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use duet_rpc::column::Column;
use duet_rpc::frame::{read_frame, write_frame, Protocol, DEFAULT_MAX_FRAME_BYTES};
use duet_rpc::generated::*;
use duet_rpc::service::process_frame;
use duet_rpc::status::{error_status, ok_status, statement_resp};
use duet_rpc::tsblock::TsBlock;

pub type Log = Arc<Mutex<Vec<String>>>;

struct Fake {
    statements: Log,
}

fn unsupported() -> TSStatus {
    error_status(300, "not in this fake")
}

fn rows_resp(
    columns: &[&str],
    types: &[&str],
    block: TsBlock,
    more: bool,
    no_time: bool,
) -> TSExecuteStatementResp {
    TSExecuteStatementResp {
        query_id: Some(1),
        columns: Some(columns.iter().map(|c| c.to_string()).collect()),
        data_type_list: Some(types.iter().map(|c| c.to_string()).collect()),
        ignore_time_stamp: Some(no_time),
        query_result: Some(vec![block.encode()]),
        more_data: Some(more),
        ..statement_resp(ok_status())
    }
}

fn text(values: &[Option<&str>]) -> Column {
    Column::Text(
        values
            .iter()
            .map(|v| v.map(|s| s.as_bytes().to_vec()))
            .collect(),
    )
}

impl IClientRPCServiceSyncHandler for Fake {
    fn handle_open_session(&self, req: TSOpenSessionReq) -> thrift::Result<TSOpenSessionResp> {
        let v3 = TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3;
        if req.password.as_deref() != Some("root") {
            let status = error_status(801, "Authentication failed.");
            return Ok(TSOpenSessionResp::new(status, v3, None, None));
        }
        Ok(TSOpenSessionResp::new(ok_status(), v3, 1, None))
    }
    fn handle_close_session(&self, _: TSCloseSessionReq) -> thrift::Result<TSStatus> {
        Ok(ok_status())
    }
    fn handle_request_statement_id(&self, _: i64) -> thrift::Result<i64> {
        Ok(2)
    }
    fn handle_set_time_zone(&self, _: TSSetTimeZoneReq) -> thrift::Result<TSStatus> {
        Ok(ok_status())
    }
    fn handle_get_time_zone(&self, _: i64) -> thrift::Result<TSGetTimeZoneResp> {
        Ok(TSGetTimeZoneResp::new(ok_status(), "UTC".to_string()))
    }
    fn handle_execute_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        let sql = req.statement;
        self.statements.lock().unwrap().push(sql.clone());
        if sql.starts_with("bad") {
            let message =
                format!("line 1:0 mismatched input 'bad' expecting a statement\n{sql}\n^");
            return Ok(statement_resp(error_status(700, message)));
        }
        if sql == "show pipes" {
            let block =
                TsBlock::new(vec![0], vec![text(&[Some("AB")]), text(&[Some("RUNNING")])]).unwrap();
            return Ok(rows_resp(
                &["ID", "State"],
                &["TEXT", "TEXT"],
                block,
                false,
                true,
            ));
        }
        if sql.starts_with("select") {
            let block = TsBlock::new(
                vec![1_704_067_200_000, 1_704_067_201_000],
                vec![Column::F64(vec![Some(20.0), None])],
            )
            .unwrap();
            return Ok(rows_resp(
                &["root.plant.line1.temp"],
                &["DOUBLE"],
                block,
                true,
                false,
            ));
        }
        Ok(statement_resp(ok_status()))
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
    fn handle_fetch_results_v2(&self, _: TSFetchResultsReq) -> thrift::Result<TSFetchResultsResp> {
        let block =
            TsBlock::new(vec![1_704_067_202_500], vec![Column::F64(vec![Some(21.5)])]).unwrap();
        Ok(TSFetchResultsResp::new(
            ok_status(),
            true,
            true,
            None,
            vec![block.encode()],
            false,
        ))
    }
    fn handle_close_operation(&self, _: TSCloseOperationReq) -> thrift::Result<TSStatus> {
        Ok(ok_status())
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
    fn handle_pipe_transfer(&self, _: TPipeTransferReq) -> thrift::Result<TPipeTransferResp> {
        Ok(TPipeTransferResp::new(unsupported(), None))
    }
}

/// A fake server on 127.0.0.1:0: its `host:port` and the statements it ran.
pub fn serve() -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let statements = Log::default();
    let processor = Arc::new(IClientRPCServiceSyncProcessor::new(Fake {
        statements: statements.clone(),
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
    (addr, statements)
}

/// `host:port` that refuses connections.
pub fn dead_host() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

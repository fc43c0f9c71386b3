//! No request can take a connection down with a panic: [`Guarded`] wraps the
//! connection's handler and runs every call under `catch_unwind`. A panic
//! becomes an INTERNAL_SERVER_ERROR status for that request (logged, and
//! counted in `duet_rpc_handler_panics`); the connection and its session
//! stay up. A handler's state is a `parking_lot` mutex, which a panic does
//! not poison, and every handler leaves it consistent between statements.

use duet_rpc::generated::*;
use duet_rpc::status::{self, error_status, statement_resp};
use prometheus_client::metrics::counter::Counter;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A reply that can carry an error status in place of its result.
pub trait FromStatus: Sized {
    fn from_status(st: TSStatus) -> thrift::Result<Self>;
}

impl FromStatus for TSStatus {
    fn from_status(st: TSStatus) -> thrift::Result<Self> {
        Ok(st)
    }
}

impl FromStatus for TSOpenSessionResp {
    fn from_status(st: TSStatus) -> thrift::Result<Self> {
        Ok(TSOpenSessionResp::new(
            st,
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            None,
            None,
        ))
    }
}

impl FromStatus for TSExecuteStatementResp {
    fn from_status(st: TSStatus) -> thrift::Result<Self> {
        Ok(statement_resp(st))
    }
}

impl FromStatus for TSFetchResultsResp {
    fn from_status(st: TSStatus) -> thrift::Result<Self> {
        Ok(TSFetchResultsResp::new(st, false, true, None, None, false))
    }
}

impl FromStatus for TSGetTimeZoneResp {
    fn from_status(st: TSStatus) -> thrift::Result<Self> {
        Ok(TSGetTimeZoneResp::new(st, "UTC".to_string()))
    }
}

impl FromStatus for TPipeTransferResp {
    fn from_status(st: TSStatus) -> thrift::Result<Self> {
        Ok(TPipeTransferResp::new(st, None))
    }
}

/// `requestStatementId` returns a bare id: a panic there is an application
/// exception, which the client reports as an error for that call.
impl FromStatus for i64 {
    fn from_status(st: TSStatus) -> thrift::Result<Self> {
        Err(thrift::Error::Application(thrift::ApplicationError::new(
            thrift::ApplicationErrorKind::InternalError,
            st.message.unwrap_or_default(),
        )))
    }
}

/// A connection's handler behind a panic guard; `panics` counts what it
/// caught.
pub struct Guarded<H> {
    inner: H,
    panics: Counter,
}

impl<H: IClientRPCServiceSyncHandler> Guarded<H> {
    pub fn new(inner: H, panics: Counter) -> Self {
        Guarded { inner, panics }
    }

    fn run<T: FromStatus>(
        &self,
        call: &'static str,
        f: impl FnOnce(&H) -> thrift::Result<T>,
    ) -> thrift::Result<T> {
        match catch_unwind(AssertUnwindSafe(|| f(&self.inner))) {
            Ok(r) => r,
            Err(payload) => {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                self.panics.inc();
                tracing::error!("{call}: the request handler panicked ({what}); answered with an internal error, the connection stays open");
                T::from_status(error_status(
                    status::INTERNAL_SERVER_ERROR,
                    format!("{call} failed with an internal error in the server (logged): {what}"),
                ))
            }
        }
    }
}

macro_rules! guarded {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl<H: IClientRPCServiceSyncHandler> IClientRPCServiceSyncHandler for Guarded<H> {
            $(fn $method(&self, $($arg: $ty),*) -> thrift::Result<$ret> {
                self.run(stringify!($method), move |h| h.$method($($arg),*))
            })*
        }
    };
}

/// Calls `$m!` with every method of `IClientRPCServiceSyncHandler`.
macro_rules! handler_methods {
    ($m:ident) => {
        $m! {
            handle_open_session(req: TSOpenSessionReq) -> TSOpenSessionResp;
            handle_close_session(req: TSCloseSessionReq) -> TSStatus;
            handle_request_statement_id(session_id: i64) -> i64;
            handle_set_time_zone(req: TSSetTimeZoneReq) -> TSStatus;
            handle_get_time_zone(session_id: i64) -> TSGetTimeZoneResp;
            handle_execute_statement_v2(req: TSExecuteStatementReq) -> TSExecuteStatementResp;
            handle_execute_query_statement_v2(req: TSExecuteStatementReq) -> TSExecuteStatementResp;
            handle_execute_update_statement_v2(req: TSExecuteStatementReq) -> TSExecuteStatementResp;
            handle_execute_raw_data_query_v2(req: TSRawDataQueryReq) -> TSExecuteStatementResp;
            handle_execute_last_data_query_v2(req: TSLastDataQueryReq) -> TSExecuteStatementResp;
            handle_fetch_results_v2(req: TSFetchResultsReq) -> TSFetchResultsResp;
            handle_close_operation(req: TSCloseOperationReq) -> TSStatus;
            handle_insert_record(req: TSInsertRecordReq) -> TSStatus;
            handle_insert_records(req: TSInsertRecordsReq) -> TSStatus;
            handle_insert_records_of_one_device(req: TSInsertRecordsOfOneDeviceReq) -> TSStatus;
            handle_insert_string_record(req: TSInsertStringRecordReq) -> TSStatus;
            handle_insert_string_records_of_one_device(req: TSInsertStringRecordsOfOneDeviceReq) -> TSStatus;
            handle_insert_string_records(req: TSInsertStringRecordsReq) -> TSStatus;
            handle_insert_tablet(req: TSInsertTabletReq) -> TSStatus;
            handle_insert_tablets(req: TSInsertTabletsReq) -> TSStatus;
            handle_set_storage_group(session_id: i64, storage_group: String) -> TSStatus;
            handle_delete_storage_groups(session_id: i64, storage_group: Vec<String>) -> TSStatus;
            handle_create_timeseries(req: TSCreateTimeseriesReq) -> TSStatus;
            handle_create_aligned_timeseries(req: TSCreateAlignedTimeseriesReq) -> TSStatus;
            handle_create_multi_timeseries(req: TSCreateMultiTimeseriesReq) -> TSStatus;
            handle_delete_timeseries(session_id: i64, path: Vec<String>) -> TSStatus;
            handle_delete_data(req: TSDeleteDataReq) -> TSStatus;
            handle_test_connection_empty_r_p_c() -> TSStatus;
            handle_pipe_transfer(req: TPipeTransferReq) -> TPipeTransferResp;
        }
    };
}

pub(crate) use handler_methods;

handler_methods!(guarded);

#[cfg(test)]
mod tests {
    use super::*;
    use duet_rpc::frame::Protocol;
    use thrift::protocol::{TBinaryInputProtocol, TBinaryOutputProtocol};

    /// A handler whose every call panics.
    struct Panicky;

    macro_rules! panicking {
        ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
            impl IClientRPCServiceSyncHandler for Panicky {
                $(fn $method(&self, $($arg: $ty),*) -> thrift::Result<$ret> {
                    $(let _ = $arg;)*
                    panic!("boom in {}", stringify!($method))
                })*
            }
        };
    }
    handler_methods!(panicking);

    fn call<R>(
        processor: &IClientRPCServiceSyncProcessor<Guarded<Panicky>>,
        send: impl Fn(
            &mut IClientRPCServiceSyncClient<
                TBinaryInputProtocol<std::io::Cursor<Vec<u8>>>,
                TBinaryOutputProtocol<&mut Vec<u8>>,
            >,
        ) -> thrift::Result<R>,
    ) -> thrift::Result<R> {
        // The request bytes: a client writing into a buffer (its read fails).
        let mut request = Vec::new();
        {
            let mut c = IClientRPCServiceSyncClient::new(
                TBinaryInputProtocol::new(std::io::Cursor::new(Vec::new()), true),
                TBinaryOutputProtocol::new(&mut request, true),
            );
            let _ = send(&mut c);
        }
        let reply = duet_rpc::service::process_frame(processor, &request, Protocol::Binary)
            .expect("a well-formed call gets a reply");
        let mut sink = Vec::new();
        let mut c = IClientRPCServiceSyncClient::new(
            TBinaryInputProtocol::new(std::io::Cursor::new(reply), true),
            TBinaryOutputProtocol::new(&mut sink, true),
        );
        send(&mut c)
    }

    #[test]
    fn a_panicking_handler_answers_with_an_error_status() {
        let panics = Counter::default();
        let processor = IClientRPCServiceSyncProcessor::new(Guarded::new(Panicky, panics.clone()));
        let req = TSInsertRecordsOfOneDeviceReq::new(
            1,
            "root.sg.d".to_string(),
            vec![],
            vec![],
            vec![],
            None,
        );
        let st = call(&processor, |c| c.insert_records_of_one_device(req.clone())).unwrap();
        assert_eq!(st.code, status::INTERNAL_SERVER_ERROR);
        let msg = st.message.unwrap_or_default();
        assert!(
            msg.contains("boom in handle_insert_records_of_one_device"),
            "{msg}"
        );
        let resp = call(&processor, |c| {
            c.execute_statement_v2(TSExecuteStatementReq::new(
                1,
                "SHOW VERSION".to_string(),
                1,
                None,
                None,
                None,
                None,
            ))
        })
        .unwrap();
        assert_eq!(resp.status.code, status::INTERNAL_SERVER_ERROR);
        let id = call(&processor, |c| c.request_statement_id(1));
        assert!(id.is_err(), "a bare id becomes an application error");
        assert_eq!(panics.get(), 3);
    }
}

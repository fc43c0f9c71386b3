//! IoTDB's `TSStatusCode` values that Duet returns or checks, and helpers
//! to build statuses and status-only replies.
//!
//! IoTDB clients treat 200 and 400 as success and raise on anything else.
//! Duet never sets `redirectNode` (a client seeing one reconnects there) and
//! never returns 400.

use crate::generated::{TSExecuteStatementResp, TSStatus};

pub const SUCCESS_STATUS: i32 = 200;
pub const INCOMPATIBLE_VERSION: i32 = 201;
pub const UNSUPPORTED_OPERATION: i32 = 300;
pub const EXECUTE_STATEMENT_ERROR: i32 = 301;
pub const MULTIPLE_ERROR: i32 = 302;
pub const ILLEGAL_PARAMETER: i32 = 303;
pub const INTERNAL_SERVER_ERROR: i32 = 305;
pub const REDIRECTION_RECOMMEND: i32 = 400;
pub const DATABASE_NOT_EXIST: i32 = 500;
pub const DATABASE_ALREADY_EXISTS: i32 = 501;
pub const TIMESERIES_ALREADY_EXIST: i32 = 503;
pub const METADATA_ERROR: i32 = 507;
pub const PATH_NOT_EXIST: i32 = 508;
pub const ILLEGAL_PATH: i32 = 509;
pub const SYSTEM_READ_ONLY: i32 = 600;
pub const STORAGE_ENGINE_ERROR: i32 = 601;
pub const WRITE_PROCESS_REJECT: i32 = 606;
pub const OUT_OF_TTL: i32 = 607;
pub const DATA_TYPE_MISMATCH: i32 = 614;
pub const SQL_PARSE_ERROR: i32 = 700;
pub const SEMANTIC_ERROR: i32 = 701;
pub const QUERY_PROCESS_ERROR: i32 = 708;
pub const NO_SUCH_QUERY: i32 = 714;
pub const QUERY_TIMEOUT: i32 = 720;
pub const WRONG_LOGIN_PASSWORD: i32 = 801;
pub const NOT_LOGIN: i32 = 802;
pub const NO_PERMISSION: i32 = 803;
pub const PIPE_ERROR: i32 = 1107;
pub const PIPE_VERSION_ERROR: i32 = 1800;
pub const PIPE_TYPE_ERROR: i32 = 1801;
pub const PIPE_HANDSHAKE_ERROR: i32 = 1802;
pub const PIPE_RECEIVER_TEMPORARY_UNAVAILABLE_EXCEPTION: i32 = 1808;

/// A plain success status (code 200, no message).
pub fn ok_status() -> TSStatus {
    TSStatus::new(SUCCESS_STATUS, None, None, None, None, None)
}

/// An error status with a message for the user.
pub fn error_status(code: i32, message: impl Into<String>) -> TSStatus {
    TSStatus::new(code, message.into(), None, None, None, None)
}

/// Whether an IoTDB client would accept `status`: 200, 400, or 302 whose
/// sub-statuses are all accepted (the rule of `rpc_utils.verify_success`).
pub fn is_success(status: &TSStatus) -> bool {
    match status.code {
        SUCCESS_STATUS | REDIRECTION_RECOMMEND => true,
        MULTIPLE_ERROR => status
            .sub_status
            .as_ref()
            .is_some_and(|subs| subs.iter().all(|s| is_success(s))),
        _ => false,
    }
}

/// A statement response with only `status` set: the reply to a non-query,
/// or to any statement that failed.
pub fn statement_resp(status: TSStatus) -> TSExecuteStatementResp {
    TSExecuteStatementResp::new(
        status, None, None, None, None, None, None, None, None, None, None, None, None, None, None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_build_the_expected_statuses() {
        assert_eq!(ok_status().code, 200);
        assert_eq!(ok_status().message, None);
        let e = error_status(SQL_PARSE_ERROR, "bad");
        assert_eq!((e.code, e.message.as_deref()), (700, Some("bad")));
        assert!(e.redirect_node.is_none());
        assert_eq!(statement_resp(ok_status()).status, ok_status());
        assert_eq!(statement_resp(ok_status()).columns, None);
    }

    #[test]
    fn success_follows_the_client_rule() {
        assert!(is_success(&ok_status()));
        assert!(is_success(&error_status(REDIRECTION_RECOMMEND, "")));
        assert!(!is_success(&error_status(PIPE_HANDSHAKE_ERROR, "loop")));
        let mut multi = error_status(MULTIPLE_ERROR, "");
        multi.sub_status = Some(vec![Box::new(ok_status())]);
        assert!(is_success(&multi));
        multi.sub_status = Some(vec![
            Box::new(ok_status()),
            Box::new(error_status(OUT_OF_TTL, "")),
        ]);
        assert!(!is_success(&multi));
        assert!(!is_success(&error_status(MULTIPLE_ERROR, "")));
    }
}

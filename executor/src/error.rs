//! Errors of statement execution. The kind tells a protocol layer which
//! status to report; the message is what the user reads.

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The SQL text does not parse.
    Parse,
    /// The statement parses but is not valid here (bad path, bad parameter, ...).
    Semantic,
    NotFound,
    AlreadyExists,
    TypeMismatch,
    Auth,
    /// The user lacks a privilege the statement needs.
    NoPermission,
    /// Valid, but this node cannot do it (e.g. pipes not running in-process).
    Unsupported,
    /// Storage failed or data read back is corrupt.
    Internal,
    /// The replication budget refused a write, or a synchronous write's
    /// peer did not confirm it in time.
    Replication,
    /// The statement ran past its deadline (`query.timeout_ms`).
    Timeout,
}

#[derive(Debug, Clone, Error)]
#[error("{message}")]
pub struct ExecError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ExecError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ExecError {
            kind,
            message: message.into(),
        }
    }
    pub fn semantic(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Semantic, message)
    }
}

impl From<duet_engine::Error> for ExecError {
    fn from(e: duet_engine::Error) -> Self {
        use duet_engine::Error as E;
        let kind = match &e {
            E::Invalid(_) => ErrorKind::Semantic,
            E::NotFound(_) => ErrorKind::NotFound,
            E::AlreadyExists(_) => ErrorKind::AlreadyExists,
            E::TypeMismatch(_) => ErrorKind::TypeMismatch,
            E::Auth(_) => ErrorKind::Auth,
            E::Unreplicated(_) | E::Unconfirmed(_) => ErrorKind::Replication,
            E::Timeout(_) => ErrorKind::Timeout,
            E::Trimmed { .. } | E::Corrupt { .. } | E::Storage { .. } | E::ClockSkew(_) => {
                ErrorKind::Internal
            }
        };
        ExecError::new(kind, e.to_string())
    }
}

pub type Result<T, E = ExecError> = std::result::Result<T, E>;

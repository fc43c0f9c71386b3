//! Pipe errors. Each sending error is a decision (STYLE habit 7):
//! `Unreachable` → capped backoff with jitter and the same batch again;
//! `Rejected` → the pipe stops with the message in SHOW PIPES.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PipeError {
    #[error("{0}")]
    Config(String),
    #[error("pipe {0} does not exist")]
    NotFound(String),
    #[error("pipe {0} already exists")]
    AlreadyExists(String),
    #[error(transparent)]
    Engine(#[from] duet_engine::Error),
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No connection, a timeout, a dropped connection, or a receiver that is
    /// temporarily unable: try again later with the same batch.
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The receiver refused (loop, protocol, credentials, data it cannot
    /// take), or a certificate was refused on either side of the TLS
    /// handshake, or the sink's TLS files cannot be used: retrying would
    /// not help.
    #[error("refused by the receiver: {0}")]
    Rejected(String),
}

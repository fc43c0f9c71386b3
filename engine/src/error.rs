//! The engine's one error type. Each variant is something a caller decides on:
//! a client error (bad input: reported, nothing changed), a conflict, or a
//! storage failure (what was being done to what).

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// The request is wrong; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// A named object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A named object already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// A value does not fit the series' type.
    #[error("{0}")]
    TypeMismatch(String),
    /// The change log no longer holds this position (trimmed); the reader must
    /// fall back to a snapshot.
    #[error("change log position {requested} was trimmed; the log starts at {first}")]
    Trimmed { requested: u64, first: u64 },
    /// Bytes read back from disk (or from a peer) do not decode.
    #[error("corrupt {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// RocksDB failed while doing `context`.
    #[error("storage error while {context}: {source}")]
    Storage {
        context: String,
        #[source]
        source: rocksdb::Error,
    },
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A peer's change carries a version further ahead of this node's
    /// clock than `max_clock_skew_ms`: refused, never adopted.
    #[error("{0}")]
    ClockSkew(String),
    /// The replication budget is full (or the peer of a synchronous node is
    /// away) past the write timeout: the change was refused, not applied.
    #[error("{0}")]
    Unreplicated(String),
    /// A synchronous change was committed on this node, but its peer did
    /// not confirm it within the write timeout (it is sent when the peer
    /// answers).
    #[error("{0}")]
    Unconfirmed(String),
    /// A statement ran past its deadline and was stopped.
    #[error("{0}")]
    Timeout(String),
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
    pub fn corrupt(what: &'static str, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            what,
            detail: detail.into(),
        }
    }
}

/// Adds "while doing X" to a RocksDB error.
pub(crate) trait StorageContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> StorageContext<T> for std::result::Result<T, rocksdb::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Storage {
            context: context(),
            source,
        })
    }
}

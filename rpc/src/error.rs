//! The crate's error type. Each variant tells the caller what to do:
//! a `Frame` or `MalformedMessage` error ends that one connection, a decoding
//! error (`Truncated`, `UnknownType`, `Invalid`) becomes an error status for
//! that one request.

use crate::frame::FrameError;

/// Everything that can go wrong in `duet-rpc`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a frame failed (see [`FrameError`]).
    #[error(transparent)]
    Frame(#[from] FrameError),

    /// The first byte of a connection is neither strict binary (0x80) nor
    /// compact (0x82) thrift.
    #[error("unknown thrift protocol: first message byte is {first_byte:?}, expected 0x80 (binary) or 0x82 (compact)")]
    UnknownProtocol { first_byte: Option<u8> },

    /// A request frame is not a well-formed thrift call.
    #[error("malformed thrift message: {0}")]
    MalformedMessage(#[source] thrift::Error),

    /// The thrift layer failed to write a reply or a request.
    #[error("thrift {action} failed: {source}")]
    Thrift {
        action: &'static str,
        #[source]
        source: thrift::Error,
    },

    /// A binary payload ended before `what` was complete.
    #[error("{what}: truncated at byte {offset}: need {needed} more bytes, {remaining} remain")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        remaining: usize,
    },

    /// A type code that Duet does not store (or that the format does not define).
    #[error("{what}: unsupported data type code {code}")]
    UnknownType { what: &'static str, code: i32 },

    /// A payload is structurally wrong in some other way (a negative count,
    /// mismatched lengths, trailing bytes, ...).
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

/// Shorthand for `Result<T, duet_rpc::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            detail: detail.into(),
        }
    }
}

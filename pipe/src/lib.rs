//! Pipes: change-data-capture streams between Duet nodes, declared in SQL.
//!
//! The path of a change: the engine commits it to its change log; a pipe's
//! task ([`task`]) reads the log from its acknowledged position, keeps what
//! its source wants ([`filter`], pure functions over events, configured by
//! [`config`]), lets its [`processor`] down-sample the inserts (IoTDB's
//! sampling processors; per-series state), batches them, compresses them
//! as the sink asks ([`compress`]) and hands them to the [`sink`], which speaks
//! IoTDB's `pipeTransfer` call with Duet's request bodies ([`wire`]) to the
//! peer, in plain text or over TLS ([`tls`]: the sink's certificate files). There [`receiver`] checks the handshake and applies each batch
//! exactly once. A new pipe, or one whose position was trimmed away, first
//! sends a history snapshot. [`manager`] holds the registry, persists each
//! pipe's [`record`] in `meta`, restores pipes at start and trims the log.
//! The [`gate`] holds the node's own writes to the write mode (how much may
//! be committed here and not yet on the peers).

pub mod compress;
pub mod config;
pub mod error;
pub mod filter;
pub mod gate;
pub mod manager;
pub mod marks;
pub mod processor;
pub mod receiver;
pub mod record;
pub mod sink;
pub mod split;
pub mod task;
pub mod tls;
pub mod wire;

pub use error::{PipeError, SendError};
pub use gate::{GateSettings, GateStatus};
pub use manager::{PipeInfo, PipeManager, PipeSettings};

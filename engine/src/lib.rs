//! Duet's storage engine: one RocksDB instance per node.
//!
//! The path of a write: a caller's points ([`write::WriteSeries`]) become a
//! change event ([`event`]) with a version from the hybrid logical clock
//! ([`hlc`]); [`engine::Engine`] applies it ([`apply`]) as columnar chunks
//! ([`chunk`]) merged into the `data` column family under big-endian keys
//! ([`keys`]), and appends the event to the `log` column family in the same
//! WriteBatch. Pipes read that log through the [`changelog::ChangeLog`]
//! trait; a peer's events come back in through [`engine::Engine::apply_remote`]
//! and take the same path, keeping their origin. Reads go through series
//! scans ([`read`]) and the row and aggregate building blocks of [`query`].
//! The schema ([`schema`]) and users ([`users`]) live in `meta`.

pub mod apply;
pub mod changelog;
pub mod chunk;
pub mod codec;
pub mod conflicts;
pub mod engine;
pub mod error;
pub mod event;
pub mod hlc;
pub mod keys;
pub mod layout;
pub mod query;
pub mod read;
pub mod schema;
pub mod snapshot;
pub mod types;
pub mod users;
pub mod write;

pub use changelog::{ChangeLog, LogEntry, MemLog};
pub use engine::{
    ApplyOutcome, Durability, Engine, EngineOptions, Mark, MemoryUse, MAX_TIME, MIN_TIME,
};
pub use error::{Error, Result};
pub use hlc::{NodeId, Version};
pub use query::{Accumulator, AggFunc, AlignedRows};
pub use read::{PointBlock, SeriesScan};
pub use schema::{Database, Schema, Series};
pub use types::{Column, DataType, Value};
pub use write::WriteSeries;

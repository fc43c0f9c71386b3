//! Duet's storage engine: one RocksDB instance per node.
//!
//! The path of a write, in the order the modules depend on each other (each
//! uses only those before it; nothing points back up):
//! 1. [`keys`], [`chunk`], [`event`], [`schema`]: formats — a caller's
//!    points ([`write::WriteSeries`]) become a change event with a version
//!    from the hybrid logical clock ([`hlc`]) holding columnar chunks;
//! 2. [`layout`]: which chunk key a point goes to (spans that follow each
//!    series' rate);
//! 3. `store`: reading stored chunks, key by key;
//! 4. [`conflicts`]: the record of what a peer's change could not do;
//! 5. [`apply`]: a change becomes chunk merges and schema edits in one
//!    WriteBatch, given an `apply::Env` (database, identity, defaults);
//! 6. [`engine::Engine`]: versions the change, applies it, appends the
//!    event to the `log` column family in the same WriteBatch, commits,
//!    publishes the schema; a peer's events come in through
//!    [`engine::Engine::apply_remote`] and take the same path, keeping
//!    their origin; pipes read the log through [`changelog::ChangeLog`];
//! 7. [`write`](mod@write), [`read`], [`snapshot`], [`users`] (with [`privileges`]), [`query`]: what
//!    callers use on top (inserts and deletes, series scans, history
//!    transfers, users and their grants, row and aggregate building blocks).

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
pub mod labels;
pub mod layout;
pub mod privileges;
pub mod query;
pub mod read;
pub mod schema;
pub mod snapshot;
pub(crate) mod store;
pub mod types;
pub mod users;
pub mod write;

pub use changelog::{ChangeLog, LogEntry, MemLog};
pub use engine::{
    list_backups, restore_backup, ApplyOutcome, BackgroundWork, BackupInfo, Durability, Engine,
    EngineOptions, Mark, MemoryUse, WriteGate,
};
pub use error::{Error, Result};
pub use hlc::{NodeId, Version};
pub use keys::{MAX_TIME, MIN_TIME};
pub use query::{Accumulator, AggFunc, AlignedRows};
pub use read::{BlockIter, PointBlock, SeriesScan, VersionedPoint};
pub use schema::{Database, Schema, Series};
pub use types::{Column, DataType, Value};
pub use write::WriteSeries;

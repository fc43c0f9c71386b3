//! The engine: one RocksDB instance with the `data`, `log` and `meta` column
//! families, the node's identity, the clock, and the write paths.
//!
//! Every change — local or received from a peer — goes through `commit`:
//! under the writer lock it gets the next log sequence, its effects and its
//! change event go into one WriteBatch, and only after RocksDB accepted the
//! batch are the in-memory schema and the log watchers updated. So the log
//! can never miss or invent a change, and readers never see a gap.

use crate::apply::{apply_body, ApplyState, Env, SchemaDelta};

use crate::chunk::merge_encoded;
use crate::error::{Error, Result, StorageContext};
use crate::event::{ChangeEvent, EventBody, EventHeader};
use crate::hlc::{Hlc, NodeId, Version};
use crate::keys::*;
use crate::schema::{decode_tombstones, Database, Schema, Series};
use log::log_bounds;

mod conflict_log;
mod log;
mod remote;

use parking_lot::{Mutex, RwLock};
pub(crate) use remote::Marks;
pub use remote::{ApplyOutcome, Mark};
use rocksdb::{ColumnFamilyDescriptor, IteratorMode, Options, WriteBatch, WriteOptions, DB};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio::sync::watch;

pub use crate::keys::{MAX_TIME, MIN_TIME};

/// Merge operands a data key may gather in the memtable before a write
/// folds them into one value.
const MAX_SUCCESSIVE_MERGES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Each write is in RocksDB's WAL before it returns (survives a process
    /// kill); the WAL is fsynced by `sync_wal` (the server calls it on a
    /// short interval) — concurrent writers share one WAL write.
    GroupCommit,
    /// Every write fsyncs the WAL before it returns (survives power loss).
    Fsync,
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub durability: Durability,
    /// Bucket span for databases created without one.
    pub default_bucket_span_ms: i64,
    /// A peer's change whose version is more than this far ahead of this
    /// node's clock is refused (as CockroachDB's max offset): adopting it
    /// would let a fast clock win every conflict and drag this clock along.
    pub max_clock_skew_ms: u64,
    /// What RocksDB may hold in memory: memtables and the block cache of
    /// every column family share this one limit (see [`MemoryUse`]).
    pub rocksdb_memory_bytes: usize,
}

/// The default of `replication.max_clock_skew_ms`.
pub const DEFAULT_MAX_CLOCK_SKEW_MS: u64 = 500;

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            durability: Durability::GroupCommit,
            default_bucket_span_ms: crate::schema::DEFAULT_BUCKET_SPAN_MS,
            max_clock_skew_ms: DEFAULT_MAX_CLOCK_SKEW_MS,
            rocksdb_memory_bytes: DEFAULT_ROCKSDB_MEMORY_BYTES,
        }
    }
}

/// RocksDB's share of the default `storage.memory_budget_mb` (512).
pub const DEFAULT_ROCKSDB_MEMORY_BYTES: usize = 256 << 20;

/// What RocksDB holds in memory now, for /metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    /// The limit memtables and cached blocks share.
    pub limit: usize,
    /// Memtables (charged to the cache, so also inside `cache`).
    pub memtables: usize,
    /// The block cache, memtable charges included.
    pub cache: usize,
    /// Index and filter blocks pinned outside the cache and iterators'
    /// pinned blocks: `rocksdb.estimate-table-readers-mem`.
    pub table_readers: usize,
}

/// RocksDB's work behind the writes (flushes and compactions), for
/// /metrics: a node busy with it has less CPU for writes and pipes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackgroundWork {
    pub running_flushes: u64,
    pub running_compactions: u64,
    /// Bytes compaction has yet to rewrite (RocksDB's estimate).
    pub pending_compaction_bytes: u64,
}

/// What the node's local changes pass through on their way in: the
/// replication budget (see the pipe crate's gate). Set once pipes exist.
pub trait WriteGate: Send + Sync {
    /// Before a local change is made: waits for room, or refuses it
    /// ([`Error::Unreplicated`]) and nothing is applied.
    fn admit(&self) -> Result<()>;
    /// Change `seq` of `bytes` was committed (called under the writer
    /// lock, in sequence order; must not block).
    fn committed(&self, seq: u64, bytes: u64);
    /// After the commit, outside the lock: returns once the change is as
    /// replicated as the write mode asks (synchronous: the peers have it),
    /// or [`Error::Unconfirmed`].
    fn confirm(&self, seq: u64) -> Result<()>;
}

pub struct Engine {
    pub(crate) db: Arc<DB>,
    node_id: NodeId,
    cluster_id: String,
    pub(crate) hlc: Hlc,
    pub(crate) schema: RwLock<Schema>,
    writer: Mutex<Writer>,
    first_seq: AtomicU64,
    /// The id of the next conflict record (see `conflicts`).
    pub(crate) next_conflict: AtomicU64,
    /// Serialises `add_conflict_once` (check, then record).
    pub(crate) conflict_once: Mutex<()>,
    /// Every change up to this sequence is fsynced.
    durable_seq: AtomicU64,
    /// Peers' batches written to the WAL (a count), and how many of them
    /// an fsync has covered: appliers share fsyncs (see `sync_wal_upto`).
    wal_written: AtomicU64,
    wal_synced: AtomicU64,
    wal_sync: Mutex<()>,
    last_seq: watch::Sender<u64>,
    /// The peers seen starting a new stream epoch because their log went
    /// back (restored from a backup): (how many so far, the latest one).
    pub(crate) went_back: watch::Sender<(u64, NodeId)>,
    /// Whether peers' changes go into this node's change log too (see
    /// [`Engine::set_log_remote`]).
    pub(crate) log_remote: std::sync::atomic::AtomicBool,
    pub(crate) opts: EngineOptions,
    write_opts: WriteOptions,
    /// The block cache every column family shares, and the manager that
    /// charges memtables to it.
    cache: rocksdb::Cache,
    buffers: rocksdb::WriteBufferManager,
    gate: RwLock<Option<Arc<dyn WriteGate>>>,
    /// Users' grants as last read from `meta` (see `users`); an entry is
    /// dropped whenever its user's grants change.
    /// `None`: no such user.
    pub(crate) grants: RwLock<HashMap<String, Option<Arc<crate::privileges::Grants>>>>,
    /// The incremental backup running now: its directory, when it began
    /// (wall-clock ms) and the bytes the directory held then.
    backup_running: Mutex<Option<(std::path::PathBuf, i64, u64)>>,
}

pub(crate) struct Writer {
    pub next_seq: u64,
    /// Series ids and each series' newest chunk (see `apply`).
    pub apply: ApplyState,
    /// Per remote origin: the highest origin sequence applied here.
    pub hwm: Marks,
    /// The log's byte accounting (see `log::LogBytes`).
    pub log_bytes: log::LogBytes,
    /// Digests of the last batches applied from peers (see `remote`).
    pub recent_batches: std::collections::VecDeque<[u8; 32]>,
    /// Peers' changes applied here, ever (kept in `meta`).
    pub remote_applied: u64,
}

fn merge_op(_key: &[u8], existing: Option<&[u8]>, ops: &rocksdb::MergeOperands) -> Option<Vec<u8>> {
    // One chunk alone is already its own merge (RocksDB asks for this on
    // every read of a key that was written once and not yet compacted).
    if existing.is_none() && ops.len() == 1 {
        return ops.iter().next().map(<[u8]>::to_vec);
    }
    match merge_encoded(existing, ops.iter()) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!("chunk merge failed, the key reads as corrupt: {e}");
            None
        }
    }
}

impl Engine {
    pub fn open(path: &Path, opts: EngineOptions) -> Result<Engine> {
        if opts.default_bucket_span_ms <= 0 {
            return Err(Error::invalid("default bucket span must be positive"));
        }
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.increase_parallelism(2);
        // One limit for memtables and cached blocks of every column family:
        // memtables are charged to the shared cache, and writers stall
        // (until a flush frees memory) rather than grow past it.
        let limit = opts.rocksdb_memory_bytes.max(16 << 20);
        let cache = rocksdb::Cache::new_lru_cache(limit);
        let buffers = rocksdb::WriteBufferManager::new_write_buffer_manager_with_cache(
            limit / 2,
            true,
            cache.clone(),
        );
        db_opts.set_write_buffer_manager(&buffers);
        // The write-ahead log is kept until every column family flushed what
        // it holds of it; `meta` takes a few bytes per commit and fills its
        // memtable slowly, so without a cap 1.6 GB of WAL piled up behind it
        // in a 15 s ingest (disk, and 4.4 s of replay at the next start).
        // Past this, RocksDB flushes the column families holding the oldest.
        db_opts.set_max_total_wal_size((limit / 2) as u64);
        // Flushes and compactions hand their writes to the disk a MiB at a
        // time instead of leaving tens of MiB dirty for the end: an fsync
        // of the WAL (every batch a peer sends) then no longer waits behind
        // them.
        db_opts.set_bytes_per_sync(1 << 20);
        db_opts.set_wal_bytes_per_sync(1 << 20);
        let mut table = rocksdb::BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_cache_index_and_filter_blocks(true);
        let cf_opts = || {
            let mut o = Options::default();
            o.set_block_based_table_factory(&table);
            // Memtables of a column family: at most two of limit / 8.
            o.set_write_buffer_size((limit / 8).clamp(4 << 20, 64 << 20));
            o.set_max_write_buffer_number(2);
            o
        };
        let mut data_opts = cf_opts();
        data_opts.set_merge_operator("duet-chunk-merge-v1", merge_op, merge_op);
        // A bucket written by many small inserts would otherwise hold
        // thousands of operands until compaction, and every read of it
        // would merge them all. After this many, the write merges them
        // once (a read on one write in MAX_SUCCESSIVE_MERGES).
        data_opts.set_max_successive_merges(MAX_SUCCESSIVE_MERGES);
        data_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let mut log_opts = cf_opts();
        log_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let cfs = vec![
            ColumnFamilyDescriptor::new(CF_DATA, data_opts),
            ColumnFamilyDescriptor::new(CF_LOG, log_opts),
            ColumnFamilyDescriptor::new(CF_META, cf_opts()),
        ];
        let db = DB::open_cf_descriptors(&db_opts, path, cfs)
            .ctx(|| format!("opening {}", path.display()))?;
        let db = Arc::new(db);
        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(opts.durability == Durability::Fsync);

        let mut init = WriteBatch::default();
        let meta = db
            .cf_handle(CF_META)
            .ok_or_else(|| Error::corrupt("database", "meta column family missing"))?;
        let node_id = match db
            .get_cf(meta, META_NODE_ID)
            .ctx(|| "reading node id".into())?
        {
            Some(b) => {
                let a: [u8; 4] = b
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::corrupt("node id", "not 4 bytes"))?;
                u32::from_le_bytes(a)
            }
            None => {
                let id = new_node_id();
                init.put_cf(meta, META_NODE_ID, id.to_le_bytes());
                id
            }
        };
        let cluster_id = match db
            .get_cf(meta, META_CLUSTER_ID)
            .ctx(|| "reading cluster id".into())?
        {
            Some(b) => {
                String::from_utf8(b).map_err(|_| Error::corrupt("cluster id", "not UTF-8"))?
            }
            None => {
                let id = new_cluster_id();
                init.put_cf(meta, META_CLUSTER_ID, id.as_bytes());
                id
            }
        };
        if !init.is_empty() {
            let mut sync = WriteOptions::default();
            sync.set_sync(true);
            db.write_opt(init, &sync)
                .ctx(|| "writing node identity".into())?;
        }

        let (schema, next_series_id, hwm) = load_meta(&db)?;
        let log_bytes = log::LogBytes::load(&db)?;
        let next_conflict = crate::conflicts::first_free_id(&db)?;
        let (first, last) = log_bounds(&db)?;
        let hlc = Hlc::new();
        if let Some(last) = meta_u64(&db, META_HLC, "clock")? {
            hlc.observe(last);
        }
        let remote_applied =
            meta_u64(&db, META_REMOTE_APPLIED, "count of peers' changes")?.unwrap_or(0);
        if last >= first {
            let log = db
                .cf_handle(CF_LOG)
                .ok_or_else(|| Error::corrupt("database", "log column family missing"))?;
            if let Some(v) = db
                .get_cf(log, log_key(last))
                .ctx(|| "reading the newest log entry".into())?
            {
                hlc.observe(EventHeader::decode(&v)?.version.hlc);
            }
        }
        let engine = Engine {
            db,
            node_id,
            cluster_id,
            hlc,
            schema: RwLock::new(schema),
            writer: Mutex::new(Writer {
                next_seq: last + 1,
                apply: ApplyState {
                    next_series_id,
                    fills: HashMap::new(),
                },
                hwm,
                log_bytes,
                recent_batches: Default::default(),
                remote_applied,
            }),
            first_seq: AtomicU64::new(first),
            next_conflict: AtomicU64::new(next_conflict),
            conflict_once: Mutex::new(()),
            durable_seq: AtomicU64::new(last),
            wal_written: AtomicU64::new(0),
            wal_synced: AtomicU64::new(0),
            wal_sync: Mutex::new(()),
            last_seq: watch::channel(last).0,
            went_back: watch::channel((0, 0)).0,
            log_remote: std::sync::atomic::AtomicBool::new(true),
            opts,
            cache,
            buffers,
            write_opts,
            gate: RwLock::new(None),
            grants: RwLock::new(HashMap::new()),
            backup_running: Mutex::new(None),
        };
        engine.ensure_default_user()?;
        Ok(engine)
    }

    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    pub fn clock(&self) -> &Hlc {
        &self.hlc
    }

    pub fn max_clock_skew_ms(&self) -> u64 {
        self.opts.max_clock_skew_ms
    }

    pub(crate) fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| Error::corrupt("database", format!("column family {name} missing")))
    }

    /// Commits a change made on this node: a new version and log sequence,
    /// the effects and the event in one WriteBatch.
    pub(crate) fn commit_local(
        &self,
        make: impl FnOnce(Version) -> Result<EventBody>,
    ) -> Result<u64> {
        self.commit_local_with(true, make)
    }

    /// As `commit_local`, but neither waiting for room nor for the peer
    /// (the gate only counts the change): for changes that must work while
    /// the peer is away, such as revoking a user's privileges.
    pub(crate) fn commit_local_ungated(
        &self,
        make: impl FnOnce(Version) -> Result<EventBody>,
    ) -> Result<u64> {
        self.commit_local_with(false, make)
    }

    fn commit_local_with(
        &self,
        gated: bool,
        make: impl FnOnce(Version) -> Result<EventBody>,
    ) -> Result<u64> {
        let gate = self.gate.read().clone();
        if let (true, Some(g)) = (gated, &gate) {
            g.admit()?;
        }
        let mut w = self.writer.lock();
        let version = Version::new(self.hlc.tick(), self.node_id);
        let body = make(version)?;
        let seq = w.next_seq;
        let event = ChangeEvent {
            origin: self.node_id,
            origin_seq: seq,
            version,
            body,
        };
        let mut batch = WriteBatch::default();
        let mut delta = SchemaDelta::default();
        let encoded = event.encode();
        apply_body(
            &self.apply_env(),
            &mut w.apply,
            &mut batch,
            &event,
            &encoded,
            "",
            &mut delta,
        )?;
        let mut appended = w.log_bytes.begin();
        appended.append(self, &mut batch, seq, encoded.len())?;
        appended.finish(self, &mut batch)?;
        let bytes = encoded.len() as u64;
        batch.put_cf(self.cf(CF_LOG)?, log_key(seq), encoded);
        batch.put_cf(self.cf(CF_META)?, META_HLC, version.hlc.to_le_bytes());
        self.write_batch(batch, || format!("committing change {seq}"))?;
        w.log_bytes.commit(appended);
        w.next_seq += 1;
        if let Some(g) = &gate {
            g.committed(seq, bytes);
        }
        self.publish(delta, seq);
        drop(w);
        if let (true, Some(g)) = (gated, &gate) {
            g.confirm(seq)?;
        }
        Ok(seq)
    }

    /// Puts local changes through `gate` from now on.
    pub fn set_write_gate(&self, gate: Arc<dyn WriteGate>) {
        *self.gate.write() = Some(gate);
    }

    fn write_batch(&self, batch: WriteBatch, what: impl FnOnce() -> String) -> Result<()> {
        self.db.write_opt(batch, &self.write_opts).ctx(what)
    }

    fn publish(&self, mut delta: SchemaDelta, last: u64) {
        if !delta.users_changed.is_empty() {
            let mut cache = self.grants.write();
            for name in std::mem::take(&mut delta.users_changed) {
                cache.remove(&name);
            }
        }
        if !delta.is_empty() {
            let mut s = self.schema.write();
            delta.apply_to(&mut s);
        }
        self.last_seq.send_replace(last);
    }

    /// fsyncs the WAL: what group commit does on its interval.
    pub fn sync_wal(&self) -> Result<()> {
        use std::sync::atomic::Ordering::{AcqRel, Acquire};
        let upto = *self.last_seq.borrow();
        let written = self.wal_written.load(Acquire);
        self.db
            .flush_wal(true)
            .ctx(|| "syncing the write-ahead log".into())?;
        self.durable_seq.fetch_max(upto, AcqRel);
        self.wal_synced.fetch_max(written, AcqRel);
        Ok(())
    }

    /// Notes that a peer's batch was written to the WAL (not yet synced;
    /// see [`Engine::sync_wal_upto`]). Called under the writer lock, after
    /// the write.
    pub(crate) fn wal_batch_written(&self) {
        self.wal_written
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Makes peers' batches up to number `n` durable: one fsync covers
    /// every batch written before it, so batches that arrive together (and
    /// the pipes' own syncs) share it, and no fsync holds the writer lock.
    pub(crate) fn sync_wal_upto(&self, n: u64) -> Result<()> {
        use std::sync::atomic::Ordering::Acquire;
        if self.wal_synced.load(Acquire) >= n {
            return Ok(());
        }
        let _one = self.wal_sync.lock();
        if self.wal_synced.load(Acquire) >= n {
            return Ok(());
        }
        self.sync_wal()
    }

    /// Makes every change up to `seq` durable (fsync) unless it already is.
    /// Pipes call this before shipping: a peer must never hold an event
    /// this node could lose in a power cut, or this node would later reuse
    /// its sequence number and the peer would skip the new event.
    /// Returns whether it had to sync.
    pub fn ensure_durable(&self, seq: u64) -> Result<bool> {
        if self.opts.durability == Durability::Fsync
            || self.durable_seq.load(std::sync::atomic::Ordering::Acquire) >= seq
        {
            return Ok(false);
        }
        self.sync_wal().map(|_| true)
    }

    /// Flushes memtables to SST files (`FLUSH`).
    pub fn flush(&self) -> Result<()> {
        for cf in [CF_DATA, CF_LOG, CF_META] {
            self.db
                .flush_cf(self.cf(cf)?)
                .ctx(|| format!("flushing {cf}"))?;
        }
        Ok(())
    }

    /// Compacts the data column family (merges every chunk's operands).
    pub fn compact_data(&self) -> Result<()> {
        let mut o = rocksdb::CompactOptions::default();
        // Rewrite the bottom level too, so every key's operands are merged
        // into one value (a plain compaction may just move the files down).
        o.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        self.db
            .compact_range_cf_opt(self.cf(CF_DATA)?, None::<&[u8]>, None::<&[u8]>, &o);
        Ok(())
    }

    /// An integer RocksDB property summed over the column families.
    fn sum_over_cfs(&self, property: &str) -> u64 {
        [CF_DATA, CF_LOG, CF_META]
            .iter()
            .filter_map(|cf| self.db.cf_handle(cf))
            .filter_map(|h| self.db.property_int_value_cf(h, property).ok().flatten())
            .sum()
    }

    /// What RocksDB holds in memory now (see [`MemoryUse`]).
    pub fn memory_use(&self) -> MemoryUse {
        let readers = self.sum_over_cfs("rocksdb.estimate-table-readers-mem");
        MemoryUse {
            limit: self.opts.rocksdb_memory_bytes.max(16 << 20),
            memtables: self.buffers.get_usage(),
            cache: self.cache.get_usage(),
            table_readers: readers as usize,
        }
    }

    /// Flushes and compactions running and pending now.
    pub fn background_work(&self) -> BackgroundWork {
        let int = |name: &str| self.db.property_int_value(name).ok().flatten().unwrap_or(0);
        let pending = self.sum_over_cfs("rocksdb.estimate-pending-compaction-bytes");
        BackgroundWork {
            running_flushes: int("rocksdb.num-running-flushes"),
            running_compactions: int("rocksdb.num-running-compactions"),
            pending_compaction_bytes: pending,
        }
    }

    /// A consistent copy of the whole database in `dir` (`BACKUP TO`); `dir`
    /// must not exist yet.
    pub fn checkpoint(&self, dir: &Path) -> Result<()> {
        if dir.exists() {
            return Err(Error::invalid(format!(
                "backup directory {} already exists",
                dir.display()
            )));
        }
        let cp = rocksdb::checkpoint::Checkpoint::new(&self.db)
            .ctx(|| "preparing a checkpoint".into())?;
        cp.create_checkpoint(dir)
            .ctx(|| format!("writing a checkpoint to {}", dir.display()))
    }

    /// An incremental backup into `dir` (RocksDB's BackupEngine: files a
    /// previous backup there already holds are not copied again). Flushes
    /// first, so the backup needs no write-ahead log. Returns it.
    pub fn backup_incremental(&self, dir: &Path) -> Result<BackupInfo> {
        self.sync_wal()?;
        {
            let mut running = self.backup_running.lock();
            if running.is_some() {
                return Err(Error::invalid(
                    "a backup is running already: wait for it (SHOW BACKUPS)",
                ));
            }
            let started = crate::hlc::wall_clock_ms() as i64;
            *running = Some((dir.to_path_buf(), started, dir_bytes(dir).0));
        }
        struct Done<'a>(&'a Mutex<Option<(std::path::PathBuf, i64, u64)>>);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                *self.0.lock() = None;
            }
        }
        let _done = Done(&self.backup_running);
        // Tests and drills: a backup that takes a while, to watch it run.
        if let Some(ms) = std::env::var("DUET_BACKUP_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            std::thread::sleep(std::time::Duration::from_millis(ms.min(60_000)));
        }
        let ctx = || format!("backing up into {}", dir.display());
        let mut be = open_backups(dir)?;
        be.create_new_backup_flush(&self.db, true).ctx(ctx)?;
        backups_of(&be).pop().ok_or_else(|| {
            Error::corrupt(
                "backup",
                format!("{}: no backup after creating one", dir.display()),
            )
        })
    }

    /// The backup running now, if any: (directory, start in wall-clock
    /// ms, bytes copied so far, files in the directory).
    pub fn backup_progress(&self) -> Option<(std::path::PathBuf, i64, u64, u64)> {
        let (dir, started, before) = self.backup_running.lock().clone()?;
        let (bytes, files) = dir_bytes(&dir);
        Some((dir, started, bytes.saturating_sub(before), files))
    }

    pub fn schema(&self) -> parking_lot::RwLockReadGuard<'_, Schema> {
        self.schema.read()
    }

    /// What applying a change needs of this engine (see `apply::Env`).
    pub(crate) fn apply_env(&self) -> Env<'_> {
        Env {
            db: &self.db,
            node_id: self.node_id,
            default_span: self.default_span(),
            next_conflict: &self.next_conflict,
            schema: &self.schema,
        }
    }

    /// The bucket span of a database created without one.
    pub fn default_span(&self) -> i64 {
        self.opts.default_bucket_span_ms
    }

    /// Meta records are written with the writer lock held; plain reads go here.
    /// Records other parts of the node keep in `meta` (pipe definitions
    /// and positions), under `rec/<namespace>/<name>`; written with fsync.
    pub fn put_record(&self, namespace: &str, name: &str, value: &[u8]) -> Result<()> {
        self.meta_put(
            &meta_key(PREFIX_RECORD, &format!("{namespace}/{name}")),
            value,
            true,
        )
    }

    pub fn delete_record(&self, namespace: &str, name: &str) -> Result<()> {
        self.meta_delete(&meta_key(PREFIX_RECORD, &format!("{namespace}/{name}")))
    }

    /// Every record of a namespace, by name.
    pub fn records(&self, namespace: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.meta_scan(&format!("{PREFIX_RECORD}{namespace}/"))
    }

    pub(crate) fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db
            .get_cf(self.cf(CF_META)?, key)
            .ctx(|| format!("reading meta {}", String::from_utf8_lossy(key)))
    }

    pub(crate) fn meta_put(&self, key: &[u8], value: &[u8], sync: bool) -> Result<()> {
        let mut o = WriteOptions::default();
        o.set_sync(sync || self.opts.durability == Durability::Fsync);
        self.db
            .put_cf_opt(self.cf(CF_META)?, key, value, &o)
            .ctx(|| format!("writing meta {}", String::from_utf8_lossy(key)))
    }

    /// Replaces `key`'s value with `new` if it still is `expected`, under
    /// the writer lock (no change commits in between). Whether it did.
    pub(crate) fn meta_replace_if(&self, key: &[u8], expected: &[u8], new: &[u8]) -> Result<bool> {
        let _w = self.writer.lock();
        if self.meta_get(key)?.as_deref() != Some(expected) {
            return Ok(false);
        }
        self.meta_put(key, new, true)?;
        Ok(true)
    }

    pub(crate) fn meta_delete(&self, key: &[u8]) -> Result<()> {
        self.db
            .delete_cf(self.cf(CF_META)?, key)
            .ctx(|| format!("deleting meta {}", String::from_utf8_lossy(key)))
    }

    pub(crate) fn meta_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        meta_scan(&self.db, prefix)
    }
}

fn meta_scan(db: &DB, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let meta = db
        .cf_handle(CF_META)
        .ok_or_else(|| Error::corrupt("database", "meta column family missing"))?;
    let mut out = Vec::new();
    for item in db.iterator_cf(
        meta,
        IteratorMode::From(prefix.as_bytes(), rocksdb::Direction::Forward),
    ) {
        let (k, v) = item.ctx(|| format!("scanning meta {prefix}"))?;
        if !k.starts_with(prefix.as_bytes()) {
            break;
        }
        let name = std::str::from_utf8(&k[prefix.len()..])
            .map_err(|_| Error::corrupt("meta key", "not UTF-8"))?;
        out.push((name.to_string(), v.to_vec()));
    }
    Ok(out)
}

/// A u64 kept little-endian under `key` in `meta`, if there is one.
fn meta_u64(db: &DB, key: &[u8], what: &'static str) -> Result<Option<u64>> {
    let meta = crate::store::cf(db, CF_META)?;
    let Some(b) = db.get_cf(meta, key).ctx(|| format!("reading the {what}"))? else {
        return Ok(None);
    };
    let a: [u8; 8] = b
        .as_slice()
        .try_into()
        .map_err(|_| Error::corrupt(what, "not 8 bytes"))?;
    Ok(Some(u64::from_le_bytes(a)))
}

fn load_meta(db: &DB) -> Result<(Schema, u64, Marks)> {
    let mut schema = Schema::default();
    for (path, v) in meta_scan(db, PREFIX_DB)? {
        let mut r = crate::codec::Reader::new(&v, "database record");
        let bucket_span_ms = r.ivarint()?;
        // Written since creation versions are kept: hlc and node follow.
        let created = if r.is_empty() {
            crate::hlc::Version::default()
        } else {
            crate::hlc::Version::new(r.u64()?, r.u32()?)
        };
        schema.databases.insert(
            path.clone(),
            Database {
                path,
                bucket_span_ms,
                created,
            },
        );
    }
    for (path, v) in meta_scan(db, PREFIX_DROP)? {
        schema.drops.insert(path, crate::schema::Drop::decode(&v)?);
    }
    for (path, v) in meta_scan(db, PREFIX_TTL)? {
        schema
            .ttls
            .insert(path, crate::schema::TtlRule::decode(&v)?);
    }
    let mut tombs: HashMap<u64, Vec<crate::chunk::Tombstone>> = HashMap::new();
    for (id, v) in meta_scan(db, PREFIX_TOMB)? {
        let id = u64::from_str_radix(&id, 16)
            .map_err(|_| Error::corrupt("tombstone key", id.clone()))?;
        tombs.insert(id, decode_tombstones(&v)?);
    }
    let mut max_id = 0;
    for (path, v) in meta_scan(db, PREFIX_SERIES)? {
        let mut s = Series::decode(&path, &v)?;
        s.tombstones = tombs.remove(&s.id).unwrap_or_default();
        max_id = max_id.max(s.id);
        schema.put_series(Arc::new(s));
    }
    let next = meta_u64(db, META_NEXT_SERIES, "next series id")?.unwrap_or(1);
    let mut hwm = HashMap::new();
    for (key, v) in meta_scan(db, PREFIX_HWM)? {
        let (origin, stream) = key
            .split_once('/')
            .and_then(|(o, s)| Some((o.parse::<NodeId>().ok()?, s.to_string())))
            .ok_or_else(|| Error::corrupt("high-water mark key", key.clone()))?;
        hwm.insert((origin, stream), Mark::decode(&v)?);
    }
    Ok((schema, next.max(max_id + 1), hwm))
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS's random source.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(8) {
        let r = random_u64().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    out
}

fn new_node_id() -> NodeId {
    loop {
        let id = random_u64() as u32;
        if id != 0 {
            return id;
        }
    }
}

fn new_cluster_id() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

/// One incremental backup (`SHOW BACKUPS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub id: u32,
    /// Seconds since the epoch.
    pub timestamp: i64,
    pub size_bytes: u64,
    pub files: u32,
}

fn open_backups(dir: &Path) -> Result<rocksdb::backup::BackupEngine> {
    let ctx = || format!("opening the backups in {}", dir.display());
    let opts = rocksdb::backup::BackupEngineOptions::new(dir).ctx(ctx)?;
    let env = rocksdb::Env::new().ctx(ctx)?;
    rocksdb::backup::BackupEngine::open(&opts, &env).ctx(ctx)
}

fn backups_of(be: &rocksdb::backup::BackupEngine) -> Vec<BackupInfo> {
    let mut out: Vec<BackupInfo> = be
        .get_backup_info()
        .into_iter()
        .map(|b| BackupInfo {
            id: b.backup_id,
            timestamp: b.timestamp,
            size_bytes: b.size,
            files: b.num_files,
        })
        .collect();
    out.sort_by_key(|b| b.id);
    out
}

/// The incremental backups in `dir`, oldest first (none when it holds none).
pub fn list_backups(dir: &Path) -> Result<Vec<BackupInfo>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    Ok(backups_of(&open_backups(dir)?))
}

/// Restores backup `id` (the newest when `None`) from `dir` into
/// `data_dir`, which must hold no database (the node stopped, its old data
/// moved aside). Each file is checked against the backup's checksums
/// first. Returns the backup restored.
pub fn restore_backup(dir: &Path, data_dir: &Path, id: Option<u32>) -> Result<BackupInfo> {
    let mut be = open_backups(dir)?;
    let all = backups_of(&be);
    let chosen = match id {
        Some(id) => all.iter().find(|b| b.id == id),
        None => all.last(),
    }
    .cloned()
    .ok_or_else(|| {
        Error::NotFound(format!(
            "no backup {} in {} (it has {:?})",
            id.map_or("at all".to_string(), |i| i.to_string()),
            dir.display(),
            all.iter().map(|b| b.id).collect::<Vec<_>>()
        ))
    })?;
    if data_dir.join("CURRENT").exists() {
        return Err(Error::invalid(format!(
            "{} already holds a database: stop the node and move its data aside first",
            data_dir.display()
        )));
    }
    be.verify_backup(chosen.id)
        .ctx(|| format!("verifying backup {} in {}", chosen.id, dir.display()))?;
    let opts = rocksdb::backup::RestoreOptions::default();
    be.restore_from_backup(data_dir, data_dir, &opts, chosen.id)
        .ctx(|| format!("restoring backup {} into {}", chosen.id, data_dir.display()))?;
    Ok(chosen)
}

/// Bytes and files under `dir` (0 when it cannot be read).
fn dir_bytes(dir: &Path) -> (u64, u64) {
    let mut total = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return total;
    };
    for e in entries.flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => {
                let (b, f) = dir_bytes(&e.path());
                total = (total.0 + b, total.1 + f);
            }
            Ok(m) => total = (total.0 + m.len(), total.1 + 1),
            Err(_) => {}
        }
    }
    total
}

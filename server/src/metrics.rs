//! Prometheus metrics, served as text on `GET /metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Default)]
pub struct Metrics {
    pub connections_open: Gauge,
    pub connections_accepted: Counter,
    pub connections_refused: Counter,
    pub frames_rejected: Counter,
    pub login_timeouts: Counter,
    /// Connections closed because the client took no reply in time.
    pub write_timeouts: Counter,
    pub handler_panics: Counter,
    pub sessions_open: Gauge,
    pub auth_failures: Counter,
    pub statements: Counter,
    pub statement_errors: Counter,
    /// Result pages that stopped below the fetch size at the page bytes.
    pub query_pages_cut: Counter,
    pub memory_query_page_limit: Gauge,
    pub memory_pipe_read_limit: Gauge,
    pub points_written: Counter,
    /// Newest change-log sequence (set when metrics are read).
    pub log_last_seq: Gauge,
    pub log_first_seq: Gauge,
    /// Bytes the change log holds (set when metrics are read).
    pub log_bytes: Gauge,
    /// Conflict records (SHOW CONFLICTS; set when metrics are read).
    pub conflicts: Gauge,
    /// The memory budget and its parts (set when metrics are read).
    pub memory_budget: Gauge,
    pub memory_rocksdb_limit: Gauge,
    pub memory_rocksdb_memtables: Gauge,
    pub memory_rocksdb_block_cache: Gauge,
    pub memory_rocksdb_table_readers: Gauge,
    pub memory_rss: Gauge,
    pub memory_heap_in_use: Gauge,
    pub memory_heap_free: Gauge,
    pub peer_changes_applied: Gauge,
    pub rocksdb_running_flushes: Gauge,
    pub rocksdb_running_compactions: Gauge,
    pub rocksdb_pending_compaction_bytes: Gauge,
    registry: Registry,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut m = Metrics::default();
        let mut r = Registry::with_prefix("duet");
        r.register(
            "rpc_connections_open",
            "Open client connections",
            m.connections_open.clone(),
        );
        r.register(
            "rpc_connections_accepted",
            "Connections accepted",
            m.connections_accepted.clone(),
        );
        r.register(
            "rpc_connections_refused",
            "Connections closed at accept (over rpc.max_connections or rpc.max_connections_per_address), or a client in a replication slot",
            m.connections_refused.clone(),
        );
        r.register(
            "rpc_frames_rejected",
            "Frames over rpc.max_frame_bytes or malformed; the connection was closed",
            m.frames_rejected.clone(),
        );
        r.register(
            "rpc_login_timeouts",
            "Connections closed for not logging in within rpc.login_timeout_secs",
            m.login_timeouts.clone(),
        );
        r.register(
            "rpc_write_timeouts",
            "Connections closed because the client took no reply within rpc.write_timeout_secs",
            m.write_timeouts.clone(),
        );
        r.register(
            "rpc_handler_panics",
            "Requests whose handler panicked; answered with an internal error, logged",
            m.handler_panics.clone(),
        );
        r.register(
            "rpc_sessions_open",
            "Connections with a session handler",
            m.sessions_open.clone(),
        );
        r.register("auth_failures", "Refused logins", m.auth_failures.clone());
        r.register("statements", "Statements executed", m.statements.clone());
        r.register(
            "query_pages_cut",
            "Result pages that stopped below the fetch size at the page byte limit",
            m.query_pages_cut.clone(),
        );
        r.register(
            "statement_errors",
            "Statements and inserts that returned an error",
            m.statement_errors.clone(),
        );
        r.register(
            "points_written",
            "Points written through insert calls",
            m.points_written.clone(),
        );
        r.register(
            "changelog_last_seq",
            "Newest change-log sequence",
            m.log_last_seq.clone(),
        );
        r.register(
            "conflicts",
            "Records in the conflict log (SHOW CONFLICTS): peers' changes resolved by a rule or skipped",
            m.conflicts.clone(),
        );
        r.register(
            "changelog_bytes",
            "Bytes the change log holds (within about a MiB)",
            m.log_bytes.clone(),
        );
        r.register(
            "changelog_first_seq",
            "Oldest retained change-log sequence",
            m.log_first_seq.clone(),
        );
        for (name, help, g) in [
            (
                "memory_budget_bytes",
                "storage.memory_budget_mb in bytes",
                &m.memory_budget,
            ),
            (
                "memory_rocksdb_limit_bytes",
                "RocksDB's share of the budget: memtables and cached blocks together",
                &m.memory_rocksdb_limit,
            ),
            (
                "memory_rocksdb_memtables_bytes",
                "Memtables of every column family (charged to the block cache)",
                &m.memory_rocksdb_memtables,
            ),
            (
                "memory_rocksdb_block_cache_bytes",
                "The shared block cache, memtable charges included",
                &m.memory_rocksdb_block_cache,
            ),
            (
                "memory_rocksdb_table_readers_bytes",
                "Table readers outside the cache (estimate)",
                &m.memory_rocksdb_table_readers,
            ),
            (
                "memory_pipe_read_limit_bytes",
                "The most one pipe reads of the change log (or batches of a history transfer) at a time; it holds that and one read ahead",
                &m.memory_pipe_read_limit,
            ),
            (
                "memory_query_page_limit_bytes",
                "The most one result page holds before it is sent",
                &m.memory_query_page_limit,
            ),
            (
                "memory_rss_bytes",
                "Resident memory of the process",
                &m.memory_rss,
            ),
            (
                "memory_heap_in_use_bytes",
                "Bytes malloc has handed out (RocksDB's memtables and cache included)",
                &m.memory_heap_in_use,
            ),
            (
                "memory_heap_free_bytes",
                "Bytes freed but kept by malloc (RSS beyond what is in use)",
                &m.memory_heap_free,
            ),
            (
                "peer_changes_applied",
                "Peers' changes applied on this node, ever (each once, however often sent)",
                &m.peer_changes_applied,
            ),
            (
                "rocksdb_running_flushes",
                "Memtable flushes running now",
                &m.rocksdb_running_flushes,
            ),
            (
                "rocksdb_running_compactions",
                "Compactions running now",
                &m.rocksdb_running_compactions,
            ),
            (
                "rocksdb_pending_compaction_bytes",
                "Bytes compaction has yet to rewrite (RocksDB's estimate)",
                &m.rocksdb_pending_compaction_bytes,
            ),
        ] {
            r.register(name, help, g.clone());
        }
        m.registry = r;
        m
    }

    /// Sets the memory gauges from the engine and the process.
    pub fn set_memory(&self, budget: u64, use_: duet_engine::MemoryUse) {
        self.memory_budget.set(budget as i64);
        self.memory_rocksdb_limit.set(use_.limit as i64);
        self.memory_rocksdb_memtables.set(use_.memtables as i64);
        self.memory_rocksdb_block_cache.set(use_.cache as i64);
        self.memory_rocksdb_table_readers
            .set(use_.table_readers as i64);
        self.memory_rss.set(rss_bytes() as i64);
        let heap = crate::memory::heap();
        self.memory_heap_in_use.set(heap.in_use as i64);
        self.memory_heap_free.set(heap.free as i64);
    }

    /// Sets the gauges of RocksDB's background work.
    pub fn set_background(&self, b: duet_engine::BackgroundWork) {
        self.rocksdb_running_flushes.set(b.running_flushes as i64);
        self.rocksdb_running_compactions
            .set(b.running_compactions as i64);
        self.rocksdb_pending_compaction_bytes
            .set(b.pending_compaction_bytes as i64);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The process's resident memory (0 where /proc is missing).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

//! One validated configuration: `conf/duet.toml` (every key optional, the
//! defaults live in `Default`), then command-line overrides, then
//! `validate()`.

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub node: NodeConfig,
    pub rpc: RpcConfig,
    pub http: HttpConfig,
    pub storage: StorageConfig,
    pub replication: ReplicationConfig,
    pub query: QueryConfig,
    /// TLS on the RPC port; absent: plain text only.
    pub tls: Option<TlsConfig>,
}

/// `[tls]`: the node's certificate, whom it trusts, and who must use TLS.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM: this node's certificate (then any intermediates), with SANs for
    /// the names and addresses clients and the peer use.
    pub cert_file: PathBuf,
    /// PEM: its private key.
    pub key_file: PathBuf,
    /// PEM: the CA (or pinned self-signed certificates) that client
    /// certificates must chain to; the pipe sinks' default trust store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub clients: TlsClients,
    /// A pipe handshake must come over TLS with a client certificate
    /// verified against `ca_file` (unset: true).
    #[serde(default)]
    pub pipes_require_tls: Option<bool>,
}

/// Whether clients (sessions, not pipes) may or must use TLS.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlsClients {
    /// Clients use plain text; TLS on the port is for pipes only.
    Off,
    /// Plain text and TLS both.
    #[default]
    Optional,
    /// TLS only: a plain-text client is refused.
    Required,
}

impl TlsConfig {
    pub fn pipes_require_tls(&self) -> bool {
        self.pipes_require_tls.unwrap_or(true)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueryConfig {
    /// A statement still running after this long is stopped with code 720
    /// (0 = no limit); a client's own `timeout` on a request wins.
    pub timeout_ms: u64,
}

impl Default for QueryConfig {
    fn default() -> Self {
        QueryConfig { timeout_ms: 60_000 }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    pub name: String,
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    pub address: String,
    pub port: u16,
    pub max_frame_bytes: u32,
    /// Until a connection has logged in (openSession or a pipe handshake),
    /// its frames may be at most this large and must arrive within
    /// `login_timeout_secs` of the connection's start.
    pub max_login_frame_bytes: u32,
    pub login_timeout_secs: u64,
    /// What one insert request may make the node allocate while decoding it
    /// (paths, timestamps and values), checked before each allocation.
    pub max_request_memory_bytes: u64,
    pub max_connections: usize,
    /// Connections one address may hold at once.
    pub max_connections_per_address: usize,
    /// Refuse to start while root has the default password on an address
    /// that is not loopback (otherwise: a warning at every start).
    pub refuse_default_password: bool,
    /// Slots beyond `max_connections` kept for peers' pipes: a connection
    /// that takes one must start with a pipe handshake.
    pub replication_connections: usize,
    /// A reply the client does not take within this long closes the
    /// connection (a client that never reads holds nothing).
    pub write_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub default_fetch_size: usize,
    pub max_open_queries_per_session: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub address: String,
    pub port: u16,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DurabilityMode {
    GroupCommit,
    Fsync,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub durability: DurabilityMode,
    pub wal_sync_interval_ms: u64,
    pub default_bucket_span_ms: i64,
    /// The node's memory budget in MiB: half for RocksDB (memtables and
    /// block cache under one limit), the rest for pipes, history
    /// transfers, queries, connections and the allocator's slack.
    pub memory_budget_mb: u64,
    /// Where `BACKUP TO 'name'` writes (`name` is a directory under it; a
    /// client never names a place outside it). Unset: the data
    /// directory's path with `-backups` appended.
    pub backup_dir: Option<PathBuf>,
}

impl StorageConfig {
    /// The backup root for a node whose data is in `data_dir`.
    pub fn backup_root(&self, data_dir: &std::path::Path) -> PathBuf {
        self.backup_dir.clone().unwrap_or_else(|| {
            let mut s = data_dir.as_os_str().to_os_string();
            s.push("-backups");
            PathBuf::from(s)
        })
    }

    /// RocksDB's share of the memory budget.
    pub fn rocksdb_memory_bytes(&self) -> usize {
        (self.memory_budget_mb.saturating_mul(1 << 20) / 2) as usize
    }

    /// What one pipe reads of the change log at a time (it holds that and
    /// one read ahead, and a history transfer batches no more): a 32nd of
    /// the budget, from 1 to 16 MiB.
    pub fn pipe_read_bytes(&self) -> usize {
        self.buffer_share()
    }

    /// The most one page of a query result holds (rows stop there even
    /// below the fetch size): the same share as a pipe read.
    pub fn query_page_bytes(&self) -> usize {
        self.buffer_share()
    }

    fn buffer_share(&self) -> usize {
        ((self.memory_budget_mb.saturating_mul(1 << 20) / 32) as usize).clamp(1 << 20, 16 << 20)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicationConfig {
    /// The change log keeps at most this many events; a pipe that falls
    /// further behind resends history.
    pub log_max_events: u64,
    /// ... and at most about this many bytes, whatever pipes still need.
    pub log_max_bytes: u64,
    /// Below this much free space on the data disk the log is emptied.
    pub min_free_disk_bytes: u64,
    pub trim_interval_secs: u64,
    pub sink_request_timeout_secs: u64,
    /// The most two nodes' clocks may disagree: a pipe to a peer further
    /// off is refused at its handshake, and a change whose version is
    /// further ahead of this node's clock is refused, never adopted.
    pub max_clock_skew_ms: u64,
    /// The room for local writes the peer has not acknowledged (unset:
    /// unbounded; 0: synchronous). See `duet_pipe::gate`.
    pub max_pending_bytes: Option<u64>,
    /// How long a write waits for room, or for its peer when synchronous.
    pub write_timeout_ms: u64,
    /// After the peer has made no progress this long, writes go on
    /// asynchronously (unset: never).
    pub degrade_after_ms: Option<u64>,
}

impl ReplicationConfig {
    /// The write mode as configured.
    pub fn gate(&self) -> duet_pipe::GateSettings {
        duet_pipe::GateSettings {
            max_pending_bytes: self.max_pending_bytes,
            write_timeout: std::time::Duration::from_millis(self.write_timeout_ms),
            degrade_after: self.degrade_after_ms.map(std::time::Duration::from_millis),
        }
    }
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            log_max_events: 10_000_000,
            log_max_bytes: 8 << 30,
            min_free_disk_bytes: 1 << 30,
            trim_interval_secs: 10,
            sink_request_timeout_secs: 30,
            max_clock_skew_ms: duet_engine::engine::DEFAULT_MAX_CLOCK_SKEW_MS,
            max_pending_bytes: None,
            write_timeout_ms: 10_000,
            degrade_after_ms: None,
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            name: "duet".into(),
            data_dir: PathBuf::from("data"),
        }
    }
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            address: "0.0.0.0".into(),
            port: 6667,
            max_frame_bytes: 64 << 20,
            max_login_frame_bytes: 16 << 10,
            login_timeout_secs: 10,
            max_request_memory_bytes: 256 << 20,
            max_connections: 256,
            max_connections_per_address: 64,
            refuse_default_password: false,
            replication_connections: 16,
            write_timeout_secs: 30,
            idle_timeout_secs: 3600,
            default_fetch_size: 5000,
            max_open_queries_per_session: 64,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            address: "127.0.0.1".into(),
            port: 9091,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            durability: DurabilityMode::GroupCommit,
            wal_sync_interval_ms: 100,
            default_bucket_span_ms: 3_600_000,
            memory_budget_mb: 512,
            backup_dir: None,
        }
    }
}

/// Command-line values that override the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub rpc_address: Option<String>,
    pub rpc_port: Option<u16>,
    pub http_port: Option<u16>,
    pub node_name: Option<String>,
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn apply(&mut self, o: Overrides) {
        if let Some(v) = o.data_dir {
            self.node.data_dir = v;
        }
        if let Some(v) = o.rpc_address {
            self.rpc.address = v;
        }
        if let Some(v) = o.rpc_port {
            self.rpc.port = v;
        }
        if let Some(v) = o.http_port {
            self.http.port = v;
        }
        if let Some(v) = o.node_name {
            self.node.name = v;
        }
    }

    /// Every limit has a sensible range; a bad value is named in the error.
    pub fn validate(&self) -> Result<(), String> {
        let mut errors = Vec::new();
        if self.node.name.trim().is_empty() {
            errors.push("node.name must not be empty".to_string());
        }
        if self.node.data_dir.as_os_str().is_empty() {
            errors.push("node.data_dir must not be empty".to_string());
        }
        if !(1024..=1 << 30).contains(&self.rpc.max_frame_bytes) {
            errors.push(format!(
                "rpc.max_frame_bytes = {} must be between 1024 and 1073741824",
                self.rpc.max_frame_bytes
            ));
        }
        if !(1024..=self.rpc.max_frame_bytes.max(1024)).contains(&self.rpc.max_login_frame_bytes) {
            errors.push(format!(
                "rpc.max_login_frame_bytes = {} must be between 1024 and rpc.max_frame_bytes",
                self.rpc.max_login_frame_bytes
            ));
        }
        if self.rpc.login_timeout_secs == 0 {
            errors.push("rpc.login_timeout_secs must be at least 1".to_string());
        }
        if self.rpc.max_request_memory_bytes < 1 << 20 {
            errors.push(format!(
                "rpc.max_request_memory_bytes = {} must be at least 1048576",
                self.rpc.max_request_memory_bytes
            ));
        }
        if !(1..=100_000).contains(&self.rpc.max_connections) {
            errors.push(format!(
                "rpc.max_connections = {} must be between 1 and 100000",
                self.rpc.max_connections
            ));
        }
        for (key, v) in [
            (
                "rpc.max_connections_per_address",
                self.rpc.max_connections_per_address as u64,
            ),
            ("rpc.write_timeout_secs", self.rpc.write_timeout_secs),
        ] {
            if v == 0 {
                errors.push(format!("{key} must be at least 1"));
            }
        }
        if self.rpc.replication_connections > 10_000 {
            errors.push(format!(
                "rpc.replication_connections = {} must be at most 10000",
                self.rpc.replication_connections
            ));
        }
        if !(1..=1_000_000).contains(&self.rpc.default_fetch_size) {
            errors.push(format!(
                "rpc.default_fetch_size = {} must be between 1 and 1000000",
                self.rpc.default_fetch_size
            ));
        }
        if self.rpc.max_open_queries_per_session == 0 {
            errors.push("rpc.max_open_queries_per_session must be at least 1".to_string());
        }
        if self.storage.memory_budget_mb < 64 {
            errors.push(format!(
                "storage.memory_budget_mb = {} is below the least a node runs in (64)",
                self.storage.memory_budget_mb
            ));
        }
        if self.storage.default_bucket_span_ms <= 0 {
            errors.push("storage.default_bucket_span_ms must be positive".to_string());
        }
        if self.storage.wal_sync_interval_ms == 0
            && self.storage.durability == DurabilityMode::GroupCommit
        {
            errors.push(
                "storage.wal_sync_interval_ms must be positive with group-commit".to_string(),
            );
        }
        if self.rpc.port != 0
            && self.rpc.port == self.http.port
            && self.rpc.address == self.http.address
        {
            errors.push(format!("rpc.port and http.port are both {}", self.rpc.port));
        }
        let r = &self.replication;
        for (key, v) in [
            ("replication.log_max_events", r.log_max_events),
            ("replication.trim_interval_secs", r.trim_interval_secs),
            (
                "replication.sink_request_timeout_secs",
                r.sink_request_timeout_secs,
            ),
            ("replication.write_timeout_ms", r.write_timeout_ms),
            (
                "replication.degrade_after_ms",
                r.degrade_after_ms.unwrap_or(1),
            ),
        ] {
            if v == 0 {
                errors.push(format!("{key} must be at least 1"));
            }
        }
        if r.log_max_bytes < 16 << 20 {
            errors.push(format!(
                "replication.log_max_bytes = {} must be at least 16777216",
                r.log_max_bytes
            ));
        }
        if let Some(tls) = &self.tls {
            if tls.pipes_require_tls() && tls.ca_file.is_none() {
                errors.push(
                    "tls.pipes_require_tls needs tls.ca_file: the CA that the peers' \
                     certificates are checked against (or set pipes_require_tls = false)"
                        .to_string(),
                );
            }
        }
        if !(1..=86_400_000).contains(&r.max_clock_skew_ms) {
            errors.push(format!(
                "replication.max_clock_skew_ms = {} must be between 1 and 86400000",
                r.max_clock_skew_ms
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_parses_to_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf/duet.toml");
        let c = Config::load(&path).unwrap();
        assert_eq!(
            c,
            Config::default(),
            "conf/duet.toml documents the defaults"
        );
        c.validate().unwrap();
    }

    /// A pipe's log reads follow the memory budget.
    #[test]
    fn pipe_reads_are_a_32nd_of_the_budget_within_1_to_16_mib() {
        let read = |mb| {
            StorageConfig {
                memory_budget_mb: mb,
                ..StorageConfig::default()
            }
            .pipe_read_bytes()
        };
        assert_eq!(read(512), 16 << 20);
        assert_eq!(read(4096), 16 << 20);
        assert_eq!(read(128), 4 << 20);
        assert_eq!(read(64), 2 << 20);
        assert_eq!(read(16), 1 << 20);
    }

    #[test]
    fn the_tls_section() {
        let c = Config::parse(
            "[tls]\ncert_file = \"a.crt\"\nkey_file = \"a.key\"\nca_file = \"ca.crt\"\n",
        )
        .unwrap();
        let tls = c.tls.clone().unwrap();
        assert_eq!(tls.clients, TlsClients::Optional);
        assert!(tls.pipes_require_tls());
        c.validate().unwrap();
        let e = Config::parse("[tls]\ncert_file = \"a.crt\"\nkey_file = \"a.key\"\n")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(e.contains("tls.ca_file"), "{e}");
        let e =
            Config::parse("[tls]\ncert_file = \"a\"\nkey_file = \"b\"\nclients = \"sometimes\"\n")
                .unwrap_err();
        assert!(e.contains("sometimes"), "{e}");
        let e = Config::parse("[tls]\nkey_file = \"b\"\n").unwrap_err();
        assert!(e.contains("cert_file"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        let e = Config::parse("[rpc]\nprot = 1\n").unwrap_err();
        assert!(e.contains("prot"), "{e}");
        let e = Config::parse("[storage]\ndurability = \"sometimes\"\n").unwrap_err();
        assert!(e.contains("sometimes") || e.contains("variant"), "{e}");
        let mut c = Config::parse("[rpc]\nmax_frame_bytes = 10\nmax_connections = 0\n").unwrap();
        let e = c.validate().unwrap_err();
        assert!(
            e.contains("rpc.max_frame_bytes") && e.contains("rpc.max_connections"),
            "{e}"
        );
        c.apply(Overrides {
            rpc_port: Some(7000),
            ..Default::default()
        });
        assert_eq!(c.rpc.port, 7000);
    }
}

//! `duet-server`: one Duet node.
//!
//! [`config`] gives the validated settings; [`run`] opens the engine, builds
//! the executor, and serves IoTDB's client RPC ([`net`] accepts and frames,
//! [`service`] handles each call through the executor, [`convert`] maps wire
//! types, results and errors) and HTTP health/metrics ([`http`], [`metrics`]).
//! Pipes ([`pipes`] over `duet-pipe`) start with the node in the state they
//! were in. [`tls`] puts TLS on the RPC port (certificates loaded before
//! anything else, so a bad file stops the start). Shutdown is ordered: stop accepting and finish in-flight
//! requests, stop pipes (saving positions), then sync the write-ahead log
//! and flush the engine.

pub mod config;
pub mod convert;
pub mod guard;
pub mod http;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod pipes;
pub mod service;
pub mod tls;
pub mod tz;

use config::{Config, DurabilityMode};
use duet_engine::{Durability, Engine, EngineOptions};
use duet_executor::{Executor, NodeInfo};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Where a started node listens.
#[derive(Debug, Clone)]
pub struct Bound {
    pub rpc: SocketAddr,
    pub http: SocketAddr,
    pub node_id: u32,
}

/// Whether an RPC address is reachable beyond this machine.
fn exposed(address: &str) -> bool {
    !(address == "localhost"
        || address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback()))
}

/// Warnings an operator must see wherever they look (`/health`, `SHOW
/// CLUSTER`): root's default password while the RPC port is reachable
/// beyond loopback. Checking costs a password hash: at most every 10 s.
pub struct Warnings {
    engine: Arc<Engine>,
    exposed: bool,
    default_password: std::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl Warnings {
    pub fn list(&self) -> Vec<&'static str> {
        if !self.exposed {
            return Vec::new();
        }
        let mut cached = self
            .default_password
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let fresh = cached.filter(|(at, _)| at.elapsed() < Duration::from_secs(10));
        let default = match fresh {
            Some((_, d)) => d,
            None => {
                let d = self.engine.root_has_default_password();
                *cached = Some((std::time::Instant::now(), d));
                d
            }
        };
        if default {
            vec!["user root has the default password and the RPC port is reachable beyond loopback: ALTER USER root SET PASSWORD '...'"]
        } else {
            Vec::new()
        }
    }
}

/// Whether root still has the password `root`; on an address other peers
/// can reach that is warned about at every start (and refused with
/// `rpc.refuse_default_password`).
fn default_root_password(engine: &Engine, cfg: &Config) -> Result<bool, String> {
    let default = engine.root_has_default_password();
    let loopback = !exposed(&cfg.rpc.address);
    if default && !loopback {
        let msg = format!(
            "user root still has the default password and the node listens on {}:{}: anyone who \
             can reach it can read, write and replicate as root. Set one: ALTER USER root SET \
             PASSWORD '...' (and the pipes' sink.password on the peer)",
            cfg.rpc.address, cfg.rpc.port
        );
        if cfg.rpc.refuse_default_password {
            return Err(format!(
                "{msg}; refusing to start (rpc.refuse_default_password)"
            ));
        }
        tracing::warn!("{msg}");
    }
    Ok(default && !loopback)
}

/// Runs a node until `shutdown` resolves. `on_bound` is called once both
/// listeners are bound (ports chosen when configured as 0).
pub async fn run(
    cfg: Config,
    shutdown: impl std::future::Future<Output = ()>,
    on_bound: impl FnOnce(&Bound),
) -> Result<(), String> {
    cfg.validate()?;
    let tls = cfg.tls.as_ref().map(tls::load).transpose()?;
    let opts = EngineOptions {
        durability: match cfg.storage.durability {
            DurabilityMode::GroupCommit => Durability::GroupCommit,
            DurabilityMode::Fsync => Durability::Fsync,
        },
        default_bucket_span_ms: cfg.storage.default_bucket_span_ms,
        max_clock_skew_ms: cfg.replication.max_clock_skew_ms,
        rocksdb_memory_bytes: cfg.storage.rocksdb_memory_bytes(),
    };
    let offset = duet_engine::hlc::clock_offset_ms();
    if offset != 0 {
        tracing::warn!("DUET_CLOCK_OFFSET_MS = {offset}: this node's clock is deliberately off by {offset} ms (tests and drills only)");
    }
    // What the node writes is its own: directories 0700, files 0600 (the
    // data, the change log with every value, backups, the user records).
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    std::fs::create_dir_all(&cfg.node.data_dir).map_err(|e| {
        format!(
            "cannot create data dir {}: {e}",
            cfg.node.data_dir.display()
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = &cfg.node.data_dir;
        if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
            tracing::warn!(
                "cannot make the data dir {} private (0700): {e}",
                dir.display()
            );
        }
    }
    let engine = Arc::new(Engine::open(&cfg.node.data_dir, opts).map_err(|e| e.to_string())?);
    let default_password = default_root_password(&engine, &cfg)?;

    let rpc = TcpListener::bind((cfg.rpc.address.as_str(), cfg.rpc.port))
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}:{} (rpc): {e}",
                cfg.rpc.address, cfg.rpc.port
            )
        })?;
    let http = TcpListener::bind((cfg.http.address.as_str(), cfg.http.port))
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}:{} (http): {e}",
                cfg.http.address, cfg.http.port
            )
        })?;
    let bound = Bound {
        rpc: rpc.local_addr().map_err(|e| e.to_string())?,
        http: http.local_addr().map_err(|e| e.to_string())?,
        node_id: engine.node_id(),
    };

    let node = NodeInfo {
        rpc_address: cfg.rpc.address.clone(),
        rpc_port: bound.rpc.port(),
        version: env!("CARGO_PKG_VERSION").into(),
        backup_dir: cfg.storage.backup_root(&cfg.node.data_dir),
    };
    let metrics = Arc::new(metrics::Metrics::new());
    metrics
        .memory_pipe_read_limit
        .set(cfg.storage.pipe_read_bytes() as i64);
    metrics
        .memory_query_page_limit
        .set(cfg.storage.query_page_bytes() as i64);
    let manager = duet_pipe::PipeManager::open(
        engine.clone(),
        tokio::runtime::Handle::current(),
        duet_pipe::PipeSettings {
            log_max_events: cfg.replication.log_max_events,
            log_max_bytes: cfg.replication.log_max_bytes,
            min_free_disk_bytes: cfg.replication.min_free_disk_bytes,
            request_timeout: Duration::from_secs(cfg.replication.sink_request_timeout_secs),
            read_bytes: cfg.storage.pipe_read_bytes(),
            gate: cfg.replication.gate(),
            tls: cfg.tls.as_ref().map(|t| duet_pipe::tls::NodeTls {
                cert: t.cert_file.clone(),
                key: t.key_file.clone(),
                ca: t.ca_file.clone(),
            }),
        },
    )
    .map_err(|e| format!("loading pipes: {e}"))?;
    let warnings = Arc::new(Warnings {
        engine: engine.clone(),
        exposed: exposed(&cfg.rpc.address),
        default_password: std::sync::Mutex::new(Some((
            std::time::Instant::now(),
            default_password,
        ))),
    });
    let pipes = Arc::new(pipes::Pipes {
        manager: manager.clone(),
        engine: engine.clone(),
        node: node.clone(),
        peer_sessions: Default::default(),
        warnings: warnings.clone(),
    });
    let exec = Executor::new(engine.clone(), node)
        .with_pipes(pipes.clone())
        .with_peers(pipes);
    let shared = Arc::new(
        service::Shared::new(
            exec,
            metrics.clone(),
            cfg.rpc.default_fetch_size,
            cfg.storage.query_page_bytes(),
            cfg.rpc.max_open_queries_per_session,
            cfg.rpc.max_request_memory_bytes,
            cfg.rpc.max_frame_bytes,
        )
        .with_query_timeout_ms(cfg.query.timeout_ms)
        .with_pipes(manager.clone()),
    );
    let (stop_tx, stop_rx) = watch::channel(false);

    let limits = net::Limits {
        max_frame_bytes: cfg.rpc.max_frame_bytes,
        max_connections: cfg.rpc.max_connections,
        max_connections_per_address: cfg.rpc.max_connections_per_address,
        replication_connections: cfg.rpc.replication_connections,
        write_timeout: Duration::from_secs(cfg.rpc.write_timeout_secs),
        max_login_frame_bytes: cfg.rpc.max_login_frame_bytes,
        login_timeout: Duration::from_secs(cfg.rpc.login_timeout_secs),
        idle_timeout: (cfg.rpc.idle_timeout_secs > 0)
            .then(|| Duration::from_secs(cfg.rpc.idle_timeout_secs)),
    };
    let rpc_task = tokio::spawn(net::serve(rpc, shared, limits, tls, stop_rx.clone()));
    let http_state = Arc::new(http::HttpState {
        engine: engine.clone(),
        metrics,
        node_name: cfg.node.name.clone(),
        pipes: Some(manager.clone()),
        memory_budget_bytes: cfg.storage.memory_budget_mb.saturating_mul(1 << 20),
        warnings,
        loopback: !exposed(&cfg.http.address),
        stopping: std::sync::atomic::AtomicBool::new(false),
    });
    let trimmer = manager.spawn_trimmer(
        Duration::from_secs(cfg.replication.trim_interval_secs),
        stop_rx.clone(),
    );
    // HTTP stops last: while the node drains, /health and /ready say 503.
    let (http_stop_tx, http_stop_rx) = watch::channel(false);
    let http_task = tokio::spawn(http::serve(http, http_state.clone(), http_stop_rx));
    let wal_task = (cfg.storage.durability == DurabilityMode::GroupCommit).then(|| {
        tokio::spawn(sync_wal_every(
            engine.clone(),
            Duration::from_millis(cfg.storage.wal_sync_interval_ms),
            stop_rx.clone(),
        ))
    });

    tracing::info!(
        "node {} ({}) serving: rpc {}{} http {} data {}",
        bound.node_id,
        cfg.node.name,
        bound.rpc,
        match &cfg.tls {
            None => String::new(),
            Some(t) => format!(
                " (TLS: clients {:?}, pipes {})",
                t.clients,
                if t.pipes_require_tls() {
                    "TLS with a client certificate only"
                } else {
                    "plain text or TLS"
                }
            ),
        },
        bound.http,
        cfg.node.data_dir.display()
    );
    on_bound(&bound);
    shutdown.await;

    tracing::info!("shutting down: no new connections; finishing requests in flight");
    http_state
        .stopping
        .store(true, std::sync::atomic::Ordering::Release);
    let _ = stop_tx.send(true);
    let _ = rpc_task.await;
    let _ = http_stop_tx.send(true);
    if tokio::time::timeout(Duration::from_secs(5), http_task)
        .await
        .is_err()
    {
        tracing::warn!("the HTTP endpoint did not stop within 5 s; going on");
    }
    tracing::info!("stopping pipes (their positions are saved)");
    manager.shutdown().await;
    let _ = trimmer.await;
    if let Some(t) = wal_task {
        let _ = t.await;
    }
    let flush =
        tokio::task::spawn_blocking(move || engine.sync_wal().and_then(|_| engine.flush())).await;
    match flush {
        Ok(Ok(())) => tracing::info!("engine flushed; stopped"),
        Ok(Err(e)) => return Err(format!("flush at shutdown failed: {e}")),
        Err(e) => return Err(format!("flush at shutdown failed: {e}")),
    }
    Ok(())
}

async fn sync_wal_every(engine: Arc<Engine>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let e = engine.clone();
                if let Ok(Err(err)) = tokio::task::spawn_blocking(move || e.sync_wal()).await {
                    tracing::error!("syncing the write-ahead log failed: {err}");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

//! `duet-server`: starts one node. See `conf/duet.toml` for every setting.

use clap::Parser;
use duet_server::config::{Config, Overrides};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "duet-server",
    version,
    about = "A Duet node: IoTDB's client RPC over RocksDB"
)]
struct Args {
    /// Configuration file (TOML); defaults apply to every key it leaves out.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    rpc_address: Option<String>,
    /// 0 picks a free port (printed in the READY line).
    #[arg(long)]
    rpc_port: Option<u16>,
    #[arg(long)]
    http_port: Option<u16>,
    #[arg(long)]
    node_name: Option<String>,
    /// Restore instead of serving: the newest incremental backup in this
    /// directory (`BACKUP` writes them to <storage.backup_dir>/incremental)
    /// into the data directory, which must hold no database; then check
    /// the result opens, and exit. sbin/restore.sh wraps it.
    #[arg(long, value_name = "BACKUP_DIR")]
    restore_from: Option<PathBuf>,
    /// With --restore-from: this backup instead of the newest (SHOW BACKUPS).
    #[arg(long, requires = "restore_from")]
    backup_id: Option<u32>,
}

fn main() {
    duet_server::memory::limit_malloc_arenas();
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal: sbin/ scripts write logs to files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut cfg = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => fail(&e),
        },
        None => Config::default(),
    };
    cfg.apply(Overrides {
        data_dir: args.data_dir,
        rpc_address: args.rpc_address,
        rpc_port: args.rpc_port,
        http_port: args.http_port,
        node_name: args.node_name,
    });
    if let Err(e) = cfg.validate() {
        fail(&format!("invalid configuration: {e}"));
    }
    if let Some(from) = &args.restore_from {
        restore(from, &cfg.node.data_dir, args.backup_id);
        return;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    };
    let result = rt.block_on(duet_server::run(cfg, shutdown_signal(), |b| {
        // One machine-readable line on stdout: scripts and tests wait for it.
        println!("READY rpc={} http={} node_id={}", b.rpc, b.http, b.node_id);
        let _ = std::io::stdout().flush();
        sd_notify(&format!(
            "READY=1\nSTATUS=serving rpc {} http {}",
            b.rpc, b.http
        ));
    }));
    if let Err(e) = result {
        fail(&e);
    }
}

/// `--restore-from`: the backup into the data directory, then the
/// restored database opened as a node would open it.
fn restore(from: &std::path::Path, data_dir: &std::path::Path, id: Option<u32>) {
    // What the node writes is its own (as at a start).
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let b = match duet_engine::restore_backup(from, data_dir, id) {
        Ok(b) => b,
        Err(e) => fail(&format!("restore failed: {e}")),
    };
    println!(
        "restored backup {} (taken at {} s since the epoch, {} bytes, {} files, checksums verified) into {}",
        b.id,
        b.timestamp,
        b.size_bytes,
        b.files,
        data_dir.display()
    );
    match duet_engine::Engine::open(data_dir, Default::default()) {
        Ok(e) => println!(
            "verified: the restored database opens; {} series, change log up to {}",
            e.schema().series.len(),
            duet_engine::ChangeLog::last_seq(&e)
        ),
        Err(e) => fail(&format!("the restored database does not open: {e}")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("duet-server: {msg}");
    std::process::exit(1);
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
    sd_notify("STOPPING=1\nSTATUS=finishing requests, saving pipe positions, flushing");
}

/// Tells systemd (a `Type=notify` unit: conf/systemd/duet.service) that the
/// node serves or is stopping: one datagram to `$NOTIFY_SOCKET`, when set.
fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sock = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot notify systemd: {e}");
            return;
        }
    };
    let bytes = path.as_encoded_bytes();
    // A leading '@' names a socket in the abstract namespace.
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
    } else {
        sock.send_to(state.as_bytes(), std::path::Path::new(&path))
    };
    if let Err(e) = sent {
        tracing::warn!("cannot notify systemd at {}: {e}", path.to_string_lossy());
    }
}

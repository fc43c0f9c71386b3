//! The RPC listener: a tokio accept loop with a connection limit, and per
//! connection a loop that reads one frame (length checked before anything
//! is allocated, the buffer grown only as bytes arrive), runs the sync
//! thrift processor on a blocking thread, and writes the reply. Until the
//! connection logs in (openSession or a pipe handshake) its frames are
//! capped at `rpc.max_login_frame_bytes` and it must log in within
//! `rpc.login_timeout_secs`, so nothing before login costs more than a
//! login. A bad frame closes only its connection; a panicking handler
//! answers with an error status ([`crate::guard`]). A connection whose
//! first byte opens a TLS handshake is served over TLS ([`crate::tls`]),
//! whose policy decides which calls each kind of connection may make. On
//! shutdown the loop stops accepting and each connection finishes the
//! request it is in.

use crate::guard::Guarded;
use crate::metrics::Metrics;
use crate::service::{ConnHandler, Shared};
use crate::tls::{ConnTls, PeerCert, Policy, Tls, TLS_HANDSHAKE};
use duet_rpc::frame::{detect_protocol, Protocol};
use duet_rpc::generated::IClientRPCServiceSyncProcessor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

pub struct Limits {
    pub max_frame_bytes: u32,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    /// Slots beyond `max_connections` for connections that begin with a
    /// pipe handshake.
    pub replication_connections: usize,
    pub write_timeout: Duration,
    pub max_login_frame_bytes: u32,
    pub login_timeout: Duration,
    pub idle_timeout: Option<Duration>,
}

pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: Limits,
    tls: Option<Tls>,
    mut shutdown: watch::Receiver<bool>,
) {
    let tls = tls.map(Arc::new);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let reserved = Arc::new(Semaphore::new(limits.replication_connections));
    let per_address = Arc::new(PerAddress::default());
    let limits = Arc::new(limits);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Some(held) = per_address.take(peer.ip(), limits.max_connections_per_address) else {
                    shared.metrics.connections_refused.inc();
                    warn_limited(Warn::Connection, &format!(
                        "refused connection from {peer}: {} connections from that address (rpc.max_connections_per_address)",
                        limits.max_connections_per_address
                    ));
                    drop(stream);
                    continue;
                };
                let (permit, pipe_only) = match slots.clone().try_acquire_owned() {
                    Ok(p) => (p, false),
                    Err(_) => match reserved.clone().try_acquire_owned() {
                        Ok(p) => (p, true),
                        Err(_) => {
                            shared.metrics.connections_refused.inc();
                            warn_limited(Warn::Connection, &format!(
                                "refused connection from {peer}: {} connections open (rpc.max_connections) and every replication slot taken",
                                limits.max_connections
                            ));
                            drop(stream);
                            continue;
                        }
                    },
                };
                let _ = stream.set_nodelay(true);
                shared.metrics.connections_accepted.inc();
                let (shared, limits, shutdown, tls) = (shared.clone(), limits.clone(), shutdown.clone(), tls.clone());
                conns.spawn(async move {
                    shared.metrics.connections_open.inc();
                    let conn = Conn { shared: shared.clone(), limits: &limits, pipe_only, peer: peer.ip(), login_deadline: Instant::now() + limits.login_timeout };
                    if let Err(e) = open(stream, conn, tls.as_deref(), shutdown).await {
                        if matches!(e, ConnEnd::Tls(_)) {
                            warn_limited(Warn::Connection, &format!("connection from {peer}: {e}"));
                        }
                        tracing::debug!("connection from {peer} closed: {e}");
                    }
                    shared.metrics.connections_open.dec();
                    drop(permit);
                    drop(held);
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    // Each connection ends after the request it is serving.
    while conns.join_next().await.is_some() {}
}

/// Connections open per address.
#[derive(Default)]
struct PerAddress(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

/// One connection counted against its address; uncounted when dropped.
struct Held {
    table: Arc<PerAddress>,
    ip: std::net::IpAddr,
}

impl PerAddress {
    fn take(self: &Arc<Self>, ip: std::net::IpAddr, max: usize) -> Option<Held> {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = t.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Held {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = t.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                t.remove(&self.ip);
            }
        }
    }
}

/// What a rate-limited warning is about. Each kind has its own once-a-second
/// slot, so a flood of one kind (bad frames, say) cannot hide the others
/// (a refused pipe).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Warn {
    /// Connections refused at accept, TLS failures.
    Connection,
    /// Frames refused as too large or malformed.
    Frame,
    /// Logins and pipe handshakes refused.
    Login,
    /// Pipe requests refused after the handshake.
    Pipe,
    /// Queries left partly unanswered (series the user may not read).
    Query,
}

struct WarnSlot {
    last_second: std::sync::atomic::AtomicU64,
    suppressed: std::sync::atomic::AtomicU64,
}

static WARN_SLOTS: [WarnSlot; 5] = [const {
    WarnSlot {
        last_second: std::sync::atomic::AtomicU64::new(0),
        suppressed: std::sync::atomic::AtomicU64::new(0),
    }
}; 5];

/// A warning about what a client or peer did, logged at most once a second
/// per kind (a flood must not flood the log), escaped and cut to 300
/// characters (it may hold what they sent). The next one logged says how
/// many were left out meanwhile.
pub(crate) fn warn_limited(kind: Warn, msg: &str) {
    let slot = &WARN_SLOTS[kind as usize];
    let now = duet_engine::hlc::wall_clock_ms() / 1000;
    if slot.last_second.swap(now, Ordering::Relaxed) == now {
        slot.suppressed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let shown: String = msg.escape_debug().take(300).collect();
    match slot.suppressed.swap(0, Ordering::Relaxed) {
        0 => tracing::warn!("{shown}"),
        n => tracing::warn!("{shown} ({n} more like it since the last one logged)"),
    }
}

#[derive(Debug)]
enum ConnEnd {
    Closed,
    Io(std::io::Error),
    TooLarge(u64, u32, &'static str),
    Malformed(String),
    Idle,
    LoginTimeout(Duration),
    WriteTimeout(Duration),
    NotAPipe(String),
    Tls(String),
}

impl std::fmt::Display for ConnEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnEnd::Closed => write!(f, "closed by peer"),
            ConnEnd::Io(e) => write!(f, "i/o error: {e}"),
            ConnEnd::TooLarge(n, max, name) => {
                write!(f, "frame of {n} bytes over {name} = {max}")
            }
            ConnEnd::Malformed(m) => write!(f, "malformed request: {m}"),
            ConnEnd::Idle => write!(f, "idle timeout"),
            ConnEnd::LoginTimeout(d) => write!(
                f,
                "not logged in within rpc.login_timeout_secs = {}",
                d.as_secs()
            ),
            ConnEnd::WriteTimeout(d) => write!(
                f,
                "the client took no reply for rpc.write_timeout_secs = {}",
                d.as_secs()
            ),
            ConnEnd::NotAPipe(m) => write!(
                f,
                "a replication slot (rpc.replication_connections) is for a pipe handshake, not {m}"
            ),
            ConnEnd::Tls(m) => write!(f, "TLS: {m}"),
        }
    }
}

/// Below this a frame's buffer is allocated at once; above it, it grows with
/// the bytes that actually arrive, so a declared length costs nothing.
const FRAME_PREALLOC: usize = 64 << 10;

/// Reads one frame: `Ok(None)` at a clean end of stream between frames.
/// `max` is the current frame limit; its name goes into the error.
async fn read_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    max: u32,
    limit_name: &'static str,
) -> Result<Option<Vec<u8>>, ConnEnd> {
    let mut len = [0u8; 4];
    match stream.read(&mut len[..1]).await {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(ConnEnd::Io(e)),
    }
    stream
        .read_exact(&mut len[1..])
        .await
        .map_err(ConnEnd::Io)?;
    let declared = i32::from_be_bytes(len);
    if declared <= 0 {
        return Err(ConnEnd::Malformed(format!("frame length {declared}")));
    }
    if declared as u32 > max {
        return Err(ConnEnd::TooLarge(declared as u64, max, limit_name));
    }
    let declared = declared as usize;
    let mut buf = Vec::with_capacity(declared.min(FRAME_PREALLOC));
    let got = (&mut *stream)
        .take(declared as u64)
        .read_to_end(&mut buf)
        .await
        .map_err(ConnEnd::Io)?;
    if got < declared {
        return Err(ConnEnd::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("frame ended after {got} of {declared} bytes"),
        )));
    }
    Ok(Some(buf))
}

/// One accepted connection, before it is known to be TLS or not.
struct Conn<'a> {
    shared: Arc<Shared>,
    limits: &'a Limits,
    pipe_only: bool,
    peer: std::net::IpAddr,
    /// The TLS handshake counts against the login timeout.
    login_deadline: Instant,
}

/// Tells TLS from plain text by the first byte, runs the TLS handshake if
/// it is one, and serves the connection.
async fn open(
    stream: TcpStream,
    conn: Conn<'_>,
    tls: Option<&Tls>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ConnEnd> {
    let left = conn
        .login_deadline
        .saturating_duration_since(Instant::now());
    let timeout = ConnEnd::LoginTimeout(conn.limits.login_timeout);
    let mut first = [0u8; 1];
    let peeked = tokio::select! {
        p = tokio::time::timeout(left, stream.peek(&mut first)) => p,
        _ = shutdown.changed() => return Ok(()),
    };
    let timed_out = |e: ConnEnd| {
        conn.shared.metrics.login_timeouts.inc();
        tracing::info!("closing a connection: {e}");
        Err(e)
    };
    match peeked {
        Err(_) => return timed_out(timeout),
        Ok(Err(e)) => return Err(ConnEnd::Io(e)),
        Ok(Ok(0)) => return Err(ConnEnd::Closed),
        Ok(Ok(_)) => {}
    }
    let policy = tls.map_or_else(Policy::plain, |t| t.policy);
    if first[0] != TLS_HANDSHAKE {
        return connection(stream, conn, ConnTls::default(), policy, shutdown).await;
    }
    let Some(tls) = tls else {
        return Err(ConnEnd::Tls(
            "a TLS handshake, and this node has no [tls] section: connect in plain text, or \
             configure [tls]"
                .into(),
        ));
    };
    let left = conn
        .login_deadline
        .saturating_duration_since(Instant::now());
    let accepted = tokio::select! {
        a = tokio::time::timeout(left, tls.acceptor.accept(stream)) => a,
        _ = shutdown.changed() => return Ok(()),
    };
    let stream = match accepted {
        Err(_) => return timed_out(timeout),
        Ok(Err(e)) => return Err(ConnEnd::Tls(format!("handshake failed: {e}"))),
        Ok(Ok(s)) => s,
    };
    let proved = ConnTls {
        tls: true,
        // Only a certificate that verified against tls.ca_file gets here.
        peer: stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| PeerCert::new(c.clone().into_owned())),
    };
    connection(stream, conn, proved, policy, shutdown).await
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    conn: Conn<'_>,
    proved: ConnTls,
    policy: Policy,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ConnEnd> {
    let Conn {
        shared,
        limits,
        mut pipe_only,
        peer,
        login_deadline,
    } = conn;
    let logged_in = Arc::new(AtomicBool::new(false));
    let handler = ConnHandler::new(shared.clone(), logged_in.clone(), Some(peer))
        .with_cert(proved.peer.clone());
    let processor = Arc::new(IClientRPCServiceSyncProcessor::new(Guarded::new(
        crate::tls::TlsGate::new(handler, proved, policy, peer),
        shared.metrics.handler_panics.clone(),
    )));
    let mut protocol: Option<Protocol> = None;
    let metrics: &Metrics = &shared.metrics;
    loop {
        let before_login = !logged_in.load(Ordering::Acquire);
        let frame = tokio::select! {
            r = next_frame(&mut stream, limits, before_login.then_some(login_deadline)) => r,
            _ = shutdown.changed() => return Ok(()),
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => return Err(ConnEnd::Closed),
            Err(e) => {
                if matches!(e, ConnEnd::TooLarge(..) | ConnEnd::Malformed(_)) {
                    metrics.frames_rejected.inc();
                    warn_limited(Warn::Frame, &format!("closing a connection: {e}"));
                }
                if matches!(e, ConnEnd::LoginTimeout(_)) {
                    metrics.login_timeouts.inc();
                    tracing::info!("closing a connection: {e}");
                }
                return Err(e);
            }
        };
        let proto = match protocol {
            Some(p) => p,
            None => match detect_protocol(&frame) {
                Some(p) => *protocol.insert(p),
                None => {
                    metrics.frames_rejected.inc();
                    return Err(ConnEnd::Malformed(
                        "not a thrift binary or compact message".into(),
                    ));
                }
            },
        };
        if pipe_only {
            // A replication slot: the first call must be a pipe's.
            let method = duet_rpc::service::method_name(&frame, proto).unwrap_or_default();
            if method != "pipeTransfer" {
                metrics.connections_refused.inc();
                return Err(ConnEnd::NotAPipe(format!("{method:.40}")));
            }
            pipe_only = false;
        }
        let p = processor.clone();
        let reply = tokio::task::spawn_blocking(move || {
            duet_rpc::service::process_frame(&*p, &frame, proto)
        })
        .await;
        let reply = match reply {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                metrics.frames_rejected.inc();
                return Err(ConnEnd::Malformed(e.to_string()));
            }
            Err(e) => return Err(ConnEnd::Malformed(format!("request handler failed: {e}"))),
        };
        if reply.is_empty() {
            continue; // oneway call
        }
        let Ok(len) = i32::try_from(reply.len()) else {
            return Err(ConnEnd::Malformed(format!(
                "a reply of {} bytes does not fit a frame",
                reply.len()
            )));
        };
        let mut out = Vec::with_capacity(reply.len() + 4);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&reply);
        tokio::select! {
            // A TLS stream holds what it was given until flushed.
            w = tokio::time::timeout(limits.write_timeout, async {
                stream.write_all(&out).await?;
                stream.flush().await
            }) => match w {
                Ok(r) => r.map_err(ConnEnd::Io)?,
                Err(_) => {
                    metrics.write_timeouts.inc();
                    return Err(ConnEnd::WriteTimeout(limits.write_timeout));
                }
            },
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// The next frame under the limits that apply now: before login, the
/// login frame limit and what is left of the login deadline; after, the
/// frame limit and the idle timeout.
async fn next_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    limits: &Limits,
    login_deadline: Option<Instant>,
) -> Result<Option<Vec<u8>>, ConnEnd> {
    if let Some(deadline) = login_deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let (wait, end) = match limits.idle_timeout {
            Some(idle) if idle < left => (idle, ConnEnd::Idle),
            _ => (left, ConnEnd::LoginTimeout(limits.login_timeout)),
        };
        let read = read_frame(
            stream,
            limits.max_login_frame_bytes,
            "rpc.max_login_frame_bytes (before login)",
        );
        return tokio::time::timeout(wait, read).await.map_err(|_| end)?;
    }
    let read = read_frame(stream, limits.max_frame_bytes, "rpc.max_frame_bytes");
    match limits.idle_timeout {
        Some(d) => tokio::time::timeout(d, read)
            .await
            .map_err(|_| ConnEnd::Idle)?,
        None => read.await,
    }
}

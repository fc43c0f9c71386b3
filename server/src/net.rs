//! The RPC listener: a tokio accept loop with a connection limit, and per
//! connection a loop that reads one frame (length checked before anything
//! is allocated), runs the sync thrift processor on a blocking thread, and
//! writes the reply. A bad frame closes only its connection. On shutdown the
//! loop stops accepting and each connection finishes the request it is in.

use crate::metrics::Metrics;
use crate::service::{ConnHandler, Shared};
use duet_rpc::frame::{detect_protocol, Protocol};
use duet_rpc::generated::IClientRPCServiceSyncProcessor;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

pub struct Limits {
    pub max_frame_bytes: u32,
    pub max_connections: usize,
    pub idle_timeout: Option<Duration>,
}

pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
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
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    shared.metrics.connections_refused.inc();
                    tracing::warn!("refused connection from {peer}: {} connections open (rpc.max_connections)", limits.max_connections);
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                shared.metrics.connections_accepted.inc();
                let (shared, limits, shutdown) = (shared.clone(), limits.clone(), shutdown.clone());
                conns.spawn(async move {
                    shared.metrics.connections_open.inc();
                    if let Err(e) = connection(stream, shared.clone(), &limits, shutdown).await {
                        tracing::debug!("connection from {peer} closed: {e}");
                    }
                    shared.metrics.connections_open.dec();
                    drop(permit);
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

#[derive(Debug)]
enum ConnEnd {
    Closed,
    Io(std::io::Error),
    TooLarge(u64, u32),
    Malformed(String),
    Idle,
}

impl std::fmt::Display for ConnEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnEnd::Closed => write!(f, "closed by peer"),
            ConnEnd::Io(e) => write!(f, "i/o error: {e}"),
            ConnEnd::TooLarge(n, max) => {
                write!(f, "frame of {n} bytes over rpc.max_frame_bytes = {max}")
            }
            ConnEnd::Malformed(m) => write!(f, "malformed request: {m}"),
            ConnEnd::Idle => write!(f, "idle timeout"),
        }
    }
}

/// Reads one frame: `Ok(None)` at a clean end of stream between frames.
async fn read_frame(stream: &mut TcpStream, max: u32) -> Result<Option<Vec<u8>>, ConnEnd> {
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
        return Err(ConnEnd::TooLarge(declared as u64, max));
    }
    let mut buf = vec![0u8; declared as usize];
    stream.read_exact(&mut buf).await.map_err(ConnEnd::Io)?;
    Ok(Some(buf))
}

async fn connection(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    limits: &Limits,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ConnEnd> {
    let processor = Arc::new(IClientRPCServiceSyncProcessor::new(ConnHandler::new(
        shared.clone(),
    )));
    let mut protocol: Option<Protocol> = None;
    let metrics: &Metrics = &shared.metrics;
    loop {
        let frame = tokio::select! {
            r = read_with_idle(&mut stream, limits) => r,
            _ = shutdown.changed() => return Ok(()),
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => return Err(ConnEnd::Closed),
            Err(e) => {
                if matches!(e, ConnEnd::TooLarge(..) | ConnEnd::Malformed(_)) {
                    metrics.frames_rejected.inc();
                    tracing::warn!("closing a connection: {e}");
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
        let mut out = Vec::with_capacity(reply.len() + 4);
        out.extend_from_slice(&(reply.len() as u32).to_be_bytes());
        out.extend_from_slice(&reply);
        stream.write_all(&out).await.map_err(ConnEnd::Io)?;
    }
}

async fn read_with_idle(
    stream: &mut TcpStream,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, ConnEnd> {
    match limits.idle_timeout {
        Some(d) => tokio::time::timeout(d, read_frame(stream, limits.max_frame_bytes))
            .await
            .map_err(|_| ConnEnd::Idle)?,
        None => read_frame(stream, limits.max_frame_bytes).await,
    }
}

//! A minimal HTTP/1.1 endpoint for load balancers and monitoring:
//! `GET /health` (200 with the node's identity while it serves) and
//! `GET /metrics` (Prometheus text). One request per connection.

use crate::metrics::Metrics;
use duet_engine::{ChangeLog, Engine};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct HttpState {
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    pub node_name: String,
    pub pipes: Option<std::sync::Arc<duet_pipe::PipeManager>>,
    /// `storage.memory_budget_mb` in bytes, for /metrics.
    pub memory_budget_bytes: u64,
    /// What an operator must know (root's default password on an exposed
    /// port): shared with SHOW CLUSTER.
    pub warnings: Arc<crate::Warnings>,
    /// The HTTP listener is on loopback: only local users reach it, so
    /// `/health` names the node and pair ids (scripts on the host use
    /// them); bound wider, it leaves them out.
    pub loopback: bool,
}

pub async fn serve(
    listener: TcpListener,
    state: Arc<HttpState>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let state = state.clone();
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(5), handle(stream, &state)).await;
                    });
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

async fn handle(mut stream: TcpStream, state: &HttpState) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 8192 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, ctype, body) = match (method, path) {
        ("GET", "/health") => (
            "200 OK",
            "application/json",
            if state.loopback {
                format!(
                    "{{\"status\":\"UP\",\"name\":{:?},\"node_id\":{},\"cluster_id\":{:?},\"warnings\":{:?}}}\n",
                    state.node_name,
                    state.engine.node_id(),
                    state.engine.cluster_id(),
                    state.warnings.list()
                )
            } else {
                format!(
                    "{{\"status\":\"UP\",\"name\":{:?},\"warnings\":{:?}}}\n",
                    state.node_name,
                    state.warnings.list()
                )
            },
        ),
        ("GET", "/metrics") => {
            state
                .metrics
                .log_last_seq
                .set(state.engine.last_seq() as i64);
            state
                .metrics
                .log_first_seq
                .set(state.engine.first_seq() as i64);
            state.metrics.log_bytes.set(state.engine.log_bytes() as i64);
            let conflicts = state.engine.conflict_count() as i64;
            state.metrics.conflicts.set(conflicts);
            state
                .metrics
                .set_memory(state.memory_budget_bytes, state.engine.memory_use());
            state.metrics.set_background(state.engine.background_work());
            state
                .metrics
                .peer_changes_applied
                .set(state.engine.remote_changes_applied() as i64);
            let mut body = state.metrics.render();
            if let Some(p) = &state.pipes {
                // Before the closing `# EOF`, which ends an OpenMetrics exposition.
                let eof = body.rfind("# EOF").unwrap_or(body.len());
                let mut text = crate::pipes::metrics(&p.list());
                text.push_str(&crate::pipes::gate_metrics(&p.gate_status()));
                body.insert_str(eof, &text);
            }
            ("200 OK", "text/plain; version=0.0.4; charset=utf-8", body)
        }
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "not found: try /health or /metrics\n".to_string(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".to_string(),
        ),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(resp.as_bytes()).await?;
    stream.shutdown().await
}

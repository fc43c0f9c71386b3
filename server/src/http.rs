//! The HTTP endpoint for load balancers and monitoring (axum):
//! - `GET /health`: 200 while the node can take writes, 503 with the
//!   reasons as JSON otherwise (shutting down, or the replication write
//!   budget refusing writes), so a load balancer sends clients to the node
//!   that can serve them;
//! - `GET /ready`: 200 once the node serves (engine open, listeners bound),
//!   503 from the moment it begins to shut down;
//! - `GET /metrics`: Prometheus text.

use crate::metrics::Metrics;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use duet_engine::{ChangeLog, Engine};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
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
    /// Set when the node begins to shut down: /health and /ready answer
    /// 503 while it finishes the requests in flight.
    pub stopping: AtomicBool,
}

#[derive(Serialize)]
struct Health<'a> {
    /// `UP` or `DOWN`.
    status: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<&'a str>,
    /// Why the node cannot take writes now (empty when UP).
    reasons: Vec<String>,
    warnings: Vec<&'static str>,
}

impl HttpState {
    /// Why the node cannot take writes now, if it cannot.
    fn down_reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.stopping.load(Ordering::Acquire) {
            reasons.push("shutting down".to_string());
        }
        if let Some(why) = self.pipes.as_ref().and_then(|p| p.gate_status().refusing()) {
            reasons.push(why);
        }
        reasons
    }
}

pub fn router(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: try /health, /ready or /metrics\n",
            )
        })
        .with_state(state)
}

async fn health(State(state): State<Arc<HttpState>>) -> Response {
    let reasons = state.down_reasons();
    let code = if reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    // A password check may hash: off the async workers.
    let s = state.clone();
    let warnings = tokio::task::spawn_blocking(move || s.warnings.list())
        .await
        .unwrap_or_default();
    let body = Health {
        status: if reasons.is_empty() { "UP" } else { "DOWN" },
        name: &state.node_name,
        node_id: state.loopback.then(|| state.engine.node_id()),
        cluster_id: state.loopback.then(|| state.engine.cluster_id()),
        reasons,
        warnings,
    };
    (code, Json(body)).into_response()
}

async fn ready(State(state): State<Arc<HttpState>>) -> Response {
    if state.stopping.load(Ordering::Acquire) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "STOPPING"})),
        )
            .into_response()
    } else {
        Json(serde_json::json!({"status": "READY"})).into_response()
    }
}

async fn metrics(State(state): State<Arc<HttpState>>) -> Response {
    let m = &state.metrics;
    let engine = &state.engine;
    m.log_last_seq.set(engine.last_seq() as i64);
    m.log_first_seq.set(engine.first_seq() as i64);
    m.log_bytes.set(engine.log_bytes() as i64);
    m.conflicts.set(engine.conflict_count() as i64);
    m.set_memory(state.memory_budget_bytes, engine.memory_use());
    m.set_background(engine.background_work());
    m.peer_changes_applied
        .set(engine.remote_changes_applied() as i64);
    let mut body = m.render();
    if let Some(p) = &state.pipes {
        // Before the closing `# EOF`, which ends an OpenMetrics exposition.
        let eof = body.rfind("# EOF").unwrap_or(body.len());
        let mut text = crate::pipes::metrics(&p.list());
        text.push_str(&crate::pipes::gate_metrics(&p.gate_status()));
        body.insert_str(eof, &text);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Serves until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    state: Arc<HttpState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let stop = async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                return;
            }
        }
    };
    if let Err(e) = axum::serve(listener, router(state))
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!("the HTTP endpoint stopped: {e}");
    }
}

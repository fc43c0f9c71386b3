//! GET /health and GET /metrics for load balancers and monitoring.

use duet_tests::{exec, Node};

#[test]
fn t60_health_and_metrics() {
    let node = Node::start();
    let (code, body) = node.http_get("/health");
    assert_eq!(code, 200);
    assert!(
        body.contains("\"status\":\"UP\"") && body.contains(&node.node_id.to_string()),
        "{body}"
    );
    let mut s = node.session();
    exec(
        &mut s,
        "INSERT INTO root.h.d(time, v) VALUES (1, 1), (2, 2)",
    );
    let (code, metrics) = node.http_get("/metrics");
    assert_eq!(code, 200);
    for name in [
        "duet_rpc_connections_open",
        "duet_statements_total",
        "duet_changelog_last_seq",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    assert!(metrics.contains("duet_changelog_last_seq 1"), "{metrics}");
    assert_eq!(node.http_get("/nope").0, 404);
}

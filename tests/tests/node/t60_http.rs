//! GET /health and GET /metrics for load balancers and monitoring.

use duet_tests::{exec, Node};
use std::time::Duration;

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

/// `storage.memory_budget_mb`: RocksDB's half of it bounds memtables and
/// cached blocks together, /metrics shows each part, and under a flat-out
/// ingest of 1 kHz series the process stays within the budget plus a small
/// fixed overhead. A budget too small to run in is refused at start.
#[test]
fn t61_the_memory_budget_bounds_rocksdb_and_shows_in_metrics() {
    use duet_rpc::column::Column;
    const BUDGET_MB: u64 = 128;
    let node = Node::start_with_config(&format!("[storage]\nmemory_budget_mb = {BUDGET_MB}\n"));
    let metric = |name: &str| node.metric(name).unwrap_or(-1.0);
    assert_eq!(metric("duet_memory_budget_bytes"), (BUDGET_MB << 20) as f64);
    let limit = metric("duet_memory_rocksdb_limit_bytes");
    assert_eq!(limit, (BUDGET_MB << 19) as f64, "half the budget");

    // 20 devices x 10 sensors at 1 kHz, 1 000-row tablets, 4 M points.
    let mut s = node.session();
    let sensors: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let names: Vec<&str> = sensors.iter().map(String::as_str).collect();
    let columns: Vec<Column> = (0..10)
        .map(|k| Column::F64((0..1_000).map(|r| Some((r * k) as f64)).collect()))
        .collect();
    let mut peak = 0u64;
    for round in 0..20i64 {
        for d in 0..20 {
            let tablet = duet_rpc::insert::Tablet {
                timestamps: (round * 1_000..(round + 1) * 1_000).collect(),
                columns: columns.clone(),
            };
            s.insert_tablet(&format!("root.mem.d{d}"), &names, &tablet)
                .unwrap();
        }
        peak = peak.max(duet_tests::rss_kib(node.pid()) * 1024);
        let (memtables, cache) = (
            metric("duet_memory_rocksdb_memtables_bytes"),
            metric("duet_memory_rocksdb_block_cache_bytes"),
        );
        assert!(
            (0.0..=limit).contains(&memtables) && (0.0..=limit * 1.05).contains(&cache),
            "memtables {memtables}, cache {cache}, limit {limit}"
        );
    }
    let rss = metric("duet_memory_rss_bytes");
    assert!(rss > 0.0, "RSS is reported");
    for m in [
        "duet_rocksdb_running_flushes",
        "duet_rocksdb_running_compactions",
        "duet_rocksdb_pending_compaction_bytes",
    ] {
        assert!(metric(m) >= 0.0, "{m} is reported");
    }
    let (in_use, free) = (
        metric("duet_memory_heap_in_use_bytes"),
        metric("duet_memory_heap_free_bytes"),
    );
    assert!(
        in_use > 0.0 && free >= 0.0 && in_use < rss * 2.0,
        "heap in use {in_use}, free {free}, RSS {rss}"
    );
    assert!(
        peak <= (BUDGET_MB + 64) << 20,
        "RSS peaked at {} MiB with a {BUDGET_MB} MiB budget",
        peak >> 20
    );
    let rows = duet_tests::query(&mut s, "SELECT count(s9) FROM root.mem.d19").unwrap();
    assert_eq!(rows, vec![vec!["20000".to_string()]]);

    // Too small a budget is a clear error at start.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("duet.toml");
    std::fs::write(&conf, "[storage]\nmemory_budget_mb = 16\n").unwrap();
    let out = std::process::Command::new(duet_tests::bin_dir().join("duet-server"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("storage.memory_budget_mb = 16"), "{err}");
}

/// Root's default password on an address beyond loopback: /health and
/// SHOW CLUSTER say so (until the password is changed); with
/// `rpc.refuse_default_password` the node does not start, and says why.
#[test]
fn t66_the_default_password_on_an_open_address_is_flagged() {
    let node = Node::start_on("0.0.0.0", &[], &[]);
    let (code, body) = node.http_get("/health");
    assert_eq!(code, 200);
    assert!(body.contains("default password"), "{body}");
    let mut s = node.session();
    let cluster_warning = |s: &mut duet_rpc::client::Session| match s.execute("SHOW CLUSTER") {
        Ok(duet_rpc::client::Outcome::Rows(rows)) => rows.warning().map(str::to_string),
        other => panic!("SHOW CLUSTER: {:?}", other.err()),
    };
    let w = cluster_warning(&mut s).unwrap_or_default();
    assert!(
        w.contains("default password"),
        "SHOW CLUSTER warning: {w:?}"
    );
    duet_tests::exec(&mut s, "ALTER USER root SET PASSWORD 'an0ther'");
    drop(s);
    let mut s = node.session_as("root", "an0ther").unwrap();
    // The check is cached for up to 10 s; wait for it to see the change.
    duet_tests::wait_until(
        std::time::Duration::from_secs(30),
        "the warning gone",
        || match cluster_warning(&mut s) {
            None => Ok(()),
            Some(w) => Err(w),
        },
    );
    drop(node);
    // A loopback node is not flagged.
    let local = Node::start();
    let (_, body) = local.http_get("/health");
    assert!(body.contains("\"warnings\":[]"), "{body}");
    assert!(
        body.contains("node_id"),
        "loopback: ids for local scripts: {body}"
    );
    // /health bound beyond loopback names no ids.
    let wide = Node::start_with_config("[http]\naddress = \"0.0.0.0\"\n");
    let (code, body) = wide.http_get("/health");
    assert_eq!(code, 200);
    assert!(
        body.contains("\"status\":\"UP\"")
            && !body.contains("node_id")
            && !body.contains("cluster_id"),
        "{body}"
    );

    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("duet.toml");
    std::fs::write(&conf, "[rpc]\nrefuse_default_password = true\n").unwrap();
    let out = std::process::Command::new(duet_tests::bin_dir().join("duet-server"))
        .args(["--data-dir", dir.path().join("data").to_str().unwrap()])
        .args(["--config", conf.to_str().unwrap()])
        .args([
            "--rpc-address",
            "0.0.0.0",
            "--rpc-port",
            "0",
            "--http-port",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refuse_default_password"), "{err}");
}

/// Five failed logins from one address: its next login is refused even
/// with the right password, and says why; the node's files are private.
#[test]
fn t67_failed_logins_are_rate_limited_and_files_are_private() {
    let node = Node::start();
    for _ in 0..5 {
        assert!(node.session_as("root", "wrong").is_err());
    }
    let e = node
        .session_as("root", "root")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("too many failed logins"), "{e}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&node.data_dir()), 0o700);
    for entry in std::fs::read_dir(node.data_dir()).unwrap() {
        let p = entry.unwrap().path();
        let m = mode(&p);
        assert_eq!(m & 0o077, 0, "{} is {m:o}", p.display());
    }
}

/// `/health` is what a load balancer asks: 503 with the reason while the
/// node's writes would wait (synchronous replication to a peer that does
/// not answer) and while it shuts down; `/ready` turns 503 at shutdown.
#[test]
fn t68_health_says_when_writes_cannot_be_taken() {
    let mut node = Node::start();
    assert_eq!(node.http_get("/ready").0, 200);
    let (code, body) = node.http_get("/health");
    assert_eq!(
        (code, body.contains("\"status\":\"UP\"")),
        (200, true),
        "{body}"
    );
    // A pipe to a port where nobody answers, and synchronous writes.
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = nobody.local_addr().unwrap().port();
    drop(nobody);
    node.sql(&duet_tests::pipe_sql("AB", port));
    node.sql("SET REPLICATION MAX_PENDING_BYTES = 0");
    let body = duet_tests::wait_until(Duration::from_secs(30), "/health 503", || {
        match node.http_get("/health") {
            (503, body) => Ok(body),
            other => Err(format!("{other:?}")),
        }
    });
    assert!(
        body.contains("\"status\":\"DOWN\"") && body.contains("synchronous replication"),
        "{body}"
    );
    assert_eq!(node.http_get("/ready").0, 200, "ready: it serves reads");
    node.sql("SET REPLICATION MAX_PENDING_BYTES = UNBOUNDED");
    assert_eq!(node.http_get("/health").0, 200);

    // Shutting down: a write in flight (synchronous, waiting up to 3 s for
    // the peer) keeps the node draining; both endpoints say 503 meanwhile.
    node.sql("SET REPLICATION WRITE_TIMEOUT_MS = 3000");
    node.sql("SET REPLICATION MAX_PENDING_BYTES = 0");
    let rpc = node.rpc.port();
    let running = std::thread::spawn(move || {
        let mut s = duet_rpc::client::Session::open(duet_rpc::client::SessionConfig {
            hosts: vec![("127.0.0.1".into(), rpc)],
            ..Default::default()
        })
        .unwrap();
        s.execute("INSERT INTO root.h.d(time, v) VALUES (1, 1)")
            .err()
    });
    duet_tests::wait_until(Duration::from_secs(10), "the write waiting", || match node
        .metric("duet_replication_waiting_writes")
    {
        Some(n) if n >= 1.0 => Ok(()),
        other => Err(format!("{other:?}")),
    });
    let pid = node.pid().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let http = node.http;
    let get = |path: &str| -> (u16, String) {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(http) else {
            return (0, String::new());
        };
        let _ = write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        let code = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (code, out)
    };
    let (health, ready) =
        duet_tests::wait_until(Duration::from_secs(10), "503 while draining", || {
            // /health may still give the earlier reason (writes wait for the
            // peer) until the node has seen the signal: wait for the draining one.
            match (get("/health"), get("/ready")) {
                ((503, h), (503, r)) if h.contains("shutting down") => Ok((h, r)),
                other => Err(format!("{other:?}")),
            }
        });
    assert!(
        health.contains("shutting down") && ready.contains("STOPPING"),
        "{health} {ready}"
    );
    running.join().unwrap();
    assert!(node.terminate().success());
}

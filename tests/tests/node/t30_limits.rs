//! Named limits, tested at the limit: connections, frame size, idle timeout.

use duet_tests::{exec, query, wait_until, Node};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

fn node_with(config: &str) -> Node {
    Node::start_with_config(config)
}

/// Closed well before a 10 s read timeout (a timeout is not a close).
fn closed_by_server(c: &mut TcpStream) -> bool {
    duet_tests::closed_by_server(c, Duration::from_secs(10))
}

#[test]
fn t30_connections_over_the_limit_are_closed() {
    let node = node_with("[rpc]\nmax_connections = 2\n");
    let _a = node.session();
    let _b = node.session();
    let mut third = TcpStream::connect(node.rpc).unwrap();
    assert!(
        closed_by_server(&mut third),
        "a third connection is closed at accept"
    );
    drop(_a);
    // A slot frees when a connection ends.
    let mut s = wait_until(Duration::from_secs(10), "a free connection slot", || {
        node.session_as("root", "root").map_err(|e| e.to_string())
    });
    exec(&mut s, "SHOW VERSION");
}

#[test]
fn t31_frames_over_max_frame_bytes_close_the_connection() {
    let node = node_with("[rpc]\nmax_frame_bytes = 65536\n");
    let mut s = node.session();
    // Just under the limit works (a statement of ~60 KB).
    let rows: Vec<String> = (0..4000).map(|i| format!("({i},{i})")).collect();
    let sql = format!("INSERT INTO root.l.d(time, v) VALUES {}", rows.join(","));
    assert!(sql.len() < 60_000);
    exec(&mut s, &sql);
    // Over the limit: refused, connection closed, the node keeps serving.
    let mut c = TcpStream::connect(node.rpc).unwrap();
    c.write_all(&(65_537u32).to_be_bytes()).unwrap();
    assert!(closed_by_server(&mut c));
    assert_eq!(
        query(&mut node.session(), "SELECT count(v) FROM root.l.d").unwrap()[0][0],
        "4000"
    );
}

#[test]
fn t32_idle_connections_time_out() {
    let node = node_with("[rpc]\nidle_timeout_secs = 1\n");
    let mut c = TcpStream::connect(node.rpc).unwrap();
    assert!(
        closed_by_server(&mut c),
        "an idle connection is closed after rpc.idle_timeout_secs"
    );
}

#[test]
fn t33_a_bad_config_is_refused_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[rpc]\nmax_conections = 3\n").unwrap();
    let out = std::process::Command::new(duet_tests::bin_dir().join("duet-server"))
        .args([
            "--config",
            path.to_str().unwrap(),
            "--data-dir",
            dir.path().join("d").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_conections"), "{err}");
}

#[test]
fn t34_after_login_a_frame_over_max_frame_bytes_closes_at_once_and_counts_once() {
    let node = node_with("[rpc]\nmax_frame_bytes = 65536\n");
    let rejected = || {
        node.metric("duet_rpc_frames_rejected_total")
            .unwrap_or(-1.0)
    };
    let before = rejected();
    let stream = TcpStream::connect(node.rpc).unwrap();
    let mut raw = stream.try_clone().unwrap();
    let mut client = duet_tests::raw_client(&stream);
    duet_tests::raw_login(&mut client);
    // Logged in, so the limit is rpc.max_frame_bytes: one byte over it.
    raw.write_all(&(65_537u32).to_be_bytes()).unwrap();
    assert!(
        duet_tests::closed_by_server(&mut raw, Duration::from_secs(5)),
        "closed at once, not after a timeout"
    );
    wait_until(Duration::from_secs(10), "one rejection counted", || {
        let now = rejected();
        if now == before + 1.0 {
            Ok(())
        } else {
            Err(format!("{before} -> {now}"))
        }
    });
}

/// A result page stops at the page byte limit (a 32nd of the memory
/// budget: 2 MiB at 64 MiB) even below the fetch size, and the client
/// still reads every row, in order, page after page.
#[test]
fn t35_result_pages_are_bounded_in_bytes() {
    let node = node_with("[storage]\nmemory_budget_mb = 64\n");
    let mut s = node.session();
    let (rows, len) = (60usize, 100 << 10);
    for part in 0..3 {
        let times: Vec<i64> = (part * 20..part * 20 + 20).map(|t| t as i64).collect();
        let tablet = duet_rpc::insert::Tablet {
            columns: vec![duet_rpc::column::Column::Text(
                times
                    .iter()
                    .map(|t| Some(vec![b'a' + (*t % 26) as u8; len]))
                    .collect(),
            )],
            timestamps: times,
        };
        s.insert_tablet("root.pg.d", &["v"], &tablet).unwrap();
    }
    assert_eq!(node.metric("duet_query_pages_cut_total"), Some(0.0));
    let got = query(&mut s, "SELECT v FROM root.pg.d").unwrap();
    assert_eq!(got.len(), rows, "every row read");
    for (t, row) in got.iter().enumerate() {
        assert_eq!(row[0], t.to_string());
        let expected = ((b'a' + (t % 26) as u8) as char).to_string().repeat(len);
        assert!(
            row[1] == expected,
            "row {t}: value of {} bytes",
            row[1].len()
        );
    }
    // 6 MiB of values in 2 MiB pages: at least two pages were cut short
    // of the 5 000-row fetch size.
    let cut = node.metric("duet_query_pages_cut_total").unwrap_or(0.0);
    assert!(cut >= 2.0, "pages cut: {cut}");
    assert_eq!(
        node.metric("duet_memory_query_page_limit_bytes"),
        Some((2 << 20) as f64)
    );
}

/// One address may hold `rpc.max_connections_per_address` connections;
/// another is closed at accept, and a slot frees when one ends.
#[test]
fn t36_connections_per_address_are_limited() {
    let node = node_with("[rpc]\nmax_connections_per_address = 2\n");
    let a = node.session();
    let _b = node.session();
    let mut third = TcpStream::connect(node.rpc).unwrap();
    assert!(
        closed_by_server(&mut third),
        "a third connection from 127.0.0.1"
    );
    assert!(
        node.metric("duet_rpc_connections_refused_total")
            .unwrap_or(0.0)
            >= 1.0
    );
    drop(a);
    let mut s = wait_until(
        Duration::from_secs(10),
        "a free slot for the address",
        || node.session_as("root", "root").map_err(|e| e.to_string()),
    );
    exec(&mut s, "SHOW VERSION");
}

/// A client that never reads its replies: the reply that does not fit the
/// socket buffers is abandoned after `rpc.write_timeout_secs` and the
/// connection closed (it holds no worker, and the node still serves).
#[test]
fn t37_a_client_that_never_reads_is_closed_after_the_write_timeout() {
    use duet_tests::proxy::{Fault, Proxy};
    let node = node_with("[rpc]\nwrite_timeout_secs = 2\n");
    let mut s = node.session();
    // 24 MiB of TEXT: one result page is 16 MiB (a 32nd of the default
    // 512 MiB budget), more than the socket buffers hold.
    for part in 0..12i64 {
        let times: Vec<i64> = (part * 20..part * 20 + 20).collect();
        let tablet = duet_rpc::insert::Tablet {
            columns: vec![duet_rpc::column::Column::Text(
                times.iter().map(|_| Some(vec![b'x'; 100 << 10])).collect(),
            )],
            timestamps: times,
        };
        s.insert_tablet("root.wt.d", &["v"], &tablet).unwrap();
    }
    let proxy = Proxy::start(node.rpc);
    let mut slow = duet_rpc::client::Session::open(duet_rpc::client::SessionConfig {
        hosts: vec![("127.0.0.1".into(), proxy.port())],
        request_timeout: None,
        ..Default::default()
    })
    .unwrap();
    proxy.set(Fault::StallReplies);
    std::thread::spawn(move || {
        let _ = slow.execute("SELECT v FROM root.wt.d");
    });
    wait_until(
        Duration::from_secs(30),
        "the write timeout to close it",
        || match node.metric("duet_rpc_write_timeouts_total") {
            Some(n) if n >= 1.0 => Ok(()),
            n => Err(format!("{n:?}")),
        },
    );
    let rows = query(&mut s, "SELECT count(v) FROM root.wt.d").unwrap();
    assert_eq!(rows, vec![vec!["240".to_string()]]);
}

/// GROUP BY picks the windows OFFSET and LIMIT ask for by number, without
/// iterating the ones before (a trillion here); a statement that runs past
/// `query.timeout_ms` is stopped with code 720, even while its rows are
/// fetched page by page.
#[test]
fn t38_group_by_offset_is_computed_and_statements_have_a_deadline() {
    let node = node_with("[query]\ntimeout_ms = 300\n");
    let mut s = node.session();
    exec(
        &mut s,
        "INSERT INTO root.q.d(time, v) VALUES (1000000000001, 5), (1000000000002, 6)",
    );
    let rows = query(
        &mut s,
        "SELECT count(v) FROM root.q.d GROUP BY ([0, 4611686018427387903), 1ms) \
         LIMIT 3 OFFSET 1000000000000",
    )
    .unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(
        got,
        [
            ("1000000000000".to_string(), "0".to_string()),
            ("1000000000001".to_string(), "1".to_string()),
            ("1000000000002".to_string(), "1".to_string()),
        ]
    );
    let desc = query(
        &mut s,
        "SELECT count(v) FROM root.q.d GROUP BY ([0, 1000000000003), 1ms) \
         ORDER BY TIME DESC LIMIT 2 OFFSET 1",
    )
    .unwrap();
    assert_eq!(desc[0][0], "1000000000001");
    assert_eq!(desc[1][0], "1000000000000");
    // Without a LIMIT the windows never end: the deadline stops it.
    let e = query(
        &mut s,
        "SELECT count(v) FROM root.q.d GROUP BY ([0, 4611686018427387903), 1ms)",
    )
    .unwrap_err();
    assert!(
        e.contains("720") && e.contains("time limit of 300 ms"),
        "{e}"
    );
    // The session goes on, and may set its own limit (and go back to the
    // node's); other sessions keep the node's.
    exec(&mut s, "SHOW VERSION");
    let endless = "SELECT count(v) FROM root.q.d GROUP BY ([0, 4611686018427387903), 1ms)";
    exec(&mut s, "SET QUERY_TIMEOUT = 50");
    let e = query(&mut s, endless).unwrap_err();
    assert!(e.contains("time limit of 50 ms"), "{e}");
    let e = query(&mut node.session(), endless).unwrap_err();
    assert!(e.contains("time limit of 300 ms"), "{e}");
    exec(&mut s, "SET QUERY_TIMEOUT = DEFAULT");
    let e = query(&mut s, endless).unwrap_err();
    assert!(e.contains("time limit of 300 ms"), "{e}");
    let e = s
        .execute("SET QUERY_TIMEOUT = soon")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("milliseconds"), "{e}");
}

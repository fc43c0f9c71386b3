//! Refusals: a clear error in the CLI or in SHOW PIPES, nothing half-created.

use crate::WAIT;
use duet_tests::{pipe_sql, wait_until, Node};

fn stopped_with(n: &Node, name: &str, needle: &str) {
    wait_until(
        WAIT,
        &format!("pipe {name} stopped with '{needle}'"),
        || {
            let p = n.pipes();
            match p.iter().find(|x| x.0 == name) {
                Some(x) if x.1 == "STOPPED" && x.2.contains(needle) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    );
}

#[test]
fn t60_pipe_to_itself_and_wrong_password() {
    let a = Node::start();
    let b = Node::start();
    a.sql(&pipe_sql("SELF", a.rpc.port()));
    stopped_with(&a, "SELF", "to itself");
    a.sql(&format!(
        "CREATE PIPE BADPW WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{}', 'sink.password'='nope')",
        b.rpc.port()
    ));
    stopped_with(&a, "BADPW", "credentials");
    // The message survives a restart, and the password is not shown.
    let shown = a.rows("SHOW PIPE BADPW").unwrap();
    assert!(shown[0][5].contains("sink.password=******"), "{shown:?}");
}

#[test]
fn t61_bad_definitions_create_nothing() {
    let a = Node::start();
    let mut s = a.session();
    for (sql, needle) in [
        (
            "CREATE PIPE P1 WITH SOURCE ('source.nope'='1') WITH SINK ('sink'='do-nothing-sink')",
            "unknown source parameter",
        ),
        (
            "CREATE PIPE P2 WITH SINK ('sink'='kafka-sink')",
            "expected one of iotdb-thrift-sink",
        ),
        (
            "CREATE PIPE P3 WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='h')",
            "sink.ip",
        ),
    ] {
        let e = s.execute(sql).err().expect("refused");
        assert!(e.to_string().contains(needle), "{sql}: {e}");
    }
    assert!(a.pipes().is_empty(), "nothing half-created");
    a.sql("CREATE PIPE P4 WITH SINK ('sink'='do-nothing-sink')");
    let e = s
        .execute("CREATE PIPE P4 WITH SINK ('sink'='do-nothing-sink')")
        .err()
        .expect("duplicate");
    assert!(e.to_string().contains("already exists"), "{e}");
    a.sql("CREATE PIPE IF NOT EXISTS P4 WITH SINK ('sink'='do-nothing-sink')");
    a.sql("DROP PIPE P4");
    a.sql("DROP PIPE IF EXISTS P4");
    assert!(s.execute("DROP PIPE P4").is_err());
    assert!(a.pipes().is_empty());
}

#[test]
fn t62_garbage_pipe_requests_are_refused_and_change_nothing() {
    use duet_rpc::generated::{TIClientRPCServiceSyncClient, TPipeTransferReq};
    let a = Node::start();
    let stream = std::net::TcpStream::connect(a.rpc).unwrap();
    let mut c = duet_rpc::service::new_client(
        stream.try_clone().unwrap(),
        stream,
        duet_rpc::Protocol::Binary,
        1 << 20,
    )
    .unwrap();
    // Refusals are logged at most once per calendar second per kind
    // (handshake, batch): the clock starts before the first request.
    let started = std::time::Instant::now();
    let mut seed = 7u64;
    let mut junk = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                (seed >> 56) as u8
            })
            .collect()
    };
    // Data before a handshake, garbage handshakes, unknown request types.
    for (ty, body) in [
        (1000i16, junk(64)),
        (51, junk(3)),
        (51, junk(500)),
        (51, vec![0, 0, 0, 0]),
        (2, junk(100)),
        (-1, vec![]),
    ] {
        let resp = c
            .pipe_transfer(TPipeTransferReq::new(1, ty, body))
            .expect("a reply, not a dropped connection");
        assert_ne!(resp.status.code, 200, "type {ty} accepted");
    }
    // A valid handshake, then batches that do not decode.
    let params: std::collections::BTreeMap<String, String> = [
        ("clusterID", "other-cluster"),
        ("timestampPrecision", "ms"),
        ("username", "root"),
        ("password", "root"),
        ("duet.nodeId", "12345"),
        ("duet.protocolVersion", "1"),
        ("duet.stream", "X#1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let ok = c
        .pipe_transfer(TPipeTransferReq::new(
            1,
            51,
            duet_pipe::wire::encode_params(&params),
        ))
        .unwrap();
    assert_eq!(ok.status.code, 200, "{:?}", ok.status.message);
    for body in [
        junk(1),
        junk(50),
        vec![0, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2],
        vec![1, 255, 255, 255, 127],
    ] {
        let resp = c
            .pipe_transfer(TPipeTransferReq::new(1, 1000, body))
            .unwrap();
        assert_ne!(resp.status.code, 200);
    }
    assert_eq!(
        (a.log_last_seq(), a.peer_changes_applied()),
        (0, 0),
        "nothing applied"
    );
    // What a peer sends reaches the log escaped, cut and rate-limited: a
    // burst of handshakes carrying a forged log line makes a few lines.
    let forged = format!("9\nFORGED LOG LINE{}", "x".repeat(5000));
    for _ in 0..200 {
        let mut p = params.clone();
        p.insert("duet.protocolVersion".into(), forged.clone());
        let resp = c
            .pipe_transfer(TPipeTransferReq::new(
                1,
                51,
                duet_pipe::wire::encode_params(&p),
            ))
            .unwrap();
        assert_eq!(resp.status.code, 1802);
    }
    // An interval of `secs` whole seconds touches at most `secs + 2`
    // calendar seconds, and there are two kinds of refusal.
    let secs = started.elapsed().as_secs() as usize;
    a.sql("SHOW VERSION");
    // The harness writes the log when the process ends.
    let mut a = a;
    a.terminate();
    let log = wait_until(WAIT, "the log written", || {
        let log = a.log();
        if log.contains("duet-server stopped") || log.contains("pipe request from") {
            Ok(log)
        } else {
            Err(log)
        }
    });
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("pipe request from"))
        .collect();
    assert!(!lines.is_empty(), "the refusals are logged: {log}");
    assert!(
        lines.len() <= 2 * (secs + 2),
        "{} lines in {secs} s",
        lines.len()
    );
    assert!(lines.iter().all(|l| l.len() < 500), "cut: {lines:?}");
    assert!(!log.lines().any(|l| l.starts_with("FORGED")), "escaped");
}

/// Clients holding every connection slot cannot lock the peer's pipe out:
/// it gets a replication slot (`rpc.replication_connections`), which a
/// client cannot use.
#[test]
fn t63_clients_filling_every_slot_do_not_lock_the_peer_out() {
    let a = Node::start_with_config("[rpc]\nmax_connections = 2\nreplication_connections = 4\n");
    let b = Node::start();
    let s1 = a.session();
    let _s2 = a.session();
    assert!(
        a.session_as("root", "root").is_err(),
        "a third client gets no slot, not even a replication one"
    );
    b.sql(&pipe_sql("BA", a.rpc.port()));
    crate::insert(&b, "root.slot.d", "v", 0, 10, 1.0);
    duet_tests::wait_until(crate::WAIT, "B's changes applied on A", || {
        let n = a.peer_changes_applied();
        if n >= 1 {
            Ok(())
        } else {
            Err(format!("{n} applied"))
        }
    });
    drop(s1);
    crate::wait_count(&a, "root.slot.d", "v", 10);
}

#[test]
fn t64_a_pipe_needs_a_user_with_the_replication_privilege() {
    let a = Node::start();
    let b = Node::start();
    b.sql("CREATE USER shipper 'shipper_pw'");
    b.sql("GRANT WRITE ON root.** TO USER shipper");
    a.sql("INSERT INTO root.rp.d(time, s) VALUES (1, 1.0)");
    a.sql(&format!(
        "CREATE PIPE RP WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{}', \
         'sink.username'='shipper', 'sink.password'='shipper_pw')",
        b.rpc.port()
    ));
    // Right password, every data privilege, but not REPLICATION: refused,
    // and nothing was applied.
    stopped_with(&a, "RP", "REPLICATION");
    assert_eq!(b.rows("COUNT TIMESERIES").unwrap(), vec![vec!["0"]]);
    b.sql("GRANT REPLICATION ON root.** TO USER shipper");
    a.sql("START PIPE RP");
    wait_until(WAIT, "the point on b", || {
        match b.rows("SELECT count(s) FROM root.rp.d") {
            Ok(r) if r == vec![vec!["1"]] => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
}

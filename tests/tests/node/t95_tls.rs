//! TLS on the client port: `tls.clients`, what a TLS client without a
//! certificate may do, the CLI's IoTDB-style flags, and a node that will
//! not start on bad certificate files.

use duet_pipe::wire;
use duet_rpc::generated::{TIClientRPCServiceSyncClient, TPipeTransferReq};
use duet_rpc::status;
use duet_tests::tls::Certs;
use duet_tests::{query, Node};
use std::collections::BTreeMap;
use std::net::TcpStream;
use std::time::Duration;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn t95_clients_required_refuses_plain_text_and_serves_tls() {
    let certs = Certs::make(&["n"]);
    let node = Node::start_with_config(&certs.config("n", "clients = \"required\""));
    let e = node
        .session_as("root", "root")
        .err()
        .expect("plain refused");
    assert_eq!(e.code(), Some(status::NO_PERMISSION), "{e}");
    assert!(e.to_string().contains("TLS only"), "{e}");

    let mut s = certs.session(node.rpc.port()).expect("TLS session");
    duet_tests::exec(&mut s, "INSERT INTO root.tls.d(time, v) VALUES (1, 2.5)");
    let rows = query(&mut s, "SELECT v FROM root.tls.d").unwrap();
    assert_eq!(rows, [["1", "2.5"]]);

    // The CLI, as IoTDB's start-cli is told: -usessl true -ts <trust store>.
    let ca = certs.ca();
    let ok = node.cli(
        &[
            "-usessl",
            "true",
            "-ts",
            ca.to_str().unwrap(),
            "-e",
            "select v from root.tls.d",
        ],
        "",
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("2.5"), "{}", text(&ok.stdout));
    let plain = node.cli(&["-e", "show version"], "");
    assert!(!plain.status.success());
    assert!(
        text(&plain.stderr).contains("TLS only"),
        "{}",
        text(&plain.stderr)
    );
    // A CLI that trusts another CA says the certificate did not verify.
    let other = Certs::make(&["x"]);
    let wrong = node.cli(
        &[
            "--ssl",
            "--ca-file",
            other.ca().to_str().unwrap(),
            "-e",
            "show version",
        ],
        "",
    );
    assert!(!wrong.status.success());
    let err = text(&wrong.stderr);
    assert!(err.contains("certificate verification failed"), "{err}");
}

/// A pipe handshake as a sink sends it, over `client`'s connection.
fn handshake(client: &mut duet_rpc::service::RpcClient) -> (i32, String) {
    handshake_as(client, 4242)
}

/// The same, saying it comes from node `node`.
fn handshake_as(client: &mut duet_rpc::service::RpcClient, node: u32) -> (i32, String) {
    let params: BTreeMap<String, String> = [
        (wire::KEY_CLUSTER_ID, "test-cluster".to_string()),
        (wire::KEY_PRECISION, "ms".to_string()),
        (wire::KEY_USERNAME, "root".to_string()),
        (wire::KEY_PASSWORD, "root".to_string()),
        (wire::KEY_NODE_ID, node.to_string()),
        (wire::KEY_PROTOCOL, wire::PROTOCOL_VERSION.to_string()),
        (wire::KEY_STREAM, "T#1".to_string()),
        (wire::KEY_CLOCK, duet_engine_clock().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let resp = client
        .pipe_transfer(TPipeTransferReq::new(
            wire::REQUEST_VERSION,
            wire::HANDSHAKE_DATANODE_V2,
            wire::encode_params(&params),
        ))
        .expect("a reply");
    (resp.status.code, resp.status.message.unwrap_or_default())
}

fn duet_engine_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A raw client over TLS to the node.
fn tls_client(node: &Node, tls: &duet_rpc::tls::TlsClient) -> duet_rpc::service::RpcClient {
    let tcp = TcpStream::connect(node.rpc).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let conn = tls.connect(tcp, "127.0.0.1").expect("TLS handshake");
    let (r, w) = conn.halves().unwrap();
    duet_rpc::service::new_client(r, w, duet_rpc::Protocol::Binary, 64 << 20).unwrap()
}

#[test]
fn t96_a_tls_client_without_a_certificate_logs_in_but_cannot_be_a_pipe() {
    let certs = Certs::make(&["n", "peer"]);
    let node = Node::start_with_config(&certs.config("n", ""));
    let mut c = tls_client(&node, &certs.client());
    duet_tests::raw_login(&mut c);
    let (code, msg) = handshake(&mut tls_client(&node, &certs.client()));
    assert_eq!(code, status::PIPE_HANDSHAKE_ERROR, "{msg}");
    assert!(msg.contains("presented none"), "{msg}");
    // Plain text: refused too, saying so.
    let plain = TcpStream::connect(node.rpc).unwrap();
    let (code, msg) = handshake(&mut duet_tests::raw_client(&plain));
    assert_eq!(code, status::PIPE_HANDSHAKE_ERROR, "{msg}");
    assert!(msg.contains("plain text"), "{msg}");
    // The same handshake with a certificate signed by the node's CA passes.
    let (code, msg) = handshake(&mut tls_client(&node, &certs.client_as("peer")));
    assert_eq!(code, status::SUCCESS_STATUS, "{msg}");
}

#[test]
fn t97_a_node_without_tls_closes_a_tls_handshake() {
    let certs = Certs::make(&["n"]);
    let node = Node::start();
    let tcp = TcpStream::connect(node.rpc).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    assert!(certs.client().connect(tcp, "127.0.0.1").is_err());
    // And still serves plain text.
    assert!(node.rows("SHOW VERSION").is_ok());
}

/// Starts duet-server on `toml` and expects it to refuse, naming `needle`.
fn refuses_to_start(toml: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("duet.toml");
    std::fs::write(&path, toml).unwrap();
    let out = std::process::Command::new(duet_tests::bin_dir().join("duet-server"))
        .args([
            "--config",
            path.to_str().unwrap(),
            "--data-dir",
            dir.path().join("d").to_str().unwrap(),
            "--rpc-port",
            "0",
            "--http-port",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "started with {toml}");
    let err = text(&out.stderr);
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(
        !dir.path().join("d").exists(),
        "nothing created before the check"
    );
}

#[test]
fn t98_bad_certificate_files_stop_the_start_with_the_file_named() {
    let certs = Certs::make(&["n", "m"]);
    let cfg = |cert: &std::path::Path, key: &std::path::Path| {
        format!(
            "[tls]\ncert_file = {cert:?}\nkey_file = {key:?}\nca_file = {:?}\n",
            certs.ca()
        )
    };
    let missing = certs.dir.path().join("missing.crt");
    refuses_to_start(&cfg(&missing, &certs.key("n")), "tls.cert_file");
    refuses_to_start(&cfg(&missing, &certs.key("n")), "missing.crt");
    // A key that is not the certificate's.
    refuses_to_start(&cfg(&certs.cert("n"), &certs.key("m")), "does not go with");
    // A key file that holds no key.
    refuses_to_start(&cfg(&certs.cert("n"), &certs.cert("m")), "tls.key_file");
    // No CA while pipes must use TLS.
    refuses_to_start(
        &format!(
            "[tls]\ncert_file = {:?}\nkey_file = {:?}\n",
            certs.cert("n"),
            certs.key("n")
        ),
        "tls.ca_file",
    );
}

/// A certificate from the node's CA does not speak for any node: a pipe
/// handshake saying it comes from node A must present a certificate that
/// names the host this node reaches A at (through its own pipe to A).
#[test]
fn t99_a_handshake_is_held_to_the_certificate_of_the_node_it_names() {
    let certs = Certs::make(&["a", "b"]);
    // Another node's certificate from the same CA, naming only its own host.
    let out = std::process::Command::new("bash")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sbin/make-certs.sh"))
        .arg(certs.dir.path())
        .arg("imposter,imposter.example")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let a = Node::start_with_config(&certs.config("a", ""));
    let b = Node::start_with_config(&certs.config("b", ""));
    // B reaches A at 127.0.0.1 through its pipe BA.
    b.sql(&format!(
        "CREATE PIPE BA WITH SOURCE ('source.mode.double-living'='true') WITH SINK \
         ('sink'='iotdb-thrift-ssl-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{}')",
        a.rpc.port()
    ));
    duet_tests::wait_until(Duration::from_secs(60), "B to know A's node id", || {
        let rows = b.rows("SHOW CLUSTER")?;
        if rows
            .iter()
            .any(|r| r[6] == "peer" && r[0] == a.node_id.to_string())
        {
            Ok(())
        } else {
            Err(format!("{rows:?}"))
        }
    });
    let imposter = || tls_client(&b, &certs.client_as("imposter"));
    let (code, msg) = handshake_as(&mut imposter(), a.node_id);
    assert_eq!(code, status::PIPE_HANDSHAKE_ERROR, "{msg}");
    assert!(
        msg.contains("imposter.example") && msg.contains("127.0.0.1"),
        "{msg}"
    );
    // Saying it is a node B does not reach: nothing to hold it to.
    let (code, msg) = handshake_as(&mut imposter(), 4242);
    assert_eq!(code, status::SUCCESS_STATUS, "{msg}");
    // A itself, with its own certificate (it names 127.0.0.1), passes.
    let (code, msg) = handshake_as(&mut tls_client(&b, &certs.client_as("a")), a.node_id);
    assert_eq!(code, status::SUCCESS_STATUS, "{msg}");
}

//! TLS on the pipe link: certificates from `sbin/make-certs.sh`, both
//! nodes with a `[tls]` section (pipes need TLS and a client certificate
//! signed by the node's CA), clients still in plain text.

use crate::{connected, count, insert, wait_count, WAIT};
use duet_tests::tls::Certs;
use duet_tests::{wait_until, Node};

/// A pipe from `from` to `to`'s port with the given sink parameters.
fn tls_pipe(name: &str, port: u16, sink: &str) -> String {
    format!(
        "CREATE PIPE {name} WITH SOURCE ('source.mode.double-living'='true') \
         WITH SINK ('sink.ip'='127.0.0.1', 'sink.port'='{port}', {sink})"
    )
}

fn stopped_with(n: &Node, name: &str, needle: &str) -> String {
    wait_until(
        WAIT,
        &format!("pipe {name} stopped with '{needle}'"),
        || {
            let p = n.pipes();
            match p.iter().find(|x| x.0 == name) {
                Some(x) if x.1 == "STOPPED" && x.2.contains(needle) => Ok(x.2.clone()),
                other => Err(format!("{other:?}")),
            }
        },
    )
}

#[test]
fn t150_tls_pipes_replicate_both_ways() {
    let certs = Certs::make(&["a", "b"]);
    let a = Node::start_with_config(&certs.config("a", ""));
    let b = Node::start_with_config(&certs.config("b", ""));
    // IoTDB's SSL sink, with the node's own [tls] files as defaults...
    a.sql(&tls_pipe(
        "AB",
        b.rpc.port(),
        "'sink'='iotdb-thrift-ssl-sink'",
    ));
    // ... and the parameters spelled out (the JKS password is accepted).
    b.sql(&tls_pipe(
        "BA",
        a.rpc.port(),
        &format!(
            "'sink'='iotdb-thrift-sink', 'sink.ssl.enable'='true', \
             'sink.ssl.trust-store-path'='{}', 'sink.ssl.trust-store-pwd'='changeit', \
             'sink.ssl.cert-path'='{}', 'sink.ssl.key-path'='{}'",
            certs.ca().display(),
            certs.cert("b").display(),
            certs.key("b").display()
        ),
    ));
    connected(&a);
    connected(&b);
    insert(&a, "root.tls.a", "v", 0, 100, 1.0);
    insert(&b, "root.tls.b", "v", 0, 50, 2.0);
    wait_count(&b, "root.tls.a", "v", 100);
    wait_count(&a, "root.tls.b", "v", 50);
    let shown = b.rows("SHOW PIPE BA").unwrap();
    assert!(
        shown[0][5].contains("sink.ssl.trust-store-pwd=******"),
        "{shown:?}"
    );
}

#[test]
fn t151_a_pipe_trusting_another_ca_never_delivers() {
    let certs = Certs::make(&["a", "b"]);
    let other = Certs::make(&["x"]);
    let a = Node::start_with_config(&certs.config("a", ""));
    let b = Node::start_with_config(&certs.config("b", ""));
    insert(&a, "root.tls.a", "v", 0, 10, 1.0);
    a.sql(&tls_pipe(
        "AB",
        b.rpc.port(),
        &format!(
            "'sink'='iotdb-thrift-ssl-sink', 'sink.ssl.trust-store-path'='{}'",
            other.ca().display()
        ),
    ));
    let why = stopped_with(&a, "AB", "certificate verification failed");
    assert!(why.contains(&other.ca().display().to_string()), "{why}");
    assert_eq!(count(&b, "root.tls.a", "v"), 0, "nothing delivered");
    assert_eq!(b.peer_changes_applied(), 0);
}

#[test]
fn t152_a_plain_pipe_to_a_node_that_requires_tls_is_refused() {
    let certs = Certs::make(&["b"]);
    let a = Node::start();
    let mut b = Node::start_with_config(&certs.config("b", ""));
    insert(&a, "root.plain.a", "v", 0, 10, 1.0);
    a.sql(&duet_tests::pipe_sql("AB", b.rpc.port()));
    let why = stopped_with(&a, "AB", "pipes over TLS only");
    assert!(why.contains("sink.ssl.enable"), "{why}");
    assert_eq!(count(&b, "root.plain.a", "v"), 0, "nothing applied");
    assert_eq!(b.peer_changes_applied(), 0);
    b.terminate();
    let log = b.log();
    assert!(
        log.contains("WARN") && log.contains("pipes over TLS only"),
        "{log}"
    );
}

#[test]
fn t153_a_tls_pipe_without_a_client_certificate_is_refused() {
    let certs = Certs::make(&["b"]);
    // A has no [tls]: its TLS sink trusts B's CA but has no certificate.
    let a = Node::start();
    let b = Node::start_with_config(&certs.config("b", ""));
    insert(&a, "root.nocert.a", "v", 0, 10, 1.0);
    a.sql(&tls_pipe(
        "AB",
        b.rpc.port(),
        &format!(
            "'sink'='iotdb-thrift-sink', 'sink.ssl.enable'='true', 'sink.ssl.trust-store-path'='{}'",
            certs.ca().display()
        ),
    ));
    stopped_with(&a, "AB", "presented none");
    assert_eq!(count(&b, "root.nocert.a", "v"), 0, "nothing applied");
}

#[test]
fn t154_ssl_parameters_are_checked_at_create() {
    let certs = Certs::make(&["a"]);
    let a = Node::start_with_config(&certs.config("a", ""));
    let mut s = a.session();
    for (sink, needle) in [
        (
            "'sink'='iotdb-thrift-ssl-sink', 'sink.ssl.key-store-path'='x'".to_string(),
            "unknown sink parameter 'sink.ssl.key-store-path'",
        ),
        (
            "'sink'='iotdb-thrift-ssl-sink', 'sink.ssl.trust-store-path'='/nonexistent/ca.pem'"
                .to_string(),
            "/nonexistent/ca.pem",
        ),
        (
            format!(
                "'sink'='iotdb-thrift-ssl-sink', 'sink.ssl.cert-path'='{}'",
                certs.cert("a").display()
            ),
            "sink.ssl.key-path",
        ),
    ] {
        let e = s
            .execute(&tls_pipe("P", 6667, &sink))
            .err()
            .expect("refused");
        assert!(e.to_string().contains(needle), "{sink}: {e}");
    }
    assert!(a.pipes().is_empty(), "nothing half-created");
}

#[test]
fn t155_a_client_certificate_from_another_ca_is_refused_by_the_peer() {
    let certs = Certs::make(&["b"]);
    let other = Certs::make(&["a"]);
    let a = Node::start();
    let b = Node::start_with_config(&certs.config("b", ""));
    insert(&a, "root.othercert.a", "v", 0, 10, 1.0);
    // A trusts B's CA, but presents a certificate B's CA did not sign.
    a.sql(&tls_pipe(
        "AB",
        b.rpc.port(),
        &format!(
            "'sink'='iotdb-thrift-ssl-sink', 'sink.ssl.trust-store-path'='{}', \
             'sink.ssl.cert-path'='{}', 'sink.ssl.key-path'='{}'",
            certs.ca().display(),
            other.cert("a").display(),
            other.key("a").display()
        ),
    ));
    stopped_with(&a, "AB", "refused this side's certificate");
    assert_eq!(count(&b, "root.othercert.a", "v"), 0, "nothing applied");
    assert_eq!(b.peer_changes_applied(), 0);
}

//! Bad frames close only their own connection; the node keeps serving and
//! its memory stays flat.

use duet_tests::{exec, query, rss_kib, wait_until, Node};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `bytes` on a fresh connection and returns once the server closed it
/// (or after 5 s of silence, for frames it waits to complete).
fn send(node: &Node, bytes: &[u8]) {
    let mut c = TcpStream::connect(node.rpc).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = c.write_all(bytes);
    let mut buf = [0u8; 1024];
    let _ = c.read(&mut buf);
}

#[test]
fn t20_garbage_truncated_and_huge_frames() {
    let node = Node::start();
    let mut s = node.session();
    exec(&mut s, "INSERT INTO root.f.d(time, v) VALUES (1, 1)");
    let base = rss_kib(node.pid());

    let mut seed = 0x1234_5678_u64;
    for i in 0..40 {
        let mut junk = Vec::new();
        for _ in 0..(64 + i * 13) {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            junk.push((seed >> 56) as u8);
        }
        send(&node, &junk); // random bytes (random length prefix)
    }
    // A 2 GiB declared length: refused before anything is allocated.
    send(&node, &[0x7f, 0xff, 0xff, 0xff, 0x80, 0x01]);
    // Negative and zero lengths.
    send(&node, &[0xff, 0xff, 0xff, 0xff]);
    send(&node, &[0, 0, 0, 0]);
    // A valid length with a truncated body, then the connection closes.
    {
        let mut c = TcpStream::connect(node.rpc).unwrap();
        c.write_all(&[0, 0, 0, 100, 0x80, 0x01, 0x00]).unwrap();
    }
    // A well-framed message that is not thrift.
    send(&node, &[0, 0, 0, 4, b'H', b'T', b'T', b'P']);
    // Thrift binary call to an unknown method: an exception reply, connection kept.
    {
        let mut msg = vec![0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4];
        msg.extend_from_slice(b"nope");
        msg.extend_from_slice(&[0, 0, 0, 1, 0]); // seq id, STOP
        let mut frame = (msg.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&msg);
        let mut c = TcpStream::connect(node.rpc).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(&frame).unwrap();
        let mut len = [0u8; 4];
        c.read_exact(&mut len)
            .expect("an exception reply, not a closed connection");
    }

    // The node still serves, the good session included.
    assert_eq!(query(&mut s, "SELECT v FROM root.f.d").unwrap().len(), 1);
    assert_eq!(
        query(&mut node.session(), "SELECT v FROM root.f.d")
            .unwrap()
            .len(),
        1
    );
    let after = rss_kib(node.pid());
    assert!(
        after < base + 64 * 1024,
        "memory grew from {base} KiB to {after} KiB"
    );
    let (_, metrics) = node.http_get("/metrics");
    let rejected: f64 = metrics
        .lines()
        .find(|l| l.starts_with("duet_rpc_frames_rejected_total"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(rejected >= 3.0, "rejected frames are counted: {metrics}");
}

#[test]
fn t21_a_silent_connection_does_not_block_others() {
    let node = Node::start();
    let silent: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(node.rpc).unwrap())
        .collect();
    // Half a frame, then nothing.
    let mut half = TcpStream::connect(node.rpc).unwrap();
    half.write_all(&[0, 0, 1, 0, 0x80]).unwrap();
    let mut s = wait_until(
        Duration::from_secs(10),
        "a session while others hang",
        || node.session_as("root", "root").map_err(|e| e.to_string()),
    );
    exec(&mut s, "INSERT INTO root.f.d(time, v) VALUES (1, 1)");
    assert_eq!(query(&mut s, "SELECT v FROM root.f.d").unwrap().len(), 1);
    drop(silent);
}

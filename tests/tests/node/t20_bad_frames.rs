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

/// Each bad frame, on its own connection, goes through the server's frame
/// reader: the connection is closed at once (an end of stream well before
/// any timeout) and `duet_rpc_frames_rejected_total` moves by exactly one.
#[test]
fn t22_each_bad_frame_closes_at_once_and_counts_once() {
    let node = Node::start();
    let rejected = || node.metric("duet_rpc_frames_rejected_total").unwrap_or(0.0);
    for (what, bytes) in [
        ("a 2 GiB length", vec![0x7f, 0xff, 0xff, 0xff, 0x80, 0x01]),
        ("a negative length", vec![0xff, 0xff, 0xff, 0xff]),
        ("a zero length", vec![0, 0, 0, 0]),
        (
            "a length over the login limit",
            vec![0, 1, 0, 0, 0x80, 0x01],
        ),
        (
            "a frame that is not thrift",
            vec![0, 0, 0, 4, b'H', b'T', b'T', b'P'],
        ),
    ] {
        let before = rejected();
        let mut c = TcpStream::connect(node.rpc).unwrap();
        c.write_all(&bytes).unwrap();
        assert!(
            duet_tests::closed_by_server(&mut c, Duration::from_secs(3)),
            "{what}: closed at once"
        );
        assert_eq!(rejected(), before + 1.0, "{what}: counted once");
    }
}

/// Forty logged-in connections each declare a frame just under
/// `rpc.max_frame_bytes` (64 MiB) and send 1 MiB of it: the node holds
/// what arrived, not what was declared, and keeps serving.
#[test]
fn t23_half_sent_frames_cost_what_arrived() {
    let node = Node::start();
    let base = rss_kib(node.pid());
    let mut held = Vec::new();
    for _ in 0..40 {
        let stream = TcpStream::connect(node.rpc).unwrap();
        let mut c = duet_tests::raw_client(&stream);
        duet_tests::raw_login(&mut c);
        let mut w = stream.try_clone().unwrap();
        w.write_all(&((64u32 << 20) - 1).to_be_bytes()).unwrap();
        w.write_all(&[0x80, 0x01]).unwrap();
        w.write_all(&vec![0u8; 1 << 20]).unwrap();
        held.push((stream, c));
    }
    let grown = wait_until(Duration::from_secs(10), "the bytes to arrive", || {
        let now = rss_kib(node.pid());
        if now > base + 20 * 1024 {
            Ok(now - base)
        } else {
            Err(format!("{} KiB more", now.saturating_sub(base)))
        }
    });
    assert!(
        grown < 200 * 1024,
        "40 MiB arrived; the node grew by {grown} KiB"
    );
    let mut s = node.session();
    exec(&mut s, "SHOW VERSION");
    drop(held);
}

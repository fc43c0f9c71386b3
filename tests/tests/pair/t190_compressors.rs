//! Sink compressors as IoTDB names them (`sink.compressor`): each of
//! snappy, gzip, lz4 and zstd, and a chain, carries realistic tablets to the
//! peer complete, and the pipe sent fewer bytes than its batches held before
//! compression (`duet_pipe_bytes_sent_total` against
//! `duet_pipe_raw_bytes_sent_total`), so a compressor that is silently
//! ignored fails here. Without one, the two figures agree to the header
//! byte. Bad values are refused and create nothing.

use crate::{count, WAIT};
use duet_rpc::column::Column;
use duet_rpc::insert::Tablet;
use duet_tests::{wait_until, Node};

const DEVICE: &str = "root.plant.line1";
const TABLETS: i64 = 5;
const ROWS: i64 = 1000;

/// Five 1 000-row tablets of a plant sensor: a temperature with one
/// decimal that wanders, a status code that seldom changes, a state word.
fn write_tablets(node: &Node) {
    let mut s = node.session();
    let mut seed = 7u64;
    let mut temperature = 200i64;
    for k in 0..TABLETS {
        let t0 = 1_700_000_000_000 + k * ROWS * 1000;
        let rows = 0..ROWS;
        let tablet = Tablet {
            timestamps: rows.clone().map(|i| t0 + i * 1000).collect(),
            columns: vec![
                Column::F64(
                    rows.clone()
                        .map(|_| {
                            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                            temperature += ((seed >> 62) % 3) as i64 - 1;
                            Some(temperature as f64 / 10.0)
                        })
                        .collect(),
                ),
                Column::I64(rows.clone().map(|i| Some(200 + i / 400)).collect()),
                Column::Text(
                    rows.map(|i| Some(if i % 97 == 0 { "WARN" } else { "OK" }.into()))
                        .collect(),
                ),
            ],
        };
        s.insert_tablet(DEVICE, &["temperature", "status", "state"], &tablet)
            .unwrap();
    }
}

/// Pipe AB from a new node to another with these extra sink parameters;
/// waits until B has every point and A's pipe is caught up, and returns
/// A's (bytes sent, bytes before compression).
fn replicate_with(sink_params: &str) -> (f64, f64) {
    let a = Node::start();
    let b = Node::start();
    a.sql(&format!(
        "CREATE PIPE AB WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', \
         'sink.port'='{}'{sink_params})",
        b.rpc.port()
    ));
    // SHOW PIPES prints the definition as given (keys with their prefix).
    let shown = a.rows("SHOW PIPES").unwrap().concat().join(" ");
    for word in sink_params.split('\'').skip(1).step_by(2) {
        assert!(shown.contains(word), "{word} not in {shown}");
    }
    write_tablets(&a);
    wait_until(WAIT, "every point on B", || {
        let counts: Vec<u64> = ["temperature", "status", "state"]
            .iter()
            .map(|m| count(&b, DEVICE, m))
            .collect();
        if counts.iter().all(|&c| c == (TABLETS * ROWS) as u64) {
            Ok(())
        } else {
            Err(format!("{counts:?}; pipes {:?}", a.pipes()))
        }
    });
    wait_until(WAIT, "pipe AB caught up", || match a.pipes().as_slice() {
        [p] if p.1 == "RUNNING" && p.3 == 0 => Ok(()),
        p => Err(format!("{p:?}")),
    });
    assert_eq!(
        b.rows(&format!("SELECT * FROM {DEVICE}")).unwrap(),
        a.rows(&format!("SELECT * FROM {DEVICE}")).unwrap(),
        "values arrive as written"
    );
    let sent = a.metric("duet_pipe_bytes_sent_total{pipe=\"AB\"}").unwrap();
    let raw = a
        .metric("duet_pipe_raw_bytes_sent_total{pipe=\"AB\"}")
        .unwrap();
    // Events carry encoded chunks (realtime and history alike, so the sum
    // varies with how the writes fell), but no point takes under a byte:
    // the figures are about these batches, not an empty pipe's.
    assert!(raw > (TABLETS * ROWS * 3) as f64, "raw {raw}");
    (sent, raw)
}

/// The compressor must have shrunk the batches to under `max_ratio`.
fn compressed(sink_params: &str, max_ratio: f64) {
    let (sent, raw) = replicate_with(sink_params);
    println!(
        "{sink_params}: {sent} bytes sent for {raw} raw ({:.3})",
        sent / raw
    );
    assert!(
        sent < raw * max_ratio,
        "{sink_params}: {sent} bytes sent for {raw} raw: not compressed"
    );
}

#[test]
fn t190_without_a_compressor_the_batches_go_as_they_are() {
    let (sent, raw) = replicate_with("");
    assert!(sent > raw, "{sent} bytes sent for {raw} raw");
    assert!(sent < raw * 1.01, "{sent} bytes sent for {raw} raw");
}

#[test]
fn t191_snappy() {
    compressed(", 'sink.compressor'='snappy'", 0.7);
}

#[test]
fn t192_gzip() {
    compressed(", 'sink.compressor'='gzip'", 0.5);
}

#[test]
fn t193_lz4() {
    compressed(", 'sink.compressor'='lz4'", 0.7);
}

/// IoTDB's docs write the keys bare; the level is kept in SHOW PIPES.
#[test]
fn t194_zstd_at_a_level() {
    compressed(", 'compressor'='zstd', 'compressor.zstd.level'='9'", 0.5);
}

/// Applied in the order written; the receiver undoes lz4, then snappy.
#[test]
fn t195_a_chain() {
    compressed(", 'sink.compressor'='snappy,lz4'", 0.7);
}

#[test]
fn t196_a_bad_compressor_or_level_creates_nothing() {
    let a = Node::start();
    let mut s = a.session();
    for (params, words) in [
        (
            "'sink.compressor'='brotli'",
            &["'sink.compressor'", "brotli", "snappy, gzip, lz4, zstd"][..],
        ),
        (
            "'sink.compressor'='snappy,,lz4'",
            &["'sink.compressor'", "empty name"],
        ),
        (
            "'sink.compressor'='zstd', 'sink.compressor.zstd.level'='23'",
            &["'sink.compressor.zstd.level'", "-131072 to 22"],
        ),
    ] {
        let e = s
            .execute(&format!(
                "CREATE PIPE AB WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', \
                 'sink.port'='6667', {params})"
            ))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| format!("{params} was accepted"));
        assert!(words.iter().all(|w| e.contains(w)), "{params}: {e}");
    }
    assert!(a.pipes().is_empty(), "{:?}", a.pipes());
}

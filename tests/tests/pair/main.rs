//! Two nodes kept in sync by pipes: the deployment guide end to end, no
//! loops, conflicts, breakpoint recovery after kill -9, link faults,
//! refusals and log trimming. Real processes; waits have deadlines.

mod t100_memory;
mod t10_guide;
mod t110_write_modes;
mod t120_dual_read;
mod t130_failover;
mod t140_operator_logs;
mod t150_tls;
mod t160_deploy;
mod t170_types;
mod t175_alter_pipe;
mod t176_pattern_vs_path;
mod t177_snapshot;
mod t178_users;
mod t180_processors;
mod t182_labels;
mod t183_ttl;
mod t190_compressors;
mod t20_no_loops;
mod t30_conflicts;
mod t40_recovery;
mod t50_link_faults;
mod t60_refusals;
mod t70_trim;
mod t80_two_pipes;
mod t85_large_batches;
mod t90_restore;
mod t95_clock_skew;

use duet_tests::{pipe_sql, wait_until, Node};
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(60);

/// Two nodes with pipes AB and BA (double-living).
pub fn pair() -> (Node, Node) {
    let a = Node::start();
    let b = Node::start();
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    connected(&a);
    connected(&b);
    (a, b)
}

/// Waits until every pipe of `n` is running, connected and caught up (its
/// history transfer done), so later writes travel as realtime events.
pub fn connected(n: &Node) {
    wait_until(WAIT, "pipes connected and caught up", || {
        let pipes = n.pipes();
        let peers = n.rows("SHOW CLUSTER").map_err(|e| e.to_string())?;
        let running_peers = peers
            .iter()
            .filter(|r| r[6] == "peer" && r[2] == "Running")
            .count();
        if !pipes.is_empty()
            && pipes.iter().all(|p| p.1 == "RUNNING" && p.3 == 0)
            && running_peers >= 1
        {
            Ok(())
        } else {
            Err(format!("{pipes:?} {peers:?}"))
        }
    });
}

/// `count(m)` of a device on a node (0 while the series does not exist).
pub fn count(n: &Node, device: &str, m: &str) -> u64 {
    n.rows(&format!("SELECT count({m}) FROM {device}"))
        .ok()
        .and_then(|r| r.first().and_then(|row| row.first().cloned()))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn wait_count(n: &Node, device: &str, m: &str, expected: u64) {
    wait_until(WAIT, &format!("{expected} points of {device}.{m}"), || {
        let c = count(n, device, m);
        if c == expected {
            Ok(())
        } else {
            Err(format!("{c} points"))
        }
    });
}

/// Every (time, value) of a series, as text.
pub fn points(n: &Node, device: &str, m: &str) -> Vec<Vec<String>> {
    n.rows(&format!("SELECT {m} FROM {device}"))
        .unwrap_or_default()
}

/// Inserts `rows` points `start..start+rows` (value = time * mul) into device.m.
pub fn insert(n: &Node, device: &str, m: &str, start: i64, rows: i64, mul: f64) {
    let values: Vec<String> = (start..start + rows)
        .map(|t| format!("({t}, {})", t as f64 * mul))
        .collect();
    for chunk in values.chunks(1000) {
        n.sql(&format!(
            "INSERT INTO {device}(time, {m}) VALUES {}",
            chunk.join(", ")
        ));
    }
}

/// `rows` TEXT values of `len` bytes each (value i = the digit i % 10
/// repeated), in one tablet.
pub fn text_tablet(node: &Node, device: &str, rows: usize, len: usize) {
    let tablet = duet_rpc::insert::Tablet {
        timestamps: (0..rows as i64).collect(),
        columns: vec![duet_rpc::column::Column::Text(
            (0..rows)
                .map(|i| Some(vec![b'0' + (i % 10) as u8; len]))
                .collect(),
        )],
    };
    node.session()
        .insert_tablet(device, &["v"], &tablet)
        .unwrap();
}

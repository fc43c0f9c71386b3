//! The memory budget holds for a node at work, not only for RocksDB: writers
//! on several connections, a backlog its pipe catches up on, and large
//! queries at once. glibc's malloc kept freed memory in one arena per
//! contending thread (up to 8 per core); with them a node went well over
//! its budget (see `duet_server::memory`).

use crate::{count, WAIT};
use duet_rpc::column::Column;
use duet_rpc::insert::Tablet;
use duet_tests::{pipe_sql, wait_until, Node};

const BUDGET_MB: u64 = 128;
const WRITERS: usize = 6;
const TABLETS: i64 = 80;

/// `TABLETS` tablets of 10 sensors x 1 000 rows at 1 kHz into
/// `root.mem.w<writer>`, from `round` on.
fn write(node: &Node, writer: usize, round: i64) {
    let mut s = node.session();
    let names: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    for k in round * TABLETS..(round + 1) * TABLETS {
        let tablet = Tablet {
            timestamps: (k * 1_000..(k + 1) * 1_000).collect(),
            columns: (0..10)
                .map(|c| Column::F64((0..1_000).map(|r| Some((r * c + k) as f64)).collect()))
                .collect(),
        };
        s.insert_tablet(&format!("root.mem.w{writer}"), &names, &tablet)
            .unwrap();
    }
}

/// Whole devices read back, page after page, until `stop`.
fn query(node: &Node, stop: &std::sync::atomic::AtomicBool) -> usize {
    let mut s = node.session();
    let mut rows = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        for w in 0..WRITERS {
            rows += duet_tests::query(&mut s, &format!("SELECT * FROM root.mem.w{w}"))
                .unwrap()
                .len();
        }
    }
    rows
}

/// The largest RSS the process had (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib >> 10
}

/// One round: every writer at once, with queries running beside them.
fn round(a: &Node, round: i64) -> usize {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| query(a, &stop));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| scope.spawn(move || write(a, w, round)))
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap()
    })
}

#[test]
fn t100_a_node_stays_within_its_memory_budget_under_ingest_catch_up_and_queries() {
    let a = Node::start_with_config(&format!("[storage]\nmemory_budget_mb = {BUDGET_MB}\n"));
    let mut b = Node::start();
    for w in 0..WRITERS {
        for i in 0..10 {
            a.sql(&format!(
                "CREATE TIMESERIES root.mem.w{w}.s{i} WITH DATATYPE=DOUBLE"
            ));
        }
    }
    a.sql(&pipe_sql("AB", b.rpc.port()));
    crate::connected(&a);
    // B is away while A takes writes and queries: a backlog builds up.
    b.kill9();
    let read_first = round(&a, 0);
    // B is back: the pipe catches up while the writers and queries go on.
    b.restart();
    let read_then = round(&a, 1);
    assert!(read_first > 0 && read_then > 0, "the queries returned rows");
    let per_writer = (2 * TABLETS * 1_000) as u64;
    for w in 0..WRITERS {
        wait_until(WAIT, "every point on B", || {
            match count(&b, &format!("root.mem.w{w}"), "s9") {
                n if n == per_writer => Ok(()),
                n => Err(format!("w{w}: {n} of {per_writer}; pipes {:?}", a.pipes())),
            }
        });
    }
    let peak = peak_rss_mib(a.pid());
    eprintln!("t100: peak RSS {peak} MiB with a {BUDGET_MB} MiB budget");
    assert!(
        peak <= BUDGET_MB + 64,
        "RSS peaked at {peak} MiB with a {BUDGET_MB} MiB budget"
    );
}

//! Requests larger than the peer reads. Each node has its own
//! `rpc.max_frame_bytes`; a sender that ignores the peer's would retry the
//! same too-large batch forever while SHOW PIPES says RUNNING. The receiver
//! announces its limit at the handshake and the sender cuts events to fit,
//! in history transfers and in realtime; what cannot be cut (one value
//! larger than the limit) is left out and named in the sender's conflict
//! log, and the pipe goes on (a pipe never stops on data).

use crate::{count, text_tablet, WAIT};
use duet_tests::{pipe_sql, wait_until, Node};

const PEER_LIMIT: usize = 1 << 20;

/// A node reading at most `PEER_LIMIT` bytes per request, and its
/// configuration file (rewrite it and restart to change the limit).
fn small_frames() -> (Node, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("b.toml");
    std::fs::write(&conf, format!("[rpc]\nmax_frame_bytes = {PEER_LIMIT}\n")).unwrap();
    (Node::start_with(&["--config", conf.to_str().unwrap()]), dir)
}

/// Every value of `device.v` has the length and digit it was written with.
fn values_intact(node: &Node, device: &str, len: usize) -> Result<(), String> {
    let rows = node.rows(&format!("SELECT v FROM {device}"))?;
    for r in &rows {
        let t: usize = r[0].parse().map_err(|_| format!("{r:?}"))?;
        let digit = (b'0' + (t % 10) as u8) as char;
        if r[1].len() != len || !r[1].chars().all(|c| c == digit) {
            return Err(format!("time {t}: {} bytes", r[1].len()));
        }
    }
    Ok(())
}

#[test]
fn t85_events_larger_than_the_peers_frames_are_cut_to_fit() {
    let a = Node::start();
    let (b, _conf) = small_frames();
    // 4 MB of history and then 4 MB in one realtime event, each 4x B's limit.
    text_tablet(&a, "root.big.hist", 1000, 4000);
    a.sql(&pipe_sql("AB", b.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    crate::connected(&a);
    text_tablet(&a, "root.big.rt", 1000, 4000);
    for device in ["root.big.hist", "root.big.rt"] {
        wait_until(WAIT, &format!("{device} complete on B"), || {
            match count(&b, device, "v") {
                1000 => Ok(()),
                n => Err(format!("{n} points; pipes {:?}", a.pipes())),
            }
        });
        values_intact(&b, device, 4000).unwrap();
    }
    // The event's mark moved once its last piece arrived: B applied the
    // realtime event once, and the pipe is idle and running.
    crate::connected(&a);
}

#[test]
fn t86_a_value_larger_than_the_peer_reads_is_named_and_the_pipe_goes_on() {
    let a = Node::start();
    let (mut b, conf) = small_frames();
    a.sql(&pipe_sql("AB", b.rpc.port()));
    crate::connected(&a);
    // One point of twice B's limit, then ordinary points after it.
    text_tablet(&a, "root.big.one", 1, 2 * PEER_LIMIT);
    text_tablet(&a, "root.big.after", 100, 10);
    wait_until(WAIT, "the points after it on B", || {
        match count(&b, "root.big.after", "v") {
            100 => Ok(()),
            n => Err(format!("{n} points; pipes {:?}", a.pipes())),
        }
    });
    assert_eq!(
        count(&b, "root.big.one", "v"),
        0,
        "the large point is not on B"
    );
    let conflicts = a.rows("SHOW CONFLICTS").unwrap();
    let named = conflicts
        .iter()
        .find(|r| r.iter().any(|f| f == "root.big.one.v"))
        .unwrap_or_else(|| panic!("no conflict names root.big.one.v: {conflicts:?}"));
    let text = named.join(" ");
    assert!(
        text.contains("too-large")
            && text.contains("rpc.max_frame_bytes")
            && text.contains("at time 0"),
        "{text}"
    );
    assert_eq!(a.metric("duet_conflicts"), Some(1.0));
    // The pipe runs on, caught up, holding nothing in memory.
    crate::connected(&a);
    wait_until(WAIT, "the pipe to hold no events", || {
        match a.metric("duet_pipe_buffered_bytes{pipe=\"AB\"}") {
            Some(0.0) => Ok(()),
            b => Err(format!("{b:?}")),
        }
    });
    // Made again, the pipe sends its history and reads the large point
    // again: still left out, and still named once.
    a.sql("DROP PIPE AB");
    a.sql(&pipe_sql("AB", b.rpc.port()));
    wait_until(WAIT, "a history transfer", || {
        match a.metric("duet_pipe_history_transfers_total{pipe=\"AB\"}") {
            Some(n) if n >= 1.0 => Ok(()),
            n => Err(format!("{n:?}")),
        }
    });
    text_tablet(&a, "root.big.later", 10, 10);
    wait_until(
        WAIT,
        "the points written after the history on B",
        || match count(&b, "root.big.later", "v") {
            10 => Ok(()),
            n => Err(format!("{n} points; pipes {:?}", a.pipes())),
        },
    );
    crate::connected(&a);
    assert_eq!(count(&b, "root.big.one", "v"), 0);
    assert_eq!(
        a.metric("duet_conflicts"),
        Some(1.0),
        "{:?}",
        a.rows("SHOW CONFLICTS")
    );

    // The operator raises B's limit and replays the record by its id
    // (SHOW CONFLICTS: Id, FirstTime, LastTime after Detail): the point
    // arrives whole, and nothing is recorded again.
    let record = a.rows("SHOW CONFLICTS").unwrap().remove(0);
    assert_eq!(&record[7..], ["1", "0", "0"], "{record:?}");
    std::fs::write(
        conf.path().join("b.toml"),
        format!("[rpc]\nmax_frame_bytes = {}\n", 8 * PEER_LIMIT),
    )
    .unwrap();
    b.restart();
    // The pipe knows the new limit once it sent to the new process.
    text_tablet(&a, "root.big.after_restart", 10, 10);
    wait_until(WAIT, "a write after the restart on B", || {
        match count(&b, "root.big.after_restart", "v") {
            10 => Ok(()),
            n => Err(format!("{n} points; pipes {:?}", a.pipes())),
        }
    });
    let replayed = a.rows("REPLAY CONFLICT 1").unwrap();
    assert_eq!(replayed, [["1", "1"]]);
    wait_until(WAIT, "the replayed point on B", || {
        match count(&b, "root.big.one", "v") {
            1 => Ok(()),
            n => Err(format!("{n} points; pipes {:?}", a.pipes())),
        }
    });
    values_intact(&b, "root.big.one", 2 * PEER_LIMIT).unwrap();
    crate::connected(&a);
    assert_eq!(a.metric("duet_conflicts"), Some(1.0));
    // An id that does not exist, and a statement that is not one.
    let e = a.rows("REPLAY CONFLICT 42").unwrap_err();
    assert!(e.contains("conflict 42 does not exist"), "{e}");
    assert!(a.rows("REPLAY CONFLICT x").is_err());
}

//! With both pipes running and writes on both sides, each point exists once
//! on each node and the change logs stop growing.

use crate::{count, pair, WAIT};
use duet_tests::wait_until;

#[test]
fn t20_no_loops_no_duplicates() {
    let (a, b) = pair();
    let writers: Vec<_> = [(&a, "root.loop.a"), (&b, "root.loop.b")]
        .into_iter()
        .map(|(node, device)| {
            let port = node.rpc.port();
            let device = device.to_string();
            std::thread::spawn(move || {
                let n = duet_tests::NodeRef::new(port);
                for i in 0..100i64 {
                    n.sql(&format!("INSERT INTO {device}(time, v) VALUES ({i}, {i})"));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    // 100 events originated on each side: each log holds exactly 200.
    for n in [&a, &b] {
        wait_until(WAIT, "both logs at 200 events", || {
            let s = n.log_last_seq();
            if s == 200 {
                Ok(())
            } else {
                Err(format!("last_seq {s}"))
            }
        });
        assert_eq!(count(n, "root.loop.a", "v"), 100);
        assert_eq!(count(n, "root.loop.b", "v"), 100);
    }
    // Caught up on both sides, and nothing more arrives.
    for n in [&a, &b] {
        wait_until(WAIT, "pipes caught up", || {
            let p = n.pipes();
            if p.iter().all(|x| x.3 == 0 && x.1 == "RUNNING") {
                Ok(())
            } else {
                Err(format!("{p:?}"))
            }
        });
    }
    assert_eq!(
        (a.log_last_seq(), b.log_last_seq()),
        (200, 200),
        "the logs stopped growing"
    );
}

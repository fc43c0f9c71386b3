//! The change-log conformance suite against the RocksDB-backed log, plus what
//! only a durable log has: positions and trimming survive a restart.

use duet_engine::changelog::conformance::{run_all, Harness};
use duet_engine::{ChangeLog, Column, Engine, EngineOptions, WriteSeries};
use std::sync::Arc;

struct Rocks {
    _dir: tempfile::TempDir,
    engine: Engine,
}

impl Harness for Rocks {
    fn log(&self) -> &dyn ChangeLog {
        &self.engine
    }
    fn append(&self, i: u64) -> u64 {
        let w = WriteSeries {
            path: format!("root.sg.d{}.s", i % 3),
            times: vec![i as i64],
            values: Column::I64(vec![i as i64]),
        };
        self.engine.write(vec![w]).expect("insert")
    }
}

fn fresh() -> Rocks {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(dir.path(), EngineOptions::default()).expect("open");
    Rocks { _dir: dir, engine }
}

#[test]
fn rocksdb_log_conforms() {
    run_all(fresh);
}

#[test]
fn log_positions_and_floor_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let write = |e: &Engine, t: i64| {
        e.write(vec![WriteSeries {
            path: "root.sg.d.s".into(),
            times: vec![t],
            values: Column::F64(vec![t as f64]),
        }])
        .unwrap()
    };
    let (node, cluster) = {
        let e = Engine::open(dir.path(), EngineOptions::default()).unwrap();
        for t in 0..10 {
            write(&e, t);
        }
        assert_eq!(e.trim_below(4).unwrap(), 3);
        (e.node_id(), e.cluster_id().to_string())
    };
    let e = Engine::open(dir.path(), EngineOptions::default()).unwrap();
    assert_eq!(
        (e.node_id(), e.cluster_id()),
        (node, cluster.as_str()),
        "identity is kept"
    );
    assert_eq!(e.first_seq(), 4);
    assert_eq!(e.last_seq(), 10);
    assert_eq!(write(&e, 10), 11, "sequences continue after restart");
    let versions: Vec<u64> = e
        .read(4, 100, usize::MAX)
        .unwrap()
        .iter()
        .map(|x| x.header().unwrap().version.hlc)
        .collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "the clock never goes back across a restart"
    );

    // Trimming everything, then restarting, keeps the position.
    e.trim_below(1_000).unwrap();
    drop(e);
    let e = Engine::open(dir.path(), EngineOptions::default()).unwrap();
    assert_eq!((e.first_seq(), e.last_seq()), (12, 11));
    assert_eq!(write(&e, 11), 12);
}

#[test]
fn subscribers_see_the_last_sequence() {
    let h = Arc::new(fresh());
    let mut rx = h.engine.subscribe();
    h.append(1);
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), 1);
}

#[test]
fn ensure_durable_syncs_once_per_new_position() {
    let h = fresh();
    let seq = h.append(1);
    assert!(
        h.engine.ensure_durable(seq).unwrap(),
        "a new event needs a sync"
    );
    assert!(!h.engine.ensure_durable(seq).unwrap(), "then it is durable");
    let next = h.append(2);
    assert!(h.engine.ensure_durable(next).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let fsync = Engine::open(
        dir.path(),
        EngineOptions {
            durability: duet_engine::Durability::Fsync,
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let s = fsync
        .write(vec![WriteSeries {
            path: "root.a.b.c".into(),
            times: vec![1],
            values: Column::I64(vec![1]),
        }])
        .unwrap();
    assert!(
        !fsync.ensure_durable(s).unwrap(),
        "fsync mode: every write is durable already"
    );
}

//! Benchmarks. `benches/engine.rs` holds the criterion benches of the hot
//! paths (chunk codec and merge, ingest, range scans) next to raw RocksDB
//! baselines over the same points; the end-to-end `duet-bench` load
//! generator joins this crate with the server.

use duet_engine::{Column, Engine, EngineOptions, WriteSeries};

/// An engine in a temporary directory.
pub fn temp_engine(opts: EngineOptions) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(dir.path(), opts).expect("open engine");
    (dir, engine)
}

/// Spacing of benchmark points: one per second, as an IoT sensor writes.
pub const STEP_MS: i64 = 1000;

/// `n` points of one series starting at `t0`, [`STEP_MS`] apart, as a tablet.
pub fn tablet(path: &str, t0: i64, n: usize) -> WriteSeries {
    let times: Vec<i64> = (0..n as i64).map(|i| t0 + i * STEP_MS).collect();
    let values = Column::F64(times.iter().map(|&t| (t % 1000) as f64 * 0.5).collect());
    WriteSeries {
        path: path.to_string(),
        times,
        values,
    }
}

//! Runs every `.slt` file under `tests/slt/` against a fresh in-process node.

use duet_engine::{Engine, EngineOptions};
use duet_executor::{Executor, NodeInfo, Output, Session};
use sqllogictest::{DBOutput, DefaultColumnType};
use std::sync::Arc;

struct SltDb {
    _dir: tempfile::TempDir,
    exec: Executor,
    session: Session,
}

impl SltDb {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine =
            Arc::new(Engine::open(dir.path(), EngineOptions::default()).expect("open engine"));
        SltDb {
            exec: Executor::new(engine, NodeInfo::default()),
            session: Session::default(),
            _dir: dir,
        }
    }
}

impl sqllogictest::DB for SltDb {
    type Error = duet_executor::ExecError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Self::Error> {
        match self.exec.execute_sql(&self.session, sql)? {
            Output::Done => Ok(DBOutput::StatementComplete(0)),
            Output::SetReadMode(mode) => {
                self.session.read_mode = mode;
                Ok(DBOutput::StatementComplete(0))
            }
            Output::SetQueryTimeout(ms) => {
                self.session.query_timeout_ms = ms;
                Ok(DBOutput::StatementComplete(0))
            }
            Output::Rows(rs) => {
                let width = rs.columns.len() + rs.has_time as usize;
                let mut rows = Vec::new();
                for row in rs.rows {
                    let row = row?;
                    let mut out: Vec<String> =
                        row.time.map(|t| t.to_string()).into_iter().collect();
                    out.extend(
                        row.values
                            .iter()
                            .map(|v| v.as_ref().map_or("NULL".to_string(), |v| v.to_string())),
                    );
                    rows.push(out);
                }
                Ok(DBOutput::Rows {
                    types: vec![DefaultColumnType::Any; width],
                    rows,
                })
            }
        }
    }
}

#[test]
fn slt_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/slt")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "slt"));
    files.sort();
    assert!(!files.is_empty(), "no .slt files found");
    let mut failures = Vec::new();
    for f in &files {
        let mut runner = sqllogictest::Runner::new(|| async { Ok(SltDb::new()) });
        runner.with_column_validator(|_, _| true);
        if let Err(e) = runner.run_file(f) {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} .slt file(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

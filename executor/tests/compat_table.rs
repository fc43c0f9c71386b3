//! docs/iotdb-compatibility.md cannot drift from the code: every key a
//! stage accepts has a `same`, `different` or `duet` row, every IoTDB key
//! Duet refuses (`pipe_compat::NOT_IN_DUET`) a `refused` row, no row names
//! a key the code does not know, and each refused key really is refused
//! with the key named and the reason.

use duet_executor::pipe_compat::{why_not, NOT_IN_DUET};
use duet_executor::pipes::{accepted_keys, validate};
use std::collections::BTreeMap;

/// (stage, key) -> status, from the key tables.
fn rows() -> BTreeMap<(String, String), String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/iotdb-compatibility.md");
    let text = std::fs::read_to_string(path).expect("docs/iotdb-compatibility.md");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | stage | `key` | status | notes |
        if cells.len() < 5 || !["source", "processor", "sink"].contains(&cells[1]) {
            continue;
        }
        let key = cells[2].trim_matches('`').to_string();
        let before = out.insert((cells[1].to_string(), key.clone()), cells[3].to_string());
        assert!(before.is_none(), "{} {key} has two rows", cells[1]);
    }
    out
}

#[test]
fn the_compatibility_table_matches_the_code() {
    let rows = rows();
    assert!(rows.len() > 90, "{} rows", rows.len());
    for stage in ["source", "processor", "sink"] {
        for key in accepted_keys(stage) {
            let status = rows
                .get(&(stage.to_string(), key.to_string()))
                .unwrap_or_else(|| panic!("{stage} key {key} is accepted but not in the table"));
            assert!(
                ["same", "different", "duet"].contains(&status.as_str()),
                "{stage} {key} is accepted but the table says {status}"
            );
        }
    }
    for (stage, key, _) in NOT_IN_DUET {
        assert_eq!(
            rows.get(&(stage.to_string(), key.to_string()))
                .map(String::as_str),
            Some("refused"),
            "{stage} {key} is refused by the code"
        );
    }
    for ((stage, key), status) in &rows {
        let known = accepted_keys(stage).contains(&key.as_str())
            || why_not(stage, key.trim_end_matches('*')).is_some()
            || (key == "opcua.*" && why_not(stage, "opcua.model").is_some());
        assert!(
            known,
            "{stage} {key} ({status}) is in the table but not in the code"
        );
        if status == "refused" {
            let probe = if key == "opcua.*" {
                "opcua.model"
            } else {
                key.as_str()
            };
            let kv = vec![(format!("{stage}.{probe}"), "x".to_string())];
            let sink = vec![("sink".to_string(), "do-nothing-sink".to_string())];
            let e = match stage.as_str() {
                "source" => validate(&kv, &[], &sink),
                "processor" => validate(&[], &kv, &sink),
                _ => validate(&[], &[], &[sink[0].clone(), kv[0].clone()]),
            }
            .expect_err(key)
            .to_string();
            let why = why_not(stage, probe).unwrap();
            assert!(e.contains(probe) && e.contains(why), "{stage} {key}: {e}");
        }
    }
}

/// The query SQL table: each example runs on a node with a little data; a
/// `same`/`different` one succeeds, a `refused` one fails with the words
/// the table gives.
#[test]
fn the_query_table_matches_the_code() {
    use duet_engine::{Engine, EngineOptions};
    use duet_executor::{Executor, NodeInfo, Session};
    use std::sync::Arc;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/iotdb-compatibility.md");
    let text = std::fs::read_to_string(path).expect("docs/iotdb-compatibility.md");
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Arc::new(Engine::open(dir.path(), EngineOptions::default()).expect("engine"));
    let exec = Executor::new(engine, NodeInfo::default());
    let session = Session::default();
    exec.execute_sql(
        &session,
        "INSERT INTO root.cq.d(time, s) VALUES (1, 1.0), (2, 2.0), (5, 3.0)",
    )
    .expect("sample data");
    let mut n = 0;
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | query | feature | status | `example` | what Duet does |
        if cells.len() < 6 || cells[1] != "query" {
            continue;
        }
        n += 1;
        let sql = cells[4].trim_matches('`');
        let got = exec.execute_sql(&session, sql).map(|_| ());
        match cells[3] {
            "same" | "different" | "duet" => {
                assert!(
                    got.is_ok(),
                    "{sql}: the table says {}, got {got:?}",
                    cells[3]
                )
            }
            "refused" => {
                let words = cells[5]
                    .strip_prefix("refused: ")
                    .unwrap_or_else(|| panic!("{sql}: a refused row says `refused: ...`"));
                let e = got.expect_err(sql).to_string();
                assert!(e.contains(words), "{sql}: {e:?} does not say {words:?}");
            }
            other => panic!("{sql}: status {other}"),
        }
    }
    assert!(n >= 20, "{n} query rows");
}

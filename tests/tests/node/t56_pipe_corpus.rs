//! IoTDB's own pipe statements (tests/data/iotdb-pipe-corpus.sql: copied
//! from the Data Sync pages of IoTDB 1.3/2.0 and IoTDBPipeAlterIT, each
//! with its page and its meaning in IoTDB) run against a real node. Each
//! entry says what Duet does with it (`-- duet: ok` or `-- duet: error:
//! <words of the message>`), judged against that meaning: accepted where
//! IoTDB accepts it, refused with the position or the key named where the
//! page's text is not valid IoTDB either or Duet lacks the feature
//! (docs/iotdb-compatibility.md says which and why).

use duet_tests::Node;

struct Entry {
    line: usize,
    statement: String,
    /// `None`: accepted; `Some(words)`: refused with them in the message.
    expected: Option<String>,
}

fn corpus() -> Vec<Entry> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iotdb-pipe-corpus.sql");
    let text = std::fs::read_to_string(&path).expect("the corpus");
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        if !line.starts_with("-- source:") {
            continue;
        }
        let mut expected = None;
        let mut annotated = false;
        let mut statement = Vec::new();
        for (_, l) in lines.by_ref() {
            if l == ";" {
                break;
            }
            if let Some(d) = l.strip_prefix("-- duet: ") {
                annotated = true;
                expected = d.strip_prefix("error: ").map(str::to_string);
                assert!(d == "ok" || expected.is_some(), "line {}: {d}", i + 1);
            } else if statement.is_empty() && l.starts_with("-- ") {
                // The entry's meaning lines.
            } else {
                statement.push(l);
            }
        }
        assert!(annotated, "entry at line {} has no '-- duet:' line", i + 1);
        out.push(Entry {
            line: i + 1,
            statement: statement.join("\n"),
            expected,
        });
    }
    out
}

/// The identifier after PIPE, if plain.
fn pipe_name(statement: &str) -> Option<String> {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let at = words.iter().position(|w| w.eq_ignore_ascii_case("pipe"))?;
    let mut name = *words.get(at + 1)?;
    if name.eq_ignore_ascii_case("if") {
        name = words.get(at + 3)?;
    }
    let name = name.trim_end_matches(['(', ';']);
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| name.to_string())
}

#[test]
fn t56_iotdb_pipe_statements_mean_what_they_mean_there() {
    let entries = corpus();
    assert!(entries.len() >= 40, "{} entries", entries.len());
    let node = Node::start();
    let mut s = node.session();
    let mut wrong = Vec::new();
    for e in &entries {
        let first = e
            .statement
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if let Some(name) = pipe_name(&e.statement) {
            if first == "create" {
                s.execute(&format!("DROP PIPE IF EXISTS {name}")).unwrap();
            } else if ["alter", "start", "stop", "drop"].contains(&first.as_str())
                && !node.pipes().iter().any(|p| p.0 == name)
            {
                s.execute(&format!(
                    "CREATE PIPE {name} WITH SINK ('sink'='do-nothing-sink')"
                ))
                .unwrap();
            }
        }
        let got = s.execute(&e.statement).map(drop).map_err(|e| e.to_string());
        let ok = match (&e.expected, &got) {
            (None, Ok(())) => true,
            (Some(words), Err(msg)) => msg.contains(words.as_str()),
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "line {}: expected {:?}, got {got:?}\n  {}",
                e.line,
                e.expected.as_deref().unwrap_or("ok"),
                e.statement.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        entries.len(),
        wrong.join("\n")
    );
    let accepted = entries.iter().filter(|e| e.expected.is_none()).count();
    eprintln!(
        "t56: {} IoTDB pipe statements: {accepted} accepted, {} refused as annotated",
        entries.len(),
        entries.len() - accepted
    );
}

//! Bad input: every error names the place and what was expected, and no input
//! can make the parser overflow its stack or take quadratic time.

use duet_parser::*;

fn err(sql: &str) -> ParseError {
    match parse(sql) {
        Ok(s) => panic!("expected an error for {sql:?}, got {s:?}"),
        Err(e) => e,
    }
}

/// Seed deployment guide, step 3 (machine B), verbatim.
const SEED_BA: &str = "create pipe BA
with source (
'source.mode.double-living' ='true'
)
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='iotdb-1',
  'sink.port'='6667'
)";

/// Seed deployment guide, step 2 (machine A), verbatim: the `)` closing
/// `with source (` is missing.
const SEED_AB: &str = "create pipe AB
with source (
  'source.mode.double-living' ='true'
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='iotdb-2',
  'sink.port'='6667'
)";

#[test]
fn seed_ba_parses() {
    let st = parse(SEED_BA).unwrap();
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        st,
        Statement::CreatePipe {
            if_not_exists: false,
            name: "BA".into(),
            source: vec![pair("source.mode.double-living", "true")],
            processor: vec![],
            sink: vec![
                pair("sink", "iotdb-thrift-sink"),
                pair("sink.ip", "iotdb-1"),
                pair("sink.port", "6667")
            ],
        }
    );
}

#[test]
fn seed_ab_missing_paren_points_at_with_sink() {
    let e = err(SEED_AB);
    assert_eq!((e.line, e.column), (4, 1));
    assert_eq!(e.found, "with");
    assert!(e.expected.contains("`)`"), "{e}");
    assert_eq!(
        e.render(SEED_AB),
        "line 4, column 1: expected `,` or `)` to close `with source (`, found `with`\nwith sink (\n^"
    );
    assert_eq!(
        e.to_string(),
        "line 4, column 1: expected `,` or `)` to close `with source (`, found `with`"
    );
}

#[test]
fn empty_statement() {
    for sql in ["", "   ", "-- only a comment\n", ";"] {
        let e = err(sql);
        assert!(
            e.to_string().contains("expected a statement"),
            "{sql:?}: {e}"
        );
    }
    assert_eq!(
        err("").to_string(),
        "line 1, column 1: expected a statement, found end of input"
    );
}

#[test]
fn unknown_statement() {
    let e = err("  selec * from root.a");
    assert_eq!(
        e.render("  selec * from root.a"),
        "line 1, column 3: expected a statement, found `selec`\n  selec * from root.a\n  ^"
    );
}

#[test]
fn unterminated_string() {
    let sql = "insert into root.a(time, s)\nvalues (1, 'abc)";
    let e = err(sql);
    assert_eq!((e.line, e.column), (2, 12));
    assert_eq!(e.reason.as_deref(), Some("unterminated string"));
    assert_eq!(
        e.render(sql),
        "line 2, column 12: unterminated string: expected a closing `'`, found `'abc)`\nvalues (1, 'abc)\n           ^"
    );
}

#[test]
fn missing_from() {
    let sql = "select temp root.plant.line1";
    let e = err(sql);
    assert_eq!(e.render(sql), "line 1, column 13: expected `,` or FROM, found `root`\nselect temp root.plant.line1\n            ^");
}

#[test]
fn bad_number() {
    let e = err("insert into root.a(time, x) values (1, 12.3.4)");
    assert_eq!((e.column, e.found.as_str()), (40, "12.3.4"));
    assert_eq!(e.reason.as_deref(), Some("malformed number"));
    let e = err("select * from root.a where x > 1e400");
    assert_eq!(e.reason.as_deref(), Some("number out of range"));
}

#[test]
fn integer_overflow() {
    let e = err("insert into root.a(time, x) values (1, 9223372036854775808)");
    assert_eq!(e.reason.as_deref(), Some("integer out of range"));
    assert_eq!((e.column, e.found.as_str()), (40, "9223372036854775808"));
    assert!(e.to_string().contains("integer out of range"));
    let e = err("select * from root.a limit 18446744073709551616");
    assert_eq!(e.reason.as_deref(), Some("integer out of range"));
    let e = err("select * from root.a where time > now() - 9999999999999999y");
    assert_eq!(e.reason.as_deref(), Some("duration overflow"));
}

#[test]
fn unknown_names_list_the_accepted_ones() {
    let e = err("create timeseries root.a.b with datatype=FOO");
    assert_eq!(
        e.to_string(),
        "line 1, column 42: unknown data type: expected a data type (BOOLEAN, INT32, INT64, FLOAT, DOUBLE, TEXT, TIMESTAMP, DATE, BLOB, STRING), found `FOO`"
    );
    let e = err("create timeseries root.a.b with datatype=INT32, encoding=ZIP");
    assert!(e.expected.contains("GORILLA"), "{e}");
    let e = err("create timeseries root.a.b with datatype=INT32, compressor=BROTLI");
    assert!(
        e.expected.contains("SNAPPY") && e.expected.contains("LZMA2"),
        "{e}"
    );
    let e = err("select median(x) from root.a");
    assert_eq!(e.reason.as_deref(), Some("unknown function"));
}

#[test]
fn unbalanced_parens() {
    let sql = "select * from root.a where (a > 1 and (b < 2)";
    let e = err(sql);
    assert_eq!((e.column, e.found.as_str()), (46, "end of input"));
    assert_eq!(e.expected, "AND, OR or `)`");
    let e = err("select * from root.a where a > 1)");
    assert_eq!((e.column, e.found.as_str()), (33, ")"));
    let e = err("insert into root.a(time, x values (1, 2)");
    assert_eq!(e.found, "values");
}

#[test]
fn trailing_garbage() {
    let sql = "show pipes extra";
    let e = err(sql);
    assert_eq!(e.render(sql), "line 1, column 12: expected `;` or end of statement, found `extra`\nshow pipes extra\n           ^");
    let e = err("flush; flush");
    assert_eq!(e.column, 8);
    let e = parse_many("flush; show pipes extra; flush").unwrap_err();
    assert_eq!((e.column, e.found.as_str()), (19, "extra"));
}

#[test]
fn other_mistakes_point_at_the_token() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "insert into root.a(time, x, y) values (1, 2, 3), (4, 5)",
            55,
            "row 2 has 2 values",
        ),
        (
            "insert into root.a(time, x) values (1, 2, 3, 4)",
            43,
            "row 1 has 4 values",
        ),
        (
            "insert into root.a(x) values (1)",
            20,
            "`time` or `timestamp`",
        ),
        ("select * from root.a where time > 2024-02-30", 35, "day 30"),
        (
            "select * from root.a where time > now() - 1x",
            43,
            "duration",
        ),
        ("select * from root.a limit", 27, "non-negative integer"),
        ("select * from a.b", 15, "root"),
        ("create pipe p with source ('a'='b')", 36, "WITH SINK"),
        ("create pipe p with sink ('a'='b'", 33, "`)`"),
        ("create pipe p with sink (a='b')", 26, "quoted key"),
        ("create database root.a with bucket_span=0", 41, "positive"),
        ("show timeseries root.a.", 24, "path node"),
        ("drop pipe", 10, "pipe name"),
    ];
    for &(sql, column, needle) in cases {
        let e = err(sql);
        assert_eq!(e.column, column, "{}", e.render(sql));
        assert!(
            e.to_string().contains(needle),
            "{needle:?} not in {}",
            e.render(sql)
        );
    }
}

#[test]
fn trailing_words_list_what_could_have_followed() {
    let e = err("select a from root.x where a > 1 garbage");
    assert_eq!(
        e.to_string(),
        "line 1, column 34: expected AND, OR, GROUP BY, FILL, ORDER BY, LIMIT, OFFSET, ALIGN BY DEVICE, `;` or end of statement, found `garbage`"
    );
    let e = err("select a from root.x limit 1 limt 2");
    assert_eq!(
        e.expected,
        "OFFSET, ALIGN BY DEVICE, `;` or end of statement"
    );
    let e = err("create timeseries root.a.b with datatype=INT32 encodin=RLE");
    assert_eq!((e.column, e.found.as_str()), (48, "encodin"));
    assert!(e.expected.contains("ENCODING"), "{e}");
    let e = err("insert into root.a(time, x) values (1, 2) (3, 4)");
    assert_eq!(e.expected, "`,`, `;` or end of statement");
}

#[test]
fn multi_line_positions_count_characters() {
    let sql = "select temp\n  from root.\"ü\"\n  where temp > 1 x";
    let e = err(sql);
    assert_eq!((e.line, e.column), (2, 13));
    let sql = "select `ü`, temp\nfrom root.a where temp >> 1";
    let e = err(sql);
    assert_eq!((e.line, e.column), (2, 25));
    let sql = "insert into root.a(time, s) values (1, 'ü') x";
    assert_eq!(err(sql).column, 45);
}

#[test]
fn deep_nesting_is_capped() {
    let depth = 100_000;
    let sql = format!(
        "select * from root.a where {}a = 1{}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let e = err(&sql);
    assert_eq!(e.reason.as_deref(), Some("expression nested too deeply"));
    // The first `(` is column 28; the one past the cap is MAX_NESTING further.
    assert_eq!(e.column, 28 + MAX_NESTING);
    let sql = format!("select * from root.a where {}a = 1", "not ".repeat(depth));
    assert_eq!(
        err(&sql).reason.as_deref(),
        Some("expression nested too deeply")
    );
    // Just under the cap is fine.
    let ok = format!(
        "select * from root.a where {}a = 1{}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert!(parse(&ok).is_ok());
    let long = format!(
        "select * from root.a where a = 1{}",
        " and a = 1".repeat(100_000)
    );
    assert_eq!(err(&long).reason.as_deref(), Some("expression too long"));
}

#[test]
fn huge_inputs_are_linear() {
    let start = std::time::Instant::now();
    let mut sql = String::from("insert into root.plant.line1(time, temp, status) values ");
    let mut rows = 0;
    while sql.len() < 1 << 20 {
        if rows > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("({rows}, 21.5, 'on')"));
        rows += 1;
    }
    let Statement::Insert { rows: parsed, .. } = parse(&sql).unwrap() else {
        panic!()
    };
    assert_eq!(parsed.len(), rows);

    let garbage = "#$%^ garbage ((( ".repeat(600_000);
    assert_eq!(err(&garbage).found, "#");
    let mut script = "flush; ".repeat(100_000);
    script.push_str("sho pipes");
    assert_eq!(parse_many(&script).unwrap_err().found, "sho");
    let unclosed = format!(
        "insert into root.a(time, s) values (1, '{}",
        "x".repeat(10 << 20)
    );
    assert_eq!(
        err(&unclosed).reason.as_deref(),
        Some("unterminated string")
    );
    // Generous bound: catches quadratic behaviour, not speed regressions.
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}

/// `STATEMENT_KEYWORDS` (the shell's list) is what the dispatcher takes:
/// each one, in any case, gets past the first word; another word does not.
#[test]
fn statement_keywords_are_the_dispatchers() {
    for kw in STATEMENT_KEYWORDS {
        for word in [kw.to_string(), kw.to_ascii_lowercase()] {
            if let Err(e) = parse(&word) {
                assert!(e.offset > 0, "{word}: {e:?}");
            }
        }
    }
    for word in ["explain", "use", "describe"] {
        let e = err(word);
        assert_eq!(
            (e.offset, e.expected.as_str()),
            (0, "a statement"),
            "{word}"
        );
    }
}

/// A GROUP BY step must be a positive duration: zero, no unit, an
/// unknown unit and overflow are refused, naming what a step may be.
#[test]
fn a_bad_group_by_step_is_refused() {
    for step in ["0mo", "0", "1x", "1mo2", "99999999999mo", "1mo.5d", "mo"] {
        let e = err(&format!(
            "select count(v) from root.a group by ([0, 100), {step})"
        ));
        let e = e.to_string();
        assert!(e.contains("step") || e.contains("duration"), "{step}: {e}");
    }
}

//! The parser on text built from SQL's own pieces (keywords, paths,
//! literals, operators, in any order), which reaches much deeper than
//! random characters: it never panics, errors point inside the text, and
//! whatever parses prints as text that parses back to the same statement.
//! 256 cases each in the test suite; `scripts/fuzz.sh --proptest` runs them
//! with PROPTEST_CASES=100000.

use duet_parser::{parse, parse_many};
use proptest::collection::vec;
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "insert",
    "into",
    "values",
    "delete",
    "create",
    "drop",
    "show",
    "count",
    "timeseries",
    "database",
    "databases",
    "devices",
    "with",
    "datatype",
    "encoding",
    "compressor",
    "group",
    "by",
    "limit",
    "offset",
    "slimit",
    "soffset",
    "fill",
    "align",
    "device",
    "last",
    "order",
    "asc",
    "desc",
    "time",
    "timestamp",
    "now()",
    "pipe",
    "pipes",
    "start",
    "stop",
    "source",
    "sink",
    "user",
    "users",
    "list",
    "alter",
    "set",
    "password",
    "read_mode",
    "dual",
    "local",
    "verify",
    "replica",
    "buckets",
    "versions",
    "packed",
    "version",
    "flush",
    "backup",
    "conflicts",
    "replay",
    "cluster",
    "level",
    "in",
    "like",
    "regexp",
    "is",
    "null",
    "true",
    "false",
    "between",
    "previous",
    "linear",
    "bucket_span",
    "if",
    "exists",
    "avg",
    "sum",
    "min_value",
    "max_value",
    "max_time",
    "first_value",
    "root",
    "root.sg",
    "root.sg.d1",
    "root.**",
    "root.*.s",
    "s1",
    "`a b`",
    "``",
    "*",
    "**",
    ".",
    ",",
    ";",
    "(",
    ")",
    "[",
    "]",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "/",
    "%",
    "'x'",
    "\"y\"",
    "'it''s'",
    "0",
    "1",
    "-1",
    "1.5",
    "1e3",
    "1e999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "0x10",
    "1h",
    "30m",
    "1d2h",
    "1ms",
    "2024-01-01",
    "2024-01-01T00:00:00",
    "2024-02-30T25:61:00Z",
    "2024-01-01T00:00:00.123+08:00",
    "INT32",
    "INT64",
    "FLOAT",
    "DOUBLE",
    "TEXT",
    "BOOLEAN",
    "PLAIN",
    "RLE",
    "LZ4",
    "SNAPPY",
    "--c\n",
    "\n",
    "'sink'",
    "'source.pattern'",
    "'root.sg'",
    "AB",
    "BA",
    "ü",
];

fn token_text() -> impl Strategy<Value = String> {
    vec(
        (
            prop::sample::select(TOKENS),
            prop_oneof![Just(" "), Just(""), Just("\t")],
        ),
        0..24,
    )
    .prop_map(|t| t.into_iter().map(|(a, b)| format!("{a}{b}")).collect())
}

fn check(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(st) => {
            let printed = st.to_string();
            match parse(&printed) {
                Ok(back) => prop_assert_eq!(back, st, "input {:?} printed {:?}", text, printed),
                Err(e) => {
                    prop_assert!(
                        false,
                        "{:?} printed as {:?}: {}",
                        text,
                        printed,
                        e.render(&printed)
                    )
                }
            }
        }
        Err(e) => {
            prop_assert!(e.offset <= text.len());
            let _ = e.render(text);
        }
    }
    let _ = parse_many(text);
    Ok(())
}

proptest! {
    #[test]
    fn token_soup_parses_or_errors_and_round_trips(text in token_text()) {
        check(&text)?;
    }

    #[test]
    fn any_text_parses_or_errors(text in ".{0,80}") {
        check(&text)?;
    }
}

/// Found by fuzzing (sql): `` `a..b` `` parsed as a column with an empty
/// node, which printed as `` a.``.b `` and did not parse back.
#[test]
fn backquoted_columns_with_an_empty_node_are_refused() {
    for sql in [
        "select `a..b` from root.sg",
        "select `.a` from root.sg",
        "select x.`b.` from root.sg",
        "insert into root.sg(time, `..`) values (1, 2)",
    ] {
        let e = parse(sql).expect_err(sql);
        assert!(
            e.render(sql).contains("between other characters"),
            "{}",
            e.render(sql)
        );
    }
    for sql in ["select `a.b` from root.sg", "select `a.b`.c from root.sg"] {
        check(sql).expect(sql);
    }
}

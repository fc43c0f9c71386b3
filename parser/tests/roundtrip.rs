//! STYLE habit 3: for every statement, `parse(&stmt.to_string()) == Ok(stmt)`.

use duet_parser::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Plain names, names that are keywords (printed in backquotes), and names
/// that need backquotes (spaces, backquotes, non-ASCII, leading digits).
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z_][A-Za-z0-9_]{0,6}",
        1 => prop::sample::select(vec!["time", "TIMESTAMP", "now", "true", "Null", "and", "or", "not", "from", "last", "if", "with", "count"])
            .prop_map(String::from),
        1 => "[a-z0-9 `ü'\"*-]{1,5}",
        1 => "[0-9][a-z0-9_]{0,3}",
    ]
}

/// A node of a device path or pattern: a name (may contain `.`), `*` or `**`.
fn path_node() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => name(),
        1 => "[a-z]{1,2}\\.[a-z]{1,2}",
        1 => Just("*".to_string()),
        1 => Just("**".to_string()),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    vec(path_node(), 0..4).prop_map(|nodes| {
        let mut all = vec!["root".to_string()];
        all.extend(nodes);
        Path(all)
    })
}

/// A measurement or suffix path; its nodes cannot contain `.` (they are joined with it).
fn column() -> impl Strategy<Value = String> {
    vec(name(), 1..3).prop_map(|nodes| nodes.join("."))
}

/// A suffix path in a select list: names, and `*` / `**` wildcard nodes
/// (a name that is only `*` or `**` is that wildcard there; `*` alone is
/// [`SelectItem::Wildcard`]).
fn select_column() -> impl Strategy<Value = String> {
    let node = prop_oneof![
        4 => name().prop_filter("a wildcard", |n| n != "*" && n != "**"),
        1 => Just("*".to_string()),
        1 => Just("**".to_string()),
    ];
    vec(node, 1..3)
        .prop_map(|nodes| nodes.join("."))
        .prop_filter("`*` alone", |c| c != "*")
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<i64>().prop_map(Literal::Int),
        prop_oneof![
            -1e6..1e6f64,
            any::<f64>().prop_filter("finite", |x| x.is_finite())
        ]
        .prop_map(Literal::Float),
        "[ -~ü\\n]{0,8}".prop_map(Literal::Str),
        any::<bool>().prop_map(Literal::Bool),
        Just(Literal::Null),
    ]
}

fn iso() -> impl Strategy<Value = String> {
    let date = (
        1900u32..2200,
        1u32..13,
        1u32..29,
        prop::sample::select(vec!['-', '/']),
    )
        .prop_map(|(y, m, d, s)| format!("{y:04}{s}{m:02}{s}{d:02}"));
    let time = option::of((
        prop::sample::select(vec!['T', ' ']),
        0u32..24,
        0u32..60,
        option::of((0u32..60, option::of("[0-9]{1,3}"))),
        option::of(prop_oneof![
            Just("Z".to_string()),
            (prop::sample::select(vec!['+', '-']), 0u32..15, 0u32..60)
                .prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}"))
        ]),
    ));
    (date, time).prop_map(|(date, time)| match time {
        None => date,
        Some((sep, h, mi, sec, zone)) => {
            let sec = match sec {
                None => String::new(),
                Some((s, None)) => format!(":{s:02}"),
                Some((s, Some(frac))) => format!(":{s:02}.{frac}"),
            };
            format!("{date}{sep}{h:02}:{mi:02}{sec}{}", zone.unwrap_or_default())
        }
    })
}

fn time_expr() -> impl Strategy<Value = TimeExpr> {
    let base = prop_oneof![
        any::<i64>().prop_map(TimeBase::Millis),
        iso().prop_map(TimeBase::Iso),
        Just(TimeBase::Now)
    ];
    let offset = prop_oneof![
        any::<i64>(),
        (
            0i64..1000,
            prop::sample::select(vec![1i64, 1000, 60_000, 3_600_000, 86_400_000])
        )
            .prop_map(|(n, u)| n * u - 500 * u)
    ];
    (base, vec(offset, 0..3)).prop_map(|(base, offsets)| TimeExpr { base, offsets })
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        Just(Operand::Time),
        column().prop_map(Operand::Column),
        literal().prop_map(Operand::Literal),
        // A bare integer is `Literal(Int)`, never `TimeValue`.
        time_expr()
            .prop_filter("bare integer", |t| !(matches!(t.base, TimeBase::Millis(_))
                && t.offsets.is_empty()))
            .prop_map(Operand::TimeValue),
        (
            prop::sample::select(vec![AggFunc::Count, AggFunc::Sum, AggFunc::MaxTime]),
            option::of(select_column())
        )
            .prop_map(|(func, arg)| Operand::Agg { func, arg }),
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    use CmpOp::*;
    prop::sample::select(vec![Eq, NotEq, Lt, LtEq, Gt, GtEq])
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        4 => (operand(), cmp_op(), operand()).prop_map(|(lhs, op, rhs)| Expr::Cmp { lhs, op, rhs }),
        1 => operand().prop_map(Expr::IsNull),
        1 => (operand(), "[a-z%_'\\\\]{0,8}").prop_map(|(operand, pattern)| Expr::Like { operand, pattern }),
        1 => (operand(), "[a-z.*^$'\\\\]{0,8}").prop_map(|(operand, pattern)| Expr::Regexp { operand, pattern }),
    ];
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn select_item() -> impl Strategy<Value = SelectItem> {
    use AggFunc::*;
    let func = prop::sample::select(vec![
        Count,
        Sum,
        Avg,
        MinValue,
        MaxValue,
        FirstValue,
        LastValue,
        MaxTime,
        MinTime,
        Extreme,
        Stddev,
        Variance,
        StddevSamp,
        StddevPop,
        VarSamp,
        VarPop,
        TimeDuration,
    ]);
    prop_oneof![
        Just(SelectItem::Wildcard),
        select_column().prop_map(SelectItem::Column),
        (func, option::of(select_column())).prop_map(|(func, arg)| SelectItem::Agg { func, arg }),
        value_expr().prop_map(|e| SelectItem::Expr(Box::new(e))),
    ]
}

/// Computed columns that are not a bare column or aggregate (those parse
/// as the simpler items).
fn value_expr() -> impl Strategy<Value = duet_parser::ValueExpr> {
    use duet_parser::{ArithOp, ValueExpr as V};
    let leaf = prop_oneof![
        select_column()
            .prop_filter("not a wildcard", |c| !c.starts_with('*'))
            .prop_map(V::Column),
        (-1000.0f64..1000.0).prop_map(V::Number),
    ];
    let tree = leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec![
                    ArithOp::Add,
                    ArithOp::Sub,
                    ArithOp::Mul,
                    ArithOp::Div,
                    ArithOp::Rem
                ]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| V::Bin {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r)
                }),
            inner.clone().prop_map(|e| V::Neg(Box::new(e))),
            inner.prop_map(|e| V::Func {
                name: "sin".into(),
                args: vec![e]
            }),
        ]
    });
    tree.prop_filter("computed", |e| !matches!(e, V::Column(_) | V::Agg { .. }))
}

fn schema_filter() -> impl Strategy<Value = SchemaFilter> {
    (
        option::of("[a-z%_.']{0,6}"),
        option::of(prop::sample::select(vec![DataType::Int32, DataType::Text])),
        option::of(any::<u64>()),
        option::of(any::<u64>()),
        option::of(("[ -~ü]{0,6}", "[ -~ü]{0,6}", any::<bool>())),
    )
        .prop_map(|(contains, data_type, limit, offset, tag)| SchemaFilter {
            // One condition: CONTAINS, or else DATATYPE, or else TAGS.
            data_type: data_type.filter(|_| contains.is_none()),
            tag: tag
                .filter(|_| contains.is_none() && data_type.is_none())
                .map(|(key, value, contains)| TagFilter {
                    key,
                    value,
                    contains,
                }),
            contains,
            limit,
            offset,
        })
}

fn label_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    vec(("[ -~ü]{0,6}", "[ -~ü\\n]{0,6}"), 0..3)
}

fn labels() -> impl Strategy<Value = SeriesLabels> {
    (option::of("[ -~ü]{0,6}"), label_pairs(), label_pairs()).prop_map(
        |(alias, tags, attributes)| SeriesLabels {
            alias,
            tags,
            attributes,
        },
    )
}

fn alter_series() -> impl Strategy<Value = AlterSeries> {
    let nonempty = || label_pairs().prop_filter("a pair", |p| !p.is_empty());
    prop_oneof![
        ("[ -~]{0,6}", "[ -~]{0,6}").prop_map(|(from, to)| AlterSeries::Rename { from, to }),
        nonempty().prop_map(AlterSeries::Set),
        vec("[ -~]{0,6}", 1..3).prop_map(AlterSeries::Drop),
        nonempty().prop_map(AlterSeries::AddTags),
        nonempty().prop_map(AlterSeries::AddAttributes),
        labels()
            .prop_filter("something to upsert", |l| !l.is_empty())
            .prop_map(AlterSeries::Upsert),
    ]
}

fn select() -> impl Strategy<Value = Select> {
    let group_by = (
        time_expr(),
        time_expr(),
        prop_oneof![
            (Just(0i64), 1..=i64::MAX),
            (1..=10_000i64, 0..=i64::MAX / 2),
        ],
        option::of((0..100i64, 1..1_000_000i64)),
        any::<bool>(),
    )
        .prop_map(
            |(start, end, (step_months, step_ms), sliding, left_open)| GroupBy {
                start,
                end,
                step_months,
                step_ms,
                sliding,
                left_open,
            },
        );
    (
        any::<bool>(),
        vec(select_item(), 1..4),
        vec(path(), 1..3),
        option::of(expr()),
        option::of(group_by),
        any::<bool>(),
        option::of(any::<u64>()),
        option::of(any::<u64>()),
        option::of((any::<bool>(), any::<bool>())),
        any::<bool>(),
        option::of(prop_oneof![
            Just(duet_parser::Fill::Linear),
            Just(duet_parser::Fill::Previous { within: None }),
            (0..100i64, 1..1_000_000i64)
                .prop_map(|w| duet_parser::Fill::Previous { within: Some(w) }),
            literal()
                .prop_filter("not null", |l| *l != Literal::Null)
                .prop_map(duet_parser::Fill::Constant),
        ]),
    )
        .prop_map(
            |(
                last,
                items,
                from,
                where_clause,
                group_by,
                order_desc,
                limit,
                offset,
                device,
                align_by_device,
                fill,
            )| Select {
                last,
                aliases: if limit.is_some_and(|l| l % 2 == 0) {
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, _)| (i % 2 == 0).then(|| format!("a{i}")))
                        .collect()
                } else {
                    Vec::new()
                },
                items,
                from,
                where_clause,
                group_by,
                group_by_level: limit.filter(|l| l % 7 != 1).map(|l| vec![(l % 5) as u32]),
                group_by_tags: limit
                    .filter(|l| l % 7 == 1)
                    .map(|l| (0..=l % 3).map(|k| format!("k{k}")).collect()),
                having: limit.and_then(|l| {
                    (l % 3 == 0).then_some(Expr::Cmp {
                        lhs: Operand::Agg {
                            func: AggFunc::Count,
                            arg: None,
                        },
                        op: CmpOp::Gt,
                        rhs: Operand::Literal(Literal::Int(1)),
                    })
                }),
                fill,
                // Without a DEVICE key the device view orders devices
                // first and times ascending (an ORDER BY TIME names one).
                order_desc: order_desc && !(align_by_device && device.is_none()),
                order_device: device.map(|(desc, first)| duet_parser::OrderDevice { desc, first }),
                limit,
                offset,
                slimit: limit.map(|l| l % 7),
                soffset: offset.map(|o| o % 5),
                align_by_device,
            },
        )
}

fn insert() -> impl Strategy<Value = Statement> {
    (path(), vec(column(), 0..4)).prop_flat_map(|(device, measurements)| {
        let n = measurements.len();
        let row = (time_expr(), vec(literal(), n..=n))
            .prop_map(|(time, values)| InsertRow { time, values });
        vec(row, 1..4).prop_map(move |rows| Statement::Insert {
            device: device.clone(),
            measurements: measurements.clone(),
            rows,
        })
    })
}

fn params() -> impl Strategy<Value = PipeParams> {
    vec(("[a-z.'\"-]{0,12}", "[ -~ü]{0,10}"), 0..4)
}

fn data_type() -> impl Strategy<Value = DataType> {
    use DataType::*;
    prop::sample::select(vec![Boolean, Int32, Int64, Float, Double, Text])
}

fn upper(list: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    option::of(prop::sample::select(list).prop_map(String::from))
}

const ENCODINGS: &[&str] = &[
    "PLAIN",
    "RLE",
    "TS_2DIFF",
    "GORILLA",
    "DICTIONARY",
    "ZIGZAG",
    "CHIMP",
    "SPRINTZ",
    "RLBE",
];
const COMPRESSORS: &[&str] = &["UNCOMPRESSED", "SNAPPY", "LZ4", "GZIP", "ZSTD", "LZMA2"];

fn statement() -> impl Strategy<Value = Statement> {
    use Statement::*;
    let text = || "[ -~ü\\n]{0,12}";
    prop_oneof![
        1 => (path(), option::of(1..=i64::MAX)).prop_map(|(path, bucket_span_ms)| CreateDatabase { path, bucket_span_ms }),
        1 => (option::of(path()), any::<bool>())
            .prop_map(|(pattern, details)| ShowDatabases { pattern, details }),
        1 => path().prop_map(|path| DropDatabase { path }),
        1 => (path(), data_type(), upper(ENCODINGS), upper(COMPRESSORS), labels())
            .prop_map(|(path, data_type, encoding, compressor, labels)| CreateTimeseries { path, data_type, encoding, compressor, labels }),
        1 => (path(), alter_series()).prop_map(|(path, change)| AlterTimeseries { path, change }),
        1 => (path(), 1..=i64::MAX as u64).prop_map(|(path, ms)| SetTtl { path, ms }),
        1 => path().prop_map(|path| UnsetTtl { path }),
        1 => option::of(vec(path(), 1..3)).prop_map(|paths| ShowTtl { paths }),
        1 => (option::of(path()), schema_filter(), any::<bool>())
            .prop_map(|(pattern, filter, latest)| ShowTimeseries { pattern, filter, latest }),
        1 => (option::of(path()), schema_filter(), option::of(0..64u32))
            .prop_map(|(pattern, filter, level)| CountTimeseries { pattern, filter, level }),
        1 => (option::of(path()), schema_filter(), any::<bool>()).prop_map(
            |(pattern, mut filter, with_database)| {
                // Devices filter by text only.
                filter.data_type = None;
                filter.tag = None;
                ShowDevices {
                    pattern,
                    filter,
                    with_database,
                }
            }
        ),
        1 => option::of(path()).prop_map(|pattern| CountDevices { pattern }),
        1 => option::of(path()).prop_map(|pattern| CountDatabases { pattern }),
        1 => (path(), 0..64u32).prop_map(|(pattern, level)| CountNodes { pattern, level }),
        1 => (option::of(path()), any::<bool>()).prop_map(|(pattern, nodes)| ShowChild { pattern, nodes }),
        1 => vec(path(), 1..3).prop_map(|patterns| DeleteTimeseries { patterns }),
        4 => insert(),
        6 => select().prop_map(|s| Select(Box::new(s))),
        2 => (vec(path(), 1..3), option::of(expr())).prop_map(|(paths, where_clause)| Delete { paths, where_clause }),
        2 => (any::<bool>(), name(), params(), params(), params())
            .prop_map(|(if_not_exists, name, source, processor, sink)| CreatePipe { if_not_exists, name, source, processor, sink }),
        1 => name().prop_map(|name| StartPipe { name }),
        1 => name().prop_map(|name| StopPipe { name }),
        1 => (any::<bool>(), name()).prop_map(|(if_exists, name)| DropPipe { if_exists, name }),
        1 => Just(ShowPipes),
        1 => name().prop_map(|name| ShowPipe { name }),
        1 => Just(ShowCluster),
        1 => any::<bool>().prop_map(|dual| SetReadMode { dual }),
        1 => option::of(any::<u64>()).prop_map(|ms| SetQueryTimeout { ms }),
        1 => (path(), any::<bool>()).prop_map(|(pattern, packed)| ShowVersions { pattern, range: None, packed }),
        1 => Just(ShowVersion),
        1 => Just(ShowVariables),
        1 => Just(ShowConflicts),
        1 => any::<u64>().prop_map(|id| ReplayConflict { id }),
        1 => Just(Flush),
        1 => (option::of(path()), any::<bool>(), option::of(1u64..1000)).prop_map(|(pattern, local, buckets)| VerifyReplica { pattern, range: None, local, buckets: buckets.filter(|_| local) }),
        1 => text().prop_map(|dir| Backup { dir }),
        1 => option::of(text()).prop_map(|dir| BackupIncremental { dir }),
        1 => Just(ShowBackups),
        1 => (name(), text()).prop_map(|(name, password)| CreateUser { name, password }),
        1 => (name(), text()).prop_map(|(name, password)| AlterUserPassword { name, password }),
        1 => name().prop_map(|name| DropUser { name }),
        1 => Just(ListUser),
        1 => (vec(prop::sample::select(duet_parser::PRIVILEGES).prop_map(String::from), 1..4), vec(path(), 1..3), name(), any::<bool>())
            .prop_map(|(mut privileges, paths, user, grant_option)| { let mut seen = std::collections::HashSet::new(); privileges.retain(|p| seen.insert(p.clone())); Grant { privileges, paths, user, grant_option } }),
        1 => (vec(prop::sample::select(duet_parser::PRIVILEGES).prop_map(String::from), 1..4), vec(path(), 1..3), name())
            .prop_map(|(mut privileges, paths, user)| { let mut seen = std::collections::HashSet::new(); privileges.retain(|p| seen.insert(p.clone())); Revoke { privileges, paths, user } }),
        1 => name().prop_map(|user| ListPrivileges { user }),
    ]
}

proptest! {
    // 2000 cases in the test suite; PROPTEST_CASES sets more (scripts/fuzz.sh).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn display_then_parse_is_identity(st in statement()) {
        let text = st.to_string();
        match parse(&text) {
            Ok(back) => prop_assert_eq!(back, st, "text: {}", text),
            Err(e) => prop_assert!(false, "{}\nfrom {:?}", e.render(&text), st),
        }
    }

    #[test]
    fn scripts_round_trip(sts in vec(statement(), 0..5)) {
        let script: String = sts.iter().map(|s| format!("{s};\n-- next\n")).collect();
        prop_assert_eq!(parse_many(&script), Ok(sts));
    }

    /// Whatever the text, the parser returns (never panics) and an error's
    /// position lies inside the text.
    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\\nü]{0,60}") {
        if let Err(e) = parse(&text) {
            prop_assert!(e.offset <= text.len());
            let _ = e.render(&text);
        }
    }
}

//! Each statement kind parsed from text as a user would write it.

use duet_parser::*;

fn p(sql: &str) -> Statement {
    match parse(sql) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render(sql)),
    }
}

fn path(s: &str) -> Path {
    Path(s.split('.').map(str::to_string).collect())
}

fn sel(sql: &str) -> Select {
    match p(sql) {
        Statement::Select(s) => *s,
        other => panic!("not a select: {other:?}"),
    }
}

fn cmp(lhs: Operand, op: CmpOp, rhs: Operand) -> Expr {
    Expr::Cmp { lhs, op, rhs }
}

fn col(c: &str) -> Operand {
    Operand::Column(c.to_string())
}

fn int(n: i64) -> Operand {
    Operand::Literal(Literal::Int(n))
}

/// Text -> statement, and the canonical text parses to the same statement.
fn both(sql: &str, want: Statement) {
    let got = p(sql);
    assert_eq!(got, want, "{sql}");
    assert_eq!(parse(&got.to_string()), Ok(got.clone()), "{got}");
}

#[test]
fn databases() {
    both(
        "CREATE DATABASE root.plant",
        Statement::CreateDatabase {
            path: path("root.plant"),
            bucket_span_ms: None,
        },
    );
    both(
        "create database root.plant with bucket_span = 1h",
        Statement::CreateDatabase {
            path: path("root.plant"),
            bucket_span_ms: Some(3_600_000),
        },
    );
    both(
        "create storage group root.sg",
        Statement::CreateDatabase {
            path: path("root.sg"),
            bucket_span_ms: None,
        },
    );
    both(
        "SET STORAGE GROUP TO root.sg",
        Statement::CreateDatabase {
            path: path("root.sg"),
            bucket_span_ms: None,
        },
    );
    both(
        "show databases",
        Statement::ShowDatabases {
            pattern: None,
            details: false,
        },
    );
    both(
        "show databases root.** details",
        Statement::ShowDatabases {
            pattern: Some(path("root.**")),
            details: true,
        },
    );
    both(
        "drop database root.plant",
        Statement::DropDatabase {
            path: path("root.plant"),
        },
    );
    both(
        "DELETE DATABASE root.plant",
        Statement::DropDatabase {
            path: path("root.plant"),
        },
    );
    assert_eq!(
        p("create database root.a with bucket_span=1h").to_string(),
        "CREATE DATABASE root.a WITH BUCKET_SPAN=1h"
    );
}

#[test]
fn timeseries() {
    let want = Statement::CreateTimeseries {
        path: path("root.a.b.c"),
        data_type: DataType::Float,
        encoding: Some("RLE".into()),
        compressor: Some("SNAPPY".into()),
        labels: SeriesLabels::default(),
    };
    both(
        "CREATE TIMESERIES root.a.b.c WITH DATATYPE=FLOAT, ENCODING=RLE, COMPRESSOR=SNAPPY",
        want.clone(),
    );
    both(
        "create timeseries root.a.b.c with datatype=float, compression=snappy, encoding=rle",
        want,
    );
    both(
        "create timeseries root.a.b.c INT32 encoding=ts_2diff",
        Statement::CreateTimeseries {
            path: path("root.a.b.c"),
            data_type: DataType::Int32,
            encoding: Some("TS_2DIFF".into()),
            compressor: None,
            labels: SeriesLabels::default(),
        },
    );
    both(
        "create timeseries root.a.b.s with datatype=TEXT",
        Statement::CreateTimeseries {
            path: path("root.a.b.s"),
            data_type: DataType::Text,
            encoding: None,
            compressor: None,
            labels: SeriesLabels::default(),
        },
    );
    let none = SchemaFilter::default;
    both(
        "show timeseries",
        Statement::ShowTimeseries {
            pattern: None,
            filter: none(),
            latest: false,
        },
    );
    both(
        "show timeseries root.a.*.temp",
        Statement::ShowTimeseries {
            pattern: Some(path("root.a.*.temp")),
            filter: none(),
            latest: false,
        },
    );
    both(
        "show latest timeseries root.** where timeseries contains 'tem' limit 2 offset 1",
        Statement::ShowTimeseries {
            pattern: Some(path("root.**")),
            filter: SchemaFilter {
                contains: Some("tem".into()),
                limit: Some(2),
                offset: Some(1),
                ..none()
            },
            latest: true,
        },
    );
    both(
        "show timeseries where datatype = INT64",
        Statement::ShowTimeseries {
            pattern: None,
            filter: SchemaFilter {
                data_type: Some(DataType::Int64),
                ..none()
            },
            latest: false,
        },
    );
    both(
        "count timeseries root.**",
        Statement::CountTimeseries {
            pattern: Some(path("root.**")),
            filter: none(),
            level: None,
        },
    );
    both(
        "count timeseries root.** group by level = 1",
        Statement::CountTimeseries {
            pattern: Some(path("root.**")),
            filter: none(),
            level: Some(1),
        },
    );
    both(
        "show devices",
        Statement::ShowDevices {
            pattern: None,
            filter: none(),
            with_database: false,
        },
    );
    both(
        "show devices root.plant.* with database limit 1",
        Statement::ShowDevices {
            pattern: Some(path("root.plant.*")),
            filter: SchemaFilter {
                limit: Some(1),
                ..none()
            },
            with_database: true,
        },
    );
    both("count devices", Statement::CountDevices { pattern: None });
    both(
        "count databases root.a.**",
        Statement::CountDatabases {
            pattern: Some(path("root.a.**")),
        },
    );
    both(
        "count nodes root.** level = 2",
        Statement::CountNodes {
            pattern: path("root.**"),
            level: 2,
        },
    );
    both(
        "show child paths root.ln",
        Statement::ShowChild {
            pattern: Some(path("root.ln")),
            nodes: false,
        },
    );
    both(
        "create aligned timeseries root.ln.wf01.GPS(latitude FLOAT encoding=PLAIN compressor=SNAPPY, longitude FLOAT)",
        Statement::CreateAlignedTimeseries {
            device: path("root.ln.wf01.GPS"),
            series: vec![
                AlignedSeries {
                    measurement: "latitude".into(),
                    data_type: DataType::Float,
                    encoding: Some("PLAIN".into()),
                    compressor: Some("SNAPPY".into()),
                    labels: SeriesLabels::default(),
                },
                AlignedSeries {
                    measurement: "longitude".into(),
                    data_type: DataType::Float,
                    encoding: None,
                    compressor: None,
                    labels: SeriesLabels::default(),
                },
            ],
        },
    );
    assert_eq!(
        p("FLUSH root.ln, root.sgcc TRUE ON CLUSTER"),
        Statement::Flush
    );
    both(
        "show child nodes",
        Statement::ShowChild {
            pattern: None,
            nodes: true,
        },
    );
    both(
        "delete timeseries root.a.b, root.c.**",
        Statement::DeleteTimeseries {
            patterns: vec![path("root.a.b"), path("root.c.**")],
        },
    );
}

#[test]
fn paths_with_odd_nodes() {
    let st = p("show timeseries ROOT.sg.`a.b`.01.`x``y`.d1");
    let want = Path(
        ["root", "sg", "a.b", "01", "x`y", "d1"]
            .map(String::from)
            .to_vec(),
    );
    assert_eq!(
        st,
        Statement::ShowTimeseries {
            pattern: Some(want),
            filter: SchemaFilter::default(),
            latest: false,
        }
    );
    assert_eq!(st.to_string(), "SHOW TIMESERIES root.sg.`a.b`.01.`x``y`.d1");
}

#[test]
fn insert() {
    let st = p("INSERT INTO root.plant.line1(time, temp, status) VALUES (now(), 21.5, true), (1700000000000, -3, 'it''s')");
    let Statement::Insert {
        device,
        measurements,
        rows,
    } = st.clone()
    else {
        panic!()
    };
    assert_eq!(device, path("root.plant.line1"));
    assert_eq!(measurements, ["temp", "status"]);
    assert_eq!(
        rows[0].time,
        TimeExpr {
            base: TimeBase::Now,
            offsets: vec![]
        }
    );
    assert_eq!(rows[0].values, [Literal::Float(21.5), Literal::Bool(true)]);
    assert_eq!(rows[1].time.base, TimeBase::Millis(1_700_000_000_000));
    assert_eq!(
        rows[1].values,
        [Literal::Int(-3), Literal::Str("it's".into())]
    );
    assert_eq!(
        st.to_string(),
        "INSERT INTO root.plant.line1(time, temp, status) VALUES (now(), 21.5, TRUE), (1700000000000, -3, 'it''s')"
    );

    let st = p("insert into root.a(TIMESTAMP, x) values (2024-01-01 00:00:00.5+08:00 - 1h30m, \"q\"), (2024-02-29, NULL)");
    let Statement::Insert { rows, .. } = st else {
        panic!()
    };
    assert_eq!(
        rows[0].time,
        TimeExpr {
            base: TimeBase::Iso("2024-01-01 00:00:00.5+08:00".into()),
            offsets: vec![-5_400_000]
        }
    );
    assert_eq!(rows[0].values, [Literal::Str("q".into())]);
    assert_eq!(rows[1].time.base, TimeBase::Iso("2024-02-29".into()));
    assert_eq!(rows[1].values, [Literal::Null]);

    let st = p("insert into root.a(time, f) values (1, 1.0), (2, 1e3), (3, -9223372036854775808)");
    let Statement::Insert { rows, .. } = st.clone() else {
        panic!()
    };
    assert_eq!(rows[0].values, [Literal::Float(1.0)]);
    assert_eq!(rows[1].values, [Literal::Float(1000.0)]);
    assert_eq!(rows[2].values, [Literal::Int(i64::MIN)]);
    assert_eq!(parse(&st.to_string()), Ok(st));
}

#[test]
fn select_basics() {
    let s = sel("select temp, d1.status from root.plant.line1 where time > now() - 1h");
    assert!(!s.last);
    assert_eq!(
        s.items,
        [
            SelectItem::Column("temp".into()),
            SelectItem::Column("d1.status".into())
        ]
    );
    assert_eq!(s.from, [path("root.plant.line1")]);
    let now_minus = Operand::TimeValue(TimeExpr {
        base: TimeBase::Now,
        offsets: vec![-3_600_000],
    });
    assert_eq!(
        s.where_clause,
        Some(cmp(Operand::Time, CmpOp::Gt, now_minus))
    );

    let s = sel("SELECT * FROM root.a, root.b.** ORDER BY TIME DESC OFFSET 5 LIMIT 10");
    assert_eq!(s.items, [SelectItem::Wildcard]);
    assert_eq!(s.from.len(), 2);
    assert!(s.order_desc);
    assert_eq!((s.limit, s.offset), (Some(10), Some(5)));
    assert!(!sel("select * from root.a order by time asc").order_desc);

    let s = sel("select last temp, status from root.a");
    assert!(s.last);
    assert_eq!(s.items.len(), 2);
}

#[test]
fn aggregates_and_group_by() {
    let s = sel(
        "select count(*), SUM(temp), avg(temp), min_value(temp), Max_Value(temp), first_value(t), last_value(t) \
         from root.plant.** group by ([2024-01-01T00:00:00, 2024-01-02T00:00:00), 1h)",
    );
    let funcs: Vec<_> = s
        .items
        .iter()
        .map(|i| match i {
            SelectItem::Agg { func, .. } => *func,
            _ => panic!(),
        })
        .collect();
    use AggFunc::*;
    assert_eq!(
        funcs,
        [Count, Sum, Avg, MinValue, MaxValue, FirstValue, LastValue]
    );
    assert_eq!(
        s.items[0],
        SelectItem::Agg {
            func: Count,
            arg: None
        }
    );
    assert_eq!(
        s.items[1],
        SelectItem::Agg {
            func: Sum,
            arg: Some("temp".into())
        }
    );
    let g = s.group_by.unwrap();
    assert_eq!(g.start.base, TimeBase::Iso("2024-01-01T00:00:00".into()));
    assert_eq!(g.step_ms, 3_600_000);
    let s = sel("select avg(t) from root.a group by ([0, 100000), 1000)");
    let g = s.group_by.clone().unwrap();
    assert_eq!(
        (g.start.base, g.end.base, g.step_ms),
        (TimeBase::Millis(0), TimeBase::Millis(100_000), 1000)
    );
    assert!(Statement::Select(Box::new(s))
        .to_string()
        .contains("GROUP BY ([0, 100000), 1s)"));
    // Calendar months apart from the fixed part.
    for (step, months, ms, shown) in [
        ("1mo", 1, 0, "1mo"),
        ("2MO", 2, 0, "2mo"),
        ("1y", 12, 0, "1y"),
        ("1y2d", 12, 172_800_000, "1y2d"),
        ("1mo30s", 1, 30_000, "1mo30s"),
        ("3d", 0, 259_200_000, "3d"),
    ] {
        let s = sel(&format!(
            "select count(v) from root.a group by ([0, 100), {step})"
        ));
        let g = s.group_by.clone().unwrap();
        assert_eq!((g.step_months, g.step_ms), (months, ms), "{step}");
        let text = Statement::Select(Box::new(s)).to_string();
        assert!(text.contains(&format!("100), {shown})")), "{step}: {text}");
    }
}

#[test]
fn align_by_device_and_order_by_device() {
    use duet_parser::OrderDevice;
    let cases = [
        ("align by device", None, false, true),
        (
            "order by device desc, time asc align by device",
            Some((true, true)),
            false,
            true,
        ),
        (
            "order by time desc, device align by device",
            Some((false, false)),
            true,
            true,
        ),
        // ORDER BY TIME alone in the device view: time first.
        (
            "order by time desc align by device",
            Some((false, false)),
            true,
            true,
        ),
        ("order by time desc", None, true, false),
        ("limit 2 offset 1 align by time", None, false, false),
    ];
    for (tail, device, desc, align) in cases {
        let s = sel(&format!("select s from root.** {tail}"));
        assert_eq!(
            (s.order_device, s.order_desc, s.align_by_device),
            (
                device.map(|(desc, first)| OrderDevice { desc, first }),
                desc,
                align
            ),
            "{tail}"
        );
    }
}

#[test]
fn where_precedence() {
    let s = sel("select * from root.a where a = 1 or b = 2 and not c = 3");
    let a = cmp(col("a"), CmpOp::Eq, int(1));
    let b = cmp(col("b"), CmpOp::Eq, int(2));
    let c = cmp(col("c"), CmpOp::Eq, int(3));
    let want = Expr::Or(
        Box::new(a.clone()),
        Box::new(Expr::And(
            Box::new(b.clone()),
            Box::new(Expr::Not(Box::new(c))),
        )),
    );
    assert_eq!(s.where_clause, Some(want));

    let s = sel("select * from root.a where (a == 1 OR b <> 2) AND time >= 2024-01-01 and time < 1700000000000");
    let Some(Expr::And(left, last)) = s.where_clause else {
        panic!()
    };
    assert_eq!(*last, cmp(Operand::Time, CmpOp::Lt, int(1_700_000_000_000)));
    let Expr::And(or, iso) = *left else { panic!() };
    assert_eq!(
        *iso,
        cmp(
            Operand::Time,
            CmpOp::GtEq,
            Operand::TimeValue(TimeExpr {
                base: TimeBase::Iso("2024-01-01".into()),
                offsets: vec![]
            })
        )
    );
    assert_eq!(
        *or,
        Expr::Or(Box::new(a), Box::new(cmp(col("b"), CmpOp::NotEq, int(2))))
    );

    let s = sel("select * from root.a where timestamp between 10 and 20");
    let want = Expr::And(
        Box::new(cmp(Operand::Time, CmpOp::GtEq, int(10))),
        Box::new(cmp(Operand::Time, CmpOp::LtEq, int(20))),
    );
    assert_eq!(s.where_clause, Some(want));

    let s = sel("select * from root.a where status = 'on' and x != false and y > -1.5e2 and `time` <= 1000 + 1d");
    let text = Statement::Select(Box::new(s.clone())).to_string();
    assert!(text.contains("`time` <= 1000 + 1d"), "{text}");
    assert_eq!(parse(&text), Ok(Statement::Select(Box::new(s))));
}

#[test]
fn delete_from() {
    both(
        "delete from root.a.b",
        Statement::Delete {
            paths: vec![path("root.a.b")],
            where_clause: None,
        },
    );
    let st = p("DELETE FROM root.a.b, root.a.c WHERE time <= 2024-01-01T00:00:00Z");
    let Statement::Delete {
        paths,
        where_clause: Some(_),
    } = st
    else {
        panic!()
    };
    assert_eq!(paths.len(), 2);
}

#[test]
fn pipes() {
    let st = p("CREATE PIPE IF NOT EXISTS AB WITH EXTRACTOR ('source.mode.double-living' = 'true') \
                WITH PROCESSOR () WITH CONNECTOR (\"sink\"=\"iotdb-thrift-sink\", 'sink.ip'='iotdb-2')");
    assert_eq!(
        st,
        Statement::CreatePipe {
            if_not_exists: true,
            name: "AB".into(),
            source: vec![("source.mode.double-living".into(), "true".into())],
            processor: vec![],
            sink: vec![
                ("sink".into(), "iotdb-thrift-sink".into()),
                ("sink.ip".into(), "iotdb-2".into())
            ],
        }
    );
    assert_eq!(
        st.to_string(),
        "CREATE PIPE IF NOT EXISTS AB WITH SOURCE ('source.mode.double-living'='true') \
         WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='iotdb-2')"
    );
    let st = p("create pipe p1 with sink ('sink'='x')");
    let Statement::CreatePipe { source, .. } = st else {
        panic!()
    };
    assert!(source.is_empty());
    both("start pipe AB", Statement::StartPipe { name: "AB".into() });
    both("STOP PIPE ab", Statement::StopPipe { name: "ab".into() });
    both(
        "drop pipe if exists AB",
        Statement::DropPipe {
            if_exists: true,
            name: "AB".into(),
        },
    );
    both(
        "drop pipe AB",
        Statement::DropPipe {
            if_exists: false,
            name: "AB".into(),
        },
    );
    both("show pipes", Statement::ShowPipes);
    both("show pipe AB", Statement::ShowPipe { name: "AB".into() });
    both(
        "show pipes where sink used by AB",
        Statement::ShowPipesUsedBy { name: "AB".into() },
    );
    assert_eq!(
        p("SHOW PIPES WHERE CONNECTOR USED BY ab"),
        Statement::ShowPipesUsedBy { name: "ab".into() }
    );
    assert!(parse("show pipes where sink used ab").is_err());
    // A comma before `)`, as IoTDB's grammar and docs allow; two are an error.
    let st = p("create pipe p1 with source ('a'='1',) with sink ('sink'='x', 'sink.ip'='h', )");
    let Statement::CreatePipe { source, sink, .. } = st else {
        panic!()
    };
    assert_eq!((source.len(), sink.len()), (1, 2));
    assert!(parse("create pipe p1 with sink ('sink'='x',,)").is_err());
    assert!(parse("create pipe p1 with sink (,)").is_err());
    // ALTER PIPE, IoTDB 1.3's grammar.
    let st = p(
        "alter pipe if exists a2b modify extractor ('source.pattern'='root.x') \
                replace processor () modify connector ('connector.batch.enable'='true',)",
    );
    assert_eq!(
        st,
        Statement::AlterPipe {
            if_exists: true,
            name: "a2b".into(),
            source: Some(AlterClause {
                replace: false,
                params: vec![("source.pattern".into(), "root.x".into())],
            }),
            processor: Some(AlterClause {
                replace: true,
                params: vec![],
            }),
            sink: Some(AlterClause {
                replace: false,
                params: vec![("connector.batch.enable".into(), "true".into())],
            }),
        }
    );
    assert_eq!(p(&st.to_string()), st);
    let st = p("ALTER PIPE a2b REPLACE SINK ('sink'='do-nothing-sink')");
    assert_eq!(p(&st.to_string()), st);
    // Clauses in IoTDB's order only, each once.
    assert!(parse("alter pipe a modify sink () modify source ()").is_err());
    assert!(parse("alter pipe a modify sink () modify sink ()").is_err());
    assert!(parse("alter pipe a change sink ()").is_err());
    assert!(parse("alter table a").is_err());
}

#[test]
fn admin_and_users() {
    both("show  cluster", Statement::ShowCluster);
    both("SHOW VERSION", Statement::ShowVersion);
    both("show conflicts", Statement::ShowConflicts);
    both("replay conflict 17", Statement::ReplayConflict { id: 17 });
    assert!(parse("replay conflict").is_err());
    assert!(parse("replay conflict -1").is_err());
    both("flush", Statement::Flush);
    both(
        "verify replica",
        Statement::VerifyReplica {
            pattern: None,
            range: None,
            local: false,
            buckets: None,
        },
    );
    both(
        "verify replica local",
        Statement::VerifyReplica {
            pattern: None,
            range: None,
            local: true,
            buckets: None,
        },
    );
    both(
        "verify replica root.plant.**",
        Statement::VerifyReplica {
            pattern: Some(path("root.plant.**")),
            range: None,
            local: false,
            buckets: None,
        },
    );
    both(
        "verify replica root.plant.** LOCAL",
        Statement::VerifyReplica {
            pattern: Some(path("root.plant.**")),
            range: None,
            local: true,
            buckets: None,
        },
    );
    match parse("verify replica root.p.** where time >= 10 and time < 20 local buckets 8") {
        Ok(Statement::VerifyReplica {
            pattern: Some(_),
            range: Some(_),
            local: true,
            buckets: Some(8),
        }) => {}
        other => panic!("{other:?}"),
    }
    match parse("verify replica where time >= 10") {
        Ok(Statement::VerifyReplica {
            pattern: None,
            range: Some(_),
            local: false,
            buckets: None,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(parse("verify replica local buckets 0").is_err());
    assert!(parse("verify replica buckets 3").is_err());
    both(
        "backup to '/data/backup'",
        Statement::Backup {
            dir: "/data/backup".into(),
        },
    );
    both(
        "create user alice 'pw'",
        Statement::CreateUser {
            name: "alice".into(),
            password: "pw".into(),
        },
    );
    both(
        "alter user alice set password 'n''ew'",
        Statement::AlterUserPassword {
            name: "alice".into(),
            password: "n'ew".into(),
        },
    );
    both(
        "drop user alice",
        Statement::DropUser {
            name: "alice".into(),
        },
    );
    both("list user", Statement::ListUser);
}

#[test]
fn whitespace_comments_terminators() {
    let sql = "-- leading comment\n  select temp -- trailing\n  from root.a -- x\n  ;  -- done\n";
    assert_eq!(sel(sql).items, [SelectItem::Column("temp".into())]);
    assert_eq!(p("show pipes;"), Statement::ShowPipes);
    let many = parse_many("show pipes;; flush ;\n-- c\nshow cluster").unwrap();
    assert_eq!(
        many,
        [
            Statement::ShowPipes,
            Statement::Flush,
            Statement::ShowCluster
        ]
    );
    assert_eq!(parse_many("  ; -- nothing\n"), Ok(vec![]));
    assert_eq!(
        parse_many("insert into root.a(time, s) values (1, 'a;b'); flush")
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn durations_and_times() {
    assert_eq!(parse_duration_ms("1y"), Some(365 * 86_400_000));
    assert_eq!(parse_duration_ms("2w"), Some(14 * 86_400_000));
    assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
    assert_eq!(parse_duration_ms("10s500ms"), Some(10_500));
    let s = sel("select * from root.a where time > now() - 1mo + 2d - 90s");
    let Some(Expr::Cmp {
        rhs: Operand::TimeValue(t),
        ..
    }) = s.where_clause
    else {
        panic!()
    };
    assert_eq!(t.offsets, [-30 * 86_400_000, 2 * 86_400_000, -90_000]);
    // Printed as the fixed span it is (a `mo` here is 30 days).
    assert_eq!(t.to_string(), "now() - 30d + 2d - 90s");
    assert_eq!(
        iso_to_millis("2024-01-01T00:00:00.000Z", 0),
        Ok(1_704_067_200_000)
    );
}

#[test]
fn tags_attributes_alias_and_alter() {
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // IoTDB's Operate-Metadata page (Tag and Attribute Management).
    assert_eq!(
        p("create timeseries root.turbine.d1.s1(temprature) with datatype=FLOAT, encoding=RLE, compression=SNAPPY tags(tag1=v1, tag2=v2) attributes(attr1=v1, attr2=v2)"),
        Statement::CreateTimeseries {
            path: path("root.turbine.d1.s1"),
            data_type: DataType::Float,
            encoding: Some("RLE".into()),
            compressor: Some("SNAPPY".into()),
            labels: SeriesLabels {
                alias: Some("temprature".into()),
                tags: pairs(&[("tag1", "v1"), ("tag2", "v2")]),
                attributes: pairs(&[("attr1", "v1"), ("attr2", "v2")]),
            },
        }
    );
    let alter = |sql: &str, change: AlterSeries| {
        both(
            sql,
            Statement::AlterTimeseries {
                path: path("root.turbine.d1.s1"),
                change,
            },
        )
    };
    alter(
        "ALTER timeseries root.turbine.d1.s1 RENAME tag1 TO newTag1",
        AlterSeries::Rename {
            from: "tag1".into(),
            to: "newTag1".into(),
        },
    );
    alter(
        "ALTER timeseries root.turbine.d1.s1 SET newTag1=newV1, attr1=newV1",
        AlterSeries::Set(pairs(&[("newTag1", "newV1"), ("attr1", "newV1")])),
    );
    alter(
        "ALTER timeseries root.turbine.d1.s1 DROP tag1, tag2",
        AlterSeries::Drop(vec!["tag1".into(), "tag2".into()]),
    );
    alter(
        "ALTER timeseries root.turbine.d1.s1 ADD TAGS tag3=v3, tag4=v4",
        AlterSeries::AddTags(pairs(&[("tag3", "v3"), ("tag4", "v4")])),
    );
    alter(
        "ALTER timeseries root.turbine.d1.s1 ADD ATTRIBUTES attr3=v3, attr4=v4",
        AlterSeries::AddAttributes(pairs(&[("attr3", "v3"), ("attr4", "v4")])),
    );
    alter(
        "ALTER timeseries root.turbine.d1.s1 UPSERT ALIAS=newAlias TAGS(tag3=v3, tag4=v4) ATTRIBUTES(attr3=v3, attr4=v4)",
        AlterSeries::Upsert(SeriesLabels {
            alias: Some("newAlias".into()),
            tags: pairs(&[("tag3", "v3"), ("tag4", "v4")]),
            attributes: pairs(&[("attr3", "v3"), ("attr4", "v4")]),
        }),
    );
    both(
        "show timeseries root.ln.** where TAGS(unit)='c'",
        Statement::ShowTimeseries {
            pattern: Some(path("root.ln.**")),
            filter: SchemaFilter {
                tag: Some(TagFilter {
                    key: "unit".into(),
                    value: "c".into(),
                    contains: false,
                }),
                ..SchemaFilter::default()
            },
            latest: false,
        },
    );
    let sql = "ALTER timeseries root.a.b.c UPSERT";
    let e = parse(sql).expect_err("nothing to upsert").render(sql);
    assert!(e.contains("ALIAS"), "{e}");
}

use super::*;
use crate::column::ts_data_type as t;

fn hex(s: &str) -> Vec<u8> {
    let digits: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

// ------------------------------------------------------------------ records

#[test]
fn record_example_from_the_spec() {
    // s1 INT64 7, s2 TEXT "hi"
    let bytes = hex("02 0000000000000007 05 00000002 6869");
    let values = vec![Value::I64(7), Value::Text(b"hi".to_vec())];
    assert_eq!(decode_record_values(&bytes, 2).unwrap(), values);
    assert_eq!(encode_record_values(&values).unwrap(), bytes);
}

#[test]
fn record_round_trips_every_type() {
    let values = vec![
        Value::Bool(true),
        Value::Bool(false),
        Value::I32(-5),
        Value::I64(i64::MIN),
        Value::F32(1.5),
        Value::F64(-0.25),
        Value::Text(vec![]),
        Value::Text("ünï".as_bytes().to_vec()),
    ];
    let bytes = encode_record_values(&values).unwrap();
    assert_eq!(decode_record_values(&bytes, values.len()).unwrap(), values);
}

#[test]
fn record_logical_types_keep_their_type() {
    // TIMESTAMP 8, DATE 9 (20240315), BLOB 10, STRING 11
    let bytes = hex("08 0000000000000064 09 0134d7bb 0a 00000001 ff 0b 00000001 61");
    let values = decode_record_values(&bytes, 4).unwrap();
    assert_eq!(
        values,
        vec![
            Value::Timestamp(100),
            Value::Date(20240315),
            Value::Blob(vec![0xff]),
            Value::Str(b"a".to_vec())
        ]
    );
    assert_eq!(encode_record_values(&values).unwrap(), bytes);
}

#[test]
fn record_truncated_at_every_byte_is_an_error() {
    let bytes = hex("02 0000000000000007 05 00000002 6869 00 01 03 3fc00000");
    decode_record_values(&bytes, 4).unwrap();
    for cut in 0..bytes.len() {
        let err = decode_record_values(&bytes[..cut], 4).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { .. }),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn record_rejects_bad_input() {
    for code in [6u8, 7, 12, 0xff] {
        let bytes = [code, 0, 0, 0, 1];
        assert!(
            matches!(decode_record_values(&bytes, 1), Err(Error::UnknownType { code: c, .. }) if c == i32::from(code))
        );
    }
    // A text value claiming 2 GiB, a negative length, a bool that is neither 0 nor 1.
    assert!(matches!(
        decode_record_values(&hex("05 7fffffff 41"), 1),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        decode_record_values(&hex("05 ffffffff"), 1),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        decode_record_values(&hex("00 02"), 1),
        Err(Error::Invalid { .. })
    ));
    // More values than measurements, and an absurd measurement count.
    assert!(matches!(
        decode_record_values(&hex("00 01 00 01"), 1),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        decode_record_values(&hex("00 01"), usize::MAX),
        Err(Error::Truncated { .. })
    ));
}

// ------------------------------------------------------------------ tablets

fn spec_tablet() -> Tablet {
    Tablet {
        timestamps: vec![10, 20],
        columns: vec![
            Column::I64(vec![Some(1), None]),
            Column::Text(vec![Some(b"x".to_vec()), Some(b"y".to_vec())]),
        ],
    }
}

const SPEC_VALUES: &str =
    "0000000000000001 0000000000000000 | 00000001 78 00000001 79 | 01 02 | 00";

#[test]
fn tablet_example_from_the_spec() {
    let encoded = encode_tablet(&spec_tablet()).unwrap();
    assert_eq!(encoded.values, hex(SPEC_VALUES));
    assert_eq!(encoded.timestamps, hex("000000000000000a 0000000000000014"));
    assert_eq!(encoded.types, vec![t::INT64, t::TEXT]);
    assert_eq!(encoded.size, 2);
    let decoded = decode_tablet(
        &encoded.timestamps,
        &hex(SPEC_VALUES),
        &[t::INT64, t::TEXT],
        2,
    )
    .unwrap();
    assert_eq!(decoded, spec_tablet());
}

#[test]
fn tablet_without_nulls_has_no_bitmap_section() {
    let tablet = Tablet {
        timestamps: vec![1],
        columns: vec![Column::Bool(vec![Some(true)]), Column::I32(vec![Some(3)])],
    };
    let encoded = encode_tablet(&tablet).unwrap();
    assert_eq!(encoded.values, hex("01 00000003"));
    assert_eq!(
        decode_tablet(&encoded.timestamps, &encoded.values, &encoded.types, 1).unwrap(),
        tablet
    );
}

#[test]
fn tablet_round_trips_every_type_with_nulls_across_bitmap_bytes() {
    for rows in [0usize, 1, 7, 8, 9, 16, 17] {
        fn pick<T>(row: usize, v: T) -> Option<T> {
            (row % 5 != 2).then_some(v)
        }
        let tablet = Tablet {
            timestamps: (0..rows as i64).collect(),
            columns: vec![
                Column::Bool((0..rows).map(|r| pick(r, r % 2 == 0)).collect()),
                Column::I32((0..rows).map(|r| pick(r, r as i32 * 3)).collect()),
                Column::I64((0..rows).map(|r| pick(r, -(r as i64))).collect()),
                Column::F32((0..rows).map(|r| pick(r, r as f32 / 2.0)).collect()),
                Column::F64((0..rows).map(|r| Some(r as f64 * 1.5)).collect()),
                Column::Text(
                    (0..rows)
                        .map(|r| pick(r, format!("r{r}").into_bytes()))
                        .collect(),
                ),
            ],
        };
        let encoded = encode_tablet(&tablet).unwrap();
        let decoded = decode_tablet(
            &encoded.timestamps,
            &encoded.values,
            &encoded.types,
            encoded.size,
        )
        .unwrap();
        assert_eq!(decoded, tablet, "rows = {rows}");
    }
}

#[test]
fn tablet_logical_types_keep_their_type() {
    // TIMESTAMP, DATE, BLOB, STRING; one row.
    let values = hex("0000000000000064 0134d7bb 00000001 ff 00000001 61");
    let tablet = decode_tablet(
        &hex("0000000000000001"),
        &values,
        &[t::TIMESTAMP, t::DATE, t::BLOB, t::STRING],
        1,
    )
    .unwrap();
    assert_eq!(
        tablet.columns,
        vec![
            Column::Timestamp(vec![Some(100)]),
            Column::Date(vec![Some(20240315)]),
            Column::Blob(vec![Some(vec![0xff])]),
            Column::Str(vec![Some(b"a".to_vec())]),
        ]
    );
}

#[test]
fn tablet_truncated_at_every_byte_is_an_error() {
    let timestamps = hex("000000000000000a 0000000000000014");
    let values = hex(SPEC_VALUES);
    let types = [t::INT64, t::TEXT];
    // Cutting exactly before the bitmap section leaves a valid tablet without nulls.
    let columns_end = values.len() - 3;
    for cut in 0..values.len() {
        let result = decode_tablet(&timestamps, &values[..cut], &types, 2);
        if cut == columns_end {
            assert_eq!(
                result.unwrap().columns[0],
                Column::I64(vec![Some(1), Some(0)])
            );
        } else {
            assert!(
                matches!(result, Err(Error::Truncated { .. })),
                "cut at {cut}: {result:?}"
            );
        }
    }
    for cut in 0..timestamps.len() {
        assert!(matches!(
            decode_tablet(&timestamps[..cut], &values, &types, 2),
            Err(Error::Truncated { .. })
        ));
    }
}

#[test]
fn tablet_rejects_bad_input() {
    let ts = hex("0000000000000001");
    // Unknown type codes.
    for code in [6, 7, 12, -1, 255] {
        assert!(
            matches!(decode_tablet(&ts, &hex("00"), &[code], 1), Err(Error::UnknownType { code: c, .. }) if c == code)
        );
    }
    // Huge and negative sizes; timestamps longer than size says.
    assert!(matches!(
        decode_tablet(&ts, &[], &[t::INT64], i32::MAX),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        decode_tablet(&ts, &[], &[t::INT64], -1),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        decode_tablet(&ts, &[], &[], 0),
        Err(Error::Invalid { .. })
    ));
    // A text cell claiming 2 GiB.
    assert!(matches!(
        decode_tablet(&ts, &hex("7fffffff 41"), &[t::TEXT], 1),
        Err(Error::Truncated { .. })
    ));
    // hasBitmap other than 0/1; bytes after the bitmap section.
    assert!(matches!(
        decode_tablet(&ts, &hex("00000005 02 00"), &[t::INT32], 1),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        decode_tablet(&ts, &hex("00000005 01 01 00"), &[t::INT32], 1),
        Err(Error::Invalid { .. })
    ));
    // Bool cell neither 0 nor 1.
    assert!(matches!(
        decode_tablet(&ts, &hex("07"), &[t::BOOLEAN], 1),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn insert_tablet_request_is_checked_before_decoding() {
    let encoded = encode_tablet(&spec_tablet()).unwrap();
    let mut req = TSInsertTabletReq::new(
        1,
        "root.sg.d".into(),
        vec!["s1".into(), "s2".into()],
        encoded.values,
        encoded.timestamps,
        encoded.types,
        encoded.size,
        None,
        None,
        None,
        None,
        None,
        None,
    );
    assert_eq!(decode_insert_tablet(&req).unwrap(), spec_tablet());
    req.is_compressed = Some(true);
    assert!(matches!(
        decode_insert_tablet(&req),
        Err(Error::Invalid { .. })
    ));
    req.is_compressed = None;
    req.measurements.pop();
    assert!(matches!(
        decode_insert_tablet(&req),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn encode_tablet_rejects_ragged_columns() {
    let tablet = Tablet {
        timestamps: vec![1, 2],
        columns: vec![Column::I32(vec![Some(1)])],
    };
    assert!(matches!(encode_tablet(&tablet), Err(Error::Invalid { .. })));
}

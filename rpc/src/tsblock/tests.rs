use super::*;

/// Hex with spaces for readability: "00 01 ff" → [0, 1, 255].
fn hex(s: &str) -> Vec<u8> {
    let digits: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '|')
        .collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

fn small_block() -> TsBlock {
    TsBlock::new(
        vec![1, 2],
        vec![
            Column::I64(vec![Some(7), None]),
            Column::Text(vec![None, Some(b"hi".to_vec())]),
            Column::Bool(vec![Some(true), None]),
            Column::F32(vec![Some(1.0), Some(-0.5)]),
        ],
    )
    .unwrap()
}

#[test]
fn small_block_matches_the_spec_byte_for_byte() {
    let expected = hex("00000004            | 02 05 00 03 \
         00000002            | 02 02 03 00 01 \
         00 0000000000000001 0000000000000002 \
         01 40 0000000000000007 \
         01 80 00000002 6869 \
         01 40 80 \
         00 3f800000 bf000000");
    // value column count | physical types INT64 TEXT BOOLEAN FLOAT
    // rows | encodings: time INT64_ARRAY, INT64_ARRAY, BINARY_ARRAY, BYTE_ARRAY, INT32_ARRAY
    // time: no nulls, 1, 2
    // s1: row 1 null (0x80 >> 1 = 0x40), then only the non-null 7
    // s2: row 0 null (0x80), then only "hi"
    // s3: row 1 null; the value bitmap covers both rows: row 0 true = 0x80
    // s4: no nulls, f32 bits of 1.0 and -0.5
    assert_eq!(small_block().encode(), expected);
    assert_eq!(TsBlock::decode(&expected).unwrap(), small_block());
}

#[test]
fn empty_block_has_a_header_only() {
    let block = TsBlock::new(vec![], vec![]).unwrap();
    assert_eq!(block.encode(), hex("00000000 00000000 02 00"));
    assert_eq!(TsBlock::decode(&block.encode()).unwrap(), block);
}

#[test]
fn null_and_value_bitmaps_cross_byte_boundaries() {
    let rows = 17;
    let times: Vec<i64> = (0..rows).map(|t| t * 1000).collect();
    let every_third = |i: i64| i % 3 == 0;
    let block = TsBlock::new(
        times.clone(),
        vec![
            Column::Bool(
                times
                    .iter()
                    .map(|&t| (!every_third(t / 1000)).then_some(t % 2000 == 0))
                    .collect(),
            ),
            Column::I32(
                times
                    .iter()
                    .map(|&t| (!every_third(t / 1000)).then_some(t as i32))
                    .collect(),
            ),
            Column::I64(times.iter().map(|&t| Some(-t)).collect()),
            Column::F64(
                times
                    .iter()
                    .map(|&t| (t > 5000).then_some(t as f64 / 3.0))
                    .collect(),
            ),
            Column::Text(
                times
                    .iter()
                    .map(|&t| (t != 0).then(|| format!("v{t}").into_bytes()))
                    .collect(),
            ),
            Column::Bool(vec![None; rows as usize]),
        ],
    )
    .unwrap();
    let bytes = block.encode();
    assert_eq!(TsBlock::decode(&bytes).unwrap(), block);
    // Null bitmap of the first column: rows 0, 3, 6, 9, 12, 15 → 1001 0010 | 0100 1001 | 0...
    let first_column = 4 + 6 + 4 + 7 + 1 + 8 * rows as usize;
    assert_eq!(&bytes[first_column..first_column + 4], &hex("01 92 49 00"));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = small_block().encode();
    for cut in 0..bytes.len() {
        assert!(TsBlock::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut bytes = small_block().encode();
    bytes.push(0);
    assert!(matches!(
        TsBlock::decode(&bytes),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn huge_declared_counts_fail_before_allocating() {
    // 2^31-1 value columns / rows in a tiny buffer.
    assert!(matches!(
        TsBlock::decode(&hex("7fffffff 00")),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        TsBlock::decode(&hex("00000000 7fffffff 02 00")),
        Err(Error::Truncated { .. })
    ));
    // One text value claiming 2 GiB.
    let bytes = hex("00000001 05 00000001 02 03 00 0000000000000001 00 7fffffff 41");
    assert!(matches!(
        TsBlock::decode(&bytes),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn negative_counts_are_invalid() {
    assert!(matches!(
        TsBlock::decode(&hex("ffffffff")),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        TsBlock::decode(&hex("00000000 80000000 02")),
        Err(Error::Invalid { .. })
    ));
    let negative_text = hex("00000001 05 00000001 02 03 00 0000000000000001 00 ffffffff");
    assert!(matches!(
        TsBlock::decode(&negative_text),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn unsupported_encodings_and_types_are_rejected() {
    // RLE value column.
    let rle = hex("00000001 02 00000001 02 04 00 0000000000000001 02 00 0000000000000005");
    assert!(matches!(TsBlock::decode(&rle), Err(Error::Invalid { .. })));
    // BOOLEAN declared with INT64_ARRAY.
    let mismatch = hex("00000001 00 00000001 02 02 00 0000000000000001 00 0000000000000001");
    assert!(matches!(
        TsBlock::decode(&mismatch),
        Err(Error::Invalid { .. })
    ));
    // Type 7 (UNKNOWN).
    let unknown = hex("00000001 07 00000001 02 02 00 0000000000000001 00 0000000000000001");
    assert!(matches!(
        TsBlock::decode(&unknown),
        Err(Error::UnknownType { code: 7, .. })
    ));
    // Time column with a null flag, or not INT64_ARRAY.
    assert!(TsBlock::decode(&hex("00000000 00000001 02 01 00 0000000000000001")).is_err());
    assert!(TsBlock::decode(&hex("00000000 00000001 01 00 00000001")).is_err());
    // Null flag other than 0/1.
    let flag = hex("00000001 02 00000001 02 02 00 0000000000000001 02 0000000000000001");
    assert!(matches!(TsBlock::decode(&flag), Err(Error::Invalid { .. })));
}

#[test]
fn logical_type_bytes_are_read_as_their_type_and_written_as_physical() {
    // TIMESTAMP (8) with INT64_ARRAY and STRING (11) with BINARY_ARRAY.
    let bytes = hex(
        "00000002 08 0b 00000001 02 02 03 00 0000000000000001 00 000000000000002a 00 00000001 7a",
    );
    let block = TsBlock::decode(&bytes).unwrap();
    assert_eq!(
        block.columns(),
        &[
            Column::Timestamp(vec![Some(42)]),
            Column::Str(vec![Some(b"z".to_vec())])
        ]
    );
    // Written back, the header declares the physical types (INT64 2,
    // TEXT 5), the only ones the Python client accepts.
    let again = block.encode();
    assert_eq!(&again[4..6], &[2, 5]);
    assert_eq!(&again[6..], &bytes[6..]);
}

#[test]
fn new_rejects_columns_of_the_wrong_length() {
    let err = TsBlock::new(vec![1, 2], vec![Column::I32(vec![Some(1)])]).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
}

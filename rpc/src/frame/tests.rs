use super::*;

const MAX: usize = 1024;

fn frame_bytes(len: i32, payload: &[u8]) -> Vec<u8> {
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

#[test]
fn write_then_read_round_trips() {
    let mut wire = Vec::new();
    write_frame(&mut wire, b"hello").unwrap();
    write_frame(&mut wire, b"x").unwrap();
    assert_eq!(
        wire,
        [&[0, 0, 0, 5][..], b"hello", &[0, 0, 0, 1], b"x"].concat()
    );

    let mut r = &wire[..];
    assert_eq!(read_frame(&mut r, MAX).unwrap(), b"hello");
    assert_eq!(read_frame(&mut r, MAX).unwrap(), b"x");
    assert!(matches!(read_frame(&mut r, MAX), Err(FrameError::Closed)));
}

#[test]
fn frame_at_the_limit_is_accepted_and_one_above_is_not() {
    let at = vec![7u8; MAX];
    let wire = frame_bytes(MAX as i32, &at);
    assert_eq!(read_frame(&mut &wire[..], MAX).unwrap(), at);
    assert!(matches!(parse_frame(&wire, MAX), Ok(Some((n, p))) if n == MAX + 4 && p == &at[..]));

    // Only the header is sent: the limit must fire before any payload arrives.
    let over = ((MAX + 1) as i32).to_be_bytes();
    let err = read_frame(&mut &over[..], MAX).unwrap_err();
    assert!(
        matches!(err, FrameError::TooLarge { declared, max } if declared == MAX + 1 && max == MAX)
    );
    assert!(matches!(
        parse_frame(&over, MAX),
        Err(FrameError::TooLarge { .. })
    ));
}

#[test]
fn huge_declared_length_is_rejected_without_allocating() {
    let wire = i32::MAX.to_be_bytes();
    assert!(matches!(
        read_frame(&mut &wire[..], DEFAULT_MAX_FRAME_BYTES),
        Err(FrameError::TooLarge { declared, .. }) if declared == i32::MAX as usize
    ));
}

#[test]
fn zero_and_negative_lengths_are_invalid() {
    for len in [0i32, -1, i32::MIN] {
        let wire = frame_bytes(len, b"abc");
        assert!(
            matches!(read_frame(&mut &wire[..], MAX), Err(FrameError::Invalid { declared }) if declared == i64::from(len))
        );
        assert!(matches!(
            parse_frame(&wire, MAX),
            Err(FrameError::Invalid { .. })
        ));
    }
}

#[test]
fn eof_inside_a_frame_is_io_unexpected_eof_not_closed() {
    let wire = frame_bytes(10, b"abc");
    for cut in 1..wire.len() {
        let err = read_frame(&mut &wire[..cut], MAX).unwrap_err();
        assert!(
            matches!(&err, FrameError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn parse_frame_needs_more_bytes_until_complete() {
    let wire = frame_bytes(3, b"abc");
    for cut in 0..wire.len() {
        assert!(
            matches!(parse_frame(&wire[..cut], MAX), Ok(None)),
            "cut at {cut}"
        );
    }
    let mut two = wire.clone();
    two.extend_from_slice(&wire);
    let (consumed, payload) = parse_frame(&two, MAX).unwrap().unwrap();
    assert_eq!((consumed, payload), (7, &b"abc"[..]));
}

#[test]
fn empty_payload_cannot_be_written() {
    assert!(matches!(
        write_frame(&mut Vec::new(), b""),
        Err(FrameError::Invalid { declared: 0 })
    ));
}

#[test]
fn detects_protocol_from_first_byte() {
    assert_eq!(
        detect_protocol(&[0x80, 0x01, 0x00, 0x01]),
        Some(Protocol::Binary)
    );
    assert_eq!(detect_protocol(&[0x82, 0x21]), Some(Protocol::Compact));
    assert_eq!(detect_protocol(&[0x00, 0x00, 0x00, 0x0b]), None);
    assert_eq!(detect_protocol(b"GET / HTTP/1.1"), None);
    assert_eq!(detect_protocol(&[]), None);
}

#[test]
fn frame_reader_and_writer_carry_messages() {
    let mut w = FrameWriter::new(Vec::new());
    w.write_all(b"he").unwrap();
    w.write_all(b"llo").unwrap();
    w.flush().unwrap();
    w.flush().unwrap(); // nothing pending: no empty frame
    w.write_all(b"!").unwrap();
    w.flush().unwrap();
    let wire = w.into_inner();
    assert_eq!(
        wire,
        frame_bytes(5, b"hello")
            .into_iter()
            .chain(frame_bytes(1, b"!"))
            .collect::<Vec<_>>()
    );

    let mut r = FrameReader::new(&wire[..], MAX);
    let mut all = Vec::new();
    r.read_to_end(&mut all).unwrap();
    assert_eq!(all, b"hello!");
}

#[test]
fn frame_reader_reports_too_large_as_invalid_data() {
    let wire = frame_bytes(2000, b"");
    let mut r = FrameReader::new(&wire[..], MAX);
    let err = r.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}

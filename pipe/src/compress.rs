//! The sink compressors IoTDB offers (`sink.compressor`): `snappy`, `gzip`,
//! `lz4`, `zstd` (at `sink.compressor.zstd.level`), alone or as a chain
//! (`'snappy,lz4'`) applied in the order written; the receiver undoes them
//! in reverse. How a chain is named inside a batch is in [`crate::wire`].
//!
//! Decompression never trusts the peer: every stage streams its output and
//! stops once it passes a cap, so a few bytes that declare or expand to
//! gigabytes are refused before more than the cap is allocated (LZ4's
//! block, which allocates its declared size, is checked before it starts).

use std::io::{Read, Write};
use std::ops::RangeInclusive;

/// IoTDB's zstd levels: `Zstd.minCompressionLevel()` to 22.
pub const ZSTD_LEVELS: RangeInclusive<i32> = -131_072..=22;
/// IoTDB's (and zstd's) default level.
pub const ZSTD_DEFAULT_LEVEL: i32 = 3;
/// The largest zstd window a receiver allocates (128 MiB, zstd's default).
const ZSTD_MAX_WINDOW_LOG: u32 = 27;
/// Most stages in one chain; more only burns CPU, and the receiver must
/// not be made to run an unbounded list of decoders.
pub const MAX_CHAIN: usize = 8;

/// An LZ4 block expands at most about 255-fold: a match's length goes on
/// in extra bytes of up to 255 each.
const LZ4_MAX_RATIO: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Lz4,
    Snappy,
    Gzip,
    Zstd { level: i32 },
}

impl Codec {
    /// The stage's byte in a batch header (see `wire`); stable on the wire.
    pub fn id(self) -> u8 {
        match self {
            Codec::Lz4 => 1,
            Codec::Snappy => 2,
            Codec::Gzip => 3,
            Codec::Zstd { .. } => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Lz4 => "lz4",
            Codec::Snappy => "snappy",
            Codec::Gzip => "gzip",
            Codec::Zstd { .. } => "zstd",
        }
    }

    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        // Writing into a Vec cannot fail; the encoders' Results only carry
        // the writer's errors (and zstd's out-of-memory).
        const VEC: &str = "compressing into memory";
        match self {
            Codec::Lz4 => lz4_flex::compress_prepend_size(data),
            Codec::Snappy => {
                let mut w = snap::write::FrameEncoder::new(Vec::new());
                w.write_all(data).expect(VEC);
                w.into_inner().expect(VEC)
            }
            Codec::Gzip => {
                let mut w =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                w.write_all(data).expect(VEC);
                w.finish().expect(VEC)
            }
            Codec::Zstd { level } => zstd::bulk::compress(data, level).expect(VEC),
        }
    }
}

/// Undoes the stage with wire id `id`; refuses output over `cap` bytes.
pub fn decompress(id: u8, data: &[u8], cap: usize) -> Result<Vec<u8>, String> {
    match id {
        1 => lz4(data, cap),
        2 => read_capped(&mut snap::read::FrameDecoder::new(data), cap, "snappy"),
        3 => {
            let mut d = flate2::bufread::GzDecoder::new(data);
            let out = read_capped(&mut d, cap, "gzip")?;
            // One gzip member per stage: bytes after it are damage.
            if !d.into_inner().is_empty() {
                return Err("bytes after the gzip stream".into());
            }
            Ok(out)
        }
        4 => {
            // The frame names its window; zstd's own limit (2^27, what its
            // level 22 uses) keeps that under MAX_BATCH_BYTES, and the output
            // is held to `cap` here.
            let mut d = zstd::stream::read::Decoder::with_buffer(data)
                .map_err(|e| format!("bad zstd data: {e}"))?;
            d.window_log_max(ZSTD_MAX_WINDOW_LOG)
                .map_err(|e| format!("zstd decoder: {e}"))?;
            read_capped(&mut d, cap, "zstd")
        }
        other => Err(format!("unknown compressor id {other}")),
    }
}

/// Reads `r` to its end, refusing it once it passes `cap` bytes. The buffer
/// grows as a Vec would, but never past the cap, so a bomb costs at most
/// `cap` bytes of memory before it is refused.
fn read_capped(r: &mut impl Read, cap: usize, name: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("bad {name} data: {e}")),
        };
        if out.len() + n > cap {
            return Err(format!("{name} data expands past the {cap}-byte limit"));
        }
        if out.capacity() - out.len() < n {
            let want = (out.capacity() * 2).max(out.len() + n).min(cap);
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// A size-prepended LZ4 block. The decompressor allocates the declared size
/// up front: hold it to the cap and to what the compressed bytes can expand
/// to, so a few bytes cannot make the receiver allocate 256 MiB.
fn lz4(data: &[u8], cap: usize) -> Result<Vec<u8>, String> {
    let declared = data
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("truncated lz4 batch")?;
    if declared > cap {
        return Err(format!(
            "lz4 data of {declared} bytes is over the {cap}-byte limit"
        ));
    }
    let compressed = data.len().saturating_sub(4);
    if declared > compressed.saturating_mul(LZ4_MAX_RATIO).saturating_add(64) {
        return Err(format!(
            "lz4 data declares {declared} bytes, more than {compressed} compressed bytes can hold"
        ));
    }
    lz4_flex::decompress_size_prepended(data).map_err(|e| format!("bad lz4 data: {e}"))
}

/// `sink.compressor` (a comma list; empty or `none`: no compression) with
/// `sink.compressor.zstd.level` (IoTDB's range, default 3). Errors name the
/// key and the value.
pub fn parse_chain(list: &str, zstd_level: Option<&str>) -> Result<Vec<Codec>, String> {
    let level = match zstd_level {
        None => ZSTD_DEFAULT_LEVEL,
        Some(v) => v
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|l| ZSTD_LEVELS.contains(l))
            .ok_or_else(|| {
                format!(
                    "sink.compressor.zstd.level = {v:?}: expected a whole number from {} to {}",
                    ZSTD_LEVELS.start(),
                    ZSTD_LEVELS.end()
                )
            })?,
    };
    let list = list.trim();
    if list.is_empty() || list.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut chain = Vec::new();
    for name in list.split(',') {
        let codec = match name.trim().to_ascii_lowercase().as_str() {
            "lz4" => Codec::Lz4,
            "snappy" => Codec::Snappy,
            "gzip" => Codec::Gzip,
            "zstd" => Codec::Zstd { level },
            "" => {
                return Err(format!(
                    "sink.compressor = {list:?}: an empty name in the list"
                ))
            }
            other => {
                return Err(format!(
                    "sink.compressor = {list:?}: {other:?} is not one of snappy, gzip, lz4, zstd \
                     (or none alone)"
                ))
            }
        };
        chain.push(codec);
    }
    if chain.len() > MAX_CHAIN {
        return Err(format!(
            "sink.compressor = {list:?}: at most {MAX_CHAIN} compressors in a chain"
        ));
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Codec; 5] = [
        Codec::Lz4,
        Codec::Snappy,
        Codec::Gzip,
        Codec::Zstd { level: 3 },
        Codec::Zstd { level: -5 },
    ];

    /// Something like a batch of change events: repeated paths, slowly
    /// changing numbers.
    fn sample() -> Vec<u8> {
        (0..2000u32)
            .flat_map(|i| {
                format!("root.sg.d{}.temperature={}.{};", i % 7, 20 + i % 5, i % 100).into_bytes()
            })
            .collect()
    }

    #[test]
    fn each_codec_round_trips_and_shrinks_compressible_data() {
        let data = sample();
        for c in ALL {
            let packed = c.compress(&data);
            assert!(
                packed.len() * 2 < data.len(),
                "{c:?}: {} of {}",
                packed.len(),
                data.len()
            );
            assert_eq!(
                decompress(c.id(), &packed, data.len()).unwrap(),
                data,
                "{c:?}"
            );
            assert_eq!(
                decompress(c.id(), &c.compress(&[]), 0).unwrap(),
                Vec::<u8>::new()
            );
            // Held to exactly its size, it decodes; one byte less, refused.
            assert!(
                decompress(c.id(), &packed, data.len() - 1).is_err(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn garbage_and_damage_are_refused_without_panicking() {
        let data = sample();
        for c in ALL {
            let packed = c.compress(&data);
            for cut in [0, 1, 5, packed.len() / 2, packed.len() - 1] {
                let r = decompress(c.id(), &packed[..cut], 1 << 20);
                assert!(r.as_ref() != Ok(&data), "{c:?} cut at {cut}");
            }
            let mut flipped = packed.clone();
            let mid = flipped.len() / 2;
            flipped[mid] ^= 0x55;
            assert!(
                decompress(c.id(), &flipped, 1 << 20).as_ref() != Ok(&data),
                "{c:?} with a flipped byte"
            );
            for garbage in [&b"\xff\xff\xff\xff garbage"[..], &[0; 32], b""] {
                let _ = decompress(c.id(), garbage, 1 << 20);
            }
        }
        // Checked codecs (framed snappy, gzip) notice a flipped byte.
        for c in [Codec::Snappy, Codec::Gzip] {
            let mut packed = c.compress(&data);
            let mid = packed.len() / 2;
            packed[mid] ^= 0x55;
            assert!(decompress(c.id(), &packed, 1 << 20).is_err(), "{c:?}");
        }
        let mut g = Codec::Gzip.compress(b"abc");
        g.push(0);
        assert!(decompress(3, &g, 100)
            .unwrap_err()
            .contains("after the gzip"));
        assert!(decompress(9, b"x", 100)
            .unwrap_err()
            .contains("unknown compressor id 9"));
    }

    /// 64 MiB of zeros compress to a few kilobytes (snappy: 3 MiB); held
    /// to 1 MiB, each
    /// decoder stops just past the cap instead of producing it all.
    #[test]
    fn bombs_are_refused_at_the_cap() {
        let zeros = vec![0u8; 64 << 20];
        for c in ALL {
            let bomb = c.compress(&zeros);
            assert!(bomb.len() * 16 < zeros.len(), "{c:?}: {} bytes", bomb.len());
            let e = decompress(c.id(), &bomb, 1 << 20).unwrap_err();
            assert!(e.contains("limit"), "{c:?}: {e}");
        }
        // A bomb inside a bomb: the inner stage's output is capped too.
        let inner = Codec::Gzip.compress(&zeros);
        let outer = Codec::Zstd { level: 3 }.compress(&inner);
        let inner_again = decompress(4, &outer, 1 << 20).unwrap();
        assert!(decompress(3, &inner_again, 1 << 20).is_err());
    }

    #[test]
    fn lz4_cannot_declare_more_than_its_bytes_can_hold() {
        let mut body = 150_000_000u32.to_le_bytes().to_vec();
        body.extend_from_slice(&[0; 8]);
        let e = decompress(1, &body, 256 << 20).unwrap_err();
        assert!(e.contains("compressed bytes can hold"), "{e}");
    }

    #[test]
    fn chains_parse_in_order_and_bad_values_name_the_key() {
        use Codec::*;
        assert_eq!(parse_chain("", None), Ok(vec![]));
        assert_eq!(parse_chain("none", None), Ok(vec![]));
        assert_eq!(parse_chain("LZ4", None), Ok(vec![Lz4]));
        assert_eq!(
            parse_chain(" snappy , zstd,gzip", Some("-7")),
            Ok(vec![Snappy, Zstd { level: -7 }, Gzip])
        );
        assert_eq!(parse_chain("zstd", None), Ok(vec![Zstd { level: 3 }]));
        assert_eq!(
            parse_chain("zstd", Some("22")),
            Ok(vec![Zstd { level: 22 }])
        );
        assert!(parse_chain("zstd", Some("-131072")).is_ok());
        for (list, level, words) in [
            ("brotli", None, vec!["sink.compressor", "brotli"]),
            ("snappy,,lz4", None, vec!["sink.compressor", "empty"]),
            ("snappy,", None, vec!["sink.compressor", "empty"]),
            ("none,lz4", None, vec!["sink.compressor", "none"]),
            (
                "zstd",
                Some("23"),
                vec!["sink.compressor.zstd.level", "23", "22"],
            ),
            (
                "zstd",
                Some("-131073"),
                vec!["sink.compressor.zstd.level", "-131073"],
            ),
            (
                "zstd",
                Some("fast"),
                vec!["sink.compressor.zstd.level", "fast"],
            ),
            (
                "lz4,lz4,lz4,lz4,lz4,lz4,lz4,lz4,lz4",
                None,
                vec!["at most 8"],
            ),
        ] {
            let e = parse_chain(list, level).unwrap_err();
            assert!(words.iter().all(|w| e.contains(w)), "{list} {level:?}: {e}");
        }
    }
}

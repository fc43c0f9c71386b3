//! How a series' points are cut into chunks, so that a chunk holds a
//! bounded number of points whatever the series' rate, with no setting.
//!
//! A chunk is one `data` key: series id ‖ bucket start. A series starts with
//! its database's span (buckets aligned at time 0, the layout every series
//! had before this module). As points arrive in time order the engine
//! measures the series' density and, when the span would put far more (or
//! far fewer) than [`TARGET_POINTS`] points in a bucket, starts a new
//! **segment**: from a time after every point the series holds, buckets of
//! a span chosen from the density (a power of two in milliseconds), aligned
//! at the segment's start. Buckets never overlap (a segment ends where the
//! next begins), so a scan from `bucket_of(start)` to `bucket_of(end)` in
//! key order sees every chunk that can hold a point of the range, and a
//! point always lands in the same chunk as the other versions of its time.
//!
//! The segments are this node's own choice, kept with the series in `meta`
//! and never replicated: the two nodes of a pair may cut the same points
//! differently, and everything that compares them (digests, VERIFY REPLICA)
//! compares points, not keys.
//!
//! Why a span chosen by density rather than chunks sealed by count: a write
//! finds its key by arithmetic, with no read before the write, and the merge
//! operator stays the only place where versions meet (design notes:
//! docs/chunks.md).

use crate::keys::bucket_of;
pub use crate::schema::Segment;
use crate::schema::Series;

/// The number of points a chunk is cut for.
pub const TARGET_POINTS: u64 = 2_048;

/// A series' segments beyond which its layout stops adapting (each is 16
/// bytes of its meta record; a series whose rate swings back and forth for
/// years keeps its last span).
pub const MAX_SEGMENTS: usize = 4_096;

impl Series {
    /// The segment holding `t`: its index in `segments`, or `None` for the
    /// first (implicit) one.
    fn segment_of(&self, t: i64) -> Option<usize> {
        self.segments
            .partition_point(|s| s.from <= t)
            .checked_sub(1)
    }

    /// The start of the bucket (chunk key) that holds `t`, a valid time.
    pub fn bucket_of(&self, t: i64) -> i64 {
        match self.segment_of(t) {
            None => bucket_of(t, self.bucket_span_ms),
            Some(i) => {
                let s = self.segments[i];
                s.from + (t - s.from) / s.span * s.span
            }
        }
    }

    /// The last time the bucket starting at `b` holds.
    pub fn bucket_last(&self, b: i64) -> i64 {
        let i = self.segment_of(b);
        let span = i.map_or(self.bucket_span_ms, |i| self.segments[i].span);
        let end = b.saturating_add(span - 1);
        match self.segments.get(i.map_or(0, |i| i + 1)) {
            Some(next) => end.min(next.from - 1),
            None => end,
        }
    }

    /// The span of the segment holding `t`.
    pub fn span_at(&self, t: i64) -> i64 {
        self.segment_of(t)
            .map_or(self.bucket_span_ms, |i| self.segments[i].span)
    }
}

/// What the writer knows of a series' newest chunk: its bucket, the points
/// written to it (an estimate: rewrites of a time count again) and the
/// newest time the series holds (exact or later, never earlier: a new
/// segment starts after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    pub bucket: i64,
    pub points: u64,
    pub max_time: i64,
}

/// The span for a density of `points` over `ms` milliseconds: the power of
/// two nearest below `TARGET_POINTS` points, at most `max_span`.
pub fn span_for(points: u64, ms: i64, max_span: i64) -> i64 {
    let ms = ms.max(1) as u128;
    let ideal = (TARGET_POINTS as u128 * ms / points.max(1) as u128).max(1);
    let pow2 = 1u128 << (127 - ideal.leading_zeros());
    (pow2.min(max_span.max(1) as u128)) as i64
}

/// Points a write needs to tell its rate by itself.
const RATE_EVIDENCE: u64 = 16;

/// The segment to start before placing an append of `n` points at times
/// `first..=last` (in order, after everything the series holds), if the
/// current span is far from the one the series' rate asks for: 4 times
/// too long or 8 times too short (the gap between the two keeps a series
/// whose rate wobbles on one span). The rate is the denser of this write
/// alone (a 1 000-row tablet tells it well) and the newest chunk with this
/// write; `fill` is the newest chunk (`None`: the series holds nothing).
/// A longer span waits for the newest chunk's bucket to end.
pub fn plan(series: &Series, fill: Option<Fill>, first: i64, last: i64, n: u64) -> Option<Segment> {
    if series.segments.len() >= MAX_SEGMENTS || n == 0 {
        return None;
    }
    let max_span = series.bucket_span_ms;
    let by_write = (n >= RATE_EVIDENCE).then(|| span_for(n, last - first + 1, max_span));
    let (from, span_now, wanted, bucket_over) = match fill {
        None => (first, series.span_at(first), by_write?, true),
        Some(f) => {
            if first <= f.max_time {
                return None; // not an append: the current layout places it
            }
            let by_bucket = span_for(f.points + n, last - f.bucket + 1, max_span);
            let wanted = by_write.map_or(by_bucket, |w| w.min(by_bucket));
            let over = first > series.bucket_last(f.bucket);
            (f.max_time + 1, series.span_at(f.max_time), wanted, over)
        }
    };
    let shrink = wanted.saturating_mul(4) <= span_now;
    let grow = wanted >= span_now.saturating_mul(8) && bucket_over;
    (shrink || grow).then_some(Segment { from, span: wanted })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Version;
    use crate::types::DataType;

    fn series(span: i64, segments: Vec<Segment>) -> Series {
        Series {
            id: 1,
            path: "root.a.b".into(),
            data_type: DataType::Double,
            encoding: "GORILLA".into(),
            compressor: "LZ4".into(),
            bucket_span_ms: span,
            segments,
            types: Vec::new(),
            tombstones: Vec::new(),
            labels: Vec::new(),
            created: Version::default(),
        }
    }

    #[test]
    fn buckets_follow_the_segments_and_never_overlap() {
        let s = series(
            3_600_000,
            vec![
                Segment {
                    from: 5_000,
                    span: 1_024,
                },
                Segment {
                    from: 100_000,
                    span: 65_536,
                },
            ],
        );
        assert_eq!(s.bucket_of(-1), -3_600_000);
        assert_eq!(s.bucket_of(4_999), 0);
        assert_eq!(s.bucket_last(0), 4_999);
        assert_eq!(s.bucket_of(5_000), 5_000);
        assert_eq!(s.bucket_of(6_023), 5_000);
        assert_eq!(s.bucket_of(6_024), 6_024);
        assert_eq!(s.bucket_last(6_024), 7_047);
        assert_eq!(s.bucket_of(99_999), 5_000 + 92 * 1_024);
        assert_eq!(s.bucket_last(5_000 + 92 * 1_024), 99_999);
        assert_eq!(s.bucket_of(100_000), 100_000);
        assert_eq!(s.bucket_of(crate::MAX_TIME), {
            let k = (crate::MAX_TIME - 100_000) / 65_536;
            100_000 + k * 65_536
        });
        // Every time from before the first segment to well after the last
        // is in exactly the bucket whose range holds it, in key order.
        let mut prev = (i64::MIN, i64::MIN);
        for t in (-10_000..300_000).step_by(37) {
            let b = s.bucket_of(t);
            assert!(b <= t && t <= s.bucket_last(b), "{t} in {b}");
            if b != prev.0 {
                assert!(b > prev.1, "bucket {b} overlaps {prev:?}");
                prev = (b, s.bucket_last(b));
            }
        }
    }

    #[test]
    fn the_span_puts_about_the_target_in_a_chunk() {
        // 1 kHz: 2 048 ms.
        assert_eq!(span_for(1_000, 1_000, 3_600_000), 2_048);
        // 10 kHz: 128 ms (2 048 points would be 204.8 ms).
        assert_eq!(span_for(10_000, 1_000, 3_600_000), 128);
        // Slower than the database's span allows: the span.
        assert_eq!(span_for(1, 60_000, 3_600_000), 3_600_000);
        // Faster than one point per ms per target: 1 ms.
        assert_eq!(span_for(1_000_000, 10, 3_600_000), 1);
    }

    #[test]
    fn a_dense_series_gets_a_short_span_at_once_and_keeps_it() {
        let mut s = series(3_600_000, Vec::new());
        // A new series written at 1 kHz in 1 000-row tablets.
        let seg = plan(&s, None, 10_000, 10_999, 1_000).expect("a new segment");
        assert_eq!(
            seg,
            Segment {
                from: 10_000,
                span: 2_048
            }
        );
        s.segments.push(seg);
        // The steady rate asks for nothing more.
        let fill = Fill {
            bucket: s.bucket_of(12_047),
            points: 1_000,
            max_time: 12_047,
        };
        assert_eq!(plan(&s, Some(fill), 12_048, 13_047, 1_000), None);
        // An older point (not an append) never moves the layout.
        assert_eq!(plan(&s, Some(fill), 5, 5, 1), None);
    }

    #[test]
    fn a_series_that_speeds_up_or_slows_down_is_cut_again() {
        let mut s = series(
            3_600_000,
            vec![Segment {
                from: 0,
                span: 2_048,
            }],
        );
        // 100 kHz into a 2 048 ms bucket: past twice the target, cut short.
        let fill = Fill {
            bucket: 4_096,
            points: 4_000,
            max_time: 4_135,
        };
        let seg = plan(&s, Some(fill), 4_136, 4_145, 1_000).expect("a shorter span");
        assert_eq!(seg.from, 4_136);
        assert!(seg.span <= 32, "{seg:?}");
        s.segments.push(seg);
        // Then one point a minute: once the newest bucket is over, longer.
        let fill = Fill {
            bucket: s.bucket_of(5_000),
            points: 1,
            max_time: 5_000,
        };
        let seg = plan(&s, Some(fill), 65_000, 65_000, 1).expect("a longer span");
        assert_eq!(seg.from, 5_001);
        assert!(seg.span >= 32_768, "{seg:?}");
    }
}

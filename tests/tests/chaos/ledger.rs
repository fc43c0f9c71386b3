//! What the clients asked for and what they were told: every insert and
//! delete, the node it went to, and its outcome. The checker reads only
//! this and the nodes' data.

use std::collections::BTreeMap;
use std::fmt;

/// What a client knows about one statement after the reply (or its absence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The node answered OK: the change must survive.
    Acked,
    /// The node answered with an error: the change was not applied.
    Failed,
    /// The connection broke or timed out after the request left: it may or
    /// may not have been applied.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Points of one series, each with a value no other write uses.
    Insert {
        series: String,
        points: Vec<(i64, i64)>,
    },
    /// `DELETE FROM series WHERE time >= start AND time <= end`.
    Delete {
        series: String,
        start: i64,
        end: i64,
    },
    /// `DROP TIMESERIES` or `DROP DATABASE` (`sql`): to the data, a delete
    /// of every time of each of `series` (the workload's series it covers);
    /// the schema after it is compared node with node.
    Drop { series: Vec<String>, sql: String },
}

/// The time range a drop covers in the model: every time the workload
/// writes (see `workload::own_base`), with room to spare.
pub const DROP_RANGE: (i64, i64) = (-1, 1 << 50);

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub writer: u32,
    /// Index of the node the client talked to.
    pub node: usize,
    /// Milliseconds since the run started: the request was sent at
    /// `sent_ms` and its answer (or error) came back at `done_ms`.
    pub sent_ms: u64,
    pub done_ms: u64,
    pub op: Op,
    pub outcome: Outcome,
    /// How far the clock that versioned this statement may have been off
    /// (a clock-offset fault was on, or its effect had not yet passed).
    pub skew_ms: u64,
}

/// The value a write stores for its `n`-th point: unique over the run and
/// exact in a DOUBLE (below 2^53), so a stored value names its write.
pub fn value_code(writer: u32, n: u64) -> i64 {
    assert!(n < 1_000_000_000, "writer {writer} wrote too many points");
    i64::from(writer) * 1_000_000_000 + n as i64
}

/// The large TEXT value a write stores for code `code` (a few KiB to a
/// quarter MiB): the code, the length of the padding, and the padding, so
/// the checker can tell a whole value from a cut or garbled one.
pub fn big_text(code: i64) -> String {
    let len = 4096 + (code.unsigned_abs() * 7919 % (252 * 1024)) as usize;
    let pad = char::from(b'a' + (code.unsigned_abs() % 26) as u8);
    let mut s = format!("{code}:{len}:");
    s.extend(std::iter::repeat_n(pad, len));
    s
}

/// The code back from a stored TEXT: a number (a DOUBLE series joined to
/// TEXT) or a whole [`big_text`].
pub fn decode_text(s: &str) -> Option<i64> {
    if let Ok(v) = s.parse::<f64>() {
        return decode(v);
    }
    let code: i64 = s.split(':').next()?.parse().ok()?;
    (big_text(code) == s).then_some(code)
}

/// The code back from a stored DOUBLE, if it can be one.
pub fn decode(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && (0.0..9.0e15).contains(&v)).then_some(v as i64)
}

/// Milliseconds that must separate the answer to one statement and the
/// sending of another on a different node before the second is surely
/// versioned after the first: the nodes share this machine's clock, and a
/// version is that clock's milliseconds (a hybrid logical clock).
pub const CROSS_NODE_MARGIN_MS: u64 = 50;

impl Entry {
    /// Was `self` answered before `later` was sent, so that `later` has the
    /// greater version? On one node any later statement does (its clock
    /// never goes back); across nodes only with a margin.
    ///
    /// A node's clock set off by `s` ms moves the versions of every node it
    /// replicates to as well (a hybrid logical clock follows the largest
    /// version it sees), so within a skew window the margin grows by `s`
    /// across nodes. One node's versions never go back, skewed or not: its
    /// clock is restored from its last version at start.
    pub fn surely_before(&self, later: &Entry) -> bool {
        let margin = if self.node == later.node {
            0
        } else {
            CROSS_NODE_MARGIN_MS + self.skew_ms.max(later.skew_ms)
        };
        later.sent_ms > self.done_ms + margin
    }
}

/// Counts for the closing summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    /// (kind, outcome) -> (statements, points)
    pub by_kind: BTreeMap<(&'static str, Outcome), (u64, u64)>,
}

impl Tally {
    pub fn of(entries: &[Entry]) -> Tally {
        let mut t = Tally::default();
        for e in entries {
            let (kind, points) = match &e.op {
                Op::Insert { points, .. } => ("insert", points.len() as u64),
                Op::Delete { .. } => ("delete", 0),
                Op::Drop { .. } => ("drop", 0),
            };
            let c = t.by_kind.entry((kind, e.outcome)).or_default();
            c.0 += 1;
            c.1 += points;
        }
        t
    }

    pub fn get(&self, kind: &'static str, outcome: Outcome) -> (u64, u64) {
        self.by_kind
            .get(&(kind, outcome))
            .copied()
            .unwrap_or_default()
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>7.3}s..{:.3}s] writer {} on node {} {:?}: ",
            self.sent_ms as f64 / 1000.0,
            self.done_ms as f64 / 1000.0,
            self.writer,
            crate::cluster::name(self.node),
            self.outcome
        )?;
        match &self.op {
            Op::Insert { series, points } => {
                let (first, last) = (points[0], points[points.len() - 1]);
                write!(
                    f,
                    "insert {} points into {series}, t {}..={} (values {}..={})",
                    points.len(),
                    first.0,
                    last.0,
                    first.1,
                    last.1
                )
            }
            Op::Delete { series, start, end } => {
                write!(f, "delete {series} where {start} <= time <= {end}")
            }
            Op::Drop { sql, .. } => f.write_str(sql),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_survive_a_double() {
        for (w, n) in [(1, 0), (9, 999_999_999), (3, 12_345)] {
            let c = value_code(w, n);
            assert_eq!(decode(c as f64), Some(c));
            assert_eq!(decode(format!("{:?}", c as f64).parse().unwrap()), Some(c));
        }
        assert_eq!(decode(1.5), None);
        assert_eq!(decode(-3.0), None);
    }
}

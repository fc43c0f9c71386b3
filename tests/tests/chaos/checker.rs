//! The reference model: from the ledger alone, what every node may hold
//! and must hold, compared with what each node does hold. Pure code; the
//! unit tests (checker/tests.rs) feed it hand-made ledgers, one of each
//! failure.
//!
//! Rules, per key (series and time). "Writes" and "deletes" below are the
//! Acked and Unknown ones: a Failed statement was not applied. "Surely
//! before" is real-time order that implies version order
//! ([`Entry::surely_before`]).
//! 1. Every node holds the same series, keys and values.
//! 2. A stored value was written to that key by some write (not invented,
//!    not moved, not from a Failed write), once (no duplicate rows).
//! 3. A key with an Acked write is present, unless a delete covering it is
//!    not surely before that write (deletes and writes race).
//! 4. A key whose Acked write W comes surely after every other write and
//!    delete of the key holds W's value (in particular a key whose only
//!    write is one Acked write, and that no delete touched).
//! 5. An Acked write's value is not stored if an Acked write or delete of
//!    that key came surely after it (last writer wins, on every node).

use crate::cluster::name;
use crate::ledger::{decode, Entry, Op, Outcome, DROP_RANGE};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[cfg(test)]
mod tests;

/// One node's data: series -> (time, value) rows in the order returned.
pub type Dump = BTreeMap<String, Vec<(i64, f64)>>;

type Key = (String, i64);

#[derive(Debug)]
pub struct Problem {
    pub key: Option<Key>,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Report {
    /// The first `KEEP` problems.
    pub problems: Vec<Problem>,
    pub total: usize,
    /// Keys that had to be present (rule 3), on each node.
    pub acked_keys: usize,
    /// Of those, keys whose exact value was known (rule 4).
    pub exact_keys: usize,
    /// Stored points checked against the ledger, all nodes together.
    pub stored_points: usize,
}

const KEEP: usize = 20;

impl Report {
    fn add(&mut self, key: Option<&Key>, text: String) {
        self.total += 1;
        if self.problems.len() < KEEP {
            self.problems.push(Problem {
                key: key.cloned(),
                text,
            });
        }
    }

    pub fn passed(&self) -> bool {
        self.total == 0
    }

    /// The first problems; for the first few keys, each node's value and
    /// every ledger entry that touched the key.
    pub fn render(&self, entries: &[Entry], dumps: &[Dump]) -> String {
        let mut out = format!(
            "{} problem(s); the first {}:\n",
            self.total,
            self.problems.len()
        );
        let mut explained = BTreeSet::new();
        for p in &self.problems {
            out.push_str(&format!("  - {}\n", p.text));
            let Some(key) = &p.key else { continue };
            if explained.len() >= 5 || !explained.insert(key.clone()) {
                continue;
            }
            for (i, d) in dumps.iter().enumerate() {
                let v = d
                    .get(&key.0)
                    .and_then(|rows| rows.iter().find(|r| r.0 == key.1));
                out.push_str(&format!("      on {}: {:?}\n", name(i), v.map(|r| r.1)));
            }
            for e in entries.iter().filter(|e| touches(e, key)) {
                out.push_str(&format!("      ledger: {e}\n"));
            }
        }
        out
    }
}

fn touches(e: &Entry, key: &Key) -> bool {
    match &e.op {
        Op::Insert { series, points } => *series == key.0 && points.iter().any(|p| p.0 == key.1),
        Op::Delete { series, start, end } => *series == key.0 && (*start..=*end).contains(&key.1),
        Op::Drop { series, .. } => series.contains(&key.0),
    }
}

/// The ledger, indexed for the rules.
struct Model<'a> {
    entries: &'a [Entry],
    /// value code -> (key, entry index), every outcome.
    by_code: HashMap<i64, (Key, usize)>,
    /// key -> entries of the writes (not Failed) to it.
    writes: HashMap<Key, Vec<usize>>,
    deletes: HashMap<&'a str, SeriesDeletes>,
}

/// A series' deletes (not Failed) as (start, end, entry), by start, and
/// the longest range, to bound the search for those holding a time.
type SeriesDeletes = (Vec<(i64, i64, usize)>, i64);

impl<'a> Model<'a> {
    fn new(entries: &'a [Entry], report: &mut Report) -> Model<'a> {
        let mut m = Model {
            entries,
            by_code: HashMap::new(),
            writes: HashMap::new(),
            deletes: HashMap::new(),
        };
        for (i, e) in entries.iter().enumerate() {
            match &e.op {
                Op::Insert { series, points } => {
                    for &(t, code) in points {
                        let key = (series.clone(), t);
                        if m.by_code.insert(code, (key.clone(), i)).is_some() {
                            report.add(Some(&key), format!("the test wrote value {code} twice"));
                        }
                        if e.outcome != Outcome::Failed {
                            m.writes.entry(key).or_default().push(i);
                        }
                    }
                }
                Op::Delete { series, start, end } if e.outcome != Outcome::Failed => {
                    m.add_delete(series, *start, *end, i);
                }
                Op::Drop { series, .. } if e.outcome != Outcome::Failed => {
                    for s in series {
                        m.add_delete(s, DROP_RANGE.0, DROP_RANGE.1, i);
                    }
                }
                Op::Delete { .. } | Op::Drop { .. } => {}
            }
        }
        for d in m.deletes.values_mut() {
            d.0.sort_unstable();
        }
        m
    }

    /// A drop is a delete of every time: the series' points older than it
    /// go, its later ones stay (a write after a drop creates it again).
    fn add_delete(&mut self, series: &'a str, start: i64, end: i64, entry: usize) {
        let d = self.deletes.entry(series).or_default();
        d.0.push((start, end, entry));
        d.1 = d.1.max(end - start);
    }

    /// The deletes (not Failed) whose range holds the key.
    fn deletes_of(&self, key: &Key) -> Vec<&'a Entry> {
        let Some((ds, longest)) = self.deletes.get(key.0.as_str()) else {
            return Vec::new();
        };
        let from = ds.partition_point(|d| d.0 < key.1 - longest);
        ds[from..]
            .iter()
            .take_while(|d| d.0 <= key.1)
            .filter(|d| d.1 >= key.1)
            .map(|d| &self.entries[d.2])
            .collect()
    }

    /// Rule 5: something Acked touched the key surely after `w`.
    fn overtaken(&self, key: &Key, w: &Entry) -> bool {
        let acked_after = |e: &&Entry| e.outcome == Outcome::Acked && w.surely_before(e);
        self.writes[key]
            .iter()
            .map(|&i| &self.entries[i])
            .any(|e| acked_after(&e))
            || self.deletes_of(key).iter().any(acked_after)
    }
}

pub fn check(entries: &[Entry], dumps: &[Dump]) -> Report {
    let mut report = Report::default();
    let model = Model::new(entries, &mut report);

    // Rules 2 and 5, node by node.
    let mut maps: Vec<BTreeMap<Key, f64>> = Vec::new();
    for (n, dump) in dumps.iter().enumerate() {
        let node = name(n);
        let mut map = BTreeMap::new();
        for (series, rows) in dump {
            for &(t, v) in rows {
                let key = (series.clone(), t);
                report.stored_points += 1;
                if map.insert(key.clone(), v).is_some() {
                    report.add(
                        Some(&key),
                        format!("{node}: {series} has two rows at time {t}"),
                    );
                    continue;
                }
                let at = format!("{node}: {series}@{t} = {v}");
                match decode(v).and_then(|c| model.by_code.get(&c)) {
                    None => report.add(Some(&key), format!("{at}, a value no client wrote")),
                    Some((k, _)) if *k != key => report.add(
                        Some(&key),
                        format!("{at}, a value written to {}@{}", k.0, k.1),
                    ),
                    Some(&(_, i)) => match &entries[i] {
                        w if w.outcome == Outcome::Failed => report.add(
                            Some(&key),
                            format!("{at}, from a write answered with an error"),
                        ),
                        w if w.outcome == Outcome::Acked && model.overtaken(&key, w) => report.add(
                            Some(&key),
                            format!(
                                "{at}, but an acknowledged write or delete came surely after it"
                            ),
                        ),
                        _ => {}
                    },
                }
            }
        }
        maps.push(map);
    }

    // Rules 3 and 4.
    let mut keys: Vec<(&Key, &Vec<usize>)> = model.writes.iter().collect();
    keys.sort_unstable();
    for (key, writes) in keys {
        let writes: Vec<&Entry> = writes.iter().map(|&i| &entries[i]).collect();
        let deletes = model.deletes_of(key);
        let must_exist = writes
            .iter()
            .filter(|w| w.outcome == Outcome::Acked)
            .any(|w| {
                deletes
                    .iter()
                    .all(|d| d.outcome == Outcome::Acked && d.surely_before(w))
            });
        if !must_exist {
            continue;
        }
        report.acked_keys += 1;
        let last = writes.iter().find(|w| {
            w.outcome == Outcome::Acked
                && writes.iter().all(|o| {
                    std::ptr::eq(*o, **w) || (o.outcome == Outcome::Acked && o.surely_before(w))
                })
                && deletes
                    .iter()
                    .all(|d| d.outcome == Outcome::Acked && d.surely_before(w))
        });
        let exact = last.map(|w| code_of(w, key));
        report.exact_keys += usize::from(exact.is_some());
        for (n, map) in maps.iter().enumerate() {
            match (map.get(key), exact) {
                (None, _) => report.add(
                    Some(key),
                    format!("{}: acknowledged {}@{} is missing", name(n), key.0, key.1),
                ),
                (Some(v), Some(code)) if decode(*v) != Some(code) => report.add(
                    Some(key),
                    format!(
                        "{}: {}@{} = {v}, but the last write stored {code}",
                        name(n),
                        key.0,
                        key.1
                    ),
                ),
                _ => {}
            }
        }
    }

    // Rule 1.
    for (n, dump) in dumps.iter().enumerate().skip(1) {
        let (a, b) = (&dumps[0], dump);
        for s in a.keys().filter(|s| !b.contains_key(*s)) {
            report.add(
                None,
                format!("series {s} exists on {} but not on {}", name(0), name(n)),
            );
        }
        for s in b.keys().filter(|s| !a.contains_key(*s)) {
            report.add(
                None,
                format!("series {s} exists on {} but not on {}", name(n), name(0)),
            );
        }
        let (ma, mb) = (&maps[0], &maps[n]);
        for key in ma.keys().chain(mb.keys()).collect::<BTreeSet<_>>() {
            let (va, vb) = (ma.get(key), mb.get(key));
            if va != vb {
                report.add(
                    Some(key),
                    format!(
                        "{}@{}: {} has {va:?}, {} has {vb:?}",
                        key.0,
                        key.1,
                        name(0),
                        name(n)
                    ),
                );
            }
        }
    }
    report
}

/// The value `w` wrote at `key`.
fn code_of(w: &Entry, key: &Key) -> i64 {
    match &w.op {
        Op::Insert { points, .. } => points.iter().find(|p| p.0 == key.1).map_or(-1, |p| p.1),
        Op::Delete { .. } | Op::Drop { .. } => -1,
    }
}

//! A series' alias, tags and attributes (IoTDB's names): small text held in
//! the series' record, replicated as cells that each carry the version of
//! the change that set them, so two nodes that changed the same series
//! apart end with the same labels whatever order the changes arrive in:
//! per (kind, key) the newest cell wins, a removed key is a cell without a
//! value, and a drop of the series voids every cell older than the drop.

use crate::codec::{put_str, Reader};
use crate::error::{Error, Result};
use crate::hlc::Version;

/// What a cell labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LabelKind {
    /// The series' other name under its device (the key is empty).
    Alias = 0,
    /// Indexed: `SHOW TIMESERIES WHERE TAGS(k) = v`, `GROUP BY TAGS(k)`.
    Tag = 1,
    /// Shown, not indexed.
    Attribute = 2,
}

impl LabelKind {
    fn from_u8(v: u8) -> Option<LabelKind> {
        Some(match v {
            0 => LabelKind::Alias,
            1 => LabelKind::Tag,
            2 => LabelKind::Attribute,
            _ => return None,
        })
    }
}

/// One label as of `version`: `value` None means removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelCell {
    pub kind: LabelKind,
    pub key: String,
    pub value: Option<String>,
    pub version: Version,
}

/// IoTDB's default `tag_attribute_total_size`: the bytes of one series'
/// tag and attribute keys and values together.
pub const MAX_LABEL_BYTES: usize = 700;
/// Longest alias (IoTDB bounds a path node the same way).
pub const MAX_ALIAS_BYTES: usize = 255;

impl LabelCell {
    /// Count, then per cell kind, key, present flag and value, version.
    pub(crate) fn put_all(out: &mut Vec<u8>, cells: &[LabelCell]) {
        crate::codec::put_varint(out, cells.len() as u64);
        for c in cells {
            out.push(c.kind as u8);
            put_str(out, &c.key);
            match &c.value {
                Some(v) => {
                    out.push(1);
                    put_str(out, v);
                }
                None => out.push(0),
            }
            out.extend_from_slice(&c.version.hlc.to_le_bytes());
            out.extend_from_slice(&c.version.node.to_le_bytes());
        }
    }

    pub(crate) fn read_all(r: &mut Reader<'_>) -> Result<Vec<LabelCell>> {
        let n = r.count(15)?;
        let mut cells = Vec::with_capacity(n);
        for _ in 0..n {
            let k = r.u8()?;
            let kind = LabelKind::from_u8(k).ok_or_else(|| r.corrupt(format!("label kind {k}")))?;
            let key = r.string()?;
            let value = match r.u8()? {
                0 => None,
                1 => Some(r.string()?),
                f => return Err(r.corrupt(format!("bad label flag {f}"))),
            };
            let version = Version::new(r.u64()?, r.u32()?);
            cells.push(LabelCell {
                kind,
                key,
                value,
                version,
            });
        }
        Ok(cells)
    }
}

/// Merges `incoming` into `cells` (kept sorted by kind and key): a cell
/// replaces the one it names when newer; cells not newer than `void`
/// (the newest drop of the series) are left out. Returns whether
/// anything changed.
pub fn merge(cells: &mut Vec<LabelCell>, incoming: &[LabelCell], void: Option<Version>) -> bool {
    let mut changed = false;
    for c in incoming {
        if void.is_some_and(|d| c.version <= d) {
            continue;
        }
        match cells.binary_search_by(|x| (x.kind, x.key.as_str()).cmp(&(c.kind, c.key.as_str()))) {
            Ok(i) if cells[i].version < c.version => {
                cells[i] = c.clone();
                changed = true;
            }
            Ok(_) => {}
            Err(i) => {
                cells.insert(i, c.clone());
                changed = true;
            }
        }
    }
    changed
}

/// Removes the cells not newer than `version` (a drop that kept the series
/// because it was written since). Returns whether anything changed.
pub fn void_through(cells: &mut Vec<LabelCell>, version: Version) -> bool {
    let before = cells.len();
    cells.retain(|c| c.version > version);
    cells.len() != before
}

/// The live labels of one kind, in key order.
pub fn live(cells: &[LabelCell], kind: LabelKind) -> impl Iterator<Item = (&str, &str)> {
    cells
        .iter()
        .filter(move |c| c.kind == kind)
        .filter_map(|c| c.value.as_deref().map(|v| (c.key.as_str(), v)))
}

/// The alias, if the series has one.
pub fn alias(cells: &[LabelCell]) -> Option<&str> {
    live(cells, LabelKind::Alias).next().map(|(_, v)| v)
}

/// The value of a live tag or attribute.
pub fn get<'a>(cells: &'a [LabelCell], kind: LabelKind, key: &str) -> Option<&'a str> {
    live(cells, kind).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The bytes of a series' live tag and attribute keys and values.
fn label_bytes(cells: &[LabelCell]) -> usize {
    cells
        .iter()
        .filter(|c| c.kind != LabelKind::Alias)
        .filter_map(|c| c.value.as_ref().map(|v| c.key.len() + v.len()))
        .sum()
}

/// Checks what a local change leaves (from `before`): keys and values not
/// empty, the alias a plain name, tags and attributes within
/// [`MAX_LABEL_BYTES`] unless the change makes them smaller (two nodes'
/// changes together may pass it; a later drop must still work).
pub fn check(path: &str, cells: &[LabelCell], before: &[LabelCell]) -> Result<()> {
    for c in cells.iter().filter(|c| c.value.is_some()) {
        let v = c.value.as_deref().unwrap_or_default();
        match c.kind {
            LabelKind::Alias => {
                // A name a path can hold unquoted (IoTDB: "Not support for
                // this alias, Please enclose in back quotes").
                let plain = v.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !v.chars().all(|c| c.is_ascii_digit());
                if v.is_empty() || v.len() > MAX_ALIAS_BYTES || !plain {
                    return Err(Error::invalid(format!(
                        "alias {v:?} of {path}: an alias is 1 to {MAX_ALIAS_BYTES} bytes of \
                         letters, digits and _, not only digits"
                    )));
                }
            }
            _ if c.key.is_empty() => {
                return Err(Error::invalid(format!(
                    "an empty tag or attribute key on {path}"
                )));
            }
            _ => {}
        }
    }
    let bytes = label_bytes(cells);
    if bytes > MAX_LABEL_BYTES && bytes > label_bytes(before) {
        return Err(Error::invalid(format!(
            "the tags and attributes of {path} would take {bytes} bytes, over IoTDB's \
             tag_attribute_total_size of {MAX_LABEL_BYTES}"
        )));
    }
    Ok(())
}

/// Tags or attributes as IoTDB shows them: `{"k":"v",...}` in the order
/// IoTDB lists them (see [`iotdb_order`]), None when there are none.
/// Unlike IoTDB, quotes and control characters are escaped, so the text
/// is JSON whatever the values hold.
pub fn to_json(cells: &[LabelCell], kind: LabelKind) -> Option<String> {
    let mut out = String::new();
    let pairs: Vec<(&str, &str)> = live(cells, kind).collect();
    for (k, v) in iotdb_order(pairs) {
        out.push(if out.is_empty() { '{' } else { ',' });
        json_str(&mut out, k);
        out.push(':');
        json_str(&mut out, v);
    }
    if out.is_empty() {
        return None;
    }
    out.push('}');
    Some(out)
}

/// IoTDB keeps a series' tags (and attributes) in a Java `HashMap` and
/// lists them in its iteration order: by bucket of the key's
/// `String.hashCode` (spread as `h ^ h >>> 16`) in a table sized for the
/// entries (a power of two holding them at load factor 0.75). Within a
/// bucket Duet keeps key order (IoTDB's is the order they were stored).
pub fn iotdb_order<'a>(mut pairs: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    let n = pairs.len();
    // HashMap(n): capacity tableSizeFor(n), doubled while n exceeds 3/4.
    let mut cap = n.max(1).next_power_of_two();
    while n * 4 > cap * 3 {
        cap *= 2;
    }
    let bucket = |k: &str| {
        let h = k
            .encode_utf16()
            .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32)) as u32;
        ((h ^ (h >> 16)) as usize) & (cap - 1)
    };
    pairs.sort_by(|a, b| (bucket(a.0), a.0).cmp(&(bucket(b.0), b.0)));
    pairs
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Labels a statement or request gives a new series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewLabels {
    pub alias: Option<String>,
    pub tags: Vec<(String, String)>,
    pub attributes: Vec<(String, String)>,
}

impl NewLabels {
    pub fn is_empty(&self) -> bool {
        self.alias.is_none() && self.tags.is_empty() && self.attributes.is_empty()
    }

    /// The cells, at `version`. A key given twice for one kind keeps its
    /// last value (IoTDB's); one that is both a tag and an attribute is
    /// refused, as IoTDB refuses it.
    pub fn cells(&self, path: &str, version: Version) -> Result<Vec<LabelCell>> {
        let mut cells = Vec::new();
        if let Some(a) = &self.alias {
            cells.push(LabelCell {
                kind: LabelKind::Alias,
                key: String::new(),
                value: Some(a.clone()),
                version,
            });
        }
        for (kind, list) in [
            (LabelKind::Tag, &self.tags),
            (LabelKind::Attribute, &self.attributes),
        ] {
            for (k, v) in list {
                if kind == LabelKind::Attribute
                    && cells
                        .iter()
                        .any(|c| c.kind == LabelKind::Tag && c.key == *k)
                {
                    return Err(Error::invalid(format!(
                        "Tag and attribute shouldn't have the same property key [{k}] ({path})"
                    )));
                }
                cells.retain(|c| !(c.kind == kind && c.key == *k));
                cells.push(LabelCell {
                    kind,
                    key: k.clone(),
                    value: Some(v.clone()),
                    version,
                });
            }
        }
        cells.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
        check(path, &cells, &[])?;
        Ok(cells)
    }
}

impl LabelKind {
    pub fn noun(self) -> &'static str {
        match self {
            LabelKind::Alias => "alias",
            LabelKind::Tag => "tag",
            LabelKind::Attribute => "attribute",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(kind: LabelKind, key: &str, value: Option<&str>, hlc: u64) -> LabelCell {
        LabelCell {
            kind,
            key: key.into(),
            value: value.map(str::to_string),
            version: Version::new(hlc, 1),
        }
    }

    #[test]
    fn newest_cell_wins_in_any_order() {
        let a = cell(LabelKind::Tag, "unit", Some("c"), 5);
        let b = cell(LabelKind::Tag, "unit", None, 7);
        let c = cell(LabelKind::Attribute, "unit", Some("x"), 6);
        let mut one = Vec::new();
        merge(&mut one, &[a.clone(), b.clone(), c.clone()], None);
        let mut two = Vec::new();
        merge(&mut two, &[c, b], None);
        merge(&mut two, &[a], None);
        assert_eq!(one, two);
        assert_eq!(get(&one, LabelKind::Tag, "unit"), None);
        assert_eq!(get(&one, LabelKind::Attribute, "unit"), Some("x"));
    }

    #[test]
    fn a_drop_voids_older_cells() {
        let mut cells = Vec::new();
        let v = Some(Version::new(6, 1));
        merge(&mut cells, &[cell(LabelKind::Tag, "a", Some("1"), 5)], v);
        assert!(cells.is_empty());
        merge(&mut cells, &[cell(LabelKind::Tag, "a", Some("1"), 7)], v);
        assert_eq!(cells.len(), 1);
        assert!(void_through(&mut cells, Version::new(7, 1)));
        assert!(cells.is_empty());
    }

    #[test]
    fn json_as_iotdb_shows_it() {
        let cells = vec![
            cell(LabelKind::Tag, "owner", Some("a\"b"), 1),
            cell(LabelKind::Tag, "unit", Some("c"), 1),
        ];
        assert_eq!(
            to_json(&cells, LabelKind::Tag).as_deref(),
            Some(r#"{"owner":"a\"b","unit":"c"}"#)
        );
        assert_eq!(to_json(&cells, LabelKind::Attribute), None);
    }

    /// The orders IoTDB's tests and documentation print (IoTDBTagIT,
    /// IoTDBTagAlterIT, Operate-Metadata).
    #[test]
    fn iotdb_lists_keys_in_hash_map_order() {
        for want in [
            vec!["attr2", "attr1"],
            vec!["tag1", "tag4", "tag2", "tag3"],
            vec!["attr2", "attr1", "attr4", "attr3"],
            vec!["description", "unit"],
            vec!["MinValue", "MaxValue"],
            vec!["newTag1", "tag4", "tag3"],
            vec!["tag4", "tag1", "tag5"],
        ] {
            let mut sorted = want.clone();
            sorted.sort();
            let got: Vec<&str> = iotdb_order(sorted.iter().map(|k| (*k, "")).collect())
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn encoding_round_trips() {
        let cells = vec![
            cell(LabelKind::Alias, "", Some("temp"), 3),
            cell(LabelKind::Tag, "k", None, 4),
        ];
        let mut out = Vec::new();
        LabelCell::put_all(&mut out, &cells);
        let mut r = Reader::new(&out, "labels");
        assert_eq!(LabelCell::read_all(&mut r).unwrap(), cells);
        assert!(r.is_empty());
    }
}

//! Privileges, IoTDB style (1.3's model): each user holds a list of grants,
//! a path (a full path, or a prefix ending in `.**`) with a set of
//! privileges and, per privilege, whether the user may pass it on (`WITH
//! GRANT OPTION`). Path privileges (`READ_DATA`, `WRITE_DATA`,
//! `READ_SCHEMA`, `WRITE_SCHEMA`) reach the series their path matches;
//! global ones (`MANAGE_DATABASE`, `MANAGE_USER`, `USE_PIPE`, `MAINTAIN`,
//! and Duet's `REPLICATION`: receiving a peer's pipe) are granted on
//! `root.**`. `root` holds everything and cannot be granted or revoked.
//!
//! Everything here is pure: the engine stores a user's [`Grants`] in `meta`
//! (`users.rs`) and the executor asks them questions.

use crate::error::{Error, Result};
use crate::schema::{matches, matches_prefix_of, path_nodes};

/// One privilege. The discriminant is its bit in a grant's mask (stored:
/// never renumber).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum Privilege {
    ReadData = 1,
    WriteData = 1 << 1,
    ReadSchema = 1 << 2,
    WriteSchema = 1 << 3,
    ManageDatabase = 1 << 4,
    ManageUser = 1 << 5,
    UsePipe = 1 << 6,
    Maintain = 1 << 7,
    Replication = 1 << 8,
}

impl Privilege {
    pub const ALL: [Privilege; 9] = [
        Privilege::ReadData,
        Privilege::WriteData,
        Privilege::ReadSchema,
        Privilege::WriteSchema,
        Privilege::ManageDatabase,
        Privilege::ManageUser,
        Privilege::UsePipe,
        Privilege::Maintain,
        Privilege::Replication,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Privilege::ReadData => "READ_DATA",
            Privilege::WriteData => "WRITE_DATA",
            Privilege::ReadSchema => "READ_SCHEMA",
            Privilege::WriteSchema => "WRITE_SCHEMA",
            Privilege::ManageDatabase => "MANAGE_DATABASE",
            Privilege::ManageUser => "MANAGE_USER",
            Privilege::UsePipe => "USE_PIPE",
            Privilege::Maintain => "MAINTAIN",
            Privilege::Replication => "REPLICATION",
        }
    }

    /// A name as written in `GRANT`, with IoTDB's composites: `ALL`,
    /// `READ` (READ_SCHEMA + READ_DATA), `WRITE` (WRITE_SCHEMA +
    /// WRITE_DATA).
    pub fn parse_set(name: &str) -> Option<Vec<Privilege>> {
        let upper = name.to_ascii_uppercase();
        match upper.as_str() {
            "ALL" => Some(Privilege::ALL.to_vec()),
            "READ" => Some(vec![Privilege::ReadSchema, Privilege::ReadData]),
            "WRITE" => Some(vec![Privilege::WriteSchema, Privilege::WriteData]),
            _ => Privilege::ALL
                .iter()
                .copied()
                .find(|p| p.name() == upper)
                .map(|p| vec![p]),
        }
    }

    /// Path privileges reach the series below their path; the others are
    /// node-wide and granted on `root.**`.
    pub fn on_paths(self) -> bool {
        matches!(
            self,
            Privilege::ReadData
                | Privilege::WriteData
                | Privilege::ReadSchema
                | Privilege::WriteSchema
        )
    }

    /// The privileges that include this one (IoTDB: WRITE_DATA allows
    /// reading, WRITE_SCHEMA allows reading the schema; a peer's
    /// REPLICATION user reads everything, as dual reads and VERIFY REPLICA
    /// ask it to).
    fn satisfied_by(self) -> u16 {
        let bit = self as u16;
        let replication = Privilege::Replication as u16;
        bit | match self {
            Privilege::ReadData => Privilege::WriteData as u16 | replication,
            Privilege::ReadSchema => Privilege::WriteSchema as u16 | replication,
            _ => 0,
        }
    }
}

/// The path every global privilege is granted on.
pub const ROOT_ALL: &str = "root.**";

/// One grant: a path and the privileges held on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub path: String,
    /// Bits of [`Privilege`].
    pub privileges: u16,
    /// The subset that may be passed on.
    pub grant_option: u16,
}

/// A user's grants. Paths are unique; a grant with no privilege left is
/// removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub grants: Vec<Grant>,
}

/// Checks a grant path: a full path, or a prefix ending in `.**` (IoTDB:
/// `root.**`, `root.t1.t2.**`, `root.t1.t2.t3`; not `root.t1.*`,
/// `root.**.t2` or `root.t1*.t2`).
pub fn check_grant_path(path: &str) -> Result<()> {
    let nodes = path_nodes(path);
    let (last, head) = nodes.split_last().unwrap_or((&"", &[]));
    let wild = |n: &&str| n.contains('*');
    if nodes.first() != Some(&"root")
        || nodes.iter().any(|n| n.is_empty())
        || head.iter().any(wild)
        || (wild(last) && *last != "**")
        || (nodes.len() == 1)
    {
        return Err(Error::invalid(format!(
            "privileges are granted on a full path or a path ending in .** \
             (root.**, root.ln.**, root.ln.d1.s1), not on {path}"
        )));
    }
    Ok(())
}

/// Does the grant path `grant` reach every path `pattern` can match?
/// (`root.ln.**` covers `root.ln.d1.s1`, `root.ln.*.s1` and `root.ln.**`;
/// not `root.*.s1`.)
pub fn covers(grant: &str, pattern: &str) -> bool {
    let g = path_nodes(grant);
    let p = path_nodes(pattern);
    match g.split_last() {
        Some((&"**", prefix)) => {
            p.len() > prefix.len()
                && prefix
                    .iter()
                    .zip(&p)
                    .all(|(a, b)| a == b && !b.contains('*'))
        }
        _ => g == p && !p.iter().any(|n| n.contains('*')),
    }
}

impl Grants {
    /// Whether these grants allow `privilege` on the concrete `path` (for a
    /// global privilege, `path` is ignored).
    pub fn allows(&self, privilege: Privilege, path: &str) -> bool {
        let want = privilege.satisfied_by();
        if !privilege.on_paths() {
            return self.grants.iter().any(|g| g.privileges & want != 0);
        }
        let nodes = path_nodes(path);
        self.grants
            .iter()
            .filter(|g| g.privileges & want != 0)
            .any(|g| matches(&path_nodes(&g.path), &nodes))
    }

    /// Whether these grants allow `privilege` on every path `pattern` can
    /// match.
    pub fn allows_all(&self, privilege: Privilege, pattern: &str) -> bool {
        let want = privilege.satisfied_by();
        if !privilege.on_paths() {
            return self.grants.iter().any(|g| g.privileges & want != 0);
        }
        self.grants
            .iter()
            .filter(|g| g.privileges & want != 0)
            .any(|g| covers(&g.path, pattern))
    }

    /// Whether these grants allow `privilege` on some path at or below
    /// `prefix` (what makes a database or a device visible).
    pub fn reaches(&self, privilege: Privilege, prefix: &str) -> bool {
        let want = privilege.satisfied_by();
        let nodes = path_nodes(prefix);
        self.grants
            .iter()
            .filter(|g| g.privileges & want != 0)
            .any(|g| matches_prefix_of(&path_nodes(&g.path), &nodes))
    }

    /// Whether these grants may pass `privilege` on for `path` (a grant
    /// path): held with grant option on a path that covers it.
    pub fn may_grant(&self, privilege: Privilege, path: &str) -> bool {
        let bit = privilege as u16;
        self.grants
            .iter()
            .filter(|g| g.grant_option & bit != 0)
            .any(|g| covers(&g.path, path))
    }

    /// Adds `privileges` on `path` (merged with what the path holds).
    pub fn grant(&mut self, path: &str, privileges: &[Privilege], grant_option: bool) {
        let bits = privileges.iter().fold(0u16, |a, p| a | *p as u16);
        match self.grants.iter_mut().find(|g| g.path == path) {
            Some(g) => {
                g.privileges |= bits;
                if grant_option {
                    g.grant_option |= bits;
                }
            }
            None => self.grants.push(Grant {
                path: path.to_string(),
                privileges: bits,
                grant_option: if grant_option { bits } else { 0 },
            }),
        }
        self.grants.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// Removes `privileges` from every grant path `path` covers (IoTDB:
    /// revoking on `root.ln.**` also clears `root.ln.d1`). Returns whether
    /// anything was removed.
    pub fn revoke(&mut self, path: &str, privileges: &[Privilege]) -> bool {
        let bits = privileges.iter().fold(0u16, |a, p| a | *p as u16);
        let mut changed = false;
        for g in &mut self.grants {
            if (g.path == path || covers(path, &g.path)) && g.privileges & bits != 0 {
                g.privileges &= !bits;
                g.grant_option &= !bits;
                changed = true;
            }
        }
        self.grants.retain(|g| g.privileges != 0);
        changed
    }

    /// Stored form: per grant, the path's length (u16 LE), the path, the
    /// privilege bits and the grant-option bits (u16 LE each).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![1u8];
        for g in &self.grants {
            out.extend_from_slice(&(g.path.len() as u16).to_le_bytes());
            out.extend_from_slice(g.path.as_bytes());
            out.extend_from_slice(&g.privileges.to_le_bytes());
            out.extend_from_slice(&g.grant_option.to_le_bytes());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Grants> {
        let bad = |m: &str| Error::corrupt("privileges record", m.to_string());
        let Some((&1, mut rest)) = bytes.split_first() else {
            return Err(bad("unknown format"));
        };
        let mut grants = Vec::new();
        let take = |rest: &mut &[u8], n: usize| -> Result<Vec<u8>> {
            if rest.len() < n {
                return Err(Error::corrupt("privileges record", "truncated".to_string()));
            }
            let (a, b) = rest.split_at(n);
            *rest = b;
            Ok(a.to_vec())
        };
        let u16_of = |b: Vec<u8>| u16::from_le_bytes([b[0], b[1]]);
        while !rest.is_empty() {
            let len = u16_of(take(&mut rest, 2)?) as usize;
            let path =
                String::from_utf8(take(&mut rest, len)?).map_err(|_| bad("path not UTF-8"))?;
            let privileges = u16_of(take(&mut rest, 2)?);
            let grant_option = u16_of(take(&mut rest, 2)?);
            grants.push(Grant {
                path,
                privileges,
                grant_option,
            });
        }
        Ok(Grants { grants })
    }
}

/// What a session may do: everything (`root`), or what its grants allow.
#[derive(Debug, Clone)]
pub enum Access {
    All,
    Limited(std::sync::Arc<Grants>),
}

impl Access {
    pub fn allows(&self, privilege: Privilege, path: &str) -> bool {
        match self {
            Access::All => true,
            Access::Limited(g) => g.allows(privilege, path),
        }
    }

    pub fn allows_all(&self, privilege: Privilege, pattern: &str) -> bool {
        match self {
            Access::All => true,
            Access::Limited(g) => g.allows_all(privilege, pattern),
        }
    }

    pub fn reaches(&self, privilege: Privilege, prefix: &str) -> bool {
        match self {
            Access::All => true,
            Access::Limited(g) => g.reaches(privilege, prefix),
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Access::All)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_paths_are_full_paths_or_prefixes_with_double_wildcard() {
        for ok in ["root.**", "root.t1.t2.**", "root.t1.t2.t3"] {
            assert!(check_grant_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "root.t1.*",
            "root.**.t2",
            "root.t1*.t2.t3",
            "root",
            "ln.**",
            "root..a",
        ] {
            assert!(check_grant_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_prefix_grant_covers_the_patterns_inside_it_only() {
        assert!(covers("root.ln.**", "root.ln.d1.s1"));
        assert!(covers("root.ln.**", "root.ln.*.s1"));
        assert!(covers("root.ln.**", "root.ln.**"));
        assert!(!covers("root.ln.**", "root.ln"));
        assert!(!covers("root.ln.**", "root.*.s1"));
        assert!(!covers("root.ln.**", "root.**"));
        assert!(!covers("root.ln.**", "root.lnx.d1"));
        assert!(covers("root.**", "root.**"));
        assert!(covers("root.ln.d1.s1", "root.ln.d1.s1"));
        assert!(!covers("root.ln.d1.s1", "root.ln.d1.*"));
    }

    #[test]
    fn write_includes_read_and_revoke_clears_covered_grants() {
        let mut g = Grants::default();
        g.grant("root.ln.**", &[Privilege::WriteData], false);
        g.grant("root.ln.d1.s1", &[Privilege::ReadSchema], true);
        assert!(g.allows(Privilege::ReadData, "root.ln.d1.s1"));
        assert!(g.allows(Privilege::WriteData, "root.ln.d1.s1"));
        assert!(!g.allows(Privilege::WriteData, "root.sg.d1.s1"));
        assert!(!g.allows(Privilege::WriteSchema, "root.ln.d1.s1"));
        assert!(g.may_grant(Privilege::ReadSchema, "root.ln.d1.s1"));
        assert!(!g.may_grant(Privilege::WriteData, "root.ln.d1.s1"));
        assert!(!g.allows(Privilege::ManageUser, ROOT_ALL));
        assert!(g.reaches(Privilege::ReadData, "root.ln"));
        assert!(g.reaches(Privilege::ReadSchema, "root.ln.d1"));
        assert!(!g.reaches(Privilege::ReadSchema, "root.ln.d2"));
        assert!(!g.reaches(Privilege::ReadData, "root.sg"));
        assert_eq!(Grants::decode(&g.encode()).unwrap(), g);
        assert!(g.revoke("root.ln.**", &[Privilege::ReadSchema, Privilege::WriteData]));
        assert!(g.grants.is_empty());
        assert!(!g.revoke("root.ln.**", &[Privilege::ReadData]));
        g.grant(ROOT_ALL, &[Privilege::Replication], false);
        assert!(g.allows_all(Privilege::ReadData, "root.**"));
        assert!(g.allows(Privilege::ReadSchema, "root.x.y"));
        assert!(!g.allows(Privilege::WriteData, "root.x.y"));
    }

    #[test]
    fn broken_records_are_errors() {
        assert!(Grants::decode(&[]).is_err());
        assert!(Grants::decode(&[2]).is_err());
        assert!(Grants::decode(&[1, 5, 0, b'r']).is_err());
        assert!(Grants::decode(&[1, 0]).is_err());
    }
}

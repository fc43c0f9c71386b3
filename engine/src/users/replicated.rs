//! Users and privileges as replicated state. Every change is logged as an
//! [`AuthChange`] carrying the state it leaves, and each piece keeps the
//! version of its last change, so two nodes that have seen the same changes
//! hold the same users, passwords and privileges whatever the order:
//!
//! - a user's password record (`user/<name>`), versioned under
//!   `authv/u/<name>` (kept after a drop as its tombstone);
//! - a reset version (`authv/r/<name>`, the newest create or drop): grants
//!   older than it are void, so a user made again starts with nothing;
//! - one cell per (grant path, privilege), held or not and passable or not,
//!   each with its own version (`authc/<name>`): a REVOKE on one node and a
//!   GRANT of something else on the other both survive; the same
//!   privilege changed on both ends as the newer change says.
//!
//! `priv/<name>` holds the grants those cells make (what sessions read).
//! Records without a version predate replicated users (each node's first
//! `root` among them): any replicated change beats them, and a history
//! transfer does not send them.

use super::{check_name, DEFAULT_USER};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::event::{AuthChange, ChangeEvent, EventBody, GrantCell};
use crate::hlc::Version;
use crate::keys::*;
use crate::privileges::{check_grant_path, Grant, Grants, Privilege, ROOT_ALL};
use std::collections::{BTreeMap, BTreeSet};

/// Meta values this batch wrote (`None`: deleted), read before the
/// database's.
pub(crate) type Pending = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn version_key(what: &str, name: &str) -> Vec<u8> {
    meta_key(PREFIX_AUTHV, &format!("{what}/{name}"))
}

fn cells_key(name: &str) -> Vec<u8> {
    meta_key(PREFIX_AUTHC, name)
}

fn encode_version(v: Version) -> Vec<u8> {
    let mut b = Vec::with_capacity(12);
    b.extend_from_slice(&v.hlc.to_le_bytes());
    b.extend_from_slice(&v.node.to_le_bytes());
    b
}

fn decode_version(b: &[u8]) -> Result<Version> {
    let mut r = crate::codec::Reader::new(b, "auth version");
    let v = Version::new(r.u64()?, r.u32()?);
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(v)
}

/// The cells table, as events carry cells.
fn encode_cells(cells: &[GrantCell]) -> Vec<u8> {
    let mut out = Vec::new();
    GrantCell::put_all(&mut out, cells);
    out
}

fn decode_cells(b: &[u8]) -> Result<Vec<GrantCell>> {
    let mut r = crate::codec::Reader::new(b, "grant cells");
    let cells = GrantCell::read_all(&mut r)?;
    if !r.is_empty() {
        return Err(r.corrupt("trailing bytes"));
    }
    Ok(cells)
}

/// A peer's cell is one known privilege on a grant path, a global one on
/// `root.**` only.
fn check_cell(c: &GrantCell) -> Result<()> {
    check_grant_path(&c.path)?;
    let Some(p) = Privilege::ALL.iter().find(|p| **p as u16 == c.privilege) else {
        return Err(Error::invalid(format!(
            "a replicated grant names privilege bits {:#x}, not one privilege",
            c.privilege
        )));
    };
    if !p.on_paths() && c.path != ROOT_ALL {
        return Err(Error::invalid(format!(
            "a replicated grant puts the global privilege {} on {}",
            p.name(),
            c.path
        )));
    }
    if c.grant_option && !c.held {
        return Err(Error::invalid(
            "a replicated grant passes on a privilege it does not hold",
        ));
    }
    Ok(())
}

/// The meta store as this batch sees it.
struct Meta<'a> {
    db: &'a rocksdb::DB,
    batch: &'a mut rocksdb::WriteBatch,
    pending: &'a mut Pending,
}

impl Meta<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        let meta = crate::store::cf(self.db, CF_META)?;
        self.db
            .get_cf(meta, key)
            .map_err(|e| Error::corrupt("meta", e.to_string()))
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        let meta = crate::store::cf(self.db, CF_META)?;
        self.batch.put_cf(meta, &key, &value);
        self.pending.insert(key, Some(value));
        Ok(())
    }

    fn delete(&mut self, key: Vec<u8>) -> Result<()> {
        let meta = crate::store::cf(self.db, CF_META)?;
        self.batch.delete_cf(meta, &key);
        self.pending.insert(key, None);
        Ok(())
    }

    fn version(&self, key: &[u8]) -> Result<Option<Version>> {
        self.get(key)?.map(|b| decode_version(&b)).transpose()
    }

    /// The user's cells; a user whose grants predate replication starts
    /// from them (at version zero, so any replicated change wins).
    fn cells(&self, name: &str) -> Result<Vec<GrantCell>> {
        if let Some(b) = self.get(&cells_key(name))? {
            return decode_cells(&b);
        }
        let Some(b) = self.get(&meta_key(PREFIX_PRIV, name))? else {
            return Ok(Vec::new());
        };
        let zero = Version::new(0, 0);
        Ok(cells_of(&Grants::decode(&b)?, zero))
    }

    /// Writes the cells and the grants they make (void cells dropped).
    fn store(&mut self, name: &str, mut cells: Vec<GrantCell>) -> Result<()> {
        let reset = self.version(&version_key("r", name))?;
        cells.retain(|c| reset.is_none_or(|r| c.version > r));
        cells.sort_by(|a, b| (&a.path, a.privilege).cmp(&(&b.path, b.privilege)));
        let grants = grants_of_cells(&cells);
        self.put(cells_key(name), encode_cells(&cells))?;
        if grants.grants.is_empty() {
            self.delete(meta_key(PREFIX_PRIV, name))
        } else {
            self.put(meta_key(PREFIX_PRIV, name), grants.encode())
        }
    }
}

/// The cells `g` holds, one per held privilege, at `version`.
fn cells_of(g: &Grants, version: Version) -> Vec<GrantCell> {
    let mut out = Vec::new();
    for grant in &g.grants {
        for p in Privilege::ALL {
            let bit = p as u16;
            if grant.privileges & bit != 0 {
                out.push(GrantCell {
                    path: grant.path.clone(),
                    privilege: bit,
                    version,
                    held: true,
                    grant_option: grant.grant_option & bit != 0,
                });
            }
        }
    }
    out
}

/// The grants held cells make, by path.
fn grants_of_cells(cells: &[GrantCell]) -> Grants {
    let mut by_path: BTreeMap<&str, (u16, u16)> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.held) {
        let e = by_path.entry(&c.path).or_default();
        e.0 |= c.privilege;
        if c.grant_option {
            e.1 |= c.privilege;
        }
    }
    Grants {
        grants: by_path
            .into_iter()
            .map(|(path, (privileges, grant_option))| Grant {
                path: path.to_string(),
                privileges,
                grant_option,
            })
            .collect(),
    }
}

/// The cells that take `before` to `after`, at `version`: one per
/// (path, privilege) whose held or passable state differs.
pub(super) fn diff(before: &Grants, after: &Grants, version: Version) -> Vec<GrantCell> {
    let state = |g: &Grants, path: &str, bit: u16| {
        g.grants
            .iter()
            .find(|x| x.path == path)
            .map_or((false, false), |x| {
                (x.privileges & bit != 0, x.grant_option & bit != 0)
            })
    };
    let paths: BTreeSet<&str> = before
        .grants
        .iter()
        .chain(&after.grants)
        .map(|g| g.path.as_str())
        .collect();
    let mut out = Vec::new();
    for path in paths {
        for p in Privilege::ALL {
            let bit = p as u16;
            let (b, a) = (state(before, path, bit), state(after, path, bit));
            if b != a {
                out.push(GrantCell {
                    path: path.to_string(),
                    privilege: bit,
                    version,
                    held: a.0,
                    grant_option: a.1,
                });
            }
        }
    }
    out
}

/// Where the number of lanes and passes of a stored or received Argon2id
/// record stop being a password and start being a way to stall logins.
const MAX_T_COST: u32 = 16;
const MAX_LANES: u32 = 4;

/// The Argon2 parameters of a PHC record, if they are ones Duet verifies:
/// Argon2id version 19, a salt and a 32-byte hash, at most 256 MiB, 16
/// passes and 4 lanes.
pub(super) fn checked_params(parsed: &argon2::PasswordHash<'_>) -> Result<argon2::Params> {
    let bad = |m: String| Error::invalid(format!("a password record {m}"));
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(bad(format!("uses {}, not argon2id", parsed.algorithm)));
    }
    if parsed.version != Some(0x13) {
        return Err(bad("is not Argon2 version 19".into()));
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(bad("has no salt or no hash".into()));
    }
    let p = argon2::Params::try_from(parsed).map_err(|e| bad(e.to_string()))?;
    if p.m_cost() > super::MAX_M_COST_KIB
        || p.t_cost() > MAX_T_COST
        || p.p_cost() > MAX_LANES
        || p.output_len() != Some(32)
    {
        return Err(bad("has parameters out of range".into()));
    }
    Ok(p)
}

/// A password record as a change carries it.
fn check_record(rec: &[u8]) -> Result<()> {
    let bad = |m: &str| Error::invalid(format!("a replicated password record {m}"));
    if rec.len() > 512 {
        return Err(bad("is over 512 bytes"));
    }
    let text = std::str::from_utf8(rec).map_err(|_| bad("is not UTF-8"))?;
    let parsed =
        argon2::PasswordHash::new(text).map_err(|e| bad(&format!("does not parse: {e}")))?;
    checked_params(&parsed).map(|_| ())
}

/// Applies a change to users or privileges, local or a peer's (checked
/// first: a peer's bad change is refused whole, nothing applied). `pending`
/// holds what this batch wrote already; `changed` gets the users whose
/// cached grants must go.
pub(crate) fn apply_auth(
    db: &rocksdb::DB,
    batch: &mut rocksdb::WriteBatch,
    version: Version,
    change: &AuthChange,
    pending: &mut Pending,
    changed: &mut BTreeSet<String>,
) -> Result<()> {
    let mut m = Meta { db, batch, pending };
    match change {
        AuthChange::User {
            name,
            record,
            reset,
        } => {
            check_name(name)?;
            match record {
                Some(r) => check_record(r)?,
                None if name == DEFAULT_USER => {
                    return Err(Error::invalid("user root cannot be dropped"))
                }
                None => {}
            }
            let vk = version_key("u", name);
            if m.version(&vk)?.is_none_or(|s| version > s) {
                let key = meta_key(PREFIX_USER, name);
                match record {
                    Some(r) => m.put(key, r.clone())?,
                    None => m.delete(key)?,
                }
                m.put(vk, encode_version(version))?;
            }
            if *reset || record.is_none() {
                apply_reset(&mut m, name, version)?;
            }
        }
        AuthChange::Reset { name } => {
            check_name(name)?;
            apply_reset(&mut m, name, version)?;
        }
        AuthChange::Grants { name, cells } => {
            check_name(name)?;
            if name == DEFAULT_USER {
                return Err(Error::invalid(
                    "user root holds every privilege: nothing is granted to it",
                ));
            }
            cells.iter().try_for_each(check_cell)?;
            if cells.iter().any(|c| c.version > version) {
                return Err(Error::invalid(
                    "a replicated grant is newer than the change carrying it",
                ));
            }
            let mut table = m.cells(name)?;
            for c in cells {
                match table
                    .iter_mut()
                    .find(|t| t.path == c.path && t.privilege == c.privilege)
                {
                    Some(t) if t.version >= c.version => {}
                    Some(t) => *t = c.clone(),
                    None => table.push(c.clone()),
                }
            }
            m.store(name, table)?;
        }
    }
    changed.insert(match change {
        AuthChange::User { name, .. }
        | AuthChange::Reset { name }
        | AuthChange::Grants { name, .. } => name.clone(),
    });
    Ok(())
}

/// Voids `name`'s grants older than `version` (a create or a drop).
fn apply_reset(m: &mut Meta<'_>, name: &str, version: Version) -> Result<()> {
    let rk = version_key("r", name);
    if m.version(&rk)?.is_some_and(|r| r >= version) {
        return Ok(());
    }
    let cells = m.cells(name)?;
    m.put(rk, encode_version(version))?;
    m.store(name, cells)
}

impl Engine {
    /// Users' records, grants, cells and versions as stored, by key (to
    /// compare two nodes: equal when they hold the same users, passwords
    /// and privileges).
    pub fn auth_state(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for prefix in [PREFIX_USER, PREFIX_PRIV, PREFIX_AUTHV, PREFIX_AUTHC] {
            out.extend(
                self.meta_scan(prefix)?
                    .into_iter()
                    .map(|(k, v)| (format!("{prefix}{k}"), v)),
            );
        }
        Ok(out)
    }

    /// Every versioned piece of users and privileges as history events
    /// (origin sequence 0, each with its own version): what a pipe
    /// carrying `auth` sends before it streams.
    pub(crate) fn auth_history(&self) -> Result<Vec<ChangeEvent>> {
        let node = self.node_id();
        let event = |version: Version, change: AuthChange| ChangeEvent {
            origin: node,
            origin_seq: 0,
            version,
            body: EventBody::Auth(change),
        };
        let mut out = Vec::new();
        for (key, v) in self.meta_scan(PREFIX_AUTHV)? {
            let version = decode_version(&v)?;
            let (what, name) = key
                .split_once('/')
                .ok_or_else(|| Error::corrupt("auth version", format!("key {key:?}")))?;
            let name = name.to_string();
            out.push(match what {
                "u" => event(
                    version,
                    AuthChange::User {
                        record: self.meta_get(&meta_key(PREFIX_USER, &name))?,
                        name,
                        reset: false,
                    },
                ),
                "r" => event(version, AuthChange::Reset { name }),
                _ => return Err(Error::corrupt("auth version", format!("key {key:?}"))),
            });
        }
        for (name, b) in self.meta_scan(PREFIX_AUTHC)? {
            let cells = decode_cells(&b)?;
            let Some(newest) = cells.iter().map(|c| c.version).max() else {
                continue;
            };
            out.push(event(newest, AuthChange::Grants { name, cells }));
        }
        Ok(out)
    }
}

//! Users and passwords, kept in `meta` (not replicated: each node has its
//! own, as in IoTDB). Passwords are stored as iterated SHA-256 of a random
//! salt and the password; a missing user and a wrong password give the same
//! error. The first start creates `root` with password `root`, who holds
//! every privilege; other users hold what was granted to them
//! ([`crate::privileges`], kept under `priv/`).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::keys::*;
use crate::privileges::{check_grant_path, Access, Grants, Privilege, ROOT_ALL};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const ROUNDS: u32 = 20_000;
pub const DEFAULT_USER: &str = "root";
pub const DEFAULT_PASSWORD: &str = "root";

fn hash(salt: &[u8], password: &str, rounds: u32) -> [u8; 32] {
    let mut h: [u8; 32] = Sha256::new()
        .chain_update(salt)
        .chain_update(password.as_bytes())
        .finalize()
        .into();
    for _ in 1..rounds {
        h = Sha256::new()
            .chain_update(salt)
            .chain_update(h)
            .finalize()
            .into();
    }
    h
}

fn record(password: &str) -> Vec<u8> {
    let salt = crate::engine::random_bytes::<16>();
    let mut out = Vec::with_capacity(52);
    out.extend_from_slice(&salt);
    out.extend_from_slice(&ROUNDS.to_le_bytes());
    out.extend_from_slice(&hash(&salt, password, ROUNDS));
    out
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Error::invalid(format!(
            "user name {name:?} must be 1-64 letters, digits or _"
        )));
    }
    Ok(())
}

fn check_password(pw: &str) -> Result<()> {
    if pw.len() < 4 || pw.len() > 128 {
        return Err(Error::invalid("a password must be 4 to 128 characters"));
    }
    Ok(())
}

impl Engine {
    pub(crate) fn ensure_default_user(&self) -> Result<()> {
        if self.meta_scan(PREFIX_USER)?.is_empty() {
            self.meta_put(
                &meta_key(PREFIX_USER, DEFAULT_USER),
                &record(DEFAULT_PASSWORD),
                true,
            )?;
        }
        Ok(())
    }

    pub fn create_user(&self, name: &str, password: &str) -> Result<()> {
        check_name(name)?;
        check_password(password)?;
        let key = meta_key(PREFIX_USER, name);
        if self.meta_get(&key)?.is_some() {
            return Err(Error::AlreadyExists(format!("user {name} already exists")));
        }
        self.meta_put(&key, &record(password), true)
    }

    pub fn alter_password(&self, name: &str, password: &str) -> Result<()> {
        check_password(password)?;
        self.require_user(name)?;
        self.meta_put(&meta_key(PREFIX_USER, name), &record(password), true)
    }

    pub fn drop_user(&self, name: &str) -> Result<()> {
        if name == DEFAULT_USER {
            return Err(Error::invalid("user root cannot be dropped"));
        }
        self.require_user(name)?;
        self.meta_delete(&meta_key(PREFIX_PRIV, name))?;
        self.grants.write().remove(name);
        self.meta_delete(&meta_key(PREFIX_USER, name))
    }

    /// Whether `root` still has the password `root` (costs a password
    /// hash).
    pub fn root_has_default_password(&self) -> bool {
        self.authenticate(DEFAULT_USER, DEFAULT_PASSWORD).is_ok()
    }

    fn require_user(&self, name: &str) -> Result<()> {
        if self.meta_get(&meta_key(PREFIX_USER, name))?.is_none() {
            return Err(Error::NotFound(format!("user {name} does not exist")));
        }
        Ok(())
    }

    /// `name`'s grants (empty for a user who has none; `root`'s are not
    /// stored: it holds everything).
    pub fn grants_of(&self, name: &str) -> Result<Arc<Grants>> {
        if let Some(g) = self.grants.read().get(name) {
            return Ok(g.clone());
        }
        let g = Arc::new(match self.meta_get(&meta_key(PREFIX_PRIV, name))? {
            Some(bytes) => Grants::decode(&bytes)?,
            None => Grants::default(),
        });
        self.grants.write().insert(name.to_string(), g.clone());
        Ok(g)
    }

    /// What a session of `name` may do now. A user dropped while logged
    /// in may do nothing more.
    pub fn access(&self, name: &str) -> Result<Access> {
        if name == DEFAULT_USER {
            return Ok(Access::All);
        }
        if self.grants.read().get(name).is_none() {
            self.require_user(name)
                .map_err(|_| Error::Auth(format!("user {name} no longer exists")))?;
        }
        Ok(Access::Limited(self.grants_of(name)?))
    }

    /// Checks a `GRANT`/`REVOKE`'s paths and privileges: global privileges
    /// go on `root.**` only; `root` holds everything already.
    fn check_grant(name: &str, paths: &[String], privileges: &[Privilege]) -> Result<()> {
        if name == DEFAULT_USER {
            return Err(Error::invalid(
                "user root holds every privilege: nothing can be granted to or revoked from it",
            ));
        }
        for p in paths {
            check_grant_path(p)?;
            if p != ROOT_ALL {
                if let Some(g) = privileges.iter().find(|p| !p.on_paths()) {
                    return Err(Error::invalid(format!(
                        "{} is a global privilege: grant it ON root.**",
                        g.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// `GRANT privileges ON paths TO USER name [WITH GRANT OPTION]`.
    pub fn grant(
        &self,
        name: &str,
        paths: &[String],
        privileges: &[Privilege],
        grant_option: bool,
    ) -> Result<()> {
        Self::check_grant(name, paths, privileges)?;
        self.require_user(name)?;
        let mut g = (*self.grants_of(name)?).clone();
        for p in paths {
            g.grant(p, privileges, grant_option);
        }
        self.store_grants(name, g)
    }

    /// `REVOKE privileges ON paths FROM USER name`: clears them from every
    /// grant path the given paths cover. Revoking what the user does not
    /// hold is an error, as in IoTDB.
    pub fn revoke(&self, name: &str, paths: &[String], privileges: &[Privilege]) -> Result<()> {
        Self::check_grant(name, paths, privileges)?;
        self.require_user(name)?;
        let mut g = (*self.grants_of(name)?).clone();
        let mut changed = false;
        for p in paths {
            changed |= g.revoke(p, privileges);
        }
        if !changed {
            return Err(Error::NotFound(format!(
                "user {name} holds none of those privileges on {}",
                paths.join(", ")
            )));
        }
        self.store_grants(name, g)
    }

    fn store_grants(&self, name: &str, g: Grants) -> Result<()> {
        let mut cache = self.grants.write();
        self.meta_put(&meta_key(PREFIX_PRIV, name), &g.encode(), true)?;
        cache.insert(name.to_string(), Arc::new(g));
        Ok(())
    }

    pub fn list_users(&self) -> Result<Vec<String>> {
        Ok(self
            .meta_scan(PREFIX_USER)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    /// Ok if `password` is `name`'s password.
    pub fn authenticate(&self, name: &str, password: &str) -> Result<()> {
        let fail = || Error::Auth(format!("wrong user name or password for {name:?}"));
        let Some(rec) = self.meta_get(&meta_key(PREFIX_USER, name))? else {
            // As long as a known user's wrong password: the time taken
            // does not tell which user names exist.
            std::hint::black_box(hash(&[0u8; 16], password, ROUNDS));
            return Err(fail());
        };
        if rec.len() != 52 {
            return Err(Error::corrupt(
                "user record",
                format!("{} bytes instead of 52", rec.len()),
            ));
        }
        let rounds = u32::from_le_bytes([rec[16], rec[17], rec[18], rec[19]]);
        let expected = &rec[20..52];
        let got = hash(&rec[..16], password, rounds.clamp(1, 1_000_000));
        // Constant-time comparison.
        if got
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
        {
            Ok(())
        } else {
            Err(fail())
        }
    }
}

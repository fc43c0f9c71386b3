//! Users and passwords, kept in `meta`. Each node has its own unless a
//! pipe's inclusion names `auth` (IoTDB's `auth.*`, or `all`): every change
//! is logged as an [`AuthChange`] carrying the state it leaves, and the
//! newest version of each user's record and grants wins (see
//! [`apply_auth`]). Passwords are stored as Argon2id hashes (the `argon2`
//! crate, OWASP's 12 MiB / 3 passes, as a PHC string that names its
//! parameters, so a later change of cost still reads older records); records an
//! older Duet wrote as iterated SHA-256 are still read, and rewritten as
//! Argon2id at the user's next successful login. A missing user and a
//! wrong password give the same error and take as long. The first start
//! creates `root` with password `root`, who holds every privilege; other
//! users hold what was granted to them ([`crate::privileges`], kept under
//! `priv/`).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::event::{AuthChange, EventBody};

mod replicated;
use crate::keys::*;
use crate::privileges::{check_grant_path, Access, Grants, Privilege, ROOT_ALL};
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params};
use parking_lot::{Condvar, Mutex};
pub(crate) use replicated::{apply_auth, Pending};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

pub const DEFAULT_USER: &str = "root";
pub const DEFAULT_PASSWORD: &str = "root";

/// Argon2id's cost for new records, one of OWASP's recommended settings:
/// 12 MiB of memory, 3 passes, one lane (about 20 ms here).
const M_COST_KIB: u32 = 12 * 1024;
const T_COST: u32 = 3;
/// A stored record asking for more memory than this is damaged, not read.
const MAX_M_COST_KIB: u32 = 256 * 1024;
/// Hashes running at once, each in a memory buffer kept for the next one:
/// a crowd of logins waits here instead of making the node allocate (and
/// its allocator keep) 12 MiB for each of them.
const HASH_SLOTS: usize = 2;

/// Argon2id of `password` with `salt` under `params`, in a pooled buffer.
fn argon2id(params: Params, password: &str, salt: &[u8]) -> Result<[u8; 32]> {
    /// Hashes running, and the buffers free for the next ones.
    type Slots = Mutex<(usize, Vec<Vec<Block>>)>;
    static POOL: (Slots, Condvar) = (Mutex::new((0, Vec::new())), Condvar::new());
    let (state, freed) = &POOL;
    let mut buf = {
        let mut st = state.lock();
        while st.0 >= HASH_SLOTS {
            freed.wait(&mut st);
        }
        st.0 += 1;
        st.1.pop().unwrap_or_default()
    };
    let blocks = params.block_count();
    if buf.len() < blocks {
        buf.resize(blocks, Block::default());
    }
    let mut out = [0u8; 32];
    let r = Argon2::new(Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut buf[..blocks]);
    {
        let mut st = state.lock();
        st.0 -= 1;
        // A record that asked for more than new ones do does not make the
        // pool keep that much.
        if buf.len() <= (M_COST_KIB as usize) {
            st.1.push(buf);
        }
    }
    freed.notify_one();
    r.map_err(|e| Error::corrupt("user record", format!("argon2: {e}")))?;
    Ok(out)
}

/// A stored password record: an Argon2id PHC string
/// (`$argon2id$v=19$m=12288,t=3,p=1$<salt>$<hash>`).
fn record(password: &str) -> Vec<u8> {
    let salt = crate::engine::random_bytes::<16>();
    // The parameters and a 16-byte salt are in range and a 32-byte output
    // fits: these cannot fail.
    let p = Params::new(M_COST_KIB, T_COST, 1, Some(32)).expect("argon2 parameters");
    let hash = argon2id(p.clone(), password, &salt).expect("argon2 with our parameters");
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt");
    PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(argon2::Version::V0x13.into()),
        params: (&p).try_into().expect("argon2 parameters as a string"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&hash).expect("32-byte output")),
    }
    .to_string()
    .into_bytes()
}

/// Whether `password` matches an Argon2id PHC record.
fn verify_argon2(phc: &str, password: &str) -> Result<bool> {
    let bad = |m: String| Error::corrupt("user record", m);
    let parsed = PasswordHash::new(phc).map_err(|e| bad(e.to_string()))?;
    let p = replicated::checked_params(&parsed).map_err(|e| bad(e.to_string()))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(bad("no salt or no hash".into()));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| bad(e.to_string()))?;
    let got = argon2id(p, password, salt)?;
    // Output's equality is constant-time.
    Ok(Output::new(&got).map_err(|e| bad(e.to_string()))? == expected)
}

/// What a record says of `password`.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Right,
    /// Right, in a record of the old form: rewrite it.
    RightButOld,
    Wrong,
}

fn verify(rec: &[u8], password: &str) -> Result<Verdict> {
    let bad = |m: String| Error::corrupt("user record", m);
    if rec.starts_with(b"$argon2") {
        let phc = std::str::from_utf8(rec).map_err(|_| bad("not UTF-8".into()))?;
        return Ok(if verify_argon2(phc, password)? {
            Verdict::Right
        } else {
            Verdict::Wrong
        });
    }
    // The old form: salt (16), rounds (u32 LE), iterated SHA-256 (32).
    if rec.len() != 52 {
        return Err(bad(format!("{} bytes, in no known form", rec.len())));
    }
    let rounds = u32::from_le_bytes([rec[16], rec[17], rec[18], rec[19]]);
    let got = sha256_iterated(&rec[..16], password, rounds.clamp(1, 1_000_000));
    // Constant-time comparison.
    let same = got
        .iter()
        .zip(&rec[20..52])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    Ok(if same {
        Verdict::RightButOld
    } else {
        Verdict::Wrong
    })
}

/// The hash older Duet versions stored (kept to read their records).
fn sha256_iterated(salt: &[u8], password: &str, rounds: u32) -> [u8; 32] {
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

/// A record of no one's password, verified against when the user does not
/// exist so that takes as long as a wrong password.
fn decoy() -> &'static [u8] {
    static DECOY: OnceLock<Vec<u8>> = OnceLock::new();
    DECOY.get_or_init(|| record("no user has this password"))
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

    /// `CREATE USER`: logged as a change (replicated by pipes whose
    /// inclusion names `auth`). The password is hashed before the writer
    /// lock is taken.
    pub fn create_user(&self, name: &str, password: &str) -> Result<()> {
        check_name(name)?;
        check_password(password)?;
        let rec = record(password);
        let key = meta_key(PREFIX_USER, name);
        self.commit_auth(|_| {
            if self.meta_get(&key)?.is_some() {
                return Err(Error::AlreadyExists(format!("user {name} already exists")));
            }
            Ok(AuthChange::User {
                name: name.to_string(),
                record: Some(rec),
                reset: true,
            })
        })
    }

    pub fn alter_password(&self, name: &str, password: &str) -> Result<()> {
        check_password(password)?;
        self.require_user(name)?;
        let rec = record(password);
        self.commit_auth(|_| {
            self.require_user(name)?;
            Ok(AuthChange::User {
                name: name.to_string(),
                record: Some(rec),
                reset: false,
            })
        })
    }

    /// `DROP USER`: the user and its grants.
    pub fn drop_user(&self, name: &str) -> Result<()> {
        if name == DEFAULT_USER {
            return Err(Error::invalid("user root cannot be dropped"));
        }
        self.commit_auth(|_| {
            self.require_user(name)?;
            Ok(AuthChange::User {
                name: name.to_string(),
                record: None,
                reset: true,
            })
        })
    }

    /// Commits a change to users or privileges. It does not wait for the
    /// write gate: revoking or dropping a user must work while the peer is
    /// away, whatever the write mode.
    fn commit_auth(
        &self,
        make: impl FnOnce(crate::hlc::Version) -> Result<AuthChange>,
    ) -> Result<()> {
        self.commit_local_ungated(|v| make(v).map(EventBody::Auth))
            .map(|_| ())
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
        Ok(self.cached_grants(name)?.unwrap_or_default())
    }

    /// `name`'s grants, or `None` if there is no such user, from the cache
    /// or read into it. Read under the cache's write lock: a change that
    /// commits meanwhile drops the entry after this, so a stale read is
    /// never kept.
    fn cached_grants(&self, name: &str) -> Result<Option<Arc<Grants>>> {
        if let Some(g) = self.grants.read().get(name) {
            return Ok(g.clone());
        }
        let mut cache = self.grants.write();
        if let Some(g) = cache.get(name) {
            return Ok(g.clone());
        }
        let g = match self.meta_get(&meta_key(PREFIX_USER, name))? {
            None => None,
            Some(_) => Some(Arc::new(
                match self.meta_get(&meta_key(PREFIX_PRIV, name))? {
                    Some(bytes) => Grants::decode(&bytes)?,
                    None => Grants::default(),
                },
            )),
        };
        cache.insert(name.to_string(), g.clone());
        Ok(g)
    }

    /// What a session of `name` may do now. A user dropped while logged
    /// in may do nothing more.
    pub fn access(&self, name: &str) -> Result<Access> {
        if name == DEFAULT_USER {
            return Ok(Access::All);
        }
        match self.cached_grants(name)? {
            Some(g) => Ok(Access::Limited(g)),
            None => Err(Error::Auth(format!("user {name} no longer exists"))),
        }
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
        self.change_grants(name, |g| {
            for p in paths {
                g.grant(p, privileges, grant_option);
            }
            Ok(())
        })
    }

    /// `REVOKE privileges ON paths FROM USER name`: clears them from every
    /// grant path the given paths cover. Revoking what the user does not
    /// hold is an error, as in IoTDB.
    pub fn revoke(&self, name: &str, paths: &[String], privileges: &[Privilege]) -> Result<()> {
        Self::check_grant(name, paths, privileges)?;
        self.change_grants(name, |g| {
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
            Ok(())
        })
    }

    /// Commits what `change` does to `name`'s grants, read and changed
    /// under the writer lock so two GRANTs at once both count: the cells
    /// whose state it changes, at the change's version.
    fn change_grants(
        &self,
        name: &str,
        change: impl FnOnce(&mut Grants) -> Result<()>,
    ) -> Result<()> {
        self.commit_auth(|version| {
            self.require_user(name)?;
            let before = self.grants_of(name)?;
            let mut after = (*before).clone();
            change(&mut after)?;
            Ok(AuthChange::Grants {
                name: name.to_string(),
                cells: replicated::diff(&before, &after, version),
            })
        })
    }

    pub fn list_users(&self) -> Result<Vec<String>> {
        Ok(self
            .meta_scan(PREFIX_USER)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    /// Ok if `password` is `name`'s password. A record of the old form is
    /// rewritten as Argon2id once its password proved right.
    pub fn authenticate(&self, name: &str, password: &str) -> Result<()> {
        let fail = || Error::Auth(format!("wrong user name or password for {name:?}"));
        let key = meta_key(PREFIX_USER, name);
        let Some(rec) = self.meta_get(&key)? else {
            // As long as a known user's wrong password: the time taken
            // does not tell which user names exist.
            std::hint::black_box(verify(decoy(), password)?);
            return Err(fail());
        };
        match verify(&rec, password)? {
            Verdict::Right => Ok(()),
            Verdict::RightButOld => {
                // Unless a change (a replicated ALTER USER, say) replaced
                // the record while it was verified.
                if self.meta_replace_if(&key, &rec, &record(password))? {
                    tracing::info!("user {name}: password record rewritten as Argon2id");
                }
                Ok(())
            }
            Verdict::Wrong => Err(fail()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_records_verify_and_name_their_parameters() {
        let rec = record("s3cret!");
        let text = std::str::from_utf8(&rec).unwrap();
        assert!(
            text.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"),
            "{text}"
        );
        assert_eq!(verify(&rec, "s3cret!").unwrap(), Verdict::Right);
        assert_eq!(verify(&rec, "s3cret").unwrap(), Verdict::Wrong);
        // Two records of one password differ (salted).
        assert_ne!(record("s3cret!"), rec);
    }

    #[test]
    fn old_sha256_records_still_verify_and_ask_to_be_rewritten() {
        let salt = [7u8; 16];
        let mut rec = salt.to_vec();
        rec.extend_from_slice(&20_000u32.to_le_bytes());
        rec.extend_from_slice(&sha256_iterated(&salt, "pw1234", 20_000));
        assert_eq!(verify(&rec, "pw1234").unwrap(), Verdict::RightButOld);
        assert_eq!(verify(&rec, "pw12345").unwrap(), Verdict::Wrong);
    }

    /// A node whose users an older version stored logs them in, and
    /// rewrites each record as Argon2id at its first good login.
    #[test]
    fn an_old_record_is_rewritten_at_the_first_good_login() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::open(dir.path(), crate::EngineOptions::default()).unwrap();
        let salt = [3u8; 16];
        let mut old = salt.to_vec();
        old.extend_from_slice(&20_000u32.to_le_bytes());
        old.extend_from_slice(&sha256_iterated(&salt, "legacy-pw", 20_000));
        let key = meta_key(PREFIX_USER, "alice");
        e.meta_put(&key, &old, true).unwrap();
        assert!(e.authenticate("alice", "wrong-pw").is_err());
        assert_eq!(
            e.meta_get(&key).unwrap().unwrap(),
            old,
            "a wrong password rewrites nothing"
        );
        e.authenticate("alice", "legacy-pw").unwrap();
        let new = e.meta_get(&key).unwrap().unwrap();
        assert!(
            new.starts_with(b"$argon2id$"),
            "{:?}",
            String::from_utf8_lossy(&new)
        );
        e.authenticate("alice", "legacy-pw").unwrap();
        assert!(e.authenticate("alice", "wrong-pw").is_err());
        assert!(e.authenticate("nobody", "legacy-pw").is_err());
    }

    #[test]
    fn damaged_records_let_no_one_in_and_do_not_panic() {
        for rec in [
            &b""[..],
            b"$argon2id$v=19$garbage",
            b"$argon2id$\xff",
            &[0u8; 51],
            &[0u8; 53],
        ] {
            let v = verify(rec, "pw");
            assert!(
                !matches!(v, Ok(Verdict::Right | Verdict::RightButOld)),
                "{rec:?}: {v:?}"
            );
        }
    }
}

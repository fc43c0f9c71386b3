//! Privileges, checked before a statement or an RPC touches anything (the
//! model is in [`duet_engine::privileges`]). A statement names what it
//! needs; what a query or a `SHOW` reads is narrowed to what the session
//! may see instead (as IoTDB does), see [`crate::select`] and
//! [`crate::ddl`]. `root` passes every check without looking.

use crate::error::{ErrorKind, ExecError, Result};
use crate::{convert, Session};
use duet_engine::privileges::{Access, Privilege, ROOT_ALL};
use duet_engine::users::DEFAULT_USER;
use duet_engine::Engine;
use duet_parser::Statement;

/// The error for a missing privilege, in IoTDB's words (code 803).
pub fn denied(privilege: Privilege, paths: &[String]) -> ExecError {
    ExecError::new(
        ErrorKind::NoPermission,
        format!(
            "No permissions for this operation, please add privilege {} on [{}]",
            privilege.name(),
            paths.join(", ")
        ),
    )
}

/// `privilege` on every path `pattern` can match.
pub fn need(access: &Access, privilege: Privilege, pattern: &str) -> Result<()> {
    if access.allows_all(privilege, pattern) {
        Ok(())
    } else {
        Err(denied(privilege, &[pattern.to_string()]))
    }
}

/// A node-wide privilege.
pub fn need_global(access: &Access, privilege: Privilege) -> Result<()> {
    need(access, privilege, ROOT_ALL)
}

/// Writing points to these series: `WRITE_DATA` on each, `WRITE_SCHEMA`
/// where the write creates the series, `MANAGE_DATABASE` where it creates
/// the database (as IoTDB asks of automatic creation).
pub fn check_write<P: AsRef<str>>(
    engine: &Engine,
    access: &Access,
    series: impl IntoIterator<Item = P>,
) -> Result<()> {
    if access.is_all() {
        return Ok(());
    }
    let schema = engine.schema();
    for path in series {
        let path = path.as_ref();
        if !access.allows(Privilege::WriteData, path) {
            return Err(denied(Privilege::WriteData, &[path.to_string()]));
        }
        if schema.series.contains_key(path) {
            continue;
        }
        if !access.allows(Privilege::WriteSchema, path) {
            return Err(denied(Privilege::WriteSchema, &[path.to_string()]));
        }
        if schema.database_of(path).is_none() {
            need_global(access, Privilege::ManageDatabase)?;
        }
    }
    Ok(())
}

/// The privileges a `GRANT`/`REVOKE` names, expanded (`ALL`, `READ`,
/// `WRITE`).
pub fn privileges_of(names: &[String]) -> Result<Vec<Privilege>> {
    let mut out: Vec<Privilege> = Vec::new();
    for n in names {
        let set = Privilege::parse_set(n)
            .ok_or_else(|| ExecError::semantic(format!("unknown privilege {n}")))?;
        for p in set {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Whether `session` may run `stmt` (reads are narrowed later, not
/// refused here).
pub fn check_statement(session: &Session, stmt: &Statement) -> Result<()> {
    use Privilege as P;
    use Statement as S;
    let a = &session.access;
    if a.is_all() {
        return Ok(());
    }
    let each = |p: P, paths: &[duet_parser::Path]| {
        paths.iter().try_for_each(|x| need(a, p, &convert::path(x)))
    };
    match stmt {
        // Checked with the schema at hand (what the write creates).
        S::Insert { .. } => Ok(()),
        S::Select(_)
        | S::ShowDatabases { .. }
        | S::ShowTimeseries { .. }
        | S::CountTimeseries { .. }
        | S::ShowDevices { .. }
        | S::CountDevices { .. }
        | S::CountDatabases { .. }
        | S::CountNodes { .. }
        | S::ShowChild { .. }
        | S::SetReadMode { .. }
        | S::SetQueryTimeout { .. }
        | S::ShowVersion
        | S::ShowVariables
        | S::ShowTtl { .. } => Ok(()),
        S::SetTtl { .. } | S::UnsetTtl { .. } => need_global(a, P::ManageDatabase),
        // Also what a peer asks with its pipe's user (REPLICATION reads
        // everything).
        S::ShowVersions { pattern, .. } => need(a, P::ReadData, &convert::path(pattern)),
        S::VerifyReplica { pattern, .. } => {
            let p = pattern
                .as_ref()
                .map(convert::path)
                .unwrap_or_else(|| ROOT_ALL.to_string());
            need(a, P::ReadData, &p)
        }
        S::Delete { paths, .. } => each(P::WriteData, paths),
        S::CreateDatabase { .. } | S::DropDatabase { .. } => need_global(a, P::ManageDatabase),
        S::CreateTimeseries { path, .. } | S::AlterTimeseries { path, .. } => {
            each(P::WriteSchema, std::slice::from_ref(path))
        }
        S::CreateAlignedTimeseries { device, series } => series.iter().try_for_each(|s| {
            need(
                a,
                P::WriteSchema,
                &format!("{}.{}", convert::path(device), s.measurement),
            )
        }),
        S::DeleteTimeseries { patterns } => each(P::WriteSchema, patterns),
        S::CreatePipe { .. }
        | S::AlterPipe { .. }
        | S::StartPipe { .. }
        | S::StopPipe { .. }
        | S::DropPipe { .. }
        | S::ShowPipes
        | S::ShowPipesUsedBy { .. }
        | S::ShowPipe { .. }
        | S::SetReplication { .. }
        | S::ShowConflicts
        | S::ReplayConflict { .. } => need_global(a, P::UsePipe),
        S::ShowCluster
        | S::Flush
        | S::Backup { .. }
        | S::BackupIncremental { .. }
        | S::ShowBackups => need_global(a, P::Maintain),
        S::CreateUser { .. } | S::DropUser { .. } | S::ListUser => need_global(a, P::ManageUser),
        S::AlterUserPassword { name, .. } => {
            if *name == session.user {
                Ok(())
            } else if name == DEFAULT_USER {
                Err(ExecError::new(
                    ErrorKind::NoPermission,
                    "only root changes root's password",
                ))
            } else {
                need_global(a, P::ManageUser)
            }
        }
        S::ListPrivileges { user } => {
            if *user == session.user {
                Ok(())
            } else {
                need_global(a, P::ManageUser)
            }
        }
        S::Grant {
            privileges, paths, ..
        }
        | S::Revoke {
            privileges, paths, ..
        } => {
            let Access::Limited(grants) = a else {
                return Ok(());
            };
            for p in privileges_of(privileges)? {
                for path in paths {
                    let path = convert::path(path);
                    if !grants.may_grant(p, &path) {
                        return Err(ExecError::new(
                            ErrorKind::NoPermission,
                            format!(
                                "No permissions for this operation: passing on {} on [{path}] \
                                 needs it granted WITH GRANT OPTION on a path that covers it",
                                p.name()
                            ),
                        ));
                    }
                }
            }
            Ok(())
        }
    }
}

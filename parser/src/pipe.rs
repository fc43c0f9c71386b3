//! Pipe statements (`CREATE/START/STOP/DROP/SHOW PIPE`), user statements
//! and privileges (`GRANT`, `REVOKE`, `LIST PRIVILEGES OF USER`).

use nom::Parser;

use crate::ast::{AlterClause, Path, PipeParams, Statement, PRIVILEGES};
use crate::error::{bad, commit, failure, Res};
use crate::lex::{kw, name, paren_list, string_lit, sym, word, ws};

const PIPE_NAME: &str = "a pipe name";
const USER_NAME: &str = "a user name";

/// `'key' = 'value'`.
fn param(i: &str) -> Res<'_, (String, String)> {
    let (r, key) = string_lit(i).or_else(|_| failure(ws(i), "a quoted key such as 'sink.ip'"))?;
    let (r, _) = sym("=")(r)?;
    let (r, value) = string_lit(r).or_else(|e| match e {
        nom::Err::Error(_) => failure(ws(r), "a quoted value such as '6667'"),
        other => Err(other),
    })?;
    Ok((r, (key, value)))
}

/// After `CREATE PIPE`: `[IF NOT EXISTS] name [WITH SOURCE (...)]
/// [WITH PROCESSOR (...)] WITH SINK (...)`, stages in that order.
pub(crate) fn create_pipe(i: &str) -> Res<'_, Statement> {
    let (rest, if_not_exists) = match (kw("IF"), kw("NOT"), kw("EXISTS")).parse(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    let (mut rest, name) = name(PIPE_NAME)(rest)?;
    let (mut source, mut processor) = (PipeParams::new(), PipeParams::new());
    // 0: nothing yet, 1: after SOURCE, 2: after PROCESSOR.
    let mut stage = 0;
    loop {
        let k = ws(rest);
        let Ok((r, with)) = kw("WITH")(k) else {
            return failure(k, "WITH SINK (...)");
        };
        let j = ws(r);
        let choices = match stage {
            0 => "SOURCE, PROCESSOR or SINK",
            1 => "PROCESSOR or SINK",
            _ => "SINK",
        };
        let Ok((r, which)) = word(j) else {
            return failure(j, choices);
        };
        let what = format!("{} {} (", with, which);
        let upper = which.to_ascii_uppercase();
        match upper.as_str() {
            "SOURCE" | "EXTRACTOR" if stage == 0 => {
                let (r, p) = paren_list(r, &what, true, param)?;
                source = p;
                stage = 1;
                rest = r;
            }
            "PROCESSOR" if stage <= 1 => {
                let (r, p) = paren_list(r, &what, true, param)?;
                processor = p;
                stage = 2;
                rest = r;
            }
            "SINK" | "CONNECTOR" => {
                let (r, sink) = paren_list(r, &what, true, param)?;
                let st = Statement::CreatePipe {
                    if_not_exists,
                    name,
                    source,
                    processor,
                    sink,
                };
                return Ok((r, st));
            }
            _ => return failure(j, choices),
        }
    }
}

/// After `START` or `STOP`: `PIPE name`.
pub(crate) fn start_stop<'a>(verb: &str, i: &'a str) -> Res<'a, Statement> {
    let (rest, _) = kw("PIPE")(i)?;
    let (rest, name) = name(PIPE_NAME)(rest)?;
    let st = if verb == "START" {
        Statement::StartPipe { name }
    } else {
        Statement::StopPipe { name }
    };
    Ok((rest, st))
}

/// After `DROP PIPE`: `[IF EXISTS] name`.
pub(crate) fn drop_pipe(i: &str) -> Res<'_, Statement> {
    let (rest, if_exists) = match (kw("IF"), kw("EXISTS")).parse(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    let (rest, name) = name(PIPE_NAME)(rest)?;
    Ok((rest, Statement::DropPipe { if_exists, name }))
}

/// After `SHOW PIPES`: nothing, or `WHERE SINK|CONNECTOR USED BY name`.
pub(crate) fn show_pipes(i: &str) -> Res<'_, Statement> {
    let Ok((rest, _)) = kw("WHERE")(i) else {
        return Ok((i, Statement::ShowPipes));
    };
    let (rest, _) = commit(kw("SINK").or(kw("CONNECTOR")).parse(rest))?;
    let (rest, _) = commit(kw("USED")(rest))?;
    let (rest, _) = commit(kw("BY")(rest))?;
    let (rest, name) = name(PIPE_NAME)(rest)?;
    Ok((rest, Statement::ShowPipesUsedBy { name }))
}

/// After `SHOW PIPE`.
pub(crate) fn show_pipe(i: &str) -> Res<'_, Statement> {
    let (rest, name) = name(PIPE_NAME)(i)?;
    Ok((rest, Statement::ShowPipe { name }))
}

/// After `CREATE USER`: `name 'password'`.
pub(crate) fn create_user(i: &str) -> Res<'_, Statement> {
    let (rest, name) = name(USER_NAME)(i)?;
    let (rest, password) = string_lit(rest)?;
    Ok((rest, Statement::CreateUser { name, password }))
}

/// After `ALTER`: `PIPE ...`, `USER ...` or `TIMESERIES ...`.
pub(crate) fn alter(i: &str) -> Res<'_, Statement> {
    if let Ok((rest, _)) = kw("PIPE")(i) {
        return alter_pipe(rest);
    }
    if let Ok((rest, _)) = kw("TIMESERIES")(i) {
        return crate::stmt::alter_timeseries(rest);
    }
    if kw("USER")(i).is_err() {
        return failure(ws(i), "PIPE, USER or TIMESERIES");
    }
    alter_user(i)
}

/// After `ALTER PIPE`: `[IF EXISTS] name` and the clauses.
fn alter_pipe(i: &str) -> Res<'_, Statement> {
    let (rest, if_exists) = match (kw("IF"), kw("EXISTS")).parse(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    let (mut rest, name) = name(PIPE_NAME)(rest)?;
    let mut clauses: [Option<AlterClause>; 3] = [None, None, None];
    // The next stage a clause may name: 0 source, 1 processor, 2 sink.
    let mut next = 0;
    loop {
        let k = ws(rest);
        let replace = match word(k) {
            Ok((_, w)) if w.eq_ignore_ascii_case("MODIFY") => false,
            Ok((_, w)) if w.eq_ignore_ascii_case("REPLACE") => true,
            _ => break,
        };
        let (r, verb) = word(k)?;
        let j = ws(r);
        let choices = ["SOURCE, PROCESSOR or SINK", "PROCESSOR or SINK", "SINK"];
        let Ok((r, which)) = word(j) else {
            return failure(j, choices[next.min(2)]);
        };
        let stage = match which.to_ascii_uppercase().as_str() {
            "SOURCE" | "EXTRACTOR" => 0,
            "PROCESSOR" => 1,
            "SINK" | "CONNECTOR" => 2,
            _ => 3,
        };
        if stage > 2 || stage < next {
            return failure(j, choices[next.min(2)]);
        }
        let what = format!("{verb} {which} (");
        let (r, params) = paren_list(r, &what, true, param)?;
        clauses[stage] = Some(AlterClause { replace, params });
        next = stage + 1;
        rest = r;
        if next > 2 {
            break;
        }
    }
    let [source, processor, sink] = clauses;
    Ok((
        rest,
        Statement::AlterPipe {
            if_exists,
            name,
            source,
            processor,
            sink,
        },
    ))
}

/// After `ALTER`: `USER name SET PASSWORD 'password'`.
pub(crate) fn alter_user(i: &str) -> Res<'_, Statement> {
    let (rest, _) = kw("USER")(i)?;
    let (rest, name) = name(USER_NAME)(rest)?;
    let (rest, _) = kw("SET")(rest)?;
    let (rest, _) = kw("PASSWORD")(rest)?;
    let (rest, password) = string_lit(rest)?;
    Ok((rest, Statement::AlterUserPassword { name, password }))
}

/// After `DROP USER`.
pub(crate) fn drop_user(i: &str) -> Res<'_, Statement> {
    let (rest, name) = name(USER_NAME)(i)?;
    Ok((rest, Statement::DropUser { name }))
}

/// After `LIST`: `USER` (or `USERS`), or `PRIVILEGES OF USER name`.
pub(crate) fn list(i: &str) -> Res<'_, Statement> {
    if let Ok((rest, _)) = kw("PRIVILEGES")(i) {
        let (rest, _) = commit(kw("OF")(rest))?;
        let (rest, _) = user_holder(rest)?;
        let (rest, user) = name(USER_NAME)(rest)?;
        return Ok((rest, Statement::ListPrivileges { user }));
    }
    match kw("USERS")(i).or_else(|_| kw("USER")(i)) {
        Ok((rest, _)) => Ok((rest, Statement::ListUser)),
        Err(_) => failure(ws(i), "USER or PRIVILEGES OF USER name"),
    }
}

/// IoTDB names Duet has no use for: said plainly instead of "unknown".
const NOT_IN_DUET: &[(&str, &str)] = &[
    ("MANAGE_ROLE", "Duet has no roles"),
    ("USE_TRIGGER", "Duet has no triggers"),
    ("USE_UDF", "Duet has no user-defined functions"),
    ("USE_CQ", "Duet has no continuous queries"),
    ("USE_MODEL", "Duet has no models"),
    ("EXTEND_TEMPLATE", "Duet has no device templates"),
];

fn privilege_list(i: &str) -> Res<'_, Vec<String>> {
    const WHAT: &str = "a privilege (READ_DATA, WRITE_DATA, READ_SCHEMA, WRITE_SCHEMA, \
                        MANAGE_DATABASE, MANAGE_USER, USE_PIPE, MAINTAIN, REPLICATION, \
                        READ, WRITE or ALL)";
    let mut out = Vec::new();
    let mut rest = i;
    loop {
        let j = ws(rest);
        let Ok((r, w)) = word(j) else {
            return failure(j, WHAT);
        };
        let upper = w.to_ascii_uppercase();
        if let Some((_, why)) = NOT_IN_DUET.iter().find(|(n, _)| *n == upper) {
            return bad(j, format!("{upper}: {why}"), WHAT);
        }
        if !PRIVILEGES.contains(&upper.as_str()) {
            return failure(j, WHAT);
        }
        if !out.contains(&upper) {
            out.push(upper);
        }
        match sym(",")(r) {
            Ok((r, _)) => rest = r,
            Err(_) => return Ok((r, out)),
        }
    }
}

fn grant_paths(i: &str) -> Res<'_, Vec<Path>> {
    let (rest, _) = commit(kw("ON")(i))?;
    commit(crate::stmt::path_list(rest))
}

/// `USER` (Duet has no roles: `ROLE` is refused with the reason).
fn user_holder(i: &str) -> Res<'_, ()> {
    let j = ws(i);
    if let Ok((rest, _)) = kw("USER")(j) {
        return Ok((rest, ()));
    }
    if kw("ROLE")(j).is_ok() {
        return bad(j, "Duet has no roles: grant to users", "USER");
    }
    failure(j, "USER")
}

/// After `GRANT`: `privileges ON paths TO USER name [WITH GRANT OPTION]`.
pub(crate) fn grant(i: &str) -> Res<'_, Statement> {
    let (rest, privileges) = privilege_list(i)?;
    let (rest, paths) = grant_paths(rest)?;
    let (rest, _) = commit(kw("TO")(rest))?;
    let (rest, _) = user_holder(rest)?;
    let (rest, user) = name(USER_NAME)(rest)?;
    let (rest, grant_option) = match kw("WITH")(rest) {
        Ok((r, _)) => {
            let (r, _) = commit(kw("GRANT")(r))?;
            let (r, _) = commit(kw("OPTION")(r))?;
            (r, true)
        }
        Err(_) => (rest, false),
    };
    Ok((
        rest,
        Statement::Grant {
            privileges,
            paths,
            user,
            grant_option,
        },
    ))
}

/// After `REVOKE`: `privileges ON paths FROM USER name`.
pub(crate) fn revoke(i: &str) -> Res<'_, Statement> {
    let (rest, privileges) = privilege_list(i)?;
    let (rest, paths) = grant_paths(rest)?;
    let (rest, _) = commit(kw("FROM")(rest))?;
    let (rest, _) = user_holder(rest)?;
    let (rest, user) = name(USER_NAME)(rest)?;
    Ok((
        rest,
        Statement::Revoke {
            privileges,
            paths,
            user,
        },
    ))
}

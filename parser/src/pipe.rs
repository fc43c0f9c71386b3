//! Pipe statements (`CREATE/START/STOP/DROP/SHOW PIPE`) and user statements.

use nom::Parser;

use crate::ast::{PipeParams, Statement};
use crate::error::{failure, Res};
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

/// After `LIST`: `USER` (or `USERS`).
pub(crate) fn list_user(i: &str) -> Res<'_, Statement> {
    let (rest, _) = kw("USERS")(i).or_else(|_| kw("USER")(i))?;
    Ok((rest, Statement::ListUser))
}

//! Duet's SQL parser: IoTDB's tree-model dialect, text to [`Statement`] and
//! back.
//!
//! Text flows through these parts:
//!
//! - `lex` — tokens: whitespace and `--` comments, keywords, names and paths
//!   (`root.plant.*`), strings, numbers, durations (`1h30m`), ISO-8601
//!   literals and time expressions (`now() - 1h`).
//! - `expr` — literals, `WHERE` operands and AND/OR/NOT expressions (with a
//!   nesting cap, [`MAX_NESTING`]), select items and aggregates.
//! - `stmt` — dispatch on the leading keywords, schema and admin statements;
//!   `query` — SELECT, INSERT, DELETE FROM; `pipe` — pipes and users.
//! - [`ast`] — the statement tree handed to the executor; `display` prints it
//!   back as canonical SQL, and `parse(&s.to_string()) == Ok(s)` holds
//!   (property-tested in `tests/roundtrip.rs`).
//! - [`error`] — failures carry the byte position and what was expected; the
//!   furthest failure wins, and [`ParseError::render`] shows the line with a
//!   caret under the offending token.
//! - `time` — ISO-8601 validation and [`iso_to_millis`], duration helpers.
//!
//! Parsers are nom 8 functions over `&str`; a committed failure (`nom::Err::
//! Failure`) marks the point after which no other reading of the text is tried.

pub mod ast;
mod display;
pub mod error;
mod expr;
mod lex;
mod pipe;
mod query;
mod stmt;
mod time;

pub use ast::*;
pub use error::ParseError;
pub use expr::{MAX_NESTING, MAX_OPERATORS};
pub use stmt::STATEMENT_KEYWORDS;
pub use time::{add_calendar_months, civil_from_days, iso_to_millis, parse_duration_ms};

use error::{PErr, Res};
use lex::ws;

fn finish<'a>(r: Res<'a, Statement>, sql: &str) -> Result<(&'a str, Statement), ParseError> {
    r.map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e.into_public(sql),
        // Only streaming parsers report Incomplete; all ours are complete.
        nom::Err::Incomplete(_) => PErr::new("", "more input").into_public(sql),
    })
}

/// Parses exactly one statement; a trailing `;`, whitespace and `--`
/// comments are allowed around it.
pub fn parse(sql: &str) -> Result<Statement, ParseError> {
    let (rest, st) = finish(stmt::statement(sql), sql)?;
    let rest = ws(rest);
    let (rest, expected) = match rest.strip_prefix(';') {
        Some(after) => (ws(after), "end of input (one statement only)"),
        None => (rest, "`;` or end of statement"),
    };
    if !rest.is_empty() {
        return Err(PErr::new(rest, expected).into_public(sql));
    }
    Ok(st)
}

/// Parses a `;`-separated script; empty statements are skipped.
pub fn parse_many(sql: &str) -> Result<Vec<Statement>, ParseError> {
    let mut out = Vec::new();
    let mut rest = sql;
    loop {
        rest = ws(rest);
        while let Some(r) = rest.strip_prefix(';') {
            rest = ws(r);
        }
        if rest.is_empty() {
            return Ok(out);
        }
        let (r, st) = finish(stmt::statement(rest), sql)?;
        out.push(st);
        let r = ws(r);
        if r.is_empty() {
            return Ok(out);
        }
        match r.strip_prefix(';') {
            Some(next) => rest = next,
            None => return Err(PErr::new(r, "`;` or end of statement").into_public(sql)),
        }
    }
}

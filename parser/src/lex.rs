//! Token-level parsers. Each skips the whitespace and `--` comments before
//! its token, so a failure points at the token itself, not at the gap.

use std::borrow::Cow;

use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::Parser;

use crate::ast::{Literal, Path, TimeBase, TimeExpr};
use crate::error::{bad, commit, fail, failure, PErr, Res};
use crate::time::{scan_iso, unit_at, validate};

pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Skips whitespace and `--` line comments.
pub(crate) fn ws(i: &str) -> &str {
    let mut s = i;
    loop {
        let t = s.trim_start();
        match t.strip_prefix("--") {
            Some(comment) => s = comment.find('\n').map_or("", |n| &comment[n + 1..]),
            None => return t,
        }
    }
}

/// A keyword, case-insensitive, not followed by a letter, digit or `_`.
pub(crate) fn kw(word: &'static str) -> impl Fn(&str) -> Res<'_, &str> {
    move |i: &str| {
        let j = ws(i);
        let r: Res<&str> = tag_no_case(word).parse(j);
        match r {
            Ok((rest, m)) if !rest.starts_with(is_ident_char) => Ok((rest, m)),
            _ => fail(j, word),
        }
    }
}

/// True if the next token is the keyword `word`.
pub(crate) fn at_kw(i: &str, word: &'static str) -> bool {
    kw(word)(i).is_ok()
}

/// Punctuation such as `(` or `<=`.
pub(crate) fn sym(s: &'static str) -> impl Fn(&str) -> Res<'_, &str> {
    move |i: &str| {
        let j = ws(i);
        let r: Res<&str> = tag(s).parse(j);
        r.or_else(|_| fail(j, format!("`{s}`")))
    }
}

/// A run of letters, digits and `_` (a keyword or plain name), as written.
pub(crate) fn word(i: &str) -> Res<'_, &str> {
    let j = ws(i);
    let r: Res<&str> = take_while1(is_ident_char).parse(j);
    r.or_else(|_| fail(j, "a name"))
}

/// A backquoted name at the very start of `i`; ``` `` ``` is one backquote.
fn backquoted(i: &str) -> Res<'_, String> {
    let Some(body) = i.strip_prefix('`') else {
        return fail(i, "a name");
    };
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some(n) = rest.find('`') else {
            return bad(i, "unterminated backquoted name", "a closing backquote");
        };
        out.push_str(&rest[..n]);
        rest = &rest[n + 1..];
        match rest.strip_prefix('`') {
            Some(r) => {
                out.push('`');
                rest = r;
            }
            None => break,
        }
    }
    if out.is_empty() {
        return bad(i, "empty name", "a name between the backquotes");
    }
    Ok((rest, out))
}

/// A pipe or user name: letters, digits and `_`, or backquoted. Case is kept.
pub(crate) fn name(what: &'static str) -> impl Fn(&str) -> Res<'_, String> {
    move |i: &str| {
        let j = ws(i);
        if j.starts_with('`') {
            return backquoted(j);
        }
        let r: Res<&str> = take_while1(is_ident_char).parse(j);
        match r {
            Ok((rest, w)) => Ok((rest, w.to_string())),
            Err(_) => fail(j, what),
        }
    }
}

/// One node of a path at the very start of `i`: a name, a backquoted name,
/// and in patterns `*` or `**`.
fn path_node(i: &str) -> Res<'_, String> {
    if let Some(rest) = i.strip_prefix("**") {
        return Ok((rest, "**".to_string()));
    }
    if let Some(rest) = i.strip_prefix('*') {
        return Ok((rest, "*".to_string()));
    }
    if i.starts_with('`') {
        return backquoted(i);
    }
    let r: Res<&str> = take_while1(is_ident_char).parse(i);
    match r {
        Ok((rest, w)) => Ok((rest, w.to_string())),
        Err(_) => fail(i, "a path node (a name, `*` or `**`)"),
    }
}

/// `root.a.b`, with `*`/`**` allowed. No spaces inside a path.
pub(crate) fn path(i: &str) -> Res<'_, Path> {
    let j = ws(i);
    let Ok((mut rest, _)) = kw("root")(j) else {
        return fail(j, "a path starting with `root`");
    };
    let mut nodes = vec!["root".to_string()];
    while let Some(r) = rest.strip_prefix('.') {
        let (r, node) = commit(path_node(r))?;
        nodes.push(node);
        rest = r;
    }
    Ok((rest, Path(nodes)))
}

/// A measurement or suffix path (`temp`, `d1.temp`), nodes joined with `.`.
/// With `digit_start == false` the first node may not start with a digit
/// (in `WHERE`, that is a number).
pub(crate) fn column(digit_start: bool) -> impl Fn(&str) -> Res<'_, String> {
    move |i: &str| {
        let j = ws(i);
        let starts_ok = j.starts_with(|c: char| c == '`' || c == '_' || c.is_ascii_alphabetic())
            || (digit_start && j.starts_with(|c: char| c.is_ascii_digit()));
        if !starts_ok {
            return fail(j, "a measurement name");
        }
        let (mut rest, mut out) = column_node(j)?;
        while let Some(r) = rest.strip_prefix('.') {
            if r.starts_with('*') {
                return failure(r, "a measurement name");
            }
            let (r, node) = commit(column_node(r))?;
            out.push('.');
            out.push_str(&node);
            rest = r;
        }
        Ok((rest, out))
    }
}

/// A suffix path in a select list: measurement nodes, `*` (one level) or
/// `**` (any number of levels), as IoTDB's `SELECT ** FROM root.sg` and
/// `SELECT *.temp FROM root.**` write them.
pub(crate) fn select_column(i: &str) -> Res<'_, String> {
    fn node(i: &str) -> Res<'_, String> {
        if let Some(r) = i.strip_prefix("**") {
            return Ok((r, "**".to_string()));
        }
        if let Some(r) = i.strip_prefix('*') {
            return Ok((r, "*".to_string()));
        }
        column_node(i)
    }
    let j = ws(i);
    let starts_ok =
        j.starts_with(|c: char| c == '`' || c == '_' || c == '*' || c.is_ascii_alphanumeric());
    if !starts_ok {
        return fail(j, "a measurement name");
    }
    let (mut rest, mut out) = node(j)?;
    while let Some(r) = rest.strip_prefix('.') {
        let (r, n) = commit(node(r))?;
        out.push('.');
        out.push_str(&n);
        rest = r;
    }
    Ok((rest, out))
}

/// A node of a column. Its text is joined to the others with `.`, so a
/// backquoted name may hold a `.` only between other characters: `` `a..b` ``
/// or `` `.a` `` would make an empty node that no text names.
fn column_node(i: &str) -> Res<'_, String> {
    let (rest, node) = path_node(i)?;
    if node.split('.').any(str::is_empty) {
        return bad(
            i,
            "a `.` inside a backquoted measurement name must stand between other characters",
            "a measurement name",
        );
    }
    Ok((rest, node))
}

/// `'text'` (`''` is a quote) or `"text"` (`""` is a quote).
pub(crate) fn string_lit(i: &str) -> Res<'_, String> {
    let j = ws(i);
    let Some(q) = j.chars().next().filter(|&c| c == '\'' || c == '"') else {
        return fail(j, "a quoted string");
    };
    let mut out = String::new();
    let mut rest = &j[1..];
    loop {
        let Some(n) = rest.find(q) else {
            let close: Cow<'static, str> = if q == '\'' {
                "a closing `'`".into()
            } else {
                "a closing `\"`".into()
            };
            return bad(j, "unterminated string", close);
        };
        out.push_str(&rest[..n]);
        rest = &rest[n + 1..];
        match rest.strip_prefix(q) {
            Some(r) => {
                out.push(q);
                rest = r;
            }
            None => return Ok((rest, out)),
        }
    }
}

fn digits_len(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// A signed integer or decimal: `42`, `-7`, `21.5`, `.5`, `-1e3`.
pub(crate) fn number(i: &str) -> Res<'_, Literal> {
    let j = ws(i);
    let b = j.as_bytes();
    let mut p = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_digits = digits_len(&j[p..]);
    p += int_digits;
    let mut is_float = false;
    let mut frac_digits = 0;
    if b.get(p) == Some(&b'.') {
        frac_digits = digits_len(&j[p + 1..]);
        if int_digits > 0 || frac_digits > 0 {
            is_float = true;
            p += 1 + frac_digits;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return fail(j, "a number");
    }
    if matches!(b.get(p), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(p + 1), Some(b'+' | b'-')));
        let exp_digits = digits_len(&j[p + 1 + sign..]);
        if exp_digits > 0 {
            is_float = true;
            p += 1 + sign + exp_digits;
        }
    }
    let (text, rest) = j.split_at(p);
    if rest.starts_with(|c: char| is_ident_char(c) || c == '.') {
        return bad(j, "malformed number", "a number");
    }
    if is_float {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok((rest, Literal::Float(f))),
            _ => bad(j, "number out of range", "a finite decimal number"),
        }
    } else {
        match text.parse::<i64>() {
            Ok(n) => Ok((rest, Literal::Int(n))),
            Err(_) => bad(
                j,
                "integer out of range",
                "an integer between -9223372036854775808 and 9223372036854775807",
            ),
        }
    }
}

/// An unsigned integer such as a `LIMIT`.
pub(crate) fn unsigned(i: &str) -> Res<'_, u64> {
    let j = ws(i);
    let n = digits_len(j);
    if n == 0 {
        return fail(j, "a non-negative integer");
    }
    let (text, rest) = j.split_at(n);
    if rest.starts_with(|c: char| is_ident_char(c) || c == '.') {
        return bad(j, "malformed number", "a non-negative integer");
    }
    match text.parse::<u64>() {
        Ok(v) => Ok((rest, v)),
        Err(_) => bad(
            j,
            "integer out of range",
            "an integer up to 18446744073709551615",
        ),
    }
}

const DURATION: &str = "a duration (e.g. 1h, 30m, 10s, 500ms, 1h30m; units y mo w d h m s ms)";

/// `<int><unit>` repeated (`1h30m`), no spaces, as a magnitude in
/// milliseconds up to 2^63 (so `- 9223372036854775808ms` still fits an i64).
pub(crate) fn duration_magnitude(i: &str) -> Res<'_, u64> {
    const CAP: u128 = 1 << 63;
    let start = i;
    let mut rest = i;
    let mut total: u128 = 0;
    loop {
        let n = digits_len(rest);
        if n == 0 {
            break;
        }
        let Some((factor, ulen)) = unit_at(&rest[n..]) else {
            return bad(start, "duration needs a unit", DURATION);
        };
        let value: u128 = rest[..n].parse().unwrap_or(u128::MAX);
        total = value.saturating_mul(factor as u128).saturating_add(total);
        if total > CAP {
            return bad(
                start,
                "duration overflow",
                "a duration that fits in 64-bit milliseconds",
            );
        }
        rest = &rest[n + ulen..];
    }
    if rest.len() == start.len() {
        return fail(start, DURATION);
    }
    if rest.starts_with(|c: char| is_ident_char(c) || c == '.') {
        return bad(start, "malformed duration", DURATION);
    }
    Ok((rest, total as u64))
}

/// A positive length of time: a duration, or a bare integer of milliseconds.
pub(crate) fn positive_span(i: &str) -> Res<'_, i64> {
    let j = ws(i);
    let n = digits_len(j);
    let bare = n > 0 && !j[n..].starts_with(|c: char| is_ident_char(c) || c == '.');
    let (rest, mag) = if bare {
        let (rest, v) = unsigned(j)?;
        (rest, v)
    } else {
        duration_magnitude(j)?
    };
    match i64::try_from(mag) {
        Ok(v) if v > 0 => Ok((rest, v)),
        Ok(_) => bad(j, "zero length", "a positive duration"),
        Err(_) => bad(
            j,
            "duration overflow",
            "a duration that fits in 64-bit milliseconds",
        ),
    }
}

/// A GROUP BY step: a bare integer (milliseconds) or a duration whose `mo`
/// and `y` parts are calendar months (`1y` = 12 of them) and the rest fixed
/// milliseconds (`1mo2d` = a month and two days). Returns (months, ms),
/// not both zero.
pub(crate) fn calendar_span(i: &str) -> Res<'_, (i64, i64)> {
    const STEP: &str = "a positive step (`1h`, `30s`, `1mo`, `1y`, `1mo2d`, or milliseconds)";
    let j = ws(i);
    let n = digits_len(j);
    if n > 0 && !j[n..].starts_with(|c: char| is_ident_char(c) || c == '.') {
        let (rest, ms) = positive_span(j)?;
        return Ok((rest, (0, ms)));
    }
    let (mut rest, mut months, mut ms) = (j, 0i128, 0i128);
    loop {
        let n = digits_len(rest);
        if n == 0 {
            break;
        }
        let value: i128 = rest[..n].parse().unwrap_or(i128::MAX / 4);
        let unit = &rest[n..];
        let lower = unit.get(..2).map(str::to_ascii_lowercase);
        let len = if lower.as_deref() == Some("mo") {
            months += value;
            2
        } else if unit.starts_with(['y', 'Y']) {
            months += value * 12;
            1
        } else if let Some((factor, len)) = unit_at(unit) {
            ms += value * i128::from(factor);
            len
        } else {
            return bad(j, "duration needs a unit", STEP);
        };
        if months > i128::from(i32::MAX) || ms > i128::from(i64::MAX) {
            return bad(j, "step overflow", STEP);
        }
        rest = &rest[n + len..];
    }
    if rest.len() == j.len() {
        return fail(j, STEP);
    }
    if rest.starts_with(|c: char| is_ident_char(c) || c == '.') {
        return bad(j, "malformed duration", STEP);
    }
    if months == 0 && ms == 0 {
        return bad(j, "zero length", STEP);
    }
    Ok((rest, (months as i64, ms as i64)))
}

const TIME: &str = "a time (integer milliseconds, an ISO-8601 literal or now())";

/// An ISO-8601 literal at the start of `j`, validated; the text as written.
pub(crate) fn iso_lit(j: &str) -> Res<'_, &str> {
    let Some((len, parts)) = scan_iso(j) else {
        return fail(j, "an ISO-8601 date");
    };
    let (text, rest) = j.split_at(len);
    if rest.starts_with(|c: char| is_ident_char(c) || c == '.' || c == ':') {
        return bad(
            j,
            "malformed date/time literal",
            "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM]",
        );
    }
    if let Err(why) = validate(&parts) {
        return bad(
            j,
            format!("invalid date/time: {why}"),
            "a valid calendar date and time",
        );
    }
    Ok((rest, text))
}

/// `now()` at the start of `j` (spaces allowed around the parentheses).
pub(crate) fn now_call(j: &str) -> Res<'_, ()> {
    let (rest, _) = kw("now")(j)?;
    let (rest, _) = sym("(")(rest)?;
    let (rest, _) = commit(sym(")")(rest))?;
    Ok((rest, ()))
}

/// True if the next token looks like the start of an ISO-8601 literal.
pub(crate) fn at_iso(i: &str) -> bool {
    scan_iso(ws(i)).is_some()
}

/// `+ 1h - 5m ...` after a time base.
pub(crate) fn time_offsets(mut rest: &str) -> Res<'_, Vec<i64>> {
    let mut offsets = Vec::new();
    loop {
        let k = ws(rest);
        let negative = match k.as_bytes().first() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return Ok((rest, offsets)),
        };
        let d = ws(&k[1..]);
        let (r, mag) = commit(duration_magnitude(d))?;
        let value = if negative {
            0i64.checked_sub_unsigned(mag)
        } else {
            i64::try_from(mag).ok()
        };
        let Some(value) = value else {
            return bad(
                d,
                "duration overflow",
                "a duration that fits in 64-bit milliseconds",
            );
        };
        offsets.push(value);
        rest = r;
    }
}

/// `now()`, an ISO-8601 literal or integer milliseconds, then `+`/`-` durations.
pub(crate) fn time_expr(i: &str) -> Res<'_, TimeExpr> {
    let j = ws(i);
    let (rest, base) = if at_kw(j, "now") {
        let (rest, ()) = now_call(j)?;
        (rest, TimeBase::Now)
    } else if scan_iso(j).is_some() {
        let (rest, text) = iso_lit(j)?;
        (rest, TimeBase::Iso(text.to_string()))
    } else {
        match number(j) {
            Ok((rest, Literal::Int(n))) => (rest, TimeBase::Millis(n)),
            Ok(_) => return bad(j, "fractional timestamp", "integer milliseconds"),
            Err(nom::Err::Error(_)) => return fail(j, TIME),
            Err(e) => return Err(e),
        }
    };
    let (rest, offsets) = time_offsets(rest)?;
    Ok((rest, TimeExpr { base, offsets }))
}

/// A `(` ... `)` list of items separated by commas; `empty_ok` allows `()`.
/// A comma before the `)` is allowed, as IoTDB's pipe grammar allows it
/// (its documentation's examples have them). The message for a missing
/// `)` names `what` (e.g. "`values (`").
pub(crate) fn paren_list<'a, T>(
    i: &'a str,
    what: &str,
    empty_ok: bool,
    mut item: impl FnMut(&'a str) -> Res<'a, T>,
) -> Res<'a, Vec<T>> {
    let (mut rest, _) = sym("(")(i)?;
    let mut out = Vec::new();
    if empty_ok {
        if let Ok((r, _)) = sym(")")(rest) {
            return Ok((r, out));
        }
    }
    loop {
        let (r, v) = commit(item(rest))?;
        out.push(v);
        let k = ws(r);
        if let Some(r) = k.strip_prefix(',') {
            if let Ok((r, _)) = sym(")")(r) {
                return Ok((r, out));
            }
            rest = r;
        } else if let Some(r) = k.strip_prefix(')') {
            return Ok((r, out));
        } else {
            return Err(nom::Err::Failure(PErr::new(
                k,
                format!("`,` or `)` to close `{what}`"),
            )));
        }
    }
}

/// Checks that the statement ends at `rest`; if not, the error lists `hints`
/// (what could have continued the statement there) and the end itself.
pub(crate) fn end_of_statement<'a>(rest: &'a str, hints: &[&'static str]) -> Res<'a, ()> {
    let k = ws(rest);
    if k.is_empty() || k.starts_with(';') {
        return Ok((rest, ()));
    }
    let mut e = PErr::new(k, "`;`");
    e.expected = hints
        .iter()
        .chain(&["`;`", "end of statement"])
        .map(|&h| Cow::Borrowed(h))
        .collect();
    Err(nom::Err::Failure(e))
}

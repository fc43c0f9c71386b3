//! `SELECT`, `INSERT` and `DELETE FROM`.

use crate::ast::{Fill, GroupBy, InsertRow, Literal, OrderDevice, Select, SelectItem, Statement};
use crate::error::{bad, commit, failure, PErr, Res};
use crate::expr::{expr, literal, select_item};
use crate::lex::{
    calendar_span, column, end_of_statement, kw, path, sym, time_expr, unsigned, word, ws,
};
use crate::stmt::paths;

/// After `SELECT`.
pub(crate) fn select(i: &str) -> Res<'_, Statement> {
    let (rest, last) = match kw("LAST")(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    let (r, first) = select_item(rest)?;
    let (mut rest, alias) = opt_alias(r)?;
    let mut items: Vec<SelectItem> = vec![first];
    let mut aliases = vec![alias];
    loop {
        let k = ws(rest);
        if let Some(r) = k.strip_prefix(',') {
            let (r, item) = commit(select_item(r))?;
            let (r, alias) = opt_alias(r)?;
            items.push(item);
            aliases.push(alias);
            rest = r;
        } else if kw("FROM")(k).is_ok() {
            break;
        } else {
            return failure(k, "`,` or FROM");
        }
    }
    if aliases.iter().all(Option::is_none) {
        aliases.clear();
    }
    let (rest, _) = kw("FROM")(rest)?;
    let (rest, from) = paths(rest)?;
    let (rest, where_clause) = opt_where(rest)?;

    let (rest, group_by, group_by_level, group_by_tags) = match kw("GROUP")(rest) {
        Ok((r, _)) => {
            let (r, _) = commit(kw("BY")(r))?;
            let k = ws(r);
            for (word, why) in GROUP_BY_NOT_IN_DUET {
                if kw(word)(k).is_ok() {
                    return bad(
                        k,
                        *why,
                        "a time window `([start, end), step)`, LEVEL = n or TAGS(key, ...)",
                    );
                }
            }
            if kw("LEVEL")(r).is_ok() {
                let (r, levels) = commit(levels(r))?;
                (r, None, Some(levels), None)
            } else if kw("TAGS")(r).is_ok() {
                let (r, keys) = commit(tag_keys(r))?;
                (r, None, None, Some(keys))
            } else {
                let (r, g) = commit(group_by(r))?;
                let (r, levels, tags) = match sym(",")(r) {
                    Ok((after, _)) if kw("TAGS")(after).is_ok() => {
                        let (after, keys) = commit(tag_keys(after))?;
                        (after, None, Some(keys))
                    }
                    Ok((after, _)) => {
                        let (after, levels) = commit(levels(after))?;
                        (after, Some(levels), None)
                    }
                    Err(_) => (r, None, None),
                };
                (r, Some(g), levels, tags)
            }
        }
        Err(_) => (rest, None, None, None),
    };

    let (rest, having) = match kw("HAVING")(rest) {
        Ok((r, _)) => {
            let (r, e) = commit(expr(r))?;
            (r, Some(e))
        }
        Err(_) => (rest, None),
    };
    // FILL comes before or after ORDER BY (IoTDB takes both).
    let (rest, mut fill) = opt_fill(rest)?;
    let ordered = kw("ORDER")(rest).is_ok();
    let (rest, order_desc, order_device) = match kw("ORDER")(rest) {
        Ok((r, _)) => {
            let (r, (desc, device)) = commit(order_by(r))?;
            (r, desc, device)
        }
        Err(_) => (rest, false, None),
    };

    let rest = if fill.is_none() {
        let (r, f) = opt_fill(rest)?;
        fill = f;
        r
    } else {
        rest
    };
    // IoTDB accepts LIMIT, OFFSET, SLIMIT and SOFFSET in any order.
    let mut rest = rest;
    let mut pages: [(&str, Option<u64>); 4] = [
        ("LIMIT", None),
        ("OFFSET", None),
        ("SLIMIT", None),
        ("SOFFSET", None),
    ];
    'pages: loop {
        let k = ws(rest);
        for (word, slot) in pages.iter_mut() {
            if let Ok((r, _)) = kw(word)(k) {
                if slot.is_some() {
                    return bad(k, format!("{word} given twice"), "end of statement");
                }
                let (r, n) = commit(unsigned(r))?;
                *slot = Some(n);
                rest = r;
                continue 'pages;
            }
        }
        break;
    }
    let [(_, limit), (_, offset), (_, slimit), (_, soffset)] = pages;
    // What else could have come here, for the message if something else did.
    let mut hints: Vec<&'static str> = match (&where_clause, &group_by, ordered) {
        (_, _, true) => vec![],
        (_, Some(_), false) => vec!["HAVING", "FILL", "ORDER BY"],
        (Some(_), None, false) => vec!["AND", "OR", "GROUP BY", "FILL", "ORDER BY"],
        (None, None, false) => vec!["`,`", "WHERE", "GROUP BY", "FILL", "ORDER BY"],
    };
    if fill.is_some() {
        hints.retain(|h| *h != "FILL");
    }
    if limit.is_some() || offset.is_some() {
        hints.clear();
    }
    if limit.is_none() {
        hints.push("LIMIT");
    }
    if offset.is_none() {
        hints.push("OFFSET");
    }
    if slimit.is_some() || soffset.is_some() {
        hints.clear();
    }
    // `ALIGN BY DEVICE` (or the default, `ALIGN BY TIME`) ends it.
    let (rest, align_by_device) = match kw("ALIGN")(rest) {
        Ok((r, _)) => {
            let (r, _) = commit(kw("BY")(r))?;
            let k = ws(r);
            match word(k) {
                Ok((r, w)) if w.eq_ignore_ascii_case("device") => (r, true),
                Ok((r, w)) if w.eq_ignore_ascii_case("time") => (r, false),
                _ => return failure(k, "DEVICE or TIME"),
            }
        }
        Err(_) => {
            hints.push("ALIGN BY DEVICE");
            (rest, false)
        }
    };
    end_of_statement(rest, &hints)?;
    // IoTDB's device view: `ORDER BY TIME` alone makes time the main key
    // (devices order equal times); without ORDER BY, devices come first.
    let order_device = match order_device {
        None if align_by_device && ordered => Some(OrderDevice {
            desc: false,
            first: false,
        }),
        d => d,
    };
    let select = Select {
        last,
        items,
        aliases,
        from,
        where_clause,
        group_by,
        group_by_level,
        group_by_tags,
        having,
        fill,
        order_desc,
        order_device,
        limit,
        offset,
        slimit,
        soffset,
        align_by_device,
    };
    Ok((rest, Statement::Select(Box::new(select))))
}

/// `FILL(PREVIOUS [, bound] | LINEAR | constant)`, if it is next.
fn opt_fill(i: &str) -> Res<'_, Option<Fill>> {
    let Ok((r, _)) = kw("FILL")(i) else {
        return Ok((i, None));
    };
    let (r, _) = commit(sym("(")(r))?;
    let k = ws(r);
    let (r, fill) = if let Ok((r, _)) = kw("PREVIOUS")(k) {
        let (r, within) = match sym(",")(r) {
            Ok((r, _)) => {
                let (r, span) = commit(calendar_span(r))?;
                (r, Some(span))
            }
            Err(_) => (r, None),
        };
        (r, Fill::Previous { within })
    } else if let Ok((r, _)) = kw("LINEAR")(k) {
        (r, Fill::Linear)
    } else {
        match literal(k) {
            Ok((_, Literal::Null)) => {
                return bad(k, "FILL(null)", "PREVIOUS, LINEAR or a constant value");
            }
            Ok((r, lit)) => (r, Fill::Constant(lit)),
            Err(_) => return failure(k, "PREVIOUS, LINEAR or a constant value"),
        }
    };
    let k = ws(r);
    if k.starts_with(',') {
        return bad(
            k,
            "a time bound after LINEAR or a constant",
            "`)`: only FILL(PREVIOUS, bound) takes a time bound",
        );
    }
    let (r, _) = sym(")")(k).or_else(|_| failure(k, "`)` to close FILL"))?;
    Ok((r, Some(fill)))
}

/// After `ORDER`: `BY key [ASC|DESC] [, key [ASC|DESC]]` with keys TIME
/// (or TIMESTAMP) and DEVICE, each at most once; the first is the main
/// one.
fn order_by(i: &str) -> Res<'_, (bool, Option<OrderDevice>)> {
    let (mut r, _) = kw("BY")(i)?;
    let (mut time, mut device): (Option<bool>, Option<OrderDevice>) = (None, None);
    loop {
        let k = ws(r);
        let (after, key) = match word(k) {
            Ok((after, w))
                if w.eq_ignore_ascii_case("time") || w.eq_ignore_ascii_case("timestamp") =>
            {
                (after, true)
            }
            Ok((after, w)) if w.eq_ignore_ascii_case("device") => (after, false),
            _ => return failure(k, "TIME or DEVICE"),
        };
        let (after, desc) = if let Ok((a, _)) = kw("DESC")(after) {
            (a, true)
        } else {
            (kw("ASC")(after).map_or(after, |(a, _)| a), false)
        };
        if key {
            if time.is_some() {
                return bad(k, "TIME named twice in ORDER BY", "DEVICE");
            }
            time = Some(desc);
        } else {
            if device.is_some() {
                return bad(k, "DEVICE named twice in ORDER BY", "TIME");
            }
            device = Some(OrderDevice {
                desc,
                first: time.is_none(),
            });
        }
        r = after;
        match sym(",")(r) {
            Ok((a, _)) => r = a,
            Err(_) => break,
        }
    }
    Ok((r, (time.unwrap_or(false), device)))
}

pub(crate) fn opt_where(i: &str) -> Res<'_, Option<crate::ast::Expr>> {
    match kw("WHERE")(i) {
        Ok((r, _)) => {
            let (r, e) = commit(expr(r))?;
            Ok((r, Some(e)))
        }
        Err(_) => Ok((i, None)),
    }
}

/// IoTDB's GROUP BY forms Duet does not have yet, each with why.
const GROUP_BY_NOT_IN_DUET: &[(&str, &str)] = &[
    ("VARIATION", "GROUP BY VARIATION is not supported yet"),
    ("CONDITION", "GROUP BY CONDITION is not supported yet"),
    ("SESSION", "GROUP BY SESSION is not supported yet"),
    ("COUNT", "GROUP BY COUNT is not supported yet"),
];

/// `AS name` after a selected item, if there is one.
fn opt_alias(i: &str) -> Res<'_, Option<String>> {
    let Ok((r, _)) = kw("AS")(i) else {
        return Ok((i, None));
    };
    let k = ws(r);
    let (r, name) = commit(column(false)(k))?;
    if name.contains('.') {
        return bad(k, "an alias with a `.`", "a name (one node)");
    }
    Ok((r, Some(name)))
}

/// `TAGS(key, ...)`: names (backquoted when they need it), each once.
fn tag_keys(i: &str) -> Res<'_, Vec<String>> {
    let (r, _) = kw("TAGS")(i)?;
    let (r, _) = commit(sym("(")(r))?;
    let mut keys: Vec<String> = Vec::new();
    let mut r = r;
    loop {
        let k = ws(r);
        let (after, key) = commit(crate::lex::name("a tag key")(k))?;
        if keys.contains(&key) {
            return bad(
                k,
                format!("duplicated key in GROUP BY TAGS: {key}"),
                "each key once",
            );
        }
        keys.push(key);
        let k = ws(after);
        if let Some(a) = k.strip_prefix(',') {
            r = a;
        } else if let Some(a) = k.strip_prefix(')') {
            return Ok((a, keys));
        } else {
            return failure(k, "`,` or `)` to close `TAGS(`");
        }
    }
}

/// `LEVEL = n [, n ...]`: path levels, 0 being `root`.
fn levels(i: &str) -> Res<'_, Vec<u32>> {
    let (r, _) = kw("LEVEL")(i)?;
    let (mut r, _) = commit(sym("=")(r))?;
    let mut out = Vec::new();
    loop {
        let k = ws(r);
        let (after, n) = commit(unsigned(k))?;
        let n = u32::try_from(n)
            .ok()
            .filter(|&n| n < 64)
            .map_or_else(
                || bad(k, "level out of range", "a level from 0 to 63"),
                |n| Ok((after, n)),
            )?
            .1;
        if !out.contains(&n) {
            out.push(n);
        }
        r = after;
        // `, n` continues the list; `, LEVEL` or anything else does not.
        match sym(",")(r) {
            Ok((after, _)) if ws(after).starts_with(|c: char| c.is_ascii_digit()) => r = after,
            _ => break,
        }
    }
    out.sort_unstable();
    Ok((r, out))
}

/// After `GROUP BY`: `([start, end), interval [, sliding])`, or with
/// `((start, end], ...)` windows open on the left.
fn group_by(i: &str) -> Res<'_, GroupBy> {
    let (r, _) = sym("(")(i)?;
    let k = ws(r);
    let (r, left_open) = if let Some(r) = k.strip_prefix('[') {
        (r, false)
    } else if let Some(r) = k.strip_prefix('(') {
        (r, true)
    } else {
        return failure(k, "`[` (or `(`) to open the time range");
    };
    let (r, start) = time_expr(r)?;
    let (r, _) = sym(",")(r)?;
    let (r, end) = time_expr(r)?;
    let (r, _) = if left_open {
        sym("]")(r).or_else(|_| failure(ws(r), "`]` to close the time range `(start, end]`"))?
    } else {
        sym(")")(r).or_else(|_| failure(ws(r), "`)` to close the time range `[start, end)`"))?
    };
    let (r, _) = sym(",")(r)?;
    // IoTDB's `mo` and `y` are calendar months and years: kept apart from
    // the fixed part of the step.
    let (r, (step_months, step_ms)) = calendar_span(r)?;
    let (r, sliding) = match sym(",")(r) {
        Ok((r, _)) => {
            let (r, s) = commit(calendar_span(r))?;
            (r, Some(s))
        }
        Err(_) => (r, None),
    };
    let (r, _) = sym(")")(r)?;
    Ok((
        r,
        GroupBy {
            start,
            end,
            step_months,
            step_ms,
            sliding,
            left_open,
        },
    ))
}

/// After `INSERT`: `INTO device(time, m1, ...) [ALIGNED] VALUES (t, v1, ...), ...`.
pub(crate) fn insert(i: &str) -> Res<'_, Statement> {
    let (rest, _) = kw("INTO")(i)?;
    let (rest, device) = path(rest)?;
    let (rest, _) = sym("(")(rest)?;
    let k = ws(rest);
    let rest = match word(k) {
        Ok((r, w)) if w.eq_ignore_ascii_case("time") || w.eq_ignore_ascii_case("timestamp") => r,
        _ => return failure(k, "`time` or `timestamp` as the first column"),
    };
    let mut measurements = Vec::new();
    let mut rest = rest;
    loop {
        let k = ws(rest);
        if let Some(r) = k.strip_prefix(',') {
            let (r, m) = commit(column(true)(r))?;
            measurements.push(m);
            rest = r;
        } else if let Some(r) = k.strip_prefix(')') {
            rest = r;
            break;
        } else {
            return failure(k, "`,` or `)` to close the column list");
        }
    }
    // `ALIGNED VALUES` (IoTDB's insert into an aligned device): Duet stores
    // aligned and non-aligned series alike, so it means VALUES.
    let rest = kw("ALIGNED")(rest).map_or(rest, |(r, _)| r);
    let (mut rest, _) = kw("VALUES")(rest)?;
    let mut rows = Vec::new();
    loop {
        let (r, row) = commit(insert_row(rest, rows.len() + 1, measurements.len()))?;
        rows.push(row);
        match sym(",")(r) {
            Ok((r, _)) => rest = r,
            Err(_) => {
                rest = r;
                break;
            }
        }
    }
    end_of_statement(rest, &["`,`"])?;
    Ok((
        rest,
        Statement::Insert {
            device,
            measurements,
            rows,
        },
    ))
}

/// `(t, v1, ..., vn)` with exactly `n` values after the time.
fn insert_row(i: &str, number: usize, n: usize) -> Res<'_, InsertRow> {
    let expected = || {
        format!(
            "{} values (the time and {n} measurement{})",
            n + 1,
            if n == 1 { "" } else { "s" }
        )
    };
    let (mut rest, _) = sym("(")(i)?;
    let (r, time) = commit(time_expr(rest))?;
    rest = r;
    let mut values: Vec<Literal> = Vec::with_capacity(n);
    loop {
        let k = ws(rest);
        if let Some(r) = k.strip_prefix(',') {
            let v = ws(r);
            if values.len() == n {
                let got = n + 1 + 1 + count_more(v);
                return bad(v, format!("row {number} has {got} values"), expected());
            }
            let (r, lit) = commit(literal(v))?;
            values.push(lit);
            rest = r;
        } else if let Some(r) = k.strip_prefix(')') {
            if values.len() != n {
                return bad(
                    k,
                    format!("row {number} has {} values", values.len() + 1),
                    expected(),
                );
            }
            return Ok((r, InsertRow { time, values }));
        } else {
            return Err(nom::Err::Failure(PErr::new(
                k,
                "`,` or `)` to close the row",
            )));
        }
    }
}

/// How many more comma-separated values follow `v` in the row (best effort,
/// for the message only; stops at the row's `)`).
fn count_more(v: &str) -> usize {
    let mut rest = v;
    let mut more = 0;
    while let Ok((r, _)) = literal(rest) {
        match ws(r).strip_prefix(',') {
            Some(r) => {
                more += 1;
                rest = r;
            }
            None => break,
        }
    }
    more
}

/// After `DELETE FROM`.
pub(crate) fn delete_from(i: &str) -> Res<'_, Statement> {
    let (rest, paths) = paths(i)?;
    let (rest, where_clause) = opt_where(rest)?;
    let hints: &[&str] = if where_clause.is_some() {
        &["AND", "OR"]
    } else {
        &["`,`", "WHERE"]
    };
    end_of_statement(rest, hints)?;
    Ok((
        rest,
        Statement::Delete {
            paths,
            where_clause,
        },
    ))
}

//! Values and `WHERE` expressions: literals, operands, comparisons and
//! AND/OR/NOT with the usual precedence (NOT > AND > OR), plus select items.

use crate::ast::{
    AggFunc, ArithOp, CmpOp, Expr, Literal, Operand, SelectItem, TimeBase, TimeExpr, ValueExpr,
    SCALAR_FUNCTIONS,
};
use crate::error::{bad, commit, fail, failure, Res};
use crate::lex::{
    at_iso, at_kw, column, iso_lit, kw, now_call, number, select_column, string_lit, sym,
    time_offsets, word, ws,
};

/// Deepest nesting of parentheses and NOT in one expression. Parsing recurses
/// per level, so this bounds the stack whatever the input.
pub const MAX_NESTING: usize = 64;

/// Most AND/OR/NOT operators in one expression. Each makes the tree one level
/// deeper, and dropping or printing the tree recurses over it.
pub const MAX_OPERATORS: usize = 1000;

const VALUE: &str = "a value (number, 'string', true, false or null)";

/// A literal in `VALUES` or a predicate.
pub(crate) fn literal(i: &str) -> Res<'_, Literal> {
    let j = ws(i);
    match j.chars().next() {
        Some('\'' | '"') => {
            let (rest, s) = string_lit(j)?;
            Ok((rest, Literal::Str(s)))
        }
        Some(c) if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
            number(j).or_else(|e| match e {
                nom::Err::Error(_) => fail(j, VALUE),
                other => Err(other),
            })
        }
        _ => {
            if let Ok((rest, _)) = kw("true")(j) {
                Ok((rest, Literal::Bool(true)))
            } else if let Ok((rest, _)) = kw("false")(j) {
                Ok((rest, Literal::Bool(false)))
            } else if let Ok((rest, _)) = kw("null")(j) {
                Ok((rest, Literal::Null))
            } else {
                fail(j, VALUE)
            }
        }
    }
}

const OPERAND: &str = "a column, `time` or a value";

/// One side of a comparison.
pub(crate) fn operand(i: &str) -> Res<'_, Operand> {
    let j = ws(i);
    if at_kw(j, "time") || at_kw(j, "timestamp") {
        let (rest, _) = word(j)?;
        return Ok((rest, Operand::Time));
    }
    if at_kw(j, "now") {
        let (rest, ()) = now_call(j)?;
        let (rest, offsets) = time_offsets(rest)?;
        return Ok((
            rest,
            Operand::TimeValue(TimeExpr {
                base: TimeBase::Now,
                offsets,
            }),
        ));
    }
    if at_iso(j) {
        let (rest, text) = iso_lit(j)?;
        let (rest, offsets) = time_offsets(rest)?;
        return Ok((
            rest,
            Operand::TimeValue(TimeExpr {
                base: TimeBase::Iso(text.to_string()),
                offsets,
            }),
        ));
    }
    // `count(s1)`: an aggregate, as HAVING compares them.
    if let Ok((after, w)) = word(j) {
        if sym("(")(after).is_ok() && AGGS.iter().any(|(n, _)| n.eq_ignore_ascii_case(w)) {
            let (rest, item) = select_item(j)?;
            if let SelectItem::Agg { func, arg } = item {
                return Ok((rest, Operand::Agg { func, arg }));
            }
        }
    }
    if j.starts_with(|c: char| c == '`' || c == '_' || c.is_ascii_alphabetic())
        && !at_kw(j, "true")
        && !at_kw(j, "false")
        && !at_kw(j, "null")
    {
        let (rest, c) = column(false)(j)?;
        return Ok((rest, Operand::Column(c)));
    }
    let (rest, lit) = literal(j).or_else(|e| match e {
        nom::Err::Error(_) => fail(j, OPERAND),
        other => Err(other),
    })?;
    // An integer followed by `+ 1h` is a time, not a number.
    if let Literal::Int(n) = lit {
        let k = ws(rest);
        let offset_follows = (k.starts_with('+') || k.starts_with('-'))
            && ws(&k[1..]).starts_with(|c: char| c.is_ascii_digit());
        if offset_follows {
            let (rest, offsets) = time_offsets(rest)?;
            return Ok((
                rest,
                Operand::TimeValue(TimeExpr {
                    base: TimeBase::Millis(n),
                    offsets,
                }),
            ));
        }
    }
    Ok((rest, Operand::Literal(lit)))
}

/// Longest operators first so `<=` is not read as `<`.
const OPS: [(&str, CmpOp); 8] = [
    ("<=", CmpOp::LtEq),
    ("<>", CmpOp::NotEq),
    (">=", CmpOp::GtEq),
    ("==", CmpOp::Eq),
    ("!=", CmpOp::NotEq),
    ("<", CmpOp::Lt),
    (">", CmpOp::Gt),
    ("=", CmpOp::Eq),
];

fn cmp_op(i: &str) -> Res<'_, CmpOp> {
    let j = ws(i);
    for (text, op) in OPS {
        if let Some(rest) = j.strip_prefix(text) {
            return Ok((rest, op));
        }
    }
    fail(
        j,
        "a comparison operator (=, !=, <, <=, >, >=), BETWEEN, IN, LIKE, REGEXP or IS NULL",
    )
}

/// Counts operators and nesting while one expression is parsed.
struct Budget {
    operators: usize,
}

impl Budget {
    fn operator<'a>(&mut self, at: &'a str) -> Res<'a, ()> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return bad(
                at,
                "expression too long",
                format!("at most {MAX_OPERATORS} AND/OR/NOT operators and IN values"),
            );
        }
        Ok((at, ()))
    }
}

/// A `WHERE` expression.
pub(crate) fn expr(i: &str) -> Res<'_, Expr> {
    or_expr(i, 0, &mut Budget { operators: 0 })
}

fn or_expr<'a>(i: &'a str, depth: usize, b: &mut Budget) -> Res<'a, Expr> {
    let (mut rest, mut left) = and_expr(i, depth, b)?;
    while let Ok((r, _)) = kw("OR")(rest) {
        b.operator(ws(rest))?;
        let (r, right) = commit(and_expr(r, depth, b))?;
        left = Expr::Or(Box::new(left), Box::new(right));
        rest = r;
    }
    Ok((rest, left))
}

fn and_expr<'a>(i: &'a str, depth: usize, b: &mut Budget) -> Res<'a, Expr> {
    let (mut rest, mut left) = not_expr(i, depth, b)?;
    while let Ok((r, _)) = kw("AND")(rest) {
        b.operator(ws(rest))?;
        let (r, right) = commit(not_expr(r, depth, b))?;
        left = Expr::And(Box::new(left), Box::new(right));
        rest = r;
    }
    Ok((rest, left))
}

fn deeper(at: &str, depth: usize) -> Res<'_, usize> {
    if depth >= MAX_NESTING {
        return bad(
            at,
            "expression nested too deeply",
            format!("at most {MAX_NESTING} levels of parentheses and NOT"),
        );
    }
    Ok((at, depth + 1))
}

fn not_expr<'a>(i: &'a str, depth: usize, b: &mut Budget) -> Res<'a, Expr> {
    let j = ws(i);
    if let Ok((r, _)) = kw("NOT")(j) {
        let (_, depth) = deeper(j, depth)?;
        b.operator(j)?;
        let (r, inner) = commit(not_expr(r, depth, b))?;
        return Ok((r, Expr::Not(Box::new(inner))));
    }
    if let Some(r) = j.strip_prefix('(') {
        let (_, depth) = deeper(j, depth)?;
        let (r, inner) = commit(or_expr(r, depth, b))?;
        let k = ws(r);
        return match k.strip_prefix(')') {
            Some(r) => Ok((r, inner)),
            None => failure(k, "AND, OR or `)`"),
        };
    }
    comparison(j, b)
}

fn comparison<'a>(i: &'a str, b: &mut Budget) -> Res<'a, Expr> {
    let (rest, lhs) = operand(i).or_else(|e| match e {
        nom::Err::Error(_) => fail(
            ws(i),
            "a condition such as `time > now() - 1h` or `temp >= 20`",
        ),
        other => Err(other),
    })?;
    // `x IS [NOT] NULL`.
    if let Ok((r, _)) = kw("IS")(rest) {
        let (r, not) = match kw("NOT")(r) {
            Ok((r, _)) => (r, true),
            Err(_) => (r, false),
        };
        let (r, _) = commit(kw("NULL")(r))?;
        let e = Expr::IsNull(lhs);
        return Ok((r, if not { Expr::Not(Box::new(e)) } else { e }));
    }
    // `x [NOT] BETWEEN a AND b | [NOT] IN (...) | [NOT] LIKE 's' | [NOT] REGEXP 's'`.
    let (rest, not) = match kw("NOT")(rest) {
        Ok((r, _)) => (r, true),
        Err(_) => (rest, false),
    };
    let negate = |e: Expr| if not { Expr::Not(Box::new(e)) } else { e };
    if let Ok((r, _)) = kw("BETWEEN")(rest) {
        let (r, low) = commit(operand(r))?;
        let (r, _) = commit(kw("AND")(r))?;
        let (r, high) = commit(operand(r))?;
        let ge = Expr::Cmp {
            lhs: lhs.clone(),
            op: CmpOp::GtEq,
            rhs: low,
        };
        let le = Expr::Cmp {
            lhs,
            op: CmpOp::LtEq,
            rhs: high,
        };
        return Ok((r, negate(Expr::And(Box::new(ge), Box::new(le)))));
    }
    if let Ok((r, _)) = kw("IN")(rest) {
        let (r, _) = commit(sym("(")(r))?;
        let (mut r, first) = commit(operand(r))?;
        let eq = |rhs: Operand| Expr::Cmp {
            lhs: lhs.clone(),
            op: CmpOp::Eq,
            rhs,
        };
        let mut any = eq(first);
        let mut n = 1;
        loop {
            let k = ws(r);
            if let Some(after) = k.strip_prefix(',') {
                n += 1;
                if n > MAX_IN_LIST {
                    return bad(k, "IN list too long", "at most 1000 values in IN (...)");
                }
                // Each value is one more comparison ORed in.
                b.operator(k)?;
                let (after, v) = commit(operand(after))?;
                any = Expr::Or(Box::new(any), Box::new(eq(v)));
                r = after;
            } else if let Some(after) = k.strip_prefix(')') {
                r = after;
                break;
            } else {
                return failure(k, "`,` or `)` to close the IN list");
            }
        }
        return Ok((r, negate(any)));
    }
    for (word, like) in [("LIKE", true), ("REGEXP", false)] {
        if let Ok((r, _)) = kw(word)(rest) {
            let k = ws(r);
            let (r, pattern) = match string_lit(k) {
                Ok(ok) => ok,
                Err(_) => return failure(k, "a quoted pattern"),
            };
            let e = if like {
                Expr::Like {
                    operand: lhs,
                    pattern,
                }
            } else {
                Expr::Regexp {
                    operand: lhs,
                    pattern,
                }
            };
            return Ok((r, negate(e)));
        }
    }
    if not {
        return failure(ws(rest), "BETWEEN, IN, LIKE or REGEXP after NOT");
    }
    let (rest, op) = commit(cmp_op(rest))?;
    let (rest, rhs) = commit(operand(rest))?;
    Ok((rest, Expr::Cmp { lhs, op, rhs }))
}

/// Most values in one `IN (...)` list (each is a comparison).
const MAX_IN_LIST: usize = 1000;

const AGGS: [(&str, AggFunc); 17] = [
    ("count", AggFunc::Count),
    ("sum", AggFunc::Sum),
    ("avg", AggFunc::Avg),
    ("min_value", AggFunc::MinValue),
    ("max_value", AggFunc::MaxValue),
    ("first_value", AggFunc::FirstValue),
    ("last_value", AggFunc::LastValue),
    ("max_time", AggFunc::MaxTime),
    ("min_time", AggFunc::MinTime),
    ("extreme", AggFunc::Extreme),
    ("stddev", AggFunc::Stddev),
    ("variance", AggFunc::Variance),
    ("stddev_samp", AggFunc::StddevSamp),
    ("stddev_pop", AggFunc::StddevPop),
    ("var_samp", AggFunc::VarSamp),
    ("var_pop", AggFunc::VarPop),
    ("time_duration", AggFunc::TimeDuration),
];

/// IoTDB's scalar and selector functions Duet does not compute yet.
const FUNCTIONS_NOT_IN_DUET: &[&str] = &[
    "cast",
    "diff",
    "top_k",
    "bottom_k",
    "const",
    "pi",
    "e",
    "string_contains",
    "string_matches",
    "length",
    "locate",
    "startswith",
    "endswith",
    "concat",
    "substring",
    "substr",
    "upper",
    "lower",
    "trim",
    "strcmp",
    "strreplace",
    "regexmatch",
    "regexreplace",
    "regexsplit",
    "in_range",
    "on_off",
    "non_negative_derivative",
    "derivative",
    "time_difference",
    "difference",
    "zero_duration",
    "non_zero_duration",
    "zero_count",
    "non_zero_count",
    "change_points",
    "replace",
    "round_to",
    "equal_size_bucket_random_sample",
    "m4",
    "sample",
];

/// IoTDB aggregates Duet does not compute, each with why.
const AGGS_NOT_IN_DUET: [(&str, &str); 5] = [
    ("mode", "mode() is not supported yet"),
    ("count_if", "count_if() is not supported yet"),
    ("max_by", "max_by() is not supported yet"),
    ("min_by", "min_by() is not supported yet"),
    ("count_time", "count_time() is not supported yet"),
];

pub(crate) fn agg_name(f: AggFunc) -> &'static str {
    AGGS.iter()
        .find(|(_, g)| *g == f)
        .map_or("count", |(n, _)| n)
}

/// `*` (or a suffix starting with it), or a value: a column, an
/// aggregate, or arithmetic and scalar functions over them.
pub(crate) fn select_item(i: &str) -> Res<'_, SelectItem> {
    let j = ws(i);
    if j.starts_with('*') {
        let (rest, c) = select_column(j)?;
        if c == "*" {
            return Ok((rest, SelectItem::Wildcard));
        }
        return Ok((rest, SelectItem::Column(c)));
    }
    let (rest, e) = additive(j, 0)?;
    Ok((
        rest,
        match e {
            ValueExpr::Column(c) => SelectItem::Column(c),
            ValueExpr::Agg { func, arg } => SelectItem::Agg { func, arg },
            e => SelectItem::Expr(Box::new(e)),
        },
    ))
}

fn additive(i: &str, depth: usize) -> Res<'_, ValueExpr> {
    left_assoc(
        i,
        depth,
        &[('+', ArithOp::Add), ('-', ArithOp::Sub)],
        multiplicative,
    )
}

fn multiplicative(i: &str, depth: usize) -> Res<'_, ValueExpr> {
    left_assoc(
        i,
        depth,
        &[
            ('*', ArithOp::Mul),
            ('/', ArithOp::Div),
            ('%', ArithOp::Rem),
        ],
        unary,
    )
}

/// `next (op next)*` for one precedence level, grouped from the left.
fn left_assoc<'a>(
    i: &'a str,
    depth: usize,
    ops: &[(char, ArithOp)],
    next: fn(&'a str, usize) -> Res<'a, ValueExpr>,
) -> Res<'a, ValueExpr> {
    let (mut r, mut lhs) = next(i, depth)?;
    loop {
        let k = ws(r);
        let Some(&(_, op)) = ops.iter().find(|(c, _)| k.starts_with(*c)) else {
            return Ok((r, lhs));
        };
        let (after, rhs) = commit(next(&k[1..], depth))?;
        lhs = ValueExpr::Bin {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
        r = after;
    }
}

fn unary(i: &str, depth: usize) -> Res<'_, ValueExpr> {
    let j = ws(i);
    if depth >= MAX_NESTING {
        return bad(
            j,
            "expression nested too deeply",
            format!("at most {MAX_NESTING} levels of nesting"),
        );
    }
    if let Some(r) = j.strip_prefix('-') {
        if !r.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            let (r, e) = commit(unary(r, depth + 1))?;
            return Ok((r, ValueExpr::Neg(Box::new(e))));
        }
    }
    primary(j, depth)
}

const VALUE_EXPR: &str =
    "a measurement, a number, an aggregate such as count(temp) or a function such as sin(temp)";

fn primary(i: &str, depth: usize) -> Res<'_, ValueExpr> {
    let j = ws(i);
    if let Some(r) = j.strip_prefix('(') {
        let (r, e) = commit(additive(r, depth + 1))?;
        let k = ws(r);
        return match k.strip_prefix(')') {
            Some(r) => Ok((r, e)),
            None => failure(k, "an operator or `)`"),
        };
    }
    if j.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+') {
        return match number(j) {
            Ok((r, Literal::Int(n))) => Ok((r, ValueExpr::Number(n as f64))),
            Ok((r, Literal::Float(x))) => Ok((r, ValueExpr::Number(x))),
            Ok(_) | Err(nom::Err::Error(_)) => fail(j, VALUE_EXPR),
            Err(e) => Err(e),
        };
    }
    if let Ok((after, w)) = word(j) {
        if let Ok((r, _)) = sym("(")(after) {
            if let Some(&(_, func)) = AGGS.iter().find(|(n, _)| n.eq_ignore_ascii_case(w)) {
                let (r, c) = commit(select_column(r))?;
                let arg = (c != "*").then_some(c);
                let (r, _) = commit(sym(")")(r))?;
                return Ok((r, ValueExpr::Agg { func, arg }));
            }
            let lower = w.to_ascii_lowercase();
            if SCALAR_FUNCTIONS.contains(&lower.as_str()) {
                let (r, arg) = commit(additive(r, depth + 1))?;
                let k = ws(r);
                let Some(r) = k.strip_prefix(')') else {
                    return failure(k, "`)`: these functions take one argument");
                };
                return Ok((
                    r,
                    ValueExpr::Func {
                        name: lower,
                        args: vec![arg],
                    },
                ));
            }
            if let Some((_, why)) = AGGS_NOT_IN_DUET
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(w))
            {
                return bad(j, *why, "an aggregate Duet computes");
            }
            if FUNCTIONS_NOT_IN_DUET.contains(&lower.as_str()) {
                return bad(
                    j,
                    format!("IoTDB's {lower}() is not supported yet"),
                    "a function Duet computes (the math functions, and aggregates)",
                );
            }
            return bad(
                j,
                "unknown function",
                "an aggregate (count, sum, avg, min_value, max_value, first_value, last_value, \
                 max_time, min_time, extreme, stddev, variance, stddev_samp, stddev_pop, \
                 var_samp, var_pop, time_duration) or a math function (abs, sin, cos, tan, \
                 asin, acos, atan, sinh, cosh, tanh, degrees, radians, ceil, floor, round, exp, \
                 ln, log10, sqrt, sign)",
            );
        }
    }
    let (rest, c) = select_column(j).or_else(|e| match e {
        nom::Err::Error(_) => fail(j, "`*`, a measurement or an aggregate such as count(temp)"),
        other => Err(other),
    })?;
    Ok((rest, ValueExpr::Column(c)))
}

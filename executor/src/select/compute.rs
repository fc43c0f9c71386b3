//! Computed columns: arithmetic and IoTDB's math functions over series
//! (`s1 + s2`, `sin(s1) * 2`) or over aggregates (`avg(s1) + 1`). Each
//! column name a leaf matches many series for is one result column per
//! combination, as IoTDB expands them, named with the full paths
//! (`root.sg.d1.s1 + root.sg.d1.s2`). Values are DOUBLE; a null leaf makes
//! the value null.

use crate::error::{ExecError, Result};
use duet_engine::Value;
use duet_parser::{ArithOp, ValueExpr};

/// Most result columns one computed item may expand to.
pub(super) const MAX_EXPANSION: usize = 10_000;

/// A leaf of a computed item: a column (suffix) or an aggregate of one.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Leaf {
    Column(String),
    Agg(duet_parser::AggFunc, Option<String>),
}

/// The leaves of `e`, each once, in order.
pub(super) fn leaves(e: &ValueExpr, out: &mut Vec<Leaf>) {
    let mut add = |l: Leaf| {
        if !out.contains(&l) {
            out.push(l);
        }
    };
    match e {
        ValueExpr::Column(c) => add(Leaf::Column(c.clone())),
        ValueExpr::Agg { func, arg } => add(Leaf::Agg(*func, arg.clone())),
        ValueExpr::Number(_) => {}
        ValueExpr::Neg(a) => leaves(a, out),
        ValueExpr::Bin { lhs, rhs, .. } => {
            leaves(lhs, out);
            leaves(rhs, out);
        }
        ValueExpr::Func { args, .. } => args.iter().for_each(|a| leaves(a, out)),
    }
}

/// An expression with its leaves bound to positions of a row.
#[derive(Debug, Clone)]
pub(super) enum Bound {
    At(usize),
    Num(f64),
    Neg(Box<Bound>),
    Bin(ArithOp, Box<Bound>, Box<Bound>),
    Func(String, Box<Bound>),
}

/// `e` bound with `leaf(i)` giving the position of leaf `i` (as `leaves`
/// lists them), and its name with `name(i)` for each leaf.
pub(super) fn bind(
    e: &ValueExpr,
    all: &[Leaf],
    pos: &dyn Fn(usize) -> usize,
    name: &dyn Fn(usize) -> String,
) -> (Bound, String) {
    let index = |l: &Leaf| all.iter().position(|x| x == l).unwrap_or(0);
    match e {
        ValueExpr::Column(c) => {
            let i = index(&Leaf::Column(c.clone()));
            (Bound::At(pos(i)), name(i))
        }
        ValueExpr::Agg { func, arg } => {
            let i = index(&Leaf::Agg(*func, arg.clone()));
            (Bound::At(pos(i)), name(i))
        }
        ValueExpr::Number(x) => (Bound::Num(*x), format!("{x}")),
        ValueExpr::Neg(a) => {
            let (b, n) = bind(a, all, pos, name);
            let n = match **a {
                ValueExpr::Bin { .. } => format!("-({n})"),
                _ => format!("-{n}"),
            };
            (Bound::Neg(Box::new(b)), n)
        }
        ValueExpr::Bin { op, lhs, rhs } => {
            let (l, ln) = bind(lhs, all, pos, name);
            let (r, rn) = bind(rhs, all, pos, name);
            let text = |e: &ValueExpr, n: String| match e {
                ValueExpr::Bin { .. } => format!("({n})"),
                _ => n,
            };
            (
                Bound::Bin(*op, Box::new(l), Box::new(r)),
                format!("{} {} {}", text(lhs, ln), op.symbol(), text(rhs, rn)),
            )
        }
        ValueExpr::Func { name: f, args } => {
            let (b, n) = match args.first() {
                Some(a) => bind(a, all, pos, name),
                None => (Bound::Num(f64::NAN), String::new()),
            };
            (Bound::Func(f.clone(), Box::new(b)), format!("{f}({n})"))
        }
    }
}

/// The value of `b` over `row`; null if a leaf is null or not a number.
pub(super) fn eval(b: &Bound, row: &[Option<Value>]) -> Option<f64> {
    Some(match b {
        Bound::At(i) => row.get(*i)?.as_ref()?.to_base().as_f64()?,
        Bound::Num(x) => *x,
        Bound::Neg(a) => -eval(a, row)?,
        Bound::Bin(op, l, r) => {
            let (x, y) = (eval(l, row)?, eval(r, row)?);
            match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
                ArithOp::Rem => x % y,
            }
        }
        Bound::Func(f, a) => {
            let x = eval(a, row)?;
            match f.as_str() {
                "abs" => x.abs(),
                "sin" => x.sin(),
                "cos" => x.cos(),
                "tan" => x.tan(),
                "asin" => x.asin(),
                "acos" => x.acos(),
                "atan" => x.atan(),
                "sinh" => x.sinh(),
                "cosh" => x.cosh(),
                "tanh" => x.tanh(),
                "degrees" => x.to_degrees(),
                "radians" => x.to_radians(),
                "ceil" => x.ceil(),
                "floor" => x.floor(),
                "round" => x.round(),
                "exp" => x.exp(),
                "ln" => x.ln(),
                "log10" => x.log10(),
                "sqrt" => x.sqrt(),
                "sign" => {
                    if x == 0.0 {
                        0.0
                    } else {
                        x.signum()
                    }
                }
                _ => return None,
            }
        }
    })
}

/// Every combination of one choice per leaf (`counts[i]` choices for leaf
/// `i`), refused past [`MAX_EXPANSION`].
pub(super) fn combinations(counts: &[usize]) -> Result<Vec<Vec<usize>>> {
    let total = counts
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .filter(|&n| n <= MAX_EXPANSION)
        .ok_or_else(|| {
            ExecError::semantic(format!(
                "a computed column expands to over {MAX_EXPANSION} columns (one per \
                 combination of the series its names match): name fewer series"
            ))
        })?;
    let mut out = Vec::with_capacity(total);
    if counts.contains(&0) {
        return Ok(out);
    }
    let mut cur = vec![0usize; counts.len()];
    loop {
        out.push(cur.clone());
        let mut i = counts.len();
        loop {
            if i == 0 {
                return Ok(out);
            }
            i -= 1;
            cur[i] += 1;
            if cur[i] < counts[i] {
                break;
            }
            cur[i] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(sql_item: &str) -> String {
        let sql = format!("select {sql_item} from root.d");
        let duet_parser::Statement::Select(q) = duet_parser::parse(&sql).unwrap() else {
            panic!("not a select")
        };
        let duet_parser::SelectItem::Expr(e) = &q.items[0] else {
            panic!("not computed: {sql_item}")
        };
        let mut ls = Vec::new();
        leaves(e, &mut ls);
        let names: Vec<String> = ls
            .iter()
            .map(|l| match l {
                Leaf::Column(c) => format!("root.d.{c}"),
                Leaf::Agg(f, a) => format!("{f}(root.d.{})", a.as_deref().unwrap_or("*")),
            })
            .collect();
        bind(e, &ls, &|i| i, &|i| names[i].clone()).1
    }

    #[test]
    fn computed_columns_are_named_with_their_paths() {
        assert_eq!(named("s1 + s2"), "root.d.s1 + root.d.s2");
        assert_eq!(named("-(s2 - s1)"), "-(root.d.s2 - root.d.s1)");
        assert_eq!(named("(s1 + 1) * 2"), "(root.d.s1 + 1) * 2");
        assert_eq!(named("sin(s1) * 2.5"), "sin(root.d.s1) * 2.5");
    }

    #[test]
    fn values_follow_ieee_and_nulls_propagate() {
        let row = vec![Some(Value::F64(4.0)), None, Some(Value::I32(-3))];
        let at = |i| Box::new(Bound::At(i));
        assert_eq!(
            eval(&Bound::Bin(ArithOp::Div, at(0), at(2)), &row),
            Some(4.0 / -3.0)
        );
        assert_eq!(eval(&Bound::Bin(ArithOp::Add, at(0), at(1)), &row), None);
        assert_eq!(eval(&Bound::Func("sqrt".into(), at(0)), &row), Some(2.0));
        assert_eq!(eval(&Bound::Func("sign".into(), at(2)), &row), Some(-1.0));
        assert_eq!(combinations(&[2, 3]).unwrap().len(), 6);
        assert!(combinations(&[0, 3]).unwrap().is_empty());
        assert!(combinations(&[1000, 1000]).is_err());
    }
}

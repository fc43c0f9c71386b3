//! What keeps a statement open: the `(` and quotes not closed yet, with
//! where they stand, so the shell can name the one the user forgot.
//!
//! The rules are [`crate::statements`]'s, so both agree on whether a
//! statement is open: quotes are `'`, `"` and `` ` ``; inside one, a
//! doubled quote (`'it''s'`) or a backslash-escaped one stays inside;
//! `--` outside quotes starts a comment to the end of the line; and
//! parentheses count outside quotes and comments only. (The parser has no
//! block comments, so neither does this.)

use std::fmt;

/// An opening `(` or quote with no closing one yet. `line` and `column`
/// are 1-based within the scanned text; the column counts characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    pub symbol: char,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.symbol {
            '(' => "'('",
            '\'' => "the quote \"'\"",
            '"' => "the quote '\"'",
            _ => "the backquote '`'",
        };
        write!(f, "{what} at line {}, column {}", self.line, self.column)
    }
}

/// The openings in `text` that are not closed, in the order they were
/// opened (an open quote, if any, comes last: nothing opens inside it).
/// A `)` with nothing open is ignored.
pub fn unclosed(text: &str) -> Vec<Opening> {
    let mut parens: Vec<Opening> = Vec::new();
    let mut quote: Option<Opening> = None;
    for (line_index, line) in text.split('\n').enumerate() {
        let mut chars = line.chars().enumerate().peekable();
        while let Some((column_index, c)) = chars.next() {
            if let Some(open) = quote {
                if c == '\\' {
                    chars.next();
                } else if c == open.symbol {
                    if chars.peek().is_some_and(|&(_, next)| next == c) {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                continue;
            }
            let here = Opening {
                symbol: c,
                line: line_index + 1,
                column: column_index + 1,
            };
            match c {
                '-' if chars.peek().is_some_and(|&(_, next)| next == '-') => break,
                '\'' | '"' | '`' => quote = Some(here),
                '(' => parens.push(here),
                ')' => {
                    parens.pop();
                }
                _ => {}
            }
        }
    }
    parens.extend(quote);
    parens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(symbol: char, line: usize, column: usize) -> Opening {
        Opening {
            symbol,
            line,
            column,
        }
    }

    /// The deployment guide's one-line `create pipe AB`, as a user pasted
    /// it: the sink clause misses its `)`.
    const GUIDE_AB_ONE_LINE: &str = "create pipe AB with source ('source.mode.double-living' ='true') with sink ('sink'='iotdb-thrift-sink', 'sink.ip'='iotdb-2', 'sink.port'='6667'";

    #[test]
    fn an_unclosed_paren_is_named_where_it_opened() {
        assert_eq!(unclosed(GUIDE_AB_ONE_LINE), [at('(', 1, 76)]);
        assert_eq!(&GUIDE_AB_ONE_LINE[75..76], "(");
        assert_eq!(
            unclosed("select count(\n  max(a"),
            [at('(', 1, 13), at('(', 2, 6)]
        );
        assert_eq!(unclosed("values (1, (2)\n, (3)"), [at('(', 1, 8)]);
        assert_eq!(unclosed("create pipe p with sink ('a'='b')"), []);
        assert_eq!(unclosed("a) (b"), [at('(', 1, 4)]);
    }

    #[test]
    fn an_unclosed_quote_is_named_whatever_its_kind() {
        assert_eq!(unclosed("create user u 'pw"), [at('\'', 1, 15)]);
        assert_eq!(unclosed("select \"x"), [at('"', 1, 8)]);
        assert_eq!(unclosed("select `a.b\nfrom"), [at('`', 1, 8)]);
        assert_eq!(
            unclosed("insert into root.a(time, s) values (1, 'x"),
            [at('(', 1, 36), at('\'', 1, 40)]
        );
        assert_eq!(
            at('\'', 2, 3).to_string(),
            "the quote \"'\" at line 2, column 3"
        );
        assert_eq!(at('(', 1, 76).to_string(), "'(' at line 1, column 76");
    }

    #[test]
    fn escaped_quotes_stay_inside_the_string() {
        assert_eq!(unclosed("'it''s'"), []);
        assert_eq!(unclosed("'it''s"), [at('\'', 1, 1)]);
        assert_eq!(unclosed("\"say \"\"hi\"\"\""), []);
        assert_eq!(unclosed("`a``b`"), []);
        assert_eq!(unclosed(r"'x\'y'"), []);
        assert_eq!(unclosed(r"'x\'y"), [at('\'', 1, 1)]);
        assert_eq!(unclosed(r"'x\\' ("), [at('(', 1, 7)]);
        // An empty string is two quotes, not an escaped one.
        assert_eq!(unclosed("('')"), []);
    }

    #[test]
    fn parens_inside_strings_and_comments_do_not_count() {
        assert_eq!(unclosed("('(' , \")\", `(`)"), []);
        assert_eq!(unclosed("select a -- (\nfrom b"), []);
        assert_eq!(unclosed("(a -- )\n"), [at('(', 1, 1)]);
        assert_eq!(unclosed("'--' ("), [at('(', 1, 6)]);
        assert_eq!(unclosed("a - (b - 1)"), []);
    }

    #[test]
    fn a_string_spans_lines() {
        assert_eq!(unclosed("create user u 'multi\n(\nline'"), []);
        assert_eq!(
            unclosed("create user u 'multi\n-- ( line"),
            [at('\'', 1, 15)]
        );
        assert_eq!(unclosed(""), []);
    }
}

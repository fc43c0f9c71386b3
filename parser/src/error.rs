//! Parse errors. Inside the parser a failure is a [`PErr`]: how many bytes of
//! input were left where it happened (so positions need no reference to the
//! whole text) and what was expected there. [`ParseError`] is the public form
//! with line, column and the offending token, built once at the top.

use std::borrow::Cow;

use nom::error::ErrorKind;

/// A statement that did not parse: where, what was expected, what was there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {}", self.summary())]
pub struct ParseError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column of the offending token, counted in characters.
    pub column: usize,
    /// Byte offset of the offending token in the text given to `parse`.
    pub offset: usize,
    /// What the parser would have accepted there, e.g. "`)`" or
    /// "a data type (BOOLEAN, INT32, INT64, FLOAT, DOUBLE, TEXT)".
    pub expected: String,
    /// The offending token as written, or "end of input".
    pub found: String,
    /// Set when the text was syntactically in place but wrong in value,
    /// e.g. "integer out of range" or "unknown data type".
    pub reason: Option<String>,
}

impl ParseError {
    fn found_text(&self) -> Cow<'_, str> {
        // No token reads "end of input": words have no spaces and quoted
        // tokens keep their quotes.
        if self.found == END_OF_INPUT {
            Cow::Borrowed(END_OF_INPUT)
        } else {
            Cow::Owned(format!("`{}`", self.found))
        }
    }

    fn summary(&self) -> String {
        match &self.reason {
            Some(reason) => format!(
                "{reason}: expected {}, found {}",
                self.expected,
                self.found_text()
            ),
            None => format!("expected {}, found {}", self.expected, self.found_text()),
        }
    }

    /// The message plus the offending line of `sql` with a caret under the
    /// offending token:
    ///
    /// ```text
    /// line 4, column 1: expected `,` or `)` to close `with source (`, found `with`
    /// with sink (
    /// ^
    /// ```
    pub fn render(&self, sql: &str) -> String {
        let offset = self.offset.min(sql.len());
        let start = sql[..offset].rfind('\n').map_or(0, |n| n + 1);
        let end = sql[offset..].find('\n').map_or(sql.len(), |n| offset + n);
        let line = sql[start..end].trim_end_matches('\r');
        // Keep tabs so the caret lines up however the terminal expands them.
        let pad: String = sql[start..offset]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{self}\n{line}\n{pad}^")
    }
}

const END_OF_INPUT: &str = "end of input";

/// The parser's internal error: position as bytes remaining, plus expectations.
#[derive(Debug, Clone)]
pub(crate) struct PErr {
    /// Bytes of input left at the failure; smaller means further along.
    pub rest: usize,
    pub expected: Vec<Cow<'static, str>>,
    pub reason: Option<String>,
}

pub(crate) type Res<'a, T> = nom::IResult<&'a str, T, PErr>;

impl PErr {
    pub fn new(at: &str, expected: impl Into<Cow<'static, str>>) -> PErr {
        PErr {
            rest: at.len(),
            expected: vec![expected.into()],
            reason: None,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> PErr {
        self.reason = Some(reason.into());
        self
    }

    /// Converts to the public error, given the whole text that was parsed.
    pub fn into_public(self, sql: &str) -> ParseError {
        let offset = sql.len().saturating_sub(self.rest);
        let before = &sql[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            line,
            column,
            offset,
            expected: join_expected(&self.expected),
            found: token_at(&sql[offset..]),
            reason: self.reason,
        }
    }
}

impl<'a> nom::error::ParseError<&'a str> for PErr {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        PErr::new(input, "valid syntax")
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    /// Furthest failure wins; at the same place the expectations add up.
    fn or(mut self, other: Self) -> Self {
        if other.rest < self.rest {
            return other;
        }
        if other.rest == self.rest && self.reason.is_none() {
            if other.reason.is_some() {
                return other;
            }
            for e in other.expected {
                if !self.expected.contains(&e) {
                    self.expected.push(e);
                }
            }
        }
        self
    }
}

/// Error (backtrackable) at `at`.
pub(crate) fn fail<T>(at: &str, expected: impl Into<Cow<'static, str>>) -> Res<'_, T> {
    Err(nom::Err::Error(PErr::new(at, expected)))
}

/// Failure (committed: no alternative is tried) at `at`.
pub(crate) fn failure<T>(at: &str, expected: impl Into<Cow<'static, str>>) -> Res<'_, T> {
    Err(nom::Err::Failure(PErr::new(at, expected)))
}

/// Failure with a reason: the text is in the right place but its value is wrong.
pub(crate) fn bad<'a, T>(
    at: &'a str,
    reason: impl Into<String>,
    expected: impl Into<Cow<'static, str>>,
) -> Res<'a, T> {
    Err(nom::Err::Failure(
        PErr::new(at, expected).with_reason(reason),
    ))
}

/// Turns a backtrackable error into a committed one (after a keyword has
/// decided what the text must be).
pub(crate) fn commit<T>(r: Res<'_, T>) -> Res<'_, T> {
    r.map_err(|e| match e {
        nom::Err::Error(e) => nom::Err::Failure(e),
        other => other,
    })
}

fn join_expected(list: &[Cow<'static, str>]) -> String {
    match list {
        [] => "valid syntax".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The token starting at `rest`, for "found ...": a word, a quoted string
/// (cut short), or a single character.
fn token_at(rest: &str) -> String {
    const MAX: usize = 40;
    let Some(first) = rest.chars().next() else {
        return END_OF_INPUT.to_string();
    };
    let numeric = first.is_ascii_digit()
        || (matches!(first, '-' | '+' | '.')
            && rest[1..].starts_with(|c: char| c.is_ascii_digit()));
    let end = if numeric {
        // Numbers, durations and dates: `12.3.4`, `1e400`, `2024-13-01`.
        1 + rest[1..]
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '/'))
            })
            .unwrap_or(rest.len() - 1)
    } else if first.is_ascii_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else if first == '\'' || first == '"' || first == '`' {
        rest[1..].find(first).map_or(rest.len(), |n| n + 2)
    } else {
        first.len_utf8()
    };
    let token = &rest[..end];
    if token.chars().count() > MAX {
        let cut: String = token.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        token.to_string()
    }
}

//! The interactive shell's input, one entered line at a time: which prompt
//! to show, which statements an entered line completes, what to say at
//! once when a line that starts a new statement lands inside an open one,
//! and what Ctrl-C discards. Pure decisions; `main.rs` reads the lines
//! (rustyline) and prints.
//!
//! A statement runs when Enter is pressed where it can end (see
//! [`crate::statements`]); until then the next prompt is
//! [`CONTINUATION_PROMPT`]. A line that starts with a statement keyword
//! while a `(` or quote of the open statement is still open is kept in it
//! (it may belong there: a multi-line string, a paste) but the user is told
//! which `(` or quote is open and how to get out: `;` runs the statement as
//! it is (the server's error then points at the spot), Ctrl-C discards it.

use duet_parser::STATEMENT_KEYWORDS;

use crate::statements::Splitter;
use crate::unclosed::{unclosed, Opening};

/// The prompt for a new statement.
pub const PROMPT: &str = "Duet> ";
/// The prompt while a statement is open; as wide as [`PROMPT`], so typed
/// lines stay aligned.
pub const CONTINUATION_PROMPT: &str = " ...> ";

/// The shell's own commands, which also start a line of their own.
const BUILTIN_WORDS: &[&str] = &["help", "quit", "exit"];

/// What one entered line (or pasted block of lines) leads to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Entered {
    /// Statements to run now, in order.
    pub statements: Vec<String>,
    /// To show on stderr before running them: a line that starts a new
    /// statement went into an open one.
    pub notice: Option<String>,
    /// The input that this line finished, since the last main prompt, for
    /// the history.
    pub history: Option<String>,
}

/// What Ctrl-C (or the end of input) threw away.
#[derive(Debug, PartialEq, Eq)]
pub struct Discarded {
    /// To show on stderr.
    pub notice: String,
    /// The discarded input, for the history (so Up brings it back to fix).
    pub history: String,
}

/// The statement being typed, across prompts.
#[derive(Debug, Default)]
pub struct Typing {
    splitter: Splitter,
    /// Everything entered since the last main prompt.
    entered: String,
}

impl Typing {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a statement is open: typed, not run and not discarded.
    pub fn is_open(&self) -> bool {
        self.splitter.is_pending()
    }

    pub fn prompt(&self) -> &'static str {
        if self.is_open() {
            CONTINUATION_PROMPT
        } else {
            PROMPT
        }
    }

    /// Takes what rustyline returned for one Enter: a line, or several
    /// when a pasted block held newlines.
    pub fn enter(&mut self, buffer: &str) -> Entered {
        let mut out = Entered::default();
        if !self.entered.is_empty() {
            self.entered.push('\n');
        }
        self.entered.push_str(buffer);
        for line in buffer.split('\n') {
            if out.notice.is_none() {
                out.notice = self.swallowed_line_notice(line);
            }
            out.statements.extend(self.splitter.push_line(line));
        }
        // Nothing more is coming before the user sees a prompt: a
        // statement that can end here runs now.
        if self.splitter.is_pending() && !self.splitter.needs_more() {
            out.statements.extend(self.splitter.finish());
        }
        if !self.is_open() {
            let text = std::mem::take(&mut self.entered);
            if !text.trim().is_empty() {
                out.history = Some(text.trim_end().to_string());
            }
        }
        out
    }

    /// Ctrl-C: drops the open statement, if any. `None` when nothing was
    /// open (Ctrl-C on an empty prompt only clears the line).
    pub fn discard(&mut self) -> Option<Discarded> {
        if !self.is_open() {
            self.entered.clear();
            return None;
        }
        let lines = self.splitter.pending().trim().lines().count().max(1);
        self.splitter = Splitter::new();
        let history = std::mem::take(&mut self.entered).trim_end().to_string();
        let plural = if lines == 1 { "" } else { "s" };
        Some(Discarded {
            notice: format!("Discarded the open statement ({lines} line{plural})."),
            history,
        })
    }

    /// The notice for `line` if it starts a new statement while a `(` or
    /// quote of the open one is not closed.
    fn swallowed_line_notice(&self, line: &str) -> Option<String> {
        if !self.splitter.is_pending() || !starts_statement(line) {
            return None;
        }
        // Trimmed as it will be sent, so the server's error (after `;`)
        // names the same line and column.
        let open = unclosed(self.splitter.pending().trim_start());
        (!open.is_empty()).then(|| swallowed_line_text(&open))
    }
}

/// Whether `line`'s first word is one a statement (or a shell command)
/// starts with.
pub fn starts_statement(line: &str) -> bool {
    let word: String = line
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    !word.is_empty()
        && (STATEMENT_KEYWORDS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&word))
            || BUILTIN_WORDS.iter().any(|k| k.eq_ignore_ascii_case(&word)))
}

fn swallowed_line_text(open: &[Opening]) -> String {
    let names: Vec<String> = open.iter().map(Opening::to_string).collect();
    let verb = if open.len() == 1 { "is" } else { "are" };
    format!(
        "This line went into the open statement: its {} {verb} not closed.\n\
         Type ';' to run the statement as it is, or Ctrl-C to discard it.",
        names.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE_AB_ONE_LINE: &str = "create pipe AB with source ('source.mode.double-living' ='true') with sink ('sink'='iotdb-thrift-sink', 'sink.ip'='iotdb-2', 'sink.port'='6667'";

    #[test]
    fn a_complete_line_runs_and_the_prompt_stays() {
        let mut t = Typing::new();
        assert_eq!(t.prompt(), PROMPT);
        let e = t.enter("show pipes");
        assert_eq!(e.statements, ["show pipes"]);
        assert_eq!(e.history.as_deref(), Some("show pipes"));
        assert_eq!(t.prompt(), PROMPT);
        let e = t.enter("flush; show cluster");
        assert_eq!(e.statements, ["flush", "show cluster"]);
        assert_eq!(t.enter("").statements, Vec::<String>::new());
    }

    #[test]
    fn an_open_statement_shows_the_continuation_prompt_until_it_ends() {
        let mut t = Typing::new();
        let e = t.enter("select temp");
        assert!(e.statements.is_empty() && e.history.is_none());
        assert_eq!(t.prompt(), CONTINUATION_PROMPT);
        assert_eq!(PROMPT.len(), CONTINUATION_PROMPT.len());
        let e = t.enter("from root.a");
        assert_eq!(e.statements, ["select temp\nfrom root.a"]);
        assert_eq!(e.history.as_deref(), Some("select temp\nfrom root.a"));
        assert_eq!(t.prompt(), PROMPT);
        // An empty line runs whatever is open.
        t.enter("create pipe p with source (");
        assert_eq!(t.enter("").statements, ["create pipe p with source ("]);
        assert!(!t.is_open());
    }

    #[test]
    fn a_statement_line_inside_an_open_paren_says_which_one_at_once() {
        let mut t = Typing::new();
        let e = t.enter(GUIDE_AB_ONE_LINE);
        assert_eq!(e, Entered::default());
        assert_eq!(t.prompt(), CONTINUATION_PROMPT);
        let e = t.enter("show pipes");
        assert!(e.statements.is_empty());
        assert_eq!(
            e.notice.as_deref(),
            Some(
                "This line went into the open statement: its '(' at line 1, column 76 is not \
                 closed.\nType ';' to run the statement as it is, or Ctrl-C to discard it."
            )
        );
        // Kept: `;` runs the statement as typed, this line included.
        let e = t.enter(";");
        assert_eq!(e.statements, [format!("{GUIDE_AB_ONE_LINE}\nshow pipes")]);
        assert_eq!(t.prompt(), PROMPT);
    }

    #[test]
    fn only_statement_keywords_inside_open_parens_or_quotes_get_a_notice() {
        let mut t = Typing::new();
        t.enter("create pipe AB");
        t.enter("with source (");
        // Continuing words and values are what an open paren expects.
        assert_eq!(t.enter("'a'='b'").notice, None);
        assert_eq!(t.enter("with sink (").notice, None);
        let notice = t.enter("  QUIT").notice.unwrap_or_default();
        assert!(
            notice.contains("'(' at line 2, column 13 and '(' at line 4, column 11 are not closed"),
            "{notice}"
        );
        // Open for a missing clause only: nothing to name.
        let mut t = Typing::new();
        t.enter("select temp");
        assert_eq!(t.enter("count").notice, None);
        // An open quote.
        let mut t = Typing::new();
        t.enter("create user u 'secret");
        let notice = t.enter("drop user u").notice.unwrap_or_default();
        assert!(
            notice.contains("the quote \"'\" at line 1, column 15 is not closed"),
            "{notice}"
        );
    }

    #[test]
    fn a_pasted_block_gets_one_notice_and_runs_what_ends() {
        let mut t = Typing::new();
        let e =
            t.enter("show pipes; insert into root.a(time, s) values (1,\nshow cluster\nselect x");
        assert_eq!(e.statements, ["show pipes"]);
        let notice = e.notice.unwrap_or_default();
        assert!(notice.contains("'(' at line 1, column 36"), "{notice}");
        assert!(t.is_open());
    }

    #[test]
    fn ctrl_c_discards_an_open_statement_and_keeps_it_for_the_history() {
        let mut t = Typing::new();
        assert_eq!(t.discard(), None);
        t.enter(GUIDE_AB_ONE_LINE);
        t.enter("show pipes");
        let d = t.discard();
        assert_eq!(
            d,
            Some(Discarded {
                notice: "Discarded the open statement (2 lines).".into(),
                history: format!("{GUIDE_AB_ONE_LINE}\nshow pipes"),
            })
        );
        assert_eq!(t.prompt(), PROMPT);
        assert_eq!(t.enter("show pipes;").statements, ["show pipes"]);
        assert_eq!(t.discard(), None);
    }

    #[test]
    fn statement_words_are_the_parsers_and_the_shells() {
        for line in ["show pipes", "  SELECT 1", "Create pipe", "quit", "exit;"] {
            assert!(starts_statement(line), "{line}");
        }
        for line in [
            "with sink (",
            "'sink'='x'",
            "",
            "  ",
            "shower",
            ")",
            "from root",
        ] {
            assert!(!starts_statement(line), "{line}");
        }
    }
}

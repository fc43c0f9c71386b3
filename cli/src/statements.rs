//! Where statements start and end in typed, pasted or piped text.
//!
//! A statement ends at a `;` outside quotes and `--` comments. Because
//! IoTDB's users also type statements without `;` (`show pipes`,
//! `stop pipe AB`), a statement also ends at the end of a line when it
//! looks complete there:
//!
//! - no open quote and no open parenthesis;
//! - it does not end with a word or symbol that needs more (`with`, `from`,
//!   `and`, `,`, `(`, `=` ...);
//! - statements with a required clause have it: `create pipe` needs its
//!   `sink`/`connector`, `insert` its `values`, `select` its `from`.
//!
//! So the deployment guide's multi-line `create pipe BA\nwith source (\n...`
//! is complete once its sink clause closes. A statement that is complete at
//! a line end still takes the next line if that line can only continue it
//! (it starts with `where`, `and`, `from`, `values`, `,`, `)` ...), so
//! [`Splitter`] hands it out when the next line arrives (or at
//! [`Splitter::finish`]); the interactive shell, which has no next line
//! yet, runs it when [`Splitter::needs_more`] says no. An empty line ends
//! whatever is pending (the way out when the guess is wrong, e.g. an
//! unbalanced parenthesis), and so does the end of the input.

/// Words that cannot end a statement: more must follow.
const CONTINUATION_WORDS: &[&str] = &[
    "alter",
    "and",
    "as",
    "between",
    "by",
    "compressor",
    "connector",
    "create",
    "database",
    "datatype",
    "delete",
    "drop",
    "encoding",
    "exists",
    "extractor",
    "from",
    "group",
    "having",
    "if",
    "in",
    "insert",
    "into",
    "is",
    "like",
    "limit",
    "not",
    "offset",
    "on",
    "or",
    "order",
    "pipe",
    "processor",
    "select",
    "set",
    "show",
    "sink",
    "source",
    "start",
    "stop",
    "to",
    "values",
    "where",
    "with",
];

/// Symbols that cannot end a statement. `*` is absent: `root.**` ends one.
const CONTINUATION_SYMBOLS: &str = ",(=<>+-/%|&";

/// Words that cannot start a statement, so a line starting with one
/// continues the previous statement. (`set` is absent: `set ttl ...`.)
const CONTINUING_WORDS: &[&str] = &[
    "align", "and", "as", "by", "fill", "from", "group", "having", "into", "limit", "offset", "or",
    "order", "slimit", "soffset", "values", "where", "with",
];

/// Whether `line` can only continue a statement, never start one.
fn continues_statement(line: &str) -> bool {
    let line = line.trim_start();
    if line.starts_with("--") {
        return false;
    }
    match line.chars().next() {
        Some(c) if ",()=<>+-/%|&*.".contains(c) => true,
        Some(_) => {
            let word: String = line
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            CONTINUING_WORDS.contains(&word.to_ascii_lowercase().as_str())
        }
        None => false,
    }
}

/// The last token of the pending text.
#[derive(Clone, Debug, Default, PartialEq)]
enum Last {
    #[default]
    None,
    Word(String),
    Symbol(char),
    Literal,
}

/// What is known about the statement in progress; carried across lines.
#[derive(Clone, Debug, Default)]
struct Scan {
    quote: Option<char>,
    depth: i64,
    /// The first two words, lowercase (`create pipe`, `select ...`).
    head: Vec<String>,
    saw_sink: bool,
    saw_values: bool,
    saw_from: bool,
    last: Last,
    word: String,
    /// Anything but whitespace and comments.
    has_content: bool,
}

impl Scan {
    fn end_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word);
        match word.as_str() {
            "sink" | "connector" => self.saw_sink = true,
            "values" => self.saw_values = true,
            "from" => self.saw_from = true,
            _ => {}
        }
        if self.head.len() < 2 {
            self.head.push(word.clone());
        }
        self.last = Last::Word(word);
    }

    fn is_complete(&self) -> bool {
        if !self.has_content || self.quote.is_some() || self.depth > 0 {
            return false;
        }
        match &self.last {
            Last::Symbol(c) if CONTINUATION_SYMBOLS.contains(*c) => return false,
            Last::Word(w) if CONTINUATION_WORDS.contains(&w.as_str()) => return false,
            _ => {}
        }
        let head: Vec<&str> = self.head.iter().map(String::as_str).collect();
        match head.as_slice() {
            ["create", "pipe", ..] => self.saw_sink,
            ["insert", ..] => self.saw_values,
            ["select", ..] => self.saw_from,
            _ => true,
        }
    }
}

/// Cuts lines of input into statements (without their `;`). Feed it whole
/// lines; it keeps the unfinished statement between calls.
#[derive(Debug, Default)]
pub struct Splitter {
    pending: String,
    scan: Scan,
    /// `pending` was complete at the end of its last line: it ends unless
    /// the next line continues it.
    complete: bool,
}

impl Splitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a statement has been started and not handed out.
    pub fn is_pending(&self) -> bool {
        self.scan.has_content || self.scan.quote.is_some()
    }

    /// The statement in progress as typed so far (with any comments).
    pub fn pending(&self) -> &str {
        &self.pending
    }

    /// Whether the pending statement cannot end here: it needs more lines.
    pub fn needs_more(&self) -> bool {
        self.is_pending() && !self.complete
    }

    /// Adds one line (a trailing `\r` is ignored); returns the statements
    /// that ended before or in it, in order.
    pub fn push_line(&mut self, line: &str) -> Vec<String> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut done = Vec::new();
        if line.trim().is_empty() && self.scan.quote.is_none() {
            done.extend(self.take());
            return done;
        }
        if self.complete && !line.trim_start().starts_with("--") {
            if continues_statement(line) {
                self.complete = false;
            } else {
                done.extend(self.take());
            }
        }
        if !self.pending.is_empty() {
            self.pending.push('\n');
        }
        let mut start = 0;
        let mut chars = line.char_indices().peekable();
        while let Some((pos, c)) = chars.next() {
            if let Some(q) = self.scan.quote {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    self.scan.quote = None;
                    self.scan.last = Last::Literal;
                }
                continue;
            }
            match c {
                '-' if chars.peek().is_some_and(|&(_, n)| n == '-') => break,
                ';' => {
                    self.scan.end_word();
                    self.pending
                        .push_str(line.get(start..pos).unwrap_or_default());
                    done.extend(self.take());
                    start = pos + 1;
                    continue;
                }
                c if c.is_alphanumeric() || c == '_' => {
                    self.scan.word.extend(c.to_lowercase());
                }
                c if c.is_whitespace() => {
                    self.scan.end_word();
                    continue;
                }
                c => {
                    self.scan.end_word();
                    match c {
                        '\'' | '"' | '`' => self.scan.quote = Some(c),
                        '(' => self.scan.depth += 1,
                        ')' => self.scan.depth -= 1,
                        _ => {}
                    }
                    self.scan.last = Last::Symbol(c);
                }
            }
            self.scan.has_content = true;
        }
        if self.scan.quote.is_none() {
            self.scan.end_word();
        }
        self.pending.push_str(line.get(start..).unwrap_or_default());
        if !self.is_pending() {
            // Only comments and blanks since the last statement: drop them.
            self.pending.clear();
        } else {
            self.complete = self.scan.is_complete();
        }
        done
    }

    /// Ends the input: the unfinished statement, if any.
    pub fn finish(&mut self) -> Option<String> {
        self.take()
    }

    fn take(&mut self) -> Option<String> {
        let had_content = self.is_pending();
        let text = std::mem::take(&mut self.pending);
        self.scan = Scan::default();
        self.complete = false;
        had_content.then(|| text.trim().to_string())
    }
}

/// All statements in `text`, including an unfinished last one.
pub fn split_all(text: &str) -> Vec<String> {
    let mut splitter = Splitter::new();
    let mut out: Vec<String> = text
        .split('\n')
        .flat_map(|l| splitter.push_line(l))
        .collect();
    out.extend(splitter.finish());
    out
}

/// Commands the shell handles itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Help,
    Quit,
}

/// `help`, `quit` or `exit` (any case; the `;` is already gone).
pub fn builtin(statement: &str) -> Option<Builtin> {
    match statement.trim().to_ascii_lowercase().as_str() {
        "help" => Some(Builtin::Help),
        "quit" | "exit" => Some(Builtin::Quit),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Step 3 of the deployment guide, as printed.
    const GUIDE_BA: &str = "create pipe BA
with source (
'source.mode.double-living' ='true'
)
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='iotdb-1',
  'sink.port'='6667'
)";

    /// Step 2 of the guide, whose source clause misses its `)`.
    const GUIDE_AB: &str = "create pipe AB
with source (
  'source.mode.double-living' ='true'
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='iotdb-2',
  'sink.port'='6667'
)";

    fn feed(lines: &str) -> (Vec<String>, Splitter) {
        let mut s = Splitter::new();
        let out = lines.split('\n').flat_map(|l| s.push_line(l)).collect();
        (out, s)
    }

    /// Whether the shell runs `buffer` when Enter is pressed after it: its
    /// last statement can end there, or it ends with an empty line.
    fn buffer_is_complete(buffer: &str) -> bool {
        !feed(buffer).1.needs_more()
    }

    fn complete_at_line_end(text: &str) -> bool {
        buffer_is_complete(text) && split_all(text) == [text]
    }

    #[test]
    fn one_line_statements_need_no_semicolon() {
        for stmt in [
            "show pipes",
            "show  cluster",
            "stop pipe AB",
            "flush",
            "show timeseries root.**",
            "select count(*) from root.plant.**",
            "insert into root.a(time, s) values (now(), 21.5)",
            "select temp from root.plant.line1 where time > now() - 1h",
        ] {
            assert!(complete_at_line_end(stmt), "{stmt}");
            // Piped: handed out when the next line starts something new.
            let (out, s) = feed(&format!("{stmt}\nshow pipes"));
            assert_eq!(out, [stmt], "{stmt}");
            assert!(s.is_pending() && !s.needs_more());
        }
    }

    #[test]
    fn the_guides_multi_line_create_pipe_runs_when_its_sink_closes() {
        let mut s = Splitter::new();
        let lines: Vec<&str> = GUIDE_BA.lines().collect();
        let (last, before) = lines.split_last().unwrap();
        for line in before {
            assert!(s.push_line(line).is_empty(), "ended early at {line:?}");
            assert!(s.needs_more());
        }
        assert!(s.push_line(last).is_empty());
        assert!(!s.needs_more());
        assert_eq!(s.push_line("show pipes"), [GUIDE_BA]);
        assert_eq!(s.finish().as_deref(), Some("show pipes"));
        assert!(complete_at_line_end(GUIDE_BA));
        assert!(!buffer_is_complete(
            "create pipe BA\nwith source (\n'a'='b'\n)"
        ));
    }

    #[test]
    fn unbalanced_input_waits_for_a_semicolon_an_empty_line_or_the_end() {
        let (out, s) = feed(GUIDE_AB);
        assert!(out.is_empty() && s.needs_more());
        assert!(!buffer_is_complete(GUIDE_AB));
        assert!(buffer_is_complete(&format!("{GUIDE_AB}\n")));
        assert!(buffer_is_complete(&format!("{GUIDE_AB};")));
        assert_eq!(
            split_all(&format!("{GUIDE_AB}\n\nshow pipes")),
            [GUIDE_AB, "show pipes"]
        );
        assert_eq!(split_all(GUIDE_AB), [GUIDE_AB]);
    }

    #[test]
    fn semicolons_split_outside_quotes_and_comments_only() {
        assert_eq!(
            split_all("show pipes; show cluster;\nstop pipe 'a;b' -- no; split\n;"),
            ["show pipes", "show cluster", "stop pipe 'a;b' -- no; split"]
        );
        assert_eq!(
            split_all("insert into root.a(time, s) values (1, 'x\\'y;z')"),
            ["insert into root.a(time, s) values (1, 'x\\'y;z')"]
        );
        assert_eq!(split_all(";;  ;"), Vec::<String>::new());
        assert_eq!(split_all("-- only a comment\nshow pipes"), ["show pipes"]);
    }

    #[test]
    fn quotes_and_dangling_words_continue_a_statement() {
        assert!(complete_at_line_end("create user u 'multi\n\nline'"));
        assert!(feed("create user u 'multi\n\nline").1.needs_more());
        for incomplete in [
            "select temp",
            "select temp from",
            "select temp from root.a where",
            "insert into root.a(time, s)",
            "create database",
            "show",
            "stop pipe",
            "select a,",
            "create timeseries root.a.b with datatype=",
        ] {
            assert!(!buffer_is_complete(incomplete), "{incomplete}");
            assert!(
                buffer_is_complete(&format!("{incomplete}\n")),
                "{incomplete}"
            );
        }
        let select = "select temp\nfrom root.a\nwhere time > 1\n  and temp > 2\nlimit 3";
        assert_eq!(split_all(select), [select]);
        let insert = "insert into root.a(time, s)\nvalues (1, 2)\n, (2, 3)";
        assert_eq!(split_all(insert), [insert]);
        assert_eq!(
            split_all("flush\nset ttl to root.a 1"),
            ["flush", "set ttl to root.a 1"]
        );
    }

    #[test]
    fn windows_line_ends_and_blank_lines_are_harmless() {
        assert_eq!(
            split_all("show pipes\r\n\r\n\nflush\r"),
            ["show pipes", "flush"]
        );
        assert!(buffer_is_complete(""));
    }

    #[test]
    fn builtins_in_any_case() {
        assert_eq!(builtin(" EXIT "), Some(Builtin::Quit));
        assert_eq!(builtin("quit"), Some(Builtin::Quit));
        assert_eq!(builtin("Help"), Some(Builtin::Help));
        assert_eq!(builtin("show pipes"), None);
        assert_eq!(split_all("exit;"), ["exit"]);
    }
}

//! `duet-cli`: the shell binary. The pure parts live in the library (see
//! `lib.rs` for the map); this file picks the mode and owns the terminal:
//!
//! - `-e "statements"`: run them, print, exit 1 if any failed (the error
//!   goes to stderr);
//! - stdin not a terminal (a pipe, a heredoc): read statements from it with
//!   the same rules, no prompt, exit 1 if any failed;
//! - otherwise interactive: rustyline reads one line at a time and
//!   [`duet_cli::typing`] decides the prompt, what runs and what to say;
//!   a history file keeps whole statements.
//!
//! Exit codes: 0 success, 1 a statement failed or no server was reachable,
//! 2 bad flags.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use duet_cli::args::Args;
use duet_cli::render::{error_text, parse_zone};
use duet_cli::shell::{Shell, Step};
use duet_cli::statements::{split_all, Splitter};
use duet_cli::typing::Typing;
use duet_rpc::client::Session;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};

fn main() -> ExitCode {
    let args = match Args::from_env() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let cfg = match args.session_config() {
        Ok(cfg) => cfg,
        Err(msg) => {
            eprintln!("duet-cli: {msg}");
            return ExitCode::from(2);
        }
    };
    let zone = match parse_zone(&cfg.zone_id) {
        Ok(zone) => zone,
        Err(msg) => {
            eprintln!("duet-cli: --zone: {msg}");
            return ExitCode::from(2);
        }
    };
    let interactive = args.execute.is_none() && io::stdin().is_terminal();
    let session = match Session::open(cfg) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("{}", error_text(&e, None));
            return ExitCode::from(1);
        }
    };
    let mut shell = Shell::new(session, zone);
    let result = if let Some(text) = &args.execute {
        run_statements(&mut shell, split_all(text))
    } else if interactive {
        run_interactive(&mut shell, args.history_path().as_deref())
    } else {
        run_piped(&mut shell, io::stdin().lock())
    };
    let ok = match result {
        Ok(ok) => ok,
        // Output closed (e.g. `| head`): nothing left to tell anyone.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            eprintln!("duet-cli: {e}");
            false
        }
    };
    let _ = shell.into_session().close();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Runs statements in order until `quit`; `Ok(false)` if any failed.
fn run_statements(shell: &mut Shell, statements: Vec<String>) -> io::Result<bool> {
    let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
    let mut ok = true;
    for statement in statements {
        match shell.run(&statement, &mut out, &mut err)? {
            Step::Done => {}
            Step::Failed => ok = false,
            Step::Quit => break,
        }
    }
    Ok(ok)
}

/// Statements from a pipe or file, run as soon as each is complete.
fn run_piped(shell: &mut Shell, mut input: impl BufRead) -> io::Result<bool> {
    let mut splitter = Splitter::new();
    let mut ok = true;
    let mut line = Vec::new();
    loop {
        line.clear();
        let at_end = input.read_until(b'\n', &mut line)? == 0;
        let statements = if at_end {
            splitter.finish().into_iter().collect()
        } else {
            let text = String::from_utf8_lossy(&line);
            splitter.push_line(text.strip_suffix('\n').unwrap_or(&text))
        };
        let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
        for statement in statements {
            match shell.run(&statement, &mut out, &mut err)? {
                Step::Done => {}
                Step::Failed => ok = false,
                Step::Quit => return Ok(ok),
            }
        }
        if at_end {
            return Ok(ok);
        }
    }
}

/// Keeps passwords out of the history file.
fn keep_in_history(buffer: &str) -> bool {
    let lower = buffer.to_ascii_lowercase();
    !(lower.contains("password") || lower.trim_start().starts_with("create user"))
}

/// Adds finished (or discarded) input to the history and saves it; warns
/// once if the file cannot be written.
fn remember(
    editor: &mut Editor<(), FileHistory>,
    text: &str,
    path: Option<&Path>,
    warned: &mut bool,
) {
    if !keep_in_history(text) {
        return;
    }
    let _ = editor.add_history_entry(text);
    if let Some(path) = path {
        if let (Err(e), false) = (editor.save_history(path), *warned) {
            eprintln!("duet-cli: cannot save history to {}: {e}", path.display());
            *warned = true;
        }
    }
}

/// The prompt loop: one line per `readline`, so the prompt can show that
/// a statement is open. Always `Ok(true)`: errors were shown as they
/// happened.
fn run_interactive(shell: &mut Shell, history: Option<&Path>) -> io::Result<bool> {
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(1000)
        .map_err(io::Error::other)?
        .build();
    let mut editor: Editor<(), FileHistory> =
        Editor::with_config(config).map_err(io::Error::other)?;
    if let Some(path) = history {
        // A missing file is a first run.
        let _ = editor.load_history(path);
    }
    println!(
        "Connected to {} as {}. Type 'help' for help, 'quit' to leave.",
        shell.session().endpoint().unwrap_or_default(),
        shell.session().config().user
    );
    let mut history_warned = false;
    let mut typing = Typing::new();
    loop {
        let entered = match editor.readline(typing.prompt()) {
            Ok(buffer) => typing.enter(&buffer),
            Err(e @ (ReadlineError::Interrupted | ReadlineError::Eof)) => {
                if let Some(discarded) = typing.discard() {
                    eprintln!("{}", discarded.notice);
                    remember(
                        &mut editor,
                        &discarded.history,
                        history,
                        &mut history_warned,
                    );
                }
                if matches!(e, ReadlineError::Eof) {
                    return Ok(true);
                }
                continue;
            }
            Err(e) => return Err(io::Error::other(e)),
        };
        if let Some(notice) = &entered.notice {
            eprintln!("{notice}");
        }
        if let Some(text) = &entered.history {
            remember(&mut editor, text, history, &mut history_warned);
        }
        let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
        for statement in &entered.statements {
            if shell.run(statement, &mut out, &mut err)? == Step::Quit {
                return Ok(true);
            }
        }
        out.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_history() {
        assert!(keep_in_history("show pipes"));
        assert!(!keep_in_history("CREATE USER bob 'pw'"));
        assert!(!keep_in_history("alter user bob set password 'x'"));
    }
}

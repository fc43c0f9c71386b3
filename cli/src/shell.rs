//! Running one statement for any of the three modes (interactive, `-e`,
//! piped): built-in commands, printing results page by page, error text and
//! reconnect notices. Results go to `out`, errors and notices to `err`.

use std::io::{self, Write};
use std::time::Instant;

use duet_rpc::client::{ClientError, Outcome, Session};
use jiff::tz::TimeZone;

use crate::render::{cell, error_text, row_count, table, Precision, TimeFormat};
use crate::statements::{builtin, Builtin};

/// Rows per printed table; a longer result prints several tables, so a
/// big result is never held in memory whole.
pub const ROWS_PER_TABLE: usize = 1000;

pub const HELP: &str = "\
Statements end with ';', or at the end of a line when they look complete
('show pipes', 'stop pipe AB'). A statement continues over several lines
while parentheses or quotes are open or a clause is missing ('create pipe'
needs its sink, 'select' its from); the prompt is then ' ...> ', and an
empty line or ';' runs what has been typed, Ctrl-C discards it.
  help          this text
  quit, exit    leave (Ctrl-D does too; Ctrl-C clears the line)
With several hosts (-h a,b), a lost connection moves the next statement to
the next host; a statement that failed is not run again by itself.";

/// What became of one statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Done,
    Failed,
    Quit,
}

/// Why printing a statement's result stopped early.
enum Failure {
    Client(ClientError),
    Output(io::Error),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Client(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Output(e)
    }
}

/// A session plus the zone timestamps are shown in.
pub struct Shell {
    session: Session,
    zone: TimeZone,
}

impl Shell {
    pub fn new(session: Session, zone: TimeZone) -> Self {
        Shell { session, zone }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn into_session(self) -> Session {
        self.session
    }

    /// Runs one statement (or built-in). `Err` only when `out`/`err`
    /// cannot be written (e.g. a closed pipe): the caller should stop.
    pub fn run(
        &mut self,
        statement: &str,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<Step> {
        match builtin(statement) {
            Some(Builtin::Help) => {
                writeln!(out, "{HELP}")?;
                return Ok(Step::Done);
            }
            Some(Builtin::Quit) => return Ok(Step::Quit),
            None => {}
        }
        if self.session.endpoint().is_none() {
            match self.session.ensure_connected() {
                Ok(()) => {
                    let endpoint = self.session.endpoint().unwrap_or_default();
                    writeln!(err, "Reconnected to {endpoint}.")?;
                }
                Err(e) => {
                    self.report(&e, err)?;
                    return Ok(Step::Failed);
                }
            }
        }
        let started = Instant::now();
        // An incremental backup can take minutes: say how far it is.
        let progress =
            is_backup(statement).then(|| BackupProgress::start(self.session.config().clone()));
        let result = print_result(&mut self.session, statement, &self.zone, out);
        drop(progress);
        out.flush()?;
        match result {
            Ok(()) => {}
            Err(Failure::Output(e)) => return Err(e),
            Err(Failure::Client(e)) => {
                self.report(&e, err)?;
                return Ok(Step::Failed);
            }
        }
        writeln!(out, "It costs {:.3}s", started.elapsed().as_secs_f64())?;
        out.flush()?;
        Ok(Step::Done)
    }

    fn report(&self, e: &ClientError, err: &mut dyn Write) -> io::Result<()> {
        let next = self
            .session
            .endpoint()
            .is_none()
            .then(|| self.session.next_endpoint());
        writeln!(err, "{}", error_text(e, next.as_deref()))?;
        err.flush()
    }
}

/// Executes `sql` and prints its result: tables of at most
/// [`ROWS_PER_TABLE`] rows, then the row count. Rows printed before an
/// error stay printed.
fn print_result(
    session: &mut Session,
    sql: &str,
    zone: &TimeZone,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut rows = match session.execute(sql)? {
        Outcome::Done => {
            writeln!(out, "Msg: The statement is executed successfully.")?;
            return Ok(());
        }
        Outcome::Rows(rows) => rows,
    };
    if let Some(w) = rows.warning() {
        writeln!(out, "Warning: {w}")?;
    }
    let time = TimeFormat::new(
        zone.clone(),
        Precision::from_name(rows.timestamp_precision()),
    );
    let columns = rows.columns().to_vec();
    let types = rows.column_types().to_vec();
    let mut page: Vec<Vec<String>> = Vec::new();
    let mut total: u64 = 0;
    let mut printed = false;
    let outcome = loop {
        match rows.next_row() {
            Ok(Some(row)) => {
                let cells = row.iter().zip(
                    types
                        .iter()
                        .map(String::as_str)
                        .chain(std::iter::repeat("")),
                );
                page.push(
                    cells
                        .map(|(field, type_name)| cell(field, type_name, &time))
                        .collect(),
                );
                total += 1;
                if page.len() >= ROWS_PER_TABLE {
                    writeln!(out, "{}", table(&columns, &types, &page))?;
                    page.clear();
                    printed = true;
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    if !page.is_empty() || !printed {
        writeln!(out, "{}", table(&columns, &types, &page))?;
    }
    outcome?;
    // The rows are all read; a failed close cannot change what was shown,
    // and a lost connection shows up on the next statement.
    let _ = rows.close();
    writeln!(out, "{}", row_count(total))?;
    Ok(())
}

/// `BACKUP` alone (the incremental one; `BACKUP TO` is a quick checkpoint).
fn is_backup(statement: &str) -> bool {
    statement
        .trim()
        .trim_end_matches(';')
        .trim()
        .eq_ignore_ascii_case("backup")
}

/// While a `BACKUP` runs: a second session asks `SHOW BACKUPS` every
/// second and prints the running backup's progress to stderr (every
/// second on a terminal, every 5 s otherwise, e.g. under cron). Stops
/// when dropped.
struct BackupProgress {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackupProgress {
    fn start(cfg: duet_rpc::client::SessionConfig) -> BackupProgress {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        // Its own handle on stderr: the shell holds stderr's lock while a
        // statement runs, and this thread must not wait for it.
        let err = std::os::fd::AsFd::as_fd(&std::io::stderr())
            .try_clone_to_owned()
            .map(std::fs::File::from);
        let thread = std::thread::spawn(move || {
            let Ok(mut err) = err else { return };
            let every = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                1
            } else {
                5
            };
            let started = Instant::now();
            let mut session: Option<Session> = None;
            let mut tick = 0u64;
            while !flag.load(Ordering::Acquire) {
                std::thread::park_timeout(std::time::Duration::from_secs(1));
                if flag.load(Ordering::Acquire) {
                    break;
                }
                tick += 1;
                if tick % every != 0 {
                    continue;
                }
                if session.is_none() {
                    session = Session::open(cfg.clone()).ok();
                }
                let Some(s) = session.as_mut() else { continue };
                if let Some((bytes, files)) = running_backup(s) {
                    let _ = writeln!(
                        err,
                        "backing up: {:.1} MiB copied, {files} files, {} s",
                        bytes as f64 / (1 << 20) as f64,
                        started.elapsed().as_secs()
                    );
                }
            }
        });
        BackupProgress {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BackupProgress {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// The running backup's (bytes copied, files) from `SHOW BACKUPS`.
fn running_backup(s: &mut Session) -> Option<(u64, u64)> {
    let Ok(Outcome::Rows(mut rows)) = s.execute("SHOW BACKUPS") else {
        return None;
    };
    let mut found = None;
    while let Ok(Some(r)) = rows.next_row() {
        let cells: Vec<String> = r.iter().map(|f| f.to_string()).collect();
        if cells.get(5).map(String::as_str) == Some("running") {
            found = Some((cells.get(2)?.parse().ok()?, cells.get(3)?.parse().ok()?));
        }
    }
    found
}

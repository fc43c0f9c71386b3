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
needs its sink, 'select' its from); an empty line runs what has been typed.
  help          this text
  quit, exit    leave (Ctrl-D does too; Ctrl-C clears the input)
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
        let result = print_result(&mut self.session, statement, &self.zone, out);
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

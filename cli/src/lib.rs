//! `duet-cli`: Duet's command-line shell, IoTDB's `start-cli.sh` for Duet.
//! It speaks IoTDB's client RPC through `duet_rpc::client::Session`, so it
//! also works against an IoTDB server.
//!
//! A line of input travels like this:
//!
//! 1. [`args`] reads IoTDB-style flags (`-h a,b -p 6667 -u root -pw root
//!    -e "..."`) into a `SessionConfig`; `main.rs` picks the mode: `-e`,
//!    piped stdin, or the interactive line editor (rustyline), which hands
//!    each entered line to [`typing`]: it picks the prompt (`Duet> `, or
//!    ` ...> ` while a statement is open), says at once when a line that
//!    starts a statement lands inside an open `(` or quote (named by
//!    [`unclosed`]), and drops the open statement on Ctrl-C.
//! 2. [`statements`] cuts text into statements: at `;`, or at the end of a
//!    line when the statement looks complete (IoTDB users type `show pipes`
//!    without `;`), or at an empty line.
//! 3. [`shell`] runs each statement on the session, handles `help`/`quit`,
//!    and on a lost connection says which host the next statement tries.
//! 4. [`render`] turns rows into tables (ISO-8601 times in the session
//!    zone, `null` for NULL) and errors into `Msg: <code>: <message>`.
//!
//! Everything but the terminal handling in `main.rs` is here, so it is
//! tested without sockets (or, for [`shell`], against a fake server).

pub mod args;
pub mod render;
pub mod shell;
pub mod statements;
pub mod typing;
pub mod unclosed;

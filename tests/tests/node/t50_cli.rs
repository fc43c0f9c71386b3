//! duet-cli against a real node: one-shot, piped scripts, errors, failover.

use std::process::Command;

use duet_tests::{bin_dir, cli, Node};
use rexpect::reader::Options;
use rexpect::session::PtySession;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn t50_one_shot_and_exit_codes() {
    let node = Node::start();
    let ok = node.cli(&["-e", "INSERT INTO root.c.d(time, v) VALUES (1, 2.5)"], "");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let q = node.cli(&["-e", "select v from root.c.d"], "");
    assert!(q.status.success());
    let out = text(&q.stdout);
    assert!(
        out.contains("root.c.d.v") && out.contains("2.5") && out.contains("Total line number = 1"),
        "{out}"
    );
    let bad = node.cli(&["-e", "select from"], "");
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(err.contains("700") && err.contains('^'), "{err}");
    let auth = node.cli(&["-u", "root", "-pw", "wrong", "-e", "show version"], "");
    assert!(!auth.status.success());
    assert!(text(&auth.stderr).contains("801"), "{}", text(&auth.stderr));
}

#[test]
fn t51_piped_script_with_a_multi_line_statement() {
    let node = Node::start();
    let script = "create database root.p;\n\
                  insert into root.p.d(time, a, b)\n  values (1, 1, 'x'),\n         (2, 2, 'y');\n\
                  -- a comment line\n\
                  select a, b\n  from root.p.d\n  where time > 1;\n\
                  show databases\n";
    let out = node.cli(&[], script);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("y") && !stdout.contains("│ x"), "{stdout}");
    assert!(stdout.contains("root.p"), "{stdout}");
    // A failing statement in a script: the rest still runs, exit code 1.
    let out = node.cli(&[], "select nope from;\nshow version;\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("Version"));
}

#[test]
fn t52_fails_over_to_the_next_host() {
    let node = Node::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let out = cli(
        &[("127.0.0.1", dead_port), ("127.0.0.1", node.rpc.port())],
        &["-e", "show version"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Version"));
}

/// The deployment guide's `create pipe AB` as a user pasted it: one line,
/// the sink clause's `)` missing.
const GUIDE_AB_ONE_LINE: &str = "create pipe AB with source ('source.mode.double-living' ='true') \
    with sink ('sink'='iotdb-thrift-sink', 'sink.ip'='iotdb-2', 'sink.port'='6667'";

/// Reads the terminal until `text` appears (each wait has its own
/// deadline); a timeout shows what the terminal did print.
fn expect(term: &mut PtySession, text: &str, what: &str) -> String {
    match term.exp_string(text) {
        Ok(before) => before,
        Err(e) => panic!("waiting for {what} ({text:?}): {e}"),
    }
}

/// Typed at a real terminal (a pty): the pasted statement stays open and
/// the shell says so with the continuation prompt; a statement typed
/// inside it is not swallowed silently but named with the open `(`;
/// Ctrl-C discards it and the shell goes on.
#[test]
fn t53_an_open_statement_at_the_terminal() {
    let node = Node::start();
    let mut command = Command::new(bin_dir().join("duet-cli"));
    command
        .args(["-h", &format!("127.0.0.1:{}", node.rpc.port())])
        .args(["--history-file", ""])
        // rustyline runs its raw-mode editor only on a terminal it knows.
        .env("TERM", "xterm");
    let options = Options::new()
        .timeout_ms(Some(20_000))
        .strip_ansi_escape_codes(true);
    let mut term = rexpect::spawn_with_options(command, options).expect("duet-cli in a pty");
    expect(&mut term, "Duet> ", "the prompt");

    // Pasted (bracketed, as a terminal pastes), then Enter.
    term.send(&format!("\x1b[200~{GUIDE_AB_ONE_LINE}\x1b[201~\r"))
        .expect("paste");
    term.flush().expect("flush");
    expect(&mut term, " ...> ", "the continuation prompt");

    term.send("show pipes\r").expect("type");
    term.flush().expect("flush");
    let column = GUIDE_AB_ONE_LINE.find("sink (").map(|i| i + 6);
    assert_eq!(column, Some(76));
    expect(
        &mut term,
        "'(' at line 1, column 76 is not closed",
        "the notice naming the open paren",
    );
    expect(&mut term, "Ctrl-C to discard it", "how to get out");
    expect(&mut term, " ...> ", "the continuation prompt again");

    term.send_control('c').expect("Ctrl-C");
    expect(
        &mut term,
        "Discarded the open statement (2 lines).",
        "the discard",
    );
    expect(&mut term, "Duet> ", "the main prompt after Ctrl-C");

    term.send("show pipes;\r").expect("type");
    term.flush().expect("flush");
    let shown = expect(&mut term, "Empty set.", "SHOW PIPES' result (no pipe AB)");
    assert!(!shown.contains("Msg:"), "{shown}");
    expect(&mut term, "It costs", "the timing line");
    expect(&mut term, "Duet> ", "the prompt");

    term.send("quit\r").expect("type");
    term.flush().expect("flush");
    term.exp_eof().expect("duet-cli leaves on quit");
}

/// `--read-mode dual` sets the session's read mode (a node without pipes
/// has no peer to merge: the result is its own), and a mode that is not
/// one is refused before connecting.
#[test]
fn t58_read_mode_flag() {
    let node = Node::start();
    node.sql("INSERT INTO root.rm.d(time, v) VALUES (1, 2.5)");
    let out = node.cli(
        &["--read-mode", "dual", "-e", "select v from root.rm.d"],
        "",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("2.5"), "{stdout}");
    let bad = node.cli(&["--read-mode", "triple", "-e", "show version"], "");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("triple"));
}

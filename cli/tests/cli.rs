//! The built `duet-cli` binary against an in-process fake server: `-e`,
//! piped statements (the deployment guide's multi-line `create pipe`),
//! errors and exit codes, failover between hosts.

use std::io::Write;
use std::process::{Command, Output, Stdio};

mod common;
use common::{dead_host, serve};

/// Runs the binary with `args` (plus a fixed zone, no history) and `stdin`.
fn cli(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_duet-cli"))
        .args(["--zone", "UTC", "--history-file", ""])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn t01_execute_prints_a_table_and_exits_zero() {
    let (host, statements) = serve();
    let out = cli(
        &["-h", &host, "-u", "root", "-pw", "root", "-e", "show pipes"],
        "",
    );
    let stdout = text_of(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text_of(&out.stderr));
    assert!(stdout.contains("│ ID │ State   │"), "{stdout}");
    assert!(stdout.contains("│ AB │ RUNNING │"), "{stdout}");
    assert!(
        stdout.contains("Total line number = 1\nIt costs "),
        "{stdout}"
    );
    assert_eq!(*statements.lock().unwrap(), ["show pipes"]);
}

#[test]
fn t02_query_pages_and_shows_iso_times_and_null() {
    let (host, _) = serve();
    let out = cli(
        &["-h", &host, "-e", "select temp from root.plant.line1"],
        "",
    );
    let stdout = text_of(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text_of(&out.stderr));
    assert!(
        stdout.contains("│ Time                     │ root.plant.line1.temp │"),
        "{stdout}"
    );
    for (time, value) in [
        ("2024-01-01T00:00:00.000Z", "20.0"),
        ("2024-01-01T00:00:01.000Z", "null"),
        ("2024-01-01T00:00:02.500Z", "21.5"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(time))
            .unwrap_or_default();
        assert!(
            line.ends_with(&format!(" {value} │")),
            "{time} {value} in\n{stdout}"
        );
    }
    assert!(stdout.contains("Total line number = 3\n"), "{stdout}");
}

#[test]
fn t03_an_error_goes_to_stderr_verbatim_and_exits_one() {
    let (host, _) = serve();
    let out = cli(&["-h", &host, "-e", "bad thing"], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text_of(&out.stderr),
        "Msg: 700: line 1:0 mismatched input 'bad' expecting a statement\nbad thing\n^\n"
    );
    assert!(!text_of(&out.stdout).contains("Msg: 700"));
}

#[test]
fn t04_a_wrong_password_is_reported_and_exits_one() {
    let (host, _) = serve();
    let out = cli(&["-h", &host, "-pw", "nope", "-e", "show pipes"], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text_of(&out.stderr), "Msg: 801: Authentication failed.\n");
}

#[test]
fn t05_piped_statements_run_like_the_deployment_guide() {
    let (host, statements) = serve();
    let create = "create pipe BA\nwith source (\n'source.mode.double-living' ='true'\n)\nwith sink (\n  'sink'='iotdb-thrift-sink',\n  'sink.ip'='iotdb-1',\n  'sink.port'='6667'\n)";
    let input = format!("{create}\nshow pipes\n\nstop pipe BA;\n-- done\n");
    let out = cli(&["-h", &host], &input);
    let stdout = text_of(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text_of(&out.stderr));
    assert_eq!(
        *statements.lock().unwrap(),
        [create, "show pipes", "stop pipe BA"]
    );
    assert_eq!(
        stdout
            .matches("Msg: The statement is executed successfully.")
            .count(),
        2
    );
    assert!(!stdout.contains("Duet>"), "no prompt when piped: {stdout}");
}

#[test]
fn t06_a_failed_piped_statement_does_not_stop_the_rest_but_fails_the_run() {
    let (host, statements) = serve();
    let out = cli(&["-h", &host], "bad one\nflush\nexit\nflush\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text_of(&out.stderr).starts_with("Msg: 700: "));
    assert_eq!(
        *statements.lock().unwrap(),
        ["bad one", "flush"],
        "stops at exit"
    );
}

#[test]
fn t07_open_fails_over_from_a_dead_host() {
    let (host, statements) = serve();
    let hosts = format!("{},{host}", dead_host());
    let out = cli(&["-h", &hosts, "-e", "flush"], "");
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_eq!(*statements.lock().unwrap(), ["flush"]);

    let hosts = format!("{},{}", dead_host(), dead_host());
    let out = cli(&["-h", &hosts, "-e", "flush"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text_of(&out.stderr).starts_with("Msg: no server reachable: "));
}

#[test]
fn t08_a_lost_connection_moves_the_next_statement_to_the_next_host() {
    let (first, first_statements) = serve();
    let (second, second_statements) = serve();
    let hosts = format!("{first},{second}");
    let out = cli(&["-h", &hosts], "flush\ndrop connection\nshow pipes\n");
    let stderr = text_of(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("Msg: connection to {first} failed: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "The next statement reconnects, trying {second} first.\nReconnected to {second}.\n"
        )),
        "{stderr}"
    );
    assert_eq!(*first_statements.lock().unwrap(), ["flush"]);
    assert_eq!(*second_statements.lock().unwrap(), ["show pipes"]);
    assert!(text_of(&out.stdout).contains("│ AB │ RUNNING │"));
}

#[test]
fn t09_flags_help_and_errors() {
    let out = cli(&["--help"], "");
    assert!(out.status.success());
    let help = text_of(&out.stdout);
    assert!(
        help.contains("-h, --host <HOST>") && help.contains("--password"),
        "{help}"
    );
    let out = cli(&["-h"], "");
    assert_eq!(out.status.code(), Some(2));
    let out = cli(&["-h", "a,,b"], "");
    assert_eq!(out.status.code(), Some(2));
}

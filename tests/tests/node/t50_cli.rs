//! duet-cli against a real node: one-shot, piped scripts, errors, failover.

use duet_tests::{cli, Node};

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

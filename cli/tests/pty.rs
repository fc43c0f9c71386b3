//! The interactive shell in a real terminal: tmux runs `duet-cli`, the test
//! types into it (send-keys) and reads the screen (capture-pane). Skipped,
//! with a note, where tmux is not installed.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

/// One private tmux server (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "cli"]).stdout).into_owned()
    }

    /// Types `text` and presses Enter.
    fn line(&self, text: &str) {
        self.run(&["send-keys", "-t", "cli", "-l", text]);
        self.run(&["send-keys", "-t", "cli", "Enter"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Waits for `probe` to hold; on timeout, fails showing the last value.
fn wait_until(what: &str, mut probe: impl FnMut() -> (bool, String)) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (ok, seen) = probe();
        if ok {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last seen:\n{seen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn t01_interactive_multi_line_statement_history_and_quit() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux not installed: skipping the terminal test");
        return;
    }
    let (host, statements) = common::serve();
    let dir = std::env::temp_dir().join(format!("duet-cli-pty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history: PathBuf = dir.join("history");
    let tmux = Tmux {
        socket: format!("duet-cli-test-{}", std::process::id()),
    };
    let command = format!(
        "{} -h {host} --zone UTC --history-file {}",
        env!("CARGO_BIN_EXE_duet-cli"),
        history.display()
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "cli",
        "-x",
        "160",
        "-y",
        "60",
        &command,
    ]);
    assert!(started.status.success(), "{started:?}");
    wait_until("the prompt", || {
        let screen = tmux.screen();
        (screen.contains("Duet>"), screen)
    });

    // The deployment guide's statement, typed line by line without ';'.
    let create = [
        "create pipe BA",
        "with source (",
        "'source.mode.double-living' ='true'",
        ")",
        "with sink (",
        "  'sink'='iotdb-thrift-sink',",
        "  'sink.ip'='iotdb-1',",
        "  'sink.port'='6667'",
        ")",
    ];
    for line in create {
        tmux.line(line);
    }
    wait_until("create pipe to run", || {
        let screen = tmux.screen();
        (
            screen.contains("Msg: The statement is executed successfully."),
            screen,
        )
    });
    tmux.line("show pipes");
    wait_until("show pipes to print", || {
        let screen = tmux.screen();
        (screen.contains("Total line number = 1"), screen)
    });
    let screen = tmux.screen();
    assert!(
        screen.contains("Msg: The statement is executed successfully."),
        "{screen}"
    );
    assert!(screen.contains("│ AB │ RUNNING │"), "{screen}");
    assert_eq!(
        *statements.lock().unwrap(),
        [create.join("\n").as_str(), "show pipes"]
    );

    tmux.line("quit");
    wait_until("the history file", || {
        let saved = std::fs::read_to_string(&history).unwrap_or_default();
        (
            saved.contains("show pipes") && saved.contains("quit"),
            saved,
        )
    });
    let saved = std::fs::read_to_string(&history).unwrap_or_default();
    assert!(saved.contains("create pipe BA\\nwith source ("), "{saved}");
    let _ = std::fs::remove_dir_all(&dir);
}

//! The sbin scripts as a user runs them: start, connect, stop.

use duet_tests::wait_until;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn t70_start_cli_stop() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let name = format!("t70-{}", std::process::id());
    let conf = dir.path().join(format!("{name}.toml"));
    std::fs::write(
        &conf,
        format!(
            "[node]\ndata_dir = \"{}\"\n[rpc]\naddress = \"127.0.0.1\"\nport = 0\n[http]\naddress = \"127.0.0.1\"\nport = 0\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    // Use the binaries this test run built.
    let bin = duet_tests::bin_dir();
    let env = [("DUET_BIN_DIR_OVERRIDE", bin.to_str().unwrap())];
    let start = Command::new("bash")
        .arg(root.join("sbin/start-standalone.sh"))
        .arg("-c")
        .arg(&conf)
        .envs(env)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&start.stdout).into_owned();
    assert!(
        start.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&start.stderr)
    );
    let port = out
        .split("-p ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("connect line with -p")
        .to_string();
    let cli = Command::new("bash")
        .arg(root.join("sbin/start-cli.sh"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-u",
            "root",
            "-pw",
            "root",
            "-e",
            "show version",
        ])
        .envs(env)
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let stop = Command::new("bash")
        .arg(root.join("sbin/stop-standalone.sh"))
        .arg("-c")
        .arg(&conf)
        .envs(env)
        .output()
        .unwrap();
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    assert!(String::from_utf8_lossy(&stop.stdout).contains("stopped"));
    wait_until(
        Duration::from_secs(10),
        "the port to close",
        || match std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())) {
            Ok(_) => Err("still accepting".into()),
            Err(_) => Ok(()),
        },
    );
    let _ = std::fs::remove_file(root.join("run").join(format!("{name}.pid")));
    let _ = std::fs::remove_file(root.join("logs").join(format!("{name}.log")));
}

/// A stale pid file whose pid now belongs to another process: the stop
/// script leaves that process alone (and says so), and start starts.
#[test]
fn t71_stop_never_signals_a_reused_pid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let name = format!("t71-{}", std::process::id());
    let conf = dir.path().join(format!("{name}.toml"));
    std::fs::write(&conf, "[rpc]\nport = 0\n").unwrap();
    let mut other = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::create_dir_all(root.join("run")).unwrap();
    let pid_file = root.join("run").join(format!("{name}.pid"));
    std::fs::write(&pid_file, other.id().to_string()).unwrap();
    let bin = duet_tests::bin_dir();
    let stop = Command::new("bash")
        .arg(root.join("sbin/stop-standalone.sh"))
        .arg("-c")
        .arg(&conf)
        .env("DUET_BIN_DIR_OVERRIDE", bin.to_str().unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&stop.stderr);
    assert!(stop.status.success(), "{err}");
    assert!(err.contains("reused"), "{err}");
    assert!(
        other.try_wait().unwrap().is_none(),
        "the other process was signalled"
    );
    assert!(!pid_file.exists(), "the stale pid file is gone");
    let _ = other.kill();
    let _ = other.wait();
}

/// The node tells systemd (conf/systemd/duet.service is `Type=notify`)
/// when it serves and when a stop begins.
#[test]
fn t72_systemd_hears_ready_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut node =
        duet_tests::Node::start_with_env(&[("NOTIFY_SOCKET", path.to_str().unwrap())], &[]);
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).expect("READY=1 within 30 s");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        msg.starts_with("READY=1\n") && msg.contains(&node.rpc.port().to_string()),
        "{msg}"
    );
    assert!(node.terminate().success());
    let n = sock.recv(&mut buf).expect("STOPPING=1");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.starts_with("STOPPING=1"), "{msg}");
    // The unit the README installs says what the node does.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let unit = std::fs::read_to_string(root.join("conf/systemd/duet.service")).unwrap();
    for line in [
        "Type=notify",
        "Restart=on-failure",
        "LimitNOFILE=",
        "StateDirectory=duet",
        "KillSignal=SIGTERM",
    ] {
        assert!(
            unit.lines().any(|l| l.starts_with(line)),
            "{line} in duet.service"
        );
    }
    // systemd's own check of the unit, with the binary this run built.
    let bin = duet_tests::bin_dir().join("duet-server");
    let copy = dir.path().join("duet.service");
    std::fs::write(
        &copy,
        unit.replace("/opt/duet/bin/duet-server", bin.to_str().unwrap()),
    )
    .unwrap();
    match Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
    {
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                out.status.success() && said.trim().is_empty(),
                "systemd-analyze verify: {said}"
            );
        }
        Err(e) => eprintln!(
            "t72: systemd-analyze not available ({e}); the unit was not verified by systemd"
        ),
    }
}

/// A long `BACKUP` shows its progress: `SHOW BACKUPS` has a running row
/// while it runs, and the CLI (not on a terminal, as under cron) prints
/// how far it is (the backup is held 6 s by a drill setting).
#[test]
fn t73_a_long_backup_shows_its_progress() {
    let node = duet_tests::Node::start_with_env(&[("DUET_BACKUP_PAUSE_MS", "6000")], &[]);
    node.sql("INSERT INTO root.bp.d(time, v) VALUES (1, 1)");
    let port = node.rpc.port().to_string();
    let cli = std::thread::spawn(move || {
        Command::new(duet_tests::bin_dir().join("duet-cli"))
            .args(["-h", "127.0.0.1", "-p", &port, "-e", "BACKUP"])
            .output()
            .unwrap()
    });
    let row = wait_until(
        Duration::from_secs(10),
        "a running backup in SHOW BACKUPS",
        || {
            let rows = node.rows("SHOW BACKUPS")?;
            rows.into_iter()
                .find(|r| r[5] == "running")
                .ok_or_else(|| "none yet".to_string())
        },
    );
    assert!(row[4].ends_with("incremental"), "{row:?}");
    let out = cli.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("backing up:") && err.contains("MiB copied"),
        "{err}"
    );
    let rows = node.rows("SHOW BACKUPS").unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][5], "done");
}

//! `sbin/deploy-pair.sh` on two hosts made of network namespaces: each
//! has its own network stack (a node on port 6667 in each) and a hosts
//! file mapping iotdb-1 and iotdb-2 (`/etc/netns/<ns>/hosts`, which `ip
//! netns exec` puts in place of /etc/hosts inside it; the machine's own
//! /etc/hosts is never touched). Everything is removed afterwards.

use crate::WAIT;
use duet_tests::wait_until;
use std::process::{Command, Output};

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd).args(args).output().expect(cmd)
}

fn ok(cmd: &str, args: &[&str]) {
    let out = run(cmd, args);
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; removed (with what runs in them)
/// when dropped.
struct Hosts {
    ns: [String; 2],
}

impl Hosts {
    fn make() -> Result<Hosts, String> {
        let id = std::process::id();
        let ns = [format!("duet-a-{id}"), format!("duet-b-{id}")];
        let net = format!("10.{}.{}", 100 + (id / 250) % 100, id % 250);
        let first = run("ip", &["netns", "add", &ns[0]]);
        if !first.status.success() {
            return Err(String::from_utf8_lossy(&first.stderr).into_owned());
        }
        let hosts = Hosts { ns: ns.clone() };
        ok("ip", &["netns", "add", &ns[1]]);
        let (va, vb) = (format!("dva{id}"), format!("dvb{id}"));
        ok(
            "ip",
            &["link", "add", &va, "type", "veth", "peer", "name", &vb],
        );
        for (i, v) in [&va, &vb].into_iter().enumerate() {
            let n = &ns[i];
            ok("ip", &["link", "set", v, "netns", n]);
            ok(
                "ip",
                &[
                    "-n",
                    n,
                    "addr",
                    "add",
                    &format!("{net}.{}/24", i + 1),
                    "dev",
                    v,
                ],
            );
            ok("ip", &["-n", n, "link", "set", v, "up"]);
            ok("ip", &["-n", n, "link", "set", "lo", "up"]);
            let dir = format!("/etc/netns/{n}");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                format!("{dir}/hosts"),
                format!("127.0.0.1 localhost\n{net}.1 iotdb-1\n{net}.2 iotdb-2\n"),
            )
            .unwrap();
        }
        Ok(hosts)
    }

    fn exec(&self, i: usize) -> String {
        format!("ip netns exec {}", self.ns[i])
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for n in &self.ns {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", n]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", n]).status();
            let _ = std::fs::remove_dir_all(format!("/etc/netns/{n}"));
        }
    }
}

#[test]
fn t160_deploy_pair_on_two_hosts_is_repeatable() {
    let hosts = match Hosts::make() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("t160: SKIPPED: cannot create network namespaces here ({e})");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("pair.env");
    std::fs::write(
        &env,
        format!(
            "HOST_A=iotdb-1\nHOST_B=iotdb-2\nRPC_PORT=6667\nHTTP_PORT=9091\nINSTALL_DIR={}\n\
             PIPE_USER=root\nPIPE_PASSWORD=root\nTRANSPORT=local\nEXEC_A=\"{}\"\nEXEC_B=\"{}\"\n",
            dir.path().join("opt").display(),
            hosts.exec(0),
            hosts.exec(1)
        ),
    )
    .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let deploy = || {
        let out = Command::new("bash")
            .arg(root.join("sbin/deploy-pair.sh"))
            .arg(&env)
            .env("DUET_BIN_DIR_OVERRIDE", duet_tests::bin_dir())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        said
    };
    let first = deploy();
    for needle in [
        "pipe AB: created (to iotdb-2:6667)",
        "pipe BA: created (to iotdb-1:6667)",
        "== iotdb-2: show pipes",
    ] {
        assert!(first.contains(needle), "{needle:?} in:\n{first}");
    }
    let cli = |i: usize, sql: &str| -> String {
        let bin = duet_tests::bin_dir().join("duet-cli");
        let out = Command::new("ip")
            .args(["netns", "exec", &hosts.ns[i]])
            .arg(bin)
            .args(["-h", "127.0.0.1", "-p", "6667", "-e", sql])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // A write on iotdb-1 reaches iotdb-2 over the namespaces' link, and
    // back the other way.
    cli(0, "insert into root.dp.d(time, v) values (1, 1.5)");
    cli(1, "insert into root.dp.d(time, w) values (2, 2.5)");
    for (i, m) in [(1, "v"), (0, "w")] {
        wait_until(WAIT, "the write on the other host", || {
            let out = cli(i, &format!("select count({m}) from root.dp.d"));
            if out.contains("│                   1 │")
                || out
                    .lines()
                    .any(|l| l.trim_matches(|c| c == '│' || c == ' ') == "1")
            {
                Ok(())
            } else {
                Err(out)
            }
        });
    }
    // Again: nothing to change.
    let again = deploy();
    for needle in [
        "iotdb-1: already running",
        "iotdb-2: already running",
        "pipe AB: already there",
        "pipe BA: already there",
    ] {
        assert!(again.contains(needle), "{needle:?} in:\n{again}");
    }
}

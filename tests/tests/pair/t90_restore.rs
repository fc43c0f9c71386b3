//! A node restored from `BACKUP TO`: its log goes back and reuses sequence
//! numbers the peer has already applied, and its marks for the peer go back
//! while the peer's pipe has moved on. Both sides must notice at the next
//! handshake and resend history, so nothing either node acknowledged is
//! lost and both end with the same points (checked against what the
//! clients wrote, not only node against node).

use crate::{insert, pair, points, wait_count};
use duet_tests::{wait_until, Node};

/// The points `insert(start, rows, mul)` writes: the reference model.
fn expected(start: i64, rows: i64, mul: f64) -> Vec<(i64, f64)> {
    (start..start + rows).map(|t| (t, t as f64 * mul)).collect()
}

/// A series' points on a node, parsed.
fn parsed(node: &Node, series: &str) -> Vec<(i64, f64)> {
    points(node, series, "v")
        .iter()
        .filter_map(|r| Some((r.first()?.parse().ok()?, r.get(1)?.parse().ok()?)))
        .collect()
}

fn restore(node: &mut Node, backup: &std::path::Path) {
    node.kill9();
    std::fs::remove_dir_all(node.data_dir()).unwrap();
    std::fs::rename(backup, node.data_dir()).unwrap();
    node.restart();
}

fn scenario(restore_a: bool) {
    let (mut a, mut b) = pair();
    let (r, other) = if restore_a {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    let backup = r.backup_root().join("bk");

    // Before the backup: writes on both nodes, replicated.
    insert(r, "root.rs.before", "v", 0, 100, 1.0);
    insert(other, "root.rs.peer", "v", 0, 20, 1.0);
    wait_count(other, "root.rs.before", "v", 100);
    wait_count(r, "root.rs.peer", "v", 20);
    r.sql(&format!("BACKUP TO '{}'", backup.display()));

    // After the backup: more on both, acknowledged and replicated, so the
    // peer's mark for the restored node's stream passes the backup, and
    // the restored node's mark for the peer's stream does too.
    for i in 0..10 {
        insert(r, "root.rs.after", "v", i * 10, 10, 1.0);
    }
    insert(other, "root.rs.peer", "v", 20, 30, 1.0);
    wait_count(other, "root.rs.after", "v", 100);
    wait_count(r, "root.rs.peer", "v", 50);

    restore(r, &backup);
    // The restored node lost root.rs.after and part of root.rs.peer; its
    // next writes reuse the log numbers of the lost ones.
    for i in 0..10 {
        insert(r, "root.rs.new", "v", i * 10, 10, 2.0);
    }

    for (node, name) in [(&*r, "restored"), (&*other, "peer")] {
        for (series, exp) in [
            ("root.rs.before", expected(0, 100, 1.0)),
            ("root.rs.after", expected(0, 100, 1.0)),
            ("root.rs.peer", expected(0, 50, 1.0)),
            ("root.rs.new", expected(0, 100, 2.0)),
        ] {
            wait_until(
                crate::WAIT,
                &format!("{series} complete on the {name} node"),
                || {
                    let got = parsed(node, series);
                    if got == exp {
                        Ok(())
                    } else {
                        Err(format!("{} of {} points", got.len(), exp.len()))
                    }
                },
            );
        }
    }
    crate::connected(&a);
    crate::connected(&b);
}

#[test]
fn t90_b_restored_from_a_backup_loses_nothing() {
    scenario(false);
}

#[test]
fn t91_a_restored_from_a_backup_loses_nothing() {
    scenario(true);
}

/// C's change that reached B but not A before C was restored from an
/// older backup exists only on B (C lost it; no pipe forwards another
/// node's changes). B, seeing C start a new epoch because its log went
/// back, resends history to every peer: A and C get it. (The same holds in
/// a pair: the restored node gets back its own change from its peer even
/// when the peer wrote nothing since the backup.)
#[test]
fn t92_in_a_mesh_of_three_a_restored_nodes_changes_reach_every_node() {
    use duet_tests::pipe_sql;
    use duet_tests::proxy::{Fault, Proxy};
    let a = Node::start();
    let b = Node::start();
    let mut c = Node::start();
    let c_to_a = Proxy::start(a.rpc);
    a.sql(&pipe_sql("AB", b.rpc.port()));
    a.sql(&pipe_sql("AC", c.rpc.port()));
    b.sql(&pipe_sql("BA", a.rpc.port()));
    b.sql(&pipe_sql("BC", c.rpc.port()));
    c.sql(&pipe_sql("CA", c_to_a.port()));
    c.sql(&pipe_sql("CB", b.rpc.port()));
    for n in [&a, &b, &c] {
        crate::connected(n);
    }
    insert(&c, "root.mesh.before", "v", 0, 10, 1.0);
    wait_count(&a, "root.mesh.before", "v", 10);
    wait_count(&b, "root.mesh.before", "v", 10);
    let backup = c.backup_root().join("bk");
    c.sql(&format!("BACKUP TO '{}'", backup.display()));

    // C -> A is cut: C's next change reaches B only.
    c_to_a.set(Fault::Cut);
    insert(&c, "root.mesh.w", "v", 0, 10, 3.0);
    wait_count(&b, "root.mesh.w", "v", 10);
    assert_eq!(
        crate::count(&a, "root.mesh.w", "v"),
        0,
        "A must not have it yet"
    );

    // C is restored from the backup: it lost the change; B still has it.
    restore(&mut c, &backup);
    c_to_a.set(Fault::Pass);
    for (node, name) in [(&a, "A"), (&b, "B"), (&c, "C")] {
        wait_until(
            crate::WAIT,
            &format!("root.mesh.w complete on {name}"),
            || {
                let got = parsed(node, "root.mesh.w");
                if got == expected(0, 10, 3.0) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} of 10 points; pipes {:?}",
                        got.len(),
                        node.pipes()
                    ))
                }
            },
        );
    }
    for n in [&a, &b, &c] {
        crate::connected(n);
    }
}

fn script(name: &str, args: &[&str]) -> std::process::Output {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::process::Command::new("bash")
        .arg(root.join("sbin").join(name))
        .args(args)
        .env(
            "DUET_BIN_DIR_OVERRIDE",
            duet_tests::bin_dir().to_str().unwrap(),
        )
        .output()
        .unwrap()
}

/// The operator's path: `sbin/backup.sh` (incremental) on B while the pair
/// runs, writes on both, B stopped and `sbin/restore.sh` into its data
/// directory, B started: it rejoins, nothing is lost or skipped in either
/// direction, and VERIFY REPLICA says identical.
#[test]
fn t93_sbin_backup_and_restore_rejoin_the_pair() {
    let (a, mut b) = crate::pair();
    insert(&a, "root.sb.a", "v", 0, 50, 1.0);
    insert(&b, "root.sb.b", "v", 0, 50, 1.0);
    wait_count(&b, "root.sb.a", "v", 50);
    wait_count(&a, "root.sb.b", "v", 50);
    let port = b.rpc.port().to_string();
    for n in 1..=2 {
        let out = script("backup.sh", &["-h", "127.0.0.1", "-p", &port]);
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success() && said.contains("BackupID"), "{said}");
        assert_eq!(b.rows("SHOW BACKUPS").unwrap().len(), n);
    }
    // After the backup: more on both, replicated.
    insert(&a, "root.sb.a", "v", 50, 50, 1.0);
    insert(&b, "root.sb.b", "v", 50, 50, 1.0);
    wait_count(&b, "root.sb.a", "v", 100);
    wait_count(&a, "root.sb.b", "v", 100);
    let backups = b.backup_root().join("incremental");
    let (backups, data) = (backups.to_str().unwrap(), b.data_dir());
    let data = data.to_str().unwrap();
    // Not while the node runs.
    let out = script("restore.sh", &[backups, data]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("running"));
    b.terminate();
    let out = script("restore.sh", &[backups, data]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && said.contains("restored backup 2") && said.contains("verified"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    b.restart();
    crate::connected(&a);
    crate::connected(&b);
    insert(&a, "root.sb.a", "v", 100, 50, 1.0);
    insert(&b, "root.sb.b", "v", 100, 50, 1.0);
    for n in [&a, &b] {
        wait_count(n, "root.sb.a", "v", 150);
        wait_count(n, "root.sb.b", "v", 150);
    }
    wait_until(crate::WAIT, "VERIFY REPLICA to say IDENTICAL", || {
        let rows = a.rows("VERIFY REPLICA root.sb.**")?;
        match rows.last() {
            Some(r) if r[3] == "IDENTICAL" => Ok(()),
            _ => Err(format!("{rows:?}")),
        }
    });
}

/// `sbin/backup.sh DIR` as cron runs it: a named repository under the
/// backup root, the password from DUET_PASSWORD (not on the command line),
/// a user holding only MAINTAIN; SHOW BACKUPS lists both repositories. A
/// damaged backup is refused by `sbin/restore.sh`, which then puts the
/// data that was there back: the node starts with every point it had.
#[test]
fn t94_a_named_repository_and_a_damaged_backup_that_changes_nothing() {
    let mut a = Node::start();
    insert(&a, "root.nr.d", "v", 0, 200, 1.0);
    a.sql("CREATE USER ops 'cron-pw-1'");
    a.sql("GRANT MAINTAIN ON root.** TO USER ops");
    let port = a.rpc.port().to_string();
    let backup = |dir: Option<&str>, password: &str| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut args = vec!["-h", "127.0.0.1", "-p", &port, "-u", "ops"];
        args.extend(dir);
        std::process::Command::new("bash")
            .arg(root.join("sbin/backup.sh"))
            .args(&args)
            .env("DUET_BIN_DIR_OVERRIDE", duet_tests::bin_dir())
            .env("DUET_PASSWORD", password)
            .output()
            .unwrap()
    };
    let out = backup(Some("nightly"), "wrong-pw");
    assert!(!out.status.success(), "a wrong DUET_PASSWORD is refused");
    let out = backup(Some("nightly"), "cron-pw-1");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && said.contains("nightly"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = backup(None, "cron-pw-1");
    assert!(out.status.success());
    let out = backup(Some("../outside"), "cron-pw-1");
    assert!(!out.status.success(), "a repository outside the root");
    let listed = a.rows("SHOW BACKUPS").unwrap();
    let dirs: Vec<&str> = listed.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(dirs.len(), 2, "{listed:?}");
    assert!(
        dirs[0].ends_with("incremental") && dirs[1].ends_with("nightly"),
        "{dirs:?}"
    );
    // Damage every data file of the named repository's backup.
    let repo = a.backup_root().join("nightly");
    let mut damaged = 0;
    for sub in ["shared_checksum", "shared", "private"] {
        for f in std::fs::read_dir(repo.join(sub))
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "sst") || p.is_file() {
                let len = std::fs::metadata(&p).unwrap().len();
                if len > 64 {
                    let mut bytes = std::fs::read(&p).unwrap();
                    let mid = bytes.len() / 2;
                    bytes[mid] ^= 0xff;
                    std::fs::write(&p, bytes).unwrap();
                    damaged += 1;
                }
            }
        }
    }
    assert!(
        damaged > 0,
        "no backup file found to damage in {}",
        repo.display()
    );
    a.terminate();
    let data = a.data_dir();
    let out = script(
        "restore.sh",
        &[repo.to_str().unwrap(), data.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "a damaged backup was restored: {err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    a.restart();
    assert_eq!(
        crate::count(&a, "root.nr.d", "v"),
        200,
        "the data that was there is back"
    );
}

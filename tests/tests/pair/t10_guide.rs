//! The deployment guide (seeds/004) typed into the CLI as written — with
//! the `)` the printed AB statement lacks — on two real nodes.

use crate::{count, wait_count, WAIT};
use duet_tests::{wait_until, Node};

fn guide_ab(port: u16) -> String {
    format!(
        "create pipe AB\nwith source (\n  'source.mode.double-living' ='true')\nwith sink (\n  'sink'='iotdb-thrift-sink',\n  'sink.ip'='127.0.0.1',\n  'sink.port'='{port}'\n)\n"
    )
}

fn guide_ba(port: u16) -> String {
    format!(
        "create pipe BA\nwith source (\n'source.mode.double-living' ='true'\n)\nwith sink (\n  'sink'='iotdb-thrift-sink',\n  'sink.ip'='localhost',\n  'sink.port'='{port}'\n)\n"
    )
}

#[test]
fn t10_the_guide_end_to_end() {
    let mut a = Node::start();
    let b = Node::start();
    let out = a.cli(&[], &guide_ab(b.rpc.port()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = b.cli(&[], &guide_ba(a.rpc.port()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for node in [&a, &b] {
        let out = node.cli(&[], "show pipes\n");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("RUNNING"), "{text}");
        let cluster =
            String::from_utf8_lossy(&node.cli(&[], "show  cluster\n").stdout).into_owned();
        assert!(
            cluster.contains("Running") && cluster.contains("local"),
            "{cluster}"
        );
    }
    // Step 4: SHOW CLUSTER lists the peer as Running once the pipe connected.
    wait_until(WAIT, "the peer Running in SHOW CLUSTER", || {
        let c = String::from_utf8_lossy(&a.cli(&["-e", "show cluster"], "").stdout).into_owned();
        if c.matches("Running").count() >= 2 {
            Ok(())
        } else {
            Err(c)
        }
    });

    // Writes on both sides reach both sides.
    a.cli(
        &[
            "-e",
            "insert into root.plant.line1(time, temp, status) values (1, 21.5, true)",
        ],
        "",
    );
    b.cli(
        &[
            "-e",
            "insert into root.plant.line2(time, temp) values (2, 19.0)",
        ],
        "",
    );
    for n in [&a, &b] {
        wait_count(n, "root.plant.line1", "temp", 1);
        wait_count(n, "root.plant.line2", "temp", 1);
    }

    // Step 5: stop pipe AB; writes on A stay on A.
    let out = a.cli(&["-e", "stop pipe AB"], "");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&a.cli(&["-e", "show pipes"], "").stdout).contains("STOPPED"));
    a.cli(
        &[
            "-e",
            "insert into root.plant.line1(time, temp) values (3, 22.0)",
        ],
        "",
    );
    assert_eq!(count(&a, "root.plant.line1", "temp"), 2);
    // START PIPE resumes from where it stopped.
    a.cli(&["-e", "start pipe AB"], "");
    wait_count(&b, "root.plant.line1", "temp", 2);
    let status = a.terminate();
    assert!(
        status.success(),
        "stop-standalone's SIGTERM ends the node cleanly"
    );
}

//! Two pipes from one node to the same peer, each carrying part of the
//! data: neither makes the peer skip the other's events.

use crate::{insert, wait_count};
use duet_tests::Node;

#[test]
fn t80_pipes_split_by_path_to_one_peer() {
    let a = Node::start();
    let b = Node::start();
    let port = b.rpc.port();
    for (name, path) in [("PX", "root.x.**"), ("PY", "root.y.**")] {
        a.sql(&format!(
            "CREATE PIPE {name} WITH SOURCE ('source.path'='{path}') \
             WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{port}')"
        ));
    }
    a.sql("STOP PIPE PY");
    insert(&a, "root.y.d", "v", 0, 50, 1.0); // earlier in A's log, held back
    insert(&a, "root.x.d", "v", 0, 50, 1.0); // later, delivered first
    wait_count(&b, "root.x.d", "v", 50);
    a.sql("START PIPE PY");
    wait_count(&b, "root.y.d", "v", 50);
}

#[test]
fn t81_lz4_batches_with_a_delay_and_a_rate_limit() {
    let a = Node::start();
    let b = Node::start();
    a.sql(&format!(
        "CREATE PIPE Z WITH SOURCE ('source.mode.double-living'='true') \
         WITH SINK ('sink'='iotdb-thrift-sink', 'sink.node-urls'='127.0.0.1:1,127.0.0.1:{}', \
         'sink.compressor'='lz4', 'sink.batch.max-delay-ms'='20', 'sink.rate-limit-bytes-per-second'='10000000')",
        b.rpc.port()
    ));
    insert(&a, "root.z.d", "v", 0, 3000, 1.0);
    wait_count(&b, "root.z.d", "v", 3000);
}

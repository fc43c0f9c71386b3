//! Down-sampling from edge to centre: A's one-way pipe to B carries a
//! 1 kHz series through `tumbling-time-sampling-processor`; B ends up with
//! exactly the points IoTDB's rule keeps (the pipe crate's pure function is
//! the reference model). A lossy processor on a double-living pipe is
//! refused at CREATE PIPE.

use crate::{connected, points, WAIT};
use duet_engine::Column;
use duet_pipe::processor::{down_sample, Sampler};
use duet_tests::{wait_until, Node};

/// A recorded series: 1 ms steps, a 1.5 s gap every 1 700 points and a
/// 0.6 s one every 2 300 (so kept points are not on whole seconds),
/// values i / 4 (exact in text).
fn recording(n: usize) -> (Vec<i64>, Vec<f64>) {
    let mut t = 1_700_000_000_000i64;
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        t += match i {
            i if i > 0 && i % 1700 == 0 => 1500,
            i if i > 0 && i % 2300 == 0 => 600,
            _ => 1,
        };
        times.push(t);
    }
    let values = (0..n).map(|i| i as f64 / 4.0).collect();
    (times, values)
}

#[test]
fn t180_tumbling_time_sampling_edge_to_centre() {
    let a = Node::start();
    let b = Node::start();
    a.sql(&format!(
        "CREATE PIPE EDGE WITH SOURCE ('source.path'='root.edge.**') \
         WITH PROCESSOR ('processor'='tumbling-time-sampling-processor', \
         'processor.tumbling-time.interval-seconds'='1') \
         WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{}')",
        b.rpc.port()
    ));
    connected(&a); // history sent: what follows travels through the log

    let (times, values) = recording(6000);
    let mut s = a.session();
    for (ts, vs) in times.chunks(1000).zip(values.chunks(1000)) {
        let tablet = duet_rpc::insert::Tablet {
            timestamps: ts.to_vec(),
            columns: vec![duet_rpc::column::Column::F64(
                vs.iter().copied().map(Some).collect(),
            )],
        };
        s.insert_tablet("root.edge.d1", &["v"], &tablet).unwrap();
    }

    // The reference: the rule over the whole recording at once.
    let sampler = Sampler::TumblingTime { interval: 1000 };
    let keep = down_sample(&sampler, &mut None, &times, &Column::F64(values.clone()));
    let want: Vec<(i64, f64)> = keep.iter().map(|&i| (times[i], values[i])).collect();
    // Its shape, checked without it: kept points at least 1 s apart, and
    // every dropped point less than 1 s after the last kept one.
    let mut last = None;
    for &t in &times {
        let kept = want.iter().any(|w| w.0 == t);
        match last {
            Some(l) if kept => assert!(t - l >= 1000, "{t} kept {} ms after {l}", t - l),
            Some(l) => assert!(t - l < 1000, "{t} dropped {} ms after {l}", t - l),
            None => assert!(kept, "the first point is kept"),
        }
        if kept {
            last = Some(t);
        }
    }
    assert!(want.len() > 5 && want.len() < 30, "{} kept", want.len());

    let on_b = || -> Vec<(i64, f64)> {
        points(&b, "root.edge.d1", "v")
            .iter()
            .filter_map(|r| Some((r[0].parse().ok()?, r[1].parse().ok()?)))
            .collect()
    };
    wait_until(WAIT, "B holds the down-sampled series", || {
        let got = on_b();
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "{} points, want {}: {:?}",
                got.len(),
                want.len(),
                got
            ))
        }
    });
    // Once A has nothing left to send, B still holds exactly that.
    connected(&a);
    assert_eq!(on_b(), want);
    assert_eq!(
        points(&a, "root.edge.d1", "v").len(),
        times.len(),
        "A keeps every point"
    );
}

#[test]
fn t181_a_lossy_processor_on_a_double_living_pipe_is_refused() {
    let a = Node::start();
    let mut s = a.session();
    for processor in [
        "tumbling-time-sampling-processor",
        "sdt-sampling-processor",
        "changing-value-sampling-processor",
    ] {
        let sql = format!(
            "CREATE PIPE DL WITH SOURCE ('source.mode.double-living'='true') \
             WITH PROCESSOR ('processor'='{processor}') \
             WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='6667')"
        );
        let e = s.execute(&sql).err().expect("refused").to_string();
        assert!(
            e.contains(processor) && e.contains("drops points") && e.contains("double-living"),
            "{e}"
        );
    }
    assert!(a.pipes().is_empty(), "nothing created");
}

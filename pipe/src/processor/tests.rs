use super::*;
use crate::config::tests::params;
use crate::config::{check_processor, SourceConfig};
use duet_engine::chunk::{Chunk, Tombstone};
use duet_engine::event::{SeriesDelete, SeriesWrite};
use duet_engine::{Column, DataType, Version};

fn cfg(kv: &[(&str, &str)]) -> ProcessorConfig {
    ProcessorConfig::from_params(&params(kv)).unwrap()
}

fn tumbling_1s() -> Processor {
    Processor::new(cfg(&[
        ("processor", "tumbling-time-sampling-processor"),
        ("processor.tumbling-time.interval-seconds", "1"),
    ]))
}

fn insert(path: &str, times: &[i64]) -> ChangeEvent {
    let values = Column::I64(times.to_vec());
    ChangeEvent {
        origin: 1,
        origin_seq: 1,
        version: Version::new(1, 1),
        body: EventBody::Insert(vec![SeriesWrite {
            path: path.into(),
            chunk: Chunk::from_write(times, &values, Version::new(1, 1)),
        }]),
    }
}

fn times(e: &Option<ChangeEvent>) -> Vec<Vec<i64>> {
    match e.as_ref().map(|e| &e.body) {
        Some(EventBody::Insert(w)) => w.iter().map(|w| w.chunk.times.clone()).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn parameters_have_iotdbs_names_defaults_and_units() {
    let d = cfg(&[]);
    assert_eq!(d.sampler, Sampler::Forward);
    assert!(!d.is_lossy() && !d.split_file);
    assert_eq!(d.memory_limit_bytes, 16 << 20);
    // Tumbling: seconds (default 60), carried in milliseconds.
    let t = cfg(&[("processor", "tumbling-time-sampling-processor")]);
    assert_eq!(t.sampler, Sampler::TumblingTime { interval: 60_000 });
    assert_eq!(
        tumbling_1s().cfg.sampler,
        Sampler::TumblingTime { interval: 1000 }
    );
    // SDT and changing-value intervals are in timestamp units (ms), as given.
    let s = cfg(&[
        ("processor", "sdt-sampling-processor"),
        ("processor.sdt.compression-deviation", "0.5"),
        ("processor.sdt.min-time-interval", "10"),
        ("processor.sdt.max-time-interval", "20000"),
        ("processor.down-sampling.split-file", "true"),
    ]);
    assert_eq!(
        s.sampler,
        Sampler::Sdt(Bounds {
            deviation: 0.5,
            min_interval: 10,
            max_interval: 20_000
        })
    );
    assert!(s.split_file);
    let c = cfg(&[("processor", "changing-value-sampling-processor")]);
    assert_eq!(c.sampler, Sampler::ChangingValue(Bounds::default()));
    assert_eq!(Bounds::default().max_interval, i64::MAX);
    for bad in [
        &[
            ("processor", "tumbling-time-sampling-processor"),
            ("processor.tumbling-time.interval-seconds", "0"),
        ][..],
        &[
            ("processor", "sdt-sampling-processor"),
            ("processor.sdt.compression-deviation", "-1"),
        ],
        &[
            ("processor", "sdt-sampling-processor"),
            ("processor.sdt.compression-deviation", "NaN"),
        ],
        &[
            ("processor", "changing-value-sampling-processor"),
            ("processor.changing-value.min-time-interval", "5"),
            ("processor.changing-value.max-time-interval", "4"),
        ],
        &[("processor.down-sampling.memory-limit-in-bytes", "0")],
        &[("processor", "nope-processor")],
    ] {
        assert!(
            ProcessorConfig::from_params(&params(bad)).is_err(),
            "{bad:?} accepted"
        );
    }
}

#[test]
fn a_lossy_processor_is_refused_on_a_double_living_pipe() {
    let dl = SourceConfig::from_params(&params(&[("source.mode.double-living", "true")])).unwrap();
    let one_way = SourceConfig::from_params(&params(&[])).unwrap();
    for name in crate::config::LOSSY_PROCESSORS {
        let p = params(&[("processor", name)]);
        let e = check_processor(&dl, &p).unwrap_err().to_string();
        assert!(
            e.contains(name) && e.contains("double-living") && e.contains("drops points"),
            "{e}"
        );
        assert!(check_processor(&one_way, &p).is_ok());
    }
    assert!(check_processor(&dl, &params(&[("processor", "do-nothing-processor")])).is_ok());
}

#[test]
fn state_moves_only_when_the_batch_is_acknowledged() {
    let p = tumbling_1s();
    let mut pending = Pending::default();
    assert_eq!(
        times(&p.apply(&mut pending, insert("root.a.d.s", &[0, 500]))),
        [vec![0]]
    );
    // Within a batch the state carries from event to event.
    assert!(p
        .apply(&mut pending, insert("root.a.d.s", &[900]))
        .is_none());
    // The send failed: the batch is sampled again from the same state.
    drop(pending);
    let mut again = Pending::default();
    assert_eq!(
        times(&p.apply(&mut again, insert("root.a.d.s", &[0, 500]))),
        [vec![0]]
    );
    p.commit(again);
    // Acknowledged: the next batch goes on from the kept point at 0.
    let mut next = Pending::default();
    assert_eq!(
        times(&p.apply(&mut next, insert("root.a.d.s", &[999, 1000]))),
        [vec![1000]]
    );
    // Series are independent.
    assert_eq!(
        times(&p.apply(&mut next, insert("root.a.d.t", &[999]))),
        [vec![999]]
    );
    p.reset();
    let mut fresh = Pending::default();
    assert_eq!(
        times(&p.apply(&mut fresh, insert("root.a.d.s", &[1]))),
        [vec![1]]
    );
}

#[test]
fn deletes_and_tombstones_pass_unchanged() {
    let p = tumbling_1s();
    let del = ChangeEvent {
        body: EventBody::Delete(vec![SeriesDelete {
            path: "root.a.d.s".into(),
            data_type: DataType::Int64,
            start: 0,
            end: 10,
        }]),
        ..insert("root.a.d.s", &[0])
    };
    let mut pending = Pending::default();
    assert_eq!(p.apply(&mut pending, del.clone()), Some(del));
    assert!(pending.0.is_empty(), "a delete changes no state");
    // A chunk whose points are all dropped still carries its tombstone.
    let mut e = insert("root.a.d.s", &[0, 10, 20]);
    let tomb = Tombstone {
        start: 0,
        end: 5,
        version: Version::new(1, 1),
    };
    if let EventBody::Insert(w) = &mut e.body {
        w[0].chunk.tombstones.push(tomb);
    }
    let out = p.apply(&mut pending, e.clone()).unwrap();
    let EventBody::Insert(w) = &out.body else {
        panic!("{out:?}")
    };
    assert_eq!(
        (w[0].chunk.times.clone(), w[0].chunk.tombstones.clone()),
        (vec![0], vec![tomb])
    );
    let out = p.apply(&mut pending, e).unwrap();
    let EventBody::Insert(w) = &out.body else {
        panic!("{out:?}")
    };
    assert!(w[0].chunk.is_empty() && w[0].chunk.tombstones == vec![tomb]);
}

#[test]
fn past_the_memory_limit_every_series_starts_afresh() {
    let p = Processor::new(cfg(&[
        ("processor", "tumbling-time-sampling-processor"),
        ("processor.down-sampling.memory-limit-in-bytes", "40"),
    ]));
    let mut pending = Pending::default();
    p.apply(&mut pending, insert("root.a.d.s1", &[0]));
    p.commit(pending); // 11 + 8 bytes
    let mut pending = Pending::default();
    assert!(
        p.apply(&mut pending, insert("root.a.d.s1", &[1])).is_none(),
        "remembered"
    );
    p.apply(&mut pending, insert("root.a.d.s2", &[0]));
    p.commit(pending); // 38 bytes
    let mut pending = Pending::default();
    p.apply(&mut pending, insert("root.a.d.s3", &[0]));
    p.commit(pending); // 57 > 40: forgotten
    let mut pending = Pending::default();
    assert_eq!(
        times(&p.apply(&mut pending, insert("root.a.d.s1", &[2]))),
        [vec![2]]
    );
}

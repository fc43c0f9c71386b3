//! Hot-path benchmarks with raw RocksDB baselines in the same run:
//! - chunk: encode, decode, merge (appends and overlapping versions);
//! - ingest: engine writes of 1, 100 and 10 000-point tablets, against one
//!   RocksDB key per point and one plain put per 1 000-point chunk;
//! - scan: a range scan through the engine against a raw iteration (with
//!   decoding) over the same compacted chunks.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use duet_bench::{tablet, temp_engine, STEP_MS};
use duet_engine::chunk::{decode_points, merge_all, Chunk};
use duet_engine::{Column, EngineOptions, Version, MAX_TIME, MIN_TIME};
use rocksdb::{Options, WriteBatch, DB};
use std::hint::black_box;
use std::time::Duration;

fn chunk_of(n: usize, t0: i64, hlc: u64) -> Chunk {
    let t = tablet("root.b.d.s", t0, n);
    Chunk::from_write(&t.times, &t.values, Version::new(hlc, 1))
}

fn chunk(c: &mut Criterion) {
    let mut g = c.benchmark_group("chunk");
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1000));
    let one = chunk_of(1000, 0, 1);
    let bytes = one.encode();
    g.bench_function("encode_1000", |b| b.iter(|| black_box(one.encode())));
    g.bench_function("decode_1000", |b| {
        b.iter(|| black_box(Chunk::decode(&bytes).unwrap()))
    });
    g.bench_function("decode_points_1000", |b| {
        b.iter(|| black_box(decode_points(&bytes).unwrap()))
    });
    let appends: Vec<Chunk> = (0..10)
        .map(|i| chunk_of(100, i * 100 * STEP_MS, 1))
        .collect();
    g.bench_function("merge_10x100_appends", |b| {
        b.iter(|| black_box(merge_all(&appends).unwrap()))
    });
    let overlapping: Vec<Chunk> = (0..10)
        .map(|i| chunk_of(100, i * 50 * STEP_MS, i as u64))
        .collect();
    g.bench_function("merge_10x100_overlapping", |b| {
        b.iter(|| black_box(merge_all(&overlapping).unwrap()))
    });
    g.finish();
}

fn raw_db(dir: &std::path::Path) -> DB {
    let mut o = Options::default();
    o.create_if_missing(true);
    o.increase_parallelism(2);
    o.set_compression_type(rocksdb::DBCompressionType::Lz4);
    DB::open(&o, dir).expect("open raw rocksdb")
}

fn ingest(c: &mut Criterion) {
    let mut g = c.benchmark_group("ingest");
    g.measurement_time(Duration::from_secs(5));
    g.sample_size(20);
    for n in [1usize, 100, 1_000, 10_000] {
        let (_dir, engine) = temp_engine(EngineOptions::default());
        let mut t0 = 0i64;
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("engine_tablet_{n}"), |b| {
            b.iter_batched(
                || {
                    t0 += n as i64 * STEP_MS;
                    tablet("root.b.d.s", t0, n)
                },
                |t| engine.write(vec![t]).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }

    // Baseline 1: one RocksDB key per point, 1 000 points per WriteBatch.
    g.throughput(Throughput::Elements(1000));
    {
        let dir = tempfile::tempdir().unwrap();
        let db = raw_db(dir.path());
        let mut t0 = 0i64;
        g.bench_function("raw_key_per_point_1000", |b| {
            b.iter_batched(
                || {
                    t0 += 1000 * STEP_MS;
                    tablet("root.b.d.s", t0, 1000)
                },
                |t| {
                    let mut batch = WriteBatch::default();
                    let Column::F64(vals) = &t.values else {
                        unreachable!()
                    };
                    for (time, v) in t.times.iter().zip(vals) {
                        let mut k = [0u8; 16];
                        k[..8].copy_from_slice(&1u64.to_be_bytes());
                        k[8..].copy_from_slice(&((*time as u64) ^ (1 << 63)).to_be_bytes());
                        batch.put(k, v.to_le_bytes());
                    }
                    db.write(batch).unwrap();
                },
                BatchSize::SmallInput,
            )
        });
    }
    // Baseline 2: one plain put of an encoded 1 000-point chunk.
    {
        let dir = tempfile::tempdir().unwrap();
        let db = raw_db(dir.path());
        let mut t0 = 0i64;
        g.bench_function("raw_chunk_put_1000", |b| {
            b.iter_batched(
                || {
                    t0 += 1000 * STEP_MS;
                    tablet("root.b.d.s", t0, 1000)
                },
                |t| {
                    let chunk = Chunk::from_write(&t.times, &t.values, Version::new(1, 1));
                    let mut k = [0u8; 16];
                    k[..8].copy_from_slice(&1u64.to_be_bytes());
                    k[8..].copy_from_slice(&((t.times[0] as u64) ^ (1 << 63)).to_be_bytes());
                    db.put(k, chunk.encode()).unwrap();
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn scan(c: &mut Criterion) {
    const POINTS: i64 = 1_000_000;
    let (_dir, engine) = temp_engine(EngineOptions::default());
    for t0 in (0..POINTS * STEP_MS).step_by(1000 * STEP_MS as usize) {
        engine.write(vec![tablet("root.b.d.s", t0, 1000)]).unwrap();
    }
    engine.flush().unwrap();
    engine.compact_data().unwrap();
    let series = engine.schema().series.get("root.b.d.s").cloned().unwrap();

    // The same chunks, copied into a plain RocksDB as plain values.
    let raw_dir = tempfile::tempdir().unwrap();
    let raw = raw_db(raw_dir.path());
    for block in engine.scan(series.clone(), MIN_TIME, MAX_TIME, false) {
        let block = block.unwrap();
        let chunk = Chunk::from_write(&block.times, &block.values, Version::new(1, 1));
        raw.put(
            ((block.times[0] as u64) ^ (1 << 63)).to_be_bytes(),
            chunk.encode(),
        )
        .unwrap();
    }
    raw.flush().unwrap();

    let mut g = c.benchmark_group("scan");
    g.measurement_time(Duration::from_secs(5));
    g.sample_size(10);
    g.throughput(Throughput::Elements(POINTS as u64));
    g.bench_function("engine_scan_1M", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for block in engine.scan(series.clone(), MIN_TIME, MAX_TIME, false) {
                n += block.unwrap().times.len();
            }
            assert_eq!(n, POINTS as usize);
        })
    });
    g.bench_function("raw_iterate_decode_1M", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for item in raw.iterator(rocksdb::IteratorMode::Start) {
                let (_, v) = item.unwrap();
                n += decode_points(&v).unwrap().0.len();
            }
            assert_eq!(n, POINTS as usize);
        })
    });
    g.finish();
}

criterion_group!(benches, chunk, ingest, scan);
criterion_main!(benches);

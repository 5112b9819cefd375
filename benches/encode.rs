//! Dictionary encoding: 1M rows × 9 columns (adult repeated).

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use deidentify::{Dataset, Ruleset, data::EncodeOptions};

fn encode(c: &mut Criterion) {
    let rows = 1_000_000;
    let frame = common::adult_frame(rows);
    let ruleset =
        Ruleset::from_file(&common::root().join("datasets/adult/adult9.toml")).expect("ruleset");
    let attributes = ruleset.attributes();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(20);
    group.bench_function("adult_1m_rows_9_columns", |b| {
        b.iter(|| {
            Dataset::from_dataframe(black_box(&frame), &attributes, &EncodeOptions::default())
                .expect("encodes")
        })
    });
    group.bench_function("adult_1m_rows_9_columns_with_hierarchies", |b| {
        b.iter(|| {
            ruleset
                .load_frame(black_box(&frame), "bench")
                .expect("loads")
        })
    });
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);

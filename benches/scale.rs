//! The large-data pipeline at 1M rows: streaming ingest from Parquet into
//! the frequency table, the optimal search on it (k = 5, 2% suppression),
//! and the streaming apply to Parquet. The data is generated (seed 1) by
//! `examples/generate_census.rs` into the target folder on first run.
//! Peak memory (VmHWM) is printed after each group; for 10M and 100M rows
//! use `cargo run --release --example scale` (see its docs).

mod census;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use deidentify::{
    AnonymizationConfig,
    model::ModelSpec,
    stream::{StreamOptions, StreamedTable},
};

fn scale(c: &mut Criterion) {
    let ruleset = census::ruleset();
    let options = StreamOptions::default();
    let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02);
    let orders = BTreeMap::new();
    let mut group = c.benchmark_group("scale-1m");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("ingest", |b| {
        b.iter(|| StreamedTable::from_ruleset(&ruleset, &options).expect("ingests"))
    });
    eprintln!("peak RSS after ingest: {:.0} MiB", census::peak_mib());
    let mut streamed = StreamedTable::from_ruleset(&ruleset, &options).expect("ingests");
    group.bench_function("search", |b| {
        b.iter(|| streamed.search(&config, &orders).expect("searches"))
    });
    eprintln!("peak RSS after search: {:.0} MiB", census::peak_mib());
    let node = streamed
        .search(&config, &orders)
        .expect("searches")
        .optimum
        .expect("a 5-anonymous node exists")
        .node;
    let output =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scale-bench/census-1m-k5.parquet");
    group.bench_function("apply", |b| {
        b.iter(|| {
            streamed
                .apply_to_file(&config, &orders, &node, &output, b';', &options)
                .expect("applies")
        })
    });
    eprintln!("peak RSS after apply: {:.0} MiB", census::peak_mib());
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);

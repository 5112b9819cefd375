//! Safe Harbor building blocks and noise: tokenizing 1M values, ZIP3,
//! scanning adult, exact discrete Laplace noise on 10M values.

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use deidentify::{
    data::{CsvOptions, read_csv},
    safe_harbor::{RestrictedZipPrefixes, Scanner, TokenKey},
};

fn safe_harbor(c: &mut Criterion) {
    let values: Vec<String> = (0..1_000_000u32).map(|i| format!("MRN{i:08}")).collect();
    let key = TokenKey::from_bytes(b"benchmark key, thirty-two bytes!".to_vec()).expect("key");
    let tokenizer = key.column("mrn");
    let mut group = c.benchmark_group("safe_harbor");
    group.throughput(Throughput::Elements(values.len() as u64));
    group.sample_size(10);
    group.bench_function("tokenize_1m_values", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|v| tokenizer.token(black_box(v)).len())
                .sum::<usize>()
        })
    });
    let zips: Vec<String> = (0..1_000_000u32)
        .map(|i| format!("{:05}", i % 100_000))
        .collect();
    let list = RestrictedZipPrefixes::hhs_2000();
    group.bench_function("zip3_1m_values", |b| {
        b.iter(|| {
            zips.iter()
                .filter_map(|z| list.generalize(black_box(z)).ok())
                .count()
        })
    });
    let options = CsvOptions::default().with_delimiter(b';');
    let adult =
        read_csv(&common::root().join("datasets/adult/adult.csv"), &options).expect("adult");
    let scanner = Scanner::new();
    group.throughput(Throughput::Elements(adult.height() as u64));
    group.bench_function("scan_adult", |b| {
        b.iter(|| scanner.scan(black_box(&adult), &[]).expect("scans"))
    });
    group.throughput(Throughput::Elements(10_000_000));
    group.bench_function("discrete_laplace_10m_values", |b| {
        use rand::SeedableRng;
        let scale = deidentify::noise::Rational::new(1, 1).expect("scale");
        b.iter(|| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(1);
            (0..10_000_000)
                .map(|_| deidentify::noise::discrete_laplace(&mut rng, scale).expect("sample"))
                .sum::<i128>()
        })
    });
    group.finish();
}

criterion_group!(benches, safe_harbor);
criterion_main!(benches);

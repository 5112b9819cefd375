//! Re-identification risk on adult (9 quasi-identifiers): every measure of
//! the risk example, separately.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use deidentify::{
    Node, RiskAnalysis, Ruleset,
    frequency::FrequencyTable,
    risk::{Population, RiskOptions, RiskThreshold, Suda, dankar, pitman, snb, zayatz},
};

fn risk(c: &mut Criterion) {
    let adult = Ruleset::from_file(&common::root().join("datasets/adult/adult9.toml"))
        .and_then(|r| r.load())
        .expect("adult9 loads");
    let node = Node::bottom(9);
    let table =
        FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &node).expect("counts");
    let options = RiskOptions::new(RiskThreshold::probability(0.2).expect("threshold"))
        .with_population(Population::Size(317_200_000));
    let analysis = RiskAnalysis::of_table(&table, None, &options).expect("analysis");
    let (histogram, n, population) = (&analysis.class_sizes, analysis.records, 317_200_000.0);
    let mut group = c.benchmark_group("risk_adult9");
    group.bench_function("count_classes", |b| {
        b.iter(|| {
            FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, black_box(&node))
                .expect("counts")
        })
    });
    group.bench_function("attacker_models_and_individual_risk", |b| {
        let mut no_population = options.clone();
        no_population.population = None;
        b.iter(|| {
            RiskAnalysis::of_table(black_box(&table), None, &no_population).expect("analysis")
        })
    });
    group.bench_function("zayatz", |b| {
        b.iter(|| zayatz(black_box(histogram), n, population))
    });
    group.bench_function("pitman", |b| {
        b.iter(|| pitman(black_box(histogram), n, population))
    });
    group.bench_function("snb", |b| {
        b.iter(|| snb(black_box(histogram), n, population))
    });
    group.bench_function("dankar", |b| {
        b.iter(|| dankar(black_box(histogram), n, population))
    });
    group.bench_function("suda_max_size_3", |b| {
        b.iter(|| {
            Suda::of_dataset(
                &adult.dataset,
                &adult.hierarchies,
                &node,
                None,
                black_box(3),
                0.01,
            )
            .expect("suda")
        })
    });
    group.sample_size(10);
    group.bench_function("suda_all_9", |b| {
        b.iter(|| {
            Suda::of_dataset(
                &adult.dataset,
                &adult.hierarchies,
                &node,
                None,
                black_box(9),
                0.01,
            )
            .expect("suda")
        })
    });
    group.finish();
}

criterion_group!(benches, risk);
criterion_main!(benches);

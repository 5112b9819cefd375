//! Measuring one node on adult: counting the frequency table, rolling it up,
//! evaluating models, and the full privacy profile.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use deidentify::{
    Node, PrivacyProfile,
    frequency::FrequencyTable,
    measure::ProfileOptions,
    model::{GroundDistance, ModelSpec},
};

fn measure(c: &mut Criterion) {
    let adult = common::adult();
    let rows = adult.dataset.rows() as u64;
    let bottom = Node::bottom(8);
    let node = Node::new(vec![1, 1, 0, 1, 2, 1, 1, 0]);
    let mut group = c.benchmark_group("measure_adult");
    group.throughput(Throughput::Elements(rows));
    group.bench_function("count_bottom", |b| {
        b.iter(|| {
            FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, black_box(&bottom))
                .expect("counts")
        })
    });
    group.bench_function("count_node", |b| {
        b.iter(|| {
            FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, black_box(&node))
                .expect("counts")
        })
    });
    let table =
        FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &bottom).expect("counts");
    let qis = adult.hierarchies.quasi_identifiers(&adult.dataset);
    group.bench_function("roll_up_bottom_to_node", |b| {
        b.iter(|| table.roll_up(&qis, black_box(&node)).expect("rolls up"))
    });
    let at_node =
        FrequencyTable::from_dataset(&adult.dataset, &adult.hierarchies, &node).expect("counts");
    let specs = [
        ModelSpec::KAnonymity { k: 5 },
        ModelSpec::EntropyLDiversity {
            attribute: "occupation".into(),
            l: 5.0,
        },
        ModelSpec::TCloseness {
            attribute: "occupation".into(),
            t: 0.2,
            distance: GroundDistance::Equal,
        },
        ModelSpec::TCloseness {
            attribute: "occupation".into(),
            t: 0.2,
            distance: GroundDistance::Hierarchical,
        },
    ];
    for spec in specs {
        let model = spec
            .build(&adult.dataset, &adult.hierarchies, &BTreeMap::new())
            .expect("model");
        group.bench_function(
            format!("evaluate_{}", model.name().replace(' ', "_")),
            |b| {
                b.iter(|| {
                    at_node
                        .iter()
                        .filter(|class| model.is_satisfied_by(class))
                        .count()
                })
            },
        );
    }
    group.bench_function("profile_node", |b| {
        b.iter(|| {
            PrivacyProfile::measure(
                &adult.dataset,
                &adult.hierarchies,
                black_box(&node),
                &ProfileOptions::default(),
            )
            .expect("measures")
        })
    });
    group.finish();
}

criterion_group!(benches, measure);
criterion_main!(benches);

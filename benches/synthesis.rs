//! Differentially private synthetic data on Adult (all nine attributes, the
//! domains of the hierarchy files): MST's fit and sample at ε ∈ {0.3, 1, 3},
//! AIM's at ε ∈ {0.3, 1} (ten samples: seconds each), and the utility
//! report without and with its classifier.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use deidentify::Ruleset;
use deidentify::synthesis::{SynthesisMethod, UtilityOptions, evaluate, synthesize};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn synthesis(c: &mut Criterion) {
    let ruleset = Ruleset::from_file(&common::root().join("datasets/adult/adult9-synth.toml"))
        .expect("the ruleset reads");
    let data = ruleset.read_data().expect("adult reads");
    let config = ruleset.synthesis().expect("valid").expect("configured");
    let mut group = c.benchmark_group("synthesis_adult9");
    for epsilon in [0.3, 1.0, 3.0] {
        let mut at = config.clone();
        at.epsilon = epsilon;
        group.bench_function(format!("mst_fit_and_sample_eps{epsilon}"), |b| {
            let mut rng = StdRng::seed_from_u64(1);
            b.iter(|| synthesize(black_box(&data), &at, &mut rng).expect("synthesizes"))
        });
    }
    let synthetic = synthesize(&data, &config, &mut StdRng::seed_from_u64(1)).expect("synthesizes");
    group.bench_function("utility_marginals", |b| {
        b.iter(|| {
            evaluate(
                black_box(&data),
                &synthetic.frame,
                &config.attributes,
                &UtilityOptions::default(),
            )
            .expect("evaluates")
        })
    });
    group.sample_size(10);
    for epsilon in [0.3, 1.0] {
        let mut at = config.clone().with_method(SynthesisMethod::Aim);
        at.epsilon = epsilon;
        group.bench_function(format!("aim_fit_and_sample_eps{epsilon}"), |b| {
            let mut rng = StdRng::seed_from_u64(1);
            b.iter(|| synthesize(black_box(&data), &at, &mut rng).expect("synthesizes"))
        });
    }
    group.bench_function("utility_with_classifier", |b| {
        let options = UtilityOptions::default().with_target("salary-class");
        b.iter(|| {
            evaluate(
                black_box(&data),
                &synthetic.frame,
                &config.attributes,
                &options,
            )
            .expect("evaluates")
        })
    });
    group.finish();
}

criterion_group!(benches, synthesis);
criterion_main!(benches);

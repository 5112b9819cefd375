//! Recoding record by record: local generalization, Mondrian and cell
//! suppression on Adult (k = 5), and Mondrian and local generalization on
//! 1M generated census rows (`examples/generate_census.rs`, seed 1,
//! generated into the target folder on first run; Adult's eight
//! quasi-identifiers, age an integer). Peak memory (VmHWM) is printed after
//! each group.

mod census;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use deidentify::{
    AnonymizationConfig, Ruleset,
    model::ModelSpec,
    recode::{Recoding, recode},
    ruleset::LoadedRuleset,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The generated 1M rows, loaded (generated first if absent).
fn census() -> LoadedRuleset {
    census::ruleset().load().expect("census loads")
}

fn bench(c: &mut Criterion, name: &str, loaded: &LoadedRuleset, recoding: Recoding) {
    let config =
        AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.0).with_recoding(recoding);
    let orders = BTreeMap::new();
    c.bench_function(name, |b| {
        b.iter(|| {
            black_box(
                recode(&loaded.dataset, &loaded.hierarchies, &config, &orders)
                    .expect("recodes")
                    .expect("a release"),
            )
        })
    });
}

fn recodings(c: &mut Criterion) {
    let adult = Ruleset::from_file(&root().join("datasets/adult/adult9.toml"))
        .and_then(|r| r.load())
        .expect("adult loads");
    bench(c, "adult9_k5_local", &adult, Recoding::Local);
    bench(
        c,
        "adult9_k5_mondrian",
        &adult,
        Recoding::Mondrian { relaxed: false },
    );
    bench(
        c,
        "adult9_k5_cell_suppression",
        &adult,
        Recoding::CellSuppression {
            importance: Vec::new(),
        },
    );
    eprintln!("peak memory after Adult: {:.0} MiB", census::peak_mib());
    let census = census();
    eprintln!(
        "peak memory with 1M rows loaded: {:.0} MiB",
        census::peak_mib()
    );
    bench(
        c,
        "census_1m_k5_mondrian",
        &census,
        Recoding::Mondrian { relaxed: false },
    );
    eprintln!(
        "peak memory after Mondrian on 1M rows: {:.0} MiB",
        census::peak_mib()
    );
    bench(c, "census_1m_k5_local", &census, Recoding::Local);
    eprintln!(
        "peak memory after local recoding on 1M rows: {:.0} MiB",
        census::peak_mib()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(20));
    targets = recodings
}
criterion_main!(benches);

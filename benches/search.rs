//! The lattice search on adult (ARX's benchmark configurations) and on FARS
//! (100,937 rows, 8 quasi-identifiers, ARX's benchmark data, not bundled:
//! give its folder, holding `fars_int.csv` and its hierarchies, in the
//! environment variable `DEIDENTIFY_FARS`; skipped when it is not set).

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use deidentify::{
    AnonymizationConfig, Ruleset,
    metric::{MetricKind, MetricSpec},
    model::{GroundDistance, ModelSpec},
    ruleset::LoadedRuleset,
    search,
    search::Strategy,
};

fn config(models: Vec<ModelSpec>, limit: f64) -> AnonymizationConfig {
    AnonymizationConfig::new(models, limit)
        .with_metric(MetricSpec::new(MetricKind::Loss))
        .with_strategy(Strategy::Optimal)
}

fn k5() -> ModelSpec {
    ModelSpec::KAnonymity { k: 5 }
}

fn bench_config(c: &mut Criterion, name: &str, data: &LoadedRuleset, config: &AnonymizationConfig) {
    let orders = BTreeMap::new();
    c.bench_function(name, |b| {
        b.iter(|| {
            search(&data.dataset, &data.hierarchies, black_box(config), &orders).expect("searches")
        })
    });
}

/// FARS as ARX benchmarks it: every attribute a quasi-identifier with its hierarchy.
fn fars() -> Option<LoadedRuleset> {
    let Some(folder) = std::env::var_os("DEIDENTIFY_FARS").map(std::path::PathBuf::from) else {
        eprintln!("skipping FARS: DEIDENTIFY_FARS (the folder of fars_int.csv) is not set");
        return None;
    };
    let data = folder.join("fars_int.csv");
    if !data.exists() {
        eprintln!("skipping FARS: {} is absent", data.display());
        return None;
    }
    let mut toml = format!(
        "[data]\npath = {:?}\ndelimiter = \";\"\n",
        data.display().to_string()
    );
    for column in [
        "iage",
        "irace",
        "ideathmon",
        "ideathday",
        "isex",
        "ihispanic",
        "istatenum",
        "iinjury",
    ] {
        let hierarchy = folder.join(format!("fars_int_hierarchy_{column}.csv"));
        toml.push_str(&format!(
            "[[attribute]]\nname = \"{column}\"\nrole = \"quasi-identifier\"\nhierarchy = {:?}\n",
            hierarchy.display().to_string()
        ));
    }
    let ruleset = Ruleset::from_toml(&toml, &folder, "fars.toml".as_ref()).expect("FARS ruleset");
    Some(ruleset.load().expect("FARS loads"))
}

fn searches(c: &mut Criterion) {
    let adult9 = Ruleset::from_file(&common::root().join("datasets/adult/adult9.toml"))
        .and_then(|r| r.load())
        .expect("adult9 loads");
    let adult8 = common::adult();
    bench_config(c, "adult9_k5_0pct_loss", &adult9, &config(vec![k5()], 0.0));
    bench_config(c, "adult9_k5_2pct_loss", &adult9, &config(vec![k5()], 0.02));
    let distinct = ModelSpec::DistinctLDiversity {
        attribute: "occupation".into(),
        l: 2.0,
    };
    bench_config(
        c,
        "adult8_k5_distinct2_2pct_loss",
        &adult8,
        &config(vec![k5(), distinct], 0.02),
    );
    let closeness = ModelSpec::TCloseness {
        attribute: "occupation".into(),
        t: 0.2,
        distance: GroundDistance::Equal,
    };
    bench_config(
        c,
        "adult8_k5_t02_2pct_loss",
        &adult8,
        &config(vec![k5(), closeness], 0.02),
    );
    // Models of the whole release (ARX's risk-based criteria).
    let average = ModelSpec::AverageRisk {
        threshold: 0.05,
        highest_risk: None,
        records_at_risk: None,
    };
    let uniques = ModelSpec::SampleUniqueness { threshold: 0.01 };
    bench_config(
        c,
        "adult9_avgrisk005_uniques001_2pct_loss",
        &adult9,
        &config(vec![average, uniques], 0.02),
    );
    let population = ModelSpec::PopulationUniqueness {
        threshold: 0.0039,
        population: Some(317_200_000),
        sampling_fraction: None,
        estimator: deidentify::model::UniquenessEstimator::Dankar,
    };
    bench_config(
        c,
        "adult9_popuniq_dankar_2pct_loss",
        &adult9,
        &config(vec![population], 0.02),
    );
    if let Some(fars) = fars() {
        bench_config(c, "fars_k5_0pct_loss", &fars, &config(vec![k5()], 0.0));
        bench_config(c, "fars_k5_2pct_loss", &fars, &config(vec![k5()], 0.02));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = searches
}
criterion_main!(benches);

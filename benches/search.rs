//! The lattice search on adult (ARX's benchmark configurations), and on
//! ARX's FARS (100,937 rows, 8 quasi-identifiers) and cup (63,441 rows)
//! benchmark data, which are not bundled: give the folder holding
//! `fars_int.csv` (or `cup.csv`) and its hierarchies in the environment
//! variable `DEIDENTIFY_FARS` (or `DEIDENTIFY_CUP`); each is skipped when
//! its variable is not set. Likewise ARX's creditcard data (30,000 rows, 24
//! quasi-identifiers: `DEIDENTIFY_CREDITCARD`, the folder of
//! `creditcard_int.csv`), searched best-effort within a node budget.

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

/// An ARX benchmark dataset as ARX benchmarks it: every column with a
/// `<name>_hierarchy_<column>.csv` file beside `<file>` is a
/// quasi-identifier with that hierarchy. `variable` names the environment
/// variable holding the folder; `None` (and a line on stderr) when it is
/// not set or the file is absent.
fn arx_benchmark(variable: &str, file: &str) -> Option<LoadedRuleset> {
    let Some(folder) = std::env::var_os(variable).map(std::path::PathBuf::from) else {
        eprintln!("skipping {file}: {variable} (the folder holding it) is not set");
        return None;
    };
    let data = folder.join(file);
    let Ok(text) = std::fs::read_to_string(&data) else {
        eprintln!("skipping {file}: {} cannot be read", data.display());
        return None;
    };
    let stem = file.trim_end_matches(".csv");
    let mut toml = format!(
        "[data]\npath = {:?}\ndelimiter = \";\"\n",
        data.display().to_string()
    );
    let header = text.lines().next().unwrap_or_default();
    for column in header.split(';') {
        let hierarchy = folder.join(format!("{stem}_hierarchy_{column}.csv"));
        let role = if hierarchy.exists() {
            format!(
                "role = \"quasi-identifier\"\nhierarchy = {:?}",
                hierarchy.display().to_string()
            )
        } else {
            "role = \"insensitive\"".to_owned()
        };
        toml.push_str(&format!("[[attribute]]\nname = {column:?}\n{role}\n"));
    }
    let ruleset = Ruleset::from_toml(&toml, &folder, format!("{stem}.toml").as_ref())
        .expect("benchmark ruleset");
    Some(ruleset.load().expect("benchmark data loads"))
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
    if let Some(fars) = arx_benchmark("DEIDENTIFY_FARS", "fars_int.csv") {
        bench_config(c, "fars_k5_0pct_loss", &fars, &config(vec![k5()], 0.0));
        bench_config(c, "fars_k5_2pct_loss", &fars, &config(vec![k5()], 0.02));
    }
    if let Some(cup) = arx_benchmark("DEIDENTIFY_CUP", "cup.csv") {
        bench_config(c, "cup_k5_0pct_loss", &cup, &config(vec![k5()], 0.0));
        bench_config(c, "cup_k5_2pct_loss", &cup, &config(vec![k5()], 0.02));
    }
    // Wide data: 24 quasi-identifiers, 4.9 · 10^13 nodes. A best-effort
    // search of a fixed number of nodes (deterministic): the time divided
    // by the nodes is the cost of a node's evaluation as the search meets
    // them (descents, exchanges, mostly nodes that fail).
    if let Some(creditcard) = arx_benchmark("DEIDENTIFY_CREDITCARD", "creditcard_int.csv") {
        let budget = Strategy::BestEffort {
            time_limit_ms: None,
            max_nodes: Some(CREDITCARD_NODES),
        };
        bench_config(
            c,
            "creditcard_k5_2pct_best_effort_5000_nodes",
            &creditcard,
            &config(vec![k5()], 0.02).with_strategy(budget),
        );
    }
}

/// The node budget of the creditcard benchmark.
const CREDITCARD_NODES: u64 = 5_000;

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = searches
}
criterion_main!(benches);

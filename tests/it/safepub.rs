//! Differentially private anonymization (SafePub) on Adult: the release's
//! invariants checked from the data and hierarchy files themselves, the
//! parameters, reproducibility, and refusals.

use std::collections::{BTreeMap, HashMap};

use deidentify::Ruleset;
use deidentify::model::ModelSpec;
use deidentify::polars::prelude::DataFrame;
use deidentify::safepub::{DpScore, DpSearch, SafePubConfig, SafePubRelease, release};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::{adult_columns, load, root, scratch};

/// A hierarchy file's rows (no header, `;`-separated).
fn hierarchy_rows(name: &str) -> Vec<Vec<String>> {
    let text =
        std::fs::read_to_string(root().join(format!("datasets/adult/hierarchies/{name}.csv")))
            .unwrap();
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(';').map(str::to_owned).collect())
        .collect()
}

/// The released frame's rows as text.
fn rows(frame: &DataFrame) -> Vec<Vec<String>> {
    let columns: Vec<Vec<String>> = frame
        .columns()
        .iter()
        .map(|c| {
            c.str()
                .unwrap()
                .iter()
                .map(|v| v.unwrap().to_owned())
                .collect()
        })
        .collect();
    (0..frame.height())
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect()
}

fn run(config: &SafePubConfig, seed: u64) -> SafePubRelease {
    let loaded = load("datasets/adult/adult9-dp.toml");
    let mut rng = StdRng::seed_from_u64(seed);
    release(&loaded.dataset, &loaded.hierarchies, config, &mut rng).unwrap()
}

/// Every invariant of a release, checked against the files: the columns
/// are the nine quasi-identifiers; every value is a label of its
/// hierarchy at the node's level; every released class (identical rows)
/// has at least k records; the counts add up; Loss recomputed from the
/// hierarchy files (leaves below each label over the rows listed).
fn check_release(out: &SafePubRelease) {
    let names: Vec<String> = out
        .frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, adult_columns());
    assert_eq!(names.len(), 9);
    let released = rows(&out.frame);
    assert_eq!(released.len() as u64, out.summary.released_rows);
    assert!(
        out.summary.released_rows <= out.summary.sampled_rows
            && out.summary.sampled_rows <= out.summary.input_rows
    );
    assert_eq!(out.summary.input_rows, 30_162);
    let mut classes: HashMap<&[String], u64> = HashMap::new();
    for row in &released {
        *classes.entry(row.as_slice()).or_default() += 1;
    }
    assert_eq!(classes.len() as u64, out.summary.released_classes);
    let k = out.summary.parameters.k;
    assert!(
        classes.values().all(|&size| size >= k),
        "a released class below k = {k}"
    );
    // Loss as ARX's metric: per attribute (Σ shares − n/D)/(n − n/D), a
    // released value's share its leaves over the D rows listed, 1 for a
    // record not released; the mean over attributes.
    let n = out.summary.input_rows as f64;
    let dropped = (out.summary.input_rows - out.summary.released_rows) as f64;
    let mut loss = 0.0;
    for (j, name) in adult_columns().iter().enumerate() {
        let level = out.node.levels()[j] as usize;
        let hierarchy = hierarchy_rows(name);
        let domain = hierarchy.len() as f64;
        let mut leaves: HashMap<&str, u64> = HashMap::new();
        for row in &hierarchy {
            *leaves.entry(row[level].as_str()).or_default() += 1;
        }
        let mut shares = dropped;
        for row in &released {
            let below = leaves.get(row[j].as_str()).unwrap_or_else(|| {
                panic!("'{}' is not a label of {name} at level {level}", row[j])
            });
            shares += *below as f64 / domain;
        }
        loss += (shares - n / domain) / (n - n / domain);
    }
    loss /= adult_columns().len() as f64;
    assert!(
        (loss - out.summary.loss).abs() < 1e-6,
        "Loss {} reported, {loss} recomputed",
        out.summary.loss
    );
}

#[test]
fn lattice_search_releases_classes_of_at_least_k_with_the_derived_parameters() {
    let config = SafePubConfig::new(1.0, 1e-6);
    let out = run(&config, 1);
    check_release(&out);
    let p = &out.summary.parameters;
    // ε = 1 − 0.1 for sampling: β = 1 − e^(−0.9) and k = 73 (ARX reports 74).
    assert_eq!(p.k, 73);
    assert!((p.beta - (1.0 - (-0.9f64).exp())).abs() < 1e-15);
    assert!((p.anonymization_epsilon - 0.9).abs() < 1e-15);
    assert!(p.delta_at_k < 1e-6);
    assert_eq!(
        out.summary.nodes_scored, 12_960,
        "every node of Adult's lattice"
    );
    assert_eq!(out.summary.lattice_size, 12_960);
    // The sample's size is Binomial(30162, β): within five standard deviations.
    let n = out.summary.input_rows as f64;
    let sd = (n * p.beta * (1.0 - p.beta)).sqrt();
    assert!(((out.summary.sampled_rows as f64) - n * p.beta).abs() < 5.0 * sd);
}

#[test]
fn the_walk_and_a_fixed_transformation_release_valid_data() {
    let walk = SafePubConfig::new(2.0, 1e-6).with_search(DpSearch::Walk { steps: 40 });
    let out = run(&walk, 2);
    check_release(&out);
    assert!(out.pivots.len() >= 2 && out.pivots.len() <= 41);
    assert!(out.pivots.contains(&out.node));
    assert_eq!(
        out.pivots[0].levels(),
        [1, 4, 1, 2, 3, 2, 2, 2, 1],
        "the top first"
    );
    // Each pivot is a direct specialization of an earlier pivot.
    for (i, pivot) in out.pivots.iter().enumerate().skip(1) {
        assert!(
            out.pivots[..i].iter().any(|earlier| {
                pivot.is_below(earlier) && earlier.height() == pivot.height() + 1
            })
        );
    }
    let node = deidentify::Node::new(vec![0, 2, 0, 1, 1, 1, 1, 1, 0]);
    let fixed = SafePubConfig::new(1.0, 1e-6)
        .with_search_epsilon(0.0)
        .with_search(DpSearch::Fixed { node: node.clone() });
    let out = run(&fixed, 3);
    check_release(&out);
    assert_eq!(out.node, node);
    assert_eq!(out.summary.nodes_scored, 0);
    // The whole ε samples: k for ε = 1, δ = 10⁻⁶ is 74.
    assert_eq!(out.summary.parameters.k, 74);
}

#[test]
fn precision_and_discernibility_release_valid_data() {
    for score in [DpScore::Precision, DpScore::Discernibility] {
        let config = SafePubConfig::new(1.0, 1e-5).with_score(score);
        check_release(&run(&config, 4));
    }
}

#[test]
fn the_same_seed_gives_the_same_release() {
    let config = SafePubConfig::new(1.0, 1e-6).with_search(DpSearch::Walk { steps: 30 });
    let (a, b, c) = (run(&config, 9), run(&config, 9), run(&config, 10));
    assert_eq!(a.node, b.node);
    assert_eq!(rows(&a.frame), rows(&b.frame));
    assert_eq!(a.pivots, b.pivots);
    assert_ne!(
        (a.summary.sampled_rows, rows(&a.frame)),
        (c.summary.sampled_rows, rows(&c.frame))
    );
}

#[test]
fn the_release_is_shuffled() {
    // Released rows do not keep the input's order: the sorted release is
    // not the release (with thousands of rows, a shuffle leaves it sorted
    // with negligible probability), and the first rows differ by seed.
    let config = SafePubConfig::new(2.0, 1e-6)
        .with_search_epsilon(0.0)
        .with_search(DpSearch::Fixed {
            node: deidentify::Node::new(vec![0, 2, 0, 1, 1, 1, 1, 1, 0]),
        });
    let a = rows(&run(&config, 5).frame);
    let mut sorted = a.clone();
    sorted.sort();
    assert_ne!(a, sorted);
    assert_ne!(a[..20], rows(&run(&config, 6).frame)[..20]);
}

/// The ruleset's `[anonymization]` with `models` as written.
fn ruleset_with(models: &str, metric: &str) -> Ruleset {
    let text = std::fs::read_to_string(root().join("datasets/adult/adult9.toml"))
        .unwrap()
        .replace(
            "path = \"adult.csv\"",
            &format!("path = {:?}", root().join("datasets/adult/adult.csv")),
        )
        .replace(
            "hierarchy = \"hierarchies/",
            &format!(
                "hierarchy = \"{}/",
                root().join("datasets/adult/hierarchies").display()
            ),
        );
    let start = text.find("[anonymization]").unwrap();
    let text = format!(
        "{}[anonymization]\nmetric = \"{metric}\"\nmodels = [{models}]\n",
        &text[..start]
    );
    let dir = scratch("dp-ruleset", &[("r.toml", &text)]);
    Ruleset::from_file(&dir.join("r.toml")).unwrap()
}

fn config_error(models: &str, metric: &str) -> String {
    let ruleset = ruleset_with(models, metric);
    let config = match ruleset.anonymization.as_ref().unwrap().config() {
        Ok(config) => config,
        Err(e) => return e.to_string(),
    };
    let names = adult_columns();
    match SafePubConfig::from_config(&config, &names) {
        Ok(Some(dp)) => {
            let loaded = ruleset.load().unwrap();
            let mut rng = StdRng::seed_from_u64(1);
            release(&loaded.dataset, &loaded.hierarchies, &dp, &mut rng)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        }
        Ok(None) => "no differential privacy".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_ruleset_model_gives_the_search() {
    let names = adult_columns();
    let dp = |models: &str| {
        let config = ruleset_with(models, "loss")
            .anonymization
            .unwrap()
            .config()
            .unwrap();
        SafePubConfig::from_config(&config, &names)
            .unwrap()
            .unwrap()
    };
    let lattice = dp(r#"{ type = "differential-privacy", epsilon = 2.0, delta = 1e-5 }"#);
    assert_eq!(lattice.search, DpSearch::Lattice);
    assert_eq!(
        (lattice.epsilon, lattice.delta, lattice.search_epsilon),
        (2.0, 1e-5, 0.1)
    );
    let walk = dp(
        r#"{ type = "differential-privacy", epsilon = 1.0, delta = 1e-6, steps = 300, search_budget = 0.2 }"#,
    );
    assert_eq!(walk.search, DpSearch::Walk { steps: 300 });
    assert_eq!(walk.search_epsilon, 0.2);
    let fixed = dp(
        r#"{ type = "differential-privacy", epsilon = 1.0, delta = 1e-6, levels = { sex = 0, age = 2, race = 0, marital-status = 1, education = 1, native-country = 1, workclass = 1, occupation = 1, salary-class = 0 } }"#,
    );
    assert_eq!(
        fixed.search,
        DpSearch::Fixed {
            node: deidentify::Node::new(vec![0, 2, 0, 1, 1, 1, 1, 1, 0])
        }
    );
    assert_eq!(fixed.search_epsilon, 0.0);
    // The bundled ruleset.
    let loaded = Ruleset::from_file(&root().join("datasets/adult/adult9-dp.toml")).unwrap();
    let config = loaded.anonymization.unwrap().config().unwrap();
    assert!(matches!(
        config.differential_privacy(),
        Some(ModelSpec::DifferentialPrivacy { epsilon, .. }) if *epsilon == 1.0
    ));
}

#[test]
fn bad_parameters_are_clear_errors() {
    let dp = |rest: &str| format!(r#"{{ type = "differential-privacy", {rest} }}"#);
    for (models, metric, expected) in [
        (
            dp("epsilon = 0.0, delta = 1e-6"),
            "loss",
            "ε must be positive",
        ),
        (
            dp("epsilon = -1.0, delta = 1e-6"),
            "loss",
            "ε must be positive",
        ),
        (
            dp("epsilon = 1.0, delta = 1.0"),
            "loss",
            "δ must be in (0, 1)",
        ),
        (
            dp("epsilon = 1.0, delta = 0.0"),
            "loss",
            "δ must be in (0, 1)",
        ),
        (
            dp("epsilon = 1.0, delta = 1e-6, search_budget = 1.0"),
            "loss",
            "search budget must be in (0, ε)",
        ),
        (
            dp("epsilon = 1.0, delta = 1e-6, steps = 0"),
            "loss",
            "at least one step",
        ),
        (
            dp("epsilon = 1.0, delta = 1e-6, steps = 5, levels = { sex = 0 }"),
            "loss",
            "not both",
        ),
        (
            dp("epsilon = 1.0, delta = 1e-6, levels = { sex = 0 }"),
            "loss",
            "no level for the quasi-identifier 'age'",
        ),
        (
            dp("epsilon = 1.0, delta = 1e-6, levels = { zip = 0 }"),
            "loss",
            "'zip' is not a quasi-identifier",
        ),
        (
            dp(
                "epsilon = 1.0, delta = 1e-6, search_budget = 0.0, levels = { sex = 9, age = 0, race = 0, marital-status = 0, education = 0, native-country = 0, workclass = 0, occupation = 0, salary-class = 0 }",
            ),
            "loss",
            "is not a node of the lattice",
        ),
        (dp("epsilon = 1.0, delta = 1e-6"), "aecs", "not aecs"),
        (
            format!(
                r#"{}, {{ type = "k-anonymity", k = 5 }}"#,
                dp("epsilon = 1.0, delta = 1e-6")
            ),
            "loss",
            "differential privacy stands alone",
        ),
    ] {
        let error = config_error(&models, metric);
        assert!(error.contains(expected), "{models}: {error}");
    }
}

#[test]
fn a_column_released_unchanged_is_refused() {
    // adult.toml: occupation is sensitive.
    let loaded = load("datasets/adult/adult.toml");
    let mut rng = StdRng::seed_from_u64(1);
    let error = release(
        &loaded.dataset,
        &loaded.hierarchies,
        &SafePubConfig::new(1.0, 1e-6),
        &mut rng,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("column 'occupation' is sensitive and would be released unchanged"),
        "{error}"
    );
}

#[test]
fn the_lattice_search_refuses_the_model() {
    let loaded = load("datasets/adult/adult9-dp.toml");
    let ruleset = Ruleset::from_file(&root().join("datasets/adult/adult9-dp.toml")).unwrap();
    let config = ruleset.anonymization.unwrap().config().unwrap();
    let error = deidentify::search(
        &loaded.dataset,
        &loaded.hierarchies,
        &config,
        &BTreeMap::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("deidentify::safepub"), "{error}");
}

#[test]
fn anonymize_releases_under_differential_privacy() {
    let dir = scratch("dp-anonymize", &[]);
    let output = dir.join("release.csv");
    let json = crate::examples::example_json(
        "anonymize",
        &[
            "--config",
            root()
                .join("datasets/adult/adult9-dp.toml")
                .to_str()
                .unwrap(),
            "--seed",
            "7",
            "--steps",
            "20",
            "--epsilon",
            "2",
            "--json",
            "--output",
            output.to_str().unwrap(),
        ],
    );
    assert_eq!(json["model"], "differential-privacy");
    assert_eq!(json["parameters"]["epsilon"], 2.0);
    assert_eq!(
        json["parameters"]["search"],
        serde_json::json!({ "kind": "walk", "steps": 20 })
    );
    assert_eq!(json["seeded"], true);
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        written.lines().count() as u64 - 1,
        json["released_rows"].as_u64().unwrap()
    );
    assert_eq!(written.lines().next().unwrap(), adult_columns().join(";"));
    // --delta without --epsilon is a command-line error.
    let out = crate::examples::cargo_example(
        "anonymize",
        &[
            "--config",
            root().join("datasets/adult/adult9.toml").to_str().unwrap(),
            "--delta",
            "1e-6",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("go with --epsilon"));
}

#[test]
fn the_expert_determination_reports_a_differentially_private_release() {
    let ruleset = Ruleset::from_file(&root().join("datasets/adult/adult9-dp.toml")).unwrap();
    let dir = scratch("dp-expert-determination", &[]);
    let outcome = deidentify::run_expert_determination(
        &ruleset,
        &deidentify::RunOptions::new(dir.clone()).with_seed(3),
        &mut |_| {},
    )
    .unwrap();
    let report = &outcome.report;
    let dp = report.methods.differential_privacy.as_ref().unwrap();
    assert_eq!(
        (dp.summary.parameters.epsilon, dp.summary.parameters.delta),
        (1.0, 1e-6)
    );
    assert_eq!(dp.summary.parameters.k, 73);
    assert!(dp.seeded);
    assert!(dp.guarantee.contains("e^1 = 2.718"), "{}", dp.guarantee);
    // The same release as the library's with the same seed.
    let library = run(&SafePubConfig::new(1.0, 1e-6), 3);
    assert_eq!(dp.summary.released_rows, library.summary.released_rows);
    assert_eq!(dp.summary.loss, library.summary.loss);
    let levels: Vec<u32> = report.results.levels.iter().map(|l| l.level).collect();
    assert_eq!(levels, library.node.levels());
    // The released file holds exactly the released records, no starred rows.
    let data = outcome.data.as_ref().expect("written");
    let text = std::fs::read_to_string(data).unwrap();
    assert_eq!(text.lines().count() as u64 - 1, dp.summary.released_rows);
    assert!(!text.lines().any(|l| l.split(';').all(|v| v == "*")));
    // Risk after: every released class has at least k records.
    let after = report.risk.after.as_ref().unwrap();
    assert_eq!(after.records, dp.summary.released_rows);
    assert!(after.prosecutor.highest_risk <= 1.0 / 73.0 + 1e-12);
    // The renderings state the guarantee and the budget split.
    let markdown = std::fs::read_to_string(&outcome.markdown).unwrap();
    assert!(
        markdown.contains("(1, 0.000001)-differential privacy"),
        "markdown"
    );
    assert!(markdown.contains("ε 0.1 choosing the transformation, ε 0.9 sampling and suppression"));
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    assert!(html.contains("Differential privacy"));
    let trail: Vec<&str> = report.audit.iter().map(|e| e.step.as_str()).collect();
    assert!(trail.contains(&"search") && trail.contains(&"apply"));
}

//! Every metric's value at fixed adult nodes, pinned to ARX 3.9.2's.
//!
//! Figures: ARX 3.9.2, tests/reference/arx/MetricValues.java, run 2026-12-03 on this machine
//! (output verbatim in `tests/data/arx_metric_values.tsv`, one line per metric, k, suppression
//! limit and node; the program's header says how each node is evaluated: a one-node solution
//! space and `ARXResult.getOutput`, so every score is ARX's exact evaluation, never a bound).
//! Data: the crate's `datasets/adult/adult9.toml` (all nine attributes quasi-identifiers), the
//! same files ARX read.
//!
//! The ARX metrics behind the labels: `precision*` = `createPrecisionMetric` (non-monotonic,
//! arithmetic mean unless named), `dm` = `createDiscernabilityMetric()` (the crate's
//! `discernibility-nm`), `dm-star` = `createDiscernabilityMetric(true)` (`discernibility`),
//! `aecs` = `createAECSMetric`, `height*` = `createHeightMetric` (sum unless named), `loss-*` =
//! `createLossMetric(aggregate)`, `*-weighted` with `setAttributeWeight` age 1.0, race 0.0,
//! sex 0.2 (the rest ARX's default 0.5), `*-zero-weights` with every weight 0, `*-gs0.25` with
//! ARX's generalization/suppression factor 0.25.
//!
//! Agreement is exact (the same IEEE-754 double, and the same per-attribute values) for every
//! metric except the geometric mean, whose n-th roots ARX takes with Java's `Math.pow` and the
//! crate with the C library's `pow`: two implementations that may round differently in the last
//! bit, so those are held to 4 ulp (relative 1e-15). On this machine they agree exactly too.

use std::collections::BTreeMap;

use deidentify::{
    AnonymizationConfig, Node,
    metric::{Aggregate, MetricKind, MetricSpec, NodeScore},
    model::ModelSpec,
    ruleset::LoadedRuleset,
    search::{NodeEvaluation, Strategy, evaluate_node},
};

use crate::load;

const ARX: &str = include_str!("../data/arx_metric_values.tsv");

/// One line of ARX's output.
struct Figure {
    label: String,
    /// Whether ARX found the node anonymous within the limit (otherwise it
    /// printed no score; the fields below are then 0 or empty).
    anonymous: bool,
    node: Vec<u32>,
    k: u64,
    limit: f64,
    suppressed: u64,
    score: f64,
    per_attribute: Vec<f64>,
}

fn figures() -> Vec<Figure> {
    let figures = parse(ARX);
    assert!(figures.iter().all(|f| f.anonymous));
    figures
}

/// The lines of a file of ARX's output (MetricValues.java, DomainShareCheck.java).
fn parse(text: &str) -> Vec<Figure> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 9, "{line}");
            let anonymous = match f[4] {
                "ANONYMOUS" => true,
                "NOT_ANONYMOUS" => false,
                other => panic!("anonymity {other}: {line}"),
            };
            let score = if anonymous {
                f64::from_bits(u64::from_str_radix(f[7], 16).unwrap())
            } else {
                0.0
            };
            // The decimal and the bits ARX printed are the same double.
            if anonymous {
                assert_eq!(f[6].parse::<f64>().unwrap(), score, "{line}");
            }
            Figure {
                label: f[0].to_string(),
                anonymous,
                node: f[1]
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|v| v.parse().unwrap())
                    .collect(),
                k: f[2].parse().unwrap(),
                limit: f[3].parse().unwrap(),
                suppressed: if anonymous { f[5].parse().unwrap() } else { 0 },
                score,
                per_attribute: if f[8].is_empty() {
                    Vec::new()
                } else {
                    f[8].split(',').map(|v| v.parse().unwrap()).collect()
                },
            }
        })
        .collect()
}

/// The crate's metric for one of ARX's labels.
fn spec(label: &str) -> MetricSpec {
    let weighted: BTreeMap<String, f64> = [("age", 1.0), ("race", 0.0), ("sex", 0.2)]
        .into_iter()
        .map(|(a, w)| (a.to_string(), w))
        .collect();
    let zero: BTreeMap<String, f64> = crate::adult_columns()
        .into_iter()
        .map(|a| (a.to_string(), 0.0))
        .collect();
    let (kind, aggregate, weights, gs_factor) = match label {
        "precision" => (MetricKind::Precision, None, None, 0.5),
        "precision-gm" => (
            MetricKind::Precision,
            Some(Aggregate::GeometricMean),
            None,
            0.5,
        ),
        "precision-max" => (MetricKind::Precision, Some(Aggregate::Max), None, 0.5),
        "precision-sum" => (MetricKind::Precision, Some(Aggregate::Sum), None, 0.5),
        "precision-weighted" => (MetricKind::Precision, None, Some(weighted), 0.5),
        "precision-gs0.25" => (MetricKind::Precision, None, None, 0.25),
        "dm" => (MetricKind::DiscernibilityNm, None, None, 0.5),
        "dm-star" => (MetricKind::Discernibility, None, None, 0.5),
        "aecs" => (MetricKind::Aecs, None, None, 0.5),
        "aecs-gs0.25" => (MetricKind::Aecs, None, None, 0.25),
        "height" => (MetricKind::Height, None, None, 0.5),
        "height-am" => (
            MetricKind::Height,
            Some(Aggregate::ArithmeticMean),
            None,
            0.5,
        ),
        "height-weighted" => (MetricKind::Height, None, Some(weighted), 0.5),
        "loss-am" => (MetricKind::Loss, Some(Aggregate::ArithmeticMean), None, 0.5),
        "loss-gm" => (MetricKind::Loss, Some(Aggregate::GeometricMean), None, 0.5),
        "loss-max" => (MetricKind::Loss, Some(Aggregate::Max), None, 0.5),
        "loss-sum" => (MetricKind::Loss, Some(Aggregate::Sum), None, 0.5),
        "loss-am-weighted" => (
            MetricKind::Loss,
            Some(Aggregate::ArithmeticMean),
            Some(weighted),
            0.5,
        ),
        "loss-gm-weighted" => (
            MetricKind::Loss,
            Some(Aggregate::GeometricMean),
            Some(weighted),
            0.5,
        ),
        "loss-max-weighted" => (MetricKind::Loss, Some(Aggregate::Max), Some(weighted), 0.5),
        "loss-am-zero-weights" => (
            MetricKind::Loss,
            Some(Aggregate::ArithmeticMean),
            Some(zero),
            0.5,
        ),
        "loss-am-gs0.25" => (
            MetricKind::Loss,
            Some(Aggregate::ArithmeticMean),
            None,
            0.25,
        ),
        "entropy" => (MetricKind::Entropy, None, None, 0.5),
        "entropy-nm" => (MetricKind::EntropyNm, None, None, 0.5),
        other => panic!("no metric for ARX's label {other}"),
    };
    MetricSpec {
        kind,
        aggregate,
        weights: weights.unwrap_or_default(),
        gs_factor,
    }
}

/// Whether `a` and `b` are within `ulps` units in the last place.
fn within_ulps(a: f64, b: f64, ulps: u64) -> bool {
    a.is_sign_positive() == b.is_sign_positive() && a.to_bits().abs_diff(b.to_bits()) <= ulps
}

fn check(label_prefix: &str) {
    let adult = load("datasets/adult/adult9.toml");
    let figures: Vec<Figure> = figures()
        .into_iter()
        .filter(|f| f.label == label_prefix || f.label.starts_with(&format!("{label_prefix}-")))
        .collect();
    assert!(
        figures.len() >= 9,
        "{label_prefix}: {} figures",
        figures.len()
    );
    let mut failures = Vec::new();
    for f in &figures {
        let (at, e) = evaluate_figure(&adult, f);
        assert!(e.feasible, "{at}: infeasible");
        assert_eq!(e.suppressed, f.suppressed, "{at}: suppressed records");
        let geometric = spec(&f.label).aggregate() == Aggregate::GeometricMean;
        compare_score(&at, &e.score.unwrap(), f, geometric, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Evaluates figure `f`'s node of `data` with k-anonymity at its k and
/// limit and its metric; with the figure's place for messages.
fn evaluate_figure(data: &LoadedRuleset, f: &Figure) -> (String, NodeEvaluation) {
    let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: f.k }], f.limit)
        .with_metric(spec(&f.label))
        .with_strategy(Strategy::Optimal);
    let node = Node::new(f.node.clone());
    let e = evaluate_node(
        &data.dataset,
        &data.hierarchies,
        &config,
        &BTreeMap::new(),
        &node,
    )
    .unwrap();
    let at = format!("{} at {node}, k={}, limit={}", f.label, f.k, f.limit);
    (at, e)
}

/// Adds to `failures` where `ours` differs from ARX's figure `f`: the score
/// exactly (within 4 ulps for a geometric mean, whose logarithms and
/// exponential may round differently in Java), and the per-attribute values
/// when ARX gave them.
fn compare_score(
    at: &str,
    ours: &NodeScore,
    f: &Figure,
    geometric: bool,
    failures: &mut Vec<String>,
) {
    let agrees = if geometric {
        within_ulps(ours.score, f.score, 4)
    } else {
        ours.score == f.score
    };
    if !agrees {
        failures.push(format!("{at}: ours {:?}, ARX {:?}", ours.score, f.score));
    }
    if !f.per_attribute.is_empty() && ours.per_attribute != f.per_attribute {
        failures.push(format!(
            "{at}: per attribute ours {:?}, ARX {:?}",
            ours.per_attribute, f.per_attribute
        ));
    }
}

#[test]
fn every_arx_figure_has_a_metric() {
    let figures = figures();
    // 22 quality models × 9 (k, limit, node) settings.
    assert_eq!(figures.len(), 22 * 9);
    for f in &figures {
        spec(&f.label);
    }
}

#[test]
fn precision_matches_arx() {
    check("precision");
}

#[test]
fn discernibility_matches_arx() {
    check("dm");
}

#[test]
fn aecs_matches_arx() {
    check("aecs");
}

#[test]
fn height_matches_arx() {
    check("height");
}

#[test]
fn loss_aggregates_and_weights_match_arx() {
    check("loss");
}

/// A few figures spelled out (ARX 3.9.2, tests/reference/arx/MetricValues.java, run
/// 2026-12-03 on this machine), so a reader sees what the table holds.
#[test]
fn spelled_out_figures() {
    let adult = load("datasets/adult/adult9.toml");
    let score = |label: &str, levels: &[u32], limit: f64| {
        let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], limit)
            .with_metric(spec(label))
            .with_strategy(Strategy::Optimal);
        evaluate_node(
            &adult.dataset,
            &adult.hierarchies,
            &config,
            &BTreeMap::new(),
            &Node::new(levels.to_vec()),
        )
        .unwrap()
        .score
        .unwrap()
        .score
    };
    let opt2 = [0, 3, 0, 2, 2, 1, 1, 2, 0];
    // k = 5 at 2 %, ARX's Loss optimum: 506 records suppressed, 222 classes kept.
    assert_eq!(score("dm", &opt2, 0.02), 5.2454192E7);
    assert_eq!(score("dm-star", &opt2, 0.02), 3.719341E7);
    // 30162 / (222 kept classes + 1 class of the suppressed records).
    assert_eq!(score("aecs", &opt2, 0.02), 30162.0 / 223.0);
    assert_eq!(score("aecs", &opt2, 0.02), 135.2556053811659);
    assert_eq!(score("precision", &opt2, 0.02), 0.49928411270497336);
    assert_eq!(score("height", &opt2, 0.02), 11.0);
    assert_eq!(score("loss-max", &opt2, 0.02), 1.0);
    assert_eq!(score("loss-sum", &opt2, 0.02), 3.2173424088000004);
    assert_eq!(score("loss-am-weighted", &opt2, 0.02), 0.18866535024);
    assert!(within_ulps(
        score("loss-gm", &opt2, 0.02),
        0.3137130352819242,
        4
    ));
    // The top at 0 %: one class of 30,162 records.
    let top = [1, 4, 1, 2, 3, 2, 2, 2, 1];
    assert_eq!(score("dm", &top, 0.0), 30162.0 * 30162.0);
    assert_eq!(score("aecs", &top, 0.0), 30162.0);
}

/// FARS as ARX benchmarks it (every column a quasi-identifier with its
/// hierarchy), from the folder in `DEIDENTIFY_FARS`; `None` when it is not set.
fn fars() -> Option<deidentify::ruleset::LoadedRuleset> {
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
    let ruleset =
        deidentify::Ruleset::from_toml(&toml, &folder, "fars.toml".as_ref()).expect("FARS ruleset");
    Some(ruleset.load().expect("FARS loads"))
}

/// ARX's figures on a table whose hierarchies list values absent from the
/// data, repeat a row, and reuse a leaf's string as a label one level up.
///
/// Figures: ARX 3.9.2, tests/reference/arx/DomainShareCheck.java, run 2026-12-03 on this
/// machine (`java -cp <ARX build>:/tmp/domain-share DomainShareCheck tests/data/absent_values`,
/// output verbatim in `tests/data/arx_absent_values.tsv`): ten metrics at every node of the
/// 3 × 3 lattice, k = 2, limits 0 and 0.3. Data: `tests/data/absent_values` (the program's
/// header describes it). ARX's `DomainShareMaterialized` divides by the number of rows the
/// hierarchy file lists (age: 9, the row of 6 counted twice; zip: 6), and counts below each
/// label every row listed, present in the data or not. By hand, Loss of age at level 1 (node
/// [1,1], nothing suppressed): "1-4" covers 4 of 9 rows, "5-8" 5 of 9 (6 counted twice); the
/// data has 6 records in "1-4" and 4 in "5-8", so Σ = (6·4 + 4·5)/9 = 44/9; with
/// min = 10/9 and max = 10, (44/9 − 10/9)/(10 − 10/9) = 34/80 = 0.425, ARX's figure.
/// Dropping the repeated row instead would give 8 rows and (6·4 + 4·4)/8 = 5, (5 − 10/8)/
/// (10 − 10/8) = 0.428…, not ARX's.
///
/// At the top node with a suppression limit ARX's output handle flags every record an outlier
/// (the crate keeps them as one class); every metric's score is the same either way (one class
/// of 10: Loss 1 per attribute, DM 10·10 = 10², AECS 10/1), so the count is not compared there.
#[test]
fn absent_values_match_arx() {
    let folder = crate::root().join("tests/data/absent_values");
    let mut toml = format!(
        "[data]\npath = {:?}\ndelimiter = \";\"\n",
        folder.join("data.csv").display().to_string()
    );
    for column in ["age", "zip"] {
        toml.push_str(&format!(
            "[[attribute]]\nname = \"{column}\"\nrole = \"quasi-identifier\"\nhierarchy = {:?}\n",
            folder.join(format!("{column}.csv")).display().to_string()
        ));
    }
    let table = deidentify::Ruleset::from_toml(&toml, &folder, "absent.toml".as_ref())
        .and_then(|r| r.load())
        .unwrap();
    let figures = parse(include_str!("../data/arx_absent_values.tsv"));
    // 10 metrics × 2 limits × 9 nodes.
    assert_eq!(figures.len(), 180);
    let mut failures = Vec::new();
    for f in &figures {
        let (at, e) = evaluate_figure(&table, f);
        if e.feasible != f.anonymous {
            failures.push(format!(
                "{at}: feasible {} vs ARX {}",
                e.feasible, f.anonymous
            ));
            continue;
        }
        if !f.anonymous {
            continue;
        }
        let top = f.node == [2, 2];
        if !top && e.suppressed != f.suppressed {
            failures.push(format!(
                "{at}: suppressed {} vs ARX {}",
                e.suppressed, f.suppressed
            ));
        }
        compare_score(&at, &e.score.unwrap(), f, false, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// FARS (100,937 records, all 8 columns quasi-identifiers; ARX's benchmark data, not bundled:
/// give the folder of `fars_int.csv` and its hierarchies in `DEIDENTIFY_FARS`, skipped
/// otherwise): the optimum and its Loss at k = 5, 0 % and 2 %, equal ARX's.
///
/// Figures: ARX 3.9.2 run 2026-12-03 on this machine, twice: ARX's own optimal search with
/// `createLossMetric(AggregateFunction.ARITHMETIC_MEAN)` and k-anonymity, every column a
/// quasi-identifier (the ARX benchmark runner beside the project, cases `fars-k5-0` and
/// `fars-k5-2`: optima [4,2,3,0,1,2,2,2] with Loss 0.71347763415 and
/// [4,1,2,1,0,0,2,0] with 0.21270431009999996), and `DomainShareCheck --fars <folder>`
/// (tests/reference/arx/DomainShareCheck.java: the same scores at those nodes, 1614 records
/// suppressed at 2 %, and the per-attribute values below). The age hierarchy lists the row of
/// 99 twice and ARX counts it twice (100 rows); counting it once gave age 0.3869176429 and
/// Loss 0.7139011069500001 at 0 % (0.213123864625 at 2 %).
#[test]
fn fars_loss_matches_arx() {
    let Some(fars) = fars() else { return };
    /// Limit, ARX's optimum, its Loss, suppressed records, per-attribute values.
    type Case = (f64, [u32; 8], f64, u64, [f64; 8]);
    let cases: [Case; 2] = [
        (
            0.0,
            [4, 2, 3, 0, 1, 2, 2, 2],
            0.71347763415,
            0,
            [0.3835298605, 1.0, 1.0, 0.0, 1.0, 1.0, 0.3242912127, 1.0],
        ),
        (
            0.02,
            [4, 1, 2, 1, 0, 0, 2, 0],
            0.21270431009999996,
            1614,
            [
                0.3937632664,
                0.223055757,
                0.4525198886,
                0.2492433399,
                0.015990172,
                0.015990172,
                0.3350817129,
                0.015990172,
            ],
        ),
    ];
    for (limit, levels, score, suppressed, per_attribute) in cases {
        let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], limit)
            .with_metric(spec("loss-am"))
            .with_strategy(Strategy::Optimal);
        let node = Node::new(levels.to_vec());
        let e = evaluate_node(
            &fars.dataset,
            &fars.hierarchies,
            &config,
            &BTreeMap::new(),
            &node,
        )
        .unwrap();
        assert!(e.feasible, "{node} at {limit}");
        assert_eq!(e.suppressed, suppressed, "{node} at {limit}");
        let ours = e.score.unwrap();
        assert_eq!(ours.per_attribute, per_attribute, "{node} at {limit}");
        assert_eq!(ours.score, score, "{node} at {limit}");
        let found = deidentify::search(&fars.dataset, &fars.hierarchies, &config, &BTreeMap::new())
            .unwrap()
            .optimum
            .expect("an optimum");
        assert_eq!(found.node, node, "optimum at {limit}");
        assert_eq!(
            found.score.unwrap().score,
            score,
            "optimum's Loss at {limit}"
        );
    }
}

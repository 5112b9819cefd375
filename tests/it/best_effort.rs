//! The best-effort search on lattices beyond the optimal search's reach:
//! its budgets, its errors, its command line.

use std::collections::BTreeMap;

use deidentify::{
    AnonymizationConfig, Dataset, ErrorKind, Hierarchies, Ruleset,
    data::{AttributeRole, AttributeType, EncodedColumn},
    hierarchy::Hierarchy,
    model::ModelSpec,
    search,
    search::Strategy,
};

use crate::examples::cargo_example;

/// 3,000 rows of 24 quasi-identifiers of 200 values (skewed towards small
/// ones), each with a decimal hierarchy of height 3 (v, v / 10, v / 100,
/// `*`): a lattice of 4^24 ≈ 2.8 · 10^14 nodes.
fn wide() -> (Dataset, Hierarchies) {
    let (rows, width) = (3_000u64, 24);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut columns = Vec::new();
    let mut hierarchies = Vec::new();
    for j in 0..width {
        let name = format!("q{j}");
        let values: Vec<String> = (0..rows)
            .map(|_| {
                let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
                ((u * u * 200.0) as u32).to_string()
            })
            .collect();
        columns.push((
            EncodedColumn::from_values(&name, values.iter().map(String::as_str)),
            AttributeRole::QuasiIdentifier,
            AttributeType::Integer,
        ));
        let table = (0..200u32)
            .map(|v| {
                vec![
                    v.to_string(),
                    (v / 10).to_string(),
                    (v / 100).to_string(),
                    "*".into(),
                ]
            })
            .collect();
        hierarchies.push(Hierarchy::from_rows(&name, table).unwrap());
    }
    let dataset = Dataset::from_encoded(columns).unwrap();
    let compiled = Hierarchies::compile(&dataset, &hierarchies).unwrap();
    (dataset, compiled)
}

fn best_effort(time_limit_ms: Option<u64>, max_nodes: Option<u64>) -> AnonymizationConfig {
    AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02).with_strategy(
        Strategy::BestEffort {
            time_limit_ms,
            max_nodes,
        },
    )
}

/// Within a time limit on a lattice of 2.8 · 10^14 nodes: the search stops
/// within a tenth of the limit after it, with a feasible node (checked
/// again on its own), not proven optimal, with a lower bound at most its
/// score; and the optimal search refuses the lattice.
///
/// The search runs on a rayon pool of its own: on the global pool, shared
/// with the tests running beside it, a batch of its work can wait behind
/// theirs (a helper of another test's search holds a pool thread for the
/// whole of that search): on CI that once made it stop 154 ms late. On a
/// pool of its own it ends about 30 ms before the limit (debug build, with
/// two other busy threads on the machine's two cores).
#[test]
fn best_effort_honours_its_time_limit_on_a_large_lattice() {
    let (dataset, hierarchies) = wide();
    let orders = BTreeMap::new();
    let limit = 1_500;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let found = pool
        .install(|| {
            search(
                &dataset,
                &hierarchies,
                &best_effort(Some(limit), None),
                &orders,
            )
        })
        .unwrap();
    assert!(
        found.elapsed_ms <= 1.1 * limit as f64,
        "{} ms for a limit of {limit} ms",
        found.elapsed_ms
    );
    assert!(found.lattice_size > 1 << 40);
    assert!(!found.proven_optimal);
    let optimum = found.optimum.expect("the top node is 5-anonymous");
    let score = optimum.score.as_ref().expect("scored").score;
    let bound = found.lower_bound.expect("a bound from the failures found");
    assert!(bound <= score, "{bound} above {score}");
    assert!(optimum.feasible && optimum.suppressed <= found.max_suppressed);
    let again = deidentify::search::evaluate_node(
        &dataset,
        &hierarchies,
        &best_effort(Some(limit), None),
        &orders,
        &optimum.node,
    )
    .unwrap();
    assert!(again.feasible);
    assert_eq!(again.score, optimum.score);
    // Not the top: the search went down from it.
    assert!(
        optimum.node.levels().iter().any(|&l| l < 3),
        "{}",
        optimum.node
    );
    let optimal = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02);
    let refused = search(&dataset, &hierarchies, &optimal, &orders).unwrap_err();
    assert!(refused.to_string().contains("best-effort"), "{refused}");
}

/// A node budget is exact, and the same budget gives the same result:
/// one too small for subproblems (2^16 nodes each at most), and one
/// large enough for them.
#[test]
fn best_effort_node_budget_is_exact_and_deterministic() {
    let (dataset, hierarchies) = wide();
    let orders = BTreeMap::new();
    for budget in [300, 70_000] {
        let run = || {
            search(
                &dataset,
                &hierarchies,
                &best_effort(None, Some(budget)),
                &orders,
            )
            .unwrap()
        };
        let (a, b) = (run(), run());
        assert_eq!(a.nodes_checked, budget);
        assert_eq!(b.nodes_checked, budget);
        assert_eq!(a.optimum, b.optimum);
    }
}

/// Budgets of 0 nodes or 0 ms, a time limit for another strategy and a
/// negative time limit are errors naming the parameter.
#[test]
fn bad_best_effort_budgets_are_errors() {
    for (config, parameter) in [
        (best_effort(None, Some(0)), "max_nodes"),
        (best_effort(Some(0), None), "time_limit_ms"),
    ] {
        let err = config.check().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidParameter { name, .. } if name == parameter),
            "{err}"
        );
    }
    // adult9's ruleset (its [anonymization] table last) with more lines.
    let adult9 = std::fs::read_to_string(crate::root().join("datasets/adult/adult9.toml")).unwrap();
    let ruleset = |more: &str| {
        let text = format!("{}\n{more}\n", adult9.trim_end());
        let (base, path) = (
            crate::root().join("datasets/adult"),
            std::path::Path::new("x.toml"),
        );
        Ruleset::from_toml(&text, &base, path).and_then(|r| {
            r.anonymization
                .expect("an anonymization table")
                .config()
                .map(|_| ())
        })
    };
    let last = adult9.trim_end().lines().count();
    let fine = ruleset("strategy = \"best-effort\"\ntime_limit_ms = 5000\nmax_nodes = 100");
    assert!(fine.is_ok(), "{fine:?}");
    let other = ruleset("strategy = \"optimal\"\ntime_limit_ms = 5000").unwrap_err();
    assert!(
        other.to_string().contains("only to the best-effort"),
        "{other}"
    );
    let zero = ruleset("strategy = \"best-effort\"\nmax_nodes = 0").unwrap_err();
    assert!(zero.to_string().contains("max_nodes"), "{zero}");
    let negative = ruleset("strategy = \"best-effort\"\ntime_limit_ms = -5").unwrap_err();
    let line = format!("line {}", last + 2);
    assert!(negative.to_string().contains(&line), "{negative}");
}

/// `anonymize --strategy best-effort`: without a budget on adult9 it proves
/// ARX's optimum (the same node as the optimal search, its Loss the lower
/// bound); bad time limits are command-line errors (exit 2).
/// `anonymize` on adult9 with k = 5, the best-effort strategy and `more`.
fn anonymize_best_effort(more: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--config",
        "datasets/adult/adult9.toml",
        "--k",
        "5",
        "--strategy",
        "best-effort",
    ];
    args.extend(more);
    cargo_example("anonymize", &args)
}

#[test]
fn anonymize_runs_the_best_effort_search() {
    let out = anonymize_best_effort(&["--suppression", "0.02", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // (As `search::arx_case_5b_k5_2pct_loss`.)
    assert_eq!(json["node"], serde_json::json!([0, 3, 0, 2, 2, 1, 1, 2, 0]));
    assert_eq!(json["score"], 0.35748248986666664);
    assert_eq!(json["proven_optimal"], true);
    assert_eq!(json["lower_bound"], json["score"]);
    let timed = anonymize_best_effort(&["--time-limit", "2s", "--max-nodes", "40"]);
    assert!(
        timed.status.success(),
        "{}",
        String::from_utf8_lossy(&timed.stderr)
    );
    let text = String::from_utf8_lossy(&timed.stdout);
    assert!(text.contains("best-effort strategy: 40 of"), "{text}");
    for bad in ["-5s", "0s", "5", "5h"] {
        let out = anonymize_best_effort(&["--time-limit", bad]);
        assert_eq!(
            out.status.code(),
            Some(deidentify::exit::Exit::Usage.code().into()),
            "{bad}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--time-limit"), "{bad}: {stderr}");
    }
}

/// `generate_wide` writes Adult widened to 31 quasi-identifiers with a
/// hierarchy file per column and a ruleset, the same for the same seed;
/// the best-effort search runs on it within a node budget.
#[test]
fn generate_wide_writes_data_the_search_reads() {
    let dir = crate::scratch("wide", &[]);
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        let run = cargo_example("generate_wide", &["--output", out.to_str().unwrap()]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let data = std::fs::read_to_string(a.join("adult_wide.csv")).unwrap();
    assert_eq!(
        data,
        std::fs::read_to_string(b.join("adult_wide.csv")).unwrap()
    );
    let header: Vec<&str> = data.lines().next().unwrap().split(';').collect();
    assert_eq!(header.len(), 31);
    assert_eq!(data.lines().count(), 30_162 + 1);
    for column in &header {
        assert!(
            a.join(format!("adult_wide_hierarchy_{column}.csv"))
                .exists(),
            "{column}"
        );
    }
    let config = a.join("adult_wide.toml");
    let out = cargo_example(
        "anonymize",
        &[
            "--config",
            config.to_str().unwrap(),
            "--max-nodes",
            "30",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["nodes_checked"], 30);
    assert_eq!(json["strategy"], "best-effort");
    let _ = std::fs::remove_dir_all(dir);
}

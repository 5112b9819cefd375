//! The statistician-facing examples run on the bundled data.

use std::process::Command;

use crate::root;

/// Runs an example built by `cargo test` (which builds every example next
/// to the test binaries), falling back to `cargo run` when it is absent.
pub(crate) fn cargo_example(name: &str, args: &[&str]) -> std::process::Output {
    let built = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("examples").join(name)))
        .filter(|path| path.exists());
    let mut command = match built {
        Some(path) => Command::new(path),
        None => {
            let mut c = Command::new(env!("CARGO"));
            c.args(["run", "--quiet", "--example", name, "--"]);
            c
        }
    };
    command
        .current_dir(root())
        .args(args)
        .output()
        .expect("the example runs")
}

#[test]
fn measure_prints_json_on_adult() {
    let out = cargo_example(
        "measure",
        &[
            "--config",
            "datasets/adult/adult.toml",
            "--levels",
            "age=2,sex=1",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rows"], 30_162);
    assert_eq!(json["levels"]["age"], 2);
    assert_eq!(json["levels"]["sex"], 1);
    for key in ["classes", "k"] {
        assert!(json[key].is_u64(), "{key}");
    }
    let occupation = &json["sensitive"]["occupation"];
    for key in [
        "l_distinct",
        "l_entropy",
        "recursive_c_l",
        "t_equal",
        "t_hierarchical",
        "delta_disclosure",
        "beta_basic",
        "beta_enhanced",
    ] {
        assert!(occupation.get(key).is_some(), "{key} missing");
    }
}

#[test]
fn measure_rejects_an_unknown_attribute() {
    let out = cargo_example(
        "measure",
        &["--config", "datasets/adult/adult.toml", "--levels", "zip=1"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'zip' is not a quasi-identifier"));
}

#[test]
fn anonymize_prints_arxs_optimum_and_writes_the_output() {
    let output =
        std::env::temp_dir().join(format!("deidentify-anonymize-{}.csv", std::process::id()));
    let out = cargo_example(
        "anonymize",
        &[
            "--config",
            "datasets/adult/adult9.toml",
            "--k",
            "5",
            "--suppression",
            "0",
            "--metric",
            "loss",
            "--json",
            "--output",
            output.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // METHODS.md §11.7, case 5a.
    assert_eq!(json["node"], serde_json::json!([0, 4, 1, 1, 3, 2, 2, 1, 0]));
    assert_eq!(json["score"].as_f64(), Some(0.6355438466888889));
    assert_eq!(json["levels"]["age"], 4);
    for key in [
        "suppressed",
        "classes",
        "metric",
        "nodes_checked",
        "elapsed_ms",
    ] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
    let written = std::fs::read_to_string(&output).unwrap();
    let mut lines = written.lines();
    assert_eq!(
        lines.next(),
        Some(
            "sex;age;race;marital-status;education;native-country;workclass;occupation;salary-class"
        )
    );
    assert_eq!(lines.count(), 30_162);
    let _ = std::fs::remove_file(output);
}

#[test]
fn anonymize_handles_large_k_and_rejects_k_above_rows() {
    let out = cargo_example(
        "anonymize",
        &[
            "--config",
            "datasets/adult/adult9.toml",
            "--k",
            "30000",
            "--suppression",
            "0",
            "--json",
        ],
    );
    // k = 30,000 ≤ 30,162 rows: only the top node (one class) satisfies it.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["node"], serde_json::json!([1, 4, 1, 2, 3, 2, 2, 2, 1]));
    assert_eq!(json["classes"], 1);
    let out = cargo_example(
        "anonymize",
        &["--config", "datasets/adult/adult9.toml", "--k", "40000"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than the table"));
}

#[test]
fn anonymize_targets_average_risk_and_sample_uniques() {
    let out = cargo_example(
        "anonymize",
        &[
            "--config",
            "datasets/adult/adult9.toml",
            "--k",
            "1",
            "--average-risk",
            "0.05",
            "--sample-uniques",
            "0.01",
            "--suppression",
            "0.02",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The library's optimum for the same models (tests/it/release.rs checks
    // it against an exhaustive scan).
    let data = crate::load("datasets/adult/adult9.toml");
    let config = deidentify::AnonymizationConfig::new(
        vec![
            deidentify::ModelSpec::KAnonymity { k: 1 },
            deidentify::ModelSpec::AverageRisk {
                threshold: 0.05,
                highest_risk: None,
                records_at_risk: None,
            },
            deidentify::ModelSpec::SampleUniqueness { threshold: 0.01 },
        ],
        0.02,
    );
    let optimum = deidentify::search(
        &data.dataset,
        &data.hierarchies,
        &config,
        &std::collections::BTreeMap::new(),
    )
    .unwrap()
    .optimum
    .unwrap();
    assert_eq!(json["node"], serde_json::json!(optimum.node.levels()));
    assert_eq!(json["suppressed"], optimum.suppressed);
    assert!(optimum.suppressed > 0);
    let classes = json["classes"].as_u64().unwrap() as f64;
    assert!(classes / (30_162.0 - optimum.suppressed as f64) <= 0.05);
}

#[test]
fn risk_prints_json_on_adult() {
    let out = cargo_example(
        "risk",
        &[
            "--config",
            "datasets/adult/adult9.toml",
            "--population",
            "317200000",
            "--threshold",
            "0.2",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["classes"], 19_502);
    for model in ["prosecutor", "journalist"] {
        for key in ["records_at_risk", "highest_risk", "success_rate"] {
            assert!(json[model][key].is_f64(), "{model}.{key}");
        }
    }
    assert!(json["marketer"]["success_rate"].is_f64());
    assert!(json["sample_uniques"].is_f64());
    for estimator in ["zayatz", "pitman", "snb", "dankar"] {
        assert!(
            json["population_uniques"][estimator].is_f64(),
            "{estimator}"
        );
    }
    // f = 30,162 / 317,200,000 ≤ 0.1: the Dankar rule picks Pitman.
    assert_eq!(json["population_uniques"]["dankar_model"], "pitman");
    assert_eq!(
        json["population_uniques"]["dankar"],
        json["population_uniques"]["pitman"]
    );
    assert!(json["individual_risk"]["global_risk"].is_f64());
    assert!(json["individual_risk"]["expected_reidentifications"].is_f64());
    // SUDA with the default maximum size 3 over 9 variables.
    assert_eq!(json["suda"]["max_size"], 3);
    assert!(json["suda"]["special_uniques"].as_u64().unwrap() > 0);
    assert_eq!(
        json["suda"]["dis_distribution"].as_array().unwrap().len(),
        11
    );
}

fn phi_scratch(name: &str, toml: &str, key: &str) -> std::path::PathBuf {
    let data = std::fs::read_to_string(root().join("datasets/synthetic-phi/phi.csv")).unwrap();
    crate::scratch(
        name,
        &[("phi.csv", &data), ("phi.toml", toml), ("key.bin", key)],
    )
}

const TEST_KEY: &str = "a test key that is long enough: 40 bytes";

#[test]
fn safe_harbor_releases_clean_data_and_never_prints_the_key() {
    let toml = std::fs::read_to_string(root().join("datasets/synthetic-phi/phi.toml")).unwrap();
    let dir = phi_scratch("sh-clean", &toml, TEST_KEY);
    let output = dir.join("out.csv");
    let out = cargo_example(
        "safe_harbor",
        &[
            "--config",
            dir.join("phi.toml").to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--key-file",
            dir.join("key.bin").to_str().unwrap(),
            "--reference-date",
            "2026-11-28",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(TEST_KEY) && !stdout.contains("long enough"));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["clean"], true);
    assert_eq!(json["rows"], 2000);
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        written.lines().next(),
        Some("mrn,zip,birth_date,admission_date,age,sex,diagnosis")
    );
    assert!(!written.contains(TEST_KEY));
    // No 5-digit ZIP, no restricted prefix, no date finer than a year, no age over 89.
    let restricted = deidentify::RestrictedZipPrefixes::hhs_2000();
    for line in written.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0].len(), 32);
        assert!(
            cells[1].len() == 3 && (cells[1] == "000" || !restricted.prefixes().contains(cells[1]))
        );
        assert!(
            cells[2].len() == 4 || cells[2].starts_with("<="),
            "{}",
            cells[2]
        );
        assert_eq!(cells[3], "2026");
        assert!(cells[4] == "90+" || cells[4].parse::<u32>().unwrap() <= 89);
    }
}

#[test]
fn safe_harbor_fails_the_release_when_identifiers_remain_and_on_bad_input() {
    let toml = std::fs::read_to_string(root().join("datasets/synthetic-phi/phi.toml")).unwrap();
    // E-mail declared insensitive: the scan finds every address, the run
    // exits 4 (residual identifiers) and writes nothing.
    let leaky = toml.replace(
        "name = \"email\"\nrole = \"identifier\"\nidentifier = \"email\"",
        "name = \"email\"\nrole = \"insensitive\"",
    );
    assert_ne!(leaky, toml);
    let dir = phi_scratch("sh-leaky", &leaky, TEST_KEY);
    let args = |dir: &std::path::Path| {
        vec![
            "--config".to_string(),
            dir.join("phi.toml").display().to_string(),
            "--output".to_string(),
            dir.join("out.csv").display().to_string(),
            "--key-file".to_string(),
            dir.join("key.bin").display().to_string(),
            "--reference-date".to_string(),
            "2026-11-28".to_string(),
            "--json".to_string(),
        ]
    };
    let run = |dir: &std::path::Path| {
        let a = args(dir);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        cargo_example("safe_harbor", &refs)
    };
    let out = run(&dir);
    assert_eq!(out.status.code(), Some(4));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["scan"]["counts"]["email"]["email"], 2000);
    assert_eq!(json["output"], serde_json::Value::Null);
    assert!(!dir.join("out.csv").exists());
    // A short key is refused, without echoing it.
    let dir = phi_scratch("sh-short-key", &toml, "short key");
    let out = run(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("at least 32") && !stderr.contains("short key"),
        "{stderr}"
    );
    // A ZIP column holding something else: the error names column and row.
    let data = std::fs::read_to_string(root().join("datasets/synthetic-phi/phi.csv")).unwrap();
    let mut lines: Vec<String> = data.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[5].split(',').map(str::to_owned).collect();
    cells[3] = "Boston".into();
    lines[5] = cells.join(",");
    let dir = crate::scratch(
        "sh-bad-zip",
        &[
            ("phi.csv", &(lines.join("\n") + "\n")),
            ("phi.toml", &toml),
            ("key.bin", TEST_KEY),
        ],
    );
    let out = run(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("column 'zip', row 5: a value shaped 'Aaaaaa' (6 characters)")
            && !stderr.contains("Boston"),
        "{stderr}"
    );
}

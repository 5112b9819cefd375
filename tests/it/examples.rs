//! The statistician-facing examples run on the bundled data.

use std::process::Command;

use crate::root;

/// Runs an example built by `cargo test` (which builds every example next
/// to the test binaries), falling back to `cargo run` when it is absent.
fn cargo_example(name: &str, args: &[&str]) -> std::process::Output {
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

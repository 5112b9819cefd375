//! The statistician-facing examples run on the bundled data.

use std::path::Path;
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

/// Runs `verify_report` or `sign_report` with path arguments.
fn run_paths(name: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    cargo_example(name, &refs)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sign_report_then_verify_report_exit_with_each_outcome() {
    use crate::signature::Fixture;
    use deidentify::Exit;
    let fixture = Fixture::releasable("cli-sign");
    let report = &fixture.report;
    let (key, public) = (
        fixture.dir.join("expert.key"),
        fixture.dir.join("expert.pub"),
    );

    // Key generation: owner-only, never printed, never overwritten.
    let generated = run_paths("sign_report", &[&"--generate-key", &key]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let pem = std::fs::read_to_string(&key).unwrap();
    let body = pem.lines().nth(1).unwrap();
    assert!(!stdout(&generated).contains(body) && !stderr(&generated).contains(body));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = run_paths("sign_report", &[&"--generate-key", &key]);
    assert_eq!(again.status.code(), Some(Exit::Error.code().into()));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), pem);

    // Unsigned: 6 with --public-key; the verdict is still stated.
    let verify = |public: &Path| {
        run_paths(
            "verify_report",
            &[&"--report", report, &"--public-key", &public],
        )
    };
    let unsigned = verify(&public);
    assert_eq!(unsigned.status.code(), Some(Exit::Unsigned.code().into()));
    assert!(stdout(&unsigned).contains("UNSIGNED: no signature file at"));

    // Signed and verified: 0.
    let signed = run_paths("sign_report", &[&"--report", report, &"--key", &key]);
    assert!(signed.status.success(), "{}", stderr(&signed));
    assert!(!stdout(&signed).contains(body));
    let valid = verify(&public);
    assert!(valid.status.success(), "{}", stdout(&valid));
    assert!(stdout(&valid).contains("signature: valid"));
    assert!(stdout(&valid).contains("verdict: releasable"));

    // Another key's public key: 5, the signature does not verify with it.
    let other = fixture.dir.join("other.key");
    let other_public = fixture.dir.join("other.pub");
    assert!(
        run_paths("sign_report", &[&"--generate-key", &other])
            .status
            .success()
    );
    let wrong = verify(&other_public);
    assert_eq!(wrong.status.code(), Some(Exit::NotIntact.code().into()));
    assert!(
        stdout(&wrong).contains(&format!(
            "the signature does not verify with the public key {}",
            other_public.display()
        )),
        "{}",
        stdout(&wrong)
    );

    // One byte of a field edited after signing: 5, the content change named.
    let text = std::fs::read_to_string(report).unwrap();
    let edited = text.replacen("\"output_rows\": 40", "\"output_rows\": 41", 1);
    assert_ne!(edited, text);
    std::fs::write(report, edited).unwrap();
    let altered = verify(&public);
    assert_eq!(altered.status.code(), Some(Exit::NotIntact.code().into()));
    assert!(
        stdout(&altered).contains("the report's content was changed after signing"),
        "{}",
        stdout(&altered)
    );
    assert!(stdout(&altered).starts_with("NOT INTACT"));
    // A report that is not intact is not signed.
    let refused = run_paths("sign_report", &[&"--report", report, &"--key", &key]);
    assert_eq!(refused.status.code(), Some(Exit::NotIntact.code().into()));
}

#[test]
fn verify_report_states_a_failing_verdict_and_exits_3() {
    let fixture = crate::signature::Fixture::not_releasable("cli-verdict");
    let out = run_paths("verify_report", &[&"--report", &fixture.report]);
    assert_eq!(
        out.status.code(),
        Some(deidentify::Exit::NotReleasable.code().into())
    );
    let text = stdout(&out);
    assert!(text.starts_with("intact"), "{text}");
    assert!(text.contains("verdict: NOT RELEASABLE"), "{text}");
    assert!(text.contains("  - prosecutor_average is"), "{text}");
}

#[test]
fn verify_report_names_the_file_and_the_problem() {
    let dir = crate::scratch(
        "cli-bad-reports",
        &[("notes.txt", "report: yes\n"), ("other.json", "[1, 2]")],
    );
    let error = |path: &Path| {
        let out = run_paths("verify_report", &[&"--report", &path]);
        assert_eq!(
            out.status.code(),
            Some(deidentify::Exit::Error.code().into())
        );
        stderr(&out)
    };
    let missing = error(&dir.join("absent.json"));
    let not_json = error(&dir.join("notes.txt"));
    let not_report = error(&dir.join("other.json"));
    for (message, file, kind) in [
        (&missing, "absent.json", "No such file or directory"),
        (
            &not_json,
            "notes.txt",
            "not JSON: expected value at line 1 column 1",
        ),
        (
            &not_report,
            "other.json",
            "JSON but not a deidentify report",
        ),
    ] {
        assert!(
            message.contains(&dir.join(file).display().to_string()) && message.contains(kind),
            "{message}"
        );
    }
    // An endless input stops at the limit, quickly.
    let started = std::time::Instant::now();
    let zero = error(Path::new("/dev/zero"));
    assert!(zero.contains("larger than the limit of 64 MiB"), "{zero}");
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn verify_report_help_lists_the_exit_statuses() {
    let out = cargo_example("verify_report", &["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for exit in [
        deidentify::Exit::Success,
        deidentify::Exit::Error,
        deidentify::Exit::Usage,
        deidentify::Exit::NotReleasable,
        deidentify::Exit::NotIntact,
        deidentify::Exit::Unsigned,
    ] {
        assert!(help.contains(&format!("\n  {}  ", exit.code())), "{help}");
    }
    assert!(help.contains("--public-key"));
}

//! The Expert Determination run and its report: JSON round trip, the audit
//! chain, the renderings, verdicts, and verification.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use deidentify::{
    Report, Ruleset, RunOptions,
    pipeline::RunOutcome,
    report::{SECTIONS, render_html, render_markdown, sha256_file},
    run_expert_determination,
    safe_harbor::TokenKey,
    verify_report,
};

use crate::root;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deidentify-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Asserts that `json` verifies (with `data`, when given).
fn assert_intact(json: &str, data: Option<&Path>) {
    let verification = verify_report(json, data).unwrap();
    assert!(verification.intact, "{:?}", verification.problems);
}

/// Runs `ruleset` with its output in `dir/out`.
fn run_in(ruleset: &Ruleset, dir: &Path) -> deidentify::Result<RunOutcome> {
    run_expert_determination(
        ruleset,
        &RunOptions::new(dir.join("out")),
        &mut |_: &str| {},
    )
}

/// The bundled adult run, shared by the tests (about 2 s in debug).
fn adult_run() -> &'static (RunOutcome, PathBuf) {
    static RUN: OnceLock<(RunOutcome, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = temp_dir("adult");
        let ruleset = Ruleset::from_file(&root().join("datasets/adult/adult.toml")).unwrap();
        let mut steps = Vec::new();
        let outcome = run_expert_determination(
            &ruleset,
            &RunOptions::new(out.clone()),
            &mut |step: &str| steps.push(step.to_owned()),
        )
        .unwrap();
        assert_eq!(steps.first().map(String::as_str), Some("load"));
        assert_eq!(steps.last().map(String::as_str), Some("report"));
        (outcome, out)
    })
}

#[test]
fn the_adult_run_meets_its_thresholds_and_verifies() {
    let (outcome, out) = adult_run();
    let report = &outcome.report;
    assert!(report.summary.passes, "{:?}", report.summary.failures);
    // ARX 3.9.2's optimum for k = 5 + distinct 2-diversity of occupation with
    // 2 % suppression under Loss (arithmetic mean): node [0,3,0,2,2,1,1,0],
    // 506 records suppressed, score 0.27716780110000006 (the adult8-k5-l2
    // case of tests/it/search.rs, run beside ARX with its peer harness).
    assert!(report.results.found);
    let levels: Vec<u32> = report.results.levels.iter().map(|l| l.level).collect();
    assert_eq!(levels, [0, 3, 0, 2, 2, 1, 1, 0]);
    assert_eq!(report.results.suppressed_records, 506);
    assert_eq!(report.results.score, Some(0.27716780110000006));
    let profile = report.results.privacy.as_ref().unwrap();
    assert!(profile.k >= 5);
    assert!(profile.sensitive["occupation"].l_distinct >= 2);
    // The released file itself, read back and checked row by row against
    // the input (from the files, not the crate): every quasi-identifier the
    // hierarchy's label at the optimum or `*` in the 506 suppressed rows,
    // occupation and the rest unchanged, classes of at least 5 rows with at
    // least 2 occupations each.
    let released = std::fs::read_to_string(outcome.data.as_ref().unwrap()).unwrap();
    let named: std::collections::BTreeMap<String, u32> = report
        .results
        .levels
        .iter()
        .map(|l| (l.attribute.clone(), l.level))
        .collect();
    assert_eq!(
        crate::examples::assert_release_generalizes_adult(&released, ',', &named, 5, 603),
        506
    );
    let mut occupations: std::collections::HashMap<Vec<&str>, std::collections::BTreeSet<&str>> =
        Default::default();
    for line in released.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[0] == "*" {
            continue;
        }
        let mut tuple = cells.clone();
        let occupation = tuple.remove(7);
        occupations.entry(tuple).or_default().insert(occupation);
    }
    assert_eq!(occupations.len() as u64, report.results.classes);
    assert!(occupations.values().all(|o| o.len() >= 2));
    assert!(report.results.suppressed_records <= report.methods.max_suppressed);
    assert_eq!(report.methods.max_suppressed, 603); // ⌊0.02 × 30162⌋
    let after = report.risk.after.as_ref().unwrap();
    assert!(after.prosecutor.highest_risk <= 0.2);
    assert_eq!(
        after.records + report.results.suppressed_records,
        report.data.input_rows
    );
    assert_eq!(report.risk.before.records, 30_162);
    // The fingerprints are those of the files.
    let data = outcome.data.as_ref().unwrap();
    assert_eq!(
        report.data.output_sha256.as_deref(),
        Some(sha256_file(data).unwrap().as_str())
    );
    assert_eq!(
        report.data.input_sha256,
        sha256_file(&root().join("datasets/adult/adult.csv")).unwrap()
    );
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let verification = verify_report(&text, Some(data)).unwrap();
    assert!(verification.intact, "{:?}", verification.problems);
    assert!(verification.data_checked);
    // The HHS principles: the expert's ratings beside the data's figures.
    let age = report
        .context
        .principles
        .iter()
        .find(|p| p.attribute == "age")
        .unwrap();
    assert_eq!(age.distinct_values, 72);
    assert_eq!(age.overall, Some(deidentify::report::Rating::Medium));
    let steps: Vec<&str> = report.audit.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "load",
            "risk-before",
            "search",
            "apply",
            "risk-after",
            "scan",
            "write"
        ]
    );
}

#[test]
fn the_json_round_trips() {
    let (outcome, out) = adult_run();
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let parsed: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, outcome.report);
    assert_eq!(parsed.schema_version, deidentify::report::SCHEMA_VERSION);
    assert_eq!(parsed.to_json(), text);
}

fn tampered(edit: impl FnOnce(&mut serde_json::Value)) -> deidentify::report::Verification {
    let (_, out) = adult_run();
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut value);
    verify_report(&value.to_string(), None).unwrap()
}

#[test]
fn the_chain_detects_changed_removed_and_reordered_entries() {
    assert!(tampered(|_| {}).intact);
    let changed = tampered(|v| v["audit"][2]["counts"]["nodes_checked"] = 1.into());
    assert!(!changed.intact);
    assert!(
        changed
            .problems
            .iter()
            .any(|p| p.contains("entry 2 ('search') was changed")),
        "{:?}",
        changed.problems
    );
    let removed = tampered(|v| {
        v["audit"].as_array_mut().unwrap().remove(3);
    });
    assert!(!removed.intact);
    let reordered = tampered(|v| v["audit"].as_array_mut().unwrap().swap(1, 2));
    assert!(!reordered.intact);
    let truncated = tampered(|v| {
        v["audit"].as_array_mut().unwrap().pop();
    });
    assert!(
        truncated
            .problems
            .iter()
            .any(|p| p.contains("does not end with the 'write' step"))
    );
    // An edit outside the chain breaks the signed digest.
    let verdict = tampered(|v| v["summary"]["passes"] = false.into());
    assert!(
        verdict
            .problems
            .iter()
            .any(|p| p.contains("changed after sealing"))
    );
    // Re-sealing after an edit does not help: the chain still fails.
    let resealed = tampered(|v| {
        v["audit"][1]["description"] = "edited".into();
        let digest = Report::content_digest(v);
        v["sign_off"]["content_sha256"] = digest.into();
    });
    assert!(!resealed.intact);
    assert!(
        resealed
            .problems
            .iter()
            .all(|p| !p.contains("after sealing"))
    );
}

#[test]
fn a_changed_output_file_is_detected() {
    let (outcome, out) = adult_run();
    let data = outcome.data.as_ref().unwrap();
    let copy = out.join("copy.csv");
    let mut bytes = std::fs::read(data).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'a' { b'b' } else { b'a' };
    std::fs::write(&copy, &bytes).unwrap();
    let text = std::fs::read_to_string(out.join("report.json")).unwrap();
    let verification = verify_report(&text, Some(&copy)).unwrap();
    assert!(!verification.intact);
    assert!(verification.problems[0].contains("hashes to"));
}

#[test]
fn html_and_markdown_have_every_section_and_no_external_reference() {
    let (outcome, out) = adult_run();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(html, render_html(&outcome.report));
    assert_eq!(markdown, render_markdown(&outcome.report));
    for (id, title) in SECTIONS {
        assert!(
            html.contains(&format!("<section id=\"{id}\"><h2>{title}</h2>")),
            "{id}"
        );
        assert!(markdown.contains(&format!("## {title}\n")), "{title}");
    }
    let lower = html.to_lowercase();
    for forbidden in [
        "http", "<script", "<link", "@import", "url(", "<iframe", "<img",
    ] {
        assert!(!lower.contains(forbidden), "the HTML contains {forbidden}");
    }
    // Three charts: class sizes, individual risk, levels per attribute.
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains(&outcome.report.sign_off.content_sha256));
    assert!(markdown.contains("| class size | records before | records after |"));
}

/// A ruleset in a temporary folder: the adult one with a threshold that
/// cannot be met, or the synthetic PHI with Safe Harbor steps.
fn write_ruleset(dir: &Path, text: &str) -> Ruleset {
    let path = dir.join("ruleset.toml");
    std::fs::write(&path, text).unwrap();
    Ruleset::from_file(&path).unwrap()
}

fn adult_ruleset_with(expert_determination: &str) -> String {
    let original = std::fs::read_to_string(root().join("datasets/adult/adult.toml")).unwrap();
    let adult = root().join("datasets/adult");
    let head = original
        .split("[expert_determination]")
        .next()
        .unwrap()
        .replace(
            "path = \"adult.csv\"",
            &format!("path = {:?}", adult.join("adult.csv")),
        )
        .replace(
            "\"hierarchies/",
            &format!("\"{}/hierarchies/", adult.display()),
        );
    format!("{head}\n[expert_determination]\n{expert_determination}\n")
}

#[test]
fn an_unmeetable_threshold_fails_the_verdict() {
    let dir = temp_dir("unmeetable");
    let ruleset = write_ruleset(
        &dir,
        &adult_ruleset_with(
            "thresholds = { prosecutor_average = 0.001 }\noutput = \"out.parquet\"",
        ),
    );
    let outcome = run_in(&ruleset, &dir).unwrap();
    let report = &outcome.report;
    assert!(!report.summary.passes);
    assert!(report.summary.failures[0].starts_with("prosecutor_average is"));
    let check = report
        .risk
        .checks
        .iter()
        .find(|c| c.measure == "prosecutor_average")
        .unwrap();
    assert_eq!(check.passes, Some(false));
    assert!(render_html(report).contains("DOES NOT MEET THE THRESHOLDS"));
    // Fail closed: nothing under the release's name, and the report says so.
    assert!(outcome.data.is_none());
    assert!(!dir.join("out/out.parquet").exists());
    assert_eq!(report.data.output_sha256, None);
    assert_eq!(report.data.output_format, "parquet");
    let text = std::fs::read_to_string(&outcome.json).unwrap();
    assert_intact(&text, None);

    // Asked for, the data is quarantined under a name that says so, and
    // the report (still not releasable) fingerprints that file.
    let quarantined = run_expert_determination(
        &ruleset,
        &RunOptions::new(dir.join("out")).with_quarantine(true),
        &mut |_: &str| {},
    )
    .unwrap();
    assert!(!quarantined.report.summary.passes);
    let data = quarantined.data.as_deref().unwrap();
    assert_eq!(data, dir.join("out/out.NOT-RELEASABLE.parquet"));
    assert!(!dir.join("out/out.parquet").exists());
    assert_eq!(
        quarantined.report.data.output_file.as_deref(),
        Some("out.NOT-RELEASABLE.parquet")
    );
    let text = std::fs::read_to_string(&quarantined.json).unwrap();
    assert_intact(&text, Some(data));
}

#[test]
fn no_output_of_a_run_may_land_on_its_input() {
    let dir = temp_dir("onto-input");
    let data = dir.join("data.csv");
    std::fs::copy(root().join("datasets/adult/adult.csv"), &data).unwrap();
    let before = sha256_file(&data).unwrap();
    let text = adult_ruleset_with("output = \"data.csv\"").replace(
        &format!("path = {:?}", root().join("datasets/adult/adult.csv")),
        "path = \"data.csv\"",
    );
    let ruleset = write_ruleset(&dir, &text);
    let run = |out_dir: PathBuf| {
        run_expert_determination(&ruleset, &RunOptions::new(out_dir), &mut |_: &str| {})
    };
    // The release name on the data.
    let message = run(dir.clone()).unwrap_err().to_string();
    assert!(message.contains("would destroy the input"), "{message}");
    assert_eq!(sha256_file(&data).unwrap(), before);
    // A report name on the ruleset: a ruleset named report.json.
    let renamed = dir.join("report.json");
    std::fs::copy(dir.join("ruleset.toml"), &renamed).unwrap();
    let ruleset = Ruleset::from_file(&renamed).unwrap();
    let message =
        run_expert_determination(&ruleset, &RunOptions::new(dir.join(".")), &mut |_: &str| {})
            .unwrap_err()
            .to_string();
    assert!(message.contains("would destroy the input"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&renamed).unwrap(),
        std::fs::read_to_string(dir.join("ruleset.toml")).unwrap()
    );
    // Elsewhere it runs.
    run(dir.join("out")).unwrap();
    assert_eq!(sha256_file(&data).unwrap(), before);
}

#[test]
fn no_feasible_transformation_is_a_failed_verdict_without_data() {
    let dir = temp_dir("infeasible");
    let text = adult_ruleset_with("").replace(
        "{ type = \"k-anonymity\", k = 5 }",
        "{ type = \"k-anonymity\", k = 40000 }",
    );
    let ruleset = write_ruleset(&dir, &text);
    let outcome = run_in(&ruleset, &dir);
    // k larger than the table is rejected before the search, naming k.
    let message = outcome.unwrap_err().to_string();
    assert!(message.contains('k'), "{message}");

    let text = adult_ruleset_with("").replace(
        "{ type = \"distinct-l-diversity\", attribute = \"occupation\", l = 2 }",
        "{ type = \"distinct-l-diversity\", attribute = \"occupation\", l = 15 }",
    );
    let ruleset = write_ruleset(&dir, &text);
    let outcome = run_in(&ruleset, &dir).unwrap();
    assert!(!outcome.report.summary.passes);
    assert!(!outcome.report.results.found);
    assert!(outcome.data.is_none());
    let json = std::fs::read_to_string(&outcome.json).unwrap();
    assert_intact(&json, None);
}

#[test]
fn bad_settings_are_rejected_with_the_setting_named() {
    let dir = temp_dir("bad-settings");
    for (settings, expected) in [
        ("threshold = 1.5", "threshold"),
        (
            "thresholds = { prosecutr_highest = 0.2 }",
            "thresholds.prosecutr_highest",
        ),
        ("thresholds = { marketer = -0.1 }", "thresholds.marketer"),
        ("threshold = 0.2\nk = 5", "threshold"),
        ("population = 1000\nsampling_fraction = 0.5", "population"),
        ("sampling_fraction = 0", "sampling_fraction"),
        ("output = \"out.xlsx\"", "output"),
        ("output = \"../escape.csv\"", "output"),
        ("threat_model = { attackers = [\"hacker\"] }", "attackers"),
        (
            "threat_model = { attempt_probability = 2.0 }",
            "attempt_probability",
        ),
        (
            "principles.occupation = { replicability = \"high\", availability = \"low\", distinguishability = \"low\" }",
            "principles.occupation",
        ),
    ] {
        let ruleset = write_ruleset(&dir, &adult_ruleset_with(settings));
        let error = run_in(&ruleset, &dir).unwrap_err().to_string();
        assert!(error.contains(expected), "{settings}: {error}");
    }
    // An unknown key is a ruleset error naming it.
    let path = dir.join("ruleset.toml");
    std::fs::write(&path, adult_ruleset_with("recipent = [\"x\"]")).unwrap();
    let error = Ruleset::from_file(&path).unwrap_err().to_string();
    assert!(error.contains("recipent"), "{error}");
}

#[test]
fn safe_harbor_steps_enter_the_trail_without_the_key() {
    let dir = temp_dir("phi");
    let phi = root().join("datasets/synthetic-phi");
    let original = std::fs::read_to_string(phi.join("phi.toml")).unwrap();
    let text = format!(
        "{}\n[anonymization]\nsuppression_limit = 0.1\nmodels = [{{ type = \"k-anonymity\", k = 5 }}]\n\n[expert_determination]\nrelease_type = \"public\"\noutput = \"phi.csv\"\n",
        original
            .replace(
                "path = \"phi.csv\"",
                &format!("path = {:?}", phi.join("phi.csv"))
            )
            .replace(
                "identifier = \"zip\"",
                "identifier = \"zip\"\nhierarchy = { type = \"redaction\" }"
            )
            .replace(
                "identifier = \"birth-date\"",
                "identifier = \"birth-date\"\nhierarchy = { type = \"redaction\" }"
            )
            .replace(
                "identifier = \"date\"",
                "identifier = \"date\"\nhierarchy = { type = \"redaction\" }"
            )
            .replace(
                "identifier = \"age\"",
                "identifier = \"age\"\nhierarchy = { type = \"redaction\" }"
            )
    );
    let ruleset = write_ruleset(&dir, &text);
    let key_bytes: Vec<u8> = (0u8..32)
        .map(|b| b.wrapping_mul(37).wrapping_add(11))
        .collect();
    let key = TokenKey::from_bytes(key_bytes.clone()).unwrap();
    let fingerprint = key.fingerprint();
    let outcome = run_expert_determination(
        &ruleset,
        &RunOptions::new(dir.join("out"))
            .with_key(key)
            .with_reference_date(
                deidentify::data::Date::parse("2026-11-28").expect("reference_date"),
            )
            .with_quarantine(false),
        &mut |_: &str| {},
    )
    .unwrap();
    let report = &outcome.report;
    let steps: Vec<&str> = report.audit.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(steps[1], "safe-harbor");
    let actions = &report.methods.safe_harbor;
    let action = |column: &str| actions.iter().find(|a| a.column == column).unwrap();
    assert_eq!(action("name").action, "removed");
    assert_eq!(action("ssn").action, "removed");
    assert_eq!(action("mrn").action, "tokenized");
    assert_eq!(action("zip").action, "generalized");
    let zip = report
        .data
        .columns
        .iter()
        .find(|c| c.name == "zip")
        .unwrap();
    assert!(
        zip.treatment.starts_with("Safe Harbor: ZIP to 3 digits"),
        "{}",
        zip.treatment
    );
    assert!(
        zip.treatment.contains("then generalized to level"),
        "{}",
        zip.treatment
    );
    // Removed columns are not released; tokens are, and are not scanned.
    assert!(report.summary.passes, "{:?}", report.summary.failures);
    let data = std::fs::read_to_string(outcome.data.as_ref().unwrap()).unwrap();
    let header = data.lines().next().unwrap();
    assert!(!header.contains("name") && !header.contains("ssn") && header.contains("mrn"));
    assert_eq!(report.scan.skipped, ["mrn"]);
    // The input scan shows what the declarations had to remove.
    let detected = |column: &str, detector: deidentify::safe_harbor::Detector| {
        report
            .data
            .input_scan
            .get(column)
            .and_then(|d| d.get(&detector))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(
        detected("ssn", deidentify::safe_harbor::Detector::Ssn),
        2000
    );
    assert!(detected("email", deidentify::safe_harbor::Detector::Email) > 0);
    assert!(detected("name", deidentify::safe_harbor::Detector::PersonalName) > 0);
    assert!(report.scan.clean, "{:?}", report.scan.counts);
    // The key never appears; its fingerprint does.
    let json = std::fs::read_to_string(&outcome.json).unwrap();
    let html = std::fs::read_to_string(&outcome.html).unwrap();
    let hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    for text in [&json, &html] {
        assert!(!text.contains(&hex));
        assert!(text.contains(&fingerprint));
    }
    assert_intact(&json, outcome.data.as_deref());
}

#[test]
fn the_examples_exit_with_the_verdict() {
    let dir = temp_dir("examples");
    let out = dir.join("out");
    let run = |name: &str, args: &[&str]| crate::examples::cargo_example(name, args);
    let ok = run("expert_determination", &["--out", out.to_str().unwrap()]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report = out.join("report.json");
    let data = out.join("adult-deidentified.csv");
    let verified = run(
        "verify_report",
        &[
            "--report",
            report.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert!(verified.status.success());
    assert!(String::from_utf8_lossy(&verified.stdout).starts_with("intact"));
    std::fs::write(&data, "sex,age\n*,*\n").unwrap();
    let broken = run(
        "verify_report",
        &[
            "--report",
            report.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(
        broken.status.code(),
        Some(deidentify::exit::Exit::NotIntact.code().into())
    );

    let ruleset = dir.join("unmeetable.toml");
    std::fs::write(
        &ruleset,
        adult_ruleset_with("thresholds = { prosecutor_average = 0.001 }"),
    )
    .unwrap();
    let failed_out = dir.join("failed");
    let failed = run(
        "expert_determination",
        &[
            "--config",
            ruleset.to_str().unwrap(),
            "--out",
            failed_out.to_str().unwrap(),
        ],
    );
    assert_eq!(failed.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(stdout.contains("NOT RELEASABLE"), "{stdout}");
    assert!(stdout.contains("data:   none written"), "{stdout}");
    assert!(failed_out.join("report.json").exists());
    assert!(!failed_out.join("adult-deidentified.csv").exists());
}

#[test]
fn configured_transformations_are_applied_recorded_and_replayable() {
    let dir = temp_dir("transform");
    let text = adult_ruleset_with("seed = 7").replace(
        "[anonymization]",
        "[[transform]]\ntype = \"top-bottom-coding\"\ncolumn = \"age\"\ntop = 80\n\n[anonymization]",
    );
    // Top-coded ages are read as decimals: an interval hierarchy covers them.
    let text = text.replacen(
        &format!(
            "type = \"integer\"\nhierarchy = \"{}/hierarchies/age.csv\"",
            root().join("datasets/adult").display()
        ),
        "type = \"decimal\"\nhierarchy = { type = \"interval\", levels = [{ width = 10 }, { width = 20 }, { width = 40 }] }",
        1,
    );
    assert!(text.contains("width = 40"));
    let ruleset = write_ruleset(&dir, &text);
    let run = || run_in(&ruleset, &dir).unwrap();
    let first = run();
    let report = &first.report;
    let steps: Vec<&str> = report.audit.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(&steps[..2], ["load", "transform"]);
    let record: deidentify::transform::TransformRecord =
        serde_json::from_value(report.methods.transformations[0].clone()).unwrap();
    assert_eq!(record.kind, "top-bottom-coding");
    // Every age above 80 in the input is top-coded, and nothing else changes.
    let input = ruleset.read_data().unwrap();
    let ages = |frame: &polars::prelude::DataFrame| -> Vec<f64> {
        let column = frame
            .column("age")
            .unwrap()
            .cast(&polars::prelude::DataType::Float64)
            .unwrap();
        column.f64().unwrap().into_no_null_iter().collect()
    };
    let before = ages(&input);
    let above = before.iter().filter(|&&a| a > 80.0).count() as u64;
    assert!(above > 0);
    assert_eq!(record.rows_affected, above);
    assert_eq!(report.audit[1].counts["cells_changed"], above);
    // Replaying the recorded transformation on the input gives the same ages.
    let (replayed, _) = deidentify::transform::replay_transforms(input, &[record]).unwrap();
    let after = ages(&replayed);
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(*b, a.min(80.0));
    }
    // The same seed and data give the same methods and released file.
    let second = run();
    assert_eq!(
        second.report.methods.transformations,
        report.methods.transformations
    );
    assert_eq!(second.report.data.output_sha256, report.data.output_sha256);
    assert!(render_html(report).contains("top-bottom-coding"));
    let json = std::fs::read_to_string(&first.json).unwrap();
    assert_intact(&json, None);
}

/// An Expert Determination whose search targets the risk thresholds
/// directly (average risk, sample and population uniqueness as models)
/// meets them; a sampling fraction fixes one population for before and
/// after.
#[test]
fn risk_models_meet_the_report_thresholds() {
    let dir = temp_dir("risk-models");
    let text = adult_ruleset_with(
        "sampling_fraction = 0.01\nthresholds = { prosecutor_highest = 1.0, prosecutor_average = 0.05, sample_uniques = 0.01, population_uniques = 0.001 }",
    )
    .replace(
        "    { type = \"k-anonymity\", k = 5 },\n    { type = \"distinct-l-diversity\", attribute = \"occupation\", l = 2 },\n",
        "    { type = \"k-map\", k = 5, population = 3016200, significance = 0.05 },\n    { type = \"average-risk\", threshold = 0.05 },\n    { type = \"sample-uniqueness\", threshold = 0.01 },\n    { type = \"population-uniqueness\", threshold = 0.001, sampling_fraction = 0.01 },\n",
    );
    assert!(text.contains("average-risk"));
    let outcome = run_in(&write_ruleset(&dir, &text), &dir).unwrap();
    let report = &outcome.report;
    assert!(report.summary.passes, "{:?}", report.summary.failures);
    let before = report.risk.before.population_uniques.as_ref().unwrap();
    let after = report.risk.after.as_ref().unwrap();
    let after_population = after.population_uniques.as_ref().unwrap();
    assert_eq!(before.population, 3_016_200.0);
    assert_eq!(after_population.population, before.population);
    assert!(after.prosecutor.success_rate <= 0.05);
    assert!(after.sample_uniques <= 0.01);
    assert!(after_population.dankar <= 0.001);
    assert!(report.results.suppressed_records > 0);
    // λ = 0.01 × 5: k-map is 2-anonymity, and the report says so.
    assert!(
        report.methods.applied_models[0].starts_with("5-map (estimated as 2-anonymity, Poisson"),
        "{:?}",
        report.methods.applied_models
    );
    assert!(render_html(report).contains("estimated as 2-anonymity"));
    assert!(after.prosecutor.highest_risk <= 0.5);
    // The models' populations agree with the analysis': no limitation says
    // otherwise. A k-map over another population is named.
    let mismatch = |report: &Report| {
        report
            .limitations
            .iter()
            .filter(|l| l.contains("assumes a population of"))
            .count()
    };
    assert_eq!(mismatch(report), 0);
    let other = text.replace("population = 3016200,", "population = 317200000,");
    assert_ne!(other, text);
    let dir = temp_dir("risk-models-other-population");
    let outcome = run_in(&write_ruleset(&dir, &other), &dir).unwrap();
    assert_eq!(mismatch(&outcome.report), 1);
}

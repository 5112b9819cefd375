//! Unit tests of the stages of an Expert Determination, one small ruleset
//! in a temporary folder: 20 records, age and sex quasi-identifiers, a
//! declared name, a sensitive diagnosis.

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use super::STEPS;
use super::run::{RunOptions, run_expert_determination};
use super::stages::{self, Encoded, Entry, RiskBefore, Staged, Trail};
use crate::report::{ExpertDeterminationRule, sha256_file};
use crate::ruleset::Ruleset;
use crate::search::{AnonymizationConfig, SearchResult};

const RULESET: &str = r#"
[data]
path = "data.csv"

[[attribute]]
name = "name"
role = "identifier"

[[attribute]]
name = "age"
role = "quasi-identifier"
type = "decimal"
hierarchy = { type = "interval", levels = [{ width = 10 }, { width = 20 }, { width = 40 }] }

[[attribute]]
name = "sex"
role = "quasi-identifier"
hierarchy = "sex.csv"

[[attribute]]
name = "diagnosis"
role = "sensitive"

[anonymization]
suppression_limit = 0.0
models = [ { type = "k-anonymity", k = 5 } ]

[expert_determination]
output = "released.csv"
population = 1000000
threshold = 0.2
"#;

/// Ages 30 to 49, sexes alternating: at age level 1 (width 10) four classes
/// of five records each.
fn data_csv() -> String {
    let mut csv = "name,age,sex,diagnosis\n".to_owned();
    for i in 0..20 {
        let sex = if i % 2 == 0 { "f" } else { "m" };
        let diagnosis = ["flu", "asthma", "gout"][i % 3];
        csv.push_str(&format!("Person{i},{},{sex},{diagnosis}\n", 30 + i));
    }
    csv
}

/// A fresh folder holding the data, the sex hierarchy and the ruleset
/// (`RULESET` edited by `edit`).
fn scratch(name: &str, edit: impl FnOnce(String) -> String) -> (PathBuf, Ruleset) {
    let dir = std::env::temp_dir().join(format!("deidentify-stages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data.csv"), data_csv()).unwrap();
    std::fs::write(dir.join("sex.csv"), "f;*\nm;*\n").unwrap();
    std::fs::write(dir.join("rules.toml"), edit(RULESET.to_owned())).unwrap();
    let ruleset = Ruleset::from_file(&dir.join("rules.toml")).unwrap();
    (dir, ruleset)
}

fn options(dir: &Path) -> RunOptions {
    RunOptions {
        out_dir: dir.join("out"),
        ..RunOptions::default()
    }
}

fn count(entry: &Entry, name: &str) -> u64 {
    entry
        .counts
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no count {name} in {entry:?}"))
        .1
}

fn only<T>(staged: &Staged<T>, step: &str) -> Entry {
    assert_eq!(staged.entries.len(), 1, "{:?}", staged.entries);
    assert_eq!(staged.entries[0].step, step);
    staged.entries[0].clone()
}

/// The stages up to the search, as the run calls them.
struct Upstream {
    ruleset: Ruleset,
    settings: ExpertDeterminationRule,
    config: AnonymizationConfig,
    encoded: Encoded,
    before: RiskBefore,
    result: SearchResult,
}

fn upstream(name: &str) -> (PathBuf, Upstream) {
    let (dir, ruleset) = scratch(name, |t| t);
    let prepared = stages::prepare(&ruleset, &options(&dir)).unwrap();
    let loaded = stages::load(&ruleset).unwrap().output;
    let protected = stages::safe_harbor(&ruleset, &options(&dir), &prepared.settings, loaded.frame)
        .unwrap()
        .output;
    let transformed = stages::transform(&ruleset, &prepared.settings, protected.frame)
        .unwrap()
        .output;
    let encoded = stages::encode(
        &ruleset,
        &protected.actions,
        &transformed.frame,
        &loaded.input.data_path,
    )
    .unwrap();
    let before = stages::risk_before(&prepared.settings, &encoded)
        .unwrap()
        .output;
    let result = stages::search_lattice(&prepared.config, &encoded)
        .unwrap()
        .output;
    let up = Upstream {
        ruleset,
        settings: prepared.settings,
        config: prepared.config,
        encoded,
        before,
        result,
    };
    (dir, up)
}

#[test]
fn trail_appends_each_stage_entry_in_order_and_chains_them() {
    let mut trail = Trail::new("anchor");
    let entry = |step: &'static str| Entry {
        step,
        description: format!("did {step}"),
        parameters: serde_json::json!({ "step": step }),
        counts: vec![("n", 1)],
    };
    let value = trail.take(Staged {
        output: 7,
        entries: vec![entry("load"), entry("transform")],
    });
    assert_eq!(value, 7);
    let none: () = trail.take(Staged {
        output: (),
        entries: vec![],
    });
    assert_eq!(none, ());
    trail.take(Staged {
        output: (),
        entries: vec![entry("search")],
    });
    let entries = trail.into_inner().into_entries();
    let steps: Vec<&str> = entries.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(steps, ["load", "transform", "search"]);
    assert_eq!(entries[0].previous, "anchor");
    assert_eq!(entries[1].previous, entries[0].hash);
    assert_eq!(entries[2].description, "did search");
    assert_eq!(entries[2].counts.get("n"), Some(&1));
    assert!(crate::report::verify_chain("anchor", &entries).is_empty());
}

#[test]
fn prepare_checks_the_settings_and_creates_the_output_folder() {
    let (dir, ruleset) = scratch("prepare", |t| t);
    let prepared = stages::prepare(&ruleset, &options(&dir)).unwrap();
    assert!(dir.join("out").is_dir());
    assert_eq!(prepared.settings.output, Path::new("released.csv"));
    assert_eq!(prepared.config.models.len(), 1);

    let (dir, ruleset) = scratch("prepare-no-table", |t| {
        t.replace("[anonymization]", "[unused]")
            .replace(
                "suppression_limit = 0.0\nmodels = [ { type = \"k-anonymity\", k = 5 } ]\n",
                "",
            )
            .replace("[unused]\n", "")
    });
    let error = stages::prepare(&ruleset, &options(&dir)).unwrap_err();
    assert!(error.to_string().contains("[anonymization]"), "{error}");
    assert!(
        !dir.join("out").exists(),
        "nothing is created on a bad ruleset"
    );

    let (dir, ruleset) = scratch("prepare-principles", |t| {
        t + "\n[expert_determination.principles]\ndiagnosis = { replicability = \"high\", availability = \"high\", distinguishability = \"low\" }\n"
    });
    let error = stages::prepare(&ruleset, &options(&dir)).unwrap_err();
    assert!(
        error.to_string().contains("principles.diagnosis"),
        "{error}"
    );

    // No output may land on an input.
    let (dir, ruleset) = scratch("prepare-overwrite", |t| {
        t.replace("output = \"released.csv\"", "output = \"data.csv\"")
    });
    let on_input = RunOptions {
        out_dir: dir.clone(),
        ..RunOptions::default()
    };
    assert!(stages::prepare(&ruleset, &on_input).is_err());
}

#[test]
fn load_hashes_reads_and_scans_the_input() {
    let (dir, ruleset) = scratch("load", |t| t);
    let staged = stages::load(&ruleset).unwrap();
    let entry = only(&staged, "load");
    let loaded = staged.output;
    assert_eq!(loaded.frame.height(), 20);
    assert_eq!(loaded.input.input_rows, 20);
    assert_eq!(
        loaded.input.column_names,
        ["name", "age", "sex", "diagnosis"]
    );
    assert_eq!(
        loaded.input.input_sha256,
        sha256_file(&dir.join("data.csv")).unwrap()
    );
    assert_eq!(
        loaded.input.ruleset_sha256,
        sha256_file(&dir.join("rules.toml")).unwrap()
    );
    assert_eq!(count(&entry, "rows"), 20);
    assert_eq!(count(&entry, "columns"), 4);
    assert_eq!(
        count(&entry, "input_identifier_cells"),
        loaded.input.input_scan.total()
    );
    assert_eq!(entry.parameters["data_sha256"], loaded.input.input_sha256);
    assert_eq!(entry.parameters["columns"][3], "diagnosis");
}

#[test]
fn safe_harbor_removes_declared_identifiers_and_passes_undeclared_data() {
    let (dir, ruleset) = scratch("safe-harbor", |t| t);
    let settings = ExpertDeterminationRule::default();
    let frame = stages::load(&ruleset).unwrap().output.frame;
    let staged = stages::safe_harbor(&ruleset, &options(&dir), &settings, frame).unwrap();
    let entry = only(&staged, "safe-harbor");
    let protected = staged.output;
    assert!(
        protected.frame.column("name").is_err(),
        "the name is removed"
    );
    assert_eq!(protected.frame.height(), 20);
    assert_eq!(protected.actions.len(), 1);
    assert_eq!(protected.actions[0].column, "name");
    assert_eq!(protected.actions[0].action, "removed");
    assert_eq!(count(&entry, "columns"), 1);
    assert_eq!(count(&entry, "cells"), protected.actions[0].cells);
    assert_eq!(entry.parameters[0]["column"], "name");

    // Nothing declared: the data passes unchanged and no entry is made.
    let (dir, ruleset) = scratch("safe-harbor-none", |t| {
        t.replace(
            "name = \"name\"\nrole = \"identifier\"",
            "name = \"name\"\nrole = \"insensitive\"",
        )
    });
    let frame = stages::load(&ruleset).unwrap().output.frame;
    let staged = stages::safe_harbor(&ruleset, &options(&dir), &settings, frame.clone()).unwrap();
    assert!(staged.entries.is_empty());
    assert!(staged.output.actions.is_empty());
    assert!(staged.output.frame.equals_missing(&frame));
}

#[test]
fn transform_records_one_entry_per_transformation() {
    let (_, ruleset) = scratch("transform-none", |t| t);
    let settings = ExpertDeterminationRule::default();
    let frame = stages::load(&ruleset).unwrap().output.frame;
    let staged = stages::transform(&ruleset, &settings, frame.clone()).unwrap();
    assert!(staged.entries.is_empty() && staged.output.records.is_empty());
    assert!(staged.output.frame.equals_missing(&frame));

    let (_, ruleset) = scratch("transform", |t| {
        t.replace(
            "[anonymization]",
            "[[transform]]\ntype = \"top-bottom-coding\"\ncolumn = \"age\"\ntop = 45\n\n[anonymization]",
        )
    });
    let frame = stages::load(&ruleset).unwrap().output.frame;
    let staged = stages::transform(&ruleset, &settings, frame).unwrap();
    let entry = only(&staged, "transform");
    let transformed = staged.output;
    assert_eq!(transformed.records.len(), 1);
    let record = &transformed.records[0];
    assert_eq!(record.kind, "top-bottom-coding");
    assert_eq!(entry.description, "top-bottom-coding of age");
    // Ages 46 to 49 are top-coded.
    assert_eq!(record.rows_affected, 4);
    assert_eq!(count(&entry, "cells_changed"), 4);
    assert_eq!(count(&entry, "missing_cells"), record.missing_cells);
    assert_eq!(entry.parameters["kind"], "top-bottom-coding");
}

#[test]
fn encode_needs_a_quasi_identifier() {
    let (dir, up) = upstream("encode");
    assert_eq!(up.encoded.names, ["age", "sex"]);
    assert_eq!(up.encoded.loaded.dataset.rows(), 20);

    let (_, ruleset) = scratch("encode-no-qi", |t| {
        t.replace("role = \"quasi-identifier\"", "role = \"sensitive\"")
    });
    let frame = stages::load(&ruleset).unwrap().output.frame;
    let error = stages::encode(&ruleset, &[], &frame, &dir.join("data.csv")).unwrap_err();
    assert!(error.to_string().contains("quasi-identifier"), "{error}");
}

#[test]
fn risk_before_measures_the_ungeneralized_input() {
    let (_, up) = upstream("risk-before");
    let staged = stages::risk_before(&up.settings, &up.encoded).unwrap();
    let entry = only(&staged, "risk-before");
    let before = staged.output;
    // Every age is distinct: 20 classes of one record.
    assert_eq!(before.analysis.classes, 20);
    assert_eq!(before.analysis.sample_unique_records, 20);
    assert_eq!(before.analysis.prosecutor.highest_risk, 1.0);
    assert_eq!(before.threshold.as_probability(), 0.2);
    assert_eq!(
        before.options.population,
        Some(crate::risk::Population::Size(1_000_000))
    );
    assert_eq!(count(&entry, "classes"), 20);
    assert_eq!(count(&entry, "sample_unique_records"), 20);
    assert_eq!(entry.parameters["population"]["size"], 1_000_000);
}

#[test]
fn search_apply_risk_after_and_scan_release_four_classes_of_five() {
    let (_, up) = upstream("search");
    let staged = stages::search_lattice(&up.config, &up.encoded).unwrap();
    let entry = only(&staged, "search");
    let result = staged.output;
    let levels: std::collections::BTreeMap<String, u32> =
        [("age".to_owned(), 1), ("sex".to_owned(), 0)].into();
    assert_eq!(result.levels(), Some(levels.clone()));
    assert_eq!(
        entry.parameters["optimum"],
        serde_json::json!({ "age": 1, "sex": 0 })
    );
    assert_eq!(count(&entry, "lattice_size"), result.lattice_size);
    assert_eq!(count(&entry, "nodes_checked"), result.nodes_checked);

    let node = &result.optimum.as_ref().unwrap().node;
    let staged = stages::apply_optimum(&up.config, &up.encoded, &result, node).unwrap();
    let entry = only(&staged, "apply");
    let anonymized = staged.output;
    assert_eq!(anonymized.frame.height(), 20);
    assert_eq!(count(&entry, "rows"), 20);
    assert_eq!(count(&entry, "suppressed_records"), 0);
    assert_eq!(count(&entry, "classes"), 4);

    let staged = stages::risk_after(
        &up.settings,
        &up.encoded,
        &up.before,
        &result,
        node,
        &anonymized,
    )
    .unwrap();
    let entry = only(&staged, "risk-after");
    let after = staged.output;
    assert_eq!(after.analysis.classes, 4);
    assert!((after.analysis.prosecutor.highest_risk - 0.2).abs() < 1e-12);
    assert_eq!(after.privacy.k, 5);
    assert_eq!(after.privacy.levels, levels);
    assert_eq!(count(&entry, "released_records"), 20);
    assert_eq!(entry.parameters["k"], 5);

    let staged = stages::scan(&anonymized.frame, &[]).unwrap();
    let entry = only(&staged, "scan");
    let scan = staged.output;
    assert!(scan.clean, "{:?}", scan.findings);
    assert_eq!(scan.cells, count(&entry, "cells"));
    assert_eq!(count(&entry, "findings"), 0);

    let verdict = stages::verdict(
        &up.settings,
        &result,
        &up.before.analysis,
        Some(&after.analysis),
        &scan,
    );
    assert!(verdict.passes, "{:?}", verdict.failures);
    assert!(
        verdict
            .checks
            .iter()
            .any(|c| c.measure == "prosecutor_highest")
    );
    let _ = up.ruleset;
}

#[test]
fn scan_skips_token_columns_and_reports_findings() {
    let frame = DataFrame::new(
        20,
        vec![
            polars::prelude::Column::new("email".into(), ["someone@example.org"; 20]),
            polars::prelude::Column::new("token".into(), ["someone@example.org"; 20]),
        ],
    )
    .unwrap();
    let actions = [crate::safe_harbor::ColumnAction {
        column: "token".to_owned(),
        kind: None,
        action: "tokenized".to_owned(),
        detail: String::new(),
        cells: 20,
    }];
    let staged = stages::scan(&frame, &actions).unwrap();
    let entry = only(&staged, "scan");
    let scan = staged.output;
    assert!(!scan.clean);
    assert_eq!(scan.skipped, ["token"]);
    assert_eq!(entry.parameters["skipped"], serde_json::json!(["token"]));
    assert!(count(&entry, "findings") > 0);
    assert!(scan.counts.contains_key("email") && !scan.counts.contains_key("token"));
}

#[test]
fn verdict_fails_without_a_transformation_or_with_a_dirty_scan() {
    let (_, up) = upstream("verdict");
    let mut none = up.result.clone();
    none.optimum = None;
    let verdict = stages::verdict(
        &up.settings,
        &none,
        &up.before.analysis,
        None,
        &stages::empty_scan(),
    );
    assert!(!verdict.passes);
    assert!(verdict.failures[0].starts_with("No transformation satisfies"));
    // prosecutor_highest has a threshold and no value after: it fails too.
    assert!(
        verdict
            .failures
            .iter()
            .any(|f| f.starts_with("prosecutor_highest is n/a"))
    );

    let mut dirty = stages::empty_scan();
    dirty.clean = false;
    let verdict = stages::verdict(
        &up.settings,
        &up.result,
        &up.before.analysis,
        Some(&up.before.analysis),
        &dirty,
    );
    assert!(!verdict.passes);
    assert!(
        verdict
            .failures
            .iter()
            .any(|f| f.starts_with("The residual-identifier scan"))
    );
}

#[test]
fn write_release_fails_closed() {
    let (dir, ruleset) = scratch("write", |t| t);
    let settings = stages::prepare(&ruleset, &options(&dir)).unwrap().settings;
    let frame = stages::load(&ruleset).unwrap().output.frame;
    let out = dir.join("out");

    // No transformation: nothing written.
    let staged = stages::write_release(None, false, &options(&dir), &settings).unwrap();
    let entry = only(&staged, "write");
    assert!(staged.output.is_none());
    assert!(
        entry
            .description
            .starts_with("Wrote no data: no transformation")
    );
    assert_eq!(count(&entry, "rows"), 0);

    // Not releasable, no quarantine: nothing written.
    let staged = stages::write_release(Some(&frame), false, &options(&dir), &settings).unwrap();
    let entry = only(&staged, "write");
    assert!(staged.output.is_none());
    assert!(entry.description.contains("not releasable"));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);

    // Not releasable, quarantined.
    let quarantine = RunOptions {
        quarantine: true,
        ..options(&dir)
    };
    let staged = stages::write_release(Some(&frame), false, &quarantine, &settings).unwrap();
    let entry = only(&staged, "write");
    let (path, sha) = staged.output.unwrap();
    assert_eq!(path, out.join("released.NOT-RELEASABLE.csv"));
    assert_eq!(sha, sha256_file(&path).unwrap());
    assert_eq!(entry.parameters["releasable"], false);
    assert!(!out.join("released.csv").exists());

    // Releasable.
    let staged = stages::write_release(Some(&frame), true, &options(&dir), &settings).unwrap();
    let entry = only(&staged, "write");
    let (path, sha) = staged.output.unwrap();
    assert_eq!(path, out.join("released.csv"));
    assert_eq!(entry.parameters["sha256"], sha);
    assert_eq!(entry.parameters["format"], "csv");
    assert_eq!(count(&entry, "rows"), 20);
    assert_eq!(entry.description, "Wrote the released data to released.csv");
}

#[test]
fn the_run_calls_every_stage_in_order_and_records_each() {
    let (dir, ruleset) = scratch("run", |t| t);
    let mut steps = Vec::new();
    let outcome =
        run_expert_determination(&ruleset, &options(&dir), &mut |s| steps.push(s.to_owned()))
            .unwrap();
    assert_eq!(steps, STEPS);
    let report = &outcome.report;
    assert!(report.summary.passes, "{:?}", report.summary.failures);
    let audit: Vec<&str> = report.audit.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(
        audit,
        [
            "load",
            "safe-harbor",
            "risk-before",
            "search",
            "apply",
            "risk-after",
            "scan",
            "write"
        ]
    );
    assert_eq!(report.identification.report_id, report.audit[7].hash[..16]);
    let data = outcome.data.unwrap();
    assert_eq!(data, dir.join("out/released.csv"));
    assert_eq!(
        report.data.output_sha256.as_deref(),
        Some(sha256_file(&data).unwrap().as_str())
    );
    assert_eq!(report.data.output_rows, 20);
    assert_eq!(report.results.levels.len(), 2);
    assert!(outcome.json.exists() && outcome.html.exists() && outcome.markdown.exists());

    // A stricter threshold fails closed: the report, and no data.
    let (dir, ruleset) = scratch("run-fails", |t| {
        t.replace("threshold = 0.2", "threshold = 0.1")
    });
    let mut steps = Vec::new();
    let outcome =
        run_expert_determination(&ruleset, &options(&dir), &mut |s| steps.push(s.to_owned()))
            .unwrap();
    assert!(!outcome.report.summary.passes);
    assert!(outcome.data.is_none());
    assert!(!dir.join("out/released.csv").exists());
    assert!(outcome.json.exists());
}

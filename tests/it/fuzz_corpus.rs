//! The fuzz targets' seed corpus and saved crashes, replayed on stable
//! through the very functions the targets call (`fuzz/src/targets.rs`, included
//! here), so a parser that panics fails `cargo test` without nightly.

use std::path::PathBuf;

use deidentify::{
    ErrorKind, Ruleset, RunOptions,
    stream::{LabeledTable, StreamOptions, StreamedTable},
    verify_report,
};

use crate::{root, scratch};

#[path = "../../fuzz/src/targets.rs"]
mod targets;

/// The files in `fuzz/<kind>/<target>/` (none when the folder is absent).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = root().join("fuzz").join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The panic message of a caught panic.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// The files of `paths` on which `run` panics, with the messages.
fn panics(run: fn(&[u8]), paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).unwrap();
            std::panic::catch_unwind(|| run(&bytes))
                .err()
                .map(|payload| format!("{}: {}", path.display(), message(payload.as_ref())))
        })
        .collect()
}

/// Runs `target`'s function on its corpus and its saved crashes.
fn replay(target: &str) {
    let (_, run) = targets::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target '{target}'"));
    let corpus = inputs("corpus", target);
    assert!(!corpus.is_empty(), "fuzz/corpus/{target}/ has no seeds");
    let all: Vec<PathBuf> = corpus
        .into_iter()
        .chain(inputs("regressions", target))
        .collect();
    let failed = panics(*run, &all);
    assert!(
        failed.is_empty(),
        "fuzz target '{target}' panicked on:\n{}",
        failed.join("\n")
    );
}

#[test]
fn csv_inputs_replay_without_panic() {
    replay("csv");
}

#[test]
fn ruleset_inputs_replay_without_panic() {
    replay("ruleset");
}

#[test]
fn hierarchy_inputs_replay_without_panic() {
    replay("hierarchy");
}

#[test]
fn table_parquet_inputs_replay_without_panic() {
    replay("table_parquet");
}

#[test]
fn key_file_inputs_replay_without_panic() {
    replay("key_file");
}

#[test]
fn report_inputs_replay_without_panic() {
    replay("report");
}

/// The replay catches a panic: a function that panics on one input is
/// reported with that input's file.
#[test]
fn a_panicking_input_is_reported() {
    fn picky(data: &[u8]) {
        assert!(!data.starts_with(b"boom"), "picky panicked");
    }
    let dir = scratch("fuzz-picky", &[("fine", "fine"), ("boom", "boom!")]);
    let failed = panics(picky, &[dir.join("fine"), dir.join("boom")]);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("boom") && failed[0].contains("picky panicked"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every corpus or regression folder is a target's (a misnamed folder
/// would never be replayed), and every target is a fuzz binary whose body
/// calls its function here.
#[test]
fn folders_and_fuzz_binaries_match_the_targets() {
    let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root().join("fuzz").join(kind)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    names.contains(&name.as_str()),
                    "fuzz/{kind}/{name}/ is no target"
                );
            }
        }
    }
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    for name in names {
        let body = std::fs::read_to_string(root().join(format!("fuzz/fuzz_targets/{name}.rs")))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{name}.rs: {e}"));
        assert!(
            body.contains(&format!("deidentify_fuzz::{name}(data)")),
            "fuzz/fuzz_targets/{name}.rs does not call deidentify_fuzz::{name}"
        );
        assert!(
            manifest.contains(&format!(
                "name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\""
            )),
            "fuzz/Cargo.toml has no binary '{name}'"
        );
    }
}

/// The seeds the library wrote still read as valid (a format change would
/// otherwise leave the fuzzer only invalid files to start from).
#[test]
fn library_written_seeds_are_valid() {
    for name in ["adult-sensitive.parquet", "adult-no-sensitive.parquet"] {
        let path = root().join("fuzz/corpus/table_parquet").join(name);
        let table = LabeledTable::read_parquet(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(table.total_rows(), 30, "{name}");
    }
    let json = std::fs::read_to_string(root().join("fuzz/corpus/report/report.json")).unwrap();
    let verification = verify_report(&json, None).unwrap();
    assert!(verification.intact, "{:?}", verification.problems);
}

/// A small ruleset over the fixtures (the 30-row Adult sample), in a fresh
/// folder holding copies of them.
fn adult_sample(name: &str, ruleset: &str) -> (PathBuf, Ruleset) {
    let fixtures = root().join("fuzz/fixtures");
    let read = |file: &str| std::fs::read_to_string(fixtures.join(file)).unwrap();
    let files = [
        ("adult.csv", read("adult.csv")),
        ("hierarchies/age.csv", read("hierarchies/age.csv")),
        ("hierarchies/sex.csv", read("hierarchies/sex.csv")),
        ("hierarchies/race.csv", read("hierarchies/race.csv")),
        ("rules.toml", ruleset.to_owned()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let dir = scratch(name, &files);
    let ruleset = Ruleset::from_file(&dir.join("rules.toml")).unwrap();
    (dir, ruleset)
}

/// The ruleset of the library-written seeds: three quasi-identifiers of
/// the Adult sample, `sensitive` the role of occupation.
fn sample_ruleset(sensitive: &str) -> String {
    format!(
        r#"[data]
path = "adult.csv"
delimiter = ";"

[[attribute]]
name = "sex"
role = "quasi-identifier"
hierarchy = "hierarchies/sex.csv"

[[attribute]]
name = "age"
role = "quasi-identifier"
type = "integer"
hierarchy = "hierarchies/age.csv"

[[attribute]]
name = "race"
role = "quasi-identifier"
hierarchy = "hierarchies/race.csv"

[[attribute]]
name = "occupation"
role = "{sensitive}"

[[attribute]]
name = "marital-status"
role = "insensitive"

[[attribute]]
name = "education"
role = "insensitive"

[[attribute]]
name = "native-country"
role = "insensitive"

[[attribute]]
name = "workclass"
role = "insensitive"

[[attribute]]
name = "salary-class"
role = "insensitive"

[anonymization]
suppression_limit = 0.1
models = [{{ type = "k-anonymity", k = 2 }}]

[expert_determination]
title = "Fuzz seed"
release_type = "limited-data-set"
population = 100000
threshold = 0.5
seed = 1
"#
    )
}

/// Writes the library-made seeds (the table Parquet files and the report).
/// Run by hand after a format change:
/// `cargo test --test it fuzz_corpus::write_library_seeds -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus seeds; run by hand after a format change"]
fn write_library_seeds() {
    let corpus = root().join("fuzz/corpus");
    for (role, name) in [
        ("sensitive", "adult-sensitive.parquet"),
        ("insensitive", "adult-no-sensitive.parquet"),
    ] {
        let (dir, ruleset) = adult_sample(name, &sample_ruleset(role));
        StreamedTable::from_ruleset(&ruleset, &StreamOptions::default())
            .unwrap()
            .labeled()
            .unwrap()
            .write_parquet(&corpus.join("table_parquet").join(name))
            .unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
    let (dir, ruleset) = adult_sample("report", &sample_ruleset("sensitive"));
    let outcome = deidentify::run_expert_determination(
        &ruleset,
        &RunOptions::new(dir.join("out")).with_reference_date(
            deidentify::data::Date::parse("2026-01-01").expect("reference_date"),
        ),
        &mut |_: &str| {},
    )
    .unwrap();
    std::fs::copy(&outcome.json, corpus.join("report/report.json")).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// Crash 1 (`table_parquet`): a page holding more values than its row group
/// made polars-parquet 0.55.2 subtract with overflow (a panic with overflow
/// checks). Crash 2 (`table_parquet`, found by CI's 30 s run on 2026-12-03):
/// a data page declaring a negative number of values made polars ask for a
/// 2^61-byte bitmap, an abort no `catch_unwind` can turn into an error. Both
/// Parquet readers now check the page headers before polars decodes
/// anything, and give a parse error naming the file and the page.
#[test]
fn malformed_parquet_page_headers_are_errors() {
    for (name, says) in [
        ("page-longer-than-row-group.parquet", "page"),
        ("negative-page-value-count.parquet", "page"),
        // Crash 3 (`table_parquet`, CI's 30 s run on 2026-12-03): a footer
        // statistics field of the wrong Thrift type made polars-parquet's
        // metadata reader panic (`expect("thrift bool field")`) inside the
        // structural check itself, outside any `catch_unwind` (since
        // crash 4 the budgeted decoder refuses the field's type first).
        ("footer-statistics-bool-field.parquet", "footer is invalid"),
        // Crash 4 (`table_parquet`, CI's 30 s run on 2026-12-05): a footer
        // list (key-value metadata) claiming about 2^28 entries made
        // polars-parquet's metadata reader ask for 8 GB before reading the
        // first, an out-of-memory abort under the fuzzer's limit. The footer
        // is now decoded first under an allocation budget.
        (
            "footer-list-count-beyond-its-bytes.parquet",
            "footer is invalid",
        ),
    ] {
        let path = root().join("fuzz/regressions/table_parquet").join(name);
        let errors = [
            LabeledTable::read_parquet(&path).unwrap_err(),
            deidentify::data::read_parquet(&path).unwrap_err(),
        ];
        for error in errors {
            assert!(
                matches!(error.kind(), ErrorKind::Parse { path: p, .. } if *p == path),
                "{name}: {error}"
            );
            assert!(
                error.to_string().contains("not a sound Parquet file"),
                "{name}: {error}"
            );
            assert!(error.to_string().contains(says), "{name}: {error}");
        }
    }
}

//! Integration tests: one binary, one module per area.

mod adult;
mod bad_input;
mod best_effort;
mod browser;
mod encryption;
mod examples;
mod fail_closed;
mod frequency;
mod fuzz_corpus;
mod layering;
mod metrics;
mod properties;
mod recode;
mod release;
mod report;
mod risk;
mod safepub;
mod scan;
mod search;
mod signature;
mod spark;
mod stream;
mod synthesis;
mod textbook;
mod transform;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use deidentify::{Ruleset, ruleset::LoadedRuleset};

/// Adult's columns as its header lists them (all nine quasi-identifiers in
/// `adult9.toml`).
pub fn adult_columns() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("datasets/adult/adult.csv")).unwrap();
    let header = text.lines().next().unwrap();
    header.split(';').map(str::to_owned).collect()
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads a ruleset relative to the repository root.
pub fn load(ruleset: &str) -> LoadedRuleset {
    Ruleset::from_file(&root().join(ruleset))
        .and_then(|r| r.load())
        .unwrap_or_else(|e| panic!("{ruleset}: {e}"))
}

/// Relative closeness of two floats.
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// Writes `files` (name, contents) into a fresh temporary folder (one per
/// call, so tests running in parallel never share one).
pub fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "deidentify-it-{}-{call}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, contents) in files {
        let path: &Path = file.as_ref();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(dir.join(parent)).unwrap();
        }
        std::fs::write(dir.join(file), contents).unwrap();
    }
    dir
}

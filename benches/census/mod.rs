//! The 1M generated census rows the scale and recode benches share
//! (`examples/generate_census.rs`, seed 1, written into the target folder
//! on first run), and the peak memory they report.

#[allow(dead_code)]
#[path = "../../examples/generate_census.rs"]
mod generate_census;

use std::path::PathBuf;

use deidentify::Ruleset;

/// Rows generated.
pub const ROWS: u64 = 1_000_000;

/// The generated 1M-row file's ruleset, generating the data if absent.
pub fn ruleset() -> Ruleset {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scale-bench");
    std::fs::create_dir_all(&folder).expect("target folder");
    let data = folder.join("census-1m.parquet");
    if !data.exists() {
        let adult = generate_census::Adult::read(&root.join("datasets/adult/adult.csv"))
            .expect("adult reads");
        generate_census::generate(&adult, ROWS, 1, &data).expect("generates");
    }
    let path = generate_census::write_ruleset(&data, &root.join("datasets/adult/hierarchies"))
        .expect("ruleset");
    Ruleset::from_file(&path).expect("ruleset parses")
}

/// The process's peak resident memory (VmHWM) in MiB.
pub fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

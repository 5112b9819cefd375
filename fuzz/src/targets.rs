//! The bodies of the fuzz targets, one function per target, each feeding
//! the bytes to the library entry point a user's file reaches. The fuzz
//! targets (`fuzz/fuzz_targets/*.rs`) call these functions through the fuzz
//! crate (`fuzz/src/lib.rs`), and the stable replay test
//! (`tests/it/fuzz_corpus.rs`) includes this file with `#[path]` and calls
//! the same functions on the corpus and the saved crashes, so the two
//! cannot drift apart.
//!
//! A function never panics on purpose: every input either parses or gives
//! an `Err`, which is ignored. Entry points that take a path get the bytes
//! through a temporary file.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use deidentify::{
    Dataset, Hierarchies, Ruleset,
    data::{Attribute, AttributeRole, AttributeType, CsvOptions, EncodeOptions, MissingPolicy},
    hierarchy::Hierarchy,
    safe_harbor::TokenKey,
    stream::LabeledTable,
};
use polars::prelude::{Column, DataFrame};
use rand::SeedableRng;

/// A target's function: the bytes of one input.
pub type Target = fn(&[u8]);

/// Every target: its name (the folder of its corpus) and its function.
pub const TARGETS: &[(&str, Target)] = &[
    ("csv", csv),
    ("ruleset", ruleset),
    ("hierarchy", hierarchy),
    ("table_parquet", table_parquet),
    ("key_file", key_file),
    ("report", report),
];

/// A temporary file holding the input, removed when dropped. Its name is
/// unique per process and call (the replay test runs targets on threads).
struct Scratch(PathBuf);

impl Scratch {
    fn new(data: &[u8], extension: &str) -> Option<Scratch> {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "deidentify-fuzz-{}-{call}.{extension}",
            std::process::id()
        ));
        // A full temporary disk is not a finding.
        std::fs::write(&path, data).ok()?;
        Some(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The attribute types, cycled over the columns when encoding typed.
const TYPES: [AttributeType; 5] = [
    AttributeType::String,
    AttributeType::Integer,
    AttributeType::Decimal,
    AttributeType::Date,
    AttributeType::OrderedString,
];

/// `read_csv`, with `;` as the delimiter when the first line has one (ARX's
/// files) and `,` otherwise; an input with a `"` is read a second time with
/// quotes taken literally. A table that reads is then encoded twice: every
/// column a string quasi-identifier, and with the types cycled over the
/// columns (integer, decimal, date, ordered string), missing cells a category.
pub fn csv(data: &[u8]) {
    let first_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b';') {
        b';'
    } else {
        b','
    };
    let Some(file) = Scratch::new(data, "csv") else {
        return;
    };
    let mut quotes = vec![Some(b'"')];
    if data.contains(&b'"') {
        quotes.push(None);
    }
    for quote in quotes {
        let options = CsvOptions::default()
            .with_delimiter(delimiter)
            .with_quote(quote)
            .with_has_header(true);
        if let Ok(frame) = deidentify::data::read_csv(&file.0, &options) {
            encode(&frame);
        }
    }
}

/// Encodes `frame` as quasi-identifiers, all strings and then typed.
fn encode(frame: &DataFrame) {
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let options = EncodeOptions::default()
        .with_missing_values(vec!["?".to_owned()])
        .with_missing_policy(MissingPolicy::Category);
    for typed in [false, true] {
        let attributes: Vec<Attribute> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let data_type = if typed {
                    TYPES[i % TYPES.len()]
                } else {
                    AttributeType::String
                };
                Attribute::new(name.clone(), AttributeRole::QuasiIdentifier, data_type)
            })
            .collect();
        let _ = Dataset::from_dataframe(frame, &attributes, &options);
    }
}

/// The folder relative paths of a fuzzed ruleset resolve against: a small
/// Adult sample, its hierarchies and a synthetic PHI sample.
fn fixtures() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The library's tests include this file from the repository root; the
    // fuzz crate's manifest is in `fuzz/`.
    let from_root = manifest.join("fuzz").join("fixtures");
    if from_root.is_dir() {
        from_root
    } else {
        manifest.join("fixtures")
    }
}

/// Whether `path` stays inside the folder it is joined to: only plain
/// names (no root, no `..`), so a fuzzed ruleset never reads `/dev/zero`.
fn is_plain(path: &Path) -> bool {
    path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// `Ruleset::from_toml` (non-UTF-8 is read lossily); a ruleset that parses
/// has its Expert Determination settings and search configuration checked,
/// and, when every path in it is a plain name, is loaded against the
/// fixtures (data, hierarchy files and builders, `[[transform]]` steps from
/// a fixed seed).
pub fn ruleset(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let base = fixtures();
    let Ok(ruleset) = Ruleset::from_toml(&text, &base, &base.join("fuzz.toml")) else {
        return;
    };
    let settings = ruleset.expert_determination.clone().unwrap_or_default();
    if settings.check().is_ok() {
        let _ = settings.effective_thresholds();
        let _ = settings.conditions();
    }
    if let Some(rule) = &ruleset.anonymization {
        let _ = rule.config();
    }
    let files = ruleset
        .attributes
        .iter()
        .filter_map(|a| match &a.hierarchy {
            Some(deidentify::ruleset::HierarchyRule::File(file)) => Some(file.as_path()),
            _ => None,
        });
    if !is_plain(&ruleset.data.path) || !files.into_iter().all(is_plain) {
        return;
    }
    if ruleset.transforms.is_empty() {
        let _ = ruleset.load();
    } else {
        let _ = ruleset.load_transformed(&mut rand::rngs::StdRng::seed_from_u64(1));
    }
}

/// The most leaves of a fuzzed hierarchy compiled against a column.
const MAX_LEAVES: usize = 256;

/// `Hierarchy::from_csv` (ARX's format, `;`-separated); a hierarchy that
/// reads generalizes each value to every level and is compiled against a
/// column of its first values, as the ruleset loader does.
pub fn hierarchy(data: &[u8]) {
    let Some(file) = Scratch::new(data, "csv") else {
        return;
    };
    let Ok(hierarchy) = Hierarchy::from_csv("h", &file.0, b';') else {
        return;
    };
    let leaves: Vec<&str> = hierarchy
        .rows()
        .iter()
        .take(MAX_LEAVES)
        .map(|row| row[0].as_str())
        .collect();
    for leaf in &leaves {
        for level in 0..=hierarchy.height() {
            let _ = hierarchy.generalize(leaf, level);
        }
    }
    let Ok(frame) = DataFrame::new(leaves.len(), vec![Column::new("h".into(), leaves)]) else {
        return;
    };
    let attributes = [Attribute::new(
        "h",
        AttributeRole::QuasiIdentifier,
        AttributeType::String,
    )];
    if let Ok(dataset) = Dataset::from_dataframe(&frame, &attributes, &EncodeOptions::default()) {
        let _ = Hierarchies::compile(&dataset, std::slice::from_ref(&hierarchy));
    }
}

/// `LabeledTable::read_parquet`; a table that reads is decoded and merged
/// with itself. The same bytes then go through `read_parquet`, the reader
/// of Parquet data files (the same polars decoder), and a frame that reads
/// is encoded as the CSV target's are.
pub fn table_parquet(data: &[u8]) {
    let Some(file) = Scratch::new(data, "parquet") else {
        return;
    };
    if let Ok(table) = LabeledTable::read_parquet(&file.0) {
        let _ = table.decoded();
        let mut merged = table.clone();
        let _ = merged.merge(&table);
    }
    if let Ok(frame) = deidentify::data::read_parquet(&file.0) {
        encode(&frame);
    }
}

/// `TokenKey::from_file`; a key that reads gives its fingerprint and a token.
pub fn key_file(data: &[u8]) {
    let Some(file) = Scratch::new(data, "key") else {
        return;
    };
    if let Ok(key) = TokenKey::from_file(&file.0) {
        let _ = key.fingerprint();
        let _ = key.column("mrn").token("MRN0000001");
    }
}

/// `verify_report` on the text (non-UTF-8 is read lossily), without a data file.
pub fn report(data: &[u8]) {
    let _ = deidentify::verify_report(&String::from_utf8_lossy(data), None);
}

//! Applies HIPAA Safe Harbor to a table and scans the result for residual identifiers.
//!
//! ```text
//! cargo run --release --example safe_harbor -- --config datasets/synthetic-phi/phi.toml --output out/phi-safe-harbor.csv --key-file key.bin --json
//! ```
//!
//! It fails closed: the output is written only when the scan finds no
//! residual identifier (with `--quarantine`, a failing output is written as
//! `NAME.NOT-RELEASABLE.csv` instead). Every column of the data needs a role
//! in the ruleset, and the output may not be one of the inputs.
//!
//! Exit status (`deidentify::exit::Exit`): 0 written and clean; 1 bad input or I/O
//! error; 2 wrong command line; 4 residual identifiers found (nothing
//! released).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::{
    Ruleset,
    apply::{check_output, write_csv},
    apply_safe_harbor,
    data::Date,
    exit::Exit,
    pipeline::quarantine_name,
    safe_harbor::{KeyEncoding, RestrictedZipPrefixes, Scanner, TokenKey},
};
use serde_json::json;

/// Remove, tokenize or generalize every declared identifier (Safe Harbor,
/// 45 CFR 164.514(b)(2)), scan the result for residual identifiers, and
/// write it only when the scan is clean.
#[derive(Parser, Debug)]
#[command(version, after_help = EXIT_STATUS)]
struct Args {
    /// The ruleset: each column's role and Safe Harbor identifier kind (`identifier = "zip"`, …).
    #[arg(long)]
    config: PathBuf,
    /// Where to write the de-identified CSV (never one of the inputs).
    #[arg(long)]
    output: PathBuf,
    /// The token key file (≥ 32 bytes); otherwise the DEIDENTIFY_TOKEN_KEY environment variable.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// How the key file holds the key: raw bytes, hex or base64 text.
    #[arg(long, default_value = "raw")]
    key_encoding: KeyEncoding,
    /// The release date, for ages over 89 (YYYY-MM-DD; default: today, UTC);
    /// it may not precede any date of the data.
    #[arg(long)]
    reference_date: Option<String>,
    /// When the scan finds identifiers, still write the output, as
    /// NAME.NOT-RELEASABLE.csv, for inspection.
    #[arg(long)]
    quarantine: bool,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

const EXIT_STATUS: &str = "Exit status: 0 written and clean; 1 bad input or I/O error; \
2 wrong command line; 4 residual identifiers found (nothing released).";

fn run(args: &Args) -> Result<Exit, Box<dyn std::error::Error>> {
    let ruleset = Ruleset::from_file(&args.config)?;
    let mut inputs = ruleset.input_files();
    inputs.extend(args.key_file.clone());
    check_output(&args.output, &inputs)?;
    let frame = ruleset.read_data()?;
    let needs_key = ruleset.attributes.iter().any(|a| a.tokenize);
    let key = match (&args.key_file, needs_key) {
        (_, false) => None,
        (Some(file), true) => Some(TokenKey::from_file_as(file, args.key_encoding)?),
        (None, true) => Some(TokenKey::from_env("DEIDENTIFY_TOKEN_KEY")?),
    };
    let reference = match &args.reference_date {
        Some(text) => Date::parse(text).ok_or("--reference-date is not a date (YYYY-MM-DD)")?,
        None => Date::today(),
    };
    let zips = RestrictedZipPrefixes::hhs_2000();
    let (released, actions) = apply_safe_harbor(
        &frame,
        &ruleset.safe_harbor_columns(),
        key.as_ref(),
        &zips,
        reference,
    )?;
    let tokens: Vec<&str> = actions
        .iter()
        .filter(|a| a.action == "tokenized")
        .map(|a| a.column.as_str())
        .collect();
    let scan = Scanner::new().scan(&released, &tokens)?;
    let written = if scan.is_clean() {
        Some(args.output.clone())
    } else if args.quarantine {
        Some(quarantine_name(&args.output))
    } else {
        None
    };
    if let Some(path) = &written {
        check_output(path, &inputs)?;
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        }
        write_csv(&released, path, ruleset.data.delimiter as u8)?;
    }
    if args.json {
        let report = json!({
            "rows": released.height(),
            "reference_date": format!("{:04}-{:02}-{:02}", reference.year, reference.month, reference.day),
            "zip_list": zips.version(),
            "columns": actions,
            "scan": scan,
            "clean": scan.is_clean(),
            "output": written,
            "releasable": scan.is_clean(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for a in &actions {
            println!(
                "{:<16} {:<11} {} ({} cells)",
                a.column, a.action, a.detail, a.cells
            );
        }
        println!(
            "scan of {} cells in {} columns: {}",
            scan.cells,
            scan.columns.len(),
            if scan.is_clean() {
                "no residual identifiers".to_owned()
            } else {
                format!("{} findings", scan.total())
            }
        );
        for (column, counts) in &scan.counts {
            for (detector, count) in counts.iter().filter(|(_, n)| **n > 0) {
                println!("  {column}: {count} cells look like {detector:?}");
            }
        }
        for f in scan.findings.iter().take(20) {
            println!("  {} row {}: {:?}", f.column, f.row, f.detector);
        }
        match &written {
            Some(path) if scan.is_clean() => println!("wrote {}", path.display()),
            Some(path) => println!(
                "NOT RELEASABLE: quarantined as {} (residual identifiers)",
                path.display()
            ),
            None => println!(
                "NOT RELEASABLE: nothing written (residual identifiers; --quarantine writes them for inspection)"
            ),
        }
    }
    Ok(if scan.is_clean() {
        Exit::Success
    } else {
        Exit::ResidualIdentifiers
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Error.into()
        }
    }
}

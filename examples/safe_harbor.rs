//! Applies HIPAA Safe Harbor to a table and scans the result for residual identifiers.
//!
//! ```text
//! cargo run --release --example safe_harbor -- --config datasets/synthetic-phi/phi.toml --output out/phi-safe-harbor.csv --key-file key.bin --json
//! ```
//! Exits with status 2 when the scan finds residual identifiers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::{
    Date, RestrictedZipPrefixes, Ruleset, Scanner, TokenKey, apply_safe_harbor, write_csv,
};
use serde_json::json;

/// Remove, tokenize or generalize every declared identifier (Safe Harbor,
/// 45 CFR 164.514(b)(2)), write the result, and scan it for residual identifiers.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The ruleset: each column's role and Safe Harbor identifier kind (`identifier = "zip"`, …).
    #[arg(long)]
    config: PathBuf,
    /// Where to write the de-identified CSV.
    #[arg(long)]
    output: PathBuf,
    /// The token key file (≥ 32 bytes); otherwise the DEIDENTIFY_TOKEN_KEY environment variable.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// The release date, for ages over 89 (YYYY-MM-DD; default: today, UTC).
    #[arg(long)]
    reference_date: Option<String>,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

fn run(args: &Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ruleset = Ruleset::from_file(&args.config)?;
    let frame = ruleset.read_data()?;
    let needs_key = ruleset.attributes.iter().any(|a| a.tokenize);
    let key = match (&args.key_file, needs_key) {
        (_, false) => None,
        (Some(file), true) => Some(TokenKey::from_file(file)?),
        (None, true) => Some(TokenKey::from_env("DEIDENTIFY_TOKEN_KEY")?),
    };
    let reference = match &args.reference_date {
        Some(text) => {
            Date::parse(text).ok_or_else(|| format!("'{text}' is not a date (YYYY-MM-DD)"))?
        }
        None => Date::today(),
    };
    let zips = RestrictedZipPrefixes::hhs_2000();
    let (released, actions) =
        apply_safe_harbor(&frame, &ruleset.attributes, key.as_ref(), &zips, reference)?;
    let tokens: Vec<&str> = actions
        .iter()
        .filter(|a| a.action == "tokenized")
        .map(|a| a.column.as_str())
        .collect();
    let scan = Scanner::new().scan(&released, &tokens)?;
    if let Some(folder) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    write_csv(&released, &args.output, ruleset.data.delimiter as u8)?;
    if args.json {
        let report = json!({
            "rows": released.height(),
            "reference_date": format!("{:04}-{:02}-{:02}", reference.year, reference.month, reference.day),
            "zip_list": zips.version(),
            "columns": actions,
            "scan": scan,
            "clean": scan.is_clean(),
            "output": args.output,
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
        for f in scan.findings.iter().take(20) {
            println!("  {} row {}: {:?}", f.column, f.row, f.detector);
        }
        println!("wrote {}", args.output.display());
    }
    Ok(if scan.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

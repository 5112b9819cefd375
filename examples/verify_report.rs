//! Verifies an Expert Determination report: recomputes its audit chain, the
//! digest the expert signs, and (with `--data`) the released file's SHA-256.
//! Exit status 0 when intact, 2 when not, 1 on an error.
//!
//! ```sh
//! cargo run --release --example verify_report -- --report out/report.json --data out/adult-deidentified.csv
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::verify_report;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Checks that an Expert Determination report and its data are intact"
)]
struct Args {
    /// The report (report.json).
    #[arg(long)]
    report: PathBuf,
    /// The released data file to check against the report's fingerprint.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print the verification as JSON.
    #[arg(long)]
    json: bool,
}

fn run(args: &Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&args.report)
        .map_err(|e| format!("{}: {e}", args.report.display()))?;
    let verification = verify_report(&text, args.data.as_deref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verification)?);
    } else if verification.intact {
        println!(
            "intact: {} audit entries chained{}",
            verification.entries,
            if verification.data_checked {
                ", data file matches"
            } else {
                ""
            }
        );
    } else {
        println!("NOT INTACT:");
        for problem in &verification.problems {
            println!("  - {problem}");
        }
    }
    Ok(if verification.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

//! Runs an Expert Determination end to end: reads the ruleset and its data,
//! applies Safe Harbor to declared identifiers and the configured
//! transformations, measures re-identification risk, searches the
//! generalization lattice for the optimum, applies it, measures risk again,
//! scans for residual identifiers, and writes the released data with
//! `report.json`, `report.html` and `report.md`.
//!
//! It fails closed: the data is written under its release name only when
//! every threshold is met. Otherwise the report (marked not releasable) is
//! written and no data, or with `--quarantine` the data under a name that
//! says `NOT-RELEASABLE`. No output may land on an input.
//!
//! Exit status (`deidentify::exit::Exit`): 0 every threshold is met; 1 bad input
//! or I/O error; 2 wrong command line; 3 not releasable.
//!
//! ```sh
//! cargo run --release --example expert_determination            # bundled Adult, writes out/
//! cargo run --release --example expert_determination -- --config my.toml --out results/
//! cargo run --release --example expert_determination -- --config datasets/adult/adult9-dp.toml
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use deidentify::{
    Ruleset, RunOptions,
    data::Date,
    exit::Exit,
    pipeline::STEPS,
    run_expert_determination,
    safe_harbor::{KeyEncoding, TokenKey},
};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Expert Determination: de-identified data and a signable risk report"
)]
struct Args {
    /// The ruleset (TOML) with `[anonymization]` and `[expert_determination]` tables.
    #[arg(long, default_value = "datasets/adult/adult.toml")]
    config: PathBuf,
    /// The folder for the released data and the reports.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// The token key file (≥ 32 bytes), for columns marked `tokenize`;
    /// otherwise the ruleset's key_file or DEIDENTIFY_TOKEN_KEY.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// How --key-file holds the key: raw bytes, hex or base64 text.
    #[arg(long, default_value = "raw")]
    key_encoding: KeyEncoding,
    /// The release date for the Safe Harbor age rule (YYYY-MM-DD; default today).
    #[arg(long)]
    reference_date: Option<String>,
    /// When the verdict fails, still write the data, as NAME.NOT-RELEASABLE.csv,
    /// for inspection (never under the release's name).
    #[arg(long)]
    quarantine: bool,
    /// Seed of a differentially private release's randomness (a ruleset
    /// with a differential-privacy model), to reproduce a run; without it
    /// the operating system's randomness. Never for data that leaves the
    /// premises: anyone who knows the seed can undo the guarantee.
    #[arg(long)]
    seed: Option<u64>,
}

fn run(args: &Args) -> Result<Exit, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let ruleset = Ruleset::from_file(&args.config)?;
    let mut options = RunOptions::new(args.out.clone()).with_quarantine(args.quarantine);
    options.seed = args.seed;
    options.key = args
        .key_file
        .as_deref()
        .map(|file| TokenKey::from_file_as(file, args.key_encoding))
        .transpose()?;
    options.reference_date = match &args.reference_date {
        Some(text) => Some(Date::parse(text).ok_or("--reference-date is not a date (YYYY-MM-DD)")?),
        None => None,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(STEPS.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let mut step = 0;
    let outcome = run_expert_determination(&ruleset, &options, &mut |name: &str| {
        if let Some(bar) = &bar {
            bar.set_position(step);
            bar.set_message(name.to_owned());
        }
        step += 1;
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = &outcome.report;
    println!("{}", report.identification.title);
    println!(
        "verdict: {}",
        if report.summary.passes {
            "meets every threshold"
        } else {
            "NOT RELEASABLE"
        }
    );
    for failure in &report.summary.failures {
        println!("  - {failure}");
    }
    for (name, value) in &report.summary.figures {
        println!("{name}: {value}");
    }
    match &outcome.data {
        Some(data) if report.summary.passes => println!("data:   {}", data.display()),
        Some(data) => println!("data:   {} (quarantined: NOT RELEASABLE)", data.display()),
        None => println!("data:   none written"),
    }
    println!("report: {}", outcome.json.display());
    println!("        {}", outcome.html.display());
    println!("        {}", outcome.markdown.display());
    println!(
        "content SHA-256 (to sign): {}",
        report.sign_off.content_sha256
    );
    println!("run time: {:.2} s", started.elapsed().as_secs_f64());
    Ok(if report.summary.passes {
        Exit::Success
    } else {
        Exit::NotReleasable
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

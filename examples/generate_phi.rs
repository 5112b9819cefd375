//! Writes a synthetic table of protected health information (no real people)
//! for the Safe Harbor example: names combined at random from the public-domain
//! 1990 Census lists, random identifiers, dates, ZIP codes and diagnoses.
//!
//! ```text
//! cargo run --release --example generate_phi -- --rows 2000 --seed 2026 --output datasets/synthetic-phi/phi.csv
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::exit::Exit;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Generate a seeded synthetic PHI table (CSV).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Number of records.
    #[arg(long, default_value_t = 2000)]
    rows: usize,
    /// The random seed (the same seed gives the same file).
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Where to write the CSV.
    #[arg(long)]
    output: PathBuf,
}

const FIRST: &str = include_str!("../data/census-names/first.txt");
const LAST: &str = include_str!("../data/census-names/last.txt");
const DIAGNOSES: [&str; 10] = [
    "hypertension",
    "type 2 diabetes",
    "asthma",
    "influenza",
    "pneumonia",
    "migraine",
    "fracture of radius",
    "appendicitis",
    "depression",
    "chronic kidney disease",
];
// Real 3-digit prefixes, including restricted ones (036, 059, 102, 821, 893).
const ZIP3: [&str; 12] = [
    "021", "100", "606", "941", "770", "303", "036", "059", "102", "821", "893", "481",
];

fn capitalize(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The most frequent names: the lists are ordered by frequency for surnames.
    let first: Vec<&str> = FIRST.lines().collect();
    let last: Vec<&str> = LAST.lines().take(5_000).collect();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut out =
        String::from("name,ssn,mrn,zip,birth_date,admission_date,age,sex,diagnosis,email,phone\n");
    for _ in 0..args.rows {
        let (f, l) = (
            capitalize(first[rng.random_range(0..first.len())]),
            capitalize(last[rng.random_range(0..last.len())]),
        );
        let birth_year = rng.random_range(1925..2020);
        let (birth_month, birth_day) = (rng.random_range(1..=12u32), rng.random_range(1..=28u32));
        // Age at the reference date 2026-11-28.
        let mut age = 2026 - birth_year;
        if (birth_month, birth_day) > (11, 28) {
            age -= 1;
        }
        let line = format!(
            "{f} {l},{:03}-{:02}-{:04},MRN{:07},{}{:02},{birth_year}-{birth_month:02}-{birth_day:02},2026-{:02}-{:02},{age},{},{},{}.{}@example.org,({}) 555-{:04}\n",
            rng.random_range(100..900),
            rng.random_range(10..99),
            rng.random_range(1000..9999),
            rng.random_range(0..10_000_000),
            ZIP3[rng.random_range(0..ZIP3.len())],
            rng.random_range(0..100),
            rng.random_range(1..=10u32),
            rng.random_range(1..=28u32),
            if rng.random_bool(0.5) {
                "female"
            } else {
                "male"
            },
            DIAGNOSES[rng.random_range(0..DIAGNOSES.len())],
            f.to_lowercase(),
            l.to_lowercase(),
            rng.random_range(200..990),
            rng.random_range(0..10_000),
        );
        out.push_str(&line);
    }
    match std::fs::write(&args.output, out) {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.output.display());
            Exit::Error.into()
        }
    }
}

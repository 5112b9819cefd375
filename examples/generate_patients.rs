//! Writes a synthetic patient extract of any size whose quasi-identifiers
//! make people unique as real ones do: a 5-digit ZIP code drawn from a
//! heavy-tailed population of about 29,000 ZIP codes (log-normal sizes,
//! median about 2,800 people, as the Census ZCTAs' are), the full date of
//! birth (from an Adult row's age, ±3 years, and a random day), sex, race
//! and marital status from the same Adult row, an admission date in
//! 2020–2024, and a diagnosis (one of 30 ICD-10 codes, Zipf-distributed) as
//! the sensitive attribute. No real person is in the output.
//!
//! Beside the data it writes the hierarchies (`<output>.hierarchies/`: ZIP
//! 5 → 4 → 3 → 2 digits → `*`; birth date → month → year → 5 years → 10
//! years → `*`; admission date → month → quarter → year → `*`; Adult's for
//! sex, race and marital status) and a ruleset (`<output>.toml`: k = 5,
//! 2% suppression, Loss).
//!
//! On ZIP code, birth date and sex nearly every row is unique (at 10M rows
//! as at 100M), so the optimum lies well inside the 1,800-node lattice;
//! counting at minimum levels (e.g. `--min-level zip=2 --min-level
//! birth-date=2` in the scale example) keeps the table small.
//!
//! ```sh
//! cargo run --release --example generate_patients -- --rows 10000000 --output target/patients-10m.parquet
//! cargo run --release --example scale -- --config target/patients-10m.parquet.toml \
//!   --output target/patients-10m-k5.parquet --min-level zip=2 --min-level birth-date=2
//! ```
//!
//! Generated data is never committed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use polars::prelude::{Column, DataFrame, DataType, ParquetWriter, Schema};
use rayon::prelude::*;

use deidentify::data::Date;

#[path = "common/splitmix.rs"]
mod splitmix;
use splitmix::SplitMix;

/// A synthetic patient extract with realistic quasi-identifiers.
#[derive(Parser, Debug)]
#[command(
    about = "Writes synthetic patient rows (ZIP, birth date, sex, race, marital status, admission date, diagnosis) with hierarchies and a ruleset"
)]
struct Args {
    /// Number of rows.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Seed of the generator (the output is a function of rows and seed).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The output: `.parquet` for Parquet, anything else for `;`-separated CSV.
    #[arg(long)]
    output: PathBuf,
    /// The Adult file the demographics are drawn from (its hierarchies
    /// folder beside it gives sex, race and marital status).
    #[arg(long, default_value = "datasets/adult/adult.csv")]
    adult: PathBuf,
}

/// The output columns, in file order.
pub const COLUMNS: [&str; 7] = [
    "zip",
    "birth-date",
    "sex",
    "race",
    "marital-status",
    "admission-date",
    "diagnosis",
];

/// Common ICD-10 codes, most frequent first (drawn with Zipf weights 1/rank).
const DIAGNOSES: [&str; 30] = [
    "I10", "E11.9", "E78.5", "J06.9", "M54.5", "K21.9", "F41.1", "J45.909", "N39.0", "F32.9",
    "I25.10", "E03.9", "M17.11", "J44.9", "I48.91", "R07.9", "G47.33", "K57.30", "N18.3", "E66.9",
    "I50.9", "D64.9", "L03.90", "J18.9", "A41.9", "S72.001A", "C50.911", "C34.90", "G30.9", "O80",
];

/// Rows per chunk (each chunk has its own seeded stream: the output does
/// not depend on the number of threads).
const CHUNK: u64 = 1 << 20;

/// Rows per Parquet row group.
const ROW_GROUP: usize = 1 << 18;

fn iso(days: i64) -> String {
    let d = Date::from_day_number(days);
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// The ZIP codes with cumulative population weights.
struct Zips {
    codes: Vec<String>,
    cumulative: Vec<f64>,
}

impl Zips {
    /// About 29,000 ZIP codes: 3-digit prefixes 010–999 (less a few), each
    /// with 20–40 codes whose populations are log-normal (median 2,800,
    /// σ = 1.4 in log space).
    fn new(seed: u64) -> Zips {
        let mut rng = SplitMix(seed ^ 0x5A1F_0C0D_E5EE_D000);
        let mut codes = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for prefix in 10..1000u32 {
            if rng.below(25) == 0 {
                continue; // prefixes not in use
            }
            let count = 20 + rng.below(21);
            let mut used = std::collections::BTreeSet::new();
            while used.len() < count {
                used.insert(rng.below(100) as u32);
            }
            for suffix in used {
                let population = (2800f64.ln() + 1.4 * rng.normal()).exp();
                total += population;
                codes.push(format!("{prefix:03}{suffix:02}"));
                cumulative.push(total);
            }
        }
        Zips { codes, cumulative }
    }

    fn draw(&self, rng: &mut SplitMix) -> &str {
        let total = *self.cumulative.last().expect("ZIP codes");
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        &self.codes[i.min(self.codes.len() - 1)]
    }
}

/// Adult's demographics: (age, sex, race, marital status) per row.
pub struct Demographics {
    rows: Vec<(i64, String, String, String)>,
    zips: Zips,
    diagnosis_weights: Vec<f64>,
}

/// A date from its parts (valid by construction here).
const fn ymd(year: i32, month: u32, day: u32) -> Date {
    Date { year, month, day }
}

/// The first day of birth dates (ages up to 93 on 2024-12-31) and of admissions.
const BIRTH_START: Date = ymd(1931, 1, 1);
const BIRTH_END: Date = ymd(2007, 12, 31);
const ADMISSION_START: Date = ymd(2020, 1, 1);
const ADMISSION_END: Date = ymd(2024, 12, 31);

impl Demographics {
    /// Reads Adult (`;`-separated, its header naming sex, age, race and
    /// marital-status); the ZIP codes come from `seed`.
    pub fn read(path: &Path, seed: u64) -> Result<Demographics, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().ok_or("empty Adult file")?.split(';').collect();
        let at = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .ok_or_else(|| format!("Adult has no column {name}"))
        };
        let (sex, age, race, marital) =
            (at("sex")?, at("age")?, at("race")?, at("marital-status")?);
        let mut rows = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split(';').collect();
            let age: i64 = f
                .get(age)
                .and_then(|a| a.parse().ok())
                .ok_or("an Adult age is not a number")?;
            rows.push((
                age,
                f[sex].to_owned(),
                f[race].to_owned(),
                f[marital].to_owned(),
            ));
        }
        if rows.is_empty() {
            return Err("Adult has no rows".into());
        }
        let mut total = 0.0;
        let diagnosis_weights = (1..=DIAGNOSES.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Ok(Demographics {
            rows,
            zips: Zips::new(seed),
            diagnosis_weights,
        })
    }

    /// Rows `start..start + len` for `seed`, column by column.
    fn chunk(&self, seed: u64, start: u64, len: usize) -> Vec<Vec<String>> {
        let mut rng = SplitMix(seed ^ (start / CHUNK).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut columns: Vec<Vec<String>> = vec![Vec::with_capacity(len); COLUMNS.len()];
        let reference = ymd(2024, 12, 31).day_number();
        let (first_birth, last_birth) = (BIRTH_START.day_number(), BIRTH_END.day_number());
        let first_admission = ADMISSION_START.day_number();
        let admissions = ADMISSION_END.day_number() - first_admission + 1;
        let total = *self.diagnosis_weights.last().expect("weights");
        for _ in 0..len {
            let (age, sex, race, marital) = &self.rows[rng.below(self.rows.len())];
            let age = (age + rng.below(7) as i64 - 3).clamp(17, 90);
            let birth =
                (reference - age * 365 - rng.below(365) as i64).clamp(first_birth, last_birth);
            let admission = first_admission + rng.below(admissions as usize) as i64;
            let x = rng.unit() * total;
            let diagnosis = self
                .diagnosis_weights
                .partition_point(|&w| w <= x)
                .min(DIAGNOSES.len() - 1);
            let row = [
                self.zips.draw(&mut rng).to_owned(),
                iso(birth),
                sex.clone(),
                race.clone(),
                marital.clone(),
                iso(admission),
                DIAGNOSES[diagnosis].to_owned(),
            ];
            for (column, value) in columns.iter_mut().zip(row) {
                column.push(value);
            }
        }
        columns
    }
}

/// Writes `rows` rows for `seed` to `output` (Parquet or CSV).
pub fn generate(
    people: &Demographics,
    rows: u64,
    seed: u64,
    output: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let parquet = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let temporary = output.with_extension("partial");
    let file = File::create(&temporary)?;
    let starts: Vec<u64> = (0..rows).step_by(CHUNK as usize).collect();
    let chunks = |pair: &[u64]| -> Vec<(usize, Vec<Vec<String>>)> {
        pair.par_iter()
            .map(|&start| {
                let len = CHUNK.min(rows - start) as usize;
                (len, people.chunk(seed, start, len))
            })
            .collect()
    };
    if parquet {
        let schema: Schema = COLUMNS
            .iter()
            .map(|&c| (c.into(), DataType::String))
            .collect();
        let mut writer = ParquetWriter::new(file)
            .with_row_group_size(Some(ROW_GROUP))
            .batched(&schema)?;
        for pair in starts.chunks(2) {
            for (len, columns) in chunks(pair) {
                let columns = COLUMNS
                    .iter()
                    .zip(columns)
                    .map(|(&name, values)| Column::new(name.into(), values))
                    .collect();
                writer.write_batch(&DataFrame::new(len, columns)?)?;
            }
        }
        writer.finish()?;
    } else {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        writeln!(out, "{}", COLUMNS.join(";"))?;
        for pair in starts.chunks(2) {
            for (len, columns) in chunks(pair) {
                for r in 0..len {
                    let line: Vec<&str> = columns.iter().map(|c| c[r].as_str()).collect();
                    writeln!(out, "{}", line.join(";"))?;
                }
            }
        }
        out.flush()?;
    }
    std::fs::rename(&temporary, output)?;
    Ok(())
}

/// Writes the hierarchy files into `folder`: ZIP, birth date and admission
/// date generated here, sex, race and marital status copied from `adult_hierarchies`.
pub fn write_hierarchies(
    people: &Demographics,
    folder: &Path,
    adult_hierarchies: &Path,
) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let mut zip = String::new();
    for code in &people.zips.codes {
        zip.push_str(&format!(
            "{code};{}*;{}**;{}***;*\n",
            &code[..4],
            &code[..3],
            &code[..2]
        ));
    }
    std::fs::write(folder.join("zip.csv"), zip)?;
    let dates = |from: Date, to: Date, line: &dyn Fn(i64, i64, &str) -> String| {
        let mut text = String::new();
        for day in from.day_number()..=to.day_number() {
            let date = Date::from_day_number(day);
            text.push_str(&line(
                i64::from(date.year),
                i64::from(date.month),
                &iso(day),
            ));
        }
        text
    };
    let birth = dates(BIRTH_START, BIRTH_END, &|y, m, date| {
        let five = y - y.rem_euclid(5);
        let ten = y - y.rem_euclid(10);
        format!(
            "{date};{y:04}-{m:02};{y:04};{five}-{};{ten}-{};*\n",
            five + 4,
            ten + 9
        )
    });
    std::fs::write(folder.join("birth-date.csv"), birth)?;
    let admission = dates(ADMISSION_START, ADMISSION_END, &|y, m, date| {
        format!(
            "{date};{y:04}-{m:02};{y:04}-Q{};{y:04};*\n",
            (m - 1) / 3 + 1
        )
    });
    std::fs::write(folder.join("admission-date.csv"), admission)?;
    for name in ["sex", "race", "marital-status"] {
        std::fs::copy(
            adult_hierarchies.join(format!("{name}.csv")),
            folder.join(format!("{name}.csv")),
        )?;
    }
    Ok(())
}

/// The ruleset text for `data` (a file name beside the ruleset) with the
/// hierarchies in the folder `hierarchies` (a name beside it too).
pub fn ruleset_text(data: &str, hierarchies: &str) -> String {
    let mut text = format!(
        "# Synthetic patient extract generated by examples/generate_patients.rs.\n\n\
         [data]\npath = \"{data}\"\ndelimiter = \";\"\n"
    );
    for name in COLUMNS {
        if name == "diagnosis" {
            text.push_str("\n[[attribute]]\nname = \"diagnosis\"\nrole = \"sensitive\"\n");
        } else {
            text.push_str(&format!(
                "\n[[attribute]]\nname = \"{name}\"\nrole = \"quasi-identifier\"\nhierarchy = \"{hierarchies}/{name}.csv\"\n"
            ));
        }
    }
    text.push_str(
        "\n[anonymization]\nsuppression_limit = 0.02\nmetric = \"loss\"\nmodels = [{ type = \"k-anonymity\", k = 5 }]\n",
    );
    text
}

/// Writes the hierarchies and the ruleset beside `output`; returns the ruleset's path.
pub fn write_ruleset(
    people: &Demographics,
    output: &Path,
    adult_hierarchies: &Path,
) -> std::io::Result<PathBuf> {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = format!("{name}.hierarchies");
    write_hierarchies(people, &output.with_file_name(&folder), adult_hierarchies)?;
    let path = output.with_file_name(format!("{name}.toml"));
    std::fs::write(&path, ruleset_text(&name, &folder))?;
    Ok(path)
}

#[allow(dead_code)]
fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let people = Demographics::read(&args.adult, args.seed)?;
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    generate(&people, args.rows, args.seed, &args.output)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    let adult_hierarchies = args
        .adult
        .parent()
        .map(|p| p.join("hierarchies"))
        .unwrap_or_else(|| PathBuf::from("hierarchies"));
    let ruleset = write_ruleset(&people, &args.output, &adult_hierarchies)
        .map_err(|e| format!("cannot write the hierarchies and ruleset: {e}"))?;
    println!(
        "wrote {} rows to {} and the ruleset {} in {:.1} s",
        args.rows,
        args.output.display(),
        ruleset.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[allow(dead_code)]
fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(()) => deidentify::exit::Exit::Success.into(),
        Err(e) => {
            eprintln!("error: {e}");
            deidentify::exit::Exit::Error.into()
        }
    }
}

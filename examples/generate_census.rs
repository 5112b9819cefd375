//! Writes synthetic census data of any size with the Adult schema, sampled
//! from Adult's empirical joint distribution: each row is a random Adult row
//! whose age moves by up to ±3 years (kept within 17..=90, which Adult's age
//! hierarchy covers), and 5% of rows have one categorical attribute redrawn
//! from its marginal, so the number of distinct tuples grows with the size.
//! No real person is in the output (rows are recombined).
//!
//! Also writes a ruleset next to the data (`<output>.toml`: Adult's eight
//! quasi-identifiers, occupation sensitive, k = 5 with 2% suppression) whose
//! hierarchies are the repository's Adult hierarchies.
//!
//! ```sh
//! cargo run --release --example generate_census -- --rows 10000000 --seed 1 --output target/census-10m.parquet
//! ```
//!
//! Generated data is never committed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use polars::prelude::{Column, DataFrame, DataType, ParquetWriter, Schema};
use rayon::prelude::*;

#[path = "common/splitmix.rs"]
mod splitmix;
use splitmix::SplitMix;

/// Synthetic census data with the Adult schema.
#[derive(Parser, Debug)]
#[command(
    about = "Writes synthetic census rows sampled from Adult (CSV or Parquet) and a ruleset next to them"
)]
struct Args {
    /// Number of rows.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Seed of the generator (the output is a function of rows and seed).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The output file: `.parquet` for Parquet, anything else for `;`-separated CSV.
    #[arg(long)]
    output: PathBuf,
    /// The Adult file to sample from.
    #[arg(long, default_value = "datasets/adult/adult.csv")]
    adult: PathBuf,
}

/// The Adult columns, in file order.
pub const COLUMNS: [&str; 9] = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
    "salary-class",
];

/// Columns a row may have redrawn from its marginal.
const REDRAWN: [usize; 5] = [3, 4, 5, 6, 7];

/// Rows generated per chunk (each chunk has its own seeded stream, so the
/// output does not depend on the number of threads).
const CHUNK: u64 = 1 << 20;

/// Rows per Parquet row group (a streaming reader's batch).
const ROW_GROUP: usize = 1 << 18;

/// Adult's rows as fields.
pub struct Adult {
    rows: Vec<Vec<String>>,
}

impl Adult {
    /// Reads Adult (`;`-separated with a header).
    pub fn read(path: &Path) -> Result<Adult, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().ok_or("empty Adult file")?.split(';').collect();
        if header != COLUMNS {
            return Err(format!("unexpected Adult header {header:?}").into());
        }
        let rows: Vec<Vec<String>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(';').map(str::to_owned).collect())
            .collect();
        if rows.is_empty() || rows.iter().any(|r| r.len() != COLUMNS.len()) {
            return Err("Adult rows must have nine fields".into());
        }
        Ok(Adult { rows })
    }

    /// Rows `start..start + len` of the synthetic table for `seed`, as
    /// (ages, the other fields by column) borrowing Adult's strings.
    fn chunk(&self, seed: u64, start: u64, len: usize) -> (Vec<i64>, Vec<Vec<&str>>) {
        let mut rng = SplitMix(seed ^ (start / CHUNK).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut ages = Vec::with_capacity(len);
        let mut columns: Vec<Vec<&str>> = vec![Vec::with_capacity(len); COLUMNS.len()];
        for _ in 0..len {
            let row = &self.rows[rng.below(self.rows.len())];
            let age: i64 = row[1].parse().unwrap_or(40);
            ages.push((age + rng.below(7) as i64 - 3).clamp(17, 90));
            let redrawn = if rng.below(20) == 0 {
                Some(REDRAWN[rng.below(REDRAWN.len())])
            } else {
                None
            };
            for (j, column) in columns.iter_mut().enumerate() {
                let value = if Some(j) == redrawn {
                    &self.rows[rng.below(self.rows.len())][j]
                } else {
                    &row[j]
                };
                column.push(value.as_str());
            }
        }
        (ages, columns)
    }
}

/// Writes `rows` synthetic rows for `seed` to `output` (Parquet or CSV).
pub fn generate(
    adult: &Adult,
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
    if parquet {
        let schema: Schema = COLUMNS
            .iter()
            .map(|&c| {
                let dtype = if c == "age" {
                    DataType::Int64
                } else {
                    DataType::String
                };
                (c.into(), dtype)
            })
            .collect();
        let mut writer = ParquetWriter::new(file)
            .with_row_group_size(Some(ROW_GROUP))
            .batched(&schema)?;
        // Two chunks at a time: generated in parallel, written in order.
        for pair in starts.chunks(2) {
            let frames: Vec<DataFrame> = pair
                .par_iter()
                .map(|&start| {
                    let len = CHUNK.min(rows - start) as usize;
                    let (ages, columns) = adult.chunk(seed, start, len);
                    let columns = COLUMNS
                        .iter()
                        .zip(columns)
                        .map(|(&name, values)| {
                            if name == "age" {
                                Column::new(name.into(), &ages)
                            } else {
                                Column::new(name.into(), values)
                            }
                        })
                        .collect();
                    DataFrame::new(len, columns)
                })
                .collect::<Result<_, _>>()?;
            for frame in &frames {
                writer.write_batch(frame)?;
            }
        }
        writer.finish()?;
    } else {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        writeln!(out, "{}", COLUMNS.join(";"))?;
        for pair in starts.chunks(2) {
            let texts: Vec<String> = pair
                .par_iter()
                .map(|&start| {
                    let len = CHUNK.min(rows - start) as usize;
                    let (ages, columns) = adult.chunk(seed, start, len);
                    let mut text = String::with_capacity(len * 100);
                    for (r, age) in ages.iter().enumerate() {
                        for (j, column) in columns.iter().enumerate() {
                            if j > 0 {
                                text.push(';');
                            }
                            if j == 1 {
                                text.push_str(&age.to_string());
                            } else {
                                text.push_str(column[r]);
                            }
                        }
                        text.push('\n');
                    }
                    text
                })
                .collect();
            for text in &texts {
                out.write_all(text.as_bytes())?;
            }
        }
        out.flush()?;
    }
    std::fs::rename(&temporary, output)?;
    Ok(())
}

/// The ruleset text for a generated file `data` (a file name next to the
/// ruleset), with the hierarchies in `hierarchies`.
pub fn ruleset_text(data: &str, hierarchies: &Path) -> String {
    let mut text = format!(
        "# Synthetic census data generated by examples/generate_census.rs (Adult schema).\n\n\
         [data]\npath = \"{data}\"\ndelimiter = \";\"\n"
    );
    for name in COLUMNS {
        let role = if name == "occupation" {
            "sensitive"
        } else {
            "quasi-identifier"
        };
        let data_type = if name == "age" { "integer" } else { "string" };
        text.push_str(&format!(
            "\n[[attribute]]\nname = \"{name}\"\nrole = \"{role}\"\ntype = \"{data_type}\"\nhierarchy = \"{}\"\n",
            hierarchies.join(format!("{name}.csv")).display()
        ));
    }
    text.push_str(
        "\n[anonymization]\nsuppression_limit = 0.02\nmetric = \"loss\"\nmodels = [{ type = \"k-anonymity\", k = 5 }]\n",
    );
    text
}

/// The ruleset path written next to `output`.
pub fn ruleset_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".toml");
    output.with_file_name(name)
}

/// Writes the ruleset next to `output`, pointing at it.
pub fn write_ruleset(output: &Path, hierarchies: &Path) -> std::io::Result<PathBuf> {
    let data = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hierarchies = std::fs::canonicalize(hierarchies)?;
    let path = ruleset_path(output);
    std::fs::write(&path, ruleset_text(&data, &hierarchies))?;
    Ok(path)
}

#[allow(dead_code)]
fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let adult = Adult::read(&args.adult)?;
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    generate(&adult, args.rows, args.seed, &args.output)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    let hierarchies = args
        .adult
        .parent()
        .map(|p| p.join("hierarchies"))
        .unwrap_or_else(|| PathBuf::from("hierarchies"));
    let ruleset = write_ruleset(&args.output, &hierarchies).map_err(|e| {
        format!(
            "cannot write the ruleset beside {} (hierarchies from {}): {e}",
            args.output.display(),
            hierarchies.display()
        )
    })?;
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

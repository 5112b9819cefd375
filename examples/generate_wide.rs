//! Writes Adult widened to 31 quasi-identifiers with synthetic clinical
//! columns, in ARX's benchmark layout, for measuring searches on wide data
//! beside ARX: every Adult row (its nine attributes kept) gains a birth
//! date (from its age), admission and discharge dates, a length of stay, a
//! residence and a provider ZIP code, up to ten ICD-10-like diagnosis codes,
//! up to four CPT-like procedure codes, a payer and an admission type, each
//! drawn from skewed distributions with a seeded generator. No real person's
//! clinical data is in the output.
//!
//! Writes into the output folder `adult_wide.csv` (`;`-separated), one
//! hierarchy file per column (`adult_wide_hierarchy_<column>.csv`, ARX's
//! format: a row per value, its generalizations to the right, `*` last; the
//! nine Adult columns take the repository's Adult hierarchies) and a
//! ruleset, `adult_wide.toml` (every column a quasi-identifier, k = 5 with
//! 2 % suppression, the best-effort search with a 5 s limit).
//!
//! ```sh
//! cargo run --release --example generate_wide -- --output target/wide
//! cargo run --release --example anonymize -- --config target/wide/adult_wide.toml
//! ```
//!
//! Generated data is never committed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Adult widened with synthetic clinical quasi-identifiers.
#[derive(Parser, Debug)]
#[command(
    about = "Writes Adult widened to 31 quasi-identifiers (synthetic dates, ZIP codes, diagnoses, procedures), its hierarchies and a ruleset"
)]
struct Args {
    /// The output folder (created if missing).
    #[arg(long)]
    output: PathBuf,
    /// Seed of the generator (the output is a function of the seed and Adult).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The Adult folder: `adult.csv` and `hierarchies/`.
    #[arg(long, default_value = "datasets/adult")]
    adult: PathBuf,
}

/// How often each of the ten diagnosis columns holds a code.
const DIAGNOSES: [f64; 10] = [1.0, 0.8, 0.6, 0.45, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05];

/// How often each of the four procedure columns holds a code.
const PROCEDURES: [f64; 4] = [0.7, 0.4, 0.2, 0.1];

/// Payers and their groups.
const PAYERS: [(&str, &str); 8] = [
    ("Medicare", "Public"),
    ("Medicaid", "Public"),
    ("BlueCross", "Private"),
    ("Aetna", "Private"),
    ("UnitedHealth", "Private"),
    ("Cigna", "Private"),
    ("Self-pay", "Self"),
    ("Other", "Other"),
];

/// Admission types and their groups.
const ADMISSIONS: [(&str, &str); 5] = [
    ("Emergency", "Unplanned"),
    ("Urgent", "Unplanned"),
    ("Trauma", "Unplanned"),
    ("Elective", "Planned"),
    ("Newborn", "Planned"),
];

/// A column: its values by row and each value's generalizations.
struct Column {
    name: String,
    values: Vec<String>,
    /// Value → its generalizations, `*` last (empty for the Adult columns,
    /// whose hierarchy files are copied).
    levels: BTreeMap<String, Vec<String>>,
}

/// A skewed index in `0..n`: small indices far more frequent.
fn skewed(rng: &mut StdRng, n: usize, power: i32) -> usize {
    let u: f64 = rng.random();
    ((u.powi(power) * n as f64) as usize).min(n - 1)
}

/// A day as `YYYY-MM-DD` from days since 1900-01-01 (proleptic Gregorian).
fn date(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's civil_from_days, shifted to 1970.
    let z = days - 25_567 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A date value and its generalizations: month, year, decade, `*`.
fn date_levels(days: i64) -> (String, Vec<String>) {
    let (y, m, d) = date(days);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        vec![
            format!("{y:04}-{m:02}"),
            format!("{y:04}"),
            format!("{}s", y / 10 * 10),
            "*".into(),
        ],
    )
}

/// A ZIP code and its redactions to `*****`, then `*`.
fn zip_levels(zip: u32) -> (String, Vec<String>) {
    let text = format!("{zip:05}");
    let mut levels: Vec<String> = (1..=4)
        .map(|stars| format!("{}{}", &text[..5 - stars], "*".repeat(stars)))
        .collect();
    levels.push("*".into());
    (text, levels)
}

impl Column {
    fn new(name: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            values: Vec::new(),
            levels: BTreeMap::new(),
        }
    }

    fn push(&mut self, (value, levels): (String, Vec<String>)) {
        self.levels.entry(value.clone()).or_insert(levels);
        self.values.push(value);
    }
}

/// Adult's column names (each with a hierarchy file in the Adult folder)
/// and its rows.
type Adult = (Vec<String>, Vec<Vec<String>>);

/// Reads Adult.
fn read_adult(path: &Path) -> Result<Adult, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .ok_or("Adult is empty")?
        .split(';')
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(';').map(str::to_owned).collect())
        .collect();
    if let Some(r) = rows.iter().position(|r| r.len() != header.len()) {
        return Err(format!(
            "{}: row {} has the wrong number of fields",
            path.display(),
            r + 2
        )
        .into());
    }
    Ok((header, rows))
}

/// The synthetic columns for `ages` (one per row).
fn synthetic(ages: &[u32], seed: u64) -> Vec<Column> {
    let mut rng = StdRng::seed_from_u64(seed);
    // Pools of codes, fixed by the seed: ZIP codes, diagnoses, procedures.
    let residence: Vec<u32> = (0..3_000)
        .map(|_| rng.random_range(1_000..99_999))
        .collect();
    let providers: Vec<u32> = (0..300).map(|_| rng.random_range(1_000..99_999)).collect();
    let chapters = b"ABCDEFGHIJKLMNOPQRSTZ";
    let diagnoses: Vec<(char, u32, u32)> = (0..2_500)
        .map(|_| {
            let chapter = chapters[rng.random_range(0..chapters.len())] as char;
            (chapter, rng.random_range(0..100), rng.random_range(0..10))
        })
        .collect();
    let procedures: Vec<u32> = (0..800).map(|_| rng.random_range(10_000..99_999)).collect();
    let mut columns: Vec<Column> = [
        "birth-date",
        "admission-date",
        "discharge-date",
        "length-of-stay",
        "zip",
        "provider-zip",
    ]
    .into_iter()
    .map(Column::new)
    .collect();
    columns.extend((1..=DIAGNOSES.len()).map(|k| Column::new(format!("diagnosis-{k}"))));
    columns.extend((1..=PROCEDURES.len()).map(|k| Column::new(format!("procedure-{k}"))));
    columns.push(Column::new("payer"));
    columns.push(Column::new("admission-type"));
    // `none` generalized to itself, then `*`: `levels` generalizations.
    let none = |levels: usize| {
        ("none".to_string(), {
            let mut l = vec!["none".to_string(); levels - 1];
            l.push("*".into());
            l
        })
    };
    // 2020-01-01 is day 43,829 since 1900-01-01.
    for &age in ages {
        let admission = 43_829 - 3 * 365 + rng.random_range(0..3 * 365);
        let birth = admission - i64::from(age) * 365 - rng.random_range(0..365);
        let stay = 1 + skewed(&mut rng, 30, 2) as i64;
        columns[0].push(date_levels(birth));
        columns[1].push(date_levels(admission));
        columns[2].push(date_levels(admission + stay));
        let band = |width: i64| {
            let low = (stay - 1) / width * width + 1;
            format!("{low}-{}", low + width - 1)
        };
        columns[3].push((stay.to_string(), vec![band(7), band(28), "*".into()]));
        columns[4].push(zip_levels(residence[skewed(&mut rng, residence.len(), 3)]));
        columns[5].push(zip_levels(providers[skewed(&mut rng, providers.len(), 2)]));
        for (k, &p) in DIAGNOSES.iter().enumerate() {
            let value = if rng.random::<f64>() < p {
                let (chapter, category, sub) = diagnoses[skewed(&mut rng, diagnoses.len(), 3)];
                (
                    format!("{chapter}{category:02}.{sub}"),
                    vec![
                        format!("{chapter}{category:02}"),
                        format!("{chapter}{}x", category / 10),
                        chapter.to_string(),
                        "*".into(),
                    ],
                )
            } else {
                none(4)
            };
            columns[6 + k].push(value);
        }
        for (k, &p) in PROCEDURES.iter().enumerate() {
            let value = if rng.random::<f64>() < p {
                let code = procedures[skewed(&mut rng, procedures.len(), 3)];
                (
                    code.to_string(),
                    vec![
                        format!("{}xx", code / 100),
                        format!("{}xxxx", code / 10_000),
                        "*".into(),
                    ],
                )
            } else {
                none(3)
            };
            columns[6 + DIAGNOSES.len() + k].push(value);
        }
        let (payer, group) = PAYERS[skewed(&mut rng, PAYERS.len(), 2)];
        columns[20].push((payer.into(), vec![group.into(), "*".into()]));
        let (kind, group) = ADMISSIONS[skewed(&mut rng, ADMISSIONS.len(), 2)];
        columns[21].push((kind.into(), vec![group.into(), "*".into()]));
    }
    columns
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let (adult, rows) = read_adult(&args.adult.join("adult.csv"))?;
    let age = adult
        .iter()
        .position(|c| c == "age")
        .ok_or("Adult has no age column")?;
    let ages: Vec<u32> = rows
        .iter()
        .map(|r| r[age].parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| "an Adult age is not a whole number")?;
    let columns = synthetic(&ages, args.seed);
    std::fs::create_dir_all(&args.output)?;
    let names: Vec<&str> = adult
        .iter()
        .map(String::as_str)
        .chain(columns.iter().map(|c| c.name.as_str()))
        .collect();
    write_lines(
        &args.output.join("adult_wide.csv"),
        std::iter::once(names.join(";")).chain(rows.iter().enumerate().map(|(r, adult)| {
            adult
                .iter()
                .map(String::as_str)
                .chain(columns.iter().map(|c| c.values[r].as_str()))
                .collect::<Vec<_>>()
                .join(";")
        })),
    )?;
    let hierarchy = |name: &str| args.output.join(format!("adult_wide_hierarchy_{name}.csv"));
    for name in &adult {
        std::fs::copy(
            args.adult.join("hierarchies").join(format!("{name}.csv")),
            hierarchy(name),
        )?;
    }
    for column in &columns {
        write_lines(
            &hierarchy(&column.name),
            column.levels.iter().map(|(value, levels)| {
                std::iter::once(value.as_str())
                    .chain(levels.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(";")
            }),
        )?;
    }
    let mut toml = String::from(
        "# Adult widened by examples/generate_wide.rs: every column a quasi-identifier.\n\
         [data]\npath = \"adult_wide.csv\"\ndelimiter = \";\"\n",
    );
    for name in &names {
        toml.push_str(&format!(
            "\n[[attribute]]\nname = \"{name}\"\nrole = \"quasi-identifier\"\nhierarchy = \"adult_wide_hierarchy_{name}.csv\"\n"
        ));
    }
    toml.push_str(
        "\n[anonymization]\nsuppression_limit = 0.02\nmodels = [{ type = \"k-anonymity\", k = 5 }]\nstrategy = \"best-effort\"\ntime_limit_ms = 5000\n",
    );
    std::fs::write(args.output.join("adult_wide.toml"), toml)?;
    let distinct: BTreeSet<usize> = columns.iter().map(|c| c.levels.len()).collect();
    println!(
        "wrote {} rows of {} quasi-identifiers to {} ({} to {} values per synthetic column)",
        rows.len(),
        names.len(),
        args.output.display(),
        distinct.first().unwrap_or(&0),
        distinct.last().unwrap_or(&0)
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! Times the large-data pipeline on one file: streaming ingest into the
//! frequency table → optimal search → streaming apply, reporting the wall
//! time of each stage and the peak memory (VmHWM from /proc/self/status).
//!
//! ```sh
//! cargo run --release --example generate_census -- --rows 10000000 --output target/census-10m.parquet
//! cargo run --release --example scale -- --config target/census-10m.parquet.toml --output target/census-10m-k5.parquet
//! ```
//!
//! The models, suppression limit and metric come from the ruleset's
//! `[anonymization]` table, unless `--k` / `--suppression` are given.
//!
//! `--table FILE` also writes the counted frequency table (a staging file of
//! quasi-identifier tuples with their counts) and reads it back, timing both.
//! With `--staging-key key.txt` (an age identity file; `--new-staging-key`
//! creates it) or the key in `DEIDENTIFY_STAGING_KEY`, the table and the
//! output are encrypted to that key as they are written (age files; decrypt
//! with `age -d -i key.txt FILE`): no plaintext reaches the disk.
//!
//! `--engine spark --master spark://host:7077` (or `[engine] kind = "spark"`
//! in the ruleset) counts the table and writes the release on Apache Spark
//! (`deidentify::spark`): the release is then a folder of part files, and
//! the peak memory is this process's only (Spark's JVMs are not counted).
//!
//! ```sh
//! cargo run --release --example scale -- --config target/census-10m.parquet.toml \
//!   --output target/census-10m-k5.parquet --engine spark --master spark://127.0.0.1:7077
//! ```
//!
//! Exit status (`deidentify::exit::Exit`): 0 written; 1 bad input or I/O error
//! (an output onto an input included); 2 wrong command line; 3 no node
//! satisfies the models (nothing written).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use deidentify::{
    AnonymizationConfig, Ruleset,
    apply::check_output,
    exit::Exit,
    model::ModelSpec,
    ruleset::EngineKind,
    spark::SparkEngine,
    stream::{LabeledTable, STAGING_KEY_ENV, StagingKey, StreamOptions, StreamedTable},
};

/// Time ingest → search → apply on one file.
#[derive(Parser, Debug)]
#[command(about = "Times streaming ingest, optimal search and streaming apply, with peak memory")]
struct Args {
    /// The ruleset (its [data] path is the input, CSV or Parquet).
    #[arg(long)]
    config: PathBuf,
    /// The anonymized output (.parquet or CSV); default: next to the input.
    #[arg(long)]
    output: Option<PathBuf>,
    /// k of k-anonymity (replaces the ruleset's models).
    #[arg(long)]
    k: Option<u64>,
    /// The suppression limit (fraction of rows).
    #[arg(long)]
    suppression: Option<f64>,
    /// Rows per batch.
    #[arg(long, default_value_t = 1 << 18)]
    batch_rows: usize,
    /// Also write the counted frequency table here (long-form Parquet) and
    /// read it back, timing both.
    #[arg(long)]
    table: Option<PathBuf>,
    /// Encrypt the table and the output to this key (an age identity file,
    /// as `age-keygen -o FILE` writes it). Without it, the key is read from
    /// the environment variable DEIDENTIFY_STAGING_KEY if that is set.
    #[arg(long, value_name = "FILE")]
    staging_key: Option<PathBuf>,
    /// Create the --staging-key file with a new key first (never overwrites).
    #[arg(long, requires = "staging_key")]
    new_staging_key: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The least generalization level of a quasi-identifier while counting,
    /// `NAME=LEVEL` (repeatable; hierarchies from files only).
    #[arg(long = "min-level", value_name = "NAME=LEVEL")]
    min_levels: Vec<String>,
    /// Where counting and the release run: `in-process` or `spark`
    /// (default: the ruleset's [engine], else in-process).
    #[arg(long, value_parser = ["in-process", "spark"])]
    engine: Option<String>,
    /// Spark's master URL (replaces the ruleset's).
    #[arg(long)]
    master: Option<String>,
    /// The spark-submit program (replaces the ruleset's).
    #[arg(long)]
    spark_submit: Option<PathBuf>,
    /// A Spark setting `KEY=VALUE` (repeatable).
    #[arg(long = "spark-conf", value_name = "KEY=VALUE")]
    spark_conf: Vec<String>,
    /// The folder for Spark job files (seen alike by this process and the cluster).
    #[arg(long)]
    spark_work_dir: Option<PathBuf>,
    /// Copy Spark's log (standard error) into this file.
    #[arg(long)]
    spark_log: Option<PathBuf>,
}

/// A `NAME=VALUE` argument split at its first `=`.
fn pair(text: &str, what: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{what} '{text}' is not NAME=VALUE"))
}

/// The Spark engine from the ruleset's [engine] and the command line, if
/// the run is on Spark.
fn spark_engine(
    args: &Args,
    ruleset: &Ruleset,
) -> Result<Option<SparkEngine>, Box<dyn std::error::Error>> {
    let mut rule = ruleset.engine.clone().unwrap_or_default();
    match args.engine.as_deref() {
        Some("spark") => rule.kind = EngineKind::Spark,
        Some(_) => rule.kind = EngineKind::InProcess,
        None => {}
    }
    if let Some(master) = &args.master {
        rule.master = Some(master.clone());
    }
    let Some(mut engine) = SparkEngine::from_rule(&rule, &ruleset.base)? else {
        return Ok(None);
    };
    if let Some(path) = &args.spark_submit {
        engine.spark_submit = path.clone();
    }
    for setting in &args.spark_conf {
        let (key, value) = pair(setting, "--spark-conf")?;
        engine.conf.insert(key, value);
    }
    if let Some(dir) = &args.spark_work_dir {
        engine.work_dir = Some(dir.clone());
    }
    engine.log = args.spark_log.clone();
    engine.progress = !args.json;
    Ok(Some(engine))
}

/// The staging key: the key file, the environment variable, or none.
fn staging_key(args: &Args) -> deidentify::Result<Option<StagingKey>> {
    match &args.staging_key {
        Some(path) if args.new_staging_key => {
            let key = StagingKey::generate();
            key.write_new_file(path)?;
            Ok(Some(key))
        }
        Some(path) => StagingKey::from_file(path).map(Some),
        None if std::env::var_os(STAGING_KEY_ENV).is_some() => {
            StagingKey::from_env(STAGING_KEY_ENV).map(Some)
        }
        None => Ok(None),
    }
}

/// A field of /proc/self/status in KiB (VmHWM: peak resident set; VmRSS: current).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> f64 {
    kib.map_or(f64::NAN, |k| k as f64 / 1024.0)
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Error.into()
        }
    }
}

fn run(args: &Args) -> Result<Exit, Box<dyn std::error::Error>> {
    let ruleset = Ruleset::from_file(&args.config)?;
    let mut config = match &ruleset.anonymization {
        Some(rule) => rule.config()?,
        None => AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.02),
    };
    if let Some(k) = args.k {
        config.models = vec![ModelSpec::KAnonymity { k }];
    }
    if let Some(s) = args.suppression {
        config.suppression_limit = s;
    }
    let input = ruleset.data_path();
    let output = args.output.clone().unwrap_or_else(|| {
        let mut name = input.file_stem().unwrap_or_default().to_os_string();
        name.push("-anonymized.");
        name.push(input.extension().unwrap_or_default());
        input.with_file_name(name)
    });
    let mut inputs = ruleset.input_files();
    inputs.extend(args.staging_key.clone());
    check_output(&output, &inputs)?;
    if let Some(log) = &args.spark_log {
        check_output(log, &inputs)?;
    }
    if let Some(table) = &args.table {
        check_output(table, &inputs)?;
    }
    let mut options = StreamOptions::default().with_batch_rows(args.batch_rows);
    for setting in &args.min_levels {
        let (name, level) = pair(setting, "--min-level")?;
        let level: u32 = level
            .parse()
            .map_err(|_| format!("--min-level {setting}: the level is not a number"))?;
        options.min_levels.insert(name, level);
    }
    options.staging_key = staging_key(args)?;
    let engine = spark_engine(args, &ruleset)?;
    if engine.is_some() && options.staging_key.is_some() {
        return Err(
            "a staging key does not apply to a Spark run: Spark writes its files in plaintext"
                .into(),
        );
    }
    let key = options.staging_key.as_ref();
    let orders = ruleset.orders();
    let total = Instant::now();

    let started = Instant::now();
    let mut streamed = match &engine {
        Some(engine) => engine.count(&ruleset, &options)?,
        None => StreamedTable::from_ruleset(&ruleset, &options)?,
    };
    let ingest_s = started.elapsed().as_secs_f64();
    let ingest_peak = mib(status_kib("VmHWM:"));

    // The staging table: written (encrypted as written with a key), then read back.
    let mut table_times = None;
    if let Some(path) = &args.table {
        let labeled = streamed.labeled()?;
        let started = Instant::now();
        labeled.write_parquet_with_key(path, key)?;
        let write_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let read = LabeledTable::read_parquet_with_key(path, key)?;
        let read_s = started.elapsed().as_secs_f64();
        if read.table().classes() != labeled.table().classes() {
            return Err(format!("{} read back with another table", path.display()).into());
        }
        let bytes = std::fs::metadata(path)?.len();
        table_times = Some((write_s, read_s, bytes));
    }

    let started = Instant::now();
    let result = streamed.search(&config, &orders)?;
    let search_s = started.elapsed().as_secs_f64();
    let search_peak = mib(status_kib("VmHWM:"));
    let Some(optimum) = result.optimum.clone() else {
        eprintln!("no node satisfies the models within the suppression limit; nothing written");
        return Ok(Exit::NotReleasable);
    };

    let started = Instant::now();
    let suppressed_rows = match &engine {
        Some(engine) => {
            engine
                .release(
                    &ruleset,
                    &mut streamed,
                    &config,
                    &orders,
                    &optimum.node,
                    &output,
                )?
                .suppressed_rows
        }
        None => {
            streamed
                .apply_to_file(
                    &config,
                    &orders,
                    &optimum.node,
                    &output,
                    ruleset.data.delimiter as u8,
                    &options,
                )?
                .suppressed_rows
        }
    };
    let apply_s = started.elapsed().as_secs_f64();
    let apply_peak = mib(status_kib("VmHWM:"));
    let total_s = total.elapsed().as_secs_f64();

    let levels = result.levels().unwrap_or_default();
    if args.json {
        let report = serde_json::json!({
            "input": input.display().to_string(),
            "output": output.display().to_string(),
            "rows": streamed.rows(),
            "classes": streamed.table().classes(),
            "threads": rayon::current_num_threads(),
            "optimum": levels,
            "suppressed_rows": suppressed_rows,
            "engine": if engine.is_some() { "spark" } else { "in-process" },
            "nodes_checked": result.nodes_checked,
            "lattice_size": result.lattice_size,
            "ingest_s": ingest_s,
            "search_s": search_s,
            "apply_s": apply_s,
            "total_s": total_s,
            "peak_mib_after_ingest": ingest_peak,
            "peak_mib_after_search": search_peak,
            "peak_mib_after_apply": apply_peak,
            "encrypted": key.is_some(),
            "table": args.table.as_ref().map(|p| p.display().to_string()),
            "table_write_s": table_times.map(|t| t.0),
            "table_read_s": table_times.map(|t| t.1),
            "table_bytes": table_times.map(|t| t.2),
        });
        println!("{report}");
    } else {
        println!("input:   {} ({} rows)", input.display(), streamed.rows());
        println!(
            "table:   {} classes at the counted node (the minimum levels; else the bottom); {} threads",
            streamed.table().classes(),
            rayon::current_num_threads()
        );
        println!(
            "optimum: {optimum_node} ({} of {} nodes checked), {} rows suppressed",
            result.nodes_checked,
            result.lattice_size,
            suppressed_rows,
            optimum_node = levels
                .iter()
                .map(|(a, l)| format!("{a}={l}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        println!("output:  {}", output.display());
        if let Some(key) = key {
            println!("encrypted to the staging key {}", key.fingerprint());
        }
        if let (Some(path), Some((write_s, read_s, bytes))) = (&args.table, table_times) {
            println!(
                "staged:  {} ({bytes} bytes): written in {write_s:.3} s, read back in {read_s:.3} s",
                path.display()
            );
        }
        println!("stage      wall (s)   peak RSS so far (MiB)");
        println!("ingest   {ingest_s:10.2}   {ingest_peak:10.0}");
        println!("search   {search_s:10.2}   {search_peak:10.0}");
        println!("apply    {apply_s:10.2}   {apply_peak:10.0}");
        println!("total    {total_s:10.2}");
    }
    Ok(Exit::Success)
}

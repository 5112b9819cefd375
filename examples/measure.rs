//! Prints the privacy profile of a dataset at one generalization node, or
//! measures a released table (from this crate or another tool, such as
//! ARX) against the data it was made from.
//!
//! ```text
//! cargo run --release --example measure -- --config datasets/adult/adult.toml --levels age=2,sex=1 --json
//! cargo run --release --example measure -- --config datasets/adult/adult9.toml --release out.csv --k 5
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::exit::Exit;
use deidentify::model::ModelSpec;
use deidentify::recode::measure_release;
use deidentify::{AnonymizationConfig, Node, PrivacyProfile, Ruleset, measure::ProfileOptions};
use serde_json::json;

/// Measure k-anonymity, l-diversity, t-closeness, δ-disclosure, β-likeness
/// and (α,k)-anonymity of a dataset generalized to one node (no suppression).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The ruleset (TOML) describing the data, roles, types and hierarchies.
    #[arg(long)]
    config: PathBuf,
    /// Generalization levels as `attribute=level,…`; unlisted quasi-identifiers stay at level 0.
    #[arg(long, default_value = "")]
    levels: String,
    /// Measure this released table (CSV with the ruleset's delimiter, or
    /// .parquet; same rows in the same order as the ruleset's data) instead:
    /// its classes (records with the same released values), whether each
    /// meets the models, suppressed records (every quasi-identifier `*`) and
    /// cells, granularity, non-uniform entropy and SSE/SST.
    #[arg(long, conflicts_with = "levels")]
    release: Option<PathBuf>,
    /// With --release: judge the classes by k-anonymity with this k (instead
    /// of the ruleset's models).
    #[arg(long, requires = "release")]
    k: Option<u64>,
    /// The c of recursive (c,l)-diversity for which the largest l is reported.
    #[arg(long, default_value_t = 2.0)]
    recursive_c: f64,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let ruleset = Ruleset::from_file(&args.config)?;
    let loaded = ruleset.load()?;
    if let Some(path) = &args.release {
        return measure_file(args, &ruleset, &loaded, path);
    }
    let names = loaded.dataset.quasi_identifier_names();
    let node = Node::parse(&args.levels, &names)?;
    let options = ProfileOptions::default()
        .with_recursive_c(args.recursive_c)
        .with_orders(ruleset.orders());
    let profile = PrivacyProfile::measure(&loaded.dataset, &loaded.hierarchies, &node, &options)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&profile)?);
        return Ok(());
    }
    println!("node {node} ({})", names.join(", "));
    println!(
        "rows {}, classes {}, k = {}, sample uniques {}",
        profile.rows, profile.classes, profile.k, profile.sample_uniques
    );
    for (name, s) in &profile.sensitive {
        println!("sensitive attribute {name}:");
        println!("  distinct l-diversity      l = {}", s.l_distinct);
        println!("  entropy l-diversity       l = {:.6}", s.l_entropy);
        println!(
            "  recursive (c,l)-diversity l = {} for c = {}",
            s.recursive_c_l, s.recursive_c
        );
        println!("  t-closeness (equal)       t = {:.6}", s.t_equal);
        if let Some(t) = s.t_ordered {
            println!("  t-closeness (ordered)     t = {t:.6}");
        }
        if let Some(t) = s.t_hierarchical {
            println!("  t-closeness (hierarchical) t = {t:.6}");
        }
        println!(
            "  δ-disclosure privacy      δ = {:.6} (values present in a class)",
            s.delta_disclosure
        );
        println!("  basic β-likeness          β = {:.6}", s.beta_basic);
        match s.beta_enhanced {
            Some(b) => println!("  enhanced β-likeness       β = {b:.6}"),
            None => println!("  enhanced β-likeness       not satisfiable (a gain exceeds −ln p)"),
        }
        println!("  (α,k)-anonymity           α = {:.6}", s.alpha);
    }
    Ok(())
}

/// `--release`: the measure of a released table.
fn measure_file(
    args: &Args,
    ruleset: &Ruleset,
    loaded: &deidentify::ruleset::LoadedRuleset,
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = match &ruleset.anonymization {
        Some(rule) => rule.config()?,
        None => AnonymizationConfig::new(Vec::new(), 0.0),
    };
    if let Some(k) = args.k {
        config.models = vec![ModelSpec::KAnonymity { k }];
    }
    let frame = ruleset.read_table(path)?;
    let measure = measure_release(
        &loaded.dataset,
        &loaded.hierarchies,
        &config,
        &ruleset.orders(),
        &frame,
        None,
    )?;
    let sizes = measure.released_sizes();
    let summary = json!({
        "rows": frame.height(),
        "models": config.models,
        "classes": sizes.len(),
        "smallest_class": sizes.iter().min(),
        "classes_failing": measure.failing.len(),
        "suppressed_records": measure.suppressed_records,
        "suppressed_cells": measure.suppressed_cells,
        "granularity": measure.loss.granularity_mean,
        "loss": measure.loss,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{} rows, {} classes (smallest {}), {} failing a model; {} records and {} cells suppressed",
            frame.height(),
            sizes.len(),
            sizes.iter().min().copied().unwrap_or(0),
            measure.failing.len(),
            measure.suppressed_records,
            measure.suppressed_cells
        );
        println!("granularity {:.6}", measure.loss.granularity_mean);
        for (name, g) in &measure.loss.granularity {
            println!(
                "  {name}: granularity {g:.6}, non-uniform entropy {:.1}",
                measure.loss.non_uniform_entropy[name]
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Error.into()
        }
    }
}

//! Prints the privacy profile of a dataset at one generalization node.
//!
//! ```text
//! cargo run --release --example measure -- --config datasets/adult/adult.toml --levels age=2,sex=1 --json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::exit::Exit;
use deidentify::{Node, PrivacyProfile, Ruleset, measure::ProfileOptions};

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

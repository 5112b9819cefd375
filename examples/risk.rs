//! Measures re-identification risk of a dataset (optionally generalized to a node).
//!
//! ```text
//! cargo run --release --example risk -- --config datasets/adult/adult9.toml --population 317200000 --threshold 0.2 --json
//! ```
//!
//! Exit status (`deidentify::exit::Exit`): 0 measured (with `--fail-on-decision`:
//! and every decision passes); 1 bad input or I/O error; 2 wrong command
//! line; 3 with `--fail-on-decision`, a decision fails (after anonymization
//! when `--anonymize`), or with `--anonymize` no transformation satisfies
//! the models.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::{
    Node, RiskAnalysis, Ruleset, apply,
    exit::Exit,
    frequency::FrequencyTable,
    risk::{Population, RiskOptions, RiskThreshold, Suda, population_class_sizes},
    search,
};

/// Prosecutor, journalist and marketer risk, sample uniques, Zayatz and Pitman
/// population uniques, sdcMicro's individual risk and SUDA special uniques of the
/// ruleset's quasi-identifiers.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The ruleset (TOML) describing the data, roles and hierarchies.
    #[arg(long)]
    config: PathBuf,
    /// The population size N (for population uniqueness).
    #[arg(long, conflicts_with = "sampling_fraction")]
    population: Option<u64>,
    /// The sampling fraction n/N, instead of --population.
    #[arg(long)]
    sampling_fraction: Option<f64>,
    /// The acceptable re-identification probability (translated to k as ARX does).
    #[arg(long, default_value_t = 0.2, conflicts_with = "k")]
    threshold: f64,
    /// The threshold as a smallest class size instead.
    #[arg(long)]
    k: Option<u64>,
    /// The largest minimal-sample-unique size SUDA searches.
    #[arg(long, default_value_t = 3)]
    suda_max_size: usize,
    /// The sampling fraction for SUDA's DIS (default: the population's, else 0.01).
    #[arg(long)]
    dis_fraction: Option<f64>,
    /// Generalization levels as `attribute=level,…` (default: the original data).
    #[arg(long, default_value = "")]
    levels: String,
    /// A population table (CSV or Parquet with the quasi-identifier columns) for
    /// the journalist and marketer models; it must contain the sample.
    #[arg(long)]
    population_table: Option<PathBuf>,
    /// An insensitive column of sampling weights, for sdcMicro's weighted individual risk.
    #[arg(long)]
    weights: Option<String>,
    /// Also anonymize with the ruleset's [anonymization] table (optimal search)
    /// and measure the released data: prints the risk before and after.
    #[arg(long)]
    anonymize: bool,
    /// Exit with status 3 when a decision at the threshold fails (for the
    /// released data with --anonymize).
    #[arg(long)]
    fail_on_decision: bool,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

/// The exit status of a measured release.
fn decided(args: &Args, risk: &RiskAnalysis) -> Exit {
    if args.fail_on_decision && risk.decisions.iter().any(|d| !d.passes) {
        Exit::NotReleasable
    } else {
        Exit::Success
    }
}

fn run(args: &Args) -> Result<Exit, Box<dyn std::error::Error>> {
    let ruleset = Ruleset::from_file(&args.config)?;
    let loaded = ruleset.load()?;
    let names = loaded.dataset.quasi_identifier_names();
    let node = Node::parse(&args.levels, &names)?;
    let table = FrequencyTable::from_dataset(&loaded.dataset, &loaded.hierarchies, &node)?;
    let threshold = match args.k {
        Some(k) => RiskThreshold::class_size(k)?,
        None => RiskThreshold::probability(args.threshold)?,
    };
    let population = match (args.population, args.sampling_fraction) {
        (Some(n), _) => Some(Population::Size(n)),
        (None, Some(f)) => Some(Population::SamplingFraction(f)),
        (None, None) => None,
    };
    let mut options = RiskOptions::new(threshold);
    options.population = population;
    let population_table = match &args.population_table {
        None => None,
        Some(file) => Some(ruleset.for_population(file)?.load()?),
    };
    let against = |table: &FrequencyTable| -> Result<Option<Vec<u64>>, deidentify::Error> {
        population_table
            .as_ref()
            .map(|p| {
                population_class_sizes(
                    (&loaded.dataset, &loaded.hierarchies),
                    table,
                    (&p.dataset, &p.hierarchies),
                )
            })
            .transpose()
    };
    let mut before = match against(&table)? {
        Some(sizes) => RiskAnalysis::of_table_against(&table, None, &sizes, &options)?,
        None => RiskAnalysis::of_table(&table, None, &options)?,
    };
    let dis_fraction = args
        .dis_fraction
        .or(before
            .population_uniques
            .as_ref()
            .map(|p| p.sampling_fraction))
        .unwrap_or(0.01);
    before.suda = Some(Suda::of_dataset(
        &loaded.dataset,
        &loaded.hierarchies,
        &node,
        None,
        args.suda_max_size,
        dis_fraction,
    )?);
    if let Some(column) = &args.weights {
        before = before.with_sampling_weights(
            &loaded.dataset,
            &loaded.hierarchies,
            &node,
            None,
            column,
        )?;
    }
    if !args.anonymize {
        if args.json {
            println!("{}", serde_json::to_string_pretty(&before)?);
        } else {
            print_summary(&before);
        }
        return Ok(decided(args, &before));
    }
    let rule = ruleset
        .anonymization
        .as_ref()
        .ok_or("--anonymize needs an [anonymization] table in the ruleset")?;
    let config = rule.config()?;
    let orders = ruleset.orders();
    let result = search(&loaded.dataset, &loaded.hierarchies, &config, &orders)?;
    let Some(optimum) = result.optimum else {
        eprintln!("no transformation satisfies the ruleset's models within the suppression limit");
        return Ok(Exit::NotReleasable);
    };
    let anonymized = apply(
        &loaded.dataset,
        &loaded.hierarchies,
        &config,
        &orders,
        &optimum.node,
    )?;
    let mut after = match &population_table {
        None => RiskAnalysis::of_anonymized(
            &loaded.dataset,
            &loaded.hierarchies,
            &anonymized,
            &options,
        )?,
        Some(_) => {
            let table =
                FrequencyTable::from_dataset(&loaded.dataset, &loaded.hierarchies, &optimum.node)?;
            let suppressed =
                anonymized.suppressed_classes(&table, &loaded.dataset, &loaded.hierarchies)?;
            let sizes = against(&table)?.expect("a population table");
            RiskAnalysis::of_table_against(&table, Some(&suppressed), &sizes, &options)?
        }
    };
    if let Some(column) = &args.weights {
        after = after.with_sampling_weights(
            &loaded.dataset,
            &loaded.hierarchies,
            &optimum.node,
            Some(&anonymized.suppressed_rows),
            column,
        )?;
    }
    after.suda = Some(Suda::of_dataset(
        &loaded.dataset,
        &loaded.hierarchies,
        &optimum.node,
        Some(&anonymized.suppressed_rows),
        args.suda_max_size,
        dis_fraction,
    )?);
    if args.json {
        let both = serde_json::json!({ "node": optimum.node, "before": before, "after": after });
        println!("{}", serde_json::to_string_pretty(&both)?);
    } else {
        println!("== before anonymization");
        print_summary(&before);
        println!(
            "== after anonymization at {} ({} records suppressed)",
            optimum.node, after.suppressed
        );
        print_summary(&after);
    }
    Ok(decided(args, &after))
}

fn print_summary(risk: &RiskAnalysis) {
    println!(
        "{} records, {} classes; threshold {} (k = {})",
        risk.records, risk.classes, risk.threshold.probability, risk.threshold.k
    );
    println!(
        "sample uniques: {:.4} of records ({})",
        risk.sample_uniques, risk.sample_unique_records
    );
    for (name, r) in [
        ("prosecutor", &risk.prosecutor),
        ("journalist", &risk.journalist),
    ] {
        println!(
            "{name:<10} records at risk {:.4}, highest risk {:.4}, success rate {:.4} — {}",
            r.records_at_risk,
            r.highest_risk,
            r.success_rate,
            if r.passes { "passes" } else { "fails" }
        );
    }
    println!("           ({})", risk.journalist_basis);
    println!("marketer   success rate {:.4}", risk.marketer.success_rate);
    if let Some(p) = &risk.population_uniques {
        println!(
            "population uniques (N = {:.0}, f = {:.6}): Zayatz {:.6} of the population ({:.1} people), Pitman {}",
            p.population,
            p.sampling_fraction,
            p.zayatz,
            p.zayatz_uniques,
            match (p.pitman, p.pitman_uniques) {
                (Some(f), Some(u)) => format!("{f:.6} ({u:.1} people)"),
                _ => "not available (the fit did not converge)".to_owned(),
            }
        );
        println!(
            "  SNB {}; Dankar et al. rule: {:?} → {:.6}",
            match p.snb_fit {
                Some(fit) => format!(
                    "{:.6} ({:.1} people)",
                    fit.uniques / p.population,
                    fit.uniques
                ),
                None => "not available (needs sample uniques and pairs; fit did not converge)"
                    .to_owned(),
            },
            p.dankar_model,
            p.dankar
        );
    }
    println!(
        "individual risk (sdcMicro{}): global {:.4}, expected re-identifications {:.1}",
        if risk.individual_risk.weighted {
            ", weighted"
        } else {
            ""
        },
        risk.individual_risk.global_risk,
        risk.individual_risk.expected_reidentifications
    );
    let verdicts: Vec<String> = risk
        .decisions
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d.measure,
                if d.passes { "passes" } else { "fails" }
            )
        })
        .collect();
    println!(
        "decisions at threshold {}: {}",
        risk.threshold.probability,
        verdicts.join(", ")
    );
    if let Some(s) = &risk.suda {
        println!(
            "SUDA (MSUs up to {} of {} variables): {} special uniques, MSUs by size {:?}, DIS {:.6}, highest DIS-SUDA {:.6}",
            s.max_size, s.variables, s.special_uniques, s.msus_by_size, s.dis, s.max_dis_score
        );
    }
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

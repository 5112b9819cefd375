//! Differentially private synthetic data (MST, or AIM with `--method aim`)
//! from a ruleset's data, with
//! its utility: total variation distance of every 1-, 2- and 3-way
//! marginal, a classifier trained on synthetic and tested on real records,
//! and the share of synthetic records copying a real one. `--evaluate`
//! measures any synthetic file (from another tool, say) the same way.
//!
//! ```text
//! cargo run --release --example synthesize -- --config datasets/adult/adult9-synth.toml --epsilon 1 --rows 30162 --output synth.csv
//! cargo run --release --example synthesize -- --config datasets/adult/adult9-synth.toml --method aim --epsilon 1 --output synth.csv
//! cargo run --release --example synthesize -- --config datasets/adult/adult9-synth.toml --evaluate other-tool.csv --json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use deidentify::Ruleset;
use deidentify::apply::{check_output, write_csv};
use deidentify::exit::Exit;
use deidentify::ruleset::SynthesisRule;
use deidentify::synthesis::{
    SynthesisMethod, SynthesisUtility, UtilityOptions, evaluate, synthesize,
};
use rand::SeedableRng;
use rand::rngs::{StdRng, SysRng};
use serde_json::json;

/// Learn a model of the ruleset's data under (ε, δ)-differential privacy
/// (MST: noisy one- and two-way marginals on a privately chosen tree; or
/// AIM: marginals chosen round by round where the model is worst, fitted
/// as a graphical model) and sample synthetic records from it.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The ruleset (TOML); its `[synthesis]` table gives the defaults of
    /// the options below and the bins of numeric attributes. An attribute's
    /// domain is its bins, its hierarchy file's first column, or its order.
    #[arg(long)]
    config: PathBuf,
    /// ε of the guarantee (required without a `[synthesis]` table).
    #[arg(long)]
    epsilon: Option<f64>,
    /// δ of the guarantee (default 1e-9).
    #[arg(long)]
    delta: Option<f64>,
    /// The generator: mst (default; milliseconds) or aim (seconds; keeps
    /// more of the two- and three-way structure).
    #[arg(long)]
    method: Option<SynthesisMethod>,
    /// Synthetic records to sample (default: the model's noisy count).
    #[arg(long)]
    rows: Option<u64>,
    /// A fixed seed, for tests and reproducing a run only: a release for
    /// anyone else must not use a seed they could know.
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the synthetic records (CSV with the ruleset's
    /// delimiter); written only when the whole run succeeds.
    #[arg(long, required_unless_present = "evaluate")]
    output: Option<PathBuf>,
    /// Do not synthesize: measure this synthetic file against the data.
    #[arg(long, conflicts_with = "output")]
    evaluate: Option<PathBuf>,
    /// Measure every marginal within each value of this attribute (keeps
    /// its dependence on every other attribute: the label a model trained
    /// on the output will predict).
    #[arg(long)]
    condition: Option<String>,
    /// The attribute the utility report's classifier predicts.
    #[arg(long)]
    target: Option<String>,
    /// Held-out real records (same format as the data) to test the
    /// classifiers on; without them a fifth of the data is the test set.
    #[arg(long)]
    test: Option<PathBuf>,
    /// Skip the utility report.
    #[arg(long)]
    no_utility: bool,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

fn print_utility(utility: &SynthesisUtility) {
    println!(
        "utility ({} real, {} synthetic records):",
        utility.real_rows, utility.synthetic_rows
    );
    for d in &utility.distances {
        println!(
            "  {}-way marginals ({}): mean TVD {:.4}, max {:.4} ({})",
            d.order,
            d.marginals,
            d.mean,
            d.max,
            d.worst.join(", ")
        );
    }
    if let Some(c) = &utility.classifier {
        println!(
            "  predicting {} on {} {} real records: trained on real {:.4}, on synthetic {:.4} (majority class {:.4})",
            c.target,
            c.test_rows,
            if c.held_out {
                "held-out"
            } else {
                "(not held-out)"
            },
            c.trained_on_real,
            c.trained_on_synthetic,
            c.majority
        );
    }
    println!(
        "  synthetic records copying a real one: {:.4}",
        utility.exact_copies
    );
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut ruleset = Ruleset::from_file(&args.config)?;
    let rule = ruleset.synthesis.get_or_insert_with(|| SynthesisRule {
        epsilon: f64::NAN,
        method: SynthesisMethod::Mst,
        delta: 1e-9,
        rows: None,
        seed: None,
        attributes: None,
        bins: Default::default(),
        condition: None,
        target: None,
        test: None,
    });
    if let Some(epsilon) = args.epsilon {
        rule.epsilon = epsilon;
    }
    if rule.epsilon.is_nan() && args.evaluate.is_none() {
        return Err("give --epsilon or a [synthesis] table".into());
    }
    if rule.epsilon.is_nan() {
        rule.epsilon = 1.0; // --evaluate spends nothing
    }
    if let Some(delta) = args.delta {
        rule.delta = delta;
    }
    if let Some(rows) = args.rows {
        rule.rows = Some(rows);
    }
    if let Some(target) = &args.target {
        rule.target = Some(target.clone());
    }
    if let Some(condition) = &args.condition {
        rule.condition = Some(condition.clone());
    }
    if let Some(method) = args.method {
        rule.method = method;
    }
    let seed = args.seed.or(rule.seed);
    let target = rule.target.clone();
    let config = ruleset.synthesis()?.expect("the table was set above");
    let delimiter = ruleset.data.delimiter as u8;
    let start = Instant::now();
    let real = ruleset.read_data()?;
    let test = match &args.test {
        Some(path) => Some(ruleset.read_table(path)?),
        None => ruleset.synthesis_test_data()?,
    };
    let (synthetic, summary) = match &args.evaluate {
        Some(path) => (ruleset.read_table(path)?, None),
        None => {
            let output = args.output.as_ref().expect("clap requires it");
            check_output(output, &[ruleset.data_path()])?;
            let mut rng = match seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::try_from_rng(&mut SysRng)?,
            };
            let synthesis = synthesize(&real, &config, &mut rng)?;
            write_csv(&synthesis.frame, output, delimiter)?;
            (synthesis.frame, Some(synthesis.summary))
        }
    };
    let total_ms = start.elapsed().as_secs_f64() * 1e3;
    let utility = if args.no_utility {
        None
    } else {
        let mut options = UtilityOptions::default();
        if let Some(target) = target {
            options = options.with_target(target);
        }
        if let Some(test) = test {
            options = options.with_test(test);
        }
        Some(evaluate(&real, &synthetic, &config.attributes, &options)?)
    };
    if args.json {
        let out = json!({
            "synthesis": summary,
            "seeded": seed.is_some(),
            "total_ms": total_ms,
            "utility": utility,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if let Some(s) = &summary {
        if let Some(condition) = &s.condition {
            println!("every marginal measured within each value of {condition}");
        }
        println!(
            "{} at ε = {}, δ = {} (ρ = {:.6}: one-way {:.6}, selection {:.6}, further marginals {:.6}; ε spent {:.6})",
            s.method,
            s.epsilon,
            s.delta,
            s.rho,
            s.rho_split[0],
            s.rho_split[1],
            s.rho_split[2],
            s.epsilon_spent
        );
        let tree: Vec<String> = s.tree.iter().map(|(a, b)| format!("{a}–{b}")).collect();
        let label = if s.method == "MST" {
            "tree"
        } else {
            "pairs measured"
        };
        println!("{label}: {}", tree.join(", "));
        println!(
            "{} synthetic records (noisy count {:.0}) in {:.1} ms fit and sample, {:.1} ms with reading and writing",
            s.rows, s.estimated_rows, s.elapsed_ms, total_ms
        );
        if seed.is_some() {
            println!("seeded: reproducible, not for a release to anyone who could know the seed");
        }
    }
    if let Some(utility) = &utility {
        print_utility(utility);
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

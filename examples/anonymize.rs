//! Finds the optimal generalization of a dataset (or recodes it record by
//! record: `--recoding local`, `mondrian`, `cell-suppression`; or releases
//! it under differential privacy: `--epsilon`) and writes the anonymized
//! data.
//!
//! ```text
//! cargo run --release --example anonymize -- --config datasets/adult/adult9.toml --k 5 --suppression 0.02 --json
//! cargo run --release --example anonymize -- --config datasets/adult/adult9.toml --k 5 --recoding local
//! cargo run --release --example anonymize -- --config datasets/adult/adult9.toml --epsilon 1 --delta 1e-6
//! ```
//!
//! Exit status (`deidentify::exit::Exit`): 0 found (and written); 1 bad input or
//! I/O error (an output that is an input included); 2 wrong command line;
//! 3 no transformation satisfies the models (nothing written).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use deidentify::{
    Ruleset, apply,
    apply::{check_output, write_csv, write_parquet},
    exit::Exit,
    metric::{MetricKind, MetricSpec},
    model::ModelSpec,
    recode::{LocalRelease, Recoding, recode},
    safepub,
    safepub::{DpSearch, SafePubConfig},
    search,
    search::{Progress, SearchResult, Strategy, search_with_progress},
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::{StdRng, SysRng};
use serde_json::json;

/// Search the generalization lattice for the transformation with the least
/// information loss that satisfies the ruleset's privacy models (with record
/// suppression within a limit), and write the anonymized data.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The ruleset (TOML); its [anonymization] table gives models, suppression limit and metric.
    #[arg(long)]
    config: PathBuf,
    /// k-anonymity with this k (replaces the ruleset's k-anonymity model, or adds one).
    #[arg(long)]
    k: Option<u64>,
    /// Average re-identification risk at most this (replaces the ruleset's
    /// average-risk model, or adds one): classes smallest first are
    /// suppressed, within the limit, until the release meets it.
    #[arg(long)]
    average_risk: Option<f64>,
    /// At most this fraction of released records unique (replaces the
    /// ruleset's sample-uniqueness model, or adds one).
    #[arg(long)]
    sample_uniques: Option<f64>,
    /// The largest fraction of records that may be suppressed, in [0, 1].
    #[arg(long)]
    suppression: Option<f64>,
    /// The utility metric: loss, precision, discernibility, discernibility-nm, aecs, entropy, entropy-nm, height.
    #[arg(long)]
    metric: Option<MetricKind>,
    /// The search strategy: optimal, exhaustive, heuristic, heuristic:N (a
    /// budget of N nodes) or best-effort (for lattices too large to search:
    /// give --time-limit and/or --max-nodes).
    #[arg(long)]
    strategy: Option<String>,
    /// The heuristic's or the best-effort search's budget of evaluated nodes.
    #[arg(long)]
    max_nodes: Option<u64>,
    /// The best-effort search's time budget: a whole number with a unit,
    /// ms, s or m (such as 500ms, 5s, 2m).
    #[arg(long, value_parser = parse_time_limit, allow_hyphen_values = true)]
    time_limit: Option<u64>,
    /// How records are recoded: global (the lattice's optimum, the default),
    /// local (local generalization along the hierarchies), mondrian or
    /// mondrian-relaxed (integer, decimal and date columns as ranges), or
    /// cell-suppression (blank the fewest cells for k-anonymity).
    #[arg(long)]
    recoding: Option<String>,
    /// Cell suppression's quasi-identifiers from the most to the least
    /// important, comma-separated (the least important are blanked first).
    #[arg(long, value_delimiter = ',')]
    importance: Option<Vec<String>>,
    /// (ε, δ)-differential privacy with this ε (replaces the ruleset's
    /// differential-privacy model, or adds one with δ from --delta): a
    /// random sample, a transformation chosen by the exponential mechanism,
    /// classes below the k derived from ε and δ dropped.
    #[arg(long)]
    epsilon: Option<f64>,
    /// δ of differential privacy (default 1e-6 with --epsilon).
    #[arg(long)]
    delta: Option<f64>,
    /// The part of ε spent choosing the transformation (default 0.1).
    #[arg(long)]
    search_budget: Option<f64>,
    /// Choose the transformation by SafePub's walk of this many steps
    /// instead of one exponential mechanism over the whole lattice.
    #[arg(long)]
    steps: Option<u32>,
    /// Seed of a differentially private release's randomness, to reproduce
    /// a run. Without it the operating system's randomness is used: a
    /// release for anyone else must not use a seed they could know.
    #[arg(long)]
    seed: Option<u64>,
    /// Run the search this many times in one process and report the
    /// minimum and median time (the warm figure; every run must find the
    /// same optimum).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Write the anonymized data here (.parquet for Parquet, anything else CSV).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

fn run(args: &Args) -> Result<Exit, Box<dyn std::error::Error>> {
    let ruleset = Ruleset::from_file(&args.config)?;
    if let Some(path) = &args.output {
        check_output(path, &ruleset.input_files())?;
    }
    let mut config = ruleset.anonymization.clone().unwrap_or_default();
    if let Some(strategy) = &args.strategy {
        config.strategy = Some(strategy.clone());
    }
    if args.max_nodes.is_some() {
        config.max_nodes = args.max_nodes;
    }
    if args.time_limit.is_some() {
        config.time_limit_ms = args.time_limit;
    }
    if let Some(recoding) = &args.recoding {
        config.recoding = Some(recoding.clone());
    }
    if let Some(importance) = &args.importance {
        config.importance = importance.clone();
    }
    let mut config = config.config()?;
    // Command-line models replace the ruleset's of the same kind.
    if let Some(k) = args.k {
        config.set_model(ModelSpec::KAnonymity { k });
    }
    if let Some(threshold) = args.average_risk {
        config.set_model(ModelSpec::AverageRisk {
            threshold,
            highest_risk: None,
            records_at_risk: None,
        });
    }
    if let Some(threshold) = args.sample_uniques {
        config.set_model(ModelSpec::SampleUniqueness { threshold });
    }
    if let Some(s) = args.suppression {
        config.suppression_limit = s;
    }
    if let Some(metric) = args.metric {
        config.metric = MetricSpec::new(metric);
    }
    if let Some(epsilon) = args.epsilon {
        config.set_model(ModelSpec::DifferentialPrivacy {
            epsilon,
            delta: args.delta.unwrap_or(1e-6),
            search_budget: args.search_budget,
            steps: args.steps,
            levels: None,
        });
        // The ruleset's other models and suppression limit do not apply.
        config
            .models
            .retain(|m| matches!(m, ModelSpec::DifferentialPrivacy { .. }));
    } else if args.delta.is_some() || args.search_budget.is_some() || args.steps.is_some() {
        return Err("--delta, --search-budget and --steps go with --epsilon".into());
    }
    config.check()?;
    if config.models.is_empty() {
        return Err(
            "no privacy model: give --k, --average-risk or --sample-uniques, or list models in the ruleset's [anonymization] table"
                .into(),
        );
    }
    let loaded = ruleset.load()?;
    let orders = ruleset.orders();
    if let Some(dp) = SafePubConfig::from_config(&config, &loaded.dataset.quasi_identifier_names())?
    {
        return run_dp(args, &ruleset, &loaded, &dp);
    }
    if config.recoding != Recoding::Global {
        return run_local(args, &ruleset, &loaded, &config, &orders);
    }
    let best_effort = matches!(config.strategy, Strategy::BestEffort { .. });
    let result = if best_effort && !args.json {
        search_showing_progress(&loaded, &config, &orders)?
    } else {
        search(&loaded.dataset, &loaded.hierarchies, &config, &orders)?
    };
    let mut times = vec![result.elapsed_ms];
    // (A search under a time limit may stop at another node each run.)
    let timed = matches!(
        config.strategy,
        Strategy::BestEffort {
            time_limit_ms: Some(_),
            ..
        }
    );
    for _ in 1..args.repeat {
        let again = search(&loaded.dataset, &loaded.hierarchies, &config, &orders)?;
        let found = |r: &deidentify::search::SearchResult| {
            r.optimum
                .as_ref()
                .map(|o| (o.node.clone(), o.score.as_ref().map(|s| s.score.to_bits())))
        };
        if !timed && found(&again) != found(&result) {
            return Err(
                "a repeated search found another optimum: the search is not deterministic".into(),
            );
        }
        times.push(again.elapsed_ms);
    }
    let timing = Timing::of(&times);
    let Some(optimum) = &result.optimum else {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "found": false,
                    "metric": config.metric.kind.name(),
                    "nodes_checked": result.nodes_checked,
                    "lattice_size": result.lattice_size,
                    "elapsed_ms": result.elapsed_ms,
                    "runs": timing.runs,
                    "elapsed_ms_min": timing.min,
                    "elapsed_ms_median": timing.median,
                }))?
            );
        } else {
            println!(
                "no transformation satisfies the models within the suppression limit ({} records); {} of {} nodes checked",
                result.max_suppressed, result.nodes_checked, result.lattice_size
            );
        }
        return Ok(Exit::NotReleasable);
    };
    if let Some(path) = &args.output {
        let anonymized = apply(
            &loaded.dataset,
            &loaded.hierarchies,
            &config,
            &orders,
            &optimum.node,
        )?;
        write_output(&anonymized.frame, path, &ruleset)?;
    }
    let score = optimum.score.as_ref().map(|s| s.score);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "found": true,
                "levels": result.levels(),
                "node": optimum.node,
                "suppressed": optimum.suppressed,
                "max_suppressed": result.max_suppressed,
                "classes": optimum.classes,
                "suppressed_classes": optimum.suppressed_classes,
                "metric": config.metric.kind.name(),
                "score": score,
                "per_attribute": optimum.score.as_ref().map(|s| &s.per_attribute),
                "models": config.models,
                "strategy": config.strategy.name(),
                "proven_optimal": result.proven_optimal,
                "lower_bound": result.lower_bound,
                "nodes_checked": result.nodes_checked,
                "lattice_size": result.lattice_size,
                "elapsed_ms": result.elapsed_ms,
                "runs": timing.runs,
                "elapsed_ms_min": timing.min,
                "elapsed_ms_median": timing.median,
            }))?
        );
    } else {
        println!(
            "optimum {} ({})",
            optimum.node,
            result.quasi_identifiers.join(", ")
        );
        println!(
            "suppressed {} records (limit {}), {} classes kept, {} = {}",
            optimum.suppressed,
            result.max_suppressed,
            optimum.classes,
            config.metric.kind,
            score.unwrap_or(f64::NAN)
        );
        println!(
            "{} strategy: {} of {} nodes checked in {:.1} ms",
            config.strategy.name(),
            result.nodes_checked,
            result.lattice_size,
            result.elapsed_ms
        );
        if !result.proven_optimal
            && let (Some(bound), Some(score)) = (result.lower_bound, score)
        {
            println!(
                "not proven optimal: the optimum's {} is at least {bound} (at most {} below this)",
                config.metric.kind,
                score - bound
            );
        }
        print_runs_and_output(&timing, args);
    }
    Ok(Exit::Success)
}

/// A differentially private release ([`safepub::release`]): run
/// (`--repeat` times, each a new random release; the first is written),
/// summarized.
fn run_dp(
    args: &Args,
    ruleset: &Ruleset,
    loaded: &deidentify::ruleset::LoadedRuleset,
    config: &SafePubConfig,
) -> Result<Exit, Box<dyn std::error::Error>> {
    let mut rng = match args.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::try_from_rng(&mut SysRng)
            .map_err(|e| format!("no randomness from the operating system: {e}"))?,
    };
    let mut runs = Vec::new();
    let mut first = None;
    for _ in 0..args.repeat {
        let started = Instant::now();
        let release = safepub::release(&loaded.dataset, &loaded.hierarchies, config, &mut rng)?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        runs.push(json!({
            "node": release.node,
            "loss": release.summary.loss,
            "sampled_rows": release.summary.sampled_rows,
            "released_rows": release.summary.released_rows,
            "released_classes": release.summary.released_classes,
            "nodes_scored": release.summary.nodes_scored,
            "elapsed_ms": ms,
        }));
        first.get_or_insert((release, ms));
    }
    let (release, _) = first.expect("at least one run");
    if let Some(path) = &args.output {
        write_output(&release.frame, path, ruleset)?;
    }
    let times: Vec<f64> = runs
        .iter()
        .map(|r| r["elapsed_ms"].as_f64().unwrap_or(f64::NAN))
        .collect();
    let timing = Timing::of(&times);
    let p = &release.summary.parameters;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "found": true,
                "model": "differential-privacy",
                "parameters": p,
                "quasi_identifiers": loaded.dataset.quasi_identifier_names(),
                "node": release.node,
                "loss": release.summary.loss,
                "input_rows": release.summary.input_rows,
                "sampled_rows": release.summary.sampled_rows,
                "released_rows": release.summary.released_rows,
                "released_classes": release.summary.released_classes,
                "nodes_scored": release.summary.nodes_scored,
                "seeded": args.seed.is_some(),
                "runs": runs,
                "elapsed_ms_min": timing.min,
                "elapsed_ms_median": timing.median,
            }))?
        );
    } else {
        println!(
            "({}, {})-differential privacy: ε {} for the search ({}), {} for sampling (β = {:.4}) and classes of at least k = {}",
            p.epsilon,
            p.delta,
            p.search_epsilon,
            match &p.search {
                DpSearch::Lattice => "one exponential mechanism over the lattice".to_string(),
                DpSearch::Walk { steps } => format!("a walk of {steps} steps"),
                DpSearch::Fixed { .. } => "none: the transformation is fixed".to_string(),
            },
            p.anonymization_epsilon,
            p.beta,
            p.k
        );
        println!(
            "transformation {} ({}): {} of {} records sampled, {} released in {} classes; Loss {:.4}",
            release.node,
            loaded.dataset.quasi_identifier_names().join(", "),
            release.summary.sampled_rows,
            release.summary.input_rows,
            release.summary.released_rows,
            release.summary.released_classes,
            release.summary.loss
        );
        if args.seed.is_some() {
            println!("seeded: reproducible, not for a release to anyone who could know the seed");
        }
        print_runs_and_output(&timing, args);
    }
    Ok(Exit::Success)
}

/// A release recoded record by record ([`recode`]): run (`--repeat` times),
/// summarized, written.
fn run_local(
    args: &Args,
    ruleset: &Ruleset,
    loaded: &deidentify::ruleset::LoadedRuleset,
    config: &deidentify::AnonymizationConfig,
    orders: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<Exit, Box<dyn std::error::Error>> {
    let mut times = Vec::new();
    let mut release = None;
    for _ in 0..args.repeat {
        let again = recode(&loaded.dataset, &loaded.hierarchies, config, orders)?;
        times.push(again.as_ref().map_or(0.0, |r| r.elapsed_ms));
        if let (Some(first), Some(again)) = (&release, &again) {
            let first: &LocalRelease = first;
            if first.frame != again.frame {
                return Err(
                    "a repeated recoding released other data: it is not deterministic".into(),
                );
            }
        }
        release = again;
    }
    let timing = Timing::of(&times);
    let Some(release) = release else {
        if args.json {
            println!(
                "{}",
                json!({ "found": false, "recoding": config.recoding.name() })
            );
        } else {
            println!(
                "no {} release satisfies the models within the suppression limit",
                config.recoding.name()
            );
        }
        return Ok(Exit::NotReleasable);
    };
    if let Some(path) = &args.output {
        write_output(&release.frame, path, ruleset)?;
    }
    let measure = &release.measure;
    let sizes = measure.released_sizes();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "found": true,
                "recoding": config.recoding,
                "models": config.models,
                "rows": loaded.dataset.rows(),
                "classes": sizes.len(),
                "smallest_class": sizes.iter().min(),
                "suppressed_records": measure.suppressed_records,
                "suppressed_cells": measure.suppressed_cells,
                "granularity": measure.loss.granularity_mean,
                "loss": measure.loss,
                "elapsed_ms": release.elapsed_ms,
                "runs": timing.runs,
                "elapsed_ms_min": timing.min,
                "elapsed_ms_median": timing.median,
            }))?
        );
    } else {
        println!(
            "{} recoding: {} classes (smallest {}), {} records and {} cells suppressed",
            config.recoding.name(),
            sizes.len(),
            sizes.iter().min().copied().unwrap_or(0),
            measure.suppressed_records,
            measure.suppressed_cells
        );
        println!(
            "granularity {:.4} (mean over {} quasi-identifiers) in {:.1} ms",
            measure.loss.granularity_mean,
            measure.loss.granularity.len(),
            release.elapsed_ms
        );
        print_runs_and_output(&timing, args);
    }
    Ok(Exit::Success)
}

/// The summary's last lines: the repeated runs' times and the file written.
fn print_runs_and_output(timing: &Timing, args: &Args) {
    if timing.runs > 1 {
        println!(
            "{} runs: minimum {:.1} ms, median {:.1} ms",
            timing.runs, timing.min, timing.median
        );
    }
    if let Some(path) = &args.output {
        println!("wrote {}", path.display());
    }
}

/// Writes `frame` to `path`: Parquet for `.parquet`, else CSV with the
/// ruleset's delimiter.
fn write_output(
    frame: &deidentify::polars::prelude::DataFrame,
    path: &std::path::Path,
    ruleset: &Ruleset,
) -> Result<(), deidentify::Error> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        write_parquet(frame, path)
    } else {
        write_csv(frame, path, ruleset.data.delimiter as u8)
    }
}

/// The search times of repeated runs.
struct Timing {
    runs: usize,
    min: f64,
    median: f64,
}

impl Timing {
    /// The minimum and median of `times` (the mean of the two middle ones
    /// for an even count).
    fn of(times: &[f64]) -> Timing {
        let mut sorted = times.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Timing {
            runs: n,
            min: sorted[0],
            median,
        }
    }
}

/// The search with a progress line on standard error: nodes checked and
/// the best score so far.
fn search_showing_progress(
    loaded: &deidentify::ruleset::LoadedRuleset,
    config: &deidentify::AnonymizationConfig,
    orders: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<SearchResult, deidentify::Error> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let metric = config.metric.kind;
    let result = search_with_progress(
        &loaded.dataset,
        &loaded.hierarchies,
        config,
        orders,
        &|p: &Progress| {
            let best = p
                .best
                .as_ref()
                .map_or("none feasible yet".to_string(), |(_, score)| {
                    format!("best {metric} {score:.6}")
                });
            bar.set_message(format!("{} nodes checked, {best}", p.nodes_checked));
        },
    );
    bar.finish_and_clear();
    result
}

/// A time limit such as `500ms`, `5s` or `2m`, in milliseconds.
fn parse_time_limit(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or("give a unit: ms, s or m (such as 5s)")?;
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err("a whole number of ms, s or m, not negative (such as 5s)".into());
    }
    let number: u64 = number.parse().map_err(|_| "too large".to_string())?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => return Err(format!("unknown unit '{unit}': use ms, s or m")),
    };
    match number.checked_mul(scale) {
        Some(0) => Err("must be at least 1 ms".into()),
        Some(ms) => Ok(ms),
        None => Err("too large".into()),
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

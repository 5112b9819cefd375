//! The end-to-end Expert Determination run.

use std::path::{Path, PathBuf};

use super::clock::Utc;
use super::document::{self, Findings};
use super::stages::{self, Loaded, Prepared, Protected, Trail, Transformed};
use crate::data::attribute::{AttributeRole, AttributeType};
use crate::data::date::Date;
use crate::error::Result;
use crate::report::{
    ColumnReport, ExpertDeterminationRule, LevelResult, MEASURES, OutputFormat, Report, RiskCheck,
};
use crate::risk::RiskAnalysis;
use crate::ruleset::Ruleset;
use crate::safe_harbor::ColumnAction;
use crate::safe_harbor::TokenKey;
use crate::safepub::SafePubConfig;
use crate::search::Recoding;

/// The steps of a run, in order, as reported to a progress observer.
pub const STEPS: [&str; 11] = [
    "load",
    "safe-harbor",
    "transform",
    "risk-before",
    "search",
    "apply",
    "risk-after",
    "scan",
    "synthesis",
    "write",
    "report",
];

/// How to run.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RunOptions {
    /// The folder the released data and the reports go to (created if absent).
    pub out_dir: PathBuf,
    /// The token key; otherwise the ruleset's `key_file`, then the
    /// `DEIDENTIFY_TOKEN_KEY` environment variable (only read when a column
    /// is to be tokenized).
    pub key: Option<TokenKey>,
    /// The release date for the age rule of Safe Harbor; today when absent.
    pub reference_date: Option<Date>,
    /// When the verdict fails, write the data anyway, under a name that
    /// says so ([`quarantine_name`]: `NAME.NOT-RELEASABLE.csv`), for the
    /// expert to inspect. Without it a failed run writes no data at all.
    pub quarantine: bool,
    /// The seed of a differentially private release's randomness (to
    /// reproduce a run); otherwise the operating system's randomness.
    pub seed: Option<u64>,
}

impl RunOptions {
    /// Options writing to `out_dir`, with every other option at its default.
    pub fn new(out_dir: impl Into<PathBuf>) -> RunOptions {
        RunOptions {
            out_dir: out_dir.into(),
            ..RunOptions::default()
        }
    }

    /// The options with the token `key`.
    pub fn with_key(mut self, key: TokenKey) -> RunOptions {
        self.key = Some(key);
        self
    }

    /// The options with the release date `reference_date`.
    pub fn with_reference_date(mut self, reference_date: Date) -> RunOptions {
        self.reference_date = Some(reference_date);
        self
    }

    /// The options with quarantine on or off.
    pub fn with_quarantine(mut self, quarantine: bool) -> RunOptions {
        self.quarantine = quarantine;
        self
    }

    /// The options with a fixed seed for a differentially private release
    /// (reproducible, so not for data that leaves the premises).
    pub fn with_seed(mut self, seed: u64) -> RunOptions {
        self.seed = Some(seed);
        self
    }
}

/// The name a not-releasable output is quarantined under:
/// `adult-deidentified.csv` → `adult-deidentified.NOT-RELEASABLE.csv`.
pub fn quarantine_name(output: &Path) -> PathBuf {
    with_stem_suffix(output, "NOT-RELEASABLE")
}

/// `output` with `.suffix` between its stem and its extension.
pub(super) fn with_stem_suffix(output: &Path, suffix: &str) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match output.extension() {
        Some(ext) => format!("{stem}.{suffix}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{suffix}"),
    };
    output.with_file_name(name)
}

/// What a run wrote.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The report.
    pub report: Report,
    /// `report.json`.
    pub json: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
    /// `report.md`.
    pub markdown: PathBuf,
    /// The released data: written only when the verdict passes (or, with
    /// [`RunOptions::quarantine`], the quarantined file).
    pub data: Option<PathBuf>,
}

/// Runs an Expert Determination as the ruleset configures it (its
/// `[anonymization]` and `[expert_determination]` tables): loads the data,
/// applies Safe Harbor to declared identifiers, measures risk before,
/// searches the lattice, applies the optimum, measures risk after, scans the
/// released data for residual identifiers, writes the data and the report
/// (JSON, HTML, Markdown) into `options.out_dir`. Every step appends to the
/// audit trail. `progress` is called with each step's name from [`STEPS`]
/// as it starts.
///
/// The run fails closed: the data is written under the release's name
/// only when every requirement is met ([`Summary::passes`](crate::report::Summary::passes)). A
/// failing run writes the report (marked not releasable) and no data, or
/// with [`RunOptions::quarantine`] the data under a name that says
/// `NOT-RELEASABLE`. No output may land on an input of the run (the data,
/// the ruleset, a hierarchy or key file).
///
/// # Examples
///
/// ```
/// use deidentify::{RunOptions, Ruleset, run_expert_determination};
///
/// let ruleset = Ruleset::from_file("datasets/adult/adult.toml".as_ref())?;
/// let out = std::env::temp_dir().join(format!("deidentify-doc-run-{}", std::process::id()));
/// let options = RunOptions::new(&out);
/// let outcome = run_expert_determination(&ruleset, &options, &mut |step| eprintln!("{step}"))?;
/// println!("{}", outcome.report.summary.verdict);
/// assert!(outcome.report.summary.passes);
/// assert!(outcome.html.starts_with(&out) && outcome.html.exists());
/// # std::fs::remove_dir_all(&out).ok();
/// # Ok::<(), deidentify::Error>(())
/// ```
///
/// # Errors
///
/// Every error of reading, encoding, Safe Harbor, search and writing; and
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) when the ruleset has no `[anonymization]`
/// table or invalid `[expert_determination]` settings, or an output would
/// overwrite an input.
pub fn run_expert_determination(
    ruleset: &Ruleset,
    options: &RunOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<RunOutcome> {
    let Prepared { settings, config } = stages::prepare(ruleset, options)?;

    progress("load");
    let loaded = stages::load(ruleset)?;
    let mut trail = Trail::new(loaded.output.input.ruleset_sha256.clone());
    let Loaded { input, frame } = trail.take(loaded);

    progress("safe-harbor");
    let Protected { frame, actions } =
        trail.take(stages::safe_harbor(ruleset, options, &settings, frame)?);

    progress("transform");
    let Transformed { frame, records } = trail.take(stages::transform(ruleset, &settings, frame)?);
    let encoded = stages::encode(ruleset, &actions, &frame, &input.data_path)?;

    progress("risk-before");
    let before = trail.take(stages::risk_before(&settings, &encoded)?);

    progress("search");
    let dp = SafePubConfig::from_config(&config, &encoded.names)?;
    let mut private = None;
    let (result, local) = if let Some(dp) = &dp {
        let (result, release) = trail.take(stages::dp_release(dp, &encoded, options.seed)?);
        private = Some(release);
        (result, None)
    } else if config.recoding == Recoding::Global {
        (trail.take(stages::search_lattice(&config, &encoded)?), None)
    } else {
        trail.take(stages::recode_release(&config, &encoded)?)
    };

    let mut after = None;
    let mut privacy = None;
    let mut scan = None;
    let mut released = None;
    if private.is_some() || local.is_some() {
        progress("apply");
        progress("risk-after");
        let (risk, frame) = match (&private, &local) {
            (Some(release), _) => (
                stages::risk_after_dp(&settings, &encoded, &before, release)?,
                &release.frame,
            ),
            (None, Some(release)) => (
                stages::risk_after_local(&settings, &encoded, &before, release)?,
                &release.frame,
            ),
            (None, None) => unreachable!("one of them is set"),
        };
        let risk = trail.take(risk);
        after = Some(risk.analysis);
        privacy = Some(risk.privacy);

        progress("scan");
        scan = Some(trail.take(stages::scan(frame, &actions)?));
        released = Some(frame.clone());
    } else if let Some(optimum) = &result.optimum {
        progress("apply");
        let anonymized = trail.take(stages::apply_optimum(
            &config,
            &encoded,
            &result,
            &optimum.node,
        )?);

        progress("risk-after");
        let risk = trail.take(stages::risk_after(
            &settings,
            &encoded,
            &before,
            &result,
            &optimum.node,
            &anonymized,
        )?);
        after = Some(risk.analysis);
        privacy = Some(risk.privacy);

        progress("scan");
        scan = Some(trail.take(stages::scan(&anonymized.frame, &actions)?));
        released = Some(anonymized.frame);
    }
    let output_rows = released.as_ref().map_or(0, |f| f.height() as u64);

    progress("synthesis");
    let synthesized = trail.take(stages::synthesize(ruleset, &frame, options.seed)?);

    let now = Utc::now();
    let scan = scan.unwrap_or_else(stages::empty_scan);
    let verdict = stages::verdict(&settings, &result, &before.analysis, after.as_ref(), &scan);

    progress("write");
    let written = trail.take(stages::write_release(
        released.as_ref(),
        verdict.passes,
        options,
        &settings,
    )?);

    let synthetic_file = trail.take(stages::write_synthetic(
        synthesized.as_ref(),
        verdict.passes,
        options,
        &settings,
    )?);

    progress("report");
    let data = written.as_ref().map(|(path, _)| path.clone());
    let findings = Findings {
        ruleset,
        settings: &settings,
        config: &config,
        input,
        actions,
        records,
        encoded: &encoded,
        before,
        result,
        local,
        private: private.map(|release| (release, options.seed.is_some())),
        synthesized: synthesized.map(|s| (s, synthetic_file)),
        output_rows,
        after,
        privacy,
        scan,
        verdict,
        written,
        now,
    };
    let report = document::assemble(findings, trail.into_inner())?;
    let [json, html, markdown] = document::write_reports(&report, &options.out_dir)?;
    Ok(RunOutcome {
        report,
        json,
        html,
        markdown,
        data,
    })
}

/// The ruleset the release is encoded with: identifiers Safe Harbor removed
/// are gone, tokenized identifier columns are released as insensitive
/// columns, and generalized ones are read as text.
pub(super) fn release_ruleset(ruleset: &Ruleset, actions: &[ColumnAction]) -> Ruleset {
    let mut rules = ruleset.clone();
    rules.attributes.retain(|a| {
        !actions
            .iter()
            .any(|x| x.column == a.name && x.action == "removed")
    });
    for a in &mut rules.attributes {
        if a.role == AttributeRole::Identifier {
            a.role = AttributeRole::Insensitive;
        }
        // Generalized identifiers hold years, ZIP3 prefixes or "90+" now;
        // their hierarchies (if any) apply to those values.
        if actions
            .iter()
            .any(|x| x.column == a.name && x.action == "generalized")
        {
            a.data_type = AttributeType::String;
        }
    }
    rules
}

pub(super) fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Csv => "csv",
        OutputFormat::Parquet => "parquet",
    }
}

pub(super) fn describe(measure: &str) -> &'static str {
    MEASURES
        .iter()
        .find(|(m, _)| *m == measure)
        .map_or("", |(_, d)| d)
}

/// The value of `measure` in `analysis` (see [`MEASURES`]).
fn measure_value(
    analysis: &RiskAnalysis,
    measure: &str,
    settings: &ExpertDeterminationRule,
) -> Option<f64> {
    match measure {
        "prosecutor_highest" => Some(analysis.prosecutor.highest_risk),
        "prosecutor_average" => Some(analysis.prosecutor.success_rate),
        "records_at_risk" => Some(analysis.prosecutor.records_at_risk),
        "journalist_highest" => Some(analysis.journalist.highest_risk),
        "marketer" => Some(analysis.marketer.success_rate),
        "sample_uniques" => Some(analysis.sample_uniques),
        "population_uniques" => analysis.population_uniques.as_ref().map(|p| p.dankar),
        "global_risk" => Some(analysis.individual_risk.global_risk),
        "overall_risk" => settings
            .threat_model
            .attempt_probability
            .map(|a| a * analysis.prosecutor.success_rate),
        _ => None,
    }
}

pub(super) fn risk_checks(
    settings: &ExpertDeterminationRule,
    before: &RiskAnalysis,
    after: Option<&RiskAnalysis>,
) -> Vec<RiskCheck> {
    let thresholds = settings.effective_thresholds();
    MEASURES
        .iter()
        .filter_map(|(measure, description)| {
            let b = measure_value(before, measure, settings);
            let a = after.and_then(|a| measure_value(a, measure, settings));
            let threshold = thresholds.get(*measure).copied();
            if b.is_none() && a.is_none() && threshold.is_none() {
                return None;
            }
            let passes = threshold.map(|t| a.is_some_and(|a| a <= t));
            Some(RiskCheck {
                measure: (*measure).to_owned(),
                description: (*description).to_owned(),
                before: b,
                after: a,
                threshold,
                passes,
            })
        })
        .collect()
}

pub(super) fn level_results(
    dataset: &crate::data::dataset::Dataset,
    hierarchies: &crate::hierarchy::set::Hierarchies,
    result: &crate::search::SearchResult,
) -> Vec<LevelResult> {
    let Some(optimum) = &result.optimum else {
        return Vec::new();
    };
    let per_attribute = optimum
        .score
        .as_ref()
        .map(|s| s.per_attribute.clone())
        .unwrap_or_default();
    hierarchies
        .quasi_identifiers(dataset)
        .iter()
        .zip(&result.quasi_identifiers)
        .zip(optimum.node.levels())
        .enumerate()
        .map(|(i, ((h, name), &level))| {
            let lift = h.lift(0, level as usize);
            let mut seen = vec![false; h.levels()[level as usize].cardinality()];
            for &code in dataset.encoded(name).map(|c| c.codes()).unwrap_or_default() {
                seen[lift[code as usize] as usize] = true;
            }
            LevelResult {
                attribute: name.clone(),
                level,
                height: h.height() as u32,
                distinct_before: dataset
                    .encoded(name)
                    .map_or(0, |c| c.dictionary().len() as u64),
                distinct_after: seen.iter().filter(|&&s| s).count() as u64,
                loss: per_attribute.get(i).copied(),
            }
        })
        .collect()
}

pub(super) fn column_reports(
    ruleset: &Ruleset,
    columns: &[String],
    actions: &[ColumnAction],
    levels: &[LevelResult],
    recoding: Option<&str>,
) -> Vec<ColumnReport> {
    let lattice = |name: &str| {
        if let Some(recoding) = recoding {
            return format!("recoded record by record ({recoding} recoding)");
        }
        levels.iter().find(|l| l.attribute == name).map_or(
            "generalized (no transformation found)".to_owned(),
            |l| {
                format!(
                    "generalized to level {} of {} ({} → {} distinct values)",
                    l.level, l.height, l.distinct_before, l.distinct_after
                )
            },
        )
    };
    columns
        .iter()
        .map(|name| {
            let rule = ruleset.attributes.iter().find(|a| &a.name == name);
            let action = actions.iter().find(|a| &a.column == name);
            let role = rule.map_or(AttributeRole::Insensitive, |r| r.role);
            let treatment = match (action, role) {
                (Some(a), _) if a.action == "removed" => "removed (Safe Harbor)".to_owned(),
                (Some(a), _) if a.action == "tokenized" => {
                    "replaced by keyed tokens (45 CFR 164.514(c))".to_owned()
                }
                (Some(a), AttributeRole::QuasiIdentifier) if a.action == "generalized" => {
                    format!("Safe Harbor: {}; then {}", a.detail, lattice(name))
                }
                (Some(a), _) if a.action == "generalized" => format!("generalized: {}", a.detail),
                (_, AttributeRole::QuasiIdentifier) => lattice(name),
                (_, AttributeRole::Sensitive) => {
                    "released unchanged; protected by the privacy models".to_owned()
                }
                (_, AttributeRole::Identifier) => "removed".to_owned(),
                (_, AttributeRole::Insensitive) => "released unchanged".to_owned(),
            };
            ColumnReport {
                name: name.clone(),
                role: serde_json::to_value(role)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                data_type: rule
                    .and_then(|r| serde_json::to_value(r.data_type).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "string".to_owned()),
                identifier_kind: rule
                    .and_then(|r| r.identifier)
                    .and_then(|k| serde_json::to_value(k).ok())
                    .and_then(|v| v.as_str().map(str::to_owned)),
                treatment,
            }
        })
        .collect()
}

//! The `report` stage: the report of an Expert Determination, assembled
//! from the stages' outputs section by section, and its three renderings.

use std::path::PathBuf;

use super::clock::Utc;
use super::run::{column_reports, describe, format_name, level_results};
use super::stages::{Encoded, Input, RiskBefore, Synthesized, Verdict};
use crate::error::Result;
use crate::measure::profile::PrivacyProfile;
use crate::recode::LocalRelease;
use crate::report::RecodingResult;
use crate::report::format::fmt_probability;
use crate::report::{
    AuditTrail, Context, DataSection, DifferentialPrivacySection, ExpertDeterminationRule,
    Identification, LevelResult, Methods, PrincipleAssessment, ReleaseSection, Report, Results,
    RiskSection, SCHEMA_VERSION, ScanSection, SignOff, Summary, SynthesisSection, ThresholdSetting,
};
use crate::risk::{RiskAnalysis, ThresholdReport};
use crate::ruleset::Ruleset;
use crate::safe_harbor::ColumnAction;
use crate::safepub::SafePubRelease;
use crate::search::{AnonymizationConfig, SearchResult};
use crate::transform::TransformRecord;

/// Everything the report is made of: the outputs of every stage.
#[derive(Debug)]
pub(crate) struct Findings<'a> {
    pub ruleset: &'a Ruleset,
    pub settings: &'a ExpertDeterminationRule,
    pub config: &'a AnonymizationConfig,
    pub input: Input,
    pub actions: Vec<ColumnAction>,
    pub records: Vec<TransformRecord>,
    pub encoded: &'a Encoded,
    pub before: RiskBefore,
    pub result: SearchResult,
    /// The release, when recoded record by record.
    pub local: Option<LocalRelease>,
    /// The release, when differentially private, and whether its
    /// randomness was seeded.
    pub private: Option<(SafePubRelease, bool)>,
    /// Synthetic records, when configured, with the file written.
    pub synthesized: Option<(Synthesized, Option<(PathBuf, String)>)>,
    pub output_rows: u64,
    pub after: Option<RiskAnalysis>,
    pub privacy: Option<PrivacyProfile>,
    pub scan: ScanSection,
    pub verdict: Verdict,
    /// The data file written, with its SHA-256.
    pub written: Option<(PathBuf, String)>,
    /// The time of the run (before the data was written).
    pub now: Utc,
}

/// The report's account of synthetic records.
fn synthesis_section((s, file): (Synthesized, Option<(PathBuf, String)>)) -> SynthesisSection {
    let summary = s.synthesis.summary;
    let guarantee = format!(
        "The synthetic records are ({}, {})-differentially private in the records of the input: \
         whatever a recipient knows, they change the probability of any conclusion about one \
         person by a factor of at most e^{} (except with probability {}), whether or not that \
         person's record was in the input. No synthetic record stands for a real person; one \
         may still equal a real record by chance (the share is in the utility figures). The \
         guarantee holds because every attribute's domain was fixed without the data and the \
         randomness is secret{}.",
        summary.epsilon,
        summary.delta,
        summary.epsilon,
        summary.delta,
        if s.seeded {
            " — this run used a fixed seed, so it is reproducible and not for a release to \
             anyone who could know the seed"
        } else {
            ""
        }
    );
    SynthesisSection {
        summary,
        utility: s.utility,
        seeded: s.seeded,
        file: file.as_ref().map(|(path, _)| {
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        }),
        sha256: file.map(|(_, sha)| sha),
        guarantee,
    }
}

/// The sealed report of a run, its audit trail complete.
///
/// # Errors
///
/// Those of the populations the privacy models and the risk analysis
/// assume (see [`limitations`]).
pub(crate) fn assemble(findings: Findings<'_>, trail: AuditTrail) -> Result<Report> {
    let f = &findings;
    let levels = if f.local.is_some() {
        Vec::new()
    } else {
        level_results(
            &f.encoded.loaded.dataset,
            &f.encoded.loaded.hierarchies,
            &f.result,
        )
    };
    let limitations = limitations(f)?;
    let identification = identification(f, &trail);
    let summary = Summary {
        passes: f.verdict.passes,
        verdict: verdict_text(f),
        failures: f.verdict.failures.clone(),
        figures: figures(f, &levels),
    };
    let data = data_section(f, &levels);
    let context = context(f);
    let methods = methods(f);
    let Findings {
        settings,
        before,
        result,
        local,
        after,
        privacy,
        scan,
        verdict,
        now,
        synthesized,
        ..
    } = findings;
    let results = Results {
        found: result.optimum.is_some(),
        levels,
        suppressed_records: result.optimum.as_ref().map_or(0, |o| o.suppressed),
        suppressed_classes: result
            .optimum
            .as_ref()
            .map_or(0, |o| o.suppressed_classes as u64),
        classes: result.optimum.as_ref().map_or(0, |o| o.classes as u64),
        score: result
            .optimum
            .as_ref()
            .and_then(|o| o.score.as_ref().map(|s| s.score)),
        privacy,
        recoding: local.map(|r| RecodingResult {
            method: r.recoding.name().to_owned(),
            classes_formed: r.classes.len() as u64,
            suppressed_cells: r.measure.suppressed_cells,
            loss: r.measure.loss,
            elapsed_ms: r.elapsed_ms,
        }),
        synthesis: synthesized.map(synthesis_section),
    };
    let mut report = Report {
        schema_version: SCHEMA_VERSION.to_owned(),
        identification,
        summary,
        data,
        context,
        methods,
        results,
        risk: RiskSection {
            before: before.analysis,
            after,
            checks: verdict.checks,
        },
        scan,
        limitations,
        release: release_section(settings, now),
        audit: trail.into_entries(),
        sign_off: sign_off(settings),
    };
    report.seal();
    Ok(report)
}

/// Writes `report.json`, `report.html` and `report.md` into `dir`.
pub(crate) fn write_reports(report: &Report, dir: &std::path::Path) -> Result<[PathBuf; 3]> {
    let json_path = dir.join("report.json");
    let html_path = dir.join("report.html");
    let md_path = dir.join("report.md");
    crate::apply::write_bytes(&json_path, report.to_json().as_bytes())?;
    crate::apply::write_bytes(&html_path, crate::report::render_html(report).as_bytes())?;
    crate::apply::write_bytes(&md_path, crate::report::render_markdown(report).as_bytes())?;
    Ok([json_path, html_path, md_path])
}

fn verdict_text(f: &Findings<'_>) -> String {
    if f.verdict.passes {
        format!(
            "Every threshold is met for the {}: the risk of re-identification by the anticipated recipients is below the stated thresholds under the stated conditions.",
            f.settings.release_type.describe()
        )
    } else {
        "Not releasable: at least one requirement is not met (see the failures below).".to_owned()
    }
}

fn identification(f: &Findings<'_>, trail: &AuditTrail) -> Identification {
    let data_path = &f.input.data_path;
    Identification {
        report_id: trail
            .entries()
            .last()
            .map(|e| e.hash[..16].to_owned())
            .unwrap_or_default(),
        title: f.settings.title.clone().unwrap_or_else(|| {
            format!(
                "Expert Determination: {}",
                data_path.file_name().map_or_else(
                    || data_path.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            )
        }),
        software: format!("deidentify {}", env!("CARGO_PKG_VERSION")),
        created_utc: f.now.rfc3339(),
        covered_entity: f.settings.covered_entity.clone(),
        project: f.settings.project.clone(),
        ruleset_path: f.ruleset.path.display().to_string(),
        ruleset_sha256: f.input.ruleset_sha256.clone(),
    }
}

/// The summary's key figures.
fn figures(f: &Findings<'_>, levels: &[LevelResult]) -> Vec<(String, String)> {
    let input_rows = f.input.input_rows;
    let before = &f.before.analysis;
    let mut figures = vec![
        ("Input records".to_owned(), input_rows.to_string()),
        (
            "Highest prosecutor risk before".to_owned(),
            fmt_probability(before.prosecutor.highest_risk),
        ),
    ];
    if let Some(after) = &f.after {
        figures.push((
            "Highest prosecutor risk after".to_owned(),
            fmt_probability(after.prosecutor.highest_risk),
        ));
        figures.push((
            "Average prosecutor risk after".to_owned(),
            fmt_probability(after.prosecutor.success_rate),
        ));
    }
    if let Some(o) = &f.result.optimum {
        figures.push((
            "Records suppressed".to_owned(),
            format!(
                "{} ({:.2}%)",
                o.suppressed,
                100.0 * o.suppressed as f64 / input_rows.max(1) as f64
            ),
        ));
        match &f.local {
            None => figures.push((
                "Generalization".to_owned(),
                levels
                    .iter()
                    .map(|l| format!("{} {}/{}", l.attribute, l.level, l.height))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            Some(release) => {
                figures.push((
                    "Recoding".to_owned(),
                    format!(
                        "{}: granularity {:.4}, {} cells released as *",
                        release.recoding.name(),
                        release.measure.loss.granularity_mean,
                        release.measure.suppressed_cells
                    ),
                ));
            }
        }
    }
    figures
}

/// The limitations of the analysis: the standard ones, those the settings
/// imply, and the expert's own.
///
/// # Errors
///
/// Those of sizing the populations a privacy model and the risk analysis
/// assume.
fn limitations(f: &Findings<'_>) -> Result<Vec<String>> {
    let settings = f.settings;
    let mut limitations = vec![
        "Risk is measured against the quasi-identifiers declared in the ruleset. An attacker who knows other attributes (sensitive values, free text, dates of service) is outside this analysis.".to_owned(),
        "Each record is assumed to describe a different individual; longitudinal data with several records per person needs a per-person analysis.".to_owned(),
        "Repeated or overlapping releases of the same individuals can be linked with each other; each new release needs a determination that considers the earlier ones.".to_owned(),
        "Suppressed records stay in the file with their quasi-identifiers replaced by '*'; their sensitive and insensitive values are released.".to_owned(),
    ];
    if settings.population.is_none() && settings.sampling_fraction.is_none() {
        limitations.push("No population size was given: journalist and marketer risks use the data set as its own population, which overstates risk (HHS 2012 guidance), and population uniqueness is not estimated.".to_owned());
    }
    // A model that assumes its own population should agree with the one the
    // risk analysis assumes.
    let rows = f.encoded.loaded.dataset.rows() as u64;
    let analysis_population = match f.before.options.population {
        Some(p) => Some(p.size(rows)?),
        None => None,
    };
    for (spec, applied) in f.config.models.iter().zip(&f.result.applied_models) {
        let Some(assumed) = spec.population() else {
            continue;
        };
        let assumed = assumed.fixed(rows)?.size(rows)?;
        if analysis_population != Some(assumed) {
            limitations.push(format!(
                "The privacy model {applied} assumes a population of {assumed}, but the risk analysis assumes {}; the two should describe the same population.",
                analysis_population.map_or("none".to_owned(), |n| n.to_string()),
            ));
        }
    }
    if f.local.is_some() {
        limitations.push(format!(
            "The {} recoding chooses its splits or blanked cells greedily; it is not proven to lose the least information. Records of one value may be released at different generalizations; every released class (records with the same released values) was measured on the released table and satisfies the models.",
            f.config.recoding.name()
        ));
    } else if !f.result.proven_optimal {
        limitations.push(
            "The heuristic search does not prove the chosen transformation optimal.".to_owned(),
        );
    }
    if f.ruleset
        .transforms
        .iter()
        .any(|t| t.kind() == "additive-noise")
    {
        limitations.push("The report records the seed of every randomized transformation so that the run can be replayed; anyone holding the report could remove that noise, so the report must not be given to the data's recipients. (Statistical additive noise is not differential privacy.)".to_owned());
    }
    limitations.extend(settings.limitations.iter().cloned());
    Ok(limitations)
}

fn data_section(f: &Findings<'_>, levels: &[LevelResult]) -> DataSection {
    let written = &f.written;
    DataSection {
        source: f.input.data_path.display().to_string(),
        input_sha256: f.input.input_sha256.clone(),
        input_rows: f.input.input_rows,
        output_file: written
            .as_ref()
            .and_then(|(path, _)| path.file_name().map(|n| n.to_string_lossy().into_owned())),
        output_format: format_name(f.settings.output_format()).to_owned(),
        output_sha256: written.as_ref().map(|(_, sha)| sha.clone()),
        output_rows: f.output_rows,
        columns: column_reports(
            f.ruleset,
            &f.input.column_names,
            &f.actions,
            levels,
            f.local.as_ref().map(|r| r.recoding.name()),
        ),
        input_scan: f.input.input_scan.counts.clone(),
    }
}

fn context(f: &Findings<'_>) -> Context {
    let settings = f.settings;
    let dataset = &f.encoded.loaded.dataset;
    Context {
        recipients: settings.recipients.clone(),
        release_type: serde_json::to_value(settings.release_type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        release_description: settings.release_type.describe().to_owned(),
        intended_use: settings.intended_use.clone(),
        threat_model: settings.threat_model.clone(),
        population: settings.population,
        sampling_fraction: f
            .before
            .analysis
            .population_uniques
            .as_ref()
            .map(|p| p.sampling_fraction),
        population_source: settings.population_source.clone(),
        assumptions: vec![
            "The data is a sample of the population named above; every individual in it is also in that population.".to_owned(),
            "The attacker knows at most the declared quasi-identifiers of a target, as they appear in the input.".to_owned(),
            "The recipients are bound by the conditions of release below.".to_owned(),
        ],
        principles: f
            .encoded
            .names
            .iter()
            .map(|name| {
                let counts = dataset.encoded(name).map(|c| c.counts()).unwrap_or_default();
                let ratings = settings.principles.get(name).cloned();
                PrincipleAssessment {
                    attribute: name.clone(),
                    overall: ratings.as_ref().map(|r| r.overall()),
                    ratings,
                    distinct_values: counts.iter().filter(|&&n| n > 0).count() as u64,
                    unique_records: counts.iter().filter(|&&n| n == 1).count() as u64,
                }
            })
            .collect(),
    }
}

fn methods(f: &Findings<'_>) -> Methods {
    let (config, result) = (f.config, &f.result);
    let threshold = f.before.threshold;
    Methods {
        safe_harbor: f.actions.clone(),
        transformations: f
            .records
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect(),
        models: config.models.clone(),
        applied_models: result.applied_models.clone(),
        suppression_limit: config.suppression_limit,
        max_suppressed: result.max_suppressed,
        metric: serde_json::to_value(&config.metric).unwrap_or_default(),
        strategy: result.strategy.name().to_owned(),
        recoding: config.recoding.clone(),
        proven_optimal: result.proven_optimal,
        nodes_checked: result.nodes_checked,
        lattice_size: result.lattice_size,
        search_ms: result.elapsed_ms,
        base_threshold: ThresholdReport {
            probability: threshold.as_probability(),
            k: threshold.as_class_size(),
        },
        thresholds: f
            .settings
            .effective_thresholds()
            .iter()
            .map(|(measure, &threshold)| ThresholdSetting {
                measure: measure.clone(),
                description: describe(measure).to_owned(),
                threshold,
            })
            .collect(),
        differential_privacy: f.private.as_ref().map(|(release, seeded)| {
            let p = &release.summary.parameters;
            DifferentialPrivacySection {
                summary: release.summary.clone(),
                seeded: *seeded,
                guarantee: guarantee(p.epsilon, p.delta),
            }
        }),
    }
}

/// What (ε, δ)-differential privacy means for the recipient, in words.
fn guarantee(epsilon: f64, delta: f64) -> String {
    format!(
        "Whatever a recipient knows, this release changes the probability of any conclusion about one person by a factor of at most e^{epsilon} = {:.3}, except with probability {delta}, whether or not that person's record was in the data. It holds with hierarchies fixed without looking at the data and with secret randomness; the counts in this report (input, sampled and released records) are not part of the release and not covered.",
        epsilon.exp()
    )
}

fn release_section(settings: &ExpertDeterminationRule, now: Utc) -> ReleaseSection {
    ReleaseSection {
        conditions: settings.conditions(),
        reassessment_months: settings.reassessment_months,
        valid_until: now.plus_months(settings.reassessment_months).date(),
        triggers: [
            "a new external data source that holds the quasi-identifiers becomes available to the recipients",
            "the schema, the quasi-identifiers or the population covered change",
            "a new recipient, a new use, or a release to the public is planned",
            "further releases about the same individuals (cumulative disclosure)",
            "a suspected re-identification or breach",
        ]
        .map(str::to_owned)
        .to_vec(),
    }
}

fn sign_off(settings: &ExpertDeterminationRule) -> SignOff {
    SignOff {
        statement: "I have applied generally accepted statistical and scientific principles and methods for rendering information not individually identifiable, and determined that the risk is very small that the information could be used, alone or in combination with other reasonably available information, by an anticipated recipient to identify an individual who is a subject of the information; the methods and results of the analysis that justify this determination are documented in this report (45 CFR 164.514(b)(1)).".to_owned(),
        expert_name: settings.expert.name.clone(),
        credentials: settings.expert.credentials.clone(),
        organization: settings.expert.organization.clone(),
        content_sha256: String::new(),
    }
}

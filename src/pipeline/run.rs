//! The end-to-end Expert Determination run.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::apply::{apply, check_output, write_csv, write_parquet};
use crate::data::attribute::{AttributeRole, AttributeType};
use crate::data::date::Date;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::measure::profile::{PrivacyProfile, ProfileOptions};
use crate::model::SensitiveAttribute;
use crate::pipeline::clock::Utc;
use crate::report::{
    AuditTrail, ColumnReport, Context, DataSection, ExpertDeterminationRule, Identification,
    LevelResult, MEASURES, Methods, OutputFormat, PrincipleAssessment, ReleaseSection, Report,
    Results, RiskCheck, RiskSection, SCHEMA_VERSION, ScanSection, SignOff, Summary,
    ThresholdSetting, sha256_file,
};
use crate::risk::{Population, RiskAnalysis, RiskOptions, RiskThreshold, Suda, ThresholdReport};
use crate::ruleset::Ruleset;
use crate::safe_harbor::{
    ColumnAction, RestrictedZipPrefixes, Scanner, TokenKey, apply_safe_harbor,
};
use crate::search::search;
use crate::transform::apply_transforms_with_missing;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The steps of a run, in order, as reported to a progress observer.
pub const STEPS: [&str; 10] = [
    "load",
    "safe-harbor",
    "transform",
    "risk-before",
    "search",
    "apply",
    "risk-after",
    "scan",
    "write",
    "report",
];

/// How to run.
#[derive(Debug, Default)]
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
}

/// The name a not-releasable output is quarantined under:
/// `adult-deidentified.csv` → `adult-deidentified.NOT-RELEASABLE.csv`.
pub fn quarantine_name(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match output.extension() {
        Some(ext) => format!("{stem}.NOT-RELEASABLE.{}", ext.to_string_lossy()),
        None => format!("{stem}.NOT-RELEASABLE"),
    };
    output.with_file_name(name)
}

/// What a run wrote.
#[derive(Clone, Debug)]
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
/// # Errors
///
/// Every error of reading, encoding, Safe Harbor, search and writing; and
/// [`ErrorKind::InvalidParameter`] when the ruleset has no `[anonymization]`
/// table or invalid `[expert_determination]` settings, or an output would
/// overwrite an input.
pub fn run_expert_determination(
    ruleset: &Ruleset,
    options: &RunOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<RunOutcome> {
    let settings = ruleset.expert_determination.clone().unwrap_or_default();
    settings.check()?;
    let rule = ruleset.anonymization.as_ref().ok_or_else(|| {
        Error::parameter(
            "anonymization",
            "an Expert Determination needs an [anonymization] table (models, suppression limit)",
        )
    })?;
    let config = rule.config()?;
    for attribute in settings.principles.keys() {
        if !ruleset
            .attributes
            .iter()
            .any(|a| &a.name == attribute && a.role == AttributeRole::QuasiIdentifier)
        {
            return Err(Error::parameter(
                format!("principles.{attribute}"),
                "ratings are given for quasi-identifiers only, and this is not one",
            ));
        }
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ErrorKind::Io { path, source }
    };
    std::fs::create_dir_all(&options.out_dir).map_err(io(&options.out_dir))?;
    let inputs = ruleset.input_files();
    for output in [
        settings.output.clone(),
        quarantine_name(&settings.output),
        "report.json".into(),
        "report.html".into(),
        "report.md".into(),
    ] {
        check_output(&options.out_dir.join(output), &inputs)?;
    }

    // Load.
    progress("load");
    let ruleset_sha256 = sha256_file(&ruleset.path)?;
    let mut trail = AuditTrail::new(ruleset_sha256.clone());
    let data_path = ruleset.data_path();
    let input_sha256 = sha256_file(&data_path)?;
    let frame = ruleset.read_data()?;
    let input_rows = frame.height() as u64;
    let column_names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let scanner = Scanner::new();
    let input_scan = scanner.scan(&frame, &[])?;
    trail.record(
        "load",
        format!("Read {} and the ruleset", data_path.display()),
        json!({
            "ruleset": ruleset.path.display().to_string(),
            "ruleset_sha256": ruleset_sha256,
            "data": data_path.display().to_string(),
            "data_sha256": input_sha256,
            "columns": column_names,
        }),
        [
            ("rows", input_rows),
            ("columns", column_names.len() as u64),
            ("input_identifier_cells", input_scan.total()),
        ],
    );

    // Safe Harbor on declared identifiers.
    progress("safe-harbor");
    let declared = ruleset
        .attributes
        .iter()
        .any(|a| a.identifier.is_some() || a.role == AttributeRole::Identifier);
    let (frame, actions) = if declared {
        let loaded_key = match &options.key {
            None if ruleset.attributes.iter().any(|a| a.tokenize) => {
                Some(match &settings.key_file {
                    Some(file) => {
                        TokenKey::from_file_as(&ruleset.base.join(file), settings.key_encoding)?
                    }
                    None => TokenKey::from_env("DEIDENTIFY_TOKEN_KEY")?,
                })
            }
            _ => None,
        };
        let key = options.key.as_ref().or(loaded_key.as_ref());
        let reference = options.reference_date.unwrap_or_else(Date::today);
        let zips = RestrictedZipPrefixes::hhs_2000();
        let (released, actions) =
            apply_safe_harbor(&frame, &ruleset.attributes, key, &zips, reference)?;
        let cells = actions.iter().map(|a| a.cells).sum();
        trail.record(
            "safe-harbor",
            "Removed, tokenized or generalized the declared identifiers (45 CFR 164.514(b)(2))",
            serde_json::to_value(&actions).unwrap_or_default(),
            [("columns", actions.len() as u64), ("cells", cells)],
        );
        (released, actions)
    } else {
        (frame, Vec::new())
    };
    let release_rules = release_ruleset(ruleset, &actions);

    // Configured statistical transformations.
    progress("transform");
    let (frame, records) = if ruleset.transforms.is_empty() {
        (frame, Vec::new())
    } else {
        // Seeds of randomized steps come from `seed` or the operating
        // system; either way each record carries the seed it used.
        let mut rng = match settings.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::seed_from_u64(rand::rng().random()),
        };
        apply_transforms_with_missing(
            frame,
            &ruleset.transforms,
            &ruleset.data.missing_values,
            &mut rng,
        )?
    };
    for record in &records {
        trail.record(
            "transform",
            format!("{} of {}", record.kind, record.columns.join(", ")),
            serde_json::to_value(record).unwrap_or_default(),
            [
                ("cells_changed", record.rows_affected),
                ("missing_cells", record.missing_cells),
            ],
        );
    }
    let transformations: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or_default())
        .collect();

    let loaded = release_rules.load_frame(&frame, &data_path.display().to_string())?;
    let dataset = &loaded.dataset;
    let hierarchies = &loaded.hierarchies;
    let names = dataset.quasi_identifier_names();
    if names.is_empty() {
        return Err(Error::parameter(
            "attribute",
            "an Expert Determination needs at least one quasi-identifier",
        ));
    }

    // Risk before, at the ungeneralized node.
    progress("risk-before");
    let threshold = match settings.k {
        Some(k) => RiskThreshold::class_size(k)?,
        None => RiskThreshold::probability(settings.base_threshold())?,
    };
    let risk_options = RiskOptions {
        threshold,
        // A sampling fraction is of the whole input: the population it
        // implies stays the same after records are suppressed.
        population: match (settings.population, settings.sampling_fraction) {
            (Some(n), _) => Some(Population::Size(n)),
            (None, Some(f)) => Some(Population::SamplingFraction(f).fixed(dataset.rows() as u64)?),
            (None, None) => None,
        },
    };
    let bottom = Node::new(vec![0; names.len()]);
    let bottom_table = FrequencyTable::from_dataset(dataset, hierarchies, &bottom)?;
    let mut before = RiskAnalysis::of_table(&bottom_table, None, &risk_options)?;
    let dis_fraction = before
        .population_uniques
        .as_ref()
        .map_or(0.01, |p| p.sampling_fraction.clamp(1e-9, 0.999_999));
    if let Some(max_size) = settings.suda_max_size {
        before.suda = Some(Suda::of_dataset(
            dataset,
            hierarchies,
            &bottom,
            None,
            max_size,
            dis_fraction,
        )?);
    }
    trail.record(
        "risk-before",
        "Measured re-identification risk of the input",
        json!({ "threshold": before.threshold, "population": risk_options.population }),
        [
            ("classes", before.classes as u64),
            ("sample_unique_records", before.sample_unique_records),
        ],
    );

    // Search.
    progress("search");
    let orders = release_rules.orders();
    let result = search(dataset, hierarchies, &config, &orders)?;
    trail.record(
        "search",
        format!(
            "Searched the generalization lattice ({} strategy)",
            result.strategy.name()
        ),
        json!({
            "models": config.models,
            "applied_models": result.applied_models,
            "suppression_limit": config.suppression_limit,
            "metric": config.metric,
            "strategy": result.strategy,
            "optimum": result.levels(),
            "proven_optimal": result.proven_optimal,
        }),
        [
            ("nodes_checked", result.nodes_checked),
            ("lattice_size", result.lattice_size),
            ("max_suppressed", result.max_suppressed),
        ],
    );

    // Apply, risk after, scan, write.
    let format = settings.output_format();
    let mut after = None;
    let mut privacy = None;
    let mut scan_section = None;
    let mut released_frame = None;
    let mut output_rows = 0;
    if let Some(optimum) = &result.optimum {
        progress("apply");
        let anonymized = apply(dataset, hierarchies, &config, &orders, &optimum.node)?;
        output_rows = anonymized.frame.height() as u64;
        trail.record(
            "apply",
            "Generalized the quasi-identifiers to the chosen levels and suppressed the classes that fail a model",
            json!({ "levels": result.levels() }),
            [
                ("rows", output_rows),
                ("suppressed_records", anonymized.evaluation.suppressed),
                ("suppressed_classes", anonymized.evaluation.suppressed_classes as u64),
                ("classes", anonymized.evaluation.classes as u64),
            ],
        );

        progress("risk-after");
        let table = FrequencyTable::from_dataset(dataset, hierarchies, &optimum.node)?;
        let suppressed = anonymized.suppressed_classes(&table, dataset, hierarchies)?;
        let mut analysis = RiskAnalysis::of_table(&table, Some(&suppressed), &risk_options)?;
        if let Some(max_size) = settings.suda_max_size {
            analysis.suda = Some(Suda::of_dataset(
                dataset,
                hierarchies,
                &optimum.node,
                Some(&anonymized.suppressed_rows),
                max_size,
                dis_fraction,
            )?);
        }
        let keep: Vec<bool> = suppressed.iter().map(|s| !s).collect();
        let released = table.retain(&keep)?;
        let sensitive = SensitiveAttribute::all(dataset, hierarchies, &orders)?;
        let mut profile = PrivacyProfile::of_table(
            &released,
            &sensitive,
            &ProfileOptions {
                orders: orders.clone(),
                ..ProfileOptions::default()
            },
        )?;
        profile.levels = result.levels().unwrap_or_default();
        trail.record(
            "risk-after",
            "Measured re-identification risk and privacy of the released records",
            json!({ "k": profile.k, "classes": profile.classes }),
            [
                ("released_records", analysis.records),
                ("classes", analysis.classes as u64),
            ],
        );
        after = Some(analysis);
        privacy = Some(profile);

        progress("scan");
        let tokens: Vec<&str> = actions
            .iter()
            .filter(|a| a.action == "tokenized")
            .map(|a| a.column.as_str())
            .collect();
        let scan = scanner.scan(&anonymized.frame, &tokens)?;
        trail.record(
            "scan",
            "Scanned every released column except token columns for residual identifiers",
            json!({ "skipped": tokens, "counts": scan.counts }),
            [("cells", scan.cells), ("findings", scan.total())],
        );
        scan_section = Some(ScanSection {
            clean: scan.is_clean(),
            cells: scan.cells,
            columns: scan.columns.clone(),
            skipped: tokens.iter().map(|t| t.to_string()).collect(),
            counts: scan.counts.clone(),
            findings: scan.findings.iter().take(100).cloned().collect(),
        });

        released_frame = Some(anonymized.frame);
    }

    let now = Utc::now();
    let checks = risk_checks(&settings, &before, after.as_ref());
    let scan = scan_section.unwrap_or_else(|| ScanSection {
        clean: true,
        cells: 0,
        columns: Vec::new(),
        skipped: Vec::new(),
        counts: Default::default(),
        findings: Vec::new(),
    });
    let mut failures = Vec::new();
    if result.optimum.is_none() {
        failures.push(
            "No transformation satisfies the privacy models within the suppression limit."
                .to_owned(),
        );
    }
    for check in &checks {
        if check.passes == Some(false) {
            failures.push(format!(
                "{} is {} after de-identification, above the threshold {}.",
                check.measure,
                fmt_probability(check.after.unwrap_or(f64::NAN)),
                fmt_probability(check.threshold.unwrap_or(f64::NAN))
            ));
        }
    }
    if !scan.clean {
        failures.push(format!(
            "The residual-identifier scan found {} suspicious cells.",
            scan.findings
                .len()
                .max(scan.counts.values().flat_map(|m| m.values()).sum::<u64>() as usize)
        ));
    }
    let passes = failures.is_empty();
    let written = write_release(
        released_frame.as_ref(),
        passes,
        options,
        &settings,
        &mut trail,
        progress,
    )?;
    progress("report");
    let verdict = if passes {
        format!(
            "Every threshold is met for the {}: the risk of re-identification by the anticipated recipients is below the stated thresholds under the stated conditions.",
            settings.release_type.describe()
        )
    } else {
        "Not releasable: at least one requirement is not met (see the failures below).".to_owned()
    };
    let levels = level_results(dataset, hierarchies, &result);
    let mut figures = vec![
        ("Input records".to_owned(), input_rows.to_string()),
        (
            "Highest prosecutor risk before".to_owned(),
            fmt_probability(before.prosecutor.highest_risk),
        ),
    ];
    if let Some(after) = &after {
        figures.push((
            "Highest prosecutor risk after".to_owned(),
            fmt_probability(after.prosecutor.highest_risk),
        ));
        figures.push((
            "Average prosecutor risk after".to_owned(),
            fmt_probability(after.prosecutor.success_rate),
        ));
    }
    if let Some(o) = &result.optimum {
        figures.push((
            "Records suppressed".to_owned(),
            format!(
                "{} ({:.2}%)",
                o.suppressed,
                100.0 * o.suppressed as f64 / input_rows.max(1) as f64
            ),
        ));
        figures.push((
            "Generalization".to_owned(),
            levels
                .iter()
                .map(|l| format!("{} {}/{}", l.attribute, l.level, l.height))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }

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
    let rows = dataset.rows() as u64;
    let analysis_population = match risk_options.population {
        Some(p) => Some(p.size(rows)?),
        None => None,
    };
    for (spec, applied) in config.models.iter().zip(&result.applied_models) {
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
    if !result.proven_optimal {
        limitations.push(
            "The heuristic search does not prove the chosen transformation optimal.".to_owned(),
        );
    }
    if ruleset
        .transforms
        .iter()
        .any(|t| t.kind() == "additive-noise")
    {
        limitations.push("The report records the seed of every randomized transformation so that the run can be replayed; anyone holding the report could remove that noise, so the report must not be given to the data's recipients. (Statistical additive noise is not differential privacy.)".to_owned());
    }
    limitations.extend(settings.limitations.iter().cloned());

    let valid_until = now.plus_months(settings.reassessment_months).date();
    let thresholds = settings.effective_thresholds();
    let mut report = Report {
        schema_version: SCHEMA_VERSION.to_owned(),
        identification: Identification {
            report_id: trail
                .entries()
                .last()
                .map(|e| e.hash[..16].to_owned())
                .unwrap_or_default(),
            title: settings.title.clone().unwrap_or_else(|| {
                format!(
                    "Expert Determination: {}",
                    data_path.file_name().map_or_else(
                        || data_path.display().to_string(),
                        |n| n.to_string_lossy().into_owned()
                    )
                )
            }),
            software: format!("deidentify {}", env!("CARGO_PKG_VERSION")),
            created_utc: now.rfc3339(),
            covered_entity: settings.covered_entity.clone(),
            project: settings.project.clone(),
            ruleset_path: ruleset.path.display().to_string(),
            ruleset_sha256,
        },
        summary: Summary {
            passes,
            verdict,
            failures,
            figures,
        },
        data: DataSection {
            source: data_path.display().to_string(),
            input_sha256,
            input_rows,
            output_file: written.as_ref().and_then(|(path, _)| {
                path.file_name().map(|n| n.to_string_lossy().into_owned())
            }),
            output_format: format_name(format).to_owned(),
            output_sha256: written.as_ref().map(|(_, sha)| sha.clone()),
            output_rows,
            columns: column_reports(ruleset, &column_names, &actions, &levels),
            input_scan: input_scan.counts.clone(),
        },
        context: Context {
            recipients: settings.recipients.clone(),
            release_type: serde_json::to_value(settings.release_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            release_description: settings.release_type.describe().to_owned(),
            intended_use: settings.intended_use.clone(),
            threat_model: settings.threat_model.clone(),
            population: settings.population,
            sampling_fraction: before.population_uniques.as_ref().map(|p| p.sampling_fraction),
            population_source: settings.population_source.clone(),
            assumptions: vec![
                "The data is a sample of the population named above; every individual in it is also in that population.".to_owned(),
                "The attacker knows at most the declared quasi-identifiers of a target, as they appear in the input.".to_owned(),
                "The recipients are bound by the conditions of release below.".to_owned(),
            ],
            principles: names
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
        },
        methods: Methods {
            safe_harbor: actions.clone(),
            transformations,
            models: config.models.clone(),
            applied_models: result.applied_models.clone(),
            suppression_limit: config.suppression_limit,
            max_suppressed: result.max_suppressed,
            metric: serde_json::to_value(&config.metric).unwrap_or_default(),
            strategy: result.strategy.name().to_owned(),
            proven_optimal: result.proven_optimal,
            nodes_checked: result.nodes_checked,
            lattice_size: result.lattice_size,
            search_ms: result.elapsed_ms,
            base_threshold: ThresholdReport {
                probability: threshold.as_probability(),
                k: threshold.as_class_size(),
            },
            thresholds: thresholds
                .iter()
                .map(|(measure, &threshold)| ThresholdSetting {
                    measure: measure.clone(),
                    description: describe(measure).to_owned(),
                    threshold,
                })
                .collect(),
        },
        results: Results {
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
        },
        risk: RiskSection {
            before,
            after,
            checks,
        },
        scan,
        limitations,
        release: ReleaseSection {
            conditions: settings.conditions(),
            reassessment_months: settings.reassessment_months,
            valid_until,
            triggers: [
                "a new external data source that holds the quasi-identifiers becomes available to the recipients",
                "the schema, the quasi-identifiers or the population covered change",
                "a new recipient, a new use, or a release to the public is planned",
                "further releases about the same individuals (cumulative disclosure)",
                "a suspected re-identification or breach",
            ]
            .map(str::to_owned)
            .to_vec(),
        },
        audit: trail.into_entries(),
        sign_off: SignOff {
            statement: "I have applied generally accepted statistical and scientific principles and methods for rendering information not individually identifiable, and determined that the risk is very small that the information could be used, alone or in combination with other reasonably available information, by an anticipated recipient to identify an individual who is a subject of the information; the methods and results of the analysis that justify this determination are documented in this report (45 CFR 164.514(b)(1)).".to_owned(),
            expert_name: settings.expert.name.clone(),
            credentials: settings.expert.credentials.clone(),
            organization: settings.expert.organization.clone(),
            content_sha256: String::new(),
        },
    };
    report.seal();

    let json_path = options.out_dir.join("report.json");
    let html_path = options.out_dir.join("report.html");
    let md_path = options.out_dir.join("report.md");
    crate::apply::write_bytes(&json_path, report.to_json().as_bytes())?;
    crate::apply::write_bytes(&html_path, crate::report::render_html(&report).as_bytes())?;
    crate::apply::write_bytes(&md_path, crate::report::render_markdown(&report).as_bytes())?;
    Ok(RunOutcome {
        report,
        json: json_path,
        html: html_path,
        markdown: md_path,
        data: written.map(|(path, _)| path),
    })
}

/// The ruleset the release is encoded with: identifiers Safe Harbor removed
/// are gone, tokenized identifier columns are released as insensitive
/// columns, and generalized ones are read as text.
fn release_ruleset(ruleset: &Ruleset, actions: &[ColumnAction]) -> Ruleset {
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

fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Csv => "csv",
        OutputFormat::Parquet => "parquet",
    }
}

fn describe(measure: &str) -> &'static str {
    MEASURES
        .iter()
        .find(|(m, _)| *m == measure)
        .map_or("", |(_, d)| d)
}

/// A probability for people: 4 significant digits.
pub(crate) fn fmt_probability(p: f64) -> String {
    if !p.is_finite() {
        return "n/a".to_owned();
    }
    if p == 0.0 {
        return "0".to_owned();
    }
    let digits = (3 - p.abs().log10().floor() as i32).max(0) as usize;
    format!("{p:.digits$}")
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

fn risk_checks(
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

fn level_results(
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

fn column_reports(
    ruleset: &Ruleset,
    columns: &[String],
    actions: &[ColumnAction],
    levels: &[LevelResult],
) -> Vec<ColumnReport> {
    let lattice = |name: &str| {
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

/// The `write` step: the released data under its name when the verdict
/// passes, under its quarantine name when it fails and quarantine was asked
/// for, and nothing otherwise. Returns the file written with its SHA-256.
fn write_release(
    frame: Option<&polars::prelude::DataFrame>,
    passes: bool,
    options: &RunOptions,
    settings: &ExpertDeterminationRule,
    trail: &mut AuditTrail,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<(PathBuf, String)>> {
    progress("write");
    let Some(frame) = frame else {
        trail.record(
            "write",
            "Wrote no data: no transformation meets the models within the suppression limit",
            json!({ "file": null, "sha256": null }),
            [("rows", 0)],
        );
        return Ok(None);
    };
    if !passes && !options.quarantine {
        trail.record(
            "write",
            "Wrote no data: the release is not releasable (see the failures)",
            json!({ "file": null, "sha256": null }),
            [("rows", 0)],
        );
        return Ok(None);
    }
    let name = if passes {
        settings.output.clone()
    } else {
        quarantine_name(&settings.output)
    };
    let path = options.out_dir.join(&name);
    let format = settings.output_format();
    match format {
        OutputFormat::Csv => write_csv(frame, &path, b',')?,
        OutputFormat::Parquet => write_parquet(frame, &path)?,
    }
    let sha = sha256_file(&path)?;
    trail.record(
        "write",
        if passes {
            format!("Wrote the released data to {}", name.display())
        } else {
            format!(
                "Quarantined the data, which is not releasable, as {}",
                name.display()
            )
        },
        json!({
            "file": name.display().to_string(),
            "format": format_name(format),
            "sha256": sha,
            "releasable": passes,
        }),
        [("rows", frame.height() as u64)],
    );
    Ok(Some((path, sha)))
}

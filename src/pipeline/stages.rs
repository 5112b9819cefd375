//! The stages of an Expert Determination ([`super::run_expert_determination`]),
//! each a function with a typed input and output. A stage returns its output
//! with the audit entries it produced ([`Staged`]); the run appends them to
//! the trail in one place ([`Trail::take`]).

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use serde_json::json;

use super::run::{RunOptions, format_name, quarantine_name, release_ruleset, risk_checks};
use crate::apply::{Anonymized, apply, check_output, write_csv, write_parquet};
use crate::data::attribute::AttributeRole;
use crate::data::date::Date;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::measure::profile::{PrivacyProfile, ProfileOptions};
use crate::model::SensitiveAttribute;
use crate::recode::{LocalRelease, recode};
use crate::report::{
    AuditTrail, ExpertDeterminationRule, OutputFormat, RiskCheck, ScanSection, sha256_file,
};
use crate::risk::{Population, RiskAnalysis, RiskOptions, RiskThreshold, Suda};
use crate::ruleset::{LoadedRuleset, Ruleset};
use crate::safe_harbor::{
    ColumnAction, RestrictedZipPrefixes, ScanReport, Scanner, TokenKey, apply_safe_harbor,
};
use crate::safepub::{SafePubConfig, SafePubRelease};
use crate::search::{AnonymizationConfig, NodeEvaluation, Recoding, SearchResult, search};
use crate::synthesis::{Synthesis, SynthesisUtility, UtilityOptions, evaluate};
use crate::transform::{TransformRecord, apply_transforms_with_missing};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// One audit entry a stage produced, before it is chained into the trail.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// The step (one of [`super::STEPS`]).
    pub step: &'static str,
    /// What was done.
    pub description: String,
    /// The parameters it was done with.
    pub parameters: serde_json::Value,
    /// What it counted.
    pub counts: Vec<(&'static str, u64)>,
}

impl Entry {
    fn new(
        step: &'static str,
        description: impl Into<String>,
        parameters: serde_json::Value,
        counts: impl IntoIterator<Item = (&'static str, u64)>,
    ) -> Entry {
        Entry {
            step,
            description: description.into(),
            parameters,
            counts: counts.into_iter().collect(),
        }
    }
}

/// A stage's output with the audit entries it produced, in order.
#[derive(Debug)]
pub(crate) struct Staged<T> {
    pub output: T,
    pub entries: Vec<Entry>,
}

impl<T> Staged<T> {
    fn new(output: T, entries: impl IntoIterator<Item = Entry>) -> Staged<T> {
        Staged {
            output,
            entries: entries.into_iter().collect(),
        }
    }
}

/// The audit trail of a run: the one place stage entries are appended.
#[derive(Debug)]
pub(crate) struct Trail(AuditTrail);

impl Trail {
    /// A trail anchored on the ruleset's SHA-256.
    pub fn new(anchor: impl Into<String>) -> Trail {
        Trail(AuditTrail::new(anchor))
    }

    /// Appends the stage's entries and returns its output.
    pub fn take<T>(&mut self, staged: Staged<T>) -> T {
        for entry in staged.entries {
            self.0.record(
                entry.step,
                entry.description,
                entry.parameters,
                entry.counts,
            );
        }
        staged.output
    }

    /// The chained trail.
    pub fn into_inner(self) -> AuditTrail {
        self.0
    }
}

/// The run's settings, checked, with the output folder created.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub settings: ExpertDeterminationRule,
    pub config: AnonymizationConfig,
}

/// Checks the settings and the principles, creates the output folder and
/// refuses any output that would land on an input. Writes nothing else.
pub(crate) fn prepare(ruleset: &Ruleset, options: &RunOptions) -> Result<Prepared> {
    let settings = ruleset.expert_determination.clone().unwrap_or_default();
    settings.check()?;
    let rule = ruleset.anonymization.as_ref().ok_or_else(|| {
        Error::parameter(
            "anonymization",
            "an Expert Determination needs an [anonymization] table (models, suppression limit)",
        )
    })?;
    let config = rule.config()?;
    if config.recoding != Recoding::Global && settings.suda_max_size.is_some() {
        // SUDA after works on the records' codes at one node, which a
        // release recoded record by record does not have.
        return Err(Error::parameter(
            "suda_max_size",
            format!(
                "SUDA after de-identification is measured for global recoding only, not {}: remove suda_max_size or use recoding = \"global\"",
                config.recoding.name()
            ),
        ));
    }
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
    std::fs::create_dir_all(&options.out_dir).map_err(|source| ErrorKind::Io {
        path: options.out_dir.clone(),
        source,
    })?;
    let inputs = ruleset.input_files();
    for output in [
        settings.output.clone(),
        quarantine_name(&settings.output),
        synthetic_name(&settings.output),
        "report.json".into(),
        "report.html".into(),
        "report.md".into(),
    ] {
        check_output(&options.out_dir.join(output), &inputs)?;
    }
    Ok(Prepared { settings, config })
}

/// What the report says of the input.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    pub ruleset_sha256: String,
    pub data_path: PathBuf,
    pub input_sha256: String,
    pub input_rows: u64,
    pub column_names: Vec<String>,
    pub input_scan: ScanReport,
}

/// The `load` stage's output: the input as read.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub input: Input,
    pub frame: DataFrame,
}

/// `load`: hashes the ruleset and the data, reads the data and scans it for
/// identifiers.
pub(crate) fn load(ruleset: &Ruleset) -> Result<Staged<Loaded>> {
    let ruleset_sha256 = sha256_file(&ruleset.path)?;
    let data_path = ruleset.data_path();
    let input_sha256 = sha256_file(&data_path)?;
    let frame = ruleset.read_data()?;
    let input_rows = frame.height() as u64;
    let column_names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let input_scan = Scanner::new().scan(&frame, &[])?;
    let entry = Entry::new(
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
    let input = Input {
        ruleset_sha256,
        data_path,
        input_sha256,
        input_rows,
        column_names,
        input_scan,
    };
    Ok(Staged::new(Loaded { input, frame }, [entry]))
}

/// The `safe-harbor` stage's output.
#[derive(Debug)]
pub(crate) struct Protected {
    pub frame: DataFrame,
    /// What Safe Harbor did to each declared identifier column.
    pub actions: Vec<ColumnAction>,
}

/// `safe-harbor`: removes, tokenizes or generalizes the declared
/// identifiers; the data passes unchanged (and no entry is made) when the
/// ruleset declares none. The key is read only when a column is tokenized.
pub(crate) fn safe_harbor(
    ruleset: &Ruleset,
    options: &RunOptions,
    settings: &ExpertDeterminationRule,
    frame: DataFrame,
) -> Result<Staged<Protected>> {
    let declared = ruleset
        .attributes
        .iter()
        .any(|a| a.identifier.is_some() || a.role == AttributeRole::Identifier);
    if !declared {
        let actions = Vec::new();
        return Ok(Staged::new(Protected { frame, actions }, []));
    }
    let loaded_key = match &options.key {
        None if ruleset.attributes.iter().any(|a| a.tokenize) => Some(match &settings.key_file {
            Some(file) => TokenKey::from_file_as(&ruleset.base.join(file), settings.key_encoding)?,
            None => TokenKey::from_env("DEIDENTIFY_TOKEN_KEY")?,
        }),
        _ => None,
    };
    let key = options.key.as_ref().or(loaded_key.as_ref());
    let reference = options.reference_date.unwrap_or_else(Date::today);
    let zips = RestrictedZipPrefixes::hhs_2000();
    let (frame, actions) = apply_safe_harbor(
        &frame,
        &ruleset.safe_harbor_columns(),
        key,
        &zips,
        reference,
    )?;
    let cells = actions.iter().map(|a| a.cells).sum();
    let entry = Entry::new(
        "safe-harbor",
        "Removed, tokenized or generalized the declared identifiers (45 CFR 164.514(b)(2))",
        serde_json::to_value(&actions).unwrap_or_default(),
        [("columns", actions.len() as u64), ("cells", cells)],
    );
    Ok(Staged::new(Protected { frame, actions }, [entry]))
}

/// The `transform` stage's output.
#[derive(Debug)]
pub(crate) struct Transformed {
    pub frame: DataFrame,
    /// One record per configured transformation, with the seed it used.
    pub records: Vec<TransformRecord>,
}

/// `transform`: applies the ruleset's `[[transform]]` list, one entry per
/// transformation.
pub(crate) fn transform(
    ruleset: &Ruleset,
    settings: &ExpertDeterminationRule,
    frame: DataFrame,
) -> Result<Staged<Transformed>> {
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
    let entries: Vec<Entry> = records
        .iter()
        .map(|record| {
            Entry::new(
                "transform",
                format!("{} of {}", record.kind, record.columns.join(", ")),
                serde_json::to_value(record).unwrap_or_default(),
                [
                    ("cells_changed", record.rows_affected),
                    ("missing_cells", record.missing_cells),
                ],
            )
        })
        .collect();
    Ok(Staged::new(Transformed { frame, records }, entries))
}

/// The protected, transformed data encoded with the release's ruleset.
#[derive(Debug)]
pub(crate) struct Encoded {
    pub loaded: LoadedRuleset,
    /// The quasi-identifiers, in the dataset's order.
    pub names: Vec<String>,
    /// The value orders of the release's ruleset.
    pub orders: std::collections::BTreeMap<String, Vec<String>>,
}

/// Encodes the data with the release's ruleset ([`release_ruleset`]); not a
/// step of its own (no entry). Fails without a quasi-identifier.
pub(crate) fn encode(
    ruleset: &Ruleset,
    actions: &[ColumnAction],
    frame: &DataFrame,
    data_path: &Path,
) -> Result<Encoded> {
    let rules = release_ruleset(ruleset, actions);
    let loaded = rules.load_frame(frame, &data_path.display().to_string())?;
    let names = loaded.dataset.quasi_identifier_names();
    if names.is_empty() {
        return Err(Error::parameter(
            "attribute",
            "an Expert Determination needs at least one quasi-identifier",
        ));
    }
    let orders = rules.orders();
    Ok(Encoded {
        loaded,
        names,
        orders,
    })
}

/// The `risk-before` stage's output.
#[derive(Clone, Debug)]
pub(crate) struct RiskBefore {
    pub threshold: RiskThreshold,
    pub options: RiskOptions,
    pub analysis: RiskAnalysis,
    /// The sampling fraction SUDA's DIS score uses, for the risk after too.
    pub dis_fraction: f64,
}

/// `risk-before`: the re-identification risk at the ungeneralized node.
pub(crate) fn risk_before(
    settings: &ExpertDeterminationRule,
    encoded: &Encoded,
) -> Result<Staged<RiskBefore>> {
    let dataset = &encoded.loaded.dataset;
    let hierarchies = &encoded.loaded.hierarchies;
    let threshold = match settings.k {
        Some(k) => RiskThreshold::class_size(k)?,
        None => RiskThreshold::probability(settings.base_threshold())?,
    };
    let options = RiskOptions {
        threshold,
        // A sampling fraction is of the whole input: the population it
        // implies stays the same after records are suppressed.
        population: match (settings.population, settings.sampling_fraction) {
            (Some(n), _) => Some(Population::Size(n)),
            (None, Some(f)) => Some(Population::SamplingFraction(f).fixed(dataset.rows() as u64)?),
            (None, None) => None,
        },
    };
    let bottom = Node::new(vec![0; encoded.names.len()]);
    let bottom_table = FrequencyTable::from_dataset(dataset, hierarchies, &bottom)?;
    let mut analysis = RiskAnalysis::of_table(&bottom_table, None, &options)?;
    let dis_fraction = analysis
        .population_uniques
        .as_ref()
        .map_or(0.01, |p| p.sampling_fraction.clamp(1e-9, 0.999_999));
    if let Some(max_size) = settings.suda_max_size {
        analysis.suda = Some(Suda::of_dataset(
            dataset,
            hierarchies,
            &bottom,
            None,
            max_size,
            dis_fraction,
        )?);
    }
    let entry = Entry::new(
        "risk-before",
        "Measured re-identification risk of the input",
        json!({ "threshold": analysis.threshold, "population": options.population }),
        [
            ("classes", analysis.classes as u64),
            ("sample_unique_records", analysis.sample_unique_records),
        ],
    );
    let output = RiskBefore {
        threshold,
        options,
        analysis,
        dis_fraction,
    };
    Ok(Staged::new(output, [entry]))
}

/// `search`: the optimum of the generalization lattice.
pub(crate) fn search_lattice(
    config: &AnonymizationConfig,
    encoded: &Encoded,
) -> Result<Staged<SearchResult>> {
    let result = search(
        &encoded.loaded.dataset,
        &encoded.loaded.hierarchies,
        config,
        &encoded.orders,
    )?;
    let entry = Entry::new(
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
    Ok(Staged::new(result, [entry]))
}

/// A generator seeded with `seed`, or from the operating system.
fn seeded_or_system(seed: Option<u64>) -> Result<StdRng> {
    match seed {
        Some(seed) => Ok(StdRng::seed_from_u64(seed)),
        None => StdRng::try_from_rng(&mut rand::rngs::SysRng).map_err(|e| {
            Error::parameter(
                "randomness",
                format!("the operating system gave no randomness: {e}"),
            )
        }),
    }
}

/// `search` and `apply` of a differentially private release
/// ([`crate::safepub::release`]): the release and a search result that
/// describes it (the chosen node; its score not a search's, never proven
/// optimal). Randomness from the operating system unless `seed` is given.
pub(crate) fn dp_release(
    dp: &SafePubConfig,
    encoded: &Encoded,
    seed: Option<u64>,
) -> Result<Staged<(SearchResult, SafePubRelease)>> {
    let mut rng = seeded_or_system(seed)?;
    let release = crate::safepub::release(
        &encoded.loaded.dataset,
        &encoded.loaded.hierarchies,
        dp,
        &mut rng,
    )?;
    let (p, counts) = (&release.summary.parameters, &release.summary);
    let lattice_size = counts.lattice_size;
    let optimum = NodeEvaluation {
        node: release.node.clone(),
        feasible: true,
        suppressed: counts.input_rows - counts.released_rows,
        classes: counts.released_classes as usize,
        suppressed_classes: 0,
        score: None,
    };
    let result = SearchResult {
        optimum: Some(optimum),
        quasi_identifiers: encoded.names.clone(),
        nodes_checked: counts.nodes_scored,
        lattice_size,
        max_suppressed: counts.input_rows,
        strategy: crate::search::Strategy::Optimal,
        proven_optimal: false,
        lower_bound: None,
        elapsed_ms: release.elapsed_ms,
        applied_models: vec![format!(
            "({}, {})-differential privacy (SafePub): k = {}, β = {:.6}",
            p.epsilon, p.delta, p.k, p.beta
        )],
    };
    let search = Entry::new(
        "search",
        "Chose the transformation by the exponential mechanism (differential privacy)",
        json!({
            "epsilon": p.epsilon,
            "delta": p.delta,
            "search_epsilon": p.search_epsilon,
            "search": p.search,
            "score": p.score,
            "levels": result.levels(),
            "seeded": seed.is_some(),
        }),
        [
            ("nodes_scored", counts.nodes_scored),
            ("lattice_size", lattice_size),
        ],
    );
    let apply = Entry::new(
        "apply",
        "Sampled the records, generalized the sample to the chosen levels and dropped the classes below k",
        json!({
            "anonymization_epsilon": p.anonymization_epsilon,
            "beta": p.beta,
            "k": p.k,
            "delta_at_k": p.delta_at_k,
        }),
        [
            ("input_rows", counts.input_rows),
            ("sampled_rows", counts.sampled_rows),
            ("released_rows", counts.released_rows),
            ("released_classes", counts.released_classes),
        ],
    );
    Ok(Staged::new((result, release), [search, apply]))
}

/// `risk-after` of a differentially private release: risk and privacy of
/// the released records' classes.
pub(crate) fn risk_after_dp(
    settings: &ExpertDeterminationRule,
    encoded: &Encoded,
    before: &RiskBefore,
    release: &SafePubRelease,
) -> Result<Staged<RiskAfter>> {
    let hierarchies = &encoded.loaded.hierarchies;
    let mut rows = release.rows.clone();
    rows.sort_unstable();
    let released = encoded.loaded.dataset.select_rows(&rows)?;
    let table = FrequencyTable::from_dataset(&released, hierarchies, &release.node)?;
    let mut analysis = RiskAnalysis::of_table(&table, None, &before.options)?;
    if let Some(max_size) = settings.suda_max_size {
        analysis.suda = Some(Suda::of_dataset(
            &released,
            hierarchies,
            &release.node,
            None,
            max_size,
            before.dis_fraction,
        )?);
    }
    let privacy = released_privacy(encoded, &table, &vec![false; table.classes()])?;
    Ok(risk_after_staged(
        "Measured re-identification risk and privacy of the released records",
        analysis,
        privacy,
    ))
}

/// `search` and `apply` of a release recoded record by record
/// ([`crate::recode::recode`]): the release, measured from the released
/// table, and a search result that describes it (the bottom node; no
/// score, not proven optimal).
pub(crate) fn recode_release(
    config: &AnonymizationConfig,
    encoded: &Encoded,
) -> Result<Staged<(SearchResult, Option<LocalRelease>)>> {
    let dataset = &encoded.loaded.dataset;
    let release = recode(
        dataset,
        &encoded.loaded.hierarchies,
        config,
        &encoded.orders,
    )?;
    let applied_models = config
        .models
        .iter()
        .map(|m| {
            m.build(dataset, &encoded.loaded.hierarchies, &encoded.orders)
                .map(|m| m.name())
        })
        .collect::<Result<Vec<_>>>()?;
    let result = SearchResult {
        optimum: release.as_ref().map(|r| {
            let suppressed_classes = r.measure.suppressed.iter().filter(|&&s| s).count();
            NodeEvaluation {
                node: Node::bottom(encoded.names.len()),
                feasible: true,
                suppressed: r.measure.suppressed_records,
                classes: r.measure.table.classes() - suppressed_classes,
                suppressed_classes,
                score: None,
            }
        }),
        quasi_identifiers: encoded.names.clone(),
        nodes_checked: 0,
        lattice_size: 0,
        max_suppressed: (config.suppression_limit * dataset.rows() as f64).floor() as u64,
        strategy: config.strategy,
        proven_optimal: false,
        lower_bound: None,
        elapsed_ms: release.as_ref().map_or(0.0, |r| r.elapsed_ms),
        applied_models,
    };
    let mut entries = vec![Entry::new(
        "search",
        format!(
            "Recoded the records one by one ({} recoding)",
            config.recoding.name()
        ),
        json!({
            "models": config.models,
            "applied_models": result.applied_models,
            "suppression_limit": config.suppression_limit,
            "recoding": config.recoding,
            "found": release.is_some(),
        }),
        [(
            "classes_formed",
            release.as_ref().map_or(0, |r| r.classes.len() as u64),
        )],
    )];
    if let Some(r) = &release {
        entries.push(Entry::new(
            "apply",
            "Released the recoded records, measured from the released table: every class satisfies the models",
            json!({ "granularity": r.measure.loss.granularity_mean }),
            [
                ("rows", r.frame.height() as u64),
                ("suppressed_records", r.measure.suppressed_records),
                ("suppressed_cells", r.measure.suppressed_cells),
                ("classes", r.measure.table.classes() as u64),
            ],
        ));
    }
    Ok(Staged::new((result, release), entries))
}

/// `risk-after` of a release recoded record by record: risk and privacy of
/// its classes as measured on the released table (suppressed records left
/// out).
pub(crate) fn risk_after_local(
    settings: &ExpertDeterminationRule,
    encoded: &Encoded,
    before: &RiskBefore,
    release: &LocalRelease,
) -> Result<Staged<RiskAfter>> {
    let measure = &release.measure;
    debug_assert!(settings.suda_max_size.is_none(), "refused by prepare");
    let analysis =
        RiskAnalysis::of_table(&measure.table, Some(&measure.suppressed), &before.options)?;
    let privacy = released_privacy(encoded, &measure.table, &measure.suppressed)?;
    Ok(risk_after_staged(
        "Measured re-identification risk and privacy of the released records (classes of the released values)",
        analysis,
        privacy,
    ))
}

/// The privacy profile of the classes of `table` not `suppressed`.
fn released_privacy(
    encoded: &Encoded,
    table: &FrequencyTable,
    suppressed: &[bool],
) -> Result<PrivacyProfile> {
    let keep: Vec<bool> = suppressed.iter().map(|s| !s).collect();
    let released = table.retain(&keep)?;
    let sensitive = SensitiveAttribute::all(
        &encoded.loaded.dataset,
        &encoded.loaded.hierarchies,
        &encoded.orders,
    )?;
    PrivacyProfile::of_table(
        &released,
        &sensitive,
        &ProfileOptions {
            orders: encoded.orders.clone(),
            ..ProfileOptions::default()
        },
    )
}

/// The `risk-after` stage's output and its entry.
fn risk_after_staged(
    description: &str,
    analysis: RiskAnalysis,
    privacy: PrivacyProfile,
) -> Staged<RiskAfter> {
    let entry = Entry::new(
        "risk-after",
        description,
        json!({ "k": privacy.k, "classes": privacy.classes }),
        [
            ("released_records", analysis.records),
            ("classes", analysis.classes as u64),
        ],
    );
    Staged::new(RiskAfter { analysis, privacy }, [entry])
}

/// `apply`: the data generalized to `node` (the optimum of `result`), with
/// the classes that fail a model suppressed.
pub(crate) fn apply_optimum(
    config: &AnonymizationConfig,
    encoded: &Encoded,
    result: &SearchResult,
    node: &Node,
) -> Result<Staged<Anonymized>> {
    let anonymized = apply(
        &encoded.loaded.dataset,
        &encoded.loaded.hierarchies,
        config,
        &encoded.orders,
        node,
    )?;
    let entry = Entry::new(
        "apply",
        "Generalized the quasi-identifiers to the chosen levels and suppressed the classes that fail a model",
        json!({ "levels": result.levels() }),
        [
            ("rows", anonymized.frame.height() as u64),
            ("suppressed_records", anonymized.evaluation.suppressed),
            (
                "suppressed_classes",
                anonymized.evaluation.suppressed_classes as u64,
            ),
            ("classes", anonymized.evaluation.classes as u64),
        ],
    );
    Ok(Staged::new(anonymized, [entry]))
}

/// The `risk-after` stage's output.
#[derive(Clone, Debug)]
pub(crate) struct RiskAfter {
    pub analysis: RiskAnalysis,
    pub privacy: PrivacyProfile,
}

/// `risk-after`: the re-identification risk and the privacy profile of the
/// released records (the suppressed ones left out).
pub(crate) fn risk_after(
    settings: &ExpertDeterminationRule,
    encoded: &Encoded,
    before: &RiskBefore,
    result: &SearchResult,
    node: &Node,
    anonymized: &Anonymized,
) -> Result<Staged<RiskAfter>> {
    let dataset = &encoded.loaded.dataset;
    let hierarchies = &encoded.loaded.hierarchies;
    let table = FrequencyTable::from_dataset(dataset, hierarchies, node)?;
    let suppressed = anonymized.suppressed_classes(&table, dataset, hierarchies)?;
    let mut analysis = RiskAnalysis::of_table(&table, Some(&suppressed), &before.options)?;
    if let Some(max_size) = settings.suda_max_size {
        analysis.suda = Some(Suda::of_dataset(
            dataset,
            hierarchies,
            node,
            Some(&anonymized.suppressed_rows),
            max_size,
            before.dis_fraction,
        )?);
    }
    let mut privacy = released_privacy(encoded, &table, &suppressed)?;
    privacy.levels = result.levels().unwrap_or_default();
    Ok(risk_after_staged(
        "Measured re-identification risk and privacy of the released records",
        analysis,
        privacy,
    ))
}

/// `scan`: every released column except the token columns, for residual
/// identifiers.
pub(crate) fn scan(frame: &DataFrame, actions: &[ColumnAction]) -> Result<Staged<ScanSection>> {
    let tokens: Vec<&str> = actions
        .iter()
        .filter(|a| a.action == "tokenized")
        .map(|a| a.column.as_str())
        .collect();
    let scan = Scanner::new().scan(frame, &tokens)?;
    let entry = Entry::new(
        "scan",
        "Scanned every released column except token columns for residual identifiers",
        json!({ "skipped": tokens, "counts": scan.counts }),
        [("cells", scan.cells), ("findings", scan.total())],
    );
    let section = ScanSection {
        clean: scan.is_clean(),
        cells: scan.cells,
        columns: scan.columns.clone(),
        skipped: tokens.iter().map(|t| t.to_string()).collect(),
        counts: scan.counts.clone(),
        findings: scan.findings.iter().take(100).cloned().collect(),
    };
    Ok(Staged::new(section, [entry]))
}

/// Differentially private synthetic records, their utility, and whether
/// their randomness was seeded.
#[derive(Debug)]
pub(crate) struct Synthesized {
    pub synthesis: Synthesis,
    pub utility: SynthesisUtility,
    pub seeded: bool,
}

/// `synthesis`: when the ruleset has a `[synthesis]` table, synthetic
/// records learnt under differential privacy ([`crate::synthesis`]) from
/// the data after Safe Harbor and the transformations, measured against
/// it. Randomness from the operating system unless the run or the table
/// gives a seed.
pub(crate) fn synthesize(
    ruleset: &Ruleset,
    frame: &DataFrame,
    seed: Option<u64>,
) -> Result<Staged<Option<Synthesized>>> {
    let (Some(rule), Some(config)) = (&ruleset.synthesis, ruleset.synthesis()?) else {
        return Ok(Staged::new(None, []));
    };
    let seed = seed.or(rule.seed);
    let mut rng = seeded_or_system(seed)?;
    let synthesis = crate::synthesis::synthesize(frame, &config, &mut rng)?;
    let mut options = UtilityOptions::default();
    if let Some(target) = &rule.target {
        options = options.with_target(target.clone());
    }
    if let Some(test) = ruleset.synthesis_test_data()? {
        options = options.with_test(test);
    }
    let utility = evaluate(frame, &synthesis.frame, &config.attributes, &options)?;
    let s = &synthesis.summary;
    let entry = Entry::new(
        "synthesis",
        format!(
            "Sampled {} synthetic records from an {} model fitted under ({}, {})-differential privacy",
            s.rows, s.method, s.epsilon, s.delta
        ),
        json!({
            "method": s.method,
            "epsilon": s.epsilon,
            "delta": s.delta,
            "rho": s.rho,
            "rho_split": s.rho_split,
            "attributes": utility.attributes,
            "tree": s.tree,
            "seeded": seed.is_some(),
        }),
        [("rows", s.rows)],
    );
    Ok(Staged::new(
        Some(Synthesized {
            synthesis,
            utility,
            seeded: seed.is_some(),
        }),
        [entry],
    ))
}

/// The name synthetic records are written under:
/// `adult-deidentified.csv` → `adult-deidentified.synthetic.csv`.
pub(crate) fn synthetic_name(output: &Path) -> PathBuf {
    let csv = output.with_extension("csv");
    super::run::with_stem_suffix(&csv, "synthetic")
}

/// `write` of the synthetic records: CSV beside the release, and only when
/// the run passes (a failing run leaves nothing under a release's name).
pub(crate) fn write_synthetic(
    synthesized: Option<&Synthesized>,
    passes: bool,
    options: &RunOptions,
    settings: &ExpertDeterminationRule,
) -> Result<Staged<Option<(PathBuf, String)>>> {
    let Some(synthesized) = synthesized else {
        return Ok(Staged::new(None, []));
    };
    if !passes {
        return Ok(nothing_written(
            "Wrote no synthetic data: the run is not releasable (see the failures)",
        ));
    }
    let name = synthetic_name(&settings.output);
    let path = options.out_dir.join(&name);
    write_csv(&synthesized.synthesis.frame, &path, b',')?;
    let sha = sha256_file(&path)?;
    let entry = Entry::new(
        "write",
        format!("Wrote the synthetic data to {}", name.display()),
        json!({ "file": name.display().to_string(), "format": "csv", "sha256": sha }),
        [("rows", synthesized.synthesis.frame.height() as u64)],
    );
    Ok(Staged::new(Some((path, sha)), [entry]))
}

/// The section of a run that found no transformation and scanned nothing.
pub(crate) fn empty_scan() -> ScanSection {
    ScanSection {
        clean: true,
        cells: 0,
        columns: Vec::new(),
        skipped: Vec::new(),
        counts: Default::default(),
        findings: Vec::new(),
    }
}

/// The verdict: the risk checks and every failed requirement.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub checks: Vec<RiskCheck>,
    pub failures: Vec<String>,
    pub passes: bool,
}

/// Judges the run: a transformation was found, every risk threshold is met
/// after, and the scan is clean. Makes no entry.
pub(crate) fn verdict(
    settings: &ExpertDeterminationRule,
    result: &SearchResult,
    before: &RiskAnalysis,
    after: Option<&RiskAnalysis>,
    scan: &ScanSection,
) -> Verdict {
    let checks = risk_checks(settings, before, after);
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
                crate::report::format::fmt_probability(check.after.unwrap_or(f64::NAN)),
                crate::report::format::fmt_probability(check.threshold.unwrap_or(f64::NAN))
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
    Verdict {
        checks,
        failures,
        passes,
    }
}

/// The `write` stage's output when it writes nothing, and why.
fn nothing_written(why: &str) -> Staged<Option<(PathBuf, String)>> {
    let entry = Entry::new(
        "write",
        why,
        json!({ "file": null, "sha256": null }),
        [("rows", 0)],
    );
    Staged::new(None, [entry])
}

/// `write`: the released data under its name when the verdict passes, under
/// its quarantine name when it fails and quarantine was asked for, and
/// nothing otherwise. Returns the file written with its SHA-256.
pub(crate) fn write_release(
    frame: Option<&DataFrame>,
    passes: bool,
    options: &RunOptions,
    settings: &ExpertDeterminationRule,
) -> Result<Staged<Option<(PathBuf, String)>>> {
    let Some(frame) = frame else {
        return Ok(nothing_written(
            "Wrote no data: no transformation meets the models within the suppression limit",
        ));
    };
    if !passes && !options.quarantine {
        return Ok(nothing_written(
            "Wrote no data: the release is not releasable (see the failures)",
        ));
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
    let entry = Entry::new(
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
    Ok(Staged::new(Some((path, sha)), [entry]))
}

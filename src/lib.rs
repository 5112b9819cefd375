//! # deidentify
//!
//! Statistical anonymization of health data under HIPAA.
//!
//! The data flows one way: a ruleset (TOML) and a table are **encoded**
//! (dictionary-coded columns, hierarchies compiled to level tables), counted
//! into a **frequency table** (distinct generalized quasi-identifier tuples
//! with counts and sensitive histograms) and **measured** with privacy
//! models at a generalization node. Later stages (lattice search, apply,
//! risk, report) build on the same frequency table.
//!
//! ```no_run
//! use deidentify::{Node, PrivacyProfile, Ruleset};
//!
//! let ruleset = Ruleset::from_file("datasets/adult/adult.toml".as_ref())?;
//! let loaded = ruleset.load()?;
//! let node = Node::bottom(loaded.dataset.quasi_identifiers().len());
//! let profile = PrivacyProfile::measure(&loaded.dataset, &loaded.hierarchies, &node, &Default::default())?;
//! println!("k = {}", profile.k);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate does not guarantee
//!
//! k-anonymity, l-diversity, t-closeness and the other syntactic models
//! bound what an attacker learns *under their assumptions* (the attacker
//! knows only the quasi-identifiers; the records are independent). They are
//! not differential privacy, and an attacker with more background knowledge
//! than modelled may learn more. Each item's documentation gives its
//! formula and the publication it follows, and cites by section the
//! crate's methods document, [`methods`], which states every formula, the
//! conventions shared with ARX and sdcMicro and where the crate departs
//! from them.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod apply;
mod data;
mod error;
pub mod exit;
mod frequency;
mod hierarchy;
mod measure;
pub mod methods;
mod metric;
mod model;
mod noise;
mod pipeline;
mod population;
pub mod report;
mod risk;
mod ruleset;
mod safe_harbor;
mod search;
mod stream;
mod transform;

pub use apply::{Anonymized, apply, check_output, write_csv, write_parquet};
pub use data::attribute::{Attribute, AttributeRole, AttributeType, MissingPolicy};
pub use data::column::EncodedColumn;
pub use data::dataset::{Dataset, EncodeOptions};
pub use data::date::Date;
pub use data::input::{CsvOptions, read_csv, read_parquet};
pub use error::{Error, ErrorKind, Result, value_shape};
pub use exit::Exit;
pub use frequency::histogram::{Histogram, HistogramEntries, HistogramRef};
pub use frequency::node::Node;
pub use frequency::table::{CountingInput, EquivalenceClass, FrequencyTable};
pub use hierarchy::builder::{
    DateGranularity, DateHierarchy, GroupingHierarchy, HierarchyBuilder, IntervalHierarchy,
    IntervalLevel, RedactionHierarchy, TOP_LABEL,
};
pub use hierarchy::compiled::{CompiledHierarchy, Level};
pub use hierarchy::set::Hierarchies;
pub use hierarchy::table::Hierarchy;
pub use measure::profile::{PrivacyProfile, ProfileOptions, SensitiveProfile};
pub use metric::{Aggregate, MetricKind, MetricSpec, NodeScore, UtilityModel};
pub use model::{
    AbsentValuePolicy, AlphaKAnonymity, AverageRisk, BasicBetaLikeness, CellSizeEstimator,
    DeltaDisclosurePrivacy, DistinctLDiversity, EnhancedBetaLikeness, EntropyLDiversity,
    GroundDistance, KAnonymity, KMap, ModelSpec, Monotonicity, PopulationUniqueness, PrivacyModel,
    RecursiveClDiversity, Release, SampleUniqueness, SensitiveAttribute, TCloseness,
    UniquenessEstimator,
};
pub use noise::{
    BoundedSum, LATTICE_BITS, MIN_K, NoisyMean, NoisySum, PrivacyBudget, Rational, SumNoise,
    analytic_gaussian_sigma, bernoulli_exp, bounded_mean, discrete_gaussian, discrete_laplace,
    exact_rational, gaussian_count, laplace_count, round_to_multiple_of_2k,
};
pub use pipeline::{RunOptions, RunOutcome, STEPS, quarantine_name, run_expert_determination};
pub use report::{
    AuditEntry, AuditTrail, Expert, ExpertDeterminationRule, OutputFormat, PrincipleRatings,
    Rating, ReleaseType, Report, SCHEMA_VERSION, SECTIONS, ThreatModel, Verification, render_html,
    render_markdown, sha256_file, sha256_hex, verify_chain, verify_report,
};
pub use risk::{
    AttackerRisk, Decision, IndividualRisk, MAX_SUDA_VARIABLES, MarketerRisk, Population,
    PopulationUniques, RiskAnalysis, RiskOptions, RiskThreshold, SnbFit, Suda, ThresholdReport,
    UniquenessModel, benedetti_franconi, dankar, dankar_with, minimal_sample_uniques, pitman,
    pitman_or_zero, pitman_parameters, population_class_sizes, snb, zayatz,
};
pub use ruleset::{
    AnonymizationRule, AttributeRule, DataRule, HierarchyRule, LoadedRuleset, MetricRule, Ruleset,
    parse_strategy,
};
pub use safe_harbor::{
    AGE_90_OR_OLDER, ColumnAction, ColumnTokenizer, Detector, Finding, IdentifierKind, KeyEncoding,
    MIN_KEY_BYTES, RestrictedZipPrefixes, ScanReport, Scanner, TokenKey, apply_safe_harbor,
    birth_date_to_year, date_to_year, top_code_age,
};
pub use search::{
    AnonymizationConfig, Lattice, MAX_LATTICE_NODES, NodeEvaluation, SearchResult, Strategy,
    evaluate_node, search,
};
pub use stream::{
    COUNT_COLUMN, ColumnSummary, LabeledTable, SENSITIVE_NAME_COLUMN, SENSITIVE_VALUE_COLUMN,
    STAGING_KEY_ENV, StagingKey, StreamOptions, StreamedOutput, StreamedTable,
    TABLE_FORMAT_VERSION,
};
pub use transform::{
    AdditiveNoise, BinMethod, Binned, Binning, BinningMethod, MAX_BINS, Microaggregation,
    NoiseCorrelation, TransformRecord, TransformSpec, apply_transforms,
    apply_transforms_with_missing, mdav, replay_transforms, replay_transforms_with_missing,
};

/// polars, whose `DataFrame` appears in this crate's signatures, re-exported
/// so a caller uses the same version.
pub use polars;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

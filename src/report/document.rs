//! The report as data: every section of [§9.1](crate::methods#91-sections), serialized with serde
//! under a versioned schema (documented in `docs/report-schema.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::measure::profile::PrivacyProfile;
use crate::model::ModelSpec;
use crate::recode::{Recoding, ReleaseLoss};
use crate::report::audit::AuditEntry;
use crate::report::digest::sha256_hex;
use crate::report::settings::{PrincipleRatings, Rating, ThreatModel};
use crate::risk::{RiskAnalysis, ThresholdReport};
use crate::safe_harbor::{ColumnAction, Detector, Finding};
use crate::safepub::DpSummary;
use crate::synthesis::{SynthesisSummary, SynthesisUtility};

/// The version of the report's JSON schema. Minor versions add fields;
/// a major version changes or removes one.
pub const SCHEMA_VERSION: &str = "1.0";

/// An Expert Determination report (45 CFR 164.514(b)(1); [§9](crate::methods#9-the-expert-determination-report)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: String,
    /// Who, what, when ([§9.1](crate::methods#91-sections) item 1).
    pub identification: Identification,
    /// The verdict.
    pub summary: Summary,
    /// The data in and out ([§9.1](crate::methods#91-sections) item 3).
    pub data: DataSection,
    /// Recipients, threat model, population ([§9.1](crate::methods#91-sections) items 2, 4, 5).
    pub context: Context,
    /// What was done ([§9.1](crate::methods#91-sections) item 7).
    pub methods: Methods,
    /// What the search chose and the privacy achieved ([§9.1](crate::methods#91-sections) item 9).
    pub results: Results,
    /// Re-identification risk before and after ([§9.1](crate::methods#91-sections) items 6 and 8).
    pub risk: RiskSection,
    /// The residual-identifier scan of the released data.
    pub scan: ScanSection,
    /// Residual risks and limitations ([§9.1](crate::methods#91-sections) item 10).
    pub limitations: Vec<String>,
    /// Conditions of release and re-assessment ([§9.1](crate::methods#91-sections) items 11, 12).
    pub release: ReleaseSection,
    /// Every step, hash-chained (see [`crate::report::verify_chain`]).
    pub audit: Vec<AuditEntry>,
    /// The expert's attestation ([§9.1](crate::methods#91-sections) item 13).
    pub sign_off: SignOff,
}

/// Report identification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identification {
    /// A stable id: the first 16 hex digits of the hash of the audit trail's head.
    pub report_id: String,
    /// The title.
    pub title: String,
    /// `deidentify` and its version.
    pub software: String,
    /// When the run finished (UTC, RFC 3339).
    pub created_utc: String,
    /// The requesting covered entity.
    pub covered_entity: Option<String>,
    /// The project.
    pub project: Option<String>,
    /// The ruleset file.
    pub ruleset_path: String,
    /// SHA-256 of the ruleset file (the audit trail's anchor).
    pub ruleset_sha256: String,
}

/// The verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Whether a transformation was found, every threshold is met after it,
    /// and the scan found no residual identifier.
    pub passes: bool,
    /// The verdict in one sentence.
    pub verdict: String,
    /// Each unmet requirement.
    pub failures: Vec<String>,
    /// Key figures (name → value, in words).
    pub figures: Vec<(String, String)>,
}

/// One column: its role and what happened to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnReport {
    /// Column name.
    pub name: String,
    /// Role (identifier, quasi-identifier, sensitive, insensitive).
    pub role: String,
    /// Data type.
    pub data_type: String,
    /// The Safe Harbor identifier category, if declared.
    pub identifier_kind: Option<String>,
    /// What the release does with it.
    pub treatment: String,
}

/// The data in and out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSection {
    /// The input file.
    pub source: String,
    /// SHA-256 of the input file.
    pub input_sha256: String,
    /// Input rows.
    pub input_rows: u64,
    /// The released file (name inside the output folder), if written.
    pub output_file: Option<String>,
    /// `csv` or `parquet`.
    pub output_format: String,
    /// SHA-256 of the released file, if written.
    pub output_sha256: Option<String>,
    /// Released rows (suppressed records are kept with `*` quasi-identifiers).
    pub output_rows: u64,
    /// Columns, in input order.
    pub columns: Vec<ColumnReport>,
    /// Identifiers the residual-identifier detectors find in the input,
    /// before any treatment (column → detector → cells).
    pub input_scan: BTreeMap<String, BTreeMap<Detector, u64>>,
}

/// The context of the determination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// Anticipated recipients.
    pub recipients: Vec<String>,
    /// `public`, `limited-data-set` or `internal`.
    pub release_type: String,
    /// The release type in words.
    pub release_description: String,
    /// The intended use.
    pub intended_use: Option<String>,
    /// The threat model.
    pub threat_model: ThreatModel,
    /// Population size, if given.
    pub population: Option<u64>,
    /// Sampling fraction, if given or derived.
    pub sampling_fraction: Option<f64>,
    /// Where the population figure comes from.
    pub population_source: Option<String>,
    /// Assumptions the analysis rests on.
    pub assumptions: Vec<String>,
    /// Each quasi-identifier on the HHS principles, with the data's figures.
    pub principles: Vec<PrincipleAssessment>,
}

/// One quasi-identifier on the HHS risk principles ([§2.2](crate::methods#22-hhs-risk-principles)): the
/// expert's ratings, when given, beside what the data shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrincipleAssessment {
    /// The quasi-identifier.
    pub attribute: String,
    /// The expert's ratings, if given.
    pub ratings: Option<PrincipleRatings>,
    /// The lowest of the three ratings (see [`PrincipleRatings::overall`]).
    pub overall: Option<Rating>,
    /// Distinct values in the input.
    pub distinct_values: u64,
    /// Records whose value of this attribute alone is unique in the input.
    pub unique_records: u64,
}

/// A threshold binding one measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdSetting {
    /// The measure (see [`crate::report::MEASURES`]).
    pub measure: String,
    /// What it means.
    pub description: String,
    /// The largest acceptable value.
    pub threshold: f64,
}

/// What was done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Methods {
    /// Safe Harbor actions on declared identifiers (no key material).
    pub safe_harbor: Vec<ColumnAction>,
    /// Configured statistical transformations (binning, microaggregation,
    /// noise) with their fitted parameters.
    pub transformations: Vec<serde_json::Value>,
    /// The privacy models the search had to satisfy.
    pub models: Vec<ModelSpec>,
    /// The same models as the search applied them
    /// ([`crate::model::PrivacyModel::name`]): k-map with its derived k′ and type I
    /// error, for instance.
    #[serde(default)]
    pub applied_models: Vec<String>,
    /// The suppression limit, a fraction of rows.
    pub suppression_limit: f64,
    /// The limit in records, ⌊rate × rows⌋.
    pub max_suppressed: u64,
    /// The utility metric (JSON of its specification).
    pub metric: serde_json::Value,
    /// The search strategy.
    pub strategy: String,
    /// How records were recoded (global: one level per attribute).
    #[serde(default)]
    pub recoding: Recoding,
    /// Whether the chosen node is proven optimal.
    pub proven_optimal: bool,
    /// Nodes evaluated.
    pub nodes_checked: u64,
    /// Nodes in the lattice.
    pub lattice_size: u64,
    /// Search time in milliseconds.
    pub search_ms: f64,
    /// The base threshold as a probability and as a class size.
    pub base_threshold: ThresholdReport,
    /// The thresholds that decide the verdict.
    pub thresholds: Vec<ThresholdSetting>,
    /// The differentially private release's parameters, when the ruleset
    /// asks for one (the search then chose the transformation privately).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differential_privacy: Option<DifferentialPrivacySection>,
}

/// How a differentially private release was made, and what it guarantees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DifferentialPrivacySection {
    /// ε, δ, the budget split, β, k, the search and the counts.
    pub summary: DpSummary,
    /// Whether the randomness came from a fixed seed (reproducible; not for
    /// a release to anyone who could know the seed).
    pub seeded: bool,
    /// What the guarantee means for the recipient, in words.
    pub guarantee: String,
}

/// The generalization of one quasi-identifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelResult {
    /// The attribute.
    pub attribute: String,
    /// The chosen level.
    pub level: u32,
    /// The hierarchy's highest level.
    pub height: u32,
    /// Distinct values before and after.
    pub distinct_before: u64,
    /// Distinct labels at the chosen level.
    pub distinct_after: u64,
    /// The metric's per-attribute loss, when it has one.
    pub loss: Option<f64>,
}

/// What the search chose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Whether a transformation meets the models within the suppression limit.
    pub found: bool,
    /// Per quasi-identifier, the chosen level.
    pub levels: Vec<LevelResult>,
    /// Records suppressed.
    pub suppressed_records: u64,
    /// Classes suppressed.
    pub suppressed_classes: u64,
    /// Equivalence classes released.
    pub classes: u64,
    /// The metric's score.
    pub score: Option<f64>,
    /// The privacy achieved over the released (not suppressed) records.
    pub privacy: Option<PrivacyProfile>,
    /// For a release recoded record by record (local generalization,
    /// Mondrian, cell suppression), what it lost, measured on the released
    /// table; absent for global recoding (see `levels`).
    #[serde(default)]
    pub recoding: Option<RecodingResult>,
    /// Differentially private synthetic records made beside the release,
    /// when the ruleset asks for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthesis: Option<SynthesisSection>,
}

/// Synthetic records learnt under differential privacy
/// ([`crate::synthesis`]): how they were made, how useful they are, and
/// where they were written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthesisSection {
    /// ε, δ, the ρ budget and its split, the tree, the records.
    pub summary: SynthesisSummary,
    /// Marginal distances, the classifier comparison, exact copies.
    pub utility: SynthesisUtility,
    /// Whether the randomness came from a fixed seed.
    pub seeded: bool,
    /// The file written (only when the run passes), and its SHA-256.
    pub file: Option<String>,
    /// The file's SHA-256.
    pub sha256: Option<String>,
    /// What the guarantee means for the recipient, in words.
    pub guarantee: String,
}

/// What a release recoded record by record lost
/// ([`crate::recode::measure_release`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecodingResult {
    /// The recoding's name (`local`, `mondrian`, …).
    pub method: String,
    /// The classes the method formed (before classes releasing the same
    /// values are counted as one).
    pub classes_formed: u64,
    /// Quasi-identifier cells released as `*` (suppressed records included).
    pub suppressed_cells: u64,
    /// Granularity, non-uniform entropy and SSE/SST per attribute.
    pub loss: ReleaseLoss,
    /// Time to recode and measure, in milliseconds.
    pub elapsed_ms: f64,
}

/// One measure before and after, against its threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskCheck {
    /// The measure.
    pub measure: String,
    /// What it means.
    pub description: String,
    /// Its value on the input.
    pub before: Option<f64>,
    /// Its value on the released data.
    pub after: Option<f64>,
    /// The threshold, if one binds it.
    pub threshold: Option<f64>,
    /// Whether the released data meets the threshold.
    pub passes: Option<bool>,
}

/// Risk before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskSection {
    /// Every measure on the input, at the ungeneralized node.
    pub before: RiskAnalysis,
    /// Every measure on the released records.
    pub after: Option<RiskAnalysis>,
    /// The measures against their thresholds.
    pub checks: Vec<RiskCheck>,
}

/// The residual-identifier scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanSection {
    /// No finding.
    pub clean: bool,
    /// Cells scanned.
    pub cells: u64,
    /// Columns scanned.
    pub columns: Vec<String>,
    /// Token columns not scanned.
    pub skipped: Vec<String>,
    /// Findings per column and detector.
    pub counts: BTreeMap<String, BTreeMap<Detector, u64>>,
    /// The first findings (at most 100).
    pub findings: Vec<Finding>,
}

/// Conditions of release and re-assessment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseSection {
    /// Conditions the recipient accepts.
    pub conditions: Vec<String>,
    /// Months the determination is valid.
    pub reassessment_months: u32,
    /// The last day of validity (YYYY-MM-DD).
    pub valid_until: String,
    /// Events that require a new determination before then.
    pub triggers: Vec<String>,
}

/// The expert's attestation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignOff {
    /// The statement signed.
    pub statement: String,
    /// Expert's name (blank to fill when absent).
    pub expert_name: Option<String>,
    /// Credentials.
    pub credentials: Option<String>,
    /// Organization.
    pub organization: Option<String>,
    /// SHA-256 of the report's JSON with this field empty: the digest the
    /// expert signs.
    pub content_sha256: String,
}

impl Report {
    /// The digest of the report's content: SHA-256 of its canonical JSON
    /// (keys sorted) with `sign_off.content_sha256` empty.
    pub fn content_digest(value: &serde_json::Value) -> String {
        let mut value = value.clone();
        if let Some(sign_off) = value
            .get_mut("sign_off")
            .and_then(serde_json::Value::as_object_mut)
        {
            sign_off.insert(
                "content_sha256".to_owned(),
                serde_json::Value::String(String::new()),
            );
        }
        sha256_hex(value.to_string().as_bytes())
    }

    /// Sets `sign_off.content_sha256` from the content.
    pub fn seal(&mut self) {
        self.sign_off.content_sha256.clear();
        let value = serde_json::to_value(&*self).unwrap_or(serde_json::Value::Null);
        self.sign_off.content_sha256 = Report::content_digest(&value);
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

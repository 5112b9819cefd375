//! The ruleset's `[expert_determination]` table: the context of a release
//! (items 2, 4, 5, 11, 12 and 13 of the report, [§9.1](crate::methods#91-sections)).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Who receives the data, which sets the default conditions of release and
/// whether the maximum or the average risk binds ([§2.3](crate::methods#23-risk-thresholds-and-class-sizes): maximum
/// risk for public releases, average risk for trusted recipients).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseType {
    /// Anyone may obtain the data; an attack is assumed certain.
    Public,
    /// A named external recipient bound by a data use agreement.
    #[default]
    LimitedDataSet,
    /// A recipient inside the covered entity.
    Internal,
}

impl ReleaseType {
    /// A short human name.
    pub fn describe(self) -> &'static str {
        match self {
            ReleaseType::Public => "public release",
            ReleaseType::LimitedDataSet => "non-public release under a data use agreement",
            ReleaseType::Internal => "internal release",
        }
    }

    /// The conditions a release of this type is made under, unless the
    /// ruleset lists its own.
    pub fn default_conditions(self) -> Vec<String> {
        let mut conditions = Vec::new();
        if self != ReleaseType::Public {
            conditions.extend(
                [
                    "The recipient makes no attempt to re-identify any individual or to contact them.",
                    "The recipient does not link the data with other data about the same individuals.",
                    "The recipient does not disclose the data to anyone not covered by the agreement.",
                    "Cells of 1 to 10 individuals are not published in derived tables (CMS cell-size policy).",
                    "Access is limited to named staff on secured systems; the data is destroyed at the end of the project.",
                    "A suspected re-identification or breach is reported to the covered entity without delay.",
                ]
                .map(str::to_owned),
            );
        } else {
            conditions.push(
                "The data is released as is; no further condition binds recipients, so every threshold applies to the maximum risk."
                    .to_owned(),
            );
        }
        conditions
    }
}

/// The attacker and what they know ([§4.1](crate::methods#41-attacker-models); [§9.1](crate::methods#91-sections) item 4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatModel {
    /// Attacker models considered: `prosecutor`, `journalist`, `marketer`.
    #[serde(default = "default_attackers")]
    pub attackers: Vec<String>,
    /// The background knowledge assumed (in words).
    #[serde(default = "default_background")]
    pub background_knowledge: String,
    /// External data sources assumed reasonably available.
    #[serde(default)]
    pub external_sources: Vec<String>,
    /// The probability that the recipient attempts a re-identification, for
    /// non-public releases (El Emam 2013); multiplies the average risk into
    /// the `overall_risk` measure. Absent: not assessed.
    #[serde(default)]
    pub attempt_probability: Option<f64>,
}

fn default_attackers() -> Vec<String> {
    ["prosecutor", "journalist", "marketer"]
        .map(str::to_owned)
        .to_vec()
}

fn default_background() -> String {
    "The attacker knows the quasi-identifiers of the target individuals (demographics as found in public records) and whether they are in the data (prosecutor) or not (journalist, marketer).".to_owned()
}

impl Default for ThreatModel {
    fn default() -> Self {
        ThreatModel {
            attackers: default_attackers(),
            background_knowledge: default_background(),
            external_sources: Vec::new(),
            attempt_probability: None,
        }
    }
}

/// The expert who signs (blank lines in the report when absent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expert {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Credentials and experience.
    #[serde(default)]
    pub credentials: Option<String>,
    /// Organization.
    #[serde(default)]
    pub organization: Option<String>,
}

/// A rating on one of the HHS risk principles (HHS 2012 guidance, Table 1;
/// [§2.2](crate::methods#22-hhs-risk-principles)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

/// The expert's rating of one quasi-identifier on the HHS principles: how
/// consistently it recurs for a person (replicability), who can obtain it
/// with identity (availability), and how far it singles a person out
/// (distinguishability). The report adds the data's own figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipleRatings {
    /// Replicability.
    pub replicability: Rating,
    /// Data source availability.
    pub availability: Rating,
    /// Distinguishability.
    pub distinguishability: Rating,
}

impl PrincipleRatings {
    /// The overall rating: the lowest of the three, since a feature
    /// identifies a person only when it is at once replicable, available to
    /// the attacker with identity, and distinguishing (HHS 2012, Table 1: a
    /// lab value rarely disclosed with identity is low risk however
    /// distinguishing it is).
    pub fn overall(&self) -> Rating {
        self.replicability
            .min(self.availability)
            .min(self.distinguishability)
    }
}

/// The format of the released data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Comma-separated text.
    #[default]
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// The measures a threshold can bind, with what each means. Every value is
/// a probability (or a fraction of records) that must not exceed its
/// threshold.
pub const MEASURES: [(&str, &str); 9] = [
    (
        "prosecutor_highest",
        "highest prosecutor re-identification risk of a record (1 / smallest class)",
    ),
    (
        "prosecutor_average",
        "average prosecutor risk (classes / records; ARX's success rate)",
    ),
    (
        "records_at_risk",
        "fraction of records whose prosecutor risk exceeds the base threshold",
    ),
    (
        "journalist_highest",
        "highest journalist risk (against the population when known)",
    ),
    (
        "marketer",
        "marketer risk: expected fraction of records re-identified",
    ),
    ("sample_uniques", "fraction of records unique in the sample"),
    (
        "population_uniques",
        "estimated fraction of records unique in the population (Dankar et al. choice)",
    ),
    (
        "global_risk",
        "sdcMicro global risk: mean individual risk (Benedetti-Franconi)",
    ),
    (
        "overall_risk",
        "attempt probability × average prosecutor risk (non-public releases)",
    ),
];

/// The `[expert_determination]` table of a ruleset.
///
/// ```toml
/// [expert_determination]
/// title = "Adult income extract for the outcomes study"
/// covered_entity = "Example Health System"
/// recipients = ["University outcomes research group"]
/// release_type = "limited-data-set"   # public | limited-data-set | internal
/// population = 317200000               # or sampling_fraction = 0.01
/// population_source = "US Census 2010"
/// threshold = 0.2                      # base risk threshold (probability); or k = 5
/// thresholds = { prosecutor_highest = 0.2, prosecutor_average = 0.075 }
/// reassessment_months = 12
/// output = "adult-deidentified.csv"
/// threat_model = { attempt_probability = 0.3 }
/// expert = { name = "…", credentials = "…" }
/// principles.age = { replicability = "high", availability = "high", distinguishability = "medium" }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertDeterminationRule {
    /// The report's title.
    #[serde(default)]
    pub title: Option<String>,
    /// The covered entity or business associate requesting the determination.
    #[serde(default)]
    pub covered_entity: Option<String>,
    /// The project.
    #[serde(default)]
    pub project: Option<String>,
    /// The intended use of the data.
    #[serde(default)]
    pub intended_use: Option<String>,
    /// The anticipated recipients.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// The release type.
    #[serde(default)]
    pub release_type: ReleaseType,
    /// The threat model.
    #[serde(default)]
    pub threat_model: ThreatModel,
    /// The population the data was sampled from (for journalist risk and
    /// population uniqueness).
    #[serde(default)]
    pub population: Option<u64>,
    /// Or the sampling fraction, in (0, 1].
    #[serde(default)]
    pub sampling_fraction: Option<f64>,
    /// Where the population figure comes from.
    #[serde(default)]
    pub population_source: Option<String>,
    /// The base risk threshold, a probability in (0, 1] ([§2.3](crate::methods#23-risk-thresholds-and-class-sizes)).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Or the base threshold as a minimal class size.
    #[serde(default)]
    pub k: Option<u64>,
    /// Thresholds per measure (see [`MEASURES`]); measures not listed are
    /// reported without a threshold, except `prosecutor_highest`, which
    /// defaults to the base threshold.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Months until the determination must be re-assessed.
    #[serde(default = "default_reassessment")]
    pub reassessment_months: u32,
    /// Conditions of release; the release type's defaults when empty.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Limitations beyond those the report states itself.
    #[serde(default)]
    pub limitations: Vec<String>,
    /// The expert.
    #[serde(default)]
    pub expert: Expert,
    /// The released data file, relative to the output folder; `.parquet`
    /// writes Parquet.
    #[serde(default = "default_output")]
    pub output: PathBuf,
    /// The token key file (for columns marked `tokenize`), relative to the
    /// ruleset; otherwise the `DEIDENTIFY_TOKEN_KEY` environment variable.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// How `key_file` holds the key: `raw` bytes (the default), `hex` or
    /// `base64` text.
    #[serde(default)]
    pub key_encoding: crate::safe_harbor::KeyEncoding,
    /// Run SUDA (special uniques) up to this many variables; absent: skipped.
    #[serde(default)]
    pub suda_max_size: Option<usize>,
    /// The seed of randomized transformations; absent: drawn from the
    /// operating system and recorded in the audit trail.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The expert's ratings of quasi-identifiers on the HHS principles
    /// (attribute → ratings); quasi-identifiers not listed are reported as
    /// not rated.
    #[serde(default)]
    pub principles: BTreeMap<String, PrincipleRatings>,
}

fn default_reassessment() -> u32 {
    12
}

fn default_output() -> PathBuf {
    PathBuf::from("deidentified.csv")
}

impl Default for ExpertDeterminationRule {
    fn default() -> Self {
        ExpertDeterminationRule {
            title: None,
            covered_entity: None,
            project: None,
            intended_use: None,
            recipients: Vec::new(),
            release_type: ReleaseType::default(),
            threat_model: ThreatModel::default(),
            population: None,
            sampling_fraction: None,
            population_source: None,
            threshold: None,
            k: None,
            thresholds: BTreeMap::new(),
            reassessment_months: default_reassessment(),
            conditions: Vec::new(),
            limitations: Vec::new(),
            expert: Expert::default(),
            output: default_output(),
            key_file: None,
            key_encoding: Default::default(),
            suda_max_size: None,
            seed: None,
            principles: BTreeMap::new(),
        }
    }
}

impl ExpertDeterminationRule {
    /// Checks every value.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] naming the setting: a threshold
    /// outside [0, 1] (the base threshold: (0, 1]) or for an unknown measure, both `threshold` and `k`,
    /// both `population` and `sampling_fraction`, a sampling fraction outside
    /// (0, 1], an attempt probability outside [0, 1], an unknown attacker,
    /// an output that is not `.csv` or `.parquet`, an absolute output path.
    pub fn check(&self) -> Result<()> {
        let probability = |name: &str, value: f64| -> Result<()> {
            if value.is_finite() && value > 0.0 && value <= 1.0 {
                Ok(())
            } else {
                Err(Error::parameter(
                    name,
                    format!("{value} is not a probability in (0, 1]"),
                ))
            }
        };
        for (measure, &value) in &self.thresholds {
            if !MEASURES.iter().any(|(m, _)| m == measure) {
                return Err(Error::parameter(
                    format!("thresholds.{measure}"),
                    format!(
                        "unknown measure; known: {}",
                        MEASURES.map(|(m, _)| m).join(", ")
                    ),
                ));
            }
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::parameter(
                    format!("thresholds.{measure}"),
                    format!("{value} is not a probability in [0, 1]"),
                ));
            }
        }
        if let Some(t) = self.threshold {
            probability("threshold", t)?;
        }
        if self.threshold.is_some() && self.k.is_some() {
            return Err(Error::parameter(
                "threshold",
                "give the base threshold as a probability or as k, not both",
            ));
        }
        if self.k == Some(0) {
            return Err(Error::parameter("k", "k must be at least 1"));
        }
        if self.population.is_some() && self.sampling_fraction.is_some() {
            return Err(Error::parameter(
                "population",
                "give the population size or the sampling fraction, not both",
            ));
        }
        if self.population == Some(0) {
            return Err(Error::parameter("population", "the population is empty"));
        }
        if let Some(f) = self.sampling_fraction {
            probability("sampling_fraction", f)?;
        }
        if let Some(p) = self.threat_model.attempt_probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(Error::parameter(
                "threat_model.attempt_probability",
                format!("{p} is not a probability in [0, 1]"),
            ));
        }
        for attacker in &self.threat_model.attackers {
            if !["prosecutor", "journalist", "marketer"].contains(&attacker.as_str()) {
                return Err(Error::parameter(
                    "threat_model.attackers",
                    format!("unknown attacker '{attacker}' (prosecutor, journalist, marketer)"),
                ));
            }
        }
        let extension = self
            .output
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(extension.as_deref(), Some("csv" | "parquet")) {
            return Err(Error::parameter(
                "output",
                format!("'{}' must end in .csv or .parquet", self.output.display()),
            ));
        }
        if self.output.is_absolute() || self.output.components().count() != 1 {
            return Err(Error::parameter(
                "output",
                "the output is a file name inside the output folder",
            ));
        }
        Ok(())
    }

    /// The released data's format, from the output's extension.
    pub fn output_format(&self) -> OutputFormat {
        if self
            .output
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        {
            OutputFormat::Parquet
        } else {
            OutputFormat::Csv
        }
    }

    /// The base threshold as a probability: `threshold`, or 1/`k`, or 0.2
    /// (k = 5) when neither is given.
    pub fn base_threshold(&self) -> f64 {
        match (self.threshold, self.k) {
            (Some(t), _) => t,
            (None, Some(k)) => 1.0 / k as f64,
            (None, None) => 0.2,
        }
    }

    /// The threshold binding each measure: those configured, and
    /// `prosecutor_highest` at the base threshold unless configured.
    pub fn effective_thresholds(&self) -> BTreeMap<String, f64> {
        let mut thresholds = self.thresholds.clone();
        thresholds
            .entry("prosecutor_highest".to_owned())
            .or_insert_with(|| self.base_threshold());
        thresholds
    }

    /// The conditions of release: the configured ones, or the release type's.
    pub fn conditions(&self) -> Vec<String> {
        if self.conditions.is_empty() {
            self.release_type.default_conditions()
        } else {
            self.conditions.clone()
        }
    }
}

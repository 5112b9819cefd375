//! Parsing and loading ruleset files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::attribute::{Attribute, AttributeRole, AttributeType, MissingPolicy};
use crate::data::dataset::{Dataset, EncodeOptions};
use crate::data::input::{CsvOptions, read_csv, read_parquet};
use crate::error::{Error, ErrorKind, Result};
use crate::hierarchy::builder::HierarchyBuilder;
use crate::hierarchy::set::Hierarchies;
use crate::hierarchy::table::Hierarchy;
use crate::metric::{MetricKind, MetricSpec};
use crate::model::ModelSpec;
use crate::safe_harbor::SafeHarborColumn;
use crate::search::{AnonymizationConfig, Recoding, Strategy};

/// The `[data]` table: where the data is and how to read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataRule {
    /// The data file, relative to the ruleset file. `.parquet` files are read
    /// as Parquet, anything else as CSV.
    pub path: PathBuf,
    /// The CSV field separator (one character; default `,`).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// The separator of hierarchy files (default: `;`, ARX's format).
    #[serde(default = "default_hierarchy_delimiter")]
    pub hierarchy_delimiter: char,
    /// Strings that mean "missing" besides empty fields (e.g. `["?", "NA"]`).
    #[serde(default)]
    pub missing_values: Vec<String>,
    /// What to do with missing cells of quasi-identifiers and sensitive attributes.
    #[serde(default)]
    pub missing_policy: MissingPolicy,
    /// The label of the missing category (policy `category`).
    #[serde(default = "default_missing_label")]
    pub missing_label: String,
    /// The data file's expected SHA-256 (64 hex digits), as its source
    /// published it. When given, a file that hashes otherwise is refused
    /// before it is read: the only check that catches every changed byte
    /// (Parquet readers here do not verify page checksums, and a flipped
    /// byte inside a plain-encoded value reads as another value).
    #[serde(default)]
    pub sha256: Option<String>,
}

fn default_delimiter() -> char {
    ','
}

fn default_hierarchy_delimiter() -> char {
    ';'
}

fn default_missing_label() -> String {
    "NULL".into()
}

/// Where a column's hierarchy comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum HierarchyRule {
    /// An ARX hierarchy file, relative to the ruleset file.
    File(PathBuf),
    /// A builder (`{ type = "interval", … }`).
    Builder(HierarchyBuilder),
}

/// A string is a file, a table a builder, read by the builder itself so
/// that its error (an unknown key, say) reaches the user; an untagged enum
/// would only say that no variant matched.
impl<'de> Deserialize<'de> for HierarchyRule {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = HierarchyRule;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a hierarchy file name or a builder table")
            }

            fn visit_str<E: serde::de::Error>(
                self,
                path: &str,
            ) -> std::result::Result<HierarchyRule, E> {
                Ok(HierarchyRule::File(PathBuf::from(path)))
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> std::result::Result<HierarchyRule, M::Error> {
                HierarchyBuilder::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(HierarchyRule::Builder)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// One `[[attribute]]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeRule {
    /// The column name, as in the data header.
    pub name: String,
    /// The role.
    pub role: AttributeRole,
    /// The type (default `string`).
    #[serde(default, rename = "type")]
    pub data_type: AttributeType,
    /// The hierarchy (quasi-identifiers and sensitive attributes only).
    #[serde(default)]
    pub hierarchy: Option<HierarchyRule>,
    /// The value order of an ordered-string attribute.
    #[serde(default)]
    pub order: Option<Vec<String>>,
    /// The Safe Harbor identifier kind of the column, if it holds one.
    #[serde(default)]
    pub identifier: Option<crate::safe_harbor::IdentifierKind>,
    /// Replace the values by stable keyed tokens instead of removing the column.
    #[serde(default)]
    pub tokenize: bool,
}

/// A metric in a ruleset: a name (`metric = "loss"`) or a table
/// (`metric = { kind = "loss", aggregate = "geometric-mean" }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricRule {
    /// A metric with its defaults.
    Name(MetricKind),
    /// A configured metric.
    Spec(MetricSpec),
}

/// The `[engine]` table: where the passes over the rows run, for the
/// programs that read it (the `scale` example; in the library,
/// `deidentify::spark::SparkEngine::from_rule` gives the engine to call).
/// The in-memory pipelines (`anonymize`, `expert_determination`) run in
/// process whatever it says.
///
/// ```toml
/// [engine]
/// kind = "spark"                      # or "in-process" (the default)
/// master = "spark://10.0.0.5:7077"    # spark-submit --master
/// spark_submit = "/opt/spark/bin/spark-submit"
/// work_dir = "/mnt/nfs/deidentify" # seen alike by this process and the cluster
/// conf = { "spark.executor.memory" = "4g" }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineRule {
    /// `in-process` (default) or `spark`.
    #[serde(default)]
    pub kind: EngineKind,
    /// Spark's master URL (required for `spark`).
    #[serde(default)]
    pub master: Option<String>,
    /// The spark-submit program (default `spark-submit` on the `PATH`).
    #[serde(default)]
    pub spark_submit: Option<PathBuf>,
    /// Extra Spark settings (`--conf key=value`).
    #[serde(default)]
    pub conf: BTreeMap<String, String>,
    /// Where job folders are made (default: the system's temporary folder).
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
    /// Read CSV records spanning lines (default false).
    #[serde(default)]
    pub multiline_csv: bool,
}

/// Where the passes over the rows run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// In this process (streaming or in memory).
    #[default]
    InProcess,
    /// On Apache Spark, through spark-submit (the `spark` module).
    Spark,
}

/// The `[anonymization]` table: what the lattice search must achieve.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnonymizationRule {
    /// The privacy models the release must satisfy (each released class,
    /// or the release as a whole).
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    /// The largest fraction of records that may be suppressed (default 0).
    #[serde(default)]
    pub suppression_limit: f64,
    /// The utility metric (default `loss`).
    #[serde(default)]
    pub metric: Option<MetricRule>,
    /// `optimal` (default), `exhaustive`, `heuristic`, `heuristic:N` (a
    /// budget of N nodes) or `best-effort`.
    #[serde(default)]
    pub strategy: Option<String>,
    /// The heuristic's evaluation budget (default 10,000 nodes), or the
    /// best-effort search's (default none).
    #[serde(default)]
    pub max_nodes: Option<u64>,
    /// The best-effort search's time budget in milliseconds (default none).
    #[serde(default)]
    pub time_limit_ms: Option<u64>,
    /// `global` (default: the lattice's optimum), `local`, `mondrian`,
    /// `mondrian-relaxed` or `cell-suppression`.
    #[serde(default)]
    pub recoding: Option<String>,
    /// Cell suppression's quasi-identifiers from the most to the least
    /// important (the least important are blanked first).
    #[serde(default)]
    pub importance: Vec<String>,
}

impl AnonymizationRule {
    /// The search configuration.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for an unknown strategy and the
    /// errors of [`AnonymizationConfig::check`].
    pub fn config(&self) -> Result<AnonymizationConfig> {
        let metric = match &self.metric {
            None => MetricSpec::new(MetricKind::Loss),
            Some(MetricRule::Name(kind)) => MetricSpec::new(*kind),
            Some(MetricRule::Spec(spec)) => spec.clone(),
        };
        let strategy = parse_strategy(
            self.strategy.as_deref().unwrap_or("optimal"),
            self.max_nodes,
            self.time_limit_ms,
        )?;
        let config = AnonymizationConfig {
            models: self.models.clone(),
            suppression_limit: self.suppression_limit,
            metric,
            strategy,
            recoding: Recoding::parse(
                self.recoding.as_deref().unwrap_or("global"),
                self.importance.clone(),
            )?,
        };
        config.check()?;
        Ok(config)
    }
}

/// Parses a strategy name; `max_nodes` is the heuristic's budget (default
/// [`DEFAULT_HEURISTIC_BUDGET`](crate::search::DEFAULT_HEURISTIC_BUDGET))
/// or the best-effort search's, `time_limit_ms` the best-effort search's
/// (an error with any other strategy).
pub(crate) fn parse_strategy(
    name: &str,
    max_nodes: Option<u64>,
    time_limit_ms: Option<u64>,
) -> Result<Strategy> {
    let mut strategy: Strategy = name.parse()?;
    match &mut strategy {
        Strategy::Heuristic { max_nodes: budget } => {
            if let Some(max_nodes) = max_nodes {
                *budget = max_nodes;
            }
        }
        Strategy::BestEffort {
            time_limit_ms: time,
            max_nodes: nodes,
        } => {
            *time = time_limit_ms;
            *nodes = max_nodes;
            return Ok(strategy);
        }
        _ => {}
    }
    if time_limit_ms.is_some() {
        return Err(Error::parameter(
            "time_limit_ms",
            format!(
                "a time limit applies only to the best-effort strategy, not to '{}'",
                strategy.name()
            ),
        ));
    }
    Ok(strategy)
}

/// A TOML error as the user sees it: the line and column, and the parser's
/// message with long tokens withheld. The file is never echoed (toml's own
/// `Display` quotes the offending line, which for a key file passed by
/// mistake as the ruleset would print the key).
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = withhold_long_tokens(error.message().trim_end());
    match error.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// `message` with every token longer than 20 characters (an excerpt of a
/// key, a path or a value) replaced by its length.
fn withhold_long_tokens(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.chars().count() > 20 {
            out.push_str(&format!("[{} characters withheld]", token.chars().count()));
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in message.chars() {
        if c.is_whitespace() || matches!(c, '`' | '\'' | '"' | ',' | '(' | ')') {
            flush(&mut token, &mut out);
            out.push(c);
        } else {
            token.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// A parsed ruleset. A table or key it does not know is an error naming
/// it, so a misspelt `[[transforms]]` never silently skips the
/// transformations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ruleset {
    /// How to read the data.
    pub data: DataRule,
    /// The columns.
    #[serde(rename = "attribute")]
    pub attributes: Vec<AttributeRule>,
    /// What the lattice search must achieve, if configured.
    #[serde(default)]
    pub anonymization: Option<AnonymizationRule>,
    /// The `[[transform]]` list: transformations applied to the data before
    /// encoding, in order ([§7](crate::methods#7-transformations-of-columns)); see [`Ruleset::read_transformed`].
    #[serde(default, rename = "transform")]
    pub transforms: Vec<crate::transform::TransformSpec>,
    /// The context and thresholds of an Expert Determination, if configured.
    #[serde(default)]
    pub expert_determination: Option<crate::report::ExpertDeterminationRule>,
    /// Where the passes over the rows run (default: in this process).
    #[serde(default)]
    pub engine: Option<EngineRule>,
    /// Differentially private synthetic data, if configured.
    #[serde(default)]
    pub synthesis: Option<super::synthesis::SynthesisRule>,
    /// The folder relative paths are resolved against.
    #[serde(skip)]
    pub base: PathBuf,
    /// The ruleset file, for error messages.
    #[serde(skip)]
    pub path: PathBuf,
}

/// A ruleset with its data loaded and encoded.
#[derive(Clone, Debug)]
pub struct LoadedRuleset {
    /// The ruleset.
    pub ruleset: Ruleset,
    /// The encoded data.
    pub dataset: Dataset,
    /// The compiled hierarchies.
    pub hierarchies: Hierarchies,
}

impl Ruleset {
    /// Reads and checks a ruleset file.
    ///
    /// # Examples
    ///
    /// ```
    /// use deidentify::Ruleset;
    /// use deidentify::data::AttributeRole;
    ///
    /// let ruleset = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())?;
    /// let quasi = ruleset
    ///     .attributes()
    ///     .into_iter()
    ///     .filter(|a| a.role == AttributeRole::QuasiIdentifier)
    ///     .count();
    /// assert_eq!(quasi, 9);
    /// let loaded = ruleset.load()?;
    /// assert_eq!(loaded.dataset.rows(), 30_162);
    /// # Ok::<(), deidentify::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when it cannot be read, [`ErrorKind::Ruleset`] when it
    /// is not valid TOML of the expected shape (with the line), names an
    /// attribute twice, or gives a hierarchy to an identifier or insensitive column.
    pub fn from_file(path: &Path) -> Result<Ruleset> {
        let text = std::fs::read_to_string(path).map_err(|source| ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ruleset::from_toml(&text, &base, path)
    }

    /// Parses ruleset text; relative paths resolve against `base`, and `path`
    /// names the ruleset in errors.
    ///
    /// # Errors
    ///
    /// As [`Ruleset::from_file`].
    pub fn from_toml(text: &str, base: &Path, path: &Path) -> Result<Ruleset> {
        let invalid = |reason: String| -> Error {
            ErrorKind::Ruleset {
                path: path.to_path_buf(),
                reason,
            }
            .into()
        };
        let mut ruleset: Ruleset =
            toml::from_str(text).map_err(|e| invalid(toml_error(text, &e)))?;
        ruleset.base = base.to_path_buf();
        ruleset.path = path.to_path_buf();
        if !ruleset.data.delimiter.is_ascii() || !ruleset.data.hierarchy_delimiter.is_ascii() {
            return Err(invalid("delimiters must be single ASCII characters".into()));
        }
        for (i, a) in ruleset.attributes.iter().enumerate() {
            if ruleset.attributes[..i].iter().any(|b| b.name == a.name) {
                return Err(invalid(format!("attribute '{}' is listed twice", a.name)));
            }
            if a.hierarchy.is_some() && !a.role.is_encoded() {
                return Err(invalid(format!(
                    "attribute '{}' has a hierarchy but is not a quasi-identifier or sensitive attribute",
                    a.name
                )));
            }
        }
        let declared: Vec<(&str, AttributeType)> = ruleset
            .attributes
            .iter()
            .map(|a| (a.name.as_str(), a.data_type))
            .collect();
        for (i, t) in ruleset.transforms.iter().enumerate() {
            crate::transform::check_rule(t, &declared).map_err(|reason| {
                invalid(format!("transform {} ({}): {reason}", i + 1, t.kind()))
            })?;
        }
        Ok(ruleset)
    }

    /// The data file, resolved.
    pub fn data_path(&self) -> PathBuf {
        self.base.join(&self.data.path)
    }

    /// The ruleset of the population a sample was drawn from, for
    /// population-based risk ([`crate::risk::population_class_sizes`]): the
    /// same quasi-identifiers, types and hierarchies, read from the file
    /// `population` (a relative path is taken from the current directory),
    /// with every other column left out, no privacy models and no data
    /// fingerprint (the sample's does not apply to the population file).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when `population` is empty or the current
    /// directory cannot be read.
    pub fn for_population(&self, population: &Path) -> Result<Ruleset> {
        let path = std::path::absolute(population).map_err(|source| ErrorKind::Io {
            path: population.to_path_buf(),
            source,
        })?;
        let mut rules = self.clone();
        rules.data.path = path;
        rules.data.sha256 = None;
        rules
            .attributes
            .retain(|a| a.role == AttributeRole::QuasiIdentifier);
        rules.anonymization = None;
        Ok(rules)
    }

    /// Every file this ruleset makes a run read: the ruleset itself, the
    /// data, the hierarchy files and the Expert Determination's key file.
    /// No output may land on one of them ([`crate::apply::check_output`]).
    pub fn input_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.path.clone(), self.data_path()];
        files.extend(self.attributes.iter().filter_map(|a| match &a.hierarchy {
            Some(HierarchyRule::File(file)) => Some(self.base.join(file)),
            _ => None,
        }));
        if let Some(key) = self
            .expert_determination
            .as_ref()
            .and_then(|e| e.key_file.as_ref())
        {
            files.push(self.base.join(key));
        }
        files
    }

    /// What Safe Harbor needs to know of each attribute
    /// ([`crate::apply_safe_harbor`]).
    pub fn safe_harbor_columns(&self) -> Vec<SafeHarborColumn> {
        self.attributes.iter().map(SafeHarborColumn::from).collect()
    }

    /// The attribute metadata.
    pub fn attributes(&self) -> Vec<Attribute> {
        self.attributes
            .iter()
            .map(|a| Attribute::new(a.name.clone(), a.role, a.data_type))
            .collect()
    }

    /// Explicit value orders, by attribute.
    pub fn orders(&self) -> BTreeMap<String, Vec<String>> {
        self.attributes
            .iter()
            .filter_map(|a| a.order.clone().map(|o| (a.name.clone(), o)))
            .collect()
    }

    /// Reads the data file, encodes it and compiles the hierarchies.
    ///
    /// # Errors
    ///
    /// Every error of reading ([`read_csv`], [`read_parquet`]), encoding
    /// ([`Dataset::from_dataframe`]) and hierarchies ([`Hierarchy::from_csv`],
    /// the builders, [`Hierarchies::compile`]); [`ErrorKind::InvalidParameter`]
    /// when the ruleset has `[[transform]]` steps, which need an RNG: use
    /// [`Ruleset::load_transformed`] (never silently skip them).
    pub fn load(&self) -> Result<LoadedRuleset> {
        if !self.transforms.is_empty() {
            return Err(crate::error::Error::parameter(
                "transform",
                format!(
                    "{} has {} [[transform]] step(s); load it with Ruleset::load_transformed (or run the Expert Determination), which applies them",
                    self.path.display(),
                    self.transforms.len()
                ),
            ));
        }
        let frame = self.read_data()?;
        self.load_frame(&frame, &self.data_path().display().to_string())
    }

    /// Checks the data file against `[data] sha256`, when the ruleset gives one.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be read; [`ErrorKind::Parse`]
    /// when it hashes to another value (or the expected value is not 64 hex
    /// digits).
    pub fn check_data_fingerprint(&self) -> Result<()> {
        let Some(expected) = &self.data.sha256 else {
            return Ok(());
        };
        let path = self.data_path();
        let actual = crate::report::sha256_file(&path)?;
        if !expected.eq_ignore_ascii_case(&actual) {
            return Err(ErrorKind::Parse {
                path,
                reason: format!(
                    "the file hashes to SHA-256 {actual}, the ruleset expects {expected}: it changed or is corrupt"
                ),
            }
            .into());
        }
        Ok(())
    }

    /// Reads the data file as it is (text columns for CSV), without encoding:
    /// Parquet for a `.parquet` file, CSV with the ruleset's delimiter
    /// otherwise; checked first against `[data] sha256` when given.
    ///
    /// # Errors
    ///
    /// The errors of [`Ruleset::check_data_fingerprint`], [`read_csv`] and
    /// [`read_parquet`].
    pub fn read_data(&self) -> Result<polars::prelude::DataFrame> {
        self.check_data_fingerprint()?;
        self.read_table(&self.data_path())
    }

    /// Reads `path` as the data file is read (Parquet for a `.parquet`
    /// file, CSV with the ruleset's delimiter otherwise), without the
    /// fingerprint check: a release or synthetic table to measure, held-out
    /// records.
    ///
    /// # Errors
    ///
    /// The errors of [`read_csv`] and [`read_parquet`].
    pub fn read_table(&self, path: &Path) -> Result<polars::prelude::DataFrame> {
        let path = path.to_path_buf();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        {
            read_parquet(&path)
        } else {
            let options = CsvOptions {
                delimiter: self.data.delimiter as u8,
                ..CsvOptions::default()
            };
            read_csv(&path, &options)
        }
    }

    /// Encodes an already loaded `DataFrame` with this ruleset's attributes
    /// and hierarchies.
    ///
    /// # Errors
    ///
    /// As [`Ruleset::load`], without the reading.
    pub fn load_frame(
        &self,
        frame: &polars::prelude::DataFrame,
        source_name: &str,
    ) -> Result<LoadedRuleset> {
        let options = EncodeOptions {
            missing_values: self.data.missing_values.clone(),
            missing_policy: self.data.missing_policy,
            missing_label: self.data.missing_label.clone(),
            source_name: source_name.to_owned(),
        };
        let dataset = Dataset::from_dataframe(frame, &self.attributes(), &options)?;
        let mut hierarchies = Vec::new();
        for a in &self.attributes {
            let hierarchy = match &a.hierarchy {
                None => continue,
                Some(HierarchyRule::File(file)) => Hierarchy::from_csv(
                    &a.name,
                    &self.base.join(file),
                    self.data.hierarchy_delimiter as u8,
                )?,
                Some(HierarchyRule::Builder(builder)) => {
                    builder.build(&a.name, dataset.encoded(&a.name)?.dictionary())?
                }
            };
            hierarchies.push(hierarchy);
        }
        let hierarchies = Hierarchies::compile(&dataset, &hierarchies)?;
        Ok(LoadedRuleset {
            ruleset: self.clone(),
            dataset,
            hierarchies,
        })
    }
}

impl From<&AttributeRule> for SafeHarborColumn {
    fn from(rule: &AttributeRule) -> SafeHarborColumn {
        let column =
            SafeHarborColumn::new(rule.name.clone(), rule.role).with_tokenize(rule.tokenize);
        match rule.identifier {
            Some(kind) => column.with_identifier(kind),
            None => column,
        }
    }
}

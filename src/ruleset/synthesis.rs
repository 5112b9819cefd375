//! The `[synthesis]` table: differentially private synthetic data from the
//! ruleset's data ([`crate::synthesis`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::file::{HierarchyRule, Ruleset};
use crate::data::attribute::{AttributeRole, AttributeType};
use crate::error::{Error, Result};
use crate::hierarchy::table::Hierarchy;
use crate::synthesis::{Domain, SynthesisAttribute, SynthesisConfig, SynthesisMethod};

/// The `[synthesis]` table.
///
/// ```toml
/// [synthesis]
/// epsilon = 1.0
/// method = "mst"                  # the default; or "aim"
/// delta = 1e-9
/// rows = 30162                    # default: the model's noisy count
/// seed = 7                        # for tests and reproductions only
/// attributes = ["age", "sex"]     # default: every attribute but identifiers
/// condition = "salary-class"      # MST: every marginal measured per salary class
/// target = "salary-class"         # a classifier in the utility report
/// test = "adult-test.csv"         # held-out real records for it
/// [synthesis.bins]
/// age = { low = 17, high = 90, width = 5 }
/// ```
///
/// An attribute's public domain is its `bins` if given, else the first
/// column of its hierarchy file, else its `order`; a hierarchy built from
/// the data, or none of these, is refused (a domain read from the data
/// would leak it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthesisRule {
    /// ε.
    pub epsilon: f64,
    /// The generator, `"mst"` (default) or `"aim"`.
    #[serde(default)]
    pub method: SynthesisMethod,
    /// δ (default 10⁻⁹).
    #[serde(default = "default_delta")]
    pub delta: f64,
    /// Records to sample.
    #[serde(default)]
    pub rows: Option<u64>,
    /// A fixed seed (tests and reproductions; a release draws one from the
    /// operating system).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The attributes to synthesize.
    #[serde(default)]
    pub attributes: Option<Vec<String>>,
    /// Bins of numeric attributes.
    #[serde(default)]
    pub bins: BTreeMap<String, BinRule>,
    /// An attribute every marginal is measured with (see
    /// [`SynthesisConfig::condition`]).
    #[serde(default)]
    pub condition: Option<String>,
    /// The attribute the utility report's classifier predicts.
    #[serde(default)]
    pub target: Option<String>,
    /// Held-out real records (same format as the data) to test the
    /// classifier on, relative to the ruleset.
    #[serde(default)]
    pub test: Option<PathBuf>,
}

/// Bins of equal width over `[low, high]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinRule {
    /// The lower bound.
    pub low: f64,
    /// The upper bound.
    pub high: f64,
    /// The width of a bin.
    pub width: f64,
}

fn default_delta() -> f64 {
    1e-9
}

impl Ruleset {
    /// The synthesis the `[synthesis]` table describes, `None` without one.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::Ruleset`] for an attribute the ruleset does not
    /// declare, bins for an attribute that is not numeric or not
    /// synthesized, or an attribute without a public domain; the errors of
    /// [`Hierarchy::from_csv`] and [`SynthesisConfig::check`].
    pub fn synthesis(&self) -> Result<Option<SynthesisConfig>> {
        let Some(rule) = &self.synthesis else {
            return Ok(None);
        };
        let invalid = |reason: String| {
            Error::new(crate::error::ErrorKind::Ruleset {
                path: self.path.clone(),
                reason: format!("[synthesis]: {reason}"),
            })
        };
        let names: Vec<String> = match &rule.attributes {
            Some(names) => names.clone(),
            None => self
                .attributes
                .iter()
                .filter(|a| a.role != AttributeRole::Identifier)
                .map(|a| a.name.clone())
                .collect(),
        };
        for name in rule.bins.keys() {
            if !names.contains(name) {
                return Err(invalid(format!(
                    "bins are given for '{name}', which is not synthesized"
                )));
            }
        }
        let mut attributes = Vec::with_capacity(names.len());
        for name in &names {
            let a = self
                .attributes
                .iter()
                .find(|a| &a.name == name)
                .ok_or_else(|| invalid(format!("'{name}' is not an attribute of the ruleset")))?;
            let domain = if let Some(bins) = rule.bins.get(name) {
                let integer = match a.data_type {
                    AttributeType::Integer => true,
                    AttributeType::Decimal => false,
                    other => {
                        return Err(invalid(format!(
                            "'{name}' is {}, bins need an integer or decimal attribute",
                            other.name()
                        )));
                    }
                };
                Domain::bins(bins.low, bins.high, bins.width, integer)
                    .map_err(|e| invalid(format!("bins of '{name}': {e}")))?
            } else {
                match (&a.hierarchy, &a.order) {
                    (Some(HierarchyRule::File(file)), _) => {
                        let hierarchy = Hierarchy::from_csv(
                            name,
                            &self.base.join(file),
                            self.data.hierarchy_delimiter as u8,
                        )?;
                        Domain::values(hierarchy.rows().iter().map(|row| row[0].clone()))?
                    }
                    (_, Some(order)) => Domain::values(order.iter().cloned())?,
                    _ => {
                        return Err(invalid(format!(
                            "'{name}' has no public domain: give it a hierarchy file, an order, or bins in [synthesis.bins] (a domain read from the data would reveal its values)"
                        )));
                    }
                }
            };
            attributes.push(SynthesisAttribute::new(name.clone(), domain));
        }
        let mut config =
            SynthesisConfig::new(rule.epsilon, rule.delta, attributes).with_method(rule.method);
        if let Some(rows) = rule.rows {
            config = config.with_rows(rows);
        }
        if let Some(condition) = &rule.condition {
            config = config.with_condition(condition.clone());
        }
        config.check()?;
        Ok(Some(config))
    }

    /// The `[synthesis] test` file read as the data is, when given.
    ///
    /// # Errors
    ///
    /// The errors of reading a CSV or Parquet file.
    pub fn synthesis_test_data(&self) -> Result<Option<polars::prelude::DataFrame>> {
        match self.synthesis.as_ref().and_then(|s| s.test.as_ref()) {
            None => Ok(None),
            Some(path) => self.read_table(&self.base.join(path)).map(Some),
        }
    }
}

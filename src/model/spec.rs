//! Privacy models as written in a ruleset.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hierarchy::set::Hierarchies;
use crate::model::{
    AbsentValuePolicy, AlphaKAnonymity, AverageRisk, BasicBetaLikeness, CellSizeEstimator,
    DeltaDisclosurePrivacy, DistinctLDiversity, EnhancedBetaLikeness, EntropyLDiversity,
    GroundDistance, KAnonymity, KMap, PopulationUniqueness, PrivacyModel, RecursiveClDiversity,
    SampleUniqueness, SensitiveAttribute, TCloseness, UniquenessEstimator,
};
use crate::population::Population;

/// A privacy model with its parameters, as in a ruleset's
/// `models = [{ type = "k-anonymity", k = 5 }, …]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ModelSpec {
    /// [`KAnonymity`].
    KAnonymity {
        /// Minimal class size.
        k: u64,
    },
    /// [`DistinctLDiversity`].
    DistinctLDiversity {
        /// The sensitive attribute.
        attribute: String,
        /// Minimal number of distinct values.
        l: f64,
    },
    /// [`EntropyLDiversity`].
    EntropyLDiversity {
        /// The sensitive attribute.
        attribute: String,
        /// The l of ln l.
        l: f64,
    },
    /// [`RecursiveClDiversity`].
    RecursiveClDiversity {
        /// The sensitive attribute.
        attribute: String,
        /// The c.
        c: f64,
        /// The l.
        l: u64,
    },
    /// [`TCloseness`].
    TCloseness {
        /// The sensitive attribute.
        attribute: String,
        /// Maximal EMD.
        t: f64,
        /// The ground distance.
        distance: GroundDistance,
    },
    /// [`DeltaDisclosurePrivacy`].
    DeltaDisclosure {
        /// The sensitive attribute.
        attribute: String,
        /// The δ.
        delta: f64,
        /// Treatment of values absent from a class.
        #[serde(default)]
        absent: AbsentValuePolicy,
    },
    /// [`BasicBetaLikeness`].
    BasicBetaLikeness {
        /// The sensitive attribute.
        attribute: String,
        /// The β.
        beta: f64,
    },
    /// [`EnhancedBetaLikeness`].
    EnhancedBetaLikeness {
        /// The sensitive attribute.
        attribute: String,
        /// The β.
        beta: f64,
    },
    /// [`AlphaKAnonymity`].
    AlphaKAnonymity {
        /// The sensitive attribute.
        attribute: String,
        /// Maximal relative frequency.
        alpha: f64,
        /// Minimal class size.
        k: u64,
        /// The protected value; every value when absent.
        #[serde(default)]
        value: Option<String>,
    },
    /// [`AverageRisk`]: `{ type = "average-risk", threshold = 0.05 }`, or
    /// the relaxed variant with `highest_risk` and `records_at_risk`
    /// (both or neither).
    AverageRisk {
        /// Most average re-identification risk of the release.
        threshold: f64,
        /// The highest risk of the relaxed variant.
        #[serde(default)]
        highest_risk: Option<f64>,
        /// The most records (fraction) with a risk above `highest_risk`.
        #[serde(default)]
        records_at_risk: Option<f64>,
    },
    /// [`KMap`], estimated from the sample: `{ type = "k-map", k = 5,
    /// population = 317200000, significance = 0.05 }`.
    KMap {
        /// The k of the population.
        k: u64,
        /// The population size N (at least the table's rows).
        population: u64,
        /// The significance level α of the estimate.
        significance: f64,
        /// The cell-size estimator (default `poisson`).
        #[serde(default)]
        estimator: CellSizeEstimator,
    },
    /// [`PopulationUniqueness`]: `{ type = "population-uniqueness",
    /// threshold = 0.01, population = 317200000 }` (or `sampling_fraction`
    /// instead of `population`; `estimator` defaults to `dankar`).
    PopulationUniqueness {
        /// Most estimated fraction of the population unique.
        threshold: f64,
        /// The population size N.
        #[serde(default)]
        population: Option<u64>,
        /// The sampling fraction n/N of the whole table.
        #[serde(default)]
        sampling_fraction: Option<f64>,
        /// The estimate bounded.
        #[serde(default)]
        estimator: UniquenessEstimator,
    },
    /// [`SampleUniqueness`]: `{ type = "sample-uniqueness", threshold = 0.01 }`.
    SampleUniqueness {
        /// Most released records (fraction) unique in the release.
        threshold: f64,
    },
    /// (ε, δ)-differential privacy by SafePub ([`crate::safepub`]):
    /// `{ type = "differential-privacy", epsilon = 1.0, delta = 1e-6 }`,
    /// optionally `search_budget` (default 0.1), `steps` (SafePub's walk of
    /// that many steps instead of the lattice search) or `levels` (a
    /// transformation fixed in advance, by quasi-identifier name; then
    /// `search_budget = 0`). Not a class model: it replaces the search and
    /// stands alone.
    DifferentialPrivacy {
        /// The whole ε.
        epsilon: f64,
        /// δ.
        delta: f64,
        /// The part of ε spent choosing the transformation (default 0.1;
        /// 0 with `levels`).
        #[serde(default)]
        search_budget: Option<f64>,
        /// SafePub's walk with this many steps.
        #[serde(default)]
        steps: Option<u32>,
        /// A fixed transformation.
        #[serde(default)]
        levels: Option<BTreeMap<String, u32>>,
    },
}

impl ModelSpec {
    /// The sensitive attribute the model protects, if any.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            ModelSpec::KAnonymity { .. }
            | ModelSpec::AverageRisk { .. }
            | ModelSpec::KMap { .. }
            | ModelSpec::PopulationUniqueness { .. }
            | ModelSpec::SampleUniqueness { .. }
            | ModelSpec::DifferentialPrivacy { .. } => None,
            ModelSpec::DistinctLDiversity { attribute, .. }
            | ModelSpec::EntropyLDiversity { attribute, .. }
            | ModelSpec::RecursiveClDiversity { attribute, .. }
            | ModelSpec::TCloseness { attribute, .. }
            | ModelSpec::DeltaDisclosure { attribute, .. }
            | ModelSpec::BasicBetaLikeness { attribute, .. }
            | ModelSpec::EnhancedBetaLikeness { attribute, .. }
            | ModelSpec::AlphaKAnonymity { attribute, .. } => Some(attribute),
        }
    }

    /// The population a model assumes (k-map; population uniqueness when
    /// given exactly one of `population` and `sampling_fraction`), if any.
    pub fn population(&self) -> Option<Population> {
        match self {
            ModelSpec::KMap { population, .. } => Some(Population::Size(*population)),
            ModelSpec::PopulationUniqueness {
                population,
                sampling_fraction,
                ..
            } => match (population, sampling_fraction) {
                (Some(size), None) => Some(Population::Size(*size)),
                (None, Some(f)) => Some(Population::SamplingFraction(*f)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Builds the model for `dataset`; `orders` gives explicit value orders
    /// of ordered-string attributes by name.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::UnknownColumn`] for an unknown attribute,
    /// [`crate::ErrorKind::InvalidParameter`] for a parameter out of range,
    /// for k larger than the number of rows, for an attribute that is not
    /// sensitive, or for a protected value the attribute never takes.
    pub fn build(
        &self,
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        orders: &BTreeMap<String, Vec<String>>,
    ) -> Result<Box<dyn PrivacyModel>> {
        self.build_with(
            dataset.rows() as u64,
            &|name: &str| {
                SensitiveAttribute::new(
                    dataset,
                    hierarchies,
                    name,
                    orders.get(name).map(Vec::as_slice),
                )
            },
            &|name: &str| Ok(dataset.encoded(name)?.dictionary()),
        )
    }

    /// Builds the model for a table of `rows` records whose sensitive
    /// attributes are prepared by `sensitive` and whose dictionaries are
    /// given by `dictionary` (for data summarized without an encoded
    /// [`Dataset`], such as a streamed table).
    ///
    /// # Errors
    ///
    /// As [`ModelSpec::build`].
    pub(crate) fn build_with<'d>(
        &self,
        rows: u64,
        sensitive: &dyn Fn(&str) -> Result<SensitiveAttribute>,
        dictionary: &dyn Fn(&str) -> Result<&'d [String]>,
    ) -> Result<Box<dyn PrivacyModel>> {
        let check_k = |k: u64| {
            if k > rows {
                Err(Error::parameter(
                    "k",
                    format!("k = {k} is larger than the table ({rows} rows)"),
                ))
            } else {
                Ok(())
            }
        };
        Ok(match self {
            ModelSpec::KAnonymity { k } => {
                let model = KAnonymity::new(*k)?;
                check_k(*k)?;
                Box::new(model)
            }
            ModelSpec::DistinctLDiversity { attribute, l } => {
                Box::new(DistinctLDiversity::new(&sensitive(attribute)?, *l)?)
            }
            ModelSpec::EntropyLDiversity { attribute, l } => {
                Box::new(EntropyLDiversity::new(&sensitive(attribute)?, *l)?)
            }
            ModelSpec::RecursiveClDiversity { attribute, c, l } => {
                Box::new(RecursiveClDiversity::new(&sensitive(attribute)?, *c, *l)?)
            }
            ModelSpec::TCloseness {
                attribute,
                t,
                distance,
            } => Box::new(TCloseness::new(&sensitive(attribute)?, *t, *distance)?),
            ModelSpec::DeltaDisclosure {
                attribute,
                delta,
                absent,
            } => Box::new(DeltaDisclosurePrivacy::new(
                &sensitive(attribute)?,
                *delta,
                *absent,
            )?),
            ModelSpec::BasicBetaLikeness { attribute, beta } => {
                Box::new(BasicBetaLikeness::new(&sensitive(attribute)?, *beta)?)
            }
            ModelSpec::EnhancedBetaLikeness { attribute, beta } => {
                Box::new(EnhancedBetaLikeness::new(&sensitive(attribute)?, *beta)?)
            }
            ModelSpec::AlphaKAnonymity {
                attribute,
                alpha,
                k,
                value,
            } => {
                let sa = sensitive(attribute)?;
                let protected = match value {
                    None => None,
                    Some(v) => {
                        let dictionary = dictionary(attribute)?;
                        let code = dictionary.iter().position(|d| d == v).ok_or_else(|| {
                            Error::parameter(
                                "value",
                                format!("'{attribute}' never takes the value '{v}'"),
                            )
                        })?;
                        Some(code as u32)
                    }
                };
                let model = AlphaKAnonymity::new(&sa, *alpha, *k, protected)?;
                check_k(*k)?;
                Box::new(model)
            }
            ModelSpec::AverageRisk {
                threshold,
                highest_risk,
                records_at_risk,
            } => Box::new(match (highest_risk, records_at_risk) {
                (None, None) => AverageRisk::new(*threshold)?,
                (Some(h), Some(r)) => AverageRisk::with_highest_risk(*threshold, *h, *r)?,
                (Some(_), None) | (None, Some(_)) => {
                    let missing = if highest_risk.is_some() {
                        "records_at_risk"
                    } else {
                        "highest_risk"
                    };
                    return Err(Error::parameter(
                        missing,
                        "average-risk takes highest_risk and records_at_risk together, or neither",
                    ));
                }
            }),
            ModelSpec::KMap {
                k,
                population,
                significance,
                estimator,
            } => Box::new(KMap::estimated(
                *k,
                rows,
                *population,
                *significance,
                *estimator,
            )?),
            ModelSpec::PopulationUniqueness {
                threshold,
                estimator,
                ..
            } => {
                let population = self.population().ok_or_else(|| {
                    Error::parameter(
                        "population",
                        "population-uniqueness takes one of population and sampling_fraction",
                    )
                })?;
                Box::new(PopulationUniqueness::new(
                    *threshold, population, rows, *estimator,
                )?)
            }
            ModelSpec::SampleUniqueness { threshold } => {
                Box::new(SampleUniqueness::new(*threshold)?)
            }
            ModelSpec::DifferentialPrivacy { .. } => {
                return Err(Error::parameter(
                    "models",
                    "differential privacy is not a model the lattice search checks: it is released by deidentify::safepub (the anonymize and expert_determination examples do so when the ruleset names it)",
                ));
            }
        })
    }
}

//! Privacy models evaluated on equivalence classes ([§3](crate::methods#3-privacy-models)).
//!
//! # Suppressed records
//!
//! A model judges one equivalence class at a time. When the search (record
//! suppression) removes the classes that fail, the suppressed records are,
//! as in ARX ([§0.2](crate::methods#02-equivalence-classes-and-suppressed-records), [§6.2](crate::methods#62-the-suppression-limit)), not re-checked as a group; they stay
//! in the reference distribution P of t-closeness and β-likeness (P is
//! always the distribution over the whole input table). Measurements at a
//! node without suppression ([`crate::PrivacyProfile`]) cover every class.
//!
//! # Models of the whole release
//!
//! [`AverageRisk`], [`SampleUniqueness`] and [`PopulationUniqueness`]
//! judge the released classes
//! together ([§3.9](crate::methods#39-risk-based-models)). After the classes that fail the other models
//! are suppressed, a release that fails them loses further classes,
//! smallest first, as in ARX, as long as the limit allows.

pub(crate) mod alpha_k;
pub(crate) mod average_risk;
pub(crate) mod beta_likeness;
pub(crate) mod delta_disclosure;
mod k_anonymity;
mod k_map;
pub(crate) mod l_diversity;
mod population_uniqueness;
mod release;
mod sample_uniqueness;
mod sensitive;
mod spec;
mod t_closeness;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use alpha_k::AlphaKAnonymity;
pub use average_risk::AverageRisk;
pub use beta_likeness::{BasicBetaLikeness, EnhancedBetaLikeness};
pub use delta_disclosure::{AbsentValuePolicy, DeltaDisclosurePrivacy};
pub use k_anonymity::KAnonymity;
pub use k_map::{CellSizeEstimator, KMap};
pub use l_diversity::{DistinctLDiversity, EntropyLDiversity, RecursiveClDiversity};
pub use population_uniqueness::{PopulationUniqueness, UniquenessEstimator};
pub use release::Release;
pub use sample_uniqueness::SampleUniqueness;
pub use sensitive::SensitiveAttribute;
pub use spec::ModelSpec;
pub use t_closeness::{GroundDistance, TCloseness};

use crate::error::{Error, Result};
use crate::frequency::table::EquivalenceClass;

/// Checks that `value` is a probability in [0, 1].
pub(crate) fn probability(name: &str, value: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::parameter(
            name,
            format!("{name} = {value} must be a number in [0, 1]"),
        ))
    }
}

/// Whether a model stays satisfied when data is generalized further, and
/// when a fixed suppression limit is in force ([§3.10](crate::methods#310-monotonicity-and-suppression); ARX's
/// `(monotonicWithSuppression, monotonicWithGeneralization)` flags).
///
/// The search prunes the lattice only with flags that are `true`; a `false`
/// flag keeps it correct, only slower.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monotonicity {
    /// If a node satisfies the model without suppression, so does every more general node.
    pub generalization: bool,
    /// The same with record suppression under a fixed limit: the number of
    /// records that must be suppressed never grows under generalization.
    pub suppression: bool,
}

/// A privacy model: every released equivalence class must satisfy it, or
/// (for a model of the whole release) the released classes together.
pub trait PrivacyModel: fmt::Debug + Send + Sync {
    /// A short description with parameters, e.g. `5-anonymity`.
    fn name(&self) -> String;

    /// The monotonicity flags; claimed only where the model's
    /// `# Monotonicity` section argues for them.
    fn monotonicity(&self) -> Monotonicity;

    /// The size below which no class can satisfy the model (k for
    /// k-anonymity, ⌈l⌉ for l-diversity; 1 otherwise).
    fn minimal_class_size(&self) -> u64 {
        1
    }

    /// Whether the class satisfies the model.
    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool;

    /// Whether every class of at least [`PrivacyModel::minimal_class_size`]
    /// records satisfies the model (true for k-anonymity), so that a search
    /// can judge classes by their sizes alone. `false` is always safe.
    fn decided_by_size(&self) -> bool {
        false
    }

    /// Whether the model judges the release as a whole (average risk,
    /// sample and population uniqueness) through
    /// [`PrivacyModel::is_satisfied_by_release`],
    /// rather than, or besides, each class.
    fn judges_release(&self) -> bool {
        false
    }

    /// Whether the released classes as a whole satisfy the model; `true`
    /// for models of single classes.
    ///
    /// A search that finds a release failing suppresses its classes smallest
    /// first and keeps the fewest found by bisection, so a model's answer
    /// should never turn from `true` to `false` as more of the smallest
    /// classes are removed (the fewest is then exact).
    fn is_satisfied_by_release(&self, _release: &Release<'_>) -> bool {
        true
    }
}

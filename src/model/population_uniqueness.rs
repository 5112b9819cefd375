//! Population uniqueness (ARX's risk-based criterion).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::frequency::table::EquivalenceClass;
use crate::model::average_risk::probability;
use crate::model::release::Release;
use crate::model::{Monotonicity, PrivacyModel};
use crate::population::{Population, dankar, pitman_or_zero, snb, zayatz};

/// Which estimate of the population uniques a [`PopulationUniqueness`]
/// bounds (METHODS.md §4.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UniquenessEstimator {
    /// The Dankar et al. (2012) rule choosing among the others.
    #[default]
    Dankar,
    /// Zayatz (1991).
    Zayatz,
    /// The Pitman model (Hoshino 2001).
    Pitman,
    /// The slide negative binomial (Chen & Keller-McNulty 1998).
    Snb,
}

/// The estimated fraction of the population that is unique on the released
/// quasi-identifiers is at most a threshold.
///
/// # Definition
///
/// Over the released classes (suppressed records excluded), with their
/// class-size histogram, the n released records and the population size N
/// (given, or the whole table's rows over the sampling fraction, so that
/// suppression does not shrink it), the chosen estimate of the population
/// uniques divided by N must be at most t (METHODS.md §3.9). The estimates
/// are those of [`crate::RiskAnalysis`]'s `population_uniques`. As in ARX,
/// an estimate of 0 (or a model that does not converge) passes only when
/// the release has no sample unique; an empty release passes.
///
/// When a release fails, the search suppresses classes smallest first and
/// bisects on their number, as ARX does; the estimate need not fall as
/// classes go, so the number found is ARX's, not always the fewest.
///
/// # Monotonicity
///
/// Not monotone with suppression; monotone under generalization with the
/// Zayatz estimate only (ARX: `(false, model == ZAYATZ)`).
///
/// # Citations
///
/// Dankar, El Emam, Neisa & Roffey, BMC Med Inform Decis Mak 12:66, 2012;
/// ARX `criteria/PopulationUniqueness.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct PopulationUniqueness {
    threshold: f64,
    population: f64,
    estimator: UniquenessEstimator,
}

impl PopulationUniqueness {
    /// At most a fraction `threshold` of `population` unique, for a table
    /// of `rows` records.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `threshold` is not in
    /// [0, 1], or the population is smaller than the table or its sampling
    /// fraction is not in (0, 1].
    pub fn new(
        threshold: f64,
        population: Population,
        rows: u64,
        estimator: UniquenessEstimator,
    ) -> Result<PopulationUniqueness> {
        Ok(PopulationUniqueness {
            threshold: probability("threshold", threshold)?,
            population: population.size(rows)?,
            estimator,
        })
    }

    /// The estimated fraction of population uniques of a release of `n`
    /// records with the class-size histogram `histogram`.
    fn fraction(&self, histogram: &[(u64, u64)], n: u64) -> f64 {
        let big_n = self.population;
        let uniques = match self.estimator {
            UniquenessEstimator::Dankar => dankar(histogram, n, big_n).0,
            UniquenessEstimator::Zayatz => zayatz(histogram, n, big_n),
            UniquenessEstimator::Pitman => pitman_or_zero(histogram, n, big_n).unwrap_or(0.0),
            UniquenessEstimator::Snb => snb(histogram, n, big_n).map_or(0.0, |s| s.uniques),
        };
        uniques / big_n
    }
}

impl PrivacyModel for PopulationUniqueness {
    fn name(&self) -> String {
        let estimator = match self.estimator {
            UniquenessEstimator::Dankar => "Dankar",
            UniquenessEstimator::Zayatz => "Zayatz",
            UniquenessEstimator::Pitman => "Pitman",
            UniquenessEstimator::Snb => "SNB",
        };
        format!("{}-population-uniqueness ({estimator})", self.threshold)
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: self.estimator == UniquenessEstimator::Zayatz,
            suppression: false,
        }
    }

    fn is_satisfied_by(&self, _class: &EquivalenceClass<'_>) -> bool {
        true
    }

    fn decided_by_size(&self) -> bool {
        true
    }

    fn judges_release(&self) -> bool {
        true
    }

    fn is_satisfied_by_release(&self, release: &Release<'_>) -> bool {
        let n = release.records();
        if n == 0 {
            return true;
        }
        let mut histogram: Vec<(u64, u64)> = Vec::new();
        for &size in release.sizes() {
            match histogram.last_mut() {
                Some(last) if last.0 == size => last.1 += 1,
                _ => histogram.push((size, 1)),
            }
        }
        let fraction = self.fraction(&histogram, n);
        if fraction > 0.0 {
            fraction <= self.threshold
        } else {
            histogram.first().is_none_or(|&(size, _)| size > 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(model: &PopulationUniqueness, sizes: &[u64]) -> bool {
        let prefix = Release::running_sums(sizes);
        model.is_satisfied_by_release(&Release::new(sizes, &prefix))
    }

    #[test]
    fn the_zayatz_fraction_against_the_threshold() {
        // Sizes 1, 1, 2, 4 (8 records) in a population of 16: the Zayatz
        // estimate, from the risk module, over 16.
        let sizes = [1, 1, 2, 4];
        let estimate = zayatz(&[(1, 2), (2, 1), (4, 1)], 8, 16.0) / 16.0;
        assert!(estimate > 0.0 && estimate < 1.0);
        let model = |t| {
            PopulationUniqueness::new(t, Population::Size(16), 8, UniquenessEstimator::Zayatz)
                .unwrap()
        };
        assert!(judge(&model(estimate), &sizes));
        assert!(!judge(&model(estimate * 0.999), &sizes));
        // Without uniques the estimate is 0, and that passes.
        assert!(judge(&model(0.0), &[2, 2, 4]));
        // An empty release passes.
        assert!(judge(&model(0.0), &[]));
    }

    #[test]
    fn parameters_out_of_range_are_errors() {
        let zayatz = UniquenessEstimator::Zayatz;
        assert!(PopulationUniqueness::new(1.5, Population::Size(16), 8, zayatz).is_err());
        assert!(PopulationUniqueness::new(0.1, Population::Size(7), 8, zayatz).is_err());
        assert!(
            PopulationUniqueness::new(0.1, Population::SamplingFraction(0.0), 8, zayatz).is_err()
        );
        let m =
            PopulationUniqueness::new(0.1, Population::SamplingFraction(0.5), 8, zayatz).unwrap();
        assert_eq!(m.population, 16.0);
    }
}

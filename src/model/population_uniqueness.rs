//! Population uniqueness (ARX's risk-based criterion).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::frequency::table::EquivalenceClass;
use crate::model::release::Release;
use crate::model::{Monotonicity, PrivacyModel, probability};
use crate::population::{Population, dankar_with, pitman_or_zero, size_histogram, snb, zayatz};

/// Which estimate of the population uniques a [`PopulationUniqueness`]
/// bounds ([§4.2](crate::methods#42-population-uniqueness)).
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
/// (given, or round(rows/f) for the whole table's rows and the sampling
/// fraction f, as [`crate::risk::Population::fixed`], so that suppression does not
/// shrink it), the chosen estimate of the population uniques divided by N
/// must be at most t ([§3.9](crate::methods#39-risk-based-models)). The estimates are those of
/// [`crate::RiskAnalysis`]'s `population_uniques`, except that the Dankar
/// rule does not fall back from Pitman to Zayatz (unlike [`crate::risk::dankar`]),
/// as ARX evaluates it as a criterion ([§4.2](crate::methods#42-population-uniqueness)). As in ARX, an
/// estimate of 0 (or a model that does not converge) passes only when the
/// release has no sample unique; an empty release passes.
///
/// When a release fails, the search suppresses classes smallest first and
/// bisects on their number, as for the other models of the release. The
/// estimate need not fall as classes go, so the number found is not always
/// the fewest, and a release may be judged infeasible although fewer
/// suppressed classes would pass; ARX's own bisection differs in its
/// details (it starts from the middle of all classes and stops at the
/// limit), so the two may suppress different numbers of classes.
///
/// # Monotonicity
///
/// Not monotone with suppression, nor under generalization with any
/// estimate. ARX claims generalization monotonicity for Zayatz, but merging
/// two classes that are not unique lowers the denominator Σ c_i·h(1; N, i, n)
/// (h(1; N, a+b, n) < h(1; N, a, n) + h(1; N, b, n)), so the estimate rises:
/// with N = 22, classes of 1, 5 and 5 records estimate 0.0586 of the
/// population unique, and 1 and 10 records 0.0907 (a test below).
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
            population: population.fixed(rows)?.size(rows)?,
            estimator,
        })
    }

    /// The estimated fraction of population uniques of a release of `n`
    /// records with the class-size histogram `histogram`.
    fn fraction(&self, histogram: &[(u64, u64)], n: u64) -> f64 {
        let big_n = self.population;
        let uniques = match self.estimator {
            UniquenessEstimator::Dankar => dankar_with(histogram, n, big_n, false).0,
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
            generalization: false,
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
        let histogram = size_histogram(release.sizes());
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
        // Without its smallest class the release has 7 records and one
        // unique: the estimate is over the released records, not the rows.
        let rest = zayatz(&[(1, 1), (2, 1), (4, 1)], 7, 16.0) / 16.0;
        assert_ne!(rest, zayatz(&[(1, 1), (2, 1), (4, 1)], 8, 16.0) / 16.0);
        let prefix = Release::running_sums(&sizes);
        let release = Release::new(&sizes, &prefix).without_smallest(1);
        assert!(model(rest).is_satisfied_by_release(&release));
        assert!(!model(rest * 0.999).is_satisfied_by_release(&release));
        // An empty release passes.
        assert!(judge(&model(0.0), &[]));
    }

    /// Zayatz's estimate rises when two classes that are not unique merge,
    /// so it is not monotone under generalization (unlike ARX's claim).
    #[test]
    fn zayatz_is_not_monotone_under_generalization() {
        let model =
            PopulationUniqueness::new(0.07, Population::Size(22), 11, UniquenessEstimator::Zayatz)
                .unwrap();
        assert!(judge(&model, &[1, 5, 5]));
        assert!(!judge(&model, &[1, 10]));
        assert!(!model.monotonicity().generalization);
    }

    /// Without the fall-back, a Dankar estimate whose Pitman model does not
    /// converge fails a release that has sample uniques.
    #[test]
    fn dankar_does_not_fall_back_to_zayatz() {
        use crate::population::UniquenessModel;
        // 50 uniques and a pair, n = 52 of N = 10^6 (f ≤ 0.1): Pitman does
        // not converge; the fall-back gives Zayatz's estimate.
        let histogram = [(1, 50), (2, 1)];
        let (with, model) = dankar_with(&histogram, 52, 1e6, true);
        assert_eq!(model, UniquenessModel::Zayatz);
        assert!(with > 0.0);
        assert_eq!(
            dankar_with(&histogram, 52, 1e6, false),
            (0.0, UniquenessModel::None)
        );
        let sizes = [vec![1; 50], vec![2]].concat();
        let dankar = |t| {
            PopulationUniqueness::new(
                t,
                Population::Size(1_000_000),
                52,
                UniquenessEstimator::Dankar,
            )
            .unwrap()
        };
        // Even the loosest threshold fails: no estimate, but uniques.
        assert!(!judge(&dankar(1.0), &sizes));
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

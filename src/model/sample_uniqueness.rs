//! Sample uniqueness (ARX's risk-based criterion).

use crate::error::Result;
use crate::frequency::table::EquivalenceClass;
use crate::model::release::Release;
use crate::model::{Monotonicity, PrivacyModel, probability};

/// At most a fraction of the released records is unique in the release.
///
/// # Definition
///
/// Over the released records (suppressed records excluded), the fraction
/// of records in classes of size 1 must be at most t ([§3.9](crate::methods#39-risk-based-models); the
/// `sample_uniques` of [`crate::RiskAnalysis`], computed with the same
/// expression). An empty release satisfies the model. When a release
/// fails, the search suppresses whole classes, smallest (that is, unique)
/// first, and keeps the fewest that make it pass within the limit.
///
/// # Monotonicity
///
/// Suppressing a unique record lowers the fraction (u−1)/(n−1) ≤ u/n, and
/// once no unique is left it stays 0, so the fewest classes to suppress is
/// a bisection away. Under generalization, take the classes a less general
/// node suppressed: the more general classes made only of them stay within
/// the limit, and a released class of one record in the more general node
/// is a released unique of the less general one. Monotone under
/// generalization and with suppression (ARX: both true).
///
/// # Citations
///
/// El Emam, *Guide to the De-Identification of Personal Health
/// Information*, 2013; ARX `criteria/SampleUniqueness.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleUniqueness {
    threshold: f64,
}

impl SampleUniqueness {
    /// At most a fraction `threshold` of released records unique.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `threshold` is not in
    /// [0, 1] (or NaN).
    pub fn new(threshold: f64) -> Result<SampleUniqueness> {
        Ok(SampleUniqueness {
            threshold: probability("threshold", threshold)?,
        })
    }

    /// The threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
}

impl PrivacyModel for SampleUniqueness {
    fn name(&self) -> String {
        format!("{}-sample-uniqueness", self.threshold)
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: true,
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
        n == 0 || release.records_in_classes_below(2) as f64 / n as f64 <= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniques_over_released_records() {
        let sizes = [1, 1, 1, 2, 5];
        let prefix = Release::running_sums(&sizes);
        let release = Release::new(&sizes, &prefix);
        // 3 of 10 records are unique.
        assert!(
            SampleUniqueness::new(0.3)
                .unwrap()
                .is_satisfied_by_release(&release)
        );
        assert!(
            !SampleUniqueness::new(0.29)
                .unwrap()
                .is_satisfied_by_release(&release)
        );
        // Without two uniques: 1 of 8.
        let rest = release.without_smallest(2);
        assert!(
            SampleUniqueness::new(0.125)
                .unwrap()
                .is_satisfied_by_release(&rest)
        );
        assert!(SampleUniqueness::new(1.5).is_err());
    }
}

//! Average re-identification risk (ARX's risk-based criterion).

use crate::error::{Error, Result};
use crate::frequency::table::EquivalenceClass;
use crate::model::release::Release;
use crate::model::{Monotonicity, PrivacyModel, probability};

/// The average re-identification risk of the release is at most a threshold;
/// optionally, also at most a fraction of its records has a risk above a
/// highest risk.
///
/// # Definition
///
/// Over the released records (suppressed records excluded), with u released
/// classes and n released records, the average (prosecutor) risk u/n must
/// be at most t ([§3.9](crate::methods#39-risk-based-models), [§4.1](crate::methods#41-attacker-models): it is the prosecutor success rate,
/// and the marketer risk when the attacker's database is the sample). The
/// relaxed variant also requires
/// (1/n) Σ_{classes j with 1/f_j > h} f_j ≤ r: the records at risk above the
/// highest risk h are at most a fraction r. Both are computed with the same
/// floating-point expressions as [`crate::RiskAnalysis`]'s prosecutor
/// `success_rate` and `records_at_risk`, so a release the search accepts is
/// one the risk analysis passes.
///
/// Two choices differ from ARX. The classes at risk are those with risk
/// strictly above h, as the risk analysis counts them; ARX counts classes of
/// up to its size threshold for h inclusive (at h = 0.2, a class of 5 is at
/// risk there), and ARX's translation of h to a size ([§2.3](crate::methods#23-risk-thresholds-and-class-sizes)) has a 1 %
/// tolerance (h = 0.0905 gives 11 there, 12 here). And an empty release
/// (everything suppressed) satisfies the model here, while ARX's 0/0 fails.
///
/// When a release fails, the search suppresses whole classes, smallest
/// first, and keeps the fewest that make it pass within the suppression
/// limit. Classes of equal size go in order of first appearance, which is
/// ARX's order for metrics without a loss per class (for others ARX orders
/// them by that loss).
///
/// # Monotonicity
///
/// Suppressing the m smallest classes removes the fewest records of any m
/// classes, and since the smallest class is never above the average size,
/// u/n never grows as they are removed: the fewest classes to suppress is a
/// bisection away. Under generalization, let T be the classes of the more
/// general node made only of classes the less general node suppressed
/// (whether for this model or for a class model). T's records are within
/// the limit; every class the class models flagged monotone with
/// suppression (k-anonymity, distinct l-diversity, k-map) reject at the
/// more general node is in T, since a failing union has only failing
/// parts; and every other class contains a released class of the less
/// general node, so with T suppressed u does not grow and n does not shrink.
/// The |T| smallest classes carry no more records than T, so suppressing
/// them does at least as well. So the plain model is monotone under
/// generalization and with suppression (ARX: both true). In the relaxed
/// variant a small released class can absorb suppressed ones and put more
/// records at risk (classes of 1, 1, 1 and 10 records, h = 1/3, r = 1/11,
/// a limit of 2: two uniques suppressed pass, but merged into a pair the
/// third unique and the pair exceed the limit), so it is claimed monotone
/// under generalization only (without suppression, a class of the more
/// general node below the size 1/h is made of such classes of the less
/// general one).
///
/// # Citations
///
/// El Emam & Dankar, JAMIA 15(5), 2008; El Emam, *Guide to the
/// De-Identification of Personal Health Information*, 2013. ARX
/// `criteria/AverageReidentificationRisk.java`, `RiskBasedCriterion.java`,
/// `framework/check/groupify/HashGroupifyDistribution.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct AverageRisk {
    threshold: f64,
    highest: Option<HighestRisk>,
}

/// The relaxed variant's limit on records at risk.
#[derive(Clone, Copy, Debug, PartialEq)]
struct HighestRisk {
    risk: f64,
    records: f64,
    /// The smallest class size whose risk 1/size is at most `risk`.
    safe_size: u64,
}

impl AverageRisk {
    /// The average risk at most `threshold`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `threshold` is not in
    /// [0, 1] (or NaN).
    pub fn new(threshold: f64) -> Result<AverageRisk> {
        Ok(AverageRisk {
            threshold: probability("threshold", threshold)?,
            highest: None,
        })
    }

    /// The relaxed variant: the average risk at most `threshold`, and at
    /// most a fraction `records_at_risk` of the released records with a
    /// risk above `highest_risk`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `threshold` or
    /// `records_at_risk` is not in [0, 1], or `highest_risk` not in (0, 1].
    pub fn with_highest_risk(
        threshold: f64,
        highest_risk: f64,
        records_at_risk: f64,
    ) -> Result<AverageRisk> {
        let mut model = AverageRisk::new(threshold)?;
        if !(highest_risk > 0.0 && highest_risk <= 1.0) {
            return Err(Error::parameter(
                "highest_risk",
                format!("highest_risk = {highest_risk} must be a number in (0, 1]"),
            ));
        }
        model.highest = Some(HighestRisk {
            risk: highest_risk,
            records: probability("records_at_risk", records_at_risk)?,
            safe_size: safe_size(highest_risk),
        });
        Ok(model)
    }

    /// The threshold on the average risk.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
}

/// The smallest class size s with 1/s ≤ `risk` (as the risk analysis
/// computes it), for `risk` in (0, 1].
fn safe_size(risk: f64) -> u64 {
    let at_risk = |s: u64| 1.0 / s as f64 > risk;
    // (1/risk is at most 2^1074; the cast saturates, and the float test
    // then corrects the estimate by at most a step or two.)
    let mut size = ((1.0 / risk).ceil() as u64).max(1);
    while size > 1 && !at_risk(size - 1) {
        size -= 1;
    }
    while at_risk(size) && size < u64::MAX {
        size += 1;
    }
    size
}

impl PrivacyModel for AverageRisk {
    fn name(&self) -> String {
        match self.highest {
            None => format!("{}-average-risk", self.threshold),
            Some(h) => format!(
                "({}, {}, {})-average-risk",
                self.threshold, h.risk, h.records
            ),
        }
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: self.highest.is_none(),
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
        if release.classes() as f64 / n as f64 > self.threshold {
            return false;
        }
        self.highest.is_none_or(|h| {
            release.records_in_classes_below(h.safe_size) as f64 / n as f64 <= h.records
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(model: &AverageRisk, sizes: &[u64]) -> bool {
        let prefix = Release::running_sums(sizes);
        model.is_satisfied_by_release(&Release::new(sizes, &prefix))
    }

    #[test]
    fn average_risk_is_classes_over_records() {
        // 4 classes, 20 records: 0.2.
        let sizes = [2, 3, 5, 10];
        assert!(judge(&AverageRisk::new(0.2).unwrap(), &sizes));
        assert!(!judge(&AverageRisk::new(0.19).unwrap(), &sizes));
        assert!(judge(&AverageRisk::new(0.0).unwrap(), &[]));
    }

    #[test]
    fn records_at_risk_count_classes_above_the_highest_risk() {
        // Highest risk 1/3: classes of 1 and 2 records are at risk, the
        // class of 3 is not (1/3 is not above 1/3): 3 of 20 records.
        let sizes = [1, 2, 3, 14];
        let model = |r| AverageRisk::with_highest_risk(0.5, 1.0 / 3.0, r).unwrap();
        assert!(judge(&model(0.15), &sizes));
        assert!(!judge(&model(0.149), &sizes));
        assert_eq!(safe_size(1.0 / 3.0), 3);
        assert_eq!(safe_size(0.2), 5);
        assert_eq!(safe_size(0.21), 5);
        assert_eq!(safe_size(1.0), 1);
        assert_eq!(safe_size(0.099_999), 11);
        for risk in [1e-3, 0.07, 0.33, 0.5, 0.999] {
            let s = safe_size(risk);
            assert!(1.0 / s as f64 <= risk && (s == 1 || 1.0 / (s - 1) as f64 > risk));
        }
    }

    #[test]
    fn parameters_out_of_range_are_errors() {
        for t in [-0.1, 1.5, f64::NAN] {
            assert!(AverageRisk::new(t).is_err());
        }
        assert!(AverageRisk::with_highest_risk(0.1, 0.0, 0.1).is_err());
        assert!(AverageRisk::with_highest_risk(0.1, f64::NAN, 0.1).is_err());
        assert!(AverageRisk::with_highest_risk(0.1, 0.2, 1.1).is_err());
        assert!(AverageRisk::with_highest_risk(0.1, 0.2, 0.05).is_ok());
    }
}

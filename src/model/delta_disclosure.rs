//! δ-disclosure privacy.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frequency::histogram::HistogramRef;
use crate::frequency::table::EquivalenceClass;
use crate::model::sensitive::SensitiveAttribute;
use crate::model::{Monotonicity, PrivacyModel};

/// How a sensitive value that occurs in the table but not in a class is treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbsentValuePolicy {
    /// As in the paper: |ln(0/p)| = ∞, so the class violates the model.
    Violate,
    /// As ARX and pycanon: only values present in the class are checked.
    #[default]
    Ignore,
}

/// δ-disclosure privacy: no class shifts the relative frequency of any
/// sensitive value by more than a factor e^δ.
///
/// # Definition
///
/// For every class E and sensitive value s: |ln(q_s / p_s)| < δ (strict,
/// natural log; [§3.7](crate::methods#37-δ-disclosure-privacy)). A value absent from E gives |ln 0| = ∞;
/// [`AbsentValuePolicy`] decides whether that violates (the paper) or is
/// skipped (ARX, pycanon; the default). ARX uses log₂; we use the natural
/// log of the paper.
///
/// # Monotonicity
///
/// Not monotone under generalization nor suppression: merging two classes
/// can move a value's frequency towards p in one and away in the other, and
/// a value absent from both parts stays absent (ARX: false / false).
///
/// # Citations
///
/// Brickell & Shmatikov, KDD 2008. ARX `criteria/DDisclosurePrivacy.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeltaDisclosurePrivacy {
    attribute: SensitiveAttribute,
    delta: f64,
    absent: AbsentValuePolicy,
}

impl DeltaDisclosurePrivacy {
    /// δ-disclosure privacy on `attribute`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when δ is not a positive finite
    /// number (δ = ∞ would constrain nothing).
    pub fn new(
        attribute: &SensitiveAttribute,
        delta: f64,
        absent: AbsentValuePolicy,
    ) -> Result<Self> {
        if !(delta.is_finite() && delta > 0.0) {
            return Err(Error::parameter(
                "delta",
                format!("δ must be a positive number, got {delta}"),
            ));
        }
        Ok(DeltaDisclosurePrivacy {
            attribute: attribute.clone(),
            delta,
            absent,
        })
    }
}

/// The largest |ln(q_s/p_s)| over the values present in the class; with
/// `AbsentValuePolicy::Violate`, ∞ when the class lacks a value of the table.
pub(crate) fn disclosure(
    attribute: &SensitiveAttribute,
    histogram: HistogramRef<'_>,
    absent: AbsentValuePolicy,
) -> f64 {
    if absent == AbsentValuePolicy::Violate {
        let present_in_table = attribute.counts().iter().filter(|&&c| c > 0).count();
        if histogram.distinct() < present_in_table {
            return f64::INFINITY;
        }
    }
    let size = histogram.total() as f64;
    histogram
        .iter()
        .map(|(code, c)| ((c as f64 / size) / attribute.p(code)).ln().abs())
        .fold(0.0, f64::max)
}

impl PrivacyModel for DeltaDisclosurePrivacy {
    fn name(&self) -> String {
        format!(
            "{}-disclosure privacy on {}",
            self.delta,
            self.attribute.name()
        )
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: false,
            suppression: false,
        }
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        disclosure(
            &self.attribute,
            class.histogram(self.attribute.index()),
            self.absent,
        ) < self.delta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::attribute::{AttributeRole, AttributeType};
    use crate::data::column::EncodedColumn;
    use crate::data::dataset::Dataset;
    use crate::frequency::histogram::Histogram;
    use crate::hierarchy::set::Hierarchies;

    #[test]
    fn absent_values_by_policy() {
        // Table: s = a, a, b, c; class {a, b}: q_a = 1/2 vs p_a = 1/2, q_b = 1/2 vs p_b = 1/4.
        let dataset = Dataset::from_encoded(vec![(
            EncodedColumn::from_values("s", ["a", "a", "b", "c"]),
            AttributeRole::Sensitive,
            AttributeType::String,
        )])
        .unwrap();
        let hierarchies = Hierarchies::compile(&dataset, &[]).unwrap();
        let s = SensitiveAttribute::new(&dataset, &hierarchies, "s", None).unwrap();
        let class = Histogram::from_pairs([(0, 1), (1, 1)]);
        assert_eq!(
            disclosure(&s, class.view(), AbsentValuePolicy::Ignore),
            2f64.ln()
        );
        assert_eq!(
            disclosure(&s, class.view(), AbsentValuePolicy::Violate),
            f64::INFINITY
        );
        assert!(DeltaDisclosurePrivacy::new(&s, 0.0, AbsentValuePolicy::Ignore).is_err());
        assert!(DeltaDisclosurePrivacy::new(&s, f64::NAN, AbsentValuePolicy::Ignore).is_err());
    }
}

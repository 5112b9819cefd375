//! β-likeness, basic and enhanced.

use crate::error::{Error, Result};
use crate::frequency::histogram::HistogramRef;
use crate::frequency::table::EquivalenceClass;
use crate::model::sensitive::SensitiveAttribute;
use crate::model::{Monotonicity, PrivacyModel};

fn check_beta(beta: f64) -> Result<()> {
    if beta > 0.0 && beta.is_finite() {
        Ok(())
    } else {
        Err(Error::parameter(
            "beta",
            format!("β must be a positive number, got {beta}"),
        ))
    }
}

/// The relative gains (q_v − p_v)/p_v of the values whose frequency in the
/// class exceeds their frequency in the table, with p_v.
fn gains<'a>(
    attribute: &'a SensitiveAttribute,
    histogram: HistogramRef<'a>,
) -> impl Iterator<Item = (f64, f64)> + 'a {
    let size = histogram.total() as f64;
    histogram.iter().filter_map(move |(code, c)| {
        let (p, q) = (attribute.p(code), c as f64 / size);
        (q > p).then(|| ((q - p) / p, p))
    })
}

/// The largest relative gain in the class (0 when no value gains): the
/// smallest β for which the class has basic β-likeness.
pub(crate) fn largest_gain(attribute: &SensitiveAttribute, histogram: HistogramRef<'_>) -> f64 {
    gains(attribute, histogram).map(|g| g.0).fold(0.0, f64::max)
}

/// The smallest β for which the class has enhanced β-likeness: the largest
/// gain, or `None` when some gain exceeds −ln p_v (then no β suffices).
pub(crate) fn enhanced_beta(
    attribute: &SensitiveAttribute,
    histogram: HistogramRef<'_>,
) -> Option<f64> {
    let mut beta = 0.0f64;
    for (gain, p) in gains(attribute, histogram) {
        if gain > -p.ln() {
            return None;
        }
        beta = beta.max(gain);
    }
    Some(beta)
}

/// Basic β-likeness: no sensitive value is more than (1 + β) times as
/// frequent in a class as in the table.
///
/// # Definition
///
/// For every class and every value v with q_v > p_v: (q_v − p_v)/p_v ≤ β
/// ([§3.6](crate::methods#36-β-likeness)).
///
/// # Monotonicity
///
/// q_v of a union is a weighted mean of the parts' q_v, so its gain is at
/// most the largest part's: monotone under generalization. Not under
/// suppression, by the merging argument of [§3.10](crate::methods#310-monotonicity-and-suppression) (ARX: true / false).
///
/// # Citations
///
/// Cao & Karras, PVLDB 2012. ARX `criteria/BasicBLikeness.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct BasicBetaLikeness {
    attribute: SensitiveAttribute,
    beta: f64,
}

impl BasicBetaLikeness {
    /// Basic β-likeness on `attribute`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when β ≤ 0 or not finite.
    pub fn new(attribute: &SensitiveAttribute, beta: f64) -> Result<Self> {
        check_beta(beta)?;
        Ok(BasicBetaLikeness {
            attribute: attribute.clone(),
            beta,
        })
    }
}

impl PrivacyModel for BasicBetaLikeness {
    fn name(&self) -> String {
        format!("basic {}-likeness on {}", self.beta, self.attribute.name())
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: false,
        }
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        gains(&self.attribute, class.histogram(self.attribute.index())).all(|(g, _)| g <= self.beta)
    }
}

/// Enhanced β-likeness: basic β-likeness with the bound tightened to −ln p_v
/// for frequent values.
///
/// # Definition
///
/// For every class and every value v with q_v > p_v:
/// (q_v − p_v)/p_v ≤ min(β, −ln p_v) ([§3.6](crate::methods#36-β-likeness)).
///
/// # Monotonicity
///
/// As basic β-likeness: the bound for v does not depend on the class, and
/// the gain of a union is at most the largest gain of its parts (ARX: true / false).
///
/// # Citations
///
/// Cao & Karras, PVLDB 2012. ARX `criteria/EnhancedBLikeness.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnhancedBetaLikeness {
    attribute: SensitiveAttribute,
    beta: f64,
}

impl EnhancedBetaLikeness {
    /// Enhanced β-likeness on `attribute`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when β ≤ 0 or not finite.
    pub fn new(attribute: &SensitiveAttribute, beta: f64) -> Result<Self> {
        check_beta(beta)?;
        Ok(EnhancedBetaLikeness {
            attribute: attribute.clone(),
            beta,
        })
    }
}

impl PrivacyModel for EnhancedBetaLikeness {
    fn name(&self) -> String {
        format!(
            "enhanced {}-likeness on {}",
            self.beta,
            self.attribute.name()
        )
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: false,
        }
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        gains(&self.attribute, class.histogram(self.attribute.index()))
            .all(|(g, p)| g <= self.beta.min(-p.ln()))
    }
}

//! Risk thresholds as probabilities or class sizes ([§2.3](crate::methods#23-risk-thresholds-and-class-sizes)).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A re-identification risk threshold: a largest acceptable probability, or
/// the equivalent smallest class size k (risk 1/k).
///
/// A probability t is translated to k as ARX does ([§2.3](crate::methods#23-risk-thresholds-and-class-sizes)):
/// k = ⌊1/t⌋, plus 1 when 1/⌊1/t⌋ − t ≥ 0.01·t (1 % relative tolerance). So
/// 0.09 gives k = 12 (1/11 = 0.0909 exceeds 0.09), 0.2 gives 5, 1/3 gives 3.
/// Both forms are always reported, so "0.09" is never silently read as k = 11.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskThreshold {
    /// A probability in (0, 1].
    Probability(f64),
    /// A smallest class size ≥ 1 (probability 1/k).
    ClassSize(u64),
}

impl RiskThreshold {
    /// A probability threshold.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] outside (0, 1].
    pub fn probability(t: f64) -> Result<RiskThreshold> {
        if t > 0.0 && t <= 1.0 {
            Ok(RiskThreshold::Probability(t))
        } else {
            Err(Error::parameter(
                "threshold",
                format!("a risk threshold must be in (0, 1], got {t}"),
            ))
        }
    }

    /// A class-size threshold.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when k < 1.
    pub fn class_size(k: u64) -> Result<RiskThreshold> {
        if k >= 1 {
            Ok(RiskThreshold::ClassSize(k))
        } else {
            Err(Error::parameter(
                "threshold",
                "a class-size threshold must be at least 1",
            ))
        }
    }

    /// The same threshold, checked as [`RiskThreshold::probability`] and
    /// [`RiskThreshold::class_size`] check it (for a value built directly
    /// or deserialized).
    ///
    /// # Errors
    ///
    /// As those constructors.
    pub fn checked(self) -> Result<RiskThreshold> {
        match self {
            RiskThreshold::Probability(t) => RiskThreshold::probability(t),
            RiskThreshold::ClassSize(k) => RiskThreshold::class_size(k),
        }
    }

    /// The probability: t, or 1/k.
    pub fn as_probability(self) -> f64 {
        match self {
            RiskThreshold::Probability(t) => t,
            RiskThreshold::ClassSize(k) => 1.0 / k as f64,
        }
    }

    /// The class size: k, or ARX's translation of t.
    pub fn as_class_size(self) -> u64 {
        match self {
            RiskThreshold::ClassSize(k) => k,
            RiskThreshold::Probability(t) => {
                let mut k = (1.0 / t).floor();
                if 1.0 / k - t >= 0.01 * t {
                    k += 1.0;
                }
                k as u64
            }
        }
    }
}

impl fmt::Display for RiskThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (k = {})",
            self.as_probability(),
            self.as_class_size()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translation_matches_arx() {
        // [§2.3](crate::methods#23-risk-thresholds-and-class-sizes), computed from ARX's ParameterTranslation.
        for (t, k) in [
            (0.09, 12),
            (0.33, 4),
            (1.0 / 3.0, 3),
            (0.2, 5),
            (0.05, 20),
            (0.075, 14),
            (1.0, 1),
        ] {
            assert_eq!(
                RiskThreshold::probability(t).unwrap().as_class_size(),
                k,
                "t = {t}"
            );
        }
        assert_eq!(
            RiskThreshold::class_size(11).unwrap().as_probability(),
            1.0 / 11.0
        );
        assert!(RiskThreshold::probability(0.0).is_err());
        assert!(RiskThreshold::probability(1.5).is_err());
        assert!(RiskThreshold::probability(f64::NAN).is_err());
        assert!(RiskThreshold::class_size(0).is_err());
        assert_eq!(
            RiskThreshold::probability(0.09).unwrap().to_string(),
            "0.09 (k = 12)"
        );
    }
}

//! sdcMicro's individual risk (Benedetti–Franconi), global risk and the
//! expected number of re-identifications ([§4.3](crate::methods#43-individual-risk-and-special-uniques)).

use serde::{Deserialize, Serialize};

/// The individual risk of a record in a key (class) of sample frequency
/// `f` whose estimated population frequency (sum of sampling weights) is
/// `weight_sum`, as sdcMicro's `indivRisk(method = "approx")` computes it.
///
/// # Formula
///
/// ```text
/// p = f / F̂
/// f = 1: r = p/(1−p) · ln(1/p)
/// f = 2: r = p/(1−p) − (p/(1−p))² · ln(1/p)
/// f > 2: r = p / (f − (1 − p))
/// F̂ ≤ f (a census, or no weights): r = 1/f
/// ```
///
/// # Citations
///
/// Benedetti & Franconi 1998; μ-Argus manual §2.3.4.1; sdcMicro `R/indivRisk.R`.
pub fn benedetti_franconi(f: u64, weight_sum: f64) -> f64 {
    let fs = f as f64;
    if weight_sum <= fs {
        return 1.0 / fs;
    }
    let p = fs / weight_sum;
    let odds = p / (1.0 - p);
    match f {
        0 => 0.0,
        1 => odds * (1.0 / p).ln(),
        2 => odds - odds * odds * (1.0 / p).ln(),
        _ => p / (fs - (1.0 - p)),
    }
}

/// Individual risk summarized over the released records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndividualRisk {
    /// Mean individual risk (sdcMicro's global risk).
    pub global_risk: f64,
    /// Expected number of re-identifications, Σ_records r.
    pub expected_reidentifications: f64,
    /// The largest individual risk.
    pub highest_risk: f64,
    /// Whether sampling weights were used (otherwise r = 1/f).
    pub weighted: bool,
}

impl IndividualRisk {
    /// From class sizes and, optionally, the sum of sampling weights per class.
    pub(crate) fn new(sizes: &[u64], weight_sums: Option<&[f64]>) -> IndividualRisk {
        let n: u64 = sizes.iter().sum();
        let mut expected = 0.0;
        let mut highest = 0.0f64;
        for (j, &f) in sizes.iter().enumerate() {
            let weight_sum = weight_sums.map_or(f as f64, |w| w[j]);
            let r = benedetti_franconi(f, weight_sum);
            expected += r * f as f64;
            highest = highest.max(r);
        }
        IndividualRisk {
            global_risk: if n == 0 { 0.0 } else { expected / n as f64 },
            expected_reidentifications: expected,
            highest_risk: highest,
            weighted: weight_sums.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdcmicro_test_vectors() {
        // Values computed from the formulas of [§4.3](crate::methods#43-individual-risk-and-special-uniques).
        for (f, weight_sum, expected) in [
            (1, 2.0, std::f64::consts::LN_2),
            (1, 10.0, 0.255843),
            (1, 100.0, 0.046517),
            (2, 4.0, 0.306853),
            (2, 20.0, 0.082684),
            (3, 30.0, 0.047619),
            (10, 100.0, 0.010989),
        ] {
            let r = benedetti_franconi(f, weight_sum);
            assert!(
                (r - expected).abs() < 5e-7,
                "f = {f}, F = {weight_sum}: {r}"
            );
        }
        assert_eq!(benedetti_franconi(4, 4.0), 0.25);
    }

    #[test]
    fn unweighted_global_risk_is_classes_over_records() {
        let risk = IndividualRisk::new(&[1, 2, 5], None);
        assert!((risk.expected_reidentifications - 3.0).abs() < 1e-12);
        assert!((risk.global_risk - 3.0 / 8.0).abs() < 1e-12);
        assert_eq!(risk.highest_risk, 1.0);
    }
}

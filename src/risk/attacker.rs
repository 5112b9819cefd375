//! Prosecutor, journalist and marketer re-identification risk ([§4.1](crate::methods#41-attacker-models)).

use serde::{Deserialize, Serialize};

/// The risk an attacker model assigns, over the released records.
///
/// # Formula
///
/// ```text
/// per record in class j: prosecutor 1/f_j, journalist 1/F_j
/// highest risk       = 1 / min_j size_j
/// lowest risk        = 1 / max_j size_j
/// records at risk    = (1/n) Σ_{j : 1/size_j > τ} f_j      (strict >)
/// success rate       = prosecutor: u/n; journalist: max(u/Σ_j F_j, (1/n) Σ_j f_j/F_j)
/// ```
///
/// with f_j the sample class sizes, F_j the population class sizes, u the
/// number of classes and n the number of released records (ARX
/// `risk/RiskModelSampleSummary.java`, El Emam & Dankar 2008).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackerRisk {
    /// Fraction of records whose individual risk exceeds the threshold.
    pub records_at_risk: f64,
    /// The largest individual risk.
    pub highest_risk: f64,
    /// The smallest individual risk.
    pub lowest_risk: f64,
    /// The expected fraction of records re-identified (average risk).
    pub success_rate: f64,
    /// Whether the highest risk is at most the threshold.
    pub passes: bool,
}

impl AttackerRisk {
    /// The risk of an attacker who links each record to a group of `groups[j]`
    /// candidates (its class in the sample, or in the population); `sizes` are
    /// the sample class sizes; `threshold` a probability.
    pub(crate) fn new(sizes: &[u64], groups: &[u64], threshold: f64) -> AttackerRisk {
        let n: u64 = sizes.iter().sum();
        if n == 0 {
            return AttackerRisk {
                records_at_risk: 0.0,
                highest_risk: 0.0,
                lowest_risk: 0.0,
                success_rate: 0.0,
                passes: true,
            };
        }
        let smallest = groups.iter().copied().min().unwrap_or(1).max(1);
        let largest = groups.iter().copied().max().unwrap_or(1).max(1);
        let at_risk: u64 = sizes
            .iter()
            .zip(groups)
            .filter(|&(_, &g)| 1.0 / g as f64 > threshold)
            .map(|(&f, _)| f)
            .sum();
        let u = sizes.len() as f64;
        let matches: f64 = sizes
            .iter()
            .zip(groups)
            .map(|(&f, &g)| f as f64 / g as f64)
            .sum::<f64>()
            / n as f64;
        let population: u64 = groups.iter().sum();
        let success_rate = if groups == sizes {
            u / n as f64
        } else {
            (u / population as f64).max(matches)
        };
        let highest_risk = 1.0 / smallest as f64;
        AttackerRisk {
            records_at_risk: at_risk as f64 / n as f64,
            highest_risk,
            lowest_risk: 1.0 / largest as f64,
            success_rate,
            passes: highest_risk <= threshold,
        }
    }
}

/// The marketer risk: the expected fraction of records an attacker who
/// links every record at once re-identifies, (1/n) Σ_j f_j/F_j (= u/n when
/// the attacker's database is the sample itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketerRisk {
    /// The expected fraction re-identified.
    pub success_rate: f64,
    /// Whether it is at most the threshold.
    pub passes: bool,
}

impl MarketerRisk {
    pub(crate) fn new(sizes: &[u64], groups: &[u64], threshold: f64) -> MarketerRisk {
        let n: u64 = sizes.iter().sum();
        let success_rate = if n == 0 {
            0.0
        } else {
            sizes
                .iter()
                .zip(groups)
                .map(|(&f, &g)| f as f64 / g as f64)
                .sum::<f64>()
                / n as f64
        };
        MarketerRisk {
            success_rate,
            passes: success_rate <= threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prosecutor_by_hand() {
        // Classes of sizes 1, 2, 5 (n = 8), threshold 0.2: records at risk are
        // those with 1/f > 0.2, i.e. f < 5: 3 of 8.
        let sizes = [1, 2, 5];
        let p = AttackerRisk::new(&sizes, &sizes, 0.2);
        assert_eq!(p.records_at_risk, 3.0 / 8.0);
        assert_eq!(p.highest_risk, 1.0);
        assert_eq!(p.lowest_risk, 0.2);
        assert_eq!(p.success_rate, 3.0 / 8.0);
        assert!(!p.passes);
        // Exactly at the threshold is not at risk (strict >).
        assert_eq!(
            AttackerRisk::new(&[5, 5], &[5, 5], 0.2).records_at_risk,
            0.0
        );
        assert!(AttackerRisk::new(&[5, 5], &[5, 5], 0.2).passes);
    }

    #[test]
    fn journalist_and_marketer_with_a_population() {
        // Population class sizes 4, 10, 10.
        let (sizes, population) = ([1, 2, 5], [4, 10, 10]);
        let j = AttackerRisk::new(&sizes, &population, 0.2);
        assert_eq!(j.highest_risk, 0.25);
        assert_eq!(j.records_at_risk, 1.0 / 8.0);
        let matches = (1.0 / 4.0 + 2.0 / 10.0 + 5.0 / 10.0) / 8.0;
        assert_eq!(j.success_rate, (3.0f64 / 24.0).max(matches));
        let m = MarketerRisk::new(&sizes, &population, 0.2);
        assert_eq!(m.success_rate, matches);
    }
}

//! Population uniqueness estimated from the sample (METHODS.md §4.2).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The population the sample was drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Population {
    /// The population size N (≥ the sample size).
    Size(u64),
    /// The sampling fraction f = n/N in (0, 1].
    SamplingFraction(f64),
}

impl Population {
    /// The population size for a sample of `n` records.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a size below `n` or a
    /// fraction outside (0, 1].
    pub fn size(self, n: u64) -> Result<f64> {
        match self {
            Population::Size(size) if size >= n && size > 0 => Ok(size as f64),
            Population::Size(size) => Err(Error::parameter(
                "population",
                format!("the population ({size}) must be at least the sample size ({n})"),
            )),
            Population::SamplingFraction(f) if f > 0.0 && f <= 1.0 => Ok(n as f64 / f),
            Population::SamplingFraction(f) => Err(Error::parameter(
                "sampling_fraction",
                format!("must be in (0, 1], got {f}"),
            )),
        }
    }
}

/// The Zayatz (1991) estimate of the number of population uniques, from the
/// sample's class-size histogram `histogram` (`(size, classes)` pairs), the
/// sample size `n` and the population size `population`.
///
/// # Formula
///
/// ```text
/// P(F=1 | f=1) = (c_1/u)·h(1; N, 1, n) / Σ_i (c_i/u)·h(1; N, i, n)
/// uniques      = c_1 · P(F=1 | f=1) / (n/N)
/// h(1; N, i, n) = i·C(N−i, n−1)/C(N, n) = i·(n/N)·Π_{j=1}^{i−1} (1 − (n−1)/(N−j))
/// ```
///
/// The hypergeometric terms are computed as products in log space
/// (`ln_1p`), so N in the hundreds of millions loses no precision (ARX
/// clamps N to 2³¹ − 1). 0 when there are no sample uniques.
///
/// # Citations
///
/// Zayatz, US Census Bureau SRD report, 1991; Dankar et al., BMC Med Inform
/// Decis Mak 12:66, 2012 (appendix); ARX `risk/ModelZayatz.java`.
pub fn zayatz(histogram: &[(u64, u64)], n: u64, population: f64) -> f64 {
    let c1 = histogram.iter().find(|e| e.0 == 1).map_or(0, |e| e.1);
    if c1 == 0 || n == 0 {
        return 0.0;
    }
    let (nf, big_n) = (n as f64, population);
    let max_size = histogram.iter().map(|e| e.0).max().unwrap_or(1);
    // ln h(1; N, i, n) for i = 1..=max_size, by the running product.
    let mut ln_h = Vec::with_capacity(max_size as usize);
    let mut ln_product = 0.0;
    for i in 1..=max_size {
        if i > 1 {
            // C(N−i, n−1) = 0 once fewer than n − 1 units remain unmarked.
            let ratio = (nf - 1.0) / (big_n - (i - 1) as f64);
            ln_product += if ratio >= 1.0 {
                f64::NEG_INFINITY
            } else {
                (-ratio).ln_1p()
            };
        }
        ln_h.push((i as f64).ln() + (nf / big_n).ln() + ln_product);
    }
    let h = |i: u64| ln_h[i as usize - 1].exp();
    let denominator: f64 = histogram.iter().map(|&(i, c)| c as f64 * h(i)).sum();
    if denominator == 0.0 {
        return 0.0;
    }
    let conditional = c1 as f64 * h(1) / denominator;
    c1 as f64 * conditional / (nf / big_n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn census_has_exactly_the_sample_uniques() {
        // N = n: a sample unique is a population unique.
        assert!((zayatz(&[(1, 7), (2, 3), (5, 1)], 18, 18.0) - 7.0).abs() < 1e-9);
        assert_eq!(zayatz(&[(2, 3)], 6, 60.0), 0.0);
    }

    #[test]
    fn hypergeometric_terms_by_hand() {
        // N = 10, n = 4, one class of size 1 and one of size 3:
        // h(1;10,1,4) = 4/10; h(1;10,3,4) = 3·C(7,3)/C(10,4) = 3·35/210 = 1/2.
        // P(F=1|f=1) = 0.4/(0.4 + 0.5); uniques = 1·P/(4/10) = 10/9.
        assert!((zayatz(&[(1, 1), (3, 1)], 4, 10.0) - 10.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn population_sizes() {
        assert_eq!(Population::Size(100).size(10).unwrap(), 100.0);
        assert_eq!(Population::SamplingFraction(0.1).size(10).unwrap(), 100.0);
        assert!(Population::Size(5).size(10).is_err());
        assert!(Population::SamplingFraction(0.0).size(10).is_err());
    }
}

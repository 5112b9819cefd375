//! Population uniqueness estimated from the sample (METHODS.md §4.2).

use serde::{Deserialize, Serialize};

use statrs::function::gamma::ln_gamma;

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

/// The Pitman-model estimate (Hoshino 2001) of the number of population
/// uniques, from the sample class-size histogram (`(size, classes)` pairs).
///
/// # Formula
///
/// (θ, α) maximize the likelihood of Pitman's sampling formula; they solve
///
/// ```text
/// Σ_{i=1}^{u−1} 1/(θ+iα) − Σ_{i=1}^{n−1} 1/(θ+i) = 0
/// Σ_{i=1}^{u−1} i/(θ+iα) − Σ_{j≥2} c_j Σ_{i=1}^{j−1} 1/(i−α) = 0
/// ```
///
/// found by two-dimensional Newton–Raphson from the moment guess
/// c = c_1(c_1−1)/c_2 (c_2 := 1 if 0), θ_0 = (n·u·c − c_1(n−1)(2u+c)) / (2c_1u + c_1c − n·c),
/// α_0 = (θ_0(c_1 − n) + (n−1)c_1)/(n·u). Estimated uniques:
/// exp(lnΓ(θ+1) − lnΓ(θ+α))·N^α.
///
/// `None` when there are no sample uniques (the estimate is then 0: see
/// [`pitman_or_zero`]), when the iteration does not converge to θ ≥ 0,
/// 0 < α < 1, or when the estimate falls outside [0, N] (as ARX rejects it).
///
/// # Citations
///
/// Hoshino, J. Official Statistics 17(4), 2001; ARX `risk/ModelPitman.java` (METHODS.md §4.2).
pub fn pitman(histogram: &[(u64, u64)], n: u64, population: f64) -> Option<f64> {
    let (theta, alpha) = pitman_parameters(histogram, n)?;
    let estimate =
        (ln_gamma(theta + 1.0) - ln_gamma(theta + alpha) + alpha * population.ln()).exp();
    (estimate.is_finite() && (0.0..=population).contains(&estimate)).then_some(estimate)
}

/// The maximum-likelihood (θ, α) of the Pitman sampling formula for the
/// sample class-size histogram; see [`pitman`]. `None` without sample
/// uniques or without convergence.
pub fn pitman_parameters(histogram: &[(u64, u64)], n: u64) -> Option<(f64, f64)> {
    let c1 = histogram.iter().find(|e| e.0 == 1).map_or(0, |e| e.1) as f64;
    let c2 = histogram.iter().find(|e| e.0 == 2).map_or(0, |e| e.1) as f64;
    let u: u64 = histogram.iter().map(|e| e.1).sum();
    if c1 == 0.0 || n < 2 || u < 2 {
        return None;
    }
    let (nf, uf) = (n as f64, u as f64);
    let c = c1 * (c1 - 1.0) / if c2 == 0.0 { 1.0 } else { c2 };
    let mut theta =
        (nf * uf * c - c1 * (nf - 1.0) * (2.0 * uf + c)) / (2.0 * c1 * uf + c1 * c - nf * c);
    let mut alpha = (theta * (c1 - nf) + (nf - 1.0) * c1) / (nf * uf);
    if !theta.is_finite() || !alpha.is_finite() {
        return None;
    }
    theta = theta.max(1e-6);
    alpha = alpha.clamp(1e-6, 1.0 - 1e-6);
    for _ in 0..500 {
        let (mut f1, mut f2) = (0.0, 0.0);
        let (mut d11, mut d12, mut d22) = (0.0, 0.0, 0.0);
        for i in 1..u {
            let i = i as f64;
            let x = 1.0 / (theta + i * alpha);
            f1 += x;
            f2 += i * x;
            d11 -= x * x;
            d12 -= i * x * x;
            d22 -= i * i * x * x;
        }
        for i in 1..n {
            let x = 1.0 / (theta + i as f64);
            f1 -= x;
            d11 += x * x;
        }
        for &(j, classes) in histogram.iter().filter(|e| e.0 >= 2) {
            let (mut s1, mut s2) = (0.0, 0.0);
            for i in 1..j {
                let x = 1.0 / (i as f64 - alpha);
                s1 += x;
                s2 += x * x;
            }
            f2 -= classes as f64 * s1;
            d22 -= classes as f64 * s2;
        }
        // Newton step on the 2×2 system (the Jacobian is symmetric).
        let det = d11 * d22 - d12 * d12;
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let step_theta = (f1 * d22 - f2 * d12) / det;
        let step_alpha = (f2 * d11 - f1 * d12) / det;
        let (mut next_theta, mut next_alpha) = (theta - step_theta, alpha - step_alpha);
        // Keep the iterate inside the parameter space by halving the step.
        let mut halvings = 0;
        while !(next_theta >= 0.0 && next_alpha > 0.0 && next_alpha < 1.0) && halvings < 60 {
            next_theta = (theta + next_theta) / 2.0;
            next_alpha = (alpha + next_alpha) / 2.0;
            halvings += 1;
        }
        let converged = (next_theta - theta).abs() <= 1e-10 * (1.0 + theta.abs())
            && (next_alpha - alpha).abs() <= 1e-12;
        theta = next_theta;
        alpha = next_alpha;
        if converged {
            return Some((theta, alpha));
        }
    }
    None
}

/// [`pitman`], with 0 when there are no sample uniques.
pub fn pitman_or_zero(histogram: &[(u64, u64)], n: u64, population: f64) -> Option<f64> {
    if histogram.iter().all(|e| e.0 != 1) {
        Some(0.0)
    } else {
        pitman(histogram, n, population)
    }
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

    /// The two score equations at (θ, α), computed directly.
    fn scores(histogram: &[(u64, u64)], n: u64, theta: f64, alpha: f64) -> (f64, f64) {
        let u: u64 = histogram.iter().map(|e| e.1).sum();
        let first = (1..u)
            .map(|i| 1.0 / (theta + i as f64 * alpha))
            .sum::<f64>()
            - (1..n).map(|i| 1.0 / (theta + i as f64)).sum::<f64>();
        let second = (1..u)
            .map(|i| i as f64 / (theta + i as f64 * alpha))
            .sum::<f64>()
            - histogram
                .iter()
                .map(|&(j, c)| c as f64 * (1..j).map(|i| 1.0 / (i as f64 - alpha)).sum::<f64>())
                .sum::<f64>();
        (first, second)
    }

    #[test]
    fn pitman_solves_its_score_equations() {
        // A long-tailed sample: 600 uniques, 150 pairs, 60 triples, 20 of size 5, 5 of size 20.
        let histogram = [(1, 600), (2, 150), (3, 60), (5, 20), (20, 5)];
        let n: u64 = histogram.iter().map(|e| e.0 * e.1).sum();
        let (theta, alpha) = pitman_parameters(&histogram, n).expect("converges");
        assert!(
            theta >= 0.0 && alpha > 0.0 && alpha < 1.0,
            "θ = {theta}, α = {alpha}"
        );
        let (first, second) = scores(&histogram, n, theta, alpha);
        assert!(
            first.abs() < 1e-9 && second.abs() < 1e-6,
            "{first} {second}"
        );
        let estimate = pitman(&histogram, n, 1e7).unwrap();
        assert!(estimate > 0.0 && estimate < 1e7);
        // More population, more population uniques.
        assert!(pitman(&histogram, n, 1e8).unwrap() > estimate);
        assert_eq!(pitman_or_zero(&[(2, 10)], 20, 1e6), Some(0.0));
        assert_eq!(pitman(&[(2, 10)], 20, 1e6), None);
    }

    #[test]
    fn population_sizes() {
        assert_eq!(Population::Size(100).size(10).unwrap(), 100.0);
        assert_eq!(Population::SamplingFraction(0.1).size(10).unwrap(), 100.0);
        assert!(Population::Size(5).size(10).is_err());
        assert!(Population::SamplingFraction(0.0).size(10).is_err());
    }
}

//! Test-only statistics for the noise tests (issue 21, "Tests that can
//! fail"): a reference distribution computed from its exact pmf, and the
//! checks every sampler and mechanism must pass against it — sample mean and
//! variance within a few standard errors of the calibrated ones, and a
//! Pearson χ² goodness-of-fit test whose tails are pooled into the end cells
//! (never dropped).
//!
//! Tolerances, fixed here for every noise test rather than per seed:
//!
//! - Mean and variance: within [`STANDARD_ERRORS`] = 5 standard errors of
//!   the estimate, computed from the reference's own second and fourth
//!   moments (Var(s²) ≈ (μ₄ − σ⁴)/n). The estimates are averages of at least
//!   10,000 draws from distributions with every moment finite, so they are
//!   close to normal: a correct sampler fails with probability about 6·10⁻⁷
//!   per check. Noise at half or double the scale moves the variance by a
//!   factor of about 4 (≥ 100 standard errors at these sample sizes).
//! - χ²: rejected at significance [`ALPHA`] = 0.001 for cells − 1 degrees of
//!   freedom (no parameter is estimated from the sample), every cell with an
//!   expected count of at least 5 (Cochran's rule), the critical value by
//!   the Wilson–Hilferty approximation ([`chi2_critical`]).

use statrs::distribution::{ContinuousCDF, Normal};

/// Significance of every χ² goodness-of-fit test.
pub(crate) const ALPHA: f64 = 0.001;

/// How many standard errors a sample mean or variance may be from the
/// calibrated value (see the module documentation).
pub(crate) const STANDARD_ERRORS: f64 = 5.0;

/// The smallest expected count of a χ² cell.
const MIN_EXPECTED: f64 = 5.0;

/// The upper-α quantile of χ² with `dof` degrees of freedom by the
/// Wilson–Hilferty approximation, dof·(1 − 2/(9 dof) + z_{1−α}·√(2/(9 dof)))³
/// (Wilson & Hilferty 1931). At α = 0.001 it lies above the exact quantile,
/// so the test is slightly conservative: by 3 % for 1 degree of freedom,
/// 0.6 % for 10 and under 0.3 % from 20 on (see the test against scipy's
/// values below).
pub(crate) fn chi2_critical(dof: usize, alpha: f64) -> f64 {
    assert!(dof > 0, "χ² needs at least one degree of freedom");
    let z = Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(1.0 - alpha);
    let k = dof as f64;
    let c = 2.0 / (9.0 * k);
    k * (1.0 - c + z * c.sqrt()).powi(3)
}

/// An integer-valued noise distribution, known exactly from its pmf.
pub(crate) struct Reference {
    /// What it is, for the failure messages.
    pub label: String,
    mean: f64,
    variance: f64,
    /// The fourth central moment μ₄.
    fourth: f64,
    /// P(Y ≤ y).
    cdf: Box<dyn Fn(i128) -> f64>,
    /// The natural unit of the distribution (its scale or σ), for the cells.
    unit: f64,
}

impl Reference {
    /// The discrete Laplace distribution with scale `t`,
    /// P(Y = y) = (1 − q)/(1 + q)·q^|y| with q = e^(−1/t), in closed form:
    /// Var = 2q/(1 − q)², E Y⁴ = 2q(1 + 11q + 11q² + q³)/((1 + q)(1 − q)⁴)
    /// (from Σ_{y≥1} y²q^y = q(1 + q)/(1 − q)³ and
    /// Σ_{y≥1} y⁴q^y = q(1 + 11q + 11q² + q³)/(1 − q)⁵),
    /// P(Y ≤ y) = q^(−y)/(1 + q) for y < 0 and 1 − q^(y+1)/(1 + q) for y ≥ 0.
    pub(crate) fn discrete_laplace(t: f64) -> Reference {
        assert!(t > 0.0 && t.is_finite());
        let q = (-1.0 / t).exp();
        let one_minus_q = -(-1.0 / t).exp_m1();
        let cdf = move |y: i128| {
            if y < 0 {
                (y as f64 / t).exp() / (1.0 + q)
            } else {
                1.0 - (-(y as f64 + 1.0) / t).exp() / (1.0 + q)
            }
        };
        Reference {
            label: format!("discrete Laplace, scale {t}"),
            mean: 0.0,
            variance: 2.0 * q / one_minus_q.powi(2),
            fourth: 2.0 * q * (1.0 + 11.0 * q + 11.0 * q * q + q * q * q)
                / ((1.0 + q) * one_minus_q.powi(4)),
            cdf: Box::new(cdf),
            unit: t,
        }
    }

    /// The discrete Gaussian with variance parameter `sigma2`,
    /// P(Y = y) ∝ exp(−y²/(2σ²)). For σ ≤ 10⁴ the pmf is summed numerically
    /// over |y| ≤ 40σ + 2 (the mass beyond is below e^(−800)) and the
    /// variance, fourth moment and cdf come from those sums (the variance is
    /// below σ² by a relative 2·10⁻⁷ at σ = 1 and 14 % at σ = 1/2). For
    /// larger σ the moments are σ² and 3σ⁴ (by Poisson summation they differ
    /// relatively by about 8π²σ²·e^(−2π²σ²), nothing in double precision) and
    /// P(Y ≤ y) = Φ((y + ½)/σ), the midpoint rule, whose error is below
    /// |f′|/24 ≤ 0.01/σ² < 10⁻¹⁰.
    pub(crate) fn discrete_gaussian(sigma2: f64) -> Reference {
        assert!(sigma2 > 0.0 && sigma2.is_finite());
        let sigma = sigma2.sqrt();
        let label = format!("discrete Gaussian, σ² = {sigma2}");
        if sigma > 1e4 {
            let normal = Normal::new(0.0, sigma).expect("σ > 0");
            return Reference {
                label,
                mean: 0.0,
                variance: sigma2,
                fourth: 3.0 * sigma2 * sigma2,
                cdf: Box::new(move |y| normal.cdf(y as f64 + 0.5)),
                unit: sigma,
            };
        }
        let w = (40.0 * sigma).ceil() as i128 + 2;
        let weights: Vec<f64> = (-w..=w)
            .map(|y| (-((y * y) as f64) / (2.0 * sigma2)).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        let (mut variance, mut fourth) = (0.0, 0.0);
        let mut prefix = Vec::with_capacity(weights.len());
        let mut acc = 0.0;
        for (i, p) in weights.iter().map(|x| x / total).enumerate() {
            let y = (i as i128 - w) as f64;
            variance += y * y * p;
            fourth += y.powi(4) * p;
            acc += p;
            prefix.push(acc);
        }
        let cdf = move |y: i128| {
            if y < -w {
                0.0
            } else if y >= w {
                1.0
            } else {
                prefix[(y + w) as usize]
            }
        };
        Reference {
            label,
            mean: 0.0,
            variance,
            fourth,
            cdf: Box::new(cdf),
            unit: sigma,
        }
    }

    /// The sample mean within [`STANDARD_ERRORS`] standard errors √(Var/n)
    /// of the mean.
    pub(crate) fn check_mean(&self, samples: &[i128]) -> Result<(), String> {
        let n = samples.len() as f64;
        let mean = samples.iter().map(|&z| z as f64).sum::<f64>() / n;
        let se = (self.variance / n).sqrt();
        if (mean - self.mean).abs() <= STANDARD_ERRORS * se {
            Ok(())
        } else {
            Err(format!(
                "{}: sample mean {mean} is not within {STANDARD_ERRORS} standard errors \
                 ({se}) of {} ({} draws)",
                self.label,
                self.mean,
                samples.len()
            ))
        }
    }

    /// The sample variance s² within [`STANDARD_ERRORS`] standard errors
    /// √((μ₄ − σ⁴(n − 3)/(n − 1))/n) of the exact variance σ².
    pub(crate) fn check_variance(&self, samples: &[i128]) -> Result<(), String> {
        let n = samples.len() as f64;
        let mean = samples.iter().map(|&z| z as f64).sum::<f64>() / n;
        let s2 = samples
            .iter()
            .map(|&z| (z as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        let v = self.variance;
        let se = ((self.fourth - v * v * (n - 3.0) / (n - 1.0)) / n).sqrt();
        if (s2 - v).abs() <= STANDARD_ERRORS * se {
            Ok(())
        } else {
            Err(format!(
                "{}: sample variance {s2} is not within {STANDARD_ERRORS} standard errors \
                 ({se}) of the calibrated variance {v} (ratio {:.4}, {} draws)",
                self.label,
                s2 / v,
                samples.len()
            ))
        }
    }

    /// The χ² cells for `draws` samples: candidate boundaries every tenth
    /// of the distribution's unit out to 12 units (so every integer when the
    /// unit is at most 10), merged from the left until each cell expects at
    /// least 5 draws; the first cell is (−∞, u₀] and the last (u_m, ∞), so
    /// the tails are pooled into the end cells, never dropped. Returns the
    /// cells' upper bounds (the last is `i128::MAX`) and probabilities.
    fn cells(&self, draws: usize) -> (Vec<i128>, Vec<f64>) {
        let n = draws as f64;
        let mut bounds: Vec<i128> = (-120..=120)
            .map(|i| (f64::from(i) * 0.1 * self.unit).round() as i128)
            .collect();
        bounds.dedup();
        let (mut uppers, mut probs) = (Vec::new(), Vec::new());
        let mut below = 0.0; // P(Y ≤ the last closed cell's upper bound)
        for b in bounds {
            let c = (self.cdf)(b);
            if (c - below) * n >= MIN_EXPECTED {
                uppers.push(b);
                probs.push(c - below);
                below = c;
            }
        }
        // The right tail: its own cell, or pooled into the last one.
        let tail = 1.0 - below;
        if tail * n >= MIN_EXPECTED || probs.is_empty() {
            uppers.push(i128::MAX);
            probs.push(tail);
        } else {
            *uppers.last_mut().expect("a cell") = i128::MAX;
            *probs.last_mut().expect("a cell") += tail;
        }
        (uppers, probs)
    }

    /// Pearson's χ² of the samples over the pooled cells of
    /// [`Reference::cells`], against the critical value at [`ALPHA`].
    pub(crate) fn check_fit(&self, samples: &[i128]) -> Result<(), String> {
        let n = samples.len();
        let (uppers, probs) = self.cells(n);
        assert!(
            uppers.len() >= 2,
            "{}: too few draws for two cells",
            self.label
        );
        assert!(
            probs.iter().all(|p| p * n as f64 >= MIN_EXPECTED),
            "every cell expects at least {MIN_EXPECTED} draws"
        );
        let mut observed = vec![0u64; uppers.len()];
        for &z in samples {
            observed[uppers.partition_point(|&u| u < z)] += 1;
        }
        let chi2: f64 = observed
            .iter()
            .zip(&probs)
            .map(|(&o, &p)| {
                let e = p * n as f64;
                (o as f64 - e).powi(2) / e
            })
            .sum();
        let dof = uppers.len() - 1;
        let critical = chi2_critical(dof, ALPHA);
        if chi2 < critical {
            Ok(())
        } else {
            Err(format!(
                "{}: χ² = {chi2:.1} over {} cells exceeds {critical:.1}, the critical value \
                 at α = {ALPHA} for {dof} degrees of freedom ({n} draws)",
                self.label,
                uppers.len()
            ))
        }
    }

    /// The same distribution, its failure messages prefixed by `what` (the
    /// mechanism and its parameters).
    pub(crate) fn of(mut self, what: impl std::fmt::Display) -> Reference {
        self.label = format!("{what}: {}", self.label);
        self
    }

    /// Panics, naming every failed check, unless the samples pass the mean,
    /// variance and χ² checks.
    #[track_caller]
    pub(crate) fn assert_fits(&self, samples: &[i128]) {
        let failures: Vec<String> = [
            self.check_mean(samples),
            self.check_variance(samples),
            self.check_fit(samples),
        ]
        .into_iter()
        .filter_map(std::result::Result::err)
        .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::discrete::{Rational, discrete_gaussian, discrete_laplace};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn wilson_hilferty_is_close_to_the_exact_quantiles() {
        // Upper 0.001 quantiles of χ², scipy 1.17.1 `chi2.ppf(0.999, k)`
        // (computed 2026-12-03, independently of this crate).
        for (dof, exact) in [
            (1, 10.827566170662733),
            (3, 16.26623619623813),
            (10, 29.58829844507442),
            (30, 59.70306430442994),
            (100, 149.44925277903886),
            (200, 267.5405278227572),
        ] {
            let approx = chi2_critical(dof, 0.001);
            let rel = (approx - exact) / exact;
            assert!(
                (0.0..0.031).contains(&rel) && (dof < 10 || rel < 0.006),
                "dof {dof}: {approx} vs {exact}"
            );
        }
    }

    #[test]
    fn the_moments_are_the_closed_forms() {
        // The numeric discrete Gaussian's variance against sums by mpmath
        // 1.3.0 at 40 digits over |y| ≤ 60 (2026-12-03): below σ² by 2·10⁻⁷
        // at σ = 1, visibly below it at σ = 1/2. The closed-form discrete
        // Laplace agrees with a direct sum of its pmf.
        let g = Reference::discrete_gaussian(1.0);
        assert!(
            (g.variance - 0.999_999_788_767_728).abs() < 1e-12,
            "{}",
            g.variance
        );
        let g = Reference::discrete_gaussian(0.25);
        // Σ y²e^(−2y²)/Σ e^(−2y²) = 0.2150126750881…
        assert!(
            (g.variance - 0.215_012_675_088).abs() < 1e-11,
            "{}",
            g.variance
        );
        for t in [0.5, 3.0, 40.0] {
            let l = Reference::discrete_laplace(t);
            let q = (-1.0f64 / t).exp();
            let pmf = |y: i64| (1.0 - q) / (1.0 + q) * q.powi(y.abs() as i32);
            let range = -(200.0 * t) as i64..=(200.0 * t) as i64;
            let v: f64 = range.clone().map(|y| (y * y) as f64 * pmf(y)).sum();
            let m4: f64 = range.map(|y| (y as f64).powi(4) * pmf(y)).sum();
            assert!((l.variance / v - 1.0).abs() < 1e-9, "t = {t}");
            assert!((l.fourth / m4 - 1.0).abs() < 1e-9, "t = {t}");
            assert!(((l.cdf)(2) - (l.cdf)(1) - pmf(2)).abs() < 1e-12);
        }
    }

    /// The checks have power: draws at half or double the scale, or no
    /// noise at all, fail both the variance and the χ² check against the
    /// nominal distribution.
    #[test]
    fn the_checks_reject_the_wrong_scale() {
        let mut rng = StdRng::seed_from_u64(31);
        let draws = 10_000;
        let laplace = |rng: &mut StdRng, num: u128, den: u128| -> Vec<i128> {
            (0..draws)
                .map(|_| discrete_laplace(rng, Rational { num, den }).unwrap())
                .collect()
        };
        let reference = Reference::discrete_laplace(4.0);
        let right = laplace(&mut rng, 4, 1);
        reference.assert_fits(&right);
        for wrong in [
            laplace(&mut rng, 2, 1),
            laplace(&mut rng, 8, 1),
            vec![0; draws],
        ] {
            assert!(reference.check_variance(&wrong).is_err());
            assert!(reference.check_fit(&wrong).is_err());
        }
        let gaussian = |rng: &mut StdRng, num: u128| -> Vec<i128> {
            (0..draws)
                .map(|_| discrete_gaussian(rng, Rational { num, den: 1 }).unwrap())
                .collect()
        };
        let reference = Reference::discrete_gaussian(16.0);
        reference.assert_fits(&gaussian(&mut rng, 16));
        for wrong in [
            gaussian(&mut rng, 4),
            gaussian(&mut rng, 64),
            vec![0; draws],
        ] {
            assert!(reference.check_variance(&wrong).is_err());
            assert!(reference.check_fit(&wrong).is_err());
        }
    }
}

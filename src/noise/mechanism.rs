//! Differential privacy mechanisms for counts on the exact samplers, with a
//! budget accountant ([§8.1](crate::methods#81-mechanisms)).

use rand::Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{Error, Result};
use crate::noise::discrete::{Rational, discrete_gaussian, discrete_laplace};
use crate::noise::zcdp::{gaussian_sigma2, rho_for};

/// The exact rational value of a positive finite `f64` (its binary expansion).
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for values that are not positive
/// and finite, or whose exact form does not fit 128 bits.
pub(crate) fn exact_rational(x: f64) -> Result<Rational> {
    if !(x.is_finite() && x > 0.0) {
        return Err(Error::parameter(
            "value",
            format!("{x} is not a positive finite number"),
        ));
    }
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let mantissa = if exponent == 0 {
        (bits & ((1 << 52) - 1)) << 1
    } else {
        (bits & ((1 << 52) - 1)) | (1 << 52)
    };
    // x = mantissa · 2^(exponent − 1075)
    let shift = exponent - 1075;
    let (mut num, mut den) = (u128::from(mantissa), 1u128);
    if shift >= 0 {
        num = num
            .checked_shl(shift as u32)
            .filter(|v| v >> shift == u128::from(mantissa))
            .ok_or_else(|| {
                Error::parameter("value", format!("{x} is too large for exact arithmetic"))
            })?;
    } else if -shift < 127 {
        den <<= -shift;
    } else {
        return Err(Error::parameter(
            "value",
            format!("{x} is too small for exact arithmetic"),
        ));
    }
    let g = gcd(num, den);
    Rational::new(num / g, den / g)
}

/// The greatest common divisor.
pub(crate) fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A privacy budget ε that refuses to be overspent (pure ε-DP basic
/// composition). Amounts are compared exactly, as the rationals the `f64`
/// values denote, while 128-bit arithmetic suffices, and otherwise with a
/// conservative margin; so 0.1 + 0.2 does not fit in 0.3 (in binary it exceeds it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrivacyBudget {
    total: f64,
    spent: Vec<f64>,
}

impl PrivacyBudget {
    /// A budget of `epsilon`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for ε ≤ 0 or not finite.
    pub fn new(epsilon: f64) -> Result<PrivacyBudget> {
        exact_rational(epsilon)?;
        Ok(PrivacyBudget {
            total: epsilon,
            spent: Vec::new(),
        })
    }

    /// ε spent so far (each spend recorded).
    pub fn spent(&self) -> &[f64] {
        &self.spent
    }

    /// The total budget.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Spends `epsilon`, or refuses (nothing spent) when the total would be exceeded.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for ε ≤ 0 and for overspending.
    pub fn spend(&mut self, epsilon: f64) -> Result<()> {
        let amount = exact_rational(epsilon)?;
        let fits = match self.exact_fit(amount) {
            Some(fits) => fits,
            // Beyond 128-bit exact arithmetic: a conservative float check
            // (the sum must stay below the total by a relative margin).
            None => {
                let sum: f64 = self.spent.iter().sum::<f64>() + epsilon;
                sum * (1.0 + 1e-12) <= self.total
            }
        };
        if !fits {
            return Err(Error::parameter(
                "epsilon",
                format!(
                    "spending {epsilon} would exceed the budget of {} (already spent {:?})",
                    self.total, self.spent
                ),
            ));
        }
        self.spent.push(epsilon);
        Ok(())
    }

    /// Σ spent + amount ≤ total in exact rationals; `None` on overflow.
    fn exact_fit(&self, amount: Rational) -> Option<bool> {
        let mut sum = amount;
        for &s in &self.spent {
            sum = add(sum, exact_rational(s).ok()?).ok()?;
        }
        let total = exact_rational(self.total).ok()?;
        Some(sum.num.checked_mul(total.den)? <= total.num.checked_mul(sum.den)?)
    }
}

fn add(a: Rational, b: Rational) -> Result<Rational> {
    let overflow = || Error::parameter("epsilon", "budget arithmetic overflow");
    // Over the least common denominator (binary fractions share powers of two).
    let g = gcd(a.den, b.den);
    let den = (a.den / g).checked_mul(b.den).ok_or_else(overflow)?;
    let num = a
        .num
        .checked_mul(den / a.den)
        .and_then(|x| {
            b.num
                .checked_mul(den / b.den)
                .and_then(|y| x.checked_add(y))
        })
        .ok_or_else(overflow)?;
    let g = gcd(num, den);
    Rational::new(num / g, den / g)
}

/// A count released with ε-DP: value + discrete Laplace noise of scale
/// Δ/ε (Ghosh, Roughgarden & Sundararajan 2009), sampled exactly. Spends ε.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for ε ≤ 0, Δ = 0, or an exhausted budget.
pub fn laplace_count<R: Rng + ?Sized>(
    rng: &mut R,
    value: i64,
    sensitivity: u64,
    epsilon: f64,
    budget: &mut PrivacyBudget,
) -> Result<i64> {
    if sensitivity == 0 {
        return Err(Error::parameter("sensitivity", "must be positive"));
    }
    let e = exact_rational(epsilon)?;
    let num = u128::from(sensitivity)
        .checked_mul(e.den)
        .ok_or_else(|| Error::parameter("epsilon", "too fine"))?;
    let scale = Rational::new(num, e.num)?;
    budget.spend(epsilon)?;
    let noise = discrete_laplace(rng, scale)?;
    i64::try_from(i128::from(value) + noise)
        .map_err(|_| Error::parameter("value", "noisy count overflows"))
}

/// The smallest σ for which the Gaussian mechanism N(0, σ²) with L2
/// sensitivity Δ is (ε, δ)-DP, by Balle & Wang's analytic condition
/// Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ) ≤ δ (doubling, then bisection to
/// relative precision 1e-12, rounded up). Valid for every ε > 0.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for ε ≤ 0, δ outside (0, 1) or Δ ≤ 0,
/// and for ε and δ so small that σ overflows.
pub fn analytic_gaussian_sigma(epsilon: f64, delta: f64, sensitivity: f64) -> Result<f64> {
    if !(epsilon > 0.0 && epsilon.is_finite()) {
        return Err(Error::parameter(
            "epsilon",
            format!("must be positive, got {epsilon}"),
        ));
    }
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::parameter(
            "delta",
            format!("must be in (0, 1), got {delta}"),
        ));
    }
    if !(sensitivity > 0.0 && sensitivity.is_finite()) {
        return Err(Error::parameter(
            "sensitivity",
            format!("must be positive, got {sensitivity}"),
        ));
    }
    let phi = Normal::new(0.0, 1.0).expect("standard normal");
    // In units of the sensitivity, r = σ/Δ, so that no intermediate
    // overflows for any finite Δ.
    let leak = |r: f64| {
        let (a, b) = (0.5 / r, epsilon * r);
        phi.cdf(a - b) - epsilon.exp() * phi.cdf(-a - b)
    };
    let unbounded = || {
        Error::parameter(
            "epsilon",
            format!(
                "ε = {epsilon}, δ = {delta} and Δ = {sensitivity} need a σ beyond floating point"
            ),
        )
    };
    let mut hi = 1.0f64;
    while leak(hi) > delta {
        hi *= 2.0;
        if !hi.is_finite() {
            return Err(unbounded());
        }
    }
    let mut lo = hi / 2.0;
    if leak(lo) <= delta {
        lo = 0.0;
    }
    while hi - lo > 1e-12 * hi {
        let mid = (lo + hi) / 2.0;
        if leak(mid) > delta {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let sigma = hi * sensitivity;
    if sigma.is_finite() {
        Ok(sigma)
    } else {
        Err(unbounded())
    }
}

/// A count released with (ε, δ)-DP by the discrete Gaussian, sampled exactly.
/// σ² is calibrated through zero-concentrated DP, which the discrete
/// Gaussian satisfies exactly with ρ = Δ²/(2σ²) (Canonne, Kamath & Steinke
/// 2020), converted by ε = ρ + 2√(ρ ln(1/δ)) (Bun & Steinke 2016):
/// ρ = (√(ln(1/δ) + ε) − √(ln(1/δ)))²; σ² is rounded up to a multiple of
/// 2⁻²⁰ (more noise, still private). Spends ε from `budget`.
///
/// # Errors
///
/// As [`laplace_count`], and for δ outside (0, 1).
pub fn gaussian_count<R: Rng + ?Sized>(
    rng: &mut R,
    value: i64,
    sensitivity: u64,
    epsilon: f64,
    delta: f64,
    budget: &mut PrivacyBudget,
) -> Result<i64> {
    exact_rational(epsilon)?;
    let sigma2 = gaussian_sigma2(sensitivity, rho_for(epsilon, delta)?)?;
    budget.spend(epsilon)?;
    let noise = discrete_gaussian(rng, sigma2)?;
    i64::try_from(i128::from(value) + noise)
        .map_err(|_| Error::parameter("value", "noisy count overflows"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::fit::Reference;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn exact_rationals() {
        assert_eq!(exact_rational(0.5).unwrap(), Rational { num: 1, den: 2 });
        assert_eq!(exact_rational(3.0).unwrap(), Rational { num: 3, den: 1 });
        assert_eq!(
            exact_rational(0.1).unwrap(),
            Rational {
                num: 3602879701896397,
                den: 36028797018963968
            }
        );
        assert!(
            exact_rational(0.0).is_err()
                && exact_rational(-1.0).is_err()
                && exact_rational(f64::NAN).is_err()
        );
    }

    #[test]
    fn an_unbounded_sigma_is_an_error() {
        let e = analytic_gaussian_sigma(1e-3, 1e-10, 1e308).unwrap_err();
        assert!(e.to_string().contains("beyond floating point"), "{e}");
        assert!(analytic_gaussian_sigma(1.0, 1e-6, 1.0).unwrap().is_finite());
    }

    #[test]
    fn the_budget_refuses_to_overspend() {
        let mut budget = PrivacyBudget::new(1.0).unwrap();
        budget.spend(0.5).unwrap();
        budget.spend(0.25).unwrap();
        budget.spend(0.25).unwrap();
        assert!(budget.spend(1e-9).is_err());
        assert_eq!(budget.spent(), &[0.5, 0.25, 0.25]);
        // 0.1 + 0.2 > 0.3 in binary: exact comparison, no rounding slack.
        let mut budget = PrivacyBudget::new(0.3).unwrap();
        budget.spend(0.1).unwrap();
        assert!(budget.spend(0.2).is_err());
        assert!(PrivacyBudget::new(0.0).is_err());
        // Tiny amounts stay exact (no overflow of the common denominator).
        let mut tiny = PrivacyBudget::new(1e-6).unwrap();
        for _ in 0..1000 {
            tiny.spend(1e-10).unwrap();
        }
        assert!(budget.spend(-0.1).is_err());
    }

    /// σ² of the discrete Gaussian that `gaussian_count` must use for
    /// (ε, δ) and sensitivity Δ, written independently of it: ρ solves
    /// Bun & Steinke's (2016, Prop. 1.3) conversion ε = ρ + 2√(ρ ln(1/δ)),
    /// found here by bisection rather than by the closed form the code uses,
    /// and σ² = Δ²/(2ρ) (the discrete Gaussian is ρ-zCDP for that σ², CKS20
    /// Theorem 4).
    fn zcdp_sigma2(epsilon: f64, delta: f64, sensitivity: f64) -> f64 {
        let l = (1.0 / delta).ln();
        let (mut lo, mut hi) = (0.0f64, epsilon);
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if mid + 2.0 * (mid * l).sqrt() > epsilon {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        sensitivity * sensitivity / (2.0 * lo)
    }

    /// The exact δ at ε of the discrete Gaussian N_Z(0, σ²) for an integer
    /// sensitivity Δ, from the definition of (ε, δ)-DP: the hockey-stick
    /// divergence Σ_y max(0, P(y) − e^ε·P(y − Δ)) between N_Z(0, σ²) and its
    /// shift by Δ (symmetric in the sign of the shift; CKS20 Theorem 7 gives
    /// the same quantity in closed form).
    fn discrete_gaussian_delta(sigma2: f64, epsilon: f64, sensitivity: i64) -> f64 {
        let w = (40.0 * sigma2.sqrt()).ceil() as i64 + sensitivity + 2;
        let weight = |y: i64| (-((y * y) as f64) / (2.0 * sigma2)).exp();
        let total: f64 = (-w..=w).map(weight).sum();
        (-w..=w)
            .map(|y| (weight(y) - epsilon.exp() * weight(y - sensitivity)).max(0.0) / total)
            .sum()
    }

    /// `laplace_count` adds discrete Laplace noise of scale Δ/ε: mean,
    /// variance 2e^(−ε/Δ)/(1 − e^(−ε/Δ))² within 5 standard errors and a
    /// pooled-tail χ² at α = 0.001 (`crate::noise::fit`), for sensitivities
    /// other than 1 and ε that are not reciprocals of integers.
    #[test]
    fn laplace_count_noise_has_scale_sensitivity_over_epsilon() {
        let mut rng = StdRng::seed_from_u64(11);
        let draws = 15_000;
        for (value, sensitivity, epsilon) in [(100i64, 1u64, 0.5), (-7, 3, 0.75), (0, 2, 0.1)] {
            let noise: Vec<i128> = (0..draws)
                .map(|_| {
                    let mut budget = PrivacyBudget::new(epsilon).unwrap();
                    let v = laplace_count(&mut rng, value, sensitivity, epsilon, &mut budget);
                    i128::from(v.unwrap() - value)
                })
                .collect();
            Reference::discrete_laplace(sensitivity as f64 / epsilon)
                .of(format_args!(
                    "laplace_count(Δ = {sensitivity}, ε = {epsilon})"
                ))
                .assert_fits(&noise);
        }
    }

    /// `gaussian_count` adds discrete Gaussian noise with the zCDP-calibrated
    /// σ² = Δ²/(2ρ) (its documented calibration: it does not use
    /// [`analytic_gaussian_sigma`], which is for the continuous Gaussian):
    /// the figures are pinned, the samples' mean, variance and pmf are
    /// checked against them, and that σ² is shown (ε, δ)-DP by the exact
    /// δ of the discrete Gaussian, while a quarter of it (half the σ) is not.
    #[test]
    fn gaussian_count_noise_has_the_zcdp_calibrated_variance() {
        let mut rng = StdRng::seed_from_u64(12);
        let draws = 10_000;
        // σ² = Δ²/(2ρ) with ρ from ε = ρ + 2√(ρ ln(1/δ)), by mpmath 1.3.0
        // bisection at 50 digits (2026-12-03), independently of this crate,
        // written as the nearest `f64`.
        for (value, sensitivity, epsilon, delta, sigma2) in [
            (100i64, 1u64, 0.5, 1e-5, 94.09277591130028),
            (-3, 2, 1.0, 1e-6, 114.48914665417595),
            (0, 3, 2.0, 1e-3, 35.442059992631775),
        ] {
            let independent = zcdp_sigma2(epsilon, delta, sensitivity as f64);
            assert!((independent / sigma2 - 1.0).abs() < 1e-9, "{independent}");
            let private = discrete_gaussian_delta(sigma2, epsilon, sensitivity as i64);
            let half_sigma = discrete_gaussian_delta(sigma2 / 4.0, epsilon, sensitivity as i64);
            assert!(
                private <= delta && half_sigma > delta,
                "{private}, {half_sigma}"
            );
            let noise: Vec<i128> = (0..draws)
                .map(|_| {
                    let mut budget = PrivacyBudget::new(epsilon).unwrap();
                    let v =
                        gaussian_count(&mut rng, value, sensitivity, epsilon, delta, &mut budget);
                    i128::from(v.unwrap() - value)
                })
                .collect();
            // The code rounds σ² up to a multiple of 2⁻²⁰: a relative change
            // below 10⁻⁸, far inside the variance tolerance.
            Reference::discrete_gaussian(sigma2)
                .of(format_args!(
                    "gaussian_count(Δ = {sensitivity}, ε = {epsilon}, δ = {delta})"
                ))
                .assert_fits(&noise);
        }
    }

    #[test]
    fn mechanisms_spend_and_add_noise() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut budget = PrivacyBudget::new(2.0).unwrap();
        // 1000 counts at ε = 10⁻³ (spending 1.0): discrete Laplace noise of
        // scale 1000. With 1000 draws the variance check's standard error is
        // √(5/1000) ≈ 7 % of the variance, so half or double the scale
        // (a quarter or 4 times the variance) or no noise fails it.
        let noise: Vec<i128> = (0..1000)
            .map(|_| i128::from(laplace_count(&mut rng, 100, 1, 1e-3, &mut budget).unwrap() - 100))
            .collect();
        let reference = Reference::discrete_laplace(1000.0).of("laplace_count(Δ = 1, ε = 0.001)");
        reference.check_variance(&noise).unwrap();
        reference.check_fit(&noise).unwrap();
        // 500 Gaussian counts at ε = 10⁻³, δ = 10⁻⁵ (spending 0.5):
        // σ² = 1/(2ρ) = 23026850.919083565 (mpmath 1.3.0, 50 digits,
        // 2026-12-03, as in `gaussian_count_noise_has_the_zcdp_calibrated_variance`);
        // the variance's standard error is √(2/500) ≈ 6 %.
        let noise: Vec<i128> = (0..500)
            .map(|_| {
                let g = gaussian_count(&mut rng, 100, 1, 1e-3, 1e-5, &mut budget).unwrap();
                i128::from(g - 100)
            })
            .collect();
        let reference = Reference::discrete_gaussian(23026850.919083565)
            .of("gaussian_count(Δ = 1, ε = 0.001, δ = 1e-5)");
        reference.check_variance(&noise).unwrap();
        reference.check_fit(&noise).unwrap();
        assert!(
            laplace_count(&mut rng, 1, 1, 1.0, &mut budget).is_err(),
            "budget exhausted"
        );
        assert!(laplace_count(&mut rng, 1, 0, 0.1, &mut PrivacyBudget::new(1.0).unwrap()).is_err());
        assert!(
            gaussian_count(
                &mut rng,
                1,
                1,
                0.1,
                0.0,
                &mut PrivacyBudget::new(1.0).unwrap()
            )
            .is_err()
        );
    }

    /// `analytic_gaussian_sigma` against figures computed independently:
    /// bisection (200 halvings) of Balle & Wang's condition
    /// Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ) = δ with mpmath 1.3.0 at 50
    /// significant digits (`mpmath.ncdf`), 2026-12-03, written as the nearest
    /// `f64`. The code bisects to a
    /// relative 10⁻¹² and rounds up, in double precision: agreement to a
    /// relative 10⁻⁹ leaves room for the double-precision Φ and e^ε, and
    /// catches any miscalibration (half or double σ, a wrong Δ or ε).
    #[test]
    fn analytic_gaussian_sigma_matches_independent_figures() {
        for (epsilon, delta, sensitivity, sigma) in [
            (0.1, 1e-5, 1.0, 30.74956613197745),
            (0.5, 1e-5, 1.0, 7.031826675582491),
            (1.0, 1e-5, 1.0, 3.730631634815942),
            (5.0, 1e-6, 1.0, 0.9800490003092099),
            (0.01, 1e-10, 1.0, 501.29213292600074),
            (2.0, 1e-3, 1.0, 1.4452391609297835),
            (3.0, 1e-9, 1.0, 1.9437242635119693),
            (0.5, 1e-5, 2.5, 17.57956668895623),
        ] {
            let got = analytic_gaussian_sigma(epsilon, delta, sensitivity).unwrap();
            assert!(
                (got / sigma - 1.0).abs() < 1e-9,
                "ε = {epsilon}, δ = {delta}, Δ = {sensitivity}: σ = {got}, expected {sigma}"
            );
        }
    }

    #[test]
    fn analytic_gaussian_meets_its_condition_tightly() {
        let phi = Normal::new(0.0, 1.0).unwrap();
        for (eps, delta) in [(0.1, 1e-5), (1.0, 1e-5), (5.0, 1e-6)] {
            let sigma = analytic_gaussian_sigma(eps, delta, 1.0).unwrap();
            let leak = |s: f64| {
                phi.cdf(1.0 / (2.0 * s) - eps * s) - eps.exp() * phi.cdf(-1.0 / (2.0 * s) - eps * s)
            };
            assert!(leak(sigma) <= delta);
            assert!(
                leak(sigma * (1.0 - 1e-6)) > delta,
                "ε = {eps}: not the smallest σ"
            );
            // Tighter than the classical bound √(2 ln(1.25/δ))/ε where that applies (ε < 1).
            if eps < 1.0 {
                assert!(sigma < (2.0 * (1.25f64 / delta).ln()).sqrt() / eps);
            }
        }
        assert!(analytic_gaussian_sigma(0.0, 1e-5, 1.0).is_err());
        assert!(analytic_gaussian_sigma(1.0, 0.0, 1.0).is_err());
        assert!(analytic_gaussian_sigma(1.0, 1e-5, -1.0).is_err());
    }
}

//! Zero-concentrated differential privacy ([§8.1](crate::methods#81-mechanisms)):
//! a ρ budget, its conversion to and from (ε, δ), and histograms released
//! with exact discrete Gaussian noise (the measurements of marginal-based
//! synthesizers such as MST).

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::noise::discrete::{Rational, discrete_gaussian};
use crate::noise::mechanism::PrivacyBudget;

fn check_delta(delta: f64) -> Result<f64> {
    if delta > 0.0 && delta < 1.0 {
        Ok((1.0 / delta).ln())
    } else {
        Err(Error::parameter(
            "delta",
            format!("δ must be in (0, 1), got {delta}"),
        ))
    }
}

/// The largest ρ whose ρ-zCDP implies (ε, δ)-DP by Bun and Steinke's
/// conversion ε = ρ + 2√(ρ ln(1/δ)) (2016, Proposition 1.3):
/// ρ = (√(ln(1/δ) + ε) − √(ln(1/δ)))².
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for ε not positive and finite or
/// δ outside (0, 1).
pub fn rho_for(epsilon: f64, delta: f64) -> Result<f64> {
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(Error::parameter(
            "epsilon",
            format!("ε must be positive and finite, got {epsilon}"),
        ));
    }
    let l = check_delta(delta)?;
    Ok(((l + epsilon).sqrt() - l.sqrt()).powi(2))
}

/// The ε that ρ-zCDP implies at δ: ρ + 2√(ρ ln(1/δ)).
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for ρ not positive and finite or
/// δ outside (0, 1).
pub fn epsilon_for(rho: f64, delta: f64) -> Result<f64> {
    if !(rho.is_finite() && rho > 0.0) {
        return Err(Error::parameter(
            "rho",
            format!("ρ must be positive and finite, got {rho}"),
        ));
    }
    let l = check_delta(delta)?;
    Ok(rho + 2.0 * (rho * l).sqrt())
}

/// ε of Canonne, Kamath and Steinke's conversion at order α > 1 (2020,
/// Corollary 13): αρ + (ln(1/δ) + (α − 1) ln(1 − 1/α) − ln α)/(α − 1),
/// with `l` = ln(1/δ). Every α gives a valid ε.
fn cks_epsilon(rho: f64, l: f64, alpha: f64) -> f64 {
    let a1 = alpha - 1.0;
    alpha * rho + (l + a1 * (-1.0 / alpha).ln_1p() - alpha.ln()) / a1
}

/// The ε that ρ-zCDP implies at δ by Canonne, Kamath and Steinke's
/// conversion (2020, Corollary 13), the tightest known and the one OpenDP
/// and smartnoise-synth use: the least over α > 1 of
/// αρ + (ln(1/δ) + (α − 1) ln(1 − 1/α) − ln α)/(α − 1), found by a
/// golden-section search over ln(α − 1) (the bound holds at every α, so
/// the search can only be loose, never unsafe), never above
/// [`epsilon_for`]'s, and rounded up by 10⁻¹² of itself for the floating
/// point of its evaluation.
///
/// # Errors
///
/// As [`epsilon_for`].
pub fn tight_epsilon_for(rho: f64, delta: f64) -> Result<f64> {
    let simple = epsilon_for(rho, delta)?;
    let l = check_delta(delta)?;
    let f = |t: f64| cks_epsilon(rho, l, 1.0 + t.exp());
    let (mut a, mut b) = (-30.0f64, 40.0f64);
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - phi * (b - a);
    let mut d = a + phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..200 {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + phi * (b - a);
            fd = f(d);
        }
    }
    let best = fc.min(fd);
    let tight = if best.is_finite() {
        best * (1.0 + 1e-12)
    } else {
        simple
    };
    Ok(tight.min(simple))
}

/// The largest ρ (to 10⁻¹² relative) whose ρ-zCDP implies (ε, δ)-DP by
/// [`tight_epsilon_for`]: at least [`rho_for`]'s (19 to 37 % more for
/// ε from 3 down to 0.3 at δ = 10⁻⁹).
///
/// # Errors
///
/// As [`rho_for`].
pub fn tight_rho_for(epsilon: f64, delta: f64) -> Result<f64> {
    let simple = rho_for(epsilon, delta)?;
    let fits = |rho: f64| tight_epsilon_for(rho, delta).is_ok_and(|e| e <= epsilon);
    let (mut lo, mut hi) = (simple, simple * 2.0);
    while fits(hi) {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= lo * 1e-13 {
            break;
        }
    }
    Ok(lo)
}

/// The largest ε whose pure ε-DP, as ε²/8-zCDP (Bun & Steinke 2016,
/// Prop. 1.4), fits within `rho`: the exponential mechanisms' share of a
/// zCDP budget.
pub(crate) fn epsilon_within(rho: f64) -> f64 {
    let mut epsilon = (8.0 * rho).sqrt();
    while epsilon * epsilon / 8.0 > rho {
        epsilon = epsilon.next_down();
    }
    epsilon
}

/// σ² = Δ²/(2ρ) of the discrete Gaussian that is ρ-zCDP at L2 sensitivity
/// Δ (Canonne, Kamath and Steinke 2020), rounded up to a multiple of 2⁻²⁰
/// (more noise, still ρ-zCDP).
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for a zero sensitivity, ρ not
/// positive and finite, or noise too large to sample.
pub(crate) fn gaussian_sigma2(sensitivity: u64, rho: f64) -> Result<Rational> {
    if sensitivity == 0 {
        return Err(Error::parameter("sensitivity", "must be positive"));
    }
    if !(rho.is_finite() && rho > 0.0) {
        return Err(Error::parameter(
            "rho",
            format!("ρ must be positive and finite, got {rho}"),
        ));
    }
    let sigma2 = (sensitivity as f64).powi(2) / (2.0 * rho);
    let scaled = (sigma2 * f64::from(1u32 << 20)).ceil();
    if !(scaled.is_finite() && scaled < 1e30) {
        return Err(Error::parameter("rho", "the required noise is too large"));
    }
    Rational::new(scaled as u128, 1 << 20)
}

/// The variance of the noise [`gaussian_histogram`] adds to every cell at
/// `rho`: 1/(2ρ), rounded up to a multiple of 2⁻²⁰ as the sampler uses it.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for ρ not positive and finite or
/// noise too large to sample.
pub fn histogram_variance(rho: f64) -> Result<f64> {
    let sigma2 = gaussian_sigma2(1, rho)?;
    Ok(sigma2.num as f64 / sigma2.den as f64)
}

/// A budget of ρ (zero-concentrated DP composes by adding ρ), spent
/// exactly as [`PrivacyBudget`] spends ε, with the (ε, δ) it implies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZcdpBudget {
    rho: PrivacyBudget,
}

impl ZcdpBudget {
    /// A budget of `rho`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for ρ ≤ 0 or not finite.
    pub fn new(rho: f64) -> Result<ZcdpBudget> {
        Ok(ZcdpBudget {
            rho: PrivacyBudget::new(rho)?,
        })
    }

    /// The budget of the largest ρ that implies (ε, δ)-DP ([`rho_for`]).
    ///
    /// # Errors
    ///
    /// As [`rho_for`].
    pub fn for_approximate_dp(epsilon: f64, delta: f64) -> Result<ZcdpBudget> {
        ZcdpBudget::new(rho_for(epsilon, delta)?)
    }

    /// The total ρ.
    pub fn total(&self) -> f64 {
        self.rho.total()
    }

    /// ρ spent so far (each spend recorded).
    pub fn spent(&self) -> &[f64] {
        self.rho.spent()
    }

    /// Spends `rho`, or refuses (nothing spent) when the total would be
    /// exceeded.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for ρ ≤ 0 and for overspending.
    pub fn spend(&mut self, rho: f64) -> Result<()> {
        self.rho.spend(rho)
    }

    /// The ε the whole budget implies at `delta` ([`epsilon_for`]).
    ///
    /// # Errors
    ///
    /// As [`epsilon_for`].
    pub fn epsilon(&self, delta: f64) -> Result<f64> {
        epsilon_for(self.total(), delta)
    }
}

/// `counts` (a histogram or marginal: one record adds to one cell, so the
/// L2 sensitivity is 1) released with discrete Gaussian noise of
/// σ² = 1/(2ρ) on every cell, sampled exactly: ρ-zCDP, spent from `budget`.
/// Cells can come out negative; rounding or clamping them is
/// post-processing.
///
/// # Errors
///
/// As [`ZcdpBudget::spend`]; [`crate::ErrorKind::InvalidParameter`] for ρ
/// not positive and finite or noise too large to sample. Nothing is spent
/// on error.
///
/// # Examples
///
/// ```
/// use deidentify::noise::{ZcdpBudget, gaussian_histogram};
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let mut budget = ZcdpBudget::for_approximate_dp(1.0, 1e-6)?;
/// let rho = budget.total() / 3.0;
/// let noisy = gaussian_histogram(&mut rng, &[120, 3, 0, 57], rho, &mut budget)?;
/// assert_eq!(noisy.len(), 4);
/// # Ok::<(), deidentify::Error>(())
/// ```
pub fn gaussian_histogram<R: Rng + ?Sized>(
    rng: &mut R,
    counts: &[u64],
    rho: f64,
    budget: &mut ZcdpBudget,
) -> Result<Vec<i128>> {
    let sigma2 = gaussian_sigma2(1, rho)?;
    budget.spend(rho)?;
    counts
        .iter()
        .map(|&c| Ok(i128::from(c) + discrete_gaussian(rng, sigma2)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::fit::Reference;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The exponential mechanisms' ε: within ρ as ε²/8, and the next float
    /// up is not (ρ = 1/8 gives exactly 1).
    #[test]
    fn epsilon_within_is_the_largest_that_fits() {
        assert_eq!(epsilon_within(0.125), 1.0);
        for rho in [1e-9, 3e-5, 0.0014767453611007342, 0.01, 0.3, 2.0, 17.0] {
            let epsilon = epsilon_within(rho);
            assert!(epsilon * epsilon / 8.0 <= rho, "{rho}");
            let up = epsilon.next_up();
            assert!(up * up / 8.0 > rho, "{rho}");
        }
    }

    #[test]
    fn conversions_invert_each_other() {
        // ε = 10⁻³, δ = 10⁻⁵: σ² = 1/(2ρ) = 23026850.919083565 by mpmath
        // (the figure `gaussian_count`'s tests pin).
        let rho = rho_for(1e-3, 1e-5).unwrap();
        assert!((1.0 / (2.0 * rho) / 23026850.919083565 - 1.0).abs() < 1e-9);
        for (epsilon, delta) in [(0.3, 1e-9), (1.0, 1e-6), (3.0, 1e-5), (8.0, 0.01)] {
            let rho = rho_for(epsilon, delta).unwrap();
            let back = epsilon_for(rho, delta).unwrap();
            assert!(
                (back - epsilon).abs() < 1e-12 * epsilon,
                "{epsilon}, {delta}"
            );
        }
        for bad in [
            rho_for(0.0, 1e-6),
            rho_for(1.0, 1.0),
            epsilon_for(-1.0, 1e-6),
            epsilon_for(1.0, 0.0),
        ] {
            assert!(bad.is_err());
        }
    }

    #[test]
    fn the_tight_conversion_matches_opendp() {
        // OpenDP 0.14.2's zCDP → (ε, δ) conversion (make_zCDP_to_approxDP,
        // the same corollary), inverted by its binary search as
        // smartnoise-synth 1.0.8's `cdp_rho(ε, 1e-9)` does; printed on
        // 2026-12-04 by the venv of benches/peers/smartnoise. Ours is within
        // 10⁻⁹ below it (our ε is rounded up by 10⁻¹² for floating point)
        // and 10⁻⁴ above.
        for (epsilon, opendp) in [
            (0.3, 0.0014767453611007342),
            (1.0, 0.01497305767358852),
            (3.0, 0.12058242891101993),
        ] {
            let rho = tight_rho_for(epsilon, 1e-9).unwrap();
            assert!(
                rho >= opendp * (1.0 - 1e-9) && rho <= opendp * (1.0 + 1e-4),
                "ε = {epsilon}: {rho} against OpenDP's {opendp}"
            );
            assert!(rho > rho_for(epsilon, 1e-9).unwrap() * 1.15);
            let back = tight_epsilon_for(rho, 1e-9).unwrap();
            assert!(back <= epsilon && back > epsilon * (1.0 - 1e-9), "{back}");
        }
        // At any α the bound is valid; the search finds the least: a grid
        // of α never does better.
        let (rho, l) = (0.01, 1e9f64.ln());
        let best = tight_epsilon_for(rho, 1e-9).unwrap();
        for k in 1..2000 {
            let alpha = 1.0 + f64::from(k) * 0.25;
            assert!(
                cks_epsilon(rho, l, alpha) >= best * (1.0 - 1e-9),
                "α = {alpha}"
            );
        }
        assert!(best <= epsilon_for(rho, 1e-9).unwrap());
        assert!(tight_rho_for(0.0, 1e-9).is_err() && tight_epsilon_for(0.1, 1.0).is_err());
    }

    #[test]
    fn histogram_noise_has_the_calibrated_variance() {
        // ρ = 1/2 → σ² = 1, and ρ = 1/200 → σ² = 100: 20,000 cells each,
        // checked as the exact samplers are (mean, variance within 5
        // standard errors, pooled χ²); the budget records both spends.
        let mut rng = StdRng::seed_from_u64(21);
        let mut budget = ZcdpBudget::new(1.0).unwrap();
        for (rho, sigma2) in [(0.5, 1.0), (0.005, 100.0)] {
            let counts = vec![40u64; 20_000];
            let noisy = gaussian_histogram(&mut rng, &counts, rho, &mut budget).unwrap();
            let noise: Vec<i128> = noisy.iter().map(|v| v - 40).collect();
            Reference::discrete_gaussian(sigma2)
                .of(format_args!("gaussian_histogram(ρ = {rho})"))
                .assert_fits(&noise);
        }
        assert_eq!(budget.spent(), [0.5, 0.005]);
        // Overspending is refused and spends nothing.
        assert!(gaussian_histogram(&mut rng, &[1], 0.5, &mut budget).is_err());
        assert_eq!(budget.spent().len(), 2);
        assert!((budget.epsilon(1e-6).unwrap() - epsilon_for(1.0, 1e-6).unwrap()).abs() < 1e-15);
    }
}

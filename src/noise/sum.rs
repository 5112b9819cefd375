//! Differentially private sums and means of real numbers on the exact
//! integer samplers ([§8.3](crate::methods#83-sums-and-means-of-real-numbers)).
//!
//! Floating-point noise leaks (Mironov 2012), so no `f64` ever decides the
//! noise: the clamped values are rounded *exactly* (as rationals) to a fine
//! lattice, summed exactly in integers, the sum is rounded to the lattice
//! 2^k, integer noise from [`discrete_laplace`] / [`discrete_gaussian`] is
//! added, and only the noisy integer is scaled back to a float
//! (post-processing, which costs no privacy).

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::noise::discrete::{Rational, discrete_gaussian, discrete_laplace};
use crate::noise::mechanism::{PrivacyBudget, exact_rational, gaussian_count, laplace_count};

/// The smallest exponent of an `f64` lattice: 2^−1074 is the subnormal
/// granularity (OpenDP's `get_min_k` for `f64`).
pub(crate) const MIN_K: i32 = -1074;

/// How many bits finer than the noise scale the default lattice 2^k is:
/// k = ⌊log₂ scale⌋ − 20 (see [`BoundedSum::new`]).
pub(crate) const LATTICE_BITS: i32 = 20;

/// How many bits finer than 2^k the inputs are rounded before the exact sum.
const FINE_BITS: i32 = 32;

/// The noise of a DP release.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mechanism", rename_all = "kebab-case")]
pub enum SumNoise {
    /// Discrete Laplace with scale Δ/ε: pure ε-DP.
    Laplace {
        /// ε > 0.
        epsilon: f64,
    },
    /// Discrete Gaussian calibrated through zero-concentrated DP:
    /// ρ = (√(ln(1/δ) + ε) − √(ln(1/δ)))² (the ρ-zCDP ⇒ (ε, δ)-DP conversion
    /// of Bun & Steinke 2016 inverted, as [`gaussian_count`] does) and
    /// σ² = Δ²/(2ρ). Spends ε from the budget.
    Gaussian {
        /// ε > 0.
        epsilon: f64,
        /// δ ∈ (0, 1).
        delta: f64,
    },
}

impl SumNoise {
    /// The ε this noise spends.
    pub fn epsilon(&self) -> f64 {
        match *self {
            SumNoise::Laplace { epsilon } | SumNoise::Gaussian { epsilon, .. } => epsilon,
        }
    }

    fn check(&self) -> Result<()> {
        exact_rational(self.epsilon()).map_err(|_| {
            Error::parameter(
                "epsilon",
                format!("must be positive and finite, got {}", self.epsilon()),
            )
        })?;
        if let SumNoise::Gaussian { delta, .. } = *self
            && !(delta > 0.0 && delta < 1.0)
        {
            return Err(Error::parameter(
                "delta",
                format!("must be in (0, 1), got {delta}"),
            ));
        }
        Ok(())
    }

    /// ρ for the Gaussian (`None` for the Laplace).
    fn rho(&self) -> Option<f64> {
        match *self {
            SumNoise::Laplace { .. } => None,
            SumNoise::Gaussian { epsilon, delta } => {
                let l = (1.0 / delta).ln();
                Some(((l + epsilon).sqrt() - l.sqrt()).powi(2))
            }
        }
    }
}

/// A DP sum of values clamped to [lower, upper], under add/remove-one
/// neighbours (the sensitivity is Δ = max(|lower|, |upper|)).
///
/// # Formula
///
/// ```text
/// k      = min(⌊log₂ s⌋ − 20, ⌊log₂ Δ⌋ − 10), at least −1074   (s = Δ/ε or Δ/√(2ρ))
/// j      = max(k − 32, −1074)                 fine lattice of the inputs
/// x̃_i    = round(clamp(x_i, lower, upper) / 2^j)   exactly, ties away from 0
/// S      = round(Σ x̃_i / 2^(k−j))             exact integers
/// Δ_j    = max(|round(lower/2^j)|, |round(upper/2^j)|)
/// Δ_k    = ⌊Δ_j / 2^(k−j)⌋ + 1   (Δ_j when j = k)   the rounding distance added
/// output = (S + Z)·2^k,  Z ~ discrete Laplace(Δ_k/ε) or discrete Gaussian(Δ_k²/(2ρ))
/// ```
///
/// Rounding is monotone, so every rounded contribution lies between the
/// rounded bounds and Δ_j bounds the change of Σ x̃ exactly; rounding that
/// sum to 2^k moves neighbours apart by at most one more step, which is why
/// Δ_k adds 1: in data units the sensitivity is inflated from Δ to at most
/// Δ + 2^(j−1) + 2^k, OpenDP's Δ + 2^k − 2^(k_min) with our finer input
/// lattice 2^j in place of 2^(k_min) ([§8.3](crate::methods#83-sums-and-means-of-real-numbers)).
///
/// Why this k: OpenDP's default k is −1074 (exact), which needs big
/// integers; our samplers work in 128 bits. A lattice 2^20 times finer than
/// the noise scale makes the noise indistinguishable from its continuous
/// counterpart at any practical resolution, adds at most 2^−20 of the scale
/// to the sensitivity, and keeps the samplers' integers within 128 bits;
/// the cap 2^−10·Δ keeps the rounding inflation small next to Δ when ε is
/// tiny. The inputs are rounded 2^32 times finer still, so the rounding
/// error of the sum stays negligible even for millions of rows.
///
/// # Examples
///
/// ```
/// use deidentify::noise::{BoundedSum, PrivacyBudget, SumNoise};
/// use rand::SeedableRng;
///
/// let sum = BoundedSum::new(0.0, 100.0, SumNoise::Laplace { epsilon: 1.0 })?;
/// let mut budget = PrivacyBudget::new(1.0)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let released = sum.release(&[12.5, 40.0, 99.0], &mut rng, &mut budget)?;
/// assert!((released.value - 151.5).abs() < 5_000.0);
/// assert!(sum.release(&[1.0], &mut rng, &mut budget).is_err()); // budget spent
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Citations
///
/// Canonne, Kamath & Steinke, "The Discrete Gaussian for Differential
/// Privacy", NeurIPS 2020; Mironov, "On Significance of the Least
/// Significant Bits for Differential Privacy", CCS 2012; OpenDP
/// `measurements/noise/nature/float`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BoundedSumFields")]
pub struct BoundedSum {
    lower: f64,
    upper: f64,
    noise: SumNoise,
    k: i32,
}

/// A [`BoundedSum`] as written, checked by [`BoundedSum::new`] and
/// [`BoundedSum::with_granularity`] when read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoundedSumFields {
    lower: f64,
    upper: f64,
    noise: SumNoise,
    k: i32,
}

impl TryFrom<BoundedSumFields> for BoundedSum {
    type Error = Error;

    fn try_from(fields: BoundedSumFields) -> Result<BoundedSum> {
        BoundedSum::new(fields.lower, fields.upper, fields.noise)?.with_granularity(fields.k)
    }
}

/// A released DP sum with everything an auditor needs ([§8.3](crate::methods#83-sums-and-means-of-real-numbers):
/// mechanism, ε, δ or ρ, sensitivity and lattice). It holds nothing computed
/// from the data without noise (not even how many values were clamped).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoisySum {
    /// The released sum.
    pub value: f64,
    /// `discrete-laplace` or `discrete-gaussian`.
    pub mechanism: String,
    /// ε spent.
    pub epsilon: f64,
    /// δ of the Gaussian.
    pub delta: Option<f64>,
    /// ρ of the discrete Gaussian actually used (zCDP), Δ_k²/(2σ²) ≤ the calibrated ρ.
    pub rho: Option<f64>,
    /// The clamping bounds.
    pub lower: f64,
    /// The clamping bounds.
    pub upper: f64,
    /// The stated sensitivity Δ = max(|lower|, |upper|).
    pub sensitivity: f64,
    /// The lattice exponent: noise and output are multiples of 2^k.
    pub k: i32,
    /// The sensitivity in lattice steps, Δ_k (inflated by the rounding distance).
    pub lattice_sensitivity: u64,
    /// The noise scale in data units: the Laplace b = Δ_k·2^k/ε, or the Gaussian σ.
    pub scale: f64,
}

/// A released DP mean: a noisy sum over a noisy count, clamped to the bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoisyMean {
    /// The released mean, sum / max(count, 1), clamped to [lower, upper].
    pub value: f64,
    /// The noisy sum.
    pub sum: NoisySum,
    /// The noisy count (sensitivity 1).
    pub count: i64,
    /// ε spent on the count.
    pub count_epsilon: f64,
}

impl BoundedSum {
    /// A sum of values clamped to [lower, upper] with the given noise and the
    /// default lattice (see the type's `# Formula`).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a bound that is NaN or
    /// infinite, lower > upper, a sensitivity max(|lower|, |upper|) of 0,
    /// ε ≤ 0 or not finite, or δ outside (0, 1).
    pub fn new(lower: f64, upper: f64, noise: SumNoise) -> Result<BoundedSum> {
        if !(lower.is_finite() && upper.is_finite()) {
            return Err(Error::parameter(
                "bounds",
                format!("the bounds must be finite numbers, got [{lower}, {upper}]"),
            ));
        }
        if lower > upper {
            return Err(Error::parameter(
                "bounds",
                format!("lower {lower} is above upper {upper}"),
            ));
        }
        let sensitivity = lower.abs().max(upper.abs());
        if sensitivity <= 0.0 {
            return Err(Error::parameter(
                "sensitivity",
                "max(|lower|, |upper|) must be positive",
            ));
        }
        noise.check()?;
        let scale = match noise.rho() {
            None => sensitivity / noise.epsilon(),
            Some(rho) => sensitivity / (2.0 * rho).sqrt(),
        };
        let k = (floor_log2(scale) - LATTICE_BITS)
            .min(floor_log2(sensitivity) - 10)
            .max(MIN_K);
        Ok(BoundedSum {
            lower,
            upper,
            noise,
            k,
        })
    }

    /// The same sum on the lattice 2^k (OpenDP's `k`): a coarser lattice
    /// costs accuracy, a finer one may exceed the 128-bit samplers.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for k below −1074 or above 1023.
    pub fn with_granularity(mut self, k: i32) -> Result<BoundedSum> {
        if !(MIN_K..=1023).contains(&k) {
            return Err(Error::parameter(
                "k",
                format!("must be in [{MIN_K}, 1023], got {k}"),
            ));
        }
        self.k = k;
        Ok(self)
    }

    /// The lattice exponent k.
    pub fn k(&self) -> i32 {
        self.k
    }

    /// The input lattice exponent j = max(k − 32, −1074).
    fn fine_k(&self) -> i32 {
        (self.k - FINE_BITS).max(MIN_K)
    }

    /// The sensitivity in lattice steps, Δ_k (see the type's `# Formula`).
    ///
    /// # Errors
    ///
    /// When the bounds do not fit 128-bit integers on this lattice.
    pub fn lattice_sensitivity(&self) -> Result<u128> {
        let j = self.fine_k();
        let fine = round_to_multiple_of_2k(self.lower, j)?
            .unsigned_abs()
            .max(round_to_multiple_of_2k(self.upper, j)?.unsigned_abs());
        let shift = (self.k - j) as u32;
        Ok(if shift == 0 {
            fine
        } else {
            (fine >> shift) + 1
        })
    }

    /// Releases the DP sum of `values`, spending ε from `budget` (nothing is
    /// spent when an error is returned before sampling).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a NaN value (naming its
    /// 1-based row; infinities are clamped), an exhausted budget, or
    /// integers beyond 128 bits.
    pub fn release<R: Rng + ?Sized>(
        &self,
        values: &[f64],
        rng: &mut R,
        budget: &mut PrivacyBudget,
    ) -> Result<NoisySum> {
        let (sum, delta_k) = self.lattice_sum(values)?;
        let overflow =
            || Error::parameter("sum", "too large for exact sampling in 128-bit integers");
        let (noise, rho, scale) = match self.noise {
            SumNoise::Laplace { epsilon } => {
                let e = exact_rational(epsilon)?;
                let scale = Rational::new(delta_k.checked_mul(e.den).ok_or_else(overflow)?, e.num)?;
                budget.spend(epsilon)?;
                let z = discrete_laplace(rng, scale)?;
                (z, None, delta_k as f64 / epsilon)
            }
            SumNoise::Gaussian { epsilon, .. } => {
                let rho = self.noise.rho().unwrap_or(f64::NAN);
                let d = delta_k as f64;
                // σ² rounded up to an integer (more noise, still ρ-zCDP), with a
                // margin for the float division.
                let sigma2 = (d * d / (2.0 * rho) * (1.0 + 1e-12)).ceil();
                if !(sigma2.is_finite() && sigma2 >= 1.0 && sigma2 < 2f64.powi(100)) {
                    return Err(overflow());
                }
                budget.spend(epsilon)?;
                let z = discrete_gaussian(rng, Rational::new(sigma2 as u128, 1)?)?;
                (z, Some(d * d / (2.0 * sigma2)), sigma2.sqrt())
            }
        };
        let noisy = sum.checked_add(noise).ok_or_else(overflow)?;
        let (delta, mechanism) = match self.noise {
            SumNoise::Laplace { .. } => (None, "discrete-laplace"),
            SumNoise::Gaussian { delta, .. } => (Some(delta), "discrete-gaussian"),
        };
        Ok(NoisySum {
            value: times_pow2(noisy as f64, self.k),
            mechanism: mechanism.into(),
            epsilon: self.noise.epsilon(),
            delta,
            rho,
            lower: self.lower,
            upper: self.upper,
            sensitivity: self.lower.abs().max(self.upper.abs()),
            k: self.k,
            lattice_sensitivity: u64::try_from(delta_k).map_err(|_| overflow())?,
            scale: times_pow2(scale, self.k),
        })
    }

    /// The exact sum S on the lattice 2^k and Δ_k.
    fn lattice_sum(&self, values: &[f64]) -> Result<(i128, u128)> {
        let delta_k = self.lattice_sensitivity()?;
        let j = self.fine_k();
        let mut fine: i128 = 0;
        for (row, &x) in values.iter().enumerate() {
            if x.is_nan() {
                return Err(Error::parameter(
                    "values",
                    format!("row {}: NaN cannot be clamped to the bounds", row + 1),
                ));
            }
            let v = round_to_multiple_of_2k(x.clamp(self.lower, self.upper), j)?;
            fine = fine
                .checked_add(v)
                .ok_or_else(|| Error::parameter("values", "the sum overflows 128-bit integers"))?;
        }
        Ok((round_shift(fine, (self.k - j) as u32), delta_k))
    }
}

/// Releases a DP mean: a [`BoundedSum`] with `sum_noise` and a count with
/// `count_noise` (sensitivity 1, by [`laplace_count`] or [`gaussian_count`]),
/// divided (post-processing) and clamped to [lower, upper]; a noisy count
/// below 1 counts as 1. Both ε are spent, or neither (checked first).
///
/// # Errors
///
/// As [`BoundedSum::new`] and [`BoundedSum::release`]; the budget must hold
/// both ε.
pub fn bounded_mean<R: Rng + ?Sized>(
    values: &[f64],
    lower: f64,
    upper: f64,
    sum_noise: SumNoise,
    count_noise: SumNoise,
    rng: &mut R,
    budget: &mut PrivacyBudget,
) -> Result<NoisyMean> {
    let sum = BoundedSum::new(lower, upper, sum_noise)?;
    count_noise.check()?;
    // Refuse before anything is spent when both do not fit.
    let mut trial = budget.clone();
    trial.spend(sum_noise.epsilon())?;
    trial.spend(count_noise.epsilon())?;
    sum.lattice_sum(values)?;
    let n = i64::try_from(values.len()).map_err(|_| Error::parameter("values", "too many"))?;
    let noisy_sum = sum.release(values, rng, budget)?;
    let count = match count_noise {
        SumNoise::Laplace { epsilon } => laplace_count(rng, n, 1, epsilon, budget)?,
        SumNoise::Gaussian { epsilon, delta } => gaussian_count(rng, n, 1, epsilon, delta, budget)?,
    };
    Ok(NoisyMean {
        value: (noisy_sum.value / count.max(1) as f64).clamp(lower, upper),
        sum: noisy_sum,
        count,
        count_epsilon: count_noise.epsilon(),
    })
}

/// The integer i nearest to x/2^k (ties away from zero), computed exactly
/// from the bits of `x`, so x ≈ i·2^k with |x − i·2^k| ≤ 2^(k−1).
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for a value that is not finite,
/// k < −1074, or a quotient beyond 128 bits.
pub(crate) fn round_to_multiple_of_2k(x: f64, k: i32) -> Result<i128> {
    if !x.is_finite() {
        return Err(Error::parameter("value", format!("{x} is not finite")));
    }
    if k < MIN_K {
        return Err(Error::parameter(
            "k",
            format!("must be at least {MIN_K}, got {k}"),
        ));
    }
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let mantissa = if exponent == 0 {
        bits & ((1 << 52) - 1)
    } else {
        (bits & ((1 << 52) - 1)) | (1 << 52)
    };
    // |x| = mantissa · 2^e exactly.
    let e = if exponent == 0 {
        -1074
    } else {
        exponent - 1075
    };
    let shift = e - k;
    let magnitude: u128 = if shift >= 0 {
        if shift > 74 {
            return Err(Error::parameter(
                "value",
                format!("{x} / 2^{k} does not fit 128-bit integers"),
            ));
        }
        u128::from(mantissa) << shift
    } else {
        let r = (-shift) as u32;
        if r > 60 {
            0
        } else {
            round_shift(i128::from(mantissa), r).unsigned_abs()
        }
    };
    let magnitude =
        i128::try_from(magnitude).map_err(|_| Error::parameter("value", "too large"))?;
    Ok(if x.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    })
}

/// x / 2^shift rounded to the nearest integer, ties away from zero.
fn round_shift(x: i128, shift: u32) -> i128 {
    if shift == 0 {
        return x;
    }
    let m = x.unsigned_abs();
    let q = if shift >= 128 {
        0
    } else {
        let q = m >> shift;
        let rem = m - (q << shift);
        if rem >= 1u128 << (shift - 1) {
            q + 1
        } else {
            q
        }
    };
    let q = q as i128;
    if x < 0 { -q } else { q }
}

/// ⌊log₂ x⌋ for a positive finite x, from its bits.
fn floor_log2(x: f64) -> i32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    if exponent == 0 {
        // Subnormal: the position of the highest set mantissa bit.
        let mantissa = bits & ((1 << 52) - 1);
        -1074 + 63 - mantissa.leading_zeros() as i32
    } else {
        exponent - 1023
    }
}

/// x·2^k (post-processing; rounded as floating point).
fn times_pow2(mut x: f64, mut k: i32) -> f64 {
    let pow2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    while k > 1000 {
        x *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= pow2(-1000);
        k += 1000;
    }
    x * pow2(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::fit::Reference;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use statrs::distribution::{ContinuousCDF, Laplace};

    #[test]
    fn rounding_is_exact_on_hand_computed_cases() {
        let r = |x, k| round_to_multiple_of_2k(x, k).unwrap();
        assert_eq!(r(0.3, -2), 1); // 1.2
        assert_eq!(r(0.375, -2), 2); // 1.5, away from zero
        assert_eq!(r(-0.375, -2), -2);
        assert_eq!(r(0.125, -2), 1); // 0.5
        assert_eq!(r(0.12499999999999999, -2), 0); // just below the tie
        assert_eq!(r(5.0, 1), 3); // 2.5
        assert_eq!(r(4.9, 1), 2); // 2.45
        assert_eq!(r(1e-300, 0), 0);
        assert_eq!(r(0.1, -3), 1); // 0.8000000000000000444…
        assert_eq!(r(1.0, -60), 1 << 60);
        // 0.1 is 3602879701896397·2^−55 exactly: at k = −55 it is that integer.
        assert_eq!(r(0.1, -55), 3602879701896397);
        assert_eq!(r(0.1, -54), 1801439850948199); // …198.5 rounds up
        // The smallest subnormal.
        assert_eq!(r(f64::from_bits(1), -1074), 1);
        assert_eq!(r(f64::from_bits(3), -1073), 2); // 1.5
        assert!(round_to_multiple_of_2k(f64::NAN, 0).is_err());
        assert!(round_to_multiple_of_2k(1.0, -1075).is_err());
        assert!(round_to_multiple_of_2k(1e300, 0).is_err());
        assert_eq!(round_shift(-5, 1), -3);
        assert_eq!(round_shift(5, 2), 1);
        assert_eq!(round_shift(6, 2), 2);
        assert_eq!(floor_log2(1.0), 0);
        assert_eq!(floor_log2(0.75), -1);
        assert_eq!(floor_log2(1024.0), 10);
        assert_eq!(floor_log2(f64::from_bits(1)), -1074);
        assert_eq!(times_pow2(3.0, -2), 0.75);
    }

    #[test]
    fn the_lattice_sum_is_exact_and_the_sensitivity_inflated() {
        let sum = BoundedSum::new(0.0, 1.0, SumNoise::Laplace { epsilon: 1.0 })
            .unwrap()
            .with_granularity(-2)
            .unwrap();
        // j = −34: upper = 2^34 fine steps; Δ_k = 2^34/2^32 + 1 = 5.
        assert_eq!(sum.lattice_sensitivity().unwrap(), 5);
        // Clamped: 2 → 1, −1 → 0; 0.3 + 0.3 + 1 + 0 = 1.6 = 6.4 steps → 6.
        let (s, _) = sum.lattice_sum(&[0.3, 0.3, 2.0, -1.0]).unwrap();
        assert_eq!(s, 6);
        // Infinities clamp; NaN is an error naming the row.
        let (s, _) = sum
            .lattice_sum(&[f64::INFINITY, f64::NEG_INFINITY])
            .unwrap();
        assert_eq!(s, 4);
        assert!(
            sum.lattice_sum(&[1.0, f64::NAN])
                .unwrap_err()
                .to_string()
                .contains("row 2")
        );
        // The default lattice: 2^k ≤ 2^−20 of the scale b = 100/0.5.
        let sum = BoundedSum::new(-100.0, 50.0, SumNoise::Laplace { epsilon: 0.5 }).unwrap();
        assert_eq!(sum.k(), 7 - LATTICE_BITS);
        let d = sum.lattice_sensitivity().unwrap();
        assert_eq!(d, (100u128 << 20 >> 7) + 1);
    }

    #[test]
    fn default_lattice_noise_is_laplace_with_the_intended_scale() {
        // KS on 20,000 releases against Laplace(0, b) in lattice units.
        let sum = BoundedSum::new(0.0, 10.0, SumNoise::Laplace { epsilon: 1.0 }).unwrap();
        let values = [1.0, 2.5, 3.25];
        let (s, d) = sum.lattice_sum(&values).unwrap();
        let b = d as f64;
        let mut rng = StdRng::seed_from_u64(21);
        let n = 20_000;
        let mut z: Vec<f64> = (0..n)
            .map(|_| {
                let mut budget = PrivacyBudget::new(1.0).unwrap();
                let r = sum.release(&values, &mut rng, &mut budget).unwrap();
                times_pow2(r.value, -sum.k()) - s as f64
            })
            .collect();
        z.sort_by(f64::total_cmp);
        let laplace = Laplace::new(0.0, b).unwrap();
        let ks = z
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = laplace.cdf(x);
                (f - i as f64 / n as f64)
                    .abs()
                    .max(((i + 1) as f64 / n as f64 - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(ks < 1.95 / (n as f64).sqrt(), "D = {ks}");
    }

    /// ρ of ε = 1, δ = 10⁻⁶ by Bun & Steinke's conversion
    /// ε = ρ + 2√(ρ ln(1/δ)): 0.017468904769123378, by mpmath 1.3.0 bisection
    /// at 50 digits (2026-12-03), independently of this crate.
    const RHO_1_1E6: f64 = 0.017468904769123378;

    /// The lattice noise Z of a release: value = (S + Z)·2^k exactly (|S + Z|
    /// stays far below 2^53 here), so Z = value·2^(−k) − S.
    fn lattice_noise(value: f64, k: i32, s: i128) -> i128 {
        let scaled = times_pow2(value, -k);
        assert_eq!(
            scaled,
            scaled.round(),
            "{value} is not on the lattice 2^{k}"
        );
        scaled as i128 - s
    }

    /// `BoundedSum::release` with Laplace noise adds discrete Laplace noise of
    /// scale Δ_k/ε lattice steps. The lattice, Δ_k and the exact lattice sum
    /// S are derived by hand below (not by the code under test); the noise
    /// must pass mean, variance (5 standard errors) and pooled-tail χ²
    /// (α = 0.001) checks against that scale (`crate::noise::fit`).
    #[test]
    fn release_laplace_noise_has_scale_lattice_sensitivity_over_epsilon() {
        let mut rng = StdRng::seed_from_u64(22);
        let draws = 15_000;
        // Default lattice: Δ = 10, ε = 0.5, b = Δ/ε = 20 = 2^4.32, so
        // k = min(4 − 20, ⌊log₂ 10⌋ − 10) = −16; j = −48, the upper bound is
        // 10·2^48 fine steps and Δ_k = 10·2^16 + 1 = 655361; the lattice
        // scale is Δ_k/ε = 1310722 steps (20.00003 in data units).
        // S = (1 + 2.5 + 3.25 + 9.75 + 10)·2^16 = 1736704 (12 clamps to 10).
        // Coarse lattice k = −1 on [−1, 1]: j = −33, Δ_k = 2^33/2^32 + 1 = 3,
        // scale 3/0.5 = 6 steps (every integer its own χ² cell);
        // S = round((0.3 − 0.8 + 0.9)/0.5) = round(0.8) = 1.
        let default = BoundedSum::new(0.0, 10.0, SumNoise::Laplace { epsilon: 0.5 }).unwrap();
        let coarse = BoundedSum::new(-1.0, 1.0, SumNoise::Laplace { epsilon: 0.5 })
            .unwrap()
            .with_granularity(-1)
            .unwrap();
        for (sum, values, k, delta_k, s, scale) in [
            (
                default,
                &[1.0, 2.5, 3.25, 9.75, 12.0][..],
                -16,
                655_361,
                1_736_704,
                1_310_722.0,
            ),
            (coarse, &[0.3, -0.8, 0.9][..], -1, 3, 1, 6.0),
        ] {
            let noise: Vec<i128> = (0..draws)
                .map(|_| {
                    let mut budget = PrivacyBudget::new(0.5).unwrap();
                    let r = sum.release(values, &mut rng, &mut budget).unwrap();
                    assert_eq!((r.k, r.lattice_sensitivity), (k, delta_k));
                    assert_eq!(r.scale, times_pow2(scale, k));
                    lattice_noise(r.value, k, s)
                })
                .collect();
            Reference::discrete_laplace(scale)
                .of(format_args!("BoundedSum::release, Laplace, k = {k}"))
                .assert_fits(&noise);
        }
    }

    /// `BoundedSum::release` with Gaussian noise adds discrete Gaussian noise
    /// with σ² = ⌈Δ_k²/(2ρ)⌉ lattice steps², ρ the zCDP of (ε, δ); lattice,
    /// Δ_k, S and σ² derived by hand and by mpmath (not by the code), and the
    /// noise checked as in the Laplace test.
    #[test]
    fn release_gaussian_noise_has_the_zcdp_calibrated_variance() {
        let mut rng = StdRng::seed_from_u64(23);
        let draws = 10_000;
        let noise = SumNoise::Gaussian {
            epsilon: 1.0,
            delta: 1e-6,
        };
        // Default lattice: Δ = 1, σ = Δ/√(2ρ) = 5.35 = 2^2.42, so
        // k = min(2 − 20, 0 − 10) = −18; j = −50, Δ_k = 2^18 + 1 = 262145;
        // σ² = ⌈262145²/(2ρ)·(1 + 10⁻¹²)⌉ = 1966923568859 (mpmath, with the
        // code's documented 10⁻¹² margin; the float computation may land one
        // step away, a relative 10⁻¹²). S = 3.5·2^18 = 917504.
        // Coarse lattice k = −2: j = −34, Δ_k = 2^34/2^32 + 1 = 5,
        // σ² = ⌈25/(2ρ)⌉ = ⌈715.557⌉ = 716; S = 3.5·4 = 14.
        let values = [0.25, 0.5, 0.75, 1.0, 3.0, -1.0];
        let default = BoundedSum::new(0.0, 1.0, noise).unwrap();
        let coarse = default.clone().with_granularity(-2).unwrap();
        for (sum, k, delta_k, s, sigma2) in [
            (default, -18, 262_145u64, 917_504, 1_966_923_568_859.0f64),
            (coarse, -2, 5, 14, 716.0),
        ] {
            // zCDP of the discrete Gaussian: ρ = Δ_k²/(2σ²) (CKS20 Theorem 4),
            // at most the ρ that (ε, δ) allows.
            let rho = (delta_k as f64).powi(2) / (2.0 * sigma2);
            assert!(rho <= RHO_1_1E6, "{rho}");
            let noise: Vec<i128> = (0..draws)
                .map(|_| {
                    let mut budget = PrivacyBudget::new(1.0).unwrap();
                    let r = sum.release(&values, &mut rng, &mut budget).unwrap();
                    assert_eq!((r.k, r.lattice_sensitivity), (k, delta_k));
                    assert!((r.rho.unwrap() / rho - 1.0).abs() < 1e-9, "{:?}", r.rho);
                    let sigma = times_pow2(sigma2.sqrt(), k);
                    assert!((r.scale / sigma - 1.0).abs() < 1e-9, "{}", r.scale);
                    lattice_noise(r.value, k, s)
                })
                .collect();
            Reference::discrete_gaussian(sigma2)
                .of(format_args!("BoundedSum::release, Gaussian, k = {k}"))
                .assert_fits(&noise);
        }
    }

    /// `bounded_mean` releases the post-processing of a noisy sum and a
    /// noisy count: the mean is exactly clamp(sum/max(count, 1)), the sum's
    /// noise has the BoundedSum scale and the count's the `laplace_count` /
    /// `gaussian_count` scale for sensitivity 1, each checked as above.
    #[test]
    fn bounded_mean_noise_has_the_calibrated_scales() {
        let mut rng = StdRng::seed_from_u64(24);
        let draws = 8_000;
        let values = [0.2, 0.4, 0.9, 1.5];
        // Laplace sum, ε = 0.5 on [0, 1]: b = 2, k = min(1 − 20, 0 − 10) = −19,
        // Δ_k = 2^19 + 1 = 524289, scale 1048578 steps; S = 2.5·2^19 = 1310720.
        // Laplace count, ε = 0.25: scale 1/0.25 = 4.
        // Gaussian sum, ε = 1, δ = 10⁻⁶: as in
        // `release_gaussian_noise_has_the_zcdp_calibrated_variance`, k = −18,
        // σ² = 1966923568859; S = 2.5·2^18 = 655360. Gaussian count, ε = 0.5,
        // δ = 10⁻⁵: σ² = 1/(2ρ) = 94.092775911300286 (mpmath 1.3.0, 50
        // digits, 2026-12-03).
        let cases = [
            (
                SumNoise::Laplace { epsilon: 0.5 },
                SumNoise::Laplace { epsilon: 0.25 },
                -19,
                1_310_720,
                Reference::discrete_laplace(1_048_578.0),
                Reference::discrete_laplace(4.0),
            ),
            (
                SumNoise::Gaussian {
                    epsilon: 1.0,
                    delta: 1e-6,
                },
                SumNoise::Gaussian {
                    epsilon: 0.5,
                    delta: 1e-5,
                },
                -18,
                655_360,
                Reference::discrete_gaussian(1_966_923_568_859.0),
                Reference::discrete_gaussian(94.09277591130028),
            ),
        ];
        for (sum_noise, count_noise, k, s, sum_reference, count_reference) in cases {
            let (mut sums, mut counts) = (Vec::new(), Vec::new());
            for _ in 0..draws {
                let mut budget =
                    PrivacyBudget::new(sum_noise.epsilon() + count_noise.epsilon()).unwrap();
                let m = bounded_mean(
                    &values,
                    0.0,
                    1.0,
                    sum_noise,
                    count_noise,
                    &mut rng,
                    &mut budget,
                )
                .unwrap();
                assert_eq!(
                    m.value,
                    (m.sum.value / m.count.max(1) as f64).clamp(0.0, 1.0)
                );
                assert_eq!(m.sum.k, k);
                sums.push(lattice_noise(m.sum.value, k, s));
                counts.push(i128::from(m.count - 4));
            }
            sum_reference.of("bounded_mean's sum").assert_fits(&sums);
            count_reference
                .of("bounded_mean's count")
                .assert_fits(&counts);
        }
    }

    #[test]
    fn gaussian_and_mean() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut budget = PrivacyBudget::new(2.0).unwrap();
        let g = BoundedSum::new(
            0.0,
            1.0,
            SumNoise::Gaussian {
                epsilon: 1.0,
                delta: 1e-6,
            },
        )
        .unwrap();
        let values: Vec<f64> = (0..1000).map(|i| (i % 10) as f64 / 10.0).collect();
        let r = g.release(&values, &mut rng, &mut budget).unwrap();
        assert_eq!(r.mechanism, "discrete-gaussian");
        // One release cannot show its noise scale (the distribution tests
        // above do); its reported calibration is pinned instead, derived as in
        // `release_gaussian_noise_has_the_zcdp_calibrated_variance`: Δ = 1,
        // k = −18, Δ_k = 262145, σ² = 1966923568859 lattice steps², so
        // σ = √σ²·2^−18 = 5.35001 and the zCDP ρ = Δ_k²/(2σ²) = 0.0174689047691,
        // at most the calibrated ρ of (1, 10⁻⁶).
        assert_eq!((r.k, r.lattice_sensitivity), (-18, 262_145));
        let sigma2 = 1_966_923_568_859.0f64;
        let rho = 262_145f64.powi(2) / (2.0 * sigma2);
        assert!((r.rho.unwrap() / rho - 1.0).abs() < 1e-9, "{:?}", r.rho);
        assert!(r.rho.unwrap() <= RHO_1_1E6);
        assert!((r.scale / times_pow2(sigma2.sqrt(), -18) - 1.0).abs() < 1e-9);
        // The value is the exact lattice sum S = 450·2^18 plus integer noise.
        lattice_noise(r.value, -18, 450 << 18);
        // The mean needs 0.5 + 0.5 = 1.0, exactly what is left.
        let m = bounded_mean(
            &values,
            0.0,
            1.0,
            SumNoise::Laplace { epsilon: 0.5 },
            SumNoise::Laplace { epsilon: 0.5 },
            &mut rng,
            &mut budget,
        )
        .unwrap();
        // Post-processing of the noisy sum (Laplace, ε = 0.5 on [0, 1]: k = −19,
        // Δ_k = 2^19 + 1, scale Δ_k/ε·2^−19) and count; their noise
        // distributions are checked in `bounded_mean_noise_has_the_calibrated_scales`.
        assert_eq!(
            m.value,
            (m.sum.value / m.count.max(1) as f64).clamp(0.0, 1.0)
        );
        assert_eq!((m.sum.k, m.sum.lattice_sensitivity), (-19, 524_289));
        assert_eq!(m.sum.scale, 1_048_578.0 * 2f64.powi(-19));
        assert_eq!(m.count_epsilon, 0.5);
        // Nothing left: refused, nothing spent.
        let before = budget.spent().to_vec();
        assert!(
            bounded_mean(
                &values,
                0.0,
                1.0,
                SumNoise::Laplace { epsilon: 1e-3 },
                SumNoise::Laplace { epsilon: 1e-3 },
                &mut rng,
                &mut budget,
            )
            .is_err()
        );
        assert_eq!(budget.spent(), before.as_slice());
    }

    #[test]
    fn reading_a_sum_checks_it_as_new_does() {
        let sum = BoundedSum::new(-1.0, 4.0, SumNoise::Laplace { epsilon: 0.5 }).unwrap();
        let json = serde_json::to_string(&sum).unwrap();
        assert_eq!(serde_json::from_str::<BoundedSum>(&json).unwrap(), sum);
        for bad in [
            r#"{"lower":5,"upper":1,"noise":{"mechanism":"laplace","epsilon":1},"k":-30}"#,
            r#"{"lower":0,"upper":1,"noise":{"mechanism":"laplace","epsilon":1},"k":-2147483648}"#,
            r#"{"lower":0,"upper":1,"noise":{"mechanism":"laplace","epsilon":-1},"k":-30}"#,
        ] {
            assert!(serde_json::from_str::<BoundedSum>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_input() {
        let lap = SumNoise::Laplace { epsilon: 1.0 };
        let msg = |r: Result<BoundedSum>| r.unwrap_err().to_string();
        assert!(
            msg(BoundedSum::new(
                0.0,
                1.0,
                SumNoise::Laplace { epsilon: 0.0 }
            ))
            .contains("epsilon")
        );
        assert!(
            msg(BoundedSum::new(
                0.0,
                1.0,
                SumNoise::Laplace { epsilon: -1.0 }
            ))
            .contains("epsilon")
        );
        assert!(
            msg(BoundedSum::new(
                0.0,
                1.0,
                SumNoise::Laplace { epsilon: f64::NAN }
            ))
            .contains("epsilon")
        );
        assert!(msg(BoundedSum::new(f64::NAN, 1.0, lap)).contains("bounds"));
        assert!(msg(BoundedSum::new(0.0, f64::INFINITY, lap)).contains("bounds"));
        assert!(msg(BoundedSum::new(2.0, 1.0, lap)).contains("above"));
        assert!(msg(BoundedSum::new(0.0, 0.0, lap)).contains("sensitivity"));
        assert!(
            msg(BoundedSum::new(
                0.0,
                1.0,
                SumNoise::Gaussian {
                    epsilon: 1.0,
                    delta: 0.0
                }
            ))
            .contains("delta")
        );
        assert!(
            BoundedSum::new(0.0, 1.0, lap)
                .unwrap()
                .with_granularity(-2000)
                .is_err()
        );
        // The budget refuses to overspend.
        let sum = BoundedSum::new(0.0, 1.0, lap).unwrap();
        let mut budget = PrivacyBudget::new(1.5).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        sum.release(&[0.5], &mut rng, &mut budget).unwrap();
        assert!(sum.release(&[0.5], &mut rng, &mut budget).is_err());
        assert_eq!(budget.spent(), &[1.0]);
    }
}

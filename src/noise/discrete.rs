//! Exact samplers for the discrete Laplace and discrete Gaussian
//! distributions (Canonne, Kamath & Steinke, NeurIPS 2020; [§8.2](crate::methods#82-exact-samplers)).
//!
//! All arithmetic is on integers (rationals as numerator/denominator in
//! `u128`), so the output distribution is exactly the stated one given a
//! uniform random source: no floating-point value ever decides an outcome.

use rand::{Rng, RngExt};

use crate::error::{Error, Result};

/// A non-negative rational number `num / den` (den > 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rational {
    /// Numerator.
    pub num: u128,
    /// Denominator (> 0).
    pub den: u128,
}

impl Rational {
    /// `num / den`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `den` is 0.
    pub fn new(num: u128, den: u128) -> Result<Rational> {
        if den == 0 {
            return Err(Error::parameter(
                "rational",
                "the denominator must be positive",
            ));
        }
        Ok(Rational { num, den })
    }

    /// The same number, checked as [`Rational::new`] checks it (for a value
    /// built from its public fields).
    ///
    /// # Errors
    ///
    /// As [`Rational::new`].
    pub fn checked(self) -> Result<Rational> {
        Rational::new(self.num, self.den)
    }
}

fn overflow() -> Error {
    Error::parameter(
        "noise",
        "parameters too large for exact sampling in 128-bit integers",
    )
}

/// Bernoulli(num/den), num ≤ den.
fn bernoulli<R: Rng + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    rng.random_range(0..den) < num
}

/// Bernoulli(exp(−γ)) for rational γ ≥ 0, exactly (CKS20 Algorithm 1).
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for a zero denominator, or when
/// intermediate products overflow 128 bits.
pub fn bernoulli_exp<R: Rng + ?Sized>(rng: &mut R, gamma: Rational) -> Result<bool> {
    let gamma = gamma.checked()?;
    let whole = gamma.num / gamma.den;
    for _ in 0..whole {
        if !bernoulli_exp_at_most_one(rng, 1, 1)? {
            return Ok(false);
        }
    }
    bernoulli_exp_at_most_one(rng, gamma.num % gamma.den, gamma.den)
}

/// Bernoulli(exp(−num/den)) for num/den ∈ [0, 1]: draw Bernoulli(γ/k) for
/// k = 1, 2, … until one fails; the result is whether the stopping k is odd.
fn bernoulli_exp_at_most_one<R: Rng + ?Sized>(rng: &mut R, num: u128, den: u128) -> Result<bool> {
    let mut k: u128 = 1;
    loop {
        let scaled = den.checked_mul(k).ok_or_else(overflow)?;
        if !bernoulli(rng, num, scaled) {
            return Ok(k % 2 == 1);
        }
        k += 1;
    }
}

/// A sample of the discrete Laplace distribution with scale `scale`
/// (P(Y = y) ∝ exp(−|y|/scale) on the integers), exactly (CKS20 Algorithm 2).
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for a zero scale or denominator, or on overflow.
pub fn discrete_laplace<R: Rng + ?Sized>(rng: &mut R, scale: Rational) -> Result<i128> {
    let scale = scale.checked()?;
    if scale.num == 0 {
        return Err(Error::parameter("scale", "the scale must be positive"));
    }
    // scale = t/s with integers t = num, s = den.
    let (t, s) = (scale.num, scale.den);
    loop {
        let u = rng.random_range(0..t);
        if !bernoulli_exp(rng, Rational { num: u, den: t })? {
            continue;
        }
        let mut v: u128 = 0;
        while bernoulli_exp(rng, Rational { num: 1, den: 1 })? {
            v += 1;
        }
        let x = u
            .checked_add(t.checked_mul(v).ok_or_else(overflow)?)
            .ok_or_else(overflow)?;
        let y = x / s;
        let negative = rng.random_range(0..2u8) == 1;
        if negative && y == 0 {
            continue;
        }
        let y = i128::try_from(y).map_err(|_| overflow())?;
        return Ok(if negative { -y } else { y });
    }
}

/// A sample of the discrete Gaussian with variance parameter σ² = `sigma2`
/// (P(Y = y) ∝ exp(−y²/(2σ²)) on the integers), exactly (CKS20 Algorithm 3):
/// t = ⌊σ⌋ + 1, Y ~ discrete Laplace(t), accepted with probability
/// exp(−(|Y| − σ²/t)²/(2σ²)).
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] for σ² = 0 or a zero denominator, or on overflow.
pub fn discrete_gaussian<R: Rng + ?Sized>(rng: &mut R, sigma2: Rational) -> Result<i128> {
    let sigma2 = sigma2.checked()?;
    if sigma2.num == 0 {
        return Err(Error::parameter("sigma", "σ² must be positive"));
    }
    let (p, q) = (sigma2.num, sigma2.den);
    // t = ⌊σ⌋ + 1 = ⌊√(p/q)⌋ + 1, by integer square root of ⌊p/q⌋ (exact for the floor).
    let t = (p / q).isqrt() + 1;
    loop {
        let y = discrete_laplace(rng, Rational { num: t, den: 1 })?;
        let magnitude = y.unsigned_abs();
        // γ = (|Y| − σ²/t)² / (2σ²) = (|Y|·t·q − p)² / (2·p·q·t²).
        let a = magnitude
            .checked_mul(t)
            .and_then(|v| v.checked_mul(q))
            .ok_or_else(overflow)?;
        let diff = a.abs_diff(p);
        let num = diff.checked_mul(diff).ok_or_else(overflow)?;
        let den = 2u128
            .checked_mul(p)
            .and_then(|v| v.checked_mul(q))
            .and_then(|v| v.checked_mul(t))
            .and_then(|v| v.checked_mul(t))
            .ok_or_else(overflow)?;
        if bernoulli_exp(rng, Rational { num, den })? {
            return Ok(y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::fit::Reference;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn bernoulli_exp_matches_its_probability() {
        let mut rng = StdRng::seed_from_u64(1);
        for (num, den) in [(0u128, 1u128), (1, 2), (1, 1), (5, 2)] {
            let n = 100_000;
            let hits = (0..n)
                .filter(|_| bernoulli_exp(&mut rng, Rational { num, den }).unwrap())
                .count();
            let p = (-(num as f64) / den as f64).exp();
            let sd = (p * (1.0 - p) / n as f64).sqrt().max(1e-9);
            assert!(
                (hits as f64 / n as f64 - p).abs() < 5.0 * sd + 1e-12,
                "γ = {num}/{den}"
            );
        }
    }

    /// The checks of `crate::noise::fit` (mean, variance within 5 standard
    /// errors, pooled-tail χ² at α = 0.001) on `draws` samples of each scale,
    /// the scale in the range where every integer is its own cell and one
    /// large scale where the cells are binned.
    #[test]
    fn discrete_laplace_has_the_exact_pmf_and_variance() {
        let mut rng = StdRng::seed_from_u64(2);
        let draws = 20_000;
        for (num, den) in [(1u128, 3u128), (1, 1), (5, 2), (3, 1), (1000, 1)] {
            let samples: Vec<i128> = (0..draws)
                .map(|_| discrete_laplace(&mut rng, Rational { num, den }).unwrap())
                .collect();
            Reference::discrete_laplace(num as f64 / den as f64).assert_fits(&samples);
        }
    }

    #[test]
    fn discrete_gaussian_has_the_exact_pmf_and_variance() {
        let mut rng = StdRng::seed_from_u64(3);
        let draws = 15_000;
        // σ² = 1/4 (variance 0.2150, visibly below σ²), 1, 9/4, 4, and a
        // large σ² binned.
        for (num, den) in [(1u128, 4u128), (1, 1), (9, 4), (4, 1), (1_000_000, 3)] {
            let samples: Vec<i128> = (0..draws)
                .map(|_| discrete_gaussian(&mut rng, Rational { num, den }).unwrap())
                .collect();
            Reference::discrete_gaussian(num as f64 / den as f64).assert_fits(&samples);
        }
    }

    #[test]
    fn bad_parameters() {
        let mut rng = StdRng::seed_from_u64(4);
        assert!(Rational::new(1, 0).is_err());
        assert!(discrete_laplace(&mut rng, Rational { num: 0, den: 1 }).is_err());
        assert!(discrete_gaussian(&mut rng, Rational { num: 0, den: 1 }).is_err());
        // A zero denominator built from the public fields is an error, not
        // a division by zero.
        let zero = Rational { num: 1, den: 0 };
        assert!(bernoulli_exp(&mut rng, zero).is_err());
        assert!(discrete_laplace(&mut rng, zero).is_err());
        assert!(discrete_gaussian(&mut rng, zero).is_err());
        // The largest σ² draws without overflowing the square root.
        let _ = discrete_gaussian(
            &mut rng,
            Rational {
                num: u128::MAX,
                den: 1,
            },
        );
    }
}

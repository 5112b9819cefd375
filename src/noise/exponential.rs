//! The exponential mechanism and Bernoulli sampling of records, exactly
//! ([§8.4](crate::methods#84-differentially-private-anonymization-safepub)).
//!
//! Both reduce to [`bernoulli_exp`] on rationals: no floating-point value
//! decides an outcome.

use rand::{Rng, RngExt};

use crate::error::{Error, Result};
use crate::noise::discrete::{Rational, bernoulli_exp};
use crate::noise::mechanism::gcd;

fn overflow() -> Error {
    Error::parameter(
        "exponential mechanism",
        "scores too large for exact sampling in 128-bit integers",
    )
}

/// `num / den` in lowest terms.
fn reduced(num: u128, den: u128) -> Rational {
    let g = gcd(num, den).max(1);
    Rational {
        num: num / g,
        den: den / g,
    }
}

/// The exponential mechanism on losses (McSherry and Talwar 2007): returns
/// index `i` with probability proportional to exp(−`per_unit`·(`losses[i]`
/// − min loss)), exactly.
///
/// `losses` are integers in units chosen by the caller (lower is better),
/// `per_unit` is ε/(2Δ) with Δ the sensitivity of the loss in those units:
/// the selection is then ε-differentially private.
///
/// Sampling is by rejection: draw an index uniformly and keep it with
/// probability exp(−x_i), x_i = `per_unit`·(loss_i − min) ≥ 0. An index with
/// the least loss is kept with probability 1, so at most as many rounds
/// as there are candidates are expected; the kept index has exactly the
/// stated distribution, since each round picks `i` with probability
/// exp(−x_i)/m and rounds are independent.
///
/// # Errors
///
/// [`crate::ErrorKind::InvalidParameter`] when there are no candidates,
/// `per_unit` has a zero denominator, or the exponents overflow 128 bits.
///
/// # Examples
///
/// ```
/// use deidentify::noise::{Rational, exponential_mechanism};
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// // ε = 1, sensitivity 1 unit: per unit ε/2.
/// let chosen = exponential_mechanism(&mut rng, &[3, 0, 10], Rational::new(1, 2)?)?;
/// assert!(chosen < 3);
/// # Ok::<(), deidentify::Error>(())
/// ```
pub fn exponential_mechanism<R: Rng + ?Sized>(
    rng: &mut R,
    losses: &[u128],
    per_unit: Rational,
) -> Result<usize> {
    let per_unit = per_unit.checked()?;
    let Some(&least) = losses.iter().min() else {
        return Err(Error::parameter(
            "exponential mechanism",
            "there are no candidates to choose from",
        ));
    };
    let exponents = losses
        .iter()
        .map(|&loss| {
            let num = per_unit
                .num
                .checked_mul(loss - least)
                .ok_or_else(overflow)?;
            Ok(reduced(num, per_unit.den))
        })
        .collect::<Result<Vec<Rational>>>()?;
    loop {
        let i = rng.random_range(0..exponents.len());
        if bernoulli_exp(rng, exponents[i])? {
            return Ok(i);
        }
    }
}

/// Bernoulli(1 − exp(−ε)), exactly: whether a record enters a sample drawn
/// with probability β = 1 − e^(−ε) (the largest β that sampling at ε
/// allows, [§8.4](crate::methods#84-differentially-private-anonymization-safepub)).
///
/// # Errors
///
/// As [`bernoulli_exp`].
pub fn bernoulli_one_minus_exp<R: Rng + ?Sized>(rng: &mut R, epsilon: Rational) -> Result<bool> {
    Ok(!bernoulli_exp(rng, epsilon)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use statrs::distribution::{ChiSquared, ContinuousCDF};

    /// Pearson's χ² of observed counts against expected probabilities,
    /// and its p-value.
    fn chi_squared_p(observed: &[u64], probabilities: &[f64]) -> f64 {
        let n: u64 = observed.iter().sum();
        let statistic: f64 = observed
            .iter()
            .zip(probabilities)
            .map(|(&o, &p)| {
                let e = p * n as f64;
                (o as f64 - e).powi(2) / e
            })
            .sum();
        let freedom = (observed.len() - 1) as f64;
        1.0 - ChiSquared::new(freedom).unwrap().cdf(statistic)
    }

    #[test]
    fn selection_frequencies_match_the_exact_probabilities() {
        // Losses 0, 1, 2, 5 and 40 (the last practically never chosen) at
        // per-unit 1/2 and 3/7.
        let mut rng = StdRng::seed_from_u64(11);
        for per_unit in [Rational::new(1, 2).unwrap(), Rational::new(3, 7).unwrap()] {
            let losses = [2u128, 0, 5, 1, 40];
            let weights: Vec<f64> = losses
                .iter()
                .map(|&l| (-(per_unit.num as f64 / per_unit.den as f64) * l as f64).exp())
                .collect();
            let total: f64 = weights.iter().sum();
            let probabilities: Vec<f64> = weights.iter().map(|w| w / total).collect();
            let draws = 40_000;
            let mut observed = [0u64; 5];
            for _ in 0..draws {
                observed[exponential_mechanism(&mut rng, &losses, per_unit).unwrap()] += 1;
            }
            // The last cell's expectation (below 0.01) is pooled with the one before.
            let pooled = [
                observed[0],
                observed[1],
                observed[2],
                observed[3] + observed[4],
            ];
            let pooled_p = [
                probabilities[0],
                probabilities[1],
                probabilities[2],
                probabilities[3] + probabilities[4],
            ];
            let p = chi_squared_p(&pooled, &pooled_p);
            assert!(p > 0.001, "χ² p = {p} for {per_unit:?}: {observed:?}");
        }
    }

    #[test]
    fn the_selection_is_a_function_of_the_seed() {
        let losses = [3u128, 1, 4, 1, 5, 9, 2, 6];
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..50)
                .map(|_| {
                    exponential_mechanism(&mut rng, &losses, Rational::new(1, 3).unwrap()).unwrap()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn sampling_rate_is_one_minus_exp() {
        let mut rng = StdRng::seed_from_u64(12);
        for (num, den) in [(1u128, 2u128), (9, 10), (2, 1)] {
            let n = 100_000;
            let hits = (0..n)
                .filter(|_| bernoulli_one_minus_exp(&mut rng, Rational { num, den }).unwrap())
                .count();
            let p = 1.0 - (-(num as f64) / den as f64).exp();
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (hits as f64 / n as f64 - p).abs() < 5.0 * sd,
                "ε = {num}/{den}"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut rng = StdRng::seed_from_u64(13);
        assert!(exponential_mechanism(&mut rng, &[], Rational { num: 1, den: 2 }).is_err());
        assert!(exponential_mechanism(&mut rng, &[1], Rational { num: 1, den: 0 }).is_err());
        assert!(
            exponential_mechanism(&mut rng, &[0, u128::MAX], Rational { num: 2, den: 1 }).is_err()
        );
        // A single candidate is always chosen.
        assert_eq!(
            exponential_mechanism(&mut rng, &[7], Rational { num: 1, den: 1 }).unwrap(),
            0
        );
    }
}

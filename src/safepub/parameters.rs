//! The sampling probability β and the class size k that make sampling
//! followed by safe k-anonymization (ε, δ)-differentially private
//! ([§8.4](crate::methods#84-differentially-private-anonymization-safepub)).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Relative safety margin on the computed δ: k is the smallest class size
/// whose δ, inflated by this factor, is still below the target (covers the
/// rounding of the binomial tails in `f64`, relative errors below 1e-9).
const MARGIN: f64 = 1e-6;

/// Largest class size searched for (beyond it the target δ is unreachable
/// in practice).
const MAX_K: u64 = 1_000_000;

/// Largest sample size n the maximum over n is taken to (reached near
/// ε = 5, where β = 0.9933: beyond, the Chernoff bound that ends the
/// maximum falls too slowly).
const MAX_N: u64 = 2_000_000;

/// β and k for an anonymization budget ε and a target δ.
///
/// # Definition
///
/// Li, Qardaji and Su (2012, Theorem 5): drawing each record independently
/// with probability β and then releasing the records of every class of a
/// data-independent generalization that holds at least k sampled records
/// (suppressing the others) is (ε, δ)-differentially private for any
/// ε ≥ −ln(1 − β) and
///
/// δ = d(k) = max over n ≥ n_m of Σ_{j > γn}^{n} C(n, j) β^j (1 − β)^(n − j),
///
/// with γ = (e^ε − 1 + β)/e^ε and n_m = ⌈k/γ − 1⌉. Here β = 1 − e^(−ε),
/// the largest admissible (so γ = 1 − e^(−2ε)), and k is the smallest
/// class size with d(k) < δ. The maximum over n stops at the first n where
/// the running maximum reaches c_n = exp(−n(γ ln(γ/β) − (γ − β))), a
/// Chernoff bound on every later term that decreases in n (Bild, Kuhn and
/// Prasser 2018, Section 5).
///
/// ARX (`ParameterCalculation`) reports this k plus one: its loop
/// increments once more after the test succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingParameters {
    /// The ε the sampling and suppression spend.
    pub epsilon: f64,
    /// The target δ.
    pub delta: f64,
    /// The sampling probability β = 1 − e^(−ε).
    pub beta: f64,
    /// The smallest class size k with d(k) < δ.
    pub k: u64,
    /// d(k), as computed (below δ by at least the safety margin).
    pub delta_at_k: f64,
}

impl SamplingParameters {
    /// Derives β and k for `epsilon` and `delta`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for ε not positive and finite,
    /// δ outside (0, 1), or a δ no class size up to one million reaches.
    ///
    /// # Examples
    ///
    /// ```
    /// use deidentify::safepub::SamplingParameters;
    ///
    /// let p = SamplingParameters::derive(1.0, 1e-6)?;
    /// assert_eq!(p.k, 74);
    /// assert!((p.beta - 0.632_120_558_828_557_7).abs() < 1e-15);
    /// # Ok::<(), deidentify::Error>(())
    /// ```
    pub fn derive(epsilon: f64, delta: f64) -> Result<SamplingParameters> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(Error::parameter(
                "epsilon",
                format!("the anonymization's ε must be positive and finite, got {epsilon}"),
            ));
        }
        if !(delta > 0.0 && delta < 1.0) {
            return Err(Error::parameter(
                "delta",
                format!("δ must be in (0, 1), got {delta}"),
            ));
        }
        let beta = -(-epsilon).exp_m1();
        let gamma = -(-2.0 * epsilon).exp_m1();
        let mut tails = Tails::new(beta, gamma);
        // The maximum over n ends by n ≈ ln(1/δ)/divergence at the latest.
        let settles_by = (1.0 / delta).ln() / tails.divergence;
        if settles_by.is_nan() || settles_by > MAX_N as f64 {
            return Err(Error::parameter(
                "epsilon",
                format!(
                    "the anonymization's ε = {epsilon} samples with β = {beta:.6}, too close to 1 to derive k for δ = {delta}: use an ε of at most about 5"
                ),
            ));
        }
        for k in 1..=MAX_K {
            let d = tails.delta_for(k)?;
            if d * (1.0 + MARGIN) < delta {
                return Ok(SamplingParameters {
                    epsilon,
                    delta,
                    beta,
                    k,
                    delta_at_k: d,
                });
            }
        }
        Err(Error::parameter(
            "delta",
            format!("no class size up to {MAX_K} reaches δ = {delta} at ε = {epsilon}"),
        ))
    }
}

/// The terms a_n (binomial upper tails) and c_n (their Chernoff bounds),
/// computed once per n and shared by every k.
struct Tails {
    beta: f64,
    gamma: f64,
    /// γ ln(γ/β) − (γ − β) > 0.
    divergence: f64,
    /// ln n! for n = 0, 1, … as far as needed.
    log_factorials: Vec<f64>,
    a: Vec<f64>,
}

impl Tails {
    fn new(beta: f64, gamma: f64) -> Tails {
        Tails {
            beta,
            gamma,
            divergence: gamma * (gamma / beta).ln() - (gamma - beta),
            log_factorials: vec![0.0],
            a: Vec::new(),
        }
    }

    fn log_factorial(&mut self, n: u64) -> f64 {
        while self.log_factorials.len() as u64 <= n {
            let i = self.log_factorials.len();
            let last = self.log_factorials[i - 1];
            self.log_factorials.push(last + (i as f64).ln());
        }
        self.log_factorials[n as usize]
    }

    /// a_n = Σ_{j = ⌊nγ⌋+1}^{n} C(n, j) β^j (1 − β)^(n − j), summed from
    /// the smallest term (j = n) up.
    fn a(&mut self, n: u64) -> f64 {
        while self.a.len() as u64 <= n {
            let m = self.a.len() as u64;
            let from = (m as f64 * self.gamma).floor() as u64 + 1;
            let (ln_beta, ln_rest) = (self.beta.ln(), (-self.beta).ln_1p());
            let ln_m = self.log_factorial(m);
            let mut sum = 0.0;
            for j in (from..=m).rev() {
                let ln_term = ln_m - self.log_factorial(j) - self.log_factorial(m - j)
                    + j as f64 * ln_beta
                    + (m - j) as f64 * ln_rest;
                sum += ln_term.exp();
            }
            self.a.push(sum);
        }
        self.a[n as usize]
    }

    fn c(&self, n: u64) -> f64 {
        (-(n as f64) * self.divergence).exp()
    }

    /// d(k) = max_{n ≥ n_m} a_n, stopping once the maximum reaches c_n.
    fn delta_for(&mut self, k: u64) -> Result<f64> {
        let start = (k as f64 / self.gamma - 1.0).ceil().max(0.0) as u64;
        let mut best = f64::NEG_INFINITY;
        for n in start..=MAX_N {
            best = best.max(self.a(n));
            if best >= self.c(n) {
                return Ok(best);
            }
        }
        Err(Error::parameter(
            "delta",
            format!("the maximum over n did not settle below n = {MAX_N}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// k computed independently with exact binomial sums in 60-digit
    /// decimal arithmetic (`tests/reference/safepub_k.py`: Python `decimal`
    /// and `math.comb`, the same formulas): (ε, δ, β, k, d(k)).
    const REFERENCE: [(f64, f64, f64, u64, f64); 18] = [
        (0.4, 1e-4, 0.3296799539643607, 39, 7.489936048382315e-05),
        (0.4, 1e-5, 0.3296799539643607, 49, 9.762051704104525e-06),
        (0.4, 1e-6, 0.3296799539643607, 62, 9.109567387663015e-07),
        (0.5, 1e-4, 0.3934693402873666, 39, 9.191285281268833e-05),
        (0.5, 1e-5, 0.3934693402873666, 51, 9.113202502745913e-06),
        (0.5, 1e-6, 0.3934693402873666, 63, 9.257610350121247e-07),
        (0.9, 1e-4, 0.5934303402594009, 44, 9.89830227697891e-05),
        (0.9, 1e-5, 0.5934303402594009, 58, 8.893990414952321e-06),
        (0.9, 1e-6, 0.5934303402594009, 73, 7.120210143220376e-07),
        (1.0, 1e-4, 0.6321205588285577, 47, 9.209918826299303e-05),
        (1.0, 1e-5, 0.6321205588285577, 61, 7.802839759357398e-06),
        (1.0, 1e-6, 0.6321205588285577, 74, 8.994780812377255e-07),
        (1.9, 1e-4, 0.8504313807773649, 73, 8.707413566713485e-05),
        (1.9, 1e-5, 0.8504313807773649, 102, 8.903564521971955e-06),
        (1.9, 1e-6, 0.8504313807773649, 118, 8.754710371067079e-07),
        (2.0, 1e-4, 0.8646647167633873, 81, 9.172258422822679e-05),
        (2.0, 1e-5, 0.8646647167633873, 113, 9.81191253488303e-06),
        (2.0, 1e-6, 0.8646647167633873, 131, 9.445777333735384e-07),
    ];

    #[test]
    fn beta_and_k_agree_with_exact_arithmetic() {
        for (epsilon, delta, beta, k, d) in REFERENCE {
            let p = SamplingParameters::derive(epsilon, delta).unwrap();
            assert!((p.beta - beta).abs() < 1e-15, "β at ε = {epsilon}");
            assert_eq!(p.k, k, "k at ε = {epsilon}, δ = {delta}");
            assert!(
                ((p.delta_at_k - d) / d).abs() < 1e-9,
                "d(k) at ε = {epsilon}, δ = {delta}: {} vs {d}",
                p.delta_at_k
            );
            // One class size less does not reach δ.
            let mut tails = Tails::new(p.beta, -(-2.0 * epsilon).exp_m1());
            assert!(tails.delta_for(k - 1).unwrap() >= delta);
        }
    }

    #[test]
    fn gamma_has_its_closed_form() {
        for epsilon in [0.1f64, 0.9, 2.5] {
            let beta = -(-epsilon).exp_m1();
            let gamma = (epsilon.exp() - 1.0 + beta) / epsilon.exp();
            assert!((gamma - -(-2.0 * epsilon).exp_m1()).abs() < 1e-15);
        }
    }

    #[test]
    fn a_sampling_rate_too_close_to_one_is_refused_at_once() {
        for epsilon in [6.0, 8.0, 50.0] {
            let error = SamplingParameters::derive(epsilon, 1e-6)
                .unwrap_err()
                .to_string();
            assert!(error.contains("too close to 1"), "{error}");
        }
        // ε = 4 still derives (β = 0.9817).
        assert!(SamplingParameters::derive(4.0, 1e-6).is_ok());
    }

    #[test]
    fn bad_parameters_are_errors() {
        for (epsilon, delta) in [
            (0.0, 1e-6),
            (-1.0, 1e-6),
            (f64::NAN, 1e-6),
            (f64::INFINITY, 1e-6),
            (1.0, 0.0),
            (1.0, 1.0),
            (1.0, -0.5),
            (1.0, f64::NAN),
        ] {
            let error = SamplingParameters::derive(epsilon, delta)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("ε") || error.contains("δ"),
                "{epsilon}, {delta}: {error}"
            );
        }
    }
}

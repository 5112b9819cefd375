//! k-map, estimated from the sample (ARX's `KMap` with a cell-size estimator).

use serde::{Deserialize, Serialize};
use statrs::distribution::{Discrete, DiscreteCDF, Poisson};

use crate::error::{Error, Result};
use crate::frequency::table::EquivalenceClass;
use crate::model::{Monotonicity, PrivacyModel, probability};

/// How population class sizes are estimated from sample class sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellSizeEstimator {
    /// Poisson (Pannekoek 1999; El Emam & Dankar's D3).
    #[default]
    Poisson,
    /// Zero-truncated Poisson (El Emam & Dankar's D4).
    ZeroTruncatedPoisson,
}

/// k-map: every released class stands for at least k individuals of the
/// population, enforced as k′-anonymity on the sample with k′ derived from
/// the sampling fraction.
///
/// # Definition
///
/// Each class E of the release must have F_E ≥ k records in the population
/// ([§3.5](crate::methods#35-k-map)). Without the population table, F_E is estimated: with
/// sampling fraction f = n/N and λ = f·k, a population class of k
/// individuals leaves a Poisson(λ) number of them in the sample. k′ is the
/// smallest class size such that a class of k′ sample records comes from a
/// population class of fewer than k with probability at most the
/// significance level α. As ARX computes it (`KMap.calculateKPoisson`):
/// with c* the smallest c ≥ 0 with P(X ≤ c) ≥ 1 − α, k′ = c* + 2; for the
/// zero-truncated Poisson, with P(1 ≤ X ≤ c | X ≥ 1) ≥ 1 − α, k′ = c* + 1.
/// The search stops at k (a class of k sample records certainly stands for
/// k individuals: type I error 0), and k′ = min(k, k′, n). The type I
/// error is 1 − the probability reached; when k′ is capped at n, the
/// search stops there too, and the error is that of the last size tried.
///
/// # Monotonicity
///
/// It is k′-anonymity: monotone under generalization and with suppression
/// (ARX: both true).
///
/// # Citations
///
/// Sweeney, IJUFKS 10(5), 2002; El Emam & Dankar, "Protecting privacy using
/// k-anonymity", JAMIA 15(5):627–637, 2008; Pannekoek, Statistica
/// Neerlandica 53(1):55–67, 1999. ARX `criteria/KMap.java`.
#[derive(Clone, Debug, PartialEq)]
pub struct KMap {
    k: u64,
    derived_k: u64,
    estimator: CellSizeEstimator,
    type1_error: f64,
}

impl KMap {
    /// k-map over a population of `population` individuals, of which the
    /// table holds a sample of `rows`, at significance level `significance`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when k < 1 or k is above the
    /// population, `significance` is not in [0, 1], the table is empty, or
    /// the population is smaller than the table.
    pub fn estimated(
        k: u64,
        rows: u64,
        population: u64,
        significance: f64,
        estimator: CellSizeEstimator,
    ) -> Result<KMap> {
        if k < 1 {
            return Err(Error::parameter("k", "k must be at least 1"));
        }
        let significance = probability("significance", significance)?;
        if rows == 0 || population < rows {
            return Err(Error::parameter(
                "population",
                format!("the population ({population}) must hold the table's {rows} records"),
            ));
        }
        if k > population {
            return Err(Error::parameter(
                "k",
                format!("k = {k} is larger than the population ({population})"),
            ));
        }
        // The loops stop at k, as ARX's, and also once k′ would exceed the
        // table (it is capped at n then), so a huge λ cannot make them run
        // for long.
        let stop = k.min(rows.saturating_add(2));
        let lambda = rows as f64 / population as f64 * k as f64;
        let poisson = Poisson::new(lambda)
            .map_err(|e| Error::parameter("population", format!("λ = f·k = {lambda}: {e}")))?;
        let threshold = 1.0 - significance;
        // ARX's loops, with its stop at k: the Poisson one starts at 0 and
        // reads the CDF, returning counter + 1; the zero-truncated one
        // starts at 1 and sums the truncated mass, returning counter.
        let truncated = estimator == CellSizeEstimator::ZeroTruncatedPoisson;
        // 1 − e^(−λ), precise for small λ.
        let nonzero = -(-lambda).exp_m1();
        let (mut counter, mut value) = (u64::from(truncated), 0.0f64);
        while value < threshold {
            value = if truncated {
                value + poisson.pmf(counter) / nonzero
            } else {
                poisson.cdf(counter)
            };
            counter += 1;
            if counter >= k {
                value = 1.0;
                break;
            }
            if counter >= stop {
                break;
            }
        }
        let (derived, reached) = (counter + u64::from(!truncated), value);
        Ok(KMap {
            k,
            derived_k: derived.min(rows).min(k),
            estimator,
            type1_error: 1.0 - reached,
        })
    }

    /// The k of the population.
    pub fn k(&self) -> u64 {
        self.k
    }

    /// The k′ enforced on the sample.
    pub fn derived_k(&self) -> u64 {
        self.derived_k
    }

    /// The estimator.
    pub fn estimator(&self) -> CellSizeEstimator {
        self.estimator
    }

    /// The type I error of k′: the probability that a class of k′ sample
    /// records stands for fewer than k individuals.
    pub fn type1_error(&self) -> f64 {
        self.type1_error
    }
}

impl PrivacyModel for KMap {
    fn name(&self) -> String {
        let estimator = match self.estimator {
            CellSizeEstimator::Poisson => "Poisson",
            CellSizeEstimator::ZeroTruncatedPoisson => "zero-truncated Poisson",
        };
        format!(
            "{}-map (estimated as {}-anonymity, {estimator}, type I error {:.4})",
            self.k, self.derived_k, self.type1_error
        )
    }

    fn monotonicity(&self) -> Monotonicity {
        Monotonicity {
            generalization: true,
            suppression: true,
        }
    }

    fn minimal_class_size(&self) -> u64 {
        self.derived_k
    }

    fn is_satisfied_by(&self, class: &EquivalenceClass<'_>) -> bool {
        class.size() >= self.derived_k
    }

    fn decided_by_size(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(k: u64, rows: u64, population: u64, e: CellSizeEstimator) -> (u64, f64) {
        let m = KMap::estimated(k, rows, population, 0.05, e).unwrap();
        (m.derived_k(), m.type1_error())
    }

    #[test]
    fn derived_k_follows_arx_on_hand_computed_poisson_tails() {
        use CellSizeEstimator::*;
        // f = 1/4, k = 20: λ = 5. P(X ≤ 8) = 0.93191, P(X ≤ 9) = 0.96817,
        // so c* = 9 and k′ = 11 (ARX's c* + 2), type I error 0.03183.
        let (k, e) = derived(20, 1_000, 4_000, Poisson);
        assert_eq!(k, 11);
        assert!((e - (1.0 - 0.968_171_942_693_795_3)).abs() < 1e-12, "{e}");
        // Zero-truncated: P(1 ≤ X ≤ 9 | X ≥ 1) = 0.96796 ≥ 0.95 > 0.93144
        // (c = 8), so c* = 9 and k′ = 10.
        let (k, e) = derived(20, 1_000, 4_000, ZeroTruncatedPoisson);
        assert_eq!(k, 10);
        assert!((e - (1.0 - 0.967_956_032_136_691_9)).abs() < 1e-12, "{e}");
        // k = 10 with λ = 5: the search reaches k first; k′ = k, no error.
        assert_eq!(derived(10, 1_000, 2_000, Poisson), (10, 0.0));
        assert_eq!(derived(10, 1_000, 2_000, ZeroTruncatedPoisson), (10, 0.0));
        // Adult in the US population: λ = 30162/317.2M · 5 = 0.000475,
        // P(X = 0) = 0.99952 already: k′ = 2.
        let (k, e) = derived(5, 30_162, 317_200_000, Poisson);
        assert_eq!(k, 2);
        assert!((e - (1.0 - (-0.000_475_441_361_916_771_8f64).exp())).abs() < 1e-12);
        // Never above the table.
        assert_eq!(derived(50, 3, 60, Poisson).0, 3);
    }

    #[test]
    fn parameters_out_of_range_are_errors() {
        use CellSizeEstimator::Poisson;
        assert!(KMap::estimated(0, 10, 100, 0.05, Poisson).is_err());
        assert!(KMap::estimated(5, 10, 100, 1.5, Poisson).is_err());
        assert!(KMap::estimated(5, 10, 100, f64::NAN, Poisson).is_err());
        assert!(KMap::estimated(5, 10, 9, 0.05, Poisson).is_err());
        assert!(KMap::estimated(5, 0, 9, 0.05, Poisson).is_err());
        assert!(KMap::estimated(101, 10, 100, 0.05, Poisson).is_err());
        // A huge k and λ stop at the table's size at once.
        let m = KMap::estimated(1 << 40, 10, 1 << 41, 0.05, Poisson).unwrap();
        assert_eq!(m.derived_k(), 10);
        let m = KMap::estimated(
            1 << 40,
            10,
            1 << 41,
            0.05,
            CellSizeEstimator::ZeroTruncatedPoisson,
        )
        .unwrap();
        assert_eq!(m.derived_k(), 10);
        // A tiny λ keeps a finite type I error with the zero-truncated Poisson.
        let m =
            KMap::estimated(3, 1, 1 << 60, 0.05, CellSizeEstimator::ZeroTruncatedPoisson).unwrap();
        assert!(m.type1_error().is_finite(), "{}", m.type1_error());
    }
}

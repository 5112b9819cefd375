//! Statistical additive noise for numeric columns (sdcMicro `addNoise`;
//! [§7.3](crate::methods#73-additive-noise)).
//!
//! This is masking for statistical disclosure control, not differential
//! privacy: use the exact discrete samplers for DP releases.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the noise of different columns relates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseCorrelation {
    /// Independent noise per column: e_j ~ N(0, (p·s_j)²).
    Uncorrelated,
    /// Noise with the columns' covariance: e ~ N(0, p²·Σ), so correlations
    /// between columns are preserved.
    Correlated,
}

/// Additive noise scaled to a fraction `p` of each column's spread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdditiveNoise {
    /// Uncorrelated or correlated.
    pub correlation: NoiseCorrelation,
    /// The noise standard deviation as a fraction of the column's (p > 0).
    pub fraction: f64,
}

impl AdditiveNoise {
    /// Adds noise to `columns` with the given random source (pass a seeded
    /// RNG for reproducible tests; production use seeds from the operating system).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for p ≤ 0, no columns or
    /// unequal lengths, fewer than 2 rows, non-finite values, or (correlated)
    /// a covariance matrix that is not positive definite.
    pub fn apply<R: Rng + ?Sized>(
        &self,
        columns: &[Vec<f64>],
        rng: &mut R,
    ) -> Result<Vec<Vec<f64>>> {
        self.check(columns)?;
        let covariance = covariance(columns);
        self.apply_with_covariance(columns, &covariance, rng)
    }

    /// Adds noise scaled by a given covariance matrix Σ of the columns
    /// (noise e ~ N(0, p²·Σ), or with only Σ's diagonal when uncorrelated)
    /// instead of the covariance of `columns`: replaying a recorded
    /// transformation on new data uses the covariance it was fitted on. The
    /// random draws are the same as [`AdditiveNoise::apply`]'s.
    ///
    /// # Errors
    ///
    /// As [`AdditiveNoise::apply`], and for a covariance matrix that is not
    /// d × d for d columns, not symmetric, has a non-finite entry or a
    /// negative one on its diagonal.
    pub fn apply_with_covariance<R: Rng + ?Sized>(
        &self,
        columns: &[Vec<f64>],
        cov: &[Vec<f64>],
        rng: &mut R,
    ) -> Result<Vec<Vec<f64>>> {
        self.check(columns)?;
        let d = columns.len();
        let n = columns[0].len();
        check_covariance(cov, d)?;
        // The factor L with L·Lᵀ = the noise covariance.
        let factor: Vec<Vec<f64>> = match self.correlation {
            NoiseCorrelation::Uncorrelated => (0..d)
                .map(|a| (0..d).map(|b| if a == b { cov[a][a].sqrt() } else { 0.0 }).collect())
                .collect(),
            NoiseCorrelation::Correlated => cholesky(cov).ok_or_else(|| {
                Error::parameter("columns", "the covariance matrix is not positive definite (a constant or collinear column)")
            })?,
        };
        let mut out: Vec<Vec<f64>> = columns.to_vec();
        let mut z = vec![0.0; d];
        for i in 0..n {
            for zj in z.iter_mut() {
                *zj = StandardNormal.sample(rng);
            }
            for (a, column) in out.iter_mut().enumerate() {
                let e: f64 = (0..=a).map(|b| factor[a][b] * z[b]).sum();
                column[i] += self.fraction * e;
            }
        }
        // Finite inputs and a finite p can still overflow (p = 1e308).
        if out.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::parameter(
                "fraction",
                format!(
                    "noise of {} standard deviations overflows the numbers",
                    self.fraction
                ),
            ));
        }
        Ok(out)
    }
}

impl AdditiveNoise {
    /// Checks p and the columns.
    fn check(&self, columns: &[Vec<f64>]) -> Result<()> {
        if !(self.fraction > 0.0 && self.fraction.is_finite()) {
            return Err(Error::parameter(
                "fraction",
                format!("must be positive, got {}", self.fraction),
            ));
        }
        let n = columns.first().map_or(0, Vec::len);
        if columns.is_empty() || columns.iter().any(|c| c.len() != n) || n < 2 {
            return Err(Error::parameter(
                "columns",
                "numeric columns of equal length, at least 2 rows, are needed",
            ));
        }
        if columns.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::parameter(
                "columns",
                "every value must be a finite number",
            ));
        }
        Ok(())
    }
}

/// The sample covariance matrix (divisor n − 1) of equally long columns with
/// at least 2 rows (the caller checks).
pub(crate) fn covariance(columns: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = columns.len();
    let n = columns[0].len();
    let means: Vec<f64> = columns
        .iter()
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .collect();
    let mut cov = vec![vec![0.0; d]; d];
    for a in 0..d {
        for b in 0..=a {
            let s: f64 = (0..n)
                .map(|i| (columns[a][i] - means[a]) * (columns[b][i] - means[b]))
                .sum::<f64>()
                / (n - 1) as f64;
            cov[a][b] = s;
            cov[b][a] = s;
        }
    }
    cov
}

/// Checks that `cov` is a symmetric d × d matrix of finite numbers with a
/// non-negative diagonal.
pub(crate) fn check_covariance(cov: &[Vec<f64>], d: usize) -> Result<()> {
    if cov.len() != d || cov.iter().any(|row| row.len() != d) {
        return Err(Error::parameter(
            "covariance",
            format!("a {d} × {d} matrix is needed for {d} columns"),
        ));
    }
    for (a, row) in cov.iter().enumerate() {
        for (b, &value) in row.iter().enumerate() {
            if !value.is_finite() {
                return Err(Error::parameter(
                    "covariance",
                    format!(
                        "entry ({}, {}) is {value}, not a finite number",
                        a + 1,
                        b + 1
                    ),
                ));
            }
            if value != cov[b][a] {
                return Err(Error::parameter(
                    "covariance",
                    format!(
                        "the matrix is not symmetric: entry ({}, {}) is {value} but ({}, {}) is {}",
                        a + 1,
                        b + 1,
                        b + 1,
                        a + 1,
                        cov[b][a]
                    ),
                ));
            }
        }
        if row[a] < 0.0 {
            return Err(Error::parameter(
                "covariance",
                "the variances on the diagonal must be non-negative",
            ));
        }
    }
    Ok(())
}

/// The lower Cholesky factor of a symmetric positive definite matrix.
fn cholesky(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let d = m.len();
    let mut l = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let v = m[i][i] - s;
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                l[i][j] = v.sqrt();
            } else {
                l[i][j] = (m[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use statrs::distribution::{ContinuousCDF, Normal};

    /// The Kolmogorov–Smirnov statistic of `sample` against N(0, 1).
    fn ks(mut sample: Vec<f64>) -> f64 {
        sample.sort_by(f64::total_cmp);
        let normal = Normal::new(0.0, 1.0).unwrap();
        let n = sample.len() as f64;
        sample
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = normal.cdf(x);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn uncorrelated_noise_is_normal_with_the_intended_scale() {
        let n = 100_000;
        let x: Vec<f64> = (0..n).map(|i| (i % 1000) as f64).collect();
        let sd = {
            let m = x.iter().sum::<f64>() / n as f64;
            (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        let noise = AdditiveNoise {
            correlation: NoiseCorrelation::Uncorrelated,
            fraction: 0.1,
        };
        let out = noise
            .apply(std::slice::from_ref(&x), &mut StdRng::seed_from_u64(11))
            .unwrap();
        let standardized: Vec<f64> = out[0]
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b) / (0.1 * sd))
            .collect();
        // KS critical value at α = 0.001: 1.95/√n.
        let d = ks(standardized);
        assert!(d < 1.95 / (n as f64).sqrt(), "D = {d}");
        // The same seed gives the same output.
        assert_eq!(
            out,
            noise
                .apply(std::slice::from_ref(&x), &mut StdRng::seed_from_u64(11))
                .unwrap()
        );
    }

    #[test]
    fn correlated_noise_has_the_columns_covariance() {
        let n = 50_000;
        let mut rng = StdRng::seed_from_u64(5);
        let a: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let b: Vec<f64> = a
            .iter()
            .map(|v: &f64| {
                2.0 * v + {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    z
                } * 0.5
            })
            .collect();
        let noise = AdditiveNoise {
            correlation: NoiseCorrelation::Correlated,
            fraction: 0.5,
        };
        let out = noise
            .apply(&[a.clone(), b.clone()], &mut StdRng::seed_from_u64(6))
            .unwrap();
        let ea: Vec<f64> = out[0].iter().zip(&a).map(|(x, y)| x - y).collect();
        let eb: Vec<f64> = out[1].iter().zip(&b).map(|(x, y)| x - y).collect();
        let cov = |x: &[f64], y: &[f64]| {
            let (mx, my) = (
                x.iter().sum::<f64>() / n as f64,
                y.iter().sum::<f64>() / n as f64,
            );
            x.iter()
                .zip(y)
                .map(|(p, q)| (p - mx) * (q - my))
                .sum::<f64>()
                / (n - 1) as f64
        };
        // Noise covariance ≈ p²·Σ = 0.25·Σ.
        for (e1, e2, x1, x2) in [(&ea, &ea, &a, &a), (&ea, &eb, &a, &b), (&eb, &eb, &b, &b)] {
            let (got, want) = (cov(e1, e2), 0.25 * cov(x1, x2));
            assert!(
                (got - want).abs() < 0.03 * want.abs().max(0.1),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn bad_input() {
        let bad = |c: NoiseCorrelation, p: f64, cols: &[Vec<f64>]| {
            AdditiveNoise {
                correlation: c,
                fraction: p,
            }
            .apply(cols, &mut StdRng::seed_from_u64(1))
            .is_err()
        };
        assert!(bad(NoiseCorrelation::Uncorrelated, 0.0, &[vec![1.0, 2.0]]));
        assert!(bad(NoiseCorrelation::Uncorrelated, 0.1, &[vec![1.0]]));
        assert!(bad(
            NoiseCorrelation::Uncorrelated,
            0.1,
            &[vec![1.0, f64::NAN]]
        ));
        assert!(bad(
            NoiseCorrelation::Correlated,
            0.1,
            &[vec![1.0, 2.0, 3.0], vec![2.0, 4.0, 6.0]]
        ));
    }
}

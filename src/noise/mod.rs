//! Calibrated noise ([§8](crate::methods#8-noise-and-differential-privacy)): exact discrete samplers, the DP
//! mechanisms for counts and for real-valued sums and means built on them,
//! with a budget accountant.

mod discrete;
#[cfg(test)]
mod fit;
mod mechanism;
mod sum;

pub use discrete::{Rational, bernoulli_exp, discrete_gaussian, discrete_laplace};
pub use mechanism::{PrivacyBudget, analytic_gaussian_sigma, gaussian_count, laplace_count};
pub use sum::{BoundedSum, NoisyMean, NoisySum, SumNoise, bounded_mean};

//! Calibrated noise ([§8](crate::methods#8-noise-and-differential-privacy)): exact discrete samplers, the DP
//! mechanisms for counts and for real-valued sums and means built on them,
//! with budget accountants (ε, and ρ of zero-concentrated DP), Gaussian
//! histograms, and the exponential mechanism and record
//! sampling of differentially private anonymization ([`crate::safepub`]).

mod discrete;
mod exponential;
#[cfg(test)]
pub(crate) mod fit;
pub(crate) mod mechanism;
mod sum;
mod zcdp;

pub(crate) use zcdp::epsilon_within;

pub use discrete::{Rational, bernoulli_exp, discrete_gaussian, discrete_laplace};
pub use exponential::{bernoulli_one_minus_exp, exponential_mechanism};
pub use mechanism::{PrivacyBudget, analytic_gaussian_sigma, gaussian_count, laplace_count};
pub use sum::{BoundedSum, NoisyMean, NoisySum, SumNoise, bounded_mean};
pub use zcdp::{
    ZcdpBudget, epsilon_for, gaussian_histogram, histogram_variance, rho_for, tight_epsilon_for,
    tight_rho_for,
};

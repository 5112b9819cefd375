//! Calibrated noise (METHODS.md §7): exact discrete samplers and the DP
//! mechanisms for counts built on them, with a budget accountant.

mod discrete;
mod mechanism;

pub use discrete::{Rational, bernoulli_exp, discrete_gaussian, discrete_laplace};
pub use mechanism::{
    PrivacyBudget, analytic_gaussian_sigma, exact_rational, gaussian_count, laplace_count,
};

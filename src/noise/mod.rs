//! Calibrated noise (METHODS.md §7): exact discrete samplers.

mod discrete;

pub use discrete::{Rational, bernoulli_exp, discrete_gaussian, discrete_laplace};

//! Statistical transformations of columns (METHODS.md §7).

mod additive_noise;
mod binning;
mod mdav;

pub use additive_noise::{AdditiveNoise, NoiseCorrelation};
pub use binning::{Binned, Binning, BinningMethod};
pub use mdav::{Microaggregation, mdav};

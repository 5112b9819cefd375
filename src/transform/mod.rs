//! Statistical transformations of columns (METHODS.md §7).

mod binning;
mod mdav;

pub use binning::{Binned, Binning, BinningMethod};
pub use mdav::{Microaggregation, mdav};

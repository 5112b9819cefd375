//! Statistical transformations of columns (METHODS.md §7).

mod mdav;

pub use mdav::{Microaggregation, mdav};

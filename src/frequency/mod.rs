//! Equivalence classes: the frequency table of generalized quasi-identifier
//! tuples with counts and sensitive histograms.

pub(crate) mod histogram;
pub(crate) mod node;
pub(crate) mod table;

pub use histogram::{Histogram, HistogramEntries, HistogramRef};
pub use node::Node;
pub use table::{CountingInput, EquivalenceClass, FrequencyTable};

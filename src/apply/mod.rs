//! Applying a node to the rows: the anonymized output (the only pass over
//! the rows after counting).

mod destination;
mod output;

pub use destination::check_output;
pub(crate) use destination::{replace_atomically, write_bytes};
pub(crate) use output::release_frame;
pub use output::{Anonymized, SUPPRESSED, apply, write_csv, write_parquet};

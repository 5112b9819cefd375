//! Applying a node to the rows: the anonymized output (the only pass over
//! the rows after counting).

mod destination;
mod output;

pub use destination::check_output;
pub(crate) use destination::{replace_atomically, write_bytes};
pub use output::{Anonymized, apply, write_csv, write_parquet};

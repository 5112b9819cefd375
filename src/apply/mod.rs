//! Applying a node to the rows: the anonymized output (the only pass over
//! the rows after counting).

mod output;

pub(crate) use output::temporary_path;
pub use output::{Anonymized, apply, write_csv, write_parquet};

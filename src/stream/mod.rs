//! Data larger than memory: streaming ingest into the frequency table,
//! the streaming apply pass, and frequency tables in Parquet.
//!
//! Only two passes touch the rows: counting ([`StreamedTable::from_ruleset`])
//! and writing the output ([`StreamedTable::apply_to_file`]). Both read the
//! file in batches, so memory grows with the number of distinct generalized
//! tuples (the table), not with the number of rows. The search between them
//! works on the table alone ([`StreamedTable::search`]), exactly as
//! [`crate::search()`] does on the in-memory data: the dictionaries, and so
//! every code, are the same.
//!
//! A table can be written to Parquet in the long form described in `docs/SCALE.md`
//! ([`LabeledTable`]); tables counted from different partitions of the data,
//! here or by an external engine (see `docs/SCALE.md` for the SQL), merge by
//! summing ([`LabeledTable::merge`]).
//!
//! [`StreamedTable`]'s methods are grouped by stage, one file each, and the
//! files depend one way: counting (`ingest.rs`, which defines the type),
//! the search on the counted table (`search.rs`), and the output pass
//! (`apply.rs`).
//!
//! Everything the streaming path writes can be encrypted at rest with a
//! [`StagingKey`] ([`StreamOptions::staging_key`],
//! [`LabeledTable::write_parquet_with_key`]): see [`StagingKey`] and
//! `docs/SCALE.md`.

mod apply;
mod counted;
mod encryption;
mod ingest;
mod parquet;
mod plan;
mod search;
pub(crate) mod source;

pub use apply::StreamedOutput;
pub(crate) use counted::CountedTable;
pub use encryption::{STAGING_KEY_ENV, StagingKey};
pub(crate) use ingest::check_columns;
pub use ingest::{ColumnSummary, StreamOptions, StreamedTable};
pub use parquet::{
    COUNT_COLUMN, LabeledTable, SENSITIVE_NAME_COLUMN, SENSITIVE_VALUE_COLUMN, TABLE_FORMAT_VERSION,
};
pub use plan::ReleasePlan;

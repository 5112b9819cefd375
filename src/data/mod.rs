//! Data in: attributes and roles, CSV/Parquet input, dictionary encoding.

pub(crate) mod attribute;
pub(crate) mod column;
pub(crate) mod dataset;
pub(crate) mod date;
pub(crate) mod input;
pub(crate) mod parquet_check;

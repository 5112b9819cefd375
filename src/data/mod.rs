//! Data in: attributes and roles, CSV/Parquet input, dictionary encoding.

pub(crate) mod attribute;
pub(crate) mod column;
pub(crate) mod csv;
pub(crate) mod dataset;
pub(crate) mod date;
pub(crate) mod input;
pub(crate) mod parquet_check;

pub use attribute::{Attribute, AttributeRole, AttributeType, MissingPolicy};
pub use column::EncodedColumn;
pub use dataset::{Dataset, EncodeOptions};
pub use date::Date;
pub use input::{CsvOptions, read_csv, read_parquet};

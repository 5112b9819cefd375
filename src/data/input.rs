//! Reading tables from CSV and Parquet files with polars.

use std::fs::File;
use std::path::Path;

use polars::prelude::{CsvParseOptions, CsvReadOptions, DataFrame, ParquetReader, SerReader};

use crate::error::{ErrorKind, Result};

/// Options for reading a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field separator (ARX's files use `;`).
    pub delimiter: u8,
    /// The quote character, or `None` to read quotes literally.
    pub quote: Option<u8>,
    /// Whether the first line holds the column names (required by the ruleset loader).
    pub has_header: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            quote: Some(b'"'),
            has_header: true,
        }
    }
}

/// Reads a CSV file into a `DataFrame` of text columns (no type inference:
/// values are validated against the ruleset's types when encoded). LF and
/// CRLF line ends are accepted; an empty field is read as null.
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be opened, and
/// [`ErrorKind::Parse`] when it is not valid CSV (for example a row with more
/// fields than the header), with polars' description of the problem.
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<DataFrame> {
    if let Err(source) = File::open(path) {
        return Err(ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        }
        .into());
    }
    let parse = CsvParseOptions::default()
        .with_separator(options.delimiter)
        .with_quote_char(options.quote);
    CsvReadOptions::default()
        .with_has_header(options.has_header)
        .with_infer_schema_length(Some(0))
        .with_parse_options(parse)
        .with_raise_if_empty(false)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish())
        .map_err(|e| {
            ErrorKind::Parse {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
            .into()
        })
}

/// Reads a Parquet file into a `DataFrame`.
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be opened, and [`ErrorKind::Parse`]
/// when it is not valid Parquet.
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(|source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    })?;
    ParquetReader::new(file).finish().map_err(|e| {
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
        .into()
    })
}

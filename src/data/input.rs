//! Reading tables from CSV files (the crate's own dialect, `super::csv`)
//! and Parquet files (polars).

use std::fs::File;
use std::path::Path;

use polars::prelude::{
    ChunkedArray, Column, DataFrame, IntoColumn, NewChunkedArray, ParquetReader, PolarsResult,
    SerReader, StringType,
};

use crate::data::csv;

use crate::error::{Error, ErrorKind, Result};

/// Runs a polars decoder on the file `path`. Some malformed files make
/// polars panic instead of returning an error (a Parquet page holding more
/// values than its row group: an integer overflow in `polars-parquet`,
/// found by the `table_parquet` fuzz target), so a panic is caught and
/// becomes a [`ErrorKind::Parse`] error naming the file, as polars' own
/// errors do. Only the polars call runs inside: a panic of this crate's
/// code is never hidden.
pub(crate) fn decode<T>(path: &Path, read: impl FnOnce() -> PolarsResult<T>) -> Result<T> {
    let parse = |reason: String| -> Error {
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason,
        }
        .into()
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(read) => read.map_err(|e| parse(e.to_string())),
        // The panic message is not repeated: it could quote the file's bytes.
        Err(_) => Err(parse(
            "the file is malformed: the polars decoder failed on it (panicked)".to_owned(),
        )),
    }
}

/// Options for reading a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvOptions {
    /// The field separator (ARX's files use `;`).
    pub delimiter: u8,
    /// The quote character, or `None` to read quotes literally.
    pub quote: Option<u8>,
    /// Whether the first line holds the column names (required by the ruleset loader).
    pub has_header: bool,
}

impl CsvOptions {
    /// The options with the field separator `delimiter`.
    pub fn with_delimiter(mut self, delimiter: u8) -> CsvOptions {
        self.delimiter = delimiter;
        self
    }

    /// The options with the quote character `quote` (`None`: quotes are read literally).
    pub fn with_quote(mut self, quote: Option<u8>) -> CsvOptions {
        self.quote = quote;
        self
    }

    /// The options with or without a header line.
    pub fn with_has_header(mut self, has_header: bool) -> CsvOptions {
        self.has_header = has_header;
        self
    }
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
/// values are validated against the ruleset's types when encoded), in the
/// crate's one CSV dialect (the same as the streaming
/// reader's): LF and CRLF line ends, quoted fields, an empty field read as
/// null and a quoted empty field as the empty string, blank lines skipped.
/// Without a header the columns are named `column_1`, `column_2`, ….
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be opened, and
/// [`ErrorKind::Parse`] when it is not valid CSV: a line with more or fewer
/// fields than the header or that is not UTF-8 (naming the line), or a
/// header that names a column twice or leaves one unnamed.
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<DataFrame> {
    let bytes = std::fs::read(path).map_err(|source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parse = |reason: String| -> Error {
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason,
        }
        .into()
    };
    let (delimiter, quote) = (options.delimiter, options.quote);
    let header_end = csv::record_end(&bytes, 0, quote).unwrap_or(bytes.len());
    let (names, body, first_line) = if options.has_header {
        let header = &bytes[..header_end];
        let names = csv::header_record(header, delimiter, quote).map_err(parse)?;
        (names, &bytes[header_end..], 1 + csv::count_newlines(header))
    } else {
        let mut width = 0usize;
        csv::split_record(&bytes[..header_end], delimiter, quote, |_| width += 1);
        let names = (1..=width).map(|i| format!("column_{i}")).collect();
        (names, &bytes[..], 1)
    };
    let columns = read_records(body, first_line, delimiter, quote, &names).map_err(parse)?;
    let height = columns.first().map_or(0, Column::len);
    DataFrame::new(height, columns).map_err(|e| parse(e.to_string()))
}

/// The most bytes of records parsed at once (field offsets are 32-bit).
const CHUNK_BYTES: usize = 1 << 28;

/// The records of `body` (starting at line `first_line`) as one text
/// column per name, parsed in chunks of whole records.
fn read_records(
    body: &[u8],
    first_line: u64,
    delimiter: u8,
    quote: Option<u8>,
    names: &[String],
) -> std::result::Result<Vec<Column>, String> {
    let every: Vec<usize> = (0..names.len()).collect();
    let mut columns: Vec<Option<ChunkedArray<StringType>>> = vec![None; names.len()];
    let (mut start, mut line) = (0usize, first_line);
    loop {
        let mut end = start;
        while end < body.len() && end - start < CHUNK_BYTES {
            end = csv::record_end(body, end, quote).unwrap_or(body.len());
        }
        let chunk = &body[start..end];
        let (text, fields, _) =
            csv::parse_chunk(chunk, line, delimiter, quote, names.len(), &every)?;
        for ((column, name), fields) in columns.iter_mut().zip(names).zip(&fields) {
            let values = fields.iter().map(|&(at, len)| {
                (len != u32::MAX).then(|| &text[at as usize..(at + len) as usize])
            });
            let part = ChunkedArray::<StringType>::from_iter_options(name.as_str().into(), values);
            match column {
                Some(column) => {
                    column.append(&part).map_err(|e| e.to_string())?;
                }
                None => *column = Some(part),
            }
        }
        line += csv::count_newlines(chunk);
        start = end;
        if start >= body.len() {
            break;
        }
    }
    Ok(columns
        .into_iter()
        .map(|column| column.unwrap_or_default().into_column())
        .collect())
}

/// Reads a Parquet file into a `DataFrame`.
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be opened, and [`ErrorKind::Parse`]
/// when it is not valid Parquet (also when the decoder panics on it).
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let mut file = File::open(path).map_err(|source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    })?;
    super::parquet_check::check_parquet_file(path, &mut file)?;
    decode(path, || ParquetReader::new(file).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_csv_reads_the_crates_dialect() {
        let path = std::env::temp_dir().join(format!("deidentify-read-{}.csv", std::process::id()));
        std::fs::write(
            &path,
            "\u{feff}a;\"b;c\"\r\n1;\"x\"\"y\"\r\n\n2;\r\n3;\"\"\n",
        )
        .unwrap();
        let options = CsvOptions::default().with_delimiter(b';');
        let frame = read_csv(&path, &options).unwrap();
        assert_eq!(frame.get_column_names(), ["a", "b;c"]);
        let b: Vec<Option<&str>> = frame.column("b;c").unwrap().str().unwrap().iter().collect();
        assert_eq!(b, [Some("x\"y"), None, Some("")]);
        std::fs::write(&path, "a;b\n1;2\n3;4;5\n").unwrap();
        let err = read_csv(&path, &options).unwrap_err().to_string();
        assert!(
            err.ends_with("line 3 has 3 fields, the header has 2"),
            "{err}"
        );
        std::fs::write(&path, "1;2\n3;4\n").unwrap();
        let frame = read_csv(&path, &options.clone().with_has_header(false)).unwrap();
        assert_eq!(frame.get_column_names(), ["column_1", "column_2"]);
        assert_eq!(frame.height(), 2);
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_csv(&path, &options).unwrap().width(), 0);
        std::fs::remove_file(&path).unwrap();
    }
}

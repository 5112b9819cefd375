//! Reading tables from CSV and Parquet files with polars.

use std::fs::File;
use std::path::Path;

use polars::prelude::{
    CsvParseOptions, CsvReadOptions, DataFrame, ParquetReader, PolarsResult, SerReader,
};

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
/// values are validated against the ruleset's types when encoded). LF and
/// CRLF line ends are accepted; an empty field is read as null.
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be opened, and
/// [`ErrorKind::Parse`] when it is not valid CSV: a line with more or fewer
/// fields than the header (naming the line), or what polars reports
/// (an unterminated quote, invalid UTF-8).
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<DataFrame> {
    let bytes = std::fs::read(path).map_err(|source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some((line, expected, found)) = ragged_line(&bytes, options.delimiter, options.quote) {
        return Err(ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: format!("line {line} has {found} fields, the header has {expected}"),
        }
        .into());
    }
    if options.has_header {
        check_header(&header_names(&bytes, options.delimiter, options.quote)).map_err(
            |reason| ErrorKind::Parse {
                path: path.to_path_buf(),
                reason,
            },
        )?;
    }
    let parse = CsvParseOptions::default()
        .with_separator(options.delimiter)
        .with_quote_char(options.quote);
    decode(path, || {
        CsvReadOptions::default()
            .with_has_header(options.has_header)
            .with_infer_schema_length(Some(0))
            .with_parse_options(parse)
            .with_raise_if_empty(false)
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
    })
}

/// The first line (1-based, the header is line 1) whose number of fields
/// differs from the first line's, as `(line, expected, found)`. Delimiters
/// inside quotes do not count; a quoted field may span lines; a final empty
/// line is ignored. Polars would pad a short row with nulls (silent data
/// loss in a column that allows them) and does not name the line of a long one.
fn ragged_line(bytes: &[u8], delimiter: u8, quote: Option<u8>) -> Option<(usize, usize, usize)> {
    let mut expected = None;
    let (mut line, mut start_line, mut fields, mut in_quotes, mut empty) =
        (1usize, 1usize, 1usize, false, true);
    let mut check =
        |start_line: usize, fields: usize, empty: bool| -> Option<(usize, usize, usize)> {
            if empty {
                return None;
            }
            match expected {
                None => {
                    expected = Some(fields);
                    None
                }
                Some(e) if e != fields => Some((start_line, e, fields)),
                Some(_) => None,
            }
        };
    for &b in bytes {
        if Some(b) == quote {
            in_quotes = !in_quotes;
            empty = false;
        } else if b == b'\n' {
            line += 1;
            if !in_quotes {
                if let Some(found) = check(start_line, fields, empty) {
                    return Some(found);
                }
                (start_line, fields, empty) = (line, 1, true);
            }
        } else if b == delimiter && !in_quotes {
            fields += 1;
            empty = false;
        } else if b != b'\r' {
            empty = false;
        }
    }
    check(start_line, fields, empty)
}

/// The column names of the header line (the first record; a leading UTF-8
/// byte-order mark and a final `\r` removed, quotes resolved).
pub(crate) fn header_names(bytes: &[u8], delimiter: u8, quote: Option<u8>) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut names = Vec::new();
    let mut field = Vec::new();
    let mut in_quotes = false;
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if Some(b) == quote {
            if in_quotes && iter.peek() == Some(&&b) {
                field.push(b);
                iter.next();
            } else {
                in_quotes = !in_quotes;
            }
        } else if b == delimiter && !in_quotes {
            names.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
        } else if b == b'\n' && !in_quotes {
            break;
        } else {
            field.push(b);
        }
    }
    if field.last() == Some(&b'\r') {
        field.pop();
    }
    names.push(String::from_utf8_lossy(&field).into_owned());
    names
}

/// Rejects a header with an empty or duplicated column name (polars would
/// silently rename a duplicate `name` to `name_duplicated_0`, a column no
/// ruleset declares). Names are shown with invisible characters escaped.
pub(crate) fn check_header(names: &[String]) -> std::result::Result<(), String> {
    for (i, name) in names.iter().enumerate() {
        if let Some(first) = names[..i].iter().position(|n| n == name) {
            return Err(format!(
                "the header names column {} and column {} both '{}': every column needs its own name",
                first + 1,
                i + 1,
                name.escape_debug()
            ));
        }
        if name.trim().is_empty() && names.len() > 1 {
            return Err(format!("column {} of the header has no name", i + 1));
        }
    }
    Ok(())
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
    fn header_names_resolve_quotes_bom_and_crlf_and_duplicates_are_refused() {
        let names = header_names(
            b"\xef\xbb\xbfa,\"b,c\",\"d\"\"e\"\r\n1,2,3\n",
            b',',
            Some(b'"'),
        );
        assert_eq!(names, ["a", "b,c", "d\"e"]);
        check_header(&names).unwrap();
        let twice = header_names(b"name,age,name\n", b',', Some(b'"'));
        let err = check_header(&twice).unwrap_err();
        assert!(err.contains("column 1 and column 3 both 'name'"), "{err}");
        let blank = header_names(b"a,,b\n", b',', Some(b'"'));
        assert!(check_header(&blank).unwrap_err().contains("column 2"));
    }

    #[test]
    fn ragged_lines_are_found() {
        assert_eq!(ragged_line(b"a;b\n1;2\n3;4\n", b';', Some(b'"')), None);
        assert_eq!(ragged_line(b"a;b\r\n1;2\r\n3;4", b';', Some(b'"')), None);
        assert_eq!(
            ragged_line(b"a;b\n1;2\n3;4;5\n", b';', Some(b'"')),
            Some((3, 2, 3))
        );
        assert_eq!(ragged_line(b"a;b\n1\n", b';', Some(b'"')), Some((2, 2, 1)));
        // A quoted delimiter and a quoted line break are part of one field.
        assert_eq!(
            ragged_line(b"a;b\n\"x;y\";2\n\"p\nq\";3\n4;5\n", b';', Some(b'"')),
            None
        );
        assert_eq!(
            ragged_line(b"a;b\n\"p\nq\";3\n4\n", b';', Some(b'"')),
            Some((4, 2, 1))
        );
    }
}

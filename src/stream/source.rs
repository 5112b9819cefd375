//! Reading a CSV or Parquet file in batches of rows, with the file line of
//! every CSV record for error messages.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataType, ParquetReader, SerReader};

use crate::error::{Error, ErrorKind, Result};

/// How the rows are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Delimited text with a header line.
    Csv {
        /// The field separator.
        delimiter: u8,
        /// The quote character.
        quote: Option<u8>,
    },
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// Parquet for a `.parquet` path, else CSV with `delimiter`.
    pub(crate) fn of_path(path: &Path, delimiter: u8) -> Format {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        {
            Format::Parquet
        } else {
            Format::Csv {
                delimiter,
                quote: Some(b'"'),
            }
        }
    }
}

/// Bytes read from a CSV file at a time.
const READ_BYTES: usize = 4 << 20;

/// One batch of rows: the requested columns as text (a missing cell is `None`).
pub(crate) struct Batch {
    /// The 0-based index of the batch's first data row in the file.
    pub(crate) first_row: u64,
    rows: usize,
    data: BatchData,
}

enum BatchData {
    /// Field contents (unquoted) in one buffer; per requested column,
    /// `(start, len)` of each row's field, `len == u32::MAX` for an empty
    /// (missing) field.
    Csv {
        text: String,
        fields: Vec<Vec<(u32, u32)>>,
    },
    /// One text column per requested column.
    Frame(Vec<Column>),
}

impl Batch {
    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The values of requested column `column`, top to bottom.
    pub(crate) fn values(&self, column: usize) -> Box<dyn Iterator<Item = Option<&str>> + '_> {
        match &self.data {
            BatchData::Csv { text, fields } => Box::new(fields[column].iter().map(|&(s, l)| {
                (l != u32::MAX).then(|| &text[s as usize..s as usize + l as usize])
            })),
            BatchData::Frame(columns) => match columns[column].str() {
                Ok(values) => Box::new(values.iter()),
                // Columns are cast to text when read; an all-null column of
                // another type has no text view.
                Err(_) => Box::new(std::iter::repeat_n(None, self.rows)),
            },
        }
    }
}

/// Reads a file in batches of about `batch_rows` rows, keeping only the
/// requested columns (by name, in the requested order).
pub(crate) struct BatchReader {
    path: PathBuf,
    header: Vec<String>,
    requested: Vec<usize>,
    batch_rows: usize,
    rows_read: u64,
    kind: ReaderKind,
}

enum ReaderKind {
    Csv {
        file: File,
        delimiter: u8,
        quote: Option<u8>,
        /// Unparsed bytes (starting at a record boundary).
        pending: Vec<u8>,
        /// The file line of the first byte of `pending`.
        line: u64,
        eof: bool,
    },
    Parquet {
        /// Row ranges of the batches still to read, in file order.
        slices: std::vec::IntoIter<(usize, usize)>,
    },
}

impl BatchReader {
    /// Opens `path` and reads its header (the column names).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be opened or read,
    /// [`ErrorKind::Parse`] for a malformed header or Parquet footer, and
    /// [`ErrorKind::UnknownColumn`] for a requested column the file lacks.
    pub(crate) fn open(
        path: &Path,
        format: Format,
        requested: &[String],
        batch_rows: usize,
    ) -> Result<BatchReader> {
        let io = |source| ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let batch_rows = batch_rows.max(1);
        let (header, kind) = match format {
            Format::Csv { delimiter, quote } => {
                let mut pending = Vec::new();
                let mut eof = false;
                let end = loop {
                    if let Some(end) = record_end(&pending, 0, quote) {
                        break end;
                    }
                    if eof {
                        break pending.len();
                    }
                    eof = fill(&mut file, &mut pending).map_err(io)?;
                };
                let header_line = pending[..end].to_vec();
                let lines = count_newlines(&header_line);
                pending.drain(..end);
                let header_text = std::str::from_utf8(&header_line)
                    .map_err(|_| parse_error(path, "line 1 is not valid UTF-8".into()))?;
                // A byte-order mark is not part of the first column's name.
                let header_text = header_text.strip_prefix('\u{feff}').unwrap_or(header_text);
                let mut header = Vec::new();
                let mut scratch = String::new();
                split_record(header_text.as_bytes(), delimiter, quote, |field| {
                    scratch.clear();
                    unquote(field, quote, &mut scratch);
                    header.push(scratch.clone());
                });
                if header.iter().all(String::is_empty) {
                    header.clear();
                }
                (
                    header,
                    ReaderKind::Csv {
                        file,
                        delimiter,
                        quote,
                        pending,
                        line: 1 + lines,
                        eof,
                    },
                )
            }
            Format::Parquet => {
                crate::data::parquet_check::check_parquet_file(path, &mut file)?;
                let mut reader = ParquetReader::new(file);
                // A panic of the decoder on a malformed file is an error too.
                let schema = crate::data::input::decode(path, || reader.schema())?;
                let header = schema.iter_names().map(|n| n.to_string()).collect();
                let metadata = crate::data::input::decode(path, || reader.get_metadata().cloned())?;
                // Whole row groups per batch (at least one), so no row group
                // is decoded twice.
                let mut slices = Vec::new();
                let (mut start, mut len) = (0usize, 0usize);
                for group in &metadata.row_groups {
                    len += group.num_rows();
                    if len >= batch_rows {
                        slices.push((start, len));
                        start += len;
                        len = 0;
                    }
                }
                if len > 0 {
                    slices.push((start, len));
                }
                (
                    header,
                    ReaderKind::Parquet {
                        slices: slices.into_iter(),
                    },
                )
            }
        };
        let requested = requested
            .iter()
            .map(|name| {
                header.iter().position(|h| h == name).ok_or_else(|| {
                    Error::new(ErrorKind::UnknownColumn {
                        column: name.clone(),
                        available: header.join(", "),
                    })
                })
            })
            .collect::<Result<_>>()?;
        Ok(BatchReader {
            path: path.to_path_buf(),
            header,
            requested,
            batch_rows,
            rows_read: 0,
            kind,
        })
    }

    /// The column names of the file, in file order.
    pub(crate) fn header(&self) -> &[String] {
        &self.header
    }

    /// The next batch, or `None` at the end of the file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when reading fails, and [`ErrorKind::Parse`] for a
    /// record whose number of fields differs from the header's or that is
    /// not valid UTF-8 (naming the line), or a Parquet decoding error.
    pub(crate) fn next_batch(&mut self) -> Result<Option<Batch>> {
        let first_row = self.rows_read;
        // (A loop, not recursion: a run of empty lines longer than many
        // batches must not grow the stack.)
        let batch = loop {
            break match &mut self.kind {
                ReaderKind::Csv {
                    file,
                    delimiter,
                    quote,
                    pending,
                    line,
                    eof,
                } => {
                    // Find the end of the batch_rows-th record, reading as needed.
                    let (mut records, mut end) = (0usize, 0usize);
                    loop {
                        while records < self.batch_rows {
                            match record_end(pending, end, *quote) {
                                Some(next) => {
                                    end = next;
                                    records += 1;
                                }
                                None => break,
                            }
                        }
                        if records == self.batch_rows || *eof {
                            break;
                        }
                        *eof = fill(file, pending).map_err(|source| ErrorKind::Io {
                            path: self.path.clone(),
                            source,
                        })?;
                    }
                    if *eof && records < self.batch_rows {
                        end = pending.len();
                    }
                    if end == 0 {
                        return Ok(None);
                    }
                    let raw: Vec<u8> = pending.drain(..end).collect();
                    let start_line = *line;
                    *line += count_newlines(&raw);
                    let (text, fields, rows) = parse_chunk(
                        &raw,
                        start_line,
                        *delimiter,
                        *quote,
                        self.header.len(),
                        &self.requested,
                    )
                    .map_err(|reason| parse_error(&self.path, reason))?;
                    if rows == 0 {
                        // Only empty lines: nothing to return, read on.
                        continue;
                    }
                    Batch {
                        first_row,
                        rows,
                        data: BatchData::Csv { text, fields },
                    }
                }
                ReaderKind::Parquet { slices } => {
                    let Some((offset, len)) = slices.next() else {
                        return Ok(None);
                    };
                    let names: Vec<String> = self
                        .requested
                        .iter()
                        .map(|&i| self.header[i].clone())
                        .collect();
                    let file = File::open(&self.path).map_err(|source| ErrorKind::Io {
                        path: self.path.clone(),
                        source,
                    })?;
                    let frame = crate::data::input::decode(&self.path, || {
                        ParquetReader::new(file)
                            .with_columns(Some(names.clone()))
                            .with_slice(Some((offset, len)))
                            .finish()
                    })?;
                    let columns = names
                        .iter()
                        .map(|name| {
                            frame
                                .column(name)
                                .and_then(|c| c.cast(&DataType::String))
                                .map_err(|e| parse_error(&self.path, e.to_string()))
                        })
                        .collect::<Result<Vec<Column>>>()?;
                    Batch {
                        first_row,
                        rows: frame.height(),
                        data: BatchData::Frame(columns),
                    }
                }
            };
        };
        self.rows_read += batch.rows as u64;
        Ok(Some(batch))
    }
}

/// Reads up to [`READ_BYTES`] more bytes; `true` at the end of the file.
fn fill(file: &mut File, pending: &mut Vec<u8>) -> std::io::Result<bool> {
    let start = pending.len();
    pending.resize(start + READ_BYTES, 0);
    let mut filled = start;
    while filled < pending.len() {
        match file.read(&mut pending[filled..]) {
            Ok(0) => {
                pending.truncate(filled);
                return Ok(true);
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// The end (one past the line feed) of the record starting at `from`, or
/// `None` when the bytes end first. A line feed inside quotes belongs to
/// the field.
fn record_end(bytes: &[u8], from: usize, quote: Option<u8>) -> Option<usize> {
    let mut in_quotes = false;
    for (i, &b) in bytes[from..].iter().enumerate() {
        if Some(b) == quote {
            in_quotes = !in_quotes;
        } else if b == b'\n' && !in_quotes {
            return Some(from + i + 1);
        }
    }
    None
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

fn parse_error(path: &Path, reason: String) -> Error {
    ErrorKind::Parse {
        path: path.to_path_buf(),
        reason,
    }
    .into()
}

/// Calls `field` with the raw bytes of each field of one record (without
/// the line end), splitting at delimiters outside quotes.
fn split_record(record: &[u8], delimiter: u8, quote: Option<u8>, mut field: impl FnMut(&[u8])) {
    let record = record.strip_suffix(b"\n").unwrap_or(record);
    let record = record.strip_suffix(b"\r").unwrap_or(record);
    let mut in_quotes = false;
    let mut start = 0;
    for (i, &b) in record.iter().enumerate() {
        if Some(b) == quote {
            in_quotes = !in_quotes;
        } else if b == delimiter && !in_quotes {
            field(&record[start..i]);
            start = i + 1;
        }
    }
    field(&record[start..]);
}

/// Appends the content of a raw field to `out`: a quoted field loses its
/// quotes and `""` becomes `"`.
fn unquote(raw: &[u8], quote: Option<u8>, out: &mut String) {
    let text = String::from_utf8_lossy(raw);
    match quote {
        Some(q) if raw.first() == Some(&q) => {
            let q = q as char;
            let mut chars = text.chars().skip(1).peekable();
            while let Some(c) = chars.next() {
                if c == q {
                    if chars.peek() == Some(&q) {
                        out.push(q);
                        chars.next();
                    }
                    // A closing quote: anything after it is kept as is.
                } else {
                    out.push(c);
                }
            }
        }
        _ => out.push_str(&text),
    }
}

/// The parsed records of a chunk (whole records): the field text, the
/// `(start, len)` of every requested field, and the number of records.
/// Empty lines are skipped.
///
/// # Errors
///
/// The reason, naming the line, for a record with another number of
/// fields than the header or that is not valid UTF-8.
#[allow(clippy::type_complexity)]
fn parse_chunk(
    raw: &[u8],
    start_line: u64,
    delimiter: u8,
    quote: Option<u8>,
    expected: usize,
    requested: &[usize],
) -> std::result::Result<(String, Vec<Vec<(u32, u32)>>, usize), String> {
    if let Err(e) = std::str::from_utf8(raw) {
        let line = start_line + count_newlines(&raw[..e.valid_up_to()]);
        return Err(format!("line {line} is not valid UTF-8"));
    }
    let mut slot = vec![usize::MAX; expected];
    for (k, &c) in requested.iter().enumerate() {
        slot[c] = k;
    }
    let mut text = String::with_capacity(raw.len());
    let mut fields: Vec<Vec<(u32, u32)>> = vec![Vec::new(); requested.len()];
    let (mut pos, mut line, mut records) = (0usize, start_line, 0usize);
    while pos < raw.len() {
        let end = record_end(raw, pos, quote).unwrap_or(raw.len());
        let record = &raw[pos..end];
        let record_line = line;
        line += count_newlines(record);
        pos = end;
        if record.iter().all(|&b| b == b'\n' || b == b'\r') {
            continue;
        }
        let mut found = 0usize;
        split_record(record, delimiter, quote, |field| {
            if let Some(&k) = slot.get(found)
                && k != usize::MAX
            {
                let start = text.len();
                if field.is_empty() {
                    fields[k].push((start as u32, u32::MAX));
                } else {
                    unquote(field, quote, &mut text);
                    fields[k].push((start as u32, (text.len() - start) as u32));
                }
            }
            found += 1;
        });
        if found != expected {
            return Err(format!(
                "line {record_line} has {found} fields, the header has {expected}"
            ));
        }
        records += 1;
    }
    if text.len() > u32::MAX as usize {
        return Err(format!(
            "the batch starting at line {start_line} is larger than 4 GiB; use smaller batches"
        ));
    }
    Ok((text, fields, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_drops_a_byte_order_mark_and_batches_follow_rows() {
        let path = std::env::temp_dir().join(format!("deidentify-bom-{}.csv", std::process::id()));
        std::fs::write(&path, "\u{feff}a;b\r\n1;x\r\n2;y\r\n3;\r\n").unwrap();
        let format = Format::of_path(&path, b';');
        let mut reader = BatchReader::open(&path, format, &["b".into()], 2).unwrap();
        assert_eq!(reader.header(), ["a", "b"]);
        let first = reader.next_batch().unwrap().unwrap();
        assert_eq!((first.first_row, first.rows()), (0, 2));
        assert_eq!(first.values(0).collect::<Vec<_>>(), [Some("x"), Some("y")]);
        let second = reader.next_batch().unwrap().unwrap();
        assert_eq!((second.first_row, second.rows()), (2, 1));
        assert_eq!(second.values(0).collect::<Vec<_>>(), [None]);
        assert!(reader.next_batch().unwrap().is_none());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn chunks_parse_quotes_and_name_ragged_lines() {
        let (text, fields, rows) = parse_chunk(
            b"1;\"a;b\"\n\n2;\"x\"\"y\"\r\n3;\n",
            2,
            b';',
            Some(b'"'),
            2,
            &[1, 0],
        )
        .unwrap();
        assert_eq!(rows, 3);
        let value = |&(s, l): &(u32, u32)| {
            (l != u32::MAX).then(|| text[s as usize..(s + l) as usize].to_owned())
        };
        let second: Vec<_> = fields[0].iter().map(value).collect();
        assert_eq!(
            second,
            vec![Some("a;b".to_owned()), Some("x\"y".to_owned()), None]
        );
        let err = parse_chunk(b"1;2\n3\n", 7, b';', Some(b'"'), 2, &[0]).unwrap_err();
        assert_eq!(err, "line 8 has 1 fields, the header has 2");
        // A quoted line break is part of the field; the next record's line counts it.
        let err = parse_chunk(b"\"p\nq\";1\n2\n", 2, b';', Some(b'"'), 2, &[0]).unwrap_err();
        assert_eq!(err, "line 4 has 1 fields, the header has 2");
    }
}

//! Reading a CSV or Parquet file in batches of rows, with the file line of
//! every CSV record for error messages.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataType, ParquetReader, SerReader};

use crate::data::csv::{count_newlines, parse_chunk, record_end};
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
                let header = crate::data::csv::header_record(&header_line, delimiter, quote)
                    .map_err(|reason| parse_error(path, reason))?;
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

fn parse_error(path: &Path, reason: String) -> Error {
    ErrorKind::Parse {
        path: path.to_path_buf(),
        reason,
    }
    .into()
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
}

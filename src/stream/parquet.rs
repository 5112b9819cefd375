//! Frequency tables in Parquet, in the long form of `docs/SCALE.md` ("The table file"): one row per
//! (quasi-identifier tuple, sensitive value) with its count.

use std::fs::File;
use std::io::{BufReader, Cursor, Seek, SeekFrom, Write};
use std::path::Path;

use polars::io::mmap::MmapBytesReader;
use polars::prelude::{
    Column, DataFrame, DataType, KeyValueMetadata, ParquetReader, ParquetWriter, SerReader,
};
use rustc_hash::FxHashMap;

use crate::data::parquet_check::check_parquet_file;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::histogram::Histogram;
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::stream::encryption::{
    NEEDS_KEY, NOT_ENCRYPTED, Sink, StagingKey, is_encrypted, parse_error, write_through_temporary,
};

/// The format version written to and expected in the file's metadata.
pub const TABLE_FORMAT_VERSION: u32 = 1;

/// Metadata keys (Parquet file-level key-value metadata; values are JSON).
const KEY_VERSION: &str = "deidentify.format_version";
const KEY_QIS: &str = "deidentify.quasi_identifiers";
const KEY_LEVELS: &str = "deidentify.levels";
const KEY_SENSITIVE: &str = "deidentify.sensitive";
const KEY_ROWS: &str = "deidentify.total_rows";
const KEY_PARTIAL: &str = "deidentify.partial";
const KEY_LABELS: &str = "deidentify.labels";
const KEY_SENSITIVE_VALUES: &str = "deidentify.sensitive_values";

/// The column holding the sensitive attribute's name (one row per class
/// and sensitive value of each sensitive attribute).
pub const SENSITIVE_NAME_COLUMN: &str = "sa_name";
/// The column holding the sensitive value.
pub const SENSITIVE_VALUE_COLUMN: &str = "sa";
/// The column holding the count.
pub const COUNT_COLUMN: &str = "n";

/// A frequency table with the labels of its codes: what is written to and
/// read from Parquet, and what two partitions counted separately (even by
/// another engine) merge as.
///
/// The file has one column per quasi-identifier (its label at the table's
/// level), then `sa_name` and `sa` (the sensitive attribute and value;
/// absent without sensitive attributes), then `n` (int64, > 0). Each class
/// has one row per sensitive value of each sensitive attribute (one row in
/// all without sensitive attributes). The key-value metadata holds the
/// format version, the quasi-identifier names, the level vector, the
/// sensitive attribute names, the total number of rows, whether the table
/// is partial (one partition of the data), and the label dictionaries (so
/// codes survive a round trip; a file without them, as an engine writes,
/// gets codes in order of first appearance).
#[derive(Clone, Debug)]
pub struct LabeledTable {
    table: FrequencyTable,
    quasi_identifiers: Vec<String>,
    labels: Vec<Vec<String>>,
    sensitive: Vec<String>,
    sensitive_values: Vec<Vec<String>>,
    total_rows: u64,
    partial: bool,
}

impl LabeledTable {
    /// Wraps `table` with its attribute names, the label of every
    /// quasi-identifier code at the table's level, the value of every
    /// sensitive code, the number of rows it counts and whether it is partial.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the names or dictionaries do not
    /// match the table (counts, lengths, codes beyond a dictionary), a
    /// dictionary repeats a label, or `total_rows` differs from the table's.
    pub fn new(
        table: FrequencyTable,
        quasi_identifiers: Vec<String>,
        labels: Vec<Vec<String>>,
        sensitive: Vec<String>,
        sensitive_values: Vec<Vec<String>>,
        total_rows: u64,
        partial: bool,
    ) -> Result<LabeledTable> {
        let invalid = |reason: String| Err(Error::parameter("labeled table", reason));
        if quasi_identifiers.len() != table.cardinalities().len()
            || labels.len() != quasi_identifiers.len()
        {
            return invalid(format!(
                "{} quasi-identifier names and {} label lists for {} key columns",
                quasi_identifiers.len(),
                labels.len(),
                table.cardinalities().len()
            ));
        }
        if sensitive.len() != table.sensitive_attributes()
            || sensitive_values.len() != sensitive.len()
        {
            return invalid(format!(
                "{} sensitive names and {} value lists for {} sensitive attributes",
                sensitive.len(),
                sensitive_values.len(),
                table.sensitive_attributes()
            ));
        }
        for (name, (l, &c)) in quasi_identifiers
            .iter()
            .zip(labels.iter().zip(table.cardinalities()))
        {
            if (l.len() as u64) < u64::from(c) {
                return invalid(format!("'{name}' has {} labels for {c} codes", l.len()));
            }
        }
        for (name, (v, &c)) in sensitive
            .iter()
            .zip(sensitive_values.iter().zip(table.sensitive_cardinalities()))
        {
            if (v.len() as u64) < u64::from(c) {
                return invalid(format!("'{name}' has {} values for {c} codes", v.len()));
            }
        }
        for (name, list) in quasi_identifiers
            .iter()
            .zip(&labels)
            .chain(sensitive.iter().zip(&sensitive_values))
        {
            let mut seen = rustc_hash::FxHashSet::default();
            if let Some(repeated) = list.iter().find(|l| !seen.insert(l.as_str())) {
                return invalid(format!("'{name}' lists the label '{repeated}' twice"));
            }
        }
        if table.rows() != total_rows {
            return invalid(format!(
                "the table counts {} rows, not {total_rows}",
                table.rows()
            ));
        }
        Ok(LabeledTable {
            table,
            quasi_identifiers,
            labels,
            sensitive,
            sensitive_values,
            total_rows,
            partial,
        })
    }

    /// The frequency table.
    pub fn table(&self) -> &FrequencyTable {
        &self.table
    }

    /// Unwraps the frequency table.
    pub fn into_table(self) -> FrequencyTable {
        self.table
    }

    /// The quasi-identifier names, in key order.
    pub fn quasi_identifiers(&self) -> &[String] {
        &self.quasi_identifiers
    }

    /// For each quasi-identifier, the label of each code.
    pub fn labels(&self) -> &[Vec<String>] {
        &self.labels
    }

    /// The sensitive attribute names.
    pub fn sensitive(&self) -> &[String] {
        &self.sensitive
    }

    /// For each sensitive attribute, the value of each code.
    pub fn sensitive_values(&self) -> &[Vec<String>] {
        &self.sensitive_values
    }

    /// The number of rows counted.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// Whether the table counts one partition of the data only.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Marks the table as partial (one partition) or whole.
    pub fn set_partial(&mut self, partial: bool) {
        self.partial = partial;
    }

    /// The classes decoded to labels and sorted: `(labels, count, per
    /// sensitive attribute the (value, count) pairs sorted by value)`. Equal
    /// for two tables of the same rows whatever their codes and class order.
    #[allow(clippy::type_complexity)]
    pub fn decoded(&self) -> Vec<(Vec<String>, u64, Vec<Vec<(String, u64)>>)> {
        let mut rows: Vec<_> = (0..self.table.classes())
            .map(|c| {
                let key = self
                    .table
                    .key(c)
                    .iter()
                    .zip(&self.labels)
                    .map(|(&k, l)| l[k as usize].clone())
                    .collect();
                let histograms = (0..self.sensitive.len())
                    .map(|s| {
                        let mut values: Vec<(String, u64)> = self
                            .table
                            .histogram(s, c)
                            .iter()
                            .map(|(v, n)| (self.sensitive_values[s][v as usize].clone(), n))
                            .collect();
                        values.sort();
                        values
                    })
                    .collect();
                (key, self.table.counts()[c], histograms)
            })
            .collect();
        rows.sort();
        rows
    }

    /// Adds the classes of `other` (counted from other rows, at the same
    /// level vector over the same attributes): counts and histograms of
    /// equal labels are summed. Labels new to `self` get the next codes.
    /// The result is partial only if both were.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::IncompatibleTables`] when the attributes or the level
    /// vectors differ.
    pub fn merge(&mut self, other: &LabeledTable) -> Result<()> {
        if self.quasi_identifiers != other.quasi_identifiers
            || self.sensitive != other.sensitive
            || self.table.node() != other.table.node()
        {
            return Err(ErrorKind::IncompatibleTables {
                reason: format!(
                    "quasi-identifiers {:?} at {} with sensitive {:?} vs {:?} at {} with {:?}",
                    self.quasi_identifiers,
                    self.table.node(),
                    self.sensitive,
                    other.quasi_identifiers,
                    other.table.node(),
                    other.sensitive
                ),
            }
            .into());
        }
        // Map the other table's codes into ours, extending our dictionaries.
        let remap = |mine: &mut Vec<String>, theirs: &[String]| -> Vec<u32> {
            let mut index: FxHashMap<String, u32> = mine
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), i as u32))
                .collect();
            theirs
                .iter()
                .map(|l| {
                    *index.entry(l.clone()).or_insert_with(|| {
                        mine.push(l.clone());
                        (mine.len() - 1) as u32
                    })
                })
                .collect()
        };
        let key_maps: Vec<Vec<u32>> = self
            .labels
            .iter_mut()
            .zip(&other.labels)
            .map(|(mine, theirs)| remap(mine, theirs))
            .collect();
        let value_maps: Vec<Vec<u32>> = self
            .sensitive_values
            .iter_mut()
            .zip(&other.sensitive_values)
            .map(|(mine, theirs)| remap(mine, theirs))
            .collect();
        let theirs = &other.table;
        let width = self.quasi_identifiers.len();
        let keys: Vec<u32> = (0..theirs.classes())
            .flat_map(|c| {
                theirs
                    .key(c)
                    .iter()
                    .zip(&key_maps)
                    .map(|(&k, map)| map[k as usize])
                    .collect::<Vec<_>>()
            })
            .collect();
        let cardinalities: Vec<u32> = (0..width)
            .map(|j| {
                let used = keys
                    .iter()
                    .skip(j)
                    .step_by(width.max(1))
                    .map(|&k| k + 1)
                    .max()
                    .unwrap_or(0);
                used.max(self.table.cardinalities()[j])
            })
            .collect();
        let sensitive_cardinalities: Vec<u32> = self
            .sensitive_values
            .iter()
            .map(|v| v.len() as u32)
            .collect();
        let histograms = value_maps
            .iter()
            .enumerate()
            .map(|(s, map)| theirs.histograms(s).map(|h| h.mapped(map)).collect())
            .collect();
        let recoded = FrequencyTable::from_parts(
            theirs.node().clone(),
            cardinalities,
            sensitive_cardinalities.clone(),
            keys,
            theirs.counts().to_vec(),
            histograms,
        )?;
        self.table.widen_sensitive(&sensitive_cardinalities)?;
        self.table.merge(&recoded)?;
        self.total_rows += other.total_rows;
        self.partial = self.partial && other.partial;
        Ok(())
    }

    /// Writes the table to `path` as plaintext Parquet (through a temporary
    /// name renamed on success): [`LabeledTable::write_parquet_with_key`]
    /// without a key.
    ///
    /// # Errors
    ///
    /// As [`LabeledTable::write_parquet_with_key`].
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        self.write_parquet_with_key(path, None)
    }

    /// Writes the table to `path` as Parquet, encrypted to `key` when one
    /// is given (an age file, see [`StagingKey`]). The bytes go to the
    /// temporary name `.<name>.partial` in the same folder, renamed to
    /// `path` on success and removed on failure; with a key they are
    /// encrypted before they reach the file, so no plaintext is ever on disk.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when a quasi-identifier is named like
    /// one of the fixed columns (`sa_name`, `sa`, `n`); [`ErrorKind::Io`] or
    /// [`ErrorKind::Write`] when the file cannot be written.
    pub fn write_parquet_with_key(&self, path: &Path, key: Option<&StagingKey>) -> Result<()> {
        let (mut frame, metadata) = self.frame(path)?;
        write_through_temporary(path, key, |sink| {
            write_frame(&mut frame, metadata, sink, path)
        })
    }

    /// Writes the table as Parquet to `output` (any writer: a socket, an
    /// object-store upload, a file opened by the caller), encrypted to `key`
    /// when one is given, and returns the writer. If the writer fails part
    /// way, what it was given is a prefix of the ciphertext (with a key).
    ///
    /// # Errors
    ///
    /// As [`LabeledTable::write_parquet_with_key`]; errors name the file as
    /// `<writer>`.
    pub fn write_parquet_to<W: Write>(&self, output: W, key: Option<&StagingKey>) -> Result<W> {
        let path = Path::new("<writer>");
        let io = |source| -> Error {
            ErrorKind::Io {
                path: path.to_path_buf(),
                source,
            }
            .into()
        };
        let (mut frame, metadata) = self.frame(path)?;
        let mut sink = Sink::new(output, key).map_err(io)?;
        write_frame(&mut frame, metadata, &mut sink, path)?;
        sink.finish().map_err(io)
    }

    /// The long-form frame and the key-value metadata of the table file.
    fn frame(&self, path: &Path) -> Result<(DataFrame, Vec<(String, String)>)> {
        if let Some(name) = self.quasi_identifiers.iter().find(|q| {
            [SENSITIVE_NAME_COLUMN, SENSITIVE_VALUE_COLUMN, COUNT_COLUMN].contains(&q.as_str())
        }) {
            return Err(Error::parameter(
                "quasi_identifiers",
                format!("'{name}' clashes with a fixed column of the table file"),
            ));
        }
        let width = self.quasi_identifiers.len();
        let mut qi_columns: Vec<Vec<&str>> = vec![Vec::new(); width];
        let mut sa_names: Vec<&str> = Vec::new();
        let mut sa_values: Vec<&str> = Vec::new();
        let mut counts: Vec<i64> = Vec::new();
        for c in 0..self.table.classes() {
            let key: Vec<&str> = self
                .table
                .key(c)
                .iter()
                .zip(&self.labels)
                .map(|(&k, labels)| labels[k as usize].as_str())
                .collect();
            if self.sensitive.is_empty() {
                for (column, &label) in qi_columns.iter_mut().zip(&key) {
                    column.push(label);
                }
                counts.push(self.table.counts()[c] as i64);
            }
            for (s, name) in self.sensitive.iter().enumerate() {
                for (v, n) in self.table.histogram(s, c).iter() {
                    for (column, &label) in qi_columns.iter_mut().zip(&key) {
                        column.push(label);
                    }
                    sa_names.push(name.as_str());
                    sa_values.push(self.sensitive_values[s][v as usize].as_str());
                    counts.push(n as i64);
                }
            }
        }
        let height = counts.len();
        let mut columns: Vec<Column> = self
            .quasi_identifiers
            .iter()
            .zip(qi_columns)
            .map(|(name, values)| Column::new(name.as_str().into(), values))
            .collect();
        if !self.sensitive.is_empty() {
            columns.push(Column::new(SENSITIVE_NAME_COLUMN.into(), sa_names));
            columns.push(Column::new(SENSITIVE_VALUE_COLUMN.into(), sa_values));
        }
        columns.push(Column::new(COUNT_COLUMN.into(), counts));
        let write_error = |reason: String| -> Error {
            ErrorKind::Write {
                path: path.to_path_buf(),
                reason,
            }
            .into()
        };
        let frame = DataFrame::new(height, columns).map_err(|e| write_error(e.to_string()))?;
        let json = |v: serde_json::Value| v.to_string();
        let metadata = vec![
            (KEY_VERSION.to_owned(), TABLE_FORMAT_VERSION.to_string()),
            (
                KEY_QIS.to_owned(),
                json(serde_json::json!(self.quasi_identifiers)),
            ),
            (
                KEY_LEVELS.to_owned(),
                json(serde_json::json!(self.table.node().levels())),
            ),
            (
                KEY_SENSITIVE.to_owned(),
                json(serde_json::json!(self.sensitive)),
            ),
            (KEY_ROWS.to_owned(), self.total_rows.to_string()),
            (KEY_PARTIAL.to_owned(), self.partial.to_string()),
            (KEY_LABELS.to_owned(), json(serde_json::json!(self.labels))),
            (
                KEY_SENSITIVE_VALUES.to_owned(),
                json(serde_json::json!(self.sensitive_values)),
            ),
        ];
        Ok((frame, metadata))
    }

    /// Reads a table written by [`LabeledTable::write_parquet`] or by an
    /// external engine in the same long form. Rows with equal labels (and
    /// sensitive value) are summed. Without the label dictionaries in the
    /// metadata, codes follow the order of first appearance in the file.
    /// Plaintext only: an encrypted table is an error saying so (read it with
    /// [`LabeledTable::read_parquet_with_key`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be opened; [`ErrorKind::Parse`]
    /// when it is encrypted, is not Parquet, lacks the metadata (format
    /// version, names, levels, total rows) or a column, has another format
    /// version, a null label or count, a count ≤ 0, a label absent from the
    /// stored dictionaries, classes whose sensitive attributes count
    /// different totals, or a total that differs from the metadata's; also when the
    /// Parquet decoder panics on a malformed file.
    pub fn read_parquet(path: &Path) -> Result<LabeledTable> {
        LabeledTable::read_parquet_with_key(path, None)
    }

    /// Reads a table file, encrypted to `key` when one is given: a key
    /// requires encryption (a plaintext file is an error, never a silent
    /// downgrade) and no key requires plaintext (an encrypted file is an
    /// error saying it is encrypted). An encrypted file is decrypted into
    /// memory, never to disk, and every byte of it is authenticated before
    /// the table is parsed.
    ///
    /// # Errors
    ///
    /// As [`LabeledTable::read_parquet`], and [`ErrorKind::Parse`] when the
    /// file is plaintext and a key was given, encrypted and no key was given,
    /// encrypted to another key, truncated, or altered.
    pub fn read_parquet_with_key(path: &Path, key: Option<&StagingKey>) -> Result<LabeledTable> {
        let io = |source| ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let length = file.metadata().map_err(io)?.len();
        let mut input = BufReader::new(file);
        let encrypted = is_encrypted(&mut input).map_err(io)?;
        match (key, encrypted) {
            (None, false) => {
                // Back to the start: the reader must not depend on where
                // the detection left the file.
                let mut file = input.into_inner();
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                check_parquet_file(path, &mut file)?;
                LabeledTable::from_reader(ParquetReader::new(file), path)
            }
            (Some(key), true) => {
                let plaintext = key.decrypt(input, length, path)?;
                check_parquet_file(path, &mut Cursor::new(&plaintext[..]))?;
                LabeledTable::from_reader(ParquetReader::new(Cursor::new(&plaintext[..])), path)
            }
            (Some(_), false) => Err(parse_error(path, NOT_ENCRYPTED)),
            (None, true) => Err(parse_error(path, NEEDS_KEY)),
        }
    }

    /// Parses a table file from its reader; `path` names it in errors.
    fn from_reader<R: MmapBytesReader>(
        mut reader: ParquetReader<R>,
        path: &Path,
    ) -> Result<LabeledTable> {
        let invalid = |reason: String| invalid_table(path, reason);
        let file_metadata = crate::data::input::decode(path, || reader.get_metadata().cloned())?;
        let metadata: FxHashMap<String, String> = file_metadata
            .key_value_metadata
            .iter()
            .flatten()
            .filter_map(|kv| kv.value.clone().map(|v| (kv.key.clone(), v)))
            .collect();
        let meta = read_table_metadata(&metadata, path)?;
        let frame = crate::data::input::decode(path, || reader.finish())?;
        let text = |name: &str| -> Result<Column> {
            frame
                .column(name)
                .and_then(|c| c.cast(&DataType::String))
                .map_err(|e| invalid(e.to_string()))
        };
        let qi_columns: Vec<Column> = meta
            .quasi_identifiers
            .iter()
            .map(|q| text(q))
            .collect::<Result<_>>()?;
        let (sa_names, sa_values) = if meta.sensitive.is_empty() {
            (None, None)
        } else {
            (
                Some(text(SENSITIVE_NAME_COLUMN)?),
                Some(text(SENSITIVE_VALUE_COLUMN)?),
            )
        };
        let counts = frame
            .column(COUNT_COLUMN)
            .and_then(|c| c.cast(&DataType::Int64))
            .map_err(|e| invalid(e.to_string()))?;
        let counts = counts.i64().map_err(|e| invalid(e.to_string()))?;
        let text_of = |c: &Column| text_values(c, path);
        // Dictionaries: the stored ones, or first appearance in the file.
        let mut encoders: Vec<Dictionary> = match &meta.stored_labels {
            Some(lists) => lists.iter().map(|l| Dictionary::fixed(l)).collect(),
            None => vec![Dictionary::growing(); meta.quasi_identifiers.len()],
        };
        let mut value_encoders: Vec<Dictionary> = match &meta.stored_values {
            Some(lists) => lists.iter().map(|l| Dictionary::fixed(l)).collect(),
            None => vec![Dictionary::growing(); meta.sensitive.len()],
        };
        let qi_text: Vec<Vec<Option<String>>> =
            qi_columns.iter().map(text_of).collect::<Result<_>>()?;
        let sa_name_text = sa_names.as_ref().map(text_of).transpose()?;
        let sa_value_text = sa_values.as_ref().map(text_of).transpose()?;
        let columns = RowColumns {
            qi_text: &qi_text,
            sa_names: &sa_name_text,
            sa_values: &sa_value_text,
            counts,
        };
        let grouped = group_rows(
            frame.height(),
            &columns,
            &meta,
            &mut encoders,
            &mut value_encoders,
            path,
        )?;
        let class_counts = grouped.class_counts;
        let histograms: Vec<Vec<Histogram>> = grouped
            .pairs
            .into_iter()
            .map(|column| column.into_iter().map(Histogram::from_pairs).collect())
            .collect();
        check_histogram_totals(&histograms, &class_counts, &meta.sensitive, path)?;
        let labels: Vec<Vec<String>> = encoders.into_iter().map(Dictionary::into_labels).collect();
        let sensitive_values: Vec<Vec<String>> = value_encoders
            .into_iter()
            .map(Dictionary::into_labels)
            .collect();
        let counted: u64 = class_counts.iter().sum();
        let total_rows = meta.total_rows;
        if counted != total_rows {
            return Err(invalid(format!(
                "the rows count {counted} records, the metadata says {total_rows}"
            )));
        }
        let table = FrequencyTable::from_parts(
            Node::new(meta.levels),
            labels.iter().map(|l| l.len() as u32).collect(),
            sensitive_values.iter().map(|v| v.len() as u32).collect(),
            grouped.keys,
            class_counts,
            histograms,
        )?;
        LabeledTable::new(
            table,
            meta.quasi_identifiers,
            labels,
            meta.sensitive,
            sensitive_values,
            total_rows,
            meta.partial,
        )
    }
}

/// A table file's metadata, as read and checked by [`read_table_metadata`].
struct TableMetadata {
    quasi_identifiers: Vec<String>,
    levels: Vec<u32>,
    sensitive: Vec<String>,
    total_rows: u64,
    partial: bool,
    stored_labels: Option<Vec<Vec<String>>>,
    stored_values: Option<Vec<Vec<String>>>,
}

/// The parse error for the table file at `path`.
fn invalid_table(path: &Path, reason: String) -> Error {
    ErrorKind::Parse {
        path: path.to_path_buf(),
        reason,
    }
    .into()
}

/// Reads and checks a table file's key-value `metadata`; `path` names the
/// file in errors.
fn read_table_metadata(metadata: &FxHashMap<String, String>, path: &Path) -> Result<TableMetadata> {
    let invalid = |reason: String| invalid_table(path, reason);
    let get = |key: &str| -> Result<&String> {
        metadata
            .get(key)
            .ok_or_else(|| invalid(format!("the metadata lacks '{key}'")))
    };
    let parse = |key: &str| -> Result<serde_json::Value> {
        serde_json::from_str(get(key)?)
            .map_err(|e| invalid(format!("metadata '{key}' is not valid JSON: {e}")))
    };
    let version: u32 = get(KEY_VERSION)?
        .parse()
        .map_err(|_| invalid(format!("metadata '{KEY_VERSION}' is not a number")))?;
    if version != TABLE_FORMAT_VERSION {
        return Err(invalid(format!(
            "format version {version}; this library reads version {TABLE_FORMAT_VERSION}"
        )));
    }
    let strings = |v: serde_json::Value, key: &str| -> Result<Vec<String>> {
        serde_json::from_value(v).map_err(|e| invalid(format!("metadata '{key}': {e}")))
    };
    let quasi_identifiers = strings(parse(KEY_QIS)?, KEY_QIS)?;
    let levels: Vec<u32> = serde_json::from_value(parse(KEY_LEVELS)?)
        .map_err(|e| invalid(format!("metadata '{KEY_LEVELS}': {e}")))?;
    let sensitive = strings(parse(KEY_SENSITIVE)?, KEY_SENSITIVE)?;
    let total_rows: u64 = get(KEY_ROWS)?
        .parse()
        .map_err(|_| invalid(format!("metadata '{KEY_ROWS}' is not a number")))?;
    let partial = metadata.get(KEY_PARTIAL).is_some_and(|p| p == "true");
    let dictionaries = |key: &str, expected: usize| -> Result<Option<Vec<Vec<String>>>> {
        if !metadata.contains_key(key) {
            return Ok(None);
        }
        let lists: Vec<Vec<String>> = serde_json::from_value(parse(key)?)
            .map_err(|e| invalid(format!("metadata '{key}': {e}")))?;
        if lists.len() != expected {
            return Err(invalid(format!(
                "metadata '{key}' has {} lists for {expected} attributes",
                lists.len()
            )));
        }
        Ok(Some(lists))
    };
    let stored_labels = dictionaries(KEY_LABELS, quasi_identifiers.len())?;
    let stored_values = dictionaries(KEY_SENSITIVE_VALUES, sensitive.len())?;
    if levels.len() != quasi_identifiers.len() {
        return Err(invalid(format!(
            "{} levels for {} quasi-identifiers",
            levels.len(),
            quasi_identifiers.len()
        )));
    }
    Ok(TableMetadata {
        quasi_identifiers,
        levels,
        sensitive,
        total_rows,
        partial,
        stored_labels,
        stored_values,
    })
}

/// The values of a text column; `path` names the file in errors.
fn text_values(c: &Column, path: &Path) -> Result<Vec<Option<String>>> {
    Ok(c.str()
        .map_err(|e| invalid_table(path, e.to_string()))?
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect())
}

/// A table file's columns, row-aligned: the quasi-identifiers' labels, the
/// sensitive attributes' names and values (when there are any), the counts.
struct RowColumns<'a> {
    qi_text: &'a [Vec<Option<String>>],
    sa_names: &'a Option<Vec<Option<String>>>,
    sa_values: &'a Option<Vec<Option<String>>>,
    counts: &'a polars::prelude::Int64Chunked,
}

/// A table file's rows grouped into classes: the classes' codes (row-major),
/// per sensitive attribute and class the (value code, count) pairs, and
/// the class sizes.
struct GroupedRows {
    keys: Vec<u32>,
    pairs: Vec<Vec<Vec<(u32, u64)>>>,
    class_counts: Vec<u64>,
}

/// Groups a table file's `height` rows into classes, encoding labels and
/// sensitive values with the given dictionaries; `path` names the file in
/// errors.
fn group_rows(
    height: usize,
    columns: &RowColumns<'_>,
    meta: &TableMetadata,
    encoders: &mut [Dictionary],
    value_encoders: &mut [Dictionary],
    path: &Path,
) -> Result<GroupedRows> {
    let invalid = |reason: String| invalid_table(path, reason);
    let quasi_identifiers = &meta.quasi_identifiers;
    let sensitive = &meta.sensitive;
    let width = quasi_identifiers.len();
    let mut class_of: FxHashMap<Vec<u32>, usize> = FxHashMap::default();
    let mut keys: Vec<u32> = Vec::new();
    let mut pairs: Vec<Vec<Vec<(u32, u64)>>> = vec![Vec::new(); sensitive.len()];
    let mut class_counts: Vec<u64> = Vec::new();
    // The records counted per sensitive attribute (or in all): while they
    // fit in 64 bits, no count or histogram sum below can overflow.
    let mut totals = vec![0u64; sensitive.len().max(1)];
    let mut add = |s: usize, n: u64, line: usize| -> Result<()> {
        totals[s] = totals[s].checked_add(n).ok_or_else(|| {
            invalid(format!(
                "row {line}: the counts add up to more than 2^64 records"
            ))
        })?;
        Ok(())
    };
    for row in 0..height {
        let line = row + 1;
        let mut key = Vec::with_capacity(width);
        for (j, column) in columns.qi_text.iter().enumerate() {
            let label = column[row].as_deref().ok_or_else(|| {
                invalid(format!("row {line}: '{}' is null", quasi_identifiers[j]))
            })?;
            key.push(encoders[j].code(label).ok_or_else(|| {
                invalid(format!(
                    "row {line}: the label of '{}' is not in the stored labels",
                    quasi_identifiers[j]
                ))
            })?);
        }
        let n = columns
            .counts
            .get(row)
            .filter(|&n| n > 0)
            .ok_or_else(|| invalid(format!("row {line}: the count is null or not positive")))?
            as u64;
        let next = class_counts.len();
        let class = *class_of.entry(key.clone()).or_insert(next);
        if class == next {
            keys.extend_from_slice(&key);
            class_counts.push(0);
            for p in &mut pairs {
                p.push(Vec::new());
            }
        }
        match (columns.sa_names, columns.sa_values) {
            (Some(names), Some(values)) => {
                let name = names[row].as_deref().ok_or_else(|| {
                    invalid(format!("row {line}: '{SENSITIVE_NAME_COLUMN}' is null"))
                })?;
                let s = sensitive.iter().position(|x| x == name).ok_or_else(|| {
                    invalid(format!(
                        "row {line}: '{name}' is not a sensitive attribute of the table"
                    ))
                })?;
                // A null sensitive value is a value like any other (the missing label).
                let value = values[row].as_deref().unwrap_or("");
                let code = value_encoders[s].code(value).ok_or_else(|| {
                    invalid(format!(
                        "row {line}: the value of '{name}' is not in the stored values"
                    ))
                })?;
                add(s, n, line)?;
                pairs[s][class].push((code, n));
                if s == 0 {
                    class_counts[class] += n;
                }
            }
            _ => {
                add(0, n, line)?;
                class_counts[class] += n;
            }
        }
    }
    Ok(GroupedRows {
        keys,
        pairs,
        class_counts,
    })
}

/// Checks that every sensitive attribute's histograms count each class as
/// `class_counts` does (those of the first sensitive attribute); `path`
/// names the file in errors.
fn check_histogram_totals(
    histograms: &[Vec<Histogram>],
    class_counts: &[u64],
    sensitive: &[String],
    path: &Path,
) -> Result<()> {
    for (s, column) in histograms.iter().enumerate() {
        if let Some(c) = column
            .iter()
            .zip(class_counts)
            .position(|(h, &n)| h.total() != n)
        {
            return Err(invalid_table(
                path,
                format!(
                    "class {} counts {} rows for '{}' but {} for '{}'",
                    c + 1,
                    column[c].total(),
                    sensitive[s],
                    class_counts[c],
                    sensitive[0]
                ),
            ));
        }
    }
    Ok(())
}

/// Writes `frame` with the table file's `metadata` as Parquet to `sink`;
/// `path` names the file in errors.
fn write_frame<W: Write>(
    frame: &mut DataFrame,
    metadata: Vec<(String, String)>,
    sink: &mut Sink<W>,
    path: &Path,
) -> Result<()> {
    ParquetWriter::new(sink)
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
        .finish(frame)
        .map(|_| ())
        .map_err(|e| match e {
            // The writer failed (a full disk, a closed pipe): an I/O error.
            polars::prelude::PolarsError::IO { error, .. } => ErrorKind::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(error.kind(), error.to_string()),
            }
            .into(),
            other => ErrorKind::Write {
                path: path.to_path_buf(),
                reason: other.to_string(),
            }
            .into(),
        })
}

/// Label → code while reading: fixed (the stored dictionary) or growing.
#[derive(Clone)]
struct Dictionary {
    index: FxHashMap<String, u32>,
    labels: Vec<String>,
    fixed: bool,
}

impl Dictionary {
    fn fixed(labels: &[String]) -> Dictionary {
        Dictionary {
            index: labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), i as u32))
                .collect(),
            labels: labels.to_vec(),
            fixed: true,
        }
    }

    fn growing() -> Dictionary {
        Dictionary {
            index: FxHashMap::default(),
            labels: Vec::new(),
            fixed: false,
        }
    }

    fn code(&mut self, label: &str) -> Option<u32> {
        if let Some(&c) = self.index.get(label) {
            return Some(c);
        }
        if self.fixed {
            return None;
        }
        let c = self.labels.len() as u32;
        self.index.insert(label.to_owned(), c);
        self.labels.push(label.to_owned());
        Some(c)
    }

    fn into_labels(self) -> Vec<String> {
        self.labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a table file of one quasi-identifier `a` with the given
    /// labels (sorted) and counts, with the metadata `write_parquet` writes.
    fn write_counts(path: &Path, labels: &[&str], counts: &[i64], rows: u64) {
        let mut frame = DataFrame::new(
            counts.len(),
            vec![
                Column::new("a".into(), labels.to_vec()),
                Column::new(COUNT_COLUMN.into(), counts.to_vec()),
            ],
        )
        .unwrap();
        let metadata = vec![
            (KEY_VERSION.to_owned(), TABLE_FORMAT_VERSION.to_string()),
            (KEY_QIS.to_owned(), r#"["a"]"#.to_owned()),
            (KEY_LEVELS.to_owned(), "[0]".to_owned()),
            (KEY_SENSITIVE.to_owned(), "[]".to_owned()),
            (KEY_ROWS.to_owned(), rows.to_string()),
            (KEY_PARTIAL.to_owned(), "false".to_owned()),
            (KEY_LABELS.to_owned(), {
                let mut distinct = labels.to_vec();
                distinct.dedup();
                serde_json::json!([distinct]).to_string()
            }),
            (KEY_SENSITIVE_VALUES.to_owned(), "[]".to_owned()),
        ];
        ParquetWriter::new(File::create(path).unwrap())
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
            .finish(&mut frame)
            .unwrap();
    }

    #[test]
    fn counts_past_2_to_the_64_are_an_error() {
        let dir = std::env::temp_dir().join(format!("deidentify-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("counts.parquet");
        // The same file format with small counts reads.
        write_counts(&path, &["x", "y", "z"], &[1, 2, 3], 6);
        assert_eq!(LabeledTable::read_parquet(&path).unwrap().total_rows(), 6);
        // Three counts of 2^63 − 1 for one class pass 2^64.
        write_counts(&path, &["x", "x", "x"], &[i64::MAX; 3], 3);
        let e = LabeledTable::read_parquet(&path).unwrap_err();
        assert!(e.to_string().contains("more than 2^64"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Streaming ingest: the frequency table of a file counted batch by batch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::data::attribute::{Attribute, AttributeRole, AttributeType, MissingPolicy};
use crate::data::column::EncodedColumn;
use crate::data::dataset::Dataset;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::hierarchy::set::Hierarchies;
use crate::hierarchy::table::Hierarchy;
use crate::ruleset::{HierarchyRule, Ruleset};
use crate::stream::source::{Batch, BatchReader, Format};

/// How a file is streamed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamOptions {
    /// Rows per batch (default 262,144). Memory holds a few batches at a
    /// time besides the frequency table; Parquet batches are whole row
    /// groups of at least this many rows.
    pub batch_rows: usize,
    /// The least generalization level of each quasi-identifier, applied
    /// while counting (by name; unlisted attributes stay at level 0). The
    /// table is then counted at that node, which keeps it small when the
    /// raw tuples are nearly all distinct, and the search only visits nodes
    /// above it. Only hierarchies from files can be applied while counting
    /// (a builder's labels depend on the whole column).
    pub min_levels: BTreeMap<String, u32>,
    /// Encryption at rest (default: none). With a key, every file the
    /// streaming path writes is an age file encrypted to it, from the first
    /// byte (the temporary `.<name>.partial` included): the output of
    /// [`StreamedTable::apply_to_file`], and frequency tables written with
    /// [`crate::stream::LabeledTable::write_parquet_with_key`] given this key. See
    /// [`crate::stream::StagingKey`].
    pub staging_key: Option<crate::stream::encryption::StagingKey>,
}

impl StreamOptions {
    /// The options with `batch_rows` rows per batch.
    pub fn with_batch_rows(mut self, batch_rows: usize) -> StreamOptions {
        self.batch_rows = batch_rows;
        self
    }

    /// The options with the least levels `min_levels`, applied while counting.
    pub fn with_min_levels(mut self, min_levels: BTreeMap<String, u32>) -> StreamOptions {
        self.min_levels = min_levels;
        self
    }

    /// The options encrypting every file written to `staging_key`.
    pub fn with_staging_key(
        mut self,
        staging_key: crate::stream::encryption::StagingKey,
    ) -> StreamOptions {
        self.staging_key = Some(staging_key);
        self
    }
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            batch_rows: 1 << 18,
            min_levels: BTreeMap::new(),
            staging_key: None,
        }
    }
}

/// What a streamed table knows about one encoded column (quasi-identifier
/// or sensitive attribute): its dictionary and value counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSummary {
    /// The column name.
    pub name: String,
    /// Its role (quasi-identifier or sensitive).
    pub role: AttributeRole,
    /// Its type.
    pub data_type: AttributeType,
    /// The distinct values in order of first appearance: code `c` is
    /// `dictionary[c]`, as a [`Dataset`] encodes the same data.
    pub dictionary: Vec<String>,
    /// The number of rows holding each code.
    pub counts: Vec<u64>,
    /// The first (1-based) data row holding each code.
    pub first_rows: Vec<u64>,
}

/// Where the rows come from and how missing cells are read.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SourceSpec {
    pub(crate) path: PathBuf,
    pub(crate) format: Format,
    pub(crate) missing_values: Vec<String>,
    pub(crate) missing_policy: MissingPolicy,
    pub(crate) missing_label: String,
}

/// The frequency table of a file counted in bounded memory, with what the
/// search and the apply pass need besides it (dictionaries, value counts,
/// compiled hierarchies).
///
/// Memory grows with the number of distinct generalized tuples and values,
/// not with the number of rows: the file is read in batches of
/// [`StreamOptions::batch_rows`] rows, each batch is encoded against
/// dictionaries that grow across batches (codes in order of first
/// appearance, so equal to those of an in-memory [`Dataset`] of the same
/// file), counted in parallel, and merged into the table.
#[derive(Clone, Debug)]
pub struct StreamedTable {
    pub(super) source: SourceSpec,
    pub(super) attributes: Vec<Attribute>,
    pub(super) columns: Vec<ColumnSummary>,
    pub(super) hierarchies: Hierarchies,
    pub(super) table: FrequencyTable,
    pub(super) rows: u64,
}

/// One encoded column while counting.
pub(super) struct ColumnState {
    pub(super) name: String,
    pub(super) role: AttributeRole,
    pub(super) data_type: AttributeType,
    pub(super) index: FxHashMap<Box<str>, u32>,
    pub(super) dictionary: Vec<String>,
    pub(super) counts: Vec<u64>,
    pub(super) first_rows: Vec<u64>,
    pub(super) missing_code: Option<u32>,
    /// A hierarchy from a file: value → its row, checked on first sight.
    pub(super) hierarchy: Option<(Hierarchy, FxHashMap<String, usize>)>,
    pub(super) min_level: usize,
    /// Code → label code at `min_level` (labels in order of first appearance).
    pub(super) level_map: Vec<u32>,
    pub(super) labels: Vec<String>,
    pub(super) label_index: FxHashMap<String, u32>,
}

impl ColumnState {
    /// The code of a new value seen first at (1-based) `row`, after checking
    /// its type and its hierarchy.
    fn add(&mut self, value: &str, row: u64, missing: bool) -> Result<u32> {
        if !missing && !self.data_type.is_valid(value) {
            return Err(ErrorKind::InvalidValue {
                column: self.name.clone(),
                row: row as usize,
                value: value.to_owned(),
                expected: self.data_type.name().to_owned(),
            }
            .into());
        }
        let mut label = value;
        if let Some((hierarchy, rows)) = &self.hierarchy {
            let Some(&r) = rows.get(value) else {
                return Err(ErrorKind::ValueNotInHierarchy {
                    column: self.name.clone(),
                    row: row as usize,
                    value: value.to_owned(),
                }
                .into());
            };
            label = &hierarchy.rows()[r][self.min_level];
        }
        let next = self.labels.len() as u32;
        let label_code = *self.label_index.entry(label.to_owned()).or_insert(next);
        if label_code == next {
            self.labels.push(label.to_owned());
        }
        let code = u32::try_from(self.dictionary.len()).map_err(|_| {
            Error::parameter(
                "data",
                format!("column '{}' has more than 2^32 distinct values", self.name),
            )
        })?;
        self.index.insert(value.into(), code);
        self.dictionary.push(value.to_owned());
        self.counts.push(0);
        self.first_rows.push(row);
        self.level_map.push(label_code);
        Ok(code)
    }

    /// Encodes one batch's values, returning the key codes (label codes at
    /// the minimum level) or the first error with its row.
    fn encode<'v>(
        &mut self,
        values: impl Iterator<Item = Option<&'v str>>,
        first_row: u64,
        source: &SourceSpec,
    ) -> std::result::Result<Vec<u32>, (u64, Error)> {
        let mut codes = Vec::new();
        for (i, value) in values.enumerate() {
            let row = first_row + i as u64 + 1;
            let code = self.code_of(value, row, source).map_err(|e| (row, e))?;
            self.counts[code as usize] += 1;
            codes.push(self.level_map[code as usize]);
        }
        Ok(codes)
    }

    /// The code of one cell (a new value is checked and added; a missing
    /// one follows the missing-value policy); `row` (1-based) names it in errors.
    pub(super) fn code_of(
        &mut self,
        value: Option<&str>,
        row: u64,
        source: &SourceSpec,
    ) -> Result<u32> {
        let value = value.filter(|v| !source.missing_values.iter().any(|m| m == v));
        match value {
            Some(v) => match self.index.get(v) {
                Some(&c) => Ok(c),
                None => self.add(v, row, false),
            },
            None => match source.missing_policy {
                MissingPolicy::Error => Err(ErrorKind::MissingValue {
                    column: self.name.clone(),
                    row: row as usize,
                }
                .into()),
                MissingPolicy::Category => match self.missing_code {
                    Some(c) => Ok(c),
                    None => {
                        let label = source.missing_label.clone();
                        let c = match self.index.get(label.as_str()) {
                            Some(&c) => c,
                            None => self.add(&label, row, true)?,
                        };
                        self.missing_code = Some(c);
                        Ok(c)
                    }
                },
            },
        }
    }
}

impl StreamedTable {
    /// Streams the ruleset's data file (CSV or Parquet) into a frequency
    /// table at the node of `options.min_levels` (the bottom node by default).
    ///
    /// # Errors
    ///
    /// Reading errors naming the line ([`ErrorKind::Parse`] for a record
    /// with the wrong number of fields or invalid UTF-8, [`ErrorKind::Io`]);
    /// the encoding errors of [`Dataset::from_dataframe`] naming the column
    /// and row (missing value, invalid value, unlisted or unknown column,
    /// empty table); [`ErrorKind::ValueNotInHierarchy`] naming the column,
    /// the first row holding the value, and the value; the errors of
    /// loading hierarchies; [`ErrorKind::InvalidParameter`] for a minimum
    /// level of an attribute that is not a quasi-identifier or has no
    /// hierarchy file, or for a ruleset with `[[transform]]` steps (not
    /// applied while streaming); [`ErrorKind::LevelOutOfRange`] for a minimum
    /// level above its hierarchy's height.
    pub fn from_ruleset(ruleset: &Ruleset, options: &StreamOptions) -> Result<StreamedTable> {
        let (source, attributes, mut file_hierarchies) = StreamedTable::prepare(ruleset, options)?;
        let mut table = StreamedTable::count(
            source,
            attributes,
            &file_hierarchies,
            &options.min_levels,
            options.batch_rows,
        )?;
        table.finish(ruleset, &mut file_hierarchies)?;
        Ok(table)
    }

    /// What counting needs from the ruleset, checked: where the rows are,
    /// the attributes, and the hierarchies from files (by column).
    pub(crate) fn prepare(
        ruleset: &Ruleset,
        options: &StreamOptions,
    ) -> Result<(SourceSpec, Vec<Attribute>, FxHashMap<String, Hierarchy>)> {
        if !ruleset.transforms.is_empty() {
            // Transformations are fitted on whole columns (and need an RNG):
            // never skip them silently.
            return Err(Error::parameter(
                "transform",
                format!(
                    "{} has {} [[transform]] step(s), which streaming does not apply; transform the data first",
                    ruleset.path.display(),
                    ruleset.transforms.len()
                ),
            ));
        }
        let path = ruleset.data_path();
        let source = SourceSpec {
            format: Format::of_path(&path, ruleset.data.delimiter as u8),
            path,
            missing_values: ruleset.data.missing_values.clone(),
            missing_policy: ruleset.data.missing_policy,
            missing_label: ruleset.data.missing_label.clone(),
        };
        let attributes = ruleset.attributes();
        // Check the minimum levels against the ruleset first.
        for (name, &level) in &options.min_levels {
            let rule = ruleset.attributes.iter().find(|a| &a.name == name);
            match rule {
                Some(a) if a.role == AttributeRole::QuasiIdentifier => {
                    if level > 0 && !matches!(a.hierarchy, Some(HierarchyRule::File(_))) {
                        return Err(Error::parameter(
                            "min_levels",
                            format!(
                                "'{name}' has no hierarchy file; only those can be applied while counting"
                            ),
                        ));
                    }
                }
                _ => {
                    return Err(Error::parameter(
                        "min_levels",
                        format!("'{name}' is not a quasi-identifier"),
                    ));
                }
            }
        }
        let mut file_hierarchies: FxHashMap<String, Hierarchy> = FxHashMap::default();
        for a in &ruleset.attributes {
            if let Some(HierarchyRule::File(file)) = &a.hierarchy {
                let h = Hierarchy::from_csv(
                    &a.name,
                    &ruleset.base.join(file),
                    ruleset.data.hierarchy_delimiter as u8,
                )?;
                file_hierarchies.insert(a.name.clone(), h);
            }
        }
        Ok((source, attributes, file_hierarchies))
    }

    /// Builds the builder hierarchies from the counted dictionaries and
    /// compiles every hierarchy (those from files taken from `file_hierarchies`).
    pub(super) fn finish(
        &mut self,
        ruleset: &Ruleset,
        file_hierarchies: &mut FxHashMap<String, Hierarchy>,
    ) -> Result<()> {
        let table = self;
        // Builder hierarchies need the whole dictionary: build them now.
        let mut hierarchies = Vec::new();
        for a in &ruleset.attributes {
            let hierarchy = match &a.hierarchy {
                None => continue,
                Some(HierarchyRule::File(_)) => {
                    file_hierarchies.remove(&a.name).expect("loaded above")
                }
                Some(HierarchyRule::Builder(builder)) => {
                    builder.build(&a.name, &table.column(&a.name)?.dictionary)?
                }
            };
            hierarchies.push(hierarchy);
        }
        table.compile(&hierarchies)?;
        Ok(())
    }

    /// Counts the file; hierarchies from files are checked (and minimum
    /// levels applied) as values first appear.
    fn count(
        source: SourceSpec,
        attributes: Vec<Attribute>,
        file_hierarchies: &FxHashMap<String, Hierarchy>,
        min_levels: &BTreeMap<String, u32>,
        batch_rows: usize,
    ) -> Result<StreamedTable> {
        // The header first: the encoded columns are read in the file's order
        // (the order of a node's levels, as in memory), whatever the
        // ruleset's order.
        let listed: Vec<String> = attributes
            .iter()
            .filter(|a| a.role.is_encoded())
            .map(|a| a.name.clone())
            .collect();
        let header = BatchReader::open(&source.path, source.format, &listed, batch_rows)?
            .header()
            .to_vec();
        check_columns(&header, &attributes, &source.path)?;
        let attributes = in_file_order(&header, &attributes);
        let encoded: Vec<&Attribute> = attributes.iter().filter(|a| a.role.is_encoded()).collect();
        let names: Vec<String> = encoded.iter().map(|a| a.name.clone()).collect();
        let reader = BatchReader::open(&source.path, source.format, &names, batch_rows)?;
        let mut states = column_states(&encoded, file_hierarchies, min_levels)?;
        let (accumulated, rows) = count_batches(reader, &mut states, &source)?;
        let Some(table) = accumulated.filter(|_| rows > 0) else {
            return Err(ErrorKind::EmptyTable {
                source_name: source.path.display().to_string(),
            }
            .into());
        };
        let table = at_min_levels(table, &states)?;
        let columns = summaries(states);
        Ok(StreamedTable {
            source,
            attributes,
            columns,
            hierarchies: Hierarchies::from_compiled(Vec::new()),
            table,
            rows,
        })
    }

    /// Compiles the hierarchies against the final dictionaries (identity
    /// for quasi-identifiers without one), checking that they cover every value.
    fn compile(&mut self, hierarchies: &[Hierarchy]) -> Result<()> {
        let mut compiled = Vec::new();
        for column in &self.columns {
            let encoded =
                EncodedColumn::from_parts(&column.name, Vec::new(), column.dictionary.clone());
            match hierarchies.iter().find(|h| h.column() == column.name) {
                Some(h) => {
                    let covered: rustc_hash::FxHashSet<&str> =
                        h.rows().iter().map(|r| r[0].as_str()).collect();
                    if let Some(code) = column
                        .dictionary
                        .iter()
                        .position(|v| !covered.contains(v.as_str()))
                    {
                        return Err(ErrorKind::ValueNotInHierarchy {
                            column: column.name.clone(),
                            row: column.first_rows[code] as usize,
                            value: column.dictionary[code].clone(),
                        }
                        .into());
                    }
                    compiled.push(CompiledHierarchy::new(h, &encoded)?);
                }
                None if column.role == AttributeRole::QuasiIdentifier => {
                    compiled.push(CompiledHierarchy::identity(&encoded));
                }
                None => {}
            }
        }
        self.hierarchies = Hierarchies::from_compiled(compiled);
        Ok(())
    }

    /// The frequency table (at the node of the minimum levels).
    pub fn table(&self) -> &FrequencyTable {
        &self.table
    }

    /// The compiled hierarchies of the quasi-identifiers and of the
    /// sensitive attributes that have one.
    pub fn hierarchies(&self) -> &Hierarchies {
        &self.hierarchies
    }

    /// Where the rows come from and how missing cells are read.
    pub(crate) fn source(&self) -> &SourceSpec {
        &self.source
    }

    /// The number of rows read.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Every column's attribute, in file order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The encoded columns (quasi-identifiers and sensitive attributes), in file order.
    pub fn columns(&self) -> &[ColumnSummary] {
        &self.columns
    }

    /// The encoded column `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownColumn`] when there is no such encoded column.
    pub fn column(&self, name: &str) -> Result<&ColumnSummary> {
        self.columns.iter().find(|c| c.name == name).ok_or_else(|| {
            ErrorKind::UnknownColumn {
                column: name.to_owned(),
                available: self
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
            .into()
        })
    }

    /// The quasi-identifier names, in column order (the order of a node's levels).
    pub fn quasi_identifier_names(&self) -> Vec<String> {
        self.names(AttributeRole::QuasiIdentifier)
    }

    /// The sensitive attribute names, in column order.
    pub fn sensitive_names(&self) -> Vec<String> {
        self.names(AttributeRole::Sensitive)
    }

    fn names(&self, role: AttributeRole) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.role == role)
            .map(|c| c.name.clone())
            .collect()
    }

    /// The compiled hierarchies of the quasi-identifiers, in column order.
    pub(crate) fn quasi_identifier_hierarchies(&self) -> Result<Vec<&CompiledHierarchy>> {
        qi_hierarchies(&self.columns, &self.hierarchies)
    }
}

/// The compiled hierarchies of the quasi-identifiers among `columns`, in order.
pub(super) fn qi_hierarchies<'a>(
    columns: &[ColumnSummary],
    hierarchies: &'a Hierarchies,
) -> Result<Vec<&'a CompiledHierarchy>> {
    columns
        .iter()
        .filter(|c| c.role == AttributeRole::QuasiIdentifier)
        .map(|c| hierarchies.require(&c.name))
        .collect()
}

/// The parts of a streamed table besides its frequency table.
pub(crate) struct StreamedTableParts<'a> {
    pub(crate) source: &'a SourceSpec,
    pub(crate) attributes: &'a [Attribute],
    pub(crate) columns: &'a [ColumnSummary],
}

/// The `attributes` in the order of the file's `header` (which names each
/// exactly once: see [`check_columns`]).
pub(super) fn in_file_order(header: &[String], attributes: &[Attribute]) -> Vec<Attribute> {
    header
        .iter()
        .map(|h| {
            attributes
                .iter()
                .find(|a| &a.name == h)
                .expect("checked")
                .clone()
        })
        .collect()
}

/// What counting learnt of each column.
pub(super) fn summaries(states: Vec<ColumnState>) -> Vec<ColumnSummary> {
    states
        .into_iter()
        .map(|s| ColumnSummary {
            name: s.name,
            role: s.role,
            data_type: s.data_type,
            dictionary: s.dictionary,
            counts: s.counts,
            first_rows: s.first_rows,
        })
        .collect()
}

/// The counting state of each `encoded` column, with its hierarchy from a
/// file (if any) and its minimum level (checked against the hierarchy).
pub(super) fn column_states(
    encoded: &[&Attribute],
    file_hierarchies: &FxHashMap<String, Hierarchy>,
    min_levels: &BTreeMap<String, u32>,
) -> Result<Vec<ColumnState>> {
    let mut states = Vec::new();
    for a in encoded {
        let min_level = min_levels.get(&a.name).copied().unwrap_or(0) as usize;
        let hierarchy = file_hierarchies.get(&a.name).cloned();
        if let Some(h) = &hierarchy
            && min_level > h.height()
        {
            return Err(ErrorKind::LevelOutOfRange {
                column: a.name.clone(),
                level: min_level,
                max: h.height(),
            }
            .into());
        }
        states.push(ColumnState {
            name: a.name.clone(),
            role: a.role,
            data_type: a.data_type,
            index: FxHashMap::default(),
            dictionary: Vec::new(),
            counts: Vec::new(),
            first_rows: Vec::new(),
            missing_code: None,
            hierarchy: hierarchy.map(|h| {
                let rows = h
                    .rows()
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (r[0].clone(), i))
                    .collect();
                (h, rows)
            }),
            min_level,
            level_map: Vec::new(),
            labels: Vec::new(),
            label_index: FxHashMap::default(),
        });
    }
    Ok(states)
}

/// Counts the batches of `reader` (read on a separate thread) into one
/// table, updating the column `states` (in requested-column order);
/// returns the table (`None` when there was no batch) and the rows read.
fn count_batches(
    mut reader: BatchReader,
    states: &mut [ColumnState],
    source: &SourceSpec,
) -> Result<(Option<FrequencyTable>, u64)> {
    // Requested columns come back in `names` order, which is `states` order.
    let qi_count = states
        .iter()
        .filter(|s| s.role == AttributeRole::QuasiIdentifier)
        .count();
    let mut accumulated: Option<FrequencyTable> = None;
    let mut rows = 0u64;
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = sync_channel::<Result<Batch>>(1);
        scope.spawn(move || {
            loop {
                let next = reader.next_batch();
                let stop = !matches!(next, Ok(Some(_)));
                let item = match next {
                    Ok(Some(batch)) => Ok(batch),
                    Ok(None) => break,
                    Err(e) => Err(e),
                };
                if sender.send(item).is_err() || stop {
                    break;
                }
            }
        });
        for batch in receiver {
            let batch = batch?;
            rows += batch.rows() as u64;
            let table = count_batch(&batch, states, source, qi_count)?;
            match &mut accumulated {
                None => accumulated = Some(table),
                Some(total) => {
                    total.widen_sensitive(table.sensitive_cardinalities())?;
                    total.merge(&table)?;
                }
            }
        }
        Ok(())
    })?;
    Ok((accumulated, rows))
}

/// The counted `table` with every sensitive attribute's final cardinality
/// and, when counted on label codes at minimum levels above 0, its node
/// named accordingly.
fn at_min_levels(mut table: FrequencyTable, states: &[ColumnState]) -> Result<FrequencyTable> {
    let levels: Vec<u32> = states
        .iter()
        .filter(|s| s.role == AttributeRole::QuasiIdentifier)
        .map(|s| s.min_level as u32)
        .collect();
    let sensitive_cardinalities: Vec<u32> = states
        .iter()
        .filter(|s| s.role == AttributeRole::Sensitive)
        .map(|s| s.dictionary.len() as u32)
        .collect();
    table.widen_sensitive(&sensitive_cardinalities)?;
    if levels.iter().any(|&l| l > 0) {
        // Counted on label codes at the minimum levels: name that node.
        let classes = table.classes();
        let keys = (0..classes).flat_map(|c| table.key(c).to_vec()).collect();
        let histograms = (0..table.sensitive_attributes())
            .map(|s| table.histograms(s).map(|h| h.to_histogram()).collect())
            .collect();
        table = FrequencyTable::from_parts(
            Node::new(levels),
            table.cardinalities().to_vec(),
            sensitive_cardinalities,
            keys,
            table.counts().to_vec(),
            histograms,
        )?;
    }
    Ok(table)
}

/// Checks that every column has a role and every attribute a column (as
/// [`Dataset::from_dataframe`] does).
pub(crate) fn check_columns(
    header: &[String],
    attributes: &[Attribute],
    path: &Path,
) -> Result<()> {
    for attribute in attributes {
        if !header.contains(&attribute.name) {
            return Err(ErrorKind::UnknownColumn {
                column: attribute.name.clone(),
                available: header.join(", "),
            }
            .into());
        }
    }
    if let Some(name) = header
        .iter()
        .find(|h| !attributes.iter().any(|a| &a.name == *h))
    {
        return Err(ErrorKind::Ruleset {
            path: path.to_path_buf(),
            reason: format!(
                "column '{name}' has no role; give it one (use role = \"insensitive\" to release it unchanged)"
            ),
        }
        .into());
    }
    Ok(())
}

/// Encodes one batch (in parallel over columns) and counts it (in parallel
/// over row chunks) at the bottom node of the label codes.
fn count_batch(
    batch: &Batch,
    states: &mut [ColumnState],
    source: &SourceSpec,
    qi_count: usize,
) -> Result<FrequencyTable> {
    let encoded: Vec<std::result::Result<Vec<u32>, (u64, Error)>> = states
        .par_iter_mut()
        .enumerate()
        .map(|(k, state)| state.encode(batch.values(k), batch.first_row, source))
        .collect();
    // Report the error of the earliest row (then the leftmost column).
    let mut codes = Vec::with_capacity(encoded.len());
    let mut first_error: Option<(u64, Error)> = None;
    for result in encoded {
        match result {
            Ok(c) => codes.push(c),
            Err((row, e)) => {
                if first_error.as_ref().is_none_or(|(r, _)| row < *r) {
                    first_error = Some((row, e));
                }
            }
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    let columns = states
        .iter()
        .zip(codes)
        .map(|(state, codes)| {
            let dictionary = if state.role == AttributeRole::QuasiIdentifier {
                state.labels.clone()
            } else {
                state.dictionary.clone()
            };
            (
                EncodedColumn::from_parts(&state.name, codes, dictionary),
                state.role,
                state.data_type,
            )
        })
        .collect();
    let dataset = Dataset::from_encoded(columns)?;
    let hierarchies = Hierarchies::compile(&dataset, &[])?;
    FrequencyTable::from_dataset(&dataset, &hierarchies, &Node::bottom(qi_count))
}

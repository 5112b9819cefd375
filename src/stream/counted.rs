//! A streamed table from rows counted elsewhere (an external engine such as
//! Spark): distinct tuples with their counts, encoded and checked here as
//! the streaming ingest encodes and checks rows.

use rustc_hash::FxHashMap;

use crate::data::attribute::{Attribute, AttributeRole};
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::histogram::Histogram;
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::ruleset::Ruleset;
use crate::stream::ingest::{
    ColumnState, SourceSpec, StreamOptions, StreamedTable, check_columns, column_states,
    in_file_order, summaries,
};

/// A streamed table assembled from what an external engine counted, fed
/// in order: first every encoded column's distinct raw values with their
/// counts (each column's in order of first appearance, so the codes are
/// numbered as reading the file numbers them), then the distinct tuples
/// with their counts (in order of first appearance), each holding per
/// encoded column its raw value (`None` for a missing cell) or, for a
/// quasi-identifier counted at a minimum level above 0, its label at that
/// level. Every value is checked as the streaming ingest checks it (type,
/// hierarchy, missing-value policy); [`CountedTable::finish`] checks that
/// the counts add up to the engine's row count.
pub(crate) struct CountedTable<'r> {
    ruleset: &'r Ruleset,
    source: SourceSpec,
    attributes: Vec<Attribute>,
    file_hierarchies: FxHashMap<String, crate::hierarchy::table::Hierarchy>,
    states: Vec<ColumnState>,
    /// Rows counted per column through [`CountedTable::value`].
    seen_rows: Vec<u64>,
    qi: Vec<usize>,
    sensitive: Vec<usize>,
    classes: FxHashMap<Box<[u32]>, u32>,
    keys: Vec<u32>,
    class_counts: Vec<u64>,
    pairs: Vec<Vec<Vec<(u32, u64)>>>,
    key: Vec<u32>,
    engine: &'static str,
}

impl<'r> CountedTable<'r> {
    /// Starts the table of `ruleset`'s data, counted by `engine` at the
    /// node of `options.min_levels`, whose header (column names in file
    /// order) is `header`.
    ///
    /// # Errors
    ///
    /// As [`StreamedTable::from_ruleset`] for the ruleset and the header.
    pub(crate) fn new(
        ruleset: &'r Ruleset,
        options: &StreamOptions,
        header: &[String],
        engine: &'static str,
    ) -> Result<CountedTable<'r>> {
        let (source, attributes, file_hierarchies) = StreamedTable::prepare(ruleset, options)?;
        check_columns(header, &attributes, &source.path)?;
        let attributes = in_file_order(header, &attributes);
        let encoded: Vec<&Attribute> = attributes.iter().filter(|a| a.role.is_encoded()).collect();
        let states = column_states(&encoded, &file_hierarchies, &options.min_levels)?;
        let qi: Vec<usize> = (0..states.len())
            .filter(|&k| states[k].role == AttributeRole::QuasiIdentifier)
            .collect();
        let sensitive: Vec<usize> = (0..states.len())
            .filter(|&k| states[k].role == AttributeRole::Sensitive)
            .collect();
        Ok(CountedTable {
            ruleset,
            seen_rows: vec![0; states.len()],
            key: vec![0; qi.len()],
            pairs: vec![Vec::new(); sensitive.len()],
            qi,
            sensitive,
            source,
            attributes,
            file_hierarchies,
            states,
            classes: FxHashMap::default(),
            keys: Vec::new(),
            class_counts: Vec::new(),
            engine,
        })
    }

    /// The encoded columns' names (quasi-identifiers and sensitive
    /// attributes), in header order: the order of `values` in [`CountedTable::tuple`].
    pub(crate) fn encoded_names(&self) -> Vec<&str> {
        self.states.iter().map(|s| s.name.as_str()).collect()
    }

    /// Counts `n` rows holding the raw `value` in encoded column `column`.
    ///
    /// # Errors
    ///
    /// The value's type, hierarchy or missing-value error, naming the
    /// column, the value's shape and `n` (engines number no rows).
    pub(crate) fn value(&mut self, column: usize, value: Option<&str>, n: u64) -> Result<()> {
        let state = &mut self.states[column];
        let code = state
            .code_of(value, 0, &self.source)
            .map_err(|e| without_row(e, self.engine, n, &self.source.path))?;
        state.counts[code as usize] += n;
        self.seen_rows[column] += n;
        Ok(())
    }

    /// Counts `n` rows holding the tuple `values` (one per encoded column).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when a value was not counted by
    /// [`CountedTable::value`] first, or `n` is 0.
    pub(crate) fn tuple(&mut self, values: &[Option<&str>], n: u64) -> Result<()> {
        if n == 0 || values.len() != self.states.len() {
            return Err(Error::parameter(
                "counted table",
                format!(
                    "{} returned a tuple of {} values with count {n}",
                    self.engine,
                    values.len()
                ),
            ));
        }
        for (j, &k) in self.qi.iter().enumerate() {
            self.key[j] = tuple_code(&mut self.states[k], values[k], &self.source, self.engine)?;
        }
        let next = self.class_counts.len() as u32;
        let class = *self
            .classes
            .entry(self.key.as_slice().into())
            .or_insert(next) as usize;
        if class == next as usize {
            self.keys.extend_from_slice(&self.key);
            self.class_counts.push(0);
            for column in &mut self.pairs {
                column.push(Vec::new());
            }
        }
        self.class_counts[class] += n;
        for (s, &k) in self.sensitive.iter().enumerate() {
            let code = tuple_code(&mut self.states[k], values[k], &self.source, self.engine)?;
            self.pairs[s][class].push((code, n));
        }
        Ok(())
    }

    /// The streamed table, after checking that every column's values and
    /// the tuples count the `rows` the engine read.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the counts do not add up; as
    /// [`StreamedTable::from_ruleset`] for the hierarchies.
    pub(crate) fn finish(mut self, rows: u64) -> Result<StreamedTable> {
        let engine = self.engine;
        if rows == 0 {
            return Err(ErrorKind::EmptyTable {
                source_name: self.source.path.display().to_string(),
            }
            .into());
        }
        let invalid = |reason: String| Err(Error::parameter("counted table", reason));
        for (state, &seen) in self.states.iter().zip(&self.seen_rows) {
            if seen != rows {
                return invalid(format!(
                    "{engine} counted {seen} values of '{}' in {rows} rows",
                    state.name
                ));
            }
        }
        let total: u64 = self.class_counts.iter().sum();
        if total != rows {
            return invalid(format!(
                "the tuples {engine} counted hold {total} rows, but it read {rows} rows"
            ));
        }
        let levels: Vec<u32> = self
            .qi
            .iter()
            .map(|&k| self.states[k].min_level as u32)
            .collect();
        let table = FrequencyTable::from_parts(
            Node::new(levels),
            self.qi
                .iter()
                .map(|&k| self.states[k].labels.len() as u32)
                .collect(),
            self.sensitive
                .iter()
                .map(|&k| self.states[k].dictionary.len() as u32)
                .collect(),
            std::mem::take(&mut self.keys),
            std::mem::take(&mut self.class_counts),
            std::mem::take(&mut self.pairs)
                .into_iter()
                .map(|column| column.into_iter().map(Histogram::from_pairs).collect())
                .collect(),
        )?;
        drop(std::mem::take(&mut self.classes));
        let mut streamed = StreamedTable {
            source: self.source,
            attributes: self.attributes,
            columns: summaries(self.states),
            hierarchies: crate::hierarchy::set::Hierarchies::from_compiled(Vec::new()),
            table,
            rows,
        };
        streamed.finish(self.ruleset, &mut self.file_hierarchies)?;
        Ok(streamed)
    }
}

/// The key code of one tuple's value in column `state`, whose values are
/// all coded already: for a column generalized while counting, the code of
/// its label; else the value's code (its label code for a
/// quasi-identifier).
fn tuple_code(
    state: &mut ColumnState,
    value: Option<&str>,
    source: &SourceSpec,
    engine: &'static str,
) -> Result<u32> {
    let name = state.name.clone();
    let unknown = |what: &str| {
        Error::parameter(
            "counted table",
            format!(
                "{engine} counted a tuple whose '{name}' is not {what} the column's counted values"
            ),
        )
    };
    if state.min_level > 0 {
        return value
            .and_then(|label| state.label_index.get(label).copied())
            .ok_or_else(|| unknown("a label of"));
    }
    let known = state.dictionary.len();
    let code = state
        .code_of(value, 0, source)
        .map_err(|_| unknown("among"))?;
    if state.dictionary.len() != known {
        return Err(unknown("among"));
    }
    Ok(if state.role == AttributeRole::QuasiIdentifier {
        state.level_map[code as usize]
    } else {
        code
    })
}

/// An encoding error of a value counted by `engine` (which numbers no
/// rows) in the data at `path`, restated with how many rows hold it (at
/// least) instead of a row number.
fn without_row(error: Error, engine: &str, rows: u64, path: &std::path::Path) -> Error {
    let (column, what) = match error.kind() {
        ErrorKind::MissingValue { column, .. } => (
            column.clone(),
            "missing value (the ruleset's missing-value policy is 'error')".to_owned(),
        ),
        ErrorKind::InvalidValue {
            column,
            value,
            expected,
            ..
        } => (
            column.clone(),
            format!(
                "a value shaped {} is not a valid {expected}",
                crate::error::value_shape(value)
            ),
        ),
        ErrorKind::ValueNotInHierarchy { column, value, .. } => (
            column.clone(),
            format!(
                "a value shaped {} is not in the column's hierarchy",
                crate::error::value_shape(value)
            ),
        ),
        _ => return error,
    };
    ErrorKind::Parse {
        path: path.to_path_buf(),
        reason: format!(
            "column '{column}': {what} (in {rows} row(s) or more, counted by {engine}, which numbers no rows)"
        ),
    }
    .into()
}

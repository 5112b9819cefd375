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
    ColumnState, SourceSpec, StreamOptions, StreamedTable, check_columns, column_states, summaries,
};

/// Tuples counted by an external engine: the data's header; for each
/// encoded column (quasi-identifiers and sensitive attributes, in header
/// order) its distinct raw values with their counts, in order of first
/// appearance; and the distinct tuples with their counts, in order of first
/// appearance, each holding per encoded column its raw value (`None` for a
/// missing cell) or, for a quasi-identifier counted at a minimum level above
/// 0, its label at that level.
#[derive(Clone, Debug, Default)]
pub(crate) struct CountedRows {
    /// The data's column names, in file order.
    pub(crate) header: Vec<String>,
    /// Per encoded column (header order), its distinct raw values and the
    /// rows holding each, in order of first appearance.
    pub(crate) seen: Vec<Vec<(Option<String>, u64)>>,
    /// Per encoded column (header order), the value of each tuple.
    pub(crate) values: Vec<Vec<Option<String>>>,
    /// The number of rows holding each tuple.
    pub(crate) counts: Vec<u64>,
    /// The data's rows, counted by the engine apart from the tuples.
    pub(crate) rows: u64,
    /// Names the engine in errors ("Spark").
    pub(crate) engine: &'static str,
}

impl StreamedTable {
    /// The streamed table of `counted` (rows counted by an external engine
    /// at the node of `options.min_levels`), with every value checked as the
    /// streaming ingest checks it (type, hierarchy, missing-value policy)
    /// and the counts checked to add up to the engine's row count. Row
    /// numbers are unknown to an engine: errors name the column, the shape
    /// of the value and how many rows hold it.
    pub(crate) fn from_counted(
        ruleset: &Ruleset,
        options: &StreamOptions,
        counted: &CountedRows,
    ) -> Result<StreamedTable> {
        let (source, attributes, mut file_hierarchies) = StreamedTable::prepare(ruleset, options)?;
        check_columns(&counted.header, &attributes, &source.path)?;
        let attributes: Vec<Attribute> = counted
            .header
            .iter()
            .map(|h| {
                attributes
                    .iter()
                    .find(|a| &a.name == h)
                    .expect("checked")
                    .clone()
            })
            .collect();
        let encoded: Vec<&Attribute> = attributes.iter().filter(|a| a.role.is_encoded()).collect();
        let mut states = column_states(&encoded, &file_hierarchies, &options.min_levels)?;
        check_shape(counted, &states)?;
        let table = count_tuples(counted, &mut states, &source)?;
        let mut streamed = StreamedTable {
            source,
            attributes,
            columns: summaries(states),
            hierarchies: crate::hierarchy::set::Hierarchies::from_compiled(Vec::new()),
            table,
            rows: counted.rows,
        };
        streamed.finish(ruleset, &mut file_hierarchies)?;
        Ok(streamed)
    }
}

/// Checks that `counted` has one value list per encoded column, raw counts
/// exactly for the columns generalized while counting, and counts that add
/// up to the engine's row count.
fn check_shape(counted: &CountedRows, states: &[ColumnState]) -> Result<()> {
    let engine = counted.engine;
    let invalid = |reason: String| Err(Error::parameter("counted table", reason));
    if counted.values.len() != states.len() || counted.seen.len() != states.len() {
        return invalid(format!(
            "{engine} returned {} value columns for {} encoded columns",
            counted.values.len(),
            states.len()
        ));
    }
    for (state, (values, seen)) in states.iter().zip(counted.values.iter().zip(&counted.seen)) {
        if values.len() != counted.counts.len() {
            return invalid(format!(
                "{engine} returned {} values of '{}' for {} tuples",
                values.len(),
                state.name,
                counted.counts.len()
            ));
        }
        let total: u64 = seen.iter().map(|(_, n)| n).sum();
        if total != counted.rows {
            return invalid(format!(
                "{engine} counted {total} values of '{}' in {} rows",
                state.name, counted.rows
            ));
        }
    }
    let total: u64 = counted.counts.iter().sum();
    if total != counted.rows {
        return invalid(format!(
            "the tuples {engine} counted hold {total} rows, but it read {} rows",
            counted.rows
        ));
    }
    if let Some(i) = counted.counts.iter().position(|&n| n == 0) {
        return invalid(format!("{engine} returned tuple {i} with count 0"));
    }
    Ok(())
}

/// The frequency table of the counted tuples at the node of the columns'
/// minimum levels, updating each column's dictionary and value counts.
fn count_tuples(
    counted: &CountedRows,
    states: &mut [ColumnState],
    source: &SourceSpec,
) -> Result<FrequencyTable> {
    let engine = counted.engine;
    // Every column's values first, in order of first appearance: the
    // codes (and labels) are then numbered as reading the file numbers them.
    for (state, seen) in states.iter_mut().zip(&counted.seen) {
        for (value, n) in seen {
            let code = state
                .code_of(value.as_deref(), 0, source)
                .map_err(|e| without_row(e, engine, *n, &source.path))?;
            state.counts[code as usize] += n;
        }
    }
    let qi: Vec<usize> = (0..states.len())
        .filter(|&k| states[k].role == AttributeRole::QuasiIdentifier)
        .collect();
    let sensitive: Vec<usize> = (0..states.len())
        .filter(|&k| states[k].role == AttributeRole::Sensitive)
        .collect();
    let mut classes: FxHashMap<Vec<u32>, usize> = FxHashMap::default();
    let mut keys: Vec<u32> = Vec::new();
    let mut class_counts: Vec<u64> = Vec::new();
    let mut pairs: Vec<Vec<Vec<(u32, u64)>>> = vec![Vec::new(); sensitive.len()];
    let mut key = vec![0u32; qi.len()];
    for (t, &n) in counted.counts.iter().enumerate() {
        for (j, &k) in qi.iter().enumerate() {
            key[j] = tuple_code(
                &mut states[k],
                counted.values[k][t].as_deref(),
                source,
                engine,
            )?;
        }
        let next = class_counts.len();
        let class = *classes.entry(key.clone()).or_insert(next);
        if class == next {
            keys.extend_from_slice(&key);
            class_counts.push(0);
            for column in &mut pairs {
                column.push(Vec::new());
            }
        }
        class_counts[class] += n;
        for (s, &k) in sensitive.iter().enumerate() {
            let code = tuple_code(
                &mut states[k],
                counted.values[k][t].as_deref(),
                source,
                engine,
            )?;
            pairs[s][class].push((code, n));
        }
    }
    let levels: Vec<u32> = qi.iter().map(|&k| states[k].min_level as u32).collect();
    FrequencyTable::from_parts(
        Node::new(levels),
        qi.iter().map(|&k| states[k].labels.len() as u32).collect(),
        sensitive
            .iter()
            .map(|&k| states[k].dictionary.len() as u32)
            .collect(),
        keys,
        class_counts,
        pairs
            .into_iter()
            .map(|column| column.into_iter().map(Histogram::from_pairs).collect())
            .collect(),
    )
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

//! Measuring a released table itself, however it was produced
//! ([§6.6](crate::methods#66-local-recoding)): its classes (records with
//! the same released quasi-identifier values, compared as text), whether
//! each satisfies the models, and the information it lost.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::check::ClassCheck;
use crate::apply::SUPPRESSED;
use crate::data::attribute::AttributeType;
use crate::data::dataset::Dataset;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::histogram::Histogram;
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::hierarchy::set::Hierarchies;
use crate::search::AnonymizationConfig;

/// A released table measured against its input.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReleaseMeasure {
    /// The released classes: records with the same released
    /// quasi-identifier values (as text; a blank `*` is a value of its own),
    /// with their sensitive histograms. Keys are codes of the released
    /// values per column, in order of first appearance.
    pub table: FrequencyTable,
    /// For each class, whether it holds the suppressed records (every
    /// quasi-identifier `*`; exempt from the models). Its key in `table`
    /// is a code past the released values of every column.
    pub suppressed: Vec<bool>,
    /// The classes, not suppressed, that fail a model.
    pub failing: Vec<usize>,
    /// Suppressed records.
    pub suppressed_records: u64,
    /// Quasi-identifier cells released as `*`, suppressed records included.
    pub suppressed_cells: u64,
    /// The information loss of the release.
    pub loss: ReleaseLoss,
}

impl ReleaseMeasure {
    /// Whether every class that is not suppressed satisfies every model.
    pub fn satisfies_models(&self) -> bool {
        self.failing.is_empty()
    }

    /// The class sizes, suppressed classes left out.
    pub fn released_sizes(&self) -> Vec<u64> {
        (0..self.table.classes())
            .filter(|&c| !self.suppressed[c])
            .map(|c| self.table.counts()[c])
            .collect()
    }
}

/// The information loss of a release, per quasi-identifier and overall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReleaseLoss {
    /// Granularity (ARX's name; Iyengar's loss metric): per
    /// quasi-identifier, the mean over records of the share of the domain
    /// the released value covers (1 for `*`), normalized to [0, 1] by
    /// (mean − 1/D)/(1 − 1/D).
    pub granularity: BTreeMap<String, f64>,
    /// The arithmetic mean of `granularity` over the quasi-identifiers.
    pub granularity_mean: f64,
    /// Non-uniform entropy per quasi-identifier (bits): Σ over records of
    /// −log2(#input records with the original value / #input records whose
    /// value the released value covers).
    pub non_uniform_entropy: BTreeMap<String, f64>,
    /// For each integer, decimal or date quasi-identifier, the sum of
    /// squared errors over the total sum of squares (SSE/SST): each
    /// released value stands for the mean of the original values of the
    /// records released with it (the overall mean for `*`).
    pub sse_sst: BTreeMap<String, f64>,
}

/// Measures `frame`, a release of `dataset` (same rows in the same order,
/// every quasi-identifier column present), against the models of `config`.
/// `suppressed_rows` flags the records the release suppressed (each must
/// have every quasi-identifier `*`); without it, every record with every
/// quasi-identifier `*` counts as suppressed. Suppressed records are one
/// class exempt from the models; every other class, including one of
/// records generalized to `*` everywhere, must satisfy them.
///
/// A released quasi-identifier value must be the original value, a label
/// of the column's hierarchy above it, a range `[low, high]` containing it
/// (integer, decimal and date columns), or `*`.
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] for a missing quasi-identifier column;
/// [`ErrorKind::InvalidParameter`] when the row counts differ, or, naming
/// the column and the row (not the value), when a released value does not
/// generalize the original; the models' errors.
pub fn measure_release(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    frame: &DataFrame,
    suppressed_rows: Option<&[bool]>,
) -> Result<ReleaseMeasure> {
    if frame.height() != dataset.rows() {
        return Err(Error::parameter(
            "release",
            format!(
                "the release has {} rows, the input {}",
                frame.height(),
                dataset.rows()
            ),
        ));
    }
    let check = ClassCheck::new(dataset, hierarchies, config, orders, "this")?;
    let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
    let qis = dataset.quasi_identifiers();
    let rows = dataset.rows();
    let width = qis.len();
    // Released values as codes per column, in order of first appearance.
    let mut columns: Vec<(Vec<u32>, Vec<String>)> = Vec::with_capacity(width);
    for qi in &qis {
        let column = frame
            .column(qi.name())
            .map_err(|_| ErrorKind::UnknownColumn {
                column: qi.name().to_owned(),
                available: frame
                    .get_column_names()
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?
            .cast(&polars::prelude::DataType::String)
            .map_err(|e| Error::parameter("release", e.to_string()))?;
        let values = column
            .str()
            .map_err(|e| Error::parameter("release", e.to_string()))?;
        let mut index: FxHashMap<&str, u32> = FxHashMap::default();
        let mut labels = Vec::new();
        let mut codes = Vec::with_capacity(rows);
        for (row, value) in values.iter().enumerate() {
            let value = value.ok_or_else(|| {
                Error::parameter(
                    "release",
                    format!("column '{}', row {}: a missing value", qi.name(), row + 1),
                )
            })?;
            let code = *index.entry(value).or_insert_with(|| {
                labels.push(value.to_owned());
                labels.len() as u32 - 1
            });
            codes.push(code);
        }
        columns.push((codes, labels));
    }
    let star: Vec<Option<u32>> = columns
        .iter()
        .map(|(_, labels)| {
            labels
                .iter()
                .position(|l| l == SUPPRESSED)
                .map(|p| p as u32)
        })
        .collect();
    let blank = |row: usize| (0..width).all(|j| star[j] == Some(columns[j].0[row]));
    let flagged: Vec<bool> = match suppressed_rows {
        Some(flags) => {
            if flags.len() != rows {
                return Err(Error::parameter(
                    "suppressed_rows",
                    format!("{} flags for {rows} rows", flags.len()),
                ));
            }
            if let Some(row) = (0..rows).find(|&r| flags[r] && !blank(r)) {
                return Err(Error::parameter(
                    "release",
                    format!(
                        "row {}: suppressed, but not every quasi-identifier is '*'",
                        row + 1
                    ),
                ));
            }
            flags.to_vec()
        }
        None => (0..rows).map(blank).collect(),
    };
    // Suppressed records form one class whose key is a code past every
    // column's released values (no released class can share it).
    let outside: Vec<u32> = columns.iter().map(|(_, l)| l.len() as u32).collect();
    let mut classes: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
    let mut row_class = Vec::with_capacity(rows);
    let mut keys: Vec<u32> = Vec::new();
    for row in 0..rows {
        let key: Vec<u32> = if flagged[row] {
            outside.clone()
        } else {
            columns.iter().map(|(codes, _)| codes[row]).collect()
        };
        let next = classes.len() as u32;
        let class = *classes.entry(key.clone()).or_insert_with(|| {
            keys.extend(&key);
            next
        });
        row_class.push(class);
    }
    let n_classes = classes.len();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_classes];
    for (row, &class) in row_class.iter().enumerate() {
        members[class as usize].push(row as u32);
    }
    let suppressed: Vec<bool> = (0..n_classes)
        .map(|c| keys[c * width..(c + 1) * width] == outside[..])
        .collect();
    let failing: Vec<usize> = (0..n_classes)
        .filter(|&c| !suppressed[c] && !check.passes(&members[c]))
        .collect();
    let sensitive = dataset.sensitive();
    let histograms: Vec<Vec<Histogram>> = sensitive
        .iter()
        .map(|column| {
            let codes = column.codes();
            members
                .iter()
                .map(|rows| Histogram::from_pairs(rows.iter().map(|&r| (codes[r as usize], 1))))
                .collect()
        })
        .collect();
    let table = FrequencyTable::from_parts(
        Node::bottom(width),
        columns.iter().map(|(_, l)| l.len() as u32 + 1).collect(),
        sensitive.iter().map(|c| c.cardinality() as u32).collect(),
        keys,
        members.iter().map(|m| m.len() as u64).collect(),
        histograms,
    )?;
    let suppressed_records = (0..n_classes)
        .filter(|&c| suppressed[c])
        .map(|c| members[c].len() as u64)
        .sum();
    let suppressed_cells = columns
        .iter()
        .zip(&star)
        .map(|((codes, _), star)| {
            star.map_or(0, |s| codes.iter().filter(|&&c| c == s).count() as u64)
        })
        .sum();
    let mut loss = ReleaseLoss {
        granularity: BTreeMap::new(),
        granularity_mean: 0.0,
        non_uniform_entropy: BTreeMap::new(),
        sse_sst: BTreeMap::new(),
    };
    for (j, qi) in qis.iter().enumerate() {
        let data_type = dataset.attribute(qi.name())?.data_type;
        let (codes, labels) = &columns[j];
        let column = ColumnLoss::new(
            compiled[j],
            qi.codes(),
            qi.dictionary(),
            data_type,
            codes,
            labels,
        )?;
        loss.granularity
            .insert(qi.name().to_owned(), column.granularity);
        loss.non_uniform_entropy
            .insert(qi.name().to_owned(), column.entropy);
        if let Some(sse_sst) = column.sse_sst {
            loss.sse_sst.insert(qi.name().to_owned(), sse_sst);
        }
    }
    loss.granularity_mean = if width == 0 {
        0.0
    } else {
        loss.granularity.values().sum::<f64>() / width as f64
    };
    Ok(ReleaseMeasure {
        table,
        suppressed,
        failing,
        suppressed_records,
        suppressed_cells,
        loss,
    })
}

/// One column's loss.
struct ColumnLoss {
    granularity: f64,
    entropy: f64,
    sse_sst: Option<f64>,
}

/// What a released value covers of the original domain.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cover {
    /// `*`: everything.
    All,
    /// A hierarchy label at a level (or the value itself at level 0).
    Label { level: usize, label: u32 },
    /// A range of sort keys, both ends included.
    Range { low: f64, high: f64 },
}

impl ColumnLoss {
    /// Measures one quasi-identifier: `original` are the rows' dictionary
    /// codes, `released` the codes of the released `labels`.
    fn new(
        hierarchy: &CompiledHierarchy,
        original: &[u32],
        dictionary: &[String],
        data_type: AttributeType,
        released: &[u32],
        labels: &[String],
    ) -> Result<ColumnLoss> {
        let column = hierarchy.column();
        let domain = hierarchy.domain_size().max(1) as f64;
        let keys: Vec<Option<f64>> = dictionary.iter().map(|v| data_type.sort_key(v)).collect();
        // The labels of each level, by text.
        let by_text: Vec<FxHashMap<&str, u32>> = hierarchy
            .levels()
            .iter()
            .map(|level| {
                level
                    .labels()
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), i as u32))
                    .collect()
            })
            .collect();
        // Each row's cover, and the shares.
        let mut covers: Vec<Cover> = Vec::with_capacity(original.len());
        let mut sum_share = 0.0;
        for (row, (&code, &out)) in original.iter().zip(released).enumerate() {
            let text = labels[out as usize].as_str();
            let cover = if text == SUPPRESSED {
                Cover::All
            } else if let Some(level) = (0..by_text.len()).find(|&l| {
                by_text[l].get(text) == Some(&hierarchy.levels()[l].map()[code as usize])
            }) {
                Cover::Label {
                    level,
                    label: hierarchy.levels()[level].map()[code as usize],
                }
            } else if let Some((low, high)) = parse_range(text, data_type)
                .filter(|&(low, high)| keys[code as usize].is_some_and(|v| low <= v && v <= high))
            {
                Cover::Range { low, high }
            } else {
                return Err(Error::parameter(
                    "release",
                    format!(
                        "column '{column}', row {}: the released value does not generalize the original",
                        row + 1
                    ),
                ));
            };
            sum_share += match cover {
                Cover::All => 1.0,
                Cover::Label { level, label } => {
                    hierarchy.levels()[level].leaves()[label as usize] as f64 / domain
                }
                Cover::Range { low, high } => {
                    let inside = keys
                        .iter()
                        .flatten()
                        .filter(|&&v| low <= v && v <= high)
                        .count();
                    inside as f64 / keys.len().max(1) as f64
                }
            };
            covers.push(cover);
        }
        let rows = original.len().max(1) as f64;
        let floor = 1.0 / domain;
        let granularity = if domain <= 1.0 {
            0.0
        } else {
            ((sum_share / rows - floor) / (1.0 - floor)).max(0.0)
        };
        // Non-uniform entropy: the denominator counts the input records
        // whose value the released value covers.
        let mut value_counts = vec![0u64; dictionary.len()];
        for &c in original {
            value_counts[c as usize] += 1;
        }
        let mut covered: FxHashMap<u32, u64> = FxHashMap::default();
        let mut entropy = 0.0;
        for (&code, &out) in original.iter().zip(released) {
            let denominator = *covered.entry(out).or_insert_with(|| {
                let text = labels[out as usize].as_str();
                (0..dictionary.len())
                    .filter(|&v| covers_value(hierarchy, &keys, data_type, text, v as u32))
                    .map(|v| value_counts[v])
                    .sum()
            });
            entropy -= (value_counts[code as usize] as f64 / denominator.max(1) as f64).log2();
        }
        let sse_sst = data_type.is_ordered().then_some(()).and_then(|_| {
            let values: Vec<f64> = original
                .iter()
                .map(|&c| keys[c as usize])
                .collect::<Option<Vec<f64>>>()?;
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            let sst: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            let mut groups: FxHashMap<u32, (f64, u64)> = FxHashMap::default();
            for (&out, &v) in released.iter().zip(&values) {
                let g = groups.entry(out).or_default();
                g.0 += v;
                g.1 += 1;
            }
            let sse: f64 = released
                .iter()
                .zip(&values)
                .zip(&covers)
                .map(|((out, v), cover)| {
                    let stand_in = if *cover == Cover::All {
                        mean
                    } else {
                        let (sum, n) = groups[out];
                        sum / n as f64
                    };
                    (v - stand_in).powi(2)
                })
                .sum();
            Some(if sst > 0.0 { sse / sst } else { 0.0 })
        });
        Ok(ColumnLoss {
            granularity,
            entropy,
            sse_sst,
        })
    }
}

/// Whether released `text` covers dictionary value `code`.
fn covers_value(
    hierarchy: &CompiledHierarchy,
    keys: &[Option<f64>],
    data_type: AttributeType,
    text: &str,
    code: u32,
) -> bool {
    text == SUPPRESSED
        || hierarchy
            .levels()
            .iter()
            .any(|level| level.labels()[level.map()[code as usize] as usize] == text)
        || parse_range(text, data_type)
            .is_some_and(|(low, high)| keys[code as usize].is_some_and(|v| low <= v && v <= high))
}

/// The ends of a released range `[low, high]` as sort keys.
pub(crate) fn parse_range(text: &str, data_type: AttributeType) -> Option<(f64, f64)> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let (low, high) = inner.split_once(", ")?;
    let low = data_type.sort_key(low)?;
    let high = data_type.sort_key(high)?;
    (low <= high).then_some((low, high))
}

//! Recoding record by record ([§6.6](crate::methods#66-local-recoding)):
//! releases in which records of one column are generalized differently
//! (local generalization along the hierarchies, Mondrian's ranges) or lose
//! single cells instead of whole records (local suppression), beside the
//! global optimum of the lattice; and the measure of any release, taken
//! from the released table itself.
//!
//! [`recode`] runs the configuration's [`Recoding`] and checks what it
//! produced with [`measure_release`] before returning it: a release with a
//! class that fails a model is an error, never a result.
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use deidentify::model::ModelSpec;
//! use deidentify::recode::{Recoding, recode};
//! use deidentify::{AnonymizationConfig, Ruleset};
//!
//! let loaded = Ruleset::from_file("datasets/adult/adult9.toml".as_ref())?.load()?;
//! let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 5 }], 0.0)
//!     .with_recoding(Recoding::Local);
//! let release = recode(&loaded.dataset, &loaded.hierarchies, &config, &BTreeMap::new())?
//!     .expect("the top of every hierarchy is 5-anonymous");
//! assert!(release.measure.satisfies_models());
//! assert!(release.measure.released_sizes().iter().all(|&size| size >= 5));
//! // Far less lost than any one level per column.
//! assert!(release.measure.loss.granularity_mean < 0.3);
//! # Ok::<(), deidentify::Error>(())
//! ```

mod cells;
mod check;
mod measure;
mod partition;
mod sweep;

use std::collections::BTreeMap;
use std::time::Instant;

use polars::prelude::DataFrame;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

pub use crate::search::Recoding;
pub use measure::{ReleaseLoss, ReleaseMeasure, measure_release};

use crate::apply::{SUPPRESSED, apply, release_frame};
use crate::data::attribute::AttributeType;
use crate::data::dataset::Dataset;
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::set::Hierarchies;
use crate::model::ModelSpec;
use crate::search::{AnonymizationConfig, search};
use check::ClassCheck;
use partition::{Axis, Cell, Part};

/// A release produced by [`recode`], measured.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LocalRelease {
    /// The recoding that produced it.
    pub recoding: Recoding,
    /// The released data: identifiers removed, quasi-identifiers recoded
    /// (`*` for a blanked cell), sensitive and insensitive values
    /// unchanged; columns in input order, rows in input order.
    pub frame: DataFrame,
    /// The classes as the method formed them, with what each released.
    /// (Two classes may release the same values; the measure then counts
    /// them as one.)
    pub classes: Vec<ReleasedClass>,
    /// For every row, its class in `classes`.
    pub row_classes: Vec<u32>,
    /// For every row, whether it was suppressed (every quasi-identifier `*`).
    pub suppressed_rows: Vec<bool>,
    /// The node of a global release.
    pub node: Option<Node>,
    /// The release measured from `frame` ([`measure_release`]).
    pub measure: ReleaseMeasure,
    /// Wall time of the recoding and the measure, in milliseconds.
    pub elapsed_ms: f64,
}

/// What a class of a [`LocalRelease`] released.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReleasedClass {
    /// Its records.
    pub size: u64,
    /// One cell per quasi-identifier, in column order.
    pub cells: Vec<ReleasedCell>,
    /// Whether its records are suppressed (exempt from the models; every
    /// cell [`ReleasedCell::Suppressed`]).
    pub suppressed: bool,
}

/// One quasi-identifier of a released class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum ReleasedCell {
    /// A label of the attribute's hierarchy (level 0: the value itself).
    Level {
        /// The hierarchy level.
        level: u32,
        /// The label.
        label: String,
    },
    /// The values from `low` to `high`, both included (released as
    /// `[low, high]`, or the value when they are equal).
    Range {
        /// The lowest value.
        low: String,
        /// The highest value.
        high: String,
    },
    /// Blanked (`*`).
    Suppressed,
}

impl ReleasedCell {
    /// The released text.
    pub fn text(&self) -> String {
        match self {
            ReleasedCell::Level { label, .. } => label.clone(),
            ReleasedCell::Range { low, high } if low == high => low.clone(),
            ReleasedCell::Range { low, high } => format!("[{low}, {high}]"),
            ReleasedCell::Suppressed => SUPPRESSED.to_owned(),
        }
    }
}

/// Releases `dataset` as `config.recoding` says, and measures the release
/// ([`measure_release`]). `Ok(None)` when no release satisfies the models
/// within the suppression limit.
///
/// - [`Recoding::Global`]: the lattice's optimum ([`search`]), applied.
/// - [`Recoding::Local`], [`Recoding::Mondrian`]: top-down partitioning.
///   Records are first grouped at the top of every hierarchy; groups that
///   fail the models are suppressed within the limit. Every part released
///   satisfies every model; nothing else is suppressed.
/// - [`Recoding::CellSuppression`]: the fewest blanked cells
///   (exactly on tables of up to 12 records, greedily beyond); records it
///   blanks entirely are suppressed, and must stay within the limit.
///
/// # Errors
///
/// The errors of the configuration and the models; for local recoding,
/// [`ErrorKind::InvalidParameter`] for a model that judges the release as a
/// whole (average risk, sample or population uniqueness), for Mondrian on a
/// string attribute without a hierarchy, and for cell suppression with a
/// model other than k-anonymity or an importance order naming a column
/// that is not a quasi-identifier ([`ErrorKind::UnknownColumn`]); and
/// [`ErrorKind::InvalidParameter`] if the measured release failed a model
/// (nothing is returned then).
pub fn recode(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
) -> Result<Option<LocalRelease>> {
    config.check()?;
    let started = Instant::now();
    let produced = match &config.recoding {
        Recoding::Global => global(dataset, hierarchies, config, orders)?,
        Recoding::Local => partitioned(dataset, hierarchies, config, orders, None)?,
        Recoding::Mondrian { relaxed } => {
            partitioned(dataset, hierarchies, config, orders, Some(*relaxed))?
        }
        Recoding::CellSuppression { importance } => {
            cell_suppression(dataset, hierarchies, config, orders, importance)?
        }
    };
    let Some((classes, row_classes, node)) = produced else {
        return Ok(None);
    };
    let frame = frame_of(dataset, &classes, &row_classes)?;
    let suppressed_rows: Vec<bool> = row_classes
        .iter()
        .map(|&c| classes[c as usize].suppressed)
        .collect();
    let measure = measure_release(
        dataset,
        hierarchies,
        config,
        orders,
        &frame,
        Some(&suppressed_rows),
    )?;
    if !measure.satisfies_models() {
        return Err(Error::parameter(
            "recoding",
            format!(
                "the {} release failed its own check ({} classes fail a model); nothing is released",
                config.recoding.name(),
                measure.failing.len()
            ),
        ));
    }
    Ok(Some(LocalRelease {
        recoding: config.recoding.clone(),
        frame,
        classes,
        row_classes,
        suppressed_rows,
        node,
        measure,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    }))
}

/// Classes, each row's class, and the node of a global release.
type Produced = (Vec<ReleasedClass>, Vec<u32>, Option<Node>);

/// The released table of `classes`.
fn frame_of(
    dataset: &Dataset,
    classes: &[ReleasedClass],
    row_classes: &[u32],
) -> Result<DataFrame> {
    let width = dataset.quasi_identifiers().len();
    let texts: Vec<Vec<String>> = (0..width)
        .map(|j| classes.iter().map(|c| c.cells[j].text()).collect())
        .collect();
    release_frame(dataset, |j| {
        row_classes
            .iter()
            .map(|&c| texts[j][c as usize].as_str())
            .collect()
    })
}

/// The lattice's optimum, applied.
fn global(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
) -> Result<Option<Produced>> {
    let result = search(dataset, hierarchies, config, orders)?;
    let Some(optimum) = result.optimum else {
        return Ok(None);
    };
    let node = optimum.node;
    let anonymized = apply(dataset, hierarchies, config, orders, &node)?;
    let table = FrequencyTable::from_dataset(dataset, hierarchies, &node)?;
    let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
    let mut row_classes: Vec<u32> = table
        .row_classes(dataset, hierarchies)?
        .into_iter()
        .map(|c| c as u32)
        .collect();
    let mut classes: Vec<ReleasedClass> = (0..table.classes())
        .map(|c| ReleasedClass {
            size: table.counts()[c],
            suppressed: false,
            cells: (0..compiled.len())
                .map(|j| {
                    let level = node.levels()[j];
                    ReleasedCell::Level {
                        level,
                        label: compiled[j].levels()[level as usize].labels()
                            [table.key(c)[j] as usize]
                            .clone(),
                    }
                })
                .collect(),
        })
        .collect();
    // Suppressed records form one class of blanks.
    let suppressed = classes.len() as u32;
    let mut count = 0;
    for (row, class) in row_classes.iter_mut().enumerate() {
        if anonymized.suppressed_rows[row] {
            classes[*class as usize].size -= 1;
            *class = suppressed;
            count += 1;
        }
    }
    if count > 0 {
        classes.push(ReleasedClass {
            size: count,
            cells: vec![ReleasedCell::Suppressed; compiled.len()],
            suppressed: true,
        });
    }
    Ok(Some((classes, row_classes, Some(node))))
}

/// Local generalization (`relaxed` = `None`) or Mondrian (strict or
/// relaxed) by top-down partitioning.
fn partitioned(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    relaxed: Option<bool>,
) -> Result<Option<Produced>> {
    let method = if relaxed.is_some() {
        "Mondrian"
    } else {
        "local"
    };
    let check = ClassCheck::new(dataset, hierarchies, config, orders, method)?;
    let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
    let qis = dataset.quasi_identifiers();
    let mut axes = Vec::with_capacity(qis.len());
    for (j, qi) in qis.iter().enumerate() {
        let data_type = dataset.attribute(qi.name())?.data_type;
        let ordered = matches!(
            data_type,
            AttributeType::Integer | AttributeType::Decimal | AttributeType::Date
        );
        axes.push(match relaxed {
            Some(relaxed) if ordered => range_axis(qi.dictionary(), qi.codes(), data_type, relaxed),
            Some(_) if compiled[j].height() == 0 => {
                return Err(Error::parameter(
                    "recoding",
                    format!(
                        "Mondrian splits '{}' ({} type) along a hierarchy, and it has none: \
                         give it a hierarchy or an integer, decimal or date type",
                        qi.name(),
                        data_type.name()
                    ),
                ));
            }
            _ => Axis::Tree {
                hierarchy: compiled[j],
                codes: qi.codes(),
            },
        });
    }
    // The records grouped at the top of every hierarchy.
    let mut groups: FxHashMap<Vec<u32>, Vec<u32>> = FxHashMap::default();
    for row in 0..dataset.rows() {
        let key: Vec<u32> = axes
            .iter()
            .map(|axis| match axis {
                Axis::Tree { hierarchy, codes } => {
                    hierarchy.levels()[hierarchy.height()].map()[codes[row] as usize]
                }
                Axis::Range { .. } => 0,
            })
            .collect();
        groups.entry(key).or_default().push(row as u32);
    }
    let mut groups: Vec<Vec<u32>> = groups.into_values().collect();
    groups.sort_unstable();
    let limit = (config.suppression_limit * dataset.rows() as f64).floor() as u64;
    let (start, failed): (Vec<Vec<u32>>, Vec<Vec<u32>>) =
        groups.into_iter().partition(|rows| check.passes(rows));
    let suppressed: Vec<u32> = failed.into_iter().flatten().collect();
    if suppressed.len() as u64 > limit {
        return Ok(None);
    }
    let mut parts: Vec<Part> = start
        .iter()
        .flat_map(|rows| partition::partition(&axes, &check, rows.clone()))
        .collect();
    let mut suppressed = suppressed;
    if relaxed.is_none() {
        // Local generalization: the bottom-up sweep too, and the release
        // that loses less.
        let codes: Vec<&[u32]> = qis.iter().map(|qi| qi.codes()).collect();
        let rows: Vec<u32> = start.into_iter().flatten().collect();
        if let Some((classes, left)) = sweep::best_sweep(&compiled, &codes, &check, rows)
            && (suppressed.len() + left.len()) as u64 <= limit
        {
            let swept: Vec<Part> = classes
                .into_iter()
                .map(|class| Part {
                    cells: (0..axes.len())
                        .map(|j| Cell::Tree {
                            level: class.levels[j],
                            label: compiled[j].levels()[class.levels[j] as usize].map()
                                [codes[j][class.rows[0] as usize] as usize],
                            open: false,
                        })
                        .collect(),
                    rows: class.rows,
                })
                .collect();
            let mut swept_suppressed = suppressed.clone();
            swept_suppressed.extend(&left);
            if loss_of(&axes, &swept, swept_suppressed.len())
                < loss_of(&axes, &parts, suppressed.len())
            {
                parts = swept;
                suppressed = swept_suppressed;
                suppressed.sort_unstable();
            }
        }
    }
    let mut row_classes = vec![0u32; dataset.rows()];
    let mut classes = Vec::with_capacity(parts.len() + 1);
    for (c, part) in parts.iter().enumerate() {
        for &row in &part.rows {
            row_classes[row as usize] = c as u32;
        }
        classes.push(ReleasedClass {
            size: part.rows.len() as u64,
            suppressed: false,
            cells: part
                .cells
                .iter()
                .zip(&axes)
                .map(|(&cell, axis)| released_cell(cell, axis))
                .collect(),
        });
    }
    if !suppressed.is_empty() {
        for &row in &suppressed {
            row_classes[row as usize] = classes.len() as u32;
        }
        classes.push(ReleasedClass {
            size: suppressed.len() as u64,
            cells: vec![ReleasedCell::Suppressed; axes.len()],
            suppressed: true,
        });
    }
    Ok(Some((classes, row_classes, None)))
}

/// The information loss of a release of `parts` and `suppressed` records:
/// the sum over records and attributes of the normalized share of the
/// domain each cell covers (1 for a suppressed record's).
fn loss_of(axes: &[Axis<'_>], parts: &[Part], suppressed: usize) -> f64 {
    let released: f64 = parts
        .iter()
        .map(|part| {
            part.cells
                .iter()
                .zip(axes)
                .map(|(&cell, axis)| axis.loss(cell))
                .sum::<f64>()
                * part.rows.len() as f64
        })
        .sum();
    released + (suppressed * axes.len()) as f64
}

/// An ordered attribute's axis: the rows' ranks among its distinct values
/// (by their sort keys), with each rank's text kept for its labels.
fn range_axis(
    dictionary: &[String],
    codes: &[u32],
    data_type: AttributeType,
    relaxed: bool,
) -> Axis<'static> {
    let mut order: Vec<(f64, u32)> = dictionary
        .iter()
        .enumerate()
        .map(|(code, value)| (data_type.sort_key(value).unwrap_or(f64::NAN), code as u32))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut rank_of = vec![0u32; dictionary.len()];
    let mut texts: Vec<String> = Vec::new();
    let mut last = None;
    for &(key, code) in &order {
        if last != Some(key.to_bits()) {
            texts.push(dictionary[code as usize].clone());
            last = Some(key.to_bits());
        }
        rank_of[code as usize] = texts.len() as u32 - 1;
    }
    Axis::Range {
        ranks: codes.iter().map(|&c| rank_of[c as usize]).collect(),
        distinct: texts.len() as u32,
        relaxed,
        texts,
    }
}

/// What `cell` releases.
fn released_cell(cell: Cell, axis: &Axis<'_>) -> ReleasedCell {
    match (cell, axis) {
        (Cell::Tree { level, label, .. }, Axis::Tree { hierarchy, .. }) => ReleasedCell::Level {
            level,
            label: hierarchy.levels()[level as usize].labels()[label as usize].clone(),
        },
        (Cell::Range { low, high, .. }, Axis::Range { texts, .. }) => ReleasedCell::Range {
            low: texts[low as usize].clone(),
            high: texts[high as usize].clone(),
        },
        _ => unreachable!("cells match their axes"),
    }
}

/// Local suppression of cells for k-anonymity.
fn cell_suppression(
    dataset: &Dataset,
    hierarchies: &Hierarchies,
    config: &AnonymizationConfig,
    orders: &BTreeMap<String, Vec<String>>,
    importance: &[String],
) -> Result<Option<Produced>> {
    // Builds (and checks) the models first, for their own errors.
    ClassCheck::new(dataset, hierarchies, config, orders, "cell-suppression")?;
    let mut k = 1u64;
    for model in &config.models {
        match model {
            ModelSpec::KAnonymity { k: model_k } => k = k.max(*model_k),
            other => {
                return Err(Error::parameter(
                    "recoding",
                    format!(
                        "cell suppression guarantees k-anonymity only, not {}: blanking \
                         quasi-identifier cells never changes a class's sensitive values \
                         (use local or global recoding)",
                        other.build(dataset, hierarchies, orders)?.name()
                    ),
                ));
            }
        }
    }
    let qis = dataset.quasi_identifiers();
    let names = dataset.quasi_identifier_names();
    if qis.len() > 64 {
        return Err(Error::parameter(
            "recoding",
            format!(
                "cell suppression handles up to 64 quasi-identifiers, not {}",
                qis.len()
            ),
        ));
    }
    for name in importance {
        if !names.contains(name) {
            return Err(ErrorKind::UnknownColumn {
                column: name.clone(),
                available: names.join(", "),
            }
            .into());
        }
    }
    // Blanking order: attributes not named, more distinct values first;
    // then the named ones from the least important.
    let mut order: Vec<usize> = (0..qis.len())
        .filter(|&j| !importance.contains(&names[j]))
        .collect();
    order.sort_by_key(|&j| (std::cmp::Reverse(qis[j].cardinality()), j));
    order.extend(
        importance
            .iter()
            .rev()
            .map(|name| names.iter().position(|n| n == name).expect("checked")),
    );
    let mut rank = vec![0usize; qis.len()];
    for (r, &j) in order.iter().enumerate() {
        rank[j] = r;
    }
    let keys: Vec<Vec<u32>> = (0..dataset.rows())
        .map(|row| qis.iter().map(|qi| qi.codes()[row]).collect())
        .collect();
    let masks = cells::suppress_cells(&keys, k as usize, &rank);
    // One class per released tuple.
    let mut index: FxHashMap<(u64, &[u32]), u32> = FxHashMap::default();
    let mut classes: Vec<ReleasedClass> = Vec::new();
    let mut row_classes = Vec::with_capacity(keys.len());
    for (row, (key, &mask)) in keys.iter().zip(&masks).enumerate() {
        let next = classes.len() as u32;
        let class = *index.entry((mask, key.as_slice())).or_insert_with(|| {
            classes.push(ReleasedClass {
                size: 0,
                suppressed: mask.count_ones() as usize == qis.len(),
                cells: (0..qis.len())
                    .map(|j| {
                        if mask >> j & 1 == 1 {
                            ReleasedCell::Suppressed
                        } else {
                            ReleasedCell::Level {
                                level: 0,
                                label: qis[j].value(row).to_owned(),
                            }
                        }
                    })
                    .collect(),
            });
            next
        });
        classes[class as usize].size += 1;
        row_classes.push(class);
    }
    let all = if qis.len() == 64 {
        u64::MAX
    } else {
        (1u64 << qis.len()) - 1
    };
    let suppressed = masks.iter().filter(|&&m| m == all).count() as u64;
    if suppressed > (config.suppression_limit * dataset.rows() as f64).floor() as u64 {
        return Ok(None);
    }
    Ok(Some((classes, row_classes, None)))
}

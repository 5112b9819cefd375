//! Scoring a node's frequency table with a metric.

use std::f64::consts::LN_2;

use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;
use crate::hierarchy::compiled::CompiledHierarchy;
use crate::hierarchy::set::Hierarchies;
use crate::metric::{Aggregate, MetricKind, MetricSpec};

/// A node's score: the aggregate and, for the multi-dimensional metrics,
/// the value of each quasi-identifier (column order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeScore {
    /// The score (lower is better).
    pub score: f64,
    /// Per quasi-identifier values before aggregation (empty for DM, DM*, AECS).
    pub per_attribute: Vec<f64>,
}

/// ARX's floor to 10 decimals, applied to each per-attribute value of Loss
/// and non-uniform entropy ([§5.1](crate::methods#51-aggregation-weights-and-the-gs-factor)).
fn fl10(x: f64) -> f64 {
    (x * 1e10).floor() / 1e10
}

/// A metric prepared for one dataset: the per-attribute tables that depend
/// only on the levels are computed once.
#[derive(Clone, Debug)]
pub struct UtilityModel {
    spec: MetricSpec,
    weights: Vec<f64>,
    rows: u64,
    heights: Vec<u32>,
    /// raw_j(λ) = Σ_v a_v·(ln(a_v/b_{g(v)})/ln 2) (≤ 0), per QI and level,
    /// for the entropy metrics (0 for the others).
    entropy_raw: Vec<Vec<f64>>,
    /// share_j(λ, label) = rows listed below the label / rows the hierarchy
    /// lists (a repeated row counted each time, values absent from the data
    /// included: ARX's `DomainShareMaterialized`, [§5.2](crate::methods#52-metrics)).
    shares: Vec<Vec<Vec<f64>>>,
    /// Σ_v a_v·share_j(λ, g(v)): the Loss numerator with every record kept.
    loss_kept: Vec<Vec<f64>>,
    domains: Vec<f64>,
    /// Each quasi-identifier's term of the lower bound per level (see
    /// [`UtilityModel::bound_terms`]); `None` for metrics without a bound.
    bound_terms: Option<Vec<Vec<f64>>>,
}

impl UtilityModel {
    /// Prepares `spec` for `dataset`'s quasi-identifiers.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a weight naming no
    /// quasi-identifier, a negative or non-finite weight, or gs outside [0, 1];
    /// [`crate::ErrorKind::UnknownColumn`] never (weights are checked by name).
    pub fn new(
        dataset: &Dataset,
        hierarchies: &Hierarchies,
        spec: &MetricSpec,
    ) -> Result<UtilityModel> {
        let columns = dataset.quasi_identifiers();
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
        let counts: Vec<Vec<u64>> = columns.iter().map(|c| c.counts()).collect();
        let compiled = hierarchies.checked_quasi_identifiers(dataset)?;
        UtilityModel::from_counts(&names, &counts, &compiled, dataset.rows() as u64, spec)
    }

    /// Prepares `spec` from a summary of the quasi-identifiers (column
    /// order): their names, the number of records per dictionary code, their
    /// compiled hierarchies, and the number of records (for data counted
    /// without an encoded [`Dataset`], such as a streamed table).
    ///
    /// # Errors
    ///
    /// As [`UtilityModel::new`].
    pub(crate) fn from_counts(
        names: &[&str],
        counts: &[Vec<u64>],
        compiled: &[&CompiledHierarchy],
        rows: u64,
        spec: &MetricSpec,
    ) -> Result<UtilityModel> {
        if !(0.0..=1.0).contains(&spec.gs_factor) {
            return Err(Error::parameter(
                "gs_factor",
                format!("must be in [0, 1], got {}", spec.gs_factor),
            ));
        }
        for (name, &w) in &spec.weights {
            if !names.contains(&name.as_str()) {
                return Err(Error::parameter(
                    "weights",
                    format!("'{name}' is not a quasi-identifier"),
                ));
            }
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::parameter(
                    "weights",
                    format!("weight of '{name}' must be ≥ 0, got {w}"),
                ));
            }
        }
        let raw: Vec<f64> = names
            .iter()
            .map(|&name| spec.weights.get(name).copied().unwrap_or(0.5))
            .collect();
        // Normalized by the largest; when every weight is 0, all count
        // alike (weight 1), as ARX's `AbstractMetricMultiDimensional` does.
        let max = raw.iter().copied().fold(0.0, f64::max);
        let weights = raw
            .iter()
            .map(|&w| if max > 0.0 { w / max } else { 1.0 })
            .collect();
        // (The entropy terms take a logarithm per code and level: only the
        // entropy metrics need them.)
        let entropic = matches!(spec.kind, MetricKind::Entropy | MetricKind::EntropyNm);
        let mut entropy_raw = Vec::new();
        let mut shares = Vec::new();
        let mut loss_kept = Vec::new();
        let mut domains = Vec::new();
        for (counts, h) in counts.iter().zip(compiled) {
            let domain = h.domain_size() as f64;
            let mut raw_levels = Vec::new();
            let mut share_levels = Vec::new();
            let mut kept_levels = Vec::new();
            for level in h.levels() {
                let mut label_counts = vec![0u64; level.cardinality()];
                for (code, &a) in counts.iter().enumerate() {
                    label_counts[level.map()[code] as usize] += a;
                }
                let mut raw = 0.0;
                let mut kept = 0.0;
                let share: Vec<f64> = level.leaves().iter().map(|&l| l as f64 / domain).collect();
                for (code, &a) in counts.iter().enumerate() {
                    let label = level.map()[code] as usize;
                    let (a, b) = (a as f64, label_counts[label] as f64);
                    if entropic {
                        raw += a * ((a / b).ln() / LN_2);
                    }
                    kept += a * share[label];
                }
                raw_levels.push(raw);
                share_levels.push(share);
                kept_levels.push(kept);
            }
            entropy_raw.push(raw_levels);
            shares.push(share_levels);
            loss_kept.push(kept_levels);
            domains.push(domain);
        }
        let mut model = UtilityModel {
            spec: spec.clone(),
            weights,
            rows,
            heights: compiled.iter().map(|h| h.height() as u32).collect(),
            entropy_raw,
            shares,
            loss_kept,
            domains,
            bound_terms: None,
        };
        model.bound_terms = model.compute_bound_terms();
        Ok(model)
    }

    /// The metric.
    pub fn spec(&self) -> &MetricSpec {
        &self.spec
    }

    /// ARX's generalization and suppression factors (gF, sF) from gs.
    fn factors(&self) -> (f64, f64) {
        let gs = self.spec.gs_factor;
        let g = if gs <= 0.5 {
            1.0
        } else {
            1.0 - 2.0 * (gs - 0.5)
        };
        let s = if gs < 0.5 { 2.0 * gs } else { 1.0 };
        (g, s)
    }

    fn aggregate(&self, values: &[f64]) -> f64 {
        let acc = values
            .iter()
            .enumerate()
            .fold(self.fold_start(), |acc, (j, &v)| self.fold_step(acc, j, v));
        self.fold_finish(acc)
    }

    fn monotone_entropy(&self, node: &Node) -> Vec<f64> {
        node.levels()
            .iter()
            .enumerate()
            .map(|(j, &l)| -self.entropy_raw[j][l as usize])
            .collect()
    }

    /// Scores the node's table; `outlier[c]` says whether class `c` is
    /// suppressed and `suppressed` is the number of records in such classes.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when the table's node does not
    /// have one level within range per quasi-identifier of this model, or
    /// `outlier` does not have one flag per class.
    pub fn score(
        &self,
        table: &FrequencyTable,
        outlier: &[bool],
        suppressed: u64,
    ) -> Result<NodeScore> {
        self.check_node(table.node())?;
        if outlier.len() != table.classes() {
            return Err(Error::parameter(
                "outlier",
                format!("{} flags for {} classes", outlier.len(), table.classes()),
            ));
        }
        Ok(self.score_unchecked(table, outlier, suppressed))
    }

    /// Checks that `node` has one level within range per quasi-identifier.
    fn check_node(&self, node: &Node) -> Result<()> {
        let levels = node.levels();
        if levels.len() != self.heights.len()
            || levels.iter().zip(&self.heights).any(|(&l, &h)| l > h)
        {
            return Err(Error::parameter(
                "node",
                format!(
                    "{node} is not a node of this metric's {} quasi-identifiers",
                    self.heights.len()
                ),
            ));
        }
        Ok(())
    }

    /// [`UtilityModel::score`] without its checks, for a table and flags
    /// known to match (the search's own).
    pub(crate) fn score_unchecked(
        &self,
        table: &FrequencyTable,
        outlier: &[bool],
        suppressed: u64,
    ) -> NodeScore {
        let node = table.node();
        let n = self.rows as f64;
        let (g, s) = self.factors();
        let kept = || (0..table.classes()).filter(|&c| !outlier[c]);
        let squares = |classes: &mut dyn Iterator<Item = usize>| -> u128 {
            classes.map(|c| u128::from(table.counts()[c]).pow(2)).sum()
        };
        let single = |score: f64| NodeScore {
            score,
            per_attribute: Vec::new(),
        };
        match self.spec.kind {
            MetricKind::Discernibility => single(squares(&mut (0..table.classes())) as f64),
            MetricKind::DiscernibilityNm => single(
                (squares(&mut kept()) + u128::from(self.rows) * u128::from(suppressed)) as f64,
            ),
            MetricKind::Aecs => {
                // ARX's `MetricSDAECS` weights the kept classes by the
                // suppression factor and the class of suppressed records by
                // the generalization factor ("switched on purpose"); both
                // are 1 at the default gs = 0.5.
                let classes = kept().count() as f64 * s + if suppressed > 0 { g } else { 0.0 };
                single(n / classes)
            }
            MetricKind::Height => {
                let values: Vec<f64> = node.levels().iter().map(|&l| f64::from(l)).collect();
                NodeScore {
                    score: self.aggregate(&values),
                    per_attribute: values,
                }
            }
            MetricKind::Entropy => {
                let values: Vec<f64> = self.monotone_entropy(node).into_iter().map(fl10).collect();
                NodeScore {
                    score: self.aggregate(&values),
                    per_attribute: values,
                }
            }
            MetricKind::EntropyNm => {
                let mut values = self.monotone_entropy(node);
                if suppressed > 0 {
                    let total = suppressed as f64;
                    for (j, value) in values.iter_mut().enumerate() {
                        let level = node.levels()[j] as usize;
                        let mut counts = vec![0u64; self.shares[j][level].len()];
                        for c in (0..table.classes()).filter(|&c| outlier[c]) {
                            counts[table.code(c, j) as usize] += table.counts()[c];
                        }
                        let part = counts.iter().filter(|&&c| c > 0).fold(0.0, |acc, &c| {
                            acc + c as f64 * ((total / c as f64).ln() / LN_2)
                        });
                        *value += s * part;
                    }
                }
                let values: Vec<f64> = values.into_iter().map(fl10).collect();
                NodeScore {
                    score: self.aggregate(&values),
                    per_attribute: values,
                }
            }
            MetricKind::Loss => {
                let width = node.levels().len();
                let shares: Vec<&[f64]> = (0..width)
                    .map(|j| self.shares[j][node.levels()[j] as usize].as_slice())
                    .collect();
                // One pass over the classes with a sum per attribute: each
                // sum still adds the classes in order (the same rounding as
                // one attribute at a time), but the attributes' additions
                // no longer wait on each other.
                let mut sums = vec![0.0f64; width];
                let counts = table.counts();
                table.for_each_key(|c, key| {
                    let size = counts[c] as f64;
                    let outlier = outlier[c];
                    for ((sum, share), &code) in sums.iter_mut().zip(&shares).zip(key) {
                        let sh = share[code as usize];
                        *sum += if !outlier {
                            size * sh * g
                        } else if s == 1.0 {
                            size
                        } else {
                            size * sh + s * (size - size * sh)
                        };
                    }
                });
                let values: Vec<f64> = sums
                    .iter()
                    .zip(&self.domains)
                    .map(|(&sum, &domain)| {
                        let m = g * n / domain;
                        fl10(((sum - m) / (n - m)).max(0.0))
                    })
                    .collect();
                NodeScore {
                    score: self.aggregate(&values),
                    per_attribute: values,
                }
            }
            MetricKind::Precision => {
                let values: Vec<f64> = (0..node.levels().len())
                    .map(|j| {
                        let h = self.heights[j];
                        let ratio = if h == 0 {
                            0.0
                        } else {
                            f64::from(node.levels()[j]) / f64::from(h)
                        };
                        let kept: u64 = kept().map(|c| table.counts()[c]).sum();
                        // ARX's `MetricMDNMPrecision`: kept records cost
                        // ratio·gF, suppressed ones sF.
                        (kept as f64 * ratio * g + suppressed as f64 * s) / n
                    })
                    .collect();
                NodeScore {
                    score: self.aggregate(&values),
                    per_attribute: values,
                }
            }
        }
    }

    /// A lower bound of the score at `node` and at every generalization of
    /// it, computed from the levels alone, where the metric has one: the
    /// score with suppression charged like generalization (Loss, precision,
    /// entropy-nm), or the exact score (entropy, height). `None` for DM, DM*
    /// and AECS, which need the classes.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `node` does not have one
    /// level within range per quasi-identifier of this model.
    pub fn lower_bound(&self, node: &Node) -> Result<Option<f64>> {
        self.check_node(node)?;
        Ok(self.lower_bound_unchecked(node))
    }

    /// [`UtilityModel::lower_bound`] without its check, for a node of the
    /// lattice.
    pub(crate) fn lower_bound_unchecked(&self, node: &Node) -> Option<f64> {
        let terms = self.bound_terms()?;
        let acc = node
            .levels()
            .iter()
            .enumerate()
            .fold(self.fold_start(), |acc, (j, &l)| {
                self.fold_step(acc, j, terms[j][l as usize])
            });
        Some(self.fold_finish(acc))
    }

    /// Each quasi-identifier's term of the lower bound at each of its
    /// levels: the bound at a node is [`UtilityModel::fold_step`] over its
    /// levels' terms, in column order, from [`UtilityModel::fold_start`],
    /// then [`UtilityModel::fold_finish`]. `None` for metrics without a bound.
    pub(crate) fn bound_terms(&self) -> Option<&[Vec<f64>]> {
        self.bound_terms.as_deref()
    }

    /// The terms [`UtilityModel::bound_terms`] returns, computed once.
    fn compute_bound_terms(&self) -> Option<Vec<Vec<f64>>> {
        let n = self.rows as f64;
        let (g, s) = self.factors();
        let term = |j: usize, l: usize| -> Option<f64> {
            Some(match self.spec.kind {
                MetricKind::Entropy | MetricKind::EntropyNm => fl10(-self.entropy_raw[j][l]),
                MetricKind::Height => l as f64,
                // ARX's bound is ratio·gF; a suppressed record costs sF, which
                // is below that when gs < 0.5, so the bound takes the smaller.
                MetricKind::Precision => {
                    let h = self.heights[j];
                    let ratio = if h == 0 { 0.0 } else { l as f64 / f64::from(h) };
                    (ratio * g).min(s)
                }
                MetricKind::Loss => {
                    let m = g * n / self.domains[j];
                    fl10(((self.loss_kept[j][l] * g - m) / (n - m)).max(0.0))
                }
                MetricKind::Discernibility | MetricKind::DiscernibilityNm | MetricKind::Aecs => {
                    return None;
                }
            })
        };
        // (Checked first: a table without quasi-identifiers has no term to
        // say so.)
        if matches!(
            self.spec.kind,
            MetricKind::Discernibility | MetricKind::DiscernibilityNm | MetricKind::Aecs
        ) {
            return None;
        }
        self.heights
            .iter()
            .enumerate()
            .map(|(j, &h)| (0..=h as usize).map(|l| term(j, l)).collect())
            .collect()
    }

    /// Whether lower bounds of the scores of a node's projections onto the
    /// groups of a partition of the quasi-identifiers make a lower bound of
    /// its score ([`UtilityModel::projected`],
    /// [`UtilityModel::combine_projections`]): each attribute's value must
    /// depend on its own level and on which records are suppressed alone,
    /// and never fall when more records are suppressed. So it is for Loss
    /// (a suppressed record costs at least what it costs kept), for height
    /// and monotone entropy (levels alone), and for precision when a
    /// suppressed record costs at least a kept one at the top (gs ≥ 0.5).
    pub(crate) fn projects(&self) -> bool {
        let (g, s) = self.factors();
        match self.spec.kind {
            MetricKind::Loss | MetricKind::Height | MetricKind::Entropy => true,
            MetricKind::Precision => s >= g,
            MetricKind::EntropyNm
            | MetricKind::Discernibility
            | MetricKind::DiscernibilityNm
            | MetricKind::Aecs => false,
        }
    }

    /// The metric on the quasi-identifiers `columns` alone (in that order),
    /// each with its weight here, for the projected tables of the same
    /// records.
    pub(crate) fn projected(&self, columns: &[usize]) -> UtilityModel {
        fn pick<T: Clone>(values: &[T], columns: &[usize]) -> Vec<T> {
            columns.iter().map(|&j| values[j].clone()).collect()
        }
        UtilityModel {
            spec: self.spec.clone(),
            weights: pick(&self.weights, columns),
            rows: self.rows,
            heights: pick(&self.heights, columns),
            entropy_raw: pick(&self.entropy_raw, columns),
            shares: pick(&self.shares, columns),
            loss_kept: pick(&self.loss_kept, columns),
            domains: pick(&self.domains, columns),
            bound_terms: self.bound_terms.as_ref().map(|t| pick(t, columns)),
        }
    }

    /// Whether [`UtilityModel::conditioned`] scores as this model does:
    /// every metric whose values depend on a level only through the
    /// level's labels (all but height and precision, which count levels).
    pub(crate) fn conditions(&self) -> bool {
        !matches!(self.spec.kind, MetricKind::Height | MetricKind::Precision)
    }

    /// The metric for tables whose quasi-identifier `j` is held at level
    /// `l` where `fixed[j]` is `Some(l)` (a hierarchy of height 0 over that
    /// level's labels, [`CompiledHierarchy::fixed_at`]), the others as
    /// here: a node of its lattice scores as the node of this one with the
    /// held levels put in, when [`UtilityModel::conditions`].
    ///
    /// # Panics
    ///
    /// Panics if `fixed` does not have one entry per quasi-identifier or a
    /// level is above its height.
    pub(crate) fn conditioned(&self, fixed: &[Option<u32>]) -> UtilityModel {
        assert_eq!(fixed.len(), self.heights.len(), "one entry per attribute");
        fn hold<T: Clone>(values: &[Vec<T>], fixed: &[Option<u32>]) -> Vec<Vec<T>> {
            values
                .iter()
                .zip(fixed)
                .map(|(levels, f)| match f {
                    Some(l) => vec![levels[*l as usize].clone()],
                    None => levels.clone(),
                })
                .collect()
        }
        UtilityModel {
            spec: self.spec.clone(),
            weights: self.weights.clone(),
            rows: self.rows,
            heights: self
                .heights
                .iter()
                .zip(fixed)
                .map(|(&h, f)| if f.is_some() { 0 } else { h })
                .collect(),
            entropy_raw: hold(&self.entropy_raw, fixed),
            shares: hold(&self.shares, fixed),
            loss_kept: hold(&self.loss_kept, fixed),
            domains: self.domains.clone(),
            bound_terms: self.bound_terms.as_ref().map(|t| hold(t, fixed)),
        }
    }

    /// A lower bound of a node's score from lower bounds of the scores of
    /// its projections ([`UtilityModel::projected`]) onto the groups of a
    /// partition of the quasi-identifiers: `parts` holds each group's
    /// number of quasi-identifiers and bound. With d quasi-identifiers in
    /// all, a sum adds the groups' sums, a maximum takes the largest, an
    /// arithmetic mean weighs each group's mean by its size over d, and a
    /// geometric mean multiplies (1 + the group's mean) to the power of its
    /// size over d. Each is increasing in every group's score, so bounds of
    /// the groups bound the whole.
    pub(crate) fn combine_projections(&self, parts: &[(usize, f64)]) -> f64 {
        let d = self.weights.len() as f64;
        match self.spec.aggregate() {
            Aggregate::Sum => parts.iter().map(|&(_, b)| b).sum(),
            Aggregate::Max => parts.iter().map(|&(_, b)| b).fold(0.0, f64::max),
            Aggregate::ArithmeticMean => parts.iter().map(|&(n, b)| b * n as f64 / d).sum(),
            Aggregate::GeometricMean => {
                parts
                    .iter()
                    .map(|&(n, b)| (b + 1.0).powf(n as f64 / d))
                    .product::<f64>()
                    - 1.0
            }
        }
    }

    /// The start of the aggregation's left fold (see [`UtilityModel::aggregate`]).
    pub(crate) fn fold_start(&self) -> f64 {
        match self.spec.aggregate() {
            Aggregate::GeometricMean => 1.0,
            _ => 0.0,
        }
    }

    /// One step of the aggregation's left fold: quasi-identifier `j`'s value `v`.
    pub(crate) fn fold_step(&self, acc: f64, j: usize, v: f64) -> f64 {
        let d = self.weights.len() as f64;
        let w = self.weights[j];
        match self.spec.aggregate() {
            Aggregate::Sum => acc + w * v,
            Aggregate::Max => acc.max(w * v),
            Aggregate::ArithmeticMean => acc + (v / d) * w,
            Aggregate::GeometricMean => acc * (w * v + 1.0).powf(1.0 / d),
        }
    }

    /// The end of the aggregation's left fold.
    pub(crate) fn fold_finish(&self, acc: f64) -> f64 {
        match self.spec.aggregate() {
            Aggregate::GeometricMean => acc - 1.0,
            _ => acc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fl10_floors() {
        assert_eq!(fl10(0.123456789012345), 0.1234567890);
        assert_eq!(fl10(1.0), 1.0);
        assert_eq!(fl10(-0.0), 0.0);
    }
}

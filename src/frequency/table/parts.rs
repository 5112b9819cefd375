//! Assembling a frequency table from its parts (a table counted elsewhere:
//! streamed batches, a Parquet file, an external engine).

use std::sync::OnceLock;

use super::{FrequencyTable, KeyIndex, Keys};
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::histogram::{Histogram, HistogramColumn};
use crate::frequency::node::Node;

impl FrequencyTable {
    /// Assembles a table counted at `node` from its classes: `keys` holds
    /// the label codes of class `c` at `keys[c·m..(c+1)·m]` (m = number of
    /// quasi-identifiers), `counts[c]` its size, and `histograms[s][c]` its
    /// histogram of sensitive attribute `s`. `cardinalities[j]` bounds the
    /// label codes of quasi-identifier `j` at its level, and
    /// `sensitive_cardinalities[s]` the codes of sensitive attribute `s`
    /// (the sizes of their dictionaries).
    ///
    /// Codes must come from the same dictionaries and hierarchies as the
    /// tables it is merged with or rolled up by.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the lengths disagree, a code is
    /// out of range, a count is 0, a histogram's total differs from its
    /// class's count, or a key appears twice.
    pub fn from_parts(
        node: Node,
        cardinalities: Vec<u32>,
        sensitive_cardinalities: Vec<u32>,
        keys: Vec<u32>,
        counts: Vec<u64>,
        histograms: Vec<Vec<Histogram>>,
    ) -> Result<FrequencyTable> {
        let width = cardinalities.len();
        let invalid = |reason: String| Err(Error::parameter("table", reason));
        if node.levels().len() != width {
            return invalid(format!(
                "{node} has {} levels for {width} quasi-identifiers",
                node.levels().len()
            ));
        }
        if keys.len() != counts.len() * width {
            return invalid(format!(
                "{} key codes for {} classes of {width} quasi-identifiers",
                keys.len(),
                counts.len()
            ));
        }
        if histograms.len() != sensitive_cardinalities.len() {
            return invalid(format!(
                "{} histogram columns for {} sensitive attributes",
                histograms.len(),
                sensitive_cardinalities.len()
            ));
        }
        for (c, key) in keys
            .chunks_exact(width.max(1))
            .enumerate()
            .take(counts.len())
        {
            if let Some(j) = (0..width).find(|&j| key[j] >= cardinalities[j]) {
                return invalid(format!(
                    "class {c}: code {} of quasi-identifier {j} is not below {}",
                    key[j], cardinalities[j]
                ));
            }
        }
        if let Some(c) = counts.iter().position(|&n| n == 0) {
            return invalid(format!("class {c} has count 0"));
        }
        for (s, (column, &domain)) in histograms.iter().zip(&sensitive_cardinalities).enumerate() {
            if column.len() != counts.len() {
                return invalid(format!(
                    "sensitive attribute {s} has {} histograms for {} classes",
                    column.len(),
                    counts.len()
                ));
            }
            for (c, (h, &n)) in column.iter().zip(&counts).enumerate() {
                if h.total() != n || h.entries().last().is_some_and(|e| e.0 >= domain) {
                    return invalid(format!(
                        "class {c}: the histogram of sensitive attribute {s} does not fit \
                         (total {} for count {n}, codes below {domain})",
                        h.total()
                    ));
                }
            }
        }
        let mut table = FrequencyTable {
            node,
            index: OnceLock::new(),
            cardinalities,
            sensitive_cardinalities,
            keys: Keys::Codes(keys),
            counts,
            histograms: histograms
                .iter()
                .map(|column| {
                    let mut packed = HistogramColumn::with_capacity(column.len(), 0);
                    for h in column {
                        packed.push_ref(h.view());
                    }
                    packed
                })
                .collect(),
            stepped: Vec::new(),
        };
        let mut index = KeyIndex::new(&table.cardinalities, table.classes());
        index.reserve(table.classes());
        for c in 0..table.classes() {
            if !index.get_or_insert(table.key(c), c as u32).1 {
                return invalid(format!("class {c} repeats the key of an earlier class"));
            }
        }
        table.index = OnceLock::from(index);
        Ok(table)
    }

    /// For each quasi-identifier, the bound on its label codes (the number
    /// of labels at its level).
    pub fn cardinalities(&self) -> &[u32] {
        &self.cardinalities
    }

    /// For each sensitive attribute, the size of its dictionary.
    pub fn sensitive_cardinalities(&self) -> &[u32] {
        &self.sensitive_cardinalities
    }

    /// Raises the sensitive dictionary sizes to `cardinalities` (a
    /// dictionary that grew while counting later rows), so the table merges
    /// with tables counted against the larger dictionaries.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::IncompatibleTables`] when the number of sensitive
    /// attributes differs or a size would shrink.
    pub(crate) fn widen_sensitive(&mut self, cardinalities: &[u32]) -> Result<()> {
        if cardinalities.len() != self.sensitive_cardinalities.len()
            || cardinalities
                .iter()
                .zip(&self.sensitive_cardinalities)
                .any(|(new, old)| new < old)
        {
            return Err(ErrorKind::IncompatibleTables {
                reason: format!(
                    "sensitive dictionary sizes {:?} cannot widen to {cardinalities:?}",
                    self.sensitive_cardinalities
                ),
            }
            .into());
        }
        self.sensitive_cardinalities = cardinalities.to_vec();
        Ok(())
    }
}

//! A table's projection onto some of its quasi-identifiers.

use rustc_hash::FxHashMap;

use super::FrequencyTable;
use crate::error::Result;
use crate::frequency::node::Node;

impl FrequencyTable {
    /// The table of the same records counted on the quasi-identifiers
    /// `columns` alone (in that order), at their levels here: the classes
    /// agreeing on those codes merged, their counts summed, numbered in
    /// order of first appearance; without sensitive attributes (a table
    /// for the models that class sizes decide).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when a column is out of range
    /// or repeated.
    pub(crate) fn projected(&self, columns: &[usize]) -> Result<FrequencyTable> {
        let width = self.cardinalities.len();
        if let Some(&j) = columns.iter().find(|&&j| j >= width) {
            return Err(crate::Error::parameter(
                "columns",
                format!("column {j} of a table of {width} quasi-identifiers"),
            ));
        }
        let mut sorted = columns.to_vec();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(crate::Error::parameter(
                "columns",
                "a column is repeated".to_string(),
            ));
        }
        let mut classes: FxHashMap<Box<[u32]>, usize> = FxHashMap::default();
        let mut keys = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        let mut projected = vec![0u32; columns.len()];
        self.for_each_key(|c, key| {
            for (p, &j) in projected.iter_mut().zip(columns) {
                *p = key[j];
            }
            let count = self.counts[c];
            match classes.get(projected.as_slice()) {
                Some(&class) => counts[class] += count,
                None => {
                    classes.insert(projected.as_slice().into(), counts.len());
                    keys.extend_from_slice(&projected);
                    counts.push(count);
                }
            }
        });
        let levels = columns.iter().map(|&j| self.node.levels()[j]).collect();
        let cardinalities = columns.iter().map(|&j| self.cardinalities[j]).collect();
        FrequencyTable::from_parts(
            Node::new(levels),
            cardinalities,
            Vec::new(),
            keys,
            counts,
            Vec::new(),
        )
    }
}

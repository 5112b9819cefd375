//! A table read as counted at the bottom of hierarchies held at its levels.

use super::FrequencyTable;
use crate::frequency::node::Node;

impl FrequencyTable {
    /// The same classes (keys, counts, order) as a table counted at the
    /// bottom node, for hierarchies that hold each quasi-identifier at this
    /// table's level of it ([`crate::hierarchy::compiled::CompiledHierarchy::fixed_at`]),
    /// or start there: the bottom table of a search over the levels above
    /// this table's. Without sensitive attributes (a table for the models
    /// that class sizes decide).
    pub(crate) fn held(&self) -> FrequencyTable {
        let width = self.cardinalities.len();
        let mut keys = Vec::with_capacity(self.classes() * width);
        self.for_each_key(|_, key| keys.extend_from_slice(key));
        FrequencyTable::from_parts(
            Node::bottom(width),
            self.cardinalities.clone(),
            Vec::new(),
            keys,
            self.counts.clone(),
            Vec::new(),
        )
        .expect("a table's own classes are valid parts")
    }
}

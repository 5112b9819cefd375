//! The roll-up cache: tables of evaluated nodes, kept as sources for the
//! roll-up of nodes above them, smallest first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::frequency::node::Node;
use crate::frequency::table::FrequencyTable;

/// The high bit of every 8-bit lane of a packed node.
const HIGH: u128 = u128::from_ne_bytes([0x80; 16]);

/// A node's levels packed one per byte (at most 16 attributes, levels below
/// 128), so that "is below" is one subtraction: lane j of `(n | HIGH) - m`
/// is 128 + n_j − m_j, which keeps its high bit exactly when m_j ≤ n_j and
/// never borrows from the next lane.
fn pack(node: &Node) -> Option<u128> {
    let levels = node.levels();
    if levels.len() > 16 || levels.iter().any(|&l| l >= 128) {
        return None;
    }
    Some(
        levels
            .iter()
            .enumerate()
            .fold(0u128, |packed, (j, &l)| packed | (u128::from(l) << (8 * j))),
    )
}

/// Whether packed node `m` is below (or equal to) packed node `n`.
fn packed_below(m: u128, n: u128) -> bool {
    ((n | HIGH) - m) & HIGH == HIGH
}

struct Entry {
    packed: Option<u128>,
    node: Node,
    table: Arc<FrequencyTable>,
}

/// Cached tables sorted by increasing number of classes, up to a total
/// number of classes.
pub(crate) struct RollUpCache {
    entries: RwLock<Vec<Entry>>,
    classes: AtomicUsize,
    limit: usize,
}

impl RollUpCache {
    /// An empty cache holding at most `limit` classes over all its tables.
    pub(crate) fn new(limit: usize) -> RollUpCache {
        RollUpCache {
            entries: RwLock::new(Vec::new()),
            classes: AtomicUsize::new(0),
            limit,
        }
    }

    /// The smallest cached table of a node below (or at) `node`.
    pub(crate) fn smallest_below(&self, node: &Node) -> Option<Arc<FrequencyTable>> {
        let entries = self.entries.read().expect("cache lock");
        let found = match pack(node) {
            Some(n) => entries.iter().find(|e| match e.packed {
                Some(m) => packed_below(m, n),
                None => e.node.is_below(node),
            }),
            None => entries.iter().find(|e| e.node.is_below(node)),
        };
        found.map(|e| Arc::clone(&e.table))
    }

    /// Keeps `table` (of `node`) while the cache has room.
    pub(crate) fn insert(&self, node: &Node, table: &Arc<FrequencyTable>) {
        let size = table.classes();
        if self.classes.load(Ordering::Relaxed) + size > self.limit {
            return;
        }
        self.classes.fetch_add(size, Ordering::Relaxed);
        let mut entries = self.entries.write().expect("cache lock");
        let at = entries.partition_point(|e| e.table.classes() <= size);
        entries.insert(
            at,
            Entry {
                packed: pack(node),
                node: node.clone(),
                table: Arc::clone(table),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_order_is_the_lattice_order() {
        let nodes: Vec<Node> = (0..3u32)
            .flat_map(|a| {
                (0..3u32).flat_map(move |b| {
                    (0..128u32)
                        .step_by(61)
                        .map(move |c| Node::new(vec![a, b, c]))
                })
            })
            .collect();
        for m in &nodes {
            for n in &nodes {
                assert_eq!(
                    packed_below(pack(m).unwrap(), pack(n).unwrap()),
                    m.is_below(n),
                    "{m} {n}"
                );
            }
        }
        let wide = Node::new(vec![1; 16]);
        assert!(pack(&wide).is_some());
        assert!(pack(&Node::new(vec![1; 17])).is_none());
        assert!(pack(&Node::new(vec![128])).is_none());
    }
}

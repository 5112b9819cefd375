//! The generalization lattice: every level vector, indexed densely.

use crate::error::{Error, Result};
use crate::frequency::node::Node;

/// The largest lattice the optimal and exhaustive strategies accept: they
/// keep a few bytes per node (tags and the traversal order), about 300 MB
/// at this size. Larger lattices need the heuristic.
pub const MAX_LATTICE_NODES: u64 = 1 << 24;

/// The lattice of full-domain generalizations: level vectors with
/// `0 ≤ levels[j] ≤ heights[j]`, ordered component-wise. Nodes are indexed
/// in mixed radix (the last quasi-identifier varies fastest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lattice {
    heights: Vec<u32>,
    strides: Vec<u64>,
    size: u64,
}

impl Lattice {
    /// The lattice over hierarchies of the given heights.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when it has more than
    /// `u64::MAX` nodes.
    pub fn new(heights: Vec<u32>) -> Result<Lattice> {
        let mut strides = vec![0u64; heights.len()];
        let mut size = 1u64;
        for j in (0..heights.len()).rev() {
            strides[j] = size;
            size = size
                .checked_mul(u64::from(heights[j]) + 1)
                .ok_or_else(|| Error::parameter("lattice", "more than 2^64 nodes"))?;
        }
        Ok(Lattice {
            heights,
            strides,
            size,
        })
    }

    /// Number of nodes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hierarchy heights (the top node's levels).
    pub fn heights(&self) -> &[u32] {
        &self.heights
    }

    /// The largest level sum.
    pub fn max_height(&self) -> u64 {
        self.heights.iter().map(|&h| u64::from(h)).sum()
    }

    /// The index of a node.
    pub fn index(&self, levels: &[u32]) -> u64 {
        levels
            .iter()
            .zip(&self.strides)
            .map(|(&l, &s)| u64::from(l) * s)
            .sum()
    }

    /// The levels of the node with index `index`.
    pub fn levels(&self, index: u64) -> Vec<u32> {
        self.strides
            .iter()
            .zip(&self.heights)
            .map(|(&s, &h)| ((index / s) % (u64::from(h) + 1)) as u32)
            .collect()
    }

    /// The node with index `index`.
    pub fn node(&self, index: u64) -> Node {
        Node::new(self.levels(index))
    }

    /// Indices of the direct generalizations (one level up in one attribute),
    /// in attribute order.
    pub fn successors(&self, index: u64) -> impl Iterator<Item = u64> + '_ {
        (0..self.heights.len())
            .filter(move |&j| self.level(index, j) < self.heights[j])
            .map(move |j| index + self.strides[j])
    }

    /// Attribute `j`'s level in the node with index `index`.
    fn level(&self, index: u64, j: usize) -> u32 {
        ((index / self.strides[j]) % (u64::from(self.heights[j]) + 1)) as u32
    }

    /// Indices of the direct specializations, in attribute order.
    pub fn predecessors(&self, index: u64) -> impl Iterator<Item = u64> + '_ {
        (0..self.heights.len())
            .filter(move |&j| self.level(index, j) > 0)
            .map(move |j| index - self.strides[j])
    }

    /// The level sum of a node.
    pub fn height_of(&self, index: u64) -> u64 {
        (0..self.heights.len())
            .map(|j| u64::from(self.level(index, j)))
            .sum()
    }

    /// All node indices grouped by level sum, each group in increasing
    /// lexicographic order of the level vectors.
    pub fn by_height(&self) -> Vec<Vec<u64>> {
        let mut groups = vec![Vec::new(); self.max_height() as usize + 1];
        // Count through the mixed radix, keeping the level sum as it goes.
        let mut levels = vec![0u32; self.heights.len()];
        let mut height = 0usize;
        for index in 0..self.size {
            groups[height].push(index);
            for j in (0..levels.len()).rev() {
                if levels[j] < self.heights[j] {
                    levels[j] += 1;
                    height += 1;
                    break;
                }
                height -= levels[j] as usize;
                levels[j] = 0;
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexing_round_trips() {
        let lattice = Lattice::new(vec![1, 4, 2]).unwrap();
        assert_eq!(lattice.size(), 30);
        for i in 0..lattice.size() {
            assert_eq!(lattice.index(&lattice.levels(i)), i);
        }
        let i = lattice.index(&[1, 0, 2]);
        let succ: Vec<Vec<u32>> = lattice.successors(i).map(|s| lattice.levels(s)).collect();
        assert_eq!(succ, vec![vec![1, 1, 2]]);
        let pred: Vec<Vec<u32>> = lattice.predecessors(i).map(|s| lattice.levels(s)).collect();
        assert_eq!(pred, vec![vec![0, 0, 2], vec![1, 0, 1]]);
        let groups = lattice.by_height();
        assert_eq!(groups.len(), 8);
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 30);
        assert_eq!(lattice.levels(groups[1][0]), vec![0, 0, 1]);
    }
}

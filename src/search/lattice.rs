//! The generalization lattice: every level vector, indexed densely.

use crate::error::{Error, Result};
use crate::frequency::node::Node;

/// The largest lattice the optimal and exhaustive strategies accept: they
/// keep a few bytes per node (tags, the traversal order and each node's
/// lower bound: 25 bytes), about 420 MB at this size. Larger lattices need
/// the heuristic.
pub const MAX_LATTICE_NODES: u64 = 1 << 24;

/// Lattices up to this many nodes keep each node's possible moves (4 bytes
/// per node), so that walking them needs no division.
const MOVES_NODES: u64 = 1 << 22;

/// The lattice of full-domain generalizations: level vectors with
/// `0 ≤ levels[j] ≤ heights[j]`, ordered component-wise. Nodes are indexed
/// in mixed radix (the last quasi-identifier varies fastest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lattice {
    heights: Vec<u32>,
    strides: Vec<u64>,
    size: u64,
    /// The attributes with a height above 0 (the only ones that move; at
    /// most 63, or the lattice would have more than 2^64 nodes).
    dims: Vec<usize>,
    /// The stride of each of `dims`.
    steps: Vec<u64>,
    /// For lattices of at most [`MOVES_NODES`] nodes over at most 16 such
    /// attributes, each node's moves: bit b of the low half set when
    /// `dims[b]` can go up, of the high half when it can go down. Empty
    /// otherwise (moves are then computed from the index).
    moves: Vec<u32>,
}

/// The positions of the set bits of a mask, lowest first.
struct Bits(u64);

impl Iterator for Bits {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        (self.0 != 0).then(|| {
            let b = self.0.trailing_zeros() as usize;
            self.0 &= self.0 - 1;
            b
        })
    }
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
        let dims: Vec<usize> = (0..heights.len()).filter(|&j| heights[j] > 0).collect();
        let steps = dims.iter().map(|&j| strides[j]).collect();
        let mut lattice = Lattice {
            heights,
            strides,
            size,
            dims,
            steps,
            moves: Vec::new(),
        };
        if size <= MOVES_NODES && lattice.dims.len() <= 16 {
            // Built attribute by attribute, from the last (which varies
            // fastest): the moves over attributes j.. are, for each level
            // of j, j's own bits joined to the moves over the attributes
            // after it.
            let mut moves = Vec::with_capacity(size as usize);
            moves.push(0u32);
            let mut rest = Vec::with_capacity(size as usize);
            for (b, &j) in lattice.dims.iter().enumerate().rev() {
                std::mem::swap(&mut moves, &mut rest);
                moves.clear();
                let height = lattice.heights[j];
                for l in 0..=height {
                    let own = (u32::from(l < height) << b) | (u32::from(l > 0) << (b + 16));
                    moves.extend(rest.iter().map(|&m| m | own));
                }
            }
            lattice.moves = moves;
        }
        Ok(lattice)
    }

    /// The moving attributes (bit b for the attribute of stride
    /// `steps()[b]`) that can go up (or down) from the node with index
    /// `index`.
    pub(crate) fn movable(&self, index: u64, up: bool) -> u64 {
        if let Some(&m) = self.moves.get(index as usize) {
            return u64::from(if up { m & 0xFFFF } else { m >> 16 });
        }
        self.dims
            .iter()
            .enumerate()
            .filter(|&(_, &j)| {
                let l = self.level(index, j);
                if up { l < self.heights[j] } else { l > 0 }
            })
            .fold(0u64, |mask, (b, _)| mask | (1 << b))
    }

    /// The index strides of the attributes that move (those of a height
    /// above 0), in attribute order: the bits of [`Lattice::movable`].
    pub(crate) fn steps(&self) -> &[u64] {
        &self.steps
    }

    /// Number of nodes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Each attribute's stride in the node index (the index of a node one
    /// level up in attribute j is the node's index plus `strides()[j]`).
    pub(crate) fn strides(&self) -> &[u64] {
        &self.strides
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
        Bits(self.movable(index, true)).map(move |b| index + self.steps[b])
    }

    /// Attribute `j`'s level in the node with index `index`.
    fn level(&self, index: u64, j: usize) -> u32 {
        ((index / self.strides[j]) % (u64::from(self.heights[j]) + 1)) as u32
    }

    /// Indices of the direct specializations, in attribute order.
    pub fn predecessors(&self, index: u64) -> impl Iterator<Item = u64> + '_ {
        Bits(self.movable(index, false)).map(move |b| index - self.steps[b])
    }

    /// The number of attributes at level 0 in the node with index `index`
    /// (attributes of height 0 included).
    pub fn zero_levels(&self, index: u64) -> usize {
        self.heights.len() - self.movable(index, false).count_ones() as usize
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

    #[test]
    fn moves_from_the_table_match_moves_from_the_levels() {
        // Attributes of height 0 never move; the table and the division
        // agree on every node.
        let lattice = Lattice::new(vec![2, 0, 3, 1, 0, 2]).unwrap();
        assert!(!lattice.moves.is_empty());
        let mut divided = lattice.clone();
        divided.moves.clear();
        for i in 0..lattice.size() {
            let levels = lattice.levels(i);
            let expected_up: Vec<u64> = (0..levels.len())
                .filter(|&j| levels[j] < lattice.heights()[j])
                .map(|j| i + lattice.strides[j])
                .collect();
            let expected_down: Vec<u64> = (0..levels.len())
                .filter(|&j| levels[j] > 0)
                .map(|j| i - lattice.strides[j])
                .collect();
            for l in [&lattice, &divided] {
                let zeros = levels.iter().filter(|&&x| x == 0).count();
                assert_eq!(l.zero_levels(i), zeros, "{levels:?}");
                assert_eq!(
                    l.successors(i).collect::<Vec<_>>(),
                    expected_up,
                    "{levels:?}"
                );
                assert_eq!(
                    l.predecessors(i).collect::<Vec<_>>(),
                    expected_down,
                    "{levels:?}"
                );
            }
        }
        // Too many moving attributes for the table: computed from the index.
        let wide = Lattice::new(vec![1; 17]).unwrap();
        assert!(wide.moves.is_empty());
        assert_eq!(wide.successors(0).count(), 17);
        assert_eq!(wide.predecessors(wide.size() - 1).count(), 17);
    }
}

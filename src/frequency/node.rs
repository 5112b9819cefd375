//! Generalization nodes: one level per quasi-identifier.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A full-domain generalization: `levels()[j]` is the hierarchy level of
/// the `j`-th quasi-identifier (in column order). The node with all levels 0
/// is the original data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Node {
    levels: Vec<u32>,
}

impl Node {
    /// A node with the given levels.
    pub fn new(levels: Vec<u32>) -> Node {
        Node { levels }
    }

    /// The bottom node (no generalization) for `width` quasi-identifiers.
    pub fn bottom(width: usize) -> Node {
        Node {
            levels: vec![0; width],
        }
    }

    /// The levels, one per quasi-identifier.
    pub fn levels(&self) -> &[u32] {
        &self.levels
    }

    /// The sum of the levels (the node's height in the lattice).
    pub fn height(&self) -> u64 {
        self.levels.iter().map(|&l| u64::from(l)).sum()
    }

    /// Whether every level of `self` is ≤ the level of `other`
    /// (`self` is a specialization of `other`, or equal).
    pub fn is_below(&self, other: &Node) -> bool {
        self.levels.len() == other.levels.len()
            && self.levels.iter().zip(&other.levels).all(|(a, b)| a <= b)
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, l) in self.levels.iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            write!(f, "{l}")?;
        }
        write!(f, "]")
    }
}

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

    /// Parses `attribute=level,…` over the quasi-identifiers `names` (column
    /// order); unlisted attributes stay at level 0.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a part that is not
    /// `attribute=level`, an attribute that is not among `names`, or a level
    /// that is not a whole number.
    pub fn parse(text: &str, names: &[String]) -> crate::Result<Node> {
        let invalid = |reason: String| crate::Error::parameter("levels", reason);
        let mut levels = vec![0u32; names.len()];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, level) = part
                .split_once('=')
                .ok_or_else(|| invalid(format!("'{part}' is not attribute=level")))?;
            let (name, level) = (name.trim(), level.trim());
            let position = names.iter().position(|n| n == name).ok_or_else(|| {
                invalid(format!(
                    "'{name}' is not a quasi-identifier (they are: {})",
                    names.join(", ")
                ))
            })?;
            levels[position] = level.parse().map_err(|_| {
                invalid(format!("level '{level}' of '{name}' is not a whole number"))
            })?;
        }
        Ok(Node::new(levels))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_assignments() {
        let names = vec!["sex".to_string(), "age".to_string()];
        assert_eq!(Node::parse("age=2", &names).unwrap().levels(), &[0, 2]);
        assert_eq!(
            Node::parse(" sex = 1 , age=3 ", &names).unwrap().levels(),
            &[1, 3]
        );
        assert_eq!(Node::parse("", &names).unwrap().levels(), &[0, 0]);
        assert!(
            Node::parse("zip=1", &names)
                .unwrap_err()
                .to_string()
                .contains("'zip' is not a quasi-identifier")
        );
        assert!(Node::parse("age", &names).is_err());
        assert!(Node::parse("age=x", &names).is_err());
    }
}

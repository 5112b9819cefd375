//! A priority-queue entry that a [`std::collections::BinaryHeap`] (a max-heap)
//! pops lowest key first.

use std::cmp::Ordering;

/// An `item` queued by `key`: the lowest key pops first, ties the lowest
/// item (keys compared by [`f64::total_cmp`]).
#[derive(Clone, Debug)]
pub(crate) struct LowestFirst<T> {
    pub(crate) key: f64,
    pub(crate) item: T,
}

impl<T: Ord> PartialEq for LowestFirst<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for LowestFirst<T> {}

impl<T: Ord> PartialOrd for LowestFirst<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> Ord for LowestFirst<T> {
    /// Reversed, so that the max-heap pops the lowest key first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .total_cmp(&self.key)
            .then_with(|| other.item.cmp(&self.item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BinaryHeap;

    #[test]
    fn pops_lowest_key_then_lowest_item() {
        let mut heap: BinaryHeap<LowestFirst<u64>> = [(0.5, 3), (0.25, 9), (0.5, 1), (-1.0, 7)]
            .into_iter()
            .map(|(key, item)| LowestFirst { key, item })
            .collect();
        let order: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|e| e.item)).collect();
        assert_eq!(order, [7, 9, 1, 3]);
    }
}

//! Sparse histograms of sensitive-attribute codes.

/// The distribution of one sensitive attribute inside one equivalence
/// class: `(code, count)` pairs sorted by code, counts > 0.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Histogram {
    entries: Vec<(u32, u64)>,
}

impl Histogram {
    /// Builds a histogram from `(code, count)` pairs in any order; repeated
    /// codes are summed and zero counts dropped.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u32, u64)>) -> Histogram {
        let mut entries: Vec<(u32, u64)> = pairs.into_iter().filter(|p| p.1 > 0).collect();
        entries.sort_unstable_by_key(|p| p.0);
        entries.dedup_by(|next, kept| {
            if next.0 == kept.0 {
                kept.1 += next.1;
                true
            } else {
                false
            }
        });
        Histogram { entries }
    }

    /// Wraps entries already sorted by code, without zeros or repeats.
    pub(crate) fn from_sorted(entries: Vec<(u32, u64)>) -> Histogram {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        Histogram { entries }
    }

    /// The `(code, count)` pairs, sorted by code.
    pub fn entries(&self) -> &[(u32, u64)] {
        &self.entries
    }

    /// Number of distinct codes.
    pub fn distinct(&self) -> usize {
        self.entries.len()
    }

    /// Sum of the counts.
    pub fn total(&self) -> u64 {
        self.entries.iter().map(|e| e.1).sum()
    }

    /// The count of `code` (0 when absent).
    pub fn count(&self, code: u32) -> u64 {
        self.entries
            .binary_search_by_key(&code, |e| e.0)
            .map_or(0, |i| self.entries[i].1)
    }

    /// The counts sorted in decreasing order (n_1 ≥ n_2 ≥ … of METHODS.md §3.2).
    pub fn sorted_counts(&self) -> Vec<u64> {
        let mut counts: Vec<u64> = self.entries.iter().map(|e| e.1).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        counts
    }

    /// Adds `other` into `self` (merge of two sorted lists).
    pub fn add(&mut self, other: &Histogram) {
        if other.entries.is_empty() {
            return;
        }
        if self.entries.is_empty() {
            self.entries.clone_from(&other.entries);
            return;
        }
        if other.entries.len() <= 4 {
            // Few entries: insert in place, no new allocation in the common case.
            for &(code, count) in &other.entries {
                match self.entries.binary_search_by_key(&code, |e| e.0) {
                    Ok(i) => self.entries[i].1 += count,
                    Err(i) => self.entries.insert(i, (code, count)),
                }
            }
            return;
        }
        let mut merged = Vec::with_capacity(self.entries.len() + other.entries.len());
        let (mut a, mut b) = (
            self.entries.iter().peekable(),
            other.entries.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    merged.push((x.0, x.1 + y.1));
                    a.next();
                    b.next();
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    merged.push(**x);
                    a.next();
                }
                (Some(_), Some(y)) => {
                    merged.push(**y);
                    b.next();
                }
                (Some(x), None) => {
                    merged.push(**x);
                    a.next();
                }
                (None, Some(y)) => {
                    merged.push(**y);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.entries = merged;
    }

    /// The histogram with every code replaced by `map[code]` (generalizing a
    /// sensitive attribute, or rolling up).
    pub fn mapped(&self, map: &[u32]) -> Histogram {
        Histogram::from_pairs(self.entries.iter().map(|&(c, n)| (map[c as usize], n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_merges_sorted_lists() {
        let mut a = Histogram::from_pairs([(3, 1), (1, 2), (3, 4)]);
        assert_eq!(a.entries(), &[(1, 2), (3, 5)]);
        a.add(&Histogram::from_pairs([(0, 1), (3, 1), (7, 2)]));
        assert_eq!(a.entries(), &[(0, 1), (1, 2), (3, 6), (7, 2)]);
        assert_eq!(a.total(), 11);
        assert_eq!(a.count(3), 6);
        assert_eq!(a.count(4), 0);
        assert_eq!(a.sorted_counts(), vec![6, 2, 2, 1]);
        assert_eq!(
            a.mapped(&[0, 0, 0, 1, 0, 0, 0, 1]).entries(),
            &[(0, 3), (1, 8)]
        );
    }
}

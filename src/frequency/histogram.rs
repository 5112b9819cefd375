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
        self.view().distinct()
    }

    /// Sum of the counts.
    pub fn total(&self) -> u64 {
        self.view().total()
    }

    /// The count of `code` (0 when absent).
    pub fn count(&self, code: u32) -> u64 {
        self.view().count(code)
    }

    /// The counts sorted in decreasing order (n_1 ≥ n_2 ≥ … of METHODS.md §3.2).
    pub fn sorted_counts(&self) -> Vec<u64> {
        self.view().sorted_counts()
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
        self.view().mapped(map)
    }

    /// A borrowed view of this histogram.
    pub fn view(&self) -> HistogramRef<'_> {
        HistogramRef {
            entries: &self.entries,
        }
    }
}

/// A borrowed histogram: `(code, count)` pairs sorted by code, counts > 0
/// (a class's histogram inside a [`crate::FrequencyTable`], or
/// [`Histogram::view`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistogramRef<'a> {
    entries: &'a [(u32, u64)],
}

impl<'a> HistogramRef<'a> {
    /// The `(code, count)` pairs, sorted by code.
    pub fn entries(&self) -> &'a [(u32, u64)] {
        self.entries
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

    /// The histogram with every code replaced by `map[code]`.
    pub fn mapped(&self, map: &[u32]) -> Histogram {
        Histogram::from_pairs(self.entries.iter().map(|&(c, n)| (map[c as usize], n)))
    }

    /// An owned copy.
    pub fn to_histogram(&self) -> Histogram {
        Histogram {
            entries: self.entries.to_vec(),
        }
    }
}

impl<'a> From<&'a Histogram> for HistogramRef<'a> {
    fn from(histogram: &'a Histogram) -> HistogramRef<'a> {
        histogram.view()
    }
}

/// The histograms of one sensitive attribute for every class of a table,
/// stored contiguously: class `c`'s entries are
/// `entries[offsets[c]..offsets[c + 1]]` (no allocation per class).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HistogramColumn {
    offsets: Vec<usize>,
    entries: Vec<(u32, u64)>,
}

impl Default for HistogramColumn {
    fn default() -> HistogramColumn {
        HistogramColumn::with_capacity(0, 0)
    }
}

impl HistogramColumn {
    /// An empty column with room for `classes` histograms of `entries` entries in all.
    pub(crate) fn with_capacity(classes: usize, entries: usize) -> HistogramColumn {
        let mut offsets = Vec::with_capacity(classes + 1);
        offsets.push(0);
        HistogramColumn {
            offsets,
            entries: Vec::with_capacity(entries),
        }
    }

    /// Number of entries over all histograms.
    pub(crate) fn entry_count(&self) -> usize {
        self.entries.len()
    }

    /// Number of histograms.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Histogram `c`.
    pub(crate) fn get(&self, c: usize) -> HistogramRef<'_> {
        HistogramRef {
            entries: &self.entries[self.offsets[c]..self.offsets[c + 1]],
        }
    }

    /// The offsets and entries: histogram `c` is
    /// `entries[offsets[c]..offsets[c + 1]]`.
    pub(crate) fn parts(&self) -> (&[usize], &[(u32, u64)]) {
        (&self.offsets, &self.entries)
    }

    /// Every histogram, in class order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = HistogramRef<'_>> {
        (0..self.len()).map(move |c| self.get(c))
    }

    /// Appends a histogram from entries sorted by code, without zeros or repeats.
    pub(crate) fn push_sorted(&mut self, entries: &[(u32, u64)]) {
        self.entries.extend_from_slice(entries);
        self.offsets.push(self.entries.len());
    }

    /// Appends a histogram whose entries the caller has just pushed to
    /// [`HistogramColumn::entries_mut`].
    pub(crate) fn close(&mut self) {
        self.offsets.push(self.entries.len());
    }

    /// The entries, for appending the next histogram's (then [`HistogramColumn::close`]).
    pub(crate) fn entries_mut(&mut self) -> &mut Vec<(u32, u64)> {
        &mut self.entries
    }

    /// Adds `other` into histogram `c`.
    pub(crate) fn add_to(&mut self, c: usize, other: HistogramRef<'_>) {
        let sum =
            Histogram::from_pairs(self.get(c).entries().iter().chain(other.entries()).copied());
        let (start, end) = (self.offsets[c], self.offsets[c + 1]);
        let grown = sum.entries.len() as isize - (end - start) as isize;
        self.entries.splice(start..end, sum.entries.iter().copied());
        for offset in &mut self.offsets[c + 1..] {
            *offset = (*offset as isize + grown) as usize;
        }
    }

    /// Appends the sum of two histograms (a linear merge of sorted entries).
    pub(crate) fn push_sum(&mut self, a: HistogramRef<'_>, b: HistogramRef<'_>) {
        let (a, b) = (a.entries, b.entries);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => {
                    self.entries.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    self.entries.push(b[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    self.entries.push((a[i].0, a[i].1 + b[j].1));
                    i += 1;
                    j += 1;
                }
            }
        }
        self.entries.extend_from_slice(&a[i..]);
        self.entries.extend_from_slice(&b[j..]);
        self.offsets.push(self.entries.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_stores_sums_and_adds_in_place() {
        let a = Histogram::from_pairs([(1, 2), (4, 1)]);
        let b = Histogram::from_pairs([(0, 3), (4, 2), (9, 1)]);
        let mut column = HistogramColumn::with_capacity(3, 0);
        column.push_sorted(a.entries());
        column.push_sum(a.view(), b.view());
        column.push_sorted(b.entries());
        assert_eq!(column.len(), 3);
        assert_eq!(column.get(1).entries(), &[(0, 3), (1, 2), (4, 3), (9, 1)]);
        // Adding into a middle histogram shifts the later ones.
        column.add_to(0, b.view());
        assert_eq!(column.get(0).entries(), &[(0, 3), (1, 2), (4, 3), (9, 1)]);
        assert_eq!(column.get(1).entries(), &[(0, 3), (1, 2), (4, 3), (9, 1)]);
        assert_eq!(column.get(2), b.view());
        column.add_to(2, a.view());
        assert_eq!(column.get(2).entries(), &[(0, 3), (1, 2), (4, 3), (9, 1)]);
        let totals: Vec<u64> = column.iter().map(|h| h.total()).collect();
        assert_eq!(totals, vec![9, 9, 9]);
        assert_eq!(column.get(2).to_histogram().view(), column.get(2));
        assert_eq!(column.entry_count(), 12);
    }

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

//! Histograms of sensitive-attribute codes: owned, borrowed, and stored
//! per table column (sparse, or dense for small domains).

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

    /// The counts sorted in decreasing order (n_1 ≥ n_2 ≥ … of [§3.2](crate::methods#32-l-diversity)).
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
            repr: Repr::Sparse(&self.entries),
        }
    }
}

/// A borrowed histogram (a class's histogram inside a
/// [`crate::frequency::FrequencyTable`], or [`Histogram::view`]): its `(code, count)`
/// pairs, read with [`HistogramRef::iter`], come sorted by code, counts > 0.
#[derive(Clone, Copy, Debug)]
pub struct HistogramRef<'a> {
    repr: Repr<'a>,
}

/// How a borrowed histogram is stored.
#[derive(Clone, Copy, Debug)]
enum Repr<'a> {
    /// `(code, count)` pairs sorted by code, counts > 0.
    Sparse(&'a [(u32, u64)]),
    /// `counts[code]` for every code of the domain (and zero padding).
    Dense(&'a [u32]),
}

/// The `(code, count)` pairs of a [`HistogramRef`], sorted by code, counts > 0.
#[derive(Clone, Debug)]
pub struct HistogramEntries<'a> {
    repr: Repr<'a>,
    next: usize,
}

impl Iterator for HistogramEntries<'_> {
    type Item = (u32, u64);

    #[inline]
    fn next(&mut self) -> Option<(u32, u64)> {
        match self.repr {
            Repr::Sparse(entries) => {
                let entry = entries.get(self.next).copied();
                self.next += 1;
                entry
            }
            Repr::Dense(counts) => {
                while let Some(&n) = counts.get(self.next) {
                    self.next += 1;
                    if n > 0 {
                        return Some(((self.next - 1) as u32, u64::from(n)));
                    }
                }
                None
            }
        }
    }
}

impl<'a> HistogramRef<'a> {
    /// The `(code, count)` pairs, sorted by code, counts > 0.
    pub fn iter(&self) -> HistogramEntries<'a> {
        HistogramEntries {
            repr: self.repr,
            next: 0,
        }
    }

    /// Number of distinct codes.
    pub fn distinct(&self) -> usize {
        match self.repr {
            Repr::Sparse(entries) => entries.len(),
            Repr::Dense(counts) => counts.iter().filter(|&&n| n > 0).count(),
        }
    }

    /// Sum of the counts.
    pub fn total(&self) -> u64 {
        match self.repr {
            Repr::Sparse(entries) => entries.iter().map(|e| e.1).sum(),
            Repr::Dense(counts) => counts.iter().map(|&n| u64::from(n)).sum(),
        }
    }

    /// The count of `code` (0 when absent).
    pub fn count(&self, code: u32) -> u64 {
        match self.repr {
            Repr::Sparse(entries) => entries
                .binary_search_by_key(&code, |e| e.0)
                .map_or(0, |i| entries[i].1),
            Repr::Dense(counts) => counts.get(code as usize).map_or(0, |&n| u64::from(n)),
        }
    }

    /// The largest count (0 for an empty histogram).
    pub fn max_count(&self) -> u64 {
        self.iter().map(|e| e.1).max().unwrap_or(0)
    }

    /// The counts sorted in decreasing order (n_1 ≥ n_2 ≥ … of [§3.2](crate::methods#32-l-diversity)).
    pub fn sorted_counts(&self) -> Vec<u64> {
        let mut counts: Vec<u64> = self.iter().map(|e| e.1).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        counts
    }

    /// The histogram with every code replaced by `map[code]`.
    pub fn mapped(&self, map: &[u32]) -> Histogram {
        Histogram::from_pairs(self.iter().map(|(c, n)| (map[c as usize], n)))
    }

    /// An owned copy.
    pub fn to_histogram(&self) -> Histogram {
        Histogram {
            entries: self.iter().collect(),
        }
    }
}

impl PartialEq for HistogramRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HistogramRef<'_> {}

impl<'a> IntoIterator for HistogramRef<'a> {
    type Item = (u32, u64);
    type IntoIter = HistogramEntries<'a>;

    fn into_iter(self) -> HistogramEntries<'a> {
        self.iter()
    }
}

impl<'a> From<&'a Histogram> for HistogramRef<'a> {
    fn from(histogram: &'a Histogram) -> HistogramRef<'a> {
        histogram.view()
    }
}

/// Codes a dense histogram row holds at most (see [`HistogramColumn::dense`]).
const DENSE_ROW_LIMIT: usize = 1 << 12;

/// The histograms of one sensitive attribute for every class of a table,
/// stored contiguously, without an allocation per class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HistogramColumn {
    /// Class `c`'s `(code, count)` entries are
    /// `entries[offsets[c]..offsets[c + 1]]`.
    Sparse {
        offsets: Vec<usize>,
        entries: Vec<(u32, u64)>,
    },
    /// Class `c`'s count of `code` is `counts[c * width + code]`: for small
    /// domains, where summing histograms is adding rows ([§3](crate::methods#3-privacy-models)).
    Dense { width: usize, counts: Vec<u32> },
}

impl Default for HistogramColumn {
    fn default() -> HistogramColumn {
        HistogramColumn::with_capacity(0, 0)
    }
}

impl HistogramColumn {
    /// An empty sparse column with room for `classes` histograms of
    /// `entries` entries in all.
    pub(crate) fn with_capacity(classes: usize, entries: usize) -> HistogramColumn {
        let mut offsets = Vec::with_capacity(classes + 1);
        offsets.push(0);
        HistogramColumn::Sparse {
            offsets,
            entries: Vec::with_capacity(entries),
        }
    }

    /// The row width of a dense column over `domain` codes: the domain
    /// rounded up to a multiple of 8 (32 bytes).
    fn dense_width(domain: u32) -> usize {
        (domain as usize).div_ceil(8).max(1) * 8
    }

    /// An empty dense column over `domain` codes with room for `classes`
    /// histograms, when dense rows pay: the rows are at most 64 bytes or
    /// no larger than this column's sparse entries per class (`entries`
    /// over `classes`), and no class holds more than `u32::MAX` records
    /// (`rows`). Otherwise `None`.
    pub(crate) fn dense(
        domain: u32,
        classes: usize,
        entries: usize,
        rows: u64,
    ) -> Option<HistogramColumn> {
        let width = HistogramColumn::dense_width(domain);
        let sparse_bytes = 16 * entries / classes.max(1) + 8;
        (width <= DENSE_ROW_LIMIT
            && (width <= 16 || 4 * width <= sparse_bytes)
            && rows <= u64::from(u32::MAX))
        .then(|| HistogramColumn::Dense {
            width,
            counts: Vec::with_capacity(classes * width),
        })
    }

    /// This column stored densely over `domain` codes, when that pays (see
    /// [`HistogramColumn::dense`]); otherwise itself.
    pub(crate) fn into_dense(self, domain: u32, rows: u64) -> HistogramColumn {
        match HistogramColumn::dense(domain, self.len(), self.entry_count(), rows) {
            Some(mut dense) => {
                for c in 0..self.len() {
                    dense.push_ref(self.get(c));
                }
                dense
            }
            None => self,
        }
    }

    /// An empty column stored like this one (with room for `classes`
    /// histograms and, when sparse, `entries` entries).
    pub(crate) fn like(&self, classes: usize, entries: usize) -> HistogramColumn {
        match self {
            HistogramColumn::Sparse { .. } => HistogramColumn::with_capacity(classes, entries),
            &HistogramColumn::Dense { width, .. } => HistogramColumn::Dense {
                width,
                counts: Vec::with_capacity(classes * width),
            },
        }
    }

    /// Number of entries (codes with a count) over all histograms.
    pub(crate) fn entry_count(&self) -> usize {
        match self {
            HistogramColumn::Sparse { entries, .. } => entries.len(),
            HistogramColumn::Dense { counts, .. } => counts.iter().filter(|&&n| n > 0).count(),
        }
    }

    /// Number of histograms.
    pub(crate) fn len(&self) -> usize {
        match self {
            HistogramColumn::Sparse { offsets, .. } => offsets.len() - 1,
            HistogramColumn::Dense { width, counts } => counts.len() / width,
        }
    }

    /// Histogram `c`.
    pub(crate) fn get(&self, c: usize) -> HistogramRef<'_> {
        let repr = match self {
            HistogramColumn::Sparse { offsets, entries } => {
                Repr::Sparse(&entries[offsets[c]..offsets[c + 1]])
            }
            HistogramColumn::Dense { width, counts } => Repr::Dense(&counts[c * width..][..*width]),
        };
        HistogramRef { repr }
    }

    /// Every histogram, in class order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = HistogramRef<'_>> {
        (0..self.len()).map(move |c| self.get(c))
    }

    /// Appends a histogram from `(code, count)` pairs sorted by code,
    /// without zeros or repeats (each code below the domain when dense,
    /// each count within `u32` when dense).
    pub(crate) fn push_entries(&mut self, pairs: impl IntoIterator<Item = (u32, u64)>) {
        match self {
            HistogramColumn::Sparse { offsets, entries } => {
                entries.extend(pairs);
                offsets.push(entries.len());
            }
            HistogramColumn::Dense { width, counts } => {
                let start = counts.len();
                counts.resize(start + *width, 0);
                let row = &mut counts[start..];
                for (code, n) in pairs {
                    row[code as usize] = n as u32;
                }
            }
        }
    }

    /// Appends a copy of `histogram`.
    pub(crate) fn push_ref(&mut self, histogram: HistogramRef<'_>) {
        match (&mut *self, histogram.repr) {
            (HistogramColumn::Sparse { offsets, entries }, Repr::Sparse(theirs)) => {
                entries.extend_from_slice(theirs);
                offsets.push(entries.len());
            }
            (HistogramColumn::Dense { width, counts }, Repr::Dense(theirs))
                if theirs.len() == *width =>
            {
                counts.extend_from_slice(theirs);
            }
            _ => self.push_entries(histogram.iter()),
        }
    }

    /// Adds `other` into histogram `c`.
    pub(crate) fn add_to(&mut self, c: usize, other: HistogramRef<'_>) {
        match self {
            HistogramColumn::Sparse { offsets, entries } => {
                let sum = Histogram::from_pairs(
                    entries[offsets[c]..offsets[c + 1]]
                        .iter()
                        .copied()
                        .chain(other.iter()),
                );
                let (start, end) = (offsets[c], offsets[c + 1]);
                let grown = sum.entries.len() as isize - (end - start) as isize;
                entries.splice(start..end, sum.entries.iter().copied());
                for offset in &mut offsets[c + 1..] {
                    *offset = (*offset as isize + grown) as usize;
                }
            }
            HistogramColumn::Dense { width, counts } => {
                let row = &mut counts[c * *width..][..*width];
                for (code, n) in other.iter() {
                    row[code as usize] += n as u32;
                }
            }
        }
    }

    /// Appends the sum of two histograms.
    pub(crate) fn push_sum(&mut self, a: HistogramRef<'_>, b: HistogramRef<'_>) {
        let (HistogramColumn::Sparse { offsets, entries }, Repr::Sparse(a), Repr::Sparse(b)) =
            (&mut *self, a.repr, b.repr)
        else {
            self.push_ref(a);
            let last = self.len() - 1;
            self.add_to(last, b);
            return;
        };
        // A linear merge of sorted entries.
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => {
                    entries.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    entries.push(b[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    entries.push((a[i].0, a[i].1 + b[j].1));
                    i += 1;
                    j += 1;
                }
            }
        }
        entries.extend_from_slice(&a[i..]);
        entries.extend_from_slice(&b[j..]);
        offsets.push(entries.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(histogram: HistogramRef<'_>) -> Vec<(u32, u64)> {
        histogram.iter().collect()
    }

    #[test]
    fn a_column_stores_sums_and_adds_in_place() {
        let a = Histogram::from_pairs([(1, 2), (4, 1)]);
        let b = Histogram::from_pairs([(0, 3), (4, 2), (9, 1)]);
        let sum = vec![(0, 3), (1, 2), (4, 3), (9, 1)];
        let sparse = HistogramColumn::with_capacity(3, 0);
        let dense = HistogramColumn::dense(10, 3, 0, 100).expect("a domain of 10 is dense");
        for mut column in [sparse, dense] {
            column.push_ref(a.view());
            column.push_sum(a.view(), b.view());
            column.push_ref(b.view());
            assert_eq!(column.len(), 3);
            assert_eq!(entries(column.get(1)), sum);
            // Adding into a middle histogram keeps the later ones.
            column.add_to(0, b.view());
            assert_eq!(entries(column.get(0)), sum);
            assert_eq!(entries(column.get(1)), sum);
            assert_eq!(column.get(2), b.view());
            column.add_to(2, a.view());
            assert_eq!(entries(column.get(2)), sum);
            let totals: Vec<u64> = column.iter().map(|h| h.total()).collect();
            assert_eq!(totals, vec![9, 9, 9]);
            assert_eq!(column.get(2).to_histogram().view(), column.get(2));
            assert_eq!(column.entry_count(), 12);
        }
    }

    #[test]
    fn dense_views_answer_like_sparse_ones() {
        let histograms = [
            Histogram::from_pairs([(0, 5), (3, 1), (13, 2)]),
            Histogram::default(),
            Histogram::from_pairs([(7, 4)]),
        ];
        let mut sparse = HistogramColumn::with_capacity(3, 0);
        for h in &histograms {
            sparse.push_ref(h.view());
        }
        let dense = sparse.clone().into_dense(14, 12);
        assert!(matches!(dense, HistogramColumn::Dense { width: 16, .. }));
        let map: Vec<u32> = (0..14).map(|c| c % 3).collect();
        for (c, h) in histograms.iter().enumerate() {
            let (d, s) = (dense.get(c), sparse.get(c));
            assert_eq!(entries(d), h.entries());
            assert_eq!(d, s);
            assert_eq!(d.distinct(), h.distinct());
            assert_eq!(d.total(), h.total());
            assert_eq!(d.max_count(), s.max_count());
            assert_eq!(d.sorted_counts(), h.sorted_counts());
            assert_eq!(d.mapped(&map), h.mapped(&map));
            for code in 0..20 {
                assert_eq!(d.count(code), h.count(code), "code {code}");
            }
        }
        assert_eq!(dense.entry_count(), sparse.entry_count());
    }

    #[test]
    fn dense_columns_only_where_they_pay() {
        // Rows of at most 16 codes always; wider rows when no larger than
        // the sparse entries per class; never past u32 counts.
        assert!(HistogramColumn::dense(16, 10, 10, 100).is_some());
        assert!(HistogramColumn::dense(17, 10, 10, 100).is_none());
        assert!(HistogramColumn::dense(40, 10, 100, 100).is_some());
        assert!(HistogramColumn::dense(14, 10, 10, u64::from(u32::MAX) + 1).is_none());
        assert!(HistogramColumn::dense(1 << 20, 1, 1 << 20, 100).is_none());
        let sparse = HistogramColumn::with_capacity(0, 0);
        assert_eq!(sparse.clone().into_dense(1000, 0), sparse);
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

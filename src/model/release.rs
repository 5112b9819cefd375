//! The released classes as a whole, for models that judge a release
//! rather than one class at a time ([§3.9](crate::methods#39-risk-based-models)).

/// The sizes of the released (kept) classes of a node, smallest first.
///
/// A search builds one per node for the models whose
/// [`crate::model::PrivacyModel::judges_release`] is true, and, when the release
/// fails them, suppresses whole classes smallest first (ARX's
/// `HashGroupifyDistribution`) until it passes or the limit is reached.
#[derive(Clone, Copy, Debug)]
pub struct Release<'a> {
    /// Class sizes in ascending order.
    sizes: &'a [u64],
    /// `prefix[i]` = the sum of the `i` smallest sizes of the full list
    /// this release is a suffix of; one entry longer than that list.
    prefix: &'a [u64],
    /// Where this release starts in the full list.
    start: usize,
}

impl<'a> Release<'a> {
    /// The release of classes with the given sizes, in ascending order;
    /// `prefix` holds their running sums ([`Release::running_sums`]).
    ///
    /// # Panics
    ///
    /// When `prefix` is not one entry longer than `sizes`.
    pub fn new(sizes: &'a [u64], prefix: &'a [u64]) -> Release<'a> {
        assert_eq!(
            prefix.len(),
            sizes.len() + 1,
            "one running sum per size, and 0"
        );
        debug_assert!(sizes.is_sorted());
        Release {
            sizes,
            prefix,
            start: 0,
        }
    }

    /// The running sums of ascending `sizes`, starting at 0, for
    /// [`Release::new`].
    pub fn running_sums(sizes: &[u64]) -> Vec<u64> {
        let mut prefix = Vec::with_capacity(sizes.len() + 1);
        let mut sum = 0u64;
        prefix.push(0);
        for &size in sizes {
            sum += size;
            prefix.push(sum);
        }
        prefix
    }

    /// The same release without its `removed` smallest classes.
    pub fn without_smallest(self, removed: usize) -> Release<'a> {
        Release {
            start: (self.start + removed).min(self.sizes.len()),
            ..self
        }
    }

    /// The released classes.
    pub fn classes(&self) -> u64 {
        (self.sizes.len() - self.start) as u64
    }

    /// The released records.
    pub fn records(&self) -> u64 {
        self.prefix[self.sizes.len()] - self.prefix[self.start]
    }

    /// The released records in classes of fewer than `size` records.
    pub fn records_in_classes_below(&self, size: u64) -> u64 {
        let end = self.start + self.sizes[self.start..].partition_point(|&s| s < size);
        self.prefix[end] - self.prefix[self.start]
    }

    /// The released class sizes, smallest first.
    pub fn sizes(&self) -> &'a [u64] {
        &self.sizes[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_removed_prefix() {
        let sizes = [1, 1, 2, 3, 5, 8];
        let prefix = Release::running_sums(&sizes);
        let release = Release::new(&sizes, &prefix);
        assert_eq!((release.classes(), release.records()), (6, 20));
        assert_eq!(release.records_in_classes_below(3), 4);
        assert_eq!(release.records_in_classes_below(1), 0);
        assert_eq!(release.records_in_classes_below(100), 20);
        let rest = release.without_smallest(2);
        assert_eq!((rest.classes(), rest.records()), (4, 18));
        assert_eq!(rest.records_in_classes_below(3), 2);
        assert_eq!(rest.sizes(), &[2, 3, 5, 8]);
        let none = release.without_smallest(9);
        assert_eq!((none.classes(), none.records()), (0, 0));
        assert_eq!(none.records_in_classes_below(5), 0);
    }
}

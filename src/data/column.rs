//! Dictionary-encoded columns.

use rustc_hash::FxHashMap;

/// A column stored as dense `u32` codes plus a dictionary.
///
/// Codes are assigned in order of first appearance in the data, so code `c`
/// is the `c`-th distinct value met when reading the rows top to bottom
/// (ARX numbers values the same way, which fixes the summation order of the
/// utility metrics). All later computation works on the codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedColumn {
    name: String,
    codes: Vec<u32>,
    dictionary: Vec<String>,
}

impl EncodedColumn {
    /// Encodes the given values.
    ///
    /// # Panics
    ///
    /// Panics if there are more than `u32::MAX` distinct values.
    pub fn from_values<'a>(
        name: impl Into<String>,
        values: impl IntoIterator<Item = &'a str>,
    ) -> EncodedColumn {
        let mut encoder = Encoder::default();
        let codes = values.into_iter().map(|v| encoder.code(v)).collect();
        EncodedColumn {
            name: name.into(),
            codes,
            dictionary: encoder.into_dictionary(),
        }
    }

    /// Assembles a column from codes and a dictionary.
    ///
    /// # Panics
    ///
    /// Panics if a code is not an index into the dictionary.
    pub fn from_parts(name: impl Into<String>, codes: Vec<u32>, dictionary: Vec<String>) -> Self {
        assert!(
            codes.iter().all(|&c| (c as usize) < dictionary.len()),
            "every code must index the dictionary"
        );
        EncodedColumn {
            name: name.into(),
            codes,
            dictionary,
        }
    }

    /// The column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One code per row.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The distinct values; `dictionary()[code]` is the value of `code`.
    pub fn dictionary(&self) -> &[String] {
        &self.dictionary
    }

    /// The value of row `row`.
    pub fn value(&self, row: usize) -> &str {
        &self.dictionary[self.codes[row] as usize]
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Number of distinct values.
    pub fn cardinality(&self) -> usize {
        self.dictionary.len()
    }

    /// For each code, the first (0-based) row holding it.
    pub fn first_rows(&self) -> Vec<usize> {
        let mut first = vec![usize::MAX; self.dictionary.len()];
        let mut seen = 0;
        for (row, &c) in self.codes.iter().enumerate() {
            if first[c as usize] == usize::MAX {
                first[c as usize] = row;
                seen += 1;
                if seen == first.len() {
                    break;
                }
            }
        }
        first
    }

    /// Number of rows per code.
    pub fn counts(&self) -> Vec<u64> {
        // Four interleaved tallies: runs of one frequent code no longer
        // wait on their own previous increment.
        let n = self.dictionary.len();
        let mut lanes = vec![0u64; 4 * n];
        let (a, rest) = lanes.split_at_mut(n);
        let (b, rest) = rest.split_at_mut(n);
        let (c, d) = rest.split_at_mut(n);
        let mut chunks = self.codes.chunks_exact(4);
        for chunk in &mut chunks {
            a[chunk[0] as usize] += 1;
            b[chunk[1] as usize] += 1;
            c[chunk[2] as usize] += 1;
            d[chunk[3] as usize] += 1;
        }
        for &code in chunks.remainder() {
            a[code as usize] += 1;
        }
        (0..n).map(|i| a[i] + b[i] + c[i] + d[i]).collect()
    }
}

/// Assigns dense codes to strings in order of first appearance.
#[derive(Default)]
pub(crate) struct Encoder {
    index: FxHashMap<Box<str>, u32>,
    dictionary: Vec<String>,
}

impl Encoder {
    /// The code of `value`, assigning the next free code on first sight.
    pub(crate) fn code(&mut self, value: &str) -> u32 {
        if let Some(&c) = self.index.get(value) {
            return c;
        }
        let c = u32::try_from(self.dictionary.len()).expect("more than u32::MAX distinct values");
        self.index.insert(value.into(), c);
        self.dictionary.push(value.to_owned());
        c
    }

    pub(crate) fn into_dictionary(self) -> Vec<String> {
        self.dictionary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_first_appearance() {
        let col = EncodedColumn::from_values("x", ["b", "a", "b", "c", "a"]);
        assert_eq!(col.codes(), &[0, 1, 0, 2, 1]);
        assert_eq!(col.dictionary(), &["b", "a", "c"]);
        assert_eq!(col.value(3), "c");
        assert_eq!(col.counts(), vec![2, 2, 1]);
        // Longer columns (the interleaved tallies and the remainder).
        for len in [4, 7, 9, 1001] {
            let values: Vec<String> = (0..len).map(|i| ((i * i) % 5).to_string()).collect();
            let col = EncodedColumn::from_values("y", values.iter().map(String::as_str));
            let mut expected = vec![0u64; col.dictionary().len()];
            for &c in col.codes() {
                expected[c as usize] += 1;
            }
            assert_eq!(col.counts(), expected, "{len}");
            assert_eq!(col.counts().iter().sum::<u64>(), len as u64);
        }
        assert_eq!(col.first_rows(), vec![0, 1, 3]);
    }
}

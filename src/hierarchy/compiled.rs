//! Hierarchies compiled to lookup tables over a column's dictionary.

use rustc_hash::FxHashMap;

use crate::data::column::{EncodedColumn, Encoder};
use crate::error::{ErrorKind, Result};
use crate::hierarchy::table::Hierarchy;

/// One generalization level of a column: for every code of the column's
/// dictionary, the code of its label at this level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    map: Vec<u32>,
    labels: Vec<String>,
    leaves: Vec<u64>,
}

impl Level {
    /// `map()[code]` is the label code of the value with dictionary code `code`.
    pub fn map(&self) -> &[u32] {
        &self.map
    }

    /// The distinct labels at this level that the data uses, in order of
    /// first appearance in the data.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// For each label, the number of hierarchy rows (leaves, including values
    /// absent from the data, and a repeated row as often as it is listed)
    /// below it: the numerator of ARX's Loss share.
    pub fn leaves(&self) -> &[u64] {
        &self.leaves
    }

    /// Number of distinct labels the data uses at this level.
    pub fn cardinality(&self) -> usize {
        self.labels.len()
    }
}

/// A hierarchy compiled against a column: generalizing a cell to a level is
/// one array read, `levels()[level].map()[code]`.
///
/// Level 0 is the identity on the column's dictionary. At each level, label
/// codes are dense and assigned in order of first appearance in the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledHierarchy {
    column: String,
    levels: Vec<Level>,
    domain_size: u64,
    file_order: Vec<usize>,
    /// `lifts[from][to - from]`: label at `from` → its ancestor at `to`.
    lifts: Vec<Vec<Vec<u32>>>,
}

impl CompiledHierarchy {
    /// Compiles `hierarchy` for `column`, checking that it covers every value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ValueNotInHierarchy`] naming the first value of the column
    /// that the hierarchy lacks, with the first row that holds it.
    pub fn new(hierarchy: &Hierarchy, column: &EncodedColumn) -> Result<CompiledHierarchy> {
        let index: FxHashMap<&str, usize> = hierarchy
            .rows()
            .iter()
            .enumerate()
            .map(|(i, r)| (r[0].as_str(), i))
            .collect();
        let mut rows = Vec::with_capacity(column.cardinality());
        for (code, value) in column.dictionary().iter().enumerate() {
            match index.get(value.as_str()) {
                Some(&r) => rows.push(r),
                None => {
                    return Err(ErrorKind::ValueNotInHierarchy {
                        column: column.name().to_owned(),
                        row: column.first_rows()[code] + 1,
                        value: value.clone(),
                    }
                    .into());
                }
            }
        }
        let levels = (0..=hierarchy.height())
            .map(|level| {
                let mut encoder = Encoder::default();
                let map: Vec<u32> = rows
                    .iter()
                    .map(|&r| encoder.code(&hierarchy.rows()[r][level]))
                    .collect();
                let labels = encoder.into_dictionary();
                let position: FxHashMap<&str, usize> = labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), i))
                    .collect();
                let mut leaves = vec![0u64; labels.len()];
                for (row, &copies) in hierarchy.rows().iter().zip(hierarchy.copies()) {
                    if let Some(&i) = position.get(row[level].as_str()) {
                        leaves[i] += copies;
                    }
                }
                Level {
                    map,
                    labels,
                    leaves,
                }
            })
            .collect();
        Ok(CompiledHierarchy::with_lifts(
            column.name().to_owned(),
            levels,
            hierarchy.listed_rows(),
            rows,
        ))
    }

    /// The identity hierarchy of height 0 (a column that is never generalized).
    pub fn identity(column: &EncodedColumn) -> CompiledHierarchy {
        let n = column.cardinality();
        CompiledHierarchy::with_lifts(
            column.name().to_owned(),
            vec![Level {
                map: (0..n as u32).collect(),
                labels: column.dictionary().to_vec(),
                leaves: vec![1; n],
            }],
            n as u64,
            (0..n).collect(),
        )
    }

    /// The hierarchy of height 0 over this one's labels at `level`: the
    /// column as generalized to `level` and held there (its label codes are
    /// the level's, its domain size this one's). A value's place in the
    /// file is its first leaf's.
    ///
    /// # Panics
    ///
    /// Panics if `level` is above the height.
    pub(crate) fn fixed_at(&self, level: usize) -> CompiledHierarchy {
        let labels = &self.levels[level];
        let n = labels.cardinality();
        let mut file_order = vec![usize::MAX; n];
        for (code, &label) in labels.map.iter().enumerate() {
            let first = &mut file_order[label as usize];
            *first = (*first).min(self.file_order[code]);
        }
        CompiledHierarchy::with_lifts(
            self.column.clone(),
            vec![Level {
                map: (0..n as u32).collect(),
                labels: labels.labels.clone(),
                leaves: labels.leaves.clone(),
            }],
            self.domain_size,
            file_order,
        )
    }

    /// Assembles a compiled hierarchy and precomputes its lifts.
    fn with_lifts(
        column: String,
        levels: Vec<Level>,
        domain_size: u64,
        file_order: Vec<usize>,
    ) -> Self {
        let mut lifts = Vec::with_capacity(levels.len());
        for from in 0..levels.len() {
            let mut lift: Vec<u32> = (0..levels[from].cardinality() as u32).collect();
            let mut chain = vec![lift.clone()];
            for level in from..levels.len() - 1 {
                let mut parent = vec![0u32; levels[level].cardinality()];
                for (code, &label) in levels[level].map.iter().enumerate() {
                    parent[label as usize] = levels[level + 1].map[code];
                }
                for l in &mut lift {
                    *l = parent[*l as usize];
                }
                chain.push(lift.clone());
            }
            lifts.push(chain);
        }
        CompiledHierarchy {
            column,
            levels,
            domain_size,
            file_order,
            lifts,
        }
    }

    /// For each label code at level `from`, the code of its ancestor at
    /// level `to`.
    ///
    /// # Panics
    ///
    /// Panics unless `from ≤ to ≤ height()`.
    pub fn lift(&self, from: usize, to: usize) -> &[u32] {
        &self.lifts[from][to - from]
    }

    /// For each code of the column's dictionary, its row in the hierarchy
    /// (the order of values an ordered-string attribute inherits).
    pub fn file_order(&self) -> &[usize] {
        &self.file_order
    }

    /// The column name.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The highest level.
    pub fn height(&self) -> usize {
        self.levels.len() - 1
    }

    /// All levels, `0..=height()`.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// Level `level`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LevelOutOfRange`] above the height.
    pub fn level(&self, level: usize) -> Result<&Level> {
        self.levels.get(level).ok_or_else(|| {
            ErrorKind::LevelOutOfRange {
                column: self.column.clone(),
                level,
                max: self.height(),
            }
            .into()
        })
    }

    /// Number of rows the hierarchy listed, a repeated row counted each time
    /// (the Loss metric's domain size, as ARX's `DomainShareMaterialized`).
    pub fn domain_size(&self) -> u64 {
        self.domain_size
    }

    /// For a label code at `level`, the label code of its parent at `level + 1`.
    ///
    /// # Panics
    ///
    /// Panics if `level` is the top level.
    pub fn parents(&self, level: usize) -> Vec<u32> {
        self.lift(level, level + 1).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age() -> Hierarchy {
        Hierarchy::from_csv_str("age", "1;0-4;*\n2;0-4;*\n7;5-9;*\n9;5-9;*\n", b';').unwrap()
    }

    #[test]
    fn compiles_levels_in_first_appearance_order() {
        let column = EncodedColumn::from_values("age", ["7", "1", "7", "2"]);
        let h = CompiledHierarchy::new(&age(), &column).unwrap();
        assert_eq!(h.height(), 2);
        assert_eq!(h.levels()[0].map(), &[0, 1, 2]);
        assert_eq!(h.levels()[1].labels(), &["5-9", "0-4"]);
        assert_eq!(h.levels()[1].map(), &[0, 1, 1]);
        assert_eq!(h.levels()[1].leaves(), &[2, 2]);
        assert_eq!(h.levels()[2].leaves(), &[4]);
        assert_eq!(h.domain_size(), 4);
        assert_eq!(h.parents(1), vec![0, 0]);
        assert_eq!(h.lift(0, 1), &[0, 1, 1]);
        assert_eq!(h.lift(0, 2), &[0, 0, 0]);
        assert_eq!(h.lift(1, 1), &[0, 1]);
        assert!(h.level(3).is_err());
    }

    #[test]
    fn a_hierarchy_fixed_at_a_level_holds_that_levels_labels() {
        let column = EncodedColumn::from_values("age", ["7", "1", "7", "2"]);
        let h = CompiledHierarchy::new(&age(), &column).unwrap();
        let fixed = h.fixed_at(1);
        assert_eq!(fixed.height(), 0);
        assert_eq!(fixed.column(), "age");
        assert_eq!(fixed.levels()[0].labels(), &["5-9", "0-4"]);
        assert_eq!(fixed.levels()[0].map(), &[0, 1]);
        assert_eq!(fixed.levels()[0].leaves(), &[2, 2]);
        assert_eq!(fixed.domain_size(), 4);
        // "5-9" first listed at row 2 (7), "0-4" at row 0 (1).
        assert_eq!(fixed.file_order(), &[2, 0]);
        assert_eq!(h.fixed_at(2).levels()[0].labels(), &["*"]);
    }

    #[test]
    fn a_repeated_row_counts_as_often_as_listed() {
        // As ARX's FARS age hierarchy lists 99 twice: ARX's
        // `DomainShareMaterialized` counts every listed row.
        let text = "1;0-4;*\n2;0-4;*\n7;5-9;*\n7;5-9;*\n8;5-9;*\n";
        let h = Hierarchy::from_csv_str("age", text, b';').unwrap();
        let column = EncodedColumn::from_values("age", ["7", "1"]);
        let h = CompiledHierarchy::new(&h, &column).unwrap();
        assert_eq!(h.domain_size(), 5);
        assert_eq!(h.levels()[0].leaves(), &[2, 1]);
        assert_eq!(h.levels()[1].leaves(), &[3, 2]);
        assert_eq!(h.levels()[2].leaves(), &[5]);
    }

    #[test]
    fn missing_value_names_first_row() {
        let column = EncodedColumn::from_values("age", ["7", "1", "3", "3"]);
        let err = CompiledHierarchy::new(&age(), &column).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 'age', row 3: a value shaped '9' (1 character) is not in the column's hierarchy"
        );
    }
}

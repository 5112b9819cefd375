//! Generalization hierarchies as validated tables (ARX's format).

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::data::csv;
use crate::error::{Error, ErrorKind, Result};

/// A value generalization hierarchy: one row per original value, column `i`
/// holding the value's label at generalization level `i` (column 0 is the
/// value itself).
///
/// This is ARX's hierarchy format ([§0.3](crate::methods#03-hierarchies)): `;`-separated, no
/// header. A hierarchy is validated once, on construction:
///
/// - it has at least one row and every row has the same number of columns;
/// - no original value appears twice with different generalizations (an
///   identical repeated row is kept once, but remembered: ARX counts every
///   row of the file in the Loss metric's domain, so the crate does too,
///   [§5.2](crate::methods#52-metrics));
/// - it is consistent: two values that share an ancestor at level `i` share
///   it at every level above `i` (each label at level `i` has exactly one
///   parent at level `i + 1`), so generalization forms a tree.
///
/// Rows may list values that do not occur in the data (ARX's age hierarchy
/// covers 1–100); they count towards the domain size of the Loss metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    column: String,
    rows: Vec<Vec<String>>,
    /// For each row, how many times the input listed it (1 unless repeated).
    copies: Vec<u64>,
}

impl Hierarchy {
    /// Validates and wraps hierarchy rows for the column `column`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidHierarchy`] for an empty hierarchy or a duplicate
    /// value, [`ErrorKind::HierarchyHeight`] for a row of the wrong length
    /// (naming the row and its value) and [`ErrorKind::InconsistentHierarchy`]
    /// when a label has two parents (naming the label, the level and both parents).
    pub fn from_rows(column: impl Into<String>, rows: Vec<Vec<String>>) -> Result<Hierarchy> {
        let column = column.into();
        let Some(first) = rows.first() else {
            return Err(Error::hierarchy(&column, "the hierarchy has no rows"));
        };
        let width = first.len();
        if width == 0 {
            return Err(Error::hierarchy(&column, "row 1 is empty"));
        }
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        let mut repeated: Vec<usize> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(ErrorKind::HierarchyHeight {
                    column,
                    row: i + 1,
                    value: row.first().cloned().unwrap_or_default(),
                    expected: width,
                    found: row.len(),
                }
                .into());
            }
            if let Some(&previous) = seen.get(row[0].as_str()) {
                if rows[previous] != *row {
                    return Err(Error::hierarchy(
                        &column,
                        format!(
                            "value '{}' appears in rows {} and {} with different generalizations",
                            row[0],
                            previous + 1,
                            i + 1
                        ),
                    ));
                }
                repeated.push(i);
            } else {
                seen.insert(&row[0], i);
            }
        }
        let mut copies = vec![1u64; rows.len()];
        for &i in &repeated {
            copies[seen[rows[i][0].as_str()]] += 1;
        }
        drop(seen);
        let mut rows = rows;
        for &i in repeated.iter().rev() {
            // An identical repeated row (ARX's FARS age hierarchy lists 99
            // twice): kept once, its copies counted in `copies`.
            rows.remove(i);
            copies.remove(i);
        }
        for level in 1..width.saturating_sub(1) {
            let mut parent: FxHashMap<&str, &str> = FxHashMap::default();
            for row in &rows {
                let (label, up) = (row[level].as_str(), row[level + 1].as_str());
                match parent.insert(label, up) {
                    Some(previous) if previous != up => {
                        return Err(ErrorKind::InconsistentHierarchy {
                            column,
                            level,
                            label: label.to_owned(),
                            first: previous.to_owned(),
                            second: up.to_owned(),
                        }
                        .into());
                    }
                    _ => {}
                }
            }
        }
        Ok(Hierarchy {
            column,
            rows,
            copies,
        })
    }

    /// Reads an ARX hierarchy file: no header, fields separated by
    /// `delimiter` and quoted as ARX quotes them (`"a;b"`, a doubled quote
    /// inside), in the crate's one CSV dialect; LF or CRLF line ends; blank
    /// lines are skipped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be read, and the errors of
    /// [`Hierarchy::from_rows`].
    pub fn from_csv(column: impl Into<String>, path: &Path, delimiter: u8) -> Result<Hierarchy> {
        let text = std::fs::read_to_string(path).map_err(|source| ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Hierarchy::from_csv_str(column, &text, delimiter)
    }

    /// Parses hierarchy text in ARX's format; see [`Hierarchy::from_csv`]. A
    /// leading UTF-8 byte-order mark and `\r\n` line ends are accepted.
    ///
    /// # Errors
    ///
    /// The errors of [`Hierarchy::from_rows`].
    pub fn from_csv_str(column: impl Into<String>, text: &str, delimiter: u8) -> Result<Hierarchy> {
        const QUOTE: Option<u8> = Some(b'"');
        // A byte-order mark (as some spreadsheet programs write) would
        // otherwise become part of the first value.
        let bytes = text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes();
        let mut rows = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let end = csv::record_end(bytes, at, QUOTE).unwrap_or(bytes.len());
            let record = &bytes[at..end];
            at = end;
            if String::from_utf8_lossy(record).trim().is_empty() {
                continue;
            }
            let mut row = Vec::new();
            csv::split_record(record, delimiter, QUOTE, |field| {
                let mut value = String::new();
                csv::unquote(field, QUOTE, &mut value);
                row.push(value);
            });
            rows.push(row);
        }
        Hierarchy::from_rows(column, rows)
    }

    /// The column this hierarchy generalizes.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The highest generalization level (number of columns minus one).
    pub fn height(&self) -> usize {
        self.rows[0].len() - 1
    }

    /// The rows: `rows()[r][level]`.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// For each row of [`Hierarchy::rows`], how many times the input listed
    /// it: 1, or more for an identical row repeated (which `rows()` holds
    /// once). ARX counts every listed row in the Loss metric's shares and
    /// domain size ([§5.2](crate::methods#52-metrics)).
    pub fn copies(&self) -> &[u64] {
        &self.copies
    }

    /// The number of rows the input listed, repeated rows counted each time
    /// (ARX's domain size for the Loss metric).
    pub fn listed_rows(&self) -> u64 {
        self.copies.iter().sum()
    }

    /// The label of `value` at `level`, if the value is in the hierarchy.
    pub fn generalize(&self, value: &str, level: usize) -> Option<&str> {
        self.rows
            .iter()
            .find(|r| r[0] == value)
            .and_then(|r| r.get(level))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_labels_are_read_as_arx_writes_them() {
        let text = "1;\"1-5; small\";*\n\n6;\"6-10 \"\"big\"\"\";*\n";
        let h = Hierarchy::from_csv_str("n", text, b';').unwrap();
        assert_eq!(h.generalize("1", 1), Some("1-5; small"));
        assert_eq!(h.generalize("6", 1), Some("6-10 \"big\""));
        assert_eq!(h.rows().len(), 2);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_value() {
        let h = Hierarchy::from_csv_str("age", "\u{feff}17;*\r\n18;*\r\n", b';').unwrap();
        assert_eq!(h.generalize("17", 1), Some("*"));
        assert_eq!(h.rows()[0][0], "17");
    }

    #[test]
    fn reads_arx_format_with_crlf() {
        let h = Hierarchy::from_csv_str("sex", "Male;*\r\nFemale;*\r\n", b';').unwrap();
        assert_eq!(h.height(), 1);
        assert_eq!(h.generalize("Female", 1), Some("*"));
        assert_eq!(h.generalize("Female", 0), Some("Female"));
        assert_eq!(h.generalize("Other", 1), None);
    }

    #[test]
    fn ragged_row_is_named() {
        let err = Hierarchy::from_csv_str("age", "1;0-4;*\n2;0-4\n", b';').unwrap_err();
        assert_eq!(
            err.to_string(),
            "hierarchy of 'age', row 2 (value '2'): 2 columns, expected 3"
        );
    }

    #[test]
    fn inconsistent_hierarchy_is_named() {
        let text = "1;0-4;0-9;*\n2;0-4;0-19;*\n";
        let err = Hierarchy::from_csv_str("age", text, b';').unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InconsistentHierarchy { level: 1, label, .. } if label == "0-4"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_and_empty_are_rejected() {
        assert_eq!(
            Hierarchy::from_csv_str("a", "x;*\nx;*\n", b';')
                .unwrap()
                .rows()
                .len(),
            1
        );
        assert!(Hierarchy::from_csv_str("a", "x;*\nx;y\n", b';').is_err());
        // A repeated row is held once but its copies are counted.
        let h = Hierarchy::from_csv_str("a", "x;*\ny;*\nx;*\nz;*\nx;*\n", b';').unwrap();
        assert_eq!(h.rows().len(), 3);
        assert_eq!(h.copies(), &[3, 1, 1]);
        assert_eq!(h.listed_rows(), 5);
        assert!(Hierarchy::from_csv_str("a", "\n\n", b';').is_err());
    }
}

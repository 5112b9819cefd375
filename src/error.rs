//! The crate's error type.
//!
//! Every error names what went wrong in terms a user can act on: the column,
//! the value, the row (1-based data row, not counting the header) or the
//! hierarchy level. Errors never contain secrets (token keys), and their
//! messages never show a cell's value, which may be PHI that would end up in
//! a log: they show its *shape* instead ([`value_shape`]: letters as `A`/`a`,
//! digits as `9`, punctuation kept, invisible characters escaped). The raw
//! value stays in the [`ErrorKind`] fields for a caller that decides to show it.

use std::fmt;
use std::path::PathBuf;

/// A specialized `Result` for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// The crate's error: opaque, cheap to move, with a structured [`ErrorKind`].
pub struct Error(Box<ErrorKind>);

impl Error {
    /// Creates an error from its kind.
    pub fn new(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }

    /// The kind of this error.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Unwraps this error into its kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// Shorthand for [`ErrorKind::InvalidParameter`].
    pub(crate) fn parameter(name: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidParameter {
            name: name.into(),
            reason: reason.into(),
        })
    }

    /// Shorthand for [`ErrorKind::InvalidHierarchy`].
    pub(crate) fn hierarchy(column: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidHierarchy {
            column: column.into(),
            reason: reason.into(),
        })
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The shape of a cell's value, safe to print where the value is not: every
/// letter becomes `A` or `a`, every digit `9`; ASCII punctuation and spaces
/// stay; invisible characters (a stray `\r`, a byte-order mark, zero-width
/// spaces) are shown escaped so they can be found; any other character is
/// `?`. At most 24 characters are shown, followed by the length:
/// `ABCDE` → `'AAAAA' (5 characters)`, `123-45-6789` → `'999-99-9999' (11 characters)`.
pub fn value_shape(value: &str) -> String {
    const SHOWN: usize = 24;
    let mut shape = String::new();
    let mut count = 0;
    for c in value.chars() {
        count += 1;
        if count > SHOWN {
            continue;
        }
        match c {
            c if c.is_uppercase() => shape.push('A'),
            c if c.is_alphabetic() => shape.push('a'),
            c if c.is_numeric() => shape.push('9'),
            ' ' => shape.push(' '),
            c if c.is_ascii_punctuation() => shape.push(c),
            '\r' | '\n' | '\t' => shape.extend(c.escape_debug()),
            c if c.is_control()
                || c.is_whitespace()
                || matches!(c, '\u{feff}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}') =>
            {
                shape.extend(c.escape_unicode())
            }
            _ => shape.push('?'),
        }
    }
    if count > SHOWN {
        shape.push('…');
    }
    format!(
        "'{shape}' ({count} character{})",
        if count == 1 { "" } else { "s" }
    )
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The input table could not be parsed (malformed CSV or Parquet).
    #[error("cannot read {path}: {reason}")]
    Parse {
        /// The file (or `<dataframe>`).
        path: PathBuf,
        /// What the reader reported, with the line where known.
        reason: String,
    },
    /// An output could not be written (the encoder failed; an I/O failure is
    /// [`ErrorKind::Io`]). Nothing is left under the output's name.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the writer reported.
        reason: String,
    },
    /// The ruleset (TOML) is malformed or inconsistent.
    #[error("invalid ruleset {path}: {reason}")]
    Ruleset {
        /// The ruleset file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A column named in the ruleset or a model is not in the table.
    #[error(
        "unknown column '{}' (the table has: {})",
        column.escape_debug(),
        available.escape_debug()
    )]
    UnknownColumn {
        /// The name that was looked up.
        column: String,
        /// The column names the table has, comma-separated.
        available: String,
    },
    /// The table has no data rows.
    #[error("the table {source_name} has no data rows")]
    EmptyTable {
        /// Where the table came from.
        source_name: String,
    },
    /// A cell is missing and the missing-value policy is `error`.
    #[error(
        "column '{column}', row {row}: missing value (the ruleset's missing-value policy is 'error')"
    )]
    MissingValue {
        /// The column.
        column: String,
        /// The 1-based data row (the header is not counted).
        row: usize,
    },
    /// A cell does not parse as the column's declared type.
    #[error(
        "column '{column}', row {row}: a value shaped {} is not a valid {expected}",
        value_shape(value)
    )]
    InvalidValue {
        /// The column.
        column: String,
        /// The 1-based data row (the header is not counted).
        row: usize,
        /// The offending value (not shown by `Display`: it may be PHI).
        value: String,
        /// The declared type.
        expected: String,
    },
    /// A value of a column does not appear in the column's hierarchy.
    #[error(
        "column '{column}', row {row}: a value shaped {} is not in the column's hierarchy",
        value_shape(value)
    )]
    ValueNotInHierarchy {
        /// The column.
        column: String,
        /// The first 1-based data row holding the value.
        row: usize,
        /// The value (not shown by `Display`: it may be PHI).
        value: String,
    },
    /// A hierarchy row has a different number of levels than the first row.
    #[error(
        "hierarchy of '{column}', row {row} (value '{value}'): {found} columns, expected {expected}"
    )]
    HierarchyHeight {
        /// The column the hierarchy belongs to.
        column: String,
        /// The 1-based row of the hierarchy file.
        row: usize,
        /// The original value in that row.
        value: String,
        /// The number of columns of the first row.
        expected: usize,
        /// The number of columns of this row.
        found: usize,
    },
    /// Two values share an ancestor at one level but not at a higher level.
    #[error(
        "hierarchy of '{column}' is inconsistent at level {level}: label '{label}' generalizes to both '{first}' and '{second}' at level {}",
        level + 1
    )]
    InconsistentHierarchy {
        /// The column the hierarchy belongs to.
        column: String,
        /// The level of `label`.
        level: usize,
        /// The label with two parents.
        label: String,
        /// Its parent in the first row seen.
        first: String,
        /// Its conflicting parent.
        second: String,
    },
    /// Any other problem with a hierarchy (empty, duplicate values, bad builder parameters).
    #[error("hierarchy of '{column}': {reason}")]
    InvalidHierarchy {
        /// The column the hierarchy belongs to.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A generalization level is above the hierarchy's height.
    #[error("level {level} for '{column}' is out of range (maximum {max})")]
    LevelOutOfRange {
        /// The column.
        column: String,
        /// The requested level.
        level: usize,
        /// The highest level of its hierarchy.
        max: usize,
    },
    /// A parameter is out of range (k < 1, l < 1, t outside [0, 1], …).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: String,
        /// Why it is rejected.
        reason: String,
    },
    /// Two frequency tables that do not describe the same attributes were merged.
    #[error("cannot merge frequency tables: {reason}")]
    IncompatibleTables {
        /// What differs.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_names_column_row_and_value() {
        let e = Error::new(ErrorKind::ValueNotInHierarchy {
            column: "age".into(),
            row: 17,
            value: "130".into(),
        });
        assert_eq!(
            e.to_string(),
            "column 'age', row 17: a value shaped '999' (3 characters) is not in the column's hierarchy"
        );
    }

    #[test]
    fn values_are_shown_by_their_shape_only() {
        assert_eq!(value_shape("ABCDE"), "'AAAAA' (5 characters)");
        assert_eq!(value_shape("123-45-6789"), "'999-99-9999' (11 characters)");
        assert_eq!(value_shape("Amber Faulk"), "'Aaaaa Aaaaa' (11 characters)");
        assert_eq!(value_shape("x"), "'a' (1 character)");
        assert_eq!(value_shape("sex\r"), "'aaa\\r' (4 characters)");
        assert_eq!(value_shape("\u{feff}id"), "'\\u{feff}aa' (3 characters)");
        assert_eq!(value_shape("Zoë"), "'Aaa' (3 characters)");
        let long = "a".repeat(30);
        assert_eq!(
            value_shape(&long),
            format!("'{}…' (30 characters)", "a".repeat(24))
        );
        let e = Error::new(ErrorKind::InvalidValue {
            column: "zip".into(),
            row: 3,
            value: "ABCDE".into(),
            expected: "5-digit or ZIP+4 code".into(),
        });
        let shown = e.to_string();
        assert!(!shown.contains("ABCDE"), "{shown}");
        assert_eq!(
            shown,
            "column 'zip', row 3: a value shaped 'AAAAA' (5 characters) is not a valid 5-digit or ZIP+4 code"
        );
    }
}

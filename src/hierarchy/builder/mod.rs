//! Builders that create hierarchies for users without hierarchy files.
//!
//! Each builder produces a [`Hierarchy`] for a list of distinct values (a
//! column's dictionary); the result is validated like a file, so a builder
//! whose parameters nest badly (interval widths that are not multiples of
//! each other, say) is reported as an inconsistent hierarchy.

mod date;
mod grouping;
pub(crate) mod interval;
mod redaction;

use serde::{Deserialize, Serialize};

pub use date::{DateGranularity, DateHierarchy};
pub use grouping::GroupingHierarchy;
pub use interval::{IntervalHierarchy, IntervalLevel};
pub use redaction::RedactionHierarchy;

use crate::error::Result;
use crate::hierarchy::table::Hierarchy;

/// The label of the top level that every builder adds: everything generalized away.
pub const TOP_LABEL: &str = "*";

/// A hierarchy builder, as written in a ruleset (`hierarchy = { type = "interval", … }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum HierarchyBuilder {
    /// Numeric intervals; see [`IntervalHierarchy`].
    Interval(IntervalHierarchy),
    /// Character masking; see [`RedactionHierarchy`].
    Redaction(RedactionHierarchy),
    /// Calendar granularities; see [`DateHierarchy`].
    Date(DateHierarchy),
    /// Explicit groups; see [`GroupingHierarchy`].
    Grouping(GroupingHierarchy),
}

impl HierarchyBuilder {
    /// Builds the hierarchy of `column` for the given distinct values.
    ///
    /// # Errors
    ///
    /// The builder's own errors (a value it cannot place, bad parameters) and
    /// those of [`Hierarchy::from_rows`].
    pub fn build(&self, column: &str, values: &[String]) -> Result<Hierarchy> {
        match self {
            HierarchyBuilder::Interval(b) => b.build(column, values),
            HierarchyBuilder::Redaction(b) => b.build(column, values),
            HierarchyBuilder::Date(b) => b.build(column, values),
            HierarchyBuilder::Grouping(b) => b.build(column, values),
        }
    }
}

/// Appends the [`TOP_LABEL`] level unless the last level already is it, so
/// the height of a built hierarchy does not depend on which values occur.
fn with_top(column: &str, mut rows: Vec<Vec<String>>) -> Result<Hierarchy> {
    let last = rows.first().map_or(0, |r| r.len() - 1);
    if last == 0 || rows.iter().any(|r| r[last] != TOP_LABEL) {
        for row in &mut rows {
            row.push(TOP_LABEL.to_owned());
        }
    }
    Hierarchy::from_rows(column, rows)
}

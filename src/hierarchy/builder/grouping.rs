//! Explicit groupings: the user names the groups of each level.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hierarchy::builder::with_top;
use crate::hierarchy::table::Hierarchy;

/// A hierarchy given as groups, level by level: the groups of level 1
/// list original values, the groups of level `i + 1` list labels of level `i`.
/// A `*` level is added unless the last level is a single `*` group.
///
/// In a ruleset: `hierarchy = { type = "grouping", levels = [ { Technical = ["Tech-support", "Craft-repair"], Other = ["Other-service"] } ] }`.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use deidentify::hierarchy::GroupingHierarchy;
/// let mut level1 = BTreeMap::new();
/// level1.insert("young".to_string(), vec!["18".to_string(), "25".to_string()]);
/// level1.insert("old".to_string(), vec!["70".to_string()]);
/// let h = GroupingHierarchy { levels: vec![level1] }
///     .build("age", &["18".into(), "70".into()])?;
/// assert_eq!(h.generalize("70", 1), Some("old"));
/// assert_eq!(h.generalize("70", 2), Some("*"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupingHierarchy {
    /// For each level above 0: group label → members.
    pub levels: Vec<BTreeMap<String, Vec<String>>>,
}

impl GroupingHierarchy {
    /// Builds the hierarchy for the given values.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidHierarchy`] when a value (or a label of the
    /// level below) is in no group of a level, or in two.
    pub fn build(&self, column: &str, values: &[String]) -> Result<Hierarchy> {
        let mut rows: Vec<Vec<String>> = values.iter().map(|v| vec![v.clone()]).collect();
        for (i, groups) in self.levels.iter().enumerate() {
            let mut parent: FxHashMap<&str, &str> = FxHashMap::default();
            for (label, members) in groups {
                for member in members {
                    if let Some(other) = parent.insert(member, label) {
                        return Err(Error::hierarchy(
                            column,
                            format!(
                                "'{member}' is in groups '{other}' and '{label}' at level {}",
                                i + 1
                            ),
                        ));
                    }
                }
            }
            for row in &mut rows {
                let below = row.last().expect("rows start with the value");
                let label = parent.get(below.as_str()).ok_or_else(|| {
                    Error::hierarchy(
                        column,
                        format!("'{below}' is in no group of level {}", i + 1),
                    )
                })?;
                row.push((*label).to_owned());
            }
        }
        with_top(column, rows)
    }
}

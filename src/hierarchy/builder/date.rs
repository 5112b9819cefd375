//! Date hierarchies: day → month → year → decade → `*`.

use serde::{Deserialize, Serialize};

use crate::data::date::Date;
use crate::error::{Error, Result, value_shape};
use crate::hierarchy::builder::with_top;
use crate::hierarchy::table::Hierarchy;

/// A calendar granularity of a date hierarchy level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateGranularity {
    /// `YYYY-MM`.
    Month,
    /// `YYYY` (what HIPAA Safe Harbor keeps of a date).
    Year,
    /// `1990-1999`.
    Decade,
}

/// Generalizes ISO dates (`YYYY-MM-DD`) through calendar granularities.
///
/// # Examples
///
/// ```
/// use deidentify::hierarchy::{DateGranularity, DateHierarchy};
/// let h = DateHierarchy::default().build("admitted", &["2009-07-14".into()])?;
/// assert_eq!(h.generalize("2009-07-14", 1), Some("2009-07"));
/// assert_eq!(h.generalize("2009-07-14", 2), Some("2009"));
/// assert_eq!(h.generalize("2009-07-14", 3), Some("2000-2009"));
/// assert_eq!(h.generalize("2009-07-14", 4), Some("*"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateHierarchy {
    /// The levels above the day, finest first (must be increasing).
    #[serde(default = "all_granularities")]
    pub granularities: Vec<DateGranularity>,
}

fn all_granularities() -> Vec<DateGranularity> {
    vec![
        DateGranularity::Month,
        DateGranularity::Year,
        DateGranularity::Decade,
    ]
}

impl Default for DateHierarchy {
    fn default() -> Self {
        DateHierarchy {
            granularities: all_granularities(),
        }
    }
}

impl DateHierarchy {
    /// Builds the hierarchy for the given values.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidHierarchy`] for a value that is not a valid
    /// date, or granularities that are not strictly coarsening.
    pub fn build(&self, column: &str, values: &[String]) -> Result<Hierarchy> {
        if self.granularities.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::hierarchy(
                column,
                "date granularities must go from finer to coarser without repeats",
            ));
        }
        let mut rows = Vec::with_capacity(values.len());
        for value in values {
            let date = Date::parse(value).ok_or_else(|| {
                Error::hierarchy(
                    column,
                    format!(
                        "a value shaped {} is not a date (YYYY-MM-DD)",
                        value_shape(value)
                    ),
                )
            })?;
            let mut row = vec![value.clone()];
            for g in &self.granularities {
                row.push(match g {
                    DateGranularity::Month => format!("{:04}-{:02}", date.year, date.month),
                    DateGranularity::Year => format!("{:04}", date.year),
                    DateGranularity::Decade => {
                        let start = date.year - date.year % 10;
                        format!("{:04}-{:04}", start, start + 9)
                    }
                });
            }
            rows.push(row);
        }
        with_top(column, rows)
    }
}

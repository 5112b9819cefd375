//! Interval (binning) hierarchies for numbers, with bottom and top coding.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result, value_shape};
use crate::hierarchy::builder::with_top;
use crate::hierarchy::table::Hierarchy;

/// One level of an interval hierarchy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum IntervalLevel {
    /// Intervals of a fixed width starting at `origin` (default 0):
    /// `[origin + i·width, origin + (i+1)·width)`.
    Width {
        /// The interval width (> 0).
        width: f64,
        /// Where interval 0 starts.
        #[serde(default)]
        origin: f64,
    },
    /// Custom breaks `b_0 < b_1 < … < b_m`: intervals `[b_i, b_{i+1})`.
    /// Values outside `[b_0, b_m)` must be bottom- or top-coded.
    Breaks {
        /// The break points, strictly increasing.
        breaks: Vec<f64>,
    },
}

/// Builds intervals over numeric values: level 0 is the value, each
/// following level an interval partition (labelled `[lo, hi)`), then `*`.
///
/// Bottom coding puts every value below `bottom` into `<bottom` and top
/// coding every value at or above `top` into `>=top`, at every level above 0.
/// Levels must nest (each interval inside one interval of the next level),
/// or the hierarchy is rejected as inconsistent.
///
/// # Examples
///
/// ```
/// use deidentify::hierarchy::{IntervalHierarchy, IntervalLevel};
/// let builder = IntervalHierarchy {
///     levels: vec![
///         IntervalLevel::Width { width: 5.0, origin: 0.0 },
///         IntervalLevel::Width { width: 10.0, origin: 0.0 },
///     ],
///     bottom: None,
///     top: Some(90.0),
/// };
/// let h = builder.build("age", &["3".into(), "17".into(), "93".into()])?;
/// assert_eq!(h.generalize("17", 1), Some("[15, 20)"));
/// assert_eq!(h.generalize("17", 2), Some("[10, 20)"));
/// assert_eq!(h.generalize("93", 1), Some(">=90"));
/// assert_eq!(h.generalize("93", 3), Some("*"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalHierarchy {
    /// The levels above 0, finest first.
    pub levels: Vec<IntervalLevel>,
    /// Bottom-coding threshold.
    #[serde(default)]
    pub bottom: Option<f64>,
    /// Top-coding threshold.
    #[serde(default)]
    pub top: Option<f64>,
}

impl IntervalHierarchy {
    /// Builds the hierarchy for the given values.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidHierarchy`] for a width ≤ 0, breaks that do not
    /// increase, bottom ≥ top, or a value that is not a finite number or that
    /// falls outside the custom breaks; and inconsistent nesting.
    pub fn build(&self, column: &str, values: &[String]) -> Result<Hierarchy> {
        self.check(column)?;
        let mut rows = Vec::with_capacity(values.len());
        for value in values {
            let x = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    Error::hierarchy(
                        column,
                        format!("a value shaped {} is not a number", value_shape(value)),
                    )
                })?;
            let mut row = vec![value.clone()];
            for level in &self.levels {
                row.push(self.label(column, level, x)?);
            }
            rows.push(row);
        }
        with_top(column, rows)
    }

    fn check(&self, column: &str) -> Result<()> {
        for level in &self.levels {
            match level {
                IntervalLevel::Width { width, origin } => {
                    if !(width.is_finite() && *width > 0.0 && origin.is_finite()) {
                        return Err(Error::hierarchy(
                            column,
                            format!("interval width {width} must be a positive number"),
                        ));
                    }
                }
                IntervalLevel::Breaks { breaks } => {
                    if breaks.len() < 2
                        || breaks.windows(2).any(|w| w[0] >= w[1])
                        || breaks.iter().any(|b| !b.is_finite())
                    {
                        return Err(Error::hierarchy(
                            column,
                            "breaks must be at least two strictly increasing numbers",
                        ));
                    }
                }
            }
        }
        if self
            .bottom
            .into_iter()
            .chain(self.top)
            .any(|x| !x.is_finite())
        {
            return Err(Error::hierarchy(
                column,
                "bottom and top coding thresholds must be numbers",
            ));
        }
        if let (Some(b), Some(t)) = (self.bottom, self.top)
            && b >= t
        {
            return Err(Error::hierarchy(
                column,
                format!("bottom coding {b} must be below top coding {t}"),
            ));
        }
        Ok(())
    }

    fn label(&self, column: &str, level: &IntervalLevel, x: f64) -> Result<String> {
        if let Some(b) = self.bottom.filter(|&b| x < b) {
            return Ok(format!("<{}", number(b)));
        }
        if let Some(t) = self.top.filter(|&t| x >= t) {
            return Ok(format!(">={}", number(t)));
        }
        let (lo, hi) = match level {
            IntervalLevel::Width { width, origin } => {
                let i = ((x - origin) / width).floor();
                (origin + i * width, origin + (i + 1.0) * width)
            }
            IntervalLevel::Breaks { breaks } => {
                let i = breaks.partition_point(|&b| b <= x);
                if i == 0 || i == breaks.len() {
                    return Err(ErrorKind::InvalidHierarchy {
                        column: column.to_owned(),
                        reason: format!(
                            "value {} is outside the breaks [{}, {}); add bottom or top coding",
                            number(x),
                            number(breaks[0]),
                            number(breaks[breaks.len() - 1])
                        ),
                    }
                    .into());
                }
                (breaks[i - 1], breaks[i])
            }
        };
        Ok(format!("[{}, {})", number(lo), number(hi)))
    }
}

/// Formats a number without a trailing `.0` when it is whole.
pub(crate) fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn breaks_and_bottom_coding() {
        let b = IntervalHierarchy {
            levels: vec![IntervalLevel::Breaks {
                breaks: vec![18.0, 40.0, 65.0, 120.0],
            }],
            bottom: Some(18.0),
            top: None,
        };
        let h = b
            .build("age", &values(&["12", "18", "64.5", "70"]))
            .unwrap();
        assert_eq!(h.generalize("12", 1), Some("<18"));
        assert_eq!(h.generalize("18", 1), Some("[18, 40)"));
        assert_eq!(h.generalize("64.5", 1), Some("[40, 65)"));
        assert_eq!(h.height(), 2);
    }

    #[test]
    fn non_nesting_widths_are_inconsistent() {
        let b = IntervalHierarchy {
            levels: vec![
                IntervalLevel::Width {
                    width: 5.0,
                    origin: 0.0,
                },
                IntervalLevel::Width {
                    width: 7.0,
                    origin: 0.0,
                },
            ],
            bottom: None,
            top: None,
        };
        let err = b.build("age", &values(&["5", "9"])).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InconsistentHierarchy { .. }),
            "{err}"
        );
    }

    #[test]
    fn bad_parameters_and_values() {
        let b = IntervalHierarchy {
            levels: vec![IntervalLevel::Width {
                width: 0.0,
                origin: 0.0,
            }],
            bottom: None,
            top: None,
        };
        assert!(b.build("x", &values(&["1"])).is_err());
        let b = IntervalHierarchy {
            levels: vec![IntervalLevel::Width {
                width: 1.0,
                origin: 0.0,
            }],
            bottom: None,
            top: None,
        };
        assert!(b.build("x", &values(&["abc"])).is_err());
        let b = IntervalHierarchy {
            levels: vec![IntervalLevel::Breaks {
                breaks: vec![0.0, 10.0],
            }],
            bottom: None,
            top: None,
        };
        assert!(
            b.build("x", &values(&["10"]))
                .unwrap_err()
                .to_string()
                .contains("outside the breaks")
        );
    }
}

//! Binning with top- and bottom-coding ([§7.1](crate::methods#71-binning-top-coding-and-bottom-coding); sdcMicro `globalRecode`, `topBotCoding`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hierarchy::builder::interval::number;

/// How bin boundaries are chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum BinningMethod {
    /// `bins` intervals of equal width over [min, max] of the (uncoded) values.
    EqualWidth {
        /// Number of bins (≥ 1).
        bins: usize,
    },
    /// `bins` intervals holding about equally many values (breaks at the
    /// empirical quantiles i/bins, type 7 as R's default); repeated breaks merge.
    EqualFrequency {
        /// Number of bins (≥ 1).
        bins: usize,
    },
    /// Explicit strictly increasing breaks b_0 < … < b_m.
    Breaks {
        /// The breaks.
        breaks: Vec<f64>,
    },
}

/// The most bins an equal-width or equal-frequency binning may ask for.
pub const MAX_BINS: usize = 1 << 20;

/// Checks a number of bins: at least 1, at most [`MAX_BINS`].
pub(crate) fn check_bins(bins: usize) -> Result<()> {
    if bins == 0 {
        Err(Error::parameter("bins", "at least one bin is needed"))
    } else if bins > MAX_BINS {
        Err(Error::parameter(
            "bins",
            format!("{bins} bins is more than the {MAX_BINS} allowed"),
        ))
    } else {
        Ok(())
    }
}

/// A binning transformation: a value with its parameters, serializable and
/// replayable (the breaks are recorded, so new data is binned the same way).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binning {
    /// How the breaks were chosen.
    pub method: BinningMethod,
    /// Values below this are coded `<bottom` (bottom-coding).
    #[serde(default)]
    pub bottom: Option<f64>,
    /// Values at or above this are coded `>=top` (top-coding).
    #[serde(default)]
    pub top: Option<f64>,
}

/// Binned values and the breaks used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binned {
    /// One label per value: `[lo, hi)`, the last bin `[lo, hi]`, `<bottom`, `>=top`.
    pub labels: Vec<String>,
    /// The breaks b_0 < … < b_m actually used (for replay).
    pub breaks: Vec<f64>,
    /// Values bottom-coded and top-coded.
    pub coded: (u64, u64),
}

impl Binning {
    /// Bins `values`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for 0 bins or more than
    /// [`MAX_BINS`], breaks that do not
    /// increase, bottom ≥ top, a value that is not finite (naming its row),
    /// no values to bin, or (explicit breaks) a value outside the breaks
    /// that is not top- or bottom-coded.
    pub fn apply(&self, values: &[f64]) -> Result<Binned> {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::parameter(
                "values",
                format!("row {}: not a finite number", i + 1),
            ));
        }
        if let (Some(b), Some(t)) = (self.bottom, self.top)
            && b >= t
        {
            return Err(Error::parameter(
                "top",
                format!("bottom coding {b} must be below top coding {t}"),
            ));
        }
        let inside: Vec<f64> = values
            .iter()
            .copied()
            .filter(|&v| self.bottom.is_none_or(|b| v >= b) && self.top.is_none_or(|t| v < t))
            .collect();
        if let BinningMethod::EqualWidth { bins } | BinningMethod::EqualFrequency { bins } =
            &self.method
        {
            check_bins(*bins)?;
        }
        let breaks = match &self.method {
            BinningMethod::Breaks { breaks } => {
                if breaks.len() < 2
                    || breaks.windows(2).any(|w| w[0] >= w[1])
                    || breaks.iter().any(|b| !b.is_finite())
                {
                    return Err(Error::parameter(
                        "breaks",
                        "at least two strictly increasing numbers are needed",
                    ));
                }
                breaks.clone()
            }
            _ if inside.is_empty() => return Err(Error::parameter("values", "no values to bin")),
            BinningMethod::EqualWidth { bins } => {
                let (lo, hi) = inside
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                if lo == hi {
                    vec![lo, hi + 1.0]
                } else {
                    // The ends are the observed extremes exactly (lo + (hi − lo)
                    // may round below hi); breaks that coincide in floating point merge.
                    let mut breaks: Vec<f64> = (0..=*bins)
                        .map(|i| match i {
                            0 => lo,
                            i if i == *bins => hi,
                            i => lo + (hi - lo) * i as f64 / *bins as f64,
                        })
                        .collect();
                    breaks.dedup();
                    breaks
                }
            }
            BinningMethod::EqualFrequency { bins } => {
                let mut sorted = inside.clone();
                sorted.sort_by(f64::total_cmp);
                let quantile = |p: f64| {
                    let h = (sorted.len() - 1) as f64 * p;
                    let (i, frac) = (h.floor() as usize, h - h.floor());
                    if i + 1 < sorted.len() {
                        sorted[i] + frac * (sorted[i + 1] - sorted[i])
                    } else {
                        sorted[i]
                    }
                };
                let mut breaks: Vec<f64> = (0..=*bins)
                    .map(|i| quantile(i as f64 / *bins as f64))
                    .collect();
                breaks.dedup();
                if breaks.len() < 2 {
                    breaks.push(breaks[0] + 1.0);
                }
                breaks
            }
        };
        let last = breaks.len() - 1;
        let mut coded = (0u64, 0u64);
        let labels = values
            .iter()
            .enumerate()
            .map(|(row, &v)| {
                if let Some(b) = self.bottom.filter(|&b| v < b) {
                    coded.0 += 1;
                    return Ok(format!("<{}", number(b)));
                }
                if let Some(t) = self.top.filter(|&t| v >= t) {
                    coded.1 += 1;
                    return Ok(format!(">={}", number(t)));
                }
                if v < breaks[0] || v > breaks[last] {
                    return Err(Error::parameter(
                        "values",
                        format!(
                            "row {}: {} is outside the breaks; add top or bottom coding",
                            row + 1,
                            number(v)
                        ),
                    ));
                }
                let i = breaks.partition_point(|&b| b <= v).clamp(1, last);
                let close = if i == last { "]" } else { ")" };
                Ok(format!(
                    "[{}, {}{close}",
                    number(breaks[i - 1]),
                    number(breaks[i])
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Binned {
            labels,
            breaks,
            coded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_width_with_top_coding() {
        let b = Binning {
            method: BinningMethod::EqualWidth { bins: 2 },
            bottom: None,
            top: Some(90.0),
        };
        let out = b.apply(&[10.0, 20.0, 30.0, 95.0]).unwrap();
        assert_eq!(out.breaks, vec![10.0, 20.0, 30.0]);
        assert_eq!(out.labels, vec!["[10, 20)", "[20, 30]", "[20, 30]", ">=90"]);
        assert_eq!(out.coded, (0, 1));
    }

    #[test]
    fn equal_frequency_and_breaks() {
        let values: Vec<f64> = (1..=8).map(f64::from).collect();
        let b = Binning {
            method: BinningMethod::EqualFrequency { bins: 2 },
            bottom: None,
            top: None,
        };
        let out = b.apply(&values).unwrap();
        assert_eq!(out.breaks, vec![1.0, 4.5, 8.0]);
        assert_eq!(
            out.labels
                .iter()
                .filter(|l| l.as_str() == "[1, 4.5)")
                .count(),
            4
        );
        let b = Binning {
            method: BinningMethod::Breaks {
                breaks: vec![0.0, 18.0, 65.0],
            },
            bottom: Some(0.0),
            top: Some(65.0),
        };
        let out = b.apply(&[-1.0, 0.0, 17.9, 18.0, 64.0, 70.0]).unwrap();
        assert_eq!(
            out.labels,
            vec!["<0", "[0, 18)", "[0, 18)", "[18, 65]", "[18, 65]", ">=65"]
        );
        // Replay: the recorded breaks bin new data identically.
        let replay = Binning {
            method: BinningMethod::Breaks {
                breaks: out.breaks.clone(),
            },
            bottom: Some(0.0),
            top: Some(65.0),
        };
        assert_eq!(
            replay.apply(&[-1.0, 0.0, 17.9, 18.0, 64.0, 70.0]).unwrap(),
            out
        );
        let json = serde_json::to_string(&replay).unwrap();
        assert_eq!(serde_json::from_str::<Binning>(&json).unwrap(), replay);
    }

    #[test]
    fn equal_width_ends_at_the_maximum_exactly() {
        // −993.57… + (712.34… + 993.57…)·3/3 rounds below 712.34… in floating point.
        let b = Binning {
            method: BinningMethod::EqualWidth { bins: 3 },
            bottom: None,
            top: None,
        };
        let out = b.apply(&[712.3409652382056, -993.5714226277078]).unwrap();
        assert_eq!(out.breaks[3], 712.3409652382056);
        assert!(
            out.labels[0].ends_with(", 712.3409652382056]"),
            "{}",
            out.labels[0]
        );
    }

    #[test]
    fn bad_input() {
        let b = |m| Binning {
            method: m,
            bottom: None,
            top: None,
        };
        assert!(
            b(BinningMethod::EqualWidth { bins: 0 })
                .apply(&[1.0])
                .is_err()
        );
        assert!(
            b(BinningMethod::Breaks {
                breaks: vec![1.0, 1.0]
            })
            .apply(&[1.0])
            .is_err()
        );
        assert!(
            b(BinningMethod::Breaks {
                breaks: vec![0.0, 10.0]
            })
            .apply(&[11.0])
            .unwrap_err()
            .to_string()
            .contains("row 1")
        );
        assert!(
            b(BinningMethod::EqualWidth { bins: 2 })
                .apply(&[1.0, f64::NAN])
                .unwrap_err()
                .to_string()
                .contains("row 2")
        );
        assert!(b(BinningMethod::EqualWidth { bins: 2 }).apply(&[]).is_err());
        let coded = Binning {
            method: BinningMethod::EqualWidth { bins: 2 },
            bottom: Some(5.0),
            top: Some(5.0),
        };
        assert!(coded.apply(&[1.0]).is_err());
    }
}

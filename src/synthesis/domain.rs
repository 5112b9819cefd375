//! The public domain of a synthesized attribute: the values a synthetic
//! record may take, fixed without looking at the data
//! ([§8.5](crate::methods#85-differentially-private-synthetic-data-mst)).

use polars::prelude::{Column, DataType};
use rand::{Rng, RngExt};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// The values one attribute may take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Domain {
    /// Listed values, in order (a hierarchy file's first column, or an
    /// ordered attribute's order). A value of the data outside the list is
    /// an error.
    Values(Vec<String>),
    /// Numbers cut into bins of equal width from `low` upwards, the last
    /// ending at `high`. A value outside `[low, high]` is clamped to the
    /// nearest end (as DP bounds require: an error would reveal that such a
    /// value exists). For `integer` columns `low` and `width` must be
    /// whole and every bin holds `width` integers (the last may hold
    /// fewer); a synthetic value is drawn uniformly from its bin.
    Bins {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
        /// The width of a bin.
        width: f64,
        /// Whether values are integers.
        integer: bool,
    },
}

impl Domain {
    /// Listed values, duplicates dropped (the first kept).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for an empty list.
    pub fn values<I: IntoIterator<Item = String>>(values: I) -> Result<Domain> {
        let mut seen = rustc_hash::FxHashSet::default();
        let list: Vec<String> = values
            .into_iter()
            .filter(|v| seen.insert(v.clone()))
            .collect();
        if list.is_empty() {
            return Err(Error::parameter("domain", "a domain lists no values"));
        }
        Ok(Domain::Values(list))
    }

    /// Bins of `width` over `[low, high]`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for bounds that are not
    /// finite or not increasing, a width that is not positive, integer
    /// bins with a fractional `low` or `width`, or more than 2²⁰ bins.
    pub fn bins(low: f64, high: f64, width: f64, integer: bool) -> Result<Domain> {
        let domain = Domain::Bins {
            low,
            high,
            width,
            integer,
        };
        domain.check()?;
        Ok(domain)
    }

    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Domain::Values(values) if values.is_empty() => {
                Err(Error::parameter("domain", "a domain lists no values"))
            }
            Domain::Values(_) => Ok(()),
            &Domain::Bins {
                low,
                high,
                width,
                integer,
            } => {
                if !(low.is_finite() && high.is_finite() && low < high) {
                    return Err(Error::parameter(
                        "bins",
                        format!(
                            "low and high must be finite with low < high, got {low} and {high}"
                        ),
                    ));
                }
                if !(width.is_finite() && width > 0.0) {
                    return Err(Error::parameter(
                        "bins",
                        format!("the width must be positive, got {width}"),
                    ));
                }
                if integer && (low.fract() != 0.0 || width.fract() != 0.0) {
                    return Err(Error::parameter(
                        "bins",
                        "integer bins need a whole low bound and width",
                    ));
                }
                if self.size_unchecked() > 1 << 20 {
                    return Err(Error::parameter("bins", "more than 2^20 bins"));
                }
                Ok(())
            }
        }
    }

    fn size_unchecked(&self) -> usize {
        match self {
            Domain::Values(values) => values.len(),
            &Domain::Bins {
                low,
                high,
                width,
                integer,
            } => {
                let span = if integer {
                    high.floor() - low + 1.0
                } else {
                    high - low
                };
                ((span / width).ceil().max(1.0)).min(f64::from(u32::MAX)) as usize
            }
        }
    }

    /// The number of values or bins.
    pub fn size(&self) -> usize {
        self.size_unchecked()
    }

    /// Bin `code`'s first and last value (integers) or half-open range,
    /// and whether it holds integers; `None` for listed values.
    fn bin(&self, code: u32) -> Option<(f64, f64, bool)> {
        match *self {
            Domain::Values(_) => None,
            Domain::Bins {
                low,
                high,
                width,
                integer,
            } => {
                let (from, to) = bin_range(low, high, width, integer, code);
                Some((from, to, integer))
            }
        }
    }

    /// The text of value or bin `code` as a marginal shows it.
    pub fn label(&self, code: u32) -> String {
        match (self, self.bin(code)) {
            (Domain::Values(values), _) => values[code as usize].clone(),
            (_, Some((from, to, true))) => format!("[{from}, {to}]"),
            (_, Some((from, to, false))) => format!("[{from}, {to})"),
            (_, None) => unreachable!("bins have a range"),
        }
    }

    /// A synthetic value for code `code`: the value, or one drawn uniformly
    /// from the bin.
    pub(crate) fn sample_value<R: Rng + ?Sized>(&self, code: u32, rng: &mut R) -> String {
        match (self, self.bin(code)) {
            (Domain::Values(values), _) => values[code as usize].clone(),
            (_, Some((from, to, true))) => rng.random_range(from as i64..=to as i64).to_string(),
            (_, Some((from, to, false))) => {
                format!("{}", (from + rng.random::<f64>() * (to - from)).min(to))
            }
            (_, None) => unreachable!("bins have a range"),
        }
    }

    /// Each row's code in this domain.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingValue`] for a missing cell, and
    /// [`ErrorKind::InvalidValue`] for a value outside a listed domain or a
    /// value of a binned column that is not a number; both name column and
    /// row, never the value.
    pub(crate) fn encode(&self, column: &Column) -> Result<Vec<u32>> {
        let name = column.name().to_string();
        let text = column
            .cast(&DataType::String)
            .map_err(|e| Error::parameter(&name, format!("cannot read the column as text: {e}")))?;
        let text = text
            .str()
            .map_err(|e| Error::parameter(&name, format!("cannot read the column as text: {e}")))?;
        let lookup: FxHashMap<&str, u32> = match self {
            Domain::Values(values) => values
                .iter()
                .enumerate()
                .map(|(i, v)| (v.as_str(), i as u32))
                .collect(),
            Domain::Bins { .. } => FxHashMap::default(),
        };
        let mut codes = Vec::with_capacity(text.len());
        for (row, value) in text.iter().enumerate() {
            let Some(value) = value else {
                return Err(ErrorKind::MissingValue {
                    column: name,
                    row: row + 1,
                }
                .into());
            };
            let code = match self {
                Domain::Values(_) => lookup.get(value).copied(),
                &Domain::Bins {
                    low,
                    high,
                    width,
                    integer,
                } => value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| !v.is_nan())
                    .map(|v| bin_of(low, high, width, integer, v, self.size() as u32)),
            };
            let Some(code) = code else {
                return Err(ErrorKind::InvalidValue {
                    column: name,
                    row: row + 1,
                    value: value.to_owned(),
                    expected: match self {
                        Domain::Values(_) => "value of the attribute's public domain".to_owned(),
                        Domain::Bins { .. } => "number".to_owned(),
                    },
                }
                .into());
            };
            codes.push(code);
        }
        Ok(codes)
    }
}

/// The bin of `v`, clamped into `[0, bins)`.
fn bin_of(low: f64, high: f64, width: f64, integer: bool, v: f64, bins: u32) -> u32 {
    let v = v.clamp(low, high);
    let v = if integer { v.floor() } else { v };
    let b = ((v - low) / width).floor();
    (b.max(0.0) as u32).min(bins - 1)
}

/// The first and last value of bin `code` (integers), or its half-open
/// range.
fn bin_range(low: f64, high: f64, width: f64, integer: bool, code: u32) -> (f64, f64) {
    let from = low + f64::from(code) * width;
    if integer {
        (from, (from + width - 1.0).min(high.floor()))
    } else {
        (from, (from + width).min(high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::NamedFrom;
    use polars::series::Series;

    #[test]
    fn bins_cover_the_range_and_clamp_outside_it() {
        let d = Domain::bins(17.0, 90.0, 5.0, true).unwrap();
        // 74 integers, 15 bins: [17, 21] … [87, 90].
        assert_eq!(d.size(), 15);
        assert_eq!(d.label(0), "[17, 21]");
        assert_eq!(d.label(14), "[87, 90]");
        let col = Column::from(Series::new("age".into(), &[17i64, 21, 22, 90, 5, 200]));
        assert_eq!(d.encode(&col).unwrap(), [0, 0, 1, 14, 0, 14]);
        let f = Domain::bins(0.0, 1.0, 0.25, false).unwrap();
        assert_eq!(f.size(), 4);
        let col = Column::from(Series::new("x".into(), &[0.0f64, 0.25, 0.99, 1.0]));
        assert_eq!(f.encode(&col).unwrap(), [0, 1, 3, 3]);
        assert!(Domain::bins(0.5, 3.0, 1.0, true).is_err());
        assert!(Domain::bins(3.0, 3.0, 1.0, false).is_err());
        assert!(Domain::bins(0.0, 3.0, 0.0, false).is_err());
    }

    #[test]
    fn a_value_outside_the_domain_names_column_and_row_not_the_value() {
        let d = Domain::values(["a".to_owned(), "b".to_owned(), "a".to_owned()]).unwrap();
        assert_eq!(d.size(), 2);
        let col = Column::from(Series::new("c".into(), &["a", "b", "secret"]));
        let e = d.encode(&col).unwrap_err().to_string();
        assert!(e.contains("column 'c', row 3"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let col = Column::from(Series::new("n".into(), &["1", "x"]));
        let e = Domain::bins(0.0, 3.0, 1.0, true)
            .unwrap()
            .encode(&col)
            .unwrap_err()
            .to_string();
        assert!(e.contains("column 'n', row 2"), "{e}");
    }
}

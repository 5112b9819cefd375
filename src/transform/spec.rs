//! Transformations as configured values (`[[transform]]` in a ruleset) and
//! the records they leave for the audit trail ([§7](crate::methods#7-transformations-of-columns), [§5.3](crate::methods#53-il1s), [§9.2](crate::methods#92-audit-trail)).
//!
//! A [`TransformSpec`] is what a user asks for; applying it fits whatever
//! depends on the data or on chance (the breaks of an equal-frequency
//! binning, the covariance an additive noise is scaled by, the noise seed)
//! and returns a [`TransformRecord`] whose `parameters` hold the *fitted*
//! spec. Replaying that spec gives the same output on the same data, and
//! transforms new data the same way (same breaks, same noise scale, same seed).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::transform::additive_noise::{NoiseCorrelation, check_covariance};
use crate::transform::binning::{Binning, BinningMethod, check_bins};

/// A binning of one column ([`TransformSpec::Binning`]): the column and the
/// [`Binning`] applied to it. In a ruleset its fields sit beside `type`:
/// `column`, `method` (`equal-width` or `equal-frequency` with `bins`,
/// `breaks` with `breaks`) and the optional `bottom` and `top`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BinningFields", into = "BinningFields")]
pub struct ColumnBinning {
    /// The column.
    pub column: String,
    /// How it is binned.
    pub binning: Binning,
}

/// The name of a binning method, as a ruleset writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum MethodName {
    EqualWidth,
    EqualFrequency,
    Breaks,
}

/// The fields of a `binning` transform as a ruleset writes them: the
/// method's parameter (`bins` or `breaks`) beside its name.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BinningFields {
    column: String,
    method: MethodName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bins: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    breaks: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bottom: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    top: Option<f64>,
}

impl TryFrom<BinningFields> for ColumnBinning {
    type Error = String;

    fn try_from(fields: BinningFields) -> std::result::Result<ColumnBinning, String> {
        let method = match (fields.method, fields.bins, fields.breaks) {
            (MethodName::EqualWidth, Some(bins), None) => BinningMethod::EqualWidth { bins },
            (MethodName::EqualFrequency, Some(bins), None) => {
                BinningMethod::EqualFrequency { bins }
            }
            (MethodName::Breaks, None, Some(breaks)) => BinningMethod::Breaks { breaks },
            (MethodName::Breaks, _, _) => {
                return Err("method 'breaks' takes `breaks` (and no `bins`)".to_owned());
            }
            _ => {
                return Err(
                    "methods 'equal-width' and 'equal-frequency' take `bins` (and no `breaks`)"
                        .to_owned(),
                );
            }
        };
        Ok(ColumnBinning {
            column: fields.column,
            binning: Binning {
                method,
                bottom: fields.bottom,
                top: fields.top,
            },
        })
    }
}

impl From<ColumnBinning> for BinningFields {
    fn from(spec: ColumnBinning) -> BinningFields {
        let (method, bins, breaks) = match spec.binning.method {
            BinningMethod::EqualWidth { bins } => (MethodName::EqualWidth, Some(bins), None),
            BinningMethod::EqualFrequency { bins } => {
                (MethodName::EqualFrequency, Some(bins), None)
            }
            BinningMethod::Breaks { breaks } => (MethodName::Breaks, None, Some(breaks)),
        };
        BinningFields {
            column: spec.column,
            method,
            bins,
            breaks,
            bottom: spec.binning.bottom,
            top: spec.binning.top,
        }
    }
}

/// One transformation of the data, applied before encoding: a
/// `[[transform]]` table of a ruleset, tagged by `type`.
///
/// Numeric columns may hold text (CSV) or numbers (Parquet); missing cells
/// (null, or one of the ruleset's `missing_values`) are left missing and
/// counted; any other value must be a finite number.
///
/// # Examples
///
/// ```
/// use deidentify::transform::TransformSpec;
///
/// let spec: TransformSpec = serde_json::from_str(
///     r#"{ "type": "binning", "column": "age", "method": "equal-width", "bins": 4, "top": 90 }"#,
/// )?;
/// assert_eq!(spec.kind(), "binning");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TransformSpec {
    /// Binning of one numeric column into interval labels `[lo, hi)` (the
    /// last bin closed), with optional bottom-coding (`<bottom`) and
    /// top-coding (`>=top`) ([§7.1](crate::methods#71-binning-top-coding-and-bottom-coding); sdcMicro `globalRecode`). The
    /// fitted spec has `method = "breaks"` with the breaks actually used.
    Binning(ColumnBinning),
    /// Top- and bottom-coding of one numeric column, keeping it numeric
    /// (sdcMicro `topBotCoding`): values above `top` become `top_value`
    /// (default `top`), values below `bottom` become `bottom_value` (default
    /// `bottom`). Binning's `top`/`bottom` code into labels instead.
    TopBottomCoding {
        /// The column.
        column: String,
        /// Values strictly above this are top-coded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        top: Option<f64>,
        /// The replacement of top-coded values (default `top`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        top_value: Option<f64>,
        /// Values strictly below this are bottom-coded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bottom: Option<f64>,
        /// The replacement of bottom-coded values (default `bottom`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bottom_value: Option<f64>,
    },
    /// MDAV microaggregation of one or several numeric columns with group
    /// size `k` ([§7.2](crate::methods#72-microaggregation), [§5.3](crate::methods#53-il1s) for IL1s; [`crate::transform::mdav`]): every value is
    /// replaced by its group's mean. Rows with a missing cell in any of the
    /// columns are left out of the grouping and left as they are.
    Microaggregation {
        /// The columns, aggregated together (multivariate MDAV).
        columns: Vec<String>,
        /// The minimum group size (≥ 2).
        k: usize,
    },
    /// Statistical additive noise (sdcMicro `addNoise`; not differential
    /// privacy), N(0, p²·Σ) with Σ the columns' covariance (`correlated`) or
    /// its diagonal (`uncorrelated`). The fitted spec holds the seed and Σ.
    /// Rows with a missing cell in any of the columns are left as they are.
    AdditiveNoise {
        /// The columns.
        columns: Vec<String>,
        /// `uncorrelated` (default) or `correlated`.
        #[serde(default = "uncorrelated")]
        correlation: NoiseCorrelation,
        /// The noise standard deviation as a fraction p of each column's.
        fraction: f64,
        /// The seed of the noise (a `rand::rngs::StdRng` stream); drawn from
        /// the caller's RNG when absent. `StdRng`'s algorithm may change
        /// between major versions of `rand`, so a replay is exact with the
        /// same `rand` version.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
        /// The covariance matrix Σ the noise is scaled by; estimated from the
        /// complete rows (sample covariance) when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        covariance: Option<Vec<Vec<f64>>>,
    },
}

fn uncorrelated() -> NoiseCorrelation {
    NoiseCorrelation::Uncorrelated
}

impl TransformSpec {
    /// The `type` tag: `binning`, `top-bottom-coding`, `microaggregation` or
    /// `additive-noise`.
    pub fn kind(&self) -> &'static str {
        match self {
            TransformSpec::Binning(_) => "binning",
            TransformSpec::TopBottomCoding { .. } => "top-bottom-coding",
            TransformSpec::Microaggregation { .. } => "microaggregation",
            TransformSpec::AdditiveNoise { .. } => "additive-noise",
        }
    }

    /// The columns the transformation rewrites.
    pub fn columns(&self) -> Vec<String> {
        match self {
            TransformSpec::Binning(ColumnBinning { column, .. })
            | TransformSpec::TopBottomCoding { column, .. } => {
                vec![column.clone()]
            }
            TransformSpec::Microaggregation { columns, .. }
            | TransformSpec::AdditiveNoise { columns, .. } => columns.clone(),
        }
    }

    /// Checks the parameters without looking at data.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for: a binning without `bins`
    /// (equal-width, equal-frequency) or `breaks` (breaks), with the other
    /// one given, 0 bins, breaks that are not finite and strictly increasing,
    /// `bottom` ≥ `top`; top/bottom coding with neither bound, a non-finite
    /// bound or replacement, or `bottom` > `top`; microaggregation with k < 2;
    /// no columns or a column listed twice; noise with p ≤ 0 or a covariance
    /// that is not d × d.
    pub fn check(&self) -> Result<()> {
        let columns = self.columns();
        if columns.is_empty() {
            return Err(Error::parameter("columns", "at least one column is needed"));
        }
        if let Some(c) = columns
            .iter()
            .enumerate()
            .find_map(|(i, c)| columns[..i].contains(c).then_some(c))
        {
            return Err(Error::parameter(
                "columns",
                format!("column '{c}' is listed twice"),
            ));
        }
        let finite = |name: &str, v: Option<f64>| match v {
            Some(x) if !x.is_finite() => Err(Error::parameter(name, "must be a finite number")),
            _ => Ok(()),
        };
        match self {
            TransformSpec::Binning(_) => {
                self.binning()?;
            }
            TransformSpec::TopBottomCoding {
                top,
                top_value,
                bottom,
                bottom_value,
                ..
            } => {
                if top.is_none() && bottom.is_none() {
                    return Err(Error::parameter(
                        "top",
                        "top/bottom coding needs `top`, `bottom` or both",
                    ));
                }
                finite("top", *top)?;
                finite("top_value", *top_value)?;
                finite("bottom", *bottom)?;
                finite("bottom_value", *bottom_value)?;
                if let (Some(b), Some(t)) = (bottom, top)
                    && b > t
                {
                    return Err(Error::parameter(
                        "bottom",
                        format!("bottom {b} is above top {t}"),
                    ));
                }
            }
            TransformSpec::Microaggregation { k, .. } => {
                if *k < 2 {
                    return Err(Error::parameter(
                        "k",
                        format!("microaggregation needs groups of at least 2, got {k}"),
                    ));
                }
            }
            TransformSpec::AdditiveNoise {
                fraction,
                covariance,
                ..
            } => {
                if !(*fraction > 0.0 && fraction.is_finite()) {
                    return Err(Error::parameter(
                        "fraction",
                        format!("must be positive, got {fraction}"),
                    ));
                }
                if let Some(cov) = covariance {
                    check_covariance(cov, columns.len())?;
                }
            }
        }
        Ok(())
    }

    /// The [`Binning`] a binning spec describes (checked).
    pub(crate) fn binning(&self) -> Result<Binning> {
        let TransformSpec::Binning(ColumnBinning { binning, .. }) = self else {
            return Err(Error::parameter("type", "not a binning"));
        };
        let Binning {
            method,
            bottom,
            top,
        } = binning;
        match method {
            BinningMethod::EqualWidth { bins } | BinningMethod::EqualFrequency { bins } => {
                check_bins(*bins)?;
            }
            BinningMethod::Breaks { breaks } => {
                if breaks.len() < 2
                    || breaks.iter().any(|b| !b.is_finite())
                    || breaks.windows(2).any(|w| w[0] >= w[1])
                {
                    return Err(Error::parameter(
                        "breaks",
                        "at least two finite, strictly increasing numbers are needed",
                    ));
                }
            }
        }
        for (name, v) in [("bottom", bottom), ("top", top)] {
            if v.is_some_and(|x| !x.is_finite()) {
                return Err(Error::parameter(name, "must be a finite number"));
            }
        }
        if let (Some(b), Some(t)) = (bottom, top)
            && b >= t
        {
            return Err(Error::parameter(
                "top",
                format!("bottom coding {b} must be below top coding {t}"),
            ));
        }
        Ok(binning.clone())
    }

    /// Whether applying this spec is fully determined (nothing is drawn from
    /// the caller's RNG): true for everything but additive noise without a seed.
    pub fn is_seeded(&self) -> bool {
        !matches!(self, TransformSpec::AdditiveNoise { seed: None, .. })
    }
}

/// What one transformation did, for the audit trail ([§9.2](crate::methods#92-audit-trail)):
/// self-describing and replayable.
///
/// `parameters` is the *fitted* [`TransformSpec`] as JSON (with its `type`
/// tag): the breaks actually used by a binning, the group size of a
/// microaggregation, the fraction, covariance and seed of a noise.
/// [`TransformRecord::spec`] turns it back into a spec, and
/// [`crate::transform::replay_transforms`] replays a list of records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformRecord {
    /// The transformation's `type` (`binning`, `top-bottom-coding`,
    /// `microaggregation`, `additive-noise`).
    pub kind: String,
    /// The columns it rewrote.
    pub columns: Vec<String>,
    /// The fitted spec, as JSON.
    pub parameters: serde_json::Value,
    /// What the run found, not needed to replay it: the method asked for,
    /// values top- and bottom-coded, the number of MDAV groups and IL1s
    /// ([§5.3](crate::methods#53-il1s)), the complete rows used to fit.
    pub details: serde_json::Value,
    /// The number of values (cells, over all the columns) whose value changed.
    pub rows_affected: u64,
    /// The number of missing cells in the columns, left missing.
    pub missing_cells: u64,
}

impl TransformRecord {
    /// The fitted spec recorded in `parameters`.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when `parameters` is not a
    /// valid spec, its `type` differs from `kind`, or the spec is not seeded.
    pub fn spec(&self) -> Result<TransformSpec> {
        let spec: TransformSpec = serde_json::from_value(self.parameters.clone())
            .map_err(|e| Error::parameter("parameters", e.to_string()))?;
        if spec.kind() != self.kind {
            return Err(Error::parameter(
                "kind",
                format!(
                    "the record says '{}' but its parameters describe '{}'",
                    self.kind,
                    spec.kind()
                ),
            ));
        }
        if !spec.is_seeded() {
            return Err(Error::parameter(
                "seed",
                "a recorded noise must carry its seed to be replayed",
            ));
        }
        spec.check()?;
        Ok(spec)
    }
}

/// Checks a ruleset's `[[transform]]` entry against its attributes: the
/// parameters ([`TransformSpec::check`]), every column declared, and a type
/// that the transformed values have (interval labels are strings; means and
/// noisy values are decimals). `attributes` are the declared attributes'
/// (name, type), in order. Returns the reason of the first problem.
pub(crate) fn check_rule(
    spec: &TransformSpec,
    attributes: &[(&str, crate::data::attribute::AttributeType)],
) -> std::result::Result<(), String> {
    use crate::data::attribute::AttributeType;
    spec.check().map_err(|e| e.to_string())?;
    for column in spec.columns() {
        let &(_, ty) = attributes
            .iter()
            .find(|(name, _)| *name == column)
            .ok_or_else(|| format!("column '{column}' is not a declared attribute"))?;
        let fits = match spec {
            TransformSpec::Binning(_) => {
                matches!(ty, AttributeType::String | AttributeType::OrderedString)
            }
            TransformSpec::TopBottomCoding { .. } => ty != AttributeType::Date,
            TransformSpec::Microaggregation { .. } | TransformSpec::AdditiveNoise { .. } => {
                !matches!(ty, AttributeType::Integer | AttributeType::Date)
            }
        };
        if !fits {
            let needed = match spec {
                TransformSpec::Binning(_) => {
                    "its values become interval labels such as [10, 20); declare it as string or ordered-string"
                }
                _ => "its values become decimal numbers; declare it as decimal",
            };
            return Err(format!(
                "column '{column}' has type {}, but {needed}",
                ty.name()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binning_reads_and_writes_the_ruleset_shape() {
        let json = r#"{"type":"binning","column":"age","method":"breaks","breaks":[0.0,18.0,65.0],"top":90.0}"#;
        let spec: TransformSpec = serde_json::from_str(json).unwrap();
        let TransformSpec::Binning(ColumnBinning { column, binning }) = &spec else {
            panic!("not a binning: {spec:?}");
        };
        assert_eq!(column, "age");
        assert_eq!(
            binning.method,
            BinningMethod::Breaks {
                breaks: vec![0.0, 18.0, 65.0]
            }
        );
        assert_eq!((binning.bottom, binning.top), (None, Some(90.0)));
        assert_eq!(serde_json::to_string(&spec).unwrap(), json);
        let width = r#"{"type":"binning","column":"x","method":"equal-width","bins":4}"#;
        let spec: TransformSpec = serde_json::from_str(width).unwrap();
        assert_eq!(serde_json::to_string(&spec).unwrap(), width);
        assert_eq!(
            spec.binning().unwrap().method,
            BinningMethod::EqualWidth { bins: 4 }
        );
    }

    #[test]
    fn toml_shapes_and_checks() {
        #[derive(Deserialize)]
        struct File {
            transform: Vec<TransformSpec>,
        }
        let text = r#"
            [[transform]]
            type = "binning"
            column = "age"
            method = "equal-frequency"
            bins = 4
            top = 90

            [[transform]]
            type = "top-bottom-coding"
            column = "income"
            top = 100000

            [[transform]]
            type = "microaggregation"
            columns = ["height", "weight"]
            k = 3

            [[transform]]
            type = "additive-noise"
            columns = ["income"]
            fraction = 0.1
            seed = 7
        "#;
        let file: File = toml::from_str(text).unwrap();
        let kinds: Vec<&str> = file.transform.iter().map(TransformSpec::kind).collect();
        assert_eq!(
            kinds,
            [
                "binning",
                "top-bottom-coding",
                "microaggregation",
                "additive-noise"
            ]
        );
        for spec in &file.transform {
            spec.check().unwrap();
        }
        assert!(file.transform[3].is_seeded());
        // Unknown fields are typos, not silently ignored.
        let typo =
            "[[transform]]\ntype = \"microaggregation\"\ncolumns = [\"a\"]\nk = 3\nsize = 4\n";
        assert!(toml::from_str::<File>(typo).is_err());
        let bad = |json: &str| {
            serde_json::from_str::<TransformSpec>(json)
                .unwrap()
                .check()
                .is_err()
        };
        // A method without its parameter, or with the other's, does not parse.
        let shape = |json: &str| {
            serde_json::from_str::<TransformSpec>(json)
                .unwrap_err()
                .to_string()
        };
        assert!(
            shape(r#"{"type":"binning","column":"a","method":"equal-width"}"#)
                .contains("take `bins` (and no `breaks`)")
        );
        assert!(
            shape(r#"{"type":"binning","column":"a","method":"breaks","bins":3}"#)
                .contains("takes `breaks` (and no `bins`)")
        );
        let typo = r#"{"type":"binning","column":"a","method":"equal-width","bins":2,"bin":3}"#;
        assert!(
            shape(typo).contains("unknown field `bin`"),
            "{}",
            shape(typo)
        );
        assert!(bad(
            r#"{"type":"binning","column":"a","method":"breaks","breaks":[1,1]}"#
        ));
        assert!(bad(
            r#"{"type":"binning","column":"a","method":"equal-width","bins":0}"#
        ));
        assert!(bad(
            r#"{"type":"binning","column":"a","method":"equal-width","bins":2,"bottom":5,"top":5}"#
        ));
        assert!(bad(r#"{"type":"top-bottom-coding","column":"a"}"#));
        assert!(bad(r#"{"type":"microaggregation","columns":["a"],"k":1}"#));
        assert!(bad(r#"{"type":"microaggregation","columns":[],"k":3}"#));
        assert!(bad(
            r#"{"type":"microaggregation","columns":["a","a"],"k":3}"#
        ));
        assert!(bad(
            r#"{"type":"additive-noise","columns":["a"],"fraction":0}"#
        ));
        assert!(bad(
            r#"{"type":"additive-noise","columns":["a"],"fraction":0.1,"covariance":[[1,0]]}"#
        ));
    }

    #[test]
    fn rules_are_checked_against_declared_names_and_types() {
        use crate::data::attribute::AttributeType;
        let spec = |json: &str| -> TransformSpec { serde_json::from_str(json).unwrap() };
        let declared = [
            ("age", AttributeType::String),
            ("income", AttributeType::Decimal),
            ("visits", AttributeType::Integer),
        ];
        let binning = spec(r#"{"type":"binning","column":"age","method":"equal-width","bins":2}"#);
        assert_eq!(check_rule(&binning, &declared), Ok(()));
        let noise = spec(r#"{"type":"additive-noise","columns":["income"],"fraction":0.1}"#);
        assert_eq!(check_rule(&noise, &declared), Ok(()));
        let wrong_type = spec(r#"{"type":"additive-noise","columns":["visits"],"fraction":0.1}"#);
        assert_eq!(
            check_rule(&wrong_type, &declared),
            Err("column 'visits' has type integer, but its values become decimal numbers; declare it as decimal".to_owned())
        );
        let undeclared = spec(r#"{"type":"top-bottom-coding","column":"wage","top":5}"#);
        assert_eq!(
            check_rule(&undeclared, &declared),
            Err("column 'wage' is not a declared attribute".to_owned())
        );
    }
}

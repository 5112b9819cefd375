//! Applying and replaying configured transformations on a `DataFrame`
//! ([§7](crate::methods#7-transformations-of-columns)).

use polars::prelude::{Column, DataFrame, DataType};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use serde_json::json;

use crate::error::{Error, ErrorKind, Result};
use crate::hierarchy::builder::interval::number;
use crate::transform::additive_noise::{AdditiveNoise, covariance};
use crate::transform::binning::{Binning, BinningMethod};
use crate::transform::mdav::mdav;
use crate::transform::spec::{ColumnBinning, TransformRecord, TransformSpec};

/// Applies `specs` in order to `frame` and records each step (null and
/// blank cells are missing and stay missing; see
/// [`apply_transforms_with_missing`] for markers such as `?`).
///
/// Unseeded additive noise draws its seed from `rng` (production use seeds
/// `rng` from the operating system); the seed is recorded, so the records
/// replay exactly with [`replay_transforms`].
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] for a column not in the frame;
/// [`ErrorKind::InvalidValue`] for a cell that is not a finite number
/// (naming column, 1-based row and value), or outside explicit breaks
/// without top- or bottom-coding; [`ErrorKind::InvalidParameter`] for the
/// errors of [`TransformSpec::check`] and of the transformations themselves
/// (fewer complete rows than k, a covariance that is not positive definite).
///
/// # Examples
///
/// ```
/// use deidentify::transform::{TransformSpec, apply_transforms, replay_transforms};
/// use polars::prelude::{Column, DataFrame};
/// use rand::SeedableRng;
///
/// let frame = DataFrame::new(4, vec![Column::new("age".into(), ["23", "35", "", "61"])])?;
/// let specs: Vec<TransformSpec> = serde_json::from_str(
///     r#"[{ "type": "binning", "column": "age", "method": "equal-frequency", "bins": 2 }]"#,
/// )?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let (binned, records) = apply_transforms(frame.clone(), &specs, &mut rng)?;
/// assert_eq!(records[0].missing_cells, 1);
/// let (replayed, _) = replay_transforms(frame, &records)?;
/// assert!(binned.equals_missing(&replayed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply_transforms<R: Rng + ?Sized>(
    frame: DataFrame,
    specs: &[TransformSpec],
    rng: &mut R,
) -> Result<(DataFrame, Vec<TransformRecord>)> {
    apply_transforms_with_missing(frame, specs, &[], rng)
}

/// As [`apply_transforms`], with cells equal to one of `missing_values`
/// (the ruleset's `[data] missing_values`) also treated as missing: they
/// come out as nulls, which encoding treats as missing too.
///
/// # Errors
///
/// As [`apply_transforms`].
pub fn apply_transforms_with_missing<R: Rng + ?Sized>(
    mut frame: DataFrame,
    specs: &[TransformSpec],
    missing_values: &[String],
    rng: &mut R,
) -> Result<(DataFrame, Vec<TransformRecord>)> {
    let mut records = Vec::with_capacity(specs.len());
    for spec in specs {
        spec.check()?;
        let seeded = match spec {
            TransformSpec::AdditiveNoise {
                columns,
                correlation,
                fraction,
                seed: None,
                covariance,
            } => TransformSpec::AdditiveNoise {
                columns: columns.clone(),
                correlation: *correlation,
                fraction: *fraction,
                seed: Some(rng.random::<u64>()),
                covariance: covariance.clone(),
            },
            other => other.clone(),
        };
        let record;
        (frame, record) = apply_step(frame, &seeded, missing_values)?;
        records.push(record);
    }
    Ok((frame, records))
}

/// Replays recorded transformations (from [`apply_transforms`], possibly
/// through JSON) on `frame`: on the same data the output equals the
/// original run's; on new data the same fitted breaks, covariance and seed are used.
///
/// # Errors
///
/// As [`apply_transforms`], and [`TransformRecord::spec`]'s errors.
pub fn replay_transforms(
    frame: DataFrame,
    records: &[TransformRecord],
) -> Result<(DataFrame, Vec<TransformRecord>)> {
    replay_transforms_with_missing(frame, records, &[])
}

/// As [`replay_transforms`], with missing-value markers as in
/// [`apply_transforms_with_missing`].
///
/// # Errors
///
/// As [`replay_transforms`].
pub fn replay_transforms_with_missing(
    mut frame: DataFrame,
    records: &[TransformRecord],
    missing_values: &[String],
) -> Result<(DataFrame, Vec<TransformRecord>)> {
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        let spec = record.spec()?;
        let replayed;
        (frame, replayed) = apply_step(frame, &spec, missing_values)?;
        out.push(replayed);
    }
    Ok((frame, out))
}

/// A numeric column read from the frame.
struct Numeric {
    /// One value per row; `None` for a missing cell.
    values: Vec<Option<f64>>,
    /// Whether the column holds text (written back as text).
    text: bool,
}

impl Numeric {
    fn missing(&self) -> u64 {
        self.values.iter().filter(|v| v.is_none()).count() as u64
    }
}

fn frame_error(e: impl std::fmt::Display) -> Error {
    ErrorKind::Parse {
        path: "<transform>".into(),
        reason: e.to_string(),
    }
    .into()
}

fn invalid(column: &str, row: usize, value: impl Into<String>, expected: &str) -> Error {
    ErrorKind::InvalidValue {
        column: column.to_owned(),
        row: row + 1,
        value: value.into(),
        expected: expected.to_owned(),
    }
    .into()
}

/// Reads `name` as numbers: text is trimmed and parsed, numbers are taken
/// as they are; nulls, blank text and `missing_values` are missing.
fn read_numeric(frame: &DataFrame, name: &str, missing_values: &[String]) -> Result<Numeric> {
    let column = frame.column(name).map_err(|_| {
        Error::new(ErrorKind::UnknownColumn {
            column: name.to_owned(),
            available: frame
                .get_column_names()
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    })?;
    const EXPECTED: &str = "finite number";
    if column.dtype().is_primitive_numeric() {
        let cast = column.cast(&DataType::Float64).map_err(frame_error)?;
        let values = cast.f64().map_err(frame_error)?;
        let values = values
            .iter()
            .enumerate()
            .map(|(row, v)| match v {
                Some(x) if !x.is_finite() => Err(invalid(name, row, x.to_string(), EXPECTED)),
                other => Ok(other),
            })
            .collect::<Result<_>>()?;
        return Ok(Numeric {
            values,
            text: false,
        });
    }
    let cast = column.cast(&DataType::String).map_err(frame_error)?;
    let text = cast.str().map_err(frame_error)?;
    let values = text
        .iter()
        .enumerate()
        .map(|(row, v)| match v {
            None => Ok(None),
            Some(s) if s.trim().is_empty() || missing_values.iter().any(|m| m == s) => Ok(None),
            Some(s) => match s.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(invalid(name, row, s, EXPECTED)),
            },
        })
        .collect::<Result<_>>()?;
    Ok(Numeric { values, text: true })
}

/// Writes numbers back under `name`: as text (shortest round-trip form,
/// whole numbers without a decimal point) when the column was text.
fn write_numeric(
    frame: &mut DataFrame,
    name: &str,
    values: &[Option<f64>],
    text: bool,
) -> Result<()> {
    let column = if text {
        let out: Vec<Option<String>> = values.iter().map(|v| v.map(number)).collect();
        Column::new(name.into(), out)
    } else {
        Column::new(name.into(), values.to_vec())
    };
    frame.with_column(column).map_err(frame_error)?;
    Ok(())
}

/// The rows where every column has a value.
fn complete_rows(columns: &[Numeric]) -> Vec<usize> {
    let n = columns.first().map_or(0, |c| c.values.len());
    (0..n)
        .filter(|&i| columns.iter().all(|c| c.values[i].is_some()))
        .collect()
}

/// The complete rows and, per column, its values on them.
fn complete_data(columns: &[Numeric]) -> (Vec<usize>, Vec<Vec<f64>>) {
    let rows = complete_rows(columns);
    let data = columns
        .iter()
        .map(|c| {
            rows.iter()
                .map(|&i| c.values[i].unwrap_or_default())
                .collect()
        })
        .collect();
    (rows, data)
}

/// Writes `results` (one vector per column, over `rows`) into the frame's
/// columns `names`, other rows unchanged; returns the number of values changed.
fn write_back(
    frame: &mut DataFrame,
    names: &[String],
    inputs: &[Numeric],
    rows: &[usize],
    results: &[Vec<f64>],
) -> Result<u64> {
    let mut changed = 0u64;
    for ((name, input), result) in names.iter().zip(inputs).zip(results) {
        let mut out = input.values.clone();
        for (&i, &y) in rows.iter().zip(result) {
            changed += u64::from(out[i] != Some(y));
            out[i] = Some(y);
        }
        write_numeric(frame, name, &out, input.text)?;
    }
    Ok(changed)
}

/// Applies one (seeded) spec and records it with its fitted parameters.
fn apply_step(
    mut frame: DataFrame,
    spec: &TransformSpec,
    missing_values: &[String],
) -> Result<(DataFrame, TransformRecord)> {
    spec.check()?;
    let names = spec.columns();
    let inputs = names
        .iter()
        .map(|n| read_numeric(&frame, n, missing_values))
        .collect::<Result<Vec<_>>>()?;
    let missing_cells = inputs.iter().map(Numeric::missing).sum();
    let (fitted, details, rows_affected) = match spec {
        TransformSpec::Binning(binning) => {
            apply_binning(&mut frame, spec, &binning.column, &inputs[0])?
        }
        TransformSpec::TopBottomCoding {
            column,
            top,
            top_value,
            bottom,
            bottom_value,
        } => apply_top_bottom_coding(
            &mut frame,
            column,
            *top,
            *top_value,
            *bottom,
            *bottom_value,
            &inputs[0],
        )?,
        TransformSpec::Microaggregation { columns, k } => {
            let (rows, data) = complete_data(&inputs);
            let result = mdav(&data, *k)?;
            let changed = write_back(&mut frame, columns, &inputs, &rows, &result.columns)?;
            let details = json!({
                "complete_rows": rows.len(),
                "group_count": result.group_count,
                "il1s": result.il1s,
            });
            (spec.clone(), details, changed)
        }
        TransformSpec::AdditiveNoise {
            columns,
            correlation,
            fraction,
            seed,
            covariance: given,
        } => {
            let seed = seed.ok_or_else(|| {
                Error::parameter("seed", "the noise seed must be drawn before applying")
            })?;
            let noise = AdditiveNoise {
                correlation: *correlation,
                fraction: *fraction,
            };
            apply_additive_noise(&mut frame, columns, &inputs, noise, seed, given)?
        }
    };
    let parameters =
        serde_json::to_value(&fitted).map_err(|e| Error::parameter("parameters", e.to_string()))?;
    Ok((
        frame,
        TransformRecord {
            kind: spec.kind().to_owned(),
            columns: names,
            parameters,
            details,
            rows_affected,
            missing_cells,
        },
    ))
}

/// What applying a spec gives: the fitted spec, details for the record and
/// the number of rows affected.
type Applied = (TransformSpec, serde_json::Value, u64);

/// Applies the binning `spec` to `column` (read as `input`).
fn apply_binning(
    frame: &mut DataFrame,
    spec: &TransformSpec,
    column: &str,
    input: &Numeric,
) -> Result<Applied> {
    let binning = spec.binning()?;
    check_within_breaks(column, input, &binning)?;
    let present: Vec<f64> = input.values.iter().flatten().copied().collect();
    let binned = binning.apply(&present)?;
    let mut labels = binned.labels.iter();
    let out: Vec<Option<String>> = input
        .values
        .iter()
        .map(|v| v.and_then(|_| labels.next().cloned()))
        .collect();
    frame
        .with_column(Column::new(column.into(), out))
        .map_err(frame_error)?;
    let fitted = TransformSpec::Binning(ColumnBinning {
        column: column.to_owned(),
        binning: Binning {
            method: BinningMethod::Breaks {
                breaks: binned.breaks.clone(),
            },
            bottom: binning.bottom,
            top: binning.top,
        },
    });
    let details = json!({
        "requested": binning.method,
        "bins": binned.breaks.len() - 1,
        "bottom_coded": binned.coded.0,
        "top_coded": binned.coded.1,
    });
    Ok((fitted, details, present.len() as u64))
}

/// With explicit breaks, checks that every value of `column` not top- or
/// bottom-coded lies within them.
fn check_within_breaks(
    column: &str,
    input: &Numeric,
    binning: &crate::transform::binning::Binning,
) -> Result<()> {
    if let BinningMethod::Breaks { breaks } = &binning.method {
        let (lo, hi) = (breaks[0], breaks[breaks.len() - 1]);
        for (row, v) in input.values.iter().enumerate() {
            if let Some(x) = *v {
                let coded =
                    binning.bottom.is_some_and(|b| x < b) || binning.top.is_some_and(|t| x >= t);
                if !coded && !(lo..=hi).contains(&x) {
                    return Err(invalid(
                        column,
                        row,
                        number(x),
                        &format!(
                            "number within the breaks [{}, {}] (or add top or bottom coding)",
                            number(lo),
                            number(hi)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Applies top- and bottom-coding to `column` (read as `input`).
fn apply_top_bottom_coding(
    frame: &mut DataFrame,
    column: &str,
    top: Option<f64>,
    top_value: Option<f64>,
    bottom: Option<f64>,
    bottom_value: Option<f64>,
    input: &Numeric,
) -> Result<Applied> {
    let top_value = top.map(|t| top_value.unwrap_or(t));
    let bottom_value = bottom.map(|b| bottom_value.unwrap_or(b));
    let (mut top_coded, mut bottom_coded, mut changed) = (0u64, 0u64, 0u64);
    let out: Vec<Option<f64>> = input
        .values
        .iter()
        .map(|v| {
            v.map(|x| {
                let y = match (top.zip(top_value), bottom.zip(bottom_value)) {
                    (Some((t, tv)), _) if x > t => {
                        top_coded += 1;
                        tv
                    }
                    (_, Some((b, bv))) if x < b => {
                        bottom_coded += 1;
                        bv
                    }
                    _ => x,
                };
                changed += u64::from(y != x);
                y
            })
        })
        .collect();
    write_numeric(frame, column, &out, input.text)?;
    let fitted = TransformSpec::TopBottomCoding {
        column: column.to_owned(),
        top,
        top_value,
        bottom,
        bottom_value,
    };
    let details = json!({ "top_coded": top_coded, "bottom_coded": bottom_coded });
    Ok((fitted, details, changed))
}

/// Adds `noise` (seeded with `seed`, with the `given` covariance or the
/// data's) to the complete rows of `columns` (read as `inputs`).
fn apply_additive_noise(
    frame: &mut DataFrame,
    columns: &[String],
    inputs: &[Numeric],
    noise: AdditiveNoise,
    seed: u64,
    given: &Option<Vec<Vec<f64>>>,
) -> Result<Applied> {
    let (rows, data) = complete_data(inputs);
    if rows.len() < 2 {
        return Err(Error::parameter(
            "columns",
            format!(
                "additive noise needs at least 2 complete rows, found {}",
                rows.len()
            ),
        ));
    }
    let cov = given.clone().unwrap_or_else(|| covariance(&data));
    let noisy = noise.apply_with_covariance(&data, &cov, &mut StdRng::seed_from_u64(seed))?;
    let changed = write_back(frame, columns, inputs, &rows, &noisy)?;
    let fitted = TransformSpec::AdditiveNoise {
        columns: columns.to_vec(),
        correlation: noise.correlation,
        fraction: noise.fraction,
        seed: Some(seed),
        covariance: Some(cov),
    };
    Ok((fitted, json!({ "complete_rows": rows.len() }), changed))
}

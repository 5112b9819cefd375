//! Counting the frequency table on Spark.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};
use serde_json::Value;

use crate::data::attribute::Attribute;
use crate::data::parquet_check::check_parquet_file;
use crate::error::{Error, ErrorKind, Result};
use crate::ruleset::Ruleset;
use crate::spark::SparkEngine;
use crate::spark::job::{JobDir, input_spec};
use crate::spark::submit::{Outcome, submit};
use crate::stream::{CountedRows, StreamOptions, StreamedTable};

impl SparkEngine {
    /// Counts the frequency table of the ruleset's data file on Spark, at
    /// the node of `options.min_levels` (the bottom node by default), and
    /// returns it ready to search: equal to [`StreamedTable::from_ruleset`] on
    /// the same file (the same classes, counts and histograms; codes may be
    /// numbered in another order).
    ///
    /// Spark generalizes the columns with minimum levels (hierarchies from
    /// files; their value → label tables are written here), groups the
    /// tuples and counts them, and counts the raw values of those columns,
    /// in one pass (`GROUPING SETS`); it also counts the rows apart. Here
    /// every value is checked (type, hierarchy, missing-value policy) and the
    /// counts must add up to Spark's row count. `options.batch_rows` and
    /// `options.staging_key` do not apply (Spark reads the file; what it
    /// writes is not encrypted and is removed when the call returns).
    ///
    /// # Errors
    ///
    /// Those of [`StreamedTable::from_ruleset`] for the ruleset and the
    /// values (a value missing from a hierarchy names the column, the
    /// value's shape and how many rows hold it, since Spark numbers no
    /// rows); [`ErrorKind::InvalidParameter`] when `spark-submit` cannot be
    /// run, when the job fails (with the exception Spark reported: an
    /// unreadable path, a malformed CSV record, a lost cluster), for a column
    /// of a floating-point or nested Parquet type, or when what Spark
    /// returned does not add up.
    pub fn count(&self, ruleset: &Ruleset, options: &StreamOptions) -> Result<StreamedTable> {
        let (source, attributes, file_hierarchies) = StreamedTable::prepare(ruleset, options)?;
        let job = JobDir::create(self)?;
        let mut maps = Vec::new();
        for (i, a) in attributes.iter().enumerate() {
            let level = options.min_levels.get(&a.name).copied().unwrap_or(0) as usize;
            maps.push(match file_hierarchies.get(&a.name) {
                Some(h) if level > 0 => {
                    let (values, labels) = h
                        .rows()
                        .iter()
                        .map(|row| (row[0].clone(), row[level].clone()))
                        .unzip();
                    Some(job.write_table(
                        &format!("map-{i}.parquet"),
                        vec![("value".into(), values), ("label".into(), labels)],
                    )?)
                }
                _ => None,
            });
        }
        let listed: Vec<&Attribute> = attributes.iter().collect();
        let mut spec = input_spec(
            &source.path,
            source.format,
            &source.missing_values,
            source.missing_policy,
            &source.missing_label,
            &listed,
            &maps,
            self,
        )?;
        let output = job.join("counted");
        spec["action"] = "count".into();
        spec["output"] = output.display().to_string().into();
        let (driver, job_file) = job.write_job(&spec)?;
        let result = match submit(self, &driver, &job_file, "counting")? {
            Outcome::Done(result) => result,
            Outcome::DataError(error) => return Err(data_error(&error, &attributes, &source.path)),
        };
        let header = string_list(&result["header"], "header")?;
        let rows = result["rows"]
            .as_u64()
            .ok_or_else(|| returned("no row count"))?;
        let frame = read_parts(&output)?;
        let counted = counted_rows(&frame, &attributes, &maps, header, rows)?;
        StreamedTable::from_counted(ruleset, options, &counted)
    }
}

/// The error for what the driver found wrong with the data.
pub(super) fn data_error(error: &Value, attributes: &[Attribute], path: &Path) -> Error {
    match error["reason"].as_str() {
        Some("columns") => {
            let header = string_list(&error["header"], "header").unwrap_or_default();
            match crate::stream::check_columns(&header, attributes, path) {
                Err(e) => e,
                Ok(()) => ErrorKind::Parse {
                    path: path.to_path_buf(),
                    reason: "the header names a column twice".into(),
                }
                .into(),
            }
        }
        Some("type") => ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: format!(
                "column '{}' has the Parquet type {}, which the Spark path does not read (its text \
                 form differs between engines): store it as text, an integer, a decimal or a date",
                error["column"].as_str().unwrap_or("?"),
                error["type"].as_str().unwrap_or("?")
            ),
        }
        .into(),
        Some("exists") => Error::parameter(
            "output",
            format!(
                "{} exists; the release never replaces a file",
                error["path"].as_str().unwrap_or("?")
            ),
        ),
        _ => returned(&format!("an error it does not explain: {error}")),
    }
}

/// An error for a Spark job that returned something this crate cannot use.
pub(super) fn returned(what: &str) -> Error {
    Error::parameter("spark", format!("the Spark job returned {what}"))
}

/// A JSON list of strings.
pub(super) fn string_list(value: &Value, what: &str) -> Result<Vec<String>> {
    serde_json::from_value(value.clone()).map_err(|_| returned(&format!("no {what}")))
}

/// The Parquet files Spark wrote under `folder` (after checking that the
/// job committed them), read into one frame.
pub(super) fn read_parts(folder: &Path) -> Result<DataFrame> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ErrorKind::Io { path, source }
    };
    if !folder.join("_SUCCESS").exists() {
        return Err(returned(
            "an output without _SUCCESS (the job did not commit)",
        ));
    }
    let mut parts: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(io(folder))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(io(folder))?;
    parts.retain(|p| p.extension().is_some_and(|e| e == "parquet"));
    parts.sort();
    let mut frame: Option<DataFrame> = None;
    for part in &parts {
        let mut file = File::open(part).map_err(io(part))?;
        check_parquet_file(part, &mut file)?;
        let read = crate::data::input::decode(part, || ParquetReader::new(file).finish())?;
        frame = Some(match frame {
            None => read,
            Some(mut all) => {
                all.vstack_mut(&read)
                    .map_err(|e| returned(&format!("parts of different shapes ({e})")))?;
                all
            }
        });
    }
    frame.ok_or_else(|| returned("no Parquet part"))
}

/// The text values of column `name` of `frame`.
pub(super) fn text_column(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let column = frame
        .column(name)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|e| returned(&format!("no column {name} ({e})")))?;
    let values = column
        .str()
        .map_err(|e| returned(&format!("column {name} not as text ({e})")))?;
    Ok(values.iter().map(|v| v.map(str::to_owned)).collect())
}

/// The integers of column `name` of `frame` (no nulls).
fn integer_column(frame: &DataFrame, name: &str) -> Result<Vec<i64>> {
    let column = frame
        .column(name)
        .and_then(|c| c.cast(&DataType::Int64))
        .map_err(|e| returned(&format!("no column {name} ({e})")))?;
    let values = column
        .i64()
        .map_err(|e| returned(&format!("column {name} not as integers ({e})")))?;
    values
        .iter()
        .map(|v| v.ok_or_else(|| returned(&format!("a null in {name}"))))
        .collect()
}

/// The counted tuples and value counts in the frame Spark wrote: the rows
/// of the tuple grouping set, of each encoded column's own set and of each
/// generalized column's raw set (told apart by `grouping_id()`), each
/// ordered by its first row.
fn counted_rows(
    frame: &DataFrame,
    attributes: &[Attribute],
    maps: &[Option<PathBuf>],
    header: Vec<String>,
    rows: u64,
) -> Result<CountedRows> {
    // The driver's columns: c<i> for each encoded attribute i (spec order),
    // then r<i> for each generalized one; grouping_id() has one bit per
    // column, set when the column is not grouped, the first column's the
    // highest.
    let keys: Vec<usize> = (0..attributes.len())
        .filter(|&i| attributes[i].role.is_encoded())
        .collect();
    let raws: Vec<usize> = keys
        .iter()
        .copied()
        .filter(|&i| maps[i].is_some())
        .collect();
    let width = keys.len() + raws.len();
    let all = (1i64 << width) - 1;
    let tuple_set = (1i64 << raws.len()) - 1;
    // The set of the column at position p alone (one key alone is the tuple set).
    let alone = |p: usize| {
        if p < keys.len() && keys.len() == 1 {
            tuple_set
        } else {
            all & !(1i64 << (width - 1 - p))
        }
    };
    let group = integer_column(frame, "g")?;
    let n = integer_column(frame, "n")?;
    let first = integer_column(frame, "first")?;
    let known: Vec<i64> = std::iter::once(tuple_set)
        .chain((0..width).map(alone))
        .collect();
    if let Some(g) = group.iter().find(|g| !known.contains(g)) {
        return Err(returned(&format!("rows of an unknown grouping set {g}")));
    }
    // The rows of one set, in order of first appearance.
    let take = |set: i64| -> Vec<usize> {
        let mut taken: Vec<usize> = (0..group.len()).filter(|&r| group[r] == set).collect();
        taken.sort_by_key(|&r| first[r]);
        taken
    };
    let count = |r: usize| -> Result<u64> {
        u64::try_from(n[r])
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| returned("a count below 1"))
    };
    let tuple_rows = take(tuple_set);
    let counts = tuple_rows
        .iter()
        .map(|&r| count(r))
        .collect::<Result<Vec<_>>>()?;
    // Encoded columns in header order, as the streamed table has them.
    let mut values = Vec::new();
    let mut seen = Vec::new();
    for name in &header {
        let Some(p) = keys.iter().position(|&i| &attributes[i].name == name) else {
            continue;
        };
        let i = keys[p];
        let column = text_column(frame, &format!("c{i}"))?;
        values.push(tuple_rows.iter().map(|&r| column[r].clone()).collect());
        let (set, raw) = match raws.iter().position(|&j| j == i) {
            Some(j) => (alone(keys.len() + j), text_column(frame, &format!("r{i}"))?),
            None => (alone(p), column),
        };
        seen.push(
            take(set)
                .into_iter()
                .map(|r| Ok((raw[r].clone(), count(r)?)))
                .collect::<Result<Vec<_>>>()?,
        );
    }
    Ok(CountedRows {
        header,
        seen,
        values,
        counts,
        rows,
        engine: "Spark",
    })
}

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
use crate::spark::job::{DRIVER_PREFIX, JobDir, driver_column, input_spec, uri};
use crate::spark::submit::{Outcome, submit};
use crate::stream::{CountedTable, StreamOptions, StreamedTable};

impl SparkEngine {
    /// Counts the frequency table of the ruleset's data file on Spark, at
    /// the node of `options.min_levels` (the bottom node by default), and
    /// returns it ready to search: equal to [`StreamedTable::from_ruleset`] on
    /// the same file (the same codes, classes in the same order, counts and
    /// histograms).
    ///
    /// Spark generalizes the columns with minimum levels (hierarchies from
    /// files; their value → label tables are written here), and counts the
    /// tuples and every column's raw values with the row each first appears
    /// in, in one aggregation (`GROUPING SETS`); it also counts the rows apart. Here
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
    /// unreadable path, a malformed CSV record, a lost cluster), for a
    /// staging key in `options` (Spark writes plaintext), for more than 62
    /// encoded and generalized columns, or when what Spark returned does not
    /// add up; [`ErrorKind::Parse`] for a Parquet column of a type other than
    /// text, integer, decimal, date or boolean, or a column named like the
    /// driver's own (`__deid_…`).
    pub fn count(&self, ruleset: &Ruleset, options: &StreamOptions) -> Result<StreamedTable> {
        if options.staging_key.is_some() {
            return Err(Error::parameter(
                "staging_key",
                "Spark writes its files in plaintext: a staging key cannot be honoured on Spark",
            ));
        }
        let (source, attributes, file_hierarchies) = StreamedTable::prepare(ruleset, options)?;
        let encoded = attributes.iter().filter(|a| a.role.is_encoded()).count();
        let generalized = options.min_levels.values().filter(|&&l| l > 0).count();
        if encoded + generalized > 62 {
            return Err(Error::parameter(
                "attributes",
                format!(
                    "{encoded} encoded columns and {generalized} generalized while counting: Spark's \
                     grouping_id() holds at most 62; count in process"
                ),
            ));
        }
        let job = JobDir::create(self)?;
        let mut maps = Vec::new();
        for (i, a) in attributes.iter().enumerate() {
            let level = options.min_levels.get(&a.name).copied().unwrap_or(0) as usize;
            maps.push(match file_hierarchies.get(&a.name) {
                Some(h) if level > 0 => {
                    let pairs = h
                        .rows()
                        .iter()
                        .map(|row| (row[0].clone(), row[level].clone()))
                        .collect();
                    Some(job.write_map(&format!("map-{i}.parquet"), pairs)?)
                }
                _ => None,
            });
        }
        let listed: Vec<&Attribute> = attributes.iter().collect();
        let mut spec = input_spec(ruleset, &listed, &maps, self)?;
        let output = job.join("counted");
        spec["action"] = "count".into();
        spec["output"] = uri(&output)?.into();
        let (driver, job_file) = job.write_job(&spec)?;
        let result = match submit(self, &driver, &job_file, "counting")? {
            Outcome::Done(result) => result,
            Outcome::DataError(error) => return Err(data_error(&error, &attributes, &source.path)),
        };
        let header = string_list(&result["header"], "header")?;
        let rows = result["rows"]
            .as_u64()
            .ok_or_else(|| returned("no row count"))?;
        let mut counted = CountedTable::new(ruleset, options, &header, "Spark")?;
        let layout = Layout::new(&attributes, &maps, &counted);
        for part in parts(&output)? {
            let frame = read_part(&part)?;
            layout.feed(&frame, &mut counted)?;
        }
        counted.finish(rows)
    }
}

/// The error for what the driver found wrong with the data.
pub(super) fn data_error(error: &Value, attributes: &[Attribute], path: &Path) -> Error {
    match error["reason"].as_str() {
        Some("columns") => {
            let header = string_list(&error["header"], "header").unwrap_or_default();
            match crate::stream::check_columns(&header, attributes, path) {
                Err(e) => e,
                Ok(()) => returned("a header it does not explain"),
            }
        }
        Some("reserved") => ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: format!(
                "column '{}' starts with '{DRIVER_PREFIX}', which the Spark driver keeps for its own columns",
                error["column"].as_str().unwrap_or("?")
            ),
        }
        .into(),
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

/// The Parquet files Spark wrote under `folder`, in order (part-00000, …),
/// after checking that the job committed them.
pub(super) fn parts(folder: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| ErrorKind::Io {
        path: folder.to_path_buf(),
        source,
    };
    if !folder.join("_SUCCESS").exists() {
        return Err(returned(
            "an output without _SUCCESS (the job did not commit)",
        ));
    }
    let mut parts: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(io)?;
    parts.retain(|p| p.extension().is_some_and(|e| e == "parquet"));
    parts.sort();
    Ok(parts)
}

/// One Parquet part file.
fn read_part(part: &Path) -> Result<DataFrame> {
    let mut file = File::open(part).map_err(|source| ErrorKind::Io {
        path: part.to_path_buf(),
        source,
    })?;
    check_parquet_file(part, &mut file)?;
    crate::data::input::decode(part, || ParquetReader::new(file).finish())
}

/// The text column `name` of `frame`.
fn text_column(frame: &DataFrame, name: &str) -> Result<polars::prelude::StringChunked> {
    let column = frame
        .column(name)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|e| returned(&format!("no column {name} ({e})")))?;
    column
        .str()
        .cloned()
        .map_err(|e| returned(&format!("column {name} not as text ({e})")))
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

/// How the rows Spark wrote map onto the counted table. The driver's
/// columns are c<i> for each encoded attribute i (spec order), then r<i>
/// for each generalized one; `grouping_id()` has one bit per column, set
/// when the column is not grouped, the first column's the highest. The
/// tuple set has the smallest id, and the driver sorts by id descending,
/// then by first row: every column's values come before the tuples.
struct Layout {
    /// The tuple set's id.
    tuple_set: i64,
    /// Per encoded column (header order): its tuple column and the id and
    /// column of its raw-value set.
    columns: Vec<(String, i64, String)>,
}

impl Layout {
    fn new(
        attributes: &[Attribute],
        maps: &[Option<PathBuf>],
        counted: &CountedTable<'_>,
    ) -> Layout {
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
        let columns = counted
            .encoded_names()
            .into_iter()
            .map(|name| {
                let p = keys
                    .iter()
                    .position(|&i| attributes[i].name == name)
                    .expect("an encoded column");
                let i = keys[p];
                match raws.iter().position(|&j| j == i) {
                    Some(j) => (
                        driver_column("c", i),
                        alone(keys.len() + j),
                        driver_column("r", i),
                    ),
                    None => (driver_column("c", i), alone(p), driver_column("c", i)),
                }
            })
            .collect();
        Layout { tuple_set, columns }
    }

    /// Feeds the rows of one part to `counted`, in order.
    fn feed(&self, frame: &DataFrame, counted: &mut CountedTable<'_>) -> Result<()> {
        let group = integer_column(frame, "g")?;
        let n = integer_column(frame, "n")?;
        let tuple_columns = self
            .columns
            .iter()
            .map(|(c, _, _)| text_column(frame, c))
            .collect::<Result<Vec<_>>>()?;
        let raw_columns = self
            .columns
            .iter()
            .map(|(_, _, r)| text_column(frame, r))
            .collect::<Result<Vec<_>>>()?;
        let mut values: Vec<Option<&str>> = vec![None; self.columns.len()];
        for (r, (&g, &n)) in group.iter().zip(&n).enumerate() {
            let n = u64::try_from(n)
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| returned("a count below 1"))?;
            if g == self.tuple_set {
                // A single plain column: its values are the tuples.
                for (k, column) in self.columns.iter().enumerate() {
                    if column.1 == g {
                        counted.value(k, raw_columns[k].get(r), n)?;
                    }
                }
                for (value, column) in values.iter_mut().zip(&tuple_columns) {
                    *value = column.get(r);
                }
                counted.tuple(&values, n)?;
            } else if let Some(k) = self.columns.iter().position(|c| c.1 == g) {
                counted.value(k, raw_columns[k].get(r), n)?;
            } else {
                return Err(returned(&format!("rows of an unknown grouping set {g}")));
            }
        }
        Ok(())
    }
}

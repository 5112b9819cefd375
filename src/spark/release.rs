//! Writing the release on Spark.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::data::attribute::{Attribute, AttributeRole};
use crate::error::{Error, ErrorKind, Result};
use crate::frequency::node::Node;
use crate::ruleset::Ruleset;
use crate::search::{AnonymizationConfig, NodeEvaluation};
use crate::spark::SparkEngine;
use crate::spark::count::{data_error, returned};
use crate::spark::job::{JobDir, driver_column, input_spec, uri};
use crate::spark::submit::{Outcome, submit};
use crate::stream::source::Format;
use crate::stream::{ReleasePlan, StreamedTable};

/// What a release on Spark wrote.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SparkRelease {
    /// The release: a folder of Parquet or CSV part files, as Spark writes them.
    pub output: PathBuf,
    /// The rows written (read back by Spark before the folder got its name).
    pub rows: u64,
    /// The rows whose quasi-identifiers were suppressed.
    pub suppressed_rows: u64,
    /// The node's evaluation.
    pub evaluation: NodeEvaluation,
}

impl SparkEngine {
    /// Writes the release of `streamed` (counted from `ruleset`'s data, here
    /// or by [`SparkEngine::count`]) at `node` on Spark, into the folder
    /// `output` (Parquet part files for a `.parquet` name, else CSV with the
    /// ruleset's delimiter and a header in each part): every quasi-identifier
    /// replaced by its label at the node, the quasi-identifiers of the
    /// suppressed classes by `*`, sensitive values with the missing-value
    /// policy applied, insensitive columns as read, identifiers dropped. Row
    /// for row the same as [`StreamedTable::apply_to_file`] (rows in another
    /// order).
    ///
    /// Spark writes to a temporary folder beside `output` and reads back how
    /// many rows it holds; this process renames it to `output` only when
    /// the job succeeded and that equals the counted rows. A value that was
    /// not counted (quasi-identifier or sensitive) or a row whose tuple is in
    /// no counted class fails the job. On any failure the temporary folder
    /// is removed (again for a few seconds, for executors of a dead driver),
    /// and nothing is under the release's name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when `output` exists, is an input, or
    /// the ruleset asks to tokenize an identifier (see the module's
    /// "Tokens"); as [`StreamedTable::release_plan`]; when the job fails (a
    /// value not counted before, the data changed, Spark's exception).
    pub fn release(
        &self,
        ruleset: &Ruleset,
        streamed: &mut StreamedTable,
        config: &AnonymizationConfig,
        orders: &BTreeMap<String, Vec<String>>,
        node: &Node,
        output: &Path,
    ) -> Result<SparkRelease> {
        if let Some(a) = ruleset
            .attributes
            .iter()
            .find(|a| a.role == AttributeRole::Identifier && a.tokenize)
        {
            return Err(Error::parameter(
                "tokenize",
                format!(
                    "column '{}' is to be tokenized, which a Spark release does not do (the token \
                     key would go to every executor): tokenize in process, or drop the column \
                     (tokenize = false)",
                    a.name
                ),
            ));
        }
        let output = std::path::absolute(output).map_err(|source| ErrorKind::Io {
            path: output.to_path_buf(),
            source,
        })?;
        if output.exists() {
            return Err(exists(&output));
        }
        crate::apply::check_output(&output, &ruleset.input_files())?;
        let plan = streamed.release_plan(config, orders, node)?;
        let attributes: Vec<&Attribute> = streamed.attributes().iter().collect();
        let job = JobDir::create(self)?;
        let (maps, classes) = write_lookups(&job, &attributes, &plan)?;
        let mut spec = input_spec(ruleset, &attributes, &maps, self)?;
        let temporary = temporary_beside(&output);
        let (output_format, delimiter) =
            match Format::of_path(&output, ruleset.data.delimiter as u8) {
                Format::Parquet => ("parquet", ruleset.data.delimiter),
                Format::Csv { delimiter, .. } => ("csv", delimiter as char),
            };
        spec["action"] = "release".into();
        spec["temporary"] = uri(&temporary)?.into();
        spec["output_format"] = output_format.into();
        spec["output_delimiter"] = delimiter.to_string().into();
        spec["expected_rows"] = streamed.rows().into();
        spec["classes"] = uri(&classes)?.into();
        let (driver, job_file) = job.write_job(&spec)?;
        let outcome = submit(self, &driver, &job_file, "the release");
        // Named only when Spark reported every row written; otherwise no
        // temporary output stays behind (executors of a dead driver may
        // still write for a moment: keep removing it for a few seconds).
        let named = match &outcome {
            Ok(Outcome::Done(_)) if !output.exists() => std::fs::rename(&temporary, &output)
                .map_err(|source| {
                    Error::from(ErrorKind::Io {
                        path: output.clone(),
                        source,
                    })
                }),
            Ok(Outcome::Done(_)) => Err(exists(&output)),
            _ => Ok(()),
        };
        if !matches!((&outcome, &named), (Ok(Outcome::Done(_)), Ok(()))) {
            remove_for_a_while(&temporary);
        }
        named?;
        let result = match outcome? {
            Outcome::Done(result) => result,
            Outcome::DataError(error) => {
                let owned: Vec<Attribute> = attributes.iter().map(|a| (*a).clone()).collect();
                return Err(data_error(&error, &owned, &streamed.source().path));
            }
        };
        let rows = result["rows"]
            .as_u64()
            .ok_or_else(|| returned("no row count"))?;
        Ok(SparkRelease {
            output,
            rows,
            suppressed_rows: plan.suppressed_rows,
            evaluation: plan.evaluation,
        })
    }
}

/// The error for an output that exists.
fn exists(output: &Path) -> Error {
    Error::parameter(
        "output",
        format!(
            "{} exists; the release never replaces a file",
            output.display()
        ),
    )
}

/// Removes the folder `path` now and for the next five seconds.
fn remove_for_a_while(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Writes the release's lookup tables into the job folder: per
/// quasi-identifier its value → label map, per sensitive attribute its
/// counted values (value → itself), and every class's label tuple with
/// whether it is suppressed (columns named as the driver names them);
/// returns the maps by attribute and the classes table.
fn write_lookups(
    job: &JobDir,
    attributes: &[&Attribute],
    plan: &ReleasePlan,
) -> Result<(Vec<Option<PathBuf>>, PathBuf)> {
    let mut maps = Vec::new();
    let mut class_columns = Vec::new();
    for (i, a) in attributes.iter().enumerate() {
        let pairs: Vec<(String, String)> = match a.role {
            AttributeRole::QuasiIdentifier => {
                let q = plan
                    .quasi_identifiers
                    .iter()
                    .position(|n| n == &a.name)
                    .expect("a quasi-identifier of the plan");
                class_columns.push((
                    driver_column("c", i),
                    plan.classes.iter().map(|t| t[q].clone()).collect(),
                ));
                plan.maps[q].clone()
            }
            AttributeRole::Sensitive => plan
                .sensitive
                .iter()
                .find(|(n, _)| n == &a.name)
                .map(|(_, values)| values.iter().map(|v| (v.clone(), v.clone())).collect())
                .expect("a sensitive attribute of the plan"),
            _ => {
                maps.push(None);
                continue;
            }
        };
        maps.push(Some(job.write_map(&format!("map-{i}.parquet"), pairs)?));
    }
    class_columns.push((
        "suppressed".into(),
        plan.suppressed.iter().map(|s| s.to_string()).collect(),
    ));
    let classes = job.write_table("classes.parquet", class_columns)?;
    Ok((maps, classes))
}

/// A temporary name beside `output` (same folder, so the rename is atomic
/// on one file system): `.<name>.partial-<process id>`.
fn temporary_beside(output: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(output.file_name().unwrap_or_default());
    name.push(format!(".partial-{}", std::process::id()));
    output.with_file_name(name)
}

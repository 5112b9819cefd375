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
use crate::spark::job::{JobDir, input_spec, uri};
use crate::spark::submit::{Outcome, submit};
use crate::stream::StreamedTable;
use crate::stream::source::Format;

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
    /// Spark writes to a temporary folder beside `output`, reads back how
    /// many rows it holds, and renames it to `output` only when that equals
    /// the counted rows; on any failure the temporary folder is removed (by
    /// the driver, and here too when Spark did not get to it), so nothing is
    /// ever left under the release's name.
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
            return Err(Error::parameter(
                "output",
                format!(
                    "{} exists; the release never replaces a file",
                    output.display()
                ),
            ));
        }
        crate::apply::check_output(&output, &ruleset.input_files())?;
        let plan = streamed.release_plan(config, orders, node)?;
        let source = streamed.source().clone();
        let attributes: Vec<&Attribute> = streamed.attributes().iter().collect();
        let job = JobDir::create(self)?;
        // Lookup tables: each quasi-identifier's value → label, and the
        // suppressed classes' label tuples (columns c<i>, i the attribute's
        // index, as the driver names them).
        let mut maps = Vec::new();
        let mut suppressed_columns = Vec::new();
        let mut q = 0;
        for (i, a) in attributes.iter().enumerate() {
            if a.role != AttributeRole::QuasiIdentifier {
                maps.push(None);
                continue;
            }
            let (values, labels) = plan.maps[q].iter().cloned().unzip();
            maps.push(Some(job.write_table(
                &format!("map-{i}.parquet"),
                vec![("value".into(), values), ("label".into(), labels)],
            )?));
            suppressed_columns.push((
                format!("c{i}"),
                plan.suppressed.iter().map(|t| t[q].clone()).collect(),
            ));
            q += 1;
        }
        let suppressed = if plan.suppressed.is_empty() {
            None
        } else {
            Some(job.write_table("suppressed.parquet", suppressed_columns)?)
        };
        let mut spec = input_spec(ruleset, &attributes, &maps, self)?;
        let temporary = temporary_beside(&output);
        let (output_format, delimiter) =
            match Format::of_path(&output, ruleset.data.delimiter as u8) {
                Format::Parquet => ("parquet", ruleset.data.delimiter),
                Format::Csv { delimiter, .. } => ("csv", delimiter as char),
            };
        spec["action"] = "release".into();
        spec["output"] = uri(&output)?.into();
        spec["temporary"] = uri(&temporary)?.into();
        spec["output_format"] = output_format.into();
        spec["output_delimiter"] = delimiter.to_string().into();
        spec["expected_rows"] = streamed.rows().into();
        spec["suppressed"] = suppressed.as_deref().map(uri).transpose()?.into();
        let (driver, job_file) = job.write_job(&spec)?;
        let outcome = submit(self, &driver, &job_file, "the release");
        // Whatever happened, no temporary output stays behind. After a
        // failure, executors of a dead driver may still write for a moment:
        // keep removing it for a few seconds.
        let _ = std::fs::remove_dir_all(&temporary);
        if !matches!(outcome, Ok(Outcome::Done(_))) {
            for _ in 0..20 {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let _ = std::fs::remove_dir_all(&temporary);
            }
        }
        let result = match outcome? {
            Outcome::Done(result) => result,
            Outcome::DataError(error) => {
                let owned: Vec<Attribute> = attributes.iter().map(|a| (*a).clone()).collect();
                return Err(data_error(&error, &owned, &source.path));
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

/// A temporary name beside `output` (same folder, so the rename is atomic
/// on one file system): `.<name>.partial-<process id>`.
fn temporary_beside(output: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(output.file_name().unwrap_or_default());
    name.push(format!(".partial-{}", std::process::id()));
    output.with_file_name(name)
}

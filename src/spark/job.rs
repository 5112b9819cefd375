//! A job's folder: the driver, the specification, the lookup tables and
//! what Spark writes back, removed when the job is done.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::{Column, DataFrame, ParquetWriter};
use serde_json::{Value, json};

use crate::data::attribute::Attribute;
use crate::error::{ErrorKind, Result};
use crate::ruleset::Ruleset;
use crate::spark::{DRIVER, SparkEngine};
use crate::stream::source::Format;

/// One job's folder, removed (with everything in it) on drop.
pub(super) struct JobDir {
    path: PathBuf,
}

impl JobDir {
    /// Creates a new folder (mode 700) under the engine's work folder.
    pub(super) fn create(engine: &SparkEngine) -> Result<JobDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let parent = engine.work_dir.clone().unwrap_or_else(std::env::temp_dir);
        let parent = std::path::absolute(&parent).map_err(|source| ErrorKind::Io {
            path: parent.clone(),
            source,
        })?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "deidentify-spark-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        sweep_stale(&parent);
        let path = parent.join(name);
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path).map_err(|source| ErrorKind::Io {
            path: path.clone(),
            source,
        })?;
        Ok(JobDir { path })
    }

    /// A path inside the folder.
    pub(super) fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes the driver and the specification; returns their paths.
    pub(super) fn write_job(&self, spec: &Value) -> Result<(PathBuf, PathBuf)> {
        let driver = self.join("driver.py");
        let job = self.join("job.json");
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|source| ErrorKind::Io {
                path: path.to_path_buf(),
                source,
            })
        };
        write(&driver, DRIVER.as_bytes())?;
        write(
            &job,
            serde_json::to_string_pretty(spec).expect("JSON").as_bytes(),
        )?;
        Ok((driver, job))
    }

    /// Writes a two-column lookup table (`value`, `label`) at `name`.
    pub(super) fn write_map(&self, name: &str, pairs: Vec<(String, String)>) -> Result<PathBuf> {
        let (values, labels) = pairs.into_iter().unzip();
        self.write_table(
            name,
            vec![("value".into(), values), ("label".into(), labels)],
        )
    }

    /// Writes a Parquet table of text columns `columns` (name, values) at `name`.
    pub(super) fn write_table(
        &self,
        name: &str,
        columns: Vec<(String, Vec<String>)>,
    ) -> Result<PathBuf> {
        let path = self.join(name);
        let height = columns.first().map_or(0, |c| c.1.len());
        let write_error = |reason: String| ErrorKind::Write {
            path: path.clone(),
            reason,
        };
        let columns: Vec<Column> = columns
            .into_iter()
            .map(|(name, values)| Column::new(name.into(), values))
            .collect();
        let mut frame = DataFrame::new(height, columns).map_err(|e| write_error(e.to_string()))?;
        let file = File::create(&path).map_err(|source| ErrorKind::Io {
            path: path.clone(),
            source,
        })?;
        ParquetWriter::new(file)
            .finish(&mut frame)
            .map_err(|e| write_error(e.to_string()))?;
        Ok(path)
    }
}

/// Removes the job folders under `parent` left by processes that no longer
/// run (killed before they could remove their own: they hold
/// quasi-identifier values). Only where a process's liveness can be read
/// (`/proc`).
fn sweep_stale(parent: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("deidentify-spark-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        // It holds quasi-identifier values: never leave it behind.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The prefix of every column the driver adds (data columns may not start
/// with it, in any case).
pub(super) const DRIVER_PREFIX: &str = "__deid_";

/// The driver's name for column `i`'s `kind` of value: `c` (its value or
/// label in the tuples), `r` (a generalized column's raw value).
pub(super) fn driver_column(kind: &str, i: usize) -> String {
    format!("{DRIVER_PREFIX}{kind}{i}")
}

/// A local path as a URI every Spark node reads the same way, whatever the
/// cluster's default file system (`file:///…`).
pub(super) fn uri(path: &Path) -> Result<String> {
    let absolute = std::path::absolute(path).map_err(|source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(format!("file://{}", absolute.display()))
}

/// Where Spark reads the ruleset's data: its `[data] path` as written when
/// that is a URI (`s3://…`, `hdfs://…`, `dbfs:/…`), else the local file as
/// a `file://` URI.
pub(super) fn data_location(ruleset: &Ruleset) -> Result<String> {
    let written = ruleset.data.path.to_string_lossy();
    if written.contains(":/") && !written.starts_with('/') {
        return Ok(written.into_owned());
    }
    uri(&ruleset.data_path())
}

/// The part of a job's specification that says how to read the ruleset's
/// data: where, in which format, the missing markers and policy, and each
/// column's role (in `attributes` order; `maps` gives the lookup table of
/// the columns that have one).
pub(super) fn input_spec(
    ruleset: &Ruleset,
    attributes: &[&Attribute],
    maps: &[Option<PathBuf>],
    engine: &SparkEngine,
) -> Result<Value> {
    let location = data_location(ruleset)?;
    let delimiter = ruleset.data.delimiter;
    let format = match Format::of_path(Path::new(&location), delimiter as u8) {
        Format::Parquet => "parquet",
        Format::Csv { .. } => "csv",
    };
    let columns: Vec<Value> = attributes
        .iter()
        .zip(maps)
        .map(|(a, map)| {
            Ok(json!({
                "name": a.name,
                "role": a.role,
                "map": map.as_deref().map(uri).transpose()?,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(json!({
        "input": {
            "path": location,
            "format": format,
            "delimiter": delimiter.to_string(),
            "multiline": engine.multiline_csv,
        },
        "missing_values": ruleset.data.missing_values,
        "missing_policy": ruleset.data.missing_policy,
        "missing_label": ruleset.data.missing_label,
        "columns": columns,
    }))
}

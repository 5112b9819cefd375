//! Counting and releasing on Apache Spark: the two passes that touch rows
//! run on a cluster, the search runs here on the counted table.
//!
//! The search needs only the frequency table ([`crate::stream`]), so data too
//! large for one machine is counted where it lives. [`SparkEngine::count`]
//! runs a generated Spark job that reads the ruleset's data file (CSV or
//! Parquet), generalizes the quasi-identifiers that have minimum levels
//! (broadcast joins against value → label tables this crate writes from the
//! hierarchies; Spark formats nothing), groups by the quasi-identifiers and
//! sensitive values and counts; this process then reads the counted tuples,
//! checks every value as the streaming ingest does (type, hierarchy,
//! missing-value policy) and that the counts add up to the rows Spark read,
//! and returns a [`StreamedTable`](crate::stream::StreamedTable) to search. [`SparkEngine::release`] runs a
//! second job that writes the release at the chosen node: each
//! quasi-identifier replaced by its label (from a table written here), the
//! suppressed classes' quasi-identifiers by `*`, identifiers dropped, to a
//! temporary folder that this process renames to the release's name only
//! when Spark reports every row written (a value not counted, or a row in
//! no counted class, fails the job: the data changed).
//! The result equals [`StreamedTable::apply_to_file`](crate::stream::StreamedTable::apply_to_file) row for row.
//!
//! # How a job runs
//!
//! `spark-submit --master <master> [--conf k=v …] driver.py job.json`, started
//! with [`std::process::Command`]: the driver is a PySpark script shipped
//! inside this crate and written into the job's folder with its
//! specification and lookup tables. It uses only the DataFrame API, so the
//! executors run no Python. Spark's exit status, and the exception it
//! reports, become this crate's error; the progress the driver prints is
//! passed on to standard error. See `docs/SCALE.md` for running against a
//! managed service.
//!
//! The job's folder (under [`SparkEngine::work_dir`]) must be a path that
//! this process, the driver and every executor see alike (a local folder for
//! a cluster on this machine; a shared mount otherwise). It holds the counted
//! tuples (quasi-identifier values of real people) and is removed when the
//! call returns (and, if the process was killed first, by the next job
//! started in the same work folder).
//!
//! # Tokens
//!
//! Identifiers are dropped from a Spark release, as from the streaming one.
//! A ruleset asking to tokenize one is refused: keyed tokens need the token
//! key, and computing them on the cluster would ship the key to every
//! executor (BLAKE3 is no Spark SQL function; it would take a Python
//! function with the key in its closure), where it would outlive the job in
//! executor memory and logs. Tokenize in this process instead.

mod count;
mod job;
mod release;
mod submit;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use release::SparkRelease;

/// The PySpark driver run by every job.
const DRIVER: &str = include_str!("driver.py");

/// Where and how Spark jobs run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SparkEngine {
    /// The master URL given to `spark-submit --master` (`spark://host:7077`,
    /// `local[*]`, `yarn`, …).
    pub master: String,
    /// The `spark-submit` program (default: `spark-submit`, looked up on the `PATH`).
    pub spark_submit: PathBuf,
    /// Extra `--conf key=value` settings, in key order.
    pub conf: BTreeMap<String, String>,
    /// The folder under which each job gets its own folder (default: the
    /// system's temporary folder). It must be visible alike to this process,
    /// the driver and the executors.
    pub work_dir: Option<PathBuf>,
    /// Read CSV records that span lines (quoted line breaks). Off by
    /// default: Spark then splits a file among tasks, and a record with a
    /// quoted line break fails the job (never a silent split).
    pub multiline_csv: bool,
    /// Copy everything Spark writes to standard error into this file (its
    /// log may quote data values: keep it where the data may be).
    pub log: Option<PathBuf>,
    /// Print the driver's progress to standard error (default: yes).
    pub progress: bool,
}

impl SparkEngine {
    /// An engine submitting to `master` with the defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use deidentify::spark::SparkEngine;
    ///
    /// let engine = SparkEngine::new("local[2]").with_conf("spark.sql.shuffle.partitions", "8");
    /// assert_eq!(engine.master, "local[2]");
    /// ```
    pub fn new(master: &str) -> SparkEngine {
        SparkEngine {
            master: master.to_owned(),
            spark_submit: PathBuf::from("spark-submit"),
            conf: BTreeMap::new(),
            work_dir: None,
            multiline_csv: false,
            log: None,
            progress: true,
        }
    }

    /// The engine of a ruleset's `[engine]` table (`None` for `in-process`);
    /// relative paths resolve against `base` (the ruleset's folder).
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for `spark` without a master.
    pub fn from_rule(
        rule: &crate::ruleset::EngineRule,
        base: &std::path::Path,
    ) -> crate::Result<Option<SparkEngine>> {
        if rule.kind == crate::ruleset::EngineKind::InProcess {
            return Ok(None);
        }
        let master = rule.master.as_deref().ok_or_else(|| {
            crate::Error::parameter(
                "engine",
                "kind = \"spark\" needs a master (e.g. \"spark://host:7077\" or \"local[*]\")",
            )
        })?;
        let mut engine = SparkEngine::new(master);
        if let Some(p) = &rule.spark_submit {
            // A bare program name is looked up on the PATH; a path is the ruleset's.
            engine.spark_submit = if p.components().count() > 1 {
                base.join(p)
            } else {
                p.clone()
            };
        }
        engine.conf = rule.conf.clone();
        engine.work_dir = rule.work_dir.as_ref().map(|w| base.join(w));
        engine.multiline_csv = rule.multiline_csv;
        Ok(Some(engine))
    }

    /// The engine with `spark-submit` at `path`.
    pub fn with_spark_submit(mut self, path: impl Into<PathBuf>) -> SparkEngine {
        self.spark_submit = path.into();
        self
    }

    /// The engine with the Spark setting `key` = `value`.
    pub fn with_conf(mut self, key: &str, value: &str) -> SparkEngine {
        self.conf.insert(key.to_owned(), value.to_owned());
        self
    }

    /// The engine creating job folders under `work_dir`.
    pub fn with_work_dir(mut self, work_dir: impl Into<PathBuf>) -> SparkEngine {
        self.work_dir = Some(work_dir.into());
        self
    }

    /// The engine printing progress (`true`) or not.
    pub fn with_progress(mut self, progress: bool) -> SparkEngine {
        self.progress = progress;
        self
    }
}

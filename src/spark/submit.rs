//! Running one job with `spark-submit` and reading what the driver reports.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::spark::SparkEngine;

/// How many of Spark's last log lines are kept to explain a failure.
const KEPT_LINES: usize = 400;

/// What the driver reported.
pub(super) enum Outcome {
    /// The job's result (`DEIDENTIFY-RESULT`).
    Done(Value),
    /// The data does not fit the job (`DEIDENTIFY-ERROR`); the driver stopped.
    DataError(Value),
}

/// Runs `driver job` with the engine's `spark-submit`; `what` names the job
/// in errors ("counting", "the release").
pub(super) fn submit(
    engine: &SparkEngine,
    driver: &Path,
    job: &Path,
    what: &str,
) -> Result<Outcome> {
    let mut command = Command::new(&engine.spark_submit);
    command.arg("--master").arg(&engine.master);
    let mut conf = engine.conf.clone();
    // What Spark writes (the counted tuples, the release) is readable by
    // its owner only, unless the settings say otherwise.
    conf.entry("spark.hadoop.fs.permissions.umask-mode".into())
        .or_insert_with(|| "077".into());
    for (key, value) in &conf {
        command.arg("--conf").arg(format!("{key}={value}"));
    }
    command
        .arg(driver)
        .arg(job)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| {
        Error::parameter(
            "spark_submit",
            format!(
                "cannot run '{}': {e} (install Spark, e.g. `pip install pyspark`, or give the path of spark-submit)",
                engine.spark_submit.display()
            ),
        )
    })?;
    let stderr = child.stderr.take().expect("piped");
    let log_path = engine.log.clone();
    let log_thread = std::thread::spawn(move || keep_log(stderr, log_path.as_deref()));
    let stdout = child.stdout.take().expect("piped");
    let mut outcome = None;
    // Spark passes the Python driver's standard error (a traceback) on to
    // its standard output: keep those lines too.
    let mut printed = VecDeque::new();
    let mut reader = BufReader::new(stdout);
    while let Some(line) = next_line(&mut reader) {
        if let Some(text) = line.strip_prefix("DEIDENTIFY-PROGRESS ") {
            if engine.progress {
                eprintln!("spark: {text}");
            }
        } else if let Some(json) = line.strip_prefix("DEIDENTIFY-RESULT ") {
            outcome = serde_json::from_str(json).ok().map(Outcome::Done);
        } else if let Some(json) = line.strip_prefix("DEIDENTIFY-ERROR ") {
            outcome = serde_json::from_str(json).ok().map(Outcome::DataError);
        } else {
            if printed.len() == KEPT_LINES {
                printed.pop_front();
            }
            printed.push_back(line);
        }
    }
    let status = child.wait().map_err(|source| ErrorKind::Io {
        path: engine.spark_submit.clone(),
        source,
    })?;
    let (kept, log_error) = log_thread.join().unwrap_or_default();
    if let Some(e) = log_error {
        return Err(e);
    }
    if let Some(path) = &engine.log
        && !printed.is_empty()
    {
        // The driver's own output after Spark's log.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| ErrorKind::Io {
                path: path.clone(),
                source,
            })?;
        for line in &printed {
            let _ = writeln!(file, "{line}");
        }
    }
    let kept: VecDeque<String> = kept.into_iter().chain(printed).collect();
    match outcome {
        Some(Outcome::Done(value)) if status.success() => Ok(Outcome::Done(value)),
        Some(Outcome::DataError(value)) => Ok(Outcome::DataError(value)),
        _ => Err(Error::parameter(
            "spark",
            format!(
                "{what} failed on Spark ({status}): {}",
                failure_summary(&kept)
            ),
        )),
    }
}

/// Reads Spark's standard error to its end, copying it to `log` if given;
/// returns the last lines and the error of writing the log.
fn keep_log(stderr: impl std::io::Read, log: Option<&Path>) -> (VecDeque<String>, Option<Error>) {
    let mut kept = VecDeque::new();
    let mut file = None;
    let mut error = None;
    if let Some(path) = log {
        // Appended to (one file for every job of a run), owner-only: it may
        // quote data.
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(f) => file = Some(f),
            Err(source) => {
                error = Some(
                    ErrorKind::Io {
                        path: path.to_path_buf(),
                        source,
                    }
                    .into(),
                )
            }
        }
    }
    let mut reader = BufReader::new(stderr);
    while let Some(line) = next_line(&mut reader) {
        if let Some(f) = &mut file {
            let _ = writeln!(f, "{line}");
        }
        if kept.len() == KEPT_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }
    (kept, error)
}

/// The next line of `reader` without its line break (invalid UTF-8
/// replaced, so a stray byte never stops the pipe being drained); `None`
/// at the end.
fn next_line(reader: &mut impl BufRead) -> Option<String> {
    let mut bytes = Vec::new();
    match reader.read_until(b'\n', &mut bytes) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(String::from_utf8_lossy(&bytes).trim_end().to_owned()),
    }
}

/// The exception that ended a failed job, from Spark's last log lines: the
/// last Python exception line (`pyspark…Exception: …`, the driver's
/// `RuntimeError: …`) or else the last Java exception line, its message cut
/// where Spark quotes a record or a value (`[...]` after a colon), and
/// shortened; or a note that no exception was printed.
fn failure_summary(lines: &VecDeque<String>) -> String {
    // The driver's own checks (`raise_error`, tagged) say what is wrong
    // with the data; Spark wraps them in Java exceptions.
    const TAG: &str = "DEIDENTIFY-CHECK ";
    if let Some(line) = lines.iter().find(|l| l.contains(TAG)) {
        let at = line.find(TAG).expect("found") + TAG.len();
        return shortened(line[at..].split(" SQLSTATE").next().unwrap_or_default());
    }
    let is_exception = |line: &&String| {
        let head = line.split(": ").next().unwrap_or("");
        !head.contains(' ') && (head.ends_with("Exception") || head.ends_with("Error"))
    };
    let found = lines
        .iter()
        .rev()
        .find(|l| is_exception(l) && !l.starts_with('\t') && !l.starts_with(' '))
        .or_else(|| lines.iter().rev().find(is_exception));
    match found {
        Some(line) => shortened(line),
        None => "Spark printed no exception (see its log: SparkEngine::log, or --spark-log)".into(),
    }
}

/// An exception line without the record or values Spark may quote in it,
/// at most 400 characters.
fn shortened(line: &str) -> String {
    let mut text = line.trim().to_owned();
    // Spark quotes a malformed record after "record parsing:" and values in
    // some messages; keep the text before such a quote.
    for marker in ["record parsing:", "Malformed CSV record", "value:"] {
        if let Some(at) = text.find(marker) {
            text.truncate(at + marker.len());
            text.push_str(" …");
        }
    }
    if text.chars().count() > 400 {
        text = text.chars().take(400).collect::<String>() + " …";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_the_last_exception_without_quoted_records() {
        let lines: VecDeque<String> = [
            "26/12/04 13:31:01 INFO SparkContext: Running Spark version 3.5.3",
            "Traceback (most recent call last):",
            "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: file:/nowhere.csv.",
            "\tat org.apache.spark.Foo(Foo.scala:1)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            failure_summary(&lines),
            "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: file:/nowhere.csv."
        );
        let record = VecDeque::from(vec![
            "org.apache.spark.SparkException: Malformed records are detected in record parsing: [Male,39,White]".to_owned(),
        ]);
        let summary = failure_summary(&record);
        assert!(!summary.contains("Male"), "{summary}");
        assert!(summary.ends_with("record parsing: …"), "{summary}");
        assert!(failure_summary(&VecDeque::new()).contains("no exception"));
        let raised = VecDeque::from(vec![
            "py4j.protocol.Py4JJavaError: An error occurred while calling o446.csv.".to_owned(),
            "Caused by: java.lang.RuntimeException: DEIDENTIFY-CHECK a row is in no class of the counted table".to_owned(),
        ]);
        assert_eq!(
            failure_summary(&raised),
            "a row is in no class of the counted table"
        );
    }
}

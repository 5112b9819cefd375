//! Checking a written report: its audit chain, its content digest, and the
//! released file's fingerprint.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};
use crate::report::audit::verify_chain;
use crate::report::digest::sha256_file;
use crate::report::document::{Report, SCHEMA_VERSION};

/// The outcome of [`verify_report`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// No problem found.
    pub intact: bool,
    /// Every problem found.
    pub problems: Vec<String>,
    /// Audit entries checked.
    pub entries: usize,
    /// Whether a data file was checked against the report's fingerprint.
    pub data_checked: bool,
}

/// Verifies the report text `json` (and, when given, the released `data`
/// file): the schema version is one this library reads; every audit entry
/// hashes to its stored hash and follows the one before, the first follows
/// the ruleset's SHA-256, and the last is the `write` step naming the
/// report's output fingerprint; the sign-off digest matches the content;
/// and the data file hashes to the report's output fingerprint.
///
/// # Errors
///
/// [`ErrorKind::Parse`] when `json` is not a report; [`ErrorKind::Io`] when
/// the data file cannot be read. A report that parses but was altered is
/// not an error: it gives `intact == false` with the problems.
pub fn verify_report(json: &str, data: Option<&Path>) -> Result<Verification> {
    let parse = |reason: String| ErrorKind::Parse {
        path: "report.json".into(),
        reason,
    };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| parse(e.to_string()))?;
    let report: Report = serde_json::from_value(value.clone()).map_err(|e| parse(e.to_string()))?;
    let mut problems = Vec::new();
    let major = |v: &str| v.split('.').next().unwrap_or("").to_owned();
    if major(&report.schema_version) != major(SCHEMA_VERSION) {
        problems.push(format!(
            "schema version {} is not readable by this version ({SCHEMA_VERSION})",
            report.schema_version
        ));
    }
    problems.extend(verify_chain(
        &report.identification.ruleset_sha256,
        &report.audit,
    ));
    match report.audit.last() {
        Some(last) if last.step == "write" => {
            let logged = last.parameters.get("sha256").and_then(|v| v.as_str());
            if logged != report.data.output_sha256.as_deref() {
                problems.push(format!(
                    "the released file's fingerprint in the data section ({}) differs from the one the audit trail logged ({})",
                    report.data.output_sha256.as_deref().unwrap_or("none"),
                    logged.unwrap_or("none")
                ));
            }
        }
        _ => problems.push("the audit trail does not end with the 'write' step".to_owned()),
    }
    let digest = Report::content_digest(&value);
    if digest != report.sign_off.content_sha256 {
        problems.push(format!(
            "the report's content was changed after sealing: it hashes to {digest}, the sign-off names {}",
            report.sign_off.content_sha256
        ));
    }
    let data_checked = data.is_some();
    if let Some(path) = data {
        let actual = sha256_file(path)?;
        match &report.data.output_sha256 {
            Some(expected) if *expected == actual => {}
            Some(expected) => problems.push(format!(
                "{} hashes to {actual}, not to the released file's fingerprint {expected}",
                path.display()
            )),
            None => problems.push("the report released no data file".to_owned()),
        }
    }
    Ok(Verification {
        intact: problems.is_empty(),
        problems,
        entries: report.audit.len(),
        data_checked,
    })
}

//! Checking a written report: its audit chain, its content digest, the
//! released file's fingerprint, the expert's signature, and its verdict.
//!
//! The checks fail closed: the outcome is [`Exit::Success`] only for a
//! report that is intact, releasable and (when a public key is given)
//! validly signed; see [`Verification::exit`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};
use crate::exit::Exit;
use crate::report::audit::verify_chain;
use crate::report::digest::sha256_file;
use crate::report::document::{Report, SCHEMA_VERSION};
use crate::report::keys::{public_key_sha256, read_verifying_key};
use crate::report::read::{from_json, json, read_limited, utf8};
use crate::report::signature::{ReportSignature, signature_path};

/// The largest report file read, in bytes (64 MiB; the bundled Adult
/// run's report takes about 60 KiB).
pub const MAX_REPORT_BYTES: u64 = 64 << 20;

/// What [`verify_report_file`] checks besides the report itself.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct VerifyOptions<'a> {
    /// The released data file, checked against the report's fingerprint.
    pub data: Option<&'a Path>,
    /// The expert's public key: when given, the report must carry a
    /// signature that verifies with it.
    pub public_key: Option<&'a Path>,
    /// The signature file; by default [`signature_path`] of the report.
    pub signature: Option<&'a Path>,
}

impl<'a> VerifyOptions<'a> {
    /// The options checking the released `data` file too.
    pub fn with_data(mut self, data: &'a Path) -> VerifyOptions<'a> {
        self.data = Some(data);
        self
    }

    /// The options requiring a signature that verifies with `public_key`.
    pub fn with_public_key(mut self, public_key: &'a Path) -> VerifyOptions<'a> {
        self.public_key = Some(public_key);
        self
    }

    /// The options reading the signature from `signature`.
    pub fn with_signature(mut self, signature: &'a Path) -> VerifyOptions<'a> {
        self.signature = Some(signature);
        self
    }
}

/// The report's verdict, as it states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Releasable: `summary.passes` and no failure listed.
    pub releasable: bool,
    /// The verdict in one sentence (`summary.verdict`).
    pub statement: String,
    /// Each unmet requirement (`summary.failures`).
    pub failures: Vec<String>,
}

/// What the signature check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// No public key was given, so no signature was checked.
    NotChecked,
    /// A public key was given and there is no signature file.
    Missing {
        /// Where the signature was looked for.
        path: PathBuf,
    },
    /// The signature verifies with the given key over this report's content
    /// digest and data fingerprint.
    Valid {
        /// The signature file.
        path: PathBuf,
        /// The fingerprint of the key that signed.
        public_key_sha256: String,
    },
    /// The signature does not verify with the given key, or covers other
    /// content; the problems say which.
    Invalid {
        /// The signature file.
        path: PathBuf,
    },
}

/// The outcome of [`verify_report`] and [`verify_report_file`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verification {
    /// No problem found (a missing signature is not a problem here: see
    /// [`Verification::signature`]).
    pub intact: bool,
    /// Every problem found: an alteration, or a signature that does not
    /// verify.
    pub problems: Vec<String>,
    /// Audit entries checked.
    pub entries: usize,
    /// Whether a data file was checked against the report's fingerprint.
    pub data_checked: bool,
    /// The report's verdict.
    pub verdict: Verdict,
    /// The signature check.
    pub signature: SignatureStatus,
}

impl Verification {
    /// The exit status this verification calls for, the first that applies:
    /// [`Exit::NotIntact`] for any problem (an alteration or a signature
    /// that does not verify), [`Exit::Unsigned`] when a signature was
    /// required and is missing, [`Exit::NotReleasable`] when the verdict is
    /// not releasable, and [`Exit::Success`] otherwise.
    pub fn exit(&self) -> Exit {
        if !self.intact
            || !self.problems.is_empty()
            || matches!(self.signature, SignatureStatus::Invalid { .. })
        {
            Exit::NotIntact
        } else if matches!(self.signature, SignatureStatus::Missing { .. }) {
            Exit::Unsigned
        } else if !self.verdict.releasable {
            Exit::NotReleasable
        } else {
            Exit::Success
        }
    }
}

/// Verifies the report text `json` (and, when given, the released `data`
/// file): every audit entry hashes to its stored hash and follows the one
/// before, the first follows the ruleset's SHA-256, and the last is the
/// `write` step naming the report's output fingerprint; the sign-off digest
/// matches the content; and the data file hashes to the report's output
/// fingerprint. No signature is checked (see [`verify_report_file`]).
///
/// # Examples
///
/// ```
/// use deidentify::{RunOptions, Ruleset, run_expert_determination, verify_report};
///
/// // A report to verify: the Expert Determination on the bundled Adult data.
/// let ruleset = Ruleset::from_file("datasets/adult/adult.toml".as_ref())?;
/// let out = std::env::temp_dir().join(format!("deidentify-doc-verify-{}", std::process::id()));
/// let outcome = run_expert_determination(&ruleset, &RunOptions::new(&out), &mut |_| {})?;
///
/// let json = std::fs::read_to_string(&outcome.json)?;
/// let verification = verify_report(&json, outcome.data.as_deref())?;
/// assert!(verification.intact, "{:?}", verification.problems);
/// assert!(verification.data_checked && verification.verdict.releasable);
/// // One changed byte of the report breaks the audit chain or the sign-off digest.
/// let tampered = json.replacen("\"k\": 5", "\"k\": 2", 1);
/// assert_ne!(tampered, json);
/// assert!(!verify_report(&tampered, outcome.data.as_deref())?.intact);
/// # std::fs::remove_dir_all(&out).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`verify_report_file`], with `<report text>` in place of a path.
pub fn verify_report(json: &str, data: Option<&Path>) -> Result<Verification> {
    let (value, report) = parse_report(Path::new("<report text>"), json.as_bytes())?;
    Ok(check(&value, &report, data)?.verification)
}

/// Verifies the report file `report` as [`verify_report`] does, reading at
/// most [`MAX_REPORT_BYTES`], and, with [`VerifyOptions::public_key`],
/// checks its signature ([`ReportSignature::check`]).
///
/// # Errors
///
/// [`ErrorKind::Io`] when the report, the key, the signature or the data
/// file cannot be read (naming the file and the system's reason: no such
/// file, permission denied…), or the data file is not a regular file;
/// [`ErrorKind::Parse`] naming the file when the report is too large, not
/// UTF-8, not JSON (with line and column), JSON but not a report this
/// version reads, or when the key or signature file is malformed. A report
/// that parses but was altered is not an error: it gives `intact == false`
/// with the problems; a missing signature gives
/// [`SignatureStatus::Missing`].
pub fn verify_report_file(report: &Path, options: &VerifyOptions<'_>) -> Result<Verification> {
    Ok(verify_file(report, options)?.verification)
}

/// A verification with the report's own digests, for signing.
pub(crate) struct Checked {
    /// The verification.
    pub verification: Verification,
    /// The SHA-256 the report's content hashes to.
    pub content_sha256: String,
    /// The released data's fingerprint the report names.
    pub output_sha256: Option<String>,
}

/// [`verify_report_file`], keeping the report's digests.
pub(crate) fn verify_file(report: &Path, options: &VerifyOptions<'_>) -> Result<Checked> {
    let bytes = read_limited(report, MAX_REPORT_BYTES, "a report")?;
    let public_key = match options.public_key {
        Some(path) => Some((path, read_verifying_key(path)?)),
        None => None,
    };
    let (value, parsed) = parse_report(report, &bytes)?;
    drop(bytes);
    let mut checked = check(&value, &parsed, options.data)?;
    let Some((key_path, key)) = public_key else {
        return Ok(checked);
    };
    let path = options
        .signature
        .map_or_else(|| signature_path(report), Path::to_path_buf);
    let verification = &mut checked.verification;
    verification.signature = match ReportSignature::read(&path) {
        Err(e) if is_not_found(&e) => SignatureStatus::Missing { path },
        Err(e) => return Err(e),
        Ok(signature) => {
            let problems = signature.check(
                &key,
                key_path,
                &checked.content_sha256,
                checked.output_sha256.as_deref(),
            );
            if problems.is_empty() {
                SignatureStatus::Valid {
                    path,
                    public_key_sha256: public_key_sha256(&key),
                }
            } else {
                verification.problems.extend(problems);
                verification.intact = false;
                SignatureStatus::Invalid { path }
            }
        }
    };
    Ok(checked)
}

/// Parses a report, with errors that name `path` and the kind of problem.
fn parse_report(path: &Path, bytes: &[u8]) -> Result<(serde_json::Value, Report)> {
    let text = utf8(path, bytes)?;
    let value = json(path, text)?;
    let not_readable = |reason: String| -> crate::error::Error {
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason,
        }
        .into()
    };
    let Some(version) = value.get("schema_version").and_then(|v| v.as_str()) else {
        return Err(not_readable(
            "JSON but not a deidentify report: no schema_version field".into(),
        ));
    };
    let major = |v: &str| v.split('.').next().unwrap_or("").to_owned();
    if major(version) != major(SCHEMA_VERSION) {
        let shown =
            if version.len() <= 16 && version.chars().all(|c| c.is_ascii_digit() || c == '.') {
                version
            } else {
                "(not a version number)"
            };
        return Err(not_readable(format!(
            "a deidentify report of schema version {shown}, which this version (schema {SCHEMA_VERSION}) does not read"
        )));
    }
    let report = from_json(path, text, "a deidentify report")?;
    Ok((value, report))
}

/// The checks of [`verify_report`] on a parsed report.
fn check(value: &serde_json::Value, report: &Report, data: Option<&Path>) -> Result<Checked> {
    let mut problems = verify_chain(&report.identification.ruleset_sha256, &report.audit);
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
    let digest = Report::content_digest(value);
    if digest != report.sign_off.content_sha256 {
        problems.push(format!(
            "the report's content was changed after sealing: it hashes to {digest}, the sign-off names {}",
            report.sign_off.content_sha256
        ));
    }
    if let Some(path) = data {
        let actual = hash_data_file(path)?;
        match &report.data.output_sha256 {
            Some(expected) if *expected == actual => {}
            Some(expected) => problems.push(format!(
                "{} hashes to {actual}, not to the released file's fingerprint {expected}",
                path.display()
            )),
            None => problems.push("the report released no data file".to_owned()),
        }
    }
    let summary = &report.summary;
    Ok(Checked {
        verification: Verification {
            intact: problems.is_empty(),
            problems,
            entries: report.audit.len(),
            data_checked: data.is_some(),
            verdict: Verdict {
                releasable: summary.passes && summary.failures.is_empty(),
                statement: summary.verdict.clone(),
                failures: summary.failures.clone(),
            },
            signature: SignatureStatus::NotChecked,
        },
        content_sha256: digest,
        output_sha256: report.data.output_sha256.clone(),
    })
}

/// The SHA-256 of a released data file, which must be a regular file (a
/// device such as `/dev/zero` would never end).
fn hash_data_file(path: &Path) -> Result<String> {
    let metadata = std::fs::metadata(path).map_err(|source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !metadata.is_file() {
        return Err(ErrorKind::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file; the released data is a file",
            ),
        }
        .into());
    }
    sha256_file(path)
}

fn is_not_found(error: &crate::error::Error) -> bool {
    matches!(error.kind(), ErrorKind::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

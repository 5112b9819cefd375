//! Signing a report: it is verified first, and only an intact report is
//! signed. The signature's message and file format are in `signature.rs`;
//! the checks, in `verify.rs`.

use std::path::Path;

use ed25519_dalek::SigningKey;

use crate::error::Result;
use crate::report::signature::ReportSignature;
use crate::report::verify::{SignatureStatus, Verification, VerifyOptions, verify_file};

/// Verifies the report at `report` ([`verify_report_file`](crate::report::verify_report_file), without a
/// signature check) and, when it is intact, signs its content digest and
/// data fingerprint with `key` and writes the signature to `signature`.
/// A report that is not intact is not signed: the returned verification
/// says why. Signing does not depend on the verdict: a determination that
/// the data is not releasable can be signed too.
///
/// # Errors
///
/// Those of [`verify_report_file`](crate::report::verify_report_file), and [`ErrorKind::Io`](crate::error::ErrorKind::Io) when the
/// signature cannot be written.
pub fn sign_report(report: &Path, key: &SigningKey, signature: &Path) -> Result<Verification> {
    let checked = verify_file(report, &VerifyOptions::default())?;
    let mut verification = checked.verification;
    if verification.intact {
        let signed = ReportSignature::sign(
            key,
            &checked.content_sha256,
            checked.output_sha256.as_deref(),
        );
        signed.write(signature)?;
        verification.signature = SignatureStatus::Valid {
            path: signature.to_path_buf(),
            public_key_sha256: signed.public_key_sha256,
        };
    }
    Ok(verification)
}

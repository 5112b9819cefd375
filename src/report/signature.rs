//! The expert's Ed25519 signature of a report, stored beside it.
//!
//! # What is signed
//!
//! The signature covers the report's content digest (`sign_off.content_sha256`,
//! SHA-256 of the report's canonical JSON; see
//! [`Report::content_digest`](crate::report::Report::content_digest))
//! and the released data's fingerprint (`data.output_sha256`). It is an
//! Ed25519 signature (RFC 8032, verified strictly) of this ASCII text, three
//! lines each ending in `\n` (the first line separates the domain: the same
//! key signing anything else never yields a valid report signature):
//!
//! ```text
//! deidentify report signature v1
//! content_sha256=<64 lowercase hex digits>
//! output_sha256=<64 lowercase hex digits, or none when no data was released>
//! ```
//!
//! Since the content digest covers every section, the signature covers the
//! whole report; the data fingerprint is named in the message as well so
//! that the signed statement says which file was released.
//!
//! # Where it is stored
//!
//! Beside the report, in `report.json.sig` (see [`signature_path`]), so the
//! report's bytes and its content digest are the same signed or not. The
//! file is JSON:
//!
//! ```json
//! {
//!   "format": "deidentify-report-signature-v1",
//!   "algorithm": "Ed25519",
//!   "public_key_sha256": "<SHA-256 of the signer's 32-byte public key>",
//!   "content_sha256": "<the signed content digest>",
//!   "output_sha256": "<the signed data fingerprint, or null>",
//!   "signature": "<the 64-byte signature, 128 hex digits>"
//! }
//! ```
//!
//! The digests are repeated there so that a verifier can say *what* changed
//! after signing; the public key fingerprint, so it can say that another
//! key signed. Neither is trusted: only the signature checked with the
//! verifier's public key over the report's own digests decides.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};
use crate::report::keys::public_key_sha256;
use crate::report::read::{from_json, json, read_limited, utf8};

/// The `format` of a signature file.
pub const SIGNATURE_FORMAT: &str = "deidentify-report-signature-v1";

/// The `algorithm` of a signature file.
pub const SIGNATURE_ALGORITHM: &str = "Ed25519";

/// The largest signature file read, in bytes (one takes about 450).
pub const MAX_SIGNATURE_BYTES: u64 = 4096;

/// The signature file of a report: its path with `.sig` appended
/// (`out/report.json` → `out/report.json.sig`).
pub fn signature_path(report: &Path) -> PathBuf {
    let mut name = report.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The message an expert signs for a report with content digest
/// `content_sha256` and released data fingerprint `output_sha256` (see the
/// module documentation).
pub fn signed_message(content_sha256: &str, output_sha256: Option<&str>) -> Vec<u8> {
    format!(
        "deidentify report signature v1\ncontent_sha256={content_sha256}\noutput_sha256={}\n",
        output_sha256.unwrap_or("none")
    )
    .into_bytes()
}

/// A signature file's content (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSignature {
    /// [`SIGNATURE_FORMAT`].
    pub format: String,
    /// [`SIGNATURE_ALGORITHM`].
    pub algorithm: String,
    /// The signer's public key fingerprint ([`public_key_sha256`]).
    pub public_key_sha256: String,
    /// The signed content digest.
    pub content_sha256: String,
    /// The signed data fingerprint (`None`: no data was released).
    pub output_sha256: Option<String>,
    /// The signature, as 128 lowercase hex digits.
    pub signature: String,
}

impl ReportSignature {
    /// Signs the content digest and data fingerprint with `key`.
    pub fn sign(key: &SigningKey, content_sha256: &str, output_sha256: Option<&str>) -> Self {
        let signature = key.sign(&signed_message(content_sha256, output_sha256));
        ReportSignature {
            format: SIGNATURE_FORMAT.to_owned(),
            algorithm: SIGNATURE_ALGORITHM.to_owned(),
            public_key_sha256: public_key_sha256(&key.verifying_key()),
            content_sha256: content_sha256.to_owned(),
            output_sha256: output_sha256.map(str::to_owned),
            signature: to_hex(&signature.to_bytes()),
        }
    }

    /// Reads a signature file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when it cannot be read (a missing file gives
    /// [`std::io::ErrorKind::NotFound`]); [`ErrorKind::Parse`] when it is
    /// larger than [`MAX_SIGNATURE_BYTES`], not UTF-8 JSON, not of this
    /// format, or a digest or the signature is not hex of the right length.
    pub fn read(path: &Path) -> Result<ReportSignature> {
        let bytes = read_limited(path, MAX_SIGNATURE_BYTES, "a signature")?;
        let text = utf8(path, &bytes)?;
        json(path, text)?;
        let signature: ReportSignature = from_json(path, text, "a report signature")?;
        let invalid = |reason: String| -> crate::error::Error {
            ErrorKind::Parse {
                path: path.to_path_buf(),
                reason,
            }
            .into()
        };
        if signature.format != SIGNATURE_FORMAT || signature.algorithm != SIGNATURE_ALGORITHM {
            return Err(invalid(format!(
                "not a signature this version reads: it reads format {SIGNATURE_FORMAT} with algorithm {SIGNATURE_ALGORITHM}"
            )));
        }
        let digests = [
            ("public_key_sha256", Some(&signature.public_key_sha256)),
            ("content_sha256", Some(&signature.content_sha256)),
            ("output_sha256", signature.output_sha256.as_ref()),
        ];
        for (field, digest) in digests {
            if digest.is_some_and(|d| from_hex::<32>(d).is_none()) {
                return Err(invalid(format!(
                    "field {field} is not a SHA-256 digest (64 lowercase hex digits)"
                )));
            }
        }
        if from_hex::<64>(&signature.signature).is_none() {
            return Err(invalid(
                "field signature is not an Ed25519 signature (128 lowercase hex digits)".into(),
            ));
        }
        Ok(signature)
    }

    /// Writes the signature file (replacing an older signature).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when it cannot be written.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        std::fs::write(path, text).map_err(|source| {
            ErrorKind::Io {
                path: path.to_path_buf(),
                source,
            }
            .into()
        })
    }

    /// Checks this signature with the public `key` (read from `key_path`,
    /// named in the messages) against a report whose content hashes to
    /// `content_sha256` and which names the data fingerprint
    /// `output_sha256`. Returns the problems; none means the key signed
    /// exactly this report and data.
    ///
    /// The signature is first checked over the digests it records: if it
    /// does not verify, the key is another (its fingerprint differs from the
    /// recorded one) or the signature file was altered. If it verifies, any
    /// difference between the recorded and the report's digests is a change
    /// made after signing.
    pub fn check(
        &self,
        key: &VerifyingKey,
        key_path: &Path,
        content_sha256: &str,
        output_sha256: Option<&str>,
    ) -> Vec<String> {
        let given = public_key_sha256(key);
        let message = signed_message(&self.content_sha256, self.output_sha256.as_deref());
        let verifies = from_hex::<64>(&self.signature)
            .map(|bytes| Signature::from_bytes(&bytes))
            .is_some_and(|signature| key.verify_strict(&message, &signature).is_ok());
        if !verifies {
            let reason = if self.public_key_sha256 != given {
                format!(
                    "it was made by another key (public key SHA-256 {}), not by this one (SHA-256 {given})",
                    self.public_key_sha256
                )
            } else {
                "the signature file was altered".to_owned()
            };
            return vec![format!(
                "the signature does not verify with the public key {}: {reason}",
                key_path.display()
            )];
        }
        let mut problems = Vec::new();
        if self.content_sha256 != content_sha256 {
            problems.push(format!(
                "the report's content was changed after signing: it hashes to {content_sha256}, the signature covers {}",
                self.content_sha256
            ));
        }
        if self.output_sha256.as_deref() != output_sha256 {
            problems.push(format!(
                "the released data's fingerprint in the report was changed after signing: it names {}, the signature covers {}",
                output_sha256.unwrap_or("no file"),
                self.output_sha256.as_deref().unwrap_or("no file")
            ));
        }
        problems
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `N` bytes from exactly `2 N` lowercase hex digits.
fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_the_documented_text() {
        let content = "ab".repeat(32);
        assert_eq!(
            String::from_utf8(signed_message(&content, None)).unwrap(),
            format!(
                "deidentify report signature v1\ncontent_sha256={content}\noutput_sha256=none\n"
            )
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_other_text() {
        let bytes: [u8; 4] = [0x00, 0x7f, 0xa5, 0xff];
        assert_eq!(to_hex(&bytes), "007fa5ff");
        assert_eq!(from_hex::<4>("007fa5ff"), Some(bytes));
        assert_eq!(from_hex::<4>("007FA5FF"), None);
        assert_eq!(from_hex::<4>("007fa5f"), None);
        assert_eq!(from_hex::<4>("007fa5fg"), None);
    }

    #[test]
    fn signature_paths_append_sig() {
        assert_eq!(
            signature_path(Path::new("out/report.json")),
            Path::new("out/report.json.sig")
        );
    }

    /// RFC 8032 §7.1, test 1: the empty message under a known key, so the
    /// signing is Ed25519 itself and not something that merely round-trips.
    #[test]
    fn ed25519_matches_rfc_8032() {
        let secret =
            from_hex::<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let key = SigningKey::from_bytes(&secret);
        assert_eq!(
            to_hex(key.verifying_key().as_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            to_hex(&key.sign(b"").to_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }
}

//! The expert's Ed25519 key files: generating a key pair, reading the
//! private key (owner-only permissions required) and the public key, and
//! the public key's fingerprint.
//!
//! Keys are stored as PEM, the form `openssl` reads and writes: the private
//! key as PKCS#8 (`-----BEGIN PRIVATE KEY-----`, RFC 8410), the public key
//! as SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). DER files are
//! read too. So `openssl genpkey -algorithm ed25519 -out expert.key` and
//! `openssl pkey -in expert.key -pubout -out expert.pub` make a pair this
//! library uses, and the other way round. Encrypted private keys are not
//! read. No error ever contains a key file's content.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::error::{ErrorKind, Result};
use crate::report::digest::sha256_hex;
use crate::report::read::read_limited;

/// The largest key file read, in bytes (an Ed25519 key in PEM takes about
/// 120).
pub const MAX_KEY_BYTES: u64 = 4096;

/// The public key file written beside a private key: the same path with
/// the extension `pub` (`expert.key` → `expert.pub`, `expert` →
/// `expert.pub`).
pub fn public_key_path(private_key: &Path) -> PathBuf {
    private_key.with_extension("pub")
}

/// The fingerprint of a public key: SHA-256 of its 32 raw bytes, as 64 hex
/// digits. From a PEM file: `openssl pkey -pubin -in expert.pub -outform
/// DER | tail -c 32 | sha256sum`.
pub fn public_key_sha256(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())
}

/// Generates a key pair from the operating system's random source and
/// writes the private key to `private_key` (PKCS#8 PEM, permissions 0600 on
/// Unix) and the public key to [`public_key_path`]. Returns the public key
/// and its path.
///
/// # Errors
///
/// [`ErrorKind::Io`] when either file already exists (nothing is
/// overwritten), when `private_key` has the extension `pub`, or when a file
/// cannot be written; [`ErrorKind::InvalidParameter`] when the operating
/// system gives no randomness.
pub fn generate_key_pair(private_key: &Path) -> Result<(VerifyingKey, PathBuf)> {
    let public_path = public_key_path(private_key);
    if public_path == private_key {
        return Err(io_error(
            private_key,
            std::io::ErrorKind::InvalidInput,
            "a private key file must not end in .pub (the public key is written there)",
        ));
    }
    for path in [private_key, public_path.as_path()] {
        if path.exists() {
            return Err(io_error(
                path,
                std::io::ErrorKind::AlreadyExists,
                "the file exists; a key file is never overwritten",
            ));
        }
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, secret.as_mut()).map_err(|e| {
        ErrorKind::InvalidParameter {
            name: "key".into(),
            reason: format!("the operating system gives no randomness: {e}"),
        }
    })?;
    let key = SigningKey::from_bytes(&secret);
    let line_ending = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    let private_pem = key.to_pkcs8_pem(line_ending).map_err(|_| {
        io_error(
            private_key,
            std::io::ErrorKind::InvalidData,
            "cannot encode the private key",
        )
    })?;
    let public = key.verifying_key();
    let public_pem = public.to_public_key_pem(line_ending).map_err(|_| {
        io_error(
            &public_path,
            std::io::ErrorKind::InvalidData,
            "cannot encode the public key",
        )
    })?;
    write_new(private_key, private_pem.as_bytes(), true)?;
    if let Err(e) = write_new(&public_path, public_pem.as_bytes(), false) {
        let _ = std::fs::remove_file(private_key);
        return Err(e);
    }
    Ok((public, public_path))
}

/// Reads the private key from `path` (PKCS#8, PEM or DER, unencrypted).
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be read or, on Unix, when its
/// group or others may access it (`chmod 600` it); [`ErrorKind::Parse`]
/// when it is larger than [`MAX_KEY_BYTES`] or not an Ed25519 private key
/// (the error names the kind of file found, never its content).
pub fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let bytes = Zeroizing::new(read_limited(path, MAX_KEY_BYTES, "a key")?);
    let key = match pem_label(&bytes) {
        Some("PRIVATE KEY") => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|pem| SigningKey::from_pkcs8_pem(pem).ok()),
        Some(_) => None,
        None => SigningKey::from_pkcs8_der(&bytes).ok(),
    };
    let key = key.ok_or_else(|| {
        not_a_key(
            path,
            &bytes,
            "an Ed25519 private key (unencrypted PKCS#8, PEM or DER)",
        )
    })?;
    check_owner_only(path)?;
    Ok(key)
}

/// Reads a public key from `path` (SubjectPublicKeyInfo, PEM or DER).
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be read; [`ErrorKind::Parse`]
/// when it is larger than [`MAX_KEY_BYTES`] or not an Ed25519 public key (a
/// private key given here is refused as such, without reading it further).
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey> {
    let bytes = Zeroizing::new(read_limited(path, MAX_KEY_BYTES, "a key")?);
    let key = match pem_label(&bytes) {
        Some("PUBLIC KEY") => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|pem| VerifyingKey::from_public_key_pem(pem).ok()),
        Some(_) => None,
        None => VerifyingKey::from_public_key_der(&bytes).ok(),
    };
    key.ok_or_else(|| {
        not_a_key(
            path,
            &bytes,
            "an Ed25519 public key (SubjectPublicKeyInfo, PEM or DER)",
        )
    })
}

/// The label of the first PEM block (`PRIVATE KEY`, `PUBLIC KEY`, …), if
/// the bytes start like PEM.
fn pem_label(bytes: &[u8]) -> Option<&str> {
    let first_line = bytes.trim_ascii_start().split(|&b| b == b'\n').next()?;
    std::str::from_utf8(first_line)
        .ok()?
        .trim_end()
        .strip_prefix("-----BEGIN ")?
        .strip_suffix("-----")
}

/// The error for a file that is not the expected key, naming what it is
/// when that is recognizable from its PEM label (a fixed set of words; the
/// label itself is never echoed).
fn not_a_key(path: &Path, bytes: &[u8], expected: &str) -> crate::error::Error {
    let public_expected = expected.contains("public");
    let found = match (pem_label(bytes), public_expected) {
        (Some("PRIVATE KEY"), true) => {
            "a private key; give the public key (the .pub file), never the private key"
        }
        (Some("PUBLIC KEY"), false) => "a public key; signing needs the private key",
        (Some("PRIVATE KEY"), false) => "a private key that is not Ed25519, or is damaged",
        (Some("PUBLIC KEY"), true) => "a public key that is not Ed25519, or is damaged",
        (Some("ENCRYPTED PRIVATE KEY"), _) => {
            "an encrypted private key, which is not supported (decrypt it with openssl pkey)"
        }
        (Some(label), _) if label.ends_with("PRIVATE KEY") => {
            "a private key in another format (OpenSSH, PKCS#1…)"
        }
        (Some(_), _) => "a PEM file of another kind",
        (None, _) => "a file that is neither PEM nor a DER key of that kind",
    };
    ErrorKind::Parse {
        path: path.to_path_buf(),
        reason: format!("not {expected}: found {found}"),
    }
    .into()
}

/// Refuses a private key file that its group or others may access.
#[cfg(unix)]
fn check_owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).map_err(|source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(io_error(
            path,
            std::io::ErrorKind::PermissionDenied,
            &format!(
                "permissions {mode:04o} let others read the private key; it must be readable by its owner only (chmod 600 the file)"
            ),
        ));
    }
    Ok(())
}

/// Permissions are not checked off Unix.
#[cfg(not(unix))]
fn check_owner_only(_path: &Path) -> Result<()> {
    Ok(())
}

/// Writes a new file (never replacing one), owner-only when `private`.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let io = |source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

fn io_error(path: &Path, kind: std::io::ErrorKind, message: &str) -> crate::error::Error {
    ErrorKind::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(kind, message.to_owned()),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_labels_are_read_from_the_first_line_only() {
        assert_eq!(
            pem_label(b"\n-----BEGIN PRIVATE KEY-----\nMC4C\n"),
            Some("PRIVATE KEY")
        );
        assert_eq!(pem_label(b"-----BEGIN PUBLIC KEY-----"), Some("PUBLIC KEY"));
        assert_eq!(pem_label(&[0x30, 0x2a, 0x30, 0x05]), None);
        assert_eq!(pem_label(b"secret text"), None);
    }

    #[test]
    fn public_key_paths_replace_the_extension() {
        assert_eq!(
            public_key_path(Path::new("keys/expert.key")),
            Path::new("keys/expert.pub")
        );
        assert_eq!(
            public_key_path(Path::new("expert")),
            Path::new("expert.pub")
        );
    }
}

//! Stable keyed tokens for identifiers.

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

/// The shortest accepted key.
pub const MIN_KEY_BYTES: usize = 32;

/// A secret tokenization key. It is never printed: `Debug` shows only its
/// fingerprint, and the bytes are wiped from memory when dropped.
pub struct TokenKey {
    bytes: Zeroizing<Vec<u8>>,
}

impl TokenKey {
    /// A key from raw bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when shorter than [`MIN_KEY_BYTES`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<TokenKey> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < MIN_KEY_BYTES {
            return Err(Error::parameter(
                "key",
                format!(
                    "the token key has {} bytes; at least {MIN_KEY_BYTES} are required",
                    bytes.len()
                ),
            ));
        }
        Ok(TokenKey { bytes })
    }

    /// Reads a key file (its raw bytes, a trailing newline removed).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be read (the error names the
    /// path, never the contents), and the errors of [`TokenKey::from_bytes`].
    pub fn from_file(path: &Path) -> Result<TokenKey> {
        let mut bytes = std::fs::read(path).map_err(|source| ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        })?;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        TokenKey::from_bytes(bytes)
    }

    /// Reads a key from an environment variable.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the variable is not set, and the
    /// errors of [`TokenKey::from_bytes`].
    pub fn from_env(variable: &str) -> Result<TokenKey> {
        let value = std::env::var_os(variable).ok_or_else(|| {
            Error::parameter(
                "key",
                format!("the environment variable {variable} is not set"),
            )
        })?;
        TokenKey::from_bytes(value.into_encoded_bytes())
    }

    /// A public fingerprint of the key (16 hex digits), for reports and the
    /// audit trail: it identifies the key without revealing it.
    pub fn fingerprint(&self) -> String {
        let digest = blake3::derive_key("deidentify 2026-11 token-key fingerprint", &self.bytes);
        hex(&digest[..8])
    }

    /// The tokenizer of one column: the column key is derived from this key
    /// and the column name (domain separation), so equal values in different
    /// columns get unrelated tokens.
    pub fn column(&self, column: &str) -> ColumnTokenizer {
        let mut material = Zeroizing::new(self.bytes.to_vec());
        material.extend_from_slice(b"\0column\0");
        material.extend_from_slice(column.as_bytes());
        ColumnTokenizer {
            key: Zeroizing::new(blake3::derive_key(
                "deidentify 2026-11 column token key",
                &material,
            )),
        }
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey(fingerprint {})", self.fingerprint())
    }
}

/// Tokenizes the values of one column: keyed BLAKE3 of the value, 128 bits
/// as 32 hex digits. The same value always gives the same token (records
/// stay linkable); without the key a token cannot be computed or reversed
/// (see 45 CFR 164.514(c) and METHODS.md §1.5: a code derived from an
/// identifier is acceptable under Expert Determination when the key is not
/// disclosed; Safe Harbor releases should use random surrogates instead).
pub struct ColumnTokenizer {
    key: Zeroizing<[u8; 32]>,
}

impl ColumnTokenizer {
    /// The token of `value`.
    pub fn token(&self, value: &str) -> String {
        let hash = blake3::keyed_hash(&self.key, value.as_bytes());
        hex(&hash.as_bytes()[..16])
    }
}

impl fmt::Debug for ColumnTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ColumnTokenizer(..)")
    }
}

/// Lower-case hexadecimal.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::from_bytes(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    #[test]
    fn tokens_are_stable_column_separated_and_keyed() {
        let mrn = key().column("mrn");
        assert_eq!(mrn.token("12345"), key().column("mrn").token("12345"));
        assert_eq!(mrn.token("12345").len(), 32);
        assert_ne!(mrn.token("12345"), mrn.token("12346"));
        assert_ne!(mrn.token("12345"), key().column("ssn").token("12345"));
        let other = TokenKey::from_bytes(b"another key of thirty-two bytes!".to_vec()).unwrap();
        assert_ne!(mrn.token("12345"), other.column("mrn").token("12345"));
    }

    #[test]
    fn keys_never_print_and_must_be_long() {
        let shown = format!("{:?}", key());
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert!(shown.starts_with("TokenKey(fingerprint "));
        let err = TokenKey::from_bytes(b"short".to_vec()).unwrap_err();
        assert!(!err.to_string().contains("short"), "{err}");
        assert!(TokenKey::from_env("DEIDENTIFY_SURELY_UNSET_VARIABLE").is_err());
        assert!(TokenKey::from_file(Path::new("/nonexistent/key")).is_err());
    }

    #[test]
    fn no_collisions_in_a_million_values() {
        let tokenizer = key().column("id");
        let mut seen = std::collections::HashSet::with_capacity(1_000_000);
        for i in 0..1_000_000u32 {
            assert!(
                seen.insert(tokenizer.token(&i.to_string())),
                "collision at {i}"
            );
        }
    }
}

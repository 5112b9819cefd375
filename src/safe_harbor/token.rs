//! Stable keyed tokens for identifiers.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::files::{MAX_KEY_FILE_BYTES, read_limited};

/// The shortest accepted key.
pub const MIN_KEY_BYTES: usize = 32;

/// How a key file holds its key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyEncoding {
    /// Every byte of the file is key material (`head -c 32 /dev/urandom`).
    #[default]
    Raw,
    /// Hexadecimal text (`openssl rand -hex 32`).
    Hex,
    /// Standard base64 text (`openssl rand -base64 32`).
    Base64,
}

impl fmt::Display for KeyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyEncoding::Raw => "raw",
            KeyEncoding::Hex => "hex",
            KeyEncoding::Base64 => "base64",
        })
    }
}

impl std::str::FromStr for KeyEncoding {
    type Err = Error;

    fn from_str(text: &str) -> Result<KeyEncoding> {
        match text {
            "raw" => Ok(KeyEncoding::Raw),
            "hex" => Ok(KeyEncoding::Hex),
            "base64" => Ok(KeyEncoding::Base64),
            _ => Err(Error::parameter(
                "key encoding",
                "expected raw, hex or base64",
            )),
        }
    }
}

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
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) when shorter than [`MIN_KEY_BYTES`].
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
        if bytes.iter().all(|&b| b == bytes[0]) {
            return Err(Error::parameter(
                "key",
                "the token key repeats one byte (all zeros, say): it is not secret; make one with `head -c 32 /dev/urandom`",
            ));
        }
        Ok(TokenKey { bytes })
    }

    /// Reads a key file as raw bytes: every byte is key material, a final
    /// newline byte included (a random key ends in `0x0A` one time in 256).
    /// For a key written as text, see [`TokenKey::from_file_as`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be read (the error names the
    /// path, never the contents), and the errors of [`TokenKey::from_bytes`].
    pub fn from_file(path: &Path) -> Result<TokenKey> {
        TokenKey::from_file_as(path, KeyEncoding::Raw)
    }

    /// Reads a key file in the declared encoding: raw bytes, or hexadecimal
    /// or standard base64 text (surrounding whitespace ignored). A text key
    /// is accepted only when declared, so a raw key is never misread.
    ///
    /// # Errors
    ///
    /// As [`TokenKey::from_file`]; [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) when the
    /// text is not valid in the declared encoding (the message never shows
    /// the file's content). Files over 64 KiB are refused unread.
    pub fn from_file_as(path: &Path, encoding: KeyEncoding) -> Result<TokenKey> {
        let bytes = Zeroizing::new(read_limited(path, MAX_KEY_FILE_BYTES, "a key file")?);
        let text = || {
            std::str::from_utf8(&bytes).map(str::trim).map_err(|_| {
                Error::parameter(
                    "key",
                    format!(
                        "{} is not text, but the key was declared as {encoding}",
                        path.display()
                    ),
                )
            })
        };
        let invalid = || {
            Error::parameter(
                "key",
                format!("{} is not valid {encoding} text", path.display()),
            )
        };
        let material = match encoding {
            KeyEncoding::Raw => bytes.to_vec(),
            KeyEncoding::Hex => hex::decode(text()?).map_err(|_| invalid())?,
            KeyEncoding::Base64 => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(text()?)
                    .map_err(|_| invalid())?
            }
        };
        TokenKey::from_bytes(material)
    }

    /// Reads a key from an environment variable.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) when the variable is not set, and the
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
/// (see 45 CFR 164.514(c) and [§1.5](crate::methods#15-re-identification-codes): a code derived from an
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

    fn key_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("deidentify-token-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_raw_key_file_keeps_every_byte_a_final_newline_included() {
        let mut bytes: Vec<u8> = (1u8..=31).collect();
        bytes.push(b'\n');
        let path = key_file("newline", &bytes);
        let read = TokenKey::from_file(&path).unwrap();
        let direct = TokenKey::from_bytes(bytes.clone()).unwrap();
        assert_eq!(read.fingerprint(), direct.fingerprint());
        // Before, the newline was dropped and a 31-byte key refused.
        assert_eq!(read.bytes.len(), 32);
    }

    #[test]
    fn text_keys_are_read_only_when_declared() {
        let bytes: Vec<u8> = (0u8..32)
            .map(|b| b.wrapping_mul(7).wrapping_add(3))
            .collect();
        let expected = TokenKey::from_bytes(bytes.clone()).unwrap().fingerprint();
        let hex_file = key_file("hex", format!("{}\n", hex::encode(&bytes)).as_bytes());
        assert_eq!(
            TokenKey::from_file_as(&hex_file, KeyEncoding::Hex)
                .unwrap()
                .fingerprint(),
            expected
        );
        // Undeclared, the 65 bytes of text are the key (not decoded).
        assert_ne!(
            TokenKey::from_file(&hex_file).unwrap().fingerprint(),
            expected
        );
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let b64_file = key_file("b64", b64.as_bytes());
        assert_eq!(
            TokenKey::from_file_as(&b64_file, KeyEncoding::Base64)
                .unwrap()
                .fingerprint(),
            expected
        );
        let bad = key_file(
            "bad-hex",
            b"zz0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd",
        );
        let err = TokenKey::from_file_as(&bad, KeyEncoding::Hex)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is not valid hex text") && !err.contains("zz01"),
            "{err}"
        );
        assert_eq!(
            "base64".parse::<KeyEncoding>().unwrap(),
            KeyEncoding::Base64
        );
        assert!("utf8".parse::<KeyEncoding>().is_err());
    }

    #[test]
    fn constant_and_oversized_keys_are_refused() {
        for byte in [0u8, 0xff, b'a'] {
            let err = TokenKey::from_bytes(vec![byte; 32])
                .unwrap_err()
                .to_string();
            assert!(err.contains("repeats one byte"), "{err}");
        }
        let big = key_file("big", &vec![7u8; 70 * 1024]);
        let err = TokenKey::from_file(&big).unwrap_err().to_string();
        assert!(
            err.contains("larger than the limit of 64 KiB for a key file"),
            "{err}"
        );
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

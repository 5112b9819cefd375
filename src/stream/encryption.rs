//! Encryption at rest for the files the streaming path writes: frequency
//! tables ([`crate::stream::LabeledTable`]) and the streamed output
//! ([`crate::stream::StreamedTable::apply_to_file`]), with a [`StagingKey`] (whose
//! documentation gives the format and the guarantees).
//!
//! # Why age
//!
//! The files are [age](https://age-encryption.org/v1) files encrypted to an
//! X25519 key, written and read with the `age` crate, rather than a format
//! of our own over an AEAD (AES-256-GCM or ChaCha20-Poly1305 in RustCrypto's
//! STREAM construction):
//!
//! - It interoperates: the files decrypt with the `age` tool (or `rage`, or
//!   the Go library) without this crate, which an audit or a recovery needs;
//!   our own format would need our program to read it.
//! - It is keyed like the tokens ([`crate::safe_harbor::TokenKey`]): one key file, or the
//!   key in an environment variable ([`STAGING_KEY_ENV`]); the key file is
//!   what `age-keygen` writes.
//! - It already is the STREAM construction: the payload is
//!   ChaCha20-Poly1305 in 64 KiB chunks with a counter nonce and a
//!   last-chunk flag, under a fresh random file key per file, so it is
//!   written and read as a stream, every chunk is authenticated, and a file
//!   cut at any point, a changed byte or another key is an error, never
//!   altered data. The header (the file key wrapped to the recipient)
//!   carries an HMAC. Nothing of this is ours to get wrong.
//! - The `age` crate (rage, by Jack Grigg) is the maintained Rust
//!   implementation, tested against the format's shared test vectors
//!   (`tests/testkit.rs` in the crate), with the secret key wiped on drop.
//!
//! The price is its dependencies (about 90 small crates, mostly RustCrypto)
//! and a header of about 200 bytes per file; the cost in time is measured in
//! `docs/SCALE.md`.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

/// The environment variable the example programs read a staging key from
/// when no key file is given: the `AGE-SECRET-KEY-1…` line of a key file.
pub const STAGING_KEY_ENV: &str = "DEIDENTIFY_STAGING_KEY";

/// The first bytes of a binary age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// The first bytes of an armored (`age -a`) file.
const ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// A secret key for encrypted staging files (an age X25519 identity). It is
/// never printed: `Debug` shows only its fingerprint, and the secret is
/// wiped from memory when dropped.
///
/// # Format
///
/// An encrypted file is an [age](https://age-encryption.org/v1) file
/// (binary, version 1) encrypted to the public key ([`StagingKey::recipient`])
/// of the staging key; its plaintext is exactly the Parquet (or CSV) bytes
/// the plaintext path writes. Whoever holds the key file can decrypt it by
/// hand with the `age` command-line tool:
///
/// ```sh
/// age -d -i staging-key.txt table.parquet > table-plain.parquet
/// ```
///
/// and a file encrypted with `age -r <public key>` (armored with `-a` or
/// not) reads like one written here. The key file is an age identity file,
/// as `age-keygen -o staging-key.txt` writes it (or
/// [`StagingKey::write_new_file`]): comment lines starting with `#`, and one
/// `AGE-SECRET-KEY-1…` line; [`STAGING_KEY_ENV`] holds that line.
///
/// # Guarantees
///
/// - Authenticated encryption: reading with another key, a truncated file or
///   a file with any byte changed fails with [`ErrorKind::Parse`] naming the
///   file and the problem; nothing is parsed before the whole file has
///   authenticated.
/// - No downgrade: a reader given a key refuses a plaintext file; a reader
///   given no key refuses an encrypted file (saying it is encrypted and
///   asking for its key) instead of parsing ciphertext.
/// - No plaintext on disk: data is encrypted in memory before it reaches the
///   file, so the temporary `.<name>.partial` and whatever a failed or
///   interrupted write leaves hold only ciphertext; decryption goes to
///   memory, never to a file.
/// - The key is never printed: `Debug` shows a fingerprint; errors never
///   contain key material.
///
/// Plaintext does live in memory while a table is built or parsed (the
/// Parquet library's buffers are not wiped): this protects files at rest,
/// not a process's memory.
///
/// # Examples
///
/// ```no_run
/// use deidentify::Ruleset;
/// use deidentify::stream::{LabeledTable, StagingKey, StreamOptions, StreamedTable};
///
/// let key = StagingKey::from_file("staging-key.txt".as_ref())?; // or StagingKey::from_env(..)
/// let options = StreamOptions::default().with_staging_key(key.clone());
/// let ruleset = Ruleset::from_file("census.toml".as_ref())?;
/// let streamed = StreamedTable::from_ruleset(&ruleset, &options)?;
/// let mut part = streamed.labeled()?;
/// part.set_partial(true);
/// part.write_parquet_with_key("part1.table.parquet".as_ref(), Some(&key))?; // ciphertext only
/// let read = LabeledTable::read_parquet_with_key("part1.table.parquet".as_ref(), Some(&key))?;
/// assert_eq!(read.total_rows(), part.total_rows());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct StagingKey {
    identity: age::x25519::Identity,
}

impl StagingKey {
    /// A new random key.
    pub fn generate() -> StagingKey {
        StagingKey {
            identity: age::x25519::Identity::generate(),
        }
    }

    /// A key from the text of an age identity file: lines starting with
    /// `#` and blank lines are skipped, and exactly one `AGE-SECRET-KEY-1…`
    /// line must remain.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when no line or several lines
    /// remain, or the line is not an X25519 age secret key (the error never
    /// repeats the text).
    pub fn from_identity_text(text: &str) -> Result<StagingKey> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let (Some(line), None) = (lines.next(), lines.next()) else {
            return Err(Error::parameter(
                "staging key",
                "the key must hold exactly one AGE-SECRET-KEY-1… line (besides # comments)",
            ));
        };
        let identity = age::x25519::Identity::from_str(line).map_err(|reason| {
            Error::parameter(
                "staging key",
                format!("not an age X25519 secret key (AGE-SECRET-KEY-1…): {reason}"),
            )
        })?;
        Ok(StagingKey { identity })
    }

    /// Reads an age identity file (as `age-keygen` writes it).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be read (naming the path, never
    /// the contents), [`ErrorKind::Parse`] when it is larger than 64 KiB (not
    /// a key file), and the errors of [`StagingKey::from_identity_text`].
    pub fn from_file(path: &Path) -> Result<StagingKey> {
        let bytes = Zeroizing::new(crate::files::read_limited(
            path,
            crate::files::MAX_KEY_FILE_BYTES,
            "a key file",
        )?);
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::parameter(
                "staging key",
                format!("the key file {} is not UTF-8 text", path.display()),
            )
        })?;
        StagingKey::from_identity_text(text).map_err(|e| match e.into_kind() {
            ErrorKind::InvalidParameter { name, reason } => {
                Error::parameter(name, format!("key file {}: {reason}", path.display()))
            }
            other => other.into(),
        })
    }

    /// Reads a key from an environment variable holding the
    /// `AGE-SECRET-KEY-1…` line (see [`STAGING_KEY_ENV`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] when the variable is not set or not
    /// Unicode, and the errors of [`StagingKey::from_identity_text`].
    pub fn from_env(variable: &str) -> Result<StagingKey> {
        let value = Zeroizing::new(
            std::env::var_os(variable)
                .ok_or_else(|| {
                    Error::parameter(
                        "staging key",
                        format!("the environment variable {variable} is not set"),
                    )
                })?
                .into_encoded_bytes(),
        );
        let text = std::str::from_utf8(&value).map_err(|_| {
            Error::parameter(
                "staging key",
                format!("the environment variable {variable} is not UTF-8"),
            )
        })?;
        StagingKey::from_identity_text(text)
    }

    /// Writes the key to a new identity file at `path` in the format of
    /// `age-keygen` (a `# public key:` comment, then the secret line),
    /// readable by its owner only (mode 600 on Unix). An existing file is
    /// never overwritten.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file exists or cannot be written.
    pub fn write_new_file(&self, path: &Path) -> Result<()> {
        let io = |source| ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        let secret = self.identity.to_string();
        let text = Zeroizing::new(format!(
            "# deidentify staging key (age X25519 identity)\n# public key: {}\n{}\n",
            self.recipient(),
            secret.expose_secret()
        ));
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io(e).into())
    }

    /// The public key (`age1…`): what `age -r` encrypts to and what
    /// `age-keygen -y` prints for the key file. It is not secret.
    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    /// A public fingerprint of the key (16 hex digits, derived from the
    /// public key), for logs and error messages.
    pub fn fingerprint(&self) -> String {
        let digest = blake3::derive_key(
            "deidentify 2026-11 staging-key fingerprint",
            self.recipient().as_bytes(),
        );
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Decrypts a whole encrypted file into memory (never to disk) after
    /// authenticating every byte of it: for a streamed output written with
    /// the key, or any file encrypted to it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when the file cannot be read; [`ErrorKind::Parse`]
    /// when it is not encrypted, is encrypted to another key, is truncated
    /// or was altered.
    pub fn decrypt_file(&self, path: &Path) -> Result<Zeroizing<Vec<u8>>> {
        let io = |source| ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let length = file.metadata().map_err(io)?.len();
        let mut input = BufReader::new(file);
        if !is_encrypted(&mut input).map_err(io)? {
            return Err(parse_error(path, NOT_ENCRYPTED));
        }
        self.decrypt(input, length, path)
    }

    /// Decrypts `input` (an age file of about `length` bytes, binary or
    /// armored) into memory; `path` names it in errors.
    pub(crate) fn decrypt<R: Read>(
        &self,
        input: R,
        length: u64,
        path: &Path,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let failure = |reason: String| parse_error(path, &reason);
        let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(input))
            .map_err(|e| failure(self.explain(e)))?;
        let mut reader = decryptor
            .decrypt(std::iter::once(&self.identity as &dyn age::Identity))
            .map_err(|e| failure(self.explain(e)))?;
        // The plaintext is shorter than the file: with that capacity the
        // buffer never moves, so no unwiped copy is left behind.
        let mut plaintext = Zeroizing::new(Vec::with_capacity(
            usize::try_from(length).unwrap_or(0).saturating_add(64),
        ));
        reader.read_to_end(&mut plaintext).map_err(|e| {
            failure(match e.kind() {
                io::ErrorKind::UnexpectedEof => "the encrypted file is truncated".to_owned(),
                io::ErrorKind::InvalidData => "the encrypted data does not authenticate: \
                     the file was altered, damaged or truncated"
                    .to_owned(),
                _ => format!("cannot decrypt: {e}"),
            })
        })?;
        Ok(plaintext)
    }

    /// Why a file does not decrypt, in words (never with key material).
    fn explain(&self, error: age::DecryptError) -> String {
        match error {
            age::DecryptError::NoMatchingKeys => format!(
                "the file is not encrypted to the staging key given (fingerprint {}), \
                 or its header was altered",
                self.fingerprint()
            ),
            age::DecryptError::InvalidMac => {
                "the encryption header does not authenticate: the file was altered".to_owned()
            }
            age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
                "the encryption header is damaged, truncated or of an unknown age version"
                    .to_owned()
            }
            age::DecryptError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                "the encrypted file is truncated (in its header)".to_owned()
            }
            age::DecryptError::Io(e) => format!("cannot decrypt: {e}"),
            _ => "cannot decrypt: the file was altered or is not for this key".to_owned(),
        }
    }

    /// An encrypting writer over `output` (the age header is written now).
    fn encryptor<W: Write>(&self, output: W) -> io::Result<age::stream::StreamWriter<W>> {
        let recipient = self.identity.to_public();
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| io::Error::other(e.to_string()))?;
        encryptor.wrap_output(output)
    }
}

impl fmt::Debug for StagingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StagingKey(fingerprint {})", self.fingerprint())
    }
}

/// Two keys are equal when their public keys are.
impl PartialEq for StagingKey {
    fn eq(&self, other: &StagingKey) -> bool {
        self.recipient() == other.recipient()
    }
}

impl Eq for StagingKey {}

/// The reason given for a plaintext file where a key was given.
pub(crate) const NOT_ENCRYPTED: &str = "the file is not encrypted, but a staging key was given \
     (encryption is required: a plaintext file is not read)";

/// The reason given for an encrypted file where no key was given.
pub(crate) const NEEDS_KEY: &str = "the file is encrypted (age); give its staging key to read it";

/// A [`ErrorKind::Parse`] error for `path`.
pub(crate) fn parse_error(path: &Path, reason: &str) -> Error {
    ErrorKind::Parse {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
    .into()
}

/// Whether `input` starts like an age file (binary or armored), without
/// consuming it.
pub(crate) fn is_encrypted<R: io::BufRead>(input: &mut R) -> io::Result<bool> {
    // fill_buf returns at least the start of a file (8 KiB by default).
    let start = input.fill_buf()?;
    Ok(start.starts_with(AGE_MAGIC) || start.starts_with(ARMOR_MAGIC))
}

/// Where written bytes go: straight to the file, or through age.
pub(crate) enum Sink<W: Write> {
    /// Plaintext.
    Plain(W),
    /// Encrypted as written (64 KiB chunks; nothing reaches `W` unencrypted).
    Encrypted(Box<age::stream::StreamWriter<W>>),
}

impl<W: Write> Sink<W> {
    /// A sink over `output`, encrypting to `key` if given (the age header is
    /// written at once).
    pub(crate) fn new(output: W, key: Option<&StagingKey>) -> io::Result<Sink<W>> {
        Ok(match key {
            None => Sink::Plain(output),
            Some(key) => Sink::Encrypted(Box::new(key.encryptor(output)?)),
        })
    }

    /// Writes the last chunk (encrypted), flushes and returns the output.
    pub(crate) fn finish(self) -> io::Result<W> {
        let mut output = match self {
            Sink::Plain(output) => output,
            Sink::Encrypted(writer) => writer.finish()?,
        };
        output.flush()?;
        Ok(output)
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Encrypted(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Encrypted(w) => w.flush(),
        }
    }
}

/// Writes to `path` through its temporary name `.<name>.partial`
/// (`crate::apply::replace_atomically`: owner-only, links followed,
/// special files refused), renamed on success and removed on any failure
/// (the rename included): `write`
/// gets the sink over the temporary file (encrypting when `key` is given)
/// and reports its own failures as a reason.
pub(crate) fn write_through_temporary(
    path: &Path,
    key: Option<&StagingKey>,
    write: impl FnOnce(&mut Sink<File>) -> std::result::Result<(), Error>,
) -> Result<()> {
    let io = |source| -> Error {
        ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        }
        .into()
    };
    crate::apply::replace_atomically(path, |file| {
        let mut sink = Sink::new(file, key).map_err(io)?;
        write(&mut sink)?;
        sink.finish().map_err(io)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(key: &StagingKey, plaintext: &[u8]) -> Vec<u8> {
        let mut sink = Sink::new(Vec::new(), Some(key)).unwrap();
        sink.write_all(plaintext).unwrap();
        sink.finish().unwrap()
    }

    #[test]
    fn round_trip_in_memory_across_chunks() {
        let key = StagingKey::generate();
        // Three full 64 KiB chunks and a bit: the chunking is exercised.
        let plaintext: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let ciphertext = encrypt(&key, &plaintext);
        assert!(ciphertext.starts_with(AGE_MAGIC));
        assert!(ciphertext.len() > plaintext.len());
        let decrypted = key
            .decrypt(&ciphertext[..], ciphertext.len() as u64, Path::new("x"))
            .unwrap();
        assert_eq!(&decrypted[..], &plaintext[..]);
        // Another key, or the stream cut at a chunk boundary, fails.
        let other = StagingKey::generate();
        let e = other
            .decrypt(&ciphertext[..], 0, Path::new("x"))
            .unwrap_err();
        assert!(
            e.to_string().contains("not encrypted to the staging key"),
            "{e}"
        );
        let header = ciphertext.len() - (plaintext.len() + 4 * 16);
        let cut = &ciphertext[..header + 2 * (65_536 + 16)];
        let e = key.decrypt(cut, 0, Path::new("x")).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    #[test]
    fn keys_never_print_and_parse_only_identity_files() {
        let key = StagingKey::generate();
        let secret = key.identity.to_string();
        let secret = secret.expose_secret();
        let shown = format!("{key:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains(&secret[15..30]), "{shown}");
        assert_eq!(
            shown,
            format!("StagingKey(fingerprint {})", key.fingerprint())
        );
        // The identity file text, with comments, reads back to the same key.
        let text = format!(
            "# created: now\n# public key: {}\n\n{secret}\n",
            key.recipient()
        );
        assert_eq!(StagingKey::from_identity_text(&text).unwrap(), key);
        // Two keys, none, or a damaged key are errors that do not echo it.
        let two = format!("{secret}\n{secret}\n");
        assert!(StagingKey::from_identity_text(&two).is_err());
        assert!(StagingKey::from_identity_text("# nothing\n").is_err());
        // (Its last character changed, whatever it was: a fixed replacement
        // would leave one key in 32 intact.)
        let last = if secret.ends_with('X') { 'Q' } else { 'X' };
        let damaged = format!("{}{last}", &secret[..secret.len() - 1]);
        assert_ne!(damaged, *secret);
        let e = StagingKey::from_identity_text(&damaged).unwrap_err();
        assert!(!e.to_string().contains(&damaged[15..]), "{e}");
        assert!(StagingKey::from_env("DEIDENTIFY_SURELY_UNSET_VARIABLE").is_err());
    }
}

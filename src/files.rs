//! Reading a file whole but bounded: a huge or endless input (`/dev/zero`,
//! a mistyped path to a data file where a key was expected) fails with an
//! error instead of filling memory. Every key, signature and report file
//! the crate reads goes through [`read_limited`].

use std::io::Read;
use std::path::Path;

use crate::error::{ErrorKind, Result};

/// The largest token-key or staging-key file read (64 KiB): a key is a few
/// dozen bytes, so anything larger is not a key file.
pub(crate) const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Reads at most `limit` bytes of `path`; `what` names the file's role in
/// the error ("a report", "a signature", "a key").
///
/// The buffer is allocated once, at the file's size (for a regular file) or
/// at the limit, so a secret read this way is not left behind in freed
/// reallocations.
///
/// # Errors
///
/// [`ErrorKind::Io`] when the file cannot be opened or read (it names the
/// path and the system's reason: no such file, permission denied, is a
/// directory…); [`ErrorKind::Parse`] when it holds more than `limit` bytes.
pub(crate) fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let io = |source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || ErrorKind::Parse {
        path: path.to_path_buf(),
        reason: format!(
            "larger than the limit of {} for {what}; nothing beyond it was read",
            format_size(limit)
        ),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if metadata.is_file() && metadata.len() > limit {
        return Err(too_large().into());
    }
    let capacity = if metadata.is_file() {
        metadata.len()
    } else {
        limit
    };
    let mut bytes = Vec::with_capacity(usize::try_from(capacity.saturating_add(1)).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large().into());
    }
    Ok(bytes)
}

/// `limit` in the largest binary unit that divides it ("64 MiB", "4 KiB").
fn format_size(limit: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if limit >= size && limit.is_multiple_of(size) {
            return format!("{} {unit}", limit / size);
        }
    }
    format!("{limit} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_named_in_binary_units() {
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }

    #[test]
    fn a_file_at_the_limit_is_read_and_one_beyond_is_refused() {
        let dir = std::env::temp_dir().join(format!("deidentify-limited-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ten.bin");
        std::fs::write(&path, [7u8; 10]).unwrap();
        assert_eq!(read_limited(&path, 10, "a test").unwrap(), [7u8; 10]);
        let error = read_limited(&path, 9, "a test").unwrap_err().to_string();
        assert!(
            error.contains("ten.bin") && error.contains("limit of 9 bytes for a test"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_stops_at_the_limit() {
        let error = read_limited(Path::new("/dev/zero"), 1 << 20, "a test")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("/dev/zero") && error.contains("1 MiB"),
            "{error}"
        );
    }
}

//! Where released and staged files go: never onto an input, never over a
//! device or FIFO, and never partially under the final name.
//!
//! Every file the crate writes goes through [`write_atomically`]: the bytes
//! go to `.<name>.partial` beside the destination (created fresh, readable
//! by the owner only), and that file is renamed to the destination only
//! once it is complete. A symbolic link as destination is followed (the
//! link stays and points to the new file); a destination that exists but is
//! not a regular file (a device, FIFO, socket or folder) is refused, so a
//! rename never replaces it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Checks that writing `output` cannot destroy one of `inputs` (the data,
/// the ruleset, hierarchy and key files a run reads): `output` must not be
/// the same file as an input, whether by the same path, through a symbolic
/// link, or as a hard link of it.
///
/// Inputs that do not exist are ignored (they cannot be destroyed).
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] naming the output and the input it
/// would overwrite.
pub fn check_output(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    let target = resolve(output)?;
    for input in inputs {
        if same_file(&target, input) {
            return Err(Error::parameter(
                "output",
                format!(
                    "{} is the input {}: writing it would destroy the input; choose another output",
                    output.display(),
                    input.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `a` (resolved, possibly absent) and `b` name one file.
fn same_file(a: &Path, b: &Path) -> bool {
    let Ok(b_meta) = std::fs::metadata(b) else {
        return false;
    };
    if let Ok(b_resolved) = std::fs::canonicalize(b)
        && b_resolved == a
    {
        return true;
    }
    match std::fs::metadata(a) {
        Ok(a_meta) => same_inode(&a_meta, &b_meta),
        Err(_) => false,
    }
}

#[cfg(unix)]
fn same_inode(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_inode(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// The file a write to `path` lands on: `path` itself, or the end of its
/// chain of symbolic links, with the folder made absolute.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] when `path` exists but is not a regular
/// file (or a link to one), or is a dangling link; [`ErrorKind::Io`] when
/// its folder cannot be resolved.
fn resolve(path: &Path) -> Result<PathBuf> {
    let io = |source| ErrorKind::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let folder = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(folder) => std::fs::canonicalize(folder).map_err(io)?,
                None => std::env::current_dir().map_err(io)?,
            };
            let name = path.file_name().ok_or_else(|| {
                Error::parameter("output", format!("{} does not name a file", path.display()))
            })?;
            Ok(folder.join(name))
        }
        Err(e) => Err(io(e).into()),
        Ok(meta) => {
            let target = if meta.file_type().is_symlink() {
                std::fs::canonicalize(path).map_err(|_| {
                    Error::parameter(
                        "output",
                        format!(
                            "{} is a symbolic link to nothing; remove it or choose another output",
                            path.display()
                        ),
                    )
                })?
            } else {
                std::fs::canonicalize(path).map_err(io)?
            };
            let kind = std::fs::metadata(&target).map_err(io)?.file_type();
            if !kind.is_file() {
                return Err(Error::parameter(
                    "output",
                    format!(
                        "{} is not a regular file (a folder, device, FIFO or socket); it is never replaced: choose a file",
                        path.display()
                    ),
                ));
            }
            Ok(target)
        }
    }
}

/// The temporary name a file is written under before it is renamed to
/// `path`: `.<name>.partial` in the same folder (so the rename is atomic).
pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    let mut temporary = PathBuf::from(path);
    temporary.set_file_name(format!(
        ".{}.partial",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    temporary
}

/// Creates the temporary file for `target` afresh (owner-only permissions),
/// removing a stale one a killed run left behind.
fn create_temporary(temporary: &Path) -> std::io::Result<File> {
    let open = || {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(temporary)
    };
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(temporary)?;
            open()
        }
        other => other,
    }
}

/// Writes to `path` through a temporary file renamed on success, so a
/// failed write never leaves a partial file under the final name (see the
/// module docs for links and special files). `write` gets the open
/// temporary file and hands it back when done (it may wrap it, as an
/// encrypting writer does); the file is synced before the rename, and the
/// temporary is removed on any failure, the rename's included.
///
/// # Errors
///
/// The errors of [`resolve`]; [`ErrorKind::Io`] when the temporary file
/// cannot be created, synced or renamed; and `write`'s own errors.
pub(crate) fn replace_atomically(
    path: &Path,
    write: impl FnOnce(File) -> Result<File>,
) -> Result<()> {
    let target = resolve(path)?;
    let temporary = temporary_path(&target);
    let io = |source| -> Error {
        ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        }
        .into()
    };
    let written = create_temporary(&temporary)
        .map_err(io)
        .and_then(write)
        .and_then(|file| file.sync_all().map_err(io))
        .and_then(|()| std::fs::rename(&temporary, &target).map_err(io));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// [`replace_atomically`] for a writer that reports its failure as text
/// (a [`ErrorKind::Write`] naming `path`).
///
/// # Errors
///
/// As [`replace_atomically`].
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::result::Result<(), String>,
) -> Result<()> {
    replace_atomically(path, |mut file| {
        write(&mut file).map_err(|reason| ErrorKind::Write {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(file)
    })
}

/// Writes `bytes` to `path` atomically (see [`write_atomically`]).
///
/// # Errors
///
/// As [`write_atomically`].
pub(crate) fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |file| {
        file.write_all(bytes).map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "deidentify-destination-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_output_that_is_an_input_is_refused_by_path_link_or_hard_link() {
        let dir = folder("inputs");
        let input = dir.join("phi.csv");
        std::fs::write(&input, "name\nAmber\n").unwrap();
        let inputs = [input.clone()];
        let err = check_output(&input, &inputs).unwrap_err().to_string();
        assert!(err.contains("would destroy the input"), "{err}");
        // The same file through another spelling of its path.
        let dotted = dir.join(".").join("phi.csv");
        assert!(check_output(&dotted, &inputs).is_err());
        #[cfg(unix)]
        {
            let link = dir.join("link.csv");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            assert!(check_output(&link, &inputs).is_err());
            let hard = dir.join("hard.csv");
            std::fs::hard_link(&input, &hard).unwrap();
            assert!(check_output(&hard, &inputs).is_err());
        }
        check_output(&dir.join("out.csv"), &inputs).unwrap();
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "name\nAmber\n");
    }

    #[test]
    fn a_link_is_followed_and_kept_and_special_files_are_refused() {
        let dir = folder("special");
        #[cfg(unix)]
        {
            let real = dir.join("real.csv");
            std::fs::write(&real, "old").unwrap();
            let link = dir.join("link.csv");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            write_bytes(&link, b"new").unwrap();
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
            let dangling = dir.join("dangling.csv");
            std::os::unix::fs::symlink(dir.join("absent"), &dangling).unwrap();
            assert!(write_bytes(&dangling, b"x").is_err());
        }
        let err = write_bytes(&dir, b"x").unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        #[cfg(unix)]
        {
            let null = Path::new("/dev/null");
            let err = write_bytes(null, b"x").unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
            use std::os::unix::fs::FileTypeExt;
            assert!(
                std::fs::metadata(null)
                    .unwrap()
                    .file_type()
                    .is_char_device()
            );
        }
    }

    #[test]
    fn a_stale_partial_file_is_replaced_and_nothing_is_left_on_failure() {
        let dir = folder("stale");
        let path = dir.join("out.csv");
        std::fs::write(temporary_path(&path), "stale PHI").unwrap();
        write_bytes(&path, b"fresh").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "fresh");
        assert!(!temporary_path(&path).exists());
        let failed = dir.join("failed.csv");
        let err = write_atomically(&failed, |_| Err("disk on fire".into())).unwrap_err();
        assert!(err.to_string().contains("disk on fire"));
        // A writer's failure is a write error naming the output, not a
        // parse error.
        assert!(
            matches!(err.kind(), ErrorKind::Write { path, .. } if *path == failed),
            "{err}"
        );
        assert!(err.to_string().starts_with("cannot write "), "{err}");
        assert!(!failed.exists() && !temporary_path(&failed).exists());
    }
}

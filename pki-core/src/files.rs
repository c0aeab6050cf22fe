//! What a path is, before anything is read from or written to it.
//!
//! Every path argument may be a named pipe, a device, a socket, a directory or a symbolic link,
//! and may be another input of the same command (the CA key named as `--out`). Reading a FIFO
//! with a plain `open` blocks until a writer appears, forever; replacing a device node with a
//! regular file silently moves the device aside. So:
//!
//! - [`open_regular`] refuses anything but a regular file *before* opening it (by `stat`, which
//!   follows symbolic links), then opens it non-blocking and checks again on the open file, so a
//!   file swapped for a FIFO between the two steps is refused too instead of hanging;
//! - [`check_writable_target`] refuses to replace anything but a regular file (a new path is
//!   fine);
//! - [`same_file`] compares two paths by device and inode, through symbolic links, so that an
//!   output that is one of the command's inputs is recognised under any spelling.

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use crate::error::{Error, Result};

/// What kind of file system object a path leads to, when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A directory.
    Directory,
    /// A named pipe (FIFO): reading it waits for a writer.
    Fifo,
    /// A character device (`/dev/zero`, `/dev/null`, a terminal).
    CharDevice,
    /// A block device (a disk).
    BlockDevice,
    /// A Unix domain socket.
    Socket,
    /// Anything else that is not a regular file.
    Other,
}

impl FileKind {
    /// The kind of `meta`, or `None` for a regular file.
    pub fn of(meta: &fs::Metadata) -> Option<FileKind> {
        let t = meta.file_type();
        if t.is_file() {
            return None;
        }
        if t.is_dir() {
            return Some(FileKind::Directory);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                return Some(FileKind::Fifo);
            }
            if t.is_char_device() {
                return Some(FileKind::CharDevice);
            }
            if t.is_block_device() {
                return Some(FileKind::BlockDevice);
            }
            if t.is_socket() {
                return Some(FileKind::Socket);
            }
        }
        Some(FileKind::Other)
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a named pipe (FIFO)",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "not a regular file",
        })
    }
}

/// Opens a regular file for reading, refusing (without blocking) anything else.
pub(crate) fn open_regular(path: &Path) -> Result<(fs::File, fs::Metadata)> {
    let read_err = |error| Error::Read {
        path: path.to_path_buf(),
        error,
    };
    let not_regular = |kind| Error::NotRegularFile {
        path: path.to_path_buf(),
        kind,
    };
    let before = fs::metadata(path).map_err(read_err)?;
    if let Some(kind) = FileKind::of(&before) {
        return Err(not_regular(kind));
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: a FIFO swapped in after the stat opens at once instead of waiting for a
        // writer (regular files ignore the flag). O_NOCTTY: a terminal never becomes ours.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;
    if let Some(kind) = FileKind::of(&meta) {
        return Err(not_regular(kind));
    }
    Ok((file, meta))
}

/// Refuses to write over `path` when it exists and is not a regular file (through symbolic
/// links); a path that does not exist yet is fine.
pub(crate) fn check_writable_target(path: &Path) -> Result<()> {
    match fs::metadata(path) {
        Ok(meta) => match FileKind::of(&meta) {
            None => Ok(()),
            Some(kind) => Err(Error::NotRegularFile {
                path: path.to_path_buf(),
                kind,
            }),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(Error::Write {
            path: path.to_path_buf(),
            error,
        }),
    }
}

/// Whether two paths lead to the same file (device and inode, through symbolic links). Paths
/// that do not exist are the same only if they are spelled the same after resolving their
/// directories.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => file_id(&ma) == file_id(&mb),
        (Err(_), Err(_)) => match (resolve_missing(a), resolve_missing(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => false,
    }
}

/// A path that does not exist, with its existing directory made canonical.
fn resolve_missing(path: &Path) -> Option<std::path::PathBuf> {
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(name))
}

/// An input of a command, for [`refuse_outputs_over_inputs`].
#[derive(Debug, Clone, Copy)]
pub struct NamedInput<'a> {
    /// What the input is, in words ("the CA key", "the certificate to reissue").
    pub role: &'a str,
    /// Its path.
    pub path: &'a Path,
}

/// Refuses any output that is one of the command's inputs (by file identity, through symbolic
/// links): writing the reissued leaf over the CA certificate, a new key over the CA key.
pub fn refuse_outputs_over_inputs(outputs: &[&Path], inputs: &[NamedInput<'_>]) -> Result<()> {
    for output in outputs {
        if let Some(input) = inputs.iter().find(|i| same_file(output, i.path)) {
            return Err(Error::OutputIsInput {
                output: output.to_path_buf(),
                input: input.path.to_path_buf(),
                role: input.role.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn file_id(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(meta: &fs::Metadata) -> (u64, u64) {
    let t = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    (t, meta.len())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo");
        assert!(status.success());
    }

    #[test]
    fn a_fifo_is_refused_at_once_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p");
        mkfifo(&fifo);
        let start = Instant::now();
        let err = open_regular(&fifo).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(
            matches!(
                err,
                Error::NotRegularFile {
                    kind: FileKind::Fifo,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("named pipe"), "{err}");
        // Through a symbolic link too.
        let link = dir.path().join("link.pem");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert!(matches!(
            open_regular(&link),
            Err(Error::NotRegularFile {
                kind: FileKind::Fifo,
                ..
            })
        ));
        assert!(matches!(
            check_writable_target(&link),
            Err(Error::NotRegularFile { .. })
        ));
    }

    #[test]
    fn devices_and_directories_are_refused() {
        assert!(matches!(
            open_regular(Path::new("/dev/zero")),
            Err(Error::NotRegularFile {
                kind: FileKind::CharDevice,
                ..
            })
        ));
        assert!(matches!(
            check_writable_target(Path::new("/dev/null")),
            Err(Error::NotRegularFile {
                kind: FileKind::CharDevice,
                ..
            })
        ));
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            open_regular(dir.path()),
            Err(Error::NotRegularFile {
                kind: FileKind::Directory,
                ..
            })
        ));
        assert!(check_writable_target(&dir.path().join("new.pem")).is_ok());
    }

    #[test]
    fn one_file_is_recognised_under_any_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        fs::write(&ca, "ca").unwrap();
        let link = dir.path().join("ca-link.pem");
        std::os::unix::fs::symlink("ca.pem", &link).unwrap();
        let hard = dir.path().join("ca-hard.pem");
        fs::hard_link(&ca, &hard).unwrap();
        let dotted = dir.path().join(".").join("ca.pem");
        for other in [&link, &hard, &dotted] {
            assert!(same_file(&ca, other), "{}", other.display());
        }
        let leaf = dir.path().join("leaf.pem");
        fs::write(&leaf, "leaf").unwrap();
        assert!(!same_file(&ca, &leaf));
        let missing = dir.path().join("new.pem");
        assert!(same_file(&missing, &dir.path().join(".").join("new.pem")));
        assert!(!same_file(&missing, &ca));

        let inputs = [NamedInput {
            role: "the CA certificate",
            path: &ca,
        }];
        let err = refuse_outputs_over_inputs(&[&leaf, &link], &inputs).unwrap_err();
        assert!(matches!(err, Error::OutputIsInput { .. }), "{err}");
        assert!(err.to_string().contains("the CA certificate"), "{err}");
        assert!(refuse_outputs_over_inputs(&[&leaf, &missing], &inputs).is_ok());
    }
}

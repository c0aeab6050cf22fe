//! The directory walk of a scan: every regular file under the roots, those a scan does not read
//! (etcd-pki's backups, the temporary files and journals of unfinished writes), and what the walk
//! met but does not open (unreadable directories, broken links, pipes, devices and sockets), each
//! set aside with the reason.
//!
//! The walk follows symbolic links (certbot- and kubeadm-style `*-current.pem` links are common)
//! but never enters a directory twice (by device and inode), so link loops end; subdirectories
//! are walked in parallel (rayon).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Error;
use crate::files::FileKind;
use crate::journal::is_transient;

/// A file that holds no certificate.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The file.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub path: PathBuf,
    /// What it is, or why it could not be read.
    pub reason: String,
}

/// What a scan reads under its roots, and what it does not.
pub(crate) struct Listing {
    /// The files to read, sorted.
    pub(crate) files: Vec<PathBuf>,
    /// What is not read, and why.
    pub(crate) skipped: Vec<Skipped>,
    /// The directories in which temporary files or journals of unfinished writes were found,
    /// sorted, each once.
    pub(crate) interrupted_dirs: Vec<PathBuf>,
}

/// [`list_files`] without etcd-pki's backups and the temporary files and journals of unfinished
/// writes, which are skipped with the reason.
pub(crate) fn files_to_scan(roots: &[PathBuf]) -> Result<Listing, Error> {
    let (files, mut skipped) = list_files(roots)?;
    let (backups, files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|p| is_backup(p));
    skipped.extend(backups.into_iter().map(|path| Skipped {
        path,
        reason: "a backup made by etcd-pki when the file was replaced".into(),
    }));
    let (transient, files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|p| is_transient(p));
    let mut interrupted_dirs: Vec<PathBuf> = transient
        .iter()
        .map(|p| crate::journal::parent(p).to_path_buf())
        .collect();
    interrupted_dirs.sort();
    interrupted_dirs.dedup();
    skipped.extend(transient.into_iter().map(|path| Skipped {
        path,
        reason: "a temporary file or journal of an unfinished write by etcd-pki: the directory needs a recovery".into(),
    }));
    Ok(Listing {
        files,
        skipped,
        interrupted_dirs,
    })
}

/// Every regular file under `roots` (files given directly are taken as they are), sorted, with
/// what the walk had to skip (unreadable directories, broken links).
pub(crate) fn list_files(roots: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<Skipped>), Error> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let visited = Mutex::new(HashSet::new());
    for root in roots {
        let meta = fs::metadata(root).map_err(|source| Error::Read {
            path: root.clone(),
            error: source,
        })?;
        if meta.is_dir() {
            let (f, s) = walk(root, &visited);
            files.extend(f);
            skipped.extend(s);
        } else if let Some(kind) = FileKind::of(&meta) {
            // An operator's argument that is a pipe or a device: refused, never read.
            return Err(Error::NotRegularFile {
                path: root.clone(),
                kind,
            });
        } else {
            files.push(root.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok((files, skipped))
}

/// Whether a file is a backup written by [`crate::write`]: `NAME.bak.YYYYMMDDTHHMMSSZ[.N]`.
pub fn is_backup(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some((_, stamp)) = name.rsplit_once(".bak.").or_else(|| {
        // NAME.bak.STAMP.N
        name.rsplit_once('.')
            .and_then(|(head, n)| n.bytes().all(|b| b.is_ascii_digit()).then_some(head))
            .and_then(|head| head.rsplit_once(".bak."))
    }) else {
        return false;
    };
    let stamp = stamp.split('.').next().unwrap_or("");
    stamp.len() == 16
        && stamp.ends_with('Z')
        && stamp.as_bytes()[8] == b'T'
        && stamp
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit())
}

/// A pipe, device or socket met in a tree: listed, never opened.
fn not_regular(path: PathBuf, meta: &fs::Metadata) -> Skipped {
    let kind = FileKind::of(meta).unwrap_or(FileKind::Other);
    Skipped {
        path,
        reason: format!("{kind}, not a regular file: not read"),
    }
}

/// Walks a tree, subdirectories in parallel, following links but entering each directory once
/// (by device and inode): the files found, and what could not be read.
fn walk(dir: &Path, visited: &Mutex<HashSet<(u64, u64)>>) -> (Vec<PathBuf>, Vec<Skipped>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let Ok(meta) = fs::metadata(dir) else {
        return (files, skipped);
    };
    let first_visit = visited
        .lock()
        .map(|mut v| v.insert(dir_id(&meta)))
        .unwrap_or(false);
    if !first_visit {
        return (files, skipped);
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            skipped.push(Skipped {
                path: dir.to_path_buf(),
                reason: format!("cannot read directory: {e}"),
            });
            return (files, skipped);
        }
    };
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            subdirs.push(path);
        } else if file_type.is_file() {
            files.push(path);
        } else if file_type.is_symlink() {
            match fs::metadata(&path) {
                Ok(m) if m.is_dir() => subdirs.push(path),
                Ok(m) if m.is_file() => files.push(path),
                Ok(m) => skipped.push(not_regular(path, &m)),
                Err(e) => skipped.push(Skipped {
                    path,
                    reason: format!("broken symbolic link: {e}"),
                }),
            }
        } else if let Ok(m) = fs::symlink_metadata(&path) {
            skipped.push(not_regular(path, &m));
        }
    }
    let nested: Vec<(Vec<PathBuf>, Vec<Skipped>)> =
        subdirs.par_iter().map(|sub| walk(sub, visited)).collect();
    for (f, s) in nested {
        files.extend(f);
        skipped.extend(s);
    }
    (files, skipped)
}

#[cfg(unix)]
fn dir_id(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn dir_id(meta: &fs::Metadata) -> (u64, u64) {
    // Without inode numbers, fall back to the modification time and length: loops still end
    // because a directory reached again has the same values.
    let t = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    (t, meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_recognised() {
        assert!(is_backup(Path::new("/x/members.pem.bak.20261125T112211Z")));
        assert!(is_backup(Path::new("members.pem.bak.20261125T112211Z.3")));
        assert!(!is_backup(Path::new("members.pem")));
        assert!(!is_backup(Path::new("members.bak.pem")));
        assert!(!is_backup(Path::new("x.bak.2026")));
    }

    #[cfg(unix)]
    #[test]
    fn sockets_and_devices_in_a_tree_are_listed_unread() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let _socket = std::os::unix::net::UnixListener::bind(root.join("socket.pem")).unwrap();
        std::os::unix::fs::symlink("/dev/null", root.join("null.pem")).unwrap();
        std::os::unix::fs::symlink("socket.pem", root.join("to-socket.pem")).unwrap();
        fs::write(root.join("file.pem"), b"").unwrap();
        let (files, skipped) = list_files(&[root.to_path_buf()]).unwrap();
        assert_eq!(files, [root.join("file.pem")]);
        let mut skipped: Vec<(String, String)> = skipped
            .into_iter()
            .map(|s| {
                let name = s.path.file_name().unwrap().to_string_lossy().into_owned();
                (name, s.reason)
            })
            .collect();
        skipped.sort();
        assert_eq!(
            skipped,
            [
                (
                    "null.pem".into(),
                    "a character device, not a regular file: not read".into()
                ),
                (
                    "socket.pem".into(),
                    "a socket, not a regular file: not read".into()
                ),
                (
                    "to-socket.pem".into(),
                    "a socket, not a regular file: not read".into()
                ),
            ]
        );
    }
}

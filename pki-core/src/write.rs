//! Writing certificates and keys as a transaction: every file is replaced, or none is.
//!
//! 1. Each new file is written to a temporary file in its target's directory (the file a
//!    symbolic link points to, which is what gets replaced), with its final mode (new keys 0600;
//!    a replaced key keeps its mode without write or "other" bits, so a root:etcd 0640 key stays
//!    readable by etcd; certificates keep the replaced file's mode, else 0644) and owner (the
//!    replaced file's, so `etcd:adm` from the runbook stays), then fsynced. A failure here
//!    removes the temporaries: nothing changed.
//! 2. Each replaced file gets a backup beside it, `NAME.bak.<UTC timestamp>`, as a hard link (the
//!    same bytes, mode and owner; a copy where links are not possible).
//! 3. The temporaries are renamed over their targets, then the directories are fsynced. If a
//!    rename fails, the files already renamed are restored from their backups and the new
//!    backups are removed: every file is as it was. (A crash between two renames, which no
//!    error path sees, can leave a new certificate beside its old key; the backups beside them
//!    are the way back.)
//!
//! For tests, the environment variable `ETCD_PKI_FAILPOINT` injects failures the way etcd's
//! gofail does: `write-temp` fails step 1, `rename:N` fails the N-th rename (1-based) of step 3.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Whether a file holds a private key (written 0600) or public material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrecy {
    /// A certificate or other public data.
    Public,
    /// A private key.
    Secret,
}

/// One file to write.
pub struct FileWrite {
    /// Where.
    pub path: PathBuf,
    /// What (zeroed when dropped).
    pub contents: Zeroizing<Vec<u8>>,
    /// Key or not.
    pub secrecy: Secrecy,
}

impl std::fmt::Debug for FileWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWrite")
            .field("path", &self.path)
            .field("bytes", &self.contents.len())
            .field("secrecy", &self.secrecy)
            .finish()
    }
}

impl FileWrite {
    /// A certificate (or other public file).
    pub fn public(path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> FileWrite {
        FileWrite {
            path: path.into(),
            contents: Zeroizing::new(contents.into()),
            secrecy: Secrecy::Public,
        }
    }

    /// A private key.
    pub fn secret(path: impl Into<PathBuf>, contents: Zeroizing<Vec<u8>>) -> FileWrite {
        FileWrite {
            path: path.into(),
            contents,
            secrecy: Secrecy::Secret,
        }
    }
}

/// What a transaction did.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// `(file, backup)` for every file that was replaced.
    pub backups: Vec<(PathBuf, PathBuf)>,
}

/// Writes all files or none (see the module docs).
pub fn write_all(writes: &[FileWrite]) -> Result<Written> {
    write_all_at(writes, OffsetDateTime::now_utc())
}

fn write_all_at(given: &[FileWrite], now: OffsetDateTime) -> Result<Written> {
    let failpoint = std::env::var("ETCD_PKI_FAILPOINT").unwrap_or_default();
    // Write where each path really leads: a symbolic link (kubeadm's *-current.pem) keeps
    // pointing at the file, which is replaced.
    let mut writes: Vec<FileWrite> = Vec::with_capacity(given.len());
    for w in given {
        let invalid = |why: &str| Error::Write {
            path: w.path.clone(),
            error: io::Error::new(io::ErrorKind::InvalidInput, why.to_string()),
        };
        let target = real_target(&w.path).map_err(|error| Error::Write {
            path: w.path.clone(),
            error,
        })?;
        if target.is_dir() {
            return Err(invalid("it is a directory"));
        }
        if writes.iter().any(|o| o.path == target) {
            return Err(invalid(
                "the same file would be written twice (do the certificate and its key share a file? give the key its own file)",
            ));
        }
        writes.push(FileWrite {
            path: target,
            contents: w.contents.clone(),
            secrecy: w.secrecy,
        });
    }
    let writes = writes.as_slice();

    // 1. Temporaries.
    let mut temps: Vec<PathBuf> = Vec::new();
    for w in writes {
        match write_temp(w, &failpoint) {
            Ok(temp) => temps.push(temp),
            Err(source) => {
                for t in &temps {
                    let _ = fs::remove_file(t);
                }
                return Err(Error::Write {
                    path: w.path.clone(),
                    error: source,
                });
            }
        }
    }

    // 2. Backups of the files being replaced.
    let stamp = backup_stamp(now);
    let mut backups: Vec<(PathBuf, PathBuf)> = Vec::new();
    for w in writes {
        if w.path.exists() {
            match make_backup(&w.path, &stamp) {
                Ok(b) => backups.push((w.path.clone(), b)),
                Err(source) => {
                    for t in &temps {
                        let _ = fs::remove_file(t);
                    }
                    for (_, b) in &backups {
                        let _ = fs::remove_file(b);
                    }
                    return Err(Error::Write {
                        path: w.path.clone(),
                        error: source,
                    });
                }
            }
        }
    }

    // 3. Renames.
    let fail_at: Option<usize> = failpoint
        .strip_prefix("rename:")
        .and_then(|n| n.parse().ok());
    for (i, (w, temp)) in writes.iter().zip(&temps).enumerate() {
        let result = if fail_at == Some(i + 1) {
            Err(io::Error::other("failpoint rename"))
        } else {
            fs::rename(temp, &w.path)
        };
        if let Err(source) = result {
            return Err(roll_back(writes, &temps, &backups, i, source));
        }
    }
    let mut dirs: Vec<&Path> = writes.iter().map(|w| parent(&w.path)).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        sync_dir(dir);
    }
    // Report backups against the paths as given (a link, or another spelling).
    let backups = backups
        .into_iter()
        .map(|(target, backup)| {
            let index = writes
                .iter()
                .position(|w| w.path == target)
                .unwrap_or_default();
            (given[index].path.clone(), backup)
        })
        .collect();
    Ok(Written {
        files: given.iter().map(|w| w.path.clone()).collect(),
        backups,
    })
}

/// A file written in place of another by streaming into a temporary beside it, for contents too
/// large to hold in memory (snapshots): [`AtomicFile::commit`] fsyncs it, keeps the old file as
/// a backup and renames it into place; dropped without committing, it leaves everything as it was.
pub struct AtomicFile {
    file: Option<fs::File>,
    temp: PathBuf,
    target: PathBuf,
    /// Set once the temporary file has become the target; until then, dropping removes it.
    renamed: bool,
}

impl AtomicFile {
    /// Starts writing `path` (through a symbolic link, to the file it points to).
    pub fn create(path: &Path, secrecy: Secrecy) -> Result<AtomicFile> {
        let fail = |error| Error::Write {
            path: path.to_path_buf(),
            error,
        };
        let target = real_target(path).map_err(fail)?;
        if target.is_dir() {
            return Err(fail(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a directory",
            )));
        }
        let temp = temp_path(&target, "tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&temp).map_err(fail)?;
        if let Err(e) = apply_metadata(&file, &target, secrecy) {
            let _ = fs::remove_file(&temp);
            return Err(fail(e));
        }
        Ok(AtomicFile {
            file: Some(file),
            temp,
            target,
            renamed: false,
        })
    }

    /// The temporary file, to write into.
    pub fn file(&mut self) -> &mut fs::File {
        self.file
            .as_mut()
            .expect("an AtomicFile is only written before it is committed")
    }

    /// The temporary file's path (to read back what was written before committing).
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Makes the new file the real one; returns the backup of the old one, if there was one.
    pub fn commit(mut self) -> Result<Option<PathBuf>> {
        let fail = |error| Error::Write {
            path: self.target.clone(),
            error,
        };
        // Every early return leaves the temporary file to `drop`, which removes it.
        let Some(file) = self.file.take() else {
            return Err(fail(io::Error::other("the file was already committed")));
        };
        file.sync_all().map_err(fail)?;
        drop(file);
        let backup = if self.target.exists() {
            Some(
                make_backup(&self.target, &backup_stamp(OffsetDateTime::now_utc()))
                    .map_err(fail)?,
            )
        } else {
            None
        };
        if let Err(e) = fs::rename(&self.temp, &self.target) {
            if let Some(b) = &backup {
                let _ = fs::remove_file(b);
            }
            return Err(fail(e));
        }
        self.renamed = true;
        sync_dir(parent(&self.target));
        Ok(backup)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The file a path leads to: through a symbolic link, or the path itself in its directory's
/// canonical form (so that two spellings of one file compare equal).
fn real_target(path: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path),
        _ => {
            let name = path
                .file_name()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
            Ok(fs::canonicalize(parent(path))?.join(name))
        }
    }
}

/// Undoes renames `0..failed` and cleans up after a failure at rename `failed`.
fn roll_back(
    writes: &[FileWrite],
    temps: &[PathBuf],
    backups: &[(PathBuf, PathBuf)],
    failed: usize,
    source: io::Error,
) -> Error {
    let mut restore_errors = Vec::new();
    for w in &writes[..failed] {
        match backups.iter().find(|(p, _)| *p == w.path) {
            // Put the old bytes back: link the backup to a temporary, rename it over the target.
            Some((_, backup)) => {
                let tmp = temp_path(&w.path, "restore");
                let restored = fs::hard_link(backup, &tmp)
                    .or_else(|_| fs::copy(backup, &tmp).map(|_| ()))
                    .and_then(|()| fs::rename(&tmp, &w.path));
                if let Err(e) = restored {
                    let _ = fs::remove_file(&tmp);
                    restore_errors.push(format!("{}: {e}", w.path.display()));
                }
            }
            // The file did not exist before.
            None => {
                if let Err(e) = fs::remove_file(&w.path) {
                    restore_errors.push(format!("{}: {e}", w.path.display()));
                }
            }
        }
    }
    for t in &temps[failed..] {
        let _ = fs::remove_file(t);
    }
    if restore_errors.is_empty() {
        for (_, b) in backups {
            let _ = fs::remove_file(b);
        }
        Error::Write {
            path: writes[failed].path.clone(),
            error: source,
        }
    } else {
        Error::WriteRollback {
            path: writes[failed].path.clone(),
            error: source,
            restore: restore_errors.join("; "),
            backups: backups.iter().map(|(_, b)| b.clone()).collect(),
        }
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn temp_path(target: &Path, purpose: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = std::process::id();
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    parent(target).join(format!(".{name}.{purpose}-{unique}-{nanos}"))
}

fn write_temp(w: &FileWrite, failpoint: &str) -> io::Result<PathBuf> {
    if failpoint == "write-temp" {
        return Err(io::Error::other("failpoint write-temp"));
    }
    let temp = temp_path(&w.path, "tmp");
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(&w.contents)?;
        apply_metadata(&file, &w.path, w.secrecy)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Mode and owner of a new file: keys never more open than 0600; otherwise the replaced file's.
#[cfg(unix)]
fn apply_metadata(file: &fs::File, target: &Path, secrecy: Secrecy) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let old = fs::metadata(target).ok();
    // A replaced key keeps its owner and group read (etcd may read it through its group, as
    // root:etcd 0640), never more; a new key is 0600.
    let mode = match (secrecy, &old) {
        (Secrecy::Secret, Some(m)) => m.mode() & 0o640,
        (Secrecy::Secret, None) => 0o600,
        (Secrecy::Public, Some(m)) => m.mode() & 0o7777,
        (Secrecy::Public, None) => 0o644,
    };
    let mode = if secrecy == Secrecy::Secret && mode & 0o400 == 0 {
        0o600
    } else {
        mode
    };
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some(m) = old {
        // Keep the owner (etcd reads its key as user etcd). Only root may give files away; as
        // anyone else the file stays ours, which is also the old owner in practice.
        let _ = std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn apply_metadata(_file: &fs::File, _target: &Path, _secrecy: Secrecy) -> io::Result<()> {
    Ok(())
}

fn backup_stamp(now: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    now.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

fn make_backup(path: &Path, stamp: &str) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for n in 0..1000 {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!(".{n}")
        };
        let backup = parent(path).join(format!("{name}.bak.{stamp}{suffix}"));
        if backup.exists() {
            continue;
        }
        return match fs::hard_link(path, &backup) {
            Ok(()) => Ok(backup),
            Err(_) => copy_preserving(path, &backup).map(|()| backup),
        };
    }
    Err(io::Error::other("too many backups with the same timestamp"))
}

fn copy_preserving(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(from)?;
        let _ = std::os::unix::fs::chown(to, Some(m.uid()), Some(m.gid()));
    }
    fs::File::open(to)?.sync_all()
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        fs::read_to_string(p).unwrap()
    }

    #[test]
    fn an_atomic_file_replaces_only_on_commit_and_never_leaves_its_temporary() {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("etcd.db");
        fs::write(&target, "old").unwrap();
        let names = || {
            let mut n: Vec<String> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            n.sort();
            n
        };
        // Abandoned (a failed stream): the old file stays, the temporary goes.
        let mut abandoned = AtomicFile::create(&target, Secrecy::Secret).unwrap();
        abandoned.file().write_all(b"partial").unwrap();
        let temp = abandoned.temp_path().to_path_buf();
        assert!(temp.exists());
        drop(abandoned);
        assert!(!temp.exists());
        assert_eq!(names(), ["etcd.db"]);
        assert_eq!(read(&target), "old");
        // Committed: new content, nothing for others (the old 0644 keeps only owner and group
        // read), the old one kept as a backup.
        let mut file = AtomicFile::create(&target, Secrecy::Secret).unwrap();
        file.file().write_all(b"new").unwrap();
        let backup = file.commit().unwrap().expect("a backup of the old file");
        assert_eq!(read(&target), "new");
        assert_eq!(read(&backup), "old");
        assert_eq!(
            fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(names().len(), 2, "{:?}", names());
    }

    #[test]
    fn replaces_files_with_backups_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("members.pem");
        let key = dir.path().join("members-key.pem");
        fs::write(&cert, "old cert").unwrap();
        fs::write(&key, "old key").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&key, fs::Permissions::from_mode(0o400)).unwrap();
            fs::set_permissions(&cert, fs::Permissions::from_mode(0o444)).unwrap();
        }
        let written = write_all(&[
            FileWrite::public(&cert, "new cert"),
            FileWrite::secret(&key, Zeroizing::new(b"new key".to_vec())),
        ])
        .unwrap();
        assert_eq!(read(&cert), "new cert");
        assert_eq!(read(&key), "new key");
        assert_eq!(written.backups.len(), 2);
        assert_eq!(read(&written.backups[0].1), "old cert");
        assert_eq!(read(&written.backups[1].1), "old key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o400
            );
            assert_eq!(
                fs::metadata(&cert).unwrap().permissions().mode() & 0o777,
                0o444
            );
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn new_keys_are_0600_and_new_certs_0644() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pem");
        let cert = dir.path().join("c.pem");
        write_all(&[
            FileWrite::secret(&key, Zeroizing::new(b"k".to_vec())),
            FileWrite::public(&cert, "c"),
        ])
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(&cert).unwrap().permissions().mode() & 0o777,
                0o644
            );
        }
    }

    #[test]
    fn a_replaced_key_keeps_group_read_and_loses_other_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pem");
        for (old, new) in [
            (0o644, 0o640),
            (0o640, 0o640),
            (0o600, 0o600),
            (0o400, 0o400),
            (0o066, 0o600),
        ] {
            fs::write(&key, "old").unwrap();
            fs::set_permissions(&key, fs::Permissions::from_mode(old)).unwrap();
            write_all(&[FileWrite::secret(&key, Zeroizing::new(b"new".to_vec()))]).unwrap();
            assert_eq!(
                fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                new,
                "{old:o}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_keeps_pointing_at_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("peer-2026.pem");
        let link = dir.path().join("peer-current.pem");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("peer-2026.pem", &link).unwrap();
        let written = write_all(&[FileWrite::public(&link, "new")]).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(read(&link), "new");
        assert_eq!(read(&real), "new");
        assert_eq!(read(&written.backups[0].1), "old");
        assert!(written.backups[0]
            .1
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("peer-2026.pem.bak."));
    }

    #[test]
    fn one_file_under_two_spellings_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("combined.pem");
        fs::write(&a, "old").unwrap();
        let b = dir.path().join(".").join("combined.pem");
        let err = write_all(&[
            FileWrite::public(&a, "cert"),
            FileWrite::secret(&b, Zeroizing::new(b"key".to_vec())),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("share a file"), "{err}");
        assert_eq!(read(&a), "old");
    }

    #[test]
    fn backups_never_overwrite_backups() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        fs::write(&cert, "v1").unwrap();
        let now = OffsetDateTime::now_utc();
        let first = write_all_at(&[FileWrite::public(&cert, "v2")], now).unwrap();
        let second = write_all_at(&[FileWrite::public(&cert, "v3")], now).unwrap();
        assert_ne!(first.backups[0].1, second.backups[0].1);
        assert_eq!(read(&first.backups[0].1), "v1");
        assert_eq!(read(&second.backups[0].1), "v2");
    }

    #[test]
    fn a_directory_target_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        fs::write(&cert, "old").unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let err = write_all(&[
            FileWrite::public(&cert, "new"),
            FileWrite::public(&sub, "x"),
        ])
        .unwrap_err();
        assert!(matches!(err, Error::Write { .. }), "{err}");
        assert_eq!(read(&cert), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_rename_failing_midway_restores_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pem");
        let b = dir.path().join("b.pem");
        let c = dir.path().join("c.pem");
        fs::write(&a, "old a").unwrap();
        fs::write(&b, "old b").unwrap();
        let writes = [
            FileWrite::public(&a, "new a"),
            FileWrite::public(&c, "new c"),
            FileWrite::public(&b, "new b"),
        ];
        let err = roll_back_after(&writes, 3);
        assert!(matches!(err, Error::Write { .. }), "{err}");
        assert_eq!(read(&a), "old a");
        assert_eq!(read(&b), "old b");
        assert!(
            !c.exists(),
            "a file that did not exist before is removed again"
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporaries or backups left: {names:?}");
    }

    /// Performs steps 1 and 2 and the first `n - 1` renames of a transaction, then fails rename
    /// `n` and rolls back, as `write_all` does (the CLI tests drive the same path through the
    /// `ETCD_PKI_FAILPOINT` variable, which an in-process test cannot set safely).
    fn roll_back_after(writes: &[FileWrite], n: usize) -> Error {
        let temps: Vec<PathBuf> = writes.iter().map(|w| write_temp(w, "").unwrap()).collect();
        let stamp = backup_stamp(OffsetDateTime::now_utc());
        let backups: Vec<(PathBuf, PathBuf)> = writes
            .iter()
            .filter(|w| w.path.exists())
            .map(|w| (w.path.clone(), make_backup(&w.path, &stamp).unwrap()))
            .collect();
        for (w, t) in writes.iter().zip(&temps).take(n - 1) {
            fs::rename(t, &w.path).unwrap();
        }
        roll_back(
            writes,
            &temps,
            &backups,
            n - 1,
            io::Error::other("simulated"),
        )
    }
}

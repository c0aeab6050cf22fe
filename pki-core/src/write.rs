//! Writing certificates and keys as a transaction: every file is replaced, or none is, even
//! when the process is killed at any point between two system calls.
//!
//! 0. Every path is resolved through symbolic links (the file a link points to is what gets
//!    replaced) and must be a regular file or new: a named pipe or a device is never replaced.
//!    Interrupted writes in the directories are recovered first (see [`crate::recover`]).
//! 1. The intent is journaled in every directory written to: targets, temporaries, backups, and
//!    the SHA-256 of old and new contents (a journal, which [`crate::interrupted_writes`] finds).
//! 2. Each new file is written to a temporary file in its target's directory, 0600, and
//!    fsynced.
//! 3. Each replaced file gets a backup beside it, `NAME.bak.<UTC timestamp>`, as a hard link
//!    (the same bytes, mode and owner; a copy where links are not possible); directories are
//!    fsynced.
//! 4. Each temporary gets its final mode (new keys 0600; a replaced key keeps its mode without
//!    write or "other" bits, so a root:etcd 0640 key stays readable by etcd; certificates keep
//!    the replaced file's mode, else 0644) and owner (the replaced file's, so `etcd:adm` from the
//!    runbook stays), and is renamed over its target; then the directories are fsynced and the
//!    journal removed.
//!
//! A failure at any step rolls back through the journal: every file is as it was, temporaries
//! and new backups are gone. A crash anywhere leaves the journal, and the next write in those
//! directories (or `etcd-pki recover DIR`) rolls the write back, or forward if every file had
//! already been replaced.
//!
//! For tests, the environment variable `ETCD_PKI_FAILPOINT` injects failures the way etcd's
//! gofail does: `write-temp` fails step 2, `rename:N` fails the N-th rename (1-based) of step 4.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::files::check_writable_target;
use crate::journal::{digest_bytes, digest_file, file_id, parent, sync_dir, Entry, Journal};

use crate::journal::{recover, Recovered};

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
#[non_exhaustive]
pub struct Written {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// `(file, backup)` for every file that was replaced.
    pub backups: Vec<(PathBuf, PathBuf)>,
    /// Interrupted writes found in the directories and finished before this one.
    pub recovered: Vec<Recovered>,
}

/// Writes all files or none (see the module docs), as an anonymous operation.
pub fn write_all(writes: &[FileWrite]) -> Result<Written> {
    write_all_as("write", writes)
}

/// Writes all files or none (see the module docs); `operation` names the command in the
/// journal (`reissue`, `renew`, `init`), for whoever finds it interrupted.
pub fn write_all_as(operation: &str, writes: &[FileWrite]) -> Result<Written> {
    let failpoint = std::env::var("ETCD_PKI_FAILPOINT").unwrap_or_default();
    write_all_at(operation, writes, OffsetDateTime::now_utc(), &failpoint)
}

/// The targets of the writes, resolved and checked (step 0).
fn resolve(given: &[FileWrite]) -> Result<Vec<PathBuf>> {
    let mut targets: Vec<PathBuf> = Vec::with_capacity(given.len());
    for w in given {
        let invalid = |why: &str| Error::Write {
            path: w.path.clone(),
            error: io::Error::new(io::ErrorKind::InvalidInput, why.to_string()),
        };
        check_target(&w.path)?;
        let target = real_target(&w.path).map_err(|error| Error::Write {
            path: w.path.clone(),
            error,
        })?;
        if targets.contains(&target) {
            return Err(invalid(
                "the same file would be written twice (do the certificate and its key share a file? give the key its own file)",
            ));
        }
        targets.push(target);
    }
    Ok(targets)
}

/// Checks, before anything is done, that `path` could be written: its directory exists and it
/// is a regular file (through symbolic links) or new. [`write_all`] and [`AtomicFile::create`]
/// check it again when they write.
pub fn check_target(path: &Path) -> Result<()> {
    let target = real_target(path).map_err(|error| Error::Write {
        path: path.to_path_buf(),
        error,
    })?;
    check_writable_target(&target).map_err(|e| match e {
        Error::NotRegularFile { kind, .. } => Error::NotRegularFile {
            path: path.to_path_buf(),
            kind,
        },
        other => other,
    })
}

/// Finishes interrupted writes in `dirs`; refuses to go on where another write is running.
fn recover_dirs(dirs: &[&Path]) -> Result<Vec<Recovered>> {
    let mut recovered = Vec::new();
    for dir in dirs {
        let report = recover(dir)?;
        if let Some(busy) = report.in_progress.first() {
            return Err(Error::WriteInProgress {
                dir: dir.to_path_buf(),
                journal: busy.path.clone(),
            });
        }
        recovered.extend(report.recovered);
    }
    Ok(recovered)
}

fn write_all_at(
    operation: &str,
    given: &[FileWrite],
    now: OffsetDateTime,
    failpoint: &str,
) -> Result<Written> {
    let targets = resolve(given)?;
    let mut dirs: Vec<&Path> = targets.iter().map(|t| parent(t)).collect();
    dirs.sort();
    dirs.dedup();
    let recovered = recover_dirs(&dirs)?;

    // 1. The journal.
    let stamp = backup_stamp(now);
    let mut entries = Vec::with_capacity(given.len());
    for (w, target) in given.iter().zip(&targets) {
        let old = match fs::metadata(target) {
            Ok(m) => Some((digest_file(target)?, file_id(&m))),
            Err(_) => None,
        };
        let backup = match old {
            Some(_) => Some(
                free_backup_name(target, &stamp).map_err(|error| Error::Write {
                    path: w.path.clone(),
                    error,
                })?,
            ),
            None => None,
        };
        entries.push(Entry {
            target: target.clone(),
            temp: temp_path(target, "tmp"),
            backup,
            old: old.map(|(d, _)| d),
            new: Some(digest_bytes(&w.contents)),
            old_id: old.map(|(_, id)| id),
        });
    }
    let journal = Journal::begin(operation, entries.clone()).map_err(|error| Error::Write {
        path: given[0].path.clone(),
        error,
    })?;
    let fail = |journal: Journal, path: &Path, error: io::Error| -> Error {
        match journal.roll_back() {
            Ok(()) => Error::Write {
                path: path.to_path_buf(),
                error,
            },
            Err(restore) => Error::WriteRollback {
                path: path.to_path_buf(),
                error,
                restore: restore.to_string(),
                backups: entries.iter().filter_map(|e| e.backup.clone()).collect(),
            },
        }
    };

    // 2. Temporaries.
    for (w, e) in given.iter().zip(&entries) {
        if let Err(error) = write_temp(&e.temp, &w.contents, failpoint) {
            return Err(fail(journal, &w.path, error));
        }
    }

    // 3. Backups of the files being replaced.
    for (w, e) in given.iter().zip(&entries) {
        if let Some(backup) = &e.backup {
            if let Err(error) = make_backup(&e.target, backup) {
                return Err(fail(journal, &w.path, error));
            }
        }
    }
    for dir in &dirs {
        sync_dir(dir);
    }

    // 4. Final modes and renames.
    let fail_at: Option<usize> = failpoint
        .strip_prefix("rename:")
        .and_then(|n| n.parse().ok());
    for (i, (w, e)) in given.iter().zip(&entries).enumerate() {
        let result = if fail_at == Some(i + 1) {
            Err(io::Error::other("failpoint rename"))
        } else {
            finish_temp(&e.temp, &e.target, w.secrecy).and_then(|()| fs::rename(&e.temp, &e.target))
        };
        if let Err(error) = result {
            return Err(fail(journal, &w.path, error));
        }
    }
    for dir in &dirs {
        sync_dir(dir);
    }
    journal.finish();

    // Report backups against the paths as given (a link, or another spelling).
    let backups = given
        .iter()
        .zip(&entries)
        .filter_map(|(w, e)| e.backup.clone().map(|b| (w.path.clone(), b)))
        .collect();
    Ok(Written {
        files: given.iter().map(|w| w.path.clone()).collect(),
        backups,
        recovered,
    })
}

/// A file written in place of another by streaming into a temporary beside it, for contents too
/// large to hold in memory (snapshots): [`AtomicFile::commit`] fsyncs it, keeps the old file as
/// a backup and renames it into place; dropped without committing, it leaves everything as it
/// was. Journaled like [`write_all`], so a killed process leaves nothing behind that the next
/// write in the directory does not clean up.
pub struct AtomicFile {
    file: Option<fs::File>,
    temp: PathBuf,
    target: PathBuf,
    secrecy: Secrecy,
    journal: Option<Journal>,
    backup: Option<PathBuf>,
}

impl AtomicFile {
    /// Starts writing `path` (through a symbolic link, to the file it points to), which must be
    /// a regular file or new.
    pub fn create(path: &Path, secrecy: Secrecy) -> Result<AtomicFile> {
        let fail = |error| Error::Write {
            path: path.to_path_buf(),
            error,
        };
        check_target(path)?;
        let target = real_target(path).map_err(fail)?;
        recover_dirs(&[parent(&target)])?;
        let old_id = fs::metadata(&target).ok().map(|m| file_id(&m));
        let backup = match old_id {
            Some(_) => Some(
                free_backup_name(&target, &backup_stamp(OffsetDateTime::now_utc()))
                    .map_err(fail)?,
            ),
            None => None,
        };
        let temp = temp_path(&target, "tmp");
        let journal = Journal::begin(
            "snapshot",
            vec![Entry {
                target: target.clone(),
                temp: temp.clone(),
                backup: backup.clone(),
                old: None,
                new: None,
                old_id,
            }],
        )
        .map_err(fail)?;
        let file = match create_private(&temp) {
            Ok(f) => f,
            Err(e) => {
                let _ = journal.roll_back();
                return Err(fail(e));
            }
        };
        Ok(AtomicFile {
            file: Some(file),
            temp,
            target,
            secrecy,
            journal: Some(journal),
            backup,
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
        // Every early return leaves the temporary file to `drop`, which rolls back.
        let Some(file) = self.file.take() else {
            return Err(fail(io::Error::other("the file was already committed")));
        };
        file.sync_all().map_err(fail)?;
        drop(file);
        if let Some(backup) = &self.backup {
            make_backup(&self.target, backup).map_err(fail)?;
        }
        finish_temp(&self.temp, &self.target, self.secrecy).map_err(fail)?;
        fs::rename(&self.temp, &self.target).map_err(fail)?;
        sync_dir(parent(&self.target));
        if let Some(journal) = self.journal.take() {
            journal.finish();
        }
        Ok(self.backup.take())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(journal) = self.journal.take() {
            self.file = None;
            let _ = journal.roll_back();
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The file a path leads to: through a symbolic link, or the path itself in its directory's
/// canonical form (so that two spellings of one file compare equal).
pub(crate) fn real_target(path: &Path) -> io::Result<PathBuf> {
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

pub(crate) fn temp_path(target: &Path, purpose: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = std::process::id();
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    parent(target).join(format!(".{name}.{purpose}-{unique}-{nanos}"))
}

/// Creates a new file, 0600 (a temporary key must never be readable by others, even while
/// it is written).
pub(crate) fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Step 2: the new contents in a temporary file, 0600, fsynced.
fn write_temp(temp: &Path, contents: &[u8], failpoint: &str) -> io::Result<()> {
    if failpoint == "write-temp" {
        return Err(io::Error::other("failpoint write-temp"));
    }
    let mut file = create_private(temp)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Step 4, before the rename: the final mode and owner (see [`apply_metadata`]).
fn finish_temp(temp: &Path, target: &Path, secrecy: Secrecy) -> io::Result<()> {
    let file = fs::OpenOptions::new().write(true).open(temp)?;
    apply_metadata(&file, target, secrecy)
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

/// A backup name beside `path` that is not taken: `NAME.bak.STAMP`, then `.1`, `.2`, ...
fn free_backup_name(path: &Path, stamp: &str) -> io::Result<PathBuf> {
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
        if fs::symlink_metadata(&backup).is_err() {
            return Ok(backup);
        }
    }
    Err(io::Error::other("too many backups with the same timestamp"))
}

/// Step 3: the backup, a hard link to the old file (a copy where links are not possible).
fn make_backup(path: &Path, backup: &Path) -> io::Result<()> {
    match fs::hard_link(path, backup) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => copy_preserving(path, backup),
    }
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
        let first = write_all_at("test", &[FileWrite::public(&cert, "v2")], now, "").unwrap();
        let second = write_all_at("test", &[FileWrite::public(&cert, "v3")], now, "").unwrap();
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
        assert!(
            matches!(
                err,
                Error::NotRegularFile {
                    kind: crate::FileKind::Directory,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(read(&cert), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_pipes_are_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.pem");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let null = dir.path().join("mynull");
        std::os::unix::fs::symlink("/dev/null", &null).unwrap();
        for target in [&fifo, &null] {
            let err =
                write_all(&[FileWrite::secret(target, Zeroizing::new(b"k".to_vec()))]).unwrap_err();
            assert!(matches!(err, Error::NotRegularFile { .. }), "{err}");
            assert!(AtomicFile::create(target, Secrecy::Secret).is_err());
        }
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_failed_write_leaves_no_journal_and_a_kept_journal_is_recovered_first() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        let key = dir.path().join("k.pem");
        fs::write(&cert, "old cert").unwrap();
        fs::write(&key, "old key").unwrap();
        let writes = [
            FileWrite::public(&cert, "new cert"),
            FileWrite::secret(&key, Zeroizing::new(b"new key".to_vec())),
        ];
        for failpoint in ["write-temp", "rename:1", "rename:2"] {
            write_all_at("test", &writes, OffsetDateTime::now_utc(), failpoint).unwrap_err();
            assert_eq!(read(&cert), "old cert", "{failpoint}");
            assert_eq!(read(&key), "old key", "{failpoint}");
            assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "{failpoint}");
        }
        let written = write_all(&writes).unwrap();
        assert!(written.recovered.is_empty());
        assert_eq!(read(&key), "new key");
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
        let err = write_all_at("test", &writes, OffsetDateTime::now_utc(), "rename:3").unwrap_err();
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
}

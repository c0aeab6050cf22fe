//! The intent journal of multi-file writes, and recovery of writes that were interrupted.
//!
//! POSIX renames one file atomically, never two: a certificate and its new key are two renames,
//! and a process killed between them would leave the new certificate beside the old key. So
//! before a write changes anything, it records its intent in a journal, one copy in every
//! directory it writes to (`.etcd-pki-journal.<id>`, written to a temporary, fsynced, renamed
//! into place, the directory fsynced). Each entry names the target, the temporary that will
//! replace it, the backup of the old file, and the SHA-256 of the old and the new contents. The
//! writer holds an exclusive lock (`flock`) on every copy until it has finished and removed
//! them, so a journal whose lock can be taken belongs to a process that is gone.
//!
//! Recovery ([`recover`]; every write runs it first in its directories) reads such a journal and
//! looks at what each target holds now:
//! - every target holds its new contents: the write had finished but for removing the journal;
//!   it is **rolled forward** (the journal goes, the backups stay, as after any write);
//! - otherwise it is **rolled back**: each target that holds its new contents gets the old file
//!   back (its backup is renamed over it; a file that did not exist before is removed), and the
//!   temporaries and the backups of untouched files are removed: every file is as it was;
//! - a target that holds neither its old nor its new contents was changed since by someone
//!   else: nothing is touched and the conflict is reported ([`Error::RecoveryConflict`]).
//!
//! Temporaries that no journal names (a killed write of a version before journals, a restore of
//! a killed recovery) are removed when the process that made them (their name carries its PID)
//! is gone. Read-only commands call [`interrupted_writes`] instead, which changes nothing.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::files::{open_regular, FileKind};

/// The first part of a journal's file name.
const JOURNAL_PREFIX: &str = ".etcd-pki-journal.";
/// The first line of a journal.
const MAGIC: &str = "etcd-pki journal 1";

/// A SHA-256 digest.
pub(crate) type Digest = [u8; 32];

/// One file of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The file replaced or created (never a symbolic link: links are resolved first).
    pub(crate) target: PathBuf,
    /// The temporary file renamed over the target.
    pub(crate) temp: PathBuf,
    /// The backup of the old file, if there was one.
    pub(crate) backup: Option<PathBuf>,
    /// The SHA-256 of the old file, if there was one.
    pub(crate) old: Option<Digest>,
    /// The SHA-256 of the new contents; `None` for a file streamed into its temporary (a
    /// snapshot), which is told apart by its inode instead.
    pub(crate) new: Option<Digest>,
    /// Device and inode of the old file, if there was one.
    pub(crate) old_id: Option<(u64, u64)>,
}

/// A transaction's journal, held (locked) while the transaction runs.
pub(crate) struct Journal {
    id: String,
    entries: Vec<Entry>,
    /// Every copy, with its open (locked) file.
    copies: Vec<(PathBuf, fs::File)>,
}

/// What recovery did with one interrupted write.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Recovered {
    /// The journal it was found by.
    pub journal: PathBuf,
    /// The command that wrote it (`reissue`, `renew`, `init`, ...).
    pub operation: String,
    /// When that write started.
    pub started: Option<OffsetDateTime>,
    /// Forward or back.
    pub outcome: RecoveryOutcome,
    /// The files of the write.
    pub files: Vec<PathBuf>,
}

/// How an interrupted write was finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryOutcome {
    /// Every file already held its new contents: only the journal was left to remove.
    RolledForward,
    /// The files were put back as they were before the write.
    RolledBack,
}

/// What [`recover`] did in a directory.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// Interrupted writes finished one way or the other.
    pub recovered: Vec<Recovered>,
    /// Writes still running in another process: left alone.
    pub in_progress: Vec<InterruptedWrite>,
    /// Temporary files of killed writes that no journal named, removed.
    pub removed_temporaries: Vec<PathBuf>,
}

impl RecoveryReport {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.recovered.is_empty()
            && self.in_progress.is_empty()
            && self.removed_temporaries.is_empty()
    }
}

/// A write found unfinished in a directory (by [`interrupted_writes`]).
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct InterruptedWrite {
    /// The directory it was found in.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub dir: PathBuf,
    /// Its journal, or the temporary file that no journal names.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub path: PathBuf,
    /// The command that wrote it, when a journal says.
    pub operation: Option<String>,
    /// When it started, when a journal says.
    #[serde(serialize_with = "crate::time_fmt::serde_time::opt_rfc3339")]
    pub started: Option<OffsetDateTime>,
    /// Whether the process that writes it still runs (then it is not interrupted, just busy).
    pub in_progress: bool,
    /// The files of the write, when a journal says.
    #[serde(serialize_with = "crate::path_text::serde_path::paths")]
    pub files: Vec<PathBuf>,
}

impl Journal {
    /// Records the intent of a transaction in every directory it writes to, before anything
    /// else is written. The copies stay locked until [`Journal::finish`].
    pub(crate) fn begin(operation: &str, entries: Vec<Entry>) -> io::Result<Journal> {
        let id = format!(
            "{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        );
        let text = encode(operation, OffsetDateTime::now_utc(), &entries);
        let mut journal = Journal {
            id,
            entries,
            copies: Vec::new(),
        };
        for dir in journal.dirs() {
            match write_copy(&dir, &journal.id, text.as_bytes()) {
                Ok(copy) => journal.copies.push(copy),
                Err(e) => {
                    journal.remove_copies();
                    return Err(e);
                }
            }
        }
        Ok(journal)
    }

    /// The directories the transaction writes to.
    fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .entries
            .iter()
            .map(|e| parent(&e.target).to_path_buf())
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// The transaction is complete: removes the journal.
    pub(crate) fn finish(mut self) {
        self.remove_copies();
    }

    /// The transaction failed: puts every file back as it was (see the module docs), then
    /// removes the journal. On a conflict the journal is kept for `etcd-pki recover`.
    pub(crate) fn roll_back(mut self) -> Result<()> {
        let name = self
            .copies
            .first()
            .map(|(p, _)| p.clone())
            .unwrap_or_default();
        roll_back_entries(&name, &self.entries)?;
        self.remove_copies();
        Ok(())
    }

    fn remove_copies(&mut self) {
        for (path, _) in &self.copies {
            let _ = fs::remove_file(path);
        }
        for dir in self.dirs() {
            sync_dir(&dir);
        }
        // Dropping the files releases the locks.
        self.copies.clear();
    }
}

/// Writes one copy of a journal: temporary, lock, contents, fsync, rename, fsync of the
/// directory. The returned file keeps the lock.
fn write_copy(dir: &Path, id: &str, text: &[u8]) -> io::Result<(PathBuf, fs::File)> {
    let path = dir.join(format!("{JOURNAL_PREFIX}{id}"));
    let temp = dir.join(format!("{JOURNAL_PREFIX}{id}.tmp"));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temp)?;
    let result = (|| {
        file.lock()?;
        file.write_all(text)?;
        file.sync_all()?;
        fs::rename(&temp, &path)?;
        sync_dir(dir);
        Ok(())
    })();
    match result {
        Ok(()) => Ok((path, file)),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// The journal as text: a line per entry, paths in hex (they may be any bytes).
fn encode(operation: &str, started: OffsetDateTime, entries: &[Entry]) -> String {
    let mut text = format!(
        "{MAGIC}\noperation {}\nstarted {}\n",
        operation.replace(char::is_whitespace, "-"),
        started.unix_timestamp()
    );
    for e in entries {
        text.push_str(&format!(
            "file {} {} {} {} {} {}\n",
            hex_path(&e.target),
            hex_path(&e.temp),
            e.backup.as_deref().map_or("-".into(), hex_path),
            e.old.as_ref().map_or("-".into(), |d| hex(d)),
            e.new.as_ref().map_or("-".into(), |d| hex(d)),
            e.old_id
                .map_or("-".into(), |(dev, ino)| format!("{dev}:{ino}")),
        ));
    }
    text.push_str("end\n");
    text
}

/// A journal read back.
struct Parsed {
    operation: String,
    started: Option<OffsetDateTime>,
    entries: Vec<Entry>,
}

fn parse(text: &str) -> std::result::Result<Parsed, String> {
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err("not an etcd-pki journal of this version".into());
    }
    let mut parsed = Parsed {
        operation: String::from("write"),
        started: None,
        entries: Vec::new(),
    };
    let mut ended = false;
    for line in lines {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["operation", op] => parsed.operation = (*op).to_string(),
            ["started", t] => {
                parsed.started = t
                    .parse::<i64>()
                    .ok()
                    .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            }
            ["file", target, temp, backup, old, new, old_id] => {
                let path = |h: &str| unhex_path(h).ok_or_else(|| format!("bad path {h:?}"));
                let opt_path = |h: &str| {
                    if h == "-" {
                        Ok(None)
                    } else {
                        path(h).map(Some)
                    }
                };
                let digest = |h: &str| -> std::result::Result<Option<Digest>, String> {
                    if h == "-" {
                        return Ok(None);
                    }
                    unhex(h)
                        .and_then(|v| v.try_into().ok())
                        .map(Some)
                        .ok_or_else(|| format!("bad digest {h:?}"))
                };
                let old_id = match *old_id {
                    "-" => None,
                    s => s
                        .split_once(':')
                        .and_then(|(d, i)| Some((d.parse().ok()?, i.parse().ok()?))),
                };
                parsed.entries.push(Entry {
                    target: path(target)?,
                    temp: path(temp)?,
                    backup: opt_path(backup)?,
                    old: digest(old)?,
                    new: digest(new)?,
                    old_id,
                });
            }
            ["end"] => ended = true,
            _ => return Err(format!("unexpected line {line:?}")),
        }
    }
    if !ended {
        return Err("the journal is incomplete".into());
    }
    Ok(parsed)
}

/// Finishes every interrupted write in `dir` (rolling it forward or back, as the module docs
/// say) and removes temporary files of killed writes. Writes still running in another process
/// are left alone and reported.
///
/// # Errors
/// [`Error::RecoveryConflict`] when a file of an interrupted write was changed since: nothing is
/// touched then. I/O errors while restoring are [`Error::Write`].
pub fn recover(dir: impl AsRef<Path>) -> Result<RecoveryReport> {
    let dir = dir.as_ref();
    let mut report = RecoveryReport::default();
    for (path, kind) in own_files(dir)? {
        match kind {
            OwnFile::Journal => {
                let Some(file) = open_journal(&path)? else {
                    continue; // removed meanwhile (by the recovery of another copy)
                };
                if let Err(fs::TryLockError::WouldBlock) = file.try_lock() {
                    report.in_progress.push(describe(dir, &path, true));
                    continue;
                }
                let parsed = read_journal(&path, &file)?;
                let outcome = recover_entries(&path, &parsed.entries)?;
                remove_all_copies(&path, &parsed.entries);
                report.recovered.push(Recovered {
                    journal: path,
                    operation: parsed.operation,
                    started: parsed.started,
                    outcome,
                    files: parsed.entries.into_iter().map(|e| e.target).collect(),
                });
            }
            OwnFile::JournalTemp => {
                // A journal that never became one: its write had not started changing files.
                if let Some(file) = open_journal(&path)? {
                    if file.try_lock().is_ok() {
                        let _ = fs::remove_file(&path);
                        report.removed_temporaries.push(path);
                    }
                }
            }
            OwnFile::Temporary { pid } => {
                if !process_alive(pid) && fs::remove_file(&path).is_ok() {
                    report.removed_temporaries.push(path);
                }
            }
        }
    }
    if !report.is_empty() {
        sync_dir(dir);
    }
    Ok(report)
}

/// The unfinished writes in `dir`, without changing anything (for read-only commands, plans
/// and dry runs, which report them and name `etcd-pki recover`).
pub fn interrupted_writes(dir: impl AsRef<Path>) -> Vec<InterruptedWrite> {
    let dir = dir.as_ref();
    let Ok(files) = own_files(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (path, kind) in files {
        match kind {
            OwnFile::Journal => {
                let busy = match open_journal(&path) {
                    Ok(Some(file)) => {
                        matches!(file.try_lock_shared(), Err(fs::TryLockError::WouldBlock))
                    }
                    _ => continue,
                };
                found.push(describe(dir, &path, busy));
            }
            OwnFile::JournalTemp => {}
            OwnFile::Temporary { pid } => found.push(InterruptedWrite {
                dir: dir.to_path_buf(),
                path,
                operation: None,
                started: None,
                in_progress: process_alive(pid),
                files: Vec::new(),
            }),
        }
    }
    found
}

fn describe(dir: &Path, path: &Path, in_progress: bool) -> InterruptedWrite {
    let parsed = fs::read_to_string(path).ok().and_then(|t| parse(&t).ok());
    InterruptedWrite {
        dir: dir.to_path_buf(),
        path: path.to_path_buf(),
        operation: parsed.as_ref().map(|p| p.operation.clone()),
        started: parsed.as_ref().and_then(|p| p.started),
        in_progress,
        files: parsed
            .map(|p| p.entries.into_iter().map(|e| e.target).collect())
            .unwrap_or_default(),
    }
}

/// Files of this crate's writes in a directory.
enum OwnFile {
    Journal,
    JournalTemp,
    /// `.NAME.tmp-PID-NANOS` or `.NAME.restore-PID-NANOS`.
    Temporary {
        pid: u32,
    },
}

fn own_files(dir: &Path) -> Result<Vec<(PathBuf, OwnFile)>> {
    let entries = fs::read_dir(dir).map_err(|error| Error::Read {
        path: dir.to_path_buf(),
        error,
    })?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(kind) = classify(name) {
            out.push((entry.path(), kind));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn classify(name: &str) -> Option<OwnFile> {
    if let Some(rest) = name.strip_prefix(JOURNAL_PREFIX) {
        return Some(if rest.ends_with(".tmp") {
            OwnFile::JournalTemp
        } else {
            OwnFile::Journal
        });
    }
    temp_pid(name).map(|pid| OwnFile::Temporary { pid })
}

/// The PID in a temporary file's name `.NAME.tmp-PID-NANOS` (or `.restore-`).
fn temp_pid(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let (_, tail) = name
        .rsplit_once(".tmp-")
        .or_else(|| name.rsplit_once(".restore-"))?;
    let (pid, nanos) = tail.split_once('-')?;
    (!pid.is_empty()
        && !nanos.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && nanos.bytes().all(|b| b.is_ascii_digit()))
    .then(|| pid.parse().ok())
    .flatten()
}

/// Whether a file name is one of this crate's temporary files or journals, which scans and
/// renewals skip (they are not the cluster's files).
pub fn is_transient(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| classify(n).is_some())
}

/// Whether a process still runs (Linux: `/proc/PID`); elsewhere, assumed to.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

fn open_journal(path: &Path) -> Result<Option<fs::File>> {
    match fs::OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}

fn read_journal(path: &Path, mut file: &fs::File) -> Result<Parsed> {
    use std::io::Read as _;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|error| Error::Read {
            path: path.to_path_buf(),
            error,
        })?;
    parse(&text).map_err(|reason| Error::RecoveryConflict {
        journal: path.to_path_buf(),
        file: path.to_path_buf(),
        reason: format!("the journal cannot be read ({reason})"),
    })
}

/// Removes every copy of a journal (one per directory of its entries).
fn remove_all_copies(found: &Path, entries: &[Entry]) {
    let Some(name) = found.file_name() else {
        return;
    };
    let mut dirs: Vec<&Path> = entries.iter().map(|e| parent(&e.target)).collect();
    dirs.push(parent(found));
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let _ = fs::remove_file(dir.join(name));
        sync_dir(dir);
    }
}

/// Where one file of a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    /// The target holds the new contents.
    renamed: bool,
    /// The target is as it was before the write.
    untouched: bool,
}

fn state(journal: &Path, e: &Entry) -> Result<State> {
    let conflict = |reason: String| Error::RecoveryConflict {
        journal: journal.to_path_buf(),
        file: e.target.clone(),
        reason,
    };
    let now = match fs::metadata(&e.target) {
        Ok(m) => {
            if let Some(kind) = FileKind::of(&m) {
                return Err(conflict(format!("it is now {kind}")));
            }
            Some(m)
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(Error::Read {
                path: e.target.clone(),
                error,
            })
        }
    };
    let Some(meta) = now else {
        return if e.old.is_none() && e.old_id.is_none() {
            Ok(State {
                renamed: false,
                untouched: true,
            })
        } else {
            Err(conflict("it was deleted since".into()))
        };
    };
    let s = match e.new {
        Some(new) => {
            let digest = digest_file(&e.target)?;
            State {
                renamed: digest == new,
                untouched: Some(digest) == e.old,
            }
        }
        // A streamed file: the rename replaced the old inode (or created the file).
        None => {
            let same_inode = e.old_id == Some(file_id(&meta));
            State {
                renamed: !same_inode,
                untouched: same_inode,
            }
        }
    };
    if !s.renamed && !s.untouched {
        return Err(conflict(
            "it holds neither its old nor its new contents: it was changed since".into(),
        ));
    }
    Ok(s)
}

/// Rolls a found journal's transaction forward or back.
fn recover_entries(journal: &Path, entries: &[Entry]) -> Result<RecoveryOutcome> {
    let states = entries
        .iter()
        .map(|e| state(journal, e))
        .collect::<Result<Vec<_>>>()?;
    if states.iter().all(|s| s.renamed) {
        for e in entries {
            let _ = fs::remove_file(&e.temp);
        }
        return Ok(RecoveryOutcome::RolledForward);
    }
    roll_back_entries(journal, entries)?;
    Ok(RecoveryOutcome::RolledBack)
}

/// Puts every file of a transaction back as it was before it.
fn roll_back_entries(journal: &Path, entries: &[Entry]) -> Result<()> {
    let states = entries
        .iter()
        .map(|e| state(journal, e))
        .collect::<Result<Vec<_>>>()?;
    let write_err = |path: &Path, error| Error::Write {
        path: path.to_path_buf(),
        error,
    };
    for (e, s) in entries.iter().zip(&states) {
        if s.renamed && !s.untouched {
            match (&e.backup, e.old.is_some() || e.old_id.is_some()) {
                // The backup is the old file (a hard link, or a faithful copy): renaming it
                // back restores bytes, mode and owner in one step.
                (Some(backup), true) => {
                    if e.old.is_some() && digest_file(backup).ok() != e.old {
                        return Err(Error::RecoveryConflict {
                            journal: journal.to_path_buf(),
                            file: e.target.clone(),
                            reason: format!(
                                "its backup {} does not hold the old contents",
                                backup.display()
                            ),
                        });
                    }
                    fs::rename(backup, &e.target).map_err(|err| write_err(&e.target, err))?;
                }
                (None, true) => {
                    return Err(Error::RecoveryConflict {
                        journal: journal.to_path_buf(),
                        file: e.target.clone(),
                        reason: "it was replaced but has no backup".into(),
                    })
                }
                // It did not exist before.
                (_, false) => {
                    fs::remove_file(&e.target).map_err(|err| write_err(&e.target, err))?
                }
            }
        } else if let Some(backup) = &e.backup {
            // Untouched: a backup made for it is redundant (same inode or same contents).
            let redundant = match (fs::metadata(backup), fs::metadata(&e.target)) {
                (Ok(b), Ok(t)) => {
                    file_id(&b) == file_id(&t)
                        || (e.old.is_some() && digest_file(backup).ok() == e.old)
                }
                _ => false,
            };
            if redundant {
                let _ = fs::remove_file(backup);
            }
        }
        let _ = fs::remove_file(&e.temp);
    }
    let mut dirs: Vec<&Path> = entries.iter().map(|e| parent(&e.target)).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        sync_dir(dir);
    }
    Ok(())
}

/// The SHA-256 of a file's contents.
pub(crate) fn digest_file(path: &Path) -> Result<Digest> {
    use std::io::Read as _;
    let (mut file, _) = open_regular(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|error| Error::Read {
            path: path.to_path_buf(),
            error,
        })?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}

/// The SHA-256 of bytes.
pub(crate) fn digest_bytes(bytes: &[u8]) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref());
    out
}

#[cfg(unix)]
pub(crate) fn file_id(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
pub(crate) fn file_id(meta: &fs::Metadata) -> (u64, u64) {
    (0, meta.len())
}

pub(crate) fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex_path(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        hex(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        hex(path.to_string_lossy().as_bytes())
    }
}

fn unhex_path(text: &str) -> Option<PathBuf> {
    let bytes = unhex(text)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(bytes).ok().map(PathBuf::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: &Path, name: &str, old: Option<&str>, new: &str) -> Entry {
        let target = dir.join(name);
        if let Some(old) = old {
            fs::write(&target, old).unwrap();
        }
        let meta = fs::metadata(&target).ok();
        Entry {
            temp: dir.join(format!(".{name}.tmp-1-2")),
            backup: old.map(|_| dir.join(format!("{name}.bak.20261130T000000Z"))),
            old: old.map(|o| digest_bytes(o.as_bytes())),
            new: Some(digest_bytes(new.as_bytes())),
            old_id: meta.as_ref().map(file_id),
            target,
        }
    }

    #[test]
    fn journals_round_trip_with_any_path_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let odd = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"\xff odd name.pem"));
        let mut e = entry(dir.path(), "a.pem", Some("old"), "new");
        e.target = odd;
        let text = encode(
            "reissue",
            OffsetDateTime::UNIX_EPOCH,
            std::slice::from_ref(&e),
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.entries, vec![e]);
        assert_eq!(parsed.operation, "reissue");
        assert!(parse(&text.replace("end\n", "")).is_err(), "incomplete");
        assert!(parse("garbage").is_err());
    }

    #[test]
    fn temporary_names_are_recognised_and_nothing_else() {
        for (name, pid) in [
            (".members.pem.tmp-123-456", Some(123)),
            (".a.restore-9-1", Some(9)),
            ("members.pem.tmp-123-456", None),
            (".members.pem.tmp-12a-456", None),
            (".members.pem", None),
            ("members.pem", None),
        ] {
            assert_eq!(temp_pid(name), pid, "{name}");
        }
        assert!(is_transient(Path::new("/x/.etcd-pki-journal.1-2")));
        assert!(is_transient(Path::new(".c.pem.tmp-1-2")));
        assert!(!is_transient(Path::new("c.pem")));
    }

    /// A transaction interrupted after its first rename: the journal rolls it back, and a second
    /// recovery finds nothing.
    #[test]
    fn an_interrupted_write_is_rolled_back_from_its_journal() {
        let dir = tempfile::tempdir().unwrap();
        let a = entry(dir.path(), "cert.pem", Some("old cert"), "new cert");
        let b = entry(dir.path(), "key.pem", Some("old key"), "new key");
        let c = entry(dir.path(), "new.pem", None, "created");
        let entries = vec![a.clone(), b.clone(), c.clone()];
        let journal = Journal::begin("reissue", entries).unwrap();
        for (e, text) in [(&a, "new cert"), (&b, "new key"), (&c, "created")] {
            fs::write(&e.temp, text).unwrap();
        }
        for e in [&a, &b] {
            fs::hard_link(&e.target, e.backup.as_ref().unwrap()).unwrap();
        }
        fs::rename(&a.temp, &a.target).unwrap();
        fs::rename(&c.temp, &c.target).unwrap();
        // The process dies: its locks go with it, the journal stays.
        drop(journal.copies);

        let report = recover(dir.path()).unwrap();
        assert_eq!(report.recovered.len(), 1, "{report:?}");
        assert_eq!(report.recovered[0].outcome, RecoveryOutcome::RolledBack);
        assert_eq!(report.recovered[0].operation, "reissue");
        assert_eq!(fs::read_to_string(&a.target).unwrap(), "old cert");
        assert_eq!(fs::read_to_string(&b.target).unwrap(), "old key");
        assert!(!c.target.exists());
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["cert.pem", "key.pem"]);
        assert!(recover(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_write_that_had_renamed_everything_is_rolled_forward() {
        let dir = tempfile::tempdir().unwrap();
        let a = entry(dir.path(), "cert.pem", Some("old"), "new");
        let journal = Journal::begin("renew", vec![a.clone()]).unwrap();
        fs::hard_link(&a.target, a.backup.as_ref().unwrap()).unwrap();
        fs::write(&a.temp, "new").unwrap();
        fs::rename(&a.temp, &a.target).unwrap();
        let copies: Vec<PathBuf> = journal.copies.iter().map(|(p, _)| p.clone()).collect();
        drop(journal.copies);
        assert_eq!(interrupted_writes(dir.path()).len(), 1);
        let report = recover(dir.path()).unwrap();
        assert_eq!(report.recovered[0].outcome, RecoveryOutcome::RolledForward);
        assert_eq!(fs::read_to_string(&a.target).unwrap(), "new");
        assert_eq!(
            fs::read_to_string(a.backup.as_ref().unwrap()).unwrap(),
            "old"
        );
        assert!(copies.iter().all(|c| !c.exists()));
        assert!(interrupted_writes(dir.path()).is_empty());
    }

    #[test]
    fn a_running_write_is_left_alone_and_a_changed_file_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let a = entry(dir.path(), "cert.pem", Some("old"), "new");
        let journal = Journal::begin("reissue", vec![a.clone()]).unwrap();
        let report = recover(dir.path()).unwrap();
        assert_eq!(report.in_progress.len(), 1);
        assert!(report.recovered.is_empty());
        assert!(interrupted_writes(dir.path())[0].in_progress);
        // Someone edits the file, then the writer dies.
        fs::write(&a.target, "edited by hand").unwrap();
        drop(journal.copies);
        let err = recover(dir.path()).unwrap_err();
        assert!(matches!(err, Error::RecoveryConflict { .. }), "{err}");
        assert_eq!(fs::read_to_string(&a.target).unwrap(), "edited by hand");
    }

    #[test]
    fn orphaned_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // PID 2^22+1 is above Linux's pid_max: never a live process.
        let dead = dir.path().join(".members.pem.tmp-4194305-1");
        let mine = dir
            .path()
            .join(format!(".members.pem.tmp-{}-1", std::process::id()));
        fs::write(&dead, "secret").unwrap();
        fs::write(&mine, "secret").unwrap();
        let report = recover(dir.path()).unwrap();
        assert_eq!(report.removed_temporaries, vec![dead.clone()]);
        assert!(!dead.exists() && mine.exists());
    }
}

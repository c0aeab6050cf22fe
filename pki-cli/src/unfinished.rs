//! Unfinished writes, as commands report them: a read-only command, a plan or a dry run that
//! finds the journal or temporary files of an interrupted write beside the files it reads says
//! so and names `etcd-pki recover DIR` (and exits 1); a command that writes recovers first
//! (pki-core does) and says what it finished.

use std::path::{Path, PathBuf};

use pki_core::{display_path, interrupted_writes, InterruptedWrite, Recovered, RecoveryOutcome};

/// The directories holding `paths` (files or directories), each once.
fn dirs_of(paths: &[&Path]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.to_path_buf()
            } else {
                match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                }
            }
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Reports the unfinished writes in the directories of `paths` on stderr; whether there was
/// any (the command then exits 1).
pub fn report_unfinished(paths: &[&Path]) -> bool {
    let found: Vec<InterruptedWrite> = dirs_of(paths).iter().flat_map(interrupted_writes).collect();
    report_interrupted(&found)
}

/// Prints what interrupted writes were found; whether there was any.
pub fn report_interrupted(found: &[InterruptedWrite]) -> bool {
    let mut dirs: Vec<&Path> = Vec::new();
    for w in found {
        eprintln!("etcd-pki: {}", describe(w));
        if !w.in_progress && !dirs.contains(&w.dir.as_path()) {
            dirs.push(&w.dir);
        }
    }
    for dir in dirs {
        eprintln!(
            "  the files there may be a mix of old and new: finish or undo the write with `etcd-pki recover {}` (any etcd-pki command that writes there does it first)",
            display_path(dir)
        );
    }
    !found.is_empty()
}

fn describe(w: &InterruptedWrite) -> String {
    let what = match (&w.operation, w.started) {
        (Some(op), Some(t)) => format!("a {op} started {}", pki_core::rfc3339(t)),
        (Some(op), None) => format!("a {op}"),
        (None, _) => "a write by an older etcd-pki".to_string(),
    };
    let files = if w.files.is_empty() {
        String::new()
    } else {
        format!(
            " (files: {})",
            w.files
                .iter()
                .map(|f| display_path(f).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if w.in_progress {
        format!(
            "{what} is running in {} right now{files}: its files are about to change",
            display_path(&w.dir)
        )
    } else {
        format!(
            "{what} was interrupted in {} ({}){files}",
            display_path(&w.dir),
            display_path(&w.path)
        )
    }
}

/// Says on stderr what a write finished before it started.
pub fn report_recovered(recovered: &[Recovered]) {
    for r in recovered {
        eprintln!("etcd-pki: {}", recovered_line(r));
    }
}

/// One line for one recovered write.
pub fn recovered_line(r: &Recovered) -> String {
    let op = &r.operation;
    let started = r
        .started
        .map(|t| format!(" started {}", pki_core::rfc3339(t)))
        .unwrap_or_default();
    let files = r
        .files
        .iter()
        .map(|f| display_path(f).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    match r.outcome {
        RecoveryOutcome::RolledBack => format!(
            "an interrupted {op}{started} was rolled back: {files} are as they were before it"
        ),
        RecoveryOutcome::RolledForward => format!(
            "an interrupted {op}{started} had replaced every file: finished it ({files} hold the new contents; backups kept)"
        ),
        _ => format!("an interrupted {op}{started} was recovered ({files})"),
    }
}

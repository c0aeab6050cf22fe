//! Replays every committed fuzz corpus file (fuzz/corpus/<target>/*) through the fuzz targets'
//! bodies (fuzz/targets/mod.rs) on stable, so that `cargo test` catches a regression on any
//! input the fuzzers found interesting, crashes they found included, without nightly.

#[path = "../../fuzz/targets/mod.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Runs every file of fuzz/corpus/`name` through `target`; fails naming each input that panics,
/// and fails on an empty or missing corpus (a replay of nothing would pass for nothing).
fn replay(name: &str, target: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("a corpus file");
        if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} {name} inputs failed (the panics are printed above):\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn load_corpus_replays() {
    replay("load", targets::load);
}

#[test]
fn etcd_file_corpus_replays() {
    replay("etcd_file", targets::etcd_file);
}

#[test]
fn host_corpus_replays() {
    replay("host", targets::host);
}

#[test]
fn reissue_corpus_replays() {
    replay("reissue", targets::reissue);
}

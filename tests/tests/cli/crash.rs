//! Every multi-file write killed at every point: `strace -e inject=SYSCALL:signal=KILL:when=N`
//! kills the real binary at its N-th `rename`, then at its N-th `fsync`, for N = 1, 2, ... until
//! the command runs to completion. After each kill:
//!
//! - a read-only command (`scan`) on the directory exits 1 and names `etcd-pki recover` whenever
//!   a journal was left;
//! - `etcd-pki recover` finishes the write one way or the other (exit 0);
//! - no temporary file, journal or stray backup is left, and every file is either exactly as it
//!   was (bytes and mode) or consistently new (the new certificate beside its new key, a
//!   complete PKI).
//!
//! Not random timing: each point between two system calls that matter is hit once. (x86_64
//! Linux, where glibc's `rename` and Rust's `sync_all` are the `rename` and `fsync` system
//! calls.)

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use etcd_pki_tests::{
    bin, copy_fixtures, etcd_pki, etcd_pki_in, openssl_leaf_expiring_in, snapshot,
};

/// How a killed run ended.
enum Ran {
    Killed,
    Finished,
}

/// Runs etcd-pki under strace, killing it at the `n`-th call of `syscall`.
fn run_killed_at(syscall: &str, n: usize, args: &[String], cwd: &Path) -> Ran {
    let status = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "-e"])
        .arg(format!("trace={syscall}"))
        .arg("-e")
        .arg(format!("inject={syscall}:signal=KILL:when={n}"))
        .arg(bin())
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run strace (make test installs it)");
    if status.status.signal() == Some(9) || status.status.code() == Some(137) {
        return Ran::Killed;
    }
    assert_eq!(
        status.status.code(),
        Some(0),
        "{args:?} under strace: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    Ran::Finished
}

/// Every directory under `root`, itself included.
fn dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let d = out[i].clone();
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.push(p);
            }
        }
        i += 1;
    }
    out
}

/// Names starting with a dot anywhere under `root` (temporaries, journals).
fn hidden(root: &Path) -> Vec<PathBuf> {
    dirs(root)
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect()
}

fn has_journal(root: &Path) -> bool {
    hidden(root).iter().any(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        name.starts_with(".etcd-pki-journal.") && !name.ends_with(".tmp")
    })
}

/// Kills `args` (run in a fresh copy of the scene each time) at every rename and every fsync,
/// recovers, and hands the result to `judge`, which says whether it is the old or the new
/// state (panicking on anything else). Returns how many kill points were exercised.
fn every_kill_point(
    setup: impl Fn(&Path),
    args: &[String],
    judge: impl Fn(&Path, &[(PathBuf, Vec<u8>, u32)]) -> State,
) -> usize {
    let mut points = 0;
    for syscall in ["rename", "fsync"] {
        let mut seen = (false, false);
        for n in 1.. {
            assert!(n < 200, "{syscall}: the command never ran to completion");
            let dir = tempfile::tempdir().unwrap();
            setup(dir.path());
            let before = snapshot(dir.path());
            match run_killed_at(syscall, n, args, dir.path()) {
                Ran::Finished => {
                    assert!(n > 1, "{syscall} was never called: nothing was tested");
                    assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
                    assert_eq!(judge(dir.path(), &before), State::New);
                    break;
                }
                Ran::Killed => points += 1,
            }
            if has_journal(dir.path()) {
                let scan = etcd_pki_in(Some(dir.path()), ["scan", "."]);
                scan.expect_code(1).stderr_has("etcd-pki recover");
            }
            for d in dirs(dir.path()) {
                etcd_pki(["recover".to_string(), d.display().to_string()]).expect_code(0);
            }
            let left = hidden(dir.path());
            assert!(
                left.is_empty(),
                "{syscall}#{n}: left after recovery: {left:?}"
            );
            match judge(dir.path(), &before) {
                State::Old => seen.0 = true,
                State::New => seen.1 = true,
            }
        }
        assert!(seen.0, "{syscall}: no kill point left the old state");
    }
    points
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Old,
    New,
}

/// Old: every file exactly as before (no backup either). New: decided by `is_new`.
fn old_or(dir: &Path, before: &[(PathBuf, Vec<u8>, u32)], is_new: impl Fn(&Path) -> bool) -> State {
    if snapshot(dir) == before {
        return State::Old;
    }
    assert!(
        is_new(dir),
        "neither the old files nor a consistent new state: {:?}",
        snapshot(dir)
            .iter()
            .map(|(p, _, m)| format!("{} {m:o}", p.display()))
            .collect::<Vec<_>>()
    );
    State::New
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

/// Whether `cert` covers `ip` and matches `key` (by etcd-pki check, which the other tests pin).
fn consistent(dir: &Path, cert: &str, key: &str, ip: &str) -> bool {
    let run = etcd_pki_in(
        Some(dir),
        ["check", "--cert", cert, "--key", key, "--host", ip],
    );
    run.code == 0
}

#[test]
fn reissue_with_a_new_key_is_old_or_new_at_every_kill_point() {
    let setup = |d: &Path| {
        copy_fixtures(
            d,
            &[
                "cfssl/ca.pem",
                "cfssl/ca-key.pem",
                "cfssl/members.pem",
                "cfssl/members-key.pem",
            ],
        );
        for k in ["ca-key.pem", "members-key.pem"] {
            set_mode(&d.join(k), 0o600);
        }
    };
    let points = every_kill_point(
        setup,
        &args(&[
            "reissue",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--cert",
            "members.pem",
            "--key",
            "members-key.pem",
            "--add-ip",
            "127.0.0.14",
            "--new-key",
        ]),
        |d, before| {
            old_or(d, before, |d| {
                consistent(d, "members.pem", "members-key.pem", "127.0.0.14") && backups(d) == 2
            })
        },
    );
    assert!(points >= 8, "only {points} kill points");
}

#[test]
fn a_certificate_and_key_in_two_directories_are_old_or_new_at_every_kill_point() {
    let setup = |d: &Path| {
        copy_fixtures(d, &["cfssl/ca.pem", "cfssl/ca-key.pem"]);
        std::fs::create_dir(d.join("certs")).unwrap();
        std::fs::create_dir(d.join("private")).unwrap();
        std::fs::copy(
            etcd_pki_tests::fixture("cfssl/server.pem"),
            d.join("certs/server.pem"),
        )
        .unwrap();
        std::fs::copy(
            etcd_pki_tests::fixture("cfssl/server-key.pem"),
            d.join("private/server-key.pem"),
        )
        .unwrap();
        set_mode(&d.join("ca-key.pem"), 0o600);
        set_mode(&d.join("private/server-key.pem"), 0o640);
    };
    every_kill_point(
        setup,
        &args(&[
            "reissue",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--cert",
            "certs/server.pem",
            "--key",
            "private/server-key.pem",
            "--add-dns",
            "etcd.example.test",
            "--new-key",
        ]),
        |d, before| {
            old_or(d, before, |d| {
                consistent(
                    d,
                    "certs/server.pem",
                    "private/server-key.pem",
                    "etcd.example.test",
                ) && mode(&d.join("private/server-key.pem")) == 0o640
            })
        },
    );
}

#[test]
fn renew_is_old_or_new_per_file_at_every_kill_point() {
    let setup = |d: &Path| {
        let pki = d.join("pki");
        std::fs::create_dir(&pki).unwrap();
        openssl_leaf_expiring_in(&pki, "a", 5, "127.0.0.21");
        openssl_leaf_expiring_in(&pki, "b", 5, "127.0.0.22");
        for f in ["a.csr", "a.ext", "b.csr", "b.ext"] {
            let _ = std::fs::remove_file(pki.join(f));
        }
        std::fs::copy(
            etcd_pki_tests::fixture("openssl/ec-ca.crt"),
            d.join("ca.crt"),
        )
        .unwrap();
        std::fs::copy(
            etcd_pki_tests::fixture("openssl/ec-ca.key"),
            d.join("ca.key"),
        )
        .unwrap();
        set_mode(&d.join("ca.key"), 0o600);
    };
    every_kill_point(
        setup,
        &args(&["renew", "pki", "--cacert", "ca.crt", "--ca-key", "ca.key"]),
        |d, before| {
            // Each file is its own transaction: each is old or renewed, never damaged.
            for name in ["a", "b"] {
                let ip = if name == "a" {
                    "127.0.0.21"
                } else {
                    "127.0.0.22"
                };
                let cert = format!("pki/{name}.crt");
                let key = format!("pki/{name}.key");
                assert!(consistent(d, &cert, &key, ip), "{cert}");
            }
            let renewed = |name: &str| {
                let now = std::fs::read(d.join(format!("pki/{name}.crt"))).unwrap();
                before
                    .iter()
                    .find(|(p, _, _)| p.ends_with(format!("pki/{name}.crt")))
                    .is_some_and(|(_, b, _)| *b != now)
            };
            if renewed("a") && renewed("b") {
                State::New
            } else if !renewed("a") && !renewed("b") {
                old_or(d, before, |_| false)
            } else {
                // One renewed, one not: the run was killed between two transactions. Both files
                // are consistent (checked above); renewing again finishes the job.
                etcd_pki_in(
                    Some(d),
                    ["renew", "pki", "--cacert", "ca.crt", "--ca-key", "ca.key"],
                )
                .expect_code(0);
                assert!(renewed("a") && renewed("b"));
                State::New
            }
        },
    );
}

#[test]
fn init_is_nothing_or_a_whole_pki_at_every_kill_point() {
    let setup = |_: &Path| {};
    every_kill_point(
        setup,
        &args(&[
            "init",
            "pki",
            "--layout",
            "kubeadm",
            "--member",
            "n0=127.0.0.31",
            "--member",
            "n1=127.0.0.32",
        ]),
        |d, _| {
            let files: Vec<PathBuf> = snapshot(d).into_iter().map(|(p, _, _)| p).collect();
            if files.is_empty() {
                return State::Old;
            }
            // Every file of the layout, and a PKI that scans clean.
            assert_eq!(files.len(), 2 + 2 * 7, "{files:?}");
            etcd_pki_in(Some(d), ["scan", "pki"]).expect_code(0);
            State::New
        },
    );
}

/// How many `*.bak.*` files are in `dir`.
fn backups(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".bak.")
        })
        .count()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

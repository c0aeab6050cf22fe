//! Path arguments as an attacker or an unlucky operator gives them: named pipes and devices
//! where files are expected, an output that is another input of the same command (the CA key!),
//! temporary files left by a killed run of an older version, and file names that are not UTF-8.
//! Regression tests of issue 9's defects 1, 2, 3, 5, 6 and 7.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use etcd_pki_tests::{copy_fixtures, etcd_pki_in, snapshot, Run};

/// The seed's files in a fresh directory, keys 0600, plus a FIFO `p`.
fn scene() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_fixtures(
        dir.path(),
        &[
            "cfssl/ca.pem",
            "cfssl/ca-key.pem",
            "cfssl/members.pem",
            "cfssl/members-key.pem",
            "cfssl/server.pem",
            "cfssl/server-key.pem",
        ],
    );
    for key in ["ca-key.pem", "members-key.pem", "server-key.pem"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path().join(key), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    let status = Command::new("mkfifo")
        .arg(dir.path().join("p"))
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// Runs etcd-pki in `dir`, failing the test if it takes a second or more (a FIFO used to block
/// forever).
fn quick(dir: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let run = etcd_pki_in(Some(dir), args);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{args:?} took {:?}",
        start.elapsed()
    );
    run
}

#[test]
fn a_fifo_given_as_any_file_argument_is_refused_at_once() {
    let dir = scene();
    let d = dir.path();
    let reissue = |slot: &str| {
        let mut args = vec![
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
        ];
        let i = args.iter().position(|a| *a == slot).unwrap();
        args[i + 1] = "p";
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let mut cases: Vec<Vec<String>> = [
        &["inspect", "p"][..],
        &["scan", "p"],
        &["check", "--cert", "p"],
        &["check", "--cert", "members.pem", "--key", "p"],
        &["check", "--cert", "members.pem", "--cacert", "p"],
        &["renew", "p", "--cacert", "ca.pem", "--ca-key", "ca-key.pem"],
        &[
            "renew",
            "members.pem",
            "--cacert",
            "p",
            "--ca-key",
            "ca-key.pem",
        ],
        // member add reads the new member's certificates before it talks to etcd.
        &[
            "member",
            "add",
            "infra3",
            "--peer-urls",
            "https://127.0.0.14:2380",
            "--peer-cert",
            "p",
        ],
        &[
            "member",
            "list",
            "--cacert",
            "p",
            "--cert",
            "members.pem",
            "--key",
            "members-key.pem",
        ],
        &["snapshot", "save", "p"],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect())
    .collect();
    for slot in ["--cacert", "--ca-key", "--cert", "--key"] {
        cases.push(reissue(slot));
    }
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = quick(d, &args);
        run.expect_code(2);
        assert!(
            run.stderr.contains("p is a named pipe (FIFO)"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_output_that_is_an_input_is_refused_and_nothing_changes() {
    let dir = scene();
    let d = dir.path();
    std::os::unix::fs::symlink("ca.pem", d.join("ca-link.pem")).unwrap();
    let before = snapshot(d);
    let base = [
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
    ];
    for (extra, names) in [
        (&["--out", "ca.pem"][..], "the CA certificate"),
        (&["--out", "ca-link.pem"], "the CA certificate"),
        (&["--out", "./ca-key.pem"], "the CA key"),
        (&["--out", "members-key.pem"], "the certificate's key"),
        (
            &["--new-key", "--out", "new.pem", "--out-key", "ca-key.pem"],
            "the CA key",
        ),
        (
            &["--new-key", "--out", "new.pem", "--out-key", "members.pem"],
            "the certificate to reissue",
        ),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        quick(d, &args).expect_code(2).stderr_has(names);
        assert_eq!(snapshot(d), before, "{extra:?} changed files");
    }
    // Replacing the certificate and key in place is still what reissue is for.
    let args: Vec<&str> = base.iter().chain(&["--new-key"]).copied().collect();
    quick(d, &args).expect_code(0);
}

#[test]
fn devices_and_pipes_are_never_replaced_as_outputs() {
    let dir = scene();
    let d = dir.path();
    std::os::unix::fs::symlink("/dev/null", d.join("mynull")).unwrap();
    for out_key in ["mynull", "p"] {
        quick(
            d,
            &[
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
                "--out",
                "new.pem",
                "--out-key",
                out_key,
            ],
        )
        .expect_code(2)
        .stderr_has("not a regular file");
    }
    assert!(std::fs::symlink_metadata(d.join("mynull"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!d.join("new.pem").exists());
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".bak.") || n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_dry_run_runs_the_key_check_of_the_real_run() {
    let dir = scene();
    let args = |dry: bool| {
        let mut a = vec![
            "reissue",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--cert",
            "members.pem",
            "--key",
            "server-key.pem",
            "--add-ip",
            "127.0.0.14",
        ];
        if dry {
            a.push("--dry-run");
        }
        a
    };
    let before = snapshot(dir.path());
    for dry in [true, false] {
        quick(dir.path(), &args(dry))
            .expect_code(2)
            .stderr_has("does not belong to this certificate");
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn temporaries_of_a_killed_older_version_are_skipped_then_removed() {
    let dir = scene();
    let d = dir.path();
    // What a run killed at its first rename left before journals existed: a temporary copy of
    // the new certificate and an unused private key (PID above Linux's pid_max: long gone).
    std::fs::copy(d.join("members.pem"), d.join(".members.pem.tmp-4194305-17")).unwrap();
    std::fs::copy(
        d.join("members-key.pem"),
        d.join(".members-key.pem.tmp-4194305-18"),
    )
    .unwrap();
    let scan = quick(d, &["scan", "-w", "json", "."]);
    scan.expect_code(1).stderr_has("etcd-pki recover");
    let json = scan.json();
    let certs: Vec<&str> = json["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(certs.iter().all(|p| !p.contains(".tmp-")), "{certs:?}");
    let skipped = json["skipped"].to_string();
    assert!(skipped.contains(".members.pem.tmp-4194305-17"), "{skipped}");
    // renew does not renew them (the due window covers a century: every leaf is due).
    let renew = quick(
        d,
        &[
            "renew",
            ".",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--expires-within",
            "36600d",
            "--dry-run",
            "-w",
            "json",
        ],
    );
    assert!(!renew.stdout.contains(".tmp-"), "{}", renew.stdout);
    // recover removes them; a scan is clean again.
    quick(d, &["recover", "."])
        .expect_code(0)
        .stdout_has("removed ./.members-key.pem.tmp-4194305-18");
    assert!(!d.join(".members.pem.tmp-4194305-17").exists());
    quick(d, &["scan", "."]).expect_code(0);
}

#[test]
fn a_name_that_is_not_utf8_is_reported_losslessly_in_json() {
    let dir = scene();
    let d = dir.path();
    std::fs::remove_file(d.join("p")).unwrap();
    let odd = PathBuf::from(OsStr::from_bytes(b"\xff.pem"));
    std::fs::copy(d.join("members.pem"), d.join(&odd)).unwrap();
    let scan = etcd_pki_in(
        Some(d),
        [
            OsStr::new("scan"),
            "-w".as_ref(),
            "json".as_ref(),
            ".".as_ref(),
        ],
    );
    scan.expect_code(0);
    let json = scan.json();
    let rows = json["certificates"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "every other file is reported too");
    let odd_row = rows
        .iter()
        .find(|r| r["path"].is_object())
        .expect("the odd name as an object");
    assert_eq!(odd_row["path"]["escaped"], "./\\xFF.pem");
    assert_eq!(odd_row["path"]["base64"], "Li//LnBlbQ==");
    for words in [
        &["inspect", "-w", "json"][..],
        &["check", "-w", "json", "--cert"],
    ] {
        let mut args: Vec<&OsStr> = words.iter().map(OsStr::new).collect();
        args.push(odd.as_os_str());
        let run = etcd_pki_in(Some(d), args);
        run.expect_code(0);
        assert!(
            run.stdout.contains("\\\\xFF.pem"),
            "{words:?}: {}",
            run.stdout
        );
    }
    let renew = etcd_pki_in(
        Some(d),
        [
            OsStr::new("renew"),
            odd.as_os_str(),
            "--cacert".as_ref(),
            "ca.pem".as_ref(),
            "--ca-key".as_ref(),
            "ca-key.pem".as_ref(),
            "-w".as_ref(),
            "json".as_ref(),
        ],
    );
    renew.expect_code(0);
    assert_eq!(renew.json()[0]["path"]["escaped"], "\\xFF.pem");
    // People see the escaped name too, not a replacement character.
    let table = etcd_pki_in(Some(d), [OsStr::new("scan"), ".".as_ref()]);
    table.expect_code(0).stdout_has("./\\xFF.pem");
}

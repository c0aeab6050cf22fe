//! Bad input of every kind: a clear one-line error and exit 2, never a panic or a backtrace.

use std::io::Read;
use std::process::{Command, Stdio};

use etcd_pki_tests::{bin, etcd_pki, fixture, fx};

#[test]
fn bad_flags_and_values_exit_2() {
    etcd_pki::<[&str; 0], &str>([]).expect_code(2);
    etcd_pki(["frobnicate"]).expect_code(2);
    etcd_pki(["check"]).expect_code(2).stderr_has("--cert");
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--role",
        "leader",
    ])
    .expect_code(2);
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--expires-within",
        "soon",
    ])
    .expect_code(2)
    .stderr_has("use e.g. 30d");
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--at",
        "yesterday",
    ])
    .expect_code(2);
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--url",
        "ftp://127.0.0.14:2380",
    ])
    .expect_code(2)
    .stderr_has("unsupported scheme");
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--url",
        "https://fd00::1:2380",
    ])
    .expect_code(2)
    .stderr_has("must be in brackets");
    etcd_pki(["check", "--cert", fx("cfssl/members.pem"), "--host", "a b"]).expect_code(2);
    etcd_pki(["scan", "-w", "simple", "."]).expect_code(2);
}

#[test]
fn bad_files_exit_2_naming_the_file() {
    let cases = [
        (
            vec!["check", "--cert", "/nonexistent.pem"],
            "cannot read /nonexistent.pem",
        ),
        (
            vec!["check", "--cert", fx("openssl/leaf.csr")],
            "certificate signing request",
        ),
        (
            vec!["check", "--cert", fx("openssl/truncated.crt")],
            "malformed",
        ),
        (
            vec![
                "check",
                "--cert",
                fx("cfssl/members.pem"),
                "--key",
                fx("openssl/encrypted-pkcs8.key"),
            ],
            "encrypted",
        ),
        (
            vec![
                "check",
                "--cert",
                fx("cfssl/members.pem"),
                "--key",
                fx("openssl/garbage.txt"),
            ],
            "no private key found",
        ),
        (
            vec![
                "check",
                "--cert",
                fx("cfssl/members.pem"),
                "--cacert",
                fx("openssl/empty.pem"),
            ],
            "the file is empty",
        ),
    ];
    for (args, message) in cases {
        let run = etcd_pki(&args);
        run.expect_code(2).stderr_has(message);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(
            run.stderr.starts_with("etcd-pki: error: "),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn no_fixture_makes_any_command_panic() {
    let mut files = Vec::new();
    for dir in ["cfssl", "openssl", "kubeadm"] {
        for entry in std::fs::read_dir(fixture(dir)).unwrap() {
            files.push(entry.unwrap().path().display().to_string());
        }
    }
    let ca = fx("cfssl/ca.pem");
    let ca_key = fx("cfssl/ca-key.pem");
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out.pem").display().to_string();
    let out_key = out_dir.path().join("out-key.pem").display().to_string();
    for file in &files {
        for args in [
            vec![
                "reissue",
                "--cacert",
                file,
                "--ca-key",
                file,
                "--cert",
                file,
                "--add-ip",
                "127.0.0.99",
                "--out",
                &out,
            ],
            vec![
                "reissue",
                "--cacert",
                &ca,
                "--ca-key",
                ca_key,
                "--cert",
                file,
                "--key",
                file,
                "--new-key",
                "--add-ip",
                "127.0.0.99",
                "--out",
                &out,
                "--out-key",
                &out_key,
            ],
            vec![
                "renew",
                file,
                "--cacert",
                &ca,
                "--ca-key",
                ca_key,
                "--dry-run",
            ],
            vec![
                "renew",
                file,
                "--cacert",
                file,
                "--ca-key",
                file,
                "--dry-run",
            ],
        ] {
            let run = etcd_pki(&args);
            assert!(
                [0, 1, 2].contains(&run.code),
                "{args:?} exited {}: {}",
                run.code,
                run.stderr
            );
            assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        }
    }
    for file in &files {
        for args in [
            vec!["inspect", file],
            vec!["inspect", "-w", "json", file],
            vec![
                "check",
                "--cert",
                file,
                "--key",
                file,
                "--cacert",
                file,
                "--role",
                "peer",
                "--host",
                "127.0.0.1",
            ],
            vec![
                "check",
                "--cert",
                file,
                "--cacert",
                &ca,
                "--role",
                "server",
                "--url",
                "https://[::1]:2379",
            ],
            vec!["check", "--cert", &ca, "--key", file],
        ] {
            let run = etcd_pki(&args);
            assert!(
                [0, 1, 2].contains(&run.code),
                "{args:?} exited {}: {}",
                run.code,
                run.stderr
            );
            assert!(
                !run.stderr.contains("panicked") && !run.stderr.contains("backtrace"),
                "{args:?}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = Command::new(bin())
        .args(["scan", fx("")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{:?}: {stderr}",
        out.status
    );
}

#[test]
fn help_and_version_exit_0() {
    etcd_pki(["--help"]).expect_code(0).stdout_has("check");
    etcd_pki(["check", "--help"])
        .expect_code(0)
        .stdout_has("--expires-within");
    etcd_pki(["--version"])
        .expect_code(0)
        .stdout_has("etcd-pki");
}

/// Regressions from review: inputs at the edges of dates, files and flags.
#[test]
fn edge_inputs_are_bad_input_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let ca = fx("cfssl/ca.pem");
    let ca_key = fx("cfssl/ca-key.pem");
    etcd_pki([
        "reissue",
        "--cacert",
        ca,
        "--ca-key",
        ca_key,
        "--cert",
        fx("cfssl/members.pem"),
        "--days",
        "4000000",
        "--dry-run",
    ])
    .expect_code(0)
    .stdout_has("cut to the CA's own expiry");
    etcd_pki([
        "init",
        &format!("{d}/pki"),
        "--member",
        "a=10.0.0.1",
        "--days",
        "4000000",
    ])
    .expect_code(2)
    .stderr_has("runs past the year 9999");
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--at",
        "9999-12-31T23:59:59-01:00",
    ])
    .expect_code(2)
    .stderr_has("--at");
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--host",
        "127.0.0.11:2380",
    ])
    .expect_code(2)
    .stderr_has("host:port");
    etcd_pki([
        "reissue",
        "--cacert",
        ca,
        "--ca-key",
        ca_key,
        "--cert",
        fx("cfssl/members.pem"),
        "--key",
        fx("cfssl/members-key.pem"),
        "--new-key",
        "--out",
        &format!("{d}/new.pem"),
    ])
    .expect_code(2)
    .stderr_has("needs --out-key");
    std::fs::copy(
        fixture("openssl/truncated.crt"),
        dir.path().join("truncated.crt"),
    )
    .unwrap();
    etcd_pki(["renew", d, "--cacert", ca, "--ca-key", ca_key])
        .expect_code(1)
        .stdout_has("FAILED");
    etcd_pki(["scan", d])
        .expect_code(1)
        .stdout_has("cannot be read");
}

/// Names no resolver returns and no client dials are refused before anything is signed:
/// RFC 1035's 63-byte label and 253-byte name, and X.520's 64-character common name for member
/// and CA names.
#[test]
fn overlong_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let label64 = format!("{}.example.test", "a".repeat(64));
    let name254 = [
        &"a".repeat(63)[..],
        &"b".repeat(63),
        &"c".repeat(63),
        &"d".repeat(62),
    ]
    .join(".");
    for dns in [&label64, &name254] {
        etcd_pki([
            "reissue",
            "--cacert",
            fx("cfssl/ca.pem"),
            "--ca-key",
            fx("cfssl/ca-key.pem"),
            "--cert",
            fx("cfssl/members.pem"),
            "--add-dns",
            dns,
            "--dry-run",
        ])
        .expect_code(2)
        .stderr_has("at most");
        let out = dir.path().join("pki");
        etcd_pki([
            "init",
            out.to_str().unwrap(),
            "--member",
            &format!("infra0=10.0.0.1,{dns}"),
        ])
        .expect_code(2)
        .stderr_has("at most");
        assert!(!out.join("ca.pem").exists());
    }
    let long = "x".repeat(65);
    for args in [
        vec!["--member", "infra0=10.0.0.1", "--ca-name", long.as_str()],
        vec!["--member", &format!("{long}=10.0.0.1")],
    ] {
        let out = dir.path().join("pki2");
        let mut all = vec!["init", out.to_str().unwrap()];
        all.extend(args.iter().copied());
        etcd_pki(&all).expect_code(2).stderr_has("64");
        assert!(!out.join("ca.pem").exists());
    }
}

//! `etcd-pki reissue`, checked with openssl.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use etcd_pki_tests::{bin, copy_fixtures, etcd_pki_in, snapshot, tool};

const SEED: &[&str] = &[
    "cfssl/ca.pem",
    "cfssl/ca-key.pem",
    "cfssl/members.pem",
    "cfssl/members-key.pem",
    "cfssl/server.pem",
];

fn seed_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_fixtures(dir.path(), SEED);
    std::fs::set_permissions(
        dir.path().join("ca-key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    dir
}

fn openssl_text(dir: &Path, args: &[&str]) -> String {
    tool("openssl", args, dir)
}

#[test]
fn the_seed_fix_is_accepted_by_openssl_and_keeps_everything_else() {
    let dir = seed_dir();
    let d = dir.path();
    let before_ext = openssl_text(
        d,
        &[
            "x509",
            "-in",
            "members.pem",
            "-noout",
            "-ext",
            "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints,subjectKeyIdentifier",
            "-subject",
        ],
    );
    let before_pub = openssl_text(d, &["x509", "-in", "members.pem", "-noout", "-pubkey"]);
    etcd_pki_in(
        Some(d),
        [
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
        ],
    )
    .expect_code(0)
    .stdout_has("+ IP:127.0.0.14")
    .stdout_has("wrote members.pem (the old file is ")
    .stdout_has("/members.pem.bak.");
    assert_eq!(
        openssl_text(d, &["verify", "-CAfile", "ca.pem", "members.pem"]).trim(),
        "members.pem: OK"
    );
    let checkip = openssl_text(
        d,
        &[
            "x509",
            "-in",
            "members.pem",
            "-noout",
            "-checkip",
            "127.0.0.14",
        ],
    );
    assert_eq!(checkip.trim(), "IP 127.0.0.14 does match certificate");
    assert_eq!(
        openssl_text(d, &["x509", "-in", "members.pem", "-noout", "-pubkey"]),
        before_pub,
        "public key kept"
    );
    let after_ext = openssl_text(
        d,
        &[
            "x509",
            "-in",
            "members.pem",
            "-noout",
            "-ext",
            "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints,subjectKeyIdentifier",
            "-subject",
        ],
    );
    assert_eq!(
        after_ext,
        before_ext.replace(
            "IP Address:127.0.0.13",
            "IP Address:127.0.0.13, IP Address:127.0.0.14"
        ),
        "old SANs, usages, constraints, key id and subject are all still there"
    );
    // The key still pairs with the certificate, as etcd will check at start-up.
    let key_pub = openssl_text(d, &["pkey", "-in", "members-key.pem", "-pubout"]);
    assert_eq!(key_pub, before_pub);
    // The backup is the old certificate.
    let backup = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".bak."))
        .unwrap();
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        std::fs::read(etcd_pki_tests::fixture("cfssl/members.pem")).unwrap()
    );
}

#[test]
fn openssl_pkcs8_and_ec_certificates_are_reissued_too() {
    for (cert, key, ca, ca_key) in [
        (
            "openssl/leaf-rsa-pkcs8.crt",
            "openssl/leaf-rsa-pkcs8.key",
            "openssl/rsa-ca.crt",
            "openssl/rsa-ca.key",
        ),
        (
            "openssl/leaf-ec-p256.crt",
            "openssl/leaf-ec-p256.key",
            "openssl/ec-ca.crt",
            "openssl/ec-ca.key",
        ),
        (
            "openssl/leaf-ec-p384.crt",
            "openssl/leaf-ec-p384.key",
            "openssl/ec-ca.crt",
            "openssl/ec-ca.key",
        ),
        (
            "openssl/leaf-ed25519.crt",
            "openssl/leaf-ed25519.key",
            "openssl/ed25519-ca.crt",
            "openssl/ed25519-ca.key",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        copy_fixtures(d, &[cert, key, ca, ca_key]);
        let name = |rel: &str| {
            Path::new(rel)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        };
        etcd_pki_in(
            Some(d),
            [
                "reissue",
                "--cacert",
                &name(ca),
                "--ca-key",
                &name(ca_key),
                "--cert",
                &name(cert),
                "--key",
                &name(key),
                "--add-ip",
                "127.0.0.14",
                "--add-dns",
                "etcd-4.example.com",
            ],
        )
        .expect_code(0);
        assert!(
            openssl_text(d, &["verify", "-CAfile", &name(ca), &name(cert)]).contains(": OK"),
            "{cert}"
        );
        assert!(
            openssl_text(
                d,
                &[
                    "x509",
                    "-in",
                    &name(cert),
                    "-noout",
                    "-checkip",
                    "127.0.0.14"
                ]
            )
            .contains("does match"),
            "{cert}"
        );
        assert!(
            openssl_text(
                d,
                &[
                    "x509",
                    "-in",
                    &name(cert),
                    "-noout",
                    "-checkhost",
                    "etcd-4.example.com"
                ]
            )
            .contains("does match"),
            "{cert}"
        );
    }
}

#[test]
fn a_new_key_replaces_the_key_file_in_its_format_with_a_backup() {
    let dir = seed_dir();
    let d = dir.path();
    std::fs::set_permissions(
        d.join("members-key.pem"),
        std::fs::Permissions::from_mode(0o400),
    )
    .unwrap();
    let old_key = std::fs::read(d.join("members-key.pem")).unwrap();
    etcd_pki_in(
        Some(d),
        [
            "reissue",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--cert",
            "members.pem",
            "--key",
            "members-key.pem",
            "--new-key",
            "--add-ip",
            "127.0.0.14",
        ],
    )
    .expect_code(0)
    .stdout_has("key: new RSA 2048 key");
    let new_key = std::fs::read_to_string(d.join("members-key.pem")).unwrap();
    assert!(
        new_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "kept PKCS#1 as cfssl wrote it"
    );
    assert_ne!(new_key.as_bytes(), old_key);
    let mode = std::fs::metadata(d.join("members-key.pem"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o400, "the old, stricter mode is kept");
    let cert_pub = openssl_text(d, &["x509", "-in", "members.pem", "-noout", "-pubkey"]);
    assert_eq!(
        openssl_text(d, &["pkey", "-in", "members-key.pem", "-pubout"]),
        cert_pub
    );
    let backups = std::fs::read_dir(d)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".bak.")
        })
        .count();
    assert_eq!(backups, 2, "certificate and key both backed up");
}

#[test]
fn out_writes_elsewhere_and_dry_run_writes_nothing() {
    let dir = seed_dir();
    let d = dir.path();
    let before = snapshot(d);
    etcd_pki_in(
        Some(d),
        [
            "reissue",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--cert",
            "members.pem",
            "--add-ip",
            "127.0.0.14",
            "--dry-run",
        ],
    )
    .expect_code(0)
    .stdout_has("dry run: nothing was written");
    assert_eq!(snapshot(d), before);
    let json = etcd_pki_in(
        Some(d),
        [
            "reissue",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--cert",
            "members.pem",
            "--add-ip",
            "127.0.0.14",
            "--dry-run",
            "-w",
            "json",
        ],
    );
    json.expect_code(0);
    assert_eq!(
        json.json()["plan"]["added"],
        serde_json::json!(["IP:127.0.0.14"])
    );
    assert_eq!(snapshot(d), before);
    etcd_pki_in(
        Some(d),
        [
            "reissue",
            "--cacert",
            "ca.pem",
            "--ca-key",
            "ca-key.pem",
            "--cert",
            "members.pem",
            "--add-ip",
            "127.0.0.14",
            "--out",
            "new-members.pem",
        ],
    )
    .expect_code(0);
    assert_eq!(
        std::fs::read(d.join("members.pem")).unwrap(),
        std::fs::read(etcd_pki_tests::fixture("cfssl/members.pem")).unwrap()
    );
    assert!(openssl_text(
        d,
        &[
            "x509",
            "-in",
            "new-members.pem",
            "-noout",
            "-checkip",
            "127.0.0.14"
        ]
    )
    .contains("does match"));
}

#[test]
fn bad_input_exits_2_and_changes_no_file() {
    let dir = seed_dir();
    let d = dir.path();
    copy_fixtures(
        d,
        &[
            "cfssl/other-ca-key.pem",
            "cfssl/foreign-members.pem",
            "cfssl/client.pem",
            "cfssl/client-key.pem",
        ],
    );
    let before = snapshot(d);
    let reissue = |extra: &[&str]| {
        let mut args = vec!["reissue"];
        args.extend_from_slice(extra);
        etcd_pki_in(Some(d), args)
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "other-ca-key.pem",
                "--cert",
                "members.pem",
                "--add-ip",
                "127.0.0.14",
            ],
            "does not belong to the CA certificate",
        ),
        (
            vec![
                "--cacert",
                "client.pem",
                "--ca-key",
                "client-key.pem",
                "--cert",
                "members.pem",
                "--add-ip",
                "127.0.0.14",
            ],
            "is not a CA",
        ),
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "foreign-members.pem",
                "--add-ip",
                "127.0.0.14",
            ],
            "was not issued by the CA",
        ),
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "members.pem",
                "--add-ip",
                "127.0.0.300",
            ],
            "invalid value '127.0.0.300'",
        ),
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "members.pem",
                "--add-dns",
                "10.0.12.157",
            ],
            "use --add-ip",
        ),
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "members.pem",
                "--remove-ip",
                "10.9.9.9",
            ],
            "no such IP SAN",
        ),
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "members.pem",
                "--key",
                "client-key.pem",
                "--add-ip",
                "127.0.0.14",
            ],
            "does not belong to this certificate",
        ),
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "members.pem",
                "--new-key",
                "--add-ip",
                "127.0.0.14",
            ],
            "--new-key needs somewhere",
        ),
        (
            vec![
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "ca-key.pem",
                "--add-ip",
                "127.0.0.14",
            ],
            "no certificate found",
        ),
    ];
    for (args, message) in cases {
        let run = reissue(&args);
        run.expect_code(2).stderr_has(message);
        assert_eq!(snapshot(d), before, "{args:?} changed a file");
    }
}

#[test]
fn a_write_failing_midway_restores_every_file() {
    let dir = seed_dir();
    let d = dir.path();
    let before = snapshot(d);
    for failpoint in ["write-temp", "rename:1", "rename:2"] {
        let out = Command::new(bin())
            .current_dir(d)
            .env("ETCD_PKI_FAILPOINT", failpoint)
            .args([
                "reissue",
                "--cacert",
                "ca.pem",
                "--ca-key",
                "ca-key.pem",
                "--cert",
                "members.pem",
                "--key",
                "members-key.pem",
                "--new-key",
                "--add-ip",
                "127.0.0.14",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{failpoint}: {stderr}");
        assert!(
            stderr.contains("every file was left as it was"),
            "{failpoint}: {stderr}"
        );
        assert_eq!(snapshot(d), before, "{failpoint} left a change behind");
    }
}

/// A real read-only directory: a read-only bind mount in a private mount namespace (we run as
/// root, for whom permission bits do not stop a write).
#[test]
fn a_read_only_directory_exits_2_and_changes_nothing() {
    let dir = seed_dir();
    let d = dir.path();
    let before = snapshot(d);
    let script = format!(
        "mount --bind {dir} {dir} && mount -o remount,bind,ro {dir} && cd {dir} && exec {bin} reissue --cacert ca.pem --ca-key ca-key.pem --cert members.pem --add-ip 127.0.0.14",
        dir = d.display(),
        bin = bin().display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("mount:"),
        "could not make a read-only mount here: {stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    assert!(stderr.contains("every file was left as it was"), "{stderr}");
    assert_eq!(snapshot(d), before);
}

//! `etcd-pki renew`: rotation of certificates that expire soon.

use etcd_pki_tests::{copy_fixtures, etcd_pki_in, openssl_leaf_expiring_in, snapshot, tool};

#[test]
fn renews_what_expires_soon_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_fixtures(
        d,
        &[
            "openssl/ec-ca.crt",
            "openssl/ec-ca.key",
            "openssl/leaf-ec-p256.crt",
            "openssl/leaf-ec-p256.key",
            "cfssl/members.pem",
        ],
    );
    let soon = openssl_leaf_expiring_in(d, "soon", 10, "127.0.0.16");
    let before_sans = tool(
        "openssl",
        &[
            "x509",
            "-in",
            "soon.crt",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
        d,
    );
    let dry = etcd_pki_in(
        Some(d),
        [
            "renew",
            ".",
            "--cacert",
            "ec-ca.crt",
            "--ca-key",
            "ec-ca.key",
            "--dry-run",
        ],
    );
    dry.expect_code(0)
        .stdout_has("would renew (dry run)")
        .stdout_has("not due")
        .stdout_has("skipped: another CA issued it");
    let run = etcd_pki_in(
        Some(d),
        [
            "renew",
            ".",
            "--cacert",
            "ec-ca.crt",
            "--ca-key",
            "ec-ca.key",
            "-w",
            "json",
        ],
    );
    run.expect_code(0);
    let items = run.json();
    let soon_item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("soon.crt"))
        .unwrap();
    assert_eq!(soon_item["outcome"]["action"], "renewed");
    assert!(tool(
        "openssl",
        &["verify", "-CAfile", "ec-ca.crt", "soon.crt"],
        d
    )
    .contains("OK"));
    assert_eq!(
        tool(
            "openssl",
            &[
                "x509",
                "-in",
                "soon.crt",
                "-noout",
                "-ext",
                "subjectAltName"
            ],
            d
        ),
        before_sans
    );
    // openssl -checkend 5 days: valid for more than that now (10-day lifetime, renewed).
    let status = std::process::Command::new("openssl")
        .args([
            "x509",
            "-in",
            soon.to_str().unwrap(),
            "-noout",
            "-checkend",
            &(9 * 86400).to_string(),
        ])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "renewed certificate should be valid for 9 more days"
    );
    let after_first = snapshot(d);
    // Nothing is due any more; backups are not renewed.
    etcd_pki_in(
        Some(d),
        [
            "renew",
            ".",
            "--cacert",
            "ec-ca.crt",
            "--ca-key",
            "ec-ca.key",
            "--expires-within",
            "5d",
        ],
    )
    .expect_code(0)
    .stdout_has("0 renewed, 0 failed");
    assert_eq!(snapshot(d), after_first);
}

#[test]
fn a_wrong_ca_key_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixtures(dir.path(), &["openssl/ec-ca.crt", "openssl/rsa-ca.key"]);
    etcd_pki_in(
        Some(dir.path()),
        [
            "renew",
            ".",
            "--cacert",
            "ec-ca.crt",
            "--ca-key",
            "rsa-ca.key",
        ],
    )
    .expect_code(2)
    .stderr_has("does not belong to the CA certificate");
}

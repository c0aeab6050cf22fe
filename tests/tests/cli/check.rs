//! `etcd-pki check`.

use etcd_pki_tests::{etcd_pki, fx, openssl_leaf_expiring_in};

#[test]
fn the_seed_failure_is_caught_with_the_ip_the_sans_and_the_fix() {
    let run = etcd_pki([
        "check",
        "--role",
        "peer",
        "--url",
        "https://127.0.0.14:2380",
        "--cert",
        fx("cfssl/members.pem"),
        "--key",
        fx("cfssl/members-key.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
    ]);
    run.expect_code(1)
        .stdout_has("FAIL  coverage  127.0.0.14: peer certificate members.pem does not cover 127.0.0.14")
        .stdout_has("it is valid for 127.0.0.1, 127.0.0.11, 127.0.0.12, 127.0.0.13")
        .stdout_has("x509: certificate is valid for 127.0.0.1, 127.0.0.11, 127.0.0.12, 127.0.0.13, not 127.0.0.14")
        .stdout_has(&format!(
            "fix: etcd-pki reissue --cacert {} --ca-key {} --cert {} --key {} --add-ip 127.0.0.14",
            fx("cfssl/ca.pem"), fx("cfssl/ca-key.pem"), fx("cfssl/members.pem"), fx("cfssl/members-key.pem")
        ))
        .stdout_has("FAIL: 1 of 6 checks failed");
}

#[test]
fn an_existing_member_ip_passes() {
    etcd_pki([
        "check",
        "--role",
        "peer",
        "--url",
        "https://127.0.0.12:2380",
        "--cert",
        fx("cfssl/members.pem"),
        "--key",
        fx("cfssl/members-key.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
    ])
    .expect_code(0)
    .stdout_has("PASS  coverage  127.0.0.12: covers 127.0.0.12 (IP:127.0.0.12)")
    .stdout_has("PASS: all 6 checks passed");
}

#[test]
fn comma_separated_urls_are_all_checked() {
    let run = etcd_pki([
        "check",
        "--role",
        "server",
        "--url",
        "https://127.0.0.11:2379,https://127.0.0.14:2379",
        "--cert",
        fx("cfssl/server.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
        "-w",
        "json",
    ]);
    run.expect_code(1);
    let json = run.json();
    let coverage: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "coverage")
        .map(|f| {
            (
                f["target"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        coverage,
        [
            ("127.0.0.11".to_string(), "PASS".to_string()),
            ("127.0.0.14".to_string(), "FAIL".to_string())
        ]
    );
}

#[test]
fn json_output_is_stable_and_complete() {
    let run = etcd_pki([
        "check",
        "--role",
        "peer",
        "--url",
        "https://127.0.0.14:2380",
        "--cert",
        fx("cfssl/members.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
        "-w",
        "json",
    ]);
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["status"], "FAIL");
    assert_eq!(json["role"], "peer");
    assert_eq!(json["hosts"], serde_json::json!(["127.0.0.14"]));
    let fail = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "FAIL")
        .unwrap();
    assert_eq!(fail["check"], "coverage");
    assert_eq!(fail["remedy"]["action"], "reissue");
    assert_eq!(fail["remedy"]["add_ips"], serde_json::json!(["127.0.0.14"]));
    assert!(fail["fix"]
        .as_str()
        .unwrap()
        .starts_with("etcd-pki reissue --cacert"));
}

#[test]
fn table_output_has_etcdctl_borders() {
    etcd_pki([
        "check",
        "--role",
        "peer",
        "--host",
        "127.0.0.14",
        "--cert",
        fx("cfssl/members.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
        "-w",
        "table",
    ])
    .expect_code(1)
    .stdout_has("| STATUS |")
    .stdout_has("| FAIL   | coverage | 127.0.0.14 |");
}

#[test]
fn a_certificate_from_another_ca_fails_the_chain() {
    etcd_pki([
        "check",
        "--role",
        "peer",
        "--url",
        "https://127.0.0.12:2380",
        "--cert",
        fx("cfssl/foreign-members.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
    ])
    .expect_code(1)
    .stdout_has("FAIL  chain     x509: certificate signed by unknown authority");
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/impostor-members.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
    ])
    .expect_code(1)
    .stdout_has("while trying to verify candidate authority certificate \"etcd-ca\"");
}

#[test]
fn intermediates_in_the_cert_file_are_used() {
    etcd_pki([
        "check",
        "--role",
        "peer",
        "--host",
        "127.0.0.31",
        "--cert",
        fx("openssl/leaf-via-intermediate-chain.pem"),
        "--key",
        fx("openssl/leaf-via-intermediate.key"),
        "--cacert",
        fx("openssl/root-ca.crt"),
    ])
    .expect_code(0)
    .stdout_has("chains to the CA: leaf-via-intermediate <- intermediate-ca <- root-ca");
}

#[test]
fn usages_are_checked_per_role() {
    etcd_pki([
        "check",
        "--role",
        "server",
        "--host",
        "127.0.0.1",
        "--cert",
        fx("openssl/server-only.crt"),
        "--cacert",
        fx("openssl/ec-ca.crt"),
    ])
    .expect_code(1)
    .stdout_has("FAIL  usage     clientAuth:")
    .stdout_has("etcd-io/etcd#9785");
    etcd_pki([
        "check",
        "--role",
        "client",
        "--cert",
        fx("cfssl/client.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
    ])
    .expect_code(0);
    etcd_pki([
        "check",
        "--role",
        "peer",
        "--cert",
        fx("cfssl/client.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
    ])
    .expect_code(1)
    .stdout_has("FAIL  usage     serverAuth:");
}

#[test]
fn the_common_name_does_not_cover_a_host() {
    etcd_pki([
        "check",
        "--role",
        "peer",
        "--host",
        "127.0.0.14",
        "--cert",
        fx("openssl/cn-only.crt"),
    ])
    .expect_code(1)
    .stdout_has("x509: certificate relies on legacy Common Name field, use SANs instead");
}

#[test]
fn a_mismatched_key_fails() {
    etcd_pki([
        "check",
        "--cert",
        fx("openssl/mismatch.crt"),
        "--key",
        fx("openssl/mismatch.key"),
    ])
    .expect_code(1)
    .stdout_has("FAIL  key-pair");
}

#[test]
fn expiry_is_judged_now_and_within_the_window() {
    etcd_pki([
        "check",
        "--cert",
        fx("openssl/expired.crt"),
        "--cacert",
        fx("openssl/rsa-ca.crt"),
    ])
    .expect_code(1)
    .stdout_has("FAIL  validity  expired on 2021-01-01T00:00:00Z")
    .stdout_has("fix: etcd-pki renew");
    let dir = tempfile::tempdir().unwrap();
    let soon = openssl_leaf_expiring_in(dir.path(), "soon", 10, "127.0.0.15");
    let soon = soon.display().to_string();
    let ca = fx("openssl/ec-ca.crt");
    etcd_pki(["check", "--cert", &soon, "--cacert", ca])
        .expect_code(0)
        .stdout_has("WARN  validity");
    etcd_pki([
        "check",
        "--cert",
        &soon,
        "--cacert",
        ca,
        "--expires-within",
        "30d",
    ])
    .expect_code(1)
    .stdout_has("FAIL  validity");
    etcd_pki([
        "check",
        "--cert",
        &soon,
        "--cacert",
        ca,
        "--expires-within",
        "5d",
    ])
    .expect_code(0);
    etcd_pki([
        "check",
        "--cert",
        &soon,
        "--cacert",
        ca,
        "--at",
        "2020-01-01T00:00:00Z",
    ])
    .expect_code(1)
    .stdout_has("not valid before");
}

#[test]
fn every_key_format_checks_against_its_certificate() {
    for (cert, key, ca) in [
        (
            "openssl/leaf-rsa-pkcs1.crt",
            "openssl/leaf-rsa-pkcs1.key",
            "openssl/rsa-ca.crt",
        ),
        (
            "openssl/leaf-rsa-pkcs8.crt",
            "openssl/leaf-rsa-pkcs8.key",
            "openssl/rsa-ca.crt",
        ),
        (
            "openssl/leaf-ec-p256.crt",
            "openssl/leaf-ec-p256.key",
            "openssl/ec-ca.crt",
        ),
        (
            "openssl/leaf-ec-p384.crt",
            "openssl/leaf-ec-p384.key",
            "openssl/ec-ca.crt",
        ),
        (
            "openssl/leaf-ed25519.crt",
            "openssl/leaf-ed25519.key",
            "openssl/ed25519-ca.crt",
        ),
        ("kubeadm/peer.crt", "kubeadm/peer.key", "kubeadm/ca.crt"),
    ] {
        etcd_pki([
            "check",
            "--role",
            "peer",
            "--host",
            "127.0.0.1",
            "--cert",
            fx(cert),
            "--key",
            fx(key),
            "--cacert",
            fx(ca),
        ])
        .expect_code(0);
    }
}

/// etcd reads PEM only (Go's tls.X509KeyPair), and parses every block of a CA file as a
/// certificate: DER files, and a key inside a CA file, would not work even though the
/// certificates in them are fine.
#[test]
fn files_etcd_cannot_read_fail_the_format_check() {
    etcd_pki([
        "check",
        "--cert",
        fx("openssl/leaf-ec-p256.der"),
        "--key",
        fx("openssl/leaf-ec-p256.key.der"),
        "--cacert",
        fx("openssl/rsa-ca.der"),
    ])
    .expect_code(1)
    .stdout_has("FAIL  format    certificate file: it is not PEM")
    .stdout_has("FAIL  format    key file: it is not PEM")
    .stdout_has("FAIL  format    CA file: it is not PEM")
    .stdout_has("PASS  key-pair");
    etcd_pki([
        "check",
        "--cert",
        fx("openssl/leaf-ec-p256.crt"),
        "--cacert",
        fx("openssl/combined.pem"),
    ])
    .expect_code(1)
    .stdout_has("CA file: it holds a EC PRIVATE KEY block");
    // A certificate file with its key after it is fine for etcd (X509KeyPair skips the key).
    etcd_pki([
        "check",
        "--cert",
        fx("openssl/combined.pem"),
        "--key",
        fx("openssl/combined.pem"),
    ])
    .expect_code(0);
}

//! `etcd-pki inspect`.

use etcd_pki_tests::{etcd_pki, fixture, fx};

#[test]
fn shows_the_fields_an_operator_needs() {
    etcd_pki(["inspect", fx("cfssl/members.pem")])
        .expect_code(0)
        .stdout_has(
            "Subject:            C=CN, ST=BeiJing, L=BeiJing, O=etcd, OU=etcd, CN=etcd-peer",
        )
        .stdout_has("SANs:               IP:127.0.0.1, IP:127.0.0.11, IP:127.0.0.12, IP:127.0.0.13")
        .stdout_has("Public key:         RSA 2048")
        .stdout_has("Ext key usage:      serverAuth, clientAuth")
        .stdout_has("Basic constraints:  not a CA");
    etcd_pki([
        "inspect",
        fx("openssl/uri-email.crt"),
        fx("openssl/no-eku.crt"),
        fx("openssl/cn-only.crt"),
    ])
    .expect_code(0)
    .stdout_has("URI:spiffe://cluster.local/etcd, email:ops@example.com")
    .stdout_has("Ext key usage:      any (no extension)")
    .stdout_has("none (no subjectAltName extension: covers no host in Go)");
}

#[test]
fn json_has_documented_fields() {
    let run = etcd_pki([
        "inspect",
        "-w",
        "json",
        fx("openssl/leaf-via-intermediate-chain.pem"),
        fx("openssl/leaf-ec-p384.key"),
    ]);
    run.expect_code(0);
    let json = run.json();
    let certs = json["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2);
    let leaf = &certs[0];
    for field in [
        "path",
        "index",
        "version",
        "subject",
        "common_name",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "sans",
        "public_key",
        "signature_algorithm",
        "key_usage",
        "extended_key_usage",
        "basic_constraints",
        "subject_key_id",
        "authority_key_id",
        "fingerprint_sha256",
        "self_issued",
    ] {
        assert!(leaf.get(field).is_some(), "missing {field}: {leaf}");
    }
    assert_eq!(leaf["sans"]["ip"], serde_json::json!(["127.0.0.31"]));
    assert_eq!(leaf["public_key"]["curve"], "P-256");
    assert_eq!(certs[1]["basic_constraints"]["ca"], true);
    assert_eq!(certs[1]["basic_constraints"]["path_len"], 0);
    let keys = json["private_keys"].as_array().unwrap();
    assert_eq!(keys[0]["algorithm"], "ECDSA");
    assert_eq!(keys[0]["format"], "pkcs8");
}

#[test]
fn private_key_material_is_never_printed() {
    for key in [
        "cfssl/ca-key.pem",
        "openssl/leaf-ec-p256.key",
        "openssl/leaf-ed25519.key",
        "openssl/combined.pem",
    ] {
        let text = std::fs::read_to_string(fixture(key)).unwrap();
        let key_lines: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("PRIVATE KEY-----"))
            .filter(|l| !l.starts_with("-----") && l.len() > 16)
            .collect();
        assert!(!key_lines.is_empty());
        for format in ["simple", "table", "json"] {
            let run = etcd_pki(["inspect", "-w", format, fx(key)]);
            run.expect_code(0);
            for line in &key_lines {
                assert!(
                    !run.stdout.contains(line) && !run.stderr.contains(line),
                    "{key} leaked in {format}"
                );
            }
        }
    }
}

#[test]
fn files_without_certificates_or_keys_are_bad_input() {
    for (rel, what) in [
        ("openssl/leaf.csr", "certificate signing request"),
        ("openssl/rsa-ca.crl", "certificate revocation list"),
        ("openssl/garbage.txt", "text that is not PEM"),
        ("openssl/empty.pem", "the file is empty"),
        ("openssl/public.pem", "a public key"),
        ("openssl/encrypted-pkcs8.key", "encrypted private key"),
        ("openssl/encrypted-pkcs1.key", "encrypted private key"),
        ("openssl/truncated.crt", "certificate #1 is malformed"),
    ] {
        etcd_pki(["inspect", fx(rel)])
            .expect_code(2)
            .stderr_has(what)
            .stderr_has(fx(rel));
    }
    etcd_pki(["inspect", fx("openssl")])
        .expect_code(2)
        .stderr_has("is a directory: use `etcd-pki scan");
    etcd_pki(["inspect", "/nonexistent.pem"])
        .expect_code(2)
        .stderr_has("cannot read /nonexistent.pem");
}

#[test]
fn good_files_are_shown_even_when_another_is_bad() {
    etcd_pki(["inspect", fx("cfssl/ca.pem"), fx("openssl/leaf.csr")])
        .expect_code(2)
        .stdout_has("CN=etcd-ca")
        .stderr_has("leaf.csr");
}

#[test]
fn urls_and_files_are_not_mixed_and_only_https_is_probed() {
    etcd_pki(["inspect", fx("cfssl/ca.pem"), "https://127.0.0.1:2379"])
        .expect_code(2)
        .stderr_has("give files or https:// URLs, not both");
    etcd_pki(["inspect", "http://127.0.0.1:2379"])
        .expect_code(2)
        .stderr_has("only https:// URLs serve a certificate");
    etcd_pki(["scan", "--probe", "http://127.0.0.1:2379"])
        .expect_code(2)
        .stderr_has("only https:// URLs serve a certificate");
    // scan needs something to look at.
    etcd_pki(["scan"]).expect_code(2);
}

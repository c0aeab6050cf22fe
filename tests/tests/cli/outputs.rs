//! Snapshots of the read-only offline commands, `inspect`, `check` and `scan`, in each output
//! format they offer, on the committed fixtures; and of bad usage and bad input (exit 2). Each
//! snapshot holds the exit code, stdout and stderr together. They run from the repository root,
//! so files are named as in the repository (`fixtures/cfssl/members.pem`).
//!
//! What changes from run to run is redacted (see `snap.rs`); to review and accept a change of
//! output, see `help.rs`: `cargo insta test -p etcd-pki-tests --test cli --review`, or
//! `INSTA_UPDATE=always cargo test -p etcd-pki-tests --test cli` and review `git diff`.

use crate::snap::{etcd_pki, snapshot};

/// `etcd-pki ARGS -w FORMAT` for each format, snapshotted as `NAME_FORMAT`.
fn each_format(name: &str, formats: &[&str], args: &[&str]) {
    for format in formats {
        let mut with_format: Vec<&str> = args.to_vec();
        with_format.extend(["-w", format]);
        snapshot!(format!("{name}_{format}"), etcd_pki(&with_format));
    }
}

const SIMPLE_TABLE_JSON: &[&str] = &["simple", "table", "json"];
const TABLE_JSON: &[&str] = &["table", "json"];

#[test]
fn inspect_certificates() {
    let cases: &[(&str, &[&str])] = &[
        ("inspect_cfssl_cert", &["fixtures/cfssl/members.pem"]),
        ("inspect_kubeadm_cert", &["fixtures/kubeadm/peer.crt"]),
        ("inspect_bundle", &["fixtures/openssl/bundle.pem"]),
        ("inspect_der_cert", &["fixtures/openssl/leaf-ec-p256.der"]),
        ("inspect_expired", &["fixtures/openssl/expired.crt"]),
        // A certificate and its key in one file.
        ("inspect_cert_and_key", &["fixtures/openssl/combined.pem"]),
        // Serial numbers as the bad-input corpus has them: 0, negative, 20 and 21 bytes.
        (
            "inspect_odd_serials",
            &[
                "fixtures/bad/serial-zero.pem",
                "fixtures/bad/serial-negative.pem",
                "fixtures/bad/serial-20-bytes.pem",
                "fixtures/bad/serial-21-bytes.pem",
            ],
        ),
        (
            "inspect_edge_cases",
            &[
                "fixtures/openssl/cn-only.crt",
                "fixtures/openssl/uri-email.crt",
                "fixtures/openssl/ipv6.crt",
                "fixtures/openssl/v1-ca.crt",
                "fixtures/openssl/nc-ca.crt",
                "fixtures/openssl/intermediate-ca.crt",
                "fixtures/openssl/critical-unknown.crt",
                "fixtures/openssl/longlife.crt",
                "fixtures/openssl/leaf-ed25519.crt",
                "fixtures/openssl/sha1-leaf.crt",
            ],
        ),
    ];
    for (name, files) in cases {
        let mut args = vec!["inspect"];
        args.extend_from_slice(files);
        each_format(name, SIMPLE_TABLE_JSON, &args);
    }
}

#[test]
fn inspect_keys() {
    each_format(
        "inspect_keys",
        SIMPLE_TABLE_JSON,
        &[
            "inspect",
            "fixtures/openssl/leaf-rsa-pkcs1.key",
            "fixtures/openssl/leaf-rsa-pkcs1.key.der",
            "fixtures/openssl/leaf-rsa-pkcs8.key",
            "fixtures/openssl/leaf-rsa-pkcs8.key.der",
            "fixtures/openssl/leaf-ec-p256.key",
            "fixtures/openssl/leaf-ec-p256.key.der",
            "fixtures/openssl/leaf-ec-p384.key",
            "fixtures/openssl/leaf-ed25519.key",
            "fixtures/cfssl/ca-key.pem",
        ],
    );
}

#[test]
fn inspect_what_is_not_a_certificate_or_key() {
    let cases: &[(&str, &[&str])] = &[
        ("inspect_csr", &["fixtures/openssl/leaf.csr"]),
        (
            "inspect_encrypted_key",
            &["fixtures/openssl/encrypted-pkcs8.key"],
        ),
        (
            "inspect_missing_file",
            &["fixtures/openssl/no-such-file.pem"],
        ),
        (
            "inspect_not_pem",
            &[
                "fixtures/openssl/public.pem",
                "fixtures/openssl/rsa-ca.crl",
                "fixtures/openssl/garbage.txt",
                "fixtures/openssl/empty.pem",
                "fixtures/openssl/truncated.crt",
                "fixtures/openssl/encrypted-pkcs1.key",
            ],
        ),
        // Good and bad files together: the good ones are shown, the command exits 2.
        (
            "inspect_good_and_bad",
            &[
                "fixtures/openssl/leaf-ec-p256.crt",
                "fixtures/openssl/leaf.csr",
                "fixtures/openssl/leaf-ec-p256.key",
            ],
        ),
    ];
    for (name, files) in cases {
        let mut args = vec!["inspect"];
        args.extend_from_slice(files);
        each_format(name, SIMPLE_TABLE_JSON, &args);
    }
}

#[test]
fn check() {
    let cases: &[(&str, &[&str])] = &[
        (
            "check_peer_passes",
            &[
                "--role",
                "peer",
                "--url",
                "https://127.0.0.11:2380",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--key",
                "fixtures/cfssl/members-key.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        // The seed runbook's failure: members.pem does not cover the new member.
        (
            "check_peer_coverage_fails",
            &[
                "--role",
                "peer",
                "--url",
                "https://127.0.0.14:2380",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--key",
                "fixtures/cfssl/members-key.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        (
            "check_wrong_key",
            &[
                "--cert",
                "fixtures/cfssl/members.pem",
                "--key",
                "fixtures/cfssl/server-key.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        (
            "check_expired",
            &[
                "--cert",
                "fixtures/openssl/expired.crt",
                "--key",
                "fixtures/openssl/expired.key",
                "--cacert",
                "fixtures/openssl/rsa-ca.crt",
            ],
        ),
        (
            "check_server_only_as_peer",
            &[
                "--role",
                "peer",
                "--host",
                "127.0.0.1",
                "--cert",
                "fixtures/openssl/server-only.crt",
                "--key",
                "fixtures/openssl/server-only.key",
                "--cacert",
                "fixtures/openssl/ec-ca.crt",
            ],
        ),
        (
            "check_name_constraints_violated",
            &[
                "--role",
                "server",
                "--host",
                "127.0.0.1",
                "--cert",
                "fixtures/openssl/nc-outside-chain.pem",
                "--key",
                "fixtures/openssl/nc-outside.key",
                "--cacert",
                "fixtures/openssl/root-ca.crt",
            ],
        ),
        (
            "check_name_constraints_respected",
            &[
                "--role",
                "server",
                "--host",
                "etcd-1.example.com",
                "--cert",
                "fixtures/openssl/nc-inside-chain.pem",
                "--cacert",
                "fixtures/openssl/root-ca.crt",
            ],
        ),
        (
            "check_foreign_ca",
            &[
                "--role",
                "peer",
                "--cert",
                "fixtures/cfssl/foreign-members.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        (
            "check_impostor_ca",
            &[
                "--cert",
                "fixtures/cfssl/impostor-members.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        (
            "check_server_urls_and_expiry_window",
            &[
                "--role",
                "server",
                "--url",
                "https://127.0.0.11:2379,https://127.0.0.14:2379",
                "--expires-within",
                "36500d",
                "--cert",
                "fixtures/cfssl/server.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        (
            "check_client",
            &[
                "--role",
                "client",
                "--cert",
                "fixtures/cfssl/client.pem",
                "--key",
                "fixtures/cfssl/client-key.pem",
                "--cacert",
                "fixtures/cfssl/ca.pem",
            ],
        ),
        (
            "check_no_san_extension",
            &[
                "--role",
                "server",
                "--host",
                "127.0.0.14",
                "--cert",
                "fixtures/openssl/cn-only.crt",
                "--cacert",
                "fixtures/openssl/ec-ca.crt",
            ],
        ),
        (
            "check_wildcard",
            &[
                "--host",
                "a.etcd.example.com",
                "--host",
                "a.b.etcd.example.com",
                "--cert",
                "fixtures/openssl/wildcard.crt",
                "--cacert",
                "fixtures/openssl/ec-ca.crt",
            ],
        ),
        (
            "check_sha1_chain",
            &[
                "--cert",
                "fixtures/openssl/sha1-leaf.crt",
                "--cacert",
                "fixtures/openssl/sha1-ca.crt",
            ],
        ),
        // Judged at a fixed instant: an intermediate in the file, a root as the CA.
        (
            "check_at_instant",
            &[
                "--at",
                "2030-01-01T00:00:00Z",
                "--cert",
                "fixtures/openssl/leaf-via-intermediate-chain.pem",
                "--key",
                "fixtures/openssl/leaf-via-intermediate.key",
                "--cacert",
                "fixtures/openssl/root-ca.crt",
            ],
        ),
        // No CA, no key, no role: only what can be judged alone.
        (
            "check_certificate_alone",
            &["--cert", "fixtures/kubeadm/peer.crt"],
        ),
    ];
    for (name, args) in cases {
        let mut full = vec!["check"];
        full.extend_from_slice(args);
        each_format(name, SIMPLE_TABLE_JSON, &full);
    }
}

#[test]
fn scan() {
    for (name, dir) in [
        ("scan_cfssl", "fixtures/cfssl"),
        ("scan_kubeadm", "fixtures/kubeadm"),
        ("scan_openssl", "fixtures/openssl"),
    ] {
        each_format(name, TABLE_JSON, &["scan", "--verify", dir]);
    }
    // Without --verify, the default; two trees at once.
    each_format(
        "scan_two_trees_unverified",
        TABLE_JSON,
        &["scan", "fixtures/cfssl", "fixtures/kubeadm"],
    );
    // Every certificate inside the window, then every one expired.
    each_format(
        "scan_expiring_within",
        TABLE_JSON,
        &["scan", "fixtures/kubeadm", "--expires-within", "36500d"],
    );
    each_format(
        "scan_at_instant",
        TABLE_JSON,
        &["scan", "fixtures/kubeadm", "--at", "2127-01-01T00:00:00Z"],
    );
    each_format(
        "scan_missing_dir",
        TABLE_JSON,
        &["scan", "fixtures/no-such-dir"],
    );
}

/// Bad usage: clap's messages, exit 2.
#[test]
fn bad_usage() {
    let cases: &[(&str, &[&str])] = &[
        ("usage_no_command", &[]),
        ("usage_unknown_command", &["bogus"]),
        (
            "usage_unknown_flag",
            &["inspect", "--bogus", "fixtures/cfssl/ca.pem"],
        ),
        ("usage_missing_required_flag", &["check"]),
        ("usage_missing_required_argument", &["inspect"]),
        (
            "usage_missing_required_flags_reissue",
            &["reissue", "--cert", "fixtures/cfssl/members.pem"],
        ),
        ("usage_missing_member", &["init", "pki"]),
        (
            "usage_bad_duration",
            &["scan", "fixtures/cfssl", "--expires-within", "soon"],
        ),
        (
            "usage_bad_timeout",
            &["member", "promote", "infra3", "--timeout", "forever"],
        ),
        (
            "usage_bad_time",
            &[
                "check",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--at",
                "yesterday",
            ],
        ),
        (
            "usage_bad_role",
            &[
                "check",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--role",
                "admin",
            ],
        ),
        (
            "usage_bad_format",
            &["inspect", "fixtures/cfssl/ca.pem", "-w", "yaml"],
        ),
        (
            "usage_table_not_offered",
            &[
                "reissue", "--cacert", "a", "--ca-key", "b", "--cert", "c", "-w", "table",
            ],
        ),
        (
            "usage_bad_ip",
            &[
                "reissue",
                "--cacert",
                "fixtures/cfssl/ca.pem",
                "--ca-key",
                "fixtures/cfssl/ca-key.pem",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--add-ip",
                "1.2.3",
            ],
        ),
        (
            "usage_bad_days",
            &["init", "pki", "--member", "a=10.0.0.1", "--days", "abc"],
        ),
        (
            "usage_out_key_without_new_key",
            &[
                "reissue",
                "--cacert",
                "fixtures/cfssl/ca.pem",
                "--ca-key",
                "fixtures/cfssl/ca-key.pem",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--out-key",
                "new-key.pem",
            ],
        ),
        (
            "usage_bad_member_name",
            &["config", "infra,3", "--peer-urls", "https://10.0.0.4:2380"],
        ),
        ("usage_missing_peer_urls", &["member", "add", "infra3"]),
        ("usage_member_without_subcommand", &["member"]),
        ("usage_endpoint_without_subcommand", &["endpoint"]),
        ("usage_snapshot_without_subcommand", &["snapshot"]),
    ];
    for (name, args) in cases {
        snapshot!(*name, etcd_pki(args));
    }
}

/// Bad input that the commands themselves refuse: `etcd-pki: error: ...`, exit 2.
#[test]
fn bad_input() {
    let cases: &[(&str, &[&str])] = &[
        (
            "input_check_not_a_certificate",
            &["check", "--cert", "fixtures/openssl/garbage.txt"],
        ),
        (
            "input_check_empty_ca",
            &[
                "check",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--cacert",
                "fixtures/openssl/empty.pem",
            ],
        ),
        (
            "input_check_encrypted_key",
            &[
                "check",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--key",
                "fixtures/openssl/encrypted-pkcs1.key",
            ],
        ),
        (
            "input_check_missing_key",
            &[
                "check",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--key",
                "fixtures/cfssl/no-such-key.pem",
            ],
        ),
        (
            "input_check_bad_url",
            &[
                "check",
                "--cert",
                "fixtures/cfssl/members.pem",
                "--url",
                "notaurl",
            ],
        ),
        (
            "input_check_csr_as_certificate",
            &["check", "--cert", "fixtures/cfssl/members.csr"],
        ),
        (
            "input_inspect_malformed",
            &[
                "inspect",
                "fixtures/bad/truncated.der",
                "fixtures/bad/length-4gib.der",
                "fixtures/bad/key-rsa-1024.pem",
                "fixtures/bad/crl.der",
            ],
        ),
    ];
    for (name, args) in cases {
        snapshot!(*name, etcd_pki(args));
    }
}

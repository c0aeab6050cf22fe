//! `etcd-pki init`.

use std::os::unix::fs::PermissionsExt;

use etcd_pki_tests::{etcd_pki_in, snapshot, tool};

#[test]
fn creates_the_cfssl_layout_with_safe_modes_and_openssl_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    etcd_pki_in(
        Some(d),
        [
            "init",
            "pki",
            "--member",
            "infra0=10.0.11.36",
            "--member",
            "infra1=10.0.12.21,etcd-1.example.com",
            "--algo",
            "rsa-2048",
        ],
    )
    .expect_code(0)
    .stdout_has("pki/members.pem")
    .stdout_has("--peer-cert-file=pki/members.pem");
    let pki = d.join("pki");
    for key in [
        "ca-key.pem",
        "server-key.pem",
        "members-key.pem",
        "client-key.pem",
    ] {
        let mode = std::fs::metadata(pki.join(key))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{key}");
        assert!(std::fs::read_to_string(pki.join(key))
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    }
    for cert in ["server.pem", "members.pem", "client.pem"] {
        assert!(
            tool("openssl", &["verify", "-CAfile", "ca.pem", cert], &pki).contains("OK"),
            "{cert}"
        );
    }
    let text = tool(
        "openssl",
        &["x509", "-in", "members.pem", "-noout", "-text"],
        &pki,
    );
    assert!(
        text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
        "{text}"
    );
    for ip in ["10.0.11.36", "10.0.12.21", "127.0.0.1"] {
        assert!(
            tool(
                "openssl",
                &["x509", "-in", "members.pem", "-noout", "-checkip", ip],
                &pki
            )
            .contains("does match"),
            "{ip}"
        );
    }
}

#[test]
fn refuses_to_overwrite_and_validates_members() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    etcd_pki_in(Some(d), ["init", "pki", "--member", "infra0=10.0.11.36"]).expect_code(0);
    let before = snapshot(d);
    etcd_pki_in(Some(d), ["init", "pki", "--member", "infra0=10.0.11.36"])
        .expect_code(2)
        .stderr_has("refusing to overwrite an existing PKI");
    etcd_pki_in(
        Some(d),
        [
            "init",
            "pki",
            "--layout",
            "kubeadm",
            "--member",
            "infra0=10.0.11.36",
        ],
    )
    .expect_code(2)
    .stderr_has("refusing to overwrite");
    assert_eq!(snapshot(d), before);
    for bad in ["infra0", "infra0=not-an-ip", "in/fra=10.0.0.1"] {
        etcd_pki_in(Some(d), ["init", "other", "--member", bad])
            .expect_code(2)
            .stderr_has("--member");
    }
    etcd_pki_in(
        Some(d),
        [
            "init",
            "other",
            "--member",
            "a=10.0.0.1",
            "--member",
            "a=10.0.0.2",
        ],
    )
    .expect_code(2)
    .stderr_has("given twice");
    assert!(!d.join("other").exists());
}

#[test]
fn kubeadm_layout_per_member() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    etcd_pki_in(
        Some(d),
        [
            "init",
            "pki",
            "--layout",
            "kubeadm",
            "--algo",
            "ed25519",
            "--member",
            "node-1=10.0.0.1",
            "--member",
            "node-2=10.0.0.2",
        ],
    )
    .expect_code(0);
    for f in [
        "ca.crt",
        "ca.key",
        "node-1/ca.crt",
        "node-1/server.crt",
        "node-1/peer.key",
        "node-2/healthcheck-client.crt",
    ] {
        assert!(d.join("pki").join(f).is_file(), "{f}");
    }
    let peer = tool(
        "openssl",
        &[
            "x509",
            "-in",
            "pki/node-2/peer.crt",
            "-noout",
            "-subject",
            "-ext",
            "subjectAltName",
        ],
        d,
    );
    assert!(
        peer.contains("CN = node-2")
            && peer.contains("IP Address:10.0.0.2")
            && !peer.contains("10.0.0.1,"),
        "{peer}"
    );
}

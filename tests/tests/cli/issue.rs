//! `etcd-pki issue`: a new member's own certificates after an existing member's, in the
//! per-member layouts of `init --layout kubeadm` and of a cluster made by hand with openssl,
//! checked with openssl itself; bad input changes nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use etcd_pki_tests::{copy_fixtures, etcd_pki_in, openssl_per_member, snapshot, tool};

/// `openssl x509 -noout` with `args` on `cert` in `dir`.
fn x509(dir: &Path, cert: &str, args: &[&str]) -> String {
    let mut all = vec!["x509", "-in", cert, "-noout"];
    all.extend_from_slice(args);
    tool("openssl", &all, dir)
}

/// The lines of `openssl x509 -text` that say what a certificate is for and what key it has.
fn usages_and_key(dir: &Path, cert: &str) -> Vec<String> {
    let text = x509(dir, cert, &["-text"]);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("X509v3 Key Usage")
            || line.starts_with("X509v3 Extended Key Usage")
            || line.starts_with("X509v3 Basic Constraints")
        {
            out.push(format!("{line} {}", lines.get(i + 1).unwrap_or(&"")));
        }
        if line.starts_with("Public Key Algorithm")
            || line.starts_with("Public-Key:")
            || line.starts_with("NIST CURVE")
        {
            out.push(line.to_string());
        }
    }
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn kubeadm_pki(dir: &Path) {
    etcd_pki_in(
        Some(dir),
        [
            "init",
            "pki",
            "--layout",
            "kubeadm",
            "--member",
            "n0=127.0.0.11",
            "--member",
            "n1=127.0.0.12",
            "--member",
            "n2=127.0.0.13",
        ],
    )
    .expect_code(0);
}

#[test]
fn a_fourth_member_after_an_init_kubeadm_member_passes_openssl() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    kubeadm_pki(d);
    let before = snapshot(&d.join("pki"));
    etcd_pki_in(
        Some(d),
        [
            "issue",
            "n3",
            "--ip",
            "127.0.0.14",
            "--cacert",
            "pki/ca.crt",
            "--ca-key",
            "pki/ca.key",
            "--like",
            "pki/n0",
            "--out",
            "pki/n3",
        ],
    )
    .expect_code(0)
    .stdout_has("modelled on pki/n0 (member n0")
    .stdout_has("SANs shared with the siblings pki/n1, pki/n2 are kept")
    .stdout_has("peer.crt  from peer.crt: CN=n3")
    .stdout_has("replaced (the template member's): DNS:n0, IP:127.0.0.11")
    .stdout_has("--peer-cert-file=pki/n3/peer.crt")
    .stdout_has("wrote pki/n3/peer.key");

    let pki = d.join("pki");
    let n3 = pki.join("n3");
    let mut names: Vec<String> = std::fs::read_dir(&n3)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ca.crt",
            "healthcheck-client.crt",
            "healthcheck-client.key",
            "peer.crt",
            "peer.key",
            "server.crt",
            "server.key"
        ],
        "the template's files, and no CA key"
    );
    for cert in ["server.crt", "peer.crt", "healthcheck-client.crt"] {
        let verified = tool(
            "openssl",
            &["verify", "-CAfile", "ca.crt", &format!("n3/{cert}")],
            &pki,
        );
        assert!(verified.contains(": OK"), "{cert}: {verified}");
        assert_eq!(
            usages_and_key(&pki, &format!("n3/{cert}")),
            usages_and_key(&pki, &format!("n0/{cert}")),
            "{cert}: usages and key as the template's"
        );
        assert_eq!(mode(&n3.join(cert)), 0o644, "{cert}");
        assert_eq!(mode(&n3.join(cert.replace(".crt", ".key"))), 0o600);
    }
    for cert in ["server.crt", "peer.crt"] {
        let checked = x509(&n3, cert, &["-checkip", "127.0.0.14", "-checkhost", "n3"]);
        assert!(
            checked.contains("IP 127.0.0.14 does match certificate")
                && checked.contains("Hostname n3 does match certificate"),
            "{cert}: {checked}"
        );
        let old = x509(&n3, cert, &["-checkip", "127.0.0.11", "-checkhost", "n0"]);
        assert!(
            old.contains("IP 127.0.0.11 does NOT match")
                && old.contains("Hostname n0 does NOT match"),
            "{cert} keeps nothing of n0's: {old}"
        );
        let localhost = x509(
            &n3,
            cert,
            &["-checkip", "127.0.0.1", "-checkhost", "localhost"],
        );
        assert!(!localhost.contains("NOT"), "{cert}: {localhost}");
        assert!(x509(&n3, cert, &["-subject"]).contains("CN = n3"));
    }
    assert!(x509(&n3, "healthcheck-client.crt", &["-subject"])
        .contains("O = system:masters, CN = kube-etcd-healthcheck-client"));
    let key_pairs = tool("openssl", &["pkey", "-in", "n3/peer.key", "-pubout"], &pki);
    assert_eq!(
        key_pairs,
        tool(
            "openssl",
            &["x509", "-in", "n3/peer.crt", "-noout", "-pubkey"],
            &pki
        ),
        "peer.key is peer.crt's key"
    );
    // Every file that was there is byte for byte as it was.
    let after: Vec<_> = snapshot(&pki)
        .into_iter()
        .filter(|(p, _, _)| !p.starts_with(&n3))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn a_fourth_member_after_a_hand_made_openssl_member_keeps_its_shapes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ip = |last: u8| std::net::IpAddr::from([127, 0, 0, last]);
    openssl_per_member(
        &d.join("pki"),
        &[
            ("etcd-a", ip(21), "etcd-a.etcd.test"),
            ("etcd-b", ip(22), "etcd-b.etcd.test"),
            ("etcd-c", ip(23), "etcd-c.etcd.test"),
        ],
    );
    let before = snapshot(&d.join("pki"));
    etcd_pki_in(
        Some(d),
        [
            "issue",
            "etcd-d",
            "--ip",
            "127.0.0.24",
            "--dns",
            "etcd-d.etcd.test",
            "--cacert",
            "pki/ca/etcd-root.crt",
            "--ca-key",
            "pki/ca/etcd-root.key",
            "--like",
            "pki/etcd-a",
            "--out",
            "new/etcd-d",
        ],
    )
    .expect_code(0)
    .stdout_has(
        "etcd-d-peer.pem  from etcd-a-peer.pem: O=Example Corp, OU=etcd peer, CN=etcd-d.etcd.test",
    )
    .stdout_has("--cert-file=new/etcd-d/etcd-d-server.pem")
    .stdout_has("--peer-key-file=new/etcd-d/etcd-d-peer.key");
    let out = d.join("new/etcd-d");
    for (cert, template) in [
        ("etcd-d-server.pem", "etcd-a-server.pem"),
        ("etcd-d-peer.pem", "etcd-a-peer.pem"),
        ("etcd-d-client.pem", "etcd-a-client.pem"),
    ] {
        let verified = tool(
            "openssl",
            &[
                "verify",
                "-CAfile",
                "pki/ca/etcd-root.crt",
                &format!("new/etcd-d/{cert}"),
            ],
            d,
        );
        assert!(verified.contains(": OK"), "{verified}");
        let ours = usages_and_key(&out, cert);
        assert!(
            ours.contains(&"Public-Key: (2048 bit)".to_string()),
            "{ours:?}"
        );
        assert_eq!(ours, usages_and_key(&d.join("pki/etcd-a"), template));
        let key = cert.replace(".pem", ".key");
        assert!(
            std::fs::read_to_string(out.join(&key))
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----"),
            "{key}: PKCS#8 as the template's"
        );
    }
    for cert in ["etcd-d-server.pem", "etcd-d-peer.pem"] {
        let checked = x509(
            &out,
            cert,
            &["-checkip", "127.0.0.24", "-checkhost", "etcd-d.etcd.test"],
        );
        assert!(!checked.contains("NOT"), "{cert}: {checked}");
        let old = x509(
            &out,
            cert,
            &["-checkip", "127.0.0.21", "-checkhost", "etcd-a.etcd.test"],
        );
        assert_eq!(old.matches("NOT").count(), 2, "{cert}: {old}");
    }
    assert!(x509(&out, "etcd-d-client.pem", &["-subject"]).contains("CN = etcd-d-client"));
    assert_eq!(snapshot(&d.join("pki")), before);
}

#[test]
fn a_dry_run_writes_nothing_and_json_lists_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    kubeadm_pki(d);
    let before = snapshot(d);
    let args = [
        "issue",
        "n3",
        "--ip",
        "127.0.0.14",
        "--cacert",
        "pki/ca.crt",
        "--ca-key",
        "pki/ca.key",
        "--like",
        "pki/n0",
        "--out",
        "pki/n3",
        "--dry-run",
    ];
    etcd_pki_in(Some(d), args)
        .expect_code(0)
        .stdout_has("dry run: nothing was written");
    let json = etcd_pki_in(Some(d), args.iter().chain(&["-w", "json"]))
        .expect_code(0)
        .json();
    assert_eq!(snapshot(d), before);
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["plan"]["template_member"], "n0");
    assert_eq!(json["plan"]["template_member_source"], "directory_name");
    let files = json["plan"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 7);
    let peer = files.iter().find(|f| f["path"] == "peer.crt").unwrap();
    assert_eq!(peer["kind"], "certificate");
    assert_eq!(peer["from"], "peer.crt");
    assert_eq!(peer["subject"], "CN=n3");
    assert_eq!(
        peer["sans"],
        serde_json::json!([
            "DNS:localhost",
            "IP:127.0.0.1",
            "IP:::1",
            "IP:127.0.0.14",
            "DNS:n3"
        ])
    );
    assert_eq!(
        peer["ext_key_usage"],
        serde_json::json!(["serverAuth", "clientAuth"])
    );
    let key = files.iter().find(|f| f["path"] == "peer.key").unwrap();
    assert_eq!(key["kind"], "key");
    assert_eq!(key["algorithm"], "ECDSA P-256");
    assert_eq!(json["plan"]["roles"]["peer"]["cert"], "peer.crt");
    assert_eq!(json["plan"]["roles"]["trusted_ca"], "ca.crt");
    assert_eq!(json["written"], serde_json::json!([]));
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    kubeadm_pki(d);
    let ip = |last: u8| std::net::IpAddr::from([127, 0, 0, last]);
    openssl_per_member(
        &d.join("other"),
        &[
            ("etcd-a", ip(21), "etcd-a.etcd.test"),
            ("etcd-b", ip(22), "etcd-b.etcd.test"),
        ],
    );
    std::fs::create_dir(d.join("taken")).unwrap();
    std::fs::write(d.join("taken/notes.txt"), "mine").unwrap();
    let before = snapshot(d);
    let run = |cacert: &str, ca_key: &str, like: &str, out: &str| {
        etcd_pki_in(
            Some(d),
            [
                "issue",
                "n3",
                "--ip",
                "127.0.0.14",
                "--cacert",
                cacert,
                "--ca-key",
                ca_key,
                "--like",
                like,
                "--out",
                out,
            ],
        )
    };
    // A template from another CA.
    run("pki/ca.crt", "pki/ca.key", "other/etcd-a", "n3")
        .expect_code(2)
        .stderr_has("was not issued by the CA");
    // No CA key.
    run("pki/ca.crt", "pki/missing.key", "pki/n0", "n3")
        .expect_code(2)
        .stderr_has("pki/missing.key");
    // A CA key that is not the CA's.
    run("pki/ca.crt", "other/ca/etcd-root.key", "pki/n0", "n3")
        .expect_code(2)
        .stderr_has("does not belong to the CA certificate");
    // An output directory that holds something.
    run("pki/ca.crt", "pki/ca.key", "pki/n0", "taken")
        .expect_code(2)
        .stderr_has("taken: it exists and is not empty");
    // The template as the output.
    run("pki/ca.crt", "pki/ca.key", "pki/n0", "pki/n0").expect_code(2);
    // No address.
    etcd_pki_in(
        Some(d),
        [
            "issue",
            "n3",
            "--cacert",
            "pki/ca.crt",
            "--ca-key",
            "pki/ca.key",
            "--like",
            "pki/n0",
            "--out",
            "n3",
        ],
    )
    .expect_code(2)
    .stderr_has("give the new member's IP address");
    assert_eq!(snapshot(d), before, "nothing was written or created");
}

#[test]
fn the_shared_layout_is_refused_with_the_reissue_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pki = d.join("pki");
    std::fs::create_dir(&pki).unwrap();
    copy_fixtures(
        &pki,
        &[
            "cfssl/ca.pem",
            "cfssl/ca-key.pem",
            "cfssl/server.pem",
            "cfssl/server-key.pem",
            "cfssl/members.pem",
            "cfssl/members-key.pem",
            "cfssl/client.pem",
            "cfssl/client-key.pem",
        ],
    );
    std::fs::set_permissions(
        pki.join("ca-key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let before = snapshot(d);
    etcd_pki_in(
        Some(d),
        [
            "issue",
            "infra3",
            "--ip",
            "127.0.0.14",
            "--cacert",
            "pki/ca.pem",
            "--ca-key",
            "pki/ca-key.pem",
            "--like",
            "pki",
            "--out",
            "infra3",
        ],
    )
    .expect_code(2)
    .stderr_has("shared by the members")
    .stderr_has(
        "etcd-pki reissue --cacert pki/ca.pem --ca-key pki/ca-key.pem --cert pki/members.pem --key pki/members-key.pem --add-ip 127.0.0.14",
    )
    .stderr_has("--cert pki/server.pem --key pki/server-key.pem --add-ip 127.0.0.14");
    // The output inside the template is refused before anything else.
    etcd_pki_in(
        Some(d),
        [
            "issue",
            "infra3",
            "--ip",
            "127.0.0.14",
            "--cacert",
            "pki/ca.pem",
            "--ca-key",
            "pki/ca-key.pem",
            "--like",
            "pki",
            "--out",
            "pki/infra3",
        ],
    )
    .expect_code(2)
    .stderr_has("inside the template directory pki");
    assert_eq!(snapshot(d), before);
}

//! `etcd-pki doctor` on real members: one configured by flags, one by `ETCD_*` environment
//! only, one by a `--config-file` YAML, found from their processes (`--pid`) and checked
//! against the running cluster; then defects planted in their files (etcd reads them on every
//! handshake), each of which doctor must name.

use std::net::IpAddr;
use std::path::Path;

use etcd_pki_tests::cluster::{allocate_ips, init_kubeadm, Cluster, Pki, Start, Style};
use etcd_pki_tests::{doctor_rows, etcd_pki, openssl_crl, Run};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `etcd-pki doctor ARGS -w json` with this cluster's admin connection; the member's rows.
fn doctor(cluster: &Cluster, args: &[&str]) -> (Run, serde_json::Value) {
    let mut words = vec!["doctor", "-w", "json"];
    words.extend_from_slice(args);
    // etcd's flags after `--` come last: no connection flags after them.
    let run = if args.contains(&"--") {
        etcd_pki(&words)
    } else {
        cluster.etcd_pki(&words, false)
    };
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor's JSON: {e}\n{}\n{}", run.stdout, run.stderr));
    (run, json)
}

fn rows(json: &serde_json::Value) -> Vec<(String, String, String)> {
    doctor_rows(&json.to_string())
}

fn failing(json: &serde_json::Value) -> Vec<(String, String)> {
    rows(json)
        .into_iter()
        .filter(|(st, _, _)| st == "FAIL")
        .map(|(_, c, m)| (c, m))
        .collect()
}

/// Three members n0-n2 of a kubeadm-layout PKI made by init, started in `styles` with `extra`
/// settings; `prepare` runs on the PKI directory before they start.
fn styled_cluster(
    ips: &[IpAddr],
    styles: [Style; 3],
    extra: &[(&str, &str)],
    prepare: impl FnOnce(&Path),
) -> (Cluster, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    init_kubeadm(&pki_dir, ips);
    prepare(&pki_dir);
    let admin = Pki::kubeadm_layout(&pki_dir, "n0");
    let mut cluster = Cluster::empty(&admin, &ips[..3], &[]);
    let initial = (0..3)
        .map(|i| format!("n{i}={}", cluster.peer_url(ips[i])))
        .collect::<Vec<_>>()
        .join(",");
    for (i, style) in styles.into_iter().enumerate() {
        let name = format!("n{i}");
        cluster.start_member_styled(
            &name,
            ips[i],
            &Pki::kubeadm_layout(&pki_dir, &name),
            &Start::Flags {
                initial_cluster: &initial,
                state: "new",
            },
            style,
            extra,
        );
    }
    cluster.wait_healthy(std::time::Duration::from_secs(60));
    (cluster, dir)
}

#[test]
fn doctor_finds_each_members_configuration_and_names_planted_defects() {
    let ips = allocate_ips(3);
    let (cluster, dir) = styled_cluster(
        &ips,
        [Style::Flags, Style::Env, Style::ConfigFile],
        &[],
        |_| {},
    );
    let pid = |name: &str| cluster.member(name).pid().unwrap().to_string();

    // Clean: each style resolved, with its sources, against the live cluster.
    for (name, source) in [("n0", "flag"), ("n1", "env"), ("n2", "config_file")] {
        let (run, json) = doctor(&cluster, &["--pid", &pid(name)]);
        assert_eq!(run.code, 0, "{name}: {:?}\n{}", failing(&json), run.stderr);
        assert_eq!(json[0]["name"], name);
        assert_eq!(
            json[0]["values"]["cert-file"]["source"]["kind"], source,
            "{name}"
        );
        let checks: Vec<String> = rows(&json).into_iter().map(|(_, c, _)| c).collect();
        for expected in [
            "server certificate coverage",
            "peer certificate coverage",
            "peer certificate chain",
            "cluster record",
            "serves",
            "SAN verification",
        ] {
            assert!(
                checks
                    .iter()
                    .any(|c| c.ends_with(expected) || c == expected),
                "{name}: no {expected} check in {checks:?}"
            );
        }
    }
    // Discovery without arguments finds all three (and maybe other tests' members).
    let (_, json) = doctor(&cluster, &["--offline"]);
    let found: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["origin"]["pid"].as_u64().map(|p| p.to_string()))
        .collect();
    for name in ["n0", "n1", "n2"] {
        assert!(found.contains(&pid(name)), "{name} not found: {found:?}");
    }

    // 1. n0's server certificate no longer covers its advertised client URL.
    let n0 = &cluster.member("n0").pki;
    etcd_pki([
        "reissue",
        "--cacert",
        &s(&dir.path().join("pki/ca.crt")),
        "--ca-key",
        &s(&dir.path().join("pki/ca.key")),
        "--cert",
        &s(&n0.server),
        "--key",
        &s(&n0.server_key),
        "--remove-ip",
        &ips[0].to_string(),
    ])
    .expect_code(0);
    let (run, json) = doctor(&cluster, &["--pid", &pid("n0"), "--offline"]);
    assert_eq!(run.code, 1);
    let f = failing(&json);
    assert!(
        f.iter()
            .any(|(c, m)| c == "server certificate coverage" && m.contains(&ips[0].to_string())),
        "{f:?}"
    );

    // 2. n1's peer certificate from another CA.
    let other = tempfile::tempdir().unwrap();
    let other_pki = Pki::cfssl(other.path(), &ips);
    let n1 = &cluster.member("n1").pki;
    std::fs::copy(&other_pki.peer, &n1.peer).unwrap();
    std::fs::copy(&other_pki.peer_key, &n1.peer_key).unwrap();
    let (_, json) = doctor(&cluster, &["--pid", &pid("n1"), "--offline"]);
    let f = failing(&json);
    assert!(
        f.iter().any(|(c, _)| c == "peer certificate chain"),
        "{f:?}"
    );

    // 3. n2's server key is not its certificate's.
    let n2 = &cluster.member("n2").pki;
    std::fs::copy(&n2.peer_key, &n2.server_key).unwrap();
    let (_, json) = doctor(&cluster, &["--pid", &pid("n2"), "--offline"]);
    let f = failing(&json);
    assert!(
        f.iter().any(|(c, _)| c == "server certificate key-pair"),
        "{f:?}"
    );

    // 4. An allowed CN the peers do not satisfy, and SAN verification skipped (n0's flags, as
    //    given after --).
    let n0_pki = &cluster.member("n0").pki;
    let flags = [
        "--name=n0".to_string(),
        format!("--listen-peer-urls={}", cluster.peer_url(ips[0])),
        format!("--initial-advertise-peer-urls={}", cluster.peer_url(ips[0])),
        format!("--peer-cert-file={}", s(&n0_pki.peer)),
        format!("--peer-key-file={}", s(&n0_pki.peer_key)),
        format!("--peer-trusted-ca-file={}", s(&n0_pki.ca)),
        "--peer-client-cert-auth".to_string(),
        "--peer-cert-allowed-cn=etcd-peer".to_string(),
        "--experimental-peer-skip-client-san-verification".to_string(),
    ];
    let mut words: Vec<&str> = vec!["--offline", "--"];
    words.extend(flags.iter().map(String::as_str));
    let (_, json) = doctor(&cluster, &words);
    let all = rows(&json);
    assert!(
        all.iter()
            .any(|(st, c, _)| st == "FAIL" && c.ends_with("allowed names")),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|(st, c, _)| st == "WARN" && c == "SAN verification"),
        "{all:?}"
    );
}

#[test]
fn doctor_names_a_revoked_peer_certificate_in_the_crl() {
    let ips = allocate_ips(3);
    let crl_dir = tempfile::tempdir().unwrap();
    let crl = crl_dir.path().join("peer.crl");
    let crl_text = crl.display().to_string();
    // A CRL that revokes nothing yet, made once the CA exists, before the members start (a
    // missing or empty one would make etcd reject every peer).
    let (cluster, dir) = styled_cluster(
        &ips,
        [Style::Flags; 3],
        &[("peer-crl-file", &crl_text)],
        |pki| openssl_crl(&pki.join("ca.crt"), &pki.join("ca.key"), &[], &crl),
    );
    let ca = dir.path().join("pki/ca.crt");
    let ca_key = dir.path().join("pki/ca.key");
    let n1_peer = cluster.member("n1").pki.peer.clone();
    openssl_crl(&ca, &ca_key, &[&n1_peer], &crl);
    // n0 (and every member using this CRL) now refuses n1's peer certificate.
    let pid = cluster.member("n0").pid().unwrap().to_string();
    let (run, json) = doctor(&cluster, &["--pid", &pid]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let f = failing(&json);
    assert!(
        f.iter()
            .any(|(c, m)| c == "n1 serves" && m.contains("revoked")),
        "{f:?}"
    );
    // n1's own doctor names its own certificate as revoked.
    let pid1 = cluster.member("n1").pid().unwrap().to_string();
    let (_, json) = doctor(&cluster, &["--pid", &pid1, "--offline"]);
    let f = failing(&json);
    assert!(
        f.iter()
            .any(|(c, m)| c == "peer CRL revocation" && m.contains("revokes serial")),
        "{f:?}"
    );
}

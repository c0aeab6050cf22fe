//! `check --etcd-version`: where the Gos of etcd 3.4 and 3.5 decide a host differently, the
//! verdict follows the etcd named (3.5 by default) and says which rules it applied; hosts that
//! Go reads otherwise than etcd-pki are noted or refused as `tests/go-oracle/DELIBERATE.md`
//! says. The certificates are made here (rcgen), since no tool writes a DNS SAN of `*` easily.

use std::path::PathBuf;

use etcd_pki_tests::etcd_pki;
use etcd_pki_tests::host_gen::{CertSpec, San};

fn cert(dir: &tempfile::TempDir, name: &str, sans: Vec<San>) -> String {
    let path: PathBuf = dir.path().join(name);
    let der = CertSpec::with_sans(sans).der();
    std::fs::write(&path, pki_core::pem_encode("CERTIFICATE", &der)).unwrap();
    path.display().to_string()
}

#[test]
fn a_bare_star_covers_a_one_label_host_for_etcd_3_4_only() {
    let dir = tempfile::tempdir().unwrap();
    let star = cert(&dir, "star.pem", vec![San::Dns("*".into())]);
    etcd_pki(["check", "--cert", &star, "--host", "etcd-peer", "--etcd-version", "3.4"])
        .expect_code(0)
        .stdout_has("PASS  coverage  etcd-peer: covers etcd-peer (DNS:*) (judged by the rules of etcd 3.4 (Go 1.19); etcd 3.5 (Go 1.24) would refuse it)");
    for args in [vec![], vec!["--etcd-version", "3.5"]] {
        let mut all = vec!["check", "--cert", &star, "--host", "etcd-peer"];
        all.extend(args);
        etcd_pki(all)
            .expect_code(1)
            .stdout_has("etcd would fail with \"x509: certificate is valid for *, not etcd-peer\" (judged by the rules of etcd 3.5 (Go 1.24); etcd 3.4 (Go 1.19) would accept it)");
    }
    etcd_pki([
        "check",
        "--cert",
        &star,
        "--host",
        "a",
        "--etcd-version",
        "3.6",
    ])
    .expect_code(2)
    .stderr_has("possible values: 3.4, 3.5");
}

#[test]
fn brackets_around_a_name_are_part_of_the_name_as_go_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let node = cert(
        &dir,
        "node.pem",
        vec![San::Dns("node-1.cluster.local".into())],
    );
    etcd_pki(["check", "--cert", &node, "--host", "[node-1.cluster.local]"])
        .expect_code(1)
        .stdout_has(
            "x509: certificate is valid for node-1.cluster.local, not [node-1.cluster.local]",
        );
}

#[test]
fn hosts_read_otherwise_are_noted_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ip = cert(
        &dir,
        "ip.pem",
        vec![
            San::Ip("fd00::1".parse().unwrap()),
            San::Ip("10.0.0.1".parse().unwrap()),
        ],
    );
    etcd_pki(["check", "--cert", &ip, "--host", "0fd00::1", "--etcd-version", "3.4"])
        .expect_code(0)
        .stderr_has("note: \"0fd00::1\" is the IP fd00::1 for etcd 3.4 (Go 1.19); for etcd 3.5 (Go 1.24) (--etcd-version 3.5) it is the name \"0fd00::1\"");
    etcd_pki(["check", "--cert", &ip, "--host", "0fd00::1"])
        .expect_code(1)
        .stderr_has("for etcd 3.4 (Go 1.19) (--etcd-version 3.4) it is the IP fd00::1");
    etcd_pki(["check", "--cert", &ip, "--host", " 10.0.0.1"])
        .expect_code(0)
        .stderr_has("the surrounding whitespace is ignored; Go would compare the host as written");
    let idn = cert(
        &dir,
        "idn.pem",
        vec![San::Dns("xn--bcher-kva.example".into())],
    );
    etcd_pki([
        "check",
        "--cert",
        &idn,
        "--url",
        "https://bücher.example:2380",
    ])
    .expect_code(2)
    .stderr_has("is not ASCII: Go's net/http dials its IDNA form");
    etcd_pki([
        "check",
        "--cert",
        &idn,
        "--url",
        "https://xn--bcher-kva.example:2380",
    ])
    .expect_code(0);
}

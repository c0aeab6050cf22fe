//! `etcd-pki doctor` offline: the seed runbook's systemd unit with its `etcd.conf`, a kubeadm
//! static pod manifest (container paths mapped through its volumes), an etcd config file, and
//! flags given after `--`; each clean, then with a planted defect that doctor must name.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use etcd_pki_tests::{copy_fixtures, doctor_rows, etcd_pki_in, fixture};

fn rows(stdout: &str) -> Vec<(String, String, String)> {
    doctor_rows(stdout)
}

fn fails(rows: &[(String, String, String)]) -> Vec<String> {
    rows.iter()
        .filter(|(s, _, _)| s == "FAIL")
        .map(|(_, c, m)| format!("{c}: {m}"))
        .collect()
}

fn private(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with("-key.pem") || name.ends_with(".key") {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

/// The seed runbook's unit (`fixtures/seed/etcd.service`, copied from it verbatim), with the
/// PKI directory and the user replaced.
fn seed_unit(pki: &Path, user: &str) -> String {
    std::fs::read_to_string(fixture("seed/etcd.service"))
        .unwrap()
        .replace("/etc/kubernetes/pki/etcd", &pki.display().to_string())
        .replace("User=etcd", &format!("User={user}"))
}

#[test]
fn the_seed_unit_and_its_etcd_conf() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pki = d.join("pki");
    std::fs::create_dir(&pki).unwrap();
    copy_fixtures(
        &pki,
        &[
            "cfssl/ca.pem",
            "cfssl/server.pem",
            "cfssl/server-key.pem",
            "cfssl/members.pem",
            "cfssl/members-key.pem",
        ],
    );
    private(&pki);
    std::fs::write(d.join("etcd.service"), seed_unit(&pki, "root")).unwrap();
    std::fs::write(
        d.join("etcd.conf"),
        "DATA_DIR=/data/etcd\nHOST_NAME=infra0\nHOST_IP=127.0.0.11\nCLUSTER=infra0=https://127.0.0.11:2380,infra1=https://127.0.0.12:2380,infra2=https://127.0.0.13:2380\nCLUSTER_STATE=new\nTOKEN=etcd-cluster\n",
    )
    .unwrap();
    let args = [
        "doctor",
        "--unit",
        "etcd.service",
        "--env-file",
        "etcd.conf",
        "--offline",
    ];
    let run = etcd_pki_in(Some(d), args.iter().chain(&["-w", "json"]));
    let r = rows(&run.stdout);
    assert_eq!(run.code, 0, "{:?}", fails(&r));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json[0]["name"], "infra0");
    assert_eq!(
        json[0]["values"]["advertise-client-urls"]["value"],
        "https://127.0.0.11:2379"
    );
    etcd_pki_in(Some(d), args)
        .expect_code(0)
        .stdout_has("member infra0 (unit etcd.service)")
        .stdout_has("PASS  server certificate coverage: 127.0.0.11: covers 127.0.0.11");

    // The member moves to an address its shared certificates do not list.
    std::fs::write(
        d.join("moved.conf"),
        "DATA_DIR=/data/etcd\nHOST_NAME=infra3\nHOST_IP=127.0.0.14\nCLUSTER=infra3=https://127.0.0.14:2380\nCLUSTER_STATE=new\nTOKEN=etcd-cluster\n",
    )
    .unwrap();
    let run = etcd_pki_in(
        Some(d),
        [
            "doctor",
            "--unit",
            "etcd.service",
            "--env-file",
            "moved.conf",
            "--offline",
        ],
    );
    run.expect_code(1)
        .stdout_has("FAIL  server certificate coverage: 127.0.0.14: server certificate server.pem does not cover 127.0.0.14")
        .stdout_has("FAIL  peer certificate coverage: 127.0.0.14")
        .stdout_has(&format!(
            "fix: etcd-pki reissue --cacert {}",
            pki.join("ca.pem").display()
        ));

    // etcd runs as a user that cannot read its keys.
    std::fs::write(d.join("nobody.service"), seed_unit(&pki, "nobody")).unwrap();
    let run = etcd_pki_in(
        Some(d),
        [
            "doctor",
            "--unit",
            "nobody.service",
            "--env-file",
            "etcd.conf",
            "--offline",
            "-w",
            "json",
        ],
    );
    assert_eq!(run.code, 1);
    let f = fails(&rows(&run.stdout));
    assert!(
        f.iter()
            .any(|m| m.starts_with("server certificate file") && m.contains("cannot read it")),
        "{f:?}"
    );
}

/// A kubeadm static pod manifest whose volume maps /etc/kubernetes/pki/etcd to `host_pki`.
fn manifest(host_pki: &Path, extra: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://127.0.0.41:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=https://127.0.0.41:2380
    - --initial-cluster=node-1=https://127.0.0.41:2380
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    - --listen-client-urls=https://127.0.0.1:2379,https://127.0.0.41:2379
    - --listen-metrics-urls=http://127.0.0.1:2381
    - --listen-peer-urls=https://127.0.0.41:2380
    - --name=node-1
    - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    - --peer-client-cert-auth=true
    - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --snapshot-count=10000
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
{extra}    image: registry.k8s.io/etcd:3.5.16-0
    name: etcd
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
  hostNetwork: true
  volumes:
  - hostPath:
      path: {pki}
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
"#,
        pki = host_pki.display()
    )
}

#[test]
fn a_kubeadm_manifest_read_through_its_volumes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pki = d.join("node-pki");
    std::fs::create_dir(&pki).unwrap();
    for f in [
        "ca.crt",
        "ca.key",
        "server.crt",
        "server.key",
        "peer.crt",
        "peer.key",
        "healthcheck-client.crt",
        "healthcheck-client.key",
    ] {
        copy_fixtures(&pki, &[&format!("kubeadm/{f}")]);
    }
    private(&pki);
    std::fs::write(d.join("etcd.yaml"), manifest(&pki, "")).unwrap();
    let run = etcd_pki_in(
        Some(d),
        [
            "doctor",
            "--manifest",
            "etcd.yaml",
            "--offline",
            "-w",
            "json",
        ],
    );
    let r = rows(&run.stdout);
    assert_eq!(run.code, 0, "{:?}", fails(&r));
    assert!(
        r.iter().any(|(s, c, m)| s == "PASS"
            && c == "server certificate coverage"
            && m.starts_with("127.0.0.1:")),
        "kube-apiserver's 127.0.0.1 is covered: {r:?}"
    );
    // SAN verification switched off, and cipher suites with a TLS 1.3 minimum.
    std::fs::write(
        d.join("bad.yaml"),
        manifest(
            &pki,
            "    - --experimental-peer-skip-client-san-verification=true\n    - --tls-min-version=TLS1.3\n    - --cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n",
        ),
    )
    .unwrap();
    let run = etcd_pki_in(
        Some(d),
        [
            "doctor",
            "--manifest",
            "bad.yaml",
            "--offline",
            "-w",
            "json",
        ],
    );
    assert_eq!(run.code, 1);
    let r = rows(&run.stdout);
    assert!(
        r.iter()
            .any(|(s, c, _)| s == "WARN" && c == "SAN verification"),
        "{r:?}"
    );
    assert!(
        fails(&r)
            .iter()
            .any(|m| m.contains("cipher suites cannot be configured when only TLS1.3 is enabled")),
        "{r:?}"
    );
}

#[test]
fn flags_after_double_dash_and_a_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    copy_fixtures(
        d,
        &[
            "kubeadm/ca.crt",
            "kubeadm/server.crt",
            "kubeadm/server.key",
            "kubeadm/peer.crt",
            "kubeadm/peer.key",
            "openssl/rsa-ca.crl",
        ],
    );
    private(d);
    let base = [
        "doctor",
        "--offline",
        "-w",
        "json",
        "--",
        "--name=node-1",
        "--listen-peer-urls=https://127.0.0.41:2380",
        "--initial-advertise-peer-urls=https://127.0.0.41:2380",
        "--peer-cert-file=peer.crt",
        "--peer-trusted-ca-file=ca.crt",
        "--peer-client-cert-auth",
    ];
    // A key that is not the certificate's.
    let run = etcd_pki_in(Some(d), base.iter().chain(&["--peer-key-file=server.key"]));
    assert_eq!(run.code, 1);
    let f = fails(&rows(&run.stdout));
    assert!(
        f.iter().any(|m| m.starts_with("peer certificate key-pair")),
        "{f:?}"
    );
    // A CRL of another CA: a warning; an allowed CN the certificate does not have: a failure.
    let run = etcd_pki_in(
        Some(d),
        base.iter().chain(&[
            "--peer-key-file=peer.key",
            "--peer-crl-file=rsa-ca.crl",
            "--peer-cert-allowed-cn=etcd-peer",
        ]),
    );
    let r = rows(&run.stdout);
    assert!(
        r.iter().any(|(s, c, m)| s == "WARN"
            && c == "peer CRL revocation"
            && m.contains("not the CA's list")),
        "{r:?}"
    );
    assert!(
        fails(&r)
            .iter()
            .any(|m| m.contains("allowed names: this member")),
        "{r:?}"
    );
    // The same member in a config file, as etcd reads it.
    std::fs::write(
        d.join("etcd.conf.yml"),
        "name: node-1\nlisten-peer-urls: https://127.0.0.41:2380\ninitial-advertise-peer-urls: https://127.0.0.41:2380\npeer-transport-security:\n  cert-file: peer.crt\n  key-file: peer.key\n  trusted-ca-file: ca.crt\n  client-cert-auth: true\n",
    )
    .unwrap();
    let run = etcd_pki_in(
        Some(d),
        [
            "doctor",
            "--config-file",
            "etcd.conf.yml",
            "--offline",
            "-w",
            "json",
        ],
    );
    let r = rows(&run.stdout);
    assert_eq!(run.code, 0, "{:?}", fails(&r));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json[0]["values"]["peer-cert-file"]["source"]["key"],
        "peer-transport-security.cert-file"
    );
}

#[test]
fn bad_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    etcd_pki_in(Some(tmp.path()), ["doctor", "--unit", "missing.service"])
        .expect_code(2)
        .stderr_has("missing.service");
    etcd_pki_in(Some(tmp.path()), ["doctor", "--pid", "4294967295"]).expect_code(2);
    std::fs::write(tmp.path().join("x.yaml"), "kind: Pod\nspec: {}\n").unwrap();
    etcd_pki_in(Some(tmp.path()), ["doctor", "--manifest", "x.yaml"]).expect_code(2);
}

/// etcd checks every certificate the remote sends against the CRL: an intermediate sent with
/// the member's certificate, revoked, gets the member refused.
#[test]
fn a_revoked_intermediate_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    copy_fixtures(
        d,
        &[
            "openssl/leaf-via-intermediate-chain.pem",
            "openssl/leaf-via-intermediate.key",
            "openssl/root-ca.crt",
            "openssl/root-ca.key",
            "openssl/intermediate-ca.crt",
        ],
    );
    private(d);
    etcd_pki_tests::openssl_crl(
        &d.join("root-ca.crt"),
        &d.join("root-ca.key"),
        &[&d.join("intermediate-ca.crt")],
        &d.join("peer.crl"),
    );
    let run = etcd_pki_in(
        Some(d),
        [
            "doctor",
            "--offline",
            "-w",
            "json",
            "--",
            "--name=m",
            "--listen-peer-urls=https://127.0.0.1:2380",
            "--initial-advertise-peer-urls=https://127.0.0.1:2380",
            "--peer-cert-file=leaf-via-intermediate-chain.pem",
            "--peer-key-file=leaf-via-intermediate.key",
            "--peer-trusted-ca-file=root-ca.crt",
            "--peer-client-cert-auth",
            "--peer-crl-file=peer.crl",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let f = fails(&rows(&run.stdout));
    assert!(
        f.iter().any(|m| m.starts_with("peer CRL revocation")
            && m.contains("the intermediate intermediate-ca")),
        "{f:?}"
    );
}

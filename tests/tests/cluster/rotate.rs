//! `etcd-pki rotate` on a real cluster: due certificates renewed in each member's directory,
//! proven served, healthy and accepted by the peers; nothing done on a run with nothing due;
//! and a member that keeps serving the old certificate (its files renewed on the wrong path)
//! detected, with the files restored.

use std::path::{Path, PathBuf};

use etcd_pki_tests::cluster::{kubeadm_members, Cluster};

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn serial(cert: &Path) -> String {
    etcd_pki_tests::tool(
        "openssl",
        &["x509", "-noout", "-serial", "-in", cert.to_str().unwrap()],
        Path::new("/"),
    )
    .trim()
    .to_string()
}

/// n0-n2 in the kubeadm layout made by init with `days`-day certificates, each member with its
/// own files; a members directory linking each member's name to them.
fn cluster(days: &str) -> (Cluster, tempfile::TempDir, PathBuf) {
    kubeadm_members(&["--days", days])
}

#[test]
fn due_certificates_are_renewed_served_and_proven() {
    let (cluster, dir, members) = cluster("10");
    let ca = dir.path().join("pki/ca.crt");
    let ca_key = dir.path().join("pki/ca.key");
    let before: Vec<String> = (0..3)
        .map(|i| serial(&cluster.member(&format!("n{i}")).pki.server))
        .collect();
    let args = |window: &str| {
        vec![
            "rotate".to_string(),
            "--members-dir".into(),
            s(&members),
            "--ca-cert".into(),
            s(&ca),
            "--ca-key".into(),
            s(&ca_key),
            "--expires-within".into(),
            window.into(),
        ]
    };
    // A dry run says what is due and changes nothing.
    let mut dry = args("30d");
    dry.push("--dry-run".into());
    let words: Vec<&str> = dry.iter().map(String::as_str).collect();
    cluster
        .etcd_pki(&words, false)
        .expect_code(0)
        .stdout_has("due: ")
        .stdout_has("dry run: 9 certificate(s) due");
    assert_eq!(serial(&cluster.member("n0").pki.server), before[0]);

    let run_args = args("30d");
    let words: Vec<&str> = run_args.iter().map(String::as_str).collect();
    let run = cluster.etcd_pki(&words, false);
    run.expect_code(0)
        .stdout_has("serves the renewed certificate")
        .stdout_has("accepts the renewed peer certificate in a fresh handshake")
        .stdout_has("every member has applied the leader's log")
        .stdout_has("done: 9 certificate(s) renewed, served and proven");
    for (i, old) in before.iter().enumerate() {
        let now = serial(&cluster.member(&format!("n{i}")).pki.server);
        assert_ne!(&now, old, "n{i}'s server certificate was renewed");
    }
    let put = cluster.etcdctl(&["put", "after-rotation", "ok"]);
    assert_eq!(put.code, 0, "{}", put.stderr);

    // Nothing due: nothing done, exit 0; JSON for a job.
    let mut again = args("5d");
    again.extend(["-w".into(), "json".into()]);
    let words: Vec<&str> = again.iter().map(String::as_str).collect();
    let run = cluster.etcd_pki(&words, false);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["outcome"]["result"], "done");
    assert_eq!(json["outcome"]["rotated"], 0);
}

#[test]
fn a_member_that_keeps_serving_the_old_certificate_is_restored() {
    let (cluster, dir, members) = cluster("10");
    // n1's directory is a copy: the files renewed there are not the ones n1 reads.
    let copy = dir.path().join("n1-copy");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(cluster.member("n1").dir.join("pki")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    std::fs::remove_file(members.join("n1")).unwrap();
    std::os::unix::fs::symlink(&copy, members.join("n1")).unwrap();
    let before = std::fs::read(copy.join("server.pem")).unwrap();
    let run = cluster.etcd_pki(
        &[
            "rotate",
            "--members-dir",
            &s(&members),
            "--ca-cert",
            &s(&dir.path().join("pki/ca.crt")),
            "--ca-key",
            &s(&dir.path().join("pki/ca.key")),
            "--timeout",
            "5s",
        ],
        false,
    );
    run.expect_code(1)
        .stdout_has("FAILED for n1")
        .stdout_has("the member does not read the renewed file")
        .stdout_has("restored ")
        .stdout_has("n1 serves the restored certificates again");
    assert_eq!(
        std::fs::read(copy.join("server.pem")).unwrap(),
        before,
        "the old file is back"
    );
    // n0 (rotated before n1) keeps its renewed, proven files; the cluster is whole.
    let put = cluster.etcdctl(&["put", "after-failure", "ok"]);
    assert_eq!(put.code, 0, "{}", put.stderr);
}

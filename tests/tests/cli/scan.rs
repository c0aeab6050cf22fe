//! `etcd-pki scan`.

use std::fs;
use std::path::Path;

use etcd_pki_tests::{
    etcd_pki, etcd_pki_in, fixture, openssl_leaf_expiring_in, promtool_accepts, repo_root,
};
use serde_json::Value;

fn copy(rel: &str, dir: &Path, name: &str) {
    fs::copy(fixture(rel), dir.join(name)).unwrap();
}

/// A host's PKI directory with every kind of problem: expired, expiring (made now by openssl,
/// valid 10 days), issued by a CA that is not in the tree, a key that does not match, and files
/// that are not certificates.
fn messy_tree(root: &Path) {
    let etcd = root.join("etcd");
    fs::create_dir_all(&etcd).unwrap();
    copy("cfssl/ca.pem", &etcd, "ca.pem");
    copy("cfssl/ca-key.pem", &etcd, "ca-key.pem");
    copy("cfssl/members.pem", &etcd, "members.pem");
    copy("cfssl/members-key.pem", &etcd, "members-key.pem");
    copy("cfssl/server.pem", &etcd, "server.pem");
    copy("cfssl/client-key.pem", &etcd, "server-key.pem");
    copy("cfssl/foreign-members.pem", &etcd, "foreign.pem");
    copy("cfssl/members.csr", &etcd, "members.csr");
    copy("cfssl/ca-config.json", &etcd, "ca-config.json");
    let other = root.join("other");
    fs::create_dir_all(&other).unwrap();
    copy("openssl/ec-ca.crt", &other, "ec-ca.crt");
    copy("openssl/expired.crt", &other, "expired.crt");
    openssl_leaf_expiring_in(&other, "soon", 10, "127.0.0.16");
    fs::write(other.join("README"), "not a certificate\n").unwrap();
}

#[test]
fn every_problem_is_listed_and_exit_is_1() {
    let dir = tempfile::tempdir().unwrap();
    messy_tree(dir.path());
    let run = etcd_pki(["scan", "-w", "json", dir.path().to_str().unwrap()]);
    run.expect_code(1);
    let json = run.json();
    let rows = json["certificates"].as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing from {json:#}"))
    };
    let problems = |name: &str| -> Vec<String> {
        row(name)["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rows.len(), 7);
    assert_eq!(problems("etcd/ca.pem"), Vec::<String>::new());
    assert_eq!(row("etcd/ca.pem")["issuer"]["kind"], "self_signed");
    assert_eq!(problems("etcd/members.pem"), Vec::<String>::new());
    assert_eq!(
        row("etcd/members.pem")["issuer"]["path"].as_str().unwrap(),
        dir.path().join("etcd/ca.pem").to_str().unwrap()
    );
    assert_eq!(problems("etcd/server.pem"), ["key_mismatch"]);
    assert_eq!(problems("etcd/foreign.pem"), ["not_chained"]);
    assert_eq!(problems("other/expired.crt"), ["expired", "not_chained"]);
    assert_eq!(problems("other/soon.crt"), ["expires_soon"]);
    assert_eq!(row("other/soon.crt")["residual"].as_str().unwrap(), "9d");
    let skipped: Vec<String> = json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            Path::new(s["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(skipped, ["ca-config.json", "members.csr", "README"]);
}

#[test]
fn the_table_reads_like_kubeadm_check_expiration() {
    let dir = tempfile::tempdir().unwrap();
    messy_tree(dir.path());
    etcd_pki(["scan", dir.path().to_str().unwrap()])
        .expect_code(1)
        .stdout_has("CERTIFICATE ")
        .stdout_has("| RESIDUAL |")
        .stdout_has("etcd-ca (")
        .stdout_has("key mismatch with")
        .stdout_has("not chained to any CA in the tree (issuer \"C=US, O=other, CN=other-ca\")")
        .stdout_has("expired 2021-01-01T00:00:00Z")
        .stdout_has("7 certificates, 4 with problems; 3 files skipped:")
        .stdout_has("members.csr: a certificate signing request (CSR)");
}

#[test]
fn the_window_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    openssl_leaf_expiring_in(dir.path(), "soon", 10, "127.0.0.16");
    copy("openssl/ec-ca.crt", dir.path(), "ca.crt");
    let path = dir.path().to_str().unwrap();
    etcd_pki(["scan", path])
        .expect_code(1)
        .stdout_has("expires soon");
    etcd_pki(["scan", "--expires-within", "5d", path]).expect_code(0);
    etcd_pki(["scan", "--expires-within", "240h", path]).expect_code(1);
}

#[test]
fn a_clean_tree_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "ca.pem",
        "ca-key.pem",
        "members.pem",
        "members-key.pem",
        "server.pem",
        "server-key.pem",
    ] {
        copy(&format!("cfssl/{name}"), dir.path(), name);
    }
    etcd_pki(["scan", dir.path().to_str().unwrap()])
        .expect_code(0)
        .stdout_has("3 certificates, 0 with problems");
}

#[cfg(unix)]
#[test]
fn symlink_loops_end_and_broken_links_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    copy("cfssl/ca.pem", dir.path(), "ca.pem");
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("missing.pem"),
        dir.path().join("dangling.pem"),
    )
    .unwrap();
    let run = etcd_pki(["scan", "-w", "json", dir.path().to_str().unwrap()]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["certificates"].as_array().unwrap().len(), 1);
    assert!(json["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("broken symbolic link"));
}

#[test]
fn a_missing_directory_is_bad_input() {
    etcd_pki(["scan", "/does/not/exist"])
        .expect_code(2)
        .stderr_has("cannot read /does/not/exist");
}

/// `-w jsonl`: one JSON object a line, written as the scan goes. First the certificates, each
/// line an entry of `-w json`'s `certificates`, in its order; then its `skipped`, `malformed`
/// and `interrupted` entries, each with a `record` field that says which. Same exit code.
#[test]
fn jsonl_lines_are_the_entries_of_json() {
    let dir = tempfile::tempdir().unwrap();
    messy_tree(dir.path());
    copy(
        "openssl/truncated.crt",
        &dir.path().join("other"),
        "truncated.crt",
    );
    // The temporary file of an interrupted write.
    fs::write(dir.path().join("etcd/.x.pem.tmp-4194305-1"), "half a cert").unwrap();
    let path = dir.path().to_str().unwrap();
    let at = "2030-01-01T00:00:00Z";
    let json = etcd_pki(["scan", "-w", "json", "--at", at, path]);
    json.expect_code(1);
    let json = json.json();
    let jsonl = etcd_pki(["scan", "-w", "jsonl", "--at", at, path]);
    jsonl.expect_code(1).stderr_has("etcd-pki recover");
    let lines: Vec<Value> = jsonl
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(Value::is_object), "{}", jsonl.stdout);
    let certificates = lines.iter().take_while(|l| l.get("record").is_none());
    assert_eq!(
        Value::Array(certificates.cloned().collect()),
        json["certificates"]
    );
    assert_eq!(json["certificates"].as_array().unwrap().len(), 7);
    for record in ["skipped", "malformed", "interrupted"] {
        let entries: Vec<Value> = lines
            .iter()
            .filter(|l| l["record"] == record)
            .map(|l| {
                let mut entry = l.clone();
                entry.as_object_mut().unwrap().remove("record");
                entry
            })
            .collect();
        assert!(!entries.is_empty(), "no {record} line");
        assert_eq!(Value::Array(entries), json[record], "{record}");
    }
    let tail = lines.len() - json["certificates"].as_array().unwrap().len();
    assert!(lines[lines.len() - tail..]
        .iter()
        .all(|l| l.get("record").is_some()));
}

/// `-w prometheus` on the fixtures prints what it printed before scans streamed their rows (the
/// snapshot was taken with the binary of commit 19989f8, which collected the whole report), but
/// for the run's timestamp; and promtool accepts it.
#[test]
fn prometheus_output_is_what_the_collected_report_gave() {
    let run = etcd_pki_in(
        Some(&repo_root()),
        [
            "scan",
            "-w",
            "prometheus",
            "--at",
            "2027-06-01T00:00:00Z",
            "fixtures/cfssl",
            "fixtures/kubeadm",
            "fixtures/openssl",
        ],
    );
    run.expect_code(1);
    promtool_accepts(&run.stdout);
    let text: String = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with("etcd_pki_last_run_timestamp_seconds{"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("scan_prometheus_fixtures", text);
}

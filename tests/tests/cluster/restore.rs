//! `etcd-pki snapshot restore` on real etcd: a snapshot of a 3-member TLS cluster holding known
//! keys, restored as a new 3-member cluster on other addresses, which the certificates first do
//! not cover (refused, nothing written), then fixed with --fix-certs; the new members are
//! started from the node files the tool wrote, and every key is read back.

use std::path::Path;
use std::time::Duration;

use etcd_pki_tests::cluster::{allocate_ips, etcd_binaries, unit_command, Cluster};
use etcd_pki_tests::etcd_pki;

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_snapshot_restored_onto_new_addresses_starts_and_keeps_every_key() {
    let ips = allocate_ips(3);
    let old = Cluster::start_fresh_on(&ips, &ips, &[]);
    let keys: Vec<(String, String)> = (0..20)
        .map(|i| (format!("/restore/key{i}"), format!("value-{i}")))
        .collect();
    for (k, v) in &keys {
        old.etcdctl(&["put", k, v]).expect_code(0);
    }
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap.db");
    old.etcd_pki(&["snapshot", "save", &s(&snapshot)], false)
        .expect_code(0);

    // The new cluster's addresses, which the shared certificates do not list.
    let new_ips = allocate_ips(3);
    let mut new = Cluster::empty(&old.pki, &new_ips, &[]);
    let pki = old.pki.copy_to(&work.path().join("pki"));
    let pki_dir = pki.ca.parent().unwrap().to_path_buf();
    let out = work.path().join("restored");
    let tool = etcd_binaries()
        .etcdutl
        .clone()
        .unwrap_or_else(|| etcd_binaries().etcdctl.clone());
    let mut words: Vec<String> = vec![
        "snapshot".into(),
        "restore".into(),
        s(&snapshot),
        "--out".into(),
        s(&out),
        "--cacert".into(),
        s(&pki.ca),
        "--peer-cert".into(),
        s(&pki.peer),
        "--peer-key".into(),
        s(&pki.peer_key),
        "--server-cert".into(),
        s(&pki.server),
        "--pki-dir".into(),
        s(&pki_dir),
        "--etcd-binary".into(),
        s(&etcd_binaries().etcd),
        "--etcdutl".into(),
        s(&tool),
    ];
    for (i, ip) in new_ips.iter().enumerate() {
        words.push("--member".into());
        words.push(format!(
            "infra{i}={},{}",
            new.peer_url(*ip),
            new.client_url(*ip)
        ));
    }

    // 1. Refused: the certificates do not cover the new addresses; nothing is written.
    let refused = etcd_pki(&words);
    refused
        .expect_code(1)
        .stdout_has("revision")
        .stdout_has(&format!("does not cover {}", new_ips[0]))
        .stdout_has("nothing was written")
        // No cluster runs to ask for its version: the default rules, named.
        .stdout_has("go rules: hosts judged by the rules of etcd 3.5 (Go 1.24), the default");
    assert!(!out.exists(), "a refused restore writes nothing");
    let mut for_34 = words.clone();
    for_34.extend(["--etcd-version".into(), "3.4".into()]);
    etcd_pki(&for_34)
        .expect_code(1)
        .stdout_has("go rules: hosts judged by the rules of etcd 3.4 (Go 1.19), as asked");
    let before = std::fs::read(&pki.peer).unwrap();

    // 2. --dry-run with the fix: says every step, changes nothing.
    let mut fix = words.clone();
    fix.extend([
        "--ca-key".into(),
        s(pki.ca_key.as_ref().unwrap()),
        "--fix-certs".into(),
    ]);
    let mut dry = fix.clone();
    dry.push("--dry-run".into());
    etcd_pki(&dry)
        .expect_code(0)
        .stdout_has("would do (--dry-run)")
        .stdout_has(&format!("reissue {}", s(&pki.peer)))
        .stdout_has("snapshot restore");
    assert!(!out.exists());
    assert_eq!(std::fs::read(&pki.peer).unwrap(), before);

    // 3. Restored, with the certificates reissued (backups kept).
    let done = etcd_pki(&fix);
    done.expect_code(0).stdout_has("restored 3 members");
    assert_ne!(std::fs::read(&pki.peer).unwrap(), before);
    for i in 0..3 {
        assert!(out.join(format!("infra{i}/data/member")).is_dir());
        assert!(out.join(format!("infra{i}/etcd.service")).is_file());
    }
    // A second restore into the same place is refused: data directories are never touched.
    etcd_pki(&fix)
        .expect_code(2)
        .stderr_has("exists and is not empty");

    // 4. The new members, started from the files the tool wrote, serve every key.
    for (i, ip) in new_ips.iter().enumerate() {
        let name = format!("infra{i}");
        new.start_command(&name, *ip, &pki, unit_command(&out.join(&name)));
    }
    new.wait_healthy(Duration::from_secs(60));
    for (k, v) in &keys {
        let run = new.etcdctl(&["get", k, "--print-value-only"]);
        run.expect_code(0);
        assert_eq!(run.stdout.trim(), v, "{k}");
    }
    // A new cluster: its own token, not the old one's.
    let conf = std::fs::read_to_string(out.join("infra0/etcd.conf")).unwrap();
    assert!(conf.contains("CLUSTER_STATE=new"));
    assert!(!conf.contains(&old.token));
}

#[test]
fn not_a_snapshot_is_refused_before_anything_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.db");
    std::fs::write(&bogus, vec![1u8; 5000]).unwrap();
    etcd_pki([
        "snapshot",
        "restore",
        &s(&bogus),
        "--member",
        "a=127.0.0.1",
        "--out",
        &s(&dir.path().join("out")),
    ])
    .expect_code(2)
    .stderr_has("is not an etcd snapshot whose integrity hash holds");
    assert!(!dir.path().join("out").exists());
}

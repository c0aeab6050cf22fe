//! A fourth member for clusters whose members each have certificates of their own (issue 11):
//! `etcd-pki issue` after an existing member's directory, in the kubeadm layout made by `init`
//! and in a layout made by hand with openssl; `member add` with the issued peer certificate
//! passes its checks, the member starts with the issued files and is promoted; `preflight`
//! names `issue` when the new member has another member's certificate or none; and
//! `scale-out --fix-certs --like` does all of it at once. No other member's file changes.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_pki_tests::cluster::{
    allocate_ips, etcd_binaries, init_kubeadm, unit_command, Cluster, ListedMember, Pki, Start,
};
use etcd_pki_tests::{etcd_pki, openssl_per_member, snapshot};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Every file under `dirs` with its bytes and mode.
fn files_of(dirs: &[PathBuf]) -> Vec<(PathBuf, Vec<u8>, u32)> {
    dirs.iter().flat_map(|d| snapshot(d)).collect()
}

fn voters(list: &[ListedMember]) -> Vec<String> {
    let mut names: Vec<String> = list
        .iter()
        .filter(|m| !m.is_learner && !m.name.is_empty())
        .map(|m| m.name.clone())
        .collect();
    names.sort();
    names
}

/// A cluster of n0, n1, n2 on `ips[..3]` in the kubeadm layout `init` makes in `pki_dir`, each
/// member with its own files (`ips[3]` spare), and the directories holding every member's files.
fn kubeadm_cluster(pki_dir: &Path, ips: &[IpAddr]) -> (Cluster, Vec<PathBuf>) {
    init_kubeadm(pki_dir, &ips[..3]);
    let members = (0..3)
        .map(|i| {
            let name = format!("n{i}");
            let pki = Pki::kubeadm_layout(pki_dir, &name);
            (name, ips[i], pki)
        })
        .collect();
    let cluster = Cluster::start_each(&Pki::kubeadm_layout(pki_dir, "n0"), members, &ips[3..]);
    let running = (0..3)
        .map(|i| cluster.member(&format!("n{i}")).dir.join("pki"))
        .chain([pki_dir.to_path_buf()])
        .collect();
    (cluster, running)
}

/// The per-member files of the openssl layout for `name` under `root`.
fn openssl_pki(root: &Path, name: &str) -> Pki {
    let dir = root.join(name);
    Pki {
        ca: dir.join("trust-bundle.pem"),
        ca_key: Some(root.join("ca/etcd-root.key")),
        server: dir.join(format!("{name}-server.pem")),
        server_key: dir.join(format!("{name}-server.key")),
        peer: dir.join(format!("{name}-peer.pem")),
        peer_key: dir.join(format!("{name}-peer.key")),
        client: dir.join(format!("{name}-client.pem")),
        client_key: dir.join(format!("{name}-client.key")),
    }
}

/// `member add NAME --learner` with the new member's files, which must pass every check; the
/// member is started with `pki` and promoted.
fn add_start_promote(cluster: &mut Cluster, name: &str, ip: IpAddr, pki: &Pki) {
    let url = cluster.peer_url(ip);
    let added = cluster.etcd_pki(
        &[
            "member",
            "add",
            name,
            "--learner",
            "--peer-urls",
            &url,
            "--peer-cert",
            &s(&pki.peer),
            "--server-cert",
            &s(&pki.server),
            "--client-urls",
            &cluster.client_url(ip),
            "-w",
            "json",
        ],
        false,
    );
    added.expect_code(0);
    let json = added.json();
    assert_eq!(json["added"], true);
    let checks = json["checks"].as_array().unwrap();
    let status_of = |check: &str| {
        checks
            .iter()
            .filter(|c| c["check"] == check)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    for check in [
        "peer certificate coverage",
        "peer certificate chain",
        "peer certificate owner",
        "server certificate coverage",
        "server certificate owner",
    ] {
        let statuses = status_of(check);
        assert!(
            !statuses.is_empty() && statuses.iter().all(|s| s == "PASS"),
            "{check}: {statuses:?} in {}",
            added.stdout
        );
    }
    assert!(
        checks.iter().all(|c| c["status"] != "FAIL"),
        "{}",
        added.stdout
    );
    let initial = json["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv[0] == "ETCD_INITIAL_CLUSTER")
        .and_then(|kv| kv[1].as_str())
        .unwrap()
        .to_string();
    cluster.start_member(
        name,
        ip,
        pki,
        &Start::Flags {
            initial_cluster: &initial,
            state: "existing",
        },
    );
    cluster
        .etcd_pki(
            &["member", "promote", name, "--wait", "--timeout", "90s"],
            false,
        )
        .expect_code(0)
        .stdout_has("promoted in cluster");
}

#[test]
fn a_kubeadm_cluster_made_by_init_grows_with_a_member_issued_after_another() {
    let ips = allocate_ips(4);
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    let (mut cluster, running) = kubeadm_cluster(&pki_dir, &ips);
    let before = files_of(&running);
    let url = cluster.peer_url(ips[3]);

    // The mistake the issue starts from: n0's own files for the new member. preflight refuses
    // and names `issue`, modelled on n0's directory.
    let n0 = Pki::kubeadm_layout(&pki_dir, "n0");
    let copied = cluster.etcd_pki(
        &[
            "preflight",
            "n3",
            "--peer-urls",
            &url,
            "--peer-cert",
            &s(&n0.peer),
            "--peer-key",
            &s(&n0.peer_key),
        ],
        false,
    );
    copied
        .expect_code(1)
        .stdout_has("FAIL  peer certificate owner: peer.crt is n0's certificate")
        .stdout_has(&format!("fix: etcd-pki issue n3 --ip {} --cacert", ips[3]))
        .stdout_has(&format!("--like {} --out n3-pki", s(&pki_dir.join("n0"))));
    assert!(
        !copied.stdout.contains("etcd-pki reissue"),
        "reissuing n0's certificate is not the fix: {}",
        copied.stdout
    );
    // member add refuses the same, with the same fix, and sends nothing to etcd.
    cluster
        .etcd_pki(
            &[
                "member",
                "add",
                "n3",
                "--learner",
                "--peer-urls",
                &url,
                "--peer-cert",
                &s(&n0.peer),
            ],
            false,
        )
        .expect_code(1)
        .stdout_has("nothing was sent to etcd")
        .stdout_has("FAIL  peer certificate owner: peer.crt is n0's certificate")
        .stdout_has("fix: etcd-pki issue n3");
    assert_eq!(cluster.member_list().len(), 3);
    // No certificate at all yet: the same fix.
    cluster
        .etcd_pki(
            &[
                "preflight",
                "n3",
                "--peer-urls",
                &url,
                "--peer-cert",
                &s(&pki_dir.join("n3/peer.crt")),
            ],
            false,
        )
        .expect_code(1)
        .stdout_has("does not exist: the new member has no certificate there yet")
        .stdout_has("fix: etcd-pki issue n3");

    etcd_pki([
        "issue",
        "n3",
        "--ip",
        &ips[3].to_string(),
        "--cacert",
        &s(&pki_dir.join("ca.crt")),
        "--ca-key",
        &s(&pki_dir.join("ca.key")),
        "--like",
        &s(&pki_dir.join("n0")),
        "--out",
        &s(&pki_dir.join("n3")),
    ])
    .expect_code(0);
    let n3 = Pki::kubeadm_layout(&pki_dir, "n3");
    add_start_promote(&mut cluster, "n3", ips[3], &n3);
    assert_eq!(voters(&cluster.member_list()), ["n0", "n1", "n2", "n3"]);
    let after: Vec<_> = files_of(&running)
        .into_iter()
        .filter(|(p, _, _)| !p.starts_with(pki_dir.join("n3")))
        .collect();
    assert_eq!(after, before, "no other member's file changed");
}

#[test]
fn a_cluster_made_by_hand_with_openssl_grows_with_a_member_issued_after_another() {
    let ips = allocate_ips(4);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pki");
    let names = ["etcd-a", "etcd-b", "etcd-c", "etcd-d"];
    let dns = |i: usize| format!("{}.etcd.test", names[i]);
    let specs: Vec<(&str, IpAddr, String)> = (0..3).map(|i| (names[i], ips[i], dns(i))).collect();
    let specs: Vec<(&str, IpAddr, &str)> = specs
        .iter()
        .map(|(n, ip, d)| (*n, *ip, d.as_str()))
        .collect();
    openssl_per_member(&root, &specs);
    let members = (0..3)
        .map(|i| (names[i].to_string(), ips[i], openssl_pki(&root, names[i])))
        .collect();
    let mut cluster = Cluster::start_each(&openssl_pki(&root, "etcd-a"), members, &ips[3..]);
    let running: Vec<PathBuf> = (0..3)
        .map(|i| cluster.member(names[i]).dir.join("pki"))
        .chain([root.clone()])
        .collect();
    let before = files_of(&running);

    etcd_pki([
        "issue",
        "etcd-d",
        "--ip",
        &ips[3].to_string(),
        "--dns",
        &dns(3),
        "--cacert",
        &s(&root.join("ca/etcd-root.crt")),
        "--ca-key",
        &s(&root.join("ca/etcd-root.key")),
        "--like",
        &s(&root.join("etcd-a")),
        "--out",
        &s(&dir.path().join("issued/etcd-d")),
    ])
    .expect_code(0)
    .stdout_has("etcd-d-peer.pem  from etcd-a-peer.pem");
    let issued = openssl_pki(&dir.path().join("issued"), "etcd-d");
    add_start_promote(&mut cluster, "etcd-d", ips[3], &issued);
    assert_eq!(
        voters(&cluster.member_list()),
        ["etcd-a", "etcd-b", "etcd-c", "etcd-d"]
    );
    let put = cluster.etcdctl(&["put", "grown", "by-hand"]);
    assert_eq!(put.code, 0, "{}", put.stderr);
    assert_eq!(files_of(&running), before, "no other member's file changed");
}

#[test]
fn scale_out_with_fix_certs_like_issues_the_new_members_own_certificates() {
    let ips = allocate_ips(4);
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    let (mut cluster, running) = kubeadm_cluster(&pki_dir, &ips);
    let before = files_of(&running);
    let out = cluster.root().join("scale-out");
    let issued = out.join("n3/pki");
    let data_dir = cluster.root().join("n3").join("data");
    let args: Vec<String> = vec![
        "scale-out".into(),
        "n3".into(),
        "--peer-urls".into(),
        cluster.peer_url(ips[3]),
        "--client-urls".into(),
        cluster.client_url(ips[3]),
        "--fix-certs".into(),
        "--ca-key".into(),
        s(&pki_dir.join("ca.key")),
        "--like".into(),
        s(&pki_dir.join("n0")),
        "--out".into(),
        s(&out),
        "--data-dir".into(),
        s(&data_dir),
        // The unit names the files where they are on this test's "node".
        "--pki-dir".into(),
        s(&issued),
        "--etcd-binary".into(),
        s(&etcd_binaries().etcd),
        "--token".into(),
        cluster.token.clone(),
        "--timeout".into(),
        "2m".into(),
    ];
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut run = cluster.etcd_pki_spawn(&words);
    run.wait_for("issued n3's own certificates", Duration::from_secs(30));
    run.wait_for("added n3 as a learner", Duration::from_secs(60));
    run.wait_for("wrote ", Duration::from_secs(20));
    let node = out.join("n3");
    let unit = std::fs::read_to_string(node.join("etcd.service")).unwrap();
    assert!(
        unit.contains(&format!("--peer-cert-file={}", s(&issued.join("peer.crt"))))
            && unit.contains(&format!("--cert-file={}", s(&issued.join("server.crt"))))
            && unit.contains(&format!("--trusted-ca-file={}", s(&issued.join("ca.crt")))),
        "the unit names the issued files: {unit}"
    );
    let n3 = Pki {
        ca: issued.join("ca.crt"),
        ca_key: None,
        server: issued.join("server.crt"),
        server_key: issued.join("server.key"),
        peer: issued.join("peer.crt"),
        peer_key: issued.join("peer.key"),
        client: issued.join("healthcheck-client.crt"),
        client_key: issued.join("healthcheck-client.key"),
    };
    std::fs::create_dir_all(&data_dir).unwrap();
    cluster.start_command("n3", ips[3], &n3, unit_command(&node));
    run.finish()
        .expect_code(0)
        .stdout_has("PASS  peer certificate owner")
        .stdout_has("promoted in cluster")
        .stdout_has("done: 4 voting members, all healthy");
    assert_eq!(voters(&cluster.member_list()), ["n0", "n1", "n2", "n3"]);
    assert_eq!(files_of(&running), before, "no other member's file changed");
    assert!(
        !issued.join("ca.key").exists(),
        "the CA key is never copied to the new member"
    );
    // A re-run finds the member done and the certificates there.
    cluster
        .etcd_pki(&words, false)
        .expect_code(0)
        .stdout_has("already a started voting member");
}

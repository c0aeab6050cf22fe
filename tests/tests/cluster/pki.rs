//! `init` and `reissue` output, accepted (or, for the classic mistake, refused) by real etcd.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{allocate_ips, kubeadm_members, Cluster, Pki, Start};
use etcd_pki_tests::{env_value, etcd_pki};

fn names(ips: &[IpAddr]) -> Vec<(String, IpAddr)> {
    ips.iter()
        .enumerate()
        .map(|(i, ip)| (format!("infra{i}"), *ip))
        .collect()
}

fn put_get(cluster: &Cluster) {
    let put = cluster.etcdctl(&["put", "greeting", "hello"]);
    assert_eq!(put.code, 0, "put: {}", put.stderr);
    let get = cluster.etcdctl(&["get", "greeting", "--print-value-only"]);
    assert_eq!(get.stdout.trim(), "hello", "{}", get.stderr);
}

#[test]
fn a_cfssl_layout_pki_made_by_init_forms_a_cluster() {
    let ips = allocate_ips(3);
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    let mut args = vec!["init".to_string(), pki_dir.display().to_string()];
    for (name, ip) in names(&ips) {
        args.push("--member".into());
        args.push(format!("{name}={ip}"));
    }
    etcd_pki(&args).expect_code(0).stdout_has("members.pem");
    let cluster = Cluster::start(&Pki::cfssl_layout(&pki_dir), &names(&ips), &[]);
    assert_eq!(cluster.member_list().len(), 3);
    put_get(&cluster);
}

#[test]
fn a_kubeadm_layout_rsa_pki_made_by_init_forms_a_cluster() {
    // Each member gets only its own files; etcdctl uses n0's health-check client certificate.
    let (cluster, _dir, _members) = kubeadm_members(&["--algo", "rsa-2048"]);
    assert_eq!(cluster.member_list().len(), 3);
    put_get(&cluster);
}

/// The runbook's scenario with certificates made now by cfssl for three members: the shared
/// peer certificate does not cover a fourth; `check` says so; `reissue` fixes it; the fourth
/// member, started with the reissued certificate, joins.
#[test]
fn a_reissued_peer_certificate_lets_a_new_member_join() {
    let ips = allocate_ips(4);
    let (old, new_ip) = (&ips[..3], ips[3]);
    let mut cluster = Cluster::start_fresh_on(old, old, &[new_ip]);
    let pki = cluster.pki.clone();
    let new_url = cluster.peer_url(new_ip);

    let check = |cert: &std::path::Path| {
        etcd_pki([
            "check",
            "--role",
            "peer",
            "--url",
            &new_url,
            "--cert",
            cert.to_str().unwrap(),
            "--cacert",
            pki.ca.to_str().unwrap(),
        ])
    };
    check(&pki.peer)
        .expect_code(1)
        .stdout_has(&format!("does not cover {new_ip}"));

    let fixed = cluster.root().join("fixed");
    std::fs::create_dir_all(&fixed).unwrap();
    let fixed_peer = fixed.join("members.pem");
    etcd_pki([
        "reissue",
        "--cacert",
        pki.ca.to_str().unwrap(),
        "--ca-key",
        pki.ca_key.as_ref().unwrap().to_str().unwrap(),
        "--cert",
        pki.peer.to_str().unwrap(),
        "--key",
        pki.peer_key.to_str().unwrap(),
        "--add-ip",
        &new_ip.to_string(),
        "--out",
        fixed_peer.to_str().unwrap(),
    ])
    .expect_code(0);
    check(&fixed_peer).expect_code(0);
    let fixed_server = fixed.join("server.pem");
    etcd_pki([
        "reissue",
        "--cacert",
        pki.ca.to_str().unwrap(),
        "--ca-key",
        pki.ca_key.as_ref().unwrap().to_str().unwrap(),
        "--cert",
        pki.server.to_str().unwrap(),
        "--add-ip",
        &new_ip.to_string(),
        "--out",
        fixed_server.to_str().unwrap(),
    ])
    .expect_code(0);

    let add = cluster.etcdctl(&["member", "add", "infra3", &format!("--peer-urls={new_url}")]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let initial = env_value(&add.stdout, "ETCD_INITIAL_CLUSTER")
        .expect("etcdctl prints ETCD_INITIAL_CLUSTER");
    let mut new_pki = pki.clone();
    new_pki.peer = fixed_peer;
    new_pki.server = fixed_server;
    cluster.start_member(
        "infra3",
        new_ip,
        &new_pki,
        &Start::Flags {
            initial_cluster: &initial,
            state: "existing",
        },
    );
    cluster.wait_healthy(Duration::from_secs(60));
    let listed = cluster.member_list();
    assert_eq!(listed.len(), 4);
    assert!(
        listed.iter().all(|m| !m.name.is_empty()),
        "every member started: {listed:?}"
    );
    put_get(&cluster);
}

/// The failure itself, with real etcd: a member started with the old shared certificate is
/// rejected by the existing members with exactly the error `check` predicted.
#[test]
fn the_old_certificate_fails_exactly_as_check_predicts() {
    let ips = allocate_ips(4);
    let (old, new_ip) = (&ips[..3], ips[3]);
    let mut cluster = Cluster::start_fresh_on(old, old, &[new_ip]);
    let pki = cluster.pki.clone();
    let new_url = cluster.peer_url(new_ip);
    let predicted = etcd_pki([
        "check",
        "--role",
        "peer",
        "--url",
        &new_url,
        "--cert",
        pki.peer.to_str().unwrap(),
        "--cacert",
        pki.ca.to_str().unwrap(),
        "-w",
        "json",
    ]);
    predicted.expect_code(1);
    let json = predicted.json();
    let failure = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "FAIL")
        .unwrap();
    let go_error = failure["message"]
        .as_str()
        .unwrap()
        .split("etcd would fail with \"")
        .nth(1)
        .unwrap()
        .trim_end_matches('"')
        .to_string();

    let add = cluster.etcdctl(&[
        "member",
        "add",
        "infra3",
        "--learner",
        &format!("--peer-urls={new_url}"),
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let initial = env_value(&add.stdout, "ETCD_INITIAL_CLUSTER").unwrap();
    cluster.start_member(
        "infra3",
        new_ip,
        &pki,
        &Start::Flags {
            initial_cluster: &initial,
            state: "existing",
        },
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let logs: String = ["infra0", "infra1", "infra2"]
            .iter()
            .map(|n| cluster.log_of(n))
            .collect();
        if logs.contains(&go_error) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        seen,
        "no existing member logged {go_error:?}:\n{}",
        cluster.logs_tail()
    );
    let health = cluster.etcdctl(&["endpoint", "health", "--cluster"]);
    assert_ne!(
        health.code, 0,
        "the new member must be unhealthy: {}",
        health.stdout
    );
    // Leave the cluster as it was: remove the learner that never joined.
    let id = cluster
        .member_list()
        .into_iter()
        .find(|m| m.is_learner)
        .unwrap()
        .id;
    assert_eq!(cluster.etcdctl(&["member", "remove", &id]).code, 0);
}

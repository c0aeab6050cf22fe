//! `preflight`, `scale-out`, `scale-in`, `config` and `snapshot save` against real etcd: the
//! runbook's whole scale-out as one command, its interruption and its timeout, what preflight
//! catches, and a snapshot that `etcdctl snapshot restore` brings back.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{
    allocate_ips, allocate_ports, die_with_parent, environment_file, etcd_binaries, etcd_command,
    etcdctl_command, stop, unit_command, Cluster, ListedMember, Pki, Start,
};
use etcd_pki_tests::openssl_leaf;

/// `(name, is learner, started)` for each member, sorted by peer URL: the cluster's shape.
fn shape(list: &[ListedMember]) -> Vec<(String, bool, bool)> {
    list.iter()
        .map(|m| (m.name.clone(), m.is_learner, !m.client_urls.is_empty()))
        .collect()
}

fn voters(names: &[&str]) -> Vec<(String, bool, bool)> {
    names.iter().map(|n| (n.to_string(), false, true)).collect()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The flags that describe a new member on `ip` with the certificates in `pki`.
fn new_member(cluster: &Cluster, name: &str, ip: IpAddr, pki: &Pki) -> Vec<String> {
    vec![
        name.into(),
        "--peer-urls".into(),
        cluster.peer_url(ip),
        "--client-urls".into(),
        cluster.client_url(ip),
        "--peer-cert".into(),
        s(&pki.peer),
        "--peer-key".into(),
        s(&pki.peer_key),
        "--server-cert".into(),
        s(&pki.server),
    ]
}

/// The flags that say where the node files go and what they contain.
fn node_flags(cluster: &Cluster, name: &str, out: &Path, pki_dir: &Path) -> Vec<String> {
    vec![
        "--out".into(),
        s(out),
        "--data-dir".into(),
        s(&cluster.root().join(name).join("data")),
        "--pki-dir".into(),
        s(pki_dir),
        "--etcd-binary".into(),
        s(&etcd_binaries().etcd),
        "--token".into(),
        cluster.token.clone(),
    ]
}

fn words(parts: &[&[String]]) -> Vec<String> {
    parts.iter().flat_map(|p| p.iter().cloned()).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn snapshots_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "db"))
                .collect()
        })
        .unwrap_or_default()
}

/// The seed's scale-out from 3 to 5 members, each as a learner, with the shared certificates
/// that do not cover the new IPs: preflight refuses, scale-out without --fix-certs refuses and
/// changes nothing, scale-out with --fix-certs does the rest. infra3 is started from the
/// etcd.conf and etcd.service the tool wrote (as systemd would run them), infra4 from its
/// etcd.env. Then scale-in back to the original three.
#[test]
fn the_seed_scale_out_from_3_to_5_and_back_to_3() {
    let ips = allocate_ips(5);
    let mut cluster = Cluster::start_fresh_on(&ips[..3], &ips[..3], &ips[3..]);
    let original = cluster.member_list();
    assert_eq!(shape(&original), voters(&["infra0", "infra1", "infra2"]));
    let out = cluster.root().join("scale-out");
    let ca_key = s(cluster.pki.ca_key.as_ref().unwrap());

    // The new node gets a copy of the shared certificates, as the runbook does.
    let pki3_dir = cluster.root().join("infra3-pki");
    let pki3 = cluster.pki.copy_to(&pki3_dir);
    let member3 = new_member(&cluster, "infra3", ips[3], &pki3);

    // 1. preflight: refused, says why, read-only.
    let preflight = cluster.etcd_pki(&refs(&words(&[&["preflight".into()], &member3])), false);
    preflight
        .expect_code(1)
        .stdout_has(&format!(
            "FAIL  peer certificate coverage: {ip}: peer certificate members.pem does not cover {ip}",
            ip = ips[3]
        ))
        .stdout_has(&format!(
            "FAIL  server certificate coverage: {ip}: server certificate server.pem does not cover {ip}",
            ip = ips[3]
        ))
        .stdout_has("PASS  members healthy")
        .stdout_has("PASS  infra1 serves");
    let json = cluster
        .etcd_pki(
            &refs(&words(&[
                &["preflight".into()],
                &member3,
                &["-w".into(), "json".into()],
            ])),
            false,
        )
        .json();
    assert_eq!(json["name"], "infra3");
    assert_eq!(json["status"], "FAIL");
    let failed: Vec<String> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "FAIL")
        .map(|c| c["check"].as_str().unwrap().to_string())
        .collect();
    assert!(
        failed.iter().any(|c| c == "peer certificate coverage"),
        "{failed:?}"
    );
    // The live handshake from the new member's address is refused by etcd itself.
    assert!(
        failed.iter().any(|c| c.starts_with("handshake with infra")),
        "the members refuse the uncovered certificate: {failed:?}"
    );
    assert_eq!(cluster.member_list(), original, "preflight changed nothing");

    // 2. scale-out without --fix-certs stops at the preflight: nothing changed, no snapshot.
    let flags3 = node_flags(&cluster, "infra3", &out, &pki3_dir);
    let refused = cluster.etcd_pki(
        &refs(&words(&[&["scale-out".into()], &member3, &flags3])),
        false,
    );
    refused
        .expect_code(1)
        .stdout_has("stopping: nothing was changed in the cluster");
    assert_eq!(cluster.member_list(), original);
    assert!(
        snapshots_in(&out).is_empty(),
        "no snapshot before a refusal"
    );

    // 3. With --fix-certs: reissue, preflight again, snapshot, learner, files; we start infra3
    //    from the files as systemd would; it is promoted.
    let fix = vec![
        "--ca-key".to_string(),
        ca_key.clone(),
        "--fix-certs".into(),
        "--timeout".into(),
        "2m".into(),
    ];
    let mut run = cluster.etcd_pki_spawn(&refs(&words(&[
        &["scale-out".into()],
        &member3,
        &flags3,
        &fix,
    ])));
    run.wait_for("added infra3 as a learner", Duration::from_secs(60));
    run.wait_for("wrote ", Duration::from_secs(20));
    let mid = cluster.member_list();
    assert_eq!(mid.len(), 4, "{mid:?}");
    let learner = mid
        .iter()
        .find(|m| m.peer_urls == [cluster.peer_url(ips[3])])
        .expect("the learner is listed");
    assert!(
        learner.is_learner && learner.name.is_empty(),
        "an unstarted learner: {learner:?}"
    );
    let node3 = out.join("infra3");
    let conf = environment_file(&node3.join("etcd.conf"));
    let get = |k: &str| {
        conf.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("HOST_NAME"), "infra3");
    assert_eq!(get("HOST_IP"), ips[3].to_string());
    assert_eq!(get("CLUSTER_STATE"), "existing");
    assert_eq!(get("TOKEN"), cluster.token);
    let expected_cluster: Vec<String> = (0..4)
        .map(|i| format!("infra{i}={}", cluster.peer_url(ips[i])))
        .collect();
    assert_eq!(get("CLUSTER"), expected_cluster.join(","));
    cluster.start_command("infra3", ips[3], &pki3, unit_command(&node3));
    let done = run.finish();
    done.expect_code(0)
        .stdout_has("--fix-certs: reissued")
        .stdout_has("PASS: all")
        .stdout_has("snapshot saved: ")
        .stdout_has("promoted in cluster")
        .stdout_has("done: 4 voting members, all healthy");
    assert_eq!(
        shape(&cluster.member_list()),
        voters(&["infra0", "infra1", "infra2", "infra3"])
    );
    assert_eq!(snapshots_in(&out).len(), 1, "one snapshot before the add");
    let existing = std::fs::read_to_string(node3.join("existing-nodes.txt")).unwrap();
    assert!(
        existing.contains(&format!("infra0: CLUSTER={}", expected_cluster.join(","))),
        "{existing}"
    );
    assert!(
        std::fs::read_dir(&pki3_dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("members.pem.bak.")),
        "the replaced members.pem is kept"
    );

    // 4. infra4 from the ETCD_* environment file, again with the shared (uncovering) files.
    let pki4_dir = cluster.root().join("infra4-pki");
    let pki4 = cluster.pki.copy_to(&pki4_dir);
    let member4 = new_member(&cluster, "infra4", ips[4], &pki4);
    let flags4 = node_flags(&cluster, "infra4", &out, &pki4_dir);
    // --exec is the hook that starts the node (ssh NODE systemctl start etcd, say); here it
    // asks the test to, and says which files it was given.
    let requested = cluster.root().join("infra4-start-requested");
    let exec = vec![
        "--exec".to_string(),
        format!("echo \"$ETCD_PKI_NODE_DIR\" > {}", requested.display()),
    ];
    let mut run = cluster.etcd_pki_spawn(&refs(&words(&[
        &["scale-out".into()],
        &member4,
        &flags4,
        &fix,
        &exec,
    ])));
    run.wait_for("waiting up to", Duration::from_secs(90));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !requested.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let node4 = out.join("infra4");
    assert_eq!(
        std::fs::read_to_string(&requested).unwrap().trim(),
        node4.display().to_string(),
        "--exec ran with ETCD_PKI_NODE_DIR"
    );
    let env = environment_file(&node4.join("etcd.env"));
    assert!(
        env.contains(&("ETCD_INITIAL_CLUSTER_STATE".into(), "existing".into())),
        "{env:?}"
    );
    cluster.start_member("infra4", ips[4], &pki4, &Start::Env(env));
    run.finish()
        .expect_code(0)
        .stdout_has("done: 5 voting members, all healthy");
    assert_eq!(
        shape(&cluster.member_list()),
        voters(&["infra0", "infra1", "infra2", "infra3", "infra4"])
    );
    let put = cluster.etcdctl(&["put", "scaled", "to-five"]);
    assert_eq!(put.code, 0, "{}", put.stderr);

    // `config` prints the same node files on their own.
    let config = cluster.etcd_pki(
        &[
            "config",
            "infra4",
            "--peer-urls",
            &cluster.peer_url(ips[4]),
            "--token",
            &cluster.token,
        ],
        false,
    );
    let all: Vec<String> = (0..5)
        .map(|i| format!("infra{i}={}", cluster.peer_url(ips[i])))
        .collect();
    config
        .expect_code(0)
        .stdout_has("# ----- etcd.conf -----")
        .stdout_has(&format!("CLUSTER={}\n", all.join(",")))
        .stdout_has("ETCD_INITIAL_CLUSTER_STATE=\"existing\"");

    // 5. scale-in back to three: each removal quorum-checked, snapshotted, and the remaining
    //    nodes' CLUSTER line written.
    let out_in = cluster.root().join("scale-in");
    for (name, remaining) in [("infra4", 4), ("infra3", 3)] {
        let run = cluster.etcd_pki(&["scale-in", name, "--out", &s(&out_in)], false);
        run.expect_code(0).stdout_has("removed from cluster");
        cluster.stop_member(name);
        let list = cluster.member_list();
        assert_eq!(list.len(), remaining, "{list:?}");
        assert!(list.iter().all(|m| m.name != name));
        let line: Vec<String> = (0..remaining)
            .map(|i| format!("infra{i}={}", cluster.peer_url(ips[i])))
            .collect();
        run.stdout_has(&format!("CLUSTER={}", line.join(",")));
    }
    assert_eq!(snapshots_in(&out_in).len(), 2);
    assert_eq!(
        cluster.member_list(),
        original,
        "the original three, same IDs"
    );
    let got = cluster.etcdctl(&["get", "scaled", "--print-value-only"]);
    assert_eq!(got.stdout.trim(), "to-five");
}

/// Interrupted after the add, a re-run finds the learner and finishes; a member that never
/// starts is removed again at the timeout, and a failing --exec the same way.
#[test]
fn scale_out_resumes_after_an_interruption_and_undoes_a_timeout() {
    let ips = allocate_ips(5);
    // Certificates that already cover the new members: no fix needed.
    let mut cluster = Cluster::start_fresh_on(&ips[..3], &ips, &ips[3..]);
    let out = cluster.root().join("out");
    let pki = cluster.pki.clone();
    let member3 = new_member(&cluster, "infra3", ips[3], &pki);
    let flags3 = node_flags(&cluster, "infra3", &out, pki.ca.parent().unwrap());
    let args3 = words(&[
        &["scale-out".into()],
        &member3,
        &flags3,
        &["--timeout".into(), "2m".into()],
    ]);

    // Killed right after the add: the learner stays, unstarted.
    let mut run = cluster.etcd_pki_spawn(&refs(&args3));
    run.wait_for("as a learner", Duration::from_secs(60));
    let killed = run.kill();
    assert_eq!(killed.code, -1, "killed by a signal");
    let list = cluster.member_list();
    assert_eq!(list.len(), 4);
    assert!(
        list.iter().any(|m| m.is_learner && m.name.is_empty()),
        "{list:?}"
    );

    // The re-run resumes at the wait (no second add), writes the files, promotes.
    let mut run = cluster.etcd_pki_spawn(&refs(&args3));
    run.wait_for("resuming: ", Duration::from_secs(30));
    run.wait_for("wrote ", Duration::from_secs(30));
    cluster.start_command("infra3", ips[3], &pki, unit_command(&out.join("infra3")));
    run.finish()
        .expect_code(0)
        .stdout_has("skipping the preflight, snapshot and add")
        .stdout_has("done: 4 voting members, all healthy");
    let four = cluster.member_list();
    assert_eq!(
        shape(&four),
        voters(&["infra0", "infra1", "infra2", "infra3"])
    );

    // Run once more: nothing to do.
    cluster
        .etcd_pki(&refs(&args3), false)
        .expect_code(0)
        .stdout_has("already a started voting member");
    assert_eq!(cluster.member_list(), four);

    // Another member's peer URL under a new name: refused, nothing changed.
    let stolen = words(&[
        &[
            "scale-out".into(),
            "infra9".into(),
            "--peer-urls".into(),
            cluster.peer_url(ips[1]),
        ],
        &flags3,
    ]);
    cluster
        .etcd_pki(&refs(&stolen), false)
        .expect_code(1)
        .stdout_has("belongs to member infra1");
    assert_eq!(cluster.member_list(), four);

    // Timeout: infra4 is never started; the learner is removed; the cluster is as before.
    let member4 = new_member(&cluster, "infra4", ips[4], &pki);
    let flags4 = node_flags(&cluster, "infra4", &out, pki.ca.parent().unwrap());
    let started = Instant::now();
    let timed_out = cluster.etcd_pki(
        &refs(&words(&[
            &["scale-out".into()],
            &member4,
            &flags4,
            &["--timeout".into(), "4s".into()],
        ])),
        false,
    );
    timed_out
        .expect_code(1)
        .stdout_has("added infra4 as a learner")
        .stdout_has("infra4 did not join")
        .stdout_has("the cluster is as it was before the add")
        .stderr_has("scale-out of infra4 did not complete");
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(cluster.member_list(), four, "the learner was removed");

    // A failing --exec: the same undo, at once.
    cluster
        .etcd_pki(
            &refs(&words(&[
                &["scale-out".into()],
                &member4,
                &flags4,
                &["--exec".into(), "exit 7".into()],
            ])),
            false,
        )
        .expect_code(1)
        .stdout_has("--exec failed")
        .stdout_has("the cluster is as it was before the add");
    assert_eq!(cluster.member_list(), four);
}

/// What preflight catches on a running cluster: a member serving a peer certificate from
/// another CA (which the members trust, so the cluster runs), a server certificate without
/// clientAuth, a certificate that expires within the window, and a member that is down.
#[test]
fn preflight_catches_what_would_break_a_join() {
    let ips = allocate_ips(4);
    let root = tempfile::tempdir().unwrap();
    let cluster_ca = Pki::cfssl(&root.path().join("a"), &ips);
    let other_ca = Pki::cfssl(&root.path().join("b"), &ips);
    // Every member trusts both CAs; infra2 serves a peer certificate from the other one.
    let bundle = root.path().join("bundle.pem");
    let mut both = std::fs::read(&cluster_ca.ca).unwrap();
    both.extend(std::fs::read(&other_ca.ca).unwrap());
    std::fs::write(&bundle, both).unwrap();
    let member_pki = |i: usize| {
        let mut p = cluster_ca.clone();
        p.ca = bundle.clone();
        if i == 2 {
            p.peer = other_ca.peer.clone();
            p.peer_key = other_ca.peer_key.clone();
        }
        (format!("infra{i}"), ips[i], p)
    };
    let mut cluster = Cluster::start_each(&cluster_ca, (0..3).map(member_pki).collect(), &ips[3..]);
    let new_ip = ips[3];
    let node = root.path().join("node");
    std::fs::create_dir_all(&node).unwrap();
    let ca_key = cluster_ca.ca_key.clone().unwrap();
    let preflight = |cluster: &Cluster, extra: &[String]| {
        let mut args = vec![
            "preflight".to_string(),
            "infra3".into(),
            "--peer-urls".into(),
            cluster.peer_url(new_ip),
            "--peer-cacert".into(),
            s(&cluster_ca.ca),
            "-w".into(),
            "json".into(),
        ];
        args.extend(extra.iter().cloned());
        let run = cluster.etcd_pki(&refs(&args), false);
        let json = run.json();
        assert_eq!(
            run.code,
            if json["status"] == "FAIL" { 1 } else { 0 },
            "{}",
            run.stdout
        );
        json
    };
    let status_of = |json: &serde_json::Value, check: &str| -> Vec<(String, String)> {
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["check"].as_str().unwrap().starts_with(check))
            .map(|c| {
                (
                    c["status"].as_str().unwrap().to_string(),
                    c["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };

    // Good certificates for the new member (the shared ones cover it): only infra2 fails.
    let good = vec![
        "--peer-cert".to_string(),
        s(&cluster_ca.peer),
        "--peer-key".into(),
        s(&cluster_ca.peer_key),
        "--server-cert".into(),
        s(&cluster_ca.server),
    ];
    let json = preflight(&cluster, &good);
    let infra2 = status_of(&json, "infra2 serves");
    assert_eq!(infra2.len(), 1);
    assert_eq!(infra2[0].0, "FAIL", "{infra2:?}");
    assert!(infra2[0].1.contains("chain"), "{infra2:?}");
    for ok in [
        "infra0 serves",
        "infra1 serves",
        "peer certificate",
        "server certificate",
        "members healthy",
    ] {
        let rows = status_of(&json, ok);
        assert!(
            !rows.is_empty() && rows.iter().all(|(st, _)| st == "PASS"),
            "{ok}: {rows:?}"
        );
    }

    // A server certificate with serverAuth only.
    let server_only = openssl_leaf(
        &node,
        "server-only",
        &cluster_ca.ca,
        &ca_key,
        365,
        &format!("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:{new_ip}\n"),
    );
    let mut args = good.clone();
    args[5] = s(&server_only);
    let json = preflight(&cluster, &args);
    let usage = status_of(&json, "server certificate usage");
    assert!(
        usage
            .iter()
            .any(|(st, m)| st == "FAIL" && m.contains("clientAuth")),
        "{usage:?}"
    );

    // A peer certificate that expires in 10 days (window 30 days).
    let expiring = openssl_leaf(
        &node,
        "peer-expiring",
        &cluster_ca.ca,
        &ca_key,
        10,
        &format!("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:{new_ip}\n"),
    );
    let args = vec![
        "--peer-cert".to_string(),
        s(&expiring),
        "--peer-key".into(),
        s(&node.join("peer-expiring.key")),
    ];
    let json = preflight(&cluster, &args);
    let validity = status_of(&json, "peer certificate validity");
    assert_eq!(validity.len(), 1);
    assert_eq!(validity[0].0, "FAIL", "{validity:?}");
    // With a shorter window it no longer fails that check (a warning remains).
    let mut short = args.clone();
    short.extend(["--expires-within".to_string(), "5d".into()]);
    assert_eq!(
        status_of(&preflight(&cluster, &short), "peer certificate validity")[0].0,
        "WARN"
    );

    // --fix-certs with a certificate that does not cover the new member, while infra2's
    // problem is one it cannot fix: it stops before changing any file or the cluster.
    let uncovering = openssl_leaf(
        &node,
        "peer-elsewhere",
        &cluster_ca.ca,
        &ca_key,
        365,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n",
    );
    let files_before = etcd_pki_tests::snapshot(&node);
    let list_before = cluster.member_list();
    let out = root.path().join("out");
    let fix = cluster.etcd_pki(
        &refs(&[
            "scale-out".to_string(),
            "infra3".into(),
            "--peer-urls".into(),
            cluster.peer_url(new_ip),
            "--peer-cacert".into(),
            s(&cluster_ca.ca),
            "--peer-cert".into(),
            s(&uncovering),
            "--peer-key".into(),
            s(&node.join("peer-elsewhere.key")),
            "--ca-key".into(),
            s(&ca_key),
            "--fix-certs".into(),
            "--out".into(),
            s(&out),
        ]),
        false,
    );
    fix.expect_code(1)
        .stdout_has("FAIL  infra2 serves")
        .stdout_has("--fix-certs fixes only certificates that do not cover the new member");
    assert_eq!(
        etcd_pki_tests::snapshot(&node),
        files_before,
        "no file changed"
    );
    assert_eq!(cluster.member_list(), list_before, "the cluster unchanged");
    assert!(snapshots_in(&out).is_empty());

    // A member down.
    cluster.kill_member("infra1");
    let json = preflight(&cluster, &good);
    assert_eq!(json["status"], "FAIL");
    let healthy = status_of(&json, "members healthy");
    assert!(
        healthy[0].0 == "FAIL" && healthy[0].1.contains("infra1"),
        "{healthy:?}"
    );
    let serves = status_of(&json, "infra1 serves");
    assert!(
        serves[0].0 == "FAIL" && serves[0].1.contains("cannot reach"),
        "{serves:?}"
    );
}

/// `snapshot save` writes a verified snapshot that the real `etcdctl snapshot restore` turns
/// into a working single-member cluster holding the same keys.
#[test]
fn a_saved_snapshot_restores_with_etcdctl() {
    let ips = allocate_ips(4);
    let cluster = Cluster::start_fresh_on(&ips[..3], &ips[..3], &[]);
    for i in 0..50 {
        let put = cluster.etcdctl(&["put", &format!("key/{i:02}"), &format!("value {i}")]);
        assert_eq!(put.code, 0, "{}", put.stderr);
    }
    let file = cluster.root().join("backup").join("etcd.db");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let saved = cluster.etcd_pki(&["snapshot", "save", &s(&file)], false);
    saved
        .expect_code(0)
        .stdout_has(&format!("Snapshot saved at {}", file.display()))
        .stdout_has("SHA-256 verified");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A second save keeps the first as a backup.
    cluster
        .etcd_pki(&["snapshot", "save", &s(&file)], false)
        .expect_code(0)
        .stdout_has("the file it replaced is kept as");

    // Restore (with etcdutl where the version has it: etcdctl's `snapshot restore` is deprecated
    // in 3.5 and gone in 3.6) and run it as a new single-member cluster, plain http on its own IP.
    let ip = ips[3];
    let ports = allocate_ports(&[ip]);
    let peer = format!("http://{ip}:{}", ports.peer);
    let client = format!("http://{ip}:{}", ports.client);
    let data = cluster.root().join("restored");
    let mut restore = match &etcd_binaries().etcdutl {
        Some(etcdutl) => Command::new(etcdutl),
        None => etcdctl_command(),
    };
    let restore = restore
        .args([
            "snapshot",
            "restore",
            &s(&file),
            "--name",
            "restored",
            "--data-dir",
            &s(&data),
        ])
        .args([
            "--initial-cluster",
            &format!("restored={peer}"),
            "--initial-advertise-peer-urls",
            &peer,
        ])
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let mut etcd = etcd_command();
    etcd.args(["--name", "restored", "--data-dir", &s(&data)])
        .args([
            "--listen-client-urls",
            &client,
            "--advertise-client-urls",
            &client,
        ])
        .args([
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
        ])
        .args(["--initial-cluster", &format!("restored={peer}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    die_with_parent(&mut etcd);
    let child = etcd.spawn().unwrap();
    let get = || {
        etcdctl_command()
            .args([
                "--endpoints",
                &client,
                "--command-timeout",
                "2s",
                "get",
                "key/",
                "--prefix",
            ])
            .output()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let out = loop {
        let out = get();
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    stop(child);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 100, "50 keys and values");
    assert_eq!(lines[0], "key/00");
    assert_eq!(lines[99], "value 49");
}

/// The leader's name, as the running members report it.
fn leader_name(cluster: &Cluster) -> String {
    let run = cluster.etcdctl(&["endpoint", "status", "-w", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let leader = json[0]["Status"]["leader"].as_u64().expect("a leader");
    let hex = format!("{leader:x}");
    cluster
        .member_list()
        .into_iter()
        .find(|m| m.id == hex)
        .map(|m| m.name)
        .unwrap_or_else(|| panic!("leader {hex} is not a member"))
}

/// Removing the leader forces an election, with no writes until it ends: `member remove`
/// refuses it without `--force`, and `scale-in` hands leadership to another voter first.
#[test]
fn scale_in_of_the_leader_hands_leadership_on_first() {
    let ips = allocate_ips(3);
    let mut cluster = Cluster::start_fresh_on(&ips, &ips, &[]);
    let leader = leader_name(&cluster);
    cluster
        .etcd_pki(&["member", "remove", &leader], false)
        .expect_code(1)
        .stdout_has("is the current leader")
        .stdout_has("etcd-pki scale-in, which does");
    assert_eq!(cluster.member_list().len(), 3, "nothing removed");

    let out = cluster.root().join("scale-in");
    cluster
        .etcd_pki(&["scale-in", &leader, "--out", &s(&out)], false)
        .expect_code(0)
        .stdout_has(&format!("leadership moved from {leader} to infra"))
        .stdout_has("removed from cluster");
    cluster.stop_member(&leader);
    let list = cluster.member_list();
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.iter().all(|m| m.name != leader));
    assert_ne!(leader_name(&cluster), leader);
    let put = cluster.etcdctl(&["put", "after", "the leader left"]);
    assert_eq!(put.code, 0, "{}", put.stderr);
}

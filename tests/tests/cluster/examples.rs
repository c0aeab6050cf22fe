//! The examples of pki-cluster, built by the test command, run against real clusters as an
//! embedder would run them: the pre-flight check of a new member, and a scale-out with progress
//! events whose start hook is the embedder's own.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{allocate_ips, environment_file, Cluster, Start};
use etcd_pki_tests::example;

/// The connection and new-member arguments both examples take.
fn args(cluster: &Cluster, name: &str, peer_url: &str) -> Vec<String> {
    let pki = &cluster.pki;
    vec![
        cluster.endpoints().split(',').next().unwrap().to_string(),
        pki.ca.display().to_string(),
        pki.client.display().to_string(),
        pki.client_key.display().to_string(),
        name.to_string(),
        peer_url.to_string(),
        pki.peer.display().to_string(),
        pki.peer_key.display().to_string(),
    ]
}

#[test]
fn the_preflight_example_says_who_can_join() {
    // The shared certificates cover the first four addresses, not the fifth.
    let ips = allocate_ips(5);
    let cluster = Cluster::start_fresh_on(&ips[..3], &ips[..4], &ips[3..]);
    let run = |name: &str, peer_url: &str| {
        Command::new(example("preflight"))
            .args(args(&cluster, name, peer_url))
            .output()
            .expect("run the preflight example")
    };
    let covered = run("infra3", &cluster.peer_url(ips[3]));
    let text = String::from_utf8_lossy(&covered.stdout);
    assert_eq!(covered.status.code(), Some(0), "{text}");
    assert!(text.contains("can join"), "{text}");
    assert!(text.contains("PASS Member(\"infra0\") serves"), "{text}");

    let uncovered = run("infra4", &cluster.peer_url(ips[4]));
    let text = String::from_utf8_lossy(&uncovered.stdout);
    assert_eq!(uncovered.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "FAIL PeerCertificate coverage: peer certificate members.pem does not cover {}",
            ips[4]
        )),
        "{text}"
    );
    assert!(
        text.contains("fix: reissue the certificate from its CA with"),
        "{text}"
    );
}

#[test]
fn the_scale_out_example_grows_the_cluster_with_its_own_start_hook() {
    let ips = allocate_ips(4);
    let mut cluster = Cluster::start_fresh_on(&ips[..3], &ips, &ips[3..]);
    let out = cluster.root().join("example-out");
    let requested = cluster.root().join("start-requested");
    let mut all = args(&cluster, "infra3", &cluster.peer_url(ips[3]));
    all.push(out.display().to_string());
    all.push(format!("echo \"$NODE_DIR\" > {}", requested.display()));
    let child = Command::new(example("scale_out"))
        .args(&all)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the scale_out example");

    // The hook ran: start the member from the files it was given, as the embedder's would.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !requested.exists() {
        assert!(Instant::now() < deadline, "the start hook never ran");
        std::thread::sleep(Duration::from_millis(100));
    }
    let node_dir = std::fs::read_to_string(&requested)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(node_dir, out.join("infra3").display().to_string());
    let env = environment_file(&out.join("infra3").join("etcd.env"));
    let pki = cluster.pki.clone();
    cluster.start_member("infra3", ips[3], &pki, &Start::Env(env));

    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}\n{}",
        cluster.logs_tail()
    );
    for line in [
        "preflight: ",
        "snapshot: ",
        "learner added: ",
        "node files: ",
        "promoted: ",
        "outcome: Done { voters: 4 }",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    assert!(cluster.member_list().iter().all(|m| !m.is_learner));
}

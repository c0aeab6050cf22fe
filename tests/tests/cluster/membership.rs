//! `member` and `endpoint` commands against real etcd: the runbook's scale-out end to end, and
//! each of its errors.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{allocate_ips, etcd_version, reserve_ips, Cluster, Pki, Start};
use etcd_pki_tests::{env_value, etcd_pki};

fn named(ips: &[std::net::IpAddr]) -> Vec<(String, std::net::IpAddr)> {
    ips.iter()
        .enumerate()
        .map(|(i, ip)| (format!("infra{i}"), *ip))
        .collect()
}

/// The seed runbook, section 2.1 to 3, on 127.0.0.11-14 with its certificates.
#[test]
fn the_seed_scenario_end_to_end() {
    let ips = reserve_ips(&["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"]);
    let seed_pki_dir = tempfile::tempdir().unwrap();
    let pki = Pki::seed_fixtures(seed_pki_dir.path());
    let mut cluster = Cluster::start(&pki, &named(&ips[..3]), &ips[3..]);
    let new_url = cluster.peer_url(ips[3]);
    let before = cluster.member_list();
    assert_eq!(before.len(), 3);

    // 1. The runbook's `member add` with the shared members.pem: refused, nothing sent.
    let refused = cluster.etcd_pki(&["member", "add", "infra3", "--peer-urls", &new_url], true);
    refused
        .expect_code(1)
        .stdout_has("refusing to add infra3")
        .stdout_has("nothing was sent to etcd")
        .stdout_has("does not cover 127.0.0.14; it is valid for 127.0.0.1, 127.0.0.11, 127.0.0.12, 127.0.0.13")
        .stdout_has(&format!(
            "fix: etcd-pki reissue --cacert {} --ca-key {} --cert {} --key {} --add-ip 127.0.0.14",
            cluster.pki.ca.display(),
            cluster.pki.ca_key.as_ref().unwrap().display(),
            cluster.pki.peer.display(),
            cluster.pki.peer_key.display()
        ));
    assert_eq!(cluster.member_list(), before, "member list unchanged");

    // 2. The fix, exactly as printed.
    let fix = refused
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("fix: etcd-pki reissue"))
        .unwrap();
    let fix_args: Vec<&str> = std::iter::once("reissue")
        .chain(fix.split_whitespace())
        .collect();
    etcd_pki(&fix_args).expect_code(0);
    let admin = cluster.pki.clone();
    etcd_pki([
        "reissue",
        "--cacert",
        admin.ca.to_str().unwrap(),
        "--ca-key",
        admin.ca_key.as_ref().unwrap().to_str().unwrap(),
        "--cert",
        admin.server.to_str().unwrap(),
        "--add-ip",
        "127.0.0.14",
    ])
    .expect_code(0);

    // 3. Add as a learner; start the fourth member from the printed ETCD_* settings.
    let added = cluster.etcd_pki(
        &[
            "member",
            "add",
            "infra3",
            "--peer-urls",
            &new_url,
            "--learner",
        ],
        true,
    );
    added
        .expect_code(0)
        .stdout_has("added to cluster")
        .stdout_has("ETCD_INITIAL_CLUSTER_STATE=\"existing\"");
    let env: Vec<(String, String)> = [
        "ETCD_NAME",
        "ETCD_INITIAL_CLUSTER",
        "ETCD_INITIAL_ADVERTISE_PEER_URLS",
        "ETCD_INITIAL_CLUSTER_STATE",
    ]
    .iter()
    .map(|k| (k.to_string(), env_value(&added.stdout, k).unwrap()))
    .collect();
    assert_eq!(env[0].1, "infra3");
    assert!(
        env[1].1.contains(&format!("infra3={new_url}")) && env[1].1.contains("infra0="),
        "{}",
        env[1].1
    );
    let listed = cluster.member_list();
    assert!(
        listed.iter().any(|m| m.is_learner && m.name.is_empty()),
        "an unstarted learner: {listed:?}"
    );
    cluster.start_member("infra3", ips[3], &admin, &Start::Env(env));

    // 4. Promote once it has caught up.
    cluster
        .etcd_pki(
            &["member", "promote", "infra3", "--wait", "--timeout", "90s"],
            true,
        )
        .expect_code(0)
        .stdout_has("promoted in cluster");
    let listed = cluster.member_list();
    assert_eq!(listed.len(), 4);
    assert!(
        listed.iter().all(|m| !m.is_learner && !m.name.is_empty()),
        "{listed:?}"
    );
    let health = cluster.etcd_pki(&["endpoint", "health", "--cluster"], true);
    health.expect_code(0);
    assert_eq!(
        health.stdout.matches("is healthy").count(),
        4,
        "{}",
        health.stdout
    );

    // 5. Remove it again (announcing it if it became the leader) and stop it.
    let mut removed = cluster.etcd_pki(&["member", "remove", "infra3"], true);
    if removed.code == 1 {
        removed.stdout_has("is the current leader");
        removed = cluster.etcd_pki(&["member", "remove", "infra3", "--force"], true);
    }
    removed.expect_code(0).stdout_has("removed from cluster");
    cluster.stop_member("infra3");
    let listed = cluster.member_list();
    assert_eq!(listed.len(), 3);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health = cluster.etcd_pki(&["endpoint", "health", "--cluster"], true);
        if health.code == 0 && health.stdout.matches("is healthy").count() == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "3 healthy members expected: {}{}",
            health.stdout,
            health.stderr
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn list_and_status_match_etcdctl() {
    let cluster = Cluster::start_fresh(3);
    let ours = cluster.etcd_pki(&["member", "list"], false);
    ours.expect_code(0);
    let theirs = cluster.etcdctl(&["member", "list"]);
    let mut a: Vec<&str> = ours.stdout.lines().collect();
    let mut b: Vec<&str> = theirs.stdout.lines().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "simple output is etcdctl's line format");
    let table = cluster.etcd_pki(&["member", "list", "-w", "table"], false);
    table
        .expect_code(0)
        .stdout_has("|        ID        | STATUS  |  NAME  |")
        .stdout_has("| IS LEARNER |");
    let json = cluster.etcd_pki(&["member", "list", "-w", "json"], false);
    json.expect_code(0);
    assert_eq!(json.json()["members"].as_array().unwrap().len(), 3);
    let status = cluster.etcd_pki(&["endpoint", "status", "--cluster", "-w", "table"], false);
    status
        .expect_code(0)
        .stdout_has("ENDPOINT")
        .stdout_has("| RAFT APPLIED INDEX | ERRORS |");
    // Every member reports the version of the etcd that runs (and only that version).
    let version = etcd_version();
    let rows: Vec<&str> = status
        .stdout
        .lines()
        .filter(|l| l.contains("https://"))
        .collect();
    assert_eq!(rows.len(), 3, "{}", status.stdout);
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(cells.contains(&version), "not {version}: {row}");
    }
    let simple = cluster.etcd_pki(&["endpoint", "status", "--cluster"], false);
    assert_eq!(simple.stdout.lines().count(), 3);
    assert_eq!(
        simple.stdout.matches(", true, false, ").count(),
        1,
        "one leader: {}",
        simple.stdout
    );
    // By name and by ID everywhere: promote a voter by name and by ID gets etcd's answer.
    let id = cluster.member_list()[0].id.clone();
    cluster
        .etcd_pki(&["member", "promote", &id], false)
        .expect_code(3)
        .stderr_has("etcdserver: can only promote a learner member")
        .stderr_has("already a voting member");
}

/// Each error of the runbook's sections 2.2 and 2.3, from a real cluster, with its explanation.
#[test]
fn the_runbook_errors_are_explained() {
    let ips = allocate_ips(6);
    let mut cluster = Cluster::start_fresh_on(&ips[..3], &ips, &ips[3..]);
    let urls: Vec<String> = ips.iter().map(|ip| cluster.peer_url(*ip)).collect();
    let url = |i: usize| urls[i].clone();

    // A learner that is not in sync cannot be promoted (it never started).
    cluster
        .etcd_pki(
            &[
                "member",
                "add",
                "infra3",
                "--peer-urls",
                &url(3),
                "--learner",
            ],
            true,
        )
        .expect_code(0);
    let learner = cluster
        .member_list()
        .into_iter()
        .find(|m| m.is_learner)
        .unwrap();
    cluster
        .etcd_pki(&["member", "promote", &learner.id], false)
        .expect_code(3)
        .stderr_has("etcdserver: can only promote a learner member which is in sync with leader")
        .stderr_has("has not caught up");
    // promote --wait gives up at its timeout, saying what it waited for.
    let start = Instant::now();
    cluster
        .etcd_pki(
            &[
                "member",
                "promote",
                &learner.id,
                "--wait",
                "--timeout",
                "3s",
            ],
            false,
        )
        .expect_code(1)
        .stderr_has("did not catch up within 3s")
        .stderr_has("has not started yet");
    assert!(start.elapsed() < Duration::from_secs(15));

    // A second learner: refused before etcd sees it, with etcd's own words.
    cluster
        .etcd_pki(
            &[
                "member",
                "add",
                "infra4",
                "--peer-urls",
                &url(4),
                "--learner",
            ],
            true,
        )
        .expect_code(1)
        .stdout_has("too many learner members in cluster")
        .stdout_has("etcd-pki member promote");
    // The same peer URL twice.
    cluster
        .etcd_pki(
            &[
                "member",
                "add",
                "infra5",
                "--peer-urls",
                &url(3),
                "--learner",
            ],
            true,
        )
        .expect_code(1)
        .stdout_has(&format!("{} is already the peer URL of", url(3)));
    // A member ID that does not exist goes to etcd, which says so.
    cluster
        .etcd_pki(&["member", "remove", "1234abcd"], false)
        .expect_code(3)
        .stderr_has("etcdserver: member not found")
        .stderr_has("etcd-pki member list");
    // A name that does not exist cannot be sent: bad input.
    cluster
        .etcd_pki(&["member", "remove", "nosuchmember"], false)
        .expect_code(2)
        .stderr_has("no member has the ID or name \"nosuchmember\"");

    // Clean up the learner, then kill a member: adds are refused, removals that lose quorum too.
    cluster
        .etcd_pki(&["member", "remove", &learner.id], false)
        .expect_code(0);
    cluster.kill_member("infra2");
    // If infra2 led, the other two elect a new leader first; until then preflight rightly says
    // that no member is healthy.
    cluster.wait_answering(Duration::from_secs(30));
    let refused = cluster.etcd_pki(
        &[
            "member",
            "add",
            "infra4",
            "--peer-urls",
            &url(4),
            "--learner",
        ],
        true,
    );
    refused
        .expect_code(1)
        .stdout_has("FAIL  members healthy: unhealthy: infra2");
    cluster
        .etcd_pki(&["member", "remove", "infra0"], false)
        .expect_code(1)
        .stdout_has("would stop");
}

#[test]
fn an_add_right_after_start_gets_etcds_unhealthy_cluster_explained() {
    let ips = allocate_ips(4);
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::cfssl(dir.path(), &ips);
    let cluster = Cluster::start_unsettled(&pki, &named(&ips[..3]));
    let run = cluster.etcd_pki(
        &[
            "member",
            "add",
            "infra3",
            "--peer-urls",
            &cluster.peer_url(ips[3]),
            "--learner",
        ],
        true,
    );
    run.expect_code(3)
        .stderr_has("etcdserver: unhealthy cluster")
        .stderr_has("--strict-reconfig-check");
    assert_eq!(cluster.member_list().len(), 3);
}

#[test]
fn the_leader_is_not_removed_unannounced() {
    let cluster = Cluster::start_fresh(3);
    let status = cluster.etcd_pki(&["endpoint", "status", "--cluster", "-w", "json"], false);
    let json = status.json();
    let leader = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["Status"]["leader"] == e["Status"]["member_id"])
        .map(|e| format!("{:x}", e["Status"]["member_id"].as_u64().unwrap()))
        .unwrap();
    cluster
        .etcd_pki(&["member", "remove", &leader], false)
        .expect_code(1)
        .stdout_has("is the current leader")
        .stdout_has("--force");
    assert_eq!(cluster.member_list().len(), 3);
}

#[test]
fn unreachable_endpoints_exit_3_within_the_timeout() {
    let cluster = Cluster::start_fresh(1);
    // Nothing listens: refused at once.
    let dead = allocate_ips(1)[0];
    let start = Instant::now();
    let mut args: Vec<String> = vec!["member".into(), "list".into()];
    let pki = &cluster.pki;
    let conn = |endpoint: String| {
        vec![
            "--endpoints".to_string(),
            endpoint,
            "--cacert".into(),
            pki.ca.display().to_string(),
            "--cert".into(),
            pki.client.display().to_string(),
            "--key".into(),
            pki.client_key.display().to_string(),
            "--dial-timeout".into(),
            "1s".into(),
            "--command-timeout".into(),
            "1s".into(),
        ]
    };
    args.extend(conn(format!("https://{dead}:2379")));
    etcd_pki(&args)
        .expect_code(3)
        .stderr_has(&format!("https://{dead}:2379"))
        .stderr_has("no endpoint answered");
    assert!(start.elapsed() < Duration::from_secs(5));

    // A black hole: a listener that accepts and never answers the TLS handshake.
    let hole = TcpListener::bind((dead, 0)).unwrap();
    let port = hole.local_addr().unwrap().port();
    let start = Instant::now();
    let mut args: Vec<String> = vec!["member".into(), "list".into()];
    args.extend(conn(format!("https://{dead}:{port}")));
    etcd_pki(&args)
        .expect_code(3)
        .stderr_has(&format!("https://{dead}:{port}"));
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "exit 3 within dial + command timeout, took {took:?}"
    );
    drop(hole);

    // One dead endpoint among live ones is skipped.
    let mut args: Vec<String> = vec!["member".into(), "list".into()];
    args.extend(conn(format!("https://{dead}:2379,{}", cluster.endpoints())));
    etcd_pki(&args).expect_code(0).stdout_has("infra0");

    // The wrong CA: the TLS handshake fails, exit 3 with the cause.
    let mut args: Vec<String> = vec!["member".into(), "list".into()];
    args.extend(conn(cluster.endpoints()));
    let ca_pos = args.iter().position(|a| a == "--cacert").unwrap() + 1;
    args[ca_pos] = etcd_pki_tests::fixture("cfssl/other-ca.pem")
        .display()
        .to_string();
    etcd_pki(&args)
        .expect_code(3)
        .stderr_has("TLS handshake failed");
}

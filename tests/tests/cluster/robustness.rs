//! Members that misbehave, against real etcd: one that hangs (SIGSTOP: it still accepts TCP
//! connections, the kernel does that, but never answers), a learner that dies right after it
//! started, and a cluster whose peer URLs are DNS names. Regression tests of issue 9's defects 8
//! and 9 and of its DNS and log-noise findings.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{allocate_ips, Cluster, Start};
use etcd_pki_tests::env_value;

/// Sends a signal to a member the harness started.
fn signal(cluster: &Cluster, name: &str, sig: libc::c_int) {
    let pid = cluster.member(name).pid().expect("the member runs") as libc::pid_t;
    // SAFETY: a signal to a process this test's harness started and still owns.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

/// The defaults the README bounds an unreachable endpoint by: --dial-timeout 2s plus
/// --command-timeout 5s.
const ONE_DEADLINE: Duration = Duration::from_secs(7);
/// What a run may take on top of its deadline (start-up, the member list, the checks).
const SLACK: Duration = Duration::from_millis(2500);

#[test]
fn a_hung_member_costs_one_deadline_not_one_per_step() {
    let ips = allocate_ips(4);
    let cluster = Cluster::start_fresh_on(&ips[..3], &ips, &ips[3..]);
    let new_url = cluster.peer_url(ips[3]);
    // A follower hangs (a hung leader would also stop the others' quorum reads until a new one
    // is elected, which is another test's business), and its endpoint comes first, so that every
    // cluster-wide request meets it first.
    let leader = cluster.leader_name().expect("a leader");
    let (hung, hung_ip) = ["infra0", "infra1", "infra2"]
        .iter()
        .zip(&ips)
        .find(|(name, _)| **name != leader)
        .map(|(name, ip)| (name.to_string(), *ip))
        .unwrap();
    signal(&cluster, &hung, libc::SIGSTOP);
    let mut endpoints = vec![cluster.client_url(hung_ip)];
    endpoints.extend(
        ips[..3]
            .iter()
            .filter(|ip| **ip != hung_ip)
            .map(|ip| cluster.client_url(*ip)),
    );
    let hung_first = endpoints.join(",");
    let others: Vec<&str> = ["infra0", "infra1", "infra2"]
        .into_iter()
        .filter(|n| *n != hung)
        .collect();
    let conn = |words: &[&str]| {
        let mut args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        args.extend([
            "--endpoints".to_string(),
            hung_first.clone(),
            "--cacert".into(),
            cluster.pki.ca.display().to_string(),
            "--cert".into(),
            cluster.pki.peer.display().to_string(),
            "--key".into(),
            cluster.pki.peer_key.display().to_string(),
        ]);
        args
    };
    let timed = |words: &[&str]| {
        let start = Instant::now();
        let run = etcd_pki_tests::etcd_pki(conn(words));
        (run, start.elapsed())
    };

    // preflight: health, status, the served certificate and the handshake of every member run
    // under one deadline; the hung member is named, the others pass.
    let (run, took) = timed(&[
        "preflight",
        "infra3",
        "--peer-urls",
        &new_url,
        "--peer-cert",
        cluster.pki.peer.to_str().unwrap(),
        "--peer-key",
        cluster.pki.peer_key.to_str().unwrap(),
    ]);
    run.expect_code(1)
        .stdout_has(&format!("FAIL  members healthy: unhealthy: {hung}"))
        .stdout_has(&format!("FAIL  {hung} serves"))
        .stdout_has(&format!("PASS  {} serves", others[0]))
        .stdout_has(&format!("PASS  handshake with {}", others[1]));
    assert!(
        took < ONE_DEADLINE + SLACK,
        "preflight took {took:?} with one member hung:\n{}",
        run.stdout
    );

    // The same bound for the other commands that ask several members.
    for words in [
        &["member", "list"][..],
        &["endpoint", "health", "--cluster"],
        &["endpoint", "status", "--cluster"],
        &[
            "member",
            "add",
            "infra3",
            "--peer-urls",
            &new_url,
            "--learner",
        ],
    ] {
        let (run, took) = timed(words);
        assert!(
            took < ONE_DEADLINE + SLACK,
            "{words:?} took {took:?} with one member hung:\n{}{}",
            run.stdout,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // The member list comes from the first member that answers, without waiting for the hung
    // one: well within the deadline.
    let (run, took) = timed(&["member", "list"]);
    run.expect_code(0).stdout_has(others[0]);
    assert!(took < Duration::from_secs(2), "member list took {took:?}");
    // A membership change is refused while a member is unhealthy, and nothing was added.
    assert_eq!(cluster.member_list().len(), 3);

    signal(&cluster, &hung, libc::SIGCONT);
}

#[test]
fn a_learner_that_dies_just_after_it_started_is_not_promoted() {
    let ips = allocate_ips(4);
    let mut cluster = Cluster::start_fresh_on(&ips[..3], &ips, &ips[3..]);
    let new_url = cluster.peer_url(ips[3]);
    // Client URLs without --server-cert: added, with a plain warning that the certificate for
    // them went unchecked and how to check it.
    let client_url = cluster.client_url(ips[3]);
    let added = cluster.etcd_pki(
        &[
            "member",
            "add",
            "infra3",
            "--peer-urls",
            &new_url,
            "--learner",
            "--client-urls",
            &client_url,
        ],
        true,
    );
    added
        .expect_code(0)
        .stderr_has("WARN  server certificate: the new member's client URLs")
        .stderr_has("etcd-pki check --role server");
    let env: Vec<(String, String)> = [
        "ETCD_NAME",
        "ETCD_INITIAL_CLUSTER",
        "ETCD_INITIAL_ADVERTISE_PEER_URLS",
        "ETCD_INITIAL_CLUSTER_STATE",
    ]
    .iter()
    .map(|k| (k.to_string(), env_value(&added.stdout, k).unwrap()))
    .collect();

    // promote --wait is already waiting when the learner starts; the learner catches up (the
    // database is tiny) and is killed 0.8 s after it started.
    let waiting =
        cluster.etcd_pki_spawn(&["member", "promote", "infra3", "--wait", "--timeout", "12s"]);
    std::thread::sleep(Duration::from_millis(500));
    let pki = cluster.pki.clone();
    cluster.start_member("infra3", ips[3], &pki, &Start::Env(env));
    std::thread::sleep(Duration::from_millis(800));
    cluster.kill_member("infra3");

    let run = waiting.finish();
    run.expect_code(1)
        .stderr_has("did not catch up within 12s")
        .stderr_has("running and caught up for 2s without a break");
    let learner = cluster
        .member_list()
        .into_iter()
        .find(|m| m.peer_urls.contains(&new_url))
        .expect("still a member");
    assert!(
        learner.is_learner,
        "a dead learner was promoted: {learner:?}"
    );
}

#[test]
fn preflight_on_dns_names_tests_from_the_new_members_address_and_logs_no_noise() {
    let cluster = Cluster::start_fresh_named(3, 1);
    let names = cluster.names().unwrap().clone();
    let (new_ip, new_name): (IpAddr, String) = names.of[3].clone();
    let new_url = cluster.peer_url(new_ip);
    assert!(new_url.contains(&new_name), "{new_url}");
    let peer = cluster.pki.peer.display().to_string();
    let peer_key = cluster.pki.peer_key.display().to_string();

    let run = cluster.etcd_pki(
        &[
            "preflight",
            "infra3",
            "--peer-urls",
            &new_url,
            "--peer-cert",
            &peer,
            "--peer-key",
            &peer_key,
        ],
        false,
    );
    run.expect_code(0)
        .stdout_has(&format!("from {new_ip}, the new member's address"))
        .stdout_has("infra0 serves: https://d0.dns.test:");

    // Without the new member's key, the served-certificate probe presents the connection's
    // client certificate: no member logs a connection without one.
    cluster
        .etcd_pki(
            &[
                "preflight",
                "infra3",
                "--peer-urls",
                &new_url,
                "--peer-cert",
                &peer,
            ],
            false,
        )
        .expect_code(0)
        .stdout_has("WARN  handshake: no peer key given");
    // A write interrupted beside the new member's certificate: refused until it is recovered.
    let planted = cluster
        .pki
        .peer
        .parent()
        .unwrap()
        .join(".members.pem.tmp-4194305-1");
    std::fs::write(&planted, "half a certificate").unwrap();
    cluster
        .etcd_pki(
            &[
                "preflight",
                "infra3",
                "--peer-urls",
                &new_url,
                "--peer-cert",
                &peer,
            ],
            false,
        )
        .expect_code(1)
        .stdout_has("FAIL  unfinished write")
        .stdout_has("fix: etcd-pki recover");
    std::fs::remove_file(&planted).unwrap();
    for m in ["infra0", "infra1", "infra2"] {
        let log = cluster.log_of(m);
        assert!(
            !log.contains("didn't provide a certificate"),
            "{m} logged a probe without a client certificate:\n{}",
            log.lines()
                .filter(|l| l.contains("rejected connection"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

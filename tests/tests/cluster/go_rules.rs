//! The Go rules follow the cluster's etcd: where Go 1.19 (etcd 3.4) and Go 1.24 (etcd 3.5)
//! decide a host differently, the commands that talk to a cluster judge by the version its
//! members report, say so, and take `--etcd-version` over it.

use std::time::Duration;

use etcd_pki_tests::cluster::{etcd_binaries, etcd_version, Cluster};
use etcd_pki_tests::{doctor_rows, openssl_leaf, repo_root};
use serde_json::Value;

/// A peer certificate from the cluster's CA whose only DNS SAN is `*`: Go 1.19 takes `*` for a
/// wildcard that covers any single-label host (`etcd-peer`), Go 1.24 for an invalid pattern
/// that covers nothing but the host `*`.
fn star_certificate(cluster: &Cluster, dir: &std::path::Path) -> String {
    openssl_leaf(
        dir,
        "star",
        &cluster.pki.ca,
        cluster.pki.ca_key.as_ref().expect("the admin PKI has the CA key"),
        365,
        "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:*\n",
    )
    .display()
    .to_string()
}

fn row<'a>(json: &'a Value, check: &str) -> &'a Value {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == check)
        .unwrap_or_else(|| panic!("no {check:?} row in {json:#}"))
}

#[test]
fn preflight_and_member_add_judge_hosts_by_the_clusters_go() {
    let cluster = Cluster::start_fresh(1);
    let dir = tempfile::tempdir().unwrap();
    let star = star_certificate(&cluster, dir.path());
    let preflight = |extra: &[&str]| {
        let mut words = vec![
            "preflight",
            "newbie",
            "--peer-urls",
            "https://etcd-peer:2380",
            "--peer-cert",
            &star,
            "-w",
            "json",
        ];
        words.extend_from_slice(extra);
        cluster.etcd_pki(&words, false)
    };
    let (go, covered) = if etcd_version().starts_with("3.4.") {
        ("go1.19", true)
    } else {
        assert!(etcd_version().starts_with("3.5."), "{}", etcd_version());
        ("go1.24", false)
    };

    // By what the member runs.
    let run = preflight(&[]);
    run.expect_code(if covered { 0 } else { 1 });
    let json = run.json();
    assert_eq!(json["rules"]["rules"], serde_json::json!([go]), "{json:#}");
    assert_eq!(json["rules"]["source"], "cluster");
    let rules = row(&json, "go rules");
    assert_eq!(rules["status"], "PASS");
    let named = if covered {
        "etcd 3.4 (Go 1.19)"
    } else {
        "etcd 3.5 (Go 1.24)"
    };
    assert!(
        rules["message"].as_str().unwrap().contains(named)
            && rules["message"]
                .as_str()
                .unwrap()
                .contains("the version the cluster's members run"),
        "{rules}"
    );
    let coverage = row(&json, "peer certificate coverage");
    assert_eq!(
        coverage["status"],
        if covered { "PASS" } else { "FAIL" },
        "{coverage}"
    );
    // The verdict names the rules that decided and what the other Go says.
    let other = if covered {
        "etcd 3.5 (Go 1.24) would refuse it"
    } else {
        "etcd 3.4 (Go 1.19) would accept it"
    };
    assert!(
        coverage["message"].as_str().unwrap().contains(other),
        "{coverage}"
    );

    // --etcd-version overrides the cluster, either way.
    for (version, passes) in [("3.4", true), ("3.5", false)] {
        let run = preflight(&["--etcd-version", version]);
        run.expect_code(if passes { 0 } else { 1 });
        let json = run.json();
        assert_eq!(json["rules"]["source"], "given", "{json:#}");
        assert_eq!(
            row(&json, "peer certificate coverage")["status"],
            if passes { "PASS" } else { "FAIL" }
        );
        assert!(row(&json, "go rules")["message"]
            .as_str()
            .unwrap()
            .contains("as asked"));
    }

    // member add refuses by the same rules, before anything is sent to etcd.
    cluster
        .etcd_pki(
            &[
                "member",
                "add",
                "newbie",
                "--peer-urls",
                "https://etcd-peer:2380",
                "--peer-cert",
                &star,
                "--learner",
                "--etcd-version",
                "3.5",
            ],
            false,
        )
        .expect_code(1)
        .stdout_has("go rules")
        .stdout_has("judged by the rules of etcd 3.5 (Go 1.24), as asked")
        .stdout_has("does not cover etcd-peer");
    assert_eq!(cluster.member_list().len(), 1, "nothing was added");

    // scan --cluster judges what the member serves by the same rules, and says which.
    let run = cluster.etcd_pki(&["scan", "--cluster", "-w", "json"], false);
    let json = run.json();
    let served = json["served"].as_array().unwrap();
    assert!(!served.is_empty(), "{json:#}");
    for endpoint in served {
        assert_eq!(
            endpoint["rules"]["rules"],
            serde_json::json!([go]),
            "{endpoint:#}"
        );
        assert_eq!(endpoint["rules"]["source"], "cluster");
    }
    cluster
        .etcd_pki(&["scan", "--cluster"], false)
        .stdout_has(&format!("go rules: hosts judged by the rules of {named}"));
}

/// doctor, asking the cluster, names the rules of the etcd its members run; `--etcd-version`
/// replaces them.
#[test]
fn doctor_names_the_rules_of_the_clusters_etcd() {
    let cluster = Cluster::start_fresh(1);
    let pid = cluster.member("infra0").pid().unwrap().to_string();
    let named = if etcd_version().starts_with("3.4.") {
        "etcd 3.4 (Go 1.19)"
    } else {
        "etcd 3.5 (Go 1.24)"
    };
    let rules_row = |extra: &[&str]| {
        let mut words = vec!["doctor", "-w", "json", "--pid", &pid];
        words.extend_from_slice(extra);
        let run = cluster.etcd_pki(&words, false);
        doctor_rows(&run.stdout)
            .into_iter()
            .find(|(_, check, _)| check == "go rules")
            .unwrap_or_else(|| panic!("no go rules row:\n{}\n{}", run.stdout, run.stderr))
    };
    let (status, _, message) = rules_row(&[]);
    assert_eq!(status, "PASS");
    assert!(
        message.contains(named) && message.contains("the version the cluster's members run"),
        "{message}"
    );
    let (_, _, message) = rules_row(&["--etcd-version", "3.4"]);
    assert!(
        message.contains("etcd 3.4 (Go 1.19), as asked"),
        "{message}"
    );
}

/// Mid-upgrade (one member restarted on 3.5, the others on 3.4), a host must be covered under
/// both Gos: the `*` certificate fails, and the verdict says 3.4 alone would accept it. A
/// member that does not answer is named, and the others still decide.
#[test]
fn a_mixed_cluster_is_judged_by_both_gos() {
    if !etcd_version().starts_with("3.4.") {
        eprintln!("skipped: it runs when the suite runs on etcd 3.4 (a member is moved to 3.5)");
        return;
    }
    let etcd35 = repo_root().join("target/etcd-3.5/root/usr/bin/etcd");
    if !etcd35.exists() {
        eprintln!("skipped: `make etcd35` has not unpacked etcd 3.5 into target/etcd-3.5");
        return;
    }
    assert_ne!(etcd35, etcd_binaries().etcd);
    let mut cluster = Cluster::start_fresh(3);
    cluster.restart_member_on("infra2", &etcd35);
    cluster.wait_healthy(Duration::from_secs(60));
    let dir = tempfile::tempdir().unwrap();
    let star = star_certificate(&cluster, dir.path());
    let preflight = |cluster: &Cluster| {
        cluster
            .etcd_pki(
                &[
                    "preflight",
                    "newbie",
                    "--peer-urls",
                    "https://etcd-peer:2380",
                    "--peer-cert",
                    &star,
                    "-w",
                    "json",
                ],
                false,
            )
            .json()
    };
    let json = preflight(&cluster);
    assert_eq!(
        json["rules"]["rules"],
        serde_json::json!(["go1.19", "go1.24"]),
        "{json:#}"
    );
    let rules = row(&json, "go rules");
    assert_eq!(rules["status"], "PASS", "{rules}");
    assert!(
        rules["message"]
            .as_str()
            .unwrap()
            .contains("etcd 3.4 (Go 1.19) and etcd 3.5 (Go 1.24)"),
        "{rules}"
    );
    let coverage = row(&json, "peer certificate coverage");
    assert_eq!(coverage["status"], "FAIL", "{coverage}");
    assert!(
        coverage["message"]
            .as_str()
            .unwrap()
            .contains("etcd 3.4 (Go 1.19) would accept it"),
        "{coverage}"
    );

    // upgrade plan: the versions running (and the target, 3.5) decide its served-certificate
    // verdicts.
    let plan = cluster.etcd_pki(
        &[
            "upgrade",
            "plan",
            "--out",
            &dir.path().display().to_string(),
            "-w",
            "json",
        ],
        false,
    );
    assert!(
        plan.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["check"] == "go rules"
                && r["message"]
                    .as_str()
                    .unwrap()
                    .contains("etcd 3.4 (Go 1.19) and etcd 3.5 (Go 1.24)")),
        "{}",
        plan.stdout
    );

    // A member down: named, and the others' versions still decide.
    cluster.kill_member("infra1");
    cluster.wait_answering(Duration::from_secs(30));
    let json = preflight(&cluster);
    assert_eq!(
        json["rules"]["rules"],
        serde_json::json!(["go1.19", "go1.24"])
    );
    let rules = row(&json, "go rules");
    assert_eq!(rules["status"], "WARN", "{rules}");
    assert!(
        rules["message"]
            .as_str()
            .unwrap()
            .contains("infra1 did not report its etcd version"),
        "{rules}"
    );
}

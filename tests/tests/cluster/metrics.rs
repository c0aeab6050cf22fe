//! `-w prometheus` against a real cluster: `preflight` reports the cluster's voting figures and
//! what each member serves on its peer port, `doctor` each member's coverage and files, all
//! accepted by `promtool check metrics` and equal to what etcd and the files say.

use std::path::Path;

use etcd_pki_tests::cluster::{allocate_ips, Cluster};
use etcd_pki_tests::{metric_sample as sample, openssl_not_after, promtool_accepts};

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn preflight_and_doctor_metrics_describe_the_live_cluster() {
    let ips = allocate_ips(4);
    let mut cluster = Cluster::start_fresh_on(&ips[..3], &ips[..3], &ips[3..]);
    let new_peer = cluster.peer_url(ips[3]);
    let pki = cluster.pki.clone();
    let peer_not_after = openssl_not_after(&pki.peer);

    // preflight for a fourth member the shared certificates do not cover.
    let preflight = |extra: &[&str]| -> Vec<String> {
        [
            "preflight",
            "infra3",
            "--peer-urls",
            &new_peer,
            "-w",
            "prometheus",
        ]
        .iter()
        .chain(extra)
        .map(|w| w.to_string())
        .collect()
    };
    let textfile = cluster.root().join("preflight.prom");
    let run = cluster.etcd_pki(&refs(&preflight(&["--textfile", &s(&textfile)])), true);
    run.expect_code(1);
    let text = std::fs::read_to_string(&textfile).unwrap();
    promtool_accepts(&text);
    assert_eq!(sample(&text, "etcd_pki_cluster_voters "), 3.0);
    assert_eq!(sample(&text, "etcd_pki_cluster_healthy_voters "), 3.0);
    assert_eq!(sample(&text, "etcd_pki_cluster_learners "), 0.0);
    assert_eq!(sample(&text, "etcd_pki_cluster_quorum "), 2.0);
    assert_eq!(sample(&text, "etcd_pki_cluster_fault_tolerance "), 1.0);
    assert_eq!(
        sample(&text, "etcd_pki_preflight_ready{member=\"infra3\"}"),
        0.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                "etcd_pki_coverage{{member=\"infra3\",role=\"peer\",host=\"{}\"}}",
                ips[3]
            )
        ),
        0.0
    );
    for (i, ip) in ips[..3].iter().enumerate() {
        // What each member serves is members.pem, as the file says.
        let served = sample(
            &text,
            &format!(
                "etcd_pki_served_cert_not_after{{member=\"infra{i}\",url=\"{}\"}}",
                cluster.peer_url(*ip)
            ),
        );
        assert_eq!(served as i64, peer_not_after);
    }
    assert!(text
        .contains("etcd_pki_run_success{command=\"preflight\",textfile=\"preflight.prom\"} 1\n"));

    // doctor on a member's own flags (its process): its certificates cover it.
    let pid = cluster.members[0].pid().unwrap().to_string();
    let run = cluster.etcd_pki(&["doctor", "--pid", &pid, "-w", "prometheus"], false);
    run.expect_code(0);
    let text = &run.stdout;
    promtool_accepts(text);
    assert_eq!(
        sample(
            text,
            &format!(
                "etcd_pki_coverage{{member=\"infra0\",role=\"peer\",host=\"{}\"}}",
                ips[0]
            )
        ),
        1.0
    );
    assert_eq!(
        sample(
            text,
            "etcd_pki_key_matches{member=\"infra0\",role=\"peer\"}"
        ),
        1.0
    );
    // Expiry series are scan's: doctor's judgement of them is in its check status.
    assert!(!text.contains("x509_cert_"));
    assert!(text.contains("check=\"validity\""));

    // With a member down, preflight's figures say so, and fault tolerance is 0.
    cluster.kill_member("infra2");
    cluster.wait_answering(std::time::Duration::from_secs(30));
    let run = cluster.etcd_pki(&refs(&preflight(&[])), true);
    run.expect_code(1);
    assert_eq!(sample(&run.stdout, "etcd_pki_cluster_healthy_voters "), 2.0);
    assert_eq!(
        sample(&run.stdout, "etcd_pki_cluster_fault_tolerance "),
        0.0
    );
}

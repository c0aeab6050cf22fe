//! Remote probing of real members: `scan --cluster` fetches every client and peer port's chain
//! from the member list and judges it, `inspect https://HOST:PORT` one endpoint's (mutual TLS
//! included), a member that accepts connections and never answers costs its own timeout, and
//! ETCDCTL_ENDPOINTS alone never makes `scan` probe.

use std::path::Path;
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{allocate_ips, Cluster};
use etcd_pki_tests::{etcd_pki, metric_sample as sample, openssl_not_after, promtool_accepts};

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn scan_cluster_and_inspect_judge_what_every_port_serves() {
    let ips = allocate_ips(3);
    let cluster = Cluster::start_fresh_on(&ips, &ips, &[]);
    let pki = &cluster.pki;

    // Every member's client port (server.pem) and peer port (members.pem), from member list.
    let run = cluster.etcd_pki(&["scan", "--cluster", "-w", "json"], false);
    run.expect_code(0);
    let json = run.json();
    let served = json["served"].as_array().unwrap();
    assert_eq!(served.len(), 6, "{json:#}");
    for (i, ip) in ips.iter().enumerate() {
        for (port, url, file) in [
            ("client", cluster.client_url(*ip), &pki.server),
            ("peer", cluster.peer_url(*ip), &pki.peer),
        ] {
            let row = served
                .iter()
                .find(|r| r["url"] == url.as_str())
                .unwrap_or_else(|| panic!("{url} not probed: {json:#}"));
            assert_eq!(row["member"], format!("infra{i}"));
            assert_eq!(row["port"], port);
            assert_eq!(row["status"], "PASS", "{row:#}");
            let leaf = &row["certificates"][0];
            // What it serves is the file it was started with.
            let text = leaf["not_after"].as_str().unwrap();
            let out = std::process::Command::new("date")
                .args(["-u", "-d", text, "+%s"])
                .output()
                .unwrap();
            let served_at: i64 = String::from_utf8(out.stdout)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert_eq!(served_at, openssl_not_after(file));
        }
    }

    // The same as metrics: each endpoint answered, covers its host.
    let run = cluster.etcd_pki(&["scan", "--cluster", "-w", "prometheus"], false);
    run.expect_code(0);
    promtool_accepts(&run.stdout);
    assert_eq!(sample(&run.stdout, "etcd_pki_cluster_voters "), 3.0);
    assert_eq!(
        sample(&run.stdout, "etcd_pki_cluster_fault_tolerance "),
        1.0
    );
    let url = cluster.peer_url(ips[1]);
    assert_eq!(
        sample(
            &run.stdout,
            &format!("etcd_pki_probe_success{{member=\"infra1\",url=\"{url}\"}}")
        ),
        1.0
    );
    assert_eq!(
        sample(
            &run.stdout,
            &format!(
                "etcd_pki_coverage{{member=\"infra1\",role=\"peer\",host=\"{}\",url=\"{url}\"}}",
                ips[1]
            )
        ),
        1.0
    );

    // inspect one peer port, presenting the peer certificate (the port requires one).
    let run = etcd_pki([
        "inspect",
        &cluster.peer_url(ips[0]),
        "--cacert",
        &s(&pki.ca),
        "--cert",
        &s(&pki.peer),
        "--key",
        &s(&pki.peer_key),
    ]);
    run.expect_code(0)
        .stdout_has("CN=etcd-peer")
        .stdout_has(&format!("PASS  coverage: covers {}", ips[0]))
        .stdout_has("PASS  chain: chains to the CA");

    // Judged against another CA, the chain fails: exit 1, saying so.
    let run = etcd_pki([
        "inspect",
        &cluster.client_url(ips[0]),
        "--cacert",
        etcd_pki_tests::fx("openssl/ec-ca.crt"),
    ]);
    run.expect_code(1).stdout_has("FAIL  chain");
}

#[test]
fn a_hung_endpoint_costs_its_own_timeout_and_env_alone_never_probes() {
    let ips = allocate_ips(1);
    // Accepts connections and never answers: the kernel completes the TCP handshake from the
    // backlog of a listener that never calls accept.
    let hung = std::net::TcpListener::bind((ips[0], 0)).unwrap();
    let hung_url = format!("https://{}", hung.local_addr().unwrap());
    let started = Instant::now();
    let run = etcd_pki([
        "scan",
        "--probe",
        &hung_url,
        "--command-timeout",
        "2s",
        "-w",
        "json",
    ]);
    let took = started.elapsed();
    run.expect_code(1);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let row = &run.json()["served"][0];
    assert_eq!(row["status"], "FAIL");
    assert!(
        row["error"]
            .as_str()
            .unwrap()
            .contains("no answer within 2.0s"),
        "{row:#}"
    );

    // ETCDCTL_ENDPOINTS set, no --cluster: a scan of a directory probes nothing.
    let out = std::process::Command::new(etcd_pki_tests::bin())
        .args(["scan", "-w", "json", etcd_pki_tests::fx("cfssl")])
        .env("ETCDCTL_ENDPOINTS", &hung_url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("served").is_none(), "{json:#}");
    drop(hung);
}

//! deploy/ against a real cluster: the Kubernetes CronJob's script (probe every member's ports,
//! push the metrics) run as written against a real Pushgateway (Debian's
//! prometheus-pushgateway, started here on loopback), and the systemd rotate service's command
//! line with the settings of deploy/systemd/etcd-pki.env pointed at the cluster.

use std::path::Path;

use etcd_pki_tests::cluster::{allocate_ips, Cluster};
use etcd_pki_tests::daemon::Daemon;
use etcd_pki_tests::deploy::{deploy_file, run_line, unit_values, yaml};

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn the_cronjob_pushes_what_every_member_serves_and_the_rotate_unit_runs() {
    let ips = allocate_ips(3);
    let cluster = Cluster::start_fresh_on(&ips, &ips, &[]);
    let pki = &cluster.pki;
    let gateway = Daemon::start("prometheus-pushgateway", &[]);
    gateway.get("/-/ready");

    // The CronJob's container: its environment as written, the cluster's connection and the
    // Pushgateway in place of the examples, its script as written.
    let doc = yaml(&deploy_file("kubernetes/cronjob.yaml"));
    let container = &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let mut env: Vec<(String, String)> = container["env"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ours = [
        ("ETCDCTL_ENDPOINTS", cluster.endpoints()),
        ("ETCDCTL_CACERT", s(&pki.ca)),
        ("ETCDCTL_CERT", s(&pki.client)),
        ("ETCDCTL_KEY", s(&pki.client_key)),
        ("PUSHGATEWAY_URL", format!("http://{}", gateway.address)),
    ];
    for (k, v) in &ours {
        let slot = env.iter_mut().find(|(name, _)| name == k).unwrap();
        slot.1 = v.clone();
    }
    let script = container["args"][0].as_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = run_line(script, &[("/tmp", tmp.path())], &env_refs);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let metrics = gateway.get("/metrics");
    for (i, ip) in ips.iter().enumerate() {
        for url in [cluster.client_url(*ip), cluster.peer_url(*ip)] {
            let series = format!(
                "etcd_pki_probe_success{{cluster=\"main\",instance=\"\",job=\"etcd-pki-probe\",member=\"infra{i}\",url=\"{url}\"}} 1"
            );
            assert!(metrics.contains(&series), "{series} not pushed:\n{metrics}");
        }
    }
    assert!(metrics.contains("etcd_pki_run_success{cluster=\"main\",command=\"scan\""));
    // The cluster's voting figures, for the fault-tolerance alert.
    assert!(metrics.contains("etcd_pki_cluster_fault_tolerance{cluster=\"main\",instance=\"\",job=\"etcd-pki-probe\"} 1"), "{metrics}");

    // The rotate service with etcd-pki.env's settings pointed at this cluster: nothing is due
    // (the certificates have years left), so it renews nothing and exits 0.
    let line = &unit_values(&deploy_file("systemd/etcd-pki-rotate.service"), "ExecStart")[0];
    let members_dir = pki.ca.parent().unwrap();
    let ca_key = s(pki.ca_key.as_ref().unwrap());
    let members = s(members_dir);
    let settings = [
        ("ETCDCTL_ENDPOINTS", cluster.endpoints()),
        ("ETCDCTL_CACERT", s(&pki.ca)),
        ("ETCDCTL_CERT", s(&pki.client)),
        ("ETCDCTL_KEY", s(&pki.client_key)),
        ("MEMBERS_DIR", members),
        ("CA_KEY", ca_key),
    ];
    // Every variable the unit's command uses is one etcd-pki.env sets.
    let env_file = std::fs::read_to_string(deploy_file("systemd/etcd-pki.env")).unwrap();
    for (k, _) in &settings {
        assert!(
            env_file.contains(&format!("\n{k}=")),
            "{k} missing from etcd-pki.env"
        );
    }
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = run_line(line, &[], &settings);
    assert_eq!(run.code, 0, "{line}\n{}{}", run.stdout, run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("rotate -w json: {e}\n{}", run.stdout));
    assert!(json.is_object(), "{json:#}");
}

//! deploy/systemd and deploy/kubernetes' DaemonSet: every unit passes `systemd-analyze verify`,
//! the manifests parse and mount no private key, and the exact etcd-pki command lines they
//! contain run on the fixtures (kubeadm's layout, cfssl's) with the metrics they promise.
//! deploy/kubernetes/cronjob.yaml runs against a real cluster (tests/tests/cluster/deploy.rs).

use std::fs;
use std::path::Path;
use std::process::Command;

use etcd_pki_tests::daemon::Daemon;
use etcd_pki_tests::deploy::{deploy_file, etcd_pki_lines, run_line, unit_values, yaml};
use etcd_pki_tests::{fixture, metric_sample as sample, promtool_accepts};

#[test]
fn the_systemd_units_verify() {
    let dir = tempfile::tempdir().unwrap();
    let units = [
        "etcd-pki-rotate.service",
        "etcd-pki-rotate.timer",
        "etcd-pki-metrics.service",
        "etcd-pki-metrics.timer",
    ];
    // As installed: the binary and the environment file where the units name them.
    for u in units {
        let text = fs::read_to_string(deploy_file(&format!("systemd/{u}")))
            .unwrap()
            .replace(
                "/usr/local/bin/etcd-pki",
                &etcd_pki_tests::bin().display().to_string(),
            )
            .replace(
                "/etc/default/etcd-pki",
                &deploy_file("systemd/etcd-pki.env").display().to_string(),
            );
        fs::write(dir.path().join(u), text).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(units.map(|u| dir.path().join(u)))
        .output()
        .expect("systemd-analyze (Debian package systemd; make test installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
    // Each timer starts its service.
    for t in ["etcd-pki-rotate", "etcd-pki-metrics"] {
        assert!(deploy_file(&format!("systemd/{t}.service")).exists());
        assert!(deploy_file(&format!("systemd/{t}.timer")).exists());
    }
}

#[test]
fn the_metrics_service_writes_what_node_exporter_reads() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    fs::create_dir(&pki).unwrap();
    for f in [
        "ca.pem",
        "server.pem",
        "server-key.pem",
        "members.pem",
        "members-key.pem",
    ] {
        fs::copy(fixture(&format!("cfssl/{f}")), pki.join(f)).unwrap();
    }
    let textfiles = dir.path().join("textfile");
    fs::create_dir(&textfiles).unwrap();
    let lines = unit_values(
        &deploy_file("systemd/etcd-pki-metrics.service"),
        "ExecStart",
    );
    assert_eq!(lines.len(), 2);
    for line in &lines {
        // systemd's "-" prefix (ignore the exit status) is not part of the command.
        let run = run_line(
            line.trim_start_matches('-'),
            &[
                ("/etc/etcd/pki", &pki),
                ("/var/lib/prometheus/node-exporter", &textfiles),
            ],
            &[],
        );
        // doctor finds the etcd members running on this host, if any: whatever it finds, the
        // run is recorded; scan of the fixtures finds nothing wrong.
        assert!(
            [0, 1, 2].contains(&run.code),
            "{line}: exit {}\n{}",
            run.code,
            run.stderr
        );
    }
    let scan = fs::read_to_string(textfiles.join("etcd-pki-scan.prom")).unwrap();
    promtool_accepts(&scan);
    assert_eq!(sample(&scan, "etcd_pki_run_success{command=\"scan\""), 1.0);
    assert_eq!(sample(&scan, "etcd_pki_scan_certificates "), 3.0);
    let doctor = fs::read_to_string(textfiles.join("etcd-pki-doctor.prom")).unwrap();
    promtool_accepts(&doctor);
    assert!(doctor.contains("etcd_pki_run_success{command=\"doctor\""));
}

/// The pod spec of a workload manifest (`spec.template.spec`, or a CronJob's
/// `spec.jobTemplate.spec.template.spec`).
fn pod_spec(doc: &yaml_rust2::Yaml) -> &yaml_rust2::Yaml {
    let spec = &doc["spec"];
    if !spec["jobTemplate"].is_badvalue() {
        &spec["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &spec["template"]["spec"]
    }
}

#[test]
fn the_daemonset_mounts_certificates_only_and_its_commands_run_on_a_kubeadm_node() {
    let doc = yaml(&deploy_file("kubernetes/daemonset.yaml"));
    assert_eq!(doc["kind"].as_str(), Some("DaemonSet"));
    let spec = pod_spec(&doc);
    let container = &spec["containers"][0];
    // Host paths: certificate files read-only, the textfile directory the only writable one;
    // no key, and nothing else of /etc/kubernetes/pki/etcd (where kubeadm keeps ca.key).
    let mut mounts = std::collections::HashMap::new();
    for v in spec["volumes"].as_vec().unwrap() {
        let path = v["hostPath"]["path"].as_str().unwrap().to_string();
        mounts.insert(v["name"].as_str().unwrap().to_string(), path);
    }
    let mut replace: Vec<(String, std::path::PathBuf)> = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    for m in container["volumeMounts"].as_vec().unwrap() {
        let host = &mounts[m["name"].as_str().unwrap()];
        let mount_path = m["mountPath"].as_str().unwrap();
        let read_only = m["readOnly"].as_bool().unwrap_or(false);
        if host.starts_with("/etc/kubernetes/pki") {
            assert!(
                host.ends_with(".crt"),
                "{host}: only certificates are mounted"
            );
            assert!(read_only, "{host} is mounted read-only");
            // This node's file: kubeadm's, from the fixtures.
            let name = Path::new(host).file_name().unwrap().to_str().unwrap();
            let local = node.join("pki/etcd").join(name);
            fs::create_dir_all(local.parent().unwrap()).unwrap();
            fs::copy(fixture(&format!("kubeadm/{name}")), &local).unwrap();
        } else {
            assert!(!read_only, "{host}: the textfile directory is written");
            let local = node.join("textfile");
            fs::create_dir_all(&local).unwrap();
            replace.push((mount_path.to_string(), local));
        }
    }
    replace.push(("/pki/etcd".into(), node.join("pki/etcd")));
    assert!(fs::read_dir(node.join("pki/etcd")).unwrap().count() >= 3);
    // The node's address: the one kubeadm's fixtures were made for.
    let script = container["args"][0].as_str().unwrap();
    let lines = etcd_pki_lines(script);
    assert_eq!(lines.len(), 3, "{script}");
    let replace: Vec<(&str, &Path)> = replace
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_path()))
        .collect();
    for line in &lines {
        let run = run_line(line, &replace, &[("NODE_IP", "127.0.0.41")]);
        assert_eq!(run.code, 0, "{line}\n{}{}", run.stdout, run.stderr);
    }
    let textfile = node.join("textfile");
    let server = fs::read_to_string(textfile.join("etcd-pki-check-server.prom")).unwrap();
    promtool_accepts(&server);
    let file = node.join("pki/etcd/server.crt");
    assert_eq!(
        sample(
            &server,
            &format!(
                "etcd_pki_coverage{{member=\"\",role=\"server\",host=\"127.0.0.41\",filepath=\"{}\"}}",
                file.display()
            )
        ),
        1.0
    );
    let scan = fs::read_to_string(textfile.join("etcd-pki-scan.prom")).unwrap();
    promtool_accepts(&scan);
    assert_eq!(sample(&scan, "etcd_pki_scan_certificates "), 4.0);
    assert!(textfile.join("etcd-pki-check-peer.prom").exists());

    // node_exporter reads the three files of the directory together, without a series twice
    // (which it would drop, saying so only in its log).
    let exporter = Daemon::node_exporter(&textfile);
    let body = exporter.get("/metrics");
    assert!(body.contains("node_textfile_scrape_error 0"), "{body}");
    assert_eq!(body.matches("etcd_pki_run_success{").count(), 3, "{body}");
    let log = exporter.log();
    assert!(
        !log.contains("collected before"),
        "duplicate series:\n{log}"
    );

    // A node whose address the certificates do not cover: the metric says so (exit 1).
    let run = run_line(&lines[2], &replace, &[("NODE_IP", "127.0.0.99")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let peer = fs::read_to_string(textfile.join("etcd-pki-check-peer.prom")).unwrap();
    assert!(peer.contains("host=\"127.0.0.99\""));
    assert!(peer.contains("etcd_pki_coverage{member=\"\",role=\"peer\",host=\"127.0.0.99\""));
}

#[test]
fn the_cronjob_mounts_its_client_secret_read_only() {
    let doc = yaml(&deploy_file("kubernetes/cronjob.yaml"));
    assert_eq!(doc["kind"].as_str(), Some("CronJob"));
    let spec = pod_spec(&doc);
    for v in spec["volumes"].as_vec().unwrap() {
        assert!(v["hostPath"].is_badvalue(), "no host path in a central job");
    }
    let container = &spec["containers"][0];
    let client = container["volumeMounts"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|m| m["name"].as_str() == Some("client"))
        .unwrap();
    assert_eq!(client["readOnly"].as_bool(), Some(true));
    let lines = etcd_pki_lines(container["args"][0].as_str().unwrap());
    assert_eq!(
        lines,
        ["etcd-pki scan --cluster -w prometheus --textfile /tmp/etcd-pki.prom"]
    );
}

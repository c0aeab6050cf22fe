//! `-w prometheus` and `--textfile`: output that Prometheus' own `promtool check metrics`
//! accepts, values that match what openssl reads from the same files, textfiles replaced whole
//! and read by a real node_exporter (Debian's `prometheus-node-exporter`, started here on a
//! loopback address), and the alerting rules in deploy/prometheus unit-tested by `promtool`.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use etcd_pki_tests::daemon::Daemon;
use etcd_pki_tests::{
    etcd_pki, fixture, fx, metric_sample as sample, openssl_leaf_expiring_in, openssl_not_after,
    prometheus_tool, promtool_accepts, repo_root,
};

#[test]
fn scan_metrics_are_valid_and_say_what_openssl_says() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "ca.pem",
        "members.pem",
        "members-key.pem",
        "foreign-members.pem",
    ] {
        fs::copy(fixture(&format!("cfssl/{f}")), dir.path().join(f)).unwrap();
    }
    let soon = openssl_leaf_expiring_in(dir.path(), "soon", 10, "127.0.0.16");
    let run = etcd_pki(["scan", "-w", "prometheus", dir.path().to_str().unwrap()]);
    run.expect_code(1);
    let text = &run.stdout;
    promtool_accepts(text);
    let members = dir.path().join("members.pem");
    let prefix = format!(
        "x509_cert_not_after{{filename=\"members.pem\",filepath=\"{}\",issuer_C=\"CN\",issuer_CN=\"etcd-ca\"",
        members.display()
    );
    assert_eq!(sample(text, &prefix) as i64, openssl_not_after(&members));
    let soon_prefix = format!(
        "x509_cert_not_after{{filename=\"soon.crt\",filepath=\"{}\"",
        soon.display()
    );
    assert_eq!(sample(text, &soon_prefix) as i64, openssl_not_after(&soon));
    assert_eq!(
        sample(text, "x509_cert_expired{filename=\"members.pem\""),
        0.0
    );
    // The problems a scan finds, by kind, and the counts.
    assert!(text.contains("etcd_pki_cert_problem{filepath="));
    assert!(text.contains("problem=\"expires_soon\"} 1\n"));
    assert!(text.contains("problem=\"not_chained\"} 1\n"));
    assert_eq!(sample(text, "etcd_pki_scan_certificates "), 4.0);
    assert_eq!(sample(text, "etcd_pki_run_success{command=\"scan\"}"), 1.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let ran = sample(
        text,
        "etcd_pki_last_run_timestamp_seconds{command=\"scan\"}",
    );
    assert!((now - ran).abs() < 60.0, "{ran} vs {now}");
    // Each family once, as the format requires.
    assert_eq!(text.matches("# TYPE x509_cert_not_after gauge").count(), 1);
}

#[test]
fn check_metrics_carry_etcds_verdicts_and_the_file() {
    let run = etcd_pki([
        "check",
        "--cert",
        fx("cfssl/members.pem"),
        "--key",
        fx("cfssl/client-key.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
        "--role",
        "peer",
        "--host",
        "127.0.0.11",
        "--host",
        "127.0.0.14",
        "-w",
        "prometheus",
    ]);
    run.expect_code(1);
    let text = &run.stdout;
    promtool_accepts(text);
    let file = fx("cfssl/members.pem");
    assert_eq!(
        sample(
            text,
            &format!(
                "etcd_pki_coverage{{member=\"\",role=\"peer\",host=\"127.0.0.14\",filepath=\"{file}\"}}"
            )
        ),
        0.0
    );
    assert_eq!(
        sample(
            text,
            &format!(
                "etcd_pki_coverage{{member=\"\",role=\"peer\",host=\"127.0.0.11\",filepath=\"{file}\"}}"
            )
        ),
        1.0
    );
    assert_eq!(
        sample(
            text,
            &format!("etcd_pki_key_matches{{member=\"\",role=\"peer\",filepath=\"{file}\"}}")
        ),
        0.0
    );
    assert_eq!(
        sample(
            text,
            &format!("etcd_pki_chain_valid{{member=\"\",role=\"peer\",filepath=\"{file}\"}}")
        ),
        1.0
    );
    assert!(text.contains(&format!(
        "etcd_pki_check_status{{command=\"check\",member=\"\",role=\"peer\",check=\"coverage\",target=\"127.0.0.14\",filepath=\"{file}\"}} 2\n"
    )));
    // Expiry series come from scan only: a scan and a check of one file in one textfile
    // directory must not give node_exporter a series twice.
    assert!(!text.contains("x509_cert_"));
}

#[test]
fn textfiles_are_replaced_whole_and_record_failed_runs() {
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("etcd-pki.prom");
    fs::write(&prom, "old contents\n").unwrap();
    let args = |textfile: &Path| {
        vec![
            "check".to_string(),
            "--cert".into(),
            fx("cfssl/server.pem").into(),
            "-w".into(),
            "prometheus".into(),
            "--textfile".into(),
            textfile.display().to_string(),
        ]
    };
    let run = etcd_pki(args(&prom));
    run.expect_code(0);
    assert_eq!(run.stdout, "", "nothing is printed with --textfile");
    let text = fs::read_to_string(&prom).unwrap();
    promtool_accepts(&text);
    assert!(text.contains("etcd_pki_run_success{command=\"check\",textfile=\"etcd-pki.prom\"} 1\n"));
    // Only the file itself is left: no temporary, no backup.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["etcd-pki.prom"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&prom).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "node_exporter's user must read it");
    }

    // A run that fails (a certificate file that is not there: exit 2) still replaces the file,
    // saying so, so that an alert on etcd_pki_run_success fires.
    let mut failing = args(&prom);
    failing[2] = dir.path().join("missing.pem").display().to_string();
    etcd_pki(&failing).expect_code(2);
    let text = fs::read_to_string(&prom).unwrap();
    promtool_accepts(&text);
    assert!(text.contains("etcd_pki_run_success{command=\"check\",textfile=\"etcd-pki.prom\"} 0\n"));
    assert!(!text.contains("x509_cert_not_after"));

    // --textfile without -w prometheus is bad usage; a FIFO is refused at once, unopened.
    etcd_pki(["scan", fx("cfssl"), "--textfile", prom.to_str().unwrap()])
        .expect_code(2)
        .stderr_has("add -w prometheus");
    let fifo = dir.path().join("fifo.prom");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    etcd_pki(args(&fifo)).expect_code(2);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn node_exporter_reads_the_textfiles() {
    let dir = tempfile::tempdir().unwrap();
    let textfiles = dir.path().join("textfile");
    fs::create_dir(&textfiles).unwrap();
    etcd_pki([
        "scan",
        fx("cfssl"),
        "-w",
        "prometheus",
        "--textfile",
        textfiles.join("etcd-pki-scan.prom").to_str().unwrap(),
    ])
    .expect_code(0);
    etcd_pki([
        "check",
        "--cert",
        fx("cfssl/server.pem"),
        "--cacert",
        fx("cfssl/ca.pem"),
        "--role",
        "server",
        "--host",
        "127.0.0.11",
        "-w",
        "prometheus",
        "--textfile",
        textfiles.join("etcd-pki-check.prom").to_str().unwrap(),
    ])
    .expect_code(0);
    let exporter = Daemon::node_exporter(&textfiles);
    let body = exporter.get("/metrics");
    assert!(
        body.contains("node_textfile_scrape_error 0"),
        "node_exporter reported an error reading the textfiles:\n{body}"
    );
    let server = fx("cfssl/server.pem");
    assert!(body.contains(&format!("filepath=\"{server}\"")));
    assert!(body.contains("x509_cert_not_after{"));
    assert!(
        body.contains("etcd_pki_run_success{command=\"scan\",textfile=\"etcd-pki-scan.prom\"} 1")
    );
    assert!(
        body.contains("etcd_pki_run_success{command=\"check\",textfile=\"etcd-pki-check.prom\"} 1")
    );
    let log = exporter.log();
    assert!(
        !log.contains("collected before"),
        "node_exporter dropped duplicate series:\n{log}"
    );
    assert!(body.contains(&format!(
        "etcd_pki_coverage{{filepath=\"{server}\",host=\"127.0.0.11\",member=\"\",role=\"server\"}} 1"
    )));
    // Both files were read whole (node_exporter exports the mtime of each file it read).
    for name in ["etcd-pki-scan.prom", "etcd-pki-check.prom"] {
        let file = textfiles.join(name);
        assert!(
            body.contains(&format!(
                "node_textfile_mtime_seconds{{file=\"{}\"}}",
                file.display()
            )),
            "{name} not read:\n{body}"
        );
    }
}

#[test]
fn the_alerting_rules_pass_their_promtool_unit_tests() {
    let rules = repo_root().join("deploy/prometheus");
    for (args, file) in [
        (["check", "rules"], "etcd-pki.rules.yml"),
        (["test", "rules"], "etcd-pki.rules.test.yml"),
    ] {
        let out = Command::new(prometheus_tool("promtool"))
            .args(args)
            .arg(file)
            .current_dir(&rules)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {} {file}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

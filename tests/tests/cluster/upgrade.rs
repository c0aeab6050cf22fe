//! `etcd-pki upgrade` with real binaries: a 3-member TLS cluster started on Debian's etcd 3.4
//! (bookworm) is upgraded member by member to trixie's 3.5 (unpacked by `make test` into
//! target/etcd-3.5) through the restart hook, with a writer putting keys throughout: every
//! acknowledged write is readable at the end, every member reports 3.5 and the cluster version
//! becomes 3.5. The plan refuses while a member is down, and a killed upgrade resumes.
//!
//! It needs the installed etcd to be 3.4 and the 3.5 binaries: under the suite's run on 3.5
//! (`TEST_ETCD_BIN_DIR`), there is nothing to upgrade from, and it says so and returns.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{allocate_ips, etcd_binaries, Cluster};
use etcd_pki_tests::repo_root;
use etcd_pki_tests::writer::start_writer;

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// trixie's etcd 3.5, when the suite runs on 3.4 and `make etcd35` unpacked it.
fn etcd35() -> Option<PathBuf> {
    let old = std::process::Command::new(&etcd_binaries().etcd)
        .arg("--version")
        .output()
        .ok()?;
    if !String::from_utf8_lossy(&old.stdout).contains("etcd Version: 3.4.") {
        return None;
    }
    let new = repo_root().join("target/etcd-3.5/root/usr/bin/etcd");
    new.exists().then_some(new)
}

#[test]
fn a_34_cluster_is_upgraded_to_35_member_by_member_under_writes() {
    let Some(etcd35) = etcd35() else {
        eprintln!("upgrade test skipped: it runs when the suite runs on etcd 3.4 with target/etcd-3.5 unpacked");
        return;
    };
    let ips = allocate_ips(3);
    let mut cluster = Cluster::start_fresh_on(&ips, &ips, &[]);
    let work = tempfile::tempdir().unwrap();
    let hook = work.path().join("hook");
    std::fs::create_dir(&hook).unwrap();
    let out = work.path().join("snapshots");
    std::fs::create_dir(&out).unwrap();

    // A member down: the plan refuses (exit 1), apply too, and nothing is changed.
    cluster.kill_member("infra2");
    cluster.wait_answering(Duration::from_secs(30));
    let plan = cluster.etcd_pki(&["upgrade", "plan", "--out", &s(&out)], false);
    plan.expect_code(1)
        .stdout_has("FAIL")
        .stdout_has("apply must not proceed");
    cluster.restart_member("infra2");
    cluster.wait_healthy(Duration::from_secs(60));

    let plan = cluster.etcd_pki(&["upgrade", "plan", "--out", &s(&out), "-w", "json"], false);
    plan.expect_code(0);
    let json = plan.json();
    assert_eq!(json["to"], "3.5", "{json:#}");
    assert_eq!(json["may_proceed"], true);
    assert!(json["cluster_version"].as_str().unwrap().starts_with("3.4"));

    // The hook asks the test to restart the member on the 3.5 binary.
    let restart_cmd = format!(
        "echo {{name}} > {h}/req.tmp && mv {h}/req.tmp {h}/req && while [ ! -e {h}/done ]; do sleep 0.05; done; rm -f {h}/done",
        h = s(&hook)
    );
    let args = [
        "upgrade",
        "apply",
        "--out",
        &s(&out),
        "--restart-cmd",
        &restart_cmd,
        "--timeout",
        "90s",
    ];
    let writer = start_writer(&cluster, "upgrade");
    // First run: killed after the first member is upgraded.
    let mut upgraded = Vec::new();
    let mut run = cluster.etcd_pki_spawn(&args);
    let started = Instant::now();
    let (req, done) = (hook.join("req"), hook.join("done"));
    let mut killed = false;
    let finished = loop {
        if let Ok(name) = std::fs::read_to_string(&req) {
            std::fs::remove_file(&req).unwrap();
            let name = name.trim().to_string();
            cluster.restart_member_on(&name, &etcd35);
            upgraded.push(name);
            std::fs::write(&done, "").unwrap();
        }
        if !killed && run.stdout().contains("is back on 3.5") {
            let _ = run.kill();
            killed = true;
            run = cluster.etcd_pki_spawn(&args);
        }
        if run.exited() {
            break run.finish();
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the upgrade did not finish:\n{}",
            run.stdout()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    finished
        .expect_code(0)
        .stdout_has("already runs 3.5")
        .stdout_has("snapshot saved")
        .stdout_has("done: every member runs 3.5; cluster version 3.5");
    assert!(killed, "the first run was killed after one member");
    assert_eq!(upgraded.len(), 3, "{upgraded:?}");
    // The leader went last, after handing leadership over.
    assert!(
        finished.stdout.contains("leadership moved from"),
        "{}",
        finished.stdout
    );
    let log = writer.finish();
    assert!(log.acked.len() > 20, "too few writes: {}", log.acked.len());
    assert!(log.bad_reads.is_empty(), "{:?}", log.bad_reads);
    for (k, v) in &log.acked {
        let got = cluster.etcdctl(&["get", k, "--print-value-only"]);
        assert_eq!(got.stdout.trim(), v, "{k} lost");
    }
    let status = cluster.etcdctl(&["endpoint", "status", "--cluster", "-w", "json"]);
    assert_eq!(
        status.stdout.matches("\"version\":\"3.5.").count(),
        3,
        "{}",
        status.stdout
    );
    // A snapshot was taken before the first restart.
    let snaps: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(!snaps.is_empty());
    // Planning again without --to: the upgrade recorded in --out is finished, not followed by
    // the next minor.
    cluster
        .etcd_pki(&["upgrade", "plan", "--out", &s(&out)], false)
        .expect_code(0)
        .stdout_has("every member already runs 3.5");
}

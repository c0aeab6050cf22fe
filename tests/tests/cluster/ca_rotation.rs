//! `etcd-pki ca rotate` on a real three-member TLS cluster, with the harness as the restart
//! hook (the hook asks, the test restarts the member as `systemctl restart etcd` would):
//!
//! - a full rotation, killed four times (mid phase 1, mid phase 2, at the start of phase 3, mid
//!   phase 3) and resumed each time, while a background etcdctl writes and reads keys over TLS
//!   with a client certificate and CA file the rotation switches: every acknowledged write is
//!   readable at the end, no failure lasts longer than a restart's election, the members trust
//!   and serve the new CA alone, and the old CA's client certificate is refused;
//! - `plan` changes nothing; `apply` with a member down changes nothing and exits 1;
//! - a rollback from phase 2 brings back the old CA alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use etcd_pki_tests::cluster::{etcdctl_command, kubeadm_members, Cluster};
use etcd_pki_tests::writer::{admin_etcdctl, start_writer};
use etcd_pki_tests::{snapshot, Run};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A cluster n0-n2 in the kubeadm layout made by init, each member with its own files (its CA
/// key among them, as on kubeadm's etcd nodes), a members directory of links to them, and a
/// directory for the restart hook's requests.
struct Rig {
    cluster: Cluster,
    dir: tempfile::TempDir,
    members: PathBuf,
    hook: PathBuf,
}

impl Rig {
    fn new() -> Rig {
        let (cluster, dir, members) = kubeadm_members(&[]);
        let hook = dir.path().join("hook");
        std::fs::create_dir(&hook).unwrap();
        std::fs::create_dir(dir.path().join("new-ca")).unwrap();
        Rig {
            cluster,
            dir,
            members,
            hook,
        }
    }

    fn new_ca(&self) -> PathBuf {
        self.dir.path().join("new-ca/ca.crt")
    }

    fn new_ca_key(&self) -> PathBuf {
        self.dir.path().join("new-ca/ca.key")
    }

    /// `ca rotate ACTION` with the members, the new CA, the admin's client files and the hook.
    fn args(&self, action: &str, extra: &[&str]) -> Vec<String> {
        let pki = &self.cluster.pki;
        let hook = s(&self.hook);
        let mut args: Vec<String> = [
            "ca",
            "rotate",
            action,
            "--members-dir",
            &s(&self.members),
            "--new-ca",
            &s(&self.new_ca()),
            "--new-ca-key",
            &s(&self.new_ca_key()),
            "--client-ca-file",
            &s(&pki.ca),
            "--client-cert",
            &format!("{}:{}", s(&pki.client), s(&pki.client_key)),
            "--restart-cmd",
            &format!(
                "echo {{name}} > {hook}/req.tmp && mv {hook}/req.tmp {hook}/req && while [ ! -e {hook}/done ]; do sleep 0.05; done; rm -f {hook}/done"
            ),
            "--timeout",
            "60s",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    }

    /// Runs the tool, restarting members when its hook asks; killed at `interrupt`.
    fn drive(&mut self, args: &[String], interrupt: Interrupt) -> (Run, usize) {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut tool = self.cluster.etcd_pki_spawn(&words);
        let (req, done) = (self.hook.join("req"), self.hook.join("done"));
        let started = Instant::now();
        let mut restarts = 0;
        loop {
            if let Ok(name) = std::fs::read_to_string(&req) {
                std::fs::remove_file(&req).unwrap();
                restarts += 1;
                if interrupt == Interrupt::AtRestart(restarts) {
                    let run = tool.kill();
                    self.release_orphan_hook();
                    return (run, restarts);
                }
                self.cluster.restart_member(name.trim());
                std::fs::write(&done, "").unwrap();
            }
            if let Interrupt::AtOutput(fragment) = interrupt {
                if tool.stdout().contains(fragment) {
                    return (tool.kill(), restarts);
                }
            }
            if tool.exited() {
                return (tool.finish(), restarts);
            }
            if started.elapsed() > Duration::from_secs(600) {
                let run = tool.kill();
                panic!(
                    "ca rotate ran for 10 minutes\n{}\n{}\n{}",
                    run.stdout,
                    run.stderr,
                    self.cluster.logs_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The hook of a killed tool still waits for its answer: give it one, so it ends.
    fn release_orphan_hook(&self) {
        let done = self.hook.join("done");
        std::fs::write(&done, "").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while done.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&done);
    }

    /// `ca rotate status -w json`.
    fn status(&self) -> serde_json::Value {
        let args = self.args("status", &["-w", "json"]);
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = self.cluster.etcd_pki(&words, false);
        run.expect_code(0);
        run.json()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    Never,
    AtRestart(usize),
    AtOutput(&'static str),
}

fn etcdctl(cluster: &Cluster, args: &[&str]) -> std::process::Output {
    admin_etcdctl(&cluster.endpoints(), &cluster.pki, args)
}

/// The certificates in a PEM file, as DER in hex (openssl's view, not the tool's).
fn fingerprints(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end = rest[start..].find("-----END CERTIFICATE-----").unwrap() + start + 25;
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("c.pem");
        std::fs::write(&one, &rest[start..end]).unwrap();
        out.push(
            etcd_pki_tests::tool(
                "openssl",
                &["x509", "-noout", "-fingerprint", "-sha256", "-in", &s(&one)],
                Path::new("/"),
            )
            .trim()
            .to_string(),
        );
        rest = &rest[end..];
    }
    out
}

#[test]
fn the_ca_is_replaced_through_three_phases_killed_and_resumed_with_no_lost_write() {
    let mut rig = Rig::new();
    let old_ca = fingerprints(&rig.cluster.member("n0").pki.ca);
    assert_eq!(old_ca.len(), 1);
    let writer = start_writer(&rig.cluster, "ca-rotation");
    std::thread::sleep(Duration::from_secs(1));

    // Killed at its second restart of phase 1: one member trusts both CAs, the others not yet.
    let apply = rig.args("apply", &[]);
    let (run, restarts) = rig.drive(&apply, Interrupt::AtRestart(2));
    assert_eq!(restarts, 2, "{}", run.stdout);
    assert!(run.stdout.contains("created the new CA"), "{}", run.stdout);
    let status = rig.status();
    assert_eq!(status["phases_done"], 0, "{status:#}");
    let phases: Vec<&str> = status["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases.iter().filter(|p| **p == "trusts_both").count(),
        1,
        "{phases:?}"
    );
    assert_eq!(
        phases.iter().filter(|p| **p == "trust_written").count(),
        2,
        "{phases:?}"
    );

    // Resumed: the restarted member is left alone; killed once phase 2 reissued a directory.
    let (run, restarts) = rig.drive(&apply, Interrupt::AtOutput("reissued "));
    assert!(
        run.stdout.contains("already uses its trust files"),
        "{}",
        run.stdout
    );
    assert_eq!(
        restarts, 2,
        "the two members not yet restarted: {}",
        run.stdout
    );

    // Resumed: phase 2 finishes; killed as phase 3 begins.
    let (run, restarts) = rig.drive(&apply, Interrupt::AtOutput("== phase 3"));
    assert_eq!(restarts, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("serves certificates of the new CA on every port"),
        "{}",
        run.stdout
    );
    assert_eq!(rig.status()["phases_done"], 2);

    // Resumed: killed at phase 3's second restart.
    let (run, _) = rig.drive(&apply, Interrupt::AtRestart(2));
    assert!(
        run.stdout.contains("WARNING: from now on"),
        "{}",
        run.stdout
    );

    // Resumed to the end.
    let (run, restarts) = rig.drive(&apply, Interrupt::Never);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run
        .stdout
        .contains("done: every member trusts and serves the new CA alone"));
    assert_eq!(restarts, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("refuses one of the old CA"),
        "{}",
        run.stdout
    );

    let log = writer.finish();

    // Every member's trust file holds the new CA alone; its CA key is the new one.
    let new_ca = fingerprints(&rig.new_ca());
    for i in 0..3 {
        let m = rig.cluster.member(&format!("n{i}"));
        assert_eq!(fingerprints(&m.pki.ca), new_ca, "n{i}'s trust file");
        let public = |key: &Path| {
            etcd_pki_tests::tool(
                "openssl",
                &["pkey", "-pubout", "-in", &s(key)],
                Path::new("/"),
            )
        };
        assert_eq!(
            public(m.pki.ca_key.as_ref().unwrap()),
            public(&rig.new_ca_key()),
            "n{i}'s CA key"
        );
    }
    assert_eq!(
        fingerprints(&rig.cluster.pki.ca),
        new_ca,
        "the client's CA file"
    );
    let status = rig.status();
    assert_eq!(status["phases_done"], 3, "{status:#}");

    // etcdctl with the new CA and the reissued client certificate works; with the old client
    // certificate (its backup; same key) it is refused.
    let health = etcdctl(&rig.cluster, &["endpoint", "health", "--cluster"]);
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    let admin = rig.cluster.pki.client.parent().unwrap().to_path_buf();
    let old_client = std::fs::read_dir(&admin)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("client.pem.bak.")
        })
        .expect("the old client certificate's backup");
    let refused = etcdctl_command()
        .args(["--endpoints", &rig.cluster.endpoints()])
        .args([
            "--cacert",
            &s(&rig.cluster.pki.ca),
            "--cert",
            &s(&old_client),
        ])
        .args(["--key", &s(&rig.cluster.pki.client_key)])
        .args([
            "--dial-timeout",
            "2s",
            "--command-timeout",
            "3s",
            "get",
            "x",
        ])
        .output()
        .unwrap();
    assert!(
        !refused.status.success(),
        "the old CA's client certificate is refused"
    );

    // Every acknowledged write is readable; no failure lasted longer than an election.
    let listed = etcdctl(&rig.cluster, &["get", "--prefix", "ca-rotation/"]);
    assert!(listed.status.success());
    let text = String::from_utf8_lossy(&listed.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let stored: std::collections::HashMap<&str, &str> =
        lines.chunks(2).map(|kv| (kv[0], kv[1])).collect();
    assert!(
        log.acked.len() > 50,
        "the writer wrote: {}",
        log.acked.len()
    );
    for (k, v) in &log.acked {
        assert_eq!(
            stored.get(k.as_str()),
            Some(&v.as_str()),
            "acknowledged {k}"
        );
    }
    assert!(log.bad_reads.is_empty(), "{:?}", log.bad_reads);
    let longest = log.longest_failure();
    let failed = log.attempts.iter().filter(|a| !a.2).count();
    eprintln!(
        "ca rotation on etcd {}: {} writes acknowledged, {failed} failed, longest failure {longest:?} (last error: {})",
        etcd_pki_tests::cluster::etcd_version(),
        log.acked.len(),
        log.last_error.trim()
    );
    assert!(
        longest < Duration::from_secs(5),
        "writes failed for {longest:?} (last error: {})",
        log.last_error
    );
}

#[test]
fn plan_changes_nothing_and_apply_refuses_with_a_member_down() {
    let mut rig = Rig::new();
    let before = snapshot(&rig.members);
    let admin_before = snapshot(rig.cluster.pki.ca.parent().unwrap());
    let args = rig.args("plan", &[]);
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = rig.cluster.etcd_pki(&words, false);
    run.expect_code(0)
        .stdout_has("phase 1, trust both CAs:")
        .stdout_has("create the new CA")
        .stdout_has("restart n")
        .stdout_has("phase 3, trust only the new CA:")
        .stdout_has("plan only: nothing was written or restarted");
    assert_eq!(snapshot(&rig.members), before, "plan wrote nothing");
    assert_eq!(snapshot(rig.cluster.pki.ca.parent().unwrap()), admin_before);
    assert!(!rig.new_ca().exists(), "plan created no CA");

    // A member down: apply changes nothing and exits 1.
    rig.cluster.stop_member("n2");
    let apply = rig.args("apply", &[]);
    let (run, restarts) = rig.drive(&apply, Interrupt::Never);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("not every member is healthy"),
        "{}",
        run.stdout
    );
    assert_eq!(restarts, 0);
    assert_eq!(snapshot(&rig.members), before, "apply wrote nothing");
    assert!(!rig.new_ca().exists(), "apply created no CA");
}

#[test]
fn a_rollback_from_phase_two_brings_back_the_old_ca_alone() {
    let mut rig = Rig::new();
    let old_ca = fingerprints(&rig.cluster.member("n0").pki.ca);
    let old_server = std::fs::read(&rig.cluster.member("n1").pki.server).unwrap();
    let apply = rig.args("apply", &["--through-phase", "2"]);
    let (run, restarts) = rig.drive(&apply, Interrupt::Never);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(restarts, 3);
    assert!(
        run.stdout.contains("done through phase 2"),
        "{}",
        run.stdout
    );
    assert_eq!(rig.status()["phases_done"], 2);

    let back = rig.args("apply", &["--rollback"]);
    let (run, restarts) = rig.drive(&back, Interrupt::Never);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("rolled back"), "{}", run.stdout);
    assert_eq!(restarts, 3, "{}", run.stdout);
    for i in 0..3 {
        let m = rig.cluster.member(&format!("n{i}"));
        assert_eq!(fingerprints(&m.pki.ca), old_ca, "n{i}'s trust file");
    }
    let status = rig.status();
    assert_eq!(status["phases_done"], 0, "{status:#}");
    for m in status["members"].as_array().unwrap() {
        assert_eq!(m["phase"], "not_started", "{m:#}");
    }
    // The reissued server certificate is the old CA's again (not the old bytes: a new serial).
    let now = std::fs::read(&rig.cluster.member("n1").pki.server).unwrap();
    assert_ne!(now, old_server);
    let health = etcdctl(&rig.cluster, &["endpoint", "health", "--cluster"]);
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
}

//! A client writing keys through etcdctl while an operation (a CA rotation, an upgrade) restarts
//! members: what it wrote, what was acknowledged, and how long it could not write.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::{etcdctl_command, Cluster, Pki};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A client that writes and reads keys over TLS for a whole operation, with the admin's CA
/// file and client certificate (which a CA rotation switches), as etcdctl reads them anew for
/// each command.
pub struct Writer {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<WriterLog>,
}

impl Writer {
    /// Stops it; what it did.
    pub fn finish(self) -> WriterLog {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap()
    }
}

#[derive(Debug, Default)]
pub struct WriterLog {
    /// Acknowledged writes.
    pub acked: Vec<(String, String)>,
    /// Every attempt: start, end, success.
    pub attempts: Vec<(Instant, Instant, bool)>,
    /// Reads that did not return the value just written.
    pub bad_reads: Vec<String>,
    /// The last error seen.
    pub last_error: String,
}

impl WriterLog {
    /// The longest stretch from a failed attempt's start to the next success's start.
    pub fn longest_failure(&self) -> Duration {
        let mut longest = Duration::ZERO;
        let mut failing_since: Option<Instant> = None;
        for (start, end, ok) in &self.attempts {
            match (ok, failing_since) {
                (false, None) => failing_since = Some(*start),
                (true, Some(since)) => {
                    longest = longest.max(start.duration_since(since));
                    failing_since = None;
                }
                _ => {}
            }
            let _ = end;
        }
        if let (Some(since), Some((_, end, _))) = (failing_since, self.attempts.last()) {
            longest = longest.max(end.duration_since(since));
        }
        longest
    }
}

/// etcdctl as the admin, with the files the rotation switches (read anew by each command).
pub fn admin_etcdctl(endpoints: &str, pki: &Pki, args: &[&str]) -> std::process::Output {
    etcdctl_command()
        .args(["--endpoints", endpoints])
        .args(["--cacert", &s(&pki.ca), "--cert", &s(&pki.client)])
        .args(["--key", &s(&pki.client_key)])
        .args(["--dial-timeout", "2s", "--command-timeout", "3s"])
        .args(args)
        .output()
        .unwrap()
}

/// Starts writing `PREFIX/000001`, `PREFIX/000002`, ... (reading every fifth back).
pub fn start_writer(cluster: &Cluster, prefix: &str) -> Writer {
    let prefix = prefix.to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let pki = cluster.pki.clone();
    let endpoints = cluster.endpoints();
    let handle = std::thread::spawn(move || {
        let mut log = WriterLog::default();
        let run = |args: &[&str]| admin_etcdctl(&endpoints, &pki, args);
        let mut i = 0u32;
        while !flag.load(Ordering::Relaxed) {
            i += 1;
            let (key, value) = (format!("{prefix}/{i:06}"), format!("v{i}"));
            let start = Instant::now();
            let out = run(&["put", &key, &value]);
            let ok = out.status.success();
            log.attempts.push((start, Instant::now(), ok));
            if ok {
                log.acked.push((key.clone(), value.clone()));
                if i.is_multiple_of(5) {
                    let got = run(&["get", &key, "--print-value-only"]);
                    let text = String::from_utf8_lossy(&got.stdout).trim().to_string();
                    if got.status.success() && text != value {
                        log.bad_reads
                            .push(format!("{key}: {text:?}, not {value:?}"));
                    }
                }
            } else {
                log.last_error = String::from_utf8_lossy(&out.stderr).into_owned();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        log
    });
    Writer { stop, handle }
}

//! `scan` of a fleet's worth of certificates in bounded memory: `-w jsonl` and `-w prometheus`
//! write rows as the scan finishes them, so that their peak memory grows with the CAs and the
//! list of files, not with the rows (`-w json` and the table still hold the whole report, about
//! 2.3 KB a certificate). Peak memory is the process's maximum resident set size, from `wait4`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use etcd_pki_tests::{bin, fixture};

/// Certificates of the larger corpus: a debug build scans them in a few seconds.
const MANY: usize = 20_000;
/// Certificates of the smaller one, whose peak sets the baseline (the executable, the threads).
const FEW: usize = 2_000;
/// The bound of the issue: 100,000 certificates under 64 MB (the release build).
const LIMIT: u64 = 64 << 20;
/// What each certificate past the baseline may add: a path in the list of files and a hash of a
/// label set take about 150 bytes; a row held until the end takes 2.3 KB.
const PER_CERTIFICATE: u64 = 1024;

/// `n` leaf certificates in `root/hosts/node-NNNNN/ROLE.pem`, five a host (copies of cfssl's
/// leaves, so no key is made), and their CA in `root/cas/`.
fn corpus(root: &Path, n: usize) {
    let leaves: Vec<Vec<u8>> = ["members.pem", "server.pem", "client.pem"]
        .iter()
        .map(|f| fs::read(fixture(&format!("cfssl/{f}"))).unwrap())
        .collect();
    let roles = [
        "server",
        "peer",
        "client",
        "healthcheck-client",
        "apiserver-etcd-client",
    ];
    fs::create_dir_all(root.join("cas")).unwrap();
    fs::copy(fixture("cfssl/ca.pem"), root.join("cas/ca.pem")).unwrap();
    for i in 0..n {
        let host = root.join(format!("hosts/node-{:05}", i / roles.len()));
        if i % roles.len() == 0 {
            fs::create_dir_all(&host).unwrap();
        }
        let role = roles[i % roles.len()];
        fs::write(host.join(format!("{role}.pem")), &leaves[i % leaves.len()]).unwrap();
    }
}

/// Runs `etcd-pki scan -w FORMAT root` with stdout to `out`: its exit code and peak resident
/// set size in bytes.
#[allow(clippy::zombie_processes, reason = "wait4 below reaps it")]
fn peak_rss(format: &str, root: &Path, out: &Path) -> (i32, u64) {
    let child = Command::new(bin())
        .args(["scan", "-w", format])
        .arg(root)
        .stdin(Stdio::null())
        .stdout(fs::File::create(out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("run etcd-pki");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it and the status for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status), "etcd-pki died: status {status}");
    // ru_maxrss is in kilobytes on Linux.
    (libc::WEXITSTATUS(status), usage.ru_maxrss as u64 * 1024)
}

#[test]
fn streamed_outputs_stay_within_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let (few, many) = (tmp.path().join("few"), tmp.path().join("many"));
    corpus(&few, FEW);
    corpus(&many, MANY);
    let out = tmp.path().join("out");
    for format in ["jsonl", "prometheus"] {
        let (code, base) = peak_rss(format, &few, &out);
        assert_eq!(code, 0, "{format} of {FEW}");
        let (code, peak) = peak_rss(format, &many, &out);
        assert_eq!(code, 0, "{format} of {MANY}");
        let text = fs::read_to_string(&out).unwrap();
        let certificates = if format == "jsonl" {
            text.lines().count()
        } else {
            let line = text
                .lines()
                .find(|l| l.starts_with("etcd_pki_scan_certificates "))
                .expect("the count of certificates");
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert_eq!(certificates, MANY + 1, "{format}: every leaf and the CA");
        let mb = |bytes: u64| bytes as f64 / f64::from(1 << 20);
        let per_certificate = peak.saturating_sub(base) / (MANY - FEW) as u64;
        eprintln!(
            "scan -w {format}: peak {:.1} MB at {FEW}, {:.1} MB at {MANY}: {per_certificate} bytes a certificate",
            mb(base),
            mb(peak)
        );
        assert!(
            peak < LIMIT,
            "-w {format} of {MANY} certificates peaked at {:.1} MB",
            mb(peak)
        );
        assert!(
            per_certificate < PER_CERTIFICATE,
            "-w {format} grows by {per_certificate} bytes a certificate (peak {:.1} MB at {FEW}, {:.1} MB at {MANY}): rows are being held",
            mb(base),
            mb(peak)
        );
    }
}

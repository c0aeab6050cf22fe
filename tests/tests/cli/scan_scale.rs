//! `scan` of a fleet's worth of certificates in bounded memory: `-w jsonl` and `-w prometheus`
//! write rows as the scan finishes them, so that their peak memory grows with the CAs and the
//! list of files, not with the rows (`-w json` and the table still hold the whole report, about
//! 2.3 KB a certificate). Peak memory is the process's maximum resident set size, from `wait4`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use etcd_pki_tests::{bin, fixture};

/// Certificates of the larger corpus: a debug build scans them in a few seconds.
const MANY: usize = 16_000;
/// Certificates of the smaller one, whose peak sets the baseline (the executable, the threads).
const FEW: usize = 1_600;
/// The bound of the issue: 100,000 certificates under 64 MB (the release build).
const LIMIT: u64 = 64 << 20;
/// What each certificate past the baseline may add: a path in the list of files and a hash of a
/// label set take about 150 bytes; a row held until the end takes 2-3 KB.
const PER_CERTIFICATE: u64 = 1024;

/// The leaves of a corpus's bundles: each chains to one of [`CAS`] and is valid for a century.
const LEAVES: [&str; 8] = [
    "cfssl/members.pem",
    "cfssl/server.pem",
    "cfssl/client.pem",
    "cfssl/foreign-members.pem",
    "cfssl/impostor-members.pem",
    "kubeadm/peer.crt",
    "kubeadm/server.crt",
    "kubeadm/healthcheck-client.crt",
];
const CAS: [&str; 4] = [
    "cfssl/ca.pem",
    "cfssl/other-ca.pem",
    "cfssl/impostor-ca.pem",
    "kubeadm/ca.crt",
];

/// `n` certificates (a multiple of 8) in bundles of the eight [`LEAVES`], five bundles a host
/// directory `root/hosts/node-NNNNN/` (bundles, so that writing the files takes a fraction of
/// the scans' time), and the four CAs in `root/cas/`.
fn corpus(root: &Path, n: usize) {
    let bundle: Vec<u8> = LEAVES
        .iter()
        .flat_map(|rel| fs::read(fixture(rel)).unwrap())
        .collect();
    fs::create_dir_all(root.join("cas")).unwrap();
    for (i, rel) in CAS.iter().enumerate() {
        fs::copy(fixture(rel), root.join(format!("cas/{i}.pem"))).unwrap();
    }
    for i in 0..n / LEAVES.len() {
        let host = root.join(format!("hosts/node-{:05}", i / 5));
        if i % 5 == 0 {
            fs::create_dir_all(&host).unwrap();
        }
        fs::write(host.join(format!("{}.pem", i % 5)), &bundle).unwrap();
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
        assert_eq!(
            certificates,
            MANY + CAS.len(),
            "{format}: every leaf and CA"
        );
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

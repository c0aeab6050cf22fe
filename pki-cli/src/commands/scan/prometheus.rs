//! `scan -w prometheus`: x509-certificate-exporter's three families for every certificate, the
//! scan's problems (`etcd_pki_cert_problem`) and its counts, from rows streamed by pki-core's
//! `scan_each`: each family is spooled as the rows come ([`crate::metrics::spool`]) and written
//! whole at the end, so that memory is bounded by the CAs and the list of files, not by the
//! rows. The output is the same as from a collected report.

use std::io::Write;

use pki_core::{display_path, scan_each, ScanOptions, ScanTail};

use crate::exit::{Failure, Result};
use crate::metrics::certificates::{CertFamilies, CertSeries};
use crate::metrics::exposition::{write_header, write_sample, Metrics};
use crate::metrics::spool::Spool;

const PROBLEM: (&str, &str) = (
    "etcd_pki_cert_problem",
    "1 for each problem a scan found with a certificate: expired, not_yet_valid, expires_soon, not_chained (no CA in the scanned trees issued it), key_mismatch, bad_key",
);

/// Scans `dirs` and writes the metrics (to `textfile`, or stdout), then `served` (probed
/// endpoints, the cluster's figures); whether a row had a problem, and the tail.
pub fn write(
    dirs: &[std::path::PathBuf],
    opts: &ScanOptions,
    textfile: Option<&std::path::Path>,
    served: &Metrics,
) -> Result<(bool, ScanTail)> {
    let mut certs = CertFamilies::new(opts.at);
    let mut problem_series = Spool::new(&[PROBLEM]);
    let mut count = 0usize;
    let mut any_problem = false;
    let tail = scan_each(dirs, opts, |row| {
        count += 1;
        certs.add(&CertSeries::of_scanned(&row))?;
        for p in &row.problems {
            any_problem = true;
            let labels = [
                ("filepath", display_path(&row.path).to_string()),
                ("serial_number", row.serial_number.clone()),
                ("problem", p.kind().to_string()),
            ];
            problem_series.add(&labels, &[1.0])?;
        }
        Ok::<(), Failure>(())
    })?;
    crate::metrics::emit("scan", textfile, |out| {
        certs.write(out)?;
        problem_series.write(out)?;
        // A probe-only scan (no directories) has no file counts to give.
        if !dirs.is_empty() {
            counts(out, count, &tail)?;
        }
        served.write(out)
    })?;
    Ok((any_problem, tail))
}

/// The scan's counts: certificates, damaged and skipped files, and interrupted writes.
fn counts(out: &mut dyn Write, certificates: usize, tail: &ScanTail) -> std::io::Result<()> {
    let counts = [
        (
            "etcd_pki_scan_certificates",
            "Certificates the scan found",
            certificates,
        ),
        (
            "etcd_pki_scan_malformed_files",
            "Files holding a certificate that cannot be read (etcd could not load them either)",
            tail.malformed.len(),
        ),
        (
            "etcd_pki_scan_skipped_files",
            "Files the scan skipped because they hold no certificate",
            tail.skipped.len(),
        ),
        (
            "etcd_pki_unfinished_writes",
            "Interrupted etcd-pki writes found in the scanned directories (run etcd-pki recover DIR)",
            tail.interrupted.len(),
        ),
    ];
    for (name, help, n) in counts {
        write_header(out, name, help)?;
        write_sample(out, name, &[], n as f64)?;
    }
    Ok(())
}

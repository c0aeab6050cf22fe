//! `etcd-pki scan DIR...`: every certificate under directory trees, one row each.

use pki_core::{
    display_path, rfc3339, scan, short_duration, Issuer, ScanOptions, ScanReport, Status,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{ScanArgs, ScanFormat};
use crate::commands::served::{self, Judged, ProbeTls};
use crate::connection::{block_on, connect};
use crate::exit::{Outcome, Result};
use crate::metrics::{self, certificates, exposition::Metrics};
use crate::output::{or_dash, print, print_json, Table};
use crate::unfinished::report_interrupted;

/// `-w json`: the scan's report, and with --probe or --cluster what each endpoint served.
#[derive(Serialize)]
struct ScanJson<'a> {
    #[serde(flatten)]
    report: &'a ScanReport,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    served: Vec<served::ServedJson>,
}

pub fn run(args: &ScanArgs) -> Result<Outcome> {
    let mut opts = ScanOptions::new()
        .expires_within(args.expires_within)
        .verify_signatures(args.verify);
    if let Some(at) = args.at {
        opts = opts.at(at);
    }
    let at = opts.at;
    let report = if args.dirs.is_empty() {
        ScanReport::default()
    } else {
        scan(&args.dirs, &opts)?
    };
    let (judged, figures) = probe(args, at)?;
    match args.write_out {
        ScanFormat::Json => print_json(&ScanJson {
            report: &report,
            served: served::json(&judged),
        })?,
        ScanFormat::Prometheus => metrics::emit("scan", args.metrics.textfile.as_deref(), |out| {
            certificates::write_families(out, at, || {
                report
                    .certificates
                    .iter()
                    .map(certificates::CertSeries::of_scanned)
            })?;
            if !args.dirs.is_empty() {
                scan_figures(out, &report)?;
            }
            let mut m = Metrics::new();
            if let Some(f) = &figures {
                metrics::cluster::add_figures(&mut m, f);
            }
            served::add_metrics(&mut m, "scan", &judged);
            m.write(out)
        })?,
        ScanFormat::Table if args.dirs.is_empty() => print(&served_table(&judged, at))?,
        ScanFormat::Table => {
            let mut table = Table::new([
                "CERTIFICATE",
                "SUBJECT",
                "EXPIRES",
                "RESIDUAL",
                "ISSUER",
                "SANS",
                "PROBLEMS",
            ]);
            for c in &report.certificates {
                let file = if c.index > 0 {
                    format!("{} [{}]", display_path(&c.path), c.index)
                } else {
                    display_path(&c.path).to_string()
                };
                let issuer = match &c.issuer {
                    Issuer::SelfSigned => "self-signed".to_string(),
                    Issuer::Found { path, name } => format!("{name} ({})", display_path(path)),
                    Issuer::NotFound => "not found".to_string(),
                    _ => "-".to_string(),
                };
                let subject = c.common_name.clone().unwrap_or_else(|| c.subject.clone());
                let subject = if c.is_ca {
                    format!("{subject} (CA)")
                } else {
                    subject
                };
                table.row([
                    file,
                    or_dash(subject),
                    rfc3339(c.not_after),
                    short_duration(c.residual),
                    issuer,
                    or_dash(c.sans.join(", ")),
                    or_dash(
                        c.problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                ]);
            }
            let mut text = table.render();
            let with_problems = report
                .certificates
                .iter()
                .filter(|c| !c.problems.is_empty())
                .count();
            text.push_str(&format!(
                "{} certificates, {} with problems",
                report.certificates.len(),
                with_problems
            ));
            if report.skipped.is_empty() {
                text.push('\n');
            } else {
                text.push_str(&format!("; {} files skipped:\n", report.skipped.len()));
                for s in &report.skipped {
                    text.push_str(&format!("  {}: {}\n", display_path(&s.path), s.reason));
                }
            }
            if !report.malformed.is_empty() {
                text.push_str(&format!(
                    "{} files hold a certificate that cannot be read (etcd could not load them either):\n",
                    report.malformed.len()
                ));
                for s in &report.malformed {
                    text.push_str(&format!("  {}: {}\n", display_path(&s.path), s.reason));
                }
            }
            if !judged.is_empty() {
                text.push_str(&served_table(&judged, at));
            }
            print(&text)?;
        }
    }
    report_interrupted(&report.interrupted);
    let served_failed = judged.iter().any(|j| j.status() == Status::Fail);
    Ok(if report.has_problems() || served_failed {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}

/// The scan's own figures: per certificate its problems (`etcd_pki_cert_problem`, by kind), and
/// counts of certificates, damaged and skipped files, and interrupted writes.
fn scan_figures(
    out: &mut dyn std::io::Write,
    report: &pki_core::ScanReport,
) -> std::io::Result<()> {
    use metrics::exposition::{write_header, write_sample};
    const PROBLEM: (&str, &str) = (
        "etcd_pki_cert_problem",
        "1 for each problem a scan found with a certificate: expired, not_yet_valid, expires_soon, not_chained (no CA in the scanned trees issued it), key_mismatch, bad_key",
    );
    let mut header = false;
    let mut seen = certificates::Seen::default();
    for c in &report.certificates {
        for p in &c.problems {
            let labels = vec![
                ("filepath", display_path(&c.path).to_string()),
                ("serial_number", c.serial_number.clone()),
                ("problem", p.kind().to_string()),
            ];
            if !seen.first(&labels) {
                continue;
            }
            if !header {
                write_header(out, PROBLEM.0, PROBLEM.1)?;
                header = true;
            }
            write_sample(out, PROBLEM.0, &labels, 1.0)?;
        }
    }
    let counts = [
        (
            "etcd_pki_scan_certificates",
            "Certificates the scan found",
            report.certificates.len(),
        ),
        (
            "etcd_pki_scan_malformed_files",
            "Files holding a certificate that cannot be read (etcd could not load them either)",
            report.malformed.len(),
        ),
        (
            "etcd_pki_scan_skipped_files",
            "Files the scan skipped because they hold no certificate",
            report.skipped.len(),
        ),
        (
            "etcd_pki_unfinished_writes",
            "Interrupted etcd-pki writes found in the scanned directories (run etcd-pki recover DIR)",
            report.interrupted.len(),
        ),
    ];
    for (name, help, n) in counts {
        write_header(out, name, help)?;
        write_sample(out, name, &[], n as f64)?;
    }
    Ok(())
}

/// With --probe or --cluster: what each endpoint serves, judged (an async runtime only then);
/// with --cluster also the cluster's voting figures.
fn probe(
    args: &ScanArgs,
    at: OffsetDateTime,
) -> Result<(Vec<Judged>, Option<pki_cluster::ClusterFigures>)> {
    if args.probe.is_empty() && !args.cluster {
        return Ok((Vec::new(), None));
    }
    let mut endpoints = served::endpoints(&args.probe)?;
    let conn = if args.cluster {
        Some(connect(&args.connection)?)
    } else {
        None
    };
    let c = &args.connection;
    let tls = ProbeTls {
        cacert: c.cacert.as_deref(),
        cert: c.cert.as_deref(),
        key: c.key.as_deref(),
    };
    block_on(async {
        let mut figures = None;
        if let Some(conn) = &conn {
            endpoints.extend(pki_cluster::served::cluster_endpoints(conn).await?);
            figures = Some(pki_cluster::cluster_figures(conn).await?);
        }
        let judged = served::probe_and_judge(
            endpoints,
            &tls,
            c.command_timeout,
            args.parallel,
            at,
            Some(args.expires_within),
        )
        .await?;
        Ok((judged, figures))
    })?
}

/// The served chains as a table, with a count line.
fn served_table(judged: &[Judged], at: OffsetDateTime) -> String {
    let failed = judged.iter().filter(|j| j.status() == Status::Fail).count();
    format!(
        "{}{} endpoints probed, {failed} with problems\n",
        served::table(judged, at),
        judged.len()
    )
}

//! `etcd-pki scan DIR...`: every certificate under directory trees, one row each, and with
//! `--probe`/`--cluster` what endpoints serve. The table and `-w json` hold the whole report;
//! `-w jsonl` ([`jsonl`]) and `-w prometheus` ([`prometheus`]) write rows as the scan hands them
//! over, in memory bounded by the CAs and the list of files.

mod jsonl;
mod prometheus;

use pki_core::{
    display_path, rfc3339, scan, short_duration, Issuer, ScanOptions, ScanReport, Status,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{ScanArgs, ScanFormat};
use crate::commands::served::{self, Judged, ProbeTls};
use crate::connection::{block_on, connect};
use crate::exit::{Outcome, Result};
use crate::metrics::{self, exposition::Metrics};
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
    let (judged, figures) = probe(args, at)?;
    let (problems, interrupted) = match args.write_out {
        ScanFormat::Jsonl => {
            let (row_problems, tail) = jsonl::write(&args.dirs, &opts, &served::json(&judged))?;
            (row_problems || tail.has_problems(), tail.interrupted)
        }
        ScanFormat::Prometheus => {
            let mut m = Metrics::new();
            if let Some(f) = &figures {
                metrics::cluster::add_figures(&mut m, f);
            }
            served::add_metrics(&mut m, "scan", &judged);
            let (row_problems, tail) =
                prometheus::write(&args.dirs, &opts, args.metrics.textfile.as_deref(), &m)?;
            (row_problems || tail.has_problems(), tail.interrupted)
        }
        ScanFormat::Json | ScanFormat::Table => {
            let report = if args.dirs.is_empty() {
                ScanReport::default()
            } else {
                scan(&args.dirs, &opts)?
            };
            if args.write_out == ScanFormat::Json {
                print_json(&ScanJson {
                    report: &report,
                    served: served::json(&judged),
                })?;
            } else if args.dirs.is_empty() {
                print(&served_table(&judged, at))?;
            } else {
                let mut text = table(&report);
                if !judged.is_empty() {
                    text.push_str(&served_table(&judged, at));
                }
                print(&text)?;
            }
            (report.has_problems(), report.interrupted)
        }
    };
    report_interrupted(&interrupted);
    let served_failed = judged.iter().any(|j| j.status() == Status::Fail);
    Ok(if problems || served_failed {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
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
    let choice = args.etcd_version.choice();
    block_on(async {
        let mut figures = None;
        // With --cluster, hosts are judged by the Go rules of the etcd the members run.
        let mut rules = pki_cluster::AppliedRules::without_cluster(choice);
        if let Some(conn) = &conn {
            endpoints.extend(pki_cluster::served::cluster_endpoints(conn).await?);
            figures = Some(pki_cluster::cluster_figures(conn).await?);
            rules = pki_cluster::AppliedRules::ask(conn, choice).await;
        }
        let judged = served::probe_and_judge(
            endpoints,
            &tls,
            c.command_timeout,
            args.parallel,
            at,
            Some(args.expires_within),
            &rules,
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

/// The report as a table, then the counts and the files skipped or damaged.
fn table(report: &ScanReport) -> String {
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
            Issuer::Found { path, name, .. } => format!("{name} ({})", display_path(path)),
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
    text
}

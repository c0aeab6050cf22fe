//! `etcd-pki preflight`: everything that decides whether a new member can join, read-only
//! (pki-cluster's `preflight`), as rows. `scale-out` runs the same checks before it changes
//! anything.

use pki_cluster::{AppliedRules, MemberUrls, NewMemberFiles, PreflightRequest};
use pki_core::Status;
use serde::Serialize;

use crate::cli::{ConnectionArgs, NewMemberArgs, PreflightArgs, ReportFormat};
use crate::connection::{block_on, connect};
use crate::exit::{Outcome, Result};
use crate::metrics::{self, exposition::Keep, exposition::Metrics, findings};
use crate::output::{print, print_json, Table};
use crate::render::{rows, rows_text, summary, FixContext, FixFiles, Row};

#[derive(Serialize)]
struct PreflightJson<'a> {
    name: &'a str,
    status: Status,
    rules: &'a AppliedRules,
    checks: &'a [Row],
}

pub fn run(args: &PreflightArgs) -> Result<Outcome> {
    let etcd = connect(&args.connection)?;
    let request = request(&args.member, &args.connection, !args.voter)?;
    let report = block_on(pki_cluster::preflight(&etcd, &request))??;
    let rows = rows(
        &report.findings,
        &fix_context(&args.member, &args.connection),
    );
    let status = report.status();
    match args.write_out {
        ReportFormat::Json => print_json(&PreflightJson {
            name: &args.member.name,
            status,
            rules: &report.rules,
            checks: &rows,
        })?,
        ReportFormat::Prometheus => {
            let m = report_metrics(&args.member.name, &report);
            metrics::emit("preflight", args.metrics.textfile.as_deref(), |out| {
                m.write(out)
            })?;
        }
        ReportFormat::Table => {
            let mut table = Table::new(["STATUS", "CHECK", "EVIDENCE", "FIX"]);
            for r in &rows {
                table.row([
                    r.status.to_string(),
                    r.check.clone(),
                    r.message.clone(),
                    r.fix.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            print(&table.render())?;
        }
        ReportFormat::Simple => print(&format!(
            "preflight for {} ({}):\n{}{}\n",
            args.member.name,
            args.member.peer_urls.join(","),
            rows_text(&rows),
            summary(&rows)
        ))?,
    }
    Ok(if status == Status::Fail {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}

/// The cluster's figures, what each member serves, whether the new member may be added, and the
/// findings' series.
fn report_metrics(name: &str, report: &pki_cluster::PreflightReport) -> Metrics {
    let mut m = Metrics::new();
    metrics::cluster::add_figures(&mut m, &report.cluster);
    for s in &report.served {
        if let Some(leaf) = &s.leaf {
            m.set(
                (
                    "etcd_pki_served_cert_not_after",
                    "Unix timestamp of the NotAfter of the certificate a member serves on a port",
                ),
                Keep::Lowest,
                vec![("member", s.member.clone()), ("url", s.url.clone())],
                leaf.not_after().unix_timestamp() as f64,
            );
        }
    }
    m.set(
        (
            "etcd_pki_preflight_ready",
            "1 if the new member may be added (no pre-flight check failed), 0 if not",
        ),
        Keep::Lowest,
        vec![("member", name.to_string())],
        f64::from(u8::from(report.passed())),
    );
    findings::add(
        &mut m,
        findings::Context {
            command: "preflight",
            member: name,
            role: "",
            extra: None,
        },
        &report.findings,
    );
    m
}

/// The library's request from the new member's flags: its peer certificate is --peer-cert,
/// else the connection's --cert (the runbook connects with members.pem), whose --key comes
/// along; its peer CA is --peer-cacert, else --cacert.
pub fn request(
    member: &NewMemberArgs,
    conn: &ConnectionArgs,
    learner: bool,
) -> Result<PreflightRequest> {
    let urls = MemberUrls::parse(&member.peer_urls, &member.client_urls)?;
    let mut files = NewMemberFiles::new().fail_within(member.expires_within);
    files.peer_cert = member.peer_cert.clone().or_else(|| conn.cert.clone());
    files.peer_key = member.peer_key.clone().or(if member.peer_cert.is_none() {
        conn.key.clone()
    } else {
        None
    });
    files.server_cert = member.server_cert.clone();
    files.peer_ca = member.peer_cacert.clone().or_else(|| conn.cacert.clone());
    let request = PreflightRequest::new(&member.name, urls)
        .files(files)
        .rules(member.etcd_version.choice());
    Ok(if learner { request } else { request.as_voter() })
}

/// The files the fixes name: the new member's.
pub fn fix_context<'a>(member: &'a NewMemberArgs, conn: &'a ConnectionArgs) -> FixContext<'a> {
    let cacert = member.peer_cacert.as_deref().or(conn.cacert.as_deref());
    FixContext {
        peer: FixFiles {
            cert: member.peer_cert.as_deref().or(conn.cert.as_deref()),
            key: member
                .peer_key
                .as_deref()
                .or(if member.peer_cert.is_none() {
                    conn.key.as_deref()
                } else {
                    None
                }),
            cacert,
        },
        server: FixFiles {
            cert: member.server_cert.as_deref(),
            key: None,
            cacert,
        },
    }
}

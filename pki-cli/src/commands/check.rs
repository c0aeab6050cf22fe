//! `etcd-pki check`: one certificate against what an etcd member needs of it.

use std::path::Path;

use pki_core::{
    certificates_from_bytes, check, display_path, private_key_from_bytes, read_file, CertPool,
    CheckInput, EtcdFiles, Finding, GoRules, Host, HostUrl, Report, Role, Status,
};
use serde::Serialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::cli::{CheckArgs, ReportFormat};
use crate::exit::{Failure, Outcome, Result};
use crate::metrics::{self, exposition::Metrics, findings};
use crate::output::{print, print_json, Table};
use crate::render::{fix_command, FixFiles};
use crate::unfinished::report_unfinished;

#[derive(Serialize)]
struct CheckJson<'a> {
    #[serde(serialize_with = "pki_core::serde_path::path")]
    certificate: &'a Path,
    subject: String,
    role: Option<Role>,
    hosts: Vec<String>,
    status: Status,
    findings: Vec<FindingJson<'a>>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    fix: Option<String>,
}

pub fn run(args: &CheckArgs) -> Result<Outcome> {
    let cert_bytes = read_file(&args.cert)?;
    let chain =
        certificates_from_bytes(&cert_bytes).map_err(|e| Failure::from(e.with_path(&args.cert)))?;
    let key_bytes = args
        .key
        .as_deref()
        .map(read_file)
        .transpose()?
        .map(Zeroizing::new);
    let key = match (&args.key, &key_bytes) {
        (Some(path), Some(bytes)) => {
            Some(private_key_from_bytes(bytes).map_err(|e| Failure::from(e.with_path(path)))?)
        }
        _ => None,
    };
    let ca_bytes = args.cacert.as_deref().map(read_file).transpose()?;
    let roots: Option<CertPool> = match (&args.cacert, &ca_bytes) {
        (Some(path), Some(bytes)) => Some(
            certificates_from_bytes(bytes)
                .map_err(|e| Failure::from(e.with_path(path)))?
                .into_iter()
                .collect(),
        ),
        _ => None,
    };
    let rules = args.etcd_version.rules();
    let mut hosts = Vec::new();
    for h in &args.hosts {
        let host = Host::parse_with(h, rules).map_err(Failure::from)?;
        note_host_reading(h, &host, rules);
        hosts.push(host);
    }
    for u in &args.urls {
        let url = HostUrl::parse_with(u, rules).map_err(Failure::from)?;
        note_host_reading(u, &url.host, rules);
        if url.scheme == "http" && args.role.is_some() {
            eprintln!(
                "etcd-pki: warning: {u} is plain http: etcd uses no certificate on it; the certificate is checked as if it were https"
            );
        }
        hosts.push(url.host);
    }
    let label = file_label(&args.cert);
    let input = CheckInput::new(&label, &chain)
        .key(key.as_ref())
        .roots(roots.as_ref())
        .role(args.role.map(Role::from))
        .hosts(&hosts)
        .at(args.at.unwrap_or_else(OffsetDateTime::now_utc))
        .files(
            EtcdFiles::default()
                .certificate(cert_bytes.as_slice())
                .key(key_bytes.as_deref().map(Vec::as_slice))
                .ca(ca_bytes.as_deref()),
        )
        .fail_within(args.expires_within)
        .go_rules(rules);
    let report = check(&input);
    let files = FixFiles {
        cert: Some(&args.cert),
        key: args.key.as_deref(),
        cacert: args.cacert.as_deref(),
    };
    let fixes: Vec<Option<String>> = report
        .findings
        .iter()
        .map(|f| f.remedy.as_ref().map(|r| fix_command(r, &files)))
        .collect();

    match args.write_out {
        ReportFormat::Json => {
            let out = CheckJson {
                certificate: &args.cert,
                subject: chain[0].subject().to_string(),
                role: input.role,
                hosts: hosts.iter().map(ToString::to_string).collect(),
                status: report.status(),
                findings: report
                    .findings
                    .iter()
                    .zip(&fixes)
                    .map(|(finding, fix)| FindingJson {
                        finding,
                        fix: fix.clone(),
                    })
                    .collect(),
            };
            print_json(&out)?;
        }
        ReportFormat::Simple => print(&simple(args, &chain[0], input.role, &report, &fixes))?,
        ReportFormat::Prometheus => {
            let role = input.role.map(|r| r.to_string()).unwrap_or_default();
            let mut m = Metrics::new();
            findings::add(
                &mut m,
                findings::Context {
                    command: "check",
                    member: "",
                    role: &role,
                    extra: Some(("filepath", &display_path(&args.cert))),
                },
                &report.findings,
            );
            metrics::emit("check", args.metrics.textfile.as_deref(), |out| {
                m.write(out)
            })?;
        }
        ReportFormat::Table => {
            let mut table = Table::new(["STATUS", "CHECK", "TARGET", "DETAIL", "FIX"]);
            for (finding, fix) in report.findings.iter().zip(&fixes) {
                table.row([
                    finding.status.to_string(),
                    finding.check.to_string(),
                    finding.target.clone().unwrap_or_else(|| "-".into()),
                    finding.message.clone(),
                    fix.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            print(&table.render())?;
        }
    }
    let mut read: Vec<&Path> = vec![&args.cert];
    read.extend(args.key.as_deref());
    read.extend(args.cacert.as_deref());
    let unfinished = report_unfinished(&read);
    Ok(if report.failed() || unfinished {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}

fn simple(
    args: &CheckArgs,
    leaf: &pki_core::Certificate,
    role: Option<Role>,
    report: &Report,
    fixes: &[Option<String>],
) -> String {
    let mut text = format!(
        "{}: {}{}\n",
        display_path(&args.cert),
        leaf.subject(),
        role.map_or(String::new(), |r| format!(", checked as a {r} certificate"))
    );
    for (finding, fix) in report.findings.iter().zip(fixes) {
        let target = finding
            .target
            .as_ref()
            .map_or(String::new(), |t| format!("{t}: "));
        text.push_str(&format!(
            "  {}  {:<9} {target}{}\n",
            finding.status,
            finding.check.to_string(),
            finding.message
        ));
        if finding.status != Status::Pass {
            if let Some(fix) = fix {
                text.push_str(&format!("        fix: {fix}\n"));
            }
        }
    }
    let failed = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .count();
    let warned = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Warn)
        .count();
    let total = report.findings.len();
    text.push_str(&match (failed, warned) {
        (0, 0) => format!("PASS: all {total} checks passed\n"),
        (0, w) => format!("PASS: {total} checks, {w} with warnings\n"),
        (f, _) => format!("FAIL: {f} of {total} checks failed\n"),
    });
    text
}

/// Says on stderr when etcd-pki reads a host otherwise than Go would (surrounding whitespace,
/// which it ignores: tests/go-oracle/DELIBERATE.md), or when the Go of another etcd version
/// would take it for another kind of host (Go 1.19 reads `0fd00::1` as an IP, Go 1.24 as a
/// name).
fn note_host_reading(input: &str, host: &Host, rules: GoRules) {
    if input.trim() != input && !input.contains("://") {
        eprintln!(
            "etcd-pki: note: {input:?}: the surrounding whitespace is ignored; Go would compare the host as written, whitespace included, and only a SAN with that very text would cover it"
        );
    }
    let kind = |h: &Host| match h {
        Host::Ip(ip) => format!("the IP {ip}"),
        Host::Dns(d) => format!("the name {d:?}"),
    };
    for other in GoRules::ALL.into_iter().filter(|&r| r != rules) {
        let reading = match Host::parse_with(input, other) {
            Ok(h) if &h == host => continue,
            Ok(h) => kind(&h),
            Err(_) => "refused as a host".to_string(),
        };
        eprintln!(
            "etcd-pki: note: {input:?} is {} for {rules}; for {other} (--etcd-version {}) it is {reading}",
            kind(host),
            other.etcd()
        );
    }
}

pub(crate) fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display_path(path).to_string())
}

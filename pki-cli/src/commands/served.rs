//! Chains served by etcd ports, fetched over the network and judged as files are, for
//! `inspect https://HOST:PORT` and `scan --probe URL,...`/`scan --cluster` (pki-cluster's
//! `served`): rows for people, JSON, and metrics.

use std::path::Path;
use std::time::Duration;

use anyhow::anyhow;
use pki_cluster::served::{probe_all, Endpoint, Served};
use pki_cluster::{AppliedRules, Identity};
use pki_core::{rfc3339, short_duration, CertPool, Finding, HostUrl, Status};
use serde::Serialize;
use time::OffsetDateTime;

use crate::exit::{usage, Failure, Result};
use crate::metrics::exposition::{Keep, Metrics};
use crate::metrics::findings;
use crate::render::{rows, FixContext, Row};

/// An endpoint's chain and the verdicts on it.
pub struct Judged {
    pub served: Served,
    pub findings: Vec<Finding>,
    /// The Go rules its host was judged by.
    pub rules: AppliedRules,
}

impl Judged {
    pub fn status(&self) -> Status {
        pki_core::worst(&self.findings)
    }
}

/// The TLS material of a probe: the CA to judge against and the client identity.
pub struct ProbeTls<'a> {
    pub cacert: Option<&'a Path>,
    pub cert: Option<&'a Path>,
    pub key: Option<&'a Path>,
}

/// `https://` URLs given on the command line, as endpoints (anything else is bad usage).
pub fn endpoints(urls: &[String]) -> Result<Vec<Endpoint>> {
    urls.iter()
        .map(|u| {
            let url = HostUrl::parse(u).map_err(Failure::from)?;
            if url.scheme != "https" {
                return Err(usage(anyhow!(
                    "{u}: only https:// URLs serve a certificate to fetch"
                )));
            }
            Ok(Endpoint::url(url))
        })
        .collect()
}

/// Probes `endpoints` (at most `parallel` at once, each within `timeout`) and judges what each
/// served at `at`, failing certificates that expire within `fail_within`.
pub async fn probe_and_judge(
    endpoints: Vec<Endpoint>,
    tls: &ProbeTls<'_>,
    timeout: Duration,
    parallel: usize,
    at: OffsetDateTime,
    fail_within: Option<time::Duration>,
    rules: &AppliedRules,
) -> Result<Vec<Judged>> {
    let roots: Option<CertPool> = match tls.cacert {
        Some(path) => Some(pki_core::load_certificates(path)?.into_iter().collect()),
        None => None,
    };
    let identity = match (tls.cert, tls.key) {
        (Some(cert), Some(key)) => Some(Identity::from_files(cert, key)?),
        (None, None) => None,
        _ => {
            return Err(usage(anyhow!(
                "a client certificate needs its key: give --cert and --key (or ETCDCTL_CERT and ETCDCTL_KEY) together"
            )))
        }
    };
    let served = probe_all(endpoints, identity.as_ref(), timeout, parallel).await;
    Ok(served
        .into_iter()
        .map(|s| Judged {
            findings: s.judge(roots.as_ref(), at, fail_within, rules),
            served: s,
            rules: rules.clone(),
        })
        .collect())
}

/// One endpoint in JSON.
#[derive(Serialize)]
pub struct ServedJson {
    url: String,
    member: Option<String>,
    port: Option<&'static str>,
    status: Status,
    certificates: Vec<pki_core::Summary>,
    error: Option<String>,
    rules: AppliedRules,
    checks: Vec<Row>,
}

pub fn json(judged: &[Judged]) -> Vec<ServedJson> {
    judged
        .iter()
        .map(|j| ServedJson {
            url: j.served.endpoint.url.url.clone(),
            member: j.served.endpoint.member.clone(),
            port: j.served.endpoint.port,
            status: j.status(),
            certificates: j
                .served
                .chain
                .as_ref()
                .map(|c| c.iter().map(|c| c.summary()).collect())
                .unwrap_or_default(),
            error: j.served.chain.as_ref().err().cloned(),
            rules: j.rules.clone(),
            checks: rows(&j.findings, &FixContext::default()),
        })
        .collect()
}

/// `https://127.0.0.11:2379 (infra0 client)`.
pub fn label(s: &Served) -> String {
    match (&s.endpoint.member, s.endpoint.port) {
        (Some(m), Some(p)) => format!("{} ({m} {p})", s.endpoint.url.url),
        (Some(m), None) => format!("{} ({m})", s.endpoint.url.url),
        _ => s.endpoint.url.url.clone(),
    }
}

/// The leaf's subject, expiry and time left, or `-`.
fn leaf_cells(s: &Served, at: OffsetDateTime) -> [String; 3] {
    match s.chain.as_ref().ok().and_then(|c| c.first()) {
        Some(leaf) => [
            leaf.common_name().unwrap_or(leaf.subject()).to_string(),
            rfc3339(leaf.not_after()),
            short_duration(leaf.not_after() - at),
        ],
        None => ["-".into(), "-".into(), "-".into()],
    }
}

/// The line that names the rules the hosts were judged by (empty without endpoints).
pub fn rules_line(judged: &[Judged]) -> String {
    judged.first().map_or(String::new(), |j| {
        let f = j.rules.finding();
        format!("{} {}: {}\n", f.status, f.check, f.message)
    })
}

/// The endpoints as a bordered table, then the rules line.
pub fn table(judged: &[Judged], at: OffsetDateTime) -> String {
    let mut table = crate::output::Table::new([
        "ENDPOINT", "SUBJECT", "EXPIRES", "RESIDUAL", "STATUS", "PROBLEMS",
    ]);
    for j in judged {
        let [subject, expires, residual] = leaf_cells(&j.served, at);
        table.row([
            label(&j.served),
            subject,
            expires,
            residual,
            j.status().to_string(),
            problems(j),
        ]);
    }
    format!("{}{}", table.render(), rules_line(judged))
}

/// The messages of what failed or warned, `; `-joined, or `-`.
fn problems(j: &Judged) -> String {
    let text: Vec<String> = j
        .findings
        .iter()
        .filter(|f| f.status != Status::Pass)
        .map(|f| format!("{} {}: {}", f.status, f.check, f.message))
        .collect();
    if text.is_empty() {
        "-".into()
    } else {
        text.join("; ")
    }
}

/// Each endpoint's served expiry, whether it answered, and the series of its findings.
pub fn add_metrics(m: &mut Metrics, command: &'static str, judged: &[Judged]) {
    for j in judged {
        let e = &j.served.endpoint;
        let member = e.member.clone().unwrap_or_default();
        let url = e.url.url.clone();
        let ok = j.served.chain.is_ok();
        m.set(
            (
                "etcd_pki_probe_success",
                "1 if the endpoint answered the TLS handshake with a certificate, 0 if not",
            ),
            Keep::Lowest,
            vec![("member", member.clone()), ("url", url.clone())],
            f64::from(u8::from(ok)),
        );
        if let Some(leaf) = j.served.chain.as_ref().ok().and_then(|c| c.first()) {
            m.set(
                (
                    "etcd_pki_served_cert_not_after",
                    "Unix timestamp of the NotAfter of the certificate a member serves on a port",
                ),
                Keep::Lowest,
                vec![("member", member.clone()), ("url", url.clone())],
                leaf.not_after().unix_timestamp() as f64,
            );
        }
        // The certificate on a client port is the member's server certificate.
        let role = match e.port {
            Some("client") => "server",
            Some(p) => p,
            None => "",
        };
        findings::add(
            m,
            findings::Context {
                command,
                member: &member,
                role,
                extra: Some(("url", &url)),
            },
            &j.findings,
        );
    }
}

//! What endpoints serve, probed remotely: the certificate chain each etcd port presents, for
//! audits without access to the members' hosts (`inspect https://HOST:PORT`, `scan --probe`,
//! `scan --cluster`).
//!
//! Each endpoint gets one TLS handshake through [`crate::probe`]: SNI as etcd's clients send it
//! (the DNS name of the URL; none for an IP address, as Go sends none), the client certificate
//! when one is given (mutual TLS: etcd's client port with `--client-cert-auth`, and every peer
//! port, ask for one; the chain is recorded whatever the server then decides). Endpoints are
//! probed in parallel, at most `parallel` at a time, each within its own timeout, so that a
//! member that hangs costs its own timeout and nobody else's. Nothing is judged here: the
//! chains go to pki-core's `check` in the caller, as files do.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use pki_core::{CertPool, Certificate, CheckId, CheckInput, Finding, HostUrl, Remedy};
use time::OffsetDateTime;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::etcd_rules::AppliedRules;
use crate::probe::{probe, Identity};
use crate::state::member_list;

/// An endpoint to probe: its URL and, when known, the member it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// The URL (https).
    pub url: HostUrl,
    /// The member's name, for endpoints taken from the member list.
    pub member: Option<String>,
    /// `client` or `peer`, for endpoints taken from the member list.
    pub port: Option<&'static str>,
}

impl Endpoint {
    /// An endpoint given by URL.
    pub fn url(url: HostUrl) -> Endpoint {
        Endpoint {
            url,
            member: None,
            port: None,
        }
    }
}

/// What an endpoint served.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Served {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The chain it served, leaf first, or why none could be had.
    pub chain: std::result::Result<Vec<Certificate>, String>,
}

impl Served {
    /// Judges the chain as a client of the endpoint would, and as files are: validity (failing
    /// within `fail_within`), the chain to `roots` when given, and coverage of the host probed
    /// under every rule set of `rules` (the stricter verdict stands).
    /// An endpoint that served nothing is one failed `served certificate` finding.
    pub fn judge(
        &self,
        roots: Option<&CertPool>,
        at: OffsetDateTime,
        fail_within: Option<time::Duration>,
        rules: &AppliedRules,
    ) -> Vec<Finding> {
        let chain = match &self.chain {
            Ok(c) => c,
            Err(why) => {
                return vec![Finding::fail(
                    CheckId::ServedCertificate,
                    format!("no certificate from {}: {why}", self.endpoint.url.url),
                )
                .remedy(Remedy::Advice {
                    text: "check that the member runs and that this host reaches its port".into(),
                })]
            }
        };
        let label = format!("the certificate {} serves", self.endpoint.url.url);
        let hosts = [self.endpoint.url.host.clone()];
        rules
            .check_input(
                &CheckInput::new(&label, chain)
                    .roots(roots)
                    .hosts(&hosts)
                    .at(at)
                    .fail_within(fail_within),
            )
            .findings
    }
}

/// Probes `endpoints`, at most `parallel` at once, each within `timeout`; results in the order
/// given.
pub async fn probe_all(
    endpoints: Vec<Endpoint>,
    identity: Option<&Identity>,
    timeout: Duration,
    parallel: usize,
) -> Vec<Served> {
    stream::iter(endpoints)
        .map(|endpoint| async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let chain = match probe(&endpoint.url, identity, None, deadline).await {
                Ok(p) if p.served.is_empty() => Err("it sent no certificate".to_string()),
                Ok(p) => p
                    .served
                    .into_iter()
                    .map(|der| {
                        Certificate::from_der(der)
                            .map_err(|e| format!("it served a certificate Go cannot parse: {e}"))
                    })
                    .collect(),
                Err(e) => Err(e.to_string()),
            };
            Served { endpoint, chain }
        })
        .buffered(parallel.max(1))
        .collect()
        .await
}

/// Every https client and peer URL of the started members, from the member list, by member
/// name then port.
///
/// # Errors
/// No endpoint answering the member list ([`Error::NoneReachable`] and the like).
pub async fn cluster_endpoints(conn: &Connection) -> Result<Vec<Endpoint>> {
    let list = member_list(conn).await?;
    let mut members = list.members;
    members.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let mut out = Vec::new();
    for m in members.iter().filter(|m| m.started()) {
        for (port, urls) in [("client", &m.client_urls), ("peer", &m.peer_urls)] {
            for u in urls {
                let url = HostUrl::parse(u).map_err(|e| Error::Input(e.to_string()))?;
                if url.scheme == "https" {
                    out.push(Endpoint {
                        url,
                        member: Some(m.name.clone()),
                        port: Some(port),
                    });
                }
            }
        }
    }
    Ok(out)
}

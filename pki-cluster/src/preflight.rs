//! Everything that decides whether a new member can join, read-only: the pre-flight check
//! before `member add`, which scale-out also runs before it changes anything.
//!
//! The new member's files are read first (a bad file is an error, before any connection); then
//! everything that talks to the cluster runs concurrently under one deadline (dial plus command
//! timeout): every member's health and status, and one TLS connection to each member's peer
//! port, which records the certificate it serves (judged by Go's rules against the peer CA and
//! the member's own advertised host: a stale or copied file on one node is caught) and, with the
//! new member's peer key, is the live handshake etcd will see, made from the new member's own
//! address when this host has it (a DNS peer URL is resolved for that). Without that key the
//! probe presents the connection's client certificate, so that members log no connection
//! without one. A member that hangs costs the deadline once.
//!
//! Hosts are judged by the Go rules of the etcd the members report in their status, or those
//! the request gives ([`crate::etcd_rules`]); the report says which.

use std::net::IpAddr;

use futures_util::future::join_all;
use pki_core::{
    worst, CertPool, Certificate, CheckId, CheckInput, Finding, Host, HostUrl, Remedy, Role,
    Status, Subject,
};
use time::{Duration, OffsetDateTime};

use crate::connection::{Connection, Deadline};
use crate::error::Result;
use crate::etcd_rules::{AppliedRules, RulesChoice};
use crate::member_certificates::{
    check_new_member_certificates, check_ownership, is_missing, NewMemberFiles,
};
use crate::probe::{probe, Identity, PeerProbe};
use crate::rules::{check_add, quorum, tolerance, MemberView};
use crate::state::{member_list_until, ClusterState, MemberInfo};
use crate::urls::MemberUrls;

/// What to check: a new member, its URLs and files, as a learner or a voter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PreflightRequest {
    /// The new member's name (its `--name`).
    pub name: String,
    /// Its URLs.
    pub urls: MemberUrls,
    /// The files it will use.
    pub files: NewMemberFiles,
    /// Whether it joins as a learner (the safe way) rather than a voter.
    pub learner: bool,
    /// Which Go's rules hosts are judged by (default: the etcd the members run).
    pub rules: RulesChoice,
}

impl PreflightRequest {
    /// A learner named `name` at `urls`, with no files yet.
    pub fn new(name: impl Into<String>, urls: MemberUrls) -> PreflightRequest {
        PreflightRequest {
            name: name.into(),
            urls,
            files: NewMemberFiles::default(),
            learner: true,
            rules: RulesChoice::default(),
        }
    }

    /// Judge hosts by these rules rather than the cluster's.
    #[must_use]
    pub fn rules(mut self, rules: RulesChoice) -> PreflightRequest {
        self.rules = rules;
        self
    }

    /// The files it will use.
    #[must_use]
    pub fn files(mut self, files: NewMemberFiles) -> PreflightRequest {
        self.files = files;
        self
    }

    /// Check for adding a voter rather than a learner.
    #[must_use]
    pub fn as_voter(mut self) -> PreflightRequest {
        self.learner = false;
        self
    }
}

/// What the pre-flight check found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PreflightReport {
    /// Every finding, in check order.
    pub findings: Vec<Finding>,
    /// The address the live handshake came from, when it was the new member's own.
    pub source: Option<IpAddr>,
    /// The cluster's voting figures as the member list and health showed them.
    pub cluster: ClusterFigures,
    /// What each started member with an https peer URL served there.
    pub served: Vec<ServedCertificate>,
    /// The Go rules hosts were judged by, and why.
    pub rules: AppliedRules,
}

/// A cluster's voting figures, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterFigures {
    /// Voting members.
    pub voters: usize,
    /// Voting members that answered healthy.
    pub healthy_voters: usize,
    /// Learners.
    pub learners: usize,
    /// Votes needed for quorum.
    pub quorum: usize,
    /// Voting members that may fail with quorum kept (negative: quorum is already lost).
    pub fault_tolerance: i64,
}

impl ClusterFigures {
    /// The figures of members as the member list and health show them.
    pub fn of(views: &[MemberView]) -> ClusterFigures {
        let voters = views.iter().filter(|v| !v.is_learner).count();
        let healthy_voters = views.iter().filter(|v| !v.is_learner && v.healthy).count();
        ClusterFigures {
            voters,
            healthy_voters,
            learners: views.len() - voters,
            quorum: quorum(voters),
            fault_tolerance: tolerance(voters, healthy_voters),
        }
    }
}

/// The cluster's voting figures now: the member list, and each member's health asked within
/// the connection's deadline.
///
/// # Errors
/// No endpoint answering the member list.
pub async fn cluster_figures(conn: &Connection) -> Result<ClusterFigures> {
    let deadline = conn.deadline();
    let list = member_list_until(conn, deadline).await?;
    let members = list.members.clone();
    let state = ClusterState::of(conn, list, deadline).await;
    let views: Vec<MemberView> = members.iter().map(|m| state.view(m)).collect();
    Ok(ClusterFigures::of(&views))
}

/// The certificate a member served on a port.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServedCertificate {
    /// The member.
    pub member: String,
    /// The URL probed.
    pub url: String,
    /// The leaf it served; `None` when the port could not be reached or sent none.
    pub leaf: Option<Certificate>,
}

impl PreflightReport {
    /// The worst status.
    pub fn status(&self) -> Status {
        worst(&self.findings)
    }

    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.status() != Status::Fail
    }
}

/// Runs every pre-flight check of adding `req` to the cluster (see the module docs).
///
/// # Errors
/// A file of the new member that cannot be read ([`crate::Error::File`]); no endpoint
/// answering the member list ([`crate::Error::NoneReachable`]). Members that do not answer
/// after that are findings, not errors.
pub async fn preflight(conn: &Connection, req: &PreflightRequest) -> Result<PreflightReport> {
    let at = OffsetDateTime::now_utc();
    // Every file is read now, so that a bad one is an error before any connection; the rules
    // the cluster reports may judge the hosts again below.
    let early = match req.rules {
        RulesChoice::Given(rules) => AppliedRules::given(rules),
        _ => AppliedRules::default(),
    };
    let mut certificate_findings =
        check_new_member_certificates(&req.name, &req.files, &req.urls, at, &early)?;
    let roots = req.files.roots()?;
    let cert_missing = req.files.peer_cert.as_deref().is_some_and(is_missing);
    let new_identity = match (&req.files.peer_cert, &req.files.peer_key) {
        (Some(cert), Some(key)) if !cert_missing => Some(Identity::from_files(cert, key)?),
        _ => None,
    };
    let client_identity = match (&new_identity, conn.client_files()) {
        (None, Some((cert, key))) => Some(Identity::from_files(cert, key)?),
        _ => None,
    };

    let deadline = conn.deadline();
    let source = match &new_identity {
        Some(_) => new_member_source(&req.urls.peer, deadline).await,
        None => None,
    };
    let list = member_list_until(conn, deadline).await?;
    let mut others: Vec<MemberInfo> = list.members.clone();
    others.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let targets = tls_peers(&others);
    let probing = new_identity.as_ref().or(client_identity.as_ref());
    let (state, probes) = tokio::join!(
        ClusterState::of(conn, list, deadline),
        join_all(
            targets
                .iter()
                .map(|(_, url)| probe(url, probing, source, deadline))
        )
    );
    let views: Vec<MemberView> = others.iter().map(|m| state.view(m)).collect();
    let rules = AppliedRules::of_cluster(req.rules, &state);
    if rules.rules != early.rules {
        certificate_findings =
            check_new_member_certificates(&req.name, &req.files, &req.urls, at, &rules)?;
    }

    let cluster = ClusterFigures::of(&views);
    let served_leaves = targets
        .iter()
        .zip(&probes)
        .map(|((member, url), p)| ServedCertificate {
            member: member.clone(),
            url: url.url.clone(),
            leaf: p
                .as_ref()
                .ok()
                .and_then(|p| p.served.first())
                .and_then(|der| Certificate::from_der(der.clone()).ok()),
        })
        .collect();
    let mut findings = vec![quorum_now(&views)];
    findings.extend(check_add(
        &views,
        &req.name,
        &req.urls.peer_strings(),
        req.learner,
        state.learner_limit(),
    ));
    findings.push(scheme(&others, &req.urls.peer));
    findings.push(rules.finding());
    check_ownership(
        &req.name,
        &req.files,
        &req.urls,
        &others,
        &rules,
        &mut certificate_findings,
    );
    findings.extend(certificate_findings);
    findings.extend(served(
        &targets,
        &probes,
        roots.as_ref(),
        req.files.fail_within.unwrap_or(Duration::ZERO),
        &rules,
    ));
    if !cert_missing {
        findings.extend(handshakes(
            &targets,
            &probes,
            new_identity.is_some(),
            source,
            &req.urls.peer,
        ));
    }
    Ok(PreflightReport {
        findings,
        source,
        cluster,
        served: served_leaves,
        rules,
    })
}

fn quorum_now(views: &[MemberView]) -> Finding {
    let voters = views.iter().filter(|v| !v.is_learner).count();
    let healthy = views.iter().filter(|v| !v.is_learner && v.healthy).count();
    Finding::new(
        CheckId::QuorumNow,
        if tolerance(voters, healthy) < 0 {
            Status::Fail
        } else {
            Status::Pass
        },
        format!(
            "{voters} voters, {healthy} healthy, quorum {}: tolerates {} failure(s)",
            quorum(voters),
            tolerance(voters, healthy).max(0)
        ),
    )
}

/// The address the new member will connect from, when this host has it: its first peer URL's
/// IP, or the address its DNS name resolves to (looked up within the deadline).
async fn new_member_source(peer: &[HostUrl], deadline: Deadline) -> Option<IpAddr> {
    let url = peer.first()?;
    match &url.host {
        Host::Ip(ip) => bindable(*ip).then_some(*ip),
        Host::Dns(name) => {
            let lookup = tokio::net::lookup_host((name.as_str(), url.port.unwrap_or(2380)));
            let addrs = tokio::time::timeout_at(deadline, lookup).await.ok()?.ok()?;
            addrs.map(|a| a.ip()).find(|ip| bindable(*ip))
        }
    }
}

/// The started members whose (first) peer URL is https: `(name, URL)`.
fn tls_peers(others: &[MemberInfo]) -> Vec<(String, HostUrl)> {
    others
        .iter()
        .filter(|m| m.started())
        .filter_map(|m| {
            m.peer_urls
                .first()
                .and_then(|u| HostUrl::parse(u).ok())
                .map(|u| (m.name.clone(), u))
        })
        .filter(|(_, u)| u.scheme == "https")
        .collect()
}

/// The new member's peer URLs must use the cluster's scheme (runbook note 2).
fn scheme(others: &[MemberInfo], peer: &[HostUrl]) -> Finding {
    let cluster: Vec<String> = others
        .iter()
        .flat_map(|m| m.peer_urls.iter())
        .filter_map(|u| u.split_once("://").map(|(s, _)| s.to_ascii_lowercase()))
        .collect();
    let new: Vec<&str> = peer.iter().map(|u| u.scheme.as_str()).collect();
    match new.iter().find(|s| cluster.iter().any(|c| c != *s)) {
        Some(s) => Finding::fail(
            CheckId::Scheme,
            format!(
                "the new peer URLs use {s}, the cluster's peers use {}",
                cluster.first().map_or("-", String::as_str)
            ),
        )
        .remedy(Remedy::UseClusterScheme),
        None => Finding::pass(
            CheckId::Scheme,
            format!("{} like the cluster's peers", new.first().unwrap_or(&"-")),
        ),
    }
}

/// What every existing member serves on its peer port, judged by Go's rules against the peer CA
/// and its own advertised peer host.
fn served(
    targets: &[(String, HostUrl)],
    probes: &[Result<PeerProbe>],
    roots: Option<&CertPool>,
    window: Duration,
    rules: &AppliedRules,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for ((name, url), result) in targets.iter().zip(probes) {
        let about = Subject::Member(name.clone());
        let served = match result {
            Ok(p) if !p.served.is_empty() => p.served.clone(),
            Ok(_) => {
                findings.push(
                    Finding::fail(
                        CheckId::ServedCertificate,
                        format!("{} sent no certificate", url.url),
                    )
                    .about(about),
                );
                continue;
            }
            Err(e) => {
                findings.push(
                    Finding::fail(
                        CheckId::ServedCertificate,
                        format!("cannot reach its peer port {}: {}", url.url, probe_error(e)),
                    )
                    .about(about)
                    .remedy(Remedy::CheckMemberReachable {
                        member: name.clone(),
                    }),
                );
                continue;
            }
        };
        let chain: Vec<Certificate> = served
            .into_iter()
            .filter_map(|der| Certificate::from_der(der).ok())
            .collect();
        if chain.is_empty() {
            findings.push(
                Finding::fail(
                    CheckId::ServedCertificate,
                    "a certificate Go could not parse",
                )
                .about(about),
            );
            continue;
        }
        let label = format!("{name}'s peer certificate");
        let report = rules.check_input(
            &CheckInput::new(&label, &chain)
                .roots(roots)
                .role(Role::Peer)
                .hosts(std::slice::from_ref(&url.host))
                .fail_within(window),
        );
        let status = report.status();
        let problems: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.status == status && status != Status::Pass)
            .map(|f| format!("{}: {}", f.check, f.message))
            .collect();
        let subject = chain[0]
            .common_name()
            .unwrap_or(chain[0].subject())
            .to_string();
        let chain_text = if roots.is_some() {
            "chains to the peer CA, "
        } else {
            ""
        };
        findings.push(match status {
            Status::Pass => Finding::pass(
                CheckId::ServedCertificate,
                format!(
                    "{} serves {subject} (valid until {}): {chain_text}covers {}, serverAuth and clientAuth",
                    url.url,
                    pki_core::rfc3339(chain[0].not_after()),
                    url.host
                ),
            )
            .about(about),
            status => Finding::new(
                CheckId::ServedCertificate,
                status,
                format!("{} serves {subject}: {}", url.url, problems.join("; ")),
            )
            .about(about)
            .remedy_opt((status == Status::Fail).then(|| Remedy::FixServedCertificate {
                member: name.clone(),
                host: url.host.to_string(),
            })),
        });
    }
    findings
}

/// The live handshake with the new member's peer certificate and key to every existing
/// member's peer port, from the new member's own address when this host has it.
fn handshakes(
    targets: &[(String, HostUrl)],
    probes: &[Result<PeerProbe>],
    with_new_identity: bool,
    source: Option<IpAddr>,
    peer: &[HostUrl],
) -> Vec<Finding> {
    if !with_new_identity {
        return vec![Finding::warn(
            CheckId::Handshake,
            "no peer key given: the live TLS handshake with the existing members was not tried",
        )
        .remedy(Remedy::GivePeerKey)];
    }
    if !peer.iter().any(|u| u.scheme == "https") {
        return vec![];
    }
    let mut findings = Vec::new();
    for ((name, url), result) in targets.iter().zip(probes) {
        let about = Subject::Member(name.clone());
        let from = match (result, source) {
            (_, Some(ip)) => format!("from {ip}, the new member's address"),
            (Ok(p), None) => format!(
                "from {} (this host; run preflight on the new node to test from its own address)",
                p.source
                    .map_or("this host".to_string(), |s| s.ip().to_string())
            ),
            (Err(_), None) => "from this host".into(),
        };
        findings.push(match result {
            Ok(p) => match &p.accepted {
                Ok(()) => Finding::pass(
                    CheckId::Handshake,
                    format!(
                        "{} accepted the new member's peer certificate {from}",
                        url.url
                    ),
                )
                .about(about),
                // From another address, a refusal that depends on the address proves nothing
                // about the new member's; a TLS alert does.
                Err(refusal) => Finding::new(
                    CheckId::Handshake,
                    if source.is_none() && refusal.depends_on_address {
                        Status::Warn
                    } else {
                        Status::Fail
                    },
                    format!("{} {from}: {}", url.url, refusal.reason),
                )
                .about(about)
                .remedy(Remedy::FixPeerCertificate),
            },
            Err(e) => Finding::fail(
                CheckId::Handshake,
                format!("{}: {}", url.url, probe_error(e)),
            )
            .about(about),
        });
    }
    findings
}

/// A probe's failure in words: the transport's cause (the endpoint is named beside it).
fn probe_error(e: &crate::Error) -> String {
    match e {
        crate::Error::Unreachable { cause, .. } | crate::Error::Tls { cause, .. } => cause.clone(),
        crate::Error::Timeout { after, .. } => format!(
            "no TLS answer within {after:?}: the member accepts connections but does not answer (hung or overloaded?)"
        ),
        other => other.to_string(),
    }
}

/// Whether this host has the address, so that a connection can come from it.
fn bindable(ip: IpAddr) -> bool {
    std::net::TcpListener::bind((ip, 0)).is_ok()
}

//! `etcd-pki preflight`: everything that decides whether a new member can join, read-only.
//! `scale-out` runs the same checks before it changes anything.

use std::net::IpAddr;
use std::path::Path;

use futures_util::future::join_all;
use pki_core::{
    check, CertPool, Certificate, CheckInput, Host, HostUrl, Role, Status, DEFAULT_WARN_WITHIN,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::checks::{certificate_rows, rows_text, NewMemberCerts, Row};
use crate::cli::{ConnectionArgs, Format, NewMemberArgs, PreflightArgs};
use crate::etcd::connect::{block_on, Deadline, Etcd};
use crate::etcd::peer_tls::{probe, Identity, PeerProbe};
use crate::etcd::state::{member_list_until, ClusterState, MemberInfo};
use crate::exit::{usage, Outcome, Result};
use crate::membership::{check_add, quorum, tolerance, MemberView};
use crate::nodefiles::default_client_urls;
use crate::output::{print, print_json, Table};

/// The new member's URLs, parsed.
pub struct Urls {
    /// Peer URLs.
    pub peer: Vec<HostUrl>,
    /// Client URLs (given, or the peer hosts on port 2379).
    pub client: Vec<HostUrl>,
}

impl Urls {
    /// Parses the URLs of a new member (bad URLs are bad input).
    pub fn parse(member: &NewMemberArgs) -> Result<Urls> {
        Urls::from_strings(&member.peer_urls, &member.client_urls)
    }

    /// Parses peer and client URLs; without client URLs, the peer hosts on port 2379.
    pub fn from_strings(peer_urls: &[String], client_urls: &[String]) -> Result<Urls> {
        let parse = |urls: &[String]| {
            urls.iter()
                .map(|u| HostUrl::parse(u).map_err(usage))
                .collect::<Result<Vec<_>>>()
        };
        let peer = parse(peer_urls)?;
        let client = if client_urls.is_empty() {
            default_client_urls(&peer)
        } else {
            parse(client_urls)?
        };
        Ok(Urls { peer, client })
    }
}

#[derive(Serialize)]
struct PreflightJson<'a> {
    name: &'a str,
    status: Status,
    checks: &'a [Row],
}

pub fn run(args: &PreflightArgs) -> Result<Outcome> {
    let etcd = Etcd::from_args(&args.connection)?;
    let urls = Urls::parse(&args.member)?;
    let rows = block_on(checks(
        &etcd,
        &args.connection,
        &args.member,
        &urls,
        !args.voter,
    ))??;
    let status = rows.iter().map(|r| r.status).max().unwrap_or(Status::Pass);
    match args.write_out {
        Format::Json => print_json(&PreflightJson {
            name: &args.member.name,
            status,
            checks: &rows,
        })?,
        Format::Table => {
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
        Format::Simple => print(&format!(
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

/// "PASS: 23 checks" / "FAIL: 2 of 23 checks failed".
pub fn summary(rows: &[Row]) -> String {
    let failed = rows.iter().filter(|r| r.status == Status::Fail).count();
    let warned = rows.iter().filter(|r| r.status == Status::Warn).count();
    match (failed, warned) {
        (0, 0) => format!("PASS: all {} checks passed", rows.len()),
        (0, w) => format!("PASS: {} checks, {w} with warnings", rows.len()),
        (f, _) => format!("FAIL: {f} of {} checks failed", rows.len()),
    }
}

/// Every preflight check. The new member's files are read first (a bad file is bad input, exit
/// 2, before any connection); then everything that talks to the cluster runs concurrently under
/// one deadline (dial + command timeout): members' health and status, and one TLS connection to
/// each member's peer port, which records the certificate it serves and, with the new member's
/// peer key, tries the live handshake. A member that hangs costs that deadline once.
pub async fn checks(
    etcd: &Etcd,
    conn: &ConnectionArgs,
    member: &NewMemberArgs,
    urls: &Urls,
    learner: bool,
) -> Result<Vec<Row>> {
    let peer_ca = member.peer_cacert.as_deref().or(conn.cacert.as_deref());
    let certs = NewMemberCerts {
        peer_cert: member.peer_cert.as_deref().or(conn.cert.as_deref()),
        peer_key: member
            .peer_key
            .as_deref()
            .or(if member.peer_cert.is_none() {
                conn.key.as_deref()
            } else {
                None
            }),
        server_cert: member.server_cert.as_deref(),
        cacert: peer_ca,
        fail_within: Some(member.expires_within),
    };
    let certificate_rows = certificate_rows(&certs, &urls.peer, &urls.client)?;
    let roots: Option<CertPool> = match peer_ca {
        Some(ca) => Some(pki_core::load_certificates(ca)?.into_iter().collect()),
        None => None,
    };
    // Who the probes present themselves as: the new member (its peer certificate and key: the
    // live handshake), else the connection's client certificate (so that members do not log a
    // connection without one), else nobody.
    let new_identity = match (certs.peer_cert, certs.peer_key) {
        (Some(cert), Some(key)) => Some(identity(cert, key)?),
        _ => None,
    };
    let client_identity = match (&new_identity, &conn.cert, &conn.key) {
        (None, Some(cert), Some(key)) => Some(identity(cert, key)?),
        _ => None,
    };

    let deadline = etcd.deadline();
    let source = match &new_identity {
        Some(_) => new_member_source(&urls.peer, deadline).await,
        None => None,
    };
    let list = member_list_until(etcd, deadline).await?;
    let mut others: Vec<MemberInfo> = list.members.clone();
    others.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let targets = tls_peers(&others);
    let probing = new_identity.as_ref().or(client_identity.as_ref());
    let (state, probes) = tokio::join!(
        ClusterState::of(etcd, list, deadline),
        join_all(
            targets
                .iter()
                .map(|(_, url)| probe(url, probing, source, deadline))
        )
    );
    let views: Vec<MemberView> = others.iter().map(|m| state.view(m)).collect();

    let mut rows = Vec::new();
    let voters = views.iter().filter(|v| !v.is_learner).count();
    let healthy = views.iter().filter(|v| !v.is_learner && v.healthy).count();
    rows.push(Row::from_parts(
        if tolerance(voters, healthy) < 0 {
            Status::Fail
        } else {
            Status::Pass
        },
        "quorum now",
        format!(
            "{voters} voters, {healthy} healthy, quorum {}: tolerates {} failure(s)",
            quorum(voters),
            tolerance(voters, healthy).max(0)
        ),
        None,
    ));
    rows.extend(
        check_add(
            &views,
            &member.name,
            &member.peer_urls,
            learner,
            state.learner_limit(),
        )
        .into_iter()
        .map(Row::from),
    );
    let other_refs: Vec<&MemberInfo> = others.iter().collect();
    rows.push(scheme_row(&other_refs, &urls.peer));
    rows.extend(certificate_rows);
    rows.extend(served_rows(
        &targets,
        &probes,
        roots.as_ref(),
        member.expires_within,
    ));
    rows.extend(handshake_rows(
        &targets,
        &probes,
        new_identity.is_some(),
        source,
        &urls.peer,
    ));
    Ok(rows)
}

/// A probe identity from a certificate file and its key.
fn identity(cert: &Path, key: &Path) -> Result<Identity> {
    Ok(Identity {
        certs_pem: pki_core::read_file(cert)?,
        key_pem: zeroize::Zeroizing::new(pki_core::read_file(key)?),
    })
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
fn scheme_row(others: &[&MemberInfo], peer: &[HostUrl]) -> Row {
    let cluster: Vec<String> = others
        .iter()
        .flat_map(|m| m.peer_urls.iter())
        .filter_map(|u| u.split_once("://").map(|(s, _)| s.to_ascii_lowercase()))
        .collect();
    let new: Vec<&str> = peer.iter().map(|u| u.scheme.as_str()).collect();
    let mismatch = new.iter().find(|s| cluster.iter().any(|c| c != *s));
    match mismatch {
        Some(s) => Row::from_parts(
            Status::Fail,
            "scheme",
            format!("the new peer URLs use {s}, the cluster's peers use {}", cluster.first().map_or("-", String::as_str)),
            Some("use the cluster's scheme: a member cannot join over http a cluster whose peers talk https, nor the other way round".into()),
        ),
        None => Row::from_parts(Status::Pass, "scheme", format!("{} like the cluster's peers", new.first().unwrap_or(&"-")), None),
    }
}

/// What every existing member serves on its peer port, judged by Go's rules against the peer CA
/// and its own advertised peer host.
fn served_rows(
    targets: &[(String, HostUrl)],
    probes: &[Result<PeerProbe, String>],
    roots: Option<&CertPool>,
    window: time::Duration,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for ((name, url), result) in targets.iter().zip(probes) {
        let check_name = format!("{name} serves");
        let served = match result {
            Ok(p) if !p.served.is_empty() => p.served.clone(),
            Ok(_) => {
                rows.push(Row::from_parts(
                    Status::Fail,
                    &check_name,
                    format!("{} sent no certificate", url.url),
                    None,
                ));
                continue;
            }
            Err(e) => {
                rows.push(Row::from_parts(
                    Status::Fail,
                    &check_name,
                    format!("cannot reach its peer port {}: {e}", url.url),
                    Some(format!(
                        "check that {name} runs and answers, and that its peer URL is reachable from here"
                    )),
                ));
                continue;
            }
        };
        let chain: Vec<Certificate> = served
            .into_iter()
            .filter_map(|der| Certificate::from_der(der).ok())
            .collect();
        if chain.is_empty() {
            rows.push(Row::from_parts(
                Status::Fail,
                &check_name,
                "a certificate Go could not parse".into(),
                None,
            ));
            continue;
        }
        let label = format!("{name}'s peer certificate");
        let report = check(&CheckInput {
            label: &label,
            chain: &chain,
            key: None,
            roots,
            role: Some(Role::Peer),
            hosts: std::slice::from_ref(&url.host),
            at: OffsetDateTime::now_utc(),
            files: pki_core::EtcdFiles::default(),
            fail_within: Some(window),
            warn_within: DEFAULT_WARN_WITHIN,
        });
        let worst = report
            .findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Pass);
        let problems: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.status == worst && worst != Status::Pass)
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
        rows.push(match worst {
            Status::Pass => Row::from_parts(
                Status::Pass,
                &check_name,
                format!(
                    "{} serves {subject} (valid until {}): {chain_text}covers {}, serverAuth and clientAuth",
                    url.url,
                    pki_core::rfc3339(chain[0].not_after()),
                    url.host
                ),
                None,
            ),
            status => Row::from_parts(
                status,
                &check_name,
                format!("{} serves {subject}: {}", url.url, problems.join("; ")),
                (status == Status::Fail).then(|| format!(
                    "give {name} a peer certificate from the cluster CA that covers {} (etcd reads the files on every handshake; no restart needed)",
                    url.host
                )),
            ),
        });
    }
    rows
}

/// The live handshake with the new member's peer certificate and key to every existing
/// member's peer port, from the new member's own address when this host has it.
fn handshake_rows(
    targets: &[(String, HostUrl)],
    probes: &[Result<PeerProbe, String>],
    with_new_identity: bool,
    source: Option<IpAddr>,
    peer: &[HostUrl],
) -> Vec<Row> {
    if !with_new_identity {
        return vec![Row::from_parts(
            Status::Warn,
            "handshake",
            "no peer key given: the live TLS handshake with the existing members was not tried".into(),
            Some("give --peer-key (with --peer-cert) to test the certificate against the running members".into()),
        )];
    }
    if !peer.iter().any(|u| u.scheme == "https") {
        return vec![];
    }
    let mut rows = Vec::new();
    for ((name, url), result) in targets.iter().zip(probes) {
        let check_name = format!("handshake with {name}");
        let from = match (result, source) {
            (_, Some(ip)) => format!("from {ip}, the new member's address"),
            (Ok(p), None) => format!(
                "from {} (this host; run preflight on the new node to test from its own address)",
                p.source
                    .map_or("this host".to_string(), |s| s.ip().to_string())
            ),
            (Err(_), None) => "from this host".into(),
        };
        rows.push(match result {
            Ok(p) => match &p.accepted {
                Ok(()) => Row::from_parts(
                    Status::Pass,
                    &check_name,
                    format!("{} accepted the new member's peer certificate {from}", url.url),
                    None,
                ),
                // From another address, a refusal that depends on the address proves nothing
                // about the new member's; a TLS alert does.
                Err(refusal) => Row::from_parts(
                    if source.is_none() && refusal.depends_on_address {
                        Status::Warn
                    } else {
                        Status::Fail
                    },
                    &check_name,
                    format!("{} {from}: {}", url.url, refusal.reason),
                    Some("the new member would be refused the same way: fix its peer certificate (etcd-pki check --role peer shows why)".into()),
                ),
            },
            Err(e) => Row::from_parts(Status::Fail, &check_name, format!("{}: {e}", url.url), None),
        });
    }
    rows
}

/// Whether this host has the address, so that a connection can come from it.
fn bindable(ip: IpAddr) -> bool {
    std::net::TcpListener::bind((ip, 0)).is_ok()
}

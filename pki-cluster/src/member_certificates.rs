//! The certificates a new member will use, checked in their roles before it is added: its peer
//! certificate as a peer certificate for every peer URL host, its server certificate as a
//! server certificate for its client URL hosts, both against the cluster CA, with pki-core's
//! checks (key pair, validity, chain, usages, coverage, file format). Also refused: a write
//! interrupted beside these files, which may have left a certificate apart from its key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pki_core::{
    interrupted_writes, CertPool, CheckId, CheckInput, Finding, Host, HostUrl, Remedy, Role,
    Status, Subject,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::etcd_rules::AppliedRules;
use crate::state::MemberInfo;
use crate::urls::MemberUrls;

/// The files a new member will use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewMemberFiles {
    /// Its peer certificate (`--peer-cert-file`; the runbook's members.pem).
    pub peer_cert: Option<PathBuf>,
    /// The peer certificate's key: checked to match, and used for a live handshake.
    pub peer_key: Option<PathBuf>,
    /// Its server certificate (`--cert-file`; the runbook's server.pem).
    pub server_cert: Option<PathBuf>,
    /// The CA the members trust for peers (`--peer-trusted-ca-file`).
    pub peer_ca: Option<PathBuf>,
    /// A certificate expiring within this window fails (default: only an expired one).
    pub fail_within: Option<Duration>,
}

impl NewMemberFiles {
    /// No files yet.
    pub fn new() -> NewMemberFiles {
        NewMemberFiles::default()
    }

    /// The peer certificate.
    #[must_use]
    pub fn peer_cert(mut self, path: impl AsRef<Path>) -> NewMemberFiles {
        self.peer_cert = Some(path.as_ref().to_path_buf());
        self
    }

    /// The peer certificate's key.
    #[must_use]
    pub fn peer_key(mut self, path: impl AsRef<Path>) -> NewMemberFiles {
        self.peer_key = Some(path.as_ref().to_path_buf());
        self
    }

    /// The server certificate.
    #[must_use]
    pub fn server_cert(mut self, path: impl AsRef<Path>) -> NewMemberFiles {
        self.server_cert = Some(path.as_ref().to_path_buf());
        self
    }

    /// The CA the members trust for peers.
    #[must_use]
    pub fn peer_ca(mut self, path: impl AsRef<Path>) -> NewMemberFiles {
        self.peer_ca = Some(path.as_ref().to_path_buf());
        self
    }

    /// Fail certificates that expire within `window`.
    #[must_use]
    pub fn fail_within(mut self, window: Duration) -> NewMemberFiles {
        self.fail_within = Some(window);
        self
    }

    /// The peer CA as a pool of trust anchors, when given.
    pub(crate) fn roots(&self) -> pki_core::Result<Option<CertPool>> {
        match &self.peer_ca {
            Some(ca) => {
                let bytes = pki_core::read_file(ca)?;
                Ok(Some(
                    pki_core::certificates_from_bytes(&bytes)
                        .map_err(|e| e.with_path(ca))?
                        .into_iter()
                        .collect(),
                ))
            }
            None => Ok(None),
        }
    }
}

/// Checks the new member's certificates for its URLs at `at`, hosts judged under every rule
/// set of `rules` (the stricter verdict stands).
///
/// # Errors
/// A file that cannot be read or is not a certificate (or key) is an error naming it: bad
/// input, not a finding.
pub fn check_new_member_certificates(
    name: &str,
    files: &NewMemberFiles,
    urls: &MemberUrls,
    at: OffsetDateTime,
    rules: &AppliedRules,
) -> pki_core::Result<Vec<Finding>> {
    let roots = files.roots()?;
    let judging = Judging {
        roots: roots.as_ref(),
        at,
        rules,
    };
    let mut findings = unfinished_writes(files);
    let https = urls.peer.iter().any(|u| u.scheme == "https");
    match (https, &files.peer_cert) {
        (false, _) => findings.push(
            Finding::warn(
                CheckId::CertificateGiven,
                "the peer URLs are plain http: no certificate is involved",
            )
            .about(Subject::PeerCertificate),
        ),
        (true, None) => findings.push(
            Finding::fail(
                CheckId::CertificateGiven,
                "no certificate to check for the new member's https peer URLs",
            )
            .about(Subject::PeerCertificate)
            .remedy(Remedy::GivePeerCertificate),
        ),
        (true, Some(cert)) if is_missing(cert) => {
            findings.push(missing(name, cert, urls, Subject::PeerCertificate))
        }
        (true, Some(cert)) => findings.extend(role_findings(
            files,
            cert,
            files.peer_key.as_deref(),
            Role::Peer,
            &urls.peer_hosts(),
            &judging,
        )?),
    }
    match (&files.server_cert, urls.client.is_empty()) {
        (Some(cert), _) if is_missing(cert) => {
            findings.push(missing(name, cert, urls, Subject::ServerCertificate))
        }
        (Some(cert), _) => findings.extend(role_findings(
            files,
            cert,
            None,
            Role::Server,
            &urls.client_hosts(),
            &judging,
        )?),
        (None, false) => {
            let client_urls: Vec<String> = urls.client.iter().map(|u| u.url.clone()).collect();
            findings.push(
                Finding::warn(
                    CheckId::CertificateGiven,
                    format!(
                        "the new member's client URLs ({}) were given without its server certificate: the certificate it will serve them with was not checked",
                        client_urls.join(", ")
                    ),
                )
                .about(Subject::ServerCertificate)
                .remedy(Remedy::GiveServerCertificate { client_urls }),
            )
        }
        (None, true) => {}
    }
    Ok(findings)
}

/// Whether a certificate file does not exist (not even as a broken link): the new member has
/// no certificate yet, which is a finding; any other unreadable file is bad input.
pub(crate) fn is_missing(path: &Path) -> bool {
    matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// The new member's hosts, as an issue remedy lists them: IPs, then DNS names, each once.
fn new_member_hosts(urls: &MemberUrls) -> (Vec<IpAddr>, Vec<String>) {
    let mut ips: Vec<IpAddr> = Vec::new();
    let mut dns: Vec<String> = Vec::new();
    for host in urls.peer_hosts().into_iter().chain(urls.client_hosts()) {
        match host {
            Host::Ip(ip) if !ips.contains(&ip) => ips.push(ip),
            Host::Dns(d) if !dns.iter().any(|x| x.eq_ignore_ascii_case(&d)) => dns.push(d),
            _ => {}
        }
    }
    (ips, dns)
}

/// The remedy for a new member without certificates of its own.
pub(crate) fn issue_remedy(name: &str, urls: &MemberUrls, like: Option<PathBuf>) -> Remedy {
    let (ips, dns) = new_member_hosts(urls);
    Remedy::IssueOwnCertificates {
        name: name.to_string(),
        ips,
        dns,
        like,
    }
}

/// A FAIL for a certificate file that does not exist.
fn missing(name: &str, cert: &Path, urls: &MemberUrls, subject: Subject) -> Finding {
    Finding::fail(
        CheckId::CertificateGiven,
        format!(
            "{} does not exist: the new member has no certificate there yet",
            pki_core::display_path(cert)
        ),
    )
    .about(subject)
    .remedy(issue_remedy(name, urls, None))
}

/// Whether the new member's certificates are its own: a certificate that names exactly one
/// other member (its common name or a DNS SAN is the member's name, or starts with it as a first
/// label) and covers no other member's peer address, or that names none and covers exactly one
/// member's peer address, is that member's. The new member would run on a copy of its identity
/// (FAIL when it does not cover the new member either; then reissuing it with the new address is
/// the wrong fix: the coverage findings' remedy becomes issuing its own). A certificate that
/// names or covers several members is shared by them, as in the runbook's layout: not flagged.
/// Covering is judged under every rule set of `rules`.
pub fn check_ownership(
    name: &str,
    files: &NewMemberFiles,
    urls: &MemberUrls,
    members: &[MemberInfo],
    rules: &AppliedRules,
    findings: &mut Vec<Finding>,
) {
    let others: Vec<&MemberInfo> = members.iter().filter(|m| m.name != name).collect();
    for (cert, subject, hosts) in [
        (
            &files.peer_cert,
            Subject::PeerCertificate,
            urls.peer_hosts(),
        ),
        (
            &files.server_cert,
            Subject::ServerCertificate,
            urls.client_hosts(),
        ),
    ] {
        let Some(cert) = cert else { continue };
        let Some(leaf) = pki_core::read_file(cert)
            .ok()
            .and_then(|b| pki_core::certificates_from_bytes(&b).ok())
            .and_then(|mut c| (!c.is_empty()).then(|| c.remove(0)))
        else {
            continue;
        };
        // Which existing members it names (common name or a DNS SAN is the member's name, or
        // starts with it as its first label: etcd-a.etcd.test names etcd-a) and whose peer
        // address it covers. A certificate that names or covers several members is shared by
        // them (the runbook's layout), not one member's.
        let first_label = |s: &str| s.split('.').next().unwrap_or(s).to_ascii_lowercase();
        let names_member = |m: &MemberInfo| {
            let name = m.name.to_ascii_lowercase();
            !name.is_empty()
                && (leaf
                    .common_name()
                    .is_some_and(|cn| cn.eq_ignore_ascii_case(&name) || first_label(cn) == name)
                    || leaf
                        .sans()
                        .dns
                        .iter()
                        .any(|d| d.eq_ignore_ascii_case(&name) || first_label(d) == name))
        };
        let named: Vec<&MemberInfo> = others.iter().filter(|m| names_member(m)).copied().collect();
        let covered: Vec<&MemberInfo> = others
            .iter()
            .filter(|m| {
                m.peer_urls
                    .iter()
                    .any(|u| HostUrl::parse(u).is_ok_and(|u| rules.covers(&leaf, &u.host)))
            })
            .copied()
            .collect();
        let owner = match (named.as_slice(), covered.as_slice()) {
            ([m], c) if c.len() <= 1 => {
                Some((*m, "its common name or a DNS name is the member's name"))
            }
            ([], [m]) => Some((
                *m,
                "it covers that member's peer address and no other member's",
            )),
            _ => None,
        };
        let covers_new = hosts.iter().all(|h| rules.covers(&leaf, h));
        let like = cert.parent().map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        });
        match owner {
            Some((m, why)) => {
                let label = display_name(&m.name, m.id);
                findings.push(
                    Finding::new(
                        CheckId::Owner,
                        if covers_new { Status::Warn } else { Status::Fail },
                        format!(
                            "{} is {label}'s certificate ({why}){}: the new member would run on a copy of {label}'s identity; it needs certificates of its own",
                            file_label(cert),
                            if covers_new { ", although it covers the new member too" } else { "" }
                        ),
                    )
                    .about(subject.clone())
                    .remedy(issue_remedy(name, urls, like.clone())),
                );
                // Reissuing another member's certificate with the new address is not the fix.
                for f in findings.iter_mut() {
                    if f.subject.as_ref() == Some(&subject)
                        && matches!(f.remedy, Some(Remedy::Reissue { .. }))
                    {
                        f.remedy = Some(issue_remedy(name, urls, like.clone()));
                    }
                }
            }
            None => findings.push(
                Finding::pass(
                    CheckId::Owner,
                    format!(
                        "{} is not another member's own certificate",
                        file_label(cert)
                    ),
                )
                .about(subject),
            ),
        }
    }
}

fn display_name(name: &str, id: u64) -> String {
    if name.is_empty() {
        format!("member {id:x}")
    } else {
        name.to_string()
    }
}

/// A FAIL for each unfinished write beside the new member's files: until it is recovered, a
/// certificate there may not match its key.
fn unfinished_writes(files: &NewMemberFiles) -> Vec<Finding> {
    let mut dirs: Vec<&Path> = [
        &files.peer_cert,
        &files.peer_key,
        &files.server_cert,
        &files.peer_ca,
    ]
    .into_iter()
    .flatten()
    .map(|f| match f.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    })
    .collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .flat_map(|dir| {
            interrupted_writes(dir).into_iter().map(move |w| {
                Finding::fail(
                    CheckId::UnfinishedWrite,
                    format!(
                        "{} {} in {}: the files there may be a mix of old and new",
                        w.operation.as_deref().unwrap_or("a write"),
                        if w.in_progress {
                            "is running"
                        } else {
                            "was interrupted"
                        },
                        pki_core::display_path(dir)
                    ),
                )
                .remedy(if w.in_progress {
                    Remedy::WaitForWrite
                } else {
                    Remedy::Recover {
                        dir: dir.to_path_buf(),
                    }
                })
            })
        })
        .collect()
}

/// What every certificate of the new member is judged against.
struct Judging<'a> {
    /// The peer CA.
    roots: Option<&'a CertPool>,
    /// The instant.
    at: OffsetDateTime,
    /// The Go rules hosts are judged by.
    rules: &'a AppliedRules,
}

/// pki-core's checks of one certificate in one role, about the peer or server certificate.
fn role_findings(
    files: &NewMemberFiles,
    cert: &Path,
    key: Option<&Path>,
    role: Role,
    hosts: &[Host],
    judging: &Judging<'_>,
) -> pki_core::Result<Vec<Finding>> {
    let Judging { roots, at, rules } = *judging;
    let bytes = pki_core::read_file(cert)?;
    let chain = pki_core::certificates_from_bytes(&bytes).map_err(|e| e.with_path(cert))?;
    let key_bytes = key
        .map(pki_core::read_file)
        .transpose()?
        .map(Zeroizing::new);
    let private = match (key, &key_bytes) {
        (Some(path), Some(b)) => {
            Some(pki_core::private_key_from_bytes(b).map_err(|e| e.with_path(path))?)
        }
        _ => None,
    };
    let label = file_label(cert);
    let report = rules.check_input(
        &CheckInput::new(&label, &chain)
            .key(private.as_ref())
            .roots(roots)
            .role(role)
            .hosts(hosts)
            .at(at)
            .files(
                pki_core::EtcdFiles::default()
                    .certificate(bytes.as_slice())
                    .key(key_bytes.as_ref().map(|k| k.as_slice())),
            )
            .fail_within(files.fail_within),
    );
    let subject = match role {
        Role::Server => Subject::ServerCertificate,
        _ => Subject::PeerCertificate,
    };
    Ok(report
        .findings
        .into_iter()
        .map(|f| f.about(subject.clone()))
        .collect())
}

/// A file's name, for messages.
pub(crate) fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| pki_core::display_path(path).into_owned())
}

/// The writes that reissue `cert` from `ca` so that, in `role`, it covers every host of
/// `hosts` (adding the ones it does not cover and keeping its key and everything else), and the
/// SANs added; `None` when it covers them all already (under every rule set of `rules`). A
/// scale-out's and a restore's `--fix-certs`.
///
/// # Errors
/// A certificate that cannot be read, or a reissue the CA refuses.
pub(crate) fn reissue_to_cover(
    cert: &Path,
    role: Role,
    hosts: &[Host],
    ca: &pki_core::CertificateAuthority,
    now: OffsetDateTime,
    rules: &AppliedRules,
) -> pki_core::Result<Option<(Vec<pki_core::write::FileWrite>, Vec<String>)>> {
    let chain = pki_core::load_certificates(cert)?;
    let report = rules.check_input(
        &CheckInput::new("", &chain)
            .role(role)
            .hosts(hosts)
            .at(now)
            .warn_within(Duration::ZERO),
    );
    let (add_ips, add_dns) = report.uncovered_hosts();
    if add_ips.is_empty() && add_dns.is_empty() {
        return Ok(None);
    }
    let mut req = pki_core::ReissueRequest::renew(now);
    for ip in add_ips {
        req = req.add_ip(ip);
    }
    for name in add_dns {
        req = req.add_dns(name);
    }
    let original = pki_core::read_file(cert)?;
    let reissued = pki_core::reissue(&chain[0], None, ca, &req).map_err(|e| e.with_path(cert))?;
    let writes = pki_core::reissue_writes(&original, &reissued, cert, None::<(&Path, _)>)?;
    Ok(Some((writes, reissued.plan.added.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(rel)
    }

    fn member(id: u64, name: &str, ip: &str) -> MemberInfo {
        MemberInfo {
            id,
            name: name.into(),
            peer_urls: vec![format!("https://{ip}:2380")],
            client_urls: vec![format!("https://{ip}:2379")],
            is_learner: false,
        }
    }

    fn owner(cert: &str, members: &[MemberInfo], new_ip: &str) -> Vec<(Status, String)> {
        let files = NewMemberFiles::new().peer_cert(fixture(cert));
        let urls = MemberUrls::parse(&[format!("https://{new_ip}:2380")], &[] as &[&str]).unwrap();
        let mut findings = Vec::new();
        check_ownership(
            "newbie",
            &files,
            &urls,
            members,
            &AppliedRules::default(),
            &mut findings,
        );
        findings
            .into_iter()
            .filter(|f| f.check == CheckId::Owner)
            .map(|f| (f.status, f.message))
            .collect()
    }

    #[test]
    fn shared_certificates_are_nobodys_own() {
        let seed = [
            member(1, "infra0", "127.0.0.11"),
            member(2, "infra1", "127.0.0.12"),
            member(3, "infra2", "127.0.0.13"),
        ];
        let found = owner("cfssl/members.pem", &seed, "127.0.0.14");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Status::Pass, "{found:?}");
    }

    #[test]
    fn another_members_certificate_is_named_by_its_name_or_address() {
        // kubeadm: CN and a DNS SAN are the node's name.
        let found = owner(
            "kubeadm/peer.crt",
            &[
                member(1, "node-1", "127.0.0.41"),
                member(2, "node-2", "127.0.0.42"),
            ],
            "127.0.0.43",
        );
        assert_eq!(found[0].0, Status::Fail, "{found:?}");
        assert!(found[0].1.contains("node-1's certificate"), "{found:?}");
        // A one-member cluster whose member's certificate names it by FQDN.
        let found = owner(
            "per-member/etcd-a/etcd-a-peer.pem",
            &[member(1, "etcd-a", "127.0.0.21")],
            "127.0.0.24",
        );
        assert_eq!(found[0].0, Status::Fail, "{found:?}");
        // Only its address: the member's own too.
        let found = owner(
            "per-member/etcd-a/etcd-a-peer.pem",
            &[member(1, "a", "127.0.0.21"), member(2, "b", "127.0.0.22")],
            "127.0.0.24",
        );
        assert_eq!(found[0].0, Status::Fail, "{found:?}");
    }
}

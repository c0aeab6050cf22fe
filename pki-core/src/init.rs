//! Creating a cluster's PKI from scratch: a CA and the server, peer and client certificates of
//! every member, in one of the two layouts etcd hosts have, with the usages etcd needs (server
//! and peer certificates carry serverAuth and clientAuth).
//!
//! - **cfssl** (the seed runbook's): shared `ca.pem`/`ca-key.pem`, `server.pem`/`server-key.pem`
//!   and `members.pem`/`members-key.pem` covering every member (and 127.0.0.1, localhost), plus
//!   `client.pem`/`client-key.pem` for etcdctl.
//! - **kubeadm**: `ca.crt`/`ca.key`, and per member a directory named after it holding what
//!   `/etc/kubernetes/pki/etcd` holds on that node: `ca.crt`, `server.crt`/`.key` and
//!   `peer.crt`/`.key` (covering the member's name, IP, localhost, 127.0.0.1 and ::1), and
//!   `healthcheck-client.crt`/`.key` (CN kube-etcd-healthcheck-client, O system:masters).
//!
//! Certificates are made with rcgen; keys are written as cfssl and kubeadm write them (PKCS#1
//! RSA, SEC1 ECDSA; PKCS#8 for Ed25519). Every certificate is checked with [`crate::check()`]
//! (chain, usages for its role, coverage of its hosts) before anything is returned.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyUsagePurpose, SanType, SerialNumber,
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::ca::{sha1_key_id, SigningAlgorithm};
use crate::cert::Certificate;
use crate::check::{check, CheckInput};
use crate::error::{Error, MemberProblem, RequestProblem, Result};
use crate::finding::Status;
use crate::host::Host;
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::reissue::BACKDATE;
use crate::usage::Role;
use crate::verify::CertPool;
use crate::write::FileWrite;

/// The file layout of a PKI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// The seed runbook's shared cfssl files.
    Cfssl,
    /// kubeadm's per-member files.
    Kubeadm,
}

/// A member to issue certificates for: [`Member::new`] or [`Member::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Member {
    /// Its etcd `--name`.
    pub name: String,
    /// The IP its peer and client URLs use.
    pub ip: IpAddr,
    /// Extra DNS names to cover.
    pub dns: Vec<String>,
}

impl Member {
    /// A member named `name` (its etcd `--name`) at `ip`, with no extra DNS names. The name is
    /// checked when the PKI is made.
    pub fn new(name: impl Into<String>, ip: IpAddr) -> Member {
        Member {
            name: name.into(),
            ip,
            dns: Vec::new(),
        }
    }

    /// Adds a DNS name to cover.
    pub fn dns(mut self, name: impl Into<String>) -> Member {
        self.dns.push(name.into());
        self
    }

    /// Parses `NAME=IP[,DNS...]`, e.g. `infra0=10.0.11.36` or
    /// `infra3=10.0.12.157,etcd-3.example.com`.
    pub fn parse(spec: &str) -> Result<Member> {
        let invalid = |problem: MemberProblem| Error::InvalidRequest {
            path: None,
            problem: RequestProblem::InvalidMember {
                spec: spec.to_string(),
                problem,
            },
        };
        let (name, rest) = spec
            .split_once('=')
            .ok_or_else(|| invalid(MemberProblem::NoEquals))?;
        let name = name.trim();
        if !name_chars_ok(name) {
            return Err(invalid(MemberProblem::BadName));
        }
        let mut parts = rest.split(',').map(str::trim);
        let ip = parts
            .next()
            .unwrap_or("")
            .parse::<IpAddr>()
            .map_err(|_| invalid(MemberProblem::NotAnIp))?;
        let dns: Vec<String> = parts
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let member = Member {
            name: name.to_string(),
            ip,
            dns,
        };
        member.problem().map_or(Ok(member), |p| Err(invalid(p)))
    }

    /// What is wrong with the member's name or DNS names, if anything: what [`Member::parse`]
    /// refuses, checked again by [`init`] for members made with [`Member::new`].
    fn problem(&self) -> Option<MemberProblem> {
        if !name_chars_ok(&self.name) {
            return Some(MemberProblem::BadName);
        }
        for d in &self.dns {
            if let Err(problem) = crate::dns_name::validate_dns(d) {
                return Some(MemberProblem::BadDnsName {
                    name: d.clone(),
                    problem,
                });
            }
        }
        if self.name.len() > MAX_NAME_LEN {
            return Some(MemberProblem::NameTooLong {
                len: self.name.len(),
                max: MAX_NAME_LEN,
            });
        }
        None
    }
}

/// Whether a member name is letters, digits, `-`, `_` and `.`, not empty and not starting with
/// `.` (it names a directory in the kubeadm layout).
pub(crate) fn name_chars_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.')
}

/// The longest member or CA name: X.520's upper bound for a common name (`ub-common-name`, 64),
/// which both become.
pub(crate) const MAX_NAME_LEN: usize = 64;

/// What to create: [`InitRequest::new`] and the methods below.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InitRequest {
    /// The layout.
    pub layout: Layout,
    /// The members.
    pub members: Vec<Member>,
    /// The key algorithm of every key.
    pub algorithm: KeyAlgorithm,
    /// Validity of member and client certificates, in days.
    pub days: u32,
    /// Validity of the CA, in days.
    pub ca_days: u32,
    /// The CA's common name.
    pub ca_name: String,
    /// The instant validity starts from (before backdating).
    pub at: OffsetDateTime,
}

impl InitRequest {
    /// A PKI in `layout` for `members`, as `etcd-pki init` makes it by default: ECDSA P-256
    /// keys, certificates for 365 days, a CA named `etcd-ca` for 3650 days, from now.
    pub fn new(layout: Layout, members: impl IntoIterator<Item = Member>) -> InitRequest {
        InitRequest {
            layout,
            members: members.into_iter().collect(),
            algorithm: KeyAlgorithm::Ecdsa {
                curve: crate::key::Curve::P256,
            },
            days: 365,
            ca_days: 3650,
            ca_name: "etcd-ca".into(),
            at: OffsetDateTime::now_utc(),
        }
    }

    /// The key algorithm of every key.
    pub fn algorithm(mut self, algorithm: KeyAlgorithm) -> InitRequest {
        self.algorithm = algorithm;
        self
    }

    /// Validity of member and client certificates, in days.
    pub fn days(mut self, days: u32) -> InitRequest {
        self.days = days;
        self
    }

    /// Validity of the CA, in days.
    pub fn ca_days(mut self, days: u32) -> InitRequest {
        self.ca_days = days;
        self
    }

    /// The CA's common name.
    pub fn ca_name(mut self, name: impl Into<String>) -> InitRequest {
        self.ca_name = name.into();
        self
    }

    /// The instant validity starts from (before backdating) instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> InitRequest {
        self.at = at;
        self
    }
}

/// One file of a new PKI, with what it is for.
#[derive(Debug)]
#[non_exhaustive]
pub struct PkiFile {
    /// The file to write.
    pub write: FileWrite,
    /// What it is, in a few words.
    pub description: String,
}

/// Files whose presence means a PKI already exists in a directory.
const EXISTING_PKI_MARKERS: &[&str] = &["ca.pem", "ca-key.pem", "ca.crt", "ca.key"];

/// Generates a PKI for `dir`, verified, as files to write; refuses when `dir` already holds a
/// PKI (a CA of either layout, or any file this would write).
pub fn init(dir: impl AsRef<Path>, req: &InitRequest) -> Result<Vec<PkiFile>> {
    let dir = dir.as_ref();
    validate(req)?;
    let now = req.at;
    let ca_key = PrivateKey::generate(&req.algorithm)?;
    let ca_pair = key_pair(&ca_key)?;
    let ca_params = ca_params(
        &req.ca_name,
        Some("etcd"),
        Duration::days(i64::from(req.ca_days)),
        now,
        &ca_pair,
    )?;
    let ca_not_after = ca_params.not_after;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_pair).map_err(signing)?;
    let ca_cert =
        Certificate::from_der(ca.der().to_vec()).map_err(|reason| Error::Signing { reason })?;
    let roots: CertPool = std::iter::once(ca_cert.clone()).collect();

    let mut files = vec![PkiFile {
        write: FileWrite::public(dir.join(ca_file(req.layout)), ca_cert.to_pem()),
        description: format!("CA certificate ({})", req.ca_name),
    }];
    files.push(PkiFile {
        write: FileWrite::secret(dir.join(ca_key_file(req.layout)), pem_bytes(&ca_key)?),
        description: "CA private key: keep it off the members if you can".into(),
    });

    let issue = |path: PathBuf,
                 what: String,
                 role: Role,
                 cn: &str,
                 org: Option<&str>,
                 hosts: &[Host]|
     -> Result<[PkiFile; 2]> {
        let key = PrivateKey::generate(&req.algorithm)?;
        let pair = key_pair(&key)?;
        let mut p = params(now, Duration::days(i64::from(req.days)), Some(ca_not_after))?;
        p.distinguished_name = name(cn, org);
        p.is_ca = IsCa::ExplicitNoCa;
        p.use_authority_key_identifier_extension = true;
        p.key_identifier_method = KeyIdMethod::PreSpecified(sha1_key_id(pair.public_key_raw()));
        p.key_usages = match req.algorithm {
            KeyAlgorithm::Rsa { .. } => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
            _ => vec![KeyUsagePurpose::DigitalSignature],
        };
        p.extended_key_usages = match role {
            Role::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            _ => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        };
        p.subject_alt_names = hosts
            .iter()
            .map(|h| match h {
                Host::Ip(ip) => Ok(SanType::IpAddress(*ip)),
                Host::Dns(d) => rcgen::string::Ia5String::try_from(d.as_str())
                    .map(SanType::DnsName)
                    .map_err(signing),
            })
            .collect::<Result<_>>()?;
        let cert = p.signed_by(&pair, &ca).map_err(signing)?;
        let cert = Certificate::from_der(cert.der().to_vec())
            .map_err(|reason| Error::Signing { reason })?;
        let report = check(&CheckInput {
            label: &path.display().to_string(),
            chain: std::slice::from_ref(&cert),
            key: Some(&key),
            roots: Some(&roots),
            role: Some(role),
            hosts,
            at: now,
            files: crate::check::EtcdFiles::default(),
            fail_within: None,
            warn_within: Duration::ZERO,
            go_rules: crate::go_rules::GoRules::default(),
        });
        if let Some(f) = report.findings.iter().find(|f| f.status == Status::Fail) {
            return Err(Error::ReissueRejected {
                path: Some(path),
                reason: f.message.clone(),
            });
        }
        let key_path = key_path_for(&path);
        let key_description = format!(
            "key of {}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        Ok([
            PkiFile {
                write: FileWrite::public(&path, cert.to_pem()),
                description: what,
            },
            PkiFile {
                write: FileWrite::secret(key_path, pem_bytes(&key)?),
                description: key_description,
            },
        ])
    };

    match req.layout {
        Layout::Cfssl => {
            let mut hosts = vec![
                Host::Ip("127.0.0.1".parse().expect("literal")),
                Host::Dns("localhost".into()),
            ];
            for m in &req.members {
                hosts.push(Host::Ip(m.ip));
                hosts.extend(m.dns.iter().map(|d| Host::Dns(d.clone())));
            }
            let names: Vec<&str> = req.members.iter().map(|m| m.name.as_str()).collect();
            files.extend(issue(
                dir.join("server.pem"),
                format!("server certificate of {} (--cert-file)", names.join(", ")),
                Role::Server,
                "etcd-server",
                Some("etcd"),
                &hosts,
            )?);
            files.extend(issue(
                dir.join("members.pem"),
                format!(
                    "peer certificate of {} (--peer-cert-file)",
                    names.join(", ")
                ),
                Role::Peer,
                "etcd-peer",
                Some("etcd"),
                &hosts,
            )?);
            files.extend(issue(
                dir.join("client.pem"),
                "client certificate for etcdctl (--cert)".into(),
                Role::Client,
                "etcd-client",
                Some("etcd"),
                &[],
            )?);
        }
        Layout::Kubeadm => {
            let ca_pem = ca_cert.to_pem();
            for m in &req.members {
                let mdir = dir.join(&m.name);
                let mut hosts = vec![
                    Host::Dns("localhost".into()),
                    Host::Dns(m.name.clone()),
                    Host::Ip(m.ip),
                    Host::Ip("127.0.0.1".parse().expect("literal")),
                    Host::Ip("::1".parse().expect("literal")),
                ];
                hosts.extend(m.dns.iter().map(|d| Host::Dns(d.clone())));
                hosts.dedup();
                files.push(PkiFile {
                    write: FileWrite::public(mdir.join("ca.crt"), ca_pem.clone()),
                    description: format!("CA certificate for {}", m.name),
                });
                files.extend(issue(
                    mdir.join("server.crt"),
                    format!("server certificate of {} (--cert-file)", m.name),
                    Role::Server,
                    &m.name,
                    None,
                    &hosts,
                )?);
                files.extend(issue(
                    mdir.join("peer.crt"),
                    format!("peer certificate of {} (--peer-cert-file)", m.name),
                    Role::Peer,
                    &m.name,
                    None,
                    &hosts,
                )?);
                files.extend(issue(
                    mdir.join("healthcheck-client.crt"),
                    format!("health-check client certificate of {}", m.name),
                    Role::Client,
                    "kube-etcd-healthcheck-client",
                    Some("system:masters"),
                    &[],
                )?);
            }
        }
    }

    let mut existing: Vec<PathBuf> = files
        .iter()
        .map(|f| f.write.path.clone())
        .chain(EXISTING_PKI_MARKERS.iter().map(|m| dir.join(m)))
        .filter(|p| p.exists())
        .collect();
    existing.sort();
    existing.dedup();
    if !existing.is_empty() {
        return Err(Error::AlreadyExists { paths: existing });
    }
    Ok(files)
}

fn validate(req: &InitRequest) -> Result<()> {
    let invalid = |problem: RequestProblem| Error::InvalidRequest {
        path: None,
        problem,
    };
    if req.members.is_empty() {
        return Err(invalid(RequestProblem::NoMembers));
    }
    for (i, m) in req.members.iter().enumerate() {
        if let Some(problem) = m.problem() {
            return Err(invalid(RequestProblem::InvalidMember {
                spec: m.name.clone(),
                problem,
            }));
        }
        if req.members[..i].iter().any(|o| o.name == m.name) {
            return Err(invalid(RequestProblem::DuplicateMemberName {
                name: m.name.clone(),
            }));
        }
        if req.members[..i].iter().any(|o| o.ip == m.ip) {
            return Err(invalid(RequestProblem::DuplicateMemberIp { ip: m.ip }));
        }
    }
    if req.ca_name.trim().is_empty() || req.ca_name.len() > MAX_NAME_LEN {
        return Err(invalid(RequestProblem::CaNameLength {
            len: req.ca_name.len(),
            max: MAX_NAME_LEN,
        }));
    }
    if req.ca_name.chars().any(char::is_control) {
        return Err(invalid(RequestProblem::CaNameControlCharacters));
    }
    if req.days == 0 || req.ca_days == 0 {
        return Err(invalid(RequestProblem::ZeroValidity));
    }
    if SigningAlgorithm::for_key(&req.algorithm).is_none() {
        return Err(invalid(RequestProblem::CannotGenerate {
            algorithm: req.algorithm.to_string(),
        }));
    }
    Ok(())
}

/// A self-signed CA's parameters: `common_name` (and `organization`), `lifetime` from `now`
/// (backdated), keyCertSign and cRLSign, the key identifier of `key`.
pub(crate) fn ca_params(
    common_name: &str,
    organization: Option<&str>,
    lifetime: Duration,
    now: OffsetDateTime,
    key: &rcgen::KeyPair,
) -> Result<CertificateParams> {
    let mut p = params(now, lifetime, None)?;
    p.distinguished_name = name(common_name, organization);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    p.key_identifier_method = KeyIdMethod::PreSpecified(sha1_key_id(key.public_key_raw()));
    Ok(p)
}

fn params(
    now: OffsetDateTime,
    lifetime: Duration,
    cap: Option<OffsetDateTime>,
) -> Result<CertificateParams> {
    let mut p = CertificateParams::default();
    p.not_before = now.checked_sub(BACKDATE).unwrap_or(now);
    p.not_after = p
        .not_before
        .checked_add(lifetime)
        .filter(|t| t.year() <= 9999)
        .ok_or_else(|| Error::InvalidRequest {
            path: None,
            problem: RequestProblem::PastYear9999 {
                days: lifetime.whole_days(),
            },
        })?;
    if let Some(cap) = cap {
        p.not_after = p.not_after.min(cap);
    }
    p.serial_number = Some(SerialNumber::from_slice(&random_serial()));
    Ok(p)
}

fn name(cn: &str, org: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(o) = org {
        dn.push(DnType::OrganizationName, o);
    }
    dn.push(DnType::CommonName, cn);
    dn
}

pub(crate) fn key_pair(key: &PrivateKey) -> Result<rcgen::KeyPair> {
    let alg = SigningAlgorithm::for_key(key.algorithm()).ok_or_else(|| Error::UnsupportedKey {
        path: None,
        algorithm: key.algorithm().to_string(),
    })?;
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8_der()),
        alg.rcgen,
    )
    .map_err(signing)
}

pub(crate) fn pem_bytes(key: &PrivateKey) -> Result<Zeroizing<Vec<u8>>> {
    let pem = key.to_pem(PrivateKey::conventional_format(key.algorithm()))?;
    Ok(Zeroizing::new(pem.as_bytes().to_vec()))
}

fn random_serial() -> Vec<u8> {
    use aws_lc_rs::rand::SecureRandom;
    let mut serial = vec![0u8; 16];
    // The system RNG does not fail on Linux; fall back to the clock rather than panic.
    if aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut serial)
        .is_err()
    {
        serial = OffsetDateTime::now_utc()
            .unix_timestamp_nanos()
            .to_be_bytes()
            .to_vec();
    }
    serial[0] = (serial[0] & 0x7f) | 0x01;
    serial
}

pub(crate) fn signing(e: impl std::fmt::Display) -> Error {
    Error::Signing {
        reason: e.to_string(),
    }
}

fn ca_file(layout: Layout) -> &'static str {
    match layout {
        Layout::Cfssl => "ca.pem",
        Layout::Kubeadm => "ca.crt",
    }
}

fn ca_key_file(layout: Layout) -> &'static str {
    match layout {
        Layout::Cfssl => "ca-key.pem",
        Layout::Kubeadm => "ca.key",
    }
}

/// `server.pem` -> `server-key.pem` (cfssl), `server.crt` -> `server.key` (kubeadm).
fn key_path_for(cert: &Path) -> PathBuf {
    let name = cert
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let key = match name.strip_suffix(".pem") {
        Some(stem) => format!("{stem}-key.pem"),
        None => format!("{}.key", name.strip_suffix(".crt").unwrap_or(&name)),
    };
    cert.with_file_name(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Curve;
    use crate::load::{load_bytes, private_key_from_bytes};

    fn request(layout: Layout, algorithm: KeyAlgorithm) -> InitRequest {
        InitRequest {
            layout,
            members: vec![
                Member::parse("infra0=127.0.0.11").unwrap(),
                Member::parse("infra1=127.0.0.12,etcd-1.example.com").unwrap(),
            ],
            algorithm,
            days: 365,
            ca_days: 3650,
            ca_name: "etcd-ca".into(),
            at: OffsetDateTime::now_utc(),
        }
    }

    fn find<'a>(files: &'a [PkiFile], name: &str) -> &'a PkiFile {
        files
            .iter()
            .find(|f| f.write.path.ends_with(name))
            .unwrap_or_else(|| panic!("{name} not generated"))
    }

    #[test]
    fn cfssl_layout_has_the_seed_files_and_they_check_out() {
        let dir = tempfile::tempdir().unwrap();
        let files = init(
            dir.path(),
            &request(Layout::Cfssl, KeyAlgorithm::Ecdsa { curve: Curve::P256 }),
        )
        .unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| {
                f.write
                    .path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "ca.pem",
                "ca-key.pem",
                "server.pem",
                "server-key.pem",
                "members.pem",
                "members-key.pem",
                "client.pem",
                "client-key.pem"
            ]
        );
        let members = load_bytes(&find(&files, "members.pem").write.contents)
            .unwrap()
            .certificates
            .remove(0);
        for host in [
            "127.0.0.11",
            "127.0.0.12",
            "127.0.0.1",
            "localhost",
            "etcd-1.example.com",
        ] {
            assert!(
                crate::covers(&members, &Host::parse(host).unwrap()).is_covered(),
                "{host}"
            );
        }
        let key = private_key_from_bytes(&find(&files, "members-key.pem").write.contents).unwrap();
        assert_eq!(key.format(), crate::KeyFormat::Sec1);
        assert!(key.matches(&members));
        assert_eq!(
            find(&files, "ca-key.pem").write.secrecy,
            crate::write::Secrecy::Secret
        );
    }

    #[test]
    fn kubeadm_layout_is_per_member() {
        let dir = tempfile::tempdir().unwrap();
        let files = init(
            dir.path(),
            &request(Layout::Kubeadm, KeyAlgorithm::Rsa { bits: 2048 }),
        )
        .unwrap();
        let peer = load_bytes(&find(&files, "infra1/peer.crt").write.contents)
            .unwrap()
            .certificates
            .remove(0);
        assert_eq!(peer.common_name(), Some("infra1"));
        assert!(crate::covers(&peer, &Host::parse("127.0.0.12").unwrap()).is_covered());
        assert!(!crate::covers(&peer, &Host::parse("127.0.0.11").unwrap()).is_covered());
        let key = private_key_from_bytes(&find(&files, "infra1/peer.key").write.contents).unwrap();
        assert_eq!(key.format(), crate::KeyFormat::Pkcs1);
        let hc = load_bytes(&find(&files, "infra0/healthcheck-client.crt").write.contents)
            .unwrap()
            .certificates
            .remove(0);
        assert!(
            hc.subject().contains("O=system:masters"),
            "{}",
            hc.subject()
        );
        find(&files, "infra0/ca.crt");
    }

    #[test]
    fn every_algorithm_works() {
        for alg in [
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::Rsa { bits: 4096 },
            KeyAlgorithm::Ecdsa { curve: Curve::P384 },
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut req = request(Layout::Cfssl, alg.clone());
            req.members.truncate(1);
            let files = init(dir.path(), &req).unwrap();
            let key =
                private_key_from_bytes(&find(&files, "server-key.pem").write.contents).unwrap();
            assert_eq!(key.algorithm(), &alg);
        }
    }

    #[test]
    fn an_existing_pki_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "x").unwrap();
        let err = init(dir.path(), &request(Layout::Cfssl, KeyAlgorithm::Ed25519)).unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    }

    #[test]
    fn member_specs_are_validated() {
        assert_eq!(
            Member::parse("infra3=10.0.12.157,etcd-3.local").unwrap(),
            Member {
                name: "infra3".into(),
                ip: "10.0.12.157".parse().unwrap(),
                dns: vec!["etcd-3.local".into()]
            }
        );
        for bad in [
            "infra3",
            "=10.0.0.1",
            "infra3=host",
            "in/fra=10.0.0.1",
            "a=10.0.0.1,10.0.0.2",
            "../x=10.0.0.1",
        ] {
            assert!(Member::parse(bad).is_err(), "{bad}");
        }
        let mut req = request(Layout::Cfssl, KeyAlgorithm::Ed25519);
        req.members
            .push(Member::parse("infra0=127.0.0.13").unwrap());
        assert!(init(tempfile::tempdir().unwrap().path(), &req).is_err());
    }

    #[test]
    fn members_built_in_code_are_checked_as_parsed_ones_are() {
        let ok = InitRequest::new(
            Layout::Kubeadm,
            [Member::new("infra0", "127.0.0.11".parse().unwrap()).dns("etcd-0.example.com")],
        )
        .algorithm(KeyAlgorithm::Ed25519);
        assert!(init(tempfile::tempdir().unwrap().path(), &ok).is_ok());
        for (member, expected) in [
            (
                Member::new("../x", "127.0.0.11".parse().unwrap()),
                MemberProblem::BadName,
            ),
            (
                Member::new("infra0", "127.0.0.11".parse().unwrap()).dns("10.0.0.1"),
                MemberProblem::BadDnsName {
                    name: "10.0.0.1".into(),
                    problem: crate::dns_name::DnsNameProblem::IsAnIp,
                },
            ),
        ] {
            let req = InitRequest::new(Layout::Kubeadm, [member]);
            match init(tempfile::tempdir().unwrap().path(), &req).unwrap_err() {
                Error::InvalidRequest {
                    problem: RequestProblem::InvalidMember { problem, .. },
                    ..
                } => assert_eq!(problem, expected),
                other => panic!("{other}"),
            }
        }
    }
}

//! The certificates a new member will use, checked in their roles before it is added: its peer
//! certificate as a peer certificate for every peer URL host, its server certificate as a
//! server certificate for its client URL hosts, both against the cluster CA, with pki-core's
//! checks (key pair, validity, chain, usages, coverage, file format). Also refused: a write
//! interrupted beside these files, which may have left a certificate apart from its key.

use std::path::{Path, PathBuf};

use pki_core::{
    check, interrupted_writes, CertPool, CheckId, CheckInput, Finding, Host, Remedy, Role, Subject,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

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

/// Checks the new member's certificates for its URLs at `at`.
///
/// # Errors
/// A file that cannot be read or is not a certificate (or key) is an error naming it: bad
/// input, not a finding.
pub fn check_new_member_certificates(
    files: &NewMemberFiles,
    urls: &MemberUrls,
    at: OffsetDateTime,
) -> pki_core::Result<Vec<Finding>> {
    let roots = files.roots()?;
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
        (true, Some(cert)) => findings.extend(role_findings(
            files,
            cert,
            files.peer_key.as_deref(),
            roots.as_ref(),
            Role::Peer,
            &urls.peer_hosts(),
            at,
        )?),
    }
    match (&files.server_cert, urls.client.is_empty()) {
        (Some(cert), _) => findings.extend(role_findings(
            files,
            cert,
            None,
            roots.as_ref(),
            Role::Server,
            &urls.client_hosts(),
            at,
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

/// pki-core's checks of one certificate in one role, about the peer or server certificate.
fn role_findings(
    files: &NewMemberFiles,
    cert: &Path,
    key: Option<&Path>,
    roots: Option<&CertPool>,
    role: Role,
    hosts: &[Host],
    at: OffsetDateTime,
) -> pki_core::Result<Vec<Finding>> {
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
    let report = check(
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

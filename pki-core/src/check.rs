//! The checks an operator runs on one certificate before trusting it with an etcd member: key
//! pair, validity, chain to the cluster CA, usages for its role, and host coverage. Each check
//! yields a [`Finding`] with PASS / WARN / FAIL, what was found, and how to fix a failure.
//!
//! This is the engine behind `etcd-pki check` and, later, the certificate rows of `preflight`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::cert::Certificate;
use crate::coverage::{covers_with, go_ip_string, Coverage};
use crate::error::Result;
use crate::finding::{CheckId, Finding, Remedy, Status};
use crate::go_rules::GoRules;
use crate::host::Host;
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::load::{
    certificates_from_bytes, etcd_file_problem, private_key_from_bytes, read_file, EtcdFile,
};
use crate::path_text::display_path;
use crate::time_fmt::{rfc3339, short_duration};
use crate::usage::{chain_permits, Role};
use crate::verify::{display_name, verify, CertPool, VerifyError, VerifyOptions};

/// All findings of one certificate.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The findings, in check order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The worst status (PASS when there are no findings).
    pub fn status(&self) -> Status {
        crate::finding::worst(&self.findings)
    }

    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.status() == Status::Fail
    }

    /// Hosts that coverage checks found uncovered, split into IPs and DNS names.
    pub fn uncovered_hosts(&self) -> (Vec<IpAddr>, Vec<String>) {
        let mut ips = Vec::new();
        let mut dns = Vec::new();
        for finding in &self.findings {
            if let Some(Remedy::Reissue { add_ips, add_dns }) = &finding.remedy {
                for ip in add_ips {
                    if !ips.contains(ip) {
                        ips.push(*ip);
                    }
                }
                for name in add_dns {
                    if !dns.contains(name) {
                        dns.push(name.clone());
                    }
                }
            }
        }
        (ips, dns)
    }

    fn push(
        &mut self,
        check: CheckId,
        status: Status,
        target: Option<String>,
        message: String,
        remedy: Option<Remedy>,
    ) {
        let mut finding = Finding::new(check, status, message).remedy_opt(remedy);
        finding.target = target;
        self.findings.push(finding);
    }
}

/// What to check: [`CheckInput::new`] and the methods below. Only what is given is checked:
/// the key pair with a key, the chain with roots, usages with a role, coverage with hosts, the
/// files' format with their bytes; validity always.
///
/// ```
/// # let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
/// use pki_core::{check, load_certificates, CertPool, CheckInput, Host, Role};
/// let chain = load_certificates(&fixtures.join("cfssl/members.pem"))?;
/// let roots: CertPool = load_certificates(&fixtures.join("cfssl/ca.pem"))?.into_iter().collect();
/// let hosts = [Host::parse("127.0.0.14")?];
/// let report = check(&CheckInput::new("members.pem", &chain).roots(&roots).role(Role::Peer).hosts(&hosts));
/// assert!(report.failed());
/// # Ok::<(), pki_core::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckInput<'a> {
    /// How to name the certificate in messages (usually its file name).
    pub label: &'a str,
    /// The certificate, followed by any intermediates that came in the same file (which a TLS
    /// peer sends along).
    pub chain: &'a [Certificate],
    /// The private key, if it is to be checked.
    pub key: Option<&'a PrivateKey>,
    /// The trust anchors (every certificate of the CA file), if the chain is to be checked.
    pub roots: Option<&'a CertPool>,
    /// The role the certificate is to play, if usages are to be checked.
    pub role: Option<Role>,
    /// Hosts the certificate must cover.
    pub hosts: &'a [Host],
    /// The instant to judge validity at.
    pub at: OffsetDateTime,
    /// The files as etcd would read them, for the file-format check (empty: not checked).
    pub files: EtcdFiles<'a>,
    /// Fail when the certificate expires within this window.
    pub fail_within: Option<Duration>,
    /// Warn when the certificate expires within this window.
    pub warn_within: Duration,
    /// The Go whose rules decide where Go versions differ (the etcd version judged for).
    pub go_rules: GoRules,
}

impl<'a> CheckInput<'a> {
    /// Checks `chain` (the certificate first, then any intermediates from the same file),
    /// named `label` in messages: validity now, warning within [`DEFAULT_WARN_WITHIN`], and
    /// nothing else until given below.
    pub fn new(label: &'a str, chain: &'a [Certificate]) -> CheckInput<'a> {
        CheckInput {
            label,
            chain,
            key: None,
            roots: None,
            role: None,
            hosts: &[],
            at: OffsetDateTime::now_utc(),
            files: EtcdFiles::default(),
            fail_within: None,
            warn_within: DEFAULT_WARN_WITHIN,
            go_rules: GoRules::default(),
        }
    }

    /// Judges by the rules of `rules`' Go where Go versions differ (default: the newest).
    pub fn go_rules(mut self, rules: GoRules) -> CheckInput<'a> {
        self.go_rules = rules;
        self
    }

    /// Checks that `key` is the certificate's.
    pub fn key(mut self, key: impl Into<Option<&'a PrivateKey>>) -> CheckInput<'a> {
        self.key = key.into();
        self
    }

    /// Checks the chain to `roots` (every certificate of the CA file).
    pub fn roots(mut self, roots: impl Into<Option<&'a CertPool>>) -> CheckInput<'a> {
        self.roots = roots.into();
        self
    }

    /// Checks the usages etcd needs of a certificate in `role`.
    pub fn role(mut self, role: impl Into<Option<Role>>) -> CheckInput<'a> {
        self.role = role.into();
        self
    }

    /// Checks that the certificate covers every one of `hosts`.
    pub fn hosts(mut self, hosts: &'a [Host]) -> CheckInput<'a> {
        self.hosts = hosts;
        self
    }

    /// Judges validity at `at` instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> CheckInput<'a> {
        self.at = at;
        self
    }

    /// Checks the files' bytes the way etcd reads them.
    pub fn files(mut self, files: EtcdFiles<'a>) -> CheckInput<'a> {
        self.files = files;
        self
    }

    /// Fails when the certificate expires within `window`.
    pub fn fail_within(mut self, window: impl Into<Option<Duration>>) -> CheckInput<'a> {
        self.fail_within = window.into();
        self
    }

    /// Warns when the certificate expires within `window` (zero: never warns).
    pub fn warn_within(mut self, window: Duration) -> CheckInput<'a> {
        self.warn_within = window;
        self
    }
}

/// The raw bytes of the files a check is about, as etcd would read them:
/// `EtcdFiles::default()` and the methods below.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct EtcdFiles<'a> {
    /// The certificate file.
    pub certificate: Option<&'a [u8]>,
    /// The key file.
    pub key: Option<&'a [u8]>,
    /// The CA file.
    pub ca: Option<&'a [u8]>,
}

impl<'a> EtcdFiles<'a> {
    /// The certificate file's bytes.
    pub fn certificate(mut self, bytes: impl Into<Option<&'a [u8]>>) -> EtcdFiles<'a> {
        self.certificate = bytes.into();
        self
    }

    /// The key file's bytes.
    pub fn key(mut self, bytes: impl Into<Option<&'a [u8]>>) -> EtcdFiles<'a> {
        self.key = bytes.into();
        self
    }

    /// The CA file's bytes.
    pub fn ca(mut self, bytes: impl Into<Option<&'a [u8]>>) -> EtcdFiles<'a> {
        self.ca = bytes.into();
        self
    }
}

/// [`check()`] on files: the certificate file (the certificate, then any intermediates), and
/// optionally its key file and the CA file, read as etcd reads them (their format is checked
/// too). Built with [`CertificateCheck::new`] and the methods below; [`CertificateCheck::run`]
/// reads the files and checks.
///
/// Does `members.pem` cover a new member at 127.0.0.14 as a peer certificate that chains to
/// `ca.pem`?
///
/// ```
/// # std::env::set_current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cfssl")).unwrap();
/// use pki_core::{CertificateCheck, Role};
/// let report = CertificateCheck::new("members.pem").ca_file("ca.pem").role(Role::Peer)
///     .host("127.0.0.14".parse()?).run()?;
/// assert!(report.failed());
/// assert_eq!(report.uncovered_hosts().0, ["127.0.0.14".parse::<std::net::IpAddr>().unwrap()]);
/// # Ok::<(), pki_core::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CertificateCheck {
    /// The certificate file.
    pub cert_file: PathBuf,
    /// Its key file, if the key pair is to be checked.
    pub key_file: Option<PathBuf>,
    /// The CA file, if the chain is to be checked.
    pub ca_file: Option<PathBuf>,
    /// The role the certificate is to play, if usages are to be checked.
    pub role: Option<Role>,
    /// Hosts the certificate must cover.
    pub hosts: Vec<Host>,
    /// The instant to judge validity at.
    pub at: OffsetDateTime,
    /// Fail when the certificate expires within this window.
    pub fail_within: Option<Duration>,
    /// Warn when the certificate expires within this window.
    pub warn_within: Duration,
    /// The Go whose rules decide where Go versions differ (the etcd version judged for).
    pub go_rules: GoRules,
}

impl CertificateCheck {
    /// Checks the certificate in `cert_file`: validity now, warning within
    /// [`DEFAULT_WARN_WITHIN`], its file's format, and nothing else until given below.
    pub fn new(cert_file: impl AsRef<Path>) -> CertificateCheck {
        CertificateCheck {
            cert_file: cert_file.as_ref().to_path_buf(),
            key_file: None,
            ca_file: None,
            role: None,
            hosts: Vec::new(),
            at: OffsetDateTime::now_utc(),
            fail_within: None,
            warn_within: DEFAULT_WARN_WITHIN,
            go_rules: GoRules::default(),
        }
    }

    /// Judges by the rules of `rules`' Go where Go versions differ (default: the newest).
    pub fn go_rules(mut self, rules: GoRules) -> CertificateCheck {
        self.go_rules = rules;
        self
    }

    /// Checks that the key in `key_file` is the certificate's.
    pub fn key_file(mut self, key_file: impl AsRef<Path>) -> CertificateCheck {
        self.key_file = Some(key_file.as_ref().to_path_buf());
        self
    }

    /// Checks the chain to the CA certificates in `ca_file`.
    pub fn ca_file(mut self, ca_file: impl AsRef<Path>) -> CertificateCheck {
        self.ca_file = Some(ca_file.as_ref().to_path_buf());
        self
    }

    /// Checks the usages etcd needs of a certificate in `role`.
    pub fn role(mut self, role: Role) -> CertificateCheck {
        self.role = Some(role);
        self
    }

    /// Checks that the certificate covers `host` (an IP or DNS name; see [`Host::parse`]).
    pub fn host(mut self, host: Host) -> CertificateCheck {
        self.hosts.push(host);
        self
    }

    /// Judges validity at `at` instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> CertificateCheck {
        self.at = at;
        self
    }

    /// Fails when the certificate expires within `window`.
    pub fn fail_within(mut self, window: Duration) -> CertificateCheck {
        self.fail_within = Some(window);
        self
    }

    /// Warns when the certificate expires within `window` (zero: never warns).
    pub fn warn_within(mut self, window: Duration) -> CertificateCheck {
        self.warn_within = window;
        self
    }

    /// Reads the files ([`read_file`]) and runs [`check()`]; the certificate is named by its
    /// file name in messages.
    ///
    /// # Errors
    /// A file that cannot be read, or that holds no certificate (the certificate and CA
    /// files) or no usable key (the key file): what the files hold is judged in the report,
    /// but there must be something to judge.
    pub fn run(&self) -> Result<Report> {
        let cert_bytes = read_file(&self.cert_file)?;
        let chain =
            certificates_from_bytes(&cert_bytes).map_err(|e| e.with_path(&self.cert_file))?;
        let key_bytes = self
            .key_file
            .as_ref()
            .map(read_file)
            .transpose()?
            .map(Zeroizing::new);
        let key = match (&self.key_file, &key_bytes) {
            (Some(path), Some(bytes)) => {
                Some(private_key_from_bytes(bytes).map_err(|e| e.with_path(path))?)
            }
            _ => None,
        };
        let ca_bytes = self.ca_file.as_ref().map(read_file).transpose()?;
        let roots: Option<CertPool> = match (&self.ca_file, &ca_bytes) {
            (Some(path), Some(bytes)) => Some(
                certificates_from_bytes(bytes)
                    .map_err(|e| e.with_path(path))?
                    .into_iter()
                    .collect(),
            ),
            _ => None,
        };
        let label = self.cert_file.file_name().map_or_else(
            || display_path(&self.cert_file).into_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let input = CheckInput::new(&label, &chain)
            .key(key.as_ref())
            .roots(roots.as_ref())
            .role(self.role)
            .hosts(&self.hosts)
            .at(self.at)
            .files(
                EtcdFiles::default()
                    .certificate(cert_bytes.as_slice())
                    .key(key_bytes.as_deref().map(Vec::as_slice))
                    .ca(ca_bytes.as_deref()),
            )
            .fail_within(self.fail_within)
            .warn_within(self.warn_within)
            .go_rules(self.go_rules);
        Ok(check(&input))
    }
}

/// How long before expiry a certificate is flagged by default (kubeadm renews at 30 days too).
pub const DEFAULT_WARN_WITHIN: Duration = Duration::days(30);

/// Runs every applicable check.
///
/// # Panics
/// Never on input; `chain` must not be empty (an empty chain yields an empty report).
pub fn check(input: &CheckInput<'_>) -> Report {
    let mut report = Report::default();
    let Some(leaf) = input.chain.first() else {
        return report;
    };
    check_files(input, &mut report);
    check_key(input, leaf, &mut report);
    check_validity(input, leaf, &mut report);
    let chain = check_chain(input, leaf, &mut report);
    check_usage(input, &chain, &mut report);
    check_coverage(input, leaf, &mut report);
    report
}

fn check_files(input: &CheckInput<'_>, report: &mut Report) {
    let files = [
        (
            input.files.certificate,
            EtcdFile::Certificate,
            "certificate file",
        ),
        (input.files.key, EtcdFile::PrivateKey, "key file"),
        (input.files.ca, EtcdFile::CaBundle, "CA file"),
    ];
    for (bytes, kind, what) in files {
        let Some(bytes) = bytes else { continue };
        if let Some(problem) = etcd_file_problem(bytes, kind) {
            report.push(
                CheckId::Format,
                Status::Fail,
                Some(what.to_string()),
                problem.to_string(),
                Some(Remedy::FixFileFormat),
            );
        }
    }
}

fn check_key(input: &CheckInput<'_>, leaf: &Certificate, report: &mut Report) {
    let Some(key) = input.key else { return };
    if key.matches(leaf) {
        report.push(
            CheckId::KeyPair,
            Status::Pass,
            None,
            format!(
                "the private key ({}, {}) matches the certificate",
                key.algorithm(),
                key.format()
            ),
            None,
        );
    } else if let KeyAlgorithm::Other { oid } = leaf.key_algorithm() {
        // Go's tls.X509KeyPair knows RSA, ECDSA and Ed25519 certificate keys only; with any
        // other (DSA, Ed448, X25519) no key will do.
        report.push(
            CheckId::KeyPair,
            Status::Fail,
            None,
            format!(
                "{} has a public key of algorithm {oid}, which etcd cannot use with any private key (issue one with an RSA, ECDSA or Ed25519 key); etcd refuses to start with \"{GO_UNKNOWN_PUBLIC_KEY}\"",
                input.label,
            ),
            None,
        );
    } else {
        report.push(
            CheckId::KeyPair,
            Status::Fail,
            None,
            format!(
                "the private key ({}) does not belong to {} (certificate key: {}); etcd refuses to start with \"{}\"",
                key.algorithm(),
                input.label,
                leaf.key_algorithm(),
                go_mismatch_message(key.algorithm(), leaf.key_algorithm())
            ),
            Some(Remedy::UseMatchingKey),
        );
    }
}

/// Go's `tls.X509KeyPair` error for a certificate whose public key is not RSA, ECDSA or
/// Ed25519.
const GO_UNKNOWN_PUBLIC_KEY: &str = "tls: unknown public key algorithm";

/// Go's `tls.X509KeyPair` error for a key that is not the certificate's: one for a key of
/// another type (RSA, ECDSA, Ed25519), another for a key of the same type.
fn go_mismatch_message(key: &KeyAlgorithm, cert: &KeyAlgorithm) -> &'static str {
    if key.name() == cert.name() {
        "tls: private key does not match public key"
    } else {
        "tls: private key type does not match public key type"
    }
}

fn check_validity(input: &CheckInput<'_>, leaf: &Certificate, report: &mut Report) {
    let at = input.at;
    if at < leaf.not_before() {
        report.push(
            CheckId::Validity,
            Status::Fail,
            None,
            format!(
                "not valid before {} (now {}); is a clock wrong?",
                rfc3339(leaf.not_before()),
                rfc3339(at)
            ),
            Some(Remedy::FixClocks),
        );
        return;
    }
    let left = leaf.not_after() - at;
    if left.is_negative() {
        report.push(
            CheckId::Validity,
            Status::Fail,
            None,
            format!("expired on {}", rfc3339(leaf.not_after())),
            Some(Remedy::Renew),
        );
        return;
    }
    let until = format!(
        "valid until {} ({} left)",
        rfc3339(leaf.not_after()),
        short_duration(left)
    );
    if let Some(window) = input.fail_within.filter(|w| left <= *w) {
        report.push(
            CheckId::Validity,
            Status::Fail,
            None,
            format!("{until}: expires within {}", short_duration(window)),
            Some(Remedy::Renew),
        );
    } else if left <= input.warn_within {
        report.push(
            CheckId::Validity,
            Status::Warn,
            None,
            format!(
                "{until}: expires within {}",
                short_duration(input.warn_within)
            ),
            Some(Remedy::Renew),
        );
    } else {
        report.push(CheckId::Validity, Status::Pass, None, until, None);
    }
}

/// Returns the chains usages are judged over: every verified chain (Go accepts a usage when any
/// chain permits it), or the certificate and its bundled intermediates when none verified.
fn check_chain(
    input: &CheckInput<'_>,
    leaf: &Certificate,
    report: &mut Report,
) -> Vec<Vec<Certificate>> {
    let fallback = vec![input.chain.to_vec()];
    let Some(roots) = input.roots else {
        report.push(
            CheckId::Chain,
            Status::Warn,
            None,
            "no CA given: the chain was not checked".into(),
            Some(Remedy::GiveCa),
        );
        return fallback;
    };
    let intermediates: CertPool = input.chain[1..].iter().cloned().collect();
    let opts = |rules| VerifyOptions::new().at(input.at).go_rules(rules);
    let verified = verify(leaf, &intermediates, roots, &opts(input.go_rules));
    // The Gos differ in which certificates a CA's name constraints apply to.
    let note = differing_rules_note(input.go_rules, |rules| {
        if rules == input.go_rules {
            verified.is_ok()
        } else {
            verify(leaf, &intermediates, roots, &opts(rules)).is_ok()
        }
    });
    match verified {
        Ok(chains) => {
            let chain = &chains[0];
            let path: Vec<String> = chain.certs.iter().map(|c| display_name(c)).collect();
            report.push(
                CheckId::Chain,
                Status::Pass,
                None,
                format!("chains to the CA: {}{note}", path.join(" <- ")),
                None,
            );
            chains
                .iter()
                .map(|c| c.certs.iter().map(|c| (*c).clone()).collect())
                .collect()
        }
        Err(e) => {
            let remedy = match e {
                VerifyError::Expired { .. } => Remedy::Renew,
                _ => Remedy::UseClusterCa,
            };
            report.push(
                CheckId::Chain,
                Status::Fail,
                None,
                format!("{e}{note}"),
                Some(remedy),
            );
            fallback
        }
    }
}

fn check_usage(input: &CheckInput<'_>, chains: &[Vec<Certificate>], report: &mut Report) {
    let Some(role) = input.role else { return };
    let chain = &chains[0];
    for &usage in role.required_usages() {
        if chains.iter().any(|c| chain_permits(c, usage)) {
            report.push(
                CheckId::Usage,
                Status::Pass,
                Some(usage.to_string()),
                format!("permitted, as a {role} certificate needs"),
                None,
            );
        } else {
            let leaf_lacks = !crate::usage::permits(&chain[0], usage);
            let whose = if leaf_lacks {
                "the certificate's extended key usage".to_string()
            } else {
                "an issuing CA's extended key usage".to_string()
            };
            report.push(
                CheckId::Usage,
                Status::Fail,
                Some(usage.to_string()),
                format!(
                    "{whose} does not permit {usage} ({}); Go reports \"x509: certificate specifies an incompatible key usage\"",
                    role.why(usage)
                ),
                Some(Remedy::IssueWithUsages {
                    usages: role.required_usages().to_vec(),
                }),
            );
        }
    }
}

fn check_coverage(input: &CheckInput<'_>, leaf: &Certificate, report: &mut Report) {
    if input.role == Some(Role::Client) {
        if !input.hosts.is_empty() {
            report.push(
                CheckId::Coverage,
                Status::Warn,
                None,
                "hosts are not checked for a client certificate: etcd does not match client certificates against host names unless --client-cert-allowed-hostname is set".into(),
                None,
            );
        }
        return;
    }
    if input.hosts.is_empty() {
        if input.role.is_some() {
            report.push(
                CheckId::Coverage,
                Status::Warn,
                None,
                "no host given: SAN coverage was not checked".into(),
                Some(Remedy::GiveHost),
            );
        }
        return;
    }
    let role_name = input.role.map_or(String::new(), |r| format!("{r} "));
    for host in input.hosts {
        let rules_note = rules_note(leaf, host, input.go_rules);
        match covers_with(leaf, host, input.go_rules) {
            Coverage::Covered { by } => report.push(
                CheckId::Coverage,
                Status::Pass,
                Some(host.to_string()),
                format!("covers {host} ({by}){rules_note}"),
                None,
            ),
            Coverage::NotCovered(nc) => {
                let valid = nc.valid_for();
                let mut message = format!(
                    "{role_name}certificate {} does not cover {host}",
                    input.label
                );
                if valid.is_empty() {
                    let kind = if host.is_ip() { "IP" } else { "DNS" };
                    message.push_str(&format!("; it has no {kind} SANs"));
                } else {
                    message.push_str(&format!("; it is valid for {}", valid.join(", ")));
                }
                if !leaf.has_san_extension() && leaf.common_name().is_some() {
                    message.push_str(" (the Common Name is never used for host checks)");
                }
                message.push_str(&format!("; etcd would fail with \"{nc}\"{rules_note}"));
                let (add_ips, add_dns) = match host {
                    Host::Ip(ip) => (vec![*ip], vec![]),
                    Host::Dns(d) => (vec![], vec![d.clone()]),
                };
                report.push(
                    CheckId::Coverage,
                    Status::Fail,
                    Some(host.to_string()),
                    message,
                    Some(Remedy::Reissue { add_ips, add_dns }),
                );
            }
        }
        if input.role == Some(Role::Peer) && !host.is_ip() && !leaf.sans().ip.is_empty() {
            report.push(
                CheckId::Coverage,
                Status::Warn,
                Some(host.to_string()),
                format!(
                    "the certificate lists IP SANs, so etcd's peer listeners will also require the address this member connects from to be one of {} (or a DNS SAN that resolves to it)",
                    leaf.sans().ip.iter().map(go_ip_string).collect::<Vec<_>>().join(", ")
                ),
                None,
            );
        }
    }
}

/// When Go versions decide differently for `host`: which rules were applied, and what the
/// others decide (empty when they all agree).
fn rules_note(leaf: &Certificate, host: &Host, applied: GoRules) -> String {
    differing_rules_note(applied, |rules| covers_with(leaf, host, rules).is_covered())
}

/// When the verdict `accepts` gives under the other Gos' rules differs from the one under
/// `applied`: which rules were applied and what the others decide (empty when all agree).
fn differing_rules_note(applied: GoRules, accepts: impl Fn(GoRules) -> bool) -> String {
    let accepted = accepts(applied);
    let others: Vec<String> = GoRules::ALL
        .into_iter()
        .filter(|&r| r != applied && accepts(r) != accepted)
        .map(|r| r.to_string())
        .collect();
    if others.is_empty() {
        return String::new();
    }
    format!(
        " (judged by the rules of {applied}; {} would {} it)",
        others.join(" and "),
        if accepted { "refuse" } else { "accept" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cert, cert_with_dns, certs, key};
    use time::macros::datetime;

    /// Go names a key of another type otherwise than a key of the same type (key-pair
    /// differential test).
    #[test]
    fn a_mismatch_quotes_gos_message_for_its_kind() {
        use crate::key::{Curve, KeyAlgorithm};
        let p256 = KeyAlgorithm::Ecdsa { curve: Curve::P256 };
        let p384 = KeyAlgorithm::Ecdsa { curve: Curve::P384 };
        let rsa = KeyAlgorithm::Rsa { bits: 2048 };
        assert_eq!(
            super::go_mismatch_message(&p256, &p384),
            "tls: private key does not match public key"
        );
        assert_eq!(
            super::go_mismatch_message(&rsa, &KeyAlgorithm::Ed25519),
            "tls: private key type does not match public key type"
        );
    }

    fn run(cert_rel: &str, role: Option<Role>, hosts: &[&str], at: OffsetDateTime) -> Report {
        let chain = certs(cert_rel);
        let roots: CertPool = certs("cfssl/ca.pem")
            .into_iter()
            .chain(certs("openssl/rsa-ca.crt"))
            .chain(certs("openssl/ec-ca.crt"))
            .collect();
        let hosts: Vec<Host> = hosts.iter().map(|h| Host::parse(h).unwrap()).collect();
        check(&CheckInput {
            label: "the-cert.pem",
            chain: &chain,
            key: None,
            roots: Some(&roots),
            role,
            hosts: &hosts,
            at,
            files: EtcdFiles::default(),
            fail_within: Some(Duration::days(30)),
            warn_within: Duration::days(60),
            go_rules: GoRules::default(),
        })
    }

    fn statuses(report: &Report, kind: CheckId) -> Vec<Status> {
        report
            .findings
            .iter()
            .filter(|f| f.check == kind)
            .map(|f| f.status)
            .collect()
    }

    const NOW: OffsetDateTime = datetime!(2030-01-01 0:00 UTC);

    #[test]
    fn the_seed_case_fails_on_coverage_only_and_says_how_to_fix_it() {
        let report = run(
            "cfssl/members.pem",
            Some(Role::Peer),
            &["https://127.0.0.14:2380", "127.0.0.12"],
            NOW,
        );
        assert_eq!(report.status(), Status::Fail);
        assert_eq!(
            statuses(&report, CheckId::Coverage),
            [Status::Fail, Status::Pass]
        );
        assert_eq!(
            statuses(&report, CheckId::Usage),
            [Status::Pass, Status::Pass]
        );
        assert_eq!(statuses(&report, CheckId::Chain), [Status::Pass]);
        let failure = report
            .findings
            .iter()
            .find(|f| f.status == Status::Fail)
            .unwrap();
        assert!(
            failure
                .message
                .contains("peer certificate the-cert.pem does not cover 127.0.0.14"),
            "{}",
            failure.message
        );
        assert!(
            failure
                .message
                .contains("it is valid for 127.0.0.1, 127.0.0.11, 127.0.0.12, 127.0.0.13"),
            "{}",
            failure.message
        );
        assert_eq!(
            failure.remedy,
            Some(Remedy::Reissue {
                add_ips: vec!["127.0.0.14".parse().unwrap()],
                add_dns: vec![]
            })
        );
        assert_eq!(
            report.uncovered_hosts(),
            (vec!["127.0.0.14".parse().unwrap()], vec![])
        );
    }

    #[test]
    fn roles_demand_their_usages() {
        let report = run(
            "openssl/server-only.crt",
            Some(Role::Peer),
            &["127.0.0.1"],
            NOW,
        );
        assert_eq!(
            statuses(&report, CheckId::Usage),
            [Status::Pass, Status::Fail]
        );
        let report = run(
            "openssl/server-only.crt",
            Some(Role::Server),
            &["127.0.0.1"],
            NOW,
        );
        assert_eq!(
            statuses(&report, CheckId::Usage),
            [Status::Pass, Status::Fail],
            "etcd-io/etcd#9785"
        );
        let report = run("openssl/client-only.crt", Some(Role::Client), &[], NOW);
        assert_eq!(report.status(), Status::Pass);
        let report = run("openssl/no-eku.crt", Some(Role::Peer), &["127.0.0.1"], NOW);
        assert_eq!(report.status(), Status::Pass);
    }

    #[test]
    fn expiry_windows_warn_then_fail() {
        let not_after = cert("cfssl/members.pem").not_after();
        let report = run(
            "cfssl/members.pem",
            None,
            &[],
            not_after - Duration::days(45),
        );
        assert_eq!(statuses(&report, CheckId::Validity), [Status::Warn]);
        let report = run(
            "cfssl/members.pem",
            None,
            &[],
            not_after - Duration::days(10),
        );
        assert_eq!(statuses(&report, CheckId::Validity), [Status::Fail]);
        let report = run("openssl/expired.crt", None, &[], NOW);
        assert_eq!(statuses(&report, CheckId::Validity), [Status::Fail]);
        assert_eq!(statuses(&report, CheckId::Chain), [Status::Fail]);
    }

    #[test]
    fn key_pairs_and_missing_inputs_are_reported() {
        let chain = certs("openssl/mismatch.crt");
        let k = key("openssl/mismatch.key");
        let report = check(&CheckInput {
            label: "mismatch.crt",
            chain: &chain,
            key: Some(&k),
            roots: None,
            role: Some(Role::Peer),
            hosts: &[],
            at: NOW,
            files: EtcdFiles::default(),
            fail_within: None,
            warn_within: DEFAULT_WARN_WITHIN,
            go_rules: GoRules::default(),
        });
        assert_eq!(statuses(&report, CheckId::KeyPair), [Status::Fail]);
        assert_eq!(statuses(&report, CheckId::Chain), [Status::Warn]);
        assert_eq!(statuses(&report, CheckId::Coverage), [Status::Warn]);
    }

    /// A certificate whose public key Go's tls.X509KeyPair does not know (here Ed448) is
    /// refused with Go's own message, not a mismatch (key-pair differential test).
    #[test]
    fn a_certificate_key_of_unknown_algorithm_quotes_go() {
        const ED448: &str = "-----BEGIN CERTIFICATE-----
MIIBkjCCARKgAwIBAgIUGNqHA4fJ+KTz7CgXuehbDfvXir0wBQYDK2VxMBgxFjAU
BgNVBAMMDWtleXBhaXItZWQ0NDgwIBcNMjYxMTMwMTYwMDQ3WhgPMjEyNjExMDYx
NjAwNDdaMBgxFjAUBgNVBAMMDWtleXBhaXItZWQ0NDgwQzAFBgMrZXEDOgBC4yfc
6XRK9/9BLINhG2OHuxJn9Sf/G6f2v7qHcIAwbT/nPjuZx7zVNlzzoeaSOkKMtv48
p7L4noCjUzBRMB0GA1UdDgQWBBRv25/hGYXx5FYT7jPV/Bv308bdjzAfBgNVHSME
GDAWgBRv25/hGYXx5FYT7jPV/Bv308bdjzAPBgNVHRMBAf8EBTADAQH/MAUGAytl
cQNzACPwQv0joUh4Skw+uLeT4NnjDDXoeGgmFPNNmbSuWPR/l1jh5HiFosN2wk5h
ZqXt2KyGfM2SB9DNAPRYEU5KFlczZewVe5RkpjD3dGa/0niaK3VdBSRO/iwqkRos
HXQqO6+p8UiFzGiCi7Ok57xvGzEvAA==
-----END CERTIFICATE-----
";
        let chain = crate::load::certificates_from_bytes(ED448.as_bytes()).unwrap();
        let k = key("openssl/leaf-ed25519.key");
        let report = check(&CheckInput::new("ed448.crt", &chain).key(&k));
        let pair: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.check == CheckId::KeyPair)
            .collect();
        assert_eq!(pair.len(), 1);
        assert_eq!(pair[0].status, Status::Fail);
        assert!(
            pair[0]
                .message
                .contains("\"tls: unknown public key algorithm\""),
            "{}",
            pair[0].message
        );
    }

    #[test]
    fn dns_peer_urls_warn_about_the_listener_side() {
        let report = run(
            "openssl/wildcard.crt",
            Some(Role::Peer),
            &["https://etcd-1.etcd.example.com:2380"],
            NOW,
        );
        assert_eq!(statuses(&report, CheckId::Coverage), [Status::Pass]);
        let chain = certs("kubeadm/peer.crt");
        let roots: CertPool = certs("kubeadm/ca.crt").into_iter().collect();
        let hosts = [Host::parse("node-1").unwrap()];
        let report = check(&CheckInput {
            label: "peer.crt",
            chain: &chain,
            key: None,
            roots: Some(&roots),
            role: Some(Role::Peer),
            hosts: &hosts,
            at: NOW,
            files: EtcdFiles::default(),
            fail_within: None,
            warn_within: DEFAULT_WARN_WITHIN,
            go_rules: GoRules::default(),
        });
        assert_eq!(
            statuses(&report, CheckId::Coverage),
            [Status::Pass, Status::Warn]
        );
    }

    #[test]
    fn coverage_says_which_rules_applied_when_they_matter() {
        let chain = [cert_with_dns(&["*", "etcd.example.com"])];
        let hosts = [
            Host::parse("etcd-peer").unwrap(),
            Host::parse("etcd.example.com").unwrap(),
        ];
        let by = |rules| {
            check(
                &CheckInput::new("star.pem", &chain)
                    .hosts(&hosts)
                    .go_rules(rules),
            )
            .findings
            .into_iter()
            .filter(|f| f.check == CheckId::Coverage)
            .map(|f| (f.status, f.message))
            .collect::<Vec<_>>()
        };
        let old = by(GoRules::Go119);
        assert_eq!(old[0].0, Status::Pass);
        assert!(
            old[0].1.ends_with(
                "(judged by the rules of etcd 3.4 (Go 1.19); etcd 3.5 (Go 1.24) would refuse it)"
            ),
            "{}",
            old[0].1
        );
        let new = by(GoRules::Go124);
        assert_eq!(new[0].0, Status::Fail);
        assert!(
            new[0].1.contains("etcd 3.4 (Go 1.19) would accept it"),
            "{}",
            new[0].1
        );
        for (status, message) in [&old[1], &new[1]] {
            assert_eq!(*status, Status::Pass);
            assert!(!message.contains("rules"), "the Gos agree: {message}");
        }
    }

    #[test]
    fn a_chain_verdict_says_when_the_other_go_decides_otherwise() {
        use crate::test_support::generate::{ca_params, dns, params, Ca};
        use rcgen::{BasicConstraints as Bc, GeneralSubtree, NameConstraints};
        // A root constrained to example.com over an intermediate named other.org: Go 1.24
        // checks the intermediate's SANs, Go 1.19 only the leaf's (and the root's own).
        let mut root_params = ca_params("root", Bc::Unconstrained);
        root_params.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DnsName("example.com".into())],
            excluded_subtrees: vec![],
        });
        let root = Ca::new(root_params);
        let mut mid_params = ca_params("intermediate", Bc::Unconstrained);
        mid_params.subject_alt_names = vec![dns("other.org")];
        let mid = Ca::new(mid_params);
        let mut leaf_params = params("etcd-0");
        leaf_params.subject_alt_names = vec![dns("etcd.example.com")];
        let chain = vec![mid.sign(&leaf_params), mid.signed_by(&root)];
        let roots: CertPool = [root.self_signed()].into_iter().collect();
        let chain_finding = |rules| {
            let report = check(
                &CheckInput::new("leaf", &chain)
                    .roots(&roots)
                    .go_rules(rules),
            );
            report
                .findings
                .into_iter()
                .find(|f| f.check == CheckId::Chain)
                .unwrap()
        };
        let new = chain_finding(GoRules::Go124);
        assert_eq!(new.status, Status::Fail, "{}", new.message);
        assert!(
            new.message.ends_with(
                "(judged by the rules of etcd 3.5 (Go 1.24); etcd 3.4 (Go 1.19) would accept it)"
            ),
            "{}",
            new.message
        );
        let old = chain_finding(GoRules::Go119);
        assert_eq!(old.status, Status::Pass, "{}", old.message);
        assert!(
            old.message.ends_with("etcd 3.5 (Go 1.24) would refuse it)"),
            "{}",
            old.message
        );
    }
}

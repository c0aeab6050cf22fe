//! The one error type of pki-core.
//!
//! Every variant names the file, host or certificate it is about and says what to do next, in
//! words of certificates and files, never of a front end's flags or commands: a front end that
//! wants its own words matches on the variants (a request that cannot be carried out says why
//! as a [`RequestProblem`]). Foreign error types (x509-parser's, ring's, the PKCS decoders')
//! never appear here: their text is kept in a `reason` string.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::dns_name::DnsNameProblem;

/// What a file held when it did not hold what was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Found {
    /// The file is empty.
    Empty,
    /// Text without any PEM block.
    Text,
    /// Binary data that is neither a DER certificate nor a DER private key.
    Binary,
    /// PEM blocks, by label (`CERTIFICATE REQUEST`, `X509 CRL`, ...), in file order.
    Pem(Vec<String>),
    /// A DER-encoded certificate signing request.
    DerCsr,
    /// A DER-encoded certificate revocation list.
    DerCrl,
    /// A DER-encoded private key.
    DerPrivateKey,
    /// A DER-encoded certificate.
    DerCertificate,
}

impl Found {
    /// Describes one PEM label in words an operator recognises.
    pub fn describe_label(label: &str) -> String {
        let what = match label {
            "CERTIFICATE" => "a certificate",
            "TRUSTED CERTIFICATE" => {
                "an OpenSSL trusted certificate (convert it with `openssl x509`)"
            }
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                "a certificate signing request (CSR), not a certificate: sign it first"
            }
            "X509 CRL" => "a certificate revocation list (CRL)",
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => "a private key",
            "ENCRYPTED PRIVATE KEY" => "an encrypted private key",
            "PUBLIC KEY" | "RSA PUBLIC KEY" => "a public key",
            "OPENSSH PRIVATE KEY" => "an OpenSSH private key (not usable for TLS)",
            "EC PARAMETERS" => "EC curve parameters",
            _ => return format!("a PEM block labelled \"{label}\""),
        };
        what.to_string()
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Empty => f.write_str("nothing (the file is empty)"),
            Found::Text => f.write_str("text that is not PEM"),
            Found::Binary => {
                f.write_str("binary data that is neither a DER certificate nor a DER key")
            }
            Found::Pem(labels) if labels.is_empty() => f.write_str("no complete PEM block"),
            Found::Pem(labels) => {
                let mut seen: Vec<&str> = Vec::new();
                for label in labels {
                    if !seen.contains(&label.as_str()) {
                        seen.push(label);
                    }
                }
                let parts: Vec<String> = seen.iter().map(|l| Found::describe_label(l)).collect();
                f.write_str(&parts.join(" and "))
            }
            Found::DerCsr => {
                f.write_str("a DER certificate signing request (CSR), not a certificate")
            }
            Found::DerCrl => f.write_str("a DER certificate revocation list (CRL)"),
            Found::DerPrivateKey => f.write_str("a DER private key"),
            Found::DerCertificate => f.write_str("a DER certificate"),
        }
    }
}

/// Errors of pki-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read (missing, unreadable, a directory, ...).
    #[error("cannot read {}: {error}", crate::path_text::display_path(path))]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error (its text is part of this error's message).
        error: std::io::Error,
    },

    /// A path leads to something other than a regular file (a named pipe, a device, a
    /// directory, a socket): it is neither read (a FIFO would block) nor replaced.
    #[error("{} is {kind}, not a regular file: certificates and keys are read from and written to regular files only; give the path of the file itself", crate::path_text::display_path(path))]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: crate::files::FileKind,
    },

    /// An output of a command is one of its inputs (the same file under any name).
    #[error("refusing to write {}: it is {}, {role}, an input of this command; write the output to another file", crate::path_text::display_path(output), crate::path_text::display_path(input))]
    OutputIsInput {
        /// The output path as given.
        output: PathBuf,
        /// The input it is the same file as.
        input: PathBuf,
        /// What the input is ("the CA key").
        role: String,
    },

    /// A file is larger than any certificate or key file can reasonably be.
    #[error(
        "{}: {size} bytes is too large for a certificate or key file (limit {limit} bytes)",
        crate::path_text::display_path(path)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// A certificate was asked for and the input holds none.
    #[error("{}: no certificate found; it holds {found}", display_origin(path.as_deref()))]
    NoCertificate {
        /// The file, if the input came from one.
        path: Option<PathBuf>,
        /// What the input holds instead.
        found: Found,
    },

    /// A private key was asked for and the input holds none.
    #[error("{}: no private key found; it holds {found}", display_origin(path.as_deref()))]
    NoPrivateKey {
        /// The file, if the input came from one.
        path: Option<PathBuf>,
        /// What the input holds instead.
        found: Found,
    },

    /// The private key is encrypted; neither etcd nor this tool can use it as it is.
    #[error(
        "{}: the private key is encrypted, and etcd cannot use encrypted keys either; \
         decrypt it first: openssl pkey -in {} -out {}.plain",
        display_origin(path.as_deref()),
        display_origin(path.as_deref()),
        display_origin(path.as_deref())
    )]
    EncryptedKey {
        /// The file, if the input came from one.
        path: Option<PathBuf>,
    },

    /// A PEM block is damaged (bad base64, missing END line, ...).
    #[error("{}: malformed PEM: {reason}", display_origin(path.as_deref()))]
    MalformedPem {
        /// The file, if the input came from one.
        path: Option<PathBuf>,
        /// What is wrong.
        reason: String,
    },

    /// A certificate does not parse as X.509.
    #[error("{}: certificate #{} is malformed: {reason}", display_origin(path.as_deref()), index + 1)]
    MalformedCertificate {
        /// The file, if the input came from one.
        path: Option<PathBuf>,
        /// Index of the certificate within the file (0 is the first).
        index: usize,
        /// What is wrong.
        reason: String,
    },

    /// A private key does not parse in the format its label or encoding claims.
    #[error("{}: malformed private key: {reason}", display_origin(path.as_deref()))]
    MalformedKey {
        /// The file, if the input came from one.
        path: Option<PathBuf>,
        /// What is wrong.
        reason: String,
    },

    /// A key of an algorithm this tool cannot use (DSA, X25519, Ed448, unnamed curves, ...).
    #[error("{}: unsupported key: {algorithm}; etcd clusters use RSA, ECDSA P-256/P-384/P-521 or Ed25519", display_origin(path.as_deref()))]
    UnsupportedKey {
        /// The file, if the input came from one.
        path: Option<PathBuf>,
        /// The algorithm found.
        algorithm: String,
    },

    /// A host or URL given to a coverage check is not usable.
    #[error("invalid host {input:?}: {reason}")]
    InvalidHost {
        /// What was given.
        input: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// The CA's private key is not the key of the CA certificate.
    #[error(
        "the CA key {} does not belong to the CA certificate {}: pass the key that was generated with this CA (cfssl: ca-key.pem, kubeadm: ca.key)",
        display_origin(key.as_deref()),
        display_origin(cert.as_deref())
    )]
    CaKeyMismatch {
        /// The CA certificate file.
        cert: Option<PathBuf>,
        /// The CA key file.
        key: Option<PathBuf>,
    },

    /// The certificate given as the CA cannot sign certificates.
    #[error("{} is not a CA: {reason}; pass the cluster's CA certificate (cfssl: ca.pem, kubeadm: ca.crt)", display_origin(path.as_deref()))]
    NotACa {
        /// The certificate file.
        path: Option<PathBuf>,
        /// Why (no basic constraints, cA false, no keyCertSign).
        reason: String,
    },

    /// The CA certificate is expired or not yet valid, so nothing it signs would verify.
    #[error("the CA certificate {} is {state}; certificates it signs would not verify: a new CA is needed, and every member must trust it", display_origin(path.as_deref()))]
    CaNotValid {
        /// The certificate file.
        path: Option<PathBuf>,
        /// "expired since ..." or "not valid before ...".
        state: String,
    },

    /// The certificate to reissue or renew was not issued by the given CA.
    #[error("{} was not issued by the CA {ca}: {reason}; pass the CA that signed it (the certificate names its issuer)", display_origin(path.as_deref()))]
    NotIssuedByCa {
        /// The certificate file.
        path: Option<PathBuf>,
        /// The CA's name.
        ca: String,
        /// Why it does not chain.
        reason: String,
    },

    /// A request (reissue, init, ...) cannot be carried out as asked.
    #[error("{}{problem}", path.as_deref().map(|p| format!("{}: ", crate::path_text::display_path(p))).unwrap_or_default())]
    InvalidRequest {
        /// The certificate file.
        path: Option<PathBuf>,
        /// What is wrong with the request.
        problem: RequestProblem,
    },

    /// The signed result failed verification, so nothing was written.
    #[error("the reissued certificate for {} failed verification, nothing was written: {reason}", display_origin(path.as_deref()))]
    ReissueRejected {
        /// The certificate file.
        path: Option<PathBuf>,
        /// What failed.
        reason: String,
    },

    /// Signing or key generation failed inside the crypto library.
    #[error("signing failed: {reason}")]
    Signing {
        /// The library's message.
        reason: String,
    },

    /// Writing files failed; every file was left as it was.
    #[error(
        "cannot write {}: {error}; every file was left as it was",
        crate::path_text::display_path(path)
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error (its text is part of this error's message).
        error: std::io::Error,
    },

    /// Writing files failed and restoring the previous files failed too.
    #[error("cannot write {}: {error}; restoring the previous files also failed ({restore}); the backups are: {}", crate::path_text::display_path(path), backups.iter().map(|p| crate::path_text::display_path(p).to_string()).collect::<Vec<_>>().join(", "))]
    WriteRollback {
        /// The file whose write failed.
        path: PathBuf,
        /// The operating system's error (its text is part of this error's message).
        error: std::io::Error,
        /// Why restoring failed.
        restore: String,
        /// The backups to restore by hand.
        backups: Vec<PathBuf>,
    },

    /// A file of an interrupted write was changed since, so the write can be neither finished
    /// nor undone automatically; nothing was touched.
    #[error("an interrupted write (journal {}) cannot be finished or undone: {}: {reason}; compare the file with its backups (NAME.bak.*), put the right one in place, then remove the journal", crate::path_text::display_path(journal), crate::path_text::display_path(file))]
    RecoveryConflict {
        /// The journal of the interrupted write.
        journal: PathBuf,
        /// The file in question.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Another process is writing in the same directory right now.
    #[error("another process is writing in {} right now (journal {}): wait until it has finished, then try again", crate::path_text::display_path(dir), crate::path_text::display_path(journal))]
    WriteInProgress {
        /// The directory.
        dir: PathBuf,
        /// The running write's journal.
        journal: PathBuf,
    },

    /// Files that would be created already exist.
    #[error("refusing to overwrite an existing PKI: {} already exist(s); choose an empty directory", paths.iter().map(|p| crate::path_text::display_path(p).to_string()).collect::<Vec<_>>().join(", "))]
    AlreadyExists {
        /// The existing files.
        paths: Vec<PathBuf>,
    },

    /// The output directory of a new member's certificates exists and is not empty.
    #[error(
        "refusing to write into {}: it exists and is not empty; give a new or empty directory",
        crate::path_text::display_path(dir)
    )]
    OutputNotEmpty {
        /// The directory.
        dir: PathBuf,
    },

    /// The template directory's certificates are shared by several members (the runbook's
    /// layout), so a new member's own certificates cannot be modelled on them: the shared
    /// certificates need the new member's hosts instead.
    #[error("{}: the certificates there are shared by the members ({}), so there is no member's own certificate to model the new one on; add the new member's addresses to the shared certificates instead, keeping their keys (a reissue)", crate::path_text::display_path(template), certificates.iter().map(|c| format!("{} covers {}", crate::path_text::display_path(&c.certificate), c.hosts.join(", "))).collect::<Vec<_>>().join("; "))]
    SharedCertificates {
        /// The template directory.
        template: PathBuf,
        /// The shared certificates.
        certificates: Vec<SharedCertificate>,
    },
}

/// A certificate that several members share, as found in a template directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedCertificate {
    /// The certificate file.
    pub certificate: PathBuf,
    /// Its key file, when the directory holds it.
    pub key: Option<PathBuf>,
    /// The hosts it covers besides loopback, `IP:`/`DNS:` prefixed.
    pub hosts: Vec<String>,
}

/// Why a request (a reissue, a renewal, a new PKI) cannot be carried out as asked: the
/// `problem` of [`Error::InvalidRequest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestProblem {
    /// The certificate to reissue is a CA certificate.
    #[error("\"{subject}\" is a CA certificate; only leaf certificates are reissued")]
    IsCa {
        /// Its subject.
        subject: String,
    },
    /// A DNS name to add cannot be a DNS SAN.
    #[error("cannot add DNS name {name:?}: {problem}")]
    InvalidDnsName {
        /// The name as given.
        name: String,
        /// Why it cannot.
        problem: DnsNameProblem,
    },
    /// An IP SAN to remove is not in the certificate.
    #[error("cannot remove IP SAN {ip}: the certificate has no such IP SAN")]
    IpSanNotPresent {
        /// The address.
        ip: IpAddr,
    },
    /// A DNS SAN to remove is not in the certificate.
    #[error("cannot remove DNS SAN {name}: the certificate has no such DNS SAN")]
    DnsSanNotPresent {
        /// The name.
        name: String,
    },
    /// The removals would leave no SAN at all.
    #[error("removing every SAN would leave a certificate that covers no host")]
    NoSanLeft,
    /// A validity of zero days was asked for a reissue.
    #[error("the validity in days must be at least 1")]
    ZeroDays,
    /// The old certificate's lifetime is too short to keep (at most the backdating).
    #[error("the old certificate's lifetime ({lifetime}) cannot be kept: give the new one a validity in days")]
    LifetimeCannotBeKept {
        /// The old lifetime.
        lifetime: Duration,
    },
    /// The CA expires before anything it would sign could be used.
    #[error("the CA expires at {}, too soon to issue anything useful: renew the CA first", crate::time_fmt::rfc3339(*ca_not_after))]
    CaExpiresTooSoon {
        /// The CA's notAfter.
        ca_not_after: OffsetDateTime,
    },
    /// A validity runs past the year 9999, the last a certificate can hold.
    #[error("a validity of {days} days runs past the year 9999")]
    PastYear9999 {
        /// The validity asked for, in days.
        days: i64,
    },
    /// The private key given with the certificate is not its key.
    #[error("the private key given does not belong to this certificate")]
    KeyMismatch,
    /// The certificate to reissue cannot be taken apart again.
    #[error("the certificate does not parse: {reason}")]
    UnparsableCertificate {
        /// The parser's message.
        reason: String,
    },
    /// The subjectAltName of the certificate to reissue cannot be taken apart.
    #[error("its subjectAltName does not parse: {reason}")]
    UnparsableSubjectAltName {
        /// The parser's message.
        reason: String,
    },
    /// An extension of the certificate to reissue has an OID that cannot be encoded again.
    #[error("extension OID {oid} is too large to re-encode")]
    ExtensionOidTooLarge {
        /// The OID, dotted.
        oid: String,
    },
    /// A new key was asked for and there is no file to write it to.
    #[error("a new key was generated but there is nowhere to write it: give the key file")]
    NowhereToWriteKey,
    /// A new PKI without members.
    #[error("give at least one member")]
    NoMembers,
    /// Two members of a new PKI have the same name.
    #[error("member name {name} is given twice")]
    DuplicateMemberName {
        /// The name.
        name: String,
    },
    /// Two members of a new PKI have the same IP.
    #[error("IP {ip} is given to two members")]
    DuplicateMemberIp {
        /// The address.
        ip: IpAddr,
    },
    /// A member given as `NAME=IP[,DNS...]` (or built with a name or DNS name that such a spec
    /// could not hold) cannot be used.
    #[error("member {spec:?}: {problem}; expected NAME=IP[,DNS...], e.g. infra0=10.0.11.36")]
    InvalidMember {
        /// The spec as given (the name, for a member built otherwise).
        spec: String,
        /// What is wrong with it.
        problem: MemberProblem,
    },
    /// The CA's name is empty or longer than a common name can be.
    #[error(
        "the CA name must be 1 to {max} bytes (X.520's upper bound for a common name); it is {len}"
    )]
    CaNameLength {
        /// Its length in bytes.
        len: usize,
        /// The upper bound.
        max: usize,
    },
    /// The CA's name holds control characters.
    #[error("the CA name must not hold control characters")]
    CaNameControlCharacters,
    /// A validity of zero days was asked for a new PKI.
    #[error("validity must be at least one day")]
    ZeroValidity,
    /// A new member's certificates were asked for without an address or name to cover.
    #[error("give the new member's IP address (and DNS names, if its URLs use them)")]
    NoHosts,
    /// The template directory holds no certificate of a member.
    #[error("no member certificate (a leaf certificate) was found in it; give the directory of an existing member's certificates, e.g. /etc/kubernetes/pki/etcd")]
    NoTemplateCertificate,
    /// The template directory holds an interrupted write.
    #[error(
        "a write was interrupted in {}: its files may be a mix of old and new; recover it first",
        crate::path_text::display_path(dir)
    )]
    TemplateUnfinishedWrite {
        /// The directory holding the journal.
        dir: PathBuf,
    },
    /// No certificate of a member's directory is recognised for a role etcd needs.
    #[error("no {role} certificate was recognised among its files (server and client auth, with the member's addresses as SANs)")]
    NoCertificateForRole {
        /// The role: `peer`, `server`.
        role: String,
    },
    /// The output directory is inside the template directory.
    #[error("it is inside the template directory {}: the new member's files, keys included, would sit among another member's; write them elsewhere", crate::path_text::display_path(template))]
    OutputInsideTemplate {
        /// The template directory.
        template: PathBuf,
    },
    /// Two template files would be written to the same output file.
    #[error(
        "two template files would both become {}",
        crate::path_text::display_path(path)
    )]
    OutputCollision {
        /// The output file, relative to the output directory.
        path: PathBuf,
    },
    /// Keys of the algorithm asked for cannot be generated.
    #[error("{algorithm} keys cannot be generated")]
    CannotGenerate {
        /// The algorithm, as [`crate::KeyAlgorithm`] prints it.
        algorithm: String,
    },
}

/// What is wrong with a member of a new PKI: the `problem` of
/// [`RequestProblem::InvalidMember`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemberProblem {
    /// The spec has no `=` between name and IP.
    #[error("no '='")]
    NoEquals,
    /// The name holds characters other than letters, digits, `-`, `_` and `.`, starts with `.`,
    /// or is empty.
    #[error("the name must be letters, digits, '-', '_' or '.'")]
    BadName,
    /// The name is longer than a common name can be.
    #[error(
        "the name is {len} bytes long; at most {max} (it becomes a certificate's common name)"
    )]
    NameTooLong {
        /// Its length in bytes.
        len: usize,
        /// The upper bound.
        max: usize,
    },
    /// The first value after `=` is not an IP address.
    #[error("the first value after '=' must be an IP address")]
    NotAnIp,
    /// A DNS name cannot be a DNS SAN.
    #[error("{name:?} is not a DNS name a certificate can list: {problem}")]
    BadDnsName {
        /// The name.
        name: String,
        /// Why.
        problem: DnsNameProblem,
    },
}

fn display_origin(path: Option<&Path>) -> String {
    match path {
        Some(p) => crate::path_text::display_path(p).into_owned(),
        None => "input".to_string(),
    }
}

impl Error {
    /// The file this error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Read { path, .. }
            | Error::NotRegularFile { path, .. }
            | Error::OutputIsInput { output: path, .. }
            | Error::TooLarge { path, .. }
            | Error::Write { path, .. }
            | Error::WriteRollback { path, .. }
            | Error::RecoveryConflict { file: path, .. }
            | Error::WriteInProgress { dir: path, .. }
            | Error::OutputNotEmpty { dir: path }
            | Error::SharedCertificates { template: path, .. } => Some(path),
            Error::NoCertificate { path, .. }
            | Error::NoPrivateKey { path, .. }
            | Error::EncryptedKey { path }
            | Error::MalformedPem { path, .. }
            | Error::MalformedCertificate { path, .. }
            | Error::MalformedKey { path, .. }
            | Error::UnsupportedKey { path, .. }
            | Error::NotACa { path, .. }
            | Error::CaNotValid { path, .. }
            | Error::NotIssuedByCa { path, .. }
            | Error::InvalidRequest { path, .. }
            | Error::ReissueRejected { path, .. } => path.as_deref(),
            Error::CaKeyMismatch { cert, .. } => cert.as_deref(),
            Error::InvalidHost { .. } | Error::Signing { .. } | Error::AlreadyExists { .. } => None,
        }
    }

    /// Attaches a file path to an error made from in-memory input (errors that already name a
    /// file keep theirs).
    pub fn with_path(mut self, file: &Path) -> Self {
        match &mut self {
            Error::NoCertificate { path, .. }
            | Error::NoPrivateKey { path, .. }
            | Error::EncryptedKey { path }
            | Error::MalformedPem { path, .. }
            | Error::MalformedCertificate { path, .. }
            | Error::MalformedKey { path, .. }
            | Error::UnsupportedKey { path, .. }
            | Error::NotACa { path, .. }
            | Error::CaNotValid { path, .. }
            | Error::NotIssuedByCa { path, .. }
            | Error::InvalidRequest { path, .. }
            | Error::ReissueRejected { path, .. } => *path = Some(file.to_path_buf()),
            Error::Read { .. }
            | Error::NotRegularFile { .. }
            | Error::OutputIsInput { .. }
            | Error::TooLarge { .. }
            | Error::InvalidHost { .. }
            | Error::CaKeyMismatch { .. }
            | Error::Signing { .. }
            | Error::Write { .. }
            | Error::WriteRollback { .. }
            | Error::RecoveryConflict { .. }
            | Error::WriteInProgress { .. }
            | Error::AlreadyExists { .. }
            | Error::OutputNotEmpty { .. }
            | Error::SharedCertificates { .. } => {}
        }
        self
    }
}

/// Result alias of pki-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The one error type of pki-core.
//!
//! Every variant names the file, host or certificate it is about and says what to do next, so
//! that a command-line front end can print it as it is. Foreign error types (x509-parser's,
//! ring's, the PKCS decoders') never appear here: their text is kept in a `reason` string.

use std::fmt;
use std::path::{Path, PathBuf};

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
    #[error("the CA certificate {} is {state}; certificates it signs would not verify: a new CA is needed (etcd-pki init), and every member must trust it", display_origin(path.as_deref()))]
    CaNotValid {
        /// The certificate file.
        path: Option<PathBuf>,
        /// "expired since ..." or "not valid before ...".
        state: String,
    },

    /// The certificate to reissue or renew was not issued by the given CA.
    #[error("{} was not issued by the CA {ca}: {reason}; pass the CA that signed it (etcd-pki inspect shows its issuer)", display_origin(path.as_deref()))]
    NotIssuedByCa {
        /// The certificate file.
        path: Option<PathBuf>,
        /// The CA's name.
        ca: String,
        /// Why it does not chain.
        reason: String,
    },

    /// A request (reissue, init, ...) cannot be carried out as asked.
    #[error("{}{reason}", path.as_deref().map(|p| format!("{}: ", crate::path_text::display_path(p))).unwrap_or_default())]
    InvalidRequest {
        /// The certificate file.
        path: Option<PathBuf>,
        /// What is wrong with the request.
        reason: String,
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
    #[error("another etcd-pki is writing in {} right now (journal {}): wait until it has finished, then try again", crate::path_text::display_path(dir), crate::path_text::display_path(journal))]
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
            | Error::WriteInProgress { dir: path, .. } => Some(path),
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
            | Error::AlreadyExists { .. } => {}
        }
        self
    }
}

/// Result alias of pki-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

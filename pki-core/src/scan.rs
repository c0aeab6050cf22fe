//! Scanning directory trees for certificates, like `kubeadm certs check-expiration` but for any
//! layout: every certificate found, its expiry, the CA in the same trees that issued it, and the
//! problems an operator must act on.
//!
//! The files come from [`crate::walk`], which follows symbolic links without entering a directory
//! twice. Files are read and parsed in parallel (rayon); anything that is not a certificate is
//! listed as skipped with the reason, never fatal.
//! A scan makes two passes: the first reads every file once and keeps, of each certificate, its
//! row and what names its issuer (whole certificates only for CAs and where a signature will be
//! checked); the second, once every CA is known, finds issuers and the keys beside them. A file
//! is read a second time only where the name and key identifier of a certificate match a CA's
//! name but do not single it out, and its signature must decide (see [`crate::issuer_match`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::cert::Certificate;
use crate::check::DEFAULT_WARN_WITHIN;
use crate::error::{Error, Found};
use crate::issuer_match::{identify_issuer, identify_leaf_issuer, Leaf};
use crate::key::{PrivateKey, PublicKeyData};
use crate::load::{parse_contents, read_file};
use crate::name_fields::NameFields;
use crate::path_text::display_path;
use crate::time_fmt::rfc3339;
use crate::verify::{display_name, may_issue, CertPool};
use crate::walk::{files_to_scan, Listing, Skipped};

/// What to scan for: [`ScanOptions::new`] and the methods below.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScanOptions {
    /// The instant expiry is judged at.
    pub at: OffsetDateTime,
    /// Certificates expiring within this window are a problem.
    pub expires_within: Duration,
    /// Check every certificate's signature against its issuer, also where the key identifiers
    /// already single it out (see the module docs).
    pub verify_signatures: bool,
}

impl ScanOptions {
    /// Judges expiry now, flags what expires within [`DEFAULT_WARN_WITHIN`], and checks
    /// signatures only where key identifiers do not decide.
    pub fn new() -> ScanOptions {
        ScanOptions {
            at: OffsetDateTime::now_utc(),
            expires_within: DEFAULT_WARN_WITHIN,
            verify_signatures: false,
        }
    }

    /// Judges expiry at `at` instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> ScanOptions {
        self.at = at;
        self
    }

    /// Flags what expires within `window`.
    pub fn expires_within(mut self, window: Duration) -> ScanOptions {
        self.expires_within = window;
        self
    }

    /// Checks every certificate's signature against its issuer when `verify` is true.
    pub fn verify_signatures(mut self, verify: bool) -> ScanOptions {
        self.verify_signatures = verify;
        self
    }
}

impl Default for ScanOptions {
    /// [`ScanOptions::new`].
    fn default() -> ScanOptions {
        ScanOptions::new()
    }
}

/// A problem found with a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// Past its notAfter.
    Expired {
        /// When it expired (RFC 3339 in JSON).
        #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
        not_after: OffsetDateTime,
    },
    /// Before its notBefore.
    NotYetValid {
        /// When it becomes valid (RFC 3339 in JSON).
        #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
        not_before: OffsetDateTime,
    },
    /// Expires within the window.
    ExpiresSoon {
        /// When it expires (RFC 3339 in JSON).
        #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
        not_after: OffsetDateTime,
    },
    /// No CA in the scanned trees issued it.
    NotChained {
        /// The issuer name it claims.
        issuer: String,
        /// Why the closest candidate CA did not fit, if there was one.
        detail: Option<String>,
    },
    /// The key file beside it does not match it.
    KeyMismatch {
        /// The key file.
        #[serde(serialize_with = "crate::path_text::serde_path::path")]
        key: PathBuf,
    },
    /// The key file beside it cannot be used.
    BadKey {
        /// The key file.
        #[serde(serialize_with = "crate::path_text::serde_path::path")]
        key: PathBuf,
        /// Why.
        reason: String,
    },
}

impl Problem {
    /// The kind of problem, as JSON tags it (`expired`, `not_yet_valid`, `expires_soon`,
    /// `not_chained`, `key_mismatch`, `bad_key`).
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Expired { .. } => "expired",
            Problem::NotYetValid { .. } => "not_yet_valid",
            Problem::ExpiresSoon { .. } => "expires_soon",
            Problem::NotChained { .. } => "not_chained",
            Problem::KeyMismatch { .. } => "key_mismatch",
            Problem::BadKey { .. } => "bad_key",
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Expired { not_after } => write!(f, "expired {}", rfc3339(*not_after)),
            Problem::NotYetValid { not_before } => {
                write!(f, "not valid before {}", rfc3339(*not_before))
            }
            Problem::ExpiresSoon { not_after } => {
                write!(f, "expires soon ({})", rfc3339(*not_after))
            }
            Problem::NotChained {
                issuer,
                detail: None,
            } => {
                write!(f, "not chained to any CA in the tree (issuer \"{issuer}\")")
            }
            Problem::NotChained {
                issuer,
                detail: Some(d),
            } => write!(
                f,
                "not chained to any CA in the tree (issuer \"{issuer}\": {d})"
            ),
            Problem::KeyMismatch { key } => write!(f, "key mismatch with {}", display_path(key)),
            Problem::BadKey { key, reason } => {
                write!(f, "unusable key {}: {reason}", display_path(key))
            }
        }
    }
}

/// Which CA issued a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Issuer {
    /// A self-signed certificate (a root CA).
    SelfSigned,
    /// A CA certificate found in the scanned trees.
    Found {
        /// The file holding the CA.
        #[serde(serialize_with = "crate::path_text::serde_path::path")]
        path: PathBuf,
        /// The CA's name as Go shows it (its CN, else its subject).
        name: String,
    },
    /// Not found in the scanned trees.
    NotFound,
}

/// One certificate found by a scan.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ScannedCertificate {
    /// The file.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub path: PathBuf,
    /// Position in the file (0 for the first certificate of a bundle).
    pub index: usize,
    /// Subject DN.
    pub subject: String,
    /// Common name.
    pub common_name: Option<String>,
    /// Whether it is a CA.
    pub is_ca: bool,
    /// The serial number in decimal.
    pub serial_number: String,
    /// The subject's attributes, as monitoring labels them (not in JSON: `subject` has them).
    #[serde(skip)]
    pub subject_fields: NameFields,
    /// The issuer's attributes, as monitoring labels them (not in JSON).
    #[serde(skip)]
    pub issuer_fields: NameFields,
    /// notBefore (RFC 3339 in JSON).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_before: OffsetDateTime,
    /// notAfter (RFC 3339 in JSON).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Time left at the scan's instant, negative when expired. In JSON two fields:
    /// `residual`, kubeadm style (`364d`) or `expired`, and `residual_seconds`, for machines.
    #[serde(flatten, serialize_with = "crate::time_fmt::serde_time::residual")]
    pub residual: Duration,
    /// The issuing CA.
    pub issuer: Issuer,
    /// The SANs, `IP:`/`DNS:`/`URI:`/`email:` prefixed.
    pub sans: Vec<String>,
    /// The key file found beside it, if any.
    #[serde(serialize_with = "crate::path_text::serde_path::opt_path")]
    pub key: Option<PathBuf>,
    /// Problems to act on; empty when all is well.
    pub problems: Vec<Problem>,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct ScanReport {
    /// Certificates, by path then position.
    pub certificates: Vec<ScannedCertificate>,
    /// Files that hold a certificate that cannot be read (damaged PEM or DER): etcd could not
    /// load them either.
    pub malformed: Vec<Skipped>,
    /// Files that held no certificate, by path.
    pub skipped: Vec<Skipped>,
    /// Writes found unfinished in the scanned directories (their temporary files and journals
    /// are skipped, never read as certificates): the directory needs a recovery.
    pub interrupted: Vec<crate::journal::InterruptedWrite>,
}

impl ScanReport {
    /// Whether any certificate has a problem, a certificate file is damaged, or a write was
    /// interrupted in the scanned directories.
    pub fn has_problems(&self) -> bool {
        !self.malformed.is_empty()
            || !self.interrupted.is_empty()
            || self.certificates.iter().any(|c| !c.problems.is_empty())
    }
}

/// What one file turned out to hold, after the first pass.
enum FileResult {
    Certs(Vec<Pending>, Option<KeyResult>),
    Key(KeyResult),
    Skipped(String),
    Malformed(String),
}

#[derive(Clone)]
enum KeyResult {
    Ok(PublicKeyData),
    Bad(String),
}

/// A certificate after the first pass: its row, complete but for the issuer and the key beside
/// it, and what the second pass needs to find those. An issuer can sit in any file, so every CA
/// must be known before any row is finished; certificates that may issue are kept whole, and of
/// the others only what names their issuer, so that memory grows by the row, not by the parsed
/// certificate (see [`Link`]).
struct Pending {
    row: ScannedCertificate,
    self_signed: bool,
    link: Link,
}

enum Link {
    /// Kept whole: a certificate that may issue (a copy goes into the pool of CAs), or one whose
    /// signature will be checked (every one with [`ScanOptions::verify_signatures`], and one
    /// without an authority key ID, which nothing else can tie to its issuer).
    Whole(Box<Certificate>),
    /// Any other certificate: its issuer name and authority key ID. Where those match several
    /// CAs, or match a CA's name but not its key ID, the second pass reads the file again to
    /// check the signature: a foreign CA of the same name, or a CA renewed with its old key
    /// while both copies sit in the trees (then every leaf it issued is read twice).
    Leaf(Leaf),
}

/// Scans the trees under `roots`.
///
/// # Errors
/// A root that does not exist or cannot be read is an error (it is the operator's input);
/// everything below a root is reported in the result instead.
pub fn scan(
    roots: impl IntoIterator<Item = impl AsRef<Path>>,
    opts: &ScanOptions,
) -> Result<ScanReport, Error> {
    let roots: Vec<PathBuf> = roots
        .into_iter()
        .map(|r| r.as_ref().to_path_buf())
        .collect();
    let Listing {
        files,
        mut skipped,
        interrupted_dirs,
    } = files_to_scan(&roots)?;
    let interrupted: Vec<_> = interrupted_dirs
        .iter()
        .flat_map(crate::journal::interrupted_writes)
        .collect();

    // First pass: read and parse every file once, in parallel.
    let results: Vec<(PathBuf, FileResult)> = files
        .into_par_iter()
        .map(|path| {
            let result = read_one(&path, opts);
            (path, result)
        })
        .collect();

    let mut malformed = Vec::new();
    let mut keys: HashMap<PathBuf, KeyResult> = HashMap::new();
    let mut cas = CertPool::new();
    let mut ca_paths: HashMap<Vec<u8>, (PathBuf, bool)> = HashMap::new();
    let mut found = Vec::new();
    for (path, result) in results {
        match result {
            FileResult::Key(k) => {
                keys.insert(path, k);
            }
            FileResult::Certs(pending, own_key) => {
                // Name a CA by the file that holds it alone (ca.pem) rather than a bundle.
                let alone = pending.len() == 1;
                for p in &pending {
                    let Link::Whole(cert) = &p.link else { continue };
                    if !may_issue(cert) {
                        continue;
                    }
                    ca_paths
                        .entry(cert.der().to_vec())
                        .and_modify(|(p, was_alone)| {
                            if alone && !*was_alone {
                                *p = path.clone();
                                *was_alone = true;
                            }
                        })
                        .or_insert_with(|| (path.clone(), alone));
                    cas.add(Certificate::clone(cert));
                }
                found.push((path, pending, own_key));
            }
            FileResult::Skipped(reason) => skipped.push(Skipped { path, reason }),
            FileResult::Malformed(reason) => malformed.push(Skipped { path, reason }),
        }
    }

    // Second pass: issuers and keys, now that every CA and key is known.
    let mut certificates: Vec<ScannedCertificate> = found
        .into_par_iter()
        .flat_map_iter(|(path, pending, own_key)| {
            let beside = own_key.map(|k| (path.clone(), k)).or_else(|| {
                key_candidates(&path)
                    .into_iter()
                    .find_map(|p| keys.get(&p).map(|k| (p, k.clone())))
            });
            let (cas, ca_paths) = (&cas, &ca_paths);
            pending.into_iter().enumerate().map(move |(index, p)| {
                let key = if index == 0 { beside.clone() } else { None };
                finish(&path, index, p, key, cas, ca_paths, opts)
            })
        })
        .collect();
    certificates.sort_by(|a, b| (&a.path, a.index).cmp(&(&b.path, b.index)));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    malformed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ScanReport {
        certificates,
        malformed,
        skipped,
        interrupted,
    })
}

/// The first pass over one certificate: its row but for issuer and key.
fn pending(path: &Path, index: usize, cert: Certificate, opts: &ScanOptions) -> Pending {
    let mut problems = Vec::new();
    let left = cert.not_after() - opts.at;
    if opts.at < cert.not_before() {
        problems.push(Problem::NotYetValid {
            not_before: cert.not_before(),
        });
    } else if left.is_negative() {
        problems.push(Problem::Expired {
            not_after: cert.not_after(),
        });
    } else if left <= opts.expires_within {
        problems.push(Problem::ExpiresSoon {
            not_after: cert.not_after(),
        });
    }
    // Go never checks a root's own signature; a self-issued certificate that signed itself (even
    // with SHA-1, even as v1) is a root to it.
    let self_signed = cert.is_self_issued()
        && crate::signature::check_signature_allowing_insecure(&cert, &cert).is_ok();
    let row = ScannedCertificate {
        path: path.to_path_buf(),
        index,
        subject: cert.subject().to_string(),
        common_name: cert.common_name().map(str::to_string),
        is_ca: cert.is_ca(),
        serial_number: cert.serial_decimal(),
        subject_fields: cert.subject_fields(),
        issuer_fields: cert.issuer_fields(),
        not_before: cert.not_before(),
        not_after: cert.not_after(),
        residual: left,
        issuer: Issuer::NotFound,
        sans: cert.sans().to_strings(),
        key: None,
        problems,
    };
    let link = match cert.authority_key_id() {
        Some(aki) if !opts.verify_signatures && !may_issue(&cert) => Link::Leaf(Leaf {
            issuer: cert.issuer().to_string(),
            raw_issuer: cert.raw_issuer().to_vec(),
            authority_key_id: aki.to_vec(),
            serial: cert.serial_bytes().to_vec(),
            public: cert.public_key_data().clone(),
        }),
        _ => Link::Whole(Box::new(cert)),
    };
    Pending {
        row,
        self_signed,
        link,
    }
}

/// The second pass over one certificate: its issuer and the key beside it.
fn finish(
    path: &Path,
    index: usize,
    pending: Pending,
    key: Option<(PathBuf, KeyResult)>,
    cas: &CertPool,
    ca_paths: &HashMap<Vec<u8>, (PathBuf, bool)>,
    opts: &ScanOptions,
) -> ScannedCertificate {
    let Pending {
        mut row,
        self_signed,
        link,
    } = pending;
    let identified = match &link {
        _ if self_signed => None,
        Link::Whole(cert) => Some(identify_issuer(cert, cas, opts.verify_signatures)),
        Link::Leaf(leaf) => Some(identify_leaf_issuer(path, index, leaf, cas)),
    };
    row.issuer = match identified {
        None => Issuer::SelfSigned,
        Some(Ok(ca)) => Issuer::Found {
            path: ca_paths
                .get(ca.der())
                .map(|(p, _)| p.clone())
                .unwrap_or_default(),
            name: display_name(ca),
        },
        Some(Err(detail)) => {
            row.problems.push(Problem::NotChained {
                issuer: issuer_name(&link),
                detail,
            });
            Issuer::NotFound
        }
    };
    let public = match &link {
        Link::Whole(cert) => cert.public_key_data(),
        Link::Leaf(leaf) => &leaf.public,
    };
    match &key {
        Some((p, KeyResult::Ok(k))) if k != public => {
            row.problems.push(Problem::KeyMismatch { key: p.clone() })
        }
        Some((p, KeyResult::Bad(reason))) => row.problems.push(Problem::BadKey {
            key: p.clone(),
            reason: reason.clone(),
        }),
        _ => {}
    }
    row.key = key.map(|(p, _)| p);
    row
}

/// The issuer name a certificate claims, as Go prints it.
fn issuer_name(link: &Link) -> String {
    match link {
        Link::Whole(cert) => cert.issuer().to_string(),
        Link::Leaf(leaf) => leaf.issuer.clone(),
    }
}

fn read_one(path: &Path, opts: &ScanOptions) -> FileResult {
    match parse_file(path) {
        Ok((certs, key)) => FileResult::Certs(
            certs
                .into_iter()
                .enumerate()
                .map(|(index, cert)| pending(path, index, cert, opts))
                .collect(),
            key,
        ),
        Err(other) => other,
    }
}

/// The certificates of a file and the key beside them in it, or what else the file is.
fn parse_file(path: &Path) -> Result<(Vec<Certificate>, Option<KeyResult>), FileResult> {
    let bytes = match read_file(path) {
        Ok(b) => zeroize::Zeroizing::new(b),
        Err(Error::TooLarge { size, .. }) => {
            return Err(FileResult::Skipped(format!(
                "too large for a certificate file ({size} bytes)"
            )))
        }
        Err(Error::Read { error, .. }) => {
            return Err(FileResult::Skipped(format!("cannot read: {error}")))
        }
        Err(e) => return Err(FileResult::Skipped(e.to_string())),
    };
    let contents = match parse_contents(&bytes) {
        Ok(c) => c,
        Err(e) => return Err(FileResult::Malformed(strip_origin(&e))),
    };
    // Go's tls.X509KeyPair takes the first key block, even one it cannot use.
    let refusal = contents.first_key_refusal();
    let key = match contents.keys.len() {
        _ if refusal.is_some() => refusal.map(|e| KeyResult::Bad(strip_origin(&e))),
        0 if contents.encrypted_keys > 0 => Some(KeyResult::Bad("the key is encrypted".into())),
        0 => None,
        // Go's tls.X509KeyPair uses the first key of a file.
        _ => Some(
            match PrivateKey::from_der(contents.keys[0].format, &contents.keys[0].der) {
                Ok(k) => KeyResult::Ok(k.public_key_data().clone()),
                Err(e) => KeyResult::Bad(strip_origin(&e)),
            },
        ),
    };
    if contents.certificates.is_empty() {
        return Err(match key {
            Some(k) => FileResult::Key(k),
            None => FileResult::Skipped(describe_found(&contents.found)),
        });
    }
    let mut certs = Vec::with_capacity(contents.certificates.len());
    for (index, der) in contents.certificates.into_iter().enumerate() {
        match Certificate::from_der(der) {
            Ok(c) => certs.push(c),
            Err(reason) => {
                return Err(FileResult::Malformed(format!(
                    "certificate #{} is malformed: {reason}",
                    index + 1
                )))
            }
        }
    }
    Ok((certs, key))
}

fn describe_found(found: &Found) -> String {
    found.to_string()
}

/// An error's message without the "input: " prefix (the path is shown in its own column).
fn strip_origin(e: &Error) -> String {
    let text = e.to_string();
    text.strip_prefix("input: ")
        .map(str::to_string)
        .unwrap_or(text)
}

/// Where a certificate's key is by the conventions of cfssl (`server.pem` / `server-key.pem`),
/// kubeadm and openssl (`server.crt` / `server.key`), and others (`tls.crt` / `tls.key`,
/// `x.cert.pem` / `x.key.pem`, `x-cert.pem` / `x-key.pem`, `cert.pem` / `key.pem`).
pub fn key_candidates(cert: impl AsRef<Path>) -> Vec<PathBuf> {
    let cert = cert.as_ref();
    let Some(name) = cert.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let dir = cert.parent().unwrap_or(Path::new(""));
    let mut names = Vec::new();
    for ext in [".crt", ".pem", ".cer", ".cert", ".der"] {
        if let Some(stem) = name.strip_suffix(ext) {
            names.push(format!("{stem}.key"));
            names.push(format!("{stem}-key{ext}"));
            names.push(format!("{stem}-key.pem"));
            names.push(format!("{stem}.key.pem"));
            for (cert_word, key_word) in [
                (".cert", ".key"),
                ("-cert", "-key"),
                ("_cert", "_key"),
                (".crt", ".key"),
            ] {
                if let Some(base) = stem.strip_suffix(cert_word) {
                    names.push(format!("{base}{key_word}{ext}"));
                    names.push(format!("{base}{key_word}"));
                }
            }
            if stem == "cert" {
                names.push(format!("key{ext}"));
            }
        }
    }
    let mut seen = HashSet::new();
    names
        .into_iter()
        .filter(|n| n != name && seen.insert(n.clone()))
        .map(|n| dir.join(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<String> {
        key_candidates(Path::new(p))
            .into_iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn key_candidates_cover_common_layouts() {
        assert!(names("/pki/server.pem").contains(&"server-key.pem".to_string()));
        assert!(names("/pki/server.crt").contains(&"server.key".to_string()));
        assert!(names("/pki/tls.crt").contains(&"tls.key".to_string()));
        assert!(names("/pki/etcd.cert.pem").contains(&"etcd.key.pem".to_string()));
        assert!(names("/pki/etcd-cert.pem").contains(&"etcd-key.pem".to_string()));
        assert!(names("/pki/cert.pem").contains(&"key.pem".to_string()));
        assert!(!names("/pki/server.pem").contains(&"server.pem".to_string()));
    }
}

#[cfg(test)]
mod fixture_tests {
    use std::fs;

    use super::*;
    use crate::issuer_match::reread;
    use crate::test_support::{cert, fixture};

    fn copy(rel: &str, dir: &Path, name: &str) {
        fs::copy(fixture(rel), dir.join(name)).unwrap();
    }

    #[test]
    fn scan_reports_each_kind_of_problem() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let etcd = root.join("etcd");
        fs::create_dir(&etcd).unwrap();
        copy("cfssl/ca.pem", &etcd, "ca.pem");
        copy("cfssl/members.pem", &etcd, "members.pem");
        copy("cfssl/members-key.pem", &etcd, "members-key.pem");
        copy("cfssl/foreign-members.pem", &etcd, "foreign.pem");
        copy("cfssl/server.pem", &etcd, "server.pem");
        copy("cfssl/client-key.pem", &etcd, "server-key.pem"); // wrong key beside server.pem
        copy("openssl/expired.crt", root, "expired.crt");
        copy("openssl/leaf.csr", root, "leaf.csr");
        copy("openssl/garbage.txt", root, "notes.txt");
        fs::write(root.join("empty.pem"), b"").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, etcd.join("loop")).unwrap();

        let not_after = cert("cfssl/members.pem").not_after();
        // The same findings whether key identifiers or signatures name the issuer.
        for verify_signatures in [false, true] {
            let opts = ScanOptions {
                at: not_after - Duration::days(10),
                expires_within: Duration::days(30),
                verify_signatures,
            };
            let report = scan(&[root.to_path_buf()], &opts).unwrap();
            let row = |name: &str| {
                report
                    .certificates
                    .iter()
                    .find(|c| c.path.file_name().unwrap() == name)
                    .unwrap_or_else(|| panic!("{name} not listed: {report:#?}"))
            };
            assert_eq!(
                report.certificates.len(),
                5,
                "each certificate once despite the link loop"
            );
            assert_eq!(row("ca.pem").issuer, Issuer::SelfSigned);
            assert!(matches!(row("members.pem").issuer, Issuer::Found { .. }));
            assert!(row("members.pem")
                .problems
                .iter()
                .all(|p| matches!(p, Problem::ExpiresSoon { .. })));
            assert_eq!(
                row("members.pem").key.as_deref(),
                Some(etcd.join("members-key.pem").as_path())
            );
            assert!(row("foreign.pem")
                .problems
                .iter()
                .any(|p| matches!(p, Problem::NotChained { .. })));
            assert!(row("server.pem")
                .problems
                .iter()
                .any(|p| matches!(p, Problem::KeyMismatch { .. })));
            assert!(row("expired.crt")
                .problems
                .iter()
                .any(|p| matches!(p, Problem::Expired { .. })));
            assert!(row("expired.crt")
                .problems
                .iter()
                .any(|p| matches!(p, Problem::NotChained { .. })));
            let skipped: Vec<_> = report
                .skipped
                .iter()
                .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            assert_eq!(skipped, ["empty.pem", "leaf.csr", "notes.txt"]);
            assert!(report.has_problems());
        }
    }

    /// A CA with the same name and another key (cfssl's default CN on two clusters) is told
    /// apart from ours by key identifier, and by signature with `verify_signatures`; a
    /// certificate whose signature was damaged is caught only by the latter.
    #[test]
    fn issuers_by_key_identifier_and_by_signature() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        copy("cfssl/ca.pem", root, "ca.pem");
        copy("cfssl/members.pem", root, "members.pem");
        copy("cfssl/impostor-members.pem", root, "impostor-members.pem");
        let mut damaged = cert("cfssl/server.pem").der().to_vec();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x01; // the signature is the certificate's last field
        fs::write(root.join("damaged.der"), &damaged).unwrap();
        let scan_with = |verify_signatures| {
            scan(
                &[root.to_path_buf()],
                &ScanOptions {
                    at: OffsetDateTime::now_utc(),
                    expires_within: Duration::days(30),
                    verify_signatures,
                },
            )
            .unwrap()
        };
        let chained = |report: &ScanReport, name: &str| {
            let row = report
                .certificates
                .iter()
                .find(|c| c.path.file_name().unwrap() == name)
                .unwrap();
            matches!(row.issuer, Issuer::Found { .. })
        };
        for verify in [false, true] {
            let report = scan_with(verify);
            assert!(chained(&report, "members.pem"), "verify {verify}");
            assert!(!chained(&report, "impostor-members.pem"), "verify {verify}");
        }
        assert!(chained(&scan_with(false), "damaged.der"));
        assert!(!chained(&scan_with(true), "damaged.der"));
        // Without --verify the impostor was read again to check its signature against our CA of
        // the same name, which says why it is not ours.
        let report = scan_with(false);
        let impostor = report
            .certificates
            .iter()
            .find(|c| c.path.ends_with("impostor-members.pem"))
            .unwrap();
        assert!(
            matches!(&impostor.problems[..], [Problem::NotChained { detail: Some(d), .. }] if d.contains("found but")),
            "{:?}",
            impostor.problems
        );
    }

    fn leaf_of(path: &Path, opts: &ScanOptions) -> Leaf {
        let FileResult::Certs(mut pending, _) = read_one(path, opts) else {
            panic!("{} holds a certificate", path.display())
        };
        match pending.remove(0).link {
            Link::Leaf(leaf) => leaf,
            Link::Whole(_) => panic!("a leaf with an authority key ID is not kept whole"),
        }
    }

    /// A file read again in the second pass must still hold the certificate the first saw.
    #[test]
    fn a_file_read_again_must_hold_the_same_certificate() {
        let tmp = tempfile::tempdir().unwrap();
        copy("cfssl/members.pem", tmp.path(), "members.pem");
        let path = tmp.path().join("members.pem");
        let opts = ScanOptions {
            at: OffsetDateTime::now_utc(),
            expires_within: Duration::days(30),
            verify_signatures: false,
        };
        let leaf = &leaf_of(&path, &opts);
        assert!(reread(&path, 0, leaf).is_some());
        assert!(reread(&path, 1, leaf).is_none(), "no second certificate");
        copy("cfssl/impostor-members.pem", tmp.path(), "members.pem");
        assert!(reread(&path, 0, leaf).is_none(), "another issuer now");
        // Renewed in place: same issuer and key identifier, another serial.
        let mut renewed = leaf_of(&path, &opts);
        renewed.serial.push(0);
        copy("cfssl/members.pem", tmp.path(), "members.pem");
        assert!(reread(&path, 0, &leaf_of(&path, &opts)).is_some());
        assert!(reread(&path, 0, &renewed).is_none(), "another serial");
        fs::remove_file(&path).unwrap();
        assert!(reread(&path, 0, leaf).is_none(), "gone");
    }

    /// Go lets v1 certificates issue and never checks a root's own signature (SHA-1 or not).
    #[test]
    fn v1_and_sha1_roots_issue_as_go_lets_them() {
        let tmp = tempfile::tempdir().unwrap();
        for f in [
            "v1-ca.crt",
            "leaf-via-v1.crt",
            "sha1-ca.crt",
            "under-sha1-root.crt",
            "sha1-leaf.crt",
        ] {
            copy(&format!("openssl/{f}"), tmp.path(), f);
        }
        let opts = ScanOptions {
            at: OffsetDateTime::now_utc(),
            expires_within: Duration::days(30),
            verify_signatures: true,
        };
        let report = scan(&[tmp.path().to_path_buf()], &opts).unwrap();
        for row in &report.certificates {
            assert!(
                row.problems.is_empty(),
                "{}: {:?}",
                row.path.display(),
                row.problems
            );
        }
        let issuer = |name: &str| {
            report
                .certificates
                .iter()
                .find(|c| c.path.ends_with(name))
                .unwrap()
                .issuer
                .clone()
        };
        assert_eq!(issuer("v1-ca.crt"), Issuer::SelfSigned);
        assert_eq!(issuer("sha1-ca.crt"), Issuer::SelfSigned);
        assert!(matches!(issuer("leaf-via-v1.crt"), Issuer::Found { .. }));
        assert!(
            matches!(issuer("sha1-leaf.crt"), Issuer::Found { .. }),
            "SHA-1 or not, sha1-ca signed it"
        );
    }

    #[test]
    fn a_damaged_certificate_file_is_a_problem() {
        let tmp = tempfile::tempdir().unwrap();
        copy("openssl/truncated.crt", tmp.path(), "truncated.crt");
        let opts = ScanOptions {
            at: OffsetDateTime::now_utc(),
            expires_within: Duration::days(30),
            verify_signatures: true,
        };
        let report = scan(&[tmp.path().to_path_buf()], &opts).unwrap();
        assert_eq!(report.malformed.len(), 1);
        assert!(report.has_problems());
    }

    #[test]
    fn a_missing_root_is_an_error_but_nothing_below_is() {
        let err = scan(
            &[PathBuf::from("/does/not/exist")],
            &ScanOptions {
                at: OffsetDateTime::now_utc(),
                expires_within: Duration::days(30),
                verify_signatures: false,
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::Read { .. }));
    }
}

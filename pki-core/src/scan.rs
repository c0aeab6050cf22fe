//! What a scan of directory trees reports, like `kubeadm certs check-expiration` but for any
//! layout: every certificate found, its expiry, the CA in the same trees that issued it, and the
//! problems an operator must act on; and how one certificate's row is made ([`row`]) once the
//! scan knows every CA in the trees ([`Cas`]).
//!
//! The scan itself, its two passes over the files and the order rows come in, is
//! [`crate::scan_stream`]; reading one file is [`crate::scan_file`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::cert::Certificate;
use crate::check::DEFAULT_WARN_WITHIN;
use crate::issuer_match::identify_issuer;
use crate::journal::InterruptedWrite;
use crate::name_fields::NameFields;
use crate::path_text::display_path;
use crate::scan_file::KeyFact;
use crate::time_fmt::rfc3339;
use crate::verify::{display_name, CertPool};
use crate::walk::Skipped;

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
        /// Whether the CA's key was seen to verify the signature; `false` where the name and
        /// authority key identifier singled out this one CA and the signature was not checked
        /// (without [`ScanOptions::verify_signatures`]), as `kubeadm certs check-expiration`
        /// names issuers.
        signature_checked: bool,
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
    pub interrupted: Vec<InterruptedWrite>,
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

/// What a streamed scan ([`crate::scan_each`]) returns once it has handed over every row: the
/// files that hold no readable certificate, and unfinished writes; as in [`ScanReport`].
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct ScanTail {
    /// Files that hold a certificate that cannot be read, by path.
    pub malformed: Vec<Skipped>,
    /// Files that held no certificate, by path.
    pub skipped: Vec<Skipped>,
    /// Writes found unfinished in the scanned directories.
    pub interrupted: Vec<InterruptedWrite>,
}

impl ScanTail {
    /// Whether a certificate file is damaged or a write was interrupted (the rows' problems are
    /// the caller's to count).
    pub fn has_problems(&self) -> bool {
        !self.malformed.is_empty() || !self.interrupted.is_empty()
    }
}

/// The CAs in a scan's trees, each named by a file that holds it: the first, in path order, that
/// holds it alone (`ca.pem`) rather than in a bundle, else the first.
#[derive(Default)]
pub(crate) struct Cas {
    pool: CertPool,
    paths: HashMap<Vec<u8>, (PathBuf, bool)>,
}

impl Cas {
    /// Adds `ca`, found in `path`; `alone` when the file holds no other certificate. Files must
    /// come in path order.
    pub(crate) fn add(&mut self, path: &Path, alone: bool, ca: Certificate) {
        self.paths
            .entry(ca.der().to_vec())
            .and_modify(|(p, was_alone)| {
                if alone && !*was_alone {
                    *p = path.to_path_buf();
                    *was_alone = true;
                }
            })
            .or_insert_with(|| (path.to_path_buf(), alone));
        self.pool.add(ca);
    }
}

/// The row of certificate `index` of the file `path`: its validity, the CA in `cas` that issued
/// it, and the key beside it (`key`: the key file and what it holds).
pub(crate) fn row(
    path: &Path,
    index: usize,
    cert: &Certificate,
    key: Option<(PathBuf, &KeyFact)>,
    cas: &Cas,
    opts: &ScanOptions,
) -> ScannedCertificate {
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
        && crate::signature::check_signature_allowing_insecure(cert, cert).is_ok();
    let issuer = if self_signed {
        Issuer::SelfSigned
    } else {
        match identify_issuer(cert, &cas.pool, opts.verify_signatures) {
            Ok((ca, signature_checked)) => Issuer::Found {
                signature_checked,
                path: cas
                    .paths
                    .get(ca.der())
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default(),
                name: display_name(ca),
            },
            Err(detail) => {
                problems.push(Problem::NotChained {
                    issuer: cert.issuer().to_string(),
                    detail,
                });
                Issuer::NotFound
            }
        }
    };
    match &key {
        Some((p, KeyFact::Usable(k))) if *k != cert.public_key_data().fingerprint() => {
            problems.push(Problem::KeyMismatch { key: p.clone() })
        }
        Some((p, KeyFact::Bad(reason))) => problems.push(Problem::BadKey {
            key: p.clone(),
            reason: reason.clone(),
        }),
        _ => {}
    }
    ScannedCertificate {
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
        issuer,
        sans: cert.sans().to_strings(),
        key: key.map(|(p, _)| p),
        problems,
    }
}

#[cfg(test)]
mod fixture_tests {
    //! Rows as whole scans of copies of the fixtures make them.

    use std::fs;

    use super::*;
    use crate::scan_stream::scan;
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
        assert!(matches!(err, crate::Error::Read { .. }));
    }
}

//! Renewing every leaf certificate a CA issued under some paths, for scheduled rotation jobs, and
//! turning a reissued certificate into the file writes that replace the old files.
//!
//! A file's first certificate is its leaf; one that the CA issued and that expires within the
//! window is reissued with the same SANs and key (see [`crate::reissue`]) and written back in
//! place with a backup, keeping whatever else the file holds (intermediates, a key, comments).
//! Each file is its own transaction: one that fails is reported and left as it was, the others
//! go ahead. etcd re-reads its certificate files on every handshake, so a renewed leaf is used
//! without a restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::ca::CertificateAuthority;
use crate::check::DEFAULT_WARN_WITHIN;
use crate::error::{Error, RequestProblem, Result};
use crate::journal::{
    interrupted_writes, is_transient, parent, recover, InterruptedWrite, Recovered,
};
use crate::key::KeyFormat;
use crate::load::{certificates_from_bytes, read_file};
use crate::reissue::{key_pem, plan, reissue, Plan, ReissueRequest, Reissued};
use crate::verify::{find_issuer, CertPool};
use crate::walk::{is_backup, list_files};
use crate::write::{write_all_as, FileWrite};

/// The writes that put a reissued certificate (and its new key, if any) in place.
///
/// `original` is the old certificate file's contents; `cert_out` is where the certificate goes
/// (the old file, or another); `key_out` is where a new key goes, with the format to write it
/// in (the old key's).
pub fn reissue_writes(
    original: &[u8],
    reissued: &Reissued,
    cert_out: impl AsRef<Path>,
    key_out: Option<(impl AsRef<Path>, Option<KeyFormat>)>,
) -> Result<Vec<FileWrite>> {
    let cert_out = cert_out.as_ref();
    let contents = crate::pem::replace_first_certificate(original, reissued.certificate.der())?;
    let mut writes = vec![FileWrite::public(cert_out, contents)];
    if let Some(key) = &reissued.new_key {
        let (path, format) = key_out.ok_or_else(|| Error::InvalidRequest {
            path: Some(cert_out.to_path_buf()),
            problem: RequestProblem::NowhereToWriteKey,
        })?;
        let pem = key_pem(key, format)?;
        writes.push(FileWrite::secret(
            path.as_ref(),
            Zeroizing::new(pem.as_bytes().to_vec()),
        ));
    }
    Ok(writes)
}

/// What to renew: [`RenewOptions::new`] and the methods below.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenewOptions {
    /// The instant expiry is judged at and new validity starts from.
    pub at: OffsetDateTime,
    /// Renew certificates expiring within this window.
    pub expires_within: Duration,
    /// Plan only; write nothing.
    pub dry_run: bool,
}

impl RenewOptions {
    /// Renew now what expires within [`DEFAULT_WARN_WITHIN`], and write.
    pub fn new() -> RenewOptions {
        RenewOptions {
            at: OffsetDateTime::now_utc(),
            expires_within: DEFAULT_WARN_WITHIN,
            dry_run: false,
        }
    }

    /// Judges expiry at, and starts new validity from, `at` instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> RenewOptions {
        self.at = at;
        self
    }

    /// Renews what expires within `window`.
    pub fn expires_within(mut self, window: Duration) -> RenewOptions {
        self.expires_within = window;
        self
    }

    /// Plans only, writing nothing, when `dry_run` is true.
    pub fn dry_run(mut self, dry_run: bool) -> RenewOptions {
        self.dry_run = dry_run;
        self
    }
}

impl Default for RenewOptions {
    /// [`RenewOptions::new`].
    fn default() -> RenewOptions {
        RenewOptions::new()
    }
}

/// What happened to one certificate file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RenewOutcome {
    /// Renewed and written; `backup` is the old file.
    Renewed {
        /// What changed.
        plan: Box<Plan>,
        /// The backup of the old file.
        #[serde(serialize_with = "crate::path_text::serde_path::opt_path")]
        backup: Option<PathBuf>,
    },
    /// Would be renewed (dry run).
    WouldRenew {
        /// What would change.
        plan: Box<Plan>,
    },
    /// Not expiring within the window.
    NotDue,
    /// Issued by another CA: left alone.
    OtherIssuer,
    /// A CA certificate: renewing a CA is not a rotation job.
    IsCa,
    /// Renewal failed; the file was left as it was.
    Failed {
        /// Why (its message in JSON).
        #[serde(serialize_with = "serialize_error")]
        error: Arc<Error>,
    },
}

fn serialize_error<S: serde::Serializer>(
    error: &Arc<Error>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(error)
}

/// One certificate file considered by [`renew`].
#[derive(Debug, Clone, Serialize)]
pub struct RenewItem {
    /// The file.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub path: PathBuf,
    /// The leaf's subject.
    pub subject: String,
    /// Its current notAfter; `None` when the file could not be read (`""` in JSON, else RFC
    /// 3339).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339_or_empty")]
    pub not_after: Option<OffsetDateTime>,
    /// What happened.
    pub outcome: RenewOutcome,
}

/// What [`renew`] did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RenewReport {
    /// Every certificate file looked at.
    pub items: Vec<RenewItem>,
    /// Interrupted writes found under the paths and finished (rolled back or forward) before
    /// anything was renewed.
    pub recovered: Vec<Recovered>,
    /// Interrupted writes found under the paths and left as they are: a dry run changes
    /// nothing, and a write still running in another process is not touched.
    pub interrupted: Vec<InterruptedWrite>,
}

/// Renews, under `paths` (files or directory trees), every leaf `ca` issued that expires within
/// the window. Files that hold no certificate, backups, and the temporary files and journals of
/// writes are ignored. Writes interrupted in those directories are first recovered (see
/// [`crate::recover`]); a dry run only reports them.
pub fn renew(
    paths: impl IntoIterator<Item = impl AsRef<Path>>,
    ca: &CertificateAuthority,
    opts: &RenewOptions,
) -> Result<RenewReport> {
    let paths: Vec<PathBuf> = paths
        .into_iter()
        .map(|p| p.as_ref().to_path_buf())
        .collect();
    let (files, _) = list_files(&paths)?;
    let (transient, files): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|p| is_transient(p));
    let mut dirs: Vec<&Path> = transient.iter().map(|p| parent(p)).collect();
    dirs.sort();
    dirs.dedup();
    let mut report = RenewReport::default();
    for dir in dirs {
        if opts.dry_run {
            report.interrupted.extend(interrupted_writes(dir));
        } else {
            let r = recover(dir)?;
            report.recovered.extend(r.recovered);
            report.interrupted.extend(r.in_progress);
        }
    }
    let pool: CertPool = std::iter::once(ca.certificate().clone()).collect();
    let items = &mut report.items;
    for path in files.into_iter().filter(|p| !is_backup(p)) {
        // Only certificate files matter; one that holds a certificate etcd-pki cannot read is
        // reported, since a due certificate may be in it.
        let failed = |path: &Path, error: Error| RenewItem {
            path: path.to_path_buf(),
            subject: String::new(),
            not_after: None,
            outcome: RenewOutcome::Failed {
                error: Arc::new(error),
            },
        };
        let bytes = match read_file(&path) {
            Ok(b) => b,
            Err(Error::TooLarge { .. }) => continue,
            Err(e) => {
                items.push(failed(&path, e));
                continue;
            }
        };
        let certificates = match certificates_from_bytes(&bytes) {
            Ok(c) => c,
            Err(Error::NoCertificate { .. }) => continue,
            Err(e) => {
                items.push(failed(&path, e.with_path(&path)));
                continue;
            }
        };
        let leaf = &certificates[0];
        let mut item = RenewItem {
            path: path.clone(),
            subject: leaf.subject().to_string(),
            not_after: Some(leaf.not_after()),
            outcome: RenewOutcome::NotDue,
        };
        if find_issuer(leaf, &pool).is_err() {
            item.outcome = if leaf.der() == ca.certificate().der() {
                RenewOutcome::IsCa
            } else {
                RenewOutcome::OtherIssuer
            };
        } else if leaf.is_ca() {
            item.outcome = RenewOutcome::IsCa;
        } else if leaf.not_after() - opts.at > opts.expires_within {
            item.outcome = RenewOutcome::NotDue;
        } else {
            let req = ReissueRequest::renew(opts.at);
            item.outcome = if opts.dry_run {
                match plan(leaf, ca, &req) {
                    Ok(p) => RenewOutcome::WouldRenew { plan: Box::new(p) },
                    Err(e) => RenewOutcome::Failed { error: Arc::new(e) },
                }
            } else {
                match renew_one(&path, &bytes, leaf, ca, &req) {
                    Ok((p, backup)) => RenewOutcome::Renewed {
                        plan: Box::new(p),
                        backup,
                    },
                    Err(e) => RenewOutcome::Failed { error: Arc::new(e) },
                }
            };
        }
        items.push(item);
    }
    Ok(report)
}

fn renew_one(
    path: &Path,
    original: &[u8],
    leaf: &crate::cert::Certificate,
    ca: &CertificateAuthority,
    req: &ReissueRequest,
) -> Result<(Plan, Option<PathBuf>)> {
    let reissued = reissue(leaf, None, ca, req).map_err(|e| e.with_path(path))?;
    let writes = reissue_writes(original, &reissued, path, None::<(&Path, _)>)?;
    let written = write_all_as("renew", &writes)?;
    Ok((
        reissued.plan,
        written.backups.into_iter().next().map(|(_, b)| b),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cert, fixture};

    fn renew_items(
        paths: &[PathBuf],
        ca: &CertificateAuthority,
        opts: &RenewOptions,
    ) -> Result<Vec<RenewItem>> {
        renew(paths, ca, opts).map(|r| r.items)
    }

    #[test]
    fn renews_what_the_ca_issued_and_is_due_and_nothing_else() {
        let now = OffsetDateTime::now_utc();
        let ca =
            CertificateAuthority::load(fixture("cfssl/ca.pem"), fixture("cfssl/ca-key.pem"), now)
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        // A 40-day leaf made from members.pem, in a bundle with the CA after it.
        let short = reissue(
            &cert("cfssl/members.pem"),
            None,
            &ca,
            &ReissueRequest {
                days: Some(40),
                ..ReissueRequest::renew(now)
            },
        )
        .unwrap();
        let bundle = format!(
            "{}{}",
            short.certificate.to_pem(),
            ca.certificate().to_pem()
        );
        std::fs::write(dir.path().join("members.pem"), &bundle).unwrap();
        std::fs::copy(fixture("cfssl/server.pem"), dir.path().join("server.pem")).unwrap();
        std::fs::copy(
            fixture("cfssl/foreign-members.pem"),
            dir.path().join("foreign.pem"),
        )
        .unwrap();
        std::fs::copy(fixture("cfssl/ca.pem"), dir.path().join("ca.pem")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();

        let later = now + Duration::days(20);
        let ca_later =
            CertificateAuthority::load(fixture("cfssl/ca.pem"), fixture("cfssl/ca-key.pem"), later)
                .unwrap();
        let opts = RenewOptions {
            at: later,
            expires_within: Duration::days(30),
            dry_run: true,
        };
        let items = renew_items(&[dir.path().to_path_buf()], &ca_later, &opts).unwrap();
        let outcome = |items: &[RenewItem], name: &str| {
            items
                .iter()
                .find(|i| i.path.ends_with(name))
                .map(|i| i.outcome.clone())
                .unwrap()
        };
        assert!(matches!(
            outcome(&items, "members.pem"),
            RenewOutcome::WouldRenew { .. }
        ));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("members.pem")).unwrap(),
            bundle,
            "a dry run writes nothing"
        );

        let items = renew_items(
            &[dir.path().to_path_buf()],
            &ca_later,
            &RenewOptions {
                dry_run: false,
                ..opts.clone()
            },
        )
        .unwrap();
        assert_eq!(items.len(), 4, "notes.txt holds no certificate");
        let RenewOutcome::Renewed {
            backup: Some(backup),
            ..
        } = outcome(&items, "members.pem")
        else {
            panic!("{items:#?}")
        };
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), bundle);
        assert!(matches!(
            outcome(&items, "server.pem"),
            RenewOutcome::NotDue
        ));
        assert!(matches!(
            outcome(&items, "foreign.pem"),
            RenewOutcome::OtherIssuer
        ));
        assert!(matches!(outcome(&items, "ca.pem"), RenewOutcome::IsCa));

        let renewed = crate::load::load_certificates(dir.path().join("members.pem")).unwrap();
        assert_eq!(renewed.len(), 2, "the CA after the leaf is kept");
        assert_eq!(renewed[1].der(), ca.certificate().der());
        assert_eq!(
            renewed[0].not_after() - renewed[0].not_before(),
            Duration::days(40)
        );
        assert_eq!(renewed[0].sans(), short.certificate.sans());

        // A second run finds nothing due, and ignores the backup.
        let items = renew_items(
            &[dir.path().to_path_buf()],
            &ca_later,
            &RenewOptions {
                dry_run: false,
                ..opts
            },
        )
        .unwrap();
        assert!(
            items.iter().all(|i| !matches!(
                i.outcome,
                RenewOutcome::Renewed { .. } | RenewOutcome::Failed { .. }
            )),
            "{items:#?}"
        );
        assert_eq!(items.len(), 4);
    }
}

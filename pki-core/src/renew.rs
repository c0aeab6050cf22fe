//! Renewing every leaf certificate a CA issued under some paths, for scheduled rotation jobs;
//! turning a reissued certificate into the file writes that replace the old files; and
//! reissuing one certificate file in place ([`reissue_file`]).
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
use crate::cert::Certificate;
use crate::check::DEFAULT_WARN_WITHIN;
use crate::error::{Error, RequestProblem, Result};
use crate::files::{refuse_outputs_over_inputs, NamedInput};
use crate::journal::{
    interrupted_writes, is_transient, parent, recover, InterruptedWrite, Recovered,
};
use crate::key::KeyFormat;
use crate::key::PrivateKey;
use crate::load::{certificates_from_bytes, load_bytes, load_private_key, read_file};
use crate::reissue::{key_pem, plan, reissue, Plan, ReissueRequest, Reissued};
use crate::verify::{find_issuer, CertPool};
use crate::walk::{is_backup, list_files};
use crate::write::{write_all_as, FileWrite, Written};

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

/// A certificate file opened for a reissue: its contents as read, its first certificate (the
/// one reissued; whatever else the file holds is kept), and its key file, if given.
#[non_exhaustive]
pub struct CertificateFile {
    /// The file.
    pub path: PathBuf,
    /// Its contents (zeroed when dropped: a file may hold a key too).
    pub contents: Zeroizing<Vec<u8>>,
    /// Its first certificate.
    pub certificate: Certificate,
    /// The key file given.
    pub key_path: Option<PathBuf>,
    /// The key read from it.
    pub key: Option<PrivateKey>,
}

impl std::fmt::Debug for CertificateFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateFile")
            .field("path", &self.path)
            .field("subject", &self.certificate.subject())
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl CertificateFile {
    /// Reads the certificate file (its first certificate is the one to reissue) and, if given,
    /// the key file (its key must be the certificate's; it is checked when reissuing).
    pub fn open(
        cert_file: impl AsRef<Path>,
        key_file: Option<impl AsRef<Path>>,
    ) -> Result<CertificateFile> {
        let path = cert_file.as_ref().to_path_buf();
        let contents = Zeroizing::new(read_file(&path)?);
        let loaded = load_bytes(&contents).map_err(|e| e.with_path(&path))?;
        let Some(certificate) = loaded.certificates.into_iter().next() else {
            return Err(Error::NoCertificate {
                path: Some(path),
                found: loaded.found,
            });
        };
        let key_path = key_file.map(|k| k.as_ref().to_path_buf());
        let key = key_path.as_ref().map(load_private_key).transpose()?;
        Ok(CertificateFile {
            path,
            contents,
            certificate,
            key_path,
            key,
        })
    }

    /// Reissues the certificate from `ca` as asked ([`reissue`]); errors name the file.
    pub fn reissue(&self, ca: &CertificateAuthority, req: &ReissueRequest) -> Result<Reissued> {
        reissue(&self.certificate, self.key.as_ref(), ca, req).map_err(|e| e.with_path(&self.path))
    }

    /// The writes that put `reissued` in place of this file (and a new key in place of the key
    /// file, in the old key's format), keeping whatever else the file holds.
    pub fn writes_in_place(&self, reissued: &Reissued) -> Result<Vec<FileWrite>> {
        let format = self.key.as_ref().map(PrivateKey::format);
        reissue_writes(
            &self.contents,
            reissued,
            &self.path,
            self.key_path.as_deref().map(|p| (p, format)),
        )
    }
}

/// What [`reissue_file`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReissuedFile {
    /// What changed in the certificate.
    pub plan: Plan,
    /// The files written, and the backups of the old ones.
    pub written: Written,
}

/// Reissues the first certificate of `cert_file` from `ca` as asked and writes it in place,
/// atomically and with a backup beside the old file (see [`crate::write`]), keeping whatever
/// else the file holds. `key_file`, when given, must hold the certificate's key; a new key
/// (see [`ReissueRequest::new_key`]) replaces it, and needs it. The result is verified before
/// anything is written; no output may be the CA's certificate or key file.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cfssl");
/// # for f in ["ca.pem", "ca-key.pem", "members.pem", "members-key.pem"] { std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap(); }
/// # std::env::set_current_dir(dir.path()).unwrap();
/// use pki_core::{reissue_file, CertificateAuthority, ReissueRequest};
/// let ca = CertificateAuthority::open("ca.pem", "ca-key.pem")?;
/// let req = ReissueRequest::new().add_ip("127.0.0.14".parse().unwrap());
/// let done = reissue_file("members.pem", Some("members-key.pem"), &ca, &req)?;
/// assert_eq!(done.plan.added, ["IP:127.0.0.14"]);
/// # assert_eq!(done.written.backups.len(), 1);
/// # Ok::<(), pki_core::Error>(())
/// ```
pub fn reissue_file(
    cert_file: impl AsRef<Path>,
    key_file: Option<impl AsRef<Path>>,
    ca: &CertificateAuthority,
    req: &ReissueRequest,
) -> Result<ReissuedFile> {
    let file = CertificateFile::open(cert_file, key_file)?;
    let mut outputs = vec![file.path.as_path()];
    if req.new_key {
        outputs.extend(file.key_path.as_deref());
    }
    let inputs: Vec<NamedInput> = [
        ("the CA certificate", ca.certificate_path()),
        ("the CA key", ca.key_path()),
    ]
    .into_iter()
    .filter_map(|(role, path)| path.map(|path| NamedInput { role, path }))
    .collect();
    refuse_outputs_over_inputs(&outputs, &inputs)?;
    let reissued = file.reissue(ca, req)?;
    let written = write_all_as("reissue", &file.writes_in_place(&reissued)?)?;
    Ok(ReissuedFile {
        plan: reissued.plan,
        written,
    })
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
#[non_exhaustive]
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

    fn copy_cfssl(dir: &Path) {
        for f in ["ca.pem", "ca-key.pem", "members.pem", "members-key.pem"] {
            std::fs::copy(fixture(&format!("cfssl/{f}")), dir.join(f)).unwrap();
        }
    }

    #[test]
    fn reissue_file_writes_in_place_with_a_backup_and_a_new_key_in_the_old_format() {
        let dir = tempfile::tempdir().unwrap();
        copy_cfssl(dir.path());
        let d = dir.path();
        let ca = CertificateAuthority::open(d.join("ca.pem"), d.join("ca-key.pem")).unwrap();
        let req = ReissueRequest::new()
            .add_ip("127.0.0.14".parse().unwrap())
            .new_key();
        let done = reissue_file(
            d.join("members.pem"),
            Some(d.join("members-key.pem")),
            &ca,
            &req,
        )
        .unwrap();
        assert_eq!(done.plan.added, ["IP:127.0.0.14"]);
        assert_eq!(done.written.files.len(), 2);
        assert_eq!(done.written.backups.len(), 2);
        let new = crate::load::load_certificates(d.join("members.pem")).unwrap();
        let key = crate::load::load_private_key(d.join("members-key.pem")).unwrap();
        assert!(key.matches(&new[0]));
        assert_eq!(key.format(), KeyFormat::Pkcs1);
        assert_ne!(new[0].der(), cert("cfssl/members.pem").der());
    }

    #[test]
    fn reissue_file_never_writes_over_the_ca() {
        let dir = tempfile::tempdir().unwrap();
        copy_cfssl(dir.path());
        let d = dir.path();
        let ca = CertificateAuthority::open(d.join("ca.pem"), d.join("ca-key.pem")).unwrap();
        let before = std::fs::read(d.join("ca-key.pem")).unwrap();
        // A new key "for members.pem" written to the CA key file.
        let err = reissue_file(
            d.join("members.pem"),
            Some(d.join("ca-key.pem")),
            &ca,
            &ReissueRequest::new().new_key(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::OutputIsInput { .. }), "{err}");
        assert_eq!(std::fs::read(d.join("ca-key.pem")).unwrap(), before);
        // Without a key file, a new key has nowhere to go, and nothing is written.
        let err = reissue_file(
            d.join("members.pem"),
            None::<&Path>,
            &ca,
            &ReissueRequest::new().new_key(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidRequest {
                    problem: RequestProblem::NowhereToWriteKey,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            std::fs::read(d.join("members.pem")).unwrap(),
            std::fs::read(fixture("cfssl/members.pem")).unwrap()
        );
    }
}

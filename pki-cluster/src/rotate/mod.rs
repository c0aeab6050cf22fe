//! Rotation that proves itself: renew the certificates a member uses that are due, and show on
//! the live cluster that the member now serves them and that the cluster is still whole; undo
//! when it is not.
//!
//! For each [`RotationTarget`] (a member's files, or files every member shares):
//! 1. the certificates the CA issued that are [`Due`] are renewed in place (same SANs, key and
//!    everything else; new serial and validity), atomically with backups (pki-core's
//!    `reissue_file`);
//! 2. the [`SyncHook`] copies the member's files to its host (none when they are its own);
//! 3. proof, for each member the files belong to, within one deadline: the member serves the new
//!    certificate on every port it serves it on (etcd re-reads certificate files on every new
//!    handshake, so no restart is needed); it is healthy; with a renewed peer certificate, a
//!    fresh handshake with it is accepted by every other member (open peer streams never
//!    re-handshake, so only a new one proves it); every member still answers and has applied
//!    what the leader had committed before;
//! 4. on any failure the backups are put back (and synced), the old certificate is waited for
//!    on the member's ports, and the outcome says what failed.
//!
//! Idempotent: a run with nothing due changes nothing.

mod due;
pub(crate) mod prove;
mod targets;

use std::path::{Path, PathBuf};
use std::time::Duration;

use pki_core::write::{write_all_as, FileWrite};
use pki_core::{
    find_issuer, load_certificates, read_file, reissue_file, CertPool, Certificate,
    CertificateAuthority, ReissueRequest,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::connection::Connection;
use crate::error::Result;
use crate::state::{member_list, MemberInfo};

pub use due::Due;
pub(crate) use targets::member_dirs;
pub use targets::{targets_from_configs, targets_from_dir};

/// Where a certificate is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Serves {
    /// On the member's client URLs (`--cert-file`).
    Client,
    /// On the member's peer URL (`--peer-cert-file`); also presented to the other members.
    Peer,
    /// On both (one certificate for `--cert-file` and `--peer-cert-file`).
    Both,
    /// Nowhere: a client certificate.
    Nowhere,
}

/// One certificate file of a target and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotationFile {
    /// The certificate file.
    pub cert: PathBuf,
    /// Its key file (the key is kept).
    pub key: Option<PathBuf>,
    /// Where it is served.
    pub serves: Serves,
}

impl RotationFile {
    /// A certificate file, its key, and where it is served.
    pub fn new(cert: impl Into<PathBuf>, key: Option<PathBuf>, serves: Serves) -> RotationFile {
        RotationFile {
            cert: cert.into(),
            key,
            serves,
        }
    }
}

/// The files of one member, or files every member shares.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotationTarget {
    /// The members whose files these are, by name (several for a shared directory).
    pub members: Vec<String>,
    /// The directory the sync hook copies to the member's host.
    pub dir: Option<PathBuf>,
    /// The certificate files.
    pub files: Vec<RotationFile>,
}

/// What to rotate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RotateRequest {
    /// The targets, rotated one after the other.
    pub targets: Vec<RotationTarget>,
    /// The CA certificate and key that sign the renewed certificates (only certificates it
    /// issued are renewed).
    pub ca: (PathBuf, PathBuf),
    /// When a certificate is due.
    pub due: Due,
    /// How long the proof of one target may take.
    pub timeout: Duration,
    /// Say what is due; change nothing.
    pub dry_run: bool,
    /// The instant due-ness is judged at.
    pub at: OffsetDateTime,
}

impl RotateRequest {
    /// Rotate `targets` with the CA `ca_cert`/`ca_key`, what expires within 30 days, proving
    /// each within 2 minutes.
    pub fn new(
        targets: Vec<RotationTarget>,
        ca_cert: impl Into<PathBuf>,
        ca_key: impl Into<PathBuf>,
    ) -> RotateRequest {
        RotateRequest {
            targets,
            ca: (ca_cert.into(), ca_key.into()),
            due: Due::Within(time::Duration::days(30)),
            timeout: Duration::from_secs(120),
            dry_run: false,
            at: OffsetDateTime::now_utc(),
        }
    }

    /// When a certificate is due.
    #[must_use]
    pub fn due(mut self, due: Due) -> RotateRequest {
        self.due = due;
        self
    }

    /// How long the proof of one target may take.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> RotateRequest {
        self.timeout = timeout;
        self
    }

    /// Say what is due; change nothing.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> RotateRequest {
        self.dry_run = dry_run;
        self
    }
}

/// What the sync hook is told: which member's files to copy where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncContext {
    /// The member's name.
    pub name: String,
    /// Its ID (hex).
    pub id: String,
    /// Its peer URL's host.
    pub host: String,
    /// The directory its files are in here.
    pub dir: PathBuf,
}

impl SyncContext {
    /// The context of member `m` whose files are in `dir`.
    pub fn of(m: &MemberInfo, dir: &Path) -> SyncContext {
        SyncContext {
            name: m.name.clone(),
            id: m.hex_id(),
            host: m
                .peer_urls
                .first()
                .and_then(|u| pki_core::HostUrl::parse(u).ok())
                .map(|u| u.host.to_string())
                .unwrap_or_default(),
            dir: dir.to_path_buf(),
        }
    }
}

/// Copies a member's files to its host after they changed (`Err`: why it could not).
pub type SyncHook<'a> = Box<dyn FnMut(&SyncContext) -> std::result::Result<(), String> + Send + 'a>;

/// What a rotation did, step by step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RotateEvent {
    /// Nothing of the target is due.
    NothingDue {
        /// The target's members.
        members: Vec<String>,
        /// The certificates looked at, with their end of validity.
        checked: Vec<(PathBuf, OffsetDateTime)>,
    },
    /// A certificate is due (a dry run stops here).
    Due {
        /// The file.
        file: PathBuf,
        /// Its end of validity.
        not_after: OffsetDateTime,
    },
    /// A certificate was renewed in place.
    Renewed {
        /// The file.
        file: PathBuf,
        /// The new serial.
        serial: String,
        /// The new end of validity.
        not_after: OffsetDateTime,
        /// The old file's backup.
        backup: Option<PathBuf>,
    },
    /// The sync hook ran for a member.
    Synced {
        /// The member.
        member: String,
    },
    /// A step of the proof passed.
    Proven {
        /// The member.
        member: String,
        /// What was shown, in words.
        what: String,
    },
    /// The rotation of the target failed.
    Failed {
        /// The member it failed for.
        member: String,
        /// Why.
        why: String,
    },
    /// The old files were put back.
    Restored {
        /// The files.
        files: Vec<PathBuf>,
    },
    /// The old certificate is served again (or not, with why).
    RestoreServed {
        /// The member.
        member: String,
        /// `None` when it serves the old certificate again.
        problem: Option<String>,
    },
}

/// How a rotation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// Every due certificate was renewed and proven (`rotated` files; 0 when nothing was due).
    Done {
        /// How many files were renewed.
        rotated: usize,
    },
    /// A dry run: how many files are due.
    WouldRotate {
        /// How many.
        due: usize,
    },
    /// A target failed and was restored (or could not be: see the events); later targets were
    /// not touched.
    Failed {
        /// The member it failed for.
        member: String,
        /// Why.
        why: String,
        /// Whether every file was put back.
        restored: bool,
    },
}

/// Rotates (see the module docs).
///
/// # Errors
/// Bad input (a CA that cannot sign, unreadable files) before anything is written, or etcd
/// unreachable when the member list is first read.
pub async fn rotate(
    conn: &Connection,
    req: &RotateRequest,
    sync: Option<SyncHook<'_>>,
    events: impl FnMut(RotateEvent),
) -> Result<RotateOutcome> {
    let ca = CertificateAuthority::open(&req.ca.0, &req.ca.1)?;
    let due = req.due;
    let at = req.at;
    let signing = Signing {
        issuer: std::iter::once(ca.certificate().clone()).collect(),
        ca: &ca,
        request: ReissueRequest::renew(req.at),
        due: Box::new(move |c: &Certificate| due.is_due(c, at)),
    };
    let mut sync = sync;
    rotate_with(
        conn,
        &req.targets,
        &signing,
        req.timeout,
        req.dry_run,
        sync.as_mut(),
        events,
    )
    .await
}

/// Which certificates a rotation replaces and how they are signed.
pub(crate) struct Signing<'a> {
    /// Signs the new certificates.
    pub(crate) ca: &'a CertificateAuthority,
    /// Only certificates this CA issued are looked at.
    pub(crate) issuer: CertPool,
    /// How each is reissued (a renewal; for a CA rotation, from the old CA to the new).
    pub(crate) request: ReissueRequest,
    /// Whether a certificate is due.
    pub(crate) due: Box<dyn Fn(&Certificate) -> bool + Send + Sync + 'a>,
}

/// [`rotate`] with the choice and signing of certificates given: the proof and the undo are
/// the same for a renewal and for moving leaves to a new CA.
pub(crate) async fn rotate_with(
    conn: &Connection,
    targets: &[RotationTarget],
    signing: &Signing<'_>,
    timeout: Duration,
    dry_run: bool,
    mut sync: Option<&mut SyncHook<'_>>,
    mut events: impl FnMut(RotateEvent),
) -> Result<RotateOutcome> {
    let list = member_list(conn).await?;
    let mut rotated = 0;
    let mut due_total = 0;
    for target in targets {
        // What is due, of what the issuer issued.
        let mut due = Vec::new();
        let mut checked = Vec::new();
        for file in &target.files {
            let Some(cert) = first_certificate(&file.cert)? else {
                continue;
            };
            if find_issuer(&cert, &signing.issuer).is_err() {
                continue;
            }
            checked.push((file.cert.clone(), cert.not_after()));
            if (signing.due)(&cert) {
                events(RotateEvent::Due {
                    file: file.cert.clone(),
                    not_after: cert.not_after(),
                });
                due.push((file, cert));
            }
        }
        if due.is_empty() {
            events(RotateEvent::NothingDue {
                members: target.members.clone(),
                checked,
            });
            continue;
        }
        due_total += due.len();
        if dry_run {
            continue;
        }
        let members: Vec<&MemberInfo> = target
            .members
            .iter()
            .filter_map(|name| list.members.iter().find(|m| &m.name == name))
            .collect();

        // 1. Renew, keeping the backups.
        let mut backups: Vec<Backup> = Vec::new();
        let mut renewed: Vec<(&RotationFile, Certificate, Certificate)> = Vec::new();
        for (file, old) in &due {
            match reissue_file(&file.cert, file.key.as_ref(), signing.ca, &signing.request) {
                Ok(done) => {
                    let cert_backup = done
                        .written
                        .backups
                        .iter()
                        .find(|(f, _)| same(f, &file.cert))
                        .map(|(_, b)| b.clone());
                    for (f, b) in &done.written.backups {
                        let secret = file.key.as_ref().is_some_and(|k| same(f, k));
                        backups.push(Backup {
                            file: f.clone(),
                            backup: b.clone(),
                            secret,
                        });
                    }
                    let new = first_certificate(&file.cert)?.unwrap_or_else(|| old.clone());
                    events(RotateEvent::Renewed {
                        file: file.cert.clone(),
                        serial: new.serial_hex(),
                        not_after: new.not_after(),
                        backup: cert_backup,
                    });
                    renewed.push((file, old.clone(), new));
                }
                Err(e) => {
                    let why = format!("{}: {e}", pki_core::display_path(&file.cert));
                    let restored = restore(&backups, &mut events);
                    return Ok(RotateOutcome::Failed {
                        member: target.members.join(","),
                        why,
                        restored,
                    });
                }
            }
        }
        rotated += renewed.len();

        // 2. Sync, 3. prove; 4. undo on failure.
        let failure = match sync_all(target, &members, sync.as_deref_mut(), &mut events) {
            Err(f) => Some(f),
            Ok(()) => {
                let mut failure = None;
                for m in &members {
                    if let Err(why) =
                        prove::prove_member(conn, m, &list.members, &renewed, timeout, &mut events)
                            .await
                    {
                        failure = Some((m.name.clone(), why));
                        break;
                    }
                }
                failure
            }
        };
        if let Some((member, why)) = failure {
            events(RotateEvent::Failed {
                member: member.clone(),
                why: why.clone(),
            });
            let restored = restore(&backups, &mut events);
            let _ = sync_all(target, &members, sync.as_deref_mut(), &mut events);
            for m in &members {
                let problem = prove::wait_served_again(conn, m, &renewed, timeout).await;
                events(RotateEvent::RestoreServed {
                    member: m.name.clone(),
                    problem,
                });
            }
            return Ok(RotateOutcome::Failed {
                member,
                why,
                restored,
            });
        }
    }
    Ok(if dry_run {
        RotateOutcome::WouldRotate { due: due_total }
    } else {
        RotateOutcome::Done { rotated }
    })
}

/// A replaced file and its backup.
struct Backup {
    file: PathBuf,
    backup: PathBuf,
    secret: bool,
}

/// Runs the sync hook for every member of the target.
fn sync_all(
    target: &RotationTarget,
    members: &[&MemberInfo],
    sync: Option<&mut SyncHook<'_>>,
    events: &mut impl FnMut(RotateEvent),
) -> std::result::Result<(), (String, String)> {
    let (Some(hook), Some(dir)) = (sync, &target.dir) else {
        return Ok(());
    };
    for m in members {
        let ctx = SyncContext::of(m, dir);
        hook(&ctx).map_err(|why| (m.name.clone(), format!("the sync hook failed: {why}")))?;
        events(RotateEvent::Synced {
            member: m.name.clone(),
        });
    }
    Ok(())
}

/// Puts the backups back over the renewed files (a journaled write); whether it worked.
fn restore(backups: &[Backup], events: &mut impl FnMut(RotateEvent)) -> bool {
    if backups.is_empty() {
        return true;
    }
    let writes: std::result::Result<Vec<FileWrite>, pki_core::Error> = backups
        .iter()
        .map(|b| {
            let bytes = read_file(&b.backup)?;
            Ok(if b.secret {
                FileWrite::secret(&b.file, Zeroizing::new(bytes))
            } else {
                FileWrite::public(&b.file, bytes)
            })
        })
        .collect();
    let ok = writes.and_then(|w| write_all_as("restore", &w)).is_ok();
    if ok {
        events(RotateEvent::Restored {
            files: backups.iter().map(|b| b.file.clone()).collect(),
        });
    }
    ok
}

/// The first certificate of a file (`None` for a file without one).
fn first_certificate(path: &Path) -> Result<Option<Certificate>> {
    match load_certificates(path) {
        Ok(mut c) => Ok((!c.is_empty()).then(|| c.remove(0))),
        Err(pki_core::Error::NoCertificate { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn same(a: &Path, b: &Path) -> bool {
    a == b || pki_core::same_file(a, b)
}

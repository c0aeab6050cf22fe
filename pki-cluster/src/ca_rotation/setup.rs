//! What every CA rotation command starts from: the member list, the files, the old CA (found)
//! and the new one (loaded, created, or for a plan imagined), with their keys when at hand.

use std::path::{Path, PathBuf};

use pki_core::{load_certificates, new_ca, Certificate, CertificateAuthority, NewCa};

use super::identities::Identities;
use super::survey::{Cas, Survey};
use super::{CaRotationEvent, CaRotationRequest};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::state::{member_list, MemberList};

/// What to do when the new CA's files do not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// Make one in memory ([`Setup::write_new_ca`] writes it).
    Imagine,
    /// Refuse: nothing began (`status`).
    Refuse,
}

/// The starting point.
pub(crate) struct Setup {
    pub(crate) list: MemberList,
    pub(crate) survey: Survey,
    pub(crate) cas: Cas,
    /// The new CA, when its key is at hand.
    pub(crate) new_ca: Option<CertificateAuthority>,
    /// Whether the new CA's files exist (after a `Create`, they do).
    pub(crate) new_exists: bool,
    /// The old CA, when its key is at hand and it can still sign.
    pub(crate) old_ca: Option<CertificateAuthority>,
    /// A new CA made in memory, not written yet.
    imagined: Option<NewCa>,
}

impl Setup {
    /// Reads the cluster and the files; creates the new CA when asked and missing.
    pub(crate) async fn new(
        conn: &Connection,
        req: &CaRotationRequest,
        missing: Missing,
        events: &mut dyn FnMut(CaRotationEvent),
    ) -> Result<Setup> {
        check_places(req)?;
        let list = first_member_list(conn, req).await?;
        let survey = Survey::read(
            &req.members_dir,
            &list.members,
            &req.client_ca_files,
            &req.client_certs,
        )?;
        let (cert_there, key_there) = (req.new_ca.exists(), req.new_ca_key.exists());
        let given_new = match (cert_there, key_there) {
            (true, _) => Some(load_certificates(&req.new_ca)?.remove(0)),
            (false, true) => {
                return Err(Error::Input(format!(
                    "{} exists but {} does not: give the new CA's certificate beside its key, or neither to have one created",
                    pki_core::display_path(&req.new_ca_key),
                    pki_core::display_path(&req.new_ca)
                )))
            }
            (false, false) => None,
        };
        let old = survey.old_ca(given_new.as_ref(), req.old_ca.as_deref())?;
        let new_exists = given_new.is_some();
        let mut imagined = None;
        let (new_cert, new_ca) = match given_new {
            Some(cert) => {
                let ca = if key_there {
                    Some(CertificateAuthority::load(&req.new_ca, &req.new_ca_key, req.at)?)
                } else {
                    None
                };
                (cert, ca)
            }
            None if missing == Missing::Refuse => {
                return Err(Error::Input(format!(
                    "{} does not exist: no CA rotation to this CA has begun (`ca rotate apply` creates it)",
                    pki_core::display_path(&req.new_ca)
                )))
            }
            None => {
                let old = old.as_ref().ok_or_else(|| {
                    Error::Input(
                        "no CA of the members' certificates was found in their trust files: give the old CA's certificate".into(),
                    )
                })?;
                let name = req.new_ca_name.clone().unwrap_or_else(|| {
                    format!(
                        "{}-{}",
                        old.common_name().unwrap_or("etcd-ca"),
                        req.at.date()
                    )
                });
                let days = req.new_ca_days.unwrap_or_else(|| {
                    let lifetime = (old.not_after() - old.not_before()).whole_days();
                    u32::try_from(lifetime.clamp(1, 36_500)).unwrap_or(3650)
                });
                let algorithm = req
                    .new_ca_algorithm
                    .clone()
                    .unwrap_or_else(|| old.key_algorithm().clone());
                let made = new_ca(&name, None, &algorithm, days, req.at)?;
                let ca = made.authority(req.at)?;
                let cert = made.certificate.clone();
                imagined = Some(made);
                (cert, Some(ca))
            }
        };
        if cert_there {
            events(CaRotationEvent::NewCa {
                cert: req.new_ca.clone(),
                subject: new_cert.subject().to_string(),
                not_after: new_cert.not_after(),
                created: false,
            });
        }
        let old_ca = match &old {
            Some(old_cert) => {
                let key = survey.key_of(old_cert, req.old_ca_key.as_deref());
                events(CaRotationEvent::OldCa {
                    subject: old_cert.subject().to_string(),
                    key: key.clone(),
                });
                key.and_then(|k| old_authority(old_cert, &k, req, events))
            }
            None => None,
        };
        Ok(Setup {
            list,
            survey,
            cas: Cas { old, new: new_cert },
            new_ca,
            new_exists,
            old_ca,
            imagined,
        })
    }

    /// Writes the new CA made in memory to its files (with its key 0600).
    pub(crate) fn write_new_ca(
        &mut self,
        req: &CaRotationRequest,
        events: &mut dyn FnMut(CaRotationEvent),
    ) -> Result<()> {
        let Some(made) = self.imagined.take() else {
            return Ok(());
        };
        pki_core::write::write_all_as("ca-rotate", &made.writes(&req.new_ca, &req.new_ca_key)?)?;
        self.new_exists = true;
        events(CaRotationEvent::NewCa {
            cert: req.new_ca.clone(),
            subject: made.certificate.subject().to_string(),
            not_after: made.certificate.not_after(),
            created: true,
        });
        Ok(())
    }
}

/// The member list, through a connection that trusts the connection's CA file and the new
/// CA (the members may serve either's certificates by now), with the connection's client
/// certificate, or, when the members refuse it (phase 3 under way), a probe certificate of
/// the new CA.
async fn first_member_list(conn: &Connection, req: &CaRotationRequest) -> Result<MemberList> {
    if !req.new_ca.exists() {
        return member_list(conn).await;
    }
    let new = load_certificates(&req.new_ca)?.remove(0);
    let new_ca = if req.new_ca_key.exists() {
        CertificateAuthority::load(&req.new_ca, &req.new_ca_key, req.at).ok()
    } else {
        None
    };
    let ids = Identities::new(conn, None, &new, None, new_ca.as_ref(), req.at)?;
    match member_list(&ids.connection()?).await {
        Ok(list) => Ok(list),
        Err(e) if ids.new.is_some() => member_list(&ids.new_ca_connection()?).await.map_err(|_| e),
        Err(e) => Err(e),
    }
}

/// The old CA as a signer, or a warning why not.
fn old_authority(
    cert: &Certificate,
    key: &Path,
    req: &CaRotationRequest,
    events: &mut dyn FnMut(CaRotationEvent),
) -> Option<CertificateAuthority> {
    let loaded = pki_core::load_private_key(key)
        .and_then(|k| CertificateAuthority::new(cert.clone(), &k, req.at));
    match loaded {
        Ok(ca) => Some(ca),
        Err(e) => {
            events(CaRotationEvent::Warning {
                what: format!(
                    "the old CA cannot sign with {} ({e}): no probe certificate of the old CA can be made, and a rollback from phase 2 is not possible",
                    pki_core::display_path(key)
                ),
            });
            None
        }
    }
}

/// The new CA's files must not be in the members' directories: those are synced to the
/// members, and a trust file there holding the new CA alone would be taken for phase 3.
fn check_places(req: &CaRotationRequest) -> Result<()> {
    let dir = std::fs::canonicalize(&req.members_dir).map_err(|e| {
        Error::Input(format!(
            "{}: {e}: give the directory of the members' files",
            pki_core::display_path(&req.members_dir)
        ))
    })?;
    if !dir.is_dir() {
        return Err(Error::Input(format!(
            "{} is not a directory: give the directory of the members' files",
            pki_core::display_path(&req.members_dir)
        )));
    }
    for path in [&req.new_ca, &req.new_ca_key] {
        if inside(path, &dir) {
            return Err(Error::Input(format!(
                "{} is inside {}: keep the new CA outside the members' files (they are copied to the members, and a CA key does not belong there)",
                pki_core::display_path(path),
                pki_core::display_path(&req.members_dir)
            )));
        }
    }
    Ok(())
}

/// Whether `path` (which may not exist yet) is under `dir` (canonical).
fn inside(path: &Path, dir: &Path) -> bool {
    let absolute: PathBuf = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(_) => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            let parent = parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            match (std::fs::canonicalize(parent), path.file_name()) {
                (Ok(p), Some(name)) => p.join(name),
                _ => return false,
            }
        }
    };
    absolute.starts_with(dir)
}

//! What the files say: each member's directory (or the one every member shares) read by
//! content, the clients' CA files and certificates, the old and the new CA, and where each file
//! stands between them. Nothing here touches the cluster or writes.

use std::path::{Path, PathBuf};

use pki_core::{find_issuer, load_certificates, load_file, CertPool, Certificate, PkiDir};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::rotate::member_dirs;
use crate::state::MemberInfo;

/// Where a set of trust files stands between the old CA and the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrustState {
    /// The old CA only.
    Old,
    /// Both CAs.
    Both,
    /// The new CA only.
    New,
    /// Some files one way, some another.
    Mixed,
    /// No trust file holds either CA.
    Neither,
}

/// Who issued a set of leaf certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IssuedBy {
    /// The old CA, all of them.
    Old,
    /// The new CA, all of them.
    New,
    /// Some each.
    Mixed,
    /// Neither (no leaf of either CA).
    Neither,
}

/// Whether `ca` issued `cert`.
pub(crate) fn issued(cert: &Certificate, ca: &Certificate) -> bool {
    let pool: CertPool = std::iter::once(ca.clone()).collect();
    find_issuer(cert, &pool).is_ok()
}

impl IssuedBy {
    /// Which of the two CAs issued `cert`.
    pub(crate) fn of(cert: &Certificate, cas: &Cas) -> IssuedBy {
        if issued(cert, &cas.new) {
            IssuedBy::New
        } else if cas.old.as_ref().is_some_and(|old| issued(cert, old)) {
            IssuedBy::Old
        } else {
            IssuedBy::Neither
        }
    }

    fn combine(states: impl IntoIterator<Item = IssuedBy>) -> IssuedBy {
        let mut out = IssuedBy::Neither;
        for s in states {
            out = match (out, s) {
                (a, IssuedBy::Neither) => a,
                (IssuedBy::Neither, b) => b,
                (a, b) if a == b => a,
                _ => IssuedBy::Mixed,
            };
        }
        out
    }
}

/// The two CAs of a rotation. The old one is unknown once nothing refers to it any more.
#[derive(Debug, Clone)]
pub(crate) struct Cas {
    pub(crate) old: Option<Certificate>,
    pub(crate) new: Certificate,
}

impl Cas {
    /// Where a trust file stands.
    pub(crate) fn trust_of(&self, certs: &[Certificate]) -> TrustState {
        let holds = |ca: &Certificate| certs.iter().any(|c| c.der() == ca.der());
        match (self.old.as_ref().is_some_and(holds), holds(&self.new)) {
            (true, true) => TrustState::Both,
            (true, false) => TrustState::Old,
            (false, true) => TrustState::New,
            (false, false) => TrustState::Neither,
        }
    }
}

fn combine_trust(states: impl IntoIterator<Item = TrustState>) -> TrustState {
    let mut out = TrustState::Neither;
    for s in states {
        out = match (out, s) {
            (a, TrustState::Neither) => a,
            (TrustState::Neither, b) => b,
            (a, b) if a == b => a,
            _ => TrustState::Mixed,
        };
    }
    out
}

/// One member's directory, or the directory every member shares.
#[derive(Debug)]
pub(crate) struct Target {
    /// The members whose files these are.
    pub(crate) members: Vec<String>,
    /// The directory.
    pub(crate) dir: PathBuf,
    /// Its files, read.
    pub(crate) pki: PkiDir,
}

impl Target {
    /// Its trust files that hold the old or the new CA (the rotation's), with their state.
    pub(crate) fn trust_files<'a>(
        &'a self,
        cas: &'a Cas,
    ) -> impl Iterator<Item = (&'a pki_core::TrustFile, TrustState)> + 'a {
        self.pki
            .trust
            .iter()
            .map(|t| (t, cas.trust_of(&t.certificates)))
            .filter(|(_, s)| *s != TrustState::Neither)
    }

    /// Where its trust files stand.
    pub(crate) fn trust(&self, cas: &Cas) -> TrustState {
        combine_trust(self.trust_files(cas).map(|(_, s)| s))
    }

    /// Who issued its leaves.
    pub(crate) fn issued_by(&self, cas: &Cas) -> IssuedBy {
        IssuedBy::combine(
            self.pki
                .leaves
                .iter()
                .map(|l| IssuedBy::of(&l.certificate, cas)),
        )
    }
}

/// A client's CA file or certificate, outside the members' directories.
#[derive(Debug, Clone)]
pub(crate) struct ClientFile {
    pub(crate) path: PathBuf,
    pub(crate) key: Option<PathBuf>,
    pub(crate) certificates: Vec<Certificate>,
}

/// Everything the files say.
#[derive(Debug)]
pub(crate) struct Survey {
    pub(crate) targets: Vec<Target>,
    /// Directories holding an unfinished write (a killed run): `apply` finishes or undoes it
    /// first, as every writing command does.
    pub(crate) interrupted: Vec<PathBuf>,
    pub(crate) client_ca_files: Vec<ClientFile>,
    pub(crate) client_certs: Vec<ClientFile>,
}

impl Survey {
    /// Reads the members' directories under `members_dir` (see [`member_dirs`]) and the
    /// clients' files. Every started member must have files there.
    pub(crate) fn read(
        members_dir: &Path,
        members: &[MemberInfo],
        client_ca_files: &[PathBuf],
        client_certs: &[(PathBuf, Option<PathBuf>)],
    ) -> Result<Survey> {
        let mut targets = Vec::new();
        let mut interrupted = Vec::new();
        for (names, dir) in member_dirs(members_dir, members) {
            let pki = PkiDir::read(&dir)?;
            interrupted.extend(pki.interrupted.iter().cloned());
            targets.push(Target {
                members: names,
                dir,
                pki,
            });
        }
        let missing: Vec<String> = members
            .iter()
            .filter(|m| m.started())
            .filter(|m| !targets.iter().any(|t| t.members.contains(&m.name)))
            .map(MemberInfo::label)
            .collect();
        if !missing.is_empty() {
            return Err(Error::Input(format!(
                "{} has no directory of files: every member's trust files must change, so {} needs a subdirectory named after each member (or is the one directory every member shares)",
                missing.join(", "),
                pki_core::display_path(members_dir)
            )));
        }
        let read = |path: &PathBuf, key: Option<PathBuf>| -> Result<ClientFile> {
            Ok(ClientFile {
                path: path.clone(),
                key,
                certificates: load_certificates(path)?,
            })
        };
        Ok(Survey {
            targets,
            interrupted,
            client_ca_files: client_ca_files
                .iter()
                .map(|p| read(p, None))
                .collect::<Result<_>>()?,
            client_certs: client_certs
                .iter()
                .map(|(c, k)| read(c, k.clone()))
                .collect::<Result<_>>()?,
        })
    }

    /// The target holding a member's files.
    pub(crate) fn target_of(&self, member: &str) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| t.members.iter().any(|m| m == member))
    }

    /// Whether any trust file holds the new CA alone (phase 3 began).
    pub(crate) fn any_new_only(&self, cas: &Cas) -> bool {
        self.targets
            .iter()
            .flat_map(|t| t.trust_files(cas).map(|(_, s)| s).collect::<Vec<_>>())
            .chain(
                self.client_ca_files
                    .iter()
                    .map(|f| cas.trust_of(&f.certificates)),
            )
            .any(|s| s == TrustState::New)
    }

    /// Who issued the members' leaves and the listed client certificates.
    pub(crate) fn issued_by(&self, cas: &Cas) -> IssuedBy {
        IssuedBy::combine(
            self.targets.iter().map(|t| t.issued_by(cas)).chain(
                self.client_certs
                    .iter()
                    .filter_map(|c| c.certificates.first())
                    .map(|c| IssuedBy::of(c, cas)),
            ),
        )
    }

    /// The listed client certificates not issued by the new CA.
    pub(crate) fn clients_not_new(&self, cas: &Cas) -> Vec<&ClientFile> {
        self.client_certs
            .iter()
            .filter(|c| {
                c.certificates
                    .first()
                    .is_none_or(|cert| IssuedBy::of(cert, cas) != IssuedBy::New)
            })
            .collect()
    }

    /// The old CA: `given`, else the one CA besides the new one in the trust files that issued
    /// a leaf here, else the one in the trust files' backups (once phase 3 replaced them).
    pub(crate) fn old_ca(
        &self,
        new: Option<&Certificate>,
        given: Option<&Path>,
    ) -> Result<Option<Certificate>> {
        let is_new = |c: &Certificate| new.is_some_and(|n| n.der() == c.der());
        if let Some(path) = given {
            let cert = load_certificates(path)?.remove(0);
            if is_new(&cert) {
                return Err(Error::Input(format!(
                    "{} is the new CA: give the old CA's certificate (its backup, NAME.bak.*, if the file was replaced)",
                    pki_core::display_path(path)
                )));
            }
            return Ok(Some(cert));
        }
        let mut candidates: Vec<Certificate> = Vec::new();
        let add = |c: &Certificate, list: &mut Vec<Certificate>| {
            if c.is_ca() && !is_new(c) && !list.iter().any(|o| o.der() == c.der()) {
                list.push(c.clone());
            }
        };
        for t in &self.targets {
            for file in &t.pki.trust {
                for c in &file.certificates {
                    add(c, &mut candidates);
                }
            }
        }
        let leaves: Vec<&Certificate> = self
            .targets
            .iter()
            .flat_map(|t| t.pki.leaves.iter().map(|l| &l.certificate))
            .collect();
        let issuing: Vec<Certificate> = candidates
            .iter()
            .filter(|ca| {
                let pool: CertPool = std::iter::once((*ca).clone()).collect();
                leaves.iter().any(|l| find_issuer(l, &pool).is_ok())
            })
            .cloned()
            .collect();
        match issuing.len() {
            1 => return Ok(issuing.into_iter().next()),
            0 => {}
            _ => {
                return Err(Error::Input(format!(
                    "the members' files hold {} CAs that issued their certificates ({}): say which is the old one",
                    issuing.len(),
                    issuing
                        .iter()
                        .map(|c| c.subject().to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                )))
            }
        }
        // Phase 3 replaced the trust files: the old CA is in their backups.
        let mut in_backups: Vec<Certificate> = Vec::new();
        for t in &self.targets {
            for (path, _) in backups_in(&t.dir) {
                if let Ok(loaded) = load_file(&path) {
                    for c in &loaded.certificates {
                        add(c, &mut in_backups);
                    }
                }
            }
        }
        Ok(match in_backups.len() {
            1 => in_backups.into_iter().next(),
            _ => None,
        })
    }

    /// A key file for `ca`: `given`, else one in the members' directories, else one of their
    /// backups (phase 3 replaces a CA key kept beside the trust file, as kubeadm keeps it).
    pub(crate) fn key_of(&self, ca: &Certificate, given: Option<&Path>) -> Option<PathBuf> {
        if let Some(p) = given {
            return Some(p.to_path_buf());
        }
        for t in &self.targets {
            if let Some(p) = t.pki.key_files_of(ca).first() {
                return Some(p.to_path_buf());
            }
        }
        for t in &self.targets {
            for (path, _) in backups_in(&t.dir) {
                let matches = load_file(&path)
                    .map(|l| l.certificates.is_empty() && l.keys.iter().any(|k| k.matches(ca)))
                    .unwrap_or(false);
                if matches {
                    return Some(path);
                }
            }
        }
        None
    }
}

/// The backups (`NAME.bak.*`) directly in `dir`, newest first.
fn backups_in(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut out: Vec<(PathBuf, std::time::SystemTime)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| pki_core::is_backup(p))
        .filter_map(|p| {
            let meta = std::fs::metadata(&p).ok()?;
            meta.is_file()
                .then(|| (p, meta.modified().unwrap_or(std::time::UNIX_EPOCH)))
        })
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.1));
    out
}

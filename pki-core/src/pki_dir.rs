//! A member's certificate directory read for a CA rotation: which files are trust bundles (CA
//! certificates only: `--trusted-ca-file`, `--peer-trusted-ca-file`), which are leaf
//! certificates (with the file holding each one's key), and which keys belong to a CA (kubeadm
//! keeps `ca.key` beside `ca.crt`); and what a trust bundle holds after each step of the
//! rotation.
//!
//! Files are judged by content, as [`crate::member_files`] judges them (links followed, backups
//! and unfinished writes set aside, hidden names skipped).

use std::path::{Path, PathBuf};

use crate::cert::Certificate;
use crate::error::Result;
use crate::member_template::{not_a_directory, Contents, MemberDir};

/// A file of CA certificates.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TrustFile {
    /// The file.
    pub path: PathBuf,
    /// Its certificates, in order.
    pub certificates: Vec<Certificate>,
}

impl TrustFile {
    /// Whether it holds `ca` (the same DER).
    pub fn holds(&self, ca: &Certificate) -> bool {
        self.certificates.iter().any(|c| c.der() == ca.der())
    }
}

/// A file whose first certificate is a leaf.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LeafFile {
    /// The file.
    pub path: PathBuf,
    /// Its leaf certificate.
    pub certificate: Certificate,
    /// The file holding its key (itself when the key is in the same file).
    pub key: Option<PathBuf>,
}

/// A directory's certificate files, judged by content.
#[derive(Debug)]
#[non_exhaustive]
pub struct PkiDir {
    /// The directory.
    pub dir: PathBuf,
    /// Files of CA certificates only.
    pub trust: Vec<TrustFile>,
    /// Leaf certificate files.
    pub leaves: Vec<LeafFile>,
    /// Files set aside, with why.
    pub skipped: Vec<(PathBuf, String)>,
    /// Directories holding an unfinished write (see [`crate::recover`]).
    pub interrupted: Vec<PathBuf>,
    read: MemberDir,
}

impl PkiDir {
    /// Reads every file under `dir`.
    ///
    /// # Errors
    /// `dir` is not a directory, or cannot be listed.
    pub fn read(dir: impl AsRef<Path>) -> Result<PkiDir> {
        let dir = dir.as_ref();
        if let Some(e) = not_a_directory(dir) {
            return Err(e);
        }
        let read = MemberDir::read(dir)?;
        let mut out = PkiDir {
            dir: dir.to_path_buf(),
            trust: Vec::new(),
            leaves: Vec::new(),
            skipped: read.skipped.clone(),
            interrupted: read.interrupted.clone(),
            read: MemberDir {
                dir: dir.to_path_buf(),
                files: Vec::new(),
                skipped: Vec::new(),
                interrupted: Vec::new(),
            },
        };
        for (i, file) in read.files.iter().enumerate() {
            match &file.contents {
                Contents::Trust { certificates, .. } => out.trust.push(TrustFile {
                    path: file.path.clone(),
                    certificates: certificates.clone(),
                }),
                Contents::Leaf { leaf, .. } => out.leaves.push(LeafFile {
                    path: file.path.clone(),
                    certificate: leaf.as_ref().clone(),
                    key: read.key_of(i).map(|k| read.files[k].path.clone()),
                }),
                Contents::Key { .. } => {}
                Contents::Other { reason } => out.skipped.push((file.rel.clone(), reason.clone())),
            }
        }
        out.read = read;
        Ok(out)
    }

    /// The files holding the key of `cert` and nothing else (a CA's key beside it).
    pub fn key_files_of(&self, cert: &Certificate) -> Vec<&Path> {
        self.read
            .files
            .iter()
            .filter(|f| matches!(&f.contents, Contents::Key { key } if key.matches(cert)))
            .map(|f| f.path.as_path())
            .collect()
    }
}

/// What a trust bundle holds once `with` replaces `replaced`: the bundle's certificates in
/// order, where the first of `replaced` or `with` stands `with` in its order, and the others of
/// them are gone; any other CA in the bundle stays where it was. `None` when the bundle holds
/// none of them (it is another CA's, not this rotation's).
///
/// ```
/// # use pki_core::{new_ca, rebundle, KeyAlgorithm};
/// # let at = time::OffsetDateTime::now_utc();
/// # let old = new_ca("old", None, &KeyAlgorithm::Ed25519, 9, at)?.certificate;
/// # let new = new_ca("new", None, &KeyAlgorithm::Ed25519, 9, at)?.certificate;
/// let both = rebundle(&[old.clone()], &[&old], &[&old, &new]).unwrap();
/// assert_eq!(both.len(), 2);
/// let only_new = rebundle(&both, &[&old], &[&new]).unwrap();
/// assert_eq!(only_new[0].der(), new.der());
/// # Ok::<(), pki_core::Error>(())
/// ```
pub fn rebundle(
    current: &[Certificate],
    replaced: &[&Certificate],
    with: &[&Certificate],
) -> Option<Vec<Certificate>> {
    let ours = |c: &Certificate| {
        replaced
            .iter()
            .chain(with.iter())
            .any(|o| o.der() == c.der())
    };
    let first = current.iter().position(ours)?;
    let mut out: Vec<Certificate> = Vec::with_capacity(current.len() + with.len());
    for (i, c) in current.iter().enumerate() {
        if i == first {
            out.extend(with.iter().map(|c| (*c).clone()));
        } else if !ours(c) {
            out.push(c.clone());
        }
    }
    Some(out)
}

/// A bundle's certificates as PEM, each preceded by a comment naming its subject and validity
/// (what `cat` on a bundle is read for).
pub fn bundle_pem(certificates: &[Certificate]) -> String {
    certificates
        .iter()
        .map(|c| {
            format!(
                "# {} (valid until {})\n{}",
                c.subject(),
                crate::time_fmt::rfc3339(c.not_after()),
                c.to_pem()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyAlgorithm;
    use crate::load::certificates_from_bytes;
    use crate::new_ca::new_ca;

    fn ca(name: &str) -> Certificate {
        new_ca(
            name,
            None,
            &KeyAlgorithm::Ed25519,
            9,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap()
        .certificate
    }

    #[test]
    fn bundles_through_a_rotation_keep_other_cas_in_place() {
        let (old, new, other) = (ca("old"), ca("new"), ca("other"));
        let ders = |v: &[Certificate]| v.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>();
        let start = vec![other.clone(), old.clone()];
        let both = rebundle(&start, &[&old], &[&old, &new]).unwrap();
        assert_eq!(
            ders(&both),
            ders(&[other.clone(), old.clone(), new.clone()])
        );
        // Again: the same.
        assert_eq!(
            ders(&rebundle(&both, &[&old], &[&old, &new]).unwrap()),
            ders(&both)
        );
        let only = rebundle(&both, &[&old], &[&new]).unwrap();
        assert_eq!(ders(&only), ders(&[other.clone(), new.clone()]));
        // Back (a rollback).
        let back = rebundle(&both, &[&new], &[&old]).unwrap();
        assert_eq!(ders(&back), ders(&[other.clone(), old.clone()]));
        // Another CA's bundle is not this rotation's.
        assert!(rebundle(std::slice::from_ref(&other), &[&old], &[&old, &new]).is_none());
        // PEM with comments parses back to the same certificates.
        let pem = bundle_pem(&only);
        assert!(pem.starts_with("# "));
        assert_eq!(
            ders(&certificates_from_bytes(pem.as_bytes()).unwrap()),
            ders(&only)
        );
    }

    #[test]
    fn a_directory_is_judged_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let files = crate::init::init(
            dir.path(),
            &crate::init::InitRequest::new(
                crate::init::Layout::Kubeadm,
                [crate::init::Member::new("n0", "10.0.0.1".parse().unwrap())],
            ),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("n0")).unwrap();
        let writes: Vec<_> = files.into_iter().map(|f| f.write).collect();
        crate::write::write_all(&writes).unwrap();
        let root = PkiDir::read(dir.path()).unwrap();
        assert_eq!(root.trust.len(), 2, "ca.crt and n0/ca.crt");
        let ca = root.trust[0].certificates[0].clone();
        assert_eq!(
            root.key_files_of(&ca),
            [dir.path().join("ca.key").as_path()]
        );
        let member = PkiDir::read(dir.path().join("n0")).unwrap();
        assert_eq!(member.leaves.len(), 3, "{:?}", member.leaves);
        assert!(member.leaves.iter().all(|l| l.key.is_some()));
        assert!(member.trust[0].holds(&ca));
    }
}

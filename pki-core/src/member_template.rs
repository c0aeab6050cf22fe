//! A member's certificate directory read as a template for a new member (`kubeadm`'s
//! `/etc/kubernetes/pki/etcd`, `init`'s `pki/NAME/`, one directory per member made by hand):
//! what each file is, judged by its content, never by its name.
//!
//! - a file whose first certificate is a CA is a trust bundle (`ca.crt`): copied as it is;
//! - a file whose first certificate is a leaf is one of the member's certificates, with any
//!   certificates after it (a chain) and perhaps its key in the same file;
//! - a file of private keys only is a key, paired with the certificate whose public key it
//!   holds; the CA's key (kubeadm keeps `ca.key` there) is recognised and never copied;
//! - anything else (a CSR, a config file, a key of no certificate here) is set aside with the
//!   reason.
//!
//! The walk is [`crate::walk`]'s (links followed, backups and unfinished writes set aside);
//! names starting with `.` are skipped (Kubernetes' `..data` links of a mounted secret).

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::cert::Certificate;
use crate::error::{Error, Result};
use crate::ext_key_usage::ExtKeyUsage;
use crate::key::{KeyFormat, PrivateKey};
use crate::load::load_file;

/// At most this many files are read from a template directory.
const MAX_FILES: usize = 1000;

/// How a file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// PEM blocks.
    Pem,
    /// One DER structure.
    Der,
}

/// One file of a member's directory.
#[derive(Debug)]
pub(crate) struct DirFile {
    /// Its path relative to the directory.
    pub(crate) rel: PathBuf,
    /// Its path.
    pub(crate) path: PathBuf,
    /// PEM or DER.
    pub(crate) encoding: Encoding,
    /// What it holds.
    pub(crate) contents: Contents,
}

/// What a file of a member's directory holds.
#[derive(Debug)]
pub(crate) enum Contents {
    /// CA certificates only (the first one is a CA): the file's bytes, and their subjects.
    Trust {
        bytes: Vec<u8>,
        certificates: Vec<Certificate>,
    },
    /// A leaf certificate, the certificates after it, and its key when the file holds it too.
    Leaf {
        leaf: Box<Certificate>,
        rest: Vec<Certificate>,
        key: Option<InFileKey>,
    },
    /// A private key and nothing else.
    Key { key: PrivateKey },
    /// Nothing this can use.
    Other { reason: String },
}

/// A key in the same file as its certificate.
#[derive(Debug)]
pub(crate) struct InFileKey {
    /// Its format.
    pub(crate) format: KeyFormat,
    /// Whether the key comes before the certificates.
    pub(crate) first: bool,
}

/// A member's directory, read.
#[derive(Debug)]
pub(crate) struct MemberDir {
    /// The directory.
    pub(crate) dir: PathBuf,
    /// Its files, sorted by relative path.
    pub(crate) files: Vec<DirFile>,
    /// Files the walk set aside, with the reason.
    pub(crate) skipped: Vec<(PathBuf, String)>,
    /// Directories under it holding an unfinished write.
    pub(crate) interrupted: Vec<PathBuf>,
}

impl MemberDir {
    /// Reads every file under `dir`.
    pub(crate) fn read(dir: &Path) -> Result<MemberDir> {
        let listing = crate::walk::files_to_scan(&[dir.to_path_buf()])?;
        let mut files = Vec::new();
        let mut skipped: Vec<(PathBuf, String)> = listing
            .skipped
            .into_iter()
            .filter_map(|s| Some((relative(dir, &s.path)?, s.reason)))
            .collect();
        for path in listing.files {
            let Some(rel) = relative(dir, &path) else {
                continue;
            };
            if files.len() >= MAX_FILES {
                skipped.push((rel, format!("more than {MAX_FILES} files in the directory")));
                continue;
            }
            match read_one(&path) {
                Ok((encoding, contents)) => files.push(DirFile {
                    rel,
                    path,
                    encoding,
                    contents,
                }),
                Err(e) => skipped.push((rel, e.to_string())),
            }
        }
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(MemberDir {
            dir: dir.to_path_buf(),
            files,
            skipped,
            interrupted: listing.interrupted_dirs,
        })
    }

    /// The leaf certificates, with their index in `files`.
    pub(crate) fn leaves(&self) -> impl Iterator<Item = (usize, &DirFile, &Certificate)> {
        self.files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match &f.contents {
                Contents::Leaf { leaf, .. } => Some((i, f, leaf.as_ref())),
                _ => None,
            })
    }

    /// The index of the file holding the key of `cert` (the certificate's own file first).
    pub(crate) fn key_of(&self, cert_index: usize) -> Option<usize> {
        let Contents::Leaf { leaf, key, .. } = &self.files[cert_index].contents else {
            return None;
        };
        if key.is_some() {
            return Some(cert_index);
        }
        self.files.iter().position(|f| match &f.contents {
            Contents::Key { key } => key.matches(leaf),
            // Another certificate on the same key, with the key in its file.
            Contents::Leaf {
                leaf: other,
                key: Some(_),
                ..
            } => other.spki_der() == leaf.spki_der(),
            _ => false,
        })
    }
}

/// `path` relative to `dir`, when it is under it and no component is hidden (`.name`).
fn relative(dir: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(dir).ok()?;
    let hidden = rel.components().any(|c| match c {
        Component::Normal(n) => n.as_encoded_bytes().first() == Some(&b'.'),
        _ => true,
    });
    (!hidden && !rel.as_os_str().is_empty()).then(|| rel.to_path_buf())
}

fn read_one(path: &Path) -> Result<(Encoding, Contents)> {
    let bytes = zeroize::Zeroizing::new(crate::load::read_file(path)?);
    let encoding = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        Encoding::Pem
    } else {
        Encoding::Der
    };
    let mut loaded = load_file(path)?;
    let contents = if loaded.certificates.is_empty() {
        match loaded.keys.len() {
            0 => Contents::Other {
                reason: format!("holds {}", loaded.found),
            },
            1 => Contents::Key {
                key: loaded.keys.remove(0),
            },
            n => Contents::Other {
                reason: format!("holds {n} private keys"),
            },
        }
    } else if loaded.certificates[0].is_ca()
        && (!loaded.keys.is_empty() || loaded.encrypted_keys > 0)
    {
        // A key beside CA certificates (the CA's own, or a member's in a bundle) is never
        // copied, and the file is no trust bundle to copy as it is.
        Contents::Other {
            reason: "holds CA certificates and a private key: not carried over (no private key is ever copied to a new member; give it a file of CA certificates only)".into(),
        }
    } else if loaded.certificates[0].is_ca() {
        Contents::Trust {
            bytes: bytes.to_vec(),
            certificates: loaded.certificates,
        }
    } else {
        let leaf = loaded.certificates.remove(0);
        let key = match loaded.keys.first() {
            Some(k) if k.matches(&leaf) => Some(InFileKey {
                format: k.format(),
                first: key_comes_first(&bytes),
            }),
            _ => None,
        };
        Contents::Leaf {
            leaf: Box::new(leaf),
            rest: loaded.certificates,
            key,
        }
    };
    Ok((encoding, contents))
}

/// Whether the first PEM block of a file is a private key.
fn key_comes_first(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let key = text.find("PRIVATE KEY-----");
    let cert = text.find("-----BEGIN CERTIFICATE-----");
    matches!((key, cert), (Some(k), Some(c)) if k < c)
}

/// The usages of a leaf as words: `server and client auth`, `client auth`, ...
pub(crate) fn usage_words(cert: &Certificate) -> String {
    let (server, client) = auth_usages(cert);
    match (server, client) {
        (true, true) => "server and client auth".into(),
        (true, false) => "server auth".into(),
        (false, true) => "client auth".into(),
        (false, false) => "neither server nor client auth".into(),
    }
}

/// Whether a leaf may authenticate a TLS server and a TLS client (no extended key usage, or
/// `anyExtendedKeyUsage`, permits both, as in Go).
pub(crate) fn auth_usages(cert: &Certificate) -> (bool, bool) {
    match cert.ext_key_usage() {
        None => (true, true),
        Some(ekus) => {
            let any = ekus.contains(&ExtKeyUsage::Any);
            (
                any || ekus.contains(&ExtKeyUsage::ServerAuth),
                any || ekus.contains(&ExtKeyUsage::ClientAuth),
            )
        }
    }
}

/// A certificate and its key, relative to the member's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CertAndKey {
    /// The certificate.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub cert: PathBuf,
    /// Its key.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub key: PathBuf,
}

/// Which of a member's files etcd uses for what, judged by usages and SANs (and by file name
/// only between certificates whose content is alike, such as kubeadm's `server.crt` and
/// `peer.crt`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MemberFiles {
    /// `--trusted-ca-file` and `--peer-trusted-ca-file`.
    #[serde(serialize_with = "crate::path_text::serde_path::opt_path")]
    pub trusted_ca: Option<PathBuf>,
    /// `--cert-file`/`--key-file`.
    pub server: Option<CertAndKey>,
    /// `--peer-cert-file`/`--peer-key-file`.
    pub peer: Option<CertAndKey>,
    /// A client certificate (kubeadm's health-check client).
    pub client: Option<CertAndKey>,
}

/// Which of a member's files etcd uses for what (see [`MemberFiles`]), with each file's path
/// given by `path_of` (its index in `dir.files`) and each certificate's key file by `key_of`;
/// the trust bundle holding `ca` is preferred.
pub(crate) fn roles(
    dir: &MemberDir,
    path_of: &dyn Fn(usize) -> Option<PathBuf>,
    key_of: &dyn Fn(usize) -> Option<PathBuf>,
    ca: Option<&Certificate>,
) -> MemberFiles {
    let pair = |i: usize| -> Option<CertAndKey> {
        Some(CertAndKey {
            cert: path_of(i)?,
            key: key_of(i)?,
        })
    };
    let leaves: Vec<(usize, &DirFile, &Certificate)> = dir.leaves().collect();
    let member =
        |c: &Certificate| auth_usages(c).0 && (!c.sans().ip.is_empty() || !c.sans().dns.is_empty());
    let both: Vec<&(usize, &DirFile, &Certificate)> = leaves
        .iter()
        .filter(|(_, _, c)| member(c) && auth_usages(c).1)
        .collect();
    let peer = both
        .iter()
        .find(|(_, f, _)| name_suggests(&f.rel, &["peer", "member"]))
        .or_else(|| {
            both.iter()
                .find(|(_, f, _)| !name_suggests(&f.rel, &["server"]))
        })
        .or(both.first())
        .and_then(|(i, _, _)| pair(*i));
    let servers: Vec<&(usize, &DirFile, &Certificate)> =
        leaves.iter().filter(|(_, _, c)| member(c)).collect();
    let server = servers
        .iter()
        .find(|(_, f, _)| name_suggests(&f.rel, &["server"]))
        .and_then(|(i, _, _)| pair(*i))
        .or_else(|| peer.clone())
        .or_else(|| servers.first().and_then(|(i, _, _)| pair(*i)));
    let clients: Vec<&(usize, &DirFile, &Certificate)> = leaves
        .iter()
        .filter(|(_, _, c)| auth_usages(c) == (false, true))
        .collect();
    let client = clients
        .iter()
        .find(|(_, f, _)| name_suggests(&f.rel, &["client"]))
        .or(clients.first())
        .and_then(|(i, _, _)| pair(*i));
    let trusted_ca = dir
        .files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match &f.contents {
            Contents::Trust { certificates, .. } => Some((i, certificates)),
            _ => None,
        })
        // The first file that holds the CA, else the first file of CA certificates.
        .min_by_key(|(i, certs)| {
            (
                !ca.is_some_and(|ca| certs.iter().any(|c| c.der() == ca.der())),
                *i,
            )
        })
        .and_then(|(i, _)| path_of(i));
    MemberFiles {
        trusted_ca,
        server,
        peer,
        client,
    }
}

/// Which files of a member's certificate directory etcd uses for what, judged by content (see
/// [`MemberFiles`]); paths relative to `dir`.
pub fn member_files(dir: impl AsRef<Path>) -> Result<MemberFiles> {
    let dir = dir.as_ref();
    if let Some(e) = not_a_directory(dir) {
        return Err(e);
    }
    let read = MemberDir::read(dir)?;
    let key_of = |i: usize| read.key_of(i).map(|k| read.files[k].rel.clone());
    Ok(roles(
        &read,
        &|i| Some(read.files[i].rel.clone()),
        &key_of,
        None,
    ))
}

/// Whether a file name suggests a role (used only to tell apart certificates whose content is
/// alike, such as kubeadm's `server.crt` and `peer.crt`).
pub(crate) fn name_suggests(rel: &Path, words: &[&str]) -> bool {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    words.iter().any(|w| name.contains(w))
}

/// An error for a directory that cannot be a template.
pub(crate) fn not_a_directory(dir: &Path) -> Option<Error> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => None,
        Ok(m) => Some(match crate::files::FileKind::of(&m) {
            Some(kind) => Error::NotRegularFile {
                path: dir.to_path_buf(),
                kind,
            },
            None => Error::Read {
                path: dir.to_path_buf(),
                error: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
            },
        }),
        Err(error) => Some(Error::Read {
            path: dir.to_path_buf(),
            error,
        }),
    }
}

//! One file as a scan reads it: the certificates in it and the key beside them in the same file,
//! or what else it is (a key alone, nothing a scan reads, a damaged certificate); and where a
//! certificate's key file sits beside it ([`key_candidates`]).
//!
//! Of a key a scan keeps only a [`KeyFact`]: the SHA-256 fingerprint of its public half, or why
//! it cannot be used, so that a tree of 100,000 key files costs a few megabytes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::cert::Certificate;
use crate::error::Error;
use crate::key::PrivateKey;
use crate::load::{parse_contents, read_file};

/// What a scan keeps of a key: its public half's fingerprint, or why it cannot be used.
#[derive(Debug, Clone)]
pub(crate) enum KeyFact {
    /// [`crate::key::PublicKeyData::fingerprint`] of the key's public half.
    Usable([u8; 32]),
    /// Why the key cannot be used.
    Bad(String),
}

/// What a file that holds no readable certificate is, as a scan lists it.
#[derive(Debug)]
pub(crate) enum NotCertificates {
    /// A key alone.
    Key(KeyFact),
    /// Nothing a scan reads, with what it holds or why it could not be read.
    Skipped(String),
    /// A certificate that cannot be read.
    Malformed(String),
}

/// The certificates of a file, in file order, and the key in it (Go's `tls.X509KeyPair` takes
/// the first key block); or what else the file is. With `with_key` false the key of a file that
/// holds certificates is not parsed (a key's parse is most of the cost of reading it: 0.3 ms
/// for RSA-2048) and `None` is returned for it.
pub(crate) fn read_certificates(
    path: &Path,
    with_key: bool,
) -> Result<(Vec<Certificate>, Option<KeyFact>), NotCertificates> {
    let bytes = match read_file(path) {
        Ok(b) => zeroize::Zeroizing::new(b),
        Err(Error::TooLarge { size, .. }) => {
            return Err(NotCertificates::Skipped(format!(
                "too large for a certificate file ({size} bytes)"
            )))
        }
        Err(Error::Read { error, .. }) => {
            return Err(NotCertificates::Skipped(format!("cannot read: {error}")))
        }
        Err(e) => return Err(NotCertificates::Skipped(e.to_string())),
    };
    let contents = match parse_contents(&bytes) {
        Ok(c) => c,
        Err(e) => return Err(NotCertificates::Malformed(strip_origin(&e))),
    };
    let key = if with_key || contents.certificates.is_empty() {
        // Go's tls.X509KeyPair takes the first key block, even one it cannot use.
        let refusal = contents.first_key_refusal();
        match contents.keys.first() {
            _ if refusal.is_some() => refusal.map(|e| KeyFact::Bad(strip_origin(&e))),
            None if contents.encrypted_keys > 0 => {
                Some(KeyFact::Bad("the key is encrypted".into()))
            }
            None => None,
            Some(der) => Some(match PrivateKey::from_der(der.format, &der.der) {
                Ok(k) => KeyFact::Usable(k.public_key_data().fingerprint()),
                Err(e) => KeyFact::Bad(strip_origin(&e)),
            }),
        }
    } else {
        None
    };
    if contents.certificates.is_empty() {
        return Err(match key {
            Some(k) => NotCertificates::Key(k),
            None => NotCertificates::Skipped(contents.found.to_string()),
        });
    }
    let mut certs = Vec::with_capacity(contents.certificates.len());
    for (index, der) in contents.certificates.into_iter().enumerate() {
        match Certificate::from_der(der) {
            Ok(c) => certs.push(c),
            Err(reason) => {
                return Err(NotCertificates::Malformed(format!(
                    "certificate #{} is malformed: {reason}",
                    index + 1
                )))
            }
        }
    }
    Ok((certs, key))
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
    use crate::test_support::{cert, fixture};

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

    /// The key of a certificate's own file is parsed only when asked for; a key alone always.
    #[test]
    fn keys_are_parsed_when_asked_for() {
        let combined = fixture("openssl/combined.pem");
        let Ok((certs, Some(KeyFact::Usable(fingerprint)))) = read_certificates(&combined, true)
        else {
            panic!("combined.pem holds a certificate and its key")
        };
        assert_eq!(fingerprint, certs[0].public_key_data().fingerprint());
        assert!(matches!(read_certificates(&combined, false), Ok((_, None))));
        let key = fixture("cfssl/members-key.pem");
        let Err(NotCertificates::Key(KeyFact::Usable(fingerprint))) =
            read_certificates(&key, false)
        else {
            panic!("members-key.pem is a key alone")
        };
        assert_eq!(
            fingerprint,
            cert("cfssl/members.pem").public_key_data().fingerprint()
        );
    }
}

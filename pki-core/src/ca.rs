//! A certificate authority that can sign: its certificate and private key, loaded from the
//! formats real etcd hosts have (cfssl's and kubeadm's PKCS#1 RSA keys, PKCS#8, SEC1) and
//! refused, before anything is signed, when the key does not belong to the certificate, the
//! certificate is not a CA, or it is not valid now.
//!
//! Signing is rcgen's `SigningKey` over aws-lc (`KeyPair::from_pkcs8_der_and_sign_algo` on the
//! key normalised to PKCS#8), with the signature algorithm Go and cfssl pair with the key:
//! SHA256-RSA, ECDSA-SHA256 on P-256, ECDSA-SHA384 on P-384, ECDSA-SHA512 on P-521, Ed25519.

use std::path::{Path, PathBuf};

use rcgen::SigningKey;
use rustls_pki_types::PrivatePkcs8KeyDer;
use time::OffsetDateTime;

use crate::cert::{Certificate, KU_CERT_SIGN};
use crate::error::{Error, Result};
use crate::key::{Curve, KeyAlgorithm, PrivateKey};
use crate::load::{load_certificates, load_private_key};
use crate::time_fmt::rfc3339;

/// The DER AlgorithmIdentifier and rcgen algorithm of a CA key's signatures.
#[derive(Clone, Copy)]
pub(crate) struct SigningAlgorithm {
    pub(crate) alg_id_der: &'static [u8],
    pub(crate) rcgen: &'static rcgen::SignatureAlgorithm,
}

/// sha256WithRSAEncryption, NULL parameters.
const SHA256_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
];
/// ecdsa-with-SHA256.
const ECDSA_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];
/// ecdsa-with-SHA384.
const ECDSA_SHA384: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
];
/// ecdsa-with-SHA512.
const ECDSA_SHA512: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04,
];
/// id-Ed25519.
const ED25519: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];

impl SigningAlgorithm {
    pub(crate) fn for_key(algorithm: &KeyAlgorithm) -> Option<SigningAlgorithm> {
        let (alg_id_der, rcgen) = match algorithm {
            KeyAlgorithm::Rsa { .. } => (SHA256_RSA, &rcgen::PKCS_RSA_SHA256),
            KeyAlgorithm::Ecdsa { curve: Curve::P256 } => {
                (ECDSA_SHA256, &rcgen::PKCS_ECDSA_P256_SHA256)
            }
            KeyAlgorithm::Ecdsa { curve: Curve::P384 } => {
                (ECDSA_SHA384, &rcgen::PKCS_ECDSA_P384_SHA384)
            }
            KeyAlgorithm::Ecdsa { curve: Curve::P521 } => {
                (ECDSA_SHA512, &rcgen::PKCS_ECDSA_P521_SHA512)
            }
            KeyAlgorithm::Ed25519 => (ED25519, &rcgen::PKCS_ED25519),
            _ => return None,
        };
        Some(SigningAlgorithm { alg_id_der, rcgen })
    }
}

/// A CA that can sign certificates.
pub struct CertificateAuthority {
    cert: Certificate,
    cert_path: Option<PathBuf>,
    key_path: Option<PathBuf>,
    signer: rcgen::KeyPair,
    algorithm: SigningAlgorithm,
    warnings: Vec<String>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("subject", &self.cert.subject())
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .field("key", &"[elided]")
            .finish()
    }
}

impl CertificateAuthority {
    /// [`CertificateAuthority::load`] checked for signing now: the CA of an embedder that
    /// reissues certificates as they are needed.
    ///
    /// ```
    /// # let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cfssl");
    /// # std::env::set_current_dir(&fixtures).unwrap();
    /// let ca = pki_core::CertificateAuthority::open("ca.pem", "ca-key.pem")?;
    /// assert_eq!(ca.certificate().common_name(), Some("etcd-ca"));
    /// # Ok::<(), pki_core::Error>(())
    /// ```
    pub fn open(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<CertificateAuthority> {
        Self::load(cert_path, key_path, OffsetDateTime::now_utc())
    }

    /// Loads a CA from its certificate file (the first certificate in it) and key file, and
    /// checks it can sign at `at`. A key file readable by group or others is accepted with a
    /// warning (see [`CertificateAuthority::warnings`]).
    pub fn load(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
        at: OffsetDateTime,
    ) -> Result<CertificateAuthority> {
        let (cert_path, key_path) = (cert_path.as_ref(), key_path.as_ref());
        let cert = load_certificates(cert_path)?.remove(0);
        let key = load_private_key(key_path)?;
        let mut ca = Self::new(cert, &key, at).map_err(|e| match e {
            Error::CaKeyMismatch { .. } => Error::CaKeyMismatch {
                cert: Some(cert_path.to_path_buf()),
                key: Some(key_path.to_path_buf()),
            },
            other => other.with_path(cert_path),
        })?;
        ca.cert_path = Some(cert_path.to_path_buf());
        ca.key_path = Some(key_path.to_path_buf());
        if let Some(mode) = group_or_other_readable(key_path) {
            ca.warnings.push(format!(
                "the CA key {} is readable by group or others (mode {mode:04o}): whoever can read it can issue certificates the cluster trusts; chmod 600 {0}",
                key_path.display()
            ));
        }
        Ok(ca)
    }

    /// Builds a CA from a parsed certificate and key, checking that the key is the
    /// certificate's, that the certificate is a CA that may sign certificates (basic
    /// constraints cA, and keyCertSign when key usage is present), and that it is valid at `at`.
    pub fn new(
        cert: Certificate,
        key: &PrivateKey,
        at: OffsetDateTime,
    ) -> Result<CertificateAuthority> {
        if !key.matches(&cert) {
            return Err(Error::CaKeyMismatch {
                cert: None,
                key: None,
            });
        }
        let not_ca = |reason: &str| Error::NotACa {
            path: None,
            reason: reason.to_string(),
        };
        match cert.basic_constraints() {
            None => return Err(not_ca("it has no basic constraints extension")),
            Some(bc) if !bc.ca => {
                return Err(not_ca(
                    "its basic constraints say CA:FALSE (it is a leaf certificate)",
                ))
            }
            Some(_) => {}
        }
        if let Some(ku) = cert.key_usage_bits() {
            if ku != 0 && ku & KU_CERT_SIGN == 0 {
                return Err(not_ca("its key usage lacks keyCertSign"));
            }
        }
        if at < cert.not_before() {
            return Err(Error::CaNotValid {
                path: None,
                state: format!("not valid before {}", rfc3339(cert.not_before())),
            });
        }
        if at > cert.not_after() {
            return Err(Error::CaNotValid {
                path: None,
                state: format!("expired since {}", rfc3339(cert.not_after())),
            });
        }
        let algorithm =
            SigningAlgorithm::for_key(key.algorithm()).ok_or_else(|| Error::UnsupportedKey {
                path: None,
                algorithm: format!("{} cannot sign here", key.algorithm()),
            })?;
        let der = PrivatePkcs8KeyDer::from(key.pkcs8_der());
        let signer =
            rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, algorithm.rcgen).map_err(|e| {
                Error::UnsupportedKey {
                    path: None,
                    algorithm: format!(
                        "{} key cannot be loaded for signing ({e})",
                        key.algorithm()
                    ),
                }
            })?;
        Ok(CertificateAuthority {
            cert,
            cert_path: None,
            key_path: None,
            signer,
            algorithm,
            warnings: Vec::new(),
        })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// Where the CA certificate was loaded from, if from a file.
    pub fn certificate_path(&self) -> Option<&Path> {
        self.cert_path.as_deref()
    }

    /// Where the CA key was loaded from, if from a file.
    pub fn key_path(&self) -> Option<&Path> {
        self.key_path.as_deref()
    }

    /// Things worth telling the operator that do not stop signing (key file permissions).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The CA's key identifier for the AuthorityKeyIdentifier of what it signs: its subject key
    /// identifier, or the SHA-1 of its public key when it has none (RFC 5280 method 1).
    pub(crate) fn key_identifier(&self) -> Vec<u8> {
        match self.cert.subject_key_id() {
            Some(ski) => ski.to_vec(),
            None => sha1_key_id(self.cert.subject_public_key_bytes()),
        }
    }

    pub(crate) fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// Signs bytes (a TBSCertificate) with the CA key.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.signer.sign(message).map_err(|e| Error::Signing {
            reason: e.to_string(),
        })
    }
}

/// RFC 5280 method 1 key identifier: SHA-1 over the subjectPublicKey bits (what cfssl, Go and
/// openssl write).
pub(crate) fn sha1_key_id(public_key_bits: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        public_key_bits,
    )
    .as_ref()
    .to_vec()
}

#[cfg(unix)]
fn group_or_other_readable(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn group_or_other_readable(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cert, fixture, key};

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn cas_load_from_every_key_format() {
        for (c, k) in [
            ("cfssl/ca.pem", "cfssl/ca-key.pem"),
            ("kubeadm/ca.crt", "kubeadm/ca.key"),
            ("openssl/rsa-ca.crt", "openssl/rsa-ca.key"),
            ("openssl/ec-ca.crt", "openssl/ec-ca.key"),
            ("openssl/ed25519-ca.crt", "openssl/ed25519-ca.key"),
            ("openssl/intermediate-ca.crt", "openssl/intermediate-ca.key"),
        ] {
            let ca = CertificateAuthority::load(fixture(c), fixture(k), now())
                .unwrap_or_else(|e| panic!("{c}: {e}"));
            let signature = ca.sign(b"tbs").unwrap();
            assert!(!signature.is_empty());
        }
    }

    #[test]
    fn wrong_key_non_ca_and_expired_are_refused() {
        let err = CertificateAuthority::load(
            fixture("cfssl/ca.pem"),
            fixture("cfssl/other-ca-key.pem"),
            now(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::CaKeyMismatch { .. }), "{err}");
        assert!(err.to_string().contains("other-ca-key.pem"), "{err}");
        let err = CertificateAuthority::load(
            fixture("cfssl/members.pem"),
            fixture("cfssl/members-key.pem"),
            now(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NotACa { .. }), "{err}");
        assert!(err.to_string().contains("CA:FALSE"), "{err}");
        let late = cert("cfssl/ca.pem").not_after() + time::Duration::days(1);
        let err = CertificateAuthority::new(cert("cfssl/ca.pem"), &key("cfssl/ca-key.pem"), late)
            .unwrap_err();
        assert!(matches!(err, Error::CaNotValid { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_ca_key_is_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("ca-key.pem");
        std::fs::copy(fixture("cfssl/ca-key.pem"), &key_path).unwrap();
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let ca = CertificateAuthority::load(fixture("cfssl/ca.pem"), &key_path, now()).unwrap();
        assert_eq!(ca.warnings().len(), 1);
        assert!(
            ca.warnings()[0].contains("mode 0644"),
            "{:?}",
            ca.warnings()
        );
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let ca = CertificateAuthority::load(fixture("cfssl/ca.pem"), &key_path, now()).unwrap();
        assert!(ca.warnings().is_empty());
    }
}

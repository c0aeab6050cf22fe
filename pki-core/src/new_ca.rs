//! Making a CA to succeed another (the first step of a CA rotation), and short-lived client
//! certificates from a CA for probes: does a member trust this CA yet, or still?
//!
//! The new CA is made as `init` makes one (self-signed, keyCertSign and cRLSign, a SHA-1 key
//! identifier as Go and cfssl write) with the algorithm and lifetime asked for. A probe
//! certificate is a copy of a template (the connection's own client certificate: same subject,
//! so that etcd's authentication sees the same user, same usages and SANs) signed by the CA on
//! a fresh key; without a template it is a plain clientAuth certificate.

use rcgen::{
    CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::ca::CertificateAuthority;
use crate::cert::Certificate;
use crate::error::{Error, RequestProblem, Result};
use crate::init::{ca_params, key_pair, pem_bytes, signing};
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::reissue::{key_spki, sign_after, Fresh, BACKDATE};
use crate::write::FileWrite;

/// A CA certificate and its key, made here.
pub struct NewCa {
    /// The certificate.
    pub certificate: Certificate,
    /// Its key (never printed).
    pub key: PrivateKey,
}

impl std::fmt::Debug for NewCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCa")
            .field("subject", &self.certificate.subject())
            .field("key", &"[elided]")
            .finish()
    }
}

impl NewCa {
    /// The writes that put it in `cert_path` and `key_path` (the key 0600, in the format cfssl
    /// and kubeadm write for its algorithm).
    pub fn writes(
        &self,
        cert_path: impl Into<std::path::PathBuf>,
        key_path: impl Into<std::path::PathBuf>,
    ) -> Result<Vec<FileWrite>> {
        Ok(vec![
            FileWrite::public(cert_path, self.certificate.to_pem()),
            FileWrite::secret(key_path, pem_bytes(&self.key)?),
        ])
    }

    /// The CA, ready to sign at `at`.
    pub fn authority(&self, at: OffsetDateTime) -> Result<CertificateAuthority> {
        CertificateAuthority::new(self.certificate.clone(), &self.key, at)
    }
}

/// A new self-signed CA named `common_name` (and `organization`), with a key of `algorithm`,
/// valid `days` from `at` (backdated five minutes).
///
/// ```
/// use pki_core::{new_ca, KeyAlgorithm, Curve};
/// let at = time::OffsetDateTime::now_utc();
/// let ca = new_ca("etcd-ca-2026", Some("etcd"), &KeyAlgorithm::Ecdsa { curve: Curve::P256 }, 3650, at)?;
/// assert!(ca.certificate.is_ca());
/// assert_eq!(ca.certificate.common_name(), Some("etcd-ca-2026"));
/// # Ok::<(), pki_core::Error>(())
/// ```
pub fn new_ca(
    common_name: &str,
    organization: Option<&str>,
    algorithm: &KeyAlgorithm,
    days: u32,
    at: OffsetDateTime,
) -> Result<NewCa> {
    if days == 0 {
        return Err(Error::InvalidRequest {
            path: None,
            problem: RequestProblem::ZeroDays,
        });
    }
    let key = PrivateKey::generate(algorithm)?;
    let pair = key_pair(&key)?;
    let params = ca_params(
        common_name,
        organization,
        Duration::days(i64::from(days)),
        at,
        &pair,
    )?;
    let issuer = CertifiedIssuer::self_signed(params, pair).map_err(signing)?;
    let certificate =
        Certificate::from_der(issuer.der().to_vec()).map_err(|reason| Error::Signing { reason })?;
    Ok(NewCa { certificate, key })
}

/// A client certificate from `ca` on a fresh key of the CA's key algorithm, valid for
/// `lifetime` from `at` (backdated five minutes, never past the CA's end): a copy of `template`
/// (subject, SANs, usages, every other extension) when given, else a clientAuth certificate
/// named `etcd-pki-probe`. Returns the certificate and its key as PEM.
pub fn probe_certificate(
    template: Option<&Certificate>,
    ca: &CertificateAuthority,
    lifetime: Duration,
    at: OffsetDateTime,
) -> Result<(Certificate, Zeroizing<Vec<u8>>)> {
    let algorithm = template
        .map(|t| t.key_algorithm().clone())
        .unwrap_or_else(|| ca.certificate().key_algorithm().clone());
    let key = PrivateKey::generate(&algorithm)?;
    let plain;
    let template = match template {
        Some(t) => t,
        None => {
            plain = plain_client_template(&key)?;
            &plain
        }
    };
    let spki = key_spki(&key)?;
    let san = crate::san::old_san_value(template)?;
    let not_before = at.checked_sub(BACKDATE).unwrap_or(at);
    let not_after = at
        .checked_add(lifetime)
        .unwrap_or(at)
        .min(ca.certificate().not_after());
    let certificate = sign_after(
        template,
        ca,
        &Fresh {
            subject: template.raw_subject(),
            san_value: san.as_deref(),
            new_spki: Some(&spki),
            not_before,
            not_after,
        },
    )?;
    Ok((certificate, pem_bytes(&key)?))
}

/// A self-signed clientAuth certificate on `key`, used only as the template of a probe
/// certificate (its signature is replaced).
fn plain_client_template(key: &PrivateKey) -> Result<Certificate> {
    let pair = key_pair(key)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "etcd-pki-probe");
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&pair).map_err(signing)?;
    Certificate::from_der(cert.der().to_vec()).map_err(|reason| Error::Signing { reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Curve;
    use crate::verify::{verify, CertPool, VerifyOptions};

    #[test]
    fn a_new_ca_signs_and_a_probe_copies_its_template() {
        let at = OffsetDateTime::now_utc();
        for algorithm in [
            KeyAlgorithm::Ecdsa { curve: Curve::P256 },
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::Rsa { bits: 2048 },
        ] {
            let old = new_ca("old", None, &algorithm, 30, at).unwrap();
            let new = new_ca("new", Some("etcd"), &algorithm, 30, at).unwrap();
            assert_eq!(new.certificate.common_name(), Some("new"));
            let old_ca = old.authority(at).unwrap();
            let new_ca = new.authority(at).unwrap();
            // A client certificate of the old CA as the template.
            let (client, _) = probe_certificate(None, &old_ca, Duration::days(1), at).unwrap();
            let (copy, key_pem) =
                probe_certificate(Some(&client), &new_ca, Duration::hours(2), at).unwrap();
            assert_eq!(copy.raw_subject(), client.raw_subject());
            assert_eq!(copy.ext_key_usage(), client.ext_key_usage());
            assert_ne!(copy.spki_der(), client.spki_der(), "a fresh key");
            let key = crate::load::private_key_from_bytes(&key_pem).unwrap();
            assert!(key.matches(&copy));
            let roots: CertPool = std::iter::once(new.certificate.clone()).collect();
            verify(
                &copy,
                &CertPool::new(),
                &roots,
                &VerifyOptions::new().at(at),
            )
            .unwrap();
            assert!(copy.not_after() <= at + Duration::hours(2));
        }
    }

    #[test]
    fn zero_days_is_refused() {
        let at = OffsetDateTime::now_utc();
        assert!(new_ca("x", None, &KeyAlgorithm::Ed25519, 0, at).is_err());
    }
}

//! Reissuing a leaf certificate from its CA with new SANs (the fix for the seed runbook's note 1)
//! and renewing it with the same SANs (rotation jobs).
//!
//! Everything else is kept: subject, every existing SAN in its order (including names of kinds
//! this crate does not interpret), key usage, extended key usage, basic constraints, policies and
//! any other extension byte for byte, and the public key unless a new key of the same algorithm
//! is asked for. What changes: a new random 128-bit serial; validity from now (backdated five
//! minutes for clock skew between members, as cfssl does) for the old lifetime or a given number
//! of days, never past the CA's own expiry; the authority key identifier (the CA's).
//!
//! [`plan`] says what would change without signing anything; [`reissue`] signs and then
//! verifies the result before handing it back: it must chain to the CA, cover every host the
//! old certificate covered (minus removed names) plus the added ones, keep the subject and
//! usages, and match its key. Nothing is written here; see [`crate::write`].

use std::net::IpAddr;

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::ca::{sha1_key_id, CertificateAuthority};
use crate::cert::Certificate;
use crate::coverage::covers;
use crate::dns_name::validate_dns;
use crate::error::{Error, RequestProblem, Result};
use crate::host::Host;
use crate::key::{KeyAlgorithm, KeyFormat, PrivateKey};
use crate::san;
use crate::tbs::{self, Extension, OID_AKI, OID_SAN, OID_SKI};
use crate::verify::{find_issuer, verify, CertPool, VerifyOptions};

/// How far back validity starts, for clock skew between the CA host and the members.
pub const BACKDATE: Duration = Duration::minutes(5);

/// What to change when reissuing: built with [`ReissueRequest::new`] (or
/// [`ReissueRequest::renew`]) and the methods below.
///
/// ```
/// use pki_core::ReissueRequest;
/// let req = ReissueRequest::new()
///     .add_ip("10.0.12.157".parse().unwrap())
///     .add_dns("etcd-3.example.com")
///     .days(365);
/// assert_eq!(req.add_dns, ["etcd-3.example.com"]);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReissueRequest {
    /// IP SANs to add (already present ones are left as they are).
    pub add_ips: Vec<IpAddr>,
    /// DNS SANs to add.
    pub add_dns: Vec<String>,
    /// IP SANs to remove (each must be present).
    pub remove_ips: Vec<IpAddr>,
    /// DNS SANs to remove (each must be present, compared case-insensitively).
    pub remove_dns: Vec<String>,
    /// Generate a new key of the same algorithm instead of keeping the old public key.
    pub new_key: bool,
    /// Validity in days; `None` keeps the old certificate's lifetime.
    pub days: Option<u32>,
    /// The instant the new validity starts from (before backdating).
    pub at: OffsetDateTime,
    /// The CA that issued the certificate being reissued, when it is not the CA that signs the
    /// new one: a CA rotation moves each leaf from the old CA to the new (and a rollback back).
    pub issued_by: Option<Certificate>,
}

impl ReissueRequest {
    /// A request that changes nothing but validity (from now) and serial; add changes with the
    /// methods below.
    pub fn new() -> ReissueRequest {
        ReissueRequest::renew(OffsetDateTime::now_utc())
    }

    /// A request that changes nothing but validity (from `at`) and serial: a renewal.
    pub fn renew(at: OffsetDateTime) -> ReissueRequest {
        ReissueRequest {
            add_ips: Vec::new(),
            add_dns: Vec::new(),
            remove_ips: Vec::new(),
            remove_dns: Vec::new(),
            new_key: false,
            days: None,
            at,
            issued_by: None,
        }
    }

    /// Adds an IP SAN.
    pub fn add_ip(mut self, ip: IpAddr) -> ReissueRequest {
        self.add_ips.push(ip);
        self
    }

    /// Adds a DNS SAN (checked when the request is planned).
    pub fn add_dns(mut self, name: impl Into<String>) -> ReissueRequest {
        self.add_dns.push(name.into());
        self
    }

    /// Removes an IP SAN, which must be present.
    pub fn remove_ip(mut self, ip: IpAddr) -> ReissueRequest {
        self.remove_ips.push(ip);
        self
    }

    /// Removes a DNS SAN, which must be present (compared case-insensitively).
    pub fn remove_dns(mut self, name: impl Into<String>) -> ReissueRequest {
        self.remove_dns.push(name.into());
        self
    }

    /// Generates a new key of the same algorithm instead of keeping the old public key.
    pub fn new_key(mut self) -> ReissueRequest {
        self.new_key = true;
        self
    }

    /// Validity in days instead of the old certificate's lifetime (never past the CA's end).
    pub fn days(mut self, days: u32) -> ReissueRequest {
        self.days = Some(days);
        self
    }

    /// The instant the new validity starts from (before backdating), instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> ReissueRequest {
        self.at = at;
        self
    }

    /// Moves the certificate from `previous` (the CA that issued it) to the CA that signs the
    /// new one; without this the signing CA must be the issuer.
    pub fn issued_by(mut self, previous: Certificate) -> ReissueRequest {
        self.issued_by = Some(previous);
        self
    }
}

impl Default for ReissueRequest {
    /// [`ReissueRequest::new`].
    fn default() -> ReissueRequest {
        ReissueRequest::new()
    }
}

/// What a reissue would change; shown before anything is signed or written.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The certificate's subject (unchanged).
    pub subject: String,
    /// The signing CA's subject.
    pub ca: String,
    /// SANs before, `IP:`/`DNS:` prefixed, in certificate order.
    pub sans_before: Vec<String>,
    /// SANs after.
    pub sans_after: Vec<String>,
    /// SANs added.
    pub added: Vec<String>,
    /// SANs removed.
    pub removed: Vec<String>,
    /// Requested SANs that were already present (nothing to do for them).
    pub already_present: Vec<String>,
    /// The old validity end (RFC 3339 in JSON, as every time here).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub old_not_after: OffsetDateTime,
    /// The new validity start (backdated, see [`BACKDATE`]).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_before: OffsetDateTime,
    /// The new validity end.
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whether the end was cut to the CA's expiry.
    pub clamped_to_ca: bool,
    /// Whether the key is kept or replaced, and its algorithm.
    pub key: KeyChange,
}

/// The key of a reissued certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum KeyChange {
    /// The old public key is kept.
    Kept {
        /// Its algorithm.
        algorithm: String,
    },
    /// A new key of the same algorithm is generated.
    New {
        /// Its algorithm.
        algorithm: String,
    },
}

/// A reissued certificate, verified, not yet written.
#[derive(Debug)]
#[non_exhaustive]
pub struct Reissued {
    /// The new certificate.
    pub certificate: Certificate,
    /// The new private key, when one was asked for.
    pub new_key: Option<PrivateKey>,
    /// What changed.
    pub plan: Plan,
}

/// The work out of a request, shared by [`plan`] and [`reissue`].
struct Prepared {
    plan: Plan,
    san_value: Option<Vec<u8>>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    expected_hosts: Vec<Host>,
}

/// Says what a reissue would change, after checking that it can be done: `old` must be a leaf
/// issued by `ca`, removed SANs must exist, and at least one SAN must remain.
pub fn plan(old: &Certificate, ca: &CertificateAuthority, req: &ReissueRequest) -> Result<Plan> {
    Ok(prepare(old, ca, req)?.plan)
}

fn prepare(old: &Certificate, ca: &CertificateAuthority, req: &ReissueRequest) -> Result<Prepared> {
    let invalid = |problem: RequestProblem| Error::InvalidRequest {
        path: None,
        problem,
    };
    if old.is_ca() {
        return Err(invalid(RequestProblem::IsCa {
            subject: old.subject().to_string(),
        }));
    }
    let issuer = req.issued_by.as_ref().unwrap_or(ca.certificate());
    let pool: CertPool = std::iter::once(issuer.clone()).collect();
    if let Err(e) = find_issuer(old, &pool) {
        return Err(Error::NotIssuedByCa {
            path: None,
            ca: issuer.subject().to_string(),
            reason: e.to_string(),
        });
    }
    for dns in &req.add_dns {
        validate_dns(dns).map_err(|problem| {
            invalid(RequestProblem::InvalidDnsName {
                name: dns.clone(),
                problem,
            })
        })?;
    }

    let edited = san::edit(
        old,
        &req.add_ips,
        &req.add_dns,
        &req.remove_ips,
        &req.remove_dns,
    )?;

    // Validity: the old lifetime (or the given days) from now, backdated, within the CA's.
    let (not_before, not_after, clamped_to_ca) = validity(old, req.days, req.at, ca)?;
    let algorithm = old.key_algorithm().to_string();
    let plan = Plan {
        subject: old.subject().to_string(),
        ca: ca.certificate().subject().to_string(),
        sans_before: old.sans().to_strings(),
        sans_after: edited.after,
        added: edited.added,
        removed: edited.removed,
        already_present: edited.already_present,
        old_not_after: old.not_after(),
        not_before,
        not_after,
        clamped_to_ca,
        key: if req.new_key {
            KeyChange::New { algorithm }
        } else {
            KeyChange::Kept { algorithm }
        },
    };
    Ok(Prepared {
        plan,
        san_value: edited.value,
        not_before,
        not_after,
        expected_hosts: edited.expected_hosts,
    })
}

/// The validity of a certificate made from `old`: `days`, or `old`'s lifetime, from `at`
/// (backdated by [`BACKDATE`]), never past the CA's end: `(not_before, not_after, clamped)`.
pub(crate) fn validity(
    old: &Certificate,
    days: Option<u32>,
    at: OffsetDateTime,
    ca: &CertificateAuthority,
) -> Result<(OffsetDateTime, OffsetDateTime, bool)> {
    let invalid = |problem: RequestProblem| Error::InvalidRequest {
        path: None,
        problem,
    };
    let lifetime = match days {
        Some(0) => return Err(invalid(RequestProblem::ZeroDays)),
        Some(days) => Duration::days(i64::from(days)),
        None => old.not_after() - old.not_before(),
    };
    if lifetime <= BACKDATE {
        return Err(invalid(RequestProblem::LifetimeCannotBeKept { lifetime }));
    }
    let not_before = at.checked_sub(BACKDATE).unwrap_or(at);
    let ca_end = ca.certificate().not_after();
    // A lifetime that runs past the end of time runs past the CA's end too.
    let wanted = at.checked_add(lifetime - BACKDATE);
    let clamped_to_ca = wanted.is_none_or(|t| t > ca_end);
    let not_after = if clamped_to_ca {
        ca_end
    } else {
        wanted.unwrap_or(ca_end)
    };
    if not_after <= at {
        return Err(invalid(RequestProblem::CaExpiresTooSoon {
            ca_not_after: ca_end,
        }));
    }
    Ok((not_before, not_after, clamped_to_ca))
}

/// What a certificate signed after a template gets anew; everything else is the template's.
pub(crate) struct Fresh<'a> {
    /// The subject (DER Name).
    pub(crate) subject: &'a [u8],
    /// The subjectAltName value (DER GeneralNames); `None` drops the extension.
    pub(crate) san_value: Option<&'a [u8]>,
    /// A new key's SubjectPublicKeyInfo; `None` keeps the template's.
    pub(crate) new_spki: Option<&'a [u8]>,
    /// Validity start.
    pub(crate) not_before: OffsetDateTime,
    /// Validity end.
    pub(crate) not_after: OffsetDateTime,
}

/// Signs a certificate from `ca` that is `template` but for what `fresh` gives, a new random
/// serial and the CA's authority key identifier; unverified.
pub(crate) fn sign_after(
    template: &Certificate,
    ca: &CertificateAuthority,
    fresh: &Fresh<'_>,
) -> Result<Certificate> {
    let extensions = rebuild_extensions(template, ca, fresh.san_value, fresh.new_spki)?;
    let serial = random_serial()?;
    let tbs_der = tbs::encode_tbs(&tbs::Tbs {
        serial: &serial,
        signature_algorithm: ca.algorithm().alg_id_der,
        issuer: ca.certificate().raw_subject(),
        not_before: fresh.not_before,
        not_after: fresh.not_after,
        subject: fresh.subject,
        spki: fresh.new_spki.unwrap_or(template.spki_der()),
        extensions: &extensions,
    })
    .map_err(|reason| Error::Signing { reason })?;
    let signature = ca.sign(&tbs_der)?;
    let der = tbs::encode_certificate(&tbs_der, ca.algorithm().alg_id_der, &signature);
    Certificate::from_der(der).map_err(|e| Error::ReissueRejected {
        path: None,
        reason: format!("the result does not parse: {e}"),
    })
}

/// Reissues `old` from `ca` as asked, and verifies the result (see the module docs). `old_key`,
/// when given, must be `old`'s key, and is checked against the result when the key is kept.
pub fn reissue(
    old: &Certificate,
    old_key: Option<&PrivateKey>,
    ca: &CertificateAuthority,
    req: &ReissueRequest,
) -> Result<Reissued> {
    if let Some(key) = old_key {
        if !key.matches(old) {
            return Err(Error::InvalidRequest {
                path: None,
                problem: RequestProblem::KeyMismatch,
            });
        }
    }
    let prepared = prepare(old, ca, req)?;
    let new_key = if req.new_key {
        Some(PrivateKey::generate(old.key_algorithm())?)
    } else {
        None
    };
    let spki = match &new_key {
        Some(key) => key_spki(key)?,
        None => old.spki_der().to_vec(),
    };

    let certificate = sign_after(
        old,
        ca,
        &Fresh {
            subject: old.raw_subject(),
            san_value: prepared.san_value.as_deref(),
            new_spki: new_key.is_some().then_some(spki.as_slice()),
            not_before: prepared.not_before,
            not_after: prepared.not_after,
        },
    )?;
    let rejected = |reason: String| Error::ReissueRejected { path: None, reason };

    // Verify before anyone writes it.
    let roots: CertPool = std::iter::once(ca.certificate().clone()).collect();
    let none = CertPool::new();
    verify(
        &certificate,
        &none,
        &roots,
        &VerifyOptions::new().at(req.at),
    )
    .map_err(|e| rejected(format!("it does not chain to the CA: {e}")))?;
    for host in &prepared.expected_hosts {
        if let crate::coverage::Coverage::NotCovered(nc) = covers(&certificate, host) {
            return Err(rejected(format!("it does not cover {host}: {nc}")));
        }
    }
    if certificate.raw_subject() != old.raw_subject() {
        return Err(rejected("its subject differs from the old one".into()));
    }
    if certificate.ext_key_usage() != old.ext_key_usage()
        || certificate.key_usage_bits() != old.key_usage_bits()
    {
        return Err(rejected("its key usages differ from the old ones".into()));
    }
    match (&new_key, old_key) {
        (Some(key), _) if !key.matches(&certificate) => {
            return Err(rejected("it does not match the new key".into()))
        }
        (None, Some(key)) if !key.matches(&certificate) => {
            return Err(rejected("it does not match the key".into()))
        }
        (None, _) if certificate.spki_der() != old.spki_der() => {
            return Err(rejected("its public key changed".into()))
        }
        _ => {}
    }
    Ok(Reissued {
        certificate,
        new_key,
        plan: prepared.plan,
    })
}

/// The old extensions with SAN, AKI and (for a new key) SKI replaced in place; a SAN extension
/// is added at the end when the old certificate had none.
fn rebuild_extensions(
    old: &Certificate,
    ca: &CertificateAuthority,
    san_value: Option<&[u8]>,
    new_spki: Option<&[u8]>,
) -> Result<Vec<Extension>> {
    use x509_parser::prelude::FromDer;
    let (_, x509) =
        x509_parser::certificate::X509Certificate::from_der(old.der()).map_err(|e| {
            Error::InvalidRequest {
                path: None,
                problem: RequestProblem::UnparsableCertificate {
                    reason: e.to_string(),
                },
            }
        })?;
    let new_ski = match new_spki {
        Some(spki) => {
            let (_, info) =
                x509_parser::x509::SubjectPublicKeyInfo::from_der(spki).map_err(|e| {
                    Error::Signing {
                        reason: format!("new key's SubjectPublicKeyInfo: {e}"),
                    }
                })?;
            Some(sha1_key_id(&info.subject_public_key.data))
        }
        None => None,
    };
    let mut out = Vec::new();
    let mut wrote_san = false;
    for ext in x509.extensions() {
        let oid: Vec<u64> =
            ext.oid
                .iter()
                .map(Iterator::collect)
                .ok_or_else(|| Error::InvalidRequest {
                    path: None,
                    problem: RequestProblem::ExtensionOidTooLarge {
                        oid: ext.oid.to_id_string(),
                    },
                })?;
        let value = if oid == OID_SAN {
            wrote_san = true;
            match san_value {
                Some(v) => v.to_vec(),
                None => continue,
            }
        } else if oid == OID_AKI {
            tbs::authority_key_identifier(&ca.key_identifier())
        } else if oid == OID_SKI && new_ski.is_some() {
            tbs::subject_key_identifier(new_ski.as_deref().unwrap_or_default())
        } else {
            ext.value.to_vec()
        };
        out.push(Extension {
            oid,
            critical: ext.critical,
            value,
        });
    }
    if let (false, Some(v)) = (wrote_san, san_value) {
        out.push(Extension {
            oid: OID_SAN.to_vec(),
            // RFC 5280 4.2.1.6: critical when the subject is empty.
            critical: old.subject().is_empty(),
            value: v.to_vec(),
        });
    }
    Ok(out)
}

/// A positive random 128-bit serial, as Go's `rand.Int(2^128)` and cfssl produce.
fn random_serial() -> Result<Vec<u8>> {
    use aws_lc_rs::rand::SecureRandom;
    let mut serial = vec![0u8; 16];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| Error::Signing {
            reason: "the system random number generator failed".into(),
        })?;
    serial[0] &= 0x7f;
    if serial[0] == 0 {
        serial[0] = 0x01;
    }
    Ok(serial)
}

/// The SubjectPublicKeyInfo DER of a private key's public half.
pub(crate) fn key_spki(key: &PrivateKey) -> Result<Vec<u8>> {
    use rcgen::PublicKeyData;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8_der());
    let alg = crate::ca::SigningAlgorithm::for_key(key.algorithm()).ok_or_else(|| {
        Error::UnsupportedKey {
            path: None,
            algorithm: key.algorithm().to_string(),
        }
    })?;
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, alg.rcgen).map_err(|e| {
        Error::Signing {
            reason: format!("cannot load the new key: {e}"),
        }
    })?;
    Ok(pair.subject_public_key_info())
}

/// The PEM text of a reissued key in the format of the key it replaces (or the conventional one).
pub fn key_pem(key: &PrivateKey, like: Option<KeyFormat>) -> Result<Zeroizing<String>> {
    let format = like
        .filter(|f| {
            matches!(
                (f, key.algorithm()),
                (KeyFormat::Pkcs1, KeyAlgorithm::Rsa { .. })
                    | (KeyFormat::Sec1, KeyAlgorithm::Ecdsa { .. })
                    | (KeyFormat::Pkcs8, _)
            )
        })
        .unwrap_or_else(|| PrivateKey::conventional_format(key.algorithm()));
    key.to_pem(format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext_key_usage::ExtKeyUsage;
    use crate::test_support::{cert, fixture, key};

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn cfssl_ca() -> CertificateAuthority {
        CertificateAuthority::load(fixture("cfssl/ca.pem"), fixture("cfssl/ca-key.pem"), now())
            .unwrap()
    }

    fn add_ip(ip: &str) -> ReissueRequest {
        ReissueRequest {
            add_ips: vec![ip.parse().unwrap()],
            ..ReissueRequest::renew(now())
        }
    }

    #[test]
    fn the_seed_fix_adds_the_ip_and_keeps_everything_else() {
        let old = cert("cfssl/members.pem");
        let old_key = key("cfssl/members-key.pem");
        let ca = cfssl_ca();
        let out = reissue(&old, Some(&old_key), &ca, &add_ip("127.0.0.14")).unwrap();
        let new = &out.certificate;
        assert!(covers(new, &Host::parse("127.0.0.14").unwrap()).is_covered());
        for ip in ["127.0.0.1", "127.0.0.11", "127.0.0.12", "127.0.0.13"] {
            assert!(covers(new, &Host::parse(ip).unwrap()).is_covered(), "{ip}");
        }
        assert_eq!(new.raw_subject(), old.raw_subject());
        assert_eq!(new.spki_der(), old.spki_der());
        assert_eq!(
            new.ext_key_usage(),
            Some(&[ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth][..])
        );
        assert_eq!(new.key_usage_bits(), old.key_usage_bits());
        assert_eq!(new.basic_constraints(), old.basic_constraints());
        assert_eq!(new.subject_key_id(), old.subject_key_id());
        assert_eq!(new.authority_key_id(), ca.certificate().subject_key_id());
        assert_ne!(new.serial_hex(), old.serial_hex());
        assert!(old_key.matches(new));
        assert_eq!(out.plan.added, ["IP:127.0.0.14"]);
        assert_eq!(out.plan.sans_after.last().unwrap(), "IP:127.0.0.14");
        // The old lifetime (cfssl's 876000h) from now would outlive the CA, made at the same
        // time with the same lifetime, so it is cut to the CA's expiry.
        assert!(out.plan.clamped_to_ca);
        assert_eq!(new.not_after(), ca.certificate().not_after());
        assert!(new.not_before() <= now() - BACKDATE);
    }

    #[test]
    fn lifetimes_are_clamped_to_the_ca() {
        let ca = cfssl_ca();
        let req = ReissueRequest {
            days: Some(365 * 200),
            ..ReissueRequest::renew(now())
        };
        let out = reissue(&cert("cfssl/server.pem"), None, &ca, &req).unwrap();
        assert!(out.plan.clamped_to_ca);
        assert_eq!(out.certificate.not_after(), ca.certificate().not_after());
        let req = ReissueRequest {
            days: Some(30),
            ..ReissueRequest::renew(now())
        };
        let out = reissue(&cert("cfssl/server.pem"), None, &ca, &req).unwrap();
        assert!(!out.plan.clamped_to_ca);
        assert_eq!(
            out.certificate.not_after() - out.certificate.not_before(),
            Duration::days(30)
        );
        // Without --days the old lifetime is kept when the CA allows it.
        let short = reissue(&out.certificate, None, &ca, &ReissueRequest::renew(now())).unwrap();
        assert_eq!(
            short.certificate.not_after() - short.certificate.not_before(),
            Duration::days(30)
        );
    }

    #[test]
    fn every_ca_key_kind_signs_verifiable_certificates() {
        for (leaf, ca_cert, ca_key, leaf_key) in [
            (
                "openssl/leaf-rsa-pkcs8.crt",
                "openssl/rsa-ca.crt",
                "openssl/rsa-ca.key",
                "openssl/leaf-rsa-pkcs8.key",
            ),
            (
                "openssl/leaf-ec-p384.crt",
                "openssl/ec-ca.crt",
                "openssl/ec-ca.key",
                "openssl/leaf-ec-p384.key",
            ),
            (
                "openssl/leaf-ed25519.crt",
                "openssl/ed25519-ca.crt",
                "openssl/ed25519-ca.key",
                "openssl/leaf-ed25519.key",
            ),
            (
                "kubeadm/peer.crt",
                "kubeadm/ca.crt",
                "kubeadm/ca.key",
                "kubeadm/peer.key",
            ),
            (
                "openssl/leaf-via-intermediate.crt",
                "openssl/intermediate-ca.crt",
                "openssl/intermediate-ca.key",
                "openssl/leaf-via-intermediate.key",
            ),
        ] {
            let ca = CertificateAuthority::load(fixture(ca_cert), fixture(ca_key), now()).unwrap();
            let out = reissue(
                &cert(leaf),
                Some(&key(leaf_key)),
                &ca,
                &add_ip("127.0.0.99"),
            )
            .unwrap_or_else(|e| panic!("{leaf}: {e}"));
            assert!(covers(&out.certificate, &Host::parse("127.0.0.99").unwrap()).is_covered());
        }
    }

    #[test]
    fn a_new_key_has_the_same_algorithm_and_is_written_in_the_old_format() {
        let ca = cfssl_ca();
        let req = ReissueRequest {
            new_key: true,
            ..add_ip("127.0.0.14")
        };
        let old = cert("cfssl/members.pem");
        let out = reissue(&old, None, &ca, &req).unwrap();
        let new_key = out.new_key.as_ref().unwrap();
        assert_eq!(new_key.algorithm(), old.key_algorithm());
        assert!(new_key.matches(&out.certificate));
        assert_ne!(out.certificate.spki_der(), old.spki_der());
        assert_ne!(out.certificate.subject_key_id(), old.subject_key_id());
        let pem = key_pem(new_key, Some(KeyFormat::Pkcs1)).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let back = crate::load::private_key_from_bytes(pem.as_bytes()).unwrap();
        assert!(back.matches(&out.certificate));

        let ec_ca = CertificateAuthority::load(
            fixture("openssl/ec-ca.crt"),
            fixture("openssl/ec-ca.key"),
            now(),
        )
        .unwrap();
        let out = reissue(
            &cert("openssl/leaf-ec-p256.crt"),
            None,
            &ec_ca,
            &ReissueRequest {
                new_key: true,
                ..ReissueRequest::renew(now())
            },
        )
        .unwrap();
        let pem = key_pem(out.new_key.as_ref().unwrap(), Some(KeyFormat::Sec1)).unwrap();
        assert!(pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        let back = crate::load::private_key_from_bytes(pem.as_bytes()).unwrap();
        assert_eq!(back.format(), KeyFormat::Sec1);
        assert!(back.matches(&out.certificate));
    }

    #[test]
    fn removals_and_additions_are_planned_precisely() {
        let ca = cfssl_ca();
        let req = ReissueRequest {
            add_ips: vec!["127.0.0.12".parse().unwrap(), "127.0.0.15".parse().unwrap()],
            add_dns: vec!["etcd-4.example.com".into()],
            remove_ips: vec!["127.0.0.13".parse().unwrap()],
            ..ReissueRequest::renew(now())
        };
        let p = plan(&cert("cfssl/members.pem"), &ca, &req).unwrap();
        assert_eq!(p.added, ["IP:127.0.0.15", "DNS:etcd-4.example.com"]);
        assert_eq!(p.removed, ["IP:127.0.0.13"]);
        assert_eq!(p.already_present, ["IP:127.0.0.12"]);
        assert_eq!(
            p.sans_after,
            [
                "IP:127.0.0.1",
                "IP:127.0.0.11",
                "IP:127.0.0.12",
                "IP:127.0.0.15",
                "DNS:etcd-4.example.com"
            ]
        );
        let out = reissue(&cert("cfssl/members.pem"), None, &ca, &req).unwrap();
        assert!(!covers(&out.certificate, &Host::parse("127.0.0.13").unwrap()).is_covered());
        assert!(covers(
            &out.certificate,
            &Host::parse("ETCD-4.example.com").unwrap()
        )
        .is_covered());
    }

    #[test]
    fn bad_requests_are_refused_before_signing() {
        let ca = cfssl_ca();
        let old = cert("cfssl/members.pem");
        let bad = |req: ReissueRequest| plan(&old, &ca, &req).unwrap_err();
        let err = bad(ReissueRequest {
            remove_ips: vec!["10.9.9.9".parse().unwrap()],
            ..ReissueRequest::renew(now())
        });
        assert!(err.to_string().contains("no such IP SAN"), "{err}");
        let err = bad(ReissueRequest {
            add_dns: vec!["10.0.12.157".into()],
            ..ReissueRequest::renew(now())
        });
        assert!(
            matches!(
                &err,
                Error::InvalidRequest {
                    problem: RequestProblem::InvalidDnsName {
                        problem: crate::dns_name::DnsNameProblem::IsAnIp,
                        ..
                    },
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("this is an IP address"), "{err}");
        assert!(!err.to_string().contains("--"), "no flag in {err}");
        let err = bad(ReissueRequest {
            add_dns: vec![format!("{}.example.test", "a".repeat(64))],
            ..ReissueRequest::renew(now())
        });
        assert!(err.to_string().contains("at most 63"), "{err}");
        let err = bad(ReissueRequest {
            add_dns: vec!["bad name".into()],
            ..ReissueRequest::renew(now())
        });
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
        let all: Vec<IpAddr> = ["127.0.0.1", "127.0.0.11", "127.0.0.12", "127.0.0.13"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let err = bad(ReissueRequest {
            remove_ips: all,
            ..ReissueRequest::renew(now())
        });
        assert!(err.to_string().contains("covers no host"), "{err}");
        let err = bad(ReissueRequest {
            days: Some(0),
            ..ReissueRequest::renew(now())
        });
        assert!(
            matches!(
                err,
                Error::InvalidRequest {
                    problem: RequestProblem::ZeroDays,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("at least 1"), "{err}");

        let err = plan(
            &cert("cfssl/foreign-members.pem"),
            &ca,
            &add_ip("127.0.0.14"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NotIssuedByCa { .. }), "{err}");
        let err = plan(
            &cert("cfssl/impostor-members.pem"),
            &ca,
            &add_ip("127.0.0.14"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NotIssuedByCa { .. }), "{err}");
        let err = plan(&cert("cfssl/ca.pem"), &ca, &add_ip("127.0.0.14")).unwrap_err();
        assert!(err.to_string().contains("is a CA certificate"), "{err}");
        let err = reissue(
            &old,
            Some(&key("cfssl/server-key.pem")),
            &ca,
            &add_ip("127.0.0.14"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not belong"), "{err}");
    }

    #[test]
    fn a_certificate_without_sans_gets_a_san_extension() {
        let ec_ca = CertificateAuthority::load(
            fixture("openssl/ec-ca.crt"),
            fixture("openssl/ec-ca.key"),
            now(),
        )
        .unwrap();
        let old = cert("openssl/cn-only.crt");
        let out = reissue(&old, None, &ec_ca, &add_ip("127.0.0.14")).unwrap();
        assert!(out.certificate.has_san_extension());
        assert!(covers(&out.certificate, &Host::parse("127.0.0.14").unwrap()).is_covered());
    }

    #[test]
    fn a_sha1_signed_leaf_is_reissued_with_sha256() {
        let ca = CertificateAuthority::load(
            fixture("openssl/sha1-ca.crt"),
            fixture("openssl/sha1-ca.key"),
            now(),
        )
        .unwrap();
        let old = cert("openssl/sha1-leaf.crt");
        assert_eq!(
            old.signature_algorithm(),
            &crate::signature_algorithm::SignatureAlgorithm::Sha1Rsa
        );
        let out = reissue(
            &old,
            Some(&key("openssl/sha1-leaf.key")),
            &ca,
            &ReissueRequest::renew(now()),
        )
        .unwrap();
        assert_eq!(
            out.certificate.signature_algorithm(),
            &crate::signature_algorithm::SignatureAlgorithm::Sha256Rsa
        );
    }

    #[test]
    fn absurd_lifetimes_do_not_overflow() {
        let ca = CertificateAuthority::load(
            fixture("openssl/rsa-ca.crt"),
            fixture("openssl/rsa-ca.key"),
            now(),
        )
        .unwrap();
        let old = cert("openssl/longlife.crt");
        let p = plan(&old, &ca, &ReissueRequest::renew(now())).unwrap();
        assert!(p.clamped_to_ca, "1950-9999 is longer than the CA lives");
        let p = plan(
            &old,
            &ca,
            &ReissueRequest {
                days: Some(u32::MAX),
                ..ReissueRequest::renew(now())
            },
        )
        .unwrap();
        assert!(p.clamped_to_ca);
    }

    #[test]
    fn uri_and_email_sans_are_kept() {
        let ec_ca = CertificateAuthority::load(
            fixture("openssl/ec-ca.crt"),
            fixture("openssl/ec-ca.key"),
            now(),
        )
        .unwrap();
        let old = cert("openssl/uri-email.crt");
        let out = reissue(&old, None, &ec_ca, &add_ip("127.0.0.14")).unwrap();
        assert_eq!(out.certificate.sans().uri, old.sans().uri);
        assert_eq!(out.certificate.sans().email, old.sans().email);
    }
}

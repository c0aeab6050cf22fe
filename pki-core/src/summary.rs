//! What `inspect` shows of a certificate, as text and as JSON: [`Certificate::summary`].
//!
//! Everything in a [`Summary`] is text or plain values (names as printed, identifiers and
//! fingerprints in colon hex) or times (RFC 3339 in JSON), read from the certificate's public
//! accessors.

use serde::Serialize;
use time::OffsetDateTime;

use crate::cert::{hex, BasicConstraints, Certificate, SubjectAltNames};
use crate::key::KeyAlgorithm;

impl Certificate {
    /// A serialisable summary (what `inspect -w json` prints).
    pub fn summary(&self) -> Summary {
        Summary {
            version: self.version(),
            subject: self.subject().to_string(),
            common_name: self.common_name().map(str::to_string),
            issuer: self.issuer().to_string(),
            serial: self.serial_hex(),
            not_before: self.not_before(),
            not_after: self.not_after(),
            sans: self.sans().clone(),
            public_key: PublicKeySummary {
                algorithm: self.key_algorithm().name(),
                bits: self.key_algorithm().bits(),
                curve: match self.key_algorithm() {
                    KeyAlgorithm::Ecdsa { curve } => Some(curve.to_string()),
                    _ => None,
                },
            },
            signature_algorithm: self.signature_algorithm().to_string(),
            key_usage: self.key_usage().iter().map(|s| s.to_string()).collect(),
            extended_key_usage: self
                .ext_key_usage()
                .map(|ekus| ekus.iter().map(|e| e.to_string()).collect()),
            basic_constraints: self.basic_constraints(),
            subject_key_id: self.subject_key_id().map(|k| hex(k, ":")),
            authority_key_id: self.authority_key_id().map(|k| hex(k, ":")),
            fingerprint_sha256: hex(&self.fingerprint_sha256(), ":").to_uppercase(),
            self_issued: self.is_self_issued(),
        }
    }
}

/// What `inspect` shows of a certificate; also its JSON form.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// X.509 version (1 or 3).
    pub version: u32,
    /// Subject DN.
    pub subject: String,
    /// Subject common name.
    pub common_name: Option<String>,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity (RFC 3339 UTC in JSON).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity (RFC 3339 UTC in JSON).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Subject alternative names.
    pub sans: SubjectAltNames,
    /// Public key.
    pub public_key: PublicKeySummary,
    /// Signature algorithm, Go's name.
    pub signature_algorithm: String,
    /// Key usage names.
    pub key_usage: Vec<String>,
    /// Extended key usage names; `null` when the extension is absent (any usage).
    pub extended_key_usage: Option<Vec<String>>,
    /// Basic constraints; `null` when absent.
    pub basic_constraints: Option<BasicConstraints>,
    /// Subject key identifier, colon hex.
    pub subject_key_id: Option<String>,
    /// Authority key identifier, colon hex.
    pub authority_key_id: Option<String>,
    /// SHA-256 fingerprint, uppercase colon hex as openssl prints it.
    pub fingerprint_sha256: String,
    /// Whether subject and issuer are the same name.
    pub self_issued: bool,
}

/// The public key part of a [`Summary`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PublicKeySummary {
    /// `RSA`, `ECDSA`, `Ed25519` or an OID.
    pub algorithm: String,
    /// Size in bits.
    pub bits: Option<usize>,
    /// The curve of an ECDSA key.
    pub curve: Option<String>,
}

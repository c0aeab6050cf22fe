//! Private keys: PKCS#1 (`RSA PRIVATE KEY`, what cfssl and kubeadm write), PKCS#8 (`PRIVATE
//! KEY`, what openssl genpkey writes) and SEC1 (`EC PRIVATE KEY`); RSA, ECDSA P-256/P-384 and
//! Ed25519.
//!
//! A key is decoded once, its public half is kept for matching against certificates the way Go's
//! `tls.X509KeyPair` does (RSA modulus and exponent, EC point, Ed25519 public key), and its
//! secret is kept only as normalised PKCS#8 DER in zeroed-on-drop memory, for signing. The key
//! is checked for internal consistency with aws-lc where it can load it, so that a key whose
//! public half matches but whose private half is damaged is caught before etcd trips on it. The
//! `Debug` output never shows key material.

use std::fmt;

use pkcs8::der::asn1::AnyRef;
use pkcs8::der::{Decode, Encode};
use pkcs8::{AlgorithmIdentifierRef, ObjectIdentifier, PrivateKeyInfo};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// How a private key is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum KeyFormat {
    /// PKCS#1 `RSAPrivateKey` (`-----BEGIN RSA PRIVATE KEY-----`).
    #[serde(rename = "pkcs1")]
    Pkcs1,
    /// PKCS#8 `PrivateKeyInfo` (`-----BEGIN PRIVATE KEY-----`).
    #[serde(rename = "pkcs8")]
    Pkcs8,
    /// SEC1 `ECPrivateKey` (`-----BEGIN EC PRIVATE KEY-----`).
    #[serde(rename = "sec1")]
    Sec1,
}

impl KeyFormat {
    /// Guesses the format of an unlabelled DER key.
    pub(crate) fn sniff_der(der: &[u8]) -> Option<KeyFormat> {
        if PrivateKeyInfo::from_der(der).is_ok() {
            Some(KeyFormat::Pkcs8)
        } else if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
            Some(KeyFormat::Pkcs1)
        } else if sec1::EcPrivateKey::from_der(der).is_ok() {
            Some(KeyFormat::Sec1)
        } else {
            None
        }
    }

    /// Whether DER bytes have the shape of a PKCS#8 `EncryptedPrivateKeyInfo`:
    /// `SEQUENCE { SEQUENCE { OID, ... }, OCTET STRING }`.
    pub(crate) fn is_encrypted_pkcs8(der: &[u8]) -> bool {
        use x509_parser::der_parser::ber::BerObjectContent;
        use x509_parser::der_parser::der::parse_der_sequence;
        let Ok((rest, seq)) = parse_der_sequence(der) else {
            return false;
        };
        let Ok(items) = seq.as_sequence() else {
            return false;
        };
        rest.is_empty()
            && items.len() == 2
            && items[0]
                .as_sequence()
                .is_ok_and(|alg| alg.first().is_some_and(|o| o.as_oid().is_ok()))
            && matches!(items[1].content, BerObjectContent::OctetString(_))
    }

    /// The PEM label of this format.
    pub fn pem_label(self) -> &'static str {
        match self {
            KeyFormat::Pkcs1 => "RSA PRIVATE KEY",
            KeyFormat::Pkcs8 => "PRIVATE KEY",
            KeyFormat::Sec1 => "EC PRIVATE KEY",
        }
    }
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormat::Pkcs1 => "PKCS#1",
            KeyFormat::Pkcs8 => "PKCS#8",
            KeyFormat::Sec1 => "SEC1",
        })
    }
}

/// A named elliptic curve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Curve {
    /// NIST P-256 (prime256v1, secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
    /// Any other curve, by OID.
    Other(String),
}

impl Curve {
    pub(crate) fn from_oid_str(oid: &str) -> Curve {
        match oid {
            "1.2.840.10045.3.1.7" => Curve::P256,
            "1.3.132.0.34" => Curve::P384,
            "1.3.132.0.35" => Curve::P521,
            other => Curve::Other(other.to_string()),
        }
    }
}

impl Curve {
    fn oid(&self) -> Option<ObjectIdentifier> {
        match self {
            Curve::P256 => Some(ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7")),
            Curve::P384 => Some(ObjectIdentifier::new_unwrap("1.3.132.0.34")),
            Curve::P521 => Some(ObjectIdentifier::new_unwrap("1.3.132.0.35")),
            Curve::Other(_) => None,
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Curve::P256 => f.write_str("P-256"),
            Curve::P384 => f.write_str("P-384"),
            Curve::P521 => f.write_str("P-521"),
            Curve::Other(oid) => write!(f, "curve {oid}"),
        }
    }
}

/// The algorithm and size of a public or private key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA with a modulus of this many bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
    /// ECDSA on a named curve.
    Ecdsa {
        /// The curve.
        curve: Curve,
    },
    /// Ed25519.
    Ed25519,
    /// Anything else, by algorithm OID.
    Other {
        /// The algorithm OID.
        oid: String,
    },
}

impl KeyAlgorithm {
    /// The algorithm's name: `RSA`, `ECDSA`, `Ed25519` or the OID.
    pub fn name(&self) -> String {
        match self {
            KeyAlgorithm::Rsa { .. } => "RSA".into(),
            KeyAlgorithm::Ecdsa { .. } => "ECDSA".into(),
            KeyAlgorithm::Ed25519 => "Ed25519".into(),
            KeyAlgorithm::Other { oid } => oid.clone(),
        }
    }

    /// The key size in bits (RSA modulus, curve order size; 256 for Ed25519), if known.
    pub fn bits(&self) -> Option<usize> {
        match self {
            KeyAlgorithm::Rsa { bits } => Some(*bits),
            KeyAlgorithm::Ecdsa { curve: Curve::P256 } => Some(256),
            KeyAlgorithm::Ecdsa { curve: Curve::P384 } => Some(384),
            KeyAlgorithm::Ecdsa { curve: Curve::P521 } => Some(521),
            KeyAlgorithm::Ed25519 => Some(256),
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyAlgorithm::Ecdsa { curve } => write!(f, "ECDSA {curve}"),
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::Other { oid } => write!(f, "algorithm {oid}"),
        }
    }
}

/// The public half of a key, in the form Go compares when it pairs a key with a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PublicKeyData {
    /// RSA modulus and public exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An EC point as encoded in the certificate (uncompressed `04 || X || Y`).
    Ec { curve: Curve, point: Vec<u8> },
    /// The 32-byte Ed25519 public key.
    Ed25519(Vec<u8>),
    /// A key this tool does not understand; never equal to a private key's public half.
    Unsupported,
}

impl PublicKeyData {
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> PublicKeyData {
        PublicKeyData::Rsa {
            n: strip_leading_zeros(n).to_vec(),
            e: strip_leading_zeros(e).to_vec(),
        }
    }

    /// SHA-256 over the algorithm and every field, length-prefixed: equal exactly when the
    /// public halves are (short of a SHA-256 collision). A scan keeps this of each key file
    /// rather than the key, 32 bytes whatever the key's size.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut field = |bytes: &[u8]| {
            ctx.update(&(bytes.len() as u64).to_be_bytes());
            ctx.update(bytes);
        };
        match self {
            PublicKeyData::Rsa { n, e } => {
                field(b"rsa");
                field(n);
                field(e);
            }
            PublicKeyData::Ec { curve, point } => {
                field(b"ec");
                field(curve.to_string().as_bytes());
                field(point);
            }
            PublicKeyData::Ed25519(key) => {
                field(b"ed25519");
                field(key);
            }
            PublicKeyData::Unsupported => field(b"unsupported"),
        }
        let mut out = [0; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }
}

pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn bit_length(bytes: &[u8]) -> usize {
    let bytes = strip_leading_zeros(bytes);
    match bytes.first() {
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// A decoded private key.
pub struct PrivateKey {
    format: KeyFormat,
    algorithm: KeyAlgorithm,
    public: PublicKeyData,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("format", &self.format)
            .field("algorithm", &self.algorithm)
            .field("secret", &"[elided]")
            .finish()
    }
}

impl PrivateKey {
    /// Decodes a private key given its DER and format.
    pub fn from_der(format: KeyFormat, der: &[u8]) -> Result<PrivateKey> {
        match format {
            KeyFormat::Pkcs1 => Self::from_pkcs1(der),
            KeyFormat::Pkcs8 => Self::from_pkcs8(der),
            KeyFormat::Sec1 => Self::from_sec1(der, None),
        }
    }

    fn from_pkcs1(der: &[u8]) -> Result<PrivateKey> {
        let rsa = pkcs1::RsaPrivateKey::from_der(der)
            .map_err(|e| malformed(format!("not a valid PKCS#1 RSA key: {e}")))?;
        let n = rsa.modulus.as_bytes();
        let public = PublicKeyData::rsa(n, rsa.public_exponent.as_bytes());
        let algorithm = KeyAlgorithm::Rsa {
            bits: bit_length(n),
        };
        let info = PrivateKeyInfo::new(
            AlgorithmIdentifierRef {
                oid: OID_RSA,
                parameters: Some(AnyRef::NULL),
            },
            der,
        );
        let pkcs8 = encode_pkcs8(&info)?;
        // aws-lc loads RSA keys of 2048..=8192 bits and checks that their parts belong
        // together; smaller keys are accepted on their public half alone, as Go does.
        if (2048..=8192).contains(&algorithm.bits().unwrap_or(0)) {
            aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&pkcs8).map_err(inconsistent)?;
        }
        Ok(PrivateKey {
            format: KeyFormat::Pkcs1,
            algorithm,
            public,
            pkcs8,
        })
    }

    fn from_pkcs8(der: &[u8]) -> Result<PrivateKey> {
        let info = PrivateKeyInfo::from_der(der)
            .map_err(|e| malformed(format!("not a valid PKCS#8 key: {e}")))?;
        let oid = info.algorithm.oid;
        if oid == OID_RSA {
            let mut key = Self::from_pkcs1(info.private_key)?;
            key.format = KeyFormat::Pkcs8;
            return Ok(key);
        }
        if oid == OID_EC {
            let curve_oid = info
                .algorithm
                .parameters_oid()
                .map_err(|_| malformed("PKCS#8 EC key without a named curve".into()))?;
            let mut key = Self::from_sec1(info.private_key, Some((curve_oid, info.public_key)))?;
            key.format = KeyFormat::Pkcs8;
            key.pkcs8 = Zeroizing::new(der.to_vec());
            return Ok(key);
        }
        if oid == OID_ED25519 {
            // CurvePrivateKey ::= OCTET STRING (RFC 8410), inside the PKCS#8 OCTET STRING.
            let seed = pkcs8::der::asn1::OctetStringRef::from_der(info.private_key)
                .map_err(|e| malformed(format!("Ed25519 key is not an OCTET STRING: {e}")))?;
            let seed = seed.as_bytes();
            if seed.len() != 32 {
                return Err(malformed(format!(
                    "Ed25519 seed is {} bytes, not 32",
                    seed.len()
                )));
            }
            let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|e| malformed(format!("Ed25519 key rejected: {e}")))?;
            use aws_lc_rs::signature::KeyPair;
            let public = pair.public_key().as_ref().to_vec();
            if let Some(embedded) = info.public_key {
                if embedded != public.as_slice() {
                    return Err(malformed(
                        "the Ed25519 public key stored in the file does not belong to its seed"
                            .into(),
                    ));
                }
            }
            return Ok(PrivateKey {
                format: KeyFormat::Pkcs8,
                algorithm: KeyAlgorithm::Ed25519,
                public: PublicKeyData::Ed25519(public),
                pkcs8: Zeroizing::new(der.to_vec()),
            });
        }
        Err(Error::UnsupportedKey {
            path: None,
            algorithm: describe_oid(&oid),
        })
    }

    /// Decodes SEC1; `outer` carries the curve and public key of an enclosing PKCS#8 structure.
    fn from_sec1(
        der: &[u8],
        outer: Option<(ObjectIdentifier, Option<&[u8]>)>,
    ) -> Result<PrivateKey> {
        let ec = sec1::EcPrivateKey::from_der(der)
            .map_err(|e| malformed(format!("not a valid SEC1 EC key: {e}")))?;
        let inner_curve = ec.parameters.and_then(|p| p.named_curve());
        let curve_oid = match (outer.map(|o| o.0), inner_curve) {
            (Some(a), Some(b)) if a != b => {
                return Err(malformed(format!(
                    "the key names two different curves ({a} and {b})"
                )))
            }
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => return Err(malformed("EC key without a named curve".into())),
        };
        let curve = Curve::from_oid_str(&curve_oid.to_string());
        if !matches!(curve, Curve::P256 | Curve::P384 | Curve::P521) {
            return Err(Error::UnsupportedKey {
                path: None,
                algorithm: format!("ECDSA {curve}"),
            });
        }
        let alg = match curve {
            Curve::P256 => &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            _ => &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        };
        let embedded = ec.public_key.or(outer.and_then(|o| o.1));
        // Without its public point (openssl ec -no_public), the key still works for Go, which
        // computes the point from the private scalar: so does aws-lc here.
        let point: Vec<u8> = match embedded {
            Some(p) => p.to_vec(),
            None => {
                use aws_lc_rs::signature::KeyPair;
                let sec1_der = sec1::EcPrivateKey {
                    private_key: ec.private_key,
                    parameters: Some(sec1::EcParameters::NamedCurve(curve_oid)),
                    public_key: None,
                }
                .to_der()
                .map_err(|e| malformed(format!("cannot re-encode the EC key: {e}")))?;
                aws_lc_rs::signature::EcdsaKeyPair::from_private_key_der(alg, &sec1_der)
                    .map_err(inconsistent)?
                    .public_key()
                    .as_ref()
                    .to_vec()
            }
        };
        let public = PublicKeyData::Ec {
            curve: curve.clone(),
            point: point.clone(),
        };
        // Normalise to PKCS#8 with the curve in the AlgorithmIdentifier and the public point in
        // the SEC1 body, which is what aws-lc (and rcgen on top of it) loads for signing.
        let sec1_der = Zeroizing::new(
            sec1::EcPrivateKey {
                private_key: ec.private_key,
                parameters: Some(sec1::EcParameters::NamedCurve(curve_oid)),
                public_key: Some(&point),
            }
            .to_der()
            .map_err(|e| malformed(format!("cannot re-encode the EC key: {e}")))?,
        );
        let info = PrivateKeyInfo::new(
            AlgorithmIdentifierRef {
                oid: OID_EC,
                parameters: Some(AnyRef::from(&curve_oid)),
            },
            &sec1_der,
        );
        let pkcs8 = encode_pkcs8(&info)?;
        // Loading the key into aws-lc checks that the private scalar and the public point belong
        // together.
        aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(alg, &pkcs8).map_err(inconsistent)?;
        Ok(PrivateKey {
            format: KeyFormat::Sec1,
            algorithm: KeyAlgorithm::Ecdsa { curve },
            public,
            pkcs8,
        })
    }

    /// Whether [`PrivateKey::generate`] makes keys of this algorithm.
    pub fn can_generate(algorithm: &KeyAlgorithm) -> bool {
        matches!(
            algorithm,
            KeyAlgorithm::Rsa {
                bits: 2048 | 3072 | 4096
            } | KeyAlgorithm::Ecdsa {
                curve: Curve::P256 | Curve::P384 | Curve::P521
            } | KeyAlgorithm::Ed25519
        )
    }

    /// Generates a new key of an algorithm: RSA 2048, 3072 or 4096 bits, ECDSA P-256, P-384 or
    /// P-521, or Ed25519.
    pub fn generate(algorithm: &KeyAlgorithm) -> Result<PrivateKey> {
        let unsupported = || {
            Error::UnsupportedKey {
            path: None,
            algorithm: format!("cannot generate {algorithm} keys (RSA 2048/3072/4096, ECDSA P-256/P-384/P-521 or Ed25519)"),
        }
        };
        let pair = match algorithm {
            KeyAlgorithm::Rsa { bits } => {
                let size = match bits {
                    2048 => rcgen::RsaKeySize::_2048,
                    3072 => rcgen::RsaKeySize::_3072,
                    4096 => rcgen::RsaKeySize::_4096,
                    _ => return Err(unsupported()),
                };
                rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size)
            }
            KeyAlgorithm::Ecdsa { curve: Curve::P256 } => {
                rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            }
            KeyAlgorithm::Ecdsa { curve: Curve::P384 } => {
                rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
            }
            KeyAlgorithm::Ecdsa { curve: Curve::P521 } => {
                rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)
            }
            KeyAlgorithm::Ed25519 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519),
            _ => return Err(unsupported()),
        }
        .map_err(|e| Error::Signing {
            reason: format!("key generation failed: {e}"),
        })?;
        let der = Zeroizing::new(pair.serialize_der());
        PrivateKey::from_der(KeyFormat::Pkcs8, &der)
    }

    /// The format etcd's tooling writes for this algorithm: PKCS#1 for RSA and SEC1 for ECDSA
    /// (cfssl, kubeadm), PKCS#8 for Ed25519 (which has no other).
    pub fn conventional_format(algorithm: &KeyAlgorithm) -> KeyFormat {
        match algorithm {
            KeyAlgorithm::Rsa { .. } => KeyFormat::Pkcs1,
            KeyAlgorithm::Ecdsa { .. } => KeyFormat::Sec1,
            _ => KeyFormat::Pkcs8,
        }
    }

    /// The key as PEM in a format (PKCS#1 only for RSA, SEC1 only for ECDSA). Zeroed when dropped.
    pub fn to_pem(&self, format: KeyFormat) -> Result<Zeroizing<String>> {
        let der = self.to_der(format)?;
        Ok(Zeroizing::new(crate::pem::encode(format.pem_label(), &der)))
    }

    /// The key as DER in a format (PKCS#1 only for RSA, SEC1 only for ECDSA). Zeroed when dropped.
    pub fn to_der(&self, format: KeyFormat) -> Result<Zeroizing<Vec<u8>>> {
        let info = PrivateKeyInfo::from_der(&self.pkcs8)
            .map_err(|e| malformed(format!("cannot re-read the key as PKCS#8: {e}")))?;
        let der: Zeroizing<Vec<u8>> = match (format, &self.algorithm) {
            (KeyFormat::Pkcs8, _) => Zeroizing::new(self.pkcs8.to_vec()),
            (KeyFormat::Pkcs1, KeyAlgorithm::Rsa { .. }) => {
                Zeroizing::new(info.private_key.to_vec())
            }
            (KeyFormat::Sec1, KeyAlgorithm::Ecdsa { curve }) => {
                let inner = sec1::EcPrivateKey::from_der(info.private_key)
                    .map_err(|e| malformed(format!("not a valid SEC1 EC key: {e}")))?;
                let PublicKeyData::Ec { point, .. } = &self.public else {
                    return Err(malformed("EC key without its public point".into()));
                };
                let full = sec1::EcPrivateKey {
                    private_key: inner.private_key,
                    parameters: curve.oid().map(sec1::EcParameters::NamedCurve),
                    public_key: Some(point),
                };
                Zeroizing::new(
                    full.to_der()
                        .map_err(|e| malformed(format!("cannot encode SEC1: {e}")))?,
                )
            }
            (format, algorithm) => {
                return Err(Error::UnsupportedKey {
                    path: None,
                    algorithm: format!("{algorithm} keys cannot be written as {format}"),
                })
            }
        };
        Ok(der)
    }

    /// The encoding the key was read in.
    pub fn format(&self) -> KeyFormat {
        self.format
    }

    /// The key's algorithm and size.
    pub fn algorithm(&self) -> &KeyAlgorithm {
        &self.algorithm
    }

    // `matches`, which pairs a key with a certificate, is in `crate::cert`: certificates are
    // parsed above keys.

    /// The key as PKCS#8 DER, for signing. Zeroed when dropped.
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    pub(crate) fn public_key_data(&self) -> &PublicKeyData {
        &self.public
    }
}

fn encode_pkcs8(info: &PrivateKeyInfo<'_>) -> Result<Zeroizing<Vec<u8>>> {
    info.to_der()
        .map(Zeroizing::new)
        .map_err(|e| malformed(format!("cannot re-encode the key as PKCS#8: {e}")))
}

fn inconsistent(e: aws_lc_rs::error::KeyRejected) -> Error {
    malformed(format!(
        "the key's private and public parts do not belong together ({e})"
    ))
}

fn malformed(reason: String) -> Error {
    Error::MalformedKey { path: None, reason }
}

fn describe_oid(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10040.4.1" => "DSA".into(),
        "1.3.101.110" => "X25519 (a key-agreement key, not a signing key)".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS-only RSA key".into(),
        other => format!("algorithm {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_ignores_leading_zeros() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00, 0x00]), 0);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn rsa_public_data_is_canonical() {
        assert!(
            PublicKeyData::rsa(&[0, 0xc1, 2], &[0, 1, 0, 1])
                == PublicKeyData::rsa(&[0xc1, 2], &[1, 0, 1])
        );
    }

    #[test]
    fn fingerprints_tell_public_halves_apart_as_equality_does() {
        let rsa = |n: &[u8], e: &[u8]| PublicKeyData::rsa(n, e).fingerprint();
        assert_eq!(rsa(&[0, 0xc1, 2], &[1, 0, 1]), rsa(&[0xc1, 2], &[1, 0, 1]));
        // Fields are length-prefixed: bytes moved from one field to the next are another key.
        assert_ne!(rsa(&[0xc1, 2], &[3]), rsa(&[0xc1], &[2, 3]));
        let point = vec![4, 1, 2];
        let ec = |curve| PublicKeyData::Ec {
            curve,
            point: point.clone(),
        };
        assert_ne!(ec(Curve::P256).fingerprint(), ec(Curve::P384).fingerprint());
        assert_ne!(
            ec(Curve::P256).fingerprint(),
            PublicKeyData::Ed25519(point.clone()).fingerprint()
        );
        let leaf = crate::test_support::key("cfssl/members-key.pem");
        assert_eq!(
            leaf.public_key_data().fingerprint(),
            crate::test_support::cert("cfssl/members.pem")
                .public_key_data()
                .fingerprint()
        );
    }

    #[test]
    fn garbage_is_a_malformed_key_not_a_panic() {
        for format in [KeyFormat::Pkcs1, KeyFormat::Pkcs8, KeyFormat::Sec1] {
            let err = PrivateKey::from_der(format, &[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
            assert!(matches!(err, Error::MalformedKey { .. }), "{err}");
        }
    }

    #[test]
    fn generated_keys_round_trip_and_debug_hides_secrets() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let p8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        let key = PrivateKey::from_der(KeyFormat::Pkcs8, p8.as_ref()).unwrap();
        assert_eq!(key.algorithm(), &KeyAlgorithm::Ecdsa { curve: Curve::P256 });
        let debug = format!("{key:?}");
        assert!(debug.contains("elided"));
        assert!(!debug.contains("pkcs8:"));

        let ed = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let key = PrivateKey::from_der(KeyFormat::Pkcs8, ed.as_ref()).unwrap();
        assert_eq!(key.algorithm(), &KeyAlgorithm::Ed25519);
    }
}

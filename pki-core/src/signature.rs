//! Checking one certificate's signature with another's public key.
//!
//! The crypto is aws-lc's (aws-lc-rs). Which algorithms are accepted follows Go's
//! `crypto/x509` (`CheckSignatureFrom`), not the library's or webpki's defaults:
//! - MD5 and SHA-1 signatures are rejected as insecure, as Go has done since 1.18 (Go still
//!   accepts them on a root's self-signature, which it never checks; so does this crate);
//! - RSA PKCS#1 v1.5 with SHA-256 or SHA-512 is accepted from 1024-bit keys up, as in Go;
//!   SHA-384 needs 2048 bits here (aws-lc-rs has no 1024-bit SHA-384 verifier; Go accepts it);
//! - RSA-PSS with SHA-256/384/512; ECDSA on P-256, P-384 and P-521 with SHA-256/384/512;
//!   Ed25519. DSA is rejected, as Go does.

use std::fmt;

use aws_lc_rs::signature as sig;

use crate::cert::Certificate;
use crate::key::{Curve, KeyAlgorithm};
use crate::signature_algorithm::SignatureAlgorithm;

/// Why a signature did not check out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// MD5 or SHA-1: Go refuses these.
    Insecure(SignatureAlgorithm),
    /// The algorithm, or its combination with the signer's key, is not verifiable here.
    Unsupported {
        /// The signature algorithm.
        algorithm: SignatureAlgorithm,
        /// The signer's key.
        key: KeyAlgorithm,
    },
    /// MD5 or SHA-1, in Go 1.19's words, which offer an override for SHA-1 (`x509sha1=1`, gone
    /// in Go 1.24).
    InsecureGo119(SignatureAlgorithm),
    /// The candidate issuer may not sign certificates (not a CA, or no keyCertSign).
    NotACa,
    /// The signature does not verify with the signer's key (of this algorithm).
    Mismatch(KeyAlgorithm),
}

impl SignatureError {
    /// The same error in the words of the Go of `rules`.
    pub(crate) fn worded_for(self, rules: crate::go_rules::GoRules) -> SignatureError {
        match self {
            SignatureError::Insecure(alg) if rules == crate::go_rules::GoRules::Go119 => {
                SignatureError::InsecureGo119(alg)
            }
            other => other,
        }
    }
}

/// The public key family a signature algorithm names, as Go's messages name it.
fn family(algorithm: &SignatureAlgorithm) -> Option<&'static str> {
    use SignatureAlgorithm as A;
    match algorithm {
        A::Md5Rsa
        | A::Sha1Rsa
        | A::Sha256Rsa
        | A::Sha384Rsa
        | A::Sha512Rsa
        | A::Sha256RsaPss
        | A::Sha384RsaPss
        | A::Sha512RsaPss => Some("RSA"),
        A::EcdsaSha1 | A::EcdsaSha256 | A::EcdsaSha384 | A::EcdsaSha512 => Some("ECDSA"),
        A::Ed25519 => Some("Ed25519"),
        _ => None,
    }
}

/// The Go type of a public key (`%T`), where Go has one.
fn go_key_type(key: &KeyAlgorithm) -> Option<&'static str> {
    match key {
        KeyAlgorithm::Rsa { .. } => Some("*rsa.PublicKey"),
        KeyAlgorithm::Ecdsa { .. } => Some("*ecdsa.PublicKey"),
        KeyAlgorithm::Ed25519 => Some("ed25519.PublicKey"),
        _ => None,
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Insecure(alg) => {
                write!(f, "x509: cannot verify signature: insecure algorithm {alg}")
            }
            SignatureError::InsecureGo119(alg) => {
                write!(f, "x509: cannot verify signature: insecure algorithm {alg}")?;
                if matches!(
                    alg,
                    SignatureAlgorithm::Sha1Rsa | SignatureAlgorithm::EcdsaSha1
                ) {
                    f.write_str(" (temporarily override with GODEBUG=x509sha1=1)")?;
                }
                Ok(())
            }
            SignatureError::Unsupported { algorithm, key } => {
                match (family(algorithm), go_key_type(key)) {
                    // Go's signaturePublicKeyAlgoMismatchError.
                    (Some(family), Some(go_type)) if !go_type.contains(&family.to_lowercase()) => {
                        write!(
                            f,
                            "x509: signature algorithm specifies an {family} public key, but have public key of type {go_type}"
                        )
                    }
                    // Go verifies these; this crate cannot (see the module docs).
                    (Some(_), Some(_)) => write!(
                        f,
                        "cannot verify a {algorithm} signature made with a {key} key"
                    ),
                    // A key or signature algorithm Go cannot verify either: its ErrUnsupportedAlgorithm.
                    _ => f.write_str("x509: cannot verify signature: algorithm unimplemented"),
                }
            }
            SignatureError::NotACa => f.write_str(
                "x509: invalid signature: parent certificate cannot sign this kind of certificate",
            ),
            // Go's words, from the package that verified.
            SignatureError::Mismatch(KeyAlgorithm::Rsa { .. }) => {
                f.write_str("crypto/rsa: verification error")
            }
            SignatureError::Mismatch(KeyAlgorithm::Ecdsa { .. }) => {
                f.write_str("x509: ECDSA verification failure")
            }
            SignatureError::Mismatch(KeyAlgorithm::Ed25519) => {
                f.write_str("x509: Ed25519 verification failure")
            }
            SignatureError::Mismatch(_) => {
                f.write_str("x509: signature does not verify with the issuer's public key")
            }
        }
    }
}

/// Checks that `child`'s signature was made by `signer`'s key, refusing MD5 and SHA-1 as Go does.
pub(crate) fn check_signature(
    child: &Certificate,
    signer: &Certificate,
) -> Result<(), SignatureError> {
    let algorithm = child.signature_algorithm();
    if algorithm.is_insecure() {
        return Err(SignatureError::Insecure(algorithm.clone()));
    }
    verify_with(child, signer)
}

/// Checks who made `child`'s signature, accepting SHA-1 (MD5 stays unverifiable): for finding the
/// issuer of a certificate Go would distrust, so that it can be reissued, and for a root's own
/// signature, which Go never checks.
pub(crate) fn check_signature_allowing_insecure(
    child: &Certificate,
    signer: &Certificate,
) -> Result<(), SignatureError> {
    let legacy: Option<&dyn sig::VerificationAlgorithm> =
        match (child.signature_algorithm(), signer.key_algorithm()) {
            (SignatureAlgorithm::Sha1Rsa, KeyAlgorithm::Rsa { .. }) => {
                Some(&sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY)
            }
            (SignatureAlgorithm::EcdsaSha1, KeyAlgorithm::Ecdsa { curve: Curve::P256 }) => {
                Some(&sig::ECDSA_P256_SHA1_ASN1)
            }
            (SignatureAlgorithm::EcdsaSha1, KeyAlgorithm::Ecdsa { curve: Curve::P521 }) => {
                Some(&sig::ECDSA_P521_SHA1_ASN1)
            }
            _ => None,
        };
    match legacy {
        Some(verifier) => sig::UnparsedPublicKey::new(verifier, signer.subject_public_key_bytes())
            .verify(child.tbs_bytes(), child.signature_bytes())
            .map_err(|_| SignatureError::Mismatch(signer.key_algorithm().clone())),
        None => verify_with(child, signer),
    }
}

fn verify_with(child: &Certificate, signer: &Certificate) -> Result<(), SignatureError> {
    check_signed_bytes(
        child.signature_algorithm(),
        child.tbs_bytes(),
        child.signature_bytes(),
        signer,
    )
}

/// Checks a signature over `tbs` (a certificate's, a CRL's) made with `signer`'s key, by Go's
/// rules of which algorithms count (MD5 and SHA-1 refused).
pub(crate) fn check_signed_bytes(
    algorithm: &SignatureAlgorithm,
    tbs: &[u8],
    signature: &[u8],
    signer: &Certificate,
) -> Result<(), SignatureError> {
    if algorithm.is_insecure() {
        return Err(SignatureError::Insecure(algorithm.clone()));
    }
    let key = signer.key_algorithm();
    let unsupported = || SignatureError::Unsupported {
        algorithm: algorithm.clone(),
        key: key.clone(),
    };
    let verifier: &dyn sig::VerificationAlgorithm = match (algorithm, key) {
        (SignatureAlgorithm::Sha256Rsa, KeyAlgorithm::Rsa { .. }) => {
            &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        (SignatureAlgorithm::Sha384Rsa, KeyAlgorithm::Rsa { .. }) => {
            &sig::RSA_PKCS1_2048_8192_SHA384
        }
        (SignatureAlgorithm::Sha512Rsa, KeyAlgorithm::Rsa { .. }) => {
            &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        }
        (SignatureAlgorithm::Sha256RsaPss, KeyAlgorithm::Rsa { .. }) => {
            &sig::RSA_PSS_2048_8192_SHA256
        }
        (SignatureAlgorithm::Sha384RsaPss, KeyAlgorithm::Rsa { .. }) => {
            &sig::RSA_PSS_2048_8192_SHA384
        }
        (SignatureAlgorithm::Sha512RsaPss, KeyAlgorithm::Rsa { .. }) => {
            &sig::RSA_PSS_2048_8192_SHA512
        }
        (SignatureAlgorithm::EcdsaSha256, KeyAlgorithm::Ecdsa { curve }) => match curve {
            Curve::P256 => &sig::ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &sig::ECDSA_P384_SHA256_ASN1,
            Curve::P521 => &sig::ECDSA_P521_SHA256_ASN1,
            Curve::Other(_) => return Err(unsupported()),
        },
        (SignatureAlgorithm::EcdsaSha384, KeyAlgorithm::Ecdsa { curve }) => match curve {
            Curve::P256 => &sig::ECDSA_P256_SHA384_ASN1,
            Curve::P384 => &sig::ECDSA_P384_SHA384_ASN1,
            Curve::P521 => &sig::ECDSA_P521_SHA384_ASN1,
            Curve::Other(_) => return Err(unsupported()),
        },
        (SignatureAlgorithm::EcdsaSha512, KeyAlgorithm::Ecdsa { curve }) => match curve {
            Curve::P256 => &sig::ECDSA_P256_SHA512_ASN1,
            Curve::P384 => &sig::ECDSA_P384_SHA512_ASN1,
            Curve::P521 => &sig::ECDSA_P521_SHA512_ASN1,
            Curve::Other(_) => return Err(unsupported()),
        },
        (SignatureAlgorithm::Ed25519, KeyAlgorithm::Ed25519) => &sig::ED25519,
        _ => return Err(unsupported()),
    };
    verify_cached(verifier, signer.subject_public_key_bytes(), tbs, signature)
        .map_err(|()| SignatureError::Mismatch(key.clone()))
}

/// How many parsed issuer keys each thread keeps (a scan meets a handful of CAs).
const KEY_CACHE: usize = 16;

/// A parsed issuer key: the algorithm's address, the key bytes, the key.
type ParsedKey = (usize, Vec<u8>, std::rc::Rc<sig::ParsedPublicKey>);

thread_local! {
    /// Issuer keys parsed for verification, by algorithm and key bytes: parsing an RSA key
    /// includes its Montgomery setup, a good part of the cost of one verification.
    static PARSED_KEYS: std::cell::RefCell<Vec<ParsedKey>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Verifies `child`'s signature with a public key, parsing each issuer key once per thread.
fn verify_cached(
    verifier: &'static dyn sig::VerificationAlgorithm,
    key: &[u8],
    tbs: &[u8],
    signature: &[u8],
) -> Result<(), ()> {
    // The algorithm's address identifies it (they are statics).
    let algorithm = verifier as *const dyn sig::VerificationAlgorithm as *const () as usize;
    let parsed = PARSED_KEYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, _, k)) = cache.iter().find(|(a, k, _)| *a == algorithm && k == key) {
            return Some(k.clone());
        }
        let parsed = std::rc::Rc::new(sig::ParsedPublicKey::new(verifier, key).ok()?);
        if cache.len() == KEY_CACHE {
            cache.remove(0);
        }
        cache.push((algorithm, key.to_vec(), parsed.clone()));
        Some(parsed)
    });
    match parsed {
        Some(k) => k.verify_sig(tbs, signature).map_err(|_| ()),
        // A key aws-lc will not parse for this algorithm cannot have made the signature.
        None => Err(()),
    }
}

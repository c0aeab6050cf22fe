//! A certificate's signature algorithm, named as Go's `crypto/x509` names it, from the
//! AlgorithmIdentifier x509-parser reads. Whether a signature made with it checks out is
//! [`crate::signature`]'s question.

use std::fmt;

/// A certificate's signature algorithm, named as Go names it (`SHA256-RSA`, `ECDSA-SHA256`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// md5WithRSAEncryption.
    Md5Rsa,
    /// sha1WithRSAEncryption.
    Sha1Rsa,
    /// sha256WithRSAEncryption.
    Sha256Rsa,
    /// sha384WithRSAEncryption.
    Sha384Rsa,
    /// sha512WithRSAEncryption.
    Sha512Rsa,
    /// RSASSA-PSS with SHA-256.
    Sha256RsaPss,
    /// RSASSA-PSS with SHA-384.
    Sha384RsaPss,
    /// RSASSA-PSS with SHA-512.
    Sha512RsaPss,
    /// RSASSA-PSS with parameters this crate does not accept.
    RsaPssOther,
    /// dsa-with-sha1.
    DsaSha1,
    /// dsa-with-sha256.
    DsaSha256,
    /// ecdsa-with-SHA1.
    EcdsaSha1,
    /// ecdsa-with-SHA256.
    EcdsaSha256,
    /// ecdsa-with-SHA384.
    EcdsaSha384,
    /// ecdsa-with-SHA512.
    EcdsaSha512,
    /// Ed25519.
    Ed25519,
    /// Anything else, by OID.
    Unknown(String),
}

impl SignatureAlgorithm {
    /// Maps an AlgorithmIdentifier to the algorithm.
    pub(crate) fn from_x509(
        alg: &x509_parser::x509::AlgorithmIdentifier<'_>,
    ) -> SignatureAlgorithm {
        let oid = alg.algorithm.to_id_string();
        match oid.as_str() {
            "1.2.840.113549.1.1.4" => SignatureAlgorithm::Md5Rsa,
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => SignatureAlgorithm::Sha1Rsa,
            "1.2.840.113549.1.1.11" => SignatureAlgorithm::Sha256Rsa,
            "1.2.840.113549.1.1.12" => SignatureAlgorithm::Sha384Rsa,
            "1.2.840.113549.1.1.13" => SignatureAlgorithm::Sha512Rsa,
            "1.2.840.113549.1.1.10" => pss_from_params(alg),
            "1.2.840.10040.4.3" => SignatureAlgorithm::DsaSha1,
            "2.16.840.1.101.3.4.3.2" => SignatureAlgorithm::DsaSha256,
            "1.2.840.10045.4.1" => SignatureAlgorithm::EcdsaSha1,
            "1.2.840.10045.4.3.2" => SignatureAlgorithm::EcdsaSha256,
            "1.2.840.10045.4.3.3" => SignatureAlgorithm::EcdsaSha384,
            "1.2.840.10045.4.3.4" => SignatureAlgorithm::EcdsaSha512,
            "1.3.101.112" => SignatureAlgorithm::Ed25519,
            _ => SignatureAlgorithm::Unknown(oid),
        }
    }

    /// Whether Go refuses this algorithm as insecure (MD5, SHA-1).
    pub fn is_insecure(&self) -> bool {
        matches!(
            self,
            SignatureAlgorithm::Md5Rsa
                | SignatureAlgorithm::Sha1Rsa
                | SignatureAlgorithm::EcdsaSha1
                | SignatureAlgorithm::DsaSha1
        )
    }
}

fn pss_from_params(alg: &x509_parser::x509::AlgorithmIdentifier<'_>) -> SignatureAlgorithm {
    use x509_parser::signature_algorithm::RsaSsaPssParams;
    let Some(params) = alg.parameters.as_ref() else {
        return SignatureAlgorithm::RsaPssOther;
    };
    let Ok(params) = RsaSsaPssParams::try_from(params) else {
        return SignatureAlgorithm::RsaPssOther;
    };
    // Go requires the MGF1 hash to equal the message hash; aws-lc's PSS verifiers assume it.
    let hash = params.hash_algorithm_oid().to_id_string();
    let mgf_hash = params
        .mask_gen_algorithm()
        .ok()
        .map(|m| m.hash.to_id_string());
    if mgf_hash.as_deref().is_some_and(|m| m != hash) {
        return SignatureAlgorithm::RsaPssOther;
    }
    match hash.as_str() {
        "2.16.840.1.101.3.4.2.1" => SignatureAlgorithm::Sha256RsaPss,
        "2.16.840.1.101.3.4.2.2" => SignatureAlgorithm::Sha384RsaPss,
        "2.16.840.1.101.3.4.2.3" => SignatureAlgorithm::Sha512RsaPss,
        _ => SignatureAlgorithm::RsaPssOther,
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SignatureAlgorithm::Md5Rsa => "MD5-RSA",
            SignatureAlgorithm::Sha1Rsa => "SHA1-RSA",
            SignatureAlgorithm::Sha256Rsa => "SHA256-RSA",
            SignatureAlgorithm::Sha384Rsa => "SHA384-RSA",
            SignatureAlgorithm::Sha512Rsa => "SHA512-RSA",
            SignatureAlgorithm::Sha256RsaPss => "SHA256-RSAPSS",
            SignatureAlgorithm::Sha384RsaPss => "SHA384-RSAPSS",
            SignatureAlgorithm::Sha512RsaPss => "SHA512-RSAPSS",
            SignatureAlgorithm::RsaPssOther => "RSAPSS (unsupported parameters)",
            SignatureAlgorithm::DsaSha1 => "DSA-SHA1",
            SignatureAlgorithm::DsaSha256 => "DSA-SHA256",
            SignatureAlgorithm::EcdsaSha1 => "ECDSA-SHA1",
            SignatureAlgorithm::EcdsaSha256 => "ECDSA-SHA256",
            SignatureAlgorithm::EcdsaSha384 => "ECDSA-SHA384",
            SignatureAlgorithm::EcdsaSha512 => "ECDSA-SHA512",
            SignatureAlgorithm::Ed25519 => "Ed25519",
            SignatureAlgorithm::Unknown(oid) => return write!(f, "unknown ({oid})"),
        };
        f.write_str(name)
    }
}

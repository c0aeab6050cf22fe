//! Extended key usages in Go's vocabulary, as the extendedKeyUsage extension of a certificate
//! lists them. What etcd needs of them is [`crate::usage`]'s question.

use std::fmt;

/// An extended key usage, in Go's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtKeyUsage {
    /// anyExtendedKeyUsage.
    Any,
    /// TLS server authentication.
    ServerAuth,
    /// TLS client authentication.
    ClientAuth,
    /// Code signing.
    CodeSigning,
    /// Email protection.
    EmailProtection,
    /// IPsec end system.
    IpsecEndSystem,
    /// IPsec tunnel.
    IpsecTunnel,
    /// IPsec user.
    IpsecUser,
    /// Time stamping.
    TimeStamping,
    /// OCSP signing.
    OcspSigning,
    /// Microsoft Server Gated Crypto (Go accepts it as serverAuth).
    MicrosoftServerGatedCrypto,
    /// Netscape Server Gated Crypto (Go accepts it as serverAuth).
    NetscapeServerGatedCrypto,
    /// Microsoft commercial code signing.
    MicrosoftCommercialCodeSigning,
    /// Microsoft kernel code signing.
    MicrosoftKernelCodeSigning,
    /// A usage Go does not know, by OID.
    Unknown(String),
}

impl ExtKeyUsage {
    pub(crate) fn from_oid(oid: &str) -> ExtKeyUsage {
        match oid {
            "2.5.29.37.0" => ExtKeyUsage::Any,
            "1.3.6.1.5.5.7.3.1" => ExtKeyUsage::ServerAuth,
            "1.3.6.1.5.5.7.3.2" => ExtKeyUsage::ClientAuth,
            "1.3.6.1.5.5.7.3.3" => ExtKeyUsage::CodeSigning,
            "1.3.6.1.5.5.7.3.4" => ExtKeyUsage::EmailProtection,
            "1.3.6.1.5.5.7.3.5" => ExtKeyUsage::IpsecEndSystem,
            "1.3.6.1.5.5.7.3.6" => ExtKeyUsage::IpsecTunnel,
            "1.3.6.1.5.5.7.3.7" => ExtKeyUsage::IpsecUser,
            "1.3.6.1.5.5.7.3.8" => ExtKeyUsage::TimeStamping,
            "1.3.6.1.5.5.7.3.9" => ExtKeyUsage::OcspSigning,
            "1.3.6.1.4.1.311.10.3.3" => ExtKeyUsage::MicrosoftServerGatedCrypto,
            "2.16.840.1.113730.4.1" => ExtKeyUsage::NetscapeServerGatedCrypto,
            "1.3.6.1.4.1.311.2.1.22" => ExtKeyUsage::MicrosoftCommercialCodeSigning,
            "1.3.6.1.4.1.311.61.1.1" => ExtKeyUsage::MicrosoftKernelCodeSigning,
            other => ExtKeyUsage::Unknown(other.to_string()),
        }
    }

    pub(crate) fn from_x509(
        eku: &x509_parser::extensions::ExtendedKeyUsage<'_>,
    ) -> Vec<ExtKeyUsage> {
        let mut out = Vec::new();
        let flags = [
            (eku.any, ExtKeyUsage::Any),
            (eku.server_auth, ExtKeyUsage::ServerAuth),
            (eku.client_auth, ExtKeyUsage::ClientAuth),
            (eku.code_signing, ExtKeyUsage::CodeSigning),
            (eku.email_protection, ExtKeyUsage::EmailProtection),
            (eku.time_stamping, ExtKeyUsage::TimeStamping),
            (eku.ocsp_signing, ExtKeyUsage::OcspSigning),
        ];
        for (set, usage) in flags {
            if set {
                out.push(usage);
            }
        }
        out.extend(
            eku.other
                .iter()
                .map(|oid| ExtKeyUsage::from_oid(&oid.to_id_string())),
        );
        out
    }
}

impl fmt::Display for ExtKeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExtKeyUsage::Any => "any",
            ExtKeyUsage::ServerAuth => "serverAuth",
            ExtKeyUsage::ClientAuth => "clientAuth",
            ExtKeyUsage::CodeSigning => "codeSigning",
            ExtKeyUsage::EmailProtection => "emailProtection",
            ExtKeyUsage::IpsecEndSystem => "ipsecEndSystem",
            ExtKeyUsage::IpsecTunnel => "ipsecTunnel",
            ExtKeyUsage::IpsecUser => "ipsecUser",
            ExtKeyUsage::TimeStamping => "timeStamping",
            ExtKeyUsage::OcspSigning => "OCSPSigning",
            ExtKeyUsage::MicrosoftServerGatedCrypto => "msSGC",
            ExtKeyUsage::NetscapeServerGatedCrypto => "nsSGC",
            ExtKeyUsage::MicrosoftCommercialCodeSigning => "msCodeCom",
            ExtKeyUsage::MicrosoftKernelCodeSigning => "msKernelCodeSigning",
            ExtKeyUsage::Unknown(oid) => return f.write_str(oid),
        })
    }
}

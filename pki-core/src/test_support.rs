//! Helpers for unit tests: paths into the committed fixtures (made by openssl and cfssl; see
//! `fixtures/regen.sh`).

use std::path::PathBuf;

use crate::{load_certificates, load_private_key, Certificate, PrivateKey};

pub(crate) fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

pub(crate) fn cert(rel: &str) -> Certificate {
    load_certificates(fixture(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .remove(0)
}

pub(crate) fn certs(rel: &str) -> Vec<Certificate> {
    load_certificates(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub(crate) fn key(rel: &str) -> PrivateKey {
    load_private_key(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A self-signed certificate with these DNS SANs, made now (for names no fixture has).
pub(crate) fn cert_with_dns(names: &[&str]) -> Certificate {
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("valid names");
    let key = rcgen::KeyPair::generate().expect("a key");
    let der = params.self_signed(&key).expect("signed").der().to_vec();
    Certificate::from_der(der).expect("parses")
}

/// Copies a fixture directory (recursively) into `to`.
pub(crate) fn copy_fixture_dir(rel: &str, to: &std::path::Path) {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    copy(&fixture(rel), to);
}

/// Certificates made in tests with rcgen, for cases no committed fixture has.
pub(crate) mod generate {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
        SanType, PKCS_ECDSA_P256_SHA256,
    };

    use crate::Certificate;

    /// A fresh P-256 key.
    pub(crate) fn key() -> KeyPair {
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap()
    }

    /// Parameters with a subject of only `CN=cn` and nothing else.
    pub(crate) fn params(cn: &str) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p
    }

    /// [`params`] of a CA with basic constraints `bc`.
    pub(crate) fn ca_params(cn: &str, bc: BasicConstraints) -> CertificateParams {
        let mut p = params(cn);
        p.is_ca = IsCa::Ca(bc);
        p
    }

    /// Parses DER that rcgen made.
    pub(crate) fn parse(der: &[u8]) -> Certificate {
        Certificate::from_der(der.to_vec()).unwrap()
    }

    /// A CA (or a would-be CA): parameters and a key, to sign certificates with.
    pub(crate) struct Ca {
        pub(crate) params: CertificateParams,
        pub(crate) key: KeyPair,
    }

    impl Ca {
        /// A CA with these parameters and a fresh key.
        pub(crate) fn new(params: CertificateParams) -> Ca {
            Ca { params, key: key() }
        }

        fn issuer(&self) -> Issuer<'_, &KeyPair> {
            Issuer::from_params(&self.params, &self.key)
        }

        /// Its certificate, self-signed.
        pub(crate) fn self_signed(&self) -> Certificate {
            parse(self.params.self_signed(&self.key).unwrap().der())
        }

        /// Its certificate, signed by `by`.
        pub(crate) fn signed_by(&self, by: &Ca) -> Certificate {
            parse(
                self.params
                    .signed_by(&self.key, &by.issuer())
                    .unwrap()
                    .der(),
            )
        }

        /// A certificate with parameters `params` and a fresh key, signed by this CA.
        pub(crate) fn sign(&self, params: &CertificateParams) -> Certificate {
            parse(params.signed_by(&key(), &self.issuer()).unwrap().der())
        }
    }

    /// A self-signed certificate `CN=cn` with these SANs.
    pub(crate) fn with_sans(cn: &str, sans: Vec<SanType>) -> Certificate {
        let mut p = params(cn);
        p.subject_alt_names = sans;
        parse(p.self_signed(&key()).unwrap().der())
    }

    /// A DNS SAN.
    pub(crate) fn dns(name: &str) -> SanType {
        SanType::DnsName(name.try_into().unwrap())
    }

    /// An email SAN.
    pub(crate) fn email(name: &str) -> SanType {
        SanType::Rfc822Name(name.try_into().unwrap())
    }

    /// A URI SAN.
    pub(crate) fn uri(name: &str) -> SanType {
        SanType::URI(name.try_into().unwrap())
    }

    /// An IP SAN.
    pub(crate) fn ip(addr: &str) -> SanType {
        SanType::IpAddress(addr.parse().unwrap())
    }
}

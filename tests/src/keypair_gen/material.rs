//! The keys and certificates the key-pair cases are made of: a pool per algorithm (RSA 2048,
//! ECDSA P-256 and P-384, Ed25519), each key with a certificate of its own, and each key's DER
//! in the encodings etcd's tools write: PKCS#8, PKCS#1 (RSA) and SEC1 (ECDSA).
//!
//! The pool is the same in every process, byte for byte, so that a case is made again from its
//! seed and index alone: the keys are fixed test keys (`pool-keys.pem`, made by openssl; the
//! commands are in that file), and every certificate is signed by one more fixed Ed25519 key
//! (deterministic signatures; ECDSA's are not) with a fixed serial number and validity.

use std::sync::OnceLock;

use pki_core::{Curve, KeyAlgorithm, KeyFormat, PrivateKey};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

/// One key and the certificate of its public half.
pub struct Material {
    /// The key's algorithm, as the Go oracle names it (`RSA 2048`, `ECDSA P-256`, `Ed25519`).
    pub algorithm: String,
    /// The key.
    pub key: PrivateKey,
    /// The certificate's DER.
    pub cert_der: Vec<u8>,
}

impl Material {
    /// The key's DER in `format`, if the algorithm has it (PKCS#1 is RSA's, SEC1 ECDSA's).
    pub fn key_der(&self, format: KeyFormat) -> Option<Vec<u8>> {
        self.key.to_der(format).ok().map(|der| der.to_vec())
    }

    /// The encodings this key has.
    pub fn formats(&self) -> Vec<KeyFormat> {
        [KeyFormat::Pkcs8, KeyFormat::Pkcs1, KeyFormat::Sec1]
            .into_iter()
            .filter(|f| self.key_der(*f).is_some())
            .collect()
    }

    /// The OID of the key's curve as `EC PARAMETERS` holds it (openssl ecparam -genkey writes
    /// that block before the key), for ECDSA keys.
    pub fn ec_parameters(&self) -> Option<Vec<u8>> {
        match self.key.algorithm() {
            KeyAlgorithm::Ecdsa { curve: Curve::P256 } => Some(vec![
                0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
            ]),
            KeyAlgorithm::Ecdsa { curve: Curve::P384 } => {
                Some(vec![0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22])
            }
            _ => None,
        }
    }
}

/// How many keys of each algorithm the pool holds.
const POOL: [(&str, usize); 4] = [
    ("RSA 2048", 3),
    ("ECDSA P-256", 4),
    ("ECDSA P-384", 3),
    ("Ed25519", 3),
];

/// The fixed keys, in [`POOL`]'s order, then the issuer's.
const POOL_KEYS: &str = include_str!("pool-keys.pem");

/// The pool, made at the first call: every key and certificate a run uses.
pub fn pool() -> &'static [Material] {
    static POOL_MATERIAL: OnceLock<Vec<Material>> = OnceLock::new();
    POOL_MATERIAL.get_or_init(|| {
        let mut keys = pki_core::load_bytes(POOL_KEYS.as_bytes())
            .expect("pool-keys.pem loads")
            .keys
            .into_iter();
        let mut all = Vec::new();
        let mut pool_keys = Vec::new();
        for (name, count) in POOL {
            for i in 0..count {
                let key = keys.next().expect("a key per pool entry");
                assert_eq!(key.algorithm().to_string(), name, "pool-keys.pem order");
                pool_keys.push((name, i, key));
            }
        }
        let issuer_key = keys.next().expect("the issuer's key");
        assert_eq!(issuer_key.algorithm(), &KeyAlgorithm::Ed25519);
        let issuer = Issuer::new(issuer_key);
        for (serial, (name, i, key)) in pool_keys.into_iter().enumerate() {
            let cert_der = issued(
                &key,
                &format!("keypair-{}-{i}", name.replace(' ', "-")),
                serial as u64 + 1,
                &issuer,
            );
            all.push(Material {
                algorithm: name.to_string(),
                key,
                cert_der,
            });
        }
        all
    })
}

/// Certificates of key algorithms Go's `tls.X509KeyPair` does not know (Ed448, DSA), each
/// with a pool key that is not its own (their keys were not kept): etcd refuses them with
/// "tls: unknown public key algorithm" whatever the key.
pub fn foreign() -> &'static [Material] {
    static FOREIGN: OnceLock<Vec<Material>> = OnceLock::new();
    FOREIGN.get_or_init(|| {
        let certs = pki_core::certificates_from_bytes(include_bytes!("foreign-certs.pem"))
            .expect("foreign-certs.pem loads");
        ["Ed448", "DSA"]
            .into_iter()
            .zip(certs)
            .enumerate()
            .map(|(i, (name, cert))| {
                let key = &pool()[i];
                Material {
                    algorithm: name.to_string(),
                    key: pki_core::PrivateKey::from_der(
                        KeyFormat::Pkcs8,
                        &key.key.to_der(KeyFormat::Pkcs8).expect("PKCS#8"),
                    )
                    .expect("the key again"),
                    cert_der: cert.der().to_vec(),
                }
            })
            .collect()
    })
}

/// The issuer of the pool's certificates.
struct Issuer {
    key: KeyPair,
    params: CertificateParams,
}

impl Issuer {
    fn new(key: PrivateKey) -> Issuer {
        let pkcs8 = key.to_der(KeyFormat::Pkcs8).expect("PKCS#8");
        let key = KeyPair::try_from(pkcs8.as_slice()).expect("rcgen loads the key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "keypair-pool-issuer");
        params.distinguished_name = dn;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        Issuer { key, params }
    }
}

/// A certificate for `key`'s public half, the same bytes every time.
fn issued(key: &PrivateKey, cn: &str, serial: u64, issuer: &Issuer) -> Vec<u8> {
    let pkcs8 = key.to_der(KeyFormat::Pkcs8).expect("PKCS#8");
    let pair = KeyPair::try_from(pkcs8.as_slice()).expect("rcgen loads the key");
    let mut params = CertificateParams::new(vec![format!("{cn}.example")]).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.serial_number = Some(rcgen::SerialNumber::from(serial));
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2124, 1, 1);
    let ca = rcgen::Issuer::from_params(&issuer.params, &issuer.key);
    params
        .signed_by(&pair, &ca)
        .expect("a certificate")
        .der()
        .to_vec()
}

#[cfg(test)]
mod tests {
    /// The pool is the same in every process: fixed keys, deterministic certificates.
    #[test]
    fn the_pool_is_made_again_byte_for_byte() {
        let pool = super::pool();
        assert_eq!(pool.len(), 13);
        let issuer_key = pki_core::load_bytes(super::POOL_KEYS.as_bytes())
            .unwrap()
            .keys
            .pop()
            .unwrap();
        let issuer = super::Issuer::new(issuer_key);
        for (i, m) in pool.iter().enumerate() {
            let again = super::issued(&m.key, &format!("keypair-{i}"), 7, &issuer);
            let twice = super::issued(&m.key, &format!("keypair-{i}"), 7, &issuer);
            assert_eq!(again, twice, "{}", m.algorithm);
        }
        let foreign = super::foreign();
        assert_eq!(foreign.len(), 2);
        for m in foreign {
            let cert = pki_core::certificates_from_bytes(&m.cert_der).unwrap();
            assert!(
                matches!(
                    cert[0].key_algorithm(),
                    pki_core::KeyAlgorithm::Other { .. }
                ),
                "{}",
                m.algorithm
            );
        }
    }
}

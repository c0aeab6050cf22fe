//! The keys and certificates the key-pair cases are made of: a pool per algorithm (RSA 2048,
//! ECDSA P-256 and P-384, Ed25519), each key with a self-signed certificate of its own, made
//! once per process (RSA generation is slow), and each key's DER in the encodings etcd's tools
//! write: PKCS#8, PKCS#1 (RSA) and SEC1 (ECDSA).

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

/// The pool, made at the first call: every key and certificate a run uses.
pub fn pool() -> &'static [Material] {
    static POOL_MATERIAL: OnceLock<Vec<Material>> = OnceLock::new();
    POOL_MATERIAL.get_or_init(|| {
        let mut all = Vec::new();
        for (name, count) in POOL {
            let algorithm = match name {
                "RSA 2048" => KeyAlgorithm::Rsa { bits: 2048 },
                "ECDSA P-256" => KeyAlgorithm::Ecdsa { curve: Curve::P256 },
                "ECDSA P-384" => KeyAlgorithm::Ecdsa { curve: Curve::P384 },
                _ => KeyAlgorithm::Ed25519,
            };
            for i in 0..count {
                let key = PrivateKey::generate(&algorithm).expect("a generated key");
                let cert_der =
                    self_signed(&key, &format!("keypair-{}-{i}", name.replace(' ', "-")));
                all.push(Material {
                    algorithm: name.to_string(),
                    key,
                    cert_der,
                });
            }
        }
        all
    })
}

fn self_signed(key: &PrivateKey, cn: &str) -> Vec<u8> {
    let pkcs8 = key.to_der(KeyFormat::Pkcs8).expect("PKCS#8");
    let pair = KeyPair::try_from(pkcs8.as_slice()).expect("rcgen loads the key");
    let mut params = CertificateParams::new(vec![format!("{cn}.example")]).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params
        .self_signed(&pair)
        .expect("a self-signed certificate")
        .der()
        .to_vec()
}

//! Seeded certificate-file / key-file pairs for the key-pair differential test: what etcd is
//! given as `--cert-file`/`--key-file` (and the peer pair), made from a pool of keys and their
//! certificates ([`material`]), with matching and mismatching keys, every key encoding, right
//! and wrong block labels, encrypted keys, extra blocks and text, DER instead of PEM, empty
//! files, any layout ([`mod@render`]) and damage ([`damage`]). A case's description names what it
//! holds and never shows key material.

pub mod damage;
pub mod material;
pub mod render;

use pki_core::KeyFormat;

use crate::prng::Rng;
use material::{pool, Material};
use render::{render, Item, Style};

/// One certificate file and one key file.
#[derive(Clone)]
pub struct PairCase {
    /// What the case holds, one note per choice made.
    pub notes: Vec<String>,
    /// The certificate file's bytes.
    pub cert_file: Vec<u8>,
    /// The key file's bytes.
    pub key_file: Vec<u8>,
    /// The certificate alone as plain PEM (openssl's layout).
    pub clean_cert: Vec<u8>,
    /// The key alone as plain PKCS#8 PEM (openssl's layout).
    pub clean_key: Vec<u8>,
    /// The key's algorithm as Go names it.
    pub key_algorithm: String,
}

impl std::fmt::Debug for PairCase {
    /// The notes only: the files hold a private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}]", self.notes.join("; "))
    }
}

/// Leading or trailing text as found in real files.
const TEXTS: &[&str] = &[
    "Bag Attributes\n    localKeyID: 01 02 03 04\nsubject=CN = etcd-1\nissuer=CN = etcd-ca\n",
    "# etcd member certificate\n",
    "Certificate:\n    Data:\n        Version: 3 (0x2)\n",
    "\n\n",
    "   \n",
    "garbage -----BEGIN nothing\n",
    "Key Attributes: <No Attributes>\n",
];

/// Labels a key block may wrongly have.
const ODD_KEY_LABELS: &[&str] = &[
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "DSA PRIVATE KEY",
    "XPRIVATE KEY",
    "private key",
];

impl PairCase {
    /// A random case.
    pub fn random(rng: &mut Rng) -> PairCase {
        let all = pool();
        let mine = rng.below(all.len());
        let (cert_material, foreign) = if rng.chance(2) {
            (
                &material::foreign()[rng.below(material::foreign().len())],
                true,
            )
        } else {
            (&all[mine], false)
        };
        let mut notes = vec![format!("certificate {}", cert_material.algorithm)];
        let key_material = if rng.chance(80) && !foreign {
            cert_material
        } else {
            let other = rng.below(all.len());
            notes.push(if foreign {
                format!("a key of {}", all[other].algorithm)
            } else if other == mine {
                "matching key".into()
            } else {
                format!("key of another certificate ({})", all[other].algorithm)
            });
            &all[other]
        };
        let cert_file = cert_file(rng, cert_material, key_material, &mut notes);
        let key_file = key_file(rng, cert_material, key_material, &mut notes);
        let plain = Style::plain();
        let mut quiet = Rng::new(0);
        PairCase {
            notes,
            cert_file,
            key_file,
            clean_cert: render(
                &[Item::block("CERTIFICATE", cert_material.cert_der.clone())],
                &plain,
                &mut quiet,
            ),
            clean_key: render(
                &[Item::block(
                    "PRIVATE KEY",
                    key_material.key_der(KeyFormat::Pkcs8).expect("PKCS#8"),
                )],
                &plain,
                &mut quiet,
            ),
            key_algorithm: key_material.algorithm.clone(),
        }
    }
}

fn text(rng: &mut Rng) -> Item {
    Item::Text(rng.pick(TEXTS).to_string())
}

/// Headers in a block: legacy encryption's, or any `Key: value`.
fn headers(rng: &mut Rng) -> Vec<(String, String)> {
    match rng.below(3) {
        0 => vec![("Proc-Type".into(), "4,ENCRYPTED".into())],
        1 => vec![("Comment".into(), "made by hand".into())],
        _ => vec![
            ("Proc-Type".into(), "4,ENCRYPTED".into()),
            (
                "DEK-Info".into(),
                "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF".into(),
            ),
        ],
    }
}

fn cert_file(rng: &mut Rng, cert: &Material, key: &Material, notes: &mut Vec<String>) -> Vec<u8> {
    let choice = rng.weighted(&[90, 3, 2, 2, 3]);
    if choice == 1 {
        notes.push("certificate file is DER".into());
        return cert.cert_der.clone();
    }
    if choice == 2 {
        let empty = rng.pick(&["", "\n", "  \n\n"]).to_string();
        notes.push(format!("certificate file is empty ({empty:?})"));
        return empty.into_bytes();
    }
    let mut items = Vec::new();
    if rng.chance(15) {
        notes.push("text before the certificate".into());
        items.push(text(rng));
    }
    let key_block = || {
        Item::block(
            "PRIVATE KEY",
            key.key_der(KeyFormat::Pkcs8).expect("PKCS#8"),
        )
    };
    if choice == 3 {
        notes.push("certificate file holds only the key".into());
        items.push(key_block());
    } else {
        if rng.chance(8) {
            notes.push("a key before the certificate".into());
            items.push(key_block());
        }
        if rng.chance(5) {
            notes.push("an unknown block before the certificate".into());
            items.push(Item::block("X509 CRL", vec![0x30, 0x03, 0x02, 0x01, 0x00]));
        }
        let mut der = cert.cert_der.clone();
        if choice == 4 {
            let cut = rng.range(10, der.len() - 1);
            der.truncate(cut);
            notes.push("certificate DER truncated".into());
        }
        let mut first = Item::block("CERTIFICATE", der);
        if rng.chance(4) {
            let h = headers(rng);
            notes.push(format!("certificate block headers {h:?}"));
            if let Item::Block { headers, .. } = &mut first {
                *headers = h;
            }
        }
        items.push(first);
        if rng.chance(15) {
            let other = &pool()[rng.below(pool().len())];
            let mut der = other.cert_der.clone();
            if rng.chance(20) {
                der.truncate(der.len() / 2);
                notes.push("a second certificate, truncated".into());
            } else {
                notes.push("a second certificate".into());
            }
            items.push(Item::block("CERTIFICATE", der));
        }
        if rng.chance(8) {
            notes.push("the key after the certificate".into());
            items.push(key_block());
        }
    }
    if rng.chance(15) {
        notes.push("text after the blocks".into());
        items.push(text(rng));
    }
    finish(rng, &items, "certificate file", notes)
}

fn key_file(rng: &mut Rng, cert: &Material, key: &Material, notes: &mut Vec<String>) -> Vec<u8> {
    let formats = key.formats();
    let format = *rng.pick(&formats);
    let der = key.key_der(format).expect("a format the key has");
    let choice = rng.weighted(&[86, 4, 2, 2, 3, 3]);
    match choice {
        1 => {
            notes.push(format!("key file is DER ({format:?})"));
            return der;
        }
        2 => {
            let empty = rng.pick(&["", "\n", " \n"]).to_string();
            notes.push(format!("key file is empty ({empty:?})"));
            return empty.into_bytes();
        }
        _ => {}
    }
    let mut items = Vec::new();
    if rng.chance(15) {
        notes.push("text before the key".into());
        items.push(text(rng));
    }
    if rng.chance(8) || choice == 3 {
        notes.push("the certificate in the key file, before the key".into());
        items.push(Item::block("CERTIFICATE", cert.cert_der.clone()));
    }
    if choice != 3 {
        if let Some(params) = key.ec_parameters().filter(|_| rng.chance(30)) {
            notes.push("EC PARAMETERS before the key".into());
            items.push(Item::block("EC PARAMETERS", params));
        }
        if rng.chance(4) {
            notes.push("an unknown block before the key".into());
            items.push(Item::block("FOO BAR", vec![1, 2, 3, 4, 5]));
        }
        let (label, body) = match choice {
            4 => {
                notes.push("an encrypted PKCS#8 key".into());
                (
                    "ENCRYPTED PRIVATE KEY".to_string(),
                    encrypted_pkcs8(rng, der.len()),
                )
            }
            _ => {
                let right = format.pem_label();
                let label = if rng.chance(12) {
                    rng.pick(ODD_KEY_LABELS).to_string()
                } else {
                    right.to_string()
                };
                notes.push(format!("{format:?} key labelled {label:?}"));
                (label, der)
            }
        };
        let mut block = Item::block(&label, body);
        if choice == 5 {
            // Legacy encryption: the body would be ciphertext.
            let len = match &block {
                Item::Block { der, .. } => der.len(),
                Item::Text(_) => 0,
            };
            block = Item::Block {
                label,
                headers: vec![
                    ("Proc-Type".into(), "4,ENCRYPTED".into()),
                    (
                        "DEK-Info".into(),
                        "AES-256-CBC,00112233445566778899AABBCCDDEEFF".into(),
                    ),
                ],
                der: random_bytes(rng, len),
            };
            notes.push("legacy encrypted (Proc-Type 4,ENCRYPTED)".into());
        } else if rng.chance(4) {
            let h = vec![("Comment".to_string(), "rotated 2024".to_string())];
            notes.push(format!("key block headers {h:?}"));
            if let Item::Block { headers, .. } = &mut block {
                *headers = h;
            }
        }
        items.push(block);
        if rng.chance(5) {
            let other = &pool()[rng.below(pool().len())];
            notes.push(format!("a second key ({})", other.algorithm));
            items.push(Item::block(
                "PRIVATE KEY",
                other.key_der(KeyFormat::Pkcs8).expect("PKCS#8"),
            ));
        }
        if rng.chance(5) {
            notes.push("the certificate after the key".into());
            items.push(Item::block("CERTIFICATE", cert.cert_der.clone()));
        }
    }
    if rng.chance(15) {
        notes.push("text after the key".into());
        items.push(text(rng));
    }
    finish(rng, &items, "key file", notes)
}

/// Lays out `items` and, now and then, damages the result.
fn finish(rng: &mut Rng, items: &[Item], what: &str, notes: &mut Vec<String>) -> Vec<u8> {
    let style = Style::random(rng);
    if style != Style::plain() {
        notes.push(format!("{what} layout: {}", style.describe()));
    }
    let mut file = render(items, &style, rng);
    if rng.chance(6) {
        let how = damage::damage(&mut file, rng);
        notes.push(format!("{what}: {how}"));
    }
    file
}

fn random_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// The shape of a PKCS#8 `EncryptedPrivateKeyInfo` (PBES2) around random "ciphertext".
fn encrypted_pkcs8(rng: &mut Rng, len: usize) -> Vec<u8> {
    let pbes2 = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d,
    ];
    let mut alg = pbes2.to_vec();
    alg.extend(tlv(0x30, &[]));
    let mut inner = tlv(0x30, &alg);
    inner.extend(tlv(0x04, &random_bytes(rng, len.div_ceil(16) * 16)));
    tlv(0x30, &inner)
}

/// A DER tag-length-value.
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(value);
    out
}

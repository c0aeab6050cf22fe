//! Seeded generation of certificate chains for the differential tests against Go's `Verify`
//! (tests/go-oracle/verify.go): a few keys (ECDSA P-256 and P-384, Ed25519, RSA), one or two
//! roots, up to three intermediates and a leaf, with what makes chain building interesting:
//! several CAs with the same name (and the same or another key), links signed by the wrong key,
//! v1 CAs, CAs without basic constraints or keyCertSign, path lengths, name constraints (DNS,
//! IP ranges, email, URI; permitted and excluded, on roots and intermediates, against SANs on
//! the leaf and on intermediates), EKU sets on every link, SHA-1 signatures, unknown critical
//! extensions, key identifiers that match, are missing or mismatch, validity periods expired,
//! not yet begun or ending at the very instant of the check; and pools as etcd's CA files make
//! them (an intermediate in the roots, a root in the bundle, a link left out).
//!
//! `der` writes the certificates. RSA keys come from a small pool made once per process (RSA
//! key generation takes tens of milliseconds); the others are made per case.

mod der;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use rcgen::KeyPair;
use time::{Duration, OffsetDateTime};

use crate::prng::Rng;

/// The instant every case is verified at: 2030-06-01T00:00:00Z.
pub fn verification_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_906_502_400).expect("a valid instant")
}

/// A key's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256.
    P256,
    /// ECDSA P-384.
    P384,
    /// Ed25519.
    Ed25519,
    /// RSA 2048, from the process's pool (the index).
    Rsa(usize),
    /// An Ed448 public key, which Go's x509 does not know (Go 1.24 passes over a CA with such a
    /// key; Go 1.19 refuses it with "algorithm unimplemented"). It signs nothing: a certificate
    /// it should sign is signed by a stand-in P-256 key, which verifies under no key here.
    Ed448,
}

impl KeyKind {
    fn default_sig(self) -> SigAlg {
        match self {
            KeyKind::P256 => SigAlg::EcdsaSha256,
            KeyKind::P384 => SigAlg::EcdsaSha384,
            KeyKind::Ed25519 => SigAlg::Ed25519,
            KeyKind::Rsa(_) => SigAlg::RsaSha256,
            KeyKind::Ed448 => SigAlg::EcdsaSha256,
        }
    }

    fn signs_with(self, alg: SigAlg) -> bool {
        self.default_sig() == alg || (matches!(self, KeyKind::Rsa(_)) && alg == SigAlg::RsaSha1)
    }
}

/// A signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigAlg {
    /// ecdsa-with-SHA256.
    EcdsaSha256,
    /// ecdsa-with-SHA384.
    EcdsaSha384,
    /// Ed25519.
    Ed25519,
    /// sha256WithRSAEncryption.
    RsaSha256,
    /// sha1WithRSAEncryption, which Go's Verify refuses.
    RsaSha1,
}

/// A distinguished name: an optional O and an optional CN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// organizationName.
    pub organization: Option<String>,
    /// commonName.
    pub common_name: Option<String>,
}

/// Basic constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bc {
    /// cA.
    pub ca: bool,
    /// pathLenConstraint.
    pub path_len: Option<u8>,
    /// Whether the extension is critical.
    pub critical: bool,
}

/// An extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eku {
    /// anyExtendedKeyUsage.
    Any,
    /// serverAuth.
    ServerAuth,
    /// clientAuth.
    ClientAuth,
    /// codeSigning.
    CodeSigning,
    /// Microsoft Server Gated Crypto.
    MsSgc,
    /// Netscape Server Gated Crypto.
    NsSgc,
    /// An OID Go does not know.
    Unknown,
}

/// A subjectAltName entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// dNSName.
    Dns(String),
    /// iPAddress.
    Ip(IpAddr),
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
}

/// One name constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// A DNS domain (`example.com`, `.example.com`).
    Dns(String),
    /// An IP range: address and prefix length.
    Ip(IpAddr, u8),
    /// A mailbox, domain or `.domain`.
    Email(String),
    /// A URI host domain.
    Uri(String),
}

/// The name constraints extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameConstraints {
    /// permittedSubtrees.
    pub permitted: Vec<Constraint>,
    /// excludedSubtrees.
    pub excluded: Vec<Constraint>,
    /// Whether the extension is critical (RFC 5280 says it must be; Go accepts either).
    pub critical: bool,
}

/// What the authority key identifier says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aki {
    /// No extension.
    Absent,
    /// The signing key's identifier.
    Signer,
    /// The identifier of the key of the CA whose name is the issuer's, even where another key
    /// signed (a certificate that names its CA by key identifier but was not signed by it).
    Named,
    /// Bytes that identify no key here.
    Other,
}

/// One certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    /// A version 1 certificate: no extensions at all.
    pub v1: bool,
    /// Serial number.
    pub serial: u64,
    /// Signature algorithm (of the signer's key).
    pub sig_alg: SigAlg,
    /// Issuer name.
    pub issuer: Name,
    /// Subject name.
    pub subject: Name,
    /// Validity.
    pub not_before: OffsetDateTime,
    /// Validity.
    pub not_after: OffsetDateTime,
    /// Basic constraints, if present.
    pub basic_constraints: Option<Bc>,
    /// Key usage bits (bit 0 = digitalSignature, 5 = keyCertSign, as `1 << (15 - n)`), if
    /// present.
    pub key_usage: Option<u16>,
    /// Extended key usages, if present.
    pub ext_key_usage: Option<Vec<Eku>>,
    /// SANs, if the extension is present.
    pub sans: Option<Vec<San>>,
    /// Name constraints, if present.
    pub name_constraints: Option<NameConstraints>,
    /// An unknown critical extension.
    pub unknown_critical: bool,
    /// The subject's key (index into the case's keys).
    pub subject_key: usize,
    /// The key that signs it.
    pub signer_key: usize,
    /// Whether it has a subject key identifier (its key's).
    pub ski: bool,
    /// Its authority key identifier.
    pub aki: Aki,
    /// The key of the CA whose subject is this certificate's issuer name (its own for a
    /// self-issued certificate).
    pub named_key: usize,
}

/// One generated case: certificates (index = position), the leaf and the pools of a Verify call.
#[derive(Debug, Clone)]
pub struct ChainCase {
    /// The keys.
    pub keys: Vec<KeyKind>,
    /// The certificates' specifications.
    pub specs: Vec<CertSpec>,
    /// The certificates' DER.
    pub ders: Vec<Vec<u8>>,
    /// The leaf's index.
    pub leaf: usize,
    /// The intermediates pool (the CA bundle beside the leaf), in order.
    pub intermediates: Vec<usize>,
    /// The roots pool (etcd's trusted CA file), in order.
    pub roots: Vec<usize>,
}

/// Key-usage bits as written in [`CertSpec::key_usage`].
pub mod ku {
    /// digitalSignature.
    pub const DIGITAL_SIGNATURE: u16 = 1 << 15;
    /// keyEncipherment.
    pub const KEY_ENCIPHERMENT: u16 = 1 << 13;
    /// keyCertSign.
    pub const CERT_SIGN: u16 = 1 << 10;
    /// cRLSign.
    pub const CRL_SIGN: u16 = 1 << 9;
}

fn rsa_pool() -> &'static [KeyPair; 2] {
    static POOL: OnceLock<[KeyPair; 2]> = OnceLock::new();
    POOL.get_or_init(|| {
        let make = || KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("an RSA key");
        [make(), make()]
    })
}

/// A key of `kind`: RSA from the pool, the others made now.
fn make_key(kind: KeyKind) -> Key {
    let alg = match kind {
        KeyKind::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyKind::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
        KeyKind::Rsa(i) => return Key::Pooled(&rsa_pool()[i]),
        KeyKind::Ed448 => {
            return Key::Foreign(
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("a stand-in key"),
            )
        }
    };
    Key::Made(KeyPair::generate_for(alg).expect("a key"))
}

/// A key made for a case or taken from the pool; or an Ed448 public key, with the stand-in key
/// that signs in its place.
enum Key {
    Made(KeyPair),
    Pooled(&'static KeyPair),
    Foreign(KeyPair),
}

impl Key {
    /// The key that signs.
    fn pair(&self) -> &KeyPair {
        match self {
            Key::Made(k) | Key::Foreign(k) => k,
            Key::Pooled(k) => k,
        }
    }

    /// The subject public key info certificates of this key carry.
    fn spki(&self) -> Vec<u8> {
        match self {
            // SEQUENCE { SEQUENCE { id-Ed448 }, BIT STRING of 57 bytes }: Go and pki-core read
            // the algorithm only.
            Key::Foreign(_) => {
                let mut spki = vec![0x30, 0x43, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71];
                spki.extend([0x03, 0x3a, 0x00]);
                spki.extend([0x5a; 57]);
                spki
            }
            k => der::spki(k.pair()),
        }
    }
}

fn key_id(spki: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, spki)
        .as_ref()
        .to_vec()
}

const CA_NAMES: &[(Option<&str>, Option<&str>)] = &[
    (None, Some("etcd-ca")),
    (None, Some("etcd-ca")),
    (Some("Acme"), Some("Intermediate CA")),
    (Some("Acme"), Some("etcd-ca")),
    (Some("Acme Root"), None),
    (None, Some("Peer CA")),
    (None, None),
];

const DNS: &[&str] = &[
    "etcd-0.example.com",
    "example.com",
    "etcd.internal",
    "node.cluster.local",
    "other.org",
    "*.example.com",
    "etcd-peer",
    "ETCD-1.Example.COM",
    "example.com.",
    ".example.com",
    "a..example.com",
    "",
    "*",
    "xn--bcher-kva.example.com",
    "etcd_0.example.com",
];
const EMAILS: &[&str] = &[
    "etcd@example.com",
    "root@other.org",
    "x@sub.example.com",
    "ops@EXAMPLE.com",
    "\"o p\"@example.com",
    "a..b@example.com",
    "no-at-sign.example.com",
    "a@",
];
const URIS: &[&str] = &[
    "https://etcd.example.com/x",
    "spiffe://cluster.local/etcd",
    "https://other.org",
    "https://etcd.example.com:2379",
    "https://10.0.0.1:2379/",
    "https://[fd00::1]:2379/",
    "urn:etcd:member",
    "https://user@Etcd.Example.com/",
];

fn ips() -> [IpAddr; 9] {
    [
        // IPv4-mapped, written in 16 bytes: never inside an IPv4 range for Go.
        IpAddr::V6(Ipv4Addr::new(10, 0, 0, 5).to_ipv6_mapped()),
        IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
        IpAddr::V4(Ipv4Addr::new(255, 255, 255, 255)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
        IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
    ]
}

fn random_san(rng: &mut Rng) -> San {
    match rng.weighted(&[45, 35, 10, 10]) {
        0 => San::Dns(rng.pick(DNS).to_string()),
        1 => San::Ip(*rng.pick(&ips())),
        2 => San::Email(rng.pick(EMAILS).to_string()),
        _ => San::Uri(rng.pick(URIS).to_string()),
    }
}

fn random_constraint(rng: &mut Rng) -> Constraint {
    match rng.weighted(&[40, 35, 15, 10]) {
        // Not `..example.com` (or any name whose second character is also a dot): Go 1.19
        // parses it, Go 1.24 refuses the certificate, and pki-core reads certificates by Go 1.24
        // (tests/go-oracle/DELIBERATE.md).
        0 => Constraint::Dns(
            rng.pick(&[
                "example.com",
                ".example.com",
                "etcd.internal",
                "cluster.local",
                "other.org",
                "",
                "EXAMPLE.COM",
                "a..b",
                "*.example.com",
            ])
            .to_string(),
        ),
        1 => {
            let (ip, prefix) = *rng.pick(&[
                (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 8),
                (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 24),
                (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
                (IpAddr::V4(Ipv4Addr::new(192, 168, 0, 0)), 16),
                (IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0)), 8),
                (IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)), 0),
                (IpAddr::V6(Ipv4Addr::new(10, 0, 0, 0).to_ipv6_mapped()), 104),
            ]);
            Constraint::Ip(ip, prefix)
        }
        2 => Constraint::Email(
            rng.pick(&[
                "example.com",
                ".example.com",
                "etcd@example.com",
                "other.org",
            ])
            .to_string(),
        ),
        _ => Constraint::Uri(
            rng.pick(&["example.com", ".example.com", "cluster.local"])
                .to_string(),
        ),
    }
}

fn random_ekus(rng: &mut Rng) -> Vec<Eku> {
    let all = [
        (Eku::ServerAuth, 55),
        (Eku::ClientAuth, 55),
        (Eku::Any, 8),
        (Eku::CodeSigning, 10),
        (Eku::MsSgc, 5),
        (Eku::NsSgc, 5),
        (Eku::Unknown, 8),
    ];
    let mut ekus: Vec<Eku> = all
        .iter()
        .filter(|(_, p)| rng.chance(*p))
        .map(|(e, _)| *e)
        .collect();
    if ekus.is_empty() {
        ekus.push(*rng.pick(&[Eku::ServerAuth, Eku::ClientAuth, Eku::CodeSigning]));
    }
    ekus
}

fn validity(rng: &mut Rng, at: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let year = Duration::days(365);
    match rng.weighted(&[84, 5, 4, 2, 2, 2, 1]) {
        0 => (at - year, at + year),
        1 => (at - year, at - Duration::days(1)),
        2 => (at + Duration::days(1), at + year),
        3 => (at - year, at),
        4 => (at - year, at - Duration::seconds(1)),
        5 => (at, at + year),
        _ => (at + Duration::seconds(1), at + year),
    }
}

fn random_aki(rng: &mut Rng) -> Aki {
    match rng.weighted(&[75, 5, 7, 13]) {
        0 => Aki::Signer,
        1 => Aki::Named,
        2 => Aki::Other,
        _ => Aki::Absent,
    }
}

/// The pieces a case is made of before it is signed.
struct Draft {
    keys: Vec<KeyKind>,
    specs: Vec<CertSpec>,
}

impl Draft {
    fn name(rng: &mut Rng) -> Name {
        let (o, cn) = *rng.pick(CA_NAMES);
        Name {
            organization: o.map(str::to_string),
            common_name: cn.map(str::to_string),
        }
    }

    fn sig_alg(&self, rng: &mut Rng, signer_key: usize) -> SigAlg {
        match self.keys[signer_key] {
            KeyKind::Rsa(_) if rng.chance(30) => SigAlg::RsaSha1,
            k => k.default_sig(),
        }
    }

    /// A CA certificate issued by `parent` (an index into specs), or self-signed.
    fn ca(&mut self, rng: &mut Rng, parent: Option<usize>, serial: u64) -> CertSpec {
        let at = verification_time();
        let subject = Draft::name(rng);
        let subject_key = rng.below(self.keys.len());
        let (issuer, signer_key, named_key) = match parent {
            None => {
                let signer = if rng.chance(4) {
                    rng.below(self.keys.len())
                } else {
                    subject_key
                };
                (subject.clone(), signer, subject_key)
            }
            Some(p) => {
                let parent = &self.specs[p];
                let signer = if rng.chance(8) {
                    rng.below(self.keys.len())
                } else {
                    parent.subject_key
                };
                (parent.subject.clone(), signer, parent.subject_key)
            }
        };
        let v1 = rng.chance(5);
        let basic_constraints = match rng.weighted(&[72, 10, 6, 5, 7]) {
            0 => Some(Bc {
                ca: true,
                path_len: None,
                critical: true,
            }),
            1 => Some(Bc {
                ca: true,
                path_len: None,
                critical: false,
            }),
            2 => None,
            3 => Some(Bc {
                ca: false,
                path_len: None,
                critical: true,
            }),
            _ => Some(Bc {
                ca: true,
                path_len: Some(rng.below(3) as u8),
                critical: true,
            }),
        };
        let key_usage = match rng.weighted(&[70, 15, 8, 7]) {
            0 => Some(ku::CERT_SIGN | ku::CRL_SIGN),
            1 => None,
            2 => Some(ku::CRL_SIGN),
            _ => Some(ku::DIGITAL_SIGNATURE | ku::CERT_SIGN),
        };
        let (not_before, not_after) = validity(rng, at);
        CertSpec {
            v1,
            serial,
            sig_alg: self.sig_alg(rng, signer_key),
            issuer,
            subject,
            not_before,
            not_after,
            basic_constraints,
            key_usage,
            ext_key_usage: rng.chance(22).then(|| random_ekus(rng)),
            sans: rng
                .chance(10)
                .then(|| (0..rng.range(1, 2)).map(|_| random_san(rng)).collect()),
            name_constraints: rng.chance(18).then(|| NameConstraints {
                permitted: (0..rng.below(3)).map(|_| random_constraint(rng)).collect(),
                excluded: (0..rng.below(2)).map(|_| random_constraint(rng)).collect(),
                critical: !rng.chance(10),
            }),
            unknown_critical: rng.chance(3),
            subject_key,
            signer_key,
            ski: rng.chance(85),
            aki: random_aki(rng),
            named_key,
        }
    }

    fn leaf(&mut self, rng: &mut Rng, parent: usize, serial: u64) -> CertSpec {
        let at = verification_time();
        let parent_spec = &self.specs[parent];
        let signer_key = if rng.chance(5) {
            rng.below(self.keys.len())
        } else {
            parent_spec.subject_key
        };
        let (not_before, not_after) = validity(rng, at);
        CertSpec {
            v1: rng.chance(2),
            serial,
            sig_alg: self.sig_alg(rng, signer_key),
            issuer: parent_spec.subject.clone(),
            subject: Name {
                organization: None,
                common_name: Some(
                    rng.pick(&["etcd-0", "etcd-1.example.com", "client"])
                        .to_string(),
                ),
            },
            not_before,
            not_after,
            basic_constraints: match rng.weighted(&[80, 10, 10]) {
                0 => None,
                1 => Some(Bc {
                    ca: false,
                    path_len: None,
                    critical: true,
                }),
                _ => Some(Bc {
                    ca: true,
                    path_len: None,
                    critical: true,
                }),
            },
            key_usage: match rng.weighted(&[50, 40, 10]) {
                0 => Some(ku::DIGITAL_SIGNATURE | ku::KEY_ENCIPHERMENT),
                1 => None,
                _ => Some(ku::CERT_SIGN),
            },
            ext_key_usage: (!rng.chance(35)).then(|| random_ekus(rng)),
            sans: (!rng.chance(15))
                .then(|| (0..rng.range(1, 4)).map(|_| random_san(rng)).collect()),
            name_constraints: None,
            unknown_critical: rng.chance(3),
            subject_key: rng.below(self.keys.len()),
            signer_key,
            ski: rng.chance(40),
            aki: random_aki(rng),
            named_key: parent_spec.subject_key,
        }
    }
}

impl Name {
    /// A name with only a Common Name.
    pub fn cn(cn: &str) -> Name {
        Name {
            organization: None,
            common_name: Some(cn.to_string()),
        }
    }
}

impl CertSpec {
    /// A self-signed CA with key `key`: v3, critical cA, keyCertSign and cRLSign, SKI, valid a
    /// year either side of [`verification_time`], ECDSA-SHA256 (set `sig_alg` for another key).
    pub fn root(subject: Name, key: usize) -> CertSpec {
        let at = verification_time();
        CertSpec {
            v1: false,
            serial: 1,
            sig_alg: SigAlg::EcdsaSha256,
            issuer: subject.clone(),
            subject,
            not_before: at - Duration::days(365),
            not_after: at + Duration::days(365),
            basic_constraints: Some(Bc {
                ca: true,
                path_len: None,
                critical: true,
            }),
            key_usage: Some(ku::CERT_SIGN | ku::CRL_SIGN),
            ext_key_usage: None,
            sans: None,
            name_constraints: None,
            unknown_critical: false,
            subject_key: key,
            signer_key: key,
            ski: true,
            aki: Aki::Signer,
            named_key: key,
        }
    }

    /// A certificate issued by `parent` with its key: a CA like [`CertSpec::root`] with serial
    /// `serial`; make it a leaf by changing its fields.
    pub fn issued_by(parent: &CertSpec, subject: Name, key: usize, serial: u64) -> CertSpec {
        CertSpec {
            serial,
            issuer: parent.subject.clone(),
            subject,
            subject_key: key,
            signer_key: parent.subject_key,
            named_key: parent.subject_key,
            sig_alg: parent.sig_alg_of_key(),
            ..CertSpec::root(Name::cn("x"), key)
        }
    }

    /// The usual signature algorithm of this certificate's own key type, as far as the spec
    /// knows it (ECDSA-SHA256 unless `sig_alg` was set for another type).
    fn sig_alg_of_key(&self) -> SigAlg {
        match self.sig_alg {
            SigAlg::RsaSha1 => SigAlg::RsaSha256,
            other => other,
        }
    }
}

impl ChainCase {
    /// A case made of these keys and certificates, signed now.
    pub fn build(
        keys: Vec<KeyKind>,
        specs: Vec<CertSpec>,
        leaf: usize,
        intermediates: Vec<usize>,
        roots: Vec<usize>,
    ) -> ChainCase {
        let draft = Draft { keys, specs };
        let ders = sign_all(&draft);
        ChainCase {
            keys: draft.keys,
            specs: draft.specs,
            ders,
            leaf,
            intermediates,
            roots,
        }
    }

    /// Case `index` of the run seeded `seed`.
    pub fn generate(seed: u64, index: u64) -> ChainCase {
        let mut rng = Rng::for_case(seed, index);
        let rng = &mut rng;
        let keys: Vec<KeyKind> = (0..rng.range(2, 5))
            .map(|_| match rng.weighted(&[70, 8, 10, 12, 3]) {
                0 => KeyKind::P256,
                1 => KeyKind::P384,
                2 => KeyKind::Ed25519,
                3 => KeyKind::Rsa(rng.below(2)),
                _ => KeyKind::Ed448,
            })
            .collect();
        let mut draft = Draft {
            keys,
            specs: Vec::new(),
        };
        let mut serial = 1000 + rng.below(1000) as u64;
        let mut next_serial = || {
            serial += 1;
            serial
        };
        let roots = rng.range(1, 2);
        for _ in 0..roots {
            let spec = draft.ca(rng, None, next_serial());
            draft.specs.push(spec);
        }
        for _ in 0..rng.range(0, 3) {
            let parent = rng.below(draft.specs.len());
            let spec = draft.ca(rng, Some(parent), next_serial());
            draft.specs.push(spec);
        }
        // A twin: a CA made again with the same name (renewed, or a foreign CA of that name).
        if rng.chance(15) {
            let mut twin = draft.specs[rng.below(draft.specs.len())].clone();
            twin.serial = next_serial();
            let (nb, na) = validity(rng, verification_time());
            (twin.not_before, twin.not_after) = (nb, na);
            if rng.chance(50) {
                twin.subject_key = rng.below(draft.keys.len());
                if twin.issuer == twin.subject {
                    twin.signer_key = twin.subject_key;
                    twin.named_key = twin.subject_key;
                    twin.sig_alg = draft.sig_alg(rng, twin.signer_key);
                }
            }
            draft.specs.push(twin);
        }
        let cas = draft.specs.len();
        let parent = if rng.chance(70) {
            cas - 1
        } else {
            rng.below(cas)
        };
        let leaf_spec = draft.leaf(rng, parent, next_serial());
        draft.specs.push(leaf_spec);
        let leaf = cas;
        // Self-signed CAs are roots, the others intermediates; each pool is what a CA file
        // would hold, with a link sometimes missing or misplaced.
        let mut root_pool = Vec::new();
        let mut intermediate_pool = Vec::new();
        for (i, spec) in draft.specs[..cas].iter().enumerate() {
            let is_root = spec.issuer == spec.subject;
            if (is_root && rng.chance(92)) || (!is_root && rng.chance(6)) {
                root_pool.push(i);
            }
            if (!is_root && rng.chance(88)) || (is_root && rng.chance(5)) {
                intermediate_pool.push(i);
            }
        }
        if rng.chance(2) {
            root_pool.push(leaf);
        }
        ChainCase::build(draft.keys, draft.specs, leaf, intermediate_pool, root_pool)
    }
}

fn sign_all(draft: &Draft) -> Vec<Vec<u8>> {
    let keys: Vec<Key> = draft.keys.iter().map(|k| make_key(*k)).collect();
    let spkis: Vec<Vec<u8>> = keys.iter().map(Key::spki).collect();
    draft
        .specs
        .iter()
        .map(|spec| {
            let ski = spec.ski.then(|| key_id(&spkis[spec.subject_key]));
            let aki = match spec.aki {
                Aki::Absent => None,
                Aki::Signer => Some(key_id(&spkis[spec.signer_key])),
                Aki::Named => Some(key_id(&spkis[spec.named_key])),
                Aki::Other => Some(vec![0xab; 20]),
            };
            let tbs = der::tbs(
                spec,
                &spkis[spec.subject_key],
                ski.as_deref(),
                aki.as_deref(),
            );
            der::certificate(
                &tbs,
                spec.sig_alg,
                keys[spec.signer_key].pair(),
                draft.keys[spec.signer_key],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_parse_and_the_seed_decides() {
        let (mut parsed, mut made) = (0, 0);
        for i in 0..40 {
            let case = ChainCase::generate(7, i);
            assert_eq!(case.ders.len(), case.specs.len());
            made += case.ders.len();
            // Some are made for Go to refuse (an empty name constraints extension, say).
            parsed += case
                .ders
                .iter()
                .filter(|der| pki_core::Certificate::from_der(der.to_vec()).is_ok())
                .count();
            assert_eq!(
                ChainCase::generate(7, i).specs,
                case.specs,
                "same seed, same case"
            );
        }
        assert!(parsed * 10 > made * 9, "{parsed} of {made} parse");
    }
}

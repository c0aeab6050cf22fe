//! A parsed X.509 certificate and the fields that etcd's TLS checks depend on.
//!
//! Parsing is x509-parser's. The result owns its DER and keeps what later checks need as typed
//! values (SANs as IP addresses and names, extended key usages in Go's vocabulary, basic
//! constraints with Go's `MaxPathLen` meaning, name constraints, unhandled critical extensions),
//! so that coverage, chain and usage checks never parse again. A certificate that Go's
//! `x509.ParseCertificate` would refuse (a malformed known extension, duplicate extensions, an IP
//! SAN that is not 4 or 16 bytes, trailing data) is refused here too, because etcd could not load
//! it either.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Range;

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension, X509Extension};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use crate::ext_key_usage::ExtKeyUsage;
use crate::go_names::{NameConstraint, NameConstraints};
use crate::key::{bit_length, Curve, KeyAlgorithm, PrivateKey, PublicKeyData};
use crate::signature_algorithm::SignatureAlgorithm;

/// The subject alternative names of a certificate, by kind, in certificate order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubjectAltNames {
    /// DNS names, as written (Go compares them case-insensitively).
    pub dns: Vec<String>,
    /// IP addresses (4- or 16-byte SANs).
    pub ip: Vec<IpAddr>,
    /// URIs.
    pub uri: Vec<String>,
    /// Email addresses (rfc822Name).
    pub email: Vec<String>,
    /// Other name forms (directoryName, otherName, ...), described in text; Go ignores them for
    /// host checks.
    pub other: Vec<String>,
}

impl SubjectAltNames {
    /// Whether there is no name of any kind.
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty()
            && self.ip.is_empty()
            && self.uri.is_empty()
            && self.email.is_empty()
            && self.other.is_empty()
    }

    /// Every name as `IP:...`, `DNS:...`, `URI:...`, `email:...` in the order openssl prints.
    pub fn to_strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.dns.iter().map(|d| format!("DNS:{d}")));
        out.extend(self.ip.iter().map(|ip| format!("IP:{ip}")));
        out.extend(self.uri.iter().map(|u| format!("URI:{u}")));
        out.extend(self.email.iter().map(|e| format!("email:{e}")));
        out.extend(self.other.iter().cloned());
        out
    }
}

/// The basic constraints extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BasicConstraints {
    /// Whether the certificate is a CA.
    pub ca: bool,
    /// The path length constraint, if any.
    pub path_len: Option<u32>,
}

/// The kind of a SAN that name constraints apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SanKind {
    Dns,
    Ip,
    Uri,
    Email,
}

/// Byte ranges into the DER of the parts that signature and chain checks use.
#[derive(Debug, Clone)]
struct Raw {
    tbs: Range<usize>,
    subject: Range<usize>,
    issuer: Range<usize>,
    spki: Range<usize>,
    public_key: Range<usize>,
    signature: Range<usize>,
}

/// A parsed certificate.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    raw: Raw,
    version: u32,
    serial: Vec<u8>,
    subject: String,
    common_name: Option<String>,
    issuer: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    sans: SubjectAltNames,
    /// The subjectAltName extension's value (DER), if there is one.
    san_extension: Option<Vec<u8>>,
    key_algorithm: KeyAlgorithm,
    public: PublicKeyData,
    signature_algorithm: SignatureAlgorithm,
    key_usage: Option<u16>,
    ext_key_usage: Option<Vec<ExtKeyUsage>>,
    basic_constraints: Option<BasicConstraints>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    name_constraints: Option<NameConstraints>,
    /// The kinds of the DNS, IP, URI and email SANs in the order written (Go checks name
    /// constraints in that order, so the first violation it reports is the first written).
    san_order: Vec<SanKind>,
    unhandled_critical: Vec<String>,
}

/// Key usage bits in the order of RFC 5280 (bit 0 first), with their RFC names.
const KEY_USAGE_NAMES: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// The keyCertSign bit as x509-parser numbers key usage flags (bit 0 = digitalSignature).
pub(crate) const KU_CERT_SIGN: u16 = 1 << 5;

impl Certificate {
    /// Parses a DER certificate. The error is a human-readable reason.
    pub fn from_der(der: Vec<u8>) -> Result<Certificate, String> {
        let (rest, x509) = X509Certificate::from_der(&der).map_err(|e| {
            let text = e.to_string();
            if text.contains("Eof") || text.contains("Incomplete") {
                "not a valid X.509 certificate: the DER data ends early (truncated?)".to_string()
            } else {
                format!("not a valid X.509 certificate: {text}")
            }
        })?;
        if !rest.is_empty() {
            return Err(format!(
                "{} bytes of trailing data after the certificate",
                rest.len()
            ));
        }
        if has_mistagged_sequence_or_set(&der, 0) {
            return Err(MISTAGGED_SEQUENCE.into());
        }
        let base = der.as_ptr() as usize;
        let range = |s: &[u8]| {
            let start = s.as_ptr() as usize - base;
            start..start + s.len()
        };
        let tbs = &x509.tbs_certificate;
        let raw = Raw {
            tbs: range(tbs.as_ref()),
            subject: range(tbs.subject.as_raw()),
            issuer: range(tbs.issuer.as_raw()),
            spki: range(tbs.subject_pki.raw),
            public_key: range(&tbs.subject_pki.subject_public_key.data),
            signature: range(&x509.signature_value.data),
        };
        let (key_algorithm, public) = public_key_of(&tbs.subject_pki)?;
        let mut cert = Certificate {
            raw,
            version: tbs.version.0 + 1,
            serial: tbs.raw_serial().to_vec(),
            subject: name_to_string(&tbs.subject),
            common_name: tbs
                .subject
                .iter_common_name()
                // Go keeps the last CN of the subject.
                .last()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_string),
            issuer: name_to_string(&tbs.issuer),
            not_before: tbs.validity.not_before.to_datetime(),
            not_after: tbs.validity.not_after.to_datetime(),
            sans: SubjectAltNames::default(),
            san_extension: None,
            key_algorithm,
            public,
            signature_algorithm: SignatureAlgorithm::from_x509(&x509.signature_algorithm),
            key_usage: None,
            ext_key_usage: None,
            basic_constraints: None,
            subject_key_id: None,
            authority_key_id: None,
            name_constraints: None,
            san_order: Vec::new(),
            unhandled_critical: Vec::new(),
            der: Vec::new(),
        };
        for (which, name) in [("issuer", &tbs.issuer), ("subject", &tbs.subject)] {
            if let Some(why) = go_name_problem(name) {
                return Err(format!(
                    "x509: invalid RDNSequence: invalid attribute value: {why} (in the {which} name)"
                ));
            }
        }
        if x509.signature_algorithm != tbs.signature {
            return Err(
                "the signature algorithm inside the certificate differs from the outer one".into(),
            );
        }
        let extensions = tbs.extensions();
        for (i, ext) in extensions.iter().enumerate() {
            if extensions[..i].iter().any(|e| e.oid == ext.oid) {
                return Err("x509: certificate contains duplicate extensions".into());
            }
            if has_mistagged_sequence_or_set(ext.value, 0) && is_go_parsed(&ext.oid.to_id_string())
            {
                return Err(MISTAGGED_SEQUENCE.into());
            }
            cert.read_extension(ext)?;
        }
        drop(x509);
        cert.der = der;
        Ok(cert)
    }

    fn read_extension(&mut self, ext: &X509Extension<'_>) -> Result<(), String> {
        // Dotted text only where it is needed (most extensions are parsed by type).
        let oid = || ext.oid.to_id_string();
        let mut handled = true;
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                self.san_extension = Some(ext.value.to_vec());
                let tags = general_name_tags(ext.value)
                    .filter(|tags| tags.len() == san.general_names.len());
                for (i, name) in san.general_names.iter().enumerate() {
                    self.add_san(name, tags.as_ref().map(|tags| tags[i]))?;
                }
                let s = &self.sans;
                if s.dns.is_empty() && s.ip.is_empty() && s.uri.is_empty() && s.email.is_empty() {
                    handled = false;
                }
            }
            ParsedExtension::KeyUsage(ku) => self.key_usage = Some(ku.flags),
            ParsedExtension::ExtendedKeyUsage(eku) => {
                self.ext_key_usage = Some(ExtKeyUsage::from_x509(eku));
            }
            ParsedExtension::BasicConstraints(bc) => {
                self.basic_constraints = Some(BasicConstraints {
                    ca: bc.ca,
                    path_len: bc.path_len_constraint,
                });
            }
            ParsedExtension::SubjectKeyIdentifier(id) => self.subject_key_id = Some(id.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                self.authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            ParsedExtension::NameConstraints(nc) => {
                let (constraints, all_understood) = name_constraints_of(nc)?;
                self.name_constraints = Some(constraints);
                handled = all_understood;
            }
            ParsedExtension::CRLDistributionPoints(_)
            | ParsedExtension::CertificatePolicies(_)
            | ParsedExtension::AuthorityInfoAccess(_) => {}
            ParsedExtension::ParseError { error } => {
                let oid = oid();
                if is_go_parsed(&oid) {
                    return Err(format!("extension {oid} is malformed: {error}"));
                }
                handled = false;
            }
            _ => handled = is_go_handled_without_parsing(&oid()),
        }
        if ext.critical && !handled {
            self.unhandled_critical.push(oid());
        }
        Ok(())
    }

    /// Adds one name of the SAN extension; `tag` is its tag byte as written.
    fn add_san(&mut self, name: &GeneralName<'_>, tag: Option<u8>) -> Result<(), String> {
        // x509-parser reads these four by their tag number alone; Go only by their exact tag
        // byte, and skips a name with any other (a constructed [7], say): so it is no IP SAN.
        let go_tag = match name {
            GeneralName::RFC822Name(_) => Some(0x81),
            GeneralName::DNSName(_) => Some(0x82),
            GeneralName::URI(_) => Some(0x86),
            GeneralName::IPAddress(_) => Some(0x87),
            _ => None,
        };
        if let (Some(go_tag), Some(tag)) = (go_tag, tag) {
            if tag != go_tag {
                self.sans
                    .other
                    .push(format!("name with tag {tag:#04x} (skipped, as Go does)"));
                return Ok(());
            }
        }
        match name {
            // Go's parser refuses names that are not IA5 (ASCII) strings.
            GeneralName::DNSName(d) if !d.is_ascii() => {
                return Err("x509: SAN dNSName is malformed".into())
            }
            GeneralName::RFC822Name(e) if !e.is_ascii() => {
                return Err("x509: SAN rfc822Name is malformed".into())
            }
            GeneralName::URI(u) if !u.is_ascii() => {
                return Err("x509: SAN uniformResourceIdentifier is malformed".into())
            }
            GeneralName::DNSName(d) => {
                self.sans.dns.push((*d).to_string());
                self.san_order.push(SanKind::Dns);
            }
            GeneralName::IPAddress(bytes) => {
                self.sans.ip.push(ip_from_bytes(bytes).ok_or_else(|| {
                    format!("x509: cannot parse IP address of length {}", bytes.len())
                })?);
                self.san_order.push(SanKind::Ip);
            }
            GeneralName::URI(u) => {
                self.sans.uri.push((*u).to_string());
                self.san_order.push(SanKind::Uri);
            }
            GeneralName::RFC822Name(e) => {
                self.sans.email.push((*e).to_string());
                self.san_order.push(SanKind::Email);
            }
            GeneralName::DirectoryName(n) => self
                .sans
                .other
                .push(format!("DirName:{}", name_to_string(n))),
            GeneralName::OtherName(oid, _) => self
                .sans
                .other
                .push(format!("othername:{}", oid.to_id_string())),
            GeneralName::RegisteredID(oid) => self
                .sans
                .other
                .push(format!("Registered ID:{}", oid.to_id_string())),
            GeneralName::X400Address(_) => self.sans.other.push("X400Name:<unsupported>".into()),
            GeneralName::EDIPartyName(_) => {
                self.sans.other.push("EdiPartyName:<unsupported>".into())
            }
            GeneralName::Invalid(tag, _) => {
                return Err(format!("x509: SAN entry with tag {} does not parse", tag.0))
            }
        }
        Ok(())
    }

    /// The certificate's DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate in PEM.
    pub fn to_pem(&self) -> String {
        crate::pem::encode("CERTIFICATE", &self.der)
    }

    /// X.509 version (1 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The serial number as lowercase hex, as openssl prints it without colons.
    pub fn serial_hex(&self) -> String {
        hex(crate::key::strip_leading_zeros(&self.serial), "")
    }

    /// The serial number's bytes as encoded. Issuer and serial together name one certificate
    /// (RFC 5280, 4.1.2.2).
    pub(crate) fn serial_bytes(&self) -> &[u8] {
        &self.serial
    }

    /// The subject in RFC 4514-like order of the certificate (`C=CN, ..., CN=etcd-peer`).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The subject's common name, if any. Go never uses it for host checks.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The issuer's name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Start of validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The subject alternative names (empty when the extension is absent).
    pub fn sans(&self) -> &SubjectAltNames {
        &self.sans
    }

    /// Whether the certificate has a subjectAltName extension at all.
    pub fn has_san_extension(&self) -> bool {
        self.san_extension.is_some()
    }

    /// The subjectAltName extension's value as written (DER), if there is one.
    pub(crate) fn san_extension_der(&self) -> Option<&[u8]> {
        self.san_extension.as_deref()
    }

    /// The public key's algorithm and size.
    pub fn key_algorithm(&self) -> &KeyAlgorithm {
        &self.key_algorithm
    }

    /// The signature algorithm.
    pub fn signature_algorithm(&self) -> &SignatureAlgorithm {
        &self.signature_algorithm
    }

    /// Key usage bits (x509-parser numbering: bit 0 is digitalSignature), if the extension is present.
    pub fn key_usage_bits(&self) -> Option<u16> {
        self.key_usage
    }

    /// Key usage names, in RFC 5280 order.
    pub fn key_usage(&self) -> Vec<&'static str> {
        let bits = self.key_usage.unwrap_or(0);
        KEY_USAGE_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    /// Extended key usages, or `None` when the extension is absent (valid for any usage).
    pub fn ext_key_usage(&self) -> Option<&[ExtKeyUsage]> {
        self.ext_key_usage.as_deref()
    }

    /// The basic constraints, if the extension is present.
    pub fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.basic_constraints
    }

    /// Whether this is a CA certificate (basic constraints with cA set).
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.is_some_and(|bc| bc.ca)
    }

    /// Subject key identifier.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.subject_key_id.as_deref()
    }

    /// Authority key identifier (its keyIdentifier field).
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// OIDs of critical extensions Go does not understand; Go refuses such a certificate in
    /// chain verification ("unhandled critical extension").
    pub fn unhandled_critical_extensions(&self) -> &[String] {
        &self.unhandled_critical
    }

    /// SHA-256 over the DER.
    pub fn fingerprint_sha256(&self) -> [u8; 32] {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.der);
        let mut out = [0; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }

    /// Whether issuer and subject are the same name (a root, or a self-issued certificate).
    pub fn is_self_issued(&self) -> bool {
        self.raw_subject() == self.raw_issuer()
    }

    /// Whether the certificate is valid at `at` (not before ≤ at ≤ not after, as Go compares).
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        at >= self.not_before && at <= self.not_after
    }

    pub(crate) fn raw_subject(&self) -> &[u8] {
        &self.der[self.raw.subject.clone()]
    }

    pub(crate) fn raw_issuer(&self) -> &[u8] {
        &self.der[self.raw.issuer.clone()]
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.der[self.raw.spki.clone()]
    }

    pub(crate) fn subject_public_key_bytes(&self) -> &[u8] {
        &self.der[self.raw.public_key.clone()]
    }

    pub(crate) fn tbs_bytes(&self) -> &[u8] {
        &self.der[self.raw.tbs.clone()]
    }

    pub(crate) fn signature_bytes(&self) -> &[u8] {
        &self.der[self.raw.signature.clone()]
    }

    pub(crate) fn public_key_data(&self) -> &PublicKeyData {
        &self.public
    }

    /// The kinds of the DNS, IP, URI and email SANs, in the order written: the `n`-th of a kind
    /// is the `n`-th of its list in [`Certificate::sans`].
    pub(crate) fn san_order(&self) -> &[SanKind] {
        &self.san_order
    }

    pub(crate) fn name_constraints(&self) -> Option<&NameConstraints> {
        self.name_constraints.as_ref()
    }

    /// Go's `MaxPathLen`: `None` when unconstrained (Go's -1).
    pub(crate) fn max_path_len(&self) -> Option<u32> {
        self.basic_constraints.and_then(|bc| bc.path_len)
    }
}

impl PrivateKey {
    /// Whether this key is the private half of the certificate's public key, compared as Go's
    /// `tls.X509KeyPair` compares them.
    pub fn matches(&self, cert: &Certificate) -> bool {
        let public = self.public_key_data();
        *public != PublicKeyData::Unsupported && public == cert.public_key_data()
    }
}

/// Extension OIDs whose content Go parses and whose malformation makes Go refuse the certificate.
fn is_go_parsed(oid: &str) -> bool {
    matches!(
        oid,
        "2.5.29.15"
            | "2.5.29.19"
            | "2.5.29.17"
            | "2.5.29.30"
            | "2.5.29.37"
            | "2.5.29.35"
            | "2.5.29.14"
    )
}

/// The tag byte of each GeneralName in a SAN extension's DER, or `None` where it does not split.
fn general_name_tags(value: &[u8]) -> Option<Vec<u8>> {
    let (&0x30, rest) = value.split_first()? else {
        return None;
    };
    let (mut names, _) = der_content(rest)?;
    let mut tags = Vec::new();
    while let [tag, rest @ ..] = names {
        if tag & 0x1f == 0x1f {
            return None;
        }
        tags.push(*tag);
        names = der_content(rest)?.1;
    }
    Some(tags)
}

const MISTAGGED_SEQUENCE: &str =
    "x509: malformed certificate (a SEQUENCE or SET has a wrong tag byte)";

/// Whether DER holds a SEQUENCE or SET with a wrong tag byte: tag number 16 or 17, but primitive
/// or of another class than universal (0x10, 0x70, 0xb0, ... instead of 0x30 or 0x31), looking
/// into every constructed element. x509-parser checks only the tag number of the SEQUENCEs and
/// SETs it reads, so it parses them; Go's parser (cryptobyte) reads them only by their whole
/// tag byte, and refuses the certificate. (No certificate uses tag number 16 or 17 otherwise.)
/// Walking stops where the bytes are not DER, which x509-parser has judged already.
fn has_mistagged_sequence_or_set(mut der: &[u8], depth: usize) -> bool {
    const MAX_DEPTH: usize = 64;
    while let [tag, rest @ ..] = der {
        // High tag numbers (0x1f) are not SEQUENCEs; their length cannot be found here.
        if tag & 0x1f == 0x1f {
            return false;
        }
        let Some((content, after)) = der_content(rest) else {
            return false;
        };
        let constructed = tag & 0x20 != 0;
        if matches!(tag & 0x1f, 0x10 | 0x11) && !matches!(tag, 0x30 | 0x31) {
            return true;
        }
        if constructed && depth < MAX_DEPTH && has_mistagged_sequence_or_set(content, depth + 1) {
            return true;
        }
        der = after;
    }
    false
}

/// Splits the bytes after a tag into the element's content and what follows it.
fn der_content(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = bytes.split_first()?;
    let (len, rest) = if first & 0x80 == 0 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > std::mem::size_of::<usize>() {
            return None;
        }
        let (len_bytes, rest) = rest.split_at_checked(n)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        (len, rest)
    };
    rest.split_at_checked(len)
}

/// Extensions Go treats as handled even when critical, beyond those parsed above.
fn is_go_handled_without_parsing(oid: &str) -> bool {
    matches!(
        oid,
        "2.5.29.31" | "2.5.29.32" | "1.3.6.1.5.5.7.1.1" | "2.5.29.14" | "2.5.29.35"
    )
}

fn public_key_of(
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
) -> Result<(KeyAlgorithm, PublicKeyData), String> {
    use x509_parser::public_key::PublicKey;
    let oid = spki.algorithm.algorithm.to_id_string();
    match oid.as_str() {
        // Go parses only rsaEncryption keys as RSA; an RSASSA-PSS key is an unknown algorithm.
        "1.2.840.113549.1.1.1" => match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => Ok((
                KeyAlgorithm::Rsa {
                    bits: bit_length(rsa.modulus),
                },
                PublicKeyData::rsa(rsa.modulus, rsa.exponent),
            )),
            _ => Err("the RSA public key does not parse".into()),
        },
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| Curve::from_oid_str(&o.to_id_string()))
                .ok_or("the EC public key names no curve")?;
            if matches!(curve, Curve::Other(_)) && curve != Curve::Other("1.3.132.0.33".into()) {
                // Go knows P-224, P-256, P-384 and P-521 and refuses the certificate otherwise.
                return Err("x509: unsupported elliptic curve".into());
            }
            let point = spki.subject_public_key.data.to_vec();
            Ok((
                KeyAlgorithm::Ecdsa {
                    curve: curve.clone(),
                },
                PublicKeyData::Ec { curve, point },
            ))
        }
        "1.3.101.112" if spki.subject_public_key.data.len() != 32 => {
            Err("x509: wrong Ed25519 public key size".into())
        }
        "1.3.101.112" => Ok((
            KeyAlgorithm::Ed25519,
            PublicKeyData::Ed25519(spki.subject_public_key.data.to_vec()),
        )),
        _ => Ok((KeyAlgorithm::Other { oid }, PublicKeyData::Unsupported)),
    }
}

/// The constraints of a name constraints extension, and whether every one is of a form Go
/// understands; refused with Go's message where Go refuses to parse the certificate
/// (`parseNameConstraintsExtension`, see [`crate::name_constraints::parse_problem`]).
fn name_constraints_of(
    nc: &x509_parser::extensions::NameConstraints<'_>,
) -> Result<(NameConstraints, bool), String> {
    let mut understood = true;
    let mut convert = |subtrees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
        let mut out = Vec::new();
        for subtree in subtrees.iter().flatten() {
            match &subtree.base {
                GeneralName::DNSName(d) => out.push(NameConstraint::Dns((*d).to_string())),
                GeneralName::RFC822Name(e) => out.push(NameConstraint::Email((*e).to_string())),
                GeneralName::URI(u) => out.push(NameConstraint::Uri((*u).to_string())),
                GeneralName::IPAddress(b) => {
                    let half = b.len() / 2;
                    out.push(NameConstraint::Ip {
                        addr: b[..half].to_vec(),
                        mask: b[half..].to_vec(),
                    });
                }
                _ => understood = false,
            }
        }
        out
    };
    let permitted = convert(&nc.permitted_subtrees);
    let excluded = convert(&nc.excluded_subtrees);
    let no_subtrees = |s: &Option<Vec<_>>| s.as_ref().is_none_or(Vec::is_empty);
    if no_subtrees(&nc.permitted_subtrees) && no_subtrees(&nc.excluded_subtrees) {
        return Err("x509: empty name constraints extension".into());
    }
    let constraints = NameConstraints {
        permitted,
        excluded,
    };
    crate::go_names::parse_problem(&constraints)?;
    Ok((constraints, understood))
}

/// An IP SAN: 4 bytes are IPv4, 16 bytes IPv6 (kept as written, as Go keeps it).
fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

impl Certificate {
    /// A DER Name as text, as [`Certificate::subject`] shows a subject.
    pub(crate) fn name_text(der: &[u8]) -> Option<String> {
        use x509_parser::prelude::FromDer;
        X509Name::from_der(der)
            .ok()
            .map(|(_, name)| name_to_string(&name))
    }
}

fn name_to_string(name: &X509Name<'_>) -> String {
    if let Some(text) = common_name_to_string(name) {
        return text;
    }
    match x509_parser::x509::X509Name::to_string_with_registry(
        name,
        x509_parser::objects::oid_registry(),
    ) {
        Ok(s) => s,
        Err(_) => "<unprintable name>".to_string(),
    }
}

/// The same text as x509-parser's, without its registry lookups, for the names nearly every
/// certificate has: attributes among C, ST, L, O, OU, CN, DC and email with string values.
/// `None` sends anything else to x509-parser.
fn common_name_to_string(name: &X509Name<'_>) -> Option<String> {
    use x509_parser::der_parser::asn1_rs::Tag;
    use x509_parser::oid_registry as oids;
    let mut out = String::with_capacity(64);
    for (i, rdn) in name.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        for (j, attr) in rdn.iter().enumerate() {
            let oid = attr.attr_type();
            let abbrev = if *oid == oids::OID_X509_COMMON_NAME {
                "CN"
            } else if *oid == oids::OID_X509_COUNTRY_NAME {
                "C"
            } else if *oid == oids::OID_X509_LOCALITY_NAME {
                "L"
            } else if *oid == oids::OID_X509_STATE_OR_PROVINCE_NAME {
                "ST"
            } else if *oid == oids::OID_X509_ORGANIZATION_NAME {
                "O"
            } else if *oid == oids::OID_X509_ORGANIZATIONAL_UNIT {
                "OU"
            } else if *oid == oids::OID_DOMAIN_COMPONENT {
                "DC"
            } else if *oid == oids::OID_PKCS9_EMAIL_ADDRESS {
                "Email"
            } else {
                return None;
            };
            let value = attr.attr_value();
            if !matches!(
                value.tag(),
                Tag::PrintableString | Tag::Utf8String | Tag::Ia5String
            ) {
                return None;
            }
            let value = std::str::from_utf8(value.data).ok()?;
            if j > 0 {
                out.push_str(" + ");
            }
            out.push_str(abbrev);
            out.push('=');
            out.push_str(value);
        }
    }
    Some(out)
}

/// Why Go's `x509.ParseCertificate` refuses a name, if it does: every attribute value of the
/// issuer and subject must be a string of a type Go reads (its `parseASN1String`), and valid in
/// that type. x509-parser keeps such values as they are, so a certificate etcd cannot load would
/// otherwise be shown as fine.
fn go_name_problem(name: &X509Name<'_>) -> Option<&'static str> {
    use x509_parser::der_parser::asn1_rs::{Class, Tag};
    for attr in name.iter().flat_map(|rdn| rdn.iter()) {
        let value = attr.attr_value();
        let bytes = value.data;
        if value.class() != Class::Universal || value.header.is_constructed() {
            return Some("unsupported string type");
        }
        let problem = match value.tag() {
            Tag::T61String => None,
            Tag::PrintableString if !bytes.iter().all(|b| go_printable(*b)) => {
                Some("invalid PrintableString")
            }
            Tag::PrintableString => None,
            Tag::Utf8String if std::str::from_utf8(bytes).is_err() => Some("invalid UTF-8 string"),
            Tag::Utf8String => None,
            Tag::BmpString if bytes.len() % 2 != 0 => Some("invalid BMPString"),
            Tag::BmpString => None,
            Tag::Ia5String if !bytes.is_ascii() => Some("invalid IA5String"),
            Tag::Ia5String => None,
            Tag::NumericString if !bytes.iter().all(|b| b.is_ascii_digit() || *b == b' ') => {
                Some("invalid NumericString")
            }
            Tag::NumericString => None,
            _ => Some("unsupported string type"),
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

/// Go's PrintableString set (`isPrintable` in crypto/x509), which also admits `*` and `&`.
fn go_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+,-./:=? *&".contains(&b)
}

/// Bytes as lowercase hex with a separator.
pub(crate) fn hex(bytes: &[u8], sep: &str) -> String {
    let mut out = String::with_capacity(bytes.len() * (2 + sep.len()));
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn san_names_go_does_not_read_are_not_dns_or_ip_sans() {
        // Found by the reissue fuzz target: x509-parser reads an iPAddress (or dNSName, URI,
        // rfc822Name) by its tag number alone, so a constructed [7] (0xa7) was an IP SAN here;
        // Go reads those names only by their exact tag byte (0x87) and skips any other, so it
        // covered a host for pki-core and not for Go, and reissue could not remove it.
        let mut der = crate::test_support::cert("cfssl/members.pem")
            .der()
            .to_vec();
        let first_ip = der
            .windows(6)
            .position(|w| w == [0x87, 0x04, 127, 0, 0, 1])
            .expect("the IP SAN 127.0.0.1");
        der[first_ip] = 0xa7;
        let cert = Certificate::from_der(der).unwrap();
        let ips: Vec<String> = cert.sans().ip.iter().map(|ip| ip.to_string()).collect();
        assert_eq!(ips, ["127.0.0.11", "127.0.0.12", "127.0.0.13"]);
        assert_eq!(
            cert.sans().other,
            ["name with tag 0xa7 (skipped, as Go does)"]
        );
        let host = crate::Host::parse("127.0.0.1").unwrap();
        assert!(!crate::covers(&cert, &host).is_covered());
    }

    #[test]
    fn a_mistagged_sequence_or_set_is_malformed() {
        // Found by the etcd_file fuzz target: with its outer SEQUENCE tag 0x10 instead of 0x30
        // (the constructed bit cleared), a certificate parsed, as x509-parser checks only the
        // tag number (not the constructed bit nor the class); Go's parser reads a SEQUENCE only
        // as 0x30 and refuses it, so etcd would not load what pki-core passed (and the
        // certificate did not load again from its own DER).
        let der = crate::test_support::cert("cfssl/members.pem")
            .der()
            .to_vec();
        assert_eq!(&der[..2], [0x30, 0x82]);
        assert_eq!(&der[4..6], [0x30, 0x82], "the TBSCertificate");
        let subject = der
            .windows(5)
            .position(|w| w == [0x31, 0x0b, 0x30, 0x09, 0x06])
            .expect("the subject's first RDN, a SET");
        let cases = [
            (0, 0x10),
            (0, 0x70),
            (0, 0xb0),
            (4, 0x10),
            (4, 0xf0),
            (subject, 0x11),
            (subject + 2, 0x10),
        ];
        for (at, tag) in cases {
            let mut bad = der.clone();
            bad[at] = tag;
            match Certificate::from_der(bad) {
                Err(err) => assert!(err.contains("malformed"), "{at}: {err}"),
                Ok(_) => panic!("byte {at} = {tag:#04x}: a mistagged SEQUENCE or SET parsed"),
            }
        }
        assert!(Certificate::from_der(der).is_ok());
    }

    #[test]
    fn names_print_as_x509_parser_prints_them() {
        let mut compared = 0;
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(certs) = crate::certificates_from_bytes(&std::fs::read(&path).unwrap())
                else {
                    continue;
                };
                for cert in certs {
                    let (_, x509) = X509Certificate::from_der(cert.der()).unwrap();
                    for name in [&x509.tbs_certificate.subject, &x509.tbs_certificate.issuer] {
                        // x509-parser prints no T61String or BMPString (fixtures/bad has
                        // them); the fast path leaves those to it too.
                        let Ok(expected) =
                            name.to_string_with_registry(x509_parser::objects::oid_registry())
                        else {
                            assert_eq!(common_name_to_string(name), None);
                            continue;
                        };
                        if let Some(fast) = common_name_to_string(name) {
                            assert_eq!(fast, expected, "{}", path.display());
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert!(compared > 100, "only {compared} names compared");
    }

    #[test]
    fn ip_sans_of_odd_length_are_refused() {
        assert_eq!(
            ip_from_bytes(&[127, 0, 0, 1]),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(ip_from_bytes(&[1, 2, 3]), None);
        assert!(ip_from_bytes(&[0; 16]).unwrap().is_ipv6());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            vec![],
            vec![0x30],
            vec![0x30, 0x80],
            vec![0x30, 0x03, 0x02, 0x01, 0x00],
        ] {
            assert!(Certificate::from_der(input).is_err());
        }
    }

    /// A self-signed shape with `value` (tag, bytes) as the subject's and issuer's CN.
    fn with_common_name(tag: u8, value: &[u8]) -> Vec<u8> {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            assert!(content.len() < 128);
            let mut out = vec![tag, content.len() as u8];
            out.extend_from_slice(content);
            out
        }
        // Only the names are read before the refusal: the rest is a minimal placeholder.
        let cn = tlv(
            0x30,
            &[&[0x06, 0x03, 0x55, 0x04, 0x03][..], &tlv(tag, value)].concat(),
        );
        let name = tlv(0x30, &tlv(0x31, &cn));
        let alg = tlv(
            0x30,
            &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        );
        let time = |t: &[u8]| tlv(0x17, t);
        let validity = tlv(
            0x30,
            &[time(b"250101000000Z"), time(b"350101000000Z")].concat(),
        );
        let spki_alg = tlv(
            0x30,
            &[
                &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01][..],
                &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            ]
            .concat(),
        );
        let mut point = vec![0x00, 0x04];
        point.extend_from_slice(&[1; 64]);
        let spki = tlv(0x30, &[spki_alg, tlv(0x03, &point)].concat());
        let tbs = [
            tlv(0xa0, &[0x02, 0x01, 0x02]),
            vec![0x02, 0x01, 0x01],
            alg.clone(),
            name.clone(),
            validity,
            name,
            spki,
        ]
        .concat();
        let tbs = {
            let mut out = vec![0x30, 0x81, tbs.len() as u8];
            out.extend_from_slice(&tbs);
            out
        };
        let content = [tbs, alg, tlv(0x03, &[0x00, 0x30, 0x00])].concat();
        let mut out = vec![0x30, 0x82, (content.len() >> 8) as u8, content.len() as u8];
        out.extend_from_slice(&content);
        out
    }

    #[test]
    fn names_go_cannot_read_are_refused_as_go_refuses_them() {
        // The good shape parses, so each refusal below is the name's.
        assert!(Certificate::from_der(with_common_name(0x0c, b"etcd")).is_ok());
        for (tag, value, accepted) in [
            (0x0c, "etcd-é".as_bytes(), true),
            (0x0c, b"etcd-\xff\xfe", false),
            (0x13, b"etcd-1*&", true),
            (0x13, b"etcd_1", false),
            (0x14, b"caf\xe9", true),
            (0x1e, b"\x00e\x00t", true),
            (0x1e, b"\x00e\x00", false),
            (0x16, b"etcd", true),
            (0x16, b"\xe9", false),
            (0x12, b"12 3", true),
            (0x12, b"12a", false),
            (0x1c, b"\x00\x00\x00e", false),
            (0x04, b"etcd", false),
        ] {
            let result = Certificate::from_der(with_common_name(tag, value));
            assert_eq!(
                result.is_ok(),
                accepted,
                "tag {tag:#x} {value:x?}: {result:?}"
            );
            if let Err(e) = result {
                assert!(e.starts_with("x509: invalid RDNSequence"), "{e}");
            }
        }
    }

    #[test]
    fn hex_formats() {
        assert_eq!(hex(&[0xab, 0x01], ":"), "ab:01");
        assert_eq!(hex(&[], ":"), "");
    }
}

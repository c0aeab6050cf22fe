//! Reading certificates and private keys from files and bytes.
//!
//! Real etcd hosts hold PEM files with one or many blocks (cfssl's `ca.pem`, kubeadm's
//! `server.crt`, bundles of a leaf and its intermediates, a certificate and its key in one file)
//! and sometimes DER. The format is sniffed from the content, never from the file name. PEM
//! framing is [`crate::pem`]'s, so that every block's label is known (an encrypted key or a CSR
//! is named in the error, not silently skipped). Block bodies are read as Go's `pem.Decode`
//! reads them (a body Go cannot decode is a block Go skips); a key's base64 is gathered and checked
//! in zeroed memory and decoded by rustls-pki-types' constant-time `PemObject`, which copies each
//! line into a buffer of its own that it does not zero when freed.

use std::io::Read;
use std::path::Path;

use rustls_pki_types::pem::{PemObject, SectionKind};
use zeroize::Zeroizing;

use crate::cert::Certificate;
use crate::error::{Error, Found, Result};
use crate::key::{KeyFormat, PrivateKey};
use crate::pem::{
    decode_public_block, frame_pem, go_base64_chars, go_base64_valid, go_block_body, split_pem,
};

/// Files larger than this are not read: no certificate or key file is anywhere near it, and a
/// directory scan must not slurp an etcd database that happens to sit in the tree.
pub const MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

/// The DER of a private key and the format it is in; zeroed when dropped.
pub(crate) struct KeyDer {
    pub(crate) format: KeyFormat,
    pub(crate) der: Zeroizing<Vec<u8>>,
}

/// Everything recognised in one file or buffer.
pub(crate) struct Contents {
    /// DER of each certificate, in file order.
    pub(crate) certificates: Vec<Vec<u8>>,
    /// Each unencrypted private key, in file order.
    pub(crate) keys: Vec<KeyDer>,
    /// How many encrypted private keys were seen (PKCS#8 or legacy PEM encryption).
    pub(crate) encrypted_keys: usize,
    /// What the input holds, for error messages.
    pub(crate) found: Found,
    /// What the first PEM block labelled `PRIVATE KEY` or `... PRIVATE KEY` is, when it is not
    /// a key this crate reads: the block Go's `tls.X509KeyPair` (and so etcd) takes as the key,
    /// whatever follows it.
    pub(crate) first_key_block: Option<UnusableKeyBlock>,
}

/// A first key block that etcd cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UnusableKeyBlock {
    /// An encrypted key (`ENCRYPTED PRIVATE KEY`, or legacy `Proc-Type: 4,ENCRYPTED`).
    Encrypted,
    /// A key block of another kind (`OPENSSH PRIVATE KEY`, `DSA PRIVATE KEY`), by label.
    Other(String),
}

impl Contents {
    /// The error for a file whose first key block etcd cannot use although a usable key
    /// follows it (without one, the file is refused for lacking a key anyway).
    pub(crate) fn first_key_refusal(&self) -> Option<Error> {
        if self.keys.is_empty() {
            return None;
        }
        match self.first_key_block.as_ref()? {
            UnusableKeyBlock::Encrypted => Some(Error::EncryptedKey { path: None }),
            UnusableKeyBlock::Other(label) => Some(Error::UnsupportedKey {
                path: None,
                algorithm: format!(
                    "the first key block is {}, and etcd reads only the first",
                    Found::describe_label(label)
                ),
            }),
        }
    }
}

/// Reads a whole file, refusing (at once, without blocking) what is not a regular file, such as
/// a named pipe or a device, and what is larger than [`MAX_FILE_SIZE`].
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let (file, meta) = crate::files::open_regular(path)?;
    if meta.len() > MAX_FILE_SIZE {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit: MAX_FILE_SIZE,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| Error::Read {
            path: path.to_path_buf(),
            error,
        })?;
    Ok(bytes)
}

/// Everything usable in one file: certificates and private keys, in file order.
#[derive(Debug)]
#[non_exhaustive]
pub struct Loaded {
    /// The certificates.
    pub certificates: Vec<Certificate>,
    /// The unencrypted private keys.
    pub keys: Vec<PrivateKey>,
    /// How many encrypted private keys the file holds (they cannot be used).
    pub encrypted_keys: usize,
    /// What the file holds, in words (for files with neither certificates nor keys).
    pub found: Found,
}

/// Loads every certificate and private key in a file. A file with neither is not an error here;
/// `found` says what it holds.
pub fn load_file(path: impl AsRef<Path>) -> Result<Loaded> {
    let path = path.as_ref();
    let bytes = Zeroizing::new(read_file(path)?);
    load_bytes(&bytes).map_err(|e| e.with_path(path))
}

/// [`load_file`] for bytes in memory.
pub fn load_bytes(bytes: &[u8]) -> Result<Loaded> {
    let contents = parse_contents(bytes)?;
    if let Some(e) = contents.first_key_refusal() {
        return Err(e);
    }
    let certificates = contents
        .certificates
        .into_iter()
        .enumerate()
        .map(|(index, der)| {
            Certificate::from_der(der).map_err(|reason| Error::MalformedCertificate {
                path: None,
                index,
                reason,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let keys = contents
        .keys
        .iter()
        .map(|k| PrivateKey::from_der(k.format, &k.der))
        .collect::<Result<Vec<_>>>()?;
    Ok(Loaded {
        certificates,
        keys,
        encrypted_keys: contents.encrypted_keys,
        found: contents.found,
    })
}

/// Loads every certificate in a PEM or DER file, in file order.
///
/// A PEM file may hold other blocks too (a key, a CSR); they are ignored here. A file without
/// any certificate is an [`Error::NoCertificate`] that says what the file holds instead.
pub fn load_certificates(path: impl AsRef<Path>) -> Result<Vec<Certificate>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    certificates_from_bytes(&bytes).map_err(|e| e.with_path(path))
}

/// Parses every certificate in PEM or DER bytes, in order.
pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<Certificate>> {
    let contents = parse_contents(bytes)?;
    if contents.certificates.is_empty() {
        return Err(Error::NoCertificate {
            path: None,
            found: contents.found,
        });
    }
    contents
        .certificates
        .into_iter()
        .enumerate()
        .map(|(index, der)| {
            Certificate::from_der(der).map_err(|reason| Error::MalformedCertificate {
                path: None,
                index,
                reason,
            })
        })
        .collect()
}

/// Loads the one private key in a PEM or DER file (PKCS#1, PKCS#8 or SEC1).
pub fn load_private_key(path: impl AsRef<Path>) -> Result<PrivateKey> {
    let path = path.as_ref();
    let bytes = Zeroizing::new(read_file(path)?);
    private_key_from_bytes(&bytes).map_err(|e| e.with_path(path))
}

/// Parses the one private key in PEM or DER bytes.
pub fn private_key_from_bytes(bytes: &[u8]) -> Result<PrivateKey> {
    let mut contents = parse_contents(bytes)?;
    if let Some(e) = contents.first_key_refusal() {
        return Err(e);
    }
    // Go's tls.X509KeyPair takes a "... PRIVATE KEY" block it cannot parse (an OpenSSH key, a
    // damaged body that is still base64) as the key and fails.
    if let (true, Some(UnusableKeyBlock::Other(label))) =
        (contents.keys.is_empty(), &contents.first_key_block)
    {
        return Err(Error::UnsupportedKey {
            path: None,
            algorithm: format!(
                "the key block is {}, which etcd cannot parse (Go: \"tls: failed to parse private key\")",
                Found::describe_label(label)
            ),
        });
    }
    match contents.keys.len() {
        1 => {
            let key = contents.keys.remove(0);
            PrivateKey::from_der(key.format, &key.der)
        }
        0 if contents.encrypted_keys > 0 => Err(Error::EncryptedKey { path: None }),
        0 => Err(Error::NoPrivateKey {
            path: None,
            found: contents.found,
        }),
        // Go's tls.X509KeyPair takes the first key block; so does etcd.
        _ => {
            let key = contents.keys.remove(0);
            PrivateKey::from_der(key.format, &key.der)
        }
    }
}

/// A file as etcd is given it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EtcdFile {
    /// `--cert-file`, `--peer-cert-file`, etcdctl `--cert`.
    Certificate,
    /// `--key-file`, `--peer-key-file`, etcdctl `--key`.
    PrivateKey,
    /// `--trusted-ca-file`, `--peer-trusted-ca-file`, etcdctl `--cacert`.
    CaBundle,
}

/// Why etcd could not use a file in a role, if it could not. etcd reads certificates and keys
/// with Go's `tls.X509KeyPair` (PEM only; CERTIFICATE blocks of the certificate file; the first
/// `... PRIVATE KEY` block of the key file) and CA files with its `tlsutil.NewCertPool`, which
/// parses every PEM block as a certificate (another block stops etcd at start-up) and yields an
/// empty pool for a file with no PEM (every handshake then fails).
pub fn etcd_file_problem(bytes: &[u8], kind: EtcdFile) -> Option<EtcdFileProblem> {
    let pem = is_pem(bytes);
    let sections = split_pem(bytes).ok();
    match kind {
        EtcdFile::Certificate if !pem => Some(EtcdFileProblem::CertificateNotPem),
        EtcdFile::PrivateKey if !pem => Some(EtcdFileProblem::KeyNotPem),
        EtcdFile::CaBundle if !pem => Some(EtcdFileProblem::CaBundleNotPem),
        EtcdFile::CaBundle => sections.and_then(|s| {
            s.iter().find(|b| b.label != "CERTIFICATE").map(|b| {
                EtcdFileProblem::CaBundleOtherBlock {
                    label: b.label.to_string(),
                }
            })
        }),
        _ => None,
    }
}

/// Why etcd could not use a file in a role (from [`etcd_file_problem`]); its `Display` says
/// what etcd would do and how to convert the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EtcdFileProblem {
    /// A certificate file that is not PEM (Go: "tls: failed to find any PEM data in certificate
    /// input").
    CertificateNotPem,
    /// A key file that is not PEM (Go: "tls: failed to find any PEM data in key input").
    KeyNotPem,
    /// A CA file that is not PEM: etcd would trust no CA from it.
    CaBundleNotPem,
    /// A CA file with a PEM block other than CERTIFICATE: etcd would not start.
    CaBundleOtherBlock {
        /// The block's label.
        label: String,
    },
}

impl std::fmt::Display for EtcdFileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EtcdFileProblem::CertificateNotPem => f.write_str(
                "it is not PEM: etcd reads only PEM certificates (Go: \"tls: failed to find any PEM data in certificate input\"); convert it: openssl x509 -inform der -in FILE -out FILE.pem",
            ),
            EtcdFileProblem::KeyNotPem => f.write_str(
                "it is not PEM: etcd reads only PEM keys (Go: \"tls: failed to find any PEM data in key input\"); convert it: openssl pkey -inform der -in FILE -out FILE.pem",
            ),
            EtcdFileProblem::CaBundleNotPem => f.write_str(
                "it is not PEM: etcd would trust no CA from it and every TLS handshake would fail; convert it: openssl x509 -inform der -in FILE -out FILE.pem",
            ),
            EtcdFileProblem::CaBundleOtherBlock { label } => write!(
                f,
                "it holds a {label} block: etcd parses every block of a CA file as a certificate and would not start; keep only CERTIFICATE blocks in it"
            ),
        }
    }
}

/// Recognises what a buffer holds: PEM blocks, or a single DER object.
pub(crate) fn parse_contents(bytes: &[u8]) -> Result<Contents> {
    let mut contents = Contents {
        certificates: Vec::new(),
        keys: Vec::new(),
        encrypted_keys: 0,
        found: Found::Empty,
        first_key_block: None,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(contents);
    }
    if is_pem(bytes) {
        // Damaged blocks are skipped as Go skips them; they make the file malformed only if
        // nothing usable is left.
        let mut damaged = Vec::new();
        let sections = frame_pem(bytes, &mut damaged);
        let mut labels = Vec::with_capacity(sections.len());
        let mut seen_key_block = false;
        for section in &sections {
            labels.push(section.label.to_string());
            // Go's tls.X509KeyPair takes the first block labelled "PRIVATE KEY" or "... PRIVATE
            // KEY" as the key, whatever the rest of its label says, and parses its body as
            // PKCS#1, PKCS#8 or SEC1 by content; so is it read here.
            let go_key_label =
                section.label == "PRIVATE KEY" || section.label.ends_with(" PRIVATE KEY");
            if section.label == "CERTIFICATE" {
                match decode_public_block(section.text) {
                    Ok(der) => contents.certificates.push(der),
                    Err(e) => damaged.push(format!("the CERTIFICATE block does not decode: {e}")),
                }
                continue;
            }
            if !go_key_label {
                continue;
            }
            // A block whose body Go's pem.Decode cannot decode is no block to Go: it is skipped,
            // and the next key block is the key.
            let der = match decode_key_block(section.text) {
                Ok(der) => der,
                Err(e) => {
                    damaged.push(format!("the {} block does not decode: {e}", section.label));
                    continue;
                }
            };
            let first_key = !seen_key_block;
            seen_key_block = true;
            let labelled = match section.label {
                "PRIVATE KEY" => Some(KeyFormat::Pkcs8),
                "RSA PRIVATE KEY" => Some(KeyFormat::Pkcs1),
                "EC PRIVATE KEY" => Some(KeyFormat::Sec1),
                _ => None,
            };
            let declared_encrypted = section.encrypted || section.label == "ENCRYPTED PRIVATE KEY";
            // A plain key by its content (Go parses the body whatever the headers say).
            let plain = KeyFormat::sniff_der(&der)
                .filter(|_| !declared_encrypted || !KeyFormat::is_encrypted_pkcs8(&der));
            match (plain, labelled) {
                (Some(format), _) if labelled.is_some() || first_key => {
                    if first_key {
                        contents.first_key_block = None;
                    }
                    contents.keys.push(KeyDer { format, der });
                }
                _ if declared_encrypted => {
                    if first_key {
                        contents.first_key_block = Some(UnusableKeyBlock::Encrypted);
                    }
                    contents.encrypted_keys += 1;
                }
                // Not a key of any format: kept under its label's, whose parser says why.
                (None, Some(format)) => {
                    if first_key {
                        contents.first_key_block = None;
                    }
                    contents.keys.push(KeyDer { format, der });
                }
                _ => {
                    if first_key {
                        contents.first_key_block =
                            Some(UnusableKeyBlock::Other(section.label.to_string()));
                    }
                }
            }
        }
        if let Some(reason) = damaged.into_iter().next() {
            if contents.certificates.is_empty()
                && contents.keys.is_empty()
                && contents.encrypted_keys == 0
            {
                return Err(Error::MalformedPem { path: None, reason });
            }
        }
        contents.found = if labels.is_empty() {
            Found::Text
        } else {
            Found::Pem(labels)
        };
        return Ok(contents);
    }
    sniff_der(bytes, &mut contents);
    Ok(contents)
}

/// Whether bytes are PEM text: they hold a BEGIN line, and are not one whole DER certificate or
/// private key (whose bytes may hold "-----BEGIN " too: a SAN or subject with that text, an IP
/// SAN whose 16 bytes spell it).
fn is_pem(bytes: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    if memchr::memmem::find(bytes, b"-----BEGIN ").is_none() {
        return false;
    }
    // PEM text starts with a BEGIN line or other text, DER with a SEQUENCE: only a file that
    // starts with '0' needs the parse.
    let der = bytes.first() == Some(&0x30)
        && (matches!(
            x509_parser::certificate::X509Certificate::from_der(bytes),
            Ok((rest, _)) if rest.is_empty()
        ) || KeyFormat::sniff_der(bytes).is_some()
            || KeyFormat::is_encrypted_pkcs8(bytes));
    !der
}

/// Decodes a key block's body exactly as Go's `pem.Decode` does (header lines set aside,
/// spaces, tabs and line breaks skipped, then `base64.StdEncoding`: padding only at the end, a
/// length that is a multiple of 4; a block that fails is skipped by Go as if it were not
/// there). The characters are gathered and checked in zeroed memory without branches on them,
/// and decoded by rustls-pki-types' constant-time decoder (whose own line buffer, up to the whole
/// body here, is freed without being zeroed: the key's base64 may stay in freed memory).
fn decode_key_block(text: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    const BEGIN: &[u8] = b"-----BEGIN PRIVATE KEY-----\n";
    let body = go_block_body(text);
    let mut plain = Zeroizing::new(Vec::with_capacity(body.len() + 64));
    plain.extend_from_slice(BEGIN);
    go_base64_chars(body, &mut plain);
    if !go_base64_valid(&plain[BEGIN.len()..]) {
        return Err("its body is not base64 as Go's pem.Decode reads it".to_string());
    }
    if plain.len() == BEGIN.len() {
        return Ok(Zeroizing::new(Vec::new()));
    }
    plain.extend_from_slice(b"\n-----END PRIVATE KEY-----\n");
    match <(SectionKind, Vec<u8>)>::from_pem_slice(&plain) {
        Ok((_, der)) => Ok(Zeroizing::new(der)),
        Err(e) => Err(e.to_string()),
    }
}

/// Works out what a single non-PEM object is.
fn sniff_der(bytes: &[u8], contents: &mut Contents) {
    use x509_parser::prelude::FromDer;
    if bytes.first() != Some(&0x30) {
        contents.found = if std::str::from_utf8(bytes).is_ok() {
            Found::Text
        } else {
            Found::Binary
        };
        return;
    }
    if let Ok((rest, _)) = x509_parser::certificate::X509Certificate::from_der(bytes) {
        if rest.is_empty() {
            contents.certificates.push(bytes.to_vec());
            contents.found = Found::DerCertificate;
            return;
        }
    }
    if let Some(format) = KeyFormat::sniff_der(bytes) {
        contents.keys.push(KeyDer {
            format,
            der: Zeroizing::new(bytes.to_vec()),
        });
        contents.found = Found::DerPrivateKey;
        return;
    }
    if KeyFormat::is_encrypted_pkcs8(bytes) {
        contents.encrypted_keys += 1;
        contents.found = Found::DerPrivateKey;
        return;
    }
    contents.found =
        if x509_parser::certification_request::X509CertificationRequest::from_der(bytes).is_ok() {
            Found::DerCsr
        } else if x509_parser::revocation_list::CertificateRevocationList::from_der(bytes).is_ok() {
            Found::DerCrl
        } else {
            // A certificate that starts like DER but does not parse is reported as malformed by the
            // caller trying it as a certificate, so keep the bytes as a certificate candidate when
            // nothing else fits and the outer structure is a SEQUENCE of three elements.
            if looks_like_signed_object(bytes) {
                contents.certificates.push(bytes.to_vec());
                Found::DerCertificate
            } else {
                Found::Binary
            }
        };
}

/// Whether the bytes are a DER SEQUENCE whose first element is itself a SEQUENCE (the shape of
/// every signed X.509 object), so that a damaged DER certificate is reported as malformed rather
/// than as "binary data".
fn looks_like_signed_object(bytes: &[u8]) -> bool {
    use x509_parser::der_parser::der::parse_der_sequence;
    match parse_der_sequence(bytes) {
        Ok((_, seq)) => seq
            .as_sequence()
            .ok()
            .and_then(|items| items.first())
            .is_some_and(|first| first.as_sequence().is_ok()),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 key's DER in `format`, for the key-block tests.
    fn p256(format: KeyFormat) -> Vec<u8> {
        let key = PrivateKey::generate(&crate::KeyAlgorithm::Ecdsa {
            curve: crate::Curve::P256,
        })
        .unwrap();
        key.to_der(format).unwrap().to_vec()
    }

    /// Go's tls.X509KeyPair reads the first "... PRIVATE KEY" block by content, whatever its
    /// label, with headers and blanks after the BEGIN line (key-pair differential test).
    #[test]
    fn key_blocks_are_read_by_content_as_go_reads_them() {
        let pkcs8 = p256(KeyFormat::Pkcs8);
        for label in [
            "EC PRIVATE KEY",
            "RSA PRIVATE KEY",
            "DSA PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ] {
            let text = crate::pem::encode(label, &pkcs8);
            let key =
                private_key_from_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(key.format(), KeyFormat::Pkcs8, "{label}");
        }
        let text = crate::pem::encode("PRIVATE KEY", &p256(KeyFormat::Sec1));
        assert_eq!(
            private_key_from_bytes(text.as_bytes()).unwrap().format(),
            KeyFormat::Sec1
        );
        let plain = crate::pem::encode("PRIVATE KEY", &pkcs8);
        let headers = plain.replacen("-----\n", "-----\nComment: rotated\n\n", 1);
        assert!(private_key_from_bytes(headers.as_bytes()).is_ok());
        let blanks = plain
            .replacen("-----\n", "-----\t \n", 1)
            .replace('\n', "\r\n");
        assert!(private_key_from_bytes(blanks.as_bytes()).is_ok());
        // A label Go does not take stays unread.
        let odd = crate::pem::encode("XPRIVATE KEY", &pkcs8);
        assert!(matches!(
            private_key_from_bytes(odd.as_bytes()),
            Err(Error::NoPrivateKey { .. })
        ));
    }

    /// Padding inside the body makes Go skip the block; so is it skipped here, and the key after
    /// it is the key (key-pair differential test).
    #[test]
    fn a_key_block_with_inner_padding_is_skipped_as_go_skips_it() {
        let first = crate::pem::encode("PRIVATE KEY", &p256(KeyFormat::Pkcs8));
        let mut lines: Vec<String> = first.lines().map(str::to_string).collect();
        lines[1].replace_range(5..6, "=");
        let damaged = lines.join("\n") + "\n";
        assert!(private_key_from_bytes(damaged.as_bytes()).is_err());
        let ed = PrivateKey::generate(&crate::KeyAlgorithm::Ed25519).unwrap();
        let second = crate::pem::encode("PRIVATE KEY", &ed.to_der(KeyFormat::Pkcs8).unwrap());
        let both = damaged + &second;
        let key = private_key_from_bytes(both.as_bytes()).unwrap();
        assert_eq!(key.algorithm(), &crate::KeyAlgorithm::Ed25519);
        // An encrypted block that does not decode is damaged, not an encrypted key.
        let enc =
            crate::pem::encode("ENCRYPTED PRIVATE KEY", &[0x30, 0x00]).replace("MAA=", "M*A=");
        assert!(matches!(
            private_key_from_bytes(enc.as_bytes()),
            Err(Error::MalformedPem { .. })
        ));
    }

    /// A key body that is not base64 as Go reads it (a character replaced, lost to a space, a
    /// stray one) makes Go skip the block: no key, or the next one (key-pair differential
    /// test; rustls-pki-types' decoder read some of these).
    #[test]
    fn a_key_body_go_cannot_decode_is_skipped_as_go_skips_it() {
        let good = crate::pem::encode("EC PRIVATE KEY", &p256(KeyFormat::Sec1));
        let ed = PrivateKey::generate(&crate::KeyAlgorithm::Ed25519).unwrap();
        let second = crate::pem::encode("PRIVATE KEY", &ed.to_der(KeyFormat::Pkcs8).unwrap());
        for bad in [' ', '*', '.', '_', '!'] {
            let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
            lines[1].replace_range(7..8, &bad.to_string());
            let damaged = lines.join("\n") + "\n";
            match private_key_from_bytes(damaged.as_bytes()) {
                Err(Error::MalformedPem { .. }) => {}
                Err(e) => panic!("{bad:?}: {e}"),
                Ok(_) => panic!("{bad:?}: a key"),
            }
            let key = private_key_from_bytes((damaged + &second).as_bytes()).unwrap();
            assert_eq!(key.algorithm(), &crate::KeyAlgorithm::Ed25519, "{bad:?}");
        }
    }

    /// A first key block Go takes whose body decodes but is no key (an OpenSSH key, a DSA
    /// label, a body line lost) is Go's "tls: failed to parse private key", not "no key".
    #[test]
    fn a_key_block_that_is_no_key_fails_to_parse_as_for_go() {
        let mut body = p256(KeyFormat::Pkcs8);
        body.truncate(body.len() - 3);
        for label in ["OPENSSH PRIVATE KEY", "DSA PRIVATE KEY"] {
            let text = crate::pem::encode(label, &body);
            match private_key_from_bytes(text.as_bytes()) {
                Err(Error::UnsupportedKey { algorithm, .. }) => {
                    assert!(
                        algorithm.contains("tls: failed to parse private key"),
                        "{algorithm}"
                    )
                }
                other => panic!("{label}: {other:?}"),
            }
        }
    }

    #[test]
    fn empty_and_text_inputs_say_what_they_are() {
        assert_eq!(parse_contents(b"").unwrap().found, Found::Empty);
        assert_eq!(parse_contents(b"  \n").unwrap().found, Found::Empty);
        assert_eq!(parse_contents(b"hello\n").unwrap().found, Found::Text);
        assert_eq!(
            parse_contents(&[0xff, 0x00, 0x12]).unwrap().found,
            Found::Binary
        );
    }

    #[test]
    fn unknown_pem_blocks_are_named() {
        let text =
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        let contents = parse_contents(text).unwrap();
        assert!(contents.certificates.is_empty());
        assert_eq!(
            contents.found,
            Found::Pem(vec!["CERTIFICATE REQUEST".into()])
        );
        let err = certificates_from_bytes(text).unwrap_err();
        assert!(
            err.to_string().contains("certificate signing request"),
            "{err}"
        );
    }

    #[test]
    fn missing_end_line_is_malformed() {
        let text = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
        let err = certificates_from_bytes(text).unwrap_err();
        assert!(matches!(err, Error::MalformedPem { .. }), "{err}");
        assert!(err.to_string().contains("no END line"), "{err}");
    }

    #[test]
    fn mismatched_end_label_is_malformed() {
        let text = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            parse_contents(text),
            Err(Error::MalformedPem { .. })
        ));
    }

    #[test]
    fn damaged_blocks_beside_a_good_one_are_skipped_as_go_skips_them() {
        let good = std::fs::read(fixture("openssl/leaf-ec-p256.crt")).unwrap();
        let key = std::fs::read(fixture("openssl/leaf-ec-p256.key")).unwrap();
        for damaged in [
            &b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"[..],
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n",
        ] {
            // Alone, the damaged block is malformed; after or before a good one, Go skips it.
            assert!(matches!(
                certificates_from_bytes(damaged),
                Err(Error::MalformedPem { .. })
            ));
            for text in [[&good, damaged].concat(), [damaged, &good].concat()] {
                let certs = certificates_from_bytes(&text).unwrap();
                assert_eq!(certs.len(), 1, "{}", String::from_utf8_lossy(&text));
            }
            let text = [&key, damaged].concat();
            assert!(private_key_from_bytes(&text).is_ok());
            // A key is no certificate (Go: "... but did find a private key").
            assert!(matches!(
                certificates_from_bytes(&text),
                Err(Error::NoCertificate { .. })
            ));
        }
    }

    #[test]
    fn only_the_first_key_block_counts_as_for_go() {
        let plain = std::fs::read(fixture("openssl/leaf-ec-p256.key")).unwrap();
        let encrypted = std::fs::read(fixture("openssl/encrypted-pkcs8.key")).unwrap();
        let legacy = std::fs::read(fixture("openssl/encrypted-pkcs1.key")).unwrap();
        let openssh =
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
        let cert = std::fs::read(fixture("openssl/leaf-ec-p256.crt")).unwrap();
        // A usable key first: what follows does not matter.
        for text in [
            [&plain[..], &encrypted].concat(),
            [&cert[..], &plain, openssh].concat(),
        ] {
            assert!(private_key_from_bytes(&text).is_ok());
            assert_eq!(load_bytes(&text).unwrap().keys.len(), 1);
        }
        // An unusable key first: etcd takes it and fails, whatever follows.
        for (text, encrypted) in [
            ([&encrypted[..], &plain].concat(), true),
            ([&legacy[..], &plain].concat(), true),
            ([&cert[..], openssh, &plain].concat(), false),
        ] {
            for err in [
                private_key_from_bytes(&text).unwrap_err(),
                load_bytes(&text).unwrap_err(),
            ] {
                match err {
                    Error::EncryptedKey { .. } => assert!(encrypted),
                    Error::UnsupportedKey { algorithm, .. } => {
                        assert!(!encrypted);
                        assert!(algorithm.contains("OpenSSH"), "{algorithm}");
                    }
                    other => panic!("{other}"),
                }
            }
        }
        // Certificates are read whatever the keys are.
        let text = [&cert[..], &encrypted, &plain].concat();
        assert_eq!(certificates_from_bytes(&text).unwrap().len(), 1);
    }

    #[test]
    fn legacy_encrypted_key_is_reported_as_encrypted() {
        let text = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let err = private_key_from_bytes(text).unwrap_err();
        assert!(matches!(err, Error::EncryptedKey { .. }), "{err}");
    }

    #[test]
    fn crlf_line_endings_are_accepted_in_framing() {
        let text = b"junk\r\n-----BEGIN X509 CRL-----\r\nAAAA\r\n-----END X509 CRL-----\r\n";
        let contents = parse_contents(text).unwrap();
        assert_eq!(contents.found, Found::Pem(vec!["X509 CRL".into()]));
    }

    #[test]
    fn rfc1421_headers_make_only_key_blocks_encrypted() {
        // Found by the etcd_file fuzz target: a CERTIFICATE block with a `Proc-Type: 4,ENCRYPTED`
        // header was counted as an encrypted private key, so a CA file that etcd_file_problem
        // passed (only CERTIFICATE blocks) was one load_bytes said held a key. Go's pem.Decode
        // keeps headers aside and x509.ParseCertificate reads the body, so it is a certificate.
        let pem = std::fs::read_to_string(fixture("cfssl/ca.pem")).unwrap();
        let with_headers = pem.replacen(
            "-----\n",
            "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n",
            1,
        );
        let contents = parse_contents(with_headers.as_bytes()).unwrap();
        assert_eq!(contents.encrypted_keys, 0);
        assert_eq!(contents.certificates.len(), 1);
        assert_eq!(
            etcd_file_problem(with_headers.as_bytes(), EtcdFile::CaBundle),
            None
        );
    }

    #[test]
    fn der_that_contains_a_begin_line_is_der() {
        // Found by the reissue fuzz target: a DER certificate whose bytes contain "-----BEGIN "
        // (there, an IP SAN's 16 bytes) was framed as PEM text and refused as "text".
        let mut params = rcgen::CertificateParams::new(vec!["etcd.example.com".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "-----BEGIN CERTIFICATE-----");
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let certs = certificates_from_bytes(&der).unwrap();
        assert_eq!(certs[0].common_name(), Some("-----BEGIN CERTIFICATE-----"));
        assert_eq!(load_bytes(&der).unwrap().found, Found::DerCertificate);
        // etcd reads PEM only: to it, this is DER.
        for kind in [EtcdFile::Certificate, EtcdFile::CaBundle] {
            let problem = etcd_file_problem(&der, kind).expect("DER is a problem for etcd");
            assert!(problem.to_string().contains("not PEM"), "{problem}");
        }
    }

    #[test]
    fn a_key_block_holding_another_begin_line_is_malformed() {
        // Found by the etcd_file fuzz target: a lone '\r' before a BEGIN line hid it inside a
        // key block from this framing (lines end at '\n', as in Go's pem.Decode) but not from
        // rustls-pki-types' decoder, which decoded that inner block instead: a debug assertion
        // failed, and a release build took another block's DER for the framed key. To Go the
        // body is not base64, so there is no key.
        let inner = std::fs::read_to_string(fixture("openssl/leaf-ed25519.key"))
            .unwrap()
            .replace('\n', "\r");
        let as_certificate = inner.replace("PRIVATE KEY", "CERTIFICATE");
        for (outer, inner) in [("PRIVATE KEY", &inner), ("EC PRIVATE KEY", &as_certificate)] {
            let text = format!("-----BEGIN {outer}-----\nAAAA\r{inner}\n-----END {outer}-----\n");
            match parse_contents(text.as_bytes()) {
                Err(Error::MalformedPem { reason, .. }) => {
                    assert!(reason.contains(outer), "{reason}")
                }
                Err(e) => panic!("{outer}: {e}"),
                Ok(c) => panic!("{outer}: {} keys", c.keys.len()),
            }
        }
    }

    use crate::key::{Curve, KeyAlgorithm, KeyFormat};
    use crate::test_support::{cert, fixture, key};

    #[test]
    fn every_key_format_found_on_etcd_hosts_loads() {
        let cases: &[(&str, KeyFormat, KeyAlgorithm)] = &[
            (
                "cfssl/ca-key.pem",
                KeyFormat::Pkcs1,
                KeyAlgorithm::Rsa { bits: 2048 },
            ),
            (
                "kubeadm/peer.key",
                KeyFormat::Pkcs1,
                KeyAlgorithm::Rsa { bits: 2048 },
            ),
            (
                "openssl/leaf-rsa-pkcs1.key",
                KeyFormat::Pkcs1,
                KeyAlgorithm::Rsa { bits: 2048 },
            ),
            (
                "openssl/leaf-rsa-pkcs1.key.der",
                KeyFormat::Pkcs1,
                KeyAlgorithm::Rsa { bits: 2048 },
            ),
            (
                "openssl/leaf-rsa-pkcs8.key",
                KeyFormat::Pkcs8,
                KeyAlgorithm::Rsa { bits: 3072 },
            ),
            (
                "openssl/leaf-rsa-pkcs8.key.der",
                KeyFormat::Pkcs8,
                KeyAlgorithm::Rsa { bits: 3072 },
            ),
            (
                "openssl/leaf-ec-p256.key",
                KeyFormat::Sec1,
                KeyAlgorithm::Ecdsa { curve: Curve::P256 },
            ),
            (
                "openssl/leaf-ec-p256.key.der",
                KeyFormat::Sec1,
                KeyAlgorithm::Ecdsa { curve: Curve::P256 },
            ),
            (
                "openssl/leaf-ec-p384.key",
                KeyFormat::Pkcs8,
                KeyAlgorithm::Ecdsa { curve: Curve::P384 },
            ),
            (
                "openssl/leaf-ed25519.key",
                KeyFormat::Pkcs8,
                KeyAlgorithm::Ed25519,
            ),
            (
                "openssl/rsa-ca.key",
                KeyFormat::Pkcs8,
                KeyAlgorithm::Rsa { bits: 2048 },
            ),
            (
                "openssl/ec-ca.key",
                KeyFormat::Sec1,
                KeyAlgorithm::Ecdsa { curve: Curve::P256 },
            ),
            (
                "openssl/combined.pem",
                KeyFormat::Sec1,
                KeyAlgorithm::Ecdsa { curve: Curve::P256 },
            ),
        ];
        for (path, format, algorithm) in cases {
            let k = key(path);
            assert_eq!((k.format(), k.algorithm()), (*format, algorithm), "{path}");
        }
    }

    #[test]
    fn keys_match_their_certificates_and_only_them() {
        let pairs = [
            ("cfssl/members.pem", "cfssl/members-key.pem"),
            ("cfssl/ca.pem", "cfssl/ca-key.pem"),
            ("kubeadm/server.crt", "kubeadm/server.key"),
            (
                "openssl/leaf-rsa-pkcs1.crt",
                "openssl/leaf-rsa-pkcs1.key.der",
            ),
            ("openssl/leaf-rsa-pkcs8.crt", "openssl/leaf-rsa-pkcs8.key"),
            ("openssl/leaf-ec-p256.der", "openssl/leaf-ec-p256.key"),
            ("openssl/leaf-ec-p384.crt", "openssl/leaf-ec-p384.key"),
            ("openssl/leaf-ed25519.crt", "openssl/leaf-ed25519.key"),
            ("openssl/combined.pem", "openssl/combined.pem"),
        ];
        for (c, k) in pairs {
            assert!(key(k).matches(&cert(c)), "{k} should match {c}");
        }
        assert!(!key("openssl/mismatch.key").matches(&cert("openssl/mismatch.crt")));
        assert!(!key("cfssl/server-key.pem").matches(&cert("cfssl/members.pem")));
        assert!(!key("openssl/leaf-ec-p256.key").matches(&cert("openssl/wildcard.crt")));
    }

    #[test]
    fn bundles_yield_every_certificate_in_order() {
        let bundle = load_certificates(fixture("openssl/bundle.pem")).unwrap();
        let names: Vec<_> = bundle
            .iter()
            .map(|c| c.common_name().unwrap().to_string())
            .collect();
        assert_eq!(names, ["leaf-rsa-pkcs1", "rsa-ca", "ec-ca"]);
        let loaded = load_file(fixture("openssl/combined.pem")).unwrap();
        assert_eq!((loaded.certificates.len(), loaded.keys.len()), (1, 1));
        assert_eq!(
            load_certificates(fixture("openssl/rsa-ca.der"))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn wrong_inputs_name_the_file_and_what_it_holds() {
        let no_cert = |rel: &str| match load_certificates(fixture(rel)) {
            Err(Error::NoCertificate { path, found }) => {
                assert_eq!(path.as_deref(), Some(fixture(rel).as_path()));
                found
            }
            other => panic!("{rel}: {other:?}"),
        };
        assert_eq!(
            no_cert("openssl/leaf.csr"),
            Found::Pem(vec!["CERTIFICATE REQUEST".into()])
        );
        assert_eq!(
            no_cert("openssl/rsa-ca.crl"),
            Found::Pem(vec!["X509 CRL".into()])
        );
        assert_eq!(no_cert("openssl/garbage.txt"), Found::Text);
        assert_eq!(no_cert("openssl/empty.pem"), Found::Empty);
        assert_eq!(
            no_cert("openssl/public.pem"),
            Found::Pem(vec!["PUBLIC KEY".into()])
        );
        assert_eq!(
            no_cert("cfssl/ca-key.pem"),
            Found::Pem(vec!["RSA PRIVATE KEY".into()])
        );
        assert_eq!(
            no_cert("openssl/leaf-ec-p256.key.der"),
            Found::DerPrivateKey
        );

        for rel in ["openssl/encrypted-pkcs8.key", "openssl/encrypted-pkcs1.key"] {
            let err = load_private_key(fixture(rel)).unwrap_err();
            assert!(matches!(err, Error::EncryptedKey { .. }), "{rel}: {err}");
            assert!(err.to_string().contains("openssl pkey"), "{err}");
        }
        let err = load_certificates(fixture("openssl/truncated.crt")).unwrap_err();
        assert!(
            matches!(err, Error::MalformedCertificate { index: 0, .. }),
            "{err}"
        );
        let err = load_private_key(fixture("cfssl/members.pem")).unwrap_err();
        assert!(matches!(err, Error::NoPrivateKey { .. }), "{err}");
        assert!(err.to_string().contains("a certificate"), "{err}");
        let err = load_certificates(fixture("does-not-exist.pem")).unwrap_err();
        assert!(matches!(err, Error::Read { .. }), "{err}");
        let err = load_certificates(fixture("openssl")).unwrap_err();
        assert!(
            err.to_string()
                .contains("is a directory, not a regular file"),
            "{err}"
        );
    }
}

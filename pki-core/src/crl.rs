//! Certificate revocation lists as etcd reads them (`--client-crl-file`, `--peer-crl-file`).
//!
//! etcd (`checkCRL` in `pkg/transport/listener_tls.go`, identical in 3.4.23 and 3.5.16) reads
//! the file on every accepted connection with Go's `x509.ParseCRL`: when the file *starts* with
//! `-----BEGIN X509 CRL`, the first PEM block is decoded (only the first: a second CRL in the
//! file is never read); otherwise the whole file must be one DER CRL, with no trailing data. It
//! then rejects a connection when the serial number of any certificate the remote sent equals a
//! revoked serial, compared as Go's `big.Int.Bytes()` (the magnitude) — with no check of the
//! CRL's issuer, signature or dates. A file that does not parse rejects every connection that
//! presents a certificate.
//!
//! So this module answers what etcd will do (does it parse; is this certificate's serial in it)
//! and, apart from that, what etcd does not check but an operator should know: whether the CA
//! that signs the member certificates signed the CRL, and whether it is past its `nextUpdate`.

use time::OffsetDateTime;
use x509_parser::prelude::FromDer;

use crate::cert::Certificate;
use crate::signature::{check_signed_bytes, SignatureError};
use crate::signature_algorithm::SignatureAlgorithm;

/// A CRL, parsed as Go's `x509.ParseCRL` parses it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Crl {
    /// The issuer's name, as certificates show theirs.
    pub issuer: String,
    /// `thisUpdate`.
    pub this_update: OffsetDateTime,
    /// `nextUpdate`, when present.
    pub next_update: Option<OffsetDateTime>,
    /// The revoked serial numbers, as magnitudes (big-endian, no leading zeros).
    revoked: Vec<Vec<u8>>,
    raw_issuer: Vec<u8>,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    signature_algorithm: SignatureAlgorithm,
}

/// Why a CRL file is not one etcd can read: etcd then rejects every connection that presents a
/// certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlProblem {
    /// The file starts with a PEM CRL header whose block cannot be decoded, or is not PEM and not
    /// DER.
    #[error("it is not a CRL etcd can parse: {reason}")]
    Unparsable {
        /// What the parser said.
        reason: String,
    },
    /// The file holds PEM, but does not start with `-----BEGIN X509 CRL`: etcd then parses the
    /// whole file as DER, which fails.
    #[error("it does not start with \"-----BEGIN X509 CRL\" (etcd only decodes PEM that starts the file; text before it, such as openssl's -text output, makes it unreadable)")]
    PemNotAtStart,
    /// Data follows the DER CRL.
    #[error("x509: trailing data after CRL")]
    TrailingData,
}

impl Crl {
    /// Parses a CRL file's bytes as etcd does.
    pub fn parse(bytes: &[u8]) -> Result<Crl, CrlProblem> {
        const PREFIX: &[u8] = b"-----BEGIN X509 CRL";
        let der: Vec<u8> = if bytes.starts_with(PREFIX) {
            let sections = crate::pem::split_pem(bytes).map_err(|e| CrlProblem::Unparsable {
                reason: e.to_string(),
            })?;
            match sections.first() {
                Some(s) if s.label == "X509 CRL" => crate::pem::decode_public_block(s.text)
                    .map_err(|reason| CrlProblem::Unparsable { reason })?,
                // Go falls back to parsing the whole text as DER, which fails.
                _ => return Err(CrlProblem::PemNotAtStart),
            }
        } else if memchr::memmem::find(bytes, b"-----BEGIN X509 CRL").is_some() {
            return Err(CrlProblem::PemNotAtStart);
        } else {
            bytes.to_vec()
        };
        let (rest, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(&der)
            .map_err(|e| CrlProblem::Unparsable {
            reason: e.to_string(),
        })?;
        if !rest.is_empty() {
            return Err(CrlProblem::TrailingData);
        }
        let revoked = crl
            .iter_revoked_certificates()
            .map(|r| magnitude(r.raw_serial()))
            .collect();
        let time = |t: x509_parser::time::ASN1Time| t.to_datetime();
        Ok(Crl {
            issuer: crate::cert::Certificate::name_text(crl.issuer().as_raw()).unwrap_or_default(),
            this_update: time(crl.last_update()),
            next_update: crl.next_update().map(time),
            revoked,
            raw_issuer: crl.issuer().as_raw().to_vec(),
            tbs: crl.tbs_cert_list.as_ref().to_vec(),
            signature: crl.signature_value.data.to_vec(),
            signature_algorithm: SignatureAlgorithm::from_x509(&crl.signature_algorithm),
        })
    }

    /// Whether etcd rejects `cert` because of this CRL: its serial is listed (by number only,
    /// whoever issued it).
    pub fn revokes(&self, cert: &Certificate) -> bool {
        let serial = magnitude(cert.serial_bytes());
        self.revoked.contains(&serial)
    }

    /// How many serials are revoked.
    pub fn revoked_count(&self) -> usize {
        self.revoked.len()
    }

    /// Whether `ca` issued this CRL: its subject is the CRL's issuer and its key made the
    /// signature (etcd does not check this; a CRL of another CA revokes nothing of this one's,
    /// or the wrong certificates by serial).
    pub fn check_issuer(&self, ca: &Certificate) -> Result<(), CrlIssuerProblem> {
        if ca.raw_subject() != self.raw_issuer.as_slice() {
            return Err(CrlIssuerProblem::OtherName {
                crl_issuer: self.issuer.clone(),
            });
        }
        check_signed_bytes(&self.signature_algorithm, &self.tbs, &self.signature, ca)
            .map_err(CrlIssuerProblem::Signature)
    }

    /// Whether `nextUpdate` is past at `at` (etcd goes on using it).
    pub fn is_stale(&self, at: OffsetDateTime) -> bool {
        self.next_update.is_some_and(|n| n < at)
    }
}

/// Why a CRL is not the CA's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlIssuerProblem {
    /// Another name issued it.
    #[error("it was issued by {crl_issuer}")]
    OtherName {
        /// The CRL's issuer.
        crl_issuer: String,
    },
    /// The name matches but the signature does not verify with the CA's key.
    #[error("its signature does not verify with the CA's key: {0}")]
    Signature(SignatureError),
}

/// A DER INTEGER's content as Go's `big.Int.Bytes()` gives it: the magnitude, without leading
/// zeros (a negative serial's two's complement is negated).
fn magnitude(content: &[u8]) -> Vec<u8> {
    if content.first().is_some_and(|b| b & 0x80 != 0) {
        // Negative: magnitude = two's complement negation.
        let mut out: Vec<u8> = content.iter().map(|b| !b).collect();
        for byte in out.iter_mut().rev() {
            let (v, carry) = byte.overflowing_add(1);
            *byte = v;
            if !carry {
                break;
            }
        }
        return strip(&out).to_vec();
    }
    strip(content).to_vec()
}

fn strip(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitudes_are_gos() {
        assert_eq!(magnitude(&[0x00, 0x80]), [0x80]);
        assert_eq!(magnitude(&[0x01, 0x02]), [0x01, 0x02]);
        assert_eq!(magnitude(&[0x00]), Vec::<u8>::new());
        assert_eq!(magnitude(&[0xff]), [0x01]); // -1
        assert_eq!(magnitude(&[0x80]), [0x80]); // -128
        assert_eq!(magnitude(&[0xfe, 0xff]), [0x01, 0x01]); // -257
    }

    #[test]
    fn an_openssl_crl_revokes_what_it_lists_and_is_its_cas() {
        use crate::test_support::{cert, fixture};
        let bytes = std::fs::read(fixture("openssl/rsa-ca.crl")).unwrap();
        let crl = Crl::parse(&bytes).unwrap();
        assert_eq!(crl.revoked_count(), 1);
        assert!(crl.revokes(&cert("openssl/expired.crt")));
        assert!(!crl.revokes(&cert("openssl/leaf-rsa-pkcs1.crt")));
        assert!(crl.check_issuer(&cert("openssl/rsa-ca.crt")).is_ok());
        assert!(matches!(
            crl.check_issuer(&cert("openssl/ec-ca.crt")),
            Err(CrlIssuerProblem::OtherName { .. })
        ));
        assert!(!crl.is_stale(OffsetDateTime::now_utc()));
        assert!(crl.issuer.contains("CN=rsa-ca"), "{}", crl.issuer);
        // DER, as etcd also reads it; with trailing data it is refused as Go refuses it.
        let der = crate::pem::decode_public_block(&bytes).unwrap();
        assert_eq!(Crl::parse(&der).unwrap().revoked_count(), 1);
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(Crl::parse(&trailing).unwrap_err(), CrlProblem::TrailingData);
        // A second CRL after the first is never read.
        let mut two = bytes.clone();
        two.extend_from_slice(&bytes);
        assert_eq!(Crl::parse(&two).unwrap().revoked_count(), 1);
    }

    #[test]
    fn damaged_files_are_problems_not_panics() {
        for bad in [
            &b""[..],
            b"garbage",
            b"-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n",
            b"comment\n-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
            b"\x30\x03\x02\x01\x01",
        ] {
            assert!(Crl::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Crl::parse(b"x\n-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n").unwrap_err(),
            CrlProblem::PemNotAtStart
        );
    }
}

//! DER encoding of a certificate rebuilt from an old one: the old TBSCertificate's subject,
//! public key (unless replaced) and extensions are copied byte for byte, in their order and with
//! their criticality; only the serial, validity, issuer, signature algorithm, subjectAltName,
//! authority key identifier and (with a new key) subject key identifier are written anew.
//!
//! This is why reissue does not go through rcgen's `CertificateParams`: re-encoding the subject
//! and extensions from parsed values would change what etcd and its clients match on (name
//! string types, multi-valued RDNs, extension criticality and order, policies, custom
//! extensions). yasna writes the DER.

use std::net::IpAddr;

use time::OffsetDateTime;
use yasna::models::{GeneralizedTime, ObjectIdentifier, UTCTime};
use yasna::{DERWriter, Tag};

/// One extension: OID components, criticality, and the DER inside its OCTET STRING.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extension {
    pub(crate) oid: Vec<u64>,
    pub(crate) critical: bool,
    pub(crate) value: Vec<u8>,
}

pub(crate) const OID_SAN: &[u64] = &[2, 5, 29, 17];
pub(crate) const OID_AKI: &[u64] = &[2, 5, 29, 35];
pub(crate) const OID_SKI: &[u64] = &[2, 5, 29, 14];

/// The fields of a TBSCertificate, as DER pieces.
pub(crate) struct Tbs<'a> {
    pub(crate) serial: &'a [u8],
    pub(crate) signature_algorithm: &'a [u8],
    pub(crate) issuer: &'a [u8],
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) subject: &'a [u8],
    pub(crate) spki: &'a [u8],
    pub(crate) extensions: &'a [Extension],
}

/// Encodes a v3 TBSCertificate.
pub(crate) fn encode_tbs(tbs: &Tbs<'_>) -> Result<Vec<u8>, String> {
    let not_before = time_der(tbs.not_before)?;
    let not_after = time_der(tbs.not_after)?;
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_tagged(Tag::context(0), |w| w.write_u8(2));
            w.next().write_bigint_bytes(tbs.serial, true);
            w.next().write_der(tbs.signature_algorithm);
            w.next().write_der(tbs.issuer);
            w.next().write_sequence(|w| {
                w.next().write_der(&not_before);
                w.next().write_der(&not_after);
            });
            w.next().write_der(tbs.subject);
            w.next().write_der(tbs.spki);
            if !tbs.extensions.is_empty() {
                w.next().write_tagged(Tag::context(3), |w| {
                    w.write_sequence(|w| {
                        for ext in tbs.extensions {
                            write_extension(w.next(), ext);
                        }
                    })
                });
            }
        })
    }))
}

fn write_extension(w: DERWriter<'_>, ext: &Extension) {
    w.write_sequence(|w| {
        w.next().write_oid(&ObjectIdentifier::from_slice(&ext.oid));
        if ext.critical {
            w.next().write_bool(true);
        }
        w.next().write_bytes(&ext.value);
    });
}

/// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), whole seconds.
fn time_der(at: OffsetDateTime) -> Result<Vec<u8>, String> {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .map_err(|e| e.to_string())?;
    if (1950..2050).contains(&at.year()) {
        let t = UTCTime::from_datetime_opt(at).ok_or("time out of range for UTCTime")?;
        Ok(yasna::construct_der(|w| w.write_utctime(&t)))
    } else {
        let t = GeneralizedTime::from_datetime_opt(at)
            .ok_or("time out of range for GeneralizedTime")?;
        Ok(yasna::construct_der(|w| w.write_generalized_time(&t)))
    }
}

/// Wraps a TBSCertificate and its signature into a Certificate.
pub(crate) fn encode_certificate(
    tbs: &[u8],
    signature_algorithm: &[u8],
    signature: &[u8],
) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(tbs);
            w.next().write_der(signature_algorithm);
            w.next().write_bitvec_bytes(signature, signature.len() * 8);
        })
    })
}

/// A GeneralName as DER: either kept from the old certificate byte for byte, or new.
pub(crate) fn dns_name(name: &str) -> Vec<u8> {
    context_primitive(2, name.as_bytes())
}

/// An iPAddress GeneralName: 4 bytes for IPv4, 16 for IPv6.
pub(crate) fn ip_address(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => context_primitive(7, &v4.octets()),
        IpAddr::V6(v6) => context_primitive(7, &v6.octets()),
    }
}

/// `GeneralNames ::= SEQUENCE OF GeneralName` from encoded names.
pub(crate) fn general_names(names: &[Vec<u8>]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            for name in names {
                w.next().write_der(name);
            }
        })
    })
}

/// `AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }`.
pub(crate) fn authority_key_identifier(key_id: &[u8]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_tagged_implicit(Tag::context(0), |w| w.write_bytes(key_id));
        })
    })
}

/// `SubjectKeyIdentifier ::= OCTET STRING`.
pub(crate) fn subject_key_identifier(key_id: &[u8]) -> Vec<u8> {
    yasna::construct_der(|w| w.write_bytes(key_id))
}

/// Splits a SEQUENCE into the raw DER of its elements.
pub(crate) fn sequence_elements(der: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use x509_parser::der_parser::asn1_rs::{Any, FromDer};
    let (rest, seq) = Any::from_der(der).map_err(|e| format!("not DER: {e}"))?;
    if !rest.is_empty() || seq.tag().0 != 16 {
        return Err("not a single DER SEQUENCE".into());
    }
    let mut out = Vec::new();
    let mut input = seq.data;
    while !input.is_empty() {
        let (rest, _) = Any::from_der(input).map_err(|e| format!("bad element: {e}"))?;
        out.push(input[..input.len() - rest.len()].to_vec());
        input = rest;
    }
    Ok(out)
}

/// A primitive value with context-specific tag `[number]` and `content` as its bytes: the
/// encoding of GeneralName's IMPLICIT-tagged strings (dNSName `[2]`, iPAddress `[7]`).
fn context_primitive(number: u64, content: &[u8]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_tagged_implicit(Tag::context(number), |w| w.write_bytes(content))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_names_encode_like_openssl() {
        assert_eq!(
            ip_address(&"127.0.0.14".parse().unwrap()),
            [0x87, 4, 127, 0, 0, 14]
        );
        assert_eq!(dns_name("a.b"), [0x82, 3, b'a', b'.', b'b']);
        let long = "x".repeat(200);
        let enc = dns_name(&long);
        assert_eq!(&enc[..3], &[0x82, 0x81, 200]);
        let names = general_names(&[dns_name("a"), ip_address(&"::1".parse().unwrap())]);
        assert_eq!(
            sequence_elements(&names).unwrap(),
            [dns_name("a"), ip_address(&"::1".parse().unwrap())]
        );
    }

    #[test]
    fn times_switch_to_generalized_in_2050() {
        let utc = time_der(time::macros::datetime!(2049-12-31 23:59:59.5 UTC)).unwrap();
        assert_eq!(utc[0], 0x17);
        assert_eq!(&utc[2..], b"491231235959Z");
        let gen = time_der(time::macros::datetime!(2050-01-01 0:00 UTC)).unwrap();
        assert_eq!(gen[0], 0x18);
        assert_eq!(&gen[2..], b"20500101000000Z");
    }
}

//! DER encoding of the generated certificates ([`super::CertSpec`]), written field by field with
//! yasna so that anything Go and etcd-pki may meet can be made: v1 certificates, absent or
//! non-critical basic constraints, key usage without keyCertSign, any EKU list, name
//! constraints of every form, key identifiers that do not match, unknown critical extensions,
//! and SHA-1 signatures (RSA PKCS#1 v1.5 with SHA-1, which no signing library here offers, is
//! computed from the key's private exponent).

use std::net::IpAddr;

use num_bigint::BigUint;
use rcgen::{KeyPair, PublicKeyData, SigningKey};
use time::OffsetDateTime;
use yasna::models::{ObjectIdentifier, UTCTime};
use yasna::{DERWriter, Tag};

use super::{Bc, CertSpec, Constraint, Eku, KeyKind, Name, San, SigAlg};

const OID_CN: &[u64] = &[2, 5, 4, 3];
const OID_O: &[u64] = &[2, 5, 4, 10];
const OID_BC: &[u64] = &[2, 5, 29, 19];
const OID_KU: &[u64] = &[2, 5, 29, 15];
const OID_EKU: &[u64] = &[2, 5, 29, 37];
const OID_SAN: &[u64] = &[2, 5, 29, 17];
const OID_NC: &[u64] = &[2, 5, 29, 30];
const OID_SKI: &[u64] = &[2, 5, 29, 14];
const OID_AKI: &[u64] = &[2, 5, 29, 35];
/// An extension no Go knows, for "unhandled critical extension".
const OID_UNKNOWN: &[u64] = &[1, 3, 6, 1, 4, 1, 99999, 1];

fn oid(components: &[u64]) -> ObjectIdentifier {
    ObjectIdentifier::from_slice(components)
}

/// The signature algorithm's identifier (`AlgorithmIdentifier`).
fn write_alg(w: DERWriter, alg: SigAlg) {
    w.write_sequence(|w| match alg {
        SigAlg::EcdsaSha256 => w.next().write_oid(&oid(&[1, 2, 840, 10045, 4, 3, 2])),
        SigAlg::EcdsaSha384 => w.next().write_oid(&oid(&[1, 2, 840, 10045, 4, 3, 3])),
        SigAlg::Ed25519 => w.next().write_oid(&oid(&[1, 3, 101, 112])),
        SigAlg::RsaSha256 | SigAlg::RsaSha1 => {
            let last = if alg == SigAlg::RsaSha256 { 11 } else { 5 };
            w.next().write_oid(&oid(&[1, 2, 840, 113549, 1, 1, last]));
            w.next().write_null();
        }
    });
}

fn write_name(w: DERWriter, name: &Name) {
    w.write_sequence(|w| {
        for (o, value) in [(OID_O, &name.organization), (OID_CN, &name.common_name)] {
            if let Some(value) = value {
                w.next().write_set(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(o));
                        w.next().write_utf8_string(value);
                    })
                });
            }
        }
    });
}

fn write_time(w: DERWriter, t: OffsetDateTime) {
    w.write_utctime(&UTCTime::from_datetime(t));
}

/// A GeneralName (implicitly tagged, as RFC 5280's module is).
fn write_general_name(w: DERWriter, san: &San) {
    match san {
        San::Dns(d) => w.write_tagged_implicit(Tag::context(2), |w| w.write_ia5_string(d)),
        San::Email(e) => w.write_tagged_implicit(Tag::context(1), |w| w.write_ia5_string(e)),
        San::Uri(u) => w.write_tagged_implicit(Tag::context(6), |w| w.write_ia5_string(u)),
        San::Ip(ip) => w.write_tagged_implicit(Tag::context(7), |w| w.write_bytes(&ip_bytes(*ip))),
    }
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// A name constraint's base: for an IP range, address and mask.
fn write_constraint(w: DERWriter, c: &Constraint) {
    w.write_sequence(|w| match c {
        Constraint::Dns(d) => write_general_name(w.next(), &San::Dns(d.clone())),
        Constraint::Email(e) => write_general_name(w.next(), &San::Email(e.clone())),
        Constraint::Uri(u) => write_general_name(w.next(), &San::Uri(u.clone())),
        Constraint::Ip(ip, prefix) => {
            let mut bytes = ip_bytes(*ip);
            let len = bytes.len();
            let mask: Vec<u8> = (0..len)
                .map(|i| {
                    let bits = (*prefix as usize).saturating_sub(i * 8).min(8);
                    (0xffu16 << (8 - bits)) as u8
                })
                .collect();
            bytes.extend(mask);
            w.next()
                .write_tagged_implicit(Tag::context(7), |w| w.write_bytes(&bytes));
        }
    });
}

fn extension(w: &mut yasna::DERWriterSeq, o: &[u64], critical: bool, value: Vec<u8>) {
    w.next().write_sequence(|w| {
        w.next().write_oid(&oid(o));
        if critical {
            w.next().write_bool(true);
        }
        w.next().write_bytes(&value);
    });
}

/// The extensions' DER values, in the order they are written.
fn extensions(
    spec: &CertSpec,
    ski: Option<&[u8]>,
    aki: Option<&[u8]>,
) -> Vec<(&'static [u64], bool, Vec<u8>)> {
    let mut exts = Vec::new();
    if let Some(Bc {
        ca,
        path_len,
        critical,
    }) = spec.basic_constraints
    {
        exts.push((
            OID_BC,
            critical,
            yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    if ca {
                        w.next().write_bool(true);
                    }
                    if let Some(n) = path_len {
                        w.next().write_u8(n);
                    }
                })
            }),
        ));
    }
    if let Some(bits) = spec.key_usage {
        // Bit 0 is the first bit; written over two bytes, trailing zero bits dropped.
        let len = 16 - bits.trailing_zeros().min(16) as usize;
        let bytes = [(bits >> 8) as u8, bits as u8];
        exts.push((
            OID_KU,
            true,
            yasna::construct_der(|w| w.write_bitvec_bytes(&bytes[..len.div_ceil(8)], len)),
        ));
    }
    if let Some(ekus) = &spec.ext_key_usage {
        exts.push((
            OID_EKU,
            false,
            yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    for eku in ekus {
                        w.next().write_oid(&oid(eku.oid()));
                    }
                })
            }),
        ));
    }
    if let Some(sans) = &spec.sans {
        exts.push((
            OID_SAN,
            false,
            yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    for san in sans {
                        write_general_name(w.next(), san);
                    }
                })
            }),
        ));
    }
    if let Some(nc) = &spec.name_constraints {
        exts.push((
            OID_NC,
            nc.critical,
            yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    for (tag, list) in [(0, &nc.permitted), (1, &nc.excluded)] {
                        if !list.is_empty() {
                            w.next().write_tagged_implicit(Tag::context(tag), |w| {
                                w.write_sequence(|w| {
                                    for c in list {
                                        write_constraint(w.next(), c);
                                    }
                                })
                            });
                        }
                    }
                })
            }),
        ));
    }
    if let Some(ski) = ski {
        exts.push((OID_SKI, false, yasna::construct_der(|w| w.write_bytes(ski))));
    }
    if let Some(aki) = aki {
        exts.push((
            OID_AKI,
            false,
            yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    w.next()
                        .write_tagged_implicit(Tag::context(0), |w| w.write_bytes(aki))
                })
            }),
        ));
    }
    if spec.unknown_critical {
        exts.push((OID_UNKNOWN, true, yasna::construct_der(|w| w.write_null())));
    }
    exts
}

/// The TBSCertificate of `spec`, whose subject key is `subject_key` (SPKI DER).
pub(super) fn tbs(
    spec: &CertSpec,
    subject_spki: &[u8],
    ski: Option<&[u8]>,
    aki: Option<&[u8]>,
) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            if !spec.v1 {
                w.next().write_tagged(Tag::context(0), |w| w.write_u8(2));
            }
            w.next().write_u64(spec.serial);
            write_alg(w.next(), spec.sig_alg);
            write_name(w.next(), &spec.issuer);
            w.next().write_sequence(|w| {
                write_time(w.next(), spec.not_before);
                write_time(w.next(), spec.not_after);
            });
            write_name(w.next(), &spec.subject);
            w.next().write_der(subject_spki);
            if !spec.v1 {
                let exts = extensions(spec, ski, aki);
                if !exts.is_empty() {
                    w.next().write_tagged(Tag::context(3), |w| {
                        w.write_sequence(|w| {
                            for (o, critical, value) in exts {
                                extension(w, o, critical, value);
                            }
                        })
                    });
                }
            }
        })
    })
}

/// The certificate: `tbs` signed by `signer` with `alg`.
pub(super) fn certificate(tbs: &[u8], alg: SigAlg, signer: &KeyPair, kind: KeyKind) -> Vec<u8> {
    let signature = match alg {
        SigAlg::RsaSha1 => rsa_sha1(signer, tbs),
        _ => {
            debug_assert!(kind.signs_with(alg) || kind == KeyKind::Ed448);
            signer.sign(tbs).expect("the key signs")
        }
    };
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(tbs);
            write_alg(w.next(), alg);
            w.next().write_bitvec_bytes(&signature, signature.len() * 8);
        })
    })
}

/// The SPKI of a key.
pub(super) fn spki(key: &KeyPair) -> Vec<u8> {
    key.subject_public_key_info()
}

/// RSASSA-PKCS1-v1_5 with SHA-1: EM = 00 01 FF.. 00 DigestInfo, s = EM^d mod n.
fn rsa_sha1(key: &KeyPair, msg: &[u8]) -> Vec<u8> {
    let (n, d) = rsa_n_d(&key.serialize_der());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, msg);
    let prefix: [u8; 15] = [
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    let k = n.bits().div_ceil(8) as usize;
    let mut em = vec![0xffu8; k];
    em[0] = 0;
    em[1] = 1;
    let t_len = prefix.len() + digest.as_ref().len();
    em[k - t_len - 1] = 0;
    em[k - t_len..k - digest.as_ref().len()].copy_from_slice(&prefix);
    em[k - digest.as_ref().len()..].copy_from_slice(digest.as_ref());
    let s = BigUint::from_bytes_be(&em).modpow(&d, &n).to_bytes_be();
    let mut out = vec![0u8; k - s.len()];
    out.extend(s);
    out
}

/// n and d of a PKCS#8 RSA key.
fn rsa_n_d(pkcs8: &[u8]) -> (BigUint, BigUint) {
    let inner = yasna::parse_der(pkcs8, |r| {
        r.read_sequence(|r| {
            r.next().read_u8()?;
            r.next().read_der()?;
            r.next().read_bytes()
        })
    })
    .expect("a PKCS#8 key");
    yasna::parse_der(&inner, |r| {
        r.read_sequence(|r| {
            r.next().read_u8()?;
            let (n, _) = r.next().read_bigint_bytes()?;
            r.next().read_bigint_bytes()?;
            let (d, _) = r.next().read_bigint_bytes()?;
            for _ in 0..5 {
                r.next().read_bigint_bytes()?;
            }
            Ok((BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&d)))
        })
    })
    .expect("a PKCS#1 RSA key")
}

impl Eku {
    fn oid(self) -> &'static [u64] {
        match self {
            Eku::Any => &[2, 5, 29, 37, 0],
            Eku::ServerAuth => &[1, 3, 6, 1, 5, 5, 7, 3, 1],
            Eku::ClientAuth => &[1, 3, 6, 1, 5, 5, 7, 3, 2],
            Eku::CodeSigning => &[1, 3, 6, 1, 5, 5, 7, 3, 3],
            Eku::MsSgc => &[1, 3, 6, 1, 4, 1, 311, 10, 3, 3],
            Eku::NsSgc => &[2, 16, 840, 1, 113730, 4, 1],
            Eku::Unknown => &[1, 3, 6, 1, 4, 1, 99999, 2],
        }
    }
}

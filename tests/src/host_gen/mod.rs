//! Seeded generation of certificates and host inputs for the differential tests against Go
//! (tests/go-oracle): SAN lists that mix every shape of DNS name ([`names`]) and IP address
//! ([`ips`]), Common-Name-only certificates, and hosts in every form an operator or a URL
//! yields ([`hosts`]), and connections for etcd's listener-side SAN check ([`dns_tables`]).
//! Certificates are made with rcgen, self-signed with one key: only their
//! names matter here, not their signatures.

pub mod dns_tables;
pub mod hosts;
pub mod ips;
pub mod names;

use std::net::IpAddr;
use std::sync::OnceLock;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

use crate::prng::Rng;

/// One subjectAltName entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// A dNSName (non-ASCII ones make a certificate Go refuses to parse).
    Dns(String),
    /// An iPAddress (an IPv4-mapped IPv6 address is written as 16 bytes).
    Ip(IpAddr),
    /// A URI or email name, which no host check reads (`URI:...`, `email:...`).
    Other(String),
}

/// What a generated certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    /// The subject's Common Name, if any.
    pub common_name: Option<String>,
    /// The SANs in order; empty means no subjectAltName extension at all.
    pub sans: Vec<San>,
}

impl CertSpec {
    /// A certificate with these SANs and no Common Name.
    pub fn with_sans(sans: Vec<San>) -> CertSpec {
        CertSpec {
            common_name: None,
            sans,
        }
    }

    /// A random certificate: mostly a mix of DNS and IP SANs, sometimes only a Common Name or
    /// only URI/email SANs.
    pub fn random(rng: &mut Rng) -> CertSpec {
        let common_name = match rng.below(10) {
            0..=4 => None,
            5 | 6 => Some(names::plain(rng)),
            7 => Some(ips::any_spelling(rng)),
            _ => Some(names::san(rng)),
        };
        let sans = match rng.weighted(&[8, 4, 88]) {
            0 => Vec::new(),
            1 => vec![San::Other(
                rng.pick(&["URI:spiffe://cluster/etcd", "email:etcd@example.com"])
                    .to_string(),
            )],
            _ => (0..rng.range(1, 6))
                .map(|_| match rng.weighted(&[60, 40, 2]) {
                    0 => San::Dns(names::san(rng)),
                    1 => San::Ip(ips::san(rng)),
                    _ => San::Other("URI:https://etcd.example.com".into()),
                })
                .collect(),
        };
        // A Common Name equal to a SAN, as many tools write them.
        let common_name = match (&common_name, sans.first()) {
            (None, Some(San::Dns(d))) if rng.chance(30) => Some(d.clone()),
            _ => common_name,
        };
        CertSpec { common_name, sans }
    }

    /// The certificate's DER. A non-ASCII DNS name, which rcgen refuses, is written as an
    /// ASCII placeholder of the same length and then replaced in the DER (breaking the
    /// signature, which no host check reads).
    pub fn der(&self) -> Vec<u8> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        if let Some(cn) = &self.common_name {
            params
                .distinguished_name
                .push(DnType::CommonName, cn.as_str());
        }
        let mut patches: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for (i, san) in self.sans.iter().enumerate() {
            params.subject_alt_names.push(match san {
                San::Dns(name) if name.is_ascii() => {
                    SanType::DnsName(name.as_str().try_into().expect("ASCII is IA5"))
                }
                San::Dns(name) => {
                    let placeholder = placeholder(i, name.len());
                    patches.push((dns_tlv(placeholder.as_bytes()), dns_tlv(name.as_bytes())));
                    SanType::DnsName(placeholder.as_str().try_into().expect("ASCII"))
                }
                San::Ip(ip) => SanType::IpAddress(*ip),
                San::Other(o) => match o.split_once(':') {
                    Some(("email", e)) => SanType::Rfc822Name(e.try_into().expect("ASCII")),
                    Some((_, u)) => SanType::URI(u.try_into().expect("ASCII")),
                    None => unreachable!("San::Other is kind:value"),
                },
            });
        }
        let mut der = params
            .self_signed(key())
            .expect("rcgen signs any names")
            .der()
            .to_vec();
        for (from, to) in patches {
            let at = der
                .windows(from.len())
                .position(|w| w == from.as_slice())
                .expect("the placeholder is in the DER");
            der[at..at + from.len()].copy_from_slice(&to);
        }
        der
    }
}

/// The one key every generated certificate is signed with.
fn key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| KeyPair::generate().expect("an ECDSA P-256 key"))
}

/// A dNSName's encoding: tag [2], length, bytes.
fn dns_tlv(name: &[u8]) -> Vec<u8> {
    assert!(name.len() < 128, "short names only");
    let mut tlv = vec![0x82, name.len() as u8];
    tlv.extend_from_slice(name);
    tlv
}

/// An ASCII name of `len` bytes, unique to SAN `i`.
fn placeholder(i: usize, len: usize) -> String {
    let tag = format!("q{i}");
    let mut p: String = tag
        .chars()
        .chain(std::iter::repeat('z'))
        .take(len)
        .collect();
    if len < tag.len() {
        p = "q".repeat(len);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_certificates_and_hosts() {
        let make = |seed| {
            let mut rng = Rng::for_case(seed, 3);
            let spec = CertSpec::random(&mut rng);
            let hosts = hosts::for_cert(&mut rng, &spec, 8);
            (spec, hosts)
        };
        assert_eq!(make(5), make(5));
        assert_ne!(make(5), make(6));
    }

    #[test]
    fn non_ascii_names_are_written_as_given() {
        let spec = CertSpec::with_sans(vec![
            San::Dns("bücher.test".into()),
            San::Dns("a.test".into()),
        ]);
        let der = spec.der();
        assert!(der.windows(12).any(|w| w == "bücher.test".as_bytes()));
    }
}

//! A certificate's subject and issuer as separate attributes (C, ST, L, O, OU, CN) and its serial
//! number in decimal: the labels monitoring systems key certificates by (x509-certificate-exporter
//! labels its series `subject_CN`, `issuer_O`, `serial_number`, ... with these values).
//!
//! Attributes that occur more than once are joined with `,` in the order of the certificate;
//! the common name is the last one, as Go's `pkix.Name.CommonName` keeps it. The serial number
//! is read as DER encodes it, a two's complement integer, so a negative serial (which Go accepts
//! with `x509negativeserial=1`) prints with a minus sign as Go's `big.Int` prints it.

use x509_parser::prelude::{FromDer, X509Name};

use crate::cert::Certificate;

/// The attributes of a distinguished name that monitoring labels carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NameFields {
    /// countryName (C).
    pub country: String,
    /// stateOrProvinceName (ST).
    pub state: String,
    /// localityName (L).
    pub locality: String,
    /// organizationName (O).
    pub organization: String,
    /// organizationalUnitName (OU).
    pub organizational_unit: String,
    /// commonName (CN): the last one.
    pub common_name: String,
}

impl NameFields {
    /// The attributes of a DER-encoded name; empty fields where it cannot be read.
    fn of_der(der: &[u8]) -> NameFields {
        let Ok((_, name)) = X509Name::from_der(der) else {
            return NameFields::default();
        };
        fn text<'a>(a: &'a x509_parser::x509::AttributeTypeAndValue<'_>) -> Option<&'a str> {
            a.as_str().ok()
        }
        let join = |values: Vec<&str>| values.join(",");
        NameFields {
            country: join(name.iter_country().filter_map(text).collect()),
            state: join(name.iter_state_or_province().filter_map(text).collect()),
            locality: join(name.iter_locality().filter_map(text).collect()),
            organization: join(name.iter_organization().filter_map(text).collect()),
            organizational_unit: join(name.iter_organizational_unit().filter_map(text).collect()),
            common_name: name
                .iter_common_name()
                .filter_map(text)
                .last()
                .unwrap_or_default()
                .to_string(),
        }
    }
}

impl Certificate {
    /// The subject's attributes.
    pub fn subject_fields(&self) -> NameFields {
        NameFields::of_der(self.raw_subject())
    }

    /// The issuer's attributes.
    pub fn issuer_fields(&self) -> NameFields {
        NameFields::of_der(self.raw_issuer())
    }

    /// The subject's first organizationName, Go's `Subject.Organization[0]`.
    pub(crate) fn first_organization(&self) -> Option<String> {
        let (_, name) = X509Name::from_der(self.raw_subject()).ok()?;
        let first = name.iter_organization().next()?;
        first.as_str().ok().map(str::to_string)
    }

    /// The serial number in decimal, as Go's `big.Int` and x509-certificate-exporter print it.
    pub fn serial_decimal(&self) -> String {
        signed_decimal(self.serial_bytes())
    }
}

/// A big-endian two's complement integer in decimal.
fn signed_decimal(bytes: &[u8]) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        // Two's complement: invert and add one.
        let mut m: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (sum, carry) = b.overflowing_add(1);
            *b = sum;
            if !carry {
                break;
            }
        }
        m
    } else {
        bytes.to_vec()
    };
    let digits = unsigned_decimal(&magnitude);
    if negative {
        format!("-{digits}")
    } else {
        digits
    }
}

/// A big-endian unsigned integer in decimal, by repeated division by 10.
fn unsigned_decimal(bytes: &[u8]) -> String {
    let mut n: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if n.is_empty() {
        return "0".into();
    }
    let mut digits = Vec::new();
    while !n.is_empty() {
        let mut remainder: u32 = 0;
        for b in n.iter_mut() {
            let value = (remainder << 8) | u32::from(*b);
            *b = (value / 10) as u8;
            remainder = value % 10;
        }
        digits.push(b'0' + remainder as u8);
        let zeros = n.iter().take_while(|b| **b == 0).count();
        n.drain(..zeros);
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_as_go_prints_them() {
        assert_eq!(signed_decimal(&[]), "0");
        assert_eq!(signed_decimal(&[0]), "0");
        assert_eq!(signed_decimal(&[0x01, 0x00]), "256");
        assert_eq!(signed_decimal(&[0x00, 0xff]), "255");
        assert_eq!(signed_decimal(&[0xff]), "-1");
        assert_eq!(signed_decimal(&[0x80]), "-128");
        assert_eq!(signed_decimal(&[0xff, 0x00]), "-256");
        // 2^64 and a 20-byte serial as cfssl writes them.
        assert_eq!(
            signed_decimal(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            "18446744073709551616"
        );
        assert_eq!(
            signed_decimal(&[
                0x4f, 0x12, 0x9c, 0x3a, 0x77, 0x01, 0xee, 0x10, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd
            ]),
            "451425293719827661930858024754973311487516069085"
        );
    }

    #[test]
    fn name_fields_of_a_cfssl_certificate() {
        // Subject C=CN, ST=BeiJing, L=BeiJing, O=etcd, OU=etcd, CN=etcd-peer (cfssl's csr.json).
        let cert = crate::test_support::cert("cfssl/members.pem");
        let s = cert.subject_fields();
        assert_eq!(s.country, "CN");
        assert_eq!(s.state, "BeiJing");
        assert_eq!(s.locality, "BeiJing");
        assert_eq!(s.organization, "etcd");
        assert_eq!(s.organizational_unit, "etcd");
        assert_eq!(s.common_name, "etcd-peer");
        assert_eq!(cert.issuer_fields().common_name, "etcd-ca");
        // The decimal serial read back is the hex serial openssl prints.
        let mut value: Vec<u32> = vec![0];
        for d in cert.serial_decimal().bytes() {
            let mut carry = u32::from(d - b'0');
            for limb in value.iter_mut() {
                let v = *limb * 10 + carry;
                *limb = v & 0xffff;
                carry = v >> 16;
            }
            if carry > 0 {
                value.push(carry);
            }
        }
        let hex: String = value.iter().rev().map(|l| format!("{l:04x}")).collect();
        assert_eq!(hex.trim_start_matches('0'), cert.serial_hex());
    }
}

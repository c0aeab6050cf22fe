//! DNS names a certificate may list in its SANs: what Go's `validHostnamePattern` accepts for a
//! SAN that can ever match (letters, digits, `-` not first, `_`; `*` only as the whole first
//! label), ASCII (a dNSName is an IA5String: international names go in as punycode), and the
//! lengths of RFC 1035 §2.3.4: a label of at most 63 bytes and a name of at most 253 (255 on
//! the wire). A longer name is one no resolver returns and no client dials.

use std::net::IpAddr;

/// The longest label.
pub(crate) const MAX_LABEL: usize = 63;
/// The longest name (without a trailing dot).
pub(crate) const MAX_NAME: usize = 253;

/// Why a name cannot be a DNS SAN (see [`crate::RequestProblem::InvalidDnsName`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsNameProblem {
    /// Empty, or not ASCII.
    NotAscii,
    /// It is an IP address, which Go never matches against a DNS SAN.
    IsAnIp,
    /// Longer than 253 bytes; the length.
    TooLong(usize),
    /// A label longer than 63 bytes.
    LabelTooLong {
        /// The label's first 16 bytes.
        start: String,
        /// Its length.
        len: usize,
    },
    /// A label Go's pattern refuses.
    BadLabel(String),
}

impl std::fmt::Display for DnsNameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsNameProblem::NotAscii => f.write_str(
                "a DNS name must be non-empty ASCII (use punycode for international names)",
            ),
            DnsNameProblem::IsAnIp => f.write_str(
                "this is an IP address: give it as an IP, since Go never matches an IP against a DNS SAN",
            ),
            DnsNameProblem::TooLong(len) => {
                write!(f, "it is {len} bytes long; a DNS name has at most {MAX_NAME}")
            }
            DnsNameProblem::LabelTooLong { start, len } => write!(
                f,
                "label {start:?}... is {len} bytes long; a DNS label has at most {MAX_LABEL}"
            ),
            DnsNameProblem::BadLabel(label) => write!(
                f,
                "label {label:?} is not a valid host name label (letters, digits, '-' not first; '*' only as the whole first label)"
            ),
        }
    }
}

/// Why `name` cannot be a DNS SAN, if it cannot.
pub(crate) fn validate_dns(name: &str) -> Result<(), DnsNameProblem> {
    if name.is_empty() || !name.is_ascii() {
        return Err(DnsNameProblem::NotAscii);
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err(DnsNameProblem::IsAnIp);
    }
    if name.len() > MAX_NAME {
        return Err(DnsNameProblem::TooLong(name.len()));
    }
    for (i, label) in name.split('.').enumerate() {
        if label.len() > MAX_LABEL {
            return Err(DnsNameProblem::LabelTooLong {
                start: label[..16].to_string(),
                len: label.len(),
            });
        }
        let ok = !label.is_empty()
            && ((i == 0 && label == "*")
                || label
                    .chars()
                    .enumerate()
                    .all(|(j, c)| c.is_ascii_alphanumeric() || c == '_' || (c == '-' && j != 0)));
        if !ok {
            return Err(DnsNameProblem::BadLabel(label.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_rfc_1035() {
        let label63 = "a".repeat(63);
        assert!(validate_dns(&format!("{label63}.example.test")).is_ok());
        let err = validate_dns(&format!("{}.example.test", "a".repeat(64))).unwrap_err();
        assert!(err.to_string().contains("at most 63"), "{err}");
        let name253 = [
            &"a".repeat(63)[..],
            &"b".repeat(63),
            &"c".repeat(63),
            &"d".repeat(61),
        ]
        .join(".");
        assert_eq!(name253.len(), 253);
        assert!(validate_dns(&name253).is_ok());
        let err = validate_dns(&format!("{name253}e")).unwrap_err();
        assert!(err.to_string().contains("at most 253"), "{err}");
    }

    #[test]
    fn go_patterns() {
        for ok in ["etcd-0.example.com", "*.example.com", "a_b.test", "x"] {
            assert!(validate_dns(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a.test", "a..b", "a.*.b", "10.0.0.1", "é.test", "a b"] {
            assert!(validate_dns(bad).is_err(), "{bad}");
        }
    }
}

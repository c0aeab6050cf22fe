//! Names as Go's `crypto/x509` reads them where certificates constrain names: DNS names as
//! label lists (`domainToReverseLabels`), mailboxes (`parseRFC2821Mailbox`), and the checks Go
//! makes of a name constraints extension when it parses a certificate
//! (`parseNameConstraintsExtension`, identical in Go 1.19 and 1.24). [`crate::cert`] refuses a
//! certificate with Go's message where these fail; [`crate::name_constraints`] matches names
//! against the constraints.

use crate::go_ip::go_parse_ip;
use crate::go_rules::GoRules;

/// One name constraint (permitted or excluded subtree), in the kinds Go evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameConstraint {
    /// A DNS domain constraint (`example.com`, `.example.com`).
    Dns(String),
    /// An IP range: address and mask of equal length (4 or 16 bytes once parsed).
    Ip { addr: Vec<u8>, mask: Vec<u8> },
    /// An email constraint.
    Email(String),
    /// A URI domain constraint.
    Uri(String),
}

/// The name constraints extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NameConstraints {
    pub(crate) permitted: Vec<NameConstraint>,
    pub(crate) excluded: Vec<NameConstraint>,
}

/// Go's `domainToReverseLabels`: the labels, last first; `None` for a name with an empty label
/// (a trailing dot included), or a character outside `!`..`~`. The empty name has no labels.
/// A leading dot is an empty first label to Go 1.24; Go 1.19 drops it without a word.
pub(crate) fn domain_to_reverse_labels(domain: &str, rules: GoRules) -> Option<Vec<&str>> {
    if domain.is_empty() {
        return Some(Vec::new());
    }
    let domain = match (rules, domain.strip_prefix('.')) {
        (GoRules::Go119, Some(rest)) if !rest.is_empty() => rest,
        _ => domain,
    };
    let labels: Vec<&str> = domain.rsplit('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.bytes().any(|c| !(33..=126).contains(&c)))
    {
        return None;
    }
    Some(labels)
}

/// Go's checks of a name constraints extension at parse time (`parseNameConstraintsExtension`,
/// the same in Go 1.19 and 1.24): DNS, email domain and URI constraints must be names (a
/// leading dot allowed), a mailbox constraint a mailbox, a URI constraint not an IP address, an
/// IP constraint an address and a contiguous mask. `Err` holds Go's message. Where the two Gos
/// read a name differently (a second leading dot), Go 1.24's reading applies.
pub(crate) fn parse_problem(nc: &NameConstraints) -> Result<(), String> {
    let rules = GoRules::Go124;
    let name_ok =
        |d: &str| domain_to_reverse_labels(d.strip_prefix('.').unwrap_or(d), rules).is_some();
    for c in nc.permitted.iter().chain(&nc.excluded) {
        match c {
            NameConstraint::Dns(d) if !name_ok(d) => {
                return Err(format!(
                    "x509: failed to parse dnsName constraint {}",
                    crate::go_fmt::go_quote(d)
                ))
            }
            NameConstraint::Email(e) => {
                let ok = if e.contains('@') {
                    parse_mailbox(e, rules).is_some()
                } else {
                    name_ok(e)
                };
                if !ok {
                    return Err(format!(
                        "x509: failed to parse rfc822Name constraint {}",
                        crate::go_fmt::go_quote(e)
                    ));
                }
            }
            NameConstraint::Uri(u) if go_parse_ip(u, rules).is_some() => {
                return Err(format!(
                    "x509: failed to parse URI constraint {}: cannot be IP address",
                    crate::go_fmt::go_quote(u)
                ))
            }
            NameConstraint::Uri(u) if !name_ok(u) => {
                return Err(format!(
                    "x509: failed to parse URI constraint {}",
                    crate::go_fmt::go_quote(u)
                ))
            }
            NameConstraint::Ip { addr, mask } => {
                let len = addr.len() + mask.len();
                if len != 8 && len != 32 || addr.len() != mask.len() {
                    return Err(format!(
                        "x509: IP constraint contained value of length {len}"
                    ));
                }
                if !is_valid_ip_mask(mask) {
                    let hex: String = mask.iter().map(|b| format!("{b:02x}")).collect();
                    return Err(format!("x509: IP constraint contained invalid mask {hex}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Go's `isValidIPMask`: ones, then zeros.
fn is_valid_ip_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for &b in mask {
        if seen_zero {
            if b != 0 {
                return false;
            }
            continue;
        }
        match b {
            0x00 | 0x80 | 0xc0 | 0xe0 | 0xf0 | 0xf8 | 0xfc | 0xfe => seen_zero = true,
            0xff => {}
            _ => return false,
        }
    }
    true
}

/// Go's `parseRFC2821Mailbox`: the local part (unquoted and unescaped) and the domain, or
/// `None` where Go refuses the address.
pub(crate) fn parse_mailbox(input: &str, rules: GoRules) -> Option<(Vec<u8>, &str)> {
    let bytes = input.as_bytes();
    let mut i = 0;
    let mut local = Vec::new();
    if bytes.first() == Some(&b'"') {
        i = 1;
        loop {
            let c = *bytes.get(i)?;
            i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let q = *bytes.get(i)?;
                    if matches!(q, 1..=9 | 11 | 12 | 14..=127) {
                        local.push(q);
                        i += 1;
                    } else {
                        return None;
                    }
                }
                1..=8 | 11 | 12 | 14..=31 | 32 | 33 | 35..=91 | 93..=127 => local.push(c),
                _ => return None,
            }
        }
    } else {
        while let Some(&c) = bytes.get(i) {
            let c = if c == b'\\' {
                i += 1;
                *bytes.get(i)?
            } else if c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&c) {
                c
            } else {
                break;
            };
            // An escaped character is taken as it is, as Go takes it.
            local.push(c);
            i += 1;
        }
        if local.is_empty()
            || local.first() == Some(&b'.')
            || local.last() == Some(&b'.')
            || local.windows(2).any(|w| w == b"..")
        {
            return None;
        }
    }
    if bytes.get(i) != Some(&b'@') {
        return None;
    }
    let domain = &input[i + 1..];
    domain_to_reverse_labels(domain, rules)?;
    Some((local, domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_as_each_go_reads_them() {
        // Go 1.19's domainToReverseLabels drops one leading dot; Go 1.24 refuses it. Both take
        // the empty name as a name without labels.
        assert_eq!(
            domain_to_reverse_labels(".example.com", GoRules::Go119),
            Some(vec!["com", "example"])
        );
        assert_eq!(
            domain_to_reverse_labels(".example.com", GoRules::Go124),
            None
        );
        for rules in GoRules::ALL {
            assert_eq!(domain_to_reverse_labels("", rules), Some(vec![]));
            assert_eq!(domain_to_reverse_labels(".", rules), None);
            assert_eq!(domain_to_reverse_labels("..a", rules), None);
            assert_eq!(domain_to_reverse_labels("a.", rules), None);
        }
    }

    #[test]
    fn mailboxes_are_parsed_as_go_parses_them() {
        let parse =
            |s| parse_mailbox(s, GoRules::Go124).map(|(l, d)| (String::from_utf8(l).unwrap(), d));
        assert_eq!(
            parse("ops@example.com"),
            Some(("ops".into(), "example.com"))
        );
        assert_eq!(
            parse("\"o p\"@example.com"),
            Some(("o p".into(), "example.com"))
        );
        assert_eq!(
            parse("a\\@b@example.com"),
            Some(("a@b".into(), "example.com"))
        );
        // Anything after the `@` is a domain, the empty one too.
        assert_eq!(parse("a@"), Some(("a".into(), "")));
        for bad in [
            "",
            "@example.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a@b.",
            "a b@example.com",
            "\"unterminated@example.com",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        // Without an `@` the whole is a local part with nothing after it.
        assert_eq!(parse("example.com"), None);
    }

    #[test]
    fn constraints_go_refuses_to_parse_are_refused() {
        let nc = |c: NameConstraint| NameConstraints {
            permitted: vec![c],
            excluded: vec![],
        };
        let problem = |c| parse_problem(&nc(c)).unwrap_err();
        assert_eq!(
            problem(NameConstraint::Dns("a..b".into())),
            "x509: failed to parse dnsName constraint \"a..b\""
        );
        assert_eq!(
            problem(NameConstraint::Email("a..b@example.com".into())),
            "x509: failed to parse rfc822Name constraint \"a..b@example.com\""
        );
        assert_eq!(
            problem(NameConstraint::Uri("10.0.0.1".into())),
            "x509: failed to parse URI constraint \"10.0.0.1\": cannot be IP address"
        );
        assert_eq!(
            problem(NameConstraint::Ip {
                addr: vec![10, 0, 0, 0],
                mask: vec![255, 0, 255, 0]
            }),
            "x509: IP constraint contained invalid mask ff00ff00"
        );
        assert_eq!(
            problem(NameConstraint::Ip {
                addr: vec![10, 0],
                mask: vec![255, 0, 0]
            }),
            "x509: IP constraint contained value of length 5"
        );
        for fine in [
            NameConstraint::Dns(String::new()),
            NameConstraint::Dns(".example.com".into()),
            NameConstraint::Email(".example.com".into()),
            NameConstraint::Uri(".example.com".into()),
            NameConstraint::Ip {
                addr: vec![10, 0, 0, 0],
                mask: vec![255, 0, 0, 0],
            },
        ] {
            assert_eq!(parse_problem(&nc(fine.clone())), Ok(()), "{fine:?}");
        }
    }
}

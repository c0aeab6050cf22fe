//! Name constraints as Go's `crypto/x509` checks them (`checkNameConstraints` and its
//! matchers): a CA's permitted and excluded subtrees against the DNS, IP, email and URI SANs of
//! every certificate below it in a chain. Other name forms are ignored, as Go ignores them. The
//! constraints are read from the certificate in [`crate::cert`]; [`verify`](mod@crate::verify)
//! applies this to each CA of a chain it builds.

use crate::cert::{Certificate, SanKind};
use std::net::IpAddr;

use crate::coverage::go_ip_string;
use crate::go_fmt::go_quote;
use crate::go_names::{domain_to_reverse_labels, parse_mailbox, NameConstraint, NameConstraints};
use crate::go_rules::GoRules;

/// Why a certificate's SANs fail a CA's name constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConstraintFailure {
    /// A name is excluded or not permitted, or cannot be matched: Go's detail text of
    /// `CANotAuthorizedForThisName`.
    NotAuthorized(String),
    /// A SAN Go cannot read to check it (`x509: cannot parse dnsName ...`): Go's whole message,
    /// which it returns as it is.
    Unreadable(String),
}

/// Go's `checkNameConstraints` for the SANs of `below`, a certificate in the chain under the CA
/// whose constraints `nc` are, in the order the SANs are written.
pub(crate) fn check_name_constraints(
    nc: &NameConstraints,
    below: &Certificate,
    rules: GoRules,
) -> Result<(), ConstraintFailure> {
    use ConstraintFailure::{NotAuthorized, Unreadable};
    let sans = below.sans();
    let check =
        |kind: &str,
         name: &str,
         matcher: &dyn Fn(&NameConstraint) -> Option<Result<bool, String>>| {
            for constraint in &nc.excluded {
                match matcher(constraint) {
                    Some(Err(e)) => return Err(NotAuthorized(e)),
                    Some(Ok(true)) => {
                        return Err(NotAuthorized(format!(
                            "{kind} {} is excluded by constraint {}",
                            go_quote(name),
                            go_quote(&describe(constraint))
                        )))
                    }
                    _ => {}
                }
            }
            let mut relevant = false;
            for constraint in &nc.permitted {
                match matcher(constraint) {
                    Some(Err(e)) => return Err(NotAuthorized(e)),
                    Some(Ok(true)) => return Ok(()),
                    Some(Ok(false)) => relevant = true,
                    None => {}
                }
            }
            if relevant {
                return Err(NotAuthorized(format!(
                    "{kind} {} is not permitted by any constraint",
                    go_quote(name)
                )));
            }
            Ok(())
        };
    // In the order the SANs are written, as Go's forEachSAN walks them.
    let (mut dns_i, mut ip_i, mut uri_i, mut email_i) = (0, 0, 0, 0);
    let next = |i: &mut usize| {
        *i += 1;
        *i - 1
    };
    for kind in below.san_order() {
        match kind {
            SanKind::Dns => {
                let dns = &sans.dns[next(&mut dns_i)];
                if domain_to_reverse_labels(dns, rules).is_none() {
                    return Err(Unreadable(format!(
                        "x509: cannot parse dnsName {}",
                        go_quote(dns)
                    )));
                }
                check("DNS name", dns, &|c| match c {
                    NameConstraint::Dns(d) => Some(match_domain_constraint(dns, d, rules)),
                    _ => None,
                })?;
            }
            SanKind::Ip => {
                let ip = &sans.ip[next(&mut ip_i)];
                let bytes: Vec<u8> = match ip {
                    std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                    std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
                };
                check("IP address", &go_ip_string(ip), &|c| match c {
                    NameConstraint::Ip { addr, mask } => Some(Ok(bytes.len() == addr.len()
                        && bytes
                            .iter()
                            .zip(addr.iter().zip(mask))
                            .all(|(b, (a, m))| b & m == a & m))),
                    _ => None,
                })?;
            }
            SanKind::Email => {
                let email = &sans.email[next(&mut email_i)];
                if parse_mailbox(email, rules).is_none() {
                    // Go formats the zero mailbox it failed to fill with %q.
                    return Err(Unreadable(
                        "x509: cannot parse rfc822Name {\"\" \"\"}".into(),
                    ));
                }
                check("email address", email, &|c| match c {
                    NameConstraint::Email(e) => Some(match_email_constraint(email, e, rules)),
                    _ => None,
                })?;
            }
            SanKind::Uri => {
                let uri = &sans.uri[next(&mut uri_i)];
                check("URI", uri, &|c| match c {
                    NameConstraint::Uri(u) => Some(match_uri_constraint(uri, u, rules)),
                    _ => None,
                })?;
            }
        }
    }
    Ok(())
}

/// A constraint as Go's `%q` shows it: the string, or for an IP range `net.IPNet.String`.
fn describe(c: &NameConstraint) -> String {
    match c {
        NameConstraint::Dns(d) | NameConstraint::Email(d) | NameConstraint::Uri(d) => d.clone(),
        NameConstraint::Ip { addr, mask } => ip_net_string(addr, mask),
    }
}

/// Go's `net.IPNet.String`: an IPv4-mapped network with a 16-byte mask is shown as IPv4 with
/// the mask's last four bytes; the prefix length where the mask is contiguous, else the mask in
/// hex.
fn ip_net_string(addr: &[u8], mask: &[u8]) -> String {
    let ip = match <[u8; 16]>::try_from(addr) {
        Ok(a) => IpAddr::from(a),
        Err(_) => match <[u8; 4]>::try_from(addr) {
            Ok(a) => IpAddr::from(a),
            Err(_) => return "<nil>".into(),
        },
    };
    let mapped = matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some());
    let mask = if mapped && mask.len() == 16 {
        &mask[12..]
    } else {
        mask
    };
    let ones: u32 = mask.iter().map(|m| m.count_ones()).sum();
    let contiguous = mask
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| b >> i & 1))
        .skip_while(|bit| *bit == 1)
        .all(|bit| bit == 0);
    if contiguous {
        format!("{}/{ones}", go_ip_string(&ip))
    } else {
        let hex: String = mask.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}/{hex}", go_ip_string(&ip))
    }
}

/// Go's `matchDomainConstraint`.
fn match_domain_constraint(domain: &str, constraint: &str, rules: GoRules) -> Result<bool, String> {
    if constraint.is_empty() {
        return Ok(true);
    }
    let domain_labels = domain_to_reverse_labels(domain, rules)
        .ok_or_else(|| format!("x509: internal error: cannot parse domain \"{domain}\""))?;
    let (must_have_subdomains, constraint) = match constraint.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, constraint),
    };
    let constraint_labels = domain_to_reverse_labels(constraint, rules)
        .ok_or_else(|| format!("x509: internal error: cannot parse domain \"{constraint}\""))?;
    if domain_labels.len() < constraint_labels.len()
        || (must_have_subdomains && domain_labels.len() == constraint_labels.len())
    {
        return Ok(false);
    }
    Ok(constraint_labels
        .iter()
        .zip(&domain_labels)
        .all(|(c, d)| c.eq_ignore_ascii_case(d)))
}

/// Go's `matchEmailConstraint` after `parseRFC2821Mailbox` of the SAN: a constraint with `@` is
/// a mailbox (local parts compared exactly, domains without case), any other a domain.
fn match_email_constraint(email: &str, constraint: &str, rules: GoRules) -> Result<bool, String> {
    // Go formats the zero mailbox it failed to fill with %q: `{"" ""}`.
    let (local, domain) = parse_mailbox(email, rules)
        .ok_or_else(|| "x509: cannot parse rfc822Name {\"\" \"\"}".to_string())?;
    if constraint.contains('@') {
        let (c_local, c_domain) = parse_mailbox(constraint, rules).ok_or_else(|| {
            format!(
                "x509: internal error: cannot parse constraint {}",
                crate::go_fmt::go_quote(constraint)
            )
        })?;
        return Ok(local == c_local && domain.eq_ignore_ascii_case(c_domain));
    }
    match_domain_constraint(domain, constraint, rules)
}

/// Go's `matchURIConstraint`.
fn match_uri_constraint(uri: &str, constraint: &str, rules: GoRules) -> Result<bool, String> {
    let host = uri
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .map(|auth| auth.rsplit_once('@').map_or(auth, |(_, h)| h))
        .unwrap_or("");
    if host.is_empty() {
        return Err(format!(
            "URI with empty host ({}) cannot be matched against constraints",
            go_quote(uri)
        ));
    }
    let host = if host.starts_with('[') {
        host
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    if host.starts_with('[') || crate::go_ip::go_parse_ip(host, rules).is_some() {
        return Err(format!(
            "URI with IP ({}) cannot be matched against constraints",
            go_quote(uri)
        ));
    }
    match_domain_constraint(host, constraint, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_ranges_are_shown_as_go_shows_them() {
        assert_eq!(ip_net_string(&[10, 0, 0, 0], &[255, 0, 0, 0]), "10.0.0.0/8");
        let mut mapped = vec![0u8; 10];
        mapped.extend([0xff, 0xff, 10, 0, 0, 0]);
        let mut mask = vec![0xffu8; 12];
        mask.extend([255, 0, 0, 0]);
        assert_eq!(ip_net_string(&mapped, &mask), "10.0.0.0/8");
        assert_eq!(
            ip_net_string(&[10, 0, 0, 0], &[255, 0, 255, 0]),
            "10.0.0.0/ff00ff00"
        );
        let v6: Vec<u8> = std::iter::once(0xfd).chain([0; 15]).collect();
        let m6: Vec<u8> = std::iter::once(0xff).chain([0; 15]).collect();
        assert_eq!(ip_net_string(&v6, &m6), "fd00::/8");
    }

    #[test]
    fn domain_constraints_follow_go() {
        assert_eq!(
            match_domain_constraint("a.example.com", "example.com", GoRules::Go124),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("example.com", "example.com", GoRules::Go124),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("example.com", ".example.com", GoRules::Go124),
            Ok(false)
        );
        assert_eq!(
            match_domain_constraint("a.example.com", ".example.com", GoRules::Go124),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("a.EXAMPLE.com", "example.com", GoRules::Go124),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("badexample.com", "example.com", GoRules::Go124),
            Ok(false)
        );
        assert_eq!(
            match_domain_constraint("anything", "", GoRules::Go124),
            Ok(true)
        );
        assert!(match_domain_constraint("a..b", "b", GoRules::Go124).is_err());
    }

    #[test]
    fn email_and_uri_constraints() {
        assert_eq!(
            match_email_constraint("ops@example.com", "example.com", GoRules::Go124),
            Ok(true)
        );
        assert_eq!(
            match_email_constraint("ops@example.com", "ops@EXAMPLE.com", GoRules::Go124),
            Ok(true)
        );
        assert_eq!(
            match_email_constraint("dev@example.com", "ops@example.com", GoRules::Go124),
            Ok(false)
        );
        assert_eq!(
            match_uri_constraint(
                "spiffe://cluster.local/etcd",
                "cluster.local",
                GoRules::Go124
            ),
            Ok(true)
        );
        assert!(match_uri_constraint("https://10.0.0.1/x", "example.com", GoRules::Go124).is_err());
    }

    use crate::test_support::generate::{dns, email, ip, uri, with_sans};
    use rcgen::SanType;

    /// An IP range constraint from CIDR text, as Go's `*net.IPNet`.
    fn ip_net(cidr: &str) -> NameConstraint {
        let (addr, bits) = cidr.split_once('/').unwrap();
        let bits: u32 = bits.parse().unwrap();
        let addr: std::net::IpAddr = addr.parse().unwrap();
        let addr = match addr {
            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
            std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        let mask = (0..addr.len() as u32)
            .map(|i| (0xff00u16 >> bits.saturating_sub(8 * i).min(8)) as u8)
            .collect();
        NameConstraint::Ip { addr, mask }
    }

    fn check(
        permitted: Vec<NameConstraint>,
        excluded: Vec<NameConstraint>,
        san: SanType,
    ) -> Result<(), String> {
        let nc = NameConstraints {
            permitted,
            excluded,
        };
        check_name_constraints(&nc, &with_sans("below", vec![san]), GoRules::Go124).map_err(|f| {
            match f {
                ConstraintFailure::NotAuthorized(detail) => detail,
                ConstraintFailure::Unreadable(message) => message,
            }
        })
    }

    #[test]
    fn permitted_subtrees_admit_only_names_inside_them() {
        let cases = [
            (
                NameConstraint::Dns(".example.com".into()),
                dns("etcd-1.example.com"),
                dns("etcd-1.example.org"),
                "DNS name \"etcd-1.example.org\" is not permitted by any constraint",
            ),
            (
                ip_net("10.0.0.0/8"),
                ip("10.1.2.3"),
                ip("192.168.1.1"),
                "IP address \"192.168.1.1\" is not permitted by any constraint",
            ),
            (
                // Go's matchIPConstraint: an IPv6 address is never inside an IPv4 range, even
                // where its first four bytes are.
                ip_net("10.0.0.0/8"),
                ip("10.255.255.255"),
                ip("a00::1"),
                "IP address \"a00::1\" is not permitted by any constraint",
            ),
            (
                NameConstraint::Email("example.com".into()),
                email("ops@example.com"),
                email("ops@example.org"),
                "email address \"ops@example.org\" is not permitted by any constraint",
            ),
            (
                NameConstraint::Uri("cluster.local".into()),
                uri("spiffe://cluster.local/etcd"),
                uri("spiffe://other.local/etcd"),
                "URI \"spiffe://other.local/etcd\" is not permitted by any constraint",
            ),
        ];
        for (constraint, inside, outside, detail) in cases {
            assert_eq!(
                check(vec![constraint.clone()], vec![], inside),
                Ok(()),
                "{constraint:?}"
            );
            assert_eq!(
                check(vec![constraint.clone()], vec![], outside),
                Err(detail.to_string()),
                "{constraint:?}"
            );
            // A constraint binds names of its own kind only: with no permitted subtree of a
            // kind, every name of that kind is permitted.
            let other_kind = match constraint {
                NameConstraint::Ip { .. } => dns("anything.example.org"),
                _ => ip("192.168.1.1"),
            };
            assert_eq!(
                check(vec![constraint.clone()], vec![], other_kind),
                Ok(()),
                "{constraint:?}"
            );
        }
    }

    #[test]
    fn excluded_subtrees_win_over_permitted_ones_and_are_named() {
        let excluded = || {
            vec![
                NameConstraint::Dns("etcd.example.com".into()),
                ip_net("10.0.0.0/8"),
                ip_net("fd00::/8"),
            ]
        };
        let permitted = || {
            vec![
                NameConstraint::Dns("example.com".into()),
                ip_net("0.0.0.0/0"),
                ip_net("::/0"),
            ]
        };
        for (san, detail) in [
            (
                dns("etcd-1.etcd.example.com"),
                "DNS name \"etcd-1.etcd.example.com\" is excluded by constraint \"etcd.example.com\"",
            ),
            (
                ip("10.1.2.3"),
                "IP address \"10.1.2.3\" is excluded by constraint \"10.0.0.0/8\"",
            ),
            (
                ip("fd12::1"),
                "IP address \"fd12::1\" is excluded by constraint \"fd00::/8\"",
            ),
        ] {
            assert_eq!(
                check(permitted(), excluded(), san),
                Err(detail.to_string())
            );
        }
        for san in [dns("etcd-1.example.com"), ip("11.1.2.3"), ip("fe80::1")] {
            assert_eq!(
                check(permitted(), excluded(), san.clone()),
                Ok(()),
                "{san:?}"
            );
        }
    }

    #[test]
    fn a_name_no_constraint_can_judge_is_refused_even_by_an_exclusion() {
        // Go's matchURIConstraint fails for a URI whose host is an IP address, and
        // checkNameConstraints returns that failure, for an excluded subtree as for a permitted
        // one.
        let detail = "URI with IP (\"https://10.0.0.1/x\") cannot be matched against constraints"
            .to_string();
        let constraint = || vec![NameConstraint::Uri("example.com".into())];
        assert_eq!(
            check(vec![], constraint(), uri("https://10.0.0.1/x")),
            Err(detail.clone())
        );
        assert_eq!(
            check(constraint(), vec![], uri("https://10.0.0.1/x")),
            Err(detail)
        );
        assert_eq!(
            check(vec![], constraint(), uri("https://etcd.example.org/x")),
            Ok(())
        );
    }
}

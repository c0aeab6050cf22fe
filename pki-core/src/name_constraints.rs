//! Name constraints as Go's `crypto/x509` checks them (`checkNameConstraints` and its
//! matchers): a CA's permitted and excluded subtrees against the DNS, IP, email and URI SANs of
//! every certificate below it in a chain. Other name forms are ignored, as Go ignores them. The
//! constraints are read from the certificate in [`crate::cert`]; [`verify`](mod@crate::verify)
//! applies this to each CA of a chain it builds.

use crate::cert::{Certificate, NameConstraint, NameConstraints};

/// Go's `checkNameConstraints` for the SANs of `below`, a certificate in the chain under the CA
/// whose constraints `nc` are: `Err` holds Go's detail text.
pub(crate) fn check_name_constraints(
    nc: &NameConstraints,
    below: &Certificate,
) -> Result<(), String> {
    let sans = below.sans();
    let check =
        |kind: &str,
         name: &str,
         matcher: &dyn Fn(&NameConstraint) -> Option<Result<bool, String>>| {
            for constraint in &nc.excluded {
                match matcher(constraint) {
                    Some(Err(e)) => return Err(e),
                    Some(Ok(true)) => {
                        return Err(format!(
                            "{kind} \"{name}\" is excluded by constraint \"{}\"",
                            describe(constraint)
                        ))
                    }
                    _ => {}
                }
            }
            let mut relevant = false;
            for constraint in &nc.permitted {
                match matcher(constraint) {
                    Some(Err(e)) => return Err(e),
                    Some(Ok(true)) => return Ok(()),
                    Some(Ok(false)) => relevant = true,
                    None => {}
                }
            }
            if relevant {
                return Err(format!(
                    "{kind} \"{name}\" is not permitted by any constraint"
                ));
            }
            Ok(())
        };
    for dns in &sans.dns {
        if domain_to_reverse_labels(dns).is_none() {
            return Err(format!("x509: cannot parse dnsName \"{dns}\""));
        }
        check("DNS name", dns, &|c| match c {
            NameConstraint::Dns(d) => Some(match_domain_constraint(dns, d)),
            _ => None,
        })?;
    }
    for ip in &sans.ip {
        let bytes: Vec<u8> = match ip {
            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
            std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        check("IP address", &ip.to_string(), &|c| match c {
            NameConstraint::Ip { addr, mask } => Some(Ok(bytes.len() == addr.len()
                && bytes
                    .iter()
                    .zip(addr.iter().zip(mask))
                    .all(|(b, (a, m))| b & m == a & m))),
            _ => None,
        })?;
    }
    for email in &sans.email {
        check("email address", email, &|c| match c {
            NameConstraint::Email(e) => Some(match_email_constraint(email, e)),
            _ => None,
        })?;
    }
    for uri in &sans.uri {
        check("URI", uri, &|c| match c {
            NameConstraint::Uri(u) => Some(match_uri_constraint(uri, u)),
            _ => None,
        })?;
    }
    Ok(())
}

fn describe(c: &NameConstraint) -> String {
    match c {
        NameConstraint::Dns(d) | NameConstraint::Email(d) | NameConstraint::Uri(d) => d.clone(),
        NameConstraint::Ip { addr, mask } => {
            let ip = |b: &[u8]| match b.len() {
                4 => <[u8; 4]>::try_from(b)
                    .map(|a| std::net::IpAddr::from(a).to_string())
                    .unwrap_or_default(),
                _ => <[u8; 16]>::try_from(b)
                    .map(|a| std::net::IpAddr::from(a).to_string())
                    .unwrap_or_default(),
            };
            let bits: u32 = mask.iter().map(|m| m.count_ones()).sum();
            format!("{}/{bits}", ip(addr))
        }
    }
}

/// Go's `domainToReverseLabels`.
fn domain_to_reverse_labels(domain: &str) -> Option<Vec<&str>> {
    if domain.ends_with('.') {
        return None;
    }
    let labels: Vec<&str> = domain.rsplit('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.bytes().any(|c| !(33..=126).contains(&c)))
    {
        return None;
    }
    Some(labels)
}

/// Go's `matchDomainConstraint`.
fn match_domain_constraint(domain: &str, constraint: &str) -> Result<bool, String> {
    if constraint.is_empty() {
        return Ok(true);
    }
    let domain_labels = domain_to_reverse_labels(domain)
        .ok_or_else(|| format!("x509: internal error: cannot parse domain \"{domain}\""))?;
    let (must_have_subdomains, constraint) = match constraint.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, constraint),
    };
    let constraint_labels = domain_to_reverse_labels(constraint)
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

/// Go's `matchEmailConstraint` (mailbox local parts compared exactly, domains as domains).
fn match_email_constraint(email: &str, constraint: &str) -> Result<bool, String> {
    let (local, domain) = email
        .rsplit_once('@')
        .ok_or_else(|| format!("x509: cannot parse rfc822Name \"{email}\""))?;
    if let Some((c_local, c_domain)) = constraint.rsplit_once('@') {
        return Ok(local == c_local && domain.eq_ignore_ascii_case(c_domain));
    }
    match_domain_constraint(domain, constraint)
}

/// Go's `matchURIConstraint`.
fn match_uri_constraint(uri: &str, constraint: &str) -> Result<bool, String> {
    let host = uri
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .map(|auth| auth.rsplit_once('@').map_or(auth, |(_, h)| h))
        .unwrap_or("");
    if host.is_empty() {
        return Err(format!(
            "URI with empty host (\"{uri}\") cannot be matched against constraints"
        ));
    }
    let host = if host.starts_with('[') {
        host
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "URI with IP (\"{uri}\") cannot be matched against constraints"
        ));
    }
    match_domain_constraint(host, constraint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_constraints_follow_go() {
        assert_eq!(
            match_domain_constraint("a.example.com", "example.com"),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("example.com", "example.com"),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("example.com", ".example.com"),
            Ok(false)
        );
        assert_eq!(
            match_domain_constraint("a.example.com", ".example.com"),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("a.EXAMPLE.com", "example.com"),
            Ok(true)
        );
        assert_eq!(
            match_domain_constraint("badexample.com", "example.com"),
            Ok(false)
        );
        assert_eq!(match_domain_constraint("anything", ""), Ok(true));
        assert!(match_domain_constraint("a..b", "b").is_err());
    }

    #[test]
    fn email_and_uri_constraints() {
        assert_eq!(
            match_email_constraint("ops@example.com", "example.com"),
            Ok(true)
        );
        assert_eq!(
            match_email_constraint("ops@example.com", "ops@EXAMPLE.com"),
            Ok(true)
        );
        assert_eq!(
            match_email_constraint("dev@example.com", "ops@example.com"),
            Ok(false)
        );
        assert_eq!(
            match_uri_constraint("spiffe://cluster.local/etcd", "cluster.local"),
            Ok(true)
        );
        assert!(match_uri_constraint("https://10.0.0.1/x", "example.com").is_err());
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
        check_name_constraints(&nc, &with_sans("below", vec![san]))
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

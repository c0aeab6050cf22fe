//! Does a certificate cover a host? Go's `(*x509.Certificate).VerifyHostname`, rule for rule,
//! because that is what etcd (and every Go client of etcd) runs.
//!
//! - An IP host is covered only by an equal IP SAN; IPv4 and IPv4-mapped IPv6 are equal (Go's
//!   `net.IP.Equal`). DNS SANs and the Common Name never cover an IP.
//! - A DNS host is matched against DNS SANs, ASCII case-insensitively, ignoring one trailing dot
//!   on the host. A wildcard `*` is honoured only as the whole leftmost label of a valid
//!   pattern, and matches exactly one label (`*.example.com` covers `a.example.com`, not
//!   `example.com` nor `a.b.example.com`). Hosts or patterns that are not valid host names are
//!   compared exactly.
//! - The Common Name is never consulted (Go 1.15 and later).
//! - Where the Go versions of etcd 3.4 and 3.5 differ (a DNS SAN of exactly `*`), the
//!   [`GoRules`] given to [`covers_with`] decide; [`covers`] applies the newest.
//!
//! A failed check keeps the names it was compared with, and its message is Go's, so that it reads
//! like the etcd log line operators search for.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::cert::Certificate;
use crate::go_rules::GoRules;
use crate::host::Host;

/// The result of a coverage check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Coverage {
    /// The host is covered; `by` is the SAN that matched (`IP:127.0.0.12`, `DNS:*.example.com`).
    Covered {
        /// The matching SAN.
        by: String,
    },
    /// The host is not covered.
    NotCovered(NotCovered),
}

impl Coverage {
    /// Whether the host is covered.
    pub fn is_covered(&self) -> bool {
        matches!(self, Coverage::Covered { .. })
    }
}

/// Why a host is not covered, with what it was compared against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCovered {
    /// The host that was checked.
    pub host: Host,
    /// The certificate's IP SANs.
    pub ip_sans: Vec<IpAddr>,
    /// The certificate's DNS SANs.
    pub dns_sans: Vec<String>,
    /// The subject Common Name, reported because operators expect it to count (it does not).
    pub common_name: Option<String>,
    /// Whether the certificate has a subjectAltName extension at all.
    pub has_san_extension: bool,
}

impl NotCovered {
    /// The names the certificate is valid for, in the kind that matters for this host (IPs for an
    /// IP host, DNS names for a DNS host), as Go lists them.
    pub fn valid_for(&self) -> Vec<String> {
        match self.host {
            Host::Ip(_) => self.ip_sans.iter().map(go_ip_string).collect(),
            Host::Dns(_) => self.dns_sans.clone(),
        }
    }
}

impl fmt::Display for NotCovered {
    /// Go's `x509.HostnameError` text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host.to_string();
        if !self.has_san_extension
            && self
                .common_name
                .as_deref()
                .is_some_and(|cn| match_hostnames(cn, &host))
        {
            return f.write_str(
                "x509: certificate relies on legacy Common Name field, use SANs instead",
            );
        }
        if self.host.is_ip() && self.ip_sans.is_empty() {
            return write!(
                f,
                "x509: cannot validate certificate for {host} because it doesn't contain any IP SANs"
            );
        }
        // Go joins the names and tests the joined text: a single empty DNS SAN is no name.
        let valid = self.valid_for().join(", ");
        if valid.is_empty() {
            return write!(
                f,
                "x509: certificate is not valid for any names, but wanted to match {host}"
            );
        }
        write!(f, "x509: certificate is valid for {valid}, not {host}")
    }
}

/// Checks whether `cert` covers `host`, exactly as Go's `VerifyHostname` decides, by the
/// newest rules ([`GoRules::default`]).
pub fn covers(cert: &Certificate, host: &Host) -> Coverage {
    covers_with(cert, host, GoRules::default())
}

/// Checks whether `cert` covers `host`, exactly as `VerifyHostname` of the Go of `rules`
/// decides.
pub fn covers_with(cert: &Certificate, host: &Host, rules: GoRules) -> Coverage {
    let sans = cert.sans();
    match host {
        Host::Ip(ip) => {
            if let Some(san) = sans.ip.iter().find(|san| ip_equal(san, ip)) {
                return Coverage::Covered {
                    by: format!("IP:{san}"),
                };
            }
        }
        Host::Dns(name) => {
            let candidate = name.to_ascii_lowercase();
            let valid_candidate = valid_hostname_input(&candidate);
            for pattern in &sans.dns {
                let matched = if valid_candidate && valid_hostname_pattern(pattern, rules) {
                    match_hostnames(pattern, &candidate)
                } else {
                    match_exactly(pattern, &candidate)
                };
                if matched {
                    return Coverage::Covered {
                        by: format!("DNS:{pattern}"),
                    };
                }
            }
        }
    }
    Coverage::NotCovered(NotCovered {
        host: host.clone(),
        ip_sans: sans.ip.clone(),
        dns_sans: sans.dns.clone(),
        common_name: cert.common_name().map(str::to_string),
        has_san_extension: cert.has_san_extension(),
    })
}

/// Go's `net.IP.Equal`: same family and bytes, or IPv4 against its IPv4-mapped IPv6 form.
pub fn ip_equal(a: &IpAddr, b: &IpAddr) -> bool {
    let canon = |ip: &IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        IpAddr::V4(_) => *ip,
    };
    canon(a) == canon(b)
}

/// An IP as Go's `net.IP.String` prints it: IPv4-mapped IPv6 addresses in dotted IPv4 form.
pub(crate) fn go_ip_string(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

fn match_exactly(a: &str, b: &str) -> bool {
    if a.is_empty() || a == "." || b.is_empty() || b == "." {
        return false;
    }
    a.eq_ignore_ascii_case(b)
}

fn match_hostnames(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    let pattern_parts: Vec<&str> = pattern.split('.').collect();
    let host_parts: Vec<&str> = host.split('.').collect();
    if pattern_parts.len() != host_parts.len() {
        return false;
    }
    pattern_parts
        .iter()
        .zip(&host_parts)
        .enumerate()
        .all(|(i, (p, h))| (i == 0 && *p == "*") || p == h)
}

fn valid_hostname_pattern(host: &str, rules: GoRules) -> bool {
    valid_hostname(host, true, rules)
}

fn valid_hostname_input(host: &str) -> bool {
    // An input `*` has a '*' that is not a whole first pattern label: invalid by all rules.
    valid_hostname(host, false, GoRules::default())
}

/// Go's `validHostname`: labels of letters, digits, '-' (not first) and '_'; a pattern may
/// start with a whole-label '*'; an input may end with one dot. A bare `*` is refused by Go 1.24
/// and taken by Go 1.19 as a pattern matching any one label.
fn valid_hostname(host: &str, is_pattern: bool, rules: GoRules) -> bool {
    let host = if is_pattern {
        host
    } else {
        host.strip_suffix('.').unwrap_or(host)
    };
    if host.is_empty() || (host == "*" && !rules.bare_star_is_a_pattern()) {
        return false;
    }
    for (i, part) in host.split('.').enumerate() {
        if part.is_empty() {
            return false;
        }
        if is_pattern && i == 0 && part == "*" {
            continue;
        }
        for (j, c) in part.chars().enumerate() {
            let ok = c.is_ascii_alphanumeric() || c == '_' || (c == '-' && j != 0);
            if !ok {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_equality_is_gos() {
        let v4: IpAddr = "127.0.0.14".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.14".parse().unwrap();
        let compat: IpAddr = "::127.0.0.14".parse().unwrap();
        assert!(ip_equal(&v4, &mapped));
        assert!(ip_equal(&mapped, &v4));
        assert!(
            !ip_equal(&v4, &compat),
            "IPv4-compatible is not IPv4-mapped"
        );
        let a: IpAddr = "fd00::14".parse().unwrap();
        let b: IpAddr = "fd00:0:0:0::14".parse().unwrap();
        assert!(ip_equal(&a, &b));
    }

    #[test]
    fn wildcard_matches_exactly_one_leftmost_label() {
        assert!(match_hostnames("*.example.com", "a.example.com"));
        assert!(!match_hostnames("*.example.com", "example.com"));
        assert!(!match_hostnames("*.example.com", "a.b.example.com"));
        assert!(match_hostnames("*.Example.COM", "a.example.com"));
        assert!(!match_hostnames("a.*.com", "a.b.com"));
        assert!(match_hostnames("example.com", "example.com."));
    }

    #[test]
    fn an_empty_name_matches_nothing() {
        // Go's matchHostnames trims one trailing dot from the host, then refuses an empty
        // pattern or host before comparing labels: a lone `*` does not match `.`.
        assert!(!match_hostnames("*", "."));
        assert!(!match_hostnames("*", ""));
        assert!(!match_hostnames("", ""));
        assert!(!match_hostnames("", "a"));
    }

    #[test]
    fn pattern_validity_follows_go() {
        let new = GoRules::Go124;
        assert!(valid_hostname_pattern("*.example.com", new));
        assert!(!valid_hostname_pattern("*", new));
        assert!(valid_hostname_pattern("*", GoRules::Go119));
        assert!(!valid_hostname_pattern("a*.example.com", new));
        assert!(!valid_hostname_pattern("a*.example.com", GoRules::Go119));
        assert!(
            !valid_hostname_pattern("example.com.", new),
            "a pattern keeps its trailing dot"
        );
        assert!(valid_hostname_input("example.com."));
        assert!(valid_hostname_input("under_score.example.com"));
        assert!(!valid_hostname_input("-lead.example.com"));
        assert!(valid_hostname_input("mid-dash.example.com"));
        assert!(!valid_hostname_input("a..b"));
        assert!(!valid_hostname_input(""));
        assert!(!valid_hostname_input("."));
    }

    #[test]
    fn invalid_names_are_compared_exactly() {
        assert!(match_exactly("example.com.", "EXAMPLE.com."));
        assert!(!match_exactly(".", "."));
        assert!(!match_exactly("", ""));
    }

    use crate::test_support::{cert, cert_with_dns};

    #[test]
    fn a_bare_star_is_a_pattern_for_go_1_19_only() {
        let star = cert_with_dns(&["*"]);
        let host = Host::parse("etcd-peer").unwrap();
        assert!(covers_with(&star, &host, GoRules::Go119).is_covered());
        assert!(!covers_with(&star, &host, GoRules::Go124).is_covered());
        assert!(
            !covers(&star, &host).is_covered(),
            "the default is the newest"
        );
        for rules in GoRules::ALL {
            let literal = Host::Dns("*".into());
            assert!(covers_with(&star, &literal, rules).is_covered(), "{rules}");
            let two = Host::parse("a.b").unwrap();
            assert!(!covers_with(&star, &two, rules).is_covered(), "{rules}");
        }
    }

    #[test]
    fn an_empty_dns_san_is_no_name_in_gos_message() {
        let Coverage::NotCovered(nc) = covers(&cert_with_dns(&[""]), &Host::parse("a.b").unwrap())
        else {
            panic!()
        };
        assert_eq!(
            nc.to_string(),
            "x509: certificate is not valid for any names, but wanted to match a.b"
        );
    }

    fn check(rel: &str, host: &str) -> Coverage {
        covers(&cert(rel), &Host::parse(host).unwrap())
    }

    #[test]
    fn the_seed_failure_is_reported_in_gos_words() {
        for ok in [
            "127.0.0.1",
            "127.0.0.11",
            "127.0.0.12",
            "https://127.0.0.13:2380",
        ] {
            assert!(check("cfssl/members.pem", ok).is_covered(), "{ok}");
        }
        let Coverage::NotCovered(nc) = check("cfssl/members.pem", "https://127.0.0.14:2380") else {
            panic!("127.0.0.14 must not be covered");
        };
        assert_eq!(
            nc.to_string(),
            "x509: certificate is valid for 127.0.0.1, 127.0.0.11, 127.0.0.12, 127.0.0.13, not 127.0.0.14"
        );
        assert_eq!(
            nc.valid_for(),
            ["127.0.0.1", "127.0.0.11", "127.0.0.12", "127.0.0.13"]
        );
    }

    #[test]
    fn ip_hosts_need_ip_sans_and_dns_hosts_need_dns_sans() {
        let Coverage::NotCovered(nc) = check("openssl/wildcard.crt", "127.0.0.1") else {
            panic!()
        };
        assert!(
            nc.to_string().contains("doesn't contain any IP SANs"),
            "{nc}"
        );
        let Coverage::NotCovered(nc) = check("cfssl/members.pem", "localhost") else {
            panic!()
        };
        assert_eq!(
            nc.to_string(),
            "x509: certificate is not valid for any names, but wanted to match localhost"
        );
        assert!(check("kubeadm/peer.crt", "localhost").is_covered());
        // The certificate has SANs, so its Common Name is not mentioned even when it is the host.
        let Coverage::NotCovered(nc) = check("cfssl/members.pem", "etcd-peer") else {
            panic!()
        };
        assert_eq!(nc.common_name.as_deref(), Some("etcd-peer"));
        assert_eq!(
            nc.to_string(),
            "x509: certificate is not valid for any names, but wanted to match etcd-peer"
        );
        assert!(check("kubeadm/peer.crt", "127.0.0.41").is_covered());
    }

    #[test]
    fn the_common_name_never_counts() {
        for (rel, host) in [
            ("openssl/cn-only.crt", "127.0.0.14"),
            ("openssl/cn-only-dns.crt", "etcd-0.example.com"),
        ] {
            let Coverage::NotCovered(nc) = check(rel, host) else {
                panic!("{rel} covers {host} by CN, Go would not")
            };
            assert_eq!(
                nc.to_string(),
                "x509: certificate relies on legacy Common Name field, use SANs instead"
            );
        }
    }

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(check("openssl/wildcard.crt", "etcd-1.etcd.example.com").is_covered());
        assert!(check("openssl/wildcard.crt", "ETCD-1.Etcd.Example.Com").is_covered());
        assert!(check("openssl/wildcard.crt", "etcd-1.etcd.example.com.").is_covered());
        assert!(
            check("openssl/wildcard.crt", "etcd.example.com").is_covered(),
            "listed explicitly"
        );
        assert!(!check("openssl/wildcard.crt", "a.b.etcd.example.com").is_covered());
        assert!(!check("openssl/wildcard.crt", "example.com").is_covered());
        assert!(!check(
            "openssl/wildcard.crt",
            "https://etcd-1.etcd.example.org:2380"
        )
        .is_covered());
    }

    #[test]
    fn dns_matching_ignores_case() {
        assert!(check("openssl/mixed-case-dns.crt", "etcd-1.example.com").is_covered());
        assert!(check("openssl/mixed-case-dns.crt", "ETCD-1.EXAMPLE.COM").is_covered());
        assert!(!check("openssl/mixed-case-dns.crt", "etcd-2.example.com").is_covered());
    }

    #[test]
    fn ipv6_forms_compare_as_addresses() {
        for host in [
            "::1",
            "[::1]",
            "0:0:0:0:0:0:0:1",
            "fd00::14",
            "FD00:0::14",
            "https://[fd00::14]:2380",
        ] {
            assert!(check("openssl/ipv6.crt", host).is_covered(), "{host}");
        }
        assert!(
            check("openssl/ipv6.crt", "::ffff:127.0.0.1").is_covered(),
            "IPv4-mapped equals IPv4"
        );
        assert!(!check("openssl/ipv6.crt", "fd00::15").is_covered());
        assert!(
            !check("openssl/ipv6.crt", "::127.0.0.1").is_covered(),
            "IPv4-compatible is not mapped"
        );
    }
}

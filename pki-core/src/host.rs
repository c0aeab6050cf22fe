//! Hosts to check coverage for, given as a bare host (`127.0.0.14`, `[::1]`, `etcd-0.example.com`)
//! or as an etcd URL (`https://127.0.0.14:2380`).
//!
//! URLs are split the way Go's `net/url` does for etcd's `--initial-advertise-peer-urls`: the
//! host is what `url.Hostname()` returns (no port, no brackets, escapes decoded) and is used as
//! given. No normalisation beyond Go's is applied: `127.1` stays the DNS name `127.1` (Go's
//! `net.ParseIP` rejects it), where a WHATWG URL parser would turn it into `127.0.0.1`.
//!
//! Each decision was compared with Go's own (1.19 and 1.24) by the differential tests in
//! `tests/tests/go_differential`; where etcd-pki refuses what Go would judge, the reasons are in
//! `tests/go-oracle/DELIBERATE.md`.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::go_ip::go_parse_ip;
use crate::go_rules::GoRules;

/// A host as Go's `VerifyHostname` classifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Host {
    /// An IP address; only IP SANs can cover it.
    Ip(IpAddr),
    /// Anything else is matched against DNS SANs, case-insensitively.
    Dns(String),
}

impl Host {
    /// Classifies a host string as Go's `VerifyHostname` does: an IP if `net.ParseIP` accepts
    /// it, bare or in brackets (no zone, no leading zeros in IPv4 octets); anything else is a
    /// DNS name, as written, brackets included (Go strips brackets only around an IP). A URL
    /// (`https://host:port`) is split as [`HostUrl::parse`] splits it.
    ///
    /// Refused, where Go would compare the string as a name and never match a real SAN (see
    /// `tests/go-oracle/DELIBERATE.md`): empty hosts, hosts with spaces or `/`, and
    /// `host:port`. Surrounding whitespace is ignored (the CLI says so when it applies).
    ///
    /// What is an IP is decided by the newest Go's `net.ParseIP`; [`Host::parse_with`] takes
    /// the rules of another.
    pub fn parse(input: &str) -> Result<Host> {
        Host::parse_with(input, GoRules::default())
    }

    /// [`Host::parse`] with the `net.ParseIP` of the Go of `rules` (Go 1.19 also reads IPv6
    /// groups of more than four hex digits, `0fd00::1`).
    pub fn parse_with(input: &str, rules: GoRules) -> Result<Host> {
        let invalid = |reason: &str| Error::InvalidHost {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(invalid("empty host"));
        }
        if trimmed.contains("://") {
            return Ok(HostUrl::parse_with(trimmed, rules)?.host);
        }
        if let Some(ip) = go_parse_ip_literal(trimmed, rules) {
            return Ok(Host::Ip(ip));
        }
        if trimmed == "[]" {
            return Err(invalid("empty host"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(invalid("a host name cannot contain spaces or '/'"));
        }
        if let Some((host, port)) = trimmed.rsplit_once(':') {
            if !host.contains(':') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(&format!(
                    "this is host:port; give the host alone ({host}) or a URL (https://{trimmed})"
                )));
            }
        }
        Ok(Host::Dns(trimmed.to_string()))
    }

    /// Whether this is an IP address.
    pub fn is_ip(&self) -> bool {
        matches!(self, Host::Ip(_))
    }
}

/// What `VerifyHostname` takes as an IP: `net.ParseIP` of the host, or of what is inside its
/// brackets (`[::1]`, `[127.0.0.1]`).
fn go_parse_ip_literal(h: &str, rules: GoRules) -> Option<IpAddr> {
    let candidate = if h.len() >= 3 && h.starts_with('[') && h.ends_with(']') {
        &h[1..h.len() - 1]
    } else {
        h
    };
    go_parse_ip(candidate, rules)
}

/// [`Host::parse`], for `"127.0.0.14".parse()`.
impl std::str::FromStr for Host {
    type Err = Error;

    fn from_str(input: &str) -> Result<Host> {
        Host::parse(input)
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Host {
        Host::Ip(ip)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Dns(name) => f.write_str(name),
        }
    }
}

/// An etcd member URL split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct HostUrl {
    /// The URL as given.
    pub url: String,
    /// `http`, `https`, `unix` or `unixs`, lowercased.
    pub scheme: String,
    /// The host.
    pub host: Host,
    /// The port, if one is written.
    pub port: Option<u16>,
}

impl HostUrl {
    /// Parses `scheme://[userinfo@]host[:port][/path]` as Go's `url.Parse` does (a URL Go
    /// refuses is refused with Go's words), and takes its host as Go's `net/http` does when it
    /// dials the URL: `URL.Hostname()`.
    ///
    /// Refused beyond Go (see `tests/go-oracle/DELIBERATE.md`): schemes other than http, https,
    /// unix and unixs; an empty host; a port above 65535; an IPv6 address without brackets
    /// and anything but an IP in brackets (etcd refuses both); a host that is not ASCII, which
    /// `net/http` would dial by its IDNA form: give that form (`xn--...`).
    pub fn parse(input: &str) -> Result<HostUrl> {
        HostUrl::parse_with(input, GoRules::default())
    }

    /// [`HostUrl::parse`] with the `net.ParseIP` of the Go of `rules`.
    pub fn parse_with(input: &str, rules: GoRules) -> Result<HostUrl> {
        let invalid = |reason: String| Error::InvalidHost {
            input: input.to_string(),
            reason,
        };
        let not_a_url = || invalid("not a URL: expected scheme://host:port".into());
        if !input.contains("://") {
            return Err(not_a_url());
        }
        let url = crate::go_url::parse_go_url(input).map_err(|e| invalid(e.reason))?;
        let scheme = url.scheme.clone();
        if scheme.is_empty() {
            return Err(not_a_url());
        }
        if !matches!(scheme.as_str(), "http" | "https" | "unix" | "unixs") {
            return Err(invalid(format!(
                "unsupported scheme {scheme:?}: etcd URLs use http or https"
            )));
        }
        let hostname = url.hostname();
        if hostname.is_empty() {
            return Err(invalid("the URL has no host".into()));
        }
        let Some(hostname) = std::str::from_utf8(hostname).ok().filter(|h| h.is_ascii()) else {
            return Err(invalid(format!(
                "the host {} is not ASCII: Go's net/http dials its IDNA form, which is what the certificate must list; give that form (xn--...)",
                String::from_utf8_lossy(hostname)
            )));
        };
        let port = match url.port() {
            b"" => None,
            p => {
                let p = String::from_utf8_lossy(p);
                Some(
                    p.parse::<u16>()
                        .map_err(|_| invalid(format!("invalid port {p:?}")))?,
                )
            }
        };
        let bracketed = url.host.starts_with(b"[");
        if !bracketed && hostname.contains(':') {
            return Err(invalid(format!(
                "the host {hostname:?} has a ':': an IPv6 address in a URL must be in brackets, e.g. https://[fd00::1]:2380"
            )));
        }
        let host = match go_parse_ip(hostname, rules) {
            Some(ip) => Host::Ip(ip),
            None if bracketed => {
                return Err(invalid(format!(
                    "{hostname:?} in brackets is not an IP address"
                )))
            }
            None => Host::Dns(hostname.to_string()),
        };
        Ok(HostUrl {
            url: input.to_string(),
            scheme,
            host,
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn bare_hosts_are_classified_as_go_does() {
        assert_eq!(Host::parse("127.0.0.14").unwrap(), ip("127.0.0.14"));
        assert_eq!(Host::parse("[::1]").unwrap(), ip("::1"));
        assert_eq!(Host::parse("fd00::14").unwrap(), ip("fd00::14"));
        assert_eq!(
            Host::parse("Etcd-1.Example.com").unwrap(),
            Host::Dns("Etcd-1.Example.com".into())
        );
        // Go's net.ParseIP rejects these, so they are DNS names to Go.
        assert_eq!(Host::parse("127.1").unwrap(), Host::Dns("127.1".into()));
        assert_eq!(
            Host::parse("127.000.0.1").unwrap(),
            Host::Dns("127.000.0.1".into())
        );
        assert_eq!(
            Host::parse("fe80::1%eth0").unwrap(),
            Host::Dns("fe80::1%eth0".into())
        );
        assert!(Host::parse("").is_err());
        assert!(Host::parse("a b").is_err());
        let err = Host::parse("127.0.0.11:2380").unwrap_err();
        assert!(err.to_string().contains("host:port"), "{err}");
        assert!(Host::parse("etcd-0:2380").is_err());
        // Refused only when it is unambiguously host:port: otherwise Go's VerifyHostname judges
        // the whole string as a name, and so does this.
        for name in ["etcd-0:", "etcd-0:http", "a:b:2380"] {
            assert_eq!(Host::parse(name).unwrap(), Host::Dns(name.into()), "{name}");
        }
    }

    #[test]
    fn urls_are_split_like_go() {
        let u = HostUrl::parse("https://127.0.0.14:2380").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.clone(), u.port),
            ("https", ip("127.0.0.14"), Some(2380))
        );
        let u = HostUrl::parse("HTTPS://[fd00::14]:2380/").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.clone(), u.port),
            ("https", ip("fd00::14"), Some(2380))
        );
        let u = HostUrl::parse("http://etcd-0.example.com").unwrap();
        assert_eq!(
            (u.host.clone(), u.port),
            (Host::Dns("etcd-0.example.com".into()), None)
        );
        let u = HostUrl::parse("https://user@10.0.12.157:2380/path?x").unwrap();
        assert_eq!(u.host, ip("10.0.12.157"));
        assert_eq!(
            Host::parse("https://127.0.0.14:2380").unwrap(),
            ip("127.0.0.14")
        );
    }

    #[test]
    fn empty_brackets_are_not_a_host() {
        // Was Host::Dns(""): found by the host fuzz target's seed corpus.
        for bad in ["[]", " [] "] {
            let err = Host::parse(bad).unwrap_err();
            assert!(err.to_string().contains("empty host"), "{bad}: {err}");
        }
    }

    #[test]
    fn url_hosts_with_characters_go_rejects_are_invalid() {
        // Go's url.Parse refuses these (`invalid character " " in host name`); they were DNS
        // names with spaces and control characters, which a bare host cannot be. Found by the
        // host fuzz target.
        for bad in [
            "https://a b:2380",
            "http://etcd\t0",
            "https://user@\u{1}\0\r15/:2380",
            "https://a{b}",
            "https://a|b",
            "https://a\\b:1",
            "https://a^b",
            "https://a`b",
            "https://a\x7fb",
        ] {
            let err = HostUrl::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("invalid character") || err.contains("invalid control character"),
                "{bad:?}: {err}"
            );
            assert!(Host::parse(bad).is_err(), "{bad:?}");
        }
        // What Go accepts in a host name is still accepted.
        for good in [
            "https://etcd_0.example.com:2380",
            "https://a~b",
            "https://xn--bcher-kva.example",
        ] {
            assert!(HostUrl::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn bad_urls_are_rejected_with_reasons() {
        for bad in [
            "ftp://x:1",
            "https://",
            "https://:2380",
            "https://127.0.0.1:notaport",
            "https://fd00::1:2380",
            "https://[fd00::1:2380",
            "https://[name]:2380",
            "https://1.2.3.4:99999",
        ] {
            let err = HostUrl::parse(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidHost { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn brackets_are_stripped_only_around_an_ip() {
        // Go's VerifyHostname judges "[node-1.cluster.local]" as that name, brackets included:
        // no SAN covers it. Found by the Go differential tests (issue 15).
        assert_eq!(
            Host::parse("[node-1.cluster.local]").unwrap(),
            Host::Dns("[node-1.cluster.local]".into())
        );
        assert_eq!(Host::parse("[127.0.0.1]").unwrap(), ip("127.0.0.1"));
        assert_eq!(
            Host::parse("[::ffff:1.2.3.4]").unwrap(),
            ip("::ffff:1.2.3.4")
        );
        assert_eq!(
            Host::parse("[fe80::1%eth0]").unwrap(),
            Host::Dns("[fe80::1%eth0]".into())
        );
    }

    #[test]
    fn url_hosts_are_gos_after_unescaping() {
        assert_eq!(
            Host::parse("https://a%25b:2380").unwrap(),
            Host::Dns("a%b".into())
        );
        for (bad, why) in [
            ("https://%41.test", "invalid URL escape"),
            ("https://b%C3%BCcher.test", "not ASCII"),
            ("https://b\u{fc}cher.example", "xn--"),
            ("https://h:2380/%zz", "invalid URL escape"),
            ("https://u^@h", "invalid userinfo"),
            ("https://[fe80::1%25eth0]:2380", "in brackets is not an IP"),
        ] {
            let err = Host::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }
}

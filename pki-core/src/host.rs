//! Hosts to check coverage for, given as a bare host (`127.0.0.14`, `[::1]`, `etcd-0.example.com`)
//! or as an etcd URL (`https://127.0.0.14:2380`).
//!
//! URLs are split the way Go's `net/url` does for etcd's `--initial-advertise-peer-urls`: the
//! host is what `url.Hostname()` returns (no port, no brackets) and is used as given. No
//! normalisation beyond Go's is applied: `127.1` stays the DNS name `127.1` (Go's
//! `net.ParseIP` rejects it), where a WHATWG URL parser would turn it into `127.0.0.1`.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::error::{Error, Result};

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
    /// Classifies a host string as Go does: brackets are stripped, then it is an IP if
    /// `net.ParseIP` accepts it (no zone, no leading zeros in IPv4 octets), else a DNS name.
    pub fn parse(input: &str) -> Result<Host> {
        let invalid = |reason: &str| Error::InvalidHost {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(invalid("empty host"));
        }
        if trimmed.contains("://") {
            return Ok(HostUrl::parse(trimmed)?.host);
        }
        let candidate = trimmed
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(trimmed);
        if candidate.is_empty() {
            return Err(invalid("empty host"));
        }
        if let Ok(ip) = candidate.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        if candidate.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(invalid("a host name cannot contain spaces or '/'"));
        }
        if let Some((host, port)) = candidate.rsplit_once(':') {
            if !host.contains(':') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(&format!(
                    "this is host:port; give the host alone ({host}) or a URL (https://{candidate})"
                )));
            }
        }
        Ok(Host::Dns(candidate.to_string()))
    }

    /// Whether this is an IP address.
    pub fn is_ip(&self) -> bool {
        matches!(self, Host::Ip(_))
    }
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
    /// Parses `scheme://[userinfo@]host[:port][/path]` as Go's `url.Parse` splits it.
    pub fn parse(input: &str) -> Result<HostUrl> {
        let invalid = |reason: String| Error::InvalidHost {
            input: input.to_string(),
            reason,
        };
        let (scheme, rest) = input
            .split_once("://")
            .ok_or_else(|| invalid("not a URL: expected scheme://host:port".into()))?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "unix" | "unixs") {
            return Err(invalid(format!(
                "unsupported scheme {scheme:?}: etcd URLs use http or https"
            )));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        if authority.is_empty() {
            return Err(invalid("the URL has no host".into()));
        }
        let (host, port) =
            if let Some(after_bracket) = authority.strip_prefix('[') {
                let (inside, tail) = after_bracket
                    .split_once(']')
                    .ok_or_else(|| invalid("missing ']' in an IPv6 address".into()))?;
                let port = match tail {
                    "" => None,
                    t => Some(t.strip_prefix(':').ok_or_else(|| {
                        invalid(format!("unexpected {t:?} after the IPv6 address"))
                    })?),
                };
                (inside, port)
            } else {
                match authority.rsplit_once(':') {
                    Some((h, p)) if !h.contains(':') => (h, Some(p)),
                    Some(_) => return Err(invalid(
                        "an IPv6 address in a URL must be in brackets, e.g. https://[fd00::1]:2380"
                            .into(),
                    )),
                    None => (authority, None),
                }
            };
        let port = match port {
            None | Some("") => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| invalid(format!("invalid port {p:?}")))?,
            ),
        };
        if host.is_empty() {
            return Err(invalid("the URL has no host".into()));
        }
        if let Some(c) = host.chars().find(|&c| !valid_in_host(c)) {
            return Err(invalid(format!("invalid character {c:?} in host name")));
        }
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) if authority.starts_with('[') => {
                return Err(invalid(format!(
                    "{host:?} in brackets is not an IP address"
                )))
            }
            Err(_) => Host::Dns(host.to_string()),
        };
        Ok(HostUrl {
            url: input.to_string(),
            scheme,
            host,
            port,
        })
    }
}

/// Whether Go's `url.Parse` accepts a character in a host name (its `shouldEscape` in
/// `encodeHost` mode): ASCII letters and digits, `-._~`, the sub-delimiters, `:[]<>"`, `%` for
/// escapes, and any non-ASCII character; spaces, control characters, `{`, `}`, `|`, `\`, `^`
/// and the backquote are refused.
fn valid_in_host(c: char) -> bool {
    !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:[]<>\"%".contains(c)
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
            let err = HostUrl::parse(bad).unwrap_err();
            assert!(
                err.to_string().contains("invalid character"),
                "{bad:?}: {err}"
            );
            assert!(Host::parse(bad).is_err(), "{bad:?}");
        }
        // What Go accepts in a host name is still accepted.
        for good in [
            "https://etcd_0.example.com:2380",
            "https://a~b",
            "https://xn--bcher-kva.example",
            "https://b\u{fc}cher.example",
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
}

//! Which Go's rules to judge by, where the Go versions etcd is built with decide differently.
//!
//! Debian's etcd 3.4.23 is built with Go 1.19.8 and etcd 3.5.16 with Go 1.24.0; the two
//! `crypto/x509` packages differ in a few decisions, found by the differential tests against Go
//! itself (`tests/go-oracle/RESULTS.md`):
//!
//! - a DNS SAN that is exactly `*` is a valid wildcard pattern in Go 1.19 (so it covers any
//!   single-label host, `etcd-peer`), and in Go 1.24 an invalid one, compared only exactly
//!   (so it covers only the host `*`);
//! - `net.ParseIP` (Go 1.19) reads IPv6 groups of five or more hex digits that Go 1.24 does not
//!   (`crate::go_ip`);
//! - a CA's name constraints apply in Go 1.19 to the leaf and the CA itself, in Go 1.24 to every
//!   certificate below the CA (`crate::verify`); a DNS name with a leading dot is one label
//!   shorter to Go 1.19 and invalid to Go 1.24 (`crate::go_names`);
//! - a CA whose public key algorithm Go does not know is tried and refused by Go 1.19, passed over
//!   by Go 1.24; SHA-1 signatures are refused in other words.
//!
//! The default is the newest, [`GoRules::Go124`].

use std::fmt;

use serde::Serialize;

/// The Go whose `crypto/x509` rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub enum GoRules {
    /// Go 1.19, the Go of etcd 3.4 (Debian's 3.4.23 reports Go 1.19.8).
    #[serde(rename = "go1.19")]
    Go119,
    /// Go 1.24, the Go of etcd 3.5 (3.5.16 reports Go 1.24.0); the newest, and the default.
    #[default]
    #[serde(rename = "go1.24")]
    Go124,
}

impl GoRules {
    /// Every rule set, oldest first.
    pub const ALL: [GoRules; 2] = [GoRules::Go119, GoRules::Go124];

    /// The rules of an etcd minor version (`3.4`, `3.5`; a patch level is ignored), if known.
    pub fn for_etcd(version: &str) -> Option<GoRules> {
        let mut parts = version.trim().trim_start_matches('v').split('.');
        match (parts.next(), parts.next()) {
            (Some("3"), Some("4")) => Some(GoRules::Go119),
            (Some("3"), Some("5")) => Some(GoRules::Go124),
            _ => None,
        }
    }

    /// The etcd minor version built with this Go (`3.4`, `3.5`).
    pub fn etcd(self) -> &'static str {
        match self {
            GoRules::Go119 => "3.4",
            GoRules::Go124 => "3.5",
        }
    }

    /// The Go version (`Go 1.19`).
    pub fn go(self) -> &'static str {
        match self {
            GoRules::Go119 => "Go 1.19",
            GoRules::Go124 => "Go 1.24",
        }
    }

    /// Whether a DNS SAN of exactly `*` is a wildcard pattern (Go 1.19) rather than a name
    /// compared exactly (Go 1.24, where `validHostname` refuses a bare `*`).
    pub(crate) fn bare_star_is_a_pattern(self) -> bool {
        self == GoRules::Go119
    }
}

/// `etcd 3.5 (Go 1.24)`.
impl fmt::Display for GoRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "etcd {} ({})", self.etcd(), self.go())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etcd_versions_name_their_go() {
        assert_eq!(GoRules::for_etcd("3.4"), Some(GoRules::Go119));
        assert_eq!(GoRules::for_etcd("3.4.23"), Some(GoRules::Go119));
        assert_eq!(GoRules::for_etcd("v3.5.16"), Some(GoRules::Go124));
        assert_eq!(GoRules::for_etcd("3.6"), None);
        assert_eq!(GoRules::for_etcd("3"), None);
        assert_eq!(GoRules::default(), GoRules::Go124);
        assert_eq!(GoRules::Go119.to_string(), "etcd 3.4 (Go 1.19)");
        for rules in GoRules::ALL {
            assert_eq!(GoRules::for_etcd(rules.etcd()), Some(rules));
        }
    }
}

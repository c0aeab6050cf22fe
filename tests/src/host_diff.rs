//! The differential comparison of host coverage: for a certificate and a host input, Go's
//! verdict (from the oracle: `VerifyHostname` of the input, or of the name `net/http` verifies
//! for a URL) against etcd-pki's (`Host::parse` of the input, as `etcd-pki check --host` does,
//! then `covers_with` under the same Go's rules), classified as agreement, a deliberate
//! difference documented in `tests/go-oracle/DELIBERATE.md`, or a disagreement.

use pki_core::{certificates_from_bytes, covers_with, Coverage, GoRules, Host};
use serde_json::Value;

use crate::go_oracle::GoVersion;

/// What Go decides for one host input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoVerdict {
    /// `VerifyHostname` succeeds.
    Covered,
    /// `VerifyHostname` fails: its message, and the host it names (`HostnameError.Host`).
    NotCovered {
        /// Go's message.
        message: String,
        /// The host as Go's message names it.
        host: String,
    },
    /// The input, a URL, is refused before any host check (`url.Parse` or `net/http`).
    Refused(String),
}

/// What etcd-pki decides for one host input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PkiVerdict {
    /// Covered, by this SAN.
    Covered(String),
    /// Not covered: the message etcd-pki gives as Go's, and the host it names.
    NotCovered {
        /// The message.
        message: String,
        /// The host as the message names it.
        host: String,
    },
    /// `Host::parse` refuses the input: why.
    Refused(String),
}

/// How the two verdicts compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Same verdict (and the same message where both name the host alike).
    Agree,
    /// A documented, deliberate difference: its name in DELIBERATE.md.
    Deliberate(&'static str),
    /// A disagreement: what differs.
    Disagree(String),
}

/// etcd-pki's refusals that are deliberate, by a fragment of their reason, with their name in
/// `tests/go-oracle/DELIBERATE.md`. A refusal not listed here is a disagreement.
pub const DELIBERATE_REFUSALS: &[(&str, &str)] = &[
    ("empty host", "empty host"),
    ("cannot contain spaces or '/'", "spaces or slash in a host"),
    ("this is host:port", "host:port"),
    (
        "not a URL: expected scheme://host:port",
        "URL without a scheme",
    ),
    (
        "unsupported scheme",
        "URL scheme other than http(s) or unix(s)",
    ),
    ("the URL has no host", "URL without a host"),
    (
        "an IPv6 address in a URL must be in brackets",
        "IPv6 without brackets in a URL",
    ),
    (
        "in brackets is not an IP address",
        "non-IP in brackets in a URL",
    ),
    (
        "is not ASCII: Go's net/http dials its IDNA form",
        "non-ASCII host in a URL (IDNA)",
    ),
];

/// A port etcd-pki refuses (`invalid port "99999"`, not Go's `invalid port ":x" after host`).
const PORT_RANGE: &str = "port above 65535 in a URL";
/// Leading or trailing whitespace around a bare host, which etcd-pki ignores.
pub const TRIMMED: &str = "surrounding whitespace";

/// Go's verdict from an oracle answer for a host (`hosts[i]`) or URL (`urls[i]`).
pub fn go_verdict(answer: &Value, input: &str) -> GoVerdict {
    if let Some(e) = answer["url_error"].as_str() {
        return GoVerdict::Refused(e.to_string());
    }
    if answer["ok"] == Value::Bool(true) {
        return GoVerdict::Covered;
    }
    let checked = answer["server_name"].as_str().unwrap_or(input);
    // HostnameError.Host: the IP without brackets for an IP, else the host as given.
    let inner = checked
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .filter(|h| h.parse::<std::net::IpAddr>().is_ok());
    GoVerdict::NotCovered {
        message: answer["error"].as_str().unwrap_or("?").to_string(),
        host: inner.unwrap_or(checked).to_string(),
    }
}

/// Whether the oracle is asked about `input` as a URL (as `Host::parse` takes it) rather than
/// as a bare host; the URL it is asked about (trimmed, as etcd trims its URL flags).
pub fn as_url(input: &str) -> Option<&str> {
    let trimmed = input.trim();
    (!trimmed.is_empty() && trimmed.contains("://")).then_some(trimmed)
}

/// etcd-pki's verdict, as `etcd-pki check --etcd-version V --host INPUT` reaches it.
pub fn pki_verdict(der: &[u8], input: &str, rules: GoRules) -> Result<PkiVerdict, String> {
    let cert = certificates_from_bytes(der)
        .map_err(|e| e.to_string())?
        .remove(0);
    Ok(match Host::parse_with(input, rules) {
        Err(e) => PkiVerdict::Refused(e.to_string()),
        Ok(host) => match covers_with(&cert, &host, rules) {
            Coverage::Covered { by } => PkiVerdict::Covered(by),
            Coverage::NotCovered(nc) => PkiVerdict::NotCovered {
                message: nc.to_string(),
                host: host.to_string(),
            },
        },
    })
}

/// Compares the two verdicts for `input`.
pub fn compare(go: &GoVerdict, pki: &PkiVerdict, input: &str) -> Outcome {
    use GoVerdict as G;
    use PkiVerdict as P;
    match (go, pki) {
        (G::Covered, P::Covered(_)) | (G::Refused(_), P::Refused(_)) => Outcome::Agree,
        (
            G::NotCovered {
                message: gm,
                host: gh,
            },
            P::NotCovered {
                message: pm,
                host: ph,
            },
        ) => {
            if gh == ph && gm != pm {
                Outcome::Disagree(format!("messages differ: Go {gm:?}, etcd-pki {pm:?}"))
            } else {
                Outcome::Agree
            }
        }
        (_, P::Refused(why)) => {
            if why.contains("invalid port \"") && !why.contains("after host") {
                return Outcome::Deliberate(PORT_RANGE);
            }
            match DELIBERATE_REFUSALS.iter().find(|(f, _)| why.contains(f)) {
                Some((_, name)) => Outcome::Deliberate(name),
                None => Outcome::Disagree(format!("etcd-pki refuses ({why}), Go: {go:?}")),
            }
        }
        _ if as_url(input).is_none() && input.trim() != input => Outcome::Deliberate(TRIMMED),
        _ => Outcome::Disagree(format!("Go: {go:?}; etcd-pki: {pki:?}")),
    }
}

/// The rules etcd-pki applies for the etcd of a Go version.
pub fn rules_for(version: GoVersion) -> GoRules {
    GoRules::for_etcd(version.etcd()).expect("a known etcd")
}

//! `--cipher-suites`, `--tls-min-version` and `--tls-max-version` as etcd validates them at
//! start-up, and what they leave possible.
//!
//! - Names: `GetCipherSuite` in `client/pkg/tlsutil/cipher_suites.go` (3.5.16; the same in 3.4.22+)
//!   accepts the exact, case-sensitive names of Go's `tls.CipherSuites()` and
//!   `tls.InsecureCipherSuites()`, plus two short ChaCha aliases; anything else stops etcd with
//!   `unexpected TLS cipher suite "<name>"`. The list is split on commas without trimming
//!   (`pkg/flags/strings.go`), so `"A, B"` names `" B"`.
//! - TLS 1.3 suite names are accepted but do nothing: Go's `tls.Config.CipherSuites` configures
//!   TLS 1.0-1.2 only.
//! - Versions: `GetTLSVersion` in `client/pkg/tlsutil/versions.go` accepts `""`, `TLS1.2` and
//!   `TLS1.3`; `Config.Validate` (`server/embed/config.go`, 3.5.8+ and 3.4.25+) refuses a minimum
//!   above the maximum, and cipher suites with a TLS 1.3 minimum ("cipher suites cannot be
//!   configured when only TLS1.3 is enabled"). The effective minimum is never below TLS 1.2.

use pki_core::KeyAlgorithm;

/// Go's TLS 1.0-1.2 cipher suite names (secure and insecure lists of Go 1.17+), with the key type
/// each needs of the server certificate.
const SUITES_12: &[(&str, Needs)] = &[
    ("TLS_RSA_WITH_RC4_128_SHA", Needs::Rsa),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", Needs::Rsa),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", Needs::Rsa),
    ("TLS_RSA_WITH_AES_256_CBC_SHA", Needs::Rsa),
    ("TLS_RSA_WITH_AES_128_CBC_SHA256", Needs::Rsa),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", Needs::Rsa),
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", Needs::Rsa),
    ("TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", Needs::Ecdsa),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", Needs::Ecdsa),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", Needs::Ecdsa),
    ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", Needs::Rsa),
    ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", Needs::Rsa),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", Needs::Rsa),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", Needs::Rsa),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", Needs::Ecdsa),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", Needs::Rsa),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", Needs::Ecdsa),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", Needs::Ecdsa),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Needs::Rsa),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", Needs::Rsa),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Needs::Rsa),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        Needs::Ecdsa,
    ),
    // etcd's own aliases.
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", Needs::Rsa),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", Needs::Ecdsa),
];

/// TLS 1.3 suite names: accepted, without effect.
const SUITES_13: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Suites Go lists as insecure (RC4, 3DES, CBC with SHA-256 MACs).
fn insecure(name: &str) -> bool {
    name.contains("RC4") || name.contains("3DES") || name.ends_with("_CBC_SHA256")
}

/// The server key a TLS 1.2 suite needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Rsa,
    Ecdsa,
}

/// What is wrong with a TLS settings combination, as etcd would meet it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TlsSettingProblem {
    /// etcd refuses to start.
    Fatal(String),
    /// etcd starts, but something does not work or is weak.
    Warn(String),
}

/// Checks the settings against etcd's start-up validation and against the key types of the
/// certificates that will be served (`keys`: the algorithms of the server and peer
/// certificates).
pub(crate) fn check(
    suites: Option<&str>,
    min: Option<&str>,
    max: Option<&str>,
    keys: &[KeyAlgorithm],
) -> Vec<TlsSettingProblem> {
    let mut out = Vec::new();
    let version = |v: Option<&str>| -> Result<Option<u8>, String> {
        match v.unwrap_or("") {
            "" => Ok(None),
            "TLS1.2" => Ok(Some(2)),
            "TLS1.3" => Ok(Some(3)),
            other => Err(format!(
                "unexpected TLS version {other:?} (must be one of: TLS1.2, TLS1.3)"
            )),
        }
    };
    let (min_v, max_v) = match (version(min), version(max)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            out.push(TlsSettingProblem::Fatal(e));
            (None, None)
        }
    };
    if let (Some(a), Some(b)) = (min_v, max_v) {
        if a > b {
            out.push(TlsSettingProblem::Fatal(format!(
                "min version ({}) is greater than max version ({})",
                min.unwrap_or(""),
                max.unwrap_or("")
            )));
        }
    }
    // An empty list given on the command line is [""] to etcd, an unknown suite.
    let names: Vec<&str> = suites.map(|s| s.split(',').collect()).unwrap_or_default();
    if names.is_empty() {
        return out;
    }
    if min_v == Some(3) {
        out.push(TlsSettingProblem::Fatal(
            "cipher suites cannot be configured when only TLS1.3 is enabled".into(),
        ));
    }
    let mut usable: Vec<Needs> = Vec::new();
    for name in &names {
        if let Some((_, needs)) = SUITES_12.iter().find(|(n, _)| n == name) {
            usable.push(*needs);
            if insecure(name) {
                out.push(TlsSettingProblem::Warn(format!(
                    "{name} is one of Go's insecure cipher suites"
                )));
            }
        } else if SUITES_13.contains(name) {
            out.push(TlsSettingProblem::Warn(format!(
                "{name} is a TLS 1.3 suite: Go does not let TLS 1.3 suites be configured, so it has no effect"
            )));
        } else if name.trim() != *name {
            out.push(TlsSettingProblem::Fatal(format!(
                "unexpected TLS cipher suite {name:?}: etcd splits the list on commas without trimming spaces"
            )));
        } else {
            out.push(TlsSettingProblem::Fatal(format!(
                "unexpected TLS cipher suite {name:?}"
            )));
        }
    }
    // TLS 1.2 handshakes need a suite the certificate's key can sign for.
    for key in keys {
        let needs = match key {
            KeyAlgorithm::Rsa { .. } => Needs::Rsa,
            KeyAlgorithm::Ecdsa { .. } | KeyAlgorithm::Ed25519 => Needs::Ecdsa,
            _ => continue,
        };
        if !usable.is_empty() && !usable.contains(&needs) {
            let text = format!(
                "none of the cipher suites can be used with the {key} key of the served certificate: TLS 1.2 handshakes fail{}",
                if max_v == Some(2) {
                    " (and TLS 1.3 is off)"
                } else {
                    "; only TLS 1.3 clients connect"
                }
            );
            out.push(if max_v == Some(2) {
                TlsSettingProblem::Fatal(text)
            } else {
                TlsSettingProblem::Warn(text)
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fatal(p: &[TlsSettingProblem]) -> Vec<&str> {
        p.iter()
            .filter_map(|x| match x {
                TlsSettingProblem::Fatal(m) => Some(m.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn etcds_start_up_rules() {
        let rsa = [KeyAlgorithm::Rsa { bits: 2048 }];
        assert!(check(None, None, None, &rsa).is_empty());
        assert!(check(
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"),
            Some("TLS1.2"),
            None,
            &rsa
        )
        .is_empty());
        assert_eq!(
            fatal(&check(Some("TLS_FOO"), None, None, &rsa)),
            ["unexpected TLS cipher suite \"TLS_FOO\""]
        );
        assert!(fatal(&check(
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
            None,
            None,
            &rsa
        ))[0]
            .contains("without trimming"));
        assert_eq!(
            fatal(&check(
                Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
                Some("TLS1.3"),
                None,
                &rsa
            )),
            ["cipher suites cannot be configured when only TLS1.3 is enabled"]
        );
        assert_eq!(
            fatal(&check(None, Some("TLS1.3"), Some("TLS1.2"), &rsa)),
            ["min version (TLS1.3) is greater than max version (TLS1.2)"]
        );
        assert_eq!(fatal(&check(None, Some("tls1.2"), None, &rsa)).len(), 1);
    }

    #[test]
    fn suites_the_key_cannot_use() {
        let ec = [KeyAlgorithm::Ed25519];
        let only_rsa = Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert!(matches!(
            check(only_rsa, None, None, &ec)[..],
            [TlsSettingProblem::Warn(_)]
        ));
        assert_eq!(fatal(&check(only_rsa, None, Some("TLS1.2"), &ec)).len(), 1);
    }
}

//! The differential comparison of key-pair acceptance: Go's own `tls.X509KeyPair` on a
//! certificate file and a key file (the oracle's `x509_key_pair`; etcd loads its pairs with
//! `tls.LoadX509KeyPair`) against what `etcd-pki check --cert C --key K` decides for the same
//! files, through the functions pki-cli's `check` calls: `certificates_from_bytes` and
//! `private_key_from_bytes` (a refusal there ends the command), then `check` with the files'
//! bytes, whose `format` findings (`etcd_file_problem`) and `key-pair` finding (`check_key`)
//! say whether etcd could load the pair.
//!
//! Go accepts exactly when etcd-pki finds no format problem and the key matches. When both
//! refuse, the reasons are compared by class; where etcd-pki's message quotes Go's
//! (`"tls: ..."`), the quote must be Go's message.

use pki_core::{
    certificates_from_bytes, check, private_key_from_bytes, CheckId, CheckInput, Error, EtcdFiles,
    Status,
};
use serde_json::Value;

/// Why a pair is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// No certificate PEM block is found in the certificate file.
    NoCertPem,
    /// No private key PEM block is found in the key file.
    NoKeyPem,
    /// The (first) certificate does not parse.
    CertParse,
    /// The key block does not parse as a key.
    KeyParse,
    /// The key is not the certificate's.
    KeyMismatch,
    /// Anything else (an unknown public key algorithm).
    Other,
}

/// One reason for refusing a pair: its class and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The class.
    pub class: Class,
    /// The message, as the tool gives it.
    pub message: String,
}

/// A verdict on a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The pair loads; the key's algorithm.
    Accepts(String),
    /// The pair is refused: the reasons, the one given first first (Go gives one).
    Refuses(Vec<Reason>),
}

/// Go's verdict from an `x509_key_pair` answer.
pub fn go_verdict(answer: &Value) -> Verdict {
    if answer["ok"] == Value::Bool(true) {
        return Verdict::Accepts(answer["key"].as_str().unwrap_or("?").to_string());
    }
    let message = answer["error"].as_str().unwrap_or("?").to_string();
    Verdict::Refuses(vec![Reason {
        class: go_class(&message),
        message,
    }])
}

/// The class of one of `tls.X509KeyPair`'s errors.
pub fn go_class(message: &str) -> Class {
    if message.contains("in certificate input") {
        Class::NoCertPem
    } else if message.contains("in key input") || message.contains("rather than a key") {
        Class::NoKeyPem
    } else if message.contains("failed to parse private key")
        || message.contains("unknown private key type")
    {
        Class::KeyParse
    } else if message.contains("does not match public key") {
        Class::KeyMismatch
    } else if message.contains("unknown public key algorithm") {
        Class::Other
    } else {
        // x509.ParseCertificate's errors ("x509: ...", "asn1: ...").
        Class::CertParse
    }
}

/// etcd-pki's verdict, as `etcd-pki check --cert C --key K` reaches it.
pub fn pki_verdict(cert_file: &[u8], key_file: &[u8]) -> Verdict {
    let chain = match certificates_from_bytes(cert_file) {
        Ok(chain) => chain,
        Err(e) => return Verdict::Refuses(vec![load_reason(&e, true)]),
    };
    let key = match private_key_from_bytes(key_file) {
        Ok(key) => key,
        Err(e) => return Verdict::Refuses(vec![load_reason(&e, false)]),
    };
    let input = CheckInput::new("cert.pem", &chain)
        .key(&key)
        .files(EtcdFiles::default().certificate(cert_file).key(key_file));
    let report = check(&input);
    let reasons: Vec<Reason> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .filter_map(|f| {
            let class = match (f.check, f.target.as_deref()) {
                (CheckId::Format, Some("certificate file")) => Class::NoCertPem,
                (CheckId::Format, Some("key file")) => Class::NoKeyPem,
                (CheckId::KeyPair, _) => match quoted_go_message(&f.message) {
                    Some(quote) if go_class(quote) == Class::Other => Class::Other,
                    _ => Class::KeyMismatch,
                },
                _ => return None,
            };
            Some(Reason {
                class,
                message: f.message.clone(),
            })
        })
        .collect();
    if reasons.is_empty() {
        Verdict::Accepts(key.algorithm().to_string())
    } else {
        Verdict::Refuses(reasons)
    }
}

/// The class of an error of `certificates_from_bytes` (`cert`) or `private_key_from_bytes`.
fn load_reason(e: &Error, cert: bool) -> Reason {
    let class = match e {
        Error::MalformedCertificate { .. } => Class::CertParse,
        Error::NoCertificate { .. } | Error::MalformedPem { .. } if cert => Class::NoCertPem,
        Error::NoPrivateKey { .. } | Error::MalformedPem { .. } => Class::NoKeyPem,
        Error::EncryptedKey { .. } | Error::MalformedKey { .. } | Error::UnsupportedKey { .. } => {
            Class::KeyParse
        }
        _ => Class::Other,
    };
    Reason {
        class,
        message: e.to_string(),
    }
}

/// The message of Go's that an etcd-pki message quotes, if it quotes one (`"tls: ..."`).
pub fn quoted_go_message(message: &str) -> Option<&str> {
    let start = message.find("\"tls: ")? + 1;
    let len = message[start..].find('"')?;
    Some(&message[start..start + len])
}

/// How two verdicts compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Same verdict; when refused, Go's reason is among etcd-pki's (with Go's message where
    /// etcd-pki quotes it).
    Agree,
    /// Both refuse, for different first reasons: the one etcd-pki gives must be confirmed by Go
    /// on the pair with Go's reason removed ([`confirm_reordered`]).
    Reordered {
        /// etcd-pki's first reason.
        pki: Reason,
        /// Go's reason.
        go: Reason,
    },
    /// A documented, deliberate difference: its name in DELIBERATE.md.
    Deliberate(&'static str),
    /// A disagreement: what differs.
    Disagree(String),
}

/// A certificate after the first in the certificate file does not parse: etcd-pki refuses the
/// file, Go parses only the first certificate (DELIBERATE.md).
pub const LATER_CERTIFICATE: &str = "a later certificate of the certificate file does not parse";

/// Whether etcd-pki's reason is that a certificate after the first does not parse.
fn later_certificate(reason: &Reason) -> bool {
    reason.class == Class::CertParse
        && reason
            .message
            .split("certificate #")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= 2)
}

/// Compares Go's verdict with etcd-pki's.
pub fn compare(go: &Verdict, pki: &Verdict) -> Outcome {
    if let Verdict::Refuses(reasons) = pki {
        let go_cert_parse = matches!(go, Verdict::Refuses(g) if g[0].class == Class::CertParse);
        if later_certificate(&reasons[0]) && !go_cert_parse {
            return Outcome::Deliberate(LATER_CERTIFICATE);
        }
    }
    match (go, pki) {
        (Verdict::Accepts(g), Verdict::Accepts(p)) => {
            if g == p {
                Outcome::Agree
            } else {
                Outcome::Disagree(format!("both accept; key {g} for Go, {p} for etcd-pki"))
            }
        }
        (Verdict::Accepts(g), Verdict::Refuses(reasons)) => Outcome::Disagree(format!(
            "Go accepts (key {g}); etcd-pki refuses: {reasons:?}"
        )),
        (Verdict::Refuses(go), Verdict::Accepts(p)) => {
            Outcome::Disagree(format!("Go refuses ({go:?}); etcd-pki accepts (key {p})"))
        }
        (Verdict::Refuses(go), Verdict::Refuses(pki)) => {
            let g = &go[0];
            match pki.iter().find(|r| r.class == g.class) {
                Some(same) => match quoted_go_message(&same.message) {
                    Some(quote) if quote != g.message => Outcome::Disagree(format!(
                        "both refuse ({:?}); etcd-pki quotes Go as {quote:?}, Go says {:?}",
                        g.class, g.message
                    )),
                    _ => Outcome::Agree,
                },
                None => Outcome::Reordered {
                    pki: pki[0].clone(),
                    go: g.clone(),
                },
            }
        }
    }
}

/// Whether etcd-pki's first reason in a [`Outcome::Reordered`] is one Go gives too once the
/// file Go stopped at is replaced by a clean one: `again` is Go's verdict on that pair.
pub fn confirm_reordered(pki: &Reason, again: &Verdict) -> Outcome {
    match again {
        Verdict::Refuses(go) if go[0].class == pki.class => match quoted_go_message(&pki.message) {
            Some(quote) if quote != go[0].message => Outcome::Disagree(format!(
                "etcd-pki quotes Go as {quote:?}, Go says {:?}",
                go[0].message
            )),
            _ => Outcome::Agree,
        },
        other => Outcome::Disagree(format!(
            "etcd-pki refuses first for {pki:?}; with the other file clean, Go decides {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_messages_are_classed() {
        for (m, c) in [
            (
                "tls: failed to find any PEM data in certificate input",
                Class::NoCertPem,
            ),
            (
                "tls: failed to find any PEM data in key input",
                Class::NoKeyPem,
            ),
            (
                "tls: found a certificate rather than a key in the PEM for the private key",
                Class::NoKeyPem,
            ),
            ("tls: failed to parse private key", Class::KeyParse),
            (
                "tls: private key type does not match public key type",
                Class::KeyMismatch,
            ),
            ("x509: malformed certificate", Class::CertParse),
        ] {
            assert_eq!(go_class(m), c, "{m}");
        }
        assert_eq!(
            quoted_go_message("x; etcd refuses with \"tls: a b\"; y"),
            Some("tls: a b")
        );
        assert_eq!(quoted_go_message("no quote"), None);
    }
}

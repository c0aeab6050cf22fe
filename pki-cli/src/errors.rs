//! pki-core's errors in this CLI's words.
//!
//! pki-core says what is wrong in words of certificates and files; where an error comes from a
//! flag (`--add-dns`, `--days`, `--member`) or its remedy is a command of this tool (`etcd-pki
//! init`, `etcd-pki inspect`), this names them, matching on the typed variants. Everything else
//! is printed as pki-core says it.

use std::fmt;
use std::path::Path;

use pki_core::{display_path, DnsNameProblem, Error, RequestProblem};

/// A pki-core error as this CLI prints it.
pub fn core_error_text(e: &Error) -> String {
    match e {
        Error::InvalidRequest { path, problem } => format!(
            "{}{}",
            path.as_deref()
                .map(|p| format!("{}: ", display_path(p)))
                .unwrap_or_default(),
            request_problem_text(problem)
        ),
        Error::CaNotValid { path, state } => format!(
            "the CA certificate {} is {state}; certificates it signs would not verify: a new CA is needed (etcd-pki init), and every member must trust it",
            origin(path.as_deref())
        ),
        Error::NotIssuedByCa { path, ca, reason } => format!(
            "{} was not issued by the CA {ca}: {reason}; pass the CA that signed it (etcd-pki inspect shows its issuer)",
            origin(path.as_deref())
        ),
        Error::WriteInProgress { dir, journal } => format!(
            "another etcd-pki is writing in {} right now (journal {}): wait until it has finished, then try again",
            display_path(dir),
            display_path(journal)
        ),
        other => other.to_string(),
    }
}

/// Why a request cannot be carried out, naming the flag it came from.
fn request_problem_text(problem: &RequestProblem) -> String {
    match problem {
        RequestProblem::InvalidDnsName {
            name,
            problem: DnsNameProblem::IsAnIp,
        } => format!(
            "--add-dns {name:?}: this is an IP address: use --add-ip, since Go never matches an IP against a DNS SAN"
        ),
        RequestProblem::InvalidDnsName { name, problem } => {
            format!("--add-dns {name:?}: {problem}")
        }
        RequestProblem::IpSanNotPresent { ip } => {
            format!("--remove-ip {ip}: the certificate has no such IP SAN")
        }
        RequestProblem::DnsSanNotPresent { name } => {
            format!("--remove-dns {name}: the certificate has no such DNS SAN")
        }
        RequestProblem::ZeroDays => "--days must be at least 1".to_string(),
        RequestProblem::LifetimeCannotBeKept { lifetime } => format!(
            "the old certificate's lifetime ({lifetime}) cannot be kept: give the new one with --days N"
        ),
        RequestProblem::NoMembers => "give at least one --member NAME=IP".to_string(),
        RequestProblem::InvalidMember { spec, problem } => format!(
            "--member {spec:?}: {problem}; expected NAME=IP[,DNS...], e.g. infra0=10.0.11.36"
        ),
        other => other.to_string(),
    }
}

/// The file an error is about, or `input` for bytes that came from no file.
fn origin(path: Option<&Path>) -> String {
    path.map_or_else(|| "input".to_string(), |p| display_path(p).into_owned())
}

/// A pki-core error carried in an [`anyhow::Error`], printed as [`core_error_text`] says.
#[derive(Debug)]
pub struct CoreError(pub Error);

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&core_error_text(&self.0))
    }
}

impl std::error::Error for CoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(problem: RequestProblem) -> Error {
        Error::InvalidRequest {
            path: Some("members.pem".into()),
            problem,
        }
    }

    #[test]
    fn flags_are_named_here_and_only_here() {
        let err = request(RequestProblem::ZeroDays);
        assert!(!err.to_string().contains("--"), "{err}");
        assert_eq!(
            core_error_text(&err),
            "members.pem: --days must be at least 1"
        );
        let err = pki_core::Member::parse("infra0").unwrap_err();
        assert!(!err.to_string().contains("--member"), "{err}");
        assert_eq!(
            core_error_text(&err),
            "--member \"infra0\": no '='; expected NAME=IP[,DNS...], e.g. infra0=10.0.11.36"
        );
    }
}

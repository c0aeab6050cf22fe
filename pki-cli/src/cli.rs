//! Command-line flags (clap derive). Each flag is documented once, here: a short line for `-h`
//! and a longer paragraph for `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use time::OffsetDateTime;

/// Keep an etcd cluster's TLS certificates and its membership in step.
///
/// etcd-pki catches, before anything is changed, the certificate problems that leave a
/// cluster with a dead member: a peer certificate that does not list the new member's IP,
/// a server certificate without clientAuth, a certificate from the wrong CA, an expired
/// one. It decides coverage and chains exactly as etcd (Go's crypto/x509) does.
#[derive(Debug, Parser)]
#[command(
    name = "etcd-pki",
    version,
    propagate_version = true,
    max_term_width = 80
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what certificate and key files hold (subject, SANs, validity, usages, ...)
    Inspect(InspectArgs),
    /// Check one certificate for a member: key, chain, validity, usages, SAN coverage
    ///
    /// Exit 0 when every check passes, 1 when any fails (each failure says what,
    /// why and how to fix it), 2 on bad input.
    ///
    /// Example, the runbook's failure caught before `member add`:
    ///
    ///   etcd-pki check --role peer --url https://127.0.0.14:2380 \
    ///       --cert members.pem --key members-key.pem --cacert ca.pem
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// List every certificate under directories with expiry, issuer and problems
    ///
    /// Like `kubeadm certs check-expiration`, for any layout: each certificate's
    /// subject, expiry and residual time, the CA in the same trees that issued it,
    /// its SANs, and its problems (expired, expiring within the window, not
    /// chained to any CA in the trees, key mismatch with the key file beside it).
    /// Files that hold no certificate are listed as skipped. Exit 1 when any
    /// certificate has a problem.
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),
}

/// Output formats of commands that print findings or details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Plain lines, for people
    Simple,
    /// A bordered table, as etcdctl draws them
    Table,
    /// JSON, for machines (field names are documented in docs/json.md)
    Json,
}

/// Output formats of commands that print one row per item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// A bordered table, as etcdctl draws them
    Table,
    /// JSON, for machines (field names are documented in docs/json.md)
    Json,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Certificate or key files (PEM or DER; bundles allowed)
    #[arg(required = true, value_hint = ValueHint::FilePath)]
    pub files: Vec<PathBuf>,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = Format::Simple)]
    pub write_out: Format,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The certificate to check (PEM or DER; intermediates may follow it in the file)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub cert: PathBuf,

    /// Its private key: checked to be the certificate's (PKCS#1, PKCS#8 or SEC1)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// The cluster's CA bundle (every certificate in it is trusted, as etcd's
    /// --trusted-ca-file); the chain is checked against it
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub cacert: Option<PathBuf>,

    /// The role the certificate plays: peer (--peer-cert-file: serverAuth and clientAuth,
    /// covers the peer URL), server (--cert-file: serverAuth and clientAuth for etcd's gRPC
    /// gateway, covers the client URLs) or client (clientAuth)
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,

    /// A host the certificate must cover (IP or DNS name); repeatable
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,

    /// A member URL whose host the certificate must cover, e.g. https://127.0.0.14:2380;
    /// repeatable, and comma-separated lists are accepted as etcd writes them
    #[arg(long = "url", value_name = "URL", value_delimiter = ',')]
    pub urls: Vec<String>,

    /// Fail when the certificate expires within this window (e.g. 30d, 720h, 2w)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expires_within: Option<time::Duration>,

    /// Judge validity at this instant instead of now (RFC 3339, e.g. 2027-01-01T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = Format::Simple)]
    pub write_out: Format,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Directories (or files) to scan, recursively; symbolic links are followed, loops are not
    #[arg(required = true, value_hint = ValueHint::DirPath)]
    pub dirs: Vec<PathBuf>,

    /// Report certificates expiring within this window (e.g. 30d, 720h, 2w)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
    pub expires_within: time::Duration,

    /// Judge validity at this instant instead of now (RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = TableFormat::Table)]
    pub write_out: TableFormat,
}

/// The roles of `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A member's peer certificate (--peer-cert-file)
    Peer,
    /// A member's client-facing certificate (--cert-file)
    Server,
    /// A client certificate (etcdctl --cert, kube-apiserver)
    Client,
}

impl From<RoleArg> for pki_core::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Peer => pki_core::Role::Peer,
            RoleArg::Server => pki_core::Role::Server,
            RoleArg::Client => pki_core::Role::Client,
        }
    }
}

/// Parses `30d`, `720h`, `1h30m`, `2w`, `90s` (humantime; Go's `720h0m0s` too).
pub fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let std = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; use e.g. 30d, 720h, 2w or 90s"))?;
    time::Duration::try_from(std).map_err(|_| "duration too long".to_string())
}

/// Parses an RFC 3339 instant.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{e}; use RFC 3339, e.g. 2027-01-01T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_in_operator_forms() {
        assert_eq!(parse_duration("30d").unwrap(), time::Duration::days(30));
        assert_eq!(parse_duration("720h").unwrap(), time::Duration::hours(720));
        assert_eq!(
            parse_duration("720h0m0s").unwrap(),
            time::Duration::hours(720)
        );
        assert_eq!(parse_duration("2w").unwrap(), time::Duration::weeks(2));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5d").is_err());
    }
}

//! The TLS usages a connection asks of a certificate, whether a certificate's extended key usages
//! (see [`crate::ext_key_usage`]) permit them, and the roles a certificate plays in an etcd
//! cluster.
//!
//! Go checks extended key usage over the whole chain (`checkChainForKeyUsage`): a certificate
//! without the extension, or with `anyExtendedKeyUsage`, permits every usage; otherwise each
//! certificate from the root down must list the usage. A certificate listing only usages Go does
//! not know permits nothing. Key usage bits are ignored for leaves, as Go ignores them.
//!
//! The roles are etcd's:
//! - **peer** (`--peer-cert-file`): served on the peer port *and* presented as a client
//!   certificate when dialing other members, so it needs serverAuth and clientAuth, and must
//!   cover the member's peer URL host;
//! - **server** (`--cert-file`): served on the client port, so serverAuth and covering the client
//!   URL hosts; etcd also presents it as a client certificate from its own gRPC gateway, so with
//!   `--client-cert-auth` it needs clientAuth too (etcd-io/etcd#9785; kubeadm and cfssl profiles
//!   add both);
//! - **client** (`--cert` of etcdctl, the API server's etcd client certificate): clientAuth.

use std::fmt;

use serde::Serialize;

use crate::cert::Certificate;
use crate::ext_key_usage::ExtKeyUsage;

/// A TLS usage that a connection asks of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Usage {
    /// The certificate is served by a TLS server.
    #[serde(rename = "serverAuth")]
    ServerAuth,
    /// The certificate is presented by a TLS client.
    #[serde(rename = "clientAuth")]
    ClientAuth,
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Usage::ServerAuth => "serverAuth",
            Usage::ClientAuth => "clientAuth",
        })
    }
}

/// Whether one certificate's extended key usage extension permits a usage (Go's rules for a
/// single certificate: absent extension or `any` permits all; otherwise the usage itself must be
/// listed: the Server Gated Crypto usages do not stand in for serverAuth, as they did before Go
/// 1.10).
pub fn permits(cert: &Certificate, usage: Usage) -> bool {
    let Some(ekus) = cert.ext_key_usage() else {
        return true;
    };
    if ekus.is_empty() || ekus.contains(&ExtKeyUsage::Any) {
        // An empty extension cannot be encoded validly; Go treats a parsed-empty list as absent.
        return true;
    }
    let wanted = match usage {
        Usage::ClientAuth => ExtKeyUsage::ClientAuth,
        Usage::ServerAuth => ExtKeyUsage::ServerAuth,
    };
    ekus.contains(&wanted)
}

/// Whether every certificate of a chain (leaf first) permits the usage: Go's
/// `checkChainForKeyUsage` for a single requested usage.
pub fn chain_permits<'a>(chain: impl IntoIterator<Item = &'a Certificate>, usage: Usage) -> bool {
    chain.into_iter().all(|cert| permits(cert, usage))
}

/// The role a certificate plays for an etcd member or client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// A member's peer certificate (`--peer-cert-file`).
    Peer,
    /// A member's client-facing server certificate (`--cert-file`).
    Server,
    /// A client certificate (etcdctl, kube-apiserver, health checks).
    Client,
}

impl Role {
    /// The usages etcd needs of a certificate in this role.
    pub fn required_usages(self) -> &'static [Usage] {
        match self {
            Role::Peer | Role::Server => &[Usage::ServerAuth, Usage::ClientAuth],
            Role::Client => &[Usage::ClientAuth],
        }
    }

    /// Whether the hosts given for this role must be covered by the certificate's SANs.
    pub fn checks_hosts(self) -> bool {
        matches!(self, Role::Peer | Role::Server)
    }

    /// Why the role needs a usage, in a sentence.
    pub fn why(self, usage: Usage) -> &'static str {
        match (self, usage) {
            (Role::Peer, Usage::ServerAuth) => {
                "a member serves its peer certificate to the members that dial it"
            }
            (Role::Peer, Usage::ClientAuth) => {
                "a member presents its peer certificate as a client certificate when it dials other members (--peer-client-cert-auth)"
            }
            (Role::Server, Usage::ServerAuth) => "etcd serves this certificate to its clients",
            (Role::Server, Usage::ClientAuth) => {
                "etcd's gRPC gateway presents the server certificate as a client certificate to etcd itself; with --client-cert-auth a certificate without clientAuth is rejected (etcd-io/etcd#9785)"
            }
            (Role::Client, _) => "etcd checks client certificates for clientAuth",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Peer => "peer",
            Role::Server => "server",
            Role::Client => "client",
        })
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "peer" => Ok(Role::Peer),
            "server" => Ok(Role::Server),
            "client" => Ok(Role::Client),
            other => Err(format!(
                "unknown role {other:?}: use peer, server or client"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::generate::{key, params, parse};
    use rcgen::{CustomExtension, ExtendedKeyUsagePurpose as Eku};

    fn with_ekus(ekus: Vec<Eku>) -> Certificate {
        let mut p = params("eku");
        p.extended_key_usages = ekus;
        parse(p.self_signed(&key()).unwrap().der())
    }

    /// A certificate whose extended key usage extension is an empty SEQUENCE.
    fn with_empty_eku_extension() -> Certificate {
        let mut p = params("empty-eku");
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            vec![0x30, 0x00],
        )];
        parse(p.self_signed(&key()).unwrap().der())
    }

    #[test]
    fn any_absent_or_empty_extended_key_usage_permits_every_usage() {
        // Go's checkChainForKeyUsage: a certificate with no extended key usage (absent, or an
        // extension that lists none) or with anyExtendedKeyUsage permits every usage.
        let absent = with_ekus(vec![]);
        assert_eq!(absent.ext_key_usage(), None);
        let empty = with_empty_eku_extension();
        assert_eq!(empty.ext_key_usage(), Some(&[][..]));
        let any = with_ekus(vec![Eku::Any]);
        let any_and_code_signing = with_ekus(vec![Eku::CodeSigning, Eku::Any]);
        for cert in [&absent, &empty, &any, &any_and_code_signing] {
            for usage in [Usage::ServerAuth, Usage::ClientAuth] {
                assert!(permits(cert, usage), "{:?} {usage}", cert.ext_key_usage());
            }
        }
    }

    #[test]
    fn server_gated_crypto_is_not_server_auth() {
        // Found by the differential tests against Go 1.19 and 1.24: checkChainForKeyUsage
        // compares usages exactly; SGC stood in for serverAuth only before Go 1.10.
        for sgc in [
            vec![1, 3, 6, 1, 4, 1, 311, 10, 3, 3],
            vec![2, 16, 840, 1, 113730, 4, 1],
        ] {
            let cert = with_ekus(vec![Eku::Other(sgc), Eku::ClientAuth]);
            assert!(
                !permits(&cert, Usage::ServerAuth),
                "{:?}",
                cert.ext_key_usage()
            );
            assert!(permits(&cert, Usage::ClientAuth));
        }
    }

    #[test]
    fn listed_usages_permit_only_themselves() {
        let server = with_ekus(vec![Eku::ServerAuth]);
        assert!(permits(&server, Usage::ServerAuth));
        assert!(!permits(&server, Usage::ClientAuth));
        let client = with_ekus(vec![Eku::ClientAuth]);
        assert!(!permits(&client, Usage::ServerAuth));
        assert!(permits(&client, Usage::ClientAuth));
        // Usages Go does not know, or other known ones, permit neither.
        for cert in [
            with_ekus(vec![Eku::Other(vec![1, 3, 6, 1, 4, 1, 99999, 1])]),
            with_ekus(vec![Eku::CodeSigning, Eku::EmailProtection]),
        ] {
            for usage in [Usage::ServerAuth, Usage::ClientAuth] {
                assert!(!permits(&cert, usage), "{:?} {usage}", cert.ext_key_usage());
            }
        }
        assert!(chain_permits(
            [&server, &with_ekus(vec![])],
            Usage::ServerAuth
        ));
        assert!(!chain_permits([&server, &client], Usage::ServerAuth));
    }

    #[test]
    fn roles_ask_what_etcd_asks() {
        use Usage::{ClientAuth, ServerAuth};
        assert_eq!(Role::Peer.required_usages(), [ServerAuth, ClientAuth]);
        assert_eq!(Role::Server.required_usages(), [ServerAuth, ClientAuth]);
        assert_eq!(Role::Client.required_usages(), [ClientAuth]);
        assert!(Role::Peer.checks_hosts());
        assert!(Role::Server.checks_hosts());
        assert!(!Role::Client.checks_hosts());
        assert_eq!(ServerAuth.to_string(), "serverAuth");
        assert_eq!(ClientAuth.to_string(), "clientAuth");
        for role in [Role::Peer, Role::Server, Role::Client] {
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
        }
        assert!("member".parse::<Role>().is_err());
        // Each reason names what etcd does with the certificate.
        for (role, usage, says) in [
            (Role::Peer, ServerAuth, "serves its peer certificate"),
            (Role::Peer, ClientAuth, "--peer-client-cert-auth"),
            (
                Role::Server,
                ServerAuth,
                "serves this certificate to its clients",
            ),
            (Role::Server, ClientAuth, "etcd-io/etcd#9785"),
            (Role::Client, ClientAuth, "checks client certificates"),
        ] {
            assert!(role.why(usage).contains(says), "{role} {usage}");
        }
    }
}

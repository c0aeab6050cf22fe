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
/// single certificate: absent extension or `any` permits all; SGC counts as serverAuth).
pub fn permits(cert: &Certificate, usage: Usage) -> bool {
    let Some(ekus) = cert.ext_key_usage() else {
        return true;
    };
    if ekus.is_empty() || ekus.contains(&ExtKeyUsage::Any) {
        // An empty extension cannot be encoded validly; Go treats a parsed-empty list as absent.
        return true;
    }
    ekus.iter().any(|eku| match usage {
        Usage::ClientAuth => *eku == ExtKeyUsage::ClientAuth,
        Usage::ServerAuth => matches!(
            eku,
            ExtKeyUsage::ServerAuth
                | ExtKeyUsage::MicrosoftServerGatedCrypto
                | ExtKeyUsage::NetscapeServerGatedCrypto
        ),
    })
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

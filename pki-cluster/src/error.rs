//! The one error type of pki-cluster, and what etcd's answers mean.
//!
//! Transport failures (nothing listening, a TLS handshake refused, no answer in time) are told
//! apart from etcd's own refusals, and each refusal a membership change meets is a variant of
//! its own ([`Refusal`]), so that no caller matches on text. Every variant names the endpoint or
//! member it is about. No message names a command-line flag: a front end adds its own advice.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Errors of pki-cluster.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing answered at an endpoint (connection refused, unreachable host, DNS failure).
    #[error("cannot reach etcd at {endpoint}: {cause}{}", hint(cause))]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// What happened, in the transport's words.
        cause: String,
    },

    /// The TLS handshake with an endpoint failed.
    #[error("cannot reach etcd at {endpoint}: {cause}; the TLS handshake failed: check that the CA file is the cluster's CA, that the server certificate covers the endpoint's address (a server certificate check shows it), and that the client certificate and key are ones the cluster trusts")]
    Tls {
        /// The endpoint.
        endpoint: String,
        /// What happened.
        cause: String,
    },

    /// An endpoint did not answer within the deadline (dial plus command timeout).
    #[error("cannot reach etcd at {endpoint}: no answer within {:.1}s{}", after.as_secs_f64(), if *connected { ": it accepted the connection but did not answer (hung or overloaded?)" } else { "" })]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The time it was given.
        after: Duration,
        /// Whether a connection was made (the member hangs) or not even that.
        connected: bool,
    },

    /// No endpoint answered.
    #[error("no endpoint answered:{}\ncheck the endpoints, that the members run, and the TLS files", causes.iter().map(|e| format!("\n  {e}")).collect::<String>())]
    NoneReachable {
        /// Why each endpoint did not answer, in the order given.
        causes: Vec<Error>,
    },

    /// etcd answered, and refused.
    #[error("etcd at {endpoint} refused: {refusal}{}", refusal.explanation().map(|e| format!("\n{e}")).unwrap_or_default())]
    Refused {
        /// The endpoint that answered.
        endpoint: String,
        /// What etcd said.
        refusal: Refusal,
    },

    /// A membership change was sent and its answer lost: it may or may not have been applied.
    #[error(
        "{cause}; the change may still have been applied: list the members before trying again"
    )]
    MaybeApplied {
        /// Why the answer was lost.
        cause: Box<Error>,
    },

    /// A member that a request needs is not there (or not in the state it needs).
    #[error("{what}")]
    Member {
        /// The member's hex ID or name.
        member: String,
        /// What is wrong.
        what: String,
    },

    /// Leadership could not be handed from one member to another; nothing else was changed.
    #[error("could not hand leadership from {from} to {to}: {what}")]
    Leadership {
        /// The leader.
        from: String,
        /// The member it was to go to.
        to: String,
        /// What happened.
        what: String,
    },

    /// A file (a TLS file of the connection, a certificate to check, a snapshot's target) is
    /// unusable; pki-core's error says which and why.
    #[error(transparent)]
    File(std::sync::Arc<pki_core::Error>),

    /// The client certificate and key given do not belong together.
    #[error(
        "{} is not the key of {}: give the key that belongs to the client certificate",
        pki_core::display_path(key),
        pki_core::display_path(cert)
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },

    /// The connection settings cannot work (no endpoint, http with TLS files, ...).
    #[error("{0}")]
    Settings(String),

    /// The request cannot be carried out as given (a file in the wrong place, a CA that cannot
    /// be told, a hook missing): says what to give instead.
    #[error("{0}")]
    Input(String),

    /// Writing a file (a snapshot) failed.
    #[error("cannot write {}: {cause}", pki_core::display_path(path))]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: String,
    },

    /// A snapshot streamed from etcd is not intact.
    #[error(
        "the snapshot from {endpoint} is not intact ({why}); nothing was written to {}",
        pki_core::display_path(path)
    )]
    BadSnapshot {
        /// Where it came from.
        endpoint: String,
        /// Where it would have gone.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },

    /// A hook the caller supplied (starting a member, ...) failed.
    #[error("{0}")]
    Hook(String),
}

impl Error {
    /// Whether the endpoint could not be reached at all (as opposed to etcd refusing).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. }
                | Error::Tls { .. }
                | Error::Timeout { .. }
                | Error::NoneReachable { .. }
        )
    }

    /// What etcd refused, when it did.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Refused { refusal, .. } => Some(refusal),
            _ => None,
        }
    }

    /// The endpoint the error is about, if one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Error::Unreachable { endpoint, .. }
            | Error::Tls { endpoint, .. }
            | Error::Timeout { endpoint, .. }
            | Error::Refused { endpoint, .. }
            | Error::BadSnapshot { endpoint, .. } => Some(endpoint),
            _ => None,
        }
    }
}

impl From<pki_core::Error> for Error {
    fn from(e: pki_core::Error) -> Self {
        Error::File(std::sync::Arc::new(e))
    }
}

/// Result alias of pki-cluster.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Each refusal etcd returns to a membership change or a request, as its own variant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// `too many learner members in cluster`.
    TooManyLearners,
    /// `can only promote a learner member which is in sync with leader`.
    LearnerNotInSync,
    /// `can only promote a learner member`: the member is a voter already.
    NotALearner,
    /// `member not found`.
    MemberNotFound,
    /// `unhealthy cluster`: etcd's strict reconfiguration check (members connected for less
    /// than 5 s).
    UnhealthyCluster,
    /// `Peer URLs already exists`.
    PeerUrlExists,
    /// `re-configuration failed due to not enough started members`.
    NotEnoughStartedMembers,
    /// `member ID already exist`.
    MemberIdExists,
    /// `request timed out`: accepted but not committed in time.
    RequestTimedOut,
    /// `no leader`.
    NoLeader,
    /// `rpc not supported for learner`.
    NotSupportedForLearner,
    /// `permission denied` (authentication is enabled).
    PermissionDenied,
    /// Anything else etcd said.
    Other(String),
}

impl Refusal {
    /// Sorts etcd's message into a variant.
    pub fn from_message(message: &str) -> Refusal {
        let lower = message.to_ascii_lowercase();
        // Longest patterns first: "can only promote a learner member" is a prefix of the other.
        const PATTERNS: &[(&str, Refusal)] = &[
            (
                "too many learner members in cluster",
                Refusal::TooManyLearners,
            ),
            (
                "can only promote a learner member which is in sync with leader",
                Refusal::LearnerNotInSync,
            ),
            ("can only promote a learner member", Refusal::NotALearner),
            ("member not found", Refusal::MemberNotFound),
            ("unhealthy cluster", Refusal::UnhealthyCluster),
            ("peer urls already exists", Refusal::PeerUrlExists),
            (
                "not enough started members",
                Refusal::NotEnoughStartedMembers,
            ),
            ("member id already exist", Refusal::MemberIdExists),
            ("request timed out", Refusal::RequestTimedOut),
            ("no leader", Refusal::NoLeader),
            (
                "rpc not supported for learner",
                Refusal::NotSupportedForLearner,
            ),
            ("permission denied", Refusal::PermissionDenied),
        ];
        PATTERNS
            .iter()
            .find(|(pattern, _)| lower.contains(pattern))
            .map_or_else(|| Refusal::Other(message.to_string()), |(_, r)| r.clone())
    }

    /// What etcd's message means and what usually comes next, in words (no command names).
    pub fn explanation(&self) -> Option<&'static str> {
        Some(match self {
            Refusal::TooManyLearners => "etcd 3.4 and 3.5 allow one learner at a time (3.6: as many as its --max-learners, default 1). Promote the existing learner once it has caught up, or remove it, then add the new member.",
            Refusal::LearnerNotInSync => "The learner has not caught up with the leader's log yet. Wait for it; if it never catches up, check that it runs and can reach the other members, and that its peer certificate covers it.",
            Refusal::NotALearner => "The member is already a voting member: there is nothing to promote.",
            Refusal::MemberNotFound => "No member has that ID: list the members (IDs are hex).",
            Refusal::UnhealthyCluster => "etcd accepts membership changes only when every member has been connected for a few seconds (its strict reconfiguration check). Check every endpoint's health: start or remove any member that is down; a cluster that just started needs about 5 seconds.",
            Refusal::PeerUrlExists => "Another member already has this peer URL, often a failed earlier add: find it in the member list and remove it before adding again.",
            Refusal::NotEnoughStartedMembers => "Removing this member would leave fewer started members than a quorum needs. Start the stopped members first, or add a replacement before removing.",
            Refusal::MemberIdExists => "A member with this ID exists: list the members and remove the stale one.",
            Refusal::RequestTimedOut => "The member accepted the request but the cluster did not commit it in time: it may have lost its quorum or leader. Check the endpoints' status (which is leader) and health.",
            Refusal::NoLeader => "The cluster has no leader: a quorum of voting members is not reachable. Check the endpoints' health and bring members back.",
            Refusal::NotSupportedForLearner => "This endpoint is a learner, which serves only status and serializable reads: send the request to a voting member's endpoint.",
            Refusal::PermissionDenied => "Authentication is enabled on this cluster and the client certificate's user lacks the permission: use a root client certificate.",
            Refusal::Other(_) => return None,
        })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::TooManyLearners => "etcdserver: too many learner members in cluster",
            Refusal::LearnerNotInSync => {
                "etcdserver: can only promote a learner member which is in sync with leader"
            }
            Refusal::NotALearner => "etcdserver: can only promote a learner member",
            Refusal::MemberNotFound => "etcdserver: member not found",
            Refusal::UnhealthyCluster => "etcdserver: unhealthy cluster",
            Refusal::PeerUrlExists => "etcdserver: Peer URLs already exists",
            Refusal::NotEnoughStartedMembers => {
                "etcdserver: re-configuration failed due to not enough started members"
            }
            Refusal::MemberIdExists => "etcdserver: member ID already exist",
            Refusal::RequestTimedOut => "etcdserver: request timed out",
            Refusal::NoLeader => "etcdserver: no leader",
            Refusal::NotSupportedForLearner => "etcdserver: rpc not supported for learner",
            Refusal::PermissionDenied => "etcdserver: permission denied",
            Refusal::Other(message) => message,
        })
    }
}

/// What usually causes a transport failure.
fn hint(cause: &str) -> &'static str {
    let lower = cause.to_ascii_lowercase();
    if lower.contains("refused") {
        "; nothing listens there: is the member running, and is the address and port right?"
    } else if lower.contains("timed out") || lower.contains("timeout") || lower.contains("deadline")
    {
        "; no answer in time: is the member running and reachable?"
    } else {
        ""
    }
}

/// Sorts an etcd-client error into unreachable, TLS, timeout or refused.
pub(crate) fn classify(
    endpoint: &str,
    error: etcd_client::Error,
    command_timeout: Duration,
) -> Error {
    use etcd_client::Error as E;
    let unreachable = |cause: String| transport(endpoint, cause);
    match error {
        // etcd's own errors ("etcdserver: ...") are answers, whatever gRPC code carries them
        // (several use Unavailable).
        E::GRpcStatus(status)
            if status.message().starts_with("etcdserver:")
                || status.message().starts_with("etcdserver ") =>
        {
            Error::Refused {
                endpoint: endpoint.to_string(),
                refusal: Refusal::from_message(status.message()),
            }
        }
        E::GRpcStatus(status) => match status.code() {
            tonic::Code::Unavailable => {
                unreachable(transport_text(status.message(), status_chain(&status)))
            }
            tonic::Code::DeadlineExceeded => Error::Timeout {
                endpoint: endpoint.to_string(),
                after: command_timeout,
                connected: true,
            },
            tonic::Code::Unknown
                if status.message().contains("transport") || status.message().contains("tls") =>
            {
                unreachable(transport_text(status.message(), status_chain(&status)))
            }
            _ => Error::Refused {
                endpoint: endpoint.to_string(),
                refusal: Refusal::from_message(status.message()),
            },
        },
        E::TransportError(e) => unreachable(transport_text(&e.to_string(), error_chain(&e))),
        E::IoError(e) => unreachable(e.to_string()),
        E::InvalidUri(e) => Error::Settings(format!("{endpoint}: invalid endpoint URL: {e}")),
        E::InvalidArgs(e) => Error::Settings(format!("{endpoint}: {e}")),
        other => Error::Refused {
            endpoint: endpoint.to_string(),
            refusal: Refusal::Other(other.to_string()),
        },
    }
}

/// Unreachable, or a TLS failure when the transport's words say so.
fn transport(endpoint: &str, cause: String) -> Error {
    let lower = cause.to_ascii_lowercase();
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
    {
        Error::Tls {
            endpoint: endpoint.to_string(),
            cause,
        }
    } else {
        Error::Unreachable {
            endpoint: endpoint.to_string(),
            cause,
        }
    }
}

fn status_chain(status: &tonic::Status) -> String {
    use std::error::Error as _;
    status.source().map(error_chain).unwrap_or_default()
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut current = e.source();
    while let Some(cause) = current {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = cause.source();
    }
    parts.join(": ")
}

/// The transport's own words, with its cause chain.
fn transport_text(message: &str, chain: String) -> String {
    if chain.is_empty() {
        message.to_string()
    } else {
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runbook_refusal_is_its_own_variant_with_an_explanation() {
        for (message, refusal) in [
            (
                "etcdserver: too many learner members in cluster",
                Refusal::TooManyLearners,
            ),
            (
                "etcdserver: can only promote a learner member which is in sync with leader",
                Refusal::LearnerNotInSync,
            ),
            (
                "etcdserver: can only promote a learner member",
                Refusal::NotALearner,
            ),
            ("etcdserver: member not found", Refusal::MemberNotFound),
            ("etcdserver: unhealthy cluster", Refusal::UnhealthyCluster),
            (
                "etcdserver: Peer URLs already exists",
                Refusal::PeerUrlExists,
            ),
            (
                "etcdserver: re-configuration failed due to not enough started members",
                Refusal::NotEnoughStartedMembers,
            ),
        ] {
            let r = Refusal::from_message(message);
            assert_eq!(r, refusal, "{message}");
            assert!(r.explanation().is_some(), "{message}");
            assert_eq!(
                r.to_string().to_ascii_lowercase(),
                message.to_ascii_lowercase()
            );
        }
        assert!(Refusal::from_message("etcdserver: something new")
            .explanation()
            .is_none());
        assert!(Refusal::LearnerNotInSync
            .explanation()
            .unwrap()
            .contains("caught up"));
    }

    #[test]
    fn transport_failures_are_sorted() {
        assert!(matches!(
            transport("e", "invalid peer certificate: UnknownIssuer".into()),
            Error::Tls { .. }
        ));
        let refused = transport("e", "Connection refused (os error 111)".into());
        assert!(
            refused.to_string().contains("nothing listens there"),
            "{refused}"
        );
        assert!(refused.is_unreachable());
    }
}

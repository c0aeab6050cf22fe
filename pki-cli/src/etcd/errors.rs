//! What etcd's answers mean and what to do about them.
//!
//! Transport failures (nothing listening, TLS handshake rejected, timeouts) are "unreachable";
//! gRPC errors from etcd are "refused", and each of the refusals the runbook meets gets a plain
//! explanation and the next step. Both exit 3.

use std::fmt;

use crate::etcd::connect::Etcd;
use crate::exit::{Code, Failure};

/// A failed request.
#[derive(Debug, Clone)]
pub enum EtcdError {
    /// The endpoint did not answer or the TLS handshake failed.
    Unreachable { endpoint: String, cause: String },
    /// No endpoint answered.
    NoneReachable { causes: Vec<(String, String)> },
    /// etcd answered with an error.
    Refused {
        endpoint: String,
        message: String,
        advice: Option<&'static str>,
    },
}

impl EtcdError {
    /// The error etcd sent, if it answered.
    pub fn etcd_message(&self) -> Option<&str> {
        match self {
            EtcdError::Refused { message, .. } => Some(message),
            _ => None,
        }
    }
}

impl fmt::Display for EtcdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtcdError::Unreachable { endpoint, cause } => {
                write!(f, "cannot reach etcd at {endpoint}: {cause}")
            }
            EtcdError::NoneReachable { causes } => {
                write!(f, "no endpoint answered:")?;
                for (endpoint, cause) in causes {
                    write!(f, "\n  {endpoint}: {cause}")?;
                }
                write!(f, "\ncheck --endpoints, that the members run, and the TLS files (--cacert --cert --key)")
            }
            EtcdError::Refused {
                endpoint,
                message,
                advice,
            } => {
                write!(f, "etcd at {endpoint} refused: {message}")?;
                if let Some(advice) = advice {
                    write!(f, "\n{advice}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<EtcdError> for Failure {
    fn from(e: EtcdError) -> Self {
        Failure {
            code: Code::Etcd,
            error: anyhow::anyhow!("{e}"),
        }
    }
}

/// Sorts an etcd-client error into unreachable or refused.
pub fn classify(endpoint: &str, error: etcd_client::Error, etcd: &Etcd) -> EtcdError {
    use etcd_client::Error as E;
    let unreachable = |cause: String| EtcdError::Unreachable {
        endpoint: endpoint.to_string(),
        cause,
    };
    match error {
        // etcd's own errors ("etcdserver: ...") are answers, whatever gRPC code carries them
        // (several use Unavailable).
        E::GRpcStatus(status)
            if status.message().starts_with("etcdserver:")
                || status.message().starts_with("etcdserver ") =>
        {
            let message = status.message().to_string();
            EtcdError::Refused {
                endpoint: endpoint.to_string(),
                advice: advice(&message),
                message,
            }
        }
        E::GRpcStatus(status) => match status.code() {
            tonic::Code::Unavailable => {
                unreachable(transport_cause(status.message(), status_chain(&status)))
            }
            tonic::Code::DeadlineExceeded => unreachable(format!(
                "no answer within --command-timeout ({:?}){}",
                etcd.command_timeout(),
                if status.message().is_empty() {
                    String::new()
                } else {
                    format!(": {}", status.message())
                }
            )),
            tonic::Code::Unknown
                if status.message().contains("transport") || status.message().contains("tls") =>
            {
                unreachable(transport_cause(status.message(), status_chain(&status)))
            }
            _ => {
                let message = status.message().to_string();
                EtcdError::Refused {
                    endpoint: endpoint.to_string(),
                    advice: advice(&message),
                    message,
                }
            }
        },
        E::TransportError(e) => unreachable(transport_cause(&e.to_string(), error_chain(&e))),
        E::IoError(e) => unreachable(e.to_string()),
        E::InvalidUri(e) => unreachable(format!("invalid endpoint URL: {e}")),
        E::InvalidArgs(e) => unreachable(e),
        other => EtcdError::Refused {
            endpoint: endpoint.to_string(),
            message: other.to_string(),
            advice: None,
        },
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

/// A transport failure in words, with what usually causes it.
fn transport_cause(message: &str, chain: String) -> String {
    let text = if chain.is_empty() {
        message.to_string()
    } else {
        chain
    };
    let lower = text.to_ascii_lowercase();
    let hint = if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
    {
        "; the TLS handshake failed: check that --cacert is the cluster's CA, that the server certificate covers the endpoint's address (etcd-pki check --role server), and that --cert/--key are a client certificate the cluster trusts"
    } else if lower.contains("refused") {
        "; nothing listens there: is the member running, and is the address and port right?"
    } else if lower.contains("timed out") || lower.contains("timeout") || lower.contains("deadline")
    {
        "; no answer within --dial-timeout: is the member running and reachable?"
    } else {
        ""
    };
    format!("{text}{hint}")
}

/// What to do about each refusal the runbook meets.
pub fn advice(message: &str) -> Option<&'static str> {
    const ADVICE: &[(&str, &str)] = &[
        (
            "too many learner members in cluster",
            "etcd 3.4 and 3.5 allow one learner at a time (3.6: as many as --max-learners, default 1). Promote the existing learner once it has caught up (etcd-pki member promote ID --wait) or remove it (etcd-pki member remove ID), then add the new member.",
        ),
        (
            "can only promote a learner member which is in sync with leader",
            "The learner has not caught up with the leader's log yet. Wait for it (etcd-pki member promote ID --wait); if it never catches up, check that it runs and can reach the other members, and that its certificates cover it (etcd-pki check --role peer).",
        ),
        (
            "can only promote a learner member",
            "The member is already a voting member: there is nothing to promote (etcd-pki member list shows IS LEARNER false).",
        ),
        (
            "member not found",
            "No member has that ID: list the members with etcd-pki member list (IDs are hex).",
        ),
        (
            "unhealthy cluster",
            "etcd accepts membership changes only when every member has been connected for a few seconds (--strict-reconfig-check). Check etcd-pki endpoint health --cluster: start or remove any member that is down; a cluster that just started needs about 5 seconds.",
        ),
        (
            "peer urls already exists",
            "Another member already has this peer URL, often a failed earlier add: find it with etcd-pki member list and remove it (etcd-pki member remove ID) before adding again.",
        ),
        (
            "not enough started members",
            "Removing this member would leave fewer started members than a quorum needs. Start the stopped members first, or add a replacement before removing.",
        ),
        (
            "member id already exist",
            "A member with this ID exists: list the members and remove the stale one.",
        ),
        (
            "request timed out",
            "The member accepted the request but the cluster did not commit it in time: it may have lost its quorum or leader. Check etcd-pki endpoint status --cluster (IS LEADER) and endpoint health --cluster.",
        ),
        (
            "no leader",
            "The cluster has no leader: a quorum of voting members is not reachable. Check etcd-pki endpoint health --cluster and bring members back.",
        ),
        (
            "rpc not supported for learner",
            "This endpoint is a learner, which serves only status and serializable reads: send the request to a voting member's endpoint.",
        ),
        (
            "permission denied",
            "Authentication is enabled on this cluster and the client certificate's user lacks the permission: use a root client certificate.",
        ),
    ];
    let lower = message.to_ascii_lowercase();
    ADVICE
        .iter()
        .find(|(pattern, _)| lower.contains(pattern))
        .map(|(_, advice)| *advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runbook_errors_have_advice() {
        for message in [
            "etcdserver: too many learner members in cluster",
            "etcdserver: can only promote a learner member which is in sync with leader",
            "etcdserver: can only promote a learner member",
            "etcdserver: member not found",
            "etcdserver: unhealthy cluster",
            "etcdserver: Peer URLs already exists",
            "etcdserver: re-configuration failed due to not enough started members",
        ] {
            assert!(advice(message).is_some(), "{message}");
        }
        assert!(advice(
            "etcdserver: can only promote a learner member which is in sync with leader"
        )
        .unwrap()
        .contains("caught up"));
        assert!(advice("etcdserver: can only promote a learner member")
            .unwrap()
            .contains("already a voting member"));
        assert_eq!(advice("something else"), None);
    }
}

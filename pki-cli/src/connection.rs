//! From etcdctl's flags and `ETCDCTL_*` to pki-cluster's connection; the async runtime, which
//! only commands that talk to etcd start; and pki-cluster's errors as this CLI shows them: exit
//! code 3 for etcd unreachable or refusing, 2 for bad input, with the next step named as a
//! command of this tool.

use std::future::Future;

use anyhow::anyhow;
use pki_cluster::{ConnectOptions, Connection, Error, Refusal};

use crate::cli::ConnectionArgs;
use crate::errors::core_error_text;
use crate::exit::{usage, Code, Failure};

/// The connection the flags describe (TLS files checked now: bad ones exit 2).
pub fn connect(args: &ConnectionArgs) -> Result<Connection, Failure> {
    let mut options = ConnectOptions::new(args.endpoints.iter().cloned())
        .dial_timeout(args.dial_timeout)
        .command_timeout(args.command_timeout);
    if let Some(ca) = &args.cacert {
        options = options.ca_file(ca);
    }
    options.cert_file = args.cert.clone();
    options.key_file = args.key.clone();
    Connection::new(options).map_err(Failure::from)
}

/// Runs an async block on a current-thread runtime: only commands that talk to etcd pay for it.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(anyhow!("cannot start the async runtime: {e}")))?;
    let output = runtime.block_on(future);
    // A DNS lookup still running on a blocking thread (a resolver that hangs) must not keep the
    // process past its deadline: the runtime is not waited for.
    runtime.shutdown_background();
    Ok(output)
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::File(inner) => match std::sync::Arc::try_unwrap(inner) {
                Ok(core) => Failure::from(core),
                Err(shared) => usage(anyhow!("{}", core_error_text(&shared))),
            },
            Error::KeyMismatch { .. } | Error::Settings(_) | Error::Write { .. } => {
                usage(anyhow!("{}", error_text(&e)))
            }
            Error::Member { .. } | Error::Input(_) => usage(anyhow!("{}", error_text(&e))),
            Error::Hook(_) => Failure {
                code: Code::Problem,
                error: anyhow!("{}", error_text(&e)),
            },
            _ => Failure {
                code: Code::Etcd,
                error: anyhow!("{}", error_text(&e)),
            },
        }
    }
}

/// An error as this CLI says it: etcd's refusals with the command that comes next, timeouts
/// with the flags that bound them.
pub fn error_text(e: &Error) -> String {
    match e {
        Error::Refused { endpoint, refusal } => match advice(refusal) {
            Some(advice) => format!("etcd at {endpoint} refused: {refusal}\n{advice}"),
            None => format!("etcd at {endpoint} refused: {refusal}"),
        },
        Error::Timeout {
            endpoint,
            after,
            connected,
        } => format!(
            "cannot reach etcd at {endpoint}: no answer within {:.1}s (--dial-timeout + --command-timeout){}",
            after.as_secs_f64(),
            if *connected {
                ": it accepted the connection but did not answer (hung or overloaded?)"
            } else {
                "; is the member running and reachable?"
            }
        ),
        Error::Tls { endpoint, cause } => format!(
            "cannot reach etcd at {endpoint}: {cause}; the TLS handshake failed: check that --cacert is the cluster's CA, that the server certificate covers the endpoint's address (etcd-pki check --role server), and that --cert/--key are a client certificate the cluster trusts"
        ),
        Error::NoneReachable { causes } => {
            let mut text = String::from("no endpoint answered:");
            for cause in causes {
                text.push_str(&format!("\n  {}", error_text(cause)));
            }
            text.push_str(
                "\ncheck --endpoints, that the members run, and the TLS files (--cacert --cert --key)",
            );
            text
        }
        Error::MaybeApplied { cause } => format!(
            "{}; the change may still have been applied: check with etcd-pki member list before trying again",
            error_text(cause)
        ),
        Error::Settings(what) => format!(
            "{what} (--endpoints, --cacert, --cert, --key)"
        ),
        Error::File(core) => core_error_text(core),
        other => other.to_string(),
    }
}

/// What to do about each refusal the runbook meets, as commands of this tool.
pub fn advice(refusal: &Refusal) -> Option<&'static str> {
    Some(match refusal {
        Refusal::TooManyLearners => "etcd 3.4 and 3.5 allow one learner at a time (3.6: as many as --max-learners, default 1). Promote the existing learner once it has caught up (etcd-pki member promote ID --wait) or remove it (etcd-pki member remove ID), then add the new member.",
        Refusal::LearnerNotInSync => "The learner has not caught up with the leader's log yet. Wait for it (etcd-pki member promote ID --wait); if it never catches up, check that it runs and can reach the other members, and that its certificates cover it (etcd-pki check --role peer).",
        Refusal::NotALearner => "The member is already a voting member: there is nothing to promote (etcd-pki member list shows IS LEARNER false).",
        Refusal::MemberNotFound => "No member has that ID: list the members with etcd-pki member list (IDs are hex).",
        Refusal::UnhealthyCluster => "etcd accepts membership changes only when every member has been connected for a few seconds (--strict-reconfig-check). Check etcd-pki endpoint health --cluster: start or remove any member that is down; a cluster that just started needs about 5 seconds.",
        Refusal::PeerUrlExists => "Another member already has this peer URL, often a failed earlier add: find it with etcd-pki member list and remove it (etcd-pki member remove ID) before adding again.",
        Refusal::NotEnoughStartedMembers => "Removing this member would leave fewer started members than a quorum needs. Start the stopped members first, or add a replacement before removing.",
        Refusal::MemberIdExists => "A member with this ID exists: list the members and remove the stale one.",
        Refusal::RequestTimedOut => "The member accepted the request but the cluster did not commit it in time: it may have lost its quorum or leader. Check etcd-pki endpoint status --cluster (IS LEADER) and endpoint health --cluster.",
        Refusal::NoLeader => "The cluster has no leader: a quorum of voting members is not reachable. Check etcd-pki endpoint health --cluster and bring members back.",
        Refusal::NotSupportedForLearner => "This endpoint is a learner, which serves only status and serializable reads: send the request to a voting member's endpoint.",
        Refusal::PermissionDenied => "Authentication is enabled on this cluster and the client certificate's user lacks the permission: use a root client certificate.",
        _ => return None,
    })
}

/// A connection to `endpoints` as the member of `config` connects: with the certificate it
/// presents as a client (etcd 3.5's `--client-cert-file`, else its server certificate) and its
/// trusted CA, unless `ca` is given; the flags' timeouts. `None` when the member has no such
/// files or they do not load.
pub fn member_connection(
    config: &pki_cluster::member_config::MemberConfig,
    endpoints: Vec<String>,
    flags: &crate::cli::ConnectionArgs,
    ca: Option<std::path::PathBuf>,
) -> Option<Connection> {
    use pki_cluster::member_config::Key;
    let path = |k: Key| {
        config
            .get(k)
            .filter(|v| !v.value.is_empty())
            .map(|v| config.host_path(std::path::Path::new(&v.value)))
    };
    let (cert, key) = match (path(Key::ClientCertFile), path(Key::ClientKeyFile)) {
        (Some(c), Some(k)) => (c, k),
        _ => (path(Key::CertFile)?, path(Key::KeyFile)?),
    };
    let mut options = ConnectOptions::new(endpoints)
        .dial_timeout(flags.dial_timeout)
        .command_timeout(flags.command_timeout)
        .client_cert(cert, key);
    if let Some(ca) = ca.or_else(|| path(Key::TrustedCaFile)) {
        options = options.ca_file(ca);
    }
    Connection::new(options).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runbook_refusals_name_the_next_command() {
        for refusal in [
            Refusal::TooManyLearners,
            Refusal::LearnerNotInSync,
            Refusal::NotALearner,
            Refusal::MemberNotFound,
            Refusal::UnhealthyCluster,
            Refusal::PeerUrlExists,
        ] {
            assert!(advice(&refusal).is_some(), "{refusal}");
        }
        assert!(advice(&Refusal::LearnerNotInSync)
            .unwrap()
            .contains("caught up"));
        assert!(advice(&Refusal::NotALearner)
            .unwrap()
            .contains("already a voting member"));
        assert_eq!(advice(&Refusal::Other("x".into())), None);
    }
}

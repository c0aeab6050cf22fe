//! Shrinking a cluster by one member (the runbook's section 3) as one operation: a snapshot, the
//! removal with the quorum rules of [`crate::remove_member`] (a leader is handed on first, to the
//! most up-to-date healthy voter, so that no election stops writes), and the remaining nodes'
//! new `CLUSTER` line in the output directory. Progress is reported as [`ScaleInEvent`]s.

use std::path::PathBuf;

use pki_core::write::{write_all_as, FileWrite};
use pki_core::{CheckId, Finding};
use time::OffsetDateTime;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::leader::{move_leadership, successor};
use crate::membership::{removal_failures, retry_while_unhealthy, send_remove};
use crate::node_files::{cluster_line, existing_nodes_file};
use crate::snapshot::{save_snapshot, SavedSnapshot};
use crate::state::{member_list, ClusterState, MemberInfo};

/// What to shrink the cluster by.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScaleInRequest {
    /// The member, by hex ID or name.
    pub member: String,
    /// Where the snapshot and the remaining nodes' CLUSTER line go.
    pub out_dir: PathBuf,
    /// Remove even if the rest cannot keep quorum.
    pub force: bool,
}

impl ScaleInRequest {
    /// Removes `member`, writing into `out_dir`.
    pub fn new(member: impl Into<String>, out_dir: impl Into<PathBuf>) -> ScaleInRequest {
        ScaleInRequest {
            member: member.into(),
            out_dir: out_dir.into(),
            force: false,
        }
    }

    /// Remove even if the rest cannot keep quorum.
    #[must_use]
    pub fn force(mut self) -> ScaleInRequest {
        self.force = true;
        self
    }
}

/// What a scale-in did, step by step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ScaleInEvent {
    /// The rules refused the removal: nothing was changed.
    Refused {
        /// The member.
        member: MemberInfo,
        /// The rules it fails.
        failures: Vec<Finding>,
    },
    /// The snapshot before the change.
    SnapshotSaved(SavedSnapshot),
    /// Leadership was handed on before the leader was removed.
    LeadershipMoved {
        /// The old leader (the member being removed).
        from: MemberInfo,
        /// The new one.
        to: MemberInfo,
    },
    /// Handing leadership on failed: nothing was removed (the error follows).
    LeadershipMoveFailed {
        /// The leader.
        from: MemberInfo,
        /// The member it was to go to.
        to: MemberInfo,
    },
    /// The member is the leader and no healthy voter can take over: its removal forces an
    /// election.
    NoSuccessor {
        /// The leader.
        leader: MemberInfo,
    },
    /// etcd refused the removal as "unhealthy cluster"; retrying (once).
    RetryingUnhealthy,
    /// The member was removed.
    Removed {
        /// The member.
        member: MemberInfo,
        /// The cluster's ID.
        cluster_id: u64,
    },
    /// The remaining nodes' CLUSTER line, and the file it was written to.
    RemainingCluster {
        /// The member that was removed.
        removed: MemberInfo,
        /// The file.
        file: PathBuf,
        /// The line's value.
        cluster: String,
    },
}

/// How a scale-in ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScaleInOutcome {
    /// Removed.
    Removed,
    /// Refused: nothing was changed.
    Refused,
}

/// Runs a scale-in (see the module docs).
///
/// # Errors
/// A name no member has, etcd unreachable or refusing; leadership that could not be handed on
/// (nothing was removed then).
pub async fn scale_in(
    conn: &Connection,
    req: &ScaleInRequest,
    mut events: impl FnMut(ScaleInEvent),
) -> Result<ScaleInOutcome> {
    let state = ClusterState::fetch(conn).await?;
    let target = state.list.resolve(&req.member)?.clone();
    // A leader is not refused here: scale-in hands leadership on before it removes one.
    let failing: Vec<Finding> = removal_failures(&state, &target)
        .into_iter()
        .filter(|f| f.check != CheckId::NotTheLeader)
        .collect();
    if !failing.is_empty() && !req.force {
        events(ScaleInEvent::Refused {
            member: target,
            failures: failing,
        });
        return Ok(ScaleInOutcome::Refused);
    }
    std::fs::create_dir_all(&req.out_dir).map_err(|e| Error::Write {
        path: req.out_dir.clone(),
        cause: e.to_string(),
    })?;
    let stamp = OffsetDateTime::now_utc().unix_timestamp();
    let saved = save_snapshot(
        conn,
        req.out_dir.join(format!(
            "snapshot-before-removing-{}-{stamp}.db",
            target.name
        )),
    )
    .await?;
    events(ScaleInEvent::SnapshotSaved(saved));
    let id = target.id;
    if state.leader() == Some(id) {
        match successor(&state, id) {
            Some(next) => {
                if let Err(e) = move_leadership(conn, &target, next).await {
                    events(ScaleInEvent::LeadershipMoveFailed {
                        from: target.clone(),
                        to: next.clone(),
                    });
                    return Err(e);
                }
                events(ScaleInEvent::LeadershipMoved {
                    from: target.clone(),
                    to: next.clone(),
                });
            }
            None => events(ScaleInEvent::NoSuccessor {
                leader: target.clone(),
            }),
        }
    }
    let removed = retry_while_unhealthy(
        || send_remove(conn, id, state.list.cluster_id),
        || events(ScaleInEvent::RetryingUnhealthy),
    )
    .await;
    let cluster_id = match removed {
        Ok(cluster_id) => cluster_id,
        // The answer was lost: the member list says whether the removal happened.
        Err(e @ (Error::MaybeApplied { .. } | Error::NoneReachable { .. })) => {
            match member_list(conn).await {
                Ok(list) if list.members.iter().all(|m| m.id != id) => list.cluster_id,
                _ => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    events(ScaleInEvent::Removed {
        member: target.clone(),
        cluster_id,
    });
    let remaining: Vec<(String, Vec<String>)> = state
        .list
        .members
        .iter()
        .filter(|m| m.id != id)
        .map(|m| (m.name.clone(), m.peer_urls.clone()))
        .collect();
    let cluster = cluster_line(&remaining);
    let mut names: Vec<String> = remaining.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    let file = req.out_dir.join("existing-nodes.txt");
    write_all_as(
        "scale-in",
        &[FileWrite::public(
            &file,
            existing_nodes_file(&names, &cluster),
        )],
    )?;
    events(ScaleInEvent::RemainingCluster {
        removed: target,
        file,
        cluster,
    });
    Ok(ScaleInOutcome::Removed)
}

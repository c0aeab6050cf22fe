//! Handing leadership away from a member about to be removed, as `etcdctl move-leader` does:
//! the request goes to the leader itself and names a started, healthy voter to take over, the
//! most up to date one. Removing the leader otherwise forces an election, and the cluster
//! accepts no writes until it ends.

use std::time::Duration;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::state::{client_endpoint, status, ClusterState, MemberInfo};

/// The voter that should take over from `leader`: started, healthy, not a learner, with the
/// highest applied raft index. `None` when there is none (only possible with `--force`).
pub fn successor(state: &ClusterState, leader: u64) -> Option<&MemberInfo> {
    let applied = |id: u64| {
        state
            .status
            .iter()
            .find(|(i, _)| *i == id)
            .and_then(|(_, s)| s.status.as_ref().ok())
            .map_or(0, |s| s.raft_applied_index)
    };
    state
        .list
        .members
        .iter()
        .filter(|m| m.id != leader && !m.is_learner && m.started() && state.is_healthy(m.id))
        .max_by_key(|m| applied(m.id))
}

/// Moves leadership from `leader` to `to` and waits until `to` reports itself leader.
///
/// # Errors
/// The leader cannot be reached or refuses, or leadership has not moved within a few seconds;
/// the cluster is then as it was, or has only changed leader.
pub async fn move_leadership(
    etcd: &Connection,
    leader: &MemberInfo,
    to: &MemberInfo,
) -> Result<()> {
    let Some(endpoint) = client_endpoint(leader) else {
        return Err(Error::Leadership {
            from: leader.label(),
            to: to.label(),
            what: "the leader lists no client URL to send the transfer to".into(),
        });
    };
    let target = to.id;
    etcd.on(endpoint, |mut c| async move { c.move_leader(target).await })
        .await
        .map_err(|e| Error::Leadership {
            from: leader.label(),
            to: to.label(),
            what: e.to_string(),
        })?;
    // etcd answers once the transfer is done; confirm it from the new leader's side.
    let Some(to_endpoint) = client_endpoint(to) else {
        return Ok(());
    };
    for _ in 0..20 {
        if let Ok(s) = status(etcd, to_endpoint).await.status {
            if s.leader == target {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(Error::Leadership {
        from: leader.label(),
        to: to.label(),
        what: format!(
            "{} accepted the transfer but {} has not reported itself leader within 5s",
            leader.label(),
            to.label()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{EndpointStatus, Health, MemberList, MemberStatus};

    /// `(id, learner, healthy, applied index)`; every member started.
    fn state(members: &[(u64, bool, bool, u64)]) -> ClusterState {
        let endpoint = |id: u64| format!("https://10.0.0.{id}:2379");
        ClusterState {
            list: MemberList {
                cluster_id: 1,
                member_id: 1,
                raft_term: 2,
                members: members
                    .iter()
                    .map(|&(id, is_learner, _, _)| MemberInfo {
                        id,
                        name: format!("m{id}"),
                        peer_urls: vec![format!("https://10.0.0.{id}:2380")],
                        client_urls: vec![endpoint(id)],
                        is_learner,
                    })
                    .collect(),
            },
            health: members
                .iter()
                .map(|&(id, _, health, _)| {
                    let h = Health {
                        endpoint: endpoint(id),
                        health,
                        took: std::time::Duration::from_millis(1),
                        error: None,
                    };
                    (id, h)
                })
                .collect(),
            status: members
                .iter()
                .map(|&(id, is_learner, _, applied)| {
                    let s = MemberStatus {
                        member_id: id,
                        version: "3.4.23".into(),
                        db_size: 0,
                        leader: 1,
                        is_learner,
                        raft_term: 2,
                        raft_index: applied,
                        raft_applied_index: applied,
                        errors: Vec::new(),
                    };
                    let status = EndpointStatus {
                        endpoint: endpoint(id),
                        status: Ok(s),
                    };
                    (id, status)
                })
                .collect(),
        }
    }

    #[test]
    fn the_most_up_to_date_healthy_voter_takes_over() {
        let s = state(&[
            (1, false, true, 40),
            (2, false, true, 10),
            (3, false, true, 12),
            (4, true, true, 20),
            (5, false, false, 30),
        ]);
        assert_eq!(successor(&s, 1).map(|m| m.id), Some(3));
        let alone = state(&[
            (1, false, true, 40),
            (2, true, true, 40),
            (3, false, false, 9),
        ]);
        assert!(
            successor(&alone, 1).is_none(),
            "a learner or an unhealthy voter never"
        );
    }
}

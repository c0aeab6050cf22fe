//! A snapshot of the cluster: its members as etcd lists them, and for every started member its
//! health (a quorum read, as `etcdctl endpoint health` does) and status (version, leader, raft
//! indexes), fetched from all members in parallel.

use std::time::Duration;

use tokio::time::Instant;

use etcd_client::{MemberListResponse, StatusResponse};
use futures_util::future::join_all;
use serde::Serialize;

use crate::connection::{Connection, Deadline};
use crate::error::{Error, Refusal, Result};
use crate::rules::{LearnerLimit, MemberView};

/// A member as the member list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberInfo {
    /// Member ID.
    #[serde(rename = "ID")]
    pub id: u64,
    /// Name; empty while the member has not started.
    pub name: String,
    /// Peer URLs.
    #[serde(rename = "peerURLs")]
    pub peer_urls: Vec<String>,
    /// Client URLs; empty while the member has not started.
    #[serde(rename = "clientURLs")]
    pub client_urls: Vec<String>,
    /// Whether it is a learner.
    #[serde(rename = "isLearner")]
    pub is_learner: bool,
}

impl MemberInfo {
    /// Whether the member has started (etcd learns its name and client URLs then).
    pub fn started(&self) -> bool {
        !self.name.is_empty()
    }

    /// Hex ID as etcdctl prints it.
    pub fn hex_id(&self) -> String {
        format!("{:x}", self.id)
    }

    /// The name, or the hex ID for a member that has not started.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            format!("{} (unstarted)", self.hex_id())
        } else {
            self.name.clone()
        }
    }
}

/// The member list and the header it came with.
#[derive(Debug, Clone)]
pub struct MemberList {
    /// The cluster ID.
    pub cluster_id: u64,
    /// The member that answered.
    pub member_id: u64,
    /// Its raft term.
    pub raft_term: u64,
    /// The members, sorted by ID.
    pub members: Vec<MemberInfo>,
}

impl MemberList {
    fn from_response(r: &MemberListResponse) -> MemberList {
        let header = r.header();
        let mut members: Vec<MemberInfo> = r
            .members()
            .iter()
            .map(|m| MemberInfo {
                id: m.id(),
                name: m.name().to_string(),
                peer_urls: m.peer_urls().to_vec(),
                client_urls: m.client_urls().to_vec(),
                is_learner: m.is_learner(),
            })
            .collect();
        members.sort_by_key(|m| m.id);
        MemberList {
            cluster_id: header.map_or(0, |h| h.cluster_id()),
            member_id: header.map_or(0, |h| h.member_id()),
            raft_term: header.map_or(0, |h| h.raft_term()),
            members,
        }
    }

    /// Finds a member by hex ID or by name.
    ///
    /// # Errors
    /// [`Error::Member`] when no member, or several, have that ID or name.
    pub fn resolve(&self, wanted: &str) -> Result<&MemberInfo> {
        let wanted = wanted.trim();
        if let Ok(id) = u64::from_str_radix(wanted.trim_start_matches("0x"), 16) {
            if let Some(m) = self.members.iter().find(|m| m.id == id) {
                return Ok(m);
            }
        }
        let by_name: Vec<&MemberInfo> = self.members.iter().filter(|m| m.name == wanted).collect();
        match by_name.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::Member {
                member: wanted.to_string(),
                what: format!(
                    "no member has the ID or name {wanted:?}; members: {}",
                    self.members
                        .iter()
                        .map(|m| format!("{} ({})", m.hex_id(), m.label()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            _ => Err(Error::Member {
                member: wanted.to_string(),
                what: format!("several members are named {wanted:?}: use the hex ID"),
            }),
        }
    }
}

/// Health of one endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Health {
    /// The endpoint.
    pub endpoint: String,
    /// Whether it committed a proposal.
    pub health: bool,
    /// How long it took.
    pub took: Duration,
    /// Why not, when unhealthy.
    pub error: Option<Error>,
}

/// Status of one endpoint, as `etcdctl endpoint status` shows it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EndpointStatus {
    /// The endpoint.
    pub endpoint: String,
    /// The status, or why it could not be had.
    pub status: Result<MemberStatus>,
}

/// The fields of a status response.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MemberStatus {
    /// The member that answered.
    pub member_id: u64,
    /// etcd version.
    pub version: String,
    /// Database size in bytes.
    pub db_size: i64,
    /// The leader's ID.
    pub leader: u64,
    /// Whether this member is a learner.
    pub is_learner: bool,
    /// Raft term.
    pub raft_term: u64,
    /// Raft index.
    pub raft_index: u64,
    /// Raft applied index.
    pub raft_applied_index: u64,
    /// Errors the member reports (alarms).
    pub errors: Vec<String>,
}

impl MemberStatus {
    fn from_response(r: &StatusResponse) -> MemberStatus {
        MemberStatus {
            member_id: r.header().map_or(0, |h| h.member_id()),
            version: r.version().to_string(),
            db_size: r.db_size(),
            leader: r.leader(),
            is_learner: r.is_learner(),
            raft_term: r.raft_term(),
            raft_index: r.raft_index(),
            raft_applied_index: r.raft_applied_index(),
            errors: r.errors().to_vec(),
        }
    }
}

/// Fetches the member list from the first endpoint that answers.
pub async fn member_list(etcd: &Connection) -> Result<MemberList> {
    member_list_until(etcd, etcd.deadline()).await
}

/// [`member_list`] within `deadline`.
pub async fn member_list_until(etcd: &Connection, deadline: Deadline) -> Result<MemberList> {
    let (_, response) = etcd
        .on_any_until(deadline, |mut c| async move { c.member_list().await })
        .await?;
    Ok(MemberList::from_response(&response))
}

/// Checks one endpoint's health as etcdctl does, within `deadline`: a quorum read of the key
/// "health" succeeds (permission denied counts as healthy: the cluster answered).
pub async fn health_until(etcd: &Connection, endpoint: &str, deadline: Deadline) -> Health {
    let start = Instant::now();
    let mut result = etcd
        .on_until(endpoint, deadline, |mut c| async move {
            c.get("health", None).await.map(|_| ())
        })
        .await;
    // A learner refuses quorum reads; a serializable read shows it is up and serving.
    if let Err(e) = &result {
        if e.refusal() == Some(&Refusal::NotSupportedForLearner) {
            result = etcd
                .on_until(endpoint, deadline, |mut c| async move {
                    c.get(
                        "health",
                        Some(etcd_client::GetOptions::new().with_serializable()),
                    )
                    .await
                    .map(|_| ())
                })
                .await;
        }
    }
    let took = start.elapsed();
    let (health, error) = match result {
        Ok(()) => (true, None),
        Err(e) if e.refusal() == Some(&Refusal::PermissionDenied) => (true, None),
        Err(e) => (false, Some(e)),
    };
    Health {
        endpoint: endpoint.to_string(),
        health,
        took,
        error,
    }
}

/// Fetches one endpoint's status.
pub async fn status(etcd: &Connection, endpoint: &str) -> EndpointStatus {
    status_until(etcd, endpoint, etcd.deadline()).await
}

/// [`status`] within `deadline`.
pub async fn status_until(etcd: &Connection, endpoint: &str, deadline: Deadline) -> EndpointStatus {
    let result = etcd
        .on_until(endpoint, deadline, |mut c| async move { c.status().await })
        .await;
    EndpointStatus {
        endpoint: endpoint.to_string(),
        status: result.map(|r| MemberStatus::from_response(&r)),
    }
}

/// Health of many endpoints, in parallel, within one deadline.
pub async fn health_all(etcd: &Connection, endpoints: &[String]) -> Vec<Health> {
    let deadline = etcd.deadline();
    join_all(endpoints.iter().map(|e| health_until(etcd, e, deadline))).await
}

/// Status of many endpoints, in parallel, within one deadline.
pub async fn status_all(etcd: &Connection, endpoints: &[String]) -> Vec<EndpointStatus> {
    let deadline = etcd.deadline();
    join_all(endpoints.iter().map(|e| status_until(etcd, e, deadline))).await
}

/// The client URL etcd-pki talks to a member on (its first).
pub fn client_endpoint(member: &MemberInfo) -> Option<&str> {
    member.client_urls.first().map(String::as_str)
}

/// The cluster as a whole: members, with health and status of every started one.
#[derive(Debug, Clone)]
pub struct ClusterState {
    /// The member list.
    pub list: MemberList,
    /// Health by member ID (absent for unstarted members).
    pub health: Vec<(u64, Health)>,
    /// Status by member ID (absent for unstarted members).
    pub status: Vec<(u64, EndpointStatus)>,
}

impl ClusterState {
    /// Fetches the member list, then every started member's health and status in parallel,
    /// all within one deadline.
    pub async fn fetch(etcd: &Connection) -> Result<ClusterState> {
        let deadline = etcd.deadline();
        let list = member_list_until(etcd, deadline).await?;
        Ok(ClusterState::of(etcd, list, deadline).await)
    }

    /// The health and status of every started member of `list`, in parallel, by `deadline`.
    pub async fn of(etcd: &Connection, list: MemberList, deadline: Deadline) -> ClusterState {
        let started: Vec<(u64, String)> = list
            .members
            .iter()
            .filter_map(|m| client_endpoint(m).map(|e| (m.id, e.to_string())))
            .collect();
        let (healths, statuses) = tokio::join!(
            join_all(started.iter().map(|(_, e)| health_until(etcd, e, deadline))),
            join_all(started.iter().map(|(_, e)| status_until(etcd, e, deadline)))
        );
        ClusterState {
            health: started.iter().map(|(id, _)| *id).zip(healths).collect(),
            status: started.iter().map(|(id, _)| *id).zip(statuses).collect(),
            list,
        }
    }

    /// A member as the membership rules see it.
    pub fn view(&self, m: &MemberInfo) -> MemberView {
        MemberView {
            id: m.id,
            name: m.name.clone(),
            peer_urls: m.peer_urls.clone(),
            is_learner: m.is_learner,
            healthy: self.is_healthy(m.id),
        }
    }

    /// Every member as the membership rules see it.
    pub fn views(&self) -> Vec<MemberView> {
        self.list.members.iter().map(|m| self.view(m)).collect()
    }

    /// How many learners the members' etcd accepts (from the versions they report).
    pub fn learner_limit(&self) -> LearnerLimit {
        LearnerLimit::of_versions(
            self.status
                .iter()
                .filter_map(|(_, s)| s.status.as_ref().ok())
                .map(|s| s.version.as_str()),
        )
    }

    /// Whether a member answered its health check.
    pub fn is_healthy(&self, id: u64) -> bool {
        self.health.iter().any(|(i, h)| *i == id && h.health)
    }

    /// The leader's ID, as the members that answered report it.
    pub fn leader(&self) -> Option<u64> {
        self.status
            .iter()
            .filter_map(|(_, s)| s.status.as_ref().ok())
            .map(|s| s.leader)
            .find(|l| *l != 0)
    }
}

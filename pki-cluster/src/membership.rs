//! Membership changes with the checks etcdctl lacks: add (refused when the new member's
//! certificates would not let it join, or the cluster cannot take it), promote (with a wait
//! until the learner runs and has caught up, without a break, before it becomes a voter) and
//! remove (refused when the rest would lose quorum, or the member is the leader).

use std::future::Future;
use std::time::Duration;

use etcd_client::MemberAddOptions;
use futures_util::future::join_all;
use pki_core::{Finding, Status};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::connection::Connection;
use crate::error::{Error, Refusal, Result};
use crate::etcd_rules::{AppliedRules, RulesChoice};
use crate::member_certificates::{check_new_member_certificates, check_ownership, NewMemberFiles};
use crate::rules::{check_add, check_remove};
use crate::state::{
    client_endpoint, member_list, status_until, ClusterState, MemberInfo, MemberList,
};
use crate::urls::MemberUrls;

/// A member to add.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddRequest {
    /// Its name (`--name`).
    pub name: String,
    /// Its peer URLs, as etcd will record them.
    pub peer_urls: Vec<String>,
    /// Its client URLs, for the check of its server certificate (etcd learns them when it
    /// starts).
    pub client_urls: Vec<String>,
    /// Add it as a learner (the safe way to grow a cluster).
    pub learner: bool,
    /// The files it will use.
    pub files: NewMemberFiles,
    /// Add it even when its certificates fail the checks (the cluster's checks still hold).
    pub ignore_certificate_failures: bool,
    /// Which Go's rules hosts are judged by (default: the etcd the members run).
    pub rules: RulesChoice,
}

impl AddRequest {
    /// A learner named `name` with `peer_urls`.
    pub fn learner<I, S>(name: impl Into<String>, peer_urls: I) -> AddRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AddRequest {
            name: name.into(),
            peer_urls: peer_urls.into_iter().map(Into::into).collect(),
            client_urls: Vec::new(),
            learner: true,
            files: NewMemberFiles::default(),
            ignore_certificate_failures: false,
            rules: RulesChoice::default(),
        }
    }

    /// Judge hosts by these rules rather than the cluster's.
    #[must_use]
    pub fn rules(mut self, rules: RulesChoice) -> AddRequest {
        self.rules = rules;
        self
    }

    /// A voting member (added before it runs, it counts toward the quorum at once).
    #[must_use]
    pub fn as_voter(mut self) -> AddRequest {
        self.learner = false;
        self
    }

    /// The files it will use.
    #[must_use]
    pub fn files(mut self, files: NewMemberFiles) -> AddRequest {
        self.files = files;
        self
    }

    /// Its client URLs (checked against its server certificate).
    #[must_use]
    pub fn client_urls<I, S>(mut self, urls: I) -> AddRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// Add even when the certificate checks fail.
    #[must_use]
    pub fn ignore_certificate_failures(mut self) -> AddRequest {
        self.ignore_certificate_failures = true;
        self
    }
}

/// What adding a member did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AddOutcome {
    /// A check refused it: nothing was sent to etcd.
    Refused {
        /// Every check, the failures among them.
        findings: Vec<Finding>,
    },
    /// etcd added it.
    Added {
        /// Every check (with `ignore_certificate_failures`, certificate failures among them).
        findings: Vec<Finding>,
        /// The new member.
        member: AddedMember,
    },
}

/// A member etcd added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddedMember {
    /// Its ID.
    pub id: u64,
    /// The cluster's ID.
    pub cluster_id: u64,
    /// Its peer URLs as etcd recorded them.
    pub peer_urls: Vec<String>,
    /// The settings it must start with: `ETCD_NAME`, `ETCD_INITIAL_CLUSTER`,
    /// `ETCD_INITIAL_ADVERTISE_PEER_URLS`, `ETCD_INITIAL_CLUSTER_STATE` (what etcdctl prints).
    pub env: Vec<(String, String)>,
}

/// Whether a finding blocks a change: a failure, unless it is a certificate failure the caller
/// chose to override.
pub fn blocks(finding: &Finding, ignore_certificate_failures: bool) -> bool {
    finding.status == Status::Fail
        && !(ignore_certificate_failures && finding.check.is_certificate_check())
}

/// Adds a member after its certificates and the cluster's state pass the checks (see the module
/// docs). The certificates are checked before anything is asked of the cluster.
///
/// # Errors
/// A file that cannot be read, a URL that does not parse (bad input), etcd unreachable, or etcd
/// refusing the add (e.g. [`Refusal::UnhealthyCluster`] right after a start).
pub async fn add_member(conn: &Connection, req: &AddRequest) -> Result<AddOutcome> {
    let urls = MemberUrls::parse(&req.peer_urls, &[] as &[&str])?;
    let client = MemberUrls::parse(&req.peer_urls, &req.client_urls)?;
    // Client URLs only when given: etcd learns them when the member starts.
    let urls = MemberUrls {
        client: if req.client_urls.is_empty() {
            Vec::new()
        } else {
            client.client
        },
        ..urls
    };
    let now = OffsetDateTime::now_utc();
    // Every file is read before the cluster is asked (a bad one is bad input); the rules the
    // members report may judge the hosts again.
    let early = match req.rules {
        RulesChoice::Given(rules) => AppliedRules::given(rules),
        _ => AppliedRules::default(),
    };
    let mut findings = check_new_member_certificates(&req.name, &req.files, &urls, now, &early)?;
    let state = ClusterState::fetch(conn).await?;
    let rules = AppliedRules::of_cluster(req.rules, &state);
    if rules.rules != early.rules {
        findings = check_new_member_certificates(&req.name, &req.files, &urls, now, &rules)?;
    }
    findings.insert(0, rules.finding());
    check_ownership(
        &req.name,
        &req.files,
        &urls,
        &state.list.members,
        &rules,
        &mut findings,
    );
    findings.extend(check_add(
        &state.views(),
        &req.name,
        &req.peer_urls,
        req.learner,
        state.learner_limit(),
    ));
    if findings
        .iter()
        .any(|f| blocks(f, req.ignore_certificate_failures))
    {
        return Ok(AddOutcome::Refused { findings });
    }
    let member = send_add(conn, &req.name, &req.peer_urls, req.learner).await?;
    Ok(AddOutcome::Added { findings, member })
}

/// Sends `member add` once (see [`Connection::change`]).
pub(crate) async fn send_add(
    conn: &Connection,
    name: &str,
    peer_urls: &[String],
    learner: bool,
) -> Result<AddedMember> {
    let urls = peer_urls.to_vec();
    let response = conn
        .change(|mut c| async move {
            let options = learner.then(|| MemberAddOptions::new().with_is_learner());
            c.member_add(urls, options).await
        })
        .await?;
    let member = response.member().ok_or_else(|| Error::Refused {
        endpoint: conn.endpoints().join(","),
        refusal: Refusal::Other("etcd answered the add without the new member".into()),
    })?;
    let id = member.id();
    let mut initial = Vec::new();
    for m in response.member_list() {
        let member_name = if m.id() == id { name } else { m.name() };
        for u in m.peer_urls() {
            initial.push(format!("{member_name}={u}"));
        }
    }
    Ok(AddedMember {
        id,
        cluster_id: response.header().map_or(0, |h| h.cluster_id()),
        peer_urls: member.peer_urls().to_vec(),
        env: vec![
            ("ETCD_NAME".into(), name.to_string()),
            ("ETCD_INITIAL_CLUSTER".into(), initial.join(",")),
            (
                "ETCD_INITIAL_ADVERTISE_PEER_URLS".into(),
                member.peer_urls().join(","),
            ),
            ("ETCD_INITIAL_CLUSTER_STATE".into(), "existing".into()),
        ],
    })
}

/// How long a learner must be seen running and caught up, without a break, before it is
/// promoted: a learner that starts, catches up at once and dies a second later (a crash loop, a
/// wrong flag found late) must not become a dead voter.
pub const LEARNER_SETTLE: Duration = Duration::from_secs(2);

/// What etcd asks of a learner before promoting it (`isLearnerReady`: its log within 10% of the
/// leader's); the same rule here, on the applied index it reports.
const READY_FRACTION: f64 = 0.9;

/// Where a learner stands, while [`promote_member`] waits for it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LearnerState {
    /// It has not started: no member has the name yet (a learner that never ran has none).
    NotNamedYet {
        /// The name waited for.
        name: String,
    },
    /// It has not started: it has no client URL yet.
    NotStarted {
        /// Its ID.
        id: u64,
    },
    /// It does not answer its status request.
    NotAnswering {
        /// Its name.
        name: String,
        /// Why.
        error: Error,
    },
    /// The leader's status is not available.
    LeaderUnknown {
        /// The learner's name.
        name: String,
    },
    /// Its raft index against the leader's.
    CatchingUp {
        /// Its name.
        name: String,
        /// Its applied index.
        index: u64,
        /// The leader's raft index.
        leader_index: u64,
    },
    /// Caught up, and staying so for [`LEARNER_SETTLE`] before it is promoted.
    Settling {
        /// Its name.
        name: String,
        /// Its applied index.
        index: u64,
        /// The leader's raft index.
        leader_index: u64,
        /// How long it has been ready.
        ready_for: Duration,
    },
    /// Ready, but etcd finds it not yet in sync.
    NotInSync {
        /// Its name.
        name: String,
        /// Its applied index.
        index: u64,
        /// The leader's raft index.
        leader_index: u64,
    },
}

impl LearnerState {
    /// Whether the learner has started at all.
    pub fn started(&self) -> bool {
        !matches!(
            self,
            LearnerState::NotNamedYet { .. } | LearnerState::NotStarted { .. }
        )
    }
}

impl std::fmt::Display for LearnerState {
    /// The state in words, as a progress line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
        LearnerState::NotNamedYet { name } => {
            format!("waiting for {name} to start (a learner that has not started has no name yet)")
        }
        LearnerState::NotStarted { id } => {
            format!("learner {id:x} has not started yet (it has no client URL)")
        }
        LearnerState::NotAnswering { name, error } => {
            format!("learner {name} does not answer: {error}")
        }
        LearnerState::LeaderUnknown { name } => {
            format!("waiting for learner {name}: the leader's status is not available")
        }
        LearnerState::CatchingUp {
            name,
            index,
            leader_index,
        } => format!(
            "waiting for learner {name}: raft index {index} of leader's {leader_index} ({:.0}%)",
            percent(*index, *leader_index)
        ),
        LearnerState::Settling {
            name,
            index,
            leader_index,
            ready_for,
        } => format!(
            "learner {name}: raft index {index} of leader's {leader_index} ({:.0}%); running and caught up for {:.1}s of the {LEARNER_SETTLE:?} required",
            percent(*index, *leader_index),
            ready_for.as_secs_f64()
        ),
        LearnerState::NotInSync {
            name,
            index,
            leader_index,
        } => format!(
            "learner {name}: raft index {index} of leader's {leader_index} ({:.0}%); etcd finds it not yet in sync",
            percent(*index, *leader_index)
        ),
    };
        f.write_str(&text)
    }
}

/// Why waiting for a learner ended without a promotion, in a sentence.
pub fn timed_out_reason(learner: &str, timeout: Duration, last: Option<&LearnerState>) -> String {
    let last = last.map(ToString::to_string).unwrap_or_default();
    format!(
        "learner {learner} did not catch up within {timeout:?} (running and caught up for {LEARNER_SETTLE:?} without a break){}; check that it runs (its log), that it reaches the other members on its peer URL, and that its peer certificate covers it",
        if last.is_empty() {
            String::new()
        } else {
            format!(": {last}")
        }
    )
}

fn percent(index: u64, leader: u64) -> f64 {
    if leader == 0 {
        100.0
    } else {
        100.0 * index as f64 / leader as f64
    }
}

/// How a promotion ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Promotion {
    /// Promoted.
    Promoted {
        /// The member.
        id: u64,
        /// The cluster.
        cluster_id: u64,
    },
    /// The learner was not running and caught up in time; the last state seen.
    TimedOut {
        /// The learner, by name or hex ID.
        learner: String,
        /// How long it was given.
        timeout: Duration,
        /// The last state seen.
        last: Option<LearnerState>,
    },
}

/// Promotes a learner (by hex ID or name). Without `wait`, the request goes out at once, as
/// etcdctl sends it, and etcd judges. With `wait = Some(timeout)`, it waits for the learner to
/// start and catch up with the leader, calling `progress` with each state seen, and promotes it
/// only once it has been running and caught up for [`LEARNER_SETTLE`] without a break, checking
/// once more just before the request is sent.
///
/// # Errors
/// A name no member has ([`Error::Member`]), etcd unreachable, or etcd refusing (e.g.
/// [`Refusal::NotALearner`], or [`Refusal::LearnerNotInSync`] without `wait`).
pub async fn promote_member(
    conn: &Connection,
    member: &str,
    wait: Option<Duration>,
    mut progress: impl FnMut(&LearnerState),
) -> Result<Promotion> {
    let timeout = wait.unwrap_or_default();
    let deadline = Instant::now() + timeout;
    let mut ready_since: Option<Instant> = None;
    let mut last: Option<LearnerState> = None;
    loop {
        let list = member_list(conn).await?;
        let target = match list.resolve(member) {
            Ok(t) => t.clone(),
            // A learner that has not started yet has no name: with a wait, wait for it.
            Err(_)
                if wait.is_some() && list.members.iter().any(|m| m.is_learner && !m.started()) =>
            {
                let state = LearnerState::NotNamedYet {
                    name: member.to_string(),
                };
                progress(&state);
                last = Some(state);
                if Instant::now() >= deadline {
                    return Ok(Promotion::TimedOut {
                        learner: member.to_string(),
                        timeout,
                        last,
                    });
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            // An ID the list does not show: etcd has the last word.
            Err(_) if parse_id(member).is_some() => MemberInfo {
                id: parse_id(member).unwrap_or_default(),
                name: String::new(),
                peer_urls: vec![],
                client_urls: vec![],
                is_learner: true,
            },
            Err(e) => return Err(e),
        };
        let id = target.id;
        // Without a wait the request goes out as etcdctl sends it, and etcd judges; a voter, or
        // an ID the list does not show, is etcd's to answer for too.
        let judge = wait.is_some() && target.is_learner && list.members.iter().any(|m| m.id == id);
        let state = if judge {
            Some(readiness(conn, &list, &target).await)
        } else {
            None
        };
        let ready = match &state {
            None => true,
            Some(LearnerState::CatchingUp {
                index,
                leader_index,
                ..
            }) => is_ready(*index, *leader_index),
            Some(_) => false,
        };
        let state = if ready {
            let since = *ready_since.get_or_insert_with(Instant::now);
            if judge && since.elapsed() < LEARNER_SETTLE {
                state.map(|s| settling(s, since.elapsed()))
            } else {
                // Once more, just before the request: it may have died since the last look.
                let still = if judge {
                    Some(readiness(conn, &list, &target).await)
                } else {
                    None
                };
                match still {
                    Some(ref s) if !matches!(s, LearnerState::CatchingUp { index, leader_index, .. } if is_ready(*index, *leader_index)) =>
                    {
                        ready_since = None;
                        still
                    }
                    _ => match conn
                        .change(|mut c| async move { c.member_promote(id).await })
                        .await
                    {
                        Ok(response) => {
                            let cluster_id = response
                                .header()
                                .map_or(list.cluster_id, |h| h.cluster_id());
                            return Ok(Promotion::Promoted { id, cluster_id });
                        }
                        Err(e)
                            if wait.is_some()
                                && e.refusal() == Some(&Refusal::LearnerNotInSync) =>
                        {
                            ready_since = None;
                            state.map(not_in_sync)
                        }
                        Err(e) => return Err(e),
                    },
                }
            }
        } else {
            ready_since = None;
            state
        };
        if let Some(s) = &state {
            progress(s);
        }
        last = state.or(last);
        if Instant::now() >= deadline {
            return Ok(Promotion::TimedOut {
                learner: target.label(),
                timeout,
                last,
            });
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

fn is_ready(index: u64, leader_index: u64) -> bool {
    leader_index == 0 || index as f64 / leader_index as f64 >= READY_FRACTION
}

fn settling(state: LearnerState, ready_for: Duration) -> LearnerState {
    match state {
        LearnerState::CatchingUp {
            name,
            index,
            leader_index,
        } => LearnerState::Settling {
            name,
            index,
            leader_index,
            ready_for,
        },
        other => other,
    }
}

fn not_in_sync(state: LearnerState) -> LearnerState {
    match state {
        LearnerState::CatchingUp {
            name,
            index,
            leader_index,
        }
        | LearnerState::Settling {
            name,
            index,
            leader_index,
            ..
        } => LearnerState::NotInSync {
            name,
            index,
            leader_index,
        },
        other => other,
    }
}

/// Where a learner stands: its status and the voters', asked together within one deadline.
async fn readiness(conn: &Connection, list: &MemberList, learner: &MemberInfo) -> LearnerState {
    let Some(learner_url) = client_endpoint(learner) else {
        return LearnerState::NotStarted { id: learner.id };
    };
    let deadline = conn.deadline();
    let voter_urls: Vec<&str> = list
        .members
        .iter()
        .filter(|m| !m.is_learner)
        .filter_map(client_endpoint)
        .collect();
    let (learner_status, voters) = tokio::join!(
        status_until(conn, learner_url, deadline),
        join_all(voter_urls.iter().map(|u| status_until(conn, u, deadline)))
    );
    let l = match learner_status.status {
        Ok(l) => l,
        Err(error) => {
            return LearnerState::NotAnswering {
                name: learner.label(),
                error,
            }
        }
    };
    let Some(leader) = voters
        .iter()
        .filter_map(|v| v.status.as_ref().ok())
        .find(|s| s.leader != 0 && s.member_id == s.leader)
    else {
        return LearnerState::LeaderUnknown {
            name: learner.label(),
        };
    };
    LearnerState::CatchingUp {
        name: learner.label(),
        index: l.raft_applied_index,
        leader_index: leader.raft_index,
    }
}

/// A member ID as etcdctl prints it (hex, optionally 0x-prefixed).
pub fn parse_id(text: &str) -> Option<u64> {
    let t = text.trim().trim_start_matches("0x");
    (!t.is_empty() && t.len() <= 16 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| u64::from_str_radix(t, 16).ok())
        .flatten()
}

/// What removing a member did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RemoveOutcome {
    /// A rule refused it: nothing was sent to etcd.
    Refused {
        /// The member.
        member: MemberInfo,
        /// The rules it fails.
        failures: Vec<Finding>,
    },
    /// etcd removed it.
    Removed {
        /// Its ID.
        id: u64,
        /// The member as the list showed it (none for an ID the list did not show).
        member: Option<MemberInfo>,
        /// The cluster's ID.
        cluster_id: u64,
        /// The rules it failed that `force` overrode.
        forced: Vec<Finding>,
    },
}

/// The rules for removing `target` (quorum after removal, not the leader) that it fails.
pub fn removal_failures(state: &ClusterState, target: &MemberInfo) -> Vec<Finding> {
    check_remove(&state.views(), &state.view(target), state.leader())
        .into_iter()
        .filter(|f| f.status == Status::Fail)
        .collect()
}

/// Removes a member (by hex ID or name), refusing unless `force` what would cost the quorum or
/// remove the leader unannounced. An ID the member list does not show is sent as it is (the
/// list may be stale): etcd decides.
///
/// # Errors
/// A name no member has, etcd unreachable, or etcd refusing.
pub async fn remove_member(conn: &Connection, member: &str, force: bool) -> Result<RemoveOutcome> {
    let state = ClusterState::fetch(conn).await?;
    let target = match state.list.resolve(member) {
        Ok(t) => t.clone(),
        Err(_) if parse_id(member).is_some() => {
            let id = parse_id(member).unwrap_or_default();
            let cluster_id = send_remove(conn, id, state.list.cluster_id).await?;
            return Ok(RemoveOutcome::Removed {
                id,
                member: None,
                cluster_id,
                forced: Vec::new(),
            });
        }
        Err(e) => return Err(e),
    };
    let failures = removal_failures(&state, &target);
    if !failures.is_empty() && !force {
        return Ok(RemoveOutcome::Refused {
            member: target,
            failures,
        });
    }
    let cluster_id = send_remove(conn, target.id, state.list.cluster_id).await?;
    Ok(RemoveOutcome::Removed {
        id: target.id,
        member: Some(target),
        cluster_id,
        forced: failures,
    })
}

/// How long a membership change is retried while etcd answers "unhealthy cluster" (it refuses
/// changes until every voting member has been connected for 5 s, e.g. right after a promotion).
pub const SETTLE: Duration = Duration::from_secs(30);

/// Runs a membership change, again while etcd refuses it as "unhealthy cluster" (nothing was
/// changed then), for up to [`SETTLE`].
pub(crate) async fn retry_while_unhealthy<T, F, Fut>(
    op: F,
    mut on_first_retry: impl FnMut(),
) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + SETTLE;
    let mut said = false;
    loop {
        match op().await {
            Err(e)
                if e.refusal() == Some(&Refusal::UnhealthyCluster) && Instant::now() < deadline =>
            {
                if !said {
                    on_first_retry();
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// Sends `member remove` once; the cluster's ID (`fallback` for an answer without a header).
pub(crate) async fn send_remove(conn: &Connection, id: u64, fallback: u64) -> Result<u64> {
    let response = conn
        .change(|mut c| async move { c.member_remove(id).await })
        .await?;
    Ok(response.header().map_or(fallback, |h| h.cluster_id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_as_etcdctl_prints_them() {
        assert_eq!(parse_id("8e9e05c52164694d"), Some(0x8e9e05c52164694d));
        assert_eq!(parse_id("0x10"), Some(16));
        assert_eq!(parse_id("infra3"), None);
        assert_eq!(parse_id(""), None);
        assert_eq!(parse_id("11111111111111111"), None, "more than 64 bits");
    }

    #[test]
    fn readiness_follows_etcds_ninety_percent_rule() {
        assert!(is_ready(90, 100));
        assert!(!is_ready(89, 100));
        assert!(is_ready(0, 0));
    }
}

//! The rules a membership change must pass before it is sent to etcd, as pure functions of the
//! cluster's state: usable without a cluster or an async runtime, and tested that way. Each rule
//! yields a [`Finding`] of the shared vocabulary.
//!
//! Quorum is a majority of voters (learners do not vote): `voters / 2 + 1`; fault tolerance is
//! how many voters may fail with the rest still a quorum. A voter added before it runs counts
//! toward the quorum but not toward the healthy members, which is how the runbook's mistake
//! loses fault tolerance; a learner does not.

use pki_core::{CheckId, Finding, Remedy};

/// What the rules need to know of a member.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberView {
    /// Member ID.
    pub id: u64,
    /// Name (empty while unstarted).
    pub name: String,
    /// Peer URLs.
    pub peer_urls: Vec<String>,
    /// Whether it is a learner.
    pub is_learner: bool,
    /// Whether it answered a health check.
    pub healthy: bool,
}

impl MemberView {
    /// A member as the rules see it.
    pub fn new(
        id: u64,
        name: impl Into<String>,
        peer_urls: Vec<String>,
        is_learner: bool,
        healthy: bool,
    ) -> MemberView {
        MemberView {
            id,
            name: name.into(),
            peer_urls,
            is_learner,
            healthy,
        }
    }

    fn started(&self) -> bool {
        !self.name.is_empty()
    }

    fn label(&self) -> String {
        if self.name.is_empty() {
            format!("{:x}", self.id)
        } else {
            format!("{} ({:x})", self.name, self.id)
        }
    }
}

/// Votes needed for a quorum of `voters`.
pub fn quorum(voters: usize) -> usize {
    voters / 2 + 1
}

/// How many of `healthy` voters may fail while a quorum of `voters` remains (negative: none, the
/// quorum is already lost).
pub fn tolerance(voters: usize, healthy: usize) -> i64 {
    healthy as i64 - quorum(voters) as i64
}

fn voters(members: &[MemberView]) -> (usize, usize) {
    let voters = members.iter().filter(|m| !m.is_learner).count();
    let healthy = members
        .iter()
        .filter(|m| !m.is_learner && m.healthy)
        .count();
    (voters, healthy)
}

/// Normalises a peer URL for comparison: scheme and host lowercased, no trailing slash.
pub fn normalise_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// How many learners the cluster's etcd accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerLimit {
    /// etcd 3.4 and 3.5: one, fixed (`maxLearners = 1` in etcd's membership code, which answers
    /// "too many learner members in cluster" past it).
    One,
    /// etcd 3.6 and later: `--max-learners` (default 1), which the API does not report; etcd
    /// has the last word.
    Configurable,
}

impl LearnerLimit {
    /// The limit of the etcd version the members report (the oldest of them, as an upgrade in
    /// progress runs both); the fixed limit when no version is known.
    pub fn of_versions<'a>(versions: impl IntoIterator<Item = &'a str>) -> LearnerLimit {
        let minor = |v: &str| {
            let mut parts = v.trim_start_matches('v').split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next()?.parse().ok()?;
            Some((major, minor))
        };
        match versions.into_iter().filter_map(minor).min() {
            Some(v) if v >= (3, 6) => LearnerLimit::Configurable,
            _ => LearnerLimit::One,
        }
    }
}

/// The rules for adding `name` with `peer_urls` (as a learner or a voter) to a cluster whose
/// etcd accepts learners up to `limit`.
pub fn check_add(
    members: &[MemberView],
    name: &str,
    peer_urls: &[String],
    learner: bool,
    limit: LearnerLimit,
) -> Vec<Finding> {
    let mut out = Vec::new();

    let unstarted: Vec<&MemberView> = members.iter().filter(|m| !m.started()).collect();
    out.push(if unstarted.is_empty() {
        Finding::pass(
            CheckId::MembersStarted,
            format!("all {} members have started", members.len()),
        )
    } else {
        let ids: Vec<String> = unstarted.iter().map(|m| format!("{:x}", m.id)).collect();
        let counts = if unstarted.iter().any(|m| !m.is_learner) {
            "; a voter that never started counts toward the quorum and cannot vote"
        } else {
            " (as a learner)"
        };
        Finding::fail(
            CheckId::MembersStarted,
            format!(
                "{} added but never started (peer URLs {}){counts}",
                ids.join(", "),
                unstarted
                    .iter()
                    .flat_map(|m| m.peer_urls.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .remedy(Remedy::StartOrRemoveMember {
            id: unstarted[0].id,
        })
    });

    let unhealthy: Vec<&MemberView> = members
        .iter()
        .filter(|m| m.started() && !m.healthy)
        .collect();
    let started = members.iter().filter(|m| m.started()).count();
    out.push(if unhealthy.is_empty() {
        Finding::pass(CheckId::MembersHealthy, format!("every started member is healthy ({started})"))
    } else if unhealthy.len() == started {
        // Not one member can serve a linearizable read: there is no leader. Right after a member
        // stops this is an election (about a second); if it lasts, quorum is lost.
        Finding::fail(
            CheckId::MembersHealthy,
            format!(
                "no started member is healthy ({}): the cluster has no leader, an election is in progress or quorum is lost",
                unhealthy.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")
            ),
        )
        .remedy(Remedy::RetryLater)
    } else {
        Finding::fail(
            CheckId::MembersHealthy,
            format!(
                "unhealthy: {}; adding now would cut fault tolerance further",
                unhealthy.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")
            ),
        )
        .remedy(Remedy::RepairOrRemoveMember {
            name: unhealthy[0].name.clone(),
        })
    });

    let (v, h) = voters(members);
    let now = tolerance(v, h);
    if learner {
        out.push(Finding::pass(
            CheckId::FaultTolerance,
            format!(
                "a learner does not vote: {v} voters still tolerate {} failure(s)",
                now.max(0)
            ),
        ));
    } else {
        let after = tolerance(v + 1, h);
        out.push(if after < 0 {
            Finding::fail(
                CheckId::FaultTolerance,
                format!(
                    "{v} voters, {h} healthy: with a new voter that has not started, {} of {} votes are needed and only {h} can vote: the cluster would stop until it joins",
                    quorum(v + 1),
                    v + 1
                ),
            )
            .remedy(Remedy::AddAsLearner)
        } else if after < now {
            Finding::warn(
                CheckId::FaultTolerance,
                format!(
                    "until the new voter has started, {} voters need {} and tolerate {after} failure(s) instead of {now}",
                    v + 1,
                    quorum(v + 1)
                ),
            )
            .remedy(Remedy::AddAsLearner)
        } else {
            Finding::pass(
                CheckId::FaultTolerance,
                format!("{} voters will tolerate {after} failure(s), as now", v + 1),
            )
        });
    }

    if learner {
        let learners: Vec<&MemberView> = members.iter().filter(|m| m.is_learner).collect();
        out.push(match (learners.first(), limit) {
            (None, LearnerLimit::One) => {
                Finding::pass(CheckId::LearnerLimit, "no learner yet (this etcd allows one)")
            }
            (None, LearnerLimit::Configurable) => Finding::pass(
                CheckId::LearnerLimit,
                "no learner yet (etcd 3.6 allows as many as its learner limit, default 1)",
            ),
            (Some(first), LearnerLimit::One) => Finding::fail(
                CheckId::LearnerLimit,
                format!(
                    "{} is already a learner and this etcd allows one (\"too many learner members in cluster\")",
                    first.label()
                ),
            )
            .remedy(Remedy::PromoteOrRemoveLearner { id: first.id }),
            (Some(first), LearnerLimit::Configurable) => Finding::warn(
                CheckId::LearnerLimit,
                format!(
                    "{} learner(s) already ({}); etcd 3.6 allows as many as its learner limit (default 1), which it does not report: it refuses the add with \"too many learner members in cluster\" past it",
                    learners.len(),
                    first.label()
                ),
            )
            .remedy(Remedy::PromoteLearnerOrRaiseLimit {
                id: first.id,
                learners: learners.len() + 1,
            }),
        });
    }

    out.push(match members.iter().find(|m| m.name == name) {
        Some(m) => Finding::fail(
            CheckId::NameUnused,
            format!("a member is already named {name} ({:x})", m.id),
        )
        .remedy(Remedy::ChooseAnotherName),
        None => Finding::pass(CheckId::NameUnused, format!("no member is named {name}")),
    });

    let taken: Vec<(String, &MemberView)> = peer_urls
        .iter()
        .filter_map(|u| {
            members
                .iter()
                .find(|m| {
                    m.peer_urls
                        .iter()
                        .any(|p| normalise_url(p) == normalise_url(u))
                })
                .map(|m| (u.clone(), m))
        })
        .collect();
    out.push(match taken.first() {
        Some((url, m)) => Finding::fail(
            CheckId::PeerUrlUnused,
            format!("{url} is already the peer URL of {}", m.label()),
        )
        .remedy(Remedy::RemoveStaleMember { id: m.id }),
        None => Finding::pass(
            CheckId::PeerUrlUnused,
            format!("no member uses {}", peer_urls.join(", ")),
        ),
    });
    out
}

/// The rules for removing `target`; `leader` is the current leader's ID if known.
pub fn check_remove(
    members: &[MemberView],
    target: &MemberView,
    leader: Option<u64>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let (v, h) = voters(members);
    if target.is_learner {
        out.push(Finding::pass(
            CheckId::QuorumAfterRemoval,
            "a learner does not vote: quorum is unaffected",
        ));
    } else if v == 1 {
        out.push(
            Finding::fail(
                CheckId::QuorumAfterRemoval,
                "it is the only voting member: removing it would leave no cluster",
            )
            .remedy(Remedy::AddMemberFirst),
        );
    } else {
        let healthy_after = if target.healthy { h - 1 } else { h };
        let need = quorum(v - 1);
        out.push(if healthy_after < need {
            Finding::fail(
                CheckId::QuorumAfterRemoval,
                format!(
                    "after removing it, {} voters need {need} and only {healthy_after} are healthy: the cluster would stop",
                    v - 1
                ),
            )
            .remedy(Remedy::RepairMembersFirst)
        } else {
            Finding::pass(
                CheckId::QuorumAfterRemoval,
                format!(
                    "{} voters remain, {healthy_after} healthy, tolerating {} failure(s)",
                    v - 1,
                    tolerance(v - 1, healthy_after)
                ),
            )
        });
    }
    if leader == Some(target.id) {
        out.push(
            Finding::fail(
                CheckId::NotTheLeader,
                format!("{} is the current leader: removing it forces an election, with no writes until it ends", target.label()),
            )
            .remedy(Remedy::MoveLeadershipFirst),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use pki_core::Status;

    fn m(id: u64, name: &str, learner: bool, healthy: bool) -> MemberView {
        MemberView::new(
            id,
            name,
            vec![format!("https://10.0.0.{id}:2380")],
            learner,
            healthy,
        )
    }

    fn status_of(v: &[Finding], check: CheckId) -> Status {
        v.iter()
            .find(|x| x.check == check)
            .unwrap_or_else(|| panic!("{check}: {v:?}"))
            .status
    }

    #[test]
    fn the_learner_limit_follows_the_oldest_members_version() {
        assert_eq!(LearnerLimit::of_versions(["3.4.23"]), LearnerLimit::One);
        assert_eq!(
            LearnerLimit::of_versions(["3.5.16", "3.5.16"]),
            LearnerLimit::One
        );
        assert_eq!(
            LearnerLimit::of_versions(["3.6.0"]),
            LearnerLimit::Configurable
        );
        assert_eq!(
            LearnerLimit::of_versions(["3.6.1", "3.5.21"]),
            LearnerLimit::One,
            "mid-upgrade, the 3.5 members' rule"
        );
        assert_eq!(
            LearnerLimit::of_versions(["4.0.0"]),
            LearnerLimit::Configurable
        );
        assert_eq!(LearnerLimit::of_versions([]), LearnerLimit::One);
        assert_eq!(LearnerLimit::of_versions(["garbage"]), LearnerLimit::One);
    }

    #[test]
    fn quorum_maths() {
        assert_eq!(
            (quorum(1), quorum(2), quorum(3), quorum(4), quorum(5)),
            (1, 2, 2, 3, 3)
        );
        assert_eq!(tolerance(3, 3), 1);
        assert_eq!(tolerance(4, 3), 0, "the runbook's dead fourth voter");
        assert_eq!(tolerance(5, 5), 2);
        assert_eq!(tolerance(3, 1), -1);
    }

    #[test]
    fn adding_a_voter_to_three_lowers_tolerance_and_a_learner_does_not() {
        let three = [
            m(1, "a", false, true),
            m(2, "b", false, true),
            m(3, "c", false, true),
        ];
        let urls = vec!["https://10.0.0.4:2380".to_string()];
        let voter = check_add(&three, "d", &urls, false, LearnerLimit::One);
        assert_eq!(status_of(&voter, CheckId::FaultTolerance), Status::Warn);
        let learner = check_add(&three, "d", &urls, true, LearnerLimit::One);
        assert!(
            learner.iter().all(|v| v.status == Status::Pass),
            "{learner:?}"
        );
    }

    #[test]
    fn a_voter_that_would_stop_the_cluster_is_refused() {
        let two = [m(1, "a", false, true), m(2, "b", false, false)];
        let v = check_add(
            &two,
            "c",
            &["https://10.0.0.3:2380".into()],
            false,
            LearnerLimit::One,
        );
        assert_eq!(status_of(&v, CheckId::FaultTolerance), Status::Fail);
        assert_eq!(status_of(&v, CheckId::MembersHealthy), Status::Fail);
    }

    #[test]
    fn a_cluster_without_a_leader_is_told_apart_from_one_member_down() {
        let one_down = [
            m(1, "a", false, true),
            m(2, "b", false, true),
            m(3, "c", false, false),
        ];
        let health = |members: &[MemberView]| {
            let v = check_add(
                members,
                "d",
                &["https://10.0.0.4:2380".into()],
                true,
                LearnerLimit::One,
            );
            let row = v
                .into_iter()
                .find(|x| x.check == CheckId::MembersHealthy)
                .unwrap();
            assert_eq!(row.status, Status::Fail);
            (row.message, row.remedy.unwrap())
        };
        let (message, remedy) = health(&one_down);
        assert!(message.starts_with("unhealthy: c "), "{message}");
        assert_eq!(remedy, Remedy::RepairOrRemoveMember { name: "c".into() });
        let (message, remedy) = health(&[m(1, "a", false, false), m(2, "b", false, false)]);
        assert!(message.contains("no leader"), "{message}");
        assert_eq!(remedy, Remedy::RetryLater);
    }

    #[test]
    fn conflicts_and_unstarted_members_are_refused() {
        let members = [
            m(1, "a", false, true),
            m(2, "", false, false),
            m(3, "c", true, true),
        ];
        let v = check_add(
            &members,
            "a",
            &["HTTPS://10.0.0.2:2380/".into()],
            true,
            LearnerLimit::One,
        );
        let v36 = check_add(
            &members,
            "x",
            &["https://10.0.0.9:2380".into()],
            true,
            LearnerLimit::Configurable,
        );
        assert_eq!(status_of(&v36, CheckId::LearnerLimit), Status::Warn);
        assert_eq!(status_of(&v, CheckId::MembersStarted), Status::Fail);
        assert_eq!(status_of(&v, CheckId::LearnerLimit), Status::Fail);
        assert_eq!(status_of(&v, CheckId::NameUnused), Status::Fail);
        assert_eq!(status_of(&v, CheckId::PeerUrlUnused), Status::Fail);
        assert_eq!(
            v.iter()
                .find(|x| x.check == CheckId::MembersStarted)
                .unwrap()
                .remedy,
            Some(Remedy::StartOrRemoveMember { id: 2 })
        );
    }

    #[test]
    fn removal_keeps_quorum_and_announces_the_leader() {
        let three = [
            m(1, "a", false, true),
            m(2, "b", false, true),
            m(3, "c", false, false),
        ];
        let v = check_remove(&three, &three[0], None);
        assert_eq!(
            status_of(&v, CheckId::QuorumAfterRemoval),
            Status::Fail,
            "b alone cannot be a quorum of 2"
        );
        let v = check_remove(&three, &three[2], Some(1));
        assert_eq!(
            status_of(&v, CheckId::QuorumAfterRemoval),
            Status::Pass,
            "removing the dead member helps"
        );
        let healthy = [
            m(1, "a", false, true),
            m(2, "b", false, true),
            m(3, "c", false, true),
            m(4, "d", true, false),
        ];
        let v = check_remove(&healthy, &healthy[0], Some(1));
        assert_eq!(status_of(&v, CheckId::NotTheLeader), Status::Fail);
        assert_eq!(status_of(&v, CheckId::QuorumAfterRemoval), Status::Pass);
        let v = check_remove(&healthy, &healthy[3], Some(1));
        assert!(v.iter().all(|x| x.status == Status::Pass));
        let one = [m(1, "a", false, true)];
        assert_eq!(
            status_of(
                &check_remove(&one, &one[0], Some(1)),
                CheckId::QuorumAfterRemoval
            ),
            Status::Fail
        );
    }
}

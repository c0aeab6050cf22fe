//! The rules a membership change must pass before it is sent to etcd, as pure functions of the
//! cluster's state, so that they can be tested without a cluster.
//!
//! Quorum is a majority of voters (learners do not vote): `voters / 2 + 1`; fault tolerance is
//! how many voters may fail with the rest still a quorum. A voter added before it runs counts
//! toward the quorum but not toward the healthy members, which is how the runbook's mistake
//! loses fault tolerance; a learner does not.

use pki_core::Status;
use serde::Serialize;

/// What the rules need to know of a member.
#[derive(Debug, Clone)]
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

/// One rule's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// PASS, WARN or FAIL.
    pub status: Status,
    /// Which rule.
    pub check: &'static str,
    /// What was found.
    pub message: String,
    /// What to do, for WARN and FAIL.
    pub fix: Option<String>,
}

impl Verdict {
    fn pass(check: &'static str, message: String) -> Verdict {
        Verdict {
            status: Status::Pass,
            check,
            message,
            fix: None,
        }
    }

    fn warn(check: &'static str, message: String, fix: String) -> Verdict {
        Verdict {
            status: Status::Warn,
            check,
            message,
            fix: Some(fix),
        }
    }

    fn fail(check: &'static str, message: String, fix: String) -> Verdict {
        Verdict {
            status: Status::Fail,
            check,
            message,
            fix: Some(fix),
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
) -> Vec<Verdict> {
    let mut out = Vec::new();

    let unstarted: Vec<&MemberView> = members.iter().filter(|m| !m.started()).collect();
    out.push(if unstarted.is_empty() {
        Verdict::pass("members started", format!("all {} members have started", members.len()))
    } else {
        let ids: Vec<String> = unstarted.iter().map(|m| format!("{:x}", m.id)).collect();
        let counts = if unstarted.iter().any(|m| !m.is_learner) {
            "; a voter that never started counts toward the quorum and cannot vote"
        } else {
            " (as a learner)"
        };
        Verdict::fail(
            "members started",
            format!(
                "{} added but never started (peer URLs {}){counts}",
                ids.join(", "),
                unstarted.iter().flat_map(|m| m.peer_urls.clone()).collect::<Vec<_>>().join(", ")
            ),
            format!(
                "start it with ETCD_INITIAL_CLUSTER_STATE=existing, or remove it: etcd-pki member remove {}",
                ids[0]
            ),
        )
    });

    let unhealthy: Vec<&MemberView> = members
        .iter()
        .filter(|m| m.started() && !m.healthy)
        .collect();
    let started = members.iter().filter(|m| m.started()).count();
    out.push(if unhealthy.is_empty() {
        Verdict::pass("members healthy", format!("every started member is healthy ({started})"))
    } else if unhealthy.len() == started {
        // Not one member can serve a linearizable read: there is no leader. Right after a member
        // stops this is an election (about a second); if it lasts, quorum is lost.
        Verdict::fail(
            "members healthy",
            format!(
                "no started member is healthy ({}): the cluster has no leader, an election is in progress or quorum is lost",
                unhealthy.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")
            ),
            "retry in a few seconds; if it persists, etcd-pki endpoint health --cluster shows which members are down, and no member can be added before quorum is back".to_string(),
        )
    } else {
        Verdict::fail(
            "members healthy",
            format!(
                "unhealthy: {}; adding now would cut fault tolerance further",
                unhealthy.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")
            ),
            format!(
                "bring it back (etcd-pki endpoint health --cluster shows why) or remove it first: etcd-pki member remove {}",
                unhealthy[0].name
            ),
        )
    });

    let (v, h) = voters(members);
    let now = tolerance(v, h);
    if learner {
        out.push(Verdict::pass(
            "fault tolerance",
            format!(
                "a learner does not vote: {v} voters still tolerate {} failure(s)",
                now.max(0)
            ),
        ));
    } else {
        let after = tolerance(v + 1, h);
        out.push(if after < 0 {
            Verdict::fail(
                "fault tolerance",
                format!(
                    "{v} voters, {h} healthy: with a new voter that has not started, {} of {} votes are needed and only {h} can vote: the cluster would stop until it joins",
                    quorum(v + 1),
                    v + 1
                ),
                "add it as a learner (--learner), start it, then promote it: etcd-pki member promote NAME --wait".into(),
            )
        } else if after < now {
            Verdict::warn(
                "fault tolerance",
                format!(
                    "until the new voter has started, {} voters need {} and tolerate {after} failure(s) instead of {now}",
                    v + 1,
                    quorum(v + 1)
                ),
                "prefer --learner: a learner joins without voting, then etcd-pki member promote NAME --wait".into(),
            )
        } else {
            Verdict::pass(
                "fault tolerance",
                format!("{} voters will tolerate {after} failure(s), as now", v + 1),
            )
        });
    }

    if learner {
        let learners: Vec<&MemberView> = members.iter().filter(|m| m.is_learner).collect();
        out.push(match (learners.first(), limit) {
            (None, LearnerLimit::One) => {
                Verdict::pass("learner limit", "no learner yet (this etcd allows one)".into())
            }
            (None, LearnerLimit::Configurable) => Verdict::pass(
                "learner limit",
                "no learner yet (etcd 3.6 allows --max-learners, default 1)".into(),
            ),
            (Some(first), LearnerLimit::One) => Verdict::fail(
                "learner limit",
                format!(
                    "{} is already a learner and this etcd allows one (\"too many learner members in cluster\")",
                    first.label()
                ),
                format!(
                    "promote it once it has caught up (etcd-pki member promote {:x} --wait) or remove it",
                    first.id
                ),
            ),
            (Some(first), LearnerLimit::Configurable) => Verdict::warn(
                "learner limit",
                format!(
                    "{} learner(s) already ({}); etcd 3.6 allows as many as its --max-learners (default 1), which it does not report: it refuses the add with \"too many learner members in cluster\" past it",
                    learners.len(),
                    first.label()
                ),
                format!(
                    "promote it once it has caught up (etcd-pki member promote {:x} --wait), or make sure --max-learners allows {}",
                    first.id,
                    learners.len() + 1
                ),
            ),
        });
    }

    out.push(match members.iter().find(|m| m.name == name) {
        Some(m) => Verdict::fail(
            "name unused",
            format!("a member is already named {name} ({:x})", m.id),
            "choose another name, or remove the old member first if it is being replaced".into(),
        ),
        None => Verdict::pass("name unused", format!("no member is named {name}")),
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
        Some((url, m)) => Verdict::fail(
            "peer URL unused",
            format!("{url} is already the peer URL of {}", m.label()),
            format!("if that member is a failed earlier add, remove it first: etcd-pki member remove {:x}", m.id),
        ),
        None => Verdict::pass("peer URL unused", format!("no member uses {}", peer_urls.join(", "))),
    });
    out
}

/// The check that refuses to remove the leader.
pub const NOT_THE_LEADER: &str = "not the leader";

/// The rules for removing `target`; `leader` is the current leader's ID if known.
pub fn check_remove(
    members: &[MemberView],
    target: &MemberView,
    leader: Option<u64>,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    let (v, h) = voters(members);
    if target.is_learner {
        out.push(Verdict::pass(
            "quorum after removal",
            "a learner does not vote: quorum is unaffected".into(),
        ));
    } else if v == 1 {
        out.push(Verdict::fail(
            "quorum after removal",
            "it is the only voting member: removing it would leave no cluster".into(),
            "add and promote another member first, or take a snapshot and decommission the cluster"
                .into(),
        ));
    } else {
        let healthy_after = if target.healthy { h - 1 } else { h };
        let need = quorum(v - 1);
        out.push(if healthy_after < need {
            Verdict::fail(
                "quorum after removal",
                format!(
                    "after removing it, {} voters need {need} and only {healthy_after} are healthy: the cluster would stop",
                    v - 1
                ),
                "start or repair the unhealthy members first, then remove".into(),
            )
        } else {
            Verdict::pass(
                "quorum after removal",
                format!(
                    "{} voters remain, {healthy_after} healthy, tolerating {} failure(s)",
                    v - 1,
                    tolerance(v - 1, healthy_after)
                ),
            )
        });
    }
    if leader == Some(target.id) {
        out.push(Verdict::fail(
            NOT_THE_LEADER,
            format!("{} is the current leader: removing it forces an election, with no writes until it ends", target.label()),
            "move leadership first (etcdctl move-leader ID), or use etcd-pki scale-in, which does; or pass --force to remove it anyway".into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: u64, name: &str, learner: bool, healthy: bool) -> MemberView {
        MemberView {
            id,
            name: name.into(),
            peer_urls: vec![format!("https://10.0.0.{id}:2380")],
            is_learner: learner,
            healthy,
        }
    }

    fn status_of(v: &[Verdict], check: &str) -> Status {
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
        assert_eq!(status_of(&voter, "fault tolerance"), Status::Warn);
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
        assert_eq!(status_of(&v, "fault tolerance"), Status::Fail);
        assert_eq!(status_of(&v, "members healthy"), Status::Fail);
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
                .find(|x| x.check == "members healthy")
                .unwrap();
            assert_eq!(row.status, Status::Fail);
            (row.message, row.fix.unwrap())
        };
        let (message, _) = health(&one_down);
        assert!(message.starts_with("unhealthy: c "), "{message}");
        let (message, fix) = health(&[m(1, "a", false, false), m(2, "b", false, false)]);
        assert!(message.contains("no leader"), "{message}");
        assert!(fix.starts_with("retry"), "{fix}");
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
        assert_eq!(status_of(&v36, "learner limit"), Status::Warn);
        assert_eq!(status_of(&v, "members started"), Status::Fail);
        assert_eq!(status_of(&v, "learner limit"), Status::Fail);
        assert_eq!(status_of(&v, "name unused"), Status::Fail);
        assert_eq!(status_of(&v, "peer URL unused"), Status::Fail);
        assert!(v
            .iter()
            .find(|x| x.check == "members started")
            .unwrap()
            .fix
            .as_ref()
            .unwrap()
            .contains("member remove 2"));
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
            status_of(&v, "quorum after removal"),
            Status::Fail,
            "b alone cannot be a quorum of 2"
        );
        let v = check_remove(&three, &three[2], Some(1));
        assert_eq!(
            status_of(&v, "quorum after removal"),
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
        assert_eq!(status_of(&v, "not the leader"), Status::Fail);
        assert_eq!(status_of(&v, "quorum after removal"), Status::Pass);
        let v = check_remove(&healthy, &healthy[3], Some(1));
        assert!(v.iter().all(|x| x.status == Status::Pass));
        let one = [m(1, "a", false, true)];
        assert_eq!(
            status_of(
                &check_remove(&one, &one[0], Some(1)),
                "quorum after removal"
            ),
            Status::Fail
        );
    }
}

//! `upgrade apply`: the snapshot, then the members one at a time through the restart hook,
//! each proven back on the target version (see the module docs of [`crate::upgrade`]).

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;

use super::plan::UpgradePlan;
use super::{UpgradeRequest, Version};
use crate::ca_rotation::roll::{hand_over_leadership, precheck, restart_order};
use crate::ca_rotation::CaRotationEvent;
use crate::connection::Connection;
use crate::error::Result;
use crate::probe::{versions, Identity};
use crate::rotate::prove::keeps_up;
use crate::rotate::{SyncContext, SyncHook};
use crate::snapshot::save_snapshot;
use crate::state::{client_endpoint, health_until, member_list, status_until, MemberInfo};

/// How often a restarted member is looked at.
const POLL: Duration = Duration::from_millis(250);

/// What an upgrade did, step by step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UpgradeEvent {
    /// The snapshot was saved.
    SnapshotSaved {
        /// Its file.
        path: PathBuf,
        /// The revision it holds.
        revision: i64,
    },
    /// A member already runs the target (an earlier run restarted it).
    AlreadyDone {
        /// The member.
        member: String,
        /// Its version.
        version: Version,
    },
    /// Leadership moved away from the member about to restart.
    LeadershipMoved {
        /// The former leader.
        from: String,
        /// The new one.
        to: String,
    },
    /// The restart hook ran for a member.
    Restarted {
        /// The member.
        member: String,
    },
    /// A member is back, healthy, on the new version, and the cluster caught up.
    Back {
        /// The member.
        member: String,
        /// The version it reports.
        version: Version,
        /// How long after its restart.
        after: Duration,
    },
}

/// How an upgrade ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UpgradeOutcome {
    /// The plan does not allow it: nothing was done.
    Refused,
    /// Every member runs the target.
    Done {
        /// The cluster version at the end (it moves up once every member runs the target).
        cluster_version: Option<Version>,
    },
    /// Stopped at a member.
    Stopped {
        /// The member.
        member: String,
        /// Why.
        why: String,
        /// How to roll it back.
        rollback: String,
    },
}

/// Upgrades the cluster as `plan` found it (see the module docs).
///
/// # Errors
/// etcd unreachable for the member list or the snapshot.
pub async fn apply(
    conn: &Connection,
    req: &UpgradeRequest,
    plan: &UpgradePlan,
    restart: &mut SyncHook<'_>,
    events: &mut dyn FnMut(UpgradeEvent),
) -> Result<UpgradeOutcome> {
    let (Some(to), Some(from), true) = (plan.to, plan.from, plan.may_proceed()) else {
        return Ok(UpgradeOutcome::Refused);
    };
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let snapshot = req
        .snapshot_dir
        .join(format!("etcd-pre-upgrade-{}-{stamp}.db", from));
    let saved = save_snapshot(conn, &snapshot).await?;
    // What this upgrade is for: a later run without --to finishes it rather than starting the
    // next minor.
    let _ = std::fs::write(
        req.snapshot_dir.join(super::STATE_FILE),
        format!("{{\"from\":\"{from}\",\"to\":\"{}.{}\"}}\n", to.0, to.1),
    );
    events(UpgradeEvent::SnapshotSaved {
        path: saved.path.clone(),
        revision: saved.revision,
    });
    let cluster_before = plan
        .cluster_version
        .map_or_else(|| from.minor_text(), |v| v.minor_text());
    let rollback = |m: &MemberInfo, old: Option<Version>| {
        format!(
            "install {}'s previous etcd ({}) again and restart it: the cluster version is still {cluster_before} until every member runs {}.{}, so members can go back; the snapshot {} holds the data as it was",
            m.name,
            old.map_or("the old binary".into(), |v| v.to_string()),
            to.0,
            to.1,
            pki_core::display_path(&saved.path)
        )
    };
    let list = member_list(conn).await?;
    for m in restart_order(conn, &list.members).await {
        let old = member_version(conn, &m).await;
        if let Some(v) = old.filter(|v| (v.major, v.minor) == to) {
            events(UpgradeEvent::AlreadyDone {
                member: m.name.clone(),
                version: v,
            });
            continue;
        }
        if let Some(why) = precheck(conn, &list.members, &m).await {
            return Ok(UpgradeOutcome::Stopped {
                member: m.name.clone(),
                why,
                rollback: "nothing was restarted for it: bring the cluster back to health and run apply again".into(),
            });
        }
        let mut moved = |e: CaRotationEvent| {
            if let CaRotationEvent::LeadershipMoved { from, to } = e {
                events(UpgradeEvent::LeadershipMoved { from, to });
            }
        };
        if let Some(stop) = hand_over_leadership(conn, &list.members, &m, &mut moved).await {
            return Ok(UpgradeOutcome::Stopped {
                member: m.name.clone(),
                why: stop.why,
                rollback: "nothing was restarted for it".into(),
            });
        }
        if let Err(why) = restart(&SyncContext::of(&m, std::path::Path::new(""))) {
            return Ok(UpgradeOutcome::Stopped {
                member: m.name.clone(),
                why: format!("the restart hook failed: {why}"),
                rollback: rollback(&m, old),
            });
        }
        events(UpgradeEvent::Restarted {
            member: m.name.clone(),
        });
        // The member's own time starts when the hook is done (it has a timeout of its own).
        let started = Instant::now();
        match back_on(conn, &m, &list.members, to, started + req.member_timeout).await {
            Ok(version) => events(UpgradeEvent::Back {
                member: m.name.clone(),
                version,
                after: started.elapsed(),
            }),
            Err(why) => {
                return Ok(UpgradeOutcome::Stopped {
                    member: m.name.clone(),
                    why,
                    rollback: rollback(&m, old),
                })
            }
        }
    }
    Ok(UpgradeOutcome::Done {
        cluster_version: cluster_version_at_least(
            conn,
            &list.members,
            to,
            req.cluster_version_timeout,
        )
        .await,
    })
}

/// The version a member reports, if it answers.
async fn member_version(conn: &Connection, m: &MemberInfo) -> Option<Version> {
    let e = client_endpoint(m)?;
    let s = status_until(conn, e, conn.deadline()).await.status.ok()?;
    Version::parse(&s.version)
}

/// Waits until `m` is healthy on the minor `to` and every member applied what the leader had
/// committed; the version, or why not by `deadline`.
async fn back_on(
    conn: &Connection,
    m: &MemberInfo,
    all: &[MemberInfo],
    to: (u32, u32),
    deadline: Instant,
) -> std::result::Result<Version, String> {
    let endpoint = client_endpoint(m)
        .ok_or_else(|| format!("{} lists no client URL", m.name))?
        .to_string();
    let mut last = String::from("no answer");
    loop {
        let step = (Instant::now() + conn.request_timeout()).min(deadline);
        let healthy = health_until(conn, &endpoint, step).await;
        if healthy.health {
            match status_until(conn, &endpoint, step).await.status {
                Ok(s) => match Version::parse(&s.version) {
                    Some(v) if (v.major, v.minor) == (3, 5) && v.patch <= 2 => {
                        return Err(format!(
                            "{} came back on {v}, which has a data inconsistency bug (etcd-io/etcd#13766): install the latest 3.5 patch instead",
                            m.name
                        ))
                    }
                    Some(v) if (v.major, v.minor) == to => {
                        keeps_up(conn, all, deadline).await?;
                        return Ok(v);
                    }
                    Some(v) => last = format!("it is healthy but runs {v}, not {}.{}: did the restart hook install the new binary?", to.0, to.1),
                    None => last = format!("it reports the version {:?}", s.version),
                },
                Err(e) => last = e.to_string(),
            }
        } else if let Some(e) = healthy.error {
            last = e.to_string();
        }
        if Instant::now() + POLL >= deadline {
            return Err(format!(
                "{} is not back on {}.{} within the timeout: {last}; look at its log",
                m.name, to.0, to.1
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The cluster version once it reaches `to` (or as it is at the timeout).
async fn cluster_version_at_least(
    conn: &Connection,
    all: &[MemberInfo],
    to: (u32, u32),
    timeout: Duration,
) -> Option<Version> {
    let identity = conn
        .client_files()
        .and_then(|(c, k)| Identity::from_files(c, k).ok());
    let deadline = Instant::now() + timeout;
    let mut seen = None;
    loop {
        for m in all {
            let Some(url) = client_endpoint(m).and_then(|e| pki_core::HostUrl::parse(e).ok())
            else {
                continue;
            };
            let step = (Instant::now() + conn.request_timeout()).min(deadline);
            if let Ok((_, cluster)) = versions(&url, identity.as_ref(), step).await {
                seen = Version::parse(&cluster);
                break;
            }
        }
        if seen.is_some_and(|v| (v.major, v.minor) >= to) || Instant::now() + POLL >= deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

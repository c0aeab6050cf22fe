//! A rolling restart that proves itself: the members restarted one at a time through the
//! restart hook, so that each reads its trusted CA files again (etcd reads them only at start).
//!
//! For each member, followers first and the leader last:
//! 1. a member whose ports already show what is wanted (it was restarted by an earlier run that
//!    was interrupted) is left alone;
//! 2. before its restart, every member must be started and healthy, and the voting members left
//!    while it restarts must keep quorum; otherwise the roll stops, nothing more changed;
//! 3. the leader hands leadership to the most caught-up follower first (fewer elections);
//! 4. the sync hook copies its files to its host, the restart hook restarts it;
//! 5. within one deadline: it is healthy again, every member has applied what the leader had
//!    committed, and its ports show what is wanted (see [`Want`]).

use std::time::Duration;

use tokio::time::Instant;

use super::identities::Identities;
use super::survey::{Cas, Survey};
use super::views::{view_member, Want};
use super::{CaRotationEvent, Hook};
use crate::connection::{Connection, Deadline};
use crate::leader::move_leadership;
use crate::rotate::prove::keeps_up;
use crate::rotate::SyncContext;
use crate::state::{client_endpoint, health_until, member_list, status_until, MemberInfo};

/// How often a restarted member is looked at.
const POLL: Duration = Duration::from_millis(250);

/// Why a roll stopped: the member it stopped at, and why.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    pub(crate) member: Option<String>,
    pub(crate) why: String,
}

/// What a roll needs.
pub(crate) struct Roll<'a, 'h> {
    pub(crate) conn: &'a Connection,
    pub(crate) identities: &'a Identities,
    pub(crate) cas: &'a Cas,
    pub(crate) survey: &'a Survey,
    pub(crate) restart: &'a mut Hook<'h>,
    pub(crate) sync: Option<&'a mut Hook<'h>>,
    pub(crate) timeout: Duration,
    pub(crate) phase: u8,
}

/// The members in the order a roll restarts them: followers (in member-list order), then the
/// leader.
pub(crate) async fn restart_order(conn: &Connection, members: &[MemberInfo]) -> Vec<MemberInfo> {
    let leader = leader_id(conn, members).await;
    let mut order: Vec<MemberInfo> = members.iter().filter(|m| m.started()).cloned().collect();
    order.sort_by_key(|m| Some(m.id) == leader);
    order
}

/// The leader's ID, as the first member that answers says.
pub(crate) async fn leader_id(conn: &Connection, members: &[MemberInfo]) -> Option<u64> {
    let deadline = conn.deadline();
    for m in members {
        let Some(e) = client_endpoint(m) else {
            continue;
        };
        if let Ok(s) = status_until(conn, e, deadline).await.status {
            if s.leader != 0 {
                return Some(s.leader);
            }
        }
    }
    None
}

/// Restarts every member that does not yet show `want` (see the module docs).
pub(crate) async fn roll(
    r: &mut Roll<'_, '_>,
    want: Want,
    events: &mut dyn FnMut(CaRotationEvent),
) -> crate::error::Result<Option<Stop>> {
    let list = member_list(r.conn).await?;
    for m in restart_order(r.conn, &list.members).await {
        let views = view_member(&m, r.cas, r.identities, r.conn.deadline()).await;
        match want.shown(&views) {
            Ok(()) => {
                events(CaRotationEvent::AlreadyDone {
                    phase: r.phase,
                    what: format!(
                        "{} already uses its trust files as this phase wants (restarted earlier): {}",
                        m.name,
                        want.proof(&views).join("; ")
                    ),
                });
                continue;
            }
            Err(why) => events(CaRotationEvent::NeedsRestart {
                member: m.name.clone(),
                why,
            }),
        }
        if let Some(why) = precheck(r.conn, &list.members, &m).await {
            return Ok(Some(Stop {
                member: Some(m.name.clone()),
                why,
            }));
        }
        if let Some(stop) = hand_over_leadership(r.conn, &list.members, &m, events).await {
            return Ok(Some(stop));
        }
        let dir = r
            .survey
            .target_of(&m.name)
            .map(|t| t.dir.clone())
            .unwrap_or_default();
        let ctx = SyncContext::of(&m, &dir);
        if let Some(sync) = r.sync.as_mut() {
            if let Err(why) = sync(&ctx) {
                return Ok(Some(Stop {
                    member: Some(m.name.clone()),
                    why: format!("the sync hook failed: {why}"),
                }));
            }
            events(CaRotationEvent::Synced {
                member: m.name.clone(),
            });
        }
        let started = Instant::now();
        if let Err(why) = (r.restart)(&ctx) {
            return Ok(Some(Stop {
                member: Some(m.name.clone()),
                why: format!("the restart hook failed: {why}"),
            }));
        }
        events(CaRotationEvent::Restarted {
            member: m.name.clone(),
        });
        let deadline = started + r.timeout;
        if let Err(why) = back_and_shown(r, &m, &list.members, want, deadline, events).await {
            return Ok(Some(Stop {
                member: Some(m.name.clone()),
                why,
            }));
        }
        events(CaRotationEvent::Proven {
            member: m.name.clone(),
            what: format!(
                "back and healthy {:.1}s after its restart",
                started.elapsed().as_secs_f64()
            ),
        });
    }
    Ok(None)
}

/// Why the cluster is not ready for a rotation step, if so: a member not started, or not
/// healthy.
pub(crate) async fn ready(conn: &Connection, all: &[MemberInfo]) -> Option<String> {
    if let Some(u) = all.iter().find(|o| !o.started()) {
        return Some(format!(
            "member {} has not started: a restart now could cost the cluster its quorum; start it or remove it first",
            u.label()
        ));
    }
    let deadline = conn.deadline();
    let mut unhealthy = Vec::new();
    for o in all {
        let Some(e) = client_endpoint(o) else {
            unhealthy.push(format!("{} lists no client URL", o.label()));
            continue;
        };
        let h = health_until(conn, e, deadline).await;
        if !h.health {
            unhealthy.push(format!(
                "{} ({e}): {}",
                o.label(),
                h.error
                    .map_or_else(|| "unhealthy".to_string(), |e| e.to_string())
            ));
        }
    }
    if !unhealthy.is_empty() {
        return Some(format!(
            "not every member is healthy: {}; nothing more is changed until they are: bring them back, then run this again",
            unhealthy.join("; ")
        ));
    }
    None
}

/// Why `m` must not be restarted now, if so: the cluster [`ready`], and quorum kept without it.
pub(crate) async fn precheck(
    conn: &Connection,
    all: &[MemberInfo],
    m: &MemberInfo,
) -> Option<String> {
    if let Some(why) = ready(conn, all).await {
        return Some(format!("{} is not restarted: {why}", m.name));
    }
    let voters = all.iter().filter(|o| !o.is_learner).count();
    let quorum = voters / 2 + 1;
    if !m.is_learner && voters - 1 < quorum {
        return Some(format!(
            "the cluster has {voters} voting member(s): while {} restarts the others ({}) are fewer than a quorum ({quorum}), so the cluster would stop; grow it to 3 members first, or restart it by hand in a maintenance window",
            m.name,
            voters - 1
        ));
    }
    None
}

/// Moves leadership away from `m` when it leads.
pub(crate) async fn hand_over_leadership(
    conn: &Connection,
    all: &[MemberInfo],
    m: &MemberInfo,
    events: &mut dyn FnMut(CaRotationEvent),
) -> Option<Stop> {
    if leader_id(conn, all).await != Some(m.id) {
        return None;
    }
    let to = all
        .iter()
        .find(|o| o.id != m.id && !o.is_learner && o.started())?;
    match move_leadership(conn, m, to).await {
        Ok(()) => {
            events(CaRotationEvent::LeadershipMoved {
                from: m.name.clone(),
                to: to.name.clone(),
            });
            None
        }
        Err(e) => Some(Stop {
            member: Some(m.name.clone()),
            why: format!("the leader could not hand over leadership before its restart: {e}"),
        }),
    }
}

/// Waits until the restarted member is healthy, the cluster caught up, and its ports show
/// `want`; why not by `deadline`.
async fn back_and_shown(
    r: &Roll<'_, '_>,
    m: &MemberInfo,
    all: &[MemberInfo],
    want: Want,
    deadline: Deadline,
    events: &mut dyn FnMut(CaRotationEvent),
) -> Result<(), String> {
    let endpoint = client_endpoint(m)
        .ok_or_else(|| format!("{} lists no client URL", m.name))?
        .to_string();
    // Healthy again.
    loop {
        let step = (Instant::now() + r.conn.request_timeout()).min(deadline);
        let h = health_until(r.conn, &endpoint, step).await;
        if h.health {
            break;
        }
        if Instant::now() + POLL >= deadline {
            return Err(format!(
                "{endpoint} is not healthy {:?} after the restart: {}; look at its log (a trust file it cannot read?)",
                r.timeout,
                h.error.map_or_else(|| "no answer".to_string(), |e| e.to_string())
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    keeps_up(r.conn, all, deadline).await?;
    // Its ports show what the phase wants.
    loop {
        let views = view_member(m, r.cas, r.identities, deadline).await;
        if !views.is_empty()
            && views
                .iter()
                .all(|v| v.problem.is_none() && v.requires_certificate == Some(false))
        {
            events(CaRotationEvent::Warning {
                what: format!(
                    "{} asks no client for a certificate on any port, so what it trusts cannot be seen from outside: it restarted with its new trust files, unproven",
                    m.name
                ),
            });
            return Ok(());
        }
        match want.shown(&views) {
            Ok(()) => {
                for what in want.proof(&views) {
                    events(CaRotationEvent::Proven {
                        member: m.name.clone(),
                        what,
                    });
                }
                return Ok(());
            }
            Err(why) if Instant::now() + POLL >= deadline => {
                return Err(format!(
                "after its restart {why}: did the restart hook restart it, with the files of {}?",
                m.name
            ))
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

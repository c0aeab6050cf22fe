//! `upgrade plan`: what an upgrade would start from, and whether it may (see the module docs of
//! [`crate::upgrade`]).

use std::path::Path;
use std::time::{Duration, SystemTime};

use pki_core::{CertPool, CheckId, Finding, Status};

use super::traps::known_issues;
use super::{UpgradeRequest, Version};
use crate::ca_rotation::roll::ready;
use crate::connection::Connection;
use crate::error::Result;
use crate::etcd_rules::AppliedRules;
use crate::probe::{versions, Identity};
use crate::served::{cluster_endpoints, probe_all};
use crate::state::{client_endpoint, member_list, status_until, MemberInfo};

/// A member and the version it runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MemberVersion {
    /// The member.
    pub member: MemberInfo,
    /// Its server version, when it answered.
    pub version: Option<Version>,
}

/// What an upgrade starts from and whether it may.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UpgradePlan {
    /// Every member and its version.
    pub members: Vec<MemberVersion>,
    /// The cluster version (`/version`'s etcdcluster), when a member answered it.
    pub cluster_version: Option<Version>,
    /// The lowest version the members run.
    pub from: Option<Version>,
    /// The minor every member is to end on.
    pub to: Option<(u32, u32)>,
    /// Every check, in order.
    pub findings: Vec<Finding>,
}

impl UpgradePlan {
    /// Whether `apply` may proceed: no check failed.
    pub fn may_proceed(&self) -> bool {
        self.findings.iter().all(|f| f.status != Status::Fail)
    }
}

/// How long a snapshot counts as recent.
const RECENT: Duration = Duration::from_secs(24 * 3600);

/// Checks everything an upgrade needs; changes nothing.
///
/// # Errors
/// No endpoint answering the member list.
pub async fn plan(conn: &Connection, req: &UpgradeRequest) -> Result<UpgradePlan> {
    let list = member_list(conn).await?;
    let deadline = conn.deadline();
    let identity = match conn.client_files() {
        Some((cert, key)) => Some(Identity::from_files(cert, key)?),
        None => None,
    };
    let mut members = Vec::new();
    let mut cluster_version = None;
    for m in &list.members {
        let mut version = None;
        if let Some(e) = client_endpoint(m) {
            if let Ok(s) = status_until(conn, e, deadline).await.status {
                version = Version::parse(&s.version);
            }
            if cluster_version.is_none() {
                if let Ok(url) = pki_core::HostUrl::parse(e) {
                    if let Ok((_, cluster)) = versions(&url, identity.as_ref(), deadline).await {
                        cluster_version = Version::parse(&cluster);
                    }
                }
            }
        }
        members.push(MemberVersion {
            member: m.clone(),
            version,
        });
    }
    let mut findings = Vec::new();
    // Every member started and healthy.
    match ready(conn, &list.members).await {
        Some(why) => findings.push(Finding::fail(CheckId::MembersHealthy, why)),
        None => findings.push(Finding::pass(
            CheckId::MembersHealthy,
            format!("all {} members started and healthy", list.members.len()),
        )),
    }
    // Quorum while one restarts; no learner mid-promotion.
    let voters = list.members.iter().filter(|m| !m.is_learner).count();
    let quorum = voters / 2 + 1;
    findings.push(if voters >= 3 {
        Finding::pass(
            CheckId::FaultTolerance,
            format!("{voters} voters, quorum {quorum}: one member may restart at a time"),
        )
    } else {
        Finding::fail(
            CheckId::FaultTolerance,
            format!("{voters} voter(s): while one restarts the others are fewer than a quorum ({quorum}); grow the cluster to 3 members first, or upgrade in a maintenance window"),
        )
    });
    if let Some(l) = list.members.iter().find(|m| m.is_learner) {
        findings.push(Finding::fail(
            CheckId::LearnerLimit,
            format!("{} is a learner: promote it (etcd-pki member promote --wait) or remove it before the upgrade", l.label()),
        ));
    }
    // Versions and the step.
    let running: Vec<Version> = members.iter().filter_map(|m| m.version).collect();
    let from = running.iter().min().copied();
    let top = running.iter().max().copied();
    // Without --to, an upgrade recorded in the snapshot directory is finished, not followed by
    // the next one.
    let mut to = req.to.or_else(|| super::recorded_target(&req.snapshot_dir));
    match (from, top) {
        (Some(low), Some(high)) if members.iter().all(|m| m.version.is_some()) => {
            let target = to.unwrap_or(if (high.major, high.minor) > (low.major, low.minor) {
                (high.major, high.minor)
            } else {
                low.next_minor()
            });
            to = Some(target);
            findings.push(step_finding(low, high, target, &members));
            findings.extend(known_issues(low, target, &running));
        }
        _ => findings.push(Finding::fail(
            CheckId::UpgradePath,
            "not every member reported its version: bring every member back first",
        )),
    }
    // Certificates each member serves: valid for the window, covering the URL, under the Go
    // rules of every version running and of the target.
    let mut judged_for: Vec<(String, Option<String>)> = members
        .iter()
        .filter(|m| m.member.started())
        .map(|m| (m.member.label(), m.version.map(|v| v.to_string())))
        .collect();
    if let Some((major, minor)) = to {
        judged_for.push(("the target".to_string(), Some(format!("{major}.{minor}.0"))));
    }
    let rules = AppliedRules::decide(req.rules, &judged_for);
    findings.push(rules.finding());
    findings.extend(served_certificates(conn, identity.as_ref(), &rules).await?);
    findings.push(snapshot_finding(&req.snapshot_dir));
    Ok(UpgradePlan {
        members,
        cluster_version,
        from,
        to,
        findings,
    })
}

/// One minor at a time, every member on one minor (or, mid-upgrade, on the old or the target).
fn step_finding(low: Version, high: Version, to: (u32, u32), members: &[MemberVersion]) -> Finding {
    let listed: Vec<String> = members
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m.member.name,
                m.version.map_or("?".into(), |v| v.to_string())
            )
        })
        .collect();
    let one_minor = (low.major, low.minor + 1) == to || (low.major, low.minor) == to;
    let mixed = (low.major, low.minor) != (high.major, high.minor);
    if to.0 != low.major || !one_minor {
        return Finding::fail(
            CheckId::UpgradePath,
            format!(
                "{} to {}.{} skips a minor version: etcd supports one minor at a time ({}); upgrade to {}.{} first",
                low.minor_text(),
                to.0,
                to.1,
                listed.join(", "),
                low.major,
                low.minor + 1
            ),
        );
    }
    if mixed && (high.major, high.minor) != to {
        return Finding::fail(
            CheckId::UpgradePath,
            format!(
                "the members run different minors ({}): bring them to one first",
                listed.join(", ")
            ),
        );
    }
    if (low.major, low.minor) == to {
        return Finding::pass(
            CheckId::UpgradePath,
            format!(
                "every member already runs {}.{} ({}); give --to for the next minor",
                to.0,
                to.1,
                listed.join(", ")
            ),
        );
    }
    Finding::pass(
        CheckId::UpgradePath,
        format!(
            "{} to {}.{}{}: one minor step ({})",
            low.minor_text(),
            to.0,
            to.1,
            if mixed { ", already under way" } else { "" },
            listed.join(", ")
        ),
    )
}

/// What every member serves on its client and peer ports, judged for 30 days and its URL.
async fn served_certificates(
    conn: &Connection,
    identity: Option<&Identity>,
    rules: &AppliedRules,
) -> Result<Vec<Finding>> {
    let roots: Option<CertPool> = match &conn.options().ca_file {
        Some(ca) => Some(pki_core::load_certificates(ca)?.into_iter().collect()),
        None => None,
    };
    let endpoints = cluster_endpoints(conn).await?;
    let n = endpoints.len();
    let served = probe_all(endpoints, identity, conn.request_timeout(), 8).await;
    let at = time::OffsetDateTime::now_utc();
    let mut failed = Vec::new();
    for s in &served {
        let findings = s.judge(roots.as_ref(), at, Some(time::Duration::days(30)), rules);
        for f in findings.into_iter().filter(|f| f.status == Status::Fail) {
            failed.push(format!("{}: {}", s.endpoint.url.url, f.message));
        }
    }
    Ok(vec![if failed.is_empty() {
        Finding::pass(
            CheckId::ServedCertificate,
            format!("the {n} client and peer ports serve certificates valid for 30 more days that cover their URLs: every member can restart"),
        )
    } else {
        Finding::fail(
            CheckId::ServedCertificate,
            format!("a member restarted now would not work: {}; fix the certificates first (etcd-pki doctor, rotate)", failed.join("; ")),
        )
    }])
}

/// A snapshot in `dir` from the last day (WARN if none: apply takes one anyway).
fn snapshot_finding(dir: &Path) -> Finding {
    let newest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "db"))
        .filter_map(|e| e.metadata().ok()?.modified().ok().map(|t| (t, e.path())))
        .max_by_key(|(t, _)| *t);
    match newest {
        Some((t, p)) if SystemTime::now().duration_since(t).unwrap_or_default() < RECENT => {
            Finding::pass(
                CheckId::Snapshot,
                format!(
                    "{} is less than a day old; apply takes another first",
                    pki_core::display_path(&p)
                ),
            )
        }
        _ => Finding::warn(
            CheckId::Snapshot,
            format!(
                "no snapshot of the last day in {}: apply saves one there first",
                pki_core::display_path(dir)
            ),
        ),
    }
}

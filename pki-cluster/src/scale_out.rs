//! Growing a cluster by one member, safely and resumably: the runbook's sections 2.1.3-2.1.4
//! as one operation.
//!
//! 1. preflight; any failure stops it with nothing changed. With a CA key and `fix_certs`, the
//!    new member's certificates that do not cover it are reissued in place (backups kept), then
//!    preflight runs again: the shared layout. In a per-member layout ([`IssueLike`]), the new
//!    member's own certificates are issued first, modelled on an existing member's, into
//!    `OUT/NAME/pki` (never into another member's files), and preflight checks those;
//! 2. a snapshot of the cluster into the output directory;
//! 3. `member add` as a learner (again while etcd answers "unhealthy cluster", for up to
//!    [`SETTLE`](crate::SETTLE));
//! 4. the new node's files (see [`crate::node_files`]);
//! 5. the caller's [`StartHook`] starts the member (or a person does); it waits for the learner
//!    to run and catch up, promotes it, and checks every member's health;
//! 6. on timeout, or if the hook reports a failure, it removes the learner: the cluster is as
//!    before.
//!
//! Where it is, is read from the cluster each time it runs: a learner with the new peer URL
//! means the add happened (resume at step 4), a started voter means the job is done. Progress
//! is reported as [`ScaleOutEvent`]s; nothing is printed.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use pki_core::write::write_all_as;
use pki_core::{
    CertificateAuthority, CertificateCheck, CheckId, Finding, Host, IssueRequest, Role, Status,
    Subject,
};
use time::OffsetDateTime;

use crate::connection::Connection;
use crate::error::{Error, Refusal, Result};
use crate::etcd_rules::AppliedRules;
use crate::member_certificates::reissue_to_cover;
use crate::membership::{
    promote_member, retry_while_unhealthy, send_add, send_remove, timed_out_reason, LearnerState,
    Promotion,
};
use crate::node_files::{node_files, write_node_files, NodeSettings, PkiNames};
use crate::preflight::{preflight, PreflightReport, PreflightRequest};
use crate::rules::normalise_url;
use crate::snapshot::{save_snapshot, SavedSnapshot};
use crate::state::{health_all, member_list, ClusterState, Health, MemberInfo};

/// What to grow the cluster by.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScaleOutRequest {
    /// The new member, its URLs and files, as preflight checks it (as a learner).
    pub member: PreflightRequest,
    /// The CA certificate and key to reissue the new member's certificates with, when they do
    /// not cover it (`None`: a failing coverage check stops the operation like any other).
    pub fix_certs_with: Option<(PathBuf, PathBuf)>,
    /// Where the snapshot and the node files go.
    pub out_dir: PathBuf,
    /// The node files' settings.
    pub node: NodeSettings,
    /// How long to wait for the new member to start and catch up.
    pub timeout: Duration,
    /// Issue the new member certificates of its own, modelled on an existing member's, with the
    /// CA of `fix_certs_with` (a per-member layout), instead of reissuing shared ones.
    pub issue_like: Option<IssueLike>,
}

/// The existing member to model a new member's own certificates on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssueLike {
    /// Its certificate directory.
    pub template: PathBuf,
    /// Its name, when neither its directory nor its certificates tell it.
    pub template_name: Option<String>,
}

impl IssueLike {
    /// The member whose certificates are in `template`.
    pub fn new(template: impl Into<PathBuf>) -> IssueLike {
        IssueLike {
            template: template.into(),
            template_name: None,
        }
    }

    /// Its name.
    #[must_use]
    pub fn template_name(mut self, name: impl Into<String>) -> IssueLike {
        self.template_name = Some(name.into());
        self
    }
}

impl ScaleOutRequest {
    /// Adds `member`, writing into `out_dir`, waiting up to 10 minutes.
    pub fn new(member: PreflightRequest, out_dir: impl Into<PathBuf>) -> ScaleOutRequest {
        ScaleOutRequest {
            member,
            fix_certs_with: None,
            out_dir: out_dir.into(),
            node: NodeSettings::default(),
            timeout: Duration::from_secs(600),
            issue_like: None,
        }
    }

    /// Reissue the new member's certificates that do not cover it with this CA.
    #[must_use]
    pub fn fix_certs_with(
        mut self,
        ca_cert: impl Into<PathBuf>,
        ca_key: impl Into<PathBuf>,
    ) -> ScaleOutRequest {
        self.fix_certs_with = Some((ca_cert.into(), ca_key.into()));
        self
    }

    /// Issue the new member's own certificates modelled on `like` (needs the CA of
    /// [`ScaleOutRequest::fix_certs_with`]), into [`ScaleOutRequest::issued_dir`].
    #[must_use]
    pub fn issue_like(mut self, like: IssueLike) -> ScaleOutRequest {
        self.issue_like = Some(like);
        self
    }

    /// Where the new member's own certificates go: `OUT/NAME/pki`.
    pub fn issued_dir(&self) -> PathBuf {
        self.out_dir.join(&self.member.name).join("pki")
    }

    /// The node files' settings.
    #[must_use]
    pub fn node(mut self, node: NodeSettings) -> ScaleOutRequest {
        self.node = node;
        self
    }

    /// How long to wait for the new member.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> ScaleOutRequest {
        self.timeout = timeout;
        self
    }
}

/// A future that resolves, with the reason, if starting the member failed; it never resolves
/// while the member runs (or when nobody watches it).
pub type StartWatch = Pin<Box<dyn Future<Output = String> + Send>>;

/// Starts the new member once its files are written in the given directory: a process, a
/// remote command, an orchestrator call. `Err` means it could not be started (the learner is
/// removed again); the [`StartWatch`] reports a failure that comes later.
pub type StartHook = Box<dyn FnOnce(&Path) -> std::result::Result<StartWatch, String> + Send>;

/// What a scale-out did, step by step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ScaleOutEvent {
    /// The peer URL is another started member's: nothing was changed.
    UrlTakenByOther {
        /// That member.
        member: MemberInfo,
    },
    /// The new member is already a started voter: nothing to do but check health.
    AlreadyVoter {
        /// The member.
        member: MemberInfo,
    },
    /// The new member was added as a voter and has not started: resuming at its files.
    ResumingUnstartedVoter {
        /// Its ID.
        id: u64,
    },
    /// The new member is already a learner: resuming at its files.
    ResumingLearner {
        /// The learner.
        member: MemberInfo,
    },
    /// A run of the pre-flight checks.
    Preflight(PreflightReport),
    /// The certificates fail for other reasons than coverage: the fix cannot help; nothing was
    /// changed.
    FixCertsNotApplicable,
    /// The new member's own certificates were issued.
    CertificatesIssued {
        /// Where.
        dir: PathBuf,
        /// What.
        plan: Box<pki_core::IssuePlan>,
    },
    /// The new member's own certificates were issued by an earlier run: used as they are.
    CertificatesReused {
        /// Where.
        dir: PathBuf,
    },
    /// A certificate was reissued with the new member's hosts.
    CertificateReissued {
        /// The file.
        file: PathBuf,
        /// The SANs added.
        added: Vec<String>,
        /// The old file's backup.
        backup: Option<PathBuf>,
    },
    /// The pre-flight checks failed: nothing was changed in the cluster.
    Stopped,
    /// etcd refused a change as "unhealthy cluster"; retrying for up to [`SETTLE`](crate::SETTLE) (once).
    RetryingUnhealthy,
    /// The snapshot before the change.
    SnapshotSaved(SavedSnapshot),
    /// The learner was added.
    LearnerAdded {
        /// Its ID.
        id: u64,
    },
    /// The add's answer was lost, but the member list shows the learner.
    AddAppliedDespiteLostAnswer {
        /// Its ID.
        id: u64,
        /// Why the answer was lost.
        cause: Error,
    },
    /// The node files were written.
    NodeFilesWritten {
        /// Their directory.
        dir: PathBuf,
    },
    /// Waiting for the member to start and catch up.
    Waiting {
        /// For up to this long.
        timeout: Duration,
    },
    /// Where the learner stands.
    Learner(LearnerState),
    /// The member was promoted.
    Promoted {
        /// Its ID.
        id: u64,
        /// The cluster's ID.
        cluster_id: u64,
    },
    /// The member did not join; the change is being undone.
    GivingUp {
        /// Why.
        why: String,
    },
    /// The member is no longer in the cluster: nothing to undo.
    AlreadyGone {
        /// Its ID.
        id: u64,
    },
    /// The member that did not join was removed again: the cluster is as before the add.
    Removed {
        /// Its ID.
        id: u64,
        /// Whether it was still a learner.
        was_learner: bool,
    },
    /// Removing it failed: a person must remove it.
    RemoveFailed {
        /// Its ID.
        id: u64,
        /// Whether it was still a learner.
        was_learner: bool,
        /// Why.
        error: Error,
    },
    /// The member had started: its data directory holds the removed member's ID and must be
    /// emptied before another try.
    MemberHadStarted {
        /// The data directory (on the new node).
        data_dir: PathBuf,
    },
    /// Every endpoint's health at the end.
    Health(Vec<Health>),
}

/// How a scale-out ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScaleOutOutcome {
    /// The new member is a started, healthy voter, as are all the others.
    Done {
        /// How many voters the cluster has.
        voters: usize,
    },
    /// Nothing was changed (a check refused, or the URL is another member's).
    Stopped,
    /// The member did not join, and the change was undone (see the events).
    NotJoined,
    /// The member joined, but the cluster is not all well.
    Unhealthy {
        /// What is wrong.
        problems: Vec<String>,
    },
}

/// Runs a scale-out (see the module docs). `start` starts the member once its files are
/// written (`None`: a person does); `events` hears every step.
///
/// # Errors
/// Bad input (unreadable files, a CA that cannot sign), etcd unreachable, or etcd refusing a
/// change in a way that is not part of the operation (see [`Refusal`]).
pub async fn scale_out(
    conn: &Connection,
    req: &ScaleOutRequest,
    start: Option<StartHook>,
    mut events: impl FnMut(ScaleOutEvent),
) -> Result<ScaleOutOutcome> {
    let member = &req.member;
    std::fs::create_dir_all(&req.out_dir).map_err(|e| Error::Write {
        path: req.out_dir.clone(),
        cause: e.to_string(),
    })?;
    let peer_urls = member.urls.peer_strings();
    let list = member_list(conn).await?;
    let existing = list
        .members
        .iter()
        .find(|m| {
            m.peer_urls.iter().any(|p| {
                peer_urls
                    .iter()
                    .any(|u| normalise_url(u) == normalise_url(p))
            })
        })
        .cloned();
    let id = match existing {
        // A started member knows its name: the URL is someone else's if the names differ.
        Some(m) if m.started() && m.name != member.name => {
            events(ScaleOutEvent::UrlTakenByOther { member: m });
            return Ok(ScaleOutOutcome::Stopped);
        }
        Some(m) if !m.is_learner && m.started() => {
            let id = m.id;
            events(ScaleOutEvent::AlreadyVoter { member: m });
            return finish(conn, id, &mut events).await;
        }
        Some(m) if !m.is_learner => {
            events(ScaleOutEvent::ResumingUnstartedVoter { id: m.id });
            m.id
        }
        Some(m) => {
            let id = m.id;
            events(ScaleOutEvent::ResumingLearner { member: m });
            id
        }
        None => match prepare_and_add(conn, req, &mut events).await? {
            Some(id) => id,
            None => return Ok(ScaleOutOutcome::Stopped),
        },
    };

    // 4. The node files.
    let list = member_list(conn).await?;
    // The unit names the new member's own files when they were issued for it.
    let issued_names = req
        .issue_like
        .as_ref()
        .and_then(|_| pki_core::member_files(req.issued_dir()).ok())
        .and_then(|roles| PkiNames::from_member_files(&roles));
    let node = match issued_names {
        Some(names) => req.node.clone().pki_names(names),
        None => req.node.clone(),
    };
    let files = node_files(&member.name, &member.urls, &list, &node);
    let node_dir = write_node_files(&req.out_dir, &files)?;
    events(ScaleOutEvent::NodeFilesWritten {
        dir: node_dir.clone(),
    });
    let watch = match start {
        Some(hook) => match hook(&node_dir) {
            Ok(watch) => Some(watch),
            Err(why) => return give_up(conn, id, req, why, &mut events).await,
        },
        None => None,
    };

    // 5. Wait for it to start and catch up, then promote; a failing start ends the wait.
    events(ScaleOutEvent::Waiting {
        timeout: req.timeout,
    });
    let hex_id = format!("{id:x}");
    let outcome = {
        let promotion = promote_member(conn, &hex_id, Some(req.timeout), |s| {
            events(ScaleOutEvent::Learner(s.clone()))
        });
        tokio::select! {
            outcome = promotion => outcome,
            why = start_failure(watch) => Err(Error::Hook(why)),
        }
    };
    match outcome {
        Ok(Promotion::Promoted { id, cluster_id }) => {
            events(ScaleOutEvent::Promoted { id, cluster_id });
            finish(conn, id, &mut events).await
        }
        Ok(Promotion::TimedOut {
            learner,
            timeout,
            last,
        }) => {
            let why = timed_out_reason(&learner, timeout, last.as_ref());
            give_up(conn, id, req, why, &mut events).await
        }
        Err(Error::Hook(why)) => give_up(conn, id, req, why, &mut events).await,
        // Added as a voter: once it has caught up, etcd says it is not a learner.
        Err(e) if e.refusal() == Some(&Refusal::NotALearner) => finish(conn, id, &mut events).await,
        Err(e) => Err(e),
    }
}

/// Resolves when the start hook's watch reports a failure; never otherwise.
async fn start_failure(watch: Option<StartWatch>) -> String {
    match watch {
        Some(w) => w.await,
        None => std::future::pending().await,
    }
}

/// Steps 1-3: preflight (and the certificate fix), snapshot, add as a learner. `None` when the
/// preflight refused (nothing was changed).
async fn prepare_and_add(
    conn: &Connection,
    req: &ScaleOutRequest,
    events: &mut impl FnMut(ScaleOutEvent),
) -> Result<Option<u64>> {
    let issued;
    let member = match (&req.issue_like, &req.fix_certs_with) {
        (Some(like), Some((ca_cert, ca_key))) => {
            issued = issue_own(req, like, ca_cert, ca_key, events)?;
            &issued
        }
        _ => &req.member,
    };
    let mut report = preflight(conn, member).await?;
    if !report.passed() && req.issue_like.is_none() {
        if let Some((ca_cert, ca_key)) = &req.fix_certs_with {
            events(ScaleOutEvent::Preflight(report.clone()));
            if !only_coverage_failures(&report.findings) {
                events(ScaleOutEvent::FixCertsNotApplicable);
                return Ok(None);
            }
            for fixed in fix_certificates(member, ca_cert, ca_key, &report.rules)? {
                events(fixed);
            }
            report = preflight(conn, member).await?;
        }
    }
    let passed = report.passed();
    events(ScaleOutEvent::Preflight(report));
    if !passed {
        events(ScaleOutEvent::Stopped);
        return Ok(None);
    }
    let stamp = OffsetDateTime::now_utc().unix_timestamp();
    let saved = save_snapshot(
        conn,
        req.out_dir
            .join(format!("snapshot-before-{}-{stamp}.db", member.name)),
    )
    .await?;
    events(ScaleOutEvent::SnapshotSaved(saved));
    let added = add_learner(conn, &member.name, &member.urls.peer_strings(), events).await?;
    Ok(Some(added))
}

/// Issues the new member's own certificates into [`ScaleOutRequest::issued_dir`] (or finds
/// those an earlier run issued there), and returns the member as preflight checks it: with
/// those files.
fn issue_own(
    req: &ScaleOutRequest,
    like: &IssueLike,
    ca_cert: &Path,
    ca_key: &Path,
    events: &mut impl FnMut(ScaleOutEvent),
) -> Result<PreflightRequest> {
    let dir = req.issued_dir();
    let member = &req.member;
    let ca = CertificateAuthority::open(ca_cert, ca_key)?;
    if pki_core::check_output_dir(&dir).is_err() && issued_for(&dir, member, &ca) {
        events(ScaleOutEvent::CertificatesReused { dir: dir.clone() });
    } else {
        let mut issue = IssueRequest::new(&member.name, &like.template);
        if let Some(n) = &like.template_name {
            issue = issue.like_name(n);
        }
        for host in member
            .urls
            .peer_hosts()
            .into_iter()
            .chain(member.urls.client_hosts())
        {
            match host {
                Host::Ip(ip) if !issue.ips.contains(&ip) => issue = issue.ip(ip),
                Host::Dns(d) if !issue.dns.iter().any(|x| x.eq_ignore_ascii_case(&d)) => {
                    issue = issue.dns(d)
                }
                _ => {}
            }
        }
        pki_core::check_output_dir(&dir)?;
        let issued = pki_core::issue_member(&ca, &issue)?;
        pki_core::write_member(&dir, &issued)?;
        events(ScaleOutEvent::CertificatesIssued {
            dir: dir.clone(),
            plan: Box::new(issued.plan),
        });
    }
    let roles = pki_core::member_files(&dir)?;
    let mut files = member.files.clone();
    let peer = roles.peer.as_ref().ok_or_else(|| no_role(&dir, "peer"))?;
    files.peer_cert = Some(dir.join(&peer.cert));
    files.peer_key = Some(dir.join(&peer.key));
    files.server_cert = roles.server.as_ref().map(|s| dir.join(&s.cert));
    if files.peer_ca.is_none() {
        files.peer_ca = roles.trusted_ca.as_ref().map(|c| dir.join(c));
    }
    Ok(PreflightRequest {
        files,
        ..member.clone()
    })
}

/// Whether a directory holds certificates issued for this member by this CA: its peer
/// certificate chains to the CA and covers the member's peer hosts.
fn issued_for(dir: &Path, member: &PreflightRequest, ca: &CertificateAuthority) -> bool {
    let Ok(roles) = pki_core::member_files(dir) else {
        return false;
    };
    let Some(peer) = roles.peer else {
        return false;
    };
    let Some(ca_file) = ca.certificate_path() else {
        return false;
    };
    let mut check = CertificateCheck::new(dir.join(&peer.cert))
        .key_file(dir.join(&peer.key))
        .ca_file(ca_file)
        .role(Role::Peer);
    for host in member.urls.peer_hosts() {
        check = check.host(host);
    }
    check.run().is_ok_and(|r| !r.failed())
}

fn no_role(dir: &Path, role: &str) -> Error {
    pki_core::Error::InvalidRequest {
        path: Some(dir.to_path_buf()),
        problem: pki_core::RequestProblem::NoCertificateForRole {
            role: role.to_string(),
        },
    }
    .into()
}

/// Whether every failure is one the certificate fix fixes: a certificate that does not cover
/// the new member, and the handshakes refused because of it.
pub fn only_coverage_failures(findings: &[Finding]) -> bool {
    let failing: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .collect();
    let coverage = |f: &&Finding| {
        f.check == CheckId::Coverage
            && matches!(
                f.subject,
                Some(Subject::PeerCertificate | Subject::ServerCertificate)
            )
    };
    failing.iter().any(coverage)
        && failing
            .iter()
            .all(|f| coverage(f) || (f.check == CheckId::Handshake && f.subject.is_some()))
}

/// Adds the new member as a learner; its ID. When the answer is lost (a timeout), the member
/// list says whether the add went through.
async fn add_learner(
    conn: &Connection,
    name: &str,
    peer_urls: &[String],
    events: &mut impl FnMut(ScaleOutEvent),
) -> Result<u64> {
    let added = retry_while_unhealthy(
        || send_add(conn, name, peer_urls, true),
        || events(ScaleOutEvent::RetryingUnhealthy),
    )
    .await;
    let lost = match added {
        Ok(member) => {
            events(ScaleOutEvent::LearnerAdded { id: member.id });
            return Ok(member.id);
        }
        Err(e @ (Error::MaybeApplied { .. } | Error::NoneReachable { .. })) => e,
        Err(e) => return Err(e),
    };
    let list = member_list(conn).await?;
    let wanted: Vec<String> = peer_urls.iter().map(|u| normalise_url(u)).collect();
    match list.members.iter().find(|m| {
        m.peer_urls
            .iter()
            .any(|p| wanted.contains(&normalise_url(p)))
    }) {
        Some(m) => {
            events(ScaleOutEvent::AddAppliedDespiteLostAnswer {
                id: m.id,
                cause: lost,
            });
            Ok(m.id)
        }
        None => Err(lost),
    }
}

/// 6. Puts the cluster back as it was before the add: removes the member that did not join.
async fn give_up(
    conn: &Connection,
    id: u64,
    req: &ScaleOutRequest,
    why: String,
    events: &mut impl FnMut(ScaleOutEvent),
) -> Result<ScaleOutOutcome> {
    events(ScaleOutEvent::GivingUp { why });
    let before = member_list(conn).await?;
    let Some(member) = before.members.iter().find(|m| m.id == id).cloned() else {
        events(ScaleOutEvent::AlreadyGone { id });
        return Ok(ScaleOutOutcome::NotJoined);
    };
    let removed = match send_remove(conn, id, before.cluster_id).await {
        Ok(_) => Ok(()),
        // The answer may be lost although the removal happened: the list tells.
        Err(e) => match member_list(conn).await {
            Ok(list) if list.members.iter().all(|m| m.id != id) => Ok(()),
            _ => Err(e),
        },
    };
    events(match removed {
        Ok(()) => ScaleOutEvent::Removed {
            id,
            was_learner: member.is_learner,
        },
        Err(error) => ScaleOutEvent::RemoveFailed {
            id,
            was_learner: member.is_learner,
            error,
        },
    });
    if member.started() {
        events(ScaleOutEvent::MemberHadStarted {
            data_dir: req.node.data_dir.clone(),
        });
    }
    Ok(ScaleOutOutcome::NotJoined)
}

/// The new member must be a started voter, every member started, every endpoint healthy.
async fn finish(
    conn: &Connection,
    id: u64,
    events: &mut impl FnMut(ScaleOutEvent),
) -> Result<ScaleOutOutcome> {
    let state = ClusterState::fetch(conn).await?;
    let endpoints: Vec<String> = state
        .list
        .members
        .iter()
        .flat_map(|m| m.client_urls.clone())
        .collect();
    let health = health_all(conn, &endpoints).await;
    let all_healthy = health.iter().all(|h| h.health);
    events(ScaleOutEvent::Health(health));
    let mut problems = Vec::new();
    match state.list.members.iter().find(|m| m.id == id) {
        None => problems.push(format!("{id:x} is not a member")),
        Some(m) if m.is_learner => problems.push(format!("{} is still a learner", m.label())),
        Some(_) => {}
    }
    let unstarted: Vec<String> = state
        .list
        .members
        .iter()
        .filter(|m| !m.started())
        .map(|m| m.label())
        .collect();
    if !unstarted.is_empty() {
        problems.push(format!(
            "not started: {} (a voter that never starts counts toward the quorum)",
            unstarted.join(", ")
        ));
    }
    if !all_healthy {
        problems.push("not every endpoint is healthy: see above".into());
    }
    let voters = state.list.members.iter().filter(|m| !m.is_learner).count();
    Ok(if problems.is_empty() {
        ScaleOutOutcome::Done { voters }
    } else {
        ScaleOutOutcome::Unhealthy { problems }
    })
}

/// Reissues, in place with backups, the new member's peer and server certificates that do not
/// cover its URLs, both in one transaction.
fn fix_certificates(
    member: &PreflightRequest,
    ca_cert: &Path,
    ca_key: &Path,
    rules: &AppliedRules,
) -> Result<Vec<ScaleOutEvent>> {
    let now = OffsetDateTime::now_utc();
    let ca = CertificateAuthority::load(ca_cert, ca_key, now)?;
    // Only files named as the new member's: never the client certificate of the connection.
    let targets = [
        (
            member.files.peer_cert.as_deref(),
            Role::Peer,
            member.urls.peer_hosts(),
        ),
        (
            member.files.server_cert.as_deref(),
            Role::Server,
            member.urls.client_hosts(),
        ),
    ];
    let mut writes = Vec::new();
    let mut fixed = Vec::new();
    for (cert, role, hosts) in targets {
        let Some(cert) = cert else { continue };
        if let Some((w, added)) = reissue_to_cover(cert, role, &hosts, &ca, now, rules)? {
            writes.extend(w);
            fixed.push((cert.to_path_buf(), added));
        }
    }
    // Both certificates, or neither.
    let written = write_all_as("scale-out certificate fix", &writes)?;
    Ok(fixed
        .into_iter()
        .map(|(file, added)| {
            let backup = written
                .backups
                .iter()
                .find(|(f, _)| *f == file)
                .map(|(_, b)| b.clone());
            ScaleOutEvent::CertificateReissued {
                file,
                added,
                backup,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(status: Status, check: CheckId, subject: Option<Subject>) -> Finding {
        let f = Finding::new(check, status, "");
        match subject {
            Some(s) => f.about(s),
            None => f,
        }
    }

    #[test]
    fn the_certificate_fix_fixes_coverage_and_nothing_else() {
        let infra0 = || Some(Subject::Member("infra0".into()));
        let coverage = vec![
            finding(Status::Pass, CheckId::MembersHealthy, None),
            finding(
                Status::Fail,
                CheckId::Coverage,
                Some(Subject::PeerCertificate),
            ),
            finding(
                Status::Fail,
                CheckId::Coverage,
                Some(Subject::ServerCertificate),
            ),
            finding(Status::Fail, CheckId::Handshake, infra0()),
            finding(Status::Warn, CheckId::FaultTolerance, None),
        ];
        assert!(only_coverage_failures(&coverage));
        let mut unrelated = coverage.clone();
        unrelated.push(finding(Status::Fail, CheckId::ServedCertificate, infra0()));
        assert!(!only_coverage_failures(&unrelated));
        // A refused handshake alone is not a coverage problem this can fix.
        assert!(!only_coverage_failures(&[finding(
            Status::Fail,
            CheckId::Handshake,
            infra0()
        )]));
    }
}

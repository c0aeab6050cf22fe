//! `etcd-pki scale-out` and `scale-in`: the runbook's sections 2.1.3-2.1.4 and 3 as one guarded,
//! resumable workflow each.
//!
//! scale-out: preflight (and with `--fix-certs`, reissue what does not cover the new member);
//! snapshot; add as a learner; write the node files; wait for the member to start and catch up;
//! promote; check health. Where it is, is read from the cluster each time it runs: a learner
//! with the new peer URL means the add happened (resume at the wait), a started voter means the
//! job is done. On timeout the learner is removed again, leaving the cluster as it was.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use etcd_client::MemberAddOptions;
use pki_core::write::{write_all, FileWrite};
use pki_core::{
    check, display_path, CertificateAuthority, CheckInput, Host, ReissueRequest, Role, Status,
};
use time::OffsetDateTime;

use super::config::{node_files, write_node_files};
use super::endpoint::health_text;
use super::member::{promote_when_ready, removal_failures, removed_line, Promotion};
use super::preflight::{checks, summary, Urls};
use crate::checks::{rows_text, Row};
use crate::cli::{ScaleInArgs, ScaleOutArgs};
use crate::etcd::connect::{block_on, Etcd};
use crate::etcd::errors::EtcdError;
use crate::etcd::leader::{move_leadership, successor};
use crate::etcd::snapshot;
use crate::etcd::state::{health_all, member_list, ClusterState};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::membership::{normalise_url, NOT_THE_LEADER};
use crate::nodefiles::{cluster_line, existing_nodes_file};
use crate::output::print;

pub fn run_out(args: &ScaleOutArgs) -> Result<Outcome> {
    let etcd = Etcd::from_args(&args.connection)?;
    block_on(scale_out(&etcd, args))?
}

pub fn run_in(args: &ScaleInArgs) -> Result<Outcome> {
    let etcd = Etcd::from_args(&args.connection)?;
    block_on(scale_in(&etcd, args))?
}

fn say(text: &str) -> Result<()> {
    print(&format!("{text}\n"))?;
    Ok(())
}

/// `--out`, or `default` in the current directory; created if missing.
fn out_dir(given: Option<&std::path::Path>, default: &str) -> Result<PathBuf> {
    let out = given.map_or_else(|| PathBuf::from(default), std::path::Path::to_path_buf);
    std::fs::create_dir_all(&out)
        .map_err(|e| usage(anyhow!("cannot create {}: {e}", display_path(&out))))?;
    Ok(out)
}

fn say_saved(saved: &snapshot::Saved) -> Result<()> {
    say(&format!(
        "snapshot saved: {} ({} bytes, revision {})",
        display_path(&saved.path),
        saved.size,
        saved.revision
    ))
}

async fn scale_out(etcd: &Etcd, args: &ScaleOutArgs) -> Result<Outcome> {
    let member = &args.member;
    let urls = Urls::parse(member)?;
    if args.fix_certs && member.peer_cert.is_none() && member.server_cert.is_none() {
        return Err(usage(anyhow!(
            "--fix-certs rewrites the new member's certificate files: name them with --peer-cert (and --server-cert)"
        )));
    }
    let out = out_dir(args.out.as_deref(), &format!("etcd-pki-{}", member.name))?;

    let list = member_list(etcd).await?;
    let existing = list
        .members
        .iter()
        .find(|m| {
            m.peer_urls.iter().any(|p| {
                member
                    .peer_urls
                    .iter()
                    .any(|u| normalise_url(u) == normalise_url(p))
            })
        })
        .cloned();
    let id = match existing {
        // A started member knows its name: the URL is someone else's if the names differ.
        Some(m) if m.started() && m.name != member.name => {
            say(&format!(
                "the peer URL {} belongs to member {} ({:x}), not to {}: nothing was changed; give {} its own peer URL",
                m.peer_urls.join(","),
                m.name,
                m.id,
                member.name,
                member.name
            ))?;
            return Ok(Outcome::ProblemsFound);
        }
        Some(m) if !m.is_learner && m.started() => {
            say(&format!(
                "{} ({:x}) is already a started voting member: nothing to do; checking health",
                m.label(),
                m.id
            ))?;
            return finish(etcd, m.id).await;
        }
        Some(m) if !m.is_learner => {
            say(&format!(
                "{:x} was added as a voting member and has not started: writing its files and waiting for it",
                m.id
            ))?;
            m.id
        }
        Some(m) => {
            say(&format!(
                "resuming: {} is already a learner ({:x}); skipping the preflight, snapshot and add",
                m.label(),
                m.id
            ))?;
            m.id
        }
        None => match prepare_and_add(etcd, args, &urls, &out).await? {
            Some(id) => id,
            None => return Ok(Outcome::ProblemsFound),
        },
    };

    // 4. The node files.
    let list = member_list(etcd).await?;
    let node_dir = write_node_files(&out, &node_files(&member.name, &urls, &list, &args.node))?;
    say(&format!(
        "wrote {dir}/etcd.env, etcd.conf, etcd.service and existing-nodes.txt; on {name}: put etcd.conf in /etc/etcd/, the unit in /lib/systemd/system/, the PKI files in {pki}, create {data} owned by the etcd user, then systemctl start etcd",
        dir = display_path(&node_dir),
        name = member.name,
        pki = display_path(&args.node.pki_dir),
        data = display_path(&args.node.data_dir),
    ))?;
    let exec_failed = match &args.exec {
        Some(cmd) => match start_exec(cmd, &node_dir) {
            Ok(watch) => Some(watch),
            Err(why) => return give_up(etcd, id, args, &why).await,
        },
        None => None,
    };

    // 5. Wait for it to start and catch up, then promote; a failing --exec ends the wait.
    say(&format!(
        "waiting up to {:?} for {} to start and catch up",
        args.timeout, member.name
    ))?;
    let hex_id = format!("{id:x}");
    let promotion = promote_when_ready(etcd, &hex_id, true, args.timeout);
    let outcome = tokio::select! {
        outcome = promotion => outcome,
        why = exec_failure(exec_failed) => return give_up(etcd, id, args, &why).await,
    };
    match outcome {
        Ok(Promotion::Promoted { id, cluster_id }) => {
            say(&format!(
                "Member {id:16x} promoted in cluster {cluster_id:16x}"
            ))?;
            finish(etcd, id).await
        }
        Ok(Promotion::TimedOut { why }) => give_up(etcd, id, args, &why).await,
        // Added as a voter: once it has caught up etcd says it is not a learner.
        Err(e)
            if e.error
                .to_string()
                .contains("can only promote a learner member") =>
        {
            finish(etcd, id).await
        }
        Err(e) => Err(e),
    }
}

/// Steps 1-3: preflight (and the certificate fix), snapshot, add as a learner. `None` when the
/// preflight refused (nothing was changed).
async fn prepare_and_add(
    etcd: &Etcd,
    args: &ScaleOutArgs,
    urls: &Urls,
    out: &Path,
) -> Result<Option<u64>> {
    let member = &args.member;
    let show = |rows: &[Row]| {
        say(&format!(
            "preflight for {}:\n{}{}",
            member.name,
            rows_text(rows),
            summary(rows)
        ))
    };
    let mut rows = checks(etcd, &args.connection, member, urls, true).await?;
    if has_failures(&rows) && args.fix_certs {
        show(&rows)?;
        if !only_coverage_failures(&rows) {
            say("--fix-certs fixes only certificates that do not cover the new member; fix the other failures first. Nothing was changed")?;
            return Ok(None);
        }
        fix_certificates(args, urls)?;
        rows = checks(etcd, &args.connection, member, urls, true).await?;
    }
    show(&rows)?;
    if has_failures(&rows) {
        say("stopping: nothing was changed in the cluster")?;
        return Ok(None);
    }
    let stamp = OffsetDateTime::now_utc().unix_timestamp();
    let saved = snapshot::save(
        etcd,
        &out.join(format!("snapshot-before-{}-{stamp}.db", member.name)),
    )
    .await?;
    say_saved(&saved)?;
    let added = add_learner(etcd, &member.peer_urls).await?;
    say(&format!("added {} as a learner: {added:x}", member.name))?;
    Ok(Some(added))
}

/// Whether every failure is one `--fix-certs` fixes: a certificate that does not cover the new
/// member, and the handshakes refused because of it.
fn only_coverage_failures(rows: &[Row]) -> bool {
    let failing: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Fail).collect();
    failing
        .iter()
        .any(|r| r.check.ends_with("certificate coverage"))
        && failing.iter().all(|r| {
            r.check.ends_with("certificate coverage") || r.check.starts_with("handshake with ")
        })
}

/// Starts `--exec` in the background; what it reports when it has failed.
fn start_exec(cmd: &str, node_dir: &Path) -> Result<Arc<Mutex<Option<String>>>, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("ETCD_PKI_NODE_DIR", node_dir)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("--exec could not be started ({e})"))?;
    let failed = Arc::new(Mutex::new(None));
    let report = failed.clone();
    std::thread::spawn(move || {
        let why = match child.wait() {
            Ok(status) if status.success() => return,
            Ok(status) => format!("--exec failed ({status})"),
            Err(e) => format!("--exec could not be waited for ({e})"),
        };
        if let Ok(mut slot) = report.lock() {
            *slot = Some(why);
        }
    });
    Ok(failed)
}

/// Resolves when `--exec` has failed; never when it succeeds, runs on, or was not given.
async fn exec_failure(watch: Option<Arc<Mutex<Option<String>>>>) -> String {
    let Some(watch) = watch else {
        return std::future::pending().await;
    };
    loop {
        if let Some(why) = watch.lock().ok().and_then(|w| w.clone()) {
            return why;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long a membership change is retried while etcd answers "unhealthy cluster" (it refuses
/// changes until every voting member has been connected for 5 s, e.g. right after a promotion).
const SETTLE: Duration = Duration::from_secs(30);

/// Runs a membership change, again while etcd refuses it as "unhealthy cluster" (nothing was
/// changed then), for up to [`SETTLE`].
async fn retry_while_unhealthy<T, F, Fut>(op: F) -> Result<T, EtcdError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, EtcdError>>,
{
    let deadline = Instant::now() + SETTLE;
    let mut said = false;
    loop {
        match op().await {
            Err(e)
                if e.etcd_message()
                    .is_some_and(|m| m.contains("unhealthy cluster"))
                    && Instant::now() < deadline =>
            {
                if !said {
                    eprintln!("etcd refuses membership changes until every voting member has been connected for 5 s (\"unhealthy cluster\"): retrying for up to {SETTLE:?}");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// Adds the new member as a learner; its ID. When the answer is lost (a timeout), the member
/// list says whether the add went through.
async fn add_learner(etcd: &Etcd, peer_urls: &[String]) -> Result<u64> {
    let added = retry_while_unhealthy(|| {
        etcd.change(|mut c| {
            let urls = peer_urls.to_vec();
            async move {
                c.member_add(urls, Some(MemberAddOptions::new().with_is_learner()))
                    .await
            }
        })
    })
    .await;
    let lost = match added {
        Ok(response) => match response.member() {
            Some(m) => return Ok(m.id()),
            None => anyhow!("etcd answered the add without the new member"),
        },
        Err(e @ (EtcdError::Unreachable { .. } | EtcdError::NoneReachable { .. })) => anyhow!(e),
        Err(e) => return Err(e.into()),
    };
    let list = member_list(etcd).await?;
    let wanted: Vec<String> = peer_urls.iter().map(|u| normalise_url(u)).collect();
    match list.members.iter().find(|m| {
        m.peer_urls
            .iter()
            .any(|p| wanted.contains(&normalise_url(p)))
    }) {
        Some(m) => {
            say(&format!(
                "the add was applied although its answer was lost ({lost:#}): the member list shows {:x}",
                m.id
            ))?;
            Ok(m.id)
        }
        None => Err(Failure {
            code: Code::Etcd,
            error: lost.context("the learner was not added (the member list does not show it)"),
        }),
    }
}

/// 6. Puts the cluster back as it was before the add: removes the member that did not join.
async fn give_up(etcd: &Etcd, id: u64, args: &ScaleOutArgs, why: &str) -> Result<Outcome> {
    let name = &args.member.name;
    say(&format!("{name} did not join: {why}"))?;
    let before = member_list(etcd).await?;
    let Some(member) = before.members.iter().find(|m| m.id == id).cloned() else {
        say(&format!(
            "{id:x} is no longer a member: nothing to remove; the cluster is as it was before the add"
        ))?;
        return Err(did_not_complete(name));
    };
    let kind = if member.is_learner {
        "learner"
    } else {
        "voting member"
    };
    let removed = match etcd
        .change(|mut c| async move { c.member_remove(id).await })
        .await
    {
        Ok(_) => Ok(()),
        // The answer may be lost although the removal happened: the list tells.
        Err(e) => match member_list(etcd).await {
            Ok(list) if list.members.iter().all(|m| m.id != id) => Ok(()),
            _ => Err(e),
        },
    };
    match removed {
        Ok(()) => say(&format!(
            "removed the {kind} {id:x}: the cluster is as it was before the add; fix the cause and run scale-out again"
        ))?,
        Err(e) => say(&format!(
            "could not remove the {kind} {id:x} ({e}): remove it with etcd-pki member remove {id:x}"
        ))?,
    }
    if member.started() {
        say(&format!(
            "{name} had started: stop etcd on it and empty its data directory ({}) before running scale-out again; it holds the removed member's ID, which the cluster now refuses",
            display_path(&args.node.data_dir)
        ))?;
    }
    Err(did_not_complete(name))
}

fn did_not_complete(name: &str) -> Failure {
    Failure {
        code: Code::Problem,
        error: anyhow!("scale-out of {name} did not complete"),
    }
}

/// The new member must be a started voter, every member started, every endpoint healthy.
async fn finish(etcd: &Etcd, id: u64) -> Result<Outcome> {
    let state = ClusterState::fetch(etcd).await?;
    let endpoints: Vec<String> = state
        .list
        .members
        .iter()
        .flat_map(|m| m.client_urls.clone())
        .collect();
    let health = health_all(etcd, &endpoints).await;
    print(&health_text(&health))?;
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
    if !health.iter().all(|h| h.health) {
        problems.push("not every endpoint is healthy: see above".into());
    }
    let voters = state.list.members.iter().filter(|m| !m.is_learner).count();
    if problems.is_empty() {
        say(&format!("done: {voters} voting members, all healthy"))?;
        Ok(Outcome::Ok)
    } else {
        say(&format!("not done: {}", problems.join("; ")))?;
        Ok(Outcome::ProblemsFound)
    }
}

fn has_failures(rows: &[Row]) -> bool {
    rows.iter().any(|r| r.status == Status::Fail)
}

/// Reissues, in place with backups, the new member's peer and server certificates that do not
/// cover its URLs.
fn fix_certificates(args: &ScaleOutArgs, urls: &Urls) -> Result<()> {
    let member = &args.member;
    let ca_cert = member
        .peer_cacert
        .as_deref()
        .or(args.connection.cacert.as_deref())
        .ok_or_else(|| {
            usage(anyhow!(
                "--fix-certs needs the CA certificate: give --cacert"
            ))
        })?;
    let ca_key = args
        .ca_key
        .as_deref()
        .ok_or_else(|| usage(anyhow!("--fix-certs needs --ca-key")))?;
    let now = OffsetDateTime::now_utc();
    let ca = CertificateAuthority::load(ca_cert, ca_key, now)?;
    // Only files named as the new member's: never the client certificate of --cert.
    let targets = [
        (member.peer_cert.as_deref(), Role::Peer, &urls.peer),
        (member.server_cert.as_deref(), Role::Server, &urls.client),
    ];
    let mut writes = Vec::new();
    let mut fixed = Vec::new();
    for (cert, role, urls) in targets {
        let Some(cert) = cert else { continue };
        let hosts: Vec<Host> = urls.iter().map(|u| u.host.clone()).collect();
        let chain = pki_core::load_certificates(cert)?;
        let report = check(&CheckInput {
            label: "",
            chain: &chain,
            key: None,
            roots: None,
            role: Some(role),
            hosts: &hosts,
            at: now,
            files: pki_core::EtcdFiles::default(),
            fail_within: None,
            warn_within: time::Duration::ZERO,
        });
        let (add_ips, add_dns) = report.uncovered_hosts();
        if add_ips.is_empty() && add_dns.is_empty() {
            continue;
        }
        let original = pki_core::read_file(cert)?;
        let reissued = pki_core::reissue(
            &chain[0],
            None,
            &ca,
            &ReissueRequest {
                add_ips,
                add_dns,
                ..ReissueRequest::renew(now)
            },
        )
        .map_err(|e| usage(e.with_path(cert)))?;
        writes.extend(pki_core::reissue_writes(&original, &reissued, cert, None)?);
        fixed.push((cert, reissued.plan.added.join(", ")));
    }
    // Both certificates, or neither.
    let written = write_all(&writes)?;
    for (cert, added) in fixed {
        let backup = written
            .backups
            .iter()
            .find(|(file, _)| file == cert)
            .map_or(String::new(), |(_, b)| {
                format!(" (the old file is {})", display_path(b))
            });
        say(&format!(
            "--fix-certs: reissued {} with {added} added{backup}; copy it to the new node",
            display_path(cert),
        ))?;
    }
    Ok(())
}

async fn scale_in(etcd: &Etcd, args: &ScaleInArgs) -> Result<Outcome> {
    let state = ClusterState::fetch(etcd).await?;
    let target = state
        .list
        .resolve(&args.member)
        .map_err(|e| usage(anyhow!(e)))?
        .clone();
    // A leader is not refused here: scale-in hands leadership on before it removes one.
    let failing: Vec<Row> = removal_failures(&state, &target)
        .into_iter()
        .filter(|r| r.check != NOT_THE_LEADER)
        .collect();
    if !failing.is_empty() && !args.force {
        say(&format!(
            "refusing to remove {}: nothing was changed\n{}",
            target.label(),
            rows_text(&failing)
        ))?;
        return Ok(Outcome::ProblemsFound);
    }
    let out = out_dir(
        args.out.as_deref(),
        &format!("etcd-pki-without-{}", target.name),
    )?;
    let stamp = OffsetDateTime::now_utc().unix_timestamp();
    let saved = snapshot::save(
        etcd,
        &out.join(format!(
            "snapshot-before-removing-{}-{stamp}.db",
            target.name
        )),
    )
    .await?;
    say_saved(&saved)?;
    let id = target.id;
    if state.leader() == Some(id) {
        match successor(&state, id) {
            Some(next) => {
                if let Err(e) = move_leadership(etcd, &target, next).await {
                    say(&format!(
                        "could not hand leadership from {} to {}: nothing was removed",
                        target.label(),
                        next.label()
                    ))?;
                    return Err(e.into());
                }
                say(&format!(
                    "leadership moved from {} to {}, so that removing {} forces no election",
                    target.label(),
                    next.label(),
                    target.label()
                ))?;
            }
            None => say(&format!(
                "warning: {} is the leader and no healthy voter can take over: removing it forces an election",
                target.label()
            ))?,
        }
    }
    let removed =
        retry_while_unhealthy(|| etcd.change(|mut c| async move { c.member_remove(id).await }))
            .await;
    let cluster_id = match removed {
        Ok(response) => response
            .header()
            .map_or(state.list.cluster_id, |h| h.cluster_id()),
        // The answer was lost: the member list says whether the removal happened.
        Err(e @ (EtcdError::Unreachable { .. } | EtcdError::NoneReachable { .. })) => {
            match member_list(etcd).await {
                Ok(list) if list.members.iter().all(|m| m.id != id) => list.cluster_id,
                _ => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    say(&removed_line(id, cluster_id))?;
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
    let file = out.join("existing-nodes.txt");
    write_all(&[FileWrite::public(
        &file,
        existing_nodes_file(&names, &cluster),
    )])?;
    say(&format!(
        "stop etcd on {} and keep its data directory until you are sure; the remaining nodes' CLUSTER line is in {}:\n  CLUSTER={cluster}",
        target.label(),
        display_path(&file)
    ))?;
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: Status, check: &str) -> Row {
        Row::from_parts(status, check, String::new(), None)
    }

    #[test]
    fn fix_certs_fixes_coverage_and_nothing_else() {
        let coverage = [
            row(Status::Pass, "members healthy"),
            row(Status::Fail, "peer certificate coverage"),
            row(Status::Fail, "server certificate coverage"),
            row(Status::Fail, "handshake with infra0"),
            row(Status::Warn, "fault tolerance"),
        ];
        assert!(only_coverage_failures(&coverage));
        let mut unrelated = coverage.to_vec();
        unrelated.push(row(Status::Fail, "infra2 serves"));
        assert!(!only_coverage_failures(&unrelated));
        // A refused handshake alone is not a coverage problem this can fix.
        assert!(!only_coverage_failures(&[row(
            Status::Fail,
            "handshake with infra0"
        )]));
    }
}

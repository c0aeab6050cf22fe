//! `etcd-pki scale-out` and `scale-in`: the runbook's sections 2.1.3-2.1.4 and 3 as one guarded,
//! resumable workflow each.
//!
//! scale-out: preflight (and with `--fix-certs`, reissue what does not cover the new member);
//! snapshot; add as a learner; write the node files; wait for the member to start and catch up;
//! promote; check health. Where it is, is read from the cluster each time it runs: a learner
//! with the new peer URL means the add happened (resume at the wait), a started voter means the
//! job is done. On timeout the learner is removed again, leaving the cluster as it was.

use std::future::Future;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use etcd_client::MemberAddOptions;
use pki_core::write::{write_all, FileWrite};
use pki_core::{check, CertificateAuthority, CheckInput, Host, ReissueRequest, Role, Status};
use time::OffsetDateTime;

use super::config::{node_files, write_node_files};
use super::endpoint::health_text;
use super::member::{promote_when_ready, Promotion};
use super::preflight::{checks, summary, Urls};
use crate::checks::{rows_text, Row};
use crate::cli::{ScaleInArgs, ScaleOutArgs};
use crate::etcd::connect::{block_on, Etcd};
use crate::etcd::errors::EtcdError;
use crate::etcd::snapshot;
use crate::etcd::state::{health_all, member_list, ClusterState};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::membership::{check_remove, normalise_url, MemberView};
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
        .map_err(|e| usage(anyhow!("cannot create {}: {e}", out.display())))?;
    Ok(out)
}

fn say_saved(saved: &snapshot::Saved) -> Result<()> {
    say(&format!(
        "snapshot saved: {} ({} bytes, revision {})",
        saved.path.display(),
        saved.size,
        saved.revision
    ))
}

async fn scale_out(etcd: &Etcd, args: &ScaleOutArgs) -> Result<Outcome> {
    let member = &args.member;
    let urls = Urls::parse(member)?;
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
        Some(m) if !m.is_learner && m.started() => {
            say(&format!(
                "{} ({:x}) is already a started voting member: nothing to do; checking health",
                m.label(),
                m.id
            ))?;
            return finish(etcd).await;
        }
        Some(m) if !m.is_learner => {
            say(&format!(
                "{:x} was added as a voting member and has not started: writing its files and waiting for it",
                m.id
            ))?;
            m.id
        }
        Some(m) => {
            say(&format!("resuming: {} is already a learner ({:x}); skipping the preflight, snapshot and add", m.label(), m.id))?;
            m.id
        }
        None => {
            // 1. Preflight, and the fix when asked for.
            let show = |rows: &[Row]| {
                say(&format!(
                    "preflight for {}:\n{}{}",
                    member.name,
                    rows_text(rows),
                    summary(rows)
                ))
            };
            let mut rows = checks(etcd, &args.connection, member, &urls, true).await?;
            if has_failures(&rows) && args.fix_certs {
                show(&rows)?;
                fix_certificates(args, &urls)?;
                rows = checks(etcd, &args.connection, member, &urls, true).await?;
            }
            show(&rows)?;
            if has_failures(&rows) {
                say("stopping: nothing was changed in the cluster")?;
                return Ok(Outcome::ProblemsFound);
            }
            // 2. A snapshot before the change.
            let stamp = OffsetDateTime::now_utc().unix_timestamp();
            let saved = snapshot::save(
                etcd,
                &out.join(format!("snapshot-before-{}-{stamp}.db", member.name)),
            )
            .await?;
            say_saved(&saved)?;
            // 3. Add as a learner.
            let added = add_learner(etcd, &member.peer_urls).await?;
            say(&format!("added {} as a learner: {added:x}", member.name))?;
            added
        }
    };

    // 4. The node files.
    let list = member_list(etcd).await?;
    let node_dir = write_node_files(&out, &node_files(&member.name, &urls, &list, &args.node))?;
    say(&format!(
        "wrote {dir}/etcd.env, etcd.conf, etcd.service and existing-nodes.txt; on {name}: put etcd.conf in /etc/etcd/, the unit in /lib/systemd/system/, the PKI files in {pki}, then systemctl start etcd",
        dir = node_dir.display(),
        name = member.name,
        pki = args.node.pki_dir.display()
    ))?;
    if let Some(cmd) = &args.exec {
        let status = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("ETCD_PKI_NODE_DIR", &node_dir)
            .status()
            .map_err(|e| usage(anyhow!("cannot run --exec: {e}")))?;
        if !status.success() {
            return give_up(etcd, id, &member.name, &format!("--exec failed ({status})")).await;
        }
    }

    // 5. Wait for it to start and catch up, then promote.
    say(&format!(
        "waiting up to {:?} for {} to start and catch up",
        args.timeout, member.name
    ))?;
    match promote_when_ready(etcd, &format!("{id:x}"), true, args.timeout).await {
        Ok(Promotion::Promoted { id, cluster_id }) => {
            say(&format!(
                "Member {id:16x} promoted in cluster {cluster_id:16x}"
            ))?;
            finish(etcd).await
        }
        Ok(Promotion::TimedOut { why }) => give_up(etcd, id, &member.name, &why).await,
        // Already a voter (added as one): wait for health instead.
        Err(e)
            if e.error
                .to_string()
                .contains("can only promote a learner member") =>
        {
            finish(etcd).await
        }
        Err(e) => Err(e),
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

/// Adds the new member as a learner; its ID.
async fn add_learner(etcd: &Etcd, peer_urls: &[String]) -> Result<u64> {
    let response = retry_while_unhealthy(|| {
        etcd.on_any(|mut c| {
            let urls = peer_urls.to_vec();
            async move {
                c.member_add(urls, Some(MemberAddOptions::new().with_is_learner()))
                    .await
            }
        })
    })
    .await?;
    response.member().map(|m| m.id()).ok_or_else(|| Failure {
        code: Code::Etcd,
        error: anyhow!("etcd answered the add without the new member: run etcd-pki member list to see whether it was added"),
    })
}

/// 6. Puts the cluster back as it was before the add: removes the learner.
async fn give_up(etcd: &Etcd, id: u64, name: &str, why: &str) -> Result<Outcome> {
    say(&format!("{name} did not join: {why}"))?;
    match etcd.on_any(|mut c| async move { c.member_remove(id).await }).await {
        Ok(_) => say(&format!(
            "removed the learner {id:x}: the cluster is as it was before the add; fix the cause and run scale-out again"
        ))?,
        Err(e) => say(&format!("could not remove the learner {id:x} ({e}): remove it with etcd-pki member remove {id:x}"))?,
    }
    Err(Failure {
        code: Code::Problem,
        error: anyhow!("scale-out of {name} did not complete"),
    })
}

/// Every endpoint of the cluster must answer a health check.
async fn finish(etcd: &Etcd) -> Result<Outcome> {
    let state = ClusterState::fetch(etcd).await?;
    let endpoints: Vec<String> = state
        .list
        .members
        .iter()
        .flat_map(|m| m.client_urls.clone())
        .collect();
    let health = health_all(etcd, &endpoints).await;
    print(&health_text(&health))?;
    let voters = state.list.members.iter().filter(|m| !m.is_learner).count();
    if health.iter().all(|h| h.health) {
        say(&format!("done: {voters} voting members, all healthy"))?;
        Ok(Outcome::Ok)
    } else {
        say("not every endpoint is healthy: see above")?;
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
    let peer_cert = member
        .peer_cert
        .as_deref()
        .or(args.connection.cert.as_deref());
    let targets = [
        (peer_cert, Role::Peer, &urls.peer),
        (member.server_cert.as_deref(), Role::Server, &urls.client),
    ];
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
        let writes = pki_core::reissue_writes(&original, &reissued, cert, None)?;
        let written = write_all(&writes)?;
        let backup = written.backups.first().map_or(String::new(), |(_, b)| {
            format!(" (the old file is {})", b.display())
        });
        say(&format!(
            "--fix-certs: reissued {} with {} added{backup}; copy it to the new node",
            cert.display(),
            reissued.plan.added.join(", ")
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
    let views: Vec<MemberView> = state.views();
    let target_view = views
        .iter()
        .find(|v| v.id == target.id)
        .cloned()
        .expect("resolved from this list");
    let failing: Vec<Row> = check_remove(&views, &target_view, state.leader())
        .into_iter()
        .map(Row::from)
        .filter(|r| r.status == Status::Fail)
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
    let response =
        retry_while_unhealthy(|| etcd.on_any(|mut c| async move { c.member_remove(id).await }))
            .await?;
    let cluster_id = response
        .header()
        .map_or(state.list.cluster_id, |h| h.cluster_id());
    say(&format!(
        "Member {id:16x} removed from cluster {cluster_id:16x}"
    ))?;
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
        file.display()
    ))?;
    Ok(Outcome::Ok)
}

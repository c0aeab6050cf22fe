//! `etcd-pki scale-out` and `scale-in`: pki-cluster's resumable operations, with their progress
//! as lines (the runbook's sections 2.1.3-2.1.4 and 3), `--exec` as the hook that starts the
//! new member, and exit codes.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use pki_cluster::{
    scale_in, scale_out, IssueLike, ScaleInEvent, ScaleInOutcome, ScaleInRequest, ScaleOutEvent,
    ScaleOutOutcome, ScaleOutRequest,
};
use pki_core::display_path;

use super::config::settings;
use super::endpoint::health_text;
use super::member::{removed_line, Progress};
use super::preflight::{fix_context, request};
use crate::cli::{ScaleInArgs, ScaleOutArgs};
use crate::connection::{block_on, connect, error_text};
use crate::exec::exec_hook;
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::output::print;
use crate::render::{rows, rows_text, summary, FixContext};

pub fn run_out(args: &ScaleOutArgs) -> Result<Outcome> {
    let etcd = connect(&args.connection)?;
    let member = &args.member;
    if args.like.is_some() && (member.peer_cert.is_some() || member.server_cert.is_some()) {
        return Err(usage(anyhow!(
            "--like issues the new member's own certificates into --out/{}/pki and checks those: leave out --peer-cert and --server-cert",
            member.name
        )));
    }
    if args.fix_certs
        && args.like.is_none()
        && member.peer_cert.is_none()
        && member.server_cert.is_none()
    {
        return Err(usage(anyhow!(
            "--fix-certs rewrites the new member's certificate files: name them with --peer-cert (and --server-cert); in a per-member layout give --like DIR (an existing member's certificate directory) to issue the new member certificates of its own"
        )));
    }
    let mut req = ScaleOutRequest::new(
        request(member, &args.connection, true)?,
        out_dir(args.out.as_deref(), &format!("etcd-pki-{}", member.name))?,
    )
    .node(settings(&args.node))
    .timeout(args.timeout);
    if args.fix_certs {
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
        req = req.fix_certs_with(ca_cert, ca_key);
        if let Some(like) = &args.like {
            let mut issue = IssueLike::new(like);
            if let Some(n) = &args.like_name {
                issue = issue.template_name(n);
            }
            req = req.issue_like(issue);
        }
    }
    let context = fix_context(member, &args.connection);
    let mut progress = Progress::new();
    let mut failed_output = None;
    let outcome = block_on(scale_out(
        &etcd,
        &req,
        args.exec.clone().map(exec_hook),
        |event| {
            if let ScaleOutEvent::Learner(state) = &event {
                progress.show(state);
                return;
            }
            progress.end();
            if let Err(e) = say_out(&event, args, &context) {
                failed_output.get_or_insert(e);
            }
        },
    ))?;
    progress.end();
    if let Some(e) = failed_output {
        return Err(e);
    }
    match outcome? {
        ScaleOutOutcome::Done { voters } => {
            say(&format!("done: {voters} voting members, all healthy"))?;
            Ok(Outcome::Ok)
        }
        ScaleOutOutcome::Stopped => Ok(Outcome::ProblemsFound),
        ScaleOutOutcome::NotJoined => Err(Failure {
            code: Code::Problem,
            error: anyhow!("scale-out of {} did not complete", member.name),
        }),
        ScaleOutOutcome::Unhealthy { problems } => {
            say(&format!("not done: {}", problems.join("; ")))?;
            Ok(Outcome::ProblemsFound)
        }
        _ => Err(usage(anyhow!(
            "the scale-out ended in a way this version does not know"
        ))),
    }
}

/// One scale-out event as the lines it has always printed.
fn say_out(event: &ScaleOutEvent, args: &ScaleOutArgs, context: &FixContext<'_>) -> Result<()> {
    let name = &args.member.name;
    match event {
        ScaleOutEvent::UrlTakenByOther { member: m } => say(&format!(
            "the peer URL {} belongs to member {} ({:x}), not to {name}: nothing was changed; give {name} its own peer URL",
            m.peer_urls.join(","),
            m.name,
            m.id,
        )),
        ScaleOutEvent::AlreadyVoter { member: m } => say(&format!(
            "{} ({:x}) is already a started voting member: nothing to do; checking health",
            m.label(),
            m.id
        )),
        ScaleOutEvent::ResumingUnstartedVoter { id } => say(&format!(
            "{id:x} was added as a voting member and has not started: writing its files and waiting for it"
        )),
        ScaleOutEvent::ResumingLearner { member: m } => say(&format!(
            "resuming: {} is already a learner ({:x}); skipping the preflight, snapshot and add",
            m.label(),
            m.id
        )),
        ScaleOutEvent::Preflight(report) => {
            let rows = rows(&report.findings, context);
            say(&format!(
                "preflight for {name}:\n{}{}",
                rows_text(&rows),
                summary(&rows)
            ))
        }
        ScaleOutEvent::FixCertsNotApplicable => say(
            "--fix-certs fixes only certificates that do not cover the new member; fix the other failures first. Nothing was changed",
        ),
        ScaleOutEvent::CertificateReissued {
            file,
            added,
            backup,
        } => {
            let backup = backup.as_ref().map_or(String::new(), |b| {
                format!(" (the old file is {})", display_path(b))
            });
            say(&format!(
                "--fix-certs: reissued {} with {} added{backup}; copy it to the new node",
                display_path(file),
                added.join(", ")
            ))
        }
        ScaleOutEvent::CertificatesIssued { dir, plan } => say(&format!(
            "--fix-certs: issued {name}'s own certificates into {} ({}), modelled on {}; no other member's file was touched",
            display_path(dir),
            plan.files
                .iter()
                .map(|f| display_path(&f.path).into_owned())
                .collect::<Vec<_>>()
                .join(", "),
            display_path(&plan.template)
        )),
        ScaleOutEvent::CertificatesReused { dir } => say(&format!(
            "--fix-certs: using {name}'s own certificates issued earlier in {}",
            display_path(dir)
        )),
        ScaleOutEvent::Stopped => say("stopping: nothing was changed in the cluster"),
        ScaleOutEvent::RetryingUnhealthy => {
            retrying_unhealthy();
            Ok(())
        }
        ScaleOutEvent::SnapshotSaved(saved) => say(&format!(
            "snapshot saved: {} ({} bytes, revision {})",
            display_path(&saved.path),
            saved.size,
            saved.revision
        )),
        ScaleOutEvent::LearnerAdded { id } => say(&format!("added {name} as a learner: {id:x}")),
        ScaleOutEvent::AddAppliedDespiteLostAnswer { id, cause } => say(&format!(
            "the add was applied although its answer was lost ({}): the member list shows {id:x}",
            error_text(cause)
        )),
        ScaleOutEvent::NodeFilesWritten { dir } => say(&format!(
            "wrote {dir}/etcd.env, etcd.conf, etcd.service and existing-nodes.txt; on {name}: put etcd.conf in /etc/etcd/, the unit in /lib/systemd/system/, {files} in {pki}, create {data} owned by the etcd user, then systemctl start etcd",
            dir = display_path(dir),
            files = if args.like.is_some() {
                format!("the files of {}", display_path(&dir.join("pki")))
            } else {
                "the PKI files".to_string()
            },
            pki = display_path(&args.node.pki_dir),
            data = display_path(&args.node.data_dir),
        )),
        ScaleOutEvent::Waiting { timeout } => say(&format!(
            "waiting up to {timeout:?} for {name} to start and catch up"
        )),
        ScaleOutEvent::Learner(_) => Ok(()),
        ScaleOutEvent::Promoted { id, cluster_id } => say(&format!(
            "Member {id:16x} promoted in cluster {cluster_id:16x}"
        )),
        ScaleOutEvent::GivingUp { why } => say(&format!("{name} did not join: {why}")),
        ScaleOutEvent::AlreadyGone { id } => say(&format!(
            "{id:x} is no longer a member: nothing to remove; the cluster is as it was before the add"
        )),
        ScaleOutEvent::Removed { id, was_learner } => say(&format!(
            "removed the {} {id:x}: the cluster is as it was before the add; fix the cause and run scale-out again",
            kind(*was_learner)
        )),
        ScaleOutEvent::RemoveFailed {
            id,
            was_learner,
            error,
        } => say(&format!(
            "could not remove the {} {id:x} ({}): remove it with etcd-pki member remove {id:x}",
            kind(*was_learner),
            error_text(error)
        )),
        ScaleOutEvent::MemberHadStarted { data_dir } => say(&format!(
            "{name} had started: stop etcd on it and empty its data directory ({}) before running scale-out again; it holds the removed member's ID, which the cluster now refuses",
            display_path(data_dir)
        )),
        ScaleOutEvent::Health(health) => print(&health_text(health)).map_err(Into::into),
        _ => Ok(()),
    }
}

fn kind(was_learner: bool) -> &'static str {
    if was_learner {
        "learner"
    } else {
        "voting member"
    }
}

/// What is said once when etcd refuses a change as "unhealthy cluster" and it is retried.
fn retrying_unhealthy() {
    eprintln!(
        "etcd refuses membership changes until every voting member has been connected for 5 s (\"unhealthy cluster\"): retrying for up to {:?}",
        pki_cluster::SETTLE
    );
}

pub fn run_in(args: &ScaleInArgs) -> Result<Outcome> {
    let etcd = connect(&args.connection)?;
    // The default directory names the member, which only the cluster knows by ID: resolve it.
    let out = match &args.out {
        Some(out) => out.clone(),
        None => {
            let list = block_on(pki_cluster::member_list(&etcd))??;
            let name = list
                .resolve(&args.member)
                .map(|m| m.name.clone())
                .unwrap_or_else(|_| args.member.clone());
            PathBuf::from(format!("etcd-pki-without-{name}"))
        }
    };
    let mut req = ScaleInRequest::new(&args.member, out);
    if args.force {
        req = req.force();
    }
    let mut failed_output = None;
    let outcome = block_on(scale_in(&etcd, &req, |event| {
        if let Err(e) = say_in(&event) {
            failed_output.get_or_insert(e);
        }
    }))?;
    if let Some(e) = failed_output {
        return Err(e);
    }
    match outcome? {
        ScaleInOutcome::Removed => Ok(Outcome::Ok),
        _ => Ok(Outcome::ProblemsFound),
    }
}

/// One scale-in event as the lines it has always printed.
fn say_in(event: &ScaleInEvent) -> Result<()> {
    match event {
        ScaleInEvent::Refused { member, failures } => say(&format!(
            "refusing to remove {}: nothing was changed\n{}",
            member.label(),
            rows_text(&rows(failures, &FixContext::default()))
        )),
        ScaleInEvent::SnapshotSaved(saved) => say(&format!(
            "snapshot saved: {} ({} bytes, revision {})",
            display_path(&saved.path),
            saved.size,
            saved.revision
        )),
        ScaleInEvent::LeadershipMoved { from, to } => say(&format!(
            "leadership moved from {} to {}, so that removing {} forces no election",
            from.label(),
            to.label(),
            from.label()
        )),
        ScaleInEvent::LeadershipMoveFailed { from, to } => say(&format!(
            "could not hand leadership from {} to {}: nothing was removed",
            from.label(),
            to.label()
        )),
        ScaleInEvent::NoSuccessor { leader } => say(&format!(
            "warning: {} is the leader and no healthy voter can take over: removing it forces an election",
            leader.label()
        )),
        ScaleInEvent::RetryingUnhealthy => {
            retrying_unhealthy();
            Ok(())
        }
        ScaleInEvent::Removed { member, cluster_id } => {
            say(&removed_line(member.id, *cluster_id))
        }
        ScaleInEvent::RemainingCluster {
            removed,
            file,
            cluster,
        } => say(&format!(
            "stop etcd on {} and keep its data directory until you are sure; the remaining nodes' CLUSTER line is in {}:\n  CLUSTER={cluster}",
            removed.label(),
            display_path(file)
        )),
        _ => Ok(()),
    }
}

fn say(text: &str) -> Result<()> {
    print(&format!("{text}\n"))?;
    Ok(())
}

/// `--out`, or `default` in the current directory.
fn out_dir(given: Option<&Path>, default: &str) -> Result<PathBuf> {
    Ok(given.map_or_else(|| PathBuf::from(default), Path::to_path_buf))
}

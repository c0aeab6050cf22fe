//! `etcd-pki ca rotate plan|apply|status`: pki-cluster's three-phase CA rotation, with
//! `--restart-cmd` and `--sync-cmd` as its hooks, and exit codes for unattended runs (0 done,
//! 1 stopped: a person is needed, 2 bad input, 3 etcd unreachable).

use anyhow::anyhow;
use pki_cluster::ca_rotation::{
    apply, plan, status, CaRotationEvent, CaRotationOutcome, CaRotationRequest, Hooks, IssuedBy,
    Phase, PlanStep, PortView, StatusReport, StepKind, TrustState,
};
use pki_cluster::rotate::RotateEvent;
use pki_core::{display_path, rfc3339, Curve, KeyAlgorithm};
use serde_json::json;

use super::rotate::{fill, print_outcome, template_hook};
use crate::cli::{AlgoArg, CaRotateAction, CaRotateArgs, CaRotateOptions, ChangeFormat};
use crate::connection::{block_on, connect};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::output::{print, print_json};

pub fn run(args: &CaRotateArgs) -> Result<Outcome> {
    match &args.action {
        CaRotateAction::Plan(o) => run_plan(o),
        CaRotateAction::Apply(o) => run_apply(o),
        CaRotateAction::Status(o) => run_status(o),
    }
}

/// The request the flags describe.
fn request(o: &CaRotateOptions) -> Result<CaRotationRequest> {
    let mut req = CaRotationRequest::new(&o.members_dir, &o.new_ca, &o.new_ca_key)
        .old_ca(o.old_ca.clone(), o.old_ca_key.clone())
        .new_keys(o.new_keys)
        .through_phase(o.through_phase)
        .rollback(o.rollback)
        .timeout(o.timeout)
        .new_ca_spec(
            o.new_ca_name.clone(),
            o.new_ca_days,
            o.algorithm.map(|a| match a {
                AlgoArg::EcdsaP256 => KeyAlgorithm::Ecdsa { curve: Curve::P256 },
                AlgoArg::EcdsaP384 => KeyAlgorithm::Ecdsa { curve: Curve::P384 },
                AlgoArg::Rsa2048 => KeyAlgorithm::Rsa { bits: 2048 },
                AlgoArg::Rsa4096 => KeyAlgorithm::Rsa { bits: 4096 },
                AlgoArg::Ed25519 => KeyAlgorithm::Ed25519,
            }),
        );
    for f in &o.client_ca_file {
        req = req.client_ca_file(f);
    }
    for spec in &o.client_cert {
        let (cert, key) = match spec.rsplit_once(':') {
            Some((c, k)) if !c.is_empty() && !k.is_empty() => (c, Some(k.into())),
            Some(_) => {
                return Err(usage(anyhow!(
                    "--client-cert {spec}: give CERT or CERT:KEY"
                )))
            }
            None => (spec.as_str(), None),
        };
        req = req.client_cert(cert, key);
    }
    Ok(req)
}

fn run_plan(o: &CaRotateOptions) -> Result<Outcome> {
    let req = request(o)?;
    let conn = connect(&o.connection)?;
    let steps = block_on(plan(&conn, &req))??;
    match o.write_out {
        ChangeFormat::Json => print_json(&json!({
            "steps": steps.iter().map(|s| step_json(s, o)).collect::<Vec<_>>(),
        }))?,
        ChangeFormat::Simple => {
            let mut out = String::new();
            let mut phase = None;
            for s in &steps {
                if phase != Some(s.phase) {
                    phase = Some(s.phase);
                    out.push_str(&format!("{}\n", phase_title(s.phase)));
                }
                let Some(line) = step_text(s, o) else {
                    continue;
                };
                out.push_str(&format!("  - {line}\n"));
                for f in &s.files {
                    out.push_str(&format!("      {}\n", display_path(f)));
                }
            }
            out.push_str("plan only: nothing was written or restarted\n");
            print(&out)?;
        }
    }
    Ok(Outcome::Ok)
}

fn phase_title(phase: u8) -> &'static str {
    match phase {
        0 => "rollback:",
        1 => "phase 1, trust both CAs:",
        2 => "phase 2, reissue from the new CA:",
        _ => "phase 3, trust only the new CA:",
    }
}

/// A step in words, with the command a hook would run; `None` for a hook step with no hook.
fn step_text(s: &PlanStep, o: &CaRotateOptions) -> Option<String> {
    let template = match s.kind {
        StepKind::Sync => Some(o.sync_cmd.as_ref()?),
        StepKind::Restart => o.restart_cmd.as_ref(),
        _ => None,
    };
    Some(match (template, &s.member) {
        (Some(t), Some(ctx)) => format!("{}: {}", s.action, fill(t, ctx)),
        (None, Some(_)) if s.kind == StepKind::Restart => {
            format!("{} (no --restart-cmd: apply needs one)", s.action)
        }
        _ => s.action.clone(),
    })
}

fn step_json(s: &PlanStep, o: &CaRotateOptions) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    let command = match (s.kind, &s.member) {
        (StepKind::Sync, Some(ctx)) => o.sync_cmd.as_ref().map(|t| fill(t, ctx)),
        (StepKind::Restart, Some(ctx)) => o.restart_cmd.as_ref().map(|t| fill(t, ctx)),
        _ => None,
    };
    if let Some(obj) = v.as_object_mut() {
        obj.insert("member".into(), json!(s.member.as_ref().map(|m| &m.name)));
        obj.insert("command".into(), json!(command));
    }
    v
}

fn run_apply(o: &CaRotateOptions) -> Result<Outcome> {
    let req = request(o)?;
    if o.restart_cmd.is_none() {
        return Err(usage(anyhow!(
            "give --restart-cmd, the command that restarts a member (e.g. 'ssh {{host}} systemctl restart etcd'): etcd reads its trusted CA files only at start"
        )));
    }
    let conn = connect(&o.connection)?;
    let hooks = Hooks::new(
        o.restart_cmd.clone().map(|t| template_hook(t, o.timeout)),
        o.sync_cmd.clone().map(|t| template_hook(t, o.timeout)),
    );
    let mut events = Vec::new();
    let outcome = block_on(apply(&conn, &req, hooks, |e| {
        if o.write_out == ChangeFormat::Simple {
            if let Some(line) = event_text(&e) {
                let _ = print(&format!("{line}\n"));
            }
        }
        events.push(e);
    }))??;
    print_outcome(
        o.write_out,
        outcome_json(&outcome),
        events.iter().map(event_json).collect(),
        &outcome_text(&outcome),
    )?;
    match outcome {
        CaRotationOutcome::Stopped { .. } => Err(Failure {
            code: Code::Problem,
            error: anyhow!("the CA rotation stopped: see above; run apply again once it is fixed"),
        }),
        _ => Ok(Outcome::Ok),
    }
}

fn run_status(o: &CaRotateOptions) -> Result<Outcome> {
    let req = request(o)?;
    let conn = connect(&o.connection)?;
    let report = block_on(status(&conn, &req))??;
    match o.write_out {
        ChangeFormat::Json => print_json(&report)?,
        ChangeFormat::Simple => print(&status_text(&report))?,
    }
    Ok(Outcome::Ok)
}

fn trust_words(t: TrustState) -> &'static str {
    match t {
        TrustState::Old => "old CA",
        TrustState::Both => "old and new CA",
        TrustState::New => "new CA",
        TrustState::Mixed => "mixed",
        _ => "neither CA",
    }
}

fn issued_words(i: IssuedBy) -> &'static str {
    match i {
        IssuedBy::Old => "old CA",
        IssuedBy::New => "new CA",
        IssuedBy::Mixed => "both CAs",
        _ => "another CA",
    }
}

fn phase_words(p: Phase) -> &'static str {
    match p {
        Phase::NotStarted => "not started",
        Phase::TrustWritten => "phase 1: trust files written, restart pending",
        Phase::TrustsBoth => "phase 1 done: trusts both CAs",
        Phase::Reissuing => "phase 2 under way",
        Phase::Reissued => "phase 2 done: serves the new CA's certificates",
        Phase::NewOnlyWritten => "phase 3: new CA alone written, restart pending",
        Phase::Done => "done: trusts the new CA alone",
        _ => "unknown: files and ports do not fit a step",
    }
}

fn status_text(r: &StatusReport) -> String {
    let mut out = format!(
        "old CA: {}\nnew CA: {}\n",
        r.old_ca.as_deref().unwrap_or("(no longer referred to)"),
        r.new_ca
    );
    for m in &r.members {
        out.push_str(&format!(
            "{}: {} (trust files: {}; certificates: {})\n",
            m.member,
            phase_words(m.phase),
            trust_words(m.trust_files),
            issued_words(m.certificates)
        ));
        for p in &m.ports {
            out.push_str(&format!("    {}\n", port_text(p)));
        }
    }
    for (f, t) in &r.client_ca_files {
        out.push_str(&format!("client CA file {f}: {}\n", trust_words(*t)));
    }
    for (f, i) in &r.client_certs {
        out.push_str(&format!(
            "client certificate {f}: from the {}\n",
            issued_words(*i)
        ));
    }
    for d in &r.interrupted {
        out.push_str(&format!(
            "unfinished write in {}: a run was killed while writing; apply (or `etcd-pki recover`) finishes or undoes it first\n",
            display_path(d)
        ));
    }
    out.push_str(&format!("phases done on every member: {}\n", r.phases_done));
    out
}

fn port_text(p: &PortView) -> String {
    if let Some(problem) = &p.problem {
        return format!("{}: {problem}", p.url);
    }
    let serves = p.serves.map_or("nothing", issued_words);
    let accepts = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not tried",
    };
    if p.requires_certificate == Some(false) {
        return format!(
            "{}: serves a certificate of the {serves}; asks clients for no certificate",
            p.url
        );
    }
    format!(
        "{}: serves a certificate of the {serves}; accepts the new CA: {}; the old CA: {}",
        p.url,
        accepts(p.accepts_new),
        accepts(p.accepts_old)
    )
}

fn files_text(files: &[std::path::PathBuf]) -> String {
    files
        .iter()
        .map(|f| display_path(f).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn event_text(e: &CaRotationEvent) -> Option<String> {
    Some(match e {
        CaRotationEvent::NewCa {
            cert,
            subject,
            not_after,
            created,
        } => format!(
            "{} the new CA {subject} (valid until {}) in {}",
            if *created { "created" } else { "using" },
            rfc3339(*not_after),
            display_path(cert)
        ),
        CaRotationEvent::OldCa { subject, key } => format!(
            "the old CA is {subject}{}",
            key.as_ref().map_or_else(
                || " (its key was not found: give --old-ca-key to mint old-CA probes and allow a rollback)".to_string(),
                |k| format!(", key {}", display_path(k))
            )
        ),
        CaRotationEvent::Phase { phase: 0, title } => format!("== {title}"),
        CaRotationEvent::Phase { phase, title } => format!("== phase {phase}: {title}"),
        CaRotationEvent::Wrote {
            what,
            files,
            backups,
        } => format!(
            "wrote {}: {what} (backups: {})",
            files_text(files),
            files_text(backups)
        ),
        CaRotationEvent::AlreadyDone { what, .. } => format!("already done: {what}"),
        CaRotationEvent::NeedsRestart { member, why } => {
            format!("{member} needs a restart: {why}")
        }
        CaRotationEvent::LeadershipMoved { from, to } => {
            format!("moved leadership from {from} to {to} before restarting {from}")
        }
        CaRotationEvent::Synced { member } => format!("synced {member}'s files (--sync-cmd)"),
        CaRotationEvent::Restarted { member } => format!("restarted {member} (--restart-cmd)"),
        CaRotationEvent::Proven { member, what } => format!("proven for {member}: {what}"),
        CaRotationEvent::Leaf(RotateEvent::Due { file, .. }) => {
            format!("to reissue: {}", display_path(file))
        }
        CaRotationEvent::Leaf(RotateEvent::Renewed {
            file,
            serial,
            not_after,
            backup,
        }) => format!(
            "reissued {} (serial {serial}, valid until {}){}",
            display_path(file),
            rfc3339(*not_after),
            backup
                .as_ref()
                .map_or(String::new(), |b| format!("; the old file is {}", display_path(b)))
        ),
        CaRotationEvent::Leaf(RotateEvent::NothingDue { members, .. }) => format!(
            "{}: every certificate already reissued",
            members.join(", ")
        ),
        CaRotationEvent::Leaf(e) => super::rotate::event_text(e),
        CaRotationEvent::ClientReissued {
            file,
            by_new_ca,
            backup,
        } => format!(
            "reissued the client certificate {} from the {} CA{}",
            display_path(file),
            if *by_new_ca { "new" } else { "old" },
            backup
                .as_ref()
                .map_or(String::new(), |b| format!("; the old file is {}", display_path(b)))
        ),
        CaRotationEvent::Recovered {
            journal,
            rolled_forward,
            files,
        } => format!(
            "{} a write a killed run left unfinished ({}): {}",
            if *rolled_forward { "finished" } else { "undid" },
            display_path(journal),
            files_text(files)
        ),
        CaRotationEvent::Warning { what } => format!("WARNING: {what}"),
        _ => return None,
    })
}

fn event_json(e: &CaRotationEvent) -> serde_json::Value {
    let paths = |f: &[std::path::PathBuf]| {
        f.iter()
            .map(|p| display_path(p).into_owned())
            .collect::<Vec<_>>()
    };
    match e {
        CaRotationEvent::NewCa {
            cert,
            subject,
            not_after,
            created,
        } => json!({"event": "new_ca", "cert": display_path(cert), "subject": subject,
            "not_after": rfc3339(*not_after), "created": created}),
        CaRotationEvent::OldCa { subject, key } => json!({"event": "old_ca", "subject": subject,
            "key": key.as_ref().map(|k| display_path(k).into_owned())}),
        CaRotationEvent::Phase { phase, title } => {
            json!({"event": "phase", "phase": phase, "title": title})
        }
        CaRotationEvent::Wrote {
            what,
            files,
            backups,
        } => {
            json!({"event": "wrote", "what": what, "files": paths(files), "backups": paths(backups)})
        }
        CaRotationEvent::AlreadyDone { phase, what } => {
            json!({"event": "already_done", "phase": phase, "what": what})
        }
        CaRotationEvent::NeedsRestart { member, why } => {
            json!({"event": "needs_restart", "member": member, "why": why})
        }
        CaRotationEvent::LeadershipMoved { from, to } => {
            json!({"event": "leadership_moved", "from": from, "to": to})
        }
        CaRotationEvent::Synced { member } => json!({"event": "synced", "member": member}),
        CaRotationEvent::Restarted { member } => json!({"event": "restarted", "member": member}),
        CaRotationEvent::Proven { member, what } => {
            json!({"event": "proven", "member": member, "what": what})
        }
        CaRotationEvent::Leaf(e) => {
            json!({"event": "leaf", "step": super::rotate::event_json(e)})
        }
        CaRotationEvent::ClientReissued {
            file,
            by_new_ca,
            backup,
        } => json!({"event": "client_reissued", "file": display_path(file),
            "ca": if *by_new_ca { "new" } else { "old" },
            "backup": backup.as_ref().map(|b| display_path(b).into_owned())}),
        CaRotationEvent::Recovered {
            journal,
            rolled_forward,
            files,
        } => json!({"event": "recovered", "journal": display_path(journal),
            "rolled_forward": rolled_forward, "files": paths(files)}),
        CaRotationEvent::Warning { what } => json!({"event": "warning", "what": what}),
        _ => json!({"event": "other"}),
    }
}

fn outcome_json(o: &CaRotationOutcome) -> serde_json::Value {
    match o {
        CaRotationOutcome::Done { phase } => json!({"result": "done", "phase": phase}),
        CaRotationOutcome::Stopped { phase, member, why } => {
            json!({"result": "stopped", "phase": phase, "member": member, "why": why})
        }
        CaRotationOutcome::RolledBack => json!({"result": "rolled_back"}),
        _ => json!({"result": "unknown"}),
    }
}

fn outcome_text(o: &CaRotationOutcome) -> String {
    match o {
        CaRotationOutcome::Done { phase: 3 } => {
            "done: every member trusts and serves the new CA alone; keep the old CA's backups until you no longer need to read old certificates".into()
        }
        CaRotationOutcome::Done { phase } => format!(
            "done through phase {phase}: run apply again without --through-phase to go on"
        ),
        CaRotationOutcome::Stopped { phase, member, why } => format!(
            "STOPPED in phase {phase}{}: {why}",
            member
                .as_ref()
                .map_or(String::new(), |m| format!(" at {m}"))
        ),
        CaRotationOutcome::RolledBack => {
            "rolled back: every member trusts and serves the old CA alone again".into()
        }
        _ => String::new(),
    }
}

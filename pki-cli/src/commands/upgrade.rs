//! `etcd-pki upgrade plan|apply`: etcd upgraded member by member, one minor at a time
//! (pki-cluster's `upgrade`).

use anyhow::anyhow;
use pki_cluster::upgrade::{
    apply, plan, UpgradeEvent, UpgradeOutcome, UpgradePlan, UpgradeRequest, Version,
};
use pki_core::display_path;
use serde_json::json;

use crate::cli::{ChangeFormat, UpgradeAction, UpgradeArgs};
use crate::commands::rotate::template_hook;
use crate::connection::{block_on, connect};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::output::{print, print_json};
use crate::render::{rows, rows_text, summary, FixContext};

pub fn run(args: &UpgradeArgs) -> Result<Outcome> {
    let mut req = UpgradeRequest::new(&args.out);
    req.member_timeout = args.timeout;
    req.rules = args.etcd_version.choice();
    if let Some(to) = &args.to {
        let v = Version::parse(to)
            .ok_or_else(|| usage(anyhow!("--to {to}: give a minor version such as 3.5")))?;
        req.to = Some((v.major, v.minor));
    }
    let mut restart = match (args.action, &args.restart_cmd) {
        (UpgradeAction::Apply, Some(t)) => Some(template_hook(t.clone(), args.timeout)),
        (UpgradeAction::Apply, None) => {
            return Err(usage(anyhow!(
                "apply restarts members: give --restart-cmd, which installs the new etcd on {{host}} and restarts it"
            )))
        }
        _ => None,
    };
    let conn = connect(&args.connection)?;
    let planned = block_on(plan(&conn, &req))??;
    let json = args.write_out == ChangeFormat::Json;
    if !json {
        print(&plan_text(&planned))?;
    }
    let Some(hook) = restart.as_mut() else {
        if json {
            print_json(&plan_json(&planned))?;
        }
        return Ok(if planned.may_proceed() {
            Outcome::Ok
        } else {
            Outcome::ProblemsFound
        });
    };
    let mut steps = Vec::new();
    let outcome = block_on(apply(&conn, &req, &planned, hook, &mut |e| {
        let line = event_text(&e);
        if !json {
            let _ = print(&format!("{line}\n"));
        }
        steps.push(line);
    }))??;
    let (text, result) = match &outcome {
        UpgradeOutcome::Refused => (
            "nothing was done: the plan does not allow the upgrade (see the failed checks)"
                .to_string(),
            Ok(Outcome::ProblemsFound),
        ),
        UpgradeOutcome::Done { cluster_version } => {
            let reached = matches!((cluster_version, planned.to), (Some(v), Some(to)) if (v.major, v.minor) >= to);
            (
                format!(
                    "done: every member runs {}; cluster version {}{}",
                    planned.to.map_or("?".into(), |(a, b)| format!("{a}.{b}")),
                    cluster_version.map_or("not reported".into(), |v| v.to_string()),
                    if reached {
                        ""
                    } else {
                        ": it has not moved up yet (etcd raises it once every member runs the new minor); check /version again in a minute"
                    }
                ),
                if reached {
                    Ok(Outcome::Ok)
                } else {
                    Ok(Outcome::ProblemsFound)
                },
            )
        }
        UpgradeOutcome::Stopped {
            member,
            why,
            rollback,
        } => (
            format!("stopped at {member}: {why}\nto roll it back: {rollback}"),
            Err(Failure {
                code: Code::Problem,
                error: anyhow!("the upgrade stopped at {member}; run apply again once it is fixed"),
            }),
        ),
        _ => (String::new(), Ok(Outcome::Ok)),
    };
    if json {
        let mut value = plan_json(&planned);
        value["steps"] = json!(steps);
        value["outcome"] = json!(text);
        print_json(&value)?;
    } else {
        print(&format!("{text}\n"))?;
    }
    result
}

fn plan_text(p: &UpgradePlan) -> String {
    let mut text = String::from("members:\n");
    for m in &p.members {
        text.push_str(&format!(
            "  {} {}\n",
            m.member.label(),
            m.version.map_or("(no answer)".into(), |v| v.to_string())
        ));
    }
    text.push_str(&format!(
        "cluster version {}; upgrade {} -> {}\n",
        p.cluster_version.map_or("?".into(), |v| v.to_string()),
        p.from.map_or("?".into(), |v| v.minor_text()),
        p.to.map_or("?".into(), |(a, b)| format!("{a}.{b}"))
    ));
    let r = rows(&p.findings, &FixContext::default());
    text.push_str(&rows_text(&r));
    text.push_str(&format!(
        "{}: apply {}\n",
        summary(&r),
        if p.may_proceed() {
            "may proceed"
        } else {
            "must not proceed"
        }
    ));
    text
}

fn plan_json(p: &UpgradePlan) -> serde_json::Value {
    json!({
        "members": p.members.iter().map(|m| json!({
            "name": m.member.name,
            "id": m.member.hex_id(),
            "version": m.version.map(|v| v.to_string()),
        })).collect::<Vec<_>>(),
        "cluster_version": p.cluster_version.map(|v| v.to_string()),
        "from": p.from.map(|v| v.to_string()),
        "to": p.to.map(|(a, b)| format!("{a}.{b}")),
        "may_proceed": p.may_proceed(),
        "checks": rows(&p.findings, &FixContext::default()),
        "status": pki_core::worst(&p.findings),
    })
}

fn event_text(e: &UpgradeEvent) -> String {
    match e {
        UpgradeEvent::SnapshotSaved { path, revision } => format!(
            "snapshot saved: {} (revision {revision})",
            display_path(path)
        ),
        UpgradeEvent::AlreadyDone { member, version } => {
            format!("{member} already runs {version}: left alone")
        }
        UpgradeEvent::LeadershipMoved { from, to } => {
            format!("leadership moved from {from} to {to} before its restart")
        }
        UpgradeEvent::Restarted { member } => format!("{member}: restart hook done"),
        UpgradeEvent::Back {
            member,
            version,
            after,
        } => format!(
            "{member} is back on {version}, healthy and caught up {:.1}s after its restart",
            after.as_secs_f64()
        ),
        _ => String::new(),
    }
}

//! `etcd-pki rotate`: pki-cluster's proven rotation of due leaf certificates, with `--sync-cmd`
//! as the hook that copies a member's files to its host, `--print-units` for a systemd timer,
//! and exit codes for unattended runs.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use pki_cluster::member_config;
use pki_cluster::rotate::{
    rotate, targets_from_configs, targets_from_dir, Due, RotateEvent, RotateOutcome, RotateRequest,
    SyncContext, SyncHook,
};
use pki_cluster::{member_list, Connection};
use pki_core::{display_path, rfc3339};
use serde_json::json;

use crate::cli::{ChangeFormat, RotateArgs};
use crate::connection::{block_on, connect};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::output::{print, print_json};
use crate::render::shell_word;

pub fn run(args: &RotateArgs) -> Result<Outcome> {
    if args.print_units {
        print(&units())?;
        return Ok(Outcome::Ok);
    }
    let due =
        Due::parse(&args.expires_within).map_err(|e| usage(anyhow!("--expires-within {e}")))?;
    let ca_key = args.ca_key.clone().ok_or_else(|| {
        usage(anyhow!(
            "give --ca-key, the CA key that signs the renewed certificates"
        ))
    })?;
    let ca_cert = args
        .ca_cert
        .clone()
        .or_else(|| args.connection.cacert.clone())
        .ok_or_else(|| {
            usage(anyhow!(
                "give --ca-cert (or --cacert), the CA certificate of --ca-key"
            ))
        })?;

    // Where the files are, and how to reach the cluster.
    let local = if args.members_dir.is_none() {
        let found: Vec<_> = member_config::discover()
            .into_iter()
            .filter_map(|r| r.ok())
            .collect();
        if found.is_empty() {
            return Err(usage(anyhow!(
                "no etcd process runs on this host: give --members-dir DIR (one subdirectory per member, or one shared by all)"
            )));
        }
        Some(found)
    } else {
        None
    };
    let conn = match (&local, explicit(&args.connection)) {
        (Some(configs), false) => derived(configs, &args.connection).ok_or_else(|| {
            usage(anyhow!(
                "the members on this host give no https client URL and certificate to reach the cluster with: give --endpoints, --cacert, --cert and --key"
            ))
        })?,
        _ => connect(&args.connection)?,
    };

    let outcome_and_events = block_on(async {
        let targets = match (&args.members_dir, &local) {
            (Some(dir), _) => {
                let list = member_list(&conn).await?;
                targets_from_dir(dir, &list.members)?
            }
            (None, Some(configs)) => targets_from_configs(configs),
            (None, None) => Vec::new(),
        };
        let req = RotateRequest::new(targets, &ca_cert, &ca_key)
            .due(due)
            .timeout(args.timeout)
            .dry_run(args.dry_run);
        let sync: Option<SyncHook<'_>> = args
            .sync_cmd
            .clone()
            .map(|t| template_hook(t, args.timeout));
        let mut events = Vec::new();
        let outcome = rotate(&conn, &req, sync, |e| {
            if args.write_out == ChangeFormat::Simple {
                let _ = print(&format!("{}\n", event_text(&e)));
            }
            events.push(e);
        })
        .await?;
        Ok::<_, pki_cluster::Error>((outcome, events))
    })?;
    let (outcome, events) = outcome_and_events?;
    print_outcome(
        args.write_out,
        outcome_json(&outcome),
        events.iter().map(event_json).collect(),
        &outcome_text(&outcome),
    )?;
    match outcome {
        RotateOutcome::Failed { .. } => Err(Failure {
            code: Code::Problem,
            error: anyhow!("the rotation did not complete: see above"),
        }),
        _ => Ok(Outcome::Ok),
    }
}

/// The end of a run whose events were printed as they came (simple) or are printed now with
/// the outcome (JSON: `{"outcome", "events"}`).
pub(crate) fn print_outcome(
    format: ChangeFormat,
    outcome: serde_json::Value,
    events: Vec<serde_json::Value>,
    text: &str,
) -> Result<()> {
    match format {
        ChangeFormat::Json => print_json(&json!({ "outcome": outcome, "events": events }))?,
        ChangeFormat::Simple => print(&format!("{text}\n"))?,
    }
    Ok(())
}

/// Whether connection flags (or `ETCDCTL_*`) were given, rather than etcdctl's defaults.
fn explicit(c: &crate::cli::ConnectionArgs) -> bool {
    std::env::var_os("ETCDCTL_ENDPOINTS").is_some()
        || c.endpoints != ["127.0.0.1:2379"]
        || c.cert.is_some()
        || c.key.is_some()
}

/// A connection from the first local member's own files: its advertised https client URLs,
/// its trusted CA, the certificate it presents as a client.
fn derived(
    configs: &[member_config::MemberConfig],
    flags: &crate::cli::ConnectionArgs,
) -> Option<Connection> {
    use member_config::Key;
    let c = configs.first()?;
    let endpoints: Vec<String> = configs
        .iter()
        .flat_map(|c| c.list(Key::AdvertiseClientUrls))
        .filter(|u| u.starts_with("https://"))
        .collect();
    if endpoints.is_empty() {
        return None;
    }
    crate::connection::member_connection(c, endpoints, flags, flags.cacert.clone())
}

/// A hook from a template (`--sync-cmd`, `--restart-cmd`): `{name}`, `{id}`, `{host}`, `{dir}`
/// replaced shell-quoted, run with `sh -c`, within `timeout` (then killed).
pub(crate) fn template_hook(template: String, timeout: Duration) -> SyncHook<'static> {
    Box::new(move |ctx: &SyncContext| {
        use std::io::{Read, Seek};
        use std::os::unix::process::CommandExt;
        let cmd = fill(&template, ctx);
        // Its error output goes to a file, not a pipe: a process it leaves running (a daemon
        // it starts) cannot keep this waiting for the pipe to close.
        let mut errors = tempfile::tempfile().map_err(|e| format!("{cmd}: {e}"))?;
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(errors.try_clone().map_err(|e| format!("{cmd}: {e}"))?)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("{cmd}: {e}"))?;
        let started = Instant::now();
        let said = |errors: &mut std::fs::File| {
            let mut text = String::new();
            let _ = errors.rewind();
            let _ = errors.take(4096).read_to_string(&mut text);
            text.trim().to_string()
        };
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!("{cmd}: {status}: {}", said(&mut errors)));
                }
                Ok(None) if started.elapsed() > timeout => {
                    // The whole group: `sh -c` and what it started (ssh, systemctl).
                    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
                        // SAFETY: a signal to the process group this hook created.
                        unsafe {
                            libc::kill(-pgid, libc::SIGKILL);
                        }
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "{cmd}: still running after {timeout:?}: stopped ({})",
                        said(&mut errors)
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(format!("{cmd}: {e}")),
            }
        }
    })
}

/// A template with the context's values, each shell-quoted.
pub(crate) fn fill(template: &str, ctx: &SyncContext) -> String {
    template
        .replace("{name}", &shell_word(&ctx.name))
        .replace("{id}", &shell_word(&ctx.id))
        .replace("{host}", &shell_word(&ctx.host))
        .replace("{dir}", &shell_word(&display_path(&ctx.dir)))
}

pub(crate) fn event_text(e: &RotateEvent) -> String {
    match e {
        RotateEvent::NothingDue { members, checked } => format!(
            "{}: nothing due ({})",
            members.join(", "),
            checked
                .iter()
                .map(|(f, t)| format!("{} until {}", display_path(f), rfc3339(*t)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        RotateEvent::Due { file, not_after } => {
            format!(
                "due: {} (valid until {})",
                display_path(file),
                rfc3339(*not_after)
            )
        }
        RotateEvent::Renewed {
            file,
            serial,
            not_after,
            backup,
        } => format!(
            "renewed {} (serial {serial}, valid until {}){}",
            display_path(file),
            rfc3339(*not_after),
            backup.as_ref().map_or(String::new(), |b| format!(
                "; the old file is {}",
                display_path(b)
            ))
        ),
        RotateEvent::Synced { member } => format!("synced {member}'s files (--sync-cmd)"),
        RotateEvent::Proven { member, what } => format!("proven for {member}: {what}"),
        RotateEvent::Failed { member, why } => format!("FAILED for {member}: {why}"),
        RotateEvent::Restored { files } => format!(
            "restored {}",
            files
                .iter()
                .map(|f| display_path(f).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RotateEvent::RestoreServed { member, problem } => match problem {
            None => format!("{member} serves the restored certificates again"),
            Some(p) => format!("{member}: {p}: look at it now"),
        },
        _ => String::new(),
    }
}

pub(crate) fn event_json(e: &RotateEvent) -> serde_json::Value {
    match e {
        RotateEvent::NothingDue { members, checked } => json!({
            "event": "nothing_due", "members": members,
            "checked": checked.iter().map(|(f, t)| json!({"file": display_path(f), "not_after": rfc3339(*t)})).collect::<Vec<_>>(),
        }),
        RotateEvent::Due { file, not_after } => {
            json!({"event": "due", "file": display_path(file), "not_after": rfc3339(*not_after)})
        }
        RotateEvent::Renewed {
            file,
            serial,
            not_after,
            backup,
        } => json!({
            "event": "renewed", "file": display_path(file), "serial": serial,
            "not_after": rfc3339(*not_after), "backup": backup.as_ref().map(|b| display_path(b).into_owned()),
        }),
        RotateEvent::Synced { member } => json!({"event": "synced", "member": member}),
        RotateEvent::Proven { member, what } => {
            json!({"event": "proven", "member": member, "what": what})
        }
        RotateEvent::Failed { member, why } => {
            json!({"event": "failed", "member": member, "why": why})
        }
        RotateEvent::Restored { files } => json!({
            "event": "restored",
            "files": files.iter().map(|f| display_path(f).into_owned()).collect::<Vec<_>>(),
        }),
        RotateEvent::RestoreServed { member, problem } => {
            json!({"event": "restore_served", "member": member, "problem": problem})
        }
        _ => json!({"event": "other"}),
    }
}

fn outcome_json(o: &RotateOutcome) -> serde_json::Value {
    match o {
        RotateOutcome::Done { rotated } => json!({"result": "done", "rotated": rotated}),
        RotateOutcome::WouldRotate { due } => json!({"result": "dry_run", "due": due}),
        RotateOutcome::Failed {
            member,
            why,
            restored,
        } => json!({"result": "failed", "member": member, "why": why, "restored": restored}),
        _ => json!({"result": "unknown"}),
    }
}

fn outcome_text(o: &RotateOutcome) -> String {
    match o {
        RotateOutcome::Done { rotated: 0 } => "done: nothing was due".into(),
        RotateOutcome::Done { rotated } => {
            format!("done: {rotated} certificate(s) renewed, served and proven")
        }
        RotateOutcome::WouldRotate { due } => {
            format!("dry run: {due} certificate(s) due; nothing was written")
        }
        RotateOutcome::Failed {
            member,
            restored: true,
            ..
        } => format!("not done: the rotation failed for {member}; the old files are back"),
        RotateOutcome::Failed { member, .. } => format!(
            "not done: the rotation failed for {member} and the old files could not all be put back: restore them from their backups (NAME.bak.*)"
        ),
        _ => String::new(),
    }
}

/// A systemd service and timer that run this command daily (the same arguments, without
/// `--print-units`, with JSON output for the journal).
fn units() -> String {
    let exe = std::env::current_exe()
        .map(|p| display_path(&p).into_owned())
        .unwrap_or_else(|_| "/usr/local/bin/etcd-pki".into());
    // systemd expands `%` specifiers and `$` variables in ExecStart=: escape them.
    let unit_word = |w: &str| shell_word(w).replace('%', "%%").replace('$', "$$");
    let mut words = vec![unit_word(&exe)];
    let mut skip_next = false;
    for a in std::env::args().skip(1) {
        if skip_next {
            skip_next = false;
            continue;
        }
        if a == "--print-units" {
            continue;
        }
        if a == "-w" || a == "--write-out" {
            skip_next = true;
            continue;
        }
        if a.starts_with("--write-out=") || (a.starts_with("-w") && a.len() > 2) {
            continue;
        }
        words.push(unit_word(&a));
    }
    words.extend(["-w".into(), "json".into()]);
    format!(
        "# /etc/systemd/system/etcd-pki-rotate.service
[Unit]
Description=Renew the etcd certificates that are due and prove the cluster uses them
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart={}

# /etc/systemd/system/etcd-pki-rotate.timer
[Unit]
Description=Daily etcd certificate rotation

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
",
        words.join(" ")
    )
}

//! `etcd-pki snapshot restore SNAPSHOT --member NAME=URL... --out DIR`: a new cluster from a
//! snapshot, its certificates checked (and with --fix-certs reissued) for the members' new URLs
//! before anything is written (pki-cluster's `restore`).

use pki_cluster::node_files::{NodeSettings, PkiNames};
use pki_cluster::restore::{
    apply, plan, RestoreMember, RestorePlan, RestoreRequest, RestoreStep, RestoreTool,
};
use pki_cluster::NewMemberFiles;
use pki_core::display_path;
use serde::Serialize;

use crate::cli::{ChangeFormat, ConnectionArgs, SnapshotRestoreArgs};
use crate::exit::{Failure, Outcome, Result};
use crate::output::{print, print_json};
use crate::render::{rows, rows_text, FixContext};

#[derive(Serialize)]
struct RestoreJson<'a> {
    revision: i64,
    total_keys: u64,
    total_size: u64,
    token: &'a str,
    blocked: bool,
    dry_run: bool,
    members: Vec<MemberJson>,
    steps: Vec<String>,
}

#[derive(Serialize)]
struct MemberJson {
    name: String,
    checks: Vec<crate::render::Row>,
}

pub fn run(args: &SnapshotRestoreArgs, conn: &ConnectionArgs) -> Result<Outcome> {
    let members = args
        .members
        .iter()
        .map(|m| RestoreMember::parse(m))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Failure::from)?;
    let mut files = NewMemberFiles::new();
    files.peer_cert = args.peer_cert.clone().or_else(|| conn.cert.clone());
    files.peer_key = args.peer_key.clone().or(if args.peer_cert.is_none() {
        conn.key.clone()
    } else {
        None
    });
    files.server_cert = args.server_cert.clone();
    files.peer_ca = conn.cacert.clone();
    let fix_certs_with = match (&args.ca_key, args.fix_certs, &conn.cacert) {
        (Some(key), true, Some(ca)) => Some((ca.clone(), key.clone())),
        (Some(_), true, None) => {
            return Err(crate::exit::usage(anyhow::anyhow!(
                "--fix-certs needs the CA certificate: give --cacert"
            )))
        }
        _ => None,
    };
    let node = NodeSettings::new(
        args.data_dir.clone().unwrap_or_default(),
        &args.pki_dir,
        &args.etcd_binary,
        args.token.clone().unwrap_or_default(),
    )
    .pki_names(pki_names(args, &files, conn));
    let mut request = RestoreRequest::new(
        &args.snapshot,
        members,
        &args.out,
        RestoreTool::find(args.etcdutl.as_deref())?,
    );
    request.files = files;
    request.node = node;
    request.skip_hash_check = args.skip_hash_check;
    request.bump_revision = args.bump_revision;
    request.mark_compacted = args.mark_compacted;
    request.fix_certs_with = fix_certs_with;
    request.rules = args.etcd_version.choice();
    let planned = plan(&request)?;
    let blocked = planned.blocked();
    let done = if blocked || args.dry_run {
        Vec::new()
    } else {
        apply(&request, &planned)?
    };
    let shown = if args.dry_run || blocked {
        &planned.steps
    } else {
        &done
    };
    match args.write_out {
        ChangeFormat::Json => print_json(&RestoreJson {
            revision: planned.status.revision,
            total_keys: planned.status.total_keys,
            total_size: planned.status.total_size,
            token: &planned.token,
            blocked,
            dry_run: args.dry_run,
            members: planned
                .findings
                .iter()
                .map(|(name, f)| MemberJson {
                    name: name.clone(),
                    checks: rows(f, &FixContext::default()),
                })
                .collect(),
            steps: shown.iter().map(step_text).collect(),
        })?,
        ChangeFormat::Simple => print(&text(args, &planned, shown, blocked))?,
    }
    Ok(if blocked {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}

fn text(
    args: &SnapshotRestoreArgs,
    planned: &RestorePlan,
    steps: &[RestoreStep],
    blocked: bool,
) -> String {
    let s = &planned.status;
    let mut out = format!(
        "snapshot {}: revision {}, {} keys, {} bytes{}\n",
        display_path(&args.snapshot),
        s.revision,
        s.total_keys,
        s.total_size,
        if args.skip_hash_check {
            " (hash not checked: --skip-hash-check)"
        } else {
            ", SHA-256 verified"
        }
    );
    for (name, findings) in &planned.findings {
        out.push_str(&format!("{name}:\n"));
        out.push_str(&rows_text(&rows(findings, &FixContext::default())));
    }
    let verb = if blocked {
        "nothing was written: the certificates must cover the members' new URLs (reissue them with --ca-key and --fix-certs, or give others)\nwould have done"
    } else if args.dry_run {
        "would do (--dry-run)"
    } else {
        "done"
    };
    out.push_str(&format!("{verb}:\n"));
    for step in steps {
        out.push_str(&format!("  {}\n", step_text(step)));
    }
    if !blocked && !args.dry_run {
        out.push_str(&format!(
            "restored {} members with token {}: copy each {}/NAME to its host and start etcd there with its node files, all within a few minutes of each other{}\n",
            args.members.len(),
            planned.token,
            display_path(&args.out),
            if args.data_dir.is_none() {
                " (their DATA_DIR is where the data is here: give --data-dir with the path on the new hosts, {name} for the member's name, if it goes elsewhere)"
            } else {
                ""
            }
        ));
    }
    out
}

/// The names the node files give the PKI files in --pki-dir: those of the files checked (the
/// runbook's cfssl names where one is not given).
fn pki_names(
    args: &SnapshotRestoreArgs,
    files: &NewMemberFiles,
    conn: &ConnectionArgs,
) -> PkiNames {
    let name =
        |p: Option<&std::path::Path>| p.and_then(|p| p.file_name()).map(std::path::PathBuf::from);
    let mut names = PkiNames::default();
    if let Some(n) = name(conn.cacert.as_deref()) {
        names.ca = n;
    }
    if let Some(n) = name(files.peer_cert.as_deref()) {
        names.peer = n;
    }
    if let Some(n) = name(files.peer_key.as_deref()) {
        names.peer_key = n;
    }
    if let Some(n) = name(files.server_cert.as_deref()) {
        names.server = n;
    }
    let server_key = args.server_key.clone().or_else(|| {
        files
            .server_cert
            .as_deref()
            .and_then(|c| pki_core::key_candidates(c).into_iter().find(|k| k.exists()))
    });
    if let Some(n) = name(server_key.as_deref()) {
        names.server_key = n;
    }
    names
}

fn step_text(step: &RestoreStep) -> String {
    match step {
        RestoreStep::Reissue { file, add } => format!(
            "reissue {} adding {} (a backup is kept)",
            display_path(file),
            add.join(", ")
        ),
        RestoreStep::RestoreData { command, .. } => command.join(" "),
        RestoreStep::NodeFiles { member, dir } => format!(
            "write {member}'s etcd.env, etcd.conf, etcd.service into {}",
            display_path(dir)
        ),
        _ => String::new(),
    }
}

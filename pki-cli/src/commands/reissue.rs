//! `etcd-pki reissue`: the fix for a certificate that does not cover a new member.

use std::path::{Path, PathBuf};

use pki_core::{
    load_bytes, load_private_key, read_file, reissue, reissue_writes, write::write_all,
    CertificateAuthority, KeyChange, Plan, ReissueRequest,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{ChangeFormat, ReissueArgs};
use crate::exit::{usage, Outcome, Result};
use crate::output::{print, print_json};

#[derive(Serialize)]
struct ReissueJson<'a> {
    certificate: &'a Path,
    dry_run: bool,
    plan: &'a Plan,
    written: Vec<&'a Path>,
    backups: Vec<Backup<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Backup<'a> {
    file: &'a Path,
    backup: &'a Path,
}

pub fn run(args: &ReissueArgs) -> Result<Outcome> {
    let now = OffsetDateTime::now_utc();
    let ca = CertificateAuthority::load(&args.ca.cacert, &args.ca.ca_key, now)?;
    for warning in ca.warnings() {
        eprintln!("etcd-pki: warning: {warning}");
    }
    let original = read_file(&args.cert)?;
    let loaded = load_bytes(&original).map_err(|e| usage(e.with_path(&args.cert)))?;
    let Some(old) = loaded.certificates.first() else {
        return Err(usage(pki_core::Error::NoCertificate {
            path: Some(args.cert.clone()),
            found: loaded.found,
        }));
    };
    let old_key = match &args.key {
        Some(path) => Some(load_private_key(path)?),
        None => None,
    };
    if args.new_key && args.out.is_some() && args.out_key.is_none() {
        return Err(usage(anyhow::anyhow!(
            "--out with --new-key needs --out-key: otherwise the new key would replace the live --key while the live certificate stays, and they would no longer match"
        )));
    }
    let key_out: Option<PathBuf> = args.out_key.clone().or_else(|| args.key.clone());
    if args.new_key && key_out.is_none() {
        return Err(usage(anyhow::anyhow!(
            "--new-key needs somewhere to write the new key: give --key (replaced in place) or --out-key"
        )));
    }
    let req = ReissueRequest {
        add_ips: args.add_ips.clone(),
        add_dns: args.add_dns.clone(),
        remove_ips: args.remove_ips.clone(),
        remove_dns: args.remove_dns.clone(),
        new_key: args.new_key,
        days: args.days,
        at: now,
    };
    let cert_out = args.out.clone().unwrap_or_else(|| args.cert.clone());

    if args.dry_run {
        let plan = pki_core::plan(old, &ca, &req).map_err(|e| usage(e.with_path(&args.cert)))?;
        match args.write_out {
            ChangeFormat::Json => print_json(&ReissueJson {
                certificate: &args.cert,
                dry_run: true,
                plan: &plan,
                written: vec![],
                backups: vec![],
                warnings: ca.warnings(),
            })?,
            ChangeFormat::Simple => {
                let mut text = plan_text(&args.cert, &ca, &plan);
                text.push_str("dry run: nothing was written\n");
                print(&text)?;
            }
        }
        return Ok(Outcome::Ok);
    }

    let reissued =
        reissue(old, old_key.as_ref(), &ca, &req).map_err(|e| usage(e.with_path(&args.cert)))?;
    let key_format = old_key.as_ref().map(|k| k.format());
    let writes = reissue_writes(
        &original,
        &reissued,
        &cert_out,
        key_out.as_deref().map(|p| (p, key_format)),
    )?;
    let written = write_all(&writes)?;
    match args.write_out {
        ChangeFormat::Json => print_json(&ReissueJson {
            certificate: &args.cert,
            dry_run: false,
            plan: &reissued.plan,
            written: written.files.iter().map(PathBuf::as_path).collect(),
            backups: written
                .backups
                .iter()
                .map(|(file, backup)| Backup { file, backup })
                .collect(),
            warnings: ca.warnings(),
        })?,
        ChangeFormat::Simple => {
            let mut text = plan_text(&args.cert, &ca, &reissued.plan);
            for file in &written.files {
                match written.backups.iter().find(|(f, _)| f == file) {
                    Some((_, backup)) => text.push_str(&format!(
                        "wrote {} (the old file is {})\n",
                        file.display(),
                        backup.display()
                    )),
                    None => text.push_str(&format!("wrote {}\n", file.display())),
                }
            }
            text.push_str(
                "verified: chains to the CA, covers every old and added host, matches its key\n",
            );
            print(&text)?;
        }
    }
    Ok(Outcome::Ok)
}

/// A plan in lines: the SAN diff first, since that is what the operator came for.
pub(super) fn plan_text(cert: &Path, ca: &CertificateAuthority, plan: &Plan) -> String {
    let ca_name = ca
        .certificate()
        .common_name()
        .map_or_else(|| plan.ca.clone(), str::to_string);
    let ca_file = ca
        .certificate_path()
        .map_or(String::new(), |p| format!(" ({})", p.display()));
    let mut text = format!(
        "{}: {}\n  signed by {ca_name}{ca_file}\n",
        cert.display(),
        plan.subject
    );
    for added in &plan.added {
        text.push_str(&format!("  + {added}\n"));
    }
    for removed in &plan.removed {
        text.push_str(&format!("  - {removed}\n"));
    }
    for kept in plan.sans_after.iter().filter(|s| !plan.added.contains(s)) {
        text.push_str(&format!("    {kept}\n"));
    }
    for present in &plan.already_present {
        text.push_str(&format!("  = {present} (already present)\n"));
    }
    text.push_str(&format!(
        "  validity: {} to {} (was until {}){}\n",
        plan.not_before,
        plan.not_after,
        plan.old_not_after,
        if plan.clamped_to_ca {
            "; cut to the CA's own expiry"
        } else {
            ""
        }
    ));
    text.push_str(&match &plan.key {
        KeyChange::Kept { algorithm } => format!("  key: kept ({algorithm})\n"),
        KeyChange::New { algorithm } => format!("  key: new {algorithm} key\n"),
    });
    text.push_str("  serial: new random; subject, usages and other extensions: unchanged\n");
    text
}

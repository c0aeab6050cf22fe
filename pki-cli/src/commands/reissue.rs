//! `etcd-pki reissue`: the fix for a certificate that does not cover a new member.

use std::path::{Path, PathBuf};

use pki_core::{
    display_path, refuse_outputs_over_inputs, reissue_writes, rfc3339, same_file, serde_path,
    write::write_all_as, CertificateAuthority, CertificateFile, KeyChange, NamedInput, Plan,
    PrivateKey, ReissueRequest,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{ChangeFormat, ReissueArgs};
use crate::exit::{usage, Outcome, Result};
use crate::output::{print, print_json};
use crate::unfinished::{report_recovered, report_unfinished};

#[derive(Serialize)]
struct ReissueJson<'a> {
    #[serde(serialize_with = "serde_path::path")]
    certificate: &'a Path,
    dry_run: bool,
    plan: &'a Plan,
    #[serde(serialize_with = "serde_path::paths")]
    written: Vec<&'a Path>,
    backups: Vec<Backup<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Backup<'a> {
    #[serde(serialize_with = "serde_path::path")]
    file: &'a Path,
    #[serde(serialize_with = "serde_path::path")]
    backup: &'a Path,
}

pub fn run(args: &ReissueArgs) -> Result<Outcome> {
    let now = OffsetDateTime::now_utc();
    let ca = CertificateAuthority::load(&args.ca.cacert, &args.ca.ca_key, now)?;
    for warning in ca.warnings() {
        eprintln!("etcd-pki: warning: {warning}");
    }
    // The file and its key as pki-core's reissue_file reads them.
    let file = CertificateFile::open(&args.cert, args.key.as_ref())?;
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
    let cert_out = args.out.clone().unwrap_or_else(|| args.cert.clone());
    // No output may be another input: the reissued leaf over the CA certificate, a new key
    // over the CA key, a certificate over its key. Replacing a file in place (the default) is
    // the point, so an output written in place may be its own input (and a file holding both
    // the certificate and its key is rewritten keeping the key).
    let mut inputs = vec![
        NamedInput {
            role: "the CA certificate (--cacert)",
            path: &args.ca.cacert,
        },
        NamedInput {
            role: "the CA key (--ca-key)",
            path: &args.ca.ca_key,
        },
        NamedInput {
            role: "the certificate to reissue (--cert)",
            path: &args.cert,
        },
    ];
    if let Some(key) = &args.key {
        inputs.push(NamedInput {
            role: "the certificate's key (--key)",
            path: key,
        });
    }
    let mut outputs: Vec<(&Path, Option<&Path>)> =
        vec![(&cert_out, args.out.is_none().then_some(args.cert.as_path()))];
    if let (true, Some(k)) = (args.new_key, &key_out) {
        outputs.push((k, args.out_key.is_none().then_some(k.as_path())));
    }
    for (output, in_place_of) in outputs {
        let others: Vec<NamedInput> = inputs
            .iter()
            .filter(|i| !in_place_of.is_some_and(|own| same_file(own, i.path)))
            .copied()
            .collect();
        refuse_outputs_over_inputs(&[output], &others)?;
    }
    let req = request(args, now);

    // A dry run runs every check of the real run (the key, signing, verification, the file
    // contents) and stops before writing.
    let reissued = file.reissue(&ca, &req)?;
    let key_format = file.key.as_ref().map(PrivateKey::format);
    let writes = reissue_writes(
        &file.contents,
        &reissued,
        &cert_out,
        key_out.as_deref().map(|p| (p, key_format)),
    )?;
    if args.dry_run {
        let dirs: Vec<&Path> = writes.iter().map(|w| w.path.as_path()).collect();
        let unfinished = report_unfinished(&dirs);
        match args.write_out {
            ChangeFormat::Json => print_json(&ReissueJson {
                certificate: &args.cert,
                dry_run: true,
                plan: &reissued.plan,
                written: vec![],
                backups: vec![],
                warnings: ca.warnings(),
            })?,
            ChangeFormat::Simple => {
                let mut text = plan_text(&args.cert, &ca, &reissued.plan);
                text.push_str("dry run: nothing was written\n");
                print(&text)?;
            }
        }
        return Ok(if unfinished {
            Outcome::ProblemsFound
        } else {
            Outcome::Ok
        });
    }

    let written = write_all_as("reissue", &writes)?;
    report_recovered(&written.recovered);
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
                        display_path(file),
                        display_path(backup)
                    )),
                    None => text.push_str(&format!("wrote {}\n", display_path(file))),
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

/// The request the flags make.
fn request(args: &ReissueArgs, now: OffsetDateTime) -> ReissueRequest {
    let mut req = ReissueRequest::renew(now);
    for ip in &args.add_ips {
        req = req.add_ip(*ip);
    }
    for name in &args.add_dns {
        req = req.add_dns(name);
    }
    for ip in &args.remove_ips {
        req = req.remove_ip(*ip);
    }
    for name in &args.remove_dns {
        req = req.remove_dns(name);
    }
    if args.new_key {
        req = req.new_key();
    }
    if let Some(days) = args.days {
        req = req.days(days);
    }
    req
}

/// A plan in lines: the SAN diff first, since that is what the operator came for.
pub(super) fn plan_text(cert: &Path, ca: &CertificateAuthority, plan: &Plan) -> String {
    let ca_name = ca
        .certificate()
        .common_name()
        .map_or_else(|| plan.ca.clone(), str::to_string);
    let ca_file = ca
        .certificate_path()
        .map_or(String::new(), |p| format!(" ({})", display_path(p)));
    let mut text = format!(
        "{}: {}\n  signed by {ca_name}{ca_file}\n",
        display_path(cert),
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
        rfc3339(plan.not_before),
        rfc3339(plan.not_after),
        rfc3339(plan.old_not_after),
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

//! `etcd-pki issue`: a new member's own certificates, modelled on an existing member's
//! directory (pki-core's `issue_member`).

use std::path::Path;

use pki_core::{
    check_output_dir, check_output_outside, display_path, issue_member, plan_issue,
    refuse_outputs_over_inputs, rfc3339, serde_path, write_member, CertificateAuthority, Error,
    IssuePlan, IssueRequest, MemberFiles, NameSource, NamedInput, PlannedContent,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{ChangeFormat, IssueArgs};
use crate::exit::{usage, Outcome, Result};
use crate::output::{print, print_json};
use crate::render::shell_word;
use crate::unfinished::report_recovered;

#[derive(Serialize)]
struct IssueJson<'a> {
    #[serde(serialize_with = "serde_path::path")]
    out: &'a Path,
    dry_run: bool,
    plan: &'a IssuePlan,
    #[serde(serialize_with = "serde_path::paths")]
    written: Vec<&'a Path>,
}

pub fn run(args: &IssueArgs) -> Result<Outcome> {
    let now = OffsetDateTime::now_utc();
    check_output_dir(&args.out)?;
    check_output_outside(&args.out, &args.like)?;
    refuse_outputs_over_inputs(
        &[&args.out],
        &[
            NamedInput {
                role: "the template directory (--like)",
                path: &args.like,
            },
            NamedInput {
                role: "the CA certificate (--cacert)",
                path: &args.ca.cacert,
            },
            NamedInput {
                role: "the CA key (--ca-key)",
                path: &args.ca.ca_key,
            },
        ],
    )?;
    let ca = CertificateAuthority::load(&args.ca.cacert, &args.ca.ca_key, now)?;
    for warning in ca.warnings() {
        eprintln!("etcd-pki: warning: {warning}");
    }
    let req = request(args, now);
    if args.dry_run {
        let plan = plan_issue(&ca, &req).map_err(|e| shared_to_reissue(e, args))?;
        match args.write_out {
            ChangeFormat::Json => print_json(&IssueJson {
                out: &args.out,
                dry_run: true,
                plan: &plan,
                written: vec![],
            })?,
            ChangeFormat::Simple => {
                let mut text = plan_text(&plan, &ca, &args.out);
                text.push_str("dry run: nothing was written\n");
                print(&text)?;
            }
        }
        return Ok(Outcome::Ok);
    }
    let issued = issue_member(&ca, &req).map_err(|e| shared_to_reissue(e, args))?;
    let written = write_member(&args.out, &issued)?;
    report_recovered(&written.recovered);
    match args.write_out {
        ChangeFormat::Json => print_json(&IssueJson {
            out: &args.out,
            dry_run: false,
            plan: &issued.plan,
            written: written.files.iter().map(|p| p.as_path()).collect(),
        })?,
        ChangeFormat::Simple => {
            let mut text = plan_text(&issued.plan, &ca, &args.out);
            for file in &written.files {
                text.push_str(&format!("wrote {}\n", display_path(file)));
            }
            text.push_str("verified: each certificate chains to the CA, covers the new member's hosts, and has the template's usages and key algorithm\n");
            print(&text)?;
        }
    }
    Ok(Outcome::Ok)
}

fn request(args: &IssueArgs, now: OffsetDateTime) -> IssueRequest {
    let mut req = IssueRequest::new(&args.name, &args.like).at(now);
    for ip in &args.ips {
        req = req.ip(*ip);
    }
    for name in &args.dns {
        req = req.dns(name);
    }
    if let Some(n) = &args.like_name {
        req = req.like_name(n);
    }
    if let Some(days) = args.days {
        req = req.days(days);
    }
    req
}

/// A shared layout is refused with the commands that add the new member to the shared
/// certificates instead; other errors pass through.
fn shared_to_reissue(e: Error, args: &IssueArgs) -> crate::exit::Failure {
    // This command's own flags, where pki-core's words would name reissue's or init's.
    if let Error::InvalidRequest { problem, .. } = &e {
        match problem {
            pki_core::RequestProblem::InvalidDnsName { name, problem } => {
                return usage(anyhow::anyhow!("--dns {name:?}: {problem}"));
            }
            pki_core::RequestProblem::InvalidMember { spec, problem } => {
                return usage(anyhow::anyhow!("the member name {spec:?}: {problem}"));
            }
            pki_core::RequestProblem::ZeroDays => {
                return usage(anyhow::anyhow!("--days must be at least 1"));
            }
            _ => {}
        }
    }
    let Error::SharedCertificates { certificates, .. } = &e else {
        return e.into();
    };
    let mut text = format!(
        "{}\nthe fix for this layout, one command per shared certificate:\n",
        crate::errors::core_error_text(&e)
    );
    for c in certificates {
        let mut words = vec![
            "etcd-pki".to_string(),
            "reissue".into(),
            "--cacert".into(),
            shell_word(&display_path(&args.ca.cacert)),
            "--ca-key".into(),
            shell_word(&display_path(&args.ca.ca_key)),
            "--cert".into(),
            shell_word(&display_path(&c.certificate)),
        ];
        if let Some(k) = &c.key {
            words.push("--key".into());
            words.push(shell_word(&display_path(k)));
        }
        for ip in &args.ips {
            words.push("--add-ip".into());
            words.push(ip.to_string());
        }
        for d in &args.dns {
            words.push("--add-dns".into());
            words.push(shell_word(d));
        }
        text.push_str(&format!("  {}\n", words.join(" ")));
    }
    usage(anyhow::anyhow!(text.trim_end().to_string()))
}

/// The plan in lines: each new file with the template file it came from.
fn plan_text(plan: &IssuePlan, ca: &CertificateAuthority, out: &Path) -> String {
    let ca_name = ca
        .certificate()
        .common_name()
        .map_or_else(|| plan.ca.clone(), str::to_string);
    let template_member = match (&plan.template_member, plan.template_member_source) {
        (Some(n), Some(NameSource::Given)) => format!(" (member {n}, as given)"),
        (Some(n), Some(NameSource::DirectoryName)) => {
            format!(" (member {n}: the directory's name, which its certificates name)")
        }
        (Some(n), _) => format!(" (member {n}: its certificates' common name)"),
        (None, _) => " (its member's name was not found in its directory name or certificates; subjects are kept)".into(),
    };
    let mut text = format!(
        "{}: {} files for {}, modelled on {}{template_member}, signed by {ca_name}\n",
        display_path(out),
        plan.files.len(),
        plan.name,
        display_path(&plan.template),
    );
    if plan.siblings.is_empty() {
        text.push_str("  no sibling members' directories beside it: of the template's SANs only 127.0.0.1, ::1 and localhost are kept\n");
    } else {
        text.push_str(&format!(
            "  SANs shared with the siblings {} are kept\n",
            plan.siblings
                .iter()
                .map(|s| display_path(s).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for f in &plan.files {
        let from = if f.from.as_os_str().is_empty() {
            "(new: the template's key is elsewhere)".to_string()
        } else {
            format!("from {}", display_path(&f.from))
        };
        match &f.content {
            PlannedContent::CaCertificates { subjects } => text.push_str(&format!(
                "  {}  {from}: CA certificate(s) copied: {}\n",
                display_path(&f.path),
                subjects.join("; ")
            )),
            PlannedContent::Certificate(c) => {
                text.push_str(&format!(
                    "  {}  {from}: {}\n      {}; key {} in {}\n      SANs: {}\n",
                    display_path(&f.path),
                    c.subject,
                    c.usages,
                    c.key,
                    display_path(&c.key_file),
                    if c.sans.is_empty() {
                        "none".to_string()
                    } else {
                        c.sans.join(", ")
                    }
                ));
                if !c.replaced.is_empty() {
                    text.push_str(&format!(
                        "      replaced (the template member's): {}\n",
                        c.replaced.join(", ")
                    ));
                }
                text.push_str(&format!(
                    "      valid {} to {}{}\n",
                    rfc3339(c.not_before),
                    rfc3339(c.not_after),
                    if c.clamped_to_ca {
                        " (cut to the CA's expiry)"
                    } else {
                        ""
                    }
                ));
            }
            PlannedContent::Key {
                algorithm,
                format,
                encoding,
                ..
            } => text.push_str(&format!(
                "  {}  {from}: new {algorithm} key ({format}, {}), 0600\n",
                display_path(&f.path),
                match encoding {
                    pki_core::Encoding::Pem => "PEM",
                    pki_core::Encoding::Der => "DER",
                }
            )),
            _ => {}
        }
    }
    for s in &plan.skipped {
        text.push_str(&format!(
            "  not carried over: {}: {}\n",
            display_path(&s.path),
            s.reason
        ));
    }
    for n in &plan.notes {
        text.push_str(&format!("  note: {n}\n"));
    }
    if let Some(flags) = etcd_flags(&plan.roles, out) {
        text.push_str(&format!(
            "etcd flags for {} (paths as written here; adjust to where the files go on the node):\n  {flags}\n",
            plan.name
        ));
    }
    text
}

/// The TLS flags of the new member, when its server and peer files were recognised.
pub(crate) fn etcd_flags(roles: &MemberFiles, dir: &Path) -> Option<String> {
    let (ca, server, peer) = (
        roles.trusted_ca.as_ref()?,
        roles.server.as_ref()?,
        roles.peer.as_ref()?,
    );
    let p = |rel: &Path| shell_word(&display_path(&dir.join(rel)));
    Some(format!(
        "--client-cert-auth --trusted-ca-file={} --cert-file={} --key-file={} --peer-client-cert-auth --peer-trusted-ca-file={} --peer-cert-file={} --peer-key-file={}",
        p(ca),
        p(&server.cert),
        p(&server.key),
        p(ca),
        p(&peer.cert),
        p(&peer.key)
    ))
}

//! `etcd-pki scan DIR...`: every certificate under directory trees, one row each. The table
//! and `-w json` hold the whole report; `-w jsonl` ([`jsonl`]) and `-w prometheus`
//! ([`prometheus`]) write rows as the scan hands them over, in memory bounded by the CAs and the
//! list of files.

mod jsonl;
mod prometheus;

use pki_core::{display_path, rfc3339, scan, short_duration, Issuer, ScanOptions, ScanReport};

use crate::cli::{ScanArgs, ScanFormat};
use crate::exit::{Outcome, Result};
use crate::output::{or_dash, print, print_json, Table};
use crate::unfinished::report_interrupted;

pub fn run(args: &ScanArgs) -> Result<Outcome> {
    let mut opts = ScanOptions::new()
        .expires_within(args.expires_within)
        .verify_signatures(args.verify);
    if let Some(at) = args.at {
        opts = opts.at(at);
    }
    let (problems, interrupted) = match args.write_out {
        ScanFormat::Jsonl | ScanFormat::Prometheus => {
            let (row_problems, tail) = if args.write_out == ScanFormat::Jsonl {
                jsonl::write(&args.dirs, &opts)?
            } else {
                prometheus::write(&args.dirs, &opts, args.metrics.textfile.as_deref())?
            };
            (row_problems || tail.has_problems(), tail.interrupted)
        }
        ScanFormat::Json | ScanFormat::Table => {
            let report = scan(&args.dirs, &opts)?;
            if args.write_out == ScanFormat::Json {
                print_json(&report)?;
            } else {
                print(&table(&report))?;
            }
            (report.has_problems(), report.interrupted)
        }
    };
    report_interrupted(&interrupted);
    Ok(if problems {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}

/// The report as a table, then the counts and the files skipped or damaged.
fn table(report: &ScanReport) -> String {
    let mut table = Table::new([
        "CERTIFICATE",
        "SUBJECT",
        "EXPIRES",
        "RESIDUAL",
        "ISSUER",
        "SANS",
        "PROBLEMS",
    ]);
    for c in &report.certificates {
        let file = if c.index > 0 {
            format!("{} [{}]", display_path(&c.path), c.index)
        } else {
            display_path(&c.path).to_string()
        };
        let issuer = match &c.issuer {
            Issuer::SelfSigned => "self-signed".to_string(),
            Issuer::Found { path, name } => format!("{name} ({})", display_path(path)),
            Issuer::NotFound => "not found".to_string(),
            _ => "-".to_string(),
        };
        let subject = c.common_name.clone().unwrap_or_else(|| c.subject.clone());
        let subject = if c.is_ca {
            format!("{subject} (CA)")
        } else {
            subject
        };
        table.row([
            file,
            or_dash(subject),
            rfc3339(c.not_after),
            short_duration(c.residual),
            issuer,
            or_dash(c.sans.join(", ")),
            or_dash(
                c.problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ]);
    }
    let mut text = table.render();
    let with_problems = report
        .certificates
        .iter()
        .filter(|c| !c.problems.is_empty())
        .count();
    text.push_str(&format!(
        "{} certificates, {} with problems",
        report.certificates.len(),
        with_problems
    ));
    if report.skipped.is_empty() {
        text.push('\n');
    } else {
        text.push_str(&format!("; {} files skipped:\n", report.skipped.len()));
        for s in &report.skipped {
            text.push_str(&format!("  {}: {}\n", display_path(&s.path), s.reason));
        }
    }
    if !report.malformed.is_empty() {
        text.push_str(&format!(
            "{} files hold a certificate that cannot be read (etcd could not load them either):\n",
            report.malformed.len()
        ));
        for s in &report.malformed {
            text.push_str(&format!("  {}: {}\n", display_path(&s.path), s.reason));
        }
    }
    text
}

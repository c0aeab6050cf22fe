//! `etcd-pki renew`: rotation of every certificate a CA issued that expires soon.

use std::path::Path;

use pki_core::{
    display_path, renew, rfc3339, serde_path, serde_time, CertificateAuthority, RenewItem,
    RenewOptions, RenewOutcome,
};
use serde::ser::SerializeStruct;
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{RenewArgs, TableFormat};
use crate::errors::core_error_text;
use crate::exit::{Outcome, Result};
use crate::output::{print, print_json, Table};
use crate::unfinished::{report_interrupted, report_recovered};

pub fn run(args: &RenewArgs) -> Result<Outcome> {
    let now = OffsetDateTime::now_utc();
    let ca = CertificateAuthority::load(&args.ca.cacert, &args.ca.ca_key, now)?;
    for warning in ca.warnings() {
        eprintln!("etcd-pki: warning: {warning}");
    }
    let opts = RenewOptions::new()
        .at(now)
        .expires_within(args.expires_within)
        .dry_run(args.dry_run);
    let report = renew(&args.paths, &ca, &opts)?;
    report_recovered(&report.recovered);
    let unfinished = report_interrupted(&report.interrupted);
    let items = report.items;
    let failed = items
        .iter()
        .filter(|i| matches!(i.outcome, RenewOutcome::Failed { .. }))
        .count();
    match args.write_out {
        TableFormat::Json => print_json(&items_json(&items))?,
        TableFormat::Table => {
            let mut table = Table::new([
                "CERTIFICATE",
                "SUBJECT",
                "EXPIRED/EXPIRES",
                "ACTION",
                "NEW EXPIRY",
                "BACKUP",
            ]);
            let mut notes = Vec::new();
            for item in &items {
                let (action, new_expiry, backup) = match &item.outcome {
                    RenewOutcome::Renewed { plan, backup } => {
                        if plan.clamped_to_ca && plan.not_after - now <= args.expires_within {
                            notes.push(format!(
                                "{}: renewed, but the CA expires at {}: renew the CA (etcd-pki init a new one and roll it out), since no leaf can outlive it",
                                display_path(&item.path),
                                rfc3339(plan.not_after)
                            ));
                        }
                        (
                            "renewed".to_string(),
                            rfc3339(plan.not_after),
                            backup
                                .as_ref()
                                .map_or("-".into(), |b| display_path(b).into_owned()),
                        )
                    }
                    RenewOutcome::WouldRenew { plan } => (
                        "would renew (dry run)".into(),
                        rfc3339(plan.not_after),
                        "-".into(),
                    ),
                    RenewOutcome::NotDue => ("not due".into(), "-".into(), "-".into()),
                    RenewOutcome::OtherIssuer => (
                        "skipped: another CA issued it".into(),
                        "-".into(),
                        "-".into(),
                    ),
                    RenewOutcome::IsCa => {
                        ("skipped: a CA certificate".into(), "-".into(), "-".into())
                    }
                    RenewOutcome::Failed { error } => {
                        notes.push(format!(
                            "{}: {}",
                            display_path(&item.path),
                            core_error_text(error)
                        ));
                        (
                            "FAILED (file left as it was)".into(),
                            "-".into(),
                            "-".into(),
                        )
                    }
                    _ => ("-".into(), "-".into(), "-".into()),
                };
                table.row([
                    display_path(&item.path).to_string(),
                    item.subject.clone(),
                    item.not_after.map(rfc3339).unwrap_or_default(),
                    action,
                    new_expiry,
                    backup,
                ]);
            }
            let mut text = table.render();
            let renewed = items
                .iter()
                .filter(|i| {
                    matches!(
                        i.outcome,
                        RenewOutcome::Renewed { .. } | RenewOutcome::WouldRenew { .. }
                    )
                })
                .count();
            text.push_str(&format!(
                "{} certificates, {renewed} {}, {failed} failed\n",
                items.len(),
                if args.dry_run { "due" } else { "renewed" }
            ));
            for note in notes {
                text.push_str(&format!("  {note}\n"));
            }
            print(&text)?;
        }
    }
    Ok(if failed > 0 || unfinished {
        Outcome::ProblemsFound
    } else {
        Outcome::Ok
    })
}

/// A renewed file as pki-core serializes it, with a failure's error in this CLI's words.
#[derive(Serialize)]
struct ItemJson<'a> {
    #[serde(serialize_with = "serde_path::path")]
    path: &'a Path,
    subject: &'a str,
    #[serde(serialize_with = "serde_time::rfc3339_or_empty")]
    not_after: Option<OffsetDateTime>,
    outcome: OutcomeJson<'a>,
}

struct OutcomeJson<'a>(&'a RenewOutcome);

impl Serialize for OutcomeJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            RenewOutcome::Failed { error } => {
                let mut fields = s.serialize_struct("RenewOutcome", 2)?;
                fields.serialize_field("action", "failed")?;
                fields.serialize_field("error", &core_error_text(error))?;
                fields.end()
            }
            other => other.serialize(s),
        }
    }
}

fn items_json(items: &[RenewItem]) -> Vec<ItemJson<'_>> {
    items
        .iter()
        .map(|item| ItemJson {
            path: &item.path,
            subject: &item.subject,
            not_after: item.not_after,
            outcome: OutcomeJson(&item.outcome),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI's JSON of renew items is pki-core's, but for the words of a failure's error.
    #[test]
    fn items_json_is_pki_cores_serialization() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cfssl");
        let dir = tempfile::tempdir().unwrap();
        for f in ["members.pem", "server.pem", "foreign-members.pem", "ca.pem"] {
            std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
        }
        std::fs::write(
            dir.path().join("damaged.pem"),
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let ca = CertificateAuthority::open(fixtures.join("ca.pem"), fixtures.join("ca-key.pem"))
            .unwrap();
        let opts = RenewOptions::new()
            .expires_within(time::Duration::days(365 * 200))
            .dry_run(true);
        let items = renew([dir.path()], &ca, &opts).unwrap().items;
        assert!(items
            .iter()
            .any(|i| matches!(i.outcome, RenewOutcome::Failed { .. })));
        assert!(items
            .iter()
            .any(|i| matches!(i.outcome, RenewOutcome::WouldRenew { .. })));
        assert_eq!(
            serde_json::to_string_pretty(&items_json(&items)).unwrap(),
            serde_json::to_string_pretty(&items).unwrap()
        );
    }
}

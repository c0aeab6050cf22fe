//! `etcd-pki inspect FILE...`: what certificate and key files hold. Private keys are described
//! by algorithm and format only; key material is never printed.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use pki_core::{display_path, load_file, rfc3339, short_duration, Certificate, Loaded, PrivateKey};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{Format, InspectArgs};
use crate::exit::{usage, Outcome, Result};
use crate::output::{or_dash, print, print_json, Table};
use crate::unfinished::report_unfinished;

#[derive(Serialize)]
struct CertificateJson<'a> {
    #[serde(serialize_with = "pki_core::serde_path::path")]
    path: &'a Path,
    index: usize,
    #[serde(flatten)]
    summary: pki_core::Summary,
}

#[derive(Serialize)]
struct KeyJson<'a> {
    #[serde(serialize_with = "pki_core::serde_path::path")]
    path: &'a Path,
    algorithm: String,
    bits: Option<usize>,
    format: pki_core::KeyFormat,
}

#[derive(Serialize, Default)]
struct InspectJson<'a> {
    certificates: Vec<CertificateJson<'a>>,
    private_keys: Vec<KeyJson<'a>>,
    errors: Vec<ErrorJson<'a>>,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    #[serde(serialize_with = "pki_core::serde_path::path")]
    path: &'a Path,
    error: String,
}

pub fn run(args: &InspectArgs) -> Result<Outcome> {
    let urls: Vec<String> = args
        .files
        .iter()
        .filter_map(|p| p.to_str())
        .filter(|p| p.starts_with("https://") || p.starts_with("http://"))
        .map(str::to_string)
        .collect();
    if !urls.is_empty() {
        if urls.len() != args.files.len() {
            return Err(usage(anyhow!(
                "give files or https:// URLs, not both: inspect them in two runs"
            )));
        }
        return crate::commands::inspect_url::run(args, &urls);
    }
    let now = OffsetDateTime::now_utc();
    let mut loaded: Vec<(&PathBuf, Loaded)> = Vec::new();
    let mut errors: Vec<(&PathBuf, String)> = Vec::new();
    for path in &args.files {
        match load_file(path) {
            Ok(l) if l.certificates.is_empty() && l.keys.is_empty() => {
                let what = if l.encrypted_keys > 0 {
                    format!(
                        "an encrypted private key, which etcd cannot use; decrypt it with: openssl pkey -in {0} -out {0}.plain",
                        display_path(path)
                    )
                } else {
                    l.found.to_string()
                };
                errors.push((
                    path,
                    format!(
                        "{}: no certificate or private key; it holds {what}",
                        display_path(path)
                    ),
                ));
            }
            Ok(l) => loaded.push((path, l)),
            Err(_) if path.is_dir() => errors.push((
                path,
                format!(
                    "{} is a directory: use `etcd-pki scan {0}` for directories",
                    display_path(path)
                ),
            )),
            Err(e) => errors.push((path, crate::errors::core_error_text(&e))),
        }
    }

    match args.write_out {
        Format::Json => {
            let mut out = InspectJson::default();
            for (path, l) in &loaded {
                for (index, cert) in l.certificates.iter().enumerate() {
                    out.certificates.push(CertificateJson {
                        path,
                        index,
                        summary: cert.summary(),
                    });
                }
                for key in &l.keys {
                    out.private_keys.push(key_json(path, key));
                }
            }
            for (path, error) in &errors {
                out.errors.push(ErrorJson {
                    path,
                    error: error.clone(),
                });
            }
            print_json(&out)?;
        }
        Format::Simple => {
            let mut text = String::new();
            for (path, l) in &loaded {
                for (index, cert) in l.certificates.iter().enumerate() {
                    text.push_str(&simple(path, index, l.certificates.len(), cert, now));
                }
                for key in &l.keys {
                    text.push_str(&format!(
                        "{}: private key {} ({})\n\n",
                        display_path(path),
                        key.algorithm(),
                        key.format()
                    ));
                }
            }
            print(&text)?;
        }
        Format::Table => {
            let mut table = Table::new([
                "FILE",
                "SUBJECT",
                "NOT AFTER",
                "RESIDUAL",
                "SANS",
                "KEY",
                "EKU",
                "CA",
            ]);
            for (path, l) in &loaded {
                for (index, cert) in l.certificates.iter().enumerate() {
                    let file = if l.certificates.len() > 1 {
                        format!("{} [{index}]", display_path(path))
                    } else {
                        display_path(path).to_string()
                    };
                    table.row([
                        file,
                        cert.subject().to_string(),
                        rfc3339(cert.not_after()),
                        short_duration(cert.not_after() - now),
                        or_dash(cert.sans().to_strings().join(", ")),
                        cert.key_algorithm().to_string(),
                        eku(cert),
                        cert.is_ca().to_string(),
                    ]);
                }
                for key in &l.keys {
                    table.row([
                        display_path(path).to_string(),
                        format!("private key ({})", key.format()),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        key.algorithm().to_string(),
                        "-".into(),
                        "-".into(),
                    ]);
                }
            }
            print(&table.render())?;
        }
    }

    let read: Vec<&Path> = args.files.iter().map(PathBuf::as_path).collect();
    let unfinished = report_unfinished(&read);
    if errors.is_empty() {
        return Ok(if unfinished {
            Outcome::ProblemsFound
        } else {
            Outcome::Ok
        });
    }
    for (_, error) in &errors[..errors.len() - 1] {
        eprintln!("etcd-pki: error: {error}");
    }
    Err(usage(anyhow!("{}", errors[errors.len() - 1].1)))
}

fn key_json<'a>(path: &'a Path, key: &PrivateKey) -> KeyJson<'a> {
    KeyJson {
        path,
        algorithm: key.algorithm().name(),
        bits: key.algorithm().bits(),
        format: key.format(),
    }
}

fn eku(cert: &Certificate) -> String {
    match cert.ext_key_usage() {
        None => "any (no extension)".into(),
        Some(ekus) => ekus
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn simple(
    path: &Path,
    index: usize,
    count: usize,
    cert: &Certificate,
    now: OffsetDateTime,
) -> String {
    let s = cert.summary();
    let mut lines = Vec::new();
    let title = if count > 1 {
        format!(
            "{} [certificate {} of {count}]",
            display_path(path),
            index + 1
        )
    } else {
        display_path(path).to_string()
    };
    lines.push(title);
    let mut field = |name: &str, value: String| lines.push(format!("  {name:<20}{value}"));
    field("Subject:", s.subject);
    field("Issuer:", s.issuer);
    field("Serial:", s.serial);
    let left = cert.not_after() - now;
    let residual = if now < cert.not_before() {
        "not yet valid".to_string()
    } else if left.is_negative() {
        "EXPIRED".to_string()
    } else {
        format!("{} left", short_duration(left))
    };
    field(
        "Validity:",
        format!(
            "{} to {} ({residual})",
            rfc3339(s.not_before),
            rfc3339(s.not_after)
        ),
    );
    let sans = cert.sans().to_strings();
    field(
        "SANs:",
        if cert.has_san_extension() {
            or_dash(sans.join(", "))
        } else {
            "none (no subjectAltName extension: covers no host in Go)".into()
        },
    );
    field("Public key:", cert.key_algorithm().to_string());
    field("Signature:", s.signature_algorithm);
    field("Key usage:", or_dash(s.key_usage.join(", ")));
    field("Ext key usage:", eku(cert));
    let bc = match s.basic_constraints {
        None => "no basic constraints".to_string(),
        Some(bc) if bc.ca => match bc.path_len {
            Some(n) => format!("CA, path length {n}"),
            None => "CA".to_string(),
        },
        Some(_) => "not a CA".to_string(),
    };
    field("Basic constraints:", bc);
    field(
        "Subject key id:",
        s.subject_key_id.unwrap_or_else(|| "-".into()),
    );
    field(
        "Authority key id:",
        s.authority_key_id.unwrap_or_else(|| "-".into()),
    );
    field("SHA-256:", s.fingerprint_sha256);
    if !cert.unhandled_critical_extensions().is_empty() {
        field(
            "Unhandled critical:",
            format!(
                "{} (Go and etcd reject this certificate)",
                cert.unhandled_critical_extensions().join(", ")
            ),
        );
    }
    let mut text = lines.join("\n");
    text.push_str("\n\n");
    text
}

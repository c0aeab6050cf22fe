//! Checks shown as rows (PASS / WARN / FAIL, what was found, how to fix it), shared by the
//! commands that change membership: the certificate checks of a new member, in its roles, and
//! the membership rules of [`crate::membership`].

use std::path::Path;

use pki_core::{check, CertPool, CheckInput, Host, HostUrl, Role, Status, DEFAULT_WARN_WITHIN};
use serde::Serialize;
use time::OffsetDateTime;

use crate::commands::check::{file_label, fix_command, FixFiles};
use crate::exit::{usage, Result};
use crate::membership::Verdict;

/// A check that `member add` ran, as shown to the operator.
#[derive(Serialize, Clone)]
pub struct Row {
    pub status: Status,
    pub check: String,
    pub message: String,
    pub fix: Option<String>,
    /// Whether `--ignore-cert-check` may override a failure of this row.
    #[serde(skip)]
    pub certificate: bool,
}

impl Row {
    /// A row that is not about the new member's certificates.
    pub fn from_parts(status: Status, check: &str, message: String, fix: Option<String>) -> Row {
        Row {
            status,
            check: check.to_string(),
            message,
            fix,
            certificate: false,
        }
    }
}

impl From<Verdict> for Row {
    fn from(v: Verdict) -> Row {
        Row {
            status: v.status,
            check: v.check.to_string(),
            message: v.message,
            fix: v.fix,
            certificate: false,
        }
    }
}

/// The new member's certificates, for the checks of `member add`, `preflight` and `scale-out`.
pub struct NewMemberCerts<'a> {
    /// The peer certificate (the runbook's members.pem).
    pub peer_cert: Option<&'a Path>,
    /// Its key, if known (checked to match, and used for a live handshake).
    pub peer_key: Option<&'a Path>,
    /// The server certificate (the runbook's server.pem).
    pub server_cert: Option<&'a Path>,
    /// The CA file the certificates must chain to.
    pub cacert: Option<&'a Path>,
    /// Fail when a certificate expires within this window.
    pub fail_within: Option<time::Duration>,
}

/// The certificate checks of `member add`: the peer certificate in the peer role for every peer
/// URL host, and the server certificate in the server role for the client URL hosts.
pub fn certificate_rows(
    certs: &NewMemberCerts<'_>,
    peer: &[HostUrl],
    client: &[HostUrl],
) -> Result<Vec<Row>> {
    let roots: Option<CertPool> = match certs.cacert {
        Some(ca) => {
            let bytes = pki_core::read_file(ca)?;
            Some(
                pki_core::certificates_from_bytes(&bytes)
                    .map_err(|e| usage(e.with_path(ca)))?
                    .into_iter()
                    .collect(),
            )
        }
        None => None,
    };
    let mut rows = unfinished_rows(certs);
    let https = peer.iter().any(|u| u.scheme == "https");
    match (https, certs.peer_cert) {
        (false, _) => rows.push(Row {
            status: Status::Warn,
            check: "peer certificate".into(),
            message: "the peer URLs are plain http: no certificate is involved".into(),
            fix: None,
            certificate: true,
        }),
        (true, None) => rows.push(Row {
            status: Status::Fail,
            check: "peer certificate".into(),
            message: "no certificate to check for the new member's https peer URLs".into(),
            fix: Some(
                "give --peer-cert FILE (the certificate the new member will use) or --cert".into(),
            ),
            certificate: true,
        }),
        (true, Some(cert)) => rows.extend(role_rows(
            certs,
            cert,
            certs.peer_key,
            roots.as_ref(),
            Role::Peer,
            peer,
            "peer certificate",
        )?),
    }
    match (certs.server_cert, client.is_empty()) {
        (Some(cert), _) => rows.extend(role_rows(
            certs,
            cert,
            None,
            roots.as_ref(),
            Role::Server,
            client,
            "server certificate",
        )?),
        (None, false) => {
            let urls: Vec<&str> = client.iter().map(|u| u.url.as_str()).collect();
            rows.push(Row {
                status: Status::Warn,
                check: "server certificate".into(),
                message: format!(
                    "the new member's client URLs ({}) were given without --server-cert: the certificate it will serve them with was not checked",
                    urls.join(", ")
                ),
                fix: Some(format!(
                    "give --server-cert FILE (the runbook's server.pem), or check it yourself: etcd-pki check --role server --cert FILE --cacert CA --url {}",
                    urls.join(",")
                )),
                certificate: true,
            })
        }
        (None, true) => {}
    }
    Ok(rows)
}

/// A FAIL for each unfinished write beside the new member's files: until it is recovered, a
/// certificate there may not match its key.
fn unfinished_rows(certs: &NewMemberCerts<'_>) -> Vec<Row> {
    let files: Vec<&Path> = [
        certs.peer_cert,
        certs.peer_key,
        certs.server_cert,
        certs.cacert,
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut dirs: Vec<&Path> = files
        .iter()
        .map(|f| match f.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .flat_map(|dir| {
            pki_core::interrupted_writes(dir)
                .into_iter()
                .map(move |w| Row {
                    status: Status::Fail,
                    check: "unfinished write".into(),
                    message: format!(
                        "{} {} in {}: the files there may be a mix of old and new",
                        w.operation.as_deref().unwrap_or("a write"),
                        if w.in_progress {
                            "is running"
                        } else {
                            "was interrupted"
                        },
                        pki_core::display_path(dir)
                    ),
                    fix: Some(if w.in_progress {
                        "wait until it has finished, then check again".into()
                    } else {
                        format!("etcd-pki recover {}", pki_core::display_path(dir))
                    }),
                    certificate: false,
                })
        })
        .collect()
}

fn role_rows(
    certs: &NewMemberCerts<'_>,
    cert: &Path,
    key: Option<&Path>,
    roots: Option<&CertPool>,
    role: Role,
    urls: &[HostUrl],
    what: &str,
) -> Result<Vec<Row>> {
    let bytes = pki_core::read_file(cert)?;
    let chain = pki_core::certificates_from_bytes(&bytes).map_err(|e| usage(e.with_path(cert)))?;
    let key_bytes = key
        .map(pki_core::read_file)
        .transpose()?
        .map(zeroize::Zeroizing::new);
    let private = match (key, &key_bytes) {
        (Some(path), Some(b)) => {
            Some(pki_core::private_key_from_bytes(b).map_err(|e| usage(e.with_path(path)))?)
        }
        _ => None,
    };
    let hosts: Vec<Host> = urls.iter().map(|u| u.host.clone()).collect();
    let label = file_label(cert);
    let report = check(&CheckInput {
        label: &label,
        chain: &chain,
        key: private.as_ref(),
        roots,
        role: Some(role),
        hosts: &hosts,
        at: OffsetDateTime::now_utc(),
        files: pki_core::EtcdFiles {
            certificate: Some(&bytes),
            key: key_bytes.as_ref().map(|k| k.as_slice()),
            ..Default::default()
        },
        fail_within: certs.fail_within,
        warn_within: DEFAULT_WARN_WITHIN,
    });
    let files = FixFiles {
        cert,
        key,
        cacert: certs.cacert,
    };
    Ok(report
        .findings
        .iter()
        .map(|f| Row {
            status: f.status,
            check: format!("{what} {}", f.check),
            message: match &f.target {
                Some(t) => format!("{t}: {}", f.message),
                None => f.message.clone(),
            },
            fix: f.remedy.as_ref().map(|r| fix_command(r, &files)),
            certificate: true,
        })
        .collect())
}

pub fn rows_text(rows: &[Row]) -> String {
    let mut text = String::new();
    for r in rows {
        text.push_str(&format!("  {}  {}: {}\n", r.status, r.check, r.message));
        if r.status != Status::Pass {
            if let Some(fix) = &r.fix {
                text.push_str(&format!("        fix: {fix}\n"));
            }
        }
    }
    text
}

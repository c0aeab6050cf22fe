//! `etcd-pki inspect https://HOST:PORT...`: the chain each endpoint serves, fetched with one TLS
//! handshake (SNI and client certificate as etcd's clients send them) and judged as a client
//! of it judges it: validity, the chain to --cacert, coverage of the host in the URL.

use time::OffsetDateTime;

use crate::cli::{Format, InspectArgs};
use crate::commands::served::{self, ProbeTls};
use crate::connection::block_on;
use crate::exit::{Code, Failure, Outcome, Result};
use crate::output::{print, print_json};
use crate::render::{rows, rows_text, summary, FixContext};

pub fn run(args: &InspectArgs, urls: &[String]) -> Result<Outcome> {
    let endpoints = served::endpoints(urls)?;
    let tls = ProbeTls {
        cacert: args.probe.cacert.as_deref(),
        cert: args.probe.cert.as_deref(),
        key: args.probe.key.as_deref(),
    };
    let at = OffsetDateTime::now_utc();
    let judged = block_on(served::probe_and_judge(
        endpoints,
        &tls,
        args.probe.command_timeout,
        16,
        at,
        None,
        &pki_cluster::AppliedRules::without_cluster(args.etcd_version.choice()),
    ))??;
    match args.write_out {
        Format::Json => print_json(&served::json(&judged))?,
        Format::Table => print(&served::table(&judged, at))?,
        Format::Simple => {
            let mut text = String::new();
            for j in &judged {
                text.push_str(&format!("{} serves:\n", served::label(&j.served)));
                if let Ok(chain) = &j.served.chain {
                    for (i, c) in chain.iter().enumerate() {
                        let s = c.summary();
                        text.push_str(&format!(
                            "  [{i}] {}\n      issuer {}\n      valid {} to {}\n      SANs {}\n",
                            s.subject,
                            s.issuer,
                            pki_core::rfc3339(s.not_before),
                            pki_core::rfc3339(s.not_after),
                            c.sans().to_strings().join(", ")
                        ));
                    }
                }
                let r = rows(&j.findings, &FixContext::default());
                text.push_str(&rows_text(&r));
                text.push_str(&format!("{}\n\n", summary(&r)));
            }
            text.push_str(&served::rules_line(&judged));
            print(text.trim_end())?;
            print("\n")?;
        }
    }
    if judged.iter().any(|j| j.served.chain.is_err()) {
        return Err(Failure {
            code: Code::Etcd,
            error: anyhow::anyhow!(
                "{} of {} endpoints served no certificate (see above): check that the members run and that this host reaches them",
                judged.iter().filter(|j| j.served.chain.is_err()).count(),
                judged.len()
            ),
        });
    }
    Ok(
        if judged.iter().any(|j| j.status() == pki_core::Status::Fail) {
            Outcome::ProblemsFound
        } else {
            Outcome::Ok
        },
    )
}

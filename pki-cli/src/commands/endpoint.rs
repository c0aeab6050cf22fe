//! `etcd-pki endpoint health|status`, as etcdctl shows them.

use serde::Serialize;

use pki_cluster::{health_all, member_list, status_all, Connection, Error, Health, MemberStatus};

use crate::cli::{EndpointArgs, EndpointCommand, EndpointQueryArgs, Format};
use crate::connection::{block_on, connect, error_text};
use crate::exit::{Failure, Outcome, Result};
use crate::output::{print, print_json, Table};

pub fn run(args: &EndpointArgs) -> Result<Outcome> {
    let etcd = connect(&args.connection)?;
    block_on(async {
        match &args.command {
            EndpointCommand::Health(a) => health(&etcd, a).await,
            EndpointCommand::Status(a) => status(&etcd, a).await,
        }
    })?
}

/// The endpoints to ask: the given ones, or with --cluster every member's client URLs.
async fn endpoints(etcd: &Connection, args: &EndpointQueryArgs) -> Result<Vec<String>, Error> {
    if !args.cluster {
        return Ok(etcd.endpoints().to_vec());
    }
    let list = member_list(etcd).await?;
    let mut urls: Vec<String> = list
        .members
        .iter()
        .flat_map(|m| m.client_urls.clone())
        .collect();
    urls.dedup();
    Ok(urls)
}

/// etcdctl's `endpoint health` lines.
pub(crate) fn health_text(results: &[Health]) -> String {
    let mut text = String::new();
    for h in results {
        if h.health {
            text.push_str(&format!(
                "{} is healthy: successfully committed proposal: took = {:?}\n",
                h.endpoint, h.took
            ));
        } else {
            text.push_str(&format!(
                "{} is unhealthy: failed to commit proposal: {}\n",
                h.endpoint,
                health_error(h)
            ));
        }
    }
    text
}

fn health_error(h: &Health) -> String {
    h.error.as_ref().map(error_text).unwrap_or_default()
}

/// etcdctl's JSON of one health check.
#[derive(Serialize)]
struct HealthJson<'a> {
    endpoint: &'a str,
    health: bool,
    took: String,
    error: String,
}

async fn health(etcd: &Connection, args: &EndpointQueryArgs) -> Result<Outcome> {
    let endpoints = endpoints(etcd, args).await?;
    let results = health_all(etcd, &endpoints).await;
    match args.write_out {
        Format::Simple => print(&health_text(&results))?,
        Format::Table => {
            let mut table = Table::new(["ENDPOINT", "HEALTH", "TOOK", "ERROR"]);
            for h in &results {
                table.row([
                    h.endpoint.clone(),
                    h.health.to_string(),
                    format!("{:?}", h.took),
                    health_error(h),
                ]);
            }
            print(&table.render())?;
        }
        Format::Json => print_json(
            &results
                .iter()
                .map(|h| HealthJson {
                    endpoint: &h.endpoint,
                    health: h.health,
                    took: format!("{:?}", h.took),
                    error: health_error(h),
                })
                .collect::<Vec<_>>(),
        )?,
    }
    if results.iter().all(|h| h.health) {
        Ok(Outcome::Ok)
    } else {
        eprintln!(
            "etcd-pki: unhealthy cluster: {} of {} endpoints unhealthy",
            results.iter().filter(|h| !h.health).count(),
            results.len()
        );
        Ok(Outcome::ProblemsFound)
    }
}

#[derive(Serialize)]
struct StatusJson<'a> {
    #[serde(rename = "Endpoint")]
    endpoint: &'a str,
    #[serde(rename = "Status")]
    status: Option<&'a MemberStatus>,
    #[serde(rename = "Error")]
    error: Option<String>,
}

async fn status(etcd: &Connection, args: &EndpointQueryArgs) -> Result<Outcome> {
    let endpoints = endpoints(etcd, args).await?;
    let results = status_all(etcd, &endpoints).await;
    match args.write_out {
        Format::Simple => {
            let mut text = String::new();
            for r in &results {
                if let Ok(s) = &r.status {
                    text.push_str(&format!(
                        "{}, {:x}, {}, {}, {}, {}, {}, {}, {}, {}\n",
                        r.endpoint,
                        s.member_id,
                        s.version,
                        human_bytes(s.db_size),
                        s.leader == s.member_id,
                        s.is_learner,
                        s.raft_term,
                        s.raft_index,
                        s.raft_applied_index,
                        s.errors.join(", ")
                    ));
                }
            }
            print(&text)?;
        }
        Format::Table => {
            let mut table = Table::new([
                "ENDPOINT",
                "ID",
                "VERSION",
                "DB SIZE",
                "IS LEADER",
                "IS LEARNER",
                "RAFT TERM",
                "RAFT INDEX",
                "RAFT APPLIED INDEX",
                "ERRORS",
            ]);
            for r in &results {
                if let Ok(s) = &r.status {
                    table.row([
                        r.endpoint.clone(),
                        format!("{:x}", s.member_id),
                        s.version.clone(),
                        human_bytes(s.db_size),
                        (s.leader == s.member_id).to_string(),
                        s.is_learner.to_string(),
                        s.raft_term.to_string(),
                        s.raft_index.to_string(),
                        s.raft_applied_index.to_string(),
                        s.errors.join(", "),
                    ]);
                }
            }
            print(&table.render())?;
        }
        Format::Json => print_json(
            &results
                .iter()
                .map(|r| StatusJson {
                    endpoint: &r.endpoint,
                    status: r.status.as_ref().ok(),
                    error: r.status.as_ref().err().map(error_text),
                })
                .collect::<Vec<_>>(),
        )?,
    }
    let failed: Vec<_> = results
        .iter()
        .filter_map(|r| r.status.as_ref().err().map(|e| (&r.endpoint, e)))
        .collect();
    for (endpoint, error) in &failed {
        eprintln!(
            "etcd-pki: failed to get the status of {endpoint}: {}",
            error_text(error)
        );
    }
    if !failed.is_empty() && failed.len() == results.len() {
        return Err(Failure::from(Error::NoneReachable {
            causes: failed.iter().map(|(_, e)| (*e).clone()).collect(),
        }));
    }
    Ok(if failed.is_empty() {
        Outcome::Ok
    } else {
        Outcome::ProblemsFound
    })
}

/// Bytes as go-humanize's `Bytes` prints them (`16 kB`, `1.5 MB`), which etcdctl uses.
pub fn human_bytes(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b < 10.0 {
        return format!("{bytes} B");
    }
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let e = (b.ln() / 1000f64.ln()).floor() as usize;
    let e = e.min(units.len() - 1);
    let val = (b / 1000f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1} {}", units[e])
    } else {
        format!("{val:.0} {}", units[e])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_like_go_humanize() {
        assert_eq!(super::human_bytes(5), "5 B");
        assert_eq!(super::human_bytes(16384), "16 kB");
        assert_eq!(super::human_bytes(20480), "20 kB");
        assert_eq!(super::human_bytes(1_500_000), "1.5 MB");
        assert_eq!(super::human_bytes(999), "999 B");
    }
}

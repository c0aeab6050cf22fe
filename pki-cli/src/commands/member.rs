//! `etcd-pki member list|add|promote|remove`: etcdctl's membership commands, with the checks
//! that keep the runbook's mistakes from reaching the cluster.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use etcd_client::MemberAddOptions;
use futures_util::future::join_all;
use pki_core::{HostUrl, Status};
use serde::Serialize;

use crate::checks::{certificate_rows, rows_text, NewMemberCerts, Row};
use crate::cli::{
    AddArgs, ChangeFormat, ConnectionArgs, Format, ListArgs, MemberArgs, MemberCommand,
    PromoteArgs, RemoveArgs,
};
use crate::etcd::connect::{block_on, Etcd};
use crate::etcd::errors::EtcdError;
use crate::etcd::state::{
    client_endpoint, member_list, status_until, ClusterState, MemberInfo, MemberList,
};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::membership::{check_add, check_remove};
use crate::output::{print, print_json, Table};

pub fn run(args: &MemberArgs) -> Result<Outcome> {
    let etcd = Etcd::from_args(&args.connection)?;
    match &args.command {
        MemberCommand::List(a) => block_on(list(&etcd, a))?,
        MemberCommand::Add(a) => add(&etcd, &args.connection, a),
        MemberCommand::Promote(a) => block_on(promote(&etcd, a))?,
        MemberCommand::Remove(a) => block_on(remove(&etcd, a))?,
    }
}

#[derive(Serialize)]
struct ListJson<'a> {
    header: Header,
    members: Vec<MemberJson<'a>>,
}

#[derive(Serialize)]
struct Header {
    cluster_id: u64,
    member_id: u64,
    raft_term: u64,
}

#[derive(Serialize)]
struct MemberJson<'a> {
    #[serde(flatten)]
    member: &'a MemberInfo,
    status: &'static str,
}

fn started_word(m: &MemberInfo) -> &'static str {
    if m.started() {
        "started"
    } else {
        "unstarted"
    }
}

async fn list(etcd: &Etcd, args: &ListArgs) -> Result<Outcome> {
    let list = member_list(etcd).await?;
    match args.write_out {
        Format::Simple => {
            let mut text = String::new();
            for m in &list.members {
                text.push_str(&format!(
                    "{:x}, {}, {}, {}, {}, {}\n",
                    m.id,
                    started_word(m),
                    m.name,
                    m.peer_urls.join(","),
                    m.client_urls.join(","),
                    m.is_learner
                ));
            }
            print(&text)?;
        }
        Format::Table => {
            let mut table = Table::new([
                "ID",
                "STATUS",
                "NAME",
                "PEER ADDRS",
                "CLIENT ADDRS",
                "IS LEARNER",
            ]);
            for m in &list.members {
                table.row([
                    format!("{:x}", m.id),
                    started_word(m).to_string(),
                    m.name.clone(),
                    m.peer_urls.join(","),
                    m.client_urls.join(","),
                    m.is_learner.to_string(),
                ]);
            }
            print(&table.render())?;
        }
        Format::Json => print_json(&ListJson {
            header: header(&list),
            members: list
                .members
                .iter()
                .map(|m| MemberJson {
                    member: m,
                    status: started_word(m),
                })
                .collect(),
        })?,
    }
    Ok(Outcome::Ok)
}

fn header(list: &MemberList) -> Header {
    Header {
        cluster_id: list.cluster_id,
        member_id: list.member_id,
        raft_term: list.raft_term,
    }
}

#[derive(Serialize)]
struct AddJson<'a> {
    added: bool,
    checks: &'a [Row],
    member_id: Option<String>,
    cluster_id: Option<String>,
    env: Vec<(String, String)>,
}

fn add(etcd: &Etcd, conn: &ConnectionArgs, args: &AddArgs) -> Result<Outcome> {
    if args.name.trim().is_empty() {
        return Err(usage(anyhow!("the member name is empty")));
    }
    let mut peer_hosts = Vec::new();
    for url in &args.peer_urls {
        peer_hosts.push(HostUrl::parse(url).map_err(usage)?);
    }
    let mut client_hosts = Vec::new();
    for url in &args.client_urls {
        client_hosts.push(HostUrl::parse(url).map_err(usage)?);
    }
    // Certificates first: offline, before anything touches the cluster.
    let certs = NewMemberCerts {
        peer_cert: args.peer_cert.as_deref().or(conn.cert.as_deref()),
        peer_key: if args.peer_cert.is_none() {
            conn.key.as_deref()
        } else {
            None
        },
        server_cert: args.server_cert.as_deref(),
        cacert: conn.cacert.as_deref(),
        fail_within: None,
    };
    let mut rows = certificate_rows(&certs, &peer_hosts, &client_hosts)?;
    let state = block_on(ClusterState::fetch(etcd))??;
    let views = state.views();
    rows.extend(
        check_add(
            &views,
            &args.name,
            &args.peer_urls,
            args.learner,
            state.learner_limit(),
        )
        .into_iter()
        .map(Row::from),
    );

    let blocking: Vec<&Row> = rows
        .iter()
        .filter(|r| r.status == Status::Fail && !(r.certificate && args.ignore_cert_check))
        .collect();
    let overridden = args.ignore_cert_check
        && rows
            .iter()
            .any(|r| r.status == Status::Fail && r.certificate);
    if !blocking.is_empty() {
        match args.write_out {
            ChangeFormat::Json => print_json(&AddJson {
                added: false,
                checks: &rows,
                member_id: None,
                cluster_id: None,
                env: vec![],
            })?,
            ChangeFormat::Simple => print(&format!(
                "refusing to add {} ({}): nothing was sent to etcd\n{}",
                args.name,
                args.peer_urls.join(","),
                rows_text(&rows)
            ))?,
        }
        return Ok(Outcome::ProblemsFound);
    }
    if overridden {
        eprintln!(
            "etcd-pki: WARNING: --ignore-cert-check: adding {} although its certificates failed the checks above; if etcd rejects them the new member will not join and the cluster keeps a dead member until you remove it (etcd-pki member remove {})",
            args.name, args.name
        );
        eprint!(
            "{}",
            rows_text(
                &rows
                    .iter()
                    .filter(|r| r.certificate && r.status == Status::Fail)
                    .cloned()
                    .collect::<Vec<_>>()
            )
        );
    }

    // Not blocking, but not to be lost either: e.g. client URLs whose certificate went unchecked.
    let warnings: Vec<Row> = rows
        .iter()
        .filter(|r| r.status == Status::Warn)
        .cloned()
        .collect();
    if !warnings.is_empty() && args.write_out == ChangeFormat::Simple {
        eprint!("etcd-pki: warnings:\n{}", rows_text(&warnings));
    }

    let urls = args.peer_urls.clone();
    let learner = args.learner;
    let response = block_on(etcd.change(|mut c| {
        let urls = urls.clone();
        async move {
            let options = if learner {
                Some(MemberAddOptions::new().with_is_learner())
            } else {
                None
            };
            c.member_add(urls, options).await
        }
    }))??;
    let member = response.member().ok_or_else(|| {
        Failure::from(EtcdError::Refused {
            endpoint: etcd.endpoints().join(","),
            message: "etcd answered without the new member".into(),
            advice: None,
        })
    })?;
    let new_id = member.id();
    let cluster_id = response.header().map_or(0, |h| h.cluster_id());
    let mut conf = Vec::new();
    for m in response.member_list() {
        let name = if m.id() == new_id {
            args.name.as_str()
        } else {
            m.name()
        };
        for u in m.peer_urls() {
            conf.push(format!("{name}={u}"));
        }
    }
    let env = vec![
        ("ETCD_NAME".to_string(), args.name.clone()),
        ("ETCD_INITIAL_CLUSTER".to_string(), conf.join(",")),
        (
            "ETCD_INITIAL_ADVERTISE_PEER_URLS".to_string(),
            member.peer_urls().join(","),
        ),
        (
            "ETCD_INITIAL_CLUSTER_STATE".to_string(),
            "existing".to_string(),
        ),
    ];
    match args.write_out {
        ChangeFormat::Json => print_json(&AddJson {
            added: true,
            checks: &rows,
            member_id: Some(format!("{new_id:x}")),
            cluster_id: Some(format!("{cluster_id:x}")),
            env,
        })?,
        ChangeFormat::Simple => {
            let mut text = format!("Member {new_id:16x} added to cluster {cluster_id:16x}\n\n");
            for (k, v) in &env {
                text.push_str(&format!("{k}=\"{v}\"\n"));
            }
            if learner {
                text.push_str(&format!(
                    "\nStart {} with these settings; once it has caught up, promote it: etcd-pki member promote {} --wait\n",
                    args.name, args.name
                ));
            }
            print(&text)?;
        }
    }
    Ok(Outcome::Ok)
}

async fn promote(etcd: &Etcd, args: &PromoteArgs) -> Result<Outcome> {
    match promote_when_ready(etcd, &args.member, args.wait, args.timeout).await? {
        Promotion::Promoted { id, cluster_id } => {
            print(&format!(
                "Member {id:16x} promoted in cluster {cluster_id:16x}\n"
            ))?;
            Ok(Outcome::Ok)
        }
        Promotion::TimedOut { why } => Err(Failure {
            code: Code::Problem,
            error: anyhow!("{why}"),
        }),
    }
}

/// How waiting for a learner ended.
pub(crate) enum Promotion {
    /// Promoted.
    Promoted { id: u64, cluster_id: u64 },
    /// Not in time; why, in a sentence.
    TimedOut { why: String },
}

/// How long a learner must be seen running and caught up, without a break, before it is
/// promoted: a learner that starts, catches up at once and dies a second later (a crash loop, a
/// wrong flag found late) must not become a dead voter.
pub(crate) const LEARNER_SETTLE: Duration = Duration::from_secs(2);

/// What etcd asks of a learner before promoting it (`isLearnerReady`: its log within 10% of the
/// leader's); the same rule here, on the applied index it reports.
const READY_FRACTION: f64 = 0.9;

/// Promotes a learner (by hex ID or name). Without `wait`, the request goes out at once, as
/// etcdctl sends it, and etcd judges. With `wait`, it waits for the learner to start and catch
/// up with the leader, showing its progress on stderr (redrawn on a terminal, a line at a time
/// otherwise), and promotes it only once it has been running and caught up for
/// [`LEARNER_SETTLE`] without a break, checking once more just before the request is sent.
pub(crate) async fn promote_when_ready(
    etcd: &Etcd,
    member: &str,
    wait: bool,
    timeout: Duration,
) -> Result<Promotion> {
    let deadline = Instant::now() + timeout;
    let tty = std::io::stderr().is_terminal();
    let mut last_report = Instant::now() - Duration::from_secs(60);
    let mut last_line = String::new();
    let mut show = |line: String| {
        if tty {
            eprint!("\r\x1b[2K{line}");
        } else if line != last_line && last_report.elapsed() >= Duration::from_secs(5) {
            eprintln!("{line}");
            last_report = Instant::now();
        }
        last_line = line;
    };
    let end_line = |shown: bool| {
        if tty && shown {
            eprintln!();
        }
    };
    let mut shown = false;
    let mut ready_since: Option<Instant> = None;
    loop {
        let list = member_list(etcd).await?;
        let target = match list.resolve(member) {
            Ok(t) => t.clone(),
            // A learner that has not started yet has no name: with --wait, wait for it.
            Err(e) if wait && list.members.iter().any(|m| m.is_learner && !m.started()) => {
                if Instant::now() >= deadline {
                    end_line(shown);
                    return Ok(Promotion::TimedOut {
                        why: format!("no member named {member} started within {timeout:?}: {e}; start it with the ETCD_* settings member add printed"),
                    });
                }
                show(format!("waiting for {member} to start (a learner that has not started has no name yet)"));
                shown = true;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            // An ID the list does not show: etcd has the last word.
            Err(_) if parse_id(member).is_some() => MemberInfo {
                id: parse_id(member).unwrap_or_default(),
                name: String::new(),
                peer_urls: vec![],
                client_urls: vec![],
                is_learner: true,
            },
            Err(e) => return Err(usage(anyhow!(e))),
        };
        let id = target.id;
        // Without --wait the request goes out as etcdctl sends it, and etcd judges; a voter, or
        // an ID the list does not show, is etcd's to answer for too.
        let judge = wait && target.is_learner && list.members.iter().any(|m| m.id == id);
        let ready = if judge {
            readiness(etcd, &list, &target).await
        } else {
            Ok(String::new())
        };
        let line = match ready {
            Err(why) => {
                ready_since = None;
                why
            }
            Ok(line) => {
                let since = *ready_since.get_or_insert_with(Instant::now);
                if wait && since.elapsed() < LEARNER_SETTLE {
                    format!(
                        "{line}; running and caught up for {:.1}s of the {LEARNER_SETTLE:?} required",
                        since.elapsed().as_secs_f64()
                    )
                } else {
                    // Once more, just before the request: it may have died since the last look.
                    let still = if judge {
                        readiness(etcd, &list, &target).await
                    } else {
                        Ok(String::new())
                    };
                    match still {
                        Err(why) => {
                            ready_since = None;
                            why
                        }
                        Ok(_) => match etcd
                            .change(|mut c| async move { c.member_promote(id).await })
                            .await
                        {
                            Ok(response) => {
                                end_line(shown);
                                let cluster_id = response
                                    .header()
                                    .map_or(list.cluster_id, |h| h.cluster_id());
                                return Ok(Promotion::Promoted { id, cluster_id });
                            }
                            Err(e)
                                if wait
                                    && e.etcd_message()
                                        .is_some_and(|m| m.contains("in sync with leader")) =>
                            {
                                ready_since = None;
                                format!("{line}; etcd finds it not yet in sync")
                            }
                            Err(e) => return Err(e.into()),
                        },
                    }
                }
            }
        };
        if Instant::now() >= deadline {
            end_line(shown);
            return Ok(Promotion::TimedOut {
                why: format!(
                    "learner {} was not running and caught up for {LEARNER_SETTLE:?} on end within {timeout:?} (last: {line}); check that it runs (its log), that it reaches the other members on its peer URL, and that its certificates cover it (etcd-pki check --role peer)",
                    target.label()
                ),
            });
        }
        show(line);
        shown = true;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

/// Whether a learner runs and has caught up with the leader: `Ok` with its progress, or why
/// not. Its status and the voters' are asked together, within one deadline.
async fn readiness(etcd: &Etcd, list: &MemberList, learner: &MemberInfo) -> Result<String, String> {
    let Some(learner_url) = client_endpoint(learner) else {
        return Err(format!(
            "learner {:x} has not started yet (it has no client URL)",
            learner.id
        ));
    };
    let deadline = etcd.deadline();
    let voter_urls: Vec<&str> = list
        .members
        .iter()
        .filter(|m| !m.is_learner)
        .filter_map(client_endpoint)
        .collect();
    let (learner_status, voters) = tokio::join!(
        status_until(etcd, learner_url, deadline),
        join_all(voter_urls.iter().map(|u| status_until(etcd, u, deadline)))
    );
    let l = match learner_status.status {
        Ok(l) => l,
        Err(e) => return Err(format!("learner {} does not answer: {e}", learner.label())),
    };
    let Some(leader) = voters
        .iter()
        .filter_map(|v| v.status.as_ref().ok())
        .find(|s| s.leader != 0 && s.member_id == s.leader)
    else {
        return Err(format!(
            "waiting for learner {}: the leader's status is not available",
            learner.label()
        ));
    };
    let fraction = if leader.raft_index == 0 {
        1.0
    } else {
        l.raft_applied_index as f64 / leader.raft_index as f64
    };
    let progress = format!(
        "learner {}: raft index {} of leader's {} ({:.0}%)",
        learner.label(),
        l.raft_applied_index,
        leader.raft_index,
        100.0 * fraction
    );
    if fraction >= READY_FRACTION {
        Ok(progress)
    } else {
        Err(format!("waiting for {progress}"))
    }
}

/// A member ID as etcdctl prints it (hex, optionally 0x-prefixed).
fn parse_id(text: &str) -> Option<u64> {
    let t = text.trim().trim_start_matches("0x");
    (!t.is_empty() && t.len() <= 16 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| u64::from_str_radix(t, 16).ok())
        .flatten()
}

async fn remove(etcd: &Etcd, args: &RemoveArgs) -> Result<Outcome> {
    let state = ClusterState::fetch(etcd).await?;
    let target = match state.list.resolve(&args.member) {
        Ok(t) => t.clone(),
        // An ID the list does not show (the list may be stale): etcd has the last word.
        Err(_) if parse_id(&args.member).is_some() => {
            let id = parse_id(&args.member).unwrap_or_default();
            return send_remove(etcd, id, state.list.cluster_id).await;
        }
        Err(e) => return Err(usage(anyhow!(e))),
    };
    let failing = removal_failures(&state, &target);
    if !failing.is_empty() && !args.force {
        print(&format!(
            "refusing to remove {}: nothing was sent to etcd\n{}",
            target.label(),
            rows_text(&failing)
        ))?;
        return Ok(Outcome::ProblemsFound);
    }
    if !failing.is_empty() {
        eprintln!(
            "etcd-pki: WARNING: --force: removing {} although:",
            target.label()
        );
        eprint!("{}", rows_text(&failing));
    }
    send_remove(etcd, target.id, state.list.cluster_id).await
}

/// The rules for removing `target` (quorum after removal, not the leader) that it fails.
pub(super) fn removal_failures(state: &ClusterState, target: &MemberInfo) -> Vec<Row> {
    check_remove(&state.views(), &state.view(target), state.leader())
        .into_iter()
        .map(Row::from)
        .filter(|r| r.status == Status::Fail)
        .collect()
}

/// Sends `member remove` once and prints etcdctl's line; `cluster_id` stands in for a response
/// without a header.
async fn send_remove(etcd: &Etcd, id: u64, cluster_id: u64) -> Result<Outcome> {
    let response = etcd
        .change(|mut c| async move { c.member_remove(id).await })
        .await?;
    let cluster_id = response.header().map_or(cluster_id, |h| h.cluster_id());
    print(&format!("{}\n", removed_line(id, cluster_id)))?;
    Ok(Outcome::Ok)
}

/// etcdctl's confirmation of a removal.
pub(super) fn removed_line(id: u64, cluster_id: u64) -> String {
    format!("Member {id:16x} removed from cluster {cluster_id:16x}")
}

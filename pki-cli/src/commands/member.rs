//! `etcd-pki member list|add|promote|remove`: etcdctl's membership commands, with the checks
//! that keep the runbook's mistakes from reaching the cluster.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use pki_cluster::{
    add_member, member_list, promote_member, remove_member, AddOutcome, AddRequest, Connection,
    LearnerState, MemberInfo, MemberList, NewMemberFiles, Promotion, RemoveOutcome,
};
use pki_core::Status;
use serde::Serialize;

use crate::cli::{
    AddArgs, ChangeFormat, ConnectionArgs, Format, ListArgs, MemberArgs, MemberCommand,
    PromoteArgs, RemoveArgs,
};
use crate::connection::{block_on, connect};
use crate::exit::{usage, Code, Failure, Outcome, Result};
use crate::output::{print, print_json, Table};
use crate::render::{rows, rows_text, FixContext, FixFiles, Row};

pub fn run(args: &MemberArgs) -> Result<Outcome> {
    let etcd = connect(&args.connection)?;
    match &args.command {
        MemberCommand::List(a) => block_on(list(&etcd, a))?,
        MemberCommand::Add(a) => block_on(add(&etcd, &args.connection, a))?,
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

async fn list(etcd: &Connection, args: &ListArgs) -> Result<Outcome> {
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

async fn add(etcd: &Connection, conn: &ConnectionArgs, args: &AddArgs) -> Result<Outcome> {
    if args.name.trim().is_empty() {
        return Err(usage(anyhow!("the member name is empty")));
    }
    // The new member's peer certificate is --peer-cert, else the connection's (the runbook
    // connects with members.pem); its key is checked when it comes with the connection.
    let peer_cert = args.peer_cert.as_deref().or(conn.cert.as_deref());
    let peer_key = if args.peer_cert.is_none() {
        conn.key.as_deref()
    } else {
        None
    };
    let mut files = NewMemberFiles::new();
    files.peer_cert = peer_cert.map(Into::into);
    files.peer_key = peer_key.map(Into::into);
    files.server_cert = args.server_cert.clone();
    files.peer_ca = conn.cacert.clone();
    let mut request = AddRequest::learner(&args.name, args.peer_urls.iter().cloned())
        .files(files)
        .client_urls(args.client_urls.iter().cloned())
        .rules(args.etcd_version.choice());
    if !args.learner {
        request = request.as_voter();
    }
    if args.ignore_cert_check {
        request = request.ignore_certificate_failures();
    }
    let context = FixContext {
        peer: FixFiles {
            cert: peer_cert,
            key: peer_key,
            cacert: conn.cacert.as_deref(),
        },
        server: FixFiles {
            cert: args.server_cert.as_deref(),
            key: None,
            cacert: conn.cacert.as_deref(),
        },
    };
    let (findings, member) = match add_member(etcd, &request).await? {
        AddOutcome::Refused { findings } => {
            let rows = rows(&findings, &context);
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
        AddOutcome::Added { findings, member } => (findings, member),
        _ => {
            return Err(usage(anyhow!(
                "the add ended in a way this version does not know"
            )))
        }
    };
    let rows = rows(&findings, &context);
    let overridden: Vec<Row> = findings
        .iter()
        .zip(&rows)
        .filter(|(f, _)| f.status == Status::Fail && f.check.is_certificate_check())
        .map(|(_, r)| r.clone())
        .collect();
    if !overridden.is_empty() {
        eprintln!(
            "etcd-pki: WARNING: --ignore-cert-check: adding {} although its certificates failed the checks above; if etcd rejects them the new member will not join and the cluster keeps a dead member until you remove it (etcd-pki member remove {})",
            args.name, args.name
        );
        eprint!("{}", rows_text(&overridden));
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
    match args.write_out {
        ChangeFormat::Json => print_json(&AddJson {
            added: true,
            checks: &rows,
            member_id: Some(format!("{:x}", member.id)),
            cluster_id: Some(format!("{:x}", member.cluster_id)),
            env: member.env.clone(),
        })?,
        ChangeFormat::Simple => {
            let mut text = format!(
                "Member {:16x} added to cluster {:16x}\n\n",
                member.id, member.cluster_id
            );
            for (k, v) in &member.env {
                text.push_str(&format!("{k}=\"{v}\"\n"));
            }
            if args.learner {
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

async fn promote(etcd: &Connection, args: &PromoteArgs) -> Result<Outcome> {
    match promote_when_ready(etcd, &args.member, args.wait.then_some(args.timeout)).await? {
        Promotion::Promoted { id, cluster_id } => {
            print(&format!(
                "Member {id:16x} promoted in cluster {cluster_id:16x}\n"
            ))?;
            Ok(Outcome::Ok)
        }
        Promotion::TimedOut {
            learner,
            timeout,
            last,
        } => Err(Failure {
            code: Code::Problem,
            error: anyhow!(
                "{}",
                pki_cluster::timed_out_reason(&learner, timeout, last.as_ref())
            ),
        }),
        _ => Err(usage(anyhow!(
            "the promotion ended in a way this version does not know"
        ))),
    }
}

/// [`promote_member`], showing the learner's progress on stderr while it waits (redrawn on a
/// terminal, a line every 5 s otherwise).
pub(crate) async fn promote_when_ready(
    etcd: &Connection,
    member: &str,
    wait: Option<Duration>,
) -> Result<Promotion> {
    let mut progress = Progress::new();
    let result = promote_member(etcd, member, wait, |s| progress.show(s)).await;
    progress.end();
    Ok(result?)
}

/// A learner's progress on stderr.
pub(crate) struct Progress {
    tty: bool,
    last_report: Instant,
    last_line: String,
    shown: bool,
}

impl Progress {
    pub(crate) fn new() -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            last_report: Instant::now() - Duration::from_secs(60),
            last_line: String::new(),
            shown: false,
        }
    }

    pub(crate) fn show(&mut self, state: &LearnerState) {
        let line = state.to_string();
        if self.tty {
            eprint!("\r\x1b[2K{line}");
        } else if line != self.last_line && self.last_report.elapsed() >= Duration::from_secs(5) {
            eprintln!("{line}");
            self.last_report = Instant::now();
        }
        self.last_line = line;
        self.shown = true;
    }

    pub(crate) fn end(&mut self) {
        if self.tty && self.shown {
            eprintln!();
        }
        self.shown = false;
    }
}

async fn remove(etcd: &Connection, args: &RemoveArgs) -> Result<Outcome> {
    match remove_member(etcd, &args.member, args.force).await? {
        RemoveOutcome::Refused { member, failures } => {
            print(&format!(
                "refusing to remove {}: nothing was sent to etcd\n{}",
                member.label(),
                rows_text(&rows(&failures, &FixContext::default()))
            ))?;
            Ok(Outcome::ProblemsFound)
        }
        RemoveOutcome::Removed {
            id,
            member,
            cluster_id,
            forced,
        } => {
            if !forced.is_empty() {
                let label = member.map_or_else(|| format!("{id:x}"), |m| m.label());
                eprintln!("etcd-pki: WARNING: --force: removing {label} although:");
                eprint!("{}", rows_text(&rows(&forced, &FixContext::default())));
            }
            print(&format!("{}\n", removed_line(id, cluster_id)))?;
            Ok(Outcome::Ok)
        }
        _ => Err(usage(anyhow!(
            "the removal ended in a way this version does not know"
        ))),
    }
}

/// etcdctl's confirmation of a removal.
pub(super) fn removed_line(id: u64, cluster_id: u64) -> String {
    format!("Member {id:16x} removed from cluster {cluster_id:16x}")
}

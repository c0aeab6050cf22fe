//! Restoring a cluster from a snapshot onto new members (`etcd-pki snapshot restore`), with the
//! certificates checked first: a cluster restored onto new machines has new addresses, which
//! the certificates it is started with must cover, or no member can talk to another.
//!
//! [`plan`] changes nothing: it checks the snapshot (its SHA-256 trailer, as etcd's own restore
//! does, unless told the file was copied from a data directory; then its revision, key count and
//! size as `etcdutl snapshot status` reads them), the request (unique names and peer URLs, no
//! existing data directory), and every member's peer and server certificates for its new URLs
//! with pki-core's rules (the checks of `preflight`). [`apply`] then reissues the certificates
//! that do not cover their members (with a CA, in one transaction, backups kept), restores each
//! member's data directory with the installed etcd's own tool, and writes its node files.
//!
//! The data directories are made by etcd's tool, not by this crate: `etcdutl snapshot restore`
//! (etcd 3.5 and later; it alone has `--bump-revision` and `--mark-compacted`, which Kubernetes
//! needs after a restore) or `etcdctl snapshot restore` (etcd 3.4). No maintained Rust crate
//! writes bbolt databases and raft WAL as etcd does, and the tool of the etcd that will run the
//! members writes exactly what that etcd reads. Each member is restored into a temporary
//! directory beside its final one and renamed into place, so that a killed restore never leaves
//! a half-written data directory that etcd would start from; an existing data directory is
//! never touched.

use std::path::{Path, PathBuf};
use std::process::Command;

use pki_core::{CertificateAuthority, CheckId, Finding, Role, Status};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::etcd_rules::{AppliedRules, RulesChoice};
use crate::member_certificates::{check_new_member_certificates, reissue_to_cover, NewMemberFiles};
use crate::node_files::{new_cluster_node_files, write_node_files, NodeSettings};
use crate::urls::MemberUrls;

/// A member of the restored cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreMember {
    /// Its name.
    pub name: String,
    /// Its peer and client URLs.
    pub urls: MemberUrls,
}

impl RestoreMember {
    /// `NAME=PEER-URL[,CLIENT-URL]`, or `NAME=IP` (`https://IP:2380`, clients on 2379); the
    /// client URL defaults to the peer URL's host on port 2379.
    ///
    /// # Errors
    /// [`Error::Input`] for anything else.
    pub fn parse(spec: &str) -> Result<RestoreMember> {
        let bad = |why: &str| {
            Error::Input(format!(
                "--member {spec}: {why}; write NAME=PEER-URL[,CLIENT-URL] or NAME=IP"
            ))
        };
        let (name, rest) = spec.split_once('=').ok_or_else(|| bad("no '='"))?;
        if name.is_empty() || rest.is_empty() {
            return Err(bad("a name and a URL are needed"));
        }
        // The name goes into --initial-cluster (name=URL,...) and is a directory under --out.
        if name == "."
            || name == ".."
            || name
                .chars()
                .any(|c| matches!(c, ',' | '/' | '\\') || c.is_whitespace() || c.is_control())
        {
            return Err(bad(
                "a member name cannot be . or .., nor hold ',', '/', '\\' or blanks",
            ));
        }
        let mut parts = rest.split(',');
        let peer = parts.next().unwrap_or_default();
        let client: Vec<&str> = parts.collect();
        let peer = if peer.contains("://") {
            peer.to_string()
        } else {
            let ip: std::net::IpAddr = peer
                .parse()
                .map_err(|_| bad("neither a URL nor an IP address"))?;
            match ip {
                std::net::IpAddr::V6(v6) => format!("https://[{v6}]:2380"),
                v4 => format!("https://{v4}:2380"),
            }
        };
        let urls = MemberUrls::parse(&[peer], &client).map_err(|e| bad(&e.to_string()))?;
        Ok(RestoreMember {
            name: name.to_string(),
            urls,
        })
    }
}

/// Which of etcd's tools restores, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreTool {
    /// `etcdutl` (etcd 3.5 and later).
    Etcdutl(PathBuf),
    /// `etcdctl` (etcd 3.4, `ETCDCTL_API=3`).
    Etcdctl(PathBuf),
}

impl RestoreTool {
    /// `explicit` (an `etcdutl` or `etcdctl` binary, by its name), else `etcdutl` on PATH, else
    /// `etcdctl` on PATH.
    ///
    /// # Errors
    /// [`Error::Input`] when there is none.
    pub fn find(explicit: Option<&Path>) -> Result<RestoreTool> {
        if let Some(path) = explicit {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            return Ok(match name.as_deref() {
                Some(n) if n.contains("etcdctl") => RestoreTool::Etcdctl(path.to_path_buf()),
                _ => RestoreTool::Etcdutl(path.to_path_buf()),
            });
        }
        let on_path = |name: &str| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(name))
                    .find(|c| c.is_file())
            })
        };
        on_path("etcdutl")
            .map(RestoreTool::Etcdutl)
            .or_else(|| on_path("etcdctl").map(RestoreTool::Etcdctl))
            .ok_or_else(|| {
                Error::Input(
                    "neither etcdutl nor etcdctl is on PATH: install etcd's tools (Debian: etcd-server, etcd-client) or give --etcdutl PATH".into(),
                )
            })
    }

    fn command(&self) -> Command {
        match self {
            RestoreTool::Etcdutl(p) => Command::new(p),
            RestoreTool::Etcdctl(p) => {
                let mut c = Command::new(p);
                c.env("ETCDCTL_API", "3");
                c
            }
        }
    }

    fn path(&self) -> &Path {
        match self {
            RestoreTool::Etcdutl(p) | RestoreTool::Etcdctl(p) => p,
        }
    }
}

/// What to restore, where, and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RestoreRequest {
    /// The snapshot file.
    pub snapshot: PathBuf,
    /// The new cluster's members.
    pub members: Vec<RestoreMember>,
    /// Where each member's directory (`OUT/NAME/`: `data/` and the node files) goes.
    pub out: PathBuf,
    /// The certificates the members will use (one set, shared, as the runbook's layout).
    pub files: NewMemberFiles,
    /// The node files' settings; a data directory containing `{name}` is the member's, and an
    /// empty one means the restored directory itself (`OUT/NAME/data`).
    pub node: NodeSettings,
    /// etcd's tool.
    pub tool: RestoreTool,
    /// The file was copied from a data directory (`member/snap/db`): it has no hash to check.
    pub skip_hash_check: bool,
    /// Raise the revision by this much (etcdutl only; Kubernetes needs it after a restore).
    pub bump_revision: Option<u64>,
    /// Mark the bumped revision compacted (required with a bump, as etcdutl requires it).
    pub mark_compacted: bool,
    /// Reissue the certificates that do not cover their members with this CA (cert, key).
    pub fix_certs_with: Option<(PathBuf, PathBuf)>,
    /// Which Go's rules the members' hosts are judged by: no cluster runs to ask, so those
    /// given, else the default (newest).
    pub rules: RulesChoice,
}

impl RestoreRequest {
    /// Restores `snapshot` as `members` into `out` with `tool`; no certificate files, default
    /// node settings (the restored directory as data directory, a new token), no fix.
    pub fn new(
        snapshot: impl Into<PathBuf>,
        members: Vec<RestoreMember>,
        out: impl Into<PathBuf>,
        tool: RestoreTool,
    ) -> RestoreRequest {
        RestoreRequest {
            snapshot: snapshot.into(),
            members,
            out: out.into(),
            files: NewMemberFiles::new(),
            node: NodeSettings::new("", "/etc/kubernetes/pki/etcd", "/usr/bin/etcd", ""),
            tool,
            skip_hash_check: false,
            bump_revision: None,
            mark_compacted: false,
            fix_certs_with: None,
            rules: RulesChoice::default(),
        }
    }
}

/// The snapshot as `snapshot status` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SnapshotStatus {
    /// The database's hash (etcd's, not the SHA-256 trailer).
    pub hash: u64,
    /// The revision it was taken at.
    pub revision: i64,
    /// Keys in it.
    #[serde(rename = "totalKey")]
    pub total_keys: u64,
    /// Its size in bytes.
    #[serde(rename = "totalSize")]
    pub total_size: u64,
}

/// One thing [`apply`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreStep {
    /// Reissue a certificate adding these hosts (with a backup).
    Reissue {
        /// The certificate file.
        file: PathBuf,
        /// The hosts added to its SANs.
        add: Vec<String>,
    },
    /// Restore a member's data directory with etcd's tool.
    RestoreData {
        /// The member.
        member: String,
        /// The data directory made.
        data_dir: PathBuf,
        /// The command, as run.
        command: Vec<String>,
    },
    /// Write a member's node files.
    NodeFiles {
        /// The member.
        member: String,
        /// Their directory.
        dir: PathBuf,
    },
}

/// What [`plan`] found and what [`apply`] would do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RestorePlan {
    /// The snapshot.
    pub status: SnapshotStatus,
    /// Each member's certificate findings.
    pub findings: Vec<(String, Vec<Finding>)>,
    /// The steps, in order.
    pub steps: Vec<RestoreStep>,
    /// The `--initial-cluster-token` of the new cluster.
    pub token: String,
}

impl RestorePlan {
    /// Whether a failed check stops the restore (coverage failures that a planned reissue fixes
    /// do not).
    pub fn blocked(&self) -> bool {
        let fixing = self
            .steps
            .iter()
            .any(|s| matches!(s, RestoreStep::Reissue { .. }));
        self.findings.iter().any(|(_, fs)| {
            fs.iter()
                .any(|f| f.status == Status::Fail && !(fixing && f.check == CheckId::Coverage))
        })
    }
}

/// Checks everything and lists the steps; changes nothing (see the module docs).
///
/// # Errors
/// [`Error::Input`] for a request that cannot be carried out (a bad snapshot, a data directory
/// that exists, a flag the tool lacks); [`Error::File`] for a certificate that cannot be read.
pub fn plan(req: &RestoreRequest) -> Result<RestorePlan> {
    check_request(req)?;
    // A pipe or a device is refused before anything reads it (etcd's tool would wait on a FIFO
    // forever), with --skip-hash-check too.
    let size = snapshot_size(&req.snapshot)?;
    if !req.skip_hash_check {
        check_hash(&req.snapshot, size)?;
    }
    let status = snapshot_status(&req.tool, &req.snapshot)?;
    if size < status.total_size {
        return Err(Error::Input(format!(
            "{} holds {size} bytes but its database says {}: the file is cut short; copy it again",
            pki_core::display_path(&req.snapshot),
            status.total_size
        )));
    }
    let now = OffsetDateTime::now_utc();
    let rules = AppliedRules::without_cluster(req.rules);
    let mut findings = Vec::new();
    for m in &req.members {
        let mut member = vec![rules.finding()];
        member.extend(check_new_member_certificates(
            &m.name, &req.files, &m.urls, now, &rules,
        )?);
        findings.push((m.name.clone(), member));
    }
    let mut steps = Vec::new();
    steps.extend(reissues(req, now)?);
    let token = match &req.node.token {
        t if t.is_empty() || t == "etcd-cluster" => new_token(),
        t => t.clone(),
    };
    let cluster = cluster_line(&req.members);
    for m in &req.members {
        let data_dir = req.out.join(&m.name).join("data");
        let mut command = vec![
            req.tool.path().display().to_string(),
            "snapshot".into(),
            "restore".into(),
            req.snapshot.display().to_string(),
            "--name".into(),
            m.name.clone(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--initial-cluster".into(),
            cluster.clone(),
            "--initial-cluster-token".into(),
            token.clone(),
            "--initial-advertise-peer-urls".into(),
            m.urls
                .peer
                .iter()
                .map(|u| u.url.clone())
                .collect::<Vec<_>>()
                .join(","),
        ];
        if req.skip_hash_check {
            command.push("--skip-hash-check".into());
        }
        if let Some(n) = req.bump_revision {
            command.extend(["--bump-revision".into(), n.to_string()]);
        }
        if req.mark_compacted {
            command.push("--mark-compacted".into());
        }
        steps.push(RestoreStep::RestoreData {
            member: m.name.clone(),
            data_dir,
            command,
        });
        steps.push(RestoreStep::NodeFiles {
            member: m.name.clone(),
            dir: req.out.join(&m.name),
        });
    }
    Ok(RestorePlan {
        status,
        findings,
        steps,
        token,
    })
}

/// Carries out `plan` (which must not be [`RestorePlan::blocked`]): reissues, then each member's
/// data directory and node files. Returns the steps done.
///
/// # Errors
/// A refused reissue or write, or etcd's tool failing ([`Error::Input`] with its message); what
/// this run created for the failing member is removed, earlier members' directories stay.
pub fn apply(req: &RestoreRequest, plan: &RestorePlan) -> Result<Vec<RestoreStep>> {
    if plan.blocked() {
        return Err(Error::Input(
            "the certificates do not allow this restore: see the failed checks".into(),
        ));
    }
    check_request(req)?;
    let mut done = Vec::new();
    let reissues: Vec<&RestoreStep> = plan
        .steps
        .iter()
        .filter(|s| matches!(s, RestoreStep::Reissue { .. }))
        .collect();
    if !reissues.is_empty() {
        let (ca_cert, ca_key) = req
            .fix_certs_with
            .as_ref()
            .ok_or_else(|| Error::Input("a reissue was planned without a CA key".into()))?;
        reissue_all(req, ca_cert, ca_key)?;
        done.extend(reissues.into_iter().cloned());
    }
    let members: Vec<(String, MemberUrls)> = req
        .members
        .iter()
        .map(|m| (m.name.clone(), m.urls.clone()))
        .collect();
    for step in &plan.steps {
        match step {
            RestoreStep::RestoreData {
                member,
                data_dir,
                command,
            } => {
                restore_data(&req.tool, member, data_dir, command)?;
                done.push(step.clone());
            }
            RestoreStep::NodeFiles { member, .. } => {
                let mut node = req.node.clone();
                node.token = plan.token.clone();
                let data_dir = node.data_dir.display().to_string();
                node.data_dir = if data_dir.is_empty() {
                    absolute(&req.out.join(member).join("data"))
                } else {
                    PathBuf::from(data_dir.replace("{name}", member))
                };
                let files = new_cluster_node_files(member, &members, &node);
                write_node_files(&req.out, &files)?;
                done.push(step.clone());
            }
            RestoreStep::Reissue { .. } => {}
        }
    }
    Ok(done)
}

/// Names and peer URLs unique; no member directory that exists and is not empty.
fn check_request(req: &RestoreRequest) -> Result<()> {
    if req.members.is_empty() {
        return Err(Error::Input(
            "no --member: name every member of the restored cluster".into(),
        ));
    }
    for (i, m) in req.members.iter().enumerate() {
        for other in &req.members[..i] {
            if other.name == m.name {
                return Err(Error::Input(format!(
                    "--member {} is given twice: every member needs a name of its own",
                    m.name
                )));
            }
            if other.urls.peer.iter().any(|u| m.urls.peer.contains(u)) {
                return Err(Error::Input(format!(
                    "{} and {} have the same peer URL: every member needs its own",
                    other.name, m.name
                )));
            }
        }
        let dir = req.out.join(&m.name);
        let occupied = std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
        if occupied || (dir.exists() && !dir.is_dir()) {
            return Err(Error::Input(format!(
                "{} exists and is not empty: a restore never touches an existing data directory; give another --out",
                pki_core::display_path(&dir)
            )));
        }
    }
    for m in &req.members {
        let peer = m.urls.peer.first().map(|u| &u.host);
        if let Some(c) = m.urls.client.iter().find(|c| Some(&c.host) != peer) {
            return Err(Error::Input(format!(
                "{}'s client URL {} is not on its peer URL's host: the node files make etcd advertise and listen for clients on the peer host; give client URLs on that host (the port may differ)",
                m.name, c.url
            )));
        }
    }
    if req.bump_revision.is_some() && matches!(req.tool, RestoreTool::Etcdctl(_)) {
        return Err(Error::Input(
            "--bump-revision needs etcdutl (etcd 3.5 and later); etcd 3.4's etcdctl cannot: give --etcdutl PATH".into(),
        ));
    }
    if req.mark_compacted != req.bump_revision.is_some_and(|n| n > 0) {
        return Err(Error::Input(
            "--mark-compacted goes with --bump-revision N (N > 0), and only with it, as etcdutl requires".into(),
        ));
    }
    Ok(())
}

/// The SHA-256 trailer etcd appends to a snapshot, checked as `snapshot save` checks it.
fn check_hash(path: &Path, size: u64) -> Result<()> {
    crate::snapshot::verify(path, size).map_err(|why| {
        Error::Input(format!(
            "{} is not an etcd snapshot whose integrity hash holds: {why}; a database copied from a data directory (member/snap/db) has no hash: give --skip-hash-check for it",
            pki_core::display_path(path)
        ))
    })
}

/// The snapshot's size; an error for anything but a regular file.
fn snapshot_size(path: &Path) -> Result<u64> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Input(format!("{}: {e}", pki_core::display_path(path))))?;
    if !meta.is_file() {
        return Err(Error::Input(format!(
            "{} is not a regular file: give a snapshot file",
            pki_core::display_path(path)
        )));
    }
    Ok(meta.len())
}

/// `snapshot status -w json` of etcd's tool.
fn snapshot_status(tool: &RestoreTool, path: &Path) -> Result<SnapshotStatus> {
    let out = tool
        .command()
        .args(["snapshot", "status"])
        .arg(path)
        .args(["-w", "json"])
        .output()
        .map_err(|e| {
            Error::Input(format!(
                "cannot run {}: {e}",
                pki_core::display_path(tool.path())
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Input(format!(
            "{} is not a snapshot etcd can read: {}",
            pki_core::display_path(path),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        Error::Input(format!(
            "snapshot status of {} printed no status ({e})",
            pki_core::display_path(path)
        ))
    })
}

/// `infra0=https://...,infra1=https://...`.
fn cluster_line(members: &[RestoreMember]) -> String {
    let lines: Vec<(String, Vec<String>)> = members
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.urls.peer.iter().map(|u| u.url.clone()).collect(),
            )
        })
        .collect();
    crate::node_files::cluster_line(&lines)
}

/// A token no other cluster has: a restored cluster must not be mistaken for the old one.
fn new_token() -> String {
    let mut bytes = [0u8; 8];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("etcd-restore-{hex}")
}

/// The certificates to fix: the peer certificate for every member's peer hosts, the server
/// certificate for every member's client hosts.
fn fix_targets(req: &RestoreRequest) -> Vec<(&Path, Role, Vec<pki_core::Host>)> {
    let all = |peer: bool| -> Vec<pki_core::Host> {
        req.members
            .iter()
            .flat_map(|m| {
                if peer {
                    m.urls.peer_hosts()
                } else {
                    m.urls.client_hosts()
                }
            })
            .collect()
    };
    let mut targets: Vec<(&Path, Role, Vec<pki_core::Host>)> = Vec::new();
    for (cert, role, hosts) in [
        (req.files.peer_cert.as_deref(), Role::Peer, all(true)),
        (req.files.server_cert.as_deref(), Role::Server, all(false)),
    ] {
        let Some(cert) = cert else { continue };
        // One file serving both roles is reissued once, for every host of both.
        match targets
            .iter_mut()
            .find(|(c, _, _)| pki_core::same_file(c, cert))
        {
            Some((_, _, known)) => known.extend(hosts),
            None => targets.push((cert, role, hosts)),
        }
    }
    targets
}

/// Each certificate that does not cover its members, reissued by the CA in memory: its file,
/// the writes that would replace it, and the SANs added.
type PlannedReissue<'a> = (&'a Path, Vec<pki_core::write::FileWrite>, Vec<String>);

fn plan_reissues<'a>(
    req: &'a RestoreRequest,
    ca_cert: &Path,
    ca_key: &Path,
    now: OffsetDateTime,
) -> Result<Vec<PlannedReissue<'a>>> {
    let ca = CertificateAuthority::load(ca_cert, ca_key, now)?;
    let rules = AppliedRules::without_cluster(req.rules);
    let mut planned = Vec::new();
    for (cert, role, hosts) in fix_targets(req) {
        if let Some((writes, add)) = reissue_to_cover(cert, role, &hosts, &ca, now, &rules)? {
            planned.push((cert, writes, add));
        }
    }
    Ok(planned)
}

/// What `--fix-certs` will reissue (computed with the CA, writing nothing).
fn reissues(req: &RestoreRequest, now: OffsetDateTime) -> Result<Vec<RestoreStep>> {
    let Some((ca_cert, ca_key)) = &req.fix_certs_with else {
        return Ok(Vec::new());
    };
    Ok(plan_reissues(req, ca_cert, ca_key, now)?
        .into_iter()
        .map(|(cert, _, add)| RestoreStep::Reissue {
            file: cert.to_path_buf(),
            add,
        })
        .collect())
}

/// Reissues every certificate that does not cover its members, in one transaction.
fn reissue_all(req: &RestoreRequest, ca_cert: &Path, ca_key: &Path) -> Result<()> {
    let writes: Vec<_> = plan_reissues(req, ca_cert, ca_key, OffsetDateTime::now_utc())?
        .into_iter()
        .flat_map(|(_, writes, _)| writes)
        .collect();
    pki_core::write::write_all_as("restore certificate fix", &writes)?;
    Ok(())
}

/// Runs etcd's tool into a temporary directory beside `data_dir`, then renames it into place.
fn restore_data(
    tool: &RestoreTool,
    member: &str,
    data_dir: &Path,
    command: &[String],
) -> Result<()> {
    let parent = data_dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| {
        Error::Input(format!(
            "cannot make {}: {e}",
            pki_core::display_path(parent)
        ))
    })?;
    // Beside the member's directory, not in it: a run killed here leaves nothing in OUT/NAME
    // that would make the next run refuse it as occupied.
    let outer = parent.parent().unwrap_or(Path::new("."));
    let temp = outer.join(format!(".restore-{member}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    let mut args: Vec<String> = command[1..].to_vec();
    if let Some(i) = args.iter().position(|a| a == "--data-dir") {
        args[i + 1] = temp.display().to_string();
    }
    let out = tool.command().args(&args).output().map_err(|e| {
        Error::Input(format!(
            "cannot run {}: {e}",
            pki_core::display_path(tool.path())
        ))
    })?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(Error::Input(format!(
            "restoring {member}'s data directory failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    std::fs::rename(&temp, data_dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&temp);
        Error::Input(format!(
            "cannot move the restored data into {}: {e}",
            pki_core::display_path(data_dir)
        ))
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_given_as_urls_or_addresses() {
        let m = RestoreMember::parse("infra0=https://10.0.1.1:2380").unwrap();
        assert_eq!(m.urls.client[0].url, "https://10.0.1.1:2379");
        let m = RestoreMember::parse("infra1=10.0.1.2").unwrap();
        assert_eq!(m.urls.peer[0].url, "https://10.0.1.2:2380");
        let m = RestoreMember::parse("infra2=https://n2:2380,https://n2:12379").unwrap();
        assert_eq!(m.urls.client[0].url, "https://n2:12379");
        let m = RestoreMember::parse("v6=fd00::1").unwrap();
        assert_eq!(m.urls.peer[0].url, "https://[fd00::1]:2380");
        for bad in ["infra0", "=10.0.0.1", "infra0=", "infra0=not an address"] {
            assert!(
                matches!(RestoreMember::parse(bad), Err(Error::Input(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn requests_etcds_tools_would_refuse_are_refused_first() {
        let dir = tempfile::tempdir().unwrap();
        let member = || vec![RestoreMember::parse("a=10.0.0.1").unwrap()];
        let req = |tool: RestoreTool, bump: Option<u64>, mark: bool| {
            let mut r = RestoreRequest::new("snap.db", member(), dir.path(), tool);
            r.bump_revision = bump;
            r.mark_compacted = mark;
            r
        };
        let etcdutl = || RestoreTool::Etcdutl("etcdutl".into());
        let etcdctl = || RestoreTool::Etcdctl("etcdctl".into());
        assert!(check_request(&req(etcdutl(), Some(1000), true)).is_ok());
        // 3.4's etcdctl has no --bump-revision; etcdutl wants the pair together.
        assert!(check_request(&req(etcdctl(), Some(1000), true)).is_err());
        assert!(check_request(&req(etcdutl(), Some(1000), false)).is_err());
        assert!(check_request(&req(etcdutl(), None, true)).is_err());
        // Two members of one name, and an occupied directory.
        let mut twice = req(etcdutl(), None, false);
        twice.members.extend(member());
        assert!(check_request(&twice).is_err());
        std::fs::create_dir_all(dir.path().join("a/data")).unwrap();
        let err = check_request(&req(etcdutl(), None, false))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("never touches an existing data directory"),
            "{err}"
        );
    }

    #[test]
    fn a_fifo_is_refused_before_etcds_tool_would_wait_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("snap.db");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let members = vec![RestoreMember::parse("a=10.0.0.1").unwrap()];
        // A tool that does not exist: the refusal must come before it would run.
        let tool = RestoreTool::Etcdutl(dir.path().join("no-etcdutl"));
        let mut req = RestoreRequest::new(&fifo, members, dir.path().join("out"), tool);
        req.skip_hash_check = true;
        let err = plan(&req).unwrap_err().to_string();
        assert!(err.contains("is not a regular file"), "{err}");
    }

    #[test]
    fn a_file_without_the_hash_trailer_is_refused_naming_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::write(&db, vec![0u8; 4096]).unwrap();
        let err = check_hash(&db, 4096).unwrap_err().to_string();
        assert!(err.contains("--skip-hash-check"), "{err}");
        let mut snap = vec![7u8; 4096];
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &snap);
        snap.extend_from_slice(digest.as_ref());
        std::fs::write(&db, &snap).unwrap();
        check_hash(&db, snap.len() as u64).unwrap();
        // One byte changed: refused.
        snap[100] ^= 1;
        std::fs::write(&db, &snap).unwrap();
        assert!(check_hash(&db, snap.len() as u64).is_err());
    }
}

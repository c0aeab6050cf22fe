//! Command-line flags (clap derive). Each flag is documented once, here: a short line for `-h`
//! and a longer paragraph for `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use time::OffsetDateTime;

/// Keep an etcd cluster's TLS certificates and its membership in step.
///
/// etcd-pki catches, before anything is changed, the certificate problems that leave a
/// cluster with a dead member: a peer certificate that does not list the new member's IP,
/// a server certificate without clientAuth, a certificate from the wrong CA, an expired
/// one. It decides coverage and chains exactly as etcd (Go's crypto/x509) does.
#[derive(Debug, Parser)]
#[command(
    name = "etcd-pki",
    version,
    propagate_version = true,
    max_term_width = 80
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what certificate and key files hold (subject, SANs, validity, usages, ...)
    Inspect(InspectArgs),
    /// Check one certificate for a member: key, chain, validity, usages, SAN coverage
    ///
    /// Exit 0 when every check passes, 1 when any fails (each failure says what,
    /// why and how to fix it), 2 on bad input.
    ///
    /// Example, the runbook's failure caught before `member add`:
    ///
    ///   etcd-pki check --role peer --url https://127.0.0.14:2380 \
    ///       --cert members.pem --key members-key.pem --cacert ca.pem
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// List every certificate under directories with expiry, issuer and problems
    ///
    /// Like `kubeadm certs check-expiration`, for any layout: each certificate's
    /// subject, expiry and residual time, the CA in the same trees that issued it,
    /// its SANs, and its problems (expired, expiring within the window, not
    /// chained to any CA in the trees, key mismatch with the key file beside it).
    /// Files that hold no certificate are listed as skipped. Exit 1 when any
    /// certificate has a problem.
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),
    /// Reissue a certificate from its CA with added or removed SANs
    ///
    /// Keeps the subject, every other SAN, key usage, extended key usage and all
    /// other extensions byte for byte, and the public key (unless --new-key); gives
    /// a new serial and validity from now (the old lifetime, or --days, never past
    /// the CA's expiry). The result is verified (chains to the CA, covers every old
    /// host plus the added ones, matches its key) before anything is written.
    /// Without --out the files are replaced in place; the old ones are kept as
    /// NAME.bak.<timestamp>. A failure leaves every file as it was.
    ///
    /// Example, the runbook's fix before adding infra3 at 127.0.0.14:
    ///
    ///   etcd-pki reissue --cacert ca.pem --ca-key ca-key.pem \
    ///       --cert members.pem --key members-key.pem --add-ip 127.0.0.14
    #[command(verbatim_doc_comment)]
    Reissue(ReissueArgs),
    /// Renew every certificate a CA issued that expires soon (rotation jobs)
    ///
    /// Looks at the first certificate of every file under the paths; those issued
    /// by the CA that expire within the window are reissued with the same SANs and
    /// key and replaced in place, with backups. Exit 0 when nothing needed renewal
    /// or everything due was renewed, 1 when a renewal failed.
    #[command(verbatim_doc_comment)]
    Renew(RenewArgs),
    /// Renew the certificates members use that are due, and prove the cluster uses them
    ///
    /// For each member (its directory under --members-dir, one directory shared
    /// by all, or the members running on this host as doctor finds them): the
    /// certificates the CA issued that expire within --expires-within (30d, or a
    /// fraction of their lifetime: 33%) are renewed in place with the same SANs
    /// and key, atomically with backups; --sync-cmd copies the member's files to
    /// its host; then it proves, on the live cluster, that the member serves the
    /// new certificate on every port (compared with the file), is healthy, that
    /// a fresh handshake with a renewed peer certificate is accepted by every
    /// other member, and that every member has applied what the leader had
    /// committed. On failure or --timeout the backups are put back and the old
    /// certificate waited for. Exit 0 when nothing was due or all was rotated and
    /// proven, 1 when something needs a person, 3 when etcd cannot be reached.
    /// --print-units prints a systemd service and timer that run it daily.
    #[command(verbatim_doc_comment)]
    Rotate(Box<RotateArgs>),
    /// Operations on the cluster's CA
    Ca(CaGroupArgs),
    /// Upgrade etcd member by member, one minor version at a time, proving each step
    ///
    /// plan: every member's version and the cluster version, whether the step is supported
    /// (one minor at a time, every member on one minor first), the checks of a healthy start
    /// (members started and healthy, quorum kept while one restarts, no learner, certificates
    /// valid and covering each member's URLs), a recent snapshot, and the known problems of the
    /// versions involved. Exit 0 when apply may proceed, 1 when not.
    ///
    /// apply: a snapshot into --out, then one member at a time, followers first and the leader
    /// last after leadership moved away: --restart-cmd (which installs the new binary and
    /// restarts etcd on that host), then wait until the member is back, healthy, on the new
    /// version, and the cluster caught up. It stops at the first member that does not come
    /// back and says how to roll it back; run it again to resume. At the end it waits for the
    /// cluster version to move up.
    #[command(verbatim_doc_comment)]
    Upgrade(UpgradeArgs),
    /// Create a new PKI for a cluster: a CA and every member's certificates
    ///
    /// Layouts: cfssl (the runbook's shared ca.pem, server.pem, members.pem and
    /// client.pem covering every member) or kubeadm (ca.crt and, per member,
    /// NAME/server.crt, peer.crt and healthcheck-client.crt). Server and peer
    /// certificates carry serverAuth and clientAuth. Refuses to overwrite an
    /// existing PKI.
    ///
    /// Example:
    ///
    ///   etcd-pki init /etc/etcd/pki --member infra0=10.0.11.36 \
    ///       --member infra1=10.0.12.21 --member infra2=10.0.13.126
    #[command(verbatim_doc_comment)]
    Init(InitArgs),
    /// Issue a new member's own certificates, modelled on an existing member's
    ///
    /// For per-member layouts (kubeadm's /etc/kubernetes/pki/etcd, init's
    /// NAME/ directories, one directory per member made by hand): every
    /// certificate in --like gets a counterpart signed by the CA, with the same
    /// file name, key algorithm and size, key usages, extended key usages,
    /// subject pattern and validity length (never past the CA), the template
    /// member's name replaced by NAME and its own IPs and DNS names by --ip and
    /// --dns. 127.0.0.1, ::1, localhost, and SANs that every sibling member's
    /// certificate of that kind has are kept. New keys (0600); the CA key is
    /// never copied; CA certificate files are copied as they are. Roles are
    /// judged by usages and SANs, not by file names.
    ///
    /// A layout whose certificates every member shares (the runbook's
    /// server.pem and members.pem) is refused with the `reissue` commands that
    /// add the new member to them instead.
    ///
    /// Example, a fourth member of a kubeadm-layout cluster:
    ///
    ///   etcd-pki issue n3 --ip 10.0.12.157 --cacert pki/ca.crt \
    ///       --ca-key pki/ca.key --like pki/n0 --out pki/n3
    #[command(verbatim_doc_comment)]
    Issue(IssueArgs),
    /// List, add, promote and remove cluster members, with the checks etcdctl lacks
    Member(MemberArgs),
    /// Health and status of endpoints, as etcdctl shows them
    Endpoint(EndpointArgs),
    /// Read-only check that a new member can join: cluster, certificates, live TLS
    ///
    /// One row per check with PASS, WARN or FAIL, the evidence, and the fix: every
    /// member started and healthy; fault tolerance now and after the add; learner
    /// limit; name and peer URL unused; http/https as the cluster; the new member's
    /// peer certificate (peer role) and server certificate (server role) against
    /// its URLs, the cluster CA, usages and an expiry window; the certificates the
    /// existing members actually serve on their peer ports; and a live TLS
    /// handshake with the new member's peer certificate to each existing member.
    /// Exit 0 when nothing fails, 1 otherwise, 3 when etcd cannot be reached.
    #[command(verbatim_doc_comment)]
    Preflight(PreflightArgs),
    /// Grow the cluster by one member, safely and resumably (runbook 2.1.3-2.1.4)
    ///
    /// preflight (stop on FAIL; with --fix-certs and --ca-key, reissue the
    /// certificates that do not cover the new member, then preflight again; with
    /// --fix-certs --like DIR in a per-member layout, first issue the new member
    /// certificates of its own after DIR's into --out/NAME/pki);
    /// snapshot save into --out; member add as a learner; write the new node's
    /// etcd.env, etcd.conf and etcd.service into --out, and every existing node's
    /// new CLUSTER line; wait for the new member to start (you, or --exec, start
    /// it) and catch up; promote it; check every endpoint. On timeout the learner
    /// is removed and the cluster is as before. Re-run after an interruption: it
    /// finds where it stopped from the cluster's state.
    #[command(verbatim_doc_comment)]
    ScaleOut(Box<ScaleOutArgs>),
    /// Shrink the cluster by one member: snapshot, quorum-safe remove, new CLUSTER lines
    ScaleIn(ScaleInArgs),
    /// Snapshots of the cluster's data
    Snapshot(SnapshotArgs),
    /// Finish or undo writes that were interrupted (a killed reissue, renew, init, ...)
    ///
    /// Every write of certificates and keys is journaled first: a journal file
    /// (.etcd-pki-journal.*) beside the files names each file, its temporary
    /// and its backup. A write killed midway leaves the journal; this reads it
    /// and rolls the write back, so that every file is as it was before, or
    /// forward when every file had already been replaced. Temporary files of
    /// killed writes are removed. Any command that writes does this first in
    /// its directories; read-only commands only report it (exit 1).
    ///
    /// Exit 0 when nothing was left unfinished, 1 when a write is still running
    /// in another process or a file changed since (nothing is touched then).
    #[command(verbatim_doc_comment)]
    Recover(RecoverArgs),
    /// Print (or write) a new node's etcd.env, etcd.conf and etcd.service
    Config(ConfigArgs),
    /// Find each etcd member's TLS configuration on this host and check it as etcd uses it
    ///
    /// With no argument: every etcd process on this host (/proc/PID/cmdline and
    /// environ; a container's files through /proc/PID/root). Or one given:
    /// --pid, --config-file (etcd's YAML), --manifest (a kubeadm static pod
    /// manifest), --unit [--env-file] (a systemd unit and its EnvironmentFile),
    /// or etcd's flags after --. Settings are resolved as etcd resolves them
    /// (a flag and its ETCD_* variable both set stop etcd; a config file
    /// replaces both), each shown with where it came from.
    ///
    /// Checked: that etcd starts with it; every TLS file there, readable by
    /// etcd's user, in the form etcd reads, keys not readable by others; the
    /// server certificate covers every advertised and dialled client URL host,
    /// the peer certificate every advertised peer URL host; the certificates
    /// presented as a client carry clientAuth; chains to each side's trusted
    /// CA; client authentication off, auto TLS, SAN verification skipped,
    /// allowed CN/hostname, CRLs, cipher suites and TLS versions; listen
    /// against advertise URLs; expiry within --expires-within. Against the
    /// running cluster (connection flags, or the member's own files): its URLs
    /// as the cluster records them, the certificate it serves on each port
    /// against the file, the other members' peer certificates against its CA.
    /// Changes nothing. Exit 0 when nothing fails, 1 otherwise, 2 on bad input,
    /// 3 when the cluster cannot be reached with the connection flags given.
    #[command(verbatim_doc_comment)]
    Doctor(Box<DoctorArgs>),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell
    ///
    /// The script completes commands, flags, the values of flags that take one
    /// of a list, and file names. `make install` installs the bash, zsh and
    /// fish scripts; by hand, for example:
    ///
    ///   etcd-pki completion bash > /usr/share/bash-completion/completions/etcd-pki
    ///   etcd-pki completion zsh > /usr/local/share/zsh/site-functions/_etcd-pki
    ///   etcd-pki completion fish > ~/.config/fish/completions/etcd-pki.fish
    ///   source <(etcd-pki completion bash)     # this bash session only
    #[command(verbatim_doc_comment)]
    Completion(CompletionArgs),
    /// Write the man pages: etcd-pki.1 and one page for each command
    ///
    /// Sub-commands have theirs too (etcd-pki-member-add.1, ...), each made
    /// from the same text as --help, written into --out (created if missing;
    /// pages already there are replaced). `make install` installs them in
    /// share/man/man1. To read one without installing it:
    ///
    ///   etcd-pki man --out man && man -l man/etcd-pki-check.1
    #[command(verbatim_doc_comment)]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory to write the pages into (created if missing)
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: PathBuf,
}

/// What describes a member joining: its name, URLs and certificates.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "New member")]
pub struct NewMemberArgs {
    /// The new member's name (its etcd --name)
    #[arg(value_parser = parse_member_name)]
    pub name: String,

    /// The new member's peer URLs, comma-separated
    #[arg(long, value_delimiter = ',', required = true, value_name = "URL")]
    pub peer_urls: Vec<String>,

    /// The new member's client URLs, comma-separated (default: the peer URL hosts on port 2379)
    #[arg(long, value_delimiter = ',', value_name = "URL")]
    pub client_urls: Vec<String>,

    /// The peer certificate the new member will use (default: --cert)
    #[arg(long, value_hint = ValueHint::FilePath, value_name = "FILE")]
    pub peer_cert: Option<PathBuf>,

    /// Its key: checked, and used for a live handshake with the existing members
    #[arg(long, value_hint = ValueHint::FilePath, value_name = "FILE")]
    pub peer_key: Option<PathBuf>,

    /// The server certificate the new member will use (checked against its client URLs)
    #[arg(long, value_hint = ValueHint::FilePath, value_name = "FILE")]
    pub server_cert: Option<PathBuf>,

    /// The CA the members trust for peers (--peer-trusted-ca-file; default: --cacert)
    #[arg(long, value_hint = ValueHint::FilePath, value_name = "FILE")]
    pub peer_cacert: Option<PathBuf>,

    /// Certificates expiring within this window fail the checks
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
    pub expires_within: time::Duration,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub member: NewMemberArgs,

    /// Check for adding a voting member rather than a learner
    #[arg(long)]
    pub voter: bool,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ReportFormat::Simple)]
    pub write_out: ReportFormat,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Where and how the new node runs, for the files scale-out and config write.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Node files")]
pub struct NodeArgs {
    /// The new node's --data-dir
    #[arg(long, value_name = "DIR", default_value = "/data/etcd")]
    pub data_dir: PathBuf,

    /// Where the node keeps its PKI files (ca.pem, server.pem, members.pem and keys)
    #[arg(long, value_name = "DIR", default_value = "/etc/kubernetes/pki/etcd")]
    pub pki_dir: PathBuf,

    /// The etcd binary the unit runs
    #[arg(long, value_name = "PATH", default_value = "/usr/bin/etcd")]
    pub etcd_binary: PathBuf,

    /// The cluster's --initial-cluster-token
    #[arg(long, value_name = "TOKEN", default_value = "etcd-cluster")]
    pub token: String,
}

#[derive(Debug, Args)]
pub struct ScaleOutArgs {
    #[command(flatten)]
    pub member: NewMemberArgs,

    /// The CA key, for --fix-certs
    #[arg(long, value_hint = ValueHint::FilePath, value_name = "FILE")]
    pub ca_key: Option<PathBuf>,

    /// Reissue the new member's certificates from the CA when they do not cover it (shared
    /// layout); with --like, issue it certificates of its own instead (per-member layout)
    #[arg(long, requires = "ca_key")]
    pub fix_certs: bool,

    /// With --fix-certs: an existing member's certificate directory (kubeadm's
    /// /etc/kubernetes/pki/etcd, init's NAME/); the new member's own certificates are issued
    /// after it into --out/NAME/pki, and no other member's file is touched
    #[arg(long, value_name = "DIR", requires = "fix_certs", value_hint = ValueHint::DirPath)]
    pub like: Option<PathBuf>,

    /// The --like member's name, when neither its directory nor its certificates tell it
    #[arg(long, value_name = "NAME", requires = "like")]
    pub like_name: Option<String>,

    /// Where the snapshot and the node files go
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<PathBuf>,

    /// A command that starts the new member (run with sh -c after the files are written;
    /// ETCD_PKI_NODE_DIR names the directory holding them)
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,

    /// How long to wait for the new member to start and catch up
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_std_duration)]
    pub timeout: std::time::Duration,

    #[command(flatten)]
    pub node: NodeArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct ScaleInArgs {
    /// The member to remove, by hex ID or name
    pub member: String,

    /// Where the snapshot and the new CLUSTER lines go
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<PathBuf>,

    /// Remove even if the rest cannot keep quorum (a leader is never refused: leadership is
    /// handed to the most up-to-date healthy voter first)
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub command: SnapshotCommand,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Stream a snapshot from one endpoint into FILE, atomically, and verify it
    Save(SnapshotSaveArgs),
    /// Restore a snapshot as a new cluster: each member's data directory and node files, after
    /// checking the snapshot and that the certificates cover the members' new URLs
    ///
    /// The snapshot's SHA-256 trailer is checked first (as etcd's restore does), then its
    /// revision and size are read with etcd's own tool (etcdutl, else etcd 3.4's etcdctl),
    /// which also writes each data directory, into OUT/NAME/data. Nothing is written when a
    /// certificate does not cover its member's new URLs (exit 1), unless --ca-key and
    /// --fix-certs reissue it (a backup is kept). An existing data directory is never touched.
    Restore(Box<SnapshotRestoreArgs>),
}

#[derive(Debug, Args)]
pub struct SnapshotSaveArgs {
    /// The file to write (replaced atomically; an old one is kept as a backup)
    #[arg(value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct SnapshotRestoreArgs {
    /// The snapshot file (from `snapshot save` or `etcdctl snapshot save`)
    #[arg(value_hint = ValueHint::FilePath)]
    pub snapshot: PathBuf,

    /// A member of the restored cluster: NAME=PEER-URL[,CLIENT-URL] (the client URL defaults to
    /// the peer host on port 2379) or NAME=IP; repeat for each member
    #[arg(long = "member", required = true, value_name = "NAME=URL")]
    pub members: Vec<String>,

    /// Where each member's directory goes: OUT/NAME/data and OUT/NAME/etcd.{env,conf,service}
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: PathBuf,

    /// The peer certificate the members will use (--peer-cert-file); default --cert
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub peer_cert: Option<PathBuf>,

    /// Its key (--peer-key-file); default --key
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub peer_key: Option<PathBuf>,

    /// The server certificate the members will use (--cert-file)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub server_cert: Option<PathBuf>,

    /// Its key (--key-file), for the node files (default: the key file beside it, as
    /// server-key.pem beside server.pem or server.key beside server.crt)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub server_key: Option<PathBuf>,

    /// The CA key, for --fix-certs (the CA certificate is --cacert)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca_key: Option<PathBuf>,

    /// Reissue the certificates that do not cover the members' new URLs, adding them
    #[arg(long, requires = "ca_key")]
    pub fix_certs: bool,

    /// Print every step; write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// The file is a database copied from a data directory (member/snap/db), without the hash
    /// a snapshot has
    #[arg(long)]
    pub skip_hash_check: bool,

    /// Raise the revision by N after the restore (etcdutl; what Kubernetes needs, so that its
    /// watches do not miss changes); requires --mark-compacted
    #[arg(long, value_name = "N")]
    pub bump_revision: Option<u64>,

    /// Mark the bumped revision compacted (with --bump-revision)
    #[arg(long)]
    pub mark_compacted: bool,

    /// etcd's restore tool: etcdutl (3.5+) or etcdctl (3.4); default etcdutl, else etcdctl, on PATH
    #[arg(long, value_name = "PATH", value_hint = ValueHint::ExecutablePath)]
    pub etcdutl: Option<PathBuf>,

    /// The new cluster's --initial-cluster-token (default: a new random one)
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,

    /// The --data-dir the node files name ({name} is replaced; default: the restored
    /// directory, OUT/NAME/data)
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,

    /// Where the nodes keep their PKI files, for the node files
    #[arg(long, value_name = "DIR", default_value = "/etc/kubernetes/pki/etcd")]
    pub pki_dir: PathBuf,

    /// The etcd binary the node files' unit runs
    #[arg(long, value_name = "PATH", default_value = "/usr/bin/etcd")]
    pub etcd_binary: PathBuf,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The node's name
    #[arg(value_parser = parse_member_name)]
    pub name: String,

    /// The node's peer URLs, comma-separated
    #[arg(long, value_delimiter = ',', required = true, value_name = "URL")]
    pub peer_urls: Vec<String>,

    /// The node's client URLs, comma-separated (default: the peer URL hosts on port 2379)
    #[arg(long, value_delimiter = ',', value_name = "URL")]
    pub client_urls: Vec<String>,

    /// Write the files into this directory instead of printing them
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub node: NodeArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// How to reach etcd: the flags and environment variables of etcdctl.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Connection (as etcdctl)")]
pub struct ConnectionArgs {
    /// gRPC endpoints, comma-separated; without a scheme, https when TLS files are given
    #[arg(
        long,
        env = "ETCDCTL_ENDPOINTS",
        value_delimiter = ',',
        default_value = "127.0.0.1:2379",
        global = true
    )]
    pub endpoints: Vec<String>,

    /// The CA bundle that verifies the servers' certificates
    #[arg(long, env = "ETCDCTL_CACERT", value_hint = ValueHint::FilePath, global = true)]
    pub cacert: Option<PathBuf>,

    /// The client certificate (the runbook uses members.pem)
    #[arg(long, env = "ETCDCTL_CERT", value_hint = ValueHint::FilePath, global = true)]
    pub cert: Option<PathBuf>,

    /// The client certificate's key
    #[arg(long, env = "ETCDCTL_KEY", value_hint = ValueHint::FilePath, global = true)]
    pub key: Option<PathBuf>,

    /// How long to wait for a connection
    #[arg(long, env = "ETCDCTL_DIAL_TIMEOUT", value_name = "DURATION", default_value = "2s", value_parser = parse_std_duration, global = true)]
    pub dial_timeout: std::time::Duration,

    /// How long a request may take
    #[arg(long, env = "ETCDCTL_COMMAND_TIMEOUT", value_name = "DURATION", default_value = "5s", value_parser = parse_std_duration, global = true)]
    pub command_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct MemberArgs {
    #[command(subcommand)]
    pub command: MemberCommand,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List the members (etcdctl's format)
    List(ListArgs),
    /// Add a member, after checking its certificates cover it and the cluster can take it
    ///
    /// Before anything is sent to etcd, the new member's peer certificate (default: the
    /// --cert file, which the runbook's members.pem is) must cover every peer URL host as
    /// a peer certificate, chain to --cacert, carry serverAuth and clientAuth and not be
    /// expired; with --server-cert, the same for the server certificate and
    /// --client-urls. The cluster must be healthy with every member started, the name and
    /// peer URLs unused, and for --learner no learner present. A refusal exits 1, sends
    /// nothing, and says which command fixes it.
    #[command(verbatim_doc_comment)]
    Add(AddArgs),
    /// Promote a learner to a voting member (--wait: until it has caught up)
    Promote(PromoteArgs),
    /// Remove a member, refusing what would lose quorum or the leader unannounced
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = Format::Simple)]
    pub write_out: Format,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The new member's name (its etcd --name)
    #[arg(value_parser = parse_member_name)]
    pub name: String,

    /// The new member's peer URLs, comma-separated
    #[arg(long, value_delimiter = ',', required = true, value_name = "URL")]
    pub peer_urls: Vec<String>,

    /// Add it as a learner (non-voting until promoted): the safe way to grow a cluster
    #[arg(long)]
    pub learner: bool,

    /// The peer certificate the new member will use (default: --cert)
    #[arg(long, value_hint = ValueHint::FilePath, value_name = "FILE")]
    pub peer_cert: Option<PathBuf>,

    /// The server certificate the new member will use (checked against --client-urls)
    #[arg(long, value_hint = ValueHint::FilePath, value_name = "FILE")]
    pub server_cert: Option<PathBuf>,

    /// The new member's client URLs, comma-separated (checked with --server-cert)
    #[arg(long, value_delimiter = ',', value_name = "URL")]
    pub client_urls: Vec<String>,

    /// Add even when the certificate checks fail (a loud warning is printed)
    #[arg(long)]
    pub ignore_cert_check: bool,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The learner, by hex ID or name
    pub member: String,

    /// Wait until the learner has caught up with the leader, then promote it
    #[arg(long)]
    pub wait: bool,

    /// How long --wait may take
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_std_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The member, by hex ID or name
    pub member: String,

    /// Remove even if the rest cannot keep quorum or the member is the leader
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct EndpointArgs {
    #[command(subcommand)]
    pub command: EndpointCommand,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Subcommand)]
pub enum EndpointCommand {
    /// Whether each endpoint commits a proposal (etcdctl endpoint health)
    Health(EndpointQueryArgs),
    /// Version, DB size, leader, learner and raft indexes of each endpoint
    Status(EndpointQueryArgs),
}

#[derive(Debug, Args)]
pub struct EndpointQueryArgs {
    /// Ask every member of the cluster, not just --endpoints
    #[arg(long)]
    pub cluster: bool,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = Format::Simple)]
    pub write_out: Format,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// Directories to recover (default: the current directory)
    #[arg(value_hint = ValueHint::DirPath, default_value = ".")]
    pub dirs: Vec<PathBuf>,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,
}

/// Output formats of commands that change files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChangeFormat {
    /// Plain lines, for people
    Simple,
    /// JSON, for machines (field names are documented in docs/json.md)
    Json,
}

/// The CA that signs, as a certificate and its key.
#[derive(Debug, Args)]
pub struct CaArgs {
    /// The CA certificate (cfssl: ca.pem, kubeadm: ca.crt)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub cacert: PathBuf,

    /// The CA private key (cfssl: ca-key.pem, kubeadm: ca.key; PKCS#1, PKCS#8 or SEC1)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub ca_key: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReissueArgs {
    #[command(flatten)]
    pub ca: CaArgs,

    /// The certificate to reissue (its first certificate; the rest of the file is kept)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub cert: PathBuf,

    /// Its private key: checked to belong to the certificate, and replaced with --new-key
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// An IP address to add to the SANs; repeatable
    #[arg(long = "add-ip", value_name = "IP")]
    pub add_ips: Vec<std::net::IpAddr>,

    /// A DNS name to add to the SANs (a leading "*." makes a wildcard); repeatable
    #[arg(long = "add-dns", value_name = "NAME")]
    pub add_dns: Vec<String>,

    /// An IP address to remove from the SANs; repeatable
    #[arg(long = "remove-ip", value_name = "IP")]
    pub remove_ips: Vec<std::net::IpAddr>,

    /// A DNS name to remove from the SANs; repeatable
    #[arg(long = "remove-dns", value_name = "NAME")]
    pub remove_dns: Vec<String>,

    /// Generate a new key of the same algorithm (written to --out-key, else over --key)
    #[arg(long)]
    pub new_key: bool,

    /// Validity in days (default: the old certificate's lifetime)
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,

    /// Write the certificate here instead of replacing --cert
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub out: Option<PathBuf>,

    /// Write the new key here (with --new-key) instead of replacing --key
    #[arg(long, value_hint = ValueHint::FilePath, requires = "new_key")]
    pub out_key: Option<PathBuf>,

    /// Print what would change and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,
}

#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Certificate files or directories to look in, recursively
    #[arg(required = true, value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub ca: CaArgs,

    /// Renew certificates that expire within this window (e.g. 30d, 720h, 2w)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
    pub expires_within: time::Duration,

    /// Print what would be renewed and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = TableFormat::Table)]
    pub write_out: TableFormat,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// One subdirectory per member, named after it, holding its files (any names: roles are
    /// judged by content); or one directory every member shares. Default: the files of the etcd
    /// members running on this host
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub members_dir: Option<PathBuf>,

    /// The CA key that signs the renewed certificates
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, required_unless_present = "print_units")]
    pub ca_key: Option<PathBuf>,

    /// The CA certificate of --ca-key (default: --cacert)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca_cert: Option<PathBuf>,

    /// Renew what expires within this window (30d, 12h) or has less than this part of its
    /// lifetime left (33%)
    #[arg(long, value_name = "WINDOW", default_value = "30d")]
    pub expires_within: String,

    /// A command that copies a member's directory to its host after it changed, run with sh -c;
    /// {name}, {id}, {host} and {dir} are replaced, shell-quoted (e.g. 'rsync -a {dir}/
    /// {host}:/etc/etcd/pki/')
    #[arg(long, value_name = "TEMPLATE")]
    pub sync_cmd: Option<String>,

    /// How long the proof of one member may take (then its files are restored)
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_std_duration)]
    pub timeout: std::time::Duration,

    /// Say what is due; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print a systemd service and timer that run this command daily, and exit
    #[arg(long)]
    pub print_units: bool,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// plan (read-only) or apply
    #[arg(value_enum)]
    pub action: UpgradeAction,

    /// The minor version every member must end on, e.g. 3.5 (default: the next one)
    #[arg(long, value_name = "MINOR")]
    pub to: Option<String>,

    /// Where apply saves its snapshot first (and where plan looks for a recent one)
    #[arg(long, value_name = "DIR", default_value = ".", value_hint = ValueHint::DirPath)]
    pub out: PathBuf,

    /// Installs the new etcd on a member's host and restarts it, run with sh -c; {name}, {id}
    /// and {host} are replaced, shell-quoted (e.g. 'ssh {host} "apt-get install -y
    /// etcd-server=3.5.* && systemctl restart etcd"'); apply needs it
    #[arg(long, value_name = "TEMPLATE")]
    pub restart_cmd: Option<String>,

    /// How long one member may take to come back on the new version after its restart
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_std_duration)]
    pub timeout: std::time::Duration,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The steps of `upgrade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpgradeAction {
    /// Check everything; change nothing
    Plan,
    /// Snapshot, then upgrade one member at a time through --restart-cmd
    Apply,
}

#[derive(Debug, Args)]
pub struct CaGroupArgs {
    #[command(subcommand)]
    pub command: CaCommand,
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Replace the cluster's CA with no downtime, in three phases each proven live
    ///
    /// 1. Trust both: the new CA (created unless --new-ca exists) is added to
    ///    every trust file of the members (in --members-dir) and of the clients
    ///    (--client-ca-file); the members restart one at a time through
    ///    --restart-cmd (etcd reads its CA files only at start), each only when
    ///    every member is healthy and the rest keep quorum, the leader last after
    ///    handing over leadership; each must then accept a client certificate of
    ///    the new CA (minted for the probe) and still one of the old.
    /// 2. Reissue: every leaf of the old CA in --members-dir, and every
    ///    --client-cert, is reissued by the new CA with the same subject, SANs,
    ///    usages and key (--new-keys for new ones), with backups; each member
    ///    must serve certificates of the new CA on every port, accept a fresh
    ///    peer handshake with them, and keep up with the leader.
    /// 3. Trust only the new CA, once every --client-cert is the new CA's: the
    ///    trust files hold the new CA alone (a CA key beside them becomes the new
    ///    one), the members roll again, and each must refuse the old CA.
    ///
    /// plan prints every step and changes nothing; status shows each member's
    /// phase; apply resumes where an interrupted run stopped, stops (exit 1,
    /// nothing more changed) when a member is down or unhealthy before a restart,
    /// and --rollback goes back from phase 1 or 2.
    ///
    /// Example:
    ///
    ///   etcd-pki ca rotate apply --members-dir /srv/etcd-pki \
    ///       --new-ca /srv/ca-2026/ca.pem --new-ca-key /srv/ca-2026/ca-key.pem \
    ///       --restart-cmd 'ssh {host} systemctl restart etcd' \
    ///       --sync-cmd 'rsync -a {dir}/ {host}:/etc/etcd/pki/'
    #[command(verbatim_doc_comment)]
    Rotate(CaRotateArgs),
}

#[derive(Debug, Args)]
pub struct CaRotateArgs {
    #[command(subcommand)]
    pub action: CaRotateAction,
}

#[derive(Debug, Subcommand)]
pub enum CaRotateAction {
    /// Print every step apply would take, with its files and restarts; change nothing
    Plan(Box<CaRotateOptions>),
    /// Rotate (or --rollback), resuming where an earlier run stopped
    Apply(Box<CaRotateOptions>),
    /// Show where each member stands, from its files and what it serves and accepts
    Status(Box<CaRotateOptions>),
}

#[derive(Debug, Args)]
pub struct CaRotateOptions {
    /// One subdirectory per member, named after it, holding its files (any names: roles are
    /// judged by content); or one directory every member shares
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub members_dir: PathBuf,

    /// The new CA's certificate (created with --new-ca-key when neither exists; keep both
    /// outside --members-dir)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub new_ca: PathBuf,

    /// The new CA's key
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub new_ca_key: PathBuf,

    /// Common name of a created CA (default: the old CA's, with today's date)
    #[arg(long, value_name = "CN")]
    pub new_ca_name: Option<String>,

    /// Lifetime of a created CA in days (default: the old CA's)
    #[arg(long, value_name = "DAYS")]
    pub new_ca_days: Option<u32>,

    /// Key algorithm of a created CA (default: the old CA's)
    #[arg(long, value_enum, value_name = "ALGORITHM")]
    pub algorithm: Option<AlgoArg>,

    /// The old CA's certificate (default: the CA in the members' trust files that issued
    /// their certificates)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub old_ca: Option<PathBuf>,

    /// The old CA's key (default: found beside the trust files or in their backups); mints
    /// old-CA probe certificates and is needed to roll back from phase 2
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub old_ca_key: Option<PathBuf>,

    /// A client's CA file to give the bundle, then the new CA alone (etcdctl's --cacert,
    /// kube-apiserver's --etcd-cafile); repeatable
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub client_ca_file: Vec<PathBuf>,

    /// A client's certificate (CERT, or CERT:KEY to prove it accepted), reissued by the new
    /// CA in phase 2 and checked before phase 3; repeatable
    #[arg(long, value_name = "CERT[:KEY]")]
    pub client_cert: Vec<String>,

    /// Restarts a member, run with sh -c; {name}, {id}, {host} and {dir} are replaced,
    /// shell-quoted (e.g. 'ssh {host} systemctl restart etcd'); apply needs it
    #[arg(long, value_name = "TEMPLATE")]
    pub restart_cmd: Option<String>,

    /// Copies a member's directory to its host after it changed, run like --restart-cmd
    /// (e.g. 'rsync -a {dir}/ {host}:/etc/etcd/pki/')
    #[arg(long, value_name = "TEMPLATE")]
    pub sync_cmd: Option<String>,

    /// Reissue the leaves on new keys (default: keep each key)
    #[arg(long)]
    pub new_keys: bool,

    /// Stop after this phase (1, 2 or 3)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub through_phase: u8,

    /// Go back from phase 1 or 2: leaves to the old CA, trust files to the old CA alone, a roll
    #[arg(long)]
    pub rollback: bool,

    /// How long one member's restart and proof, or one hook, may take
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_std_duration)]
    pub timeout: std::time::Duration,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Layouts of `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// ca.pem, server.pem, members.pem, client.pem (with -key.pem keys), shared
    Cfssl,
    /// ca.crt, and per member NAME/{server,peer,healthcheck-client}.crt (with .key)
    Kubeadm,
}

/// Key algorithms of `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgoArg {
    /// ECDSA on P-256
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
    /// ECDSA on P-384
    #[value(name = "ecdsa-p384")]
    EcdsaP384,
    /// RSA, 2048 bits
    #[value(name = "rsa-2048")]
    Rsa2048,
    /// RSA, 4096 bits
    #[value(name = "rsa-4096")]
    Rsa4096,
    /// Ed25519
    Ed25519,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to create the PKI in (created if missing; must not hold a PKI)
    #[arg(value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,

    /// A member as NAME=IP[,DNS...], e.g. infra0=10.0.11.36; repeatable
    #[arg(long = "member", value_name = "NAME=IP[,DNS...]", required = true)]
    pub members: Vec<String>,

    /// File layout
    #[arg(long, value_enum, default_value_t = LayoutArg::Cfssl)]
    pub layout: LayoutArg,

    /// Key algorithm of every key
    #[arg(long, value_enum, default_value_t = AlgoArg::EcdsaP256)]
    pub algo: AlgoArg,

    /// Validity of member and client certificates, in days
    #[arg(long, value_name = "N", default_value_t = 365)]
    pub days: u32,

    /// Validity of the CA, in days
    #[arg(long, value_name = "N", default_value_t = 3650)]
    pub ca_days: u32,

    /// The CA's common name
    #[arg(long, value_name = "CN", default_value = "etcd-ca")]
    pub ca_name: String,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The new member's name (its etcd --name)
    #[arg(value_parser = parse_member_name)]
    pub name: String,

    /// An IP address of the new member; repeatable
    #[arg(long = "ip", value_name = "IP")]
    pub ips: Vec<std::net::IpAddr>,

    /// A DNS name of the new member; repeatable
    #[arg(long = "dns", value_name = "NAME")]
    pub dns: Vec<String>,

    #[command(flatten)]
    pub ca: CaArgs,

    /// The directory of an existing member's certificates to model the new ones on
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub like: PathBuf,

    /// The template member's name, when neither its directory nor its certificates tell it
    #[arg(long, value_name = "NAME")]
    pub like_name: Option<String>,

    /// The directory to write the new member's files into (created; must be new or empty)
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: PathBuf,

    /// Validity in days (default: each template certificate's lifetime), never past the CA's
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,

    /// Print what would be issued (files, subjects, SANs, usages, keys); write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ChangeFormat::Simple)]
    pub write_out: ChangeFormat,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Check the etcd process with this PID
    #[arg(long, value_name = "PID", conflicts_with_all = ["config_file", "manifest", "unit", "etcd_flags"])]
    pub pid: Option<u32>,

    /// Check a member configured by this etcd config file (YAML, as etcd reads it)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, conflicts_with_all = ["manifest", "unit", "etcd_flags"])]
    pub config_file: Option<PathBuf>,

    /// Check a member run by this kubeadm static pod manifest
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, conflicts_with_all = ["unit", "etcd_flags"])]
    pub manifest: Option<PathBuf>,

    /// Check a member run by this systemd unit
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, conflicts_with = "etcd_flags")]
    pub unit: Option<PathBuf>,

    /// With --unit: read this EnvironmentFile instead of the unit's own; repeatable
    #[arg(long = "env-file", value_name = "FILE", requires = "unit", value_hint = ValueHint::FilePath)]
    pub env_files: Vec<PathBuf>,

    /// Certificates expiring within this window fail
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
    pub expires_within: time::Duration,

    /// Check the files only; do not contact the cluster
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ReportFormat::Simple)]
    pub write_out: ReportFormat,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    /// etcd's own flags, after --, to check as given (e.g. -- --cert-file=... --key-file=...)
    #[arg(last = true, value_name = "ETCD-FLAGS", allow_hyphen_values = true)]
    pub etcd_flags: Vec<String>,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Output formats of commands that print findings or details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Plain lines, for people
    Simple,
    /// A bordered table, as etcdctl draws them
    Table,
    /// JSON, for machines (field names are documented in docs/json.md)
    Json,
}

/// Output formats of commands that judge certificates or a cluster: also Prometheus metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Plain lines, for people
    Simple,
    /// A bordered table, as etcdctl draws them
    Table,
    /// JSON, for machines (field names are documented in docs/json.md)
    Json,
    /// Prometheus text format, for node_exporter's textfile collector (series in docs/metrics.md)
    Prometheus,
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// A bordered table, as etcdctl draws them
    Table,
    /// JSON, for machines (field names are documented in docs/json.md)
    Json,
    /// JSON lines, one object per certificate, written as the scan goes, in bounded memory
    /// (docs/json.md)
    Jsonl,
    /// Prometheus text format, for node_exporter's textfile collector (series in docs/metrics.md)
    Prometheus,
}

/// Where `-w prometheus` writes.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// With -w prometheus: replace FILE with the metrics (written beside it, then renamed, as
    /// node_exporter's textfile collector requires) instead of printing them; a failed run
    /// still replaces it, with etcd_pki_run_success 0
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub textfile: Option<PathBuf>,
}

/// Output formats of commands that print one row per item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// A bordered table, as etcdctl draws them
    Table,
    /// JSON, for machines (field names are documented in docs/json.md)
    Json,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Certificate or key files (PEM or DER; bundles allowed), or https://HOST:PORT URLs of
    /// etcd ports, whose served chain is fetched and judged (files or URLs, not both)
    #[arg(required = true, value_hint = ValueHint::FilePath)]
    pub files: Vec<PathBuf>,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = Format::Simple)]
    pub write_out: Format,

    #[command(flatten)]
    pub probe: ProbeTlsArgs,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,
}

/// How to probe https:// URLs: the CA to judge the served chain against and the client
/// certificate to present (etcd asks for one with --client-cert-auth and on every peer port).
#[derive(Debug, Args)]
#[command(next_help_heading = "Probing https:// URLs")]
pub struct ProbeTlsArgs {
    /// The CA bundle the served chain must lead to
    #[arg(long, env = "ETCDCTL_CACERT", value_hint = ValueHint::FilePath)]
    pub cacert: Option<PathBuf>,

    /// A client certificate to present (mutual TLS), with --key
    #[arg(long, env = "ETCDCTL_CERT", value_hint = ValueHint::FilePath)]
    pub cert: Option<PathBuf>,

    /// The client certificate's key
    #[arg(long, env = "ETCDCTL_KEY", value_hint = ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// How long each endpoint may take to connect and hand over its chain
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_std_duration)]
    pub command_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The certificate to check (PEM or DER; intermediates may follow it in the file)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub cert: PathBuf,

    /// Its private key: checked to be the certificate's (PKCS#1, PKCS#8 or SEC1)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub key: Option<PathBuf>,

    /// The cluster's CA bundle (every certificate in it is trusted, as etcd's
    /// --trusted-ca-file); the chain is checked against it
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub cacert: Option<PathBuf>,

    /// The role the certificate plays: peer (--peer-cert-file: serverAuth and clientAuth,
    /// covers the peer URL), server (--cert-file: serverAuth and clientAuth for etcd's gRPC
    /// gateway, covers the client URLs) or client (clientAuth)
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,

    /// A host the certificate must cover (IP or DNS name); repeatable
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,

    /// A member URL whose host the certificate must cover, e.g. https://127.0.0.14:2380;
    /// repeatable, and comma-separated lists are accepted as etcd writes them
    #[arg(long = "url", value_name = "URL", value_delimiter = ',')]
    pub urls: Vec<String>,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,

    /// Fail when the certificate expires within this window (e.g. 30d, 720h, 2w)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expires_within: Option<time::Duration>,

    /// Judge validity at this instant instead of now (RFC 3339, e.g. 2027-01-01T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ReportFormat::Simple)]
    pub write_out: ReportFormat,

    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// `--etcd-version`, the same on every command that judges hosts: `check`, and the commands
/// that talk to a cluster, where the default is what its members run.
#[derive(Debug, Args, Clone, Copy)]
pub struct EtcdVersionArgs {
    /// The etcd the hosts are judged for: 3.4 (Go 1.19) or 3.5 (Go 1.24); default: the cluster's
    /// when the command talks to one, else 3.5
    ///
    /// Where the Gos etcd is built with decide differently: e.g. a DNS SAN of exactly * covers
    /// the host etcd-peer for 3.4 only. A command that talks to a cluster judges by the
    /// version its members report (by both in a cluster mid-upgrade: a host must pass each);
    /// when the members cannot tell (unreachable, a version etcd-pki does not know), by 3.5,
    /// with a warning. The verdict names the rules applied
    #[arg(long, value_enum, value_name = "VERSION")]
    pub etcd_version: Option<EtcdVersionArg>,
}

impl EtcdVersionArgs {
    /// The rules given, else the default (newest): for commands that ask no cluster.
    pub fn rules(self) -> pki_core::GoRules {
        self.etcd_version.map(Into::into).unwrap_or_default()
    }

    /// The rules given, else the cluster's.
    pub fn choice(self) -> pki_cluster::RulesChoice {
        match self.etcd_version {
            Some(version) => pki_cluster::RulesChoice::Given(version.into()),
            None => pki_cluster::RulesChoice::FromCluster,
        }
    }
}

/// The etcd versions of `--etcd-version`, by the Go each is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EtcdVersionArg {
    /// etcd 3.4 (Debian's 3.4.23 is built with Go 1.19)
    #[value(name = "3.4")]
    V3_4,
    /// etcd 3.5 (3.5.16 is built with Go 1.24); the newest, and the default
    #[value(name = "3.5")]
    V3_5,
}

impl From<EtcdVersionArg> for pki_core::GoRules {
    fn from(version: EtcdVersionArg) -> Self {
        match version {
            EtcdVersionArg::V3_4 => pki_core::GoRules::Go119,
            EtcdVersionArg::V3_5 => pki_core::GoRules::Go124,
        }
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Directories (or files) to scan, recursively; symbolic links are followed, loops are not
    #[arg(required_unless_present_any = ["probe", "cluster"], value_hint = ValueHint::DirPath)]
    pub dirs: Vec<PathBuf>,

    /// Also fetch and judge the chain served at these https:// URLs (comma-separated or
    /// repeated), with --cacert and, for mutual TLS, --cert and --key; each within
    /// --command-timeout
    #[arg(long, value_name = "URL", value_delimiter = ',')]
    pub probe: Vec<String>,

    /// Also probe every client and peer URL of the started members, from the member list
    /// (only with this flag: ETCDCTL_ENDPOINTS alone never makes scan probe)
    #[arg(long)]
    pub cluster: bool,

    /// Endpoints probed at once
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub parallel: usize,

    #[command(flatten)]
    pub etcd_version: EtcdVersionArgs,

    /// Report certificates expiring within this window (e.g. 30d, 720h, 2w)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30d")]
    pub expires_within: time::Duration,

    /// Judge validity at this instant instead of now (RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<OffsetDateTime>,

    /// Verify every certificate's signature against its issuer (by default the issuer is
    /// named by name and key identifier, and signatures decide only where those do not single
    /// out one CA)
    #[arg(long)]
    pub verify: bool,

    /// Output format
    #[arg(short = 'w', long = "write-out", value_enum, default_value_t = ScanFormat::Table)]
    pub write_out: ScanFormat,

    #[command(flatten)]
    pub metrics: MetricsArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The roles of `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A member's peer certificate (--peer-cert-file)
    Peer,
    /// A member's client-facing certificate (--cert-file)
    Server,
    /// A client certificate (etcdctl --cert, kube-apiserver)
    Client,
}

impl From<RoleArg> for pki_core::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Peer => pki_core::Role::Peer,
            RoleArg::Server => pki_core::Role::Server,
            RoleArg::Client => pki_core::Role::Client,
        }
    }
}

/// Parses `30d`, `720h`, `1h30m`, `2w`, `90s` (humantime; Go's `720h0m0s` too).
pub fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let std = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}; use e.g. 30d, 720h, 2w or 90s"))?;
    time::Duration::try_from(std).map_err(|_| "duration too long".to_string())
}

/// A member name as it appears in `--initial-cluster` (`name=URL,...`) and as a file name:
/// not empty, and without `,`, `=`, `/`, whitespace or control characters.
pub fn parse_member_name(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("a member name cannot be empty".into());
    }
    if let Some(c) = text
        .chars()
        .find(|c| matches!(c, ',' | '=' | '/' | '\\') || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{c:?} cannot be part of a member name: it would break the --initial-cluster list (name=URL,...) or the file names"
        ));
    }
    if text == "." || text == ".." {
        return Err("a member name cannot be . or ..".into());
    }
    Ok(text.to_string())
}

/// Parses a duration for timeouts (`2s`, `500ms`, `5m`).
pub fn parse_std_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("{e}; use e.g. 2s, 500ms or 5m"))
}

/// Parses an RFC 3339 instant.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{e}; use RFC 3339, e.g. 2027-01-01T00:00:00Z"))?
        .checked_to_offset(time::UtcOffset::UTC)
        .ok_or_else(|| "out of the range of dates certificates can hold".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn member_names_that_break_initial_cluster_are_refused() {
        for bad in ["", "a,b", "a=b", "../x", "a b", "..", "a\\b"] {
            assert!(super::parse_member_name(bad).is_err(), "{bad:?}");
        }
        for good in ["infra3", "etcd-10.0.12.157", "node_1.example.com"] {
            assert_eq!(super::parse_member_name(good).unwrap(), good);
        }
    }

    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_in_operator_forms() {
        assert_eq!(parse_duration("30d").unwrap(), time::Duration::days(30));
        assert_eq!(parse_duration("720h").unwrap(), time::Duration::hours(720));
        assert_eq!(
            parse_duration("720h0m0s").unwrap(),
            time::Duration::hours(720)
        );
        assert_eq!(parse_duration("2w").unwrap(), time::Duration::weeks(2));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5d").is_err());
    }
}

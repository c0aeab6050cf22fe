//! Replacing the cluster's CA with no loss of availability, in three phases, each proven on the
//! live cluster before the next begins (`etcd-pki ca rotate`):
//!
//! 1. **Trust both.** The new CA is created (or taken as given); every trust file of the
//!    rotation (each member's files that hold the old CA, and the clients' CA files) gets a
//!    bundle of the old and the new CA; the members are restarted one at a time through the
//!    restart hook (etcd reads its trusted CA files only at start), each only when every member
//!    is healthy and the rest keep quorum, the leader last after it handed over leadership;
//!    after each restart, the member is shown to accept a client certificate of the new CA
//!    (minted for the probe) and still one of the old.
//! 2. **Reissue.** Every leaf certificate of the old CA in the members' directories (server,
//!    peer, client), and every client certificate listed, is reissued by the new CA with the
//!    same subject, SANs, usages and key (a new key on request), atomically with backups; no
//!    restart is needed (etcd reads certificate files on every handshake); each member is shown
//!    to serve certificates of the new CA, to accept a fresh peer handshake with its new peer
//!    certificate, and to keep up with the leader (see [`crate::rotate`], whose proof and undo
//!    this is).
//! 3. **Trust only the new CA.** Only when every listed client certificate is the new CA's: the
//!    trust files get the new CA alone (a CA key kept beside them, as kubeadm keeps `ca.key`,
//!    becomes the new CA's), and the members roll again; each is shown to refuse a client
//!    certificate of the old CA and accept one of the new.
//!
//! Everything is derived from the files and the cluster, so [`apply`] resumes where an
//! interrupted run stopped, and [`status`] says where each member stands. [`plan`] lists every
//! step and changes nothing. Every replaced file keeps a backup beside it (`NAME.bak.<time>`).
//! A rollback from phase 1 or 2 goes back the same way (leaves back to the old CA, trust files
//! back to the old CA alone, a roll).
//!
//! The tool's own connection trusts both CAs throughout (the connection's CA file and the new
//! CA, in a private temporary file), presents the connection's client certificate, and from
//! phase 3 on the new CA's probe certificate.
//!
//! ```no_run
//! use pki_cluster::ca_rotation::{apply, CaRotationOutcome, CaRotationRequest, Hooks};
//! use pki_cluster::{ConnectOptions, Connection};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let conn = Connection::new(
//!     ConnectOptions::new(["https://10.0.11.36:2379"])
//!         .ca_file("/srv/etcd-pki/admin/ca.pem")
//!         .client_cert("/srv/etcd-pki/admin/client.pem", "/srv/etcd-pki/admin/client-key.pem"),
//! )?;
//! let req = CaRotationRequest::new("/srv/etcd-pki/members", "/srv/ca-2027/ca.pem", "/srv/ca-2027/ca-key.pem")
//!     .client_ca_file("/srv/etcd-pki/admin/ca.pem");
//! // The embedder restarts members its own way (here: its orchestration API).
//! let restart = Box::new(|member: &pki_cluster::rotate::SyncContext| {
//!     println!("restart {} on {}", member.name, member.host);
//!     Ok(())
//! });
//! match apply(&conn, &req, Hooks::new(Some(restart), None), |event| println!("{event:?}")).await? {
//!     CaRotationOutcome::Done { phase } => println!("done through phase {phase}"),
//!     other => eprintln!("needs a person: {other:?}"),
//! }
//! # Ok(()) }
//! ```

mod apply;
mod identities;
mod plan;
pub(crate) mod roll;
mod setup;
mod status;
mod survey;
mod views;

use std::path::PathBuf;
use std::time::Duration;

use pki_core::KeyAlgorithm;
use time::OffsetDateTime;

pub use apply::apply;
pub use plan::{plan, PlanStep, StepKind};
pub use status::{status, MemberPhase, Phase, StatusReport};
pub use survey::{IssuedBy, TrustState};
pub use views::{PortView, Side};

use crate::rotate::{RotateEvent, SyncHook};

/// A hook run for one member (restart it; copy its files to its host): `Err` says why it
/// failed, and stops the rotation with the member named.
pub type Hook<'a> = SyncHook<'a>;

/// What to rotate, and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaRotationRequest {
    /// One subdirectory per member named after it, or one directory every member shares.
    pub members_dir: PathBuf,
    /// The new CA's certificate file (created with its key when neither exists).
    pub new_ca: PathBuf,
    /// The new CA's key file.
    pub new_ca_key: PathBuf,
    /// The common name of a created CA (default: the old one's with the date).
    pub new_ca_name: Option<String>,
    /// The lifetime of a created CA in days (default: the old one's).
    pub new_ca_days: Option<u32>,
    /// The key algorithm of a created CA (default: the old one's).
    pub new_ca_algorithm: Option<KeyAlgorithm>,
    /// The old CA's certificate (default: found in the members' trust files).
    pub old_ca: Option<PathBuf>,
    /// The old CA's key (default: found beside the trust files or in their backups); needed to
    /// mint old-CA probe certificates and for a rollback from phase 2.
    pub old_ca_key: Option<PathBuf>,
    /// The clients' CA files (etcdctl's `--cacert`, kube-apiserver's `--etcd-cafile`).
    pub client_ca_files: Vec<PathBuf>,
    /// The clients' certificates, with their keys when at hand (to prove them accepted).
    pub client_certs: Vec<(PathBuf, Option<PathBuf>)>,
    /// Reissue leaves on new keys.
    pub new_keys: bool,
    /// Stop after this phase (1 to 3).
    pub through_phase: u8,
    /// Go back instead (from phase 1 or 2).
    pub rollback: bool,
    /// How long one member's restart and proof (or one directory's reissue and proof) may take.
    pub timeout: Duration,
    /// The instant certificates are made at.
    pub at: OffsetDateTime,
}

impl CaRotationRequest {
    /// A rotation of the CA of the members' files in `members_dir` to the CA in
    /// `new_ca`/`new_ca_key` (created if neither exists), through all three phases, with two
    /// minutes for each member.
    pub fn new(
        members_dir: impl Into<PathBuf>,
        new_ca: impl Into<PathBuf>,
        new_ca_key: impl Into<PathBuf>,
    ) -> CaRotationRequest {
        CaRotationRequest {
            members_dir: members_dir.into(),
            new_ca: new_ca.into(),
            new_ca_key: new_ca_key.into(),
            new_ca_name: None,
            new_ca_days: None,
            new_ca_algorithm: None,
            old_ca: None,
            old_ca_key: None,
            client_ca_files: Vec::new(),
            client_certs: Vec::new(),
            new_keys: false,
            through_phase: 3,
            rollback: false,
            timeout: Duration::from_secs(120),
            at: OffsetDateTime::now_utc(),
        }
    }

    /// The old CA's certificate and key.
    #[must_use]
    pub fn old_ca(mut self, cert: Option<PathBuf>, key: Option<PathBuf>) -> CaRotationRequest {
        self.old_ca = cert;
        self.old_ca_key = key;
        self
    }

    /// A client's CA file.
    #[must_use]
    pub fn client_ca_file(mut self, path: impl Into<PathBuf>) -> CaRotationRequest {
        self.client_ca_files.push(path.into());
        self
    }

    /// A client's certificate and its key.
    #[must_use]
    pub fn client_cert(
        mut self,
        cert: impl Into<PathBuf>,
        key: Option<PathBuf>,
    ) -> CaRotationRequest {
        self.client_certs.push((cert.into(), key));
        self
    }

    /// Reissue leaves on new keys.
    #[must_use]
    pub fn new_keys(mut self, yes: bool) -> CaRotationRequest {
        self.new_keys = yes;
        self
    }

    /// Stop after this phase.
    #[must_use]
    pub fn through_phase(mut self, phase: u8) -> CaRotationRequest {
        self.through_phase = phase.clamp(1, 3);
        self
    }

    /// Go back instead.
    #[must_use]
    pub fn rollback(mut self, yes: bool) -> CaRotationRequest {
        self.rollback = yes;
        self
    }

    /// How long one member may take.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> CaRotationRequest {
        self.timeout = timeout;
        self
    }

    /// A created CA's name, lifetime and algorithm.
    #[must_use]
    pub fn new_ca_spec(
        mut self,
        name: Option<String>,
        days: Option<u32>,
        algorithm: Option<KeyAlgorithm>,
    ) -> CaRotationRequest {
        self.new_ca_name = name;
        self.new_ca_days = days;
        self.new_ca_algorithm = algorithm;
        self
    }
}

/// The hooks of a rotation.
#[non_exhaustive]
pub struct Hooks<'a> {
    /// Restarts a member (`systemctl restart etcd` on its host); needed by `apply`.
    pub restart: Option<Hook<'a>>,
    /// Copies a member's directory to its host after it changed.
    pub sync: Option<Hook<'a>>,
}

impl<'a> Hooks<'a> {
    /// The hooks.
    pub fn new(restart: Option<Hook<'a>>, sync: Option<Hook<'a>>) -> Hooks<'a> {
        Hooks { restart, sync }
    }
}

/// What a rotation did, step by step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CaRotationEvent {
    /// The new CA: created now, or found.
    NewCa {
        /// Its certificate file.
        cert: PathBuf,
        /// Its subject.
        subject: String,
        /// Its end of validity.
        not_after: OffsetDateTime,
        /// Whether it was created by this run.
        created: bool,
    },
    /// The old CA, as found.
    OldCa {
        /// Its subject.
        subject: String,
        /// Its key file, if at hand.
        key: Option<PathBuf>,
    },
    /// A phase begins.
    Phase {
        /// 1 to 3 (0: a rollback).
        phase: u8,
        /// What it does.
        title: String,
    },
    /// Files were written (one transaction).
    Wrote {
        /// What they are.
        what: String,
        /// The files.
        files: Vec<PathBuf>,
        /// Their backups.
        backups: Vec<PathBuf>,
    },
    /// A step was found done by an earlier run.
    AlreadyDone {
        /// The phase.
        phase: u8,
        /// What.
        what: String,
    },
    /// A member is to be restarted, and why.
    NeedsRestart {
        /// The member.
        member: String,
        /// What its ports show now.
        why: String,
    },
    /// Leadership moved away from a member about to restart.
    LeadershipMoved {
        /// The former leader.
        from: String,
        /// The new one.
        to: String,
    },
    /// The sync hook ran for a member.
    Synced {
        /// The member.
        member: String,
    },
    /// The restart hook ran for a member.
    Restarted {
        /// The member.
        member: String,
    },
    /// Something was shown on the live cluster.
    Proven {
        /// The member.
        member: String,
        /// What, in words.
        what: String,
    },
    /// A step of phase 2's reissue of the members' leaves (see [`crate::rotate`]).
    Leaf(RotateEvent),
    /// A listed client certificate was reissued.
    ClientReissued {
        /// The file.
        file: PathBuf,
        /// Whether by the new CA (else by the old, in a rollback).
        by_new_ca: bool,
        /// The old file's backup.
        backup: Option<PathBuf>,
    },
    /// A write a killed run left unfinished was finished (every file had its new contents) or
    /// undone.
    Recovered {
        /// Its journal.
        journal: PathBuf,
        /// Finished rather than undone.
        rolled_forward: bool,
        /// Its files.
        files: Vec<PathBuf>,
    },
    /// Something a person should know.
    Warning {
        /// What.
        what: String,
    },
}

/// How a rotation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaRotationOutcome {
    /// Every phase up to this one is done and proven.
    Done {
        /// The last phase done.
        phase: u8,
    },
    /// Stopped: a person is needed. Nothing more was changed after the step named.
    Stopped {
        /// The phase it stopped in.
        phase: u8,
        /// The member it stopped at.
        member: Option<String>,
        /// Why.
        why: String,
    },
    /// A rollback is done: the members trust and use the old CA alone.
    RolledBack,
}

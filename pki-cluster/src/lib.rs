//! # pki-cluster
//!
//! The cluster operations of etcd-pki as a library, for any Rust tool that grows, shrinks or
//! rotates an etcd cluster: membership with the certificate checks etcdctl lacks, the
//! pre-flight check before a member is added, scale-out and scale-in as resumable operations
//! with progress events, probes of the certificates members actually serve (one endpoint or a
//! whole cluster's ports, in parallel, each within its own timeout: [`served`]), snapshots and
//! leader transfer; each member's own TLS configuration checked ([`doctor`]); leaf rotation
//! that proves the cluster serves what was renewed ([`rotate`]); and the three-phase
//! replacement of the cluster's CA with rolling restarts through a hook ([`ca_rotation`]). Built on [`pki_core`] (which judges certificates as Go and etcd do) and the
//! `etcd-client` crate.
//!
//! Nothing here prints, parses command lines or exits: results are typed reports of
//! [`pki_core::Finding`]s, and failures a typed [`Error`] where each refusal etcd returns is a
//! variant of its own ([`Refusal`]). The membership rules ([`rules`]) and the node files
//! ([`node_files`]) are pure functions, usable without an async runtime.
//!
//! Where Go 1.19 (etcd 3.4) and Go 1.24 (etcd 3.5) judge a host differently, the operations
//! judge by the Go of the etcd the members report they run, every version's in a mixed cluster,
//! unless the caller gives the rules ([`etcd_rules`]); the rules applied are a finding.
//!
//! Every operation that asks several members gives all its waits one deadline (dial plus
//! command timeout), so a member that hangs costs it once.
//!
//! # Examples
//!
//! Before adding a member, the pre-flight check (cluster state, the new member's
//! certificates, what the members serve, a live handshake):
//!
//! ```no_run
//! use pki_cluster::{preflight, ConnectOptions, Connection, MemberUrls, NewMemberFiles, PreflightRequest};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let conn = Connection::new(
//!     ConnectOptions::new(["https://10.0.11.36:2379"])
//!         .ca_file("ca.pem")
//!         .client_cert("client.pem", "client-key.pem"),
//! )?;
//! let urls = MemberUrls::parse(&["https://10.0.12.157:2380"], &[] as &[&str])?;
//! let files = NewMemberFiles::new().peer_cert("members.pem").peer_key("members-key.pem").peer_ca("ca.pem");
//! let report = preflight(&conn, &PreflightRequest::new("infra3", urls).files(files)).await?;
//! for finding in report.findings.iter().filter(|f| f.status == pki_core::Status::Fail) {
//!     eprintln!("{}: {} (fix: {:?})", finding.check, finding.message, finding.remedy);
//! }
//! # Ok(()) }
//! ```
//!
//! The membership rules need no cluster and no runtime: adding a voter to a healthy three-member
//! cluster lowers its fault tolerance until the new member runs; a learner does not.
//!
//! ```
//! use pki_cluster::rules::{check_add, LearnerLimit, MemberView};
//! use pki_core::{CheckId, Remedy, Status};
//!
//! let members: Vec<MemberView> = (1..=3)
//!     .map(|i| MemberView::new(i, format!("infra{i}"), vec![format!("https://10.0.0.{i}:2380")], false, true))
//!     .collect();
//! let new = ["https://10.0.0.4:2380".to_string()];
//! let as_voter = check_add(&members, "infra4", &new, false, LearnerLimit::One);
//! let tolerance = as_voter.iter().find(|f| f.check == CheckId::FaultTolerance).unwrap();
//! assert_eq!((tolerance.status, tolerance.remedy.clone()), (Status::Warn, Some(Remedy::AddAsLearner)));
//! assert!(check_add(&members, "infra4", &new, true, LearnerLimit::One).iter().all(|f| f.status == Status::Pass));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod ca_rotation;
mod connection;
pub mod doctor;
mod error;
pub mod etcd_rules;
mod leader;
mod member_certificates;
pub mod member_config;
mod membership;
pub mod node_files;
mod preflight;
mod probe;
pub mod restore;
pub mod rotate;
pub mod rules;
mod scale_in;
mod scale_out;
pub mod served;
mod snapshot;
mod state;
pub mod upgrade;
mod urls;

pub use connection::{ConnectOptions, Connection, Deadline, STAGGER};
pub use error::{Error, Refusal, Result};
pub use etcd_rules::{AppliedRules, RulesChoice, RulesSource};
pub use leader::{move_leadership, successor};
pub use member_certificates::{check_new_member_certificates, check_ownership, NewMemberFiles};
pub use membership::{
    add_member, blocks, parse_id, promote_member, removal_failures, remove_member,
    timed_out_reason, AddOutcome, AddRequest, AddedMember, LearnerState, Promotion, RemoveOutcome,
    LEARNER_SETTLE, SETTLE,
};
pub use node_files::{NodeSettings, PkiNames};
pub use preflight::{
    cluster_figures, preflight, ClusterFigures, PreflightReport, PreflightRequest,
    ServedCertificate,
};
pub use probe::{probe, versions, Identity, PeerProbe, ProbeRefusal};
pub use scale_in::{scale_in, ScaleInEvent, ScaleInOutcome, ScaleInRequest};
pub use scale_out::{
    only_coverage_failures, scale_out, IssueLike, ScaleOutEvent, ScaleOutOutcome, ScaleOutRequest,
    StartHook, StartWatch,
};
pub use snapshot::{save_snapshot, SavedSnapshot};
pub use state::{
    client_endpoint, health_all, health_until, member_list, member_list_until, status, status_all,
    status_until, ClusterState, EndpointStatus, Health, MemberInfo, MemberList, MemberStatus,
};
pub use urls::{default_client_urls, MemberUrls};

//! # pki-cluster
//!
//! The cluster operations of etcd-pki as a library, for any Rust tool that grows, shrinks or
//! rotates an etcd cluster: membership with the certificate checks etcdctl lacks, the
//! pre-flight check before a member is added, scale-out and scale-in as resumable operations
//! with progress events, probes of the certificates members actually serve, snapshots and
//! leader transfer. Built on [`pki_core`] (which judges certificates as Go and etcd do) and the
//! `etcd-client` crate.
//!
//! Nothing here prints, parses command lines or exits: results are typed reports of
//! [`pki_core::Finding`]s, and failures a typed [`Error`] where each refusal etcd returns is a
//! variant of its own ([`Refusal`]). The membership rules ([`rules`]) and the node files
//! ([`node_files`]) are pure functions, usable without an async runtime.
//!
//! Every operation that asks several members gives all its waits one deadline (dial plus
//! command timeout), so a member that hangs costs it once.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![deny(rustdoc::broken_intra_doc_links)]

mod connection;
mod error;
mod leader;
mod member_certificates;
mod membership;
pub mod node_files;
mod preflight;
mod probe;
pub mod rules;
mod scale_in;
mod scale_out;
mod snapshot;
mod state;
mod urls;

pub use connection::{ConnectOptions, Connection, Deadline, STAGGER};
pub use error::{Error, Refusal, Result};
pub use leader::{move_leadership, successor};
pub use member_certificates::{check_new_member_certificates, NewMemberFiles};
pub use membership::{
    add_member, blocks, parse_id, promote_member, removal_failures, remove_member,
    timed_out_reason, AddOutcome, AddRequest, AddedMember, LearnerState, Promotion, RemoveOutcome,
    LEARNER_SETTLE, SETTLE,
};
pub use node_files::NodeSettings;
pub use preflight::{preflight, PreflightReport, PreflightRequest};
pub use probe::{probe, Identity, PeerProbe, ProbeRefusal};
pub use scale_in::{scale_in, ScaleInEvent, ScaleInOutcome, ScaleInRequest};
pub use scale_out::{
    only_coverage_failures, scale_out, ScaleOutEvent, ScaleOutOutcome, ScaleOutRequest, StartHook,
    StartWatch,
};
pub use snapshot::{save_snapshot, SavedSnapshot};
pub use state::{
    client_endpoint, health_all, health_until, member_list, member_list_until, status, status_all,
    status_until, ClusterState, EndpointStatus, Health, MemberInfo, MemberList, MemberStatus,
};
pub use urls::{default_client_urls, MemberUrls};

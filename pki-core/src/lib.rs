//! # pki-core
//!
//! Read, inspect and verify the TLS certificates of an etcd cluster exactly as etcd, through Go's
//! `crypto/x509`, judges them, so that a certificate that would break a member is caught before
//! the member is added.
//!
//! The classic failure this exists for: the cluster's certificates list the old members' IPs in
//! their SANs, `etcdctl member add` succeeds for a new node, the node cannot join (`x509:
//! certificate is valid for 10.0.11.36, 10.0.12.21, 10.0.13.126, not 10.0.12.157`), and the
//! cluster is left with a dead voting member.
//!
//! No network, no async runtime: any tool can embed this crate.
//!
//! # Examples
//!
//! Does the seed runbook's shared peer certificate cover a new member at 127.0.0.14?
//!
//! ```
//! use pki_core::{covers, load_certificates, Host};
//! # let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
//! let certs = load_certificates(&fixtures.join("cfssl/members.pem"))?;
//! let new_member = Host::parse("https://127.0.0.14:2380")?;
//! let coverage = covers(&certs[0], &new_member);
//! assert!(!coverage.is_covered());
//! assert!(covers(&certs[0], &Host::parse("127.0.0.12")?).is_covered());
//! # Ok::<(), pki_core::Error>(())
//! ```
//!
//! Verify a chain and usages the way an etcd peer listener does:
//!
//! ```
//! use pki_core::{load_certificates, verify, CertPool, Usage, VerifyOptions};
//! # let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
//! let leaf = load_certificates(&fixtures.join("cfssl/members.pem"))?.remove(0);
//! let roots: CertPool = load_certificates(&fixtures.join("cfssl/ca.pem"))?.into_iter().collect();
//! let opts = VerifyOptions::new().usage(Usage::ClientAuth);
//! let no_intermediates = CertPool::new();
//! let chains = verify(&leaf, &no_intermediates, &roots, &opts).expect("chains to the cfssl CA");
//! assert_eq!(chains[0].anchor().common_name(), Some("etcd-ca"));
//! # Ok::<(), pki_core::Error>(())
//! ```
//!
//! # Modules by responsibility
//! - loading ([`load_certificates`], [`load_private_key`]): PEM and DER; PKCS#1, PKCS#8, SEC1;
//! - [`Certificate`]: the parsed certificate and its [`Summary`];
//! - coverage ([`covers`]): Go's `VerifyHostname`;
//! - verification ([`verify`]): Go's chain building, with [`CertPool`];
//! - usage ([`Role`], [`Usage`]): what etcd needs of peer, server and client certificates;
//! - [`check()`]: all of the above for one certificate, as findings;
//! - [`scan()`]: every certificate under directory trees, with issuer and problems.
//!
//! The modules themselves are private (what they offer is re-exported here) and layered: each
//! imports only from layers below its own, so that they form a DAG. From the top:
//!
//! | Layer | Modules |
//! |---|---|
//! | 9. whole jobs | `init` (a new PKI), `renew` (due leaves under trees), `scan` |
//! | 8. one certificate | `check` (its findings), `reissue`, `issuer_match` (its CA in a scan) |
//! | 7. chains, CAs, SANs | `verify` (Go's chain building), `ca`, `san` (a reissue's SANs) |
//! | 6. reading, checking | `load`, `signature`, `usage` (Go's EKU rules), `name_constraints` |
//! | 6. hosts, summaries | `coverage` (Go's `VerifyHostname`), `summary` (`inspect`'s) |
//! | 5. the certificate | `cert` (parsed, and refused where Go's `ParseCertificate` refuses) |
//! | 4. keys, writes, walks | `key`, `write` (journaled), `walk` (the directory walk of a scan) |
//! | 3. PEM, hosts, journal | `pem` (framing, encoding), `host`, `journal` (unfinished writes) |
//! | 2. errors and paths | `error`, `files` (what a path is; these two still import each other) |
//! | 1. vocabulary | `ext_key_usage`, `signature_algorithm` (Go's names), `dns_name` (syntax) |
//! | 1. text and DER | `time_fmt`, `path_text`, `tbs` (DER of a rebuilt certificate) |
//!
//! A unit test (`module_graph`) reads the imports from the sources and fails on a new cycle.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![deny(rustdoc::broken_intra_doc_links)]

mod ca;
mod cert;
mod check;
mod coverage;
mod dns_name;
mod error;
mod ext_key_usage;
mod files;
mod finding;
mod host;
mod init;
mod issuer_match;
mod journal;
mod key;
mod load;
#[cfg(test)]
mod module_graph;
mod name_constraints;
mod path_text;
mod pem;
mod reissue;
mod renew;
mod san;
mod scan;
mod signature;
mod signature_algorithm;
mod summary;
mod tbs;
#[cfg(test)]
mod test_support;
mod time_fmt;
mod usage;
mod verify;
mod walk;
pub mod write;

pub use ca::CertificateAuthority;
pub use cert::{BasicConstraints, Certificate, SubjectAltNames};
pub use check::{check, CheckInput, EtcdFiles, Report, DEFAULT_WARN_WITHIN};
pub use coverage::{covers, ip_equal, Coverage, NotCovered};
pub use dns_name::DnsNameProblem;
pub use error::{Error, Found, MemberProblem, RequestProblem, Result};
pub use ext_key_usage::ExtKeyUsage;
pub use files::{refuse_outputs_over_inputs, same_file, FileKind, NamedInput};
pub use finding::{worst, CheckId, Finding, Remedy, Status, Subject};
pub use host::{Host, HostUrl};
pub use init::{init, InitRequest, Layout, Member, PkiFile};
pub use journal::{
    interrupted_writes, is_transient, recover, InterruptedWrite, Recovered, RecoveryOutcome,
    RecoveryReport,
};
pub use key::{Curve, KeyAlgorithm, KeyFormat, PrivateKey};
pub use load::{
    certificates_from_bytes, etcd_file_problem, load_bytes, load_certificates, load_file,
    load_private_key, private_key_from_bytes, read_file, EtcdFile, EtcdFileProblem, Loaded,
    MAX_FILE_SIZE,
};
pub use path_text::{display_path, serde_path};
pub use pem::encode as pem_encode;
pub use reissue::{key_pem, plan, reissue, KeyChange, Plan, ReissueRequest, Reissued, BACKDATE};
pub use renew::{reissue_writes, renew, RenewItem, RenewOptions, RenewOutcome, RenewReport};
pub use scan::{
    key_candidates, scan, Issuer, Problem, ScanOptions, ScanReport, ScannedCertificate,
};
pub use signature::SignatureError;
pub use signature_algorithm::SignatureAlgorithm;
pub use summary::{PublicKeySummary, Summary};
pub use time_fmt::{rfc3339, serde_time, short_duration};
pub use usage::{chain_permits, permits, Role, Usage};
pub use verify::{find_issuer, verify, CertPool, Chain, VerifyError, VerifyOptions};
pub use walk::{is_backup, Skipped};

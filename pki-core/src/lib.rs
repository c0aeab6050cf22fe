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
//! Does the seed runbook's shared peer certificate `members.pem` cover a new member at
//! 127.0.0.14, as a peer certificate that chains to `ca.pem`?
//!
//! ```
//! # std::env::set_current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cfssl")).unwrap();
//! use pki_core::{CertificateCheck, Role};
//! let report = CertificateCheck::new("members.pem").ca_file("ca.pem").role(Role::Peer)
//!     .host("127.0.0.14".parse()?).run()?;
//! assert!(report.failed()); // the coverage finding says why, and what to add
//! # Ok::<(), pki_core::Error>(())
//! ```
//!
//! Then the fix: reissue `members.pem` from `ca.pem`/`ca-key.pem` adding 127.0.0.14, in place,
//! atomically, with a backup of the old file (`members.pem.bak.<timestamp>`):
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cfssl");
//! # for f in ["ca.pem", "ca-key.pem", "members.pem", "members-key.pem"] { std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap(); }
//! # std::env::set_current_dir(dir.path()).unwrap();
//! use pki_core::{reissue_file, CertificateAuthority, CertificateCheck, ReissueRequest, Role};
//! let ca = CertificateAuthority::open("ca.pem", "ca-key.pem")?;
//! let req = ReissueRequest::new().add_ip("127.0.0.14".parse().unwrap());
//! let done = reissue_file("members.pem", Some("members-key.pem"), &ca, &req)?;
//! assert_eq!(done.plan.added, ["IP:127.0.0.14"]);
//! # let report = CertificateCheck::new("members.pem").key_file("members-key.pem").ca_file("ca.pem")
//! #     .role(Role::Peer).host("127.0.0.14".parse()?).run()?;
//! # assert!(!report.failed(), "{report:?}");
//! # assert_eq!(done.written.backups.len(), 1);
//! # Ok::<(), pki_core::Error>(())
//! ```
//!
//! One layer down: verify a chain and usages the way an etcd peer listener does:
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
//! - coverage ([`covers`], [`covers_with`] and its [`GoRules`]): Go's `VerifyHostname`;
//! - etcd's listener-side check of a client certificate's SANs ([`check_cert_san`]);
//! - verification ([`verify`]): Go's chain building, with [`CertPool`];
//! - usage ([`Role`], [`Usage`]): what etcd needs of peer, server and client certificates;
//! - [`check()`]: all of the above for one certificate, as findings ([`CertificateCheck`] on
//!   files);
//! - reissuing ([`reissue()`], [`reissue_file`] in place, [`CertificateAuthority`]);
//! - a new member's certificates after an existing member's ([`issue_member`], [`write_member`]);
//! - [`scan()`]: every certificate under directory trees, with issuer and problems
//!   ([`scan_each`] hands the rows over one by one, in bounded memory);
//! - a CA rotation's pieces: a successor CA ([`new_ca`]), probe client certificates
//!   ([`probe_certificate`]), a directory's trust bundles, leaves and CA keys ([`PkiDir`]), and
//!   what a bundle holds after each phase ([`rebundle`]); leaves move to the new CA with
//!   [`ReissueRequest::issued_by`].
//!
//! The modules themselves are private (what they offer is re-exported here) and layered: each
//! imports only from layers below its own, so that they form a DAG. From the top:
//!
//! | Layer | Modules |
//! |---|---|
//! | 10. whole jobs | `init` (a new PKI), `renew` (due leaves under trees; a file in place), `scan_stream` (a scan's two passes, rows streamed), `issue` (a new member's files after another's), `new_ca` (a successor CA, probe certificates) |
//! | 9. a new member's, a scan's rows | `issue_leaf` (one certificate after the template's), `issue_plan` (the request and what it would do), `scan` (what a scan reports, one certificate's row) |
//! | 8. one certificate | `check` (its findings, from files too), `reissue`, `issuer_match` (its CA in a scan), `member_siblings` (what all members' certificates share), `pki_dir` (a directory's trust bundles, leaves and CA keys) |
//! | 7. chains, CAs, SANs | `verify` (Go's chain building), `ca`, `san` (a reissue's SANs), `crl` (revocation lists as etcd reads them), `member_template` (a member's directory, by content), `scan_file` (one file as a scan reads it) |
//! | 6. reading, checking | `load`, `signature`, `usage` (Go's EKU rules), `name_constraints` |
//! | 6. hosts, summaries | `coverage` (Go's `VerifyHostname`), `listener_san` (etcd's `checkCertSAN`), `summary` (`inspect`'s), `name_fields` (monitoring labels) |
//! | 5. the certificate | `cert` (parsed, and refused where Go's `ParseCertificate` refuses) |
//! | 4. keys, writes, walks | `key`, `write` (journaled), `generated_file` (metrics files, replaced whole), `walk` (the directory walk of a scan) |
//! | 3. PEM, hosts, journal | `pem` (framing, encoding), `host`, `go_url` (Go's `url.Parse`), `go_ip` (Go's `net.ParseIP`, per Go), `go_names` (Go's DNS labels, mailboxes, constraint syntax), `journal` (unfinished writes) |
//! | 2. errors and paths | `error`, `files` (what a path is; these two still import each other) |
//! | 1. vocabulary | `ext_key_usage`, `signature_algorithm` (Go's names), `dns_name` (syntax), `go_rules` (which Go's rules), `go_fmt` (Go's `%q` and `fmt` quirks) |
//! | 1. text and DER | `time_fmt`, `path_text`, `tbs` (DER of a rebuilt certificate), `subject` (a Name with values replaced) |
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
mod crl;
mod dns_name;
mod error;
mod ext_key_usage;
mod files;
mod finding;
mod generated_file;
mod go_fmt;
mod go_ip;
mod go_names;
mod go_rules;
mod go_url;
mod host;
mod init;
mod issue;
mod issue_leaf;
mod issue_plan;
mod issuer_match;
mod journal;
mod key;
mod listener_san;
mod load;
mod member_siblings;
mod member_template;
#[cfg(test)]
mod module_graph;
mod name_constraints;
mod name_fields;
mod new_ca;
mod path_text;
mod pem;
mod pki_dir;
mod reissue;
mod renew;
mod san;
mod scan;
mod scan_file;
mod scan_stream;
mod signature;
mod signature_algorithm;
mod subject;
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
pub use check::{check, CertificateCheck, CheckInput, EtcdFiles, Report, DEFAULT_WARN_WITHIN};
pub use coverage::{covers, covers_with, ip_equal, Coverage, NotCovered};
pub use crl::{Crl, CrlIssuerProblem, CrlProblem};
pub use dns_name::DnsNameProblem;
pub use error::{Error, Found, MemberProblem, RequestProblem, Result, SharedCertificate};
pub use ext_key_usage::ExtKeyUsage;
pub use files::{refuse_outputs_over_inputs, same_file, FileKind, NamedInput};
pub use finding::{worst, CheckId, Finding, Remedy, Status, Subject};
pub use generated_file::GeneratedFile;
pub use go_fmt::go_quote;
pub use go_rules::GoRules;
pub use go_url::{parse_go_url, GoUrl, GoUrlError};
pub use host::{Host, HostUrl};
pub use init::{init, InitRequest, Layout, Member, PkiFile};
pub use issue::{
    check_output_dir, check_output_outside, issue_member, plan_issue, write_member, IssuePlan,
    IssueRequest, IssuedMember, NameSource, PlannedCertificate, PlannedContent, PlannedFile,
    SkippedFile,
};
pub use journal::{
    interrupted_writes, is_transient, recover, InterruptedWrite, Recovered, RecoveryOutcome,
    RecoveryReport,
};
pub use key::{Curve, KeyAlgorithm, KeyFormat, PrivateKey};
pub use listener_san::{check_cert_san, PeerResolver};
pub use load::{
    certificates_from_bytes, etcd_file_problem, load_bytes, load_certificates, load_file,
    load_private_key, private_key_from_bytes, read_file, EtcdFile, EtcdFileProblem, Loaded,
    MAX_FILE_SIZE,
};
pub use member_template::{member_files, CertAndKey, Encoding, MemberFiles};
pub use name_fields::NameFields;
pub use new_ca::{new_ca, probe_certificate, NewCa};
pub use path_text::{display_path, serde_path};
pub use pem::encode as pem_encode;
pub use pki_dir::{bundle_pem, rebundle, LeafFile, PkiDir, TrustFile};
pub use reissue::{key_pem, plan, reissue, KeyChange, Plan, ReissueRequest, Reissued, BACKDATE};
pub use renew::{
    reissue_file, reissue_writes, renew, CertificateFile, ReissuedFile, RenewItem, RenewOptions,
    RenewOutcome, RenewReport,
};
pub use scan::{Issuer, Problem, ScanOptions, ScanReport, ScanTail, ScannedCertificate};
pub use scan_file::key_candidates;
pub use scan_stream::{scan, scan_each};
pub use signature::SignatureError;
pub use signature_algorithm::SignatureAlgorithm;
pub use summary::{PublicKeySummary, Summary};
pub use time_fmt::{rfc3339, serde_time, short_duration};
pub use usage::{chain_permits, permits, Role, Usage};
pub use verify::{find_issuer, verify, CertPool, Chain, VerifyError, VerifyOptions};
pub use walk::{is_backup, Skipped};

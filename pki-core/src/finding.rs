//! The one vocabulary of check results, shared by the certificate checks of this crate and the
//! cluster checks of `pki-cluster`: which check ([`CheckId`]), about what ([`Subject`]),
//! PASS / WARN / FAIL ([`Status`]), the evidence in words, and what fixes it as a structured
//! [`Remedy`].
//!
//! Messages describe what was found and never name a command-line flag or command: turning a
//! remedy into something to type is a front end's job (the `etcd-pki` binary prints the exact
//! command with the invocation's own file names; an operator embedding this crate may act on
//! the remedy directly).

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;

use crate::coverage::go_ip_string;
use crate::usage::Usage;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The check passed.
    Pass,
    /// Not a failure, but worth a look (expiring soon, something not checked).
    Warn,
    /// It will not work as asked.
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

/// Which check a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckId {
    /// The private key matches the certificate.
    KeyPair,
    /// The validity period, now and within the expiry window.
    Validity,
    /// The chain to the CA bundle.
    Chain,
    /// The extended key usages the role needs.
    Usage,
    /// SAN coverage of a host.
    Coverage,
    /// Whether etcd can read the files as they are (PEM, no stray blocks in a CA file).
    Format,
    /// Whether there is a certificate to check at all (and whether one is needed).
    CertificateGiven,
    /// An interrupted write beside the files, which may leave a certificate and its key apart.
    UnfinishedWrite,
    /// Quorum and fault tolerance of the cluster as it is.
    QuorumNow,
    /// Every member has started (an added member that never started still counts).
    MembersStarted,
    /// Every started member answers a health check.
    MembersHealthy,
    /// Fault tolerance once the change is made.
    FaultTolerance,
    /// The number of learners etcd accepts.
    LearnerLimit,
    /// No member has the new member's name.
    NameUnused,
    /// No member has the new member's peer URL.
    PeerUrlUnused,
    /// The new member's peer URLs use the cluster's scheme (http or https).
    Scheme,
    /// The certificate a member serves on its peer port.
    ServedCertificate,
    /// A live TLS handshake with the new member's peer certificate.
    Handshake,
    /// Quorum once a member is removed.
    QuorumAfterRemoval,
    /// The member to remove is not the leader.
    NotTheLeader,
    /// The new member's certificate is its own, not another member's.
    Owner,
}

impl CheckId {
    /// Whether the check is about certificates (rather than the cluster's state): what an
    /// operator may choose to override when adding a member anyway.
    pub fn is_certificate_check(self) -> bool {
        matches!(
            self,
            CheckId::KeyPair
                | CheckId::Validity
                | CheckId::Chain
                | CheckId::Usage
                | CheckId::Coverage
                | CheckId::Format
                | CheckId::CertificateGiven
                | CheckId::Owner
        )
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckId::KeyPair => "key-pair",
            CheckId::Validity => "validity",
            CheckId::Chain => "chain",
            CheckId::Usage => "usage",
            CheckId::Coverage => "coverage",
            CheckId::Format => "format",
            CheckId::CertificateGiven => "certificate",
            CheckId::UnfinishedWrite => "unfinished write",
            CheckId::QuorumNow => "quorum now",
            CheckId::MembersStarted => "members started",
            CheckId::MembersHealthy => "members healthy",
            CheckId::FaultTolerance => "fault tolerance",
            CheckId::LearnerLimit => "learner limit",
            CheckId::NameUnused => "name unused",
            CheckId::PeerUrlUnused => "peer URL unused",
            CheckId::Scheme => "scheme",
            CheckId::ServedCertificate => "serves",
            CheckId::Handshake => "handshake",
            CheckId::QuorumAfterRemoval => "quorum after removal",
            CheckId::NotTheLeader => "not the leader",
            CheckId::Owner => "owner",
        })
    }
}

/// What a finding is about, where a check runs on several things.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Subject {
    /// The peer certificate a (new) member will use.
    PeerCertificate,
    /// The server certificate a (new) member will serve clients with.
    ServerCertificate,
    /// A member of the cluster, by name.
    Member(String),
}

/// What fixes a failure (or clears a warning), as data: a front end says it in its own words or
/// turns it into the exact command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Remedy {
    /// Reissue the certificate from its CA, adding these SANs and keeping everything else.
    Reissue {
        /// IP SANs to add.
        add_ips: Vec<IpAddr>,
        /// DNS SANs to add.
        add_dns: Vec<String>,
    },
    /// Renew the certificate from its CA (same SANs, new validity).
    Renew,
    /// Issue a new certificate whose extended key usage includes these.
    IssueWithUsages {
        /// The usages the role needs.
        usages: Vec<Usage>,
    },
    /// Use the key file that was generated with the certificate.
    UseMatchingKey,
    /// Check the clocks of the CA host and of this host (NTP).
    FixClocks,
    /// Use a certificate issued by the cluster's CA, or the CA that issued this one.
    UseClusterCa,
    /// Give the cluster's CA certificate, so that the chain can be checked.
    GiveCa,
    /// Give the member's URL or host, so that coverage can be checked.
    GiveHost,
    /// Give etcd the file in the form it reads (PEM; only certificates in a CA file).
    FixFileFormat,
    /// Give the certificate the new member will use.
    GivePeerCertificate,
    /// Give the new member's peer key too, so that a live handshake can be tried.
    GivePeerKey,
    /// Give the certificate the new member will serve these client URLs with.
    GiveServerCertificate {
        /// The client URLs.
        client_urls: Vec<String>,
    },
    /// Finish or undo the interrupted write in this directory.
    Recover {
        /// The directory.
        dir: PathBuf,
    },
    /// Wait until the write running there has finished, then check again.
    WaitForWrite,
    /// Start the member that was added but never started (with the initial cluster state
    /// `existing`), or remove it.
    StartOrRemoveMember {
        /// Its ID.
        id: u64,
    },
    /// Bring the member back (its health shows why it is down) or remove it.
    RepairOrRemoveMember {
        /// Its name.
        name: String,
    },
    /// Retry in a few seconds: an election is in progress (or quorum is lost, if it lasts).
    RetryLater,
    /// Add the new member as a learner, start it, then promote it.
    AddAsLearner,
    /// Promote the learner once it has caught up, or remove it.
    PromoteOrRemoveLearner {
        /// Its ID.
        id: u64,
    },
    /// Promote the learner once it has caught up, or let etcd accept one more learner.
    PromoteLearnerOrRaiseLimit {
        /// Its ID.
        id: u64,
        /// How many learners would be needed.
        learners: usize,
    },
    /// Choose another name, or remove the old member if it is being replaced.
    ChooseAnotherName,
    /// Remove the member that holds the peer URL, if it is a failed earlier add.
    RemoveStaleMember {
        /// Its ID.
        id: u64,
    },
    /// Use the scheme the cluster's peers use.
    UseClusterScheme,
    /// Make the member serve a peer certificate from the cluster CA that covers its host.
    FixServedCertificate {
        /// The member.
        member: String,
        /// Its advertised peer host.
        host: String,
    },
    /// Check that the member runs and that its peer URL is reachable from here.
    CheckMemberReachable {
        /// The member.
        member: String,
    },
    /// Fix the new member's peer certificate (a certificate check shows why it was refused).
    FixPeerCertificate,
    /// Start or repair the unhealthy members first.
    RepairMembersFirst,
    /// Add and promote another member first (or decommission the cluster).
    AddMemberFirst,
    /// Move leadership to another member first (or remove it anyway).
    MoveLeadershipFirst,
    /// Issue the new member certificates of its own, modelled on an existing member's (the
    /// directory of the certificate that names another member, when known).
    IssueOwnCertificates {
        /// The new member's name.
        name: String,
        /// Its IP addresses.
        ips: Vec<IpAddr>,
        /// Its DNS names.
        dns: Vec<String>,
        /// An existing member's certificate directory to model them on.
        like: Option<PathBuf>,
    },
    /// Anything else, in words.
    Advice {
        /// What to do.
        text: String,
    },
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::Reissue { add_ips, add_dns } => {
                let names: Vec<String> = add_ips
                    .iter()
                    .map(go_ip_string)
                    .chain(add_dns.iter().cloned())
                    .collect();
                write!(
                    f,
                    "reissue the certificate from its CA with {} added to its SANs",
                    names.join(", ")
                )
            }
            Remedy::Renew => f.write_str("renew the certificate from its CA"),
            Remedy::IssueWithUsages { usages } => write!(
                f,
                "issue a new certificate whose extended key usage includes {}",
                usages
                    .iter()
                    .map(Usage::to_string)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            Remedy::UseMatchingKey => {
                f.write_str("use the key file generated together with this certificate")
            }
            Remedy::FixClocks => {
                f.write_str("check the clocks of the CA host and of this host (NTP)")
            }
            Remedy::UseClusterCa => f.write_str(
                "use a certificate issued by the cluster's CA, or the CA file that issued this one",
            ),
            Remedy::GiveCa => f.write_str("give the cluster's CA certificate to check the chain"),
            Remedy::GiveHost => f.write_str("give the member's URL or host to check coverage"),
            Remedy::FixFileFormat => f.write_str(
                "give etcd the file in the form it reads (PEM, certificates only in a CA file)",
            ),
            Remedy::GivePeerCertificate => {
                f.write_str("give the certificate the new member will use")
            }
            Remedy::GivePeerKey => f.write_str(
                "give the new member's peer key to test the certificate against the running members",
            ),
            Remedy::GiveServerCertificate { client_urls } => write!(
                f,
                "give the certificate the new member will serve {} with",
                client_urls.join(", ")
            ),
            Remedy::Recover { dir } => write!(
                f,
                "finish or undo the interrupted write in {}",
                crate::path_text::display_path(dir)
            ),
            Remedy::WaitForWrite => {
                f.write_str("wait until the running write has finished, then check again")
            }
            Remedy::StartOrRemoveMember { id } => write!(
                f,
                "start member {id:x} with the initial cluster state existing, or remove it"
            ),
            Remedy::RepairOrRemoveMember { name } => write!(
                f,
                "bring {name} back (its health shows why it is down) or remove it first"
            ),
            Remedy::RetryLater => f.write_str(
                "retry in a few seconds; if it persists, quorum is lost and no member can be added before it is back",
            ),
            Remedy::AddAsLearner => {
                f.write_str("add it as a learner, start it, then promote it once it has caught up")
            }
            Remedy::PromoteOrRemoveLearner { id } => write!(
                f,
                "promote learner {id:x} once it has caught up, or remove it"
            ),
            Remedy::PromoteLearnerOrRaiseLimit { id, learners } => write!(
                f,
                "promote learner {id:x} once it has caught up, or make sure etcd's learner limit allows {learners}"
            ),
            Remedy::ChooseAnotherName => f.write_str(
                "choose another name, or remove the old member first if it is being replaced",
            ),
            Remedy::RemoveStaleMember { id } => write!(
                f,
                "if member {id:x} is a failed earlier add, remove it first"
            ),
            Remedy::UseClusterScheme => f.write_str(
                "use the cluster's scheme: a member cannot join over http a cluster whose peers talk https, nor the other way round",
            ),
            Remedy::FixServedCertificate { member, host } => write!(
                f,
                "give {member} a peer certificate from the cluster CA that covers {host} (etcd reads the files on every handshake; no restart needed)"
            ),
            Remedy::CheckMemberReachable { member } => write!(
                f,
                "check that {member} runs and answers, and that its peer URL is reachable from here"
            ),
            Remedy::FixPeerCertificate => f.write_str(
                "the new member would be refused the same way: fix its peer certificate (a peer certificate check shows why)",
            ),
            Remedy::RepairMembersFirst => {
                f.write_str("start or repair the unhealthy members first, then remove")
            }
            Remedy::AddMemberFirst => f.write_str(
                "add and promote another member first, or take a snapshot and decommission the cluster",
            ),
            Remedy::MoveLeadershipFirst => {
                f.write_str("move leadership to another member first, or remove it anyway")
            }
            Remedy::IssueOwnCertificates {
                name, ips, dns, like,
            } => {
                let hosts: Vec<String> = ips
                    .iter()
                    .map(go_ip_string)
                    .chain(dns.iter().cloned())
                    .collect();
                write!(
                    f,
                    "issue {name} certificates of its own from the cluster CA, covering {}, modelled on {}",
                    hosts.join(", "),
                    like.as_deref().map_or_else(
                        || "an existing member's".to_string(),
                        |d| format!("the member's in {}", crate::path_text::display_path(d))
                    )
                )
            }
            Remedy::Advice { text } => f.write_str(text),
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// Which check.
    pub check: CheckId,
    /// What it is about, where a check runs on several things (absent from JSON when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// PASS, WARN or FAIL.
    pub status: Status,
    /// What it is about within the subject (a host, a usage), when there are several of a kind.
    pub target: Option<String>,
    /// What was found.
    pub message: String,
    /// How to fix it, for WARN and FAIL.
    pub remedy: Option<Remedy>,
}

impl Finding {
    /// A finding of `status`.
    pub fn new(check: CheckId, status: Status, message: impl Into<String>) -> Finding {
        Finding {
            check,
            subject: None,
            status,
            target: None,
            message: message.into(),
            remedy: None,
        }
    }

    /// A passed check.
    pub fn pass(check: CheckId, message: impl Into<String>) -> Finding {
        Finding::new(check, Status::Pass, message)
    }

    /// A warning.
    pub fn warn(check: CheckId, message: impl Into<String>) -> Finding {
        Finding::new(check, Status::Warn, message)
    }

    /// A failed check.
    pub fn fail(check: CheckId, message: impl Into<String>) -> Finding {
        Finding::new(check, Status::Fail, message)
    }

    /// What the finding is about.
    #[must_use]
    pub fn about(mut self, subject: Subject) -> Finding {
        self.subject = Some(subject);
        self
    }

    /// The host or usage within the subject.
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Finding {
        self.target = Some(target.into());
        self
    }

    /// What fixes it.
    #[must_use]
    pub fn remedy(mut self, remedy: Remedy) -> Finding {
        self.remedy = Some(remedy);
        self
    }

    /// [`Finding::remedy`], when there is one.
    #[must_use]
    pub fn remedy_opt(mut self, remedy: Option<Remedy>) -> Finding {
        self.remedy = remedy;
        self
    }
}

/// The worst status of some findings (PASS when there are none).
pub fn worst(findings: &[Finding]) -> Status {
    findings
        .iter()
        .map(|f| f.status)
        .max()
        .unwrap_or(Status::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_serialize_as_the_check_json_documents() {
        let f = Finding::fail(CheckId::Coverage, "does not cover 127.0.0.14")
            .target("127.0.0.14")
            .remedy(Remedy::Reissue {
                add_ips: vec!["127.0.0.14".parse().unwrap()],
                add_dns: vec![],
            });
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "check": "coverage",
                "status": "FAIL",
                "target": "127.0.0.14",
                "message": "does not cover 127.0.0.14",
                "remedy": {"action": "reissue", "add_ips": ["127.0.0.14"], "add_dns": []}
            })
        );
        let about = serde_json::to_value(
            Finding::pass(CheckId::ServedCertificate, "ok").about(Subject::Member("infra0".into())),
        )
        .unwrap();
        assert_eq!(
            about["subject"],
            serde_json::json!({"kind": "member", "name": "infra0"})
        );
        assert_eq!(worst(&[]), Status::Pass);
        assert_eq!(
            worst(&[
                Finding::warn(CheckId::Chain, "x"),
                Finding::pass(CheckId::Chain, "y")
            ]),
            Status::Warn
        );
    }

    #[test]
    fn remedies_name_no_command_line_flag() {
        let all = [
            Remedy::GiveCa,
            Remedy::GiveHost,
            Remedy::GivePeerKey,
            Remedy::AddAsLearner,
            Remedy::PromoteOrRemoveLearner { id: 1 },
            Remedy::MoveLeadershipFirst,
            Remedy::Recover { dir: "/x".into() },
        ];
        for r in all {
            let text = r.to_string();
            assert!(!text.contains("--") && !text.contains("etcd-pki"), "{text}");
        }
    }
}

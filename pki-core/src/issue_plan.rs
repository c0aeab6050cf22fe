//! What to issue for a new member, and what issuing would do, as plain data: each new file with the
//! template file it comes from, subjects, SANs, usages, keys, validity, what is not carried over,
//! and which files etcd would use for what. Serialized as `etcd-pki issue -w json` prints it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::member_template::{Encoding, MemberFiles};

/// What to issue: [`IssueRequest::new`] and the methods below.
///
/// ```
/// use pki_core::IssueRequest;
/// let req = IssueRequest::new("n3", "pki/n0").ip("10.0.12.157".parse().unwrap()).dns("n3.example.com");
/// assert_eq!(req.ips.len(), 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssueRequest {
    /// The new member's name (its etcd `--name`).
    pub name: String,
    /// Its IP addresses.
    pub ips: Vec<IpAddr>,
    /// Its DNS names.
    pub dns: Vec<String>,
    /// The directory of the member to model it on.
    pub like: PathBuf,
    /// That member's name, when it cannot be told from its certificates and directory.
    pub like_name: Option<String>,
    /// Validity in days instead of each template certificate's lifetime.
    pub days: Option<u32>,
    /// The instant validity starts from (before backdating).
    pub at: OffsetDateTime,
}

impl IssueRequest {
    /// Certificates for member `name` modelled on the member whose files are in `like`, from
    /// now; give its addresses with [`IssueRequest::ip`].
    pub fn new(name: impl Into<String>, like: impl AsRef<Path>) -> IssueRequest {
        IssueRequest {
            name: name.into(),
            ips: Vec::new(),
            dns: Vec::new(),
            like: like.as_ref().to_path_buf(),
            like_name: None,
            days: None,
            at: OffsetDateTime::now_utc(),
        }
    }

    /// Adds an IP address of the new member.
    pub fn ip(mut self, ip: IpAddr) -> IssueRequest {
        self.ips.push(ip);
        self
    }

    /// Adds a DNS name of the new member.
    pub fn dns(mut self, name: impl Into<String>) -> IssueRequest {
        self.dns.push(name.into());
        self
    }

    /// The template member's name, when its certificates and directory do not tell it.
    pub fn like_name(mut self, name: impl Into<String>) -> IssueRequest {
        self.like_name = Some(name.into());
        self
    }

    /// Validity in days instead of the template certificates' lifetimes.
    pub fn days(mut self, days: u32) -> IssueRequest {
        self.days = Some(days);
        self
    }

    /// The instant validity starts from (before backdating) instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> IssueRequest {
        self.at = at;
        self
    }
}

/// How the template member's name was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NameSource {
    /// It was given.
    Given,
    /// The template directory is named after it, and its certificates name it.
    DirectoryName,
    /// The common name of its server or peer certificate, which is also one of its DNS names
    /// or differs from the siblings'.
    CommonName,
}

/// What [`crate::issue_member`] would issue.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct IssuePlan {
    /// The new member's name.
    pub name: String,
    /// The template directory.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub template: PathBuf,
    /// The template member's name, when found: replaced by the new member's.
    pub template_member: Option<String>,
    /// How it was found.
    pub template_member_source: Option<NameSource>,
    /// The sibling members' directories whose certificates told which SANs every member has.
    #[serde(serialize_with = "crate::path_text::serde_path::paths")]
    pub siblings: Vec<PathBuf>,
    /// The signing CA's subject.
    pub ca: String,
    /// The files, in the template's order.
    pub files: Vec<PlannedFile>,
    /// Template files that are not carried over, and why.
    pub skipped: Vec<SkippedFile>,
    /// Which files the new member's etcd uses for what, as far as their content tells.
    pub roles: MemberFiles,
    /// Things to know (a name dropped, a bundle without the CA, ...).
    pub notes: Vec<String>,
}

/// One file of the new member.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlannedFile {
    /// Its path, relative to the output directory.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub path: PathBuf,
    /// The template file it is made after, relative to the template directory.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub from: PathBuf,
    /// What it holds.
    #[serde(flatten)]
    pub content: PlannedContent,
}

/// What a new member's file holds.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlannedContent {
    /// CA certificates, copied as they are.
    CaCertificates {
        /// Their subjects.
        subjects: Vec<String>,
    },
    /// A new certificate (and its key, when the template keeps them in one file).
    Certificate(PlannedCertificate),
    /// A new private key.
    Key {
        /// Its algorithm and size.
        algorithm: String,
        /// Its format: `PKCS#1`, `SEC1` or `PKCS#8`.
        format: String,
        /// PEM or DER.
        encoding: Encoding,
        /// The certificates it belongs to, relative to the output directory.
        #[serde(serialize_with = "crate::path_text::serde_path::paths")]
        certificates: Vec<PathBuf>,
    },
}

/// A new certificate, as planned.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlannedCertificate {
    /// Its subject.
    pub subject: String,
    /// The template's subject.
    pub template_subject: String,
    /// Its SANs, `IP:`/`DNS:` prefixed, in order.
    pub sans: Vec<String>,
    /// The template's SANs that are not in it (the template member's own).
    pub replaced: Vec<String>,
    /// Its usages in words (`server and client auth`).
    pub usages: String,
    /// Key usage names.
    pub key_usage: Vec<&'static str>,
    /// Extended key usage names (empty: none, which Go takes as any).
    pub ext_key_usage: Vec<String>,
    /// Its key's algorithm and size.
    pub key: String,
    /// Whether the key is in the same file.
    pub key_in_file: bool,
    /// The key file, relative to the output directory.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub key_file: PathBuf,
    /// How many certificates of the template's chain follow it in the file.
    pub chain: usize,
    /// Validity start (backdated).
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_before: OffsetDateTime,
    /// Validity end.
    #[serde(serialize_with = "crate::time_fmt::serde_time::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whether the end was cut to the CA's.
    pub clamped_to_ca: bool,
}

/// A template file that is not carried over.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SkippedFile {
    /// The file, relative to the template directory.
    #[serde(serialize_with = "crate::path_text::serde_path::path")]
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

//! The new certificate for one template certificate: the template member's own SANs replaced
//! by the new member's (the shared ones kept), the template member's name replaced in the
//! subject, the validity length kept within the CA's.

use std::net::IpAddr;
use std::path::PathBuf;

use time::OffsetDateTime;

use crate::ca::CertificateAuthority;
use crate::cert::Certificate;
use crate::coverage::{go_ip_string, ip_equal};
use crate::dns_name::validate_dns;
use crate::error::{Error, RequestProblem, Result};
use crate::host::Host;
use crate::issue_plan::{IssueRequest, PlannedCertificate};
use crate::member_siblings::{dns_shared, ip_shared, is_localhost, is_localhost_ip};
use crate::member_template::{usage_words, DirFile};
use crate::reissue::validity;
use crate::san::{after_template, TemplateName};
use crate::subject::{self, has_token, replace_token};

/// A new certificate, decided and not signed.
pub(crate) struct LeafPlan {
    /// The template file's index.
    pub(crate) file: usize,
    /// The subject (DER Name).
    pub(crate) subject: Vec<u8>,
    /// The subjectAltName value.
    pub(crate) san_value: Option<Vec<u8>>,
    /// The hosts it must cover.
    pub(crate) expected_hosts: Vec<Host>,
    /// Its key's slot.
    pub(crate) slot: usize,
    /// Validity start.
    pub(crate) not_before: OffsetDateTime,
    /// Validity end.
    pub(crate) not_after: OffsetDateTime,
}

/// The new certificate for one template leaf: subject, SANs, validity.
pub(crate) fn plan_leaf(
    ca: &CertificateAuthority,
    req: &IssueRequest,
    file: &DirFile,
    leaf: &Certificate,
    others: &[&Certificate],
    template_member: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<(LeafPlan, PlannedCertificate)> {
    let with_path = |e: Error| e.with_path(&file.path);
    let sans = leaf.sans();
    let own_ips: Vec<IpAddr> = sans
        .ip
        .iter()
        .filter(|ip| !is_localhost_ip(ip) && !ip_shared(ip, others))
        .copied()
        .collect();
    let own_dns: Vec<String> = sans
        .dns
        .iter()
        .filter(|d| !is_localhost(d) && !dns_shared(d, others))
        .cloned()
        .collect();
    let has_own = !own_ips.is_empty() || !own_dns.is_empty();
    // A member's server or peer certificate always covers the new member, even when the
    // template's lists only what every member has (localhost, say).
    let (ips, mut dns) = if has_own || crate::member_siblings::is_member_certificate(leaf) {
        (req.ips.clone(), req.dns.clone())
    } else {
        (Vec::new(), Vec::new())
    };
    // kubeadm lists the node's name as a DNS SAN: the new member's name takes its place.
    let name_san =
        template_member.is_some_and(|t| own_dns.iter().any(|d| d.eq_ignore_ascii_case(t)));
    if name_san {
        if validate_dns(&req.name).is_ok() {
            dns.insert(0, req.name.clone());
        } else {
            notes.push(format!(
                "{}: the template lists its member's name as a DNS SAN; {} is not a DNS name, so the new certificate lists none in its place",
                crate::path_text::display_path(&file.rel),
                req.name
            ));
        }
    }
    let other_kept = |label: &str| {
        if others.is_empty() {
            // Nothing to tell a shared name from the member's own: kept only when the
            // member's name is known and not in it (a SPIFFE ID names its member).
            return template_member.is_some_and(|t| !has_token(label, t));
        }
        others.iter().all(|o| {
            o.sans()
                .uri
                .iter()
                .map(|u| format!("URI:{u}"))
                .chain(o.sans().email.iter().map(|e| format!("email:{e}")))
                .any(|x| x == label)
        })
    };
    let edited = after_template(
        leaf,
        |name| match name {
            TemplateName::Ip(ip) => !own_ips.iter().any(|o| ip_equal(o, ip)),
            TemplateName::Dns(d) => !own_dns.iter().any(|o| o.eq_ignore_ascii_case(d)),
            TemplateName::Other(label) => other_kept(label),
        },
        &ips,
        &dns,
    )
    .map_err(with_path)?;
    let dropped_names: Vec<&String> = own_dns
        .iter()
        .filter(|d| template_member.is_none_or(|t| !d.eq_ignore_ascii_case(t)))
        .collect();
    if req.dns.is_empty() && !dropped_names.is_empty() {
        notes.push(format!(
            "{}: the template covers its member's DNS name {}; the new certificate covers no DNS name of the new member's: give its DNS names if its URLs use them",
            crate::path_text::display_path(&file.rel),
            dropped_names
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    // The subject: kept when every sibling has the same; else the template member's own
    // values replaced.
    let shared_subject =
        !others.is_empty() && others.iter().all(|o| o.raw_subject() == leaf.raw_subject());
    let subject_der = if shared_subject {
        leaf.raw_subject().to_vec()
    } else {
        subject::rewrite(leaf.raw_subject(), |value| {
            if own_ips.iter().any(|ip| go_ip_string(ip) == value) {
                return req.ips.first().map(go_ip_string);
            }
            if let Some(d) = own_dns.iter().find(|d| d.eq_ignore_ascii_case(value)) {
                if template_member.is_some_and(|t| d.eq_ignore_ascii_case(t)) {
                    return Some(req.name.clone());
                }
                if let Some(first) = req.dns.first() {
                    return Some(first.clone());
                }
            }
            template_member.and_then(|t| replace_token(value, t, &req.name))
        })
        .map_err(|reason| {
            with_path(Error::InvalidRequest {
                path: None,
                problem: RequestProblem::UnparsableCertificate { reason },
            })
        })?
    };
    let subject_text = Certificate::name_text(&subject_der).unwrap_or_default();

    let (not_before, not_after, clamped_to_ca) =
        validity(leaf, req.days, req.at, ca).map_err(with_path)?;
    let planned = PlannedCertificate {
        subject: subject_text,
        template_subject: leaf.subject().to_string(),
        sans: edited.after,
        replaced: edited.removed,
        usages: usage_words(leaf),
        key_usage: leaf.key_usage(),
        ext_key_usage: leaf
            .ext_key_usage()
            .map(|e| e.iter().map(|u| u.to_string()).collect())
            .unwrap_or_default(),
        key: leaf.key_algorithm().to_string(),
        key_in_file: false,
        key_file: PathBuf::new(),
        chain: 0,
        not_before,
        not_after,
        clamped_to_ca,
    };
    Ok((
        LeafPlan {
            file: 0,
            subject: subject_der,
            san_value: edited.value,
            expected_hosts: edited.expected_hosts,
            slot: 0,
            not_before,
            not_after,
        },
        planned,
    ))
}

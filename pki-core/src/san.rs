//! The subjectAltName extension of a reissued certificate: the old certificate's names read from
//! its DER in their order (including names of kinds this crate does not interpret, kept byte for
//! byte), the requested IP and DNS names removed and added, the new extension's value encoded
//! (each GeneralName's DER is written by [`crate::tbs`]), and every name described as
//! `IP:`/`DNS:`/`URI:`/`email:` text for the plan.

use std::net::IpAddr;

use crate::cert::Certificate;
use crate::coverage::{go_ip_string, ip_equal};
use crate::error::{Error, RequestProblem, Result};
use crate::host::Host;
use crate::tbs;

/// The subjectAltName of a reissued certificate, as planned.
pub(crate) struct EditedSans {
    /// The new extension's value (DER GeneralNames); `None` when the old certificate had no SAN
    /// and none is added.
    pub(crate) value: Option<Vec<u8>>,
    /// Every name after the edit, described, in certificate order.
    pub(crate) after: Vec<String>,
    /// The names added.
    pub(crate) added: Vec<String>,
    /// The names removed.
    pub(crate) removed: Vec<String>,
    /// The names asked for that were already present.
    pub(crate) already_present: Vec<String>,
    /// The hosts the new certificate must cover: its IP and non-wildcard DNS names.
    pub(crate) expected_hosts: Vec<Host>,
}

/// `old`'s SANs with `remove_ips` and `remove_dns` taken out (each must be present) and
/// `add_ips` and `add_dns` appended (those already present are left as they are). DNS names are
/// compared case-insensitively; at least one name must remain if there was one.
pub(crate) fn edit(
    old: &Certificate,
    add_ips: &[IpAddr],
    add_dns: &[String],
    remove_ips: &[IpAddr],
    remove_dns: &[String],
) -> Result<EditedSans> {
    let invalid = |problem: RequestProblem| Error::InvalidRequest {
        path: None,
        problem,
    };
    let old_elements = match old_san_value(old)? {
        Some(value) => tbs::sequence_elements(&value).map_err(|e| {
            invalid(RequestProblem::UnparsableSubjectAltName {
                reason: e.to_string(),
            })
        })?,
        None => Vec::new(),
    };
    let sans = old.sans();
    let mut already_present = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();

    // Removals: every requested name must be there.
    for ip in remove_ips {
        if !sans.ip.iter().any(|s| ip_equal(s, ip)) {
            return Err(invalid(RequestProblem::IpSanNotPresent { ip: *ip }));
        }
        removed.push(format!("IP:{}", go_ip_string(ip)));
    }
    for dns in remove_dns {
        if !sans.dns.iter().any(|s| s.eq_ignore_ascii_case(dns)) {
            return Err(invalid(RequestProblem::DnsSanNotPresent {
                name: dns.clone(),
            }));
        }
        removed.push(format!("DNS:{dns}"));
    }
    let removed_ip = |ip: &IpAddr| remove_ips.iter().any(|r| ip_equal(r, ip));
    let removed_dns = |d: &str| remove_dns.iter().any(|r| r.eq_ignore_ascii_case(d));

    // Keep the old names in order, except removed ones; names of other kinds stay as they are.
    let mut elements = Vec::new();
    let mut sans_after = Vec::new();
    let mut expected_hosts = Vec::new();
    for element in &old_elements {
        match decode_name(element) {
            Some(Name::Ip(ip)) if removed_ip(&ip) => continue,
            Some(Name::Dns(d)) if removed_dns(&d) => continue,
            Some(Name::Ip(ip)) => {
                sans_after.push(format!("IP:{}", go_ip_string(&ip)));
                expected_hosts.push(Host::Ip(ip));
            }
            Some(Name::Dns(d)) => {
                sans_after.push(format!("DNS:{d}"));
                if !d.starts_with("*.") {
                    expected_hosts.push(Host::Dns(d));
                }
            }
            None => sans_after.push(describe_other(element)),
        }
        elements.push(element.clone());
    }
    for ip in add_ips {
        let present = sans.ip.iter().any(|s| ip_equal(s, ip)) && !removed_ip(ip);
        let label = format!("IP:{}", go_ip_string(ip));
        if present || added.contains(&label) {
            already_present.push(label);
            continue;
        }
        elements.push(tbs::ip_address(ip));
        sans_after.push(label.clone());
        added.push(label);
        expected_hosts.push(Host::Ip(*ip));
    }
    for dns in add_dns {
        let present = sans.dns.iter().any(|s| s.eq_ignore_ascii_case(dns)) && !removed_dns(dns);
        let label = format!("DNS:{dns}");
        if present || added.iter().any(|a| a.eq_ignore_ascii_case(&label)) {
            already_present.push(label);
            continue;
        }
        elements.push(tbs::dns_name(dns));
        sans_after.push(label.clone());
        added.push(label);
        if !dns.starts_with("*.") {
            expected_hosts.push(Host::Dns(dns.clone()));
        }
    }
    if elements.is_empty() && !old_elements.is_empty() {
        return Err(invalid(RequestProblem::NoSanLeft));
    }
    let san_value = (!elements.is_empty()).then(|| tbs::general_names(&elements));
    Ok(EditedSans {
        value: san_value,
        after: sans_after,
        added,
        removed,
        already_present,
        expected_hosts,
    })
}

/// One name of a template's subjectAltName, for [`after_template`] to keep or drop.
pub(crate) enum TemplateName<'a> {
    /// An iPAddress.
    Ip(IpAddr),
    /// A dNSName.
    Dns(&'a str),
    /// A name of another kind, described (`URI:...`).
    Other(&'a str),
}

/// The subjectAltName of a certificate made after `template` for another host: the template's
/// names that `keep` keeps, in their order, then `ips` and `dns` (a name already kept is not
/// added twice). `removed` lists the names dropped, `added` the new ones.
pub(crate) fn after_template(
    template: &Certificate,
    keep: impl Fn(&TemplateName<'_>) -> bool,
    ips: &[IpAddr],
    dns: &[String],
) -> Result<EditedSans> {
    let elements_in = match old_san_value(template)? {
        Some(value) => tbs::sequence_elements(&value).map_err(|e| Error::InvalidRequest {
            path: None,
            problem: RequestProblem::UnparsableSubjectAltName {
                reason: e.to_string(),
            },
        })?,
        None => Vec::new(),
    };
    let mut elements = Vec::new();
    let mut after = Vec::new();
    let mut removed = Vec::new();
    let mut expected_hosts = Vec::new();
    let mut kept_ips: Vec<IpAddr> = Vec::new();
    let mut kept_dns: Vec<String> = Vec::new();
    for element in &elements_in {
        let (label, name, host) = match decode_name(element) {
            Some(Name::Ip(ip)) => (
                format!("IP:{}", go_ip_string(&ip)),
                Some(Name::Ip(ip)),
                Some(Host::Ip(ip)),
            ),
            Some(Name::Dns(d)) => {
                let host = (!d.starts_with("*.")).then(|| Host::Dns(d.clone()));
                (format!("DNS:{d}"), Some(Name::Dns(d)), host)
            }
            None => (describe_other(element), None, None),
        };
        let keeps = match &name {
            Some(Name::Ip(ip)) => keep(&TemplateName::Ip(*ip)),
            Some(Name::Dns(d)) => keep(&TemplateName::Dns(d)),
            None => keep(&TemplateName::Other(&label)),
        };
        if !keeps {
            removed.push(label);
            continue;
        }
        match name {
            Some(Name::Ip(ip)) => kept_ips.push(ip),
            Some(Name::Dns(d)) => kept_dns.push(d),
            None => {}
        }
        elements.push(element.clone());
        after.push(label);
        expected_hosts.extend(host);
    }
    let mut added = Vec::new();
    let mut already_present = Vec::new();
    for ip in ips {
        let label = format!("IP:{}", go_ip_string(ip));
        if kept_ips.iter().any(|k| ip_equal(k, ip)) || added.contains(&label) {
            already_present.push(label);
            continue;
        }
        elements.push(tbs::ip_address(ip));
        after.push(label.clone());
        added.push(label);
        expected_hosts.push(Host::Ip(*ip));
    }
    for d in dns {
        let label = format!("DNS:{d}");
        if kept_dns.iter().any(|k| k.eq_ignore_ascii_case(d))
            || added.iter().any(|a| a.eq_ignore_ascii_case(&label))
        {
            already_present.push(label);
            continue;
        }
        elements.push(tbs::dns_name(d));
        after.push(label.clone());
        added.push(label);
        if !d.starts_with("*.") {
            expected_hosts.push(Host::Dns(d.clone()));
        }
    }
    Ok(EditedSans {
        value: (!elements.is_empty()).then(|| tbs::general_names(&elements)),
        after,
        added,
        removed,
        already_present,
        expected_hosts,
    })
}

pub(crate) fn old_san_value(old: &Certificate) -> Result<Option<Vec<u8>>> {
    use x509_parser::prelude::FromDer;
    let (_, x509) =
        x509_parser::certificate::X509Certificate::from_der(old.der()).map_err(|e| {
            Error::InvalidRequest {
                path: None,
                problem: RequestProblem::UnparsableCertificate {
                    reason: e.to_string(),
                },
            }
        })?;
    Ok(x509
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "2.5.29.17")
        .map(|e| e.value.to_vec()))
}

enum Name {
    Ip(IpAddr),
    Dns(String),
}

fn decode_name(element: &[u8]) -> Option<Name> {
    let (&tag, rest) = element.split_first()?;
    let (&len, content) = rest.split_first()?;
    if len & 0x80 != 0 && tag != 0x82 {
        return None;
    }
    let content = if len & 0x80 != 0 {
        let n = (len & 0x7f) as usize;
        content.get(n..)?
    } else {
        content
    };
    match tag {
        0x82 => std::str::from_utf8(content)
            .ok()
            .map(|s| Name::Dns(s.to_string())),
        0x87 => match content.len() {
            4 => Some(Name::Ip(IpAddr::from(<[u8; 4]>::try_from(content).ok()?))),
            16 => Some(Name::Ip(IpAddr::from(<[u8; 16]>::try_from(content).ok()?))),
            _ => None,
        },
        _ => None,
    }
}

fn describe_other(element: &[u8]) -> String {
    match element.first() {
        Some(0x81) => format!(
            "email:{}",
            String::from_utf8_lossy(element.get(2..).unwrap_or_default())
        ),
        Some(0x86) => format!(
            "URI:{}",
            String::from_utf8_lossy(element.get(2..).unwrap_or_default())
        ),
        Some(tag) => format!("other name (tag {:#04x}, kept)", tag),
        None => "empty name".into(),
    }
}

//! The members beside a template member: their directories (kubeadm's and `init`'s layout put
//! each member's files in a directory of its own under one parent), each template
//! certificate's counterpart among them, and what that tells: which SANs every member has,
//! whether the "member's own" certificates are in fact shared by all (the runbook's layout), and
//! the template member's name.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};

use crate::cert::Certificate;
use crate::coverage::{go_ip_string, ip_equal};
use crate::dns_name::validate_dns;
use crate::error::{Error, Result, SharedCertificate};
use crate::issue_plan::NameSource;
use crate::member_template::{auth_usages, Contents, DirFile, MemberDir};
use crate::subject::replace_token;
use crate::verify::{find_issuer, CertPool};

/// At most this many sibling directories are read.
const MAX_SIBLINGS: usize = 64;

/// The directories beside the template's that hold a file of the template's (by the same
/// relative path, or with the template directory's name replaced by theirs) with a leaf
/// certificate from the same CA: the other members, in kubeadm's and `init`'s layouts.
pub(crate) fn read_siblings(
    like: &Path,
    parent: &Path,
    dir_name: &str,
    template: &MemberDir,
    pool: &CertPool,
) -> Vec<MemberDir> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.as_encoded_bytes().first() != Some(&b'.'))
                && p.is_dir()
                && !crate::files::same_file(p, like)
        })
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs.into_iter().take(MAX_SIBLINGS) {
        let sib_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let looks_like_member = template.leaves().any(|(_, f, _)| {
            let renamed = rename_path(&f.rel, &|t: &str| {
                replace_token(t, dir_name, &sib_name).unwrap_or_else(|| t.to_string())
            });
            dir.join(&f.rel).is_file() || dir.join(renamed).is_file()
        });
        if !looks_like_member {
            continue;
        }
        let Ok(sibling) = MemberDir::read(&dir) else {
            continue;
        };
        if sibling
            .leaves()
            .any(|(_, _, leaf)| find_issuer(leaf, pool).is_ok())
            && !copy_of(&sibling, template)
        {
            out.push(sibling);
        }
    }
    out
}

/// Whether a sibling directory holds the template member's own identity rather than another
/// member's: each of its member certificates has the subject and SANs of one of the template's
/// (a backup, a copy, an earlier rotation, or copies of certificates every member shares).
fn copy_of(sibling: &MemberDir, template: &MemberDir) -> bool {
    let mut members = sibling
        .leaves()
        .filter(|(_, _, c)| is_member_certificate(c))
        .peekable();
    if members.peek().is_none() {
        return false;
    }
    members.all(|(_, _, c)| template.leaves().any(|(_, _, t)| same_identity(c, t)))
}

/// The same subject and the same SANs (in any order).
fn same_identity(a: &Certificate, b: &Certificate) -> bool {
    let sans = |c: &Certificate| {
        let mut v = c.sans().to_strings();
        v.iter_mut().for_each(|s| *s = s.to_ascii_lowercase());
        v.sort();
        v.dedup();
        v
    };
    a.raw_subject() == b.raw_subject() && sans(a) == sans(b)
}

/// The sibling's certificate of the same kind as the template file's: the same relative path
/// (or with the directory name replaced), else the only one with the same usages.
pub(crate) fn counterpart<'a>(
    file: &DirFile,
    sibling: &'a MemberDir,
    dir_name: &str,
) -> Option<&'a Certificate> {
    let Contents::Leaf { leaf, .. } = &file.contents else {
        return None;
    };
    let sib_name = sibling
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let renamed = rename_path(&file.rel, &|t: &str| {
        replace_token(t, dir_name, &sib_name).unwrap_or_else(|| t.to_string())
    });
    if let Some((_, _, c)) = sibling
        .leaves()
        .find(|(_, f, _)| f.rel == file.rel || f.rel == renamed)
    {
        return Some(c);
    }
    let kind = |c: &Certificate| {
        (
            auth_usages(c),
            c.sans().ip.is_empty(),
            c.sans().dns.is_empty(),
        )
    };
    let mut alike = sibling.leaves().filter(|(_, _, c)| kind(c) == kind(leaf));
    match (alike.next(), alike.next()) {
        (Some((_, _, c)), None) => Some(c),
        _ => None,
    }
}

/// Whether a leaf is a member's server or peer certificate: server auth and names to cover.
pub(crate) fn is_member_certificate(cert: &Certificate) -> bool {
    auth_usages(cert).0 && (!cert.sans().ip.is_empty() || !cert.sans().dns.is_empty())
}

/// Refuses a template whose server or peer certificates are shared by several members: a
/// sibling has the very same certificate, or it covers more addresses than the new member has
/// (or three or more host names) and no sibling's certificate of its kind has addresses of its
/// own (which would prove a per-member layout).
pub(crate) fn refuse_shared(
    template_dir: &Path,
    new_ips: usize,
    new_names: usize,
    template: &MemberDir,
    counterparts: &HashMap<usize, Vec<&Certificate>>,
) -> Result<()> {
    let mut shared = Vec::new();
    for (i, file, leaf) in template.leaves() {
        if !is_member_certificate(leaf) {
            continue;
        }
        let others = &counterparts[&i];
        let mut non_loopback: Vec<&IpAddr> = leaf
            .sans()
            .ip
            .iter()
            .filter(|ip| !is_localhost_ip(ip))
            .collect();
        non_loopback.dedup_by(|a, b| ip_equal(a, b));
        // Distinct host names (first labels) besides localhost: a certificate naming three or
        // more hosts, more than the new member has, is every member's.
        let mut labels: Vec<String> = leaf
            .sans()
            .dns
            .iter()
            .filter(|d| !is_localhost(d) && !d.starts_with("*."))
            .map(|d| d.split('.').next().unwrap_or(d).to_ascii_lowercase())
            .collect();
        labels.sort();
        labels.dedup();
        // Members of a per-member layout have addresses of their own: a sibling certificate
        // of the same kind whose addresses share none with this one's proves the layout.
        let own_ips = |c: &Certificate| -> Vec<IpAddr> {
            c.sans()
                .ip
                .iter()
                .filter(|ip| !is_localhost_ip(ip))
                .copied()
                .collect()
        };
        let mine = own_ips(leaf);
        let per_member = others.iter().any(|o| {
            let theirs = own_ips(o);
            !theirs.is_empty() && !theirs.iter().any(|t| mine.iter().any(|m| ip_equal(m, t)))
        });
        let is_shared = others.iter().any(|o| o.der() == leaf.der())
            || (!per_member
                && (non_loopback.len() > new_ips.max(1)
                    || (labels.len() >= 3 && labels.len() > new_names.max(1))));
        if is_shared {
            let mut hosts: Vec<String> = non_loopback
                .iter()
                .map(|ip| format!("IP:{}", go_ip_string(ip)))
                .collect();
            hosts.extend(
                leaf.sans()
                    .dns
                    .iter()
                    .filter(|d| !is_localhost(d))
                    .map(|d| format!("DNS:{d}")),
            );
            shared.push(SharedCertificate {
                certificate: file.path.clone(),
                key: template.key_of(i).map(|k| template.files[k].path.clone()),
                hosts,
            });
        }
    }
    if shared.is_empty() {
        Ok(())
    } else {
        Err(Error::SharedCertificates {
            template: template_dir.to_path_buf(),
            certificates: shared,
        })
    }
}

pub(crate) fn is_localhost(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
}

/// `127.0.0.1` and `::1`, which every member's certificates list for local clients. Other
/// loopback addresses are a member's own (test clusters run members on 127.0.0.11, .12, ...).
pub(crate) fn is_localhost_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets() == [127, 0, 0, 1],
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// The template member's name, from its directory's name or its certificates' common names.
pub(crate) fn template_name(
    template: &MemberDir,
    counterparts: &HashMap<usize, Vec<&Certificate>>,
    dir_name: &str,
) -> Option<(String, NameSource)> {
    let members: Vec<(usize, &Certificate)> = template
        .leaves()
        .filter(|(_, _, c)| is_member_certificate(c))
        .map(|(i, _, c)| (i, c))
        .collect();
    let own_dns = |i: usize, c: &Certificate| -> Vec<String> {
        c.sans()
            .dns
            .iter()
            .filter(|d| !is_localhost(d) && !dns_shared(d, &counterparts[&i]))
            .cloned()
            .collect()
    };
    // The directory is named after the member when a member certificate's common name or own
    // DNS name is that name, or starts with it as its first label (`etcd-1` for
    // `etcd-1.example.com`); a mere token is not enough (kubeadm's directory `etcd` is in
    // `etcd-1` and in `kube-etcd-healthcheck-client`).
    let first_label = |s: &str| s.split('.').next().unwrap_or(s).to_ascii_lowercase();
    let named_by = |name: &str| {
        let name = name.to_ascii_lowercase();
        members.iter().any(|(i, c)| {
            c.common_name()
                .is_some_and(|cn| cn.eq_ignore_ascii_case(&name) || first_label(cn) == name)
                || own_dns(*i, c)
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&name) || first_label(d) == name)
        })
    };
    if crate::init::name_chars_ok(dir_name) && named_by(dir_name) {
        return Some((dir_name.to_string(), NameSource::DirectoryName));
    }
    for (i, c) in &members {
        let Some(cn) = c.common_name() else { continue };
        if cn.is_empty()
            || is_localhost(cn)
            || cn.parse::<IpAddr>().is_ok()
            || !crate::init::name_chars_ok(cn.split('.').next().unwrap_or(cn))
        {
            continue;
        }
        let first_label = cn.split('.').next().unwrap_or(cn);
        let own = own_dns(*i, c);
        let in_sans = own
            .iter()
            .any(|d| d.eq_ignore_ascii_case(cn) || d.split('.').next() == Some(first_label));
        let differs = !counterparts[i].is_empty()
            && counterparts[i].iter().all(|o| o.common_name() != Some(cn));
        if in_sans || differs {
            let name = if validate_dns(cn).is_ok() {
                first_label
            } else {
                cn
            };
            return Some((name.to_string(), NameSource::CommonName));
        }
    }
    None
}

pub(crate) fn dns_shared(name: &str, others: &[&Certificate]) -> bool {
    !others.is_empty()
        && others
            .iter()
            .all(|o| o.sans().dns.iter().any(|d| d.eq_ignore_ascii_case(name)))
}

pub(crate) fn ip_shared(ip: &IpAddr, others: &[&Certificate]) -> bool {
    !others.is_empty()
        && others
            .iter()
            .all(|o| o.sans().ip.iter().any(|x| ip_equal(x, ip)))
}

/// A relative path with `rename` applied to each component.
pub(crate) fn rename_path(rel: &Path, rename: &dyn Fn(&str) -> String) -> PathBuf {
    rel.components()
        .map(|c| match c {
            Component::Normal(n) => match n.to_str() {
                Some(s) => PathBuf::from(rename(s)),
                None => PathBuf::from(n),
            },
            other => PathBuf::from(other.as_os_str()),
        })
        .collect()
}

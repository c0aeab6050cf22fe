//! What only the running cluster can tell about a member: its URLs as the cluster records them
//! against its configuration, the certificate it serves on each advertised port against the
//! file on disk (etcd reads the files on every handshake, so a difference means another file,
//! or another node), and every other member's served peer certificate against this member's
//! peer trusted CA and allowed names (this member checks those when it dials them).
//!
//! Every connection runs under the one deadline of the connection (dial plus command timeout):
//! a member that hangs costs it once.

use futures_util::future::join_all;
use pki_core::{
    find_issuer, CertPool, Certificate, CheckId, Finding, Host, HostUrl, Remedy, Subject,
};

use super::files::flag;
use super::side::{urls_of, Side};
use crate::connection::Connection;
use crate::etcd_rules::AppliedRules;
use crate::member_config::{Key, MemberConfig};
use crate::probe::{probe, Identity};
use crate::rules::normalise_url;
use crate::state::{member_list_until, MemberInfo};

/// The live checks of a member (see the module docs). Errors reaching the cluster are findings
/// of their own: the offline checks stand regardless.
/// Hosts are judged by `rules` (see [`AppliedRules::ask`]).
pub async fn diagnose_live(
    conn: &Connection,
    config: &MemberConfig,
    rules: &AppliedRules,
) -> Vec<Finding> {
    let deadline = conn.deadline();
    let mut out = Vec::new();
    let list = match member_list_until(conn, deadline).await {
        Ok(l) => Some(l),
        Err(e) => {
            out.push(
                Finding::fail(
                    CheckId::ClusterRecord,
                    format!(
                        "the cluster could not be asked for its members: {}",
                        e.to_string().replace('\n', "; ")
                    ),
                )
                .remedy(Remedy::CheckMemberReachable {
                    member: config.name(),
                }),
            );
            None
        }
    };
    let name = config.name();
    let advertised_peer: Vec<String> = config
        .list(Key::InitialAdvertisePeerUrls)
        .iter()
        .map(|u| normalise_url(u))
        .collect();
    let me = list.as_ref().and_then(|list| {
        list.members
            .iter()
            .find(|m| m.started() && m.name == name)
            .or_else(|| {
                list.members.iter().find(|m| {
                    m.peer_urls
                        .iter()
                        .any(|p| advertised_peer.contains(&normalise_url(p)))
                })
            })
    });
    match (me, &list) {
        (_, None) => {}
        (None, Some(_)) => out.push(
            Finding::fail(
                CheckId::ClusterRecord,
                format!(
                    "the cluster has no member named {name} or with its peer URL ({}): this configuration is not a member's of this cluster",
                    advertised_peer.join(", ")
                ),
            )
            .remedy(Remedy::Advice {
                text: "check the endpoints, or the member's --name and --initial-advertise-peer-urls".into(),
            }),
        ),
        (Some(m), Some(_)) => out.extend(record(config, m)),
    }

    // What each advertised URL serves, against the files.
    let identity = |cert: Key, key: Key| -> Option<Identity> {
        let c = config.get(cert)?;
        let k = config.get(key)?;
        Identity::from_files(
            config.host_path(std::path::Path::new(&c.value)),
            config.host_path(std::path::Path::new(&k.value)),
        )
        .ok()
    };
    let client_identity = identity(Key::ClientCertFile, Key::ClientKeyFile)
        .or_else(|| identity(Key::CertFile, Key::KeyFile));
    let peer_identity = identity(Key::PeerClientCertFile, Key::PeerClientKeyFile)
        .or_else(|| identity(Key::PeerCertFile, Key::PeerKeyFile));
    let mut targets: Vec<(Side, HostUrl)> = Vec::new();
    for side in [Side::Client, Side::Peer] {
        for u in urls_of(config, &[side.keys().advertise]) {
            if u.scheme == "https" {
                targets.push((side, u));
            }
        }
    }
    // A slow member list must not leave the probes no time: they get a deadline of their own.
    let deadline = conn.deadline();
    let probes = join_all(targets.iter().map(|(side, url)| {
        let id = match side {
            Side::Client => client_identity.as_ref(),
            Side::Peer => peer_identity.as_ref(),
        };
        probe(url, id, None, deadline)
    }))
    .await;
    for ((side, url), result) in targets.iter().zip(probes) {
        let k = side.keys();
        let subject = match side {
            Side::Client => Subject::ServerCertificate,
            Side::Peer => Subject::PeerCertificate,
        };
        let on_disk = config
            .get(k.cert)
            .and_then(|c| {
                pki_core::load_certificates(config.host_path(std::path::Path::new(&c.value))).ok()
            })
            .and_then(|mut c| (!c.is_empty()).then(|| c.remove(0)));
        let served = match result {
            Ok(p) => p
                .served
                .first()
                .and_then(|der| Certificate::from_der(der.clone()).ok()),
            Err(e) => {
                out.push(
                    Finding::fail(
                        CheckId::ServedCertificate,
                        format!("{}: cannot fetch the certificate it serves: {e}", url.url),
                    )
                    .about(subject)
                    .remedy(Remedy::Advice {
                        text: format!(
                            "check that {name} runs and that {} is reachable from here",
                            url.url
                        ),
                    }),
                );
                continue;
            }
        };
        out.push(match (served, on_disk) {
            (Some(s), Some(d)) if s.der() == d.der() => Finding::pass(
                CheckId::ServedCertificate,
                format!(
                    "{} serves {} (serial {}), the certificate in {}",
                    url.url,
                    s.common_name().unwrap_or(s.subject()),
                    s.serial_hex(),
                    config.get(k.cert).map_or("", |v| v.value.as_str())
                ),
            )
            .about(subject),
            (Some(s), Some(d)) => Finding::fail(
                CheckId::ServedCertificate,
                format!(
                    "{} serves serial {} ({}), but {} holds serial {} ({}): etcd reads the file on every handshake, so what answers there is another member or uses another file",
                    url.url,
                    s.serial_hex(),
                    s.subject(),
                    config.get(k.cert).map_or("", |v| v.value.as_str()),
                    d.serial_hex(),
                    d.subject()
                ),
            )
            .about(subject)
            .remedy(Remedy::Advice {
                text: format!(
                    "check which process answers {} and which {} it was started with",
                    url.url,
                    flag(k.cert)
                ),
            }),
            (None, _) => Finding::fail(
                CheckId::ServedCertificate,
                format!("{} sent no certificate Go can parse", url.url),
            )
            .about(subject),
            (Some(s), None) => Finding::warn(
                CheckId::ServedCertificate,
                format!(
                    "{} serves serial {} ({}); the file {} could not be read to compare",
                    url.url,
                    s.serial_hex(),
                    s.subject(),
                    flag(k.cert)
                ),
            )
            .about(subject),
        });
    }

    // The other members' peer certificates, as this member meets them when it dials them.
    let deadline = conn.deadline();
    if let Some(list) = &list {
        out.extend(
            other_members(
                config,
                &list.members,
                me.map(|m| m.id),
                peer_identity.as_ref(),
                deadline,
                rules,
            )
            .await,
        );
    }
    out
}

/// The member's recorded URLs against its configuration.
fn record(config: &MemberConfig, m: &MemberInfo) -> Vec<Finding> {
    let mut out = Vec::new();
    let sets = |a: &[String]| {
        let mut v: Vec<String> = a.iter().map(|u| normalise_url(u)).collect();
        v.sort();
        v
    };
    for (key, recorded, what) in [
        (Key::InitialAdvertisePeerUrls, &m.peer_urls, "peer"),
        (Key::AdvertiseClientUrls, &m.client_urls, "client"),
    ] {
        let configured = config.list(key);
        if configured.is_empty() || (recorded.is_empty() && what == "client") {
            continue;
        }
        if sets(&configured) == sets(recorded) {
            out.push(Finding::pass(
                CheckId::ClusterRecord,
                format!(
                    "the cluster records {}'s {what} URLs as configured: {}",
                    m.label(),
                    recorded.join(", ")
                ),
            ));
        } else {
            out.push(
                Finding::warn(
                    CheckId::ClusterRecord,
                    format!(
                        "the cluster records {}'s {what} URLs as {}, the configuration has {} {}{}",
                        m.label(),
                        recorded.join(", "),
                        flag(key),
                        configured.join(", "),
                        if what == "peer" {
                            ": after the first start etcd uses the recorded peer URLs, and the other members dial those"
                        } else {
                            ": the running member was started with other settings, or this is another member's configuration"
                        }
                    ),
                )
                .remedy(Remedy::Advice {
                    text: if what == "peer" {
                        format!("etcdctl member update {:x} --peer-urls=... to change the recorded URLs, or correct {}", m.id, flag(key))
                    } else {
                        "restart the member with this configuration, or correct it".into()
                    },
                }),
            );
        }
    }
    out
}

/// Every other started member's peer certificate against this member's peer CA and allowed
/// names.
async fn other_members(
    config: &MemberConfig,
    members: &[MemberInfo],
    me: Option<u64>,
    identity: Option<&Identity>,
    deadline: crate::connection::Deadline,
    rules: &AppliedRules,
) -> Vec<Finding> {
    let ca: Option<CertPool> = config
        .get(Key::PeerTrustedCaFile)
        .and_then(|v| {
            pki_core::load_certificates(config.host_path(std::path::Path::new(&v.value))).ok()
        })
        .map(|c| c.into_iter().collect());
    let crl: Option<pki_core::Crl> = config
        .get(Key::PeerCrlFile)
        .filter(|v| !v.value.is_empty())
        .and_then(|v| pki_core::read_file(config.host_path(std::path::Path::new(&v.value))).ok())
        .and_then(|b| pki_core::Crl::parse(&b).ok());
    let cns = config.list(Key::PeerCertAllowedCn);
    let hosts = config.list(Key::PeerCertAllowedHostname);
    let mut others: Vec<(&MemberInfo, HostUrl)> = members
        .iter()
        .filter(|m| Some(m.id) != me && m.started())
        .filter_map(|m| {
            m.peer_urls
                .first()
                .and_then(|u| HostUrl::parse(u).ok())
                .filter(|u| u.scheme == "https")
                .map(|u| (m, u))
        })
        .collect();
    others.sort_by_key(|(m, _)| m.label());
    let probes = join_all(
        others
            .iter()
            .map(|(_, u)| probe(u, identity, None, deadline)),
    )
    .await;
    let mut out = Vec::new();
    for ((m, url), result) in others.iter().zip(probes) {
        let about = Subject::Member(m.label());
        let Some(leaf) = result
            .ok()
            .and_then(|p| p.served.first().cloned())
            .and_then(|der| Certificate::from_der(der).ok())
        else {
            out.push(
                Finding::warn(
                    CheckId::ServedCertificate,
                    format!("{}: its peer certificate could not be fetched", url.url),
                )
                .about(about),
            );
            continue;
        };
        let mut problems = Vec::new();
        if let Some(pool) = &ca {
            if let Err(e) = find_issuer(&leaf, pool) {
                problems.push(format!(
                    "it does not chain to this member's {} ({e})",
                    flag(Key::PeerTrustedCaFile)
                ));
            }
        }
        if crl.as_ref().is_some_and(|c| c.revokes(&leaf)) {
            problems.push(format!(
                "its serial {} is revoked in this member's {}",
                leaf.serial_hex(),
                flag(Key::PeerCrlFile)
            ));
        }
        if !cns.is_empty()
            && !leaf
                .common_name()
                .is_some_and(|cn| cns.iter().any(|c| c == cn))
        {
            problems.push(format!(
                "its CN {} is not allowed by this member's {}",
                leaf.common_name().unwrap_or("(none)"),
                flag(Key::PeerCertAllowedCn)
            ));
        }
        let parsed: Vec<Host> = hosts.iter().filter_map(|h| Host::parse(h).ok()).collect();
        if !hosts.is_empty() && !rules.covers_any(&leaf, &parsed) {
            problems.push(format!(
                "it covers none of this member's {}",
                flag(Key::PeerCertAllowedHostname)
            ));
        }
        out.push(if problems.is_empty() {
            Finding::pass(
                CheckId::ServedCertificate,
                format!(
                    "{} serves {}, which this member's peer settings accept",
                    url.url,
                    leaf.common_name().unwrap_or(leaf.subject())
                ),
            )
            .about(about)
        } else {
            Finding::fail(
                CheckId::ServedCertificate,
                format!(
                    "{} serves {}: {}; this member refuses it",
                    url.url,
                    leaf.common_name().unwrap_or(leaf.subject()),
                    problems.join("; ")
                ),
            )
            .about(about)
            .remedy(Remedy::FixServedCertificate {
                member: m.label(),
                host: url.host.to_string(),
            })
        });
    }
    out
}

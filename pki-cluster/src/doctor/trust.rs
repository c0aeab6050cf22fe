//! Who a member lets in, and what it refuses: client certificate authentication on each side,
//! the peer SAN check, allowed common names and host names, revocation lists, cipher suites and
//! TLS versions.
//!
//! The rules are etcd's (3.4.23 `pkg/transport/listener.go`, 3.5.16
//! `client/pkg/transport/listener.go` and `listener_tls.go`):
//! - `ServerConfig` requires and verifies client certificates when a trusted CA file is set *or*
//!   client-cert-auth is on; with client-cert-auth and no CA file, against the system roots;
//! - `wrapTLS` runs `checkSAN` on peer connections (the connecting peer's certificate against
//!   its source address) unless `--experimental-peer-skip-client-san-verification`;
//! - `baseConfig` sets `VerifyPeerCertificate` from allowed CN(s) / host name(s), which are
//!   mutually exclusive, and matches the leaf of the verified chain (exact CN; Go's
//!   `VerifyHostname`);
//! - `checkCRL` rejects a certificate whose serial is in the CRL (see [`pki_core::Crl`]).

use pki_core::{CheckId, Crl, Finding, Host, Remedy, Subject};

use super::files::{flag, read_setting, setting_text};
use super::side::{Side, SideResult};
use super::tls_settings::{self, TlsSettingProblem};
use super::DoctorOptions;
use crate::member_config::{Key, MemberConfig};

/// The checks of this module for both sides.
pub(crate) fn check(
    config: &MemberConfig,
    client: &SideResult,
    peer: &SideResult,
    opts: &DoctorOptions,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (side, result) in [(Side::Client, client), (Side::Peer, peer)] {
        // Auto TLS replaces the side's settings: no client authentication, no CRL (the auto
        // TLS finding says so).
        if !result.tls || result.auto {
            continue;
        }
        out.extend(authentication(config, side));
        out.extend(revocation(config, side, result, opts));
    }
    out.extend(crl_bypass(config, client));
    if peer.tls {
        out.push(if config.flag(Key::PeerSkipClientSanVerification) {
            Finding::warn(
                CheckId::SanVerification,
                format!(
                    "{}: this member does not check a connecting peer's certificate against the peer's address, so a certificate that does not cover a member still works here and fails on members that check",
                    setting_text(config, Key::PeerSkipClientSanVerification)
                ),
            )
            .remedy(Remedy::Advice {
                text: format!(
                    "give every member a peer certificate that covers its address, then drop {}",
                    flag(Key::PeerSkipClientSanVerification)
                ),
            })
        } else {
            Finding::pass(
                CheckId::SanVerification,
                "connecting peers' certificates are checked against their address",
            )
        });
    }
    out.extend(allowed_names(config, peer.outgoing.first(), opts));
    out
}

/// Client certificate authentication of one side.
fn authentication(config: &MemberConfig, side: Side) -> Vec<Finding> {
    let k = side.keys();
    let auth = config.flag(k.auth);
    let ca = config.get(k.ca).is_some_and(|v| !v.value.is_empty());
    let who = match side {
        Side::Client => "client",
        Side::Peer => "host that reaches the peer port",
    };
    let finding = match (auth, ca) {
        (false, false) => Finding::warn(
            CheckId::ClientAuthentication,
            format!(
                "neither {} nor {} is set: any {who} may connect without a certificate",
                flag(k.auth),
                flag(k.ca)
            ),
        )
        .remedy(Remedy::Advice {
            text: format!("set {} and {} (the cluster CA)", flag(k.auth), flag(k.ca)),
        }),
        (true, false) => Finding::warn(
            CheckId::ClientAuthentication,
            format!(
                "{} is on without {}: certificates are verified against this host's system roots, so any certificate a public CA issued is accepted",
                flag(k.auth),
                flag(k.ca)
            ),
        )
        .remedy(Remedy::Advice {
            text: format!("set {} to the cluster CA", flag(k.ca)),
        }),
        (false, true) => Finding::pass(
            CheckId::ClientAuthentication,
            format!(
                "{} is set, so etcd requires a certificate from it even with {} off{}",
                flag(k.ca),
                flag(k.auth),
                if side == Side::Client {
                    " (etcd's RBAC then does not take the user from the certificate's CN)"
                } else {
                    ""
                }
            ),
        ),
        (true, true) => Finding::pass(
            CheckId::ClientAuthentication,
            format!(
                "{} certificates are required and verified against {}",
                side.word(),
                config.get(k.ca).map_or("", |v| v.value.as_str())
            ),
        ),
    };
    vec![finding.about(side.ca_subject())]
}

/// A side's revocation list.
fn revocation(
    config: &MemberConfig,
    side: Side,
    result: &SideResult,
    opts: &DoctorOptions,
) -> Vec<Finding> {
    let k = side.keys();
    let subject = match side {
        Side::Client => Subject::ClientCrl,
        Side::Peer => Subject::PeerCrl,
    };
    let mut out = Vec::new();
    if config.get(k.crl).is_none_or(|v| v.value.is_empty()) {
        return out;
    }
    let what = setting_text(config, k.crl);
    let Some(file) = read_setting(config, k.crl, &subject, false, &mut out) else {
        // etcd starts without it, then rejects every connection that presents a certificate.
        if let Some(f) = out.last_mut() {
            f.message.push_str(
                ": etcd starts anyway, then rejects every connection that presents a certificate",
            );
        }
        return out;
    };
    let crl = match Crl::parse(&file.bytes) {
        Ok(c) => c,
        Err(e) => {
            out.push(
                Finding::fail(
                    CheckId::Revocation,
                    format!(
                        "{what}: {e}; etcd rejects every connection that presents a certificate"
                    ),
                )
                .about(subject)
                .remedy(Remedy::Advice {
                    text: "give a PEM (starting with -----BEGIN X509 CRL) or DER CRL, e.g. openssl ca -gencrl -out FILE".into(),
                }),
            );
            return out;
        }
    };
    // etcd checks every certificate the remote sends, intermediates included.
    let mut revoked: Vec<(String, String)> = Vec::new();
    for (chain, whose) in [
        (&result.outgoing, "this member's own client certificate"),
        (&result.served, "this member's own serving certificate"),
    ] {
        for (i, c) in chain.iter().enumerate() {
            if crl.revokes(c) && !revoked.iter().any(|(s, _)| *s == c.serial_hex()) {
                let what = if i == 0 {
                    whose.to_string()
                } else {
                    format!(
                        "the intermediate {} sent with {whose}",
                        c.common_name().unwrap_or(c.subject())
                    )
                };
                revoked.push((c.serial_hex(), what));
            }
        }
    }
    for (serial, whose) in &revoked {
        out.push(
            Finding::fail(
                CheckId::Revocation,
                format!(
                    "{what} revokes serial {serial}, {whose}: members and clients that use this CRL reject it"
                ),
            )
            .about(subject.clone())
            .remedy(Remedy::Advice {
                text: "issue the member a new certificate (a new serial) from the CA, or take the serial out of the CRL if it was revoked by mistake".into(),
            }),
        );
    }
    if !result.ca.is_empty() && result.ca.iter().all(|ca| crl.check_issuer(ca).is_err()) {
        let why = result
            .ca
            .first()
            .and_then(|ca| crl.check_issuer(ca).err())
            .map(|e| e.to_string())
            .unwrap_or_default();
        out.push(
            Finding::warn(
                CheckId::Revocation,
                format!(
                    "{what}: not the CA's list ({why}); etcd matches serials only, so it may revoke the wrong certificates and none of the CA's"
                ),
            )
            .about(subject.clone())
            .remedy(Remedy::Advice {
                text: format!("use the CRL that the CA of {} issues", flag(k.ca)),
            }),
        );
    }
    if crl.is_stale(opts.at) {
        out.push(
            Finding::warn(
                CheckId::Revocation,
                format!(
                    "{what}: past its nextUpdate ({}); etcd keeps using it, so certificates revoked since are accepted",
                    crl.next_update.map(pki_core::rfc3339).unwrap_or_default()
                ),
            )
            .about(subject.clone())
            .remedy(Remedy::Advice {
                text: "publish a fresh CRL from the CA".into(),
            }),
        );
    }
    if revoked.is_empty() {
        out.push(
            Finding::pass(
                CheckId::Revocation,
                format!(
                    "{what}: {} revoked serial(s), none of this member's certificates",
                    crl.revoked_count()
                ),
            )
            .about(subject),
        );
    }
    out
}

/// How etcd reads an allowed-CN/hostname value: 3.5.15+ splits it on commas (`StringsValue`,
/// so `""` is the one name `""`), 3.4 and 3.5 before 3.5.15 take it as one name (`""`: no
/// check). A config file's list is a list. `None`: not set.
fn allowed(config: &MemberConfig, key: Key) -> Option<AllowedNames> {
    let value = config.get(key)?;
    let from_file = matches!(
        value.source,
        crate::member_config::Source::ConfigFile { .. }
    );
    let as_list: Vec<String> = value.value.split(',').map(str::to_string).collect();
    let version = config
        .version
        .as_deref()
        .and_then(crate::member_config::version_of);
    Some(match (from_file, version) {
        (true, _) => AllowedNames::Known(as_list),
        (false, Some((5, patch))) if patch >= 15 => AllowedNames::Known(as_list),
        (false, Some(_)) if value.value.is_empty() => return None,
        (false, Some(_)) => AllowedNames::Known(vec![value.value.clone()]),
        (false, None) if !value.value.contains(',') && !value.value.is_empty() => {
            AllowedNames::Known(vec![value.value.clone()])
        }
        (false, None) => AllowedNames::Ambiguous {
            list: as_list,
            single: value.value.clone(),
        },
    })
}

/// An allowed-names setting as etcd will apply it.
enum AllowedNames {
    /// These names.
    Known(Vec<String>),
    /// The version is not known and it matters: a list in 3.5.15+, one name before (none when
    /// empty).
    Ambiguous { list: Vec<String>, single: String },
}

/// Allowed CN(s) and host name(s): not both, effective only with client certificates required,
/// satisfied by this member's own peer certificate (members with the same setting check it);
/// a client-side allowed host name also applies to etcd's own gRPC gateway.
fn allowed_names(
    config: &MemberConfig,
    own_peer: Option<&pki_core::Certificate>,
    opts: &DoctorOptions,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (cn_key, host_key, side) in [
        (
            Key::PeerCertAllowedCn,
            Key::PeerCertAllowedHostname,
            Side::Peer,
        ),
        (
            Key::ClientCertAllowedCn,
            Key::ClientCertAllowedHostname,
            Side::Client,
        ),
    ] {
        let cns = allowed(config, cn_key);
        let hosts = allowed(config, host_key);
        if cns.is_none() && hosts.is_none() {
            continue;
        }
        let k = side.keys();
        if cns.is_some() && hosts.is_some() {
            out.push(
                Finding::fail(
                    CheckId::AllowedNames,
                    format!(
                        "{} and {} are both set: etcd would not start (they are mutually exclusive)",
                        setting_text(config, cn_key),
                        setting_text(config, host_key)
                    ),
                )
                .remedy(Remedy::Advice {
                    text: "keep one of them".into(),
                }),
            );
            continue;
        }
        let (key, names, by_cn) = match (cns, hosts) {
            (Some(n), _) => (cn_key, n, true),
            (None, Some(n)) => (host_key, n, false),
            (None, None) => continue,
        };
        let setting = setting_text(config, key);
        if !config.flag(k.auth) && config.get(k.ca).is_none() {
            out.push(Finding::warn(
                CheckId::AllowedNames,
                format!(
                    "{setting} has no effect: no client certificate is requested without {} or {}",
                    flag(k.auth),
                    flag(k.ca)
                ),
            ));
            continue;
        }
        if side == Side::Client {
            if !by_cn {
                out.push(
                    Finding::warn(
                        CheckId::AllowedNames,
                        format!(
                            "{setting}: etcd's own gRPC gateway connects to the member with its client certificate and no verified chain, so the check refuses it and the HTTP/JSON API fails (\"client certificate authentication failed\"; etcd issue #15755)"
                        ),
                    )
                    .remedy(Remedy::Advice {
                        text: "if clients use the HTTP/JSON API, drop the setting, or serve that API on another listener".into(),
                    }),
                );
            }
            continue;
        }
        let Some(cert) = own_peer else { continue };
        let satisfies = |list: &[String]| {
            if by_cn {
                cert.common_name()
                    .is_some_and(|cn| list.iter().any(|c| c == cn))
            } else {
                list.iter()
                    .any(|h| Host::parse(h).is_ok_and(|h| opts.rules.covers(cert, &h)))
            }
        };
        let name = cert
            .common_name()
            .map_or_else(|| cert.subject().to_string(), |cn| format!("CN {cn}"));
        let finding = match names {
            AllowedNames::Known(list) if satisfies(&list) => Finding::pass(
                CheckId::AllowedNames,
                format!("this member's own peer certificate satisfies {setting}"),
            ),
            AllowedNames::Known(_) => Finding::fail(
                CheckId::AllowedNames,
                format!(
                    "this member's own peer certificate ({name}) does not satisfy {setting}: members with this setting refuse it (\"client certificate authentication failed\")"
                ),
            )
            .remedy(Remedy::Advice {
                text: "issue peer certificates whose CN (or SANs) the setting allows, or correct the setting".into(),
            }),
            AllowedNames::Ambiguous { list, single } => {
                let as_list = satisfies(&list);
                let as_one = single.is_empty() || satisfies(std::slice::from_ref(&single));
                match (as_list, as_one) {
                    (true, true) => Finding::pass(
                        CheckId::AllowedNames,
                        format!("this member's own peer certificate satisfies {setting}"),
                    ),
                    (false, false) => Finding::fail(
                        CheckId::AllowedNames,
                        format!(
                            "this member's own peer certificate ({name}) does not satisfy {setting}, read as a list or as one name: members with this setting refuse it"
                        ),
                    ),
                    _ => Finding::warn(
                        CheckId::AllowedNames,
                        format!(
                            "{setting}: etcd 3.5.15 and later split it on commas, 3.4 and 3.5 before 3.5.15 take it as one name{}; this member's own peer certificate ({name}) satisfies it only {}; the etcd version is not known here",
                            if single.is_empty() { " (empty: no check)" } else { "" },
                            if as_list { "as a list (3.5.15+)" } else { "as one name (3.4, early 3.5)" }
                        ),
                    )
                    .remedy(Remedy::Advice {
                        text: "give one name, or make sure every member runs the etcd version the setting is written for".into(),
                    }),
                }
            }
        };
        out.push(finding.about(Subject::PeerClientCertificate));
    }
    out
}

/// The CRL is not enforced on gRPC client listeners when `--listen-client-http-urls` is set,
/// in etcd 3.5.8 to 3.5.31 and 3.4.25 and later (GHSA-3wh4-j44w-pg92; fixed in 3.5.32).
fn crl_bypass(config: &MemberConfig, client: &SideResult) -> Vec<Finding> {
    if client.auto
        || config.get(Key::ClientCrlFile).is_none()
        || config.get(Key::ListenClientHttpUrls).is_none()
    {
        return Vec::new();
    }
    let version = config
        .version
        .as_deref()
        .and_then(crate::member_config::version_of);
    let affected = match version {
        Some((5, p)) => (8..32).contains(&p),
        Some((4, p)) => p >= 25,
        _ => true,
    };
    if !affected {
        return Vec::new();
    }
    let text = format!(
        "{} with {}: etcd {}does not check the CRL on the gRPC client listeners then, so revoked client certificates are accepted there (GHSA-3wh4-j44w-pg92; fixed in 3.5.32)",
        flag(Key::ClientCrlFile),
        flag(Key::ListenClientHttpUrls),
        match version {
            Some((minor, patch)) => format!("3.{minor}.{patch} "),
            None => "3.5.8 to 3.5.31 and 3.4.25 and later ".into(),
        }
    );
    let finding = if version.is_some() {
        Finding::fail(CheckId::Revocation, text)
    } else {
        Finding::warn(CheckId::Revocation, text)
    };
    vec![finding.about(Subject::ClientCrl).remedy(Remedy::Advice {
        text: "upgrade etcd to 3.5.32 or later, or drop --listen-client-http-urls".into(),
    })]
}

/// Cipher suites and TLS versions.
pub(crate) fn tls_settings(config: &MemberConfig, keys: &[pki_core::KeyAlgorithm]) -> Vec<Finding> {
    let value = |k: Key| {
        config
            .get(k)
            .filter(|v| {
                !(v.value.is_empty()
                    && matches!(v.source, crate::member_config::Source::ConfigFile { .. }))
            })
            .map(|v| v.value.as_str())
    };
    let problems = tls_settings::check(
        value(Key::CipherSuites),
        value(Key::TlsMinVersion),
        value(Key::TlsMaxVersion),
        keys,
    );
    let what = [Key::CipherSuites, Key::TlsMinVersion, Key::TlsMaxVersion]
        .into_iter()
        .filter(|k| config.get(*k).is_some())
        .map(|k| setting_text(config, k))
        .collect::<Vec<_>>();
    if what.is_empty() {
        return Vec::new();
    }
    if problems.is_empty() {
        return vec![Finding::pass(
            CheckId::TlsSettings,
            format!(
                "{}: accepted by etcd and usable with the certificates' keys",
                what.join("; ")
            ),
        )];
    }
    // What member_config already reports as a reason etcd would not start is not said twice.
    let said = |m: &str| {
        config
            .problems
            .iter()
            .any(|p| p.fatal && p.message.contains(m))
    };
    problems
        .into_iter()
        .filter(|p| !matches!(p, TlsSettingProblem::Fatal(m) if said(m)))
        .map(|p| match p {
            TlsSettingProblem::Fatal(m) => Finding::fail(
                CheckId::TlsSettings,
                format!("etcd would not start: {m}"),
            )
            .remedy(Remedy::Advice {
                text: "use Go's cipher suite names exactly (no spaces after commas), and no cipher suites with a TLS1.3 minimum".into(),
            }),
            TlsSettingProblem::Warn(m) => Finding::warn(CheckId::TlsSettings, m),
        })
        .collect()
}

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

use pki_core::{covers, CheckId, Coverage, Crl, Finding, Host, Remedy, Subject};

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
        if !result.tls {
            continue;
        }
        out.extend(authentication(config, side));
        out.extend(revocation(config, side, result, opts));
    }
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
    out.extend(allowed_names(config, peer.outgoing.as_ref()));
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
    let mut revoked = Vec::new();
    for (cert, whose) in [
        (
            result.outgoing.as_ref(),
            "this member's own client certificate",
        ),
        (
            result.served.first(),
            "this member's own serving certificate",
        ),
    ] {
        if let Some(c) = cert {
            if crl.revokes(c)
                && !revoked
                    .iter()
                    .any(|(s, _): &(String, &str)| *s == c.serial_hex())
            {
                revoked.push((c.serial_hex(), whose));
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

/// Allowed CN(s) and host name(s): not both, effective only with client certificates required,
/// and satisfied by this member's own peer certificate (members with the same setting check it).
fn allowed_names(config: &MemberConfig, own_peer: Option<&pki_core::Certificate>) -> Vec<Finding> {
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
        let cns = config.list(cn_key);
        let hosts = config.list(host_key);
        if cns.is_empty() && hosts.is_empty() {
            continue;
        }
        let k = side.keys();
        if !cns.is_empty() && !hosts.is_empty() {
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
        if !config.flag(k.auth) && config.get(k.ca).is_none_or(|v| v.value.is_empty()) {
            out.push(Finding::warn(
                CheckId::AllowedNames,
                format!(
                    "{}{} has no effect: no client certificate is requested without {} or {}",
                    if cns.is_empty() {
                        ""
                    } else {
                        "the allowed CN "
                    },
                    setting_text(config, if cns.is_empty() { host_key } else { cn_key }),
                    flag(k.auth),
                    flag(k.ca)
                ),
            ));
            continue;
        }
        if side != Side::Peer {
            continue;
        }
        let Some(cert) = own_peer else { continue };
        let ok = if cns.is_empty() {
            hosts.iter().any(|h| {
                Host::parse(h).is_ok_and(|h| matches!(covers(cert, &h), Coverage::Covered { .. }))
            })
        } else {
            cert.common_name()
                .is_some_and(|cn| cns.iter().any(|c| c == cn))
        };
        let setting = setting_text(config, if cns.is_empty() { host_key } else { cn_key });
        out.push(if ok {
            Finding::pass(
                CheckId::AllowedNames,
                format!("this member's own peer certificate satisfies {setting}"),
            )
        } else {
            Finding::fail(
                CheckId::AllowedNames,
                format!(
                    "this member's own peer certificate ({}) does not satisfy {setting}: members with this setting refuse it (\"client certificate authentication failed\")",
                    cert.common_name().map_or_else(|| cert.subject().to_string(), |cn| format!("CN {cn}"))
                ),
            )
            .remedy(Remedy::Advice {
                text: "issue peer certificates whose CN (or SANs) the setting allows, or correct the setting".into(),
            })
        }.about(Subject::PeerClientCertificate));
    }
    out
}

/// Cipher suites and TLS versions.
pub(crate) fn tls_settings(config: &MemberConfig, keys: &[pki_core::KeyAlgorithm]) -> Vec<Finding> {
    let value = |k: Key| config.get(k).map(|v| v.value.as_str());
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
    problems
        .into_iter()
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

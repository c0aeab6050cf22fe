//! What a member shows on each of its TLS ports during a CA rotation: which CA issued the
//! certificate it serves, whether it asks clients for a certificate at all, and whether it
//! accepts a client certificate of the new CA and of the old one. etcd reads its trusted CA
//! files only at start, so acceptance is how a restart is seen to have taken effect.
//!
//! A member that completes the handshake and then closes the connection because the probe
//! certificate does not cover the address it came from (etcd's check on peer ports) has
//! accepted the certificate's CA: that counts as accepted here.

use pki_core::{Certificate, HostUrl};
use serde::Serialize;

use super::identities::Identities;
use super::survey::{Cas, IssuedBy};
use crate::connection::Deadline;
use crate::probe::{answers_without_certificate, probe, Identity};
use crate::state::MemberInfo;

/// Which side of a member a port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Side {
    /// A client URL (`--trusted-ca-file`, `--cert-file`).
    Client,
    /// The peer URL (`--peer-trusted-ca-file`, `--peer-cert-file`).
    Peer,
}

/// What one port of a member shows.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PortView {
    /// The URL.
    pub url: String,
    /// Client or peer.
    pub side: Side,
    /// Who issued the certificate it serves (`None`: it could not be reached).
    pub serves: Option<IssuedBy>,
    /// Whether it asks clients for a certificate (`None`: unknown).
    pub requires_certificate: Option<bool>,
    /// Whether it accepts a client certificate of the new CA (`None`: no probe of it).
    pub accepts_new: Option<bool>,
    /// Whether it accepts one of the old CA (`None`: no probe of it).
    pub accepts_old: Option<bool>,
    /// Why something could not be seen.
    pub problem: Option<String>,
}

/// The member's https URLs, client side then peer side.
pub(crate) fn urls(m: &MemberInfo) -> Vec<(HostUrl, Side)> {
    let parse = |urls: &[String], side: Side| -> Vec<(HostUrl, Side)> {
        urls.iter()
            .filter_map(|u| HostUrl::parse(u).ok())
            .filter(|u| u.scheme == "https")
            .map(|u| (u, side))
            .collect()
    };
    let mut out = parse(&m.client_urls, Side::Client);
    out.extend(parse(&m.peer_urls, Side::Peer));
    out
}

/// Looks at every https port of `m`.
pub(crate) async fn view_member(
    m: &MemberInfo,
    cas: &Cas,
    identities: &Identities,
    deadline: Deadline,
) -> Vec<PortView> {
    let mut out = Vec::new();
    for (url, side) in urls(m) {
        out.push(view_port(&url, side, cas, identities, deadline).await);
    }
    out
}

async fn view_port(
    url: &HostUrl,
    side: Side,
    cas: &Cas,
    identities: &Identities,
    deadline: Deadline,
) -> PortView {
    let mut view = PortView {
        url: url.url.clone(),
        side,
        serves: None,
        requires_certificate: None,
        accepts_new: None,
        accepts_old: None,
        problem: None,
    };
    match probe(url, None, None, deadline).await {
        Ok(p) => {
            view.serves = p
                .served
                .first()
                .and_then(|der| Certificate::from_der(der.clone()).ok())
                .map(|c| IssuedBy::of(&c, cas));
        }
        Err(e) => {
            view.problem = Some(e.to_string());
            return view;
        }
    }
    match answers_without_certificate(url, deadline).await {
        Ok(answers) => view.requires_certificate = Some(!answers),
        Err(e) => view.problem = Some(e.to_string()),
    }
    view.accepts_new = accepts(url, identities.new.as_ref().map(|p| &p.identity), deadline).await;
    view.accepts_old = accepts(url, identities.old.as_ref().map(|p| &p.identity), deadline).await;
    view
}

/// Whether the port accepts the identity's CA (`None`: no identity, or no answer).
async fn accepts(url: &HostUrl, id: Option<&Identity>, deadline: Deadline) -> Option<bool> {
    let id = id?;
    match probe(url, Some(id), None, deadline).await {
        Ok(p) => Some(match p.accepted {
            Ok(()) => true,
            Err(refusal) => refusal.depends_on_address,
        }),
        Err(_) => None,
    }
}

/// What a member's ports must show once it has loaded its trust files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Phase 1: both CAs trusted.
    Both,
    /// Phase 3: the new CA alone.
    NewOnly,
    /// A rollback: the old CA alone.
    OldOnly,
}

impl Want {
    /// Whether the views show the member loaded its trust files: `Ok` when they do, `Err`
    /// with what is missing (or why it cannot be told).
    pub(crate) fn shown(self, views: &[PortView]) -> Result<(), String> {
        let verifying: Vec<&PortView> = views
            .iter()
            .filter(|v| v.requires_certificate == Some(true))
            .collect();
        if let Some(v) = views.iter().find(|v| v.problem.is_some()) {
            return Err(format!(
                "{}: {}",
                v.url,
                v.problem.as_deref().unwrap_or_default()
            ));
        }
        if verifying.is_empty() {
            return Err(
                "none of its ports asks clients for a certificate, so what it trusts cannot be seen from outside"
                    .into(),
            );
        }
        for v in verifying {
            let (new, old) = (v.accepts_new, v.accepts_old);
            let problem = match self {
                Want::Both => match (new, old) {
                    (Some(true), Some(true) | None) => None,
                    (None, _) => Some("no probe certificate of the new CA to try".into()),
                    (Some(false), _) => Some("refuses a client certificate of the new CA".into()),
                    (_, Some(false)) => {
                        Some("refuses a client certificate of the old CA".to_string())
                    }
                },
                Want::NewOnly => match (new, old) {
                    (Some(true), Some(false)) => None,
                    (Some(false), _) => Some("refuses a client certificate of the new CA".into()),
                    (_, Some(true)) => {
                        Some("still accepts a client certificate of the old CA".into())
                    }
                    _ => Some("no probe certificate of each CA to try".into()),
                },
                Want::OldOnly => match (new, old) {
                    (Some(false), Some(true)) => None,
                    (_, Some(false)) => Some("refuses a client certificate of the old CA".into()),
                    (Some(true), _) => {
                        Some("still accepts a client certificate of the new CA".into())
                    }
                    _ => Some("no probe certificate of each CA to try".into()),
                },
            };
            if let Some(p) = problem {
                return Err(format!("{} {p}", v.url));
            }
        }
        Ok(())
    }

    /// What the views prove, in words, once [`Want::shown`] holds.
    pub(crate) fn proof(self, views: &[PortView]) -> Vec<String> {
        views
            .iter()
            .map(|v| {
                if v.requires_certificate != Some(true) {
                    return format!(
                        "{} does not ask clients for a certificate: nothing to prove there",
                        v.url
                    );
                }
                let word = |b: Option<bool>| match b {
                    Some(true) => "accepts",
                    Some(false) => "refuses",
                    None => "was not tried with",
                };
                format!(
                    "{} {} a client certificate of the new CA and {} one of the old CA",
                    v.url,
                    word(v.accepts_new),
                    word(v.accepts_old)
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(requires: bool, new: Option<bool>, old: Option<bool>) -> PortView {
        PortView {
            url: "https://10.0.0.1:2379".into(),
            side: Side::Client,
            serves: Some(IssuedBy::Old),
            requires_certificate: Some(requires),
            accepts_new: new,
            accepts_old: old,
            problem: None,
        }
    }

    #[test]
    fn what_each_phase_must_show() {
        let both = [view(true, Some(true), Some(true))];
        assert!(Want::Both.shown(&both).is_ok());
        assert!(Want::NewOnly.shown(&both).is_err());
        let new_only = [view(true, Some(true), Some(false))];
        assert!(Want::NewOnly.shown(&new_only).is_ok());
        assert!(Want::Both.shown(&new_only).is_err());
        let old_only = [view(true, Some(false), Some(true))];
        assert!(Want::OldOnly.shown(&old_only).is_ok());
        let err = Want::Both.shown(&old_only).unwrap_err();
        assert!(
            err.contains("refuses a client certificate of the new CA"),
            "{err}"
        );
        // Without an old-CA probe, phase 1 is shown by the new CA alone; phase 3 is not.
        assert!(Want::Both.shown(&[view(true, Some(true), None)]).is_ok());
        assert!(Want::NewOnly
            .shown(&[view(true, Some(true), None)])
            .is_err());
        // Ports that do not ask for certificates prove nothing.
        let open = [view(false, Some(true), Some(true))];
        assert!(Want::NewOnly.shown(&open).is_err());
        let mixed = [
            view(false, Some(true), Some(true)),
            view(true, Some(true), Some(false)),
        ];
        assert!(Want::NewOnly.shown(&mixed).is_ok());
    }
}

//! `status`: where each member stands in a CA rotation, derived from its files (what its trust
//! files hold, who issued its certificates) and from what it shows on its ports (who issued
//! what it serves; whether it accepts client certificates of each CA). Changes nothing.

use std::path::PathBuf;

use serde::Serialize;

use super::identities::Identities;
use super::setup::{Missing, Setup};
use super::survey::{IssuedBy, TrustState};
use super::views::{view_member, PortView};
use super::{CaRotationEvent, CaRotationRequest};
use crate::connection::Connection;
use crate::error::Result;

/// A member's place in the rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// Its files and ports are as they were: the old CA only.
    NotStarted,
    /// Its trust files hold both CAs; it has not restarted since (phase 1 under way).
    TrustWritten,
    /// It trusts both CAs (phase 1 done for it).
    TrustsBoth,
    /// Some of its certificates are the new CA's, some the old's (phase 2 under way).
    Reissuing,
    /// It serves certificates of the new CA (phase 2 done for it).
    Reissued,
    /// Its trust files hold the new CA alone; it still accepts the old (phase 3 under way).
    NewOnlyWritten,
    /// It trusts the new CA alone (phase 3 done for it).
    Done,
    /// What the files and the ports show does not fit a step of the rotation.
    Unknown,
}

impl Phase {
    /// The last phase done for a member in this place.
    pub fn phases_done(self) -> u8 {
        match self {
            Phase::NotStarted | Phase::TrustWritten | Phase::Unknown => 0,
            Phase::TrustsBoth | Phase::Reissuing => 1,
            Phase::Reissued | Phase::NewOnlyWritten => 2,
            Phase::Done => 3,
        }
    }
}

/// One member's place.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MemberPhase {
    /// The member.
    pub member: String,
    /// Its directory of files.
    #[serde(serialize_with = "pki_core::serde_path::path")]
    pub dir: PathBuf,
    /// What its trust files hold.
    pub trust_files: TrustState,
    /// Who issued its certificates.
    pub certificates: IssuedBy,
    /// What each of its ports shows.
    pub ports: Vec<PortView>,
    /// Where it stands.
    pub phase: Phase,
}

/// Where a rotation stands.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct StatusReport {
    /// The old CA's subject, when known.
    pub old_ca: Option<String>,
    /// The new CA's subject.
    pub new_ca: String,
    /// Each member.
    pub members: Vec<MemberPhase>,
    /// Each client CA file and what it holds.
    pub client_ca_files: Vec<(String, TrustState)>,
    /// Each client certificate and who issued it.
    pub client_certs: Vec<(String, IssuedBy)>,
    /// The last phase done for every member (0 to 3).
    pub phases_done: u8,
    /// Directories holding a write a killed run left unfinished (`apply`, or `etcd-pki
    /// recover`, finishes or undoes it).
    #[serde(serialize_with = "pki_core::serde_path::paths")]
    pub interrupted: Vec<PathBuf>,
}

/// Says where the rotation to `req.new_ca` stands (see the module docs).
///
/// # Errors
/// No rotation began (the new CA does not exist), unreadable files, etcd unreachable.
pub async fn status(conn: &Connection, req: &CaRotationRequest) -> Result<StatusReport> {
    let mut ignore = |_: CaRotationEvent| {};
    let setup = Setup::new(conn, req, Missing::Refuse, &mut ignore).await?;
    let cas = &setup.cas;
    let ids = Identities::new(
        conn,
        cas.old.as_ref(),
        &cas.new,
        setup.old_ca.as_ref(),
        setup.new_ca.as_ref(),
        req.at,
    )?;
    let tool = ids.connection()?;
    let mut members = Vec::new();
    for m in setup.list.members.iter().filter(|m| m.started()) {
        let Some(target) = setup.survey.target_of(&m.name) else {
            continue;
        };
        let ports = view_member(m, cas, &ids, tool.deadline()).await;
        let trust = target.trust(cas);
        let certificates = target.issued_by(cas);
        members.push(MemberPhase {
            member: m.name.clone(),
            dir: target.dir.clone(),
            trust_files: trust,
            certificates,
            phase: phase_of(trust, certificates, &ports),
            ports,
        });
    }
    Ok(StatusReport {
        old_ca: cas.old.as_ref().map(|c| c.subject().to_string()),
        new_ca: cas.new.subject().to_string(),
        phases_done: members
            .iter()
            .map(|m| m.phase.phases_done())
            .min()
            .unwrap_or(0),
        members,
        interrupted: setup.survey.interrupted.clone(),
        client_ca_files: setup
            .survey
            .client_ca_files
            .iter()
            .map(|f| {
                (
                    pki_core::display_path(&f.path).into_owned(),
                    cas.trust_of(&f.certificates),
                )
            })
            .collect(),
        client_certs: setup
            .survey
            .client_certs
            .iter()
            .map(|f| {
                let by = f
                    .certificates
                    .first()
                    .map_or(IssuedBy::Neither, |c| IssuedBy::of(c, cas));
                (pki_core::display_path(&f.path).into_owned(), by)
            })
            .collect(),
    })
}

/// A member's place from its files and ports.
pub(crate) fn phase_of(trust: TrustState, certificates: IssuedBy, ports: &[PortView]) -> Phase {
    let verifying: Vec<&PortView> = ports
        .iter()
        .filter(|p| p.requires_certificate == Some(true))
        .collect();
    let accepts_new =
        !verifying.is_empty() && verifying.iter().all(|p| p.accepts_new == Some(true));
    let refuses_old =
        !verifying.is_empty() && verifying.iter().all(|p| p.accepts_old == Some(false));
    let serves_new = !ports.is_empty() && ports.iter().all(|p| p.serves == Some(IssuedBy::New));
    match trust {
        TrustState::Old => Phase::NotStarted,
        TrustState::Both if !accepts_new => Phase::TrustWritten,
        TrustState::Both => match certificates {
            IssuedBy::Old => Phase::TrustsBoth,
            IssuedBy::New if serves_new => Phase::Reissued,
            _ => Phase::Reissuing,
        },
        TrustState::New if refuses_old && accepts_new => Phase::Done,
        TrustState::New => Phase::NewOnlyWritten,
        _ => Phase::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca_rotation::views::Side;

    fn port(serves: IssuedBy, new: bool, old: bool) -> PortView {
        PortView {
            url: "https://10.0.0.1:2380".into(),
            side: Side::Peer,
            serves: Some(serves),
            requires_certificate: Some(true),
            accepts_new: Some(new),
            accepts_old: Some(old),
            problem: None,
        }
    }

    #[test]
    fn each_step_of_a_rotation_is_told_apart() {
        use IssuedBy as I;
        use TrustState as T;
        let cases = [
            (T::Old, I::Old, port(I::Old, false, true), Phase::NotStarted),
            (
                T::Both,
                I::Old,
                port(I::Old, false, true),
                Phase::TrustWritten,
            ),
            (T::Both, I::Old, port(I::Old, true, true), Phase::TrustsBoth),
            (
                T::Both,
                I::Mixed,
                port(I::Old, true, true),
                Phase::Reissuing,
            ),
            (T::Both, I::New, port(I::Old, true, true), Phase::Reissuing),
            (T::Both, I::New, port(I::New, true, true), Phase::Reissued),
            (
                T::New,
                I::New,
                port(I::New, true, true),
                Phase::NewOnlyWritten,
            ),
            (T::New, I::New, port(I::New, true, false), Phase::Done),
            (T::Mixed, I::New, port(I::New, true, false), Phase::Unknown),
        ];
        for (trust, issued, p, want) in cases {
            assert_eq!(
                phase_of(trust, issued, std::slice::from_ref(&p)),
                want,
                "{trust:?} {issued:?} {p:?}"
            );
        }
        assert_eq!(Phase::Reissued.phases_done(), 2);
    }
}

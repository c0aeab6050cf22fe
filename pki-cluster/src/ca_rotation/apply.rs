//! `apply`: the three phases (see the module docs of [`super`]), each resumed from what the
//! files and the cluster show, and the rollback from phase 1 or 2.

use std::time::Duration;

use pki_core::write::{write_all_as, FileWrite};
use pki_core::{
    bundle_pem, rebundle, reissue_file, same_file, CertPool, Certificate, CertificateAuthority,
    ReissueRequest,
};
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::identities::Identities;
use super::roll::{ready, roll, Roll, Stop};
use super::setup::{Missing, Setup};
use super::survey::issued;
use super::survey::{Cas, IssuedBy, Survey, Target};
use super::views::{urls, view_member, Side, Want};
use super::{CaRotationEvent, CaRotationOutcome, CaRotationRequest, Hook, Hooks};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::probe::{probe, Identity};
use crate::rotate::prove::keeps_up;
use crate::rotate::{rotate_with, RotateOutcome, RotationFile, RotationTarget, Serves, Signing};
use crate::state::{member_list, MemberInfo};

/// How often served certificates are looked at while waiting for them to change.
const POLL: Duration = Duration::from_millis(250);

/// Runs the rotation (or the rollback) from where the files and the cluster say it stands.
///
/// # Errors
/// Bad input (no restart hook, a new CA that cannot sign, unreadable files, an old CA that
/// cannot be told) before anything is written; etcd unreachable; a write that failed (every
/// file of that write is as it was).
pub async fn apply(
    conn: &Connection,
    req: &CaRotationRequest,
    hooks: Hooks<'_>,
    mut events: impl FnMut(CaRotationEvent),
) -> Result<CaRotationOutcome> {
    let events: &mut dyn FnMut(CaRotationEvent) = &mut events;
    let Hooks { restart, mut sync } = hooks;
    let mut restart = restart.ok_or_else(|| {
        Error::Input(
            "a restart hook is needed: etcd reads its trusted CA files only at start".into(),
        )
    })?;
    let missing = if req.rollback {
        Missing::Refuse
    } else {
        Missing::Imagine
    };
    let mut setup = Setup::new(conn, req, missing, events).await?;
    let cas = setup.cas.clone();
    let Some(old) = cas.old.clone() else {
        events(CaRotationEvent::AlreadyDone {
            phase: 3,
            what: "no file refers to another CA than the new one any more".into(),
        });
        return Ok(CaRotationOutcome::Done { phase: 3 });
    };
    let ids = Identities::new(
        conn,
        Some(&old),
        &cas.new,
        setup.old_ca.as_ref(),
        setup.new_ca.as_ref(),
        req.at,
    )?;
    let phase_three = setup.survey.any_new_only(&cas);
    // From phase 3 on, members refuse the old CA: the tool presents the new CA's probe.
    let tool = if phase_three && !req.rollback {
        ids.new_ca_connection()?
    } else {
        ids.connection()?
    };
    // Nothing is written while a member is down or unhealthy.
    if let Some(why) = ready(&tool, &setup.list.members).await {
        return Ok(stopped(if phase_three { 3 } else { 1 }, None, why));
    }
    // A write a killed run left unfinished is finished or undone first.
    if !setup.survey.interrupted.is_empty() {
        for dir in &setup.survey.interrupted {
            let report = pki_core::recover(dir)?;
            for r in &report.recovered {
                events(CaRotationEvent::Recovered {
                    journal: r.journal.clone(),
                    rolled_forward: r.outcome == pki_core::RecoveryOutcome::RolledForward,
                    files: r.files.clone(),
                });
            }
        }
        setup.survey = reread(&tool, req).await?;
    }
    setup.write_new_ca(req, events)?;
    let new_ca = setup.new_ca.as_ref().ok_or_else(|| {
        Error::Input(format!(
            "{} is missing: the new CA's key is needed to sign",
            pki_core::display_path(&req.new_ca_key)
        ))
    })?;
    let mut ctx = Context {
        req,
        cas: &cas,
        ids: &ids,
        restart: &mut restart,
        sync: sync.as_mut(),
        events,
    };
    if req.rollback {
        return rollback(&tool, &setup, &mut ctx).await;
    }
    let mut survey = setup.survey;
    if survey.any_new_only(&cas) {
        if req.through_phase < 3 {
            return Ok(stopped(
                3,
                None,
                "phase 3 has begun (a trust file holds the new CA alone): run without --through-phase to finish it".into(),
            ));
        }
        (ctx.events)(CaRotationEvent::AlreadyDone {
            phase: 2,
            what: "a trust file already holds the new CA alone: phases 1 and 2 were done".into(),
        });
    } else {
        (ctx.events)(CaRotationEvent::Phase {
            phase: 1,
            title: "trust both CAs: write a bundle of the old and the new CA to every trust file, restart the members one at a time".into(),
        });
        write_trust(
            &survey,
            &cas,
            &[&old],
            &[&old, &cas.new],
            None,
            1,
            "trust files now hold the old and the new CA",
            ctx.events,
        )?;
        survey = reread(&tool, req).await?;
        if let Some(stop) = ctx.roll(&tool, &survey, 1, Want::Both).await? {
            return Ok(stopped(1, stop.member, stop.why));
        }
        if req.through_phase == 1 {
            return Ok(CaRotationOutcome::Done { phase: 1 });
        }
        (ctx.events)(CaRotationEvent::Phase {
            phase: 2,
            title:
                "reissue every leaf certificate from the new CA, and prove each member serves it"
                    .into(),
        });
        if let Some(stop) =
            move_leaves(&tool, &survey, &mut ctx, &old, new_ca, IssuedBy::New).await?
        {
            return Ok(stopped(2, stop.member, stop.why));
        }
        survey = reread(&tool, req).await?;
        if req.through_phase == 2 {
            return Ok(CaRotationOutcome::Done { phase: 2 });
        }
    }

    // Phase 3, only when nothing the tool can see still needs the old CA.
    (ctx.events)(CaRotationEvent::Phase {
        phase: 3,
        title: "trust only the new CA: write it alone to every trust file, restart the members one at a time".into(),
    });
    if let Some(why) = phase_three_gate(&survey, &cas, &ids) {
        return Ok(stopped(3, None, why));
    }
    (ctx.events)(CaRotationEvent::Warning {
        what: format!(
            "from now on the members refuse client certificates of the old CA: {} listed client certificate(s) checked (all from the new CA); clients not listed (kube-apiserver's --etcd-certfile, backup and monitoring jobs) could not be checked from here",
            survey.client_certs.len()
        ),
    });
    let new_key = Zeroizing::new(pki_core::read_file(&req.new_ca_key)?);
    write_trust(
        &survey,
        &cas,
        &[&old],
        &[&cas.new],
        Some((&old, new_key)),
        3,
        "trust files now hold the new CA alone (CA keys beside them are the new CA's)",
        ctx.events,
    )?;
    let tool = ids.new_ca_connection()?;
    survey = reread(&tool, req).await?;
    if let Some(stop) = ctx.roll(&tool, &survey, 3, Want::NewOnly).await? {
        return Ok(stopped(3, stop.member, stop.why));
    }
    Ok(CaRotationOutcome::Done { phase: 3 })
}

/// What the steps share.
struct Context<'a, 'h> {
    req: &'a CaRotationRequest,
    cas: &'a Cas,
    ids: &'a Identities,
    restart: &'a mut Hook<'h>,
    sync: Option<&'a mut Hook<'h>>,
    events: &'a mut dyn FnMut(CaRotationEvent),
}

impl Context<'_, '_> {
    async fn roll(
        &mut self,
        tool: &Connection,
        survey: &Survey,
        phase: u8,
        want: Want,
    ) -> Result<Option<Stop>> {
        let mut r = Roll {
            conn: tool,
            identities: self.ids,
            cas: self.cas,
            survey,
            restart: &mut *self.restart,
            sync: self.sync.as_deref_mut(),
            timeout: self.req.timeout,
            phase,
        };
        roll(&mut r, want, self.events).await
    }
}

fn stopped(phase: u8, member: Option<String>, why: String) -> CaRotationOutcome {
    CaRotationOutcome::Stopped { phase, member, why }
}

async fn reread(conn: &Connection, req: &CaRotationRequest) -> Result<Survey> {
    let list = member_list(conn).await?;
    Survey::read(
        &req.members_dir,
        &list.members,
        &req.client_ca_files,
        &req.client_certs,
    )
}

/// The writes that make every trust file of the rotation (members' and clients') hold `with`
/// in place of `replaced`, and with `ca_key`, every key file of the old CA in the members'
/// directories the new CA's key; files already so are left out. Also the trust files that hold
/// neither CA (left alone).
pub(super) fn trust_writes(
    survey: &Survey,
    cas: &Cas,
    replaced: &[&Certificate],
    with: &[&Certificate],
    ca_key: Option<(&Certificate, Zeroizing<Vec<u8>>)>,
) -> (Vec<FileWrite>, Vec<std::path::PathBuf>) {
    let mut writes: Vec<FileWrite> = Vec::new();
    let mut untouched = Vec::new();
    let add = |write: FileWrite, writes: &mut Vec<FileWrite>| {
        if !writes.iter().any(|w| same_file(&w.path, &write.path)) {
            writes.push(write);
        }
    };
    let ders = |v: &[Certificate]| v.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>();
    let trust_files = survey
        .targets
        .iter()
        .flat_map(|t| {
            t.trust_files(cas)
                .map(|(f, _)| (f.path.clone(), f.certificates.clone()))
        })
        .chain(
            survey
                .client_ca_files
                .iter()
                .map(|f| (f.path.clone(), f.certificates.clone())),
        );
    for (path, current) in trust_files {
        match rebundle(&current, replaced, with) {
            Some(next) if ders(&next) != ders(&current) => {
                add(FileWrite::public(&path, bundle_pem(&next)), &mut writes);
            }
            Some(_) => {}
            None => untouched.push(path),
        }
    }
    if let Some((old, key)) = ca_key {
        for t in &survey.targets {
            for k in t.pki.key_files_of(old) {
                add(FileWrite::secret(k, key.clone()), &mut writes);
            }
        }
    }
    (writes, untouched)
}

/// Writes [`trust_writes`] in one transaction.
#[allow(clippy::too_many_arguments)]
fn write_trust(
    survey: &Survey,
    cas: &Cas,
    replaced: &[&Certificate],
    with: &[&Certificate],
    ca_key: Option<(&Certificate, Zeroizing<Vec<u8>>)>,
    phase: u8,
    what: &str,
    events: &mut dyn FnMut(CaRotationEvent),
) -> Result<()> {
    let (writes, untouched) = trust_writes(survey, cas, replaced, with, ca_key);
    for path in untouched {
        events(CaRotationEvent::Warning {
            what: format!(
                "{} holds neither the old nor the new CA: left as it is",
                pki_core::display_path(&path)
            ),
        });
    }
    if writes.is_empty() {
        events(CaRotationEvent::AlreadyDone {
            phase,
            what: format!("{what} (every file already did)"),
        });
        return Ok(());
    }
    let written = write_all_as("ca-rotate", &writes)?;
    events(CaRotationEvent::Wrote {
        what: what.to_string(),
        files: written.files,
        backups: written.backups.into_iter().map(|(_, b)| b).collect(),
    });
    Ok(())
}

/// Where a leaf file of a target is served, judged as `rotate` judges it.
fn serves(target: &Target, path: &std::path::Path) -> Serves {
    let Ok(roles) = pki_core::member_files(&target.dir) else {
        return Serves::Nowhere;
    };
    let is = |role: &Option<pki_core::CertAndKey>| {
        role.as_ref()
            .is_some_and(|r| same_file(&target.dir.join(&r.cert), path))
    };
    match (is(&roles.server), is(&roles.peer)) {
        (true, true) => Serves::Both,
        (true, false) => Serves::Client,
        (false, true) => Serves::Peer,
        (false, false) => Serves::Nowhere,
    }
}

/// Phase 2 (`to` = new) or its undo (`to` = old): every leaf in the members' directories and
/// every listed client certificate issued by the other CA is reissued by `signer` (same
/// subject, SANs, usages, key unless new keys were asked for), and each member is shown to
/// serve certificates of `to` on every port, with the cluster whole.
async fn move_leaves(
    tool: &Connection,
    survey: &Survey,
    ctx: &mut Context<'_, '_>,
    from: &Certificate,
    signer: &CertificateAuthority,
    to: IssuedBy,
) -> Result<Option<Stop>> {
    let targets: Vec<RotationTarget> = survey
        .targets
        .iter()
        .map(|t| RotationTarget {
            members: t.members.clone(),
            dir: Some(t.dir.clone()),
            files: t
                .pki
                .leaves
                .iter()
                .filter(|l| issued(&l.certificate, from))
                .map(|l| RotationFile::new(l.path.clone(), l.key.clone(), serves(t, &l.path)))
                .collect(),
        })
        .collect();
    let mut request = ReissueRequest::renew(ctx.req.at).issued_by(from.clone());
    if ctx.req.new_keys {
        request = request.new_key();
    }
    let signing = Signing {
        ca: signer,
        issuer: std::iter::once(from.clone()).collect::<CertPool>(),
        request: request.clone(),
        due: Box::new(|_| true),
    };
    let events = &mut *ctx.events;
    let outcome = rotate_with(
        tool,
        &targets,
        &signing,
        ctx.req.timeout,
        false,
        ctx.sync.as_deref_mut(),
        |e| events(CaRotationEvent::Leaf(e)),
    )
    .await?;
    if let RotateOutcome::Failed {
        member,
        why,
        restored,
    } = outcome
    {
        let back = if restored {
            "the member's files were put back"
        } else {
            "its files could not all be put back: restore them from their backups (NAME.bak.*)"
        };
        return Ok(Some(Stop {
            member: Some(member),
            why: format!("{why}; {back}"),
        }));
    }

    // The clients' certificates.
    for client in &survey.client_certs {
        // As it is now: a listed client certificate may be a member's file reissued above.
        let Some(cert) = pki_core::load_certificates(&client.path)?
            .into_iter()
            .next()
        else {
            continue;
        };
        if !issued(&cert, from) {
            continue;
        }
        let done = reissue_file(&client.path, client.key.as_ref(), signer, &request)
            .map_err(Error::from)?;
        let backup = done
            .written
            .backups
            .iter()
            .find(|(f, _)| same_file(f, &client.path))
            .map(|(_, b)| b.clone());
        (ctx.events)(CaRotationEvent::ClientReissued {
            file: client.path.clone(),
            by_new_ca: to == IssuedBy::New,
            backup,
        });
    }

    // Every member serves certificates of `to` on every port, and the cluster is whole.
    let list = member_list(tool).await?;
    for m in list.members.iter().filter(|m| m.started()) {
        if let Err(why) = serves_all(tool, m, ctx, to).await {
            return Ok(Some(Stop {
                member: Some(m.name.clone()),
                why,
            }));
        }
    }
    let deadline = Instant::now() + ctx.req.timeout;
    if let Err(why) = keeps_up(tool, &list.members, deadline).await {
        return Ok(Some(Stop { member: None, why }));
    }
    // Each client certificate with its key is accepted by every member.
    for client in survey.client_certs.iter() {
        let Some(key) = &client.key else {
            (ctx.events)(CaRotationEvent::Warning {
                what: format!(
                    "{}: no key given, so whether the members accept it was not tried",
                    pki_core::display_path(&client.path)
                ),
            });
            continue;
        };
        let id = Identity::from_files(&client.path, key)?;
        for m in list.members.iter().filter(|m| m.started()) {
            for (url, side) in urls(m) {
                if side != Side::Client {
                    continue;
                }
                let p = probe(&url, Some(&id), None, tool.deadline()).await?;
                if let Err(refusal) = p.accepted {
                    return Ok(Some(Stop {
                        member: Some(m.name.clone()),
                        why: format!(
                            "{} refuses the reissued client certificate {}: {}",
                            url.url,
                            pki_core::display_path(&client.path),
                            refusal.reason
                        ),
                    }));
                }
                (ctx.events)(CaRotationEvent::Proven {
                    member: m.name.clone(),
                    what: format!(
                        "{} accepts the client certificate {}",
                        url.url,
                        pki_core::display_path(&client.path)
                    ),
                });
            }
        }
    }
    Ok(None)
}

/// Waits until every port of `m` serves a certificate of `to`.
async fn serves_all(
    tool: &Connection,
    m: &MemberInfo,
    ctx: &mut Context<'_, '_>,
    to: IssuedBy,
) -> std::result::Result<(), String> {
    let deadline = Instant::now() + ctx.req.timeout;
    let which = if to == IssuedBy::New { "new" } else { "old" };
    loop {
        let views = view_member(m, ctx.cas, ctx.ids, deadline).await;
        let wrong: Vec<String> = views
            .iter()
            .filter(|v| v.serves != Some(to))
            .map(|v| {
                format!(
                    "{} serves {}",
                    v.url,
                    match (v.serves, &v.problem) {
                        (_, Some(p)) => p.clone(),
                        (Some(IssuedBy::Old), _) => "a certificate of the old CA".into(),
                        (Some(IssuedBy::New), _) => "a certificate of the new CA".into(),
                        _ => "a certificate of another CA".into(),
                    }
                )
            })
            .collect();
        if wrong.is_empty() {
            (ctx.events)(CaRotationEvent::Proven {
                member: m.name.clone(),
                what: format!(
                    "serves certificates of the {which} CA on every port ({})",
                    views
                        .iter()
                        .map(|v| v.url.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            let _ = tool;
            return Ok(());
        }
        if Instant::now() + POLL >= deadline {
            return Err(format!(
                "{} after {:?}: are the files in the members' directory the ones it reads?",
                wrong.join("; "),
                ctx.req.timeout
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Why phase 3 must not begin, if so.
fn phase_three_gate(survey: &Survey, cas: &Cas, ids: &Identities) -> Option<String> {
    let clients = survey.clients_not_new(cas);
    if !clients.is_empty() {
        return Some(format!(
            "client certificates still from the old CA would be refused after phase 3: {}; reissue them from the new CA first (phase 2 does it for those listed with their files)",
            clients
                .iter()
                .map(|c| pki_core::display_path(&c.path).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let old_leaves: Vec<String> = survey
        .targets
        .iter()
        .filter(|t| matches!(t.issued_by(cas), IssuedBy::Old | IssuedBy::Mixed))
        .map(|t| pki_core::display_path(&t.dir).into_owned())
        .collect();
    if !old_leaves.is_empty() {
        return Some(format!(
            "certificates of the old CA remain in {}: phase 2 is not done",
            old_leaves.join(", ")
        ));
    }
    if ids.old.is_none() {
        return Some(
            "no client certificate of the old CA to prove the members refuse it: give the old CA's key".into(),
        );
    }
    None
}

/// The rollback: leaves back to the old CA, trust files back to the old CA alone, a roll.
async fn rollback(
    tool: &Connection,
    setup: &Setup,
    ctx: &mut Context<'_, '_>,
) -> Result<CaRotationOutcome> {
    let cas = ctx.cas;
    let Some(old) = cas.old.clone() else {
        return Ok(stopped(0, None, "the old CA is not known: give it".into()));
    };
    let survey = &setup.survey;
    if survey.any_new_only(cas) {
        return Ok(stopped(
            3,
            None,
            "phase 3 has begun (a trust file holds the new CA alone): members may already refuse the old CA, so a rollback is not possible; finish the rotation with apply".into(),
        ));
    }
    (ctx.events)(CaRotationEvent::Phase {
        phase: 0,
        title: "rollback: leaves back to the old CA, then trust files back to the old CA alone, restarting the members one at a time".into(),
    });
    if matches!(survey.issued_by(cas), IssuedBy::New | IssuedBy::Mixed) {
        let Some(old_ca) = setup.old_ca.as_ref() else {
            return Ok(stopped(
                2,
                None,
                "certificates of the new CA must go back to the old CA, and the old CA's key is needed for that: give it".into(),
            ));
        };
        let new = cas.new.clone();
        if let Some(stop) = move_leaves(tool, survey, ctx, &new, old_ca, IssuedBy::Old).await? {
            return Ok(stopped(2, stop.member, stop.why));
        }
    }
    let conn_list = member_list(tool).await?;
    let survey = Survey::read(
        &ctx.req.members_dir,
        &conn_list.members,
        &ctx.req.client_ca_files,
        &ctx.req.client_certs,
    )?;
    write_trust(
        &survey,
        cas,
        &[&cas.new],
        &[&old],
        None,
        0,
        "trust files now hold the old CA alone again",
        ctx.events,
    )?;
    let survey = Survey::read(
        &ctx.req.members_dir,
        &conn_list.members,
        &ctx.req.client_ca_files,
        &ctx.req.client_certs,
    )?;
    if let Some(stop) = ctx.roll(tool, &survey, 0, Want::OldOnly).await? {
        return Ok(stopped(0, stop.member, stop.why));
    }
    Ok(CaRotationOutcome::RolledBack)
}

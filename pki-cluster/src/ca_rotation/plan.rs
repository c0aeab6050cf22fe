//! `plan`: every step `apply` would take from where the rotation stands, with the files it
//! would write and the members it would restart, in order. Nothing is written (a new CA that
//! does not exist yet is made in memory only, to plan with) and nothing is restarted.

use std::path::PathBuf;

use pki_core::Certificate;
use serde::Serialize;
use zeroize::Zeroizing;

use super::apply::trust_writes;
use super::roll::restart_order;
use super::setup::{Missing, Setup};
use super::survey::issued;
use super::survey::Survey;
use super::{CaRotationEvent, CaRotationRequest};
use crate::connection::Connection;
use crate::error::Result;
use crate::rotate::SyncContext;
use crate::state::MemberInfo;

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepKind {
    /// Create the new CA.
    CreateCa,
    /// Write files (one transaction, with backups).
    Write,
    /// Reissue certificates from the other CA.
    Reissue,
    /// Run the sync hook for a member.
    Sync,
    /// Restart a member through the restart hook, then prove it.
    Restart,
    /// A check that must pass before going on.
    Check,
}

/// One step.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlanStep {
    /// Its phase (0: a rollback).
    pub phase: u8,
    /// What kind of step.
    pub kind: StepKind,
    /// What it does, in words.
    pub action: String,
    /// The files it writes.
    #[serde(serialize_with = "pki_core::serde_path::paths")]
    pub files: Vec<PathBuf>,
    /// The member a hook runs for.
    #[serde(skip)]
    pub member: Option<SyncContext>,
}

impl PlanStep {
    fn new(phase: u8, kind: StepKind, action: impl Into<String>) -> PlanStep {
        PlanStep {
            phase,
            kind,
            action: action.into(),
            files: Vec::new(),
            member: None,
        }
    }

    fn files(mut self, files: Vec<PathBuf>) -> PlanStep {
        self.files = files;
        self
    }
}

/// The steps `apply` would take (see the module docs).
///
/// # Errors
/// Unreadable files, an old CA that cannot be told, etcd unreachable.
pub async fn plan(conn: &Connection, req: &CaRotationRequest) -> Result<Vec<PlanStep>> {
    let mut noted: Vec<CaRotationEvent> = Vec::new();
    let missing = if req.rollback {
        Missing::Refuse
    } else {
        Missing::Imagine
    };
    let setup = Setup::new(conn, req, missing, &mut |e| noted.push(e)).await?;
    let cas = &setup.cas;
    let survey = &setup.survey;
    let mut steps = Vec::new();
    if !setup.new_exists {
        steps.push(
            PlanStep::new(
                1,
                StepKind::CreateCa,
                format!(
                    "create the new CA {} ({}, valid until {})",
                    cas.new.subject(),
                    cas.new.key_algorithm(),
                    pki_core::rfc3339(cas.new.not_after())
                ),
            )
            .files(vec![req.new_ca.clone(), req.new_ca_key.clone()]),
        );
    }
    let Some(old) = cas.old.as_ref() else {
        steps.push(PlanStep::new(
            3,
            StepKind::Check,
            "nothing refers to another CA than the new one: nothing to do",
        ));
        return Ok(steps);
    };
    let order = restart_order(conn, &setup.list.members).await;
    let leader = order.last().map(|m| m.name.clone()).unwrap_or_default();
    let new = &cas.new;
    if req.rollback {
        if survey.any_new_only(cas) {
            steps.push(PlanStep::new(
                3,
                StepKind::Check,
                "phase 3 has begun: no rollback is possible; finish with apply",
            ));
            return Ok(steps);
        }
        steps.extend(leaf_steps(0, survey, new, "back to the old CA"));
        let (writes, _) = trust_writes(survey, cas, &[new], &[old], None);
        steps.push(
            PlanStep::new(
                0,
                StepKind::Write,
                "write the old CA alone to the trust files",
            )
            .files(writes.into_iter().map(|w| w.path).collect()),
        );
        steps.extend(roll_steps(
            0,
            survey,
            &order,
            &leader,
            "refuses a client certificate of the new CA and accepts one of the old",
        ));
        return Ok(steps);
    }
    if !survey.any_new_only(cas) {
        let (writes, _) = trust_writes(survey, cas, &[old], &[old, new], None);
        steps.push(
            PlanStep::new(
                1,
                StepKind::Write,
                "write a bundle of the old and the new CA to the trust files (members' and clients')",
            )
            .files(writes.into_iter().map(|w| w.path).collect()),
        );
        steps.extend(roll_steps(
            1,
            survey,
            &order,
            &leader,
            "accepts a client certificate of the new CA and still one of the old",
        ));
        if req.through_phase == 1 {
            return Ok(steps);
        }
        steps.extend(leaf_steps(2, survey, old, "from the new CA"));
        steps.push(PlanStep::new(
            2,
            StepKind::Check,
            "prove every member serves certificates of the new CA on every port, its peers accept its new peer certificate, and every member keeps up with the leader",
        ));
        if req.through_phase == 2 {
            return Ok(steps);
        }
    }
    steps.push(PlanStep::new(
        3,
        StepKind::Check,
        format!(
            "every listed client certificate ({}) must be from the new CA, and the members' certificates all of it; clients not listed cannot be checked and will be refused if they still use the old CA",
            survey.client_certs.len()
        ),
    ));
    let (writes, _) = trust_writes(
        survey,
        cas,
        &[old],
        &[new],
        Some((old, Zeroizing::new(Vec::new()))),
    );
    steps.push(
        PlanStep::new(
            3,
            StepKind::Write,
            "write the new CA alone to the trust files, and the new CA's key over the old CA's key files beside them",
        )
        .files(writes.into_iter().map(|w| w.path).collect()),
    );
    steps.extend(roll_steps(
        3,
        survey,
        &order,
        &leader,
        "refuses a client certificate of the old CA and accepts one of the new",
    ));
    Ok(steps)
}

/// The reissue of every leaf (members' and listed clients') of `from`.
fn leaf_steps(phase: u8, survey: &Survey, from: &Certificate, words: &str) -> Vec<PlanStep> {
    let mut files: Vec<PathBuf> = survey
        .targets
        .iter()
        .flat_map(|t| t.pki.leaves.iter())
        .filter(|l| issued(&l.certificate, from))
        .map(|l| l.path.clone())
        .collect();
    files.extend(
        survey
            .client_certs
            .iter()
            .filter(|c| {
                c.certificates
                    .first()
                    .is_some_and(|cert| issued(cert, from))
            })
            .map(|c| c.path.clone()),
    );
    vec![PlanStep::new(
        phase,
        StepKind::Reissue,
        format!(
            "reissue {} certificate(s) {words}: same subject, SANs, usages and key; new serial; backups kept",
            files.len()
        ),
    )
    .files(files)]
}

/// A roll: sync and restart each member, followers first, the leader last.
fn roll_steps(
    phase: u8,
    survey: &Survey,
    order: &[MemberInfo],
    leader: &str,
    proof: &str,
) -> Vec<PlanStep> {
    let mut steps = Vec::new();
    for m in order {
        let dir = survey
            .target_of(&m.name)
            .map(|t| t.dir.clone())
            .unwrap_or_default();
        let ctx = SyncContext::of(m, &dir);
        let mut sync = PlanStep::new(
            phase,
            StepKind::Sync,
            format!("copy {}'s files to its host", m.name),
        );
        sync.member = Some(ctx.clone());
        steps.push(sync);
        let lead = if m.name == leader {
            " (the leader now: leadership is handed over first)"
        } else {
            ""
        };
        let mut restart = PlanStep::new(
            phase,
            StepKind::Restart,
            format!(
                "restart {}{lead}, once every member is healthy; then prove it is healthy, caught up, and {proof}",
                m.name
            ),
        );
        restart.member = Some(ctx);
        steps.push(restart);
    }
    steps
}

//! Which Go's rules a command that talks to the cluster judges host coverage by, where the Gos
//! etcd is built with decide differently (see [`pki_core::GoRules`]): those of the etcd the
//! cluster's members run, as each reports its version in the maintenance Status that
//! [`ClusterState`] already fetches; or those the caller asks for.
//!
//! The decision, a pure function ([`AppliedRules::decide`]):
//!
//! - asked for ([`RulesChoice::Given`]): those rules, whatever the cluster runs;
//! - every member on one minor version: that version's rules;
//! - mixed versions (an upgrade in progress): a certificate serves every member, and a new
//!   member may run either version (and peers on both judge it), so a host must be covered
//!   under the rules of **every** version present; where those verdicts differ, the stricter one
//!   stands and the finding names both (pki-core's coverage message says which rules refuse);
//! - a member running a version whose Go rules are not known (3.6, ...): the default (newest)
//!   rules stand in for it, and a warning says so;
//! - a member whose version could not be had (down, unreachable): it may run either version (it
//!   may be the one member not yet upgraded, or already upgraded), and it will judge the
//!   certificates when it is back, so every Go's rules apply, and a warning names it;
//! - no member to ask at all: the default rules, with a warning.
//!
//! Where it is used: `preflight`, `add_member` and `scale_out` (from the cluster's status);
//! `doctor` (the cluster's, since the other members judge a member's certificates; without the
//! cluster, the member's own version when its configuration tells it: [`AppliedRules::of_member`]);
//! `served` for `scan --cluster` ([`AppliedRules::ask`]); `upgrade::plan` (the versions running
//! and the target's, as the members will judge the certificates on both); `restore`, which has no
//! cluster to ask ([`AppliedRules::without_cluster`]).
//!
//! The rules applied are one finding of their own ([`CheckId::GoRules`]) in the command's
//! findings, so every verdict (text, table or JSON) names them.
//!
//! Not yet by these rules: the reading of a host from a URL (member URLs are parsed as the newest
//! Go reads them; `Host::parse_with` differs only for unusual IP spellings).

use pki_core::{
    covers_with, Certificate, CheckId, CheckInput, Finding, GoRules, Host, Report, Status,
};
use serde::Serialize;

use crate::connection::Connection;
use crate::state::ClusterState;

/// How the caller wants the rules chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RulesChoice {
    /// From the versions the cluster's members report (the default).
    #[default]
    FromCluster,
    /// These rules, whatever the cluster runs (the CLI's `--etcd-version`).
    Given(GoRules),
}

/// Where the rules applied came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RulesSource {
    /// The caller gave them.
    Given,
    /// The versions the members report.
    Cluster,
    /// The version the member checked runs, as its configuration says (without the cluster).
    Member,
    /// The default (newest): the cluster could not tell.
    Default,
}

/// The rules a command judged hosts by, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppliedRules {
    /// Every rule set a host must be covered under, oldest first; never empty.
    pub rules: Vec<GoRules>,
    /// Where they came from.
    pub source: RulesSource,
    /// What the cluster could not tell (members whose version is unknown or could not be had).
    pub notes: Vec<String>,
}

impl Default for AppliedRules {
    /// The default rules, chosen by nobody.
    fn default() -> AppliedRules {
        AppliedRules {
            rules: vec![GoRules::default()],
            source: RulesSource::Default,
            notes: Vec::new(),
        }
    }
}

impl AppliedRules {
    /// These rules, given by the caller.
    pub fn given(rules: GoRules) -> AppliedRules {
        AppliedRules {
            rules: vec![rules],
            source: RulesSource::Given,
            notes: Vec::new(),
        }
    }

    /// The rules for `choice`, from each member's reported version (`None`: it did not report
    /// one); see the module docs.
    pub fn decide(choice: RulesChoice, versions: &[(String, Option<String>)]) -> AppliedRules {
        if let RulesChoice::Given(rules) = choice {
            return AppliedRules::given(rules);
        }
        let default = GoRules::default();
        let mut rules: Vec<GoRules> = Vec::new();
        let mut notes = Vec::new();
        let mut unknown = false;
        let mut silent = false;
        for (member, version) in versions {
            match version.as_deref().map(|v| (v, GoRules::for_etcd(v))) {
                Some((_, Some(r))) => rules.push(r),
                Some((v, None)) => {
                    unknown = true;
                    notes.push(format!(
                        "{member} runs etcd {v}, whose Go rules etcd-pki does not know: the default, {default}, stands in for it"
                    ));
                }
                None => {
                    silent = true;
                    notes.push(format!(
                        "{member} did not report its etcd version: it may run either, so every Go's rules apply"
                    ));
                }
            }
        }
        if silent {
            rules.extend(GoRules::ALL);
        }
        let source = if rules.is_empty() {
            notes.push(format!(
                "no member to ask for its version: judged by the default, {default}"
            ));
            RulesSource::Default
        } else {
            RulesSource::Cluster
        };
        if unknown || rules.is_empty() {
            rules.push(default);
        }
        rules.sort();
        rules.dedup();
        AppliedRules {
            rules,
            source,
            notes,
        }
    }

    /// The rules for `choice` from the versions the members of `state` reported.
    pub fn of_cluster(choice: RulesChoice, state: &ClusterState) -> AppliedRules {
        let versions: Vec<(String, Option<String>)> = state
            .list
            .members
            .iter()
            .filter(|m| m.started())
            .map(|m| {
                let version = state
                    .status
                    .iter()
                    .find(|(id, _)| *id == m.id)
                    .and_then(|(_, s)| s.status.as_ref().ok())
                    .map(|s| s.version.clone());
                (m.label(), version)
            })
            .collect();
        AppliedRules::decide(choice, &versions)
    }

    /// The rules for `choice`, asking the cluster behind `conn` for its members' versions when
    /// it is to decide (within the connection's deadline); a cluster that cannot be asked gives
    /// the default rules, with a note saying why.
    pub async fn ask(conn: &Connection, choice: RulesChoice) -> AppliedRules {
        if let RulesChoice::Given(rules) = choice {
            return AppliedRules::given(rules);
        }
        match ClusterState::fetch(conn).await {
            Ok(state) => AppliedRules::of_cluster(choice, &state),
            Err(e) => AppliedRules {
                notes: vec![format!(
                    "the cluster could not be asked for its members' versions ({}): judged by the default, {}",
                    e.to_string().replace('\n', "; "),
                    GoRules::default()
                )],
                ..AppliedRules::default()
            },
        }
    }

    /// The rules for `choice` where no cluster is asked: those given, else the default.
    pub fn without_cluster(choice: RulesChoice) -> AppliedRules {
        match choice {
            RulesChoice::Given(rules) => AppliedRules::given(rules),
            RulesChoice::FromCluster => AppliedRules::default(),
        }
    }

    /// The rules for `choice` for a member whose own etcd version is `version` (when known),
    /// for checks made without asking the cluster; no version gives the default rules.
    pub fn of_member(choice: RulesChoice, member: &str, version: Option<&str>) -> AppliedRules {
        match version {
            Some(v) => {
                let mut rules =
                    AppliedRules::decide(choice, &[(member.to_string(), Some(v.to_string()))]);
                if rules.source == RulesSource::Cluster {
                    rules.source = RulesSource::Member;
                }
                rules
            }
            None => AppliedRules::without_cluster(choice),
        }
    }

    /// Whether `cert` covers `host` under every rule set applied.
    pub fn covers(&self, cert: &Certificate, host: &Host) -> bool {
        self.rules
            .iter()
            .all(|&r| covers_with(cert, host, r).is_covered())
    }

    /// Whether, under every rule set applied, `cert` covers at least one of `hosts` (the hosts
    /// may differ from one Go to another).
    pub fn covers_any(&self, cert: &Certificate, hosts: &[Host]) -> bool {
        self.rules
            .iter()
            .all(|&r| hosts.iter().any(|h| covers_with(cert, h, r).is_covered()))
    }

    /// pki-core's [`check`](pki_core::check) of `input` under every rule set applied, merged
    /// as [`AppliedRules::check`] merges (the rules `input` carries are replaced).
    pub fn check_input(&self, input: &CheckInput<'_>) -> Report {
        self.check(|go| pki_core::check(&input.clone().go_rules(go)))
    }

    /// pki-core's check under every rule set applied (`run` makes the report for one), the
    /// stricter verdict of each finding kept: a finding that passes under one Go and fails
    /// under another fails, and its message names the rules that refuse it.
    pub fn check(&self, mut run: impl FnMut(GoRules) -> Report) -> Report {
        let mut reports = self.rules.iter().map(|&r| run(r));
        let Some(mut merged) = reports.next() else {
            return Report::default();
        };
        for other in reports {
            // Findings are matched by what they are about (check and target), in order; one
            // that only one report has (the Gos found different chains, say) is kept too.
            let mut matched = vec![false; merged.findings.len()];
            for candidate in other.findings {
                let same = merged.findings.iter().enumerate().position(|(i, f)| {
                    !matched[i] && f.check == candidate.check && f.target == candidate.target
                });
                match same {
                    Some(i) => {
                        matched[i] = true;
                        if candidate.status > merged.findings[i].status {
                            merged.findings[i] = candidate;
                        }
                    }
                    None => merged.findings.push(candidate),
                }
            }
        }
        merged
    }

    /// `etcd 3.4 (Go 1.19)` or `etcd 3.4 (Go 1.19) and etcd 3.5 (Go 1.24)`.
    pub fn names(&self) -> String {
        self.rules
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The finding that says which rules were applied and why: a warning when the cluster
    /// could not tell all its versions.
    pub fn finding(&self) -> Finding {
        let why = match (self.source, self.rules.len()) {
            (RulesSource::Given, _) => "as asked".to_string(),
            (RulesSource::Cluster, 1) => "the version the cluster's members run".to_string(),
            (RulesSource::Cluster, _) => {
                "the versions the cluster's members run or will run (as during an upgrade): a host must be covered under each".to_string()
            }
            (RulesSource::Member, _) => "the version the member runs".to_string(),
            (RulesSource::Default, _) => "the default".to_string(),
        };
        let mut message = format!("hosts judged by the rules of {}, {why}", self.names());
        for note in &self.notes {
            message.push_str("; ");
            message.push_str(note);
        }
        Finding::new(
            CheckId::GoRules,
            if self.notes.is_empty() {
                Status::Pass
            } else {
                Status::Warn
            },
            message,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(m, v)| (m.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn one_version_gives_its_rules() {
        let r = AppliedRules::decide(
            RulesChoice::FromCluster,
            &v(&[("a", Some("3.4.23")), ("b", Some("3.4.23"))]),
        );
        assert_eq!(r.rules, [GoRules::Go119]);
        assert_eq!(r.source, RulesSource::Cluster);
        assert!(r.notes.is_empty());
        assert_eq!(r.finding().status, Status::Pass);
        assert!(r.finding().message.contains("etcd 3.4 (Go 1.19)"), "{r:?}");
    }

    #[test]
    fn mixed_versions_give_both_rules() {
        let r = AppliedRules::decide(
            RulesChoice::FromCluster,
            &v(&[("a", Some("3.5.16")), ("b", Some("3.4.23"))]),
        );
        assert_eq!(r.rules, [GoRules::Go119, GoRules::Go124]);
        assert_eq!(r.source, RulesSource::Cluster);
        let f = r.finding();
        assert_eq!(f.status, Status::Pass);
        assert!(f.message.contains("covered under each"), "{}", f.message);
    }

    #[test]
    fn an_unknown_version_adds_the_default_and_says_so() {
        let r = AppliedRules::decide(
            RulesChoice::FromCluster,
            &v(&[("a", Some("3.4.23")), ("b", Some("3.6.0"))]),
        );
        assert_eq!(r.rules, [GoRules::Go119, GoRules::Go124]);
        assert_eq!(r.source, RulesSource::Cluster);
        assert_eq!(r.finding().status, Status::Warn);
        assert!(r.notes[0].contains("b runs etcd 3.6.0"), "{r:?}");
        let only = AppliedRules::decide(RulesChoice::FromCluster, &v(&[("a", Some("3.6.1"))]));
        assert_eq!(
            (only.rules, only.source),
            (vec![GoRules::Go124], RulesSource::Default)
        );
    }

    #[test]
    fn unreachable_members_are_named_and_the_rest_decide() {
        let r = AppliedRules::decide(
            RulesChoice::FromCluster,
            &v(&[("a", Some("3.4.23")), ("b", None)]),
        );
        // The silent member may be the one not yet upgraded, or the one already upgraded.
        assert_eq!(r.rules, GoRules::ALL);
        assert_eq!(
            r.notes,
            ["b did not report its etcd version: it may run either, so every Go's rules apply"]
        );
        assert_eq!(r.finding().status, Status::Warn);
        let none = AppliedRules::decide(RulesChoice::FromCluster, &v(&[("a", None), ("b", None)]));
        assert_eq!(none.rules, GoRules::ALL);
        assert_eq!(none.finding().status, Status::Warn);
        let empty = AppliedRules::decide(RulesChoice::FromCluster, &[]);
        assert_eq!(
            (empty.rules, empty.source, empty.notes.len()),
            (vec![GoRules::Go124], RulesSource::Default, 1)
        );
    }

    #[test]
    fn a_members_own_version_decides_without_the_cluster() {
        let r = AppliedRules::of_member(RulesChoice::FromCluster, "n0", Some("3.4.23"));
        assert_eq!(
            (r.rules, r.source),
            (vec![GoRules::Go119], RulesSource::Member)
        );
        let r = AppliedRules::of_member(RulesChoice::FromCluster, "n0", None);
        assert_eq!(r, AppliedRules::default());
        assert_eq!(r.finding().status, Status::Pass);
        let r = AppliedRules::of_member(RulesChoice::Given(GoRules::Go124), "n0", Some("3.4.23"));
        assert_eq!(r, AppliedRules::given(GoRules::Go124));
    }

    #[test]
    fn given_rules_override_the_cluster() {
        let r = AppliedRules::decide(
            RulesChoice::Given(GoRules::Go124),
            &v(&[("a", Some("3.4.23")), ("b", None)]),
        );
        assert_eq!(r, AppliedRules::given(GoRules::Go124));
        assert!(r.finding().message.contains("as asked"));
    }

    #[test]
    fn the_stricter_verdict_of_each_rule_set_stands() {
        let star = {
            let params = rcgen::CertificateParams::new(vec!["*".to_string()]).unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let der = params.self_signed(&key).unwrap().der().to_vec();
            Certificate::from_der(der).unwrap()
        };
        let host = Host::parse("etcd-peer").unwrap();
        let both = AppliedRules::decide(
            RulesChoice::FromCluster,
            &v(&[("a", Some("3.4.23")), ("b", Some("3.5.16"))]),
        );
        assert!(!both.covers(&star, &host));
        assert!(AppliedRules::given(GoRules::Go119).covers(&star, &host));
        let chain = [star];
        let run = |r: GoRules| {
            pki_core::check(
                &pki_core::CheckInput::new("star.pem", &chain)
                    .hosts(std::slice::from_ref(&host))
                    .go_rules(r),
            )
        };
        let coverage = |report: Report| {
            report
                .findings
                .into_iter()
                .find(|f| f.check == CheckId::Coverage)
                .unwrap()
        };
        let merged = coverage(both.check(run));
        assert_eq!(merged.status, Status::Fail);
        assert!(
            merged.message.contains("etcd 3.4 (Go 1.19) would accept"),
            "{}",
            merged.message
        );
        let old = coverage(AppliedRules::given(GoRules::Go119).check(run));
        assert_eq!(old.status, Status::Pass);
    }

    #[test]
    fn findings_only_one_go_makes_are_kept() {
        use pki_core::CheckId;
        let finding = |check, target: &str, status| {
            let mut f = Finding::new(check, status, format!("{target} {status:?}"));
            f.target = Some(target.to_string());
            f
        };
        let rules = AppliedRules {
            rules: GoRules::ALL.to_vec(),
            ..AppliedRules::default()
        };
        let merged = rules.check(|go| {
            let mut report = Report::default();
            match go {
                GoRules::Go119 => {
                    report
                        .findings
                        .push(finding(CheckId::Chain, "c", Status::Fail));
                    report
                        .findings
                        .push(finding(CheckId::Coverage, "h", Status::Pass));
                }
                _ => {
                    report
                        .findings
                        .push(finding(CheckId::Coverage, "h", Status::Fail));
                    report
                        .findings
                        .push(finding(CheckId::Usage, "u", Status::Fail));
                }
            }
            report
        });
        let got: Vec<(CheckId, Status)> = merged
            .findings
            .iter()
            .map(|f| (f.check, f.status))
            .collect();
        assert_eq!(
            got,
            [
                (CheckId::Chain, Status::Fail),
                (CheckId::Coverage, Status::Fail),
                (CheckId::Usage, Status::Fail)
            ]
        );
    }
}

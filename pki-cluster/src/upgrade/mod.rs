//! Upgrading a cluster's etcd member by member, one minor version at a time
//! (`etcd-pki upgrade plan|apply`).
//!
//! [`plan`] changes nothing: every member's version and the cluster version (`/version`), whether
//! the step is one etcd supports (one minor at a time, every member on one minor first), the
//! checks of a healthy start (every member started and healthy, quorum kept while one restarts,
//! no learner, each member serving certificates that are valid for the window and cover its
//! URLs), a recent snapshot, and the known problems of the versions involved ([`traps`]).
//! [`apply`] takes a snapshot, then restarts one member at a time through the restart hook
//! (which installs the new binary and restarts etcd on that host), followers first and the
//! leader last after leadership moved away, and waits until the member is back, healthy,
//! reports the new version and the cluster has caught up; it stops at the first member that
//! does not come back and says how to roll it back. A member already on the target is left
//! alone, so a stopped upgrade resumes where it stopped. At the end it waits for the cluster
//! version to move up.

mod apply;
mod plan;
pub mod traps;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use apply::{apply, UpgradeEvent, UpgradeOutcome};
pub use plan::{plan, MemberVersion, UpgradePlan};

/// The file in the snapshot directory that records the upgrade under way (`{"from", "to"}`), so
/// that running `apply` again finishes it instead of starting the next minor.
pub const STATE_FILE: &str = "etcd-upgrade.json";

/// The target minor recorded in `dir`'s [`STATE_FILE`], if any.
pub fn recorded_target(dir: &std::path::Path) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(dir.join(STATE_FILE)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let v = Version::parse(value["to"].as_str()?)?;
    Some((v.major, v.minor))
}

/// An etcd version, `MAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major (3).
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl Version {
    /// `3.5.16`, `3.5` (patch 0) or `v3.5.16`; anything after a `-` or `+` is ignored.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(Version {
            major,
            minor,
            patch,
        })
    }

    /// The minor version this one belongs to, e.g. `3.5`.
    pub fn minor_text(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// The next minor version (`3.4` → `3.5`).
    pub fn next_minor(&self) -> (u32, u32) {
        (self.major, self.minor + 1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What to upgrade to, and where the snapshot goes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UpgradeRequest {
    /// The minor every member must end on (`(3, 5)`); default: the next minor after the
    /// cluster's.
    pub to: Option<(u32, u32)>,
    /// Where `apply` saves its snapshot first.
    pub snapshot_dir: PathBuf,
    /// How long one member may take to come back after its restart.
    pub member_timeout: Duration,
    /// How long the cluster version may take to move up after the last member.
    pub cluster_version_timeout: Duration,
    /// Which Go's rules the served certificates' hosts are judged by: by default those of every
    /// version the members run and of the target (after the upgrade, members on the target
    /// judge the certificates; until it ends, members on both do).
    pub rules: crate::etcd_rules::RulesChoice,
}

impl UpgradeRequest {
    /// To the next minor, the snapshot into `snapshot_dir`, 2 minutes per member, 1 minute for
    /// the cluster version.
    pub fn new(snapshot_dir: impl Into<PathBuf>) -> UpgradeRequest {
        UpgradeRequest {
            to: None,
            snapshot_dir: snapshot_dir.into(),
            member_timeout: Duration::from_secs(120),
            cluster_version_timeout: Duration::from_secs(60),
            rules: crate::etcd_rules::RulesChoice::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_etcd_prints_them() {
        let v = Version::parse("3.5.16").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (3, 5, 16));
        assert_eq!(Version::parse("v3.4.23").unwrap().to_string(), "3.4.23");
        assert_eq!(
            Version::parse("3.5.0").unwrap(),
            Version::parse("3.5").unwrap()
        );
        assert_eq!(Version::parse("3.6.0-alpha.0").unwrap().minor, 6);
        assert!(Version::parse("not a version").is_none());
        assert!(Version::parse("3").is_none());
        assert!(Version::parse("3.4.23") < Version::parse("3.5.0"));
    }
}

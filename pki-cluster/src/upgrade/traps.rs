//! Known problems of etcd versions and upgrade steps, each from etcd's own notes or issues (the
//! source is cited with each), as findings of an upgrade plan.

use pki_core::{CheckId, Finding};

use super::Version;

/// The known problems that apply to an upgrade from `from` (the members' lowest version) to
/// the minor `to`, and to the versions the members run now.
pub fn known_issues(from: Version, to: (u32, u32), running: &[Version]) -> Vec<Finding> {
    let mut out = Vec::new();
    // etcd 3.5.0 to 3.5.2 can corrupt data under load (etcd-io/etcd#13766, fixed in 3.5.3; the
    // 3.5 CHANGELOG and etcd's README announcement: "not recommended for production").
    if let Some(v) = running
        .iter()
        .find(|v| (v.major, v.minor) == (3, 5) && v.patch <= 2)
    {
        out.push(Finding::fail(
            CheckId::KnownIssue,
            format!("a member runs {v}: etcd 3.5.0-3.5.2 have a data inconsistency bug under load (etcd-io/etcd#13766); move it to the latest 3.5 patch before anything else"),
        ));
    }
    if to == (3, 5) {
        out.push(Finding::warn(
            CheckId::KnownIssue,
            "never install 3.5.0, 3.5.1 or 3.5.2 as the target (etcd-io/etcd#13766): the restart hook must install the latest 3.5 patch; apply stops at a member that comes back on one of them",
        ));
        // etcd's "Upgrade etcd from 3.4 to 3.5" guide: "If your cluster enables auth, rolling
        // upgrade from 3.4 or older version isn't supported because 3.5 changes a format of WAL
        // entries related to auth" (etcd-io/etcd#11943); its downgrade guide says the same of
        // going back. The plan cannot ask a 3.4 cluster whether auth is on (AuthStatus is 3.5's).
        out.push(Finding::warn(
            CheckId::KnownIssue,
            "if auth is enabled (etcdctl auth status, or a root user), etcd does not support a rolling upgrade from 3.4 to 3.5 (3.5 changes the WAL format of auth entries, etcd-io/etcd#11943): disable auth for the upgrade, or upgrade with the cluster stopped",
        ));
    }
    if to == (3, 6) && (from.major, from.minor) == (3, 5) && from.patch < 26 {
        // Upgrading 3.5 -> 3.6 needs 3.5.20 (learner promotion persisted, etcd blog "How to
        // Prevent a Common Failure when Upgrading etcd v3.5 to v3.6"), 3.5.24 for rolling
        // replacements (etcd-io/etcd#20797, the follow-up post of 2025-10), and 3.5.26 (etcd
        // blog "Avoiding Zombie Cluster Members When Upgrading to etcd v3.6", 2025-12).
        out.push(Finding::fail(
            CheckId::KnownIssue,
            format!("{from} is older than 3.5.26: upgrading to 3.6 from an older 3.5 can fail on membership data (etcd-io/etcd#20793, #20797, and etcd's post on zombie members of 2025-12); upgrade every member to the latest 3.5 patch first"),
        ));
        out.push(Finding::warn(
            CheckId::KnownIssue,
            "3.6 drops the v2 store: a cluster holding custom v2 data (etcdctl v2 API, --enable-v2) must migrate it before the upgrade",
        ));
    }
    // etcd's upgrade guides: upgrade to the latest patch of the current minor first. Which
    // patch is the latest cannot be known offline; the operator is told where to look.
    if (from.major, from.minor) < to {
        out.push(Finding::warn(
            CheckId::KnownIssue,
            format!("etcd recommends the latest {} patch before moving to {}.{}; the members run {from}: compare with https://github.com/etcd-io/etcd/releases (this host does not look it up)", from.minor_text(), to.0, to.1),
        ));
    }
    out.push(Finding::pass(
        CheckId::KnownIssue,
        format!("members can go back to {} only while the cluster version is still {}: it moves up once every member runs {}.{}", from.minor_text(), from.minor_text(), to.0, to.1),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pki_core::Status;

    fn v(t: &str) -> Version {
        Version::parse(t).unwrap()
    }

    #[test]
    fn each_known_issue_applies_where_etcd_says() {
        let fails = |f: Vec<Finding>| f.iter().filter(|f| f.status == Status::Fail).count();
        assert_eq!(fails(known_issues(v("3.4.23"), (3, 5), &[v("3.4.23")])), 0);
        assert_eq!(
            fails(known_issues(
                v("3.4.23"),
                (3, 5),
                &[v("3.5.1"), v("3.4.23")]
            )),
            1
        );
        assert_eq!(fails(known_issues(v("3.5.16"), (3, 6), &[v("3.5.16")])), 1);
        assert_eq!(fails(known_issues(v("3.5.24"), (3, 6), &[v("3.5.24")])), 1);
        assert_eq!(fails(known_issues(v("3.5.26"), (3, 6), &[v("3.5.26")])), 0);
    }
}

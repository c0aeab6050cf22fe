//! Findings as etcd-specific series, under the `etcd_pki_` prefix: what a generic certificate
//! exporter cannot say because it does not know etcd's rules.
//!
//! | series | labels | value |
//! |---|---|---|
//! | `etcd_pki_check_status` | `command`, `member`, `role`, `check`, `target` | 0 PASS, 1 WARN, 2 FAIL (the worst of a label set) |
//! | `etcd_pki_coverage` | `member`, `role`, `host` | 1 when the role's certificate covers the host as Go's `VerifyHostname` decides |
//! | `etcd_pki_chain_valid` | `member`, `role` | 1 when the certificate chains to the CA etcd trusts for it |
//! | `etcd_pki_key_matches` | `member`, `role` | 1 when the key file is the certificate's |
//! | `etcd_pki_usage_valid` | `member`, `role` | 1 when the extended key usages are what the role needs |
//! | `etcd_pki_served_cert_matches` | `member`, `target` | 1 when the member serves the certificate in its file (doctor) |
//!
//! `member` is the member a finding is about (empty for `check`, which knows only a file and
//! adds a `filepath` label to every series instead; a probed endpoint adds `url`);
//! `role` is the certificate's part in etcd: `server` (`--cert-file`), `peer`
//! (`--peer-cert-file`), `client`, `peer-client` (3.5's outgoing certificates), a trust or
//! revocation file, or `check --role`.

use pki_core::{CheckId, Finding, Status, Subject};

use super::exposition::{Keep, Metrics};

pub const CHECK_STATUS: (&str, &str) = (
    "etcd_pki_check_status",
    "Worst status of an etcd-pki check: 0 PASS, 1 WARN, 2 FAIL",
);
pub const COVERAGE: (&str, &str) = (
    "etcd_pki_coverage",
    "1 if the member's certificate in this role covers the host (Go's VerifyHostname), 0 if not",
);
pub const CHAIN: (&str, &str) = (
    "etcd_pki_chain_valid",
    "1 if the certificate chains to the CA etcd trusts for it, 0 if not",
);
pub const KEY: (&str, &str) = (
    "etcd_pki_key_matches",
    "1 if the key file holds the certificate's private key, 0 if not",
);
pub const USAGE: (&str, &str) = (
    "etcd_pki_usage_valid",
    "1 if the certificate's key usages are what etcd needs of its role, 0 if not",
);
pub const SERVED: (&str, &str) = (
    "etcd_pki_served_cert_matches",
    "1 if the member serves the certificate in its file, 0 if not",
);

/// Who the findings are about when a finding does not say: the member and the role.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub command: &'static str,
    pub member: &'a str,
    pub role: &'a str,
    /// A label added to every series: for `check`, which knows a file rather than a member,
    /// `filepath`; for probed endpoints, `url`; so that several files or endpoints stay apart.
    pub extra: Option<(&'static str, &'a str)>,
}

/// Adds the series of `findings`.
pub fn add(metrics: &mut Metrics, cx: Context<'_>, findings: &[Finding]) {
    for f in findings {
        let (member, role) = about(f.subject.as_ref(), cx);
        let target = f.target.clone().unwrap_or_default();
        let labels = |pairs: &[(&'static str, &str)]| {
            let mut l: super::exposition::Labels =
                pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
            if let Some((name, value)) = cx.extra {
                l.push((name, value.to_string()));
            }
            l
        };
        metrics.set(
            CHECK_STATUS,
            Keep::Highest,
            labels(&[
                ("command", cx.command),
                ("member", &member),
                ("role", &role),
                ("check", &f.check.to_string()),
                ("target", &target),
            ]),
            severity(f.status),
        );
        let good = f64::from(u8::from(f.status != Status::Fail));
        let by_role = labels(&[("member", &member), ("role", &role)]);
        match f.check {
            CheckId::Coverage if !target.is_empty() => metrics.set(
                COVERAGE,
                Keep::Lowest,
                labels(&[("member", &member), ("role", &role), ("host", &target)]),
                good,
            ),
            CheckId::Chain => metrics.set(CHAIN, Keep::Lowest, by_role, good),
            CheckId::KeyPair => metrics.set(KEY, Keep::Lowest, by_role, good),
            CheckId::Usage => metrics.set(USAGE, Keep::Lowest, by_role, good),
            // Only doctor compares what a member serves with its file; elsewhere the check judges
            // the served chain itself (or that the port answered: etcd_pki_probe_success).
            CheckId::ServedCertificate if cx.command == "doctor" => metrics.set(
                SERVED,
                Keep::Lowest,
                labels(&[("member", &member), ("target", &target)]),
                good,
            ),
            _ => {}
        }
    }
}

fn severity(status: Status) -> f64 {
    match status {
        Status::Pass => 0.0,
        Status::Warn => 1.0,
        _ => 2.0,
    }
}

/// The member and role labels of a finding's subject.
fn about(subject: Option<&Subject>, cx: Context<'_>) -> (String, String) {
    let role = match subject {
        None => cx.role,
        Some(Subject::Member(name)) => return (name.clone(), cx.role.to_string()),
        Some(Subject::ServerCertificate) => "server",
        Some(Subject::PeerCertificate) => "peer",
        Some(Subject::ClientCertificate) => "client",
        Some(Subject::PeerClientCertificate) => "peer-client",
        Some(Subject::TrustedCa) => "trusted-ca",
        Some(Subject::PeerTrustedCa) => "peer-trusted-ca",
        Some(Subject::ClientCrl) => "client-crl",
        Some(Subject::PeerCrl) => "peer-crl",
        Some(_) => "other",
    };
    (cx.member.to_string(), role.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coverage_failure_is_a_zero_and_a_fail() {
        let mut m = Metrics::new();
        let cx = Context {
            command: "doctor",
            member: "n1",
            role: "",
            extra: None,
        };
        add(
            &mut m,
            cx,
            &[
                Finding::pass(CheckId::Coverage, "covers").target("127.0.0.11"),
                Finding::fail(CheckId::Coverage, "does not cover")
                    .target("127.0.0.14")
                    .about(Subject::PeerCertificate),
                Finding::fail(CheckId::Chain, "unknown CA").about(Subject::PeerCertificate),
                Finding::pass(CheckId::Chain, "chains").about(Subject::PeerCertificate),
            ],
        );
        let mut out = Vec::new();
        m.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("etcd_pki_coverage{member=\"n1\",role=\"peer\",host=\"127.0.0.14\"} 0\n")
        );
        assert!(text.contains("etcd_pki_coverage{member=\"n1\",role=\"\",host=\"127.0.0.11\"} 1\n"));
        // Two chain findings for one role: the worst is kept, once.
        assert!(text.contains("etcd_pki_chain_valid{member=\"n1\",role=\"peer\"} 0\n"));
        assert_eq!(text.matches("etcd_pki_chain_valid{").count(), 1);
        assert!(text.contains(
            "etcd_pki_check_status{command=\"doctor\",member=\"n1\",role=\"peer\",check=\"coverage\",target=\"127.0.0.14\"} 2\n"
        ));
    }
}

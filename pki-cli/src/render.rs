//! Findings as this CLI shows them: one row per check (PASS / WARN / FAIL, the check's name,
//! the evidence, and the fix as the exact command line with the invocation's own file names).
//! The libraries describe a fix as a structured remedy; only here does it become a command of
//! this tool.

use std::path::{Path, PathBuf};

use pki_core::{display_path, key_candidates, CheckId, Finding, Remedy, Status, Subject};
use serde::Serialize;

/// A finding as shown: the row of `member add`, `preflight` and `scale-out`.
#[derive(Serialize, Clone)]
pub struct Row {
    pub status: Status,
    pub check: String,
    pub message: String,
    pub fix: Option<String>,
}

/// The files a fix command names.
#[derive(Clone, Copy, Default)]
pub struct FixFiles<'a> {
    /// The certificate.
    pub cert: Option<&'a Path>,
    /// Its key, if known.
    pub key: Option<&'a Path>,
    /// The CA certificate, if known.
    pub cacert: Option<&'a Path>,
}

/// What the fixes of a set of findings refer to: the new member's files, by subject.
#[derive(Clone, Copy, Default)]
pub struct FixContext<'a> {
    /// The peer certificate's files.
    pub peer: FixFiles<'a>,
    /// The server certificate's files.
    pub server: FixFiles<'a>,
}

impl<'a> FixContext<'a> {
    fn files(&self, subject: Option<&Subject>) -> FixFiles<'a> {
        match subject {
            Some(Subject::ServerCertificate | Subject::ClientCertificate | Subject::TrustedCa) => {
                self.server
            }
            _ => self.peer,
        }
    }
}

/// The rows of some findings.
pub fn rows(findings: &[Finding], context: &FixContext<'_>) -> Vec<Row> {
    findings.iter().map(|f| row(f, context)).collect()
}

/// One finding as a row.
pub fn row(f: &Finding, context: &FixContext<'_>) -> Row {
    let certificate = matches!(
        f.subject,
        Some(
            Subject::PeerCertificate
                | Subject::ServerCertificate
                | Subject::ClientCertificate
                | Subject::PeerClientCertificate
        )
    );
    Row {
        status: f.status,
        check: label(f),
        message: match (&f.target, certificate) {
            (Some(t), true) => format!("{t}: {}", f.message),
            _ => f.message.clone(),
        },
        fix: f
            .remedy
            .as_ref()
            .map(|r| fix(r, f.status, &context.files(f.subject.as_ref()))),
    }
}

/// A finding's check as named in rows: `peer certificate coverage`, `infra0 serves`,
/// `handshake with infra1`, `members healthy`.
pub fn label(f: &Finding) -> String {
    match (&f.subject, f.check) {
        (Some(Subject::PeerCertificate), CheckId::CertificateGiven) => "peer certificate".into(),
        (Some(Subject::ServerCertificate), CheckId::CertificateGiven) => {
            "server certificate".into()
        }
        (Some(Subject::PeerCertificate), c) => format!("peer certificate {c}"),
        (Some(Subject::ServerCertificate), c) => format!("server certificate {c}"),
        (Some(Subject::Member(name)), CheckId::ServedCertificate) => format!("{name} serves"),
        (Some(Subject::Member(name)), CheckId::Handshake) => format!("handshake with {name}"),
        (Some(Subject::ClientCertificate), c) => format!("client certificate {c}"),
        (Some(Subject::PeerClientCertificate), c) => format!("peer client certificate {c}"),
        (Some(Subject::TrustedCa), c) => format!("trusted CA {c}"),
        (Some(Subject::PeerTrustedCa), c) => format!("peer trusted CA {c}"),
        (Some(Subject::ClientCrl), c) => format!("client CRL {c}"),
        (Some(Subject::PeerCrl), c) => format!("peer CRL {c}"),
        (_, c) => c.to_string(),
    }
}

/// A remedy as a command line of this tool (or a sentence naming its flags).
pub fn fix(remedy: &Remedy, status: Status, files: &FixFiles<'_>) -> String {
    match remedy {
        Remedy::Reissue { .. } | Remedy::Renew | Remedy::IssueOwnCertificates { .. } => {
            fix_command(remedy, files)
        }
        Remedy::GiveCa => "pass the cluster's CA certificate (--cacert) to check the chain".into(),
        Remedy::GiveHost => "pass the member's URL (--url https://IP:2380) or --host".into(),
        Remedy::GivePeerCertificate => {
            "give --peer-cert FILE (the certificate the new member will use) or --cert".into()
        }
        Remedy::GivePeerKey => {
            "give --peer-key (with --peer-cert) to test the certificate against the running members"
                .into()
        }
        Remedy::GiveServerCertificate { client_urls } => format!(
            "give --server-cert FILE (the runbook's server.pem), or check it yourself: etcd-pki check --role server --cert FILE --cacert CA --url {}",
            client_urls.join(",")
        ),
        Remedy::Recover { dir } => format!("etcd-pki recover {}", display_path(dir)),
        Remedy::WaitForWrite => "wait until it has finished, then check again".into(),
        Remedy::StartOrRemoveMember { id } => format!(
            "start it with ETCD_INITIAL_CLUSTER_STATE=existing, or remove it: etcd-pki member remove {id:x}"
        ),
        Remedy::RepairOrRemoveMember { name } => format!(
            "bring it back (etcd-pki endpoint health --cluster shows why) or remove it first: etcd-pki member remove {name}"
        ),
        Remedy::RetryLater => "retry in a few seconds; if it persists, etcd-pki endpoint health --cluster shows which members are down, and no member can be added before quorum is back".into(),
        Remedy::AddAsLearner if status == Status::Fail => {
            "add it as a learner (--learner), start it, then promote it: etcd-pki member promote NAME --wait".into()
        }
        Remedy::AddAsLearner => {
            "prefer --learner: a learner joins without voting, then etcd-pki member promote NAME --wait".into()
        }
        Remedy::PromoteOrRemoveLearner { id } => format!(
            "promote it once it has caught up (etcd-pki member promote {id:x} --wait) or remove it"
        ),
        Remedy::PromoteLearnerOrRaiseLimit { id, learners } => format!(
            "promote it once it has caught up (etcd-pki member promote {id:x} --wait), or make sure --max-learners allows {learners}"
        ),
        Remedy::RemoveStaleMember { id } => format!(
            "if that member is a failed earlier add, remove it first: etcd-pki member remove {id:x}"
        ),
        Remedy::FixPeerCertificate => "the new member would be refused the same way: fix its peer certificate (etcd-pki check --role peer shows why)".into(),
        Remedy::MoveLeadershipFirst => "move leadership first (etcdctl move-leader ID), or use etcd-pki scale-in, which does; or pass --force to remove it anyway".into(),
        // The rest say it as well in words as any command would.
        other => other.to_string(),
    }
}

/// The command that fixes a certificate, with the invocation's file names filled in.
pub fn fix_command(remedy: &Remedy, files: &FixFiles<'_>) -> String {
    let ca = files
        .cacert
        .map_or_else(|| "CA.pem".to_string(), |p| display_path(p).to_string());
    let ca_key = files.cacert.and_then(guess_key).map_or_else(
        || "CA-KEY.pem".to_string(),
        |p| display_path(&p).to_string(),
    );
    let cert = files
        .cert
        .map_or_else(|| "CERT.pem".to_string(), |p| display_path(p).to_string());
    match remedy {
        Remedy::Reissue { add_ips, add_dns } => {
            let mut cmd = format!("etcd-pki reissue --cacert {ca} --ca-key {ca_key} --cert {cert}");
            if let Some(key) = files
                .key
                .map(Path::to_path_buf)
                .or_else(|| files.cert.and_then(guess_key))
            {
                cmd.push_str(&format!(" --key {}", display_path(&key)));
            }
            for ip in add_ips {
                cmd.push_str(&format!(" --add-ip {ip}"));
            }
            for dns in add_dns {
                cmd.push_str(&format!(" --add-dns {dns}"));
            }
            cmd
        }
        Remedy::Renew => format!("etcd-pki renew {cert} --cacert {ca} --ca-key {ca_key}"),
        Remedy::IssueOwnCertificates {
            name,
            ips,
            dns,
            like,
        } => {
            let mut cmd = format!("etcd-pki issue {name}");
            for ip in ips {
                cmd.push_str(&format!(" --ip {ip}"));
            }
            for d in dns {
                cmd.push_str(&format!(" --dns {}", shell_word(d)));
            }
            let like = like.as_deref().map_or_else(
                || "EXISTING-MEMBER-PKI-DIR".to_string(),
                |d| shell_word(&display_path(d)),
            );
            cmd.push_str(&format!(
                " --cacert {} --ca-key {} --like {like} --out {}",
                shell_word(&ca),
                shell_word(&ca_key),
                shell_word(&format!("{name}-pki"))
            ));
            format!("{cmd} (then use the certificates in {name}-pki for the new member)")
        }
        other => fix(other, Status::Fail, files),
    }
}

/// The key file beside a certificate, by cfssl's and kubeadm's naming, if it exists.
fn guess_key(cert: &Path) -> Option<PathBuf> {
    key_candidates(cert).into_iter().find(|p| p.is_file())
}

/// A word of a command line as a POSIX shell reads it: as it is when it holds only safe
/// characters, else single-quoted.
pub fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=,@%+-".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Rows as lines, with the fix under each that is not a pass.
pub fn rows_text(rows: &[Row]) -> String {
    let mut text = String::new();
    for r in rows {
        text.push_str(&format!("  {}  {}: {}\n", r.status, r.check, r.message));
        if r.status != Status::Pass {
            if let Some(fix) = &r.fix {
                text.push_str(&format!("        fix: {fix}\n"));
            }
        }
    }
    text
}

/// "PASS: all 23 checks passed" / "FAIL: 2 of 23 checks failed".
pub fn summary(rows: &[Row]) -> String {
    let failed = rows.iter().filter(|r| r.status == Status::Fail).count();
    let warned = rows.iter().filter(|r| r.status == Status::Warn).count();
    match (failed, warned) {
        (0, 0) => format!("PASS: all {} checks passed", rows.len()),
        (0, w) => format!("PASS: {} checks, {w} with warnings", rows.len()),
        (f, _) => format!("FAIL: {f} of {} checks failed", rows.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("pki/n0/ca.crt"), "pki/n0/ca.crt");
        assert_eq!(shell_word("my pki/ca.crt"), "'my pki/ca.crt'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn rows_name_checks_and_fixes_as_before() {
        let f = Finding::fail(CheckId::Coverage, "does not cover 127.0.0.14")
            .about(Subject::PeerCertificate)
            .target("127.0.0.14")
            .remedy(Remedy::Reissue {
                add_ips: vec!["127.0.0.14".parse().unwrap()],
                add_dns: vec![],
            });
        let files = FixFiles {
            cert: Some(Path::new("members.pem")),
            key: Some(Path::new("members-key.pem")),
            cacert: None,
        };
        let r = row(
            &f,
            &FixContext {
                peer: files,
                server: FixFiles::default(),
            },
        );
        assert_eq!(r.check, "peer certificate coverage");
        assert_eq!(r.message, "127.0.0.14: does not cover 127.0.0.14");
        assert_eq!(
            r.fix.unwrap(),
            "etcd-pki reissue --cacert CA.pem --ca-key CA-KEY.pem --cert members.pem --key members-key.pem --add-ip 127.0.0.14"
        );
        let served =
            Finding::pass(CheckId::ServedCertificate, "ok").about(Subject::Member("infra0".into()));
        assert_eq!(label(&served), "infra0 serves");
        assert_eq!(
            fix(
                &Remedy::PromoteOrRemoveLearner { id: 0xab },
                Status::Fail,
                &files
            ),
            "promote it once it has caught up (etcd-pki member promote ab --wait) or remove it"
        );
    }
}

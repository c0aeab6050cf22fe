//! `doctor`: a member's own TLS configuration, checked as etcd will use it.
//!
//! Given a member's configuration as etcd resolves it ([`crate::member_config`]), [`diagnose`]
//! checks offline, each as a [`Finding`] with evidence and a remedy:
//! - that etcd starts with it (conflicting flag and environment, unknown flags, a certificate
//!   without its key, https URLs without certificates; [`CheckId::Configuration`]);
//! - every TLS file: there, a regular file, readable by etcd's user, in the form etcd reads,
//!   keys not readable by others, each key matching its certificate (`files`);
//! - each certificate in its role: the server certificate covers every advertised client URL
//!   host and every listen client URL host clients dial, the peer certificate every advertised
//!   peer URL host; the certificates presented as a client carry clientAuth and, to other
//!   members, cover this member's own peer address as their listeners check it; each chains to
//!   its side's trusted CA file; expiry within the window (`side`);
//! - client authentication off, auto TLS, SAN verification skipped, allowed CN/hostname against
//!   the certificates, revocation lists (`trust`); listen vs advertise URLs (`urls`);
//!   cipher suites and TLS versions (`tls_settings`).
//!
//! [`diagnose_live`] adds what only the running cluster can tell: the member's URLs as the
//! cluster records them, the certificates it serves on each port against the files, and every
//! other member's peer certificate against this member's peer CA and allowed names (`live`).
//! Nothing here changes anything.

mod files;
mod live;
mod side;
mod tls_settings;
mod trust;
mod urls;

use pki_core::{CheckId, Finding};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::etcd_rules::AppliedRules;
use crate::member_config::MemberConfig;

pub use live::diagnose_live;

/// How to judge: the expiry window, the instant and the Go rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DoctorOptions {
    /// Certificates expiring within this window fail.
    pub expires_within: Duration,
    /// The instant to judge at.
    pub at: OffsetDateTime,
    /// The Go rules hosts are judged by: the cluster's when it was asked (other members, on
    /// whatever etcd they run, judge this member's certificates), else the member's own
    /// version, else the default. Stated as a finding of its own.
    pub rules: AppliedRules,
}

impl Default for DoctorOptions {
    /// A 30-day window, now.
    fn default() -> DoctorOptions {
        DoctorOptions {
            expires_within: Duration::days(30),
            at: OffsetDateTime::now_utc(),
            rules: AppliedRules::default(),
        }
    }
}

impl DoctorOptions {
    /// Fail certificates that expire within `window`.
    #[must_use]
    pub fn expires_within(mut self, window: Duration) -> DoctorOptions {
        self.expires_within = window;
        self
    }

    /// Judge hosts by these rules.
    #[must_use]
    pub fn rules(mut self, rules: AppliedRules) -> DoctorOptions {
        self.rules = rules;
        self
    }

    /// Judge at `at` instead of now.
    #[must_use]
    pub fn at(mut self, at: OffsetDateTime) -> DoctorOptions {
        self.at = at;
        self
    }
}

/// What doctor found about one member.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MemberDiagnosis {
    /// The member's configuration, with the source of every value.
    pub config: MemberConfig,
    /// Every finding, in check order.
    pub findings: Vec<Finding>,
}

impl MemberDiagnosis {
    /// The worst status of the findings.
    pub fn status(&self) -> pki_core::Status {
        pki_core::worst(&self.findings)
    }
}

/// Checks a member's configuration offline (see the module docs).
pub fn diagnose(config: &MemberConfig, opts: &DoctorOptions) -> MemberDiagnosis {
    let mut findings = Vec::new();
    let starts = config.problems.iter().filter(|p| p.fatal).count();
    for p in &config.problems {
        findings.push(if p.fatal {
            Finding::fail(
                CheckId::Configuration,
                format!("etcd would not start: {}", p.message),
            )
            .remedy(pki_core::Remedy::Advice {
                text: "correct the configuration as the message says, then restart etcd".into(),
            })
        } else {
            Finding::warn(CheckId::Configuration, p.message.clone())
        });
    }
    if starts == 0 && config.problems.is_empty() {
        findings.push(Finding::pass(
            CheckId::Configuration,
            format!(
                "{} settings resolved as etcd resolves them ({})",
                config.values.len(),
                urls::resolved_from(config)
            ),
        ));
    }
    // The config file itself, which etcd reads as its user.
    if config.get(crate::member_config::Key::ConfigFile).is_some() {
        files::read_setting(
            config,
            crate::member_config::Key::ConfigFile,
            &pki_core::Subject::Member(config.name()),
            false,
            &mut findings,
        );
    }
    findings.push(opts.rules.finding());
    let client = side::check_side(config, side::Side::Client, opts);
    let peer = side::check_side(config, side::Side::Peer, opts);
    findings.extend(client.findings.iter().cloned());
    findings.extend(peer.findings.iter().cloned());
    findings.extend(urls::check(config));
    findings.extend(trust::check(config, &client, &peer, opts));
    let keys: Vec<pki_core::KeyAlgorithm> = client
        .served
        .iter()
        .chain(peer.served.iter())
        .map(|c| c.key_algorithm().clone())
        .collect();
    findings.extend(trust::tls_settings(config, &keys));
    MemberDiagnosis {
        config: config.clone(),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    use pki_core::Status;

    use super::*;
    use crate::member_config::{ConfigProblem, Key, Origin, Sourced};

    /// A kubeadm-layout PKI made by pki-core's init for n0 (127.0.0.11) and n1.
    fn pki(dir: &Path) -> PathBuf {
        let members = [
            pki_core::Member::new("n0", "127.0.0.11".parse().unwrap()),
            pki_core::Member::new("n1", "127.0.0.12".parse().unwrap()),
        ];
        let files = pki_core::init(
            dir,
            &pki_core::InitRequest::new(pki_core::Layout::Kubeadm, members),
        )
        .unwrap();
        for f in &files {
            std::fs::create_dir_all(f.write.path.parent().unwrap()).unwrap();
        }
        pki_core::write::write_all(&files.into_iter().map(|f| f.write).collect::<Vec<_>>())
            .unwrap();
        dir.join("n0")
    }

    fn config(values: &[(Key, String)]) -> MemberConfig {
        let mut map = BTreeMap::new();
        for (k, v) in values {
            map.insert(
                *k,
                Sourced {
                    value: v.clone(),
                    source: crate::member_config::Source::Flag {
                        text: format!("--x={v}"),
                    },
                },
            );
        }
        MemberConfig {
            origin: Origin::Args,
            root: "/".into(),
            cwd: None,
            host_cwd: None,
            mounts: Vec::new(),
            run_as: None,
            version: None,
            values: map,
            problems: Vec::new(),
        }
    }

    /// n0's configuration as kubeadm writes it.
    fn n0(dir: &Path) -> Vec<(Key, String)> {
        let p = |f: &str| dir.join(f).display().to_string();
        vec![
            (Key::Name, "n0".into()),
            (
                Key::ListenClientUrls,
                "https://127.0.0.1:2379,https://127.0.0.11:2379".into(),
            ),
            (Key::AdvertiseClientUrls, "https://127.0.0.11:2379".into()),
            (Key::ListenPeerUrls, "https://127.0.0.11:2380".into()),
            (
                Key::InitialAdvertisePeerUrls,
                "https://127.0.0.11:2380".into(),
            ),
            (Key::CertFile, p("server.crt")),
            (Key::KeyFile, p("server.key")),
            (Key::TrustedCaFile, p("ca.crt")),
            (Key::ClientCertAuth, "true".into()),
            (Key::PeerCertFile, p("peer.crt")),
            (Key::PeerKeyFile, p("peer.key")),
            (Key::PeerTrustedCaFile, p("ca.crt")),
            (Key::PeerClientCertAuth, "true".into()),
        ]
    }

    fn with(mut v: Vec<(Key, String)>, key: Key, value: impl Into<String>) -> Vec<(Key, String)> {
        v.retain(|(k, _)| *k != key);
        v.push((key, value.into()));
        v
    }

    fn failing(d: &MemberDiagnosis) -> Vec<String> {
        d.findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .map(|f| format!("{}: {}", f.check, f.message))
            .collect()
    }

    #[test]
    fn a_kubeadm_member_as_kubeadm_configures_it_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        let d = diagnose(&config(&n0(&dir)), &DoctorOptions::default());
        assert_eq!(failing(&d), Vec::<String>::new(), "{:#?}", d.findings);
        assert!(d.findings.iter().any(|f| f.check == CheckId::Coverage
            && f.status == Status::Pass
            && f.subject == Some(pki_core::Subject::ServerCertificate)));
    }

    #[test]
    fn planted_defects_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        let opts = DoctorOptions::default();
        let run = |values: Vec<(Key, String)>| failing(&diagnose(&config(&values), &opts));
        // The server certificate does not cover an advertised client URL.
        let f = run(with(
            n0(&dir),
            Key::AdvertiseClientUrls,
            "https://127.0.0.99:2379",
        ));
        assert!(
            f.iter()
                .any(|m| m.starts_with("coverage") && m.contains("127.0.0.99")),
            "{f:?}"
        );
        // A peer certificate from another CA.
        let other = pki_core_fixture("kubeadm/peer.crt");
        let f = run(with(
            with(n0(&dir), Key::PeerCertFile, other.display().to_string()),
            Key::PeerKeyFile,
            pki_core_fixture("kubeadm/peer.key").display().to_string(),
        ));
        assert!(f.iter().any(|m| m.starts_with("chain")), "{f:?}");
        // A key that does not match.
        let f = run(with(
            n0(&dir),
            Key::KeyFile,
            dir.join("peer.key").display().to_string(),
        ));
        assert!(f.iter().any(|m| m.starts_with("key-pair")), "{f:?}");
        // An allowed CN the peers do not satisfy.
        let f = run(with(n0(&dir), Key::PeerCertAllowedCn, "etcd-peer"));
        assert!(f.iter().any(|m| m.starts_with("allowed names")), "{f:?}");
        // Cipher suites with a TLS 1.3 minimum.
        let f = run(with(
            with(n0(&dir), Key::TlsMinVersion, "TLS1.3"),
            Key::CipherSuites,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ));
        assert!(f.iter().any(|m| m.contains("only TLS1.3")), "{f:?}");
        // A key readable by everyone.
        std::fs::set_permissions(dir.join("peer.key"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let f = run(n0(&dir));
        assert!(f.iter().any(|m| m.starts_with("key permissions")), "{f:?}");
        std::fs::set_permissions(dir.join("peer.key"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        // A missing file.
        let f = run(with(
            n0(&dir),
            Key::CertFile,
            dir.join("nope.crt").display().to_string(),
        ));
        assert!(f.iter().any(|m| m.starts_with("file")), "{f:?}");
        // What etcd would refuse to start with.
        let mut c = config(&n0(&dir));
        c.problems.push(ConfigProblem {
            fatal: true,
            message: "conflicting environment variable \"ETCD_NAME\"".into(),
        });
        assert!(failing(&diagnose(&c, &opts))
            .iter()
            .any(|m| m.starts_with("configuration")));
    }

    #[test]
    fn warnings_for_what_lets_anyone_in() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        let mut v = with(n0(&dir), Key::PeerSkipClientSanVerification, "true");
        v.retain(|(k, _)| !matches!(k, Key::TrustedCaFile | Key::ClientCertAuth));
        let d = diagnose(&config(&v), &DoctorOptions::default());
        let warned: Vec<CheckId> = d
            .findings
            .iter()
            .filter(|f| f.status == Status::Warn)
            .map(|f| f.check)
            .collect();
        assert!(warned.contains(&CheckId::SanVerification), "{warned:?}");
        assert!(
            warned.contains(&CheckId::ClientAuthentication),
            "{warned:?}"
        );
    }

    fn statuses(d: &MemberDiagnosis, check: CheckId) -> Vec<Status> {
        d.findings
            .iter()
            .filter(|f| f.check == check)
            .map(|f| f.status)
            .collect()
    }

    /// Review findings of the first version, each a regression test.
    #[test]
    fn allowed_cns_are_read_as_the_etcd_version_reads_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        let opts = DoctorOptions::default();
        let with_version = |v: Option<&str>, cn: &str| {
            let mut c = config(&with(n0(&dir), Key::PeerCertAllowedCn, cn));
            c.version = v.map(str::to_string);
            statuses(&diagnose(&c, &opts), CheckId::AllowedNames)
        };
        assert_eq!(with_version(Some("3.4.23"), "n0,n1"), [Status::Fail]);
        assert_eq!(with_version(Some("3.5.16"), "n0,n1"), [Status::Pass]);
        assert_eq!(with_version(None, "n0,n1"), [Status::Warn]);
        assert_eq!(with_version(None, "n0"), [Status::Pass]);
        // Empty: every peer refused from 3.5.15 on; no check before.
        assert_eq!(with_version(Some("3.5.16"), ""), [Status::Fail]);
        assert!(with_version(Some("3.4.23"), "").is_empty());
    }

    #[test]
    fn an_empty_cipher_suite_list_stops_etcd() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        let d = diagnose(
            &config(&with(n0(&dir), Key::CipherSuites, "")),
            &DoctorOptions::default(),
        );
        assert_eq!(statuses(&d, CheckId::TlsSettings), [Status::Fail]);
    }

    #[test]
    fn a_separate_peer_client_certificate_must_cover_the_members_address() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        let n1 = tmp.path().join("n1");
        let v = with(
            with(
                n0(&dir),
                Key::PeerClientCertFile,
                n1.join("peer.crt").display().to_string(),
            ),
            Key::PeerClientKeyFile,
            n1.join("peer.key").display().to_string(),
        );
        let d = diagnose(&config(&v), &DoctorOptions::default());
        assert!(
            statuses(&d, CheckId::SanVerification).contains(&Status::Fail),
            "{:#?}",
            d.findings
        );
        let own = with(
            with(
                n0(&dir),
                Key::PeerClientCertFile,
                dir.join("peer.crt").display().to_string(),
            ),
            Key::PeerClientKeyFile,
            dir.join("peer.key").display().to_string(),
        );
        let d = diagnose(&config(&own), &DoctorOptions::default());
        assert!(!statuses(&d, CheckId::SanVerification).contains(&Status::Fail));
    }

    #[test]
    fn auto_tls_reports_no_client_authentication_it_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        let mut v = n0(&dir);
        v.retain(|(k, _)| !matches!(k, Key::CertFile | Key::KeyFile));
        v.push((Key::AutoTls, "true".into()));
        let d = diagnose(&config(&v), &DoctorOptions::default());
        assert!(d
            .findings
            .iter()
            .all(|f| !(f.check == CheckId::ClientAuthentication
                && f.subject == Some(pki_core::Subject::TrustedCa))));
        assert_eq!(statuses(&d, CheckId::AutoTls), [Status::Warn]);
    }

    #[test]
    fn directories_etcd_cannot_search_and_localhost_and_file_mounts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pki(tmp.path());
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut c = config(&n0(&dir));
        c.run_as = Some(crate::member_config::RunAs {
            user: Some("nobody".into()),
            uid: 65534,
            gid: 65534,
            groups: vec![],
        });
        let d = diagnose(&c, &DoctorOptions::default());
        assert!(
            d.findings
                .iter()
                .any(|f| f.check == CheckId::FileAccess && f.message.contains("not searchable")),
            "{:#?}",
            d.findings
        );
        // Advertised as localhost, listening on 127.0.0.1: the same listener.
        let v = with(
            with(n0(&dir), Key::AdvertiseClientUrls, "https://localhost:2379"),
            Key::ListenClientUrls,
            "https://127.0.0.1:2379",
        );
        let d = diagnose(&config(&v), &DoctorOptions::default());
        assert!(!statuses(&d, CheckId::ListenUrls).contains(&Status::Fail));
        // A mount of one file maps to that file.
        let mut c = config(&n0(&dir));
        c.mounts = vec![(PathBuf::from("/etc/pki/server.crt"), dir.join("server.crt"))];
        assert_eq!(
            c.host_path(Path::new("/etc/pki/server.crt")),
            dir.join("server.crt")
        );
    }

    fn pki_core_fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(rel)
    }
}

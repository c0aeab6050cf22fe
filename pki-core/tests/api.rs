//! pki-core's public API as an embedder uses it, on the committed real-tool fixtures: loading
//! every format, the file-based check, the in-place reissue and its journaled write, a scan,
//! and recovery of an interrupted write. Nothing here reaches into private modules.

use std::path::{Path, PathBuf};

use pki_core::write::{write_all_as, FileWrite};
use pki_core::{
    load_certificates, load_private_key, recover, reissue_file, scan, CertificateAuthority,
    CertificateCheck, CheckId, Error, ReissueRequest, Remedy, Role, ScanOptions, Status,
};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

fn copy(dir: &Path, rels: &[&str]) {
    for rel in rels {
        let name = Path::new(rel).file_name().unwrap();
        std::fs::copy(fixture(rel), dir.join(name)).unwrap();
    }
}

#[test]
fn certificates_and_keys_load_from_what_real_tools_write() {
    for rel in [
        "cfssl/members.pem",
        "kubeadm/peer.crt",
        "openssl/leaf-ec-p256.der",
    ] {
        assert_eq!(load_certificates(fixture(rel)).unwrap().len(), 1, "{rel}");
    }
    for rel in [
        "cfssl/ca-key.pem",
        "openssl/leaf-rsa-pkcs8.key",
        "openssl/leaf-ec-p256.key",
        "openssl/leaf-ed25519.key",
    ] {
        load_private_key(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    }
    assert!(matches!(
        load_certificates(fixture("openssl/leaf.csr")),
        Err(Error::NoCertificate { .. })
    ));
}

#[test]
fn the_check_names_the_uncovered_host_and_the_reissue_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(
        d,
        &[
            "cfssl/ca.pem",
            "cfssl/ca-key.pem",
            "cfssl/members.pem",
            "cfssl/members-key.pem",
        ],
    );
    let check = || {
        CertificateCheck::new(d.join("members.pem"))
            .key_file(d.join("members-key.pem"))
            .ca_file(d.join("ca.pem"))
            .role(Role::Peer)
            .host("127.0.0.14".parse().unwrap())
            .run()
            .unwrap()
    };
    let before = check();
    let coverage = before
        .findings
        .iter()
        .find(|f| f.check == CheckId::Coverage)
        .unwrap();
    assert_eq!(coverage.status, Status::Fail);
    assert_eq!(
        coverage.remedy,
        Some(Remedy::Reissue {
            add_ips: vec!["127.0.0.14".parse().unwrap()],
            add_dns: vec![]
        })
    );
    let ca = CertificateAuthority::open(d.join("ca.pem"), d.join("ca-key.pem")).unwrap();
    let done = reissue_file(
        d.join("members.pem"),
        Some(d.join("members-key.pem")),
        &ca,
        &ReissueRequest::new().add_ip("127.0.0.14".parse().unwrap()),
    )
    .unwrap();
    assert_eq!(done.plan.added, ["IP:127.0.0.14"]);
    assert_eq!(done.written.backups.len(), 1);
    assert_eq!(check().status(), Status::Pass);
}

#[test]
fn a_scan_finds_each_certificates_issuer() {
    let report = scan([fixture("kubeadm")], &ScanOptions::new()).unwrap();
    assert!(report.certificates.len() >= 4);
    assert!(!report.has_problems(), "{report:?}");
}

#[test]
fn a_journaled_write_of_two_files_leaves_a_backup_and_nothing_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.pem"), "old a").unwrap();
    let written = write_all_as(
        "test",
        &[
            FileWrite::public(d.join("a.pem"), "new a"),
            FileWrite::public(d.join("b.pem"), "new b"),
        ],
    )
    .unwrap();
    assert_eq!(written.backups.len(), 1);
    assert!(recover(d).unwrap().is_empty(), "nothing left to recover");
}

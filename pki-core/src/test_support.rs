//! Helpers for unit tests: paths into the committed fixtures (made by openssl and cfssl; see
//! `fixtures/regen.sh`).

use std::path::PathBuf;

use crate::{load_certificates, load_private_key, Certificate, PrivateKey};

pub(crate) fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

pub(crate) fn cert(rel: &str) -> Certificate {
    load_certificates(fixture(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .remove(0)
}

pub(crate) fn certs(rel: &str) -> Vec<Certificate> {
    load_certificates(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub(crate) fn key(rel: &str) -> PrivateKey {
    load_private_key(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A self-signed certificate with these DNS SANs, made now (for names no fixture has).
pub(crate) fn cert_with_dns(names: &[&str]) -> Certificate {
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("valid names");
    let key = rcgen::KeyPair::generate().expect("a key");
    let der = params.self_signed(&key).expect("signed").der().to_vec();
    Certificate::from_der(der).expect("parses")
}

/// Copies a fixture directory (recursively) into `to`.
pub(crate) fn copy_fixture_dir(rel: &str, to: &std::path::Path) {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    copy(&fixture(rel), to);
}

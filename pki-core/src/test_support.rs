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

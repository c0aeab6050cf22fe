//! Every key-pair disagreement the differential runs found between etcd-pki and Go's
//! `tls.X509KeyPair`, kept by name: the files, what Go decides (asked of both oracles, so that
//! the table stays Go's) and how etcd-pki compares now. RESULTS.md says how each was fixed.

use etcd_pki_tests::go_oracle::{oracle_for, GoVersion};
use etcd_pki_tests::keypair_diff::{compare, pki_verdict, Outcome, LATER_CERTIFICATE};
use etcd_pki_tests::keypair_gen::material::{pool, Material};
use etcd_pki_tests::keypair_run::ask_go;
use pki_core::{pem_encode, KeyFormat};

fn by(algorithm: &str) -> &'static Material {
    pool()
        .iter()
        .find(|m| m.algorithm == algorithm)
        .expect("in the pool")
}

fn key_pem(m: &Material, label: &str, format: KeyFormat) -> String {
    pem_encode(label, &m.key_der(format).expect("a format the key has"))
}

fn cert_pem(m: &Material) -> String {
    pem_encode("CERTIFICATE", &m.cert_der)
}

/// (name, certificate file, key file, Go accepts, how etcd-pki compares now).
fn cases() -> Vec<(&'static str, String, String, bool, Option<&'static str>)> {
    let ec = by("ECDSA P-256");
    let rsa = by("RSA 2048");
    let ed = by("Ed25519");
    let pkcs8 = key_pem(ec, "PRIVATE KEY", KeyFormat::Pkcs8);
    vec![
        (
            "a key of another type: Go's message names the type",
            cert_pem(ec),
            key_pem(rsa, "RSA PRIVATE KEY", KeyFormat::Pkcs1),
            false,
            None,
        ),
        (
            "PKCS#8 in an EC PRIVATE KEY block is read by content",
            cert_pem(ed),
            key_pem(ed, "EC PRIVATE KEY", KeyFormat::Pkcs8),
            true,
            None,
        ),
        (
            "a key in a DSA PRIVATE KEY block is read by content",
            cert_pem(ec),
            key_pem(ec, "DSA PRIVATE KEY", KeyFormat::Pkcs8),
            true,
            None,
        ),
        (
            "a plain key in an ENCRYPTED PRIVATE KEY block",
            cert_pem(ec),
            key_pem(ec, "ENCRYPTED PRIVATE KEY", KeyFormat::Pkcs8),
            true,
            None,
        ),
        (
            "a header line in the key block",
            cert_pem(ec),
            pkcs8.replacen("-----\n", "-----\nComment: rotated 2024\n", 1),
            true,
            None,
        ),
        (
            "blanks after the key's BEGIN line",
            cert_pem(ec),
            pkcs8.replacen("-----\n", "-----\t \n", 1),
            true,
            None,
        ),
        (
            "an indented BEGIN line is no block for Go",
            format!(" {}", cert_pem(ec)),
            pkcs8.clone(),
            false,
            None,
        ),
        (
            "legacy encryption headers with '-' in DEK-Info",
            cert_pem(ec),
            pkcs8.replacen(
                "-----\n",
                "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n",
                1,
            ),
            true,
            None,
        ),
        (
            "a truncated second certificate: Go parses only the first",
            cert_pem(ec) + &pem_encode("CERTIFICATE", &rsa.cert_der[..rsa.cert_der.len() / 2]),
            pkcs8.clone(),
            true,
            Some(LATER_CERTIFICATE),
        ),
    ]
}

#[test]
fn every_key_pair_disagreement_found_stays_fixed() {
    let mut failures = Vec::new();
    for version in GoVersion::ALL {
        let mut oracle = oracle_for(version);
        for (name, cert, key, go_accepts, deliberate) in cases() {
            let go = ask_go(&mut oracle, cert.as_bytes(), key.as_bytes());
            let accepted = matches!(go, etcd_pki_tests::keypair_diff::Verdict::Accepts(_));
            if accepted != go_accepts {
                failures.push(format!("{name}: {version} decides {go:?}"));
            }
            let now = compare(&go, &pki_verdict(cert.as_bytes(), key.as_bytes()));
            let expected = match deliberate {
                Some(d) => Outcome::Deliberate(d),
                None => Outcome::Agree,
            };
            if now != expected {
                failures.push(format!(
                    "{name} ({version}): {now:?}, expected {expected:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! The library's hot paths, on the committed fixtures (made by openssl and cfssl):
//! parsing a certificate (RSA, ECDSA), loading keys in each format, Go's hostname coverage,
//! chain verification, and a keep-key reissue from an RSA-2048 and from an ECDSA P-256 CA.
//!
//! `cargo bench -p pki-core` (add `-- --quick` for a short run). Whole-process comparisons with
//! openssl, cfssl and Python are in `bench/compare.sh`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use pki_core::{
    certificates_from_bytes, covers, private_key_from_bytes, reissue, verify, CertPool,
    Certificate, CertificateAuthority, Host, ReissueRequest, Usage, VerifyOptions,
};
use time::OffsetDateTime;

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cert(rel: &str) -> Certificate {
    certificates_from_bytes(&fixture(rel)).unwrap().remove(0)
}

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse certificate");
    for (name, rel) in [
        ("RSA 2048 (cfssl members.pem)", "cfssl/members.pem"),
        ("ECDSA P-256 (openssl)", "openssl/leaf-ec-p256.crt"),
    ] {
        let pem = fixture(rel);
        group.bench_function(format!("PEM {name}"), |b| {
            b.iter(|| certificates_from_bytes(black_box(&pem)).unwrap())
        });
        let der = cert(rel).der().to_vec();
        group.bench_function(format!("DER {name}"), |b| {
            b.iter(|| Certificate::from_der(black_box(der.clone())).unwrap())
        });
    }
    group.finish();
}

fn keys(c: &mut Criterion) {
    let mut group = c.benchmark_group("load key");
    for (name, rel) in [
        ("RSA 2048 PKCS#1", "openssl/leaf-rsa-pkcs1.key"),
        ("RSA 3072 PKCS#8", "openssl/leaf-rsa-pkcs8.key"),
        ("ECDSA P-256 SEC1", "openssl/leaf-ec-p256.key"),
        ("Ed25519 PKCS#8", "openssl/leaf-ed25519.key"),
    ] {
        let pem = fixture(rel);
        group.bench_function(name, |b| {
            b.iter(|| private_key_from_bytes(black_box(&pem)).unwrap())
        });
    }
    group.finish();
}

fn coverage(c: &mut Criterion) {
    let members = cert("cfssl/members.pem");
    let wildcard = cert("openssl/wildcard.crt");
    let ip_hit = Host::parse("127.0.0.13").unwrap();
    let ip_miss = Host::parse("https://127.0.0.14:2380").unwrap();
    let dns = Host::parse("etcd-1.example.com").unwrap();
    let mut group = c.benchmark_group("coverage");
    group.bench_function("IP covered", |b| {
        b.iter(|| covers(black_box(&members), black_box(&ip_hit)).is_covered())
    });
    group.bench_function("IP not covered (error with SANs)", |b| {
        b.iter(|| covers(black_box(&members), black_box(&ip_miss)).is_covered())
    });
    group.bench_function("DNS against a wildcard", |b| {
        b.iter(|| covers(black_box(&wildcard), black_box(&dns)).is_covered())
    });
    group.finish();
}

fn chains(c: &mut Criterion) {
    let at = OffsetDateTime::now_utc();
    let opts = VerifyOptions::new().at(at).usage(Usage::ServerAuth);
    let none = CertPool::new();
    let mut group = c.benchmark_group("verify chain");
    let rsa_leaf = cert("cfssl/members.pem");
    let rsa_roots: CertPool = [cert("cfssl/ca.pem")].into_iter().collect();
    group.bench_function("RSA 2048 leaf <- RSA CA", |b| {
        b.iter(|| {
            verify(black_box(&rsa_leaf), &none, &rsa_roots, &opts)
                .unwrap()
                .len()
        })
    });
    let ec_leaf = cert("openssl/leaf-ec-p256.crt");
    let ec_roots: CertPool = [cert("openssl/ec-ca.crt")].into_iter().collect();
    group.bench_function("P-256 leaf <- P-256 CA", |b| {
        b.iter(|| {
            verify(black_box(&ec_leaf), &none, &ec_roots, &opts)
                .unwrap()
                .len()
        })
    });
    let via = cert("openssl/leaf-via-intermediate.crt");
    let intermediates: CertPool = [cert("openssl/intermediate-ca.crt")].into_iter().collect();
    let root: CertPool = [cert("openssl/root-ca.crt")].into_iter().collect();
    group.bench_function("P-256 leaf <- intermediate <- root", |b| {
        b.iter(|| {
            verify(black_box(&via), &intermediates, &root, &opts)
                .unwrap()
                .len()
        })
    });
    group.finish();
}

fn reissuing(c: &mut Criterion) {
    let at = OffsetDateTime::now_utc();
    let mut group = c.benchmark_group("reissue keeping the key");
    for (name, ca_cert, ca_key, leaf) in [
        (
            "RSA 2048 CA (cfssl, PKCS#1 key)",
            "cfssl/ca.pem",
            "cfssl/ca-key.pem",
            "cfssl/members.pem",
        ),
        (
            "ECDSA P-256 CA (openssl, SEC1 key)",
            "openssl/ec-ca.crt",
            "openssl/ec-ca.key",
            "openssl/leaf-ec-p256.crt",
        ),
    ] {
        let key = private_key_from_bytes(&fixture(ca_key)).unwrap();
        let ca = CertificateAuthority::new(cert(ca_cert), &key, at).unwrap();
        let old = cert(leaf);
        let request = ReissueRequest::renew(at).add_ip("127.0.0.14".parse().unwrap());
        group.bench_function(name, |b| {
            b.iter(|| reissue(black_box(&old), None, &ca, &request).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, parsing, keys, coverage, chains, reissuing);
criterion_main!(benches);

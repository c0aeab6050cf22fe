//! The bodies of the fuzz targets, one public function per target, shared by the libFuzzer
//! entry points (fuzz/fuzz_targets/*.rs, nightly) and by pki-core/tests/fuzz_corpus.rs, which
//! replays every committed corpus file through them on stable.
//!
//! Each body feeds the input to pki-core's public API and asserts what must hold whatever the
//! input: no panic, and the invariants written beside each call (a loaded certificate loads
//! again from its own DER and PEM, a reissued certificate chains to the CA and has exactly the
//! requested SANs, ...). Nothing here prints key material.

// Each libFuzzer binary uses one of these functions.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use pki_core::{
    certificates_from_bytes, covers, etcd_file_problem, find_issuer, ip_equal, load_bytes, permits,
    private_key_from_bytes, verify, CertPool, Certificate, CertificateAuthority, Coverage, Error,
    EtcdFile, EtcdFileProblem, Found, Host, HostUrl, KeyAlgorithm, PrivateKey, ReissueRequest,
    Role, Usage, VerifyOptions, BACKDATE,
};
use time::{Duration, OffsetDateTime};

/// Certificates and keys from bytes: `certificates_from_bytes`, `private_key_from_bytes` and
/// `load_bytes` must agree with each other, and whatever they return must be usable.
pub fn load(data: &[u8]) {
    let certs = certificates_from_bytes(data);
    match &certs {
        Ok(certs) => {
            assert!(!certs.is_empty(), "Ok with no certificate");
            let pool: CertPool = certs.iter().cloned().collect();
            for cert in certs {
                exercise_certificate(cert, &pool);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    let certs: &[Certificate] = certs.as_deref().unwrap_or_default();

    let key = private_key_from_bytes(data);
    match &key {
        Ok(key) => exercise_key(key, certs),
        Err(e) => assert!(!e.to_string().is_empty()),
    }

    match load_bytes(data) {
        Ok(loaded) => {
            // Same certificates, in the same order, as certificates_from_bytes.
            let loaded_ders: Vec<&[u8]> = loaded.certificates.iter().map(|c| c.der()).collect();
            let ders: Vec<&[u8]> = certs.iter().map(|c| c.der()).collect();
            assert_eq!(
                loaded_ders, ders,
                "load_bytes and certificates_from_bytes differ"
            );
            // The first key is the one private_key_from_bytes returns.
            match (loaded.keys.first(), &key) {
                (Some(first), Ok(key)) => {
                    assert_eq!(first.algorithm(), key.algorithm());
                    assert_eq!(first.format(), key.format());
                    for cert in certs {
                        assert_eq!(first.matches(cert), key.matches(cert));
                    }
                }
                (Some(_), Err(e)) => panic!("load_bytes found a key, private_key_from_bytes: {e}"),
                (None, Ok(_)) => panic!("private_key_from_bytes found a key, load_bytes none"),
                (None, Err(Error::EncryptedKey { .. })) => assert!(loaded.encrypted_keys > 0),
                (None, Err(_)) => assert_eq!(loaded.encrypted_keys, 0),
            }
            for key in &loaded.keys {
                for cert in &loaded.certificates {
                    let _ = key.matches(cert);
                }
            }
            if loaded.certificates.is_empty() && loaded.keys.is_empty() {
                describe_found(&loaded.found);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// `etcd_file_problem` for every kind of file etcd is given, against what `load_bytes` sees.
pub fn etcd_file(data: &[u8]) {
    let has_begin = data.windows(11).any(|w| w == b"-----BEGIN ");
    let loaded = load_bytes(data);
    let not_pem = |p: &Option<EtcdFileProblem>| {
        matches!(
            p,
            Some(
                EtcdFileProblem::CertificateNotPem
                    | EtcdFileProblem::KeyNotPem
                    | EtcdFileProblem::CaBundleNotPem
            )
        )
    };
    let cert = etcd_file_problem(data, EtcdFile::Certificate);
    let key = etcd_file_problem(data, EtcdFile::PrivateKey);
    let ca = etcd_file_problem(data, EtcdFile::CaBundle);
    // The three agree on whether the input is PEM, and without a BEGIN line it is not.
    assert_eq!(not_pem(&cert), not_pem(&key));
    assert_eq!(not_pem(&cert), not_pem(&ca));
    if !has_begin {
        assert!(not_pem(&cert), "non-PEM input without a problem");
    } else if not_pem(&cert) {
        // A BEGIN line inside DER: load_bytes read it as DER.
        if let Ok(loaded) = &loaded {
            assert!(
                matches!(loaded.found, Found::DerCertificate | Found::DerPrivateKey),
                "{:?}",
                loaded.found
            );
        }
    }
    if !not_pem(&cert) {
        // For these etcd (Go's tls.X509KeyPair) takes the blocks it wants; load_bytes and
        // pki-core's checks judge the content.
        assert_eq!((&cert, &key), (&None, &None));
        match (&ca, &loaded) {
            // A CA file that etcd accepts holds certificate blocks only: no key of any kind.
            (None, Ok(loaded)) => {
                assert!(loaded.keys.is_empty(), "a CA file with a key passed");
                assert_eq!(loaded.encrypted_keys, 0, "a CA file with a key passed");
                if let Found::Pem(labels) = &loaded.found {
                    assert!(labels.iter().all(|l| l == "CERTIFICATE"), "{labels:?}");
                }
            }
            // The label named is one of the blocks load_bytes saw.
            (Some(problem), Ok(loaded)) => {
                let EtcdFileProblem::CaBundleOtherBlock { label } = problem else {
                    panic!("{problem}: not about a block");
                };
                if let Found::Pem(labels) = &loaded.found {
                    assert!(
                        labels.iter().any(|l| l != "CERTIFICATE" && l == label),
                        "{problem} / {labels:?}"
                    );
                }
            }
            (_, Err(_)) => {}
        }
    }
    if let Ok(loaded) = &loaded {
        let pool: CertPool = loaded.certificates.iter().cloned().collect();
        for cert in &loaded.certificates {
            exercise_certificate(cert, &pool);
        }
    }
}

/// Host and URL parsing, and coverage of fixed certificates for the parsed host.
pub fn host(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let parsed = Host::parse(&input);
    if let Ok(host) = &parsed {
        check_host(host, !input.contains("://"));
        // An IP prints as something that parses back to the same IP.
        if let Host::Ip(ip) = host {
            assert_eq!(Host::parse(&host.to_string()).ok(), Some(Host::Ip(*ip)));
        }
        if let Ok(ip) = input.trim().parse::<IpAddr>() {
            assert_eq!(host, &Host::Ip(ip), "an IP address that is not Host::Ip");
        }
        for cert in host_certificates() {
            check_coverage(cert, host);
        }
    }
    match HostUrl::parse(&input) {
        Ok(url) => {
            assert!(matches!(
                url.scheme.as_str(),
                "http" | "https" | "unix" | "unixs"
            ));
            assert_eq!(url.url, input);
            check_host(&url.host, false);
            if input.trim() == input {
                // A bare-host parse of a URL is the URL's host.
                assert_eq!(
                    parsed.ok(),
                    Some(url.host.clone()),
                    "Host::parse({input:?})"
                );
            }
            for cert in host_certificates() {
                check_coverage(cert, &url.host);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Reissue with the fixture CA (fixtures/cfssl/ca.pem): a fixture leaf or a leaf with a fuzzed
/// subjectAltName extension signed by that CA, and fuzzed SAN additions and removals. A plan
/// that succeeds must lead to a certificate that parses, chains to the CA and has exactly the
/// requested SANs.
///
/// Input layout: a flags byte, optional parameter bytes, then operations `[op, len, payload]`
/// (see [`ReissueInput::parse`]).
pub fn reissue(data: &[u8]) {
    let fixed = reissue_fixtures();
    let Some(input) = ReissueInput::parse(data, fixed) else {
        return;
    };
    let (old, old_key) = match input.base {
        Base::Fixture(i) => (fixed.leaves[i].0.clone(), &fixed.leaves[i].1),
        Base::Synthetic {
            ec_key,
            ref san,
            empty_subject,
        } => {
            let key = if ec_key {
                &fixed.ec_leaf_key
            } else {
                &fixed.rsa_leaf_key
            };
            match synthetic_leaf(fixed, key, san.as_deref(), empty_subject) {
                Some(cert) => (cert, key),
                None => return,
            }
        }
    };
    let req = input.request(&old);
    let ca = &fixed.ca;

    let plan = pki_core::plan(&old, ca, &req);
    let result = pki_core::reissue(&old, input.pass_key.then_some(&old_key.0), ca, &req);
    let plan = match plan {
        Ok(plan) => plan,
        Err(plan_err) => {
            assert!(
                matches!(
                    plan_err,
                    Error::InvalidRequest { .. } | Error::NotIssuedByCa { .. }
                ),
                "plan: unexpected error {plan_err}"
            );
            let err = result.expect_err("reissue succeeded where plan failed");
            assert_eq!(err.to_string(), plan_err.to_string());
            return;
        }
    };
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            // Refusing its own result is how reissue reports a bug in the re-encoding; only a
            // leaf that did not verify in the first place may be refused.
            let old_ok = verify(&old, &CertPool::new(), &fixed.roots, &options(req.at)).is_ok();
            assert!(
                !old_ok || !req.remove_ips.is_empty() || !req.remove_dns.is_empty(),
                "plan succeeded, reissue failed: {e}"
            );
            assert!(matches!(e, Error::ReissueRejected { .. }), "{e}");
            return;
        }
    };
    let new = &out.certificate;

    // The plan shown beforehand is the plan carried out.
    assert_eq!(plan.sans_after, out.plan.sans_after);
    assert_eq!(plan.added, out.plan.added);
    assert_eq!(plan.removed, out.plan.removed);
    assert_eq!(plan.already_present, out.plan.already_present);
    assert_eq!(
        (&plan.not_before, &plan.not_after),
        (&out.plan.not_before, &out.plan.not_after)
    );

    // It parses, from DER and from PEM, to the same certificate.
    for bytes in [new.der().to_vec(), new.to_pem().into_bytes()] {
        let again = certificates_from_bytes(&bytes).expect("the reissued certificate parses");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].der(), new.der());
    }
    // It chains to the CA and was signed by it.
    verify(new, &CertPool::new(), &fixed.roots, &options(req.at))
        .expect("the reissued certificate chains to the CA");
    let issuer = find_issuer(new, &fixed.roots).expect("the CA issued it");
    assert_eq!(issuer.der(), ca.certificate().der());
    assert_eq!(new.issuer(), ca.certificate().subject());

    // Exactly the requested SANs: the old ones in order less the removed ones, then the added
    // ones that were not already there; names of other kinds untouched.
    let removed_ip = |ip: &IpAddr| req.remove_ips.iter().any(|r| ip_equal(r, ip));
    let removed_dns = |d: &str| req.remove_dns.iter().any(|r| r.eq_ignore_ascii_case(d));
    let mut want_ip: Vec<IpAddr> = old
        .sans()
        .ip
        .iter()
        .filter(|ip| !removed_ip(ip))
        .copied()
        .collect();
    let mut want_dns: Vec<String> = old
        .sans()
        .dns
        .iter()
        .filter(|d| !removed_dns(d))
        .cloned()
        .collect();
    let mut added = 0;
    for ip in &req.add_ips {
        if !want_ip.iter().any(|w| ip_equal(w, ip)) {
            want_ip.push(*ip);
            added += 1;
        }
    }
    for dns in &req.add_dns {
        if !want_dns.iter().any(|w| w.eq_ignore_ascii_case(dns)) {
            want_dns.push(dns.clone());
            added += 1;
        }
    }
    let got = new.sans();
    assert_eq!(
        got.ip.len(),
        want_ip.len(),
        "IP SANs {:?}, want {want_ip:?}",
        got.ip
    );
    for (g, w) in got.ip.iter().zip(&want_ip) {
        assert!(ip_equal(g, w), "IP SANs {:?}, want {want_ip:?}", got.ip);
    }
    assert_eq!(got.dns, want_dns);
    assert_eq!(got.uri, old.sans().uri);
    assert_eq!(got.email, old.sans().email);
    assert_eq!(got.other, old.sans().other);
    assert_eq!(out.plan.added.len(), added);
    assert_eq!(
        out.plan.removed.len(),
        req.remove_ips.len() + req.remove_dns.len()
    );
    for ip in &want_ip {
        assert!(covers(new, &Host::Ip(*ip)).is_covered(), "{ip} not covered");
    }
    for ip in &req.remove_ips {
        if !req.add_ips.iter().any(|a| ip_equal(a, ip)) {
            assert!(
                !covers(new, &Host::Ip(*ip)).is_covered(),
                "removed {ip} still covered"
            );
        }
    }

    // Everything else is kept; validity is as planned, within the CA's.
    assert_eq!(new.subject(), old.subject());
    assert_eq!(new.key_usage_bits(), old.key_usage_bits());
    assert_eq!(new.ext_key_usage(), old.ext_key_usage());
    assert_eq!(new.basic_constraints(), old.basic_constraints());
    assert_ne!(new.serial_hex(), old.serial_hex());
    assert_eq!(new.not_before(), req.at - BACKDATE);
    assert!(new.not_after() <= ca.certificate().not_after());
    assert!(new.not_after() > req.at);
    match &out.new_key {
        Some(key) => {
            assert!(req.new_key);
            assert!(key.matches(new), "the new key does not match");
            assert!(!key.matches(&old));
        }
        None => {
            assert!(!req.new_key);
            assert_eq!(new.spki_der(), old.spki_der());
            assert!(old_key.0.matches(new));
        }
    }
}

// ----- shared checks -----

/// Every accessor of a certificate, and what must hold between them.
fn exercise_certificate(cert: &Certificate, pool: &CertPool) {
    // It loads again from its own DER and PEM.
    for bytes in [cert.der().to_vec(), cert.to_pem().into_bytes()] {
        let again = certificates_from_bytes(&bytes).expect("a loaded certificate loads again");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].der(), cert.der());
    }
    let summary = cert.summary();
    assert_eq!(summary.subject, cert.subject());
    assert_eq!(summary.issuer, cert.issuer());
    assert_eq!(summary.common_name.as_deref(), cert.common_name());
    assert_eq!(&summary.sans, cert.sans());
    assert_eq!(summary.version, cert.version());
    assert_eq!(summary.basic_constraints, cert.basic_constraints());
    assert_eq!(summary.self_issued, cert.is_self_issued());
    let _ = (
        cert.serial_hex(),
        cert.fingerprint_sha256(),
        cert.spki_der(),
    );
    let _ = (cert.key_algorithm().to_string(), cert.signature_algorithm());
    let _ = (cert.key_usage(), cert.ext_key_usage(), cert.is_ca());
    let _ = (cert.subject_key_id(), cert.authority_key_id());
    let _ = (
        cert.unhandled_critical_extensions(),
        cert.has_san_extension(),
    );
    let _ = cert.sans().to_strings();
    if cert.not_before() <= cert.not_after() {
        assert!(cert.is_valid_at(cert.not_before()));
        assert!(cert.is_valid_at(cert.not_after()));
    }
    // Every IP SAN covers its own address.
    for ip in &cert.sans().ip {
        assert!(
            covers(cert, &Host::Ip(*ip)).is_covered(),
            "IP SAN {ip} not covered"
        );
    }
    for dns in &cert.sans().dns {
        check_coverage(cert, &Host::Dns(dns.clone()));
    }
    for usage in [Usage::ServerAuth, Usage::ClientAuth] {
        let _ = permits(cert, usage);
    }
    for role in [Role::Peer, Role::Server, Role::Client] {
        let _ = (role.required_usages(), role.checks_hosts());
    }
    // Chain building within the input's own certificates, at the start of the validity.
    let _ = verify(cert, pool, pool, &options(cert.not_before()));
    let _ = find_issuer(cert, pool);
}

/// A key's accessors, its matches against the input's certificates, and its PEM round trip.
fn exercise_key(key: &PrivateKey, certs: &[Certificate]) {
    let _ = (
        key.algorithm().to_string(),
        key.algorithm().bits(),
        key.format(),
    );
    let matches: Vec<bool> = certs.iter().map(|c| key.matches(c)).collect();
    for (cert, matched) in certs.iter().zip(&matches) {
        if *matched {
            assert_eq!(cert.key_algorithm(), key.algorithm());
        }
    }
    // Written out in its own format, it reads back as the same key.
    let pem = key
        .to_pem(key.format())
        .expect("a key writes in its own format");
    let again = private_key_from_bytes(pem.as_bytes()).expect("a written key reads back");
    assert_eq!(again.algorithm(), key.algorithm());
    assert_eq!(again.format(), key.format());
    let again_matches: Vec<bool> = certs.iter().map(|c| again.matches(c)).collect();
    assert_eq!(again_matches, matches);
}

/// What a `Found` says, for inputs with neither certificate nor key.
fn describe_found(found: &Found) {
    if let Found::Pem(labels) = found {
        for label in labels {
            assert!(!Found::describe_label(label).is_empty());
        }
    }
}

/// What every parsed host must be: a DNS name is never empty and has no '/' or ASCII space;
/// given bare, no whitespace at all; from a URL, no ASCII control character (Go's url.Parse
/// refuses them).
fn check_host(host: &Host, bare: bool) {
    if let Host::Dns(name) = host {
        assert!(!name.is_empty(), "an empty DNS host");
        assert!(
            !name.chars().any(|c| c == '/'
                || c.is_ascii_whitespace()
                || (bare && c.is_whitespace())
                || (!bare && c.is_ascii_control())),
            "DNS host {name:?} with whitespace, a control character or '/'"
        );
    }
    assert!(!host.to_string().is_empty());
}

/// `covers`, and what its answer implies.
fn check_coverage(cert: &Certificate, host: &Host) {
    match covers(cert, host) {
        Coverage::Covered { .. } => match host {
            Host::Ip(ip) => assert!(cert.sans().ip.iter().any(|s| ip_equal(s, ip))),
            Host::Dns(_) => assert!(!cert.sans().dns.is_empty()),
        },
        Coverage::NotCovered(nc) => {
            assert_eq!(&nc.host, host);
            if let Host::Ip(ip) = host {
                assert!(!cert.sans().ip.iter().any(|s| ip_equal(s, ip)));
            }
            assert!(!nc.to_string().is_empty());
            let _ = nc.valid_for();
        }
    }
}

fn options(at: OffsetDateTime) -> VerifyOptions {
    VerifyOptions::new().at(at)
}

/// Fixed certificates for the host target: IPv4, IPv6, wildcard, mixed-case, CN-only, URI.
fn host_certificates() -> &'static [Certificate] {
    static CERTS: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERTS.get_or_init(|| {
        [
            &include_bytes!("../../fixtures/cfssl/members.pem")[..],
            include_bytes!("../../fixtures/openssl/ipv6.crt"),
            include_bytes!("../../fixtures/openssl/wildcard.crt"),
            include_bytes!("../../fixtures/openssl/mixed-case-dns.crt"),
            include_bytes!("../../fixtures/openssl/cn-only-dns.crt"),
            include_bytes!("../../fixtures/openssl/uri-email.crt"),
        ]
        .iter()
        .map(|pem| certificates_from_bytes(pem).expect("fixture").remove(0))
        .collect()
    })
}

// ----- the reissue target's fixtures and input -----

struct ReissueFixtures {
    ca: CertificateAuthority,
    roots: CertPool,
    /// The CA for rcgen, to sign synthetic leaves.
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    /// The cfssl leaves the CA issued, with their keys.
    leaves: Vec<(Certificate, LeafKey)>,
    rsa_leaf_key: LeafKey,
    ec_leaf_key: LeafKey,
}

/// A leaf's key, as pki-core and as rcgen see it.
struct LeafKey(PrivateKey, rcgen::KeyPair);

fn leaf_key(pem: &[u8]) -> LeafKey {
    let key = private_key_from_bytes(pem).expect("fixture key");
    let pkcs8 = key.to_pem(pki_core::KeyFormat::Pkcs8).expect("PKCS#8");
    let pair = rcgen::KeyPair::from_pem(&pkcs8).expect("rcgen loads the fixture key");
    LeafKey(key, pair)
}

fn reissue_fixtures() -> &'static ReissueFixtures {
    static FIXTURES: OnceLock<ReissueFixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let ca_pem = include_str!("../../fixtures/cfssl/ca.pem");
        let ca_cert = certificates_from_bytes(ca_pem.as_bytes())
            .expect("CA")
            .remove(0);
        let ca_key = leaf_key(include_bytes!("../../fixtures/cfssl/ca-key.pem"));
        let at = ca_cert.not_before() + Duration::days(1);
        let ca = CertificateAuthority::new(ca_cert.clone(), &ca_key.0, at).expect("the CA");
        let issuer = rcgen::Issuer::from_ca_cert_pem(ca_pem, ca_key.1).expect("rcgen issuer");
        let leaf = |cert: &[u8], key: &[u8]| {
            let cert = certificates_from_bytes(cert).expect("fixture").remove(0);
            (cert, leaf_key(key))
        };
        ReissueFixtures {
            ca,
            roots: std::iter::once(ca_cert).collect(),
            issuer,
            leaves: vec![
                leaf(
                    include_bytes!("../../fixtures/cfssl/members.pem"),
                    include_bytes!("../../fixtures/cfssl/members-key.pem"),
                ),
                leaf(
                    include_bytes!("../../fixtures/cfssl/server.pem"),
                    include_bytes!("../../fixtures/cfssl/server-key.pem"),
                ),
                leaf(
                    include_bytes!("../../fixtures/cfssl/client.pem"),
                    include_bytes!("../../fixtures/cfssl/client-key.pem"),
                ),
            ],
            rsa_leaf_key: leaf_key(include_bytes!("../../fixtures/cfssl/members-key.pem")),
            ec_leaf_key: leaf_key(include_bytes!("../../fixtures/openssl/leaf-ec-p256.key")),
        }
    })
}

/// A leaf signed by the fixture CA with a fuzzed subjectAltName extension value (or none), or
/// `None` when rcgen cannot sign it or pki-core cannot parse it.
fn synthetic_leaf(
    fixed: &ReissueFixtures,
    key: &LeafKey,
    san: Option<&[u8]>,
    empty_subject: bool,
) -> Option<Certificate> {
    let mut params = rcgen::CertificateParams::default();
    params.not_before = fixed.ca.certificate().not_before();
    params.not_after = fixed.ca.certificate().not_after();
    params.distinguished_name = rcgen::DistinguishedName::new();
    if !empty_subject {
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "fuzz-leaf");
    }
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    if let Some(san) = san {
        let mut ext = rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 17], san.to_vec());
        // RFC 5280: the SAN extension is critical when the subject is empty.
        ext.set_criticality(empty_subject);
        params.custom_extensions.push(ext);
    }
    let signed = params.signed_by(&key.1, &fixed.issuer).ok()?;
    certificates_from_bytes(signed.der())
        .ok()?
        .into_iter()
        .next()
}

enum Base {
    /// One of the cfssl leaves.
    Fixture(usize),
    /// A leaf made here, with this subjectAltName value (none without an `0x06` operation).
    Synthetic {
        ec_key: bool,
        san: Option<Vec<u8>>,
        empty_subject: bool,
    },
}

/// IPs and names as given, or by index into the old certificate's SANs.
enum IpOp {
    Given(IpAddr),
    /// The old certificate's n-th IP SAN (modulo their number).
    Old(u8),
    /// The old n-th IP SAN in its other form: IPv4 as IPv4-mapped IPv6, and back.
    OldOtherForm(u8),
}

enum DnsOp {
    Given(String),
    Old(u8),
}

struct ReissueInput {
    base: Base,
    new_key: bool,
    pass_key: bool,
    days: Option<u32>,
    at: OffsetDateTime,
    add_ips: Vec<IpOp>,
    add_dns: Vec<DnsOp>,
    remove_ips: Vec<IpOp>,
    remove_dns: Vec<DnsOp>,
}

/// At most this many operations are read: enough for every path, few enough to stay fast.
const MAX_OPS: usize = 16;

impl ReissueInput {
    /// Reads the input:
    /// - byte 0, flags: bits 0-1 the leaf (0 members, 1 server, 2 client: cfssl fixtures; 3 a
    ///   synthetic leaf), bit 2 a new key (only for an ECDSA leaf: RSA generation is too slow
    ///   to fuzz), bit 3 days given, bit 4 `at` near the CA's expiry, bit 5 an empty subject
    ///   (synthetic), bit 6 an ECDSA key (synthetic), bit 7 pass the old key to `reissue`;
    /// - with bit 3, two bytes: days, big-endian; with bit 4, one byte: `at` is the CA's
    ///   expiry less that many hours plus 8;
    /// - operations, each `op len payload[len]`: op % 8 is 0 add IP, 1 add DNS, 2 remove IP,
    ///   3 remove DNS (IP payloads: 16 bytes IPv6, else IPv4 from the first 4), 4 remove the
    ///   old n-th IP SAN, 5 remove the old n-th DNS SAN, 6 the synthetic leaf's SAN extension
    ///   value, 7 add the old n-th IP SAN in its other form (IPv4 and IPv4-mapped IPv6).
    fn parse(data: &[u8], fixed: &ReissueFixtures) -> Option<ReissueInput> {
        let (&flags, mut rest) = data.split_first()?;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(head)
        };
        let days = if flags & 0x08 != 0 {
            let b = take(2)?;
            Some(u32::from(u16::from_be_bytes([b[0], b[1]])))
        } else {
            None
        };
        let ca = fixed.ca.certificate();
        let at = if flags & 0x10 != 0 {
            let hours = i64::from(take(1)?[0]) - 8;
            ca.not_after() - Duration::hours(hours)
        } else {
            ca.not_before() + Duration::days(1)
        };
        let mut input = ReissueInput {
            base: match flags & 0x03 {
                3 => Base::Synthetic {
                    ec_key: flags & 0x40 != 0,
                    san: None,
                    empty_subject: flags & 0x20 != 0,
                },
                i => Base::Fixture(usize::from(i)),
            },
            new_key: flags & 0x04 != 0,
            pass_key: flags & 0x80 != 0,
            days,
            at,
            add_ips: Vec::new(),
            add_dns: Vec::new(),
            remove_ips: Vec::new(),
            remove_dns: Vec::new(),
        };
        for _ in 0..MAX_OPS {
            let Some(header) = take(2) else { break };
            let (op, len) = (header[0], usize::from(header[1]));
            let Some(payload) = take(len) else { break };
            let ip = || {
                if payload.len() == 16 {
                    let octets: [u8; 16] = payload.try_into().ok()?;
                    Some(IpAddr::V6(Ipv6Addr::from(octets)))
                } else {
                    let mut octets = [0u8; 4];
                    for (o, b) in octets.iter_mut().zip(payload) {
                        *o = *b;
                    }
                    Some(IpAddr::V4(Ipv4Addr::from(octets)))
                }
            };
            let index = payload.first().copied().unwrap_or(0);
            let text = || String::from_utf8_lossy(payload).into_owned();
            match op % 8 {
                0 => input.add_ips.extend(ip().map(IpOp::Given)),
                1 => input.add_dns.push(DnsOp::Given(text())),
                2 => input.remove_ips.extend(ip().map(IpOp::Given)),
                3 => input.remove_dns.push(DnsOp::Given(text())),
                4 => input.remove_ips.push(IpOp::Old(index)),
                5 => input.remove_dns.push(DnsOp::Old(index)),
                6 => {
                    if let Base::Synthetic { san, .. } = &mut input.base {
                        *san = Some(payload.to_vec());
                    }
                }
                _ => input.add_ips.push(IpOp::OldOtherForm(index)),
            }
        }
        Some(input)
    }

    /// The request, with indices resolved against the old certificate's SANs.
    fn request(&self, old: &Certificate) -> ReissueRequest {
        let sans = old.sans();
        let old_ip = |i: u8| sans.ip.get(usize::from(i) % sans.ip.len().max(1)).copied();
        let ip = |op: &IpOp| match op {
            IpOp::Given(ip) => Some(*ip),
            IpOp::Old(i) => old_ip(*i),
            IpOp::OldOtherForm(i) => old_ip(*i).map(|ip| match ip {
                IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            }),
        };
        let dns = |op: &DnsOp| match op {
            DnsOp::Given(d) => Some(d.clone()),
            DnsOp::Old(i) => sans
                .dns
                .get(usize::from(*i) % sans.dns.len().max(1))
                .cloned(),
        };
        // A new RSA key takes far too long to generate per input.
        let ec = matches!(old.key_algorithm(), KeyAlgorithm::Ecdsa { .. });
        let mut req = ReissueRequest::new().at(self.at);
        for a in self.add_ips.iter().filter_map(ip) {
            req = req.add_ip(a);
        }
        for d in self.add_dns.iter().filter_map(dns) {
            req = req.add_dns(d);
        }
        for a in self.remove_ips.iter().filter_map(ip) {
            req = req.remove_ip(a);
        }
        for d in self.remove_dns.iter().filter_map(dns) {
            req = req.remove_dns(d);
        }
        if self.new_key && ec {
            req = req.new_key();
        }
        if let Some(days) = self.days {
            req = req.days(days);
        }
        req
    }
}

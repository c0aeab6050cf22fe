//! Chain verification as Go's `(*x509.Certificate).Verify` does it, which is what etcd runs on
//! every TLS handshake (`--trusted-ca-file`, `--peer-trusted-ca-file`).
//!
//! The algorithm is Go's `buildChains`: parents are looked up by exact issuer-name bytes, tried in
//! Go's order (matching key identifiers first), each accepted only if its signature checks out
//! (`CheckSignatureFrom`: the parent must be a CA, with keyCertSign if it has key usage bits,
//! and the signature algorithm must not be MD5 or SHA-1) and it is itself valid (validity period
//! at the given time, no unhandled critical extension, name constraints, CA flag for
//! intermediates, path length). The certificates in the CA bundle are trust anchors, all of them
//! (Go's `CertPool` from `--trusted-ca-file` treats an intermediate there as a root too); a
//! root's own signature is never checked. Extended key usage is then checked over each chain
//! (see [`crate::usage`]). Key usage bits of leaves are ignored, as in Go.
//!
//! Why not rustls-webpki: it rejects what Go accepts on etcd hosts (a leaf with `CA:TRUE`, v1
//! roots) and checks less than Go does (a root past its expiry), so its verdicts would not be
//! etcd's. Differences from Go that remain: RSA-1024 with SHA-384 signatures are not verifiable
//! (see [`crate::signature`]); name constraints are evaluated for DNS, IP, email and URI names
//! as Go does, other name forms are ignored as Go ignores them.

use std::collections::HashMap;
use std::fmt;

use time::OffsetDateTime;

use crate::cert::{Certificate, KU_CERT_SIGN};
use crate::go_fmt::go_quote;
use crate::go_rules::GoRules;
use crate::key::KeyAlgorithm;
use crate::name_constraints::{check_name_constraints, ConstraintFailure};
use crate::signature::{check_signature, SignatureError};
use crate::time_fmt::rfc3339;
use crate::usage::{chain_permits, Usage};

/// Go's `maxChainSignatureChecks`.
const MAX_SIGNATURE_CHECKS: usize = 100;

/// A set of certificates indexed by subject name, like Go's `x509.CertPool`.
#[derive(Debug, Clone, Default)]
pub struct CertPool {
    certs: Vec<Certificate>,
    by_subject: HashMap<Vec<u8>, Vec<usize>>,
}

impl CertPool {
    /// An empty pool.
    pub fn new() -> CertPool {
        CertPool::default()
    }

    /// Adds a certificate (duplicates by DER are ignored).
    pub fn add(&mut self, cert: Certificate) {
        if self.contains(&cert) {
            return;
        }
        self.by_subject
            .entry(cert.raw_subject().to_vec())
            .or_default()
            .push(self.certs.len());
        self.certs.push(cert);
    }

    /// The certificates, in the order added.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Whether a certificate with the same DER is in the pool.
    pub fn contains(&self, cert: &Certificate) -> bool {
        self.by_subject
            .get(cert.raw_subject())
            .is_some_and(|ids| ids.iter().any(|&i| self.certs[i].der() == cert.der()))
    }

    /// Certificates whose subject is `child`'s issuer, best key-identifier match first (Go's
    /// `findPotentialParents`).
    pub(crate) fn potential_parents(&self, child: &Certificate) -> Vec<&Certificate> {
        self.parents_of(child.raw_issuer(), child.authority_key_id())
    }

    /// [`CertPool::potential_parents`] of a certificate with issuer `raw_issuer` (DER) and
    /// authority key ID `aki`.
    pub(crate) fn parents_of(&self, raw_issuer: &[u8], aki: Option<&[u8]>) -> Vec<&Certificate> {
        let Some(ids) = self.by_subject.get(raw_issuer) else {
            return Vec::new();
        };
        // Go compares the identifiers with bytes.Equal and tests their lengths: an empty one is
        // an absent one.
        fn present(id: Option<&[u8]>) -> Option<&[u8]> {
            id.filter(|id| !id.is_empty())
        }
        let aki = present(aki);
        let mut matching = Vec::new();
        let mut one = Vec::new();
        let mut mismatch = Vec::new();
        for &i in ids {
            let candidate = &self.certs[i];
            let ski = present(candidate.subject_key_id());
            match (ski, aki) {
                (a, b) if a == b => matching.push(candidate),
                (None, Some(_)) | (Some(_), None) => one.push(candidate),
                _ => mismatch.push(candidate),
            }
        }
        matching.extend(one);
        matching.extend(mismatch);
        matching
    }
}

impl FromIterator<Certificate> for CertPool {
    fn from_iter<I: IntoIterator<Item = Certificate>>(iter: I) -> Self {
        let mut pool = CertPool::new();
        for cert in iter {
            pool.add(cert);
        }
        pool
    }
}

/// What to verify: [`VerifyOptions::new`] and the methods below.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// The instant validity is judged at.
    pub at: OffsetDateTime,
    /// The usage the chain must permit; `None` skips the extended key usage check.
    pub usage: Option<Usage>,
    /// Whose `crypto/x509` decides where the Go versions differ (which names a CA's name
    /// constraints are checked against; see [`VerifyOptions::go_rules`]).
    pub rules: GoRules,
}

impl VerifyOptions {
    /// Validity judged now; no extended key usage check.
    pub fn new() -> VerifyOptions {
        VerifyOptions {
            at: OffsetDateTime::now_utc(),
            usage: None,
            rules: GoRules::default(),
        }
    }

    /// Judges validity at `at` instead of now.
    pub fn at(mut self, at: OffsetDateTime) -> VerifyOptions {
        self.at = at;
        self
    }

    /// Requires every chain to permit `usage`, as Go's `ExtKeyUsage` option does.
    pub fn usage(mut self, usage: Usage) -> VerifyOptions {
        self.usage = Some(usage);
        self
    }

    /// Judges by the rules of another Go. They differ in the names a CA's name constraints
    /// apply to: Go 1.24 checks every certificate below the CA that has a subjectAltName
    /// extension; Go 1.19 (etcd 3.4) checks the leaf and the constraining CA itself, not the
    /// intermediates between them.
    pub fn go_rules(mut self, rules: GoRules) -> VerifyOptions {
        self.rules = rules;
        self
    }
}

impl Default for VerifyOptions {
    /// [`VerifyOptions::new`].
    fn default() -> VerifyOptions {
        VerifyOptions::new()
    }
}

/// A verified chain, leaf first and trust anchor last.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    /// The certificates.
    pub certs: Vec<&'a Certificate>,
}

impl Chain<'_> {
    /// The trust anchor the chain ends in.
    pub fn anchor(&self) -> &Certificate {
        self.certs.last().expect("a chain is never empty")
    }
}

/// Why verification failed; messages are Go's so that they match etcd's logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A certificate is outside its validity period.
    Expired {
        /// Subject of the certificate.
        subject: String,
        /// Whether the problem is that it is not valid yet.
        not_yet_valid: bool,
        /// The bound that was crossed.
        bound: OffsetDateTime,
        /// The instant of the check.
        at: OffsetDateTime,
    },
    /// A certificate carries a critical extension Go does not understand.
    UnhandledCriticalExtension {
        /// Subject of the certificate.
        subject: String,
        /// The extension OIDs.
        oids: Vec<String>,
    },
    /// No chain to a trust anchor was found.
    UnknownAuthority {
        /// The first candidate issuer that was rejected and why, as Go reports it.
        hint: Option<(String, SignatureError)>,
    },
    /// An intermediate is not a CA.
    NotAuthorizedToSign {
        /// Subject of the intermediate.
        subject: String,
    },
    /// A path length constraint is exceeded.
    TooManyIntermediates {
        /// Subject of the constraining CA.
        subject: String,
    },
    /// A CA's name constraints forbid a name in the chain below it.
    NameConstraint {
        /// Subject of the constraining CA.
        subject: String,
        /// Go's detail text.
        detail: String,
    },
    /// A SAN that a CA's name constraints apply to cannot be read as Go reads it (Go returns
    /// this error as it is, not as a name constraint violation).
    UnreadableName {
        /// Subject of the certificate with the SAN.
        subject: String,
        /// Go's message.
        message: String,
    },
    /// Chains exist, but none permits the usage.
    IncompatibleUsage {
        /// The usage asked for.
        usage: Usage,
    },
    /// Go's limit on signature checks per verification was reached.
    TooManySignatureChecks,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Expired {
                subject,
                not_yet_valid,
                bound,
                at,
            } => write!(
                f,
                "x509: certificate has expired or is not yet valid: current time {} is {} {} (certificate \"{subject}\")",
                rfc3339(*at),
                if *not_yet_valid { "before" } else { "after" },
                rfc3339(*bound)
            ),
            VerifyError::UnhandledCriticalExtension { subject, oids } => write!(
                f,
                "x509: unhandled critical extension ({}) in \"{subject}\"",
                oids.join(", ")
            ),
            VerifyError::UnknownAuthority { hint: None } => {
                f.write_str("x509: certificate signed by unknown authority")
            }
            VerifyError::UnknownAuthority {
                hint: Some((candidate, reason)),
            } => write!(
                f,
                "x509: certificate signed by unknown authority (possibly because of {} while trying to verify candidate authority certificate {})",
                go_quote(&reason.to_string()),
                go_quote(candidate)
            ),
            VerifyError::NotAuthorizedToSign { subject } => write!(
                f,
                "x509: certificate is not authorized to sign other certificates (\"{subject}\" is not a CA)"
            ),
            VerifyError::TooManyIntermediates { subject } => write!(
                f,
                "x509: too many intermediates for path length constraint of \"{subject}\""
            ),
            VerifyError::NameConstraint { subject, detail } => write!(
                f,
                "x509: a root or intermediate certificate is not authorized to sign for this name: {detail} (constraint of \"{subject}\")"
            ),
            VerifyError::UnreadableName { subject, message } => write!(
                f,
                "{message} (a SAN of \"{subject}\", read to check a CA's name constraints)"
            ),
            VerifyError::IncompatibleUsage { usage } => write!(
                f,
                "x509: certificate specifies an incompatible key usage ({usage} is not permitted by every certificate of the chain)"
            ),
            VerifyError::TooManySignatureChecks => f.write_str(
                "x509: signature check attempts limit reached while verifying certificate chain",
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CertType {
    Leaf,
    Intermediate,
    Root,
}

/// Verifies `leaf` against trust anchors `roots`, with `intermediates` as untrusted helpers.
/// Returns every valid chain (leaf first), or Go's error.
pub fn verify<'a>(
    leaf: &'a Certificate,
    intermediates: &'a CertPool,
    roots: &'a CertPool,
    opts: &VerifyOptions,
) -> Result<Vec<Chain<'a>>, VerifyError> {
    is_valid(leaf, CertType::Leaf, &[], opts)?;
    let candidates: Vec<Vec<&'a Certificate>> = if roots.contains(leaf) {
        vec![vec![leaf]]
    } else {
        let mut builder = Builder {
            intermediates,
            roots,
            opts,
            signature_checks: 0,
        };
        builder.build(vec![leaf])?
    };
    let Some(usage) = opts.usage else {
        return Ok(candidates
            .into_iter()
            .map(|certs| Chain { certs })
            .collect());
    };
    let chains: Vec<Chain<'a>> = candidates
        .into_iter()
        .filter(|certs| chain_permits(certs.iter().copied(), usage))
        .map(|certs| Chain { certs })
        .collect();
    if chains.is_empty() {
        return Err(VerifyError::IncompatibleUsage { usage });
    }
    Ok(chains)
}

/// Finds the certificate in `cas` that issued `cert` (Go's parent selection and
/// `CheckSignatureFrom`, without validity or usage checks), for reports that name an issuer.
/// SHA-1 signatures are accepted here: the question is who signed, not whether Go would trust
/// the signature (reissuing such a certificate is how it gets fixed).
pub fn find_issuer<'a>(
    cert: &Certificate,
    cas: &'a CertPool,
) -> Result<&'a Certificate, VerifyError> {
    let mut hint = None;
    for candidate in cas.potential_parents(cert) {
        let signed = check_parent(candidate)
            .and_then(|()| crate::signature::check_signature_allowing_insecure(cert, candidate));
        match signed {
            Ok(()) => return Ok(candidate),
            Err(e) => {
                if hint.is_none() {
                    hint = Some((hint_name(candidate), e));
                }
            }
        }
    }
    Err(VerifyError::UnknownAuthority { hint })
}

struct Builder<'a, 'o> {
    intermediates: &'a CertPool,
    roots: &'a CertPool,
    opts: &'o VerifyOptions,
    signature_checks: usize,
}

impl<'a> Builder<'a, '_> {
    fn build(
        &mut self,
        current: Vec<&'a Certificate>,
    ) -> Result<Vec<Vec<&'a Certificate>>, VerifyError> {
        let child = *current
            .last()
            .expect("chain under construction is never empty");
        let mut chains = Vec::new();
        let mut err: Option<VerifyError> = None;
        let mut hint: Option<(String, SignatureError)> = None;
        let candidates = self
            .roots
            .potential_parents(child)
            .into_iter()
            .map(|c| (CertType::Root, c))
            .chain(
                self.intermediates
                    .potential_parents(child)
                    .into_iter()
                    .map(|c| (CertType::Intermediate, c)),
            );
        for (cert_type, candidate) in candidates {
            // Go 1.24 passes over a candidate whose key it does not know before counting a
            // signature check; Go 1.19 counts it, and CheckSignatureFrom refuses it.
            if already_in_chain(candidate, &current)
                || (self.opts.rules == GoRules::Go124 && go_124_has_no_key(candidate))
            {
                continue;
            }
            self.signature_checks += 1;
            if self.signature_checks > MAX_SIGNATURE_CHECKS {
                // As Go: this candidate (and every later one) is skipped, and the chains found
                // so far still count.
                err = Some(VerifyError::TooManySignatureChecks);
                continue;
            }
            if let Err(e) = check_signature_from(child, candidate) {
                if hint.is_none() {
                    hint = Some((hint_name(candidate), e.worded_for(self.opts.rules)));
                }
                continue;
            }
            if let Err(e) = is_valid(candidate, cert_type, &current, self.opts) {
                err = Some(e);
                continue;
            }
            let mut extended = current.clone();
            extended.push(candidate);
            match cert_type {
                CertType::Root => chains.push(extended),
                // No cache of sub-chains: what is valid above an intermediate depends on the path
                // below it (path length, name constraints); Go's signature-check limit bounds
                // the work instead.
                _ => match self.build(extended) {
                    Ok(found) => chains.extend(found),
                    Err(e) => err = Some(e),
                },
            }
        }
        if !chains.is_empty() {
            return Ok(chains);
        }
        Err(err.unwrap_or(VerifyError::UnknownAuthority { hint }))
    }
}

/// Go's `CheckSignatureFrom`: the parent's right to sign, then a public key algorithm Go knows,
/// then the signature.
fn check_signature_from(child: &Certificate, parent: &Certificate) -> Result<(), SignatureError> {
    check_parent(parent)?;
    if go_key_algorithm_unknown(parent) {
        return Err(SignatureError::Unsupported {
            algorithm: child.signature_algorithm().clone(),
            key: parent.key_algorithm().clone(),
        });
    }
    check_signature(child, parent)
}

/// Whether Go's `PublicKeyAlgorithm` of the certificate is `UnknownPublicKeyAlgorithm`: any but
/// RSA, ECDSA, Ed25519 and DSA (X25519 and Ed448 among them).
fn go_key_algorithm_unknown(cert: &Certificate) -> bool {
    match cert.key_algorithm() {
        KeyAlgorithm::Other { oid } => oid != "1.2.840.10040.4.1",
        _ => false,
    }
}

/// Whether Go 1.24 leaves the certificate's `PublicKey` nil: an unknown algorithm that is not
/// X25519 either (which Go 1.24 parses into an `*ecdh.PublicKey`).
fn go_124_has_no_key(cert: &Certificate) -> bool {
    go_key_algorithm_unknown(cert)
        && !matches!(cert.key_algorithm(), KeyAlgorithm::Other { oid } if oid == "1.3.101.110")
}

/// The first half of Go's `CheckSignatureFrom`: whether `parent` may sign certificates at all (a
/// v3 certificate needs basic constraints with cA; a v1 certificate may; keyCertSign when key
/// usage bits are set).
pub(crate) fn check_parent(parent: &Certificate) -> Result<(), SignatureError> {
    let not_ca = match parent.basic_constraints() {
        None => parent.version() == 3,
        Some(bc) => !bc.ca,
    };
    let ku = parent.key_usage_bits().unwrap_or(0);
    if not_ca || (ku != 0 && ku & KU_CERT_SIGN == 0) {
        return Err(SignatureError::NotACa);
    }
    Ok(())
}

/// Whether a certificate may act as an issuer by Go's rules (see [`check_parent`]).
pub(crate) fn may_issue(cert: &Certificate) -> bool {
    check_parent(cert).is_ok()
}

/// Go's `isValid`.
fn is_valid(
    cert: &Certificate,
    cert_type: CertType,
    current: &[&Certificate],
    opts: &VerifyOptions,
) -> Result<(), VerifyError> {
    if !cert.unhandled_critical_extensions().is_empty() {
        return Err(VerifyError::UnhandledCriticalExtension {
            subject: display_name(cert),
            oids: cert.unhandled_critical_extensions().to_vec(),
        });
    }
    if opts.at < cert.not_before() || opts.at > cert.not_after() {
        let not_yet_valid = opts.at < cert.not_before();
        return Err(VerifyError::Expired {
            subject: display_name(cert),
            not_yet_valid,
            bound: if not_yet_valid {
                cert.not_before()
            } else {
                cert.not_after()
            },
            at: opts.at,
        });
    }
    if cert_type != CertType::Leaf {
        if let Some(nc) = cert.name_constraints() {
            let checked: Vec<&Certificate> = match opts.rules {
                GoRules::Go119 => current.iter().take(1).copied().chain([cert]).collect(),
                GoRules::Go124 => current.to_vec(),
            };
            for below in checked.into_iter().filter(|c| c.has_san_extension()) {
                check_name_constraints(nc, below, opts.rules).map_err(|failure| match failure {
                    ConstraintFailure::NotAuthorized(detail) => VerifyError::NameConstraint {
                        subject: display_name(cert),
                        detail,
                    },
                    ConstraintFailure::Unreadable(message) => VerifyError::UnreadableName {
                        subject: display_name(below),
                        message,
                    },
                })?;
            }
        }
    }
    if cert_type == CertType::Intermediate && !cert.is_ca() {
        return Err(VerifyError::NotAuthorizedToSign {
            subject: display_name(cert),
        });
    }
    if let Some(max) = cert.max_path_len() {
        let intermediates_below = current.len().saturating_sub(1);
        if intermediates_below > max as usize {
            return Err(VerifyError::TooManyIntermediates {
                subject: display_name(cert),
            });
        }
    }
    Ok(())
}

/// Go's `alreadyInChain`, quirk included: at the first certificate of the chain with the
/// candidate's subject and key, the answer is whether their SAN extensions are equal, except
/// that where one has a SAN extension and the other none, Go answers "no" at once, without
/// looking further down the chain. So a CA can follow itself in a chain when a certificate
/// with its name and key but other SANs came first (Go then builds ever longer chains, up to
/// its limit of signature checks).
fn already_in_chain(candidate: &Certificate, chain: &[&Certificate]) -> bool {
    let candidate_san = candidate.san_extension_der();
    for c in chain {
        if c.raw_subject() != candidate.raw_subject() || c.spki_der() != candidate.spki_der() {
            continue;
        }
        match (candidate_san, c.san_extension_der()) {
            (None, None) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(a), Some(b)) if a == b => return true,
            _ => {}
        }
    }
    false
}

/// How Go's `UnknownAuthorityError` names the candidate it rejected: its Common Name, else its
/// first Organization, else `serial:` and the serial number in decimal.
pub(crate) fn hint_name(cert: &Certificate) -> String {
    if let Some(cn) = cert.common_name().filter(|cn| !cn.is_empty()) {
        return cn.to_string();
    }
    match cert.first_organization() {
        Some(o) => o,
        None => format!("serial:{}", cert.serial_decimal()),
    }
}

/// The Common Name if there is one, else the whole subject: how Go names a certificate in errors.
pub(crate) fn display_name(cert: &Certificate) -> String {
    match cert.common_name() {
        Some(cn) if !cn.is_empty() => cn.to_string(),
        _ => cert.subject().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::generate::{ca_params, params, parse, Ca};
    use crate::test_support::{cert, certs};
    use rcgen::{BasicConstraints as Bc, CertificateParams, IsCa};
    use time::macros::datetime;

    fn pool(rels: &[&str]) -> CertPool {
        rels.iter().flat_map(|r| certs(r)).collect()
    }

    fn opts(usage: Option<Usage>) -> VerifyOptions {
        VerifyOptions {
            at: datetime!(2030-01-01 0:00 UTC),
            usage,
            rules: GoRules::default(),
        }
    }

    fn names(chain: &Chain<'_>) -> Vec<String> {
        chain.certs.iter().map(|c| display_name(c)).collect()
    }

    #[test]
    fn real_tool_chains_verify() {
        let none = CertPool::new();
        let cases = [
            (
                "cfssl/members.pem",
                "cfssl/ca.pem",
                vec!["etcd-peer", "etcd-ca"],
            ),
            (
                "kubeadm/peer.crt",
                "kubeadm/ca.crt",
                vec!["node-1", "etcd-ca"],
            ),
            (
                "openssl/leaf-rsa-pkcs8.crt",
                "openssl/rsa-ca.crt",
                vec!["leaf-rsa-pkcs8", "rsa-ca"],
            ),
            (
                "openssl/leaf-ec-p384.crt",
                "openssl/ec-ca.crt",
                vec!["leaf-ec-p384", "ec-ca"],
            ),
            (
                "openssl/leaf-ed25519.crt",
                "openssl/ed25519-ca.crt",
                vec!["leaf-ed25519", "ed25519-ca"],
            ),
        ];
        for (leaf, ca, expected) in cases {
            let leaf = cert(leaf);
            let roots = pool(&[ca]);
            let chains = verify(&leaf, &none, &roots, &opts(Some(Usage::ServerAuth))).unwrap();
            assert_eq!(names(&chains[0]), expected);
        }
    }

    #[test]
    fn intermediates_come_from_the_bundle_or_the_ca_file() {
        let chain = certs("openssl/leaf-via-intermediate-chain.pem");
        let intermediates: CertPool = chain[1..].iter().cloned().collect();
        let root = pool(&["openssl/root-ca.crt"]);
        let found = verify(&chain[0], &intermediates, &root, &opts(None)).unwrap();
        assert_eq!(
            names(&found[0]),
            ["leaf-via-intermediate", "intermediate-ca", "root-ca"]
        );

        let err = verify(&chain[0], &CertPool::new(), &root, &opts(None)).unwrap_err();
        assert_eq!(err, VerifyError::UnknownAuthority { hint: None });

        // An intermediate in the CA file is a trust anchor, as in Go's CertPool.
        let both = pool(&["openssl/root-and-intermediate.pem"]);
        let none = CertPool::new();
        let found = verify(&chain[0], &none, &both, &opts(None)).unwrap();
        assert_eq!(
            names(&found[0]),
            ["leaf-via-intermediate", "intermediate-ca"]
        );
    }

    #[test]
    fn foreign_and_wrong_cas_are_unknown_authorities() {
        let none = CertPool::new();
        let err = verify(
            &cert("cfssl/foreign-members.pem"),
            &none,
            &pool(&["cfssl/ca.pem"]),
            &opts(None),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x509: certificate signed by unknown authority"),
            "{err}"
        );
        let err = verify(
            &cert("openssl/leaf-ec-p256.crt"),
            &none,
            &pool(&["openssl/rsa-ca.crt"]),
            &opts(None),
        )
        .unwrap_err();
        assert!(matches!(err, VerifyError::UnknownAuthority { .. }), "{err}");
    }

    #[test]
    fn a_same_named_ca_with_another_key_is_told_apart_by_signature() {
        let none = CertPool::new();
        let real = cert("cfssl/members.pem");
        let impostor_signed = cert("cfssl/impostor-members.pem");
        assert_eq!(
            real.issuer(),
            impostor_signed.issuer(),
            "the fixture's premise"
        );

        let only_impostor = pool(&["cfssl/impostor-ca.pem"]);
        let err = verify(&real, &none, &only_impostor, &opts(None)).unwrap_err();
        let VerifyError::UnknownAuthority {
            hint: Some((candidate, reason)),
        } = &err
        else {
            panic!("expected a hint naming the rejected candidate: {err}");
        };
        assert_eq!(candidate, "etcd-ca");
        assert!(matches!(reason, SignatureError::Mismatch(_)));
        assert!(
            err.to_string()
                .contains("while trying to verify candidate authority certificate \"etcd-ca\""),
            "{err}"
        );

        let both = pool(&["cfssl/impostor-ca.pem", "cfssl/ca.pem"]);
        assert!(verify(&real, &none, &both, &opts(None)).is_ok());
        assert!(verify(&impostor_signed, &none, &both, &opts(None)).is_ok());
        let issuer = find_issuer(&real, &both).unwrap();
        assert_eq!(issuer.der(), cert("cfssl/ca.pem").der());
    }

    #[test]
    fn validity_is_checked_at_the_given_instant() {
        let leaf = cert("openssl/expired.crt");
        let roots = pool(&["openssl/rsa-ca.crt"]);
        let none = CertPool::new();
        let err = verify(&leaf, &none, &roots, &opts(None)).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::Expired {
                    not_yet_valid: false,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("is after 2021-01-01T00:00:00Z"),
            "{err}"
        );
        let mut at_2020 = opts(None);
        at_2020.at = datetime!(2020-06-01 0:00 UTC);
        assert!(
            verify(&leaf, &none, &roots, &at_2020).is_err(),
            "the CA itself is not valid in 2020"
        );
        at_2020.at = datetime!(2019-06-01 0:00 UTC);
        let err = verify(&leaf, &none, &roots, &at_2020).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::Expired {
                    not_yet_valid: true,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn extended_key_usage_follows_go() {
        let none = CertPool::new();
        let roots = pool(&["openssl/ec-ca.crt"]);
        let server_only = cert("openssl/server-only.crt");
        assert!(verify(&server_only, &none, &roots, &opts(Some(Usage::ServerAuth))).is_ok());
        let err = verify(&server_only, &none, &roots, &opts(Some(Usage::ClientAuth))).unwrap_err();
        assert_eq!(
            err,
            VerifyError::IncompatibleUsage {
                usage: Usage::ClientAuth
            }
        );
        let asked = VerifyOptions::new()
            .at(datetime!(2030-01-01 0:00 UTC))
            .usage(Usage::ClientAuth);
        assert_eq!(asked.usage, Some(Usage::ClientAuth));
        assert_eq!(
            verify(&server_only, &none, &roots, &asked).unwrap_err(),
            VerifyError::IncompatibleUsage {
                usage: Usage::ClientAuth
            }
        );
        let client_only = cert("openssl/client-only.crt");
        assert!(verify(&client_only, &none, &roots, &opts(Some(Usage::ServerAuth))).is_err());
        let no_eku = cert("openssl/no-eku.crt");
        for usage in [Usage::ServerAuth, Usage::ClientAuth] {
            assert!(
                verify(&no_eku, &none, &roots, &opts(Some(usage))).is_ok(),
                "{usage}"
            );
        }
    }

    #[test]
    fn a_root_in_the_pool_verifies_as_itself() {
        let ca = cert("cfssl/ca.pem");
        let roots = pool(&["cfssl/ca.pem"]);
        let none = CertPool::new();
        let chains = verify(&ca, &none, &roots, &opts(None)).unwrap();
        assert_eq!(chains[0].certs.len(), 1);
    }

    /// Two paths to the same root, one too long for its path length constraint: Go accepts the
    /// leaf through the short one, whatever order the intermediates come in.
    #[test]
    fn every_path_is_explored_whatever_the_order() {
        let root = Ca::new(ca_params("R", Bc::Constrained(2)));
        let x = Ca::new(ca_params("X", Bc::Unconstrained));
        let y = Ca::new(ca_params("Y", Bc::Unconstrained));
        let i = Ca::new(ca_params("I", Bc::Unconstrained));
        let (x_cert, y_cert) = (x.signed_by(&root), y.signed_by(&x));
        let (ia, ib) = (i.signed_by(&y), i.signed_by(&x));
        let mut leaf_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        let leaf = i.sign(&leaf_params);
        let roots: CertPool = std::iter::once(root.self_signed()).collect();
        for order in [
            [&ia, &ib, &x_cert, &y_cert],
            [&ib, &ia, &y_cert, &x_cert],
            [&y_cert, &ia, &x_cert, &ib],
        ] {
            let intermediates: CertPool = order.into_iter().cloned().collect();
            let chains = verify(&leaf, &intermediates, &roots, &opts(None))
                .expect("the short path is valid");
            assert!(
                chains.iter().all(|c| c.certs.len() == 4),
                "only L <- Ib <- X <- R fits pathlen 2"
            );
        }
    }

    #[test]
    fn find_issuer_uses_signatures() {
        let cas = pool(&["cfssl/ca.pem", "cfssl/other-ca.pem", "kubeadm/ca.crt"]);
        let issuer = find_issuer(&cert("cfssl/foreign-members.pem"), &cas).unwrap();
        assert_eq!(issuer.common_name(), Some("other-ca"));
        let issuer = find_issuer(&cert("kubeadm/healthcheck-client.crt"), &cas).unwrap();
        assert_eq!(issuer.der(), cert("kubeadm/ca.crt").der());
    }

    #[test]
    fn a_pool_keeps_each_certificate_once_in_order() {
        let mut pool = CertPool::new();
        assert!(pool.is_empty());
        assert_eq!(pool.len(), 0);
        for rel in ["cfssl/ca.pem", "kubeadm/ca.crt", "cfssl/ca.pem"] {
            pool.add(cert(rel));
        }
        assert!(!pool.is_empty());
        assert_eq!(pool.len(), 2);
        let ders: Vec<&[u8]> = pool.certificates().iter().map(|c| c.der()).collect();
        assert_eq!(
            ders,
            [cert("cfssl/ca.pem").der(), cert("kubeadm/ca.crt").der()]
        );
        assert!(pool.contains(&cert("kubeadm/ca.crt")));
        assert!(!pool.contains(&cert("cfssl/other-ca.pem")));
    }

    /// A CA named `CN=CA` whose subject key identifier is `ski` (`None`: no extension).
    fn ca_with_ski(ski: Option<Vec<u8>>) -> Certificate {
        let mut p = params("CA");
        match ski {
            Some(ski) => {
                p.is_ca = IsCa::Ca(Bc::Unconstrained);
                p.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(ski);
            }
            None => {
                // basicConstraints cA:TRUE without rcgen's subject key identifier.
                let mut bc = rcgen::CustomExtension::from_oid_content(
                    &[2, 5, 29, 19],
                    vec![0x30, 0x03, 0x01, 0x01, 0xff],
                );
                bc.set_criticality(true);
                p.custom_extensions = vec![bc];
            }
        }
        Ca::new(p).self_signed()
    }

    /// Go's findPotentialParents: same-named candidates whose subject key ID equals the child's
    /// authority key ID first, then those where only one of the two is present (an empty one
    /// counts as absent: Go compares lengths), then those that differ; each group in pool order.
    #[test]
    fn parents_are_ordered_by_key_identifier_as_go_does() {
        let (matching, other) = (vec![1, 2, 3], vec![9, 9, 9]);
        let pool: CertPool = [
            ca_with_ski(Some(other.clone())),
            ca_with_ski(Some(vec![])),
            ca_with_ski(None),
            ca_with_ski(Some(matching.clone())),
        ]
        .into_iter()
        .collect();
        let raw_issuer = pool.certificates()[0].raw_subject().to_vec();
        let order = |aki: Option<&[u8]>| -> Vec<Option<Vec<u8>>> {
            pool.parents_of(&raw_issuer, aki)
                .iter()
                .map(|c| c.subject_key_id().map(<[u8]>::to_vec))
                .collect()
        };
        assert_eq!(
            order(Some(&matching)),
            [
                Some(matching.clone()),
                Some(vec![]),
                None,
                Some(other.clone())
            ]
        );
        assert_eq!(
            order(None),
            [Some(vec![]), None, Some(other), Some(matching)]
        );
        assert!(pool.parents_of(b"not a name", None).is_empty());
    }

    #[test]
    fn name_constraints_of_an_intermediate_bind_the_leaf() {
        let roots = pool(&["openssl/root-ca.crt"]);
        let inside = certs("openssl/nc-inside-chain.pem");
        let intermediates: CertPool = inside[1..].iter().cloned().collect();
        let chains = verify(&inside[0], &intermediates, &roots, &opts(None)).unwrap();
        assert_eq!(names(&chains[0]), ["nc-inside", "nc-ca", "root-ca"]);

        let outside = certs("openssl/nc-outside-chain.pem");
        let intermediates: CertPool = outside[1..].iter().cloned().collect();
        let err = verify(&outside[0], &intermediates, &roots, &opts(None)).unwrap_err();
        assert_eq!(
            err,
            VerifyError::NameConstraint {
                subject: "nc-ca".into(),
                detail: "IP address \"127.0.0.1\" is not permitted by any constraint".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "x509: a root or intermediate certificate is not authorized to sign for this name: \
             IP address \"127.0.0.1\" is not permitted by any constraint (constraint of \"nc-ca\")"
        );
    }

    /// Go's CheckSignatureFrom: a parent must be a CA (basic constraints with cA, or a v1
    /// certificate) and, when it has key usage bits, have keyCertSign.
    #[test]
    fn only_cas_with_cert_sign_may_sign() {
        let none = CertPool::new();
        let refused = |leaf: &Certificate, ca: &Certificate, name: &str| {
            let roots: CertPool = std::iter::once(ca.clone()).collect();
            let err = verify(leaf, &none, &roots, &opts(None)).unwrap_err();
            assert_eq!(
                err,
                VerifyError::UnknownAuthority {
                    hint: Some((name.to_string(), SignatureError::NotACa))
                },
                "{name}"
            );
            assert!(!may_issue(ca), "{name}");
        };
        refused(
            &cert("openssl/under-no-certsign.crt"),
            &cert("openssl/no-certsign-ca.crt"),
            "no-certsign-ca",
        );
        // cA:FALSE, and a v3 certificate without basic constraints: not CAs, whatever they sign.
        for (name, is_ca) in [("ca-false", IsCa::ExplicitNoCa), ("no-bc", IsCa::NoCa)] {
            let mut p = params(name);
            p.is_ca = is_ca;
            p.subject_alt_names = vec![crate::test_support::generate::dns("x.example.com")];
            let signer = Ca::new(p);
            let ca = signer.self_signed();
            assert_eq!(ca.version(), 3);
            refused(&signer.sign(&params("leaf")), &ca, name);
        }
        // A v1 certificate (no extensions at all) may sign, as in Go.
        assert!(may_issue(&cert("openssl/v1-ca.crt")));
        assert!(may_issue(&cert("openssl/root-ca.crt")));
    }

    /// Go's isValid: a certificate is valid from NotBefore to NotAfter, both included; NotBefore
    /// is compared first.
    #[test]
    fn validity_bounds_are_inclusive() {
        let self_signed = |not_before, not_after| {
            let mut p = params("bounds");
            p.not_before = not_before;
            p.not_after = not_after;
            Ca::new(p).self_signed()
        };
        let (start, end) = (
            datetime!(2030-01-01 0:00 UTC),
            datetime!(2031-01-01 0:00 UTC),
        );
        let one_second = time::Duration::seconds(1);
        let leaf = self_signed(start, end);
        let roots: CertPool = std::iter::once(leaf.clone()).collect();
        let none = CertPool::new();
        let at = |at| VerifyOptions::new().at(at);
        for ok in [start, end] {
            assert!(verify(&leaf, &none, &roots, &at(ok)).is_ok(), "{ok}");
        }
        let expired = |leaf: &Certificate, when, not_yet_valid, bound| {
            let roots: CertPool = std::iter::once(leaf.clone()).collect();
            assert_eq!(
                verify(leaf, &none, &roots, &at(when)).unwrap_err(),
                VerifyError::Expired {
                    subject: "bounds".into(),
                    not_yet_valid,
                    bound,
                    at: when,
                }
            );
        };
        expired(&leaf, start - one_second, true, start);
        expired(&leaf, end + one_second, false, end);
        // NotAfter before NotBefore: at NotBefore it is not "before" NotBefore but after NotAfter.
        let inverted = self_signed(end, start);
        expired(&inverted, end, false, start);
    }

    /// Go's alreadyInChain: a candidate with the subject, key and SANs of a certificate already
    /// in the chain is skipped, so mutual cross-signatures do not loop.
    #[test]
    fn cross_signed_cas_do_not_loop() {
        let x = Ca::new(ca_params("X", Bc::Unconstrained));
        let y = Ca::new(ca_params("Y", Bc::Unconstrained));
        let intermediates: CertPool = [x.signed_by(&y), y.signed_by(&x)].into_iter().collect();
        let unrelated = Ca::new(ca_params("R", Bc::Unconstrained));
        let roots: CertPool = std::iter::once(unrelated.self_signed()).collect();
        let leaf = x.sign(&params("leaf"));
        assert_eq!(
            verify(&leaf, &intermediates, &roots, &opts(None)).unwrap_err(),
            VerifyError::UnknownAuthority { hint: None }
        );
    }

    /// A CA that renewed its key under the same name, the new one signed by the old one: the old
    /// root is not "already in the chain" because it shares the new one's name only.
    #[test]
    fn a_rolled_over_ca_chains_to_its_old_self() {
        let old = Ca::new(ca_params("CA", Bc::Unconstrained));
        let new = Ca::new(ca_params("CA", Bc::Unconstrained));
        let roots: CertPool = std::iter::once(old.self_signed()).collect();
        let intermediates: CertPool = std::iter::once(new.signed_by(&old)).collect();
        let leaf = new.sign(&params("leaf"));
        let chains = verify(&leaf, &intermediates, &roots, &opts(None)).unwrap();
        assert_eq!(chains.len(), 1);
        assert_eq!(names(&chains[0]), ["leaf", "CA", "CA"]);
        assert_eq!(chains[0].anchor().der(), roots.certificates()[0].der());
    }

    /// Go's maxChainSignatureChecks: 100 signature checks per verification, then an error.
    #[test]
    fn signature_checks_stop_at_a_hundred() {
        let real = Ca::new(ca_params("CA", Bc::Unconstrained));
        let leaf = real.sign(&params("leaf"));
        let impostors: Vec<Certificate> = (0..100)
            .map(|_| Ca::new(ca_params("CA", Bc::Unconstrained)).self_signed())
            .collect();
        let real = real.self_signed();
        let none = CertPool::new();
        // The leaf names no key ID, so same-named candidates are tried in pool order.
        let behind = |n: usize| -> CertPool {
            impostors[..n]
                .iter()
                .chain(std::iter::once(&real))
                .cloned()
                .collect()
        };
        let roots = behind(99);
        let chains = verify(&leaf, &none, &roots, &opts(None)).expect("the 100th check passes");
        assert_eq!(chains[0].anchor().der(), real.der());
        let roots = behind(100);
        let err = verify(&leaf, &none, &roots, &opts(None)).unwrap_err();
        assert_eq!(err, VerifyError::TooManySignatureChecks);
        assert_eq!(
            err.to_string(),
            "x509: signature check attempts limit reached while verifying certificate chain"
        );
    }

    /// Go names a certificate without a Common Name by its organization in its errors; the
    /// whole subject, which includes it, is shown here.
    #[test]
    fn a_certificate_with_an_empty_common_name_is_named_by_its_subject() {
        let mut p = params("");
        p.distinguished_name
            .push(rcgen::DnType::OrganizationName, "etcd-pki fixtures");
        let c = Ca::new(p).self_signed();
        assert_eq!(c.common_name(), Some(""));
        assert!(
            display_name(&c).contains("etcd-pki fixtures"),
            "{}",
            display_name(&c)
        );
        assert_eq!(display_name(&cert("cfssl/ca.pem")), "etcd-ca");
    }

    #[test]
    fn a_ca_met_again_under_its_name_and_key_with_other_sans_is_not_in_the_chain() {
        // Go's alreadyInChain stops at the first certificate with the candidate's name and
        // key: with a SAN extension where the candidate has none, the answer is "no".
        let ca = Ca::new(ca_params("Peer CA", Bc::Unconstrained));
        let root = ca.self_signed();
        let mut twin_params = ca_params("Peer CA", Bc::Unconstrained);
        twin_params.subject_alt_names =
            vec![crate::test_support::generate::dns("etcd.example.com")];
        let twin = parse(twin_params.self_signed(&ca.key).unwrap().der());
        assert!(already_in_chain(&root, &[&root]));
        assert!(already_in_chain(&twin, &[&twin]));
        assert!(!already_in_chain(&root, &[&twin, &root]));
        assert!(already_in_chain(&root, &[&root, &twin]));
        assert!(!already_in_chain(&twin, &[&root, &twin]));
        // Other SANs: look further.
        let mut other_params = ca_params("Peer CA", Bc::Unconstrained);
        other_params.subject_alt_names = vec![crate::test_support::generate::dns("other.example")];
        let other = parse(other_params.self_signed(&ca.key).unwrap().der());
        assert!(!already_in_chain(&twin, &[&other]));
        assert!(already_in_chain(&twin, &[&other, &twin]));
        // Another key, or another name: not the same certificate.
        let rekeyed = Ca::new(ca_params("Peer CA", Bc::Unconstrained)).self_signed();
        assert!(!already_in_chain(&root, &[&rekeyed]));
        let renamed = parse(
            ca_params("Other CA", Bc::Unconstrained)
                .self_signed(&ca.key)
                .unwrap()
                .der(),
        );
        assert!(!already_in_chain(&root, &[&renamed]));
    }

    #[test]
    fn at_most_one_hundred_signature_checks_as_go() {
        // Candidates named like the leaf's issuer but holding another key each cost a
        // signature check; the 100th check may still find the issuer, the 101st may not.
        let issuer = Ca::new(ca_params("etcd-ca", Bc::Unconstrained));
        let impostor = Ca::new(ca_params("etcd-ca", Bc::Unconstrained));
        let leaf = issuer.sign(&params("etcd-0"));
        let at = datetime!(2030-01-01 0:00 UTC);
        let with_impostors = |n: usize| -> CertPool {
            let mut pool: CertPool = (0..n).map(|_| impostor.self_signed()).collect();
            pool.add(issuer.self_signed());
            pool
        };
        // rcgen gives each certificate a random serial, so each impostor is another certificate.
        assert_eq!(with_impostors(99).len(), 100);
        let none = CertPool::new();
        let opts = VerifyOptions::new().at(at);
        let roots = with_impostors(99);
        assert!(verify(&leaf, &none, &roots, &opts).is_ok());
        let roots = with_impostors(100);
        assert_eq!(
            verify(&leaf, &none, &roots, &opts).unwrap_err(),
            VerifyError::TooManySignatureChecks
        );
    }

    /// `etcd-ca`, self-signed with an Ed25519 key, its public key algorithm then rewritten to
    /// `oid_last` (1.3.101.`oid_last`: 113 Ed448, 110 X25519; the same length), which Go knows
    /// no signature of.
    fn foreign_ca(oid_last: u8) -> Certificate {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let der = ca_params("etcd-ca", Bc::Unconstrained)
            .self_signed(&key)
            .unwrap()
            .der()
            .to_vec();
        let spki_start = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];
        let at = der
            .windows(spki_start.len())
            .position(|w| w == spki_start)
            .unwrap();
        let mut der = der;
        der[at + spki_start.len() - 1] = oid_last;
        parse(&der)
    }

    #[test]
    fn a_ca_with_a_key_go_does_not_know_is_tried_by_go_1_19_only() {
        let issuer = Ca::new(ca_params("etcd-ca", Bc::Unconstrained));
        let leaf = issuer.sign(&params("etcd-0"));
        let none = CertPool::new();
        let hint_of = |roots: &CertPool, rules| match verify(
            &leaf,
            &none,
            roots,
            &opts(None).go_rules(rules),
        ) {
            Err(VerifyError::UnknownAuthority { hint }) => hint.map(|(_, e)| e.to_string()),
            other => panic!("{other:?}"),
        };
        let unimplemented =
            Some("x509: cannot verify signature: algorithm unimplemented".to_string());
        // Ed448: Go 1.19 tries it, Go 1.24 leaves its nil key alone.
        let ed448: CertPool = [foreign_ca(113)].into_iter().collect();
        assert_eq!(hint_of(&ed448, GoRules::Go119), unimplemented);
        assert_eq!(hint_of(&ed448, GoRules::Go124), None);
        // X25519: Go 1.24 parses the key (so tries the CA), and knows no signature by it either.
        let x25519: CertPool = [foreign_ca(110)].into_iter().collect();
        assert_eq!(hint_of(&x25519, GoRules::Go119), unimplemented);
        assert_eq!(hint_of(&x25519, GoRules::Go124), unimplemented);
        // Passed over, they cost Go 1.24 no signature check: 100 of them and the issuer verify.
        let mut roots: CertPool = (0..100).map(|_| foreign_ca(113)).collect();
        roots.add(issuer.self_signed());
        assert!(verify(&leaf, &none, &roots, &opts(None).go_rules(GoRules::Go124)).is_ok());
        assert_eq!(
            verify(&leaf, &none, &roots, &opts(None).go_rules(GoRules::Go119)).unwrap_err(),
            VerifyError::TooManySignatureChecks
        );
    }
}

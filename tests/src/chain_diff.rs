//! One differential run of chain verification against a Go oracle: seeded cases
//! ([`crate::chain_gen`]), each asked of Go once (`verify` with three usage sets, and who signed
//! what) and compared with what etcd-pki decides for the same certificates:
//!
//! - parsing: pki-core reads a certificate iff Go does;
//! - `pki_core::verify` (the chain check of `check`, `reissue`, `issue`, `renew`) under the rules
//!   of the Go's etcd, with no usage (Go's `ExtKeyUsageAny`), serverAuth and clientAuth: the same
//!   verdict, the same set of chains, and when both refuse, pki-core's message starting with Go's
//!   (pki-core adds which certificate, in parentheses);
//! - `pki_core::check` with `--role peer|server|client` and the CA file as the roots: its
//!   "chain" finding passes iff Go's Verify does, and each "usage" finding passes iff Go's Verify
//!   with that usage does;
//! - `pki_core::scan` of the certificates written one per file: the CA it names as each
//!   certificate's issuer is the first that Go's parent order and signature check accept
//!   (`--verify`); without `--verify` it may name the one CA its authority key identifier singles
//!   out without checking the signature, counted as a deliberate difference
//!   (tests/go-oracle/DELIBERATE.md).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use pki_core::{
    check, verify, CertPool, Certificate, CheckId, CheckInput, GoRules, Issuer, Role, ScanOptions,
    Status, Usage, VerifyOptions,
};
use serde_json::{json, Value};

use crate::chain_gen::{verification_time, ChainCase};
use crate::go_oracle::{GoOracle, GoVersion};
use crate::host_diff::rules_for;

/// The usages asked, as Go names them, and as pki-core does (`None`: no EKU check).
const USAGES: [(&str, Option<Usage>); 3] = [
    ("any", None),
    ("serverAuth", Some(Usage::ServerAuth)),
    ("clientAuth", Some(Usage::ClientAuth)),
];

/// One disagreement, with how to make it again.
#[derive(Debug, Clone)]
pub struct ChainFound {
    /// The case index (with the run's seed).
    pub case: u64,
    /// What differs.
    pub what: String,
}

/// What a chain run found.
#[derive(Debug, Default)]
pub struct ChainReport {
    /// Cases made.
    pub cases: usize,
    /// Certificates made, and of them refused by both parsers.
    pub certs: usize,
    /// See [`ChainReport::certs`].
    pub certs_refused: usize,
    /// Verify calls compared, and of them accepted by Go.
    pub verifies: usize,
    /// See [`ChainReport::verifies`].
    pub verifies_ok: usize,
    /// Go's refusals by the start of their message (`x509: certificate signed by unknown
    /// authority`, ...), to show what the run exercised.
    pub refusals: BTreeMap<String, usize>,
    /// `check --role` findings compared.
    pub check_findings: usize,
    /// Scan rows compared (`--verify` and not), and of them with an issuer found by Go.
    pub scan_rows: usize,
    /// See [`ChainReport::scan_rows`].
    pub scan_rows_with_issuer: usize,
    /// Deliberate differences by name, with a count.
    pub deliberate: BTreeMap<&'static str, usize>,
    /// Disagreements.
    pub disagreements: Vec<ChainFound>,
    /// How long it took.
    pub elapsed: Duration,
}

impl ChainReport {
    /// A summary for the test log and RESULTS.md.
    pub fn summary(&self, version: GoVersion, seed: u64) -> String {
        let mut s = format!(
            "{version} (etcd {}), seed {seed}: {} chain cases, {} certificates ({} refused by both parsers); {} Verify calls ({} accepted by Go), {} check findings, {} scan rows ({} with an issuer); {} deliberate, {} disagree; {:.1}s\n",
            version.etcd(),
            self.cases,
            self.certs,
            self.certs_refused,
            self.verifies,
            self.verifies_ok,
            self.check_findings,
            self.scan_rows,
            self.scan_rows_with_issuer,
            self.deliberate.values().sum::<usize>(),
            self.disagreements.len(),
            self.elapsed.as_secs_f64(),
        );
        for (what, n) in &self.refusals {
            s.push_str(&format!("  Go refused: {what}: {n}\n"));
        }
        for (name, n) in &self.deliberate {
            s.push_str(&format!("  deliberate: {name}: {n}\n"));
        }
        for f in self.disagreements.iter().take(30) {
            s.push_str(&format!("  DISAGREE case {}: {}\n", f.case, f.what));
        }
        s
    }
}

/// Runs `cases` cases from `seed` (case `i` is `ChainCase::generate(seed, i)`).
pub fn run_chains(oracle: &mut GoOracle, version: GoVersion, seed: u64, cases: u64) -> ChainReport {
    let started = Instant::now();
    let rules = rules_for(version);
    let mut report = ChainReport::default();
    let dir = tempfile::tempdir().expect("a temporary directory");
    for index in 0..cases {
        let case = ChainCase::generate(seed, index);
        let mut found = Vec::new();
        compare_case(oracle, rules, &case, dir.path(), &mut report, &mut found);
        report.disagreements.extend(
            found
                .into_iter()
                .map(|what| ChainFound { case: index, what }),
        );
    }
    report.elapsed = started.elapsed();
    report
}

/// Compares one case, counting in `report` and adding what differs to `found`; returns Go's
/// answer (`parsed`, `results` for any, serverAuth and clientAuth, `signers`).
pub fn compare_case(
    oracle: &mut GoOracle,
    rules: GoRules,
    case: &ChainCase,
    dir: &Path,
    report: &mut ChainReport,
    found: &mut Vec<String>,
) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let at = verification_time();
    let go = oracle.ask(&json!({
        "op": "verify",
        "certs": case.ders.iter().map(|d| b64.encode(d)).collect::<Vec<_>>(),
        "leaf": case.leaf,
        "intermediates": case.intermediates,
        "roots": case.roots,
        "time": at.unix_timestamp(),
        "usages": USAGES.iter().map(|(name, _)| vec![*name]).collect::<Vec<_>>(),
        "signers": true,
    }));
    assert_eq!(go["ok"], json!(true), "the oracle failed: {go}");
    report.cases += 1;
    // Parsing.
    let certs: Vec<Option<Certificate>> = case
        .ders
        .iter()
        .map(|d| Certificate::from_der(d.clone()).ok())
        .collect();
    for (i, cert) in certs.iter().enumerate() {
        report.certs += 1;
        let go_error = go["parsed"][i].as_str();
        match (cert, go_error) {
            (None, Some(_)) => report.certs_refused += 1,
            (Some(_), None) => {}
            (None, None) => found.push(format!("certificate {i}: Go parses it, pki-core does not")),
            (Some(_), Some(e)) => found.push(format!(
                "certificate {i}: pki-core parses it, Go refuses: {e}"
            )),
        }
    }
    // Verify, with the same pools.
    let index_of = |der: &[u8]| {
        case.ders
            .iter()
            .position(|d| d == der)
            .expect("a case certificate")
    };
    let pool =
        |ids: &[usize]| -> CertPool { ids.iter().filter_map(|&i| certs[i].clone()).collect() };
    let intermediates = pool(&case.intermediates);
    let roots = pool(&case.roots);
    let Some(leaf) = &certs[case.leaf] else {
        return go;
    };
    if go["results"].is_null() {
        return go;
    }
    let mut go_ok = Vec::new();
    for (u, (name, usage)) in USAGES.iter().enumerate() {
        let answer = &go["results"][u];
        report.verifies += 1;
        let mut opts = VerifyOptions::new().at(at).go_rules(rules);
        if let Some(usage) = usage {
            opts = opts.usage(*usage);
        }
        let ours = verify(leaf, &intermediates, &roots, &opts);
        if answer["panic"].is_string() {
            // Go 1.19 panics on a CA whose key it does not know (tests/go-oracle/verify.go);
            // etcd-pki gives a verdict. No verdict of Go's to compare with.
            *report
                .deliberate
                .entry("Go panics in Verify (a CA with a key Go does not know, Go 1.19)")
                .or_default() += 1;
            go_ok.push(None);
            continue;
        }
        let theirs_ok = answer["ok"] == json!(true);
        go_ok.push(Some(theirs_ok));
        match (&ours, theirs_ok) {
            (Ok(chains), true) => {
                report.verifies_ok += 1;
                let mut ours: Vec<Vec<usize>> = chains
                    .iter()
                    .map(|c| c.certs.iter().map(|cert| index_of(cert.der())).collect())
                    .collect();
                let mut theirs: Vec<Vec<usize>> =
                    serde_json::from_value(answer["chains"].clone()).expect("chains");
                ours.sort();
                ours.dedup();
                theirs.sort();
                theirs.dedup();
                if ours != theirs {
                    found.push(format!(
                        "verify {name}: chains differ: pki-core {ours:?}, Go {theirs:?}"
                    ));
                }
            }
            (Err(e), false) => {
                let go_error = answer["error"]
                    .as_str()
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| panic!("Go refused without a message: {answer}"));
                // "x509: certificate signed by unknown authority", without the detail.
                let head = go_error.split(" (").next().unwrap_or_default();
                let kind = head.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
                *report.refusals.entry(kind).or_default() += 1;
                let ours = e.to_string();
                if !ours.starts_with(go_error) {
                    found.push(format!(
                        "verify {name}: both refuse, with other reasons: pki-core {ours:?}, Go {go_error:?}"
                    ));
                }
            }
            (Ok(chains), false) => found.push(format!(
                "verify {name}: pki-core accepts ({} chains), Go refuses: {}",
                chains.len(),
                answer["error"]
            )),
            (Err(e), true) => found.push(format!(
                "verify {name}: Go accepts {}, pki-core refuses: {e}",
                answer["chains"]
            )),
        }
    }
    compare_check(case, &certs, &roots, rules, &go_ok, report, found);
    compare_scan(case, &certs, &go, dir, report, found);
    go
}

/// `check --role` over the leaf and its bundle, against Go's verdicts (any, serverAuth,
/// clientAuth, in `go_ok`).
fn compare_check(
    case: &ChainCase,
    certs: &[Option<Certificate>],
    roots: &CertPool,
    rules: GoRules,
    go_ok: &[Option<bool>],
    report: &mut ChainReport,
    found: &mut Vec<String>,
) {
    let chain: Vec<Certificate> = std::iter::once(case.leaf)
        .chain(case.intermediates.iter().copied())
        .filter_map(|i| certs[i].clone())
        .collect();
    for role in [Role::Peer, Role::Server, Role::Client] {
        let input = CheckInput::new("leaf", &chain)
            .roots(roots)
            .role(role)
            .at(verification_time())
            .go_rules(rules);
        let result = check(&input);
        for finding in &result.findings {
            let expected = match finding.check {
                CheckId::Chain => go_ok[0],
                // Usages are judged over verified chains only; without one Go has no verdict.
                CheckId::Usage if go_ok[0] == Some(true) => match finding.target.as_deref() {
                    Some("serverAuth") => go_ok[1],
                    Some("clientAuth") => go_ok[2],
                    other => panic!("a usage finding about {other:?}"),
                },
                _ => continue,
            };
            // Go panicked: no verdict of Go's.
            let Some(expected) = expected else { continue };
            report.check_findings += 1;
            if (finding.status == Status::Pass) != expected {
                found.push(format!(
                    "check --role {role}: {} {:?} is {:?}, Go says {}: {}",
                    finding.check,
                    finding.target,
                    finding.status,
                    if expected { "ok" } else { "refused" },
                    finding.message
                ));
            }
        }
    }
}

/// `scan` of the case's certificates, one per file, against Go's signers.
fn compare_scan(
    case: &ChainCase,
    certs: &[Option<Certificate>],
    go: &Value,
    dir: &Path,
    report: &mut ChainReport,
    found: &mut Vec<String>,
) {
    for entry in std::fs::read_dir(dir).expect("the scan directory") {
        std::fs::remove_file(entry.expect("an entry").path()).expect("remove");
    }
    for (i, cert) in certs.iter().enumerate() {
        if cert.is_some() {
            std::fs::write(
                dir.join(format!("c{i:02}.pem")),
                pki_core::pem_encode("CERTIFICATE", &case.ders[i]),
            )
            .expect("write a certificate");
        }
    }
    let index_of_path = |p: &Path| -> usize {
        let name = p.file_name().and_then(|n| n.to_str()).expect("a file name");
        name[1..3].parse().expect("cNN.pem")
    };
    for verify_signatures in [true, false] {
        let opts = ScanOptions::new()
            .at(verification_time())
            .verify_signatures(verify_signatures);
        let scanned = pki_core::scan([dir], &opts).expect("the scan runs");
        for row in &scanned.certificates {
            let i = index_of_path(&row.path);
            let go_first = go["signers"][i]
                .as_array()
                .expect("signers")
                .iter()
                .map(|v| v.as_u64().expect("an index") as usize)
                .find(|&j| j != i);
            let (ours, checked) = match &row.issuer {
                Issuer::SelfSigned => {
                    // Self-issued, and its own key verifies its signature, by Go's checks.
                    report.scan_rows += 1;
                    if go["self_signed"][i] != json!(true) {
                        found.push(format!(
                            "scan: certificate {i} is self-signed to pki-core, not to Go"
                        ));
                    }
                    continue;
                }
                Issuer::Found {
                    path,
                    signature_checked,
                    ..
                } => (Some(index_of_path(path)), *signature_checked),
                Issuer::NotFound => (None, true),
                _ => panic!("an issuer kind the test does not know: {:?}", row.issuer),
            };
            report.scan_rows += 1;
            if go["self_signed"][i] == json!(true) {
                found.push(format!(
                    "scan: certificate {i} is self-signed to Go, not to pki-core"
                ));
            }
            if go_first.is_some() {
                report.scan_rows_with_issuer += 1;
            }
            if verify_signatures && !checked {
                found.push(format!(
                    "scan --verify: issuer of certificate {i} named without checking its signature"
                ));
            }
            if ours == go_first {
                continue;
            }
            // Named by key identifier, unchecked, and says so (`signature_checked: false`).
            if !checked {
                *report
                    .deliberate
                    .entry("scan without --verify names the CA its key identifier singles out")
                    .or_default() += 1;
                continue;
            }
            found.push(format!(
                "scan{}: issuer of certificate {i}: pki-core {ours:?}, Go {go_first:?}",
                if verify_signatures { " --verify" } else { "" }
            ));
        }
    }
}

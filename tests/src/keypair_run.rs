//! One differential run of key-pair acceptance against a Go oracle: seeded certificate-file /
//! key-file pairs ([`crate::keypair_gen`]), each asked of Go's `tls.X509KeyPair` and of
//! etcd-pki ([`crate::keypair_diff`]). The report counts agreements by Go's verdict, deliberate
//! differences by name, and disagreements with the seed and case index that make them again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;

use crate::go_oracle::{GoOracle, GoVersion};
use crate::keypair_diff::{compare, confirm_reordered, go_verdict, pki_verdict, Outcome, Verdict};
use crate::keypair_gen::PairCase;
use crate::prng::Rng;

/// One disagreement, with how to make it again.
#[derive(Debug, Clone)]
pub struct Found {
    /// The case index (with the run's seed).
    pub case: u64,
    /// What the case holds.
    pub notes: String,
    /// What differs.
    pub what: String,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Pairs compared.
    pub pairs: usize,
    /// Of which Go accepted.
    pub go_accepts: usize,
    /// Go's refusals by class.
    pub go_refusals: BTreeMap<String, usize>,
    /// Pairs with the same verdict.
    pub agree: usize,
    /// Of those, refusals whose first reasons differ, etcd-pki's confirmed by Go.
    pub reordered: usize,
    /// Deliberate differences by name: how many, one example case.
    pub deliberate: BTreeMap<&'static str, (usize, u64)>,
    /// Disagreements.
    pub disagreements: Vec<Found>,
    /// How long it took.
    pub elapsed: Duration,
}

impl Report {
    /// A summary for the test log and RESULTS.md.
    pub fn summary(&self, version: GoVersion, seed: u64) -> String {
        let mut s = format!(
            "{version} (etcd {}), seed {seed}: {} key pairs, {} accepted by Go, refused by Go: {:?}; {} agree ({} with reasons in another order, confirmed by Go), {} deliberate, {} disagree; {:.1}s\n",
            version.etcd(),
            self.pairs,
            self.go_accepts,
            self.go_refusals,
            self.agree,
            self.reordered,
            self.deliberate.values().map(|(n, _)| n).sum::<usize>(),
            self.disagreements.len(),
            self.elapsed.as_secs_f64(),
        );
        for (name, (n, case)) in &self.deliberate {
            s.push_str(&format!("  deliberate: {name}: {n} (e.g. case {case})\n"));
        }
        for f in self.disagreements.iter().take(30) {
            s.push_str(&format!(
                "  DISAGREE case {} {}: {}\n",
                f.case, f.notes, f.what
            ));
        }
        s
    }
}

/// Go's verdict on a pair of files.
pub fn ask_go(oracle: &mut GoOracle, cert_file: &[u8], key_file: &[u8]) -> Verdict {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    go_verdict(&oracle.ask(&json!({
        "op": "x509_key_pair",
        "cert_pem_b64": b64(cert_file),
        "key_pem_b64": b64(key_file),
    })))
}

/// The outcome for one case.
pub fn check_case(oracle: &mut GoOracle, case: &PairCase) -> (Verdict, Outcome) {
    let go = ask_go(oracle, &case.cert_file, &case.key_file);
    let pki = pki_verdict(&case.cert_file, &case.key_file);
    let outcome = match compare(&go, &pki) {
        Outcome::Reordered { pki, go: g } => {
            // Go stopped at a problem etcd-pki did not name first: ask Go again with the other
            // file than the one etcd-pki's reason is about made clean.
            use crate::keypair_diff::Class::{CertParse, NoCertPem};
            let again = if matches!(pki.class, NoCertPem | CertParse) {
                ask_go(oracle, &case.cert_file, &case.clean_key)
            } else {
                ask_go(oracle, &case.clean_cert, &case.key_file)
            };
            match confirm_reordered(&pki, &again) {
                Outcome::Agree => Outcome::Reordered { pki, go: g },
                other => other,
            }
        }
        other => other,
    };
    (go, outcome)
}

/// Runs `pairs` cases from `seed` against `oracle`.
pub fn run(oracle: &mut GoOracle, version: GoVersion, seed: u64, pairs: usize) -> Report {
    let _ = version;
    let start = Instant::now();
    let mut report = Report::default();
    for case in 0..pairs as u64 {
        let pair = PairCase::random(&mut Rng::for_case(seed, case));
        let (go, outcome) = check_case(oracle, &pair);
        report.pairs += 1;
        match &go {
            Verdict::Accepts(_) => report.go_accepts += 1,
            Verdict::Refuses(r) => {
                *report
                    .go_refusals
                    .entry(format!("{:?}", r[0].class))
                    .or_default() += 1
            }
        }
        match outcome {
            Outcome::Agree => report.agree += 1,
            Outcome::Reordered { .. } => {
                report.agree += 1;
                report.reordered += 1;
            }
            Outcome::Deliberate(name) => report.deliberate.entry(name).or_insert((0, case)).0 += 1,
            Outcome::Disagree(what) => report.disagreements.push(Found {
                case,
                notes: format!("{pair:?}"),
                what,
            }),
        }
    }
    report.elapsed = start.elapsed();
    report
}

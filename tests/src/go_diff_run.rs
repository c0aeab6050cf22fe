//! One differential run against a Go oracle: seeded certificates ([`crate::host_gen`]), each
//! with host inputs (compared by [`crate::host_diff`]) and connections for etcd's listener-side
//! SAN check (compared with `pki_core::check_cert_san`), in one request per certificate and
//! question. The report counts agreements, deliberate differences and disagreements, with what
//! is needed to make each disagreement again (seed and case index).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine;
use pki_core::{certificates_from_bytes, check_cert_san, PeerResolver};
use serde_json::{json, Value};

use crate::go_oracle::{GoOracle, GoVersion};
use crate::host_diff::{as_url, compare, go_verdict, pki_verdict, rules_for, GoVerdict, Outcome};
use crate::host_gen::dns_tables::{connection, go_spelling, Connection};
use crate::host_gen::{hosts, CertSpec};
use crate::prng::Rng;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    /// The seed; case `i` is made from `Rng::for_case(seed, i)`.
    pub seed: u64,
    /// Host pairs (certificate, host input) to compare, at least.
    pub pairs: usize,
    /// Host inputs per certificate.
    pub hosts_per_cert: usize,
    /// Listener-side connections per certificate.
    pub connections_per_cert: usize,
}

impl RunConfig {
    /// `pairs` pairs from `seed`, 10 hosts and 2 connections per certificate.
    pub fn new(seed: u64, pairs: usize) -> RunConfig {
        RunConfig {
            seed,
            pairs,
            hosts_per_cert: 10,
            connections_per_cert: 2,
        }
    }
}

/// One difference found, with how to make it again.
#[derive(Debug, Clone)]
pub struct Found {
    /// The case index (with the run's seed).
    pub case: u64,
    /// The certificate.
    pub spec: CertSpec,
    /// The host input, or the connection.
    pub input: String,
    /// What differs.
    pub what: String,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Certificates made.
    pub certs: usize,
    /// Of which Go and etcd-pki both refused to parse.
    pub certs_refused: usize,
    /// Host pairs compared.
    pub pairs: usize,
    /// Pairs that Go found covered.
    pub go_covered: usize,
    /// Pairs with the same verdict.
    pub agree: usize,
    /// Deliberate differences by name: how many, how many of them Go found covered, and one
    /// example input.
    pub deliberate: BTreeMap<&'static str, (usize, usize, String)>,
    /// Host disagreements.
    pub disagreements: Vec<Found>,
    /// Listener-side connections compared.
    pub connections: usize,
    /// Of which etcd accepted.
    pub connections_accepted: usize,
    /// Listener-side disagreements.
    pub listener_disagreements: Vec<Found>,
    /// How long it took.
    pub elapsed: Duration,
}

impl Report {
    /// Every disagreement, host and listener-side.
    pub fn all_disagreements(&self) -> impl Iterator<Item = &Found> {
        self.disagreements
            .iter()
            .chain(&self.listener_disagreements)
    }

    /// A summary for the test log and RESULTS.md.
    pub fn summary(&self, version: GoVersion, seed: u64) -> String {
        let mut s = format!(
            "{version} (etcd {}), seed {seed}: {} host pairs on {} certificates ({} refused by both parsers), {} covered by Go; {} agree, {} deliberate, {} disagree; {} listener connections ({} accepted), {} disagree; {:.1}s\n",
            version.etcd(),
            self.pairs,
            self.certs,
            self.certs_refused,
            self.go_covered,
            self.agree,
            self.deliberate.values().map(|(n, _, _)| n).sum::<usize>(),
            self.disagreements.len(),
            self.connections,
            self.connections_accepted,
            self.listener_disagreements.len(),
            self.elapsed.as_secs_f64(),
        );
        for (name, (n, covered, example)) in &self.deliberate {
            s.push_str(&format!(
                "  deliberate: {name}: {n}, {covered} of them covered by Go (e.g. {example:?})\n"
            ));
        }
        for f in self.all_disagreements().take(30) {
            s.push_str(&format!(
                "  DISAGREE case {} {:?} input {:?}: {}\n",
                f.case, f.spec, f.input, f.what
            ));
        }
        s
    }
}

/// A resolver answering from a connection's tables, with Go's "no such host" otherwise.
struct Tables<'a>(&'a Connection);

impl PeerResolver for Tables<'_> {
    fn lookup_addr(&self, addr: &str) -> Result<Vec<String>, String> {
        self.0
            .ptr
            .get(addr)
            .cloned()
            .ok_or_else(|| format!("lookup {addr}: no such host"))
    }
    fn lookup_host(&self, name: &str) -> Result<Vec<String>, String> {
        self.0
            .forward
            .get(name)
            .cloned()
            .ok_or_else(|| format!("lookup {name}: no such host"))
    }
}

/// Runs `config` against `oracle` (of `version`).
pub fn run(oracle: &mut GoOracle, version: GoVersion, config: &RunConfig) -> Report {
    let start = Instant::now();
    let mut report = Report::default();
    let mut case = 0u64;
    while report.pairs < config.pairs {
        let mut rng = Rng::for_case(config.seed, case);
        let spec = CertSpec::random(&mut rng);
        let inputs = hosts::for_cert(&mut rng, &spec, config.hosts_per_cert);
        let connections: Vec<Connection> = (0..config.connections_per_cert)
            .map(|_| connection(&mut rng, &spec))
            .collect();
        check_case(
            oracle,
            version,
            case,
            &spec,
            &inputs,
            &connections,
            &mut report,
        );
        case += 1;
    }
    report.elapsed = start.elapsed();
    report
}

/// Compares one certificate's hosts and connections, adding to `report`.
pub fn check_case(
    oracle: &mut GoOracle,
    version: GoVersion,
    case: u64,
    spec: &CertSpec,
    inputs: &[String],
    connections: &[Connection],
    report: &mut Report,
) {
    let der = spec.der();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let found = |input: &str, what: String| Found {
        case,
        spec: spec.clone(),
        input: input.to_string(),
        what,
    };
    let (urls, bare): (Vec<&String>, Vec<&String>) =
        inputs.iter().partition(|h| as_url(h).is_some());
    let answer = oracle.ask(&json!({
        "op": "verify_hostname",
        "der": b64,
        "hosts": bare,
        "urls": urls.iter().map(|u| as_url(u).unwrap()).collect::<Vec<_>>(),
    }));
    report.certs += 1;
    report.pairs += inputs.len();
    let pki_parses = certificates_from_bytes(&der);
    if answer["ok"] != Value::Bool(true) {
        match pki_parses {
            Err(_) => report.certs_refused += 1,
            Ok(_) => report.disagreements.push(found(
                "",
                format!(
                    "Go refuses the certificate ({}), etcd-pki reads it",
                    answer["error"]
                ),
            )),
        }
        return;
    }
    if let Err(e) = &pki_parses {
        report.disagreements.push(found(
            "",
            format!("etcd-pki refuses the certificate ({e}), Go reads it"),
        ));
        return;
    }
    let rules = rules_for(version);
    let answers = bare
        .iter()
        .zip(answer["hosts"].as_array().expect("hosts"))
        .chain(urls.iter().zip(answer["urls"].as_array().expect("urls")));
    for (input, a) in answers {
        let go = go_verdict(a, input);
        if go == GoVerdict::Covered {
            report.go_covered += 1;
        }
        let pki = pki_verdict(&der, input, rules).expect("parsed above");
        match compare(&go, &pki, input) {
            Outcome::Agree => report.agree += 1,
            Outcome::Deliberate(name) => {
                let entry = report
                    .deliberate
                    .entry(name)
                    .or_insert_with(|| (0, 0, input.to_string()));
                entry.0 += 1;
                if go == GoVerdict::Covered {
                    entry.1 += 1;
                }
            }
            Outcome::Disagree(what) => report.disagreements.push(found(input, what)),
        }
    }
    check_connections(oracle, &b64, &der, connections, report, &found);
}

fn check_connections(
    oracle: &mut GoOracle,
    b64: &str,
    der: &[u8],
    connections: &[Connection],
    report: &mut Report,
    found: &dyn Fn(&str, String) -> Found,
) {
    if connections.is_empty() {
        return;
    }
    let cases: Vec<Value> = connections
        .iter()
        .map(|c| json!({"remote_ip": c.remote.to_string(), "ptr": c.ptr, "forward": c.forward}))
        .collect();
    let answer = oracle.ask(&json!({"op": "check_cert_san", "der": b64, "cases": cases}));
    let cert = certificates_from_bytes(der).expect("parsed").remove(0);
    for (c, a) in connections
        .iter()
        .zip(answer["cases"].as_array().expect("cases"))
    {
        report.connections += 1;
        let go = if a["ok"] == Value::Bool(true) {
            Ok(())
        } else {
            Err(a["error"].as_str().unwrap_or("?").to_string())
        };
        if go.is_ok() {
            report.connections_accepted += 1;
        }
        let pki = check_cert_san(&cert, c.remote, &Tables(c));
        let same = match (&go, &pki) {
            (Ok(()), Ok(())) => true,
            // An explicit argument index in a lookup error is not emulated (go_fmt).
            (Err(g), Err(p)) => g == p || g.contains("%!") && p.contains("%["),
            _ => false,
        };
        if !same {
            let input = format!(
                "from {} ({}), ptr {:?}, forward {:?}",
                go_spelling(c.remote),
                a["remote_addr"],
                c.ptr,
                c.forward
            );
            report
                .listener_disagreements
                .push(found(&input, format!("Go: {go:?}; etcd-pki: {pki:?}")));
        }
    }
}

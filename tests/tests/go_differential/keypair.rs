//! A fixed-seed run of key-pair acceptance per Go version: 5,000 certificate-file / key-file
//! pairs asked of Go's `tls.X509KeyPair` and of `etcd-pki check --cert --key`'s functions.

use etcd_pki_tests::go_oracle::{oracle_for, GoVersion};
use etcd_pki_tests::keypair_run::run;

/// The seed of the suite's run; `make fuzz-go` runs others.
const SEED: u64 = 20261201;
const PAIRS: usize = 5_000;

fn fixed_seed(version: GoVersion) {
    let report = run(&mut oracle_for(version), version, SEED, PAIRS);
    let summary = report.summary(version, SEED);
    eprintln!("{summary}");
    assert_eq!(report.pairs, PAIRS);
    // Both verdicts must be common, and every kind of refusal must occur.
    assert!(report.go_accepts * 3 > PAIRS, "{summary}");
    assert!(report.go_refusals.len() >= 5, "{summary}");
    assert!(
        report.disagreements.is_empty(),
        "etcd-pki and Go disagree on key pairs:\n{summary}"
    );
}

#[test]
fn key_pairs_go_1_19_and_etcd_3_4() {
    fixed_seed(GoVersion::Go119);
}

#[test]
fn key_pairs_go_1_24_and_etcd_3_5() {
    fixed_seed(GoVersion::Go124);
}

//! A fixed-seed run of chain verification per Go version: 2,000 generated cases (each three
//! Verify calls, `check --role` for three roles, and two scans), compared with one oracle
//! process.

use etcd_pki_tests::chain_diff::run_chains;
use etcd_pki_tests::go_oracle::{oracle_for, GoVersion};

/// The seed of the suite's run; `make fuzz-go` runs others.
const SEED: u64 = 20261130;
const CASES: u64 = 2_000;

fn fixed_seed(version: GoVersion) {
    let report = run_chains(&mut oracle_for(version), version, SEED, CASES);
    let summary = report.summary(version, SEED);
    eprintln!("{summary}");
    assert_eq!(report.cases, CASES as usize);
    // The run must exercise both verdicts, each in quantity.
    assert!(
        report.verifies_ok * 5 > report.verifies && report.verifies_ok * 5 < report.verifies * 4,
        "accepted and refused chains must both be common: {summary}"
    );
    assert!(
        report.scan_rows_with_issuer * 4 > report.scan_rows,
        "issuers must be common: {summary}"
    );
    assert!(
        report.disagreements.is_empty(),
        "etcd-pki and Go disagree:\n{summary}"
    );
}

#[test]
fn chains_go_1_19_and_etcd_3_4() {
    fixed_seed(GoVersion::Go119);
}

#[test]
fn chains_go_1_24_and_etcd_3_5() {
    fixed_seed(GoVersion::Go124);
}

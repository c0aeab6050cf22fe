//! A fixed-seed run per Go version: 20,000 host pairs (and 4,000 listener-side connections)
//! compared with one oracle process, in well under a minute.

use etcd_pki_tests::go_diff_run::{run, RunConfig};
use etcd_pki_tests::go_oracle::{oracle_for, GoVersion};

/// The seed of the suite's run; `make fuzz-go` runs others.
const SEED: u64 = 20261130;
const PAIRS: usize = 20_000;

fn fixed_seed(version: GoVersion) {
    let report = run(
        &mut oracle_for(version),
        version,
        &RunConfig::new(SEED, PAIRS),
    );
    let summary = report.summary(version, SEED);
    eprintln!("{summary}");
    assert!(report.pairs >= PAIRS);
    assert!(
        report.go_covered * 20 > report.pairs,
        "matches must be common, not rare: {summary}"
    );
    assert!(
        report.all_disagreements().next().is_none(),
        "etcd-pki and Go disagree:\n{summary}"
    );
}

#[test]
fn go_1_19_and_etcd_3_4() {
    fixed_seed(GoVersion::Go119);
}

#[test]
fn go_1_24_and_etcd_3_5() {
    fixed_seed(GoVersion::Go124);
}

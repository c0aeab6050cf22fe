//! Long runs for `make fuzz-go` (settings from the environment: `etcd_pki_tests::long_run`):
//! host pairs (`GO_FUZZ_PAIRS` per Go version, default 1,000,000), certificate/key file pairs
//! (`GO_FUZZ_KEYPAIRS`, default 100,000) and chain cases (`GO_FUZZ_CHAINS`, default 100,000).
//! Every disagreement is printed and written to `target/go-fuzz/SEED-ETCD[-KIND].txt`; each
//! test fails if there is any.

use etcd_pki_tests::chain_diff::run_chains;
use etcd_pki_tests::go_diff_run::{run, RunConfig};
use etcd_pki_tests::go_oracle::oracle_for;
use etcd_pki_tests::keypair_run;
use etcd_pki_tests::long_run::LongRun;

#[test]
#[ignore = "long: make fuzz-go"]
fn long_run() {
    let settings = LongRun::from_env();
    let pairs = LongRun::count("GO_FUZZ_PAIRS", 1_000_000) as usize;
    let mut failed = false;
    for &version in &settings.versions {
        let config = RunConfig::new(settings.seed, pairs);
        let report = run(&mut oracle_for(version), version, &config);
        let lines = report.all_disagreements().map(|f| {
            format!(
                "case {} {:?} input {:?}: {}",
                f.case, f.spec, f.input, f.what
            )
        });
        failed |= settings.report(version, "", &report.summary(version, settings.seed), lines);
    }
    assert!(!failed, "disagreements found (see above)");
}

#[test]
#[ignore = "long: make fuzz-go"]
fn long_run_key_pairs() {
    let settings = LongRun::from_env();
    let pairs = LongRun::count("GO_FUZZ_KEYPAIRS", 100_000) as usize;
    let mut failed = false;
    for &version in &settings.versions {
        let report = keypair_run::run(&mut oracle_for(version), version, settings.seed, pairs);
        let lines = report
            .disagreements
            .iter()
            .map(|f| format!("case {} {}: {}", f.case, f.notes, f.what));
        let summary = report.summary(version, settings.seed);
        failed |= settings.report(version, "-keypairs", &summary, lines);
    }
    assert!(!failed, "key-pair disagreements found (see above)");
}

#[test]
#[ignore = "long: make fuzz-go"]
fn long_run_chains() {
    let settings = LongRun::from_env();
    let cases = LongRun::count("GO_FUZZ_CHAINS", 100_000);
    let mut failed = false;
    for &version in &settings.versions {
        let report = run_chains(&mut oracle_for(version), version, settings.seed, cases);
        let lines = report
            .disagreements
            .iter()
            .map(|f| format!("case {}: {}", f.case, f.what));
        let summary = report.summary(version, settings.seed);
        failed |= settings.report(version, "-chains", &summary, lines);
    }
    assert!(!failed, "chain disagreements found (see above)");
}

//! Long runs of chain verification for `make fuzz-go`: `GO_FUZZ_SEED` (default: from the clock),
//! `GO_FUZZ_CHAINS` cases per Go version (default 100,000), `GO_FUZZ_GO` (`1.19`, `1.24`, or
//! both by default). Every disagreement is printed and written to
//! `target/go-fuzz/SEED-ETCD-chains.txt`; the test fails if there is any.

use std::time::{SystemTime, UNIX_EPOCH};

use etcd_pki_tests::chain_diff::run_chains;
use etcd_pki_tests::go_oracle::{oracle_for, GoVersion};
use etcd_pki_tests::repo_root;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).map(|v| {
        v.parse()
            .unwrap_or_else(|e| panic!("{name}={v:?} is not a number: {e}"))
    })
}

#[test]
#[ignore = "long: make fuzz-go"]
fn long_run_chains() {
    let seed = env_u64("GO_FUZZ_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos() as u64
    });
    let cases = env_u64("GO_FUZZ_CHAINS").unwrap_or(100_000);
    let versions: Vec<GoVersion> = match std::env::var("GO_FUZZ_GO").as_deref() {
        Ok("1.19") => vec![GoVersion::Go119],
        Ok("1.24") => vec![GoVersion::Go124],
        _ => GoVersion::ALL.to_vec(),
    };
    let dir = repo_root().join("target/go-fuzz");
    std::fs::create_dir_all(&dir).expect("target/go-fuzz");
    let mut failed = false;
    for version in versions {
        let report = run_chains(&mut oracle_for(version), version, seed, cases);
        let summary = report.summary(version, seed);
        println!("{summary}");
        let mut all = summary.clone();
        for f in &report.disagreements {
            all.push_str(&format!("case {}: {}\n", f.case, f.what));
        }
        let file = dir.join(format!("{seed}-{}-chains.txt", version.etcd()));
        std::fs::write(&file, all).expect("write the report");
        println!("report: {}", file.display());
        failed |= !report.disagreements.is_empty();
    }
    assert!(!failed, "disagreements found (see above)");
}

//! Long runs for `make fuzz-go`: `GO_FUZZ_SEED` (default: from the clock), `GO_FUZZ_PAIRS`
//! host pairs per Go version (default 1,000,000), `GO_FUZZ_GO` (`1.19`, `1.24`, or both by
//! default); `GO_FUZZ_KEYPAIRS` certificate/key file pairs per Go version (default 100,000). Every
//! disagreement is printed and written to `target/go-fuzz/SEED-GO.txt` (`-keypairs.txt`); the
//! test fails if there is any.

use std::time::{SystemTime, UNIX_EPOCH};

use etcd_pki_tests::go_diff_run::{run, RunConfig};
use etcd_pki_tests::go_oracle::{oracle_for, GoVersion};
use etcd_pki_tests::keypair_run;
use etcd_pki_tests::repo_root;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).map(|v| {
        v.parse()
            .unwrap_or_else(|e| panic!("{name}={v:?} is not a number: {e}"))
    })
}

#[test]
#[ignore = "long: make fuzz-go"]
fn long_run() {
    let seed = env_u64("GO_FUZZ_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos() as u64
    });
    let pairs = env_u64("GO_FUZZ_PAIRS").unwrap_or(1_000_000) as usize;
    let versions: Vec<GoVersion> = match std::env::var("GO_FUZZ_GO").as_deref() {
        Ok("1.19") => vec![GoVersion::Go119],
        Ok("1.24") => vec![GoVersion::Go124],
        _ => GoVersion::ALL.to_vec(),
    };
    let dir = repo_root().join("target/go-fuzz");
    std::fs::create_dir_all(&dir).expect("target/go-fuzz");
    let mut failed = false;
    for version in versions {
        let report = run(
            &mut oracle_for(version),
            version,
            &RunConfig::new(seed, pairs),
        );
        let summary = report.summary(version, seed);
        println!("{summary}");
        let mut all = summary.clone();
        for f in report.all_disagreements() {
            all.push_str(&format!(
                "case {} {:?} input {:?}: {}\n",
                f.case, f.spec, f.input, f.what
            ));
        }
        let file = dir.join(format!("{seed}-{}.txt", version.etcd()));
        std::fs::write(&file, all).expect("write the report");
        println!("report: {}", file.display());
        failed |= report.all_disagreements().next().is_some();
    }
    assert!(!failed, "disagreements found (see above)");
}

/// Key pairs for `make fuzz-go`: `GO_FUZZ_KEYPAIRS` pairs per Go version (default 100,000),
/// from `GO_FUZZ_SEED`, Go versions from `GO_FUZZ_GO`; disagreements are written to
/// `target/go-fuzz/SEED-GO-keypairs.txt`.
#[test]
#[ignore = "long: make fuzz-go"]
fn long_run_key_pairs() {
    let seed = env_u64("GO_FUZZ_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos() as u64
    });
    let pairs = env_u64("GO_FUZZ_KEYPAIRS").unwrap_or(100_000) as usize;
    let versions: Vec<GoVersion> = match std::env::var("GO_FUZZ_GO").as_deref() {
        Ok("1.19") => vec![GoVersion::Go119],
        Ok("1.24") => vec![GoVersion::Go124],
        _ => GoVersion::ALL.to_vec(),
    };
    let dir = repo_root().join("target/go-fuzz");
    std::fs::create_dir_all(&dir).expect("target/go-fuzz");
    let mut failed = false;
    for version in versions {
        let report = keypair_run::run(&mut oracle_for(version), version, seed, pairs);
        let summary = report.summary(version, seed);
        println!("{summary}");
        let mut all = summary.clone();
        for f in &report.disagreements {
            all.push_str(&format!("case {} {}: {}\n", f.case, f.notes, f.what));
        }
        let file = dir.join(format!("{seed}-{}-keypairs.txt", version.etcd()));
        std::fs::write(&file, all).expect("write the report");
        println!("report: {}", file.display());
        failed |= !report.disagreements.is_empty();
    }
    assert!(!failed, "key-pair disagreements found (see above)");
}

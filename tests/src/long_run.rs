//! What the long differential runs of `make fuzz-go` share: the seed and Go versions from the
//! environment (`GO_FUZZ_SEED`, default from the clock; `GO_FUZZ_GO`: `1.19`, `1.24`, or both),
//! counts (`GO_FUZZ_PAIRS`, `GO_FUZZ_KEYPAIRS`, `GO_FUZZ_CHAINS`), and the report of each run,
//! printed and written to `target/go-fuzz/SEED-ETCD[-KIND].txt`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::go_oracle::GoVersion;
use crate::repo_root;

/// A long run's settings.
#[derive(Debug, Clone)]
pub struct LongRun {
    /// The seed.
    pub seed: u64,
    /// The Go versions to run under.
    pub versions: Vec<GoVersion>,
    dir: PathBuf,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).map(|v| {
        v.parse()
            .unwrap_or_else(|e| panic!("{name}={v:?} is not a number: {e}"))
    })
}

impl LongRun {
    /// The settings from the environment; creates `target/go-fuzz`.
    pub fn from_env() -> LongRun {
        let seed = env_u64("GO_FUZZ_SEED").unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_nanos() as u64
        });
        let versions = match std::env::var("GO_FUZZ_GO").as_deref() {
            Ok("1.19") => vec![GoVersion::Go119],
            Ok("1.24") => vec![GoVersion::Go124],
            Ok("") | Err(_) => GoVersion::ALL.to_vec(),
            Ok(other) => panic!("GO_FUZZ_GO={other:?}: give 1.19, 1.24, or nothing for both"),
        };
        let dir = repo_root().join("target/go-fuzz");
        std::fs::create_dir_all(&dir).expect("target/go-fuzz");
        LongRun {
            seed,
            versions,
            dir,
        }
    }

    /// The count in environment variable `name`, or `default`.
    pub fn count(name: &str, default: u64) -> u64 {
        env_u64(name).unwrap_or(default)
    }

    /// Prints `summary` and writes it with `disagreements` (a line each) to
    /// `target/go-fuzz/SEED-ETCD{suffix}.txt`; returns whether there was any disagreement.
    pub fn report(
        &self,
        version: GoVersion,
        suffix: &str,
        summary: &str,
        disagreements: impl IntoIterator<Item = String>,
    ) -> bool {
        println!("{summary}");
        let mut all = summary.to_string();
        let mut any = false;
        for line in disagreements {
            any = true;
            all.push_str(&line);
            all.push('\n');
        }
        let file = self
            .dir
            .join(format!("{}-{}{suffix}.txt", self.seed, version.etcd()));
        std::fs::write(&file, all).expect("write the report");
        println!("report: {}", file.display());
        any
    }
}

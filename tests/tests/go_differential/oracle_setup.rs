//! The oracles are the Gos they claim to be, with their etcd's GODEBUG.

use etcd_pki_tests::go_oracle::{oracle_for, GoVersion, ETCD_3_5_16_DEFAULT_GODEBUG};
use etcd_pki_tests::repo_root;
use serde_json::json;

#[test]
fn each_oracle_runs_its_go_with_its_etcds_godebug() {
    for version in GoVersion::ALL {
        let v = oracle_for(version).ask(&json!({"op": "version"}));
        assert!(
            v["go"]
                .as_str()
                .unwrap()
                .starts_with(version.version_prefix()),
            "{v}"
        );
        assert_eq!(v["godebug"], json!(version.etcd_godebug()), "{v}");
    }
}

/// The committed DefaultGODEBUG is the etcd 3.5 binary's, when `make etcd35` has unpacked it.
#[test]
fn the_go124_godebug_is_etcd_3_5s() {
    let etcd = repo_root().join("target/etcd-3.5/root/usr/bin/etcd");
    if !etcd.is_file() {
        eprintln!(
            "{} is not unpacked (make etcd35): not compared",
            etcd.display()
        );
        return;
    }
    let out = std::process::Command::new("go")
        .args(["version", "-m"])
        .arg(&etcd)
        .output()
        .expect("go version -m");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("build\tDefaultGODEBUG="))
        .unwrap_or_else(|| panic!("no DefaultGODEBUG in:\n{text}"));
    assert_eq!(line, ETCD_3_5_16_DEFAULT_GODEBUG);
}

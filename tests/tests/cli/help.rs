//! Snapshots of every help text: `--help` and `-h` of the top level and of every subcommand and
//! sub-subcommand, found by reading the "Commands:" list of each help, so that a new command
//! without a reviewed snapshot fails (insta finds no snapshot for it).
//!
//! A help or output that changes makes its snapshot fail, showing the difference. To review and
//! accept changes:
//!
//! ```text
//! cargo build --workspace --bins            # the tests run the built binary
//! cargo insta test -p etcd-pki-tests --test cli --review
//! ```
//!
//! or, without cargo-insta (`cargo install cargo-insta`), rewrite the snapshots and review them as
//! a diff before committing:
//!
//! ```text
//! INSTA_UPDATE=always cargo test -p etcd-pki-tests --test cli
//! git diff tests/tests/cli/snapshots/
//! ```
//!
//! Under plain `cargo test` (and `make test`, and CI) a mismatch or a missing snapshot fails.

use crate::snap::{etcd_pki, snapshot, unfiltered};

/// The names under "Commands:" in a help text, without `help`.
fn commands_in(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line == "Commands:" {
            in_commands = true;
            continue;
        }
        if !in_commands {
            continue;
        }
        if line.is_empty() {
            break;
        }
        // "  name   description"; a description wrapped onto the next line starts deeper.
        if let Some(rest) = line.strip_prefix("  ") {
            if !rest.starts_with(' ') {
                let name = rest.split_whitespace().next().unwrap_or_default();
                if name != "help" {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

/// Every command path (`[]`, `["inspect"]`, `["member", "add"]`, ...), depth first, in the order
/// the help lists them (found once).
pub(crate) fn command_paths() -> &'static [Vec<String>] {
    static PATHS: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    PATHS.get_or_init(find_command_paths)
}

fn find_command_paths() -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut stack: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = stack.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = etcd_pki(&args).output().expect("run etcd-pki --help");
        assert!(out.status.success(), "etcd-pki {args:?} failed");
        let help = String::from_utf8(out.stdout).expect("help is UTF-8");
        let children = commands_in(&help);
        for child in children.iter().rev() {
            let mut sub = path.clone();
            sub.push(child.clone());
            stack.push(sub);
        }
        paths.push(path);
    }
    paths
}

/// A snapshot name for a command path: `etcd-pki`, `member_add`.
fn name_of(path: &[String]) -> String {
    if path.is_empty() {
        "etcd-pki".to_string()
    } else {
        path.join("_")
    }
}

#[test]
fn the_command_tree() {
    let tree: Vec<String> = command_paths()
        .iter()
        .map(|p| format!("etcd-pki {}", p.join(" ")).trim_end().to_string())
        .collect();
    // A sanity check on the parsing: the commands this test was written with are all there.
    for known in [
        "etcd-pki inspect",
        "etcd-pki member add",
        "etcd-pki endpoint status",
        "etcd-pki snapshot save",
        "etcd-pki config",
    ] {
        assert!(
            tree.iter().any(|c| c == known),
            "{known} not found in {tree:?}"
        );
    }
    insta::assert_snapshot!("command_tree", tree.join("\n"));
}

#[test]
fn every_long_and_short_help() {
    for path in command_paths() {
        let name = name_of(path);
        for (flag, kind) in [("--help", "long"), ("-h", "short")] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            snapshot!(format!("{name}__{kind}"), etcd_pki(&args), unfiltered());
        }
    }
}

/// `etcd-pki help PATH` prints what `etcd-pki PATH --help` prints (compared, not snapshotted
/// again).
#[test]
fn the_help_subcommand_is_the_long_help() {
    for path in command_paths() {
        let mut via_help: Vec<&str> = vec!["help"];
        via_help.extend(path.iter().map(String::as_str));
        let mut via_flag: Vec<&str> = path.iter().map(String::as_str).collect();
        via_flag.push("--help");
        let a = etcd_pki(&via_help).output().unwrap();
        let b = etcd_pki(&via_flag).output().unwrap();
        assert_eq!(a.status.code(), Some(0), "etcd-pki {via_help:?}");
        assert_eq!(
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
            "etcd-pki {via_help:?} differs from etcd-pki {via_flag:?}"
        );
    }
}

#[test]
fn version() {
    snapshot!("version_long", etcd_pki(&["--version"]), unfiltered());
    snapshot!("version_short", etcd_pki(&["-V"]), unfiltered());
}

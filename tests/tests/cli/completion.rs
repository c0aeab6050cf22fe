//! `etcd-pki completion SHELL` and `etcd-pki man --out DIR`: the scripts are accepted by their
//! shell and complete in bash as a user's TAB does; the man pages are one per command (the tree
//! `--help` shows, as `help.rs` finds it) and `man` renders each without a warning.
//!
//! `make install` (a release build, too slow here) is not run; `make -n install` shows where it
//! puts each file.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use etcd_pki_tests::{etcd_pki, repo_root};

use crate::help::command_paths;

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "elvish", "powershell"];

#[test]
fn every_shell_gets_a_script() {
    for shell in SHELLS {
        let run = etcd_pki(["completion", shell]);
        run.expect_code(0).stdout_has("etcd-pki");
        assert!(run.stderr.is_empty(), "{shell}: {}", run.stderr);
        // Every command is in the script.
        for command in ["scale-out", "member", "doctor", "completion", "man"] {
            run.stdout_has(command);
        }
    }
    etcd_pki(["completion", "tcsh"])
        .expect_code(2)
        .stderr_has("possible values: bash");
}

/// The bash script, in a file of a temporary directory.
fn bash_script(dir: &Path) -> std::path::PathBuf {
    let run = etcd_pki(["completion", "bash"]);
    run.expect_code(0);
    let path = dir.join("etcd-pki.bash");
    std::fs::write(&path, &run.stdout).unwrap();
    path
}

/// Runs `bash --norc --noprofile ARGS` and returns its stdout; fails unless it exits 0 and prints
/// nothing on stderr.
fn bash(args: &[&OsStr]) -> String {
    let out = Command::new("bash")
        .args(["--norc", "--noprofile"])
        .args(args)
        .output()
        .expect("run bash");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "bash {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("bash printed UTF-8")
}

#[test]
fn bash_accepts_the_bash_script() {
    let dir = tempfile::tempdir().unwrap();
    let script = bash_script(dir.path());
    bash(&["-n".as_ref(), script.as_os_str()]);
}

/// What bash offers for the last of `words` (the word being completed), as `etcd-pki WORDS<TAB>`
/// does: the script sourced, then the function it registered for `etcd-pki` called as bash calls
/// it (`COMP_WORDS`, `COMP_CWORD`; arguments: the command, the word, the word before).
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    const DRIVER: &str = r#"
source "$1" || exit 1
shift
spec=$(complete -p etcd-pki) || exit 1
fn=${spec#*-F }
fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let mut args: Vec<&OsStr> = vec!["-c".as_ref(), DRIVER.as_ref(), "bash".as_ref()];
    args.push(script.as_os_str());
    args.extend(words.iter().map(OsStr::new));
    bash(&args)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_commands_at_every_depth_and_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = bash_script(dir.path());
    for (words, expected) in [
        (&["etcd-pki", "memb"][..], &["member"][..]),
        (&["etcd-pki", "member", "a"], &["add"]),
        (&["etcd-pki", "scale-o"], &["scale-out"]),
        (&["etcd-pki", "ca", "rotate", "ap"], &["apply"]),
        (
            &["etcd-pki", "ca", "rotate", "apply", "--time"],
            &["--timeout"],
        ),
        (
            &["etcd-pki", "check", "--role", ""],
            &["peer", "server", "client"],
        ),
        (&["etcd-pki", "completion", "z"], &["zsh"]),
    ] {
        let offered = bash_completes(&script, words);
        assert_eq!(offered, expected, "etcd-pki {words:?}<TAB>");
    }
}

/// The page of a command path: `etcd-pki.1`, `etcd-pki-member-add.1`.
fn page_of(path: &[String]) -> String {
    let mut name = String::from("etcd-pki");
    for word in path {
        name.push('-');
        name.push_str(word);
    }
    name + ".1"
}

#[test]
fn one_man_page_per_command_and_man_renders_each_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1"); // created by the command
    etcd_pki(["man".as_ref(), "--out".as_ref(), out.as_os_str()])
        .expect_code(0)
        .stdout_has("etcd-pki.1");
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut expected: Vec<String> = command_paths().iter().map(|p| page_of(p)).collect();
    expected.sort();
    assert_eq!(written, expected);

    for path in command_paths() {
        let page = out.join(page_of(path));
        let run = Command::new("man")
            .args(["-l", "--warnings", "-E", "UTF-8"])
            .arg(&page)
            .env("MANWIDTH", "80")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("MANPAGER")
            .env_remove("PAGER")
            .output()
            .expect("run man (make test installs man-db)");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            run.status.success() && stderr.is_empty(),
            "man -l {}: {stderr}",
            page.display()
        );
        // The synopsis names the command as it is typed (justified: spaces vary).
        let text = String::from_utf8_lossy(&run.stdout);
        let words: Vec<&str> = text.split_whitespace().collect();
        let typed = format!("etcd-pki {}", path.join(" "));
        assert!(
            words
                .join(" ")
                .contains(&format!("SYNOPSIS {}", typed.trim_end())),
            "{}:\n{text}",
            page.display()
        );
    }
}

#[test]
fn man_refuses_an_out_that_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("man1");
    std::fs::write(&file, "not a directory\n").unwrap();
    etcd_pki(["man".as_ref(), "--out".as_ref(), file.as_os_str()])
        .expect_code(2)
        .stderr_has("is not a directory: give --out a directory");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn make_install_puts_each_file_under_destdir_and_prefix() {
    let out = Command::new("make")
        .args(["-n", "install", "DESTDIR=/stage", "PREFIX=/usr"])
        // cargo sets CARGO for tests, which `CARGO ?= cargo` would take.
        .env_remove("CARGO")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("MAKEFLAGS")
        .current_dir(repo_root())
        .output()
        .expect("run make");
    let recipe = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "make -n install: {recipe}");
    for line in [
        "cargo build --release -p pki-cli",
        r#"install -m 0755 "target/release/etcd-pki" "/stage/usr/bin/etcd-pki""#,
        r#"completion bash > "/stage/usr/share/bash-completion/completions/etcd-pki""#,
        r#"completion zsh > "/stage/usr/share/zsh/site-functions/_etcd-pki""#,
        r#"completion fish > "/stage/usr/share/fish/vendor_completions.d/etcd-pki.fish""#,
        r#"man --out "/stage/usr/share/man/man1""#,
    ] {
        assert!(recipe.contains(line), "{line:?} not in:\n{recipe}");
    }
}

//! Finding the etcd a command line starts, and its arguments: the program itself (basename
//! `etcd`; `etcdctl` and `etcdutl` are other programs), a POSIX shell's `-c SCRIPT`
//! ([`super::shell`]), `env [-i] [-u NAME] [NAME=value]... etcd ...` (coreutils env(1)), `su`
//! / `runuser` `-c COMMAND`, and other wrappers (`nice`, `ionice`, `taskset`, `setpriv`,
//! `gosu`, ...) whose later words hold an etcd. What is not evaluated is noted.

use std::collections::BTreeMap;

use super::shell::run_script;

/// The etcd a command starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EtcdCommand {
    /// The program as written (`/opt/etcd/etcd`).
    pub(crate) program: String,
    /// Its arguments, after the program.
    pub(crate) args: Vec<String>,
    /// Its environment: what it inherits, with the assignments on the way applied.
    pub(crate) env: BTreeMap<String, String>,
    /// The variables set on the way (by a shell or `env`), not inherited.
    pub(crate) assigned: Vec<String>,
    /// The working directory, when a shell changed it.
    pub(crate) cwd: Option<String>,
    /// What was not evaluated or may change what etcd runs with.
    pub(crate) notes: Vec<String>,
}

/// Shells whose `-c` is followed.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"];

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Whether a word names the etcd server program.
pub(crate) fn is_etcd(word: &str) -> bool {
    basename(word) == "etcd"
}

/// The etcd that `argv` (program first) starts with environment `env`.
pub(crate) fn find_etcd(argv: &[String], env: &BTreeMap<String, String>) -> Option<EtcdCommand> {
    find(argv, env.clone(), Vec::new(), None, Vec::new(), 0)
}

fn find(
    argv: &[String],
    env: BTreeMap<String, String>,
    assigned: Vec<String>,
    cwd: Option<String>,
    notes: Vec<String>,
    depth: usize,
) -> Option<EtcdCommand> {
    if depth > 8 {
        return None;
    }
    let program = argv.first()?;
    let name = basename(program);
    if name == "etcd" {
        return Some(EtcdCommand {
            program: program.clone(),
            args: argv[1..].to_vec(),
            env,
            assigned,
            cwd,
            notes,
        });
    }
    if SHELLS.contains(&name) {
        let rest = if name == "busybox" {
            match argv.get(1).map(|s| basename(s)) {
                Some("sh" | "ash") => &argv[2..],
                _ => return generic(argv, env, assigned, cwd, notes, depth),
            }
        } else {
            &argv[1..]
        };
        if let Some((script, positional)) = shell_script(rest) {
            let fallback_zero = [program.clone()];
            let positional = if positional.is_empty() {
                &fallback_zero[..]
            } else {
                positional
            };
            return in_script(script, positional, env, assigned, cwd, notes, depth);
        }
        return None;
    }
    if name == "env" {
        return through_env(argv, env, assigned, cwd, notes, depth);
    }
    if matches!(name, "su" | "runuser") {
        let mut notes = notes;
        notes.push(format!(
            "etcd is started through {name}, which changes the user it runs as"
        ));
        if let Some(i) = argv.iter().position(|a| a == "-c" || a == "--command") {
            if let Some(script) = argv.get(i + 1) {
                let positional = vec![name.to_string()];
                return in_script(script, &positional, env, assigned, cwd, notes, depth);
            }
        }
        return generic(argv, env, assigned, cwd, notes, depth);
    }
    generic(argv, env, assigned, cwd, notes, depth)
}

/// The script of `sh [options] -c SCRIPT [$0 [$1 ...]]`, and the words after it.
fn shell_script(args: &[String]) -> Option<(&str, &[String])> {
    let mut saw_c = false;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" || arg == "-" {
            i += 1;
            break;
        }
        if arg == "-o" || arg == "+o" {
            i += 2;
            continue;
        }
        if arg.starts_with("--") {
            if arg == "--command" {
                saw_c = true;
            }
            i += 1;
            continue;
        }
        if (arg.starts_with('-') || arg.starts_with('+')) && arg.len() > 1 {
            if arg.starts_with('-') && arg[1..].contains('c') {
                saw_c = true;
            }
            i += 1;
            continue;
        }
        break;
    }
    if !saw_c {
        return None;
    }
    let script = args.get(i)?;
    Some((script.as_str(), args.get(i + 1..).unwrap_or_default()))
}

fn in_script(
    script: &str,
    positional: &[String],
    env: BTreeMap<String, String>,
    assigned: Vec<String>,
    cwd: Option<String>,
    notes: Vec<String>,
    depth: usize,
) -> Option<EtcdCommand> {
    for command in run_script(script, &env, positional) {
        let mut cmd_env = command.env.clone();
        let mut cmd_assigned = assigned.clone();
        // Variables the script set and exported.
        for (k, v) in &command.env {
            if env.get(k) != Some(v) {
                cmd_assigned.push(k.clone());
            }
        }
        for (k, v) in &command.assigns {
            cmd_env.insert(k.clone(), v.clone());
            cmd_assigned.push(k.clone());
        }
        let mut cmd_notes = notes.clone();
        for o in &command.opaque {
            // Only what reaches etcd's arguments or its ETCD_* variables matters.
            let in_args = command.argv.iter().skip(1).any(|a| a.contains(o.as_str()));
            let in_env = command
                .assigns
                .iter()
                .any(|(k, v)| k.starts_with("ETCD_") && v.contains(o.as_str()));
            if in_args || in_env {
                cmd_notes.push(format!(
                    "{o} in the shell script is not evaluated: the text is kept as written"
                ));
            }
        }
        let cmd_cwd = command.cwd.clone().or_else(|| cwd.clone());
        if let Some(found) = find(
            &command.argv,
            cmd_env,
            cmd_assigned,
            cmd_cwd,
            cmd_notes,
            depth + 1,
        ) {
            return Some(found);
        }
    }
    None
}

/// coreutils `env`: `-i`/`--ignore-environment`/`-`, `-u NAME`/`--unset=NAME`,
/// `-C DIR`/`--chdir=DIR`, `NAME=value`..., then the command.
fn through_env(
    argv: &[String],
    mut env: BTreeMap<String, String>,
    mut assigned: Vec<String>,
    mut cwd: Option<String>,
    mut notes: Vec<String>,
    depth: usize,
) -> Option<EtcdCommand> {
    let mut i = 1;
    while let Some(arg) = argv.get(i) {
        match arg.as_str() {
            "-i" | "--ignore-environment" | "-" => env.clear(),
            "-u" | "--unset" => {
                if let Some(n) = argv.get(i + 1) {
                    env.remove(n);
                }
                i += 1;
            }
            "-C" | "--chdir" => {
                cwd = argv.get(i + 1).cloned();
                i += 1;
            }
            "--" => {
                i += 1;
                break;
            }
            a if a.starts_with("--unset=") => {
                env.remove(&a["--unset=".len()..]);
            }
            a if a.starts_with("--chdir=") => cwd = Some(a["--chdir=".len()..].to_string()),
            a if a.starts_with("-u") && a.len() > 2 => {
                env.remove(&a[2..]);
            }
            a if a.starts_with('-') => notes.push(format!("env option {a} is not modelled")),
            a => match a.split_once('=') {
                Some((n, v)) if !n.is_empty() => {
                    env.insert(n.to_string(), v.to_string());
                    assigned.push(n.to_string());
                }
                _ => break,
            },
        }
        i += 1;
    }
    find(argv.get(i..)?, env, assigned, cwd, notes, depth + 1)
}

/// Another wrapper: the first later word naming etcd (not one that follows an option, which
/// is likely the option's value, such as `-u etcd`), or a shell, `env`, `su` further on.
fn generic(
    argv: &[String],
    env: BTreeMap<String, String>,
    assigned: Vec<String>,
    cwd: Option<String>,
    mut notes: Vec<String>,
    depth: usize,
) -> Option<EtcdCommand> {
    let candidates: Vec<usize> = (1..argv.len()).filter(|&i| is_etcd(&argv[i])).collect();
    let after_option = |i: usize| {
        argv.get(i.wrapping_sub(1))
            .is_some_and(|p| p.starts_with('-') && p != "--" && !p.contains('='))
    };
    let pick = candidates.iter().copied().find(|&i| !after_option(i));
    let nested = (1..argv.len()).find(|&i| {
        let n = basename(&argv[i]);
        SHELLS.contains(&n) || n == "env" || n == "su" || n == "runuser"
    });
    let start = match (pick, nested) {
        (Some(i), Some(j)) if j < i => j,
        (Some(i), _) => i,
        (None, Some(j)) => j,
        (None, None) => *candidates.first()?,
    };
    // `gosu etcd etcd ...`: the user, then the program.
    let start = if is_etcd(&argv[start])
        && !argv[start].contains('/')
        && argv.get(start + 1).is_some_and(|w| is_etcd(w))
    {
        start + 1
    } else {
        start
    };
    notes.push(format!(
        "etcd is started through {}, which may change how it runs",
        basename(&argv[0])
    ));
    find(&argv[start..], env, assigned, cwd, notes, depth + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn direct() {
        let c = find_etcd(&argv(&["/usr/bin/etcd", "--name", "a"]), &env(&[])).unwrap();
        assert_eq!(c.program, "/usr/bin/etcd");
        assert_eq!(c.args, argv(&["--name", "a"]));
        assert!(find_etcd(&argv(&["/usr/bin/etcdctl", "get", "x"]), &env(&[])).is_none());
    }

    #[test]
    fn through_shells() {
        let c = find_etcd(
            &argv(&[
                "/bin/bash",
                "-ec",
                "GOMAXPROCS=$(nproc) /opt/etcd/etcd --name $N",
                "ignored0",
            ]),
            &env(&[("N", "infra3")]),
        )
        .unwrap();
        assert_eq!(c.args, argv(&["--name", "infra3"]));
        assert_eq!(
            c.env.get("GOMAXPROCS").map(String::as_str),
            Some("$(nproc)")
        );
        assert_eq!(c.assigned, vec!["GOMAXPROCS"]);
        // $(nproc) reaches only GOMAXPROCS, which etcd does not read.
        assert!(c.notes.is_empty());
        let c = find_etcd(&argv(&["sh", "-c", "etcd --name $(hostname)"]), &env(&[])).unwrap();
        assert_eq!(c.args, argv(&["--name", "$(hostname)"]));
        assert_eq!(c.notes.len(), 1);
        let c = find_etcd(
            &argv(&["sh", "-c", "exec etcd \"$@\"", "etcd", "--name", "x"]),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(c.args, argv(&["--name", "x"]));
        assert!(find_etcd(
            &argv(&["/bin/sh", "/usr/local/bin/start-etcd.sh"]),
            &env(&[])
        )
        .is_none());
        let c = find_etcd(&argv(&["busybox", "sh", "-c", "etcd --name b"]), &env(&[])).unwrap();
        assert_eq!(c.args, argv(&["--name", "b"]));
    }

    #[test]
    fn through_env() {
        let c = find_etcd(
            &argv(&[
                "/usr/bin/env",
                "-u",
                "HOME",
                "ETCD_NAME=x",
                "GOMAXPROCS=2",
                "/usr/bin/etcd",
                "--data-dir=/d",
            ]),
            &env(&[("HOME", "/root"), ("ETCD_CERT_FILE", "/c.pem")]),
        )
        .unwrap();
        assert_eq!(c.args, argv(&["--data-dir=/d"]));
        assert_eq!(c.env.get("ETCD_NAME").map(String::as_str), Some("x"));
        assert!(!c.env.contains_key("HOME"));
        assert!(c.env.contains_key("ETCD_CERT_FILE"));
        let c = find_etcd(&argv(&["env", "-i", "etcd"]), &env(&[("ETCD_NAME", "y")])).unwrap();
        assert!(c.env.is_empty());
    }

    #[test]
    fn through_other_wrappers() {
        let c = find_etcd(
            &argv(&[
                "/usr/sbin/runuser",
                "-u",
                "etcd",
                "--",
                "/usr/bin/etcd",
                "--name",
                "a",
            ]),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(c.program, "/usr/bin/etcd");
        assert_eq!(c.args, argv(&["--name", "a"]));
        assert!(!c.notes.is_empty());
        let c = find_etcd(&argv(&["gosu", "etcd", "etcd", "--name", "a"]), &env(&[])).unwrap();
        assert_eq!(c.args, argv(&["--name", "a"]));
        let c = find_etcd(
            &argv(&["nice", "-n", "10", "ionice", "-c2", "etcd", "--name", "a"]),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(c.args, argv(&["--name", "a"]));
        let c = find_etcd(
            &argv(&["su", "etcd", "-s", "/bin/sh", "-c", "etcd --name z"]),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(c.args, argv(&["--name", "z"]));
        let c = find_etcd(
            &argv(&["/usr/bin/sudo", "-u", "etcd", "bash", "-c", "etcd --name q"]),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(c.args, argv(&["--name", "q"]));
        assert!(find_etcd(
            &argv(&["/usr/bin/docker", "run", "quay.io/coreos/etcd:v3.5.16"]),
            &env(&[])
        )
        .is_none());
    }
}

//! Members found on this host, and configurations given directly: a running etcd read from
//! `/proc/PID` (proc(5): `cmdline`, `environ`, `cwd`, `root`, `status`), every etcd process
//! of the host, a config file on its own, and flags given as they are.
//!
//! A process's files are read through `/proc/PID/root` when it runs in another mount
//! namespace or root (a container); its environment is the one it started with, which is the
//! one etcd read. Nothing is executed; the etcd version of a process is not known.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::read::{read_bytes, read_text};
use super::resolve::{apply_file, resolve};
use super::users::Accounts;
use super::{ConfigError, ConfigProblem, EnvOrigin, MemberConfig, Origin, RunAs};

/// Whether an error means the process is gone (`ENOENT`, `ESRCH`).
fn gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
}

/// Reads `/proc/PID/<what>`, telling a vanished process from an unreadable one.
fn proc_file(pid: u32, what: &'static str) -> Result<Vec<u8>, ConfigError> {
    match read_bytes(&PathBuf::from(format!("/proc/{pid}/{what}"))) {
        Ok(bytes) => Ok(bytes),
        Err(ConfigError::Read { source, .. }) if gone(&source) => {
            Err(ConfigError::ProcessGone { pid })
        }
        Err(ConfigError::Read { source, .. }) => {
            Err(ConfigError::ProcessUnreadable { pid, what, source })
        }
        Err(other) => Err(other),
    }
}

fn split_nul(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The configuration of a running etcd (any process: one that is not etcd is parsed as if it
/// were, which gives problems, not an error).
pub fn from_pid(pid: u32) -> Result<MemberConfig, ConfigError> {
    let argv = split_nul(&proc_file(pid, "cmdline")?);
    let mut problems = Vec::new();
    let env = match proc_file(pid, "environ") {
        Ok(bytes) => {
            let mut env = Vec::new();
            for entry in split_nul(&bytes) {
                match entry.split_once('=') {
                    Some((k, v)) => env.push((k.to_string(), v.to_string())),
                    None => problems.push(ConfigProblem::warning(format!(
                        "process {pid}: found invalid environment variable {entry:?} (no `=`)"
                    ))),
                }
            }
            env
        }
        Err(ConfigError::ProcessUnreadable { source, .. }) => {
            problems.push(ConfigProblem::warning(format!(
                "cannot read /proc/{pid}/environ ({source}): ETCD_* variables, and conflicts between them and flags, are not seen; run as root"
            )));
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let base = PathBuf::from(format!("/proc/{pid}"));
    let cwd = match fs::read_link(base.join("cwd")) {
        Ok(p) => Some(p),
        Err(e) if gone(&e) => return Err(ConfigError::ProcessGone { pid }),
        Err(e) => {
            problems.push(ConfigProblem::warning(format!(
                "cannot read /proc/{pid}/cwd ({e}): relative paths cannot be placed; run as root"
            )));
            None
        }
    };
    let root = process_root(pid, &base);
    let status = String::from_utf8_lossy(&proc_file(pid, "status")?).into_owned();
    let run_as = parse_status(&status).map(|(uid, gid, groups)| RunAs {
        user: Accounts::read(&root).user_name(uid),
        uid,
        gid,
        groups,
    });
    let args = argv.get(1..).unwrap_or_default();
    let mut config = resolve(
        args,
        &env,
        EnvOrigin::Process,
        Origin::Process { pid },
        &root,
        cwd.as_deref(),
        None,
    );
    config.run_as = run_as;
    if cwd.is_some() {
        config.host_cwd = Some(base.join("cwd"));
    }
    problems.append(&mut config.problems);
    config.problems = problems;
    Ok(config)
}

/// `/` when the process shares this tool's root and mount namespace, else `/proc/PID/root`.
fn process_root(pid: u32, base: &Path) -> PathBuf {
    let link = |p: PathBuf| fs::read_link(p).ok();
    let same_ns = match (
        link(PathBuf::from("/proc/self/ns/mnt")),
        link(base.join("ns/mnt")),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    let root_is_slash = link(base.join("root")).is_some_and(|r| r == Path::new("/"));
    if same_ns && root_is_slash {
        PathBuf::from("/")
    } else {
        PathBuf::from(format!("/proc/{pid}/root"))
    }
}

/// The effective UID and GID and the supplementary groups of a `/proc/PID/status`.
fn parse_status(status: &str) -> Option<(u32, u32, Vec<u32>)> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|rest| {
                rest.split_whitespace()
                    .filter_map(|n| n.parse::<u32>().ok())
                    .collect::<Vec<_>>()
            })
    };
    let uid = *field("Uid:")?.get(1)?;
    let gid = *field("Gid:")?.get(1)?;
    let groups = field("Groups:").unwrap_or_default();
    Some((uid, gid, groups))
}

/// Whether a process is etcd: its executable's name (`/proc/PID/exe`), or, when that cannot be
/// read, its argv\[0\]'s. `Err` when it is gone.
fn is_etcd_process(pid: u32) -> Result<bool, ConfigError> {
    match fs::read_link(format!("/proc/{pid}/exe")) {
        Ok(exe) => {
            let name = exe
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(name.strip_suffix(" (deleted)").unwrap_or(&name) == "etcd")
        }
        Err(e) if gone(&e) && !Path::new(&format!("/proc/{pid}")).exists() => {
            Err(ConfigError::ProcessGone { pid })
        }
        Err(_) => {
            let argv = split_nul(&proc_file(pid, "cmdline")?);
            Ok(argv
                .first()
                .is_some_and(|a| a.rsplit('/').next() == Some("etcd")))
        }
    }
}

/// Every etcd process of this host (executable named `etcd`; not `etcdctl` or `etcdutl`),
/// each read with [`from_pid`]. Processes that exit meanwhile are left out.
pub fn discover() -> Vec<Result<MemberConfig, ConfigError>> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect();
    pids.sort_unstable();
    let mut found = Vec::new();
    for pid in pids {
        match is_etcd_process(pid) {
            Ok(true) => {}
            Ok(false) | Err(ConfigError::ProcessGone { .. }) => continue,
            Err(e) => {
                found.push(Err(e));
                continue;
            }
        }
        match from_pid(pid) {
            Err(ConfigError::ProcessGone { .. }) => {}
            other => found.push(other),
        }
    }
    found
}

/// The configuration a config file gives etcd, read on its own (relative paths in it are
/// relative to the directory etcd would run in, which is not known here).
pub fn from_config_file(path: &Path) -> Result<MemberConfig, ConfigError> {
    let text = read_text(path)?;
    let mut config = MemberConfig {
        origin: Origin::ConfigFile {
            path: path.to_path_buf(),
        },
        root: PathBuf::from("/"),
        cwd: None,
        host_cwd: None,
        mounts: Vec::new(),
        run_as: None,
        version: None,
        values: Default::default(),
        problems: Vec::new(),
    };
    apply_file(&mut config, &text, path, None);
    Ok(config)
}

/// The configuration of etcd started with these flags (without the program name); the
/// environment is not consulted. A `--config-file` among them is read relative to this
/// tool's working directory.
pub fn from_flags(args: &[String]) -> MemberConfig {
    resolve(
        args,
        &[],
        EnvOrigin::Given,
        Origin::Args,
        Path::new("/"),
        None,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::member_config::Key;

    #[test]
    fn the_test_process_itself() {
        let me = std::process::id();
        let c = from_pid(me).unwrap();
        assert_eq!(c.origin, Origin::Process { pid: me });
        assert_eq!(c.root, Path::new("/"));
        assert_eq!(c.cwd, std::env::current_dir().ok());
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let (uid, gid, _) = parse_status(&status).unwrap();
        let run_as = c.run_as.unwrap();
        assert_eq!((run_as.uid, run_as.gid), (uid, gid));
        assert_eq!(c.version, None);
        // The test binary's arguments are not etcd's flags: problems, not an error.
        assert!(!is_etcd_process(me).unwrap());
    }

    #[test]
    fn a_vanished_process_is_an_error() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(matches!(from_pid(pid), Err(ConfigError::ProcessGone { pid: p }) if p == pid));
        assert!(matches!(
            from_pid(u32::MAX),
            Err(ConfigError::ProcessGone { .. })
        ));
        assert!(matches!(from_pid(0), Err(ConfigError::ProcessGone { .. })));
    }

    #[test]
    fn discover_finds_no_etcd_here_without_error() {
        // This host runs no etcd (or, if it does, each is read).
        for c in discover().into_iter().flatten() {
            assert!(matches!(c.origin, Origin::Process { .. }));
        }
    }

    #[test]
    fn status_lines() {
        let status =
            "Name:\tetcd\nUid:\t998\t998\t998\t998\nGid:\t997\t997\t997\t997\nGroups:\t4 997 \n";
        assert_eq!(parse_status(status), Some((998, 997, vec![4, 997])));
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    fn nul_separated() {
        assert_eq!(
            split_nul(b"etcd\0--name\0a b\0"),
            vec!["etcd", "--name", "a b"]
        );
        assert!(split_nul(b"").is_empty());
    }

    #[test]
    fn a_config_file_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etcd.conf.yml");
        fs::write(
            &path,
            "name: infra9\nclient-transport-security:\n  cert-file: /s.pem\n",
        )
        .unwrap();
        let c = from_config_file(&path).unwrap();
        assert_eq!(c.name(), "infra9");
        assert_eq!(
            c.get(Key::CertFile).map(|s| s.value.as_str()),
            Some("/s.pem")
        );
        assert_eq!(c.get(Key::ConfigFile), None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert!(matches!(
            from_config_file(&dir.path().join("missing")),
            Err(ConfigError::Read { .. })
        ));
        assert!(matches!(
            from_config_file(dir.path()),
            Err(ConfigError::NotRegularFile { .. })
        ));
    }

    #[test]
    fn flags_given_as_they_are() {
        let args: Vec<String> = ["--name=x", "--client-cert-auth", "true"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let c = from_flags(&args);
        assert_eq!(c.origin, Origin::Args);
        assert_eq!(c.name(), "x");
        assert!(c.problems[0].fatal);
    }
}

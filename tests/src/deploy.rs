//! The files of deploy/ as tests read them: systemd units' `ExecStart=` lines, Kubernetes
//! manifests (parsed as YAML) and the `etcd-pki ...` command lines of their shell scripts, each
//! run by `sh -c` with the paths of a real host replaced by a test's.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::{bin, repo_root, Run};

/// A file of deploy/.
pub fn deploy_file(rel: &str) -> PathBuf {
    repo_root().join("deploy").join(rel)
}

/// The values of `key=` lines of a unit file's `[Service]` (or any) section, in order.
pub fn unit_values(unit: &Path, key: &str) -> Vec<String> {
    std::fs::read_to_string(unit)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .collect()
}

/// The one document of a YAML file.
pub fn yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap();
    let mut docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

/// The lines of a container's shell script (`args[0]` of `command: [/bin/sh, -c]`) that run
/// etcd-pki, trimmed.
pub fn etcd_pki_lines(script: &str) -> Vec<String> {
    script
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("etcd-pki "))
        .map(str::to_string)
        .collect()
}

/// Runs a command line with `sh -c`: `etcd-pki` (at the start of the line or after a path
/// prefix) is the binary under test, and each `(from, to)` replaces a real host's path by a
/// test's; `env` is set.
pub fn run_line(line: &str, replace: &[(&str, &Path)], env: &[(&str, &str)]) -> Run {
    let mut line = line.to_string();
    for (from, to) in replace {
        line = line.replace(from, &to.display().to_string());
    }
    let dir = tempfile::tempdir().unwrap();
    // etcd-pki on PATH as the binary under test (a unit names it by absolute path).
    std::os::unix::fs::symlink(bin(), dir.path().join("etcd-pki")).unwrap();
    let line = line.replace("/usr/local/bin/etcd-pki", "etcd-pki");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &line]).env("PATH", path);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ETCDCTL_") {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

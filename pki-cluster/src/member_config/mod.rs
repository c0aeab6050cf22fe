//! An etcd member's configuration as etcd itself resolves it, with the source of every value:
//! command-line flags, `ETCD_*` environment variables, or a `--config-file` YAML (which, when
//! given, makes etcd ignore flags and environment). Found from a running process
//! (`/proc/PID/cmdline`, `/proc/PID/environ`, files read through `/proc/PID/root`), a kubeadm
//! static pod manifest, a systemd unit with its `EnvironmentFile`s, a config file, or flags given
//! as they are.
//!
//! Only what `doctor` needs is interpreted ([`Key`]); every other flag is still parsed as etcd
//! parses it (booleans take no separate value), so that what follows is read right and what etcd
//! would refuse to start with is a [`ConfigProblem`]. Pure: no network, no runtime.
//!
//! # Where a configuration comes from
//!
//! * [`from_pid`] — a running process; [`discover`] — every etcd process of this host;
//! * [`from_unit`] — a systemd service and its environment files;
//! * [`from_manifest`] — a kubeadm static pod manifest, with its volume mounts;
//! * [`from_config_file`] — a `--config-file` YAML on its own;
//! * [`from_flags`] — etcd's flags, given as they are;
//! * [`resolve`] — arguments and environment from anywhere else.
//!
//! The rules are etcd's own, read in its source at v3.4.23 and v3.5.16 (and every other 3.4.x
//! and 3.5.x tag for when flags and keys appeared), Go's `flag`, `strconv`, `net/url` and
//! `encoding/json` packages as etcd uses them, `sigs.k8s.io/yaml`, systemd's unit, exec and
//! environment-file syntax, and Kubernetes' pod conventions; each module says which.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

mod args;
mod command;
mod env_file;
mod error;
mod exec;
mod go_values;
mod keys;
mod manifest;
mod process;
mod read;
mod resolve;
#[cfg(test)]
mod robustness;
mod shell;
mod systemd;
mod unit_file;
mod users;
mod validate;
mod version;
mod yaml;
mod yaml_keys;
mod yaml_tree;

pub use error::ConfigError;
pub use manifest::from_manifest;
pub use process::{discover, from_config_file, from_flags, from_pid};
pub use resolve::resolve;
pub use systemd::from_unit;

/// A setting `doctor` interprets. The flag, environment variable and YAML key of each, and the
/// etcd versions that have it, are in [`Key::info`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Key {
    /// `--name`.
    Name,
    /// `--data-dir`.
    DataDir,
    /// `--listen-client-urls`.
    ListenClientUrls,
    /// `--listen-client-http-urls` (3.4.25+, 3.5.8+).
    ListenClientHttpUrls,
    /// `--advertise-client-urls`.
    AdvertiseClientUrls,
    /// `--listen-peer-urls`.
    ListenPeerUrls,
    /// `--initial-advertise-peer-urls`.
    InitialAdvertisePeerUrls,
    /// `--listen-metrics-urls`.
    ListenMetricsUrls,
    /// `--initial-cluster`.
    InitialCluster,
    /// `--cert-file`.
    CertFile,
    /// `--key-file`.
    KeyFile,
    /// `--client-cert-file` (3.5+).
    ClientCertFile,
    /// `--client-key-file` (3.5+).
    ClientKeyFile,
    /// `--client-cert-auth`.
    ClientCertAuth,
    /// `--trusted-ca-file`.
    TrustedCaFile,
    /// `--auto-tls`.
    AutoTls,
    /// `--client-crl-file`.
    ClientCrlFile,
    /// `--client-cert-allowed-hostname`.
    ClientCertAllowedHostname,
    /// `client-transport-security.allowed-cn` (YAML only, 3.5.14+).
    ClientCertAllowedCn,
    /// `--peer-cert-file`.
    PeerCertFile,
    /// `--peer-key-file`.
    PeerKeyFile,
    /// `--peer-client-cert-file` (3.5+).
    PeerClientCertFile,
    /// `--peer-client-key-file` (3.5+).
    PeerClientKeyFile,
    /// `--peer-client-cert-auth`.
    PeerClientCertAuth,
    /// `--peer-trusted-ca-file`.
    PeerTrustedCaFile,
    /// `--peer-auto-tls`.
    PeerAutoTls,
    /// `--peer-crl-file`.
    PeerCrlFile,
    /// `--peer-cert-allowed-cn`.
    PeerCertAllowedCn,
    /// `--peer-cert-allowed-hostname`.
    PeerCertAllowedHostname,
    /// `--experimental-peer-skip-client-san-verification`.
    PeerSkipClientSanVerification,
    /// `--cipher-suites`.
    CipherSuites,
    /// `--tls-min-version` (3.4.25+, 3.5.8+).
    TlsMinVersion,
    /// `--tls-max-version` (3.4.25+, 3.5.8+).
    TlsMaxVersion,
    /// `--config-file`.
    ConfigFile,
}

/// How etcd parses a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A string (a path, a name).
    Str,
    /// A Go boolean (`strconv.ParseBool`: 1 0 t f T F true false TRUE FALSE True False); a flag
    /// given bare is true.
    Bool,
    /// A comma-separated list of URLs.
    Urls,
    /// A comma-separated list of strings (untrimmed, as etcd splits it); a YAML list in a
    /// config file.
    List,
}

/// Where a setting lives, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    /// The flag, without dashes.
    pub flag: Option<&'static str>,
    /// The YAML key, dotted (`peer-transport-security.cert-file`), when a config file can set it.
    pub yaml: Option<&'static str>,
    /// How the value is parsed.
    pub kind: Kind,
    /// The first etcd versions (3.4.x, 3.5.x) that have it; `None` for a line that lacks it.
    pub since_34: Option<u32>,
    /// The first 3.5.x that has it.
    pub since_35: Option<u32>,
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// A command-line flag, as written (`--cert-file=/etc/...`).
    Flag {
        /// The argument(s) as written.
        text: String,
    },
    /// An `ETCD_*` environment variable.
    Env {
        /// The variable.
        var: String,
        /// Where it was set.
        origin: EnvOrigin,
    },
    /// A key of the config file.
    ConfigFile {
        /// The file.
        #[serde(serialize_with = "pki_core::serde_path::path")]
        path: PathBuf,
        /// The dotted key.
        key: String,
    },
    /// etcd's default.
    Default,
}

/// Where an environment variable was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnvOrigin {
    /// The running process's environment (`/proc/PID/environ`).
    Process,
    /// A unit's `Environment=`.
    Unit {
        /// The unit file.
        #[serde(serialize_with = "pki_core::serde_path::path")]
        path: PathBuf,
    },
    /// An `EnvironmentFile=`.
    EnvironmentFile {
        /// The file.
        #[serde(serialize_with = "pki_core::serde_path::path")]
        path: PathBuf,
    },
    /// A pod manifest's `env:`.
    Manifest {
        /// The manifest.
        #[serde(serialize_with = "pki_core::serde_path::path")]
        path: PathBuf,
    },
    /// Given to this tool.
    Given,
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced {
    /// The value as etcd received it (a YAML list joined with commas).
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

/// What the configuration was found in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// A running etcd process.
    Process {
        /// Its PID.
        pid: u32,
    },
    /// A config file given on its own.
    ConfigFile {
        /// The file.
        #[serde(serialize_with = "pki_core::serde_path::path")]
        path: PathBuf,
    },
    /// A kubeadm static pod manifest.
    Manifest {
        /// The manifest.
        #[serde(serialize_with = "pki_core::serde_path::path")]
        path: PathBuf,
    },
    /// A systemd unit (and its environment files).
    Unit {
        /// The unit file.
        #[serde(serialize_with = "pki_core::serde_path::path")]
        path: PathBuf,
    },
    /// Flags given to this tool.
    Args,
}

/// Whom etcd runs as, for "can etcd read this file".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunAs {
    /// The user's name, when known.
    pub user: Option<String>,
    /// Its UID.
    pub uid: u32,
    /// Its primary GID.
    pub gid: u32,
    /// Its supplementary groups.
    pub groups: Vec<u32>,
}

/// Something about a configuration that etcd would refuse to start with, or would quietly do
/// differently from what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConfigProblem {
    /// Whether etcd would refuse to start (else: it starts, and this is a warning).
    pub fatal: bool,
    /// What, in words, with etcd's own message where it prints one.
    pub message: String,
}

impl ConfigProblem {
    /// Something etcd refuses to start with.
    pub(crate) fn fatal(message: String) -> ConfigProblem {
        ConfigProblem {
            fatal: true,
            message,
        }
    }

    /// Something etcd starts with, but that does not do what it says.
    pub(crate) fn warning(message: String) -> ConfigProblem {
        ConfigProblem {
            fatal: false,
            message,
        }
    }
}

/// A member's configuration, resolved as etcd resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MemberConfig {
    /// What it was found in.
    pub origin: Origin,
    /// Where the member's paths are read from: `/` or `/proc/PID/root` (a container's).
    #[serde(serialize_with = "pki_core::serde_path::path")]
    pub root: PathBuf,
    /// The directory relative paths are relative to (the process's working directory).
    #[serde(serialize_with = "pki_core::serde_path::opt_path")]
    pub cwd: Option<PathBuf>,
    /// The working directory as this host reaches it (`/proc/PID/cwd` for a running process),
    /// when known: relative paths are resolved there.
    #[serde(skip)]
    pub host_cwd: Option<PathBuf>,
    /// Host directories that container paths are mounted from (a manifest's volumes):
    /// `(path in the container, path on the host)`, longest first.
    pub mounts: Vec<(PathBuf, PathBuf)>,
    /// Whom etcd runs as, when known.
    pub run_as: Option<RunAs>,
    /// The etcd version, when known (`3.5.16`).
    pub version: Option<String>,
    /// Every interpreted setting that is set, or has a default that matters.
    pub values: BTreeMap<Key, Sourced>,
    /// What etcd would refuse, or do differently.
    pub problems: Vec<ConfigProblem>,
}

impl MemberConfig {
    /// A setting's value, when set.
    pub fn get(&self, key: Key) -> Option<&Sourced> {
        self.values.get(&key)
    }

    /// A boolean setting (`false` when unset or unparsable; parse errors are problems).
    pub fn flag(&self, key: Key) -> bool {
        self.get(key)
            .and_then(|s| parse_go_bool(&s.value))
            .unwrap_or(false)
    }

    /// A list setting, split on commas as etcd splits it (empty items dropped).
    pub fn list(&self, key: Key) -> Vec<String> {
        self.get(key)
            .map(|s| {
                s.value
                    .split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Where a path setting is on this host: relative paths against the working directory,
    /// container paths through the mounts or the process's root.
    pub fn host_path(&self, path: &Path) -> PathBuf {
        // A running process's working directory is reachable as /proc/PID/cwd, whatever its
        // root or mount namespace.
        if let (false, Some(cwd)) = (path.is_absolute(), &self.host_cwd) {
            return cwd.join(path);
        }
        let absolute = match (&self.cwd, path.is_absolute()) {
            (Some(cwd), false) => cwd.join(path),
            _ => path.to_path_buf(),
        };
        for (inside, outside) in &self.mounts {
            if let Ok(rest) = absolute.strip_prefix(inside) {
                // A mount of the file itself: the host file, with no trailing slash.
                return if rest.as_os_str().is_empty() {
                    outside.clone()
                } else {
                    outside.join(rest)
                };
            }
        }
        if self.root == Path::new("/") {
            return absolute;
        }
        resolve_in_root(&self.root, &absolute)
    }

    /// The member's name (`default` when unset, as etcd).
    pub fn name(&self) -> String {
        self.get(Key::Name)
            .map_or_else(|| "default".to_string(), |s| s.value.clone())
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// `path` (absolute) inside `root` as the process that has `root` sees it: each symbolic link
/// met on the way is followed inside `root` (an absolute target starts again at `root`, `..`
/// never leaves it), as `openat2(RESOLVE_IN_ROOT)` does; at most 40 links.
pub(crate) fn resolve_in_root(root: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    let mut resolved = PathBuf::new();
    let mut pending: Vec<std::ffi::OsString> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&part);
        match std::fs::read_link(root.join(&candidate)) {
            Ok(target) if links < 40 => {
                links += 1;
                if target.is_absolute() {
                    resolved = PathBuf::new();
                }
                pending.extend(target.components().rev().filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    Component::ParentDir => Some("..".into()),
                    _ => None,
                }));
            }
            _ => resolved = candidate,
        }
    }
    root.join(resolved)
}

/// A version text (`3.5.16`, `v3.4.23`, `3.5.16-0`) as `(minor, patch)` of etcd 3.
pub fn version_of(text: &str) -> Option<(u32, u32)> {
    version::Version::parse(text).map(|v| (v.minor, v.patch))
}

#[cfg(test)]
mod root_tests {
    use super::*;

    /// A container's absolute link points inside the container, never to the host.
    #[test]
    fn links_resolve_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("etc/pki")).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::write(root.join("data/server.crt"), "inside").unwrap();
        std::os::unix::fs::symlink("/data/server.crt", root.join("etc/pki/link.crt")).unwrap();
        std::os::unix::fs::symlink(
            "../../../../../data/server.crt",
            root.join("etc/pki/up.crt"),
        )
        .unwrap();
        for link in ["/etc/pki/link.crt", "/etc/pki/up.crt"] {
            let host = resolve_in_root(&root, Path::new(link));
            assert_eq!(host, root.join("data/server.crt"), "{link}");
            assert_eq!(std::fs::read_to_string(&host).unwrap(), "inside");
        }
        // A loop ends.
        std::os::unix::fs::symlink("/etc/pki/loop", root.join("etc/pki/loop")).unwrap();
        let _ = resolve_in_root(&root, Path::new("/etc/pki/loop"));
    }
}

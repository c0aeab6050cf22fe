//! A member run by the kubelet from a static pod manifest, as kubeadm writes it
//! (`/etc/kubernetes/manifests/etcd.yaml`; kubeadm `cmd/kubeadm/app/phases/etcd/local.go`
//! `GetEtcdPodSpec`):
//!
//! * the container whose command runs etcd; its command line is `command` followed by `args`
//!   (Kubernetes: `args` replace the image's CMD, `command` its ENTRYPOINT), with `$(VAR)`
//!   replaced by the container's variables (`$$` for `$`, unknown references kept as written;
//!   Kubernetes `third_party/forked/golang/expansion`);
//! * `env:` entries with a `value:` (expanded the same way against the entries before them);
//!   `valueFrom`/`envFrom` values live in the cluster and are not read;
//! * `volumeMounts` mapped to their volumes' `hostPath.path` (with `subPath`), longest first,
//!   so that a path etcd uses can be read on the host;
//! * root (UID 0) unless `securityContext.runAsUser` (the container's, else the pod's) says
//!   otherwise; `runAsGroup`, `supplementalGroups` and `fsGroup` likewise;
//! * the etcd version from the image tag (`registry.k8s.io/etcd:3.5.16-0`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pki_core::display_path;

use super::command::find_etcd;
use super::read::read_text;
use super::resolve::{resolve_env, EnvVar, Place};
use super::version::Version;
use super::yaml_tree::{self, Node};
use super::{ConfigError, ConfigProblem, EnvOrigin, Key, MemberConfig, Origin, RunAs};

/// The configuration of the etcd a static pod manifest runs.
pub fn from_manifest(path: &Path) -> Result<MemberConfig, ConfigError> {
    let text = read_text(path)?;
    let bad = |message: String| ConfigError::Manifest {
        path: path.to_path_buf(),
        message,
    };
    let root = yaml_tree::parse(&text).map_err(|e| bad(format!("it is not YAML ({e})")))?;
    if let Some(kind) = get(&root, "kind").and_then(Node::go_string) {
        if kind != "Pod" {
            return Err(bad(format!("its kind is {kind}, not Pod")));
        }
    }
    let spec = get(&root, "spec").ok_or_else(|| bad("it has no spec".into()))?;
    let containers = match get(spec, "containers") {
        Some(Node::Seq(items)) => items,
        _ => return Err(bad("it has no spec.containers list".into())),
    };
    let shown = display_path(path).into_owned();
    let origin = EnvOrigin::Manifest {
        path: path.to_path_buf(),
    };
    let mut problems = Vec::new();
    for container in containers {
        let mut env: Vec<(String, String)> = Vec::new();
        if get(container, "envFrom").is_some() {
            problems.push(ConfigProblem::warning(format!(
                "{shown}: envFrom variables come from the cluster and are not read: if they hold ETCD_* variables, etcd uses them (or refuses to start when a flag also sets one)"
            )));
        }
        if let Some(Node::Seq(entries)) = get(container, "env") {
            for entry in entries {
                let Some(name) = get(entry, "name").and_then(Node::go_string) else {
                    continue;
                };
                match get(entry, "value").and_then(Node::go_string) {
                    Some(value) => {
                        let value = expand(&value, &env);
                        env.retain(|(n, _)| *n != name);
                        env.push((name, value));
                    }
                    None if get(entry, "valueFrom").is_some() => {
                        if name.starts_with("ETCD_") {
                            problems.push(ConfigProblem::warning(format!(
                                "{shown}: {name} comes from valueFrom, which is not read: etcd uses it (and refuses to start if its flag is also given)"
                            )));
                        }
                    }
                    None => {
                        env.retain(|(n, _)| *n != name);
                        env.push((name, String::new()));
                    }
                }
            }
        }
        let strings = |key: &str| -> Vec<String> {
            match get(container, key) {
                Some(Node::Seq(items)) => items
                    .iter()
                    .map(|i| expand(&i.go_string().unwrap_or_default(), &env))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut argv = strings("command");
        argv.extend(strings("args"));
        let env_map: BTreeMap<String, String> = env.iter().cloned().collect();
        let Some(etcd) = find_etcd(&argv, &env_map) else {
            continue;
        };
        for note in &etcd.notes {
            problems.push(ConfigProblem::warning(format!("{shown}: {note}")));
        }
        let env_vars: Vec<EnvVar> = etcd
            .env
            .iter()
            .map(|(k, v)| EnvVar::new(k.clone(), v.clone(), origin.clone()))
            .collect();
        let mounts = mounts(spec, container, &shown, &mut problems);
        let cwd = get(container, "workingDir")
            .and_then(Node::go_string)
            .filter(|d| d.starts_with('/'))
            .map(PathBuf::from);
        let cwd = match (&etcd.cwd, cwd) {
            (Some(d), _) if d.starts_with('/') => Some(PathBuf::from(d)),
            (Some(d), Some(base)) => Some(base.join(d)),
            (_, cwd) => cwd,
        };
        let version = get(container, "image")
            .and_then(Node::go_string)
            .and_then(|image| image_version(&image));
        let mut config = resolve_env(
            &etcd.args,
            &env_vars,
            Place {
                origin: Origin::Manifest {
                    path: path.to_path_buf(),
                },
                root: PathBuf::from("/"),
                cwd,
                mounts,
            },
            version.as_deref(),
        );
        config.run_as = Some(run_as(spec, container));
        unmapped_paths(&config, &shown, &mut problems);
        problems.append(&mut config.problems);
        config.problems = problems;
        return Ok(config);
    }
    Err(ConfigError::NoEtcdContainer {
        path: path.to_path_buf(),
    })
}

/// A mapping's value (keys are case-sensitive in Kubernetes).
fn get<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match node {
        Node::Map(pairs) => pairs
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, Node::Str(s) if s == key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn number(node: Option<&Node>) -> Option<u32> {
    match node {
        Some(Node::Int(i)) => u32::try_from(*i).ok(),
        _ => None,
    }
}

/// Kubernetes' `$(VAR)` expansion (`expansion.Expand` with `MappingFuncFor`).
pub(crate) fn expand(input: &str, env: &[(String, String)]) -> String {
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if after.is_empty() {
            out.push('$');
            rest = after;
            break;
        }
        if let Some(more) = after.strip_prefix('$') {
            out.push('$');
            rest = more;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(close) => {
                    let name = &inner[..close];
                    match lookup(name) {
                        Some(v) => out.push_str(&v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[close + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `(mountPath, host path)` of the container's hostPath mounts, longest first.
fn mounts(
    spec: &Node,
    container: &Node,
    shown: &str,
    problems: &mut Vec<ConfigProblem>,
) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let Some(Node::Seq(list)) = get(container, "volumeMounts") else {
        return out;
    };
    let volumes = match get(spec, "volumes") {
        Some(Node::Seq(v)) => v.as_slice(),
        _ => &[],
    };
    for mount in list {
        let (Some(name), Some(at)) = (
            get(mount, "name").and_then(Node::go_string),
            get(mount, "mountPath").and_then(Node::go_string),
        ) else {
            continue;
        };
        let volume = volumes
            .iter()
            .find(|v| get(v, "name").and_then(Node::go_string).as_deref() == Some(name.as_str()));
        let host = volume
            .and_then(|v| get(v, "hostPath"))
            .and_then(|h| get(h, "path"))
            .and_then(Node::go_string);
        match host {
            Some(host) => {
                let mut host = PathBuf::from(host);
                if let Some(sub) = get(mount, "subPath").and_then(Node::go_string) {
                    if !sub.is_empty() {
                        host = host.join(sub);
                    }
                }
                out.push((PathBuf::from(at), host));
            }
            None => problems.push(ConfigProblem::warning(format!(
                "{shown}: the volume {name} mounted at {at} is not a hostPath: files under {at} cannot be read on the host"
            ))),
        }
    }
    out.sort_by(|a, b| {
        b.0.components()
            .count()
            .cmp(&a.0.components().count())
            .then(b.0.as_os_str().len().cmp(&a.0.as_os_str().len()))
    });
    out
}

/// Whom the container runs as.
fn run_as(spec: &Node, container: &Node) -> RunAs {
    let pod = get(spec, "securityContext");
    let own = get(container, "securityContext");
    let pick = |key: &str| {
        number(own.and_then(|s| get(s, key))).or_else(|| number(pod.and_then(|s| get(s, key))))
    };
    let uid = pick("runAsUser").unwrap_or(0);
    let gid = pick("runAsGroup").unwrap_or(0);
    let mut groups = Vec::new();
    if let Some(Node::Seq(list)) = pod.and_then(|s| get(s, "supplementalGroups")) {
        groups.extend(list.iter().filter_map(|n| number(Some(n))));
    }
    if let Some(fs) = number(pod.and_then(|s| get(s, "fsGroup"))) {
        groups.push(fs);
    }
    groups.sort_unstable();
    groups.dedup();
    RunAs {
        user: (uid == 0).then(|| "root".to_string()),
        uid,
        gid,
        groups,
    }
}

/// The etcd version of an image reference's tag: `3.5.16` of `registry.k8s.io/etcd:3.5.16-0`.
fn image_version(image: &str) -> Option<String> {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    let (_, tag) = last.split_once(':')?;
    Version::parse(tag).map(|v| v.to_string())
}

/// File settings outside every mount: inside the container's image, not on the host.
fn unmapped_paths(config: &MemberConfig, shown: &str, problems: &mut Vec<ConfigProblem>) {
    for key in [
        Key::DataDir,
        Key::CertFile,
        Key::KeyFile,
        Key::ClientCertFile,
        Key::ClientKeyFile,
        Key::TrustedCaFile,
        Key::ClientCrlFile,
        Key::PeerCertFile,
        Key::PeerKeyFile,
        Key::PeerClientCertFile,
        Key::PeerClientKeyFile,
        Key::PeerTrustedCaFile,
        Key::PeerCrlFile,
        Key::ConfigFile,
    ] {
        let Some(s) = config.get(key) else { continue };
        let path = Path::new(&s.value);
        if path.is_absolute()
            && !config
                .mounts
                .iter()
                .any(|(inside, _)| path.starts_with(inside))
        {
            problems.push(ConfigProblem::warning(format!(
                "{shown}: {} is under no hostPath volume: it is the container's own file, not one on the host",
                s.value
            )));
        }
    }
}

#[cfg(test)]
mod tests;

//! etcd's precedence between its command line, its `ETCD_*` environment and a config file, the
//! same in 3.4 and 3.5 (`etcdmain/config.go` v3.4.23 `parse` lines 278–324 and
//! `configFromCmdLine` 326–365; `server/etcdmain/config.go` v3.5.16 lines 320–437;
//! `pkg/flags/flag.go` `SetFlagsFromEnv`, `verifyEnv`, `setFlagFromEnv` in both):
//!
//! 1. The command line is parsed first ([`super::args`]); what it refuses stops etcd.
//! 2. The config file is `--config-file`, or, only when that is absent or empty, a non-empty
//!    `ETCD_CONFIG_FILE`. With one, etcd uses only the file: every other flag and every `ETCD_*`
//!    variable is ignored (no conflict check, no warnings).
//! 3. Without one, each flag not on the command line takes its `ETCD_*` variable when that is
//!    not empty (in flag-name order). A variable for a flag that *is* on the command line, even
//!    an empty one, makes etcd exit ("conflicting environment variable ... is shadowed by
//!    corresponding command-line flag") — etcd's documentation says the flag wins; its code
//!    exits. Other `ETCD_*` variables (unknown, or empty) are warned about and ignored.
//! 4. Then etcd's defaults, and its checks ([`super::validate`]).
//!
//! Relative paths (the config file's too) are relative to etcd's working directory. Go's
//! environment keeps the first of two entries with one name (`syscall` `copyenv`).
//!
//! A value set to the empty string is left out of [`MemberConfig::values`]: etcd treats an empty
//! path or list as unset (an empty URL list is even an accepted no-op that keeps the default,
//! `NewUniqueURLsWithExceptions(default, "")`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pki_core::display_path;

use super::args::{parse_args, ParsedArgs};
use super::keys::{all_flags, flag_to_env, FlagType};
use super::read::read_text;
use super::validate::{validate, Bootstrap};
use super::version::Version;
use super::yaml::read_config;
use super::{ConfigProblem, EnvOrigin, Key, MemberConfig, Origin, Source, Sourced};

/// An environment variable and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvVar {
    /// The name.
    pub(crate) name: String,
    /// The value.
    pub(crate) value: String,
    /// Where it was set.
    pub(crate) origin: EnvOrigin,
}

impl EnvVar {
    /// A variable.
    pub(crate) fn new(
        name: impl Into<String>,
        value: impl Into<String>,
        origin: EnvOrigin,
    ) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: value.into(),
            origin,
        }
    }
}

/// Where etcd runs: what paths are read through.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    /// What the configuration was found in.
    pub(crate) origin: Origin,
    /// `/`, or the process's root.
    pub(crate) root: PathBuf,
    /// etcd's working directory.
    pub(crate) cwd: Option<PathBuf>,
    /// Container paths mounted from the host.
    pub(crate) mounts: Vec<(PathBuf, PathBuf)>,
}

/// Resolves a member's configuration as etcd does: `args` are etcd's arguments (without the
/// program), `env` its environment (all of it, or only the `ETCD_*` part), set in
/// `env_origin`; the config file, if any, is read through `root` (`/` or `/proc/PID/root`)
/// relative to `cwd`; `version` (`3.5.16`) selects the flags and keys of that release, `None`
/// accepts those of 3.4 and 3.5.
pub fn resolve(
    args: &[String],
    env: &[(String, String)],
    env_origin: EnvOrigin,
    origin: Origin,
    root: &Path,
    cwd: Option<&Path>,
    version: Option<&str>,
) -> MemberConfig {
    let env: Vec<EnvVar> = env
        .iter()
        .map(|(name, value)| EnvVar::new(name.clone(), value.clone(), env_origin.clone()))
        .collect();
    let place = Place {
        origin,
        root: root.to_path_buf(),
        cwd: cwd.map(Path::to_path_buf),
        mounts: Vec::new(),
    };
    resolve_env(args, &env, place, version)
}

/// [`resolve`] with an origin per variable and the container mounts.
pub(crate) fn resolve_env(
    args: &[String],
    env: &[EnvVar],
    place: Place,
    version_text: Option<&str>,
) -> MemberConfig {
    let mut config = MemberConfig {
        origin: place.origin,
        root: place.root,
        cwd: place.cwd,
        host_cwd: None,
        mounts: place.mounts,
        run_as: None,
        version: version_text.map(str::to_string),
        values: BTreeMap::new(),
        problems: Vec::new(),
    };
    let version = match version_text {
        None => None,
        Some(text) => match Version::parse(text) {
            Some(v) if v.modelled() => Some(v),
            _ => {
                config.problems.push(ConfigProblem::warning(format!(
                    "etcd {text} is not a 3.4 or 3.5 release: its flags and config file are read as either line would read them"
                )));
                None
            }
        },
    };
    let parsed = parse_args(args, version);
    config.problems.extend(parsed.problems.iter().cloned());

    // Go's environment: the first entry of a name counts.
    let mut seen = BTreeSet::new();
    let env: Vec<&EnvVar> = env.iter().filter(|v| seen.insert(v.name.clone())).collect();
    let lookup = |name: &str| env.iter().copied().find(|v| v.name == name);

    let from_flag = parsed.last("config-file").filter(|f| !f.value.is_empty());
    let from_env = lookup("ETCD_CONFIG_FILE").filter(|v| !v.value.is_empty());
    if let Some(flag) = from_flag {
        let source = Source::Flag {
            text: flag.text.clone(),
        };
        let path = flag.value.clone();
        from_file(&mut config, &parsed, &env, &path, source, version);
    } else if let Some(var) = from_env {
        let source = Source::Env {
            var: var.name.clone(),
            origin: var.origin.clone(),
        };
        let path = var.value.clone();
        from_file(&mut config, &parsed, &env, &path, source, version);
    } else {
        from_command_line(&mut config, &parsed, &env, version);
    }
    config
}

/// The config file: only it counts.
fn from_file(
    config: &mut MemberConfig,
    parsed: &ParsedArgs,
    env: &[&EnvVar],
    path: &str,
    source: Source,
    version: Option<Version>,
) {
    config.values.insert(
        Key::ConfigFile,
        Sourced {
            value: path.to_string(),
            source,
        },
    );
    let named = match (&config.cwd, Path::new(path).is_absolute()) {
        (Some(cwd), false) => cwd.join(path),
        _ => PathBuf::from(path),
    };
    let shown = display_path(&named).into_owned();
    let text = match read_text(&config.host_path(Path::new(path))) {
        Ok(text) => Some(text),
        Err(e) => {
            config.problems.push(ConfigProblem::fatal(format!(
                "etcd cannot read its config file {shown}, and exits: {e}"
            )));
            None
        }
    };
    let ignored: Vec<&str> = parsed
        .flags
        .iter()
        .filter(|f| !matches!(f.spec.name, "config-file" | "version"))
        .map(|f| f.text.as_str())
        .collect();
    if !ignored.is_empty() {
        config.problems.push(ConfigProblem::warning(format!(
            "etcd reads only its config file {shown}, so these flags do nothing: {}",
            ignored.join(" ")
        )));
    }
    let ignored_env: Vec<&str> = env
        .iter()
        .filter(|v| v.name.starts_with("ETCD_") && v.name != "ETCD_CONFIG_FILE")
        .map(|v| v.name.as_str())
        .collect();
    if !ignored_env.is_empty() {
        config.problems.push(ConfigProblem::warning(format!(
            "etcd reads only its config file {shown}, so these environment variables do nothing: {}",
            ignored_env.join(" ")
        )));
    }
    apply_file(config, text.as_deref().unwrap_or(""), &named, version);
}

/// The settings of a config file's text (`named`: the file as etcd names it), etcd's
/// defaults for the rest, and etcd's checks.
pub(crate) fn apply_file(
    config: &mut MemberConfig,
    text: &str,
    named: &Path,
    version: Option<Version>,
) {
    let mut file = read_config(text, named, version);
    config.problems.append(&mut file.problems);
    config.values.append(&mut file.values);
    let top = |k: &str| file.top.get(k).cloned().unwrap_or_default();
    let bootstrap = Bootstrap {
        discovery: top("discovery"),
        discovery_srv: top("discovery-srv"),
        cluster_state: top("initial-cluster-state"),
    };
    let no_default_cluster = !bootstrap.discovery.is_empty()
        || !bootstrap.discovery_srv.is_empty()
        || file.top.contains_key("initial-cluster");
    apply_defaults(config, false, no_default_cluster);
    let problems = validate(&config.values, &bootstrap, version);
    config.problems.extend(problems);
}

/// The state of one flag's value while the command line and environment are applied.
struct Setting {
    value: String,
    source: Source,
    /// `flags.UniqueURLs.Values`: the URLs last set, or the accepted exception.
    urls: BTreeSet<String>,
}

/// Flags, then the environment for flags not given.
fn from_command_line(
    config: &mut MemberConfig,
    parsed: &ParsedArgs,
    env: &[&EnvVar],
    version: Option<Version>,
) {
    let mut settings: BTreeMap<&'static str, Setting> = BTreeMap::new();
    let set = |settings: &mut BTreeMap<&'static str, Setting>,
               name: &'static str,
               ty: FlagType,
               value: &str,
               source: Source| {
        let entry = settings.entry(name).or_insert_with(|| Setting {
            value: String::new(),
            source: Source::Default,
            urls: default_urls(name),
        });
        if let FlagType::Urls { allowed } = ty {
            // `UniqueURLs.Set`: a value already held, or the exception, changes nothing (the
            // default, given again, is still given).
            if entry.urls.contains(value) {
                if entry.source == Source::Default {
                    entry.value = value.to_string();
                    entry.source = source;
                }
                return;
            }
            if value == allowed {
                entry.urls.insert(value.to_string());
                return;
            }
            entry.urls = value.split(',').map(|u| u.trim().to_string()).collect();
        }
        entry.value = value.to_string();
        entry.source = source;
    };
    for flag in &parsed.flags {
        set(
            &mut settings,
            flag.spec.name,
            flag.spec.ty,
            &flag.value,
            Source::Flag {
                text: flag.text.clone(),
            },
        );
    }

    // SetFlagsFromEnv: every registered flag (Go's VisitAll order) not already set.
    let already: BTreeSet<String> = parsed
        .flags
        .iter()
        .map(|f| flag_to_env(f.spec.name))
        .collect();
    let mut used = BTreeSet::new();
    let mut env_set = BTreeSet::new();
    for spec in all_flags().iter().filter(|f| f.in_version(version)) {
        let key = flag_to_env(spec.name);
        if already.contains(&key) {
            continue;
        }
        let Some(var) = env.iter().find(|v| v.name == key) else {
            continue;
        };
        if var.value.is_empty() {
            continue;
        }
        used.insert(key.clone());
        if key == "ETCD_VERSION" {
            continue;
        }
        if let Err(why) = super::go_values::check_flag_value(spec.ty, &var.value) {
            config.problems.push(ConfigProblem::fatal(format!(
                "invalid value {} for {key}: {why} (etcd exits)",
                super::go_values::go_quote(&var.value)
            )));
            continue;
        }
        env_set.insert(spec.name);
        set(
            &mut settings,
            spec.name,
            spec.ty,
            &var.value,
            Source::Env {
                var: key,
                origin: var.origin.clone(),
            },
        );
    }

    // verifyEnv.
    for var in env {
        if var.name == "ETCD_VERSION" {
            if !var.value.is_empty() {
                config.problems.push(ConfigProblem::warning(
                    "ETCD_VERSION is ignored: etcd does not let the environment make it print its version (cannot set special environment variable)".into(),
                ));
            }
            continue;
        }
        if used.contains(&var.name) {
            continue;
        }
        if already.contains(&var.name) {
            let flag = parsed
                .flags
                .iter()
                .rev()
                .find(|f| flag_to_env(f.spec.name) == var.name)
                .map(|f| f.text.clone())
                .unwrap_or_default();
            config.problems.push(ConfigProblem::fatal(format!(
                "conflicting environment variable \"{}\" is shadowed by corresponding command-line flag (either unset environment variable or disable flag): etcd exits, whatever the values ({}={} and {flag})",
                var.name, var.name, var.value
            )));
            continue;
        }
        if var.name.starts_with("ETCD_") {
            let why = if var.value.is_empty()
                && all_flags()
                    .iter()
                    .any(|f| f.in_version(version) && flag_to_env(f.name) == var.name)
            {
                " (an empty value sets nothing)".to_string()
            } else {
                match (version, unknown_in(&var.name, version)) {
                    (Some(v), Some(flag)) => format!(" (--{flag} is not a flag of etcd {v})"),
                    _ => String::new(),
                }
            };
            config.problems.push(ConfigProblem::warning(format!(
                "unrecognized environment variable {}={}: etcd ignores it{why}",
                var.name, var.value
            )));
        }
    }

    for &key in Key::all() {
        let Some(flag) = key.info().flag else {
            continue;
        };
        if !key.flag_in(version) || key == Key::ConfigFile {
            continue;
        }
        if let Some(setting) = settings.get(flag) {
            // An empty value unsets a setting, except where etcd splits it on commas into
            // [""] (3.5.15+'s allowed CN/hostname lists, the cipher suites: `StringsValue`), or
            // it names the member.
            if setting.value.is_empty()
                && !matches!(
                    key,
                    Key::Name
                        | Key::CipherSuites
                        | Key::PeerCertAllowedCn
                        | Key::PeerCertAllowedHostname
                        | Key::ClientCertAllowedHostname
                )
            {
                continue;
            }
            if matches!(setting.source, Source::Default) {
                continue;
            }
            config.values.insert(
                key,
                Sourced {
                    value: setting.value.clone(),
                    source: setting.source.clone(),
                },
            );
        }
    }
    // Allowed CN/hostname were one string until 3.5.15 (`fs.StringVar`).
    for key in [
        Key::ClientCertAllowedHostname,
        Key::PeerCertAllowedCn,
        Key::PeerCertAllowedHostname,
    ] {
        let single = version.is_some_and(|v| v.minor == 4 || (v.minor == 5 && v.patch < 15));
        if let (true, Some(s)) = (single, config.values.get(&key)) {
            if s.value.contains(',') {
                let flag = key.info().flag.unwrap_or_default();
                let v = version.map(|v| v.to_string()).unwrap_or_default();
                config.problems.push(ConfigProblem::warning(format!(
                    "etcd {v} takes --{flag} as one value, not a list: \"{}\" is a single name with commas in it (lists came with 3.5.15)",
                    s.value
                )));
            }
        }
    }

    let text = |name: &str| {
        settings
            .get(name)
            .map(|s| s.value.clone())
            .unwrap_or_default()
    };
    let is_set = |name: &str| parsed.is_set(name) || env_set.contains(name);
    // `mayBeProxy`: proxy on, or discovery that may fall back to a proxy.
    let proxy = text("proxy");
    let may_be_proxy = (!proxy.is_empty() && proxy != "off")
        || (!text("discovery").is_empty() && text("discovery-fallback") == "proxy");
    let missing_advertise =
        is_set("listen-client-urls") && !is_set("advertise-client-urls") && !may_be_proxy;
    let discovery = !text("discovery").is_empty()
        || !text("discovery-srv").is_empty()
        || !text("discovery-srv-name").is_empty();
    let explicit_cluster = is_set("initial-cluster");
    apply_defaults(config, missing_advertise, discovery || explicit_cluster);
    if missing_advertise {
        config.problems.push(ConfigProblem::fatal(
            "--advertise-client-urls is required when --listen-client-urls is set explicitly (etcd exits)".into(),
        ));
    }
    let bootstrap = Bootstrap {
        discovery: text("discovery"),
        discovery_srv: text("discovery-srv"),
        cluster_state: text("initial-cluster-state"),
    };
    let problems = validate(&config.values, &bootstrap, version);
    config.problems.extend(problems);
}

/// The flag of an `ETCD_*` variable that exists in some release but not in `version`.
fn unknown_in(var: &str, version: Option<Version>) -> Option<&'static str> {
    all_flags()
        .iter()
        .find(|f| flag_to_env(f.name) == var && !f.in_version(version))
        .map(|f| f.name)
}

/// The default URL list of a `UniqueURLs` flag (`embed.DefaultListenPeerURLs` etc.).
fn default_urls(name: &str) -> BTreeSet<String> {
    let default = match name {
        "listen-peer-urls" | "initial-advertise-peer-urls" => "http://localhost:2380",
        "listen-client-urls" | "advertise-client-urls" => "http://localhost:2379",
        "cors" => "*",
        _ => return BTreeSet::new(),
    };
    std::iter::once(default.to_string()).collect()
}

/// etcd's defaults for what is not set: the name `default`, the localhost URLs
/// (`server/embed/config.go` v3.5.16 lines 54–67, 108–109), the data directory `<name>.etcd`
/// (`startEtcdOrProxyV2`, `server/etcdmain/etcd.go` lines 103–109), and the initial cluster of
/// `InitialClusterFromName` / `UpdateDefaultClusterFromName` (left out when etcd would put
/// the machine's default-route host in it: listen peer URL host `0.0.0.0` and the advertised
/// peer URL left to its default). `no_default_cluster`: the initial cluster was given (even
/// empty), or discovery replaces it.
fn apply_defaults(config: &mut MemberConfig, no_advertise_client: bool, no_default_cluster: bool) {
    let default = |value: &str| Sourced {
        value: value.to_string(),
        source: Source::Default,
    };
    let mut put = |key: Key, value: &str| {
        config.values.entry(key).or_insert_with(|| default(value));
    };
    put(Key::Name, "default");
    put(Key::ListenPeerUrls, "http://localhost:2380");
    put(Key::InitialAdvertisePeerUrls, "http://localhost:2380");
    put(Key::ListenClientUrls, "http://localhost:2379");
    if !no_advertise_client {
        put(Key::AdvertiseClientUrls, "http://localhost:2379");
    }
    let name = config
        .values
        .get(&Key::Name)
        .map(|s| s.value.clone())
        .unwrap_or_default();
    config
        .values
        .entry(Key::DataDir)
        .or_insert_with(|| default(&format!("{name}.etcd")));
    if no_default_cluster || config.values.contains_key(&Key::InitialCluster) {
        return;
    }
    let advertise = config
        .values
        .get(&Key::InitialAdvertisePeerUrls)
        .cloned()
        .unwrap_or_else(|| default("http://localhost:2380"));
    let listen_any = config
        .values
        .get(&Key::ListenPeerUrls)
        .and_then(|s| s.value.split(',').next().map(str::trim).map(str::to_string))
        .and_then(|u| super::go_values::parse_url(&u).ok())
        .is_some_and(|u| u.host.starts_with("0.0.0.0:"));
    let cluster = if name == "default" {
        // `NewConfig`'s value, which `UpdateDefaultClusterFromName` leaves for this name.
        "default=http://localhost:2380".to_string()
    } else if advertise.source == Source::Default && listen_any {
        return;
    } else {
        let name = if name.is_empty() {
            "default"
        } else {
            name.as_str()
        };
        let mut urls: Vec<String> = advertise
            .value
            .split(',')
            .map(|u| u.trim().to_string())
            .collect();
        urls.sort();
        urls.iter()
            .map(|u| format!("{name}={u}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    config.values.insert(Key::InitialCluster, default(&cluster));
}

#[cfg(test)]
mod tests;

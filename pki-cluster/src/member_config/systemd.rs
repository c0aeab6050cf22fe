//! A member started by a systemd service: the unit's `[Service]` section as systemd runs it
//! (systemd.service(5), systemd.exec(5)):
//!
//! * `Environment=` (quoted `NAME=value` words, C escapes, specifiers; an empty assignment
//!   resets the list) and `EnvironmentFile=` (`-` for optional files, absolute paths or
//!   globs; read in order, each overriding `Environment=` and the files before it;
//!   [`super::env_file`]) make the environment, which systemd both passes to the process and
//!   substitutes into `ExecStart=`;
//! * `ExecStart=` ([`super::exec`]) is followed to the etcd it starts, through a shell's `-c` or
//!   wrappers ([`super::command`]);
//! * `User=`, `Group=`, `SupplementaryGroups=` (looked up in `/etc/passwd` and `/etc/group`;
//!   root when unset) give whom etcd runs as, `WorkingDirectory=` (`/` when unset, `~` for the
//!   user's home) its working directory, `RootDirectory=` its root.
//!
//! Drop-ins (`etcd.service.d/*.conf`), `PassEnvironment=`, the manager's own environment and
//! `%` specifiers that need a running system (`%H`, `%m`, ...) are not read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pki_core::display_path;

use super::command::find_etcd;
use super::env_file::{parse_env_file, valid_name};
use super::exec::{expand_argv, next_word, parse_exec};
use super::read::{read_bytes, read_text};
use super::resolve::{resolve_env, EnvVar, Place};
use super::unit_file::{expand_specifiers, UnitFile};
use super::users::Accounts;
use super::{ConfigError, ConfigProblem, EnvOrigin, MemberConfig, Origin, RunAs};

/// The configuration of the etcd a systemd unit starts. `env_files`, when not empty, are read
/// instead of the unit's `EnvironmentFile=` list (for a unit whose files live elsewhere, or are
/// given as they would be on the member).
pub fn from_unit(unit: &Path, env_files: &[PathBuf]) -> Result<MemberConfig, ConfigError> {
    from_unit_with(unit, env_files, Path::new("/"))
}

/// [`from_unit`] with users and groups read under `accounts_root`.
pub(crate) fn from_unit_with(
    unit: &Path,
    env_files: &[PathBuf],
    accounts_root: &Path,
) -> Result<MemberConfig, ConfigError> {
    let text = read_text(unit)?;
    let file = UnitFile::parse(&text);
    if !file.has_section("Service") {
        return Err(ConfigError::NoService {
            path: unit.to_path_buf(),
        });
    }
    let shown = display_path(unit).into_owned();
    let mut problems = Problems {
        shown: shown.clone(),
        unit,
        list: Vec::new(),
    };

    // Environment=.
    let unit_origin = EnvOrigin::Unit {
        path: unit.to_path_buf(),
    };
    let mut env: BTreeMap<String, (String, EnvOrigin)> = BTreeMap::new();
    for (value, line) in file.values("Service", "Environment") {
        if value.is_empty() {
            env.clear();
            continue;
        }
        let mut rest = value;
        loop {
            match next_word(&mut rest, true) {
                Ok(Some(word)) => {
                    let word = problems.spec(&word);
                    match word.split_once('=') {
                        Some((name, v)) if valid_name(name) => {
                            env.insert(name.to_string(), (v.to_string(), unit_origin.clone()));
                        }
                        _ => problems.warn(format!(
                            "line {line}: systemd ignores the invalid environment assignment {word:?}"
                        )),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    problems.warn(format!(
                        "line {line}: systemd ignores Environment={value}: {e}"
                    ));
                    break;
                }
            }
        }
    }

    // EnvironmentFile=.
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    if env_files.is_empty() {
        for (value, line) in file.values("Service", "EnvironmentFile") {
            if value.is_empty() {
                files.clear();
                continue;
            }
            let value = problems.spec(value);
            let (path, optional) = match value.strip_prefix('-') {
                Some(p) => (p.to_string(), true),
                None => (value.clone(), false),
            };
            if !path.starts_with('/') {
                problems.warn(format!(
                    "line {line}: EnvironmentFile={value} is not an absolute path: systemd ignores it"
                ));
                continue;
            }
            for p in expand_glob(&path) {
                files.push((p, optional));
            }
        }
    } else {
        files = env_files.iter().map(|p| (p.clone(), false)).collect();
    }
    for (path, optional) in files {
        let bytes = match read_bytes(&path) {
            Ok(b) => b,
            Err(e) if !env_files.is_empty() => return Err(e),
            Err(ConfigError::Read { source, .. })
                if optional && source.kind() == std::io::ErrorKind::NotFound =>
            {
                continue
            }
            Err(e) => {
                problems.list.push(ConfigProblem::fatal(format!(
                    "{shown}: systemd cannot load the environment file, and does not start etcd: {e}"
                )));
                continue;
            }
        };
        let shown_file = display_path(&path).into_owned();
        match parse_env_file(&bytes) {
            Ok(parsed) => {
                for bad in parsed.ignored {
                    problems.list.push(ConfigProblem::warning(format!(
                        "{shown_file}: systemd ignores {bad:?}: not a valid variable name (no `export`, no spaces; letters, digits and _)"
                    )));
                }
                for (k, v) in parsed.vars {
                    env.insert(k, (v, EnvOrigin::EnvironmentFile { path: path.clone() }));
                }
            }
            Err(e) => problems.list.push(ConfigProblem::fatal(format!(
                "{shown_file}: systemd refuses the environment file ({e}), and does not start etcd"
            ))),
        }
    }
    let plain_env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect();

    // ExecStart=.
    let mut lines: Vec<String> = Vec::new();
    for (value, _) in file.values("Service", "ExecStart") {
        if value.is_empty() {
            lines.clear();
        } else {
            lines.push(value.to_string());
        }
    }
    let Some(first_line) = lines.first().cloned() else {
        return Err(ConfigError::NoExecStart {
            path: unit.to_path_buf(),
        });
    };
    let oneshot = file.last("Service", "Type") == Some("oneshot");
    if lines.len() > 1 && !oneshot {
        problems.list.push(ConfigProblem::fatal(format!(
            "{shown}: more than one ExecStart= is only allowed for Type=oneshot: systemd refuses the unit"
        )));
    }
    let mut found = None;
    let mut privileged = false;
    'lines: for line in &lines {
        let expanded = problems.spec(line);
        let commands = match parse_exec(&expanded) {
            Ok(c) => c,
            Err(e) => {
                problems.warn(format!("systemd ignores ExecStart={line}: {e}"));
                continue;
            }
        };
        for command in commands {
            let mut argv = if command.no_env_expand {
                command.argv.clone()
            } else {
                expand_argv(&command.argv, &plain_env)
            };
            if argv.is_empty() {
                continue;
            }
            // The program run is the path; `@` only changes argv[0].
            argv[0] = command.path.clone();
            if let Some(etcd) = find_etcd(&argv, &plain_env) {
                privileged = command.full_privileges;
                found = Some(etcd);
                break 'lines;
            }
        }
    }
    let Some(etcd) = found else {
        return Err(ConfigError::NoEtcdInUnit {
            path: unit.to_path_buf(),
            command: first_line,
        });
    };
    for note in &etcd.notes {
        problems
            .list
            .push(ConfigProblem::warning(format!("{shown}: {note}")));
    }

    // The process's environment, each variable with where it was set.
    let env_vars: Vec<EnvVar> = etcd
        .env
        .iter()
        .map(|(k, v)| {
            let origin = match env.get(k) {
                Some((uv, origin)) if uv == v && !etcd.assigned.contains(k) => origin.clone(),
                _ => unit_origin.clone(),
            };
            EnvVar::new(k.clone(), v.clone(), origin)
        })
        .collect();

    // Whom, where.
    let accounts = Accounts::read(accounts_root);
    let user_setting = file.last("Service", "User").map(|u| problems.spec(u));
    let dynamic = file
        .last("Service", "DynamicUser")
        .is_some_and(|v| matches!(v, "yes" | "true" | "1" | "on" | "y" | "t"));
    let user = user_setting
        .as_deref()
        .filter(|u| !u.is_empty())
        .and_then(|u| accounts.user(u));
    let mut run_as = None;
    if dynamic {
        problems.list.push(ConfigProblem::warning(format!(
            "{shown}: DynamicUser= gives etcd a user allocated when it starts: whom it runs as is not known from the unit"
        )));
    } else {
        match (&user_setting, &user) {
            (Some(name), None) if !name.is_empty() => problems.list.push(ConfigProblem::warning(format!(
                "{shown}: User={name} is not in /etc/passwd: whom etcd runs as is not known (systemd would refuse to start it unless another user database knows {name})"
            ))),
            _ => {
                let (name, uid, mut gid) = match &user {
                    Some(u) => (u.name.clone(), u.uid, u.gid),
                    None => ("root".to_string(), 0, 0),
                };
                if let Some(g) = file.last("Service", "Group").filter(|g| !g.is_empty()) {
                    match accounts.group(&problems.spec(g)) {
                        Some(id) => gid = id,
                        None => problems.list.push(ConfigProblem::warning(format!(
                            "{shown}: Group={g} is not in /etc/group"
                        ))),
                    }
                }
                let mut groups = if user.is_some() {
                    accounts.groups_of(&name, gid)
                } else {
                    Vec::new()
                };
                for (value, _) in file.values("Service", "SupplementaryGroups") {
                    if value.is_empty() {
                        continue;
                    }
                    for g in value.split_whitespace() {
                        match accounts.group(&problems.spec(g)) {
                            Some(id) => groups.push(id),
                            None => problems.list.push(ConfigProblem::warning(format!(
                                "{shown}: SupplementaryGroups={g} is not in /etc/group"
                            ))),
                        }
                    }
                }
                groups.sort_unstable();
                groups.dedup();
                run_as = Some(RunAs {
                    user: Some(name),
                    uid,
                    gid,
                    groups,
                });
            }
        }
    }
    if privileged {
        // `+`/`!`: User=, Group= and SupplementaryGroups= are not applied.
        run_as = Some(RunAs {
            user: Some("root".into()),
            uid: 0,
            gid: 0,
            groups: Vec::new(),
        });
    }
    let mut cwd = PathBuf::from("/");
    if let Some(dir) = file
        .last("Service", "WorkingDirectory")
        .filter(|d| !d.is_empty())
    {
        let dir = problems.spec(dir);
        let dir = dir.strip_prefix('-').unwrap_or(&dir).to_string();
        if dir == "~" {
            match &user {
                Some(u) => cwd = PathBuf::from(&u.home),
                None if user_setting.is_none() => cwd = PathBuf::from("/root"),
                None => {}
            }
        } else if dir.starts_with('/') {
            cwd = PathBuf::from(dir);
        }
    }
    if let Some(dir) = &etcd.cwd {
        cwd = if dir.starts_with('/') {
            PathBuf::from(dir)
        } else {
            cwd.join(dir)
        };
    }
    let root = file
        .last("Service", "RootDirectory")
        .filter(|r| r.starts_with('/'))
        .map_or_else(|| PathBuf::from("/"), PathBuf::from);

    let mut config = resolve_env(
        &etcd.args,
        &env_vars,
        Place {
            origin: Origin::Unit {
                path: unit.to_path_buf(),
            },
            root,
            cwd: Some(cwd),
            mounts: Vec::new(),
        },
        None,
    );
    config.run_as = run_as;
    problems.list.append(&mut config.problems);
    config.problems = problems.list;
    Ok(config)
}

/// The problems found on the way, and the unit they are about.
struct Problems<'a> {
    shown: String,
    unit: &'a Path,
    list: Vec<ConfigProblem>,
}

impl Problems<'_> {
    fn warn(&mut self, message: String) {
        self.list
            .push(ConfigProblem::warning(format!("{}: {message}", self.shown)));
    }

    /// The `%` specifiers of a setting expanded; those not expanded noted.
    fn spec(&mut self, text: &str) -> String {
        let (out, unknown) = expand_specifiers(text, self.unit);
        for u in unknown {
            self.warn(format!("the specifier {u} is not expanded by this tool"));
        }
        out
    }
}

/// The files a path with `*`, `?` or `[...]` in its last component names, sorted (as
/// `glob(3)`, which systemd uses); the path itself when it has none.
fn expand_glob(path: &str) -> Vec<PathBuf> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    if !name.contains(['*', '?', '[']) {
        return vec![PathBuf::from(path)];
    }
    let dir = if dir.is_empty() { "/" } else { dir };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            !n.starts_with('.') && fnmatch(name.as_bytes(), n.as_bytes())
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// `fnmatch(3)` without flags, for one path component.
fn fnmatch(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let (mut star_p, mut star_n) = (None, 0);
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star_p = Some(p);
                star_n = n;
                p += 1;
                continue;
            }
            Some(b'?') => {
                p += 1;
                n += 1;
                continue;
            }
            Some(b'[') => {
                if let Some((matched, len)) = bracket(&pattern[p..], name[n]) {
                    if matched {
                        p += len;
                        n += 1;
                        continue;
                    }
                } else if name[n] == b'[' {
                    p += 1;
                    n += 1;
                    continue;
                }
            }
            Some(&c) if c == name[n] => {
                p += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        match star_p {
            Some(sp) => {
                p = sp + 1;
                star_n += 1;
                n = star_n;
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at the start of `pattern`: whether `c` is in it, and its length.
fn bracket(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &lo = pattern.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&h| h != b']') {
            let hi = pattern[i + 2];
            matched |= lo <= c && c <= hi;
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests;

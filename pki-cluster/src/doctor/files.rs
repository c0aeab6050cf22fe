//! The files a member names, as etcd's user will meet them: there, a regular file (a FIFO is
//! never opened), readable by the user etcd runs as, in the form etcd reads; keys not readable
//! by others. Paths are read where the member sees them (its working directory, a container's
//! mounts or root).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use pki_core::{CheckId, Finding, Remedy, Subject};
use zeroize::Zeroizing;

use crate::member_config::{Key, MemberConfig, RunAs, Source};

/// A file setting's file, read.
pub(crate) struct SettingFile {
    /// The path as configured.
    pub(crate) configured: PathBuf,
    /// Its bytes (zeroed when dropped).
    pub(crate) bytes: Zeroizing<Vec<u8>>,
}

/// How a setting is named in messages: `--cert-file /etc/etcd/server.pem (ETCD_CERT_FILE in
/// /etc/etcd/etcd.env)`.
pub(crate) fn setting_text(config: &MemberConfig, key: Key) -> String {
    let Some(value) = config.get(key) else {
        return flag(key);
    };
    let from = match &value.source {
        Source::Flag { .. } => "flag".to_string(),
        Source::Env { var, origin } => format!("{var}{}", env_origin_text(origin)),
        Source::ConfigFile { path, key } => {
            format!("{key} in {}", pki_core::display_path(path))
        }
        Source::Default => "etcd's default".into(),
    };
    format!("{} {} ({from})", flag(key), value.value)
}

fn env_origin_text(origin: &crate::member_config::EnvOrigin) -> String {
    use crate::member_config::EnvOrigin;
    match origin {
        EnvOrigin::Process => " in the process's environment".into(),
        EnvOrigin::Unit { path } => format!(" in {}", pki_core::display_path(path)),
        EnvOrigin::EnvironmentFile { path } => format!(" in {}", pki_core::display_path(path)),
        EnvOrigin::Manifest { path } => format!(" in {}", pki_core::display_path(path)),
        EnvOrigin::Given => String::new(),
    }
}

/// `--cert-file`, or the YAML key for settings without a flag.
pub(crate) fn flag(key: Key) -> String {
    let info = key.info();
    match (info.flag, info.yaml) {
        (Some(f), _) => format!("--{f}"),
        (None, Some(y)) => y.to_string(),
        (None, None) => format!("{key:?}"),
    }
}

/// Reads the file a setting names, adding a FAIL for each way etcd could not read it and a
/// key-permission finding for keys. `None` when it cannot be read.
pub(crate) fn read_setting(
    config: &MemberConfig,
    key: Key,
    subject: &Subject,
    secret: bool,
    findings: &mut Vec<Finding>,
) -> Option<SettingFile> {
    let value = config.get(key)?;
    if value.value.is_empty() {
        return None;
    }
    let configured = PathBuf::from(&value.value);
    let host = config.host_path(&configured);
    let what = setting_text(config, key);
    let fail = |message: String, remedy: Remedy| {
        Finding::fail(CheckId::FileAccess, message)
            .about(subject.clone())
            .remedy(remedy)
    };
    let meta = match std::fs::metadata(&host) {
        Ok(m) => m,
        Err(e) => {
            findings.push(fail(
                format!(
                    "{what}: {} cannot be read here: {e}",
                    pki_core::display_path(&host)
                ),
                Remedy::Advice {
                    text: format!(
                        "put the file etcd expects at {}, or correct the setting",
                        pki_core::display_path(&configured)
                    ),
                },
            ));
            return None;
        }
    };
    if let Some(kind) = pki_core::FileKind::of(&meta) {
        findings.push(fail(
            format!("{what}: it is {kind}, not a regular file"),
            Remedy::Advice {
                text: "give etcd the path of a regular file".into(),
            },
        ));
        return None;
    }
    let bytes = match pki_core::read_file(&host) {
        Ok(b) => Zeroizing::new(b),
        Err(e) => {
            findings.push(fail(
                format!("{what}: {e}"),
                Remedy::Advice {
                    text: "make the file readable where etcd runs".into(),
                },
            ));
            return None;
        }
    };
    match &config.run_as {
        Some(run_as) if unreachable_dir(&host, run_as).is_some() => {
            let (dir, dmeta) = unreachable_dir(&host, run_as).unwrap_or_default();
            findings.push(fail(
                format!(
                    "{what}: etcd runs as {}, which cannot reach it: the directory {} is not searchable by it (owner {}:{}, mode {:04o})",
                    run_as_text(run_as),
                    pki_core::display_path(&dir),
                    dmeta.0,
                    dmeta.1,
                    dmeta.2 & 0o7777
                ),
                Remedy::Advice {
                    text: format!(
                        "let etcd's user search {} (chmod o+x, or a group etcd is in)",
                        pki_core::display_path(&dir)
                    ),
                },
            ));
        }
        Some(run_as) if !readable_by(&meta, run_as) => {
            findings.push(fail(
                format!(
                    "{what}: etcd runs as {}, which cannot read it (owner {}:{}, mode {:04o})",
                    run_as_text(run_as),
                    meta.uid(),
                    meta.gid(),
                    meta.mode() & 0o7777
                ),
                Remedy::Advice {
                    text: format!(
                        "let etcd's user read it: chown {}:{} {} (keys: chmod 600; certificates: chmod 644)",
                        run_as.user.clone().unwrap_or_else(|| run_as.uid.to_string()),
                        run_as.gid,
                        pki_core::display_path(&host)
                    ),
                },
            ));
        }
        _ => {}
    }
    if secret {
        let mode = meta.mode() & 0o7777;
        if mode & 0o004 != 0 {
            findings.push(
                Finding::fail(
                    CheckId::KeyProtection,
                    format!(
                        "{what}: the private key is readable by every user of this host (mode {mode:04o}): anyone here can impersonate the member"
                    ),
                )
                .about(subject.clone())
                .remedy(Remedy::Advice {
                    text: format!("chmod 600 {} (or 640 with etcd's group)", pki_core::display_path(&host)),
                }),
            );
        } else {
            findings.push(
                Finding::pass(
                    CheckId::KeyProtection,
                    format!("{what}: not readable by others (mode {mode:04o})"),
                )
                .about(subject.clone()),
            );
        }
    }
    Some(SettingFile { configured, bytes })
}

/// The first directory on the way to `path` that `who` may not search (no `x` for it), with
/// its owner, group and mode.
pub(crate) fn unreachable_dir(
    path: &std::path::Path,
    who: &RunAs,
) -> Option<(PathBuf, (u32, u32, u32))> {
    if who.uid == 0 {
        return None;
    }
    let full = std::fs::canonicalize(path).ok()?;
    let mut dirs: Vec<&std::path::Path> = full.ancestors().skip(1).collect();
    dirs.reverse();
    for dir in dirs {
        let meta = std::fs::metadata(dir).ok()?;
        let mode = meta.mode();
        let bit = if meta.uid() == who.uid {
            0o100
        } else if meta.gid() == who.gid || who.groups.contains(&meta.gid()) {
            0o010
        } else {
            0o001
        };
        if mode & bit == 0 {
            return Some((dir.to_path_buf(), (meta.uid(), meta.gid(), mode)));
        }
    }
    None
}

/// Whether a user can read a file by its mode bits (root always can).
pub(crate) fn readable_by(meta: &std::fs::Metadata, who: &RunAs) -> bool {
    let mode = meta.mode();
    if who.uid == 0 {
        return true;
    }
    if meta.uid() == who.uid {
        return mode & 0o400 != 0;
    }
    if meta.gid() == who.gid || who.groups.contains(&meta.gid()) {
        return mode & 0o040 != 0;
    }
    mode & 0o004 != 0
}

fn run_as_text(run_as: &RunAs) -> String {
    match &run_as.user {
        Some(u) => format!("{u} (uid {})", run_as.uid),
        None => format!("uid {}", run_as.uid),
    }
}

//! Where a rotation finds each member's files: a directory per member on the admin host
//! (`--members-dir`, each subdirectory named after a member, its files judged by content as
//! pki-core's `member_files` does), or one directory every member shares (the runbook's layout),
//! or the files of the members running on this host, as `doctor` finds them.

use std::path::{Path, PathBuf};

use pki_core::MemberFiles;

use super::{RotationFile, RotationTarget, Serves};
use crate::member_config::{Key, MemberConfig};
use crate::state::MemberInfo;

/// The members' directories under `dir`: a subdirectory per member named after it, or, when no
/// subdirectory is a member's, `dir` itself shared by every member. `(member names, directory)`.
pub(crate) fn member_dirs(dir: &Path, members: &[MemberInfo]) -> Vec<(Vec<String>, PathBuf)> {
    let named: Vec<&MemberInfo> = members
        .iter()
        .filter(|m| !m.name.is_empty() && dir.join(&m.name).is_dir())
        .collect();
    if named.is_empty() {
        return vec![(
            members
                .iter()
                .filter(|m| !m.name.is_empty())
                .map(|m| m.name.clone())
                .collect(),
            dir.to_path_buf(),
        )];
    }
    named
        .into_iter()
        .map(|m| (vec![m.name.clone()], dir.join(&m.name)))
        .collect()
}

/// The targets of a members directory: a subdirectory per member named after it, or, when no
/// subdirectory is a member's, the directory itself shared by every member; each file's role
/// judged by content.
pub fn targets_from_dir(
    dir: &Path,
    members: &[MemberInfo],
) -> pki_core::Result<Vec<RotationTarget>> {
    member_dirs(dir, members)
        .into_iter()
        .map(|(members, sub)| {
            let files = pki_core::member_files(&sub)?;
            Ok(RotationTarget {
                members,
                dir: Some(sub.clone()),
                files: rotation_files(&sub, &files),
            })
        })
        .collect()
}

/// A member directory's roles as rotation files (one file serving both ports once).
fn rotation_files(dir: &Path, roles: &MemberFiles) -> Vec<RotationFile> {
    let mut out: Vec<RotationFile> = Vec::new();
    let mut add = |cert: PathBuf, key: PathBuf, serves: Serves| {
        if let Some(existing) = out.iter_mut().find(|f| f.cert == cert) {
            existing.serves = match (existing.serves, serves) {
                (Serves::Client, Serves::Peer) | (Serves::Peer, Serves::Client) => Serves::Both,
                (s, _) => s,
            };
            return;
        }
        out.push(RotationFile::new(cert, Some(key), serves));
    };
    if let Some(s) = &roles.server {
        add(dir.join(&s.cert), dir.join(&s.key), Serves::Client);
    }
    if let Some(p) = &roles.peer {
        add(dir.join(&p.cert), dir.join(&p.key), Serves::Peer);
    }
    if let Some(c) = &roles.client {
        add(dir.join(&c.cert), dir.join(&c.key), Serves::Nowhere);
    }
    out
}

/// The targets of members found on this host (their own files, where they read them).
pub fn targets_from_configs(configs: &[MemberConfig]) -> Vec<RotationTarget> {
    configs
        .iter()
        .map(|c| {
            let path = |k: Key| {
                c.get(k)
                    .filter(|v| !v.value.is_empty())
                    .map(|v| c.host_path(Path::new(&v.value)))
            };
            let mut files: Vec<RotationFile> = Vec::new();
            for (cert, key, serves) in [
                (Key::CertFile, Key::KeyFile, Serves::Client),
                (Key::PeerCertFile, Key::PeerKeyFile, Serves::Peer),
                (Key::ClientCertFile, Key::ClientKeyFile, Serves::Nowhere),
                (
                    Key::PeerClientCertFile,
                    Key::PeerClientKeyFile,
                    Serves::Nowhere,
                ),
            ] {
                let Some(cert) = path(cert) else { continue };
                if let Some(existing) = files.iter_mut().find(|f| f.cert == cert) {
                    if matches!((existing.serves, serves), (Serves::Client, Serves::Peer)) {
                        existing.serves = Serves::Both;
                    }
                    continue;
                }
                files.push(RotationFile::new(cert, path(key), serves));
            }
            RotationTarget {
                members: vec![c.name()],
                dir: None,
                files,
            }
        })
        .collect()
}

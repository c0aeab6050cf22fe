//! `etcd-pki config NAME --peer-urls URL`: a node's etcd.env, etcd.conf and etcd.service, and
//! the other nodes' CLUSTER line, built from the cluster's member list (printed, or written into
//! a directory). `scale-out` writes the same files with [`write_node_files`].

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use pki_core::display_path;
use pki_core::write::{write_all, FileWrite};

use super::preflight::Urls;
use crate::cli::{ConfigArgs, NodeArgs};
use crate::etcd::connect::{block_on, Etcd};
use crate::etcd::state::{member_list, MemberList};
use crate::exit::{usage, Outcome, Result};
use crate::membership::normalise_url;
use crate::nodefiles::{
    cluster_line, env_file, etcd_conf, existing_nodes_file, systemd_unit, Node,
};
use crate::output::print;

/// Where the runbook keeps the node's configuration; the unit reads it from there.
const CONF_PATH: &str = "/etc/etcd/etcd.conf";

pub fn run(args: &ConfigArgs) -> Result<Outcome> {
    let etcd = Etcd::from_args(&args.connection)?;
    let urls = Urls::from_strings(&args.peer_urls, &args.client_urls)?;
    let list = block_on(member_list(&etcd))??;
    let files = node_files(&args.name, &urls, &list, &args.node);
    match &args.out {
        Some(out) => {
            let dir = write_node_files(out, &files)?;
            print(&format!(
                "wrote {} for {}: etcd.env, etcd.conf, etcd.service, existing-nodes.txt\n",
                display_path(&dir),
                args.name
            ))?;
        }
        None => {
            let mut text = String::new();
            for (name, content) in &files.files {
                text.push_str(&format!("# ----- {name} -----\n{content}\n"));
            }
            print(&text)?;
        }
    }
    Ok(Outcome::Ok)
}

/// A node's files, by file name, and the directory name they go in.
pub struct NodeFiles {
    /// The node's name.
    pub name: String,
    /// `(file name, content)`.
    pub files: Vec<(&'static str, String)>,
}

/// Builds the files for `name` joining (or already in) the cluster of `list`: its CLUSTER line
/// is every other member plus it, `CLUSTER_STATE=existing`.
pub fn node_files(name: &str, urls: &Urls, list: &MemberList, node_args: &NodeArgs) -> NodeFiles {
    let node = Node {
        name: name.to_string(),
        peer_urls: urls.peer.clone(),
        client_urls: urls.client.clone(),
    };
    let is_this_node = |peer_urls: &[String]| {
        peer_urls.iter().any(|p| {
            urls.peer
                .iter()
                .any(|u| normalise_url(&u.url) == normalise_url(p))
        })
    };
    let mut members: Vec<(String, Vec<String>)> = list
        .members
        .iter()
        .filter(|m| !is_this_node(&m.peer_urls))
        .map(|m| (m.name.clone(), m.peer_urls.clone()))
        .collect();
    let mut others: Vec<String> = members
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| !n.is_empty())
        .collect();
    others.sort();
    members.push((
        name.to_string(),
        urls.peer.iter().map(|u| u.url.clone()).collect(),
    ));
    let cluster = cluster_line(&members);
    NodeFiles {
        name: name.to_string(),
        files: vec![
            ("etcd.env", env_file(&node, &cluster, "existing")),
            (
                "etcd.conf",
                etcd_conf(&node, node_args, &cluster, "existing"),
            ),
            (
                "etcd.service",
                systemd_unit(&node, node_args, Path::new(CONF_PATH)),
            ),
            ("existing-nodes.txt", existing_nodes_file(&others, &cluster)),
        ],
    }
}

/// Writes the files into `out/NAME/`, atomically, keeping backups of files they replace.
pub fn write_node_files(out: &Path, files: &NodeFiles) -> Result<PathBuf> {
    let dir = out.join(&files.name);
    std::fs::create_dir_all(&dir)
        .map_err(|e| usage(anyhow!("cannot create {}: {e}", display_path(&dir))))?;
    let writes: Vec<FileWrite> = files
        .files
        .iter()
        .map(|(name, content)| FileWrite::public(dir.join(name), content.clone()))
        .collect();
    write_all(&writes)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::state::MemberInfo;

    fn member(id: u64, name: &str, peer: &str) -> MemberInfo {
        MemberInfo {
            id,
            name: name.into(),
            peer_urls: vec![peer.into()],
            client_urls: vec![],
            is_learner: false,
        }
    }

    fn args() -> NodeArgs {
        NodeArgs {
            data_dir: "/data/etcd".into(),
            pki_dir: "/etc/kubernetes/pki/etcd".into(),
            etcd_binary: "/usr/bin/etcd".into(),
            token: "t".into(),
        }
    }

    fn file<'a>(files: &'a NodeFiles, name: &str) -> &'a str {
        &files.files.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn the_new_node_joins_the_listed_members_once() {
        let list = MemberList {
            cluster_id: 1,
            member_id: 2,
            raft_term: 3,
            members: vec![
                member(9, "infra2", "https://10.0.13.126:2380"),
                member(3, "infra0", "https://10.0.11.36:2380"),
                member(5, "infra1", "https://10.0.12.21:2380"),
                // The new node itself, added as a learner and not started (no name yet): a
                // resumed scale-out must not list it twice.
                member(7, "", "https://10.0.12.157:2380"),
            ],
        };
        let urls = Urls::from_strings(&["https://10.0.12.157:2380".into()], &[]).unwrap();
        let files = node_files("infra3", &urls, &list, &args());
        let cluster = "infra0=https://10.0.11.36:2380,infra1=https://10.0.12.21:2380,infra2=https://10.0.13.126:2380,infra3=https://10.0.12.157:2380";
        assert!(file(&files, "etcd.conf")
            .contains(&format!("\nCLUSTER={cluster}\nCLUSTER_STATE=existing\n")));
        assert!(file(&files, "etcd.env").contains(&format!("ETCD_INITIAL_CLUSTER=\"{cluster}\"")));
        let existing = file(&files, "existing-nodes.txt");
        let nodes: Vec<&str> = existing
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(nodes, ["infra0", "infra1", "infra2"]);
        assert!(file(&files, "etcd.service")
            .contains("--listen-client-urls https://127.0.0.1:2379,https://${HOST_IP}:2379"));
    }
}

//! The files a node needs to join (and that the other nodes need after a change), in the
//! runbook's shapes: the `ETCD_*` environment `member add` prints, `/etc/etcd/etcd.conf`
//! (`DATA_DIR`, `HOST_NAME`, `HOST_IP`, `CLUSTER`, `CLUSTER_STATE`, `TOKEN`), and an
//! `etcd.service` unit like the runbook's, whose `ExecStart` reads them. Pure text; nothing here
//! touches the network, and only [`write_node_files`] the disk.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pki_core::write::FileWrite;
use pki_core::{Host, HostUrl};

use crate::rules::normalise_url;
use crate::state::MemberList;
use crate::urls::MemberUrls;

/// Where and how a node runs, for the files: its data directory, where its PKI files are, the
/// etcd binary, and the cluster's token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeSettings {
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// Where the node keeps its PKI files (the runbook's cfssl names).
    pub pki_dir: PathBuf,
    /// The etcd binary the unit runs.
    pub etcd_binary: PathBuf,
    /// `--initial-cluster-token`.
    pub token: String,
    /// The names of the PKI files in `pki_dir`.
    pub pki_names: PkiNames,
}

/// The names of a node's PKI files, relative to its PKI directory: the runbook's cfssl names by
/// default, or those of the files issued for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PkiNames {
    /// `--trusted-ca-file` and `--peer-trusted-ca-file`.
    pub ca: PathBuf,
    /// `--cert-file`.
    pub server: PathBuf,
    /// `--key-file`.
    pub server_key: PathBuf,
    /// `--peer-cert-file`.
    pub peer: PathBuf,
    /// `--peer-key-file`.
    pub peer_key: PathBuf,
}

impl Default for PkiNames {
    /// `ca.pem`, `server.pem`, `server-key.pem`, `members.pem`, `members-key.pem`.
    fn default() -> PkiNames {
        PkiNames {
            ca: "ca.pem".into(),
            server: "server.pem".into(),
            server_key: "server-key.pem".into(),
            peer: "members.pem".into(),
            peer_key: "members-key.pem".into(),
        }
    }
}

impl PkiNames {
    /// The names of a member's files as pki-core judged them, when the CA, server and peer files
    /// were all recognised.
    pub fn from_member_files(files: &pki_core::MemberFiles) -> Option<PkiNames> {
        let (ca, server, peer) = (
            files.trusted_ca.as_ref()?,
            files.server.as_ref()?,
            files.peer.as_ref()?,
        );
        Some(PkiNames {
            ca: ca.clone(),
            server: server.cert.clone(),
            server_key: server.key.clone(),
            peer: peer.cert.clone(),
            peer_key: peer.key.clone(),
        })
    }
}

impl Default for NodeSettings {
    /// The runbook's: `/data/etcd`, `/etc/kubernetes/pki/etcd`, `/usr/bin/etcd`,
    /// `etcd-cluster`.
    fn default() -> NodeSettings {
        NodeSettings {
            data_dir: PathBuf::from("/data/etcd"),
            pki_dir: PathBuf::from("/etc/kubernetes/pki/etcd"),
            etcd_binary: PathBuf::from("/usr/bin/etcd"),
            token: "etcd-cluster".into(),
            pki_names: PkiNames::default(),
        }
    }
}

impl NodeSettings {
    /// Settings with these values.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        pki_dir: impl Into<PathBuf>,
        etcd_binary: impl Into<PathBuf>,
        token: impl Into<String>,
    ) -> NodeSettings {
        NodeSettings {
            data_dir: data_dir.into(),
            pki_dir: pki_dir.into(),
            etcd_binary: etcd_binary.into(),
            token: token.into(),
            pki_names: PkiNames::default(),
        }
    }

    /// The names of the PKI files in the PKI directory.
    #[must_use]
    pub fn pki_names(mut self, names: PkiNames) -> NodeSettings {
        self.pki_names = names;
        self
    }
}

/// A node as the files describe it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Node {
    /// `--name`.
    pub name: String,
    /// Peer URLs.
    pub peer_urls: Vec<HostUrl>,
    /// Client URLs.
    pub client_urls: Vec<HostUrl>,
}

impl Node {
    /// The host of the first peer URL (the runbook's `HOST_IP`).
    pub fn host(&self) -> String {
        self.peer_urls
            .first()
            .map(|u| u.host.to_string())
            .unwrap_or_default()
    }
}

/// `infra0=https://...,infra1=https://...` from `(name, peer URLs)`, sorted by name as the
/// runbook writes it.
pub fn cluster_line(members: &[(String, Vec<String>)]) -> String {
    let mut entries: Vec<String> = members
        .iter()
        .flat_map(|(name, urls)| urls.iter().map(move |u| format!("{name}={u}")))
        .collect();
    entries.sort();
    entries.join(",")
}

/// The `ETCD_*` environment file (`member add`'s output, as a systemd EnvironmentFile).
pub fn env_file(node: &Node, cluster: &str, state: &str) -> String {
    format!(
        "ETCD_NAME=\"{}\"\nETCD_INITIAL_CLUSTER=\"{cluster}\"\nETCD_INITIAL_ADVERTISE_PEER_URLS=\"{}\"\nETCD_INITIAL_CLUSTER_STATE=\"{state}\"\n",
        node.name,
        urls(&node.peer_urls)
    )
}

/// The runbook's `/etc/etcd/etcd.conf`.
pub fn etcd_conf(node: &Node, args: &NodeSettings, cluster: &str, state: &str) -> String {
    format!(
        "DATA_DIR={}\nHOST_NAME={}\nHOST_IP={}\nCLUSTER={cluster}\nCLUSTER_STATE={state}\nTOKEN={}\n",
        args.data_dir.display(),
        node.name,
        node.host(),
        args.token
    )
}

/// The paths of a node's PKI files.
pub struct PkiFiles {
    /// `--trusted-ca-file` and `--peer-trusted-ca-file`.
    pub ca: PathBuf,
    /// `--cert-file`.
    pub server: PathBuf,
    /// `--key-file`.
    pub server_key: PathBuf,
    /// `--peer-cert-file`.
    pub peer: PathBuf,
    /// `--peer-key-file`.
    pub peer_key: PathBuf,
}

impl PkiFiles {
    /// The files named `names` under `dir`.
    pub fn in_dir(dir: &Path, names: &PkiNames) -> PkiFiles {
        PkiFiles {
            ca: dir.join(&names.ca),
            server: dir.join(&names.server),
            server_key: dir.join(&names.server_key),
            peer: dir.join(&names.peer),
            peer_key: dir.join(&names.peer_key),
        }
    }
}

/// A systemd unit like the runbook's: `EnvironmentFile=-/etc/etcd/etcd.conf` and an
/// `ExecStart` that builds the flags from it, with mutual TLS on both ports. It also listens on
/// 127.0.0.1 for local clients, as the runbook does, unless the node's own address is loopback.
pub fn systemd_unit(node: &Node, args: &NodeSettings, conf_path: &Path) -> String {
    let pki = PkiFiles::in_dir(&args.pki_dir, &args.pki_names);
    let scheme = |u: Option<&HostUrl>| u.map_or("https".to_string(), |u| u.scheme.clone());
    let peer_scheme = scheme(node.peer_urls.first());
    let client_scheme = scheme(node.client_urls.first());
    let peer_port = node.peer_urls.first().and_then(|u| u.port).unwrap_or(2380);
    let client_port = node
        .client_urls
        .first()
        .and_then(|u| u.port)
        .unwrap_or(2379);
    let host_ref = if node
        .peer_urls
        .first()
        .is_some_and(|u| matches!(u.host, Host::Ip(IpAddr::V6(_))))
    {
        "[${HOST_IP}]"
    } else {
        "${HOST_IP}"
    };
    let loopback = match node.peer_urls.first().map(|u| &u.host) {
        Some(Host::Ip(ip)) => ip.is_loopback(),
        Some(Host::Dns(d)) => d == "localhost",
        None => false,
    };
    let listen_clients = if loopback {
        format!("{client_scheme}://{host_ref}:{client_port}")
    } else {
        format!(
            "{client_scheme}://127.0.0.1:{client_port},{client_scheme}://{host_ref}:{client_port}"
        )
    };
    let tls = if peer_scheme == "https" || client_scheme == "https" {
        format!(
            " \\\n          --client-cert-auth \\\n          --trusted-ca-file={ca} \\\n          --cert-file={server} \\\n          --key-file={server_key} \\\n          --peer-client-cert-auth \\\n          --peer-trusted-ca-file={ca} \\\n          --peer-cert-file={peer} \\\n          --peer-key-file={peer_key}",
            ca = pki.ca.display(),
            server = pki.server.display(),
            server_key = pki.server_key.display(),
            peer = pki.peer.display(),
            peer_key = pki.peer_key.display(),
        )
    } else {
        String::new()
    };
    format!(
        "[Unit]
Description=Etcd Server
After=network.target
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
WorkingDirectory={data_dir}
EnvironmentFile=-{conf}
User=etcd
# set GOMAXPROCS to number of processors
ExecStart=/bin/bash -c \"GOMAXPROCS=$(nproc) exec {etcd} \\
          --data-dir ${{DATA_DIR}} \\
          --name ${{HOST_NAME}} \\
          --initial-advertise-peer-urls {peer_scheme}://{host_ref}:{peer_port} \\
          --listen-peer-urls {peer_scheme}://{host_ref}:{peer_port} \\
          --advertise-client-urls {client_scheme}://{host_ref}:{client_port} \\
          --listen-client-urls {listen_clients} \\
          --initial-cluster ${{CLUSTER}} \\
          --initial-cluster-state ${{CLUSTER_STATE}} \\
          --initial-cluster-token ${{TOKEN}}{tls}\"
Restart=on-failure
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
",
        data_dir = args.data_dir.display(),
        conf = conf_path.display(),
        etcd = args.etcd_binary.display(),
    )
}

/// The new CLUSTER line every other node's etcd.conf needs, one line per node.
pub fn existing_nodes_file(nodes: &[String], cluster: &str) -> String {
    let mut text = String::from(
        "# Each existing node's /etc/etcd/etcd.conf gets this CLUSTER line (runbook: \"修改每个节点上的/etc/etcd/etcd.conf\").\n# etcd reads it only when a node's data directory is new; keep the files in step for the day a node is rebuilt.\n",
    );
    for node in nodes {
        text.push_str(&format!("{node}: CLUSTER={cluster}\n"));
    }
    text
}

fn urls(urls: &[HostUrl]) -> String {
    urls.iter()
        .map(|u| u.url.clone())
        .collect::<Vec<_>>()
        .join(",")
}

/// Where the runbook keeps the node's configuration; the unit reads it from there.
const CONF_PATH: &str = "/etc/etcd/etcd.conf";

/// A node's files, by file name, and the directory name they go in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NodeFiles {
    /// The node's name.
    pub name: String,
    /// `(file name, content)`.
    pub files: Vec<(&'static str, String)>,
}

/// Builds the files for `name` joining (or already in) the cluster of `list`: its CLUSTER line
/// is every other member plus it, `CLUSTER_STATE=existing`.
pub fn node_files(
    name: &str,
    urls: &MemberUrls,
    list: &MemberList,
    node_args: &NodeSettings,
) -> NodeFiles {
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

/// Builds the files for member `this` of a new cluster of `members` (`(name, URLs)`, `this`
/// among them): `CLUSTER_STATE=new`, every member in its CLUSTER line. A restore from a snapshot
/// starts its members with these.
pub fn new_cluster_node_files(
    this: &str,
    members: &[(String, MemberUrls)],
    node_args: &NodeSettings,
) -> NodeFiles {
    let urls = members
        .iter()
        .find(|(name, _)| name == this)
        .map(|(_, u)| u.clone())
        .unwrap_or(MemberUrls {
            peer: Vec::new(),
            client: Vec::new(),
        });
    let node = Node {
        name: this.to_string(),
        peer_urls: urls.peer.clone(),
        client_urls: urls.client.clone(),
    };
    let lines: Vec<(String, Vec<String>)> = members
        .iter()
        .map(|(name, u)| (name.clone(), u.peer.iter().map(|p| p.url.clone()).collect()))
        .collect();
    let cluster = cluster_line(&lines);
    NodeFiles {
        name: this.to_string(),
        files: vec![
            ("etcd.env", env_file(&node, &cluster, "new")),
            ("etcd.conf", etcd_conf(&node, node_args, &cluster, "new")),
            (
                "etcd.service",
                systemd_unit(&node, node_args, Path::new(CONF_PATH)),
            ),
        ],
    }
}

/// Writes the files into `out/NAME/`, atomically, keeping backups of files they replace.
///
/// # Errors
/// When the directory cannot be made or a file cannot be written (every file is then as it
/// was).
pub fn write_node_files(out: &Path, files: &NodeFiles) -> pki_core::Result<PathBuf> {
    let dir = out.join(&files.name);
    std::fs::create_dir_all(&dir).map_err(|error| pki_core::Error::Write {
        path: dir.clone(),
        error,
    })?;
    let writes: Vec<FileWrite> = files
        .files
        .iter()
        .map(|(name, content)| FileWrite::public(dir.join(name), content.clone()))
        .collect();
    pki_core::write::write_all_as("node files", &writes)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Node {
        let peer = vec![HostUrl::parse("https://10.0.12.157:2380").unwrap()];
        Node {
            name: "infra3".into(),
            client_urls: crate::urls::default_client_urls(&peer),
            peer_urls: peer,
        }
    }

    fn args() -> NodeSettings {
        NodeSettings::new(
            "/data/etcd",
            "/etc/kubernetes/pki/etcd",
            "/opt/etcd/etcd",
            "ea8cfe2bfe85b7e6c66fe190f9225838",
        )
    }

    #[test]
    fn etcd_conf_is_the_runbooks() {
        let cluster = cluster_line(&[
            ("infra3".into(), vec!["https://10.0.12.157:2380".into()]),
            ("infra0".into(), vec!["https://10.0.11.36:2380".into()]),
        ]);
        assert_eq!(
            cluster,
            "infra0=https://10.0.11.36:2380,infra3=https://10.0.12.157:2380"
        );
        assert_eq!(
            etcd_conf(&node(), &args(), &cluster, "existing"),
            "DATA_DIR=/data/etcd\nHOST_NAME=infra3\nHOST_IP=10.0.12.157\nCLUSTER=infra0=https://10.0.11.36:2380,infra3=https://10.0.12.157:2380\nCLUSTER_STATE=existing\nTOKEN=ea8cfe2bfe85b7e6c66fe190f9225838\n"
        );
        let env = env_file(&node(), &cluster, "existing");
        assert!(env.contains("ETCD_INITIAL_ADVERTISE_PEER_URLS=\"https://10.0.12.157:2380\""));
    }

    #[test]
    fn the_unit_builds_the_flags_from_etcd_conf() {
        let unit = systemd_unit(&node(), &args(), Path::new("/etc/etcd/etcd.conf"));
        assert!(unit.contains("EnvironmentFile=-/etc/etcd/etcd.conf"));
        assert!(unit.contains("exec /opt/etcd/etcd"));
        assert!(
            unit.contains("--listen-client-urls https://127.0.0.1:2379,https://${HOST_IP}:2379")
        );
        assert!(unit.contains("--peer-cert-file=/etc/kubernetes/pki/etcd/members.pem"));
        assert!(unit.contains("--initial-cluster ${CLUSTER}"));
    }

    use crate::state::MemberInfo;

    fn member(id: u64, name: &str, peer: &str) -> MemberInfo {
        MemberInfo {
            id,
            name: name.into(),
            peer_urls: vec![peer.into()],
            client_urls: vec![],
            is_learner: false,
        }
    }

    fn settings() -> NodeSettings {
        NodeSettings::new(
            "/data/etcd",
            "/etc/kubernetes/pki/etcd",
            "/usr/bin/etcd",
            "t",
        )
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
        let urls = MemberUrls::parse(&["https://10.0.12.157:2380"], &[] as &[&str]).unwrap();
        let files = node_files("infra3", &urls, &list, &settings());
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

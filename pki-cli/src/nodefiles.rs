//! The files a node needs to join (and that the other nodes need after a change), in the
//! runbook's shapes: the `ETCD_*` environment `member add` prints, `/etc/etcd/etcd.conf`
//! (`DATA_DIR`, `HOST_NAME`, `HOST_IP`, `CLUSTER`, `CLUSTER_STATE`, `TOKEN`), and an
//! `etcd.service` unit like the runbook's, whose `ExecStart` reads them. Pure text; nothing here
//! touches the network or the disk.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pki_core::{Host, HostUrl};

use crate::cli::NodeArgs;

/// A node as the files describe it.
#[derive(Debug, Clone)]
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

/// Client URLs for a node given only peer URLs: the same hosts and scheme on port 2379.
pub fn default_client_urls(peer_urls: &[HostUrl]) -> Vec<HostUrl> {
    peer_urls
        .iter()
        .filter_map(|u| {
            let host = match &u.host {
                Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]"),
                h => h.to_string(),
            };
            HostUrl::parse(&format!("{}://{host}:2379", u.scheme)).ok()
        })
        .collect()
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
pub fn etcd_conf(node: &Node, args: &NodeArgs, cluster: &str, state: &str) -> String {
    format!(
        "DATA_DIR={}\nHOST_NAME={}\nHOST_IP={}\nCLUSTER={cluster}\nCLUSTER_STATE={state}\nTOKEN={}\n",
        args.data_dir.display(),
        node.name,
        node.host(),
        args.token
    )
}

/// The file names a node's PKI directory holds (the runbook's cfssl layout).
pub struct PkiFiles {
    /// `ca.pem`.
    pub ca: PathBuf,
    /// `server.pem`.
    pub server: PathBuf,
    /// `server-key.pem`.
    pub server_key: PathBuf,
    /// `members.pem`.
    pub peer: PathBuf,
    /// `members-key.pem`.
    pub peer_key: PathBuf,
}

impl PkiFiles {
    /// The runbook's names under `dir`.
    pub fn in_dir(dir: &Path) -> PkiFiles {
        PkiFiles {
            ca: dir.join("ca.pem"),
            server: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            peer: dir.join("members.pem"),
            peer_key: dir.join("members-key.pem"),
        }
    }
}

/// A systemd unit like the runbook's: `EnvironmentFile=-/etc/etcd/etcd.conf` and an
/// `ExecStart` that builds the flags from it, with mutual TLS on both ports. It also listens on
/// 127.0.0.1 for local clients, as the runbook does, unless the node's own address is loopback.
pub fn systemd_unit(node: &Node, args: &NodeArgs, conf_path: &Path) -> String {
    let pki = PkiFiles::in_dir(&args.pki_dir);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Node {
        let peer = vec![HostUrl::parse("https://10.0.12.157:2380").unwrap()];
        Node {
            name: "infra3".into(),
            client_urls: default_client_urls(&peer),
            peer_urls: peer,
        }
    }

    fn args() -> NodeArgs {
        NodeArgs {
            data_dir: "/data/etcd".into(),
            pki_dir: "/etc/kubernetes/pki/etcd".into(),
            etcd_binary: "/opt/etcd/etcd".into(),
            token: "ea8cfe2bfe85b7e6c66fe190f9225838".into(),
        }
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
}

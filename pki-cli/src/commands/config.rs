//! `etcd-pki config NAME --peer-urls URL`: a node's etcd.env, etcd.conf and etcd.service, and
//! the other nodes' CLUSTER line, built from the cluster's member list (printed, or written into
//! a directory). `scale-out` writes the same files with [`write_node_files`].

use pki_cluster::node_files::{node_files, write_node_files, NodeSettings};
use pki_cluster::{member_list, MemberUrls};
use pki_core::display_path;

use crate::cli::{ConfigArgs, NodeArgs};
use crate::connection::{block_on, connect};
use crate::exit::{Outcome, Result};
use crate::output::print;

pub fn run(args: &ConfigArgs) -> Result<Outcome> {
    let etcd = connect(&args.connection)?;
    let urls = MemberUrls::parse(&args.peer_urls, &args.client_urls)?;
    let list = block_on(member_list(&etcd))??;
    let files = node_files(&args.name, &urls, &list, &settings(&args.node));
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

/// The library's node settings from the flags.
pub fn settings(args: &NodeArgs) -> NodeSettings {
    NodeSettings::new(
        &args.data_dir,
        &args.pki_dir,
        &args.etcd_binary,
        &args.token,
    )
}

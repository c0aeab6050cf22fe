//! `etcd-pki init`: a new PKI for a cluster.

use std::path::Path;

use pki_core::{
    display_path, init, write::write_all_as, Curve, InitRequest, KeyAlgorithm, Layout, Member,
};
use serde::Serialize;

use crate::cli::{AlgoArg, ChangeFormat, InitArgs, LayoutArg};
use crate::exit::{Failure, Outcome, Result};
use crate::output::{print, print_json};
use crate::unfinished::report_recovered;

#[derive(Serialize)]
struct InitJson<'a> {
    #[serde(serialize_with = "pki_core::serde_path::path")]
    dir: &'a Path,
    layout: Layout,
    members: &'a [Member],
    files: Vec<FileJson<'a>>,
}

#[derive(Serialize)]
struct FileJson<'a> {
    #[serde(serialize_with = "pki_core::serde_path::path")]
    path: &'a Path,
    description: &'a str,
}

pub fn run(args: &InitArgs) -> Result<Outcome> {
    let members = args
        .members
        .iter()
        .map(|m| Member::parse(m))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::from)?;
    let layout = match args.layout {
        LayoutArg::Cfssl => Layout::Cfssl,
        LayoutArg::Kubeadm => Layout::Kubeadm,
    };
    let algorithm = match args.algo {
        AlgoArg::EcdsaP256 => KeyAlgorithm::Ecdsa { curve: Curve::P256 },
        AlgoArg::EcdsaP384 => KeyAlgorithm::Ecdsa { curve: Curve::P384 },
        AlgoArg::Rsa2048 => KeyAlgorithm::Rsa { bits: 2048 },
        AlgoArg::Rsa4096 => KeyAlgorithm::Rsa { bits: 4096 },
        AlgoArg::Ed25519 => KeyAlgorithm::Ed25519,
    };
    let req = InitRequest::new(layout, members.iter().cloned())
        .algorithm(algorithm)
        .days(args.days)
        .ca_days(args.ca_days)
        .ca_name(&args.ca_name);
    let files = init(&args.dir, &req)?;
    let mut dirs: Vec<std::path::PathBuf> = files
        .iter()
        .filter_map(|f| f.write.path.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in &dirs {
        std::fs::create_dir_all(dir).map_err(|source| pki_core::Error::Write {
            path: dir.clone(),
            error: source,
        })?;
    }
    let (writes, descriptions): (Vec<_>, Vec<_>) =
        files.into_iter().map(|f| (f.write, f.description)).unzip();
    let written = write_all_as("init", &writes)?;
    report_recovered(&written.recovered);
    match args.write_out {
        ChangeFormat::Json => print_json(&InitJson {
            dir: &args.dir,
            layout,
            members: &members,
            files: writes
                .iter()
                .zip(&descriptions)
                .map(|(w, description)| FileJson {
                    path: &w.path,
                    description,
                })
                .collect(),
        })?,
        ChangeFormat::Simple => {
            let mut text = format!(
                "created a {} PKI in {}:\n",
                layout_name(layout),
                display_path(&args.dir)
            );
            for (w, description) in writes.iter().zip(&descriptions) {
                text.push_str(&format!("  {:<44} {description}\n", display_path(&w.path)));
            }
            text.push_str("\netcd flags per member:\n");
            for m in &members {
                text.push_str(&format!(
                    "  {} ({}):\n    {}\n",
                    m.name,
                    m.ip,
                    flags(&args.dir, layout, &m.name)
                ));
            }
            print(&text)?;
        }
    }
    Ok(Outcome::Ok)
}

fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Cfssl => "cfssl-layout",
        Layout::Kubeadm => "kubeadm-layout",
    }
}

/// The TLS flags of a member, with mutual TLS on both ports as the runbook runs it.
fn flags(dir: &Path, layout: Layout, name: &str) -> String {
    let (ca, cert, key, peer, peer_key) = match layout {
        Layout::Cfssl => (
            dir.join("ca.pem"),
            dir.join("server.pem"),
            dir.join("server-key.pem"),
            dir.join("members.pem"),
            dir.join("members-key.pem"),
        ),
        Layout::Kubeadm => {
            let m = dir.join(name);
            (
                m.join("ca.crt"),
                m.join("server.crt"),
                m.join("server.key"),
                m.join("peer.crt"),
                m.join("peer.key"),
            )
        }
    };
    format!(
        "--client-cert-auth --trusted-ca-file={} --cert-file={} --key-file={} --peer-client-cert-auth --peer-trusted-ca-file={} --peer-cert-file={} --peer-key-file={}",
        display_path(&ca),
        display_path(&cert),
        display_path(&key),
        display_path(&ca),
        display_path(&peer),
        display_path(&peer_key)
    )
}

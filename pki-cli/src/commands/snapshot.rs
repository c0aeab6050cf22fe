//! `etcd-pki snapshot save FILE`: `etcdctl snapshot save`, written atomically and verified
//! before it replaces anything.

use pki_core::{display_path, refuse_outputs_over_inputs, write::check_target, NamedInput};

use pki_cluster::{save_snapshot, SavedSnapshot};

use crate::cli::{ConnectionArgs, SnapshotArgs, SnapshotCommand};
use crate::connection::{block_on, connect};
use crate::exit::{Outcome, Result};
use crate::output::print;

pub fn run(args: &SnapshotArgs) -> Result<Outcome> {
    match &args.command {
        SnapshotCommand::Restore(restore) => {
            crate::commands::restore::run(restore, &args.connection)
        }
        SnapshotCommand::Save(save_args) => {
            let etcd = connect(&args.connection)?;
            check_output(&save_args.file, &args.connection)?;
            let saved = block_on(save_snapshot(&etcd, &save_args.file))??;
            print(&saved_text(&saved))?;
            Ok(Outcome::Ok)
        }
    }
}

/// Refuses, before connecting, a snapshot file that is a pipe or device, or one of the
/// connection's TLS files.
pub fn check_output(file: &std::path::Path, conn: &ConnectionArgs) -> Result<()> {
    check_target(file)?;
    let inputs: Vec<NamedInput> = [
        ("the CA file (--cacert)", &conn.cacert),
        ("the client certificate (--cert)", &conn.cert),
        ("the client key (--key)", &conn.key),
    ]
    .into_iter()
    .filter_map(|(role, p)| p.as_deref().map(|path| NamedInput { role, path }))
    .collect();
    refuse_outputs_over_inputs(&[file], &inputs)?;
    Ok(())
}

/// What `etcdctl snapshot save` says, with the revision and the backup added.
pub fn saved_text(saved: &SavedSnapshot) -> String {
    let mut text = format!(
        "Snapshot saved at {} ({} bytes, revision {}, from {}; SHA-256 verified)\n",
        display_path(&saved.path),
        saved.size,
        saved.revision,
        saved.endpoint
    );
    if let Some(backup) = &saved.backup {
        text.push_str(&format!(
            "the file it replaced is kept as {}\n",
            display_path(backup)
        ));
    }
    text
}

//! `etcd-pki snapshot save FILE`: `etcdctl snapshot save`, written atomically and verified
//! before it replaces anything.

use crate::cli::{SnapshotArgs, SnapshotCommand};
use crate::etcd::connect::{block_on, Etcd};
use crate::etcd::snapshot::{save, Saved};
use crate::exit::{Outcome, Result};
use crate::output::print;

pub fn run(args: &SnapshotArgs) -> Result<Outcome> {
    let etcd = Etcd::from_args(&args.connection)?;
    match &args.command {
        SnapshotCommand::Save(save_args) => {
            let saved = block_on(save(&etcd, &save_args.file))??;
            print(&saved_text(&saved))?;
            Ok(Outcome::Ok)
        }
    }
}

/// What `etcdctl snapshot save` says, with the revision and the backup added.
pub fn saved_text(saved: &Saved) -> String {
    let mut text = format!(
        "Snapshot saved at {} ({} bytes, revision {}, from {}; SHA-256 verified)\n",
        saved.path.display(),
        saved.size,
        saved.revision,
        saved.endpoint
    );
    if let Some(backup) = &saved.backup {
        text.push_str(&format!(
            "the file it replaced is kept as {}\n",
            backup.display()
        ));
    }
    text
}

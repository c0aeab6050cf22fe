//! `scale-out --exec CMD`: the CLI's hook that starts the new member, `sh -c CMD` with
//! `ETCD_PKI_NODE_DIR` naming the directory of its files. The command runs in the background
//! (tokio's process support waits for it); if it fails, the scale-out stops waiting and removes
//! the learner again. A command that succeeds, or keeps running, is left alone.

use std::path::Path;
use std::process::Stdio;

use pki_cluster::{StartHook, StartWatch};

/// The hook that runs `cmd`.
pub fn exec_hook(cmd: String) -> StartHook {
    Box::new(move |node_dir: &Path| -> Result<StartWatch, String> {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .env("ETCD_PKI_NODE_DIR", node_dir)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("--exec could not be started ({e})"))?;
        Ok(Box::pin(async move {
            match child.wait().await {
                Ok(status) if status.success() => std::future::pending().await,
                Ok(status) => format!("--exec failed ({status})"),
                Err(e) => format!("--exec could not be waited for ({e})"),
            }
        }))
    })
}

//! Growing a cluster by one member with progress events, starting the member with a command of
//! your own: what a provisioning system runs instead of the runbook's manual steps.
//!
//! ```text
//! cargo run -p pki-cluster --example scale_out -- \
//!     ENDPOINT CA CERT KEY NEW-NAME NEW-PEER-URL NEW-PEER-CERT NEW-PEER-KEY OUT-DIR START-COMMAND
//! ```
//!
//! `START-COMMAND` runs with `sh -c` once the new node's files are in `OUT-DIR/NEW-NAME`
//! (named by `NODE_DIR`); it must start etcd there and may return at once.

use std::path::Path;
use std::time::Duration;

use pki_cluster::{
    scale_out, ConnectOptions, Connection, MemberUrls, NewMemberFiles, PreflightRequest,
    ScaleOutEvent, ScaleOutOutcome, ScaleOutRequest, StartHook,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, ca, cert, key, name, peer_url, peer_cert, peer_key, out, start] =
        args.as_slice()
    else {
        return Err("usage: scale_out ENDPOINT CA CERT KEY NEW-NAME NEW-PEER-URL NEW-PEER-CERT NEW-PEER-KEY OUT-DIR START-COMMAND".into());
    };
    let conn = Connection::new(
        ConnectOptions::new([endpoint.as_str()])
            .ca_file(ca)
            .client_cert(cert, key),
    )?;
    let member = PreflightRequest::new(
        name.as_str(),
        MemberUrls::parse(&[peer_url.as_str()], &[] as &[&str])?,
    )
    .files(
        NewMemberFiles::new()
            .peer_cert(peer_cert)
            .peer_key(peer_key)
            .peer_ca(ca),
    );
    let request = ScaleOutRequest::new(member, out).timeout(Duration::from_secs(60));

    // The hook: start the member; report a failure of the command, if any.
    let start = start.clone();
    let hook: StartHook = Box::new(move |node_dir: &Path| {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&start)
            .env("NODE_DIR", node_dir)
            .spawn()
            .map_err(|e| e.to_string())?;
        Ok(Box::pin(async move {
            match child.wait().await {
                Ok(s) if s.success() => std::future::pending().await,
                Ok(s) => format!("the start command failed ({s})"),
                Err(e) => e.to_string(),
            }
        }))
    });

    let outcome = scale_out(&conn, &request, Some(hook), |event| match event {
        ScaleOutEvent::Preflight(report) => println!("preflight: {:?}", report.status()),
        ScaleOutEvent::SnapshotSaved(s) => println!("snapshot: {} bytes", s.size),
        ScaleOutEvent::LearnerAdded { id } => println!("learner added: {id:x}"),
        ScaleOutEvent::NodeFilesWritten { dir } => println!("node files: {}", dir.display()),
        ScaleOutEvent::Learner(state) => println!("{state}"),
        ScaleOutEvent::Promoted { id, .. } => println!("promoted: {id:x}"),
        ScaleOutEvent::GivingUp { why } => println!("giving up: {why}"),
        other => println!("{other:?}"),
    })
    .await?;
    println!("outcome: {outcome:?}");
    std::process::exit(if matches!(outcome, ScaleOutOutcome::Done { .. }) {
        0
    } else {
        1
    });
}
